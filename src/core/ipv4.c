/* ipv4.c: the IPv4 header (RFC 791 section 3.1), and the version-nibble guess for bare IP.
 *
 * Checks, in the order that decides the outcome:
 *   version != 4 (the link said IPv4)         -> MALFORMED
 *   fewer than 20 bytes captured              -> TRUNCATED (no address: cannot attribute)
 *   IHL < 5                                   -> MALFORMED (addresses are still reported)
 *   IHL*4 bytes not captured                  -> TRUNCATED (options cut off)
 *   total length < IHL*4                      -> MALFORMED
 *   fragment offset != 0                      -> FRAGMENT
 *   MF set (a first fragment)                 -> its transport header, when whole (decode.c,
 *                                                ds_dec_first_fragment), else FRAGMENT
 * From "IHL < 5" on DS_HAVE_IP is set, so even a bad packet can be attributed to a sensor.
 * The transport layer then sees the captured bytes limited to the total length (Ethernet pads
 * short frames to 60 bytes; that padding is not transport payload), and is told the claimed
 * payload length so it can tell "cut short by the snaplen" from "contradicts the IP header".
 * Options are skipped, not parsed: a telescope counts packets, it does not route them.
 * The header checksum is not verified, as tcpdump does not by default: a telescope counts
 * what arrives.
 */
#include "core/decode_int.h"

ds_outcome ds_dec_ip(const uint8_t *p, size_t len, ds_pkt *out, ds_outcome other)
{
    if (len < 1)
        return DS_PKT_TRUNCATED;
    switch (p[0] >> 4) {
    case 4:
        return ds_dec_ipv4(p, len, out);
    case 6:
        return ds_dec_ipv6(p, len, out);
    default:
        return other;
    }
}

ds_outcome ds_dec_ipv4(const uint8_t *p, size_t len, ds_pkt *out)
{
    if (len < 1)
        return DS_PKT_TRUNCATED;
    if ((p[0] >> 4) != 4)
        return DS_PKT_MALFORMED;
    if (len < 20)
        return DS_PKT_TRUNCATED;
    size_t hl = (size_t)(p[0] & 0x0f) * 4;
    size_t total = (size_t)(p[2] << 8 | p[3]);
    uint16_t frag = (uint16_t)(p[6] << 8 | p[7]);

    out->ip_len = (uint16_t)total;
    out->ip_id = (uint16_t)(p[4] << 8 | p[5]);
    out->ttl = p[8];
    out->proto = p[9];
    ds_ip_from4(&out->src, p + 12);
    ds_ip_from4(&out->dst, p + 16);
    out->have = DS_HAVE_IP;

    if (hl < 20)
        return DS_PKT_MALFORMED;
    if (hl > len)
        return DS_PKT_TRUNCATED;
    if (total < hl)
        return DS_PKT_MALFORMED;
    size_t avail = len < total ? len : total;
    if (frag & 0x1fff)             /* a non-zero offset: no transport header */
        return DS_PKT_FRAGMENT;
    if (frag & 0x2000)             /* MF, offset 0: the first fragment */
        return ds_dec_first_fragment(out->proto, p + hl, avail - hl, total - hl, out);
    return ds_dec_transport(out->proto, p + hl, avail - hl, total - hl, out);
}
