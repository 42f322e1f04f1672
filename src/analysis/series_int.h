/* series_int.h: what the series detector's files share (detect_series.c and series_*.c); not for
 * callers outside them.
 *
 * The detector is four steps, one file each:
 *
 *   series_load.c     two scans of SRCSVC: rank every service and country of the period and the
 *                     previous one, then fill the daily series (packets, and the day's largest
 *                     source; for countries also distinct sources) of the judged keys.
 *   series_judge.c    the rules on one series: spike and surge runs against robust baselines
 *                     (robust.h), new services, climbs in the ranking, and a country's runs in
 *                     its distinct sources a day; each a candidate (cand).
 *   series_drivers.c  one more scan over the candidates' days: who drives each candidate (top
 *                     sources, the leading country or service and source port, sources per day).
 *   detect_series.c   the driver of the steps, the rules that drop or fold candidates (single
 *                     source, materiality of a population, floods, a country explained by a
 *                     service), and each kept candidate's facts as an event.
 *
 * The thresholds are here, in one table, with docs/detection.md ("Spikes, surges, new services,
 * single sources") giving their reasons and sources.
 */
#ifndef DS_SERIES_INT_H
#define DS_SERIES_INT_H
#include <stdint.h>

#include "analysis/cube.h"
#include "analysis/events_int.h"
#include "analysis/series_keys.h"
#include "analysis/top.h"
#include "core/detin.h"
#include "core/fingerprint.h"
#include "core/hash.h"
#include "core/records.h"
#include "store/filter.h"

#define BASELINE_DAYS 28        /* trailing window of a day's baseline: four weeks, so every weekday 4x */
#define TOP_KEYS 100            /* series judged per dimension, by packets in the period or the previous */
#define SPIKE_MAX_DAYS 6        /* a longer run is a surge: planted and reported spikes last days, surges weeks */
#define SURGE_FROM_RANK 30      /* rank jump: from 30th or lower ... */
#define SURGE_TO_RANK 20        /* ... into the top 20 (the seed report's 1521/tcp: 74th to 13th) */
#define SURGE_MIN_RATIO 2.0     /*   and at least twice the previous period's packets per day */
/* new service: not one packet in the previous period's length before it (a stray packet means known) */
#define NEW_MIN_SHARE 0.0002    /*   and at least 0.02% of all the period's packets */
#define NEW_MIN_SOURCES 5       /*   from at least 5 sources (fewer is a host, not a service's users) */
#define MIN_EXCESS_SHARE 0.005  /* a run adds at least 0.5% of a mean day's packets in all */
/* Materiality, as shares of the period's mean daily packets (all services): an observatory
 * reports what changes its picture, and a small service doubling for a day does not. */
#define SPIKE_MIN_PEAK 0.005    /* spike: the peak day's excess over the baseline */
#define SURGE_MIN_EXCESS 0.01   /* surge: the mean daily excess over its days */
#define NEW_MIN_PEAK 0.002      /* new service: the peak day (its baseline is nothing: no noise to clear) */
#define NEW_MAX_LEAD_DAYS 7     /* new service: days seen at a low level before it rose, fewer than */
#define SINGLE_MIN_DAY 0.0125   /* single source: the host's own packets on its busiest day (above every
                                 * population host's one-host burst of seeds 1-60: docs/detection.md) */
#define SINGLE_SHARE 0.5        /* one source sent >= 50% of the excess: single_source */
#define ONE_COUNTRY 0.9         /* ">= 90% from one country", as the issue and the seed reports say */
#define ONE_SPORT 0.99          /* ">= 99% from one source port" */
#define LEAD_SHARE 0.5          /* a service's country (or a country's service) is named from 50% */
#define FOLD_SHARE 0.3          /* a country that made 30% of a service's rise on its own spike days owns it */
#define SOURCES_RISE 1.5        /* a population's rise brings new sources: 1.5x the week before's per day */
/* A country's sources a day are judged from a baseline of 5 a day: below, z >= 6 over a Poisson
 * count is a tail over 10^-5 (median 1: 7 sources, 8 x 10^-5; at 5: 19 sources, 1.4 x 10^-6) */
#define SRC_MIN_MEDIAN 5
#define MAX_CANDS 256
#define WORK_SERIES 9           /* ds_series_judge's scratch, in series of ndays */

typedef struct keyrow {
    uint32_t key;
    uint64_t p, q;          /* packets in the period, in the previous period */
    int rank_p, rank_q;     /* 1-based; 0 = no packets */
    double *x;              /* daily series from base_from (NULL unless judged) */
    double *top;            /* the same days: packets of the day's largest source (see load_all) */
    double *srcs;           /* countries: the same days, distinct sources (NULL for services) */
} keyrow;

typedef struct series_tab {
    ds_cube_dim dim;
    keyrow *rows;
    size_t n;
} series_tab;

typedef struct cand {
    ds_cube_dim dim;
    uint32_t key;
    char type[24];
    int32_t d0, d1, peak_day;
    double median, sigma, peak, peak_z, total, excess;
    double base;            /* the baseline the run was judged against: evidence and summaries (median
                               may be the higher level of the week before, for the excess only) */
    double observed;        /* packets received on its days (total is scaled to whole days) */
    double excess_seen;     /* the excess over the median in what was received (hosts' shares are of this) */
    double seen_days;       /* its days, each weighted by its observed share (cov_weights.h) */
    int rank_p, rank_q;
    double per_day_p, per_day_q;
    int dropped;
    /* drivers */
    ds_top_result top;
    uint32_t lead;          /* top country (service events) or service (country events) */
    double lead_share;
    double lead_excess_share;   /* the lead's rise against the week before, as a share of the excess */
    uint32_t sport;
    double sport_share;
    double src_per_day, src_per_day_before;
    double top1, top1_day;  /* the top source's packets over the event and on its busiest day */
    uint64_t top1_src;
    int32_t top1_d0, top1_d1; /* the top source's first and last day with records in the event */
    uint64_t nsources;      /* distinct sources over the event's days */
    ds_event_source top5[DS_EVENT_TOP_SOURCES];
    size_t ntop5;
    int top_v6;             /* an IPv6 source is among them: its address comes from SOURCES */
    const double *xs;       /* the key's daily series from base_from (the event's figure) */
    /* a country run found in its distinct sources a day (series_judge.c), not in its packets:
     * the baseline, peak and robust z it passed the rule with */
    int by_sources;
    double src_base, src_sigma, src_peak;
    int32_t src_peak_day;
    uint32_t src_lead;      /* its service with the most sources a day (series_drivers.c) */
    double src_lead_share;  /*   that service's rise in sources a day, as a share of the country's */
} cand;

typedef struct ctx {
    ds_store *st;
    const ds_event_query *q;
    int32_t first_day;      /* first day with data in the store */
    int32_t base_from, prev_from, ndays;
    double *dayw;           /* [ndays] each day's coverage weight (cov_weights.h): 1, frac, 0 missing */
    double days_p, days_q;  /* observed days of the period and of the previous one (rates' denominators) */
    double mean_day;        /* mean daily packets over the period, per observed day */
    double *work;           /* judge's scratch: WORK_SERIES x ndays */
    ds_series_keys keys;    /* the scan's sums, then the judged keys' slots; its memory holds the series */
    double *xs_owned;       /* the series when they did not fit there */
    double *srcs;           /* the countries' sources a day (keyrow.srcs) */
    void *spare[2];         /* keys' memory the series left free (the drivers' items go there) */
    size_t spare_len[2];    /* bytes */
    uint64_t period_packets;
    cand *c;
    size_t nc;
} ctx;

static inline void base_filter(const ctx *x, ds_filter *f)
{
    ds_filter_init(f);
    f->sensor_id = x->q->sensor_id;
    f->exclude = x->q->exclude;
    f->cls = DS_CLASS_SCAN;   /* backscatter is a victim's replies, with its own detector */
}

/* The scans read the few fields they test in place, at the offsets of records.h's SRCSVC layout
 * (src u64 | service u32 | asn u32 | packets u32 | class u8 | cc[2] | flags u8 | sport u16 |
 * tools u8), and decode a whole record (ds_rec_srcsvc_get) only when they keep it: its byte
 * stores into a struct, read back at once as wider words, stalled store forwarding on each of the
 * million records a scan reads. */
_Static_assert(DS_REC_SRCSVC == 28, "the series scans read SRCSVC fields at records.h's offsets");
#define SS_SRC 0
#define SS_SERVICE 8
#define SS_PACKETS 16
#define SS_CLASS 20
#define SS_CC 21
#define SS_TOOLS 26
#define SERIES_TOOLS DS_DETIN_SERIES_TOOLS   /* sources left out throughout */

static inline uint32_t ss_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t ss_u64(const uint8_t *p)
{
    return (uint64_t)ss_u32(p) | (uint64_t)ss_u32(p + 4) << 32;
}

static inline uint16_t ss_cc(const uint8_t *rec)
{
    return (uint16_t)(rec[SS_CC] << 8 | rec[SS_CC + 1]);   /* ds_cc_pack */
}

/* ds_filter_match(f, record) for base_filter's f (class, excluded sources), and not a tool's. */
static inline int counted(const ds_filter *f, const uint8_t *rec)
{
    if ((rec[SS_TOOLS] & SERIES_TOOLS) || rec[SS_CLASS] != (uint8_t)f->cls)
        return 0;
    if (!f->exclude)
        return 1;
    ds_rec_srcsvc r;
    ds_rec_srcsvc_get(rec, &r);
    return ds_filter_match(f, &r);
}

/* The coverage weight of a day (cov_weights.h; 1 outside the series' days). */
static inline double day_w(const ctx *x, int32_t day)
{
    return day >= x->base_from && day - x->base_from < x->ndays ? x->dayw[day - x->base_from] : 1.0;
}

/* series_load.c: the judged rows of services (svc) and countries (cc) with their series, and
 * x's mean day and period packets; the series live in x->keys' memory or x->xs_owned. */
ds_rc ds_series_load(ctx *x, series_tab *svc, series_tab *cc, ds_err *err);
void ds_series_tab_free(series_tab *t);
/* series_judge.c: the candidates of one series (appended to x->c, at most MAX_CANDS). */
void ds_series_judge(ctx *x, const series_tab *t, const keyrow *r, ds_err *err);
/* series_drivers.c: what drives each candidate not dropped; *tools gets the tool-attributed
 * sources met (left out of the top sources). */
ds_rc ds_series_drivers(ctx *x, ds_u64set *tools, ds_err *err);
/* series_drivers.c: c's top sources from SOURCES (for IPv6 addresses), without those of tools. */
ds_rc ds_series_top_sources(ctx *x, cand *c, const ds_u64set *tools, ds_err *err);

#endif
