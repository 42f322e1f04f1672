/* fmt.h: numbers, dates and escaped text for published reports (HTML, Markdown, JSON).
 *
 * Numbers: digits are grouped by three with commas in both languages (JPCERT/CC and the NPA
 * print "1,234,567" in Japanese tables too), the decimal point is '.', negative numbers start
 * with an ASCII hyphen-minus.  A number never gets cut: if it does not fit the caller's buffer
 * the result is "#" (as a spreadsheet shows a too-narrow cell), never wrong digits.
 *
 * Text (dates, labels) is cut like snprintf, but only at a UTF-8 character boundary.
 *
 * ds_out is an append-only output buffer with a hard maximum and a sticky failure flag, in the
 * manner of SQLite's StrAccum and curl's dynbuf: renderers append freely and check o->failed
 * once at the end (ds_out_write_file refuses a failed buffer).
 */
#ifndef DS_REPORT_FMT_H
#define DS_REPORT_FMT_H
#include <stddef.h>
#include <stdint.h>

#include "util/result.h"

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

/* ---- output buffer ----------------------------------------------------------------------- */

#define DS_OUT_DEFAULT_MAX ((size_t)256 << 20)   /* 256 MiB */

/* p is NUL-terminated whenever it is not NULL; len excludes the NUL; max bounds len. */
typedef struct ds_out { char *p; size_t len, cap, max; int failed; } ds_out;   /* max 0: 256 MiB */

void ds_out_init(ds_out *o, size_t max);
/* Frees the memory; the buffer is empty and usable again (same max, failed cleared). */
void ds_out_free(ds_out *o);
void ds_out_putn(ds_out *o, const char *s, size_t n);
void ds_out_puts(ds_out *o, const char *s);
void ds_out_printf(ds_out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Every escaper replaces invalid UTF-8 (RFC 3629: overlong forms, surrogates, > U+10FFFF,
 * truncated sequences) with U+FFFD, one per maximal invalid subpart (Unicode 15, section 3.9).
 * NULL is treated as "". */

/* HTML text or (quoted) attribute value: & < > " ' become entities; C0/C1 control characters
 * other than tab, LF and CR become U+FFFD (HTML 5: they are parse errors). */
void ds_out_html(ds_out *o, const char *s);
/* JSON string with the quotes (RFC 8259): \" \\ \b \f \n \r \t, other controls as \u00XX;
 * < > & as \u003c \u003e \u0026 and U+2028/U+2029 escaped, so the output can also sit inside an
 * HTML <script> element.  Other UTF-8 passes through. */
void ds_out_json_str(ds_out *o, const char *s);
/* Markdown (GFM) table cell: \ ` * _ [ ] < > | ~ & are backslash-escaped so text stays text;
 * LF, CR LF and CR become <br>; tab becomes a space; other controls become U+FFFD. */
void ds_out_md(ds_out *o, const char *s);
/* RFC 4648 section 4 base64 with padding (for data: URIs of figures). */
void ds_out_base64(ds_out *o, const unsigned char *p, size_t n);

/* Writes the buffer to path atomically: a temporary file in the same directory, fsync, rename
 * over path, fsync of the directory.  The new file gets the mode of the file it replaces, or
 * 0644.  Refuses (DS_ENOMEM) a failed buffer; the error names the path.  No temporary file is
 * left behind on any failure. */
ds_rc ds_out_write_file(const ds_out *o, const char *path, ds_err *err);

#endif
