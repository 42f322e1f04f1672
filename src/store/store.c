/* store.c: choose a backend for a store location.  Only SQLite today; a "clickhouse://" URL
 * will select the next backend here and nowhere else. */
#include "store/store.h"

#include <string.h>

ds_rc ds_store_open(ds_store **out, const char *path, int create, ds_err *err)
{
    *out = NULL;
    if (!path || !*path)
        return ds_fail(err, DS_EINVAL, "no store path: set [store] path in the config or pass --db PATH");
    if (strstr(path, "://"))
        return ds_fail(err, DS_EINVAL, "%s: only SQLite stores (a file path) are supported so far", path);
    return ds_store_sqlite.open(out, path, create, err);
}
