/* collector.h: the collection center.  Sensors upload finished capture segments over HTTP(S);
 * each is committed to the store exactly once, through the same pipeline as `darkscope ingest`.
 *
 *   POST /v1/segments   Authorization: Bearer dst_...   X-Darkscope-Sensor: NAME
 *                       X-Darkscope-Segment: SEQ        X-Darkscope-Hash: XXH3-128 hex of the body
 *                       [X-Darkscope-Kernel-Drops, -Spool-Bytes, -First-Ns, -Last-Ns: u64]
 *                       body: a zstd-compressed pcap/pcapng segment
 *   GET  /v1/health
 *
 * Answers (one JSON line): 200 committed | 200 duplicate | 400 malformed | 401 bad token |
 * 403 another sensor's token / unconfigured sensor | 404 | 405 | 409 same sequence, other hash |
 * 411 no Content-Length / a Transfer-Encoding | 413 over max_segment or decompresses past the cap |
 * 503 store busy or failing (retry later).
 */
#ifndef DS_NET_COLLECTOR_H
#define DS_NET_COLLECTOR_H
#include <stdint.h>
#include <stdio.h>

#include "geo/geo.h"
#include "store/store.h"
#include "util/config.h"
#include "util/result.h"

#define DS_COLLECTOR_MAX_SEGMENT_DEFAULT (256ull << 20)
#define DS_COLLECTOR_MAX_DECOMPRESSED_DEFAULT (4ull << 30)
#define DS_COLLECTOR_MAX_RATIO_DEFAULT 200u
#define DS_COLLECTOR_MAX_CONNECTIONS_DEFAULT 1000u
#define DS_COLLECTOR_MAX_PER_ADDRESS_DEFAULT 16u
#define DS_COLLECTOR_HEADER_TIMEOUT_DEFAULT 10u
#define DS_COLLECTOR_MIN_RATE_DEFAULT 4096u
#define DS_COLLECTOR_IDLE_TIMEOUT_DEFAULT 60u
#define DS_COLLECTOR_HTTP_THREADS_DEFAULT 2u

typedef struct ds_collector_opts {
    const ds_config *cfg;        /* sensors, store path; the process timezone must be cfg's */
    const ds_geo *geo;           /* may be NULL */
    const char *tokens_path;     /* re-read when it changes */
    const char *listen;          /* "HOST:PORT", "[V6]:PORT" or ":PORT" (all IPv4); port 0 = any */
    const char *tls_cert;        /* PEM files; both or neither; the key file readable by its owner only */
    const char *tls_key;
    int insecure_plain_http;     /* allow plain HTTP on a non-loopback address */
    const char *spool_dir;       /* uploads in progress; NULL: <store dir>/incoming */
    const char *archive_dir;     /* keep committed segments here; NULL: delete them */
    int retention_days;          /* archive: delete segments older than this; 0 = keep */
    uint64_t max_segment;        /* largest body accepted, bytes */
    uint64_t max_decompressed;   /* largest decompressed segment, bytes (0: the default) */
    unsigned max_ratio;          /* largest decompressed / compressed size (0: the default) */
    int threads;                 /* ingest worker threads per segment (>= 1) */
    unsigned max_connections;    /* 0: DS_COLLECTOR_MAX_CONNECTIONS_DEFAULT */
    unsigned max_per_address;    /* connections from one client address; 0: the default */
    unsigned header_timeout;     /* seconds from accept (or the last answer) to complete request headers */
    uint64_t min_rate;           /* body bytes per second, averaged over 10 s windows; 0: the default */
    unsigned timeout_seconds;    /* libmicrohttpd's idle timeout (any phase); 0: the default */
    unsigned http_threads;       /* libmicrohttpd polling threads; 0: the default */
} ds_collector_opts;

typedef struct ds_collector ds_collector;

/* Prepare the spool and the store, bind, and start serving in background threads. */
ds_rc ds_collector_start(ds_collector **out, const ds_collector_opts *o, ds_err *err);
/* The port actually bound (for port 0). */
unsigned ds_collector_port(const ds_collector *c);
/* Re-read the tokens file now (SIGHUP); it is also re-read when its mtime changes. */
ds_rc ds_collector_reload_tokens(ds_collector *c, ds_err *err);
/* Delete archived segments older than the retention period. */
void ds_collector_housekeep(ds_collector *c);
/* Stop accepting, finish the requests in progress, free everything. */
void ds_collector_stop(ds_collector *c);

/* Per sensor: last upload, lag (now - newest packet), kernel drops, spool depth, as a table
 * (json = 0) or a JSON array (json = 1).  Prints nothing (table) or [] (JSON) when no sensor
 * ever uploaded.  This is what `darkscope stats` shows below its counts. */
ds_rc ds_collector_print_health(ds_store *st, FILE *f, int json, ds_err *err);

#endif
