/* top_rollup.h: `top ports|countries|asns` answered from the rollups (core/rollup.h) instead of
 * the SRCSVC records, with the same result to the byte (tests/e2e/rollup_diff.sh compares).
 *
 * Taken by ds_top_run (top.c) when the query's filters are ones the rollups keep apart (a sensor,
 * a class, values of the ranked dimension: `top ports --where port=23/tcp --class scan`) and
 * every (sensor, day) of the period with SRCSVC records has its rollups; otherwise ds_top_run
 * reads SRCSVC as before.  DS_NO_ROLLUP=1 in the environment (analysis/rollups.h) makes it always read SRCSVC
 * (the differential test's old path). */
#ifndef DS_TOP_ROLLUP_H
#define DS_TOP_ROLLUP_H
#include "analysis/top.h"

/* 1 when the query's filters are ones the rollups answer (the period may still lack them). */
int ds_top_rollup_covers(const ds_top_query *q);
/* *done = 1 and res filled as ds_top_run fills it; *done = 0 and res untouched when the rollups
 * cannot answer q (then read SRCSVC).  An error (a damaged rollup chunk) is reported, not
 * answered the other way. */
ds_rc ds_top_rollup_run(ds_store *st, const ds_top_query *q, ds_top_result *res, int *done, ds_err *err);

#endif
