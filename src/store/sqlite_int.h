/* sqlite_int.h: what the SQLite backend's files (store_sqlite.c, store_files.c, sqlite_coverage.c)
 * share.  Internal to src/store. */
#ifndef DS_SQLITE_INT_H
#define DS_SQLITE_INT_H
#include <sqlite3.h>

#include "util/result.h"

/* The error of db's last call, "store FILE: WHAT: sqlite's message": DS_EBUSY when the store was
 * locked (SQLITE_BUSY, SQLITE_LOCKED), else DS_ESTORE. */
ds_rc ds_sqlite_fail(sqlite3 *db, const char *what, ds_err *err);

#endif
