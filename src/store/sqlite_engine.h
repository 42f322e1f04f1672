/* sqlite_engine.h: the SQLite backend's handle and what its files share about chunks: the read
 * cache (sqlite_cache.c) and the chunk file (sqlite_chunkfile.c), beside store_sqlite.c, which
 * holds the chunk engine itself (store_sqlite.c's top comment is the design of all three).
 * Internal to src/store. */
#ifndef DS_SQLITE_ENGINE_H
#define DS_SQLITE_ENGINE_H
#include <sqlite3.h>
#include <stdint.h>
#include <stdlib.h>
#include <zstd.h>

#include "store/store.h"

/* 2: 16-byte HOURLY records per service and per country; SOURCES.dst1.
 * 3: chunk frames in PATH-chunks (CODEC_ZSTD_FILE).  Version 2 stores are read as they are. */
#define SCHEMA_VERSION "3"
#define SCHEMA_VERSION_OLDEST 2
#define CHUNK_ZSTD_LEVEL DS_CHUNK_ZSTD_LEVEL
/* Chunk codecs.  darkscope writes zstd frames to the chunk file, or as BLOBs in a store kept in
 * memory; raw chunks (0) are part of the format and read, for writers that have no compressor. */
enum { CODEC_RAW = 0, CODEC_ZSTD = 1, CODEC_ZSTD_FILE = 2 };
#define LOCATOR_LEN 16         /* CODEC_ZSTD_FILE's BLOB: offset, length (little-endian u64) */
#define CHUNK_FILE_SUFFIX "-chunks"
#define NO_TX_END UINT64_MAX  /* ext_start when this transaction has not touched the chunk file */

/* Read cache: decompressed chunks by chunk id.  A report or `events` scans the same period's
 * chunks many times (one query per table, figure or detector), and zstd decompression is about
 * three quarters of such a scan, so each chunk is decompressed once per store handle and kept.
 * A committed chunk row never changes, and its id is never given to another chunk, so a cached
 * chunk is always what a row of that id holds.  Rows are deleted only when a file supersedes one
 * cut short (store_files.c), and then after the new file's chunks took larger ids, with the row
 * of the largest id kept as a tombstone of kind 0 (never scanned): SQLite reuses only a deleted
 * largest rowid.  The cache is still dropped at every begin() and rollback() so that a chunk id
 * written in a transaction that was rolled back can never be served.
 *
 * Chunks are decompressed straight into arenas of CACHE_ARENA bytes, mapped with
 * MADV_HUGEPAGE: first-touch page faults are slow on virtual machines (on ours, a 4 KiB fault
 * cost more than decompressing the page), and 2 MiB pages make them 512 times rarer.  Bounded:
 * past CHUNK_CACHE_MAX bytes, chunks are decompressed into the one reused buffer as before.
 * A scan with DS_SCAN_NOFILL (store.h) is served from the cache but adds nothing to it: a reader
 * that passes over the chunks once (`top`) would only pay for fresh memory, about a millisecond
 * per 2 MiB page on our VM when the host has taken the page back, and never read it again. */
#define CHUNK_CACHE_MAX ((size_t)256 << 20)
#define CACHE_ARENA ((size_t)32 << 20)
#define CACHE_ARENAS (CHUNK_CACHE_MAX / CACHE_ARENA)
typedef struct cached_chunk { int64_t id; const uint8_t *data; } cached_chunk;
typedef struct chunk_cache {
    cached_chunk *slot;     /* open addressing on id; id 0 = empty (SQLite rowids start at 1) */
    size_t cap, n;
    uint8_t *arena[CACHE_ARENAS];
    size_t narena, used;    /* bytes used of the last arena */
} chunk_cache;

typedef struct sqlite_store {
    ds_store base;
    sqlite3 *db;
    sqlite3_stmt *put_chunk;
    int in_tx;
    int schema;             /* the store's schema version (SCHEMA_VERSION_OLDEST.. SCHEMA_VERSION) */
    char *ext_path;         /* PATH-chunks; NULL for a store in memory (frames stay BLOBs) */
    int ext_fd;             /* -1 until first needed */
    int ext_writable;       /* ext_fd was opened for writing */
    uint64_t ext_start;     /* the chunk file's committed length when this transaction first wrote */
    uint64_t ext_end;       /* ... and its length now, with this transaction's frames */
    uint8_t *rbuf;          /* frames read back from the chunk file */
    size_t rcap;
    ZSTD_CCtx *zc;
    ZSTD_DCtx *zd;
    uint8_t *zbuf;          /* compressed output / decompressed input, grown as needed */
    size_t zcap;
    chunk_cache cache;
} sqlite_store;

static inline const char *ds_sq_name(sqlite_store *s) { return sqlite3_db_filename(s->db, "main"); }
ds_rc ds_sqlite_fail(sqlite3 *db, const char *what, ds_err *err);   /* sqlite_int.h */
ds_rc ds_sqlite_exec(sqlite3 *db, const char *sql, ds_err *err);
static inline ds_rc ds_sq_fail(sqlite_store *s, ds_err *err, const char *what) { return ds_sqlite_fail(s->db, what, err); }
static inline ds_rc ds_sq_exec(sqlite_store *s, const char *sql, ds_err *err) { return ds_sqlite_exec(s->db, sql, err); }

/* counts: the encapsulation counters (ds_agg_counts.encap, DS_ENC_* bit order, ds_encap_name) */
#define ENC_COLUMNS_DECL \
    "enc_vlan INTEGER NOT NULL DEFAULT 0, enc_mpls INTEGER NOT NULL DEFAULT 0, enc_pppoe INTEGER NOT NULL DEFAULT 0," \
    " enc_gre INTEGER NOT NULL DEFAULT 0, enc_erspan INTEGER NOT NULL DEFAULT 0, enc_vxlan INTEGER NOT NULL DEFAULT 0," \
    " enc_geneve INTEGER NOT NULL DEFAULT 0, enc_ipip INTEGER NOT NULL DEFAULT 0, "
#define ENC_COLUMNS "enc_vlan, enc_mpls, enc_pppoe, enc_gre, enc_erspan, enc_vxlan, enc_geneve, enc_ipip"
#define ENC_SUMS \
    "sum(enc_vlan), sum(enc_mpls), sum(enc_pppoe), sum(enc_gre), sum(enc_erspan), sum(enc_vxlan), sum(enc_geneve)," \
    " sum(enc_ipip)"

/* ---- opening, closing, meta (sqlite_open.c) ---- */
ds_rc ds_sq_open(ds_store **out, const char *path, int create, ds_err *err);
void ds_sq_close(ds_store *base);
ds_rc ds_sq_reopen(ds_store *base, ds_store **out, ds_err *err);
ds_rc ds_sq_meta_get(ds_store *base, const char *key, char *val, size_t len, ds_err *err);
ds_rc ds_sq_meta_set(ds_store *base, const char *key, const char *val, ds_err *err);

static inline void ds_sq_put_le64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static inline uint64_t ds_sq_get_le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

/* Room for n bytes in a reused buffer (zbuf, rbuf), doubled as needed; -1 when out of memory. */
static inline int ds_sq_buf_need(uint8_t **buf, size_t *bufcap, size_t n)
{
    if (n <= *bufcap)
        return 0;
    size_t cap = *bufcap ? *bufcap : 1 << 16;
    while (cap < n)
        cap *= 2;
    uint8_t *p = realloc(*buf, cap);
    if (!p)
        return -1;
    *buf = p;
    *bufcap = cap;
    return 0;
}

/* ---- the read cache (sqlite_cache.c) ---- */
const cached_chunk *ds_sqcache_get(const chunk_cache *c, int64_t id);
void ds_sqcache_clear(chunk_cache *c);
/* Memory for a chunk of len bytes about to be decompressed, or NULL (past CHUNK_CACHE_MAX, or out
 * of memory: the caller decompresses into its reused buffer); given back with ds_sqcache_unreserve
 * when decompression fails, indexed with ds_sqcache_put when it succeeds. */
uint8_t *ds_sqcache_reserve(chunk_cache *c, size_t len);
void ds_sqcache_unreserve(chunk_cache *c, size_t len);
void ds_sqcache_put(chunk_cache *c, int64_t id, const uint8_t *data);

/* ---- the chunk file (sqlite_chunkfile.c) ---- */
ds_rc ds_sqext_committed(sqlite_store *s, uint64_t *end, ds_err *err);
ds_rc ds_sqext_begin(sqlite_store *s, ds_err *err);
ds_rc ds_sqext_append(sqlite_store *s, const uint8_t *p, size_t n, uint64_t *off, ds_err *err);
int ds_sqext_wrote(const sqlite_store *s);
void ds_sqext_cut_back(sqlite_store *s);
ds_rc ds_sqext_commit(sqlite_store *s, ds_err *err);
/* A chunk row's records: its data as stored (a locator into the chunk file, a zstd frame, or raw
 * records, by codec), decompressed into s->zbuf when compressed.  *data is valid until the next
 * read on s.  DS_ESTORE naming the chunk when it does not hold nrec records of its kind. */
ds_rc ds_sq_chunk_records(sqlite_store *s, const uint8_t *z, size_t zlen, int codec, int kind, int day, int64_t nrec,
                          const uint8_t **data, ds_err *err);

/* sqlite_derive.c: the DETECT and CROSS chunks (core/detin.h, core/cross.h) of files written
 * before them, built from their records by `store migrate` (store_sqlite.c's sq_migrate holds the
 * transaction). */
typedef struct ds_sq_derive_row {
    int64_t file_id, sensor_id;
    int32_t day;
    int need_detect, need_cross;
} ds_sq_derive_row;
typedef struct ds_sq_derive_work {
    uint8_t *svc, *src;           /* the (file, sensor, day)'s SRCSVC and SOURCES records */
    size_t nsvc, nsrc, capsvc, capsrc;
    uint8_t *detect;              /* the DETECT chunk built */
    struct ds_detin_work *dw;
    struct ds_cross_work *cw;
} ds_sq_derive_work;
/* The (file, sensor, day)s with SOURCES and no DETECT chunk, or SRCSVC and no CROSS chunk, by file
 * then sensor then day (*rows: the caller frees). */
ds_rc ds_sqlite_derive_lacking(sqlite_store *s, ds_sq_derive_row **rows, size_t *n, ds_err *err);
/* Read row's records and build its chunks: data[0] the DETECT chunk (nrec[0] bytes), data[1] the
 * CROSS records (nrec[1]); both valid until the next build with w. */
ds_rc ds_sqlite_derive_build(sqlite_store *s, const ds_sq_derive_row *row, ds_sq_derive_work *w,
                             const uint8_t *data[2], size_t nrec[2], ds_err *err);
void ds_sqlite_derive_work_free(ds_sq_derive_work *w);

ds_rc ds_sqext_read(sqlite_store *s, const uint8_t *loc, size_t loclen, int kind, int day, const uint8_t **z,
                    size_t *zlen, ds_err *err);

#endif
