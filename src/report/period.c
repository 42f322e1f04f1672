/* period.c: parse, step back and label report periods.
 *
 * The accepted forms follow ISO 8601 calendar dates (YYYY, YYYY-MM, YYYY-MM-DD) plus the
 * quarter notation analysts use for quarterly reports (2023Q3, 2023-Q3) and an inclusive day
 * range written with "..", as in `git log a..b` or Rust's a..=b.  The parser is hand-written
 * over fixed positions rather than sscanf, which would accept blanks and signs inside numbers
 * and could not say which part of the text is wrong.
 *
 * Calendar arithmetic is Howard Hinnant's days_from_civil / civil_from_days (util/timeutil.c),
 * so a quarter or month is exact across leap years: 2024Q1 has 91 days, 2023Q1 has 90.
 */
#include "report/period.h"

#include <stdio.h>
#include <string.h>

#include "report/fmt.h"
#include "util/timeutil.h"

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* Value of n digits at s, or -1 if one of them is not a digit. */
static int digits(const char *s, size_t n)
{
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (!is_digit(s[i]))
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

/* The user's text for an error message: at most 60 bytes, non-printing ASCII as '?' so a
 * terminal never receives control sequences from it. */
static const char *shown(const char *s, size_t n, char out[64])
{
    size_t k = n < 60 ? n : 60;
    for (size_t i = 0; i < k; i++) {
        unsigned char c = (unsigned char)s[i];
        out[i] = c < 0x20 || c == 0x7f ? '?' : (char)c;
    }
    strcpy(out + k, n > k ? "..." : "");
    return out;
}

static ds_rc bad_year(ds_err *err, const char *text, int y)
{
    return ds_fail(err, DS_EINVAL, "period '%s': year %04d is outside 1970..9999", text, y);
}

/* "YYYY-MM-DD" at s (exactly n bytes) -> day.  On failure fills err naming text. */
static ds_rc parse_date(const char *s, size_t n, const char *text, int32_t *day, ds_err *err)
{
    char part[64];
    if (n != 10 || s[4] != '-' || s[7] != '-')
        return ds_fail(err, DS_EINVAL, "period '%s': '%s' is not a date (YYYY-MM-DD)", text, shown(s, n, part));
    int y = digits(s, 4), m = digits(s + 5, 2), d = digits(s + 8, 2);
    if (y < 0 || m < 0 || d < 0)
        return ds_fail(err, DS_EINVAL, "period '%s': '%s' is not a date (YYYY-MM-DD)", text, shown(s, n, part));
    if (y < 1970)
        return bad_year(err, text, y);
    if (m < 1 || m > 12)
        return ds_fail(err, DS_EINVAL, "period '%s': month %02d in '%s' is not 01..12", text, m, shown(s, n, part));
    if (d < 1 || d > ds_month_days(y, (unsigned)m))
        return ds_fail(err, DS_EINVAL, "period '%s': %s %d has no day %02d (it has %d days)", text,
                       ds_fmt_month_name((unsigned)m, 0, 0), y, d, ds_month_days(y, (unsigned)m));
    *day = ds_days_from_civil(y, (unsigned)m, (unsigned)d);
    return DS_OK;
}

ds_rc ds_period_parse(const char *text, ds_period *out, ds_err *err)
{
    if (!text)
        return ds_fail(err, DS_EINVAL, "no period given");
    size_t n = strlen(text);
    const char *t = text;
    while (n && is_blank(*t)) {
        t++;
        n--;
    }
    while (n && is_blank(t[n - 1]))
        n--;
    char show[64];
    shown(t, n, show);
    if (n == 0)
        return ds_fail(err, DS_EINVAL, "period '%s' is empty; use 2023Q3, 2023-07, 2023, 2023-07-01 "
                       "or 2023-07-01..2023-08-15", text);

    ds_period p = { .kind = DS_PERIOD_RANGE };
    const char *dots = NULL;
    for (size_t i = 0; i + 1 < n; i++)
        if (t[i] == '.' && t[i + 1] == '.') {
            dots = t + i;
            break;
        }
    int y = n >= 4 ? digits(t, 4) : -1;
    ds_rc rc;

    if (dots) {
        size_t ln = (size_t)(dots - t);
        const char *r = dots + 2;
        size_t rn = n - ln - 2;
        if (ln == 0 || rn == 0)
            return ds_fail(err, DS_EINVAL, "period '%s': a range needs a first and a last day "
                           "(2023-07-01..2023-08-15)", show);
        if ((rc = parse_date(t, ln, show, &p.from, err)) != DS_OK ||
            (rc = parse_date(r, rn, show, &p.to, err)) != DS_OK)
            return rc;
        if (p.to < p.from) {
            char a[11], b[11];
            return ds_fail(err, DS_EINVAL, "period '%s': the range ends (%s) before it starts (%s)", show,
                           ds_day_format(p.to, b), ds_day_format(p.from, a));
        }
    } else if (n == 10 && t[4] == '-' && t[7] == '-') {
        if ((rc = parse_date(t, n, show, &p.from, err)) != DS_OK)
            return rc;
        p.to = p.from;
    } else if (y >= 0 && n == 4) {
        if (y < 1970)
            return bad_year(err, show, y);
        p.kind = DS_PERIOD_YEAR;
        p.year = y;
        p.from = ds_days_from_civil(y, 1, 1);
        p.to = ds_days_from_civil(y, 12, 31);
    } else if (y >= 0 && ((n == 6 && (t[4] == 'Q' || t[4] == 'q')) ||
                          (n == 7 && t[4] == '-' && (t[5] == 'Q' || t[5] == 'q')))) {
        int q = digits(t + n - 1, 1);
        if (q < 1 || q > 4)
            return ds_fail(err, DS_EINVAL, "period '%s': quarter %c is not 1..4", show, show[n - 1]);
        if (y < 1970)
            return bad_year(err, show, y);
        p.kind = DS_PERIOD_QUARTER;
        p.year = y;
        p.num = q;
        unsigned first = (unsigned)(q - 1) * 3 + 1;
        p.from = ds_days_from_civil(y, first, 1);
        p.to = ds_days_from_civil(y, first + 2, (unsigned)ds_month_days(y, first + 2));
    } else if (y >= 0 && n == 7 && t[4] == '-' && digits(t + 5, 2) >= 0) {
        int m = digits(t + 5, 2);
        if (m < 1 || m > 12)
            return ds_fail(err, DS_EINVAL, "period '%s': month %02d is not 01..12", show, m);
        if (y < 1970)
            return bad_year(err, show, y);
        p.kind = DS_PERIOD_MONTH;
        p.year = y;
        p.num = m;
        p.from = ds_days_from_civil(y, (unsigned)m, 1);
        p.to = ds_days_from_civil(y, (unsigned)m, (unsigned)ds_month_days(y, (unsigned)m));
    } else {
        return ds_fail(err, DS_EINVAL, "period '%s' is not understood; use 2023Q3, 2023-07, 2023, "
                       "2023-07-01 or 2023-07-01..2023-08-15", show);
    }
    *out = p;
    return DS_OK;
}

void ds_period_previous(const ds_period *p, ds_period *prev)
{
    ds_period r = *p;
    switch (p->kind) {
    case DS_PERIOD_YEAR:
        r.year = p->year - 1;
        r.from = ds_days_from_civil(r.year, 1, 1);
        r.to = ds_days_from_civil(r.year, 12, 31);
        break;
    case DS_PERIOD_QUARTER: {
        r.year = p->num > 1 ? p->year : p->year - 1;
        r.num = p->num > 1 ? p->num - 1 : 4;
        unsigned first = (unsigned)(r.num - 1) * 3 + 1;
        r.from = ds_days_from_civil(r.year, first, 1);
        r.to = ds_days_from_civil(r.year, first + 2, (unsigned)ds_month_days(r.year, first + 2));
        break;
    }
    case DS_PERIOD_MONTH:
        r.year = p->num > 1 ? p->year : p->year - 1;
        r.num = p->num > 1 ? p->num - 1 : 12;
        r.from = ds_days_from_civil(r.year, (unsigned)r.num, 1);
        r.to = ds_days_from_civil(r.year, (unsigned)r.num, (unsigned)ds_month_days(r.year, (unsigned)r.num));
        break;
    case DS_PERIOD_RANGE:
        r.to = p->from - 1;
        r.from = p->from - ds_period_days(p);
        break;
    }
    *prev = r;
}

int32_t ds_period_days(const ds_period *p)
{
    return p->to - p->from + 1;
}

char *ds_period_label(const ds_period *p, int ja, char *buf, size_t len)
{
    switch (p->kind) {
    case DS_PERIOD_YEAR:
        return ds_fmt_text(buf, len, ja ? "%d年" : "%d", p->year);
    case DS_PERIOD_QUARTER: {
        unsigned first = (unsigned)(p->num - 1) * 3 + 1;
        if (ja)
            return ds_fmt_text(buf, len, "%d年第%d四半期（%u月～%u月）", p->year, p->num, first, first + 2);
        return ds_fmt_text(buf, len, "Q%d %d", p->num, p->year);
    }
    case DS_PERIOD_MONTH:
        if (ja)
            return ds_fmt_text(buf, len, "%d年%d月", p->year, p->num);
        return ds_fmt_text(buf, len, "%s %d", ds_fmt_month_name((unsigned)p->num, 0, 0), p->year);
    case DS_PERIOD_RANGE:
        break;
    }
    char a[DS_FMT_DAY_LEN], b[DS_FMT_DAY_LEN];
    ds_fmt_day(p->from, ja, a, sizeof a);
    if (p->to == p->from)
        return ds_fmt_text(buf, len, "%s", a);
    ds_fmt_day(p->to, ja, b, sizeof b);
    return ds_fmt_text(buf, len, ja ? "%s～%s" : "%s \xe2\x80\x93 %s", a, b);
}
