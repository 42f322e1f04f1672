/* geneve.c: Generic Network Virtualization Encapsulation (RFC 8926 section 3), UDP destination
 * port 6081.
 *
 *   Ver(2) = 0 | Opt Len(6) | O(1) C(1) Rsvd(6) | Protocol Type(16) | VNI(24) | Reserved(8)
 *   then Opt Len * 4 bytes of options, then the payload the protocol type names: 0x6558 an
 *   Ethernet frame, 0x0800 IPv4, 0x86DD IPv6.
 *
 * As for VXLAN (vxlan.c), the port alone says GENEVE: a datagram to 6081 is decapsulated only
 * when its header is version 0, its options were captured, its protocol type is one of the three
 * and the payload reached an IP header with its addresses; otherwise it stays the UDP datagram it
 * is (ok, 6081/udp).  Options (including critical ones) are skipped, not read.
 */
#include "core/decode_int.h"

ds_outcome ds_dec_geneve(const uint8_t *p, size_t len, ds_pkt *out)
{
    if (len < 8 || (p[0] >> 6) != 0)
        return DS_PKT_OK;
    size_t hl = 8 + (size_t)(p[0] & 0x3f) * 4;
    uint16_t type = (uint16_t)(p[2] << 8 | p[3]);
    if (len < hl || (type != 0x6558 && type != DS_ETH_IPV4 && type != DS_ETH_IPV6))
        return DS_PKT_OK;
    ds_pkt udp = *out;
    if (!ds_tunnel_enter(out, DS_ENC_GENEVE))
        return DS_PKT_MALFORMED;
    ds_outcome o = type == 0x6558 ? ds_dec_ether(p + hl, len - hl, out) : ds_dec_ethertype(type, p + hl, len - hl, out);
    if (!(out->have & DS_HAVE_IP)) {
        *out = udp;   /* no inner IP packet: count the datagram */
        return DS_PKT_OK;
    }
    return o;
}
