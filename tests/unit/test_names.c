/* test_names.c: report names (report/names.h) and the data-file finder (util/datadir.h).
 *
 * Two kinds of input: the real system files (Debian iso-codes JSON and Japanese .mo catalogue,
 * netbase's /etc/services; those tests skip when a file is absent) plus the tables in data/;
 * and small files this test writes under /tmp, pointed to by DARKSCOPE_ISO_CODES_DIR,
 * DARKSCOPE_LOCALE_DIR, DARKSCOPE_SERVICES and DARKSCOPE_DATA_DIR.  The hand-written .mo
 * catalogues come in both byte orders; the broken ones (every truncation of a valid file, bad
 * magic, offsets past the end, a missing NUL, a non-UTF-8 charset or translation) and broken
 * JSON (every truncation, bad escapes and surrogates, deep nesting, invalid UTF-8) must each
 * give an error naming the file, never a crash; a services file full of junk lines must load.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "report/names.h"
#include "util/datadir.h"
#include "unit/testdir.h"

static char tmpdir[256];

static void clear_env(void)
{
    unsetenv("DARKSCOPE_ISO_CODES_DIR");
    unsetenv("DARKSCOPE_LOCALE_DIR");
    unsetenv("DARKSCOPE_SERVICES");
    unsetenv("DARKSCOPE_DATA_DIR");
}

static int setup(void **state)
{
    (void)state;
    clear_env();
    return testdir_make(tmpdir, sizeof tmpdir, "test_names");
}

static int teardown(void **state)
{
    (void)state;
    clear_env();
    testdir_remove(tmpdir);
    return 0;
}

static const char *tpath(const char *name)
{
    static char buf[4][512];
    static int which;
    char *p = buf[which++ & 3];
    snprintf(p, 512, "%s/%s", tmpdir, name);
    return p;
}

static void write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

static void write_str(const char *path, const char *s)
{
    write_file(path, s, strlen(s));
}

static int have_file(const char *path)
{
    return access(path, R_OK) == 0;
}

static int has_non_ascii(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s >= 0x80)
            return 1;
    return 0;
}

static ds_service svc(const char *text)
{
    ds_service s;
    assert_int_equal(ds_service_parse(text, &s), 0);
    return s;
}

/* ---- the real system files ---- */

static int have_system_files(void)
{
    return have_file("/usr/share/iso-codes/json/iso_3166-1.json") &&
           have_file("/usr/share/locale/ja/LC_MESSAGES/iso_3166-1.mo") && have_file("/etc/services");
}

static ds_names *open_real(void)
{
    ds_names *n = NULL;
    ds_err err = { 0 };
    ds_rc rc = ds_names_open(&n, &err);
    if (rc != DS_OK)
        fail_msg("ds_names_open: %s", err.msg);
    return n;
}

static void test_real_countries(void **state)
{
    (void)state;
    if (!have_system_files())
        skip();
    ds_names *n = open_real();
    assert_string_equal(ds_names_country(n, "JP", DS_LANG_EN), "Japan");
    assert_string_equal(ds_names_country(n, "JP", DS_LANG_JA), "日本");
    assert_string_equal(ds_names_country(n, "jp", DS_LANG_JA), "日本");
    assert_string_equal(ds_names_country(n, "US", DS_LANG_EN), "United States");
    assert_true(has_non_ascii(ds_names_country(n, "US", DS_LANG_JA)));
    assert_string_equal(ds_names_country(n, "CN", DS_LANG_EN), "China");
    const char *cn = ds_names_country(n, "CN", DS_LANG_JA);
    assert_true(has_non_ascii(cn));
    assert_true(strstr(cn, "中") != NULL);
    /* common_name is preferred over the formal name */
    assert_string_equal(ds_names_country(n, "KR", DS_LANG_EN), "South Korea");
    assert_true(has_non_ascii(ds_names_country(n, "KR", DS_LANG_JA)));
    assert_string_equal(ds_names_country(n, "TW", DS_LANG_EN), "Taiwan");
    assert_string_equal(ds_names_country(n, "TW", DS_LANG_JA), "台湾");
    assert_true(has_non_ascii(ds_names_country(n, "CZ", DS_LANG_JA)));   /* via official_name */
    /* not in the catalogue (renamed after its last translation): data/country-names-ja.tsv */
    assert_string_equal(ds_names_country(n, "TR", DS_LANG_JA), "トルコ");
    /* the short names reports print, not the catalogue's formal ones (issue #20) */
    assert_string_equal(ds_names_country(n, "KR", DS_LANG_JA), "韓国");
    assert_string_equal(ds_names_country(n, "RU", DS_LANG_JA), "ロシア");
    assert_string_equal(ds_names_country(n, "IR", DS_LANG_JA), "イラン");
    assert_string_equal(ds_names_country(n, "MK", DS_LANG_JA), "北マケドニア");
    assert_string_equal(ds_names_country(n, "ZZ", DS_LANG_EN), "Private/reserved or unknown");
    assert_string_equal(ds_names_country(n, "ZZ", DS_LANG_JA), "プライベート/予約済みアドレス・不明");
    assert_string_equal(ds_names_country(n, "zz", DS_LANG_EN), "Private/reserved or unknown");
    /* not in ISO 3166-1 (RIR "EU" region): the code itself; garbage: "??" */
    assert_string_equal(ds_names_country(n, "EU", DS_LANG_JA), "EU");
    assert_string_equal(ds_names_country(n, "1A", DS_LANG_EN), "??");
    assert_string_equal(ds_names_country(n, "\xff\xfe", DS_LANG_EN), "??");
    /* every assigned code has a name in both languages */
    int named = 0;
    for (char a = 'A'; a <= 'Z'; a++)
        for (char b = 'A'; b <= 'Z'; b++) {
            char cc[2] = { a, b };
            const char *en = ds_names_country(n, cc, DS_LANG_EN);
            assert_non_null(en);
            assert_non_null(ds_names_country(n, cc, DS_LANG_JA));
            named += strlen(en) > 2;
        }
    assert_in_range(named, 240, 260);
    ds_names_free(n);
}

static void test_real_services(void **state)
{
    (void)state;
    if (!have_system_files())
        skip();
    ds_names *n = open_real();
    assert_string_equal(ds_names_service(n, svc("23/tcp")), "telnet");
    assert_string_equal(ds_names_service(n, svc("443/tcp")), "https");
    assert_string_equal(ds_names_service(n, svc("80/tcp")), "http");
    assert_string_equal(ds_names_service(n, svc("22/tcp")), "ssh");
    assert_string_equal(ds_names_service(n, svc("53/udp")), "domain");
    assert_string_equal(ds_names_service(n, svc("8/icmp")), "echo request");
    assert_string_equal(ds_names_service(n, svc("0/icmp")), "echo reply");
    assert_string_equal(ds_names_service(n, svc("3/icmp")), "destination unreachable");
    assert_string_equal(ds_names_service(n, svc("128/icmp6")), "echo request");
    assert_string_equal(ds_names_service(n, svc("135/icmp6")), "neighbor solicitation");
    assert_null(ds_names_service(n, svc("65000/tcp")));   /* unassigned in IANA's registry */
    assert_null(ds_names_service(n, svc("200/icmp")));
    assert_null(ds_names_service(n, svc("47/ip")));
    ds_names_free(n);
}

static void test_real_iot(void **state)
{
    (void)state;
    if (!have_system_files())
        skip();
    ds_names *n = open_real();
    ds_service huawei = svc("37215/tcp");
    assert_true(ds_names_is_iot(n, huawei));
    assert_non_null(strstr(ds_names_iot(n, huawei, DS_LANG_EN), "Huawei"));
    assert_non_null(strstr(ds_names_iot(n, huawei, DS_LANG_JA), "Huawei"));
    assert_true(ds_names_is_iot(n, svc("23/tcp")));
    assert_non_null(strstr(ds_names_iot(n, svc("23/tcp"), DS_LANG_EN), "Mirai"));
    assert_true(has_non_ascii(ds_names_iot(n, svc("23/tcp"), DS_LANG_JA)));
    assert_true(ds_names_is_iot(n, svc("52869/tcp")));
    assert_true(ds_names_is_iot(n, svc("1900/udp")));
    assert_false(ds_names_is_iot(n, svc("1900/tcp")));
    assert_false(ds_names_is_iot(n, svc("443/tcp")));
    assert_false(ds_names_is_iot(n, svc("8/icmp")));
    assert_null(ds_names_iot(n, svc("443/tcp"), DS_LANG_EN));
    ds_names_free(n);
}

/* ---- hand-written inputs ---- */

static const char good_json[] =
    "{\"3166-1\": [\n"
    "  {\"alpha_2\": \"JP\", \"alpha_3\": \"JPN\", \"flag\": \"\\ud83c\\uddef\\ud83c\\uddf5\", \"name\": \"Japan\", \"numeric\": \"392\"},\n"
    "  {\"alpha_2\": \"KR\", \"common_name\": \"South Korea\", \"name\": \"Korea, Republic of\", \"extra\": [1, 2.5e3, -0.1, true, false, null, {}]},\n"
    "  {\"alpha_2\": \"CZ\", \"name\": \"Czechia\", \"official_name\": \"Czech Republic\"},\n"
    "  {\"alpha_2\": \"FR\", \"name\": \"Fran\\u00e7e \\\"quoted\\\" \\/ \\\\\"},\n"
    "  {\"alpha_2\": \"toolong\", \"name\": \"Nowhere\"},\n"
    "  {\"name\": \"No code\"},\n"
    "  \"not a record\", 42\n"
    "], \"other\": {\"x\": [\"y\"]}}\n";

/* A .mo catalogue with the given pairs (the first should be the "" header); big_endian picks
 * the byte order.  Returns the byte count written to out. */
typedef struct mo_pair {
    const char *id, *str;
} mo_pair;

static void put32(unsigned char *p, uint32_t v, int be)
{
    for (int i = 0; i < 4; i++)
        p[be ? i : 3 - i] = (unsigned char)(v >> (8 * (3 - i)));
}

static size_t build_mo(unsigned char *out, size_t cap, const mo_pair *pairs, uint32_t n, int be)
{
    uint32_t orig = 28, trans = orig + 8 * n, strings = trans + 8 * n;
    size_t off = strings;
    memset(out, 0, cap);
    put32(out, 0x950412de, be);
    put32(out + 4, 0, be);
    put32(out + 8, n, be);
    put32(out + 12, orig, be);
    put32(out + 16, trans, be);
    put32(out + 20, 0, be);
    put32(out + 24, 0, be);
    for (uint32_t i = 0; i < n; i++) {
        const char *s[2] = { pairs[i].id, pairs[i].str };
        uint32_t table[2] = { orig, trans };
        for (int k = 0; k < 2; k++) {
            size_t len = strlen(s[k]);
            assert_true(off + len + 1 <= cap);
            put32(out + table[k] + 8 * i, (uint32_t)len, be);
            put32(out + table[k] + 8 * i + 4, (uint32_t)off, be);
            memcpy(out + off, s[k], len + 1);
            off += len + 1;
        }
    }
    return off;
}

static const mo_pair good_pairs[] = {
    { "", "Content-Type: text/plain; charset=UTF-8\nLanguage: ja\n" },
    { "Japan", "日本" },
    { "Korea, Republic of", "大韓民国" },
    { "South Korea", "韓国" },
    { "Czech Republic", "チェコ共和国" },
    { "Untranslated", "" },
};
#define NGOOD (sizeof good_pairs / sizeof good_pairs[0])

static void write_fixture(int big_endian)
{
    char dir[512];
    write_str(tpath("iso_3166-1.json"), good_json);
    snprintf(dir, sizeof dir, "%s/ja", tmpdir);
    mkdir(dir, 0700);
    snprintf(dir, sizeof dir, "%s/ja/LC_MESSAGES", tmpdir);
    mkdir(dir, 0700);
    unsigned char mo[2048];
    size_t len = build_mo(mo, sizeof mo, good_pairs, NGOOD, big_endian);
    write_file(tpath("ja/LC_MESSAGES/iso_3166-1.mo"), mo, len);
    write_str(tpath("services"), "telnet 23/tcp\nhttps 443/tcp\n");
    setenv("DARKSCOPE_ISO_CODES_DIR", tmpdir, 1);
    setenv("DARKSCOPE_LOCALE_DIR", tmpdir, 1);
    setenv("DARKSCOPE_SERVICES", tpath("services"), 1);
}

static ds_rc try_open(ds_err *err)
{
    ds_names *n = NULL;
    memset(err, 0, sizeof *err);
    ds_rc rc = ds_names_open(&n, err);
    if (rc == DS_OK) {
        assert_non_null(n);
        ds_names_free(n);
    } else {
        assert_null(n);
        assert_true(err->msg[0] != '\0');
    }
    return rc;
}

static void test_fixture_both_byte_orders(void **state)
{
    (void)state;
    for (int be = 0; be <= 1; be++) {
        write_fixture(be);
        ds_names *n = NULL;
        ds_err err = { 0 };
        if (ds_names_open(&n, &err) != DS_OK)
            fail_msg("ds_names_open (%s): %s", be ? "big-endian" : "little-endian", err.msg);
        assert_string_equal(ds_names_country(n, "JP", DS_LANG_JA), "日本");
        assert_string_equal(ds_names_country(n, "KR", DS_LANG_EN), "South Korea");
        assert_string_equal(ds_names_country(n, "KR", DS_LANG_JA), "韓国");   /* common_name's translation first */
        assert_string_equal(ds_names_country(n, "FR", DS_LANG_EN), "Françe \"quoted\" / \\");
        assert_string_equal(ds_names_country(n, "FR", DS_LANG_JA), "Françe \"quoted\" / \\");   /* no translation */
        assert_string_equal(ds_names_country(n, "US", DS_LANG_EN), "US");   /* not in this file */
        assert_string_equal(ds_names_country(n, "CZ", DS_LANG_EN), "Czechia");
        /* the catalogue's official_name gives チェコ共和国; the short-name table wins */
        assert_string_equal(ds_names_country(n, "CZ", DS_LANG_JA), "チェコ");
        assert_string_equal(ds_names_service(n, svc("23/tcp")), "telnet");
        assert_null(ds_names_service(n, svc("80/tcp")));
        ds_names_free(n);
    }
}

static void test_bad_mo(void **state)
{
    (void)state;
    write_fixture(0);
    unsigned char good[2048], bad[2048];
    size_t len = build_mo(good, sizeof good, good_pairs, NGOOD, 0);
    const char *mo = tpath("ja/LC_MESSAGES/iso_3166-1.mo");
    ds_err err;

    /* every truncation of a valid catalogue is an error, never a crash */
    for (size_t cut = 0; cut < len; cut++) {
        write_file(mo, good, cut);
        assert_int_not_equal(try_open(&err), DS_OK);
        assert_non_null(strstr(err.msg, "iso_3166-1.mo"));
    }
    write_file(mo, good, len);
    assert_int_equal(try_open(&err), DS_OK);

    /* bad magic */
    memcpy(bad, good, len);
    bad[0] ^= 0xff;
    write_file(mo, bad, len);
    assert_int_equal(try_open(&err), DS_EFORMAT);
    assert_non_null(strstr(err.msg, "magic"));

    /* unsupported major revision */
    memcpy(bad, good, len);
    put32(bad + 4, 7u << 16, 0);
    write_file(mo, bad, len);
    assert_int_equal(try_open(&err), DS_EFORMAT);

    /* a string count that makes the tables overflow 32 bits */
    memcpy(bad, good, len);
    put32(bad + 8, 0xffffffffu, 0);
    write_file(mo, bad, len);
    assert_int_equal(try_open(&err), DS_ETRUNC);

    /* a string offset and a length pointing past the end, with wrap-around values */
    uint32_t patches[][2] = { { 0xfffffff0u, 4 }, { 4, 0xfffffff0u }, { (uint32_t)len, 0 }, { (uint32_t)len - 1, 1 } };
    for (size_t i = 0; i < sizeof patches / sizeof patches[0]; i++) {
        memcpy(bad, good, len);
        put32(bad + 28 + 8 * 1, patches[i][1], 0);       /* length of msgid 1 */
        put32(bad + 28 + 8 * 1 + 4, patches[i][0], 0);   /* offset of msgid 1 */
        write_file(mo, bad, len);
        assert_int_equal(try_open(&err), DS_EFORMAT);
        assert_true(err.has_offset);
    }

    /* a string without its NUL terminator */
    memcpy(bad, good, len);
    put32(bad + 28 + 8 * 1, 2, 0);   /* "Japan" claimed 2 bytes long: "Ja" then 'p', not NUL */
    write_file(mo, bad, len);
    assert_int_equal(try_open(&err), DS_EFORMAT);
    assert_non_null(strstr(err.msg, "NUL"));

    /* a catalogue in another charset, and a translation that is not UTF-8 */
    mo_pair sjis[] = { { "", "Content-Type: text/plain; charset=Shift_JIS\n" }, { "Japan", "\x93\xfa\x96\x7b" } };
    write_file(mo, bad, build_mo(bad, sizeof bad, sjis, 2, 0));
    assert_int_equal(try_open(&err), DS_EFORMAT);
    assert_non_null(strstr(err.msg, "Shift_JIS"));
    mo_pair junk[] = { { "", "" }, { "Japan", "\x93\xfa\x96\x7b" } };
    write_file(mo, bad, build_mo(bad, sizeof bad, junk, 2, 0));
    assert_int_equal(try_open(&err), DS_EFORMAT);
    assert_non_null(strstr(err.msg, "UTF-8"));

    /* random garbage of many sizes */
    srand(12345);
    for (int round = 0; round < 200; round++) {
        memcpy(bad, good, len);
        for (int k = 0; k < 4; k++)
            bad[28 + (size_t)rand() % (len - 28)] = (unsigned char)rand();
        write_file(mo, bad, len);
        (void)try_open(&err);   /* may be OK (a changed letter), must not crash */
    }

    /* missing catalogue */
    remove(mo);
    assert_int_equal(try_open(&err), DS_ENOTFOUND);
    assert_non_null(strstr(err.msg, "DARKSCOPE_LOCALE_DIR"));
}

static void test_bad_json(void **state)
{
    (void)state;
    write_fixture(0);
    const char *json = tpath("iso_3166-1.json");
    ds_err err;

    /* every truncation of a valid file (bar trailing whitespace) is an error */
    size_t len = strlen(good_json);
    for (size_t cut = 0; cut < len - 1; cut++) {
        write_file(json, good_json, cut);
        assert_int_not_equal(try_open(&err), DS_OK);
        assert_non_null(strstr(err.msg, "iso_3166-1.json"));
    }

    static const char *const bad[] = {
        "{\"3166-1\": [{\"alpha_2\": \"JP\", \"name\": \"Japan\"}",                /* unclosed */
        "[{\"alpha_2\": \"JP\", \"name\": \"Japan\"},]",                          /* trailing comma */
        "[{\"alpha_2\": \"JP\" \"name\": \"Japan\"}]",                            /* missing comma */
        "[{\"alpha_2\": \"JP\", \"name\": \"Ja\\qpan\"}]",                        /* unknown escape */
        "[{\"alpha_2\": \"JP\", \"name\": \"Ja\\u12\"}]",                         /* short \\u */
        "[{\"alpha_2\": \"JP\", \"name\": \"\\ud83c\"}]",                         /* lone high surrogate */
        "[{\"alpha_2\": \"JP\", \"name\": \"\\udc00\"}]",                         /* lone low surrogate */
        "[{\"alpha_2\": \"JP\", \"name\": \"a\\u0000b\"}]",                       /* NUL */
        "[{\"alpha_2\": \"JP\", \"name\": \"Ja\npan\"}]",                         /* raw control char */
        "[{\"alpha_2\": \"JP\", \"name\": \"Ja\xff\xfepan\"}]",                   /* not UTF-8 */
        "[{\"alpha_2\": \"JP\", \"name\": \"Japan\"}] trailing",                  /* trailing data */
        "[{\"alpha_2\": \"JP\", \"name\": \"Japan\", \"n\": 01.}]",               /* bad number */
        "[{\"alpha_2\": \"JP\", \"name\": \"Japan\", \"n\": tru}]",               /* bad literal */
        "{}",                                                                     /* no records */
        "[]",
        "",
        "   ",
        "\"just a string\"",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        write_str(json, bad[i]);
        ds_rc rc = try_open(&err);
        if (rc == DS_OK)
            fail_msg("case %zu accepted: %s", i, bad[i]);
        assert_int_equal(rc, DS_EFORMAT);
        assert_non_null(strstr(err.msg, "iso_3166-1.json"));
    }

    /* deep nesting is refused, not a stack overflow */
    static char deep[200001];
    memset(deep, '[', sizeof deep - 1);
    deep[sizeof deep - 1] = '\0';
    write_str(json, deep);
    assert_int_equal(try_open(&err), DS_EFORMAT);
    assert_non_null(strstr(err.msg, "nesting"));

    /* an over-long name is refused */
    char longname[3000];
    int w = snprintf(longname, sizeof longname, "[{\"alpha_2\": \"JP\", \"name\": \"");
    memset(longname + w, 'x', 2000);
    strcpy(longname + w + 2000, "\"}]");
    write_str(json, longname);
    assert_int_equal(try_open(&err), DS_EFORMAT);

    /* a flat array (the brief's shape) is read too */
    write_str(json, "[{\"alpha_2\": \"JP\", \"name\": \"Japan\"}]");
    assert_int_equal(try_open(&err), DS_OK);

    remove(json);
    assert_int_equal(try_open(&err), DS_ENOTFOUND);
    assert_non_null(strstr(err.msg, "iso-codes"));
}

static void test_services_junk(void **state)
{
    (void)state;
    write_fixture(0);
    static const char services[] =
        "# comment only\n"
        "\n"
        "   \t  \n"
        "garbage\n"
        "noport /tcp\n"
        "bigport 99999/tcp\n"
        "huge 123456789012345678901234567890/tcp\n"
        "sctponly 9/sctp\n"
        "weird 10/TCP\n"
        "slashless 11tcp\n"
        "\x01\x02\x03 12/tcp\n"
        "first 1/tcp   alias1 alias2   # the one\n"
        "second 1/tcp\n"
        "crlf 2/udp\r\n"
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa 3/tcp\n"
        "#commented 4/tcp\n"
        "\tindented\t5/udp\n"
        "nul\0byte 6/tcp\n"
        "last 7/tcp";   /* no final newline */
    write_file(tpath("services"), services, sizeof services - 1);
    ds_names *n = NULL;
    ds_err err = { 0 };
    if (ds_names_open(&n, &err) != DS_OK)
        fail_msg("ds_names_open: %s", err.msg);
    assert_string_equal(ds_names_service(n, svc("1/tcp")), "first");
    assert_string_equal(ds_names_service(n, svc("2/udp")), "crlf");
    assert_string_equal(ds_names_service(n, svc("5/udp")), "indented");
    assert_string_equal(ds_names_service(n, svc("7/tcp")), "last");
    assert_null(ds_names_service(n, svc("3/tcp")));   /* name too long */
    assert_null(ds_names_service(n, svc("4/tcp")));
    assert_null(ds_names_service(n, svc("6/tcp")));
    assert_null(ds_names_service(n, svc("9/udp")));
    assert_null(ds_names_service(n, svc("10/tcp")));
    assert_null(ds_names_service(n, svc("12/tcp")));
    assert_null(ds_names_service(n, svc("1/udp")));
    ds_names_free(n);

    write_str(tpath("services"), "# nothing here\njunk\n");
    assert_int_equal(try_open(&err), DS_EFORMAT);
    setenv("DARKSCOPE_SERVICES", tpath("no-such-services"), 1);
    assert_int_equal(try_open(&err), DS_ENOTFOUND);
    assert_non_null(strstr(err.msg, "netbase"));
}

static void copy_data_file(const char *name)
{
    char src[4096];
    ds_err err = { 0 };
    unsetenv("DARKSCOPE_DATA_DIR");
    if (ds_data_path(name, src, sizeof src, &err) != DS_OK)
        fail_msg("%s", err.msg);
    FILE *f = fopen(src, "rb");
    assert_non_null(f);
    char buf[65536];
    size_t len = fread(buf, 1, sizeof buf, f);
    fclose(f);
    write_file(tpath(name), buf, len);
}

/* IANA's registry as Wireshark ships it (libwireshark-data) names the ports /etc/services
 * leaves unnamed (issue #21); skipped when the package is not installed. */
static void test_real_iana_services(void **state)
{
    (void)state;
    if (!have_system_files() || !have_file("/usr/share/wireshark/services"))
        skip();
    ds_names *n = open_real();
    assert_string_equal(ds_names_service(n, svc("5900/tcp")), "rfb");
    assert_string_equal(ds_names_service(n, svc("8443/tcp")), "pcsync-https");
    assert_string_equal(ds_names_service(n, svc("1521/tcp")), "ncube-lm");
    assert_string_equal(ds_names_service(n, svc("2323/tcp")), "3d-nfsd");
    assert_string_equal(ds_names_service(n, svc("23/tcp")), "telnet");
    assert_string_equal(ds_names_service(n, svc("5060/udp")), "sip");
    ds_names_free(n);
}

/* Wireshark's merged protocol lists, and the fall-back to the next file of the list when the
 * first does not exist. */
static void test_services_merged_and_fallback(void **state)
{
    (void)state;
    write_fixture(0);
    write_str(tpath("iana"),
              "rfb\t\t5900/tcp/udp\t# Remote Framebuffer\n"
              "discard 9/tcp/udp/sctp/dccp\n"
              "sconly 10/sctp/dccp\n"
              "empty 11/tcp//udp\n"
              "trail 12/udp/\n"
              "udponly 13/udp/sctp\n"
              "pcsync-https 8443/tcp/udp\n");
    write_str(tpath("netbase"), "telnet 23/tcp\nvnc 5900/tcp\n");
    char list[1024];
    snprintf(list, sizeof list, "%s:%s", tpath("iana"), tpath("netbase"));
    setenv("DARKSCOPE_SERVICES", list, 1);
    ds_names *n = NULL;
    ds_err err = { 0 };
    if (ds_names_open(&n, &err) != DS_OK)
        fail_msg("ds_names_open: %s", err.msg);
    assert_string_equal(ds_names_service(n, svc("5900/tcp")), "rfb");
    assert_string_equal(ds_names_service(n, svc("5900/udp")), "rfb");
    assert_string_equal(ds_names_service(n, svc("9/udp")), "discard");
    assert_string_equal(ds_names_service(n, svc("13/udp")), "udponly");
    assert_string_equal(ds_names_service(n, svc("8443/tcp")), "pcsync-https");
    assert_null(ds_names_service(n, svc("13/tcp")));
    assert_null(ds_names_service(n, svc("10/tcp")));
    assert_null(ds_names_service(n, svc("11/tcp")));
    assert_null(ds_names_service(n, svc("12/udp")));
    assert_null(ds_names_service(n, svc("23/tcp")));   /* one file, not a merge */
    ds_names_free(n);

    /* the first file missing: the second is read */
    snprintf(list, sizeof list, "%s:%s", tpath("no-such-iana"), tpath("netbase"));
    setenv("DARKSCOPE_SERVICES", list, 1);
    if (ds_names_open(&n, &err) != DS_OK)
        fail_msg("ds_names_open: %s", err.msg);
    assert_string_equal(ds_names_service(n, svc("5900/tcp")), "vnc");
    assert_string_equal(ds_names_service(n, svc("23/tcp")), "telnet");
    ds_names_free(n);

    /* none: the error lists both and names the packages */
    snprintf(list, sizeof list, "%s:%s", tpath("no-such-iana"), tpath("no-such-netbase"));
    setenv("DARKSCOPE_SERVICES", list, 1);
    assert_int_equal(try_open(&err), DS_ENOTFOUND);
    assert_non_null(strstr(err.msg, "no-such-iana"));
    assert_non_null(strstr(err.msg, "no-such-netbase"));
    assert_non_null(strstr(err.msg, "libwireshark-data"));
}

static void test_bad_tables(void **state)
{
    (void)state;
    write_fixture(0);
    copy_data_file("icmp-types.tsv");
    copy_data_file("iot-ports.tsv");
    setenv("DARKSCOPE_DATA_DIR", tmpdir, 1);
    ds_err err;
    assert_int_equal(try_open(&err), DS_OK);

    static const struct { const char *file, *text, *expect; } cases[] = {
        { "iot-ports.tsv", "# header\n23/tcp\tonly two fields\n", "iot-ports.tsv:2" },
        { "iot-ports.tsv", "23/tcp\ta\tb\tc\td\n", "more than 4" },
        { "iot-ports.tsv", "23/tcp\ta\t\tc\n", "field 3" },
        { "iot-ports.tsv", "23/xyz\ta\tb\tc\n", "not a service key" },
        { "iot-ports.tsv", "23/tcp\ta\tb\tc\n23/tcp\ta\tb\tc\n", "listed twice" },
        { "iot-ports.tsv", "23/tcp\ta\t\xff\tc\n", "UTF-8" },
        { "icmp-types.tsv", "8/icmp\techo request\n23/tcp\ttelnet\n", "not an ICMP" },
        { "icmp-types.tsv", "999/icmp\tbig\n", "not a service key" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        copy_data_file("icmp-types.tsv");
        copy_data_file("iot-ports.tsv");
        setenv("DARKSCOPE_DATA_DIR", tmpdir, 1);
        write_str(tpath(cases[i].file), cases[i].text);
        assert_int_equal(try_open(&err), DS_EFORMAT);
        if (!strstr(err.msg, cases[i].expect))
            fail_msg("case %zu: \"%s\" lacks \"%s\"", i, err.msg, cases[i].expect);
    }
    /* CRLF line ends are fine */
    copy_data_file("icmp-types.tsv");
    setenv("DARKSCOPE_DATA_DIR", tmpdir, 1);
    write_str(tpath("iot-ports.tsv"), "# x\r\n23/tcp\ta\tb\tc\r\n");
    assert_int_equal(try_open(&err), DS_OK);
}

static void test_datadir(void **state)
{
    (void)state;
    char out[4096];
    ds_err err = { 0 };

    /* found next to the test binary (build/tests/test_names -> ../../data) */
    assert_int_equal(ds_data_path("iot-ports.tsv", out, sizeof out, &err), DS_OK);
    assert_non_null(strstr(out, "data/iot-ports.tsv"));

    /* the override wins */
    write_str(tpath("iot-ports.tsv"), "# mine\n");
    setenv("DARKSCOPE_DATA_DIR", tmpdir, 1);
    assert_int_equal(ds_data_path("iot-ports.tsv", out, sizeof out, &err), DS_OK);
    assert_string_equal(out, tpath("iot-ports.tsv"));

    /* not found: every place tried is listed */
    assert_int_equal(ds_data_path("no-such-table.tsv", out, sizeof out, &err), DS_ENOTFOUND);
    assert_non_null(strstr(err.msg, tmpdir));
    char installed[4200];
    snprintf(installed, sizeof installed, "%s/no-such-table.tsv", ds_data_dir_installed());
    assert_non_null(strstr(err.msg, installed));
    assert_non_null(strstr(err.msg, "../share/darkscope/no-such-table.tsv"));
    assert_non_null(strstr(err.msg, "../data/no-such-table.tsv"));

    /* a directory is not a data file */
    mkdir(tpath("adir"), 0700);
    assert_int_equal(ds_data_path("adir", out, sizeof out, &err), DS_ENOTFOUND);

    /* unsafe names and short buffers */
    assert_int_equal(ds_data_path("../etc/passwd", out, sizeof out, &err), DS_EINVAL);
    assert_int_equal(ds_data_path("a/../../b", out, sizeof out, &err), DS_EINVAL);
    assert_int_equal(ds_data_path("/etc/passwd", out, sizeof out, &err), DS_EINVAL);
    assert_int_equal(ds_data_path("", out, sizeof out, &err), DS_EINVAL);
    assert_int_equal(ds_data_path(NULL, out, sizeof out, &err), DS_EINVAL);
    assert_int_equal(ds_data_path("iot-ports.tsv", out, 8, &err), DS_EINVAL);
    assert_int_equal(ds_data_path("iot-ports.tsv", NULL, 0, &err), DS_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_real_countries, setup, teardown),
        cmocka_unit_test_setup_teardown(test_real_services, setup, teardown),
        cmocka_unit_test_setup_teardown(test_real_iot, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fixture_both_byte_orders, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_mo, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_json, setup, teardown),
        cmocka_unit_test_setup_teardown(test_services_junk, setup, teardown),
        cmocka_unit_test_setup_teardown(test_real_iana_services, setup, teardown),
        cmocka_unit_test_setup_teardown(test_services_merged_and_fallback, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_tables, setup, teardown),
        cmocka_unit_test_setup_teardown(test_datadir, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
