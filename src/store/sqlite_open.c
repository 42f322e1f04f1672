/* sqlite_open.c: opening and closing a SQLite store, its schema (created, and columns added to
 * stores made before them) and meta.  The design of the backend is at the top of store_sqlite.c.
 * Internal to src/store. */
#include "store/sqlite_engine.h"
#include "store/sqlite_int.h"
#include "store/sqlite_coverage.h"
#include "store/store_files.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/grow.h"

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


ds_rc ds_sqlite_fail(sqlite3 *db, const char *what, ds_err *err)
{
    int code = sqlite3_errcode(db);
    ds_rc rc = (code == SQLITE_BUSY || code == SQLITE_LOCKED) ? DS_EBUSY : DS_ESTORE;
    return ds_fail(err, rc, "store %s: %s: %s", sqlite3_db_filename(db, "main"), what, sqlite3_errmsg(db));
}


ds_rc ds_sqlite_exec(sqlite3 *db, const char *sql, ds_err *err)
{
    if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
        return ds_sqlite_fail(db, sql, err);
    return DS_OK;
}


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
    if ((rc = ds_sq_exec(s, SCHEMA, err)) != DS_OK)
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
            return ds_sq_fail(s, err, "table_info");
        missing |= !h;
    }
    int backfill = one_int(s, BACKFILL_NEEDED);
    if (backfill < 0)
        return ds_sq_fail(s, err, "coverage");
    if (!missing && !backfill)
        return DS_OK;
    if ((rc = ds_sq_exec(s, "BEGIN IMMEDIATE", err)) != DS_OK)
        return rc;
    if (one_int(s, BACKFILL_NEEDED) == 1)
        rc = ds_sq_exec(s, DS_SQLITE_COVERAGE_BACKFILL, err);
    for (size_t i = 0; rc == DS_OK && ADDED_COLUMNS[i].table; i++) {
        int h = has_column(s, ADDED_COLUMNS[i].table, ADDED_COLUMNS[i].column);   /* again, under the lock */
        char sql[256];
        if (h < 0) {
            rc = ds_sq_fail(s, err, "table_info");
            break;
        }
        if (h)
            continue;
        snprintf(sql, sizeof sql, "ALTER TABLE %s ADD COLUMN %s %s", ADDED_COLUMNS[i].table, ADDED_COLUMNS[i].column,
                 ADDED_COLUMNS[i].decl);
        if ((rc = ds_sq_exec(s, sql, err)) != DS_OK)
            break;
    }
    if (rc == DS_OK && (rc = ds_sq_exec(s, DS_FILES_INDEXES, err)) == DS_OK)   /* indexes on added columns */
        rc = ds_sq_exec(s, "COMMIT", err);
    if (rc != DS_OK)
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}


void ds_sq_close(ds_store *base)
{
    sqlite_store *s = (sqlite_store *)base;
    if (!s)
        return;
    if (s->in_tx) {
        ds_sqext_cut_back(s);   /* before ROLLBACK releases the write lock: see ds_sqext_cut_back */
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
    ds_sqcache_clear(&s->cache);
    free(s);
}

ds_rc ds_sq_open(ds_store **out, const char *path, int create, ds_err *err)
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
        rc = ds_sq_exec(s, "PRAGMA page_size=16384; PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
                     "PRAGMA cache_size=-16384; PRAGMA mmap_size=1073741824; PRAGMA foreign_keys=OFF;", err);
        if (rc != DS_EBUSY || tries >= 1200)
            break;
        sqlite3_sleep(100);
    }
    if (rc != DS_OK)
        goto out;
    if (ntables == 0) {
        if ((rc = ds_sq_exec(s, "BEGIN IMMEDIATE", err)) != DS_OK)
            goto out;
        if ((rc = ds_sq_exec(s, SCHEMA, err)) != DS_OK || (rc = ds_sq_exec(s, DS_FILES_INDEXES, err)) != DS_OK ||
            (rc = ds_sq_exec(s, "INSERT OR IGNORE INTO meta VALUES('schema_version','" SCHEMA_VERSION "')", err)) != DS_OK ||
            (rc = ds_sq_exec(s, "COMMIT", err)) != DS_OK) {
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
    const char *file = ds_sq_name(s);
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
        rc = ds_sq_fail(s, err, "prepare");
        goto out;
    }
    *out = &s->base;
    s = NULL;
    rc = DS_OK;
out:
    ds_sq_close(s ? &s->base : NULL);
    return rc;
}

ds_rc ds_sq_reopen(ds_store *base, ds_store **out, ds_err *err)
{
    sqlite_store *s = (sqlite_store *)base;
    const char *path = ds_sq_name(s);
    if (!path || !*path)
        return ds_fail(err, DS_EINVAL, "store: an in-memory store cannot be reopened");
    return ds_sq_open(out, path, 0, err);
}

ds_rc ds_sq_meta_get(ds_store *base, const char *key, char *val, size_t len, ds_err *err)
{
    sqlite_store *s = (sqlite_store *)base;
    sqlite3_stmt *q = NULL;
    ds_rc rc = DS_ENOTFOUND;
    if (sqlite3_prepare_v2(s->db, "SELECT value FROM meta WHERE key=?", -1, &q, NULL) != SQLITE_OK)
        return ds_sq_fail(s, err, "meta");
    sqlite3_bind_text(q, 1, key, -1, SQLITE_STATIC);
    int st = sqlite3_step(q);
    if (st == SQLITE_ROW) {
        snprintf(val, len, "%s", (const char *)sqlite3_column_text(q, 0));
        rc = DS_OK;
    } else if (st != SQLITE_DONE) {
        rc = ds_sq_fail(s, err, "meta");
    }
    sqlite3_finalize(q);
    return rc;
}

ds_rc ds_sq_meta_set(ds_store *base, const char *key, const char *val, ds_err *err)
{
    sqlite_store *s = (sqlite_store *)base;
    sqlite3_stmt *q = NULL;
    ds_rc rc = DS_OK;
    if (sqlite3_prepare_v2(s->db, "INSERT OR REPLACE INTO meta VALUES(?,?)", -1, &q, NULL) != SQLITE_OK)
        return ds_sq_fail(s, err, "meta");
    sqlite3_bind_text(q, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, val, -1, SQLITE_STATIC);
    if (sqlite3_step(q) != SQLITE_DONE)
        rc = ds_sq_fail(s, err, "meta");
    sqlite3_finalize(q);
    return rc;
}
