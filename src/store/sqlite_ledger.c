/* sqlite_ledger.c: the SQLite backend's collector ledger (store.h, ds_store_ledger_ops), kept out
 * of store_sqlite.c, which holds the chunk engine.  Internal to src/store; the functions are the
 * ledger ops over the store's connection (store_sqlite.c's wrappers pass it). */
#include <sqlite3.h>
#include <xxhash.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/sqlite_int.h"
#include "store/store.h"

/* ---- collector ledger (issue #5) ------------------------------------------------------------
 * Two tables of their own, created by the first ledger_put, so stores made before the collector
 * existed keep their schema version and readers of them see no ledger (DS_ENOTFOUND, no rows). */
static const char LEDGER_SCHEMA[] =
    "CREATE TABLE IF NOT EXISTS collector_segments(sensor TEXT NOT NULL, seq INTEGER NOT NULL, hash BLOB NOT NULL,"
    "  packets INTEGER NOT NULL, bytes INTEGER NOT NULL, committed_at INTEGER NOT NULL, PRIMARY KEY(sensor, seq));"
    "CREATE TABLE IF NOT EXISTS collector_health(name TEXT PRIMARY KEY, last_seen INTEGER NOT NULL,"
    "  last_upload INTEGER NOT NULL, last_segment INTEGER NOT NULL, segments INTEGER NOT NULL,"
    "  packets INTEGER NOT NULL, last_ns INTEGER NOT NULL, kernel_drops INTEGER, spool_bytes INTEGER);";

static int ledger_exists(sqlite3 *db)
{
    sqlite3_stmt *q = NULL;
    int n = 0;
    if (sqlite3_prepare_v2(db, "SELECT count(*) FROM sqlite_master WHERE type='table' AND name='collector_segments'",
                           -1, &q, NULL) == SQLITE_OK && sqlite3_step(q) == SQLITE_ROW)
        n = sqlite3_column_int(q, 0);
    sqlite3_finalize(q);
    return n > 0;
}

/* The capture span of a segment (collector_segments first_ns, last_ns: sensor_silent's cause),
 * added after the table was first made.  The first ledger_put migrates a ledger written before
 * them (ALTER TABLE ADD COLUMN inside its transaction; the old rows read 0, "unknown"), and like
 * the ledger tables themselves this leaves schema_version alone: a reader of a ledger that has
 * not been migrated yet reads 0 too. */
static int ledger_has_span(sqlite3 *db)
{
    sqlite3_stmt *q = NULL;
    int n = 0;
    if (sqlite3_prepare_v2(db, "SELECT count(*) FROM pragma_table_info('collector_segments') WHERE name='last_ns'",
                           -1, &q, NULL) == SQLITE_OK && sqlite3_step(q) == SQLITE_ROW)
        n = sqlite3_column_int(q, 0);
    sqlite3_finalize(q);
    return n > 0;
}

static ds_rc ledger_add_span(sqlite3 *db, ds_err *err)
{
    if (ledger_has_span(db))
        return DS_OK;
    return ds_sqlite_exec(db, "ALTER TABLE collector_segments ADD COLUMN first_ns INTEGER NOT NULL DEFAULT 0;"
                   "ALTER TABLE collector_segments ADD COLUMN last_ns INTEGER NOT NULL DEFAULT 0;", err);
}

static sqlite3_int64 span_ns(uint64_t ns) { return ns > (uint64_t)INT64_MAX ? 0 : (sqlite3_int64)ns; }

/* A collector_segments row's hash, packets, bytes, committed_at, from column `col` on. */
static void segment_from_row(sqlite3_stmt *q, int col, ds_segment_rec *r)
{
    if (sqlite3_column_bytes(q, col) == 16)
        memcpy(r->hash, sqlite3_column_blob(q, col), 16);
    r->packets = (uint64_t)sqlite3_column_int64(q, col + 1);
    r->bytes = (uint64_t)sqlite3_column_int64(q, col + 2);
    r->committed_at = sqlite3_column_int64(q, col + 3);
}

ds_rc ds_sqlite_segment_get(sqlite3 *db, const char *sensor, uint64_t seq, ds_segment_rec *out, ds_err *err)
{
    sqlite3_stmt *q = NULL;
    ds_rc rc = DS_ENOTFOUND;
    if (!ledger_exists(db))
        return DS_ENOTFOUND;
    if (sqlite3_prepare_v2(db, "SELECT hash, packets, bytes, committed_at FROM collector_segments"
                           " WHERE sensor=? AND seq=?", -1, &q, NULL) != SQLITE_OK)
        return ds_sqlite_fail(db, "segments", err);
    sqlite3_bind_text(q, 1, sensor, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 2, (sqlite3_int64)seq);
    int st = sqlite3_step(q);
    if (st == SQLITE_ROW) {
        memset(out, 0, sizeof *out);
        snprintf(out->sensor, sizeof out->sensor, "%s", sensor);
        out->seq = seq;
        segment_from_row(q, 0, out);
        rc = DS_OK;
    } else if (st != SQLITE_DONE) {
        rc = ds_sqlite_fail(db, "segments", err);
    }
    sqlite3_finalize(q);
    return rc;
}

ds_rc ds_sqlite_ledger_put(sqlite3 *db, const ds_segment_rec *seg, const ds_sensor_health *h, ds_err *err)
{
    sqlite3_stmt *q = NULL;
    ds_rc rc;
    int added = 0;
    /* The collector answers 200 on this commit and the sensor then deletes its copy, so it must
     * survive power loss: FULL syncs the WAL at commit, and that sync also covers the ingest's
     * transaction before it (same WAL), which NORMAL left unsynced.  This handle only. */
    if ((rc = ds_sqlite_exec(db, "PRAGMA synchronous=FULL", err)) != DS_OK)
        return rc;
    if ((rc = ds_sqlite_exec(db, "BEGIN IMMEDIATE", err)) != DS_OK)
        return rc;
    if ((rc = ds_sqlite_exec(db, LEDGER_SCHEMA, err)) != DS_OK || (rc = ledger_add_span(db, err)) != DS_OK)
        goto out;
    if (seg) {
        if (sqlite3_prepare_v2(db, "INSERT OR IGNORE INTO collector_segments(sensor, seq, hash, packets, bytes,"
                               " committed_at, first_ns, last_ns) VALUES(?,?,?,?,?,?,?,?)", -1, &q, NULL) != SQLITE_OK) {
            rc = ds_sqlite_fail(db, "segments", err);
            goto out;
        }
        sqlite3_bind_text(q, 1, seg->sensor, -1, SQLITE_STATIC);
        sqlite3_bind_int64(q, 2, (sqlite3_int64)seg->seq);
        sqlite3_bind_blob(q, 3, seg->hash, 16, SQLITE_STATIC);
        sqlite3_bind_int64(q, 4, (sqlite3_int64)seg->packets);
        sqlite3_bind_int64(q, 5, (sqlite3_int64)seg->bytes);
        sqlite3_bind_int64(q, 6, seg->committed_at);
        sqlite3_bind_int64(q, 7, span_ns(seg->first_ns));
        sqlite3_bind_int64(q, 8, span_ns(seg->last_ns));
        if (sqlite3_step(q) != SQLITE_DONE) {
            rc = ds_sqlite_fail(db, "segments", err);
            goto out;
        }
        added = sqlite3_changes(db) > 0;   /* a segment recorded twice is counted once */
        sqlite3_finalize(q);
        q = NULL;
    }
    if (h) {
        if (sqlite3_prepare_v2(db,
                               "INSERT INTO collector_health VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9) ON CONFLICT(name) DO UPDATE SET"
                               " last_seen=max(last_seen, excluded.last_seen),"
                               " last_upload=CASE WHEN ?5 > 0 THEN max(last_upload, excluded.last_upload) ELSE last_upload END,"
                               " last_segment=CASE WHEN ?5 > 0 THEN excluded.last_segment ELSE last_segment END,"
                               " segments=segments + excluded.segments, packets=packets + excluded.packets,"
                               " last_ns=max(last_ns, excluded.last_ns),"
                               " kernel_drops=coalesce(excluded.kernel_drops, kernel_drops),"
                               " spool_bytes=coalesce(excluded.spool_bytes, spool_bytes)",
                               -1, &q, NULL) != SQLITE_OK) {
            rc = ds_sqlite_fail(db, "health", err);
            goto out;
        }
        uint64_t nseg = seg ? (uint64_t)added : 0;
        sqlite3_bind_text(q, 1, h->name, -1, SQLITE_STATIC);
        sqlite3_bind_int64(q, 2, h->last_seen);
        sqlite3_bind_int64(q, 3, nseg ? h->last_upload : 0);
        sqlite3_bind_int64(q, 4, nseg ? (sqlite3_int64)seg->seq : 0);
        sqlite3_bind_int64(q, 5, (sqlite3_int64)nseg);
        sqlite3_bind_int64(q, 6, nseg ? (sqlite3_int64)seg->packets : 0);
        sqlite3_bind_int64(q, 7, (sqlite3_int64)h->last_ns);
        if (h->have & DS_HEALTH_HAVE_DROPS)
            sqlite3_bind_int64(q, 8, (sqlite3_int64)h->kernel_drops);
        else
            sqlite3_bind_null(q, 8);
        if (h->have & DS_HEALTH_HAVE_SPOOL)
            sqlite3_bind_int64(q, 9, (sqlite3_int64)h->spool_bytes);
        else
            sqlite3_bind_null(q, 9);
        if (sqlite3_step(q) != SQLITE_DONE) {
            rc = ds_sqlite_fail(db, "health", err);
            goto out;
        }
    }
    rc = ds_sqlite_exec(db, "COMMIT", err);
out:
    sqlite3_finalize(q);
    if (rc != DS_OK)
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

ds_rc ds_sqlite_sensor_health(sqlite3 *db, ds_sensor_health **rows, size_t *n, ds_err *err)
{
    sqlite3_stmt *q = NULL;
    ds_rc rc = DS_OK;
    size_t cap = 0;
    *rows = NULL;
    *n = 0;
    if (!ledger_exists(db))
        return DS_OK;
    if (sqlite3_prepare_v2(db, "SELECT name, last_seen, last_upload, last_segment, segments, packets, last_ns,"
                           " kernel_drops, spool_bytes FROM collector_health ORDER BY name", -1, &q, NULL) != SQLITE_OK)
        return ds_sqlite_fail(db, "health", err);
    while (sqlite3_step(q) == SQLITE_ROW) {
        ds_sensor_health *r = ds_sqlite_row_append((void **)rows, n, &cap, sizeof *r);
        if (!r) {
            rc = ds_fail(err, DS_ENOMEM, "out of memory");
            break;
        }
        snprintf(r->name, sizeof r->name, "%s", (const char *)sqlite3_column_text(q, 0));
        r->last_seen = sqlite3_column_int64(q, 1);
        r->last_upload = sqlite3_column_int64(q, 2);
        r->last_segment = (uint64_t)sqlite3_column_int64(q, 3);
        r->segments = (uint64_t)sqlite3_column_int64(q, 4);
        r->packets = (uint64_t)sqlite3_column_int64(q, 5);
        r->last_ns = (uint64_t)sqlite3_column_int64(q, 6);
        if (sqlite3_column_type(q, 7) != SQLITE_NULL) {
            r->kernel_drops = (uint64_t)sqlite3_column_int64(q, 7);
            r->have |= DS_HEALTH_HAVE_DROPS;
        }
        if (sqlite3_column_type(q, 8) != SQLITE_NULL) {
            r->spool_bytes = (uint64_t)sqlite3_column_int64(q, 8);
            r->have |= DS_HEALTH_HAVE_SPOOL;
        }
    }
    sqlite3_finalize(q);
    return rc;
}

/* The segments of one sensor in a commit-time range, the one before and the one after (sensor_silent). */
ds_rc ds_sqlite_segments_list(sqlite3 *db, const char *sensor, int64_t from, int64_t to, ds_segment_rec **rows,
                              size_t *n, ds_err *err)
{
    sqlite3_stmt *q = NULL;
    ds_rc rc = DS_OK;
    size_t cap = 0;
    *rows = NULL;
    *n = 0;
    if (!ledger_exists(db))
        return DS_OK;
    char sql[640];
    snprintf(sql, sizeof sql,
             "SELECT seq, hash, packets, bytes, committed_at, %s FROM collector_segments WHERE sensor=?1"
             " AND committed_at >= coalesce((SELECT max(committed_at) FROM collector_segments"
             " WHERE sensor=?1 AND committed_at < ?2), ?2) AND committed_at <= coalesce((SELECT"
             " min(committed_at) FROM collector_segments WHERE sensor=?1 AND committed_at > ?3), ?3)"
             " ORDER BY committed_at, seq",
             ledger_has_span(db) ? "first_ns, last_ns" : "0, 0");
    if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK)
        return ds_sqlite_fail(db, "segments", err);
    sqlite3_bind_text(q, 1, sensor, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 2, from);
    sqlite3_bind_int64(q, 3, to);
    int st;
    while ((st = sqlite3_step(q)) == SQLITE_ROW) {
        ds_segment_rec *r = ds_sqlite_row_append((void **)rows, n, &cap, sizeof *r);
        if (!r) {
            rc = ds_fail(err, DS_ENOMEM, "out of memory listing the segments of sensor %s", sensor);
            goto out;
        }
        snprintf(r->sensor, sizeof r->sensor, "%s", sensor);
        r->seq = (uint64_t)sqlite3_column_int64(q, 0);
        segment_from_row(q, 1, r);
        r->first_ns = (uint64_t)sqlite3_column_int64(q, 5);
        r->last_ns = (uint64_t)sqlite3_column_int64(q, 6);
    }
    if (st != SQLITE_DONE)
        rc = ds_sqlite_fail(db, "segments", err);
out:
    sqlite3_finalize(q);
    if (rc != DS_OK) {
        free(*rows);
        *rows = NULL;
        *n = 0;
    }
    return rc;
}
