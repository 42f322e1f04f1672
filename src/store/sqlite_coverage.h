/* sqlite_coverage.h: the SQLite backend's coverage table (store.h, ds_coverage_row), kept out
 * of store_sqlite.c, which holds the chunk engine.  Internal to src/store. */
#ifndef DS_SQLITE_COVERAGE_H
#define DS_SQLITE_COVERAGE_H
#include <sqlite3.h>

#include "store/store.h"

/* The table, for SCHEMA: one row per (file, sensor). */
#define DS_SQLITE_COVERAGE_SCHEMA                                                                        \
    "CREATE TABLE IF NOT EXISTS coverage(file_id INTEGER NOT NULL, sensor_id INTEGER NOT NULL,"        \
    "  source INTEGER NOT NULL, first_ns INTEGER NOT NULL, last_ns INTEGER NOT NULL,"                 \
    "  hour0 INTEGER NOT NULL, hours BLOB, PRIMARY KEY(file_id, sensor_id));"                           \
    "CREATE INDEX IF NOT EXISTS coverage_time ON coverage(first_ns);"

/* Insert one row (inside the caller's write transaction).  name: the store's file, for errors. */
ds_rc ds_sqlite_coverage_put(sqlite3 *db, const char *name, const ds_coverage_row *row, ds_err *err);
/* Every row overlapping [from_ns, to_ns], by sensor, then first_ns. */
ds_rc ds_sqlite_coverage_scan(sqlite3 *db, const char *name, uint64_t from_ns, uint64_t to_ns, ds_coverage_fn fn,
                              void *ctx, ds_err *err);

/* min(first_ns), max(last_ns) of every row; DS_ENOTFOUND when there is none. */
ds_rc ds_sqlite_coverage_span(sqlite3 *db, const char *name, uint64_t *first_ns, uint64_t *last_ns, ds_err *err);
/* Rows for the files a store holds from before coverage was kept: the span of each (file,
 * sensor)'s packets from the counts table, without hour counts (so never an inferred outage).
 * Run once, when the coverage table is empty and counts is not, inside a write transaction. */
#define DS_SQLITE_COVERAGE_BACKFILL                                                                      \
    "INSERT OR IGNORE INTO coverage SELECT file_id, sensor_id, 1, first_ns, last_ns, first_ns / 3600000000000,"  \
    " NULL FROM counts WHERE sensor_id > 0 AND first_ns > 0 AND last_ns >= first_ns"

#endif
