/* detect_tools.c: the `mirai` and `tool` events.
 *
 * Both are queries over what ingest already decided per source and day (the tool bits of SOURCES
 * and SRCSVC), so they cost nothing at ingest beyond the fingerprint test itself (a few compares
 * on header fields already decoded), and they run over any period afterwards.
 *
 *   mirai  one event for the period when any source carries Mirai's fingerprint: hosts (exact
 *          distinct sources), packets, first and last day, the daily host count (min, mean, max),
 *          and the leading countries and ASNs by hosts, as the seed reports describe infections.
 *   tool   one event per campaign of ZMap, Masscan and Nmap, and of the payload tools (SIPVicious,
 *          other SIP scanners, SQL Slammer, Nachi/Welchia: core/payload.h): the tool's sources with
 *          the same main service in the period (below), their count, countries, ASNs,
 *          the largest ones, every one of them (ds_event.all), first and last seen, and the main
 *          service's share of their packets.  A campaign of one source reads as before.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/cov_weights.h"
#include "analysis/detin_scan.h"
#include "analysis/events_int.h"
#include "analysis/source_rows.h"
#include "analysis/top.h"
#include "core/fingerprint.h"
#include "core/hash.h"
#include "core/records.h"
#include "util/textfmt.h"
#include "util/timeutil.h"

typedef struct tally { uint32_t key; uint64_t n; } tally;

static int tally_cmp(const void *a, const void *b)
{
    const tally *x = a, *y = b;
    if (x->n != y->n)
        return x->n > y->n ? -1 : 1;
    return x->key < y->key ? -1 : x->key > y->key;
}

static int u32_cmp(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* Count rows per key (country or ASN) into a tally sorted by rows, then key; returns the number
 * of keys.  The keys are sorted and counted in runs: a linear search per row was quadratic in
 * the hosts of a big botnet (thousands of hosts over hundreds of ASNs). */
static size_t tally_rows(const ds_top_result *tr, int by_asn, tally **out)
{
    size_t nr = tr->n ? tr->n : 1, n = 0;
    tally *t = calloc(nr, sizeof *t);
    uint32_t *keys = malloc(nr * sizeof *keys);
    if (!t || !keys) {
        free(t);
        free(keys);
        return (size_t)-1;
    }
    for (size_t i = 0; i < tr->n; i++)
        keys[i] = by_asn ? tr->rows[i].asn : ds_cc_pack(tr->rows[i].cc);
    if (tr->n)
        qsort(keys, tr->n, sizeof *keys, u32_cmp);
    for (size_t i = 0; i < tr->n; i++) {
        if (!n || t[n - 1].key != keys[i])
            t[n++] = (tally){ keys[i], 0 };
        t[n - 1].n++;
    }
    free(keys);
    if (n)
        qsort(t, n, sizeof *t, tally_cmp);
    *out = t;
    return n;
}

/* Per (tool, source): its main service, that service's packets and its number of services, from
 * one pass over the period's SRCSVC records (a cube per source would read the period once per
 * tool source: thousands of passes on a busy quarter).  Two open-addressing maps: (tool, source,
 * service) -> packets, then (tool, source) -> the summary. */
typedef struct tsvc_ent { uint64_t src, aux, packets; uint32_t nsvc, main; int used; } tsvc_ent;
typedef struct tsvc_map { tsvc_ent *e; size_t cap, n; } tsvc_map;

static tsvc_ent *tsvc_slot(tsvc_map *m, uint64_t src, uint64_t aux)
{
    if ((m->n + 1) * 2 > m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 4096;
        tsvc_ent *e = calloc(cap, sizeof *e);
        if (!e)
            return NULL;
        for (size_t i = 0; i < m->cap; i++)
            if (m->e[i].used) {
                size_t j = (size_t)ds_mix64(m->e[i].src ^ ds_mix64(m->e[i].aux)) & (cap - 1);
                while (e[j].used)
                    j = (j + 1) & (cap - 1);
                e[j] = m->e[i];
            }
        free(m->e);
        m->e = e;
        m->cap = cap;
    }
    size_t i = (size_t)ds_mix64(src ^ ds_mix64(aux)) & (m->cap - 1);
    while (m->e[i].used && (m->e[i].src != src || m->e[i].aux != aux))
        i = (i + 1) & (m->cap - 1);
    if (!m->e[i].used) {
        m->e[i] = (tsvc_ent){ .src = src, .aux = aux, .used = 1 };
        m->n++;
    }
    return &m->e[i];
}

static const tsvc_ent *tsvc_find(const tsvc_map *m, uint64_t src, uint64_t aux)
{
    if (!m->cap)
        return NULL;
    size_t i = (size_t)ds_mix64(src ^ ds_mix64(aux)) & (m->cap - 1);
    while (m->e[i].used) {
        if (m->e[i].src == src && m->e[i].aux == aux)
            return &m->e[i];
        i = (i + 1) & (m->cap - 1);
    }
    return NULL;
}

/* Mirai's hosts per day and packets per service, in one pass over the period's SRCSVC records
 * (it was two cubes, one with a pair set of (day, host) over the whole period).  Chunks come in
 * day order, so a day's distinct hosts are counted in one set emptied when the day changes. */
typedef struct mirai_ctx {
    ds_filter f;
    int32_t from, day;
    uint64_t *hosts;        /* distinct hosts per day, from `from` */
    ds_u64set today;        /* the hosts seen on `day` */
    tsvc_map svc;           /* service -> packets (src = service, aux 0) */
} mirai_ctx;

static ds_rc on_mirai(void *ctx, int64_t sensor_id, int32_t day, const uint8_t *data, size_t nrec, ds_err *err)
{
    mirai_ctx *c = ctx;
    if (day != c->day) {
        ds_u64set_clear(&c->today);
        c->day = day;
    }
    for (size_t i = 0; i < nrec; i++) {
        ds_rec_srcsvc r;
        ds_rec_srcsvc_get(data + i * DS_REC_SRCSVC, &r);
        if (!ds_filter_match(&c->f, &r))
            continue;
        int added = ds_u64set_add(&c->today, r.src);
        tsvc_ent *e = added < 0 ? NULL : tsvc_slot(&c->svc, r.service, 0);
        if (!e)
            return ds_fail(err, DS_ENOMEM, "out of memory counting Mirai's hosts");
        c->hosts[day - c->from] += (uint64_t)added;
        e->packets += r.packets;
    }
    return DS_OK;
}

static int svc_by_service(const void *a, const void *b)
{
    const tsvc_ent *x = a, *y = b;
    return x->src < y->src ? -1 : x->src > y->src;
}

/* The pass; then c->svc.e[0 .. c->svc.n) holds the services in increasing order. */
static ds_rc mirai_pass(ds_store *st, const ds_event_query *q, mirai_ctx *c, ds_err *err)
{
    ds_filter_init(&c->f);
    c->f.sensor_id = q->sensor_id;
    c->f.exclude = q->exclude;
    c->f.tools = DS_TOOL_MIRAI;
    c->from = q->from;
    c->day = q->from - 1;
    c->hosts = calloc((size_t)(q->to - q->from + 1), sizeof *c->hosts);
    if (!c->hosts || ds_u64set_init(&c->today, 4096) != 0)
        return ds_fail(err, DS_ENOMEM, "out of memory counting Mirai's hosts");
    ds_rc rc = ds_detin_scan_tools(st, q->detin, 0, q->sensor_id, q->from, q->to, on_mirai, c, err);
    if (rc != DS_OK)
        return rc;
    size_t n = 0;
    for (size_t i = 0; i < c->svc.cap; i++)
        if (c->svc.e[i].used)
            c->svc.e[n++] = c->svc.e[i];
    if (n)
        qsort(c->svc.e, n, sizeof *c->svc.e, svc_by_service);
    return DS_OK;
}

static void mirai_free(mirai_ctx *c)
{
    free(c->hosts);
    ds_u64set_free(&c->today);
    free(c->svc.e);
}

ds_rc ds_detect_mirai(ds_store *st, const ds_geo *geo, const ds_event_query *q, ds_events *out, ds_err *err)
{
    /* the hosts, as `top --where tool=mirai` lists them (source_rows.h) */
    ds_source_query sq = { .limit = 0 };
    ds_filter_init(&sq.filter);
    sq.filter.sensor_id = q->sensor_id;
    sq.filter.exclude = q->exclude;
    sq.filter.tools = DS_TOOL_MIRAI;
    sq.detin = q->detin;
    ds_top_result tr = { 0 };
    mirai_ctx mc = { 0 };
    tally *cc = NULL, *as = NULL;
    ds_rc rc = ds_source_rows(st, q->from, q->to, q->sensor_id, &sq, 1, &tr, err);
    if (rc != DS_OK || !tr.n)
        goto out;
    if ((rc = mirai_pass(st, q, &mc, err)) != DS_OK)
        goto out;
    size_t ncc = tally_rows(&tr, 0, &cc), nas = tally_rows(&tr, 1, &as);
    if (ncc == (size_t)-1 || nas == (size_t)-1) {
        rc = ds_fail(err, DS_ENOMEM, "out of memory listing events");
        goto out;
    }
    ds_event *v = ds_events_add(out, err);
    if (!v) {
        rc = DS_ENOMEM;
        goto out;
    }
    snprintf(v->type, sizeof v->type, "mirai");
    v->sources = tr.total_sources ? tr.total_sources : tr.n;
    v->packets = tr.total_packets;
    for (size_t i = 0; i < tr.n; i++) {
        if (!v->start_ns || tr.rows[i].first_ns < v->start_ns)
            v->start_ns = tr.rows[i].first_ns;
        if (tr.rows[i].last_ns > v->end_ns)
            v->end_ns = tr.rows[i].last_ns;
    }
    /* the main service */
    uint64_t best = 0, second = 0;
    ds_service s1 = 0, s2 = 0;
    for (size_t i = 0; i < mc.svc.n; i++) {
        uint64_t p = mc.svc.e[i].packets;
        if (p > best) {
            second = best;
            s2 = s1;
            best = p;
            s1 = (ds_service)mc.svc.e[i].src;
        } else if (p > second) {
            second = p;
            s2 = (ds_service)mc.svc.e[i].src;
        }
    }
    v->has_service = best > 0;
    v->service = s1;
    ds_cc_unpack((uint16_t)cc[0].key, v->country);
    /* hosts per day */
    uint64_t dmin = UINT64_MAX, dmax = 0, dsum = 0;
    int32_t ndays = q->to - q->from + 1, peak_day = q->from;
    for (int32_t d = q->from; d <= q->to; d++) {
        uint64_t h = mc.hosts[d - q->from];
        if (h < dmin)
            dmin = h;
        if (h > dmax) {
            dmax = h;
            peak_day = d;
        }
        dsum += h;
    }
    char t1[64], t2[64], t3[64];
    ds_event_evidence_add(v, "hosts", (double)v->sources, NULL);
    ds_event_evidence_add(v, "packets", (double)v->packets, NULL);
    ds_event_evidence_add(v, "hosts_per_day_min", (double)dmin, NULL);
    ds_event_evidence_add(v, "hosts_per_day_mean", (double)dsum / (double)ndays, NULL);
    ds_event_evidence_add(v, "hosts_per_day_max", (double)dmax, ds_fmt_day_iso(peak_day, t1, sizeof t1));
    ds_event_evidence_add(v, "main_service_share", v->packets ? (double)best / (double)v->packets : 0.0,
             ds_service_format(s1, t2, sizeof t2));
    if (second)
        ds_event_evidence_add(v, "second_service_share", (double)second / (double)v->packets, ds_service_format(s2, t3, sizeof t3));
    for (size_t i = 0; i < ncc && i < 3; i++) {
        char c[3];
        ds_cc_unpack((uint16_t)cc[i].key, c);
        ds_event_evidence_add(v, "hosts_in_country", (double)cc[i].n, c);
    }
    for (size_t i = 0; i < nas && i < 2; i++) {
        char a[16];
        snprintf(a, sizeof a, "AS%u", (unsigned)as[i].key);
        ds_event_evidence_add(v, "hosts_in_asn", (double)as[i].n, a);
    }
    ds_event_evidence_add(v, "hosts_counted", (double)tr.n, "hosts_in_country is of these");
    ds_event_evidence_add(v, "countries", (double)ncc, NULL);
    ds_event_top_from(v, &tr, 0);
    {   /* infected hosts a day: the figure; days no sensor observed are missing, not 0 */
        double *hv = malloc((size_t)ndays * sizeof *hv), *w = malloc((size_t)ndays * sizeof *w);
        if (!hv || !w) {
            free(hv);
            free(w);
            rc = ds_fail(err, DS_ENOMEM, "out of memory listing events");
            goto out;
        }
        for (int32_t d = 0; d < ndays; d++)
            hv[d] = (double)mc.hosts[d];
        ds_cov_day_weights(q->coverage, q->sensor_id, q->from, q->to, w);
        int bad = ds_event_series_set(v, q->from, (size_t)ndays, hv, w, "hosts", err);
        free(hv);
        free(w);
        if (bad) {
            rc = DS_ENOMEM;
            goto out;
        }
    }
out:
    free(cc);
    free(as);
    mirai_free(&mc);
    ds_top_result_free(&tr);
    return rc;
}

typedef struct tsvc_ctx { tsvc_map by_service; unsigned wanted; } tsvc_ctx;

static ds_rc on_tool_srcsvc(void *ctx, int64_t sensor_id, int32_t day, const uint8_t *data, size_t nrec, ds_err *err)
{
    tsvc_ctx *c = ctx;
    for (size_t i = 0; i < nrec; i++) {
        ds_rec_srcsvc r;
        ds_rec_srcsvc_get(data + i * DS_REC_SRCSVC, &r);
        unsigned t = r.tools & c->wanted;
        for (unsigned k = 0; t; k++, t >>= 1) {
            if (!(t & 1))
                continue;
            tsvc_ent *e = tsvc_slot(&c->by_service, r.src, (uint64_t)k << 32 | r.service);
            if (!e)
                return ds_fail(err, DS_ENOMEM, "out of memory listing tool sources");
            e->packets += r.packets;
        }
    }
    return DS_OK;
}

/* (tool bit index, source) -> main service, its packets, services: summary->aux = bit index */
static ds_rc tool_services(ds_store *st, const ds_event_query *q, unsigned wanted, tsvc_map *summary, ds_err *err)
{
    tsvc_ctx c = { .wanted = wanted };
    ds_rc rc = ds_detin_scan_tools(st, q->detin, 0, q->sensor_id, q->from, q->to, on_tool_srcsvc, &c, err);
    for (size_t i = 0; rc == DS_OK && i < c.by_service.cap; i++) {
        const tsvc_ent *x = &c.by_service.e[i];
        if (!x->used)
            continue;
        tsvc_ent *s = tsvc_slot(summary, x->src, x->aux >> 32);
        if (!s) {
            rc = ds_fail(err, DS_ENOMEM, "out of memory listing tool sources");
            break;
        }
        s->nsvc++;
        uint32_t svc = (uint32_t)x->aux;
        if (x->packets > s->packets || (x->packets == s->packets && svc < s->main)) {
            s->packets = x->packets;
            s->main = svc;
        }
    }
    free(c.by_service.e);
    return rc;
}

/* ---- tool campaigns ----------------------------------------------------------------------
 *
 * One event per campaign (issue #20: every SIPVicious host was an event of its own): the sources
 * of one tool in the period with the same main service.  A source that sends less than half its
 * packets to any one service (Nmap's port scans: 0.2% to the most probed port) is a multi-service
 * scanner; those of one tool are one campaign of many services.  A planted SIPVicious campaign's
 * hosts are active a few days each, weeks apart, so time overlap would split it again: the
 * period is the campaign's time frame, and each source's first and last packet stay in `top`. */
#define MANY_SERVICES UINT32_MAX

typedef struct member { const ds_top_row *row; uint32_t main, key; uint64_t best; size_t nsvc; } member;

static int member_by_service_time(const void *a, const void *b)
{
    const member *x = a, *y = b;
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    if (x->row->first_ns != y->row->first_ns)
        return x->row->first_ns < y->row->first_ns ? -1 : 1;
    return x->row->key < y->row->key ? -1 : x->row->key > y->row->key;
}

static int member_by_packets(const void *a, const void *b)
{
    const member *x = a, *y = b;
    if (x->row->packets != y->row->packets)
        return x->row->packets > y->row->packets ? -1 : 1;
    return x->row->key < y->row->key ? -1 : x->row->key > y->row->key;
}

static void source_of(ds_event_source *s, const ds_top_row *row)
{
    ds_top_key_format(DS_TOP_SOURCES, row, s->addr, sizeof s->addr);
    memcpy(s->cc, row->cc, 3);
    s->asn = row->asn;
    s->packets = row->packets;
}

/* Sources per country or ASN of the campaign m[0..n), most first, as "US 3, CN 2" (countries). */
static size_t campaign_tally(const member *m, size_t n, int by_asn, tally *t)
{
    size_t nt = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t key = by_asn ? m[i].row->asn : ds_cc_pack(m[i].row->cc);
        size_t k = 0;
        while (k < nt && t[k].key != key)
            k++;
        if (k == nt)
            t[nt++] = (tally){ key, 0 };
        t[k].n++;
    }
    if (nt)
        qsort(t, nt, sizeof *t, tally_cmp);
    return nt;
}

/* The single-source sentences (as before campaigns). */
/* The event of campaign m[0..n) of `tool` (m is reordered by packets). */
static ds_rc campaign_event(ds_events *out, unsigned tool, member *m, size_t n, const ds_geo *geo, ds_err *err)
{
    ds_event *v = ds_events_add(out, err);
    tally *cc = calloc(n, sizeof *cc), *as = calloc(n, sizeof *as);
    if (!v || !cc || !as || (n > DS_EVENT_TOP_SOURCES && !(v->all = calloc(n, sizeof *v->all)))) {
        free(cc);
        free(as);
        return ds_fail(err, DS_ENOMEM, "out of memory listing tool sources");
    }
    qsort(m, n, sizeof *m, member_by_packets);
    snprintf(v->type, sizeof v->type, "tool");
    ds_tools_format(tool, v->tool, sizeof v->tool);   /* the name --where tool= takes */
    uint64_t best = 0;
    uint32_t days = 0;
    size_t nsvc = 0;
    for (size_t i = 0; i < n; i++) {
        const ds_top_row *row = m[i].row;
        if (!i || row->first_ns < v->start_ns)
            v->start_ns = row->first_ns;
        if (row->last_ns > v->end_ns)
            v->end_ns = row->last_ns;
        v->packets += row->packets;
        best += m[i].best;
        days = row->days > days ? row->days : days;
        nsvc = m[i].nsvc > nsvc ? m[i].nsvc : nsvc;
        if (i < DS_EVENT_TOP_SOURCES)
            source_of(&v->top[v->ntop++], row);
        if (v->all)
            source_of(&v->all[v->nall++], row);
    }
    v->sources = n;
    int many = m[0].key == MANY_SERVICES;
    v->has_service = best > 0 && !many;
    v->service = m[0].main;
    size_t ncc = campaign_tally(m, n, 0, cc), nas = campaign_tally(m, n, 1, as);
    ds_cc_unpack((uint16_t)cc[0].key, v->country);
    char svc[32], c[3];
    if (many)
        snprintf(svc, sizeof svc, "many services");
    else
        ds_service_format(m[0].main, svc, sizeof svc);
    double share = v->packets ? (double)best / (double)v->packets : 0.0;
    ds_event_evidence_add(v, "sources", (double)n, NULL);
    ds_event_evidence_add(v, "packets", (double)v->packets, NULL);
    ds_event_evidence_add(v, "days_active", (double)days, n > 1 ? "most of any one source" : NULL);
    ds_event_evidence_add(v, "services", (double)nsvc, n > 1 ? "most of any one source" : NULL);
    if (!many)
        ds_event_evidence_add(v, "main_service_share", share, svc);
    ds_event_evidence_add(v, "asn", (double)m[0].row->asn, n > 1 ? "the largest source's" : NULL);
    ds_event_evidence_add(v, "countries", (double)ncc, NULL);
    for (size_t i = 0; n > 1 && i < ncc && i < 3; i++) {
        ds_cc_unpack((uint16_t)cc[i].key, c);
        ds_event_evidence_add(v, "hosts_in_country", (double)cc[i].n, c);
    }
    for (size_t i = 0; n > 1 && i < nas && i < 2; i++) {
        char a[16];
        snprintf(a, sizeof a, "AS%u", (unsigned)as[i].key);
        ds_event_evidence_add(v, "hosts_in_asn", (double)as[i].n, a);
    }
    free(cc);
    free(as);
    return DS_OK;
}

/* The campaigns of one tool's sources tr (bit: the tool's bit index in summary). */
static ds_rc tool_campaigns(ds_events *out, unsigned tool, unsigned bit, const ds_top_result *tr, const tsvc_map *summary,
                            const ds_geo *geo, ds_err *err)
{
    if (!tr->n)
        return DS_OK;
    member *m = calloc(tr->n, sizeof *m);
    if (!m)
        return ds_fail(err, DS_ENOMEM, "out of memory listing tool sources");
    for (size_t i = 0; i < tr->n; i++) {
        const tsvc_ent *sv = tsvc_find(summary, tr->rows[i].key, bit);
        uint32_t main = sv ? sv->main : 0;
        uint64_t best = sv ? sv->packets : 0;
        m[i] = (member){ &tr->rows[i], main, best * 2 >= tr->rows[i].packets ? main : MANY_SERVICES, best,
                         sv ? sv->nsvc : 0 };
    }
    qsort(m, tr->n, sizeof *m, member_by_service_time);
    ds_rc rc = DS_OK;
    for (size_t i = 0; i < tr->n && rc == DS_OK;) {
        size_t j = i + 1;
        while (j < tr->n && m[j].key == m[i].key)
            j++;
        rc = campaign_event(out, tool, m + i, j - i, geo, err);
        i = j;
    }
    free(m);
    return rc;
}

ds_rc ds_detect_tools(ds_store *st, const ds_geo *geo, const ds_event_query *q, ds_events *out, ds_err *err)
{
    static const unsigned tools[] = { DS_TOOL_ZMAP,       DS_TOOL_MASSCAN,   DS_TOOL_NMAP,    DS_TOOL_SIPVICIOUS,
                                      DS_TOOL_SIP_OTHER, DS_TOOL_SLAMMER, DS_TOOL_NACHI };
    tsvc_map summary = { 0 };
    unsigned wanted = 0;
    for (size_t k = 0; k < sizeof tools / sizeof tools[0]; k++)
        wanted |= tools[k];
    /* every tool's sources, as `top --where tool=T` lists them, from one read (source_rows.h) */
    enum { NTOOLS = sizeof tools / sizeof tools[0] };
    ds_source_query sq[NTOOLS];
    ds_top_result trs[NTOOLS];
    memset(trs, 0, sizeof trs);
    for (size_t k = 0; k < NTOOLS; k++) {
        ds_filter_init(&sq[k].filter);
        sq[k].filter.sensor_id = q->sensor_id;
        sq[k].filter.exclude = q->exclude;
        sq[k].filter.tools = tools[k];
        sq[k].limit = 0;
        sq[k].detin = q->detin;
    }
    ds_rc rc = tool_services(st, q, wanted, &summary, err);
    if (rc == DS_OK)
        rc = ds_source_rows(st, q->from, q->to, q->sensor_id, sq, NTOOLS, trs, err);
    for (size_t k = 0; k < NTOOLS && rc == DS_OK; k++) {
        unsigned bit = 0;
        while (!(tools[k] & (1u << bit)))
            bit++;
        rc = tool_campaigns(out, tools[k], bit, &trs[k], &summary, geo, err);
    }
    for (size_t k = 0; k < NTOOLS; k++)
        ds_top_result_free(&trs[k]);
    free(summary.e);
    return rc;
}
