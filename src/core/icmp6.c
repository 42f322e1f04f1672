/* icmp6.c: ICMPv6 (RFC 4443), and the packet quoted inside ICMPv6 errors.
 *
 * Type and code are the first two bytes; we require the first 4.  The error messages
 * Destination Unreachable (1), Packet Too Big (2), Time Exceeded (3) and Parameter Problem (4)
 * carry, after their 8-byte header, "as much of invoking packet as possible" (RFC 4443
 * section 3): we decode its IPv6 header, walk its extension headers with the same walker as
 * the outer packet (ipv6.c) and take the ports of TCP/UDP/SCTP into inner_*, as icmp.c does
 * for IPv4.  A quote that is cut off or not IPv6 leaves DS_HAVE_INNER clear.
 */
#include "core/decode_int.h"

static void icmp6_inner(const uint8_t *q, size_t len, ds_pkt *out)
{
    if (len < 40 || (q[0] >> 4) != 6)
        return;
    ds_ip_from16(&out->inner_src, q + 8);
    ds_ip_from16(&out->inner_dst, q + 24);
    uint8_t nh = q[6];
    out->inner_proto = nh;
    out->have |= DS_HAVE_INNER;
    ds_cur c = ds_cur_make(q + 40, len - 40);
    int rc = ds_ipv6_walk_ext(&c, &nh);
    if (rc < 0)
        return;                 /* quote ends inside an extension header */
    out->inner_proto = nh;
    if (rc == 0 && (nh == DS_PROTO_TCP || nh == DS_PROTO_UDP || nh == 132 || nh == 33 || nh == 136)) {
        uint16_t sport = ds_peek_be16(&c, 0), dport = ds_peek_be16(&c, 2);
        if (ds_cur_ok(&c)) {
            out->inner_sport = sport;
            out->inner_dport = dport;
        }
    }
}

ds_outcome ds_dec_icmp6(const uint8_t *p, size_t len, size_t claimed, ds_pkt *out)
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
        if (type >= 1 && type <= 4)
            icmp6_inner(p + 8, len - 8, out);
    }
    return DS_PKT_OK;
}
