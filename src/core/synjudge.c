/* synjudge.c: the SYN responder's decision, as a pure function (see synjudge.h).
 *
 * The responder answers a SYN only when a Linux host that owned the darknet address and listened
 * on the port would answer it; a segment Linux drops gets nothing, so that the answers do not tell
 * a telescope from a host.  The rules, each with the standard and the Linux code that applies it:
 *
 *  link layer   A frame sent to a link-layer broadcast or multicast address is not for one host:
 *               RFC 1122 3.3.6 says to drop an IP datagram that came as a link-layer broadcast
 *               without an IP broadcast/multicast destination (ip_rcv_finish_core), and TCP takes
 *               only PACKET_HOST frames (tcp_v4_rcv: "if (skb->pkt_type != PACKET_HOST) goto
 *               discard_it").  A SYN *from* a group or all-zero MAC cannot be answered: our
 *               SYN-ACK goes back to the SYN's source MAC.  For Linux cooked captures (SLL) the
 *               packet type says the same (broadcast, multicast, or our own outgoing frame).
 *  IPv4 header  version 4, IHL >= 5, total length covering the headers; the header checksum
 *               must verify (RFC 791 3.1, RFC 1122 3.2.1.2 "MUST verify", ip_rcv_core).  Options
 *               must be well formed (RFC 791; ip_options_compile), and source-routed datagrams
 *               are dropped (LSRR/SSRR: net.ipv4.conf.*.accept_source_route is 0 by default).
 *  fragments    MF or a fragment offset: a lone fragment is never reassembled here, so it is not
 *               answered (Linux would wait for the rest).
 *  TTL 0        a router never forwards a datagram whose TTL reaches 0 (RFC 1812 5.3.1), so TTL 0
 *               on the darknet's link is forged or misrouted.
 *  source       RFC 1122 3.2.1.3 and RFC 1812 5.3.7: never from 0/8 ("this network"), 127/8
 *               (loopback), 224/4 (multicast), 240/4 (reserved, with the limited broadcast
 *               255.255.255.255); Linux drops such "martian sources" (ip_route_input_slow).  A
 *               source inside the darknet is one of "our own" addresses (fib_validate_source), and
 *               answering it would make the sensor talk to itself.
 *  destination  not multicast or 240/4; not the network or broadcast address of a darknet prefix
 *               of /30 or shorter: Linux makes both broadcast routes (fib_add_ifaddr), and TCP
 *               never answers a SYN sent to a broadcast or multicast route (tcp_v4_conn_request:
 *               "Never answer to SYNs send to broadcast or multicast").  /31 (RFC 3021) and /32
 *               have none.
 *  TCP header   data offset >= 5 words and inside the segment; the checksum over the pseudo-header
 *               and the whole segment must verify (RFC 9293 3.1; tcp_v4_rcv via tcp_checksum_complete).
 *               A TCP checksum of 0 is not "no checksum" (that is UDP's).
 *  ports        source or destination port 0 (reserved, RFC 6335 6): no listener has port 0.
 *  flags        SYN with ACK clear is a connection request; with RST it is dropped (RFC 9293
 *               3.10.7.2, LISTEN: "first check for an RST ... should be ignored"), and with FIN
 *               Linux drops it in LISTEN too (tcp_rcv_state_process).  SYN-ACKs are backscatter
 *               (to be answered with RST, which we never send) and are ignored like RST or bare ACK.
 *
 * IPv6 is not answered at all (the responder is IPv4 only), so no IPv6 rules are needed.  The
 * data path (DS_SYN_DATA: ACK with a payload, which may carry our cookie) goes through the same
 * checks except the TCP checksum: receive offload (GRO/LRO) hands a capture several segments
 * merged under the first one's header, whose checksum then no longer matches, and a data segment
 * is never answered, so its checksum tells nothing about us.
 *
 * A capture sees checksums as they came from the wire.  Traffic made on the same host and sent
 * over a veth or a virtio link with checksum offload carries only the pseudo-header sum (Linux
 * CHECKSUM_PARTIAL) and is refused here like any bad checksum; the e2e tests turn that offload
 * off on the sending side (tests/e2e/lib.bash, netns_veth_pair), as the Internet would.
 *
 * Cost: the flags are looked at first, so backscatter, RSTs and bare ACKs cost no checksum; a SYN
 * costs one pass over its ~40-60 bytes.
 */
#include "core/synjudge.h"

#include <stdlib.h>
#include <string.h>

#include "core/bytes.h"

enum { LT_EN10MB = 1, LT_RAW = 12, LT_RAW101 = 101, LT_LINUX_SLL = 113 };
enum { F_FIN = 0x01, F_SYN = 0x02, F_RST = 0x04, F_ACK = 0x10 };

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

ds_rc ds_syn_guard_init(ds_syn_guard *g, const ds_darknet *dn, const ds_prefix *p, size_t n, ds_err *err)
{
    memset(g, 0, sizeof *g);
    g->dn = dn;
    g->edges = calloc(2 * n + 1, sizeof *g->edges);
    if (!g->edges)
        return ds_fail(err, DS_ENOMEM, "out of memory for the responder's address checks");
    for (size_t i = 0; i < n; i++) {
        if (p[i].addr.v6 || p[i].len > 30)
            continue;
        uint32_t net = ds_ip_v4(&p[i].addr);
        uint32_t host = p[i].len ? 0xffffffffu >> p[i].len : 0xffffffffu;
        g->edges[g->nedges++] = net;
        g->edges[g->nedges++] = net | host;
    }
    qsort(g->edges, g->nedges, sizeof *g->edges, cmp_u32);
    return DS_OK;
}

void ds_syn_guard_free(ds_syn_guard *g)
{
    if (!g)
        return;
    free(g->edges);
    g->edges = NULL;
    g->nedges = 0;
}

/* RFC 1071 sum of n bytes, not folded. */
static uint32_t sum16(uint32_t sum, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i + 1 < n; i += 2)
        sum += (uint32_t)p[i] << 8 | p[i + 1];
    if (n & 1)
        sum += (uint32_t)p[n - 1] << 8;
    return sum;
}

static int sum_ok(uint32_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return sum == 0xffff;
}

/* 1: the options (bytes [20, ihl) of the header) are well formed and route nothing. */
static int options_ok(const uint8_t *ip, size_t ihl)
{
    size_t i = 20;
    while (i < ihl) {
        uint8_t type = ip[i];
        if (type == 0)                         /* end of option list */
            return 1;
        if (type == 1) {                       /* no-operation */
            i++;
            continue;
        }
        if (type == 131 || type == 137)        /* loose / strict source and record route */
            return 0;
        if (i + 1 >= ihl || ip[i + 1] < 2 || ip[i + 1] > ihl - i)
            return 0;
        i += ip[i + 1];
    }
    return 1;
}

static int source_ok(const ds_syn_guard *g, uint32_t src)
{
    uint8_t a = (uint8_t)(src >> 24);
    if (a == 0 || a == 127 || a >= 224)        /* this-net, loopback, multicast, 240/4 and 255.255.255.255 */
        return 0;
    ds_ip s;
    ds_ip_set4(&s, src);
    return ds_darknet_find(g->dn, &s) < 0;     /* never one of our own addresses */
}

static int dest_ok(const ds_syn_guard *g, uint32_t dst)
{
    if ((dst >> 24) >= 224)
        return 0;
    return bsearch(&dst, g->edges, g->nedges, sizeof *g->edges, cmp_u32) == NULL;
}

/* Link layer: where the IPv4 header starts (*l3), and whether the frame came to one host from one
 * host.  0: not IPv4 over a link type we know (ignore). */
static int link_layer(const uint8_t *frame, size_t caplen, int linktype, size_t *l3, int *unicast)
{
    ds_cur c = ds_cur_make(frame, caplen);
    *unicast = 1;
    if (linktype == LT_EN10MB) {
        uint16_t type = ds_peek_be16(&c, 12);
        *l3 = 14;
        if (type == 0x8100) {
            type = ds_peek_be16(&c, 16);
            *l3 = 18;
        }
        if (!ds_cur_ok(&c) || type != 0x0800)
            return 0;
        static const uint8_t zero[6];
        if ((frame[0] & 1) || (frame[6] & 1) || memcmp(frame + 6, zero, 6) == 0)   /* I/G bit: group address */
            *unicast = 0;
        return 1;
    }
    if (linktype == LT_LINUX_SLL) {
        uint16_t pkttype = ds_peek_be16(&c, 0), type = ds_peek_be16(&c, 14);
        *l3 = 16;
        if (!ds_cur_ok(&c) || type != 0x0800)
            return 0;
        /* PACKET_BROADCAST 1, PACKET_MULTICAST 2, PACKET_OUTGOING 4 (PACKET_OTHERHOST 3 is a
         * promiscuous capture of a frame for the router's next hop: a telescope's normal case) */
        if (pkttype == 1 || pkttype == 2 || pkttype == 4)
            *unicast = 0;
        return 1;
    }
    if (linktype == LT_RAW || linktype == LT_RAW101) {
        *l3 = 0;
        return caplen >= 1 && frame[0] >> 4 == 4;
    }
    return 0;
}

ds_syn_verdict ds_syn_judge(const ds_syn_guard *g, const uint8_t *frame, size_t caplen, int linktype,
                            ds_tcp4_seg *seg)
{
    size_t l3;
    int unicast;
    memset(seg, 0, sizeof *seg);
    if (!link_layer(frame, caplen, linktype, &l3, &unicast) || l3 > caplen)
        return DS_SYN_IGNORE;
    const uint8_t *ip = frame + l3;
    size_t have = caplen - l3;
    ds_cur c = ds_cur_make(ip, have);
    uint8_t vihl = ds_peek_u8(&c, 0);
    size_t ihl = (size_t)(vihl & 0x0f) * 4;
    uint8_t proto = ds_peek_u8(&c, 9);
    if (!ds_cur_ok(&c) || vihl >> 4 != 4 || ihl < 20 || proto != 6)
        return DS_SYN_IGNORE;
    /* the TCP header's fixed part must be captured to know what the segment is */
    ds_cur tc = ds_cur_make(ip, have);
    uint32_t src = ds_peek_be32(&tc, 12), dst = ds_peek_be32(&tc, 16);
    uint16_t sport = ds_peek_be16(&tc, ihl), dport = ds_peek_be16(&tc, ihl + 2);
    uint32_t sq = ds_peek_be32(&tc, ihl + 4), ak = ds_peek_be32(&tc, ihl + 8);
    uint8_t offb = ds_peek_u8(&tc, ihl + 12), flags = ds_peek_u8(&tc, ihl + 13);
    if (!ds_cur_ok(&tc) || !ds_cur_has(&tc, ihl + 20))
        return DS_SYN_IGNORE;
    ds_ip d;
    ds_ip_set4(&d, dst);
    if (ds_darknet_find(g->dn, &d) < 0)
        return DS_SYN_IGNORE;
    int syn = (flags & (F_SYN | F_ACK)) == F_SYN;
    int data = (flags & (F_SYN | F_RST | F_ACK)) == F_ACK;
    if (!syn && !data)                         /* SYN-ACK, RST, FIN, no flags...: never answered */
        return DS_SYN_IGNORE;
    uint16_t total = (uint16_t)(ip[2] << 8 | ip[3]), frag = (uint16_t)(ip[6] << 8 | ip[7]);
    *seg = (ds_tcp4_seg){ .l3off = l3, .ihl = ihl, .doff = (size_t)(offb >> 4) * 4, .total = total, .src = src,
                          .dst = dst, .sport = sport, .dport = dport, .seq = sq, .ack = ak, .flags = flags };
    if (syn && (flags & (F_RST | F_FIN)))
        return DS_SYN_FLAGS;
    if (total < ihl + 20)
        return DS_SYN_IP_HEADER;
    if (total > have)
        return DS_SYN_TRUNCATED;
    if (!sum_ok(sum16(0, ip, ihl)))
        return DS_SYN_IP_CHECKSUM;
    if (frag & 0x3fff)
        return DS_SYN_FRAGMENT;
    if (ip[8] == 0)
        return DS_SYN_TTL0;
    if (!options_ok(ip, ihl))
        return DS_SYN_IP_OPTIONS;
    if (!source_ok(g, src))
        return DS_SYN_SOURCE;
    if (!dest_ok(g, dst))
        return DS_SYN_DEST;
    if (!unicast)
        return DS_SYN_LINK;
    if (seg->doff < 20 || seg->doff > (size_t)total - ihl)
        return DS_SYN_TCP_HEADER;
    if (data)
        return sport == 0 || dport == 0 ? DS_SYN_PORT0
               : (size_t)total - ihl - seg->doff > 0 ? DS_SYN_DATA : DS_SYN_IGNORE;
    uint8_t pseudo[12];
    memcpy(pseudo, ip + 12, 8);
    pseudo[8] = 0;
    pseudo[9] = 6;
    pseudo[10] = (uint8_t)((total - ihl) >> 8);
    pseudo[11] = (uint8_t)(total - ihl);
    if (!sum_ok(sum16(sum16(0, pseudo, 12), ip + ihl, (size_t)total - ihl)))
        return DS_SYN_TCP_CHECKSUM;
    if (sport == 0 || dport == 0)
        return DS_SYN_PORT0;
    return DS_SYN_ANSWER;
}

const char *ds_syn_verdict_name(ds_syn_verdict v)
{
    static const char *const names[DS_SYN__COUNT] = {
        [DS_SYN_ANSWER] = "answered",           [DS_SYN_DATA] = "data",
        [DS_SYN_IGNORE] = "ignored",            [DS_SYN_TRUNCATED] = "not captured whole",
        [DS_SYN_IP_HEADER] = "bad IPv4 length", [DS_SYN_IP_CHECKSUM] = "bad IPv4 checksum",
        [DS_SYN_IP_OPTIONS] = "bad or source-routing IPv4 options",
        [DS_SYN_FRAGMENT] = "fragment",         [DS_SYN_TTL0] = "TTL 0",
        [DS_SYN_SOURCE] = "impossible source",  [DS_SYN_DEST] = "broadcast or multicast destination",
        [DS_SYN_LINK] = "link-layer broadcast or multicast",
        [DS_SYN_TCP_HEADER] = "bad TCP header length", [DS_SYN_TCP_CHECKSUM] = "bad TCP checksum",
        [DS_SYN_PORT0] = "port 0",              [DS_SYN_FLAGS] = "SYN with RST or FIN",
    };
    return (unsigned)v < DS_SYN__COUNT && names[v] ? names[v] : "?";
}
