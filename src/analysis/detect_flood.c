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
    return a->start_ns < b->start_ns ? -1 : a->start_ns > b->start_ns;
}

ds_rc ds_floods_load(ds_store *st, const ds_event_query *q, ds_flood_list *l, ds_err *err)
{
    memset(l, 0, sizeof *l);
    ds_rc rc = st->ops->scan(st, DS_CHUNK_FLOODS, q->sensor_id, q->from - 1, q->to, on_floods, l, err);
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

static void fmt_time(uint64_t ns, int ja, char *buf, size_t len)
{
    time_t s = (time_t)(ns / 1000000000ULL);
    struct tm tm;
    gmtime_r(&s, &tm);
    if (ja)
        snprintf(buf, len, "%d年%d月%d日%02d:%02d:%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                 tm.tm_min, tm.tm_sec);
    else
        strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm);
}

static const char *const REFL_KIND[4] = { "SYN-ACK", "RST", "ICMP", "UDP" };

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
        if (refl)
            for (int k = 0; k < 4; k++)
                if (f->kinds[k])
                    ds_event_evidence_add(v, "packets_of_kind", (double)f->kinds[k], REFL_KIND[k]);
        char pk[32], src[32], rate[32], peak[32], t0[40], t1[40], j0[48], j1[48], svc[32] = "", svcl[32] = "",
            when[32], whenj[32], kc[4][32];
        ds_fmt_count(f->max_ppm, peak, sizeof peak);
        for (int k = 0; k < 4; k++)
            ds_fmt_count(f->kinds[k], kc[k], sizeof kc[k]);
        ds_fmt_count(f->packets, pk, sizeof pk);
        ds_fmt_count(f->sources, src, sizeof src);
        ds_fmt_count((uint64_t)(pps + 0.5), rate, sizeof rate);
        fmt_time(f->start_ns, 0, t0, sizeof t0);
        fmt_time(f->end_ns, 0, t1, sizeof t1);
        fmt_time(f->start_ns, 1, j0, sizeof j0);
        fmt_time(f->end_ns, 1, j1, sizeof j1);
        if (dur < 1) {
            snprintf(when, sizeof when, "under a second");
            snprintf(whenj, sizeof whenj, "1秒未満");
        } else if (dur < 120) {
            snprintf(when, sizeof when, "%.0f s", dur);
            snprintf(whenj, sizeof whenj, "%.0f秒間", dur);
        } else {
            snprintf(when, sizeof when, "%.0f min", dur / 60);
            snprintf(whenj, sizeof whenj, "約%.0f分間", dur / 60);
        }
        if (port_main) {
            ds_service_format(v->service, svc, sizeof svc);
            ds_service_label(v->service, svcl, sizeof svcl);
        }
        /* one or two packets a source, as random spoofed sources give (most once) */
        int spoofed = f->sources && f->packets <= 2 * (uint64_t)f->sources;
        if (!refl) {
            ds_fmt_text(v->summary_en, sizeof v->summary_en,
                        "A flood aimed at the darknet address %s%s%s: %s packets from about %s sources between %s and %s "
                        "UTC (%s), %s packets a second, at most %s in 60 s.%s",
                        v->top[0].addr, svc[0] ? ", " : "", svc, pk, src, t0, t1, when, rate, peak,
                        spoofed ? " Most sources sent one packet each, as from spoofed, random addresses." : "");
            ds_fmt_text(v->summary_ja, sizeof v->summary_ja,
                        "ダークネットのアドレス%s%s%sを狙ったフラッド攻撃を%sから%s（UTC、%s）に観測しました。"
                        "約%s件の送信元から%sパケット（毎秒%sパケット、60秒あたり最大%s件）でした。%s",
                        v->top[0].addr, svcl[0] ? "の" : "", svcl, j0, j1, whenj, src, pk, rate, peak,
                        spoofed ? "送信元の多くは1パケットのみで、偽装されたランダムな送信元アドレスと見られます。" : "");
        } else {
            ds_fmt_text(v->summary_en, sizeof v->summary_en,
                        "The darknet address %s was used as the spoofed victim of a reflection attack: about %s hosts "
                        "answered it with %s packets (%s SYN-ACK, %s RST, %s ICMP, %s UDP%s%s) between %s and %s UTC "
                        "(%s), at most %s in 60 s.",
                        v->top[0].addr, src, pk, kc[0], kc[1], kc[2], kc[3], port_main ? "; mostly from " : "",
                        port_main ? svc : "", t0, t1, when, peak);
            ds_fmt_text(v->summary_ja, sizeof v->summary_ja,
                        "ダークネットのアドレス%sが、リフレクション攻撃の偽装された被害者として使われました。"
                        "%sから%s（UTC、%s）に約%s台のホストが%sパケット（SYN-ACK %s、RST %s、ICMP %s、UDP %s）で応答しました"
                        "（60秒あたり最大%s件%s%s）。",
                        v->top[0].addr, j0, j1, whenj, src, pk, kc[0], kc[1], kc[2], kc[3], peak,
                        port_main ? "、主に送信元ポート" : "", port_main ? svcl : "");
        }
    }
    free(l.v);
    return rc;
}
