/* query.h: the questions analysis asks the store, and how an engine answers them itself.
 *
 * Analysis reads a period through three queries: ranked tables (`top`: ds_top_query), grouped
 * counts and series (the report's cubes: ds_cube_query) and source rows (several `top sources`
 * at once: ds_source_query), with one filter (store/filter.h) so that a filter means the same in
 * every command.  Their results are defined by content, never by storage order (docs/store.md,
 * "Order contracts"); their numbers are exact.
 *
 * Who answers.  A store engine may answer a query itself, where its data is (ClickHouse's SQL,
 * issue #23): its ops->query table points at its own functions.  An engine that leaves the table
 * or an entry NULL gets the chunk code of analysis/ (top.c, top_rollup.c, cube.c, source_rows.c),
 * which reads the engine's chunks through scan(): the SQLite store, and the events view
 * (analysis/period_store.c), which is a store of chunks held in memory.  The entry points
 * ds_top_run, ds_cube_run(_many) and ds_source_rows (analysis/top.h, cube.h, source_rows.h)
 * dispatch: an engine's function when it has one, the chunk code otherwise, so callers never
 * know which answered.  An engine's answer must be what the chunk code gives on the same data, to
 * the byte (the differential tests of issue #23).
 *
 * Memory: an engine fills results with malloc'd arrays (rows, cells) that the callers free with
 * ds_top_result_free and ds_cube_free.
 */
#ifndef DS_QUERY_H
#define DS_QUERY_H
#include <stddef.h>
#include <stdint.h>

#include "core/classify.h"
#include "core/ip.h"
#include "core/sets.h"
#include "store/filter.h"
#include "util/result.h"

struct ds_store;

/* ---- ranked tables (`darkscope top`) ---- */

typedef enum ds_top_dim { DS_TOP_PORTS, DS_TOP_COUNTRIES, DS_TOP_ASNS, DS_TOP_SOURCES } ds_top_dim;

#define DS_TOP_MAX_FILTERS DS_FILTER_MAX   /* the filter is store/filter.h's */

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
    /* An engine that answers source rows itself (store/ch_query.c) sets these to the source's
     * first and last day with any record over the period (filters aside: the sensor's only), or
     * 0 when it does not know them; analysis/top.c then reads first/last seen and an IPv6
     * source's address from the SOURCES chunks of those days (of every day where one is 0). */
    int32_t first_day, last_day;
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

void ds_top_result_free(ds_top_result *res);
/* res->addresses: the monitored IPv4 addresses of sensor_id (every sensor when 0). */
ds_rc ds_top_result_addresses(struct ds_store *st, int64_t sensor_id, ds_top_result *res, ds_err *err);
/* The rates every path that ranks computes the same way, so that they agree to the byte: the
 * denominator (addr_days when have_addr_days, else res->addresses x res->days) into
 * res->addr_days, and each row's share of res->total_packets and packets per address-day. */
void ds_top_result_rates(ds_top_result *res, int have_addr_days, double addr_days);

/* ---- grouped counts and series (the report's cubes) ---- */

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

void ds_cube_free(ds_cube *c);

/* ---- source rows of several `top sources` queries ---- */

typedef struct ds_source_query {
    ds_filter filter;           /* as ds_top_run builds from a ds_top_query (its sensor_id is ignored) */
    size_t limit;               /* rows; 0: all */
    /* A hint for the chunk code (analysis/source_rows.c), which engines may ignore: the days hold
     * DETECT chunks (core/detin.h), so a query whose every filter names tools reads their tool
     * records instead of every SRCSVC record. */
    int detin;
} ds_source_query;

/* ---- an engine's own answers (NULL: the chunk code answers through scan) ----
 * top and cube may decline a query they do not answer: DS_ENOTFOUND, with *res (out) empty and
 * err untouched, and the chunk code answers it. */

typedef struct ds_store_query_ops {
    /* As ds_top_run. */
    ds_rc (*top)(struct ds_store *s, const ds_top_query *q, ds_top_result *res, ds_err *err);
    /* As ds_cube_run_many: out[k] for q[k], k < n, all over the same days and sensor. */
    ds_rc (*cube)(struct ds_store *s, const ds_cube_query *q, ds_cube *out, size_t n, ds_err *err);
    /* As ds_source_rows. */
    ds_rc (*source_rows)(struct ds_store *s, int32_t from, int32_t to, int64_t sensor_id, const ds_source_query *qs,
                         size_t nq, ds_top_result *res, ds_err *err);
} ds_store_query_ops;

#endif
