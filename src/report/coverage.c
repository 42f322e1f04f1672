/* coverage.c (report): ds_report.coverage from the store's coverage rows (see coverage.h).
 *
 * Both periods are loaded on their own (ds_coverage_load), so each has its own denominators and
 * its own outages; the loads read a few hundred coverage rows a quarter.  A store that holds no
 * coverage row at all (none was ever written and none could be backfilled) is "unknown": the
 * rates then divide by monitored addresses x days, as before coverage was kept.
 */
#include "report/coverage.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util/timeutil.h"

/* The previous period's scale: its packets are compared after multiplying by this period's
 * covered address-days over its own, when the covered shares differ. */
static void rate_basis(ds_report_coverage *c, const ds_report *r)
{
    double cal = (double)r->cur.addresses * (double)r->days;
    double pcal = (double)r->previous.addresses * (double)ds_period_days(&r->prev);
    c->share = cal > 0 ? c->addr_days / cal : 0.0;
    c->prev_share = pcal > 0 ? c->prev_addr_days / pcal : 0.0;
    c->prev_scale = 1.0;
    if (!r->o.compare || !c->known || !(c->prev_addr_days > 0))
        return;   /* nothing observed before: there is nothing to compare, whatever the basis */
    double hi = c->share > c->prev_share ? c->share : c->prev_share;
    if (hi > 0 && fabs(c->share - c->prev_share) / hi > DS_REPORT_COVER_DIFF) {
        c->rate_based = 1;
        /* same length, so the ratio of address-days is the ratio of the rates' denominators */
        c->prev_scale = c->prev_addr_days > 0 ? c->addr_days / c->prev_addr_days : 0.0;
    }
}

/* No coverage known (a backend without it, or a store without a single row): every day of both
 * periods counts whole, as before coverage was kept. */
static void calendar(ds_report_coverage *c, const ds_report *r)
{
    for (int32_t i = 0; i < r->days; i++)
        c->day_frac[i] = 1.0;
    c->addr_days = (double)r->cur.addresses * r->days;
    c->prev_addr_days = r->o.compare ? (double)r->previous.addresses * ds_period_days(&r->prev) : 0.0;
    rate_basis(c, r);
}

ds_rc ds_report_coverage_load(ds_store *st, ds_report *r, ds_err *err)
{
    ds_report_coverage *c = &r->coverage;
    ds_coverage *cur = NULL, *prev = NULL;
    int64_t sid = r->o.sensor_id;
    ds_rc rc;
    memset(c, 0, sizeof *c);
    if (!(c->day_frac = calloc(r->days > 0 ? (size_t)r->days : 1, sizeof *c->day_frac)))
        return ds_fail(err, DS_ENOMEM, "out of memory building the report");
    if (!ds_store_keeps(st, DS_KEEPS_COVERAGE)) {   /* a backend without coverage: every day counts */
        calendar(c, r);
        return DS_OK;
    }
    if ((rc = ds_coverage_load(st, r->o.cfg, r->o.period.from, r->o.period.to, &cur, err)) != DS_OK)
        goto out;
    if (r->o.compare && (rc = ds_coverage_load(st, r->o.cfg, r->prev.from, r->prev.to, &prev, err)) != DS_OK)
        goto out;
    c->data_first = cur->data_first;
    c->data_last = cur->data_last;
    c->known = cur->data_first || cur->data_last;
    if (!c->known) {
        calendar(c, r);
        rc = DS_OK;
        goto out;
    }
    /* no sensor of the report observed a single hour: say so instead of printing empty tables */
    if (ds_coverage_days(cur, sid, r->o.period.from, r->o.period.to) <= 0) {
        char msg[512];
        ds_report_no_data_text(r->o.lang, &r->o.period, c->data_first, c->data_last, msg, sizeof msg);
        rc = ds_fail(err, DS_ENOTFOUND, "%s", msg);
        goto out;
    }
    c->addr_days = ds_coverage_addr_days(cur, sid, r->o.period.from, r->o.period.to);
    if (prev)
        c->prev_addr_days = ds_coverage_addr_days(prev, sid, r->prev.from, r->prev.to);
    for (int32_t i = 0; i < r->days; i++)
        c->day_frac[i] = ds_coverage_day_frac(cur, sid, r->o.period.from + i);
    rc = DS_ENOMEM;
    if (!(c->sensors = calloc(cur->n ? cur->n : 1, sizeof *c->sensors)))
        goto out;
    for (size_t i = 0; i < cur->n; i++) {
        const ds_cov_sensor *s = &cur->s[i];
        if (sid && s->id != sid)
            continue;
        ds_report_cov_sensor *o = &c->sensors[c->nsensors++];
        o->id = s->id;
        memcpy(o->name, s->name, sizeof o->name);
        o->addresses = s->v4_addresses;
        o->covered_days = ds_coverage_days(cur, s->id, r->o.period.from, r->o.period.to);
        if (prev)
            o->prev_covered_days = ds_coverage_days(prev, s->id, r->prev.from, r->prev.to);
    }
    ds_outage *all = NULL;
    size_t nall = 0;
    if ((rc = ds_coverage_outages(cur, &all, &nall, err)) != DS_OK)
        goto out;
    c->outages = all;   /* keep the report's sensors' only, in place */
    for (size_t i = 0; i < nall; i++)
        if (!sid || all[i].sensor_id == sid)
            c->outages[c->noutages++] = all[i];
    rate_basis(c, r);
    rc = DS_OK;
out:
    if (rc == DS_ENOMEM)
        ds_fail(err, rc, "out of memory building the report");
    ds_coverage_free(cur);
    ds_coverage_free(prev);
    return rc;
}

void ds_report_coverage_free(ds_report_coverage *c)
{
    free(c->day_frac);
    free(c->sensors);
    free(c->outages);
    memset(c, 0, sizeof *c);
}
