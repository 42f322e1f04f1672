/* detin_scan.h: reading the DETECT chunks' tool records (core/detin.h) the way a SRCSVC scan
 * reads records, so that a detector's record callback serves both. */
#ifndef DS_DETIN_SCAN_H
#define DS_DETIN_SCAN_H
#include <stdint.h>

#include "store/store.h"

/* Scan SRCSVC over [from, to] (kind DS_CHUNK_SRCSVC plus flags such as DS_SCAN_NOFILL), or, with
 * detin, only the SRCSVC records that carry a tool bit: each DETECT chunk's tool section is
 * handed to fn as a chunk of SRCSVC records (none is skipped when a chunk has none).  For callers
 * that look at records with some tool bit and nothing else. */
ds_rc ds_detin_scan_tools(ds_store *st, int detin, int flags, int64_t sensor_id, int32_t from, int32_t to,
                          ds_scan_fn fn, void *ctx, ds_err *err);

#endif
