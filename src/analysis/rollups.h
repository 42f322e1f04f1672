/* rollups.h: what every reader of the rollup chunks (core/rollup.h) asks first: may it use them
 * at all, and does the period have them.
 *
 * Readers (analysis/top_rollup.c for `top`, analysis/cube.c for the report's tables and series)
 * answer a query from the rollups only when every (sensor, day) of the period that has SRCSVC
 * records also has rollups of the kinds it reads; a store written by an older darkscope, or a
 * file half re-sent, falls back to SRCSVC whole.  DS_NO_ROLLUP=1 in the environment makes every
 * reader take SRCSVC: the differential tests' old path (tests/e2e/rollup_diff.sh). */
#ifndef DS_ROLLUPS_H
#define DS_ROLLUPS_H
#include <stdint.h>

#include "core/srcset.h"
#include "store/store.h"

/* 1 when DS_NO_ROLLUP is set (and not "0"). */
int ds_rollups_disabled(void);
/* *yes = 1 when every (sensor, day) in [from, to] of sensor_id (0: all) with SRCSVC records has
 * chunks of `kind`; 0 when not, or when the store cannot tell. */
ds_rc ds_rollups_cover(ds_store *st, int kind, int64_t sensor_id, int32_t from, int32_t to, int *yes, ds_err *err);
/* Add to acc the sources of one ROLLUP_ALL chunk's entries of class cls (-1: every class): the
 * period's distinct total, as `top` and the report's cubes unite it.  DS_EFORMAT when the chunk
 * is damaged. */
ds_rc ds_rollups_all_sources(const uint8_t *data, size_t len, int cls, ds_srcacc *acc, ds_err *err);

#endif
