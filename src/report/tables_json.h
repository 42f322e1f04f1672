/* tables_json.h: the JSON of the query commands, written to any stream.
 *
 * `darkscope top|events|stats --format json` print these to stdout and `darkscope serve`
 * (net/serve_api.c) writes them into its answers, so the API and the CLI give the same bytes for
 * the same query: one renderer, two callers.  Fields are documented in docs/api.md and the
 * commands' --help.  Times: local ("2023-07-01 12:34:56", the store's timezone) in top and stats,
 * UTC ISO 8601 in events.
 */
#ifndef DS_REPORT_TABLES_JSON_H
#define DS_REPORT_TABLES_JSON_H
#include <stdint.h>
#include <stdio.h>

#include "analysis/coverage.h"
#include "analysis/events.h"
#include "analysis/top.h"
#include "geo/geo.h"
#include "report/event_text.h"
#include "store/store.h"

/* What ZZ means in `top countries` (src/report/names.h has the report's English and Japanese). */
#define DS_TOP_ZZ_LABEL "private/reserved or unknown"

/* `top --format json`: an array of ranked rows. */
void ds_json_top(FILE *f, const ds_top_query *q, const ds_top_result *r, const ds_geo *geo);
/* `events --format json`: an array of events, each with its summary in English and Japanese. */
void ds_json_events(FILE *f, const ds_events *e, const ds_event_words *w);

/* v's sentence in lang, NUL-terminated in o (o is reused: "" when memory ran out). */
const char *ds_event_sentence_z(const ds_event *v, const ds_event_words *w, ds_lang lang, ds_out *o);

/* `stats --format json`: per sensor its counts, coverage and silence. */
typedef struct ds_stats_view {
    const ds_sensor_stats *rows; size_t n;
    const ds_coverage *cov;                     /* NULL: the store covers nothing */
    const ds_outage *outages; size_t noutages;
    const ds_sensor_health *health; size_t nhealth;
    uint32_t silence_s;                         /* [detect] sensor_silence */
    int64_t now;                                /* unix seconds */
    const char *tz;                             /* the store's timezone */
} ds_stats_view;
void ds_json_stats(FILE *f, const ds_stats_view *v);
/* Seconds sensor `name` has been silent (no upload for longer than threshold), 0 when it is not,
 * -1 when the collector never heard of it. */
int64_t ds_sensor_silent_for(const ds_sensor_health *h, size_t nh, const char *name, uint32_t threshold, int64_t now);

#endif
