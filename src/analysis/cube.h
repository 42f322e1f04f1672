/* cube.h: packets (and distinct sources) of a period grouped by up to two dimensions.
 *
 * The report's building block: daily series of a service, the service mix of a country, the
 * region split of a service per day, unique sources per day.  Counted from SRCSVC records, like
 * `top`, so every number in a report adds up to the same totals `top` prints, and so that
 * excluded sources (research scanners) leave every figure, not only the tables.
 *
 * A cell is (a, b) with a and b each a day, a service, a packed country or an ASN (all fit in 32
 * bits); DS_CUBE_NONE collapses a dimension.  Cells come out sorted by (a, b).
 *
 * Two paths, one result: a query grouped by days and at most one of service, country and ASN,
 * whose only filters are a sensor, a class and values of that same dimension, is answered from
 * the rollups (core/rollup.h: a few thousand entries a day instead of every SRCSVC record) when
 * the whole period has them; every other query, and every query under DS_NO_ROLLUP=1
 * (analysis/rollups.h), reads SRCSVC.  tests/e2e/rollup_diff.sh compares the two on reports.
 */
#ifndef DS_CUBE_H
#define DS_CUBE_H
#include <stddef.h>
#include <stdint.h>

#include "analysis/filter.h"
#include "analysis/sets.h"
#include "core/classify.h"
#include "core/records.h"
#include "store/store.h"

typedef enum ds_cube_dim { DS_CUBE_NONE, DS_CUBE_DAY, DS_CUBE_SERVICE, DS_CUBE_COUNTRY, DS_CUBE_ASN, DS_CUBE_SPORT } ds_cube_dim;

/* DS_CUBE_SPORT: the source port of (source, service) pairs that used one port all day;
 * DS_SPORT_VARIOUS for pairs that used several, or none (ICMP). */
#define DS_SPORT_VARIOUS 0x10000u

typedef struct ds_cube_query {
    int32_t from, to;                  /* local days, inclusive */
    ds_filter filter;
    ds_cube_dim a, b;
    int sources;                       /* also count distinct sources per cell */
    int total_sources;                 /* also count the period's distinct sources (out->total_sources) */
} ds_cube_query;

typedef struct ds_cube_cell { uint32_t a, b; uint64_t packets, sources; } ds_cube_cell;

typedef struct ds_cube {
    ds_cube_cell *cells;
    size_t n;
    uint64_t total_packets;
    uint64_t total_sources;            /* distinct over the period (when the query asked: else 0) */
} ds_cube;

ds_rc ds_cube_run(ds_store *st, const ds_cube_query *q, ds_cube *out, ds_err *err);
/* n queries over the same days and sensor (else DS_EINVAL), into out[0..n): those the rollups do
 * not answer share one pass over SRCSVC.  Each result is what ds_cube_run gives it alone. */
ds_rc ds_cube_run_many(ds_store *st, const ds_cube_query *q, ds_cube *out, size_t n, ds_err *err);
void ds_cube_free(ds_cube *c);
/* The cell (a, b), or NULL (cells are sorted). */
const ds_cube_cell *ds_cube_get(const ds_cube *c, uint32_t a, uint32_t b);

#endif
