/* rollups.c: see rollups.h. */
#include "analysis/rollups.h"

#include <stdlib.h>
#include <string.h>

#include "core/records.h"
#include "core/rollup.h"

int ds_rollups_disabled(void)
{
    const char *v = getenv("DS_NO_ROLLUP");
    return v && *v && strcmp(v, "0") != 0;
}

ds_rc ds_rollups_cover(ds_store *st, int kind, int64_t sensor_id, int32_t from, int32_t to, int *yes, ds_err *err)
{
    ds_sensor_day *rows = NULL;
    size_t n = 0;
    *yes = 0;
    if (!ds_store_keeps(st, DS_KNOWS_ROLLUPS))
        return DS_OK;
    ds_rc rc = ds_store_chunks_lacking(st, DS_CHUNK_SRCSVC, kind, sensor_id, from, to, &rows, &n, err);
    free(rows);
    *yes = rc == DS_OK && n == 0;
    return rc;
}

ds_rc ds_rollups_all_sources(const uint8_t *data, size_t len, int cls, ds_srcacc *acc, ds_err *err)
{
    ds_rollup_view v;
    ds_rc rc = ds_rollup_open(data, len, DS_CHUNK_ROLLUP_ALL, &v, err);
    for (uint32_t i = 0; rc == DS_OK && i < v.n; i++) {
        ds_rollup_entry e;
        ds_rollup_get(&v, i, &e);
        if (cls < 0 || e.cls == cls)
            rc = ds_srcacc_add(acc, e.set, e.set_len, e.n4, e.n6, err);
    }
    return rc;
}
