/* detect_scan.c: the `scan` events, from the SCANS records core/scan.c writes at ingest
 * (thresholds and sources in core/scan.h and docs/detection.md).
 *
 * A scan split into several records (one per ingested file, one per sensor it reached, or cut by
 * the scan table's memory cap) is merged here by (source, service) when the pieces are less than
 * the scan timeout apart.  Addresses of merged pieces are summed (pieces of one sensor cut by a
 * file boundary can count an address twice, so the sum is capped at the monitored total, and at
 * the packets), and the monitored addresses are those of the distinct sensors involved.
 *
 * A scanner's scans (sweeps) of one service in the period are one event (issue #20: a daily
 * sweeper made 92 events a quarter): the sweep count, the median time between sweep starts, and
 * the figures of its largest sweep.
 *
 * The Internet-wide rate is given only when the sweep's targets passed the uniformity test of
 * core/scan.h: a scanner that picks targets uniformly at random over IPv4 (ZMap and Masscan do;
 * Durumeric et al. 2014, section 3, extrapolate the same way) sends M / 2^32 of its probes to the
 * telescope's M addresses, so rate x 2^32 / M, and covering IPv4 at that rate takes M / rate
 * seconds.  The 95% interval is that of a Poisson count of the probes seen (Moore et al., "Inferring
 * Internet Denial-of-Service Activity", 2006, treat telescope hits the same way).  A sequential
 * sweep, or one that was not tested, states only what was observed.
 *
 * Nor is a rate given that no sender could reach: when even the low end of the interval is above
 * MAX_INET_PPS, the line rate of 100 Gbit/s Ethernet in minimum-size frames (64 bytes plus
 * 20 of preamble and inter-frame gap, IEEE 802.3: 100e9 / 672 bits = 148.8 M frames/s; the
 * fastest published Internet-wide scans send about a tenth of it: ZMap at 14.2 Mpps on 10 GbE,
 * Adrian et al., "Zippier ZMap", WOOT 2014), the targets were not all of IPv4 but a range around
 * the darknet (Masscan told to scan the telescope's /24 makes 4.3 G/s of it), and the event says
 * so (internet_rate_rejected) instead.
 *
 * Tool attribution comes from the source's SOURCES records on the days the scan spans.
 */
#include <math.h>
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
#define MAX_INET_PPS 148.8e6   /* 100 GbE line rate, 64-byte frames (see the top) */

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
        snprintf(buf, len, v >= 100 ? "%.0f" : "%.2g", v);
    return buf;
}

/* A rate as a person writes it: "1,234", "56", "1.6", "0.05" (never "1e+04") */
static char *fmt_rate(double v, char *buf, size_t len)
{
    if (v >= 100)
        return ds_fmt_count((uint64_t)(v + 0.5), buf, len);
    snprintf(buf, len, "%.2g", v);
    return buf;
}

/* "9 s", "5.3 min", "2.5 h", "1 day", "3.5 days"; Japanese "9秒", "5.3分", ... */
static char *fmt_dur(double s, int ja, char *buf, size_t len)
{
    static const char *const en[] = { " s", " min", " h", " day" }, *const jp[] = { "秒", "分", "時間", "日" };
    static const double div[] = { 1, 60, 3600, 86400 };
    int u = s < 90 ? 0 : s < 5400 ? 1 : s < 2 * 86400 ? 2 : 3;
    double v = s / div[u];
    char num[32];
    snprintf(num, sizeof num, u == 0 || v >= 10 ? "%.0f" : "%.1f", v);
    size_t n = strlen(num);
    if (n > 2 && !strcmp(num + n - 2, ".0"))
        num[n - 2] = '\0';
    snprintf(buf, len, "%s%s%s", num, ja ? jp[u] : en[u], !ja && u == 3 && strcmp(num, "1") ? "s" : "");
    return buf;
}

/* 95% interval of a Poisson mean from a count n (Byar's approximation: Rothman and Boice, 1979;
 * within 1% of the exact interval from n = 5 on). */
static void poisson95(double n, double *lo, double *hi)
{
    const double z = 1.959964;
    *lo = n > 0 ? n * pow(1 - 1 / (9 * n) - z / (3 * sqrt(n)), 3) : 0;
    *hi = (n + 1) * pow(1 - 1 / (9 * (n + 1)) + z / (3 * sqrt(n + 1)), 3);
}

/* A scanner's sweeps of one service in the period: one event.  The figures of one sweep (rate,
 * addresses, the extrapolation) are those of its largest sweep. */
typedef struct group {
    merged best;                 /* the sweep that reached most addresses */
    uint64_t start_ns, end_ns, packets;
    size_t sweeps, pieces;
    uint64_t *starts;            /* each sweep's start, in order */
    size_t cap;
} group;

static int u64_cmp(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Median time between consecutive sweeps' starts, seconds (sorts g->starts' gaps in place). */
static double median_interval(group *g)
{
    size_t n = g->sweeps - 1;
    for (size_t i = 0; i < n; i++)
        g->starts[i] = g->starts[i + 1] - g->starts[i];
    qsort(g->starts, n, sizeof *g->starts, u64_cmp);
    double m = n % 2 ? (double)g->starts[n / 2] : ((double)g->starts[n / 2 - 1] + (double)g->starts[n / 2]) / 2;
    return m / 1e9;
}

static const char *order_text(int order)
{
    return order == DS_SCAN_ORDER_RANDOM ? "uniformly random" : order == DS_SCAN_ORDER_NOT_RANDOM ? "not uniformly random"
                                                                                               : "not tested";
}

static void event_of(ds_event *v, group *g, unsigned tools, const ds_geo *geo)
{
    const merged *m = &g->best;
    const ds_scan *s = &m->s;
    ds_geo_info gi;
    ds_geo_lookup(geo, &s->src, &gi);
    snprintf(v->type, sizeof v->type, "scan");
    v->start_ns = g->start_ns;
    v->end_ns = g->end_ns;
    v->has_service = 1;
    v->service = s->service;
    memcpy(v->country, gi.cc, 3);
    v->sources = 1;
    v->packets = g->packets;
    ds_ip_format(&s->src, v->top[0].addr, sizeof v->top[0].addr);
    memcpy(v->top[0].cc, gi.cc, 3);
    v->top[0].asn = gi.asn;
    v->top[0].packets = g->packets;
    v->ntop = 1;
    if (tools)
        ds_tools_format(tools, v->tool, sizeof v->tool);

    double dur = (double)(s->end_ns - s->start_ns) / 1e9;
    double rate = (double)s->packets / (dur < 1 ? 1 : dur);   /* a burst within a second: per second */
    double share = m->monitored ? (double)s->addresses / (double)m->monitored : 0;
    /* Internet-wide only for targets that look uniformly random over the darknet (scan.h) */
    int estimate = m->monitored && !s->src.v6 && s->order == DS_SCAN_ORDER_RANDOM;
    double scale = estimate ? 4294967296.0 / (double)m->monitored : 0, lo = 0, hi = 0;
    double inet = rate * scale, cover = estimate ? (double)m->monitored / rate : 0;
    poisson95((double)s->packets, &lo, &hi);
    lo *= scale / (dur < 1 ? 1 : dur);
    hi *= scale / (dur < 1 ? 1 : dur);
    double rejected = 0;
    if (estimate && lo > MAX_INET_PPS) {   /* faster than any sender: not Internet-wide (the top) */
        rejected = inet;
        estimate = 0;
    }
    double every = g->sweeps > 1 ? median_interval(g) : 0;
    char svc[32], tl[64] = "";
    ds_service_format(s->service, svc, sizeof svc);
    const char *one = g->sweeps > 1 ? "largest sweep" : NULL;
    ds_event_evidence_add(v, "addresses", s->addresses, s->estimated ? "estimated (HyperLogLog, 6.5%)" : "exact");
    ds_event_evidence_add(v, "monitored_addresses", (double)m->monitored, NULL);
    ds_event_evidence_add(v, "share_of_monitored", share, one);
    ds_event_evidence_add(v, "packets", (double)g->packets, NULL);
    ds_event_evidence_add(v, "duration_s", dur, one);
    ds_event_evidence_add(v, "rate_pps", rate, one);
    ds_event_evidence_add(v, "sweeps", (double)g->sweeps, NULL);
    if (g->sweeps > 1)
        ds_event_evidence_add(v, "sweep_interval_median_s", every, NULL);
    ds_event_evidence_add(v, "target_order", s->order, order_text(s->order));
    if (estimate) {
        ds_event_evidence_add(v, "internet_rate_pps", inet, "targets uniformly random");
        ds_event_evidence_add(v, "internet_rate_pps_low", lo, "95% interval, Poisson");
        ds_event_evidence_add(v, "internet_rate_pps_high", hi, "95% interval, Poisson");
        ds_event_evidence_add(v, "ipv4_cover_s", cover, "at internet_rate_pps");
    } else if (rejected > 0) {
        ds_event_evidence_add(v, "internet_rate_rejected", rejected, "pps; above 100 GbE line rate, so not Internet-wide");
    }
    ds_event_evidence_add(v, "pieces", (double)g->pieces, NULL);
    if (tools)
        ds_event_evidence_add(v, "tool", tools, ds_tools_format(tools, tl, sizeof tl));
    ds_event_evidence_add(v, "threshold_addresses", s->min_addresses, NULL);
    ds_event_evidence_add(v, "timeout_s", s->timeout_s, NULL);

    const char *org = geo && gi.asn ? ds_geo_asn_org(geo, gi.asn) : NULL;
    char a[32], mon[32], pk[32], t0[32], t1[32], j0[48], d_en[32], d_ja[32], r_en[32], i_en[32], i_ja[32], lo_en[32],
        lo_ja[32], hi_en[32], hi_ja[32], c_en[32], c_ja[32], lab[32], nsw[32], ev_en[32], ev_ja[32];
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
    ds_fmt_count(g->sweeps, nsw, sizeof nsw);
    fmt_dur(dur, 0, d_en, sizeof d_en);
    fmt_dur(dur, 1, d_ja, sizeof d_ja);
    fmt_dur(every, 0, ev_en, sizeof ev_en);
    fmt_dur(every, 1, ev_ja, sizeof ev_ja);
    fmt_rate(rate, r_en, sizeof r_en);
    fmt_si(inet, i_en, sizeof i_en);
    fmt_ja(inet, i_ja, sizeof i_ja);
    fmt_si(lo, lo_en, sizeof lo_en);
    fmt_ja(lo, lo_ja, sizeof lo_ja);
    fmt_si(hi, hi_en, sizeof hi_en);
    fmt_ja(hi, hi_ja, sizeof hi_ja);
    fmt_dur(cover, 0, c_en, sizeof c_en);
    fmt_dur(cover, 1, c_ja, sizeof c_ja);
    char inet_en[400] = "", inet_ja[600] = "", tool_en[80] = "", tool_ja[80] = "", rep_en[320] = "", rep_ja[400] = "",
         src_en[200], src_ja[200];
    if (estimate) {
        snprintf(inet_en, sizeof inet_en, " Its targets look uniformly random, so it probed about %s addresses a second "
                 "Internet-wide (95%% interval %s to %s), all of IPv4 in about %s.", i_en, lo_en, hi_en, c_en);
        snprintf(inet_ja, sizeof inet_ja, "宛先は一様ランダムに選ばれているとみられ、インターネット全体では毎秒約%sアドレス"
                 "（95%%信頼区間%s～%s）、IPv4全体を約%sで走査する速度と推定されます。", i_ja, lo_ja, hi_ja, c_ja);
    } else if (s->order == DS_SCAN_ORDER_NOT_RANDOM) {
        snprintf(inet_en, sizeof inet_en, " Its targets were not in a uniformly random order, so no Internet-wide rate "
                 "is inferred.");
        snprintf(inet_ja, sizeof inet_ja, "宛先の順序が一様ランダムではないため、インターネット全体の走査速度は推定していません。");
    }
    if (tools) {
        snprintf(tool_en, sizeof tool_en, " Tool: %s.", tl);
        snprintf(tool_ja, sizeof tool_ja, "ツール: %s。", tl);
    }
    snprintf(src_en, sizeof src_en, "%s (%s, AS%u%s%s)", v->top[0].addr, gi.cc, (unsigned)gi.asn, org ? " " : "",
             org ? org : "");
    snprintf(src_ja, sizeof src_ja, "%s（%s、AS%u%s%s）", v->top[0].addr, gi.cc, (unsigned)gi.asn, org ? " " : "",
             org ? org : "");
    if (g->sweeps > 1) {
        char f_en[16], l_en[16], f_ja[DS_FMT_DAY_LEN], l_ja[DS_FMT_DAY_LEN], tp[32];
        int32_t d0 = ds_day_of((int64_t)(g->start_ns / 1000000000ULL)), d1 = ds_day_of((int64_t)(g->end_ns / 1000000000ULL));
        ds_fmt_day_iso(d0, f_en, sizeof f_en);
        ds_fmt_day_iso(d1, l_en, sizeof l_en);
        ds_fmt_day(d0, 1, f_ja, sizeof f_ja);
        ds_fmt_day(d1, 1, l_ja, sizeof l_ja);
        ds_fmt_count(g->packets, tp, sizeof tp);
        snprintf(rep_en, sizeof rep_en, "%s sweeps from %s to %s, one every %s (median), %s packets in all; the largest: ",
                 nsw, f_en, l_en, ev_en, tp);
        snprintf(rep_ja, sizeof rep_ja, "%sから%sまでに%s回（中央値で%sおき、計%sパケット）観測しました。最大の回では、",
                 f_ja, l_ja, nsw, ev_ja, tp);
        ds_fmt_text(v->summary_en, sizeof v->summary_en,
                    "Repeated scans of %s from %s: %s%s of %s monitored addresses (%.1f%%%s), %s packet%s in %s from %s "
                    "to %s UTC (%s packets a second).%s%s",
                    svc, src_en, rep_en, a, mon, 100 * share, s->estimated ? ", estimated" : "", pk,
                    s->packets == 1 ? "" : "s", d_en, t0, t1, r_en, inet_en, tool_en);
    } else {
        ds_fmt_text(v->summary_en, sizeof v->summary_en,
                    "Scan of %s from %s: %s of %s monitored addresses (%.1f%%%s), %s packet%s in %s from %s to %s UTC "
                    "(%s packets a second).%s%s",
                    svc, src_en, a, mon, 100 * share, s->estimated ? ", estimated" : "", pk, s->packets == 1 ? "" : "s",
                    d_en, t0, t1, r_en, inet_en, tool_en);
    }
    ds_fmt_text(v->summary_ja, sizeof v->summary_ja,
                "%sから%sへの%sスキャンを観測しました。%s%s（UTC）から約%sの間に、監視対象%sアドレスのうち"
                "%sアドレス（%.1f%%%s）へ%sパケット（毎秒%sパケット）が届きました。%s%s",
                src_ja, ds_service_label(s->service, lab, sizeof lab), g->sweeps > 1 ? "繰り返しの" : "", rep_ja, j0,
                d_ja, mon, a, 100 * share, s->estimated ? "、推定値" : "", pk, r_en, inet_ja, tool_ja);
}

/* Add merged scan m to g (same source and service, later start). */
static int group_add(group *g, const merged *m)
{
    if (g->sweeps == g->cap) {
        uint64_t *n = ds_grow(g->starts, &g->cap, sizeof *n, 16);
        if (!n)
            return -1;
        g->starts = n;
    }
    g->starts[g->sweeps++] = m->s.start_ns;
    if (g->sweeps == 1 || m->s.start_ns < g->start_ns)
        g->start_ns = m->s.start_ns;
    if (m->s.end_ns > g->end_ns)
        g->end_ns = m->s.end_ns;
    g->packets += m->s.packets;
    g->pieces += m->pieces;
    if (g->sweeps == 1 || m->s.addresses > g->best.s.addresses ||
        (m->s.addresses == g->best.s.addresses && m->s.packets > g->best.s.packets))
        g->best = *m;
    return 0;
}

/* The merged order: not random when any piece's was not, random when a tested piece's was. */
static int order_merge(int a, int b)
{
    if (a == DS_SCAN_ORDER_NOT_RANDOM || b == DS_SCAN_ORDER_NOT_RANDOM)
        return DS_SCAN_ORDER_NOT_RANDOM;
    return a == DS_SCAN_ORDER_RANDOM || b == DS_SCAN_ORDER_RANDOM ? DS_SCAN_ORDER_RANDOM : DS_SCAN_ORDER_UNTESTED;
}

/* The event of group g (then emptied), its tools from the SOURCES days [day0, day1]. */
static ds_rc group_emit(group *g, const tool_list *tl, int32_t day0, int32_t day1, const ds_geo *geo, ds_events *out,
                        ds_err *err)
{
    if (!g->sweeps)
        return DS_OK;
    ds_event *v = ds_events_add(out, err);
    if (!v)
        return DS_ENOMEM;
    event_of(v, g, tools_of(tl, ds_src_key(&g->best.s.src), day0, day1), geo);
    uint64_t *keep = g->starts;
    size_t cap = g->cap;
    memset(g, 0, sizeof *g);
    g->starts = keep;
    g->cap = cap;
    return DS_OK;
}

ds_rc ds_detect_scans(ds_store *st, const ds_geo *geo, const ds_event_query *q, ds_events *out, ds_err *err)
{
    piece_list l = { 0 };
    tool_list tl = { 0 };
    group g = { 0 };
    int32_t gday0 = 0, gday1 = 0;   /* the group's SOURCES days */
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
            m.s.order = order_merge(m.s.order, x->order);
            m.pieces++;
            merged_add_sensor(&m, &l.p[j]);
        }
        i = j;
        if (m.monitored && m.s.addresses > m.monitored && !m.s.src.v6)
            m.s.addresses = (uint32_t)(m.monitored > UINT32_MAX ? UINT32_MAX : m.monitored);
        if (m.s.addresses > m.s.packets)   /* each packet reaches one address */
            m.s.addresses = (uint32_t)m.s.packets;
        int32_t d0 = ds_day_of((int64_t)(m.s.start_ns / 1000000000ULL));
        int32_t d1 = ds_day_of((int64_t)(m.s.end_ns / 1000000000ULL));
        if (d1 < q->from || d0 > q->to)
            continue;
        uint64_t key = ds_src_key(&m.s.src);
        if (q->exclude && ds_u64set_has(q->exclude, key))
            continue;
        /* a scanner's sweeps of one service are one event (pieces come sorted by source, service) */
        if (g.sweeps && (!ds_ip_eq(&g.best.s.src, &m.s.src) || g.best.s.service != m.s.service) &&
            (rc = group_emit(&g, &tl, gday0, gday1, geo, out, err)) != DS_OK)
            goto out;
        if (!g.sweeps)
            gday0 = chunk_day;
        /* SOURCES days are the store's local days: from the first piece's to a day past the end */
        gday1 = d1 + 1;
        if (group_add(&g, &m) != 0) {
            rc = ds_fail(err, DS_ENOMEM, "out of memory grouping scans");
            goto out;
        }
    }
    rc = group_emit(&g, &tl, gday0, gday1, geo, out, err);
out:
    free(l.p);
    free(tl.t);
    free(g.starts);
    ds_u64set_free(&tl.scanners);
    return rc;
}
