/* test_agg.c: the per-thread aggregation tables (src/core/agg.c).
 *
 * Packets are built by hand (no decoder), fed to ds_agg_packet, and the emitted chunks are
 * decoded with core/records.h and checked against counts the test keeps itself: packets per
 * (sensor, day, service, class), sources per day, the SOURCES and DSTMAP records, the hourly
 * records.  The same stream through two aggs and ds_agg_merge must give the same totals as
 * one agg, a stream over days far apart must retire each day correctly (a late packet for an
 * old day still counts), and a stress case of 1 M packets from 200 k sources over 3 days is
 * checked against a plain reference computed here.  Backscatter to random ports makes the
 * (source, service, class) log of a day (core/svclog.h) reduce itself in place while the day
 * runs; its records are checked key by key against a sorted reference.
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

#include "core/agg.h"
#include "core/classify.h"
#include "core/records.h"

#define NS_PER_S 1000000000ULL
#define DAY0 19539            /* 2023-07-01 */

/* ---- packets ------------------------------------------------------------------------- */

static ds_pkt pkt4(uint32_t src, uint32_t dst, uint64_t ts_ns, uint8_t proto, uint16_t dport, uint8_t flags_or_type)
{
    ds_pkt p;
    memset(&p, 0, sizeof p);
    p.ts_ns = ts_ns;
    p.have = DS_HAVE_IP | DS_HAVE_L4;
    ds_ip_set4(&p.src, src);
    ds_ip_set4(&p.dst, dst);
    p.proto = proto;
    p.ttl = 64;
    if (proto == DS_PROTO_TCP || proto == DS_PROTO_UDP) {
        p.sport = 40000;
        p.dport = dport;
        p.tcp_flags = proto == DS_PROTO_TCP ? flags_or_type : 0;
    } else {
        p.icmp_type = flags_or_type;
    }
    return p;
}

/* Feed one packet classified as the pipeline does. */
static void feed(ds_agg *a, int sensor, int32_t day, uint32_t dst_index, const ds_pkt *p)
{
    ds_rc rc = ds_agg_packet(a, sensor, day, dst_index, p, ds_service_of(p), ds_class_of(p));
    assert_int_equal(rc, DS_OK);
}

/* Country and ASN from the address, so the test knows what to expect. */
static void geo_fn(void *ctx, const ds_ip *ip, char cc[2], uint32_t *asn)
{
    int *calls = ctx;
    if (calls)
        (*calls)++;
    uint8_t last = ip->b[ip->v6 ? 15 : 3];
    cc[0] = (char)('A' + last % 3);
    cc[1] = ip->v6 ? '6' : 'X';
    *asn = 64500u + last % 5u;
}

/* ---- a sink that decodes every record ---------------------------------------------------- */

typedef struct rec_h { int sensor; int32_t day; ds_rec_hourly r; } rec_h;
typedef struct rec_s { int sensor; int32_t day; ds_rec_srcsvc r; } rec_s;
typedef struct rec_o { int sensor; int32_t day; ds_rec_source r; } rec_o;
typedef struct rec_d { int sensor; int32_t day; ds_rec_dstmap r; } rec_d;

typedef struct coll {
    rec_h *h; size_t nh, caph;
    rec_s *s; size_t ns, caps;
    rec_o *o; size_t no, capo;
    rec_d *d; size_t nd, capd;
    size_t chunks;
} coll;

static void *grow(void *p, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return p;
    size_t c = *cap ? *cap : 64;
    while (c < need)
        c *= 2;
    void *n = realloc(p, c * size);
    assert_non_null(n);
    *cap = c;
    return n;
}

static ds_rc sink(void *ctx, int sensor, int32_t day, ds_chunk_kind kind, const uint8_t *data, size_t nrec, ds_err *err)
{
    coll *c = ctx;
    (void)err;
    c->chunks++;
    assert_true(nrec > 0);
    for (size_t i = 0; i < nrec; i++) {
        switch (kind) {
        case DS_CHUNK_HOURLY:
            c->h = grow(c->h, &c->caph, c->nh + 1, sizeof *c->h);
            c->h[c->nh] = (rec_h){ sensor, day, { 0 } };
            ds_rec_hourly_get(data + i * DS_REC_HOURLY, &c->h[c->nh++].r);
            break;
        case DS_CHUNK_SRCSVC:
            c->s = grow(c->s, &c->caps, c->ns + 1, sizeof *c->s);
            c->s[c->ns] = (rec_s){ sensor, day, { 0 } };
            ds_rec_srcsvc_get(data + i * DS_REC_SRCSVC, &c->s[c->ns++].r);
            break;
        case DS_CHUNK_SOURCES:
            c->o = grow(c->o, &c->capo, c->no + 1, sizeof *c->o);
            c->o[c->no] = (rec_o){ sensor, day, { { { 0 }, 0 }, { 0 }, 0, 0, 0, 0, 0, 0, 0, 0 } };
            ds_rec_source_get(data + i * DS_REC_SOURCES, &c->o[c->no++].r);
            break;
        case DS_CHUNK_DSTMAP:
            c->d = grow(c->d, &c->capd, c->nd + 1, sizeof *c->d);
            c->d[c->nd] = (rec_d){ sensor, day, { 0, { 0 } } };
            ds_rec_dstmap_get(data + i * DS_REC_DSTMAP, &c->d[c->nd++].r);
            break;
        case DS_CHUNK_ATTACKS:
        case DS_CHUNK_SCANS:   /* detector records: test_dos.c, test_scan.c and test_flood.c */
        case DS_CHUNK_FLOODS:
            break;
        default:
            fail_msg("unknown chunk kind %d", (int)kind);
        }
    }
    return DS_OK;
}

static void emit(ds_agg *a, coll *c)
{
    memset(c, 0, sizeof *c);
    ds_err err = { 0 };
    ds_rc rc = ds_agg_emit(a, sink, c, &err);
    if (rc != DS_OK)
        fail_msg("emit: %s", err.msg);
}

static void coll_free(coll *c)
{
    free(c->h);
    free(c->s);
    free(c->o);
    free(c->d);
    memset(c, 0, sizeof *c);
}

/* Sums over the collected records. */
static uint64_t srcsvc_packets(const coll *c, int sensor, int32_t day, ds_service svc, int cls)
{
    uint64_t n = 0;
    for (size_t i = 0; i < c->ns; i++)
        if (c->s[i].sensor == sensor && c->s[i].day == day && c->s[i].r.service == svc && c->s[i].r.cls == cls)
            n += c->s[i].r.packets;
    return n;
}

static uint64_t hourly_packets(const coll *c, int sensor, int32_t day, uint32_t hour, ds_service svc, int cls)
{
    uint64_t n = 0;
    for (size_t i = 0; i < c->nh; i++)
        if (c->h[i].sensor == sensor && c->h[i].day == day && c->h[i].r.hour == hour &&
            c->h[i].r.dim == DS_HOURLY_SERVICE && c->h[i].r.key == svc && c->h[i].r.cls == cls)
            n += c->h[i].r.packets;
    return n;
}

/* The (merged) SOURCES view of one source on one day: sums and unions over its records. */
typedef struct srcview { int found; uint64_t packets, first, last; uint8_t mask; uint32_t services; char cc[2]; uint32_t asn; } srcview;

static srcview source_of(const coll *c, int sensor, int32_t day, const ds_ip *ip)
{
    srcview v = { 0 };
    for (size_t i = 0; i < c->no; i++) {
        const rec_o *o = &c->o[i];
        if (o->sensor != sensor || o->day != day || !ds_ip_eq(&o->r.ip, ip))
            continue;
        if (!v.found || o->r.first_ns < v.first)
            v.first = o->r.first_ns;
        if (o->r.last_ns > v.last)
            v.last = o->r.last_ns;
        v.found++;
        v.packets += o->r.packets;
        v.mask |= o->r.class_mask;
        v.services = o->r.services;
        v.cc[0] = o->r.cc[0];
        v.cc[1] = o->r.cc[1];
        v.asn = o->r.asn;
    }
    return v;
}

static void dstmap_of(const coll *c, int sensor, int32_t day, uint64_t key, uint8_t bits[DS_DSTMAP_BYTES])
{
    memset(bits, 0, DS_DSTMAP_BYTES);
    for (size_t i = 0; i < c->no; i++)   /* a single destination is in SOURCES.dst1 */
        if (c->o[i].sensor == sensor && c->o[i].day == day && ds_src_key(&c->o[i].r.ip) == key && c->o[i].r.dst1) {
            uint32_t b = c->o[i].r.dst1 - 1;
            assert_true(b < DS_DSTMAP_BYTES * 8);
            bits[b / 8] |= (uint8_t)(1u << (b % 8));
        }
    for (size_t i = 0; i < c->nd; i++)
        if (c->d[i].sensor == sensor && c->d[i].day == day && c->d[i].r.src == key)
            for (int b = 0; b < DS_DSTMAP_BYTES; b++)
                bits[b] |= c->d[i].r.bits[b];
}

static ds_agg *new_agg(size_t nsensors, const uint8_t *exact, int *geo_calls)
{
    ds_agg_conf conf = { .nsensors = nsensors, .exact_dst = exact, .geo = geo_fn, .geo_ctx = geo_calls };
    ds_agg *a = ds_agg_new(&conf);
    assert_non_null(a);
    return a;
}

/* ---- small, fully checked stream ------------------------------------------------------- */

static void test_basic_records(void **state)
{
    (void)state;
    const uint8_t exact[2] = { 1, 0 };   /* sensor 0: 256 addresses, exact map; sensor 1: hashed */
    int geo_calls = 0;
    ds_agg *a = new_agg(2, exact, &geo_calls);
    const uint64_t t0 = (uint64_t)DAY0 * 86400 * NS_PER_S;   /* 2023-07-01 00:00 UTC */
    const uint32_t hour0 = DAY0 * 24;
    const uint32_t S1 = 0xc6336407, S2 = 0xc633640a, S3 = 0x08080808;   /* 198.51.100.7, .10, 8.8.8.8 */
    const uint32_t D = 0xcb007100;                                      /* 203.0.113.0 = sensor 0's address 0 */

    /* S1: 3 SYNs to 23/tcp (dst .1 .2 .3), 1 SYN to 2323/tcp (.3), 1 UDP to 53 (.200), 1 SYN-ACK
     *     from 80 (backscatter, dport 40000 -> service 40000/tcp) at .5, in hours 0 and 1 */
    ds_pkt p;
    p = pkt4(S1, D + 1, t0 + 10 * NS_PER_S, DS_PROTO_TCP, 23, DS_TH_SYN);           feed(a, 0, DAY0, 1, &p);
    p = pkt4(S1, D + 2, t0 + 20 * NS_PER_S, DS_PROTO_TCP, 23, DS_TH_SYN);           feed(a, 0, DAY0, 2, &p);
    p = pkt4(S1, D + 3, t0 + 3700 * NS_PER_S, DS_PROTO_TCP, 23, DS_TH_SYN);         feed(a, 0, DAY0, 3, &p);
    p = pkt4(S1, D + 3, t0 + 3701 * NS_PER_S, DS_PROTO_TCP, 2323, DS_TH_SYN);       feed(a, 0, DAY0, 3, &p);
    p = pkt4(S1, D + 200, t0 + 3702 * NS_PER_S, DS_PROTO_UDP, 53, 0);               feed(a, 0, DAY0, 200, &p);
    p = pkt4(S1, D + 5, t0 + 3703 * NS_PER_S, DS_PROTO_TCP, 40000, DS_TH_SYN | DS_TH_ACK); feed(a, 0, DAY0, 5, &p);
    /* S2: ICMP echo request and an RST to 23 (backscatter on the same service as a scan) */
    p = pkt4(S2, D + 255, t0 + 30 * NS_PER_S, DS_PROTO_ICMP, 0, 8);                 feed(a, 0, DAY0, 255, &p);
    p = pkt4(S2, D + 255, t0 + 40 * NS_PER_S, DS_PROTO_TCP, 23, DS_TH_RST);         feed(a, 0, DAY0, 255, &p);
    /* S3 to sensor 1 (hashed map): 100 distinct destinations of 10.0.0.0/8, 23/tcp */
    for (uint32_t i = 0; i < 100; i++) {
        p = pkt4(S3, 0x0a000000u + i * 977u, t0 + (50 + i) * NS_PER_S, DS_PROTO_TCP, 23, DS_TH_SYN);
        feed(a, 1, DAY0, 12345, &p);
    }
    /* S1 also to sensor 1: a separate (sensor, source) entry */
    p = pkt4(S1, 0x0a000001u, t0 + 200 * NS_PER_S, DS_PROTO_TCP, 445, DS_TH_SYN);   feed(a, 1, DAY0, 0, &p);
    /* an IPv6 source to sensor 1 */
    ds_pkt p6 = pkt4(0, 0, t0 + 300 * NS_PER_S, DS_PROTO_ICMP6, 0, 128);
    ds_ip_parse("2001:db8::5", &p6.src);
    ds_ip_parse("2001:db8:ffff::1", &p6.dst);
    feed(a, 1, DAY0, 0, &p6);
    feed(a, 1, DAY0, 0, &p6);

    /* geo is asked once per (sensor, day, source) */
    assert_int_equal(geo_calls, 5);
    assert_int_equal(ds_agg_counts_of(a, 0)->packets, 8);
    assert_int_equal(ds_agg_counts_of(a, 1)->packets, 103);
    assert_int_equal(ds_agg_counts_of(a, 0)->first_ns, t0 + 10 * NS_PER_S);
    assert_int_equal(ds_agg_counts_of(a, 0)->last_ns, t0 + 3703 * NS_PER_S);
    assert_true(ds_agg_memory(a) > 0);

    coll c;
    emit(a, &c);
    const ds_service T23 = DS_SERVICE(DS_PROTO_TCP, 23), T2323 = DS_SERVICE(DS_PROTO_TCP, 2323),
                     U53 = DS_SERVICE(DS_PROTO_UDP, 53), T40000 = DS_SERVICE(DS_PROTO_TCP, 40000),
                     I8 = DS_SERVICE(DS_PROTO_ICMP, 8), T445 = DS_SERVICE(DS_PROTO_TCP, 445),
                     I6 = DS_SERVICE(DS_PROTO_ICMP6, 128);
    /* packets per (sensor, day, service, class) */
    assert_int_equal(srcsvc_packets(&c, 0, DAY0, T23, DS_CLASS_SCAN), 3);
    assert_int_equal(srcsvc_packets(&c, 0, DAY0, T23, DS_CLASS_BACKSCATTER), 1);
    assert_int_equal(srcsvc_packets(&c, 0, DAY0, T2323, DS_CLASS_SCAN), 1);
    assert_int_equal(srcsvc_packets(&c, 0, DAY0, U53, DS_CLASS_SCAN), 1);
    assert_int_equal(srcsvc_packets(&c, 0, DAY0, T40000, DS_CLASS_BACKSCATTER), 1);
    assert_int_equal(srcsvc_packets(&c, 0, DAY0, I8, DS_CLASS_SCAN), 1);
    assert_int_equal(srcsvc_packets(&c, 1, DAY0, T23, DS_CLASS_SCAN), 100);
    assert_int_equal(srcsvc_packets(&c, 1, DAY0, T445, DS_CLASS_SCAN), 1);
    assert_int_equal(srcsvc_packets(&c, 1, DAY0, I6, DS_CLASS_SCAN), 2);
    uint64_t total = 0;
    for (size_t i = 0; i < c.ns; i++) {
        total += c.s[i].r.packets;
        assert_int_equal(c.s[i].day, DAY0);
        /* SRCSVC carries the source's country and ASN */
        uint8_t last = (uint8_t)c.s[i].r.src;
        if (!(c.s[i].r.src >> 63)) {
            assert_int_equal(c.s[i].r.cc[0], 'A' + last % 3);
            assert_int_equal(c.s[i].r.asn, 64500u + last % 5u);
        }
    }
    assert_int_equal(total, 111);

    /* SOURCES */
    assert_int_equal(c.no, 5);   /* S1, S2 on sensor 0; S3, S1, v6 on sensor 1 */
    size_t multi = 0;   /* DSTMAP records exist only for sources with more than one destination */
    for (size_t i = 0; i < c.no; i++)
        multi += c.o[i].r.dst1 == 0;
    assert_int_equal(c.nd, multi);
    assert_true(multi >= 2 && multi < c.no);
    ds_ip ip;
    ds_ip_set4(&ip, S1);
    srcview v = source_of(&c, 0, DAY0, &ip);
    assert_int_equal(v.found, 1);
    assert_int_equal(v.packets, 6);
    assert_int_equal(v.first, t0 + 10 * NS_PER_S);
    assert_int_equal(v.last, t0 + 3703 * NS_PER_S);
    assert_int_equal(v.mask, (1u << DS_CLASS_SCAN) | (1u << DS_CLASS_BACKSCATTER));
    assert_int_equal(v.services, 4);    /* 23/tcp, 2323/tcp, 53/udp, 40000/tcp */
    assert_int_equal(v.cc[0], 'A' + 7 % 3);
    assert_int_equal(v.cc[1], 'X');
    assert_int_equal(v.asn, 64500 + 7 % 5);
    v = source_of(&c, 1, DAY0, &ip);
    assert_int_equal(v.packets, 1);
    assert_int_equal(v.services, 1);
    ds_ip_set4(&ip, S2);
    v = source_of(&c, 0, DAY0, &ip);
    assert_int_equal(v.packets, 2);
    assert_int_equal(v.mask, (1u << DS_CLASS_SCAN) | (1u << DS_CLASS_BACKSCATTER));
    assert_int_equal(v.services, 2);    /* 8/icmp, 23/tcp (scan and backscatter on 23 count once) */
    v = source_of(&c, 1, DAY0, &p6.src);
    assert_int_equal(v.packets, 2);
    assert_int_equal(v.cc[1], '6');
    assert_int_equal(v.mask, 1u << DS_CLASS_SCAN);

    /* DSTMAP: exact for sensor 0 */
    uint8_t bits[DS_DSTMAP_BYTES];
    dstmap_of(&c, 0, DAY0, S1, bits);
    uint8_t want[DS_DSTMAP_BYTES] = { 0 };
    const unsigned hit[] = { 1, 2, 3, 200, 5 };
    for (size_t i = 0; i < 5; i++)
        want[hit[i] / 8] |= (uint8_t)(1u << (hit[i] % 8));
    assert_memory_equal(bits, want, DS_DSTMAP_BYTES);
    assert_true(ds_dstmap_count(bits, 1) == 5.0);
    dstmap_of(&c, 0, DAY0, S2, bits);
    memset(want, 0, sizeof want);
    want[255 / 8] = (uint8_t)(1u << (255 % 8));
    assert_memory_equal(bits, want, DS_DSTMAP_BYTES);
    assert_true(ds_dstmap_count(bits, 1) == 1.0);
    /* hashed for sensor 1: 100 destinations, linear counting within 15% */
    dstmap_of(&c, 1, DAY0, S3, bits);
    double est = ds_dstmap_count(bits, 0);
    if (est < 85 || est > 115)
        fail_msg("estimate of 100 destinations: %.1f", est);
    /* IPv6 source keys have bit 63 set */
    dstmap_of(&c, 1, DAY0, ds_src_key(&p6.src), bits);
    assert_true(ds_dstmap_count(bits, 0) >= 1.0);
    assert_true(ds_src_key(&p6.src) >> 63);

    /* HOURLY */
    assert_int_equal(hourly_packets(&c, 0, DAY0, hour0, T23, DS_CLASS_SCAN), 2);
    assert_int_equal(hourly_packets(&c, 0, DAY0, hour0 + 1, T23, DS_CLASS_SCAN), 1);
    assert_int_equal(hourly_packets(&c, 0, DAY0, hour0 + 1, T2323, DS_CLASS_SCAN), 1);
    assert_int_equal(hourly_packets(&c, 0, DAY0, hour0, T23, DS_CLASS_BACKSCATTER), 1);
    assert_int_equal(hourly_packets(&c, 1, DAY0, hour0, T23, DS_CLASS_SCAN), 100);
    /* every packet once per dimension; countries as the geo callback gave them */
    uint64_t htotal[2] = { 0, 0 };
    for (size_t i = 0; i < c.nh; i++) {
        assert_true(c.h[i].r.dim <= DS_HOURLY_COUNTRY);
        htotal[c.h[i].r.dim] += c.h[i].r.packets;
        if (c.h[i].r.dim == DS_HOURLY_COUNTRY) {
            char cc[3];
            ds_cc_unpack((uint16_t)c.h[i].r.key, cc);
            assert_true(cc[1] == '6' || cc[1] == 'X');
        }
    }
    assert_int_equal(htotal[0], 111);
    assert_int_equal(htotal[1], 111);

    /* emit again: the same records (emit finishes, it does not consume) */
    coll c2;
    emit(a, &c2);
    assert_int_equal(c2.ns, c.ns);
    assert_int_equal(c2.no, c.no);
    assert_int_equal(c2.nh, c.nh);
    coll_free(&c2);
    coll_free(&c);
    ds_agg_free(a);
}

/* Without a geo function every source is ZZ / AS0. */
static void test_no_geo(void **state)
{
    (void)state;
    ds_agg_conf conf = { .nsensors = 1 };
    ds_agg *a = ds_agg_new(&conf);
    assert_non_null(a);
    ds_pkt p = pkt4(0x01020304, 0x0a000001, (uint64_t)DAY0 * 86400 * NS_PER_S, DS_PROTO_UDP, 161, 0);
    feed(a, 0, DAY0, 7, &p);
    coll c;
    emit(a, &c);
    assert_int_equal(c.no, 1);
    assert_int_equal(c.o[0].r.cc[0], 'Z');
    assert_int_equal(c.o[0].r.cc[1], 'Z');
    assert_int_equal(c.o[0].r.asn, 0);
    assert_int_equal(c.s[0].r.cc[0], 'Z');
    for (size_t i = 0; i < c.nh; i++)
        if (c.h[i].r.dim == DS_HOURLY_COUNTRY)
            assert_int_equal(c.h[i].r.key, ds_cc_pack("ZZ"));
    coll_free(&c);
    ds_agg_free(a);
}

/* ---- a generated stream, summarised ------------------------------------------------------ */

#define NSVC 12
static const struct { uint8_t proto; uint16_t port; uint8_t flags; } SVC[NSVC] = {
    { DS_PROTO_TCP, 23, DS_TH_SYN },   { DS_PROTO_TCP, 22, DS_TH_SYN },    { DS_PROTO_TCP, 445, DS_TH_SYN },
    { DS_PROTO_TCP, 80, DS_TH_SYN | DS_TH_ACK }, { DS_PROTO_TCP, 80, DS_TH_RST }, { DS_PROTO_TCP, 8080, DS_TH_ACK },
    { DS_PROTO_UDP, 53, 0 },           { DS_PROTO_UDP, 123, 0 },           { DS_PROTO_ICMP, 0, 8 },
    { DS_PROTO_ICMP, 0, 0 },           { DS_PROTO_ICMP, 0, 3 },            { DS_PROTO_TCP, 23, DS_TH_RST },
};

typedef struct gen {
    uint32_t nsrc;      /* sources are 10.(i) ... : 0x0b000000 + i */
    uint64_t npkt;
    int ndays;
    uint64_t t0_ns, step_ns;
} gen;

static uint64_t rnd(uint64_t i)
{
    uint64_t x = i * 0x9e3779b97f4a7c15ULL + 0x1234567ULL;
    x ^= x >> 31;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 29;
    return x;
}

/* Packet i of the stream, its sensor-relative destination index and its day. */
static ds_pkt gen_pkt(const gen *g, uint64_t i, uint32_t *dst_index, int32_t *day, uint32_t *src_idx)
{
    uint64_t r = rnd(i);
    uint32_t s = (uint32_t)(r % g->nsrc);
    const int k = (int)((r >> 32) % NSVC);
    uint32_t d = (uint32_t)((r >> 40) & 511);
    uint64_t ts = g->t0_ns + i * g->step_ns;
    ds_pkt p = pkt4(0x0b000000u + s, 0xcb007000u + d, ts, SVC[k].proto, SVC[k].port, SVC[k].flags);
    *dst_index = d;
    *day = (int32_t)(ts / NS_PER_S / 86400);
    *src_idx = s;
    return p;
}

static int svc_index(ds_service s, int cls)
{
    static ds_service svc_of[NSVC];
    static int cls_of[NSVC], ready;
    if (!ready) {
        for (int k = 0; k < NSVC; k++) {
            ds_pkt p = pkt4(0, 0, 0, SVC[k].proto, SVC[k].port, SVC[k].flags);
            svc_of[k] = ds_service_of(&p);
            cls_of[k] = (int)ds_class_of(&p);
        }
        ready = 1;
    }
    for (int k = 0; k < NSVC; k++)   /* 80/tcp SYN-ACK and RST share a key: the first wins */
        if (svc_of[k] == s && cls_of[k] == cls)
            return k;
    return -1;
}

/* Totals from the records (summary of an emit) or from the stream (reference). */
typedef struct summary {
    int ndays;
    uint32_t nsrc;
    int32_t day0;
    uint32_t hour0;
    uint64_t svc[8][NSVC];     /* [day][service+class] */
    uint64_t hours[8 * 24], hours_cc[8 * 24];
    uint64_t nsources[8];      /* distinct sources per day */
    uint32_t *pk_srcsvc;       /* [day * nsrc + src] */
    uint32_t *pk_sources;
    uint8_t *mask;
    uint64_t *dst;             /* [day * nsrc + src]: OR of the first 64 map bits */
    uint64_t total;
} summary;

static void sum_init(summary *m, const gen *g)
{
    memset(m, 0, sizeof *m);
    m->ndays = g->ndays;
    m->nsrc = g->nsrc;
    m->day0 = (int32_t)(g->t0_ns / NS_PER_S / 86400);
    m->hour0 = (uint32_t)(g->t0_ns / NS_PER_S / 3600);
    size_t n = (size_t)g->ndays * g->nsrc;
    m->pk_srcsvc = calloc(n, sizeof *m->pk_srcsvc);
    m->pk_sources = calloc(n, sizeof *m->pk_sources);
    m->mask = calloc(n, 1);
    m->dst = calloc(n, sizeof *m->dst);
    assert_true(m->pk_srcsvc && m->pk_sources && m->mask && m->dst);
}

static void sum_free(summary *m)
{
    free(m->pk_srcsvc);
    free(m->pk_sources);
    free(m->mask);
    free(m->dst);
}

static size_t sum_at(const summary *m, int32_t day, uint64_t srckey)
{
    int d = day - m->day0;
    assert_true(d >= 0 && d < m->ndays);
    assert_true(srckey >= 0x0b000000u && srckey < 0x0b000000u + m->nsrc);
    return (size_t)d * m->nsrc + (size_t)(srckey - 0x0b000000u);
}

static void sum_reference(summary *m, const gen *g)
{
    sum_init(m, g);
    for (uint64_t i = 0; i < g->npkt; i++) {
        uint32_t di, s;
        int32_t day;
        ds_pkt p = gen_pkt(g, i, &di, &day, &s);
        int d = day - m->day0;
        int k = svc_index(ds_service_of(&p), (int)ds_class_of(&p));
        m->svc[d][k]++;
        m->hours[p.ts_ns / NS_PER_S / 3600 - m->hour0]++;
        m->hours_cc[p.ts_ns / NS_PER_S / 3600 - m->hour0]++;
        size_t at = (size_t)d * m->nsrc + s;
        if (!m->pk_sources[at])
            m->nsources[d]++;
        m->pk_srcsvc[at]++;
        m->pk_sources[at]++;
        m->mask[at] |= (uint8_t)(1u << ds_class_of(&p));
        if (di < 64)
            m->dst[at] |= 1ULL << di;
        m->total++;
    }
}

/* Sink that adds each chunk's records to a summary, so that the 1 M-packet case does not keep
 * every record. */
typedef struct sum_ctx { summary *m; const gen *g; } sum_ctx;

static ds_rc sum_sink(void *ctx, int sensor, int32_t day, ds_chunk_kind kind, const uint8_t *data, size_t nrec,
                      ds_err *err)
{
    sum_ctx *x = ctx;
    summary *m = x->m;
    const gen *g = x->g;
    (void)err;
    assert_int_equal(sensor, 0);
    assert_true(nrec > 0);
    for (size_t i = 0; i < nrec; i++) {
        if (kind == DS_CHUNK_SRCSVC) {
            ds_rec_srcsvc r;
            ds_rec_srcsvc_get(data + i * DS_REC_SRCSVC, &r);
            int k = svc_index(r.service, r.cls);
            assert_true(k >= 0);
            m->svc[day - m->day0][k] += r.packets;
            m->pk_srcsvc[sum_at(m, day, r.src)] += r.packets;
            m->total += r.packets;
        } else if (kind == DS_CHUNK_HOURLY) {
            ds_rec_hourly r;
            ds_rec_hourly_get(data + i * DS_REC_HOURLY, &r);
            uint32_t h = r.hour - m->hour0;
            assert_true(h < (uint32_t)m->ndays * 24);
            assert_int_equal(day, (int32_t)(r.hour / 24));   /* local day = UTC day here */
            if (r.dim == DS_HOURLY_SERVICE)
                m->hours[h] += r.packets;
            else
                m->hours_cc[h] += r.packets;
        } else if (kind == DS_CHUNK_SOURCES) {
            ds_rec_source r;
            ds_rec_source_get(data + i * DS_REC_SOURCES, &r);
            size_t at = sum_at(m, day, ds_src_key(&r.ip));
            if (!m->pk_sources[at])
                m->nsources[day - m->day0]++;
            m->pk_sources[at] += (uint32_t)r.packets;
            m->mask[at] |= r.class_mask;
            if (r.dst1) {   /* the only destination (bits above 63 are not modelled) */
                assert_true(r.dst1 <= DS_DSTMAP_BYTES * 8);
                if (r.dst1 - 1 < 64)
                    m->dst[at] |= 1ULL << (r.dst1 - 1);
            }
            assert_true(r.first_ns <= r.last_ns);
            assert_true(r.first_ns >= g->t0_ns && r.last_ns < g->t0_ns + g->npkt * g->step_ns);
            assert_int_equal(r.first_ns / NS_PER_S / 86400, (uint64_t)day);
        } else if (kind == DS_CHUNK_DSTMAP) {
            ds_rec_dstmap r;
            ds_rec_dstmap_get(data + i * DS_REC_DSTMAP, &r);
            uint64_t lo = 0;
            for (int b = 0; b < 8; b++)
                lo |= (uint64_t)r.bits[b] << (8 * b);
            m->dst[sum_at(m, day, r.src)] |= lo;
        } else {
            fail_msg("unknown chunk kind %d", (int)kind);
        }
    }
    return DS_OK;
}

static void sum_emit(summary *m, const gen *g, ds_agg *a)
{
    sum_init(m, g);
    sum_ctx x = { m, g };
    ds_err err = { 0 };
    ds_rc rc = ds_agg_emit(a, sum_sink, &x, &err);
    if (rc != DS_OK)
        fail_msg("emit: %s", err.msg);
}

static void sum_expect_equal(const summary *got, const summary *want)
{
    assert_int_equal(got->total, want->total);
    for (int d = 0; d < want->ndays; d++) {
        for (int k = 0; k < NSVC; k++)
            if (got->svc[d][k] != want->svc[d][k])
                fail_msg("day +%d service #%d: %llu packets, expected %llu", d, k,
                         (unsigned long long)got->svc[d][k], (unsigned long long)want->svc[d][k]);
        if (got->nsources[d] != want->nsources[d])
            fail_msg("day +%d: %llu sources, expected %llu", d, (unsigned long long)got->nsources[d],
                     (unsigned long long)want->nsources[d]);
    }
    for (int h = 0; h < want->ndays * 24; h++) {
        if (got->hours_cc[h] != want->hours_cc[h])
            fail_msg("hour +%d by country: %llu packets, expected %llu", h, (unsigned long long)got->hours_cc[h],
                     (unsigned long long)want->hours_cc[h]);
        if (got->hours[h] != want->hours[h])
            fail_msg("hour +%d: %llu packets, expected %llu", h, (unsigned long long)got->hours[h],
                     (unsigned long long)want->hours[h]);
    }
    size_t n = (size_t)want->ndays * want->nsrc;
    for (size_t i = 0; i < n; i++) {
        if (got->pk_srcsvc[i] != want->pk_srcsvc[i] || got->pk_sources[i] != want->pk_sources[i] ||
            got->mask[i] != want->mask[i] || got->dst[i] != want->dst[i])
            fail_msg("day +%zu source %zu: srcsvc %u sources %u mask %x dst %llx, expected %u %u %x %llx",
                     i / want->nsrc, i % want->nsrc, got->pk_srcsvc[i], got->pk_sources[i], got->mask[i],
                     (unsigned long long)got->dst[i], want->pk_srcsvc[i], want->pk_sources[i], want->mask[i],
                     (unsigned long long)want->dst[i]);
    }
}

static void run_one(const gen *g, summary *out)
{
    const uint8_t exact[1] = { 1 };
    ds_agg *a = new_agg(1, exact, NULL);
    for (uint64_t i = 0; i < g->npkt; i++) {
        uint32_t di, s;
        int32_t day;
        ds_pkt p = gen_pkt(g, i, &di, &day, &s);
        feed(a, 0, day, di, &p);
    }
    assert_int_equal(ds_agg_counts_of(a, 0)->packets, g->npkt);
    sum_emit(out, g, a);
    ds_agg_free(a);
}

/* split: 0 = alternate packets between the two aggs, 1 = first half / second half */
static void run_two(const gen *g, int split, summary *out)
{
    const uint8_t exact[1] = { 1 };
    ds_agg *a[2] = { new_agg(1, exact, NULL), new_agg(1, exact, NULL) };
    for (uint64_t i = 0; i < g->npkt; i++) {
        uint32_t di, s;
        int32_t day;
        ds_pkt p = gen_pkt(g, i, &di, &day, &s);
        int which = split ? i >= g->npkt / 2 : (int)(i & 1);
        feed(a[which], 0, day, di, &p);
    }
    assert_int_equal(ds_agg_merge(a[0], a[1]), DS_OK);
    ds_agg_free(a[1]);
    assert_int_equal(ds_agg_counts_of(a[0], 0)->packets, g->npkt);
    assert_int_equal(ds_agg_counts_of(a[0], 0)->first_ns, g->t0_ns);
    assert_int_equal(ds_agg_counts_of(a[0], 0)->last_ns, g->t0_ns + (g->npkt - 1) * g->step_ns);
    sum_emit(out, g, a[0]);
    ds_agg_free(a[0]);
}

static void test_merge_equals_single(void **state)
{
    (void)state;
    /* 200 k packets from 20 k sources over 2 days */
    gen g = { 20000, 200000, 2, (uint64_t)DAY0 * 86400 * NS_PER_S, 2 * 86400 * NS_PER_S / 200000 };
    summary ref, one, alt, halves;
    sum_reference(&ref, &g);
    run_one(&g, &one);
    run_two(&g, 0, &alt);
    run_two(&g, 1, &halves);
    sum_expect_equal(&one, &ref);
    sum_expect_equal(&alt, &ref);
    sum_expect_equal(&halves, &ref);
    sum_free(&ref);
    sum_free(&one);
    sum_free(&alt);
    sum_free(&halves);
}

/* The stress case: 1 M packets from 200 k sources over 3 days, in time order. */
static void test_stress_1m(void **state)
{
    (void)state;
    gen g = { 200000, 1000000, 3, (uint64_t)DAY0 * 86400 * NS_PER_S, 3 * 86400 * NS_PER_S / 1000000 };
    summary ref, got;
    sum_reference(&ref, &g);
    run_one(&g, &got);
    sum_expect_equal(&got, &ref);
    /* the stream really spans three days and most sources each day */
    for (int d = 0; d < 3; d++) {
        assert_true(ref.nsources[d] > 150000);
        assert_true(ref.svc[d][0] > 0);
    }
    sum_free(&ref);
    sum_free(&got);
}

/* ---- days far apart, and late packets ----------------------------------------------------- */

static void test_multiday_retire(void **state)
{
    (void)state;
    const uint8_t exact[2] = { 1, 1 };
    ds_agg *a = new_agg(2, exact, NULL);
    static const int32_t days[] = { DAY0, DAY0 + 1, DAY0 + 100, DAY0 + 1000 };
    /* per day: sources 1..(10 * (k + 1)), each 3 packets to 23/tcp spread over the day */
    ds_pkt p;
    for (int k = 0; k < 4; k++) {
        uint64_t base = (uint64_t)days[k] * 86400 * NS_PER_S;
        for (int rep = 0; rep < 3; rep++)
            for (uint32_t s = 1; s <= 10u * (uint32_t)(k + 1); s++) {
                p = pkt4(0x0c000000u + s, 0xcb007101u, base + (uint64_t)(rep * 20000 + s) * NS_PER_S, DS_PROTO_TCP, 23,
                         DS_TH_SYN);
                feed(a, k & 1, days[k], 1, &p);
            }
        if (k == 2) {
            /* late packets for the first day (long retired by now) from a known and a new source */
            p = pkt4(0x0c000001u, 0xcb007102u, (uint64_t)days[0] * 86400 * NS_PER_S + 5 * NS_PER_S, DS_PROTO_UDP, 53, 0);
            feed(a, 0, days[0], 2, &p);
            p = pkt4(0x0c0000ffu, 0xcb007103u, (uint64_t)days[0] * 86400 * NS_PER_S + 6 * NS_PER_S, DS_PROTO_UDP, 53, 0);
            feed(a, 0, days[0], 3, &p);
        }
    }
    /* and one more after the last day has started */
    p = pkt4(0x0c000002u, 0xcb007104u, (uint64_t)days[1] * 86400 * NS_PER_S + 7 * NS_PER_S, DS_PROTO_TCP, 23, DS_TH_SYN);
    feed(a, 1, days[1], 4, &p);

    coll c;
    emit(a, &c);
    const ds_service T23 = DS_SERVICE(DS_PROTO_TCP, 23), U53 = DS_SERVICE(DS_PROTO_UDP, 53);
    assert_int_equal(srcsvc_packets(&c, 0, days[0], T23, DS_CLASS_SCAN), 30);
    assert_int_equal(srcsvc_packets(&c, 0, days[0], U53, DS_CLASS_SCAN), 2);
    assert_int_equal(srcsvc_packets(&c, 1, days[1], T23, DS_CLASS_SCAN), 61);
    assert_int_equal(srcsvc_packets(&c, 0, days[2], T23, DS_CLASS_SCAN), 90);
    assert_int_equal(srcsvc_packets(&c, 1, days[3], T23, DS_CLASS_SCAN), 120);
    /* nothing crossed to another sensor or day */
    assert_int_equal(srcsvc_packets(&c, 1, days[0], T23, DS_CLASS_SCAN), 0);
    assert_int_equal(srcsvc_packets(&c, 0, days[1], T23, DS_CLASS_SCAN), 0);
    uint64_t total = 0;
    for (size_t i = 0; i < c.ns; i++)
        total += c.s[i].r.packets;
    assert_int_equal(total, 30 + 2 + 61 + 90 + 120);

    /* distinct sources per (sensor, day), as a reader takes them: union over records */
    static const struct { int sensor; int k; unsigned n; } want[] = { { 0, 0, 11 }, { 1, 1, 20 }, { 0, 2, 30 }, { 1, 3, 40 } };
    for (size_t w = 0; w < 4; w++) {
        unsigned n = 0;
        for (uint32_t s = 1; s <= 255; s++) {
            ds_ip ip;
            ds_ip_set4(&ip, 0x0c000000u + s);
            n += source_of(&c, want[w].sensor, days[want[w].k], &ip).found > 0;
        }
        assert_int_equal(n, want[w].n);
    }
    /* the late source 12.0.0.1 on day 0: both of its records together */
    ds_ip ip;
    ds_ip_set4(&ip, 0x0c000001u);
    srcview v = source_of(&c, 0, days[0], &ip);
    assert_int_equal(v.packets, 4);
    assert_int_equal(v.first, (uint64_t)days[0] * 86400 * NS_PER_S + 1 * NS_PER_S);
    assert_int_equal(v.mask, 1u << DS_CLASS_SCAN);
    ds_ip_set4(&ip, 0x0c0000ffu);
    v = source_of(&c, 0, days[0], &ip);
    assert_int_equal(v.packets, 1);
    assert_int_equal(v.first, (uint64_t)days[0] * 86400 * NS_PER_S + 6 * NS_PER_S);
    assert_int_equal(v.mask, 1u << DS_CLASS_SCAN);
    uint8_t bits[DS_DSTMAP_BYTES];
    dstmap_of(&c, 0, days[0], 0x0c000001u, bits);
    assert_true(ds_dstmap_count(bits, 1) == 2.0);   /* addresses 1 and 2 */
    /* hourly records carry their own day */
    uint64_t hsum[4] = { 0 };
    for (size_t i = 0; i < c.nh; i++) {
        for (int k = 0; k < 4; k++)
            if (c.h[i].day == days[k] && c.h[i].r.dim == DS_HOURLY_SERVICE) {
                hsum[k] += c.h[i].r.packets;
                assert_int_equal(c.h[i].r.hour / 24, (uint32_t)days[k]);
            }
    }
    assert_int_equal(hsum[0], 32);
    assert_int_equal(hsum[1], 61);
    assert_int_equal(hsum[2], 90);
    assert_int_equal(hsum[3], 120);
    coll_free(&c);
    ds_agg_free(a);
}

/* Many days in a row: each day's records come out once, with the right totals. */
static void test_many_days(void **state)
{
    (void)state;
    ds_agg_conf conf = { .nsensors = 1 };   /* no geo: one hourly key per hour */
    ds_agg *a = ds_agg_new(&conf);
    assert_non_null(a);
    enum { NDAYS = 40, PER_DAY = 500 };
    for (int d = 0; d < NDAYS; d++)
        for (int i = 0; i < PER_DAY; i++) {
            uint64_t ts = ((uint64_t)(DAY0 + d) * 86400 + (uint64_t)i * 170) * NS_PER_S;
            ds_pkt p = pkt4(0x0d000000u + (uint32_t)(i % 50), 0x0a000000u + (uint32_t)i, ts, DS_PROTO_TCP, 23, DS_TH_SYN);
            feed(a, 0, DAY0 + d, 0, &p);
        }
    coll c;
    emit(a, &c);
    uint64_t per_day[NDAYS] = { 0 }, src_day[NDAYS] = { 0 };
    for (size_t i = 0; i < c.ns; i++)
        per_day[c.s[i].day - DAY0] += c.s[i].r.packets;
    for (size_t i = 0; i < c.no; i++)
        src_day[c.o[i].day - DAY0]++;
    for (int d = 0; d < NDAYS; d++) {
        assert_int_equal(per_day[d], PER_DAY);
        assert_int_equal(src_day[d], 50);   /* in time order: one record per source and day */
    }
    assert_int_equal(c.nh, NDAYS * 24 * 2);   /* one per hour for the service, one for the country */
    coll_free(&c);
    ds_agg_free(a);
}

/* Issue #22's day slabs: a source's distinct services counted once across classes whether its
 * srcsvc run is short (compared in place) or long (probed); late packets for many old days at once
 * (more live slabs than spares kept), and a day coming back after its slab was reused. */
static void test_day_slabs(void **state)
{
    (void)state;
    const uint8_t exact[1] = { 1 };
    ds_agg *a = new_agg(1, exact, NULL);
    ds_pkt p;
    uint64_t d10 = (uint64_t)(DAY0 + 10) * 86400 * NS_PER_S;
    for (uint16_t port = 0; port < 40; port++) {   /* 12.0.0.1: 40 ports as scan and as backscatter */
        p = pkt4(0x0c000001u, 0xcb007101u, d10 + port * NS_PER_S, DS_PROTO_TCP, (uint16_t)(1000 + port), DS_TH_SYN);
        feed(a, 0, DAY0 + 10, 1, &p);
        p = pkt4(0x0c000001u, 0xcb007101u, d10 + (100 + port) * NS_PER_S, DS_PROTO_TCP, (uint16_t)(1000 + port),
                 DS_TH_SYN | DS_TH_ACK);
        feed(a, 0, DAY0 + 10, 1, &p);
    }
    for (uint16_t port = 0; port < 5; port++) {    /* 12.0.0.2: 5 ports, both classes, and 2 more as scan */
        p = pkt4(0x0c000002u, 0xcb007101u, d10 + (200 + port) * NS_PER_S, DS_PROTO_TCP, (uint16_t)(80 + port), DS_TH_SYN);
        feed(a, 0, DAY0 + 10, 1, &p);
        p = pkt4(0x0c000002u, 0xcb007101u, d10 + (300 + port) * NS_PER_S, DS_PROTO_TCP, (uint16_t)(80 + port), DS_TH_RST);
        feed(a, 0, DAY0 + 10, 1, &p);
    }
    for (uint16_t port = 0; port < 2; port++) {
        p = pkt4(0x0c000002u, 0xcb007101u, d10 + (400 + port) * NS_PER_S, DS_PROTO_TCP, (uint16_t)(9000 + port), DS_TH_SYN);
        feed(a, 0, DAY0 + 10, 1, &p);
    }
    /* late packets for seven old days, interleaved, then the clock moves on twice */
    for (int rep = 0; rep < 2; rep++)
        for (int k = 1; k <= 7; k++) {
            p = pkt4(0x0c000100u + (uint32_t)k, 0xcb007102u, ((uint64_t)(DAY0 + k) * 86400 + 60 * (uint64_t)rep) * NS_PER_S,
                     DS_PROTO_TCP, 23, DS_TH_SYN);
            feed(a, 0, DAY0 + k, 2, &p);
        }
    p = pkt4(0x0c000003u, 0xcb007101u, (uint64_t)(DAY0 + 11) * 86400 * NS_PER_S, DS_PROTO_TCP, 23, DS_TH_SYN);
    feed(a, 0, DAY0 + 11, 1, &p);
    p = pkt4(0x0c000103u, 0xcb007102u, (uint64_t)(DAY0 + 3) * 86400 * NS_PER_S + 5 * NS_PER_S, DS_PROTO_TCP, 23, DS_TH_SYN);
    feed(a, 0, DAY0 + 3, 2, &p);   /* day 3 again, after its slab was retired */
    p = pkt4(0x0c000003u, 0xcb007101u, (uint64_t)(DAY0 + 13) * 86400 * NS_PER_S, DS_PROTO_TCP, 23, DS_TH_SYN);
    feed(a, 0, DAY0 + 13, 1, &p);

    coll c;
    emit(a, &c);
    unsigned services1 = 0, services2 = 0;
    for (size_t i = 0; i < c.no; i++) {
        if (c.o[i].day != DAY0 + 10)
            continue;
        ds_ip ip1, ip2;
        ds_ip_set4(&ip1, 0x0c000001u);
        ds_ip_set4(&ip2, 0x0c000002u);
        if (ds_ip_eq(&c.o[i].r.ip, &ip1))
            services1 = c.o[i].r.services;
        if (ds_ip_eq(&c.o[i].r.ip, &ip2))
            services2 = c.o[i].r.services;
    }
    assert_int_equal(services1, 40);
    assert_int_equal(services2, 7);
    const ds_service T23 = DS_SERVICE(DS_PROTO_TCP, 23);
    for (int k = 1; k <= 7; k++)
        assert_int_equal(srcsvc_packets(&c, 0, DAY0 + k, T23, DS_CLASS_SCAN), k == 3 ? 3 : 2);
    assert_int_equal(srcsvc_packets(&c, 0, DAY0 + 11, T23, DS_CLASS_SCAN), 1);
    assert_int_equal(srcsvc_packets(&c, 0, DAY0 + 13, T23, DS_CLASS_SCAN), 1);
    uint64_t total = 0;
    for (size_t i = 0; i < c.ns; i++)
        total += c.s[i].r.packets;
    assert_int_equal(total, 80 + 10 + 2 + 14 + 3);
    coll_free(&c);
    ds_agg_free(a);
}

/* ---- counters ------------------------------------------------------------------------------ */

static void test_other_counters(void **state)
{
    (void)state;
    ds_agg *a = new_agg(2, NULL, NULL);
    ds_agg *b = new_agg(2, NULL, NULL);
    ds_agg_other(a, -1, DS_PKT_NON_IP, 0, 1000);
    ds_agg_other(a, -1, DS_PKT_NON_IP, 0, 900);
    ds_agg_other(a, -1, DS_PKT_UNKNOWN_LINK, 0, 2000);
    ds_agg_other(a, 0, DS_PKT_TRUNCATED, 0, 5000);
    ds_agg_other(a, 0, DS_PKT_FRAGMENT, 0, 4000);
    ds_agg_other(a, 0, DS_PKT_OK, 1, 6000);          /* outside */
    ds_agg_other(a, 1, DS_PKT_MALFORMED, 0, 7000);
    ds_agg_other(a, 99, DS_PKT_MALFORMED, 0, 8000);  /* no such sensor: unattributed */
    ds_agg_other(a, -5, DS_PKT_TRUNCATED, 0, 100);
    ds_agg_other(b, 1, DS_PKT_MALFORMED, 0, 50);
    ds_agg_other(b, -1, DS_PKT_OK, 1, 60000);
    ds_agg_encap(a, 0, DS_ENC_GRE | DS_ENC_ERSPAN);   /* encapsulations: one per bit, in the row given */
    ds_agg_encap(a, 0, DS_ENC_GRE);
    ds_agg_encap(a, 42, DS_ENC_IPIP);                 /* no such sensor: unattributed */
    ds_agg_encap(b, 0, DS_ENC_VLAN | DS_ENC_GRE);
    ds_pkt p = pkt4(0x01020304, 0x0a000001, (uint64_t)DAY0 * 86400 * NS_PER_S, DS_PROTO_UDP, 161, 0);
    feed(b, 1, DAY0, 0, &p);

    const ds_agg_counts *u = ds_agg_counts_of(a, -1), *s0 = ds_agg_counts_of(a, 0), *s1 = ds_agg_counts_of(a, 1);
    assert_non_null(u);
    assert_null(ds_agg_counts_of(a, 2));
    assert_null(ds_agg_counts_of(a, -2));
    assert_int_equal(u->outcome[DS_PKT_NON_IP], 2);
    assert_int_equal(u->outcome[DS_PKT_UNKNOWN_LINK], 1);
    assert_int_equal(u->outcome[DS_PKT_MALFORMED], 1);
    assert_int_equal(u->outcome[DS_PKT_TRUNCATED], 1);
    assert_int_equal(u->first_ns, 100);
    assert_int_equal(u->last_ns, 8000);
    assert_int_equal(u->packets, 0);
    assert_int_equal(s0->outcome[DS_PKT_TRUNCATED], 1);
    assert_int_equal(s0->outcome[DS_PKT_FRAGMENT], 1);
    assert_int_equal(s0->outside, 1);
    assert_int_equal(s0->outcome[DS_PKT_OK], 0);     /* outside is not an outcome count */
    assert_int_equal(s0->first_ns, 4000);
    assert_int_equal(s0->last_ns, 6000);
    assert_int_equal(s1->outcome[DS_PKT_MALFORMED], 1);
    assert_int_equal(s0->encap[3], 2);   /* gre */
    assert_int_equal(s0->encap[4], 1);   /* erspan */
    assert_int_equal(s0->encap[0], 0);
    assert_int_equal(u->encap[7], 1);    /* ipip */

    assert_int_equal(ds_agg_merge(a, b), DS_OK);
    s0 = ds_agg_counts_of(a, 0);
    assert_int_equal(s0->encap[3], 3);   /* merged: counters summed */
    assert_int_equal(s0->encap[0], 1);
    u = ds_agg_counts_of(a, -1);
    s1 = ds_agg_counts_of(a, 1);
    assert_int_equal(u->outside, 1);
    assert_int_equal(u->last_ns, 60000);
    assert_int_equal(s1->outcome[DS_PKT_MALFORMED], 2);
    assert_int_equal(s1->packets, 1);
    assert_int_equal(s1->first_ns, 50);
    assert_int_equal(s1->last_ns, (uint64_t)DAY0 * 86400 * NS_PER_S);
    ds_agg_free(b);

    /* an agg with no classified packet emits nothing */
    coll c;
    ds_agg *e = new_agg(2, NULL, NULL);
    ds_agg_other(e, 0, DS_PKT_NON_IP, 0, 1);
    emit(e, &c);
    assert_int_equal(c.chunks, 0);
    ds_agg_free(e);
    emit(a, &c);
    assert_int_equal(c.ns, 1);
    coll_free(&c);
    ds_agg_free(a);
    ds_agg_free(NULL);
}

/* Regression (tcpdump's babel_update_oobr.pcap): packets stamped 0 among others made the span
 * depend on packet order, so --threads 2 printed another "first packet" than --threads 1.  A
 * zero stamp now moves neither first nor last seen, in any order. */
static void test_zero_timestamps(void **state)
{
    (void)state;
    static const uint64_t orders[3][3] = { { 5000, 0, 7000 }, { 0, 7000, 5000 }, { 7000, 5000, 0 } };
    for (int o = 0; o < 3; o++) {
        ds_agg *a = new_agg(1, NULL, NULL);
        for (int i = 0; i < 3; i++) {
            ds_agg_other(a, 0, DS_PKT_NON_IP, 0, orders[o][i]);
            ds_pkt p = pkt4(0x01020304, 0x0a000001, orders[o][i], DS_PROTO_UDP, 161, 0);
            feed(a, 0, DAY0, 0, &p);
        }
        const ds_agg_counts *c = ds_agg_counts_of(a, 0);
        assert_int_equal(c->first_ns, 5000);
        assert_int_equal(c->last_ns, 7000);
        coll k;
        emit(a, &k);
        assert_int_equal(k.no, 1);
        assert_int_equal(k.o[0].r.first_ns, 5000);
        assert_int_equal(k.o[0].r.last_ns, 7000);
        assert_int_equal(k.o[0].r.packets, 3);
        coll_free(&k);
        ds_agg_free(a);
    }
    /* only zero stamps: no span at all, as for no packets */
    ds_agg *a = new_agg(1, NULL, NULL);
    ds_agg_other(a, 0, DS_PKT_NON_IP, 0, 0);
    assert_int_equal(ds_agg_counts_of(a, 0)->first_ns, 0);
    assert_int_equal(ds_agg_counts_of(a, 0)->last_ns, 0);
    ds_agg_free(a);
}

/* A sink error stops the emit and is passed up. */
static ds_rc failing_sink(void *ctx, int sensor, int32_t day, ds_chunk_kind kind, const uint8_t *data, size_t nrec,
                          ds_err *err)
{
    int *calls = ctx;
    (*calls)++;
    return ds_fail(err, DS_ESTORE, "sink refused");
}

static void test_sink_error(void **state)
{
    (void)state;
    ds_agg *a = new_agg(1, NULL, NULL);
    ds_pkt p = pkt4(0x01020304, 0x0a000001, (uint64_t)DAY0 * 86400 * NS_PER_S, DS_PROTO_UDP, 161, 0);
    feed(a, 0, DAY0, 0, &p);
    int calls = 0;
    ds_err err = { 0 };
    assert_int_equal(ds_agg_emit(a, failing_sink, &calls, &err), DS_ESTORE);
    assert_int_equal(calls, 1);
    assert_string_equal(err.msg, "sink refused");
    ds_agg_free(a);
}

/* SRCSVC says when every packet of a (source, class, service) came from one source port: the
 * mark of a tool with a fixed port (the seed reports' 1521/tcp campaign, 99% from port 6000). */
static void test_source_port(void **state)
{
    (void)state;
    ds_agg *a = new_agg(1, NULL, NULL);
    uint64_t t0 = (uint64_t)DAY0 * 86400 * NS_PER_S;
    for (int i = 0; i < 3; i++) {   /* fixed port 6000 */
        ds_pkt p = pkt4(0x01000001, 0x0a000001u + (uint32_t)i, t0 + (uint64_t)i, DS_PROTO_TCP, 1521, DS_TH_SYN);
        p.sport = 6000;
        feed(a, 0, DAY0, (uint32_t)i, &p);
    }
    for (int i = 0; i < 3; i++) {   /* a new port each time, the first one equal to the one above */
        ds_pkt p = pkt4(0x01000002, 0x0a000001, t0 + 10 + (uint64_t)i, DS_PROTO_TCP, 1521, DS_TH_SYN);
        p.sport = (uint16_t)(6000 + i);
        feed(a, 0, DAY0, 1, &p);
    }
    ds_pkt e = pkt4(0x01000003, 0x0a000001, t0 + 20, DS_PROTO_ICMP, 0, 8);   /* no port at all */
    feed(a, 0, DAY0, 1, &e);
    ds_pkt u = pkt4(0x01000003, 0x0a000001, t0 + 21, DS_PROTO_UDP, 53, 0);   /* sport 40000, once */
    feed(a, 0, DAY0, 1, &u);
    coll c;
    emit(a, &c);
    int seen = 0;
    for (size_t i = 0; i < c.ns; i++) {
        const ds_rec_srcsvc *r = &c.s[i].r;
        if (r->src == 0x01000001) {
            assert_int_equal(r->one_sport, 1);
            assert_int_equal(r->sport, 6000);
            assert_int_equal(r->packets, 3);
        } else if (r->src == 0x01000002) {
            assert_int_equal(r->one_sport, 0);
            assert_int_equal(r->sport, 0);
        } else if (r->service == DS_SERVICE(DS_PROTO_ICMP, 8)) {
            assert_int_equal(r->one_sport, 0);
        } else {
            assert_int_equal(r->one_sport, 1);
            assert_int_equal(r->sport, 40000);
        }
        seen++;
    }
    assert_int_equal(seen, 4);
    coll_free(&c);
    ds_agg_free(a);
}

/* ---- random ports: the (source, service, class) log ------------------------------------------ */

/* One (day, source, service, class) with its packets and whether they all had one port. */
typedef struct svckey { int32_t day; uint32_t src, svc, cls; uint64_t packets; int sport, mixed; } svckey;

static int cmp_svckey(const void *x, const void *y)
{
    const svckey *a = x, *b = y;
    if (a->day != b->day)
        return a->day < b->day ? -1 : 1;
    if (a->src != b->src)
        return a->src < b->src ? -1 : 1;
    if (a->svc != b->svc)
        return a->svc < b->svc ? -1 : 1;
    return a->cls < b->cls ? -1 : a->cls > b->cls;
}

/* Sort and fold: packets add, the port stays when every piece had the same one. */
static size_t fold_keys(svckey *k, size_t n)
{
    qsort(k, n, sizeof *k, cmp_svckey);
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (m && !cmp_svckey(&k[m - 1], &k[i])) {
            k[m - 1].packets += k[i].packets;
            k[m - 1].mixed |= k[i].mixed || k[i].sport != k[m - 1].sport;
        } else {
            k[m++] = k[i];
        }
    }
    return m;
}

/* Backscatter to random ports from 300 sources, with scans of a few ports by the same sources
 * (and every packet's hour counted too, its hour log reduced the same way):
 * about 90,000 distinct (source, service, class) a day, more than a day's log holds before its
 * first partial reduction, so the log is reduced in place while the day runs.  Then late packets
 * for the first day after it was retired (a second record), and a day with nothing late.  The
 * SRCSVC records must sum to the packets, per (day, source, service, class), keep a source port
 * exactly when every packet had it, and SOURCES.services must count a service once whatever the
 * class. */
static void test_random_ports(void **state)
{
    (void)state;
    enum { NSRC = 300, PER_DAY = 100000, LATE = 5000 };
    const uint8_t exact[1] = { 1 };
    ds_agg *a = new_agg(1, exact, NULL);
    svckey *want = malloc((2 * PER_DAY + LATE) * sizeof *want);
    svckey *hwant = malloc((2 * PER_DAY + LATE) * sizeof *hwant);   /* (day, hour, service, class) */
    assert_non_null(want);
    assert_non_null(hwant);
    size_t nw = 0, nhw = 0;
    uint64_t x = 0x2545F4914F6CDD1DULL;
    for (int d = 0; d < 2; d++) {
        uint64_t t0 = (uint64_t)(DAY0 + d) * 86400 * NS_PER_S;
        for (uint32_t i = 0; i < PER_DAY; i++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            uint32_t s = (uint32_t)(x % NSRC);
            int scan = (x >> 20) % 4 == 0;
            uint16_t dport = scan ? (uint16_t)(22 + (x >> 24) % 3) : (uint16_t)(10000 + (x >> 24) % 55000);
            ds_pkt p = pkt4(0x0d000000u + s, 0xcb007100u + (uint32_t)(x >> 40) % 256, t0 + (uint64_t)i * 800000000ULL,
                            DS_PROTO_TCP, dport, scan ? DS_TH_SYN : DS_TH_SYN | DS_TH_ACK);
            /* sources below 100 answer from one port; the others from two */
            p.sport = s < 100 ? 443 : (uint16_t)(443 + (x >> 60) % 2);
            feed(a, 0, DAY0 + d, (uint32_t)(x >> 40) % 256, &p);
            want[nw++] = (svckey){ DAY0 + d, 0x0d000000u + s, ds_service_of(&p), ds_class_of(&p), 1, p.sport, 0 };
            hwant[nhw++] = (svckey){ DAY0 + d, (uint32_t)(p.ts_ns / 3600 / NS_PER_S), ds_service_of(&p), ds_class_of(&p), 1, 0, 0 };
        }
    }
    /* the clock moves to day 3 (day 0 retires), then late packets for day 0 */
    ds_pkt p = pkt4(0x0e000001u, 0xcb007101u, (uint64_t)(DAY0 + 3) * 86400 * NS_PER_S, DS_PROTO_TCP, 23, DS_TH_SYN);
    feed(a, 0, DAY0 + 3, 1, &p);
    want[nw++] = (svckey){ DAY0 + 3, 0x0e000001u, ds_service_of(&p), ds_class_of(&p), 1, p.sport, 0 };
    for (uint32_t i = 0; i < LATE - 1; i++) {
        p = pkt4(0x0d000000u + i % NSRC, 0xcb007102u, (uint64_t)DAY0 * 86400 * NS_PER_S + i, DS_PROTO_TCP,
                 (uint16_t)(20000 + i % 1000), DS_TH_RST);
        feed(a, 0, DAY0, 2, &p);
        want[nw++] = (svckey){ DAY0, 0x0d000000u + i % NSRC, ds_service_of(&p), ds_class_of(&p), 1, p.sport, 0 };
        hwant[nhw++] = (svckey){ DAY0, (uint32_t)(p.ts_ns / 3600 / NS_PER_S), ds_service_of(&p), ds_class_of(&p), 1, 0, 0 };
    }
    hwant[nhw++] = (svckey){ DAY0 + 3, (DAY0 + 3) * 24, DS_SERVICE(DS_PROTO_TCP, 23), DS_CLASS_SCAN, 1, 0, 0 };
    coll c;
    emit(a, &c);
    svckey *got = malloc(c.ns * sizeof *got);
    assert_non_null(got);
    for (size_t i = 0; i < c.ns; i++) {
        const ds_rec_srcsvc *r = &c.s[i].r;
        got[i] = (svckey){ c.s[i].day, (uint32_t)r->src, r->service, r->cls, r->packets,
                           r->one_sport ? r->sport : -1, !r->one_sport };
    }
    size_t ng = fold_keys(got, c.ns);
    size_t m = fold_keys(want, nw);
    assert_true(m > 2 * 60000);   /* mostly distinct keys */
    assert_int_equal(ng, m);
    for (size_t i = 0; i < m; i++) {
        assert_int_equal(cmp_svckey(&got[i], &want[i]), 0);
        assert_true(got[i].packets == want[i].packets);
        int one = !want[i].mixed && want[i].sport >= 0;
        assert_int_equal(!got[i].mixed, one);
        if (one)
            assert_int_equal(got[i].sport, want[i].sport);
    }
    /* hourly records (service dimension), the late hour of day 0 included: the hour logs are
     * reduced like the day's */
    svckey *hgot = malloc((c.nh + 1) * sizeof *hgot);
    assert_non_null(hgot);
    size_t nhg = 0;
    uint64_t country_total = 0;
    for (size_t i = 0; i < c.nh; i++) {
        if (c.h[i].r.dim == DS_HOURLY_COUNTRY) {
            country_total += c.h[i].r.packets;
            continue;
        }
        hgot[nhg++] = (svckey){ c.h[i].day, c.h[i].r.hour, c.h[i].r.key, c.h[i].r.cls, c.h[i].r.packets, 0, 0 };
    }
    assert_true(country_total == nhw);
    nhg = fold_keys(hgot, nhg);
    size_t hm = fold_keys(hwant, nhw);
    assert_int_equal(nhg, hm);
    for (size_t i = 0; i < hm; i++) {
        assert_int_equal(cmp_svckey(&hgot[i], &hwant[i]), 0);
        assert_true(hgot[i].packets == hwant[i].packets);
    }
    free(hgot);
    free(hwant);
    /* services of day 1's sources (nothing late): distinct services over both classes */
    for (size_t i = 0; i < c.no; i++) {
        if (c.o[i].day != DAY0 + 1)
            continue;
        uint32_t src = (uint32_t)ds_src_key(&c.o[i].r.ip), services = 0;
        for (size_t k = 0; k < m; k++)
            if (want[k].day == DAY0 + 1 && want[k].src == src &&
                (k == 0 || want[k - 1].day != want[k].day || want[k - 1].src != src || want[k - 1].svc != want[k].svc))
                services++;
        assert_int_equal(c.o[i].r.services, services);
    }
    free(got);
    free(want);
    coll_free(&c);
    ds_agg_free(a);
}

/* ds_rec_source_key reads the key of a SOURCES record without decoding it: the same key as
 * decoding it and taking ds_src_key, for IPv4 and IPv6 addresses, whatever the other fields. */
static void test_source_record_key(void **state)
{
    (void)state;
    uint8_t rec[DS_REC_SOURCES];
    for (int i = 0; i < 2000; i++) {
        ds_rec_source r, back;
        memset(&r, 0, sizeof r);
        uint64_t x = (uint64_t)i * 0x9e3779b97f4a7c15ULL + 12345;
        if (i & 1) {
            r.ip.v6 = 1;
            for (int k = 0; k < 16; k++)
                r.ip.b[k] = (uint8_t)(x >> (k % 8 * 8)) ^ (uint8_t)k;
        } else {
            ds_ip_set4(&r.ip, (uint32_t)(x >> 17));
        }
        r.cc[0] = 'J';
        r.cc[1] = 'P';
        r.asn = (uint32_t)x;
        r.packets = x >> 3;
        r.first_ns = x;
        r.last_ns = x + 1;
        r.tools = (uint8_t)i;
        ds_rec_source_put(rec, &r);
        ds_rec_source_get(rec, &back);
        assert_true(ds_rec_source_key(rec) == ds_src_key(&back.ip));
        assert_true(ds_rec_source_key(rec) == ds_src_key(&r.ip));
    }
    ds_ip a;   /* 0.0.0.0 and the IPv6 unspecified address are different sources */
    ds_ip_set4(&a, 0);
    ds_rec_source z = { .ip = a };
    ds_rec_source_put(rec, &z);
    assert_true(ds_rec_source_key(rec) == 0);
    z.ip.v6 = 1;
    ds_rec_source_put(rec, &z);
    assert_true(ds_rec_source_key(rec) == ds_src_key(&z.ip));
    assert_true(ds_rec_source_key(rec) >> 63);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_basic_records),
        cmocka_unit_test(test_no_geo),
        cmocka_unit_test(test_merge_equals_single),
        cmocka_unit_test(test_multiday_retire),
        cmocka_unit_test(test_many_days),
        cmocka_unit_test(test_other_counters),
        cmocka_unit_test(test_zero_timestamps),
        cmocka_unit_test(test_sink_error),
        cmocka_unit_test(test_stress_1m),
        cmocka_unit_test(test_source_port),
        cmocka_unit_test(test_source_record_key),
        cmocka_unit_test(test_day_slabs),
        cmocka_unit_test(test_random_ports),
    };
    return cmocka_run_group_tests(tests, 0, NULL);
}
