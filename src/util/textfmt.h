/* textfmt.h: numbers and dates as the published reports print them, for every layer.
 *
 * Numbers: digits are grouped by three with commas in both languages (JPCERT/CC and the NPA
 * print "1,234,567" in Japanese tables too), the decimal point is '.', negative numbers start
 * with an ASCII hyphen-minus.  A number never gets cut: if it does not fit the caller's buffer
 * the result is "#" (as a spreadsheet shows a too-narrow cell), never wrong digits.
 * Text (dates, labels) is cut like snprintf, but only at a UTF-8 character boundary.
 */
#ifndef DS_UTIL_TEXTFMT_H
#define DS_UTIL_TEXTFMT_H
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* What a change is when there is nothing to compare with (no previous value or a negligible
 * one): an em dash, U+2014, in both languages.  The @police and TSUBAME tables print a dash
 * for "no comparison"; U+2014 renders as a full-width dash in Japanese fonts and a long dash in
 * Latin ones, so one string serves both languages. */
#define DS_FMT_NA "\xe2\x80\x94"

/* Buffer sizes that always suffice. */
#define DS_FMT_COUNT_LEN 32    /* 18,446,744,073,709,551,615 */
#define DS_FMT_NUM_LEN 64      /* ds_fmt_fixed / pct / change for |v| < 1e40 */
#define DS_FMT_DAY_LEN 40      /* every ds_fmt_day* result for years up to 9999 */

char *ds_fmt_count(uint64_t v, char *buf, size_t len);               /* 1,234,567 */
/* decimals is clamped to 0..9.  Non-finite values give DS_FMT_NA.  A value that rounds to zero
 * prints without a sign ("0.00", never "-0.00"). */
char *ds_fmt_fixed(double v, int decimals, char *buf, size_t len);   /* 1,234.57 */
/* v is in PERCENT already: ds_fmt_pct(12.345, 1) is "12.3%" (pass share * 100). */
char *ds_fmt_pct(double v, int decimals, char *buf, size_t len);
/* Signed change cur - prev: "+1,234" / "-56" / "±0" (the sign follows the rounded value).
 * Returns DS_FMT_NA when prev is zero or negligible (prev < min_prev) or not finite. */
char *ds_fmt_change(double cur, double prev, double min_prev, int decimals, char *buf, size_t len);
/* Relative change (cur - prev) / prev with one decimal: "+12.3%" / "-4.0%" / "±0.0%";
 * DS_FMT_NA under the same conditions as ds_fmt_change. */
char *ds_fmt_change_pct(double cur, double prev, double min_prev, char *buf, size_t len);

/* Dates of a local day: en "1 July 2023" / short "Jul 1"; ja "2023年7月1日" / short "7/1";
 * ISO "2023-07-01". */
char *ds_fmt_day(int32_t day, int ja, char *buf, size_t len);
char *ds_fmt_day_short(int32_t day, int ja, char *buf, size_t len);
char *ds_fmt_day_iso(int32_t day, char *buf, size_t len);
/* Month name, m = 1..12: en "July" (or "Jul" when abbrev), ja "7月" either way.  Out of range
 * gives "?". */
const char *ds_fmt_month_name(unsigned m, int ja, int abbrev);
/* snprintf that cuts at a UTF-8 character boundary instead of inside a character. */
char *ds_fmt_text(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* s as a JSON string, quotes included (RFC 8259 section 7: '"', '\\' and controls escaped). */
void ds_json_fputs(FILE *f, const char *s);
/* "2023-07-01 12:34:56" in the current timezone; "-" for 0. */
char *ds_fmt_time_local(uint64_t ts_ns, char *buf, size_t len);
/* "2023-07-01T12:34:56Z" (UTC, ISO 8601 / RFC 3339). */
char *ds_fmt_time_utc(uint64_t ts_ns, char *buf, size_t len);

#endif
