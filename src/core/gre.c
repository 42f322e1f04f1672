/* gre.c: Generic Routing Encapsulation, IP protocol 47 (RFC 2784, with the key and sequence number
 * fields of RFC 2890).
 *
 *    0                   1                   2                   3
 *   |C| |K|S| Reserved0       | Ver |         Protocol Type         |
 *   |      Checksum (optional)      |       Reserved1 (optional)    |   C set
 *   |                         Key (optional)                        |   K set
 *   |                 Sequence Number (optional)                    |   S set
 *
 * Version 0 only.  The protocol types we decapsulate (IEEE 802 EtherTypes, as RFC 2784 says):
 *   0x0800 IPv4, 0x86DD IPv6, 0x8847/0x8848 MPLS (RFC 4023), 0x6558 Transparent Ethernet
 *   Bridging (an Ethernet frame), 0x88BE ERSPAN type II (S set) or type I (S clear: the frame
 *   follows GRE at once), 0x22EB ERSPAN type III (erspan.c).
 * GRE we do not decapsulate is counted as before, by protocol number (47/ip): version 1 (PPTP's
 * enhanced GRE, RFC 2637), the routing bit of RFC 1701 set (source routes, never seen on a feed),
 * and any other protocol type (WCCP 0x883E, keepalives of other kinds, PPP 0x880B...).
 * A header cut by the capture is TRUNCATED, one longer than the IP payload MALFORMED; both keep
 * the outer addresses, since no inner packet was reached.  The checksum is not verified.
 */
#include "core/decode_int.h"

enum {
    GRE_C = 0x8000, GRE_R = 0x4000, GRE_K = 0x2000, GRE_S = 0x1000, GRE_VER = 0x0007,
    GRE_TEB = 0x6558, GRE_ERSPAN_2 = 0x88be, GRE_ERSPAN_3 = 0x22eb,
};

ds_outcome ds_dec_gre(const uint8_t *p, size_t len, size_t claimed, ds_pkt *out)
{
    if (len < 4)
        return claimed < 4 ? DS_PKT_MALFORMED : DS_PKT_TRUNCATED;
    uint16_t flags = (uint16_t)(p[0] << 8 | p[1]), type = (uint16_t)(p[2] << 8 | p[3]);
    if ((flags & GRE_VER) != 0 || (flags & GRE_R))
        return ds_dec_opaque(p, len, out);
    size_t hl = 4 + ((flags & GRE_C) ? 4 : 0) + ((flags & GRE_K) ? 4 : 0) + ((flags & GRE_S) ? 4 : 0);
    switch (type) {
    case DS_ETH_IPV4: case DS_ETH_IPV6: case DS_ETH_MPLS_UC: case DS_ETH_MPLS_MC:
    case GRE_TEB: case GRE_ERSPAN_2: case GRE_ERSPAN_3:
        break;
    default:
        return ds_dec_opaque(p, len, out);
    }
    if (len < hl)
        return claimed < hl ? DS_PKT_MALFORMED : DS_PKT_TRUNCATED;
    p += hl;
    len -= hl;
    if (type == GRE_ERSPAN_3 || (type == GRE_ERSPAN_2 && (flags & GRE_S)))
        return ds_dec_erspan(type == GRE_ERSPAN_3 ? 3 : 2, p, len, out);
    if (!ds_tunnel_enter(out, type == GRE_ERSPAN_2 ? DS_ENC_GRE | DS_ENC_ERSPAN : DS_ENC_GRE))
        return DS_PKT_MALFORMED;
    switch (type) {
    case GRE_TEB:
    case GRE_ERSPAN_2:   /* type I: the mirrored frame follows at once */
        return ds_dec_ether(p, len, out);
    default:             /* IPv4, IPv6, MPLS: a payload named by its EtherType */
        return ds_dec_ethertype(type, p, len, out);
    }
}
