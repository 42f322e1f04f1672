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
 * Countries are also judged by their distinct sources a day (series_judge.c, source_runs): a
 * country spike of many small new hosts hides in packets when several big hosts carry the
 * country's baseline, but not in hosts, where a big host counts once.
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
 * services", "Time a sensor did not observe"); the constants are in series_int.h.
 *
 * Files: series_load.c builds the series, series_judge.c finds the candidates in each,
 * series_drivers.c finds who drove each; this file runs those steps, applies the rules that drop
 * or fold candidates (single source, a population's new sources, floods, a country explained by a
 * service) and writes each kept candidate's facts as an event.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/cov_weights.h"
#include "analysis/series_int.h"
#include "core/flood.h"
#include "util/textfmt.h"
#include "util/timeutil.h"

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
    int32_t d0 = c->d0, d1 = c->d1;
    /* one host's event is dated by that host: its first and last day with records in the run.  A
     * run can start with days of background excess before the host came (tuning seed 210: a host
     * planted from 18 July was dated 16 July); it never starts before the run */
    if (!strcmp(c->type, "single_source") && c->top1_d0 >= d0 && c->top1_d1 <= d1 && c->top1_d0 <= c->top1_d1) {
        d0 = c->top1_d0;
        d1 = c->top1_d1;
    }
    v->start_ns = ds_day_start_ns(d0);
    v->end_ns = ds_day_start_ns(d1 + 1) - 1000000000ULL;
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
    int32_t ndays = d1 - d0 + 1;
    double top1 = c->top1;
    double top1_excess = c->excess_seen > 0 ? top1 / c->excess_seen : 0;
    char t0[64], t1[64];
    ds_event_evidence_add(v, "days", ndays, NULL);
    ds_event_evidence_add(v, "packets_per_day_baseline", c->base, NULL);
    ds_event_evidence_add(v, "packets_peak", c->peak, ds_fmt_day_iso(c->peak_day, t0, sizeof t0));
    if (c->base > 0)
        ds_event_evidence_add(v, "peak_ratio", c->peak / c->base, NULL);
    if (c->by_sources) {
        /* found in the sources a day (series_judge.c): the numbers that passed the rule are those */
        ds_event_evidence_add(v, "sources_peak", c->src_peak, ds_fmt_day_iso(c->src_peak_day, t1, sizeof t1));
        ds_event_evidence_add(v, "sources_per_day_baseline", c->src_base, NULL);
        if (c->src_sigma > 0)
            ds_event_evidence_add(v, "sources_robust_z", (c->src_peak - c->src_base) / c->src_sigma, NULL);
    } else if (c->sigma > 0) {
        ds_event_evidence_add(v, "robust_z", c->peak_z, NULL);
    }
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
    /* a country run found in its sources whose rise in sources a day was mostly one service's, on
     * days that service has an event of its own: the service's hosts, counted by country */
    for (size_t i = 0; i < x->nc; i++) {
        cand *cc = &x->c[i];
        if (cc->dropped || !cc->by_sources || cc->src_lead_share < LEAD_SHARE)
            continue;
        for (size_t j = 0; j < x->nc; j++) {
            const cand *sv = &x->c[j];
            if (!sv->dropped && sv->dim == DS_CUBE_SERVICE && sv->key == cc->src_lead && sv->d1 >= cc->d0 &&
                sv->d0 <= cc->d1) {
                cc->dropped = 1;
                break;
            }
        }
    }
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
 * 30% or more to that port (in packets, or for a run found in its sources, in sources a day). */
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
            else if (c->dim == DS_CUBE_COUNTRY && c->by_sources && c->src_lead == svc && c->src_lead_share >= FOLD_SHARE)
                c->dropped = 1;   /* its rise in sources was the flood's spoofed ones */
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
    if ((rc = ds_series_load(&x, &svc, &cc, err)) != DS_OK)
        goto out;
    if (!(x.work = malloc(WORK_SERIES * (size_t)x.ndays * sizeof *x.work))) {
        rc = ds_fail(err, DS_ENOMEM, "out of memory judging daily series");
        goto out;
    }
    if (!x.mean_day)   /* unless load_all had it per sensor */
        x.mean_day = x.days_p > 0 ? (double)x.period_packets / x.days_p : 0;
    for (size_t i = 0; i < svc.n; i++)
        if (svc.rows[i].x)
            ds_series_judge(&x, &svc, &svc.rows[i], err);
    for (size_t i = 0; i < cc.n; i++)
        if (cc.rows[i].x)
            ds_series_judge(&x, &cc, &cc.rows[i], err);
    if ((rc = ds_series_drivers(&x, &tools, err)) != DS_OK)
        goto out;
    for (size_t i = 0; i < x.nc; i++) {
        cand *c = &x.c[i];
        /* a run found in the sources a day is many hosts' by construction (one host is one source),
         * whatever share of the packets a big one sent on its days */
        if (!c->by_sources && c->excess_seen > 0 && c->top1 >= SINGLE_SHARE * c->excess_seen) {
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
            (!x.c[i].top_v6 || (rc = ds_series_top_sources(&x, &x.c[i], &tools, err)) == DS_OK))
            rc = emit(&x, &x.c[i], out, err);
out:
    if (x.c)
        for (size_t i = 0; i < x.nc; i++)
            ds_top_result_free(&x.c[i].top);
    free(x.c);
    free(x.dayw);
    free(x.work);
    ds_series_tab_free(&svc);
    ds_series_tab_free(&cc);
    free(x.xs_owned);
    free(x.srcs);
    ds_series_keys_free(&x.keys);
    ds_u64set_free(&tools);
    return rc;
}

