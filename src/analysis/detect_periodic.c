/* detect_periodic.c: the `periodic_daily` and `periodic_weekly` events.
 *
 * Read from the HOURLY records (core/records.h: packets per UTC hour per service and per source
 * country), the one place hours are kept.  Two scans of the period: the first sums packets per
 * key to pick the series with enough volume (the 50 largest services and countries, and at least
 * 5 packets an hour), the second fills hourly series for those only (found in a table of their
 * own, small enough to stay in cache), so a quarter of random-port noise never becomes 65,536
 * arrays.  Hours are indexed from local midnight of the first day, so
 * phase 0 of a daily cycle is local midnight (a DST change shifts half the period by an hour,
 * inside the peak tolerance).  The weekly series is the hourly one summed per local day.
 *
 * A daily cycle counts (robust.h, ds_cycle_fit_run) when, after each day is divided by its own
 * mean so that level changes do not look like cycles:
 *   - the autocorrelation at 24 hours is >= 0.2;
 *   - the mean profile's peak is >= 1.5x its mean after a 3-point running median (so a sweep
 *     minutes long at the same hour every day is not a cycle), with at least 5 hours at or above
 *     the mean.  Real darknet traffic is close to flat per hour, and the mild +-20% swell every
 *     busy service shows is not what an analyst calls a daily cycle;
 *   - the peak recurs: at least half the days peak within 2 hours of it (noise: 5/24 = 21%).
 * A weekly cycle: weekly_rule.h (the autocorrelation way, or Friedman's rank test of the weekdays).
 * HOURLY records carry no source, so `--exclude research` does not apply here; `--sensor` does.
 * Hours no sensor observed (coverage.h) are missing, not zero: each hour is scaled by its observed
 * share of the addresses or left out below half (cov_weights.h), and a day with fewer than
 * DAY_MIN_HOURS observed hours is left out whole, so an outage is neither a trough nor a week.
 * A country whose cycle is a periodic service's is reported once, on the service: daily, the same
 * peak (+-2 h); weekly, profiles correlated >= 0.8; both with the country sending >= 10% of the
 * service's packets (read with the events' top sources, in the same pass), the pairs taken by
 * those packets.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/cov_weights.h"
#include "analysis/events_int.h"
#include "analysis/periodic_pairs.h"
#include "analysis/source_rows.h"
#include "analysis/robust.h"
#include "analysis/weekly_rule.h"
#include "core/hash.h"
#include "util/textfmt.h"
#include "util/timeutil.h"

#define TOP_KEYS 50
#define MIN_PER_HOUR 5.0        /* daily: at least 5 packets an hour, or the hours are mostly counting noise */
#define MIN_PER_DAY 20.0        /* weekly: at least 20 packets a day (the weekly tests: weekly_rule.h) */
#define DAILY_ACF 0.2
#define DAILY_PEAK_RATIO 1.5
#define DAILY_TOL 2
#define DAILY_MIN_ABOVE 5       /* hours at or above the mean: a cycle, not a daily sweep minutes long */
#define MIN_CONSISTENCY 0.5
#define WEEKLY_FOLD_CORR 0.8    /* a country's weekly profile this correlated with a service's, */
#define WEEKLY_FOLD_SHARE 0.1   /* and sending it this share of its packets, is the service's cycle */
#define DAY_MIN_HOURS 12        /* a day with fewer observed hours is left out: its peak would be one of a few */
#define WEEK_MIN_DAYS 5         /* a week with fewer observed days is left out, for the same reason */
#define MAX_PAIRS 4000          /* (service, country) pairs judged for weekly cycles (pair_cycles) */
#define PAIR_RANK_P 1e-6        /* and what they must pass beyond the weekly rule */
#define PAIR_PEAK_RATIO 1.5
#define PAIR_ACF 0.7            /* or an autocorrelation at 7 days this high (a one-day peak ranks weakly) */
#define DS_NO_PAIRS() (getenv("DS_NO_PERIODIC_PAIRS") && strcmp(getenv("DS_NO_PERIODIC_PAIRS"), "0") != 0)

typedef struct hkey { uint32_t key; uint8_t dim, used; uint64_t packets; double *x; } hkey;

/* The second pass's table: only the chosen keys (<= 2 x TOP_KEYS), so that its probes stay in L1
 * cache where the first pass's table (every key of the period) is megabytes.  k: dim << 32 | key,
 * with bit 63 set in a used slot. */
#define SEL_SLOTS 512
typedef struct selkey { uint64_t k; double *x; } selkey;

typedef struct pctx {
    hkey *tab;
    size_t cap, n;
    selkey sel[SEL_SLOTS];
    uint32_t h0;            /* UTC hour of local midnight of the first day */
    size_t nhours;
    int fill;               /* second pass */
    int oom;
} pctx;

static inline size_t home(const pctx *c, uint8_t dim, uint32_t key)
{
    return (size_t)ds_mix64((uint64_t)dim << 32 | key) & (c->cap - 1);
}

static hkey *slot_from(pctx *c, size_t j, uint8_t dim, uint32_t key)
{
    size_t m = c->cap - 1;
    while (c->tab[j].used && (c->tab[j].key != key || c->tab[j].dim != dim))
        j = (j + 1) & m;
    return &c->tab[j];
}

static hkey *slot(pctx *c, uint8_t dim, uint32_t key) { return slot_from(c, home(c, dim, key), dim, key); }

static inline uint64_t sel_key(uint8_t dim, uint32_t key) { return 1ULL << 63 | (uint64_t)dim << 32 | key; }

/* The hourly series of a chosen key, or NULL. */
static inline double *sel_find(const pctx *c, uint8_t dim, uint32_t key)
{
    uint64_t k = sel_key(dim, key);
    size_t j = (size_t)ds_mix64(k) & (SEL_SLOTS - 1);
    while (c->sel[j].k) {
        if (c->sel[j].k == k)
            return c->sel[j].x;
        j = (j + 1) & (SEL_SLOTS - 1);
    }
    return NULL;
}

/* Choose a key (at most SEL_SLOTS / 2 of them, so probes end). */
static void sel_add(pctx *c, uint8_t dim, uint32_t key, double *x)
{
    uint64_t k = sel_key(dim, key);
    size_t j = (size_t)ds_mix64(k) & (SEL_SLOTS - 1);
    while (c->sel[j].k && c->sel[j].k != k)
        j = (j + 1) & (SEL_SLOTS - 1);
    c->sel[j] = (selkey){ k, x };
}

static int grow(pctx *c)
{
    size_t cap = c->cap ? c->cap * 2 : 1024;
    hkey *old = c->tab, *n = calloc(cap, sizeof *n);
    size_t oldcap = c->cap;
    if (!n)
        return -1;
    c->tab = n;
    c->cap = cap;
    for (size_t i = 0; i < oldcap; i++)
        if (old[i].used)
            *slot(c, old[i].dim, old[i].key) = old[i];
    free(old);
    return 0;
}

/* The first pass's records go BATCH at a time: each one's home slot is computed and prefetched,
 * then they are added in order (the table of every key of a quarter is megabytes, and a miss per
 * record was most of this pass).  The table is grown first so that a batch cannot fill it: the
 * homes stay valid, and the keys go in in the same order as one by one. */
#define BATCH 16

static int keep(const pctx *c, const ds_rec_hourly *r)
{
    return r->hour >= c->h0 && r->hour - c->h0 < c->nhours && r->dim <= DS_HOURLY_COUNTRY && r->cls == DS_CLASS_SCAN;
}

static ds_rc on_hourly(void *vctx, int64_t sensor_id, int32_t day, const uint8_t *data, size_t nrec, ds_err *err)
{
    pctx *c = vctx;
    if (c->fill) {
        for (size_t i = 0; i < nrec; i++) {
            ds_rec_hourly r;
            ds_rec_hourly_get(data + i * DS_REC_HOURLY, &r);
            double *x = keep(c, &r) ? sel_find(c, r.dim, r.key) : NULL;
            if (x)
                x[r.hour - c->h0] += r.packets;
        }
        return DS_OK;
    }
    ds_rec_hourly rb[BATCH];
    size_t hb[BATCH];
    for (size_t i0 = 0; i0 < nrec; i0 += BATCH) {
        size_t end = nrec - i0 < BATCH ? nrec : i0 + BATCH, nb = 0;
        while ((c->n + BATCH) * 2 > c->cap)
            if (grow(c) != 0)
                return ds_fail(err, DS_ENOMEM, "out of memory reading hourly series");
        for (size_t i = i0; i < end; i++) {
            ds_rec_hourly_get(data + i * DS_REC_HOURLY, &rb[nb]);
            if (!keep(c, &rb[nb]))
                continue;
            hb[nb] = home(c, rb[nb].dim, rb[nb].key);
            __builtin_prefetch(&c->tab[hb[nb]], 1);
            nb++;
        }
        for (size_t b = 0; b < nb; b++) {
            hkey *k = slot_from(c, hb[b], rb[b].dim, rb[b].key);
            if (!k->used) {
                *k = (hkey){ .key = rb[b].key, .dim = rb[b].dim, .used = 1 };
                c->n++;
            }
            k->packets += rb[b].packets;
        }
    }
    return DS_OK;
}

static int pk_cmp(const void *a, const void *b)
{
    const hkey *x = *(hkey *const *)a, *y = *(hkey *const *)b;
    return x->packets != y->packets ? (x->packets > y->packets ? -1 : 1) : (x->key < y->key ? -1 : x->key > y->key);
}

/* pk_cmp, then the dimension: content only (a key is unique within its dimension, so no tie is
 * left to the table's order, which follows the order records were read in) */
static int before(const hkey *x, const hkey *y)
{
    int c = pk_cmp(&x, &y);
    return c ? c < 0 : x->dim < y->dim;
}

static int before_cmp(const void *a, const void *b)
{
    const hkey *x = *(hkey *const *)a, *y = *(hkey *const *)b;
    return before(x, y) ? -1 : before(y, x);
}

/* order[0..n) (keys in table order) becomes the first TOP_KEYS keys of each dimension, in the
 * order of sorting them all: a heap per dimension, then a sort of those, not of every key (a
 * quarter of random-port scans holds tens of thousands of services).  Returns how many. */
static size_t first_keys(hkey **order, size_t n)
{
    hkey *heap[2][TOP_KEYS];
    size_t nh[2] = { 0, 0 };
    for (size_t i = 0; i < n; i++) {
        hkey *k = order[i], **h = heap[k->dim & 1];
        size_t *m = &nh[k->dim & 1], at;
        if (*m < TOP_KEYS) {   /* sift up: the root is the one all others come before */
            at = (*m)++;
            while (at > 0 && before(h[(at - 1) / 2], k)) {
                h[at] = h[(at - 1) / 2];
                at = (at - 1) / 2;
            }
        } else if (before(k, h[0])) {   /* replace the root, sift down */
            at = 0;
            for (;;) {
                size_t l = 2 * at + 1, w = at;
                const hkey *worst = k;
                if (l < *m && before(worst, h[l]))
                    worst = h[w = l];
                if (l + 1 < *m && before(worst, h[l + 1]))
                    worst = h[w = l + 1];
                if (w == at)
                    break;
                h[at] = h[w];
                at = w;
            }
        } else {
            continue;
        }
        h[at] = k;
    }
    size_t o = 0;
    for (int d = 0; d < 2; d++)
        for (size_t i = 0; i < nh[d]; i++)
            order[o++] = heap[d][i];
    qsort(order, o, sizeof *order, before_cmp);
    return o;
}

typedef struct found {
    const hkey *k;
    int weekly;
    int workweek;           /* weekly by the working-week test only: no single peak weekday */
    ds_workweek ww;
    double fr_p;            /* weekly: Friedman's p (1 when it could not be run) */
    int rank_only;          /* weekly: accepted by the rank way only (weekly_rule.h) */
    ds_cycle_fit f;
    int dropped;
    int pair;               /* a (service, country) pair's own series (periodic_pairs.h) */
    size_t same_as;         /* a pair: 1 + the index of its country's cycle when that is the same */
    char country[3];        /* a country with the same cycle, folded into a service's event */
} found;

static const char *const WEEKDAY_EN[7] = { "Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday" };

/* The top sources query of a found cycle's service or country (SRCSVC, like `top`). */
static void sources_query(const ds_event_query *q, const found *fd, ds_source_query *sq)
{
    memset(sq, 0, sizeof *sq);
    ds_filter_init(&sq->filter);
    sq->filter.sensor_id = q->sensor_id;
    sq->filter.cls = DS_CLASS_SCAN;
    sq->filter.exclude = q->exclude;
    if (fd->k->dim == DS_HOURLY_SERVICE)
        sq->filter.ports[sq->filter.nports++] = fd->k->key;
    else
        sq->filter.countries[sq->filter.ncountries++] = (uint16_t)fd->k->key;
    if (fd->pair)
        sq->filter.countries[sq->filter.ncountries++] = ds_cc_pack(fd->country);
    sq->limit = DS_EVENT_TOP_SOURCES;
}

/* tr: the top sources of its service or country (sources_query) */
static ds_rc emit(const ds_event_query *q, const found *fd, const ds_top_result *tr, int64_t utc_off_h,
                  ds_events *out, ds_err *err)
{
    const ds_cycle_fit *f = &fd->f;
    const char *type = fd->weekly ? "periodic_weekly" : "periodic_daily";
    if (!ds_event_wanted(q, type))
        return DS_OK;
    ds_event *v = ds_events_add(out, err);
    if (!v)
        return DS_ENOMEM;
    snprintf(v->type, sizeof v->type, "%s", type);
    v->start_ns = ds_day_start_ns(q->from);
    v->end_ns = ds_day_start_ns(q->to + 1) - 1000000000ULL;
    if (fd->k->dim == DS_HOURLY_SERVICE) {
        v->has_service = 1;
        v->service = fd->k->key;
        memcpy(v->country, fd->country, 3);
    } else {
        ds_cc_unpack((uint16_t)fd->k->key, v->country);
        ds_event_evidence_add(v, "of_country", 1, v->country);
    }
    v->packets = fd->k->packets;
    /* who sends it: the period's top sources of the service or country */
    v->sources = tr->total_sources;
    ds_event_top_from(v, tr, 0);
    ds_event_evidence_add(v, "autocorrelation", f->acf, fd->weekly ? "lag 7 days" : "lag 24 hours");
    ds_event_evidence_add(v, "peak_to_mean", f->peak_ratio, NULL);
    ds_event_evidence_add(v, fd->weekly ? "weeks_peaking_there" : "days_peaking_there", f->consistency, NULL);
    ds_event_evidence_add(v, fd->weekly ? "weeks" : "days", (double)f->cycles, NULL);
    double trough = f->profile[0];
    size_t period = fd->weekly ? 7 : 24;
    for (size_t i = 1; i < period; i++)
        if (f->profile[i] < trough)
            trough = f->profile[i];
    double pmean = f->peak_ratio > 0 ? f->profile[f->peak] / f->peak_ratio : 0;
    ds_event_evidence_add(v, "trough_to_mean", pmean > 0 ? trough / pmean : 0, NULL);
    if (fd->pair)
        ds_event_evidence_add(v, "of_country_and_service", 1, fd->country);
    else if (fd->country[0] && fd->k->dim == DS_HOURLY_SERVICE)
        ds_event_evidence_add(v, "country_with_same_cycle", 1, fd->country);
    if (fd->weekly)
        ds_event_evidence_add(v, "weeks_weekend_quietest", fd->ww.weeks ? (double)fd->ww.agree / (double)fd->ww.weeks : 0,
                              NULL);
    if (fd->weekly)
        ds_event_evidence_add(v, "weekdays_to_weekend", fd->ww.ratio, NULL);
    if (fd->weekly)
        ds_event_evidence_add(v, "weekday_rank_p", fd->fr_p, "Friedman's test");
    if (fd->rank_only)
        ds_event_evidence_add(v, "by_rank_test", 1, NULL);
    if (fd->workweek) {
        ds_event_evidence_add(v, "working_week", 1, NULL);
        ds_event_evidence_add(v, "weeks_counted", (double)fd->ww.weeks, NULL);
    } else if (fd->weekly) {
        ds_event_evidence_add(v, "peak_weekday", (double)f->peak, WEEKDAY_EN[f->peak]);
    } else {
        int peak_utc = (int)(((int64_t)f->peak - utc_off_h) % 24 + 24) % 24;
        char tz[16];
        snprintf(tz, sizeof tz, "UTC%+d", (int)utc_off_h);
        ds_event_evidence_add(v, "peak_hour_local", (double)f->peak, utc_off_h ? tz : "UTC");
        ds_event_evidence_add(v, "peak_hour_utc", (double)peak_utc, NULL);
    }
    return DS_OK;
}

/* The coverage weight of each hour of the series (cov_weights.h), with every hour of a local day
 * that has fewer than DAY_MIN_HOURS observed ones set to 0 (missing). */
static void hour_weights(const ds_event_query *q, uint32_t h0, size_t nhours, double *w)
{
    ds_cov_hour_weights(q->coverage, q->sensor_id, (int64_t)h0, nhours, w);
    for (size_t d = 0; d * 24 < nhours; d++) {
        size_t seen = 0, end = d * 24 + 24 < nhours ? d * 24 + 24 : nhours;
        for (size_t h = d * 24; h < end; h++)
            seen += w[h] > 0;
        if (seen < DAY_MIN_HOURS)
            for (size_t h = d * 24; h < end; h++)
                w[h] = 0;
    }
}

/* A day's packets from its 24 hours: the sum, or the observed hours' mean x 24 when some are
 * missing; NaN when the day is left out. */
static double day_total(const double *x)
{
    double sum = 0;
    size_t seen = 0;
    for (size_t h = 0; h < 24; h++)
        if (isfinite(x[h])) {
            sum += x[h];
            seen++;
        }
    return seen == 24 ? sum : seen ? sum / (double)seen * 24.0 : NAN;
}

/* Whether the daily series (weekday wd0 first) has a weekly cycle (weekly_rule.h), into a. */
static int weekly_judge(found *a, const double *daily, size_t ndays, size_t wd0, size_t dark_weeks, int dark)
{
    ds_weekly w;
    int yes = ds_weekly_judge(daily, ndays, wd0, dark_weeks, dark, &w);
    if (getenv("DS_SERIES_DEBUG"))
        fprintf(stderr, "weekly dim %u key %08x acf %.2f friedman p %.2g ratio %.2f cons %.2f peak %zu weeks %zu "
                "weekend-quietest %zu wk/we %.2f -> %d\n", a->k->dim, a->k->key, w.f.acf, w.rank_p, w.f.peak_ratio,
                w.f.consistency, w.f.peak, w.ww.weeks, w.ww.agree, w.ww.ratio, yes);
    if (!yes)
        return 0;
    a->f = w.f;
    a->ww = w.ww;
    a->fr_p = w.rank_p;
    a->rank_only = !w.by_acf;
    a->weekly = 1;
    a->workweek = w.workweek;
    return 1;
}

/* Weeks (as ds_cycle_fit_run cuts them: from the first day of phase 0) with fewer than
 * WEEK_MIN_DAYS observed days become missing whole.  Returns how many: they count as weeks that
 * did not peak there, so that an outage cannot make a cycle out of the weeks it leaves. */
static size_t drop_thin_weeks(double *daily, size_t ndays, size_t wd0)
{
    size_t dropped = 0;
    for (size_t w = (7 - wd0) % 7; w + 7 <= ndays; w += 7) {
        size_t seen = 0;
        for (size_t d = w; d < w + 7; d++)
            seen += isfinite(daily[d]) != 0;
        if (seen < WEEK_MIN_DAYS) {
            for (size_t d = w; d < w + 7; d++)
                daily[d] = NAN;
            dropped++;
        }
    }
    return dropped;
}

/* Pearson's correlation of two weekly profiles (0 when one is flat). */
static double profile_corr(const double *a, const double *b)
{
    double ma = 0, mb = 0, c = 0, va = 0, vb = 0;
    for (size_t i = 0; i < 7; i++) {
        ma += a[i] / 7;
        mb += b[i] / 7;
    }
    for (size_t i = 0; i < 7; i++) {
        c += (a[i] - ma) * (b[i] - mb);
        va += (a[i] - ma) * (a[i] - ma);
        vb += (b[i] - mb) * (b[i] - mb);
    }
    return va > 0 && vb > 0 ? c / sqrt(va * vb) : 0;
}

typedef struct pair { double r; size_t i, j; } pair;

static int pair_cmp(const void *x, const void *y)
{
    const pair *a = x, *b = y;
    if (a->r != b->r)
        return a->r > b->r ? -1 : 1;
    return a->i != b->i ? (a->i < b->i ? -1 : 1) : (a->j > b->j) - (a->j < b->j);
}

/* A (country, service) pair of cycles of one kind that may be one phenomenon: daily, peaks within
 * DAILY_TOL hours of each other; weekly, profiles correlated at WEEKLY_FOLD_CORR or more.  Its
 * closeness (for the order of equal packets): 1 - hours apart / 12, or the correlation. */
static int same_cycle(const found *c, const found *v, double *r)
{
    if (c->weekly != v->weekly || c->k->dim != DS_HOURLY_COUNTRY || v->k->dim != DS_HOURLY_SERVICE || v->pair)
        return 0;   /* a pair's event names its country already */
    if (c->weekly) {
        *r = profile_corr(c->f.profile, v->f.profile);
        return *r >= WEEKLY_FOLD_CORR;
    }
    size_t d = c->f.peak > v->f.peak ? c->f.peak - v->f.peak : v->f.peak - c->f.peak;
    if (24 - d < d)
        d = 24 - d;
    *r = 1.0 - (double)d / 12.0;
    return d <= DAILY_TOL;
}

/* The (country, service) pairs of same_cycle into *out (NULL when none).  -1 when out of memory. */
static int cycle_pairs(const found *fd, size_t nfd, pair **out, size_t *np)
{
    *out = NULL;
    *np = 0;
    for (int fill = 0; fill < 2; fill++) {
        size_t n = 0;
        for (size_t i = 0; i < nfd; i++)
            for (size_t j = 0; j < nfd; j++) {
                double r;
                if (!same_cycle(&fd[i], &fd[j], &r))
                    continue;
                if (fill)
                    (*out)[n] = (pair){ r, i, j };
                n++;
            }
        if (!fill && n && !(*out = calloc(n, sizeof **out)))
            return -1;
        *np = n;
        if (!n)
            break;
    }
    return 0;
}

/* The query of one pair: the country's packets to the service (its total_packets). */
static void pair_query(const ds_event_query *q, const found *country, const found *service, ds_source_query *sq)
{
    memset(sq, 0, sizeof *sq);
    ds_filter_init(&sq->filter);
    sq->filter.sensor_id = q->sensor_id;
    sq->filter.cls = DS_CLASS_SCAN;
    sq->filter.exclude = q->exclude;
    sq->filter.ports[sq->filter.nports++] = service->k->key;
    sq->filter.countries[sq->filter.ncountries++] = (uint16_t)country->k->key;
    sq->limit = 1;
}

/* A country with the same cycle as a service (same_cycle) which sends that service at least
 * WEEKLY_FOLD_SHARE of its packets is that service's cycle.  The pairs are taken in the order of
 * the country's packets to the service (pt[n] for p[n]; st[j] the service j's sources, whose total
 * is its packets), each country and service once.  The peak alone was not enough: a Monday-Friday
 * cycle's peak is any of five days, and a country peaking on the same day by chance took the
 * service's event (seed 34: 21/tcp, GB's cycle, went to JP); two working weeks of two countries on
 * two services have the same profile (seed 50: FR on 3389/tcp and NL on 6379/tcp), which only the
 * packets between them tell apart.  Daily cycles had the same fault: VE's cycle on 7070/tcp (all
 * its top sources Venezuelan) was named the United States', whose own cycle peaked in the same
 * hours (seeds 138 and 146), and VE's stayed a second event. */
static void fold_pairs(found *fd, pair *p, size_t np, const ds_top_result *pt, const ds_top_result *st)
{
    size_t n = 0;
    for (size_t m = 0; m < np; m++)
        if ((double)pt[m].total_packets >= WEEKLY_FOLD_SHARE * (double)st[p[m].j].total_packets && pt[m].total_packets > 0)
            p[n++] = (pair){ (double)pt[m].total_packets, p[m].i, p[m].j };
    if (n > 1)   /* p is NULL when there are no pairs, and qsort's base must not be */
        qsort(p, n, sizeof *p, pair_cmp);
    for (size_t m = 0; m < n; m++) {
        found *c = &fd[p[m].i], *v = &fd[p[m].j];
        if (c->dropped || v->country[0])
            continue;
        ds_cc_unpack((uint16_t)c->k->key, v->country);
        c->dropped = 1;
    }
}

static int u32_cmp(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* Weekly cycles of (service, country) pairs (periodic_pairs.h): the MAX_PAIRS pairs with the most
 * scan packets, at least MIN_PER_DAY an observed day, of the services whose series were judged
 * (sel: the TOP_KEYS largest), whose service has no weekly cycle of its own (its event names the
 * country by the fold).  A pair is many small series, judged on top of the 2 x 50 of the
 * services and countries, so it must pass more than the weekly rule: a weekday
 * profile peaking at PAIR_PEAK_RATIO x its mean, or a working week at that ratio to the weekend,
 * and Friedman's p <= PAIR_RANK_P (1e-6: under 0.004 false cycles a query from 4,000 pairs) or
 * an autocorrelation at 7 days >= PAIR_ACF (a cycle of one busy weekday ranks weakly: seed 121's
 * 3306/tcp from France, p 1.2e-5, autocorrelation 0.92; the largest of any unplanted pair on 11
 * seeds was 0.50).
 * A country whose own weekly cycle correlates with the pair's at WEEKLY_FOLD_CORR is that pair's
 * when it is the only such pair (one event, on the pair), and the country's habit when several
 * are (one event, on the country).
 * Days are the CROSS chunks' local days, scaled by the hours observed (hw) as the hourly series
 * are; a day with none is left out.  Appends to fd (*nfd), the pairs' keys to *keys. */
static ds_rc pair_cycles(ds_store *st, const ds_event_query *q, hkey *const *sel, size_t nsel, const double *hw, size_t wd0,
                         int dark, found **fd, size_t *nfd, hkey **keys, ds_err *err)
{
    int32_t ndays = q->to - q->from + 1;
    double seen = ds_cov_days(q->coverage, q->sensor_id, q->from, q->to) / (double)ndays;
    ds_pair_series *ps = NULL;
    size_t nps = 0, nsvc = 0;
    double *daily = NULL;
    uint32_t svc[2 * TOP_KEYS];
    for (size_t i = 0; i < nsel && nsvc < 2 * TOP_KEYS; i++)
        if (sel[i]->dim == DS_HOURLY_SERVICE)
            svc[nsvc++] = sel[i]->key;
    qsort(svc, nsvc, sizeof *svc, u32_cmp);
    ds_rc rc = ds_pair_series_load(st, q->sensor_id, q->from, q->to, svc, nsvc, MAX_PAIRS,
                                   MIN_PER_DAY * (double)ndays * seen, &ps, &nps, err);
    if (rc != DS_OK || !nps)
        return rc;
    found *grown = realloc(*fd, (*nfd + nps) * sizeof **fd);
    if (grown)
        *fd = grown;
    if (!grown || !(*keys = calloc(nps, sizeof **keys)) || !(daily = calloc((size_t)ndays, sizeof *daily))) {
        rc = ds_fail(err, DS_ENOMEM, "out of memory judging weekly cycles of pairs");
        goto out;
    }
    size_t nbase = *nfd;
    for (size_t i = 0; i < nps; i++) {
        int covered = 0;
        for (size_t j = 0; j < nbase && !covered; j++)
            covered = (*fd)[j].weekly && (*fd)[j].k->dim == DS_HOURLY_SERVICE && (*fd)[j].k->key == ps[i].service;
        if (covered)
            continue;
        for (int32_t d = 0; d < ndays; d++) {
            double w = 0;
            for (size_t h = (size_t)d * 24; h < (size_t)d * 24 + 24; h++)
                w += hw[h];
            daily[d] = w > 0 ? ps[i].daily[d] * 24.0 / w : NAN;
        }
        size_t dark_weeks = drop_thin_weeks(daily, (size_t)ndays, wd0);
        found *a = &(*fd)[*nfd];   /* counted only when it passes */
        memset(a, 0, sizeof *a);
        (*keys)[i] = (hkey){ .key = ps[i].service, .dim = DS_HOURLY_SERVICE, .used = 1, .packets = ps[i].packets };
        a->k = &(*keys)[i];
        a->pair = 1;
        ds_cc_unpack(ps[i].cc, a->country);
        if (getenv("DS_SERIES_DEBUG"))
            fprintf(stderr, "weekly pair %08x %s %llu packets:\n", ps[i].service, a->country,
                    (unsigned long long)ps[i].packets);
        if (!weekly_judge(a, daily, (size_t)ndays, wd0, dark_weeks, dark) ||
            !(a->f.peak_ratio >= PAIR_PEAK_RATIO || (a->workweek && a->ww.ratio >= PAIR_PEAK_RATIO)) ||
            !(a->fr_p <= PAIR_RANK_P || a->f.acf >= PAIR_ACF))
            continue;
        (*nfd)++;
        for (size_t j = 0; j < nbase; j++)   /* the country's own cycle, when it is this one */
            if ((*fd)[j].weekly && (*fd)[j].k->dim == DS_HOURLY_COUNTRY && (*fd)[j].k->key == ps[i].cc &&
                profile_corr((*fd)[j].f.profile, a->f.profile) >= WEEKLY_FOLD_CORR)
                a->same_as = j + 1;
    }
    /* A country's cycle that one pair of it has is that pair's (one event, on the pair); one that
     * several have is the country's own habit, and its pairs go (one event, on the country). */
    for (size_t j = 0; j < nbase; j++) {
        size_t same = 0;
        for (size_t i = nbase; i < *nfd; i++)
            same += (*fd)[i].same_as == j + 1;
        for (size_t i = nbase; same && i < *nfd; i++)
            if ((*fd)[i].same_as == j + 1)
                (same == 1 ? &(*fd)[j] : &(*fd)[i])->dropped = 1;
    }
out:
    free(daily);
    ds_pair_series_free(ps, nps);
    return rc;
}

ds_rc ds_detect_periodic(ds_store *st, const ds_geo *geo, const ds_event_query *q, ds_events *out, ds_err *err)
{
    (void)geo;
    pctx c = { 0 };
    hkey **order = NULL;
    double *xs = NULL, *daily = NULL, *hw = NULL;
    found *fd = NULL;
    size_t nfd = 0;
    ds_source_query *sq = NULL;
    ds_top_result *tr = NULL;
    pair *pairs = NULL;
    size_t npairs = 0, ntr = 0;
    hkey *pair_keys = NULL;
    ds_rc rc = DS_OK;
    if (!ds_event_wanted(q, "periodic_daily") && !ds_event_wanted(q, "periodic_weekly"))
        return DS_OK;
    int32_t ndays = q->to - q->from + 1;
    uint64_t t0 = ds_day_start_ns(q->from) / 1000000000ULL;
    int64_t off = ds_tz_offset((int64_t)t0);
    c.h0 = (uint32_t)(t0 / 3600);
    c.nhours = (size_t)ndays * 24;
    if (grow(&c) != 0)
        goto nomem;
    if ((rc = ds_store_scan(st, DS_CHUNK_HOURLY, q->sensor_id, q->from, q->to, on_hourly, &c, err)) != DS_OK)
        goto out;
    order = calloc(c.n ? c.n : 1, sizeof *order);
    if (!order)
        goto nomem;
    size_t n = 0;
    for (size_t i = 0; i < c.cap; i++)
        if (c.tab[i].used)
            order[n++] = &c.tab[i];
    n = first_keys(order, n);
    size_t nsel = 0;
    /* the volume floors are per observed day: a sensor that was down is not a quieter service */
    double seen = ds_cov_days(q->coverage, q->sensor_id, q->from, q->to) / (double)ndays;
    for (size_t i = 0; i < n; i++) {
        hkey *k = order[i];
        if ((double)k->packets >= MIN_PER_DAY * (double)ndays * seen)
            order[nsel++] = k;
    }
    xs = calloc(nsel ? nsel * c.nhours : 1, sizeof *xs);
    daily = calloc((size_t)ndays, sizeof *daily);
    fd = calloc(nsel ? nsel * 2 : 1, sizeof *fd);
    hw = malloc(c.nhours * sizeof *hw);
    if (!xs || !daily || !fd || !hw)
        goto nomem;
    _Static_assert(2 * TOP_KEYS <= SEL_SLOTS / 2, "the chosen keys fill at most half the second pass's table");
    for (size_t i = 0; i < nsel; i++) {
        order[i]->x = xs + i * c.nhours;
        sel_add(&c, order[i]->dim, order[i]->key, order[i]->x);
    }
    c.fill = 1;
    if ((rc = ds_store_scan(st, DS_CHUNK_HOURLY, q->sensor_id, q->from, q->to, on_hourly, &c, err)) != DS_OK)
        goto out;
    size_t wd0 = (size_t)(((q->from + 4) % 7 + 7) % 7);    /* 1970-01-01 was a Thursday */
    hour_weights(q, c.h0, c.nhours, hw);
    int dark = 0;   /* some hour of the period not fully observed */
    for (size_t h = 0; h < c.nhours && !dark; h++)
        dark = hw[h] < 1;
    for (size_t i = 0; i < nsel; i++) {
        const hkey *k = order[i];
        found *a = &fd[nfd];
        ds_cov_apply(k->x, hw, c.nhours);
        if ((double)k->packets >= MIN_PER_HOUR * (double)c.nhours * seen &&
            ds_cycle_fit_run(k->x, c.nhours, 24, 0, DAILY_TOL, &a->f) == 0 && a->f.acf >= DAILY_ACF &&
            ds_cycle_smooth_ratio(&a->f, 24) >= DAILY_PEAK_RATIO && a->f.consistency >= MIN_CONSISTENCY &&
            a->f.above >= DAILY_MIN_ABOVE) {
            a->k = k;
            nfd++;
        }
        if (getenv("DS_SERIES_DEBUG")) {
            ds_cycle_fit g;
            if (ds_cycle_fit_run(k->x, c.nhours, 24, 0, DAILY_TOL, &g) == 0) {
                fprintf(stderr, "daily dim %u key %08x acf %.2f ratio %.2f smooth %.2f cons %.2f above %zu peak %zu:", k->dim,
                        k->key, g.acf, g.peak_ratio, ds_cycle_smooth_ratio(&g, 24), g.consistency, g.above, g.peak);
                for (size_t h = 0; h < 24; h++)
                    fprintf(stderr, " %.2f", g.profile[h]);
                fprintf(stderr, "\n");
            }
        }
        for (int32_t d = 0; d < ndays; d++)
            daily[d] = day_total(k->x + (size_t)d * 24);
        size_t dark_weeks = drop_thin_weeks(daily, (size_t)ndays, wd0);
        a = &fd[nfd];
        if (getenv("DS_SERIES_DEBUG")) {
            fprintf(stderr, "wseries %u %08x %zu", k->dim, k->key, wd0);
            for (int32_t d = 0; d < ndays; d++)
                fprintf(stderr, " %.1f", daily[d]);
            fprintf(stderr, "\n");
        }
        a->k = k;   /* for the debug line; an unused slot's k is never read */
        nfd += weekly_judge(a, daily, (size_t)ndays, wd0, dark_weeks, dark);
    }
    if (ds_event_wanted(q, "periodic_weekly") && !DS_NO_PAIRS() &&
        (rc = pair_cycles(st, q, order, nsel, hw, wd0, dark, &fd, &nfd, &pair_keys, err)) != DS_OK)
        goto out;
    /* a country with the same cycle as a service, and sending it enough of its packets, is that
     * service's cycle (the packets between them read with the top sources of every cycle, in one
     * read: source_rows.h) */
    if (cycle_pairs(fd, nfd, &pairs, &npairs) != 0)
        goto nomem;
    ntr = nfd + npairs;
    if (!(sq = calloc(ntr + 1, sizeof *sq)) || !(tr = calloc(ntr + 1, sizeof *tr)))
        goto nomem;
    for (size_t i = 0; i < nfd; i++)
        sources_query(q, &fd[i], &sq[i]);
    for (size_t m = 0; m < npairs; m++)
        pair_query(q, &fd[pairs[m].i], &fd[pairs[m].j], &sq[nfd + m]);
    if (ntr && (rc = ds_source_rows(st, q->from, q->to, q->sensor_id, sq, ntr, tr, err)) != DS_OK)
        goto out;
    fold_pairs(fd, pairs, npairs, tr + nfd, tr);
    for (size_t i = 0; i < nfd && rc == DS_OK; i++)
        if (!fd[i].dropped && ds_event_wanted(q, fd[i].weekly ? "periodic_weekly" : "periodic_daily"))
            rc = emit(q, &fd[i], &tr[i], off / 3600, out, err);
    goto out;
nomem:
    rc = ds_fail(err, DS_ENOMEM, "out of memory reading hourly series");
out:
    for (size_t i = 0; tr && i < ntr; i++)
        ds_top_result_free(&tr[i]);
    free(pairs);
    free(tr);
    free(sq);
    free(fd);
    free(pair_keys);
    free(daily);
    free(hw);
    free(xs);
    free(order);
    free(c.tab);
    return rc;
}
