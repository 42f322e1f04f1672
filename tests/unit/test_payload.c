/* test_payload.c: the payload-tool table (src/core/payload.h): parsing data/payload-tools.tsv and
 * bad lines, and matching hand-built frames decoded with ds_decode. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/fingerprint.h"
#include "core/packet.h"
#include "core/payload.h"
#include "util/datadir.h"

static ds_payload_table *load_shipped(void)
{
    char path[4096];
    ds_err err = { 0 };
    assert_int_equal(ds_data_path("payload-tools.tsv", path, sizeof path, &err), DS_OK);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    static char buf[65536];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    ds_payload_table *t = NULL;
    ds_rc rc = ds_payload_parse(buf, n, path, &t, &err);
    if (rc != DS_OK)
        fail_msg("%s", err.msg);
    return t;
}

/* Ethernet + IPv4 (+ UDP or ICMP echo) around payload; wirelen may exceed the frame (snap length). */
static size_t frame(uint8_t *f, int proto, uint16_t dport, const uint8_t *pl, size_t plen)
{
    memset(f, 0, 14);
    f[12] = 0x08;
    uint8_t *ip = f + 14;
    size_t l4 = 8 + plen;
    memset(ip, 0, 20);
    ip[0] = 0x45;
    ip[2] = (uint8_t)((20 + l4) >> 8);
    ip[3] = (uint8_t)(20 + l4);
    ip[8] = 64;
    ip[9] = (uint8_t)proto;
    memcpy(ip + 12, "\xc0\x00\x02\x01", 4);   /* 192.0.2.1 */
    memcpy(ip + 16, "\xc6\x33\x64\x07", 4);   /* 198.51.100.7 */
    uint8_t *h = ip + 20;
    memset(h, 0, 8);
    if (proto == DS_PROTO_UDP) {
        h[0] = 0x9c; h[1] = 0x40;
        h[2] = (uint8_t)(dport >> 8); h[3] = (uint8_t)dport;
        h[4] = (uint8_t)(l4 >> 8); h[5] = (uint8_t)l4;
    } else {
        h[0] = 8;   /* echo request */
    }
    memcpy(h + 8, pl, plen);
    return 14 + 20 + l4;
}

static unsigned tools_of(const ds_payload_table *t, int proto, uint16_t dport, const void *pl, size_t plen,
                         size_t cut)
{
    static uint8_t f[2048];
    size_t len = frame(f, proto, dport, pl, plen);
    ds_pkt p;
    assert_int_equal(ds_decode(1, f, (uint32_t)(len - cut), (uint32_t)len, &p), DS_PKT_OK);
    return ds_payload_tools(t, &p, 0);
}

static void test_shipped_table(void **state)
{
    (void)state;
    ds_payload_table *t = load_shipped();
    const char *svmap = "OPTIONS sip:100@198.51.100.7 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1:5060\r\n"
                        "From: \"sipvicious\"<sip:100@1.1.1.1>;tag=1\r\nUser-Agent: friendly-scanner\r\n\r\n";
    assert_int_equal(tools_of(t, DS_PROTO_UDP, 5060, svmap, strlen(svmap), 0), DS_TOOL_SIPVICIOUS);
    const char *ua = "OPTIONS sip:100@x SIP/2.0\r\nUSER-AGENT: Friendly-Scanner\r\n\r\n";   /* case folded */
    assert_int_equal(tools_of(t, DS_PROTO_UDP, 5060, ua, strlen(ua), 0), DS_TOOL_SIPVICIOUS);
    const char *vax = "REGISTER sip:x SIP/2.0\r\nUser-Agent: VaxSIPUserAgent/3.1\r\n\r\n";
    assert_int_equal(tools_of(t, DS_PROTO_UDP, 5060, vax, strlen(vax), 0), DS_TOOL_SIP_OTHER);
    const char *ok = "OPTIONS sip:x SIP/2.0\r\nUser-Agent: Asterisk PBX 18\r\n\r\n";
    assert_int_equal(tools_of(t, DS_PROTO_UDP, 5060, ok, strlen(ok), 0), 0);
    assert_int_equal(tools_of(t, DS_PROTO_UDP, 5061, svmap, strlen(svmap), 0), 0);   /* port not in the table */
    /* issue #20: a PBX answering svmap echoes its From header (and may name the scanner's
     * User-Agent): a response is not the scanner, the request is */
    const char *resp = "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 192.0.2.1:5060\r\n"
                       "From: \"sipvicious\"<sip:100@1.1.1.1>;tag=1\r\nUser-Agent: friendly-scanner\r\n\r\n";
    assert_int_equal(tools_of(t, DS_PROTO_UDP, 5060, resp, strlen(resp), 0), 0);
    const char *resp2 = "SIP/2.0 404 Not Found\r\nUser-Agent: VaxSIPUserAgent/3.1\r\n\r\n";
    assert_int_equal(tools_of(t, DS_PROTO_UDP, 5060, resp2, strlen(resp2), 0), 0);
    const char *lead = "\r\nOPTIONS sip:100@x SIP/2.0\r\nUser-Agent: friendly-scanner\r\n\r\n";   /* RFC 3261 7.5 */
    assert_int_equal(tools_of(t, DS_PROTO_UDP, 5060, lead, strlen(lead), 0), DS_TOOL_SIPVICIOUS);
    const char *junk = "friendly-scanner OPTIONS sip:x SIP/2.0\r\n";   /* not a request line */
    assert_int_equal(tools_of(t, DS_PROTO_UDP, 5060, junk, strlen(junk), 0), 0);
    uint8_t slammer[376];
    memset(slammer, 0x01, sizeof slammer);
    slammer[0] = 0x04;
    assert_int_equal(tools_of(t, DS_PROTO_UDP, 1434, slammer, 376, 0), DS_TOOL_SLAMMER);
    assert_int_equal(tools_of(t, DS_PROTO_UDP, 1434, slammer, 375, 0), 0);
    assert_int_equal(tools_of(t, DS_PROTO_UDP, 1434, slammer, 376, 200), DS_TOOL_SLAMMER);   /* snap length cut */
    uint8_t aa[64];
    memset(aa, 0xaa, sizeof aa);
    assert_int_equal(tools_of(t, DS_PROTO_ICMP, 0, aa, 64, 0), DS_TOOL_NACHI);
    assert_int_equal(tools_of(t, DS_PROTO_ICMP, 0, aa, 63, 0), 0);
    aa[10] = 0xab;
    assert_int_equal(tools_of(t, DS_PROTO_ICMP, 0, aa, 64, 0), 0);
    ds_payload_free(t);
}

static void test_bad_lines(void **state)
{
    (void)state;
    static const struct { const char *text, *want; } cases[] = {
        { "# ok\nslammer\tudp\t1434\tlength\n", "t.tsv:2: expected tool" },
        { "bogus\tudp\t1\tcontains\tx\tsrc\n", "t.tsv:1: unknown tool" },
        { "zmap\tudp\t1\tcontains\tx\tsrc\n", "t.tsv:1: unknown tool" },   /* a header tool */
        { "\nslammer\tsctp\t1\tlength\t3\ts\n", "t.tsv:2: protocol" },
        { "slammer\tudp\t70000\tlength\t3\ts\n", "t.tsv:1: port" },
        { "slammer\tudp\t1\tregex\tx\ts\n", "t.tsv:1: match" },
        { "nachi\ticmp\t8\tfill\taa/64\ts\n", "t.tsv:1: a fill pattern" },
        { "sipvicious\tudp\t5060\tcontains\tab\\q\ts\n", "t.tsv:1: unknown escape" },
        { "sipvicious\tudp\t5060\tcontains\tab\\x4\ts\n", "t.tsv:1: \\x needs" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ds_payload_table *t = NULL;
        ds_err err = { 0 };
        assert_int_equal(ds_payload_parse(cases[i].text, strlen(cases[i].text), "t.tsv", &t, &err), DS_EFORMAT);
        assert_null(t);
        if (!strstr(err.msg, cases[i].want))
            fail_msg("case %zu: '%s' does not say '%s'", i, err.msg, cases[i].want);
    }
    const char *esc = "sipvicious\tudp\t*\tprefix\t\\x04\\t\\\\z\ts\r\n";
    ds_payload_table *t = NULL;
    ds_err err = { 0 };
    assert_int_equal(ds_payload_parse(esc, strlen(esc), "t.tsv", &t, &err), DS_OK);
    assert_int_equal(t->n, 1);
    assert_int_equal(t->rules[0].patlen, 4);
    assert_memory_equal(t->rules[0].pat, "\x04\t\\z", 4);
    assert_int_equal(t->rules[0].port, -1);
    ds_payload_free(t);
}

/* The request line of RFC 3261 section 7.1, and what is not one. */
static void test_sip_request_line(void **state)
{
    (void)state;
    static const struct { const char *s; int req; } cases[] = {
        { "OPTIONS sip:100@198.51.100.7 SIP/2.0\r\n", 1 },
        { "INVITE sip:bob@example.com SIP/2.0\n", 1 },     /* a bare LF, as some scanners send */
        { "REGISTER sip:x sip/2.0\r\n", 1 },              /* the version without case */
        { "\r\n\r\nOPTIONS sip:x SIP/2.0\r\n", 1 },       /* empty lines first (7.5) */
        { "SIP/2.0 200 OK\r\n", 0 },                       /* a status line */
        { "SIP/2.0 100 Trying\r\n", 0 },
        { "OPTIONS sip:x SIP/2.0", 0 },                    /* cut before the line's end */
        { "OPTIONS sip:x SIP/1.0\r\n", 0 },
        { "OPTIONS  sip:x SIP/2.0\r\n", 0 },               /* an empty Request-URI */
        { "OPTIONS sip:x\r\nSIP/2.0\r\n", 0 },
        { "OPT(IONS sip:x SIP/2.0\r\n", 0 },               /* not a token */
        { "GET / HTTP/1.1\r\n", 0 },
        { "", 0 },
        { " ", 0 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        if (ds_payload_sip_request((const uint8_t *)cases[i].s, strlen(cases[i].s)) != cases[i].req)
            fail_msg("\"%s\": expected %d", cases[i].s, cases[i].req);
}

static void test_tool_names(void **state)
{
    (void)state;
    assert_int_equal(ds_tool_parse("slammer"), DS_TOOL_SLAMMER);
    assert_int_equal(ds_tool_parse("sip-other"), DS_TOOL_SIP_OTHER);
    assert_int_equal(ds_tool_parse("NACHI"), DS_TOOL_NACHI);
    assert_int_equal(ds_tool_parse("sipvicious"), DS_TOOL_SIPVICIOUS);
    char buf[64];
    assert_string_equal(ds_tools_format(DS_TOOL_ZMAP | DS_TOOL_SLAMMER, buf, sizeof buf), "zmap,slammer");
    /* one matching packet attributes a payload tool, whatever else the source did */
    ds_tool_counts c = { .syn = 1, .zapp = 1 };
    assert_int_equal(ds_tools_of(DS_TOOL_SLAMMER, &c, 1, 1), DS_TOOL_SLAMMER);
    c = (ds_tool_counts){ .zapp = 5, .zmap = 1 };
    assert_int_equal(ds_tools_of(DS_TOOL_NACHI | DS_TOOL_ZMAP, &c, 1, 5), DS_TOOL_NACHI);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shipped_table),
        cmocka_unit_test(test_bad_lines),
        cmocka_unit_test(test_sip_request_line),
        cmocka_unit_test(test_tool_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
