/* events.c: see events.h.
 *
 * Both detectors here are queries over what ingest already decided per source and day (the tool
 * bits of SOURCES and SRCSVC), so they cost nothing at ingest beyond the fingerprint test itself
 * (a few compares on header fields already decoded), and they run over any period afterwards.
 *
 *   mirai  one event for the period when any source carries Mirai's fingerprint: hosts (exact
 *          distinct sources), packets, first and last day, the daily host count (min, mean, max),
 *          and the leading countries and ASNs by hosts, as the seed reports describe infections.
 *   tool   one event per (tool, source) for ZMap, Masscan and Nmap: first and last seen, days
 *          active, the main service, and its share of the source's packets.
 */
#include "analysis/events.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "analysis/cube.h"
#include "analysis/top.h"
#include "core/dos.h"
#include "core/fingerprint.h"
#include "core/records.h"
#include "util/timeutil.h"

#define NS_PER_DAY 86400000000000ULL

static const char *const TYPES[] = { "mirai", "tool", "backscatter" };

int ds_event_type_known(const char *t)
{
    for (size_t i = 0; i < sizeof TYPES / sizeof TYPES[0]; i++)
        if (!strcmp(t, TYPES[i]))
            return 1;
    return 0;
}

static ds_event *ev_new(ds_events *e, ds_err *err)
{
    if (e->n == e->cap) {
        size_t cap = e->cap ? e->cap * 2 : 16;
        ds_event *n = realloc(e->ev, cap * sizeof *n);
        if (!n) {
            ds_fail(err, DS_ENOMEM, "out of memory listing events");
            return NULL;
        }
        e->ev = n;
        e->cap = cap;
    }
    ds_event *v = &e->ev[e->n++];
    memset(v, 0, sizeof *v);
    return v;
}

static void evidence(ds_event *v, const char *name, double value, const char *text)
{
    if (v->nevidence == DS_EVENT_MAX_EVIDENCE)
        return;
    ds_event_evidence *x = &v->evidence[v->nevidence++];
    x->name = name;
    x->value = value;
    snprintf(x->text, sizeof x->text, "%s", text ? text : "");
}

static char *thousands(uint64_t v, char *buf, size_t len)
{
    char tmp[32];
    int n = snprintf(tmp, sizeof tmp, "%llu", (unsigned long long)v);
    size_t o = 0;
    for (int i = 0; i < n && o + 1 < len; i++) {
        if (i && (n - i) % 3 == 0 && o + 2 < len)
            buf[o++] = ',';
        buf[o++] = tmp[i];
    }
    buf[o] = 0;
    return buf;
}

static char *day_en(int32_t day, char *buf, size_t len)
{
    char d[11];
    snprintf(buf, len, "%s", ds_day_format(day, d));
    return buf;
}

static char *day_ja(int32_t day, char *buf, size_t len)
{
    int y;
    unsigned m, d;
    ds_civil_from_days(day, &y, &m, &d);
    snprintf(buf, len, "%d年%u月%u日", y, m, d);
    return buf;
}

typedef struct tally { uint32_t key; uint64_t n; } tally;

static int tally_cmp(const void *a, const void *b)
{
    const tally *x = a, *y = b;
    if (x->n != y->n)
        return x->n > y->n ? -1 : 1;
    return x->key < y->key ? -1 : x->key > y->key;
}

/* Count rows per key (country or ASN) into a sorted tally; returns the number of keys. */
static size_t tally_rows(const ds_top_result *tr, int by_asn, tally **out)
{
    tally *t = calloc(tr->n ? tr->n : 1, sizeof *t);
    size_t n = 0;
    if (!t)
        return (size_t)-1;
    for (size_t i = 0; i < tr->n; i++) {
        uint32_t k = by_asn ? tr->rows[i].asn : ds_cc_pack(tr->rows[i].cc);
        size_t j = 0;
        while (j < n && t[j].key != k)
            j++;
        if (j == n)
            t[n++] = (tally){ k, 0 };
        t[j].n++;
    }
    if (n)
        qsort(t, n, sizeof *t, tally_cmp);
    *out = t;
    return n;
}

static void top_sources(ds_event *v, const ds_top_result *tr, size_t skip_to)
{
    for (size_t i = skip_to; i < tr->n && v->ntop < DS_EVENT_TOP_SOURCES; i++) {
        ds_event_source *s = &v->top[v->ntop++];
        ds_top_key_format(DS_TOP_SOURCES, &tr->rows[i], s->addr, sizeof s->addr);
        memcpy(s->cc, tr->rows[i].cc, 3);
        s->asn = tr->rows[i].asn;
        s->packets = tr->rows[i].packets;
    }
}

static ds_rc detect_mirai(ds_store *st, const ds_event_query *q, ds_events *out, ds_err *err)
{
    ds_top_query tq = { .dim = DS_TOP_SOURCES, .from = q->from, .to = q->to, .sensor_id = q->sensor_id, .cls = -1,
                        .limit = 0, .exclude = q->exclude, .tools = DS_TOOL_MIRAI };
    ds_top_result tr = { 0 };
    ds_cube daily = { 0 }, svc = { 0 };
    tally *cc = NULL, *as = NULL;
    ds_rc rc = ds_top_run(st, &tq, &tr, err);
    if (rc != DS_OK || !tr.n)
        goto out;
    ds_cube_query cq = { .from = q->from, .to = q->to, .a = DS_CUBE_DAY, .b = DS_CUBE_NONE, .sources = 1 };
    ds_filter_init(&cq.filter);
    cq.filter.sensor_id = q->sensor_id;
    cq.filter.exclude = q->exclude;
    cq.filter.tools = DS_TOOL_MIRAI;
    if ((rc = ds_cube_run(st, &cq, &daily, err)) != DS_OK)
        goto out;
    cq.a = DS_CUBE_SERVICE;
    cq.sources = 0;
    if ((rc = ds_cube_run(st, &cq, &svc, err)) != DS_OK)
        goto out;
    size_t ncc = tally_rows(&tr, 0, &cc), nas = tally_rows(&tr, 1, &as);
    if (ncc == (size_t)-1 || nas == (size_t)-1) {
        rc = ds_fail(err, DS_ENOMEM, "out of memory listing events");
        goto out;
    }
    ds_event *v = ev_new(out, err);
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
    for (size_t i = 0; i < svc.n; i++) {
        if (svc.cells[i].packets > best) {
            second = best;
            s2 = s1;
            best = svc.cells[i].packets;
            s1 = svc.cells[i].a;
        } else if (svc.cells[i].packets > second) {
            second = svc.cells[i].packets;
            s2 = svc.cells[i].a;
        }
    }
    v->has_service = best > 0;
    v->service = s1;
    ds_cc_unpack((uint16_t)cc[0].key, v->country);
    /* hosts per day */
    uint64_t dmin = UINT64_MAX, dmax = 0, dsum = 0;
    int32_t ndays = q->to - q->from + 1, peak_day = q->from;
    for (int32_t d = q->from; d <= q->to; d++) {
        const ds_cube_cell *c = ds_cube_get(&daily, (uint32_t)d, 0);
        uint64_t h = c ? c->sources : 0;
        if (h < dmin)
            dmin = h;
        if (h > dmax) {
            dmax = h;
            peak_day = d;
        }
        dsum += h;
    }
    char t1[64], t2[64], t3[64];
    evidence(v, "hosts", (double)v->sources, NULL);
    evidence(v, "packets", (double)v->packets, NULL);
    evidence(v, "hosts_per_day_min", (double)dmin, NULL);
    evidence(v, "hosts_per_day_mean", (double)dsum / (double)ndays, NULL);
    evidence(v, "hosts_per_day_max", (double)dmax, day_en(peak_day, t1, sizeof t1));
    evidence(v, "main_service_share", v->packets ? (double)best / (double)v->packets : 0.0,
             ds_service_format(s1, t2, sizeof t2));
    if (second)
        evidence(v, "second_service_share", (double)second / (double)v->packets, ds_service_format(s2, t3, sizeof t3));
    for (size_t i = 0; i < ncc && i < 3; i++) {
        char c[3];
        ds_cc_unpack((uint16_t)cc[i].key, c);
        evidence(v, "hosts_in_country", (double)cc[i].n, c);
    }
    for (size_t i = 0; i < nas && i < 2; i++) {
        char a[16];
        snprintf(a, sizeof a, "AS%u", (unsigned)as[i].key);
        evidence(v, "hosts_in_asn", (double)as[i].n, a);
    }
    top_sources(v, &tr, 0);
    /* summaries */
    char hosts[32], pk[32], from_en[16], to_en[16], from_ja[32], to_ja[32], svcs[160], ccs[96], lo[32], hi[32];
    int32_t d0 = ds_day_of((int64_t)(v->start_ns / 1000000000ULL)), d1 = ds_day_of((int64_t)(v->end_ns / 1000000000ULL));
    thousands(v->sources, hosts, sizeof hosts);
    thousands(v->packets, pk, sizeof pk);
    day_en(d0, from_en, sizeof from_en);
    day_en(d1, to_en, sizeof to_en);
    day_ja(d0, from_ja, sizeof from_ja);
    day_ja(d1, to_ja, sizeof to_ja);
    if (second)
        snprintf(svcs, sizeof svcs, "%s and %s", t2, t3);
    else
        snprintf(svcs, sizeof svcs, "%s", t2);
    size_t o = 0;
    ccs[0] = 0;
    for (size_t i = 0; i < ncc && i < 3; i++) {
        char c[3];
        ds_cc_unpack((uint16_t)cc[i].key, c);
        int n = snprintf(ccs + o, sizeof ccs - o, "%s%s %.0f%%", i ? ", " : "", c, 100.0 * (double)cc[i].n / (double)tr.n);
        if (n < 0 || (size_t)n >= sizeof ccs - o)
            break;
        o += (size_t)n;
    }
    snprintf(v->summary_en, sizeof v->summary_en,
             "%s hosts sent SYNs with Mirai's fingerprint (sequence number = destination address) to %s "
             "from %s to %s, %s packets; %s to %s infected hosts a day (peak %s); by country: %s.",
             hosts, svcs, from_en, to_en, pk, thousands(dmin, lo, sizeof lo), thousands(dmax, hi, sizeof hi), t1, ccs);
    char svcs_ja[160], peak_ja[32];
    ds_service_label(s1, t2, sizeof t2);
    if (second)
        snprintf(svcs_ja, sizeof svcs_ja, "%s・%s", t2, ds_service_label(s2, t3, sizeof t3));
    else
        snprintf(svcs_ja, sizeof svcs_ja, "%s", t2);
    snprintf(v->summary_ja, sizeof v->summary_ja,
             "%sから%sにかけて、Miraiの特徴（シーケンス番号＝宛先アドレス）を持つSYNパケットを%s宛てに送信する"
             "ホストを%s件観測しました（%sパケット）。1日あたりの感染ホスト数は%s～%s件（最多は%s）で、"
             "送信元の国・地域別では%sでした。",
             from_ja, to_ja, svcs_ja, hosts, pk, lo, hi, day_ja(peak_day, peak_ja, sizeof peak_ja), ccs);
out:
    free(cc);
    free(as);
    ds_cube_free(&daily);
    ds_cube_free(&svc);
    ds_top_result_free(&tr);
    return rc;
}

static const char *tool_title(unsigned t)
{
    return t == DS_TOOL_ZMAP ? "ZMap" : t == DS_TOOL_MASSCAN ? "Masscan" : "Nmap";
}

static ds_rc detect_tools(ds_store *st, const ds_geo *geo, const ds_event_query *q, ds_events *out, ds_err *err)
{
    static const unsigned tools[] = { DS_TOOL_ZMAP, DS_TOOL_MASSCAN, DS_TOOL_NMAP };
    ds_rc rc = DS_OK;
    for (size_t k = 0; k < sizeof tools / sizeof tools[0] && rc == DS_OK; k++) {
        ds_top_query tq = { .dim = DS_TOP_SOURCES, .from = q->from, .to = q->to, .sensor_id = q->sensor_id, .cls = -1,
                            .limit = 0, .exclude = q->exclude, .tools = tools[k] };
        ds_top_result tr = { 0 };
        if ((rc = ds_top_run(st, &tq, &tr, err)) != DS_OK)
            break;
        for (size_t i = 0; i < tr.n && rc == DS_OK; i++) {
            const ds_top_row *row = &tr.rows[i];
            ds_cube c = { 0 };
            ds_cube_query cq = { .from = q->from, .to = q->to, .a = DS_CUBE_SERVICE, .b = DS_CUBE_NONE };
            ds_filter_init(&cq.filter);
            cq.filter.sensor_id = q->sensor_id;
            cq.filter.tools = tools[k];
            cq.filter.one_source = 1;
            cq.filter.source = row->key;
            if ((rc = ds_cube_run(st, &cq, &c, err)) != DS_OK)
                break;
            ds_service main = 0;
            uint64_t best = 0;
            for (size_t j = 0; j < c.n; j++)
                if (c.cells[j].packets > best) {
                    best = c.cells[j].packets;
                    main = c.cells[j].a;
                }
            size_t nsvc = c.n;
            ds_cube_free(&c);
            ds_event *v = ev_new(out, err);
            if (!v) {
                rc = DS_ENOMEM;
                break;
            }
            snprintf(v->type, sizeof v->type, "tool");
            snprintf(v->tool, sizeof v->tool, "%s", tool_title(tools[k]));
            for (char *p = v->tool; *p; p++)
                if (*p >= 'A' && *p <= 'Z')
                    *p = (char)(*p - 'A' + 'a');
            v->start_ns = row->first_ns;
            v->end_ns = row->last_ns;
            v->has_service = best > 0;
            v->service = main;
            memcpy(v->country, row->cc, 3);
            v->sources = 1;
            v->packets = row->packets;
            top_sources(v, &tr, i);
            v->ntop = 1;
            char svc[32], pk[32], a0[16], a1[16], j0[32], j1[32], org[160] = "";
            ds_service_format(main, svc, sizeof svc);
            evidence(v, "packets", (double)row->packets, NULL);
            evidence(v, "days_active", (double)row->days, NULL);
            evidence(v, "services", (double)nsvc, NULL);
            evidence(v, "main_service_share", row->packets ? (double)best / (double)row->packets : 0.0, svc);
            evidence(v, "asn", (double)row->asn, NULL);
            const char *o = geo && row->asn ? ds_geo_asn_org(geo, row->asn) : NULL;
            if (o && *o)
                snprintf(org, sizeof org, " %s", o);
            thousands(row->packets, pk, sizeof pk);
            int32_t d0 = ds_day_of((int64_t)(row->first_ns / 1000000000ULL));
            int32_t d1 = ds_day_of((int64_t)(row->last_ns / 1000000000ULL));
            day_en(d0, a0, sizeof a0);
            day_en(d1, a1, sizeof a1);
            day_ja(d0, j0, sizeof j0);
            day_ja(d1, j1, sizeof j1);
            const char *what = tools[k] == DS_TOOL_NMAP ? "port scan" : "scan";
            snprintf(v->summary_en, sizeof v->summary_en,
                     "%s %s from %s (%s, AS%u%s): %s packets on %u day%s from %s to %s, %.1f%% of them to %s "
                     "(%zu service%s).",
                     tool_title(tools[k]), what, v->top[0].addr, row->cc, (unsigned)row->asn, org, pk, row->days,
                     row->days == 1 ? "" : "s", a0, a1, row->packets ? 100.0 * (double)best / (double)row->packets : 0.0,
                     svc, nsvc, nsvc == 1 ? "" : "s");
            ds_service_label(main, svc, sizeof svc);
            snprintf(v->summary_ja, sizeof v->summary_ja,
                     "%s（%s、AS%u%s）から%sによる%sを観測しました。%sから%sまでの%u日間に%sパケットで、"
                     "その%.1f%%が%s宛てでした（宛先サービス%zu種類）。",
                     v->top[0].addr, row->cc, (unsigned)row->asn, org, tool_title(tools[k]),
                     tools[k] == DS_TOOL_NMAP ? "ポートスキャン" : "スキャン", j0, j1, row->days, pk,
                     row->packets ? 100.0 * (double)best / (double)row->packets : 0.0, svc, nsvc);
        }
        ds_top_result_free(&tr);
    }
    return rc;
}

/* ---- backscatter: the ATTACKS records, merged by victim ---------------------------------- */

typedef struct atk_list { ds_attack *a; size_t n, cap; } atk_list;

static ds_rc on_attacks(void *ctx, int64_t sensor_id, int32_t day, const uint8_t *data, size_t nrec, ds_err *err)
{
    atk_list *l = ctx;
    for (size_t i = 0; i < nrec; i++) {
        if (l->n == l->cap) {
            size_t cap = l->cap ? l->cap * 2 : 64;
            ds_attack *n = realloc(l->a, cap * sizeof *n);
            if (!n)
                return ds_fail(err, DS_ENOMEM, "out of memory reading attack records");
            l->a = n;
            l->cap = cap;
        }
        ds_rec_attack_get(data + i * DS_REC_ATTACK, &l->a[l->n]);
        l->a[l->n].day = day;
        l->n++;
    }
    return DS_OK;
}

static int atk_cmp(const void *x, const void *y)
{
    const ds_attack *a = x, *b = y;
    int c = memcmp(a->victim.b, b->victim.b, 16);
    if (c)
        return c;
    if (a->victim.v6 != b->victim.v6)
        return a->victim.v6 < b->victim.v6 ? -1 : 1;
    return a->start_ns < b->start_ns ? -1 : a->start_ns > b->start_ns;
}

/* The flood the backscatter answers, from the kind with most packets. */
static ds_attack_kind main_kind(const ds_attack *a)
{
    int best = 0;
    for (int k = 1; k < DS_ATK__COUNT; k++)
        if (a->kind_packets[k] > a->kind_packets[best])
            best = k;
    return (ds_attack_kind)best;
}

static const char *const KIND_JA[DS_ATK__COUNT] = {
    "SYNフラッド攻撃", "SYNフラッド攻撃（閉じたポート）またはTCPフラッド攻撃", "ICMP Echo（ping）フラッド攻撃",
    "UDPフラッド攻撃", "TCPフラッド攻撃（ICMPエラー）", "その他のICMP応答を伴うフラッド攻撃",
};

static const char *const EVIDENCE_OF_KIND[DS_ATK__COUNT] = {
    "syn_ack_packets", "rst_packets", "echo_reply_packets", "port_unreachable_udp_packets",
    "port_unreachable_tcp_packets", "other_icmp_packets",
};

static ds_rc detect_backscatter(ds_store *st, const ds_geo *geo, const ds_event_query *q, ds_events *out, ds_err *err)
{
    atk_list l = { 0 };
    /* an attack that started the day before the period and reaches into it still shows */
    ds_rc rc = st->ops->scan(st, DS_CHUNK_ATTACKS, q->sensor_id, q->from - 1, q->to, on_attacks, &l, err);
    if (rc != DS_OK)
        goto out;
    if (l.n)
        qsort(l.a, l.n, sizeof *l.a, atk_cmp);
    /* merge records of one attack (threads, files, a vector reported in two pieces) */
    size_t w = 0;
    for (size_t i = 0; i < l.n; i++) {
        if (w && ds_ip_eq(&l.a[w - 1].victim, &l.a[i].victim) &&
            l.a[i].start_ns <= l.a[w - 1].end_ns + DS_DOS_TIMEOUT_NS) {
            ds_attack *m = &l.a[w - 1];
            if (l.a[i].end_ns > m->end_ns)
                m->end_ns = l.a[i].end_ns;
            m->packets += l.a[i].packets;
            if (l.a[i].max_ppm > m->max_ppm)
                m->max_ppm = l.a[i].max_ppm;
            for (int k = 0; k < DS_ATK__COUNT; k++)
                m->kind_packets[k] += l.a[i].kind_packets[k];
            if (l.a[i].port == m->port && l.a[i].port_proto == m->port_proto)
                m->port_packets += l.a[i].port_packets;
            continue;
        }
        l.a[w++] = l.a[i];
    }
    for (size_t i = 0; i < w; i++) {
        const ds_attack *a = &l.a[i];
        int32_t d1 = ds_day_of((int64_t)(a->end_ns / 1000000000ULL));
        if (d1 < q->from)   /* ended before the period */
            continue;
        ds_event *v = ev_new(out, err);
        if (!v) {
            rc = DS_ENOMEM;
            goto out;
        }
        ds_attack_kind k = main_kind(a);
        ds_geo_info gi;
        ds_geo_lookup(geo, &a->victim, &gi);
        snprintf(v->type, sizeof v->type, "backscatter");
        v->start_ns = a->start_ns;
        v->end_ns = a->end_ns;
        memcpy(v->country, gi.cc, 3);
        v->sources = 1;
        v->packets = a->packets;
        if (k == DS_ATK_ECHO_REPLY) {
            v->has_service = 1;
            v->service = a->victim.v6 ? DS_SERVICE(DS_PROTO_ICMP6, 128) : DS_SERVICE(DS_PROTO_ICMP, 8);
        } else if (a->port_proto && a->port_packets * 2 >= a->packets) {
            v->has_service = 1;
            v->service = DS_SERVICE(a->port_proto, a->port);
        }
        ds_ip_format(&a->victim, v->top[0].addr, sizeof v->top[0].addr);
        memcpy(v->top[0].cc, gi.cc, 3);
        v->top[0].asn = gi.asn;
        v->top[0].packets = a->packets;
        v->ntop = 1;
        double minutes = (double)(a->end_ns - a->start_ns) / 60e9;
        evidence(v, "packets", (double)a->packets, NULL);
        evidence(v, "duration_s", (double)(a->end_ns - a->start_ns) / 1e9, NULL);
        evidence(v, "peak_packets_per_60s", (double)a->max_ppm, NULL);
        for (int kk = 0; kk < DS_ATK__COUNT; kk++)
            if (a->kind_packets[kk])
                evidence(v, EVIDENCE_OF_KIND[kk], (double)a->kind_packets[kk], NULL);
        evidence(v, "victim_asn", (double)gi.asn, NULL);
        evidence(v, "inferred_attack", (double)k, ds_attack_kind_name(k));
        const char *org = geo && gi.asn ? ds_geo_asn_org(geo, gi.asn) : NULL;
        char pk[32], t0[32], t1[32], j0[48], j1[48], svc[32] = "";
        time_t s0 = (time_t)(a->start_ns / 1000000000ULL), s1 = (time_t)(a->end_ns / 1000000000ULL);
        struct tm tm0, tm1;
        gmtime_r(&s0, &tm0);
        gmtime_r(&s1, &tm1);
        strftime(t0, sizeof t0, "%Y-%m-%d %H:%M", &tm0);
        strftime(t1, sizeof t1, "%Y-%m-%d %H:%M", &tm1);
        snprintf(j0, sizeof j0, "%d年%d月%d日%02d:%02d", tm0.tm_year + 1900, tm0.tm_mon + 1, tm0.tm_mday, tm0.tm_hour,
                 tm0.tm_min);
        snprintf(j1, sizeof j1, "%d年%d月%d日%02d:%02d", tm1.tm_year + 1900, tm1.tm_mon + 1, tm1.tm_mday, tm1.tm_hour,
                 tm1.tm_min);
        thousands(a->packets, pk, sizeof pk);
        if (v->has_service)
            ds_service_format(v->service, svc, sizeof svc);
        snprintf(v->summary_en, sizeof v->summary_en,
                 "Backscatter from %s (%s, AS%u%s%s): %s inferred from %s packets (%s%s%s) between %s and %s UTC "
                 "(%.0f min), peak %u packets in 60 s.",
                 v->top[0].addr, gi.cc, (unsigned)gi.asn, org ? " " : "", org ? org : "", ds_attack_kind_name(k), pk,
                 EVIDENCE_OF_KIND[k], svc[0] ? ", " : "", svc, t0, t1, minutes, (unsigned)a->max_ppm);
        if (v->has_service)
            ds_service_label(v->service, svc, sizeof svc);
        snprintf(v->summary_ja, sizeof v->summary_ja,
                 "%s（%s、AS%u%s%s）からのバックスキャッタを%sから%s（UTC、約%.0f分間）に%sパケット観測しました"
                 "（60秒あたり最大%u件%s%s）。%sを受けていたと推定されます。",
                 v->top[0].addr, gi.cc, (unsigned)gi.asn, org ? " " : "", org ? org : "", j0, j1, minutes, pk,
                 (unsigned)a->max_ppm, svc[0] ? "、" : "", svc, KIND_JA[k]);
    }
out:
    free(l.a);
    return rc;
}

static int ev_cmp(const void *a, const void *b)
{
    const ds_event *x = a, *y = b;
    if (x->start_ns != y->start_ns)
        return x->start_ns < y->start_ns ? -1 : 1;
    return strcmp(x->type, y->type);
}

ds_rc ds_events_run(ds_store *st, const ds_geo *geo, const ds_event_query *q, ds_events *out, ds_err *err)
{
    ds_rc rc = DS_OK;
    memset(out, 0, sizeof *out);
    if (q->type && !ds_event_type_known(q->type))
        return ds_fail(err, DS_EINVAL, "event type '%s' is not detected by this build (known: mirai, tool, backscatter)",
                       q->type);
    if (!q->type || !strcmp(q->type, "mirai"))
        rc = detect_mirai(st, q, out, err);
    if (rc == DS_OK && (!q->type || !strcmp(q->type, "tool")))
        rc = detect_tools(st, geo, q, out, err);
    if (rc == DS_OK && (!q->type || !strcmp(q->type, "backscatter")))
        rc = detect_backscatter(st, geo, q, out, err);
    if (rc != DS_OK) {
        ds_events_free(out);
        return rc;
    }
    if (out->n)
        qsort(out->ev, out->n, sizeof *out->ev, ev_cmp);
    return DS_OK;
}

void ds_events_free(ds_events *e)
{
    free(e->ev);
    memset(e, 0, sizeof *e);
}
