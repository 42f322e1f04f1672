/* pcapng.c: pcapng files (draft-ietf-opsawg-pcapng).
 *
 * A file is a run of blocks: type, total length, body, total length again.  Each Section
 * Header Block sets the byte order for its section (byte-order magic 1a2b3c4d) and forgets
 * the previous section's interfaces.  Interface Description Blocks give each interface its
 * link type, snaplen, and timestamp unit (if_tsresol: 10^-n or 2^-n seconds, default 10^-6)
 * plus if_tsoffset seconds; we precompute per interface how to turn ticks into ns so a
 * packet costs one multiply or divide.  Packets come from Enhanced Packet Blocks, Simple
 * Packet Blocks (caplen = min(original length, interface 0 snaplen), no timestamp) and the
 * obsolete Packet Block (type 2).  Every other block is skipped.
 *
 * Every block is checked before its body is used: total length >= 12, a multiple of 4, at
 * most DS_PCAPNG_MAX_BLOCK (libpcap's bound: a maximal packet plus 128 KiB of options), and
 * the trailing copy equal to the leading one.  The option walk is bounded by the block body
 * and rejects options that overrun it, as libpcap does.  A block whose declared length runs
 * past the end of input is a cut-short capture (DS_ETRUNC), not a bad one.
 */
#include <stdlib.h>
#include <string.h>

#include "capture/reader_int.h"

enum {
    BT_PB = 0x00000002u,   /* obsolete Packet Block */
    BT_IDB = 0x00000001u,
    BT_ISB = 0x00000005u,  /* Interface Statistics Block */
    BT_SPB = 0x00000003u,
    BT_EPB = 0x00000006u,
    BT_SHB = 0x0A0D0D0Au,
};
enum { OPT_ENDOFOPT = 0, OPT_IF_TSRESOL = 9, OPT_IF_TSOFFSET = 14 };
/* ISB options (draft-ietf-opsawg-pcapng, "Interface Statistics Block"): when the interface began
 * and stopped capturing, each a timestamp in the interface's units, high word first */
enum { OPT_ISB_STARTTIME = 2, OPT_ISB_ENDTIME = 3 };

typedef struct ng_block {
    uint32_t type;
    const uint8_t *body;
    size_t len;            /* body length (total - 12) */
    uint64_t offset;       /* stream offset of the block header */
} ng_block;

/* Read the next whole block.  DS_EOF at a clean end between blocks. */
static ds_rc read_block(ds_reader *r, ng_block *b, ds_err *err)
{
    ds_rc rc = win_need(r, 12, err);
    if (rc != DS_OK)
        return rc;
    size_t left = win_left(r);
    if (left == 0)
        return ds_reader_end(r, err);
    if (left < 12)
        return ds_reader_cut(r, "block header", err);
    const uint8_t *p = r->win + r->win_pos;
    uint64_t off = win_offset(r);
    uint32_t type = ds_rd32(p, r->ng_be);
    if (ds_rd32(p, 0) == BT_SHB) { /* palindrome: same in either order */
        type = BT_SHB;
        uint32_t bom = ds_rd32(p + 8, 0);
        if (bom == 0x1A2B3C4Du)
            r->ng_be = 0;
        else if (bom == 0x4D3C2B1Au)
            r->ng_be = 1;
        else
            return ds_fail_at(err, DS_EFORMAT, off,
                              "%s: section header at offset %llu has a bad byte-order magic 0x%08x", r->path,
                              (unsigned long long)off, bom);
    }
    uint32_t total = ds_rd32(p + 4, r->ng_be);
    if (total < 12 || total % 4 != 0 || total > DS_PCAPNG_MAX_BLOCK)
        return ds_fail_at(err, DS_EFORMAT, off, "%s: block at offset %llu has an impossible length %u", r->path,
                          (unsigned long long)off, total);
    if (total > left) {
        rc = win_need(r, total, err);
        if (rc != DS_OK)
            return rc;
        if (total > win_left(r))
            return ds_reader_cut(r, "block", err);
        p = r->win + r->win_pos;
    }
    uint32_t trailer = ds_rd32(p + total - 4, r->ng_be);
    if (trailer != total)
        return ds_fail_at(err, DS_EFORMAT, off,
                          "%s: block at offset %llu has length %u but its trailing copy says %u", r->path,
                          (unsigned long long)off, total, trailer);
    b->type = type;
    b->body = p + 8;
    b->len = total - 12;
    b->offset = off;
    r->win_pos += total;
    return DS_OK;
}

static ds_rc bad_block(ds_reader *r, const ng_block *b, const char *what, ds_err *err)
{
    return ds_fail_at(err, DS_EFORMAT, b->offset, "%s: block at offset %llu: %s", r->path,
                      (unsigned long long)b->offset, what);
}

static ds_rc read_shb(ds_reader *r, const ng_block *b, ds_err *err)
{
    if (b->len < 16)
        return bad_block(r, b, "section header too short", err);
    uint16_t major = ds_rd16(b->body + 4, r->ng_be), minor = ds_rd16(b->body + 6, r->ng_be);
    if (major != 1 || (minor != 0 && minor != 2))
        return ds_fail_at(err, DS_EFORMAT, b->offset, "%s: section at offset %llu has unsupported pcapng version %u.%u",
                          r->path, (unsigned long long)b->offset, major, minor);
    r->nifaces = 0; /* interface ids are per section */
    return DS_OK;
}

/* Fill the tick -> ns conversion for an if_tsresol byte.  Exponents libpcap cannot represent
 * in 64 bits (10^-20 and finer, 2^-64 and finer) are rejected, as libpcap does. */
static int set_tsresol(ds_iface *ifc, uint8_t v)
{
    if (v & 0x80) {
        unsigned p = v & 0x7Fu;
        if (p > 63)
            return 0;
        ifc->tskind = DS_TS_POW2;
        ifc->tsparam = p;
        return 1;
    }
    if (v > 19)
        return 0;
    uint64_t pow = 1;
    unsigned e = v <= 9 ? 9u - v : v - 9u;
    for (unsigned i = 0; i < e; i++)
        pow *= 10;
    ifc->tskind = v <= 9 ? DS_TS_MUL : DS_TS_DIV;
    ifc->tsparam = pow;
    return 1;
}

static ds_rc read_idb(ds_reader *r, const ng_block *b, ds_err *err)
{
    if (b->len < 8)
        return bad_block(r, b, "interface description too short", err);
    if (r->nifaces >= DS_PCAPNG_MAX_IFACES)
        return bad_block(r, b, "more interfaces in one section than we track", err);
    ds_iface ifc = { 0 };
    ifc.linktype = ds_rd16(b->body, r->ng_be);
    ifc.snaplen = ds_rd32(b->body + 4, r->ng_be);
    ifc.tskind = DS_TS_MUL;
    ifc.tsparam = 1000; /* default 10^-6 */

    const uint8_t *p = b->body + 8;
    size_t left = b->len - 8;
    int seen_resol = 0, seen_offset = 0;
    while (left > 0) {
        if (left < 4)
            return bad_block(r, b, "interface option header runs past the block", err);
        uint16_t code = ds_rd16(p, r->ng_be), olen = ds_rd16(p + 2, r->ng_be);
        size_t padded = ((size_t)olen + 3u) & ~(size_t)3u;
        p += 4;
        left -= 4;
        if (padded > left)
            return bad_block(r, b, "interface option runs past the block", err);
        if (code == OPT_ENDOFOPT)
            break;
        if (code == OPT_IF_TSRESOL) {
            if (olen != 1 || seen_resol)
                return bad_block(r, b, "bad or repeated if_tsresol option", err);
            if (!set_tsresol(&ifc, p[0]))
                return bad_block(r, b, "if_tsresol finer than 64 bits can hold", err);
            seen_resol = 1;
        } else if (code == OPT_IF_TSOFFSET) {
            if (olen != 8 || seen_offset)
                return bad_block(r, b, "bad or repeated if_tsoffset option", err);
            uint64_t w0 = ds_rd32(p, r->ng_be), w1 = ds_rd32(p + 4, r->ng_be);
            ifc.tsoffset_s = (int64_t)(r->ng_be ? w0 << 32 | w1 : w1 << 32 | w0);
            seen_offset = 1;
        }
        p += padded;
        left -= padded;
    }
    if (r->nifaces == r->ifaces_cap) {
        uint32_t cap = r->ifaces_cap ? r->ifaces_cap * 2 : 4;
        ds_iface *n = realloc(r->ifaces, (size_t)cap * sizeof *n);
        if (!n)
            return ds_fail(err, DS_ENOMEM, "%s: out of memory for interfaces", r->path);
        r->ifaces = n;
        r->ifaces_cap = cap;
    }
    r->ifaces[r->nifaces++] = ifc;
    return DS_OK;
}

static uint64_t ticks_to_ns(const ds_iface *ifc, uint64_t t)
{
    uint64_t ns;
    switch (ifc->tskind) {
    case DS_TS_DIV: ns = t / ifc->tsparam; break;
    case DS_TS_POW2: {
        unsigned p = (unsigned)ifc->tsparam;
        uint64_t frac = p ? t & ((UINT64_C(1) << p) - 1) : 0;
        ns = (t >> p) * 1000000000u + (uint64_t)(((unsigned __int128)frac * 1000000000u) >> p);
        break;
    }
    case DS_TS_MUL:
    default: ns = t * ifc->tsparam; break;
    }
    return ns + (uint64_t)ifc->tsoffset_s * 1000000000u;
}

static ds_rc lookup_iface(ds_reader *r, const ng_block *b, uint32_t id, const ds_iface **out, ds_err *err)
{
    if (id >= r->nifaces)
        return ds_fail_at(err, DS_EFORMAT, b->offset,
                          "%s: packet block at offset %llu names interface %u, but the section has %u", r->path,
                          (unsigned long long)b->offset, id, r->nifaces);
    *out = &r->ifaces[id];
    return DS_OK;
}

/* EPB and the obsolete PB share a layout after the interface id:
 * ts high, ts low, captured length, original length, data. */
static ds_rc packet_from(ds_reader *r, const ng_block *b, uint32_t id, ds_record *rec, ds_err *err)
{
    if (b->len < 20)
        return bad_block(r, b, "packet block too short", err);
    const ds_iface *ifc = NULL;
    ds_rc rc = lookup_iface(r, b, id, &ifc, err);
    if (rc != DS_OK)
        return rc;
    const uint8_t *q = b->body;
    uint64_t ticks = (uint64_t)ds_rd32(q + 4, r->ng_be) << 32 | ds_rd32(q + 8, r->ng_be);
    uint32_t caplen = ds_rd32(q + 12, r->ng_be);
    if (caplen > DS_MAX_CAPLEN || caplen > b->len - 20) {
        return ds_fail_at(err, DS_EFORMAT, b->offset,
                          "%s: impossible packet block at offset %llu: caplen %u in a %zu-byte body", r->path,
                          (unsigned long long)b->offset, caplen, b->len);
    }
    rec->ts_ns = ticks_to_ns(ifc, ticks);
    rec->caplen = caplen;
    rec->wirelen = ds_rd32(q + 16, r->ng_be);
    rec->linktype = ifc->linktype;
    rec->data = q + 20;
    rec->offset = b->offset;
    return DS_OK;
}

static ds_rc simple_packet(ds_reader *r, const ng_block *b, ds_record *rec, ds_err *err)
{
    if (b->len < 4)
        return bad_block(r, b, "simple packet block too short", err);
    const ds_iface *ifc = NULL;
    ds_rc rc = lookup_iface(r, b, 0, &ifc, err);
    if (rc != DS_OK)
        return rc;
    uint32_t wirelen = ds_rd32(b->body, r->ng_be);
    uint32_t caplen = wirelen;
    if (ifc->snaplen != 0 && caplen > ifc->snaplen)
        caplen = ifc->snaplen;
    if (caplen > b->len - 4) /* never hand out bytes the block does not hold */
        caplen = (uint32_t)(b->len - 4);
    rec->ts_ns = 0; /* an SPB carries no timestamp */
    rec->caplen = caplen;
    rec->wirelen = wirelen;
    rec->linktype = ifc->linktype;
    rec->data = b->body + 4;
    rec->offset = b->offset;
    return DS_OK;
}

/* An Interface Statistics Block: keep the capture span its isb_starttime and isb_endtime give
 * (coverage: store.h DS_COVSRC_PCAPNG).  The statistics are advisory, so a malformed ISB is
 * skipped, never a reason to refuse the packets around it. */
static void read_isb(ds_reader *r, const ng_block *b)
{
    if (b->len < 12)
        return;
    uint32_t id = ds_rd32(b->body, r->ng_be);
    if (id >= r->nifaces)
        return;
    const ds_iface *ifc = &r->ifaces[id];
    const uint8_t *p = b->body + 12;
    size_t left = b->len - 12;
    uint64_t start = 0, end = 0;
    while (left >= 4) {
        uint16_t code = ds_rd16(p, r->ng_be), olen = ds_rd16(p + 2, r->ng_be);
        size_t padded = ((size_t)olen + 3u) & ~(size_t)3u;
        p += 4;
        left -= 4;
        if (padded > left || code == OPT_ENDOFOPT)
            break;
        if ((code == OPT_ISB_STARTTIME || code == OPT_ISB_ENDTIME) && olen == 8) {
            uint64_t t = ticks_to_ns(ifc, (uint64_t)ds_rd32(p, r->ng_be) << 32 | ds_rd32(p + 4, r->ng_be));
            if (code == OPT_ISB_STARTTIME)
                start = t;
            else
                end = t;
        }
        p += padded;
        left -= padded;
    }
    if (!start || !end || end < start)
        return;
    if (!r->isb_first_ns || start < r->isb_first_ns)
        r->isb_first_ns = start;
    if (end > r->isb_last_ns)
        r->isb_last_ns = end;
}

ds_rc ds_pcapng_open(ds_reader *r, ds_err *err)
{
    ng_block b;
    ds_rc rc = read_block(r, &b, err);
    if (rc == DS_ETRUNC || rc == DS_EOF)
        return ds_fail_at(err, DS_EFORMAT, 0, "%s: pcapng section header cut short", r->path);
    if (rc != DS_OK)
        return rc;
    return read_shb(r, &b, err);
}

ds_rc ds_pcapng_next(ds_reader *r, ds_record *rec, ds_err *err)
{
    for (;;) {
        ng_block b;
        ds_rc rc = read_block(r, &b, err);
        if (rc != DS_OK)
            return rc;
        switch (b.type) {
        case BT_EPB:
            return packet_from(r, &b, b.len >= 4 ? ds_rd32(b.body, r->ng_be) : 0, rec, err);
        case BT_PB:
            return packet_from(r, &b, b.len >= 2 ? ds_rd16(b.body, r->ng_be) : 0, rec, err);
        case BT_SPB:
            return simple_packet(r, &b, rec, err);
        case BT_SHB:
            rc = read_shb(r, &b, err);
            break;
        case BT_IDB:
            rc = read_idb(r, &b, err);
            break;
        case BT_ISB:
            read_isb(r, &b);
            break;
        default:
            break; /* NRB, DSB, custom and unknown blocks: nothing we need */
        }
        if (rc != DS_OK)
            return rc;
    }
}
