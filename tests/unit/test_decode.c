/* test_decode.c: the packet decoder, frame by frame.
 *
 * Every frame is built byte by byte here (no capture files), so each test shows exactly which
 * bytes lead to which outcome.  The corpus test at the end decodes every packet of the shared
 * robustness corpus (real, often broken captures) when it is present, and skips otherwise;
 * run it under ASan+UBSan (`make sanitize`): each packet is copied into a buffer of exactly
 * caplen bytes so that any read past the capture is caught.
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
#include <ftw.h>
#include <sys/stat.h>
#include <cmocka.h>
#include <pcap/pcap.h>

#include "core/classify.h"
#include "core/packet.h"

#include "unit/frame.h"

/* An Ethernet/IPv4/TCP SYN to port 23 with 4 payload bytes. */
static void build_syn(frame *f)
{
    f->n = 0;
    eth(f, 0x0800);
    size_t l = ipv4(f, 6, 0x4000);   /* DF */
    tcp_syn(f, 51000, 23);
    putn(f, "abcd", 4);
    ip4_done(f, l);
}

/* ---- link layers ------------------------------------------------------------------------ */

/* ds_peek_ipv4_src, the owner test of ingest's threads: the decoder's source for a plain
 * Ethernet/IPv4 frame, 0 for anything it cannot read at a fixed place, never a read past caplen. */
static void test_peek_ipv4_src(void **state)
{
    (void)state;
    frame f;
    ds_pkt p;
    uint32_t src = 0;
    build_syn(&f);
    assert_int_equal(ds_peek_ipv4_src(1, f.b, (uint32_t)f.n, &src), 1);
    assert_int_equal(dec(1, &f, &p), DS_PKT_OK);
    assert_int_equal(src, ds_ip_v4(&p.src));
    assert_int_equal(ds_peek_ipv4_src(1, f.b, 34, &src), 1);   /* exactly to the end of the source */
    assert_int_equal(ds_peek_ipv4_src(1, f.b, 33, &src), 0);   /* one byte short */
    assert_int_equal(ds_peek_ipv4_src(101, f.b + 14, (uint32_t)f.n - 14, &src), 0);   /* raw IP: not this path */
    assert_int_equal(ds_peek_ipv4_src(1, NULL, 0, &src), 0);
    f.n = 0;                                     /* VLAN-tagged: decode it */
    eth(&f, 0x8100);
    put16(&f, 5); put16(&f, 0x0800);
    size_t l = ipv4(&f, 6, 0);
    tcp_plain(&f, 0x02);
    ip4_done(&f, l);
    assert_int_equal(ds_peek_ipv4_src(1, f.b, (uint32_t)f.n, &src), 0);
    f.n = 0;                                     /* IPv6 */
    eth(&f, 0x86dd);
    l = ipv6(&f, 6);
    tcp_plain(&f, 0x02);
    ip6_done(&f, l);
    assert_int_equal(ds_peek_ipv4_src(1, f.b, (uint32_t)f.n, &src), 0);
    f.n = 0;                                     /* ethertype IPv4 but version 6 in the header */
    eth(&f, 0x0800);
    l = ipv4(&f, 6, 0);
    f.b[14] = 0x65;
    assert_int_equal(ds_peek_ipv4_src(1, f.b, (uint32_t)f.n, &src), 0);
}

static void test_eth_ipv4_tcp_syn(void **state)
{
    (void)state;
    frame f;
    build_syn(&f);
    ds_pkt p;
    memset(&p, 0xa5, sizeof p);      /* ds_decode must overwrite everything */
    assert_int_equal(ds_decode(1, f.b, (uint32_t)f.n, 1500, &p), DS_PKT_OK);
    assert_int_equal(p.have, DS_HAVE_IP | DS_HAVE_L4);
    assert_int_equal(p.ts_ns, 0);
    assert_int_equal(p.caplen, f.n);
    assert_int_equal(p.wirelen, 1500);
    assert_v4(&p);
    for (int i = 4; i < 16; i++) {
        assert_int_equal(p.src.b[i], 0);
        assert_int_equal(p.dst.b[i], 0);
    }
    assert_int_equal(p.proto, 6);
    assert_int_equal(p.ttl, 64);
    assert_int_equal(p.ip_id, 0x1234);
    assert_int_equal(p.ip_len, 20 + 28 + 4);
    assert_int_equal(p.sport, 51000);
    assert_int_equal(p.dport, 23);
    assert_int_equal(p.tcp_flags, DS_TH_SYN);
    assert_int_equal(p.tcp_seq, 0x01020304);
    assert_int_equal(p.tcp_ack, 0);
    assert_int_equal(p.tcp_win, 29200);
    assert_int_equal(p.tcp_optlen, 8);
    assert_int_equal(p.tcp_mss, 1460);
    assert_int_equal(p.tcp_opt_kinds, 2);   /* MSS, SACK-permitted */
    assert_int_equal(p.payload_len, 4);
    assert_memory_equal(p.payload, "abcd", 4);
    assert_int_equal(p.inner_proto, 0);
    assert_int_equal(p.icmp_type, 0);
    assert_int_equal(ds_class_of(&p), DS_CLASS_SCAN);
    assert_int_equal(ds_service_of(&p), DS_SERVICE(6, 23));
}

static void test_eth_padding_not_payload(void **state)
{
    (void)state;
    frame f = { .n = 0 };
    eth(&f, 0x0800);
    size_t l = ipv4(&f, 6, 0);
    tcp_plain(&f, DS_TH_RST | DS_TH_ACK);
    ip4_done(&f, l);
    putz(&f, 6);                     /* pad to the 60-byte Ethernet minimum */
    ds_pkt p;
    assert_int_equal(dec(1, &f, &p), DS_PKT_OK);
    assert_int_equal(p.payload_len, 0);
    assert_null(p.payload);
    assert_int_equal(ds_class_of(&p), DS_CLASS_BACKSCATTER);
}

static void test_vlan_qinq(void **state)
{
    (void)state;
    static const unsigned outer[] = { 0x8100, 0x88a8, 0x9100 };
    for (size_t i = 0; i < 3; i++) {
        frame f = { .n = 0 };
        eth(&f, outer[i]);
        put16(&f, 100);
        if (outer[i] != 0x8100) {    /* QinQ: S-tag then C-tag */
            put16(&f, 0x8100);
            put16(&f, 200);
        }
        put16(&f, 0x0800);
        size_t l = ipv4(&f, 6, 0);
        tcp_syn(&f, 1, 445);
        ip4_done(&f, l);
        ds_pkt p;
        assert_int_equal(dec(1, &f, &p), DS_PKT_OK);
        assert_v4(&p);
        assert_int_equal(p.dport, 445);
    }
}

static void test_vlan_stack_bounded(void **state)
{
    (void)state;
    frame f = { .n = 0 };
    eth(&f, 0x8100);
    for (int i = 0; i < 40; i++) {
        put16(&f, 1);
        put16(&f, 0x8100);
    }
    ds_pkt p;
    assert_int_equal(dec(1, &f, &p), DS_PKT_NON_IP);
}

static void test_mpls(void **state)
{
    (void)state;
    frame f = { .n = 0 };
    eth(&f, 0x8847);
    put32(&f, (16u << 12) | 64);          /* label 16, S=0 */
    put32(&f, (17u << 12) | 0x100 | 64);  /* label 17, S=1 */
    size_t l = ipv4(&f, 6, 0);
    tcp_syn(&f, 1, 22);
    ip4_done(&f, l);
    ds_pkt p;
    assert_int_equal(dec(1, &f, &p), DS_PKT_OK);
    assert_v4(&p);
    assert_int_equal(p.dport, 22);

    f.n = 0;
    eth(&f, 0x8847);
    put32(&f, (18u << 12) | 0x100 | 64);
    l = ipv6(&f, 17);
    udp(&f, 5353, 53, "q");
    ip6_done(&f, l);
    assert_int_equal(dec(1, &f, &p), DS_PKT_OK);
    assert_v6(&p);
    assert_int_equal(p.dport, 53);

    /* pseudowire control word (first nibble 0): not IP */
    f.n = 0;
    eth(&f, 0x8847);
    put32(&f, (18u << 12) | 0x100 | 64);
    put32(&f, 0);
    putz(&f, 20);
    assert_int_equal(dec(1, &f, &p), DS_PKT_NON_IP);
}

static void test_pppoe(void **state)
{
    (void)state;
    frame f = { .n = 0 };
    eth(&f, 0x8864);
    put8(&f, 0x11); put8(&f, 0); put16(&f, 0x0042);
    size_t len_at = f.n;
    put16(&f, 0);
    put16(&f, 0x0021);
    size_t l = ipv4(&f, 17, 0);
    udp(&f, 1234, 5060, "INVITE");
    ip4_done(&f, l);
    set16(&f, len_at, (unsigned)(f.n - len_at - 2));
    ds_pkt p;
    assert_int_equal(dec(1, &f, &p), DS_PKT_OK);
    assert_v4(&p);
    assert_int_equal(p.proto, 17);
    assert_int_equal(p.dport, 5060);
    assert_int_equal(p.payload_len, 6);

    /* PPP LCP inside PPPoE: not IP */
    f.b[20] = 0xc0; f.b[21] = 0x21;
    assert_int_equal(dec(1, &f, &p), DS_PKT_NON_IP);
    /* PPPoE discovery */
    f.b[12] = 0x88; f.b[13] = 0x63;
    assert_int_equal(dec(1, &f, &p), DS_PKT_NON_IP);
}

static void test_llc_snap(void **state)
{
    (void)state;
    frame f = { .n = 0 };
    eth(&f, 0);                       /* 802.3 length, patched */
    put8(&f, 0xaa); put8(&f, 0xaa); put8(&f, 0x03);
    put8(&f, 0); put8(&f, 0); put8(&f, 0); put16(&f, 0x0800);
    size_t l = ipv4(&f, 6, 0);
    tcp_syn(&f, 1, 80);
    ip4_done(&f, l);
    set16(&f, 12, (unsigned)(f.n - 14));
    ds_pkt p;
    assert_int_equal(dec(1, &f, &p), DS_PKT_OK);
    assert_int_equal(p.dport, 80);
    /* STP (DSAP 0x42) */
    f.b[14] = 0x42; f.b[15] = 0x42;
    assert_int_equal(dec(1, &f, &p), DS_PKT_NON_IP);
}

static void test_sll_sll2(void **state)
{
    (void)state;
    frame f = { .n = 0 };
    put16(&f, 0); put16(&f, 1); put16(&f, 6);
    putz(&f, 8);
    put16(&f, 0x86dd);
    size_t l = ipv6(&f, 6);
    tcp_syn(&f, 40000, 8080);
    ip6_done(&f, l);
    ds_pkt p;
    assert_int_equal(dec(113, &f, &p), DS_PKT_OK);
    assert_v6(&p);
    assert_int_equal(p.dport, 8080);
    assert_int_equal(p.ttl, 55);
    assert_int_equal(p.ip_len, 40 + 28);

    f.n = 0;
    put16(&f, 0x0800); put16(&f, 0); put32(&f, 3);
    put16(&f, 1); put8(&f, 0); put8(&f, 6);
    putz(&f, 8);
    l = ipv4(&f, 6, 0);
    tcp_syn(&f, 40000, 3389);
    ip4_done(&f, l);
    assert_int_equal(dec(276, &f, &p), DS_PKT_OK);
    assert_v4(&p);
    assert_int_equal(p.dport, 3389);

    /* SLL carrying ARP */
    f.n = 0;
    put16(&f, 0); put16(&f, 1); put16(&f, 6); putz(&f, 8); put16(&f, 0x0806); putz(&f, 28);
    assert_int_equal(dec(113, &f, &p), DS_PKT_NON_IP);
    /* cut inside the SLL2 header */
    f.n = 19;
    assert_int_equal(dec(276, &f, &p), DS_PKT_TRUNCATED);
}

static void test_null_loop_both_orders(void **state)
{
    (void)state;
    static const uint32_t afs6[] = { 10, 24, 28, 30 };
    static const int lts[] = { 0, 108 };
    for (int k = 0; k < 2; k++) {
        for (int be = 0; be < 2; be++) {
            frame f = { .n = 0 };
            be ? put32(&f, 2) : put32le(&f, 2);
            size_t l = ipv4(&f, 6, 0);
            tcp_syn(&f, 1, 1433);
            ip4_done(&f, l);
            ds_pkt p;
            assert_int_equal(dec(lts[k], &f, &p), DS_PKT_OK);
            assert_v4(&p);
            assert_int_equal(p.dport, 1433);
            for (size_t i = 0; i < 4; i++) {
                f.n = 0;
                be ? put32(&f, afs6[i]) : put32le(&f, afs6[i]);
                l = ipv6(&f, 58);
                put8(&f, 128); put8(&f, 0); put16(&f, 0); put32(&f, 1);
                ip6_done(&f, l);
                assert_int_equal(dec(lts[k], &f, &p), DS_PKT_OK);
                assert_v6(&p);
                assert_int_equal(p.icmp_type, 128);
            }
            f.n = 0;
            be ? put32(&f, 7) : put32le(&f, 7);   /* AF_APPLETALK-ish */
            putz(&f, 40);
            assert_int_equal(dec(lts[k], &f, &p), DS_PKT_NON_IP);
        }
    }
}

static void test_raw(void **state)
{
    (void)state;
    static const int lts[] = { 101, 12, 14 };
    for (int i = 0; i < 3; i++) {
        frame f = { .n = 0 };
        size_t l = ipv4(&f, 17, 0);
        udp(&f, 1, 161, "snmp");
        ip4_done(&f, l);
        ds_pkt p;
        assert_int_equal(dec(lts[i], &f, &p), DS_PKT_OK);
        assert_v4(&p);
        assert_int_equal(p.dport, 161);
        assert_int_equal(dec(228, &f, &p), DS_PKT_OK);
        assert_int_equal(dec(229, &f, &p), DS_PKT_MALFORMED);   /* says IPv6, is IPv4 */

        f.n = 0;
        l = ipv6(&f, 17);
        udp(&f, 1, 123, "ntp");
        ip6_done(&f, l);
        assert_int_equal(dec(lts[i], &f, &p), DS_PKT_OK);
        assert_v6(&p);
        assert_int_equal(p.dport, 123);
        assert_int_equal(dec(229, &f, &p), DS_PKT_OK);
        assert_int_equal(dec(228, &f, &p), DS_PKT_MALFORMED);

        f.b[0] = 0x50;   /* version 5 */
        assert_int_equal(dec(lts[i], &f, &p), DS_PKT_MALFORMED);
    }
}

static void test_ppp_hdlc(void **state)
{
    (void)state;
    frame f = { .n = 0 };
    put8(&f, 0xff); put8(&f, 0x03); put16(&f, 0x0021);
    size_t l = ipv4(&f, 6, 0);
    tcp_syn(&f, 1, 25);
    ip4_done(&f, l);
    ds_pkt p;
    assert_int_equal(dec(9, &f, &p), DS_PKT_OK);
    assert_int_equal(p.dport, 25);
    assert_int_equal(dec(50, &f, &p), DS_PKT_OK);
    /* Cisco HDLC */
    f.b[0] = 0x0f; f.b[1] = 0x00; f.b[2] = 0x08; f.b[3] = 0x00;
    assert_int_equal(dec(104, &f, &p), DS_PKT_OK);
    assert_int_equal(dec(50, &f, &p), DS_PKT_OK);
    /* PPP with a compressed protocol field and no address/control */
    f.n = 0;
    put8(&f, 0x21);
    l = ipv4(&f, 6, 0);
    tcp_syn(&f, 1, 26);
    ip4_done(&f, l);
    assert_int_equal(dec(9, &f, &p), DS_PKT_OK);
    assert_int_equal(p.dport, 26);
}

static void build_80211(frame *f, unsigned fc0, unsigned flags)
{
    put8(f, fc0); put8(f, flags); put16(f, 0);
    putz(f, 18); put16(f, 0);            /* addr1-3, sequence control */
    if ((flags & 3) == 3) putz(f, 6);
    if (fc0 & 0x80) put16(f, 0);         /* QoS control */
    put8(f, 0xaa); put8(f, 0xaa); put8(f, 0x03); putz(f, 3); put16(f, 0x0800);
    size_t l = ipv4(f, 6, 0);
    tcp_syn(f, 1, 5900);
    ip4_done(f, l);
}

static void test_80211_radiotap(void **state)
{
    (void)state;
    frame f = { .n = 0 };
    build_80211(&f, 0x08, 0x01);         /* data, ToDS */
    ds_pkt p;
    assert_int_equal(dec(105, &f, &p), DS_PKT_OK);
    assert_int_equal(p.dport, 5900);
    f.n = 0;
    build_80211(&f, 0x88, 0x03);         /* QoS data, WDS */
    assert_int_equal(dec(105, &f, &p), DS_PKT_OK);
    assert_int_equal(p.dport, 5900);
    f.b[1] |= 0x40;                      /* protected */
    assert_int_equal(dec(105, &f, &p), DS_PKT_NON_IP);
    f.n = 0;
    put8(&f, 0x80); put8(&f, 0); putz(&f, 40);   /* beacon */
    assert_int_equal(dec(105, &f, &p), DS_PKT_NON_IP);

    f.n = 0;
    put8(&f, 0); put8(&f, 0); put16le(&f, 12); put32le(&f, 0x4); put16le(&f, 2412); put16le(&f, 0);
    build_80211(&f, 0x08, 0x02);
    assert_int_equal(dec(127, &f, &p), DS_PKT_OK);
    assert_int_equal(p.dport, 5900);
    f.b[2] = 200;                        /* radiotap longer than the frame */
    assert_int_equal(dec(127, &f, &p), DS_PKT_TRUNCATED);
}

static void test_pflog_nflog_ipnet(void **state)
{
    (void)state;
    frame f = { .n = 0 };
    put8(&f, 61); put8(&f, 2); putz(&f, 62);    /* 61 rounds up to 64 */
    size_t l = ipv4(&f, 6, 0);
    tcp_syn(&f, 1, 6379);
    ip4_done(&f, l);
    ds_pkt p;
    assert_int_equal(dec(117, &f, &p), DS_PKT_OK);
    assert_int_equal(p.dport, 6379);
    f.b[0] = 10;
    assert_int_equal(dec(117, &f, &p), DS_PKT_MALFORMED);

    for (int be = 0; be < 2; be++) {
        f.n = 0;
        put8(&f, 2); put8(&f, 0); put16(&f, 0);
        /* NFULA_PACKET_HDR (1), 8 bytes */
        be ? put16(&f, 8) : put16le(&f, 8);
        be ? put16(&f, 1) : put16le(&f, 1);
        put32(&f, 0x08000300);
        /* NFULA_PREFIX (10), 6 bytes, padded to 8 */
        be ? put16(&f, 6) : put16le(&f, 6);
        be ? put16(&f, 10) : put16le(&f, 10);
        put8(&f, 'x'); put8(&f, 0); putz(&f, 2);
        size_t tlv = f.n;
        put16(&f, 0); put16(&f, 0);
        l = ipv4(&f, 6, 0);
        tcp_syn(&f, 1, 9200);
        ip4_done(&f, l);
        unsigned tl = (unsigned)(f.n - tlv);
        if (be) { set16(&f, tlv, tl); set16(&f, tlv + 2, 9); }
        else { f.b[tlv] = (uint8_t)tl; f.b[tlv + 1] = (uint8_t)(tl >> 8); f.b[tlv + 2] = 9; }
        assert_int_equal(dec(239, &f, &p), DS_PKT_OK);
        assert_int_equal(p.dport, 9200);
    }

    f.n = 0;
    put8(&f, 1); put8(&f, 26); put16(&f, 0); putz(&f, 20);
    l = ipv6(&f, 6);
    tcp_syn(&f, 1, 111);
    ip6_done(&f, l);
    assert_int_equal(dec(226, &f, &p), DS_PKT_OK);
    assert_v6(&p);
    assert_int_equal(p.dport, 111);
}

/* ---- IPv6 ------------------------------------------------------------------------------- */

static void test_ipv6_ext_headers(void **state)
{
    (void)state;
    frame f = { .n = 0 };
    eth(&f, 0x86dd);
    size_t l = ipv6(&f, 0);
    put8(&f, 60); put8(&f, 0); put8(&f, 1); put8(&f, 4); putz(&f, 4);   /* HBH, PadN */
    put8(&f, 51); put8(&f, 1); putz(&f, 14);                             /* Dest opts, 16 */
    put8(&f, 6); put8(&f, 4); putz(&f, 22);                              /* AH: (4+2)*4 = 24 */
    tcp_syn(&f, 33333, 443);
    ip6_done(&f, l);
    ds_pkt p;
    assert_int_equal(dec(1, &f, &p), DS_PKT_OK);
    assert_v6(&p);
    assert_int_equal(p.proto, 6);
    assert_int_equal(p.dport, 443);
    assert_int_equal(p.tcp_mss, 1460);
    assert_int_equal(p.ip_id, 0);

    /* No Next Header */
    f.n = 0;
    eth(&f, 0x86dd);
    l = ipv6(&f, 60);
    put8(&f, 59); put8(&f, 0); putz(&f, 6);
    ip6_done(&f, l);
    assert_int_equal(dec(1, &f, &p), DS_PKT_OK);
    assert_int_equal(p.proto, 59);
    assert_false(p.have & DS_HAVE_L4);
    assert_int_equal(ds_service_of(&p), DS_SERVICE(59, 0));

    /* An extension header longer than the payload length says: malformed. */
    f.n = 0;
    eth(&f, 0x86dd);
    l = ipv6(&f, 0);
    put8(&f, 6); put8(&f, 3); putz(&f, 6);       /* claims 32 bytes, 8 present */
    ip6_done(&f, l);
    putz(&f, 40);                                /* trailer beyond the IPv6 payload */
    assert_int_equal(dec(1, &f, &p), DS_PKT_MALFORMED);
    assert_true(p.have & DS_HAVE_IP);

    /* An endless chain is bounded. */
    f.n = 0;
    l = ipv6(&f, 60);
    for (int i = 0; i < 100; i++) { put8(&f, 60); put8(&f, 0); putz(&f, 6); }
    ip6_done(&f, l);
    assert_int_equal(dec(229, &f, &p), DS_PKT_MALFORMED);
}

static void test_ipv6_fragment(void **state)
{
    (void)state;
    frame f = { .n = 0 };
    eth(&f, 0x86dd);
    size_t l = ipv6(&f, 44);
    put8(&f, 17); put8(&f, 0); put16(&f, 0x0001); put32(&f, 0xdeadbeef);   /* offset 0, M */
    udp(&f, 1, 53, "xxxxxxxxxxxxxxxx");
    ip6_done(&f, l);
    ds_pkt p;
    /* the first fragment: its UDP header is whole, so it is decoded (DS_HAVE_FRAG) */
    assert_int_equal(dec(1, &f, &p), DS_PKT_OK);
    assert_v6(&p);
    assert_int_equal(p.proto, 17);
    assert_true(p.have & DS_HAVE_L4);
    assert_true(p.have & DS_HAVE_FRAG);
    assert_int_equal(p.sport, 1);
    assert_int_equal(p.dport, 53);
    assert_int_equal(p.payload_len, 16);
    /* later fragment: no transport header */
    set16(&f, 14 + 40 + 2, (185 << 3) | 1);
    assert_int_equal(dec(1, &f, &p), DS_PKT_FRAGMENT);
    assert_int_equal(p.proto, 17);
    assert_false(p.have & DS_HAVE_L4);
    set16(&f, 14 + 40 + 2, 185 << 3);   /* the last one */
    assert_int_equal(dec(1, &f, &p), DS_PKT_FRAGMENT);
    /* atomic fragment (RFC 6946): a whole packet */
    set16(&f, 14 + 40 + 2, 0);
    assert_int_equal(dec(1, &f, &p), DS_PKT_OK);
    assert_int_equal(p.dport, 53);
    assert_false(p.have & DS_HAVE_FRAG);

    /* a first fragment whose UDP header is cut after 6 bytes (RFC 1858's tiny fragment) */
    f.n = 0;
    eth(&f, 0x86dd);
    l = ipv6(&f, 44);
    put8(&f, 17); put8(&f, 0); put16(&f, 0x0001); put32(&f, 0xdeadbeef);
    put16(&f, 1); put16(&f, 53); put16(&f, 100);
    ip6_done(&f, l);
    assert_int_equal(dec(1, &f, &p), DS_PKT_FRAGMENT);
    assert_int_equal(p.proto, 17);
    assert_false(p.have & (DS_HAVE_L4 | DS_HAVE_FRAG));
    assert_int_equal(p.dport, 0);

    /* Destination Options after the fragment header, then UDP */
    f.n = 0;
    eth(&f, 0x86dd);
    l = ipv6(&f, 44);
    put8(&f, 60); put8(&f, 0); put16(&f, 0x0001); put32(&f, 0xdeadbeef);
    put8(&f, 17); put8(&f, 0); putz(&f, 6);
    udp(&f, 123, 40000, "xxxxxxxx");
    ip6_done(&f, l);
    assert_int_equal(dec(1, &f, &p), DS_PKT_OK);
    assert_int_equal(p.proto, 17);
    assert_int_equal(p.sport, 123);
    assert_true(p.have & DS_HAVE_FRAG);
}

/* ---- IPv4 ------------------------------------------------------------------------------- */

static void test_ipv4_fragments(void **state)
{
    (void)state;
    frame f = { .n = 0 };
    eth(&f, 0x0800);
    size_t l = ipv4(&f, 17, 0x2000);   /* MF, offset 0: first fragment */
    udp(&f, 53, 40000, "first fragment");
    ip4_done(&f, l);
    ds_pkt p;
    /* its UDP header is whole: decoded as a packet, and classified by its ports (an amplifier's
     * fragmented answer is backscatter like its whole ones) */
    assert_int_equal(dec(1, &f, &p), DS_PKT_OK);
    assert_v4(&p);
    assert_int_equal(p.proto, 17);
    assert_true(p.have & DS_HAVE_L4);
    assert_true(p.have & DS_HAVE_FRAG);
    assert_int_equal(p.sport, 53);
    assert_int_equal(p.dport, 40000);
    assert_int_equal(p.payload_len, 14);

    set16(&f, 20, 0x2000 | 100);       /* offset 800, MF: a middle fragment */
    assert_int_equal(dec(1, &f, &p), DS_PKT_FRAGMENT);
    assert_false(p.have & DS_HAVE_L4);
    set16(&f, 20, 100);                /* offset 800, no MF: last fragment */
    assert_int_equal(dec(1, &f, &p), DS_PKT_FRAGMENT);
    assert_v4(&p);
    assert_int_equal(p.proto, 17);
    assert_false(p.have & DS_HAVE_L4);
    set16(&f, 20, 0x4000);             /* DF only: not a fragment */
    assert_int_equal(dec(1, &f, &p), DS_PKT_OK);
    assert_false(p.have & DS_HAVE_FRAG);

    /* a first fragment of a TCP segment with only 8 bytes of its header (the tiny fragment of
     * RFC 1858): a fragment, no ports */
    f.n = 0;
    eth(&f, 0x0800);
    l = ipv4(&f, 6, 0x2000);
    put16(&f, 51000); put16(&f, 23); put32(&f, 1);
    ip4_done(&f, l);
    assert_int_equal(dec(1, &f, &p), DS_PKT_FRAGMENT);
    assert_int_equal(p.proto, 6);
    assert_false(p.have & (DS_HAVE_L4 | DS_HAVE_FRAG));
    assert_int_equal(p.sport, 0);
    assert_null(p.payload);

    /* a first fragment of UDP to 4789: not entered as VXLAN (the inner frame is cut) */
    f.n = 0;
    eth(&f, 0x0800);
    l = ipv4(&f, 17, 0x2000);
    udp(&f, 5000, 4789, "\x08\0\0\0\0\0\x01\0");
    ip4_done(&f, l);
    assert_int_equal(dec(1, &f, &p), DS_PKT_OK);
    assert_int_equal(p.dport, 4789);
    assert_int_equal(p.encap, 0);
    /* a first fragment of GRE: not decapsulated, a fragment */
    f.n = 0;
    eth(&f, 0x0800);
    l = ipv4(&f, 47, 0x2000);
    put16(&f, 0); put16(&f, 0x0800);
    ip4_done(&f, l);
    assert_int_equal(dec(1, &f, &p), DS_PKT_FRAGMENT);
    assert_int_equal(p.proto, 47);

    /* StopDDoS's amp.dns.RRSIG.fragmented: a resolver's large answer to a forged query, from 53
     * to 22/udp, in fragments.  The first is the reflection's backscatter on 22/udp, as the
     * capture's whole answers are (it was counted as a fragment only: 40 packets from 21
     * reflectors on 22/udp became 523 from 49) */
    static const uint8_t dns[] = { 0x3b, 0x96, 0x81, 0x80, 0, 1, 0, 7, 0, 0, 0, 0, 5, 'x', 'x', 'x', 'x', 'x', 0 };
    f.n = 0;
    eth(&f, 0x0800);
    l = ipv4(&f, 17, 0x2000);
    put16(&f, 53); put16(&f, 22); put16(&f, 1480); put16(&f, 0);   /* the whole datagram's length */
    putn(&f, dns, sizeof dns);
    ip4_done(&f, l);
    assert_int_equal(dec(1, &f, &p), DS_PKT_OK);
    assert_true(p.have & DS_HAVE_FRAG);
    assert_int_equal(p.payload_len, sizeof dns);
    assert_int_equal(ds_class_of(&p), DS_CLASS_BACKSCATTER);
    assert_int_equal(ds_service_of(&p), DS_SERVICE(DS_PROTO_UDP, 22));
}

static void test_ipv4_malformed(void **state)
{
    (void)state;
    frame f;
    build_syn(&f);
    ds_pkt p;

    f.b[14] = 0x44;                    /* IHL 4 */
    assert_int_equal(dec(1, &f, &p), DS_PKT_MALFORMED);
    assert_v4(&p);
    f.b[14] = 0x65;                    /* version 6 behind EtherType IPv4 */
    assert_int_equal(dec(1, &f, &p), DS_PKT_MALFORMED);
    assert_false(p.have & DS_HAVE_IP);

    build_syn(&f);
    set16(&f, 16, 19);                 /* total length < header */
    assert_int_equal(dec(1, &f, &p), DS_PKT_MALFORMED);
    assert_true(p.have & DS_HAVE_IP);

    build_syn(&f);
    set16(&f, 16, 30);                 /* total length leaves 10 bytes for TCP */
    assert_int_equal(dec(1, &f, &p), DS_PKT_MALFORMED);

    build_syn(&f);
    f.b[14 + 20 + 12] = 0x40;          /* TCP data offset 4 */
    assert_int_equal(dec(1, &f, &p), DS_PKT_MALFORMED);
    f.b[14 + 20 + 12] = 0xf0;          /* data offset 60 > the 32 bytes of IP payload */
    assert_int_equal(dec(1, &f, &p), DS_PKT_MALFORMED);

    build_syn(&f);
    f.b[14] = 0x4f;                    /* IHL 15: options run past the capture */
    f.n = 14 + 40;
    assert_int_equal(dec(1, &f, &p), DS_PKT_TRUNCATED);
    assert_true(p.have & DS_HAVE_IP);

    f.n = 0;
    eth(&f, 0x0800);
    size_t l = ipv4(&f, 17, 0);
    put16(&f, 1); put16(&f, 2); put16(&f, 7); put16(&f, 0);   /* UDP length 7 */
    ip4_done(&f, l);
    assert_int_equal(dec(1, &f, &p), DS_PKT_MALFORMED);
}

static void test_ipv4_with_options(void **state)
{
    (void)state;
    frame f = { .n = 0 };
    eth(&f, 0x0800);
    size_t l = ipv4(&f, 6, 0);
    f.b[14] = 0x46;
    put8(&f, 1); put8(&f, 1); put8(&f, 1); put8(&f, 0);   /* NOP NOP NOP EOL */
    tcp_plain(&f, DS_TH_SYN | DS_TH_ACK);
    ip4_done(&f, l);
    ds_pkt p;
    assert_int_equal(dec(1, &f, &p), DS_PKT_OK);
    assert_int_equal(p.sport, 80);
    assert_int_equal(p.tcp_mss, 0);
    assert_int_equal(p.tcp_opt_kinds, 0);
    assert_int_equal(ds_class_of(&p), DS_CLASS_BACKSCATTER);
}

/* The timestamp option's TSval (Nmap's OS probes send 0xFFFFFFFF: core/fingerprint.h), only when
 * the whole option was captured. */
static void test_tcp_timestamp(void **state)
{
    (void)state;
    frame f = { .n = 0 };
    eth(&f, 0x0800);
    size_t l = ipv4(&f, 6, 0);
    put16(&f, 38796); put16(&f, 1); put32(&f, 1); put32(&f, 0);
    put8(&f, 10 << 4); put8(&f, DS_TH_SYN); put16(&f, 31337); put16(&f, 0); put16(&f, 0);
    put8(&f, 3); put8(&f, 3); put8(&f, 10); put8(&f, 1);            /* WScale 10, NOP */
    put8(&f, 2); put8(&f, 4); put16(&f, 265);                       /* MSS 265 */
    put8(&f, 8); put8(&f, 10); put32(&f, 0xffffffffu); put32(&f, 0); /* TS val 0xFFFFFFFF, ecr 0 */
    put8(&f, 4); put8(&f, 2);                                       /* SACK permitted */
    ip4_done(&f, l);
    ds_pkt p;
    assert_int_equal(dec(1, &f, &p), DS_PKT_OK);
    assert_true(p.have & DS_HAVE_TCPTS);
    assert_true(p.tcp_tsval == 0xffffffffu);
    assert_int_equal(p.tcp_mss, 265);
    assert_int_equal(p.tcp_opt_kinds, 4);
    /* captured up to the middle of the TS option: no TSval */
    assert_int_equal(ds_decode(1, f.b, (uint32_t)(14 + 20 + 20 + 8 + 6), (uint32_t)f.n, &p), DS_PKT_OK);
    assert_false(p.have & DS_HAVE_TCPTS);
    assert_int_equal(p.tcp_tsval, 0);
}

static void test_other_protocol(void **state)
{
    (void)state;
    frame f = { .n = 0 };
    eth(&f, 0x0800);
    size_t l = ipv4(&f, 50, 0);   /* ESP (GRE is decapsulated now: test_tunnel.c) */
    put32(&f, 0x1000); put32(&f, 1); putz(&f, 16);
    ip4_done(&f, l);
    ds_pkt p;
    assert_int_equal(dec(1, &f, &p), DS_PKT_OK);
    assert_int_equal(p.have, DS_HAVE_IP);
    assert_int_equal(p.proto, 50);
    assert_int_equal(p.payload_len, 24);
    assert_int_equal(ds_service_of(&p), DS_SERVICE(50, 0));
    char buf[DS_SERVICE_STRLEN];
    assert_string_equal(ds_service_format(ds_service_of(&p), buf, sizeof buf), "50/ip");
    assert_int_equal(ds_class_of(&p), DS_CLASS_OTHER);
}

/* ---- ICMP ------------------------------------------------------------------------------- */

static void test_icmp_port_unreachable(void **state)
{
    (void)state;
    /* A resolver at SRC4 answers a DNS query that "came from" DST4 (our darknet address). */
    frame f = { .n = 0 };
    eth(&f, 0x0800);
    size_t l = ipv4(&f, 1, 0);
    put8(&f, 3); put8(&f, 3); put16(&f, 0); put32(&f, 0);
    /* quoted: DST4:5555 -> 203.0.113.9:53 UDP */
    put8(&f, 0x45); put8(&f, 0); put16(&f, 60); put16(&f, 9); put16(&f, 0);
    put8(&f, 50); put8(&f, 17); put16(&f, 0);
    putn(&f, DST4, 4);
    put8(&f, 203); put8(&f, 0); put8(&f, 113); put8(&f, 9);
    put16(&f, 5555); put16(&f, 53); put16(&f, 40); put16(&f, 0);
    ip4_done(&f, l);
    ds_pkt p;
    assert_int_equal(dec(1, &f, &p), DS_PKT_OK);
    assert_v4(&p);
    assert_int_equal(p.have, DS_HAVE_IP | DS_HAVE_L4 | DS_HAVE_INNER);
    assert_int_equal(p.icmp_type, 3);
    assert_int_equal(p.icmp_code, 3);
    assert_int_equal(p.inner_proto, 17);
    assert_memory_equal(p.inner_src.b, DST4, 4);
    assert_int_equal(ds_ip_v4(&p.inner_dst), 0xcb007109u);
    assert_int_equal(p.inner_sport, 5555);
    assert_int_equal(p.inner_dport, 53);
    assert_int_equal(ds_class_of(&p), DS_CLASS_BACKSCATTER);
    assert_int_equal(ds_service_of(&p), DS_SERVICE(1, 3));

    /* Quote cut after the inner IP header: inner addresses, no ports. */
    size_t full = f.n;
    f.n = full - 8;
    set16(&f, 16, (unsigned)(f.n - 14));
    assert_int_equal(dec(1, &f, &p), DS_PKT_OK);
    assert_true(p.have & DS_HAVE_INNER);
    assert_int_equal(p.inner_dport, 0);
    /* Quote cut inside the inner IP header: no inner at all, still OK. */
    f.n = full - 20;
    set16(&f, 16, (unsigned)(f.n - 14));
    assert_int_equal(dec(1, &f, &p), DS_PKT_OK);
    assert_false(p.have & DS_HAVE_INNER);

    /* echo request: 4 bytes are enough */
    f.n = 0;
    eth(&f, 0x0800);
    l = ipv4(&f, 1, 0);
    put8(&f, 8); put8(&f, 0); put16(&f, 0);
    ip4_done(&f, l);
    assert_int_equal(dec(1, &f, &p), DS_PKT_OK);
    assert_int_equal(p.icmp_type, 8);
    assert_int_equal(ds_class_of(&p), DS_CLASS_SCAN);
}

static void test_icmp6_unreachable_tcp(void **state)
{
    (void)state;
    frame f = { .n = 0 };
    eth(&f, 0x86dd);
    size_t l = ipv6(&f, 58);
    put8(&f, 1); put8(&f, 4); put16(&f, 0); put32(&f, 0);
    /* quoted IPv6 header DST6 -> 2001:db8::99, with a Dest Options header, then TCP */
    put32(&f, 0x60000000); put16(&f, 28); put8(&f, 60); put8(&f, 60);
    putn(&f, DST6, 16);
    put32(&f, 0x20010db8); putz(&f, 11); put8(&f, 0x99);
    put8(&f, 6); put8(&f, 0); putz(&f, 6);
    put16(&f, 40001); put16(&f, 22); put32(&f, 1);
    ip6_done(&f, l);
    ds_pkt p;
    assert_int_equal(dec(1, &f, &p), DS_PKT_OK);
    assert_v6(&p);
    assert_int_equal(p.have, DS_HAVE_IP | DS_HAVE_L4 | DS_HAVE_INNER);
    assert_int_equal(p.icmp_type, 1);
    assert_int_equal(p.icmp_code, 4);
    assert_int_equal(p.inner_proto, 6);
    assert_int_equal(p.inner_src.v6, 1);
    assert_memory_equal(p.inner_src.b, DST6, 16);
    assert_int_equal(p.inner_dst.b[15], 0x99);
    assert_int_equal(p.inner_sport, 40001);
    assert_int_equal(p.inner_dport, 22);
    assert_int_equal(ds_class_of(&p), DS_CLASS_BACKSCATTER);
    assert_int_equal(ds_service_of(&p), DS_SERVICE(58, 1));
}

/* ---- truncation at every length ---------------------------------------------------------- */

/* For each caplen 0..len of a good frame: no crash, no read past caplen (the frame is copied
 * into a buffer of exactly caplen bytes, so ASan catches any), and OK only when every header
 * we need fits; `need` is the caplen from which OK is expected, `ip_at` where the IP header
 * starts and `ip_hl` its length. */
static void truncate_all(int lt, const frame *f, size_t need, size_t ip_at, size_t ip_hl)
{
    for (size_t cap = 0; cap <= f->n; cap++) {
        uint8_t *copy = malloc(cap ? cap : 1);
        assert_non_null(copy);
        memcpy(copy, f->b, cap);
        ds_pkt p;
        ds_outcome o = ds_decode(lt, copy, (uint32_t)cap, (uint32_t)f->n, &p);
        if (cap < need) {
            assert_int_equal(o, DS_PKT_TRUNCATED);
        } else {
            assert_int_equal(o, DS_PKT_OK);
            assert_true(p.have & DS_HAVE_L4);
        }
        if (cap >= ip_at + ip_hl)
            assert_true(p.have & DS_HAVE_IP);
        else if (cap < ip_at + 20)
            assert_false(p.have & DS_HAVE_IP);
        if (p.payload_len)
            assert_true(p.payload >= copy && p.payload + p.payload_len <= copy + cap);
        free(copy);
    }
}

static void test_truncated_every_length(void **state)
{
    (void)state;
    frame f;
    build_syn(&f);
    truncate_all(1, &f, 14 + 20 + 20, 14, 20);

    frame g = { .n = 0 };
    eth(&g, 0x8100); put16(&g, 5); put16(&g, 0x86dd);
    size_t l = ipv6(&g, 0);
    put8(&g, 17); put8(&g, 0); put8(&g, 1); put8(&g, 4); putz(&g, 4);
    udp(&g, 1, 19, "chargen");
    ip6_done(&g, l);
    truncate_all(1, &g, 18 + 40 + 8 + 8, 18, 40);

    frame h = { .n = 0 };
    size_t l2 = ipv4(&h, 1, 0);
    put8(&h, 11); put8(&h, 0); put16(&h, 0); put32(&h, 0);
    put8(&h, 0x45); putz(&h, 8); put8(&h, 6); putz(&h, 10); put16(&h, 1); put16(&h, 2);
    ip4_done(&h, l2);
    truncate_all(101, &h, 24, 0, 20);
}

/* ---- other outcomes --------------------------------------------------------------------- */

static void test_arp_non_ip(void **state)
{
    (void)state;
    frame f = { .n = 0 };
    eth(&f, 0x0806);
    put16(&f, 1); put16(&f, 0x0800); put8(&f, 6); put8(&f, 4); put16(&f, 1); putz(&f, 20);
    ds_pkt p;
    assert_int_equal(dec(1, &f, &p), DS_PKT_NON_IP);
    assert_int_equal(p.have, 0);
}

static void test_unknown_link(void **state)
{
    (void)state;
    frame f;
    build_syn(&f);
    ds_pkt p;
    assert_int_equal(dec(147, &f, &p), DS_PKT_UNKNOWN_LINK);   /* USER0 */
    assert_int_equal(dec(-1, &f, &p), DS_PKT_UNKNOWN_LINK);
    assert_int_equal(ds_decode(1, NULL, 0, 0, &p), DS_PKT_TRUNCATED);
}

static void test_outcome_names(void **state)
{
    (void)state;
    assert_string_equal(ds_outcome_name(DS_PKT_OK), "ok");
    assert_string_equal(ds_outcome_name(DS_PKT_NON_IP), "non-ip");
    assert_string_equal(ds_outcome_name(DS_PKT_TRUNCATED), "truncated");
    assert_string_equal(ds_outcome_name(DS_PKT_FRAGMENT), "fragment");
    assert_string_equal(ds_outcome_name(DS_PKT_MALFORMED), "malformed");
    assert_string_equal(ds_outcome_name(DS_PKT_UNKNOWN_LINK), "unknown-link");
    assert_string_equal(ds_outcome_name((ds_outcome)99), "?");
}

/* ---- robustness corpus ------------------------------------------------------------------ */

static uint64_t corpus_totals[DS_PKT__COUNT], corpus_files, corpus_unreadable, corpus_ok_tcp4;
static int corpus_verbose;

/* libpcap hands out DLT_* values; they equal LINKTYPE_* except for a few, of which only
 * DLT_RAW (12 or 14 depending on the OS) matters to us. */
static int dlt_to_linktype(int dlt)
{
#ifdef DLT_RAW
    if (dlt == DLT_RAW)
        return 101;
#endif
    return dlt;
}

static int corpus_file(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st; (void)ftw;
    if (type != FTW_F)
        return 0;
    char errbuf[PCAP_ERRBUF_SIZE];
    pcap_t *pc = pcap_open_offline(path, errbuf);
    if (!pc) {
        corpus_unreadable++;
        return 0;
    }
    corpus_files++;
    int lt = dlt_to_linktype(pcap_datalink(pc));
    struct pcap_pkthdr *h;
    const u_char *data;
    uint64_t ok_tcp4 = 0, n = 0;
    while (pcap_next_ex(pc, &h, &data) == 1) {
        /* exact-size copy: ASan then reports any read beyond caplen */
        uint8_t *copy = malloc(h->caplen ? h->caplen : 1);
        assert_non_null(copy);
        memcpy(copy, data, h->caplen);
        ds_pkt p;
        ds_outcome o = ds_decode(lt, copy, h->caplen, h->len, &p);
        assert_true((unsigned)o < DS_PKT__COUNT);
        corpus_totals[o]++;
        n++;
        if (o == DS_PKT_OK) {
            assert_true(p.have & DS_HAVE_IP);
            unsigned sum = 0;
            for (uint32_t i = 0; i < p.payload_len; i++)
                sum += p.payload[i];
            (void)sum;
            (void)ds_class_of(&p);
            (void)ds_service_of(&p);
            if (p.proto == 6 && !p.src.v6)
                ok_tcp4++;
        }
        free(copy);
    }
    corpus_ok_tcp4 += ok_tcp4;
    if (corpus_verbose)
        printf("corpus-file\t%s\t%d\t%llu\t%llu\n", path, lt, (unsigned long long)n,
               (unsigned long long)ok_tcp4);
    pcap_close(pc);
    return 0;
}

static void test_corpus(void **state)
{
    (void)state;
    const char *dir = getenv("DS_CORPUS");
    if (!dir || !*dir)
        dir = "../shared/corpus/robustness";
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        printf("corpus: %s not present, skipping\n", dir);
        skip();
    }
    corpus_verbose = getenv("DS_CORPUS_VERBOSE") != NULL;
    assert_int_equal(nftw(dir, corpus_file, 32, FTW_PHYS), 0);
    printf("corpus: %llu files decoded, %llu not readable by libpcap\n",
           (unsigned long long)corpus_files, (unsigned long long)corpus_unreadable);
    for (int o = 0; o < DS_PKT__COUNT; o++)
        printf("corpus: %-13s %llu\n", ds_outcome_name((ds_outcome)o),
               (unsigned long long)corpus_totals[o]);
    printf("corpus: ok IPv4 TCP    %llu\n", (unsigned long long)corpus_ok_tcp4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_eth_ipv4_tcp_syn),
        cmocka_unit_test(test_peek_ipv4_src),
        cmocka_unit_test(test_eth_padding_not_payload),
        cmocka_unit_test(test_vlan_qinq),
        cmocka_unit_test(test_vlan_stack_bounded),
        cmocka_unit_test(test_mpls),
        cmocka_unit_test(test_pppoe),
        cmocka_unit_test(test_llc_snap),
        cmocka_unit_test(test_sll_sll2),
        cmocka_unit_test(test_null_loop_both_orders),
        cmocka_unit_test(test_raw),
        cmocka_unit_test(test_ppp_hdlc),
        cmocka_unit_test(test_80211_radiotap),
        cmocka_unit_test(test_pflog_nflog_ipnet),
        cmocka_unit_test(test_ipv6_ext_headers),
        cmocka_unit_test(test_ipv6_fragment),
        cmocka_unit_test(test_ipv4_fragments),
        cmocka_unit_test(test_tcp_timestamp),
        cmocka_unit_test(test_ipv4_malformed),
        cmocka_unit_test(test_ipv4_with_options),
        cmocka_unit_test(test_other_protocol),
        cmocka_unit_test(test_icmp_port_unreachable),
        cmocka_unit_test(test_icmp6_unreachable_tcp),
        cmocka_unit_test(test_truncated_every_length),
        cmocka_unit_test(test_arp_non_ip),
        cmocka_unit_test(test_unknown_link),
        cmocka_unit_test(test_outcome_names),
        cmocka_unit_test(test_corpus),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
