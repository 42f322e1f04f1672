/* ch_months.c: month rollups on ClickHouse (ds_store_month_ops, store/rollup_months.h).
 *
 * Why.  The SQLite store's month chunks (kinds 40-43, docs/store.md "Month rollups") make a
 * month's `top ports` and the report's month cubes read one united source set per (sensor,
 * month, dimension) instead of thirty days of them.  On ClickHouse the same day rollup chunks
 * (kinds 32-35) are in `chunks`, but the month's union was computed again at every read (the
 * rollup_* tables' uniqExactMerge over per-(day, file) states, or the day chunks): `top ports`
 * 2.1 s on bench/cluster_month.sh 4's cluster against 0.2 s on SQLite.  So the ClickHouse store
 * keeps them too, built by the generic code (rollup_months.c: after an ingest, for each closed
 * month that lacks them), stored here and read through scan (ch_chunks.c sends kinds 40-43 here).
 *
 * Exact without transactions: a signature instead of a deletion.  SQLite deletes a month's
 * chunks in the transaction of any file that changes its day chunks; ClickHouse has none.  Each
 * month row carries the signature of the files whose day rollup chunks it unites: the count of
 * those chunk rows and the sum (mod 2^64) of intHash64(file_id) over them, of live files only
 * (CH_COMMITTED).  A reader takes a month row only when its signature equals the one computed
 * from `chunks` in the same statement; any file committed or superseded since the build changes
 * it (a collision needs another set of files with the same count and the same 64-bit sum), and
 * then the month is read from its days, as when it was never built.  A build computes the
 * signature, reads the day chunks, and writes only if the signature is still the same
 * afterwards (put); the rows of older signatures are deleted then (a mutation: until it runs
 * they are only never read).  Limit: a file committed and superseded again while one build reads
 * its days (seconds) leaves the signature as it was with the file's chunks read: docs/clickhouse.md.
 *
 * Where: the table `rollup_months` on the store's server only, also in a cluster (a month row
 * unites every shard's chunks of the sensor; a few rows a sensor-month), one mark per row as
 * `chunks` (ch_chunks.c), the frames zstd-compressed as chunks are.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/records.h"
#include "core/rollup.h"
#include "store/ch_int.h"
#include "util/grow.h"
#include "util/timeutil.h"
#include <zstd.h>

const char CH_MONTHS_TABLE[] =
    "CREATE TABLE IF NOT EXISTS rollup_months (sensor_id Int64, month Date, kind UInt8, n UInt64, sig UInt64,"
    " nrec UInt64, data String, ver UInt64) ENGINE = MergeTree ORDER BY (kind, month, sensor_id)"
    " SETTINGS index_granularity = 1";

/* The signature of (sensor, month)'s day rollup chunks, grouped: "(sensor_id, m, n, sig)" rows of
 * the months whose first day is in [mfrom, mto] (sensor 0: every sensor's). */
#define SIG_SELECT "SELECT sensor_id, toStartOfMonth(day) AS m, count() AS n, sum(intHash64(file_id)) AS sig FROM chunks" \
                   " PREWHERE kind BETWEEN %d AND %d AND day BETWEEN toDate(%d) AND toDate(%d) WHERE %s" CH_COMMITTED     \
                   " GROUP BY sensor_id, m"

static void sens_cond(char *buf, size_t len, int64_t sensor_id)
{
    if (sensor_id > 0)
        snprintf(buf, len, "sensor_id = %lld AND ", (long long)sensor_id);
    else
        buf[0] = 0;
}

static ds_rc ch_month_sig(ds_store *base, int64_t sensor_id, int32_t month, uint64_t sig[2], ds_err *err)
{
    ch_store *s = (ch_store *)base;
    ch_buf out = { 0 };
    char sens[64];
    int32_t first, last;
    ds_month_span(month, &first, &last);
    sens_cond(sens, sizeof sens, sensor_id);
    ds_rc rc = ch_execf(&s->c, &out, err, "SELECT n, sig FROM (" SIG_SELECT ") FORMAT RowBinary",
                        DS_CHUNK_ROLLUP_SERVICE, DS_CHUNK_ROLLUP_ALL, (int)first, (int)last, sens);
    ch_rd r = { out.p, out.n, 0, 0 };
    sig[0] = sig[1] = 0;
    if (rc == DS_OK && out.n && (ch_get_u64(&r, &sig[0]) || ch_get_u64(&r, &sig[1])))
        rc = ds_fail(err, DS_ESTORE, "store %s: a month signature answer is cut short", s->c.where);
    ch_buf_free(&out);
    return rc;
}

static ds_rc ch_month_put(ds_store *base, int64_t sensor_id, int32_t month, const uint64_t sig[2],
                          uint8_t *const data[4], const size_t len[4], int *stale, ds_err *err)
{
    ch_store *s = (ch_store *)base;
    ch_buf body = { 0 };
    uint8_t *z = NULL;
    uint64_t now[2], ver = ds_now_ns();
    *stale = 0;
    ds_rc rc = ch_month_sig(base, sensor_id, month, now, err);   /* days read under this signature? */
    if (rc != DS_OK || now[0] != sig[0] || now[1] != sig[1]) {
        *stale = rc == DS_OK;
        return rc;
    }
    for (int dim = 0; dim < DS_ROLLUP__COUNT; dim++) {
        size_t bound = ZSTD_compressBound(len[dim]);
        uint8_t *nz = realloc(z, bound ? bound : 1);
        if (!nz) {
            rc = ds_fail(err, DS_ENOMEM, "out of memory compressing month rollups");
            goto out;
        }
        z = nz;
        size_t zl = ZSTD_compress(z, bound, data[dim], len[dim], 3);
        if (ZSTD_isError(zl)) {
            rc = ds_fail(err, DS_ESTORE, "store %s: zstd: %s", s->c.where, ZSTD_getErrorName(zl));
            goto out;
        }
        ch_rb_u64(&body, (uint64_t)sensor_id);
        ch_rb_u16(&body, (uint16_t)month);
        ch_rb_u8(&body, (uint8_t)(DS_CHUNK_MONTH_SERVICE + dim));
        ch_rb_u64(&body, sig[0]);
        ch_rb_u64(&body, sig[1]);
        ch_rb_u64(&body, (uint64_t)len[dim]);
        ch_rb_str(&body, z, zl);
        ch_rb_u64(&body, ver);
    }
    if (body.oom) {
        rc = ds_fail(err, DS_ENOMEM, "out of memory");
        goto out;
    }
    /* one INSERT, one block of an unpartitioned table: the four rows are seen together or not */
    rc = ch_exec(&s->c, "INSERT INTO rollup_months FORMAT RowBinary", &body, NULL, err);
    if (rc == DS_OK)   /* the rows of older signatures are never read again */
        rc = ch_execf(&s->c, NULL, err, "ALTER TABLE rollup_months DELETE WHERE sensor_id = %lld AND month = toDate(%d)"
                      " AND NOT (n = %llu AND sig = %llu)", (long long)sensor_id, (int)month,
                      (unsigned long long)sig[0], (unsigned long long)sig[1]);
out:
    free(z);
    ch_buf_free(&body);
    return rc;
}

typedef struct built { int64_t sensor; uint16_t month; uint64_t n, sig; } built;

static ds_rc ch_month_missing(ds_store *base, int32_t today, ds_sensor_day **rows, size_t *n, ds_err *err)
{
    ch_store *s = (ch_store *)base;
    ch_buf out = { 0 }, have = { 0 };
    built *b = NULL;
    size_t nb = 0, cb = 0, cap = 0;
    *rows = NULL;
    *n = 0;
    /* the months built, as they are now: their signatures */
    ds_rc rc = ch_execf(&s->c, &have, err, "SELECT DISTINCT sensor_id, month, n, sig FROM rollup_months WHERE kind = %d"
                        " FORMAT RowBinary", DS_CHUNK_MONTH_SERVICE);
    ch_rd r = { have.p, have.n, 0, 0 };
    while (rc == DS_OK && r.off < r.n) {
        built *x = ds_grow_push((void **)&b, &nb, &cb, sizeof *b, 16);
        uint64_t sid;
        if (!x) {
            rc = ds_fail(err, DS_ENOMEM, "out of memory");
            break;
        }
        if (ch_get_u64(&r, &sid) || ch_get_u16(&r, &x->month) || ch_get_u64(&r, &x->n) || ch_get_u64(&r, &x->sig))
            rc = ds_fail(err, DS_ESTORE, "store %s: a rollup_months answer is cut short", s->c.where);
        x->sensor = (int64_t)sid;
    }
    /* every (sensor, month) with day rollups: its signature, and the sensor's last such day */
    if (rc == DS_OK)
        rc = ch_execf(&s->c, &out, err, "SELECT a.sensor_id, a.m, a.n, a.sig, b.last FROM (SELECT sensor_id, toStartOfMonth(day)"
                      " AS m, count() AS n, sum(intHash64(file_id)) AS sig FROM chunks PREWHERE kind BETWEEN %d AND %d"
                      " WHERE " CH_COMMITTED " GROUP BY sensor_id, m) AS a ANY LEFT JOIN (SELECT sensor_id,"
                      " max(day) AS last FROM chunks PREWHERE kind BETWEEN %d AND %d WHERE " CH_COMMITTED
                      " GROUP BY sensor_id) AS b USING sensor_id ORDER BY a.sensor_id, a.m DESC FORMAT RowBinary",
                      DS_CHUNK_ROLLUP_SERVICE, DS_CHUNK_ROLLUP_ALL, DS_CHUNK_ROLLUP_SERVICE, DS_CHUNK_ROLLUP_ALL);
    r = (ch_rd){ out.p, out.n, 0, 0 };
    while (rc == DS_OK && r.off < r.n) {
        uint64_t sid, cnt, sig;
        uint16_t m, last;
        int32_t first, mlast;
        if (ch_get_u64(&r, &sid) || ch_get_u16(&r, &m) || ch_get_u64(&r, &cnt) || ch_get_u64(&r, &sig) ||
            ch_get_u16(&r, &last)) {
            rc = ds_fail(err, DS_ESTORE, "store %s: a month list answer is cut short", s->c.where);
            break;
        }
        ds_month_span(m, &first, &mlast);
        if (!(mlast < today || (int32_t)last >= mlast))
            continue;   /* not closed */
        int done = 0;
        for (size_t i = 0; i < nb && !done; i++)
            done = b[i].sensor == (int64_t)sid && b[i].month == m && b[i].n == cnt && b[i].sig == sig;
        if (done)
            continue;
        ds_sensor_day *x = ds_grow_push((void **)rows, n, &cap, sizeof **rows, 16);
        if (!x) {
            rc = ds_fail(err, DS_ENOMEM, "out of memory");
            break;
        }
        *x = (ds_sensor_day){ (int64_t)sid, m };
    }
    free(b);
    ch_buf_free(&out);
    ch_buf_free(&have);
    if (rc != DS_OK) {
        free(*rows);
        *rows = NULL;
        *n = 0;
    }
    return rc;
}

ds_rc ch_months_scan(ch_store *s, int kind, int64_t sensor_id, int32_t from, int32_t to, ds_scan_fn fn, void *ctx,
                     ds_err *err)
{
    ch_buf out = { 0 }, raw = { 0 };
    char sens[64];
    int32_t first, last, lfirst, llast;
    ds_month_span(from, &first, &last);
    ds_month_span(to, &lfirst, &llast);
    sens_cond(sens, sizeof sens, sensor_id);
    /* the rows whose signature is the one of the month's day chunks now (argMax: one row of a
     * signature that two builds both wrote) */
    ds_rc rc = ch_execf(&s->c, &out, err, "SELECT sensor_id, month, argMax(nrec, ver), argMax(data, ver) FROM rollup_months"
                        " PREWHERE kind = %d AND month BETWEEN toDate(%d) AND toDate(%d) WHERE %s(sensor_id, month, n, sig) IN"
                        " (" SIG_SELECT ") GROUP BY sensor_id, month ORDER BY month, sensor_id FORMAT RowBinary",
                        kind, (int)first, (int)lfirst, sens, DS_CHUNK_ROLLUP_SERVICE, DS_CHUNK_ROLLUP_ALL, (int)first,
                        (int)llast, sens);
    ch_rd r = { out.p, out.n, 0, 0 };
    while (rc == DS_OK && r.off < r.n) {
        uint64_t sid, nrec;
        uint16_t day;
        const uint8_t *z;
        size_t zlen;
        if (ch_get_u64(&r, &sid) || ch_get_u16(&r, &day) || ch_get_u64(&r, &nrec) || ch_get_str(&r, &z, &zlen)) {
            rc = ds_fail(err, DS_ESTORE, "store %s: the rollup_months answer is cut short", s->c.where);
            break;
        }
        if (!nrec || nrec > ((size_t)1 << 34)) {
            rc = ds_fail(err, DS_ESTORE, "store %s: a month rollup of kind %d claims %llu bytes", s->c.where, kind,
                         (unsigned long long)nrec);
            break;
        }
        if (raw.cap < nrec) {
            ch_buf_free(&raw);
            if (!(raw.p = malloc((size_t)nrec))) {
                rc = ds_fail(err, DS_ENOMEM, "out of memory reading a month rollup");
                break;
            }
            raw.cap = (size_t)nrec;
        }
        size_t got = ZSTD_decompress(raw.p, (size_t)nrec, z, zlen);
        if (ZSTD_isError(got) || got != nrec) {
            rc = ds_fail(err, DS_ESTORE, "store %s: a month rollup of kind %d is damaged", s->c.where, kind);
            break;
        }
        rc = fn(ctx, (int64_t)sid, (int32_t)day, raw.p, (size_t)nrec, err);
    }
    ch_buf_free(&out);
    ch_buf_free(&raw);
    return rc;
}

const ds_store_month_ops ch_month_ops = {
    .sig = ch_month_sig,
    .put = ch_month_put,
    .missing = ch_month_missing,
};
