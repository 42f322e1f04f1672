/* test_scan.c: scan flows (src/core/scan.h): the address threshold, the idle timeout, exact and
 * estimated destination counts, the SCANS record layout, and the aggregator writing SCANS chunks. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/agg.h"
#include "core/records.h"
#include "core/scan.h"

#define SEC 1000000000ULL
#define T0 (1700000000ULL * SEC)

typedef struct got { ds_scan s[64]; int n; } got;

static int collect(void *ctx, const ds_scan *s)
{
    got *g = ctx;
    if (g->n < 64)
        g->s[g->n++] = *s;
    return 0;
}

static ds_pkt syn(uint32_t src, uint32_t dst, uint16_t dport, uint64_t ts)
{
    ds_pkt p;
    memset(&p, 0, sizeof p);
    p.have = DS_HAVE_IP | DS_HAVE_L4;
    ds_ip_set4(&p.src, src);
    ds_ip_set4(&p.dst, dst);
    p.proto = DS_PROTO_TCP;
    p.tcp_flags = 0x02;
    p.dport = dport;
    p.ts_ns = ts;
    return p;
}

/* n packets from src to distinct addresses of 198.51.100.0/24 (exact: by index), step apart */
static void sweep(ds_scans *sc, got *g, uint32_t src, uint16_t port, int n, uint64_t t0, uint64_t step, int exact)
{
    for (int i = 0; i < n; i++) {
        ds_pkt p = syn(src, 0xc6336400u + (uint32_t)(i % 256), port, t0 + (uint64_t)i * step);
        uint32_t key = exact ? (uint32_t)(i % 256) : ds_ip_v4(&p.dst) + (uint32_t)(i / 256) * 256;
        assert_int_equal(ds_scans_packet(sc, 0, 5, key, exact, &p, DS_SERVICE(DS_PROTO_TCP, port), collect, g), 0);
    }
}

static void test_threshold(void **state)
{
    (void)state;
    uint64_t v4[1] = { 256 };
    ds_scans *sc = ds_scans_new(0, 0, v4, 1);
    got g = { 0 };
    sweep(sc, &g, 0x0a000001, 23, 24, T0, SEC, 1);   /* 24 addresses: below 25 */
    sweep(sc, &g, 0x0a000002, 23, 25, T0, SEC, 1);   /* 25: a scan */
    sweep(sc, &g, 0x0a000003, 443, 256, T0, SEC / 10, 1);
    for (int i = 0; i < 100; i++) {   /* many packets to 3 addresses: not a scan */
        ds_pkt p = syn(0x0a000004, 0xc6336401u + (uint32_t)(i % 3), 22, T0 + (uint64_t)i * SEC);
        assert_int_equal(ds_scans_packet(sc, 0, 5, (uint32_t)(1 + i % 3), 1, &p, DS_SERVICE(6, 22), collect, &g), 0);
    }
    assert_int_equal(g.n, 0);   /* nothing closes before the timeout or the end */
    assert_int_equal(ds_scans_expire(sc, UINT64_MAX, collect, &g), 0);
    assert_int_equal(g.n, 2);
    assert_int_equal(ds_scans_live(sc), 0);
    for (int i = 0; i < 2; i++) {
        const ds_scan *s = &g.s[i];
        int big = ds_ip_v4(&s->src) == 0x0a000003;
        assert_true(big || ds_ip_v4(&s->src) == 0x0a000002);
        assert_int_equal(s->addresses, big ? 256 : 25);
        assert_int_equal(s->packets, big ? 256 : 25);
        assert_int_equal(s->service, DS_SERVICE(6, big ? 443 : 23));
        assert_int_equal(s->start_ns, T0);
        assert_int_equal(s->end_ns, T0 + (big ? 255 * SEC / 10 : 24 * SEC));
        assert_int_equal(s->estimated, 0);
        assert_int_equal(s->sensor_addresses, 256);
        assert_int_equal(s->day, 5);
        assert_int_equal(s->timeout_s, DS_SCAN_TIMEOUT_S);
        assert_int_equal(s->min_addresses, DS_SCAN_MIN_ADDRESSES);
    }
    ds_scans_free(sc);
}

static void test_timeout(void **state)
{
    (void)state;
    ds_scans *sc = ds_scans_new(0, 0, NULL, 1);
    got g = { 0 };
    /* 20 addresses, a gap longer than the timeout, 20 more: two pieces, neither a scan */
    sweep(sc, &g, 0x0a000001, 80, 20, T0, SEC, 1);
    sweep(sc, &g, 0x0a000001, 80, 20, T0 + 19 * SEC + 481 * SEC, SEC, 1);
    /* the same with a gap shorter than the timeout: one scan (the addresses repeat: 20) ... */
    sweep(sc, &g, 0x0a000002, 80, 20, T0, SEC, 1);
    for (int i = 0; i < 20; i++) {   /* ... then 20 new ones after 400 s: 40 */
        ds_pkt p = syn(0x0a000002, 0xc6336480u + (uint32_t)i, 80, T0 + 419 * SEC + (uint64_t)i * SEC);
        assert_int_equal(ds_scans_packet(sc, 0, 5, 128u + (uint32_t)i, 1, &p, DS_SERVICE(6, 80), collect, &g), 0);
    }
    assert_int_equal(ds_scans_expire(sc, UINT64_MAX, collect, &g), 0);
    assert_int_equal(g.n, 1);
    assert_int_equal(ds_ip_v4(&g.s[0].src), 0x0a000002);
    assert_int_equal(g.s[0].addresses, 40);
    /* a configured threshold and timeout */
    ds_scans_free(sc);
    sc = ds_scans_new(10, 60, NULL, 1);
    g.n = 0;
    sweep(sc, &g, 0x0a000003, 80, 10, T0, 5 * SEC, 1);
    sweep(sc, &g, 0x0a000003, 80, 10, T0 + 200 * SEC, 5 * SEC, 1);   /* 155 s later: a new scan */
    assert_int_equal(g.n, 1);   /* the first closed when the late packet found it idle */
    assert_int_equal(ds_scans_expire(sc, UINT64_MAX, collect, &g), 0);
    assert_int_equal(g.n, 2);
    assert_int_equal(g.s[1].start_ns, T0 + 200 * SEC);
    assert_int_equal(g.s[1].timeout_s, 60);
    ds_scans_free(sc);
}

static void test_estimated(void **state)
{
    (void)state;
    uint64_t v4[1] = { 65536 };
    ds_scans *sc = ds_scans_new(0, 0, v4, 1);
    got g = { 0 };
    sweep(sc, &g, 0x0a000001, 80, 64, T0, SEC / 100, 0);     /* the exact list's limit */
    sweep(sc, &g, 0x0a000002, 80, 5000, T0, SEC / 100, 0);   /* registers */
    ds_pkt p = syn(0x0a000003, 0xc6336401u, 80, T0);        /* one IPv6 source */
    p.src.v6 = 1;
    p.src.b[0] = 0x20;
    for (uint32_t i = 0; i < 30; i++) {
        p.ts_ns = T0 + i * SEC;
        assert_int_equal(ds_scans_packet(sc, 0, 5, 0x9000u + i, 0, &p, DS_SERVICE(6, 80), collect, &g), 0);
    }
    assert_int_equal(ds_scans_expire(sc, UINT64_MAX, collect, &g), 0);
    assert_int_equal(g.n, 3);
    for (int i = 0; i < 3; i++) {
        const ds_scan *s = &g.s[i];
        if (s->src.v6) {
            assert_int_equal(s->addresses, 30);
        } else if (ds_ip_v4(&s->src) == 0x0a000001) {
            assert_int_equal(s->addresses, 64);
            assert_int_equal(s->estimated, 0);
        } else {
            assert_int_equal(s->estimated, 1);
            assert_in_range(s->addresses, 5000 * 80 / 100, 5000 * 120 / 100);   /* 6.5% standard error */
            assert_int_equal(s->packets, 5000);
        }
    }
    ds_scans_free(sc);
}

/* packets to keys[0..n) of sensor 0 (v4 addresses), one a second; the scan it closes into */
static ds_scan order_of(const uint32_t *keys, int n, uint64_t sensor_addresses)
{
    uint64_t v4[1] = { sensor_addresses };
    ds_scans *sc = ds_scans_new(0, 0, v4, 1);
    got g = { 0 };
    int exact = sensor_addresses <= 512;
    for (int i = 0; i < n; i++) {
        ds_pkt p = syn(0x0a000009, 0xc6330000u + keys[i], 443, T0 + (uint64_t)i * SEC);
        assert_int_equal(ds_scans_packet(sc, 0, 5, keys[i], exact, &p, DS_SERVICE(6, 443), collect, &g), 0);
    }
    assert_int_equal(ds_scans_expire(sc, UINT64_MAX, collect, &g), 0);
    assert_int_equal(g.n, 1);
    ds_scans_free(sc);
    return g.s[0];
}

static uint64_t rng = 88172645463325252ULL;
static uint32_t xorshift(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 11);
}

/* keys: a random permutation of 0..m-1, first n of them */
static void shuffled(uint32_t *keys, uint32_t m)
{
    for (uint32_t i = 0; i < m; i++)
        keys[i] = i;
    for (uint32_t i = m - 1; i > 0; i--) {
        uint32_t j = xorshift() % (i + 1), t = keys[i];
        keys[i] = keys[j];
        keys[j] = t;
    }
}

/* issue #20 item 7: an Internet-wide rate only for targets in a uniformly random order */
static void test_target_order(void **state)
{
    (void)state;
    static uint32_t keys[65536];
    /* a sweep of 51 addresses in order (the "all IPv4 in 9 s"): not random */
    for (uint32_t i = 0; i < 51; i++)
        keys[i] = 100 + i;
    assert_int_equal(order_of(keys, 51, 256).order, DS_SCAN_ORDER_NOT_RANDOM);
    /* the same, downwards, and with each address probed twice in a row (retransmissions) */
    for (uint32_t i = 0; i < 51; i++)
        keys[i] = 200 - i;
    assert_int_equal(order_of(keys, 51, 256).order, DS_SCAN_ORDER_NOT_RANDOM);
    for (uint32_t i = 0; i < 102; i++)
        keys[i] = 10 + i / 2;
    ds_scan twice = order_of(keys, 102, 256);
    assert_int_equal(twice.order, DS_SCAN_ORDER_NOT_RANDOM);
    assert_int_equal(twice.addresses, 51);
    /* random orders (ZMap, Masscan) over a /24, over 51 of its addresses, and over a /16 */
    int random = 0;
    for (int t = 0; t < 20; t++) {
        shuffled(keys, 256);
        random += order_of(keys, 256, 256).order == DS_SCAN_ORDER_RANDOM;
        random += order_of(keys, 51, 256).order == DS_SCAN_ORDER_RANDOM;
    }
    assert_true(random >= 39);   /* each test rejects a random order with p < 0.001 */
    shuffled(keys, 65536);
    assert_int_equal(order_of(keys, 3000, 65536).order, DS_SCAN_ORDER_RANDOM);
    /* random, but only in the lower half of the /24: not uniform over the darknet */
    shuffled(keys, 128);
    assert_int_equal(order_of(keys, 128, 256).order, DS_SCAN_ORDER_NOT_RANDOM);
    /* a /16 walked /24 by /24, each /24 in random order: ascents look random, the spread does not */
    for (uint32_t i = 0; i < 3000; i++)
        keys[i] = (i / 256) * 256 + (xorshift() & 255);
    assert_int_equal(order_of(keys, 3000, 65536).order, DS_SCAN_ORDER_NOT_RANDOM);
    /* too few steps to say */
    assert_int_equal(ds_scan_order_test(10, 10, NULL, 256), DS_SCAN_ORDER_UNTESTED);
}

/* issue #20 item 7: 10,000 packets cannot reach 10,742 addresses; the HyperLogLog's estimate is
 * capped at the packets seen */
static void test_estimate_capped(void **state)
{
    (void)state;
    uint64_t v4[1] = { 1u << 24 };
    int capped = 0;
    for (uint32_t base = 0; base < 40; base++) {
        ds_scans *sc = ds_scans_new(0, 0, v4, 1);
        got g = { 0 };
        for (uint32_t i = 0; i < 10000; i++) {
            ds_pkt p = syn(0x0a000001, 0x0a000000u + i, 80, T0 + i * (SEC / 100));
            uint32_t key = base * 100003u + i * 7919u;
            assert_int_equal(ds_scans_packet(sc, 0, 5, key, 0, &p, DS_SERVICE(6, 80), collect, &g), 0);
        }
        assert_int_equal(ds_scans_expire(sc, UINT64_MAX, collect, &g), 0);
        assert_int_equal(g.n, 1);
        assert_int_equal(g.s[0].estimated, 1);
        assert_true(g.s[0].addresses <= 10000);
        assert_true(g.s[0].addresses >= 8000);
        capped += g.s[0].addresses == 10000;
        ds_scans_free(sc);
    }
    assert_true(capped > 0);   /* some estimates were above 10,000 before the cap */
}

static void test_many_flows(void **state)
{
    (void)state;
    /* 200,000 one-packet flows over an hour (table growth, sweeps, deletion), and one scan among them */
    ds_scans *sc = ds_scans_new(0, 0, NULL, 1);
    got g = { 0 };
    for (uint32_t i = 0; i < 200000; i++) {
        uint64_t ts = T0 + (uint64_t)i * (3600 * SEC / 200000);
        ds_pkt p = syn(0x20000000u + i, 0xc6336401u, (uint16_t)(1 + i % 1000), ts);
        assert_int_equal(ds_scans_packet(sc, 0, 5, 1, 1, &p, DS_SERVICE(6, p.dport), collect, &g), 0);
        if (i % 1000 == 0) {   /* the scanner: one address every 5 s */
            ds_pkt q = syn(0x0a0000aa, 0xc6336400u + (i / 1000) % 256, 23, ts);
            assert_int_equal(ds_scans_packet(sc, 0, 5, (i / 1000) % 256, 1, &q, DS_SERVICE(6, 23), collect, &g), 0);
        }
    }
    assert_true(ds_scans_live(sc) < 200000);   /* idle flows were swept */
    assert_int_equal(ds_scans_expire(sc, UINT64_MAX, collect, &g), 0);
    assert_int_equal(g.n, 1);
    assert_int_equal(ds_ip_v4(&g.s[0].src), 0x0a0000aa);
    assert_int_equal(g.s[0].addresses, 200);
    ds_scans_free(sc);
}

static void test_record(void **state)
{
    (void)state;
    ds_scan s = { 0 }, r;
    ds_ip_set4(&s.src, 0x01020304);
    s.service = DS_SERVICE(17, 5060);
    s.start_ns = T0;
    s.end_ns = T0 + 77;
    s.packets = 1ULL << 33;
    s.addresses = 300;
    s.estimated = 1;
    s.order = DS_SCAN_ORDER_NOT_RANDOM;
    s.sensor_addresses = 65536;
    s.timeout_s = 480;
    s.min_addresses = 25;
    uint8_t buf[DS_REC_SCAN];
    assert_int_equal(ds_rec_size(DS_CHUNK_SCANS), 64);
    ds_rec_scan_put(buf, &s);
    assert_int_equal(buf[0], 1);
    assert_int_equal(buf[17], 1 | DS_SCAN_ORDER_NOT_RANDOM << 1);
    ds_rec_scan_get(buf, &r);
    assert_true(ds_ip_eq(&r.src, &s.src));
    assert_int_equal(r.service, s.service);
    assert_int_equal(r.end_ns, s.end_ns);
    assert_int_equal(r.packets, s.packets);
    assert_int_equal(r.addresses, 300);
    assert_int_equal(r.estimated, 1);
    assert_int_equal(r.order, DS_SCAN_ORDER_NOT_RANDOM);
    buf[17] = 1;   /* a record written before the order test */
    ds_rec_scan_get(buf, &r);
    assert_int_equal(r.order, DS_SCAN_ORDER_UNTESTED);
    assert_int_equal(r.sensor_addresses, 65536);
    assert_int_equal(r.timeout_s, 480);
    assert_int_equal(r.min_addresses, 25);
}

typedef struct sunk { int scans; ds_scan s; int32_t day; } sunk;

static ds_rc sink(void *ctx, int sensor, int32_t day, ds_chunk_kind kind, const uint8_t *data, size_t nrec, ds_err *err)
{
    sunk *k = ctx;
    if (kind == DS_CHUNK_SCANS) {
        k->scans += (int)nrec;
        ds_rec_scan_get(data, &k->s);
        k->day = day;
    }
    return DS_OK;
}

static void test_through_aggregator(void **state)
{
    (void)state;
    uint8_t exact[1] = { 1 };
    uint64_t v4[1] = { 256 };
    ds_agg_conf conf = { .nsensors = 1, .exact_dst = exact, .sensor_v4 = v4, .scan_min_addresses = 30 };
    ds_agg *a = ds_agg_new(&conf);
    assert_non_null(a);
    for (uint32_t i = 0; i < 100; i++) {
        ds_pkt p = syn(0x0a000001, 0xc6336400u + i, 3389, T0 + i * SEC);
        assert_int_equal(ds_agg_packet(a, 0, 19675, i, &p, DS_SERVICE(6, 3389), DS_CLASS_SCAN), DS_OK);
    }
    for (uint32_t i = 0; i < 29; i++) {   /* below the configured 30 */
        ds_pkt p = syn(0x0a000002, 0xc6336400u + i, 3389, T0 + i * SEC);
        assert_int_equal(ds_agg_packet(a, 0, 19675, i, &p, DS_SERVICE(6, 3389), DS_CLASS_SCAN), DS_OK);
    }
    sunk k = { 0 };
    ds_err err = { 0 };
    assert_int_equal(ds_agg_emit(a, sink, &k, &err), DS_OK);
    assert_int_equal(k.scans, 1);
    assert_int_equal(k.day, 19675);
    assert_int_equal(ds_ip_v4(&k.s.src), 0x0a000001);
    assert_int_equal(k.s.addresses, 100);
    assert_int_equal(k.s.sensor_addresses, 256);
    assert_int_equal(k.s.min_addresses, 30);
    assert_int_equal(k.s.order, DS_SCAN_ORDER_NOT_RANDOM);   /* addresses 0..99 in order */
    ds_agg_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_threshold),  cmocka_unit_test(test_timeout), cmocka_unit_test(test_estimated),
        cmocka_unit_test(test_many_flows), cmocka_unit_test(test_record),  cmocka_unit_test(test_through_aggregator),
        cmocka_unit_test(test_target_order), cmocka_unit_test(test_estimate_capped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
