/* test_darknet.c: prefix parsing and the sensor lookup table (src/core/darknet.c).
 *
 * Lookups are checked at the very edges of each range (first address, last address, one
 * before, one after), because an off-by-one there silently moves packets between a sensor
 * and `outside`.  The offset index is what exact per-address bitmaps are built on, so it is
 * checked for every address of a small multi-prefix sensor.
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

#include "core/darknet.h"

static ds_prefix P(const char *s)
{
    ds_prefix p;
    if (ds_prefix_parse(s, &p) != 0)
        fail_msg("prefix '%s' did not parse", s);
    return p;
}

static ds_ip IP(const char *s)
{
    ds_ip ip;
    if (ds_ip_parse(s, &ip) != 0)
        fail_msg("address '%s' did not parse", s);
    return ip;
}

static int find(const ds_darknet *d, const char *addr)
{
    ds_ip ip = IP(addr);
    return ds_darknet_find(d, &ip);
}

/* ---- ds_prefix_parse ----------------------------------------------------------------- */

static void test_prefix_good(void **state)
{
    (void)state;
    static const struct { const char *in, *out; unsigned len; int v6; } ok[] = {
        { "198.51.100.0/24", "198.51.100.0/24", 24, 0 },
        { "203.0.113.128/25", "203.0.113.128/25", 25, 0 },
        { "10.0.0.0/8", "10.0.0.0/8", 8, 0 },
        { "0.0.0.0/0", "0.0.0.0/0", 0, 0 },
        { "192.0.2.1/32", "192.0.2.1/32", 32, 0 },
        { "192.0.2.1", "192.0.2.1/32", 32, 0 },          /* bare address: /32 */
        { "255.255.255.255/32", "255.255.255.255/32", 32, 0 },
        { "2001:db8::/32", "2001:db8::/32", 32, 1 },
        { "2001:db8:1::/64", "2001:db8:1::/64", 64, 1 },
        { "::/0", "::/0", 0, 1 },
        { "2001:db8::1/128", "2001:db8::1/128", 128, 1 },
        { "2001:db8::1", "2001:db8::1/128", 128, 1 },    /* bare address: /128 */
        { "2001:db8::8000/113", "2001:db8::8000/113", 113, 1 },
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        ds_prefix p;
        char buf[64];
        if (ds_prefix_parse(ok[i].in, &p) != 0)
            fail_msg("'%s' should parse", ok[i].in);
        assert_int_equal(p.len, ok[i].len);
        assert_int_equal(p.addr.v6, ok[i].v6);
        assert_string_equal(ds_prefix_format(&p, buf, sizeof buf), ok[i].out);
    }
}

static void test_prefix_bad(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "1.2.3.4/33",          /* too long for IPv4 */
        "2001:db8::/129",      /* too long for IPv6 */
        "198.51.100.1/24",     /* host bits set */
        "198.51.100.128/24",
        "11.0.0.0/7",          /* host bit of /7 set (10.0.0.0/7 is fine) */
        "1.0.0.0/0",           /* /0 with host bits */
        "2001:db8::1/64",      /* IPv6 host bits */
        "2001:db8::/15",       /* 2001:0db8 has bits after 15 */
        "", "/", "/24", "1.2.3.4/", "1.2.3.4//24", "1.2.3.4/24x", "1.2.3.4/x",
        "1.2.3/24", "1.2.3.256/32", "300.1.1.0/24", "hello", "hello/8", "1.2.3.4 /32",
        "1.2.3.4/ 32",         /* strtoul would skip the space */
        "1.2.3.4/+32",         /* ... and accept a sign */
        "0.0.0.0/-0",
        "1.2.3.4/99999999999999999999999",
        "2001:db8:::/48", "::g/128",
        "0123456789012345678901234567890123456789012345678901234567890123456789/8", /* longer than the buffer */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ds_prefix p;
        if (ds_prefix_parse(bad[i], &p) == 0)
            fail_msg("'%s' should be refused", bad[i]);
    }
}

/* ---- build + lookup ------------------------------------------------------------------ */

typedef struct net3 { ds_darknet *d; } net3;

/* Three sensors:
 *   tokyo : 198.51.100.0/24, 203.0.113.0/26, 203.0.113.128/25, 2001:db8:1::/48
 *   osaka : 192.0.2.0/28, 203.0.113.64/26, 2001:db8:2::/64, 2001:db8:2:1::1/128
 *   wide  : 10.0.0.0/8, ::ffff:0:0/96 is not used; 2001:db8:ffff::/48
 * so 203.0.113.0/24 is split between two sensors with no gap. */
static int setup3(void **state)
{
    static net3 n;
    ds_prefix tokyo[] = { P("203.0.113.128/25"), P("198.51.100.0/24"), P("2001:db8:1::/48"), P("203.0.113.0/26") };
    ds_prefix osaka[] = { P("2001:db8:2::/64"), P("192.0.2.0/28"), P("203.0.113.64/26"), P("2001:db8:2:1::1/128") };
    ds_prefix wide[] = { P("10.0.0.0/8"), P("2001:db8:ffff::/48") };
    const ds_prefix *const pp[] = { tokyo, osaka, wide };
    const size_t counts[] = { 4, 4, 2 };
    const char *const names[] = { "tokyo", "osaka", "wide" };
    ds_err err = { 0 };
    ds_rc rc = ds_darknet_build(&n.d, pp, counts, names, 3, &err);
    if (rc != DS_OK)
        fail_msg("build: %s", err.msg);
    *state = &n;
    return 0;
}

static int teardown3(void **state)
{
    net3 *n = *state;
    ds_darknet_free(n->d);
    n->d = NULL;
    return 0;
}

static void test_find_v4_edges(void **state)
{
    const ds_darknet *d = ((net3 *)*state)->d;
    /* 198.51.100.0/24 -> tokyo (0) */
    assert_int_equal(find(d, "198.51.99.255"), -1);
    assert_int_equal(find(d, "198.51.100.0"), 0);
    assert_int_equal(find(d, "198.51.100.77"), 0);
    assert_int_equal(find(d, "198.51.100.255"), 0);
    assert_int_equal(find(d, "198.51.101.0"), -1);
    /* 203.0.113.0/24 split: .0-.63 tokyo, .64-.127 osaka, .128-.255 tokyo */
    assert_int_equal(find(d, "203.0.112.255"), -1);
    assert_int_equal(find(d, "203.0.113.0"), 0);
    assert_int_equal(find(d, "203.0.113.63"), 0);
    assert_int_equal(find(d, "203.0.113.64"), 1);
    assert_int_equal(find(d, "203.0.113.127"), 1);
    assert_int_equal(find(d, "203.0.113.128"), 0);
    assert_int_equal(find(d, "203.0.113.255"), 0);
    assert_int_equal(find(d, "203.0.114.0"), -1);
    /* 192.0.2.0/28 -> osaka */
    assert_int_equal(find(d, "192.0.1.255"), -1);
    assert_int_equal(find(d, "192.0.2.0"), 1);
    assert_int_equal(find(d, "192.0.2.15"), 1);
    assert_int_equal(find(d, "192.0.2.16"), -1);
    /* 10/8 -> wide */
    assert_int_equal(find(d, "9.255.255.255"), -1);
    assert_int_equal(find(d, "10.0.0.0"), 2);
    assert_int_equal(find(d, "10.255.255.255"), 2);
    assert_int_equal(find(d, "11.0.0.0"), -1);
    /* the ends of the address space */
    assert_int_equal(find(d, "0.0.0.0"), -1);
    assert_int_equal(find(d, "255.255.255.255"), -1);
}

static void test_find_v6_edges(void **state)
{
    const ds_darknet *d = ((net3 *)*state)->d;
    assert_int_equal(find(d, "2001:db8:0:ffff:ffff:ffff:ffff:ffff"), -1);
    assert_int_equal(find(d, "2001:db8:1::"), 0);
    assert_int_equal(find(d, "2001:db8:1:1234::5"), 0);
    assert_int_equal(find(d, "2001:db8:1:ffff:ffff:ffff:ffff:ffff"), 0);
    assert_int_equal(find(d, "2001:db8:2::"), 1);
    assert_int_equal(find(d, "2001:db8:2:0:ffff:ffff:ffff:ffff"), 1);
    assert_int_equal(find(d, "2001:db8:2:1::"), -1);
    assert_int_equal(find(d, "2001:db8:2:1::1"), 1);    /* the /128 */
    assert_int_equal(find(d, "2001:db8:2:1::2"), -1);
    assert_int_equal(find(d, "2001:db8:fffe:ffff:ffff:ffff:ffff:ffff"), -1);
    assert_int_equal(find(d, "2001:db8:ffff::"), 2);
    assert_int_equal(find(d, "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff"), 2);
    assert_int_equal(find(d, "2001:db9::"), -1);
    assert_int_equal(find(d, "::"), -1);
    assert_int_equal(find(d, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"), -1);
    /* an IPv4 address never matches IPv6 space and vice versa */
    assert_int_equal(find(d, "::ffff:10.0.0.1"), -1);
    assert_int_equal(find(d, "::a00:1"), -1);
}

static void test_offsets_across_prefixes(void **state)
{
    const ds_darknet *d = ((net3 *)*state)->d;
    /* tokyo's addresses in address order: 198.51.100.0/24 (0..255), 203.0.113.0/26 (256..319),
     * 203.0.113.128/25 (320..447) -- whatever the order they were configured in */
    uint32_t off = 12345;
    ds_ip ip;
    for (unsigned i = 0; i < 256; i++) {
        ds_ip_set4(&ip, 0xc6336400u + i);
        assert_int_equal(ds_darknet_find_offset(d, &ip, &off), 0);
        assert_int_equal(off, i);
    }
    for (unsigned i = 0; i < 64; i++) {
        ds_ip_set4(&ip, 0xcb007100u + i);
        assert_int_equal(ds_darknet_find_offset(d, &ip, &off), 0);
        assert_int_equal(off, 256 + i);
    }
    for (unsigned i = 0; i < 128; i++) {
        ds_ip_set4(&ip, 0xcb007180u + i);
        assert_int_equal(ds_darknet_find_offset(d, &ip, &off), 0);
        assert_int_equal(off, 320 + i);
    }
    /* osaka: 192.0.2.0/28 (0..15), 203.0.113.64/26 (16..79) */
    for (unsigned i = 0; i < 16; i++) {
        ds_ip_set4(&ip, 0xc0000200u + i);
        assert_int_equal(ds_darknet_find_offset(d, &ip, &off), 1);
        assert_int_equal(off, i);
    }
    for (unsigned i = 0; i < 64; i++) {
        ds_ip_set4(&ip, 0xcb007140u + i);
        assert_int_equal(ds_darknet_find_offset(d, &ip, &off), 1);
        assert_int_equal(off, 16 + i);
    }
    /* wide: 10/8 */
    ds_ip_set4(&ip, 0x0affffffu);
    assert_int_equal(ds_darknet_find_offset(d, &ip, &off), 2);
    assert_int_equal(off, 0xffffffu);
    /* outside and IPv6: offset 0 */
    off = 99;
    ds_ip_set4(&ip, 0x0b000000u);
    assert_int_equal(ds_darknet_find_offset(d, &ip, &off), -1);
    assert_int_equal(off, 0);
    off = 99;
    ip = IP("2001:db8:1::7");
    assert_int_equal(ds_darknet_find_offset(d, &ip, &off), 0);
    assert_int_equal(off, 0);
}

static void test_v4_counts(void **state)
{
    const ds_darknet *d = ((net3 *)*state)->d;
    assert_int_equal(ds_darknet_v4_addresses(d, 0), 256 + 64 + 128);
    assert_int_equal(ds_darknet_v4_addresses(d, 1), 16 + 64);        /* IPv6 space is not counted */
    assert_int_equal(ds_darknet_v4_addresses(d, 2), 1u << 24);
    assert_int_equal(ds_darknet_v4_addresses(d, 3), 0);              /* no such sensor */
    assert_int_equal(ds_darknet_v4_addresses(d, 1000), 0);
}

static void test_whole_space(void **state)
{
    (void)state;
    ds_prefix all[] = { P("0.0.0.0/0"), P("::/0") };
    const ds_prefix *const pp[] = { all };
    const size_t counts[] = { 2 };
    ds_darknet *d = NULL;
    ds_err err = { 0 };
    assert_int_equal(ds_darknet_build(&d, pp, counts, NULL, 1, &err), DS_OK);
    assert_true(ds_darknet_v4_addresses(d, 0) == (uint64_t)1 << 32);
    assert_int_equal(find(d, "0.0.0.0"), 0);
    assert_int_equal(find(d, "255.255.255.255"), 0);
    assert_int_equal(find(d, "::"), 0);
    assert_int_equal(find(d, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"), 0);
    uint32_t off;
    ds_ip ip = IP("255.255.255.255");
    assert_int_equal(ds_darknet_find_offset(d, &ip, &off), 0);
    assert_int_equal(off, 0xffffffffu);
    ds_darknet_free(d);
}

static void test_empty(void **state)
{
    (void)state;
    ds_darknet *d = NULL;
    ds_err err = { 0 };
    assert_int_equal(ds_darknet_build(&d, NULL, NULL, NULL, 0, &err), DS_OK);
    assert_int_equal(find(d, "10.0.0.1"), -1);
    assert_int_equal(find(d, "2001:db8::1"), -1);
    assert_int_equal(ds_darknet_v4_addresses(d, 0), 0);
    ds_darknet_free(d);
    ds_darknet_free(NULL);
}

/* Many prefixes: every lookup agrees with a linear scan. */
static void test_many_prefixes(void **state)
{
    (void)state;
    enum { NS = 8, PER = 125 };
    ds_prefix pre[NS][PER];
    const ds_prefix *pp[NS];
    size_t counts[NS];
    /* /24s spread over 10.0.0.0/8 with gaps: /24 number k*3 of the space goes to sensor k % NS */
    for (int s = 0; s < NS; s++) {
        for (int i = 0; i < PER; i++) {
            unsigned k = (unsigned)(i * NS + s) * 3u;
            memset(&pre[s][i], 0, sizeof pre[s][i]);
            ds_ip_set4(&pre[s][i].addr, 0x0a000000u + (k << 8));
            pre[s][i].len = 24;
        }
        pp[s] = pre[s];
        counts[s] = PER;
    }
    ds_darknet *d = NULL;
    ds_err err = { 0 };
    assert_int_equal(ds_darknet_build(&d, pp, counts, NULL, NS, &err), DS_OK);
    uint32_t x = 12345;
    for (int t = 0; t < 200000; t++) {
        x = x * 1103515245u + 12345u;
        uint32_t a = 0x0a000000u + (x >> 12) % (NS * PER * 3u * 256u + 1024u);
        int expect = -1;
        uint32_t k = (a - 0x0a000000u) >> 8;
        if (k % 3 == 0 && k / 3 < NS * PER)
            expect = (int)((k / 3) % NS);
        ds_ip ip;
        ds_ip_set4(&ip, a);
        uint32_t off;
        int got = ds_darknet_find_offset(d, &ip, &off);
        assert_int_equal(got, expect);
        if (got >= 0)
            assert_int_equal(off, (k / 3 / NS) * 256u + (a & 0xff));
    }
    for (int s = 0; s < NS; s++)
        assert_int_equal(ds_darknet_v4_addresses(d, (size_t)s), PER * 256);
    ds_darknet_free(d);
}

/* ---- overlap ------------------------------------------------------------------------- */

static ds_rc build2(const char *a, const char *b, ds_err *err)
{
    ds_prefix pa[] = { P("192.0.2.0/24"), P(a) };
    ds_prefix pb[] = { P(b), P("2001:db8:77::/48") };
    const ds_prefix *const pp[] = { pa, pb };
    const size_t counts[] = { 2, 2 };
    const char *const names[] = { "alpha", "bravo" };
    ds_darknet *d = NULL;
    ds_rc rc = ds_darknet_build(&d, pp, counts, names, 2, err);
    if (rc == DS_OK)
        ds_darknet_free(d);
    else
        assert_null(d);
    return rc;
}

static void test_overlap_refused(void **state)
{
    (void)state;
    static const char *const pairs[][2] = {
        { "10.0.0.0/8", "10.1.2.0/24" },       /* nested */
        { "10.1.2.0/24", "10.0.0.0/8" },       /* nested, other way */
        { "10.0.0.0/24", "10.0.0.0/24" },      /* identical */
        { "10.0.0.255/32", "10.0.0.0/24" },    /* last address */
        { "198.51.100.0/24", "0.0.0.0/0" },   /* bravo covers both of alpha's */
        { "2001:db8::/32", "2001:db8:1::/48" },
        { "2001:db8:1::/48", "2001:db8:1::1" },
        { "::/0", "2001:db8:99::/48" },
    };
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
        ds_err err = { 0 };
        ds_rc rc = build2(pairs[i][0], pairs[i][1], &err);
        if (rc != DS_EINVAL)
            fail_msg("%s vs %s: expected DS_EINVAL, got %d", pairs[i][0], pairs[i][1], rc);
        if (!strstr(err.msg, "alpha") || !strstr(err.msg, "bravo") || !strstr(err.msg, "overlap"))
            fail_msg("message should name both sensors: %s", err.msg);
        if (i < 2 && (!strstr(err.msg, "10.0.0.0/8") || !strstr(err.msg, "10.1.2.0/24")))
            fail_msg("message should name both prefixes: %s", err.msg);
    }
    /* adjacent is fine */
    ds_err err = { 0 };
    assert_int_equal(build2("10.0.0.0/25", "10.0.0.128/25", &err), DS_OK);
    assert_int_equal(build2("2001:db8::/48", "2001:db8:1::/48", &err), DS_OK);
}

static void test_overlap_unnamed_and_same_sensor(void **state)
{
    (void)state;
    ds_prefix pa[] = { P("10.0.0.0/16") };
    ds_prefix pb[] = { P("10.0.5.0/24") };
    const ds_prefix *const pp[] = { pa, pb };
    const size_t counts[] = { 1, 1 };
    ds_darknet *d = NULL;
    ds_err err = { 0 };
    assert_int_equal(ds_darknet_build(&d, pp, counts, NULL, 2, &err), DS_EINVAL);
    assert_non_null(strstr(err.msg, "#1"));
    assert_non_null(strstr(err.msg, "#2"));

    /* one sensor listing nested prefixes: refused too (its address count and offsets would be
     * wrong, and a lookup between the inner and outer range would miss) */
    ds_prefix pc[] = { P("10.0.0.0/8"), P("10.1.0.0/16"), P("10.2.0.0/16") };
    const ds_prefix *const pp1[] = { pc };
    const size_t c1[] = { 3 };
    const char *const names[] = { "solo" };
    memset(&err, 0, sizeof err);
    assert_int_equal(ds_darknet_build(&d, pp1, c1, names, 1, &err), DS_EINVAL);
    assert_non_null(strstr(err.msg, "solo"));
    assert_non_null(strstr(err.msg, "overlapping"));
    assert_non_null(strstr(err.msg, "10.0.0.0/8"));
    assert_non_null(strstr(err.msg, "10.1.0.0/16"));
    /* the same for IPv6 */
    ds_prefix pd[] = { P("2001:db8::/32"), P("2001:db8:8000::/33") };
    const ds_prefix *const pp2[] = { pd };
    const size_t c2[] = { 2 };
    memset(&err, 0, sizeof err);
    assert_int_equal(ds_darknet_build(&d, pp2, c2, names, 1, &err), DS_EINVAL);
    assert_non_null(strstr(err.msg, "2001:db8::/32"));
    assert_non_null(strstr(err.msg, "2001:db8:8000::/33"));
}

/* The lookup takes a linear path for up to 8 IPv4 ranges and bisection above: both must agree
 * with a brute-force search, at range edges and between ranges, sensor and offset alike. */
static void check_against_brute_force(size_t nprefix)
{
    ds_prefix pre[32];
    uint32_t lo[32], hi[32], base[32];
    const ds_prefix *pp[32];
    size_t counts[32];
    uint64_t seed = 0x9e3779b97f4a7c15ULL * (nprefix + 1);
    for (size_t i = 0; i < nprefix; i++) {
        /* disjoint /28 .. /24 blocks, one sensor each, in shuffled address order */
        unsigned len = 24 + (unsigned)(i % 5);
        uint32_t a = (uint32_t)(((i * 7919u) % nprefix) << 12) | 0x0a000000u;
        ds_ip_set4(&pre[i].addr, a);
        pre[i].len = (uint8_t)len;
        lo[i] = a;
        hi[i] = a + (uint32_t)((1u << (32 - len)) - 1);
        base[i] = 0;
        pp[i] = &pre[i];
        counts[i] = 1;
    }
    ds_darknet *d = NULL;
    ds_err err = { 0 };
    assert_int_equal(ds_darknet_build(&d, pp, counts, NULL, nprefix, &err), DS_OK);
    for (int k = 0; k < 20000; k++) {
        seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
        uint32_t a = 0x0a000000u | (uint32_t)(seed >> 40) % ((uint32_t)nprefix << 12 | 0x1000);
        if (k < 4 * (int)nprefix)   /* the edges of every range */
            a = (k % 4 == 0) ? lo[k / 4] : (k % 4 == 1) ? hi[k / 4] : (k % 4 == 2) ? lo[k / 4] - 1 : hi[k / 4] + 1;
        int want = -1;
        uint32_t want_off = 0;
        for (size_t i = 0; i < nprefix; i++)
            if (a >= lo[i] && a <= hi[i]) {
                want = (int)i;
                want_off = base[i] + (a - lo[i]);
            }
        ds_ip ip;
        ds_ip_set4(&ip, a);
        uint32_t off = 99;
        int got = ds_darknet_find_offset(d, &ip, &off);
        if (got != want || (want >= 0 && off != want_off))
            fail_msg("%zu prefixes, address %08x: sensor %d offset %u, want %d %u", nprefix, a, got, off, want, want_off);
    }
    ds_darknet_free(d);
}

static void test_linear_and_bisection_agree(void **state)
{
    (void)state;
    for (size_t n = 1; n <= 20; n++)
        check_against_brute_force(n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_prefix_good),
        cmocka_unit_test(test_prefix_bad),
        cmocka_unit_test_setup_teardown(test_find_v4_edges, setup3, teardown3),
        cmocka_unit_test_setup_teardown(test_find_v6_edges, setup3, teardown3),
        cmocka_unit_test_setup_teardown(test_offsets_across_prefixes, setup3, teardown3),
        cmocka_unit_test_setup_teardown(test_v4_counts, setup3, teardown3),
        cmocka_unit_test(test_whole_space),
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_many_prefixes),
        cmocka_unit_test(test_overlap_refused),
        cmocka_unit_test(test_overlap_unnamed_and_same_sensor),
        cmocka_unit_test(test_linear_and_bisection_agree),
    };
    return cmocka_run_group_tests(tests, 0, NULL);
}
