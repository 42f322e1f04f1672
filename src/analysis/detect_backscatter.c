/* detect_backscatter.c: the `backscatter` events: DoS attacks per victim, from the ATTACKS
 * records that core/dos.c writes at ingest (corsaro3's RS-DoS thresholds; docs/detection.md).
 * Records of one attack written by different threads or files, or cut at a day boundary, are
 * merged here by victim when they are less than the vector timeout apart.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "analysis/events_int.h"
#include "core/dos.h"
#include "core/records.h"
#include "util/textfmt.h"
#include "util/timeutil.h"
#include "util/grow.h"

/* ---- backscatter: the ATTACKS records, merged by victim ---------------------------------- */

typedef struct atk_list { ds_attack *a; size_t n, cap; } atk_list;

static ds_rc on_attacks(void *ctx, int64_t sensor_id, int32_t day, const uint8_t *data, size_t nrec, ds_err *err)
{
    atk_list *l = ctx;
    for (size_t i = 0; i < nrec; i++) {
        if (l->n == l->cap) {
            ds_attack *n = ds_grow(l->a, &l->cap, sizeof *n, 64);
            if (!n)
                return ds_fail(err, DS_ENOMEM, "out of memory reading attack records");
            l->a = n;
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
    if (a->start_ns != b->start_ns)
        return a->start_ns < b->start_ns ? -1 : 1;
    /* records of one start (two sensors, two files): content decides which one's port the merge
     * keeps, not the order the store returned them in */
    if (a->packets != b->packets)
        return a->packets > b->packets ? -1 : 1;
    if (a->port_proto != b->port_proto)
        return a->port_proto < b->port_proto ? -1 : 1;
    if (a->port != b->port)
        return a->port < b->port ? -1 : 1;
    return (a->end_ns > b->end_ns) - (a->end_ns < b->end_ns);
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

static const char *const EVIDENCE_OF_KIND[DS_ATK__COUNT] = {
    "syn_ack_packets", "rst_packets", "echo_reply_packets", "port_unreachable_udp_packets",
    "port_unreachable_tcp_packets", "other_icmp_packets",
};

ds_rc ds_detect_backscatter(ds_store *st, const ds_geo *geo, const ds_event_query *q, ds_events *out, ds_err *err)
{
    atk_list l = { 0 };
    /* an attack that started the day before the period and reaches into it still shows */
    ds_rc rc = ds_store_scan(st, DS_CHUNK_ATTACKS, q->sensor_id, q->from - 1, q->to, on_attacks, &l, err);
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
            m->responses += l.a[i].responses;
            continue;
        }
        l.a[w++] = l.a[i];
    }
    for (size_t i = 0; i < w; i++) {
        const ds_attack *a = &l.a[i];
        int32_t d1 = ds_day_of((int64_t)(a->end_ns / 1000000000ULL));
        if (d1 < q->from)   /* ended before the period */
            continue;
        ds_event *v = ds_events_add(out, err);
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
        ds_event_evidence_add(v, "packets", (double)a->packets, NULL);
        ds_event_evidence_add(v, "duration_s", (double)(a->end_ns - a->start_ns) / 1e9, NULL);
        ds_event_evidence_add(v, "peak_packets_per_60s", (double)a->max_ppm, NULL);
        for (int kk = 0; kk < DS_ATK__COUNT; kk++)
            if (a->kind_packets[kk])
                ds_event_evidence_add(v, EVIDENCE_OF_KIND[kk], (double)a->kind_packets[kk], NULL);
        if (a->responses)   /* 0: a record written before answers were counted */
            ds_event_evidence_add(v, "distinct_answers", (double)a->responses, a->responses >= 255 ? "at least" : NULL);
        ds_event_evidence_add(v, "victim_asn", (double)gi.asn, NULL);
        ds_event_evidence_add(v, "inferred_attack", (double)k, ds_attack_kind_name(k));
    }
out:
    free(l.a);
    return rc;
}
