/* source_rows.h: the source rows of several `top` queries (dim DS_TOP_SOURCES) in one read.
 *
 * The tool detector asks `top` for the sources of each of seven tools, and the periodicity
 * detector for the top five sources of each service or country it reports: a dozen runs of
 * ds_top_run over the same period, each a pass over the period's SRCSVC records and another
 * over its SOURCES records, each with fresh tables.  This answers all of a detector's queries
 * with one pass over each kind, and gives, row for row, what ds_top_run gives for each query
 * (see source_rows.c for how each field is made the same way).
 */
#ifndef DS_SOURCE_ROWS_H
#define DS_SOURCE_ROWS_H
#include <stddef.h>
#include <stdint.h>

#include "analysis/top.h"
#include "store/query.h"   /* ds_source_query */
#include "store/store.h"
#include "util/result.h"

/* res[k] for qs[k], k < nq, over days [from, to] of one sensor (sensor_id > 0) or all; every
 * res[k] is to be freed with ds_top_result_free (also on failure). */
ds_rc ds_source_rows(ds_store *st, int32_t from, int32_t to, int64_t sensor_id, const ds_source_query *qs, size_t nq,
                     ds_top_result *res, ds_err *err);

#endif
