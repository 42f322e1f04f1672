/* detect_vertical.c: the `vertical_scan` events (issue #20): one source probing many ports of a
 * few dark addresses, what `nmap` does by default (1,000 ports of each target).  The scan flows of
 * core/scan.h are per (source, service) and need 25 addresses, so such a scan made no event.
 *
 * The taxonomy is Yegneswaran, Barford and Ullrich, "Internet Intrusions: Global Characteristics
 * and Prevalence" (SIGMETRICS 2003): a vertical scan probes many ports of one host, a horizontal
 * one a port across many hosts.  Thresholds (docs/detection.md, `vertical_scan`): a source-day
 * with at least MIN_PORTS distinct TCP/UDP destination ports in scan-class packets (nmap -F probes
 * 100 ports; Durumeric et al. 2014 take 100 as their horizontal threshold) on at most MAX_ADDRS
 * dark addresses.  A source's qualifying days in the period are one event.
 *
 * Reading: one pass over SOURCES sums each source's per-chunk service counts per day (an upper
 * bound of its distinct services: a source has a record per chunk), which leaves a few candidate
 * source-days; one pass over SRCSVC counts their exact distinct ports; then, for the days of the
 * candidates that pass, SOURCES and DSTMAP of that day alone give the address, country, ASN, first
 * and last packet, tools and the dark addresses reached (dst1 or the DSTMAP union, records.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "analysis/events_int.h"
#include "core/detin.h"
#include "core/fingerprint.h"
#include "core/hash.h"
#include "core/records.h"
#include "core/svclog.h"
#include "util/textfmt.h"
#include "util/timeutil.h"
#include "util/grow.h"

#define MIN_PORTS 100
#define MAX_ADDRS 4
#define MAX_SENS 8
#define TOP_PORTS 5

typedef struct cand {
    uint64_t src;
    int32_t day;
    uint32_t ports;
    uint64_t packets;               /* scan-class TCP/UDP packets, from SRCSVC */
    int ok;                         /* ports >= MIN_PORTS (then, and addresses <= MAX_ADDRS) */
    ds_ip ip;
    uint32_t asn;
    uint64_t first_ns, last_ns;
    uint8_t tools;
    size_t nsens;                   /* sensors reached; MAX_SENS + 1: more */
    int64_t sensor[MAX_SENS];
    uint8_t map[MAX_SENS][DS_DSTMAP_BYTES];
} cand;

typedef struct cand_list { cand *c; size_t n, cap; ds_u64set keys; } cand_list;

typedef struct port_ent { uint64_t src; size_t ci; uint32_t service, packets; } port_ent;
typedef struct port_list { port_ent *p; size_t n, cap; } port_list;

/* ---- pass 1: SOURCES, services summed per (source, day) ----
 * A source has a SOURCES record per (file, sensor) of the day, so its services are summed over
 * them: each scan-class record is appended to a log as (source key, services) and the day's log
 * is sorted and folded when the day ends (core/svclog.h: the reduction ingest uses for its own
 * counts), instead of a hash table the size of the day's sources that every record missed the
 * cache in (a day of the source-heavy month has 300,000 sources; bench/README.md). */
typedef struct pre_ctx {
    const ds_event_query *q;
    int32_t day;
    ds_svclog log;
    cand_list *out;
} pre_ctx;

/* The day's sources whose services sum to at least min, as candidates. */
static int pre_flush_min(pre_ctx *c, uint64_t min)
{
    if (ds_svclog_reduce(&c->log) != 0)
        return -1;
    for (size_t i = 0; i < c->log.n; i++)
        if (c->log.v[i].packets >= min) {
            if (c->out->n == c->out->cap) {
                cand *n = ds_grow(c->out->c, &c->out->cap, sizeof *n, 64);
                if (!n)
                    return -1;
                c->out->c = n;
            }
            memset(&c->out->c[c->out->n], 0, sizeof(cand));
            c->out->c[c->out->n].src = c->log.v[i].key;
            c->out->c[c->out->n++].day = c->day;
        }
    ds_svclog_clear(&c->log);
    return 0;
}

static int pre_flush(pre_ctx *c) { return pre_flush_min(c, MIN_PORTS); }

/* ---- pass 1 from DETECT (core/detin.h) ----
 * A DETECT chunk lists the sources whose scan-class services in its SOURCES chunk sum to at least
 * DS_DETIN_VERT_MIN, and the largest sum it leaves out (vert_omit).  A source's sum over the day
 * is then at most its listed sums plus the day's vert_omit summed over its chunks, so every
 * source that can reach MIN_PORTS is a candidate when that bound is used as the threshold (the
 * exact port count, pass 2, decides).  A day whose bound alone reaches MIN_PORTS (many files a
 * day, each a little short) is read from SOURCES as before. */
typedef struct vert_ctx {
    pre_ctx *pc;
    uint64_t omit;           /* the current day's vert_omit, summed over its chunks */
    int32_t *raw;            /* days to read from SOURCES */
    size_t nraw, capraw;
} vert_ctx;

static int vert_flush(vert_ctx *c)
{
    if (c->omit < MIN_PORTS)
        return pre_flush_min(c->pc, MIN_PORTS - c->omit);
    ds_svclog_clear(&c->pc->log);
    if (c->nraw == c->capraw) {
        int32_t *n = ds_grow(c->raw, &c->capraw, sizeof *n, 16);
        if (!n)
            return -1;
        c->raw = n;
    }
    c->raw[c->nraw++] = c->pc->day;
    return 0;
}

static ds_rc on_vert(void *ctx, int64_t sensor_id, int32_t day, const uint8_t *data, size_t nrec, ds_err *err)
{
    (void)sensor_id;
    vert_ctx *c = ctx;
    ds_detin_view v;
    ds_rc rc = ds_detin_open(data, nrec, &v, err);
    if (rc != DS_OK)
        return rc;
    if (day != c->pc->day) {   /* chunks come in day order */
        if (c->pc->day >= c->pc->q->from && vert_flush(c) != 0)
            return ds_fail(err, DS_ENOMEM, "out of memory looking for vertical scans");
        c->pc->day = day;
        c->omit = 0;
    }
    c->omit += v.vert_omit;
    ds_svclog *l = &c->pc->log;
    for (uint32_t i = 0; i < v.nvert; i++) {
        if (l->n == l->cap && ds_svclog_spill(l) != 0)
            return ds_fail(err, DS_ENOMEM, "out of memory looking for vertical scans");
        l->v[l->n++] = (ds_svc_item){ .key = ds_detin_vert_src(&v, i), .packets = ds_detin_vert_services(&v, i) };
    }
    return DS_OK;
}

static ds_rc on_pre(void *ctx, int64_t sensor_id, int32_t day, const uint8_t *data, size_t nrec, ds_err *err);

/* Pass 1 from DETECT, then SOURCES for the days it cannot bound. */
static ds_rc pre_detin(ds_store *st, const ds_event_query *q, pre_ctx *pc, ds_err *err)
{
    vert_ctx vc = { .pc = pc };
    ds_rc rc = ds_store_scan(st, DS_CHUNK_DETECT, q->sensor_id, q->from, q->to, on_vert, &vc, err);
    if (rc == DS_OK && pc->day >= q->from && vert_flush(&vc) != 0)
        rc = ds_fail(err, DS_ENOMEM, "out of memory looking for vertical scans");
    for (size_t i = 0; i < vc.nraw && rc == DS_OK; i++) {
        pc->day = vc.raw[i] - 1;
        if ((rc = ds_store_scan(st, DS_CHUNK_SOURCES, q->sensor_id, vc.raw[i], vc.raw[i], on_pre, pc, err)) == DS_OK &&
            pre_flush(pc) != 0)
            rc = ds_fail(err, DS_ENOMEM, "out of memory looking for vertical scans");
    }
    free(vc.raw);
    return rc;
}

static ds_rc on_pre(void *ctx, int64_t sensor_id, int32_t day, const uint8_t *data, size_t nrec, ds_err *err)
{
    (void)sensor_id;
    pre_ctx *c = ctx;
    if (day != c->day) {   /* chunks come in day order */
        if (pre_flush(c) != 0)
            return ds_fail(err, DS_ENOMEM, "out of memory looking for vertical scans");
        c->day = day;
    }
    ds_svclog *l = &c->log;
    for (size_t i = 0; i < nrec; i++) {
        const uint8_t *p = data + i * DS_REC_SOURCES;
        if (!(p[19] & (1u << DS_CLASS_SCAN)))   /* class_mask (records.h) */
            continue;
        uint64_t key = ds_rec_source_key(p);
        if (c->q->exclude && ds_u64set_has(c->q->exclude, key))
            continue;
        uint32_t services = (uint32_t)p[48] | (uint32_t)p[49] << 8 | (uint32_t)p[50] << 16 | (uint32_t)p[51] << 24;
        if (l->n == l->cap && ds_svclog_spill(l) != 0)
            return ds_fail(err, DS_ENOMEM, "out of memory looking for vertical scans");
        l->v[l->n++] = (ds_svc_item){ .key = key, .packets = services };   /* services <= 2^32 - 1 < 2^46 */
    }
    return DS_OK;
}

static int cand_cmp(const void *x, const void *y)
{
    const cand *a = x, *b = y;
    if (a->src != b->src)
        return a->src < b->src ? -1 : 1;
    return (a->day > b->day) - (a->day < b->day);
}

static int day_cmp(const void *x, const void *y)
{
    int32_t a = *(const int32_t *)x, b = *(const int32_t *)y;
    return (a > b) - (a < b);
}

static cand *cand_find(const cand_list *l, uint64_t src, int32_t day)
{
    if (!ds_u64set_has(&l->keys, src))
        return NULL;
    cand k = { .src = src, .day = day };
    return bsearch(&k, l->c, l->n, sizeof *l->c, cand_cmp);
}

/* ---- pass 2: SRCSVC, the candidates' ports ---- */
typedef struct svc_ctx { cand_list *cl; port_list *pl; } svc_ctx;

static ds_rc on_svc(void *ctx, int64_t sensor_id, int32_t day, const uint8_t *data, size_t nrec, ds_err *err)
{
    (void)sensor_id;
    svc_ctx *c = ctx;
    for (size_t i = 0; i < nrec; i++) {
        ds_rec_srcsvc r;
        ds_rec_srcsvc_get(data + i * DS_REC_SRCSVC, &r);
        uint8_t proto = DS_SERVICE_PROTO(r.service);
        if (r.cls != DS_CLASS_SCAN || (proto != 6 && proto != 17))
            continue;
        cand *k = cand_find(c->cl, r.src, day);
        if (!k)
            continue;
        if (c->pl->n == c->pl->cap) {
            port_ent *n = ds_grow(c->pl->p, &c->pl->cap, sizeof *n, 1024);
            if (!n)
                return ds_fail(err, DS_ENOMEM, "out of memory looking for vertical scans");
            c->pl->p = n;
        }
        c->pl->p[c->pl->n++] = (port_ent){ r.src, (size_t)(k - c->cl->c), r.service, r.packets };
    }
    return DS_OK;
}

static int port_by_cand(const void *x, const void *y)
{
    const port_ent *a = x, *b = y;
    if (a->ci != b->ci)
        return a->ci < b->ci ? -1 : 1;
    return (a->service > b->service) - (a->service < b->service);
}

static int port_by_src(const void *x, const void *y)
{
    const port_ent *a = x, *b = y;
    if (a->src != b->src)
        return a->src < b->src ? -1 : 1;
    return (a->service > b->service) - (a->service < b->service);
}

static int port_by_packets(const void *x, const void *y)
{
    const port_ent *a = x, *b = y;
    if (a->packets != b->packets)
        return a->packets > b->packets ? -1 : 1;
    return (a->service > b->service) - (a->service < b->service);
}

/* ---- pass 3: SOURCES and DSTMAP of a candidate's day ---- */
static uint8_t *sens_map(cand *k, int64_t sensor_id)
{
    for (size_t s = 0; s < k->nsens && s < MAX_SENS; s++)
        if (k->sensor[s] == sensor_id)
            return k->map[s];
    if (k->nsens >= MAX_SENS) {
        k->nsens = MAX_SENS + 1;
        return NULL;
    }
    k->sensor[k->nsens] = sensor_id;
    return k->map[k->nsens++];
}

static ds_rc on_detail(void *ctx, int64_t sensor_id, int32_t day, const uint8_t *data, size_t nrec, ds_err *err)
{
    (void)err;
    cand_list *cl = ctx;
    for (size_t i = 0; i < nrec; i++) {
        const uint8_t *p = data + i * DS_REC_SOURCES;
        cand *k = cand_find(cl, ds_rec_source_key(p), day);
        if (!k || !k->ok)
            continue;
        ds_rec_source r;
        ds_rec_source_get(p, &r);
        k->ip = r.ip;
        k->asn = r.asn;
        if (!k->first_ns || r.first_ns < k->first_ns)
            k->first_ns = r.first_ns;
        if (r.last_ns > k->last_ns)
            k->last_ns = r.last_ns;
        k->tools |= r.tools;
        uint8_t *m = sens_map(k, sensor_id);
        if (m && r.dst1 && r.dst1 <= DS_DSTMAP_BYTES * 8)
            m[(r.dst1 - 1) / 8] |= (uint8_t)(1u << ((r.dst1 - 1) % 8));
    }
    return DS_OK;
}

static ds_rc on_dstmap(void *ctx, int64_t sensor_id, int32_t day, const uint8_t *data, size_t nrec, ds_err *err)
{
    (void)err;
    cand_list *cl = ctx;
    for (size_t i = 0; i < nrec; i++) {
        ds_rec_dstmap r;
        ds_rec_dstmap_get(data + i * DS_REC_DSTMAP, &r);
        cand *k = cand_find(cl, r.src, day);
        uint8_t *m = k && k->ok ? sens_map(k, sensor_id) : NULL;
        for (size_t b = 0; m && b < DS_DSTMAP_BYTES; b++)
            m[b] |= r.bits[b];
    }
    return DS_OK;
}

/* Sensors whose map indexes their addresses (at most 512 IPv4 addresses: core/agg.c). */
typedef struct sens_exact { int64_t id[64]; size_t n; } sens_exact;

static int is_exact(const sens_exact *se, int64_t id)
{
    for (size_t i = 0; i < se->n; i++)
        if (se->id[i] == id)
            return 1;
    return 0;
}

/* Dark addresses of maps[0..n) (one per sensor) */
static double addresses_of(const sens_exact *se, const int64_t *sensor, uint8_t (*maps)[DS_DSTMAP_BYTES], size_t n)
{
    double a = 0;
    for (size_t s = 0; s < n; s++)
        a += ds_dstmap_count(maps[s], is_exact(se, sensor[s]));
    return a;
}

/* ---- the event of one source: its qualifying days cl->c[c0..c1) and their ports p[0..np) ---- */
static void event_of(ds_event *v, const cand *c, size_t nc, port_ent *p, size_t np, const sens_exact *se,
                     const ds_geo *geo)
{
    int64_t sensor[MAX_SENS];
    uint8_t maps[MAX_SENS][DS_DSTMAP_BYTES];
    size_t ns = 0;
    uint64_t first = 0, last = 0, packets = 0;
    unsigned tools = 0;
    memset(maps, 0, sizeof maps);
    for (size_t i = 0; i < nc; i++) {
        for (size_t s = 0; s < c[i].nsens && s < MAX_SENS; s++) {
            size_t t = 0;
            while (t < ns && sensor[t] != c[i].sensor[s])
                t++;
            if (t == ns && ns == MAX_SENS)
                continue;
            if (t == ns)
                sensor[ns++] = c[i].sensor[s];
            for (size_t b = 0; b < DS_DSTMAP_BYTES; b++)
                maps[t][b] |= c[i].map[s][b];
        }
        if (!first || (c[i].first_ns && c[i].first_ns < first))
            first = c[i].first_ns;
        if (c[i].last_ns > last)
            last = c[i].last_ns;
        tools |= c[i].tools;
        packets += c[i].packets;
    }
    double addrs = addresses_of(se, sensor, maps, ns);
    qsort(p, np, sizeof *p, port_by_packets);

    ds_geo_info gi;
    ds_geo_lookup(geo, &c[0].ip, &gi);
    snprintf(v->type, sizeof v->type, "vertical_scan");
    v->start_ns = first;
    v->end_ns = last;
    memcpy(v->country, gi.cc, 3);
    v->sources = 1;
    v->packets = packets;
    ds_ip_format(&c[0].ip, v->top[0].addr, sizeof v->top[0].addr);
    memcpy(v->top[0].cc, gi.cc, 3);
    v->top[0].asn = gi.asn;
    v->top[0].packets = packets;
    v->ntop = 1;
    char tl[64] = "", d0[16], d1[16], days[64];
    if (tools)
        ds_tools_format(tools, v->tool, sizeof v->tool);
    ds_fmt_day_iso(c[0].day, d0, sizeof d0);
    ds_fmt_day_iso(c[nc - 1].day, d1, sizeof d1);
    if (nc == 1)
        snprintf(days, sizeof days, "%s", d0);
    else
        snprintf(days, sizeof days, "%s to %s", d0, d1);

    static const char *const top_name[TOP_PORTS] = { "top_port_1", "top_port_2", "top_port_3", "top_port_4",
                                                     "top_port_5" };
    char svc[TOP_PORTS][DS_SERVICE_STRLEN];
    size_t ntop = np < TOP_PORTS ? np : TOP_PORTS;
    ds_event_evidence_add(v, "ports", (double)np, "distinct TCP and UDP destination ports");
    ds_event_evidence_add(v, "addresses", addrs, "dark addresses probed");
    ds_event_evidence_add(v, "packets", (double)packets, "to TCP and UDP ports");
    ds_event_evidence_add(v, "days", (double)nc, days);
    for (size_t i = 0; i < ntop; i++) {
        ds_service_format(p[i].service, svc[i], sizeof svc[i]);
        ds_event_evidence_add(v, top_name[i], p[i].packets, svc[i]);
    }
    if (np)
        ds_event_evidence_add(v, "fewest_port_packets", p[np - 1].packets, NULL);
    if (tools)
        ds_event_evidence_add(v, "tool", tools, ds_tools_format(tools, tl, sizeof tl));
    ds_event_evidence_add(v, "threshold_ports", MIN_PORTS, "in a day");
    ds_event_evidence_add(v, "threshold_addresses", MAX_ADDRS, "at most, in a day");
}

ds_rc ds_detect_vertical(ds_store *st, const ds_geo *geo, const ds_event_query *q, ds_events *out, ds_err *err)
{
    cand_list cl = { 0 };
    port_list pl = { 0 };
    pre_ctx pc = { .q = q, .day = q->from - 1, .out = &cl };
    ds_sensor_info *si = NULL;
    size_t nsi = 0;
    sens_exact se = { .n = 0 };
    if (ds_svclog_init(&pc.log, (size_t)1 << 16) != 0)
        return ds_fail(err, DS_ENOMEM, "out of memory looking for vertical scans");
    ds_rc rc;
    if (q->detin) {
        rc = pre_detin(st, q, &pc, err);
    } else {
        rc = ds_store_scan(st, DS_CHUNK_SOURCES, q->sensor_id, q->from, q->to, on_pre, &pc, err);
        if (rc == DS_OK && pre_flush(&pc) != 0)
            rc = ds_fail(err, DS_ENOMEM, "out of memory looking for vertical scans");
    }
    if (rc != DS_OK || !cl.n)
        goto out;
    qsort(cl.c, cl.n, sizeof *cl.c, cand_cmp);
    if (ds_u64set_init(&cl.keys, 64) != 0) {
        rc = ds_fail(err, DS_ENOMEM, "out of memory looking for vertical scans");
        goto out;
    }
    for (size_t i = 0; i < cl.n; i++)
        if (ds_u64set_add(&cl.keys, cl.c[i].src) < 0) {
            rc = ds_fail(err, DS_ENOMEM, "out of memory looking for vertical scans");
            goto out;
        }
    svc_ctx sc = { &cl, &pl };
    if (!q->detin) {
        if ((rc = ds_store_scan(st, DS_CHUNK_SRCSVC, q->sensor_id, q->from, q->to, on_svc, &sc, err)) != DS_OK)
            goto out;
    } else {
        /* the candidates' days only, each run of consecutive days in one scan */
        int32_t *days = malloc(cl.n * sizeof *days);
        if (!days) {
            rc = ds_fail(err, DS_ENOMEM, "out of memory looking for vertical scans");
            goto out;
        }
        for (size_t i = 0; i < cl.n; i++)
            days[i] = cl.c[i].day;
        qsort(days, cl.n, sizeof *days, day_cmp);
        for (size_t i = 0, j; i < cl.n && rc == DS_OK; i = j) {
            for (j = i + 1; j < cl.n && days[j] - days[j - 1] <= 1; j++)
                ;
            rc = ds_store_scan(st, DS_CHUNK_SRCSVC, q->sensor_id, days[i], days[j - 1], on_svc, &sc, err);
        }
        free(days);
        if (rc != DS_OK)
            goto out;
    }
    /* distinct ports per candidate source-day (a source has a record per chunk) */
    qsort(pl.p, pl.n, sizeof *pl.p, port_by_cand);
    for (size_t i = 0; i < pl.n; i++) {
        cand *k = &cl.c[pl.p[i].ci];
        k->packets += pl.p[i].packets;
        if (!i || pl.p[i - 1].ci != pl.p[i].ci || pl.p[i - 1].service != pl.p[i].service)
            k->ports++;
    }
    for (size_t i = 0; i < cl.n; i++)
        cl.c[i].ok = cl.c[i].ports >= MIN_PORTS;
    for (size_t i = 0; i < cl.n; i++) {
        /* the day's SOURCES and DSTMAP, once per day that has a candidate */
        int seen = 0;
        for (size_t j = 0; j < i && !seen; j++)
            seen = cl.c[j].ok && cl.c[j].day == cl.c[i].day;
        if (!cl.c[i].ok || seen)
            continue;
        if ((rc = ds_store_scan(st, DS_CHUNK_SOURCES, q->sensor_id, cl.c[i].day, cl.c[i].day, on_detail, &cl, err)) !=
                DS_OK ||
            (rc = ds_store_scan(st, DS_CHUNK_DSTMAP, q->sensor_id, cl.c[i].day, cl.c[i].day, on_dstmap, &cl, err)) !=
                DS_OK)
            goto out;
    }
    if ((rc = ds_store_sensors(st, &si, &nsi, err)) != DS_OK)
        goto out;
    for (size_t i = 0; i < nsi && se.n < 64; i++)
        if (si[i].v4_addresses && si[i].v4_addresses <= DS_DSTMAP_BYTES * 8 && si[i].darknet[0] &&
            !strchr(si[i].darknet, ':'))
            se.id[se.n++] = si[i].id;
    for (size_t i = 0; i < cl.n; i++)
        if (cl.c[i].ok)
            cl.c[i].ok = cl.c[i].nsens && cl.c[i].nsens <= MAX_SENS &&
                         addresses_of(&se, cl.c[i].sensor, cl.c[i].map, cl.c[i].nsens) <= MAX_ADDRS;
    /* the qualifying days' ports, per source (ports of days that did not qualify are left out) */
    size_t n = 0;
    for (size_t i = 0; i < pl.n; i++)
        if (cl.c[pl.p[i].ci].ok)
            pl.p[n++] = pl.p[i];
    qsort(pl.p, n, sizeof *pl.p, port_by_src);
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {   /* one entry per (source, port), packets summed */
        if (m && pl.p[m - 1].src == pl.p[i].src && pl.p[m - 1].service == pl.p[i].service) {
            uint64_t s = (uint64_t)pl.p[m - 1].packets + pl.p[i].packets;
            pl.p[m - 1].packets = s > UINT32_MAX ? UINT32_MAX : (uint32_t)s;
        } else {
            pl.p[m++] = pl.p[i];
        }
    }
    /* one event per source: cl and pl are both in source order */
    size_t pi = 0;
    for (size_t i = 0; i < cl.n;) {
        size_t j = i;
        while (j < cl.n && cl.c[j].src == cl.c[i].src)
            j++;
        size_t a = i, b = i;   /* the qualifying days, compacted to the front of [i, j) */
        for (; b < j; b++)
            if (cl.c[b].ok)
                cl.c[a++] = cl.c[b];
        if (a > i) {
            while (pi < m && pl.p[pi].src < cl.c[i].src)
                pi++;
            size_t pj = pi;
            while (pj < m && pl.p[pj].src == cl.c[i].src)
                pj++;
            ds_event *v = ds_events_add(out, err);
            if (!v) {
                rc = DS_ENOMEM;
                goto out;
            }
            event_of(v, &cl.c[i], a - i, &pl.p[pi], pj - pi, &se, geo);
            pi = pj;
        }
        i = j;
    }
out:
    ds_svclog_free(&pc.log);
    free(cl.c);
    free(pl.p);
    free(si);
    ds_u64set_free(&cl.keys);
    return rc;
}
