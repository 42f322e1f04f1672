/* rollup_months.h: the rollups at a second resolution, one calendar month (issue #22, items 2
 * and 6: Akvorado keeps its flows at several resolutions, ClickHouse's AggregatingMergeTree
 * merges partial states into coarser ones; this is the same idea for darkscope's chunks).
 *
 * Why.  A period's distinct sources are a union of the day rollups' source sets (core/srcset.h).
 * Over a busy month that union is most of `top`'s time: the source-heavy month of issue #22 has
 * 300,000 sources a day, and `top ports` decodes and walks 14 M set members to count the ten
 * printed rows' 14.5 M distinct (source, port) pairs.  A month's union, done once, is the same
 * bytes every later query would compute; with it a row's distinct count over the month is the
 * set's length (stored in its entry), and a quarter unites three sets instead of ninety.
 *
 * What.  For one sensor and one calendar month (in the store's timezone: day numbers,
 * util/timeutil.h ds_month_span), the four month chunks DS_CHUNK_MONTH_* (core/records.h) are
 * ds_rollup_merge of every day rollup chunk of that month and dimension: the same layout
 * (core/rollup.h), so a reader of day chunks reads them unchanged.
 *
 * Exact, always.  A month chunk exists only while it equals the union of the month's current day
 * chunks.  The writer keeps that true: a transaction that adds or removes a day rollup chunk
 * removes its month's chunks (ds_store_month_ops in store.h), and a build writes its chunks only
 * if the month's day chunks are still those it read (their signature, checked inside the write
 * transaction).  A reader takes a month chunk where there is one and the month's days elsewhere;
 * a missing month is only slower.  DS_ROLLUP_DAYS=1 in the environment makes readers ignore
 * month chunks (the differential tests' day path: tests/e2e/rollup_diff.sh).
 *
 * When.  A month is built once it is closed: it ended before today, or the sensor has day
 * rollups on its last day or later (a month still being filled would be rebuilt after every
 * file).  `darkscope ingest` builds the closed months it lacks after its files; the collector
 * after a segment, at most every 10 minutes (a backlog of late segments for a closed month would
 * otherwise rebuild it at each).  A late file for a built month removes its chunks, and the next
 * build makes them again.
 */
#ifndef DS_ROLLUP_MONTHS_H
#define DS_ROLLUP_MONTHS_H
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

/* 1 when DS_ROLLUP_DAYS is set (and not "0"): readers use the day chunks only. */
int ds_rollup_months_disabled(void);

/* The rollup chunks of `kind` (a DS_CHUNK_ROLLUP_* kind, optionally | DS_SCAN_NOFILL) that make
 * up [from, to] for sensor_id (0: all): each whole calendar month of the range that has a month
 * chunk (per sensor) as that one chunk, with the month's first day as its day; every other day
 * as its day chunks.  A range that reaches the store's first (last) day with data is taken to
 * reach back to its month's first (on to its month's last) day: no chunk lies beyond.  fn sees each source of the period once, through one chunk or the other.
 * Order: not defined (months, then days); callers sum and unite, which does not depend on it. */
ds_rc ds_store_scan_rollups(ds_store *st, int kind, int64_t sensor_id, int32_t from, int32_t to, ds_scan_fn fn,
                            void *ctx, ds_err *err);

/* The whole calendar months of [*from, *to] (the first days of the first and last, *mfrom and
 * *mto; *mto < *mfrom when none), *from and *to stretched to their months' ends where they reach
 * the store's first or last day with data, as ds_store_scan_rollups takes them. */
ds_rc ds_rollup_whole_months(ds_store *st, int32_t *from, int32_t *to, int32_t *mfrom, int32_t *mto, ds_err *err);

/* Build every closed month the store lacks (ds_store_month_ops.missing); *built: how many
 * (sensor, month)s were written (one that an ingest changed meanwhile is skipped, not an error).
 * A store without a months part builds nothing.  Errors leave the store as it was: the months
 * written before stay, and are exact. */
ds_rc ds_store_months_build(ds_store *st, size_t *built, ds_err *err);

#endif
