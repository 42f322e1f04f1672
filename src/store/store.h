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
 * both count it.  file_check() asks the same before a file is decoded (a duplicate then costs a
 * read of its bytes, not an ingest), and names the stored files cut short that the file may
 * continue; supersede() swaps such a file's counts for the new file's in its transaction.
 */
#ifndef DS_STORE_H
#define DS_STORE_H
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "core/agg.h"
#include "store/query.h"
#include "util/result.h"

typedef struct ds_store ds_store;

typedef struct ds_file_meta {
    uint8_t hash[16];
    const char *path;
    uint64_t bytes;         /* raw bytes read */
    uint64_t records;       /* capture records read */
    int truncated;          /* the last record was cut short */
    int force;              /* ingest even if the hash is already stored */
    /* XXH3-128 of the first min(bytes, DS_PREFIX_HASH_LEN = 64 KiB) raw bytes (have_prefix: known;
     * not for stdin).  Stored, to find the file before the next one is decoded: the same bytes
     * again, or the whole file of this one cut short. */
    uint8_t prefix_hash[16];
    int have_prefix;
} ds_file_meta;

/* A stored file that was cut short (files.truncated) and that a new file may continue: when the
 * new file's first `bytes` bytes hash to `hash`, it holds every record of this one, and
 * supersede() replaces this one's counts by the new file's (docs/store.md, "Re-sent files"). */
typedef struct ds_file_prior {
    int64_t id;
    uint64_t bytes;
    uint8_t hash[16];
    char path[512];
    char ingested[32];      /* "YYYY-MM-DD HH:MM:SS" UTC */
} ds_file_prior;

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
    /* The capture time of its first and last packet (ns), as the sensor reported them
     * (X-Darkscope-First-Ns / -Last-Ns); 0 when unknown (an older sensor, or a ledger row written
     * before the columns existed).  sensor_silent tells with them whether the sensor went on
     * capturing while no segment arrived. */
    uint64_t first_ns, last_ns;
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

/* First payloads (issue #5, `darkscope sensor --respond syn`): what a scanner sent once our
 * SYN-ACK answered it.  The sensor writes them to pay-<seq>.jsonl, the collector stores each file
 * (POST /v1/payloads) once per (sensor, seq, hash of the file), and `darkscope payloads` and the
 * report's focus sections read them back.  Identical payloads are stored once, keyed by their
 * XXH3-128: scanners send the same few requests millions of times. */
#define DS_PAYLOAD_MAX 65535u       /* bytes kept of one payload (the responder keeps at most this) */
#define DS_PAYLOAD_ADDRLEN 46       /* an IPv4 or IPv6 address as text (INET6_ADDRSTRLEN) */
typedef struct ds_payload {
    uint64_t ts_ns;                 /* when the payload arrived (at most INT64_MAX) */
    char src[DS_PAYLOAD_ADDRLEN], dst[DS_PAYLOAD_ADDRLEN];
    uint16_t sport, dport;
    uint8_t proto;                  /* IP protocol: 6 (TCP) for --respond syn */
    uint32_t tcp_seq;               /* the segment's sequence number */
    uint32_t len;                   /* payload bytes on the wire; data holds the first data_len */
    const uint8_t *data;
    size_t data_len;                /* <= DS_PAYLOAD_MAX */
} ds_payload;

typedef struct ds_payload_batch {   /* one uploaded pay-<seq>.jsonl */
    char sensor[64];
    uint64_t seq;                   /* the sensor's segment sequence number */
    uint8_t hash[16];               /* XXH3-128 of the uploaded bytes */
    int64_t committed_at;           /* unix seconds */
    const ds_payload *rows;
    size_t n;
} ds_payload_batch;

typedef struct ds_payload_query {
    const char *sensor;             /* NULL: every sensor */
    const char *source;             /* NULL: every source; else one, as inet_ntop writes it
                                     * (ds_payload_addr_canon) */
    int have_service;               /* 1: only payloads to `service` */
    uint32_t service;               /* a ds_service (core/classify.h): DS_SERVICE(6, 80) is 80/tcp */
    uint64_t from_ns, to_ns;        /* arrival in [from_ns, to_ns); to_ns 0: no end */
    size_t limit;                   /* rows; 0: all */
    int top;                        /* 1: one row per (service, content), most frequent first */
} ds_payload_query;

typedef struct ds_payload_row {
    char sensor[64];                /* top: "" (several may have seen it) */
    uint64_t first_ns, last_ns;     /* list: both the arrival time */
    char src[DS_PAYLOAD_ADDRLEN];   /* top: the smallest source address seen sending it */
    char dst[DS_PAYLOAD_ADDRLEN];   /* top: the smallest destination */
    uint16_t sport, dport;          /* top: sport 0 */
    uint8_t proto;
    uint32_t tcp_seq, len;          /* top: tcp_seq 0, len the largest seen */
    uint8_t hash[16];               /* XXH3-128 of data */
    uint64_t count, sources;        /* list: 1 and 1; top: payloads and distinct sources */
    uint8_t *data;                  /* owned by the row: ds_payload_rows_free */
    size_t data_len;
} ds_payload_row;

static inline void ds_payload_rows_free(ds_payload_row *rows, size_t n)
{
    for (size_t i = 0; rows && i < n; i++)
        free(rows[i].data);
    free(rows);
}

/* Coverage (analysis/coverage.h): for each file and each sensor it could have fed, the span the
 * file observed and the packets the sensor received in each UTC hour of it. */
enum {
    DS_COVSRC_PACKETS = 1,      /* first to last packet of a capture file */
    DS_COVSRC_SEGMENT = 2,      /* a live sensor's segment, as the sensor reported it */
    DS_COVSRC_PCAPNG = 3,       /* pcapng interface statistics (isb_starttime .. isb_endtime) */
    DS_COVSRC_DECLARED = 4,     /* `ingest --covers FROM..TO` */
};
typedef struct ds_coverage_row {
    int64_t file_id, sensor_id;
    int source;                 /* DS_COVSRC_* */
    uint64_t first_ns, last_ns; /* the span observed (inclusive) */
    int64_t hour0;              /* UTC hour (unix seconds / 3600) of hours[0] */
    const uint32_t *hours;      /* packets in each UTC hour from hour0 (saturating); NULL: none at all */
    size_t nhours;
} ds_coverage_row;
/* Receives each coverage row of a scan; the row is valid only during the call. */
typedef ds_rc (*ds_coverage_fn)(void *ctx, const ds_coverage_row *row, ds_err *err);

typedef struct ds_sensor_day { int64_t sensor_id; int32_t day; } ds_sensor_day;

/* Receives each stored chunk in a scan: the records are valid only during the call. */
typedef ds_rc (*ds_scan_fn)(void *ctx, int64_t sensor_id, int32_t day, const uint8_t *data, size_t nrec,
                            ds_err *err);
/* OR'ed into scan()'s kind: chunks already in the read cache are served from it, but the ones
 * read are not added (a single pass, such as `top`'s, would only fill memory it never reads). */
#define DS_SCAN_NOFILL 0x100

/* ---- one file, put once ----
 * What ingest writes for one file, handed to ds_store_put_file in one call: the store makes it
 * visible all at once or not at all, and refuses the same bytes twice (DS_EEXIST), also to two
 * ingests racing.  Sensors are named (sensors[i]); the chunks, coverage rows and counts refer to
 * them by that index, never by a store's row ids.  A backend that can do better than begin() ..
 * commit() (ClickHouse, without transactions: rows tagged with the file, visible once its files
 * row is written) implements put_file; the others get store.c's, over the writer ops below. */
typedef struct ds_batch_sink ds_batch_sink;   /* where emit() puts things (store.c) */
/* Inside emit(): sensor is an index into the batch's sensors (-1 in put_counts: the packets
 * no sensor owns). */
ds_rc ds_batch_put_chunk(ds_batch_sink *k, int sensor, int32_t day, int kind, const uint8_t *data, size_t nrec,
                         size_t recsize, ds_err *err);
ds_rc ds_batch_put_chunk_zstd(ds_batch_sink *k, int sensor, int32_t day, int kind, const uint8_t *frame,
                              size_t framelen, size_t nrec, ds_err *err);
ds_rc ds_batch_put_counts(ds_batch_sink *k, int sensor, const ds_agg_counts *c, ds_err *err);
/* row->sensor_id is ignored: the row is the sensor's at index `sensor` */
ds_rc ds_batch_put_coverage(ds_batch_sink *k, int sensor, const ds_coverage_row *row, ds_err *err);

typedef struct ds_file_batch {
    const ds_file_meta *file;
    const char *timezone;               /* the days the batch counts in: refused when the store keeps another */
    const ds_sensor_info *sensors;      /* upserted by name */
    size_t nsensors;
    /* Puts every chunk, coverage row and count of the file, through the sink, once. */
    ds_rc (*emit)(void *ctx, ds_batch_sink *sink, ds_err *err);
    void *ctx;
    const ds_file_prior *prior;         /* a stored file cut short that this one continues (its
                                         * counts are replaced: supersede), or NULL */
} ds_file_batch;

typedef struct ds_file_put {
    int superseded;                     /* 1: prior was superseded by this file */
} ds_file_put;

/* Writing a file (see the top of this file).  NULL in a read-only store (the events view): the
 * wrappers below then refuse every write with "the NAME store is read-only". */
typedef struct ds_store_writer_ops {
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
    /* One coverage row of the file being written (inside begin .. commit). */
    ds_rc (*put_coverage)(ds_store *s, const ds_coverage_row *row, ds_err *err);
    ds_rc (*commit)(ds_store *s, ds_err *err);
    void (*rollback)(ds_store *s);
    /* Before a file is decoded, outside any transaction, read only (begin() checks again inside
     * the transaction: these only save the decoding).  file_priors: in prior[0..*n) (at most max,
     * longest first) the stored files that may hold f's bytes, by f->prefix_hash and f->bytes:
     * those of the same length (the same file, if the whole hash agrees) and the files cut short
     * that f may continue (truncated, not superseded, shorter; those shorter than the prefix
     * whatever their prefix hash).  file_check: DS_EEXIST (with begin()'s message, and in *packets
     * the packets stored for it) when f->hash is stored and !f->force, else DS_OK. */
    ds_rc (*file_priors)(ds_store *s, const ds_file_meta *f, ds_file_prior *prior, size_t max, size_t *n,
                         ds_err *err);
    ds_rc (*file_check)(ds_store *s, const ds_file_meta *f, uint64_t *packets, ds_err *err);
    /* Inside file_id's transaction, after its chunks are in: if old is still as file_priors saw it
     * (same hash, cut short, not superseded), remove every row its counts live in (chunks,
     * counts, and any other per-file table) and mark its files row superseded by file_id, so its
     * bytes are still recognised.  DS_ENOTFOUND (nothing changed) when it is no longer so. */
    ds_rc (*supersede)(ds_store *s, int64_t file_id, const ds_file_prior *old, ds_err *err);
    /* One file, put once (ds_store_put_file), or NULL: store.c's, over the ops above. */
    ds_rc (*put_file)(ds_store *s, const ds_file_batch *b, ds_file_put *res, ds_err *err);
} ds_store_writer_ops;

/* Reading.  Every store has these but chunks_lacking, coverage_span and coverage_scan, which may
 * be NULL (ds_store_keeps says so; the wrappers then answer as documented at each). */
typedef struct ds_store_reader_ops {
    ds_rc (*meta_get)(ds_store *s, const char *key, char *val, size_t len, ds_err *err); /* DS_ENOTFOUND */
    /* Chunks of `kind` for days [from, to], of one sensor (sensor_id > 0) or all (0), in day
     * order.  Within a day the order is not defined (SQLite: by sensor id, then row id, which is
     * ingest order; the events view, analysis/period_store.c: by content): no reader's result may
     * depend on it (tests/e2e/order.sh). */
    ds_rc (*scan)(ds_store *s, int kind, int64_t sensor_id, int32_t from, int32_t to, ds_scan_fn fn,
                  void *ctx, ds_err *err);
    /* The (sensor, day)s of [from, to], of one sensor (sensor_id > 0) or all, on which some file
     * has a chunk of kind `have` but none of kind `need`: where a file written before rollups
     * existed (core/rollup.h) has SRCSVC records and no rollup.  *rows (the caller frees) by
     * sensor then day.  NULL in a backend that cannot tell: readers then take every day as such. */
    ds_rc (*chunks_lacking)(ds_store *s, int have, int need, int64_t sensor_id, int32_t from, int32_t to,
                            ds_sensor_day **rows, size_t *n, ds_err *err);
    /* The first and last day holding data (DS_ENOTFOUND when the store is empty). */
    ds_rc (*day_span)(ds_store *s, int32_t *first, int32_t *last, ds_err *err);
    /* The first and last ns any coverage row observed (DS_ENOTFOUND when none). */
    ds_rc (*coverage_span)(ds_store *s, uint64_t *first_ns, uint64_t *last_ns, ds_err *err);
    /* Every coverage row whose span overlaps [from_ns, to_ns], by sensor then first_ns. */
    ds_rc (*coverage_scan)(ds_store *s, uint64_t from_ns, uint64_t to_ns, ds_coverage_fn fn, void *ctx, ds_err *err);
    ds_rc (*sensors)(ds_store *s, ds_sensor_info **rows, size_t *n, ds_err *err);
    ds_rc (*sensor_stats)(ds_store *s, ds_sensor_stats **rows, size_t *n, ds_err *err);
} ds_store_reader_ops;

/* The collector's ledger; NULL in a store that keeps none (ds_store_keeps). */
typedef struct ds_store_ledger_ops {
    /* Collector ledger (see ds_segment_rec).  segment_get: segment seq of sensor as committed
     * (DS_ENOTFOUND when it never was).  ledger_put: in one transaction, record seg (NULL: none;
     * one already recorded is kept as it is) and merge h into the sensor's health (a value h does
     * not have, by h->have, keeps the stored one; segments/packets are added).  sensor_health:
     * every sensor's health, by name (none when nothing was ever uploaded). */
    ds_rc (*segment_get)(ds_store *s, const char *sensor, uint64_t seq, ds_segment_rec *out, ds_err *err);
    ds_rc (*ledger_put)(ds_store *s, const ds_segment_rec *seg, const ds_sensor_health *h, ds_err *err);
    ds_rc (*sensor_health)(ds_store *s, ds_sensor_health **rows, size_t *n, ds_err *err);
    /* The segments of sensor committed in [from, to] (unix seconds), oldest first, with the last
     * one committed before from and the first after to (all of one second), so that a gap
     * reaching into or out of the range is seen whole; none when the store has no ledger.  The
     * caller frees *rows.  (sensor_silent events, issue #5.) */
    ds_rc (*segments_list)(ds_store *s, const char *sensor, int64_t from, int64_t to, ds_segment_rec **rows,
                           size_t *n, ds_err *err);
    /* A role only one process may have on a store ("collector"), kept in the store itself;
     * NULL when the engine keeps none (SQLite: the collector flocks a file beside the store,
     * net/collector_spool.c).  role_take: take it for this handle, or DS_EBUSY naming the holder;
     * the engine keeps it (renewing a lease) until role_release or close.  role_check: DS_OK
     * while it is still ours, else DS_EBUSY saying why (taken over, lease run out). */
    ds_rc (*role_take)(ds_store *s, const char *role, ds_err *err);
    ds_rc (*role_check)(ds_store *s, ds_err *err);
    void (*role_release)(ds_store *s);
} ds_store_ledger_ops;

/* First payloads; NULL in a store that keeps none (ds_store_keeps). */
typedef struct ds_store_payload_ops {
    /* First payloads (see ds_payload).  payloads_put: the batch in one transaction, or DS_EEXIST
     * and nothing changed when (sensor, seq, hash) was stored before.  payloads_query: the rows
     * matching q, and in *total how many match without the limit; none when nothing was ever
     * stored.  Order contract (content only, never upload order): a list by arrival time, then
     * sensor, source (text), source port, destination (text), destination port, protocol, TCP
     * sequence, hash, length; with q->top by count and distinct sources (both descending), first
     * arrival, hash, protocol, destination port.  Text compares bytewise (SQLite's BINARY).  The caller
     * frees *rows with ds_payload_rows_free. */
    ds_rc (*payloads_put)(ds_store *s, const ds_payload_batch *b, ds_err *err);
    ds_rc (*payloads_query)(ds_store *s, const ds_payload_query *q, ds_payload_row **rows, size_t *n,
                            uint64_t *total, ds_err *err);
} ds_store_payload_ops;

/* Rollups at month resolution (store/rollup_months.h), or NULL in a store that keeps none.  A
 * month chunk (records.h, DS_CHUNK_MONTH_*) is read with scan() like any other chunk; these
 * write them.  sig: what the month's day rollup chunks of one sensor are now, such that any
 * chunk added or removed since changes it (SQLite: their count and largest row id, ids never
 * being reused).  put: in one transaction, the four month chunks of (sensor, month) (data[dim],
 * len[dim] bytes, dimensions in DS_ROLLUP_* order), replacing any; *stale = 1 and nothing written
 * when the sig is no longer `sig` (an ingest came between the read and the write).  missing:
 * every (sensor, first day of month) whose month is closed (it ended before day `today`, or the
 * sensor has day rollups on its last day or later) and has day rollups but no month chunks, by
 * sensor, the latest month first.  A writer
 * that adds or removes a day rollup chunk removes its month's chunks in the same transaction. */
typedef struct ds_store_month_ops {
    ds_rc (*sig)(ds_store *s, int64_t sensor_id, int32_t month, uint64_t sig[2], ds_err *err);
    ds_rc (*put)(ds_store *s, int64_t sensor_id, int32_t month, const uint64_t sig[2], uint8_t *const data[4],
                 const size_t len[4], int *stale, ds_err *err);
    ds_rc (*missing)(ds_store *s, int32_t today, ds_sensor_day **rows, size_t *n, ds_err *err);
} ds_store_month_ops;

/* A backend: its handles, and its parts.  Callers never reach into the parts: they call the
 * ds_store_* wrappers below, which fill in what a part leaves out. */
/* A store's files as stored, for `store copy` (store/copy.h): every committed file, and each
 * one's rows, by the store's own ids.  NULL in a store that cannot list them. */
typedef struct ds_stored_file {
    int64_t id;
    uint8_t hash[16];
    char path[512];
    uint64_t bytes, records;
    int truncated;
    uint8_t prefix_hash[16];
    int have_prefix;
    int superseded;                     /* its counts were replaced by another file's: no rows */
} ds_stored_file;
/* data: nrec records of kind (as scan() hands them), valid during the call */
typedef ds_rc (*ds_dump_chunk_fn)(void *ctx, int64_t sensor_id, int32_t day, int kind, const uint8_t *data,
                                  size_t nrec, ds_err *err);
typedef ds_rc (*ds_dump_counts_fn)(void *ctx, int64_t sensor_id, const ds_agg_counts *c, ds_err *err);
typedef struct ds_store_dump_ops {
    /* every committed file, by id (ingest order); the caller frees *rows */
    ds_rc (*files)(ds_store *s, ds_stored_file **rows, size_t *n, ds_err *err);
    /* a file's chunks (not the month rollups, which belong to no file) and its counts */
    ds_rc (*file_chunks)(ds_store *s, int64_t file_id, ds_dump_chunk_fn fn, void *ctx, ds_err *err);
    ds_rc (*file_counts)(ds_store *s, int64_t file_id, ds_dump_counts_fn fn, void *ctx, ds_err *err);
} ds_store_dump_ops;

/* `store init|migrate`: what the store's data needs from this release, beyond its tables (which
 * open(create) makes).  ttl_*_days: [store] ttl_raw_days, ttl_rollup_days (0: none). */
typedef struct ds_migrate_opts {
    unsigned ttl_raw_days, ttl_rollup_days;
} ds_migrate_opts;

typedef struct ds_store_ops {
    const char *name;
    ds_rc (*open)(ds_store **out, const char *path, int create, ds_err *err);
    void (*close)(ds_store *s);
    /* A second, independent handle on the same store, for another thread (a handle is used by
     * one thread at a time). */
    ds_rc (*reopen)(ds_store *s, ds_store **out, ds_err *err);
    const ds_store_writer_ops *writer;
    const ds_store_reader_ops *reader;
    const ds_store_ledger_ops *ledger;
    const ds_store_payload_ops *payloads;
    /* The engine's own answers to analysis's queries (store/query.h), or NULL: then analysis's
     * chunk code answers through scan().  Entries may be NULL one by one. */
    const ds_store_query_ops *query;
    const ds_store_month_ops *months;
    const ds_store_dump_ops *dump;
    /* `store init|migrate` after open(create): brings the stored data up to this release (the
     * SQLite store builds the DETECT and CROSS chunks files ingested before them lack, each file's
     * in one transaction; the ClickHouse store builds the rollups of files written before them,
     * and sets its TTLs); note:
     * one line saying what it did, or "".  NULL: nothing to do. */
    ds_rc (*migrate)(ds_store *s, const ds_migrate_opts *o, char *note, size_t notelen, ds_err *err);
} ds_store_ops;

struct ds_store {
    const ds_store_ops *ops;
};

extern const ds_store_ops ds_store_sqlite;
extern const ds_store_ops ds_store_clickhouse;

/* Open the store at `path`: a file path (SQLite), or clickhouse://[USER@]HOST[:PORT]/DB with
 * optional ?user=NAME&password_file=PATH (ClickHouse, docs/clickhouse.md).  create: make it
 * (the ClickHouse database and tables) when missing. */
ds_rc ds_store_open(ds_store **out, const char *path, int create, ds_err *err);
static inline void ds_store_close(ds_store *s) { if (s) s->ops->close(s); }

/* ---- the wrappers every caller uses -------------------------------------------------------- *
 * Each calls the backend's part, or fills in what the backend leaves out (as curl's vtls fills
 * the calls a TLS backend does not implement):
 *   no writer (a read-only store)   every write fails "the NAME store is read-only"; rollback
 *                                   does nothing
 *   put_chunk_zstd missing          the frame is decompressed and given to put_chunk
 *   put_coverage missing            the row is dropped (the store keeps no coverage)
 *   file_priors / file_check        no prior file / nothing stored (begin() still refuses a
 *   / supersede missing             duplicate); supersede DS_ENOTFOUND
 *   chunks_lacking missing          DS_EINVAL "cannot tell" (ds_store_keeps(DS_KNOWS_ROLLUPS))
 *   coverage_* missing              span DS_ENOTFOUND; scan DS_EINVAL (ds_store_keeps(DS_KEEPS_COVERAGE))
 *   no ledger                       segment_get DS_ENOTFOUND, no health rows, no segments;
 *                                   ledger_put fails "keeps no ledger"
 *   no payloads                     no rows; payloads_put fails "keeps no payloads"
 */
enum {
    DS_WRITABLE = 1,            /* a writer part */
    DS_KEEPS_LEDGER = 2,        /* a ledger part */
    DS_KEEPS_PAYLOADS = 4,      /* a payloads part */
    DS_KEEPS_COVERAGE = 8,      /* coverage_scan */
    DS_KNOWS_ROLLUPS = 16,      /* chunks_lacking */
    DS_KEEPS_MONTHS = 32,       /* a months part */
};
/* 1 when the store has every part or op named in `what` (DS_WRITABLE | ...). */
int ds_store_keeps(const ds_store *s, unsigned what);
/* ops->migrate, or nothing (a store without one; TTLs asked of it are refused: only the
 * ClickHouse store keeps them) */
ds_rc ds_store_migrate(ds_store *s, const ds_migrate_opts *o, char *note, size_t notelen, ds_err *err);
ds_rc ds_store_reopen(ds_store *s, ds_store **out, ds_err *err);

ds_rc ds_store_meta_get(ds_store *s, const char *key, char *val, size_t len, ds_err *err);
ds_rc ds_store_meta_set(ds_store *s, const char *key, const char *val, ds_err *err);
/* One file's batch in one transaction (see ds_file_batch): what ingest calls. */
ds_rc ds_store_put_file(ds_store *s, const ds_file_batch *b, ds_file_put *res, ds_err *err);
/* The steps of a transaction, for backends' own put_file and for tests that write stores by hand. */
ds_rc ds_store_begin(ds_store *s, const ds_file_meta *f, int64_t *file_id, ds_err *err);
ds_rc ds_store_sensor_upsert(ds_store *s, const ds_sensor_info *info, int64_t *id, ds_err *err);
ds_rc ds_store_put_chunk(ds_store *s, int64_t file_id, int64_t sensor_id, int32_t day, int kind, const uint8_t *data,
                         size_t nrec, size_t recsize, ds_err *err);
ds_rc ds_store_put_chunk_zstd(ds_store *s, int64_t file_id, int64_t sensor_id, int32_t day, int kind,
                              const uint8_t *frame, size_t framelen, size_t nrec, ds_err *err);
ds_rc ds_store_put_counts(ds_store *s, int64_t file_id, int64_t sensor_id, const ds_agg_counts *c, ds_err *err);
ds_rc ds_store_put_coverage(ds_store *s, const ds_coverage_row *row, ds_err *err);
ds_rc ds_store_commit(ds_store *s, ds_err *err);
void ds_store_rollback(ds_store *s);
ds_rc ds_store_file_priors(ds_store *s, const ds_file_meta *f, ds_file_prior *prior, size_t max, size_t *n,
                           ds_err *err);
ds_rc ds_store_file_check(ds_store *s, const ds_file_meta *f, uint64_t *packets, ds_err *err);
ds_rc ds_store_supersede(ds_store *s, int64_t file_id, const ds_file_prior *old, ds_err *err);

ds_rc ds_store_scan(ds_store *s, int kind, int64_t sensor_id, int32_t from, int32_t to, ds_scan_fn fn, void *ctx,
                    ds_err *err);
ds_rc ds_store_chunks_lacking(ds_store *s, int have, int need, int64_t sensor_id, int32_t from, int32_t to,
                              ds_sensor_day **rows, size_t *n, ds_err *err);
ds_rc ds_store_day_span(ds_store *s, int32_t *first, int32_t *last, ds_err *err);
ds_rc ds_store_coverage_span(ds_store *s, uint64_t *first_ns, uint64_t *last_ns, ds_err *err);
ds_rc ds_store_coverage_scan(ds_store *s, uint64_t from_ns, uint64_t to_ns, ds_coverage_fn fn, void *ctx, ds_err *err);
ds_rc ds_store_sensors(ds_store *s, ds_sensor_info **rows, size_t *n, ds_err *err);
ds_rc ds_store_sensor_stats(ds_store *s, ds_sensor_stats **rows, size_t *n, ds_err *err);

ds_rc ds_store_segment_get(ds_store *s, const char *sensor, uint64_t seq, ds_segment_rec *out, ds_err *err);
ds_rc ds_store_ledger_put(ds_store *s, const ds_segment_rec *seg, const ds_sensor_health *h, ds_err *err);
ds_rc ds_store_sensor_health(ds_store *s, ds_sensor_health **rows, size_t *n, ds_err *err);
ds_rc ds_store_segments_list(ds_store *s, const char *sensor, int64_t from, int64_t to, ds_segment_rec **rows,
                             size_t *n, ds_err *err);
/* ledger->role_*: DS_OK and nothing done when the engine keeps no role */
ds_rc ds_store_role_take(ds_store *s, const char *role, ds_err *err);
ds_rc ds_store_role_check(ds_store *s, ds_err *err);
void ds_store_role_release(ds_store *s);

ds_rc ds_store_payloads_put(ds_store *s, const ds_payload_batch *b, ds_err *err);
ds_rc ds_store_payloads_query(ds_store *s, const ds_payload_query *q, ds_payload_row **rows, size_t *n,
                              uint64_t *total, ds_err *err);

#endif
