/* event_text.h: an event's facts (analysis/events.h) stated as sentences a CSIRT can publish.
 *
 * Detectors produce facts only; the words are here, one file per language (event_en.c,
 * event_ja.c), so that a wording fix is one edit and a new language is one file.  Both take the
 * report's names (names.h: 韓国, "South Korea", 23/TCP) and the geo data's organisation names, so
 * `darkscope events`, the report's "Notable phenomena" section and its JSON say the same thing.
 * The rules every sentence follows (docs/report.md#phenomena): numbers as in the tables
 * ("1,234"; never "1e+04"), singular and plural right ("1 packet"), ports as 23/TCP, countries by
 * name, times in UTC, no command lines and no field names.
 */
#ifndef DS_REPORT_EVENT_TEXT_H
#define DS_REPORT_EVENT_TEXT_H
#include "analysis/events.h"
#include "geo/geo.h"
#include "report/fmt.h"
#include "report/names.h"

typedef struct ds_event_words {
    ds_lang lang;
    const ds_names *names;   /* countries and services by name; NULL: by code */
    const ds_geo *geo;       /* organisations of ASNs; NULL: numbers only */
} ds_event_words;

/* The paragraph stating v's facts, appended to o (o->failed says when memory ran out). */
void ds_event_sentence(const ds_event *v, const ds_event_words *w, ds_out *o);
/* A heading for v: "Surge of 1521/TCP" / "1521/TCP宛てパケットの急増". */
void ds_event_heading(const ds_event *v, const ds_event_words *w, ds_out *o);
/* What v is about, as a table cell: "1521/TCP", "South Korea", "23/TCP from China". */
void ds_event_subject(const ds_event *v, const ds_event_words *w, ds_out *o);

#endif
