/* model.h: everything a periodic report says, as data, before any rendering.
 *
 * The report is built once from the store (ds_report_build) and then rendered three ways (HTML,
 * Markdown, JSON) by functions that only read this structure, so the three can never disagree
 * on a number.  The content follows the published reports the issue names:
 *   - overview: total packets, packets per darknet address per day (and per address per year
 *     for a yearly report, as NICTER states it), unique sources, sensors and addresses, change
 *     against the previous period of equal length;
 *   - top-N destination services and source regions with the TSUBAME columns (rank, previous
 *     rank) and the @police ones (per address per day, share, change, increase and decrease
 *     ranks), each with its daily series;
 *   - mixes (services of each top region, regions of each top service) and the IoT share of the
 *     top-30 services (NICTER);
 *   - focus sections on a service or a region.
 *
 * Numbers: packets are exact counts; per_ip_per_day = packets / covered address-days (monitored
 * IPv4 addresses x the share of each day the sensors were observing, analysis/coverage.h), each
 * period with its own coverage.  A change is NAN when there is no previous period (--compare
 * none); change_pct is NAN when the previous value is below DS_REPORT_MIN_PREV packets, the case
 * the @police tables print as a dash.  When the two periods' covered shares differ (coverage.
 * rate_based), changes compare rates: the previous packets are scaled by this period's covered
 * address-days over the previous period's before they are subtracted.
 */
#ifndef DS_REPORT_MODEL_H
#define DS_REPORT_MODEL_H
#include <stddef.h>
#include <stdint.h>

#include "analysis/coverage.h"
#include "analysis/events.h"
#include "core/sets.h"
#include "core/classify.h"
#include "geo/geo.h"
#include "report/names.h"
#include "report/period.h"
#include "store/store.h"
#include "util/config.h"
#include "util/result.h"

#define DS_REPORT_MIN_PREV 1        /* packets: below this a relative change is not stated */
#define DS_REPORT_MAX_FOCUS 16
#define DS_REPORT_MIX_PARTS 5       /* parts shown in each mix bar (the rest is "other") */
#define DS_REPORT_IOT_TOP 30        /* NICTER: share of IoT ports among the top 30 */
#define DS_REPORT_COVER_DIFF 0.005  /* covered shares differing by more than this (relative): rate-based changes */

typedef enum ds_report_dim { DS_REPORT_SERVICE, DS_REPORT_REGION } ds_report_dim;

/* One ranked row: a service (key = ds_service) or a region (key = ds_cc_pack). */
typedef struct ds_report_row {
    uint32_t key;
    char text[32];                  /* "23/tcp" or "US" (JSON key) */
    char label[32];                 /* "23/TCP" or "US" (tables) */
    const char *name;               /* IANA service name or country name in the report language; may be NULL */
    const char *iot;                /* IoT device class (services), NULL when not IoT-targeted */
    int rank;                       /* 1-based */
    int previous_rank;              /* 0: absent from the previous period (or no comparison) */
    uint64_t packets, previous_packets, sources;
    double per_ip_per_day, previous_per_ip_per_day, share;
    double change;                  /* packets - previous_packets; NAN without comparison */
    double change_pct;              /* NAN: no comparison, or previous below DS_REPORT_MIN_PREV */
    int increase_rank, decrease_rank;   /* among every key of either period; 0: none */
    double *daily;                  /* [days] packets per day */
} ds_report_row;

typedef struct ds_report_table {
    ds_report_row *rows;
    size_t n;
    uint64_t keys;                  /* distinct keys in the period (services seen, regions seen) */
} ds_report_table;

/* Row r's composition by the other dimension: parts[] are the overall top keys of that
 * dimension; values[r * nparts + p] packets; row_totals[r] the row's packets. */
typedef struct ds_report_mix {
    size_t nrows, nparts;
    uint32_t *row_keys, *part_keys;
    double *values, *row_totals;
} ds_report_mix;

typedef struct ds_report_source {
    char addr[64];
    char cc[3];
    uint32_t asn;
    const char *org;                /* may be NULL */
    uint64_t packets;
    uint32_t days;
    uint64_t first_ns, last_ns;
} ds_report_source;

typedef struct ds_report_orgrow { uint32_t asn; const char *org; uint64_t packets, sources; } ds_report_orgrow;

/* Packets by source port: port -1 gathers (source, service) pairs that used several ports in a
 * day, or none (ICMP); see SRCSVC in core/records.h. */
typedef struct ds_report_sport { int port; uint64_t packets; double share; } ds_report_sport;

/* One of the first payloads scanners of a focus service sent most often, as recorded by sensors
 * running `--respond syn` (store.h's payloads_query, grouped by content). */
#define DS_REPORT_MAX_PAYLOADS 5
#define DS_REPORT_EXCERPT 64        /* bytes of a payload shown */
typedef struct ds_report_payload {
    uint64_t count, sources;        /* payloads with these bytes, distinct sources sending them */
    uint64_t first_ns, last_ns;
    uint32_t len;                   /* largest length on the wire */
    size_t kept;                    /* bytes stored (the sensor keeps the first 2 KiB) */
    char excerpt[DS_REPORT_EXCERPT + 1];   /* printable ASCII as it is, any other byte as '.' */
    char hex[2 * DS_REPORT_EXCERPT + 1];   /* the same bytes in hex */
} ds_report_payload;

/* A --focus section: one service or one region. */
typedef struct ds_report_focus {
    ds_report_dim dim;
    uint32_t key;
    char text[32], label[32];
    const char *name;
    uint64_t packets, sources;
    double per_ip_per_day, share;
    int rank;                       /* in its table over the whole ranking; 0 when never seen */
    double *daily;                  /* [days] packets */
    double *daily_sources;          /* [days] distinct sources per day */
    ds_report_mix split;            /* one row (the focus) by the other dimension: daily split below */
    double *split_daily;            /* [split.nparts * days]: packets per day of each part */
    ds_report_source *top_sources; size_t ntop_sources;
    ds_report_orgrow *orgs; size_t norgs;   /* region focus: top organisations (by ASN) */
    ds_report_sport *sports; size_t nsports; /* top source ports (at most 5, plus port -1 if it ranks) */
    ds_report_payload *payloads; size_t npayloads;  /* service focus: most common first payloads (none: no --respond syn data) */
} ds_report_focus;

typedef struct ds_report_totals {
    uint64_t packets, sources;
    uint64_t sensors, addresses;    /* sensors with data; their monitored IPv4 addresses */
    double per_ip_per_day;
    double per_ip;                  /* per_ip_per_day x days of the period: packets per address over the
                                     * period at the covered rate (the yearly figure) */
    double addr_days;               /* covered address-days (the rates' denominator) */
} ds_report_totals;

/* Coverage of one sensor of the report (report/coverage.c). */
typedef struct ds_report_cov_sensor {
    int64_t id;
    char name[64];
    uint64_t addresses;             /* monitored IPv4 addresses */
    double covered_days;            /* covered days of the period (0..days) */
    double prev_covered_days;       /* of the previous period (0 without comparison) */
} ds_report_cov_sensor;

typedef struct ds_report_coverage {
    int known;                      /* 0: the store keeps no coverage; rates use addresses x days */
    double addr_days;               /* covered address-days: the denominator of this period's rates */
    double prev_addr_days;          /* the previous period's (0 without comparison) */
    double share, prev_share;       /* covered address-days / (addresses x days) of each period */
    int rate_based;                 /* 1: shares differ by more than DS_REPORT_COVER_DIFF (and the previous
                                     * period observed something); changes compare rates */
    double prev_scale;              /* previous packets x prev_scale are compared with this period's (1: raw) */
    double *day_frac;               /* [days] covered share of each day, address-weighted over the sensors */
    ds_report_cov_sensor *sensors; size_t nsensors;
    ds_outage *outages; size_t noutages;   /* overlapping the period, wherever they began or end */
    int64_t data_first, data_last;  /* unix seconds: the store's first covered hour and the end of its last
                                     * (0, 0: none) */
} ds_report_coverage;

typedef struct ds_report_opts {
    ds_period period;
    const ds_config *cfg;           /* declared outages ([sensor.NAME] outage); may be NULL */
    int compare;                    /* 1: against the previous period */
    ds_lang lang;
    size_t top;                     /* rows per table (default 10) */
    int64_t sensor_id;              /* 0: every sensor */
    const char *timezone;           /* for the record */
    const ds_u64set *exclude;       /* sources left out (research scanners), or NULL */
    const char *exclude_label;      /* what was excluded, for the text; NULL when nothing */
    const ds_u64set *research;      /* research scanners ([detect]) for research_scanner events, or NULL */
    uint32_t sensor_silence_s;      /* [detect] sensor_silence for sensor_silent events (0: default) */
    struct { ds_report_dim dim; uint32_t key; } focus[DS_REPORT_MAX_FOCUS];
    size_t nfocus;
} ds_report_opts;

typedef struct ds_report {
    ds_report_opts o;
    ds_period prev;
    int32_t days;
    ds_report_totals cur, previous;
    double change, change_pct;      /* of total packets, NAN as for rows */
    double sources_change_pct;
    ds_report_table services, regions;
    ds_report_mix services_of_regions;    /* rows: top regions; parts: top services */
    ds_report_mix regions_of_services;    /* rows: top services; parts: top regions */
    double iot_share;               /* packets of IoT-targeted services among the top 30 / top-30 packets */
    uint64_t iot_packets, top30_packets;
    size_t iot_in_top30;
    ds_report_focus *focus; size_t nfocus;
    ds_events events;               /* notable phenomena of the period (analysis/events.h) */
    ds_report_coverage coverage;    /* which days each sensor observed, and the rates' denominators */
    const ds_names *names;          /* borrowed */
    const ds_geo *geo;              /* borrowed, may be NULL: organisation names in sentences */
} ds_report;

/* Parse a --focus value: "1521/tcp" (a service) or "JP" (a region, ISO 3166 alpha-2). */
ds_rc ds_report_focus_parse(const char *text, ds_report_dim *dim, uint32_t *key, ds_err *err);

/* DS_ENOTFOUND, with a message in the report's language ("No data for Q3 2023: the store covers
 * ..."), when no sensor of the report observed a single hour of the period. */
ds_rc ds_report_build(ds_store *st, const ds_geo *geo, const ds_names *names, const ds_report_opts *o,
                      ds_report *out, ds_err *err);
void ds_report_free(ds_report *r);

/* Label of a local day (ISO "2023-07-01"), from the report's first day + i. */
int32_t ds_report_day(const ds_report *r, size_t i);

#endif
