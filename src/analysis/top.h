/* top.h: ranked tables over a period (`darkscope top`).
 *
 * Counted from the SRCSVC chunks: every classified packet once, toward its destination service,
 * its source's country and ASN, and its source.  Filters of one field are OR'ed, different fields
 * AND'ed (country=CN, country=RU, port=23/tcp: 23/tcp from CN or RU).  `sources` is the exact
 * number of distinct source addresses over the whole period (not a sum of daily counts).
 */
#ifndef DS_TOP_H
#define DS_TOP_H
#include <stddef.h>
#include <stdint.h>

#include "core/classify.h"
#include "analysis/filter.h"
#include "analysis/sets.h"
#include "core/ip.h"
#include "store/store.h"

typedef enum ds_top_dim { DS_TOP_PORTS, DS_TOP_COUNTRIES, DS_TOP_ASNS, DS_TOP_SOURCES } ds_top_dim;

#define DS_TOP_MAX_FILTERS DS_FILTER_MAX   /* the filter is analysis/filter.h's */

typedef struct ds_top_query {
    ds_top_dim dim;
    int32_t from, to;            /* local days, inclusive */
    int64_t sensor_id;           /* 0: every sensor */
    int cls;                     /* ds_class, or -1 for every class */
    ds_service ports[DS_TOP_MAX_FILTERS]; size_t nports;
    uint16_t countries[DS_TOP_MAX_FILTERS]; size_t ncountries;   /* ds_cc_pack */
    uint32_t asns[DS_TOP_MAX_FILTERS]; size_t nasns;
    size_t limit;                /* 0: all */
    const ds_u64set *exclude;    /* ds_src_key of sources to leave out (research scanners), or NULL */
    const ds_u64set *only;       /* ds_src_key of the only sources to count, or NULL (all) */
    unsigned tools;              /* DS_TOOL_* (core/fingerprint.h): sources attributed to any of them; 0 = all */
    int have_addr_days;          /* 1: per_ip_per_day divides by addr_days; 0: by addresses x days */
    double addr_days;            /* covered address-days of the period and sensor (analysis/rates.h) */
} ds_top_query;

typedef struct ds_top_row {
    uint64_t key;                /* service, packed country, ASN, or ds_src_key */
    uint64_t packets;
    uint64_t sources;            /* distinct sources over the period */
    double share;                /* of the filtered total */
    double per_ip_per_day;       /* packets / covered address-days (see ds_top_result.addr_days) */
    /* source rows */
    ds_ip ip;
    char cc[3];
    uint32_t asn;
    uint64_t first_ns, last_ns;
    uint32_t days;               /* days on which the source was seen */
} ds_top_row;

typedef struct ds_top_result {
    ds_top_row *rows;
    size_t n;
    uint64_t total_packets;      /* after filters */
    uint64_t total_sources;
    uint64_t addresses;          /* monitored IPv4 addresses of the selected sensors */
    int32_t days;
    double addr_days;            /* the rates' denominator: q->addr_days, or addresses x days */
} ds_top_result;

ds_rc ds_top_run(ds_store *st, const ds_top_query *q, ds_top_result *res, ds_err *err);
void ds_top_result_free(ds_top_result *res);
/* Row key as text: "23/tcp", "JP", "AS4134"-less plain "4134", or the address. */
char *ds_top_key_format(ds_top_dim dim, const ds_top_row *r, char *buf, size_t len);

#endif
