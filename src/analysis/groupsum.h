/* groupsum.h: packets summed per group (a source, a service, a (day, source) pair), for the
 * series detector's drivers (detect_series.c).
 *
 * The drivers of an event used to be found by sorting its records four times (by source, by
 * country or service, by source port, by day and source) and reading the groups off the sorted
 * array; each sort was O(n log n) with a call per comparison, on up to hundreds of thousands of
 * records per candidate.  Sums and distinct counts need no order, so one open-addressing table
 * per question does them in O(n); where the order mattered (the top sources, ties broken by the
 * smaller address) the caller ranks the groups, a few thousand, not the records.  The table's
 * memory is kept between candidates (reset, not freed): fresh memory is dear on our VM.
 */
#ifndef DS_GROUPSUM_H
#define DS_GROUPSUM_H
#include <stddef.h>
#include <stdint.h>

typedef struct ds_group {
    uint64_t k1;            /* the group's key: a source, a service, ... */
    uint32_t k2;            /* a second key part (a day), 0 when unused */
    uint32_t last;          /* the caller's: e.g. the index of the group's last record */
    uint64_t sum;
    uint32_t used;
    uint32_t aux;           /* the caller's */
} ds_group;

typedef struct ds_groupsum {
    ds_group *e;
    size_t alloc;           /* entries allocated */
    size_t cap, n;          /* entries in use (a power of two <= alloc), groups */
} ds_groupsum;

/* Empty the table, with room for `groups` groups at most half full.  -1: out of memory (the
 * table is then empty and still valid to free). */
int ds_groupsum_reset(ds_groupsum *g, size_t groups);
/* The group (k1, k2), new (zeroed but for the keys) if it was not there.  The caller sized the
 * table for every group it adds (reset). */
ds_group *ds_groupsum_get(ds_groupsum *g, uint64_t k1, uint32_t k2);
void ds_groupsum_free(ds_groupsum *g);

#endif
