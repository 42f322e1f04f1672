/* sqlite_int.h: what the SQLite backend's files (store_sqlite.c, store_files.c, sqlite_coverage.c,
 * sqlite_months.c, sqlite_ledger.c, sqlite_payloads.c) share.  Internal to src/store. */
#ifndef DS_SQLITE_INT_H
#define DS_SQLITE_INT_H
#include <sqlite3.h>

#include "store/store.h"
#include "util/result.h"

/* The error of db's last call, "store FILE: WHAT: sqlite's message": DS_EBUSY when the store was
 * locked (SQLITE_BUSY, SQLITE_LOCKED), else DS_ESTORE. */
ds_rc ds_sqlite_fail(sqlite3 *db, const char *what, ds_err *err);

/* sqlite3_exec of sql, or ds_sqlite_fail naming it. */
ds_rc ds_sqlite_exec(sqlite3 *db, const char *sql, ds_err *err);
/* Room for one more row of `size` bytes at the end of *rows (grown as needed), zeroed; NULL out
 * of memory. */
void *ds_sqlite_row_append(void **rows, size_t *n, size_t *cap, size_t size);

/* The ledger ops (sqlite_ledger.c) and the payload ops (sqlite_payloads.c) over the store's
 * connection: store.h's ds_store_ledger_ops and ds_store_payload_ops. */
ds_rc ds_sqlite_segment_get(sqlite3 *db, const char *sensor, uint64_t seq, ds_segment_rec *out, ds_err *err);
ds_rc ds_sqlite_ledger_put(sqlite3 *db, const ds_segment_rec *seg, const ds_sensor_health *h, ds_err *err);
ds_rc ds_sqlite_sensor_health(sqlite3 *db, ds_sensor_health **rows, size_t *n, ds_err *err);
ds_rc ds_sqlite_segments_list(sqlite3 *db, const char *sensor, int64_t from, int64_t to, ds_segment_rec **rows,
                              size_t *n, ds_err *err);
ds_rc ds_sqlite_payloads_put(sqlite3 *db, const ds_payload_batch *b, ds_err *err);
ds_rc ds_sqlite_payloads_query(sqlite3 *db, const ds_payload_query *q, ds_payload_row **rows, size_t *n,
                               uint64_t *total, ds_err *err);

#endif
