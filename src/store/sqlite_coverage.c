/* sqlite_coverage.c: the coverage table of the SQLite backend.
 *
 * One row per (file, sensor): where the span came from, the span itself (ns), and the packets of
 * each UTC hour of it as a BLOB of little-endian uint32 (a quarter is 2,208 hours, 8.8 KB; a
 * live sensor's one-minute segment is one or two hours).  Rows are few (files x sensors), so a
 * period's rows are read whole and joined in memory by analysis/coverage.c.  SQLite integers are
 * signed: spans are stored as given and checked on the way out (a row whose span is reversed or
 * whose BLOB is not whole uint32s is reported as damaged, never guessed at).
 */
#include "store/sqlite_coverage.h"
#include "store/sqlite_int.h"

#include <stdlib.h>
#include <string.h>


ds_rc ds_sqlite_coverage_put(sqlite3 *db, const char *name, const ds_coverage_row *row, ds_err *err)
{
    sqlite3_stmt *q = NULL;
    uint8_t *blob = NULL;
    ds_rc rc = DS_OK;
    if (row->first_ns > (uint64_t)INT64_MAX || row->last_ns > (uint64_t)INT64_MAX || row->last_ns < row->first_ns ||
        (row->hours && row->nhours > (size_t)INT32_MAX / 4))
        return ds_fail(err, DS_EINVAL, "store %s: coverage span %llu..%llu cannot be stored", name,
                       (unsigned long long)row->first_ns, (unsigned long long)row->last_ns);
    if (row->hours && row->nhours) {
        if (!(blob = malloc(row->nhours * 4)))
            return ds_fail(err, DS_ENOMEM, "out of memory");
        for (size_t i = 0; i < row->nhours; i++) {
            uint32_t v = row->hours[i];
            blob[4 * i] = (uint8_t)v;
            blob[4 * i + 1] = (uint8_t)(v >> 8);
            blob[4 * i + 2] = (uint8_t)(v >> 16);
            blob[4 * i + 3] = (uint8_t)(v >> 24);
        }
    }
    if (sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO coverage VALUES(?,?,?,?,?,?,?)", -1, &q, NULL) != SQLITE_OK) {
        rc = ds_sqlite_fail(db, "coverage", err);
        goto out;
    }
    sqlite3_bind_int64(q, 1, row->file_id);
    sqlite3_bind_int64(q, 2, row->sensor_id);
    sqlite3_bind_int(q, 3, row->source);
    sqlite3_bind_int64(q, 4, (sqlite3_int64)row->first_ns);
    sqlite3_bind_int64(q, 5, (sqlite3_int64)row->last_ns);
    sqlite3_bind_int64(q, 6, row->hour0);
    if (blob)
        sqlite3_bind_blob(q, 7, blob, (int)(row->nhours * 4), SQLITE_STATIC);
    else
        sqlite3_bind_null(q, 7);
    if (sqlite3_step(q) != SQLITE_DONE)
        rc = ds_sqlite_fail(db, "coverage", err);
out:
    sqlite3_finalize(q);
    free(blob);
    return rc;
}

ds_rc ds_sqlite_coverage_scan(sqlite3 *db, const char *name, uint64_t from_ns, uint64_t to_ns, ds_coverage_fn fn,
                              void *ctx, ds_err *err)
{
    sqlite3_stmt *q = NULL;
    uint32_t *hours = NULL;
    size_t cap = 0;
    ds_rc rc = DS_OK;
    int st;
    if (from_ns > (uint64_t)INT64_MAX)
        return DS_OK;
    if (to_ns > (uint64_t)INT64_MAX)
        to_ns = (uint64_t)INT64_MAX;
    if (sqlite3_prepare_v2(db, "SELECT file_id, sensor_id, source, first_ns, last_ns, hour0, hours FROM coverage"
                               " WHERE first_ns <= ? AND last_ns >= ? ORDER BY sensor_id, first_ns, file_id",
                           -1, &q, NULL) != SQLITE_OK)
        return ds_sqlite_fail(db, "coverage", err);
    sqlite3_bind_int64(q, 1, (sqlite3_int64)to_ns);
    sqlite3_bind_int64(q, 2, (sqlite3_int64)from_ns);
    while ((st = sqlite3_step(q)) == SQLITE_ROW) {
        ds_coverage_row r = { 0 };
        r.file_id = sqlite3_column_int64(q, 0);
        r.sensor_id = sqlite3_column_int64(q, 1);
        r.source = sqlite3_column_int(q, 2);
        sqlite3_int64 f = sqlite3_column_int64(q, 3), l = sqlite3_column_int64(q, 4);
        r.hour0 = sqlite3_column_int64(q, 5);
        const uint8_t *b = sqlite3_column_blob(q, 6);
        size_t blen = (size_t)sqlite3_column_bytes(q, 6);
        if (f < 0 || l < f || blen % 4 || r.hour0 < 0 || r.hour0 > INT64_MAX / 3600) {
            rc = ds_fail(err, DS_ESTORE, "store %s: coverage row of file %lld, sensor %lld is damaged", name,
                         (long long)r.file_id, (long long)r.sensor_id);
            break;
        }
        r.first_ns = (uint64_t)f;
        r.last_ns = (uint64_t)l;
        r.nhours = blen / 4;
        if (b && r.nhours) {
            if (r.nhours > cap) {
                uint32_t *n = realloc(hours, r.nhours * sizeof *n);
                if (!n) {
                    rc = ds_fail(err, DS_ENOMEM, "out of memory");
                    break;
                }
                hours = n;
                cap = r.nhours;
            }
            for (size_t i = 0; i < r.nhours; i++)
                hours[i] = (uint32_t)b[4 * i] | (uint32_t)b[4 * i + 1] << 8 | (uint32_t)b[4 * i + 2] << 16 |
                           (uint32_t)b[4 * i + 3] << 24;
            r.hours = hours;
        } else {
            r.nhours = 0;
        }
        if ((rc = fn(ctx, &r, err)) != DS_OK)
            break;
    }
    if (rc == DS_OK && st != SQLITE_DONE)
        rc = ds_sqlite_fail(db, "coverage", err);
    sqlite3_finalize(q);
    free(hours);
    return rc;
}

ds_rc ds_sqlite_coverage_span(sqlite3 *db, const char *name, uint64_t *first_ns, uint64_t *last_ns, ds_err *err)
{
    sqlite3_stmt *q = NULL;
    ds_rc rc = DS_ENOTFOUND;
    if (sqlite3_prepare_v2(db, "SELECT min(first_ns), max(last_ns) FROM coverage", -1, &q, NULL) != SQLITE_OK)
        return ds_sqlite_fail(db, "coverage", err);
    int st = sqlite3_step(q);
    if (st == SQLITE_ROW && sqlite3_column_type(q, 0) != SQLITE_NULL) {
        sqlite3_int64 f = sqlite3_column_int64(q, 0), l = sqlite3_column_int64(q, 1);
        if (f < 0 || l < f) {
            rc = ds_fail(err, DS_ESTORE, "store %s: the coverage table is damaged (span %lld..%lld)", name,
                         (long long)f, (long long)l);
        } else {
            *first_ns = (uint64_t)f;
            *last_ns = (uint64_t)l;
            rc = DS_OK;
        }
    } else if (st != SQLITE_ROW) {
        rc = ds_sqlite_fail(db, "coverage", err);
    }
    sqlite3_finalize(q);
    return rc;
}
