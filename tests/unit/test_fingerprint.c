/* test_fingerprint.c: tool fingerprints (src/core/fingerprint.h) on hand-built packets, the
 * per-day attribution rule, and the aggregation carrying it into SOURCES and SRCSVC records. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/agg.h"
#include "core/classify.h"
#include "core/fingerprint.h"
#include "core/records.h"

static ds_pkt syn(uint32_t dst, uint16_t dport, uint32_t seq, uint16_t ip_id, uint16_t win, uint16_t mss, int nopt)
{
    ds_pkt p;
    memset(&p, 0, sizeof p);
    p.have = DS_HAVE_IP | DS_HAVE_L4;
    ds_ip_set4(&p.src, 0x01020304);
    ds_ip_set4(&p.dst, dst);
    p.proto = DS_PROTO_TCP;
    p.tcp_flags = 0x02;
    p.sport = 40000;
    p.dport = dport;
    p.tcp_seq = seq;
    p.ip_id = ip_id;
    p.tcp_win = win;
    p.tcp_mss = mss;
    p.tcp_opt_kinds = (uint8_t)nopt;
    p.tcp_optlen = (uint8_t)(nopt * 4);
    return p;
}

static void test_packets(void **state)
{
    (void)state;
    unsigned app;
    uint32_t dst = 0xc6336407;   /* 198.51.100.7 */
    ds_pkt p = syn(dst, 23, dst, 1234, 5840, 0, 0);   /* Mirai: seq = destination */
    assert_int_equal(ds_fingerprint(&p, &app), DS_TOOL_MIRAI);
    assert_int_equal(app, DS_TOOL__ALL);
    p = syn(dst, 443, 0x11223344, 54321, 65535, 1460, 1);   /* ZMap */
    assert_int_equal(ds_fingerprint(&p, &app), DS_TOOL_ZMAP);
    uint32_t seq = 0xdeadbeef;
    p = syn(dst, 8443, seq, (uint16_t)((dst ^ 8443 ^ seq) & 0xffff), 1024, 1460, 1);   /* Masscan, not Nmap */
    assert_int_equal(ds_fingerprint(&p, &app), DS_TOOL_MASSCAN);
    p = syn(dst, 3389, seq, 777, 1024, 1460, 1);   /* Nmap SYN scan */
    assert_int_equal(ds_fingerprint(&p, &app), DS_TOOL_NMAP);
    for (uint16_t w = 2048; w <= 4096; w += 1024) {   /* older releases: 1024 * (ttl % 4 + 1) */
        p = syn(dst, 3389, seq, 777, w, 1460, 1);
        assert_int_equal(ds_fingerprint(&p, &app), DS_TOOL_NMAP);
    }
    p = syn(dst, 3389, seq, 777, 5120, 1460, 1);   /* not a window nmap picks */
    assert_int_equal(ds_fingerprint(&p, &app), 0);
    p = syn(dst, 3389, seq, 777, 1536, 1460, 1);
    assert_int_equal(ds_fingerprint(&p, &app), 0);
    p = syn(dst, 3389, seq, 777, 1024, 1460, 3);   /* window 1024 but more options: not Nmap */
    assert_int_equal(ds_fingerprint(&p, &app), 0);
    p = syn(dst, 80, seq, 777, 64240, 1460, 4);   /* an ordinary stack */
    assert_int_equal(ds_fingerprint(&p, &app), 0);
    assert_int_equal(app, DS_TOOL__ALL);
    p.tcp_flags = 0x12;   /* SYN-ACK (backscatter): no fingerprint applies */
    assert_int_equal(ds_fingerprint(&p, &app), 0);
    assert_int_equal(app, 0);
    p.proto = DS_PROTO_UDP;   /* UDP: only ZMap's IP ID applies */
    p.ip_id = 54321;
    assert_int_equal(ds_fingerprint(&p, &app), DS_TOOL_ZMAP);
    assert_int_equal(app, DS_TOOL_ZMAP);
    p.proto = DS_PROTO_ICMP;
    p.icmp_type = 0;   /* echo reply: backscatter */
    assert_int_equal(ds_fingerprint(&p, &app), 0);
    assert_int_equal(app, 0);
    p.dst.v6 = 1;
    assert_int_equal(ds_fingerprint(&p, &app), 0);

    /* Nmap's OS detection probes (nmap -O, real capture in tools_netns.sh): TSval 0xFFFFFFFF */
    p = syn(dst, 1, seq, 777, 31337, 265, 4);   /* T5: SYN, window 31337, WScale NOP MSS TS SACK */
    assert_int_equal(ds_fingerprint(&p, &app), 0);
    p.have |= DS_HAVE_TCPTS;
    p.tcp_tsval = 0xffffffffu;
    assert_int_equal(ds_fingerprint(&p, &app), DS_TOOL_NMAP | DS_HIT_NMAP_OS);
    assert_int_equal(app, DS_TOOL__ALL);
    p.tcp_flags = 0x10;   /* T6: ACK, window 32768 */
    p.tcp_win = 32768;
    assert_int_equal(ds_fingerprint(&p, &app), DS_TOOL_NMAP | DS_HIT_NMAP_OS);
    assert_int_equal(app, DS_TOOL_NMAP);
    p.tcp_tsval = 12345;   /* an ordinary stack's ACK: no fingerprint applies */
    assert_int_equal(ds_fingerprint(&p, &app), 0);
    assert_int_equal(app, 0);
    p = syn(dst, 80, seq, 777, 3, 1460, 3);   /* the ECN probe: SYN+ECE+CWR, window 3 (no TS: not an OS mark) */
    p.tcp_flags = 0xc2;
    assert_int_equal(ds_fingerprint(&p, &app), DS_TOOL_NMAP);
    p.tcp_win = 64240;
    assert_int_equal(ds_fingerprint(&p, &app), 0);
    /* the stealth scans: ACK (-sA, -sW), FIN, none, FIN+PSH+URG, FIN+ACK; window 1024, no options */
    static const uint8_t stealth[] = { 0x10, 0x01, 0x00, 0x29, 0x11 };
    for (size_t i = 0; i < sizeof stealth; i++) {
        p = syn(dst, 80, seq, 777, 1024, 0, 0);
        p.tcp_flags = stealth[i];
        assert_int_equal(ds_fingerprint(&p, &app), DS_TOOL_NMAP);
        assert_int_equal(app, DS_TOOL_NMAP);
        p.tcp_win = 29200;   /* another window: not Nmap's, and not counted */
        assert_int_equal(ds_fingerprint(&p, &app), 0);
        assert_int_equal(app, 0);
    }
    p = syn(dst, 80, seq, 777, 1024, 1460, 1);
    p.tcp_flags = 0x10;   /* an ACK with options: not a stealth probe */
    assert_int_equal(ds_fingerprint(&p, &app), 0);
    p.tcp_flags = 0x14;   /* RST+ACK (backscatter) */
    p.tcp_optlen = 0;
    assert_int_equal(ds_fingerprint(&p, &app), 0);
}

/* Masscan's UDP probes (masscan 1.3.2 -pU:53,161 in test namespaces; tools_netns.sh): the IP ID is
 * dst ^ dport ^ cookie, the cookie the DNS ID or the SNMP request-id.  Every such query counts;
 * a damaged SNMP message is no query. */
static void test_masscan_udp(void **state)
{
    (void)state;
    unsigned app;
    uint32_t dst = 0xc633640b, cookie;   /* 198.51.100.11 */
    ds_pkt p = syn(dst, 53, 0, 0, 0, 0, 0);
    p.proto = DS_PROTO_UDP;
    p.tcp_flags = 0;
    static const uint8_t dns[] = { 0x97, 0x63, 0x01, 0x20, 0, 1, 0, 0, 0, 0, 0, 0, 7, 'v', 'e', 'r', 's', 'i', 'o', 'n' };
    p.payload = dns;
    p.payload_len = sizeof dns;
    p.ip_id = 62301;   /* as captured: 0x640b ^ 53 ^ 0x9763 */
    assert_int_equal(ds_fingerprint(&p, &app), DS_TOOL_MASSCAN);
    assert_int_equal(app, DS_TOOL_ZMAP | DS_TOOL_MASSCAN);
    p.ip_id = 62302;   /* a resolver's query: counted, not matched */
    assert_int_equal(ds_fingerprint(&p, &app), 0);
    assert_int_equal(app, DS_TOOL_ZMAP | DS_TOOL_MASSCAN);
    uint8_t resp[sizeof dns];
    memcpy(resp, dns, sizeof dns);
    resp[2] |= 0x80;   /* an answer (QR): not a query */
    p.payload = resp;
    assert_int_equal(ds_masscan_udp_cookie(&p, &cookie), 0);
    p.payload_len = 11;   /* shorter than a DNS header */
    p.payload = dns;
    assert_int_equal(ds_masscan_udp_cookie(&p, &cookie), 0);
    /* SNMP GetRequest to 161, community "public", request-id 0x0ba803ed */
    static const uint8_t snmp[] = { 0x30, 0x39, 0x02, 0x01, 0x00, 0x04, 0x06, 'p', 'u', 'b', 'l', 'i', 'c', 0xa0, 0x2c,
                                    0x02, 0x04, 0x0b, 0xa8, 0x03, 0xed, 0x02, 0x01, 0x00, 0x02, 0x01, 0x00, 0x30, 0x1e };
    p = syn(0xc633640f, 161, 0, 26435, 0, 0, 0);
    p.proto = DS_PROTO_UDP;
    p.tcp_flags = 0;
    p.payload = snmp;
    p.payload_len = sizeof snmp;
    assert_int_equal(ds_masscan_udp_cookie(&p, &cookie), 1);
    assert_true(cookie == 0x0ba803edu);
    assert_int_equal(ds_fingerprint(&p, &app), DS_TOOL_MASSCAN);
    for (size_t n = 0; n < 21; n++) {   /* cut anywhere before the request-id's last byte: no cookie */
        p.payload_len = (uint32_t)n;
        assert_int_equal(ds_masscan_udp_cookie(&p, &cookie), 0);
    }
    uint8_t bad[sizeof snmp];
    memcpy(bad, snmp, sizeof snmp);
    bad[6] = 0x7f;   /* a community longer than the message */
    p.payload = bad;
    p.payload_len = sizeof bad;
    assert_int_equal(ds_masscan_udp_cookie(&p, &cookie), 0);
    memcpy(bad, snmp, sizeof snmp);
    bad[13] = 0xa2;   /* a response PDU: not a request */
    assert_int_equal(ds_masscan_udp_cookie(&p, &cookie), 0);
    p.payload = NULL;
    p.payload_len = 0;
    assert_int_equal(ds_masscan_udp_cookie(&p, &cookie), 0);
    p.dport = 123;   /* NTP: masscan's monlist probe carries no cookie */
    assert_int_equal(ds_masscan_udp_cookie(&p, &cookie), 0);
}

static ds_tool_counts counts(uint32_t syn, uint32_t zapp, uint32_t zmap, uint32_t masscan, uint32_t nmap)
{
    return (ds_tool_counts){ .syn = syn, .zapp = zapp, .nmapp = syn, .zmap = zmap, .masscan = masscan, .nmap = nmap };
}

static void test_attribution_rule(void **state)
{
    (void)state;
    /* one Mirai match is enough; the others need 2 matches and at most 1 + 1/1000 misses */
    ds_tool_counts c = counts(1, 1, 0, 0, 0);
    assert_int_equal(ds_tools_of(DS_TOOL_MIRAI, &c, 1, 1), DS_TOOL_MIRAI);
    assert_int_equal(ds_tools_of(DS_TOOL_MIRAI, NULL, 1, 1), DS_TOOL_MIRAI);
    c = counts(2, 2, 2, 0, 0);
    assert_int_equal(ds_tools_of(DS_TOOL_ZMAP, &c, 1, 2), DS_TOOL_ZMAP);
    c = counts(2, 2, 1, 0, 0);
    assert_int_equal(ds_tools_of(DS_TOOL_ZMAP, &c, 1, 2), 0);      /* one of two: chance (1 in 65,536) */
    c = counts(3, 3, 2, 0, 0);
    assert_int_equal(ds_tools_of(DS_TOOL_ZMAP, &c, 1, 2), DS_TOOL_ZMAP);   /* one stray packet */
    c = counts(4, 4, 2, 0, 0);
    assert_int_equal(ds_tools_of(DS_TOOL_ZMAP, &c, 1, 2), 0);      /* two strays of four */
    c = counts(1, 1, 1, 0, 0);
    assert_int_equal(ds_tools_of(DS_TOOL_ZMAP, &c, 1, 1), 0);      /* one packet */
    c = counts(50, 50, 0, 0, 50);
    assert_int_equal(ds_tools_of(DS_TOOL_NMAP, &c, 9, 1), 0);      /* the template, but no port scan */
    assert_int_equal(ds_tools_of(DS_TOOL_NMAP, &c, 10, 3), 0);     /* 10 ports over 3 hosts: random ports */
    assert_int_equal(ds_tools_of(DS_TOOL_NMAP, &c, 10, 1), DS_TOOL_NMAP);
    /* the share's edge: 1 + 1/1000 of the applicable packets may miss */
    c = counts(100000, 100000, 0, 0, 100000 - 101);
    assert_int_equal(ds_tools_of(DS_TOOL_NMAP, &c, 1000, 1), DS_TOOL_NMAP);
    c.nmap--;
    assert_int_equal(ds_tools_of(DS_TOOL_NMAP, &c, 1000, 1), 0);
    /* nmap -O into a darknet: 600 SYN-scan probes, and its OS probes T5 (a SYN), T6 and T7, 8 of
     * each per host (3 hosts), all Nmap's: SYNs 624 of 624, its probes 672 of 672 */
    c = counts(624, 624, 0, 0, 672);
    c.nmapp = 672;
    assert_int_equal(ds_tools_of(DS_TOOL_NMAP, &c, 200, 3), DS_TOOL_NMAP);
    c.nmap = 672 - 24;   /* the OS probes unrecognised, as before: 24 misses of 672 */
    assert_int_equal(ds_tools_of(DS_TOOL_NMAP, &c, 200, 3), 0);
    /* OS detection alone (Chris Sanders' activeosfingerprinting.pcapng: 37 packets to 4 services
     * of one host): its TSval probes name Nmap without the port-scan behaviour, two of them */
    c = counts(15, 15, 0, 0, 15);
    c.nmapp = 30;
    c.nmap = 30;
    c.nmap_os = 24;
    assert_int_equal(ds_tools_of(DS_TOOL_NMAP, &c, 4, 1), DS_TOOL_NMAP);
    c.nmap_os = 1;
    assert_int_equal(ds_tools_of(DS_TOOL_NMAP, &c, 4, 1), 0);
    assert_false(ds_tool_share_ok(5, 4));   /* more matches than packets: a broken count */
    assert_false(ds_tool_share_ok(1000, INT32_MAX));   /* a saturated count before the first match */
    assert_true(ds_tool_share_ok(UINT32_MAX - 5, UINT32_MAX));
    assert_int_equal(ds_tool_parse("Masscan"), DS_TOOL_MASSCAN);
    assert_int_equal(ds_tool_parse("hping"), 0);
    char buf[64];
    assert_string_equal(ds_tools_format(DS_TOOL_ZMAP | DS_TOOL_NMAP, buf, sizeof buf), "zmap,nmap");
    assert_string_equal(ds_tools_format(0, buf, sizeof buf), "");
    assert_string_equal(ds_tools_format(DS_TOOL__ALL, buf, 8), "mirai");   /* cut at a name */
}

typedef struct got { uint8_t src_tools[4]; uint8_t svc_tools[4]; int n; } got;

static ds_rc sink(void *ctx, int sensor, int32_t day, ds_chunk_kind kind, const uint8_t *data, size_t nrec, ds_err *err)
{
    got *g = ctx;
    for (size_t i = 0; i < nrec; i++) {
        if (kind == DS_CHUNK_SOURCES) {
            ds_rec_source r;
            ds_rec_source_get(data + i * DS_REC_SOURCES, &r);
            g->src_tools[r.ip.b[3] & 3] = r.tools;
            g->n++;
        } else if (kind == DS_CHUNK_SRCSVC) {
            ds_rec_srcsvc r;
            ds_rec_srcsvc_get(data + i * DS_REC_SRCSVC, &r);
            g->svc_tools[r.src & 3] |= r.tools;
        }
    }
    return DS_OK;
}

/* Through the aggregator: source .0 sends only ZMap probes (zmap), .1 ZMap probes and one
 * ordinary SYN (not zmap), .2 one Mirai SYN among ordinary ones (mirai), .3 Nmap SYNs to 12
 * ports (nmap). */
static void test_aggregated(void **state)
{
    (void)state;
    ds_agg_conf conf = { .nsensors = 1 };
    ds_agg *a = ds_agg_new(&conf);
    assert_non_null(a);
    uint64_t t = (uint64_t)19600 * 86400 * 1000000000ULL;
    uint32_t dst = 0xc6336401;
    struct { int src; ds_pkt p; } in[] = {
        { 0, syn(dst, 80, 1, 54321, 65535, 1460, 1) }, { 0, syn(dst + 1, 80, 2, 54321, 65535, 1460, 1) },
        { 1, syn(dst, 80, 1, 54321, 65535, 1460, 1) }, { 1, syn(dst, 81, 5, 9, 64240, 1460, 4) },
        { 2, syn(dst, 23, 7, 9, 64240, 1460, 4) }, { 2, syn(dst + 2, 23, dst + 2, 9, 5840, 0, 0) },
        { 3, syn(dst, 22, 7, 9, 1024, 1460, 1) }, { 3, syn(dst, 25, 8, 10, 1024, 1460, 1) },
        { 3, syn(dst, 26, 7, 9, 1024, 1460, 1) }, { 3, syn(dst, 27, 8, 10, 1024, 1460, 1) },
        { 3, syn(dst, 28, 7, 9, 1024, 1460, 1) }, { 3, syn(dst, 29, 8, 10, 1024, 1460, 1) },
        { 3, syn(dst, 30, 7, 9, 1024, 1460, 1) }, { 3, syn(dst, 31, 8, 10, 1024, 1460, 1) },
        { 3, syn(dst, 32, 7, 9, 1024, 1460, 1) }, { 3, syn(dst, 33, 8, 10, 1024, 1460, 1) },
        { 3, syn(dst, 34, 7, 9, 1024, 1460, 1) }, { 3, syn(dst, 35, 8, 10, 1024, 1460, 1) },
    };
    for (size_t i = 0; i < sizeof in / sizeof in[0]; i++) {
        ds_ip_set4(&in[i].p.src, 0x01020300u | (uint32_t)in[i].src);
        in[i].p.ts_ns = t + i;
        assert_int_equal(ds_agg_packet(a, 0, 19600, 1, &in[i].p, ds_service_of(&in[i].p), ds_class_of(&in[i].p)), DS_OK);
    }
    got g = { 0 };
    ds_err err = { 0 };
    assert_int_equal(ds_agg_emit(a, sink, &g, &err), DS_OK);
    assert_int_equal(g.n, 4);
    assert_int_equal(g.src_tools[0], DS_TOOL_ZMAP);
    assert_int_equal(g.src_tools[1], 0);
    assert_int_equal(g.src_tools[2], DS_TOOL_MIRAI);
    assert_int_equal(g.src_tools[3], DS_TOOL_NMAP);
    for (int i = 0; i < 4; i++)
        assert_int_equal(g.svc_tools[i], g.src_tools[i]);   /* SRCSVC carries the source's tools */
    ds_agg_free(a);
}

/* Issue #20: 500,000 Nmap SYNs (random IP IDs) of which 8 equal Masscan's function of the packet
 * by chance (1 in 65,536 each: 7.6 expected) stay Nmap and are not Masscan; a Masscan source with
 * 8 stray packets of another template among 500,000 stays Masscan. */
static void test_share_chance(void **state)
{
    (void)state;
    ds_agg_conf conf = { .nsensors = 1 };
    ds_agg *a = ds_agg_new(&conf);
    assert_non_null(a);
    uint64_t t = (uint64_t)19600 * 86400 * 1000000000ULL;
    uint32_t dst0 = 0xc6336400, rng = 12345;
    unsigned coincidences = 0;
    for (uint32_t i = 0; i < 500000; i++) {
        uint32_t dst = dst0 + (i & 7), seq = rng = rng * 1103515245u + 12345u;
        uint16_t dport = (uint16_t)(1 + i / 8 % 65535), masscan_id = (uint16_t)((dst ^ dport ^ seq) & 0xffff);
        uint16_t id = (uint16_t)(rng >> 16);
        if (i % 62500 == 31000) {   /* 8 coincidences, spread over the scan */
            id = masscan_id;
            coincidences++;
        } else if (id == masscan_id) {
            id++;
        }
        ds_pkt p = syn(dst, dport, seq, id, i % 4 ? 1024 : (uint16_t)(1024 * (1 + i % 16 / 4)), 1460, 1);
        ds_ip_set4(&p.src, 0x01020300u);
        p.ts_ns = t + i;
        /* (an ID of 54321 is ZMap's by chance too: 7.6 expected, not attributed either) */
        unsigned app;
        assert_int_equal(ds_fingerprint(&p, &app) & ~(unsigned)DS_TOOL_ZMAP, id == masscan_id ? DS_TOOL_MASSCAN : DS_TOOL_NMAP);
        assert_int_equal(ds_agg_packet(a, 0, 19600, 1, &p, ds_service_of(&p), ds_class_of(&p)), DS_OK);
        /* a Masscan source: the template on all but 8 packets (an ordinary SYN) */
        p = syn(dst, dport, seq, masscan_id, 1024, 1460, 1);
        if (i % 62500 == 777)
            p = syn(dst, dport, seq, 9, 64240, 1460, 4);
        ds_ip_set4(&p.src, 0x01020301u);
        p.ts_ns = t + i;
        assert_int_equal(ds_agg_packet(a, 0, 19600, 1, &p, ds_service_of(&p), ds_class_of(&p)), DS_OK);
    }
    assert_int_equal(coincidences, 8);
    /* packets before the first match count too: .2 sends 1 ordinary SYN then 5 ZMap probes (ZMap:
     * one stray), .3 sends 2 ordinary SYNs and a UDP datagram first (not ZMap: 3 of 8 missed) */
    for (uint32_t k = 0; k < 14; k++) {
        int s3 = k >= 6;
        uint32_t j = s3 ? k - 6 : k;
        ds_pkt p = syn(dst0, (uint16_t)(80 + j), j, 9, 64240, 1460, 4);
        if (j >= (s3 ? 3u : 1u))
            p.ip_id = 54321;
        if (s3 && j == 2)
            p.proto = DS_PROTO_UDP;
        ds_ip_set4(&p.src, 0x01020302u + (uint32_t)s3);
        p.ts_ns = t + 500000 + k;
        assert_int_equal(ds_agg_packet(a, 0, 19600, 1, &p, ds_service_of(&p), ds_class_of(&p)), DS_OK);
    }
    got g = { 0 };
    ds_err err = { 0 };
    assert_int_equal(ds_agg_emit(a, sink, &g, &err), DS_OK);
    assert_int_equal(g.n, 4);
    assert_int_equal(g.src_tools[0], DS_TOOL_NMAP);
    assert_int_equal(g.src_tools[1], DS_TOOL_MASSCAN);
    assert_int_equal(g.src_tools[2], DS_TOOL_ZMAP);
    assert_int_equal(g.src_tools[3], 0);
    ds_agg_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_packets),
        cmocka_unit_test(test_masscan_udp),
        cmocka_unit_test(test_attribution_rule),
        cmocka_unit_test(test_aggregated),
        cmocka_unit_test(test_share_chance),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
