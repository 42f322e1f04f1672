/* store_sqlite.c: the SQLite storage backend.
 *
 * One database file in WAL mode (readers never block the writer, and a crash mid-write leaves
 * the last committed state).  Aggregates are chunks of fixed-size records (core/records.h), one
 * row per (file, sensor, day, kind): ingesting a 16 M-packet file writes a few hundred rows, not
 * millions, and a quarter's `top` reads a few thousand chunks in index order.
 *
 * Chunks are zstd frames (level 1): the records are regular enough to shrink about 5x, and
 * compressing at ~400 MB/s costs less than writing the raw bytes.
 *
 * The chunk file.  A store on disk at PATH keeps the frames themselves in PATH-chunks, an
 * append-only file beside the database, and each chunk row holds only where its frame lies (a
 * 16-byte locator: offset and length, little-endian; codec CODEC_ZSTD_FILE).  Why: as BLOBs,
 * every byte went through SQLite's pager four times (the page cache, the WAL, the checkpoint's
 * read of the WAL, the database) in 16 KiB pages, about 11,000 pwrite() calls for the 55 MB of a
 * 16 M-packet file, and the commit took 0.36-0.42 s of a 2.5 s ingest; with the rows alone it
 * took 0.02 s.  The frames now go to the chunk file in one pwrite() each, once.
 *
 * How a transaction uses it (all under BEGIN IMMEDIATE, so one writer at a time):
 *   - meta.chunks_end is the committed length of the chunk file.  The first chunk of a
 *     transaction cuts the file back to it: bytes past it were appended by a writer that was
 *     killed or rolled back, and no committed row points at them.  (No reader can either: a
 *     reader's rows come from a snapshot whose chunks_end is at most this one.)
 *   - Frames are appended past chunks_end.
 *   - commit: fdatasync() the chunk file, then set meta.chunks_end, then COMMIT.  The frames
 *     are on disk before any row that points at them can be, so with synchronous=NORMAL a power
 *     cut may lose the last commit but never leaves a row pointing at bytes that are not there.
 *   - rollback: cut the file back to where the transaction began, while the write lock is
 *     still held (once ROLLBACK releases it, another writer may be appending there).
 * A store kept in memory (no file name) has no chunk file and keeps frames as BLOBs
 * (CODEC_ZSTD), which is also what stores of schema version 2 hold.  Both are read; a version 2
 * store becomes version 3 with its first chunk written to a chunk file (older darkscopes then
 * refuse it with a clear message instead of misreading the locators).  Rows deleted by hand
 * (docs/store.md) leave their frames in the chunk file: its space is not reclaimed.
 *
 * Each file is one transaction taken with BEGIN IMMEDIATE: the duplicate check, the chunk rows
 * and the file row commit together or not at all.  A second writer waits (busy_timeout) rather
 * than failing.
 */
#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <xxhash.h>
#include <zstd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "store/sqlite_coverage.h"
#include "store/sqlite_int.h"
#include "store/sqlite_months.h"
#include "store/store.h"
#include "store/store_files.h"
#include "util/grow.h"

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

static size_t cache_pos(const chunk_cache *c, int64_t id)
{
    return (size_t)(((uint64_t)id * 0x9e3779b97f4a7c15ull) >> 20) & (c->cap - 1);
}

static const cached_chunk *cache_get(const chunk_cache *c, int64_t id)
{
    if (!c->cap)
        return NULL;
    for (size_t i = cache_pos(c, id);; i = (i + 1) & (c->cap - 1)) {
        if (c->slot[i].id == id)
            return &c->slot[i];
        if (!c->slot[i].id)
            return NULL;
    }
}

static void cache_clear(chunk_cache *c)
{
    for (size_t i = 0; i < c->narena; i++)
        munmap(c->arena[i], CACHE_ARENA);
    free(c->slot);
    memset(c, 0, sizeof *c);
}

/* Room for len bytes in an arena, or NULL (over budget, too large, or no memory: then the caller
 * decompresses into its own buffer and nothing is cached).  Valid until cache_clear; the caller
 * gives it back with cache_unreserve when decompression fails. */
static uint8_t *cache_reserve(chunk_cache *c, size_t len)
{
    if (len == 0 || len > CACHE_ARENA)
        return NULL;
    if (!c->narena || len > CACHE_ARENA - c->used) {
        if (c->narena == CACHE_ARENAS)
            return NULL;
        void *a = mmap(NULL, CACHE_ARENA, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (a == MAP_FAILED)
            return NULL;
        madvise(a, CACHE_ARENA, MADV_HUGEPAGE);   /* advice only: works without it */
        c->arena[c->narena++] = a;
        c->used = 0;
    }
    uint8_t *p = c->arena[c->narena - 1] + c->used;
    c->used += (len + 15) & ~(size_t)15;
    return p;
}

static void cache_unreserve(chunk_cache *c, size_t len)
{
    c->used -= (len + 15) & ~(size_t)15;
}

/* Index a chunk decompressed into cache_reserve()'s memory; a failure only means no caching
 * (the memory stays reserved until cache_clear). */
static void cache_put(chunk_cache *c, int64_t id, const uint8_t *data)
{
    if (id <= 0)
        return;
    if ((c->n + 1) * 2 > c->cap) {   /* keep the load under 1/2 */
        size_t cap = c->cap ? c->cap * 2 : 1024;
        cached_chunk *slot = calloc(cap, sizeof *slot);
        if (!slot)
            return;
        chunk_cache g = *c;
        g.slot = slot;
        g.cap = cap;
        for (size_t i = 0; i < c->cap; i++)
            if (c->slot[i].id) {
                size_t j = cache_pos(&g, c->slot[i].id);
                while (g.slot[j].id)
                    j = (j + 1) & (cap - 1);
                g.slot[j] = c->slot[i];
            }
        free(c->slot);
        c->slot = slot;
        c->cap = cap;
    }
    size_t i = cache_pos(c, id);
    while (c->slot[i].id)
        i = (i + 1) & (c->cap - 1);
    c->slot[i] = (cached_chunk){ id, data };
    c->n++;
}

/* Room for n bytes in a reused buffer (zbuf, rbuf), doubled as needed; -1 when out of memory. */
static int buf_need(uint8_t **buf, size_t *bufcap, size_t n)
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

/* counts: the encapsulation counters (ds_agg_counts.encap, DS_ENC_* bit order, ds_encap_name) */
#define ENC_COLUMNS_DECL \
    "enc_vlan INTEGER NOT NULL DEFAULT 0, enc_mpls INTEGER NOT NULL DEFAULT 0, enc_pppoe INTEGER NOT NULL DEFAULT 0," \
    " enc_gre INTEGER NOT NULL DEFAULT 0, enc_erspan INTEGER NOT NULL DEFAULT 0, enc_vxlan INTEGER NOT NULL DEFAULT 0," \
    " enc_geneve INTEGER NOT NULL DEFAULT 0, enc_ipip INTEGER NOT NULL DEFAULT 0, "
#define ENC_COLUMNS "enc_vlan, enc_mpls, enc_pppoe, enc_gre, enc_erspan, enc_vxlan, enc_geneve, enc_ipip"
#define ENC_SUMS \
    "sum(enc_vlan), sum(enc_mpls), sum(enc_pppoe), sum(enc_gre), sum(enc_erspan), sum(enc_vxlan), sum(enc_geneve)," \
    " sum(enc_ipip)"

static const char SCHEMA[] =
    "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS sensors(id INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL,"
    "  darknet TEXT NOT NULL, v4_addresses INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS files(id INTEGER PRIMARY KEY, hash BLOB NOT NULL, path TEXT,"
    "  bytes INTEGER, records INTEGER, truncated INTEGER, ingested_at INTEGER, prefix_hash BLOB,"
    "  superseded_by INTEGER);"
    "CREATE INDEX IF NOT EXISTS files_hash ON files(hash);"
    "CREATE TABLE IF NOT EXISTS counts(file_id INTEGER NOT NULL, sensor_id INTEGER NOT NULL,"
    "  packets INTEGER, outside INTEGER, non_ip INTEGER, truncated INTEGER, fragment INTEGER,"
    "  malformed INTEGER, unknown_link INTEGER, first_ns INTEGER, last_ns INTEGER,"
    "  bad_timestamp INTEGER NOT NULL DEFAULT 0, " ENC_COLUMNS_DECL "PRIMARY KEY(file_id, sensor_id));"
    "CREATE TABLE IF NOT EXISTS chunks(id INTEGER PRIMARY KEY, kind INTEGER NOT NULL, day INTEGER NOT NULL,"
    "  sensor_id INTEGER NOT NULL, file_id INTEGER NOT NULL, nrec INTEGER NOT NULL, codec INTEGER NOT NULL,"
    "  data BLOB NOT NULL);"
    "CREATE INDEX IF NOT EXISTS chunks_kind_day ON chunks(kind, day, sensor_id);"
    DS_SQLITE_COVERAGE_SCHEMA;

static const char *db_name(sqlite_store *s) { return sqlite3_db_filename(s->db, "main"); }

ds_rc ds_sqlite_fail(sqlite3 *db, const char *what, ds_err *err)
{
    int code = sqlite3_errcode(db);
    ds_rc rc = (code == SQLITE_BUSY || code == SQLITE_LOCKED) ? DS_EBUSY : DS_ESTORE;
    return ds_fail(err, rc, "store %s: %s: %s", sqlite3_db_filename(db, "main"), what, sqlite3_errmsg(db));
}

static ds_rc db_fail(sqlite_store *s, ds_err *err, const char *what) { return ds_sqlite_fail(s->db, what, err); }

ds_rc ds_sqlite_exec(sqlite3 *db, const char *sql, ds_err *err)
{
    if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
        return ds_sqlite_fail(db, sql, err);
    return DS_OK;
}

static ds_rc exec(sqlite_store *s, const char *sql, ds_err *err) { return ds_sqlite_exec(s->db, sql, err); }

/* Columns added to tables after version 3.  A store made before them gets them at its next open
 * (ALTER TABLE ... ADD COLUMN, under the write lock, only when one is missing); tables added
 * since are in SCHEMA, whose CREATE TABLE IF NOT EXISTS is also run at every open.  Neither
 * changes schema_version, which says how chunks are stored, and a darkscope older than the
 * columns reads such a store as before.  Each entry: table, column, declaration (with a DEFAULT
 * that is right for every row written before the column existed). */
static const struct added_column {
    const char *table, *column, *decl;
} ADDED_COLUMNS[] = {
    /* records with impossible timestamps (ingest/tsguard.h); none were counted before */
    { "counts", "bad_timestamp", "INTEGER NOT NULL DEFAULT 0" },
    /* packets per encapsulation (core/packet.h DS_ENC_*); none were counted before */
    { "counts", "enc_vlan", "INTEGER NOT NULL DEFAULT 0" },
    { "counts", "enc_mpls", "INTEGER NOT NULL DEFAULT 0" },
    { "counts", "enc_pppoe", "INTEGER NOT NULL DEFAULT 0" },
    { "counts", "enc_gre", "INTEGER NOT NULL DEFAULT 0" },
    { "counts", "enc_erspan", "INTEGER NOT NULL DEFAULT 0" },
    { "counts", "enc_vxlan", "INTEGER NOT NULL DEFAULT 0" },
    { "counts", "enc_geneve", "INTEGER NOT NULL DEFAULT 0" },
    { "counts", "enc_ipip", "INTEGER NOT NULL DEFAULT 0" },
    { "files", "prefix_hash", "BLOB" },       /* XXH3-128 of its first 64 KiB (store_files.c) */
    { "files", "superseded_by", "INTEGER" },  /* the file that holds its records and replaced its counts */
    { NULL, NULL, NULL },   /* keeps the table non-empty; entries go above this line */
};
_Static_assert(sizeof ADDED_COLUMNS / sizeof ADDED_COLUMNS[0] <= 64, "has_columns() keeps a 64-bit set of them");

/* 1 when table has column (0 when not, -1 on error). */
static int has_column(sqlite_store *s, const char *table, const char *column)
{
    sqlite3_stmt *q = NULL;
    char sql[128];
    int found = 0, st;
    snprintf(sql, sizeof sql, "PRAGMA table_info(%s)", table);
    if (sqlite3_prepare_v2(s->db, sql, -1, &q, NULL) != SQLITE_OK)
        return -1;
    while ((st = sqlite3_step(q)) == SQLITE_ROW)
        if (strcmp((const char *)sqlite3_column_text(q, 1), column) == 0)
            found = 1;
    sqlite3_finalize(q);
    return st == SQLITE_DONE ? found : -1;
}

/* 1 when table has every column ADDED_COLUMNS lists for it (0 when not, -1 on error). */
static int has_columns(sqlite_store *s, const char *table)
{
    sqlite3_stmt *q = NULL;
    char sql[128];
    int st;
    uint64_t found = 0, want = 0;
    for (size_t i = 0; ADDED_COLUMNS[i].table && i < 64; i++)
        if (strcmp(ADDED_COLUMNS[i].table, table) == 0)
            want |= 1ull << i;
    snprintf(sql, sizeof sql, "PRAGMA table_info(%s)", table);
    if (sqlite3_prepare_v2(s->db, sql, -1, &q, NULL) != SQLITE_OK)
        return -1;
    while ((st = sqlite3_step(q)) == SQLITE_ROW)
        for (size_t i = 0; ADDED_COLUMNS[i].table && i < 64; i++)
            if ((want >> i & 1) && strcmp((const char *)sqlite3_column_text(q, 1), ADDED_COLUMNS[i].column) == 0)
                found |= 1ull << i;
    sqlite3_finalize(q);
    return st == SQLITE_DONE ? found == want : -1;
}

#define BACKFILL_NEEDED \
    "SELECT NOT EXISTS(SELECT 1 FROM coverage) AND EXISTS(SELECT 1 FROM counts WHERE sensor_id > 0 AND first_ns > 0)"

/* The first column of the first row of sql as an int; -1 on error. */
static int one_int(sqlite_store *s, const char *sql)
{
    sqlite3_stmt *q = NULL;
    int v = -1;
    if (sqlite3_prepare_v2(s->db, sql, -1, &q, NULL) == SQLITE_OK && sqlite3_step(q) == SQLITE_ROW)
        v = sqlite3_column_int(q, 0);
    sqlite3_finalize(q);
    return v;
}

/* Bring a store made by an older darkscope up to the tables and columns this one writes: nothing
 * is written when it has them all (every open of a current store), so readers stay readers. */
static ds_rc ensure_schema(sqlite_store *s, ds_err *err)
{
    ds_rc rc;
    int missing = 0;
    if ((rc = exec(s, SCHEMA, err)) != DS_OK)
        return rc;
    /* one table_info per table, not per column: every command opens the store, and with the
     * eight enc_* columns one query per column made the open of an existing store 1.73 M
     * instructions instead of 1.02 M (callgrind, `stats`); per table it is 1.11 M */
    for (size_t i = 0; ADDED_COLUMNS[i].table && !missing; i++) {
        size_t j = 0;
        while (j < i && strcmp(ADDED_COLUMNS[j].table, ADDED_COLUMNS[i].table) != 0)
            j++;
        if (j < i)
            continue;   /* that table was read already */
        int h = has_columns(s, ADDED_COLUMNS[i].table);
        if (h < 0)
            return db_fail(s, err, "table_info");
        missing |= !h;
    }
    int backfill = one_int(s, BACKFILL_NEEDED);
    if (backfill < 0)
        return db_fail(s, err, "coverage");
    if (!missing && !backfill)
        return DS_OK;
    if ((rc = exec(s, "BEGIN IMMEDIATE", err)) != DS_OK)
        return rc;
    if (one_int(s, BACKFILL_NEEDED) == 1)
        rc = exec(s, DS_SQLITE_COVERAGE_BACKFILL, err);
    for (size_t i = 0; rc == DS_OK && ADDED_COLUMNS[i].table; i++) {
        int h = has_column(s, ADDED_COLUMNS[i].table, ADDED_COLUMNS[i].column);   /* again, under the lock */
        char sql[256];
        if (h < 0) {
            rc = db_fail(s, err, "table_info");
            break;
        }
        if (h)
            continue;
        snprintf(sql, sizeof sql, "ALTER TABLE %s ADD COLUMN %s %s", ADDED_COLUMNS[i].table, ADDED_COLUMNS[i].column,
                 ADDED_COLUMNS[i].decl);
        if ((rc = exec(s, sql, err)) != DS_OK)
            break;
    }
    if (rc == DS_OK && (rc = exec(s, DS_FILES_INDEXES, err)) == DS_OK)   /* indexes on added columns */
        rc = exec(s, "COMMIT", err);
    if (rc != DS_OK)
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

static void ext_cut_back(sqlite_store *s);

static void sq_close(ds_store *base)
{
    sqlite_store *s = (sqlite_store *)base;
    if (!s)
        return;
    if (s->in_tx) {
        ext_cut_back(s);   /* before ROLLBACK releases the write lock: see ext_cut_back */
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    }
    if (s->ext_fd >= 0)
        close(s->ext_fd);
    free(s->ext_path);
    free(s->rbuf);
    sqlite3_finalize(s->put_chunk);
    sqlite3_close(s->db);
    ZSTD_freeCCtx(s->zc);
    ZSTD_freeDCtx(s->zd);
    free(s->zbuf);
    cache_clear(&s->cache);
    free(s);
}

static ds_rc sq_open(ds_store **out, const char *path, int create, ds_err *err)
{
    ds_rc rc = DS_ESTORE;
    struct stat st;
    *out = NULL;
    if (stat(path, &st) == 0) {
        if (S_ISDIR(st.st_mode))
            return ds_fail(err, DS_EINVAL, "store %s is a directory", path);
    } else if (!create) {
        return ds_fail(err, DS_ENOTFOUND, "no store at %s (ingest a capture first, or pass --db PATH)", path);
    }
    sqlite_store *s = calloc(1, sizeof *s);
    if (!s)
        return ds_fail(err, DS_ENOMEM, "out of memory");
    s->base.ops = &ds_store_sqlite;
    s->ext_fd = -1;
    s->ext_start = NO_TX_END;
    int flags = SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0) | SQLITE_OPEN_NOMUTEX;
    if (sqlite3_open_v2(path, &s->db, flags, NULL) != SQLITE_OK) {
        rc = ds_fail(err, DS_ESTORE, "store %s: cannot open: %s", path, s->db ? sqlite3_errmsg(s->db) : "out of memory");
        goto out;
    }
    sqlite3_busy_timeout(s->db, 120000);
    sqlite3_extended_result_codes(s->db, 0);
    /* Look before changing anything: a wrong --db (another tool's database, any other file) must
     * be refused untouched, so the pragmas that write (journal_mode=WAL) come after this check. */
    sqlite3_stmt *q = NULL;
    int ntables = -1, have = 0, probe = SQLITE_ERROR;
    /* Another process creating the same store holds locks for a moment (switching a new file to
     * WAL, where SQLite's busy handler is not always consulted), so BUSY here means "wait",
     * never "not a store".  Regression: two first ingests at once failed one of them. */
    for (int tries = 0; tries < 1200; tries++) {
        probe = sqlite3_prepare_v2(s->db, "SELECT count(*), count(CASE WHEN name IN ('meta','chunks') THEN 1 END)"
                                " FROM sqlite_master WHERE type='table'", -1, &q, NULL);
        if (probe == SQLITE_OK && (probe = sqlite3_step(q)) == SQLITE_ROW) {
            ntables = sqlite3_column_int(q, 0);
            have = sqlite3_column_int(q, 1);
        }
        sqlite3_finalize(q);
        q = NULL;
        if (probe != SQLITE_BUSY && probe != SQLITE_LOCKED)
            break;
        sqlite3_sleep(100);
    }
    if (ntables < 0) {
        rc = ds_fail(err, probe == SQLITE_BUSY || probe == SQLITE_LOCKED ? DS_EBUSY : DS_ESTORE,
                     probe == SQLITE_BUSY || probe == SQLITE_LOCKED ? "store %s: locked by another process for too long: %s"
                                                               : "store %s: not a darkscope store: %s",
                     path, sqlite3_errmsg(s->db));
        goto out;
    }
    if (ntables > 0 && have != 2) {
        rc = ds_fail(err, DS_ESTORE, "store %s: not a darkscope store (a database with other tables)", path);
        goto out;
    }
    if (ntables == 0 && !create) {
        rc = ds_fail(err, DS_ENOTFOUND, "store %s is empty (ingest a capture first)", path);
        goto out;
    }
    for (int tries = 0;; tries++) {
        rc = exec(s, "PRAGMA page_size=16384; PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
                     "PRAGMA cache_size=-16384; PRAGMA mmap_size=1073741824; PRAGMA foreign_keys=OFF;", err);
        if (rc != DS_EBUSY || tries >= 1200)
            break;
        sqlite3_sleep(100);
    }
    if (rc != DS_OK)
        goto out;
    if (ntables == 0) {
        if ((rc = exec(s, "BEGIN IMMEDIATE", err)) != DS_OK)
            goto out;
        if ((rc = exec(s, SCHEMA, err)) != DS_OK || (rc = exec(s, DS_FILES_INDEXES, err)) != DS_OK ||
            (rc = exec(s, "INSERT OR IGNORE INTO meta VALUES('schema_version','" SCHEMA_VERSION "')", err)) != DS_OK ||
            (rc = exec(s, "COMMIT", err)) != DS_OK) {
            sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
            goto out;
        }
        s->schema = atoi(SCHEMA_VERSION);
    } else {
        char v[32] = "";
        if (sqlite3_prepare_v2(s->db, "SELECT value FROM meta WHERE key='schema_version'", -1, &q, NULL) == SQLITE_OK &&
            sqlite3_step(q) == SQLITE_ROW)
            snprintf(v, sizeof v, "%s", (const char *)sqlite3_column_text(q, 0));
        sqlite3_finalize(q);
        char *end = NULL;
        long ver = strtol(v, &end, 10);
        if (!*v || *end || ver < SCHEMA_VERSION_OLDEST || ver > atoi(SCHEMA_VERSION)) {
            rc = ds_fail(err, DS_ESTORE, "store %s has schema version '%s'; this darkscope reads versions %d to %s",
                         path, v, SCHEMA_VERSION_OLDEST, SCHEMA_VERSION);
            goto out;
        }
        s->schema = (int)ver;
        if ((rc = ensure_schema(s, err)) != DS_OK)
            goto out;
    }
    const char *file = db_name(s);
    if (file && *file) {   /* "" for a store in memory: its frames stay BLOBs */
        size_t n = strlen(file) + sizeof CHUNK_FILE_SUFFIX;
        if (!(s->ext_path = malloc(n))) {
            rc = ds_fail(err, DS_ENOMEM, "out of memory");
            goto out;
        }
        snprintf(s->ext_path, n, "%s%s", file, CHUNK_FILE_SUFFIX);
    }
    if (sqlite3_prepare_v2(s->db, "INSERT INTO chunks(kind, day, sensor_id, file_id, nrec, codec, data) VALUES(?,?,?,?,?,?,?)",
                           -1, &s->put_chunk, NULL) != SQLITE_OK) {
        rc = db_fail(s, err, "prepare");
        goto out;
    }
    *out = &s->base;
    s = NULL;
    rc = DS_OK;
out:
    sq_close(s ? &s->base : NULL);
    return rc;
}

static ds_rc sq_reopen(ds_store *base, ds_store **out, ds_err *err)
{
    sqlite_store *s = (sqlite_store *)base;
    const char *path = db_name(s);
    if (!path || !*path)
        return ds_fail(err, DS_EINVAL, "store: an in-memory store cannot be reopened");
    return sq_open(out, path, 0, err);
}

static ds_rc sq_meta_get(ds_store *base, const char *key, char *val, size_t len, ds_err *err)
{
    sqlite_store *s = (sqlite_store *)base;
    sqlite3_stmt *q = NULL;
    ds_rc rc = DS_ENOTFOUND;
    if (sqlite3_prepare_v2(s->db, "SELECT value FROM meta WHERE key=?", -1, &q, NULL) != SQLITE_OK)
        return db_fail(s, err, "meta");
    sqlite3_bind_text(q, 1, key, -1, SQLITE_STATIC);
    int st = sqlite3_step(q);
    if (st == SQLITE_ROW) {
        snprintf(val, len, "%s", (const char *)sqlite3_column_text(q, 0));
        rc = DS_OK;
    } else if (st != SQLITE_DONE) {
        rc = db_fail(s, err, "meta");
    }
    sqlite3_finalize(q);
    return rc;
}

static ds_rc sq_meta_set(ds_store *base, const char *key, const char *val, ds_err *err)
{
    sqlite_store *s = (sqlite_store *)base;
    sqlite3_stmt *q = NULL;
    ds_rc rc = DS_OK;
    if (sqlite3_prepare_v2(s->db, "INSERT OR REPLACE INTO meta VALUES(?,?)", -1, &q, NULL) != SQLITE_OK)
        return db_fail(s, err, "meta");
    sqlite3_bind_text(q, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, val, -1, SQLITE_STATIC);
    if (sqlite3_step(q) != SQLITE_DONE)
        rc = db_fail(s, err, "meta");
    sqlite3_finalize(q);
    return rc;
}

/* ---- the chunk file (see the design note at the top) ------------------------------------- */

static void put_le64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

/* The committed length of the chunk file (meta.chunks_end; 0 before the first frame). */
static ds_rc ext_committed(sqlite_store *s, uint64_t *end, ds_err *err)
{
    char v[32];
    ds_rc rc = sq_meta_get(&s->base, "chunks_end", v, sizeof v, err);
    *end = 0;
    if (rc == DS_ENOTFOUND)
        return DS_OK;
    if (rc != DS_OK)
        return rc;
    char *e = NULL;
    errno = 0;
    unsigned long long x = strtoull(v, &e, 10);
    if (!*v || *e || errno || x > (unsigned long long)INT64_MAX)
        return ds_fail(err, DS_ESTORE, "store %s: meta.chunks_end is '%s', not a length", db_name(s), v);
    *end = x;
    return DS_OK;
}

/* Ready the chunk file for this transaction's first frame: open it for writing, and cut off
 * what a killed or rolled-back writer left past the committed length. */
static ds_rc ext_begin(sqlite_store *s, ds_err *err)
{
    uint64_t end;
    struct stat st;
    ds_rc rc;
    if (s->ext_start != NO_TX_END)
        return DS_OK;
    if (s->ext_fd >= 0 && !s->ext_writable) {
        close(s->ext_fd);
        s->ext_fd = -1;
    }
    if (s->ext_fd < 0) {
        if ((s->ext_fd = open(s->ext_path, O_RDWR | O_CREAT | O_CLOEXEC, 0644)) < 0)
            return ds_fail(err, DS_ESTORE, "store %s: cannot open %s: %s", db_name(s), s->ext_path, strerror(errno));
        s->ext_writable = 1;
    }
    if ((rc = ext_committed(s, &end, err)) != DS_OK)
        return rc;
    if (fstat(s->ext_fd, &st) != 0)
        return ds_fail(err, DS_ESTORE, "store %s: %s: %s", db_name(s), s->ext_path, strerror(errno));
    if ((uint64_t)st.st_size < end)
        return ds_fail(err, DS_ESTORE, "store %s: %s holds %lld bytes but the store's chunks reach %llu: it was "
                       "cut short or replaced", db_name(s), s->ext_path, (long long)st.st_size, (unsigned long long)end);
    if ((uint64_t)st.st_size > end && ftruncate(s->ext_fd, (off_t)end) != 0)
        return ds_fail(err, DS_ESTORE, "store %s: cannot cut %s back to %llu bytes: %s", db_name(s), s->ext_path,
                       (unsigned long long)end, strerror(errno));
    s->ext_start = s->ext_end = end;
    return DS_OK;
}

/* Append one frame; *off: where it went. */
static ds_rc ext_append(sqlite_store *s, const uint8_t *p, size_t n, uint64_t *off, ds_err *err)
{
    ds_rc rc = ext_begin(s, err);
    if (rc != DS_OK)
        return rc;
    if (n > (uint64_t)INT64_MAX - s->ext_end)
        return ds_fail(err, DS_ESTORE, "store %s: %s would grow past 2^63 bytes", db_name(s), s->ext_path);
    for (size_t done = 0; done < n;) {
        ssize_t w = pwrite(s->ext_fd, p + done, n - done, (off_t)(s->ext_end + done));
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return ds_fail(err, DS_ESTORE, "store %s: writing %s: %s", db_name(s), s->ext_path,
                           w < 0 ? strerror(errno) : "no space written");
        done += (size_t)w;
    }
    *off = s->ext_end;
    s->ext_end += n;
    return DS_OK;
}

/* This transaction appended frames to the chunk file. */
static int ext_wrote(const sqlite_store *s) { return s->ext_start != NO_TX_END && s->ext_end != s->ext_start; }

/* Forget this transaction's frames (they were never pointed at by a committed row).  Call it
 * while the transaction still holds the write lock, before ROLLBACK: the moment the lock is
 * released another writer may append at the same offset, and cutting then would destroy its
 * frames. */
static void ext_cut_back(sqlite_store *s)
{
    if (ext_wrote(s) && s->ext_fd >= 0)
        (void)!ftruncate(s->ext_fd, (off_t)s->ext_start);   /* best effort: the next writer cuts too */
    s->ext_start = NO_TX_END;
}

/* Before COMMIT: the frames on disk, then the committed length (and the version that says a
 * chunk file exists) in the same transaction as the rows. */
static ds_rc ext_commit(sqlite_store *s, ds_err *err)
{
    char v[32];
    ds_rc rc;
    if (!ext_wrote(s))
        return DS_OK;
    if (fdatasync(s->ext_fd) != 0)
        return ds_fail(err, DS_ESTORE, "store %s: flushing %s: %s", db_name(s), s->ext_path, strerror(errno));
    snprintf(v, sizeof v, "%llu", (unsigned long long)s->ext_end);
    if ((rc = sq_meta_set(&s->base, "chunks_end", v, err)) != DS_OK)
        return rc;
    if (s->schema < 3 && (rc = sq_meta_set(&s->base, "schema_version", "3", err)) != DS_OK)
        return rc;
    return DS_OK;
}

/* The frame a CODEC_ZSTD_FILE row points at, read into rbuf: DS_OK with *z, *zlen set, or
 * DS_ESTORE naming what is wrong ("damaged" for a bad locator or bytes that are not there). */
static ds_rc ext_read(sqlite_store *s, const uint8_t *loc, size_t loclen, int kind, int day,
                      const uint8_t **z, size_t *zlen, ds_err *err)
{
    if (loclen != LOCATOR_LEN || !s->ext_path)
        return ds_fail(err, DS_ESTORE, "store %s: chunk of kind %d on day %d is damaged (a locator of %zu bytes)",
                       db_name(s), kind, day, loclen);
    uint64_t off = get_le64(loc), len = get_le64(loc + 8);
    if (len == 0 || len > (uint64_t)INT32_MAX || off > (uint64_t)INT64_MAX - len)
        return ds_fail(err, DS_ESTORE, "store %s: chunk of kind %d on day %d is damaged (it points at %llu bytes at %llu)",
                       db_name(s), kind, day, (unsigned long long)len, (unsigned long long)off);
    if (s->ext_fd < 0 && (s->ext_fd = open(s->ext_path, O_RDONLY | O_CLOEXEC)) < 0)
        return ds_fail(err, DS_ESTORE, "store %s: cannot open its chunk file %s: %s (a store is the database and "
                       "its -chunks file together)", db_name(s), s->ext_path, strerror(errno));
    if (buf_need(&s->rbuf, &s->rcap, (size_t)len) != 0)
        return ds_fail(err, DS_ENOMEM, "store: out of memory reading a chunk");
    for (size_t done = 0; done < len;) {
        ssize_t r = pread(s->ext_fd, s->rbuf + done, (size_t)len - done, (off_t)(off + done));
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return ds_fail(err, DS_ESTORE, "store %s: reading %s: %s", db_name(s), s->ext_path, strerror(errno));
        if (r == 0)
            return ds_fail(err, DS_ESTORE, "store %s: chunk of kind %d on day %d is damaged (%llu bytes at %llu lie past "
                           "the end of %s)", db_name(s), kind, day, (unsigned long long)len, (unsigned long long)off,
                           s->ext_path);
        done += (size_t)r;
    }
    *z = s->rbuf;
    *zlen = (size_t)len;
    return DS_OK;
}

static ds_rc sq_begin(ds_store *base, const ds_file_meta *f, int64_t *file_id, ds_err *err)
{
    sqlite_store *s = (sqlite_store *)base;
    sqlite3_stmt *q = NULL;
    ds_rc rc;
    cache_clear(&s->cache);
    if ((rc = exec(s, "BEGIN IMMEDIATE", err)) != DS_OK)
        return rc;
    s->in_tx = 1;
    s->ext_start = NO_TX_END;
    if (!f->force && (rc = ds_sqfiles_dup(s->db, f, NULL, err)) != DS_OK)
        goto out;
    if (sqlite3_prepare_v2(s->db, "INSERT INTO files(hash, path, bytes, records, truncated, ingested_at, prefix_hash) VALUES(?,?,?,?,?,?,?)",
                           -1, &q, NULL) != SQLITE_OK) {
        rc = db_fail(s, err, "files");
        goto out;
    }
    sqlite3_bind_blob(q, 1, f->hash, 16, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, f->path, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 3, (sqlite3_int64)f->bytes);
    sqlite3_bind_int64(q, 4, (sqlite3_int64)f->records);
    sqlite3_bind_int(q, 5, f->truncated);
    sqlite3_bind_int64(q, 6, (sqlite3_int64)time(NULL));
    if (f->have_prefix)   /* how the next file finds it before decoding (store_files.c) */
        sqlite3_bind_blob(q, 7, f->prefix_hash, 16, SQLITE_STATIC);
    if (sqlite3_step(q) != SQLITE_DONE) {
        rc = db_fail(s, err, "files");
        goto out;
    }
    *file_id = sqlite3_last_insert_rowid(s->db);
    rc = DS_OK;
out:
    sqlite3_finalize(q);
    if (rc != DS_OK) {
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
        s->in_tx = 0;
    }
    return rc;
}

static ds_rc sq_sensor_upsert(ds_store *base, const ds_sensor_info *info, int64_t *id, ds_err *err)
{
    sqlite_store *s = (sqlite_store *)base;
    sqlite3_stmt *q = NULL;
    ds_rc rc = DS_OK;
    if (sqlite3_prepare_v2(s->db,
                           "INSERT INTO sensors(name, darknet, v4_addresses) VALUES(?,?,?) ON CONFLICT(name) DO UPDATE "
                           "SET darknet=excluded.darknet, v4_addresses=excluded.v4_addresses RETURNING id",
                           -1, &q, NULL) != SQLITE_OK)
        return db_fail(s, err, "sensors");
    sqlite3_bind_text(q, 1, info->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, info->darknet, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 3, (sqlite3_int64)info->v4_addresses);
    if (sqlite3_step(q) == SQLITE_ROW)
        *id = sqlite3_column_int64(q, 0);
    else
        rc = db_fail(s, err, "sensors");
    sqlite3_finalize(q);
    return rc;
}

/* The one INSERT of a chunk row, whatever its codec. */
static ds_rc insert_chunk(sqlite_store *s, int64_t file_id, int64_t sensor_id, int32_t day, int kind, size_t nrec,
                          int codec, const uint8_t *blob, size_t len, ds_err *err)
{
    sqlite3_stmt *q = s->put_chunk;
    uint8_t loc[LOCATOR_LEN];
    if (codec == CODEC_ZSTD && s->ext_path) {   /* the frame to the chunk file, its place to the row */
        uint64_t off = 0;
        ds_rc rc = ext_append(s, blob, len, &off, err);
        if (rc != DS_OK)
            return rc;
        put_le64(loc, off);
        put_le64(loc + 8, len);
        codec = CODEC_ZSTD_FILE;
        blob = loc;
        len = sizeof loc;
    }
    sqlite3_reset(q);
    sqlite3_bind_int(q, 1, kind);
    sqlite3_bind_int(q, 2, day);
    sqlite3_bind_int64(q, 3, sensor_id);
    sqlite3_bind_int64(q, 4, file_id);
    sqlite3_bind_int64(q, 5, (sqlite3_int64)nrec);
    sqlite3_bind_int(q, 6, codec);
    sqlite3_bind_blob(q, 7, blob, (int)len, SQLITE_STATIC);
    ds_rc rc = sqlite3_step(q) == SQLITE_DONE ? DS_OK : db_fail(s, err, "write chunk");
    sqlite3_reset(q);
    /* a day rollup outdates its month's (after the insert: the largest row id is then this one) */
    if (rc == DS_OK && kind >= DS_CHUNK_ROLLUP_SERVICE && kind <= DS_CHUNK_ROLLUP_ALL)
        rc = ds_sqlite_months_drop(s->db, sensor_id, day, err);
    return rc;
}

static ds_rc sq_put_chunk(ds_store *base, int64_t file_id, int64_t sensor_id, int32_t day, int kind,
                          const uint8_t *data, size_t nrec, size_t recsize, ds_err *err)
{
    sqlite_store *s = (sqlite_store *)base;
    if (!recsize || recsize != ds_rec_size(kind))
        return ds_fail(err, DS_EINVAL, "store: unknown chunk kind %d (record size %zu)", kind, recsize);
    if (nrec == 0)
        return DS_OK;   /* nothing to keep; readers never see an empty chunk */
    if (nrec > (size_t)INT32_MAX / recsize)
        return ds_fail(err, DS_ENOMEM, "store: a chunk of %zu records is larger than SQLite's BLOB limit", nrec);
    size_t raw = nrec * recsize;
    if ((!s->zc && !(s->zc = ZSTD_createCCtx())) || buf_need(&s->zbuf, &s->zcap, ZSTD_compressBound(raw)) != 0)
        return ds_fail(err, DS_ENOMEM, "store: out of memory compressing a chunk");
    size_t zlen = ZSTD_compressCCtx(s->zc, s->zbuf, s->zcap, data, raw, CHUNK_ZSTD_LEVEL);
    if (ZSTD_isError(zlen))
        return ds_fail(err, DS_ESTORE, "store: zstd: %s", ZSTD_getErrorName(zlen));
    return insert_chunk(s, file_id, sensor_id, day, kind, nrec, CODEC_ZSTD, s->zbuf, zlen, err);
}

static ds_rc sq_put_chunk_zstd(ds_store *base, int64_t file_id, int64_t sensor_id, int32_t day, int kind,
                               const uint8_t *frame, size_t framelen, size_t nrec, ds_err *err)
{
    sqlite_store *s = (sqlite_store *)base;
    size_t recsize = ds_rec_size(kind);
    if (!recsize)
        return ds_fail(err, DS_EINVAL, "store: unknown chunk kind %d", kind);
    if (nrec == 0)
        return DS_OK;
    /* the frame must say it holds exactly nrec records, or readers would call it damaged */
    unsigned long long content = ZSTD_getFrameContentSize(frame, framelen);
    if (nrec > (size_t)INT32_MAX / recsize || framelen > (size_t)INT32_MAX || content != (unsigned long long)nrec * recsize)
        return ds_fail(err, DS_EINVAL, "store: a compressed chunk of kind %d does not hold %zu records", kind, nrec);
    return insert_chunk(s, file_id, sensor_id, day, kind, nrec, CODEC_ZSTD, frame, framelen, err);
}

static ds_rc sq_put_counts(ds_store *base, int64_t file_id, int64_t sensor_id, const ds_agg_counts *c, ds_err *err)
{
    sqlite_store *s = (sqlite_store *)base;
    sqlite3_stmt *q = NULL;
    ds_rc rc = DS_OK;
    /* columns named: an added column comes last in an old store, elsewhere in a new one */
    if (sqlite3_prepare_v2(s->db,
                           "INSERT INTO counts(file_id, sensor_id, packets, outside, non_ip, truncated, fragment, malformed,"
                           " unknown_link, first_ns, last_ns, bad_timestamp, " ENC_COLUMNS ")"
                           " VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                           -1, &q, NULL) != SQLITE_OK)
        return db_fail(s, err, "counts");
    sqlite3_int64 v[] = { file_id, sensor_id, (sqlite3_int64)c->packets, (sqlite3_int64)c->outside,
                          (sqlite3_int64)c->outcome[DS_PKT_NON_IP], (sqlite3_int64)c->outcome[DS_PKT_TRUNCATED],
                          (sqlite3_int64)c->outcome[DS_PKT_FRAGMENT], (sqlite3_int64)c->outcome[DS_PKT_MALFORMED],
                          (sqlite3_int64)c->outcome[DS_PKT_UNKNOWN_LINK], (sqlite3_int64)c->first_ns,
                          (sqlite3_int64)c->last_ns, (sqlite3_int64)c->outcome[DS_PKT_BAD_TIMESTAMP] };
    int nv = (int)(sizeof v / sizeof v[0]);
    for (int i = 0; i < nv; i++)
        sqlite3_bind_int64(q, i + 1, v[i]);
    for (int i = 0; i < DS_ENC__COUNT; i++)
        sqlite3_bind_int64(q, nv + i + 1, (sqlite3_int64)c->encap[i]);
    if (sqlite3_step(q) != SQLITE_DONE)
        rc = db_fail(s, err, "counts");
    sqlite3_finalize(q);
    return rc;
}

static ds_rc sq_commit(ds_store *base, ds_err *err)
{
    sqlite_store *s = (sqlite_store *)base;
    ds_rc rc = ext_commit(s, err);
    if (rc == DS_OK)
        rc = exec(s, "COMMIT", err);
    if (rc != DS_OK) {   /* a failed COMMIT leaves the transaction open: cut back, then roll back */
        ext_cut_back(s);
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
        cache_clear(&s->cache);
    } else if (ext_wrote(s) && s->schema < 3) {
        s->schema = 3;
    }
    s->ext_start = NO_TX_END;
    s->in_tx = 0;
    return rc;
}

static void sq_rollback(ds_store *base)
{
    sqlite_store *s = (sqlite_store *)base;
    if (s->in_tx) {
        ext_cut_back(s);   /* before ROLLBACK releases the write lock: see ext_cut_back */
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    }
    s->in_tx = 0;
    cache_clear(&s->cache);
}

static ds_rc sq_file_priors(ds_store *base, const ds_file_meta *f, ds_file_prior *prior, size_t max, size_t *n,
                            ds_err *err)
{
    return ds_sqfiles_priors(((sqlite_store *)base)->db, f, prior, max, n, err);
}

static ds_rc sq_file_check(ds_store *base, const ds_file_meta *f, uint64_t *packets, ds_err *err)
{
    if (packets)
        *packets = 0;
    return f->force ? DS_OK : ds_sqfiles_dup(((sqlite_store *)base)->db, f, packets, err);
}

static ds_rc sq_supersede(ds_store *base, int64_t file_id, const ds_file_prior *old, ds_err *err)
{
    sqlite_store *s = (sqlite_store *)base;
    if (!s->in_tx)
        return ds_fail(err, DS_EINVAL, "store %s: supersede outside a file's transaction", db_name(s));
    ds_rc rc = ds_sqlite_months_drop_file(s->db, old->id, err);
    return rc != DS_OK ? rc : ds_sqfiles_supersede(s->db, file_id, old, err);
}

static ds_rc sq_month_sig(ds_store *base, int64_t sensor_id, int32_t month, uint64_t sig[2], ds_err *err)
{
    return ds_sqlite_months_sig(((sqlite_store *)base)->db, sensor_id, month, sig, err);
}

static ds_rc sq_month_put(ds_store *base, int64_t sensor_id, int32_t month, const uint64_t sig[2],
                          uint8_t *const data[4], const size_t len[4], int *stale, ds_err *err)
{
    sqlite_store *s = (sqlite_store *)base;
    uint64_t now[2];
    ds_rc rc;
    *stale = 0;
    if (s->in_tx)
        return ds_fail(err, DS_EINVAL, "store %s: month rollups written inside a file's transaction", db_name(s));
    if ((rc = exec(s, "BEGIN IMMEDIATE", err)) != DS_OK)
        return rc;
    s->in_tx = 1;
    s->ext_start = NO_TX_END;
    if ((rc = ds_sqlite_months_sig(s->db, sensor_id, month, now, err)) != DS_OK)
        goto fail;
    if (now[0] != sig[0] || now[1] != sig[1]) {   /* a file came in since the build read the days */
        *stale = 1;
        sq_rollback(base);
        return DS_OK;
    }
    if ((rc = ds_sqlite_months_drop(s->db, sensor_id, month, err)) != DS_OK)
        goto fail;
    /* the frames go to the chunk file like any chunk's (a blob of tens of MB read through the
     * pager took 0.2 s); a month rebuilt leaves its old frames there, as a superseded file does */
    for (int dim = 0; dim < 4; dim++)
        if ((rc = sq_put_chunk(base, 0, sensor_id, month, DS_CHUNK_MONTH_SERVICE + dim, data[dim], len[dim], 1, err)) !=
            DS_OK)
            goto fail;
    return sq_commit(base, err);
fail:
    sq_rollback(base);
    return rc;
}

static ds_rc sq_month_missing(ds_store *base, int32_t today, ds_sensor_day **rows, size_t *n, ds_err *err)
{
    return ds_sqlite_months_missing(((sqlite_store *)base)->db, today, rows, n, err);
}

static ds_rc sq_scan(ds_store *base, int kind, int64_t sensor_id, int32_t from, int32_t to, ds_scan_fn fn,
                     void *ctx, ds_err *err)
{
    sqlite_store *s = (sqlite_store *)base;
    sqlite3_stmt *q = NULL;
    ds_rc rc = DS_OK;
    int fill = !(kind & DS_SCAN_NOFILL);   /* else misses are decompressed into zbuf, reused */
    kind &= ~DS_SCAN_NOFILL;
    size_t recsize = ds_rec_size(kind);
    const char *sql = sensor_id > 0
        ? "SELECT sensor_id, day, nrec, data, codec, id FROM chunks WHERE kind=?1 AND day BETWEEN ?2 AND ?3 AND sensor_id=?4 ORDER BY day"
        : "SELECT sensor_id, day, nrec, data, codec, id FROM chunks WHERE kind=?1 AND day BETWEEN ?2 AND ?3 ORDER BY day";
    if (sqlite3_prepare_v2(s->db, sql, -1, &q, NULL) != SQLITE_OK)
        return db_fail(s, err, "scan");
    sqlite3_bind_int(q, 1, kind);
    sqlite3_bind_int(q, 2, from);
    sqlite3_bind_int(q, 3, to);
    if (sensor_id > 0)
        sqlite3_bind_int64(q, 4, sensor_id);
    int st;
    while ((st = sqlite3_step(q)) == SQLITE_ROW) {
        sqlite3_int64 nrec = sqlite3_column_int64(q, 2), id = sqlite3_column_int64(q, 5);
        const cached_chunk *hit = cache_get(&s->cache, id);
        if (hit) {   /* the row was checked when it was cached: len == nrec * recsize */
            if ((rc = fn(ctx, sqlite3_column_int64(q, 0), sqlite3_column_int(q, 1), hit->data, (size_t)nrec, err)) != DS_OK)
                goto out;
            continue;
        }
        /* the blob is read only on a miss: sqlite3_column_blob pages it in */
        const uint8_t *z = sqlite3_column_blob(q, 3);
        size_t zlen = (size_t)sqlite3_column_bytes(q, 3), len = 0;
        int codec = sqlite3_column_int(q, 4);
        if (codec == CODEC_ZSTD_FILE) {
            if ((rc = ext_read(s, z, zlen, kind, sqlite3_column_int(q, 1), &z, &zlen, err)) != DS_OK)
                goto out;
            codec = CODEC_ZSTD;
        }
        if (nrec >= 0 && recsize && (uint64_t)nrec <= (uint64_t)INT32_MAX / recsize) {
            len = (size_t)nrec * recsize;
            if ((!s->zd && !(s->zd = ZSTD_createDCtx())) || buf_need(&s->zbuf, &s->zcap, len + 1) != 0) {
                rc = ds_fail(err, DS_ENOMEM, "store: out of memory reading a chunk");
                goto out;
            }
        }
        const uint8_t *data = s->zbuf;
        uint8_t *keep = NULL;
        size_t got = 0;
        if (codec == CODEC_RAW) {
            data = z;
            got = zlen;
        } else if (codec == CODEC_ZSTD && len && z) {
            if (fill && (keep = cache_reserve(&s->cache, len)) != NULL) {
                got = ZSTD_decompressDCtx(s->zd, keep, len, z, zlen);
                data = keep;
            } else {
                got = ZSTD_decompressDCtx(s->zd, s->zbuf, s->zcap, z, zlen);
            }
        }
        if (keep && (ZSTD_isError(got) || got != len)) {
            cache_unreserve(&s->cache, len);
            keep = NULL;
        }
        if (!len || ZSTD_isError(got) || got != len) {
            rc = ds_fail(err, DS_ESTORE, "store %s: chunk of kind %d on day %d is damaged (%zu bytes, %lld records)",
                         db_name(s), kind, sqlite3_column_int(q, 1), zlen, (long long)nrec);
            goto out;
        }
        if (keep)
            cache_put(&s->cache, id, keep);
        if ((rc = fn(ctx, sqlite3_column_int64(q, 0), sqlite3_column_int(q, 1), data, (size_t)nrec, err)) != DS_OK)
            goto out;
    }
    if (st != SQLITE_DONE)
        rc = db_fail(s, err, "scan");
out:
    sqlite3_finalize(q);
    return rc;
}

static ds_rc sq_put_coverage(ds_store *base, const ds_coverage_row *row, ds_err *err)
{
    sqlite_store *s = (sqlite_store *)base;
    return ds_sqlite_coverage_put(s->db, db_name(s), row, err);
}

static ds_rc sq_coverage_span(ds_store *base, uint64_t *first_ns, uint64_t *last_ns, ds_err *err)
{
    sqlite_store *s = (sqlite_store *)base;
    return ds_sqlite_coverage_span(s->db, db_name(s), first_ns, last_ns, err);
}

static ds_rc sq_coverage_scan(ds_store *base, uint64_t from_ns, uint64_t to_ns, ds_coverage_fn fn, void *ctx,
                              ds_err *err)
{
    sqlite_store *s = (sqlite_store *)base;
    return ds_sqlite_coverage_scan(s->db, db_name(s), from_ns, to_ns, fn, ctx, err);
}


static ds_rc sq_chunks_lacking(ds_store *base, int have, int need, int64_t sensor_id, int32_t from, int32_t to,
                               ds_sensor_day **rows, size_t *n, ds_err *err)
{
    sqlite_store *s = (sqlite_store *)base;
    sqlite3_stmt *q = NULL;
    ds_rc rc = DS_OK;
    size_t cap = 0;
    *rows = NULL;
    *n = 0;
    /* the inner probe walks the (kind, day, sensor_id) index: one file's few chunks of that key */
    const char *sql =
        "SELECT DISTINCT a.sensor_id, a.day FROM chunks a WHERE a.kind=?1 AND a.day BETWEEN ?3 AND ?4"
        " AND (?5 = 0 OR a.sensor_id=?5) AND NOT EXISTS (SELECT 1 FROM chunks b WHERE b.kind=?2 AND b.day=a.day"
        " AND b.sensor_id=a.sensor_id AND b.file_id=a.file_id) ORDER BY a.sensor_id, a.day";
    if (sqlite3_prepare_v2(s->db, sql, -1, &q, NULL) != SQLITE_OK)
        return db_fail(s, err, "chunks lacking");
    sqlite3_bind_int(q, 1, have);
    sqlite3_bind_int(q, 2, need);
    sqlite3_bind_int(q, 3, from);
    sqlite3_bind_int(q, 4, to);
    sqlite3_bind_int64(q, 5, sensor_id > 0 ? sensor_id : 0);
    int st;
    while ((st = sqlite3_step(q)) == SQLITE_ROW) {
        ds_sensor_day *r = ds_sqlite_row_append((void **)rows, n, &cap, sizeof *r);
        if (!r) {
            rc = ds_fail(err, DS_ENOMEM, "out of memory");
            goto out;
        }
        r->sensor_id = sqlite3_column_int64(q, 0);
        r->day = sqlite3_column_int(q, 1);
    }
    if (st != SQLITE_DONE)
        rc = db_fail(s, err, "chunks lacking");
out:
    sqlite3_finalize(q);
    if (rc != DS_OK) {
        free(*rows);
        *rows = NULL;
        *n = 0;
    }
    return rc;
}

static ds_rc sq_day_span(ds_store *base, int32_t *first, int32_t *last, ds_err *err)
{
    sqlite_store *s = (sqlite_store *)base;
    sqlite3_stmt *q = NULL;
    ds_rc rc = DS_ENOTFOUND;
    /* min/max over the (kind, day) index: two index probes */
    if (sqlite3_prepare_v2(s->db, "SELECT (SELECT min(day) FROM chunks WHERE kind=1), (SELECT max(day) FROM chunks WHERE kind=1)",
                           -1, &q, NULL) != SQLITE_OK)
        return db_fail(s, err, "day span");
    if (sqlite3_step(q) == SQLITE_ROW && sqlite3_column_type(q, 0) != SQLITE_NULL) {
        *first = sqlite3_column_int(q, 0);
        *last = sqlite3_column_int(q, 1);
        rc = DS_OK;
    }
    sqlite3_finalize(q);
    return rc;
}

/* Room for one more row in a growing result array (*rows, *n used, *cap allocated); NULL when
 * memory runs out.  The new row is zeroed. */
void *ds_sqlite_row_append(void **rows, size_t *n, size_t *cap, size_t size)
{
    if (*n == *cap) {
        void *nr = ds_grow(*rows, cap, size, 8);
        if (!nr)
            return NULL;
        *rows = nr;
    }
    void *r = (char *)*rows + (*n)++ * size;
    memset(r, 0, size);
    return r;
}

static ds_rc sq_sensors(ds_store *base, ds_sensor_info **rows, size_t *n, ds_err *err)
{
    sqlite_store *s = (sqlite_store *)base;
    sqlite3_stmt *q = NULL;
    ds_rc rc = DS_OK;
    size_t cap = 0;
    *rows = NULL;
    *n = 0;
    if (sqlite3_prepare_v2(s->db, "SELECT id, name, darknet, v4_addresses FROM sensors ORDER BY name", -1, &q, NULL) != SQLITE_OK)
        return db_fail(s, err, "sensors");
    while (sqlite3_step(q) == SQLITE_ROW) {
        ds_sensor_info *r = ds_sqlite_row_append((void **)rows, n, &cap, sizeof *r);
        if (!r) {
            rc = ds_fail(err, DS_ENOMEM, "out of memory");
            break;
        }
        r->id = sqlite3_column_int64(q, 0);
        snprintf(r->name, sizeof r->name, "%s", (const char *)sqlite3_column_text(q, 1));
        snprintf(r->darknet, sizeof r->darknet, "%s", (const char *)sqlite3_column_text(q, 2));
        r->v4_addresses = (uint64_t)sqlite3_column_int64(q, 3);
    }
    sqlite3_finalize(q);
    return rc;
}

static ds_rc sq_sensor_stats(ds_store *base, ds_sensor_stats **rows, size_t *n, ds_err *err)
{
    sqlite_store *s = (sqlite_store *)base;
    sqlite3_stmt *q = NULL;
    ds_rc rc = DS_OK;
    size_t cap = 0;
    *rows = NULL;
    *n = 0;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT c.sensor_id, coalesce(s.name, '-'), sum(packets), sum(outside), sum(non_ip), sum(c.truncated),"
                           " sum(fragment), sum(malformed), sum(unknown_link), min(nullif(first_ns, 0)), max(last_ns),"
                           " count(DISTINCT file_id), sum(bad_timestamp), " ENC_SUMS " FROM counts c LEFT JOIN sensors s ON s.id = c.sensor_id"
                           " GROUP BY c.sensor_id ORDER BY c.sensor_id = 0, s.name",
                           -1, &q, NULL) != SQLITE_OK)
        return db_fail(s, err, "stats");
    while (sqlite3_step(q) == SQLITE_ROW) {
        ds_sensor_stats *r = ds_sqlite_row_append((void **)rows, n, &cap, sizeof *r);
        if (!r) {
            rc = ds_fail(err, DS_ENOMEM, "out of memory");
            break;
        }
        r->sensor_id = sqlite3_column_int64(q, 0);
        snprintf(r->name, sizeof r->name, "%s", (const char *)sqlite3_column_text(q, 1));
        r->c.packets = (uint64_t)sqlite3_column_int64(q, 2);
        r->c.outside = (uint64_t)sqlite3_column_int64(q, 3);
        r->c.outcome[DS_PKT_NON_IP] = (uint64_t)sqlite3_column_int64(q, 4);
        r->c.outcome[DS_PKT_TRUNCATED] = (uint64_t)sqlite3_column_int64(q, 5);
        r->c.outcome[DS_PKT_FRAGMENT] = (uint64_t)sqlite3_column_int64(q, 6);
        r->c.outcome[DS_PKT_MALFORMED] = (uint64_t)sqlite3_column_int64(q, 7);
        r->c.outcome[DS_PKT_UNKNOWN_LINK] = (uint64_t)sqlite3_column_int64(q, 8);
        r->c.first_ns = (uint64_t)sqlite3_column_int64(q, 9);
        r->c.last_ns = (uint64_t)sqlite3_column_int64(q, 10);
        r->files = (uint64_t)sqlite3_column_int64(q, 11);
        r->c.outcome[DS_PKT_BAD_TIMESTAMP] = (uint64_t)sqlite3_column_int64(q, 12);
        for (int e = 0; e < DS_ENC__COUNT; e++)
            r->c.encap[e] = (uint64_t)sqlite3_column_int64(q, 13 + e);
    }
    sqlite3_finalize(q);
    return rc;
}

/* ---- collector ledger and first payloads: sqlite_ledger.c, sqlite_payloads.c ---- */

static ds_rc sq_segment_get(ds_store *base, const char *sensor, uint64_t seq, ds_segment_rec *out, ds_err *err)
{
    return ds_sqlite_segment_get(((sqlite_store *)base)->db, sensor, seq, out, err);
}

static ds_rc sq_ledger_put(ds_store *base, const ds_segment_rec *seg, const ds_sensor_health *h, ds_err *err)
{
    return ds_sqlite_ledger_put(((sqlite_store *)base)->db, seg, h, err);
}

static ds_rc sq_sensor_health(ds_store *base, ds_sensor_health **rows, size_t *n, ds_err *err)
{
    return ds_sqlite_sensor_health(((sqlite_store *)base)->db, rows, n, err);
}

static ds_rc sq_segments_list(ds_store *base, const char *sensor, int64_t from, int64_t to, ds_segment_rec **rows,
                              size_t *n, ds_err *err)
{
    return ds_sqlite_segments_list(((sqlite_store *)base)->db, sensor, from, to, rows, n, err);
}

static ds_rc sq_payloads_put(ds_store *base, const ds_payload_batch *b, ds_err *err)
{
    return ds_sqlite_payloads_put(((sqlite_store *)base)->db, b, err);
}

static ds_rc sq_payloads_query(ds_store *base, const ds_payload_query *q, ds_payload_row **rows, size_t *n,
                               uint64_t *total, ds_err *err)
{
    return ds_sqlite_payloads_query(((sqlite_store *)base)->db, q, rows, n, total, err);
}

static const ds_store_writer_ops sq_writer = {
    .meta_set = sq_meta_set,
    .begin = sq_begin,
    .sensor_upsert = sq_sensor_upsert,
    .put_chunk = sq_put_chunk,
    .put_chunk_zstd = sq_put_chunk_zstd,
    .put_counts = sq_put_counts,
    .put_coverage = sq_put_coverage,
    .commit = sq_commit,
    .rollback = sq_rollback,
    .file_priors = sq_file_priors,
    .file_check = sq_file_check,
    .supersede = sq_supersede,
};

static const ds_store_reader_ops sq_reader = {
    .meta_get = sq_meta_get,
    .scan = sq_scan,
    .chunks_lacking = sq_chunks_lacking,
    .day_span = sq_day_span,
    .coverage_span = sq_coverage_span,
    .coverage_scan = sq_coverage_scan,
    .sensors = sq_sensors,
    .sensor_stats = sq_sensor_stats,
};

static const ds_store_ledger_ops sq_ledger = {
    .segment_get = sq_segment_get,
    .ledger_put = sq_ledger_put,
    .sensor_health = sq_sensor_health,
    .segments_list = sq_segments_list,
};

static const ds_store_payload_ops sq_payloads = {
    .payloads_put = sq_payloads_put,
    .payloads_query = sq_payloads_query,
};

/* ---- store copy: a file's rows (ds_store_dump_ops) ---- */

static ds_rc sq_files(ds_store *base, ds_stored_file **rows, size_t *n, ds_err *err)
{
    return ds_sqfiles_list(((sqlite_store *)base)->db, rows, n, err);
}

static ds_rc sq_file_counts(ds_store *base, int64_t file_id, ds_dump_counts_fn fn, void *ctx, ds_err *err)
{
    return ds_sqfiles_counts(((sqlite_store *)base)->db, file_id, fn, ctx, err);
}

/* The file's chunks (kind 0 is a tombstone: store_files.c), decompressed, without the cache. */
static ds_rc sq_file_chunks(ds_store *base, int64_t file_id, ds_dump_chunk_fn fn, void *ctx, ds_err *err)
{
    sqlite_store *s = (sqlite_store *)base;
    sqlite3_stmt *q = NULL;
    ds_rc rc = DS_OK;
    if (sqlite3_prepare_v2(s->db, "SELECT sensor_id, day, kind, nrec, data, codec FROM chunks WHERE file_id = ?1 AND"
                           " kind != 0 ORDER BY id", -1, &q, NULL) != SQLITE_OK)
        return db_fail(s, err, "chunks");
    sqlite3_bind_int64(q, 1, file_id);
    int st;
    while (rc == DS_OK && (st = sqlite3_step(q)) == SQLITE_ROW) {
        int day = sqlite3_column_int(q, 1), kind = sqlite3_column_int(q, 2), codec = sqlite3_column_int(q, 5);
        sqlite3_int64 nrec = sqlite3_column_int64(q, 3);
        size_t recsize = ds_rec_size(kind), zlen = (size_t)sqlite3_column_bytes(q, 4), len = 0, got = 0;
        const uint8_t *z = sqlite3_column_blob(q, 4), *data = NULL;
        if (codec == CODEC_ZSTD_FILE && (rc = ext_read(s, z, zlen, kind, day, &z, &zlen, err)) != DS_OK)
            break;
        if (nrec > 0 && recsize && (uint64_t)nrec <= (uint64_t)INT32_MAX / recsize)
            len = (size_t)nrec * recsize;
        if (codec == CODEC_RAW) {
            data = z;
            got = zlen;
        } else if (len && z) {
            if ((!s->zd && !(s->zd = ZSTD_createDCtx())) || buf_need(&s->zbuf, &s->zcap, len + 1) != 0) {
                rc = ds_fail(err, DS_ENOMEM, "store: out of memory reading a chunk");
                break;
            }
            got = ZSTD_decompressDCtx(s->zd, s->zbuf, s->zcap, z, zlen);
            data = s->zbuf;
        }
        if (!len || ZSTD_isError(got) || got != len) {
            rc = ds_fail(err, DS_ESTORE, "store %s: chunk of kind %d on day %d is damaged (%zu bytes, %lld records)",
                         db_name(s), kind, day, zlen, (long long)nrec);
            break;
        }
        rc = fn(ctx, sqlite3_column_int64(q, 0), day, kind, data, (size_t)nrec, err);
    }
    if (rc == DS_OK && st != SQLITE_DONE)
        rc = db_fail(s, err, "chunks");
    sqlite3_finalize(q);
    return rc;
}

static const ds_store_dump_ops sq_dump = {
    .files = sq_files,
    .file_chunks = sq_file_chunks,
    .file_counts = sq_file_counts,
};

static const ds_store_month_ops sq_months = {
    .sig = sq_month_sig,
    .put = sq_month_put,
    .missing = sq_month_missing,
};

const ds_store_ops ds_store_sqlite = {
    .name = "sqlite",
    .open = sq_open,
    .close = sq_close,
    .reopen = sq_reopen,
    .writer = &sq_writer,
    .reader = &sq_reader,
    .ledger = &sq_ledger,
    .payloads = &sq_payloads,
    .query = NULL,   /* analysis's chunk code answers (store/query.h) */
    .months = &sq_months,
    .dump = &sq_dump,
};
