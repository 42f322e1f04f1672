/* erspan.c: Cisco's Encapsulated Remote SPAN over GRE (draft-foschiano-erspan-03), how switches
 * send a mirror port's frames to a collector.
 *
 * Type I (GRE protocol 0x88BE without a sequence number) has no header of its own: gre.c hands
 * its frame to the Ethernet decoder.  Type II (0x88BE, GRE sequence number present), 8 bytes:
 *   Ver(4) = 1 | VLAN(12) | COS(3) En(2) T(1) Session ID(10) | Reserved(12) Index(20)
 * Type III (0x22EB), 12 bytes, then 8 more when O is set (the platform-specific subheader):
 *   Ver(4) = 2 | VLAN(12) | COS(3) BSO(2) T(1) Session ID(10) | Timestamp(32) |
 *   SGT(16) | P(1) FT(5) HW ID(6) D(1) Gra(2) O(1)
 * FT (frame type) 0 is an Ethernet frame, 2 an IP packet; anything else is NON_IP.
 * A version that does not match the GRE protocol type is MALFORMED; a header cut by the capture
 * TRUNCATED.  Both keep the outer addresses (no inner packet was reached).
 */
#include "core/decode_int.h"

ds_outcome ds_dec_erspan(int type, const uint8_t *p, size_t len, ds_pkt *out)
{
    size_t hl = type == 3 ? 12 : 8;
    if (len < 1)
        return DS_PKT_TRUNCATED;
    if ((p[0] >> 4) != (type == 3 ? 2 : 1))
        return DS_PKT_MALFORMED;
    if (len < hl)
        return DS_PKT_TRUNCATED;
    int ft = 0;
    if (type == 3) {
        ft = (p[10] >> 2) & 0x1f;
        if (p[11] & 1)
            hl += 8;   /* the platform-specific subheader */
        if (len < hl)
            return DS_PKT_TRUNCATED;
    }
    if (!ds_tunnel_enter(out, DS_ENC_GRE | DS_ENC_ERSPAN))
        return DS_PKT_MALFORMED;
    if (ft == 0)
        return ds_dec_ether(p + hl, len - hl, out);
    if (ft == 2)
        return ds_dec_ip(p + hl, len - hl, out, DS_PKT_MALFORMED);
    return DS_PKT_NON_IP;
}
