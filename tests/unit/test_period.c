/* test_period.c: report periods (src/report/period.c).
 *
 * Every accepted spelling, quarter and month lengths across leap years (including the century
 * rules 2000/2100/2400), previous periods across year boundaries, ranges stepping back by their
 * own length, labels in both languages, and the refusals with their messages.  A sweep over
 * every month and quarter of 1970..2400 checks that each period's previous one ends the day
 * before it starts, so periods tile the calendar without gaps or overlaps.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "report/period.h"
#include "util/timeutil.h"

static int32_t DAY(const char *s)
{
    int32_t d;
    if (ds_day_parse(s, &d) != 0)
        fail_msg("'%s' should parse", s);
    return d;
}

static ds_period P(const char *text)
{
    ds_period p;
    ds_err err = { 0 };
    if (ds_period_parse(text, &p, &err) != DS_OK)
        fail_msg("'%s' should parse: %s", text, err.msg);
    return p;
}

static void check(const ds_period *p, ds_period_kind kind, const char *from, const char *to, int year, int num)
{
    char a[11], b[11];
    assert_int_equal(p->kind, kind);
    assert_string_equal(ds_day_format(p->from, a), from);
    assert_string_equal(ds_day_format(p->to, b), to);
    assert_int_equal(p->year, year);
    assert_int_equal(p->num, num);
}

static void test_quarters(void **state)
{
    (void)state;
    static const char *const spellings[] = { "2023Q3", "2023q3", "2023-Q3", "2023-q3", " 2023Q3\n" };
    for (size_t i = 0; i < sizeof spellings / sizeof spellings[0]; i++) {
        ds_period p = P(spellings[i]);
        check(&p, DS_PERIOD_QUARTER, "2023-07-01", "2023-09-30", 2023, 3);
        assert_int_equal(ds_period_days(&p), 92);
    }
    ds_period p = P("2024Q1");
    check(&p, DS_PERIOD_QUARTER, "2024-01-01", "2024-03-31", 2024, 1);
    assert_int_equal(ds_period_days(&p), 91);   /* leap year */
    p = P("2023Q1");
    assert_int_equal(ds_period_days(&p), 90);
    p = P("2100Q1");
    assert_int_equal(ds_period_days(&p), 90);   /* century, not leap */
    p = P("2000Q1");
    assert_int_equal(ds_period_days(&p), 91);   /* 400-year rule */
    p = P("2023Q2");
    check(&p, DS_PERIOD_QUARTER, "2023-04-01", "2023-06-30", 2023, 2);
    assert_int_equal(ds_period_days(&p), 91);
    p = P("2023Q4");
    check(&p, DS_PERIOD_QUARTER, "2023-10-01", "2023-12-31", 2023, 4);
    assert_int_equal(ds_period_days(&p), 92);
    p = P("1970Q1");
    assert_int_equal(p.from, 0);
    p = P("9999Q4");
    check(&p, DS_PERIOD_QUARTER, "9999-10-01", "9999-12-31", 9999, 4);
}

static void test_months_years_days(void **state)
{
    (void)state;
    ds_period p = P("2023-07");
    check(&p, DS_PERIOD_MONTH, "2023-07-01", "2023-07-31", 2023, 7);
    p = P("2023-02");
    check(&p, DS_PERIOD_MONTH, "2023-02-01", "2023-02-28", 2023, 2);
    p = P("2024-02");
    check(&p, DS_PERIOD_MONTH, "2024-02-01", "2024-02-29", 2024, 2);
    p = P("2400-02");
    assert_int_equal(ds_period_days(&p), 29);
    p = P("2100-02");
    assert_int_equal(ds_period_days(&p), 28);
    p = P("2023");
    check(&p, DS_PERIOD_YEAR, "2023-01-01", "2023-12-31", 2023, 0);
    assert_int_equal(ds_period_days(&p), 365);
    p = P("2024");
    assert_int_equal(ds_period_days(&p), 366);
    p = P("2023-07-01..2023-08-15");
    check(&p, DS_PERIOD_RANGE, "2023-07-01", "2023-08-15", 0, 0);
    assert_int_equal(ds_period_days(&p), 46);
    p = P("2023-07-01");
    check(&p, DS_PERIOD_RANGE, "2023-07-01", "2023-07-01", 0, 0);
    assert_int_equal(ds_period_days(&p), 1);
    p = P("2023-07-01..2023-07-01");
    assert_int_equal(ds_period_days(&p), 1);
    p = P("2023-12-31..2024-01-01");
    assert_int_equal(ds_period_days(&p), 2);
    p = P("1970-01-01..9999-12-31");
    assert_int_equal(p.from, 0);
    assert_int_equal(p.to, DAY("9999-12-31"));
}

static void test_previous(void **state)
{
    (void)state;
    ds_period p = P("2023Q1"), prev;
    ds_period_previous(&p, &prev);
    check(&prev, DS_PERIOD_QUARTER, "2022-10-01", "2022-12-31", 2022, 4);
    p = P("2023Q3");
    ds_period_previous(&p, &prev);
    check(&prev, DS_PERIOD_QUARTER, "2023-04-01", "2023-06-30", 2023, 2);
    p = P("2023-03");
    ds_period_previous(&p, &prev);
    check(&prev, DS_PERIOD_MONTH, "2023-02-01", "2023-02-28", 2023, 2);
    p = P("2024-03");
    ds_period_previous(&p, &prev);
    check(&prev, DS_PERIOD_MONTH, "2024-02-01", "2024-02-29", 2024, 2);
    p = P("2023-01");
    ds_period_previous(&p, &prev);
    check(&prev, DS_PERIOD_MONTH, "2022-12-01", "2022-12-31", 2022, 12);
    p = P("2023");
    ds_period_previous(&p, &prev);
    check(&prev, DS_PERIOD_YEAR, "2022-01-01", "2022-12-31", 2022, 0);
    p = P("2025");
    ds_period_previous(&p, &prev);
    assert_int_equal(ds_period_days(&prev), 366);
    p = P("2023-07-01..2023-08-15");   /* 46 days */
    ds_period_previous(&p, &prev);
    check(&prev, DS_PERIOD_RANGE, "2023-05-16", "2023-06-30", 0, 0);
    assert_int_equal(ds_period_days(&prev), 46);
    p = P("2024-03-01");
    ds_period_previous(&p, &prev);
    check(&prev, DS_PERIOD_RANGE, "2024-02-29", "2024-02-29", 0, 0);
    /* before the epoch: arithmetic still right, days negative */
    p = P("1970Q1");
    ds_period_previous(&p, &prev);
    assert_int_equal(prev.year, 1969);
    assert_int_equal(prev.num, 4);
    assert_int_equal(prev.to, -1);
    assert_int_equal(prev.from, -92);
    /* in place */
    p = P("2023Q1");
    ds_period_previous(&p, &p);
    assert_int_equal(p.year, 2022);
    assert_int_equal(p.num, 4);
}

/* Every month and quarter 1970..2400: the previous period ends the day before, and parsing its
 * spelling gives the same period back. */
static void test_tiling(void **state)
{
    (void)state;
    for (int y = 1971; y <= 2400; y++) {
        for (int m = 1; m <= 12; m++) {
            char s[32];
            snprintf(s, sizeof s, "%04d-%02d", y, m);
            ds_period p = P(s), prev;
            ds_period_previous(&p, &prev);
            assert_int_equal(prev.to, p.from - 1);
            snprintf(s, sizeof s, "%04d-%02d", prev.year, prev.num);
            ds_period again = P(s);
            assert_memory_equal(&again, &prev, sizeof prev);
            int32_t first = ds_days_from_civil(y, (unsigned)m, 1);
            int32_t next = m == 12 ? ds_days_from_civil(y + 1, 1, 1) : ds_days_from_civil(y, (unsigned)m + 1, 1);
            assert_int_equal(p.from, first);
            assert_int_equal(p.to, next - 1);
        }
        for (int q = 1; q <= 4; q++) {
            char s[32];
            snprintf(s, sizeof s, "%04dQ%d", y, q);
            ds_period p = P(s), prev;
            ds_period_previous(&p, &prev);
            assert_int_equal(prev.to, p.from - 1);
            snprintf(s, sizeof s, "%04d-q%d", prev.year, prev.num);
            ds_period again = P(s);
            assert_memory_equal(&again, &prev, sizeof prev);
        }
        char s[32];
        snprintf(s, sizeof s, "%04d", y);
        ds_period yr = P(s), prev;
        ds_period_previous(&yr, &prev);
        assert_int_equal(prev.to, yr.from - 1);
        assert_int_equal(prev.year, y - 1);
    }
}

static void test_refused(void **state)
{
    (void)state;
    static const struct { const char *text, *says; } bad[] = {
        { "2023-02-30", "February 2023 has no day 30" },
        { "2023-02-29", "no day 29" },
        { "2100-02-29", "no day 29" },
        { "2023-04-31", "no day 31" },
        { "2023-13", "month 13" },
        { "2023-00", "month 00" },
        { "2023-13-01", "month 13" },
        { "2023Q0", "quarter 0" },
        { "2023Q5", "quarter 5" },
        { "2023-Qx", "quarter x" },
        { "2023Q\x1b", "quarter ? is not" },
        { "1969", "year 1969 is outside 1970..9999" },
        { "1969Q4", "year 1969" },
        { "1969-12", "year 1969" },
        { "1969-12-31", "year 1969" },
        { "1969-12-31..1970-01-05", "year 1969" },
        { "0000", "year 0000" },
        { "2023-08-15..2023-07-01", "ends (2023-07-01) before it starts (2023-08-15)" },
        { "2023-07-01..", "a first and a last day" },
        { "..2023-07-01", "a first and a last day" },
        { "..", "a first and a last day" },
        { "2023-07-01..2023-07-1", "'2023-07-1' is not a date" },
        { "2023-07-01...2023-07-05", "is not a date" },
        { "2023-07-01..2023-02-30", "no day 30" },
        { "", "is empty" },
        { "   ", "is empty" },
        { "Q3 2023", "is not understood" },
        { "2023Q", "is not understood" },
        { "2023Q33", "is not understood" },
        { "2023-7", "is not understood" },
        { "2023-7-1", "is not understood" },
        { "23Q3", "is not understood" },
        { "+2023", "is not understood" },
        { "20230701", "is not understood" },
        { "2023/07", "is not understood" },
        { "10000", "is not understood" },
        { "2023-07-0x", "is not a date" },
        { "2023 -07-01", "is not understood" },
        { "2023- 7-01", "is not a date" },
        { "2023-+7-01", "is not a date" },
        { "2023-07\x1b[31m", "is not understood" },
        { "yesterday", "'yesterday' is not understood" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ds_period p = { .kind = DS_PERIOD_YEAR, .from = 4242, .to = 4242, .year = 7, .num = 7 };
        ds_err err = { 0 };
        ds_rc rc = ds_period_parse(bad[i].text, &p, &err);
        if (rc != DS_EINVAL)
            fail_msg("'%s' should be refused (rc %d)", bad[i].text, (int)rc);
        if (!strstr(err.msg, bad[i].says))
            fail_msg("'%s': message '%s' should say '%s'", bad[i].text, err.msg, bad[i].says);
        if (!strstr(err.msg, "period"))
            fail_msg("'%s': message '%s' should name the period", bad[i].text, err.msg);
        assert_null(strchr(err.msg, '\x1b'));   /* no terminal escapes echoed */
        assert_int_equal(p.from, 4242);          /* untouched */
        assert_int_equal(p.year, 7);
    }
    ds_period p;
    ds_err err = { 0 };
    assert_int_equal(ds_period_parse(NULL, &p, &err), DS_EINVAL);
    assert_int_equal(ds_period_parse("nope", &p, NULL), DS_EINVAL);   /* err may be NULL */
    /* the text is named, and a long one is cut */
    char longtext[300];
    memset(longtext, 'x', sizeof longtext - 1);
    longtext[sizeof longtext - 1] = '\0';
    assert_int_equal(ds_period_parse(longtext, &p, &err), DS_EINVAL);
    assert_non_null(strstr(err.msg, "xxx..."));
    assert_true(strlen(err.msg) < 200);
}

static void label(const char *text, int ja, const char *want)
{
    char buf[DS_PERIOD_LABEL_LEN];
    ds_period p = P(text);
    assert_string_equal(ds_period_label(&p, ja, buf, sizeof buf), want);
}

static void test_labels(void **state)
{
    (void)state;
    label("2023Q3", 0, "Q3 2023");
    label("2023Q3", 1, "2023年第3四半期（7月～9月）");
    label("2023Q1", 1, "2023年第1四半期（1月～3月）");
    label("2023Q4", 1, "2023年第4四半期（10月～12月）");
    label("2023-07", 0, "July 2023");
    label("2023-07", 1, "2023年7月");
    label("2023-12", 1, "2023年12月");
    label("2023", 0, "2023");
    label("2023", 1, "2023年");
    label("2023-07-01..2023-08-15", 0, "1 July 2023 \xe2\x80\x93 15 August 2023");
    label("2023-07-01..2023-08-15", 1, "2023年7月1日～2023年8月15日");
    label("2023-07-01", 0, "1 July 2023");
    label("2023-07-01", 1, "2023年7月1日");
    label("9999-09-30..9999-12-31", 0, "30 September 9999 \xe2\x80\x93 31 December 9999");

    /* a short buffer cuts at a character boundary, never inside one */
    ds_period p = P("2023Q3");
    for (size_t len = 1; len <= 40; len++) {
        char buf[64];
        memset(buf, 'Z', sizeof buf);
        ds_period_label(&p, 1, buf, len);
        size_t n = strlen(buf);
        assert_true(n < len);
        assert_memory_equal(buf, "2023年第3四半期（7月～9月）", n);
        /* the cut string is valid UTF-8: it never ends in a lead or partial sequence */
        const unsigned char *u = (const unsigned char *)buf;
        size_t i = 0;
        while (i < n) {
            size_t k = u[i] < 0x80 ? 1 : u[i] >= 0xF0 ? 4 : u[i] >= 0xE0 ? 3 : 2;
            assert_true(i + k <= n);
            i += k;
        }
        assert_int_equal(buf[len], 'Z');   /* nothing written past len */
    }
    char tiny[1] = { 'Z' };
    ds_period_label(&p, 0, tiny, 1);
    assert_int_equal(tiny[0], '\0');
    assert_null(ds_period_label(&p, 0, NULL, 0));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_quarters),
        cmocka_unit_test(test_months_years_days),
        cmocka_unit_test(test_previous),
        cmocka_unit_test(test_tiling),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_labels),
    };
    return cmocka_run_group_tests(tests, 0, NULL);
}
