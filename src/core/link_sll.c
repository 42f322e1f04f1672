/* link_sll.c: Linux "cooked" capture headers, LINKTYPE_LINUX_SLL (113) and LINUX_SLL2 (276).
 *
 * Spec: https://www.tcpdump.org/linktypes/LINKTYPE_LINUX_SLL.html and
 * https://www.tcpdump.org/linktypes/LINKTYPE_LINUX_SLL2.html.  `tcpdump -i any` writes these.
 * The protocol field is an EtherType, except for a few small values libpcap documents:
 * 0x0004 means the payload is an IEEE 802.2 LLC PDU, 0x0001 Novell 802.3 (IPX), and for
 * ARPHRD_NETLINK (824) captures it is a netlink family.  Only EtherTypes lead to IP.
 */
#include "core/decode_int.h"

enum { SLL_HDR_LEN = 16, SLL2_HDR_LEN = 20, ARPHRD_NETLINK = 824, SLL_P_802_2 = 0x0004 };

static ds_outcome sll_payload(uint16_t hatype, uint16_t proto, const uint8_t *p, size_t len, ds_pkt *out)
{
    if (hatype == ARPHRD_NETLINK)
        return DS_PKT_NON_IP;
    if (proto == SLL_P_802_2)
        return ds_dec_llc(p, len, out);
    if (proto <= 1500)
        return DS_PKT_NON_IP;
    return ds_dec_ethertype(proto, p, len, out);
}

ds_outcome ds_dec_sll(const uint8_t *p, size_t len, ds_pkt *out)
{
    /* packet type(2) ARPHRD type(2) address length(2) address(8) protocol(2) */
    if (len < SLL_HDR_LEN)
        return DS_PKT_TRUNCATED;
    uint16_t hatype = (uint16_t)(p[2] << 8 | p[3]);
    uint16_t proto = (uint16_t)(p[14] << 8 | p[15]);
    return sll_payload(hatype, proto, p + SLL_HDR_LEN, len - SLL_HDR_LEN, out);
}

ds_outcome ds_dec_sll2(const uint8_t *p, size_t len, ds_pkt *out)
{
    /* protocol(2) reserved(2) ifindex(4) ARPHRD type(2) packet type(1) address length(1)
     * address(8) */
    if (len < SLL2_HDR_LEN)
        return DS_PKT_TRUNCATED;
    uint16_t proto = (uint16_t)(p[0] << 8 | p[1]);
    uint16_t hatype = (uint16_t)(p[8] << 8 | p[9]);
    return sll_payload(hatype, proto, p + SLL2_HDR_LEN, len - SLL2_HDR_LEN, out);
}
