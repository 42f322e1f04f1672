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
 * A cycle counts (robust.h, ds_cycle_fit_run) when, after each day (week) is divided by its own
 * mean so that level changes do not look like cycles:
 *   - the autocorrelation at the cycle's lag is positive (daily: >= 0.2);
 *   - the mean profile's peak is well above its mean: daily >= 1.5x after a 3-point running
 *     median (so a sweep minutes long at the same hour every day is not a cycle), with at least 5
 *     hours at or above the mean; weekly >= 1.2x (a Monday-Friday pattern peaks lower than one
 *     busy day).  Real darknet traffic is close to flat per hour, and the mild +-20% swell every
 *     busy service shows is not what an analyst calls a daily cycle;
 *   - the peak recurs: at least half the days peak within 2 hours of it (noise: 5/24 = 21%), or
 *     45% of the weeks on that weekday (noise: 1/7; 6 of 13 weeks happens by chance 0.5% of the
 *     time).
 * HOURLY records carry no source, so `--exclude research` does not apply here; `--sensor` does.
 * Hours no sensor observed (coverage.h) are missing, not zero: each hour is scaled by its observed
 * share of the addresses or left out below half (cov_weights.h), and a day with fewer than
 * DAY_MIN_HOURS observed hours is left out whole, so an outage is neither a trough nor a week.
 * A country whose cycle has the same peak as a periodic service is reported once, on the service.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/cov_weights.h"
#include "analysis/events_int.h"
#include "analysis/source_rows.h"
#include "analysis/robust.h"
#include "core/hash.h"
#include "util/textfmt.h"
#include "util/timeutil.h"

#define TOP_KEYS 50
#define MIN_PER_HOUR 5.0        /* daily: at least 5 packets an hour, or the hours are mostly counting noise */
#define MIN_PER_DAY 20.0        /* weekly: at least 20 packets a day */
#define DAILY_ACF 0.2
#define DAILY_PEAK_RATIO 1.5
#define DAILY_TOL 2
#define DAILY_MIN_ABOVE 5       /* hours at or above the mean: a cycle, not a daily sweep minutes long */
#define WEEKLY_ACF 0.0          /* weekly: positive; the recurrence test below carries the weight */
#define WEEKLY_PEAK_RATIO 1.2   /* a working-week pattern (Mon-Fri high) peaks lower than one busy day */
#define MIN_CONSISTENCY 0.5
#define WEEKLY_CONSISTENCY 0.45 /* 6 of 13 weeks: P(X >= 6) = 0.5% for the 1/7 chance of noise */
#define WEEKLY_CHANCE 0.01      /* when some sensor was dark in the period: also as many weeks as noise
                                 * reaches with at most 1% probability (binomial, p = 1/7), the same 6
                                 * weeks as the 45% at 12 and 13 weeks (6 of 13: 0.6%), but 5 of 8 rather
                                 * than 4 (1.8%) when the outage leaves fewer weeks */
#define WORKWEEK_SHARE 0.45     /* a working week: the weekend the two quietest days in 45% of the weeks */
#define WORKWEEK_CHANCE 0.01    /* and as many weeks as noise (p = 1/21 a week) reaches with at most 1% */
#define WORKWEEK_RATIO 1.2      /* and Monday-Friday at least 1.2x the weekend days */
#define DAY_MIN_HOURS 12        /* a day with fewer observed hours is left out: its peak would be one of a few */
#define WEEK_MIN_DAYS 5         /* a week with fewer observed days is left out, for the same reason */
#define WEEKLY_MIN_WEEKS 4      /* and then 4 weeks seen: 3 weeks peak on one weekday by chance 0.3% of the
                                 * time, a false cycle every third month with 100 series judged */

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
    ds_cycle_fit f;
    int dropped;
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
    if (fd->country[0] && fd->k->dim == DS_HOURLY_SERVICE)
        ds_event_evidence_add(v, "country_with_same_cycle", 1, fd->country);
    if (fd->weekly)
        ds_event_evidence_add(v, "weeks_weekend_quietest", fd->ww.weeks ? (double)fd->ww.agree / (double)fd->ww.weeks : 0,
                              NULL);
    if (fd->weekly)
        ds_event_evidence_add(v, "weekdays_to_weekend", fd->ww.ratio, NULL);
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

/* P(X >= k) for X ~ Binomial(n, p): how often noise makes k of n cycles peak at one phase. */
static double by_chance(size_t n, size_t k, double p)
{
    double sum = 0, term = pow(1 - p, (double)n);   /* P(X = 0) */
    for (size_t i = 0; i <= n; i++) {
        if (i >= k)
            sum += term;
        term *= (double)(n - i) / (double)(i + 1) * p / (1 - p);
    }
    return sum;
}

/* The weekly recurrence test: the weeks peaking on the profile's weekday, out of the weeks with
 * data and those an outage left out, reach WEEKLY_CONSISTENCY; when some hour of the period was
 * not fully observed (dark), also a binomial tail of at most WEEKLY_CHANCE over at least
 * WEEKLY_MIN_WEEKS weeks seen.  Without an outage the rule is the one tuned on the seeds (a
 * month-long query's weekly cycles are mostly noise either way: docs/detection.md). */
static int weekly_recurs(const ds_cycle_fit *f, size_t dark_weeks, int dark)
{
    size_t weeks = f->cycles + dark_weeks, agree = (size_t)llround(f->consistency * (double)f->cycles);
    if ((double)agree / (double)weeks < WEEKLY_CONSISTENCY)
        return 0;
    return !dark || (f->cycles >= WEEKLY_MIN_WEEKS && by_chance(weeks, agree, 1.0 / 7) <= WEEKLY_CHANCE);
}

/* The working-week test (robust.h, ds_workweek_fit): Saturday and Sunday the two quietest days in
 * WORKWEEK_SHARE of the weeks (an outage's weeks count as weeks that did not), a binomial tail of
 * at most WORKWEEK_CHANCE for p = 1/21, and the weekdays WORKWEEK_RATIO x the weekend. */
static int workweek(const ds_workweek *w, size_t dark_weeks)
{
    size_t weeks = w->weeks + dark_weeks;
    return weeks >= WEEKLY_MIN_WEEKS && (double)w->agree >= WORKWEEK_SHARE * (double)weeks &&
           by_chance(weeks, w->agree, 1.0 / 21) <= WORKWEEK_CHANCE && w->ratio >= WORKWEEK_RATIO;
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
        if (getenv("DS_SERIES_DEBUG") && ds_cycle_fit_run(daily, (size_t)ndays, 7, wd0, 0, &a->f) == 0)
            fprintf(stderr, "weekly dim %u key %08x acf %.2f ratio %.2f cons %.2f peak %zu\n", k->dim, k->key, a->f.acf,
                    a->f.peak_ratio, a->f.consistency, a->f.peak);
        if (ds_cycle_fit_run(daily, (size_t)ndays, 7, wd0, 0, &a->f) == 0 && a->f.acf > WEEKLY_ACF &&
            a->f.peak_ratio >= WEEKLY_PEAK_RATIO) {
            ds_workweek_fit(daily, (size_t)ndays, wd0, &a->ww);
            int one_day = weekly_recurs(&a->f, dark_weeks, dark), ww = workweek(&a->ww, dark_weeks);
            if (getenv("DS_SERIES_DEBUG"))
                fprintf(stderr, "workweek dim %u key %08x weeks %zu agree %zu ratio %.2f\n", k->dim, k->key, a->ww.weeks,
                        a->ww.agree, a->ww.ratio);
            if (one_day || ww) {
                a->k = k;
                a->weekly = 1;
                a->workweek = !one_day;
                nfd++;
            }
        }
    }
    /* a country with the same cycle and peak as a service is that service's cycle */
    for (size_t i = 0; i < nfd; i++) {
        if (fd[i].k->dim != DS_HOURLY_COUNTRY)
            continue;
        for (size_t j = 0; j < nfd; j++) {
            if (fd[j].k->dim != DS_HOURLY_SERVICE || fd[j].weekly != fd[i].weekly || fd[j].country[0])
                continue;
            size_t per = fd[i].weekly ? 7 : 24, d = fd[i].f.peak > fd[j].f.peak ? fd[i].f.peak - fd[j].f.peak
                                                                                   : fd[j].f.peak - fd[i].f.peak;
            if (per - d < d)
                d = per - d;
            if (d <= (fd[i].weekly ? 0u : (size_t)DAILY_TOL)) {
                ds_cc_unpack((uint16_t)fd[i].k->key, fd[j].country);
                fd[i].dropped = 1;
                break;
            }
        }
    }
    /* the top sources of every cycle reported, from one read (source_rows.h) */
    size_t nq = 0;
    if (!(sq = calloc(nfd + 1, sizeof *sq)) || !(tr = calloc(nfd + 1, sizeof *tr)))
        goto nomem;
    for (size_t i = 0; i < nfd; i++)
        if (!fd[i].dropped && ds_event_wanted(q, fd[i].weekly ? "periodic_weekly" : "periodic_daily"))
            sources_query(q, &fd[i], &sq[nq++]);
    if (nq && (rc = ds_source_rows(st, q->from, q->to, q->sensor_id, sq, nq, tr, err)) != DS_OK)
        goto out;
    for (size_t i = 0, k = 0; i < nfd && rc == DS_OK; i++)
        if (!fd[i].dropped && ds_event_wanted(q, fd[i].weekly ? "periodic_weekly" : "periodic_daily"))
            rc = emit(q, &fd[i], &tr[k++], off / 3600, out, err);
    goto out;
nomem:
    rc = ds_fail(err, DS_ENOMEM, "out of memory reading hourly series");
out:
    for (size_t i = 0; tr && i < nfd; i++)
        ds_top_result_free(&tr[i]);
    free(tr);
    free(sq);
    free(fd);
    free(daily);
    free(hw);
    free(xs);
    free(order);
    free(c.tab);
    return rc;
}
