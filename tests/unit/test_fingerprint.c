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
}

static void test_attribution_rule(void **state)
{
    (void)state;
    /* one Mirai match is enough; the others need every applicable packet to match */
    assert_int_equal(ds_tools_of(DS_TOOL_MIRAI, DS_TOOL__ALL, 1, 1, 1), DS_TOOL_MIRAI);
    assert_int_equal(ds_tools_of(DS_TOOL_ZMAP, DS_TOOL_MIRAI | DS_TOOL_NMAP, 2, 1, 2), DS_TOOL_ZMAP);
    assert_int_equal(ds_tools_of(DS_TOOL_ZMAP, DS_TOOL_ZMAP, 2, 1, 2), 0);
    assert_int_equal(ds_tools_of(DS_TOOL_ZMAP, 0, 1, 1, 1), 0);    /* one packet: chance (1 in 65,536) */
    assert_int_equal(ds_tools_of(DS_TOOL_NMAP, 0, 50, 9, 1), 0);   /* the template, but no port scan */
    assert_int_equal(ds_tools_of(DS_TOOL_NMAP, 0, 50, 10, 3), 0);  /* 10 ports over 3 hosts: random ports */
    assert_int_equal(ds_tools_of(DS_TOOL_NMAP, 0, 50, 10, 1), DS_TOOL_NMAP);
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_packets),
        cmocka_unit_test(test_attribution_rule),
        cmocka_unit_test(test_aggregated),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
