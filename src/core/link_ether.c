/* link_ether.c: Ethernet and what rides directly on an EtherType.
 *
 * Implements
 *   - Ethernet II and IEEE 802.3 length frames with IEEE 802.2 LLC / SNAP (RFC 1042),
 *   - IEEE 802.1Q VLAN tags and IEEE 802.1ad (0x88a8) / pre-standard 0x9100 QinQ stacks,
 *   - PPPoE session frames (RFC 2516) carrying PPP (RFC 1661) IPv4/IPv6,
 *   - MPLS label stacks (RFC 3032), whose payload type is not signalled on the wire: like
 *     tcpdump and Wireshark we guess IPv4/IPv6 from the first nibble after the bottom label.
 *
 * ds_dec_ethertype() is a loop rather than recursion so that a stack of tags costs one
 * iteration each and is bounded (DS_MAX_TAGS, DS_MAX_MPLS): a frame made of nothing but VLAN
 * tags ends as TRUNCATED or NON_IP after a few steps, never deep recursion.  A tag, a PPPoE
 * session header or a label stack sets its DS_ENC_* bit in ds_pkt.encap (counted by stats).  SLL, SLL2, C-HDLC
 * and 802.11 reuse it, because their "protocol" fields are EtherTypes too.
 */
#include "core/decode_int.h"

ds_outcome ds_dec_ether(const uint8_t *p, size_t len, ds_pkt *out)
{
    /* dst(6) src(6) type/length(2) */
    if (len < 14)
        return DS_PKT_TRUNCATED;
    uint16_t type = (uint16_t)(p[12] << 8 | p[13]);
    if (type == DS_ETH_IPV4)   /* the common case first: no loop, no switch */
        return ds_dec_ipv4(p + 14, len - 14, out);
    if (type <= 1500) {
        /* IEEE 802.3 length field: an LLC PDU of `type` bytes follows; anything after it
         * is padding. */
        size_t pdu = len - 14;
        if (type < pdu)
            pdu = type;
        return ds_dec_llc(p + 14, pdu, out);
    }
    return ds_dec_ethertype(type, p + 14, len - 14, out);
}

ds_outcome ds_dec_llc(const uint8_t *p, size_t len, ds_pkt *out)
{
    /* DSAP SSAP control: 0xAA 0xAA 0x03 is SNAP (RFC 1042), followed by a 3-byte OUI and a
     * 2-byte protocol id.  With OUI 0 (and 0x0000f8, 802.1H bridge tunnel) the id is an
     * EtherType.  Everything else (STP, CDP, NetBIOS, IPX...) is not IP. */
    if (len < 3)
        return DS_PKT_TRUNCATED;
    if (p[0] != 0xaa || p[1] != 0xaa || p[2] != 0x03) {
        /* RFC 948-ish IP over raw 802.2 SAP 0x06 is so rare that we count it as non-IP. */
        return DS_PKT_NON_IP;
    }
    if (len < 8)
        return DS_PKT_TRUNCATED;
    if (p[3] != 0 || p[4] != 0 || (p[5] != 0 && p[5] != 0xf8))
        return DS_PKT_NON_IP;
    return ds_dec_ethertype((uint16_t)(p[6] << 8 | p[7]), p + 8, len - 8, out);
}

ds_outcome ds_dec_ppp_proto(const uint8_t *p, size_t len, ds_pkt *out)
{
    /* RFC 1661 section 2: the protocol field is 2 bytes unless Protocol-Field-Compression
     * made it 1; a compressed value is odd in its only byte, an uncompressed one is even in
     * its first byte. */
    if (len < 1)
        return DS_PKT_TRUNCATED;
    uint16_t proto;
    size_t hl;
    if (p[0] & 1) {
        proto = p[0];
        hl = 1;
    } else {
        if (len < 2)
            return DS_PKT_TRUNCATED;
        proto = (uint16_t)(p[0] << 8 | p[1]);
        hl = 2;
    }
    if (proto == DS_PPP_IPV4)
        return ds_dec_ipv4(p + hl, len - hl, out);
    if (proto == DS_PPP_IPV6)
        return ds_dec_ipv6(p + hl, len - hl, out);
    return DS_PKT_NON_IP;
}

ds_outcome ds_dec_ethertype(uint16_t type, const uint8_t *p, size_t len, ds_pkt *out)
{
    for (int tags = 0; tags < DS_MAX_TAGS; tags++) {
        switch (type) {
        case DS_ETH_IPV4:
            return ds_dec_ipv4(p, len, out);
        case DS_ETH_IPV6:
            return ds_dec_ipv6(p, len, out);
        case DS_ETH_VLAN:
        case DS_ETH_QINQ:
        case DS_ETH_QINQ_OLD:
            /* TCI(2) inner type(2) */
            if (len < 4)
                return DS_PKT_TRUNCATED;
            out->encap |= DS_ENC_VLAN;
            type = (uint16_t)(p[2] << 8 | p[3]);
            p += 4;
            len -= 4;
            if (type <= 1500) {
                size_t pdu = type < len ? type : len;
                return ds_dec_llc(p, pdu, out);
            }
            continue;
        case DS_ETH_PPPOE_SESS: {
            /* RFC 2516 section 4: ver/type(1) code(1) session(2) length(2), then PPP. */
            if (len < 6)
                return DS_PKT_TRUNCATED;
            if (p[0] != 0x11 || p[1] != 0x00)
                return DS_PKT_NON_IP;   /* not a version 1 type 1 session data frame */
            out->encap |= DS_ENC_PPPOE;
            size_t plen = (size_t)(p[4] << 8 | p[5]);
            p += 6;
            len -= 6;
            if (plen < len)
                len = plen;
            return ds_dec_ppp_proto(p, len, out);
        }
        case DS_ETH_MPLS_UC:
        case DS_ETH_MPLS_MC:
            /* RFC 3032: 4-byte entries label(20) TC(3) S(1) TTL(8), until S is set. */
            out->encap |= DS_ENC_MPLS;
            for (int labels = 0; labels < DS_MAX_MPLS; labels++) {
                if (len < 4)
                    return DS_PKT_TRUNCATED;
                int bottom = p[2] & 1;
                p += 4;
                len -= 4;
                if (bottom)
                    /* A first nibble of 0 is a pseudowire control word (RFC 4385): an
                     * Ethernet or other L2 frame, not IP. */
                    return ds_dec_ip(p, len, out, DS_PKT_NON_IP);
            }
            return DS_PKT_MALFORMED;   /* no bottom-of-stack bit within DS_MAX_MPLS labels */
        default:
            return DS_PKT_NON_IP;  /* ARP, LLDP, PPPoE discovery, EAPOL, ... */
        }
    }
    return DS_PKT_NON_IP;  /* more stacked tags than any real network uses */
}
