/* hours.h: packets per UTC hour, per sensor, of one ingest thread (the coverage rows'
 * hour counts: store.h ds_coverage_row, analysis/coverage.h).
 *
 * One array per sensor over the hours the file has touched so far, grown at either end (captures
 * run forward, but a late packet or a second interface can reach back).  One increment per
 * packet; the threads' arrays are summed at commit. */
#ifndef DS_INGEST_HOURS_H
#define DS_INGEST_HOURS_H
#include <stddef.h>
#include <stdint.h>

typedef struct ds_hours {
    int64_t h0;          /* UTC hour (unix seconds / 3600) of n[0] */
    uint32_t *n;         /* packets per hour (saturating) */
    size_t len, cap;
} ds_hours;

/* Count k packets at UTC hour h; -1 when out of memory (nothing changed). */
int ds_hours_add_slow(ds_hours *a, int64_t h, uint32_t k);
static inline int ds_hours_add(ds_hours *a, int64_t h, uint32_t k)
{
    uint64_t i = (uint64_t)(h - a->h0);   /* h < h0 wraps to a huge index */
    if (i < a->len) {                      /* the common case: an hour the array holds */
        uint32_t *v = &a->n[i];
        *v = k > UINT32_MAX - *v ? UINT32_MAX : *v + k;
        return 0;
    }
    return ds_hours_add_slow(a, h, k);
}
/* Add b into a; -1 when out of memory. */
int ds_hours_merge(ds_hours *a, const ds_hours *b);
void ds_hours_free(ds_hours *a);

#define DS_HOURS_SPAN_MAX (24u * 366u * 200u)   /* hours one array may cover: a bound, not a budget */

#endif
