/* test_dos.c: DoS attack vectors from backscatter (src/core/dos.c): the victim of each kind of
 * answer, corsaro3's thresholds (25 packets, 60 s, 30 packets in a sliding 60 s window; the last
 * scaled by telescope size, never below its floor), the distinct answers a vector needs, the
 * 300 s timeout that splits two attacks, and the records the aggregator writes. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/agg.h"
#include "core/classify.h"
#include "core/dos.h"
#include "core/records.h"

#define S 1000000000ULL

static ds_pkt answer(uint32_t victim, uint64_t ts, int kind)
{
    ds_pkt p;
    memset(&p, 0, sizeof p);
    p.have = DS_HAVE_IP | DS_HAVE_L4;
    p.ts_ns = ts;
    ds_ip_set4(&p.src, victim);
    ds_ip_set4(&p.dst, 0xc6336401);
    if (kind == DS_ATK_SYNACK || kind == DS_ATK_RST) {
        p.proto = DS_PROTO_TCP;
        p.sport = 80;
        p.dport = 40000;
        p.tcp_flags = kind == DS_ATK_SYNACK ? 0x12 : 0x14;
    } else if (kind == DS_ATK_ECHO_REPLY) {
        p.proto = DS_PROTO_ICMP;
        p.icmp_type = 0;
    } else {   /* port unreachable from a router, quoting the flood's UDP datagram to the victim */
        p.proto = DS_PROTO_ICMP;
        p.icmp_type = 3;
        p.icmp_code = 3;
        ds_ip_set4(&p.src, 0x0a0a0a0a);
        p.have |= DS_HAVE_INNER;
        ds_ip_set4(&p.inner_src, 0xc6336401);
        ds_ip_set4(&p.inner_dst, victim);
        p.inner_proto = DS_PROTO_UDP;
        p.inner_dport = 53;
    }
    return p;
}

typedef struct got { ds_attack a[8]; int n; } got;

static int collect(void *ctx, const ds_attack *a)
{
    got *g = ctx;
    if (g->n < 8)
        g->a[g->n++] = *a;
    return 0;
}

/* Answer i of a flood: each answers another spoofed packet (its own sequence and ack numbers, IP
 * ID and quoted port), as a victim's answers do. */
static ds_pkt answer_n(uint32_t victim, uint64_t ts, int kind, int i)
{
    ds_pkt p = answer(victim, ts, kind);
    p.tcp_seq = 0x10000u + (uint32_t)i * 7919u;
    p.tcp_ack = 0x20000u + (uint32_t)i * 104729u;
    p.ip_id = (uint16_t)(i + 1);
    p.inner_sport = (uint16_t)(1024 + i);
    return p;
}

static void feed(ds_dos *d, got *g, uint32_t victim, uint64_t t0, int n, uint64_t step, int kind)
{
    for (int i = 0; i < n; i++) {
        ds_pkt p = answer_n(victim, t0 + (uint64_t)i * step, kind, i);
        assert_int_equal(ds_dos_packet(d, 0, 19000, &p, collect, g), 0);
    }
}

static void test_victims(void **state)
{
    (void)state;
    ds_ip v;
    uint16_t port;
    uint8_t proto;
    ds_pkt p = answer(0x01020304, 0, DS_ATK_UNREACH_UDP);
    assert_int_equal(ds_attack_classify(&p, &v, &port, &proto), DS_ATK_UNREACH_UDP);
    assert_int_equal(ds_ip_v4(&v), 0x01020304);   /* the quoted destination, not the router */
    assert_int_equal(port, 53);
    p.have &= ~(uint32_t)DS_HAVE_INNER;
    assert_int_equal(ds_attack_classify(&p, &v, &port, &proto), -1);
    p = answer(0x01020304, 0, DS_ATK_SYNACK);
    assert_int_equal(ds_attack_classify(&p, &v, &port, &proto), DS_ATK_SYNACK);
    assert_int_equal(port, 80);
    p.tcp_flags = 0x02;   /* a SYN is no answer */
    assert_int_equal(ds_attack_classify(&p, &v, &port, &proto), -1);
    p = answer(0x01020304, 0, DS_ATK_ECHO_REPLY);
    assert_int_equal(ds_attack_classify(&p, &v, &port, &proto), DS_ATK_ECHO_REPLY);
}

static void test_thresholds(void **state)
{
    (void)state;
    ds_dos *d = ds_dos_new(0);   /* a /8: corsaro3's own rate threshold */
    assert_non_null(d);
    got g = { 0 };
    feed(d, &g, 1, 1000 * S, 40, S, DS_ATK_SYNACK);            /* 40 packets in 40 s: too short */
    feed(d, &g, 2, 1000 * S, 24, 10 * S, DS_ATK_RST);          /* 24 packets over 230 s: too few */
    feed(d, &g, 3, 1000 * S, 100, 3 * S, DS_ATK_ECHO_REPLY);   /* 100 over 297 s, 20 per 60 s: too slow */
    feed(d, &g, 4, 1000 * S, 100, S, DS_ATK_UNREACH_UDP);      /* 100 over 99 s, 60 per 60 s: an attack */
    assert_int_equal(g.n, 0);   /* nothing is reported while it may go on */
    assert_int_equal(ds_dos_expire(d, 1200 * S, collect, &g), 0);
    assert_int_equal(g.n, 0);   /* still within 300 s of the last packets */
    assert_int_equal(ds_dos_expire(d, 2000 * S, collect, &g), 0);
    assert_int_equal(g.n, 1);
    assert_int_equal(ds_ip_v4(&g.a[0].victim), 4);
    assert_int_equal(g.a[0].packets, 100);
    assert_int_equal(g.a[0].start_ns, 1000 * S);
    assert_int_equal(g.a[0].end_ns, 1099 * S);
    assert_true(g.a[0].max_ppm >= 60 && g.a[0].max_ppm <= 61);
    assert_int_equal(g.a[0].kind_packets[DS_ATK_UNREACH_UDP], 100);
    assert_int_equal(g.a[0].port, 53);
    assert_int_equal(g.a[0].port_packets, 100);
    ds_dos_free(d);

    /* a /23 telescope: the rate threshold scales down to its floor (3), so the slow one counts */
    assert_int_equal(ds_dos_min_ppm(512), DS_DOS_MIN_PPM_FLOOR);
    assert_int_equal(ds_dos_min_ppm(1), DS_DOS_MIN_PPM_FLOOR);
    assert_int_equal(ds_dos_min_ppm(1u << 21), DS_DOS_MIN_PPM_FLOOR);   /* 30 / 8 = 3 */
    assert_int_equal(ds_dos_min_ppm(1u << 22), 7);
    assert_int_equal(ds_dos_min_ppm(1u << 24), 30);
    assert_int_equal(ds_dos_min_ppm(1u << 23), 15);
    d = ds_dos_new(512);
    memset(&g, 0, sizeof g);
    feed(d, &g, 3, 1000 * S, 100, 3 * S, DS_ATK_ECHO_REPLY);
    assert_int_equal(ds_dos_expire(d, UINT64_MAX, collect, &g), 0);
    assert_int_equal(g.n, 1);
    ds_dos_free(d);
}

/* Issue #20: thresholds scaled to a small darknet do not fall to 1.  25 packets over 10 minutes
 * with never more than 2 in a minute is no attack on a /24, however many answers they are. */
static void test_rate_floor(void **state)
{
    (void)state;
    ds_dos *d = ds_dos_new(256);
    got g = { 0 };
    feed(d, &g, 7, 1000 * S, 30, 30 * S, DS_ATK_SYNACK);    /* one every 30 s: 2 per 60 s */
    feed(d, &g, 8, 1000 * S, 30, 15 * S, DS_ATK_SYNACK);    /* one every 15 s: 4 per 60 s */
    assert_int_equal(ds_dos_expire(d, UINT64_MAX, collect, &g), 0);
    assert_int_equal(g.n, 1);
    assert_int_equal(ds_ip_v4(&g.a[0].victim), 8);
    ds_dos_free(d);
}

/* Issue #20: an amplifier that answers one spoofed SYN hundreds of times, with the same sequence
 * number, to one dark address (StopDDoS's capture: 396 and 136 SYN-ACKs) is not a DoS victim:
 * the victim of a flood answers many spoofed packets, and its answers spread over the darknet. */
static void test_retransmissions_are_one_answer(void **state)
{
    (void)state;
    ds_dos *d = ds_dos_new(256);
    got g = { 0 };
    for (int i = 0; i < 396; i++) {   /* 396 copies over 14 minutes, the 75.136.225.254 of the capture */
        ds_pkt p = answer(0x4b88e1fe, 1000 * S + (uint64_t)i * 2 * S, DS_ATK_SYNACK);
        p.tcp_seq = 4204836745u;
        p.tcp_ack = 12345;
        assert_int_equal(ds_dos_packet(d, 0, 19000, &p, collect, &g), 0);
    }
    /* four distinct answers, each retransmitted: still fewer than 5 answers */
    for (int i = 0; i < 100; i++) {
        ds_pkt p = answer(0x01010101, 1000 * S + (uint64_t)i * S, DS_ATK_SYNACK);
        p.tcp_seq = (uint32_t)(i % 4);
        assert_int_equal(ds_dos_packet(d, 0, 19000, &p, collect, &g), 0);
    }
    assert_int_equal(ds_dos_expire(d, UINT64_MAX, collect, &g), 0);
    assert_int_equal(g.n, 0);

    /* the same sequence number at five dark addresses: five answers (a victim answering one
     * spoofed source port again and again, to random addresses) */
    for (int i = 0; i < 100; i++) {
        ds_pkt p = answer(0x02020202, 5000 * S + (uint64_t)i * S, DS_ATK_SYNACK);
        p.tcp_seq = 77;
        ds_ip_set4(&p.dst, 0xc6336400u + (uint32_t)(i % 5));
        assert_int_equal(ds_dos_packet(d, 0, 19000, &p, collect, &g), 0);
    }
    /* one dark address, distinct sequence numbers: a victim seen by a one-address telescope */
    feed(d, &g, 0x03030303, 5000 * S, 100, S, DS_ATK_SYNACK);
    assert_int_equal(ds_dos_expire(d, UINT64_MAX, collect, &g), 0);
    assert_int_equal(g.n, 2);
    for (int i = 0; i < 2; i++)
        assert_true(g.a[i].responses >= DS_DOS_MIN_RESPONSES);
    ds_dos_free(d);
}

static void test_timeout_splits(void **state)
{
    (void)state;
    ds_dos *d = ds_dos_new(512);
    got g = { 0 };
    feed(d, &g, 9, 1000 * S, 50, 2 * S, DS_ATK_SYNACK);    /* 1000 .. 1098 s */
    feed(d, &g, 9, 1398 * S, 50, 2 * S, DS_ATK_SYNACK);    /* 300 s later: the same vector */
    feed(d, &g, 9, 1800 * S, 50, 2 * S, DS_ATK_SYNACK);    /* 302 s later: a new one */
    assert_int_equal(g.n, 1);   /* the first ended when the third began */
    assert_int_equal(g.a[0].packets, 100);
    assert_int_equal(g.a[0].end_ns, 1496 * S);
    assert_int_equal(ds_dos_expire(d, UINT64_MAX, collect, &g), 0);
    assert_int_equal(g.n, 2);
    assert_int_equal(g.a[1].start_ns, 1800 * S);
    /* many victims at once: the table grows and still finds each */
    for (uint32_t v = 100; v < 2100; v++)
        feed(d, &g, v, 5000 * S, 2, S, DS_ATK_RST);
    assert_int_equal(ds_dos_expire(d, UINT64_MAX, collect, &g), 0);
    assert_int_equal(g.n, 2);   /* 2 packets each: none passes */
    ds_dos_free(d);
}

/* The hourly expiry deletes in place (Algorithm R): with thousands of victims in one table,
 * half of them expired between their packets and half still going, every expired vector is
 * reported once, and every live one is still found by its later packets (a broken probe chain
 * would start a second vector and report the attack in two pieces). */
typedef struct per_victim { int reports[3000]; uint64_t packets[3000], start[3000]; } per_victim;

static int collect_victim(void *ctx, const ds_attack *a)
{
    per_victim *pv = ctx;
    uint32_t v = ds_ip_v4(&a->victim) - 0x01000000u;
    assert_true(v < 3000);
    pv->reports[v]++;
    pv->packets[v] += a->packets;
    pv->start[v] = a->start_ns;
    return 0;
}

static void test_expire_in_place(void **state)
{
    (void)state;
    static per_victim pv;
    memset(&pv, 0, sizeof pv);
    ds_dos *d = ds_dos_new(512);
    /* packets 2 s apart for 80 s, round robin over the victims, three rounds for the odd ones */
    for (int round = 0; round < 3; round++) {
        if (round == 2)   /* the even ones ended at 1078 s: gone at 1379 s, the odd ones kept */
            assert_int_equal(ds_dos_expire(d, 1379 * S, collect_victim, &pv), 0);
        for (int i = 0; i < 40; i++)
            for (uint32_t v = round ? 1 : 0; v < 3000; v += round ? 2 : 1) {
                uint64_t t = (1000 + 200 * (uint64_t)round + 2 * (uint64_t)i) * S;
                ds_pkt p = answer_n(0x01000000u + v, t, DS_ATK_SYNACK, i + 40 * round);
                assert_int_equal(ds_dos_packet(d, 0, 19000, &p, collect_victim, &pv), 0);
            }
    }
    for (uint32_t v = 0; v < 3000; v += 2)
        assert_int_equal(pv.reports[v], 1);
    assert_int_equal(ds_dos_expire(d, UINT64_MAX, collect_victim, &pv), 0);
    for (uint32_t v = 0; v < 3000; v++) {
        assert_int_equal(pv.reports[v], 1);
        assert_true(pv.packets[v] == (v & 1 ? 120u : 40u));
        assert_true(pv.start[v] == 1000 * S);
    }
    ds_dos_free(d);
}

typedef struct rec { int n; ds_attack a; int32_t day; } rec;

static ds_rc sink(void *ctx, int sensor, int32_t day, ds_chunk_kind kind, const uint8_t *data, size_t nrec, ds_err *err)
{
    rec *r = ctx;
    if (kind != DS_CHUNK_ATTACKS)
        return DS_OK;
    for (size_t i = 0; i < nrec; i++) {
        ds_rec_attack_get(data + i * DS_REC_ATTACK, &r->a);
        r->day = day;
        r->n++;
    }
    return DS_OK;
}

static void test_through_aggregator(void **state)
{
    (void)state;
    ds_agg_conf conf = { .nsensors = 1, .telescope_v4 = 256 };
    ds_agg *a = ds_agg_new(&conf);
    assert_non_null(a);
    uint64_t t0 = (uint64_t)19000 * 86400 * S + 3600 * S;
    for (int i = 0; i < 30; i++) {
        ds_pkt p = answer_n(0x05060708, t0 + (uint64_t)i * 5 * S, DS_ATK_SYNACK, i);
        assert_int_equal(ds_agg_packet(a, 0, 19000, 3, &p, ds_service_of(&p), ds_class_of(&p)), DS_OK);
    }
    rec r = { 0 };
    ds_err err = { 0 };
    assert_int_equal(ds_agg_emit(a, sink, &r, &err), DS_OK);
    assert_int_equal(r.n, 1);
    assert_int_equal(r.day, 19000);
    assert_int_equal(ds_ip_v4(&r.a.victim), 0x05060708);
    assert_int_equal(r.a.packets, 30);
    assert_int_equal(r.a.start_ns, t0);
    assert_int_equal(r.a.end_ns, t0 + 145 * S);
    assert_int_equal(r.a.kind_packets[DS_ATK_SYNACK], 30);
    assert_int_equal(r.a.responses, 30);   /* kept in the record */
    ds_agg_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_victims),
        cmocka_unit_test(test_thresholds),
        cmocka_unit_test(test_rate_floor),
        cmocka_unit_test(test_retransmissions_are_one_answer),
        cmocka_unit_test(test_timeout_splits),
        cmocka_unit_test(test_expire_in_place),
        cmocka_unit_test(test_through_aggregator),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
