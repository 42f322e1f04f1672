/* ipv6.c: the IPv6 header and its extension-header chain (RFC 8200 sections 3 and 4).
 *
 * The fixed header is 40 bytes.  The extension headers we walk are the ones IANA lists as
 * such (https://www.iana.org/assignments/ipv6-parameters, "IPv6 Extension Header Types"):
 *   0 Hop-by-Hop, 43 Routing, 60 Destination Options, 135 Mobility (RFC 6275), 139 HIP
 *   (RFC 7401), 140 Shim6 (RFC 5533), 253/254 experimental (RFC 3692): length (n+1)*8 bytes,
 *   the generic format of RFC 8200 section 4.8;
 *   51 AH (RFC 4302 section 2.2): length (n+2)*4 bytes, the one exception;
 *   44 Fragment: always 8 bytes.  A fragment header with offset 0 and M clear is an "atomic
 *   fragment" (RFC 6946): the packet is whole, so we keep walking.  A first fragment (offset 0,
 *   M set) is decoded past its fragment header when the transport header is whole in it (decode.c,
 *   ds_dec_first_fragment); any other is FRAGMENT.
 * 59 (No Next Header) ends the chain: DS_PKT_OK with proto 59 and nothing more.  The walk is
 * bounded by DS_MAX_EXT headers so that a crafted chain cannot keep us busy.
 *
 * The payload length limits what the walk and the transport layer may read (trailing link
 * padding is not payload).  Payload length 0 with a Hop-by-Hop header first may be a jumbogram
 * (RFC 2675); then the captured length is all we have and the claimed length is unknown.
 */
#include "core/decode_int.h"

int ds_ipv6_walk_ext(ds_cur *c, uint8_t *nh)
{
    for (int n = 0; n < DS_MAX_EXT; n++) {
        size_t hl;
        switch (*nh) {
        case 0: case 43: case 60: case 135: case 139: case 140: case 253: case 254:
            hl = ((size_t)ds_peek_u8(c, 1) + 1) * 8;
            break;
        case 51:
            hl = ((size_t)ds_peek_u8(c, 1) + 2) * 4;
            break;
        case 44: {
            uint16_t off_m = ds_peek_be16(c, 2);
            if (ds_cur_ok(c) && (off_m & 0xfff9) != 0) {
                /* offset (13 bits) or M set: a real fragment.  Report the protocol of the
                 * fragment's payload, as tcpdump does. */
                *nh = ds_peek_u8(c, 0);
                return 1;
            }
            hl = 8;
            break;
        }
        default:
            return 0;      /* upper-layer protocol (or 59, No Next Header) */
        }
        uint8_t next = ds_peek_u8(c, 0);
        if (!ds_cur_skip(c, hl))
            return -1;
        *nh = next;
    }
    return -2;
}

ds_outcome ds_dec_ipv6(const uint8_t *p, size_t len, ds_pkt *out)
{
    if (len < 1)
        return DS_PKT_TRUNCATED;
    if ((p[0] >> 4) != 6)
        return DS_PKT_MALFORMED;    /* the link layer said IPv6 */
    if (len < 40)
        return DS_PKT_TRUNCATED;
    size_t plen = (size_t)(p[4] << 8 | p[5]);
    uint8_t nh = p[6];

    out->ip_len = (uint16_t)(plen + 40 > 0xffff ? 0xffff : plen + 40);   /* saturates */
    out->ttl = p[7];
    ds_ip_from16(&out->src, p + 8);
    ds_ip_from16(&out->dst, p + 24);
    out->proto = nh;
    out->have = DS_HAVE_IP;

    size_t captured = len - 40;
    size_t claimed = plen;
    if (plen == 0 && nh == 0)
        claimed = SIZE_MAX;       /* possible jumbogram: trust the capture */
    ds_cur c = ds_cur_make(p + 40, captured);
    ds_cur_limit(&c, claimed);
    size_t start_left = c.left;
    /* When the payload length, not the capture, ends the cursor, running off the end is a
     * contradiction in the packet (MALFORMED); otherwise the capture was cut (TRUNCATED). */
    int limited_by_header = claimed <= captured;

    int rc = ds_ipv6_walk_ext(&c, &nh);
    out->proto = nh;
    if (rc == 1) {   /* the cursor is at the fragment header */
        if ((ds_peek_be16(&c, 2) & 0xfff8) != 0 || !ds_cur_skip(&c, 8))
            return DS_PKT_FRAGMENT;   /* a later fragment (or a cut header) */
        uint8_t first = nh;           /* the first fragment: what follows its fragment header */
        if (ds_ipv6_walk_ext(&c, &first) != 0)
            return DS_PKT_FRAGMENT;
        out->proto = first;
        size_t used = start_left - c.left;
        ds_outcome o = ds_dec_first_fragment(first, c.p, c.left, claimed == SIZE_MAX ? SIZE_MAX : claimed - used, out);
        if (o != DS_PKT_OK)
            out->proto = nh;
        return o;
    }
    if (rc == -1)
        return limited_by_header ? DS_PKT_MALFORMED : DS_PKT_TRUNCATED;
    if (rc == -2)
        return DS_PKT_MALFORMED;
    if (nh == 59)
        return DS_PKT_OK;         /* No Next Header: nothing follows, by definition */

    size_t consumed = start_left - c.left;
    size_t rest = claimed == SIZE_MAX ? SIZE_MAX : claimed - consumed;
    return ds_dec_transport(nh, c.p, c.left, rest, out);
}
