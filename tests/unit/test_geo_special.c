/* test_geo_special.c: special-purpose addresses (src/geo/special.c) and ds_geo_lookup's answer
 * for them, ZZ / AS0 whatever the geo data says.
 *
 * Every range of the IPv4 and IPv6 special-purpose registries that special.c takes is checked
 * at its first and last address and at the addresses just outside it; then a country and an ASN
 * file that cover all of both families (AU, AS13335) show the override and that the neighbours
 * still get the data's answer; then, with the real data in data/geo (skipped when absent),
 * 192.168.1.1 and 172.16.5.5 are no longer AU.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "geo/geo_int.h"
#include "unit/testdir.h"

static char tmpdir[256];
static char cachedir[300];

static int setup(void **state)
{
    (void)state;
    if (testdir_make(tmpdir, sizeof tmpdir, "test_geo_special") != 0)
        return -1;
    snprintf(cachedir, sizeof cachedir, "%s/cache", tmpdir);
    setenv("DARKSCOPE_CACHE_DIR", cachedir, 1);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    testdir_remove(tmpdir);
    return 0;
}

/* address, special?  Each range: first, last, and the neighbours outside (0 when routable). */
static const struct { const char *addr; int special; } CASES[] = {
    /* 0/8 this network */
    { "0.0.0.0", 1 }, { "0.255.255.255", 1 }, { "1.0.0.0", 0 },
    /* 10/8 private (RFC 1918) */
    { "9.255.255.255", 0 }, { "10.0.0.0", 1 }, { "10.1.2.3", 1 }, { "10.255.255.255", 1 }, { "11.0.0.0", 0 },
    /* 100.64/10 shared address space (RFC 6598) */
    { "100.63.255.255", 0 }, { "100.64.0.0", 1 }, { "100.127.255.255", 1 }, { "100.128.0.0", 0 },
    /* 127/8 loopback */
    { "126.255.255.255", 0 }, { "127.0.0.1", 1 }, { "127.255.255.255", 1 }, { "128.0.0.0", 0 },
    /* 169.254/16 link local */
    { "169.253.255.255", 0 }, { "169.254.0.0", 1 }, { "169.254.255.255", 1 }, { "169.255.0.0", 0 },
    /* 172.16/12 private */
    { "172.15.255.255", 0 }, { "172.16.0.0", 1 }, { "172.16.5.5", 1 }, { "172.31.255.255", 1 }, { "172.32.0.0", 0 },
    /* 192.0.0/24 IETF protocol assignments, less the anycast .9 and .10 */
    { "191.255.255.255", 0 }, { "192.0.0.0", 1 }, { "192.0.0.8", 1 }, { "192.0.0.9", 0 }, { "192.0.0.10", 0 },
    { "192.0.0.11", 1 }, { "192.0.0.255", 1 }, { "192.0.1.0", 0 },
    /* 192.0.2/24 TEST-NET-1 */
    { "192.0.1.255", 0 }, { "192.0.2.0", 1 }, { "192.0.2.255", 1 }, { "192.0.3.0", 0 },
    /* 192.88.99/24 deprecated 6to4 relay anycast */
    { "192.88.98.255", 0 }, { "192.88.99.0", 1 }, { "192.88.99.255", 1 }, { "192.88.100.0", 0 },
    /* 192.168/16 private */
    { "192.167.255.255", 0 }, { "192.168.0.0", 1 }, { "192.168.1.1", 1 }, { "192.168.255.255", 1 }, { "192.169.0.0", 0 },
    /* 198.18/15 benchmarking (RFC 2544) */
    { "198.17.255.255", 0 }, { "198.18.0.0", 1 }, { "198.19.255.255", 1 }, { "198.20.0.0", 0 },
    /* 198.51.100/24 TEST-NET-2 */
    { "198.51.99.255", 0 }, { "198.51.100.0", 1 }, { "198.51.100.7", 1 }, { "198.51.100.255", 1 }, { "198.51.101.0", 0 },
    /* 203.0.113/24 TEST-NET-3 */
    { "203.0.112.255", 0 }, { "203.0.113.0", 1 }, { "203.0.113.255", 1 }, { "203.0.114.0", 0 },
    /* 224/4 multicast, 240/4 reserved, 255.255.255.255 broadcast */
    { "223.255.255.255", 0 }, { "224.0.0.0", 1 }, { "239.255.255.255", 1 }, { "240.0.0.0", 1 },
    { "255.255.255.254", 1 }, { "255.255.255.255", 1 },
    /* routable addresses */
    { "1.1.1.1", 0 }, { "8.8.8.8", 0 }, { "100.0.0.1", 0 }, { "172.217.0.1", 0 }, { "192.0.1.1", 0 },
    { "192.169.1.1", 0 }, { "223.5.5.5", 0 },

    /* ::/128, ::1 and ::/96 by the embedded IPv4 address */
    { "::", 1 }, { "::1", 1 }, { "::0.255.255.255", 1 }, { "::8.8.8.8", 0 }, { "::192.168.1.1", 1 },
    /* ::ffff:0:0/96 IPv4-mapped, by the IPv4 address */
    { "::ffff:192.168.1.1", 1 }, { "::ffff:10.0.0.1", 1 }, { "::ffff:8.8.8.8", 0 }, { "::ffff:172.32.0.0", 0 },
    /* 64:ff9b::/96 NAT64, by the IPv4 address; 64:ff9b:1::/48 local use */
    { "64:ff9b::192.168.1.1", 1 }, { "64:ff9b::8.8.8.8", 0 }, { "64:ff9b:1::", 1 },
    { "64:ff9b:1:ffff:ffff:ffff:ffff:ffff", 1 }, { "64:ff9b:2::", 0 }, { "64:ff9a:ffff:ffff:ffff:ffff:ffff:ffff", 0 },
    /* 100::/64 discard-only */
    { "100::", 1 }, { "100::ffff:ffff:ffff:ffff", 1 }, { "100:0:0:1::", 0 }, { "ff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 0 },
    /* 2001::/23 IETF protocol assignments, less Teredo and the reachable blocks */
    { "2001::1", 0 }, { "2001:0:ffff:ffff:ffff:ffff:ffff:ffff", 0 },   /* Teredo 2001::/32 */
    { "2001:1::", 1 }, { "2001:1::1", 0 }, { "2001:1::2", 0 }, { "2001:1::3", 1 },
    { "2001:2::", 1 }, { "2001:2:0:ffff:ffff:ffff:ffff:ffff", 1 },     /* benchmarking 2001:2::/48 */
    { "2001:3::1", 0 }, { "2001:4:112::1", 0 }, { "2001:4:113::", 1 }, { "2001:10::1", 1 },
    { "2001:20::1", 0 }, { "2001:2f:ffff::", 0 }, { "2001:30::1", 0 }, { "2001:40::", 1 },
    { "2001:1ff:ffff:ffff:ffff:ffff:ffff:ffff", 1 }, { "2001:200::", 0 }, { "2000:ffff::", 0 },
    /* 2001:db8::/32 documentation */
    { "2001:db7:ffff:ffff:ffff:ffff:ffff:ffff", 0 }, { "2001:db8::", 1 }, { "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", 1 },
    { "2001:db9::", 0 },
    /* 2002::/16 6to4 is not special */
    { "2002:c0a8:101::1", 0 },
    /* 3fff::/20 documentation */
    { "3ffe:ffff::", 0 }, { "3fff::", 1 }, { "3fff:fff:ffff:ffff:ffff:ffff:ffff:ffff", 1 }, { "3fff:1000::", 0 },
    /* 5f00::/16 SRv6 */
    { "5eff:ffff::", 0 }, { "5f00::1", 1 }, { "5f01::", 0 },
    /* fc00::/7 unique local */
    { "fbff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 0 }, { "fc00::", 1 }, { "fd12:3456::1", 1 },
    { "fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 1 }, { "fe00::", 0 },
    /* fe80::/10 link local, fec0::/10 site local (deprecated) */
    { "fe7f:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 0 }, { "fe80::1", 1 }, { "febf:ffff::", 1 }, { "fec0::1", 1 },
    { "feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 1 },
    /* ff00::/8 multicast */
    { "ff00::", 1 }, { "ff02::1", 1 }, { "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 1 },
    /* routable */
    { "2001:4860:4860::8888", 0 }, { "2400:cb00::1", 0 }, { "2a00:1450::1", 0 }, { "2c0f:fff0::1", 0 },
};
#define NCASES (sizeof CASES / sizeof CASES[0])

static void test_ranges(void **state)
{
    (void)state;
    for (size_t i = 0; i < NCASES; i++) {
        ds_ip ip;
        if (ds_ip_parse(CASES[i].addr, &ip) != 0)
            fail_msg("%s should parse", CASES[i].addr);
        if (!!ds_geo_special(&ip) != CASES[i].special)
            fail_msg("%s: ds_geo_special says %d, want %d", CASES[i].addr, ds_geo_special(&ip), CASES[i].special);
    }
}

static const char *tpath(const char *name)
{
    static char buf[2][512];
    static int k;
    char *b = buf[k++ & 1];
    snprintf(b, 512, "%s/%s", tmpdir, name);
    return b;
}

static void write_text(const char *name, const char *text)
{
    FILE *f = fopen(tpath(name), "wb");
    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
}

static ds_geo *open_ok(const char *country, const char *asn)
{
    ds_geo *g = NULL;
    ds_err err = { 0 };
    if (ds_geo_open(&g, country, asn, &err) != DS_OK)
        fail_msg("ds_geo_open(%s, %s): %s", country, asn, err.msg);
    return g;
}

/* Data that says AU / AS13335 for every address: the special ones come out ZZ / 0. */
static void test_lookup_overrides_data(void **state)
{
    (void)state;
    write_text("all-ipv4.csv", "0.0.0.0,255.255.255.255,AU\n");
    write_text("all-ipv6.csv", "::,ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff,AU\n");
    write_text("asn.csv", "0.0.0.0,255.255.255.255,13335,Cloudflare\n"
                          "::,ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff,13335,Cloudflare\n");
    ds_geo *g = open_ok(tpath("all-ipv4.csv"), tpath("asn.csv"));
    ds_geo *g6 = open_ok(tpath("all-ipv6.csv"), tpath("asn.csv"));
    for (size_t i = 0; i < NCASES; i++) {
        ds_ip ip;
        ds_geo_info gi;
        assert_int_equal(ds_ip_parse(CASES[i].addr, &ip), 0);
        /* mapped and ::/96 IPv6 answer from the IPv4 table */
        int from_v4 = !ip.v6 || (strchr(CASES[i].addr, '.') && strncmp(CASES[i].addr, "64:", 3) != 0);
        ds_geo_lookup(from_v4 ? g : g6, &ip, &gi);
        const char *want = CASES[i].special ? "ZZ" : "AU";
        uint32_t want_asn = CASES[i].special ? 0 : 13335;
        if (strcmp(gi.cc, want) != 0 || gi.asn != want_asn)
            fail_msg("%s: got %s AS%u, want %s AS%u", CASES[i].addr, gi.cc, gi.asn, want, want_asn);
    }
    ds_geo_close(g);
    ds_geo_close(g6);
}

static const char *geo_data_dir(void)
{
    const char *env = getenv("DARKSCOPE_GEO_DATA");
    static const char *const tries[] = { "data/geo", "../data/geo" };
    struct stat st;
    if (env && *env)
        return stat(env, &st) == 0 ? env : NULL;
    for (size_t i = 0; i < sizeof tries / sizeof tries[0]; i++)
        if (stat(tries[i], &st) == 0 && S_ISDIR(st.st_mode))
            return tries[i];
    return NULL;
}

/* The upstream data says AU for 192.168/16 and 172.16/12; ds_geo_lookup says ZZ / 0. */
static void test_real_data(void **state)
{
    (void)state;
    const char *dir = geo_data_dir();
    char pc[1024], pa[1024];
    struct stat st;
    if (!dir)
        skip();
    snprintf(pc, sizeof pc, "%s/country", dir);
    snprintf(pa, sizeof pa, "%s/asn", dir);
    if (stat(pc, &st) != 0 || stat(pa, &st) != 0)
        skip();
    ds_geo *g = open_ok(pc, pa);
    ds_ip au;
    ds_geo_info tab;
    assert_int_equal(ds_ip_parse("192.168.1.1", &au), 0);
    geo_table_lookup(g, &au, &tab);
    print_message("the data itself says %s AS%u for 192.168.1.1\n", tab.cc, tab.asn);
    static const char *const special[] = { "192.168.1.1", "172.16.5.5", "10.1.2.3", "100.64.0.1",
                                           "::ffff:192.168.1.1", "fd00::1", "2001:db8::1" };
    for (size_t i = 0; i < sizeof special / sizeof special[0]; i++) {
        ds_ip ip;
        ds_geo_info gi;
        assert_int_equal(ds_ip_parse(special[i], &ip), 0);
        ds_geo_lookup(g, &ip, &gi);
        if (strcmp(gi.cc, "ZZ") != 0 || gi.asn != 0)
            fail_msg("%s: got %s AS%u, want ZZ AS0", special[i], gi.cc, gi.asn);
    }
    ds_ip ip;
    ds_geo_info gi;
    assert_int_equal(ds_ip_parse("1.1.1.1", &ip), 0);
    ds_geo_lookup(g, &ip, &gi);
    assert_string_equal(gi.cc, "AU");
    assert_int_equal(gi.asn, 13335);
    ds_geo_close(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ranges),
        cmocka_unit_test(test_lookup_overrides_data),
        cmocka_unit_test(test_real_data),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
