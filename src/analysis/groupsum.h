/* groupsum.h: packets summed per group (a source, a service, a source port), for the series
 * detector's drivers (detect_series.c).
 *
 * The drivers of an event used to be found by sorting its records four times (by source, by
 * country or service, by source port, by day and source) and reading the groups off the sorted
 * array; each sort was O(n log n) with a call per comparison, on up to hundreds of thousands of
 * records per candidate.  Sums and distinct counts need no order, so one open-addressing table
 * per question does them in O(n); where the order mattered (the top sources, ties broken by the
 * smaller address) the caller ranks the groups, a few thousand, not the records.
 *
 * The table starts small and doubles when 3/4 full, so a question costs memory in proportion to
 * its groups, not to its records: a country's 18,000 records may come from a few hundred sources,
 * and clearing a table sized for every record, four times per candidate, was most of the drivers'
 * time.  Its memory (and a second block to rehash into) is kept between candidates (reset, not
 * freed): fresh memory is dear on our VM.  Nothing may depend on the order of the groups in e[].
 */
#ifndef DS_GROUPSUM_H
#define DS_GROUPSUM_H
#include <stddef.h>
#include <stdint.h>

typedef struct ds_group {
    uint64_t k1;            /* the group's key: a source, a service, ... */
    uint64_t sum;
    uint32_t last;          /* the caller's: e.g. the index of the group's last record */
    uint32_t used;
} ds_group;

typedef struct ds_groupsum {
    ds_group *e;
    size_t alloc;           /* entries allocated */
    size_t cap, n;          /* entries in use (a power of two <= alloc), groups */
    ds_group *spare;        /* where the table is rehashed when it grows */
    size_t spare_alloc;
} ds_groupsum;

/* Empty the table, with room for `groups` groups at most 3/4 full (a hint: the table grows
 * past it as needed, and a large hint is capped).  -1: out of memory (the table is then empty
 * and still valid to free). */
int ds_groupsum_reset(ds_groupsum *g, size_t groups);
/* The group k1, new (zeroed but for the key) if it was not there; NULL when out of memory (the
 * table is unchanged).  The pointer is valid until the next call. */
ds_group *ds_groupsum_get(ds_groupsum *g, uint64_t k1);
void ds_groupsum_free(ds_groupsum *g);

#endif
