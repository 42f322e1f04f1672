/* decode_int.h: private declarations shared by the decoder's files (decode.c, link_*.c, ipv4.c,
 * ipv6.c, tcp.c, udp.c, icmp.c, icmp6.c, and the tunnels gre.c, erspan.c, vxlan.c, geneve.c, ipip.c).  Not part of the contract in packet.h.
 *
 * Every layer decoder takes the bytes from the start of its own header to the end of what is
 * usable (`p`, `len`) and the ds_pkt to fill, and returns the outcome of the whole packet: each
 * layer hands its payload straight to the next one (tail calls), so a frame is walked once,
 * front to back, with no re-parsing.  `len` is always "captured bytes from p on", already
 * limited by any enclosing length field (IP total length), so a layer never needs to know where
 * it sits in the frame.
 *
 * Bounds: a fixed-size header is checked once, `len < N` (which cannot overflow, as `len` is
 * the count of bytes left), and then read at constant offsets below N; that keeps the hot
 * Ethernet/IPv4/TCP path to one compare per layer.  Anything walked by a length taken from
 * the packet (TCP options, IPv6 extension headers, radiotap, NFLOG TLVs) goes through a
 * ds_cur from core/bytes.h, whose every read is checked.
 *
 * Transport decoders also get `claimed`: how many bytes the IP header says its payload has
 * (SIZE_MAX when unknown, as for an IPv6 jumbogram).  A transport header that ends beyond
 * `claimed` is MALFORMED (the packet contradicts itself); one that ends beyond `len` but within
 * `claimed` is TRUNCATED (the capture was cut short).
 */
#ifndef DS_DECODE_INT_H
#define DS_DECODE_INT_H
#include <stddef.h>
#include <stdint.h>

#include "core/bytes.h"
#include "core/packet.h"

/* EtherTypes (IEEE 802 numbers, https://www.iana.org/assignments/ieee-802-numbers). */
enum {
    DS_ETH_IPV4 = 0x0800,
    DS_ETH_ARP = 0x0806,
    DS_ETH_VLAN = 0x8100,    /* IEEE 802.1Q C-tag */
    DS_ETH_QINQ = 0x88a8,    /* IEEE 802.1ad S-tag */
    DS_ETH_QINQ_OLD = 0x9100, /* pre-standard QinQ tag still seen in the wild */
    DS_ETH_IPV6 = 0x86dd,
    DS_ETH_PPPOE_DISC = 0x8863,
    DS_ETH_PPPOE_SESS = 0x8864,
    DS_ETH_MPLS_UC = 0x8847,
    DS_ETH_MPLS_MC = 0x8848,
};

/* PPP protocol numbers (RFC 1661 / IANA PPP DLL protocol numbers). */
enum { DS_PPP_IPV4 = 0x0021, DS_PPP_IPV6 = 0x0057 };

/* How many stacked tags, labels or extension headers we walk before giving up: real traffic
 * has a handful; a crafted frame must not make us loop for long. */
enum { DS_MAX_TAGS = 8, DS_MAX_MPLS = 16, DS_MAX_EXT = 16 };

/* Link layers (link_ether.c, link_sll.c, link_other.c). */
ds_outcome ds_dec_ether(const uint8_t *p, size_t len, ds_pkt *out);
/* Payload of an EtherType `type` (VLAN/QinQ/PPPoE/MPLS stacks unwound here). */
ds_outcome ds_dec_ethertype(uint16_t type, const uint8_t *p, size_t len, ds_pkt *out);
/* An IEEE 802.2 LLC PDU: only SNAP with an EtherType leads on to IP. */
ds_outcome ds_dec_llc(const uint8_t *p, size_t len, ds_pkt *out);
/* PPP: `p` at the (possibly compressed) protocol field. */
ds_outcome ds_dec_ppp_proto(const uint8_t *p, size_t len, ds_pkt *out);
ds_outcome ds_dec_sll(const uint8_t *p, size_t len, ds_pkt *out);
ds_outcome ds_dec_sll2(const uint8_t *p, size_t len, ds_pkt *out);
/* Every other link type we know; DS_PKT_UNKNOWN_LINK for the rest. */
ds_outcome ds_dec_link_other(int linktype, const uint8_t *p, size_t len, ds_pkt *out);

/* Network layer.  ds_dec_ip picks the version from the first nibble (raw IP, MPLS payload):
 * `other` is the outcome when the nibble is neither 4 nor 6. */
ds_outcome ds_dec_ip(const uint8_t *p, size_t len, ds_pkt *out, ds_outcome other);
ds_outcome ds_dec_ipv4(const uint8_t *p, size_t len, ds_pkt *out);
ds_outcome ds_dec_ipv6(const uint8_t *p, size_t len, ds_pkt *out);

/* IPv6 extension header walk shared by ipv6.c and icmp6.c (the quoted inner header).
 * On entry *nh is the first Next Header value and the cursor is just past the fixed header.
 * Stops at the first header that is not an extension header (*nh is then the upper-layer
 * protocol).  Returns 0 when done, 1 when a (non-atomic) fragment header was found,
 * -1 when an extension header runs past the cursor, -2 when the walk was too long. */
int ds_ipv6_walk_ext(ds_cur *c, uint8_t *nh);

/* Transport layer, dispatched by IP protocol number (decode.c). */
ds_outcome ds_dec_transport(uint8_t proto, const uint8_t *p, size_t len, size_t claimed, ds_pkt *out);
/* The payload of a first fragment (offset 0, more fragments; claimed: this fragment's payload
 * length): DS_PKT_OK with DS_HAVE_FRAG when it holds a whole TCP, UDP, ICMP or ICMPv6 header,
 * else DS_PKT_FRAGMENT with no transport fields (decode.c). */
ds_outcome ds_dec_first_fragment(uint8_t proto, const uint8_t *p, size_t len, size_t claimed, ds_pkt *out);
ds_outcome ds_dec_tcp(const uint8_t *p, size_t len, size_t claimed, ds_pkt *out);
ds_outcome ds_dec_udp(const uint8_t *p, size_t len, size_t claimed, ds_pkt *out);
ds_outcome ds_dec_icmp(const uint8_t *p, size_t len, size_t claimed, ds_pkt *out);
ds_outcome ds_dec_icmp6(const uint8_t *p, size_t len, size_t claimed, ds_pkt *out);

/* Tunnels (gre.c, erspan.c, vxlan.c, geneve.c, ipip.c).  The transport dispatch hands them the IP
 * payload like any transport; they give the inner frame to the link or IP decoder. */
enum { DS_IPPROTO_IPIP = 4, DS_IPPROTO_IPV6 = 41, DS_IPPROTO_GRE = 47 };
enum { DS_UDP_VXLAN = 4789, DS_UDP_GENEVE = 6081 };   /* IANA service names vxlan, geneve */
ds_outcome ds_dec_gre(const uint8_t *p, size_t len, size_t claimed, ds_pkt *out);
ds_outcome ds_dec_ipip(uint8_t proto, const uint8_t *p, size_t len, ds_pkt *out);
/* ERSPAN header of type II (version 1) or III (version 2) at p, after GRE. */
ds_outcome ds_dec_erspan(int type, const uint8_t *p, size_t len, ds_pkt *out);
/* The UDP payload of a datagram to port 4789 or 6081: DS_PKT_OK with the UDP packet as it is
 * when the payload is no VXLAN/GENEVE header, else the inner frame's outcome. */
ds_outcome ds_dec_vxlan(const uint8_t *p, size_t len, ds_pkt *out);
ds_outcome ds_dec_geneve(const uint8_t *p, size_t len, ds_pkt *out);
/* Step into a tunnel's payload: 0 when DS_MAX_TUNNELS were entered already (the packet is then
 * MALFORMED).  Otherwise the outer packet is forgotten (the inner one is what is counted: its
 * addresses, transport and payload), `enc` is added to out->encap, and 1 is returned. */
int ds_tunnel_enter(ds_pkt *out, unsigned enc);
/* A protocol we count by number only (GRE we do not decapsulate, ESP, SCTP...): ok, with the
 * whole IP payload as payload. */
static inline ds_outcome ds_dec_opaque(const uint8_t *p, size_t len, ds_pkt *out)
{
    out->payload = len ? p : NULL;
    out->payload_len = (uint32_t)len;
    return DS_PKT_OK;
}

/* Copy 4 or 16 address bytes into a ds_ip. */
static inline void ds_ip_from4(ds_ip *ip, const uint8_t *b)
{
    ip->b[0] = b[0]; ip->b[1] = b[1]; ip->b[2] = b[2]; ip->b[3] = b[3];
    /* the rest is already zero: ds_decode() cleared the whole ds_pkt */
    ip->v6 = 0;
}
static inline void ds_ip_from16(ds_ip *ip, const uint8_t *b)
{
    for (int i = 0; i < 16; i++) ip->b[i] = b[i];
    ip->v6 = 1;
}

#endif
