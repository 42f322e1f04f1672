/* uploader.h: ship finished spool segments to the collector over HTTP(S) (libcurl), deleting
 * each one only after the collector confirmed it committed it.  See uploader.c for the protocol.
 */
#ifndef DS_NET_UPLOADER_H
#define DS_NET_UPLOADER_H
#include <stdint.h>

#include "util/result.h"

struct ds_spool;

typedef struct ds_uploader_opts {
    const char *spool_dir;
    const char *collector;      /* base URL, e.g. https://collector.example:8443 */
    const char *sensor;         /* X-Darkscope-Sensor */
    const char *token;          /* bearer token (already trimmed) */
    const char *cacert;         /* CA bundle for https (NULL: system default) */
    double max_backoff_s;       /* 60 */
} ds_uploader_opts;

typedef struct ds_uploader ds_uploader;

typedef struct ds_uploader_stats {
    uint64_t segments_sent, duplicates, conflicts, rejected, failures;
    uint64_t payload_files_sent, bytes_sent;
} ds_uploader_stats;

/* What one attempt at one file came to. */
typedef enum ds_upload_outcome {
    DS_UP_COMMITTED,   /* 200 "committed": deleted */
    DS_UP_DUPLICATE,   /* 200 "duplicate": the collector had it; deleted */
    DS_UP_CONFLICT,    /* 409: same sequence, other hash; moved to conflict/ */
    DS_UP_REJECTED,    /* 400/413/415/422: this file is unacceptable; moved to rejected/ */
    DS_UP_RETRY,       /* 5xx, other 4xx, connection error: kept, back off */
} ds_upload_outcome;

/* Start the upload thread.  spool may be NULL (then nothing is told when space frees). */
ds_rc ds_uploader_start(ds_uploader **out, const ds_uploader_opts *o, struct ds_spool *spool, ds_err *err);
/* Wake the thread (a segment was finished).  Signature fits ds_spool_on_finish. */
void ds_uploader_wake(void *uploader);
/* Stop: keep uploading what is pending for at most drain_s seconds, then join and free. */
void ds_uploader_stop(ds_uploader *u, double drain_s, ds_uploader_stats *stats);

/* Hex XXH3-128 (high 64 bits, then low 64) of a file, as the store prints file hashes. */
ds_rc ds_file_xxh128_hex(const char *path, char out[33], uint64_t *size, ds_err *err);

#endif
