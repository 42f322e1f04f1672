/* test_synjudge.c: which segments the SYN responder answers (src/core/synjudge.c, issue #21).
 *
 * Every case starts from one valid SYN (Ethernet, 192.0.2.9:40000 -> 198.51.100.7:80, with an MSS
 * option, correct checksums), changes one thing, recomputes the checksums unless the checksum is
 * the thing changed, and expects the verdict a Linux host would give: answered, or refused with
 * its reason.  The same SYN is also judged on the other link types.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "core/darknet.h"
#include "core/synjudge.h"

#define L2 14

typedef struct frame {
    uint8_t b[128];
    size_t len;       /* captured bytes */
    size_t ihl;       /* IPv4 header bytes */
} frame;

static ds_darknet *g_dn;
static ds_syn_guard g_guard;

static int setup(void **state)
{
    ds_prefix p[3];
    assert_int_equal(ds_prefix_parse("198.51.100.0/24", &p[0]), 0);
    assert_int_equal(ds_prefix_parse("203.0.113.8/31", &p[1]), 0);    /* RFC 3021: no broadcast */
    assert_int_equal(ds_prefix_parse("203.0.113.64/32", &p[2]), 0);
    const ds_prefix *pp = p;
    size_t n = 3;
    const char *name = "s";
    ds_err err = { 0 };
    assert_int_equal(ds_darknet_build(&g_dn, &pp, &n, &name, 1, &err), DS_OK);
    assert_int_equal(ds_syn_guard_init(&g_guard, g_dn, p, n, &err), DS_OK);
    return 0;
}

static int teardown(void **state)
{
    ds_syn_guard_free(&g_guard);
    ds_darknet_free(g_dn);
    return 0;
}

static uint16_t csum(const uint8_t *p, size_t n, uint32_t sum)
{
    for (size_t i = 0; i + 1 < n; i += 2)
        sum += (uint32_t)p[i] << 8 | p[i + 1];
    if (n & 1)
        sum += (uint32_t)p[n - 1] << 8;
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

static void put16(uint8_t *p, unsigned v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }

/* IPv4 and TCP checksums of f, from its header fields */
static void fix(frame *f)
{
    uint8_t *ip = f->b + L2;
    size_t total = (size_t)(ip[2] << 8 | ip[3]);
    put16(ip + 10, 0);
    put16(ip + 10, csum(ip, f->ihl, 0));
    uint8_t *t = ip + f->ihl;
    uint8_t pseudo[12];
    memcpy(pseudo, ip + 12, 8);
    pseudo[8] = 0;
    pseudo[9] = 6;
    put16(pseudo + 10, (unsigned)(total - f->ihl));
    put16(t + 16, 0);
    uint32_t ps = 0;
    for (int i = 0; i < 12; i += 2)
        ps += (uint32_t)pseudo[i] << 8 | pseudo[i + 1];
    put16(t + 16, csum(t, total - f->ihl, ps));
}

/* The valid SYN: Ethernet unicast MACs, IPv4 without options, TTL 64, TCP with an MSS option. */
static frame syn(void)
{
    frame f;
    memset(&f, 0, sizeof f);
    static const uint8_t dmac[6] = { 0x02, 0, 0, 0, 0, 0x02 }, smac[6] = { 0x02, 0, 0, 0, 0, 0x01 };
    memcpy(f.b, dmac, 6);
    memcpy(f.b + 6, smac, 6);
    put16(f.b + 12, 0x0800);
    uint8_t *ip = f.b + L2;
    f.ihl = 20;
    ip[0] = 0x45;
    put16(ip + 2, 20 + 24);
    put16(ip + 4, 0x1234);
    put16(ip + 6, 0x4000);              /* DF */
    ip[8] = 64;
    ip[9] = 6;
    const uint8_t src[4] = { 192, 0, 2, 9 }, dst[4] = { 198, 51, 100, 7 };
    memcpy(ip + 12, src, 4);
    memcpy(ip + 16, dst, 4);
    uint8_t *t = ip + 20;
    put16(t, 40000);
    put16(t + 2, 80);
    t[4] = 0x11; t[5] = 0x22; t[6] = 0x33; t[7] = 0x44;   /* seq */
    t[12] = 6 << 4;                     /* 24-byte header */
    t[13] = 0x02;                       /* SYN */
    put16(t + 14, 64240);
    t[20] = 2; t[21] = 4; put16(t + 22, 1460);
    f.len = L2 + 44;
    fix(&f);
    return f;
}

static ds_syn_verdict judge(const frame *f)
{
    ds_tcp4_seg seg;
    return ds_syn_judge(&g_guard, f->b, f->len, 1, &seg);
}

static void set_src(frame *f, uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
    uint8_t *ip = f->b + L2;
    ip[12] = a; ip[13] = b; ip[14] = c; ip[15] = d;
    fix(f);
}

static void set_dst(frame *f, uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
    uint8_t *ip = f->b + L2;
    ip[16] = a; ip[17] = b; ip[18] = c; ip[19] = d;
    fix(f);
}

static void test_accepted(void **state)
{
    frame f = syn();
    ds_tcp4_seg seg;
    assert_int_equal(ds_syn_judge(&g_guard, f.b, f.len, 1, &seg), DS_SYN_ANSWER);
    assert_int_equal(seg.l3off, 14);
    assert_int_equal(seg.src, 0xc0000209u);
    assert_int_equal(seg.dst, 0xc6336407u);
    assert_int_equal(seg.sport, 40000);
    assert_int_equal(seg.dport, 80);
    assert_int_equal(seg.seq, 0x11223344u);
    /* what Linux also answers: ECN setup (SYN+ECE+CWR), PSH, URG, data on the SYN, Ethernet
     * padding after the datagram, a VLAN tag, harmless options (NOP, timestamp) */
    f.b[L2 + 20 + 13] = 0x02 | 0x40 | 0x80 | 0x08 | 0x20;
    fix(&f);
    assert_int_equal(judge(&f), DS_SYN_ANSWER);
    f = syn();
    f.len += 6;                                   /* padding to the 60-byte minimum frame */
    assert_int_equal(judge(&f), DS_SYN_ANSWER);
    f = syn();
    memmove(f.b + 18, f.b + 14, 44);
    put16(f.b + 12, 0x8100);
    put16(f.b + 14, 5);
    put16(f.b + 16, 0x0800);
    f.len += 4;
    assert_int_equal(judge(&f), DS_SYN_ANSWER);
    f = syn();                                    /* IPv4 options: NOP NOP, timestamp (68) of 8 bytes */
    uint8_t *ip = f.b + L2;
    memmove(ip + 32, ip + 20, 24);
    const uint8_t opt[12] = { 1, 1, 68, 8, 5, 0, 0, 0, 0, 0, 0, 0 };
    memcpy(ip + 20, opt, 12);
    ip[0] = 0x48;
    put16(ip + 2, 32 + 24);
    f.ihl = 32;
    f.len = L2 + 56;
    fix(&f);
    assert_int_equal(judge(&f), DS_SYN_ANSWER);
    /* a /31 has no network or broadcast address (RFC 3021), nor a /32 */
    f = syn();
    set_dst(&f, 203, 0, 113, 8);
    assert_int_equal(judge(&f), DS_SYN_ANSWER);
    set_dst(&f, 203, 0, 113, 9);
    assert_int_equal(judge(&f), DS_SYN_ANSWER);
    set_dst(&f, 203, 0, 113, 64);
    assert_int_equal(judge(&f), DS_SYN_ANSWER);
}

static void test_other_link_types(void **state)
{
    frame f = syn();
    ds_tcp4_seg seg;
    assert_int_equal(ds_syn_judge(&g_guard, f.b + L2, f.len - L2, 12, &seg), DS_SYN_ANSWER);     /* raw */
    assert_int_equal(ds_syn_judge(&g_guard, f.b + L2, f.len - L2, 101, &seg), DS_SYN_ANSWER);
    assert_int_equal(ds_syn_judge(&g_guard, f.b, f.len, 147, &seg), DS_SYN_IGNORE);             /* unknown */
    uint8_t sll[128];
    memset(sll, 0, 16);
    put16(sll + 2, 1);                                /* ARPHRD_ETHER */
    put16(sll + 14, 0x0800);
    memcpy(sll + 16, f.b + L2, f.len - L2);
    for (unsigned type = 0; type <= 4; type++) {      /* host, broadcast, multicast, otherhost, outgoing */
        put16(sll, type);
        ds_syn_verdict want = type == 0 || type == 3 ? DS_SYN_ANSWER : DS_SYN_LINK;
        assert_int_equal(ds_syn_judge(&g_guard, sll, 16 + f.len - L2, 113, &seg), want);
    }
}

static void test_checksums(void **state)
{
    frame f = syn();
    f.b[L2 + 10] ^= 0x01;                          /* IPv4 header checksum */
    assert_int_equal(judge(&f), DS_SYN_IP_CHECKSUM);
    f = syn();
    f.b[L2 + 20 + 16] ^= 0x80;                     /* TCP checksum */
    assert_int_equal(judge(&f), DS_SYN_TCP_CHECKSUM);
    f = syn();
    f.b[L2 + 20 + 23] ^= 0x01;                     /* a byte the TCP checksum covers (the MSS) */
    assert_int_equal(judge(&f), DS_SYN_TCP_CHECKSUM);
    f = syn();
    f.b[L2 + 20 + 16] = f.b[L2 + 20 + 17] = 0;     /* 0 is not "no checksum" in TCP */
    assert_int_equal(judge(&f), DS_SYN_TCP_CHECKSUM);
    f = syn();
    f.len -= 1;                                    /* cut: the checksum cannot be verified */
    assert_int_equal(judge(&f), DS_SYN_TRUNCATED);
}

static void test_ip_header(void **state)
{
    frame f = syn();
    f.b[L2 + 8] = 0;                               /* TTL 0 */
    fix(&f);
    assert_int_equal(judge(&f), DS_SYN_TTL0);
    f = syn();
    put16(f.b + L2 + 6, 0x2000);                   /* MF: first fragment */
    fix(&f);
    assert_int_equal(judge(&f), DS_SYN_FRAGMENT);
    f = syn();
    put16(f.b + L2 + 6, 0x0010);                   /* a later fragment */
    fix(&f);
    assert_int_equal(judge(&f), DS_SYN_FRAGMENT);
    f = syn();
    put16(f.b + L2 + 2, 30);                       /* total length shorter than the headers */
    fix(&f);
    assert_int_equal(judge(&f), DS_SYN_IP_HEADER);
    /* options: loose source route, strict source route, an option running past the header */
    const uint8_t bad[3][4] = { { 131, 3, 4, 0 }, { 137, 3, 4, 0 }, { 68, 9, 0, 0 } };
    for (int k = 0; k < 3; k++) {
        f = syn();
        uint8_t *ip = f.b + L2;
        memmove(ip + 24, ip + 20, 24);
        memcpy(ip + 20, bad[k], 4);
        ip[0] = 0x46;
        put16(ip + 2, 24 + 24);
        f.ihl = 24;
        f.len = L2 + 48;
        fix(&f);
        assert_int_equal(judge(&f), DS_SYN_IP_OPTIONS);
    }
}

static void test_addresses(void **state)
{
    const uint8_t srcs[][4] = {
        { 0, 0, 0, 0 },          /* 0.0.0.0 */
        { 0, 1, 2, 3 },          /* 0/8 */
        { 127, 0, 0, 1 },        /* loopback */
        { 224, 0, 0, 1 },        /* multicast */
        { 239, 255, 255, 250 },
        { 240, 0, 0, 1 },        /* reserved */
        { 255, 255, 255, 255 },  /* limited broadcast */
        { 198, 51, 100, 9 },     /* the darknet itself */
        { 198, 51, 100, 7 },     /* the destination itself (a "land" SYN) */
    };
    for (size_t i = 0; i < sizeof srcs / sizeof srcs[0]; i++) {
        frame f = syn();
        set_src(&f, srcs[i][0], srcs[i][1], srcs[i][2], srcs[i][3]);
        assert_int_equal(judge(&f), DS_SYN_SOURCE);
    }
    frame f = syn();
    set_dst(&f, 198, 51, 100, 0);                  /* the /24's network address */
    assert_int_equal(judge(&f), DS_SYN_DEST);
    set_dst(&f, 198, 51, 100, 255);                /* its broadcast address */
    assert_int_equal(judge(&f), DS_SYN_DEST);
    set_dst(&f, 198, 51, 100, 1);
    assert_int_equal(judge(&f), DS_SYN_ANSWER);
    set_dst(&f, 198, 51, 100, 254);
    assert_int_equal(judge(&f), DS_SYN_ANSWER);
    set_dst(&f, 198, 51, 101, 7);                  /* not in the darknet: not ours */
    assert_int_equal(judge(&f), DS_SYN_IGNORE);
}

static void test_link_addresses(void **state)
{
    frame f = syn();
    memset(f.b, 0xff, 6);                          /* to the Ethernet broadcast address */
    assert_int_equal(judge(&f), DS_SYN_LINK);
    f = syn();
    f.b[0] = 0x01; f.b[1] = 0x00; f.b[2] = 0x5e;   /* to an IPv4 multicast MAC */
    assert_int_equal(judge(&f), DS_SYN_LINK);
    f = syn();
    f.b[6] |= 0x01;                                /* from a group address: the answer would go to it */
    assert_int_equal(judge(&f), DS_SYN_LINK);
    f = syn();
    memset(f.b + 6, 0, 6);                         /* from 00:00:00:00:00:00 */
    assert_int_equal(judge(&f), DS_SYN_LINK);
}

static void test_tcp(void **state)
{
    frame f = syn();
    put16(f.b + L2 + 20, 0);                       /* source port 0 */
    fix(&f);
    assert_int_equal(judge(&f), DS_SYN_PORT0);
    f = syn();
    put16(f.b + L2 + 22, 0);                       /* destination port 0 */
    fix(&f);
    assert_int_equal(judge(&f), DS_SYN_PORT0);
    f = syn();
    f.b[L2 + 20 + 13] = 0x02 | 0x04;               /* SYN+RST */
    fix(&f);
    assert_int_equal(judge(&f), DS_SYN_FLAGS);
    f = syn();
    f.b[L2 + 20 + 13] = 0x02 | 0x01;               /* SYN+FIN */
    fix(&f);
    assert_int_equal(judge(&f), DS_SYN_FLAGS);
    f = syn();
    f.b[L2 + 20 + 12] = 4 << 4;                    /* data offset of 16 bytes */
    fix(&f);
    assert_int_equal(judge(&f), DS_SYN_TCP_HEADER);
    f = syn();
    f.b[L2 + 20 + 12] = 15 << 4;                   /* 60 bytes: past the segment */
    fix(&f);
    assert_int_equal(judge(&f), DS_SYN_TCP_HEADER);
    /* never answered, not counted as refusals: SYN-ACK (backscatter), RST, bare ACK, FIN, none */
    const uint8_t ignored[] = { 0x12, 0x04, 0x14, 0x10, 0x11, 0x01, 0x00 };
    for (size_t i = 0; i < sizeof ignored; i++) {
        f = syn();
        f.b[L2 + 20 + 13] = ignored[i];
        fix(&f);
        assert_int_equal(judge(&f), DS_SYN_IGNORE);
    }
    /* ACK with a payload: a possible first payload, checked like a SYN */
    f = syn();
    uint8_t *ip = f.b + L2;
    ip[20 + 13] = 0x18;                            /* PSH+ACK */
    memcpy(ip + 44, "GET / HTTP/1.1\r\n", 16);
    put16(ip + 2, 44 + 16);
    f.len = L2 + 60;
    fix(&f);
    assert_int_equal(judge(&f), DS_SYN_DATA);
    f.b[L2 + 50] ^= 0x20;                          /* its TCP checksum is not required (GRO merges) */
    assert_int_equal(judge(&f), DS_SYN_DATA);
    f.b[L2 + 10] ^= 0x01;                          /* but the IPv4 checksum is */
    assert_int_equal(judge(&f), DS_SYN_IP_CHECKSUM);
    /* not TCP, not IPv4: not ours */
    f = syn();
    f.b[L2 + 9] = 17;
    fix(&f);
    assert_int_equal(judge(&f), DS_SYN_IGNORE);
    f = syn();
    put16(f.b + 12, 0x86dd);
    assert_int_equal(judge(&f), DS_SYN_IGNORE);
    f = syn();
    f.len = L2 + 30;                               /* the TCP header not captured */
    assert_int_equal(judge(&f), DS_SYN_IGNORE);
}

static void test_names(void **state)
{
    for (int v = 0; v < DS_SYN__COUNT; v++)
        assert_string_not_equal(ds_syn_verdict_name((ds_syn_verdict)v), "?");
    assert_string_equal(ds_syn_verdict_name(DS_SYN__COUNT), "?");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accepted),
        cmocka_unit_test(test_other_link_types),
        cmocka_unit_test(test_checksums),
        cmocka_unit_test(test_ip_header),
        cmocka_unit_test(test_addresses),
        cmocka_unit_test(test_link_addresses),
        cmocka_unit_test(test_tcp),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
