/* decode.c: entry point of the packet decoder, link-type dispatch, transport dispatch.
 *
 * ds_decode() clears the ds_pkt once (so every path leaves it fully initialised), then one
 * switch on the pcap LINKTYPE_* value (https://www.tcpdump.org/linktypes.html) picks the link
 * decoder.  Ethernet is tested first, outside the switch: on a telescope nearly every frame is
 * Ethernet/IPv4/TCP, and that path is a straight line of direct calls
 * ds_dec_ether -> ds_dec_ipv4 -> ds_dec_transport -> ds_dec_tcp with no table lookups.
 *
 * The one-file-per-protocol layout follows tcpdump's print-*.c; see decode_int.h for the
 * conventions every layer follows, and docs/decoding.md for the outcome definitions.
 */
#include <string.h>

#include "core/decode_int.h"
#include "core/packet.h"

/* Zero the ds_pkt in pieces of at most 64 bytes.  GCC's generic tuning turns one memset()
 * of more than 64 bytes into `rep stos`, which costs ~15 ns on the AMD EPYC we measured on:
 * more than the whole rest of an Ethernet/IPv4/TCP decode.  Pieces of 64 become four vector
 * stores each. */
_Static_assert(sizeof(ds_pkt) <= 192, "clear_pkt() clears at most 192 bytes");
static inline void clear_pkt(ds_pkt *out)
{
    unsigned char *b = (unsigned char *)out;
    size_t n = sizeof *out;
    memset(b, 0, n < 64 ? n : 64);
    if (n > 64)
        memset(b + 64, 0, n < 128 ? n - 64 : 64);
    if (n > 128)
        memset(b + 128, 0, n - 128);
}

enum { LINKTYPE_ETHERNET = 1, LINKTYPE_LINUX_SLL = 113, LINKTYPE_LINUX_SLL2 = 276 };

static inline ds_outcome decode(int linktype, const uint8_t *data, uint32_t caplen, uint32_t wirelen, int no_tunnels,
                                ds_pkt *out)
{
    clear_pkt(out);
    out->caplen = caplen;
    out->wirelen = wirelen;
    out->no_tunnels = (uint8_t)no_tunnels;
    if (!data)
        caplen = 0;

    if (linktype == LINKTYPE_ETHERNET)
        return ds_dec_ether(data, caplen, out);
    switch (linktype) {
    case LINKTYPE_LINUX_SLL:
        return ds_dec_sll(data, caplen, out);
    case LINKTYPE_LINUX_SLL2:
        return ds_dec_sll2(data, caplen, out);
    default:
        return ds_dec_link_other(linktype, data, caplen, out);
    }
}

ds_outcome ds_decode(int linktype, const uint8_t *data, uint32_t caplen, uint32_t wirelen, ds_pkt *out)
{
    return decode(linktype, data, caplen, wirelen, 0, out);
}

ds_outcome ds_decode_outer(int linktype, const uint8_t *data, uint32_t caplen, uint32_t wirelen, ds_pkt *out)
{
    return decode(linktype, data, caplen, wirelen, 1, out);
}

/* Every other IP protocol: the tunnels, and what we count by number.  Out of line, so that the
 * transport switch of TCP/UDP/ICMP stays the four-way compare it was before the tunnels
 * (callgrind: a seven-way switch cost 4 instructions a packet). */
static __attribute__((noinline)) ds_outcome dec_other_proto(const uint8_t *p, size_t len, size_t claimed,
                                                            ds_pkt *out, uint8_t proto)
{
    switch (out->no_tunnels ? 0 : proto) {
    case DS_IPPROTO_GRE:
        return ds_dec_gre(p, len, claimed, out);
    case DS_IPPROTO_IPIP:
    case DS_IPPROTO_IPV6:
        return ds_dec_ipip(proto, p, len, out);
    default:
        /* ESP, SCTP, ...: counted by protocol number only.  The payload is the whole IP
         * payload, since we did not parse a transport header. */
        return ds_dec_opaque(p, len, out);
    }
}

ds_outcome ds_dec_transport(uint8_t proto, const uint8_t *p, size_t len, size_t claimed, ds_pkt *out)
{
    switch (proto) {
    case DS_PROTO_TCP:
        return ds_dec_tcp(p, len, claimed, out);
    case DS_PROTO_UDP:
        return ds_dec_udp(p, len, claimed, out);
    case DS_PROTO_ICMP:
        return ds_dec_icmp(p, len, claimed, out);
    case DS_PROTO_ICMP6:
        return ds_dec_icmp6(p, len, claimed, out);
    default:
        return dec_other_proto(p, len, claimed, out, proto);
    }
}

/* A first fragment carries the transport header of the whole datagram, and tcpdump decodes it as
 * any packet's.  For a telescope it is where a fragmented answer shows its ports: an amplifier's
 * large DNS answer (EDNS0, DNSSEC) or CLDAP/SNMP reply arrives as fragments, and without the
 * first one's header the whole reflection is only "fragments" (StopDDoS's
 * amp.dns.RRSIG.fragmented: 1,249 of 4,412 packets).  RFC 791 lets a header be split over
 * fragments (and RFC 1858 describes doing so to evade filters): a header that is not whole in
 * this fragment leaves the packet a fragment.  A tunnel is not entered: its inner packet is cut.
 * Later fragments carry no header and stay fragments (no reassembly: a telescope counts what
 * arrives, and keeping fragments waiting for their kin is state an attacker controls). */
ds_outcome ds_dec_first_fragment(uint8_t proto, const uint8_t *p, size_t len, size_t claimed, ds_pkt *out)
{
    if (proto != DS_PROTO_TCP && proto != DS_PROTO_UDP && proto != DS_PROTO_ICMP && proto != DS_PROTO_ICMP6)
        return DS_PKT_FRAGMENT;
    uint8_t no_tunnels = out->no_tunnels;
    out->no_tunnels = 1;
    ds_outcome o = ds_dec_transport(proto, p, len, claimed, out);
    out->no_tunnels = no_tunnels;
    if (o == DS_PKT_OK) {
        out->have |= DS_HAVE_FRAG;
        return DS_PKT_OK;
    }
    out->have &= DS_HAVE_IP;   /* as a fragment: no transport fields */
    out->sport = out->dport = 0;
    out->tcp_flags = out->tcp_optlen = 0;
    out->tcp_win = out->tcp_mss = 0;
    out->tcp_seq = out->tcp_ack = out->tcp_tsval = 0;
    out->tcp_opt_kinds = out->icmp_type = out->icmp_code = 0;
    out->payload = NULL;
    out->payload_len = 0;
    return DS_PKT_FRAGMENT;
}

int ds_tunnel_enter(ds_pkt *out, unsigned enc)
{
    if (out->tunnels >= DS_MAX_TUNNELS)
        return 0;
    uint32_t caplen = out->caplen, wirelen = out->wirelen;
    uint8_t encap = (uint8_t)(out->encap | enc), tunnels = (uint8_t)(out->tunnels + 1);
    clear_pkt(out);
    out->caplen = caplen;
    out->wirelen = wirelen;
    out->encap = encap;
    out->tunnels = tunnels;
    return 1;
}

const char *ds_encap_name(int i)
{
    static const char *const names[DS_ENC__COUNT] = { "vlan", "mpls", "pppoe", "gre", "erspan", "vxlan",
                                                      "geneve", "ipip" };
    return i >= 0 && i < DS_ENC__COUNT ? names[i] : "?";
}

const char *ds_outcome_name(ds_outcome o)
{
    switch (o) {
    case DS_PKT_OK: return "ok";
    case DS_PKT_NON_IP: return "non-ip";
    case DS_PKT_TRUNCATED: return "truncated";
    case DS_PKT_FRAGMENT: return "fragment";
    case DS_PKT_MALFORMED: return "malformed";
    case DS_PKT_UNKNOWN_LINK: return "unknown-link";
    case DS_PKT_BAD_TIMESTAMP: return "bad-timestamp";
    case DS_PKT__COUNT: break;
    }
    return "?";
}

int ds_peek_ipv4_src(int linktype, const uint8_t *data, uint32_t caplen, uint32_t *src)
{
    if (linktype != LINKTYPE_ETHERNET || !data)
        return 0;
    ds_cur c = ds_cur_make(data, caplen);
    if (!ds_cur_has(&c, 34) || ds_peek_be16(&c, 12) != 0x0800 || (ds_peek_u8(&c, 14) >> 4) != 4)
        return 0;
    /* A tunnel's packet is attributed by its inner source, which only a decode finds: GRE, IP in
     * IP, and UDP to the VXLAN and GENEVE ports (or UDP whose port is not captured) say 0. */
    uint8_t proto = ds_peek_u8(&c, 23);
    if (proto == DS_IPPROTO_GRE || proto == DS_IPPROTO_IPIP || proto == DS_IPPROTO_IPV6)
        return 0;
    if (proto == DS_PROTO_UDP) {
        uint16_t dport = ds_peek_be16(&c, 14 + (size_t)(ds_peek_u8(&c, 14) & 0x0f) * 4 + 2);
        if (!ds_cur_ok(&c) || dport == DS_UDP_VXLAN || dport == DS_UDP_GENEVE)
            return 0;
    }
    *src = ds_peek_be32(&c, 26);   /* Ethernet 14 + the IPv4 source at 12 (RFC 791) */
    return 1;
}
