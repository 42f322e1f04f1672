/* test_num.c: the bounded number parser (src/util/num.c), the no-such-date reasons
 * (ds_day_explain, src/util/timeutil.c) and the CIDR reasons (ds_prefix_explain,
 * src/core/darknet.c) of issue #21: out-of-range numbers refused, never saturated or wrapped. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "core/darknet.h"
#include "util/num.h"
#include "util/timeutil.h"

static void has(const char *msg, const char *want)
{
    if (!strstr(msg, want))
        fail_msg("\"%s\" lacks \"%s\"", msg, want);
}

static void test_u64(void **state)
{
    (void)state;
    uint64_t v = 7;
    ds_err err = { 0 };
    assert_int_equal(ds_parse_u64("0", 0, 10, &v, &err), DS_OK);
    assert_int_equal(v, 0);
    assert_int_equal(ds_parse_u64("18446744073709551615", 0, UINT64_MAX, &v, &err), DS_OK);
    assert_true(v == UINT64_MAX);
    static const char *const bad[] = { "", "-1", "+1", " 1", "1 ", "1x", "0x10", "1e3", "1.0" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        v = 7;
        assert_int_equal(ds_parse_u64(bad[i], 0, UINT64_MAX, &v, &err), DS_EINVAL);
        has(err.msg, "is not a whole number");
        assert_int_equal(v, 7);   /* untouched */
    }
    static const char *const big[] = { "18446744073709551616", "99999999999999999999",
                                       "000000000000000000000000000000000000000099999999999999999999" };
    for (size_t i = 0; i < sizeof big / sizeof big[0]; i++) {
        assert_int_equal(ds_parse_u64(big[i], 0, UINT64_MAX, &v, &err), DS_EINVAL);
        has(err.msg, "out of range (0 to 18446744073709551615)");
    }
    assert_int_equal(ds_parse_u64("65", 1, 64, &v, &err), DS_EINVAL);
    has(err.msg, "'65' is out of range (1 to 64)");
    assert_int_equal(ds_parse_u64("0", 1, 64, &v, &err), DS_EINVAL);
    assert_int_equal(ds_parse_u64(NULL, 0, 1, &v, &err), DS_EINVAL);
}

static void test_size(void **state)
{
    (void)state;
    uint64_t v;
    ds_err err = { 0 };
    assert_int_equal(ds_parse_size("64M", 1, UINT64_MAX, &v, &err), DS_OK);
    assert_true(v == 64ull << 20);
    assert_int_equal(ds_parse_size("64MiB", 1, UINT64_MAX, &v, &err), DS_OK);
    assert_true(v == 64ull << 20);
    assert_int_equal(ds_parse_size("10g", 1, UINT64_MAX, &v, &err), DS_OK);
    assert_true(v == 10ull << 30);
    assert_int_equal(ds_parse_size("4096", 1, UINT64_MAX, &v, &err), DS_OK);
    assert_true(v == 4096);
    assert_int_equal(ds_parse_size("16777215T", 1, UINT64_MAX, &v, &err), DS_OK);
    assert_int_equal(ds_parse_size("16777216T", 1, UINT64_MAX, &v, &err), DS_EINVAL);   /* 2^64 */
    has(err.msg, "out of range");
    assert_int_equal(ds_parse_size("1P", 1, UINT64_MAX, &v, &err), DS_EINVAL);
    has(err.msg, "not a size");
    assert_int_equal(ds_parse_size("-1M", 1, UINT64_MAX, &v, &err), DS_EINVAL);
    assert_int_equal(ds_parse_size("0", 1, UINT64_MAX, &v, &err), DS_EINVAL);
    assert_int_equal(ds_parse_size("1Mx", 1, UINT64_MAX, &v, &err), DS_EINVAL);
}

static void test_double(void **state)
{
    (void)state;
    double d;
    ds_err err = { 0 };
    assert_int_equal(ds_parse_double("1.5", 0, 10, &d, &err), DS_OK);
    assert_true(d == 1.5);
    assert_int_equal(ds_parse_double("1e3", 0, 1e8, &d, &err), DS_OK);
    assert_true(d == 1000);
    assert_int_equal(ds_parse_double(".5", 0, 1, &d, &err), DS_OK);
    static const char *const bad[] = { "", "nan", "inf", "-inf", " 1", "0x10", "1,5", "+1", "abc", "." };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(ds_parse_double(bad[i], 0, 1e9, &d, &err), DS_EINVAL);
    assert_int_equal(ds_parse_double("-1", 0, 10, &d, &err), DS_EINVAL);
    assert_int_equal(ds_parse_double("-1", -5, 10, &d, &err), DS_OK);
    assert_true(d == -1);
    assert_int_equal(ds_parse_double("1e999", 0, 1e300, &d, &err), DS_EINVAL);
    has(err.msg, "out of range");
}

static void test_day_explain(void **state)
{
    (void)state;
    char why[96];
    assert_int_equal(ds_day_explain("2023-02-30", why, sizeof why), 1);
    assert_string_equal(why, "no such date: February has 28 days in 2023");
    assert_int_equal(ds_day_explain("2024-02-30", why, sizeof why), 1);
    assert_string_equal(why, "no such date: February has 29 days in 2024");
    assert_int_equal(ds_day_explain("2100-02-29", why, sizeof why), 1);   /* not a leap year */
    assert_string_equal(why, "no such date: February has 28 days in 2100");
    assert_int_equal(ds_day_explain("2023-09-31", why, sizeof why), 1);
    assert_string_equal(why, "no such date: September has 30 days");
    assert_int_equal(ds_day_explain("2023-12-32", why, sizeof why), 1);
    assert_string_equal(why, "no such date: December has 31 days");
    assert_int_equal(ds_day_explain("2023-00-10", why, sizeof why), 1);
    has(why, "no such month: 00");
    assert_int_equal(ds_day_explain("1969-12-31", why, sizeof why), 1);
    has(why, "year 1969");
    assert_int_equal(ds_day_explain("2023-7-1", why, sizeof why), 0);
    assert_int_equal(ds_day_explain("july", why, sizeof why), 0);
    assert_int_equal(ds_day_explain("2023-07-01", why, sizeof why), 0);   /* a date */
    assert_int_equal(ds_day_explain(NULL, why, sizeof why), 0);
}

static void test_prefix_explain(void **state)
{
    (void)state;
    static const struct { const char *in, *want; } cases[] = {
        { "198.51.100.0/33", "prefix length 33 is over 32 for IPv4" },
        { "198.51.100.0/999999999999", "prefix length 999999999999 is over 32 for IPv4" },
        { "198.51.300.0/24", "octet 3 is 300, over 255" },
        { "198.51.100/24", "has 3 parts; an IPv4 address has 4" },
        { "1.2.3.4.5", "more than 4 parts" },
        { "1..3.4/8", "part 2 is empty" },
        { "1.2.3.04", "octet 4 (04) has a leading zero" },
        { "a.b.c.d/8", "part 1 ('a') is not a number" },
        { "198.51.100.0/", "prefix length '' is not a number 0..32" },
        { "198.51.100.0/-1", "prefix length '-1' is not a number 0..32" },
        { "2001:db8::/129", "prefix length 129 is over 128 for IPv6" },
        { "2001:db8:::1/64", "not an IPv6 address" },
        { "198.51.100.1/24", "host bits set below /24 (the network is 198.51.100.0/24)" },
        { "2001:db8::1/32", "host bits set below /32 (the network is 2001:db8::/32)" },
        { "/24", "no address before the '/'" },
    };
    char why[160];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ds_prefix p;
        assert_int_not_equal(ds_prefix_parse(cases[i].in, &p), 0);
        assert_int_equal(ds_prefix_explain(cases[i].in, why, sizeof why), 1);
        has(why, cases[i].want);
    }
    assert_int_equal(ds_prefix_explain("198.51.100.0/24", why, sizeof why), 0);
    assert_string_equal(why, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_u64), cmocka_unit_test(test_size), cmocka_unit_test(test_double),
        cmocka_unit_test(test_day_explain), cmocka_unit_test(test_prefix_explain),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
