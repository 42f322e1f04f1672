/* filter.h: which SRCSVC records a query counts (sensor, class, services, countries, ASNs,
 * tools, one source, a set of sources, excluded sources).  Shared by `top`, the cube under reports, and events, so
 * that a filter means the same thing in every command. */
#ifndef DS_FILTER_H
#define DS_FILTER_H
#include <stddef.h>
#include <stdint.h>

#include "core/sets.h"
#include "core/classify.h"
#include "core/records.h"

#define DS_FILTER_MAX 64

/* Which SRCSVC records count.  Several values of one field are OR'ed; fields are AND'ed. */
typedef struct ds_filter {
    int64_t sensor_id;                 /* 0: every sensor */
    int cls;                           /* ds_class, or -1 for every class */
    ds_service ports[DS_FILTER_MAX]; size_t nports;
    uint16_t countries[DS_FILTER_MAX]; size_t ncountries;   /* ds_cc_pack */
    uint32_t asns[DS_FILTER_MAX]; size_t nasns;
    const ds_u64set *exclude;          /* ds_src_key of sources to leave out, or NULL */
    const ds_u64set *only;             /* ds_src_key of the only sources to count, or NULL (all) */
    unsigned tools;                    /* DS_TOOL_*: only sources attributed to one of them; 0 = all */
    int one_source;                    /* 1: only the source whose ds_src_key is `source` */
    uint64_t source;
} ds_filter;

void ds_filter_init(ds_filter *f);
int ds_filter_match(const ds_filter *f, const ds_rec_srcsvc *r);

#endif
