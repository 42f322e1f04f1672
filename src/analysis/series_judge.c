/* series_judge.c: the series detector's rules on one daily series (series_int.h).
 *
 * A service with nothing in the previous period's length before it is a new service.  Otherwise
 * runs are looked for twice against the same robust baselines (robust.h): population runs in the
 * series with each day's largest source held to its usual size, and one-host runs in the whole
 * series against the level of the two weeks before, kept when the day's largest source made at
 * least half of the peak's excess.  A run of up to SPIKE_MAX_DAYS is a spike, a longer one a
 * surge (dated where its rise began, changepoint.h); a climb in the ranking no run explains is a
 * gradual surge.  A country's distinct sources a day are judged by the same rule (source_runs):
 * such a run is a candidate of its own, and dates the country's packet population runs it
 * overlaps.  Each passes a materiality rule against the period's mean day, and becomes a
 * candidate with the numbers it passed the rules with; who drove it is series_drivers.c's.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "analysis/robust.h"
#include "analysis/series_int.h"

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

/* A country's runs in its distinct sources a day (issue #20).  A
 * spike of a country is many new hosts, each sending a few packets; when several big hosts carry
 * the country's packets, their days widen its packet baseline (holding only the day's largest one
 * to its usual size leaves the others) and no day of the spike reaches the start rule.  Counted
 * in hosts, a big host is one: a stable population's hosts active on a day are a sum of
 * independent presences, about Poisson (the sqrt(median) floor of ds_robust_sigma), and the MAD
 * takes the churn beyond that.  So the sources series is judged by the same rule as the packets
 * (robust z >= 6 and 2.5x the median to start, robust.h), against its own baselines.  A run
 * overlapping a one-host packet run of the country is left to it.  Otherwise it is a candidate
 * whose numbers are its packets over the run's days against the packet baseline of its first day
 * in the period (base_bl, y's baselines), held to the same materiality rules as a packet run; and a population
 * packet run it overlaps is the same phenomenon, dated by the hosts that make it: the big hosts'
 * days moved such runs' starts days away from the new hosts' arrival, or made them a weeks-long
 * surge around a spike.  Those runs are marked in replaced[] (pruns[k] a one-host run when
 * one_host[k]).  Returns 1 when it added a surge (a run of more than SPIKE_MAX_DAYS days). */
static int source_runs(ctx *x, const series_tab *t, const keyrow *r, const ds_run *pruns, size_t npr,
                       const unsigned char *one_host, unsigned char *replaced, const ds_baselines *base_bl,
                       double per_p, double per_q, ds_err *err)
{
    size_t nd = (size_t)x->ndays, from = (size_t)(x->q->from - x->base_from);
    ds_baselines sb = { .median = x->work + 6 * nd, .sigma = x->work + 7 * nd, .days = x->work + 8 * nd };
    ds_spike_rule rule = ds_series_spike_rule;
    rule.soft = x->dayw;   /* min_excess stays 0: materiality is judged on the packets */
    ds_baselines_fill(r->srcs, nd, from, &rule, &sb);
    ds_run sr[16];
    size_t ns = ds_spike_runs_pre(r->srcs, nd, from, &rule, &sb, NULL, sr, 16);
    int long_run = 0;
    for (size_t i = 0; i < ns; i++) {
        const ds_run *o = &sr[i];
        size_t k = 0;
        while (k < npr && !(one_host[k] && pruns[k].onset <= o->last && o->onset <= pruns[k].last))
            k++;
        /* the packet baseline of its first day in the period (base_bl holds none before: a run's
         * ramp may reach back before the period) */
        size_t bd = o->first < from ? from : o->first;
        if (k < npr || bd > o->last || !(base_bl->days[bd] > 0) || o->median < SRC_MIN_MEDIAN)
            continue;   /* one host's run, no packet baseline, or too few sources to judge */
        int32_t len = (int32_t)(o->last - o->first + 1);
        double m = base_bl->median[bd], sg = base_bl->sigma[bd];
        cand *c = cand_add(x, t->dim, r->key, len > SPIKE_MAX_DAYS ? "surge" : "spike", x->base_from + (int32_t)o->onset,
                           x->base_from + (int32_t)o->last, err);
        if (!c)
            return long_run;
        double level = m;   /* as for a packet run: the week before's level when higher */
        if (o->onset >= 7) {
            double scratch[7], lv = ds_median(r->x + o->onset - 7, 7, scratch);
            if (isfinite(lv) && lv > level)
                level = lv;
        }
        run_stats(x, r, c, level);
        if (len > SPIKE_MAX_DAYS ? c->excess / (c->d1 - c->d0 + 1) < SURGE_MIN_EXCESS * x->mean_day
                                 : c->peak - level < SPIKE_MIN_PEAK * x->mean_day) {
            x->nc--;   /* many hosts, but too few packets to matter to the telescope as a whole */
            continue;
        }
        long_run |= len > SPIKE_MAX_DAYS;
        for (k = 0; k < npr; k++)
            replaced[k] |= pruns[k].onset <= o->last && o->onset <= pruns[k].last;
        c->base = m;
        c->sigma = sg;
        c->peak_z = (c->peak - m) / sg;
        c->rank_p = r->rank_p;
        c->rank_q = r->rank_q;
        c->per_day_p = per_p;
        c->per_day_q = per_q;
        c->by_sources = 1;
        c->src_base = o->median;
        c->src_sigma = o->sigma;
        c->src_peak = r->srcs[o->peak];
        c->src_peak_day = x->base_from + (int32_t)o->peak;
    }
    return long_run;
}

/* The judgments on one series: new service, spike and surge runs, rank jump. */
void ds_series_judge(ctx *x, const series_tab *t, const keyrow *r, ds_err *err)
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
        int32_t d0 = -1, d1 = -1, first = -1;
        for (size_t d = from; d < (size_t)x->ndays; d++) {
            if (r->x[d] > 0 && first < 0)
                first = (int32_t)d;
            if (r->x[d] >= floor_v && r->x[d] > 0) {
                if (d0 < 0)
                    d0 = (int32_t)d;
                d1 = (int32_t)d;
            }
        }
        /* A service seen at a low level for a week or more before it rose was not new when it
         * rose: it surged from its own level, which the runs below judge (issue #20: a planted
         * surge on a port the previous quarter never saw was reported as a new service). */
        if (d0 >= 0 && d0 - first < NEW_MAX_LEAD_DAYS) {
            cand *c = cand_add(x, t->dim, r->key, "new_service", x->base_from + d0, x->base_from + d1, err);
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
    }

    ds_spike_rule rule = ds_series_spike_rule;
    rule.min_excess = min_excess;
    rule.soft = x->dayw;
    ds_run runs[32];
    unsigned char one_host[32] = { 0 }, replaced[32] = { 0 };
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
        one_host[k < npop ? k : nr] = 1;
        runs[k < npop ? k : nr++] = *o;
    }
    int long_run = 0;
    if (r->srcs)
        long_run |= source_runs(x, t, r, runs, nr, one_host, replaced, &bl, per_p, per_q, err);
    for (size_t i = 0; i < nr; i++) {
        if (replaced[i])
            continue;   /* dated by its hosts (source_runs) */
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
