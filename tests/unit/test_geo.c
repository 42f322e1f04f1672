/* test_geo.c: the geo tables against CSV and MMDB files this test writes, and against
 * libmaxminddb and a naive CSV scan over the real data in data/geo (skipped when absent).
 *
 * Hand-written inputs cover: address-text and integer CSVs of both families, a header line,
 * quoted organisation names with commas and "" escapes, range edges (start, end, end + 1),
 * overlapping ranges, directory loading with twin representations, malformed files, the cache
 * (miss, hit, stale after a touch, corrupt, unwritable directory), and a small MMDB built here
 * byte by byte (IPv6 tree with an IPv4 subtree, GeoLite2 nested and flat layouts, ASN records).
 * The real-data checks are differential: every answer must equal libmaxminddb's
 * MMDB_lookup_sockaddr (country files) or a linear scan of the CSV (ASN files).
 * These check the table (geo_table_lookup); ds_geo_lookup's answer for special-purpose
 * addresses, ZZ / AS0 whatever the table says, is test_geo_special.c's.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <maxminddb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "geo/geo_int.h"
#include "unit/testdir.h"

static char tmpdir[256];
static char cachedir[300];

static int setup(void **state)
{
    (void)state;
    if (testdir_make(tmpdir, sizeof tmpdir, "test_geo") != 0)
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

static const char *tpath(const char *name)
{
    static char buf[4][512];
    static int k;
    char *b = buf[k++ & 3];
    snprintf(b, 512, "%s/%s", tmpdir, name);
    return b;
}

static void write_file(const char *name, const void *data, size_t len)
{
    const char *p = tpath(name);
    FILE *f = fopen(p, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

static void write_text(const char *name, const char *text)
{
    write_file(name, text, strlen(text));
}

static ds_geo *open_ok(const char *country, const char *asn)
{
    ds_geo *g = NULL;
    ds_err err = { 0 };
    ds_rc rc = ds_geo_open(&g, country, asn, &err);
    if (rc != DS_OK)
        fail_msg("ds_geo_open(%s, %s): %s: %s", country ? country : "NULL", asn ? asn : "NULL",
                 ds_rc_name(rc), err.msg);
    return g;
}

static void expect(const ds_geo *g, const char *addr, const char *cc, uint32_t asn)
{
    ds_ip ip;
    ds_geo_info gi;
    assert_int_equal(ds_ip_parse(addr, &ip), 0);
    geo_table_lookup(g, &ip, &gi);
    if (strcmp(gi.cc, cc) != 0 || gi.asn != asn)
        fail_msg("%s: got %s AS%u, want %s AS%u", addr, gi.cc, gi.asn, cc, asn);
}

/* ------------------------------------------------------------------ CSV */

static void test_empty(void **state)
{
    (void)state;
    ds_geo *g = open_ok(NULL, NULL);
    expect(g, "1.2.3.4", "ZZ", 0);
    expect(g, "2001:db8::1", "ZZ", 0);
    expect(g, "255.255.255.255", "ZZ", 0);
    assert_string_equal(ds_geo_asn_org(g, 13335), "");
    ds_geo_close(g);
    g = open_ok("", "");
    expect(g, "0.0.0.0", "ZZ", 0);
    ds_geo_close(g);
}

static const char country_v4[] =
    "ip_range_start,ip_range_end,country_code\n"
    "1.0.0.0,1.0.0.255,AU\n"
    "1.0.1.0,1.0.3.255,cn\r\n"
    "\n"
    "1.0.8.0,1.0.15.255,JP\n"
    "223.255.255.0,255.255.255.255,KR\n";

static const char asn_v4[] =
    "1.0.0.0,1.0.0.255,13335,\"Cloudflare, Inc.\"\n"
    "1.0.4.0,1.0.7.255,38803,Gtelecom Pty Ltd\n"
    "1.0.16.0,1.0.16.255,2519,\"ARTERIA \"\"Networks\"\", Corp\"\n"
    "0.0.0.0,0.0.0.0,7,zero\n";   /* unsorted on purpose */

static void test_csv_text(void **state)
{
    (void)state;
    write_text("c-ipv4.csv", country_v4);
    write_text("a-ipv4.csv", asn_v4);
    ds_geo *g = open_ok(tpath("c-ipv4.csv"), tpath("a-ipv4.csv"));
    expect(g, "0.255.255.255", "ZZ", 0);
    expect(g, "0.0.0.0", "ZZ", 7);
    expect(g, "0.0.0.1", "ZZ", 0);
    expect(g, "1.0.0.0", "AU", 13335);
    expect(g, "1.0.0.255", "AU", 13335);
    expect(g, "1.0.1.0", "CN", 0);
    expect(g, "1.0.3.255", "CN", 0);
    expect(g, "1.0.4.0", "ZZ", 38803);
    expect(g, "1.0.7.255", "ZZ", 38803);
    expect(g, "1.0.8.0", "JP", 0);
    expect(g, "1.0.15.255", "JP", 0);
    expect(g, "1.0.16.0", "ZZ", 2519);
    expect(g, "1.0.16.255", "ZZ", 2519);
    expect(g, "1.0.17.0", "ZZ", 0);
    expect(g, "223.255.254.255", "ZZ", 0);
    expect(g, "223.255.255.0", "KR", 0);
    expect(g, "255.255.255.255", "KR", 0);
    expect(g, "::ffff:1.0.0.7", "AU", 13335);   /* mapped IPv6 answers from the IPv4 table */
    expect(g, "2001:db8::", "ZZ", 0);
    assert_string_equal(ds_geo_asn_org(g, 13335), "Cloudflare, Inc.");
    assert_string_equal(ds_geo_asn_org(g, 2519), "ARTERIA \"Networks\", Corp");
    assert_string_equal(ds_geo_asn_org(g, 38803), "Gtelecom Pty Ltd");
    assert_string_equal(ds_geo_asn_org(g, 1), "");
    ds_geo_close(g);
}

static void test_csv_num_and_v6(void **state)
{
    (void)state;
    /* 1.0.0.0 = 16777216; 2001:200:: = 42540528726795050063891204319802818560 */
    write_text("n-ipv4-num.csv", "16777216,16777471,13335,\"Cloudflare, Inc.\"\n"
                                 "4294967295,4294967295,64512,top\n");
    write_text("n-ipv6-num.csv",
               "42540528726795050063891204319802818560,"
               "42540528727329395276160870415022948351,2500,WIDE Project\n"
               "0,0,65000,v6zero\n");
    write_text("t-ipv6.csv", "2001:200::,2001:200:ffff:ffff:ffff:ffff:ffff:ffff,JP\n"
                             "2c0f:fff0::,ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff,ZA\n");
    ds_geo *g = open_ok(tpath("t-ipv6.csv"), tpath("n-ipv4-num.csv"));
    expect(g, "1.0.0.0", "ZZ", 13335);
    expect(g, "1.0.0.255", "ZZ", 13335);
    expect(g, "1.0.1.0", "ZZ", 0);
    expect(g, "255.255.255.255", "ZZ", 64512);
    expect(g, "255.255.255.254", "ZZ", 0);
    expect(g, "2001:1ff:ffff:ffff:ffff:ffff:ffff:ffff", "ZZ", 0);
    expect(g, "2001:200::", "JP", 0);
    expect(g, "2001:200:ffff:ffff:ffff:ffff:ffff:ffff", "JP", 0);
    expect(g, "2001:201::", "ZZ", 0);
    expect(g, "2c0f:ffef:ffff:ffff:ffff:ffff:ffff:ffff", "ZZ", 0);
    expect(g, "2c0f:fff0::", "ZA", 0);
    expect(g, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "ZA", 0);
    ds_geo_close(g);

    g = open_ok(NULL, tpath("n-ipv6-num.csv"));
    expect(g, "2001:200::", "ZZ", 2500);
    expect(g, "2001:200:1b9:ffff:ffff:ffff:ffff:ffff", "ZZ", 2500);
    expect(g, "2001:200:1ba::", "ZZ", 0);
    expect(g, "1.0.0.0", "ZZ", 0);
    /* "0" in a file named ipv6 is ::, which lookups answer from the IPv4 table: no answer. */
    expect(g, "::", "ZZ", 0);
    assert_string_equal(ds_geo_asn_org(g, 2500), "WIDE Project");
    ds_geo_close(g);
}

static void test_overlap(void **state)
{
    (void)state;
    write_text("ov.csv", "10.0.0.0,10.255.255.255,AA\n"   /* wide */
                         "10.1.0.0,10.1.255.255,BB\n"     /* more specific: wins */
                         "10.0.0.0,10.255.255.255,CC\n"   /* same size, later: beats AA */
                         "10.1.255.0,10.2.0.255,DD\n"    /* partial overlap, smaller than BB */
                         "11.0.0.0,11.0.0.255,II\n"      /* adjacent to the cluster */
                         "9.0.0.0,9.0.0.255,EE\n"        /* out of order */
                         "255.0.0.0,255.255.255.255,GG\n"
                         "255.255.255.255,255.255.255.255,HH\n");
    ds_geo *g = open_ok(tpath("ov.csv"), NULL);
    expect(g, "8.255.255.255", "ZZ", 0);
    expect(g, "9.0.0.0", "EE", 0);
    expect(g, "9.0.0.255", "EE", 0);
    expect(g, "9.0.1.0", "ZZ", 0);
    expect(g, "9.255.255.255", "ZZ", 0);
    expect(g, "10.0.0.0", "CC", 0);
    expect(g, "10.1.0.0", "BB", 0);
    expect(g, "10.1.254.255", "BB", 0);
    expect(g, "10.1.255.0", "DD", 0);
    expect(g, "10.2.0.255", "DD", 0);
    expect(g, "10.2.1.0", "CC", 0);
    expect(g, "10.255.255.255", "CC", 0);
    expect(g, "11.0.0.0", "II", 0);
    expect(g, "11.0.0.255", "II", 0);
    expect(g, "11.0.1.0", "ZZ", 0);
    expect(g, "254.255.255.255", "ZZ", 0);
    expect(g, "255.0.0.0", "GG", 0);
    expect(g, "255.255.255.254", "GG", 0);
    expect(g, "255.255.255.255", "HH", 0);
    ds_geo_close(g);
}

static void expect_open_fails(const char *country, const char *asn, ds_rc want,
                              const char *needle)
{
    ds_geo *g = NULL;
    ds_err err = { 0 };
    ds_rc rc = ds_geo_open(&g, country, asn, &err);
    if (rc != want || !strstr(err.msg, needle))
        fail_msg("want %s with \"%s\", got %s: %s", ds_rc_name(want), needle, ds_rc_name(rc),
                 err.msg);
    assert_null(g);
}

static void test_errors(void **state)
{
    (void)state;
    char want[600];
    write_text("bad1.csv", "1.0.0.0,1.0.0.255,AU\n1.0.1.0,1.0.1.300,AU\n");
    snprintf(want, sizeof want, "%s:2: range end", tpath("bad1.csv"));
    expect_open_fails(tpath("bad1.csv"), NULL, DS_EFORMAT, want);
    write_text("bad2.csv", "1.0.0.0,1.0.0.255,AUS\n");
    expect_open_fails(tpath("bad2.csv"), NULL, DS_EFORMAT, "bad2.csv:1: country");
    write_text("bad3.csv", "1.0.0.0,1.0.0.255,13335,\"Cloudflare\n");
    expect_open_fails(NULL, tpath("bad3.csv"), DS_EFORMAT, "bad3.csv:1: bad quoting");
    write_text("bad4.csv", "1.0.0.9,1.0.0.0,AU\n");
    expect_open_fails(tpath("bad4.csv"), NULL, DS_EFORMAT, "below its start");
    write_text("bad5.csv", "1.0.0.0,1.0.0.255,AS13335x,Foo\n");
    expect_open_fails(NULL, tpath("bad5.csv"), DS_EFORMAT, "bad5.csv:1: ASN");
    write_text("bad6.csv", "1.0.0.0,::1,AU\n");
    expect_open_fails(tpath("bad6.csv"), NULL, DS_EFORMAT, "different address families");
    write_text("bad7.csv", "h1,h2,h3\nstart,end,cc\n");
    expect_open_fails(tpath("bad7.csv"), NULL, DS_EFORMAT, "bad7.csv:2: range start");
    write_text("notdb.mmdb", "this is not a MaxMind DB\n");
    expect_open_fails(tpath("notdb.mmdb"), NULL, DS_EFORMAT, "notdb.mmdb");
    expect_open_fails(tpath("missing.csv"), NULL, DS_EIO, "missing.csv");
    mkdir(tpath("emptydir"), 0755);
    expect_open_fails(NULL, tpath("emptydir"), DS_EFORMAT, "no .mmdb or .csv");
    if (geteuid() != 0) {            /* root reads anything */
        write_text("unreadable.csv", "1.0.0.0,1.0.0.255,AU\n");
        chmod(tpath("unreadable.csv"), 0);
        expect_open_fails(tpath("unreadable.csv"), NULL, DS_EIO, "unreadable.csv");
    }
}

static void test_directory(void **state)
{
    (void)state;
    mkdir(tpath("asn"), 0755);
    /* Twins with different contents prove which representation was taken (the text one). */
    write_text("asn/asn-ipv4.csv", "1.0.0.0,1.0.0.255,13335,\"Cloudflare, Inc.\"\n");
    write_text("asn/asn-ipv4-num.csv", "16777216,16777471,99,wrong twin\n");
    write_text("asn/asn-ipv6.csv", "2001:200::,2001:200:ffff:ffff:ffff:ffff:ffff:ffff,2500,WIDE\n");
    write_text("asn/asn-ipv6-num.csv", "42540528726795050063891204319802818560,"
                                       "42540528727329395276160870415022948351,98,wrong\n");
    write_text("asn/README.md", "not data\n");
    write_text("asn/.hidden.csv", "garbage\n");
    ds_geo *g = open_ok(NULL, tpath("asn"));
    expect(g, "1.0.0.1", "ZZ", 13335);
    expect(g, "2001:200::1", "ZZ", 2500);
    assert_string_equal(ds_geo_asn_org(g, 2500), "WIDE");
    assert_string_equal(ds_geo_asn_org(g, 99), "");
    ds_geo_close(g);
}

/* ------------------------------------------------------------------ cache */

static int cache_file(char *out, size_t len, ino_t *ino)
{
    char cmd[700];
    snprintf(cmd, sizeof cmd, "ls %s/geo-*.tbl 2>/dev/null | head -1", cachedir);
    FILE *p = popen(cmd, "r");
    if (!p)
        return -1;
    int ok = fgets(out, (int)len, p) != NULL;
    pclose(p);
    if (!ok)
        return -1;
    out[strcspn(out, "\n")] = '\0';
    struct stat st;
    if (stat(out, &st) != 0)
        return -1;
    *ino = st.st_ino;
    return 0;
}

static void test_cache(void **state)
{
    (void)state;
    char cf[600];
    ino_t ino0, ino1;
    char rmcmd[700];
    snprintf(rmcmd, sizeof rmcmd, "rm -rf %s", cachedir);
    assert_int_equal(system(rmcmd), 0);
    mkdir(tpath("cc"), 0755);
    write_text("cc/x-ipv4.csv", "1.0.0.0,1.0.0.255,AU\n");
    write_text("cc/x-ipv6.csv", "2001:200::,2001:200:ffff:ffff:ffff:ffff:ffff:ffff,JP\n");

    ds_geo *g = open_ok(tpath("cc"), NULL);       /* miss: builds and writes */
    expect(g, "1.0.0.1", "AU", 0);
    ds_geo_close(g);
    assert_int_equal(cache_file(cf, sizeof cf, &ino0), 0);

    g = open_ok(tpath("cc"), NULL);               /* hit: the same file */
    expect(g, "1.0.0.1", "AU", 0);
    expect(g, "2001:200::1", "JP", 0);
    ds_geo_close(g);
    assert_int_equal(cache_file(cf, sizeof cf, &ino1), 0);
    assert_true(ino0 == ino1);

    /* Stale: same size, new content, new mtime. */
    write_text("cc/x-ipv4.csv", "1.0.0.0,1.0.0.255,NZ\n");
    struct timespec ts[2] = { { 1000000000, 0 }, { 1000000000, 0 } };
    assert_int_equal(utimensat(AT_FDCWD, tpath("cc/x-ipv4.csv"), ts, 0), 0);
    g = open_ok(tpath("cc"), NULL);
    expect(g, "1.0.0.1", "NZ", 0);
    ds_geo_close(g);
    assert_int_equal(cache_file(cf, sizeof cf, &ino0), 0);
    assert_true(ino0 != ino1);

    /* Only a touch: rebuilt too. */
    ts[0].tv_sec = ts[1].tv_sec = 1100000000;
    assert_int_equal(utimensat(AT_FDCWD, tpath("cc/x-ipv4.csv"), ts, 0), 0);
    g = open_ok(tpath("cc"), NULL);
    ds_geo_close(g);
    assert_int_equal(cache_file(cf, sizeof cf, &ino1), 0);
    assert_true(ino0 != ino1);

    /* Corrupt: flip a byte in the payload; then truncate; then garbage. */
    struct stat st;
    assert_int_equal(stat(cf, &st), 0);
    int fd = open(cf, O_RDWR);
    assert_true(fd >= 0);
    uint8_t byte;
    assert_int_equal(pread(fd, &byte, 1, st.st_size / 2), 1);
    byte ^= 0x40;
    assert_int_equal(pwrite(fd, &byte, 1, st.st_size / 2), 1);
    close(fd);
    g = open_ok(tpath("cc"), NULL);
    expect(g, "1.0.0.1", "NZ", 0);
    expect(g, "2001:200::1", "JP", 0);
    ds_geo_close(g);
    assert_int_equal(cache_file(cf, sizeof cf, &ino0), 0);
    assert_true(ino0 != ino1);

    assert_int_equal(truncate(cf, 100), 0);
    g = open_ok(tpath("cc"), NULL);
    expect(g, "1.0.0.1", "NZ", 0);
    ds_geo_close(g);
    assert_int_equal(stat(cf, &st), 0);
    assert_true(st.st_size > 100);

    char junk[4096];
    memset(junk, 0xA5, sizeof junk);
    FILE *f = fopen(cf, "wb");
    assert_non_null(f);
    fwrite(junk, 1, sizeof junk, f);
    fclose(f);
    g = open_ok(tpath("cc"), NULL);
    expect(g, "1.0.0.1", "NZ", 0);
    ds_geo_close(g);

    /* No usable cache directory: still works. */
    write_text("plainfile", "x");
    char bad[600];
    snprintf(bad, sizeof bad, "%s/sub", tpath("plainfile"));
    setenv("DARKSCOPE_CACHE_DIR", bad, 1);
    g = open_ok(tpath("cc"), NULL);
    expect(g, "1.0.0.1", "NZ", 0);
    ds_geo_close(g);
    setenv("DARKSCOPE_CACHE_DIR", cachedir, 1);
}

/* The cache is bounded: writing a table leaves the 8 newest geo-*.tbl files (the new one among
 * them) and nothing else of the cache's is touched; opening a cached table renews its time, so a
 * table in use outlives ones that were written later but not used since.  Regression: tests run
 * from fresh clones left 80 tables (900 MB) in ~/.cache/darkscope in a day. */
static int count_tables(void)
{
    char cmd[700], line[64];
    snprintf(cmd, sizeof cmd, "ls %s | grep -c '^geo-.*\\.tbl$'", cachedir);
    FILE *p = popen(cmd, "r");
    if (!p)
        return -1;
    int n = fgets(line, sizeof line, p) ? atoi(line) : -1;
    pclose(p);
    return n;
}

static int exists_in_cache(const char *name)
{
    char path[700];
    snprintf(path, sizeof path, "%s/%s", cachedir, name);
    return access(path, F_OK) == 0;
}

static void test_cache_prune(void **state)
{
    (void)state;
    char rmcmd[700], name[64], path[700];
    snprintf(rmcmd, sizeof rmcmd, "rm -rf %s", cachedir);
    assert_int_equal(system(rmcmd), 0);
    mkdir(tpath("pa"), 0755);
    write_text("pa/x-ipv4.csv", "1.0.0.0,1.0.0.255,AU\n");
    ds_geo *g = open_ok(tpath("pa"), NULL);       /* the table in use: made first, so oldest */
    ds_geo_close(g);
    assert_int_equal(count_tables(), 1);
    char used[600];
    ino_t ino;
    assert_int_equal(cache_file(used, sizeof used, &ino), 0);
    struct timespec old[2] = { { 1000000000, 0 }, { 1000000000, 0 } };
    assert_int_equal(utimensat(AT_FDCWD, used, old, 0), 0);
    /* twelve tables of other inputs, written at times 1..12 (after the one in use's) */
    for (int i = 1; i <= 12; i++) {
        snprintf(name, sizeof name, "geo-%016x.tbl", i);
        snprintf(path, sizeof path, "%s/%s", cachedir, name);
        FILE *f = fopen(path, "wb");
        assert_non_null(f);
        fputs("stale", f);
        fclose(f);
        struct timespec ts[2] = { { 1000000000 + i * 10, 0 }, { 1000000000 + i * 10, 0 } };
        assert_int_equal(utimensat(AT_FDCWD, path, ts, 0), 0);
    }
    write_text("cache/notes.txt", "not ours to remove");
    mkdir(tpath("cache/geo-dir.tbl"), 0755);        /* not a regular file: left alone */
    /* Regression: a writer killed before its rename left geo-*.tbl.tmp.PID (10-20 MB) for good.
     * One untouched for longer than a write could take is removed; one being written is not. */
    write_text("cache/geo-00000000000000aa.tbl.tmp.4242", "abandoned");
    snprintf(path, sizeof path, "%s/geo-00000000000000aa.tbl.tmp.4242", cachedir);
    assert_int_equal(utimensat(AT_FDCWD, path, old, 0), 0);
    write_text("cache/geo-00000000000000bb.tbl.tmp.4243", "being written");
    write_text("cache/geo-00000000000000cc.tbl.tmp.x", "not a temporary of ours");
    assert_int_equal(utimensat(AT_FDCWD, tpath("cache/geo-00000000000000cc.tbl.tmp.x"), old, 0), 0);
    /* and the names util/atomic_file.c gives its temporary files now: .geo-*.tbl.tmp.XXXXXX */
    write_text("cache/.geo-00000000000000dd.tbl.tmp.aB3xZ9", "abandoned");
    assert_int_equal(utimensat(AT_FDCWD, tpath("cache/.geo-00000000000000dd.tbl.tmp.aB3xZ9"), old, 0), 0);
    write_text("cache/.geo-00000000000000ee.tbl.tmp.Qw12er", "being written");
    g = open_ok(tpath("pa"), NULL);                /* a hit: renews the table's time */
    expect(g, "1.0.0.1", "AU", 0);
    ds_geo_close(g);
    struct stat st;
    assert_int_equal(stat(used, &st), 0);
    assert_true(st.st_mtim.tv_sec > 1000000000 + 12 * 10);
    g = open_ok(tpath("pa"), NULL);                /* renewed within the hour: left as it is */
    ds_geo_close(g);
    struct stat st2;
    assert_int_equal(stat(used, &st2), 0);
    assert_true(st2.st_mtim.tv_sec == st.st_mtim.tv_sec && st2.st_mtim.tv_nsec == st.st_mtim.tv_nsec);
    assert_int_equal(count_tables(), 14);          /* a hit writes nothing, so prunes nothing */

    mkdir(tpath("pb"), 0755);                      /* new inputs: a table is written, the cache pruned */
    write_text("pb/x-ipv4.csv", "1.0.0.0,1.0.0.255,NZ\n");
    g = open_ok(tpath("pb"), NULL);
    expect(g, "1.0.0.1", "NZ", 0);
    ds_geo_close(g);
    assert_int_equal(count_tables(), 8 + 1);       /* 8 tables and the directory named like one */
    assert_true(access(used, F_OK) == 0);          /* in use: kept */
    for (int i = 1; i <= 12; i++) {                /* the 6 newest of the twelve kept */
        snprintf(name, sizeof name, "geo-%016x.tbl", i);
        assert_int_equal(exists_in_cache(name), i > 6);
    }
    assert_true(exists_in_cache("notes.txt"));
    assert_true(exists_in_cache("geo-dir.tbl"));
    assert_false(exists_in_cache("geo-00000000000000aa.tbl.tmp.4242"));
    assert_true(exists_in_cache("geo-00000000000000bb.tbl.tmp.4243"));
    assert_true(exists_in_cache("geo-00000000000000cc.tbl.tmp.x"));
    assert_false(exists_in_cache(".geo-00000000000000dd.tbl.tmp.aB3xZ9"));
    assert_true(exists_in_cache(".geo-00000000000000ee.tbl.tmp.Qw12er"));
    g = open_ok(tpath("pa"), NULL);                /* the kept tables still answer */
    expect(g, "1.0.0.1", "AU", 0);
    ds_geo_close(g);
    g = open_ok(tpath("pb"), NULL);
    expect(g, "1.0.0.1", "NZ", 0);
    ds_geo_close(g);
    assert_int_equal(count_tables(), 9);
}

/* ------------------------------------------------------------------ a small MMDB, by hand */

typedef struct buf {
    uint8_t *p;
    size_t len, cap;
} buf;

static void put(buf *b, const void *d, size_t n)
{
    if (b->len + n > b->cap) {
        b->cap = (b->len + n) * 2 + 64;
        b->p = realloc(b->p, b->cap);
        assert_non_null(b->p);
    }
    memcpy(b->p + b->len, d, n);
    b->len += n;
}
static void put8(buf *b, uint8_t x) { put(b, &x, 1); }

/* MaxMind DB data encoding (spec section "Output Data Section"). */
static void enc_str(buf *b, const char *s)
{
    size_t n = strlen(s);                    /* < 285 here */
    if (n < 29) {
        put8(b, (uint8_t)(2 << 5 | n));
    } else {
        put8(b, (uint8_t)(2 << 5 | 29));
        put8(b, (uint8_t)(n - 29));
    }
    put(b, s, n);
}
static void enc_map(buf *b, unsigned n) { put8(b, (uint8_t)(7 << 5 | n)); }
static void enc_uint(buf *b, int type, uint64_t v)
{
    uint8_t be[8];
    int n = 0;
    for (uint64_t x = v; x; x >>= 8)
        n++;
    for (int i = 0; i < n; i++)
        be[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
    if (type <= 7) {
        put8(b, (uint8_t)(type << 5 | n));
    } else {                                 /* extended type */
        put8(b, (uint8_t)n);
        put8(b, (uint8_t)(type - 7));
    }
    put(b, be, (size_t)n);
}

typedef struct trie {
    uint32_t (*rec)[2];                      /* node -> record; values encoded below */
    uint32_t n;
} trie;
#define REC_EMPTY 0xFFFFFFFFu
#define REC_DATA(off) (0x80000000u | (off))

static uint32_t trie_node(trie *t)
{
    t->rec = realloc(t->rec, (t->n + 1) * sizeof *t->rec);
    assert_non_null(t->rec);
    t->rec[t->n][0] = t->rec[t->n][1] = REC_EMPTY;
    return t->n++;
}

/* Insert a 128-bit prefix (addr, len); prefixes must not nest. */
static void trie_insert(trie *t, const uint8_t addr[16], int len, uint32_t data_off)
{
    uint32_t node = 0;
    for (int d = 0; d < len; d++) {
        int bit = addr[d / 8] >> (7 - d % 8) & 1;
        if (d == len - 1) {
            t->rec[node][bit] = REC_DATA(data_off);
            return;
        }
        if (t->rec[node][bit] == REC_EMPTY) {
            uint32_t c = trie_node(t);
            t->rec[node][bit] = c;
        }
        node = t->rec[node][bit];
    }
}

typedef struct mm_prefix {
    const char *addr;
    int len;               /* IPv4 prefixes are given as IPv4 text and length */
    uint32_t data_off;
} mm_prefix;

static void write_mmdb(const char *name, const mm_prefix *pfx, size_t n, const buf *data)
{
    trie t = { 0 };
    trie_node(&t);
    for (size_t i = 0; i < n; i++) {
        ds_ip ip;
        assert_int_equal(ds_ip_parse(pfx[i].addr, &ip), 0);
        uint8_t a[16] = { 0 };
        int len = pfx[i].len;
        if (ip.v6) {
            memcpy(a, ip.b, 16);
        } else {
            memcpy(a + 12, ip.b, 4);
            len += 96;
        }
        trie_insert(&t, a, len, pfx[i].data_off);
    }
    buf out = { 0 };
    for (uint32_t i = 0; i < t.n; i++) {
        for (int s = 0; s < 2; s++) {
            uint32_t r = t.rec[i][s];
            if (r == REC_EMPTY)
                r = t.n;
            else if (r & 0x80000000u)
                r = t.n + 16 + (r & 0x7FFFFFFFu);
            uint8_t b3[3] = { (uint8_t)(r >> 16), (uint8_t)(r >> 8), (uint8_t)r };
            put(&out, b3, 3);
        }
    }
    static const uint8_t zeros[16];
    put(&out, zeros, 16);
    put(&out, data->p, data->len);
    put(&out, "\xAB\xCD\xEFMaxMind.com", 14);
    enc_map(&out, 9);
    enc_str(&out, "node_count");
    enc_uint(&out, 6, t.n);
    enc_str(&out, "record_size");
    enc_uint(&out, 5, 24);
    enc_str(&out, "ip_version");
    enc_uint(&out, 5, 6);
    enc_str(&out, "database_type");
    enc_str(&out, "darkscope-test");
    enc_str(&out, "binary_format_major_version");
    enc_uint(&out, 5, 2);
    enc_str(&out, "binary_format_minor_version");
    enc_uint(&out, 5, 0);
    enc_str(&out, "build_epoch");
    enc_uint(&out, 9, 1700000000);
    enc_str(&out, "languages");
    put8(&out, 0);                           /* empty array: extended type 11 */
    put8(&out, 11 - 7);
    enc_str(&out, "description");
    enc_map(&out, 0);
    write_file(name, out.p, out.len);
    free(out.p);
    free(t.rec);
}

/* Country and ASN the way libmaxminddb answers, for differential checks. */
static void mmdb_answer(MMDB_s *db, const ds_ip *ip, char cc[3], uint32_t *asn)
{
    struct sockaddr_in6 s6;
    struct sockaddr_in s4;
    const struct sockaddr *sa;
    int gai = 0, mmerr = 0;
    memset(&s6, 0, sizeof s6);
    memset(&s4, 0, sizeof s4);
    if (ip->v6) {
        s6.sin6_family = AF_INET6;
        memcpy(&s6.sin6_addr, ip->b, 16);
        sa = (const struct sockaddr *)&s6;
    } else {
        s4.sin_family = AF_INET;
        memcpy(&s4.sin_addr, ip->b, 4);
        sa = (const struct sockaddr *)&s4;
    }
    (void)gai;
    MMDB_lookup_result_s r = MMDB_lookup_sockaddr(db, sa, &mmerr);
    assert_int_equal(mmerr, MMDB_SUCCESS);
    strcpy(cc, "ZZ");
    *asn = 0;
    if (!r.found_entry)
        return;
    MMDB_entry_data_s d;
    if (MMDB_get_value(&r.entry, &d, "country_code", NULL) == MMDB_SUCCESS && d.has_data &&
        d.type == MMDB_DATA_TYPE_UTF8_STRING && d.data_size == 2) {
        cc[0] = d.utf8_string[0];
        cc[1] = d.utf8_string[1];
    } else if (MMDB_get_value(&r.entry, &d, "country", "iso_code", NULL) == MMDB_SUCCESS &&
               d.has_data && d.type == MMDB_DATA_TYPE_UTF8_STRING && d.data_size == 2) {
        cc[0] = d.utf8_string[0];
        cc[1] = d.utf8_string[1];
    }
    if (MMDB_get_value(&r.entry, &d, "autonomous_system_number", NULL) == MMDB_SUCCESS &&
        d.has_data && d.type == MMDB_DATA_TYPE_UINT32)
        *asn = d.uint32;
}

static void test_small_mmdb(void **state)
{
    (void)state;
    buf data = { 0 };
    uint32_t jp_flat = (uint32_t)data.len;
    enc_map(&data, 1);
    enc_str(&data, "country_code");
    enc_str(&data, "JP");
    uint32_t us_nested = (uint32_t)data.len;          /* GeoLite2 layout */
    enc_map(&data, 2);
    enc_str(&data, "continent");
    enc_str(&data, "NA");
    enc_str(&data, "country");
    enc_map(&data, 1);
    enc_str(&data, "iso_code");
    enc_str(&data, "US");
    uint32_t as_wide = (uint32_t)data.len;
    enc_map(&data, 2);
    enc_str(&data, "autonomous_system_number");
    enc_uint(&data, 6, 2500);
    enc_str(&data, "autonomous_system_organization");
    enc_str(&data, "WIDE Project");
    uint32_t no_cc = (uint32_t)data.len;
    enc_map(&data, 1);
    enc_str(&data, "registered");
    enc_str(&data, "x");

    const mm_prefix cpfx[] = {
        { "1.0.0.0", 24, jp_flat },      { "1.0.1.0", 24, us_nested },
        { "1.0.2.0", 23, jp_flat },      { "128.0.0.0", 1, us_nested },
        { "2001:200::", 23, jp_flat },   { "2600::", 12, us_nested },
        { "ffff::", 16, no_cc },
    };
    write_mmdb("small-country.mmdb", cpfx, sizeof cpfx / sizeof cpfx[0], &data);
    const mm_prefix apfx[] = {
        { "1.0.0.0", 16, as_wide }, { "2001:200::", 32, as_wide },
    };
    write_mmdb("small-asn.mmdb", apfx, sizeof apfx / sizeof apfx[0], &data);
    free(data.p);

    ds_geo *g = open_ok(tpath("small-country.mmdb"), tpath("small-asn.mmdb"));
    expect(g, "0.255.255.255", "ZZ", 0);
    expect(g, "1.0.0.0", "JP", 2500);
    expect(g, "1.0.0.255", "JP", 2500);
    expect(g, "1.0.1.0", "US", 2500);
    expect(g, "1.0.3.255", "JP", 2500);
    expect(g, "1.0.4.0", "ZZ", 2500);
    expect(g, "1.0.255.255", "ZZ", 2500);
    expect(g, "1.1.0.0", "ZZ", 0);
    expect(g, "127.255.255.255", "ZZ", 0);
    expect(g, "128.0.0.0", "US", 0);
    expect(g, "255.255.255.255", "US", 0);
    expect(g, "2001:1ff:ffff:ffff:ffff:ffff:ffff:ffff", "ZZ", 0);
    expect(g, "2001:200::", "JP", 2500);
    expect(g, "2001:200:ffff:ffff:ffff:ffff:ffff:ffff", "JP", 2500);
    expect(g, "2001:201::", "JP", 0);
    expect(g, "2001:3ff:ffff:ffff:ffff:ffff:ffff:ffff", "JP", 0);
    expect(g, "2001:400::", "ZZ", 0);
    expect(g, "260f:ffff::", "US", 0);
    expect(g, "2610::", "ZZ", 0);
    expect(g, "ffff::1", "ZZ", 0);
    expect(g, "::1.0.1.7", "US", 2500);
    assert_string_equal(ds_geo_asn_org(g, 2500), "WIDE Project");

    /* Differential against libmaxminddb on both files. */
    MMDB_s cdb, adb;
    assert_int_equal(MMDB_open(tpath("small-country.mmdb"), MMDB_MODE_MMAP, &cdb), MMDB_SUCCESS);
    assert_int_equal(MMDB_open(tpath("small-asn.mmdb"), MMDB_MODE_MMAP, &adb), MMDB_SUCCESS);
    uint64_t x = 12345;
    for (int i = 0; i < 4000; i++) {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        ds_ip ip;
        memset(&ip, 0, sizeof ip);
        if (i & 1) {
            ds_ip_set4(&ip, (uint32_t)x & 0x80FFFFFFu);  /* 0/8, 1/8, 128/8 .. */
            if (i & 2)
                ip.b[0] = (uint8_t)(ip.b[0] & 0x80 ? 0x80 : 1);
        } else {
            ip.v6 = 1;
            static const uint8_t tops[4][2] = { { 0x20, 0x01 }, { 0x26, 0x0f },
                                                { 0xff, 0xff }, { 0x26, 0x10 } };
            memcpy(ip.b, tops[(x >> 40) & 3], 2);
            ip.b[2] = 0x02;
            ip.b[3] = (uint8_t)(x >> 8 & 0x03);
            for (int k = 4; k < 16; k++)
                ip.b[k] = (uint8_t)(x >> (k * 3 % 56));
        }
        char cc[3], cc2[3];
        uint32_t asn, asn2;
        ds_geo_info gi;
        mmdb_answer(&cdb, &ip, cc, &asn);
        mmdb_answer(&adb, &ip, cc2, &asn2);
        geo_table_lookup(g, &ip, &gi);
        char s[DS_IP_STRLEN];
        if (strcmp(gi.cc, cc) != 0 || gi.asn != asn2)
            fail_msg("%s: got %s AS%u, libmaxminddb %s AS%u", ds_ip_format(&ip, s, sizeof s),
                     gi.cc, gi.asn, cc, asn2);
    }
    MMDB_close(&cdb);
    MMDB_close(&adb);
    ds_geo_close(g);

    /* A truncated MMDB is a format error naming the file. */
    FILE *f = fopen(tpath("small-asn.mmdb"), "rb");
    assert_non_null(f);
    uint8_t head[40];
    assert_int_equal(fread(head, 1, sizeof head, f), sizeof head);
    fclose(f);
    write_file("trunc.mmdb", head, sizeof head);
    expect_open_fails(NULL, tpath("trunc.mmdb"), DS_EFORMAT, "trunc.mmdb");
}

/* ------------------------------------------------------------------ real data */

static const char *geo_data_dir(void)
{
    const char *env = getenv("DARKSCOPE_GEO_DATA");
    static const char *const tries[] = { "data/geo", "../data/geo", "/work/main/data/geo" };
    struct stat st;
    if (env && *env)
        return stat(env, &st) == 0 ? env : NULL;
    for (size_t i = 0; i < sizeof tries / sizeof tries[0]; i++)
        if (stat(tries[i], &st) == 0 && S_ISDIR(st.st_mode))
            return tries[i];
    return NULL;
}

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static void random_ip(ds_ip *ip, int v6)
{
    memset(ip, 0, sizeof *ip);
    if (!v6) {
        ds_ip_set4(ip, (uint32_t)rnd());
        return;
    }
    ip->v6 = 1;
    uint64_t a = rnd(), b = rnd();
    for (int k = 0; k < 8; k++) {
        ip->b[k] = (uint8_t)(a >> (56 - 8 * k));
        ip->b[8 + k] = (uint8_t)(b >> (56 - 8 * k));
    }
    ip->b[0] = (uint8_t)(0x20 | (ip->b[0] & 0x1F));   /* global unicast 2000::/3 */
    if (rnd() % 4 != 0) {          /* mostly the densely allocated /12s of the RIRs */
        static const uint8_t dense[] = { 0x20, 0x24, 0x26, 0x28, 0x2a, 0x2c };
        ip->b[0] = dense[rnd() % sizeof dense];
        ip->b[1] &= 0x0F;
    }
}

static int mmdb_netmask(MMDB_s *db, const ds_ip *ip)
{
    char s[DS_IP_STRLEN];
    int gai = 0, mmerr = 0;
    MMDB_lookup_result_s r = MMDB_lookup_string(db, ds_ip_format(ip, s, sizeof s), &gai, &mmerr);
    return r.found_entry ? r.netmask : -1;
}

static void compare_one(MMDB_s *db, const ds_geo *g, const char *path, const ds_ip *ip, int *known)
{
    char cc[3], s[DS_IP_STRLEN];
    uint32_t asn;
    ds_geo_info gi;
    mmdb_answer(db, ip, cc, &asn);
    geo_table_lookup(g, ip, &gi);
    *known += strcmp(cc, "ZZ") != 0;
    if (strcmp(gi.cc, cc) != 0)
        fail_msg("%s %s: got %s, libmaxminddb %s", path, ds_ip_format(ip, s, sizeof s), gi.cc, cc);
}

/* n random addresses, half of them re-drawn until libmaxminddb has an answer, each also
 * checked at the first and last address of its MMDB network and one past the last. */
static void check_mmdb_file(const char *path, int v4, int v6, int n)
{
    MMDB_s db;
    assert_int_equal(MMDB_open(path, MMDB_MODE_MMAP, &db), MMDB_SUCCESS);
    ds_geo *g = open_ok(path, NULL);
    int known = 0;
    for (int i = 0; i < n; i++) {
        ds_ip ip;
        int fam6 = (i & 1) ? v6 : !v4;
        random_ip(&ip, fam6);
        for (int tries = 0; (i & 2) && tries < 200 && mmdb_netmask(&db, &ip) < 0; tries++)
            random_ip(&ip, fam6);
        compare_one(&db, g, path, &ip, &known);
        int mask = mmdb_netmask(&db, &ip);
        if (mask < 0)
            continue;
        int bits = ip.v6 ? 128 : 32, plen = ip.v6 || db.metadata.ip_version == 4 ? mask : mask - 96;
        if (plen < 0 || plen > bits)
            continue;
        ds_ip lo = ip, hi = ip;
        for (int b = plen; b < bits; b++) {
            lo.b[b / 8] &= (uint8_t)~(0x80 >> (b % 8));
            hi.b[b / 8] |= (uint8_t)(0x80 >> (b % 8));
        }
        compare_one(&db, g, path, &lo, &known);
        compare_one(&db, g, path, &hi, &known);
        int k = bits / 8 - 1;
        while (k >= 0 && ++hi.b[k] == 0)
            k--;
        if (k >= 0)
            compare_one(&db, g, path, &hi, &known);
    }
    if (known <= n / 4)              /* the sample must hit data to mean anything */
        fail_msg("%s: only %d of the sampled addresses have a country", path, known);
    ds_geo_close(g);
    MMDB_close(&db);
}

static void test_real_country(void **state)
{
    (void)state;
    const char *dir = geo_data_dir();
    char p[1024];
    if (!dir)
        skip();
    snprintf(p, sizeof p, "%s/country/geo-whois-asn-country.mmdb", dir);
    if (access(p, R_OK) != 0)
        skip();
    check_mmdb_file(p, 1, 1, 600);
    snprintf(p, sizeof p, "%s/country/geo-whois-asn-country-ipv4.mmdb", dir);
    if (access(p, R_OK) == 0)
        check_mmdb_file(p, 1, 0, 400);
    snprintf(p, sizeof p, "%s/country/geo-whois-asn-country-ipv6.mmdb", dir);
    if (access(p, R_OK) == 0)
        check_mmdb_file(p, 0, 1, 400);
}

/* A naive reading of an ASN CSV: every row kept, searched linearly. */
typedef struct naive_row {
    uint8_t start[16], end[16];
    int v6;
    uint32_t asn;
    char org[128];
} naive_row;

static size_t naive_load(const char *path, naive_row **out)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    size_t n = 0, cap = 1 << 16;
    naive_row *rows = malloc(cap * sizeof *rows);
    char line[2048];
    while (fgets(line, sizeof line, f)) {
        char *c1 = strchr(line, ','), *c2 = c1 ? strchr(c1 + 1, ',') : NULL;
        if (!c2)
            continue;
        *c1 = *c2 = '\0';
        char *c3 = strchr(c2 + 1, ',');
        if (n == cap)
            rows = realloc(rows, (cap *= 2) * sizeof *rows);
        naive_row *r = &rows[n];
        memset(r, 0, sizeof *r);
        ds_ip a, b;
        if (ds_ip_parse(line, &a) != 0 || ds_ip_parse(c1 + 1, &b) != 0)
            continue;
        memcpy(r->start, a.b, 16);
        memcpy(r->end, b.b, 16);
        r->v6 = a.v6;
        r->asn = (uint32_t)strtoul(c2 + 1, NULL, 10);
        if (c3) {   /* org: strip quotes and "" escapes */
            char *s = c3 + 1, *o = r->org;
            s[strcspn(s, "\r\n")] = '\0';
            int q = *s == '"';
            s += q;
            while (*s && o < r->org + sizeof r->org - 1) {
                if (q && s[0] == '"' && s[1] == '"') { *o++ = '"'; s += 2; continue; }
                if (q && s[0] == '"') break;
                *o++ = *s++;
            }
            *o = '\0';
        }
        n++;
    }
    fclose(f);
    *out = rows;
    return n;
}

static void test_real_asn(void **state)
{
    (void)state;
    const char *dir = geo_data_dir();
    char p4[1024], p6[1024], pd[1024];
    if (!dir)
        skip();
    snprintf(p4, sizeof p4, "%s/asn/asn-ipv4.csv", dir);
    snprintf(p6, sizeof p6, "%s/asn/asn-ipv6.csv", dir);
    snprintf(pd, sizeof pd, "%s/asn", dir);
    if (access(p4, R_OK) != 0 || access(p6, R_OK) != 0)
        skip();
    naive_row *rows4, *rows6;
    size_t n4 = naive_load(p4, &rows4), n6 = naive_load(p6, &rows6);
    assert_true(n4 > 1000 && n6 > 1000);
    ds_geo *g = open_ok(NULL, pd);
    for (int i = 0; i < 1000; i++) {
        int v6 = i & 1;
        naive_row *rows = v6 ? rows6 : rows4;
        size_t n = v6 ? n6 : n4;
        ds_ip ip;
        int pick = (int)(rnd() % 3);
        if (i >= 800) {                 /* around every place where rows overlap */
            size_t k = 1;
            while (k < n && memcmp(rows[k].start, rows[k - 1].end, v6 ? 16 : 4) > 0)
                k++;
            if (k == n)
                continue;
            pick = 1 + (i & 1);
            memset(&ip, 0, sizeof ip);
            ip.v6 = (uint8_t)v6;
            memcpy(ip.b, (i & 2) ? rows[k].start : rows[k - 1].end, 16);
            if (pick == 2 && (i & 4))
                memcpy(ip.b, rows[k].end, 16);
        } else if (pick == 0) {
            random_ip(&ip, v6);
        } else {                        /* a row's start, or its end + 1 */
            const naive_row *r = &rows[rnd() % n];
            memset(&ip, 0, sizeof ip);
            ip.v6 = (uint8_t)v6;
            memcpy(ip.b, pick == 1 ? r->start : r->end, 16);
            if (pick == 2) {
                int k = v6 ? 15 : 3;
                while (k >= 0 && ++ip.b[k] == 0)
                    k--;
            }
        }
        /* Every matching row; the smallest wins, the later one among equals (the data has
         * the odd overlapping pair, and that is geo.h's documented rule). */
        uint32_t want = 0;
        const char *org = "";
        unsigned __int128 best = 0;
        int found = 0;
        for (size_t k = 0; k < n; k++) {
            size_t w = v6 ? 16 : 4;
            if (memcmp(rows[k].start, ip.b, w) <= 0 && memcmp(ip.b, rows[k].end, w) <= 0) {
                unsigned __int128 a = 0, b = 0;
                for (size_t q = 0; q < w; q++) {
                    a = a << 8 | rows[k].start[q];
                    b = b << 8 | rows[k].end[q];
                }
                if (!found || b - a <= best) {
                    best = b - a;
                    found = 1;
                    want = rows[k].asn;
                    org = rows[k].org;
                }
            }
        }
        ds_geo_info gi;
        geo_table_lookup(g, &ip, &gi);
        char s[DS_IP_STRLEN];
        if (gi.asn != want)
            fail_msg("%s: got AS%u, CSV scan AS%u", ds_ip_format(&ip, s, sizeof s), gi.asn, want);
        /* Org names: the first name an ASN was given; compare only when the row holds it. */
        if (want && strlen(org) < sizeof rows[0].org - 1) {
            const char *got = ds_geo_asn_org(g, want);
            size_t first = 0;
            while (first < n && rows[first].asn != want)
                first++;
            if (first < n && (v6 == 0) && strcmp(got, rows[first].org) != 0)
                fail_msg("AS%u: org \"%s\", CSV \"%s\"", want, got, rows[first].org);
        }
    }
    ds_geo_close(g);
    free(rows4);
    free(rows6);
}

static void test_real_dirs(void **state)
{
    (void)state;
    const char *dir = geo_data_dir();
    char pc[1024], pa[1024];
    if (!dir)
        skip();
    snprintf(pc, sizeof pc, "%s/country", dir);
    snprintf(pa, sizeof pa, "%s/asn", dir);
    struct stat st;
    if (stat(pc, &st) != 0 || stat(pa, &st) != 0)
        skip();
    ds_geo *g = open_ok(pc, pa);
    expect(g, "1.1.1.1", "AU", 13335);
    expect(g, "10.0.0.1", "ZZ", 0);
    expect(g, "255.255.255.255", "ZZ", 0);
    assert_string_equal(ds_geo_asn_org(g, 13335), "Cloudflare, Inc.");
    ds_geo_close(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_csv_text),
        cmocka_unit_test(test_csv_num_and_v6),
        cmocka_unit_test(test_overlap),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_directory),
        cmocka_unit_test(test_cache),
        cmocka_unit_test(test_cache_prune),
        cmocka_unit_test(test_small_mmdb),
        cmocka_unit_test(test_real_country),
        cmocka_unit_test(test_real_asn),
        cmocka_unit_test(test_real_dirs),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
