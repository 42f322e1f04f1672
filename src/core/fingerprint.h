/* fingerprint.h: which scanning tool sent a packet, from header fields alone.
 *
 * Each tool builds its probes from a fixed template, and some template fields are constants or
 * functions of other fields that ordinary stacks never produce (sources: docs/detection.md):
 *
 *   Mirai    TCP SYN whose sequence number equals the destination address (scanner.c:
 *            tcph->seq = iph->daddr).  A random match has probability 2^-32.
 *   ZMap     IP ID 54321 on every probe (releases before 4.1: packet.c make_ip_header).
 *   Masscan  TCP SYN with IP ID == (dst ^ dport ^ seq) & 0xffff (templ-pkt.c tcp_create_packet);
 *            its UDP probes put the same function of their cookie in the IP ID, and the cookie in
 *            the payload where the protocol has an ID: a DNS query's ID (to 53), an SNMP request's
 *            request-id (to 161): ds_masscan_udp_cookie.
 *   Nmap     TCP SYN with the MSS option alone and a window of 1024, 2048, 3072 or 4096 (the raw
 *            SYN probe: nmap's tcpip.cc build_tcp_raw sets window 1024 * (ttl % 4 + 1) when its
 *            caller passes none, as older releases' SYN scan did; current scan_engine_raw.cc
 *            passes 1024), and not Masscan (whose template has window 1024 and the same option).
 *            Many home-made raw-socket scanners use the same template, so the header alone does
 *            not say Nmap; what Nmap's default SYN scan also does is scan many ports of a few
 *            hosts: a source is attributed to Nmap only when it reached at least
 *            DS_NMAP_MIN_SERVICES destination services that day, and at least
 *            DS_NMAP_SERVICES_PER_DST times as many services as addresses (a random-port scanner
 *            spreads over addresses as much as over ports).
 *
 * A packet of a common-looking value can match by chance (1 in 65,536 for an IP ID), both ways:
 * an ordinary host's packet can look like ZMap's or Masscan's, and one in 65,536 of Nmap's
 * random IP IDs equals Masscan's function of the packet (a -p- scan of 8 hosts, 524,280 probes,
 * has 8 such packets on average).  So ZMap, Masscan and Nmap are attributed by share
 * (ds_tool_share_ok): at least 2 packets matched, and the applicable packets that did not match
 * are at most 1 + 1/1000 of them.  Mirai's 2^-32 makes one match enough.  The rule's error rates
 * are in docs/detection.md.
 */
#ifndef DS_FINGERPRINT_H
#define DS_FINGERPRINT_H
#include <stdint.h>

#include "core/packet.h"

enum {
    DS_TOOL_MIRAI = 1u << 0,
    DS_TOOL_ZMAP = 1u << 1,
    DS_TOOL_MASSCAN = 1u << 2,
    DS_TOOL_NMAP = 1u << 3,
    DS_TOOL__ALL = 0x0f,          /* the header fingerprints above */
    /* Tools named by their payload (core/payload.h, data/payload-tools.tsv): any matching packet
     * attributes the source, as Mirai's 2^-32 does. */
    DS_TOOL_SIPVICIOUS = 1u << 4, /* SIPVicious (svmap's User-Agent friendly-scanner, "sipvicious") */
    DS_TOOL_SIP_OTHER = 1u << 5,  /* other SIP scanners by User-Agent (sipcli, VaxSIPUserAgent, ...) */
    DS_TOOL_SLAMMER = 1u << 6,    /* SQL Slammer: 376-byte UDP payload to 1434 */
    DS_TOOL_NACHI = 1u << 7,      /* Nachi/Welchia: ICMP echo with 64 bytes of 0xAA */
    DS_TOOL__PAYLOAD = 0xf0,
    /* Not a tool: ds_fingerprint's mark on an Nmap OS probe with TSval 0xFFFFFFFF (beside
     * DS_TOOL_NMAP), which ds_tool_count counts; outside the 8 bits records keep. */
    DS_HIT_NMAP_OS = 1u << 8,
};

/* Nmap's window: 1024, or (older releases, when the caller passed none) 1024 x (TTL % 4 + 1) */
static inline int ds_nmap_window(uint16_t win) { return (win & 0x3ff) == 0 && win && win <= 4096; }

/* Nmap's OS detection probes (osscan2.cc): every TCP probe (SEQ 1-6, T2-T7) carries a timestamp
 * option with TSval 0xFFFFFFFF, and the ECN probe is SYN+ECE+CWR with window 3 (Nmap Network
 * Scanning, "TCP/IP Fingerprinting Methods").  A darknet answers nothing, so nmap -O sends it the
 * closed-port tests T5 (SYN, window 31337), T6 (ACK) and T7 (FIN+PSH+URG): 24 of them beside 600
 * SYN-scan probes broke the share rule, and `nmap -O` was attributed to nothing. */
static inline int ds_nmap_ts_probe(const ds_pkt *p) { return (p->have & DS_HAVE_TCPTS) && p->tcp_tsval == 0xffffffffu; }
static inline int ds_nmap_os_probe(const ds_pkt *p)
{
    return ds_nmap_ts_probe(p) || ((p->tcp_flags & 0xd2) == 0xc2 && p->tcp_win == 3);
}

/* Nmap's stealth scans (scan_engine_raw.cc): ACK (-sA, -sW), FIN (-sF), none (-sN), FIN+PSH+URG
 * (-sX), FIN+ACK (-sM), with the SYN probe's window and no options. */
static inline int ds_nmap_stealth_probe(const ds_pkt *p)
{
    uint8_t f = p->tcp_flags;
    return (f == 0x10 || f == 0x01 || f == 0x00 || f == 0x29 || f == 0x11) && p->tcp_optlen == 0 &&
           ds_nmap_window(p->tcp_win);
}

/* The cookie Masscan's UDP probe p carries in its payload (a DNS ID to port 53, the request-id of
 * an SNMP request to 161: masscan's proto-dns.c and proto-snmp.c templates), in *cookie; 0 when
 * p is no such query.  The payload is read with bounds checks (fingerprint.c). */
int ds_masscan_udp_cookie(const ds_pkt *p, uint32_t *cookie);

/* Fingerprints matched by p (IPv4, decoded); *applicable gets the tools whose fingerprint could
 * have matched this kind of packet (TCP SYN: all four; UDP and ICMP echo: ZMap; TCP other than a
 * SYN: Nmap, when it is one of Nmap's probes (counted only as they match: ds_tool_counts); a
 * DNS query to 53 or an SNMP request to 161: ZMap and Masscan). */
static inline unsigned ds_fingerprint(const ds_pkt *p, unsigned *applicable)
{
    unsigned hit = 0, app = 0;
    if (p->dst.v6 || !(p->have & DS_HAVE_L4)) {
        *applicable = 0;
        return 0;
    }
    if (p->proto == DS_PROTO_TCP && (p->tcp_flags & 0x12) == 0x02) {   /* SYN without ACK */
        uint32_t dst = ds_ip_v4(&p->dst);
        app = DS_TOOL__ALL;
        if (p->tcp_seq == dst)
            hit |= DS_TOOL_MIRAI;
        if (p->ip_id == 54321)
            hit |= DS_TOOL_ZMAP;
        if (p->ip_id == (uint16_t)((dst ^ p->dport ^ p->tcp_seq) & 0xffff))
            hit |= DS_TOOL_MASSCAN;
        else if ((ds_nmap_window(p->tcp_win) && p->tcp_opt_kinds == 1 && p->tcp_mss && p->tcp_optlen == 4) ||
                 ds_nmap_os_probe(p))
            hit |= DS_TOOL_NMAP;
        if ((hit & DS_TOOL_NMAP) && ds_nmap_ts_probe(p))
            hit |= DS_HIT_NMAP_OS;
    } else if (p->proto == DS_PROTO_TCP) {
        if (ds_nmap_os_probe(p) || ds_nmap_stealth_probe(p))
            hit = app = DS_TOOL_NMAP;
        if (hit && ds_nmap_ts_probe(p))
            hit |= DS_HIT_NMAP_OS;
    } else if (p->proto == DS_PROTO_UDP || (p->proto == DS_PROTO_ICMP && p->icmp_type == 8)) {
        app = DS_TOOL_ZMAP;
        if (p->ip_id == 54321)
            hit |= DS_TOOL_ZMAP;
        uint32_t cookie;
        if (p->proto == DS_PROTO_UDP && ds_masscan_udp_cookie(p, &cookie)) {   /* every such query counts */
            app |= DS_TOOL_MASSCAN;
            if (p->ip_id == (uint16_t)((ds_ip_v4(&p->dst) ^ p->dport ^ cookie) & 0xffff))
                hit |= DS_TOOL_MASSCAN;
        }
    }
    *applicable = app;
    return hit;
}

#define DS_NMAP_MIN_SERVICES 10
#define DS_NMAP_SERVICES_PER_DST 5

/* A source-day's counts for the share rule, kept from its first ZMap, Masscan or Nmap match on:
 * packets the fingerprints apply to, and those that matched (saturating). */
typedef struct ds_tool_counts {
    uint32_t syn;       /* TCP SYNs, DNS queries to 53 and SNMP requests to 161 (Masscan's applies;
                         * those queries only from the first match on: agg.c) */
    uint32_t zapp;      /* SYNs, UDP and ICMP echo requests (ZMap's applies) */
    uint32_t nmapp;     /* SYNs, and Nmap's other TCP probes (its OS and stealth probes: counted
                         * only when they match, a bare ACK or FIN of another stack not at all) */
    uint32_t zmap, masscan, nmap;
    uint32_t nmap_os;   /* of nmap: OS probes with TSval 0xFFFFFFFF (DS_HIT_NMAP_OS) */
} ds_tool_counts;

static inline uint32_t ds_sat_inc(uint32_t v) { return v + (v != UINT32_MAX); }

/* Count one packet's fingerprint result (ds_fingerprint's hit and applicable). */
static inline void ds_tool_count(ds_tool_counts *c, unsigned hit, unsigned applicable)
{
    if (applicable & DS_TOOL_MASSCAN)
        c->syn = ds_sat_inc(c->syn);
    if (applicable & DS_TOOL_ZMAP)
        c->zapp = ds_sat_inc(c->zapp);
    if (applicable & DS_TOOL_NMAP)
        c->nmapp = ds_sat_inc(c->nmapp);
    if (hit & DS_TOOL_ZMAP)
        c->zmap = ds_sat_inc(c->zmap);
    if (hit & DS_TOOL_MASSCAN)
        c->masscan = ds_sat_inc(c->masscan);
    if (hit & DS_TOOL_NMAP)
        c->nmap = ds_sat_inc(c->nmap);
    if (hit & DS_HIT_NMAP_OS)
        c->nmap_os = ds_sat_inc(c->nmap_os);
}

/* The share rule: of `applicable` packets, `matched` matched the fingerprint.  At least 2 matched,
 * and at most 1 + applicable / 1000 did not (99.9% of a long scan; one stray packet of a short
 * one).  See docs/detection.md for the rates of false and missed attributions. */
#define DS_TOOL_MISS_PER_MILLE 1
static inline int ds_tool_share_ok(uint32_t matched, uint32_t applicable)
{
    return matched >= 2 && matched <= applicable &&
           applicable - matched <= 1 + (uint64_t)applicable * DS_TOOL_MISS_PER_MILLE / 1000;
}

/* A source's tools for a day: hit has the fingerprints any of its packets matched (Mirai and the
 * payload tools, bits 4-7, need one), c its counts (NULL when no ZMap, Masscan or Nmap packet
 * matched), services and destinations its distinct destination services and addresses that day. */
static inline unsigned ds_tools_of(unsigned hit, const ds_tool_counts *c, uint32_t services, uint32_t destinations)
{
    unsigned t = 0;
    if (c) {
        if (ds_tool_share_ok(c->zmap, c->zapp))
            t |= DS_TOOL_ZMAP;
        if (ds_tool_share_ok(c->masscan, c->syn))
            t |= DS_TOOL_MASSCAN;
        /* its SYN template is copied by home-made scanners: Nmap's behaviour too (many ports of
         * few hosts); its OS probes are its own (TSval 0xFFFFFFFF, 2^-32 by chance): two of them */
        if (ds_tool_share_ok(c->nmap, c->nmapp) &&
            ((services >= DS_NMAP_MIN_SERVICES && services >= (uint64_t)DS_NMAP_SERVICES_PER_DST * destinations) ||
             c->nmap_os >= 2))
            t |= DS_TOOL_NMAP;
    }
    return (hit & (DS_TOOL_MIRAI | DS_TOOL__PAYLOAD)) | t;
}

/* "mirai", "zmap", "masscan", "nmap", "sipvicious", "sip-other", "slammer", "nachi" -> bit;
 * 0 when unknown. */
unsigned ds_tool_parse(const char *name);
/* Names of the bits set in tools, comma-separated ("zmap,nmap"), "" when none. */
char *ds_tools_format(unsigned tools, char *buf, unsigned long len);

#endif
