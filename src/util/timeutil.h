/* timeutil.h: days in the report timezone.
 *
 * A store counts "days" in one timezone ([report] timezone, fixed when the store is created):
 * day N is the local calendar date N days after 1970-01-01.  Conversions use the C library's
 * tz database through localtime_r, with TZ set once at start-up.
 */
#ifndef DS_TIMEUTIL_H
#define DS_TIMEUTIL_H
#include <stddef.h>
#include <stdint.h>

#include "util/result.h"

/* Select the timezone (IANA name such as "Asia/Tokyo", or "UTC").  An unknown name is an error
 * (glibc would otherwise silently use UTC). */
ds_rc ds_tz_use(const char *name, ds_err *err);
/* Local day of a UNIX time (seconds). */
int32_t ds_day_of(int64_t sec);
/* The UNIX second at which local day `day` begins: the first second s with ds_day_of(s) == day.
 * That is local midnight, or, where a DST change skips midnight (America/Sao_Paulo before 2019,
 * Asia/Beirut: 23:59:59 -> 01:00), the instant of the change.  Days of 23 and 25 hours come out
 * right: ds_day_start(day + 1) - ds_day_start(day) is the day's length.  The one function for a
 * local day's bounds; a period of days [from, to] is [ds_day_start(from), ds_day_start(to + 1)). */
int64_t ds_day_start(int32_t day);
/* ds_day_start in nanoseconds, 0 for a day that starts before 1970 (packet timestamps are
 * unsigned nanoseconds). */
uint64_t ds_day_start_ns(int32_t day);
/* Local offset from UTC in seconds at a UNIX time. */
long ds_tz_offset(int64_t sec);
/* "YYYY-MM-DD" <-> day number (pure calendar arithmetic, proleptic Gregorian). */
int ds_day_parse(const char *s, int32_t *day);
/* Why ds_day_parse refused s, for the error message: "not a date (YYYY-MM-DD)", "year 1969 is
 * outside 1970..9999", "no such month: 13", "no such date: February has 28 days in 2023".
 * Returns 1 when s has the YYYY-MM-DD shape (digits where they belong) but is no such day, 0
 * when it is not even that shape (or is a date after all). */
int ds_day_explain(const char *s, char *buf, size_t len);
char *ds_day_format(int32_t day, char buf[11]);
/* Day number of a calendar date; y/m/d of a day number. */
int32_t ds_days_from_civil(int y, unsigned m, unsigned d);
void ds_civil_from_days(int32_t z, int *y, unsigned *m, unsigned *d);
/* Days in month m (1..12) of year y (proleptic Gregorian). */
int ds_month_days(int y, unsigned m);
/* The first and last day number of the calendar month holding day. */
void ds_month_span(int32_t day, int32_t *first, int32_t *last);

/* A time as the configuration and the command line write it: "YYYY-MM-DD" (the start of that
 * local day), "YYYY-MM-DDTHH:MM[:SS]" (local time) or either followed by "Z" or "+HH:MM"/"-HH:MM"
 * (that offset).  Returns 0 and sets *sec (UNIX seconds), or -1 when s is not such a time. */
int ds_time_parse(const char *s, int64_t *sec);
/* "FROM..TO" of two such times, FROM before TO: 0, or -1. */
int ds_span_parse(const char *s, int64_t *from, int64_t *to);

/* Maps packet timestamps to local days with a cache per 15-minute slot (every zone offset and
 * every DST change in the tz database falls on a quarter hour, so a slot never spans two days). */
typedef struct ds_daycache { int64_t slot; int32_t day; } ds_daycache;
static inline int32_t ds_daycache_get(ds_daycache *c, uint64_t ts_ns)
{
    int64_t sec = (int64_t)(ts_ns / 1000000000ULL);
    int64_t slot = sec / 900;
    if (slot != c->slot) {
        c->slot = slot;
        c->day = ds_day_of(sec);
    }
    return c->day;
}
#define DS_DAYCACHE_INIT { INT64_MIN, 0 }

/* The wall clock (CLOCK_REALTIME) in ns since 1970: capture times, row versions. */
uint64_t ds_now_ns(void);

#endif
