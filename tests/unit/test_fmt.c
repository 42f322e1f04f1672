/* test_fmt.c: report number/date formatting, escapers, output buffer and atomic write
 * (src/report/fmt.c).
 *
 * Numbers: grouping at every length, rounding, signs, "#" for a too-small buffer, the dash for
 * "no comparison".  Escapers: exact output for HTML, JSON and Markdown specials, the Unicode
 * "maximal subpart" replacement of invalid UTF-8, and a property test feeding random bytes that
 * checks every escaper's output is valid UTF-8 with nothing unescaped.  Base64 uses the RFC 4648
 * section 10 vectors.  The buffer's hard maximum and sticky failure flag are checked at the
 * exact boundary.  ds_out_write_file runs in a fresh temporary directory: content, mode, no
 * temporary file left behind, and the refusals (missing directory, directory target, failed
 * buffer).
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
#include <math.h>
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "report/fmt.h"
#include "util/timeutil.h"

#define NA DS_FMT_NA

/* ---- numbers ----------------------------------------------------------------------------- */

static void test_count(void **state)
{
    (void)state;
    static const struct { uint64_t v; const char *s; } k[] = {
        { 0, "0" }, { 7, "7" }, { 999, "999" }, { 1000, "1,000" }, { 12345, "12,345" },
        { 123456, "123,456" }, { 1234567, "1,234,567" }, { 1000000000, "1,000,000,000" },
        { UINT64_MAX, "18,446,744,073,709,551,615" },
    };
    char buf[DS_FMT_COUNT_LEN];
    for (size_t i = 0; i < sizeof k / sizeof k[0]; i++)
        assert_string_equal(ds_fmt_count(k[i].v, buf, sizeof buf), k[i].s);
    /* every power of ten: commas every three digits from the right */
    uint64_t v = 1;
    for (int digits = 1; digits <= 19; digits++, v *= 10) {
        ds_fmt_count(v, buf, sizeof buf);
        assert_int_equal(strlen(buf), (size_t)digits + (size_t)(digits - 1) / 3);
    }
    /* too small: "#", never a cut number */
    char small[6];
    assert_string_equal(ds_fmt_count(1234567, small, sizeof small), "#");
    assert_string_equal(ds_fmt_count(12345, small, sizeof small), "#");    /* needs 7 */
    char exact[7];
    assert_string_equal(ds_fmt_count(12345, exact, sizeof exact), "12,345");
    char one[1] = { 'Z' };
    assert_string_equal(ds_fmt_count(5, one, 1), "");
}

static void test_fixed_pct(void **state)
{
    (void)state;
    char buf[DS_FMT_NUM_LEN];
    assert_string_equal(ds_fmt_fixed(1234.567, 2, buf, sizeof buf), "1,234.57");
    assert_string_equal(ds_fmt_fixed(1234567.891, 1, buf, sizeof buf), "1,234,567.9");
    assert_string_equal(ds_fmt_fixed(999.999, 2, buf, sizeof buf), "1,000.00");
    assert_string_equal(ds_fmt_fixed(-1234.25, 1, buf, sizeof buf), "-1,234.2");   /* exact .25: half-even */
    assert_string_equal(ds_fmt_fixed(-0.001, 2, buf, sizeof buf), "0.00");         /* never "-0.00" */
    assert_string_equal(ds_fmt_fixed(-0.0, 0, buf, sizeof buf), "0");
    assert_string_equal(ds_fmt_fixed(0.5, 3, buf, sizeof buf), "0.500");
    assert_string_equal(ds_fmt_fixed(123.0, 0, buf, sizeof buf), "123");
    assert_string_equal(ds_fmt_fixed(1e20, 0, buf, sizeof buf), "100,000,000,000,000,000,000");
    assert_string_equal(ds_fmt_fixed(1.5, -3, buf, sizeof buf), "2");              /* clamped to 0 */
    assert_string_equal(ds_fmt_fixed(0.1, 40, buf, sizeof buf), "0.100000000");    /* clamped to 9 */
    assert_string_equal(ds_fmt_fixed(NAN, 2, buf, sizeof buf), NA);
    assert_string_equal(ds_fmt_fixed(INFINITY, 2, buf, sizeof buf), NA);
    assert_string_equal(ds_fmt_fixed(1e300, 2, buf, sizeof buf), "#");             /* > DS_FMT_NUM_LEN */
    char big[512];
    ds_fmt_fixed(-1.7976931348623157e308, 9, big, sizeof big);                     /* DBL_MAX */
    assert_int_equal(strlen(big), 1 + 309 + 102 + 10);

    assert_string_equal(ds_fmt_pct(12.345, 1, buf, sizeof buf), "12.3%");
    assert_string_equal(ds_fmt_pct(100, 0, buf, sizeof buf), "100%");
    assert_string_equal(ds_fmt_pct(0.04, 1, buf, sizeof buf), "0.0%");
    assert_string_equal(ds_fmt_pct(-0.04, 1, buf, sizeof buf), "0.0%");
    assert_string_equal(ds_fmt_pct(-3.25, 2, buf, sizeof buf), "-3.25%");
    assert_string_equal(ds_fmt_pct(12345.6, 1, buf, sizeof buf), "12,345.6%");
    assert_string_equal(ds_fmt_pct(NAN, 1, buf, sizeof buf), NA);
    char small[6];
    assert_string_equal(ds_fmt_pct(12.34, 2, small, sizeof small), "#");
    assert_string_equal(ds_fmt_pct(12.3, 1, small, sizeof small), "12.3%");
}

static void test_change(void **state)
{
    (void)state;
    char buf[DS_FMT_NUM_LEN];
    assert_string_equal(ds_fmt_change(2234, 1000, 0, 0, buf, sizeof buf), "+1,234");
    assert_string_equal(ds_fmt_change(44, 100, 0, 0, buf, sizeof buf), "-56");
    assert_string_equal(ds_fmt_change(5, 5, 0, 0, buf, sizeof buf), "\xc2\xb1" "0");
    assert_string_equal(ds_fmt_change(1.04, 1.0, 0, 1, buf, sizeof buf), "\xc2\xb1" "0.0");
    assert_string_equal(ds_fmt_change(0.96, 1.0, 0, 1, buf, sizeof buf), "\xc2\xb1" "0.0");
    assert_string_equal(ds_fmt_change(1.5, 1.0, 0, 2, buf, sizeof buf), "+0.50");
    assert_string_equal(ds_fmt_change(0, 1234567, 0, 0, buf, sizeof buf), "-1,234,567");
    /* nothing to compare with */
    assert_string_equal(ds_fmt_change(10, 0, 0, 0, buf, sizeof buf), NA);
    assert_string_equal(ds_fmt_change(10, 0.5, 1, 0, buf, sizeof buf), NA);
    assert_string_equal(ds_fmt_change(10, 1, 1, 0, buf, sizeof buf), "+9");   /* prev == min_prev counts */
    assert_string_equal(ds_fmt_change(10, -5, 0, 0, buf, sizeof buf), NA);
    assert_string_equal(ds_fmt_change(10, NAN, 0, 0, buf, sizeof buf), NA);
    assert_string_equal(ds_fmt_change(NAN, 10, 0, 0, buf, sizeof buf), NA);
    assert_string_equal(ds_fmt_change(10, 5, NAN, 0, buf, sizeof buf), NA);

    assert_string_equal(ds_fmt_change_pct(112.3, 100, 0, buf, sizeof buf), "+12.3%");
    assert_string_equal(ds_fmt_change_pct(96, 100, 0, buf, sizeof buf), "-4.0%");
    assert_string_equal(ds_fmt_change_pct(100, 100, 0, buf, sizeof buf), "\xc2\xb1" "0.0%");
    assert_string_equal(ds_fmt_change_pct(100.04, 100, 0, buf, sizeof buf), "\xc2\xb1" "0.0%");
    assert_string_equal(ds_fmt_change_pct(99.96, 100, 0, buf, sizeof buf), "\xc2\xb1" "0.0%");
    assert_string_equal(ds_fmt_change_pct(0, 100, 0, buf, sizeof buf), "-100.0%");
    assert_string_equal(ds_fmt_change_pct(1e6, 1, 0, buf, sizeof buf), "+99,999,900.0%");
    assert_string_equal(ds_fmt_change_pct(50, 0, 0, buf, sizeof buf), NA);
    assert_string_equal(ds_fmt_change_pct(50, 9, 10, buf, sizeof buf), NA);
    assert_string_equal(ds_fmt_change_pct(50, 10, 10, buf, sizeof buf), "+400.0%");
    char small[4];
    assert_string_equal(ds_fmt_change_pct(50, 0, 0, small, sizeof small), NA);   /* 3 bytes + NUL fit */
    assert_string_equal(ds_fmt_change_pct(112.3, 100, 0, small, sizeof small), "#");
}

/* ---- dates and text ---------------------------------------------------------------------- */

static int32_t DAY(const char *s)
{
    int32_t d;
    if (ds_day_parse(s, &d) != 0)
        fail_msg("'%s' should parse", s);
    return d;
}

static void test_days(void **state)
{
    (void)state;
    char buf[DS_FMT_DAY_LEN];
    int32_t d = DAY("2023-07-01");
    assert_string_equal(ds_fmt_day(d, 0, buf, sizeof buf), "1 July 2023");
    assert_string_equal(ds_fmt_day(d, 1, buf, sizeof buf), "2023年7月1日");
    assert_string_equal(ds_fmt_day_short(d, 0, buf, sizeof buf), "Jul 1");
    assert_string_equal(ds_fmt_day_short(d, 1, buf, sizeof buf), "7/1");
    assert_string_equal(ds_fmt_day_iso(d, buf, sizeof buf), "2023-07-01");
    d = DAY("2024-02-29");
    assert_string_equal(ds_fmt_day(d, 0, buf, sizeof buf), "29 February 2024");
    assert_string_equal(ds_fmt_day(d, 1, buf, sizeof buf), "2024年2月29日");
    assert_string_equal(ds_fmt_day_short(d, 0, buf, sizeof buf), "Feb 29");
    assert_string_equal(ds_fmt_day_short(d, 1, buf, sizeof buf), "2/29");
    d = DAY("9999-12-31");
    assert_string_equal(ds_fmt_day(d, 0, buf, sizeof buf), "31 December 9999");
    assert_string_equal(ds_fmt_day(d, 1, buf, sizeof buf), "9999年12月31日");
    assert_string_equal(ds_fmt_day_iso(0, buf, sizeof buf), "1970-01-01");
    assert_string_equal(ds_fmt_day_iso(-1, buf, sizeof buf), "1969-12-31");
    /* every day 1970..2100: ISO agrees with timeutil, the long forms name the month */
    for (int32_t day = 0; day <= DAY("2100-12-31"); day++) {
        char iso[11], en[DS_FMT_DAY_LEN], ja[DS_FMT_DAY_LEN];
        assert_string_equal(ds_fmt_day_iso(day, buf, sizeof buf), ds_day_format(day, iso));
        int y;
        unsigned m, dd;
        ds_civil_from_days(day, &y, &m, &dd);
        ds_fmt_day(day, 0, en, sizeof en);
        ds_fmt_day(day, 1, ja, sizeof ja);
        assert_non_null(strstr(en, ds_fmt_month_name(m, 0, 0)));
        assert_non_null(strstr(ja, ds_fmt_month_name(m, 1, 0)));
    }
    assert_string_equal(ds_fmt_month_name(1, 0, 1), "Jan");
    assert_string_equal(ds_fmt_month_name(9, 0, 0), "September");
    assert_string_equal(ds_fmt_month_name(12, 1, 1), "12月");
    assert_string_equal(ds_fmt_month_name(0, 0, 0), "?");
    assert_string_equal(ds_fmt_month_name(13, 1, 0), "?");
    /* cut at a character boundary: "2023年" is 4 + 3 bytes */
    char cut[8];
    assert_string_equal(ds_fmt_day(DAY("2023-07-01"), 1, cut, sizeof cut), "2023年");
    char cut6[6];
    assert_string_equal(ds_fmt_day(DAY("2023-07-01"), 1, cut6, sizeof cut6), "2023");
    assert_string_equal(ds_fmt_text(cut6, sizeof cut6, "%s", "abcdefgh"), "abcde");
    assert_string_equal(ds_fmt_text(cut6, sizeof cut6, "%s", "ab\xc2\xb1" "cd"), "ab\xc2\xb1" "c");
    assert_string_equal(ds_fmt_text(cut6, sizeof cut6, "%s", "abcd\xc2\xb1"), "abcd");
    assert_string_equal(ds_fmt_text(cut6, sizeof cut6, "%s", "a\xf0\x9f\x98\x80" "b"), "a\xf0\x9f\x98\x80");
    assert_string_equal(ds_fmt_text(cut6, sizeof cut6, "%s", "ab\xf0\x9f\x98\x80"), "ab");
}

/* ---- escapers ---------------------------------------------------------------------------- */

typedef void (*escaper)(ds_out *, const char *);

static void expect(escaper f, const char *in, const char *want)
{
    ds_out o;
    ds_out_init(&o, 0);
    f(&o, in);
    assert_false(o.failed);
    if (strcmp(o.p ? o.p : "", want) != 0)
        fail_msg("escaping '%s': got '%s', want '%s'", in, o.p ? o.p : "(null)", want);
    assert_int_equal(o.len, strlen(want));
    ds_out_free(&o);
}

#define FFFD "\xef\xbf\xbd"

static void test_html(void **state)
{
    (void)state;
    expect(ds_out_html, "<&>\"'", "&lt;&amp;&gt;&quot;&#39;");
    expect(ds_out_html, "AS4134 CHINANET-BACKBONE No.31,Jin-rong Street",
           "AS4134 CHINANET-BACKBONE No.31,Jin-rong Street");
    expect(ds_out_html, "<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;");
    expect(ds_out_html, "a&amp;b", "a&amp;amp;b");
    expect(ds_out_html, "日本 (JP)", "日本 (JP)");
    expect(ds_out_html, "tab\tnl\ncr\r", "tab\tnl\ncr\r");
    expect(ds_out_html, "bell\x07" "esc\x1b" "del\x7f" "c1\xc2\x85", "bell" FFFD "esc" FFFD "del" FFFD "c1" FFFD);
    expect(ds_out_html, "bad\xff" "x", "bad" FFFD "x");
    expect(ds_out_html, "", "");
    expect(ds_out_html, NULL, "");
}

static void test_json(void **state)
{
    (void)state;
    expect(ds_out_json_str, "plain", "\"plain\"");
    expect(ds_out_json_str, "", "\"\"");
    expect(ds_out_json_str, NULL, "\"\"");
    expect(ds_out_json_str, "q\"b\\s/", "\"q\\\"b\\\\s/\"");
    expect(ds_out_json_str, "\b\f\n\r\t", "\"\\b\\f\\n\\r\\t\"");
    expect(ds_out_json_str, "\x01\x1f\x7f", "\"\\u0001\\u001f\x7f\"");
    expect(ds_out_json_str, "</script><!--&", "\"\\u003c/script\\u003e\\u003c!--\\u0026\"");
    expect(ds_out_json_str, "line\xe2\x80\xa8para\xe2\x80\xa9", "\"line\\u2028para\\u2029\"");
    /* valid UTF-8 of every length passes through */
    expect(ds_out_json_str, "\xc2\xa9 日本 \xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf",
           "\"\xc2\xa9 日本 \xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf\"");
    expect(ds_out_json_str, FFFD, "\"" FFFD "\"");   /* a real U+FFFD stays one */
    /* invalid UTF-8: one U+FFFD per maximal subpart (Unicode 15, table 3-8) */
    expect(ds_out_json_str, "\x80", "\"" FFFD "\"");                     /* lone continuation */
    expect(ds_out_json_str, "\xc0\xaf", "\"" FFFD FFFD "\"");            /* overlong lead */
    expect(ds_out_json_str, "\xc1\xbf", "\"" FFFD FFFD "\"");
    expect(ds_out_json_str, "\xe0\x80\x80", "\"" FFFD FFFD FFFD "\"");   /* overlong 3-byte */
    expect(ds_out_json_str, "\xed\xa0\x80", "\"" FFFD FFFD FFFD "\"");   /* surrogate */
    expect(ds_out_json_str, "\xf4\x90\x80\x80", "\"" FFFD FFFD FFFD FFFD "\"");   /* > U+10FFFF */
    expect(ds_out_json_str, "\xf5\xf8\xfe\xff", "\"" FFFD FFFD FFFD FFFD "\"");
    expect(ds_out_json_str, "\xe2\x82" "A", "\"" FFFD "A\"");             /* truncated 3-byte */
    expect(ds_out_json_str, "\xf0\x9f\x98" "A", "\"" FFFD "A\"");         /* truncated 4-byte */
    expect(ds_out_json_str, "x\xe2\x82", "\"x" FFFD "\"");                /* truncated at the end */
    expect(ds_out_json_str, "\xf0\x9f\x98\xe6\x97\xa5", "\"" FFFD "日\"");
    expect(ds_out_json_str, "a\xc3\"b", "\"a" FFFD "\\\"b\"");             /* quote not swallowed */
}

static void test_md(void **state)
{
    (void)state;
    expect(ds_out_md, "23/TCP", "23/TCP");
    expect(ds_out_md, "a|b", "a\\|b");
    expect(ds_out_md, "a\\|b", "a\\\\\\|b");
    expect(ds_out_md, "l1\nl2\r\nl3\rl4", "l1<br>l2<br>l3<br>l4");
    expect(ds_out_md, "*bold* _it_ `code` [x](y) <b> ~s~ &amp;",
           "\\*bold\\* \\_it\\_ \\`code\\` \\[x\\](y) \\<b\\> \\~s\\~ \\&amp;");
    expect(ds_out_md, "t\tab", "t ab");
    expect(ds_out_md, "\x01x\xff", FFFD "x" FFFD);
    expect(ds_out_md, "中国電信", "中国電信");
}

/* Random bytes through every escaper: the output is valid UTF-8 and has no raw specials. */
static int valid_utf8(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        size_t k;
        unsigned lo = 0x80, hi = 0xBF;
        if (c < 0x80)
            k = 1;
        else if (c >= 0xC2 && c <= 0xDF)
            k = 2;
        else if (c >= 0xE0 && c <= 0xEF) {
            k = 3;
            lo = c == 0xE0 ? 0xA0 : 0x80;
            hi = c == 0xED ? 0x9F : 0xBF;
        } else if (c >= 0xF0 && c <= 0xF4) {
            k = 4;
            lo = c == 0xF0 ? 0x90 : 0x80;
            hi = c == 0xF4 ? 0x8F : 0xBF;
        } else
            return 0;
        if (k > n - i)
            return 0;
        for (size_t j = 1; j < k; j++) {
            if (s[i + j] < (j == 1 ? lo : 0x80) || s[i + j] > (j == 1 ? hi : 0xBF))
                return 0;
        }
        i += k;
    }
    return 1;
}

static void test_random_bytes(void **state)
{
    (void)state;
    uint64_t x = 0x9E3779B97F4A7C15ULL;
    static const unsigned char pool[] = { 0x00, 0x01, '\n', '\r', '"', '\\', '<', '&', '|', '\'', 0x7f,
                                          0x80, 0xbf, 0xc0, 0xc2, 0xe0, 0xe2, 0xed, 0xef, 0xf0, 0xf4,
                                          0xf5, 0xff, 0xa0, 0x9f, 0x90, 0x8f, 'a' };
    for (int round = 0; round < 20000; round++) {
        char in[24];
        size_t n = (size_t)(round % 23);
        for (size_t i = 0; i < n; i++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            in[i] = (char)pool[x % sizeof pool];
            if (in[i] == 0)
                in[i] = (char)0xc3;
        }
        in[n] = '\0';
        escaper fs[] = { ds_out_html, ds_out_json_str, ds_out_md };
        for (size_t f = 0; f < 3; f++) {
            ds_out o;
            ds_out_init(&o, 0);
            fs[f](&o, in);
            assert_false(o.failed);
            assert_true(valid_utf8((const unsigned char *)o.p, o.len));
            assert_int_equal(strlen(o.p), o.len);
            for (size_t i = 0; i < o.len; i++) {
                unsigned char c = (unsigned char)o.p[i];
                if (f == 0)
                    assert_true(c != '<' && c != '>' && c != '"' && c != '\'' && (c >= 0x20 || c == '\n' || c == '\r' || c == '\t'));
                if (f == 1) {
                    assert_true(c >= 0x20 && c != '<');
                    /* every quote inside is escaped */
                    if (c == '"' && i != 0 && i != o.len - 1) {
                        size_t bs = 0;
                        while (bs < i && o.p[i - 1 - bs] == '\\')
                            bs++;
                        assert_true(bs % 2 == 1);
                    }
                }
                if (f == 2)
                    assert_true(c >= 0x20 || c == 0);
            }
            ds_out_free(&o);
        }
    }
}

static void expect_b64(const char *in, const char *want)
{
    ds_out o;
    ds_out_init(&o, 0);
    ds_out_base64(&o, (const unsigned char *)in, strlen(in));
    assert_false(o.failed);
    assert_string_equal(o.len ? o.p : "", want);
    ds_out_free(&o);
}

static void test_base64(void **state)
{
    (void)state;
    /* RFC 4648, section 10 */
    expect_b64("", "");
    expect_b64("f", "Zg==");
    expect_b64("fo", "Zm8=");
    expect_b64("foo", "Zm9v");
    expect_b64("foob", "Zm9vYg==");
    expect_b64("fooba", "Zm9vYmE=");
    expect_b64("foobar", "Zm9vYmFy");
    /* every byte value, and the two last alphabet characters */
    unsigned char all[256];
    for (int i = 0; i < 256; i++)
        all[i] = (unsigned char)i;
    ds_out o;
    ds_out_init(&o, 0);
    ds_out_puts(&o, "data:image/png;base64,");
    ds_out_base64(&o, all, sizeof all);
    assert_int_equal(o.len, 22 + 344);
    assert_memory_equal(o.p + 22, "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8g", 44);
    assert_string_equal(o.p + o.len - 8, "/P3+/w==");   /* checked with Python base64 */
    ds_out_free(&o);
    static const unsigned char ff[] = { 0xfb, 0xff, 0xbf };
    ds_out_init(&o, 0);
    ds_out_base64(&o, ff, 3);
    assert_string_equal(o.p, "+/+/");
    ds_out_free(&o);
}

/* ---- output buffer ----------------------------------------------------------------------- */

static void test_out_growth_and_printf(void **state)
{
    (void)state;
    ds_out o;
    ds_out_init(&o, 0);
    assert_int_equal(o.max, DS_OUT_DEFAULT_MAX);
    for (int i = 0; i < 10000; i++)
        ds_out_printf(&o, "%d,", i % 10);
    assert_false(o.failed);
    assert_int_equal(o.len, 20000);
    assert_int_equal(strlen(o.p), 20000);
    /* a printf longer than the internal stack buffer */
    char longarg[1000];
    memset(longarg, 'q', sizeof longarg - 1);
    longarg[sizeof longarg - 1] = '\0';
    ds_out_printf(&o, "[%s]", longarg);
    assert_int_equal(o.len, 20000 + 1001);
    assert_int_equal(o.p[o.len - 1], ']');
    assert_int_equal(o.p[20001], 'q');
    ds_out_free(&o);
    assert_null(o.p);
    assert_int_equal(o.len, 0);
    ds_out_puts(&o, "again");
    assert_string_equal(o.p, "again");
    ds_out_free(&o);
    /* a zeroed struct (max 0) works too */
    ds_out z = { 0 };
    ds_out_puts(&z, "zero");
    assert_string_equal(z.p, "zero");
    free(z.p);
}

static void test_out_max_sticky(void **state)
{
    (void)state;
    ds_out o;
    ds_out_init(&o, 10);
    ds_out_puts(&o, "0123456789");   /* exactly max */
    assert_false(o.failed);
    assert_int_equal(o.len, 10);
    ds_out_puts(&o, "");
    assert_false(o.failed);
    ds_out_puts(&o, "x");            /* one past */
    assert_true(o.failed);
    assert_int_equal(o.len, 10);
    assert_string_equal(o.p, "0123456789");
    ds_out_free(&o);

    /* once failed, nothing more is appended even if it would fit */
    ds_out_init(&o, 10);
    ds_out_puts(&o, "abc");
    ds_out_printf(&o, "%s", "this is far too long");
    assert_true(o.failed);
    size_t len = o.len;
    ds_out_puts(&o, "d");
    ds_out_printf(&o, "%d", 1);
    ds_out_html(&o, "<");
    ds_out_json_str(&o, "j");
    ds_out_md(&o, "|");
    ds_out_base64(&o, (const unsigned char *)"f", 1);
    assert_int_equal(o.len, len);
    assert_string_equal(o.p, "abc");
    ds_out_free(&o);
    assert_false(o.failed);   /* free resets */
    assert_int_equal(o.max, 10);

    /* an escape that grows past max fails even though the input is small */
    ds_out_init(&o, 12);
    ds_out_html(&o, "<<<");           /* 12 bytes: fits */
    assert_false(o.failed);
    ds_out_html(&o, "<");
    assert_true(o.failed);
    ds_out_free(&o);
    ds_out_init(&o, 7);
    ds_out_base64(&o, (const unsigned char *)"foob", 4);   /* needs 8 */
    assert_true(o.failed);
    ds_out_free(&o);
    ds_out_init(&o, 8);
    ds_out_base64(&o, (const unsigned char *)"foob", 4);
    assert_false(o.failed);
    assert_string_equal(o.p, "Zm9vYg==");
    ds_out_free(&o);
}

/* ---- atomic write ------------------------------------------------------------------------ */

static char *read_all(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = malloc(1 << 20);
    *n = fread(buf, 1, 1 << 20, f);
    fclose(f);
    return buf;
}

static int entries(const char *dir)
{
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            n++;
    closedir(d);
    return n;
}

static void test_write_file(void **state)
{
    (void)state;
    const char *base = getenv("TMPDIR");
    char dir[512], path[600], sub[600];
    snprintf(dir, sizeof dir, "%s/ds_test_fmt.XXXXXX", base && *base ? base : "/tmp");
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/report.html", dir);
    ds_err err = { 0 };

    ds_out o;
    ds_out_init(&o, 0);
    ds_out_puts(&o, "<!doctype html>\n");
    for (int i = 0; i < 50000; i++)
        ds_out_printf(&o, "<p>%d</p>\n", i);
    assert_int_equal(ds_out_write_file(&o, path, &err), DS_OK);
    size_t n = 0;
    char *back = read_all(path, &n);
    assert_non_null(back);
    assert_int_equal(n, o.len);
    assert_memory_equal(back, o.p, n);
    free(back);
    assert_int_equal(entries(dir), 1);   /* no temporary left */
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0644);

    /* replacing keeps the old file's mode */
    assert_int_equal(chmod(path, 0600), 0);
    ds_out_free(&o);
    ds_out_puts(&o, "second");
    assert_int_equal(ds_out_write_file(&o, path, &err), DS_OK);
    back = read_all(path, &n);
    assert_int_equal(n, 6);
    assert_memory_equal(back, "second", 6);
    free(back);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(entries(dir), 1);

    /* an empty buffer writes an empty file */
    ds_out empty;
    ds_out_init(&empty, 0);
    snprintf(sub, sizeof sub, "%s/empty.md", dir);
    assert_int_equal(ds_out_write_file(&empty, sub, &err), DS_OK);
    assert_int_equal(stat(sub, &st), 0);
    assert_int_equal(st.st_size, 0);
    assert_int_equal(unlink(sub), 0);

    /* a missing directory: DS_EIO naming the path */
    snprintf(sub, sizeof sub, "%s/no/such/dir/report.html", dir);
    assert_int_equal(ds_out_write_file(&o, sub, &err), DS_EIO);
    assert_non_null(strstr(err.msg, sub));
    assert_non_null(strstr(err.msg, "No such file"));

    /* the target is a directory: refused before anything is created (util/atomic_file.c),
     * no temporary left behind */
    snprintf(sub, sizeof sub, "%s/figs", dir);
    assert_int_equal(mkdir(sub, 0755), 0);
    assert_int_equal(ds_out_write_file(&o, sub, &err), DS_EINVAL);
    assert_non_null(strstr(err.msg, sub));
    assert_non_null(strstr(err.msg, "is a directory"));
    assert_int_equal(entries(dir), 2);
    assert_int_equal(entries(sub), 0);
    snprintf(sub, sizeof sub, "%s/figs/", dir);
    assert_int_equal(ds_out_write_file(&o, sub, &err), DS_EINVAL);
    assert_int_equal(ds_out_write_file(&o, "", &err), DS_EINVAL);
    assert_int_equal(ds_out_write_file(&o, NULL, &err), DS_EINVAL);

    /* a failed buffer is refused and nothing is written */
    ds_out big;
    ds_out_init(&big, 4);
    ds_out_puts(&big, "too long");
    snprintf(sub, sizeof sub, "%s/failed.json", dir);
    assert_int_equal(ds_out_write_file(&big, sub, &err), DS_ENOMEM);
    assert_non_null(strstr(err.msg, sub));
    assert_int_not_equal(stat(sub, &st), 0);
    ds_out_free(&big);

    /* a bare file name goes to the current directory */
    char cwd[4096];
    assert_non_null(getcwd(cwd, sizeof cwd));
    assert_int_equal(chdir(dir), 0);
    assert_int_equal(ds_out_write_file(&o, "bare.txt", &err), DS_OK);
    assert_int_equal(chdir(cwd), 0);
    snprintf(sub, sizeof sub, "%s/bare.txt", dir);
    assert_int_equal(stat(sub, &st), 0);
    assert_int_equal(st.st_size, 6);
    assert_int_equal(entries(dir), 3);   /* report.html, figs, bare.txt */

    ds_out_free(&o);
    unlink(sub);
    snprintf(sub, sizeof sub, "%s/figs", dir);
    rmdir(sub);
    unlink(path);
    assert_int_equal(rmdir(dir), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_count),
        cmocka_unit_test(test_fixed_pct),
        cmocka_unit_test(test_change),
        cmocka_unit_test(test_days),
        cmocka_unit_test(test_html),
        cmocka_unit_test(test_json),
        cmocka_unit_test(test_md),
        cmocka_unit_test(test_random_bytes),
        cmocka_unit_test(test_base64),
        cmocka_unit_test(test_out_growth_and_printf),
        cmocka_unit_test(test_out_max_sticky),
        cmocka_unit_test(test_write_file),
    };
    return cmocka_run_group_tests(tests, 0, NULL);
}
