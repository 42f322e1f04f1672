/* pcap.c: classic libpcap files (draft-ietf-opsawg-pcap).
 *
 * A 24-byte file header (magic a1b2c3d4 = microseconds or a1b23c4d = nanoseconds, in the
 * writer's byte order; version; snaplen; LinkType with the FCS bits in its top nibble) and
 * then 16-byte record headers each followed by caplen bytes.  This is the hot path: for a
 * mapped file one record costs four loads, two compares and a pointer, and the data is never
 * copied.
 *
 * Length policy, chosen to be as tolerant as libpcap on real files:
 *  - caplen > DS_MAX_CAPLEN is impossible (DS_EFORMAT), as in libpcap;
 *  - with a sane snaplen (1..DS_MAX_CAPLEN-1), caplen > 2 x snaplen AND more than 64 KiB over
 *    it is taken as corruption.  The 64 KiB floor is there because tcpdump's own test files
 *    (802_15_4-data.pcap: snaplen 13, caplen 38; bgp_mp_reach_nlri-oobr.pcap: 1024 vs 2674)
 *    and libpcap read such records fine; caplen a little over snaplen, and any caplen with
 *    snaplen 0 or >= DS_MAX_CAPLEN, is accepted.  The limit is computed once at open, so a
 *    record pays one compare for both rules;
 *  - caplen > wirelen is accepted (some writers do it); we report caplen bytes, which exist.
 * A header or data cut off by the end of input is DS_ETRUNC after every whole record.
 * Header versions and the pre-2.3 swapped caplen/len order follow libpcap (sf-pcap.c).
 */
#include "capture/reader_int.h"

#define PCAP_FILE_HDR 24u
#define PCAP_REC_HDR 16u

ds_rc ds_pcap_open(ds_reader *r, ds_err *err)
{
    ds_rc rc = win_need(r, PCAP_FILE_HDR, err);
    if (rc != DS_OK)
        return rc;
    if (win_left(r) < PCAP_FILE_HDR)
        return ds_fail_at(err, DS_EFORMAT, 0, "%s: pcap file header cut short (%zu of %u bytes)", r->path,
                          win_left(r), PCAP_FILE_HDR);
    const uint8_t *h = r->win + r->win_pos;
    uint32_t magic = ds_rd32(h, 0);
    r->swapped = magic == 0xd4c3b2a1u || magic == 0x4d3cb2a1u; /* file is big-endian */
    magic = ds_rd32(h, r->swapped);
    r->frac_mult = magic == 0xa1b23c4du ? 1u : 1000u;
    uint16_t major = ds_rd16(h + 4, r->swapped), minor = ds_rd16(h + 6, r->swapped);
    /* Versions 2.0-2.4 and DG/UX's 543.0, as libpcap.  Before 2.3 (and in 543.0) caplen and
     * len were stored the other way round; some 2.3 writers used either order. */
    if (major < 2 || !((major == 2 && minor <= 4) || (major == 543 && minor == 0)))
        return ds_fail_at(err, DS_EFORMAT, 4, "%s: unsupported pcap version %u.%u", r->path, major, minor);
    r->lengths_swapped = major == 543 || minor < 3 ? 1 : minor == 3 ? 2 : 0;
    r->snaplen = ds_rd32(h + 16, r->swapped);
    r->caplen_limit = DS_MAX_CAPLEN;
    if (r->snaplen != 0 && r->snaplen < DS_MAX_CAPLEN) {
        uint64_t lim = (uint64_t)r->snaplen + (r->snaplen > 65536u ? r->snaplen : 65536u);
        if (lim < DS_MAX_CAPLEN)
            r->caplen_limit = (uint32_t)lim;
    }
    /* LinkType is the low 16 bits; the top nibble is the FCS length, bit 26 says it is set. */
    r->linktype = (int)(ds_rd32(h + 20, r->swapped) & 0xFFFFu);
    r->win_pos += PCAP_FILE_HDR;
    return DS_OK;
}

ds_rc ds_pcap_next(ds_reader *r, ds_record *rec, ds_err *err)
{
    size_t left = r->win_len - r->win_pos;
    if (left < PCAP_REC_HDR) {
        ds_rc rc = win_need(r, PCAP_REC_HDR, err);
        if (rc != DS_OK)
            return rc;
        left = win_left(r);
        if (left == 0)
            return ds_reader_end(r, err);
        if (left < PCAP_REC_HDR)
            return ds_reader_cut(r, "record header", err);
    }
    const uint8_t *h = r->win + r->win_pos;
    int be = r->swapped;
    uint32_t sec = ds_rd32(h, be), frac = ds_rd32(h + 4, be);
    uint32_t caplen = ds_rd32(h + 8, be), wirelen = ds_rd32(h + 12, be);
    if (r->lengths_swapped && (r->lengths_swapped == 1 || caplen > wirelen)) {
        uint32_t t = caplen;
        caplen = wirelen;
        wirelen = t;
    }

    if (caplen > r->caplen_limit) {
        uint64_t off = win_offset(r);
        return ds_fail_at(err, DS_EFORMAT, off,
                          "%s: impossible record at offset %llu: caplen %u (snaplen %u, maximum %u)", r->path,
                          (unsigned long long)off, caplen, r->snaplen, DS_MAX_CAPLEN);
    }
    if (caplen > left - PCAP_REC_HDR) {
        ds_rc rc = win_need(r, PCAP_REC_HDR + (size_t)caplen, err);
        if (rc != DS_OK)
            return rc;
        if (caplen > win_left(r) - PCAP_REC_HDR)
            return ds_reader_cut(r, "record", err);
        h = r->win + r->win_pos; /* the window may have moved */
    }
    rec->ts_ns = (uint64_t)sec * 1000000000u + (uint64_t)frac * r->frac_mult;
    rec->caplen = caplen;
    rec->wirelen = wirelen;
    rec->linktype = r->linktype;
    rec->data = h + PCAP_REC_HDR;
    rec->offset = win_offset(r);
    r->win_pos += PCAP_REC_HDR + (size_t)caplen;
    return DS_OK;
}
