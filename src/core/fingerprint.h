/* fingerprint.h: which scanning tool sent a packet, from header fields alone.
 *
 * Each tool builds its probes from a fixed template, and some template fields are constants or
 * functions of other fields that ordinary stacks never produce (sources: docs/detection.md):
 *
 *   Mirai    TCP SYN whose sequence number equals the destination address (scanner.c:
 *            tcph->seq = iph->daddr).  A random match has probability 2^-32.
 *   ZMap     IP ID 54321 on every probe (releases before 4.1: packet.c make_ip_header).
 *   Masscan  TCP SYN with IP ID == (dst ^ dport ^ seq) & 0xffff (templ-pkt.c tcp_create_packet).
 *   Nmap     TCP SYN with window 1024 and the MSS option alone (the raw SYN probe), and not
 *            Masscan (whose template has the same window and option).  Many home-made raw-socket
 *            scanners use the same template, so the header alone does not say Nmap; what Nmap's
 *            default SYN scan also does is scan many ports of a few hosts: a source is attributed
 *            to Nmap only when it reached at least DS_NMAP_MIN_SERVICES destination services that
 *            day, and at least DS_NMAP_SERVICES_PER_DST times as many services as addresses (a
 *            random-port scanner spreads over addresses as much as over ports).
 *
 * A single packet of a common-looking value can match by chance (1 in 65,536 for an IP ID), so
 * a source is attributed to ZMap, Masscan or Nmap only when every packet the fingerprint applies
 * to matched that day, and it sent at least 2 packets (ds_tools_of); Mirai's 2^-32 makes one
 * match enough.
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
};

/* Fingerprints matched by p (IPv4, decoded); *applicable gets the tools whose fingerprint could
 * have matched this kind of packet (TCP SYN: all four; UDP and ICMP echo: ZMap). */
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
        else if (p->tcp_win == 1024 && p->tcp_opt_kinds == 1 && p->tcp_mss && p->tcp_optlen == 4)
            hit |= DS_TOOL_NMAP;
    } else if (p->proto == DS_PROTO_UDP || (p->proto == DS_PROTO_ICMP && p->icmp_type == 8)) {
        app = DS_TOOL_ZMAP;
        if (p->ip_id == 54321)
            hit |= DS_TOOL_ZMAP;
    }
    *applicable = app;
    return hit;
}

#define DS_NMAP_MIN_SERVICES 10
#define DS_NMAP_SERVICES_PER_DST 5

/* A source's tools for a day, from the fingerprints any of its packets matched (hit), those that
 * some applicable packet did not match (miss), its packets, distinct services and distinct
 * destination addresses that day.  Payload tools (hit bits 4-7) need one matching packet. */
static inline unsigned ds_tools_of(unsigned hit, unsigned miss, uint64_t packets, uint32_t services,
                                   uint32_t destinations)
{
    unsigned t = hit & ~miss & (DS_TOOL__ALL & ~DS_TOOL_MIRAI);
    if (packets < 2)
        t = 0;
    if (services < DS_NMAP_MIN_SERVICES || services < (uint64_t)DS_NMAP_SERVICES_PER_DST * destinations)
        t &= ~(unsigned)DS_TOOL_NMAP;
    return (hit & (DS_TOOL_MIRAI | DS_TOOL__PAYLOAD)) | t;
}

/* "mirai", "zmap", "masscan", "nmap", "sipvicious", "sip-other", "slammer", "nachi" -> bit;
 * 0 when unknown. */
unsigned ds_tool_parse(const char *name);
/* Names of the bits set in tools, comma-separated ("zmap,nmap"), "" when none. */
char *ds_tools_format(unsigned tools, char *buf, unsigned long len);

#endif
