/* link_other.c: every link type other than Ethernet and Linux cooked capture.
 *
 * Link-type numbers and header layouts are from https://www.tcpdump.org/linktypes.html and the
 * per-type pages it links to:
 *   NULL (0), LOOP (108)    4-byte address family.  NULL is in the capturing host's byte
 *                           order and LOOP is big-endian, but files are moved between hosts
 *                           and some writers get it wrong, so both accept either order (the
 *                           value is small: a value above 0xffff is the byte-swapped one).
 *                           IPv6 is 10 (Linux), 24 (NetBSD/OpenBSD), 28 (FreeBSD), 30 (macOS).
 *   RAW (101, and 12 / 14, the DLT_RAW values of BSD / OpenBSD that some files carry)
 *                           bare IP, version from the first nibble.
 *   IPV4 (228), IPV6 (229)  bare IP of a fixed version.
 *   PPP (9), PPP_HDLC (50)  RFC 1661 / RFC 1662: optional 0xff 0x03 address/control, then the
 *                           protocol field.  PPP_HDLC may also hold Cisco HDLC frames.
 *   C_HDLC (104)            Cisco HDLC: address, control, EtherType.
 *   IEEE802_11 (105)        802.11 data frames (IEEE Std 802.11-2020 section 9.3.2) with an
 *                           LLC/SNAP header; protected (encrypted) frames are not IP to us.
 *   IEEE802_11_RADIOTAP (127) radiotap header (https://www.radiotap.org), skipped by its
 *                           length field, then 802.11.
 *   PFLOG (117)             OpenBSD pf log header: its first byte is its length (padded to
 *                           4 bytes), its second the address family.
 *   NFLOG (239)             Linux netfilter log: 4-byte header, then TLVs whose length and
 *                           type are in the capturing host's byte order; NFULA_PAYLOAD (9)
 *                           holds the IP packet.
 *   IPNET (226)             Solaris ipnet: 24-byte header, family 2 (IPv4) or 26 (IPv6).
 * Anything else is DS_PKT_UNKNOWN_LINK, so an analyst sees that a whole file was not decoded
 * rather than a pile of "malformed" packets.
 */
#include "core/decode_int.h"

enum {
    LT_NULL = 0, LT_PPP = 9, LT_RAW_BSD = 12, LT_RAW_OPENBSD = 14, LT_PPP_HDLC = 50,
    LT_RAW = 101, LT_C_HDLC = 104, LT_IEEE802_11 = 105, LT_LOOP = 108, LT_PFLOG = 117,
    LT_RADIOTAP = 127, LT_IPNET = 226, LT_IPV4 = 228, LT_IPV6 = 229, LT_NFLOG = 239,
};

/* Address family values meaning IPv6 on the systems that write these headers. */
static int af_is_inet6(uint32_t af)
{
    return af == 10 || af == 24 || af == 28 || af == 30;
}

static ds_outcome by_af(uint32_t af, const uint8_t *p, size_t len, ds_pkt *out)
{
    if (af == 2)
        return ds_dec_ipv4(p, len, out);
    if (af_is_inet6(af))
        return ds_dec_ipv6(p, len, out);
    return DS_PKT_NON_IP;
}

static ds_outcome dec_null(const uint8_t *p, size_t len, ds_pkt *out)
{
    ds_cur c = ds_cur_make(p, len);
    uint32_t af = ds_peek_le32(&c, 0);
    if (!ds_cur_ok(&c))
        return DS_PKT_TRUNCATED;
    if (af > 0xffff)
        af = (af >> 24) | ((af >> 8) & 0xff00) | ((af << 8) & 0xff0000) | (af << 24);
    return by_af(af, p + 4, len - 4, out);
}

static ds_outcome dec_ppp(const uint8_t *p, size_t len, int hdlc, ds_pkt *out)
{
    if (len >= 1 && hdlc && (p[0] == 0x0f || p[0] == 0x8f)) {
        /* Cisco HDLC inside LINKTYPE_PPP_HDLC: address, control, EtherType. */
        if (len < 4)
            return DS_PKT_TRUNCATED;
        return ds_dec_ethertype((uint16_t)(p[2] << 8 | p[3]), p + 4, len - 4, out);
    }
    if (len >= 2 && p[0] == 0xff && p[1] == 0x03) {
        p += 2;
        len -= 2;
    }
    return ds_dec_ppp_proto(p, len, out);
}

static ds_outcome dec_c_hdlc(const uint8_t *p, size_t len, ds_pkt *out)
{
    if (len < 4)
        return DS_PKT_TRUNCATED;
    uint16_t type = (uint16_t)(p[2] << 8 | p[3]);
    if (type <= 1500)
        return DS_PKT_NON_IP;   /* SLARP (0x8035 is above) and keepalives are not IP either */
    return ds_dec_ethertype(type, p + 4, len - 4, out);
}

static ds_outcome dec_80211(const uint8_t *p, size_t len, ds_pkt *out)
{
    /* Frame control: byte 0 = protocol version(2) type(2) subtype(4), byte 1 = flags. */
    if (len < 2)
        return DS_PKT_TRUNCATED;
    unsigned version = p[0] & 3, type = (p[0] >> 2) & 3, subtype = p[0] >> 4, flags = p[1];
    if (version != 0 || type != 2)
        return DS_PKT_NON_IP;           /* management, control, extension frames */
    if (subtype & 0x4)
        return DS_PKT_NON_IP;           /* (QoS) Null and CF-only subtypes carry no body */
    if (flags & 0x40)
        return DS_PKT_NON_IP;           /* Protected Frame: encrypted payload */
    size_t hl = 24;                     /* FC, duration, addr1-3, sequence control */
    if ((flags & 3) == 3)
        hl += 6;                        /* ToDS and FromDS: addr4 (WDS / mesh) */
    if (subtype & 0x8) {
        hl += 2;                        /* QoS Control */
        if (flags & 0x80)
            hl += 4;                    /* +HTC: HT Control field */
        if (len < hl)
            return DS_PKT_TRUNCATED;
        if (p[24 + ((flags & 3) == 3 ? 6 : 0)] & 0x80)
            return DS_PKT_NON_IP;       /* A-MSDU: a list of subframes, not one LLC PDU */
    }
    if (len < hl)
        return DS_PKT_TRUNCATED;
    return ds_dec_llc(p + hl, len - hl, out);
}

static ds_outcome dec_radiotap(const uint8_t *p, size_t len, ds_pkt *out)
{
    /* version(1) pad(1) length(2, little-endian) present(4)... */
    ds_cur c = ds_cur_make(p, len);
    uint8_t version = ds_peek_u8(&c, 0);
    uint16_t hl = ds_peek_le16(&c, 2);
    if (!ds_cur_ok(&c))
        return DS_PKT_TRUNCATED;
    if (version != 0 || hl < 8)
        return DS_PKT_MALFORMED;
    if (!ds_cur_skip(&c, hl))
        return DS_PKT_TRUNCATED;
    return dec_80211(c.p, c.left, out);
}

static ds_outcome dec_pflog(const uint8_t *p, size_t len, ds_pkt *out)
{
    enum { PFLOG_MIN_HDRLEN = 45 };   /* up to and including the ruleset name */
    if (len < 2)
        return DS_PKT_TRUNCATED;
    size_t hl = ((size_t)p[0] + 3) & ~(size_t)3;
    if (p[0] < PFLOG_MIN_HDRLEN)
        return DS_PKT_MALFORMED;
    if (hl > len)
        return DS_PKT_TRUNCATED;
    return by_af(p[1], p + hl, len - hl, out);
}

static ds_outcome dec_nflog(const uint8_t *p, size_t len, ds_pkt *out)
{
    enum { NFULA_PAYLOAD = 9, MAX_TLVS = 64 };
    /* family(1) version(1) resource id(2, big-endian) */
    ds_cur c = ds_cur_make(p, len);
    uint8_t family = ds_peek_u8(&c, 0);
    if (!ds_cur_skip(&c, 4))
        return DS_PKT_TRUNCATED;
    /* The TLV byte order is the writer's; decide it once from the first TLV: a plausible
     * little-endian header has a small type and a length of at least 4. */
    uint16_t len_le = ds_peek_le16(&c, 0), type_le = ds_peek_le16(&c, 2);
    if (!ds_cur_ok(&c))
        return DS_PKT_TRUNCATED;
    int le = (type_le & 0x7fff) < 0x100 && len_le >= 4;
    for (int i = 0; i < MAX_TLVS; i++) {
        uint16_t tlv_len = le ? ds_peek_le16(&c, 0) : ds_peek_be16(&c, 0);
        uint16_t tlv_type = le ? ds_peek_le16(&c, 2) : ds_peek_be16(&c, 2);
        if (!ds_cur_ok(&c))
            return DS_PKT_TRUNCATED;
        if (tlv_len < 4)
            return DS_PKT_MALFORMED;
        if ((tlv_type & 0x7fff) == NFULA_PAYLOAD) {
            size_t body = (size_t)tlv_len - 4;
            ds_cur_skip(&c, 4);
            ds_cur_limit(&c, body);
            if (family == 2)
                return ds_dec_ipv4(c.p, c.left, out);
            if (family == 10)
                return ds_dec_ipv6(c.p, c.left, out);
            return ds_dec_ip(c.p, c.left, out, DS_PKT_NON_IP);
        }
        /* TLVs are padded to a multiple of 4 bytes. */
        if (!ds_cur_skip(&c, ((size_t)tlv_len + 3) & ~(size_t)3))
            return DS_PKT_TRUNCATED;
    }
    return DS_PKT_NON_IP;   /* no payload TLV (a log entry without the packet) */
}

static ds_outcome dec_ipnet(const uint8_t *p, size_t len, ds_pkt *out)
{
    enum { IPNET_HDRLEN = 24, IPH_AF_INET = 2, IPH_AF_INET6 = 26 };
    if (len < IPNET_HDRLEN)
        return DS_PKT_TRUNCATED;
    if (p[1] == IPH_AF_INET)
        return ds_dec_ipv4(p + IPNET_HDRLEN, len - IPNET_HDRLEN, out);
    if (p[1] == IPH_AF_INET6)
        return ds_dec_ipv6(p + IPNET_HDRLEN, len - IPNET_HDRLEN, out);
    return DS_PKT_NON_IP;
}

ds_outcome ds_dec_link_other(int linktype, const uint8_t *p, size_t len, ds_pkt *out)
{
    switch (linktype) {
    case LT_NULL:
    case LT_LOOP:
        return dec_null(p, len, out);
    case LT_RAW:
    case LT_RAW_BSD:
    case LT_RAW_OPENBSD:
        return ds_dec_ip(p, len, out, DS_PKT_MALFORMED);
    case LT_IPV4:
        return ds_dec_ipv4(p, len, out);
    case LT_IPV6:
        return ds_dec_ipv6(p, len, out);
    case LT_PPP:
        return dec_ppp(p, len, 0, out);
    case LT_PPP_HDLC:
        return dec_ppp(p, len, 1, out);
    case LT_C_HDLC:
        return dec_c_hdlc(p, len, out);
    case LT_IEEE802_11:
        return dec_80211(p, len, out);
    case LT_RADIOTAP:
        return dec_radiotap(p, len, out);
    case LT_PFLOG:
        return dec_pflog(p, len, out);
    case LT_NFLOG:
        return dec_nflog(p, len, out);
    case LT_IPNET:
        return dec_ipnet(p, len, out);
    default:
        return DS_PKT_UNKNOWN_LINK;
    }
}
