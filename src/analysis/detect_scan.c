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
    ds_event_evidence_add(v, "sweep_packets", (double)s->packets, one);
    ds_event_evidence_add(v, "sweep_start", (double)(s->start_ns / 1000000000ULL), one);
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
    ds_rc rc = ds_store_scan(st, DS_CHUNK_SCANS, q->sensor_id, q->from - 1, q->to, on_scans, &l, err);
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
    if ((rc = ds_store_scan(st, DS_CHUNK_SOURCES, q->sensor_id, q->from - 1, q->to, on_sources, &tl, err)) != DS_OK)
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
