/* detect_silence.c: the `sensor_silent` events (issue #5): a sensor that sent nothing for longer
 * than [detect] sensor_silence seconds (default 3600).
 *
 * A darknet of even a /24 receives unsolicited packets every few seconds (scanners never stop),
 * so a live sensor uploads a segment every rotation period; a long stretch without one means the
 * sensor, its capture, or the path to the collector is down, and the counts of that stretch are
 * missing, not low.  An analyst must see that before reading a dip in `top` or the report as a
 * change in the Internet.  Two sources, one per way a store is fed:
 *
 *   1. The collector ledger (store.h: ds_segment_rec), for every sensor that ever uploaded: the
 *      gaps between consecutive committed_at times.  This is the direct signal (the collector
 *      writes committed_at when it answers 200), exact to the second, and it also covers a
 *      sensor that is still silent now: its last upload is then older than the threshold and
 *      the event is open (it ends "now", evidence ongoing = 1).  It measures arrival at the
 *      collector, so a collector or network outage shows up too (every sensor silent over the
 *      same span) and a backlog drained after it shows as segments committed together.
 *   2. For sensors fed by files (`darkscope ingest`, no ledger rows): the sensor's own packets,
 *      from the HOURLY records (packets per UTC hour).  A run of hours without one packet between
 *      two hours with packets is a silence of at least that many whole hours; the real silence
 *      is up to two hours longer (the last and the next packet fall somewhere in the hours at
 *      its ends), so the duration given is a lower bound and the event never overstates.  Its
 *      resolution is one hour, so a threshold under an hour is rounded up to one.  A sensor
 *      whose packets stop while other sensors' go on is silent until the store's last hour with
 *      data; a store that ends is not a silence.
 *   3. Coverage (analysis/coverage.h), for sensors fed by files too: the hours the store knows a
 *      file observed for the sensor, with what arrived in each.  Its outages are inferred (no packet
 *      in hours where hundreds are usual), declared in the configuration ([sensor.NAME] outage),
 *      or hours no capture covers while the store has data around them.  Each becomes one event,
 *      named whole with its dates even when it began long before the period (coverage follows it
 *      back), and it replaces the hourly silences of (2) that it overlaps: the same outage, with
 *      its real extent and the sensor's usual rate as evidence.  The hourly search stays for what
 *      coverage does not call an outage (a sensor quiet enough that an empty hour is believable,
 *      a store written before coverage was kept).
 * A sensor with ledger rows is judged by the ledger only, so one outage is one event.
 *
 * The cause of a ledger gap.  No segment arriving looks the same whether the sensor was down
 * (nothing captured: those packets are lost) or the upload path or the collector was (the sensor
 * kept capturing into its spool and sent the backlog when the path came back: nothing is lost).
 * The ledger keeps each segment's capture span (the first and last packet times the sensor
 * reported, ds_segment_rec.first_ns/last_ns), so the two can be told apart: merge the spans of the
 * sensor's segments into its capture timeline and look at the gap [A, B] between two commits.
 * Covered but for stretches shorter than HOLE_MIN (the normal pause between one segment's last
 * packet and the next one's first, and the segment still being captured at B): cause "upload",
 * no data lost.  A stretch of HOLE_MIN or more that no segment covers: cause "sensor", and the
 * evidence says how long nothing was captured.  "unknown" when the spans cannot say: a segment at
 * either end without one (an older sensor or ledger), a span that ends after its own commit (it
 * cannot have been uploaded before it was captured; beyond SKEW_S of clock difference), or a last
 * segment before the gap whose capture ended more than the threshold before it was committed
 * (capture time and upload time do not line up: a replayed capture, or a wrong clock).  An
 * ongoing silence is "unknown" too: nothing has arrived yet to tell.
 *
 * The period [from, to] selects events that overlap it; the gap search looks 7 days beyond it on
 * each side so that a silence reaching into the period is whole.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "analysis/coverage.h"
#include "analysis/events_int.h"
#include "core/records.h"
#include "util/grow.h"
#include "util/textfmt.h"
#include "util/timeutil.h"

#define SILENCE_DEFAULT_S 3600u
#define LOOK_AROUND_DAYS 7
#define HOLE_MAX_S 300      /* HOLE_MIN: this, or half the threshold when that is less */
#define SKEW_S 300          /* sensor and collector clocks may differ by this much */

enum { CAUSE_UNKNOWN = 0, CAUSE_UPLOAD = 1, CAUSE_SENSOR = 2 };
static const char *const cause_names[] = { "unknown", "upload", "sensor" };

typedef struct span { int64_t first, last; } span;   /* unix seconds, first <= last */

/* The capture span of a segment in whole seconds; 0 when it has none that can be right. */
static int segment_span(const ds_segment_rec *r, span *out)
{
    if (!r->first_ns || r->first_ns > r->last_ns || r->last_ns > (uint64_t)INT64_MAX)
        return 0;
    out->first = (int64_t)(r->first_ns / 1000000000ULL);
    out->last = (int64_t)((r->last_ns + 999999999ULL) / 1000000000ULL);
    return out->last <= r->committed_at + SKEW_S;
}

static int by_first(const void *a, const void *b)
{
    const span *x = a, *y = b;
    return x->first < y->first ? -1 : x->first > y->first;
}

/* The capture timeline of seg[0..n): the spans that can be right, sorted and merged. */
static span *capture_timeline(const ds_segment_rec *seg, size_t n, size_t *nout)
{
    span *t = malloc((n ? n : 1) * sizeof *t);
    size_t k = 0;
    *nout = 0;
    if (!t)
        return NULL;
    for (size_t i = 0; i < n; i++)
        if (segment_span(&seg[i], &t[k]))
            k++;
    qsort(t, k, sizeof *t, by_first);
    size_t m = 0;
    for (size_t i = 0; i < k; i++) {
        if (m && t[i].first <= t[m - 1].last) {
            if (t[i].last > t[m - 1].last)
                t[m - 1].last = t[i].last;
        } else {
            t[m++] = t[i];
        }
    }
    *nout = m;
    return t;
}

/* Why nothing arrived between the commits of a (at A) and b (at B): CAUSE_*, with *uncaptured
 * the seconds of [A, B] in stretches of hole_min or more that no segment's capture covers. */
static int gap_cause(const span *tl, size_t ntl, const ds_segment_rec *a, const ds_segment_rec *b, uint32_t threshold,
                     int64_t *uncaptured)
{
    span sa, sb;
    int64_t A = a->committed_at, B = b->committed_at;
    int64_t hole_min = threshold / 2 < HOLE_MAX_S ? threshold / 2 : HOLE_MAX_S;
    *uncaptured = 0;
    if (!tl || !segment_span(a, &sa) || !segment_span(b, &sb) || A - sa.last > (int64_t)threshold)
        return CAUSE_UNKNOWN;
    int64_t t = A;   /* [A, t) is accounted for */
    for (size_t i = 0; i < ntl && t < B; i++) {
        if (tl[i].last <= t)
            continue;
        int64_t start = tl[i].first < B ? tl[i].first : B;
        if (start - t >= hole_min)
            *uncaptured += start - t;
        if (tl[i].last > t)
            t = tl[i].last;
    }
    if (B - t >= hole_min)
        *uncaptured += B - t;
    return *uncaptured ? CAUSE_SENSOR : CAUSE_UPLOAD;
}

enum { SOURCE_LEDGER = 1, SOURCE_HOURLY = 2, SOURCE_COVERAGE = 3 };
static const char *const source_names[] = { "", "collector ledger (commit times)", "hourly packet counts (lower bound)",
                                            "coverage (hours observed per sensor)" };

/* The event of one silence [start, end] (unix seconds) of `sensor`, found from SOURCE_*. */
static ds_event *silence_event(ds_events *out, const char *sensor, int64_t start, int64_t end, uint32_t threshold,
                               int source, ds_err *err)
{
    ds_event *v = ds_events_add(out, err);
    if (!v)
        return NULL;
    snprintf(v->type, sizeof v->type, "sensor_silent");
    v->start_ns = (uint64_t)start * 1000000000ULL;
    v->end_ns = (uint64_t)end * 1000000000ULL;
    ds_event_evidence_add(v, "sensor", 0, sensor);
    ds_event_evidence_add(v, "silence_s", (double)(end - start), NULL);
    ds_event_evidence_add(v, "threshold_s", (double)threshold, NULL);
    ds_event_evidence_add(v, "source", source, source_names[source]);
    return v;
}

/* ---- 1. the collector ledger ------------------------------------------------------------------ */

static ds_rc ledger_silences(ds_store *st, const ds_sensor_health *h, int64_t from_s, int64_t to_s,
                             uint32_t threshold, int64_t now, ds_events *out, ds_err *err)
{
    ds_segment_rec *seg = NULL;
    span *tl = NULL;
    size_t n = 0, ntl = 0;
    ds_rc rc = ds_store_segments_list(st, h->name, from_s - LOOK_AROUND_DAYS * 86400, to_s + LOOK_AROUND_DAYS * 86400,
                                      &seg, &n, err);
    if (rc != DS_OK || n == 0)
        goto out;
    tl = capture_timeline(seg, n, &ntl);   /* NULL (out of memory): every cause unknown */
    for (size_t i = 0; i < n; i++) {
        const ds_segment_rec *a = &seg[i];
        int last = i + 1 == n;
        /* the newest segment of all: silent since, when that is long enough ago */
        int ongoing = last && a->committed_at >= h->last_upload;
        if (last && !ongoing)
            break;   /* the next segment lies beyond the look-around window */
        int64_t end = ongoing ? now : seg[i + 1].committed_at;
        if (end - a->committed_at < (int64_t)threshold || end <= from_s || a->committed_at >= to_s)
            continue;
        ds_event *v = silence_event(out, h->name, a->committed_at, end, threshold, SOURCE_LEDGER, err);
        if (!v) {
            rc = DS_ENOMEM;
            goto out;
        }
        int64_t uncaptured = 0;
        int cause = ongoing ? CAUSE_UNKNOWN : gap_cause(tl, ntl, a, &seg[i + 1], threshold, &uncaptured);
        ds_event_evidence_add(v, "cause", cause, cause_names[cause]);
        if (cause != CAUSE_UNKNOWN)
            ds_event_evidence_add(v, "uncaptured_s", (double)uncaptured, NULL);
        ds_event_evidence_add(v, "ongoing", ongoing, NULL);
        ds_event_evidence_add(v, "last_segment", (double)a->seq, NULL);
        if (!ongoing) {
            ds_event_evidence_add(v, "next_segment", (double)seg[i + 1].seq, NULL);
            ds_event_evidence_add(v, "next_segment_packets", (double)seg[i + 1].packets, NULL);
        }
    }
out:
    free(tl);
    free(seg);
    return rc;
}

/* ---- 3. coverage: inferred, declared and uncovered outages -------------------------------------- */

enum { KIND_INFERRED = 1, KIND_DECLARED = 2, KIND_NOCAPTURE = 3 };
static const char *const kind_names[] = { "", "inferred: no packet in hours where many are usual",
                                          "declared in the configuration", "no capture covers it" };

static ds_rc outage_events(const ds_event_query *q, const ds_outage *o, size_t n, const ds_sensor_health *ledger,
                           size_t nledger, int64_t from_s, int64_t to_s, uint32_t threshold, ds_events *out,
                           ds_err *err)
{
    const ds_coverage *c = q->coverage;
    int64_t need = ((int64_t)threshold + 3599) / 3600 * 3600;   /* whole hours, as the hourly search */
    for (size_t i = 0; i < n; i++) {
        if ((q->sensor_id > 0 && o[i].sensor_id != q->sensor_id) || o[i].to - o[i].from < need ||
            o[i].to <= from_s || o[i].from >= to_s)
            continue;
        int in_ledger = 0;
        for (size_t k = 0; k < nledger && !in_ledger; k++)
            in_ledger = ledger[k].last_upload > 0 && strcmp(ledger[k].name, o[i].sensor) == 0;
        if (in_ledger)
            continue;   /* judged by its uploads */
        const ds_cov_sensor *s = NULL;
        for (size_t k = 0; k < c->n && !s; k++)
            if (c->s[k].id == o[i].sensor_id)
                s = &c->s[k];
        uint64_t empty = 0;   /* hours of the outage, within the loaded ones, without a packet */
        for (int64_t h = o[i].from / 3600; s && h < o[i].to / 3600; h++)
            empty += h >= c->h0 && h < c->h0 + (int64_t)c->nhours && !s->packets[h - c->h0];
        int kind = o[i].kind == DS_HOUR_DECLARED ? KIND_DECLARED : o[i].kind == DS_HOUR_OUTAGE ? KIND_INFERRED
                                                                                              : KIND_NOCAPTURE;
        int before = o[i].from < from_s;
        ds_event *v = silence_event(out, o[i].sensor, o[i].from, o[i].to, threshold, SOURCE_COVERAGE, err);
        if (!v)
            return DS_ENOMEM;
        ds_event_evidence_add(v, "kind", kind, kind_names[kind]);
        ds_event_evidence_add(v, "usual_packets_per_hour", s ? s->usual : 0, NULL);
        ds_event_evidence_add(v, "empty_hours", (double)empty, NULL);
        ds_event_evidence_add(v, "began_before_period", before, NULL);
        ds_event_evidence_add(v, "until_end_of_data", o[i].open_end, NULL);
    }
    return DS_OK;
}

/* ---- 2. the sensor's own packets, per hour ------------------------------------------------------ */

typedef struct hour_counts {
    int64_t sensor_id;
    uint8_t *busy;          /* hours [h0, h0 + nhours): 1 when the sensor captured a packet */
} hour_counts;

typedef struct hours_ctx {
    hour_counts *s;
    size_t n, cap;
    uint32_t h0, nhours;
} hours_ctx;

static ds_rc on_hourly(void *ctx, int64_t sensor_id, int32_t day, const uint8_t *data, size_t nrec, ds_err *err)
{
    hours_ctx *c = ctx;
    hour_counts *hc = NULL;
    for (size_t i = 0; i < c->n && !hc; i++)
        if (c->s[i].sensor_id == sensor_id)
            hc = &c->s[i];
    if (!hc) {
        if (c->n == c->cap) {
            hour_counts *g = ds_grow(c->s, &c->cap, sizeof *g, 8);
            if (!g)
                return ds_fail(err, DS_ENOMEM, "out of memory reading hourly counts");
            c->s = g;
        }
        hc = &c->s[c->n];
        hc->sensor_id = sensor_id;
        if (!(hc->busy = calloc(c->nhours, 1)))
            return ds_fail(err, DS_ENOMEM, "out of memory reading hourly counts");
        c->n++;
    }
    for (size_t i = 0; i < nrec; i++) {
        ds_rec_hourly r;
        ds_rec_hourly_get(data + i * DS_REC_HOURLY, &r);
        /* service dimension only: the country records count the same packets again */
        if (r.dim == DS_HOURLY_SERVICE && r.packets && r.hour >= c->h0 && r.hour - c->h0 < c->nhours)
            hc->busy[r.hour - c->h0] = 1;
    }
    return DS_OK;
}

/* 1 when [start, end) of sensor_id overlaps one of the coverage outages o[0..n). */
static int in_outage(const ds_outage *o, size_t n, int64_t sensor_id, int64_t start, int64_t end)
{
    for (size_t i = 0; i < n; i++)
        if (o[i].sensor_id == sensor_id && o[i].from < end && o[i].to > start)
            return 1;
    return 0;
}

static ds_rc packet_silences(ds_store *st, const ds_event_query *q, const ds_sensor_health *ledger, size_t nledger,
                             const ds_outage *cov, size_t ncov, int64_t from_s, int64_t to_s, uint32_t threshold,
                             ds_events *out, ds_err *err)
{
    ds_sensor_info *sensors = NULL;
    size_t nsensors = 0;
    hours_ctx c = { 0 };
    ds_rc rc;
    int64_t w0 = from_s - LOOK_AROUND_DAYS * 86400, w1 = to_s + LOOK_AROUND_DAYS * 86400;
    if (w0 < 0)
        w0 = 0;
    c.h0 = (uint32_t)(w0 / 3600);
    c.nhours = (uint32_t)((w1 + 3599) / 3600 - c.h0);
    /* every sensor: the store's last busy hour is anyone's */
    if ((rc = ds_store_scan(st, DS_CHUNK_HOURLY, 0, q->from - LOOK_AROUND_DAYS - 1, q->to + LOOK_AROUND_DAYS + 1,
                            on_hourly, &c, err)) != DS_OK)
        goto out;
    if ((rc = ds_store_sensors(st, &sensors, &nsensors, err)) != DS_OK)
        goto out;
    uint32_t store_last = 0;   /* one past the last busy hour of any sensor, relative to h0 */
    for (size_t i = 0; i < c.n; i++)
        for (uint32_t k = c.nhours; k > store_last; k--)
            if (c.s[i].busy[k - 1]) {
                store_last = k;
                break;
            }
    /* whole empty hours needed: the duration given is a lower bound, so it must reach the threshold */
    uint32_t need = (threshold + 3599) / 3600;
    for (size_t i = 0; i < c.n; i++) {
        const hour_counts *hc = &c.s[i];
        const char *name = NULL;
        if (hc->sensor_id <= 0 || (q->sensor_id > 0 && hc->sensor_id != q->sensor_id))
            continue;
        for (size_t k = 0; k < nsensors && !name; k++)
            if (sensors[k].id == hc->sensor_id)
                name = sensors[k].name;
        if (!name)
            continue;
        int in_ledger = 0;
        for (size_t k = 0; k < nledger && !in_ledger; k++)
            in_ledger = ledger[k].last_upload > 0 && strcmp(ledger[k].name, name) == 0;
        if (in_ledger)
            continue;   /* judged by its uploads */
        int64_t prev = -1;   /* the last busy hour seen */
        for (uint32_t k = 0; k <= store_last; k++) {
            int busy = k < store_last && hc->busy[k];
            int at_end = k == store_last;
            if (!busy && !at_end)
                continue;
            /* silent from the end of hour prev to the start of hour k (at the end: the start of
             * the store's last busy hour, when another sensor still captured then) */
            int64_t stop = at_end ? (int64_t)store_last - 1 : (int64_t)k;
            if (prev >= 0 && stop - prev - 1 >= (int64_t)need) {
                int64_t start = ((int64_t)c.h0 + prev + 1) * 3600, end = ((int64_t)c.h0 + stop) * 3600;
                if (end > from_s && start < to_s && !in_outage(cov, ncov, hc->sensor_id, start, end)) {
                    ds_event *v = silence_event(out, name, start, end, threshold, SOURCE_HOURLY, err);
                    if (!v) {
                        rc = DS_ENOMEM;
                        goto out;
                    }
                    ds_event_evidence_add(v, "empty_hours", (double)(stop - prev - 1), NULL);
                    ds_event_evidence_add(v, "until_end_of_data", at_end, NULL);
                }
            }
            if (busy)
                prev = k;
        }
    }
out:
    for (size_t i = 0; i < c.n; i++)
        free(c.s[i].busy);
    free(c.s);
    free(sensors);
    return rc;
}

ds_rc ds_detect_silence(ds_store *st, const ds_geo *geo, const ds_event_query *q, ds_events *out, ds_err *err)
{
    ds_sensor_health *h = NULL;
    ds_sensor_info *sensors = NULL;
    ds_outage *cov = NULL;
    size_t nh = 0, nsensors = 0, ncov = 0;
    ds_rc rc = DS_OK;
    (void)geo;
    if (!ds_event_wanted(q, "sensor_silent"))
        return DS_OK;
    uint32_t threshold = q->sensor_silence_s ? q->sensor_silence_s : SILENCE_DEFAULT_S;
    int64_t from_s = ds_day_start(q->from), to_s = ds_day_start(q->to + 1), now = (int64_t)time(NULL);
    if (ds_store_keeps(st, DS_KEEPS_LEDGER) && (rc = ds_store_sensor_health(st, &h, &nh, err)) != DS_OK)
        goto out;
    const char *only = NULL;   /* --sensor: the ledger knows sensors by name */
    if (q->sensor_id > 0) {
        if ((rc = ds_store_sensors(st, &sensors, &nsensors, err)) != DS_OK)
            goto out;
        for (size_t i = 0; i < nsensors && !only; i++)
            if (sensors[i].id == q->sensor_id)
                only = sensors[i].name;
    }
    if (ds_store_keeps(st, DS_KEEPS_LEDGER))
        for (size_t i = 0; i < nh && rc == DS_OK; i++)
            if ((q->sensor_id <= 0 || (only && !strcmp(only, h[i].name))) && h[i].last_upload > 0)
                rc = ledger_silences(st, &h[i], from_s, to_s, threshold, now, out, err);
    if (rc == DS_OK && q->coverage && (rc = ds_coverage_outages(q->coverage, &cov, &ncov, err)) == DS_OK)
        rc = outage_events(q, cov, ncov, h, nh, from_s, to_s, threshold, out, err);
    if (rc == DS_OK)
        rc = packet_silences(st, q, h, nh, cov, ncov, from_s, to_s, threshold, out, err);
out:
    free(cov);
    free(h);
    free(sensors);
    return rc;
}
