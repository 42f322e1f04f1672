/* test_payload_ndjson.c: the parser of a sensor's pay-<seq>.jsonl (src/net/payload_ndjson.c),
 * which the collector runs on every POST /v1/payloads body before it stores anything.
 *
 * What is checked: good files become rows field by field and byte for byte (binary payloads,
 * empty ones, IPv6 in canonical form); line ends (LF, CRLF, a last line without one, blank and
 * white-space-only lines, an empty body); JSON string escapes (\u escapes and surrogate pairs
 * where they are allowed, \u0000 and lone surrogates refused); integers at and one past every
 * limit, and the forms JSON allows but a count must not have (sign, fraction, exponent, leading
 * zero); base64 padding; the 65535-byte payload limit and very long lines; members unknown to
 * us skipped however deep, known ones required exactly once.  Each refusal is checked for the
 * exact message the collector passes on in its 400 ("line N: what at byte M") and for leaving
 * the output empty.  Regression cases from fuzzing (fuzz/fuzz_payload_ndjson.c) go at the end.
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

#include "net/payload_ndjson.h"

/* A line without its closing brace (for members to be added), and a whole one */
#define LINE_OPEN(ts, src, sport, dst, dport, len, b64)                                                    \
    "{\"ts_ns\":" ts ",\"src\":\"" src "\",\"sport\":" sport ",\"dst\":\"" dst "\",\"dport\":" dport    \
    ",\"seq\":123456789,\"len\":" len ",\"payload_b64\":\"" b64 "\""
#define LINE(ts, src, sport, dst, dport, len, b64) LINE_OPEN(ts, src, sport, dst, dport, len, b64) "}"
#define GOOD LINE("1688205601000000000", "192.0.2.1", "40001", "198.51.100.7", "80", "3", "QUJD")

/* Parses text (strlen) and expects it to be accepted with n rows. */
static ds_payload_file ok(const char *text, size_t n)
{
    ds_payload_file f;
    ds_err err = { 0 };
    ds_rc rc = ds_payload_ndjson_parse(text, strlen(text), &f, &err);
    if (rc != DS_OK)
        fail_msg("refused: %s (%s)", err.msg, text);
    assert_int_equal(f.n, n);
    return f;
}

/* Parses len bytes of text (an exact copy, so ASan sees reads past the end) and expects the
 * refusal msg. */
static void bad_n(const char *text, size_t len, const char *msg)
{
    char *copy = malloc(len ? len : 1);
    assert_non_null(copy);
    memcpy(copy, text, len);
    ds_payload_file f;
    ds_err err = { 0 };
    ds_rc rc = ds_payload_ndjson_parse(copy, len, &f, &err);
    free(copy);
    if (rc != DS_EFORMAT)
        fail_msg("expected a refusal \"%s\", got %s (%s)", msg, ds_rc_name(rc), err.msg);
    assert_string_equal(err.msg, msg);
    assert_true(err.has_offset);
    assert_null(f.rows);
    assert_null(f.arena);
    assert_int_equal(f.n, 0);
}
static void bad(const char *text, const char *msg) { bad_n(text, strlen(text), msg); }

static void test_good_rows(void **state)
{
    (void)state;
    ds_payload_file f = ok(GOOD "\n" LINE("0", "2001:DB8:0:0::1", "0", "::ffff:192.0.2.9", "65535", "4294967295", "") "\n"
                           LINE("9223372036854775807", "0.0.0.0", "1", "203.0.113.5", "23", "4", "AP8KDQ==") "\n", 3);
    const ds_payload *p = &f.rows[0];
    assert_int_equal(p->ts_ns, 1688205601000000000ull);
    assert_string_equal(p->src, "192.0.2.1");
    assert_string_equal(p->dst, "198.51.100.7");
    assert_int_equal(p->sport, 40001);
    assert_int_equal(p->dport, 80);
    assert_int_equal(p->proto, 6);
    assert_int_equal(p->tcp_seq, 123456789);
    assert_int_equal(p->len, 3);
    assert_int_equal(p->data_len, 3);
    assert_memory_equal(p->data, "ABC", 3);
    p = &f.rows[1];
    assert_string_equal(p->src, "2001:db8::1");        /* inet_ntop's canonical text */
    assert_string_equal(p->dst, "::ffff:192.0.2.9");
    assert_int_equal(p->dport, 65535);
    assert_int_equal(p->len, 4294967295u);
    assert_int_equal(p->data_len, 0);
    p = &f.rows[2];
    assert_int_equal(p->ts_ns, 9223372036854775807ull);
    assert_int_equal(p->data_len, 4);
    assert_memory_equal(p->data, "\x00\xff\x0a\x0d", 4);
    ds_payload_file_free(&f);
    ds_payload_file_free(&f);   /* twice is harmless */
}

static void test_line_ends(void **state)
{
    (void)state;
    ds_payload_file f = ok(GOOD, 1);   /* no final newline */
    ds_payload_file_free(&f);
    f = ok(GOOD "\r\n" GOOD "\r\n", 2);
    ds_payload_file_free(&f);
    f = ok("\n\r\n \t\n" GOOD "\n\n\n" GOOD, 2);
    ds_payload_file_free(&f);
    f = ok("  " GOOD " \t\r", 1);
    ds_payload_file_free(&f);
    f = ok("\r\n", 0);
    ds_payload_file_free(&f);
    ds_err err = { 0 };
    assert_int_equal(ds_payload_ndjson_parse(NULL, 0, &f, &err), DS_OK);   /* an empty body */
    assert_int_equal(f.n, 0);
    ds_payload_file_free(&f);
    /* a CR alone does not end a line, and a line break inside an object splits it */
    bad(GOOD "\r" GOOD, "line 1: trailing data after the JSON value at byte 139");
    bad("{\"ts_ns\":1,\n\"src\":\"192.0.2.1\"}\n", "line 1: expected a member name at byte 11");
    bad(GOOD "\n\n" GOOD "\nx", "line 4: expected a JSON object at byte 0");
    bad(GOOD "\n[1]\n", "line 2: expected a JSON object at byte 0");
    bad(GOOD " " GOOD, "line 1: trailing data after the JSON value at byte 139");
    bad("{", "line 1: expected a member name at byte 1");
}

static void test_escapes(void **state)
{
    (void)state;
    /* escapes decode before the checks: an address and base64 may be spelled with them */
    ds_payload_file f = ok("{\"ts_ns\":1,\"src\":\"\\u0031\\u0039\\u0032.0.2.1\",\"sport\":1,\"dst\":\"::\",\"dport\":1,"
                           "\"seq\":0,\"len\":3,\"payload_b64\":\"QU\\u004aD\",\"x\\ud83d\\ude00\":\"\\ud83d\\ude00\\n\\/\"}", 1);
    assert_string_equal(f.rows[0].src, "192.0.2.1");
    assert_memory_equal(f.rows[0].data, "ABC", 3);
    ds_payload_file_free(&f);
    bad(LINE("1", "192.0.2.1\\u0000", "1", "::", "1", "0", ""), "line 1: NUL character in string at byte 33");
    bad(LINE("1", "192.0.2.1", "1", "::", "1", "0", "\\u0000"), "line 1: NUL character in string at byte 105");
    bad(LINE_OPEN("1", "::", "1", "::", "1", "0", "") ",\"x\":\"\\udc00\"}", "line 1: lone low surrogate in \\u escape at byte 105");
    bad("{\"x\":\"\\ud800\"}", "line 1: high surrogate not followed by a low one at byte 12");
    bad("{\"x\":\"\\ud800\\u0041\"}", "line 1: high surrogate not followed by a low one at byte 12");
    bad("{\"x\":\"\\u12\"}", "line 1: bad \\u escape at byte 8");
    bad("{\"x\":\"\\q\"}", "line 1: unknown escape in string at byte 6");
    bad("{\"x\":\"\\", "line 1: unterminated escape at byte 6");
    bad("{\"x\":\"a\tb\"}", "line 1: control character in string at byte 7");
    bad("{\"x\":\"abc", "line 1: unterminated string at byte 9");
    bad_n("{\"x\":\"a\0b\"}", 11, "line 1: control character in string at byte 7");
}

static void test_numbers(void **state)
{
    (void)state;
    bad(LINE("9223372036854775808", "::", "1", "::", "1", "0", ""), "line 1: number out of range at byte 9");
    bad(LINE("18446744073709551616", "::", "1", "::", "1", "0", ""), "line 1: number out of range at byte 9");
    bad(LINE("1", "::", "65536", "::", "1", "0", ""), "line 1: number out of range at byte 30");
    bad(LINE("1", "::", "1", "::", "99999999999999999999999", "0", ""), "line 1: number out of range at byte 51");
    bad(LINE("1", "::", "1", "::", "1", "4294967296", ""), "line 1: number out of range at byte 75");
    bad(LINE("-1", "::", "1", "::", "1", "0", ""), "line 1: expected an unsigned integer at byte 9");
    bad(LINE("01", "::", "1", "::", "1", "0", ""), "line 1: leading zero in a number at byte 9");
    bad(LINE("1.0", "::", "1", "::", "1", "0", ""), "line 1: expected an unsigned integer at byte 9");
    bad(LINE("1e3", "::", "1", "::", "1", "0", ""), "line 1: expected an unsigned integer at byte 9");
    bad(LINE("\"1\"", "::", "1", "::", "1", "0", ""), "line 1: expected an unsigned integer at byte 9");
    bad(LINE("1", "::", "1", "::", "1", "2", "QUJD"), "line 1: len is smaller than the payload at byte 0");
    ds_payload_file f = ok(LINE("0", "::", "0", "::", "0", "0", ""), 1);   /* a lone 0 is no leading zero */
    ds_payload_file_free(&f);
    /* numbers in members we skip are only checked for JSON syntax */
    f = ok(LINE_OPEN("1", "::", "1", "::", "1", "0", "") ",\"x\":[-0.5e+99,1E3,99999999999999999999999]}", 1);
    ds_payload_file_free(&f);
    bad(LINE_OPEN("1", "::", "1", "::", "1", "0", "") ",\"x\":1.}", "line 1: bad fraction in number at byte 100");
}

static void test_members(void **state)
{
    (void)state;
    bad("{}", "line 1: member ts_ns missing at byte 0");
    bad(GOOD "\n" GOOD "\n{\"ts_ns\":1,\"src\":\"::\",\"dst\":\"::\",\"dport\":1,\"seq\":0,\"len\":0,\"payload_b64\":\"\"}\n",
        "line 3: member sport missing at byte 0");
    bad("{\"ts_ns\":1,\"ts_ns\":1}", "line 1: member given twice at byte 19");
    bad(LINE("1", "192.0.2.999", "1", "::", "1", "0", ""), "line 1: not an IPv4 or IPv6 address at byte 17");
    bad(LINE("1", "1.2.3.4 ", "1", "::", "1", "0", ""), "line 1: not an IPv4 or IPv6 address at byte 17");
    bad(LINE("1", "", "1", "::", "1", "0", ""), "line 1: not an IPv4 or IPv6 address at byte 17");
    bad(LINE("1", "0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000", "1", "::", "1", "0", ""),
        "line 1: not an IPv4 or IPv6 address at byte 17");
    bad("{\"src\":1}", "line 1: expected an address string at byte 7");
    bad("{\"payload_b64\":null}", "line 1: payload_b64: expected a string at byte 15");
    /* a deep unknown member is skipped; one nested past the limit is refused */
    ds_payload_file f = ok(LINE_OPEN("1", "::", "1", "::", "1", "0", "") ",\"x\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["
                           "{\"src\":1,\"ts_ns\":-1}]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}", 1);
    ds_payload_file_free(&f);
    bad("{\"x\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[", "line 1: nesting deeper than 32 levels at byte 37");
}

static void test_base64(void **state)
{
    (void)state;
    static const struct { const char *b64, *data; size_t n; } good[] = {
        { "", "", 0 }, { "QQ==", "A", 1 }, { "QUI=", "AB", 2 }, { "QUJD", "ABC", 3 }, { "+/+/", "\xfb\xff\xbf", 3 },
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        char line[256];
        snprintf(line, sizeof line, "{\"ts_ns\":1,\"src\":\"::\",\"sport\":1,\"dst\":\"::\",\"dport\":1,\"seq\":0,"
                                    "\"len\":3,\"payload_b64\":\"%s\"}", good[i].b64);
        ds_payload_file f = ok(line, 1);
        assert_int_equal(f.rows[0].data_len, good[i].n);
        if (good[i].n)
            assert_memory_equal(f.rows[0].data, good[i].data, good[i].n);
        ds_payload_file_free(&f);
    }
    static const char *const refused[] = { "QQ", "QQ=", "Q===", "====", "QUJ", "QU=D", "QQ==QUJD", "QUJD=", "QU D",
                                           "QUJ-", "QUJ_", "\\u00e9AAA" };
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        char line[256];
        snprintf(line, sizeof line, "{\"ts_ns\":1,\"src\":\"::\",\"sport\":1,\"dst\":\"::\",\"dport\":1,\"seq\":0,"
                                    "\"len\":3,\"payload_b64\":\"%s\"}", refused[i]);
        bad(line, "line 1: payload_b64: not padded base64 (RFC 4648) at byte 83");
    }
}

/* Lines far longer than any real one: a payload at the limit, one byte over it, and an unknown
 * member of a megabyte. */
static void test_long_lines(void **state)
{
    (void)state;
    size_t b64len = (DS_PAYLOAD_MAX + 2) / 3 * 4, cap = b64len + 8 + 256;
    char *line = malloc(cap);
    assert_non_null(line);
    int w = snprintf(line, cap, "{\"ts_ns\":1,\"src\":\"::\",\"sport\":1,\"dst\":\"::\",\"dport\":1,\"seq\":0,"
                                "\"len\":65535,\"payload_b64\":\"");
    memset(line + w, 'Q', b64len);   /* 65535 bytes: 21845 groups, no padding */
    strcpy(line + w + b64len, "\"}\n");
    ds_payload_file f = ok(line, 1);
    assert_int_equal(f.rows[0].data_len, DS_PAYLOAD_MAX);
    ds_payload_file_free(&f);
    memcpy(line + w + b64len, "QQ==\"}\n", 8);   /* one byte more */
    bad(line, "line 1: payload_b64: more than 65535 bytes at byte 87");
    /* a string longer than the text buffer: refused as too long before any decoding */
    memcpy(line + w + b64len, "QUJDQUJD\"}", 11);
    bad(line, "line 1: payload_b64: more than 65535 bytes at byte 87");
    free(line);

    size_t big = 1u << 20;
    char *huge = malloc(big + 256);
    assert_non_null(huge);
    w = snprintf(huge, 256, "%s", LINE_OPEN("1", "::", "1", "::", "1", "0", "") ",\"comment\":\"");
    memset(huge + w, 'x', big);
    strcpy(huge + w + big, "\"}\n");
    f = ok(huge, 1);
    ds_payload_file_free(&f);
    /* the same line cut short (no closing quote, no newline): ASan checks the read stops */
    bad_n(huge, (size_t)w + big, "line 1: unterminated string at byte 1048681");
    free(huge);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_rows), cmocka_unit_test(test_line_ends), cmocka_unit_test(test_escapes),
        cmocka_unit_test(test_numbers),   cmocka_unit_test(test_members),   cmocka_unit_test(test_base64),
        cmocka_unit_test(test_long_lines),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
