/* ingest.h: the observation pipeline, capture files in, aggregates committed.
 *
 *   reader (mmap / gzip / zstd / stdin) -> batches of records -> N workers, each:
 *     decode -> darknet lookup (sensor, or outside) -> local day -> classify -> own ds_agg
 *   -> merge the workers' ds_agg -> one store transaction per file.
 *
 * Everything about a file is computed before the store is touched, so a file that turns out to
 * be bad (not a capture, an impossible record) leaves the store exactly as it was.
 */
#ifndef DS_INGEST_H
#define DS_INGEST_H
#include <stdint.h>

#include "core/agg.h"
#include "geo/geo.h"
#include "store/store.h"
#include "util/config.h"
#include "util/result.h"

typedef struct ds_ingest ds_ingest;

typedef struct ds_ingest_opts {
    const ds_config *cfg;
    const ds_geo *geo;          /* may be NULL */
    const char *sensor;         /* --sensor NAME, or NULL */
    int threads;                /* >= 1 */
    int force;                  /* re-ingest a file whose content is already stored */
    int strict;                 /* refuse a capture cut short (DS_ETRUNC) instead of committing it */
    int progress;               /* progress line on stderr when it is a TTY */
    int no_detect;              /* no per-packet detectors (core/agg.h ds_agg_conf.no_detect) */
    int no_rollup;              /* no rollup chunks (core/rollup.h): a store as darkscope wrote before
                                   them (tests of the fallback: DS_INGEST_NO_ROLLUP=1) */
    int64_t now_s;              /* the time of the ingest for the timestamp check (ingest/tsguard.h), in
                                   seconds since the epoch; 0: the clock, read once per file */
    const char *store_path;     /* opened (created) at the first commit, not before */
} ds_ingest_opts;

typedef struct ds_ingest_result {
    uint64_t records;           /* capture records read */
    uint64_t packets;           /* classified packets stored */
    uint64_t outside;
    uint64_t other;             /* non-IP, truncated, fragments, malformed, unknown link, bad timestamp */
    uint64_t bad_timestamp;     /* records with impossible timestamps (ingest/tsguard.h), not classified */
    uint64_t bytes;
    int truncated;              /* the capture was cut short; `warning` says where */
    char warning[512];
    char notice[1536];          /* the file superseded a stored copy cut short: which (else "") */
    double seconds;
    double read_seconds;        /* reading, decoding and aggregating */
    double commit_seconds;      /* retiring, encoding and the store transaction */
    size_t agg_bytes;           /* memory held by the aggregation tables at the end */
} ds_ingest_result;

ds_rc ds_ingest_new(ds_ingest **out, const ds_ingest_opts *o, ds_err *err);
/* Read, classify, aggregate and commit one file ("-" = stdin).  DS_EEXIST: its bytes are stored
 * already (res->packets: the packets they counted); a regular file is hashed and looked up before
 * it is decoded, so this costs about one read of it.  A file whose first bytes are a stored
 * capture cut short replaces that capture's counts in its own transaction (res->notice). */
ds_rc ds_ingest_file(ds_ingest *in, const char *path, ds_ingest_result *res, ds_err *err);
/* The coverage of the next file ingested (store.h DS_COVSRC_*, a span in ns; 0, 0: its first to
 * last record): `ingest --covers`, a live sensor's segment, pcapng interface statistics. */
void ds_ingest_set_cover(ds_ingest *in, int source, uint64_t from_ns, uint64_t to_ns);
/* After the files: build the closed months whose month rollups the store lacks
 * (store/rollup_months.h).  *built: how many (sensor, month)s; none before the first commit or
 * with no_rollup.  A failure leaves the store as it was (the months are only slower to read). */
ds_rc ds_ingest_months(ds_ingest *in, size_t *built, ds_err *err);
void ds_ingest_free(ds_ingest *in);

#endif
