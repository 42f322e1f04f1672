/* events.c: see events.h.  The table of detectors, the run over them, and the helpers they share.
 *
 * Each detector lives in its own file (detect_*.c) and reads the store through the same queries
 * as `top` and the report (top.h, cube.h, raw chunk scans), so an event's numbers add up to what
 * those print.  The table says which event types each detector produces; `--type T` runs only
 * that detector, and the known types are the union of the table.
 */
#include "analysis/events_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/grow.h"

static const struct detector {
    const char *types[6];       /* what it produces; NULL-terminated */
    ds_detector_fn run;
} DETECTORS[] = {
    { { "mirai", NULL }, ds_detect_mirai },
    { { "tool", NULL }, ds_detect_tools },
    { { "backscatter", NULL }, ds_detect_backscatter },
    { { "scan", NULL }, ds_detect_scans },
    { { "spike", "surge", "new_service", "single_source", NULL }, ds_detect_series },
    { { "periodic_daily", "periodic_weekly", NULL }, ds_detect_periodic },
    { { "research_scanner", NULL }, ds_detect_research },
    { { "sensor_silent", NULL }, ds_detect_silence },
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

static int ev_cmp(const void *a, const void *b)
{
    const ds_event *x = a, *y = b;
    if (x->start_ns != y->start_ns)
        return x->start_ns < y->start_ns ? -1 : 1;
    return strcmp(x->type, y->type);
}

ds_rc ds_events_run(ds_store *st, const ds_geo *geo, const ds_event_query *q, ds_events *out, ds_err *err)
{
    ds_rc rc = DS_OK;
    memset(out, 0, sizeof *out);
    if (q->type && !ds_event_type_known(q->type)) {
        char known[512];
        return ds_fail(err, DS_EINVAL, "event type '%s' is not detected by this build (known: %s)", q->type,
                       ds_event_types_format(known, sizeof known));
    }
    for (size_t i = 0; i < NDETECTORS && rc == DS_OK; i++)
        if (!q->type || produces(&DETECTORS[i], q->type))
            rc = DETECTORS[i].run(st, geo, q, out, err);
    if (rc != DS_OK) {
        ds_events_free(out);
        return rc;
    }
    if (out->n)
        qsort(out->ev, out->n, sizeof *out->ev, ev_cmp);
    return DS_OK;
}

void ds_events_free(ds_events *e)
{
    free(e->ev);
    memset(e, 0, sizeof *e);
}
