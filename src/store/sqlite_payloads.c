/* sqlite_payloads.c: the SQLite backend's first payloads (store.h, ds_store_payload_ops), kept
 * out of store_sqlite.c.  Internal to src/store; the functions are the payload ops over the
 * store's connection (store_sqlite.c's wrappers pass it). */
#include <sqlite3.h>
#include <xxhash.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/sqlite_int.h"
#include "store/store.h"

/* ---- first payloads (issue #5, --respond syn) --------------------------------------------------
 * Three tables of their own, created by the first payloads_put as the ledger's are, so older
 * stores keep their schema version and a store without payloads answers with no rows.
 * payload_files makes an upload idempotent: a retried (sensor, seq, hash) finds its row and
 * changes nothing.  payload_data holds each distinct content once, by XXH3-128: the same HTTP GET
 * or Mirai login arrives millions of times, and the rows then cost ~80 bytes each.  The
 * (proto, dport, ts_ns) index answers `payloads --service` and the report's focus sections;
 * ts_ns alone answers a time range over every service. */
static const char PAYLOAD_SCHEMA[] =
    "CREATE TABLE IF NOT EXISTS payload_files(sensor TEXT NOT NULL, seq INTEGER NOT NULL, hash BLOB NOT NULL,"
    "  rows INTEGER NOT NULL, committed_at INTEGER NOT NULL, PRIMARY KEY(sensor, seq, hash));"
    "CREATE TABLE IF NOT EXISTS payload_data(hash BLOB PRIMARY KEY, data BLOB NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS payloads(id INTEGER PRIMARY KEY, sensor TEXT NOT NULL, file_seq INTEGER NOT NULL,"
    "  ts_ns INTEGER NOT NULL, src TEXT NOT NULL, sport INTEGER NOT NULL, dst TEXT NOT NULL, dport INTEGER NOT NULL,"
    "  proto INTEGER NOT NULL, tcp_seq INTEGER NOT NULL, len INTEGER NOT NULL, hash BLOB NOT NULL);"
    "CREATE INDEX IF NOT EXISTS payloads_service_ts ON payloads(proto, dport, ts_ns);"
    "CREATE INDEX IF NOT EXISTS payloads_ts ON payloads(ts_ns);";

static int payload_tables_exist(sqlite3 *db)
{
    sqlite3_stmt *q = NULL;
    int n = 0;
    if (sqlite3_prepare_v2(db, "SELECT count(*) FROM sqlite_master WHERE type='table' AND name IN"
                           " ('payloads','payload_data')", -1, &q, NULL) == SQLITE_OK && sqlite3_step(q) == SQLITE_ROW)
        n = sqlite3_column_int(q, 0);
    sqlite3_finalize(q);
    return n == 2;
}

static void payload_hash(const uint8_t *data, size_t len, uint8_t out[16])
{
    XXH128_canonical_t c;
    XXH128_canonicalFromHash(&c, XXH3_128bits(data, len));
    memcpy(out, c.digest, 16);
}

ds_rc ds_sqlite_payloads_put(sqlite3 *db, const ds_payload_batch *b, ds_err *err)
{
    sqlite3_stmt *seen = NULL, *data = NULL, *row = NULL, *file = NULL;
    ds_rc rc;
    for (size_t i = 0; i < b->n; i++)   /* refuse before writing anything */
        if (b->rows[i].data_len > DS_PAYLOAD_MAX || b->rows[i].ts_ns > (uint64_t)INT64_MAX ||
            (b->rows[i].data_len && !b->rows[i].data))
            return ds_fail(err, DS_EINVAL, "store: payload %zu of sensor %s file %llu is out of range", i + 1,
                           b->sensor, (unsigned long long)b->seq);
    /* the collector answers 200 on this commit and the sensor then deletes its file: as ledger_put */
    if ((rc = ds_sqlite_exec(db, "PRAGMA synchronous=FULL", err)) != DS_OK)
        return rc;
    if ((rc = ds_sqlite_exec(db, "BEGIN IMMEDIATE", err)) != DS_OK)
        return rc;
    if ((rc = ds_sqlite_exec(db, PAYLOAD_SCHEMA, err)) != DS_OK)
        goto out;
    if (sqlite3_prepare_v2(db, "SELECT 1 FROM payload_files WHERE sensor=? AND seq=? AND hash=?", -1, &seen, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, "INSERT OR IGNORE INTO payload_data VALUES(?,?)", -1, &data, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, "INSERT INTO payloads(sensor, file_seq, ts_ns, src, sport, dst, dport, proto, tcp_seq,"
                           " len, hash) VALUES(?,?,?,?,?,?,?,?,?,?,?)", -1, &row, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, "INSERT INTO payload_files VALUES(?,?,?,?,?)", -1, &file, NULL) != SQLITE_OK) {
        rc = ds_sqlite_fail(db, "payloads", err);
        goto out;
    }
    sqlite3_bind_text(seen, 1, b->sensor, -1, SQLITE_STATIC);
    sqlite3_bind_int64(seen, 2, (sqlite3_int64)b->seq);
    sqlite3_bind_blob(seen, 3, b->hash, 16, SQLITE_STATIC);
    int st = sqlite3_step(seen);
    if (st == SQLITE_ROW) {
        rc = ds_fail(err, DS_EEXIST, "payload file %llu of sensor %s is already stored", (unsigned long long)b->seq,
                     b->sensor);
        goto out;
    }
    if (st != SQLITE_DONE) {
        rc = ds_sqlite_fail(db, "payloads", err);
        goto out;
    }
    for (size_t i = 0; i < b->n; i++) {
        const ds_payload *p = &b->rows[i];
        uint8_t h[16];
        static const uint8_t none = 0;
        payload_hash(p->data_len ? p->data : &none, p->data_len, h);
        sqlite3_reset(data);
        sqlite3_bind_blob(data, 1, h, 16, SQLITE_STATIC);
        sqlite3_bind_blob(data, 2, p->data_len ? (const void *)p->data : (const void *)&none, (int)p->data_len,
                          SQLITE_STATIC);
        sqlite3_reset(row);
        sqlite3_bind_text(row, 1, b->sensor, -1, SQLITE_STATIC);
        sqlite3_bind_int64(row, 2, (sqlite3_int64)b->seq);
        sqlite3_bind_int64(row, 3, (sqlite3_int64)p->ts_ns);
        sqlite3_bind_text(row, 4, p->src, -1, SQLITE_STATIC);
        sqlite3_bind_int(row, 5, p->sport);
        sqlite3_bind_text(row, 6, p->dst, -1, SQLITE_STATIC);
        sqlite3_bind_int(row, 7, p->dport);
        sqlite3_bind_int(row, 8, p->proto);
        sqlite3_bind_int64(row, 9, p->tcp_seq);
        sqlite3_bind_int64(row, 10, p->len);
        sqlite3_bind_blob(row, 11, h, 16, SQLITE_STATIC);
        if (sqlite3_step(data) != SQLITE_DONE || sqlite3_step(row) != SQLITE_DONE) {
            rc = ds_sqlite_fail(db, "payloads", err);
            goto out;
        }
    }
    sqlite3_bind_text(file, 1, b->sensor, -1, SQLITE_STATIC);
    sqlite3_bind_int64(file, 2, (sqlite3_int64)b->seq);
    sqlite3_bind_blob(file, 3, b->hash, 16, SQLITE_STATIC);
    sqlite3_bind_int64(file, 4, (sqlite3_int64)b->n);
    sqlite3_bind_int64(file, 5, b->committed_at);
    if (sqlite3_step(file) != SQLITE_DONE) {
        rc = ds_sqlite_fail(db, "payloads", err);
        goto out;
    }
    rc = ds_sqlite_exec(db, "COMMIT", err);
out:
    sqlite3_finalize(seen);
    sqlite3_finalize(data);
    sqlite3_finalize(row);
    sqlite3_finalize(file);
    if (rc != DS_OK)
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

/* The WHERE clause of q over payloads p, with its parameters numbered from 1 in this order:
 * sensor, proto, dport, from, to.  Only the conditions q has are written, so that the planner
 * sees the index it can use. */
static void payload_where(const ds_payload_query *q, char *buf, size_t len)
{
    snprintf(buf, len, " WHERE p.ts_ns >= ?4%s%s%s%s", q->sensor ? " AND p.sensor = ?1" : "",
             q->have_service ? " AND p.proto = ?2 AND p.dport = ?3" : "", q->to_ns ? " AND p.ts_ns < ?5" : "",
             q->source ? " AND p.src = ?7" : "");
}

static void payload_bind(sqlite3_stmt *st, const ds_payload_query *q)
{
    if (q->sensor)
        sqlite3_bind_text(st, 1, q->sensor, -1, SQLITE_STATIC);
    if (q->have_service) {
        sqlite3_bind_int(st, 2, (int)(q->service >> 16 & 0xff));
        sqlite3_bind_int(st, 3, (int)(q->service & 0xffff));
    }
    sqlite3_bind_int64(st, 4, q->from_ns > (uint64_t)INT64_MAX ? INT64_MAX : (sqlite3_int64)q->from_ns);
    if (q->to_ns)
        sqlite3_bind_int64(st, 5, q->to_ns > (uint64_t)INT64_MAX ? INT64_MAX : (sqlite3_int64)q->to_ns);
    if (q->source)
        sqlite3_bind_text(st, 7, q->source, -1, SQLITE_STATIC);
}

static void column_text(sqlite3_stmt *q, int col, char *out, size_t len)
{
    const unsigned char *t = sqlite3_column_text(q, col);
    snprintf(out, len, "%s", t ? (const char *)t : "");
}

ds_rc ds_sqlite_payloads_query(sqlite3 *db, const ds_payload_query *q, ds_payload_row **rows, size_t *n,
                               uint64_t *total, ds_err *err)
{
    sqlite3_stmt *st = NULL;
    char where[160], sql[1024];
    ds_rc rc = DS_OK;
    size_t cap = 0;
    *rows = NULL;
    *n = 0;
    *total = 0;
    if (!payload_tables_exist(db))
        return DS_OK;
    payload_where(q, where, sizeof where);
    if (q->top)
        snprintf(sql, sizeof sql, "SELECT count(*) FROM (SELECT 1 FROM payloads p%s GROUP BY p.proto, p.dport, p.hash)", where);
    else
        snprintf(sql, sizeof sql, "SELECT count(*) FROM payloads p%s", where);
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return ds_sqlite_fail(db, "payloads", err);
    payload_bind(st, q);
    if (sqlite3_step(st) != SQLITE_ROW) {
        rc = ds_sqlite_fail(db, "payloads", err);
        goto out;
    }
    *total = (uint64_t)sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    st = NULL;
    /* columns: sensor, first, last, src, sport, dst, dport, proto, tcp_seq, len, hash, count, sources, data.
     * Order contract (store.h, payloads_query): content only, never the row id (upload order);
     * text columns compare as SQLite's BINARY collation does (memcmp), as strcmp in
     * analysis/payloads_exclude.c. */
    if (q->top)
        snprintf(sql, sizeof sql,
                 "SELECT '', min(p.ts_ns), max(p.ts_ns), min(p.src), 0, min(p.dst), p.dport, p.proto, 0, max(p.len), p.hash,"
                 " count(*), count(DISTINCT p.src), (SELECT data FROM payload_data d WHERE d.hash = p.hash)"
                 " FROM payloads p%s GROUP BY p.proto, p.dport, p.hash"
                 " ORDER BY count(*) DESC, count(DISTINCT p.src) DESC, min(p.ts_ns), p.hash, p.proto, p.dport LIMIT ?6",
                 where);
    else
        snprintf(sql, sizeof sql,
                 "SELECT p.sensor, p.ts_ns, p.ts_ns, p.src, p.sport, p.dst, p.dport, p.proto, p.tcp_seq, p.len, p.hash, 1, 1,"
                 " (SELECT data FROM payload_data d WHERE d.hash = p.hash)"
                 " FROM payloads p%s ORDER BY p.ts_ns, p.sensor, p.src, p.sport, p.dst, p.dport, p.proto, p.tcp_seq,"
                 " p.hash, p.len LIMIT ?6",
                 where);
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return ds_sqlite_fail(db, "payloads", err);
    payload_bind(st, q);
    sqlite3_bind_int64(st, 6, q->limit && q->limit <= (size_t)INT64_MAX ? (sqlite3_int64)q->limit : -1);
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        ds_payload_row *r = ds_sqlite_row_append((void **)rows, n, &cap, sizeof *r);
        if (!r) {
            rc = ds_fail(err, DS_ENOMEM, "out of memory");
            goto out;
        }
        column_text(st, 0, r->sensor, sizeof r->sensor);
        r->first_ns = (uint64_t)sqlite3_column_int64(st, 1);
        r->last_ns = (uint64_t)sqlite3_column_int64(st, 2);
        column_text(st, 3, r->src, sizeof r->src);
        r->sport = (uint16_t)sqlite3_column_int(st, 4);
        column_text(st, 5, r->dst, sizeof r->dst);
        r->dport = (uint16_t)sqlite3_column_int(st, 6);
        r->proto = (uint8_t)sqlite3_column_int(st, 7);
        r->tcp_seq = (uint32_t)sqlite3_column_int64(st, 8);
        r->len = (uint32_t)sqlite3_column_int64(st, 9);
        if (sqlite3_column_bytes(st, 10) == 16)
            memcpy(r->hash, sqlite3_column_blob(st, 10), 16);
        r->count = (uint64_t)sqlite3_column_int64(st, 11);
        r->sources = (uint64_t)sqlite3_column_int64(st, 12);
        const void *d = sqlite3_column_blob(st, 13);
        size_t dl = (size_t)sqlite3_column_bytes(st, 13);
        if (!(r->data = malloc(dl ? dl : 1))) {
            rc = ds_fail(err, DS_ENOMEM, "out of memory");
            goto out;
        }
        if (dl && d)
            memcpy(r->data, d, dl);
        r->data_len = d ? dl : 0;
    }
    if (step != SQLITE_DONE)
        rc = ds_sqlite_fail(db, "payloads", err);
out:
    sqlite3_finalize(st);
    if (rc != DS_OK) {
        ds_payload_rows_free(*rows, *n);
        *rows = NULL;
        *n = 0;
    }
    return rc;
}
