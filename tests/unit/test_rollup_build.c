/* test_rollup_build.c: the rollups built where the records are in order (core/rollup_build.c,
 * core/agg_rollup.c) against the builder over SRCSVC records (ds_rollup_add, core/rollup.c),
 * which is what darkscope wrote before: the chunks must be byte-identical.
 *
 *   batch     random sources (IPv4, IPv6, two IPv6 addresses sharing a key) with random
 *             (service, class, packets) items: one batch against the SRCSVC builder
 *   parts     the same records in two batches united by ds_rollup_merge: split by source (as
 *             --threads 2 splits them) and split with sources in both (a late packet that
 *             reopened a day, the same (service, class) in both parts)
 *   agg       packets through two aggregators with conf.rollups, sources dealt by owner as
 *             ingest's threads do, over three days and two sensors, with a late packet after
 *             its day closed (a second group for the day): every (sensor, day)'s rollup chunks,
 *             united over both aggregators and groups, against the builder over the SRCSVC
 *             records both emitted
 *   damaged   ds_rollup_merge refuses a damaged chunk with DS_EFORMAT
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/agg.h"
#include "core/classify.h"
#include "core/records.h"
#include "core/rollup.h"
#include "core/rollup_build.h"

#define NS_PER_S 1000000000ULL
#define DAY0 19539   /* 2023-07-01 */

static uint64_t rng(uint64_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

/* ---- records ------------------------------------------------------------------------------ */

typedef struct rec {
    uint32_t srcno;   /* which source: two may share an IPv6 key */
    uint64_t src;
    uint32_t service;
    uint8_t cls;
    uint32_t packets;
    char cc[2];
    uint32_t asn;
} rec;

/* n sources ascending, each with 1..maxitems distinct (service, class) items. */
static rec *gen_records(uint64_t seed, size_t nsrc, int maxitems, size_t *nrec)
{
    uint64_t x = seed;
    size_t cap = nsrc * (size_t)maxitems, n = 0;
    rec *r = calloc(cap, sizeof *r);
    assert_non_null(r);
    uint64_t key = 1000;
    for (size_t s = 0; s < nsrc; s++) {
        if (s == nsrc * 3 / 4)
            key = (1ULL << 63) + 77;   /* the last quarter: IPv6 keys */
        else if (s != nsrc * 3 / 4 + 5)   /* two IPv6 addresses with one key (a hash): the same key twice */
            key += 1 + rng(&x) % (s < nsrc * 3 / 4 ? 300000 : 1ULL << 40);
        char cc[2] = { (char)('A' + rng(&x) % 5), 'X' };
        uint32_t asn = (uint32_t)(64500 + rng(&x) % 7) + (rng(&x) % 11 == 0 ? 4000000000u : 0);   /* a few above 2^31 */
        int items = 1 + (int)(rng(&x) % (uint64_t)maxitems);
        uint32_t svc = (uint32_t)(rng(&x) % 50);
        for (int i = 0; i < items; i++) {
            svc += 1 + (uint32_t)(rng(&x) % 3000);   /* ascending, distinct: a log's order */
            uint32_t service = DS_SERVICE(i % 3 == 0 ? DS_PROTO_UDP : DS_PROTO_TCP, svc);
            uint8_t cls = (uint8_t)(rng(&x) % DS_CLASS__COUNT);
            r[n++] = (rec){ (uint32_t)s, key, service, cls, 1 + (uint32_t)(rng(&x) % 1000), { cc[0], cc[1] }, asn };
        }
    }
    *nrec = n;
    return r;
}

/* The four chunks of the SRCSVC builder over r[0, n). */
static void old_chunks(const rec *r, size_t n, uint8_t *out[4], size_t len[4])
{
    ds_rollup *x = ds_rollup_new();
    assert_non_null(x);
    for (size_t i = 0; i < n; i++) {
        ds_rec_srcsvc s = { .src = r[i].src, .service = r[i].service, .cls = r[i].cls, .packets = r[i].packets,
                            .asn = r[i].asn };
        s.cc[0] = r[i].cc[0];
        s.cc[1] = r[i].cc[1];
        uint8_t b[DS_REC_SRCSVC];
        ds_rec_srcsvc_put(b, &s);
        assert_int_equal(ds_rollup_add(x, b), 0);
    }
    ds_err err = { 0 };
    for (int d = 0; d < DS_ROLLUP__COUNT; d++)
        assert_int_equal(ds_rollup_encode(x, (ds_rollup_dim)d, &out[d], &len[d], &err), DS_OK);
    ds_rollup_free(x);
}

/* One batch over the records r[i] with keep[i] (all when keep is NULL), in their order. */
static void batch_chunks(ds_rollup_batch *b, const rec *r, size_t n, const uint8_t *keep, uint8_t *out[4], size_t len[4])
{
    ds_rollup_batch_begin(b);
    uint32_t last = UINT32_MAX;
    for (size_t i = 0; i < n; i++) {
        if (keep && !keep[i])
            continue;
        if (r[i].srcno != last)   /* a new source (two may share an IPv6 key) */
            assert_int_equal(ds_rollup_batch_source(b, r[i].src, r[i].cc, r[i].asn), 0);
        last = r[i].srcno;
        assert_int_equal(ds_rollup_batch_item(b, r[i].service, r[i].cls, r[i].packets), 0);
    }
    ds_err err = { 0 };
    assert_int_equal(ds_rollup_batch_encode(b, out, len, &err), DS_OK);
}

static void expect_same(uint8_t *a[4], size_t alen[4], uint8_t *b[4], size_t blen[4], const char *what)
{
    for (int d = 0; d < DS_ROLLUP__COUNT; d++) {
        if (alen[d] != blen[d] || memcmp(a[d], b[d], alen[d]) != 0)
            fail_msg("%s: dimension %d differs (%zu vs %zu bytes)", what, d, alen[d], blen[d]);
        free(a[d]);
        free(b[d]);
    }
}

static void test_batch(void **state)
{
    (void)state;
    size_t n;
    rec *r = gen_records(42, 20000, 12, &n);
    ds_rollup_batch *b = ds_rollup_batch_new();
    assert_non_null(b);
    uint8_t *o[4], *w[4];
    size_t ol[4], wl[4];
    old_chunks(r, n, o, ol);
    batch_chunks(b, r, n, NULL, w, wl);
    expect_same(o, ol, w, wl, "one batch");
    /* the arrays are reused: a second batch of other records */
    free(r);
    r = gen_records(7, 300, 3, &n);
    old_chunks(r, n, o, ol);
    batch_chunks(b, r, n, NULL, w, wl);
    expect_same(o, ol, w, wl, "a second batch");
    /* a descending source is a caller's bug, refused */
    ds_rollup_batch_begin(b);
    assert_int_equal(ds_rollup_batch_source(b, 10, "JP", 1), 0);
    assert_int_equal(ds_rollup_batch_source(b, 9, "JP", 1), -1);
    ds_rollup_batch_free(b);
    free(r);
}

static void merge_all(uint8_t *p[][4], size_t pl[][4], size_t np, uint8_t *out[4], size_t len[4])
{
    for (int d = 0; d < DS_ROLLUP__COUNT; d++) {
        const uint8_t *c[4];
        size_t l[4];
        for (size_t i = 0; i < np; i++) {
            c[i] = p[i][d];
            l[i] = pl[i][d];
        }
        ds_err err = { 0 };
        assert_int_equal(ds_rollup_merge((ds_rollup_dim)d, c, l, np, &out[d], &len[d], &err), DS_OK);
        for (size_t i = 0; i < np; i++)
            free(p[i][d]);
    }
}

static void test_parts(void **state)
{
    (void)state;
    size_t n;
    rec *r = gen_records(4242, 10000, 8, &n);
    ds_rollup_batch *b = ds_rollup_batch_new();
    uint8_t *keep = malloc(n);
    assert_non_null(b);
    assert_non_null(keep);
    uint8_t *o[4], *w[4], *p[2][4];
    size_t ol[4], wl[4], pl[2][4];
    /* by source, as threads own them: each part all of a source's items or none */
    for (size_t i = 0; i < n; i++)
        keep[i] = (uint8_t)((r[i].src * 0x9e3779b97f4a7c15ULL) >> 63);
    for (int k = 0; k < 2; k++) {
        for (size_t i = 0; i < n; i++)
            keep[i] ^= (uint8_t)(k == 1);
        batch_chunks(b, r, n, keep, p[k], pl[k]);
    }
    old_chunks(r, n, o, ol);
    merge_all(p, pl, 2, w, wl);
    expect_same(o, ol, w, wl, "two threads' parts");
    /* by item: a source in both parts (a late packet reopened its day), and the same (service,
     * class) counted in both (old: two SRCSVC records for it) */
    rec *r2 = malloc(2 * n * sizeof *r2);
    uint8_t *keep2 = malloc(2 * n);
    assert_non_null(r2);
    assert_non_null(keep2);
    size_t n2 = 0;
    uint64_t x = 99;
    for (size_t i = 0; i < n; i++) {
        uint64_t v = rng(&x) % 4;   /* 0: part 0, 1: part 1, 2: both */
        if (v == 3)
            v = 2;
        r2[n2] = r[i];
        keep2[n2++] = (uint8_t)(v == 2 ? 0 : v);
        if (v == 2) {
            r2[n2] = r[i];
            r2[n2].packets = 3;
            keep2[n2++] = 1;
        }
    }
    uint8_t *sel = malloc(n2);
    assert_non_null(sel);
    for (int k = 0; k < 2; k++) {
        for (size_t i = 0; i < n2; i++)
            sel[i] = keep2[i] == k;
        batch_chunks(b, r2, n2, sel, p[k], pl[k]);
    }
    old_chunks(r2, n2, o, ol);
    merge_all(p, pl, 2, w, wl);
    expect_same(o, ol, w, wl, "a day retired twice");
    /* one part: the union of one chunk is the chunk */
    batch_chunks(b, r, n, NULL, p[0], pl[0]);
    old_chunks(r, n, o, ol);
    merge_all(p, pl, 1, w, wl);
    expect_same(o, ol, w, wl, "one part");
    free(sel);
    free(keep2);
    free(r2);
    free(keep);
    ds_rollup_batch_free(b);
    free(r);
}

/* ---- through the aggregator --------------------------------------------------------------- */

static void geo_fn(void *ctx, const ds_ip *ip, char cc[2], uint32_t *asn)
{
    (void)ctx;
    uint8_t last = ip->b[ip->v6 ? 15 : 3];
    cc[0] = (char)('A' + last % 3);
    cc[1] = ip->v6 ? '6' : 'X';
    *asn = 64500u + last % 5u;
}

typedef struct piece { int sensor; int32_t day; int kind; uint8_t *c; size_t len; } piece;
typedef struct coll {
    piece *p; size_t np;
    uint8_t *srcsvc; size_t nsrcsvc;   /* records, with their (sensor, day) beside */
    int *rs; int32_t *rd;
} coll;

static ds_rc rsink(void *ctx, int sensor, int32_t day, int kind, const uint8_t *chunk, size_t len, ds_err *err)
{
    (void)err;
    coll *c = ctx;
    c->p = realloc(c->p, (c->np + 1) * sizeof *c->p);
    assert_non_null(c->p);
    uint8_t *copy = malloc(len);
    assert_non_null(copy);
    memcpy(copy, chunk, len);
    c->p[c->np++] = (piece){ sensor, day, kind, copy, len };
    return DS_OK;
}

static ds_rc ssink(void *ctx, int sensor, int32_t day, ds_chunk_kind kind, const uint8_t *data, size_t nrec,
                   ds_err *err)
{
    (void)err;
    coll *c = ctx;
    if (kind != DS_CHUNK_SRCSVC)
        return DS_OK;
    c->srcsvc = realloc(c->srcsvc, (c->nsrcsvc + nrec) * DS_REC_SRCSVC);
    c->rs = realloc(c->rs, (c->nsrcsvc + nrec) * sizeof *c->rs);
    c->rd = realloc(c->rd, (c->nsrcsvc + nrec) * sizeof *c->rd);
    assert_true(c->srcsvc && c->rs && c->rd);
    memcpy(c->srcsvc + c->nsrcsvc * DS_REC_SRCSVC, data, nrec * DS_REC_SRCSVC);
    for (size_t i = 0; i < nrec; i++) {
        c->rs[c->nsrcsvc + i] = sensor;
        c->rd[c->nsrcsvc + i] = day;
    }
    c->nsrcsvc += nrec;
    return DS_OK;
}

static ds_pkt pkt(uint64_t src, int v6, uint64_t ts_ns, uint8_t proto, uint16_t dport, uint8_t flags)
{
    ds_pkt p;
    memset(&p, 0, sizeof p);
    p.ts_ns = ts_ns;
    p.have = DS_HAVE_IP | DS_HAVE_L4;
    if (v6) {
        uint8_t b[16] = { 0x20, 0x01, 0x0d, 0xb8 };
        for (int i = 0; i < 8; i++)
            b[8 + i] = (uint8_t)(src >> (8 * i));
        memcpy(p.src.b, b, 16);
        p.src.v6 = 1;
        p.dst = p.src;
    } else {
        ds_ip_set4(&p.src, (uint32_t)src);
        ds_ip_set4(&p.dst, 0xc6336401);
    }
    p.proto = proto;
    p.ttl = 64;
    p.sport = 443;
    p.dport = dport;
    p.tcp_flags = proto == DS_PROTO_TCP ? flags : 0;
    return p;
}

static void test_agg(void **state)
{
    (void)state;
    ds_agg_conf conf = { .nsensors = 2, .geo = geo_fn, .rollups = 1 };
    ds_agg *a[2] = { ds_agg_new(&conf), ds_agg_new(&conf) };
    assert_true(a[0] && a[1]);
    uint64_t x = 777;
    const uint64_t t0 = (uint64_t)DAY0 * 86400 * NS_PER_S;
    const int npkt = 60000;
    for (int i = 0; i < npkt; i++) {
        uint64_t ts = t0 + (uint64_t)i * (3 * 86400 * NS_PER_S / (uint64_t)npkt);
        uint64_t src = 0x0a000000u + rng(&x) % 3000;
        int v6 = rng(&x) % 10 == 0;
        uint16_t port;
        uint8_t proto = DS_PROTO_TCP, flags = 0x02;   /* SYN: scan */
        switch (rng(&x) % 3) {
        case 0: port = (uint16_t)(1024 + rng(&x) % 60000); flags = 0x12; break;   /* SYN-ACK: backscatter, random port */
        case 1: port = (uint16_t)(rng(&x) % 4 ? 23 : 445); break;
        default: port = 53; proto = DS_PROTO_UDP; break;
        }
        ds_pkt p = pkt(src, v6, ts, proto, port, flags);
        int sensor = (int)(src % 2);
        int32_t day = (int32_t)(ts / NS_PER_S / 86400);
        ds_agg *to = a[(src * 0x9e3779b97f4a7c15ULL) >> 63];   /* the owner thread */
        assert_int_equal(ds_agg_packet(to, sensor, day, 0, &p, ds_service_of(&p), ds_class_of(&p)), DS_OK);
        if (i == npkt - 1) {   /* late packets: day 0 closed two days ago, and day 1 */
            for (int k = 0; k < 50; k++) {
                ds_pkt q = pkt(0x0a000000u + (uint64_t)k * 7, 0, t0 + 3600 * NS_PER_S, DS_PROTO_TCP,
                               (uint16_t)(2000 + k), 0x12);
                assert_int_equal(ds_agg_packet(a[k % 2], k % 2, DAY0, 0, &q, ds_service_of(&q), ds_class_of(&q)), DS_OK);
                q.ts_ns = t0 + 86400 * NS_PER_S + 7200 * NS_PER_S;
                assert_int_equal(ds_agg_packet(a[k % 2], k % 2, DAY0 + 1, 0, &q, ds_service_of(&q), ds_class_of(&q)),
                                 DS_OK);
            }
        }
    }
    coll c = { 0 };
    ds_err err = { 0 };
    for (int k = 0; k < 2; k++) {
        assert_int_equal(ds_agg_emit(a[k], ssink, &c, &err), DS_OK);
        assert_int_equal(ds_agg_emit_rollups(a[k], rsink, &c, &err), DS_OK);
    }
    int several = 0;
    for (int s = 0; s < 2; s++)
        for (int32_t day = DAY0; day < DAY0 + 3; day++) {
            ds_rollup *old = ds_rollup_new();
            assert_non_null(old);
            size_t nr = 0;
            for (size_t i = 0; i < c.nsrcsvc; i++)
                if (c.rs[i] == s && c.rd[i] == day) {
                    assert_int_equal(ds_rollup_add(old, c.srcsvc + i * DS_REC_SRCSVC), 0);
                    nr++;
                }
            assert_true(nr > 0);
            for (int d = 0; d < DS_ROLLUP__COUNT; d++) {
                const uint8_t *ch[8];
                size_t l[8], np = 0;
                for (size_t i = 0; i < c.np; i++)
                    if (c.p[i].sensor == s && c.p[i].day == day && c.p[i].kind == DS_ROLLUP_KIND(d)) {
                        assert_true(np < 8);
                        ch[np] = c.p[i].c;
                        l[np++] = c.p[i].len;
                    }
                assert_true(np >= 1);
                several += np > 2;   /* more than the two threads': a late packet's group */
                uint8_t *want, *got;
                size_t wl, gl;
                assert_int_equal(ds_rollup_encode(old, (ds_rollup_dim)d, &want, &wl, &err), DS_OK);
                assert_int_equal(ds_rollup_merge((ds_rollup_dim)d, ch, l, np, &got, &gl, &err), DS_OK);
                if (wl != gl || memcmp(want, got, wl) != 0)
                    fail_msg("sensor %d day %d dimension %d: %zu vs %zu bytes", s, (int)day, d, wl, gl);
                free(want);
                free(got);
            }
            ds_rollup_free(old);
        }
    assert_true(several > 0);
    for (size_t i = 0; i < c.np; i++)
        free(c.p[i].c);
    free(c.p);
    free(c.srcsvc);
    free(c.rs);
    free(c.rd);
    ds_agg_free(a[0]);
    ds_agg_free(a[1]);
}

static void test_damaged(void **state)
{
    (void)state;
    size_t n;
    rec *r = gen_records(5, 50, 4, &n);
    ds_rollup_batch *b = ds_rollup_batch_new();
    uint8_t *p[4];
    size_t pl[4];
    batch_chunks(b, r, n, NULL, p, pl);
    p[0][8] ^= 1;   /* the entry count */
    const uint8_t *c[2] = { p[0], p[0] };
    size_t l[2] = { pl[0], pl[0] };
    uint8_t *out = NULL;
    size_t len = 0;
    ds_err err = { 0 };
    assert_int_equal(ds_rollup_merge(DS_ROLLUP_SERVICE, c, l, 2, &out, &len, &err), DS_EFORMAT);
    assert_null(out);
    assert_non_null(strstr(err.msg, "rollup chunk"));
    /* the right chunk as the wrong kind */
    assert_int_equal(ds_rollup_merge(DS_ROLLUP_COUNTRY, (const uint8_t *const *)&p[2], &pl[2], 1, &out, &len, &err),
                     DS_EFORMAT);
    for (int d = 0; d < 4; d++)
        free(p[d]);
    ds_rollup_batch_free(b);
    free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_batch),
        cmocka_unit_test(test_parts),
        cmocka_unit_test(test_agg),
        cmocka_unit_test(test_damaged),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
