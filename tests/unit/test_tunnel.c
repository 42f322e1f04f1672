/* test_tunnel.c: decapsulation (GRE, ERSPAN I/II/III, VXLAN, GENEVE, IP in IP), frame by frame.
 *
 * The inner packet is always SRC4 -> DST4 (or SRC6 -> DST6) from frame.h; the outer one is
 * OUT_SRC -> OUT_DST, so a test sees which header the decoder attributed the packet by.  Every
 * frame is also decoded at every capture length below its full one (cut_all), each cut copied
 * into a buffer of exactly that length (ASan, `make sanitize`, catches any read past it), and
 * each cut must give the outcome docs/decoding.md promises for the header it ends in.
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

#include "core/classify.h"
#include "core/packet.h"

#include "unit/frame.h"

static const uint8_t OUT_SRC[4] = { 10, 1, 1, 1 }, OUT_DST[4] = { 10, 2, 2, 2 };

/* IPv4 header from OUT_SRC to OUT_DST; returns the offset of its total length. */
static size_t outer4(frame *f, unsigned proto)
{
    size_t at = ipv4(f, proto, 0);
    memcpy(f->b + at + 10, OUT_SRC, 4);
    memcpy(f->b + at + 14, OUT_DST, 4);
    return at;
}

static int is_outer(const ds_pkt *p)
{
    return (p->have & DS_HAVE_IP) && !p->dst.v6 && memcmp(p->dst.b, OUT_DST, 4) == 0 &&
           memcmp(p->src.b, OUT_SRC, 4) == 0;
}

/* The inner packet: IPv4 TCP SYN SRC4:51000 -> DST4:23 with payload "abcd". */
static void inner_syn4(frame *f)
{
    size_t l = ipv4(f, 6, 0x4000);
    tcp_syn(f, 51000, 23);
    putn(f, "abcd", 4);
    ip4_done(f, l);
}

static void assert_inner_syn4(const ds_pkt *p, unsigned encap)
{
    assert_v4(p);
    assert_true(p->have & DS_HAVE_L4);
    assert_int_equal(p->proto, 6);
    assert_int_equal(p->dport, 23);
    assert_int_equal(p->tcp_flags, DS_TH_SYN);
    assert_int_equal(p->tcp_mss, 1460);
    assert_int_equal(p->ip_id, 0x1234);
    assert_int_equal(p->ttl, 64);
    assert_int_equal(p->payload_len, 4);
    assert_memory_equal(p->payload, "abcd", 4);
    assert_int_equal(p->encap, encap);
    char buf[DS_SERVICE_STRLEN];
    assert_string_equal(ds_service_format(ds_service_of(p), buf, sizeof buf), "23/tcp");
    assert_int_equal(ds_class_of(p), DS_CLASS_SCAN);
}

static ds_outcome dec_cut(int lt, const frame *f, size_t n, ds_pkt *p)
{
    uint8_t *b = malloc(n ? n : 1);
    assert_non_null(b);
    memcpy(b, f->b, n);
    ds_outcome o = ds_decode(lt, n ? b : NULL, (uint32_t)n, (uint32_t)f->n, p);
    if (p->payload_len)   /* the payload lies inside the cut */
        assert_true(p->payload >= b && p->payload + p->payload_len <= b + n);
    free(b);
    return o;
}

/* Decode f (link type 1) cut at every length.  tun: the first byte of the tunnel's header (the
 * outer IP header is whole from there); in: the first byte of the frame inside the tunnel, where
 * the decoder steps in; ip: the first byte of the innermost IP header whose addresses (ip + iplen)
 * decide; l4: the end of its transport header (TCP: the 20-byte base header).  port: a tunnel found by UDP port (VXLAN, GENEVE),
 * which stays the UDP datagram until the inner addresses are captured. */
static void cut_all(const frame *f, size_t tun, size_t in, size_t ip, size_t iplen, size_t l4, unsigned encap,
                    int port)
{
    for (size_t n = 0; n < f->n; n++) {
        ds_pkt p;
        ds_outcome o = dec_cut(1, f, n, &p);
        if (n < tun) {
            assert_int_equal(o, DS_PKT_TRUNCATED);
            assert_int_equal(p.encap & ~DS_ENC_VLAN, 0);
        } else if (n < ip + iplen && port) {
            assert_int_equal(o, DS_PKT_OK);          /* a UDP datagram to 4789/6081 */
            assert_true(is_outer(&p));
            assert_int_equal(p.encap & ~DS_ENC_VLAN, 0);
        } else if (n < in) {
            assert_int_equal(o, DS_PKT_TRUNCATED);   /* the tunnel header is cut: the outer packet */
            assert_true(is_outer(&p));
            assert_int_equal(p.encap & ~DS_ENC_VLAN, 0);
        } else if (n < ip + iplen) {
            assert_int_equal(o, DS_PKT_TRUNCATED);   /* inside the tunnel, before the inner addresses */
            assert_int_equal(p.have, 0);
            /* the tunnel counted; a tag or label inside it only once its header is whole */
            assert_int_equal(p.encap & ~(DS_ENC_VLAN | DS_ENC_MPLS), encap & ~(DS_ENC_VLAN | DS_ENC_MPLS));
            assert_int_equal(p.encap & ~encap, 0);
        } else if (n < l4) {
            assert_int_equal(o, DS_PKT_TRUNCATED);   /* the inner transport header is cut */
            assert_true(p.have & DS_HAVE_IP);
            assert_false(is_outer(&p));
            assert_int_equal(p.encap, encap);
        } else {
            assert_int_equal(o, DS_PKT_OK);
            assert_false(is_outer(&p));
            assert_int_equal(p.encap, encap);
        }
    }
}

/* ---- GRE -------------------------------------------------------------------------------- */

/* Ethernet / IPv4 / GRE with the given flags (C, K, S) / IPv4 TCP SYN. */
static void build_gre4(frame *f, unsigned flags, size_t *gre_at, size_t *in_at)
{
    f->n = 0;
    eth(f, 0x0800);
    size_t l = outer4(f, 47);
    *gre_at = f->n;
    put16(f, flags); put16(f, 0x0800);
    if (flags & 0x8000) { put16(f, 0xbeef); put16(f, 0); }   /* checksum, reserved1 */
    if (flags & 0x2000) put32(f, 0x01020304);                /* key */
    if (flags & 0x1000) put32(f, 77);                        /* sequence number */
    *in_at = f->n;
    inner_syn4(f);
    ip4_done(f, l);
}

static void test_gre_ipv4(void **state)
{
    (void)state;
    const unsigned flags[] = { 0, 0x8000, 0x2000, 0x1000, 0xb000 };
    for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++) {
        frame f;
        size_t g, in;
        build_gre4(&f, flags[i], &g, &in);
        ds_pkt p;
        assert_int_equal(dec(1, &f, &p), DS_PKT_OK);
        assert_inner_syn4(&p, DS_ENC_GRE);
        assert_int_equal(p.tunnels, 1);
        assert_int_equal(p.ip_len, f.n - in);   /* the inner packet's length, not the outer one's */
        cut_all(&f, g, in, in, 20, in + 40, DS_ENC_GRE, 0);
        /* the outer IP payload ends inside the GRE header: the packet contradicts itself */
        set16(&f, 16, (unsigned)(g - 14 + 2));
        f.n = g + 2;
        assert_int_equal(dec(1, &f, &p), DS_PKT_MALFORMED);
        assert_true(is_outer(&p));
    }
}

/* GRE that is not decapsulated stays the 47/ip it always was. */
static void test_gre_not_decapsulated(void **state)
{
    (void)state;
    const unsigned hdr[][2] = {
        { 0x3001, 0x880b },   /* version 1: PPTP's enhanced GRE (RFC 2637) */
        { 0x4000, 0x0800 },   /* RFC 1701 routing present */
        { 0x0000, 0x883e },   /* WCCP redirect: a protocol type we do not decapsulate */
        { 0x0000, 0x0806 },   /* ARP */
    };
    for (size_t i = 0; i < sizeof hdr / sizeof hdr[0]; i++) {
        frame f = { .n = 0 };
        eth(&f, 0x0800);
        size_t l = outer4(&f, 47);
        put16(&f, hdr[i][0]); put16(&f, hdr[i][1]); put32(&f, 1);
        inner_syn4(&f);
        ip4_done(&f, l);
        ds_pkt p;
        assert_int_equal(dec(1, &f, &p), DS_PKT_OK);
        assert_true(is_outer(&p));
        assert_int_equal(p.proto, 47);
        assert_int_equal(p.encap, 0);
        assert_int_equal(p.payload_len, f.n - 34);
        assert_int_equal(ds_service_of(&p), DS_SERVICE(47, 0));
    }
}

/* GRE over IPv6 carrying IPv6 (and an IPv4 header where 0x86DD said IPv6: malformed). */
static void test_gre_ipv6(void **state)
{
    (void)state;
    frame f = { .n = 0 };
    eth(&f, 0x86dd);
    size_t lo = ipv6(&f, 47);
    memset(f.b + 22, 0xaa, 16);   /* outer source: not SRC6 */
    size_t g = f.n;
    put16(&f, 0x2000); put16(&f, 0x86dd); put32(&f, 9);
    size_t in = f.n;
    size_t li = ipv6(&f, 17);
    udp(&f, 5353, 53, "q");
    ip6_done(&f, li);
    ip6_done(&f, lo);
    ds_pkt p;
    assert_int_equal(dec(1, &f, &p), DS_PKT_OK);
    assert_v6(&p);
    assert_int_equal(p.dport, 53);
    assert_int_equal(p.encap, DS_ENC_GRE);
    assert_int_equal(p.ip_id, 0);
    for (size_t n = g; n < in; n++) {   /* GRE header cut: the outer packet, truncated */
        assert_int_equal(dec_cut(1, &f, n, &p), DS_PKT_TRUNCATED);
        assert_int_equal(p.src.b[0], 0xaa);
    }
    f.b[in] = 0x45;
    assert_int_equal(dec(1, &f, &p), DS_PKT_MALFORMED);
    assert_int_equal(p.encap, DS_ENC_GRE);
}

/* GRE carrying Ethernet (0x6558) with a VLAN tag, and MPLS (0x8847). */
static void test_gre_teb_mpls(void **state)
{
    (void)state;
    frame f = { .n = 0 };
    eth(&f, 0x0800);
    size_t l = outer4(&f, 47);
    size_t g = f.n;
    put16(&f, 0); put16(&f, 0x6558);
    size_t in = f.n;
    eth(&f, 0x8100);
    put16(&f, 7); put16(&f, 0x0800);
    size_t ip = f.n;
    inner_syn4(&f);
    ip4_done(&f, l);
    ds_pkt p;
    assert_int_equal(dec(1, &f, &p), DS_PKT_OK);
    assert_inner_syn4(&p, DS_ENC_GRE | DS_ENC_VLAN);
    cut_all(&f, g, in, ip, 20, ip + 40, DS_ENC_GRE | DS_ENC_VLAN, 0);

    f.n = 0;
    eth(&f, 0x0800);
    l = outer4(&f, 47);
    g = f.n;
    put16(&f, 0); put16(&f, 0x8847);
    in = f.n;
    put32(&f, 100u << 12 | 1u << 8 | 64);   /* label 100, bottom of stack */
    ip = f.n;
    inner_syn4(&f);
    ip4_done(&f, l);
    assert_int_equal(dec(1, &f, &p), DS_PKT_OK);
    assert_inner_syn4(&p, DS_ENC_GRE | DS_ENC_MPLS);
    cut_all(&f, g, in, ip, 20, ip + 40, DS_ENC_GRE | DS_ENC_MPLS, 0);
}

/* GRE in IPv4 in a VLAN-tagged frame: both counted, the inner packet classified. */
static void test_gre_in_vlan(void **state)
{
    (void)state;
    frame f = { .n = 0 };
    eth(&f, 0x88a8);
    put16(&f, 1); put16(&f, 0x8100);
    put16(&f, 2); put16(&f, 0x0800);
    size_t l = outer4(&f, 47);
    size_t g = f.n;
    put16(&f, 0x2000); put16(&f, 0x0800); put32(&f, 5);
    size_t in = f.n;
    inner_syn4(&f);
    ip4_done(&f, l);
    ds_pkt p;
    assert_int_equal(dec(1, &f, &p), DS_PKT_OK);
    assert_inner_syn4(&p, DS_ENC_VLAN | DS_ENC_GRE);
    cut_all(&f, g, in, in, 20, in + 40, DS_ENC_VLAN | DS_ENC_GRE, 0);
}

/* ---- ERSPAN ----------------------------------------------------------------------------- */

/* Ethernet / IPv4 / GRE (S set for II and III) / ERSPAN type `type` / Ethernet / IPv4 TCP SYN.
 * opt: the type III platform subheader; ft: its frame type (0 Ethernet, 2 IP). */
static void build_erspan(frame *f, int type, int opt, int ft, size_t *g, size_t *in, size_t *ip)
{
    f->n = 0;
    eth(f, 0x0800);
    size_t l = outer4(f, 47);
    *g = f->n;
    put16(f, type == 1 ? 0 : 0x1000); put16(f, type == 3 ? 0x22eb : 0x88be);
    if (type != 1)
        put32(f, 42);   /* sequence number */
    if (type == 2) {
        put16(f, 0x1000 | 12);        /* version 1, VLAN 12 */
        put16(f, 0x0000 | 300);       /* session 300 */
        put32(f, 7);                  /* index */
    } else if (type == 3) {
        put16(f, 0x2000 | 12);        /* version 2 */
        put16(f, 300);
        put32(f, 0x11223344);         /* timestamp */
        put16(f, 0);                  /* SGT */
        put16(f, (unsigned)(ft << 10) | (opt ? 1 : 0));   /* P FT(5) HW(6) D Gra(2) O */
        if (opt) { put32(f, 0x05000001); put32(f, 0x55667788); }
    }
    *in = f->n;
    if (ft == 0)
        eth(f, 0x0800);
    *ip = f->n;
    inner_syn4(f);
    ip4_done(f, l);
}

static void test_erspan(void **state)
{
    (void)state;
    const int cases[][3] = { { 1, 0, 0 }, { 2, 0, 0 }, { 3, 0, 0 }, { 3, 1, 0 }, { 3, 0, 2 }, { 3, 1, 2 } };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        frame f;
        size_t g, in, ip;
        build_erspan(&f, cases[i][0], cases[i][1], cases[i][2], &g, &in, &ip);
        ds_pkt p;
        assert_int_equal(dec(1, &f, &p), DS_PKT_OK);
        assert_inner_syn4(&p, DS_ENC_GRE | DS_ENC_ERSPAN);
        assert_int_equal(p.tunnels, 1);
        cut_all(&f, g, in, ip, 20, ip + 40, DS_ENC_GRE | DS_ENC_ERSPAN, 0);
    }
}

static void test_erspan_bad(void **state)
{
    (void)state;
    frame f;
    size_t g, in, ip;
    ds_pkt p;
    build_erspan(&f, 2, 0, 0, &g, &in, &ip);
    f.b[g + 8] = 0x20;   /* version 2 under 0x88BE */
    assert_int_equal(dec(1, &f, &p), DS_PKT_MALFORMED);
    assert_true(is_outer(&p));
    build_erspan(&f, 3, 0, 0, &g, &in, &ip);
    f.b[g + 8] = 0x10;   /* version 1 under 0x22EB */
    assert_int_equal(dec(1, &f, &p), DS_PKT_MALFORMED);
    assert_true(is_outer(&p));
    build_erspan(&f, 3, 0, 0, &g, &in, &ip);
    f.b[g + 8 + 10] = 7 << 2;   /* frame type 7: not a frame we read */
    assert_int_equal(dec(1, &f, &p), DS_PKT_NON_IP);
    assert_int_equal(p.have, 0);
    assert_int_equal(p.encap, DS_ENC_GRE | DS_ENC_ERSPAN);
    build_erspan(&f, 3, 0, 2, &g, &in, &ip);
    f.b[ip] = 0x05;   /* frame type 2 whose packet is neither IPv4 nor IPv6 */
    assert_int_equal(dec(1, &f, &p), DS_PKT_MALFORMED);
    build_erspan(&f, 2, 0, 0, &g, &in, &ip);
    set16(&f, in + 12, 0x0806);   /* mirrored ARP: non-IP, no address */
    assert_int_equal(dec(1, &f, &p), DS_PKT_NON_IP);
    assert_int_equal(p.have, 0);
}

/* ---- VXLAN, GENEVE ---------------------------------------------------------------------- */

/* Ethernet / IPv4 / UDP to `port` / 8-byte VXLAN header or GENEVE header with `optw` option
 * words and protocol type `gtype` / [Ethernet] / IPv4 TCP SYN. */
static void build_udp_tunnel(frame *f, unsigned port, unsigned optw, unsigned gtype, size_t *u, size_t *in,
                             size_t *ip)
{
    f->n = 0;
    eth(f, 0x0800);
    size_t l = outer4(f, 17);
    *u = f->n;
    put16(f, 40000); put16(f, port); put16(f, 0); put16(f, 0);
    if (port == 4789) {
        put32(f, 0x08000000); put32(f, 0x00123400);   /* I flag, VNI 0x1234 */
    } else {
        put8(f, optw); put8(f, 0); put16(f, gtype); put32(f, 0x00123400);
        for (unsigned i = 0; i < optw; i++) put32(f, 0x01020304);
    }
    *in = f->n;
    if (gtype == 0x6558)
        eth(f, 0x0800);
    *ip = f->n;
    inner_syn4(f);
    set16(f, *u + 4, (unsigned)(f->n - *u));
    ip4_done(f, l);
}

/* ds_decode_outer: the packet that carried the tunnel, as the wire shows it (GRE 47/ip with the
 * outer addresses; VXLAN 4789/udp; IP in IP 4/ip), for a tunnel aimed at dark space whose inner
 * packet is for no darknet (ingest's outer_packet). */
static void test_decode_outer(void **state)
{
    (void)state;
    frame f;
    size_t g, in, u, ip;
    ds_pkt p;
    build_gre4(&f, 0x2000, &g, &in);
    assert_int_equal(ds_decode_outer(1, f.b, (uint32_t)f.n, (uint32_t)f.n, &p), DS_PKT_OK);
    assert_true(is_outer(&p));
    assert_int_equal(p.proto, 47);
    assert_int_equal(p.tunnels, 0);
    assert_int_equal(p.encap, 0);
    assert_int_equal(p.payload_len, f.n - g);     /* the whole GRE packet, as for any 47/ip */
    assert_int_equal(ds_decode(1, f.b, (uint32_t)f.n, (uint32_t)f.n, &p), DS_PKT_OK);
    assert_inner_syn4(&p, DS_ENC_GRE);            /* and the normal decode is unchanged after it */
    build_udp_tunnel(&f, 4789, 0, 0x6558, &u, &in, &ip);
    assert_int_equal(ds_decode_outer(1, f.b, (uint32_t)f.n, (uint32_t)f.n, &p), DS_PKT_OK);
    assert_true(is_outer(&p));
    assert_int_equal(p.proto, 17);
    assert_int_equal(p.dport, 4789);
    assert_int_equal(p.encap, 0);
}

static void test_vxlan_geneve(void **state)
{
    (void)state;
    const unsigned cases[][3] = { { 4789, 0, 0x6558 }, { 6081, 0, 0x6558 }, { 6081, 3, 0x6558 }, { 6081, 2, 0x0800 } };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        frame f;
        size_t u, in, ip;
        build_udp_tunnel(&f, cases[i][0], cases[i][1], cases[i][2], &u, &in, &ip);
        unsigned enc = cases[i][0] == 4789 ? DS_ENC_VXLAN : DS_ENC_GENEVE;
        ds_pkt p;
        assert_int_equal(dec(1, &f, &p), DS_PKT_OK);
        assert_inner_syn4(&p, enc);
        cut_all(&f, u + 8, in, ip, 20, ip + 40, enc, 1);   /* from a whole UDP header on */
    }
    /* reserved VXLAN flag bits are ignored (RFC 7348): VXLAN-GPE's P bit, 0x0c, in Zeek's
     * tunnels/vxlan-triple-v2.pcap, three VXLAN deep */
    frame f;
    size_t u, in, ip;
    ds_pkt p;
    build_udp_tunnel(&f, 4789, 0, 0x6558, &u, &in, &ip);
    f.b[u + 8] = 0x0c;
    assert_int_equal(dec(1, &f, &p), DS_PKT_OK);
    assert_inner_syn4(&p, DS_ENC_VXLAN);
}

/* A datagram to 4789 or 6081 that is no tunnel is counted as the datagram: scanners probe
 * those ports like any other. */
static void test_udp_tunnel_ports_probed(void **state)
{
    (void)state;
    frame f;
    size_t u, in, ip;
    ds_pkt p;
    char buf[DS_SERVICE_STRLEN];
    build_udp_tunnel(&f, 4789, 0, 0x6558, &u, &in, &ip);
    f.b[u + 8] = 0;   /* no I flag */
    assert_int_equal(dec(1, &f, &p), DS_PKT_OK);
    assert_true(is_outer(&p));
    assert_string_equal(ds_service_format(ds_service_of(&p), buf, sizeof buf), "4789/udp");
    assert_int_equal(p.encap, 0);
    assert_int_equal(p.payload_len, f.n - u - 8);
    build_udp_tunnel(&f, 4789, 0, 0x6558, &u, &in, &ip);
    set16(&f, in + 12, 0x0806);   /* a VXLAN frame, but ARP: no inner packet to count */
    assert_int_equal(dec(1, &f, &p), DS_PKT_OK);
    assert_true(is_outer(&p));
    assert_int_equal(p.encap, 0);
    build_udp_tunnel(&f, 6081, 0, 0x6558, &u, &in, &ip);
    f.b[u + 8] = 0x40;   /* GENEVE version 1 */
    assert_int_equal(dec(1, &f, &p), DS_PKT_OK);
    assert_string_equal(ds_service_format(ds_service_of(&p), buf, sizeof buf), "6081/udp");
    build_udp_tunnel(&f, 6081, 0, 0x6558, &u, &in, &ip);
    set16(&f, u + 10, 0x8847);   /* a protocol type GENEVE does not carry here */
    assert_int_equal(dec(1, &f, &p), DS_PKT_OK);
    assert_true(is_outer(&p));
    build_udp_tunnel(&f, 6081, 0, 0x6558, &u, &in, &ip);
    f.b[u + 8] = 0x3f;   /* 252 bytes of options: more than the datagram */
    assert_int_equal(dec(1, &f, &p), DS_PKT_OK);
    assert_true(is_outer(&p));
    /* the same bytes to another port are not looked at */
    build_udp_tunnel(&f, 4789, 0, 0x6558, &u, &in, &ip);
    set16(&f, u + 2, 8472);
    assert_int_equal(dec(1, &f, &p), DS_PKT_OK);
    assert_string_equal(ds_service_format(ds_service_of(&p), buf, sizeof buf), "8472/udp");
}

/* ---- IP in IP, nesting ------------------------------------------------------------------ */

static void test_ipip(void **state)
{
    (void)state;
    frame f = { .n = 0 };
    ds_pkt p;
    eth(&f, 0x0800);   /* 4 in 4 */
    size_t l = outer4(&f, 4);
    size_t in = f.n;
    inner_syn4(&f);
    ip4_done(&f, l);
    assert_int_equal(dec(1, &f, &p), DS_PKT_OK);
    assert_inner_syn4(&p, DS_ENC_IPIP);
    cut_all(&f, in, in, in, 20, in + 40, DS_ENC_IPIP, 0);
    f.b[in] = 0x65;    /* protocol 4 carrying version 6 */
    assert_int_equal(dec(1, &f, &p), DS_PKT_MALFORMED);

    f.n = 0;           /* 6 in 4 (6in4, RFC 4213) */
    eth(&f, 0x0800);
    l = outer4(&f, 41);
    in = f.n;
    size_t li = ipv6(&f, 6);
    tcp_plain(&f, 0x12);
    ip6_done(&f, li);
    ip4_done(&f, l);
    assert_int_equal(dec(1, &f, &p), DS_PKT_OK);
    assert_v6(&p);
    assert_int_equal(p.ip_id, 0);   /* nothing of the outer IPv4 header is left */
    assert_int_equal(p.ttl, 55);
    assert_int_equal(ds_class_of(&p), DS_CLASS_BACKSCATTER);
    assert_int_equal(p.encap, DS_ENC_IPIP);
    cut_all(&f, in, in, in, 40, in + 60, DS_ENC_IPIP, 0);

    f.n = 0;           /* 4 in 6 */
    eth(&f, 0x86dd);
    size_t lo = ipv6(&f, 4);
    in = f.n;
    inner_syn4(&f);
    ip6_done(&f, lo);
    assert_int_equal(dec(1, &f, &p), DS_PKT_OK);
    assert_inner_syn4(&p, DS_ENC_IPIP);
    assert_int_equal(p.ttl, 64);
}

/* Tunnels in tunnels: up to DS_MAX_TUNNELS are entered, one more is MALFORMED. */
static void test_nesting_limit(void **state)
{
    (void)state;
    for (int depth = 1; depth <= DS_MAX_TUNNELS + 2; depth++) {
        frame f = { .n = 0 };
        size_t len_at[8];
        eth(&f, 0x0800);
        for (int d = 0; d < depth; d++) {
            len_at[d] = outer4(&f, d % 2 ? 4 : 47);
            if (d % 2 == 0) {   /* alternate GRE and IP in IP */
                put16(&f, 0); put16(&f, 0x0800);
            }
        }
        inner_syn4(&f);
        for (int d = depth - 1; d >= 0; d--)
            ip4_done(&f, len_at[d]);
        ds_pkt p;
        ds_outcome o = dec(1, &f, &p);
        if (depth <= DS_MAX_TUNNELS) {
            assert_int_equal(o, DS_PKT_OK);
            assert_inner_syn4(&p, depth == 1 ? DS_ENC_GRE : DS_ENC_GRE | DS_ENC_IPIP);
            assert_int_equal(p.tunnels, depth);
        } else {
            assert_int_equal(o, DS_PKT_MALFORMED);
            assert_int_equal(p.tunnels, DS_MAX_TUNNELS);
            assert_true(is_outer(&p));   /* the addresses of the deepest header read */
        }
    }
}

/* ingest's owner test leaves every tunnel to the decoder (its source is the inner one). */
static void test_peek_leaves_tunnels(void **state)
{
    (void)state;
    frame f;
    size_t a, b, c;
    uint32_t src;
    build_gre4(&f, 0, &a, &b);
    assert_int_equal(ds_peek_ipv4_src(1, f.b, (uint32_t)f.n, &src), 0);
    build_udp_tunnel(&f, 4789, 0, 0x6558, &a, &b, &c);
    assert_int_equal(ds_peek_ipv4_src(1, f.b, (uint32_t)f.n, &src), 0);
    assert_int_equal(ds_peek_ipv4_src(1, f.b, (uint32_t)a + 3, &src), 0);   /* port not captured */
    set16(&f, a + 2, 53);
    assert_int_equal(ds_peek_ipv4_src(1, f.b, (uint32_t)f.n, &src), 1);
    build_udp_tunnel(&f, 6081, 0, 0x6558, &a, &b, &c);
    assert_int_equal(ds_peek_ipv4_src(1, f.b, (uint32_t)f.n, &src), 0);
    f.n = 0;
    eth(&f, 0x0800);
    size_t l = outer4(&f, 41);
    ip4_done(&f, l);
    assert_int_equal(ds_peek_ipv4_src(1, f.b, (uint32_t)f.n, &src), 0);
}

static void test_encap_names(void **state)
{
    (void)state;
    const char *want[DS_ENC__COUNT] = { "vlan", "mpls", "pppoe", "gre", "erspan", "vxlan", "geneve", "ipip" };
    for (int i = 0; i < DS_ENC__COUNT; i++)
        assert_string_equal(ds_encap_name(i), want[i]);
    assert_string_equal(ds_encap_name(DS_ENC__COUNT), "?");
    assert_int_equal(DS_ENC_IPIP, 1u << (DS_ENC__COUNT - 1));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gre_ipv4),
        cmocka_unit_test(test_decode_outer),
        cmocka_unit_test(test_gre_not_decapsulated),
        cmocka_unit_test(test_gre_ipv6),
        cmocka_unit_test(test_gre_teb_mpls),
        cmocka_unit_test(test_gre_in_vlan),
        cmocka_unit_test(test_erspan),
        cmocka_unit_test(test_erspan_bad),
        cmocka_unit_test(test_vxlan_geneve),
        cmocka_unit_test(test_udp_tunnel_ports_probed),
        cmocka_unit_test(test_ipip),
        cmocka_unit_test(test_nesting_limit),
        cmocka_unit_test(test_peek_leaves_tunnels),
        cmocka_unit_test(test_encap_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
