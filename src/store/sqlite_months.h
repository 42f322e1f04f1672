/* sqlite_months.h: the SQLite backend's month rollups (store/rollup_months.h), kept out of
 * store_sqlite.c.  Internal to src/store.
 *
 * A month chunk is a row of `chunks` like any other (so scan() and its read cache serve it, and
 * its frame goes to the chunk file): kind DS_CHUNK_MONTH_*, day = the month's first day, file_id
 * 0 (no file: never removed with one).  store_sqlite.c writes them (sq_month_put: the chunk file's
 * transaction protocol); this file holds the SQL around them.
 *
 * Row ids are never reused (store_files.c keeps the largest one taken), and a month's rows are
 * removed only after the day chunk that outdates them is in: so the day chunks' count and largest
 * id are a signature that any change moves. */
#ifndef DS_SQLITE_MONTHS_H
#define DS_SQLITE_MONTHS_H
#include <sqlite3.h>
#include <stdint.h>

#include "store/store.h"

/* Inside a write transaction that added or is removing day rollup chunks of (sensor, day):
 * remove the month chunks of that day's month. */
ds_rc ds_sqlite_months_drop(sqlite3 *db, int64_t sensor_id, int32_t day, ds_err *err);
/* The same for every day rollup chunk of file_id (before they are removed). */
ds_rc ds_sqlite_months_drop_file(sqlite3 *db, int64_t file_id, ds_err *err);
/* ds_store_month_ops (store.h) but put, which store_sqlite.c runs. */
ds_rc ds_sqlite_months_sig(sqlite3 *db, int64_t sensor_id, int32_t month, uint64_t sig[2], ds_err *err);
ds_rc ds_sqlite_months_missing(sqlite3 *db, int32_t today, ds_sensor_day **rows, size_t *n, ds_err *err);

#endif
