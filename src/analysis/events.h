/* events.h: notable phenomena found in the store (`darkscope events`).
 *
 * Every event carries what an analyst needs to believe it, as structured facts: when it started
 * and ended, the service and/or country it concerns, how many sources and packets, the top
 * sources (address, country code, ASN), the named numbers behind it (evidence: a name, a value and
 * an optional key or qualifier) and, for phenomena seen in a daily series, that series.  Analysis
 * writes no sentences: src/report/event_en.c and event_ja.c state an event's facts in English and
 * Japanese (report/event_text.h), with the names (countries, organisations, services) the report
 * uses.  Detectors and their thresholds are documented, with sources, in docs/detection.md; the
 * facts of each type in docs/detection.md#facts.
 *
 * Detectors, one file each (detect_*.c, listed in events.c): `mirai` (the hosts whose SYNs carry
 * Mirai's fingerprint, per day, country and ASN) and `tool` (one event per campaign of a scanning
 * tool: its sources on one service, overlapping in time), which read the per-source tool
 * attribution ingest stores (core/fingerprint.h),
 * and `backscatter` (DoS attacks per victim, from the ATTACKS records of core/dos.h).
 */
#ifndef DS_EVENTS_H
#define DS_EVENTS_H
#include <stddef.h>
#include <stdint.h>

#include "core/sets.h"
#include "core/classify.h"
#include "geo/geo.h"
#include "analysis/period_store.h"
#include "store/store.h"
#include "util/config.h"
#include "util/result.h"

struct ds_coverage;

#define DS_EVENT_MAX_EVIDENCE 20
#define DS_EVENT_TOP_SOURCES 5

/* One fact: name (a static string, the key in JSON), its value, and an optional text (a key such
 * as a service or a country code, a day, or a qualifier such as "estimated").  Times are unix
 * seconds; durations seconds; shares fractions of 1. */
typedef struct ds_event_evidence { const char *name; double value; char text[64]; } ds_event_evidence;

/* The daily series behind an event (what a report draws): v[i] is local day day0 + i, NaN where
 * no sensor of the query observed that day.  what: "packets" or "hosts". */
typedef struct ds_event_series { int32_t day0; size_t n; double *v; const char *what; } ds_event_series;

typedef struct ds_event_source {
    char addr[64];
    char cc[3];
    uint32_t asn;
    uint64_t packets;
} ds_event_source;

typedef struct ds_event {
    char type[24];                  /* mirai, tool, ... (issue #4's list) */
    char tool[16];                  /* for type tool: zmap, masscan, nmap */
    uint64_t start_ns, end_ns;
    int has_service;
    ds_service service;
    char country[3];                /* "" when the event has none */
    uint64_t sources, packets;
    ds_event_source top[DS_EVENT_TOP_SOURCES];
    size_t ntop;
    /* Every source of an event that groups more than DS_EVENT_TOP_SOURCES could show (a tool
     * campaign), by packets; NULL otherwise.  Owned by the list: ds_events_free frees it. */
    ds_event_source *all;
    size_t nall;
    ds_event_evidence evidence[DS_EVENT_MAX_EVIDENCE];
    size_t nevidence;
    ds_event_series series;         /* n == 0: none; v owned by the list */
} ds_event;

typedef struct ds_event_query {
    int32_t from, to;               /* local days, inclusive */
    int64_t sensor_id;              /* 0: all */
    const char *type;               /* NULL: every type */
    const ds_u64set *exclude;       /* sources left out, or NULL */
    const ds_u64set *research;      /* research scanners seen in the period ([detect]), or NULL */
    uint32_t sensor_silence_s;      /* [detect] sensor_silence: sensor_silent threshold, seconds (0: 3600) */
    const ds_config *cfg;           /* the sensors' declared outages ([sensor.NAME] outage), or NULL */
    /* Which hours each sensor observed (analysis/coverage.h): ds_events_run loads it once, from the
     * series baseline's first day on, and hands it to every detector; a caller may pass its own.
     * NULL (a store without coverage): every hour counts as observed, as before coverage was kept. */
    const struct ds_coverage *coverage;
    /* The in-memory view of the period the detectors read (ds_events_view_open for this very
     * query), opened by a caller that queries it first (the report), or NULL: ds_events_run opens
     * and closes its own.  Not closed by ds_events_run. */
    ds_store *view;
    /* Set by ds_events_run, not by callers: 1 when every (file, sensor, day) the detectors read
     * has its DETECT chunk (core/detin.h) and no source is excluded, so that the detectors read
     * those instead of SRCSVC and SOURCES (DS_NO_DETIN=1 in the environment: never). */
    int detin;
} ds_event_query;

typedef struct ds_events { ds_event *ev; size_t n, cap; } ds_events;

/* The view ds_events_run would load for q (analysis/period_store.h: the period's SRCSVC from the
 * series baseline on, SOURCES, HOURLY, as the detectors q selects need them), over st.  A caller
 * that reads the same period first (the report's cubes and source tables) opens it once, queries
 * it, and passes it as q->view; it closes it with ds_store_close. */
ds_rc ds_events_view_open(ds_store *st, const ds_event_query *q, ds_store **view, ds_err *err);
/* Every kind and day any detector reads for the period [from, to] (DS_EVENTS_PERIOD_LOADS loads
 * in out), each lazy:
 * the loads of a view that serves `events` of any type and sensor over the period, and `top`,
 * the series and the cube over it (`serve` keeps one per period its readers ask about). */
#define DS_EVENTS_PERIOD_LOADS 6
size_t ds_events_period_loads(int32_t from, int32_t to, ds_period_load *out);
/* Find events in [from, to].  geo (may be NULL) names organisations in the summaries. */
ds_rc ds_events_run(ds_store *st, const ds_geo *geo, const ds_event_query *q, ds_events *out, ds_err *err);
void ds_events_free(ds_events *e);
/* A deep copy of src into *dst (what the list owns copied too).  DS_ENOMEM (dst then empty). */
ds_rc ds_events_copy(const ds_events *src, ds_events *dst, ds_err *err);
/* The first fact called name, or NULL. */
const ds_event_evidence *ds_event_fact(const ds_event *v, const char *name);
/* Its value, or dflt when the event has no such fact. */
double ds_event_num(const ds_event *v, const char *name, double dflt);
/* Its text, or NULL when the event has no such fact or its text is empty. */
const char *ds_event_str(const ds_event *v, const char *name);
/* 1 when t is a type this build detects. */
int ds_event_type_known(const char *t);
/* The types this build detects, comma-separated ("mirai, tool, ..."), cut to len. */
char *ds_event_types_format(char *buf, size_t len);

#endif
