/* period.h: the time span a report covers (a year, a quarter, a month or a range of days).
 *
 * Reports are periodic like JPCERT/CC's quarterly TSUBAME report, the NPA's monthly @police
 * report and NICTER's yearly statistics, and compare with the period before.  A period is kept
 * as its first and last local day (days since 1970-01-01 in the report timezone, see
 * util/timeutil.h), so the report model queries [from, to] and never needs the calendar again.
 */
#ifndef DS_REPORT_PERIOD_H
#define DS_REPORT_PERIOD_H
#include <stddef.h>
#include <stdint.h>

#include "util/result.h"

typedef enum ds_period_kind { DS_PERIOD_YEAR, DS_PERIOD_QUARTER, DS_PERIOD_MONTH, DS_PERIOD_RANGE } ds_period_kind;

typedef struct ds_period {
    ds_period_kind kind;
    int32_t from, to;      /* local days, inclusive */
    int year, num;         /* 2023 and quarter 3 / month 7 (0 for year and range) */
} ds_period;

/* Big enough for every label ds_period_label makes (the longest is an English range of two
 * years 1970..9999, about 45 bytes). */
#define DS_PERIOD_LABEL_LEN 96

/* Parses "2023Q3" (also "2023q3", "2023-Q3"), "2023-07", "2023", "2023-07-01..2023-08-15"
 * (inclusive), and a single day "2023-07-01" (a one-day range).  Blanks around the text are
 * ignored.  Rejects bad dates (2023-02-30), to < from, years outside 1970..9999, with a
 * DS_EINVAL message naming the text and what is wrong.  *out is untouched on failure. */
ds_rc ds_period_parse(const char *text, ds_period *out, ds_err *err);

/* The previous period of equal kind: previous quarter / month / year (calendar), or for a range
 * the same number of days immediately before.  (The previous of 1970Q1 is 1969Q4, with negative
 * day numbers; the store simply has no data there.) */
void ds_period_previous(const ds_period *p, ds_period *prev);

/* Number of days, to - from + 1. */
int32_t ds_period_days(const ds_period *p);

/* Human label: en "Q3 2023", "July 2023", "2023", "1 July 2023 – 15 August 2023" (U+2013 with
 * spaces; a one-day range is just "1 July 2023"); ja "2023年第3四半期（7月～9月）", "2023年7月",
 * "2023年", "2023年7月1日～2023年8月15日" (U+FF5E).  Like snprintf it always terminates buf
 * (len > 0) and cuts a too-long label at a UTF-8 character boundary.  Returns buf. */
char *ds_period_label(const ds_period *p, int ja, char *buf, size_t len);

#endif
