/* detect_flood.c: the `flood` and `reflection` events, from the FLOODS records core/flood.c writes
 * at ingest (docs/detection.md, "Floods at the darknet").  Records of one flood written by
 * different ingest threads (they partition packets by source) or files are merged by target,
 * class and time here.  detect_series.c asks ds_floods_load() for the same list, to fold the
 * per-country and per-service jumps a flood causes into it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "analysis/events_int.h"
#include "core/classify.h"
#include "core/flood.h"
#include "core/records.h"
#include "util/grow.h"
#include "util/textfmt.h"
#include "util/timeutil.h"

static ds_rc on_floods(void *ctx, int64_t sensor_id, int32_t day, const uint8_t *data, size_t nrec, ds_err *err)
{
    ds_flood_list *l = ctx;
    for (size_t i = 0; i < nrec; i++) {
        if (l->n == l->cap) {
            ds_flood_vec *n = ds_grow(l->v, &l->cap, sizeof *n, 16);
            if (!n)
                return ds_fail(err, DS_ENOMEM, "out of memory reading flood records");
            l->v = n;
        }
        ds_rec_flood_get(data + i * DS_REC_FLOOD, &l->v[l->n]);
        l->v[l->n].day = day;
        l->n++;
    }
    return DS_OK;
}

static int flood_cmp(const void *x, const void *y)
{
    const ds_flood_vec *a = x, *b = y;
    if (a->cls != b->cls)
        return a->cls < b->cls ? -1 : 1;
    int c = memcmp(a->target.b, b->target.b, 16);
    if (c)
        return c;
    if (a->start_ns != b->start_ns)
        return a->start_ns < b->start_ns ? -1 : 1;
    /* pieces of one start (threads, files): content decides whose port the merge keeps */
    if (a->packets != b->packets)
        return a->packets > b->packets ? -1 : 1;
    if (a->port_proto != b->port_proto)
        return a->port_proto < b->port_proto ? -1 : 1;
    if (a->port != b->port)
        return a->port < b->port ? -1 : 1;
    return (a->end_ns > b->end_ns) - (a->end_ns < b->end_ns);
}

ds_rc ds_floods_load(ds_store *st, const ds_event_query *q, ds_flood_list *l, ds_err *err)
{
    memset(l, 0, sizeof *l);
    ds_rc rc = ds_store_scan(st, DS_CHUNK_FLOODS, q->sensor_id, q->from - 1, q->to, on_floods, l, err);
    if (rc != DS_OK || !l->n)
        return rc;
    qsort(l->v, l->n, sizeof *l->v, flood_cmp);
    size_t w = 0;
    for (size_t i = 0; i < l->n; i++) {
        ds_flood_vec *m = w ? &l->v[w - 1] : NULL, *x = &l->v[i];
        if (m && m->cls == x->cls && ds_ip_eq(&m->target, &x->target) &&
            x->start_ns <= m->end_ns + DS_FLOOD_TIMEOUT_NS) {
            if (x->end_ns > m->end_ns)
                m->end_ns = x->end_ns;
            m->packets += x->packets;
            m->sources += x->sources;          /* threads' sources are disjoint */
            m->max_ppm += x->max_ppm;          /* an upper bound when pieces peak apart */
            if (x->port == m->port && x->port_proto == m->port_proto)
                m->port_packets += x->port_packets;
            for (int k = 0; k < 4; k++)
                m->kinds[k] += x->kinds[k];
            continue;
        }
        l->v[w++] = *x;
    }
    l->n = w;
    return DS_OK;
}

static const char *const REFL_KIND[4] = { "SYN-ACK", "RST", "ICMP", "UDP" };
/* a flood's packets by kind (core/flood.h): "other" is the class's (ACK, FIN, other flags and
 * protocols: an ACK flood is all "other") */
static const char *const FLOOD_KIND[4] = { "SYN", "UDP", "ICMP", "other" };

ds_rc ds_detect_floods(ds_store *st, const ds_geo *geo, const ds_event_query *q, ds_events *out, ds_err *err)
{
    ds_flood_list l;
    ds_rc rc = ds_floods_load(st, q, &l, err);
    for (size_t i = 0; i < l.n && rc == DS_OK; i++) {
        const ds_flood_vec *f = &l.v[i];
        int refl = f->cls == DS_CLASS_BACKSCATTER;
        if (ds_day_of((int64_t)(f->end_ns / 1000000000ULL)) < q->from || !ds_event_wanted(q, refl ? "reflection" : "flood"))
            continue;
        ds_event *v = ds_events_add(out, err);
        if (!v) {
            rc = DS_ENOMEM;
            break;
        }
        snprintf(v->type, sizeof v->type, "%s", refl ? "reflection" : "flood");
        v->start_ns = f->start_ns;
        v->end_ns = f->end_ns;
        v->sources = f->sources;
        v->packets = f->packets;
        int port_main = f->port_packets * 2 >= f->packets && (f->port_proto == DS_PROTO_TCP || f->port_proto == DS_PROTO_UDP);
        if (port_main) {
            v->has_service = 1;
            v->service = DS_SERVICE(f->port_proto, f->port);
        }
        ds_geo_info gi;
        ds_geo_lookup(geo, &f->target, &gi);
        ds_ip_format(&f->target, v->top[0].addr, sizeof v->top[0].addr);
        memcpy(v->top[0].cc, gi.cc, 3);
        v->top[0].asn = gi.asn;
        v->top[0].packets = f->packets;
        v->ntop = 1;
        double dur = (double)(f->end_ns - f->start_ns) / 1e9;
        double pps = (double)f->packets / (dur < 1 ? 1 : dur);
        ds_event_evidence_add(v, "target", 0, v->top[0].addr);
        ds_event_evidence_add(v, "packets", (double)f->packets, NULL);
        ds_event_evidence_add(v, refl ? "reflectors" : "sources", (double)f->sources, "estimated (HyperLogLog, 4.6%)");
        ds_event_evidence_add(v, "packets_per_source", f->sources ? (double)f->packets / f->sources : 0, NULL);
        ds_event_evidence_add(v, "duration_s", dur, NULL);
        ds_event_evidence_add(v, "peak_packets_per_60s", (double)f->max_ppm, NULL);
        ds_event_evidence_add(v, "rate_pps", pps, NULL);
        if (port_main)
            ds_event_evidence_add(v, "port_share", (double)f->port_packets / (double)f->packets, NULL);
        for (int k = 0; k < 4; k++)
            if (f->kinds[k])
                ds_event_evidence_add(v, "packets_of_kind", (double)f->kinds[k], refl ? REFL_KIND[k] : FLOOD_KIND[k]);
    }
    free(l.v);
    return rc;
}
