/* textfmt.c: numbers and dates as published tables print them (see textfmt.h).
 *
 * Numbers are printed with printf's "%.*f" (correct rounding of the binary value) and then
 * grouped by three, so grouping never depends on the C locale (LC_NUMERIC could give "1.234,5").
 * A result that does not fit the caller's buffer becomes "#": a cut number would be a wrong
 * number in a published table.  These live in util, not report, because event summaries
 * (analysis), the CLI tables and the report all print the same numbers the same way.
 */
#include "util/textfmt.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "util/timeutil.h"

#define PLUS_MINUS "\xc2\xb1"             /* U+00B1 */

/* ---- numbers ----------------------------------------------------------------------------- */

/* Copies a finished result into the caller's buffer, or "#" if it does not fit. */
static char *put_whole(char *buf, size_t len, const char *s)
{
    if (!buf || len == 0)
        return buf;
    size_t n = strlen(s);
    if (n < len)
        memcpy(buf, s, n + 1);
    else if (len >= 2)
        memcpy(buf, "#", 2);
    else
        buf[0] = '\0';
    return buf;
}

/* Groups the integer part of raw ("1234567.89", digits only) by three into out.  Returns the
 * length, or -1 if out is too small.  *all_zero says whether every digit is 0. */
static int group_digits(const char *raw, char *out, size_t outlen, int *all_zero)
{
    size_t n = strlen(raw);
    const char *dot = strchr(raw, '.');
    size_t intlen = dot ? (size_t)(dot - raw) : n;
    size_t commas = intlen ? (intlen - 1) / 3 : 0;
    if (n + commas >= outlen)
        return -1;
    size_t o = 0;
    *all_zero = 1;
    for (size_t i = 0; i < n; i++) {
        if (raw[i] >= '1' && raw[i] <= '9')
            *all_zero = 0;
        out[o++] = raw[i];
        size_t left = intlen - i - 1;   /* integer digits still to come */
        if (i < intlen && left > 0 && left % 3 == 0)
            out[o++] = ',';
    }
    out[o] = '\0';
    return (int)o;
}

static int clamp_decimals(int decimals)
{
    return decimals < 0 ? 0 : decimals > 9 ? 9 : decimals;
}

/* |a| rounded to decimals and grouped.  a is finite and >= 0. */
static int group_abs(double a, int decimals, char *out, size_t outlen, int *all_zero)
{
    char raw[400];   /* DBL_MAX has 309 integer digits, plus '.' and up to 9 decimals */
    int n = snprintf(raw, sizeof raw, "%.*f", clamp_decimals(decimals), a);
    if (n < 0 || (size_t)n >= sizeof raw)
        return -1;
    return group_digits(raw, out, outlen, all_zero);
}

char *ds_fmt_count(uint64_t v, char *buf, size_t len)
{
    char raw[24], grouped[DS_FMT_COUNT_LEN];
    int all_zero;
    snprintf(raw, sizeof raw, "%" PRIu64, v);
    group_digits(raw, grouped, sizeof grouped, &all_zero);   /* 26 bytes at most: fits */
    return put_whole(buf, len, grouped);
}

/* sign + grouped |v| + suffix */
static char *signed_number(const char *sign, double a, int decimals, const char *suffix, char *buf, size_t len)
{
    char tmp[512];
    size_t sl = strlen(sign);
    int all_zero;
    memcpy(tmp, sign, sl);
    int n = group_abs(a, decimals, tmp + sl, sizeof tmp - sl - 8, &all_zero);
    if (n < 0)
        return put_whole(buf, len, "#");
    snprintf(tmp + sl + (size_t)n, 8, "%s", suffix);
    return put_whole(buf, len, tmp);
}

/* Whether |a| prints as zero with this many decimals. */
static int rounds_to_zero(double a, int decimals)
{
    char tmp[512];
    int all_zero = 0;
    return group_abs(fabs(a), decimals, tmp, sizeof tmp, &all_zero) >= 0 && all_zero;
}

char *ds_fmt_fixed(double v, int decimals, char *buf, size_t len)
{
    if (!isfinite(v))
        return put_whole(buf, len, DS_FMT_NA);
    const char *sign = v < 0 && !rounds_to_zero(v, decimals) ? "-" : "";
    return signed_number(sign, fabs(v), decimals, "", buf, len);
}

char *ds_fmt_pct(double v, int decimals, char *buf, size_t len)
{
    if (!isfinite(v))
        return put_whole(buf, len, DS_FMT_NA);
    const char *sign = v < 0 && !rounds_to_zero(v, decimals) ? "-" : "";
    return signed_number(sign, fabs(v), decimals, "%", buf, len);
}

static int no_comparison(double cur, double prev, double min_prev)
{
    return !isfinite(cur) || !isfinite(prev) || !(prev > 0) || !(prev >= min_prev);
}

static char *change_number(double d, int decimals, const char *suffix, char *buf, size_t len)
{
    if (!isfinite(d))
        return put_whole(buf, len, DS_FMT_NA);
    const char *sign = rounds_to_zero(d, decimals) ? PLUS_MINUS : d > 0 ? "+" : "-";
    return signed_number(sign, fabs(d), decimals, suffix, buf, len);
}

char *ds_fmt_change(double cur, double prev, double min_prev, int decimals, char *buf, size_t len)
{
    if (no_comparison(cur, prev, min_prev))
        return put_whole(buf, len, DS_FMT_NA);
    return change_number(cur - prev, decimals, "", buf, len);
}

char *ds_fmt_change_pct(double cur, double prev, double min_prev, char *buf, size_t len)
{
    if (no_comparison(cur, prev, min_prev))
        return put_whole(buf, len, DS_FMT_NA);
    return change_number((cur - prev) / prev * 100.0, 1, "%", buf, len);
}

/* ---- text and dates ---------------------------------------------------------------------- */

static int utf8_seq_len(unsigned char lead)
{
    return lead < 0x80 ? 1 : lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
}

char *ds_fmt_text(char *buf, size_t len, const char *fmt, ...)
{
    if (!buf || len == 0)
        return buf;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, len, fmt, ap);
    va_end(ap);
    if (n < 0) {
        buf[0] = '\0';
        return buf;
    }
    if ((size_t)n >= len) {
        /* vsnprintf stopped at len - 1 bytes; drop a character it split there */
        size_t cut = len - 1, start = cut;
        while (start > 0 && ((unsigned char)buf[start - 1] & 0xC0) == 0x80)
            start--;
        if (start > 0) {
            unsigned char lead = (unsigned char)buf[start - 1];
            if (lead >= 0xC0 && cut - (start - 1) < (size_t)utf8_seq_len(lead))
                buf[start - 1] = '\0';
        }
    }
    return buf;
}

static const char *const month_en[12] = {
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
};
static const char *const month_en_abbr[12] = {
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
};
static const char *const month_ja[12] = {
    "1月", "2月", "3月", "4月", "5月", "6月", "7月", "8月", "9月", "10月", "11月", "12月",
};

const char *ds_fmt_month_name(unsigned m, int ja, int abbrev)
{
    if (m < 1 || m > 12)
        return "?";
    return ja ? month_ja[m - 1] : abbrev ? month_en_abbr[m - 1] : month_en[m - 1];
}

char *ds_fmt_day(int32_t day, int ja, char *buf, size_t len)
{
    int y;
    unsigned m, d;
    ds_civil_from_days(day, &y, &m, &d);
    if (ja)
        return ds_fmt_text(buf, len, "%d年%u月%u日", y, m, d);
    return ds_fmt_text(buf, len, "%u %s %d", d, ds_fmt_month_name(m, 0, 0), y);
}

char *ds_fmt_day_short(int32_t day, int ja, char *buf, size_t len)
{
    int y;
    unsigned m, d;
    ds_civil_from_days(day, &y, &m, &d);
    if (ja)
        return ds_fmt_text(buf, len, "%u/%u", m, d);
    return ds_fmt_text(buf, len, "%s %u", ds_fmt_month_name(m, 0, 1), d);
}

char *ds_fmt_day_iso(int32_t day, char *buf, size_t len)
{
    int y;
    unsigned m, d;
    ds_civil_from_days(day, &y, &m, &d);
    return ds_fmt_text(buf, len, "%04d-%02u-%02u", y, m, d);
}

/* Runs of characters that need no escape go out in one fwrite: a character at a time (each a
 * locked fputc) was a twentieth of `events --format json`, whose summaries are most of its bytes. */
void ds_json_fputs(FILE *f, const char *s)
{
    const unsigned char *run = (const unsigned char *)s, *p = run;
    fputc('"', f);
    for (; *p; p++) {
        if (*p != '"' && *p != '\\' && *p >= 0x20)
            continue;
        if (p > run)
            fwrite(run, 1, (size_t)(p - run), f);
        if (*p == '"' || *p == '\\')
            fprintf(f, "\\%c", *p);
        else
            fprintf(f, "\\u%04x", *p);
        run = p + 1;
    }
    if (p > run)
        fwrite(run, 1, (size_t)(p - run), f);
    fputc('"', f);
}

char *ds_fmt_time_local(uint64_t ts_ns, char *buf, size_t len)
{
    time_t t = (time_t)(ts_ns / 1000000000ULL);
    struct tm tm;
    if (!ts_ns || !localtime_r(&t, &tm)) {
        snprintf(buf, len, "-");
        return buf;
    }
    strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm);
    return buf;
}

char *ds_fmt_time_utc(uint64_t ns, char *buf, size_t len)
{
    time_t t = (time_t)(ns / 1000000000ULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}
