/* vxlan.c: Virtual eXtensible LAN (RFC 7348 section 5), UDP destination port 4789.
 *
 *   Flags(8): R R R R I R R R | Reserved(24) | VNI(24) | Reserved(8)   then an Ethernet frame
 *
 * The port alone says VXLAN, and scanners probe 4789/udp like any other port.  So a datagram to
 * 4789 is decapsulated only when its header has the I flag (the other flag bits are reserved,
 * "ignored on receipt": the group policy extension and VXLAN-GPE set some) and the frame in it
 * reached an IP header with its addresses; otherwise it stays the UDP datagram it is (ok,
 * 4789/udp).  Linux's historical port 8472 is not decapsulated.  The VNI is not looked at.
 */
#include "core/decode_int.h"

ds_outcome ds_dec_vxlan(const uint8_t *p, size_t len, ds_pkt *out)
{
    /* 8-byte header and at least an Ethernet header: else a probe, not a tunnel */
    if (len < 8 + 14 || !(p[0] & 0x08))
        return DS_PKT_OK;
    ds_pkt udp = *out;
    if (!ds_tunnel_enter(out, DS_ENC_VXLAN))
        return DS_PKT_MALFORMED;
    ds_outcome o = ds_dec_ether(p + 8, len - 8, out);
    if (!(out->have & DS_HAVE_IP)) {
        *out = udp;   /* no inner IP packet: count the datagram */
        return DS_PKT_OK;
    }
    return o;
}
