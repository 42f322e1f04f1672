/* events_int.h: what the detectors (detect_*.c) share; not for callers outside analysis/.
 *
 * A detector is one function that appends events to a ds_events list.  events.c keeps the table
 * of detectors with the event types each one produces, so `--type T` runs only the detector that
 * makes T, and a new detector is one file plus one row in that table.
 */
#ifndef DS_EVENTS_INT_H
#define DS_EVENTS_INT_H
#include "analysis/events.h"
#include "analysis/robust.h"
#include "analysis/top.h"

typedef ds_rc (*ds_detector_fn)(ds_store *st, const ds_geo *geo, const ds_event_query *q, ds_events *out,
                                ds_err *err);

/* A new zeroed event at the end of e, or NULL (err says out of memory). */
ds_event *ds_events_add(ds_events *e, ds_err *err);
/* One named number behind the event, with an optional text (a service, a day, a country);
 * silently ignored past DS_EVENT_MAX_EVIDENCE. */
void ds_event_evidence_add(ds_event *v, const char *name, double value, const char *text);
/* Fill v->top from rows[skip..] of a DS_TOP_SOURCES result (at most DS_EVENT_TOP_SOURCES). */
void ds_event_top_from(ds_event *v, const ds_top_result *tr, size_t skip);
/* Give v the daily series vals[0..n) of days day0.. (copied); a day whose weight w[i] is 0 (no
 * sensor observed it; w may be NULL) becomes NaN.  -1 (err says so) when memory ran out. */
int ds_event_series_set(ds_event *v, int32_t day0, size_t n, const double *vals, const double *w, const char *what,
                        ds_err *err);
/* 1 when the query asks for type t (no --type, or --type t). */
int ds_event_wanted(const ds_event_query *q, const char *t);

ds_rc ds_detect_mirai(ds_store *st, const ds_geo *geo, const ds_event_query *q, ds_events *out, ds_err *err);
ds_rc ds_detect_tools(ds_store *st, const ds_geo *geo, const ds_event_query *q, ds_events *out, ds_err *err);
ds_rc ds_detect_research(ds_store *st, const ds_geo *geo, const ds_event_query *q, ds_events *out, ds_err *err);
ds_rc ds_detect_floods(ds_store *st, const ds_geo *geo, const ds_event_query *q, ds_events *out, ds_err *err);
/* The floods and reflections at dark addresses of q's period (and the day before), merged. */
struct ds_flood_vec;
typedef struct ds_flood_list { struct ds_flood_vec *v; size_t n, cap; } ds_flood_list;
ds_rc ds_floods_load(ds_store *st, const ds_event_query *q, ds_flood_list *l, ds_err *err);
ds_rc ds_detect_backscatter(ds_store *st, const ds_geo *geo, const ds_event_query *q, ds_events *out, ds_err *err);
ds_rc ds_detect_scans(ds_store *st, const ds_geo *geo, const ds_event_query *q, ds_events *out, ds_err *err);
ds_rc ds_detect_vertical(ds_store *st, const ds_geo *geo, const ds_event_query *q, ds_events *out, ds_err *err);
ds_rc ds_detect_series(ds_store *st, const ds_geo *geo, const ds_event_query *q, ds_events *out, ds_err *err);
ds_rc ds_detect_periodic(ds_store *st, const ds_geo *geo, const ds_event_query *q, ds_events *out, ds_err *err);
ds_rc ds_detect_silence(ds_store *st, const ds_geo *geo, const ds_event_query *q, ds_events *out, ds_err *err);

/* The series detector's rule for spike runs (series_judge.c, robust.h); min_excess is set per
 * store from it. */
extern const ds_spike_rule ds_series_spike_rule;

#endif
