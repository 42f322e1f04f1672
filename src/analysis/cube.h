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

#include "core/records.h"
#include "store/query.h"   /* ds_cube_query, ds_cube_cell, ds_cube */
#include "store/store.h"

ds_rc ds_cube_run(ds_store *st, const ds_cube_query *q, ds_cube *out, ds_err *err);
/* n queries over the same days and sensor (else DS_EINVAL), into out[0..n): those the rollups do
 * not answer share one pass over SRCSVC.  Each result is what ds_cube_run gives it alone. */
ds_rc ds_cube_run_many(ds_store *st, const ds_cube_query *q, ds_cube *out, size_t n, ds_err *err);
/* The cell (a, b), or NULL (cells are sorted). */
const ds_cube_cell *ds_cube_get(const ds_cube *c, uint32_t a, uint32_t b);

#endif
