/* ingest_int.h: what ingest.c (reading, threads, the per-packet path) and commit.c (one file's
 * store transaction) share.  Internal to src/ingest. */
#ifndef DS_INGEST_INT_H
#define DS_INGEST_INT_H
#include <stdint.h>

#include "capture/reader.h"
#include "core/darknet.h"
#include "core/payload.h"
#include "ingest/hours.h"
#include "ingest/ingest.h"

struct ds_ingest {
    ds_ingest_opts o;
    ds_darknet *dn;
    uint8_t *exact_dst;
    int forced;        /* index of --sensor, or -1 */
    int forced_any;    /* --sensor has no prefixes: every IP packet is its */
    int home;          /* sensor for packets without a destination (non-IP...), or -1 */
    ds_store *store;   /* opened at the first commit */
    uint64_t *sensor_v4;          /* monitored IPv4 addresses per sensor (scan records) */
    int cover_source;             /* next file's coverage source (DS_COVSRC_*), 0: from the file */
    uint64_t cover_from_ns, cover_to_ns;   /* ... and its span, when given */
    ds_payload_table *payload;    /* data/payload-tools.tsv, parsed */
};

/* What the threads made of one file, for its commit: each thread's aggregation and hour counts
 * (per sensor), and the span of the file's records with believable times. */
typedef struct ingest_parts {
    ds_agg *const *aggs;
    const ds_hours *const *hours;   /* [n][nsensors] */
    int n;
    uint64_t first_ns, last_ns;
    uint64_t now_s;                 /* the ingest's "now" (the timestamp check's), UNIX seconds */
} ingest_parts;

/* Before a regular file is decoded: is it stored already (DS_EEXIST), or does it continue a
 * stored capture cut short (*prior)?  See commit.c. */
ds_rc ingest_precheck(ds_ingest *in, ds_reader *rd, ds_file_meta *fm, ds_file_prior *prior, int *prehashed,
                      ds_ingest_result *res, ds_err *err);
/* A pcapng file's interface statistics as its coverage span, when they fit its packets (else a
 * warning in res); nothing when a span was declared. */
void ingest_cover_isb(ds_ingest *in, const ds_reader *rd, const ingest_parts *p, const char *path,
                      ds_ingest_result *res);
/* The file's one transaction: chunks, coverage rows, counts, the supersede, COMMIT. */
ds_rc ingest_commit(ds_ingest *in, const ingest_parts *p, const ds_file_meta *fm, const ds_file_prior *prior,
                    ds_ingest_result *res, ds_err *err);

#endif
