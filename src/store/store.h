/* store.h: the storage interface.
 *
 * A backend is a table of functions (struct ds_store_ops), as libpcap's read_op or curl's
 * struct Curl_ssl: the pipeline and the queries talk only to this interface, so a ClickHouse
 * backend can come next without touching them.  SQLite (store_sqlite.c) is the default.
 *
 * What is stored: aggregate chunks (core/records.h), one per (file, sensor, local day, kind);
 * one row per ingested file with its content hash; per-file, per-sensor packet outcome counts;
 * the sensors; and metadata such as the timezone that defines "day" for this store.
 *
 * Writes: begin() .. put_*() .. commit() is one transaction per file.  Until commit() returns
 * DS_OK nothing of the file is visible, and rollback() (or a crash, or kill -9) leaves the store
 * as it was.  begin() refuses a file whose hash is already stored (DS_EEXIST) unless forced, and
 * does that check inside the write transaction, so two concurrent ingests of one file cannot
 * both count it.
 */
#ifndef DS_STORE_H
#define DS_STORE_H
#include <stddef.h>
#include <stdint.h>

#include "core/agg.h"
#include "util/result.h"

typedef struct ds_store ds_store;

typedef struct ds_file_meta {
    uint8_t hash[16];
    const char *path;
    uint64_t bytes;         /* raw bytes read */
    uint64_t records;       /* capture records read */
    int truncated;          /* the last record was cut short */
    int force;              /* ingest even if the hash is already stored */
} ds_file_meta;

typedef struct ds_sensor_info {
    int64_t id;
    char name[64];
    char darknet[1024];     /* prefixes as configured when last ingested */
    uint64_t v4_addresses;
} ds_sensor_info;

typedef struct ds_sensor_stats {
    int64_t sensor_id;      /* 0: packets that could not be attributed to a sensor */
    char name[64];
    ds_agg_counts c;
    uint64_t files;
} ds_sensor_stats;

/* Collector ledger (issue #5, src/net/collector.c): each segment a sensor uploaded and that was
 * committed, so a retry after a lost response is answered "duplicate", and each sensor's health. */
typedef struct ds_segment_rec {
    char sensor[64];
    uint64_t seq;           /* the sensor's segment sequence number */
    uint8_t hash[16];       /* XXH3-128 of the uploaded bytes (the same key as ds_file_meta.hash) */
    uint64_t packets;       /* packets classified when it was committed */
    uint64_t bytes;         /* uploaded (compressed) bytes */
    int64_t committed_at;   /* unix seconds */
} ds_segment_rec;

#define DS_HEALTH_HAVE_DROPS 1u   /* kernel_drops was reported */
#define DS_HEALTH_HAVE_SPOOL 2u   /* spool_bytes was reported */
typedef struct ds_sensor_health {
    char name[64];
    int64_t last_seen;      /* unix seconds of the last authenticated upload attempt */
    int64_t last_upload;    /* unix seconds of the last segment committed (0: none) */
    uint64_t last_segment;  /* its sequence number */
    uint64_t segments;      /* segments committed through the collector */
    uint64_t packets;       /* their packets */
    uint64_t last_ns;       /* newest packet timestamp the sensor reported */
    uint64_t kernel_drops;  /* as last reported by the sensor */
    uint64_t spool_bytes;   /* as last reported by the sensor */
    unsigned have;          /* DS_HEALTH_HAVE_*: which reported values are known */
} ds_sensor_health;

/* Receives each stored chunk in a scan: the records are valid only during the call. */
typedef ds_rc (*ds_scan_fn)(void *ctx, int64_t sensor_id, int32_t day, const uint8_t *data, size_t nrec,
                            ds_err *err);

typedef struct ds_store_ops {
    const char *name;
    ds_rc (*open)(ds_store **out, const char *path, int create, ds_err *err);
    void (*close)(ds_store *s);
    /* A second, independent handle on the same store, for another thread (a handle is used by
     * one thread at a time). */
    ds_rc (*reopen)(ds_store *s, ds_store **out, ds_err *err);

    ds_rc (*meta_get)(ds_store *s, const char *key, char *val, size_t len, ds_err *err); /* DS_ENOTFOUND */
    ds_rc (*meta_set)(ds_store *s, const char *key, const char *val, ds_err *err);

    ds_rc (*begin)(ds_store *s, const ds_file_meta *f, int64_t *file_id, ds_err *err);
    ds_rc (*sensor_upsert)(ds_store *s, const ds_sensor_info *info, int64_t *id, ds_err *err);
    ds_rc (*put_chunk)(ds_store *s, int64_t file_id, int64_t sensor_id, int32_t day, int kind,
                       const uint8_t *data, size_t nrec, size_t recsize, ds_err *err);
    /* The same chunk already compressed: one zstd frame of nrec records (what ds_agg keeps).  A
     * backend that stores rows decompresses it; SQLite stores it as it is. */
    ds_rc (*put_chunk_zstd)(ds_store *s, int64_t file_id, int64_t sensor_id, int32_t day, int kind,
                            const uint8_t *frame, size_t framelen, size_t nrec, ds_err *err);
    ds_rc (*put_counts)(ds_store *s, int64_t file_id, int64_t sensor_id, const ds_agg_counts *c,
                        ds_err *err);
    ds_rc (*commit)(ds_store *s, ds_err *err);
    void (*rollback)(ds_store *s);

    /* Chunks of `kind` for days [from, to], of one sensor (sensor_id > 0) or all (0). */
    ds_rc (*scan)(ds_store *s, int kind, int64_t sensor_id, int32_t from, int32_t to, ds_scan_fn fn,
                  void *ctx, ds_err *err);
    /* The first and last day holding data (DS_ENOTFOUND when the store is empty). */
    ds_rc (*day_span)(ds_store *s, int32_t *first, int32_t *last, ds_err *err);
    ds_rc (*sensors)(ds_store *s, ds_sensor_info **rows, size_t *n, ds_err *err);
    ds_rc (*sensor_stats)(ds_store *s, ds_sensor_stats **rows, size_t *n, ds_err *err);

    /* Collector ledger (see ds_segment_rec).  segment_get: segment seq of sensor as committed
     * (DS_ENOTFOUND when it never was).  ledger_put: in one transaction, record seg (NULL: none;
     * one already recorded is kept as it is) and merge h into the sensor's health (a value h does
     * not have, by h->have, keeps the stored one; segments/packets are added).  sensor_health:
     * every sensor's health, by name (none when nothing was ever uploaded). */
    ds_rc (*segment_get)(ds_store *s, const char *sensor, uint64_t seq, ds_segment_rec *out, ds_err *err);
    ds_rc (*ledger_put)(ds_store *s, const ds_segment_rec *seg, const ds_sensor_health *h, ds_err *err);
    ds_rc (*sensor_health)(ds_store *s, ds_sensor_health **rows, size_t *n, ds_err *err);
} ds_store_ops;

struct ds_store {
    const ds_store_ops *ops;
};

extern const ds_store_ops ds_store_sqlite;

/* Open the store at `path` (a file path: SQLite).  create: make it when missing. */
ds_rc ds_store_open(ds_store **out, const char *path, int create, ds_err *err);
static inline void ds_store_close(ds_store *s) { if (s) s->ops->close(s); }

#endif
