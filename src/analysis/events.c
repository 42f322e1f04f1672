/* events.c: see events.h.  The table of detectors, the run over them, and the helpers they share.
 *
 * Each detector lives in its own file (detect_*.c) and reads the store through the same queries
 * as `top` and the report (top.h, cube.h, raw chunk scans), so an event's numbers add up to what
 * those print.  The table says which event types each detector produces; `--type T` runs only
 * that detector, and the known types are the union of the table.
 *
 * Speed (issue #4: detection over a quarter within 20% of its ingest): the run reads each chunk
 * that several detectors scan once, into an in-memory view of the store (open_view), and runs the
 * detectors side by side on it (run_detectors); the table says what each reads and what it costs.
 * Neither changes a byte of the output.
 */
#include "analysis/events_int.h"

#include <pthread.h>
#include <stdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "analysis/coverage.h"
#include "analysis/period_store.h"
#include "core/records.h"
#include "util/grow.h"

/* detect_series.c reads the period's length before it (at least 28 days) as its baseline */
#define SERIES_BASELINE 28

static const struct detector {
    const char *types[6];       /* what it produces; NULL-terminated */
    ds_detector_fn run;
    unsigned srcsvc, sources, hourly;   /* passes over the period's SRCSVC, SOURCES, HOURLY chunks */
    int baseline;               /* 1: it reads SRCSVC from SERIES_BASELINE before the period, too */
    unsigned cost;              /* ms on a synthetic quarter (DS_EVENTS_TIMING): the costliest start first */
} DETECTORS[] = {
    { { "mirai", NULL }, ds_detect_mirai, 2, 1, 0, 0, 50 },
    { { "tool", NULL }, ds_detect_tools, 2, 1, 0, 0, 17 },
    { { "backscatter", NULL }, ds_detect_backscatter, 0, 0, 0, 0, 1 },
    { { "flood", "reflection", NULL }, ds_detect_floods, 0, 0, 0, 0, 1 },
    { { "scan", NULL }, ds_detect_scans, 0, 1, 0, 0, 9 },
    { { "vertical_scan", NULL }, ds_detect_vertical, 1, 1, 0, 0, 5 },   /* cost: a guess */
    { { "spike", "surge", "new_service", "single_source", NULL }, ds_detect_series, 3, 0, 0, 1, 45 },
    { { "periodic_daily", "periodic_weekly", NULL }, ds_detect_periodic, 1, 1, 2, 0, 50 },
    { { "research_scanner", NULL }, ds_detect_research, 3, 2, 0, 0, 20 },   /* cost: a guess */
    { { "sensor_silent", NULL }, ds_detect_silence, 0, 0, 1, 0, 4 },
};
#define NDETECTORS (sizeof DETECTORS / sizeof DETECTORS[0])

static int produces(const struct detector *d, const char *t)
{
    for (size_t i = 0; d->types[i]; i++)
        if (!strcmp(d->types[i], t))
            return 1;
    return 0;
}

int ds_event_type_known(const char *t)
{
    for (size_t i = 0; i < NDETECTORS; i++)
        if (produces(&DETECTORS[i], t))
            return 1;
    return 0;
}

char *ds_event_types_format(char *buf, size_t len)
{
    size_t o = 0;
    if (len)
        buf[0] = '\0';
    for (size_t i = 0; i < NDETECTORS; i++)
        for (size_t j = 0; DETECTORS[i].types[j]; j++) {
            int n = snprintf(buf + o, len - o, "%s%s", o ? ", " : "", DETECTORS[i].types[j]);
            if (n < 0 || (size_t)n >= len - o)
                return buf;
            o += (size_t)n;
        }
    return buf;
}

int ds_event_wanted(const ds_event_query *q, const char *t)
{
    return !q->type || !strcmp(q->type, t);
}

ds_event *ds_events_add(ds_events *e, ds_err *err)
{
    if (e->n == e->cap) {
        ds_event *n = ds_grow(e->ev, &e->cap, sizeof *n, 16);
        if (!n) {
            ds_fail(err, DS_ENOMEM, "out of memory listing events");
            return NULL;
        }
        e->ev = n;
    }
    ds_event *v = &e->ev[e->n++];
    memset(v, 0, sizeof *v);
    return v;
}

void ds_event_evidence_add(ds_event *v, const char *name, double value, const char *text)
{
    if (v->nevidence == DS_EVENT_MAX_EVIDENCE)
        return;
    ds_event_evidence *x = &v->evidence[v->nevidence++];
    x->name = name;
    x->value = value;
    snprintf(x->text, sizeof x->text, "%s", text ? text : "");
}

int ds_event_series_set(ds_event *v, int32_t day0, size_t n, const double *vals, const double *w, const char *what,
                        ds_err *err)
{
    double *c = n ? malloc(n * sizeof *c) : NULL;
    if (n && !c) {
        ds_fail(err, DS_ENOMEM, "out of memory keeping an event's series");
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        c[i] = w && w[i] <= 0 ? NAN : vals[i];
    free(v->series.v);
    v->series = (ds_event_series){ .day0 = day0, .n = n, .v = c, .what = what };
    return 0;
}

void ds_event_top_from(ds_event *v, const ds_top_result *tr, size_t skip)
{
    for (size_t i = skip; i < tr->n && v->ntop < DS_EVENT_TOP_SOURCES; i++) {
        ds_event_source *s = &v->top[v->ntop++];
        ds_top_key_format(DS_TOP_SOURCES, &tr->rows[i], s->addr, sizeof s->addr);
        memcpy(s->cc, tr->rows[i].cc, 3);
        s->asn = tr->rows[i].asn;
        s->packets = tr->rows[i].packets;
    }
}

static uint64_t wall_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* An event in the joined list, and where it came from (the last tie-break: see ev_cmp). */
typedef struct ev_ref { const ds_event *ev; size_t seq; } ev_ref;

static int cmp_u64(uint64_t a, uint64_t b) { return (a > b) - (a < b); }

/* A total order on doubles: NaN after every number, equal to another NaN. */
static int cmp_dbl(double a, double b)
{
    if (isnan(a) || isnan(b))
        return !!isnan(a) - !!isnan(b);
    return (a > b) - (a < b);
}

/* Order contract of `events` (and of every list ds_events_run returns): by start, then type
 * (strcmp), then content alone: packets (descending), sources (descending), tool, service (none
 * first, then proto << 16 | port), country ("" first), end, the first top source's address
 * (text), then the facts in the order the detector lists them (name, value, text).  Only events
 * equal in all of these, which print the same, fall back to the detector table's order and then
 * the detector's own.  Until 2026-12 ties in (start, type) kept the detectors' emission order,
 * which for the series detector followed the order SQLite returned the chunks in. */
static int ev_cmp(const void *a, const void *b)
{
    const ev_ref *x = a, *y = b;
    const ds_event *u = x->ev, *v = y->ev;
    int c;
    if ((c = cmp_u64(u->start_ns, v->start_ns)) || (c = strcmp(u->type, v->type)) ||
        (c = cmp_u64(v->packets, u->packets)) || (c = cmp_u64(v->sources, u->sources)) ||
        (c = strcmp(u->tool, v->tool)))
        return c;
    if ((c = (u->has_service > v->has_service) - (u->has_service < v->has_service)))
        return c;
    if (u->has_service && (c = cmp_u64(u->service, v->service)))
        return c;
    if ((c = strcmp(u->country, v->country)) || (c = cmp_u64(u->end_ns, v->end_ns)))
        return c;
    if ((c = (u->ntop > 0) - (v->ntop > 0)) || (u->ntop && (c = strcmp(u->top[0].addr, v->top[0].addr))))
        return c;
    for (size_t i = 0; i < u->nevidence && i < v->nevidence; i++) {
        const ds_event_evidence *e = &u->evidence[i], *f = &v->evidence[i];
        if ((c = strcmp(e->name, f->name)))
            return c;
        if ((c = cmp_dbl(e->value, f->value)) || (c = strcmp(e->text, f->text)))
            return c;
    }
    if ((c = cmp_u64(u->nevidence, v->nevidence)))
        return c;
    return (x->seq > y->seq) - (x->seq < y->seq);
}

/* The period's chunks of each kind that the detectors which run read more than once, loaded once
 * into a view of the store that they scan instead of the store itself (period_store.h): the
 * SQLite store decompresses a chunk on every scan of every connection, and a quarter's detectors
 * read SRCSVC half a dozen times.  SRCSVC from the series baseline on when the series detector
 * runs (it reads those days twice).  On our VM fresh memory is dear (about a millisecond per
 * 2 MiB page the kernel must clear), so a kind read once is left to the store (decompressed into
 * a buffer that stays in cache); loading the twice-read ones measured 12% less CPU on a quarter. */
/* Whether the detectors may read the DETECT chunks (core/detin.h) instead of SRCSVC and SOURCES:
 * no source is excluded (the chunks sum over every source), and no (file, sensor, day) of the
 * days any detector reads (the series baseline, and the day before the period) has SOURCES
 * without DETECT, as a store written before them has.  A store that cannot tell reads the raw
 * chunks.  DS_NO_DETIN=1 reads them always (tests compare the two). */
static ds_rc detin_usable(ds_store *st, const ds_event_query *q, int *ok, ds_err *err)
{
    *ok = 0;
    const char *off = getenv("DS_NO_DETIN");
    if (q->exclude || (off && *off && strcmp(off, "0") != 0) || !ds_store_keeps(st, DS_KNOWS_ROLLUPS))
        return DS_OK;
    int32_t ndays = q->to - q->from + 1;
    ds_sensor_day *rows = NULL;
    size_t n = 0;
    ds_rc rc = ds_store_chunks_lacking(st, DS_CHUNK_SOURCES, DS_CHUNK_DETECT, q->sensor_id,
                                       q->from - (ndays > SERIES_BASELINE ? ndays : SERIES_BASELINE) - 1, q->to,
                                       &rows, &n, err);
    free(rows);
    if (rc == DS_OK)
        *ok = n == 0;
    return rc;
}

static ds_rc open_view(ds_store *st, const ds_event_query *q, ds_store **view, ds_err *err)
{
    unsigned srcsvc = 0, sources = 0, hourly = 0;
    int baseline = 0;
    for (size_t i = 0; i < NDETECTORS; i++)
        if (!q->type || produces(&DETECTORS[i], q->type)) {
            srcsvc += DETECTORS[i].srcsvc;
            sources += DETECTORS[i].sources;
            hourly += DETECTORS[i].hourly;
            baseline |= DETECTORS[i].baseline;
        }
    int detin;
    ds_rc rc = detin_usable(st, q, &detin, err);
    if (rc != DS_OK)
        return rc;
    int32_t ndays = q->to - q->from + 1;
    ds_period_load load[4];
    size_t n = 0;
    if (detin)   /* the detectors read DETECT, and the raw chunks for their candidates only */
        load[n++] = (ds_period_load){ DS_CHUNK_DETECT,
                                      q->from - (baseline ? (ndays > SERIES_BASELINE ? ndays : SERIES_BASELINE) : 0) - 1,
                                      q->to, 0 };
    /* With DETECT the raw chunks are loaded only when a scan first reaches them (the candidates
     * of a busy quarter, Mirai's hosts, the scan flows' sources): over the source-heavy month
     * nothing reads them. */
    if (srcsvc > 1)
        load[n++] = (ds_period_load){ DS_CHUNK_SRCSVC,
                                      q->from - (baseline ? (ndays > SERIES_BASELINE ? ndays : SERIES_BASELINE) : 0),
                                      q->to, detin };
    if (sources > 1)   /* the scan detector reads the day before the period too */
        load[n++] = (ds_period_load){ DS_CHUNK_SOURCES, q->from - 1, q->to, detin };
    if (hourly > 1)    /* sensor silence reads days around the period: those go to the store */
        load[n++] = (ds_period_load){ DS_CHUNK_HOURLY, q->from, q->to, 0 };
    return ds_period_store_open(st, load, n, view, err);
}

/* Which hours each sensor observed, from the series baseline's first day (the earliest day any
 * detector judges) to the period's end, loaded once for every detector (q->coverage).  A store
 * that keeps no coverage gives NULL, and the detectors count every hour as observed. */
static ds_rc load_coverage(ds_store *st, const ds_event_query *q, ds_coverage **out, ds_err *err)
{
    int32_t ndays = q->to - q->from + 1;
    *out = NULL;
    if (!ds_store_keeps(st, DS_KEEPS_COVERAGE))
        return DS_OK;
    ds_rc rc = ds_coverage_load(st, q->cfg, q->from - (ndays > SERIES_BASELINE ? ndays : SERIES_BASELINE), q->to, out,
                                err);
    if (rc == DS_EINVAL) {   /* no coverage table: as before it was kept */
        ds_err_clear(err);
        return DS_OK;
    }
    return rc;
}

/* ---- running the detectors ----
 *
 * Detectors are independent (each only appends its own events), so they run side by side, one
 * per CPU, each thread on a handle of its own onto the view, the costliest first.  Each writes
 * into a list of its own, and the lists are joined in table order before the sort, so the output
 * is what one thread running them in order makes. */
#define MAX_WORKERS 4

typedef struct job {
    const struct detector *d;
    ds_events ev;
    ds_rc rc;
    ds_err err;
    uint64_t ns;
} job;

typedef struct runner {
    job *jobs;
    size_t *order;              /* jobs by cost, the order they are taken in */
    size_t njobs, next;
    pthread_mutex_t mu;
    int locked;                 /* mu is in use (else there is one thread) */
    const ds_geo *geo;
    const ds_event_query *q;
} runner;

typedef struct worker { runner *r; ds_store *st; pthread_t th; } worker;

static void *worker_main(void *arg)
{
    worker *w = arg;
    runner *r = w->r;
    for (;;) {
        if (r->locked)
            pthread_mutex_lock(&r->mu);
        size_t i = r->next < r->njobs ? r->next++ : r->njobs;
        if (r->locked)
            pthread_mutex_unlock(&r->mu);
        if (i == r->njobs)
            break;
        job *j = &r->jobs[r->order[i]];
        uint64_t t0 = wall_ns();
        j->rc = j->d->run(w->st, r->geo, r->q, &j->ev, &j->err);
        j->ns = wall_ns() - t0;
    }
    return NULL;
}

/* Each job's detector, on up to one thread per CPU (fewer when threads or handles cannot be had:
 * the calling thread does what is left). */
static void run_detectors(ds_store *view, const ds_geo *geo, const ds_event_query *q, job *jobs, size_t njobs)
{
    size_t order[NDETECTORS];
    worker w[MAX_WORKERS];
    runner r = { .jobs = jobs, .order = order, .njobs = njobs, .geo = geo, .q = q };
    for (size_t i = 0; i < njobs; i++) {   /* by cost, then table order (insertion sort: eight rows) */
        size_t k = i;
        while (k > 0 && jobs[order[k - 1]].d->cost < jobs[i].d->cost) {
            order[k] = order[k - 1];
            k--;
        }
        order[k] = i;
    }
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    size_t nw = 1, started = 1;
    while ((long)nw < ncpu && nw < MAX_WORKERS && nw < njobs)
        nw++;
    r.locked = pthread_mutex_init(&r.mu, NULL) == 0;
    if (!r.locked)
        nw = 1;
    for (size_t i = 0; i < nw; i++)
        w[i] = (worker){ .r = &r, .st = view };
    /* another thread's handle: its own connection for what the view does not hold */
    for (; started < nw; started++) {
        ds_err ignored;
        if (ds_store_reopen(view, &w[started].st, &ignored) != DS_OK)
            break;
        if (pthread_create(&w[started].th, NULL, worker_main, &w[started]) != 0) {
            ds_store_close(w[started].st);
            break;
        }
    }
    worker_main(&w[0]);
    for (size_t i = 1; i < started; i++) {
        pthread_join(w[i].th, NULL);
        ds_store_close(w[i].st);
    }
    if (r.locked)
        pthread_mutex_destroy(&r.mu);
}

/* The detectors' lists joined in table order, then sorted by ev_cmp (content; table order last).  References
 * are sorted and each event (nearly 3 KiB) copied once into a list of the exact size: sorting the
 * events themselves moved each a dozen times. */
static ds_rc join_sorted(job *jobs, size_t njobs, ds_events *out, ds_err *err)
{
    size_t n = 0, k = 0;
    for (size_t i = 0; i < njobs; i++)
        n += jobs[i].ev.n;
    if (!n)
        return DS_OK;
    ev_ref *refs = malloc(n * sizeof *refs);
    out->ev = malloc(n * sizeof *out->ev);
    if (!refs || !out->ev) {
        free(refs);
        free(out->ev);
        out->ev = NULL;
        return ds_fail(err, DS_ENOMEM, "out of memory listing events");
    }
    for (size_t i = 0; i < njobs; i++)
        for (size_t e = 0; e < jobs[i].ev.n; e++, k++)
            refs[k] = (ev_ref){ &jobs[i].ev.ev[e], k };
    qsort(refs, n, sizeof *refs, ev_cmp);
    for (k = 0; k < n; k++)
        out->ev[k] = *refs[k].ev;
    out->n = out->cap = n;
    for (size_t i = 0; i < njobs; i++)   /* the events (and what they own) moved to out */
        jobs[i].ev.n = 0;
    free(refs);
    return DS_OK;
}

size_t ds_events_period_loads(int32_t from, int32_t to, ds_period_load *out)
{
    int32_t ndays = to - from + 1, back = ndays > SERIES_BASELINE ? ndays : SERIES_BASELINE;
    out[0] = (ds_period_load){ DS_CHUNK_DETECT, from - back - 1, to, 1 };
    out[1] = (ds_period_load){ DS_CHUNK_SRCSVC, from - back, to, 1 };
    out[2] = (ds_period_load){ DS_CHUNK_SOURCES, from - 1, to, 1 };
    out[3] = (ds_period_load){ DS_CHUNK_HOURLY, from, to, 1 };
    /* the vertical scans' candidates' address maps, and the weekly pairs' CROSS chunks: read on
     * every request over the period, and decompressed anew each time without a view */
    out[4] = (ds_period_load){ DS_CHUNK_DSTMAP, from, to, 1 };
    out[5] = (ds_period_load){ DS_CHUNK_CROSS, from, to, 1 };
    return DS_EVENTS_PERIOD_LOADS;
}

ds_rc ds_events_view_open(ds_store *st, const ds_event_query *q, ds_store **view, ds_err *err)
{
    *view = NULL;
    if (q->type && !ds_event_type_known(q->type))
        return ds_fail(err, DS_EINVAL, "event type '%s' is not detected by this build", q->type);
    return open_view(st, q, view, err);
}

ds_rc ds_events_run(ds_store *st, const ds_geo *geo, const ds_event_query *q, ds_events *out, ds_err *err)
{
    ds_rc rc = DS_OK;
    ds_store *view = NULL;
    ds_coverage *cov = NULL;
    ds_event_query qc = *q;
    job jobs[NDETECTORS];
    size_t njobs = 0;
    memset(out, 0, sizeof *out);
    memset(jobs, 0, sizeof jobs);
    if (q->type && !ds_event_type_known(q->type)) {
        char known[512];
        return ds_fail(err, DS_EINVAL, "event type '%s' is not detected by this build (known: %s)", q->type,
                       ds_event_types_format(known, sizeof known));
    }
    /* DS_EVENTS_TIMING=1: the load's and each detector's wall time on stderr (bench/detect_cost.sh) */
    const char *timing_env = getenv("DS_EVENTS_TIMING");
    int timing = timing_env && *timing_env && strcmp(timing_env, "0") != 0;
    uint64_t t0 = wall_ns();
    if ((rc = detin_usable(st, q, &qc.detin, err)) != DS_OK)
        goto out;
    if (timing)
        fprintf(stderr, "events: inputs %s\n", qc.detin ? "DETECT" : "SRCSVC and SOURCES");
    ds_store *use = q->view;   /* the caller's view: read, not closed */
    if (!use) {
        if ((rc = open_view(st, q, &view, err)) != DS_OK)
            goto out;
        use = view;
    }
    if (!qc.coverage && (rc = load_coverage(st, q, &cov, err)) != DS_OK)
        goto out;
    if (cov)
        qc.coverage = cov;
    q = &qc;
    if (timing)
        fprintf(stderr, "events: %-16s %8.3f s\n", "load", (double)(wall_ns() - t0) / 1e9);
    for (size_t i = 0; i < NDETECTORS; i++)
        if (!q->type || produces(&DETECTORS[i], q->type))
            jobs[njobs++].d = &DETECTORS[i];
    t0 = wall_ns();
    run_detectors(use, geo, q, jobs, njobs);
    if (timing) {
        for (size_t i = 0; i < njobs; i++)
            fprintf(stderr, "events: %-16s %8.3f s  %zu events\n", jobs[i].d->types[0], (double)jobs[i].ns / 1e9,
                    jobs[i].ev.n);
        fprintf(stderr, "events: %-16s %8.3f s\n", "detectors", (double)(wall_ns() - t0) / 1e9);
    }
    /* the first failure in table order, as when they ran one after the other */
    for (size_t i = 0; i < njobs && rc == DS_OK; i++)
        if (jobs[i].rc != DS_OK) {
            *err = jobs[i].err;
            rc = jobs[i].rc;
        }
    if (rc == DS_OK)
        rc = join_sorted(jobs, njobs, out, err);
out:
    for (size_t i = 0; i < njobs; i++)
        ds_events_free(&jobs[i].ev);
    ds_store_close(view);
    ds_coverage_free(cov);
    if (rc != DS_OK)
        ds_events_free(out);
    return rc;
}

void ds_events_free(ds_events *e)
{
    for (size_t i = 0; i < e->n; i++) {
        free(e->ev[i].all);
        free(e->ev[i].series.v);
    }
    free(e->ev);
    memset(e, 0, sizeof *e);
}

ds_rc ds_events_copy(const ds_events *src, ds_events *dst, ds_err *err)
{
    memset(dst, 0, sizeof *dst);
    if (!src->n)
        return DS_OK;
    if (!(dst->ev = malloc(src->n * sizeof *dst->ev)))
        return ds_fail(err, DS_ENOMEM, "out of memory copying events");
    dst->cap = src->n;
    for (size_t i = 0; i < src->n; i++) {
        const ds_event *a = &src->ev[i];
        ds_event *b = &dst->ev[dst->n++];
        *b = *a;
        b->all = NULL;
        b->series.v = NULL;
        if (a->nall && !(b->all = malloc(a->nall * sizeof *b->all)))
            goto nomem;
        if (a->nall)
            memcpy(b->all, a->all, a->nall * sizeof *b->all);
        if (a->series.n && !(b->series.v = malloc(a->series.n * sizeof *b->series.v)))
            goto nomem;
        if (a->series.n)
            memcpy(b->series.v, a->series.v, a->series.n * sizeof *b->series.v);
    }
    return DS_OK;
nomem:
    ds_events_free(dst);
    return ds_fail(err, DS_ENOMEM, "out of memory copying events");
}

const ds_event_evidence *ds_event_fact(const ds_event *v, const char *name)
{
    for (size_t i = 0; i < v->nevidence; i++)
        if (!strcmp(v->evidence[i].name, name))
            return &v->evidence[i];
    return NULL;
}

double ds_event_num(const ds_event *v, const char *name, double dflt)
{
    const ds_event_evidence *x = ds_event_fact(v, name);
    return x ? x->value : dflt;
}

const char *ds_event_str(const ds_event *v, const char *name)
{
    const ds_event_evidence *x = ds_event_fact(v, name);
    return x && x->text[0] ? x->text : NULL;
}
