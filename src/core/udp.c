/* udp.c: the UDP header (RFC 768).
 *
 * 8 bytes: source port, destination port, length, checksum.  A length below 8 is impossible
 * (MALFORMED).  The one exception is a length of 0 under IPv6, which RFC 2675 section 4 uses
 * for jumbograms; there the IP length rules.  The payload is what was captured after the
 * header, limited by the UDP length when that is the smaller (datagram followed by padding).
 * A UDP length larger than the IP payload is not rejected: the ports are still right, and
 * tcpdump too prints such packets (flagged "bad length").
 * A datagram to port 4789 or 6081 may carry a VXLAN or GENEVE tunnel (vxlan.c, geneve.c).
 */
#include "core/decode_int.h"

ds_outcome ds_dec_udp(const uint8_t *p, size_t len, size_t claimed, ds_pkt *out)
{
    if (claimed < 8)
        return DS_PKT_MALFORMED;
    if (len < 8)
        return DS_PKT_TRUNCATED;
    out->sport = (uint16_t)(p[0] << 8 | p[1]);
    out->dport = (uint16_t)(p[2] << 8 | p[3]);
    out->have |= DS_HAVE_L4;
    size_t ulen = (size_t)(p[4] << 8 | p[5]);
    if (ulen == 0 && out->src.v6)
        ulen = len;                    /* RFC 2675 jumbogram */
    if (ulen < 8)
        return DS_PKT_MALFORMED;
    size_t body = len - 8;
    if (ulen - 8 < body)
        body = ulen - 8;
    if (body) {
        out->payload = p + 8;
        out->payload_len = (uint32_t)body;
    }
    if (out->dport == DS_UDP_VXLAN && !out->no_tunnels)
        return ds_dec_vxlan(p + 8, body, out);
    if (out->dport == DS_UDP_GENEVE && !out->no_tunnels)
        return ds_dec_geneve(p + 8, body, out);
    return DS_PKT_OK;
}
