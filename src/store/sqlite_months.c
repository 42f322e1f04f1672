/* sqlite_months.c: see sqlite_months.h. */
#include "store/sqlite_months.h"
#include "store/sqlite_int.h"

#include <stdlib.h>
#include <string.h>

#include "core/records.h"
#include "util/timeutil.h"

/* the kinds the SQL below names by number */
_Static_assert(DS_CHUNK_ROLLUP_SERVICE == 32 && DS_CHUNK_ROLLUP_ALL == 35, "day rollup kinds are 32..35");
_Static_assert(DS_CHUNK_MONTH_SERVICE == 40 && DS_CHUNK_MONTH_ALL == 43, "month rollup kinds are 40..43");

static ds_rc run(sqlite3 *db, const char *sql, int64_t a, int64_t b, ds_err *err)
{
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK)
        return ds_sqlite_fail(db, "month rollups", err);
    sqlite3_bind_int64(q, 1, a);
    sqlite3_bind_int64(q, 2, b);
    int st = sqlite3_step(q);
    sqlite3_finalize(q);
    return st == SQLITE_DONE ? DS_OK : ds_sqlite_fail(db, "month rollups", err);
}

ds_rc ds_sqlite_months_drop(sqlite3 *db, int64_t sensor_id, int32_t day, ds_err *err)
{
    int32_t first, last;
    ds_month_span(day, &first, &last);
    return run(db, "DELETE FROM chunks WHERE kind BETWEEN 40 AND 43 AND day = ?2 AND sensor_id = ?1", sensor_id, first,
               err);
}

ds_rc ds_sqlite_months_drop_file(sqlite3 *db, int64_t file_id, ds_err *err)
{
    sqlite3_stmt *q = NULL;
    ds_rc rc = DS_OK;
    /* one kind is enough: a file writes the four dimensions of a (sensor, day) together */
    if (sqlite3_prepare_v2(db, "SELECT DISTINCT sensor_id, day FROM chunks WHERE file_id = ?1 AND kind = 35", -1, &q,
                           NULL) != SQLITE_OK)
        return ds_sqlite_fail(db, "month rollups", err);
    sqlite3_bind_int64(q, 1, file_id);
    int st;
    while (rc == DS_OK && (st = sqlite3_step(q)) == SQLITE_ROW)
        rc = ds_sqlite_months_drop(db, sqlite3_column_int64(q, 0), sqlite3_column_int(q, 1), err);
    if (rc == DS_OK && st != SQLITE_DONE)
        rc = ds_sqlite_fail(db, "month rollups", err);
    sqlite3_finalize(q);
    return rc;
}

ds_rc ds_sqlite_months_sig(sqlite3 *db, int64_t sensor_id, int32_t month, uint64_t sig[2], ds_err *err)
{
    sqlite3_stmt *q = NULL;
    int32_t first, last;
    ds_month_span(month, &first, &last);
    if (sqlite3_prepare_v2(db, "SELECT count(*), coalesce(max(id), 0) FROM chunks WHERE kind BETWEEN 32 AND 35"
                               " AND day BETWEEN ?2 AND ?3 AND sensor_id = ?1", -1, &q, NULL) != SQLITE_OK)
        return ds_sqlite_fail(db, "month rollups", err);
    sqlite3_bind_int64(q, 1, sensor_id);
    sqlite3_bind_int(q, 2, first);
    sqlite3_bind_int(q, 3, last);
    ds_rc rc = DS_OK;
    if (sqlite3_step(q) == SQLITE_ROW) {
        sig[0] = (uint64_t)sqlite3_column_int64(q, 0);
        sig[1] = (uint64_t)sqlite3_column_int64(q, 1);
    } else {
        rc = ds_sqlite_fail(db, "month rollups", err);
    }
    sqlite3_finalize(q);
    return rc;
}

ds_rc ds_sqlite_months_missing(sqlite3 *db, int32_t today, ds_sensor_day **rows, size_t *n, ds_err *err)
{
    sqlite3_stmt *q = NULL, *has = NULL;
    ds_rc rc = DS_OK;
    size_t cap = 0;
    *rows = NULL;
    *n = 0;
    /* every (sensor, day) with day rollups, by sensor then day descending: the first of a sensor
     * is its last day, which with today says which of its months are closed */
    if (sqlite3_prepare_v2(db, "SELECT DISTINCT sensor_id, day FROM chunks WHERE kind = 35 ORDER BY sensor_id, day DESC",
                           -1, &q, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, "SELECT 1 FROM chunks WHERE kind = 43 AND day = ?2 AND sensor_id = ?1 LIMIT 1", -1, &has,
                           NULL) != SQLITE_OK) {
        rc = ds_sqlite_fail(db, "month rollups", err);
        goto out;
    }
    int64_t sensor = -1;
    int32_t last_day = 0, month_seen = INT32_MIN;
    int st;
    while ((st = sqlite3_step(q)) == SQLITE_ROW) {
        int64_t s = sqlite3_column_int64(q, 0);
        int32_t day = sqlite3_column_int(q, 1), first, last;
        if (s != sensor) {
            sensor = s;
            last_day = day;
            month_seen = INT32_MIN;
        }
        ds_month_span(day, &first, &last);
        if (first == month_seen || (last > last_day && last >= today))   /* seen, or still open */
            continue;
        month_seen = first;
        sqlite3_reset(has);
        sqlite3_bind_int64(has, 1, s);
        sqlite3_bind_int(has, 2, first);
        int h = sqlite3_step(has);
        if (h == SQLITE_ROW)
            continue;
        if (h != SQLITE_DONE) {
            rc = ds_sqlite_fail(db, "month rollups", err);
            goto out;
        }
        if (*n == cap) {
            size_t nc = cap ? cap * 2 : 16;
            ds_sensor_day *r = realloc(*rows, nc * sizeof *r);
            if (!r) {
                rc = ds_fail(err, DS_ENOMEM, "out of memory");
                goto out;
            }
            *rows = r;
            cap = nc;
        }
        (*rows)[(*n)++] = (ds_sensor_day){ s, first };
    }
    if (st != SQLITE_DONE)
        rc = ds_sqlite_fail(db, "month rollups", err);
out:
    sqlite3_finalize(q);
    sqlite3_finalize(has);
    if (rc != DS_OK) {
        free(*rows);
        *rows = NULL;
        *n = 0;
    }
    return rc;
}
