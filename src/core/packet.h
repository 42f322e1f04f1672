/* packet.h: what the decoder makes of one captured frame.
 *
 * ds_decode() walks link layer -> IPv4/IPv6 (extension headers) -> TCP/UDP/ICMP/ICMPv6 using
 * only bounds-checked reads (core/bytes.h), and fills a ds_pkt.  It never reads past caplen.
 * Tunnels (GRE, ERSPAN, VXLAN, GENEVE, IP in IP) are decapsulated: the ds_pkt describes the
 * innermost packet, and `encap` says what it was carried in (docs/decoding.md).
 * The outcome says what kind of packet it was; only DS_PKT_OK packets carry a transport key.
 */
#ifndef DS_PACKET_H
#define DS_PACKET_H
#include <stdint.h>

#include "core/ip.h"

typedef enum ds_outcome {
    DS_PKT_OK = 0,       /* IP packet, transport header decoded (or an IP protocol we don't parse) */
    DS_PKT_NON_IP,       /* the link layer carries something other than IPv4/IPv6 (ARP, LLDP...) */
    DS_PKT_TRUNCATED,    /* the capture ends inside a header we need */
    DS_PKT_FRAGMENT,     /* an IP fragment (first or later): no reliable transport header */
    DS_PKT_MALFORMED,    /* a header is impossible (bad version, IHL < 5, length < header...) */
    DS_PKT_UNKNOWN_LINK, /* a link type the decoder does not handle */
    DS_PKT_BAD_TIMESTAMP, /* never from ds_decode: ingest found the record's time impossible
                             (ingest/tsguard.h); decoded only to find its sensor */
    DS_PKT__COUNT
} ds_outcome;

/* Bit in ds_pkt.have: which parts were decoded. */
enum {
    DS_HAVE_IP = 1u << 0,    /* src, dst, proto, ttl, ip_id valid (set also for TRUNCATED/FRAGMENT when
                                the IP header itself was whole, so the packet can be attributed) */
    DS_HAVE_L4 = 1u << 1,    /* sport/dport or icmp type/code valid */
    DS_HAVE_INNER = 1u << 2, /* an ICMP error quoted an inner IP header: inner_* valid */
    DS_HAVE_FRAG = 1u << 3,  /* a first fragment (offset 0, more to come) whose transport header was
                                whole: decoded as a packet, its payload the fragment's part */
    DS_HAVE_TCPTS = 1u << 4, /* a TCP timestamp option (RFC 7323) was captured: tcp_tsval valid */
};

/* Bit in ds_pkt.encap: the encapsulations the frame went through on the way to the packet that
 * was decoded (docs/decoding.md, "Tunnels and encapsulations").  Each is counted once per frame,
 * however many times it occurs (a QinQ stack is one DS_ENC_VLAN; ERSPAN rides on GRE: both). */
enum {
    DS_ENC_VLAN = 1u << 0,    /* IEEE 802.1Q / 802.1ad tags */
    DS_ENC_MPLS = 1u << 1,    /* an MPLS label stack (RFC 3032) */
    DS_ENC_PPPOE = 1u << 2,   /* a PPPoE session (RFC 2516) */
    DS_ENC_GRE = 1u << 3,     /* GRE (RFC 2784, RFC 2890) */
    DS_ENC_ERSPAN = 1u << 4,  /* ERSPAN type I, II or III over GRE */
    DS_ENC_VXLAN = 1u << 5,   /* VXLAN, UDP port 4789 (RFC 7348) */
    DS_ENC_GENEVE = 1u << 6,  /* GENEVE, UDP port 6081 (RFC 8926) */
    DS_ENC_IPIP = 1u << 7,    /* IP in IP: protocol 4 (RFC 2003) or 41 (RFC 4213, RFC 2473) */
};
#define DS_ENC__COUNT 8
/* Tunnels (GRE, VXLAN, GENEVE, IP in IP) entered before the packet is MALFORMED: a frame made of
 * nothing but tunnels ends after a few steps. */
#define DS_MAX_TUNNELS 4

/* TCP flag bits as on the wire. */
enum { DS_TH_FIN = 0x01, DS_TH_SYN = 0x02, DS_TH_RST = 0x04, DS_TH_PUSH = 0x08, DS_TH_ACK = 0x10,
       DS_TH_URG = 0x20, DS_TH_ECE = 0x40, DS_TH_CWR = 0x80 };

/* IANA protocol numbers we name. */
enum { DS_PROTO_ICMP = 1, DS_PROTO_TCP = 6, DS_PROTO_UDP = 17, DS_PROTO_ICMP6 = 58 };

typedef struct ds_pkt {
    uint64_t ts_ns;          /* capture time, ns since the epoch (filled by the caller) */
    uint32_t caplen, wirelen;
    uint32_t have;           /* DS_HAVE_* */

    ds_ip src, dst;
    uint8_t proto;           /* transport protocol (after IPv6 extension headers) */
    uint8_t ttl;             /* TTL / hop limit */
    uint16_t ip_id;          /* IPv4 identification (0 for IPv6) */
    uint16_t ip_len;         /* IP total length from the header (IPv6: 40 + payload length) */

    /* TCP/UDP */
    uint16_t sport, dport;
    /* TCP */
    uint8_t tcp_flags;
    uint8_t tcp_optlen;      /* bytes of TCP options present in the header (data offset - 20) */
    uint16_t tcp_win;
    uint32_t tcp_seq, tcp_ack;
    uint16_t tcp_mss;        /* MSS option value, 0 if absent or not captured */
    uint8_t tcp_opt_kinds;   /* count of TCP options seen (EOL/NOP excluded) */
    uint32_t tcp_tsval;      /* the timestamp option's TSval (DS_HAVE_TCPTS) */
    /* ICMP / ICMPv6 */
    uint8_t icmp_type, icmp_code;

    uint8_t encap;           /* DS_ENC_*: what the packet was carried in (0: nothing) */
    uint8_t tunnels;         /* tunnels entered to reach it (at most DS_MAX_TUNNELS) */
    uint8_t no_tunnels;      /* set by ds_decode_outer: tunnels are not entered */

    /* Transport payload (captured part) */
    const uint8_t *payload;
    uint32_t payload_len;    /* captured payload bytes available at payload */

    /* Quoted packet inside an ICMP/ICMPv6 error (backscatter victim analysis) */
    ds_ip inner_src, inner_dst;
    uint8_t inner_proto;
    uint16_t inner_sport, inner_dport;
} ds_pkt;

/* Decode one frame of the given LINKTYPE_* (pcap link-layer header type, not DLT_*).
 * `out` is fully overwritten; ts_ns is left 0 for the caller to set. */
ds_outcome ds_decode(int linktype, const uint8_t *data, uint32_t caplen, uint32_t wirelen, ds_pkt *out);

/* The same frame decoded without entering any tunnel (GRE, IP in IP, VXLAN, GENEVE): the packet
 * that carried it, as the wire shows it (GRE is 47/ip, VXLAN 4789/udp).  For a tunnel whose inner
 * packet is for no darknet while the outer one was sent to one: GRE or IP-in-IP aimed at dark
 * space (a Mirai GRE flood's inner destination is random) is the darknet's traffic. */
ds_outcome ds_decode_outer(int linktype, const uint8_t *data, uint32_t caplen, uint32_t wirelen, ds_pkt *out);

const char *ds_outcome_name(ds_outcome o);
/* Name of the i-th DS_ENC_* bit (i = 0 .. DS_ENC__COUNT-1): "vlan", "mpls", ..., "ipip"; as in
 * stats (JSON and table) and the store's enc_* columns. */
const char *ds_encap_name(int i);

/* The IPv4 source address of a plain Ethernet/IPv4 frame (no VLAN tag), read without decoding
 * the frame: 1 and *src (host order) when the frame is one, else 0 (decode it to know).  With
 * --threads N a thread reads every record but aggregates only the sources it owns; this lets it
 * skip the decode of the others.  It says nothing about whether the IPv4 header is valid.  A
 * possible tunnel (GRE, IP in IP, UDP to 4789 or 6081, or UDP whose port was not captured) gives
 * 0: its packet is the inner one, whose source only the decoder finds. */
int ds_peek_ipv4_src(int linktype, const uint8_t *data, uint32_t caplen, uint32_t *src);

#endif
