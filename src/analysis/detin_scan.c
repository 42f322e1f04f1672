/* detin_scan.c: see detin_scan.h. */
#include "analysis/detin_scan.h"

#include "core/detin.h"
#include "core/records.h"

typedef struct tools_ctx { ds_scan_fn fn; void *ctx; } tools_ctx;

static ds_rc on_detect(void *vctx, int64_t sensor_id, int32_t day, const uint8_t *data, size_t nrec, ds_err *err)
{
    tools_ctx *c = vctx;
    ds_detin_view v;
    ds_rc rc = ds_detin_open(data, nrec, &v, err);
    if (rc != DS_OK || !v.ntool)
        return rc;
    return c->fn(c->ctx, sensor_id, day, v.tool, v.ntool, err);
}

ds_rc ds_detin_scan_tools(ds_store *st, int detin, int flags, int64_t sensor_id, int32_t from, int32_t to,
                          ds_scan_fn fn, void *ctx, ds_err *err)
{
    if (!detin)
        return ds_store_scan(st, DS_CHUNK_SRCSVC | flags, sensor_id, from, to, fn, ctx, err);
    tools_ctx c = { fn, ctx };
    return ds_store_scan(st, DS_CHUNK_DETECT | flags, sensor_id, from, to, on_detect, &c, err);
}
