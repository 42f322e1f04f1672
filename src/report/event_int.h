/* event_int.h: what event_text.c shares with the language files event_en.c and event_ja.c. */
#ifndef DS_REPORT_EVENT_INT_H
#define DS_REPORT_EVENT_INT_H
#include "report/event_text.h"

/* A source port is named when it sent at least this share of an event's packets (the detectors
 * record the leading port whatever its share; docs/detection.md). */
#define DS_EV_SPORT_SHARE 0.5

/* Country name in w's language, or the code without names tables. */
const char *ds_ev_country(const ds_event_words *w, const char *cc);
/* The same in an English sentence: "the Netherlands", "the United States". */
const char *ds_ev_country_en(const ds_event_words *w, const char *cc);
/* "1521/TCP" (both languages, as the tables print ports). */
char *ds_ev_service(ds_service s, char *buf, size_t len);
/* A source as "192.0.2.1 (China, AS4837 CHINA UNICOM ...)" / "192.0.2.1（中国、AS4837 ...）";
 * a special-purpose address (ZZ, no ASN) as "(a private or reserved address)". */
void ds_ev_source(const ds_event_words *w, const char *addr, const char *cc, uint32_t asn, ds_out *o);
/* UTC time of unix seconds t: "2023-07-06 16:21" / "2023年7月6日16:21"; with same_day_of (not
 * 0) on the same UTC day, only "16:21". */
char *ds_ev_time(int64_t t, int ja, int64_t same_day_of, char *buf, size_t len);
/* The local day of an event time (ns) */
int32_t ds_ev_day(uint64_t ns);
/* "9 s", "5.3 min", "2.5 h", "1 day", "3.5 days"; "9秒", "5.3分", ... */
char *ds_ev_dur(double s, int ja, char *buf, size_t len);
/* An exact duration, for outages: "2 h 05 min", "3 d 04 h" / "2時間05分", "3日4時間". */
char *ds_ev_dur_exact(int64_t s, int ja, char *buf, size_t len);
/* "1.3", "12 k", "11 M" (en); "12万", "1.1億" (ja) */
char *ds_ev_si(double v, int ja, char *buf, size_t len);
/* "1,234", "56", "1.6", "0.05": a rate as a person writes it */
char *ds_ev_rate(double v, char *buf, size_t len);
/* The value of fact name, NAN when the event has none. */
double ds_ev_num(const ds_event *v, const char *name);
/* x rounded to a whole count, as the tables print it ("1,234"); 0 for NAN and below. */
const char *ds_ev_int(double x, char *buf, size_t len);
/* The tool's name as a reader knows it ("ZMap", "SQL Slammer"), from v->tool's first name. */
const char *ds_ev_tool_title(const char *tool);

/* A language's sentence for each event type: its table ends with { NULL, fn }, fn the sentence
 * for a type the table does not name.  ds_event_sentence picks the entry. */
typedef void (*ds_ev_text_fn)(const ds_event *v, const ds_event_words *w, ds_out *o);
typedef struct ds_ev_text { const char *type; ds_ev_text_fn fn; } ds_ev_text;
extern const ds_ev_text ds_ev_text_en[], ds_ev_text_ja[];
void ds_event_heading_en(const ds_event *v, const ds_event_words *w, ds_out *o);
void ds_event_heading_ja(const ds_event *v, const ds_event_words *w, ds_out *o);

#endif
