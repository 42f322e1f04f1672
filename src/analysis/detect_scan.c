/* detect_scan.c: the `scan` events: one per scan, from the SCANS records core/scan.c writes at
 * ingest (thresholds and sources in core/scan.h and docs/detection.md).
 *
 * A scan split into several records (one per ingested file, one per sensor it reached, or cut by
 * the scan table's memory cap) is merged here by (source, service) when the pieces are less than
 * the scan timeout apart.  Addresses of merged pieces are summed (pieces of one sensor cut by a
 * file boundary can count an address twice, so the sum is capped at the monitored total), and the
 * monitored addresses are those of the distinct sensors involved.
 *
 * The Internet-wide rate assumes the scanner picks targets in a uniformly random order over IPv4
 * (ZMap and Masscan do; Durumeric et al. 2014 make the same assumption): the telescope's M
 * addresses then see M / 2^32 of its probes, so rate x 2^32 / M, and covering IPv4 at that rate
 * takes M / rate seconds.  A sequential scanner (one that walks address blocks) gives a
 * meaningless estimate; the summary says it is an estimate under that assumption.
 *
 * Tool attribution comes from the source's SOURCES records on the days the scan spans.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "analysis/events_int.h"
#include "core/fingerprint.h"
#include "core/records.h"
#include "core/scan.h"
#include "util/textfmt.h"
#include "util/timeutil.h"
#include "util/grow.h"

#define MAX_SENSORS_PER_SCAN 16

typedef struct piece {
    ds_scan s;
    int64_t sensor_id;
} piece;

typedef struct piece_list { piece *p; size_t n, cap; } piece_list;

typedef struct tool_ent { uint64_t key; int32_t day; uint8_t tools; } tool_ent;
/* only the scanners' entries are kept: a quarter's tool-attributed source-days are a hundred
 * thousand, its scanners a few hundred, and the list is sorted */
typedef struct tool_list { tool_ent *t; size_t n, cap; ds_u64set scanners; } tool_list;

static ds_rc on_scans(void *ctx, int64_t sensor_id, int32_t day, const uint8_t *data, size_t nrec, ds_err *err)
{
    piece_list *l = ctx;
    for (size_t i = 0; i < nrec; i++) {
        if (l->n == l->cap) {
            piece *n = ds_grow(l->p, &l->cap, sizeof *n, 256);
            if (!n)
                return ds_fail(err, DS_ENOMEM, "out of memory reading scan records");
            l->p = n;
        }
        ds_rec_scan_get(data + i * DS_REC_SCAN, &l->p[l->n].s);
        l->p[l->n].s.day = day;
        l->p[l->n].sensor_id = sensor_id;
        l->n++;
    }
    return DS_OK;
}

static ds_rc on_sources(void *ctx, int64_t sensor_id, int32_t day, const uint8_t *data, size_t nrec, ds_err *err)
{
    tool_list *l = ctx;
    for (size_t i = 0; i < nrec; i++) {
        uint8_t tools = data[i * DS_REC_SOURCES + 54];   /* the tools byte (records.h) */
        if (!tools)
            continue;
        if (l->n == l->cap) {
            tool_ent *n = ds_grow(l->t, &l->cap, sizeof *n, 256);
            if (!n)
                return ds_fail(err, DS_ENOMEM, "out of memory reading source records");
            l->t = n;
        }
        uint64_t key = ds_rec_source_key(data + i * DS_REC_SOURCES);
        if (ds_u64set_has(&l->scanners, key))
            l->t[l->n++] = (tool_ent){ key, day, tools };
    }
    return DS_OK;
}

static int tool_cmp(const void *x, const void *y)
{
    const tool_ent *a = x, *b = y;
    if (a->key != b->key)
        return a->key < b->key ? -1 : 1;
    return a->day < b->day ? -1 : a->day > b->day;
}

/* Tools of source `key` on days [d0, d1]. */
static unsigned tools_of(const tool_list *l, uint64_t key, int32_t d0, int32_t d1)
{
    size_t lo = 0, hi = l->n;
    while (lo < hi) {   /* first entry >= (key, d0) */
        size_t mid = lo + (hi - lo) / 2;
        const tool_ent *t = &l->t[mid];
        if (t->key < key || (t->key == key && t->day < d0))
            lo = mid + 1;
        else
            hi = mid;
    }
    unsigned tools = 0;
    for (size_t i = lo; i < l->n && l->t[i].key == key && l->t[i].day <= d1; i++)
        tools |= l->t[i].tools;
    return tools;
}

static int piece_cmp(const void *x, const void *y)
{
    const piece *a = x, *b = y;
    int c = memcmp(a->s.src.b, b->s.src.b, 16);
    if (c)
        return c;
    if (a->s.src.v6 != b->s.src.v6)
        return a->s.src.v6 < b->s.src.v6 ? -1 : 1;
    if (a->s.service != b->s.service)
        return a->s.service < b->s.service ? -1 : 1;
    return a->s.start_ns < b->s.start_ns ? -1 : a->s.start_ns > b->s.start_ns;
}

/* One scan after merging. */
typedef struct merged {
    ds_scan s;
    int64_t sensors[MAX_SENSORS_PER_SCAN];
    size_t nsensors;
    uint64_t monitored;
    size_t pieces;
} merged;

static void merged_add_sensor(merged *m, const piece *p)
{
    for (size_t k = 0; k < m->nsensors; k++)
        if (m->sensors[k] == p->sensor_id)
            return;
    if (m->nsensors < MAX_SENSORS_PER_SCAN)
        m->sensors[m->nsensors++] = p->sensor_id;
    m->monitored += p->s.sensor_addresses;
}

/* "1.3", "12 k", "11 M", "4.3 G" (probes per second and such) */
static char *fmt_si(double v, char *buf, size_t len)
{
    static const char *const unit[] = { "", " k", " M", " G", " T" };
    int u = 0;
    while (v >= 1000 && u < 4) {
        v /= 1000;
        u++;
    }
    snprintf(buf, len, v >= 100 ? "%.0f%s" : "%.2g%s", v, unit[u]);
    return buf;
}

/* 万 and 億, as Japanese reports write large numbers */
static char *fmt_ja(double v, char *buf, size_t len)
{
    if (v >= 1e8)
        snprintf(buf, len, "%.3g億", v / 1e8);
    else if (v >= 1e4)
        snprintf(buf, len, "%.3g万", v / 1e4);
    else
        snprintf(buf, len, "%.2g", v);
    return buf;
}

static char *fmt_dur(double s, int ja, char *buf, size_t len)
{
    if (s < 90)
        snprintf(buf, len, ja ? "%.0f秒" : "%.0f s", s);
    else if (s < 5400)
        snprintf(buf, len, ja ? "%.1f分" : "%.1f min", s / 60);
    else if (s < 2 * 86400)
        snprintf(buf, len, ja ? "%.1f時間" : "%.1f h", s / 3600);
    else
        snprintf(buf, len, ja ? "%.1f日" : "%.1f days", s / 86400);
    return buf;
}

static void event_of(ds_event *v, const merged *m, unsigned tools, const ds_geo *geo)
{
    const ds_scan *s = &m->s;
    ds_geo_info gi;
    ds_geo_lookup(geo, &s->src, &gi);
    snprintf(v->type, sizeof v->type, "scan");
    v->start_ns = s->start_ns;
    v->end_ns = s->end_ns;
    v->has_service = 1;
    v->service = s->service;
    memcpy(v->country, gi.cc, 3);
    v->sources = 1;
    v->packets = s->packets;
    ds_ip_format(&s->src, v->top[0].addr, sizeof v->top[0].addr);
    memcpy(v->top[0].cc, gi.cc, 3);
    v->top[0].asn = gi.asn;
    v->top[0].packets = s->packets;
    v->ntop = 1;
    if (tools)
        ds_tools_format(tools, v->tool, sizeof v->tool);

    double dur = (double)(s->end_ns - s->start_ns) / 1e9;
    double rate = (double)s->packets / (dur < 1 ? 1 : dur);   /* a burst within a second: per second */
    double share = m->monitored ? (double)s->addresses / (double)m->monitored : 0;
    int estimate = m->monitored && !s->src.v6;
    double inet = estimate ? rate * 4294967296.0 / (double)m->monitored : 0;
    double cover = estimate ? (double)m->monitored / rate : 0;
    char svc[32], tl[64] = "";
    ds_service_format(s->service, svc, sizeof svc);
    ds_event_evidence_add(v, "addresses", s->addresses, s->estimated ? "estimated (HyperLogLog, 6.5%)" : "exact");
    ds_event_evidence_add(v, "monitored_addresses", (double)m->monitored, NULL);
    ds_event_evidence_add(v, "share_of_monitored", share, NULL);
    ds_event_evidence_add(v, "packets", (double)s->packets, NULL);
    ds_event_evidence_add(v, "duration_s", dur, NULL);
    ds_event_evidence_add(v, "rate_pps", rate, NULL);
    if (estimate) {
        ds_event_evidence_add(v, "internet_rate_pps", inet, "assumes a uniformly random target order");
        ds_event_evidence_add(v, "ipv4_cover_s", cover, "at internet_rate_pps");
    }
    ds_event_evidence_add(v, "pieces", (double)m->pieces, NULL);
    if (tools)
        ds_event_evidence_add(v, "tool", tools, ds_tools_format(tools, tl, sizeof tl));
    ds_event_evidence_add(v, "threshold_addresses", s->min_addresses, NULL);
    ds_event_evidence_add(v, "timeout_s", s->timeout_s, NULL);

    const char *org = geo && gi.asn ? ds_geo_asn_org(geo, gi.asn) : NULL;
    char a[32], mon[32], pk[32], t0[32], t1[32], j0[48], d_en[32], d_ja[32], r_en[32], r_ja[32], i_en[32],
        i_ja[32], c_en[32], c_ja[32], lab[32];
    time_t s0 = (time_t)(s->start_ns / 1000000000ULL), s1 = (time_t)(s->end_ns / 1000000000ULL);
    struct tm tm0, tm1;
    gmtime_r(&s0, &tm0);
    gmtime_r(&s1, &tm1);
    strftime(t0, sizeof t0, "%Y-%m-%d %H:%M", &tm0);
    strftime(t1, sizeof t1, tm0.tm_yday == tm1.tm_yday && tm0.tm_year == tm1.tm_year ? "%H:%M" : "%Y-%m-%d %H:%M", &tm1);
    snprintf(j0, sizeof j0, "%d年%d月%d日%02d:%02d", tm0.tm_year + 1900, tm0.tm_mon + 1, tm0.tm_mday, tm0.tm_hour,
             tm0.tm_min);
    ds_fmt_count(s->addresses, a, sizeof a);
    ds_fmt_count(m->monitored, mon, sizeof mon);
    ds_fmt_count(s->packets, pk, sizeof pk);
    fmt_dur(dur, 0, d_en, sizeof d_en);
    fmt_dur(dur, 1, d_ja, sizeof d_ja);
    snprintf(r_en, sizeof r_en, "%.2g", rate);
    snprintf(r_ja, sizeof r_ja, "%.2g", rate);
    fmt_si(inet, i_en, sizeof i_en);
    fmt_ja(inet, i_ja, sizeof i_ja);
    fmt_dur(cover, 0, c_en, sizeof c_en);
    fmt_dur(cover, 1, c_ja, sizeof c_ja);
    char inet_en[200] = "", inet_ja[300] = "", tool_en[80] = "", tool_ja[80] = "";
    if (estimate) {
        snprintf(inet_en, sizeof inet_en, "; if it picks targets in a uniformly random order, that is about %s probes/s "
                 "Internet-wide, all of IPv4 in %s", i_en, c_en);
        snprintf(inet_ja, sizeof inet_ja, "宛先を一様ランダムに選んでいると仮定すると、インターネット全体では毎秒約%sパケット、"
                 "IPv4全体を約%sで走査する速度です。", i_ja, c_ja);
    }
    if (tools) {
        snprintf(tool_en, sizeof tool_en, " Tool: %s.", tl);
        snprintf(tool_ja, sizeof tool_ja, "ツール: %s。", tl);
    }
    ds_fmt_text(v->summary_en, sizeof v->summary_en,
             "Scan of %s from %s (%s, AS%u%s%s): %s of %s monitored addresses (%.1f%%%s), %s packets in %s from %s "
             "to %s UTC (%s probes/s)%s.%s",
             svc, v->top[0].addr, gi.cc, (unsigned)gi.asn, org ? " " : "", org ? org : "", a, mon, 100 * share,
             s->estimated ? ", estimated" : "", pk, d_en, t0, t1, r_en, inet_en, tool_en);
    ds_fmt_text(v->summary_ja, sizeof v->summary_ja,
             "%s（%s、AS%u%s%s）から%sへのスキャンを観測しました。%s（UTC）から約%sの間に、監視対象%sアドレスのうち"
             "%sアドレス（%.1f%%%s）へ%sパケット（毎秒%sパケット）が届きました。%s%s",
             v->top[0].addr, gi.cc, (unsigned)gi.asn, org ? " " : "", org ? org : "",
             ds_service_label(s->service, lab, sizeof lab), j0, d_ja, mon, a, 100 * share,
             s->estimated ? "、推定値" : "", pk, r_ja, inet_ja, tool_ja);
}

ds_rc ds_detect_scans(ds_store *st, const ds_geo *geo, const ds_event_query *q, ds_events *out, ds_err *err)
{
    piece_list l = { 0 };
    tool_list tl = { 0 };
    /* a scan that started the day before the period and reaches into it still shows */
    ds_rc rc = st->ops->scan(st, DS_CHUNK_SCANS, q->sensor_id, q->from - 1, q->to, on_scans, &l, err);
    if (rc != DS_OK || !l.n)
        goto out;
    if (ds_u64set_init(&tl.scanners, 1024) != 0) {
        rc = ds_fail(err, DS_ENOMEM, "out of memory reading scan records");
        goto out;
    }
    for (size_t i = 0; i < l.n; i++)
        if (ds_u64set_add(&tl.scanners, ds_src_key(&l.p[i].s.src)) < 0) {
            rc = ds_fail(err, DS_ENOMEM, "out of memory reading scan records");
            goto out;
        }
    if ((rc = st->ops->scan(st, DS_CHUNK_SOURCES, q->sensor_id, q->from - 1, q->to, on_sources, &tl, err)) != DS_OK)
        goto out;
    if (tl.n)
        qsort(tl.t, tl.n, sizeof *tl.t, tool_cmp);
    qsort(l.p, l.n, sizeof *l.p, piece_cmp);
    for (size_t i = 0; i < l.n;) {
        int32_t chunk_day = l.p[i].s.day;   /* the store's local day of the first piece */
        merged m = { .s = l.p[i].s, .pieces = 1 };
        merged_add_sensor(&m, &l.p[i]);
        size_t j = i + 1;
        for (; j < l.n; j++) {
            const ds_scan *x = &l.p[j].s;
            uint64_t gap = (uint64_t)(x->timeout_s > m.s.timeout_s ? x->timeout_s : m.s.timeout_s) * 1000000000ULL;
            if (!ds_ip_eq(&x->src, &m.s.src) || x->service != m.s.service || x->start_ns > m.s.end_ns + gap)
                break;
            if (x->end_ns > m.s.end_ns)
                m.s.end_ns = x->end_ns;
            m.s.packets += x->packets;
            m.s.addresses += x->addresses;
            m.s.estimated |= x->estimated;
            m.pieces++;
            merged_add_sensor(&m, &l.p[j]);
        }
        i = j;
        if (m.monitored && m.s.addresses > m.monitored && !m.s.src.v6)
            m.s.addresses = (uint32_t)(m.monitored > UINT32_MAX ? UINT32_MAX : m.monitored);
        int32_t d0 = ds_day_of((int64_t)(m.s.start_ns / 1000000000ULL));
        int32_t d1 = ds_day_of((int64_t)(m.s.end_ns / 1000000000ULL));
        if (d1 < q->from || d0 > q->to)
            continue;
        uint64_t key = ds_src_key(&m.s.src);
        if (q->exclude && ds_u64set_has(q->exclude, key))
            continue;
        ds_event *v = ds_events_add(out, err);
        if (!v) {
            rc = DS_ENOMEM;
            goto out;
        }
        /* SOURCES days are the store's local days: from the first piece's to a day past the end */
        event_of(v, &m, tools_of(&tl, key, chunk_day, d1 + 1), geo);
    }
out:
    free(l.p);
    free(tl.t);
    ds_u64set_free(&tl.scanners);
    return rc;
}
