/* test_timeutil.c: calendar days and report-timezone days (src/util/timeutil.c).
 *
 * Calendar arithmetic is checked exhaustively over 1970..2100 and against known day numbers.
 * Timezone days are checked at local midnight edges in a whole-hour zone (Asia/Tokyo), a
 * half-hour zone (Asia/Kolkata) and a zone with daylight saving time (Europe/Berlin), and the
 * 15-minute day cache is compared with ds_day_of at every slot over several days, including
 * across the DST changes.  ds_day_start (the one day-boundary function) is checked on days of 23,
 * 24 and 25 hours, in zones whose DST change skips midnight (America/Sao_Paulo 2018, Asia/Beirut),
 * and swept over every day of 2017-2024 in several zones.  The tests set TZ; every one ends back
 * in UTC.
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

#include "util/timeutil.h"

static int32_t DAY(const char *s)
{
    int32_t d;
    if (ds_day_parse(s, &d) != 0)
        fail_msg("'%s' should parse", s);
    return d;
}

/* UNIX seconds of a UTC date and time */
static int64_t UTC(const char *date, int h, int m, int s)
{
    return (int64_t)DAY(date) * 86400 + h * 3600 + m * 60 + s;
}

static void use_tz(const char *name)
{
    ds_err err = { 0 };
    if (ds_tz_use(name, &err) != DS_OK)
        fail_msg("ds_tz_use(%s): %s", name, err.msg);
}

static int back_to_utc(void **state)
{
    (void)state;
    ds_err err = { 0 };
    return ds_tz_use("UTC", &err) == DS_OK ? 0 : -1;
}

/* ---- calendar ------------------------------------------------------------------------ */

static void test_known_days(void **state)
{
    (void)state;
    static const struct { int y; unsigned m, d; int32_t day; const char *s; } k[] = {
        { 1970, 1, 1, 0, "1970-01-01" },       { 1970, 1, 2, 1, "1970-01-02" },
        { 2000, 1, 1, 10957, "2000-01-01" },   { 2000, 2, 29, 11016, "2000-02-29" },
        { 2023, 7, 1, 19539, "2023-07-01" },   { 2024, 2, 29, 19782, "2024-02-29" },
        { 2038, 1, 19, 24855, "2038-01-19" },  { 2100, 3, 1, 47541, "2100-03-01" },
        { 2100, 12, 31, 47846, "2100-12-31" },
    };
    for (size_t i = 0; i < sizeof k / sizeof k[0]; i++) {
        assert_int_equal(ds_days_from_civil(k[i].y, k[i].m, k[i].d), k[i].day);
        int y;
        unsigned m, d;
        ds_civil_from_days(k[i].day, &y, &m, &d);
        assert_int_equal(y, k[i].y);
        assert_int_equal(m, k[i].m);
        assert_int_equal(d, k[i].d);
        assert_int_equal(DAY(k[i].s), k[i].day);
        char buf[11];
        assert_string_equal(ds_day_format(k[i].day, buf), k[i].s);
    }
    /* before the epoch (arithmetic only: ds_day_parse takes 1970 on) */
    assert_int_equal(ds_days_from_civil(1969, 12, 31), -1);
    assert_int_equal(ds_days_from_civil(1900, 3, 1), -25508);
    assert_int_equal(ds_days_from_civil(1600, 3, 1), -135080);
    int y;
    unsigned m, d;
    ds_civil_from_days(-135080, &y, &m, &d);
    assert_int_equal(y, 1600);
    assert_int_equal(m, 3);
    assert_int_equal(d, 1);
}

/* Every day 1970..2100: format -> parse round trip, and the dates advance one day at a time
 * with the Gregorian month lengths. */
static void test_round_trip_1970_2100(void **state)
{
    (void)state;
    static const unsigned mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    int y = 1970;
    unsigned m = 1, d = 1;
    int32_t day = 0;
    for (; y <= 2100; day++) {
        char buf[11], want[40];
        snprintf(want, sizeof want, "%04d-%02u-%02u", y, m, d);
        assert_string_equal(ds_day_format(day, buf), want);
        int32_t back = -999;
        assert_int_equal(ds_day_parse(buf, &back), 0);
        assert_int_equal(back, day);
        assert_int_equal(ds_days_from_civil(y, m, d), day);
        /* next date */
        int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
        unsigned len = mdays[m - 1] + (m == 2 && leap);
        if (++d > len) {
            d = 1;
            if (++m > 12) {
                m = 1;
                y++;
            }
        }
    }
    assert_int_equal(day, 47847);   /* 131 years */
}

static void test_parse_invalid(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "2023-02-29",   /* not a leap year */
        "2100-02-29",   /* century, not a leap year */
        "2023-13-01", "2023-00-10", "2023-01-00", "2023-01-32", "2023-04-31", "2023-06-31",
        "2023-1-1", "2023-1-01", "2023-01-1", "23-01-01",
        "2023-01-01x", "2023-01-01 ", "2023-01-01T00:00", "2023-01-0x",
        " 2023-1-01",   /* sscanf skips the blank */
        "2023- 1-01", "2023-+1-01", "+2023-01-01", "-2023-01-01", "2023-01-+1",
        "2023/01/01", "20230101", "2023_01_01", "", "x", "1969-12-31", "0000-01-01",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int32_t day = 4242;
        if (ds_day_parse(bad[i], &day) == 0)
            fail_msg("'%s' should be refused (got day %d)", bad[i], (int)day);
        assert_int_equal(day, 4242);   /* untouched */
    }
    int32_t day;
    assert_int_not_equal(ds_day_parse(NULL, &day), 0);
    assert_int_equal(ds_day_parse("2000-02-29", &day), 0);
    assert_int_equal(ds_day_parse("9999-12-31", &day), 0);
}

/* ---- timezones ----------------------------------------------------------------------- */

static void test_utc(void **state)
{
    (void)state;
    use_tz("UTC");
    assert_int_equal(ds_tz_offset(0), 0);
    assert_int_equal(ds_day_of(0), 0);
    assert_int_equal(ds_day_of(86399), 0);
    assert_int_equal(ds_day_of(86400), 1);
    assert_int_equal(ds_day_of(-1), -1);
    assert_int_equal(ds_day_of(-86400), -1);
    assert_int_equal(ds_day_of(-86401), -2);
    assert_int_equal(ds_day_of(UTC("2023-07-01", 23, 59, 59)), DAY("2023-07-01"));
    use_tz("");      /* empty means UTC */
    assert_int_equal(ds_tz_offset(UTC("2023-07-01", 0, 0, 0)), 0);
    use_tz("Etc/UTC");
    assert_int_equal(ds_tz_offset(UTC("2023-07-01", 0, 0, 0)), 0);
}

static void test_tokyo_midnight(void **state)
{
    (void)state;
    use_tz("Asia/Tokyo");
    int64_t edge = UTC("2023-06-30", 15, 0, 0);   /* 2023-07-01 00:00 JST */
    assert_int_equal(ds_tz_offset(edge), 9 * 3600);
    assert_int_equal(ds_day_of(edge - 1), DAY("2023-06-30"));
    assert_int_equal(ds_day_of(edge), DAY("2023-07-01"));
    assert_int_equal(ds_day_of(edge + 86399), DAY("2023-07-01"));
    assert_int_equal(ds_day_of(edge + 86400), DAY("2023-07-02"));
    /* 2023-06-30 09:00 UTC is still 2023-06-30 18:00 JST; 2023-06-30 00:00 UTC is 09:00 JST */
    assert_int_equal(ds_day_of(UTC("2023-06-30", 0, 0, 0)), DAY("2023-06-30"));
    assert_int_equal(ds_day_of(UTC("2023-06-29", 14, 59, 59)), DAY("2023-06-29"));
    /* the epoch was 09:00 on 1970-01-01 in Tokyo */
    assert_int_equal(ds_day_of(0), 0);
    assert_int_equal(ds_day_of(-9 * 3600), 0);
    assert_int_equal(ds_day_of(-9 * 3600 - 1), -1);
    /* the cache at the same edges */
    ds_daycache c = DS_DAYCACHE_INIT;
    assert_int_equal(ds_daycache_get(&c, (uint64_t)(edge - 1) * 1000000000ULL + 999999999ULL), DAY("2023-06-30"));
    assert_int_equal(ds_daycache_get(&c, (uint64_t)edge * 1000000000ULL), DAY("2023-07-01"));
    assert_int_equal(ds_daycache_get(&c, (uint64_t)(edge - 1) * 1000000000ULL), DAY("2023-06-30"));   /* back again */
}

/* Every 15-minute slot from `from` for `hours`, at the slot's start, 1 s in and 1 s before its
 * end, in a shuffled-ish order too: the cache agrees with ds_day_of. */
static void cache_agrees(int64_t from, int hours)
{
    ds_daycache c = DS_DAYCACHE_INIT;
    for (int64_t t = from; t < from + hours * 3600; t += 900) {
        static const int64_t in_slot[] = { 0, 1, 450, 898, 899 };
        for (size_t k = 0; k < 5; k++) {
            int64_t s = t + in_slot[k];
            int32_t want = ds_day_of(s);
            int32_t got = ds_daycache_get(&c, (uint64_t)s * 1000000000ULL + (k == 4 ? 999999999ULL : 0));
            if (got != want)
                fail_msg("t=%lld: cache says day %d, ds_day_of %d", (long long)s, (int)got, (int)want);
        }
    }
    /* stride 7 slots back and forth, so the cache often misses */
    ds_daycache c2 = DS_DAYCACHE_INIT;
    int nslots = hours * 4;
    for (int i = 0; i < nslots; i++) {
        int j = (int)(((long long)i * 7) % nslots);
        int64_t s = from + (int64_t)j * 900 + 123;
        assert_int_equal(ds_daycache_get(&c2, (uint64_t)s * 1000000000ULL), ds_day_of(s));
    }
}

static void test_kolkata_half_hour(void **state)
{
    (void)state;
    use_tz("Asia/Kolkata");
    int64_t edge = UTC("2023-06-30", 18, 30, 0);   /* 2023-07-01 00:00 IST (+05:30) */
    assert_int_equal(ds_tz_offset(edge), 5 * 3600 + 1800);
    assert_int_equal(ds_day_of(edge - 1), DAY("2023-06-30"));
    assert_int_equal(ds_day_of(edge), DAY("2023-07-01"));
    assert_int_equal(ds_day_of(UTC("2023-06-30", 18, 15, 0)), DAY("2023-06-30"));
    assert_int_equal(ds_day_of(UTC("2023-06-30", 18, 45, 0)), DAY("2023-07-01"));
    /* four days of slots, and the day count per day: 96 slots each */
    cache_agrees(UTC("2023-06-28", 0, 0, 0), 96);
    ds_daycache c = DS_DAYCACHE_INIT;
    int per_day[8] = { 0 };
    int32_t base = DAY("2023-06-28");
    for (int64_t t = UTC("2023-06-28", 18, 30, 0); t < UTC("2023-07-02", 18, 30, 0); t += 900) {
        int32_t d = ds_daycache_get(&c, (uint64_t)t * 1000000000ULL) - base;
        assert_true(d >= 0 && d < 8);
        per_day[d]++;
    }
    for (int d = 1; d <= 4; d++)
        assert_int_equal(per_day[d], 96);
}

static void test_berlin_dst(void **state)
{
    (void)state;
    use_tz("Europe/Berlin");
    /* 2023-03-26: clocks go 02:00 CET -> 03:00 CEST at 01:00 UTC; the local day has 23 hours */
    assert_int_equal(ds_tz_offset(UTC("2023-03-26", 0, 59, 59)), 3600);
    assert_int_equal(ds_tz_offset(UTC("2023-03-26", 1, 0, 0)), 7200);
    assert_int_equal(ds_day_of(UTC("2023-03-25", 22, 59, 59)), DAY("2023-03-25"));
    assert_int_equal(ds_day_of(UTC("2023-03-25", 23, 0, 0)), DAY("2023-03-26"));
    assert_int_equal(ds_day_of(UTC("2023-03-26", 21, 59, 59)), DAY("2023-03-26"));
    assert_int_equal(ds_day_of(UTC("2023-03-26", 22, 0, 0)), DAY("2023-03-27"));
    /* 2023-10-29: 03:00 CEST -> 02:00 CET at 01:00 UTC; the local day has 25 hours */
    assert_int_equal(ds_tz_offset(UTC("2023-10-29", 0, 59, 59)), 7200);
    assert_int_equal(ds_tz_offset(UTC("2023-10-29", 1, 0, 0)), 3600);
    assert_int_equal(ds_day_of(UTC("2023-10-28", 21, 59, 59)), DAY("2023-10-28"));
    assert_int_equal(ds_day_of(UTC("2023-10-28", 22, 0, 0)), DAY("2023-10-29"));
    assert_int_equal(ds_day_of(UTC("2023-10-29", 22, 59, 59)), DAY("2023-10-29"));
    assert_int_equal(ds_day_of(UTC("2023-10-29", 23, 0, 0)), DAY("2023-10-30"));
    /* the cache over both weekends */
    cache_agrees(UTC("2023-03-24", 12, 0, 0), 96);
    cache_agrees(UTC("2023-10-27", 12, 0, 0), 96);
    /* slots per local day: 92 on the short day, 100 on the long one */
    ds_daycache c = DS_DAYCACHE_INIT;
    int32_t d26 = DAY("2023-03-26"), d29 = DAY("2023-10-29");
    int n26 = 0, n29 = 0;
    for (int64_t t = UTC("2023-03-25", 0, 0, 0); t < UTC("2023-03-28", 0, 0, 0); t += 900)
        n26 += ds_daycache_get(&c, (uint64_t)t * 1000000000ULL) == d26;
    for (int64_t t = UTC("2023-10-28", 0, 0, 0); t < UTC("2023-10-31", 0, 0, 0); t += 900)
        n29 += ds_daycache_get(&c, (uint64_t)t * 1000000000ULL) == d29;
    assert_int_equal(n26, 92);
    assert_int_equal(n29, 100);
}

/* ---- ds_day_start ------------------------------------------------------------------- */

/* The day starts at `start` (UTC), the second before is the day before, and it lasts `hours`
 * (the next day's start minus this one's, in half hours to allow Lord Howe's 30-minute DST). */
static void day_bounds(const char *zone, const char *date, int64_t start, int half_hours)
{
    use_tz(zone);
    int32_t d = DAY(date);
    int64_t got = ds_day_start(d);
    if (got != start)
        fail_msg("%s %s: starts at %lld, want %lld (%+lld s)", zone, date, (long long)got,
                 (long long)start, (long long)(got - start));
    assert_int_equal(ds_day_of(got), d);
    assert_int_equal(ds_day_of(got - 1), d - 1);
    int64_t len = ds_day_start(d + 1) - got;
    if (len != (int64_t)half_hours * 1800)
        fail_msg("%s %s: %lld s long, want %d half hours", zone, date, (long long)len, half_hours);
    assert_int_equal(ds_day_of(got + len - 1), d);
    assert_int_equal(ds_day_start_ns(d), (uint64_t)got * 1000000000ULL);
}

static void test_day_start(void **state)
{
    (void)state;
    day_bounds("UTC", "2023-07-01", UTC("2023-07-01", 0, 0, 0), 48);
    day_bounds("UTC", "1970-01-01", 0, 48);
    day_bounds("Asia/Tokyo", "2023-07-01", UTC("2023-06-30", 15, 0, 0), 48);
    day_bounds("Asia/Kolkata", "2023-07-01", UTC("2023-06-30", 18, 30, 0), 48);
    /* Berlin: 23 h on 2023-03-26 (02:00 CET -> 03:00 CEST), 25 h on 2023-10-29 */
    day_bounds("Europe/Berlin", "2023-03-25", UTC("2023-03-24", 23, 0, 0), 48);
    day_bounds("Europe/Berlin", "2023-03-26", UTC("2023-03-25", 23, 0, 0), 46);
    day_bounds("Europe/Berlin", "2023-03-27", UTC("2023-03-26", 22, 0, 0), 48);
    day_bounds("Europe/Berlin", "2023-10-29", UTC("2023-10-28", 22, 0, 0), 50);
    day_bounds("Europe/Berlin", "2023-10-30", UTC("2023-10-29", 23, 0, 0), 48);
    /* New York: 23 h on 2023-03-12, 25 h on 2023-11-05 */
    day_bounds("America/New_York", "2023-03-12", UTC("2023-03-12", 5, 0, 0), 46);
    day_bounds("America/New_York", "2023-11-05", UTC("2023-11-05", 4, 0, 0), 50);
    /* Sao Paulo before 2019: DST began at midnight, 2018-11-03 23:59:59 -03 -> 2018-11-04 01:00
     * -02, so 2018-11-04 starts at 01:00 (03:00 UTC) and has 23 h; DST ended at midnight,
     * 2018-02-17 23:59:59 -02 -> 23:00 -03, so 2018-02-17 has 25 h */
    day_bounds("America/Sao_Paulo", "2018-11-03", UTC("2018-11-03", 3, 0, 0), 48);
    day_bounds("America/Sao_Paulo", "2018-11-04", UTC("2018-11-04", 3, 0, 0), 46);
    day_bounds("America/Sao_Paulo", "2018-02-17", UTC("2018-02-17", 2, 0, 0), 50);
    day_bounds("America/Sao_Paulo", "2018-02-18", UTC("2018-02-18", 3, 0, 0), 48);
    /* Beirut: 2023-03-25 23:59:59 EET -> 2023-03-26 01:00 EEST */
    day_bounds("Asia/Beirut", "2023-03-26", UTC("2023-03-25", 22, 0, 0), 46);
    /* Lord Howe: 30-minute DST, 02:00 -> 02:30 on 2023-10-01 */
    day_bounds("Australia/Lord_Howe", "2023-10-01", UTC("2023-09-30", 13, 30, 0), 47);
    /* before 1970: the ns variant says 0 */
    use_tz("Asia/Tokyo");
    assert_int_equal(ds_day_start(0), -9 * 3600);
    assert_int_equal(ds_day_start_ns(0), 0);
}

/* Every day of 2017-2024: the start is a second of the day whose previous second is not, no
 * second of the 26 h before it (every 15 minutes) is in the day, and the day lasts 23 to 25 h. */
static void test_day_start_sweep(void **state)
{
    (void)state;
    static const char *const zones[] = { "UTC", "Europe/Berlin", "America/New_York", "America/Sao_Paulo",
                                         "Asia/Beirut", "America/Santiago", "Australia/Lord_Howe", "Asia/Kolkata" };
    for (size_t z = 0; z < sizeof zones / sizeof zones[0]; z++) {
        use_tz(zones[z]);
        int64_t prev = ds_day_start(DAY("2017-01-01") - 1);
        for (int32_t d = DAY("2017-01-01"); d <= DAY("2024-12-31"); d++) {
            int64_t s = ds_day_start(d);
            if (ds_day_of(s) != d || ds_day_of(s - 1) != d - 1)
                fail_msg("%s day %d: start %lld is in day %d, the second before in %d", zones[z], (int)d,
                         (long long)s, (int)ds_day_of(s), (int)ds_day_of(s - 1));
            for (int64_t t = s - 26 * 3600; t < s; t += 900)
                if (ds_day_of(t) >= d)
                    fail_msg("%s day %d: %lld is in the day, before its start %lld", zones[z], (int)d,
                             (long long)t, (long long)s);
            if (s - prev < 23 * 3600 || s - prev > 25 * 3600)
                fail_msg("%s day %d: the day before lasted %lld s", zones[z], (int)d, (long long)(s - prev));
            prev = s;
        }
    }
}

static void test_unknown_zone(void **state)
{
    (void)state;
    use_tz("Asia/Tokyo");
    static const char *const bad[] = {
        "Mars/Olympus_Mons", "Asia/Tokio", "JST", "asia/tokyo",
        "Asia",             /* a directory of zones, not a zone */
        "zone.tab",         /* a table next to the zone files */
        "../../../etc/passwd", "Asia/../Asia/Tokyo", "/usr/share/zoneinfo/Asia/Tokyo",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ds_err err = { 0 };
        if (ds_tz_use(bad[i], &err) != DS_EINVAL)
            fail_msg("'%s' should be refused", bad[i]);
        if (!strstr(err.msg, bad[i]) || !strstr(err.msg, "timezone"))
            fail_msg("message should name the zone: %s", err.msg);
    }
    /* a refused name leaves the zone in use as it was */
    assert_int_equal(ds_tz_offset(UTC("2023-07-01", 0, 0, 0)), 9 * 3600);
    use_tz("GMT");
    assert_int_equal(ds_tz_offset(UTC("2023-07-01", 0, 0, 0)), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_days),
        cmocka_unit_test(test_round_trip_1970_2100),
        cmocka_unit_test(test_parse_invalid),
        cmocka_unit_test_teardown(test_utc, back_to_utc),
        cmocka_unit_test_teardown(test_tokyo_midnight, back_to_utc),
        cmocka_unit_test_teardown(test_kolkata_half_hour, back_to_utc),
        cmocka_unit_test_teardown(test_berlin_dst, back_to_utc),
        cmocka_unit_test_teardown(test_day_start, back_to_utc),
        cmocka_unit_test_teardown(test_day_start_sweep, back_to_utc),
        cmocka_unit_test_teardown(test_unknown_zone, back_to_utc),
    };
    return cmocka_run_group_tests(tests, 0, NULL);
}
