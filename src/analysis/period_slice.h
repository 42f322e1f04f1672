/* period_slice.h: a kept period view's answers to a service's drill-down (period_slice.c).
 *
 * `serve`'s page of a service asks, over one period, for the service's countries, ASNs, sources
 * and source ports: four passes over the period's SRCSVC records, each filtering them and
 * counting distinct sources in hash sets.  A view with slices enabled answers those queries from
 * one slice per (period, sensor, service): the service's records, gathered once and sorted by
 * source, so that every distinct count is a walk over runs of one source.  The answers are the
 * chunk code's (analysis/top.c, cube.c) to the byte; every other query is declined (DS_ENOTFOUND)
 * and the chunk code answers it.
 */
#ifndef DS_PERIOD_SLICE_H
#define DS_PERIOD_SLICE_H
#include <stddef.h>

#include "store/query.h"
#include "store/store.h"

typedef struct ds_slice_cache ds_slice_cache;

ds_slice_cache *ds_slice_cache_new(void);
void ds_slice_cache_free(ds_slice_cache *c);
/* Bytes the cache's slices hold (read without a lock: a counter). */
size_t ds_slice_cache_bytes(const ds_slice_cache *c);

/* The view's query entries (store/query.h), through ds_period_store_slices(view): DS_ENOTFOUND
 * unless the view has slices and the query is one of a service's drill-down: `top` of countries,
 * ASNs or sources, or cubes over day, country, ASN and source port, filtered by exactly one
 * service (and the sensor), nothing else. */
ds_rc ds_slice_top(ds_store *view, const ds_top_query *q, ds_top_result *res, ds_err *err);
ds_rc ds_slice_cube(ds_store *view, const ds_cube_query *q, ds_cube *out, size_t n, ds_err *err);

#endif
