/* detect_research.c: the `research_scanner` events.
 *
 * NICTER publishes its darknet figures with and without "research scans": projects such as
 * Censys, Shodan or university measurement studies scan the whole IPv4 space on purpose and say
 * so, and MISP's warninglists collect their networks.  An analyst wants to know how much of the
 * period's traffic they made before deciding to leave them out (`--exclude research`).
 *
 * One event per research organisation, keyed by the ASN the geo data gave the sources at ingest
 * (research projects announce their scanners from their own ASNs, so an ASN is the natural unit;
 * sources listed by prefix in an ASN the lists do not name are grouped under that ASN too):
 * sources, packets, their share of all packets in the period, first and last seen, days active,
 * distinct services and the main one.  The research sources themselves come from the caller
 * (q->research: the sources of [detect] research_lists / research_asns seen in the period), so
 * this detector needs no list of its own and finds nothing when none is configured.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/cube.h"
#include "analysis/events_int.h"
#include "util/textfmt.h"
#include "util/timeutil.h"

typedef struct org { uint32_t asn; size_t first_row; uint64_t packets, sources, first_ns, last_ns; uint32_t days; } org;

static int org_cmp(const void *a, const void *b)
{
    const org *x = a, *y = b;
    if (x->packets != y->packets)
        return x->packets > y->packets ? -1 : 1;
    return x->asn < y->asn ? -1 : x->asn > y->asn;
}

/* Rows of one ASN, in the order top gave them (by packets). */
static void org_top_sources(ds_event *v, const ds_top_result *tr, uint32_t asn)
{
    for (size_t i = 0; i < tr->n && v->ntop < DS_EVENT_TOP_SOURCES; i++) {
        if (tr->rows[i].asn != asn)
            continue;
        ds_event_source *s = &v->top[v->ntop++];
        ds_top_key_format(DS_TOP_SOURCES, &tr->rows[i], s->addr, sizeof s->addr);
        memcpy(s->cc, tr->rows[i].cc, 3);
        s->asn = tr->rows[i].asn;
        s->packets = tr->rows[i].packets;
    }
}

ds_rc ds_detect_research(ds_store *st, const ds_geo *geo, const ds_event_query *q, ds_events *out, ds_err *err)
{
    ds_top_result tr = { 0 }, all = { 0 };
    ds_cube svc = { 0 };
    org *orgs = NULL;
    ds_rc rc = DS_OK;
    if (!q->research || !q->research->n)
        goto out;
    ds_top_query tq = { .dim = DS_TOP_SOURCES, .from = q->from, .to = q->to, .sensor_id = q->sensor_id, .cls = -1,
                        .only = q->research };
    if ((rc = ds_top_run(st, &tq, &tr, err)) != DS_OK || !tr.n)
        goto out;
    ds_top_query aq = { .dim = DS_TOP_COUNTRIES, .from = q->from, .to = q->to, .sensor_id = q->sensor_id, .cls = -1,
                        .limit = 1 };
    if ((rc = ds_top_run(st, &aq, &all, err)) != DS_OK)
        goto out;
    /* group the source rows by ASN */
    size_t norg = 0;
    if (!(orgs = calloc(tr.n, sizeof *orgs))) {
        rc = ds_fail(err, DS_ENOMEM, "out of memory grouping research scanners");
        goto out;
    }
    for (size_t i = 0; i < tr.n; i++) {
        const ds_top_row *r = &tr.rows[i];
        size_t j = 0;
        while (j < norg && orgs[j].asn != r->asn)
            j++;
        if (j == norg)
            orgs[norg++] = (org){ .asn = r->asn, .first_row = i, .first_ns = r->first_ns, .last_ns = r->last_ns };
        org *o = &orgs[j];
        o->packets += r->packets;
        o->sources++;
        if (r->first_ns < o->first_ns)
            o->first_ns = r->first_ns;
        if (r->last_ns > o->last_ns)
            o->last_ns = r->last_ns;
        if (r->days > o->days)
            o->days = r->days;
    }
    qsort(orgs, norg, sizeof *orgs, org_cmp);
    for (size_t k = 0; k < norg; k++) {
        const org *o = &orgs[k];
        ds_cube_query cq = { .from = q->from, .to = q->to, .a = DS_CUBE_SERVICE, .b = DS_CUBE_NONE };
        ds_filter_init(&cq.filter);
        cq.filter.sensor_id = q->sensor_id;
        cq.filter.only = q->research;
        cq.filter.asns[0] = o->asn;
        cq.filter.nasns = 1;
        ds_cube_free(&svc);
        if ((rc = ds_cube_run(st, &cq, &svc, err)) != DS_OK)
            goto out;
        ds_service main = 0;
        uint64_t best = 0;
        for (size_t j = 0; j < svc.n; j++)
            if (svc.cells[j].packets > best) {
                best = svc.cells[j].packets;
                main = svc.cells[j].a;
            }
        ds_event *v = ds_events_add(out, err);
        if (!v) {
            rc = DS_ENOMEM;
            goto out;
        }
        snprintf(v->type, sizeof v->type, "research_scanner");
        v->start_ns = o->first_ns;
        v->end_ns = o->last_ns;
        v->has_service = best > 0;
        v->service = main;
        memcpy(v->country, tr.rows[o->first_row].cc, 3);
        v->sources = o->sources;
        v->packets = o->packets;
        org_top_sources(v, &tr, o->asn);
        double share = all.total_packets ? (double)o->packets / (double)all.total_packets : 0.0;
        char svcname[32];
        ds_service_format(main, svcname, sizeof svcname);
        ds_event_evidence_add(v, "sources", (double)o->sources, NULL);
        ds_event_evidence_add(v, "packets", (double)o->packets, NULL);
        ds_event_evidence_add(v, "share_of_all_packets", share, NULL);
        ds_event_evidence_add(v, "services", (double)svc.n, NULL);
        ds_event_evidence_add(v, "main_service_share", o->packets ? (double)best / (double)o->packets : 0.0, svcname);
        ds_event_evidence_add(v, "max_days_active", (double)o->days, NULL);
        ds_event_evidence_add(v, "asn", (double)o->asn, NULL);
    }
out:
    free(orgs);
    ds_cube_free(&svc);
    ds_top_result_free(&tr);
    ds_top_result_free(&all);
    return rc;
}
