/* detect_series.c: the `spike`, `surge`, `new_service` and `single_source` events.
 *
 * Daily packets per service and per source country, over the period and the previous period of
 * equal length (at least 28 days) before it, come from two scans of SRCSVC (scan-class records
 * only; backscatter has its own detector): the first ranks every key in the period and the
 * previous one, the second fills daily series for the 100 largest services and countries of
 * either, so a handful of packets to a random port never becomes an event.
 *
 *   spike        a run of days whose robust z-score against the trailing 28 days (median and
 *                1.4826 x MAD, with the same-weekday median as a seasonal floor; robust.h) is
 *                >= 6 and whose ratio to that median is >= 2.5, extended both ways while z >= 3,
 *                x >= 1.5 x median and the excess stays >= 25% of the run's peak excess; 6 days
 *                or fewer.
 *   surge        such a run of 7 days or more, or a climb in the ranking against the previous
 *                period (from 30th or lower into the top 20, at least doubled per day), dated by
 *                the days that left the previous period's robust range.
 *   new_service  a service with not one packet in the previous period's length before it, now
 *                rising by the rule above (or carrying >= 0.02% of the period's packets), from
 *                at least 5 sources.
 *   single_source  any of the above where one source sent at least half of the excess over the
 *                baseline and, on its busiest day, at least 1.5% of a mean day's packets.
 *
 * Materiality: an event's peak day adds >= 0.5% of the period's mean daily packets (new service:
 * 0.2%; surge: >= 1% a day on average), and a spike or surge of a population brings new sources
 * (>= 1.5x the week before's distinct sources per day); otherwise it is the heavy tail of a few
 * big sources, which a Pareto population produces every week.
 *
 * Heavy hosts: a Pareto population has hosts that send hundreds of packets a day to one service
 * for weeks.  The second scan also keeps each (key, day)'s largest source, and population runs are
 * looked for in the series with each day's largest source held to its usual size, while one-host
 * runs are the whole series against that baseline, raised to the level of the two weeks before
 * (robust.h, ds_spike_runs_vs).  Without this, such a host's weeks widened the baseline until a
 * real spike no longer stood out, and a spike riding on its plateau was swallowed by it.
 *
 * What drives each event comes from one more scan over the candidates' days (a week before each
 * to its end), copied out per candidate: the top sources and the busiest day of the first, the
 * country split of a service or the service split of a country (and how much of the rise the
 * leading one made), the source-port split, distinct sources per day.  A service event and a
 * country event that explain each other are one phenomenon (the country folds into the service);
 * a service event inside a country event's days that the country made >= 30% of folds into the
 * country.  Sources attributed to ZMap, Masscan or Nmap are left out throughout: each is a `tool`
 * event already.  DS_SERIES_DEBUG=1 in the environment prints every candidate and why it was
 * kept or dropped, for tuning on held-out data.
 *
 * Time a sensor did not observe is missing, not zero (issue #19; cov_weights.h): each day is
 * judged as is, scaled by its observed share, or missing (below 40%, or a day an outage begins or
 * ends); runs pass over missing days and are not ended by scaled ones; rates against the previous
 * period and the materiality rules' mean day are per observed day.
 *
 * Thresholds, with their reasons and sources, are in docs/detection.md ("Spikes, surges, new
 * services", "Time a sensor did not observe").
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/cov_weights.h"
#include "analysis/cube.h"
#include "analysis/events_int.h"
#include "core/flood.h"
#include "analysis/groupsum.h"
#include "analysis/robust.h"
#include "analysis/series_keys.h"
#include "analysis/top.h"
#include "core/fingerprint.h"
#include "core/hash.h"
#include "util/textfmt.h"
#include "util/timeutil.h"
#include "util/grow.h"

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
#define SINGLE_MIN_DAY 0.015    /* single source: the host's own packets on its busiest day */
#define SINGLE_SHARE 0.5        /* one source sent >= 50% of the excess: single_source */
#define ONE_COUNTRY 0.9         /* ">= 90% from one country", as the issue and the seed reports say */
#define ONE_SPORT 0.99          /* ">= 99% from one source port" */
#define LEAD_SHARE 0.5          /* a service's country (or a country's service) is named from 50% */
#define FOLD_SHARE 0.3          /* a country that made 30% of a service's rise on its own spike days owns it */
#define SOURCES_RISE 1.5        /* a population's rise brings new sources: 1.5x the week before's per day */
#define MAX_CANDS 256

/* The rule for spike runs (events_int.h: the unit tests judge by it too). */
const ds_spike_rule ds_series_spike_rule = {
    .window = BASELINE_DAYS, .min_days = 14,
    .z_start = 6,           /* far past Iglewicz & Hoaglin's 3.5: 200 series x 92 days are judged */
    .ratio_start = 2.5,     /* and 2.5x the baseline: one big Pareto source doubles a small service */
    .z_extend = 3, .ratio_extend = 1.5,
    .peak_frac = 0.25,
    .split_frac = 0.5,      /* two spikes in a week with a day between them at under half of each: two
                             * events (the @police-style quarter's country spiking twice, issue #20) */
    .split_max_days = SPIKE_MAX_DAYS,
    .onset_min_days = SPIKE_MAX_DAYS + 1,  /* a surge is dated where its rise began (changepoint.h) */
    .min_excess = 0,        /* set per store from MIN_EXCESS_SHARE */
};

typedef struct keyrow {
    uint32_t key;
    uint64_t p, q;          /* packets in the period, in the previous period */
    int rank_p, rank_q;     /* 1-based; 0 = no packets */
    double *x;              /* daily series from base_from (NULL unless judged) */
    double *top;            /* the same days: packets of the day's largest source (see load_all) */
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
    uint64_t nsources;      /* distinct sources over the event's days */
    ds_event_source top5[DS_EVENT_TOP_SOURCES];
    size_t ntop5;
    int top_v6;             /* an IPv6 source is among them: its address comes from SOURCES */
    const double *xs;       /* the key's daily series from base_from (the event's figure) */
} cand;

typedef struct ctx {
    ds_store *st;
    const ds_event_query *q;
    int32_t first_day;      /* first day with data in the store */
    int32_t base_from, prev_from, ndays;
    double *dayw;           /* [ndays] each day's coverage weight (cov_weights.h): 1, frac, 0 missing */
    double days_p, days_q;  /* observed days of the period and of the previous one (rates' denominators) */
    double mean_day;        /* mean daily packets over the period, per observed day */
    double *work;           /* judge's scratch: 6 x ndays */
    ds_series_keys keys;    /* the scan's sums, then the judged keys' slots; its memory holds the series */
    double *xs_owned;       /* the series when they did not fit there */
    void *spare[2];         /* keys' memory the series left free (the drivers' items go there) */
    size_t spare_len[2];    /* bytes */
    uint64_t period_packets;
    cand *c;
    size_t nc;
} ctx;

static void base_filter(const ctx *x, ds_filter *f)
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
#define SS_SERVICE 8
#define SS_PACKETS 16
#define SS_CLASS 20
#define SS_CC 21
#define SS_TOOLS 26
#define SERIES_TOOLS (DS_TOOL_ZMAP | DS_TOOL_MASSCAN | DS_TOOL_NMAP)   /* sources left out throughout */

static inline uint32_t ss_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
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

/* Two scans of SRCSVC over [base_from, to].  The first sums packets per (dimension, key) in the
 * period and in the previous one, for the ranks; the second fills daily series for the judged
 * keys only.  One pass with a (key, day) table was slower: random-port scans touch tens of
 * thousands of services a quarter, and keeping half a million (key, day) cells cost more than
 * reading the chunks twice (fresh memory is dear on our VM: about 3 ms a megabyte of 4 KiB pages
 * the kernel must fault in and clear).  The sums are kept in arrays indexed by the key itself
 * (series_keys.h), and only the top keys of each period are ranked exactly (a heap, then each
 * judged key's rank by counting the keys before it), not every key sorted.  Once the ranks are
 * known the sums are dead, and their memory, already faulted in, holds the series: no fresh
 * megabytes for them.
 * Sources attributed to ZMap, Masscan or Nmap are left out: each is a `tool` event of its own,
 * and a ZMap or Masscan sweep (one packet to every dark address on one port, within minutes)
 * would otherwise be the commonest single-host jump of a small service. */
/* The largest source of a (key, day) is approximated by the largest SRCSVC record, per sensor
 * (a scanner's packets to one service arrive as one record per sensor that saw it), summed over
 * sensors.  More sensors than lanes share lanes, which can only overstate the largest source.
 * Chunks come in day order (store.h's scan), so the second pass keeps the largest record of each
 * judged key per lane for the current day only, and adds the lanes up into the day's cell when
 * the day changes: a few kilobytes reused, not a lane per cell of the whole half year. */
#define LANES 8

typedef struct scan_ctx {
    ds_series_keys *keys;   /* pass 1: sums per key (series_keys.h); pass 2: the judged keys' slots */
    const ds_filter *f;
    int32_t base, from, prev_from, ndays;
    double *xs;             /* second pass: nslots x ndays */
    double *top;            /* second pass: the same cells, the day's largest record summed over lanes */
    uint32_t *lane_max;     /* second pass: nslots x LANES, the largest record of the current day */
    size_t nslots;
    int32_t cur_day;        /* the day lane_max holds */
    unsigned lanes_used;    /* bit per lane written since the day began */
    int64_t lane_id[LANES]; /* sensor id of each lane (0: free) */
    size_t lane;            /* the lane of the chunk being read */
    int fill;
    /* first pass: the period's packets per sensor (the mean day is summed from each sensor's
     * packets over its own observed days); sensors past LANES go to per_sensor_extra */
    int64_t ps_id[LANES];
    double ps_packets[LANES], per_sensor_extra;
} scan_ctx;

/* Pass 1: a record's packets toward its key's sums for the period or the previous one. */
static inline int count(scan_ctx *c, int dim, uint32_t key, int32_t day, uint32_t packets)
{
    long i = ds_series_keys_meet(c->keys, dim, key);
    if (i < 0)
        return -1;
    if (day >= c->from)
        c->keys->p[i] += packets;
    else if (day >= c->prev_from)
        c->keys->q[i] += packets;
    return 0;
}

/* Pass 2: a record's packets into its key's series, when the key is judged. */
static inline void fill(scan_ctx *c, long i, int32_t day, uint32_t packets)
{
    unsigned v = c->keys->known[i];
    if (v < DS_SK_SLOT)
        return;
    size_t s = v - DS_SK_SLOT;
    c->xs[s * (size_t)c->ndays + (size_t)(day - c->base)] += packets;
    uint32_t *t = &c->lane_max[s * LANES + c->lane];
    if (packets > *t)
        *t = packets;
}

/* Pass 2: the current day's largest records, summed over the lanes, into its cells. */
static void flush_day(scan_ctx *c)
{
    if (!c->lanes_used)
        return;
    size_t day = (size_t)(c->cur_day - c->base);
    for (size_t s = 0; s < c->nslots; s++) {
        uint32_t *lm = &c->lane_max[s * LANES];
        double t = 0;
        for (size_t l = 0; l < LANES; l++)
            t += lm[l];
        memset(lm, 0, LANES * sizeof *lm);
        if (isfinite(c->top[s * (size_t)c->ndays + day]))
            c->top[s * (size_t)c->ndays + day] = t;
    }
    c->lanes_used = 0;
}

static ds_rc on_srcsvc(void *vctx, int64_t sensor_id, int32_t day, const uint8_t *data, size_t nrec, ds_err *err)
{
    scan_ctx *c = vctx;
    double *ps = &c->per_sensor_extra;
    for (size_t l = 0; !c->fill && l < LANES; l++)
        if (c->ps_id[l] == sensor_id || !c->ps_id[l]) {
            c->ps_id[l] = sensor_id;
            ps = &c->ps_packets[l];
            break;
        }
    if (c->fill) {
        if (day != c->cur_day) {
            flush_day(c);
            c->cur_day = day;
        }
        size_t l = 0;
        while (l < LANES && c->lane_id[l] && c->lane_id[l] != sensor_id)
            l++;
        if (l == LANES)
            l = (size_t)sensor_id % LANES;
        else
            c->lane_id[l] = sensor_id;
        c->lane = l;
        c->lanes_used |= 1u << l;
    }
    for (size_t i = 0; i < nrec; i++) {
        const uint8_t *rec = data + i * DS_REC_SRCSVC;
        if (!counted(c->f, rec))
            continue;
        uint32_t service = ss_u32(rec + SS_SERVICE), packets = ss_u32(rec + SS_PACKETS);
        uint16_t cc = ss_cc(rec);
        if (c->fill) {
            fill(c, ds_series_keys_find(c->keys, 0, service), day, packets);
            fill(c, ds_series_keys_find(c->keys, 1, cc), day, packets);
        } else if (count(c, 0, service, day, packets) != 0 || count(c, 1, cc, day, packets) != 0) {
            return ds_fail(err, DS_ENOMEM, "out of memory building daily series");
        } else if (day >= c->from) {
            *ps += packets;
        }
    }
    return DS_OK;
}

/* Ranks: by packets, then the smaller key; 1-based; 0 for a key without packets. */
typedef struct ranked { uint64_t v; uint32_t key, idx; } ranked;

static inline int ranked_before(const ranked *a, const ranked *b)
{
    return (a->v > b->v) | ((a->v == b->v) & (a->key < b->key));   /* no branch: it decides searches */
}

static int ranked_cmp(const void *a, const void *b)
{
    const ranked *x = a, *y = b;
    return ranked_before(x, y) ? -1 : ranked_before(y, x);
}

/* A heap of the TOP_KEYS first keys met so far (its root is the one every other comes before). */
typedef struct top_heap { ranked e[TOP_KEYS]; size_t n; } top_heap;

static void heap_offer(top_heap *h, const ranked *r)
{
    if (!r->v || (h->n == TOP_KEYS && !ranked_before(r, &h->e[0])))
        return;
    ranked *out = h->e;
    size_t at, n = h->n;
    if (n < TOP_KEYS) {   /* sift up */
        at = h->n++;
        while (at > 0 && ranked_before(&out[(at - 1) / 2], r)) {
            out[at] = out[(at - 1) / 2];
            at = (at - 1) / 2;
        }
    } else {              /* replace the root, sift down */
        at = 0;
        for (;;) {
            size_t l = 2 * at + 1, m = at;
            const ranked *worst = r;
            if (l < n && ranked_before(worst, &out[l]))
                worst = &out[m = l];
            if (l + 1 < n && ranked_before(worst, &out[l + 1]))
                worst = &out[m = l + 1];
            if (m == at)
                break;
            out[at] = out[m];
            at = m;
        }
    }
    out[at] = *r;
}

/* Where r goes among the nz judged keys with packets j[] (sorted): counted in before[] at the
 * first one it comes before (only before[a] of those is used, so a key that comes after all of
 * them is not counted).  A random-port scan's thousands of keys have a few packets each: for a
 * count v < PLACE_DIRECT the first judged key with at most v packets is at[v], worked out once,
 * and only a judged key with v packets too (a tie, broken by the key) needs a look past it; a
 * larger count is placed by binary search. */
#define PLACE_DIRECT 4096
_Static_assert(2 * TOP_KEYS < 256, "place_table keeps judged-key indexes in bytes");
_Static_assert(4 * TOP_KEYS <= DS_SK_MAX_SLOTS, "series slots are kept in series_keys.h's known[]");

static void place_table(const ranked *j, size_t nz, uint8_t *at)
{
    size_t m = nz;
    for (uint64_t v = 1; v < PLACE_DIRECT; v++) {
        while (m > 0 && j[m - 1].v <= v)
            m--;
        at[v] = (uint8_t)m;
    }
}

static inline void place(const ranked *r, const ranked *j, size_t nz, const uint8_t *at, int32_t *before)
{
    if (!r->v)
        return;
    size_t lo;
    if (r->v < PLACE_DIRECT) {
        lo = at[r->v];
        while (lo < nz && j[lo].v == r->v && j[lo].key <= r->key)
            lo++;
    } else {
        if (!nz || !ranked_before(r, &j[nz - 1]))
            return;
        const ranked *base = j;   /* the first j r comes before, in [base, base + n] */
        size_t n = nz;
        while (n > 1) {
            size_t half = n / 2;
            base = ranked_before(r, &base[half]) ? base : base + half;
            n -= half;
        }
        lo = (size_t)(base - j) + !ranked_before(r, base);
    }
    before[lo]++;
}

/* The judged keys of one dimension (ranked in the top TOP_KEYS of the period or the previous
 * one), with their sums and ranks, in the order of j; each key's known[] is DS_SK_SLOT + its
 * place in j until table_rows gives it a series slot. */
typedef struct judged_set {
    ranked j[2 * TOP_KEYS];
    uint64_t p[2 * TOP_KEYS], q[2 * TOP_KEYS];
    int32_t rank_p[2 * TOP_KEYS], rank_q[2 * TOP_KEYS];
    size_t n;
} judged_set;

/* Every key met, in index order (the sums are read in order, not at random).  1 with the next
 * key's dimension, key and index. */
typedef struct key_iter { size_t i, o; } key_iter;

static int next_key(const ds_series_keys *k, key_iter *it, int *dim, uint32_t *key, long *at)
{
    while (it->i < DS_SK_DENSE) {
        size_t i = it->i++;
        if (k->known[i]) {
            *key = ds_series_keys_dense_key(i, dim);
            *at = (long)i;
            return 1;
        }
    }
    while (it->o < k->other_cap) {   /* services of other protocols */
        size_t o = it->o++;
        if (k->other_idx[o]) {
            *dim = 0;
            *key = k->other_key[o];
            *at = k->other_idx[o];
            return 1;
        }
    }
    return 0;
}

/* The judged keys of both dimensions, js[dim], and the period's packets.  Two passes over the
 * keys met: one for the first keys of each dimension and period (heaps), one for the judged
 * keys' ranks (a key's rank is one more than the keys of its dimension that come before it: each
 * key is placed among the judged ones, sorted (place), so this is O(keys log judged) at most, not
 * a sort of every key). */
static void judged_keys(ds_series_keys *k, judged_set js[2], uint64_t *period_packets)
{
    top_heap heap[2][2] = { 0 };   /* [dim][period: p, q] */
    ranked jq[2][2 * TOP_KEYS];
    int32_t before[2][2][2 * TOP_KEYS + 1];
    size_t nz[2][2];
    int dim;
    uint32_t key;
    long at;
    for (key_iter it = { 0 }; next_key(k, &it, &dim, &key, &at);) {
        if (!dim)
            *period_packets += k->p[at];   /* every service's: all the period's packets */
        heap_offer(&heap[dim][0], &(ranked){ k->p[at], key, (uint32_t)at });
        heap_offer(&heap[dim][1], &(ranked){ k->q[at], key, (uint32_t)at });
    }
    for (dim = 0; dim < 2; dim++) {
        /* the first TOP_KEYS by either period, once each (known marks them) */
        ranked *j = js[dim].j;
        size_t nj = 0;
        for (int per = 0; per < 2; per++)
            for (size_t a = 0; a < heap[dim][per].n; a++) {
                const ranked *r = &heap[dim][per].e[a];
                if (k->known[r->idx] < DS_SK_SLOT) {
                    k->known[r->idx] = DS_SK_SLOT;
                    j[nj++] = *r;
                }
            }
        js[dim].n = nj;
        /* sorted by each period's packets, for the ranks */
        for (size_t a = 0; a < nj; a++) {
            j[a].v = k->p[j[a].idx];
            jq[dim][a] = j[a];
            jq[dim][a].v = k->q[j[a].idx];
        }
        qsort(j, nj, sizeof *j, ranked_cmp);
        qsort(jq[dim], nj, sizeof *j, ranked_cmp);
        for (nz[dim][0] = 0; nz[dim][0] < nj && j[nz[dim][0]].v; nz[dim][0]++)
            ;
        for (nz[dim][1] = 0; nz[dim][1] < nj && jq[dim][nz[dim][1]].v; nz[dim][1]++)
            ;
    }
    uint8_t direct[2][2][PLACE_DIRECT];
    memset(before, 0, sizeof before);
    for (dim = 0; dim < 2; dim++) {
        place_table(js[dim].j, nz[dim][0], direct[dim][0]);
        place_table(jq[dim], nz[dim][1], direct[dim][1]);
    }
    for (key_iter it = { 0 }; next_key(k, &it, &dim, &key, &at);) {
        place(&(ranked){ k->p[at], key, (uint32_t)at }, js[dim].j, nz[dim][0], direct[dim][0], before[dim][0]);
        place(&(ranked){ k->q[at], key, (uint32_t)at }, jq[dim], nz[dim][1], direct[dim][1], before[dim][1]);
    }
    for (dim = 0; dim < 2; dim++) {
        judged_set *s = &js[dim];
        for (int per = 0; per < 2; per++)
            for (size_t a = 1; a <= s->n; a++)
                before[dim][per][a] += before[dim][per][a - 1];
        /* ranks: the number of keys before it, plus one; 0 for none in that period */
        for (size_t a = 0; a < s->n; a++) {
            k->known[s->j[a].idx] = (uint16_t)(DS_SK_SLOT + a);
            s->p[a] = k->p[s->j[a].idx];
            s->q[a] = k->q[s->j[a].idx];
            s->rank_p[a] = s->p[a] ? before[dim][0][a] + 1 : 0;
        }
        for (size_t a = 0; a < s->n; a++)
            s->rank_q[k->known[jq[dim][a].idx] - DS_SK_SLOT] = jq[dim][a].v ? before[dim][1][a] + 1 : 0;
    }
}

/* The rows of one dimension's judged keys, each with a series slot (known[] = DS_SK_SLOT + slot;
 * slots numbered on from *nslots).  Order contract: by packets in the period, descending, then
 * by key (a service as proto << 16 | port, a country as its packed code), ascending: the order of
 * js->j, so content alone decides in which order series are judged, which candidates the
 * MAX_CANDS cap keeps, and in which order events are emitted.  (Until 2026-12 rows came in the
 * slot order of a hash table filled as records were read, which is the order SQLite returned the
 * chunks, and so depended on the order files were ingested.) */
static ds_rc table_rows(ds_series_keys *k, int dim, const judged_set *js, series_tab *t, size_t *nslots,
                        ds_err *err)
{
    t->dim = dim ? DS_CUBE_COUNTRY : DS_CUBE_SERVICE;
    t->rows = calloc(2 * TOP_KEYS + 1, sizeof *t->rows);
    if (!t->rows)
        return ds_fail(err, DS_ENOMEM, "out of memory building daily series");
    for (size_t i = 0; i < js->n; i++) {
        long at = (long)js->j[i].idx;
        if (k->known[at] < DS_SK_SLOT)
            continue;
        size_t a = k->known[at] - DS_SK_SLOT;
        k->known[at] = (uint16_t)(DS_SK_SLOT + *nslots);
        /* the row keeps its slot number in x until the series exist (see attach_series) */
        t->rows[t->n++] = (keyrow){ .key = js->j[i].key, .p = js->p[a], .q = js->q[a], .rank_p = js->rank_p[a],
                                    .rank_q = js->rank_q[a], .x = (double *)(uintptr_t)(++*nslots) };
    }
    return DS_OK;
}

static void attach_series(series_tab *t, double *xs, double *top, int32_t ndays)
{
    for (size_t i = 0; i < t->n; i++) {
        uintptr_t s1 = (uintptr_t)t->rows[i].x;
        t->rows[i].x = s1 ? xs + (s1 - 1) * (size_t)ndays : NULL;
        t->rows[i].top = s1 ? top + (s1 - 1) * (size_t)ndays : NULL;
    }
}

/* The judged rows and their series (in x->keys' memory, or x->xs_owned when they do not fit). */
static ds_rc load_all(ctx *x, series_tab *svc, series_tab *cc, ds_err *err)
{
    ds_filter f;
    base_filter(x, &f);
    ds_series_keys *k = &x->keys;
    scan_ctx c = { .keys = k, .f = &f, .base = x->base_from, .from = x->q->from, .prev_from = x->prev_from,
                   .ndays = x->ndays };
    size_t nslots = 0;
    ds_rc rc = DS_OK;
    judged_set *js = malloc(2 * sizeof *js);
    if (!js || ds_series_keys_init(k) != 0)
        goto nomem;
    if ((rc = ds_store_scan(x->st, DS_CHUNK_SRCSVC, x->q->sensor_id, x->base_from, x->q->to, on_srcsvc, &c, err)) !=
        DS_OK)
        goto out;
    judged_keys(k, js, &x->period_packets);
    /* the mean day per observed day: each sensor's packets over its own observed days, so that a
     * sensor's share of the traffic need not follow its share of the addresses */
    if (!c.per_sensor_extra && ds_cov_known(x->q->coverage)) {
        double m = 0;
        for (size_t l = 0; l < LANES && c.ps_id[l]; l++) {
            double days = ds_cov_days(x->q->coverage, c.ps_id[l], x->q->from, x->q->to);
            m += days > 0 ? c.ps_packets[l] / days : 0;
        }
        x->mean_day = m;
    }
    /* the sums are dead from here: their memory holds the series */
    if ((rc = table_rows(k, 0, &js[0], svc, &nslots, err)) != DS_OK ||
        (rc = table_rows(k, 1, &js[1], cc, &nslots, err)) != DS_OK)
        goto out;
    size_t cells = (nslots ? nslots : 1) * (size_t)x->ndays;
    /* xs holds the series, then the largest-source series (attach_series) */
    x->spare[0] = k->q;
    x->spare_len[0] = k->cap * sizeof *k->q;
    if (2 * cells <= k->cap) {
        c.xs = (double *)k->p;
        x->spare[1] = c.xs + 2 * cells;
        x->spare_len[1] = (k->cap - 2 * cells) * sizeof *k->p;
    } else {
        if (!(c.xs = x->xs_owned = malloc(2 * cells * sizeof *c.xs)))
            goto nomem;
        x->spare[1] = k->p;
        x->spare_len[1] = k->cap * sizeof *k->p;
    }
    c.lane_max = calloc((nslots ? nslots : 1) * LANES, sizeof *c.lane_max);
    if (!c.lane_max)
        goto nomem;
    c.top = c.xs + cells;
    c.nslots = nslots;
    for (size_t i = 0; i < nslots; i++)
        for (int32_t d = 0; d < x->ndays; d++)
            c.xs[i * (size_t)x->ndays + (size_t)d] = c.top[i * (size_t)x->ndays + (size_t)d] =
                x->base_from + d < x->first_day ? NAN : 0;
    c.fill = 1;
    c.cur_day = x->base_from - 1;
    if ((rc = ds_store_scan(x->st, DS_CHUNK_SRCSVC, x->q->sensor_id, x->base_from, x->q->to, on_srcsvc, &c, err)) !=
        DS_OK)
        goto out;
    flush_day(&c);
    /* time no sensor observed is missing, not zero; a day half the addresses saw counts double */
    for (size_t i = 0; i < 2 * nslots; i++)
        ds_cov_apply(c.xs + i * (size_t)x->ndays, x->dayw, (size_t)x->ndays);
    attach_series(svc, c.xs, c.top, x->ndays);
    attach_series(cc, c.xs, c.top, x->ndays);
    goto out;
nomem:
    rc = ds_fail(err, DS_ENOMEM, "out of memory building daily series");
out:
    if (rc != DS_OK) {
        for (size_t i = 0; i < svc->n; i++)
            svc->rows[i].x = svc->rows[i].top = NULL;
        for (size_t i = 0; i < cc->n; i++)
            cc->rows[i].x = cc->rows[i].top = NULL;
    }
    free(c.lane_max);
    free(js);
    return rc;
}

static void series_free(series_tab *t)
{
    free(t->rows);
    memset(t, 0, sizeof *t);
}

static cand *cand_add(ctx *x, ds_cube_dim dim, uint32_t key, const char *type, int32_t d0, int32_t d1, ds_err *err)
{
    if (x->nc == MAX_CANDS)
        return NULL;   /* more is not an observatory's week: keep the first, largest-ranked ones */
    cand *c = &x->c[x->nc++];
    memset(c, 0, sizeof *c);
    c->dim = dim;
    c->key = key;
    snprintf(c->type, sizeof c->type, "%s", type);
    c->d0 = d0;
    c->d1 = d1;
    (void)err;
    return c;
}

/* Sum, peak and excess of x over [d0, d1] (local days) against median m. */
static void run_stats(const ctx *x, const keyrow *r, cand *c, double m)
{
    c->xs = r->x;
    c->median = c->base = m;
    c->total = c->excess = c->peak = c->observed = c->excess_seen = c->seen_days = 0;
    c->peak_day = c->d0;
    for (int32_t d = c->d0; d <= c->d1; d++) {
        double v = r->x[d - x->base_from];
        if (!isfinite(v))
            continue;
        c->total += v;
        double w = x->dayw[d - x->base_from];
        c->observed += v * w;
        c->excess_seen += (v - m) * w;
        c->seen_days += w;
        c->excess += v - m;
        if (v > c->peak) {
            c->peak = v;
            c->peak_day = d;
        }
    }
}

/* The judgments on one series: new service, spike and surge runs, rank jump. */
static void judge(ctx *x, const series_tab *t, const keyrow *r, ds_err *err)
{
    const ds_event_query *q = x->q;
    int32_t ndays_p = q->to - q->from + 1;
    int32_t prev_days = q->from - (x->prev_from > x->first_day ? x->prev_from : x->first_day);
    /* rates per observed day: a period with a sensor dark for days is not a quieter period */
    double per_p = x->days_p > 0 ? (double)r->p / x->days_p : 0,
           per_q = prev_days > 0 && x->days_q > 0 ? (double)r->q / x->days_q : NAN;
    double min_excess = MIN_EXCESS_SHARE * x->mean_day;
    size_t from = (size_t)(q->from - x->base_from);

    if (t->dim == DS_CUBE_SERVICE && prev_days >= 14 && (double)r->p >= NEW_MIN_SHARE * (double)x->period_packets &&
        r->q == 0 && r->x[from - 1] == 0) {
        /* dated by the days that carry a tenth of its mean active day */
        double active = 0, sum = 0;
        for (size_t d = from; d < (size_t)x->ndays; d++)
            if (r->x[d] > 0) {
                active++;
                sum += r->x[d];
            }
        double floor_v = 0.1 * sum / (active > 0 ? active : 1);
        int32_t d0 = -1, d1 = -1;
        for (size_t d = from; d < (size_t)x->ndays; d++)
            if (r->x[d] >= floor_v && r->x[d] > 0) {
                if (d0 < 0)
                    d0 = (int32_t)d;
                d1 = (int32_t)d;
            }
        cand *c = d0 >= 0 ? cand_add(x, t->dim, r->key, "new_service", x->base_from + d0, x->base_from + d1, err) : NULL;
        if (c) {
            run_stats(x, r, c, 0);
            if (c->peak < NEW_MIN_PEAK * x->mean_day) {
                x->nc--;
                return;
            }
            c->rank_p = r->rank_p;
            c->rank_q = r->rank_q;
            c->per_day_p = per_p;
            c->per_day_q = per_q;
        }
        return;   /* a new service is not also a spike against its own empty past */
    }

    ds_spike_rule rule = ds_series_spike_rule;
    rule.min_excess = min_excess;
    rule.soft = x->dayw;
    ds_run runs[32];
    size_t nr = 0, npop, nd = (size_t)x->ndays;
    /* y: the series with each day's largest source held to its usual size (the median of the
     * largest source over the days).  Population phenomena (many sources) are runs of y against
     * y's own past; a heavy scanner's weeks no longer widen that baseline nor hide a spike that
     * rides on them.  A single source's jump is a run of the whole series against y's baseline
     * in which the largest source made at least half of the peak's excess.  Both searches judge
     * against y's baselines, so those are computed once (robust.h, ds_baselines_fill). */
    double *y = x->work, *levels = y + nd;
    ds_baselines bl = { .median = y + 2 * nd, .sigma = y + 3 * nd, .days = y + 4 * nd };
    double usual_top = ds_median(r->top, nd, y + 5 * nd);
    if (!isfinite(usual_top))
        usual_top = 0;
    for (size_t d = 0; d < nd; d++)
        y[d] = r->top[d] > usual_top ? r->x[d] - (r->top[d] - usual_top) : r->x[d];
    ds_baselines_fill(y, nd, from, &rule, &bl);
    npop = nr = ds_spike_runs_pre(y, nd, from, &rule, &bl, NULL, runs, 16);
    ds_run one[16];
    ds_spike_rule one_rule = rule;
    one_rule.level_days = 14;  /* against the two weeks before, other heavy hosts included */
    one_rule.split_frac = 0;   /* one host's bursts are one run: the split is for populations */
    ds_levels_fill(r->x, nd, from, one_rule.level_days, levels);
    size_t none = ds_spike_runs_pre(r->x, nd, from, &one_rule, &bl, levels, one, 16);
    for (size_t i = 0; i < none; i++) {
        const ds_run *o = &one[i];
        if (r->top[o->peak] - usual_top < SINGLE_SHARE * (r->x[o->peak] - o->median))
            continue;
        /* the same peak as a population run: one host explains it, so the host's run (dated
         * against the level before it) replaces it; a shorter population run inside the host's
         * days is its own phenomenon */
        size_t k = 0;
        while (k < npop && !(o->peak >= runs[k].first && o->peak <= runs[k].last &&
                             (runs[k].peak == o->peak || runs[k].last - runs[k].first <= o->last - o->first)))
            k++;
        if (k < npop && runs[k].peak != o->peak)
            continue;
        runs[k < npop ? k : nr++] = *o;
    }
    int long_run = 0;
    for (size_t i = 0; i < nr; i++) {
        int32_t len = (int32_t)(runs[i].last - runs[i].first + 1);
        long_run |= len > SPIKE_MAX_DAYS;
        /* from nothing at all in the previous period's length before it, a service is new
         * whatever the length; a stray packet or two means it was known, and it surged */
        size_t on = runs[i].onset;   /* where the rise began (changepoint.h) */
        double prior = 0;
        for (size_t d = on > (size_t)ndays_p ? on - (size_t)ndays_p : 0; d < on; d++)
            prior += isfinite(r->x[d]) ? r->x[d] : 0;
        const char *type = t->dim == DS_CUBE_SERVICE && runs[i].median < 1 && prior == 0 ? "new_service"
                           : len > SPIKE_MAX_DAYS                         ? "surge"
                                                                          : "spike";
        double peak_ex = r->x[runs[i].peak] - runs[i].median;
        if (!strcmp(type, "new_service") ? peak_ex < NEW_MIN_PEAK * x->mean_day
            : !strcmp(type, "surge")     ? runs[i].excess / len < SURGE_MIN_EXCESS * x->mean_day
                                         : peak_ex < SPIKE_MIN_PEAK * x->mean_day)
            continue;   /* real, but too small to matter to the telescope as a whole */
        cand *c = cand_add(x, t->dim, r->key, type, x->base_from + (int32_t)on,
                           x->base_from + (int32_t)runs[i].last, err);
        if (!c)
            return;
        /* the excess (and so who made it) is counted over what the whole series carried in the
         * week before, heavy hosts included: a spike that rides on a scanner's plateau is the
         * spike's, not the plateau's */
        double level = runs[i].median;
        if (on >= 7) {
            double scratch[7], lv = ds_median(r->x + on - 7, 7, scratch);
            if (isfinite(lv) && lv > level && lv < r->x[runs[i].peak])
                level = lv;
        }
        run_stats(x, r, c, level);
        /* the numbers shown are those the run passed the rules with: against the level of the
         * week before, a spike riding on a plateau showed z = 1.5 and 1.2 times (issue #20) */
        c->base = runs[i].median;
        c->sigma = runs[i].sigma;
        c->peak_z = (c->peak - c->base) / c->sigma;
        c->rank_p = r->rank_p;
        c->rank_q = r->rank_q;
        c->per_day_p = per_p;
        c->per_day_q = per_q;
    }
    /* a climb in the ranking that no run explains: a gradual surge */
    if (!long_run && prev_days >= 14 && r->rank_p && r->rank_p <= SURGE_TO_RANK &&
        (!r->rank_q || r->rank_q >= SURGE_FROM_RANK) && per_p >= SURGE_MIN_RATIO * per_q) {
        size_t pf = (size_t)(x->prev_from > x->first_day ? x->prev_from : x->first_day) - (size_t)x->base_from;
        double scratch[400];
        size_t npq = from - pf < 400 ? from - pf : 400;
        double m = ds_median(r->x + from - npq, npq, scratch);
        double s = ds_robust_sigma(m, ds_mad(r->x + from - npq, npq, m, scratch));
        int32_t d0 = -1, d1 = -1;
        for (size_t d = from; d < (size_t)x->ndays; d++)
            if (r->x[d] >= m + 3 * s && r->x[d] >= 1.5 * m) {
                if (d0 < 0)
                    d0 = (int32_t)d;
                d1 = (int32_t)d;
            }
        if (d0 >= 0) {
            cand *c = cand_add(x, t->dim, r->key, "surge", x->base_from + d0, x->base_from + d1, err);
            if (c) {
                run_stats(x, r, c, m);
                c->sigma = s;
                c->peak_z = (c->peak - m) / s;
                c->rank_p = r->rank_p;
                c->rank_q = r->rank_q;
                c->per_day_p = per_p;
                c->per_day_q = per_q;
                if (c->excess / (c->d1 - c->d0 + 1) < SURGE_MIN_EXCESS * x->mean_day)
                    x->nc--;
            }
        }
    }
}

/* ---- drivers: one scan for every candidate ----
 *
 * The records of each candidate's service (or country) from a week before it to its end are
 * copied out in one scan of SRCSVC over the union of those days, then each candidate's numbers
 * are computed from its own copy: the top source and its busiest day, the country (or service)
 * split, the source-port split, distinct sources per day.  Tool-attributed sources are left out
 * as in the series, so the shares are of the same packets the baseline was measured on. */
typedef struct item { uint64_t src; int32_t day; uint32_t packets, other, sport, asn; uint16_t cc; } item;
/* A candidate's items, in blocks of ITEM_BLOCK from a pool: the pool hands out memory the series
 * scan already faulted in (x->keys' dead sums and key list) before it allocates fresh blocks
 * (about 3 ms a megabyte on our VM); drivers_of reads them in place (IT). */
#define ITEM_BLOCK 512
typedef struct itemvec { item **blocks; size_t nblocks, blocks_cap, n; } itemvec;
typedef struct item_pool {
    item *area[2];          /* reused memory, area_blocks[i] blocks each */
    size_t area_blocks[2], used[2];
    item **owned;           /* blocks allocated when the areas ran out */
    size_t nowned, owned_cap;
} item_pool;
typedef struct idx_ent { uint32_t key; uint32_t cand; } idx_ent;

typedef struct drv_ctx {
    ctx *x;
    ds_filter f;
    idx_ent *by_svc, *by_cc;
    size_t nsvc, ncc;
    uint16_t *mark;         /* 1 at the series_keys.h index of a candidate's service or country
                             * with the current day among its days (set as the days change) */
    int32_t mark_day;       /* the day mark is for */
    int other_svc;          /* a candidate's service has no dense index (another protocol) */
    itemvec *items;         /* one per candidate */
    item_pool pool;
    ds_u64set tools;        /* tool-attributed sources met */
    ds_groupsum groups;     /* drivers_of's tables */
} drv_ctx;

static int idx_cmp(const void *a, const void *b)
{
    const idx_ent *x = a, *y = b;
    return x->key != y->key ? (x->key < y->key ? -1 : 1) : (x->cand < y->cand ? -1 : x->cand > y->cand);
}

static size_t idx_lower(const idx_ent *e, size_t n, uint32_t key)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (e[mid].key < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static item *pool_block(item_pool *p)
{
    for (size_t a = 0; a < 2; a++)
        if (p->used[a] < p->area_blocks[a])
            return p->area[a] + ITEM_BLOCK * p->used[a]++;
    if (p->nowned == p->owned_cap) {
        item **n = ds_grow(p->owned, &p->owned_cap, sizeof *n, 64);
        if (!n)
            return NULL;
        p->owned = n;
    }
    item *b = malloc(ITEM_BLOCK * sizeof *b);
    if (b)
        p->owned[p->nowned++] = b;
    return b;
}

static void pool_free(item_pool *p)
{
    for (size_t i = 0; i < p->nowned; i++)
        free(p->owned[i]);
    free(p->owned);
}

static int push_item(item_pool *p, itemvec *v, const item *it)
{
    if (v->n == v->nblocks * ITEM_BLOCK) {
        if (v->nblocks == v->blocks_cap) {
            item **n = ds_grow(v->blocks, &v->blocks_cap, sizeof *n, 16);
            if (!n)
                return -1;
            v->blocks = n;
        }
        if (!(v->blocks[v->nblocks] = pool_block(p)))
            return -1;
        v->nblocks++;
    }
    v->blocks[v->n / ITEM_BLOCK][v->n % ITEM_BLOCK] = *it;
    v->n++;
    return 0;
}

/* Marks for the keys of the candidates whose days (from a week before) hold `day`: a record of
 * any other key, or of a candidate's key on another day, is passed over at once. */
static void mark_day(drv_ctx *d, int32_t day)
{
    for (int pass = 0; pass < 2; pass++) {
        const idx_ent *e = pass ? d->by_cc : d->by_svc;
        size_t n = pass ? d->ncc : d->nsvc;
        for (size_t j = 0; j < n; j++) {
            long at = pass ? DS_SK_SERVICES + (long)(e[j].key & 0xffff) : ds_series_keys_dense_service(e[j].key);
            if (at >= 0)
                d->mark[at] = 0;
        }
        for (size_t j = 0; j < n; j++) {
            const cand *c = &d->x->c[e[j].cand];
            long at = pass ? DS_SK_SERVICES + (long)(e[j].key & 0xffff) : ds_series_keys_dense_service(e[j].key);
            if (at >= 0 && day >= c->d0 - 7 && day <= c->d1)
                d->mark[at] = 1;
        }
    }
    d->mark_day = day;
}

static ds_rc on_drv(void *vctx, int64_t sensor_id, int32_t day, const uint8_t *data, size_t nrec, ds_err *err)
{
    drv_ctx *d = vctx;
    if (day != d->mark_day)
        mark_day(d, day);
    for (size_t i = 0; i < nrec; i++) {
        const uint8_t *rec = data + i * DS_REC_SRCSVC;
        uint16_t cc = ss_cc(rec);
        int sd = ds_series_keys_dense_service(ss_u32(rec + SS_SERVICE));
        int svc_cand = sd >= 0 ? d->mark[sd] : d->other_svc, cc_cand = d->mark[DS_SK_SERVICES + cc];
        if (!svc_cand && !cc_cand)
            continue;
        ds_rec_srcsvc r;
        ds_rec_srcsvc_get(rec, &r);
        if (!ds_filter_match(&d->f, &r))
            continue;
        for (int pass = !svc_cand; pass < 1 + cc_cand; pass++) {
            const idx_ent *e = pass ? d->by_cc : d->by_svc;
            size_t n = pass ? d->ncc : d->nsvc;
            uint32_t key = pass ? cc : r.service;
            for (size_t j = idx_lower(e, n, key); j < n && e[j].key == key; j++) {
                const cand *c = &d->x->c[e[j].cand];
                if (day < c->d0 - 7 || day > c->d1)
                    continue;
                if (r.tools & SERIES_TOOLS) {
                    if (ds_u64set_add(&d->tools, r.src) < 0)
                        return ds_fail(err, DS_ENOMEM, "out of memory finding what drives an event");
                    continue;
                }
                item it = { r.src, day, r.packets, pass ? r.service : cc,
                            r.one_sport ? r.sport : DS_SPORT_VARIOUS, r.asn, cc };
                if (push_item(&d->pool, &d->items[e[j].cand], &it) != 0)
                    return ds_fail(err, DS_ENOMEM, "out of memory finding what drives an event");
            }
        }
    }
    return DS_OK;
}

/* The largest of the groups g holds (by packets; ties to the smaller key), leaving out the key
 * `skip` (or none: skip_on 0): its key and its share of `total`.  What reading the groups off an
 * array sorted by key, keeping the first strictly larger one, gave. */
static void lead_of(const ds_groupsum *g, uint64_t total, int skip_on, uint64_t skip, uint32_t *val, double *share)
{
    uint64_t best = 0;
    *val = 0;
    for (size_t i = 0; i < g->cap; i++) {
        const ds_group *e = &g->e[i];
        if (!e->used || (skip_on && e->k1 == skip))
            continue;
        if (e->sum > best || (e->sum == best && best > 0 && e->k1 < *val)) {
            best = e->sum;
            *val = (uint32_t)e->k1;
        }
    }
    *share = total ? (double)best / (double)total : 0;
}

/* a before b among the top sources: more packets, then the smaller address */
static int top_before(const ds_group *a, const ds_group *b)
{
    return a->sum != b->sum ? a->sum > b->sum : a->k1 < b->k1;
}

#define IT(v, i) (&(v)->blocks[(i) / ITEM_BLOCK][(i) % ITEM_BLOCK])

/* What drives candidate c, from its records v: the week before its days, then its days, each in
 * scan order, which is day order (ev: the first of its days).  -1: out of memory.  The numbers
 * are those of sorting the records by source, by country or service, by source port and by day
 * and source and reading the groups off (see groupsum.h for why not). */
/* The event's items [ev, n) summed by country or service (`other`), or by source port (by_sport,
 * leaving out records of various ports), and the largest of those with its share of `total`
 * (lead_of).  -1 when out of memory. */
static int lead_by(ds_groupsum *g, const itemvec *v, size_t ev, uint64_t total, int by_sport, uint32_t *val,
                   double *share)
{
    if (ds_groupsum_reset(g, v->n - ev) != 0)
        return -1;
    for (size_t i = ev; i < v->n; i++) {
        const item *it = IT(v, i);
        ds_group *o = ds_groupsum_get(g, by_sport ? it->sport : it->other);
        if (!o)
            return -1;
        o->sum += it->packets;
    }
    lead_of(g, total, by_sport, DS_SPORT_VARIOUS, val, share);
    return 0;
}

/* The coverage weight of a day (cov_weights.h; 1 outside the series' days). */
static double day_w(const ctx *x, int32_t day)
{
    return day >= x->base_from && day - x->base_from < x->ndays ? x->dayw[day - x->base_from] : 1.0;
}

/* Observed days of the week before c (up to 7, from the store's first day), weighted: the
 * denominator of the "before" rates.  A day no sensor observed is left out, and its records with
 * it (before_w), so an outage in that week does not make the event's days look like a rise. */
static double week_before_days(const ctx *x, const cand *c)
{
    double n = 0;
    for (int32_t d = c->d0 - 7 > x->first_day ? c->d0 - 7 : x->first_day; d < c->d0; d++)
        n += day_w(x, d) > 0;
    return n;
}

/* What one record of the week before counts for: scaled to a whole day, 0 on a missing day. */
static double before_w(const ctx *x, int32_t day)
{
    double w = day_w(x, day);
    return w > 0 ? 1.0 / w : 0.0;
}

static int drivers_of(ctx *x, cand *c, const itemvec *v, size_t ev, ds_groupsum *g)
{
    size_t n = v->n, nev = n - ev;
    uint64_t total = 0;
    /* per source over the event's days: packets, and its last record (in day order, so of its
     * latest day) for the country and ASN shown */
    if (ds_groupsum_reset(g, nev) != 0)
        return -1;
    for (size_t i = ev; i < n; i++) {
        const item *it = IT(v, i);
        ds_group *s = ds_groupsum_get(g, it->src);
        if (!s)
            return -1;
        s->sum += it->packets;
        s->last = (uint32_t)i;
        total += it->packets;
    }
    const ds_group *top[DS_EVENT_TOP_SOURCES];
    size_t nt = 0;
    for (size_t i = 0; i < g->cap; i++) {
        const ds_group *e = &g->e[i];
        if (!e->used)
            continue;
        size_t at = nt < DS_EVENT_TOP_SOURCES ? nt++ : DS_EVENT_TOP_SOURCES;
        while (at > 0 && top_before(e, top[at - 1])) {
            if (at < DS_EVENT_TOP_SOURCES)
                top[at] = top[at - 1];
            at--;
        }
        if (at < DS_EVENT_TOP_SOURCES)
            top[at] = e;
    }
    uint64_t best = nt && top[0]->sum > 0 ? top[0]->sum : 0, best_src = best ? top[0]->k1 : 0;
    c->ntop5 = nt;
    c->top_v6 = 0;
    for (size_t k = 0; k < nt; k++) {
        ds_event_source *o = &c->top5[k];
        ds_ip ip;
        c->top_v6 |= (top[k]->k1 >> 63) != 0;
        ds_ip_set4(&ip, (uint32_t)top[k]->k1);
        ds_ip_format(&ip, o->addr, sizeof o->addr);
        ds_cc_unpack(IT(v, top[k]->last)->cc, o->cc);
        o->asn = IT(v, top[k]->last)->asn;
        o->packets = top[k]->sum;
    }
    c->top1_src = best_src;
    c->top1 = (double)best;
    c->nsources = g->n;
    /* the top source's busiest day: its records of one day are consecutive in day order */
    for (size_t i = ev; i < n; i++) {
        if (IT(v, i)->src != best_src)
            continue;
        double day = 0;
        size_t j = i;
        for (; j < n && IT(v, j)->day == IT(v, i)->day; j++)
            if (IT(v, j)->src == best_src)
                day += IT(v, j)->packets;
        if (day > c->top1_day)
            c->top1_day = day;
        i = j - 1;
    }
    /* the leading country (service events) or service (country events) */
    if (lead_by(g, v, ev, total, 0, &c->lead, &c->lead_share) != 0)
        return -1;
    {
        double lead_now = 0, lead_before = 0;
        for (size_t i = ev; i < n; i++)
            if (IT(v, i)->other == c->lead)
                lead_now += IT(v, i)->packets;
        for (size_t i = 0; i < ev; i++)
            if (IT(v, i)->other == c->lead)
                lead_before += IT(v, i)->packets * before_w(x, IT(v, i)->day);
        double bdays = week_before_days(x, c);
        double per = bdays > 0 ? lead_before / bdays : 0;
        c->lead_excess_share = c->excess_seen > 0 ? (lead_now - per * c->seen_days) / c->excess_seen : 0;
    }
    /* the leading source port, not counting records of various ports */
    if (lead_by(g, v, ev, total, 1, &c->sport, &c->sport_share) != 0)
        return -1;
    /* distinct sources per day, the event's days against the week before: in day order, a
     * (source, day) is new when the source's last day (kept in sum, plus one) is another; a table
     * of sources, not of (source, day) pairs */
    if (ds_groupsum_reset(g, n) != 0)
        return -1;
    double before = 0, during = 0;
    for (size_t i = 0; i < n; i++) {
        const item *it = IT(v, i);
        ds_group *e = ds_groupsum_get(g, it->src);
        if (!e)
            return -1;
        uint64_t day1 = (uint64_t)(uint32_t)it->day + 1;
        if (e->sum == day1)
            continue;
        e->sum = day1;
        if (it->day < c->d0)
            before += before_w(x, it->day);   /* scaled up: an upper bound, so the rise rule is stricter */
        else
            during++;
    }
    double bdays = week_before_days(x, c);
    c->src_per_day_before = bdays > 0 ? before / bdays : NAN;
    c->src_per_day = during / (double)(c->d1 - c->d0 + 1);
    return 0;
}

static ds_rc drivers(ctx *x, ds_u64set *tools, ds_err *err)
{
    drv_ctx d = { .x = x };
    ds_rc rc = DS_OK;
    int32_t from = x->q->to, to = x->q->from;
    base_filter(x, &d.f);
    d.by_svc = calloc(x->nc + 1, sizeof *d.by_svc);
    d.by_cc = calloc(x->nc + 1, sizeof *d.by_cc);
    d.items = calloc(x->nc + 1, sizeof *d.items);
    if (!d.by_svc || !d.by_cc || !d.items || ds_u64set_init(&d.tools, 64) != 0)
        goto nomem;
    for (size_t i = 0; i < x->nc; i++) {
        const cand *c = &x->c[i];
        if (c->dropped)
            continue;
        if (c->dim == DS_CUBE_SERVICE)
            d.by_svc[d.nsvc++] = (idx_ent){ c->key, (uint32_t)i };
        else
            d.by_cc[d.ncc++] = (idx_ent){ c->key, (uint32_t)i };
        int32_t a = c->d0 - 7 > x->first_day ? c->d0 - 7 : x->first_day;
        if (a < from)
            from = a;
        if (c->d1 > to)
            to = c->d1;
    }
    if (!d.nsvc && !d.ncc)
        goto out;
    qsort(d.by_svc, d.nsvc, sizeof *d.by_svc, idx_cmp);
    qsort(d.by_cc, d.ncc, sizeof *d.by_cc, idx_cmp);
    /* most records are of no candidate's key, or of none on their day: marks screen them before
     * the filter and the search */
    d.mark = x->keys.known;   /* dead since the series were filled, and faulted in */
    memset(d.mark, 0, DS_SK_DENSE * sizeof *d.mark);
    d.mark_day = from - 1;
    for (size_t i = 0; i < d.nsvc; i++)
        if (ds_series_keys_dense_service(d.by_svc[i].key) < 0)
            d.other_svc = 1;
    for (size_t a = 0; a < 2; a++) {
        d.pool.area[a] = x->spare[a];
        d.pool.area_blocks[a] = x->spare_len[a] / (ITEM_BLOCK * sizeof(item));
    }
    if ((rc = ds_store_scan(x->st, DS_CHUNK_SRCSVC, x->q->sensor_id, from, to, on_drv, &d, err)) != DS_OK)
        goto out;
    /* a candidate's records come in day order, the week before its days first; were they not,
     * they are put in that order (a stable partition) in a copy */
    for (size_t i = 0; i < x->nc; i++) {
        const itemvec *v = &d.items[i];
        const cand *c = &x->c[i];
        if (c->dropped)
            continue;
        size_t ev = 0;
        int ordered = 1;
        for (size_t j = 0; j < v->n; j++) {
            int32_t day = IT(v, j)->day;
            ordered &= !j || day >= IT(v, j - 1)->day;
            ev += day < c->d0;
        }
        if (!ordered) {
            item *copy = malloc((v->n ? v->n : 1) * sizeof *copy);
            itemvec cv = { .blocks = malloc((v->nblocks ? v->nblocks : 1) * sizeof *cv.blocks), .n = v->n };
            int ok = copy && cv.blocks;
            if (ok) {
                for (size_t b = 0; b < v->nblocks; b++)
                    cv.blocks[b] = copy + b * ITEM_BLOCK;
                for (size_t j = 0, e = 0, a = ev; j < v->n; j++)
                    copy[IT(v, j)->day < c->d0 ? e++ : a++] = *IT(v, j);
                ok = drivers_of(x, &x->c[i], &cv, ev, &d.groups) == 0;
            }
            free(copy);
            free(cv.blocks);
            if (!ok)
                goto nomem;
        } else if (drivers_of(x, &x->c[i], v, ev, &d.groups) != 0) {
            goto nomem;
        }
    }
    *tools = d.tools;
    d.tools = (ds_u64set){ 0 };
    goto out;
nomem:
    rc = ds_fail(err, DS_ENOMEM, "out of memory finding what drives an event");
out:
    if (d.items)
        for (size_t i = 0; i < x->nc; i++)
            free(d.items[i].blocks);
    free(d.items);
    pool_free(&d.pool);
    free(d.by_svc);
    free(d.by_cc);
    ds_u64set_free(&d.tools);
    ds_groupsum_free(&d.groups);
    return rc;
}

/* The top sources of an event that is reported (addresses from SOURCES, via `top`), without the
 * tool-attributed ones the series left out. */
static ds_rc top_sources(ctx *x, cand *c, const ds_u64set *tools, ds_err *err)
{
    ds_top_query tq = { .dim = DS_TOP_SOURCES, .from = c->d0, .to = c->d1, .sensor_id = x->q->sensor_id,
                        .cls = DS_CLASS_SCAN, .limit = DS_EVENT_TOP_SOURCES + 8, .exclude = x->q->exclude };
    if (c->dim == DS_CUBE_SERVICE)
        tq.ports[tq.nports++] = c->key;
    else
        tq.countries[tq.ncountries++] = (uint16_t)c->key;
    ds_rc rc = ds_top_run(x->st, &tq, &c->top, err);
    if (rc != DS_OK)
        return rc;
    size_t k = 0;
    for (size_t i = 0; i < c->top.n; i++)
        if (!ds_u64set_has(tools, c->top.rows[i].key))
            c->top.rows[k++] = c->top.rows[i];
    c->top.n = k;
    return DS_OK;
}

static char *key_label(ds_cube_dim dim, uint32_t key, int ja, char *buf, size_t len)
{
    if (dim == DS_CUBE_SERVICE)
        return ja ? ds_service_label(key, buf, len) : ds_service_format(key, buf, len);
    char cc[3];
    ds_cc_unpack((uint16_t)key, cc);
    snprintf(buf, len, "%s", cc);
    return buf;
}

static ds_rc emit(ctx *x, cand *c, ds_events *out, ds_err *err)
{
    if (!ds_event_wanted(x->q, c->type))
        return DS_OK;
    ds_event *v = ds_events_add(out, err);
    if (!v)
        return DS_ENOMEM;
    snprintf(v->type, sizeof v->type, "%s", c->type);
    v->start_ns = ds_day_start_ns(c->d0);
    v->end_ns = ds_day_start_ns(c->d1 + 1) - 1000000000ULL;
    if (c->dim == DS_CUBE_SERVICE) {
        v->has_service = 1;
        v->service = c->key;
        if (c->lead_share >= LEAD_SHARE)
            ds_cc_unpack((uint16_t)c->lead, v->country);
    } else {
        ds_cc_unpack((uint16_t)c->key, v->country);
        if (c->lead_share >= LEAD_SHARE) {
            v->has_service = 1;
            v->service = c->lead;
        }
    }
    v->sources = c->nsources;
    v->packets = (uint64_t)llround(c->observed);
    if (c->top_v6) {
        ds_event_top_from(v, &c->top, 0);
    } else {
        memcpy(v->top, c->top5, sizeof v->top);
        v->ntop = c->ntop5;
    }
    int32_t ndays = c->d1 - c->d0 + 1;
    double top1 = c->top1;
    double top1_excess = c->excess_seen > 0 ? top1 / c->excess_seen : 0;
    char t0[64], t1[64];
    ds_event_evidence_add(v, "days", ndays, NULL);
    ds_event_evidence_add(v, "packets_per_day_baseline", c->base, NULL);
    ds_event_evidence_add(v, "packets_peak", c->peak, ds_fmt_day_iso(c->peak_day, t0, sizeof t0));
    if (c->base > 0)
        ds_event_evidence_add(v, "peak_ratio", c->peak / c->base, NULL);
    if (c->sigma > 0)
        ds_event_evidence_add(v, "robust_z", c->peak_z, NULL);
    ds_event_evidence_add(v, "excess_packets", c->excess_seen, NULL);
    if (!strcmp(c->type, "surge") || !strcmp(c->type, "new_service")) {
        ds_event_evidence_add(v, "rank", c->rank_p, NULL);
        ds_event_evidence_add(v, "rank_previous", c->rank_q, NULL);
    }
    ds_event_evidence_add(v, "top_source_share_of_excess", top1_excess > 1 ? 1 : top1_excess,
                          v->ntop ? v->top[0].addr : NULL);
    if (c->lead_share > 0)
        ds_event_evidence_add(v, c->dim == DS_CUBE_SERVICE ? "country_share" : "service_share", c->lead_share,
                              key_label(c->dim == DS_CUBE_SERVICE ? DS_CUBE_COUNTRY : DS_CUBE_SERVICE, c->lead, 0, t1,
                                        sizeof t1));
    if (c->sport_share > 0) {
        snprintf(t1, sizeof t1, "%u", (unsigned)c->sport);
        ds_event_evidence_add(v, "sport_share", c->sport_share, t1);
    }
    ds_event_evidence_add(v, "sources_per_day", c->src_per_day, NULL);
    if (isfinite(c->src_per_day_before))
        ds_event_evidence_add(v, "sources_per_day_before", c->src_per_day_before, NULL);

    if (c->dim == DS_CUBE_COUNTRY)
        ds_event_evidence_add(v, "of_country", 1, v->country);
    if (!strcmp(c->type, "new_service"))
        ds_event_evidence_add(v, "quiet_days_before", x->q->to - x->q->from + 1, NULL);
    /* the day before is missing (no sensor of the query observed it): it may have begun in the dark */
    if (day_w(x, c->d0 - 1) <= 0)
        ds_event_evidence_add(v, "first_seen_after_outage", 1, NULL);
    if (c->xs && ds_event_series_set(v, x->q->from, (size_t)(x->q->to - x->q->from + 1), c->xs + (x->q->from - x->base_from),
                                     x->dayw + (x->q->from - x->base_from), "packets", err))
        return DS_ENOMEM;
    return DS_OK;
}

/* A country event explained by a service event on overlapping days is the same phenomenon: when
 * most of the country's rise went to that service and most of the service's rise came from that
 * country, the country event is folded into the service event. */
static void fold_countries(ctx *x)
{
    for (size_t i = 0; i < x->nc; i++) {
        cand *cc = &x->c[i];
        if (cc->dropped || cc->dim != DS_CUBE_COUNTRY || cc->lead_excess_share < LEAD_SHARE)
            continue;
        for (size_t j = 0; j < x->nc; j++) {
            cand *sv = &x->c[j];
            if (sv->dropped || sv->dim != DS_CUBE_SERVICE || sv->key != cc->lead || sv->d1 < cc->d0 ||
                sv->d0 > cc->d1 || sv->lead != cc->key || sv->lead_excess_share < LEAD_SHARE)
                continue;
            cc->dropped = 1;
            break;
        }
    }
    /* a country's rise spread over many services lifts some of them: a service event whose rise
     * is mostly that country's, on the same days, is part of the country's event */
    for (size_t i = 0; i < x->nc; i++) {
        cand *cc = &x->c[i];
        if (cc->dropped || cc->dim != DS_CUBE_COUNTRY)
            continue;
        for (size_t j = 0; j < x->nc; j++) {
            cand *sv = &x->c[j];
            if (sv->dropped || sv->dim != DS_CUBE_SERVICE || !strcmp(sv->type, "single_source") ||
                sv->d0 < cc->d0 - 1 || sv->d1 > cc->d1 + 1 || sv->lead != cc->key ||
                sv->lead_excess_share < FOLD_SHARE)
                continue;   /* only a service event within the country's days: a longer one is its own */
            sv->dropped = 1;
        }
    }
}

/* A flood aimed at a dark address (core/flood.h) lifts its port and, its sources being spread over
 * the address space, every country at once: those jumps are the `flood` event's (issue #20).  A
 * service candidate of the flooded port whose peak day holds a flood of at least half its peak's
 * excess is dropped, and so is a country candidate whose days hold the flood and whose rise went
 * 30% or more to that port. */
static ds_rc fold_floods(ctx *x, ds_err *err)
{
    ds_flood_list l;
    ds_rc rc = ds_floods_load(x->st, x->q, &l, err);
    for (size_t i = 0; i < l.n && rc == DS_OK; i++) {
        const ds_flood_vec *f = &l.v[i];
        if (f->cls != DS_CLASS_SCAN || f->port_packets * 2 < f->packets)
            continue;
        uint32_t svc = DS_SERVICE(f->port_proto, f->port);
        int32_t fd0 = ds_day_of((int64_t)(f->start_ns / 1000000000ULL)),
                fd1 = ds_day_of((int64_t)(f->end_ns / 1000000000ULL));
        for (size_t j = 0; j < x->nc; j++) {
            cand *c = &x->c[j];
            if (c->dropped || c->d1 < fd0 || c->d0 > fd1)
                continue;
            if (c->dim == DS_CUBE_SERVICE && c->key == svc && c->peak_day >= fd0 && c->peak_day <= fd1 &&
                (double)f->port_packets >= 0.5 * (c->peak - c->median))
                c->dropped = 1;
            else if (c->dim == DS_CUBE_COUNTRY && c->lead == svc && c->lead_excess_share >= FOLD_SHARE)
                c->dropped = 1;
        }
    }
    free(l.v);
    return rc;
}

ds_rc ds_detect_series(ds_store *st, const ds_geo *geo, const ds_event_query *q, ds_events *out, ds_err *err)
{
    ctx x = { .st = st, .q = q };
    series_tab svc = { 0 }, cc = { 0 };
    ds_u64set tools = { 0 };
    ds_rc rc = DS_OK;
    if (!ds_event_wanted(q, "spike") && !ds_event_wanted(q, "surge") && !ds_event_wanted(q, "new_service") &&
        !ds_event_wanted(q, "single_source"))
        return DS_OK;
    int32_t last;
    ds_err e2 = { 0 };
    if (ds_store_day_span(st, &x.first_day, &last, &e2) != DS_OK)
        return DS_OK;   /* an empty store has no phenomena */
    int32_t ndays_p = q->to - q->from + 1;
    x.prev_from = q->from - ndays_p;
    x.base_from = q->from - (ndays_p > BASELINE_DAYS ? ndays_p : BASELINE_DAYS);
    if (x.base_from < x.first_day)
        x.base_from = x.first_day < q->from ? x.first_day : q->from;
    x.ndays = q->to - x.base_from + 1;
    x.c = calloc(MAX_CANDS, sizeof *x.c);
    x.dayw = malloc((size_t)x.ndays * sizeof *x.dayw);
    if (!x.c || !x.dayw) {
        rc = ds_fail(err, DS_ENOMEM, "out of memory building daily series");
        goto out;
    }
    ds_cov_day_weights(q->coverage, q->sensor_id, x.base_from, q->to, x.dayw);
    x.days_p = ds_cov_days(q->coverage, q->sensor_id, q->from, q->to);
    int32_t qf = x.prev_from > x.first_day ? x.prev_from : x.first_day;
    x.days_q = qf < q->from ? ds_cov_days(q->coverage, q->sensor_id, qf, q->from - 1) : 0;
    if ((rc = load_all(&x, &svc, &cc, err)) != DS_OK)
        goto out;
    if (!(x.work = malloc(6 * (size_t)x.ndays * sizeof *x.work))) {
        rc = ds_fail(err, DS_ENOMEM, "out of memory judging daily series");
        goto out;
    }
    if (!x.mean_day)   /* unless load_all had it per sensor */
        x.mean_day = x.days_p > 0 ? (double)x.period_packets / x.days_p : 0;
    for (size_t i = 0; i < svc.n; i++)
        if (svc.rows[i].x)
            judge(&x, &svc, &svc.rows[i], err);
    for (size_t i = 0; i < cc.n; i++)
        if (cc.rows[i].x)
            judge(&x, &cc, &cc.rows[i], err);
    if ((rc = drivers(&x, &tools, err)) != DS_OK)
        goto out;
    for (size_t i = 0; i < x.nc; i++) {
        cand *c = &x.c[i];
        if (c->excess_seen > 0 && c->top1 >= SINGLE_SHARE * c->excess_seen) {
            snprintf(c->type, sizeof c->type, "single_source");
            /* one host is judged against the service it floods, and must matter to the telescope:
             * a country's rise that one host explains is that host's event (or nothing) */
            c->dropped = c->dim == DS_CUBE_COUNTRY || c->top1_day < SINGLE_MIN_DAY * x.mean_day;
        } else if (!strcmp(c->type, "new_service") && c->nsources < NEW_MIN_SOURCES) {
            c->dropped = 1;
        } else if (strcmp(c->type, "new_service") && c->src_per_day_before > 0 &&
                   c->src_per_day < SOURCES_RISE * c->src_per_day_before) {
            /* the same few hosts sending more: the heavy tail of a population, not a phenomenon */
            c->dropped = 1;
        }
    }
    if ((rc = fold_floods(&x, err)) != DS_OK)
        goto out;
    fold_countries(&x);
    if (getenv("DS_SERIES_DEBUG"))
        for (size_t i = 0; i < x.nc; i++) {
            const cand *c = &x.c[i];
            char l[32], d0[16];
            fprintf(stderr, "cand %-13s %-9s %s len %2d peak %6.0f med %6.0f peakex %.4f top1 %.2f t1day %.4f srcs %4llu lead %.2f lex %.2f%s\n",
                    c->type, key_label(c->dim, c->key, 0, l, sizeof l), ds_fmt_day_iso(c->d0, d0, sizeof d0),
                    c->d1 - c->d0 + 1, c->peak, c->median, (c->peak - c->median) / x.mean_day,
                    c->excess_seen > 0 ? c->top1 / c->excess_seen : 0, c->top1_day / x.mean_day, (unsigned long long)c->nsources, c->lead_share, c->lead_excess_share, c->dropped ? " dropped" : "");
        }
    for (size_t i = 0; i < x.nc && rc == DS_OK; i++)
        if (!x.c[i].dropped && ds_event_wanted(q, x.c[i].type) &&
            (!x.c[i].top_v6 || (rc = top_sources(&x, &x.c[i], &tools, err)) == DS_OK))
            rc = emit(&x, &x.c[i], out, err);
out:
    if (x.c)
        for (size_t i = 0; i < x.nc; i++)
            ds_top_result_free(&x.c[i].top);
    free(x.c);
    free(x.dayw);
    free(x.work);
    series_free(&svc);
    series_free(&cc);
    free(x.xs_owned);
    ds_series_keys_free(&x.keys);
    ds_u64set_free(&tools);
    return rc;
}
