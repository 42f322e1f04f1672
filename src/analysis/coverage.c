/* coverage.c: hours each sensor observed, from the store's coverage rows (see coverage.h).
 *
 * Loading a period reads every coverage row that overlaps it and CONTEXT_DAYS before it (a
 * few hundred rows a quarter for capture files, one per segment for live sensors), and lays them
 * out per sensor as two arrays over UTC hours: "some file observed this hour for this sensor"
 * and the packets the sensor received in it.  Then, per sensor:
 *
 *   state   = DECLARED when the configuration says the sensor was down,
 *             COVERED  when observed and packets arrived,
 *             COVERED  when a span vouched for by more than packets covers it: a live sensor's
 *                      segment, pcapng interface statistics, `ingest --covers`,
 *             OUTAGE   when only a plain capture's span covers it and nothing arrived for a run
 *                      of hours in which the sensor's usual traffic makes silence practically
 *                      impossible (below: the inference the issue asks for plain pcap),
 *             COVERED  when such a run is short enough to be believable,
 *             NODATA   when no file observed the hour.
 *
 * The inference.  A darknet's traffic is the sum of thousands of independent senders, so it
 * arrives much like a Poisson stream: a run of n empty hours at a rate of r packets an hour has
 * probability e^(-n r).  A run is an outage when n r >= DS_COVERAGE_MIN_EXPECTED (20: e^-20 is
 * about 2e-9), with r taken low, in two ways:
 *   hourly = the 10th percentile of the observed hours of the days on which anything arrived,
 *            empty hours included: a quiet night is judged by the quiet hours;
 *   daily  = the median packets a day (days on which anything arrived, scaled up from their
 *            observed hours), for runs of a day or more: a sensor that receives a few bursts a
 *            day (hourly 0) still has a long outage seen.
 * A busy sensor (hourly 500) is down after one empty hour; a quiet one (5 an hour at night)
 * after four; one that gets 3 packets a day after a week.
 *
 * CONTEXT_DAYS are loaded on either side of the period.  An
 * outage that reaches the first or last loaded hour began earlier or ended later: the load is
 * repeated with twice the context until the outage's ends are inside it or the store's data
 * ends, so a report names an outage wherever it began.
 *
 * A sensor with no packet at all in the loaded hours (a period inside a long outage) takes its
 * rates from its whole history: otherwise an outage longer than the context would look like a
 * quiet sensor.
 */
#include "analysis/coverage.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/timeutil.h"

#define CONTEXT_DAYS 28
#define HOUR_NS 3600000000000ULL

static int64_t floor_hour(int64_t sec) { return sec >= 0 ? sec / 3600 : -((-sec + 3599) / 3600); }

typedef struct load_ctx {
    ds_coverage *c;
    uint8_t **seen;             /* per sensor: [nhours] 1 observed by a capture's packets (open to
                                 * inference), 2 by a vouched-for span (segment, ISB, --covers) or a
                                 * row without hour counts (written before they were kept) */
    int64_t *ids;               /* sensor ids, index = sensor position */
} load_ctx;

static ptrdiff_t sensor_pos(const ds_coverage *c, int64_t id)
{
    for (size_t i = 0; i < c->n; i++)
        if (c->s[i].id == id)
            return (ptrdiff_t)i;
    return -1;
}

static ds_rc on_row(void *ctx, const ds_coverage_row *r, ds_err *err)
{
    load_ctx *lc = ctx;
    ds_coverage *c = lc->c;
    ptrdiff_t p = sensor_pos(c, r->sensor_id);
    if (p < 0)
        return DS_OK;   /* a sensor row the sensors table does not have: nothing to attach it to */
    int64_t a = (int64_t)(r->first_ns / HOUR_NS), b = (int64_t)(r->last_ns / HOUR_NS);
    int64_t lo = a > c->h0 ? a : c->h0, hi = b < c->h0 + (int64_t)c->nhours - 1 ? b : c->h0 + (int64_t)c->nhours - 1;
    /* Only a capture's own packets leave its quiet hours open to inference; a span a sensor, an
     * interface's statistics or the operator vouch for is observed as it stands, and so is a row
     * written before hour counts were kept (its counts are unknown) */
    uint8_t mark = r->source == DS_COVSRC_PACKETS && r->hours ? 1 : 2;
    for (int64_t h = lo; h <= hi; h++)
        if (lc->seen[p][h - c->h0] < mark)
            lc->seen[p][h - c->h0] = mark;
    if (!r->hours)
        return DS_OK;
    for (size_t i = 0; i < r->nhours; i++) {
        int64_t h = r->hour0 + (int64_t)i;
        if (h < c->h0 || h >= c->h0 + (int64_t)c->nhours || !r->hours[i])
            continue;
        uint32_t *v = &c->s[p].packets[h - c->h0];
        *v = r->hours[i] > UINT32_MAX - *v ? UINT32_MAX : *v + r->hours[i];
        if (!lc->seen[p][h - c->h0])
            lc->seen[p][h - c->h0] = 1;
    }
    return DS_OK;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The rates of the inference (see the top of this file) from hours v[0..n) starting at UTC hour
 * h0, of which obs[i] != 0 were observed.  0, 0 when nothing arrived. */
static ds_rc estimate(const uint32_t *v, const uint8_t *obs, size_t n, int64_t h0, double *hourly, double *daily,
                      ds_err *err)
{
    uint32_t *hs = malloc((n ? n : 1) * sizeof *hs);
    double *ds = malloc((n / 24 + 2) * sizeof *ds);
    size_t nh = 0, nd = 0;
    *hourly = *daily = 0;
    if (!hs || !ds) {
        free(hs);
        free(ds);
        return ds_fail(err, DS_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < n;) {
        /* one UTC day (or the part of it that is loaded) */
        int64_t day = (h0 + (int64_t)i) / 24;
        size_t e = i;
        uint64_t sum = 0;
        size_t seen = 0;
        while (e < n && (h0 + (int64_t)e) / 24 == day) {
            if (obs[e]) {
                sum += v[e];
                seen++;
            }
            e++;
        }
        if (sum) {
            for (size_t k = i; k < e; k++)
                if (obs[k])
                    hs[nh++] = v[k];
            ds[nd++] = (double)sum * 24.0 / (double)seen;
        }
        i = e;
    }
    if (nh) {
        qsort(hs, nh, sizeof *hs, cmp_u32);
        *hourly = hs[nh / 10];
    }
    if (nd) {
        qsort(ds, nd, sizeof *ds, cmp_double);
        *daily = ds[nd / 2];
    }
    free(hs);
    free(ds);
    return DS_OK;
}

/* A sensor's rows' hours laid out over the store's data span (history_rates). */
typedef struct hist_ctx {
    const ds_coverage *c;
    int64_t h0;
    size_t n;
    uint32_t **v;               /* per sensor position: its hours over the data span, or NULL when
                                 * its rates came from the loaded hours */
    uint8_t **obs;
} hist_ctx;

static ds_rc on_hist_row(void *ctx, const ds_coverage_row *r, ds_err *err)
{
    hist_ctx *hc = ctx;
    ptrdiff_t p = sensor_pos(hc->c, r->sensor_id);
    if (p < 0 || !hc->v[p] || !r->hours)
        return DS_OK;
    for (size_t i = 0; i < r->nhours; i++) {
        int64_t h = r->hour0 + (int64_t)i - hc->h0;
        if (h < 0 || h >= (int64_t)hc->n)
            continue;
        hc->obs[p][h] = 1;
        hc->v[p][h] = r->hours[i] > UINT32_MAX - hc->v[p][h] ? UINT32_MAX : hc->v[p][h] + r->hours[i];
    }
    return DS_OK;
}

/* The rates of the sensors that had no packet in the loaded hours, from their whole history, in
 * one read of the store's coverage rows for all of them. */
static ds_rc history_rates(ds_store *st, ds_coverage *c, ds_err *err)
{
    ds_rc rc = DS_OK;
    size_t need = 0;
    for (size_t i = 0; i < c->n; i++)
        need += c->s[i].usual == 0 && c->s[i].usual_day == 0;
    if (!need || !c->data_first || c->data_last <= c->data_first)
        return DS_OK;
    hist_ctx hc = { c, c->data_first / 3600, (size_t)((c->data_last - c->data_first) / 3600),
                    calloc(c->n, sizeof(uint32_t *)), calloc(c->n, sizeof(uint8_t *)) };
    if (!hc.v || !hc.obs) {
        rc = ds_fail(err, DS_ENOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < c->n; i++)
        if (c->s[i].usual == 0 && c->s[i].usual_day == 0 &&
            (!(hc.v[i] = calloc(hc.n, sizeof(uint32_t))) || !(hc.obs[i] = calloc(hc.n, 1)))) {
            rc = ds_fail(err, DS_ENOMEM, "out of memory");
            goto out;
        }
    if ((rc = ds_store_coverage_scan(st, 0, UINT64_MAX, on_hist_row, &hc, err)) != DS_OK)
        goto out;
    for (size_t i = 0; i < c->n && rc == DS_OK; i++)
        if (hc.v[i])
            rc = estimate(hc.v[i], hc.obs[i], hc.n, hc.h0, &c->s[i].usual, &c->s[i].usual_day, err);
out:
    for (size_t i = 0; i < c->n; i++) {
        free(hc.v ? hc.v[i] : NULL);
        free(hc.obs ? hc.obs[i] : NULL);
    }
    free(hc.v);
    free(hc.obs);
    return rc;
}

/* The states of sensor i's hours (see the top of this file). */
static void infer(ds_coverage *c, size_t i, const uint8_t *seen)
{
    ds_cov_sensor *s = &c->s[i];
    for (size_t h = 0; h < c->nhours;) {
        if (!seen[h] || s->packets[h] || seen[h] == 2) {
            s->state[h] = !seen[h] ? DS_HOUR_NODATA : DS_HOUR_COVERED;
            h++;
            continue;
        }
        size_t e = h;   /* a run of empty hours only a capture's own span covers */
        while (e < c->nhours && seen[e] == 1 && !s->packets[e])
            e++;
        double n = (double)(e - h);
        int out = n * s->usual >= DS_COVERAGE_MIN_EXPECTED ||
                  (n >= 24 && n * s->usual_day / 24.0 >= DS_COVERAGE_MIN_EXPECTED);
        for (; h < e; h++)
            s->state[h] = out ? DS_HOUR_OUTAGE : DS_HOUR_COVERED;
    }
}

/* Mark the declared outages of cfg's sensors. */
static void apply_declared(ds_coverage *c, const ds_config *cfg)
{
    for (size_t k = 0; cfg && k < cfg->nsensors; k++) {
        const ds_sensor_conf *sc = &cfg->sensors[k];
        ds_cov_sensor *s = NULL;
        for (size_t i = 0; i < c->n; i++)
            if (strcmp(c->s[i].name, sc->name) == 0)
                s = &c->s[i];
        for (size_t j = 0; s && j < sc->noutages; j++) {
            int64_t a, b;
            if (ds_span_parse(sc->outages[j].span, &a, &b) != 0)
                continue;   /* checked when the configuration was loaded */
            /* hours wholly inside the declared span: a partial hour keeps what the data says */
            int64_t ha = (a + 3599) / 3600, hb = b / 3600;   /* [ha, hb) */
            for (int64_t h = ha; h < hb; h++)
                if (h >= c->h0 && h < c->h0 + (int64_t)c->nhours)
                    s->state[h - c->h0] = DS_HOUR_DECLARED;
        }
    }
}

static void coverage_release(ds_coverage *c)
{
    for (size_t i = 0; c && c->s && i < c->n; i++) {
        free(c->s[i].state);
        free(c->s[i].packets);
    }
    if (c)
        free(c->s);
}

void ds_coverage_free(ds_coverage *c)
{
    coverage_release(c);
    free(c);
}

/* Load with `context` days on either side of [from, to]. */
static ds_rc load(ds_store *st, const ds_config *cfg, int32_t from, int32_t to, int32_t context, ds_coverage *c,
                  ds_err *err)
{
    ds_rc rc;
    ds_sensor_info *si = NULL;
    size_t nsi = 0;
    load_ctx lc = { c, NULL, NULL };
    memset(c, 0, sizeof *c);
    c->from = from;
    c->to = to;
    uint64_t dfirst, dlast;
    rc = ds_store_coverage_span(st, &dfirst, &dlast, err);
    if (rc == DS_OK) {
        c->data_first = (int64_t)(dfirst / HOUR_NS) * 3600;
        c->data_last = ((int64_t)(dlast / HOUR_NS) + 1) * 3600;
    } else if (rc == DS_ENOTFOUND) {
        ds_err_clear(err);
    } else {
        return rc;
    }
    if ((rc = ds_store_sensors(st, &si, &nsi, err)) != DS_OK)
        return rc;
    c->h0 = floor_hour(ds_day_start(from - context));
    int64_t hend = floor_hour(ds_day_start(to + 1 + context) - 1) + 1;
    /* outside the store's data (and its context) every hour is NODATA: hold none of them, so that
     * `top --from 1900-01-01 --to 2900-12-31` costs what the data costs, not a millennium of hours */
    int64_t lo = c->data_first / 3600 - (int64_t)context * 24, hi = c->data_last / 3600 + (int64_t)context * 24;
    if (c->data_last <= c->data_first)
        lo = hi = c->h0;
    if (c->h0 < lo)
        c->h0 = lo;
    if (hend > hi)
        hend = hi;
    c->nhours = hend > c->h0 ? (size_t)(hend - c->h0) : 0;
    rc = DS_ENOMEM;
    if (nsi && !(c->s = calloc(nsi, sizeof *c->s)))
        goto out;
    c->n = nsi;
    if (nsi && !(lc.seen = calloc(nsi, sizeof *lc.seen)))
        goto out;
    for (size_t i = 0; i < nsi; i++) {
        c->s[i].id = si[i].id;
        snprintf(c->s[i].name, sizeof c->s[i].name, "%s", si[i].name);
        c->s[i].v4_addresses = si[i].v4_addresses;
        if (!(c->s[i].state = calloc(c->nhours, 1)) || !(c->s[i].packets = calloc(c->nhours, sizeof(uint32_t))) ||
            !(lc.seen[i] = calloc(c->nhours, 1)))
            goto out;
    }
    if ((rc = ds_store_coverage_scan(st, (uint64_t)c->h0 * HOUR_NS, (uint64_t)(c->h0 + (int64_t)c->nhours) * HOUR_NS - 1,
                                     on_row, &lc, err)) != DS_OK)
        goto out;
    for (size_t i = 0; i < c->n; i++) {
        ds_cov_sensor *s = &c->s[i];
        if ((rc = estimate(s->packets, lc.seen[i], c->nhours, c->h0, &s->usual, &s->usual_day, err)) != DS_OK)
            goto out;
    }
    if ((rc = history_rates(st, c, err)) != DS_OK)
        goto out;
    for (size_t i = 0; i < c->n; i++)
        infer(c, i, lc.seen[i]);
    apply_declared(c, cfg);
    for (size_t i = 0; i < c->n; i++) {
        ds_cov_sensor *s = &c->s[i];
        double sum = 0, nh = 0;
        for (size_t h = 0; h < c->nhours; h++)
            if (s->state[h] == DS_HOUR_COVERED) {
                sum += s->packets[h];
                nh++;
            }
        s->mean = nh > 0 ? sum / nh : 0;
    }
    rc = DS_OK;
out:
    if (rc == DS_ENOMEM)
        ds_fail(err, rc, "out of memory");
    for (size_t i = 0; lc.seen && i < nsi; i++)
        free(lc.seen[i]);
    free(lc.seen);
    free(si);
    return rc;
}

/* 1 when some sensor's outage (or gap inside the data) reaches the first or the last loaded
 * hour and the store has data beyond it: the outage began earlier, or ended later, than the
 * context shows. */
static int reaches_out(const ds_coverage *c)
{
    if (!c->data_first || !c->nhours)
        return 0;
    int64_t end = (c->h0 + (int64_t)c->nhours) * 3600;
    for (size_t i = 0; i < c->n; i++) {
        if (c->h0 * 3600 > c->data_first && c->s[i].state[0] != DS_HOUR_COVERED)
            return 1;
        if (end < c->data_last && c->s[i].state[c->nhours - 1] != DS_HOUR_COVERED)
            return 1;
    }
    return 0;
}

ds_rc ds_coverage_load(ds_store *st, const ds_config *cfg, int32_t from, int32_t to, ds_coverage **out, ds_err *err)
{
    ds_rc rc;
    *out = NULL;
    if (to < from)
        return ds_fail(err, DS_EINVAL, "coverage: the period ends before it begins");
    ds_coverage *c = calloc(1, sizeof *c);
    if (!c)
        return ds_fail(err, DS_ENOMEM, "out of memory");
    for (int32_t context = CONTEXT_DAYS;; context *= 2) {
        if ((rc = load(st, cfg, from, to, context, c, err)) != DS_OK)
            break;
        if (!reaches_out(c) || context > 366 * 50)
            break;
        coverage_release(c);
    }
    if (rc != DS_OK) {
        ds_coverage_free(c);
        return rc;
    }
    *out = c;
    return DS_OK;
}

/* Covered seconds of sensor s in [a, b) (unix seconds, within the loaded hours). */
static int64_t covered_seconds(const ds_coverage *c, const ds_cov_sensor *s, int64_t a, int64_t b)
{
    int64_t sum = 0;
    for (int64_t h = floor_hour(a); h * 3600 < b; h++) {
        if (h < c->h0 || h >= c->h0 + (int64_t)c->nhours || s->state[h - c->h0] != DS_HOUR_COVERED)
            continue;
        int64_t lo = h * 3600 > a ? h * 3600 : a, hi = (h + 1) * 3600 < b ? (h + 1) * 3600 : b;
        sum += hi - lo;
    }
    return sum;
}

static double sensor_day_frac(const ds_coverage *c, const ds_cov_sensor *s, int32_t day)
{
    int64_t a = ds_day_start(day), b = ds_day_start(day + 1);
    return b > a ? (double)covered_seconds(c, s, a, b) / (double)(b - a) : 0.0;
}

/* Weight of sensor s in an address-weighted mean (equal weights when no sensor has IPv4). */
static double weight(const ds_coverage *c, const ds_cov_sensor *s)
{
    for (size_t i = 0; i < c->n; i++)
        if (c->s[i].v4_addresses)
            return (double)s->v4_addresses;
    return 1.0;
}

double ds_coverage_day_frac(const ds_coverage *c, int64_t sensor_id, int32_t day)
{
    double num = 0, den = 0;
    for (size_t i = 0; i < c->n; i++) {
        if (sensor_id && c->s[i].id != sensor_id)
            continue;
        double w = sensor_id ? 1.0 : weight(c, &c->s[i]);
        num += w * sensor_day_frac(c, &c->s[i], day);
        den += w;
    }
    return den > 0 ? num / den : 0.0;
}

double ds_coverage_hour_frac(const ds_coverage *c, int64_t sensor_id, int64_t hour)
{
    double num = 0, den = 0;
    if (hour < c->h0 || hour >= c->h0 + (int64_t)c->nhours)
        return 0.0;
    for (size_t i = 0; i < c->n; i++) {
        if (sensor_id && c->s[i].id != sensor_id)
            continue;
        double w = sensor_id ? 1.0 : weight(c, &c->s[i]);
        num += w * (c->s[i].state[hour - c->h0] == DS_HOUR_COVERED);
        den += w;
    }
    return den > 0 ? num / den : 0.0;
}

/* Days before and after the loaded hours hold nothing covered: [from, to] narrowed to them. */
static void loaded_days(const ds_coverage *c, int32_t *from, int32_t *to)
{
    if (!c->nhours) {
        *to = *from - 1;
        return;
    }
    int32_t a = ds_day_of(c->h0 * 3600), b = ds_day_of((c->h0 + (int64_t)c->nhours) * 3600 - 1);
    if (*from < a)
        *from = a;
    if (*to > b)
        *to = b;
}

double ds_coverage_days(const ds_coverage *c, int64_t sensor_id, int32_t from, int32_t to)
{
    double sum = 0;
    loaded_days(c, &from, &to);
    for (int32_t d = from; d <= to; d++)
        sum += ds_coverage_day_frac(c, sensor_id, d);
    return sum;
}

double ds_coverage_addr_days(const ds_coverage *c, int64_t sensor_id, int32_t from, int32_t to)
{
    double sum = 0;
    loaded_days(c, &from, &to);
    for (size_t i = 0; i < c->n; i++) {
        if (sensor_id && c->s[i].id != sensor_id)
            continue;
        if (!c->s[i].v4_addresses)
            continue;
        double days = 0;
        for (int32_t d = from; d <= to; d++)
            days += sensor_day_frac(c, &c->s[i], d);
        sum += (double)c->s[i].v4_addresses * days;
    }
    return sum;
}

static int cmp_outage(const void *a, const void *b)
{
    const ds_outage *x = a, *y = b;
    int k = strcmp(x->sensor, y->sensor);
    if (k)
        return k;
    return (x->from > y->from) - (x->from < y->from);
}

ds_rc ds_coverage_outages(const ds_coverage *c, ds_outage **out, size_t *n, ds_err *err)
{
    ds_outage *v = NULL;
    size_t nv = 0, cap = 0;
    int64_t pa = ds_day_start(c->from), pb = ds_day_start(c->to + 1);
    int64_t end = c->h0 + (int64_t)c->nhours;
    *out = NULL;
    *n = 0;
    for (size_t i = 0; i < c->n; i++) {
        const ds_cov_sensor *s = &c->s[i];
        for (int64_t h = c->h0; h < end;) {
            int st = s->state[h - c->h0];
            int64_t e = h + 1;
            while (e < end && s->state[e - c->h0] == st)
                e++;
            int64_t from = h * 3600, to = e * 3600;
            int keep = st == DS_HOUR_OUTAGE || st == DS_HOUR_DECLARED, open_end = 0;
            /* a gap with no data counts only inside the store's data: before the first file and
             * after the last there is simply nothing yet */
            if (st == DS_HOUR_NODATA && c->data_last > c->data_first && from >= c->data_first &&
                from < c->data_last) {
                keep = 1;
                if (to >= c->data_last) {
                    to = c->data_last;   /* this sensor stopped while the others went on */
                    open_end = 1;
                }
            }
            if (keep && from < pb && to > pa) {
                if (nv == cap) {
                    size_t nc = cap ? cap * 2 : 8;
                    ds_outage *nvv = realloc(v, nc * sizeof *nvv);
                    if (!nvv) {
                        free(v);
                        return ds_fail(err, DS_ENOMEM, "out of memory");
                    }
                    v = nvv;
                    cap = nc;
                }
                ds_outage *o = &v[nv++];
                memset(o, 0, sizeof *o);
                o->sensor_id = s->id;
                snprintf(o->sensor, sizeof o->sensor, "%s", s->name);
                o->kind = st;
                o->from = from;
                o->to = to;
                o->open_end = open_end || (st != DS_HOUR_NODATA && e == end && to >= c->data_last);
            }
            h = e;
        }
    }
    if (nv)
        qsort(v, nv, sizeof *v, cmp_outage);
    *out = v;
    *n = nv;
    return DS_OK;
}

ds_rc ds_coverage_load_all(ds_store *st, const ds_config *cfg, ds_coverage **cov, ds_err *err)
{
    uint64_t a, b;
    *cov = NULL;
    ds_rc rc = ds_store_coverage_span(st, &a, &b, err);
    if (rc == DS_ENOTFOUND) {
        ds_err_clear(err);
        return DS_OK;
    }
    if (rc != DS_OK)
        return rc;
    return ds_coverage_load(st, cfg, ds_day_of((int64_t)(a / 1000000000ULL)), ds_day_of((int64_t)(b / 1000000000ULL)),
                            cov, err);
}
