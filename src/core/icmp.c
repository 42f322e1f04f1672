/* icmp.c: ICMP for IPv4 (RFC 792), and the packet quoted inside ICMP errors.
 *
 * Type and code are the first two bytes; we require the first 4 (with the checksum), as for
 * every ICMP message.  The error messages Destination Unreachable (3), Source Quench (4),
 * Redirect (5), Time Exceeded (11) and Parameter Problem (12) carry, after their 8-byte
 * header, "the internet header plus the first 64 bits of the original datagram" (RFC 792).
 * On a telescope these are backscatter: a router or host answering a packet that was sent
 * with one of our addresses as its forged source.  The quoted header names the victim that
 * was attacked (inner_dst) and the service (inner_dport), so we decode it into inner_*.
 * A quote that is cut off or not IPv4 just leaves DS_HAVE_INNER clear: the outer ICMP
 * message is still a good packet.
 */
#include "core/decode_int.h"

/* Transport protocols whose first 4 bytes are source and destination port. */
static int has_ports(uint8_t proto)
{
    return proto == DS_PROTO_TCP || proto == DS_PROTO_UDP || proto == 33 /* DCCP */ ||
           proto == 132 /* SCTP */ || proto == 136 /* UDP-Lite */;
}

static void icmp_inner(const uint8_t *q, size_t len, ds_pkt *out)
{
    if (len < 20 || (q[0] >> 4) != 4)
        return;
    size_t hl = (size_t)(q[0] & 0x0f) * 4;
    if (hl < 20 || hl > len)
        return;
    ds_ip_from4(&out->inner_src, q + 12);
    ds_ip_from4(&out->inner_dst, q + 16);
    out->inner_proto = q[9];
    out->have |= DS_HAVE_INNER;
    uint16_t frag_off = (uint16_t)((q[6] << 8 | q[7]) & 0x1fff);
    if (frag_off == 0 && has_ports(q[9]) && len - hl >= 4) {
        out->inner_sport = (uint16_t)(q[hl] << 8 | q[hl + 1]);
        out->inner_dport = (uint16_t)(q[hl + 2] << 8 | q[hl + 3]);
    }
}

ds_outcome ds_dec_icmp(const uint8_t *p, size_t len, size_t claimed, ds_pkt *out)
{
    if (claimed < 4)
        return DS_PKT_MALFORMED;
    if (len < 4)
        return DS_PKT_TRUNCATED;
    uint8_t type = p[0];
    out->icmp_type = type;
    out->icmp_code = p[1];
    out->have |= DS_HAVE_L4;
    if (len > 8) {
        out->payload = p + 8;
        out->payload_len = (uint32_t)(len - 8);
        switch (type) {
        case 3: case 4: case 5: case 11: case 12:
            icmp_inner(p + 8, len - 8, out);
            break;
        default:
            break;
        }
    }
    return DS_PKT_OK;
}
