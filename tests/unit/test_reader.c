/* test_reader.c: the capture reader against files this test writes byte by byte, and against
 * libpcap over the robustness corpus (skipped when ../shared is absent).
 *
 * The hand-built files cover every path the reader has: classic pcap in four magic/byte-order
 * variants, pcapng with several sections/interfaces/resolutions and each packet block type,
 * gzip (several members) and zstd (several frames), FIFOs and stdin, and each error the
 * header documents.  The corpus loop is the differential check: wherever libpcap reads a
 * file, record counts, caplens and timestamps must match up to the first error on either side.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pcap/pcap.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <xxhash.h>
#include <zlib.h>
#include <zstd.h>

#include "capture/reader.h"
#include "unit/testdir.h"

/* ---- byte builder ---- */

typedef struct bb {
    uint8_t *p;
    size_t len, cap;
    int be;
} bb;

static void bb_put(bb *b, const void *src, size_t n)
{
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n)
            cap *= 2;
        b->p = realloc(b->p, cap);
        assert_non_null(b->p);
        b->cap = cap;
    }
    memcpy(b->p + b->len, src, n);
    b->len += n;
}
static void bb_u8(bb *b, uint8_t v) { bb_put(b, &v, 1); }
static void bb_u16(bb *b, uint16_t v)
{
    uint8_t x[2] = { (uint8_t)(b->be ? v >> 8 : v), (uint8_t)(b->be ? v : v >> 8) };
    bb_put(b, x, 2);
}
static void bb_u32(bb *b, uint32_t v)
{
    uint8_t x[4];
    for (int i = 0; i < 4; i++)
        x[i] = (uint8_t)(b->be ? v >> (24 - 8 * i) : v >> (8 * i));
    bb_put(b, x, 4);
}
static void bb_set32(bb *b, size_t at, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        b->p[at + (size_t)i] = (uint8_t)(b->be ? v >> (24 - 8 * i) : v >> (8 * i));
}
static void bb_pad4(bb *b)
{
    while (b->len % 4)
        bb_u8(b, 0);
}

static char tmpdir[256];

static char *tpath(const char *name)
{
    static char buf[4][512];
    static int i;
    i = (i + 1) % 4;
    snprintf(buf[i], sizeof buf[i], "%s/%s", tmpdir, name);
    return buf[i];
}

static void write_file(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(p, 1, n, f), n);
    fclose(f);
}

/* Classic pcap with records of given lengths; payload byte j of record i is (i * 7 + j). */
static void pcap_hdr(bb *b, int ns, uint32_t snaplen, uint32_t network)
{
    bb_u32(b, ns ? 0xa1b23c4du : 0xa1b2c3d4u);
    bb_u16(b, 2);
    bb_u16(b, 4);
    bb_u32(b, 0);
    bb_u32(b, 0);
    bb_u32(b, snaplen);
    bb_u32(b, network);
}
static void pcap_rec(bb *b, uint32_t sec, uint32_t frac, uint32_t caplen, uint32_t wirelen, int seed)
{
    bb_u32(b, sec);
    bb_u32(b, frac);
    bb_u32(b, caplen);
    bb_u32(b, wirelen);
    for (uint32_t j = 0; j < caplen; j++)
        bb_u8(b, (uint8_t)(seed * 7 + (int)j));
}
static void build_pcap(bb *b, int be, int ns, int nrec)
{
    b->be = be;
    pcap_hdr(b, ns, 65535, 0x14000001u); /* Ethernet, with FCS bits set */
    for (int i = 0; i < nrec; i++)
        pcap_rec(b, 1700000000u + (uint32_t)i, 123u + (uint32_t)i, 60u + (uint32_t)i * 13u, 1500, i);
}

typedef struct got {
    int n;
    ds_rc end;
    ds_err err;
    uint64_t ts[64];
    uint32_t caplen[64], wirelen[64];
    int linktype[64];
    uint64_t offset[64];
    uint32_t sum[64];
} got;

static void drain(ds_reader *r, got *g)
{
    ds_record rec;
    memset(g, 0, sizeof *g);
    ds_rc rc;
    while ((rc = ds_reader_next(r, &rec, &g->err)) == DS_OK) {
        if (g->n < 64) {
            g->ts[g->n] = rec.ts_ns;
            g->caplen[g->n] = rec.caplen;
            g->wirelen[g->n] = rec.wirelen;
            g->linktype[g->n] = rec.linktype;
            g->offset[g->n] = rec.offset;
            uint32_t s = 0;
            for (uint32_t j = 0; j < rec.caplen; j++)
                s = s * 31 + rec.data[j];
            g->sum[g->n] = s;
        }
        g->n++;
    }
    g->end = rc;
}

static ds_rc read_all(const char *path, got *g)
{
    ds_reader *r;
    ds_err err;
    ds_rc rc = ds_reader_open(&r, path, &err);
    if (rc != DS_OK) {
        memset(g, 0, sizeof *g);
        g->err = err;
        g->end = rc;
        return rc;
    }
    drain(r, g);
    ds_reader_close(r);
    return DS_OK;
}

static void assert_same_records(const got *a, const got *b)
{
    assert_int_equal(a->n, b->n);
    assert_int_equal(a->end, b->end);
    for (int i = 0; i < a->n && i < 64; i++) {
        assert_int_equal(a->ts[i], b->ts[i]);
        assert_int_equal(a->caplen[i], b->caplen[i]);
        assert_int_equal(a->wirelen[i], b->wirelen[i]);
        assert_int_equal(a->linktype[i], b->linktype[i]);
        assert_int_equal(a->offset[i], b->offset[i]);
        assert_int_equal(a->sum[i], b->sum[i]);
    }
}

/* ---- classic pcap ---- */

static void test_pcap_variants(void **state)
{
    (void)state;
    for (int be = 0; be < 2; be++)
        for (int ns = 0; ns < 2; ns++) {
            bb b = { 0 };
            build_pcap(&b, be, ns, 5);
            write_file(tpath("v.pcap"), b.p, b.len);
            ds_reader *r;
            ds_err err;
            assert_int_equal(ds_reader_open(&r, tpath("v.pcap"), &err), DS_OK);
            assert_int_equal(ds_reader_format(r), DS_CAP_PCAP);
            assert_int_equal(ds_reader_container(r), DS_CONT_PLAIN);
            assert_true(ds_reader_stable(r));
            assert_int_equal(ds_reader_size(r), b.len);
            got g;
            drain(r, &g);
            assert_int_equal(g.end, DS_EOF);
            assert_int_equal(g.n, 5);
            uint64_t off = 24;
            for (int i = 0; i < 5; i++) {
                uint64_t frac = 123u + (uint64_t)i;
                assert_int_equal(g.ts[i], (1700000000ull + (uint64_t)i) * 1000000000ull + (ns ? frac : frac * 1000));
                assert_int_equal(g.caplen[i], 60 + i * 13);
                assert_int_equal(g.wirelen[i], 1500);
                assert_int_equal(g.linktype[i], 1);
                assert_int_equal(g.offset[i], off);
                off += 16 + 60 + (uint64_t)i * 13;
            }
            assert_int_equal(ds_reader_consumed(r), b.len);
            /* next() after the end repeats the end */
            ds_record rec;
            assert_int_equal(ds_reader_next(r, &rec, &err), DS_EOF);
            ds_reader_close(r);
            free(b.p);
        }
}

static void test_pcap_truncated(void **state)
{
    (void)state;
    bb b = { 0 };
    build_pcap(&b, 0, 0, 4);
    size_t last = b.len - (16 + 60 + 3 * 13);
    /* cut inside the data, and inside the header, of the last record */
    size_t cuts[2] = { b.len - 5, last + 7 };
    for (int c = 0; c < 2; c++) {
        write_file(tpath("t.pcap"), b.p, cuts[c]);
        got g;
        assert_int_equal(read_all(tpath("t.pcap"), &g), DS_OK);
        assert_int_equal(g.n, 3);
        assert_int_equal(g.end, DS_ETRUNC);
        assert_true(g.err.has_offset);
        assert_int_equal(g.err.offset, last);
        assert_non_null(strstr(g.err.msg, "cut short"));
        assert_non_null(strstr(g.err.msg, tpath("t.pcap")));
    }
    free(b.p);
}

static void test_pcap_impossible(void **state)
{
    (void)state;
    /* caplen > DS_MAX_CAPLEN */
    bb b = { 0 };
    build_pcap(&b, 1, 0, 2);
    size_t bad = b.len;
    pcap_rec(&b, 1, 2, 0, 0, 0);
    bb_set32(&b, bad + 8, DS_MAX_CAPLEN + 1);
    write_file(tpath("i.pcap"), b.p, b.len);
    got g;
    assert_int_equal(read_all(tpath("i.pcap"), &g), DS_OK);
    assert_int_equal(g.n, 2);
    assert_int_equal(g.end, DS_EFORMAT);
    assert_int_equal(g.err.offset, bad);
    assert_true(g.err.has_offset);
    free(b.p);

    /* over a sane snaplen: a little (104/100) or a few times (380/100, as in tcpdump's
     * 802_15_4-data.pcap) is accepted, more than 2x and 64 KiB over is corrupt */
    b = (bb){ 0 };
    pcap_hdr(&b, 0, 100, 1);
    pcap_rec(&b, 1, 0, 104, 104, 1);
    pcap_rec(&b, 1, 0, 380, 380, 1);
    pcap_rec(&b, 1, 0, 100 + 65536, 100 + 65536, 1);
    bad = b.len;
    pcap_rec(&b, 1, 0, 100 + 65537, 201, 2);
    write_file(tpath("s.pcap"), b.p, b.len);
    assert_int_equal(read_all(tpath("s.pcap"), &g), DS_OK);
    assert_int_equal(g.n, 3);
    assert_int_equal(g.caplen[0], 104);
    assert_int_equal(g.end, DS_EFORMAT);
    assert_int_equal(g.err.offset, bad);
    free(b.p);
    b = (bb){ 0 };
    pcap_hdr(&b, 0, 70000, 1);
    pcap_rec(&b, 1, 0, 140000, 140000, 1);
    bad = b.len;
    pcap_rec(&b, 1, 0, 140001, 140001, 1);
    write_file(tpath("s.pcap"), b.p, b.len);
    assert_int_equal(read_all(tpath("s.pcap"), &g), DS_OK);
    assert_int_equal(g.n, 1);
    assert_int_equal(g.end, DS_EFORMAT);
    assert_int_equal(g.err.offset, bad);
    free(b.p);

    /* snaplen 0 and caplen > wirelen: accepted as is */
    b = (bb){ 0 };
    pcap_hdr(&b, 0, 0, 1);
    pcap_rec(&b, 1, 0, 9000, 9000, 1);
    pcap_rec(&b, 1, 0, 80, 40, 2);
    write_file(tpath("z.pcap"), b.p, b.len);
    assert_int_equal(read_all(tpath("z.pcap"), &g), DS_OK);
    assert_int_equal(g.n, 2);
    assert_int_equal(g.end, DS_EOF);
    assert_int_equal(g.caplen[1], 80);
    assert_int_equal(g.wirelen[1], 40);
    free(b.p);
}

/* ---- pcapng ---- */

static size_t ng_begin(bb *b, uint32_t type)
{
    size_t at = b->len;
    bb_u32(b, type);
    bb_u32(b, 0);
    return at;
}
static void ng_end(bb *b, size_t at)
{
    bb_pad4(b);
    uint32_t total = (uint32_t)(b->len - at + 4);
    bb_set32(b, at + 4, total);
    bb_u32(b, total);
}
static void ng_shb(bb *b)
{
    size_t at = ng_begin(b, 0x0A0D0D0Au);
    bb_u32(b, 0x1A2B3C4Du);
    bb_u16(b, 1);
    bb_u16(b, 0);
    bb_u32(b, 0xffffffffu);
    bb_u32(b, 0xffffffffu);
    ng_end(b, at);
}
static void ng_idb(bb *b, uint16_t linktype, uint32_t snaplen, int tsresol, int64_t tsoffset)
{
    size_t at = ng_begin(b, 1);
    bb_u16(b, linktype);
    bb_u16(b, 0);
    bb_u32(b, snaplen);
    if (tsresol >= 0) {
        bb_u16(b, 9);
        bb_u16(b, 1);
        bb_u8(b, (uint8_t)tsresol);
        bb_pad4(b);
    }
    if (tsoffset) {
        bb_u16(b, 14);
        bb_u16(b, 8);
        uint64_t v = (uint64_t)tsoffset;
        if (b->be) {
            bb_u32(b, (uint32_t)(v >> 32));
            bb_u32(b, (uint32_t)v);
        } else {
            bb_u32(b, (uint32_t)v);
            bb_u32(b, (uint32_t)(v >> 32));
        }
    }
    bb_u16(b, 0);
    bb_u16(b, 0);
    ng_end(b, at);
}
static size_t ng_epb(bb *b, uint32_t ifid, uint64_t ticks, uint32_t caplen, uint32_t wirelen, int seed)
{
    size_t at = ng_begin(b, 6);
    bb_u32(b, ifid);
    bb_u32(b, (uint32_t)(ticks >> 32));
    bb_u32(b, (uint32_t)ticks);
    bb_u32(b, caplen);
    bb_u32(b, wirelen);
    for (uint32_t j = 0; j < caplen; j++)
        bb_u8(b, (uint8_t)(seed * 7 + (int)j));
    bb_pad4(b);
    bb_u16(b, 1); /* opt_comment */
    bb_u16(b, 3);
    bb_put(b, "hi!", 3);
    bb_pad4(b);
    ng_end(b, at);
    return at;
}

static void build_pcapng(bb *b)
{
    b->be = 0;
    ng_shb(b);
    ng_idb(b, 1, 65535, -1, 0);          /* Ethernet, default microseconds */
    ng_idb(b, 101, 0, 9, 100);           /* raw IP, nanoseconds, +100 s */
    size_t nrb = ng_begin(b, 4);         /* a name resolution block to skip */
    bb_u32(b, 0);
    ng_end(b, nrb);
    ng_epb(b, 0, 1700000000123456ull, 60, 60, 0);
    ng_epb(b, 1, 1700000000123456789ull, 41, 1000, 1);
    size_t spb = ng_begin(b, 3);         /* simple packet: caplen = min(wirelen, snaplen 65535) */
    bb_u32(b, 30);
    for (int j = 0; j < 30; j++)
        bb_u8(b, (uint8_t)(2 * 7 + j));
    ng_end(b, spb);
    size_t pb = ng_begin(b, 2);          /* obsolete packet block on interface 1 */
    bb_u16(b, 1);
    bb_u16(b, 0);
    bb_u32(b, 0);
    bb_u32(b, 5);
    bb_u32(b, 10);
    bb_u32(b, 10);
    for (int j = 0; j < 10; j++)
        bb_u8(b, (uint8_t)(3 * 7 + j));
    ng_end(b, pb);
    /* a second, big-endian section with a binary resolution 2^-10 */
    b->be = 1;
    ng_shb(b);
    ng_idb(b, 113, 262144, 0x80 | 10, 0);
    ng_epb(b, 0, (5ull << 10) | 512u, 20, 20, 4);
}

static void test_pcapng(void **state)
{
    (void)state;
    bb b = { 0 };
    build_pcapng(&b);
    write_file(tpath("n.pcapng"), b.p, b.len);
    ds_reader *r;
    ds_err err;
    assert_int_equal(ds_reader_open(&r, tpath("n.pcapng"), &err), DS_OK);
    assert_int_equal(ds_reader_format(r), DS_CAP_PCAPNG);
    got g;
    drain(r, &g);
    ds_reader_close(r);
    assert_int_equal(g.end, DS_EOF);
    assert_int_equal(g.n, 5);
    assert_int_equal(g.linktype[0], 1);
    assert_int_equal(g.ts[0], 1700000000123456000ull);
    assert_int_equal(g.caplen[0], 60);
    assert_int_equal(g.linktype[1], 101);
    assert_int_equal(g.ts[1], 1700000000123456789ull + 100ull * 1000000000ull);
    assert_int_equal(g.caplen[1], 41);
    assert_int_equal(g.wirelen[1], 1000);
    assert_int_equal(g.linktype[2], 1);
    assert_int_equal(g.caplen[2], 30);
    assert_int_equal(g.ts[2], 0);
    assert_int_equal(g.linktype[3], 101);
    assert_int_equal(g.caplen[3], 10);
    assert_int_equal(g.ts[3], 5ull + 100ull * 1000000000ull);
    assert_int_equal(g.linktype[4], 113);
    assert_int_equal(g.ts[4], 5500000000ull);
    assert_int_equal(g.caplen[4], 20);
    /* data checksums match the seeds */
    for (int i = 0; i < 5; i++) {
        uint32_t s = 0;
        for (uint32_t j = 0; j < g.caplen[i]; j++)
            s = s * 31 + (uint8_t)(i * 7 + (int)j);
        assert_int_equal(g.sum[i], s);
    }
    free(b.p);
}

static void test_pcapng_errors(void **state)
{
    (void)state;
    got g;
    /* unknown interface id */
    bb b = { 0 };
    ng_shb(&b);
    ng_idb(&b, 1, 0, -1, 0);
    ng_epb(&b, 0, 1, 10, 10, 0);
    size_t bad = ng_epb(&b, 3, 1, 10, 10, 0);
    write_file(tpath("e.pcapng"), b.p, b.len);
    assert_int_equal(read_all(tpath("e.pcapng"), &g), DS_OK);
    assert_int_equal(g.n, 1);
    assert_int_equal(g.end, DS_EFORMAT);
    assert_int_equal(g.err.offset, bad);
    assert_non_null(strstr(g.err.msg, "interface 3"));

    /* trailing length differs from the leading one */
    b.len = bad;
    bad = ng_epb(&b, 0, 1, 10, 10, 0);
    bb_set32(&b, b.len - 4, 1234);
    write_file(tpath("e.pcapng"), b.p, b.len);
    assert_int_equal(read_all(tpath("e.pcapng"), &g), DS_OK);
    assert_int_equal(g.n, 1);
    assert_int_equal(g.end, DS_EFORMAT);
    assert_int_equal(g.err.offset, bad);

    /* length not a multiple of 4 */
    bb_set32(&b, b.len - 4, (uint32_t)(b.len - bad));
    bb_set32(&b, bad + 4, 45);
    write_file(tpath("e.pcapng"), b.p, b.len);
    assert_int_equal(read_all(tpath("e.pcapng"), &g), DS_OK);
    assert_int_equal(g.end, DS_EFORMAT);
    assert_int_equal(g.err.offset, bad);

    /* caplen bigger than the block */
    bb_set32(&b, bad + 4, (uint32_t)(b.len - bad));
    bb_set32(&b, bad + 20, 200);
    write_file(tpath("e.pcapng"), b.p, b.len);
    assert_int_equal(read_all(tpath("e.pcapng"), &g), DS_OK);
    assert_int_equal(g.end, DS_EFORMAT);
    assert_int_equal(g.err.offset, bad);

    /* cut short inside the last block: ETRUNC after the whole ones */
    bb_set32(&b, bad + 20, 10);
    write_file(tpath("e.pcapng"), b.p, b.len - 6);
    assert_int_equal(read_all(tpath("e.pcapng"), &g), DS_OK);
    assert_int_equal(g.n, 1);
    assert_int_equal(g.end, DS_ETRUNC);
    assert_int_equal(g.err.offset, bad);
    free(b.p);
}

/* ---- containers and streams ---- */

static void write_gzip(const char *path, const uint8_t *p, size_t n, int members)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fclose(f);
    size_t step = (n + (size_t)members - 1) / (size_t)members, at = 0;
    for (int m = 0; m < members; m++) {
        gzFile gz = gzopen(path, "ab");
        assert_non_null(gz);
        size_t k = n - at < step ? n - at : step;
        if (k)
            assert_int_equal(gzwrite(gz, p + at, (unsigned)k), (int)k);
        at += k;
        gzclose(gz);
    }
}

static size_t zstd_frames(uint8_t **out, const uint8_t *p, size_t n, int frames)
{
    size_t cap = (size_t)frames * ZSTD_compressBound(n) + 64, len = 0, step = (n + (size_t)frames - 1) / (size_t)frames;
    *out = malloc(cap);
    assert_non_null(*out);
    for (size_t at = 0; at < n; at += step) {
        size_t k = n - at < step ? n - at : step;
        size_t z = ZSTD_compress(*out + len, cap - len, p + at, k, 3);
        assert_false(ZSTD_isError(z));
        len += z;
    }
    return len;
}

static void hash_of(const void *p, size_t n, uint8_t out[16])
{
    XXH128_canonical_t c;
    XXH128_canonicalFromHash(&c, XXH3_128bits(p, n));
    memcpy(out, c.digest, 16);
}

static void check_file_hash(const char *path, const void *disk, size_t n)
{
    ds_reader *r;
    ds_err err;
    assert_int_equal(ds_reader_open(&r, path, &err), DS_OK);
    got g;
    drain(r, &g);
    uint8_t want[16], have[16];
    hash_of(disk, n, want);
    ds_reader_hash(r, have);
    assert_memory_equal(want, have, 16);
    assert_int_equal(ds_reader_consumed(r), n);
    ds_reader_close(r);
}

static void test_containers(void **state)
{
    (void)state;
    bb b = { 0 }, ng = { 0 };
    build_pcap(&b, 0, 1, 40);
    build_pcapng(&ng);
    const bb *srcs[2] = { &b, &ng };
    for (int s = 0; s < 2; s++) {
        const bb *src = srcs[s];
        got plain, gz, gz3, zs;
        write_file(tpath("c.plain"), src->p, src->len);
        assert_int_equal(read_all(tpath("c.plain"), &plain), DS_OK);
        assert_int_equal(plain.end, DS_EOF);

        write_gzip(tpath("c.gz"), src->p, src->len, 1);
        assert_int_equal(read_all(tpath("c.gz"), &gz), DS_OK);
        assert_same_records(&plain, &gz);
        write_gzip(tpath("c3.gz"), src->p, src->len, 3);
        assert_int_equal(read_all(tpath("c3.gz"), &gz3), DS_OK);
        assert_same_records(&plain, &gz3);

        uint8_t *z;
        size_t zn = zstd_frames(&z, src->p, src->len, 3);
        write_file(tpath("c.zst"), z, zn);
        assert_int_equal(read_all(tpath("c.zst"), &zs), DS_OK);
        assert_same_records(&plain, &zs);

        ds_reader *r;
        ds_err err;
        assert_int_equal(ds_reader_open(&r, tpath("c.zst"), &err), DS_OK);
        assert_int_equal(ds_reader_container(r), DS_CONT_ZSTD);
        assert_false(ds_reader_stable(r));
        ds_reader_close(r);
        assert_int_equal(ds_reader_open(&r, tpath("c3.gz"), &err), DS_OK);
        assert_int_equal(ds_reader_container(r), DS_CONT_GZIP);
        ds_reader_close(r);

        /* the hash is over the bytes on disk */
        check_file_hash(tpath("c.plain"), src->p, src->len);
        check_file_hash(tpath("c.zst"), z, zn);

        /* corrupt zstd: a reserved bit in the frame header descriptor (zstd frames carry
         * no content checksum by default, so flipped payload bytes could go unnoticed) */
        z[4] |= 0x08;
        write_file(tpath("bad.zst"), z, zn);
        got bad;
        read_all(tpath("bad.zst"), &bad);
        assert_int_equal(bad.end, DS_EFORMAT);
        assert_non_null(strstr(bad.err.msg, "zstd"));
        free(z);
    }

    /* truncated zstd (several 128 KiB blocks): all whole records, then ETRUNC */
    bb big = { 0 };
    pcap_hdr(&big, 0, 65535, 1);
    for (int i = 0; i < 3000; i++)
        pcap_rec(&big, 1, (uint32_t)i, 100, 100, i);
    uint8_t *z2;
    size_t zn2 = zstd_frames(&z2, big.p, big.len, 1);
    write_file(tpath("cut.zst"), z2, zn2 - 3);
    got cut;
    read_all(tpath("cut.zst"), &cut);
    assert_int_equal(cut.end, DS_ETRUNC);
    assert_true(cut.n > 0 && cut.n < 3000);
    assert_non_null(strstr(cut.err.msg, "cut short"));
    /* cut before any whole block: nothing to deliver, said plainly at open */
    write_file(tpath("cut.zst"), z2, 20);
    read_all(tpath("cut.zst"), &cut);
    assert_int_equal(cut.end, DS_EFORMAT);
    assert_non_null(strstr(cut.err.msg, "ends early"));
    free(z2);
    free(big.p);

    /* corrupt gzip data */
    write_gzip(tpath("c.gz"), b.p, b.len, 1);
    FILE *f = fopen(tpath("c.gz"), "r+b");
    assert_non_null(f);
    fseek(f, 40, SEEK_SET);
    fwrite("\xff\xff\xff\xff\xff\xff\xff\xff", 1, 8, f);
    fclose(f);
    got bad;
    read_all(tpath("c.gz"), &bad);
    assert_int_equal(bad.end, DS_EFORMAT);
    assert_non_null(strstr(bad.err.msg, "gzip"));
    /* a truncated gzip file */
    write_gzip(tpath("c.gz"), b.p, b.len, 1);
    struct stat st;
    stat(tpath("c.gz"), &st);
    assert_int_equal(truncate(tpath("c.gz"), st.st_size - 10), 0);
    read_all(tpath("c.gz"), &bad);
    assert_int_equal(bad.end, DS_ETRUNC);
    free(b.p);
    free(ng.p);
}

/* Write p into fd from a child process, so big inputs do not block on the pipe. */
static pid_t spawn_writer(int fd, const void *p, size_t n)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        const uint8_t *q = p;
        while (n) {
            ssize_t w = write(fd, q, n);
            if (w <= 0)
                _exit(1);
            q += w;
            n -= (size_t)w;
        }
        _exit(0);
    }
    return pid;
}

/* Make the FIFO tpath("fifo") and write p into it from a child process (which opens it, so the
 * reader's open does not block). */
static pid_t fifo_writer(const void *p, size_t n)
{
    unlink(tpath("fifo"));
    assert_int_equal(mkfifo(tpath("fifo"), 0600), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int fd = open(tpath("fifo"), O_WRONLY);
        const uint8_t *q = p;
        while (fd >= 0 && n) {
            ssize_t w = write(fd, q, n);
            if (w <= 0)
                _exit(1);
            q += w;
            n -= (size_t)w;
        }
        _exit(0);
    }
    return pid;
}

static void read_fifo(const void *p, size_t n, got *g, ds_container want)
{
    pid_t pid = fifo_writer(p, n);
    ds_reader *r;
    ds_err err;
    assert_int_equal(ds_reader_open(&r, tpath("fifo"), &err), DS_OK);
    assert_false(ds_reader_stable(r));
    assert_int_equal(ds_reader_container(r), want);
    assert_int_equal(ds_reader_size(r), 0);
    drain(r, g);
    ds_reader_close(r);
    waitpid(pid, NULL, 0);
}

static ds_rc read_stdin(const void *p, size_t n, got *g)
{
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid = spawn_writer(fds[1], p, n);
    close(fds[1]);
    int saved = dup(STDIN_FILENO);
    dup2(fds[0], STDIN_FILENO);
    close(fds[0]);
    ds_reader *r;
    ds_rc rc = ds_reader_open(&r, "-", &g->err);
    if (rc == DS_OK) {
        drain(r, g);
        ds_reader_close(r);
    }
    dup2(saved, STDIN_FILENO);
    close(saved);
    waitpid(pid, NULL, 0);
    return rc;
}

static void test_streams(void **state)
{
    (void)state;
    bb b = { 0 };
    build_pcap(&b, 1, 0, 50);
    /* make it bigger than the window and the raw buffer so refills are exercised */
    for (int i = 0; i < 600; i++)
        pcap_rec(&b, 1, (uint32_t)i, 1400 + (uint32_t)(i % 50), 1500, i);
    pcap_rec(&b, 2, 0, 131000, 131000, 9); /* big, but < 2 x snaplen 65535 */
    write_file(tpath("s.pcap"), b.p, b.len);
    got plain, fifo, in;
    assert_int_equal(read_all(tpath("s.pcap"), &plain), DS_OK);
    assert_int_equal(plain.n, 651);
    assert_int_equal(plain.end, DS_EOF);
    read_fifo(b.p, b.len, &fifo, DS_CONT_PLAIN);
    assert_same_records(&plain, &fifo);
    memset(&in, 0, sizeof in);
    assert_int_equal(read_stdin(b.p, b.len, &in), DS_OK);
    assert_same_records(&plain, &in);

    /* gzip and zstd through stdin, detected by magic */
    write_gzip(tpath("s.gz"), b.p, b.len, 2);
    FILE *f = fopen(tpath("s.gz"), "rb");
    uint8_t *gzb = malloc(b.len + 4096);
    size_t gzn = fread(gzb, 1, b.len + 4096, f);
    fclose(f);
    memset(&in, 0, sizeof in);
    assert_int_equal(read_stdin(gzb, gzn, &in), DS_OK);
    assert_same_records(&plain, &in);
    read_fifo(gzb, gzn, &fifo, DS_CONT_GZIP);
    assert_same_records(&plain, &fifo);
    uint8_t *z;
    size_t zn = zstd_frames(&z, b.p, b.len, 2);
    memset(&in, 0, sizeof in);
    assert_int_equal(read_stdin(z, zn, &in), DS_OK);
    assert_same_records(&plain, &in);

    /* truncated through a pipe */
    memset(&in, 0, sizeof in);
    assert_int_equal(read_stdin(b.p, b.len - 100, &in), DS_OK);
    assert_int_equal(in.n, 650);
    assert_int_equal(in.end, DS_ETRUNC);

    /* empty stdin */
    memset(&in, 0, sizeof in);
    assert_int_equal(read_stdin(b.p, 0, &in), DS_EFORMAT);
    assert_non_null(strstr(in.err.msg, "empty file"));
    free(gzb);
    free(z);
    free(b.p);
}

static void test_open_errors(void **state)
{
    (void)state;
    ds_reader *r = NULL;
    ds_err err;
    assert_int_equal(ds_reader_open(&r, tpath("does-not-exist.pcap"), &err), DS_EIO);
    assert_null(r);
    assert_non_null(strstr(err.msg, "does-not-exist.pcap"));
    assert_int_equal(ds_reader_open(&r, tmpdir, &err), DS_EIO);
    assert_non_null(strstr(err.msg, "is a directory"));
    write_file(tpath("empty"), "", 0);
    assert_int_equal(ds_reader_open(&r, tpath("empty"), &err), DS_EFORMAT);
    assert_non_null(strstr(err.msg, "empty file"));
    write_file(tpath("text"), "hello world\n", 12);
    assert_int_equal(ds_reader_open(&r, tpath("text"), &err), DS_EFORMAT);
    assert_non_null(strstr(err.msg, "not a pcap or pcapng file (magic 0x68656c6c)"));
    write_file(tpath("short"), "\xd4\xc3\xb2\xa1\x02\x00", 6);
    assert_int_equal(ds_reader_open(&r, tpath("short"), &err), DS_EFORMAT);
    assert_non_null(strstr(err.msg, tpath("short")));
    /* an empty gzip member is an empty capture */
    write_gzip(tpath("empty.gz"), (const uint8_t *)"", 0, 1);
    assert_int_equal(ds_reader_open(&r, tpath("empty.gz"), &err), DS_EFORMAT);
    assert_non_null(strstr(err.msg, "empty"));
}

static void test_hash(void **state)
{
    (void)state;
    bb a = { 0 }, c = { 0 };
    build_pcap(&a, 0, 0, 10);
    build_pcap(&c, 0, 0, 10);
    c.p[c.len - 1] ^= 1;
    write_file(tpath("h1.pcap"), a.p, a.len);
    write_file(tpath("h2.pcap"), a.p, a.len);
    write_file(tpath("h3.pcap"), c.p, c.len);
    uint8_t h[3][16];
    const char *names[3] = { "h1.pcap", "h2.pcap", "h3.pcap" };
    for (int i = 0; i < 3; i++) {
        ds_reader *r;
        ds_err err;
        assert_int_equal(ds_reader_open(&r, tpath(names[i]), &err), DS_OK);
        if (i == 1) {
            /* asked early, a mapped file's hash still covers the whole file */
            ds_reader_hash(r, h[i]);
        } else {
            got g;
            drain(r, &g);
            ds_reader_hash(r, h[i]);
        }
        ds_reader_close(r);
    }
    assert_memory_equal(h[0], h[1], 16);
    assert_memory_not_equal(h[0], h[2], 16);
    uint8_t want[16];
    hash_of(a.p, a.len, want);
    assert_memory_equal(h[0], want, 16);

    /* DS_READER_NO_HASH (a second reader of a file, in ingest's threads): the same records, by
     * both input paths, and no hashing work (the hash is then that of no bytes) */
    got plain;
    read_all(tpath("h1.pcap"), &plain);
    uint8_t empty[16];
    hash_of("", 0, empty);
    for (int mm = 0; mm < 2; mm++) {
        ds_reader *r;
        ds_err err;
        unsigned fl = DS_READER_NO_HASH | (mm ? DS_READER_NO_MMAP : 0);
        assert_int_equal(ds_reader_open_flags(&r, tpath("h1.pcap"), fl, &err), DS_OK);
        got g;
        drain(r, &g);
        assert_same_records(&plain, &g);
        uint8_t hn[16];
        ds_reader_hash(r, hn);
        if (mm)   /* a mapped file's hash is computed on demand; the stream path's as it reads */
            assert_memory_equal(hn, empty, 16);
        ds_reader_close(r);
    }
    free(a.p);
    free(c.p);
}

/* ds_reader_prehash (ingest's duplicate check before decoding): the hash of a regular file read
 * ahead with pread is the one the reader gives after reading it, by both input paths, for a file
 * cut short inside a record and a gzip one too; the prefix hash covers the first 64 KiB; the
 * reader still delivers every record; a second reader (open_again) reports the same hash; and
 * ds_reader_hash_head hashes exactly the first len bytes. */
static void test_prehash(void **state)
{
    (void)state;
    bb a = { 0 };
    a.be = 0;
    pcap_hdr(&a, 0, 65535, 1);
    for (int i = 0; i < 100; i++)   /* about 100 KB: longer than the prefix */
        pcap_rec(&a, 1700000000u + (uint32_t)i, 0, 1000, 1500, i);
    assert_true(a.len > DS_PREFIX_HASH_LEN);
    write_file(tpath("ph.pcap"), a.p, a.len);
    write_file(tpath("ph-cut.pcap"), a.p, a.len - 300);   /* inside the last record */
    write_gzip(tpath("ph.pcap.gz"), a.p, a.len, 1);
    const char *names[] = { "ph.pcap", "ph-cut.pcap", "ph.pcap.gz" };
    for (size_t k = 0; k < 3; k++) {
        for (int mm = 0; mm < 2; mm++) {
            unsigned fl = mm ? DS_READER_NO_MMAP : 0;
            ds_reader *r, *r2 = NULL;
            ds_err err;
            struct stat st;
            assert_int_equal(stat(tpath(names[k]), &st), 0);
            uint8_t *disk = malloc((size_t)st.st_size);
            FILE *f = fopen(tpath(names[k]), "rb");
            assert_non_null(f);
            assert_int_equal(fread(disk, 1, (size_t)st.st_size, f), (size_t)st.st_size);
            fclose(f);
            uint8_t want[16], wantp[16], full[16], prefix[16], after[16], again[16], head[16];
            hash_of(disk, (size_t)st.st_size, want);
            hash_of(disk, (size_t)st.st_size < DS_PREFIX_HASH_LEN ? (size_t)st.st_size : DS_PREFIX_HASH_LEN, wantp);
            assert_int_equal(ds_reader_open_flags(&r, tpath(names[k]), fl, &err), DS_OK);
            assert_int_equal(ds_reader_prehash(r, full, prefix, &err), DS_OK);
            assert_memory_equal(full, want, 16);
            assert_memory_equal(prefix, wantp, 16);
            ds_record rec;
            ds_rc rc;
            int n = 0;
            while ((rc = ds_reader_next(r, &rec, &err)) == DS_OK)
                n++;
            assert_int_equal(rc, k == 1 ? DS_ETRUNC : DS_EOF);
            assert_int_equal(n, k == 1 ? 99 : 100);
            ds_reader_hash(r, after);
            assert_memory_equal(after, want, 16);
            if (mm || k == 2)   /* the stream path reads the whole file (a mapping stops at the cut record) */
                assert_int_equal(ds_reader_consumed(r), (uint64_t)st.st_size);
            size_t half = (size_t)st.st_size / 2;
            assert_int_equal(ds_reader_hash_head(r, half, head, &err), DS_OK);
            hash_of(disk, half, want);
            assert_memory_equal(head, want, 16);
            assert_int_equal(ds_reader_hash_head(r, (uint64_t)st.st_size + 1, head, &err), DS_EINVAL);
            if (ds_reader_container(r) == DS_CONT_PLAIN) {
                assert_int_equal(ds_reader_open_again(&r2, r, 0, &err), DS_OK);
                ds_reader_hash(r2, again);
                assert_memory_equal(again, full, 16);
                ds_reader_close(r2);
            }
            ds_reader_close(r);
            free(disk);
        }
    }
    free(a.p);
}

/* ds_reader_open_again (ingest's second thread) and reading a regular file only up to the size
 * it had at open.  Regression: both threads used to open the file by name, so a capture that grew
 * or was replaced in between gave the two threads different records. */
static void test_open_again(void **state)
{
    (void)state;
    bb a = { 0 }, more = { 0 }, other = { 0 };
    build_pcap(&a, 0, 0, 10);
    build_pcap(&more, 0, 0, 15);   /* a's 10 records and 5 more */
    build_pcap(&other, 1, 1, 3);
    got want, g;
    write_file(tpath("again.pcap"), a.p, a.len);
    read_all(tpath("again.pcap"), &want);
    assert_int_equal(want.n, 10);
    for (int mm = 0; mm < 2; mm++) {
        ds_reader *r, *r2;
        ds_err err;
        unsigned fl = mm ? DS_READER_NO_MMAP : 0;
        /* grows after open: neither reader sees the appended records, and there is no cut */
        write_file(tpath("again.pcap"), a.p, a.len);
        assert_int_equal(ds_reader_open_flags(&r, tpath("again.pcap"), fl, &err), DS_OK);
        FILE *f = fopen(tpath("again.pcap"), "ab");
        assert_non_null(f);
        assert_int_equal(fwrite(more.p + a.len, 1, more.len - a.len, f), more.len - a.len);
        fclose(f);
        assert_int_equal(ds_reader_open_again(&r2, r, DS_READER_NO_MMAP, &err), DS_OK);
        drain(r, &g);
        assert_same_records(&want, &g);
        drain(r2, &g);
        assert_same_records(&want, &g);
        uint8_t h[16], hw[16];
        ds_reader_hash(r2, h);
        hash_of(a.p, a.len, hw);
        assert_memory_equal(h, hw, 16);
        ds_reader_close(r2);
        ds_reader_close(r);

        /* replaced under its name: the second reader still reads the file the first one opened */
        write_file(tpath("again.pcap"), a.p, a.len);
        assert_int_equal(ds_reader_open_flags(&r, tpath("again.pcap"), fl, &err), DS_OK);
        write_file(tpath("again.tmp"), other.p, other.len);
        assert_int_equal(rename(tpath("again.tmp"), tpath("again.pcap")), 0);
        assert_int_equal(ds_reader_open_again(&r2, r, DS_READER_NO_MMAP, &err), DS_OK);
        drain(r2, &g);
        assert_same_records(&want, &g);
        ds_reader_close(r2);
        ds_reader_close(r);

        /* shortened in between: refused, naming the file */
        write_file(tpath("again.pcap"), a.p, a.len);
        assert_int_equal(ds_reader_open_flags(&r, tpath("again.pcap"), fl, &err), DS_OK);
        assert_int_equal(truncate(tpath("again.pcap"), (off_t)a.len / 2), 0);
        r2 = NULL;
        assert_int_equal(ds_reader_open_again(&r2, r, 0, &err), DS_EIO);
        assert_null(r2);
        assert_non_null(strstr(err.msg, "again.pcap was replaced or shortened"));
        ds_reader_close(r);
    }
    /* a FIFO can be read only once */
    pid_t pid = fifo_writer(a.p, a.len);
    ds_reader *r, *r2 = NULL;
    ds_err err;
    assert_int_equal(ds_reader_open(&r, tpath("fifo"), &err), DS_OK);
    assert_int_equal(ds_reader_open_again(&r2, r, 0, &err), DS_EINVAL);
    assert_null(r2);
    assert_non_null(strstr(err.msg, "can be read only once"));
    drain(r, &g);
    assert_same_records(&want, &g);
    ds_reader_close(r);
    waitpid(pid, NULL, 0);
    free(a.p);
    free(more.p);
    free(other.p);
}

/* ---- differential check against libpcap over the corpus ---- */

typedef struct xstats {
    int files, lib_refused, both_refused, agree, disagree, ours_refused_lib_read;
    int lib_snap_clip; /* records where libpcap cut caplen to the file snaplen */
    int lib_signed_ts; /* records whose seconds/fraction libpcap read as signed 32-bit */
    int we_stop_first, lib_stops_first, both_err; /* files where one side's error ends it first */
    int cut_copies;
} xstats;
static xstats xs;
static int xverbose;

static void crosscheck_file(const char *path)
{
    char eb[PCAP_ERRBUF_SIZE];
    xs.files++;
    ds_reader *r = NULL;
    ds_err err;
    ds_rc orc = ds_reader_open(&r, path, &err);
    pcap_t *p = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, eb);
    if (!p) {
        xs.lib_refused++;
        if (orc != DS_OK)
            xs.both_refused++;
        if (xverbose && (orc == DS_OK || strstr(path, "cut.cap") == NULL))
            printf("  note: libpcap refuses %s: %s; we: %s\n", path, eb, orc == DS_OK ? "open it" : err.msg);
        ds_reader_close(r);
        return;
    }
    if (orc != DS_OK) {
        struct pcap_pkthdr *h;
        const u_char *d;
        int lrc = pcap_next_ex(p, &h, &d);
        if (lrc == 1) {
            xs.ours_refused_lib_read++;
            xs.disagree++;
            printf("  DISAGREE (we refuse, libpcap reads): %s: %s\n", path, err.msg);
        } else {
            xs.agree++;
        }
        pcap_close(p);
        return;
    }
    int snap = pcap_snapshot(p);
    long n = 0;
    int lib_err = 0, our_err = 0, mismatch = 0;
    char why[600] = "";
    for (;;) {
        struct pcap_pkthdr *h;
        const u_char *d;
        ds_record rec;
        int lrc = pcap_next_ex(p, &h, &d);
        ds_rc rc = ds_reader_next(r, &rec, &err);
        int lib_ok = lrc == 1, our_ok = rc == DS_OK;
        if (!lib_ok)
            lib_err = lrc == -1;
        if (!our_ok)
            our_err = rc != DS_EOF;
        if (!lib_ok || !our_ok) {
            if (lib_ok != our_ok) {
                /* the side that stopped first must have stopped on an error */
                int ok = lib_ok ? our_err : lib_err;
                if (ok) {
                    if (lib_ok)
                        xs.we_stop_first++;
                    else
                        xs.lib_stops_first++;
                    if (xverbose)
                        printf("  note: %s stops first at record %ld: %s: %s\n", lib_ok ? "we" : "libpcap", n, path,
                               lib_ok ? err.msg : pcap_geterr(p));
                }
                if (!ok) {
                    mismatch = 1;
                    snprintf(why, sizeof why, "record %ld: libpcap %s, we %s (%s)", n,
                             lib_ok ? "has it" : "ends cleanly", our_ok ? "have it" : ds_rc_name(rc),
                             our_ok ? "" : err.msg);
                }
            }
            if (!lib_ok && !our_ok && lib_err && our_err)
                xs.both_err++;
            break;
        }
        uint64_t lts = (uint64_t)h->ts.tv_sec * 1000000000u + (uint64_t)h->ts.tv_usec;
        uint64_t lts32 = (uint64_t)(uint32_t)h->ts.tv_sec * 1000000000u + (uint64_t)h->ts.tv_usec;
        uint32_t ourcap = rec.caplen;
        if (ourcap > h->caplen && (int)h->caplen == snap && ds_reader_format(r) == DS_CAP_PCAP) {
            xs.lib_snap_clip++;
            if (xverbose)
                printf("  note: libpcap clips record %ld from %u to snaplen %d: %s\n", n, rec.caplen, snap, path);
            ourcap = h->caplen;
        }
        if (rec.ts_ns != lts && rec.ts_ns != lts32 && ds_reader_format(r) == DS_CAP_PCAP) {
            /* libpcap 1.10 reads the classic header's seconds and fraction as signed 32-bit;
             * the spec (and we) read them unsigned.  The results then differ by 2^32 s
             * and/or 2^32 fraction units (x1000 for microsecond files). */
            const uint64_t s32 = (uint64_t)1 << 32, diff = rec.ts_ns - lts;
            const uint64_t alts[] = { s32 * 1000000000u, s32, s32 * 1000u, s32 * 1000000000u + s32,
                                      s32 * 1000000000u + s32 * 1000u };
            for (size_t k = 0; k < sizeof alts / sizeof alts[0]; k++)
                if (diff == alts[k]) {
                    xs.lib_signed_ts++;
                    lts = rec.ts_ns;
                    break;
                }
        }
        if (ourcap != h->caplen || rec.wirelen != h->len || (rec.ts_ns != lts && rec.ts_ns != lts32) ||
            memcmp(rec.data, d, h->caplen) != 0) {
            mismatch = 1;
            snprintf(why, sizeof why, "record %ld: caplen %u/%u len %u/%u ts %llu/%llu", n, rec.caplen, h->caplen,
                     rec.wirelen, h->len, (unsigned long long)rec.ts_ns, (unsigned long long)lts);
            break;
        }
        n++;
    }
    if (mismatch) {
        xs.disagree++;
        printf("  DISAGREE %s: %s\n", path, why);
    } else {
        xs.agree++;
    }
    pcap_close(p);
    ds_reader_close(r);
}

/* Also check a copy cut at 2/3 and one cut a byte short: the corpus has few interrupted
 * captures, and the truncation paths deserve the same differential check. */
static void crosscheck_cut(const char *path, off_t size)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return;
    uint8_t *buf = malloc((size_t)size);
    size_t n = buf ? fread(buf, 1, (size_t)size, f) : 0;
    fclose(f);
    off_t cuts[2] = { size * 2 / 3, size - 1 };
    for (int i = 0; i < 2 && n == (size_t)size; i++) {
        if (cuts[i] <= 0)
            continue;
        write_file(tpath("cut.cap"), buf, (size_t)cuts[i]);
        crosscheck_file(tpath("cut.cap"));
        xs.cut_copies++;
    }
    free(buf);
}

static int walk_cb(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)ftw;
    if (type == FTW_F && S_ISREG(st->st_mode)) {
        crosscheck_file(path);
        crosscheck_cut(path, st->st_size);
    }
    return 0;
}

static void test_corpus_vs_libpcap(void **state)
{
    (void)state;
    const char *dir = getenv("DS_CORPUS");
    if (!dir)
        dir = "../shared/corpus/robustness";
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        if (stat("/work/shared/corpus/robustness", &st) == 0 && !getenv("DS_CORPUS"))
            dir = "/work/shared/corpus/robustness";
        else
            skip();
    }
    xverbose = getenv("DS_XVERBOSE") != NULL;
    memset(&xs, 0, sizeof xs);
    assert_int_equal(nftw(dir, walk_cb, 16, FTW_PHYS), 0);
    printf("corpus vs libpcap: %d files (%d of them cut-short copies): %d agree, %d disagree (%d we refuse but libpcap reads); "
           "libpcap refuses %d (we refuse %d of them); %d records libpcap clipped to snaplen; "
           "%d records with timestamps libpcap reads as signed; both stop on an error at the same record in %d "
           "files, we stop first in %d, libpcap first in %d\n",
           xs.files, xs.cut_copies, xs.agree, xs.disagree, xs.ours_refused_lib_read, xs.lib_refused, xs.both_refused,
           xs.lib_snap_clip, xs.lib_signed_ts, xs.both_err, xs.we_stop_first, xs.lib_stops_first);
    assert_int_equal(xs.disagree, 0);
}

static int setup(void **state)
{
    (void)state;
    signal(SIGPIPE, SIG_IGN);
    return testdir_make(tmpdir, sizeof tmpdir, "ds_test_reader");
}

static int teardown(void **state)
{
    (void)state;
    return testdir_remove(tmpdir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pcap_variants),
        cmocka_unit_test(test_pcap_truncated),
        cmocka_unit_test(test_pcap_impossible),
        cmocka_unit_test(test_pcapng),
        cmocka_unit_test(test_pcapng_errors),
        cmocka_unit_test(test_containers),
        cmocka_unit_test(test_streams),
        cmocka_unit_test(test_open_errors),
        cmocka_unit_test(test_hash),
        cmocka_unit_test(test_prehash),
        cmocka_unit_test(test_open_again),
        cmocka_unit_test(test_corpus_vs_libpcap),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
