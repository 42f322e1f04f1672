/* test_detin.c: the detectors' inputs (core/detin.c), and the report's CROSS records (core/cross.c).
 *
 * Built: random groups of SRCSVC records (each source's records consecutive, as agg_day.c writes
 * them; scan and other classes; tool bits of the series and others; IPv4 and IPv6 keys; a few
 * countries) and of SOURCES records (services, class masks, a source twice, as a day retired in
 * two batches writes it), read back and checked against sums made here record by record: each
 * service's and country's scan-class packets without ZMap/Masscan/Nmap sources and their largest
 * record, each country's distinct sources, the tool records in order, the folded services of
 * the sources at or past DS_DETIN_VERT_MIN and the largest sum left out.  The same work arrays
 * build several groups in turn (nothing of one group may reach the next).
 * Read: a header or section damaged (magic, version, every length cut short, counts that the
 * bytes cannot hold, a set outside the sets) gives DS_EFORMAT and a message; every byte of a
 * chunk flipped gives DS_OK or DS_EFORMAT (under ASan: never a read outside the chunk).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/cross.h"
#include "core/detin.h"
#include "core/records.h"
#include "core/srcset.h"

static uint64_t rng(uint64_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

typedef struct group {
    uint8_t *svc, *src;
    size_t nsvc, nsrc;
} group;

static const char CCS[][3] = { "JP", "CN", "US", "ZZ", "BR" };

/* A group of n sources: records as agg_day.c writes them. */
static void make_group(group *g, uint64_t seed, size_t n)
{
    uint64_t x = seed;
    g->svc = malloc(n * 6 * DS_REC_SRCSVC);
    g->src = malloc((n + n / 10 + 1) * DS_REC_SOURCES);
    g->nsvc = g->nsrc = 0;
    for (size_t s = 0; s < n; s++) {
        ds_ip ip = { 0 };
        int v6 = rng(&x) % 10 == 0;
        ip.v6 = (uint8_t)v6;
        if (v6) {
            ip.b[0] = 0x20;
            ip.b[1] = 0x01;
            for (int b = 2; b < 16; b++)
                ip.b[b] = (uint8_t)rng(&x);
        } else {
            uint32_t a = (uint32_t)(rng(&x) % 5000) * 7919u;   /* repeats across groups */
            ip.b[0] = (uint8_t)(a >> 24); ip.b[1] = (uint8_t)(a >> 16); ip.b[2] = (uint8_t)(a >> 8); ip.b[3] = (uint8_t)a;
        }
        uint64_t key = ds_src_key(&ip);
        const char *cc = CCS[rng(&x) % 5];
        uint8_t tools = 0;
        switch (rng(&x) % 8) {
        case 0: tools = DS_TOOL_ZMAP; break;
        case 1: tools = DS_TOOL_MIRAI; break;
        case 2: tools = DS_TOOL_NMAP | DS_TOOL_MIRAI; break;
        default: break;
        }
        size_t k = 1 + rng(&x) % 5;
        uint8_t mask = 0;
        for (size_t j = 0; j < k; j++) {
            ds_rec_srcsvc r = { .src = key, .service = (uint32_t)(6u << 16 | (uint32_t)(rng(&x) % 40)),
                                .asn = 7, .packets = (uint32_t)(1 + rng(&x) % 1000),
                                .cls = rng(&x) % 4 ? DS_CLASS_SCAN : DS_CLASS_BACKSCATTER, .tools = tools };
            memcpy(r.cc, cc, 2);
            mask |= (uint8_t)(1u << r.cls);
            ds_rec_srcsvc_put(g->svc + g->nsvc++ * DS_REC_SRCSVC, &r);
        }
        /* SOURCES: services spread so that some sources pass DS_DETIN_VERT_MIN */
        uint32_t services = (uint32_t)(rng(&x) % 3 == 0 ? rng(&x) % 40 : rng(&x) % 4);
        ds_rec_source so = { .ip = ip, .class_mask = mask, .services = services, .packets = 1, .tools = tools };
        memcpy(so.cc, cc, 2);
        ds_rec_source_put(g->src + g->nsrc++ * DS_REC_SOURCES, &so);
        if (s % 10 == 3) {   /* a second batch of the day: the source again */
            so.services = (uint32_t)(rng(&x) % 12);
            ds_rec_source_put(g->src + g->nsrc++ * DS_REC_SOURCES, &so);
        }
    }
}

static int u64_cmp(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* The chunk of g checked against sums made here. */
static void check_group(const group *g, const uint8_t *c, size_t len)
{
    ds_err err;
    ds_detin_view v;
    assert_int_equal(ds_detin_open(c, len, &v, &err), DS_OK);
    /* services and countries */
    for (int dim = 0; dim < 2; dim++) {
        uint32_t n = dim ? v.ncc : v.nsvc, prev = 0;
        uint64_t total = 0;
        for (uint32_t i = 0; i < n; i++) {
            ds_detin_entry e;
            assert_int_equal(ds_detin_entry_get(&v, dim, i, &e, &err), DS_OK);
            assert_true(i == 0 || e.key > prev);
            prev = e.key;
            uint64_t packets = 0;
            uint32_t maxrec = 0;
            uint64_t *keys = malloc((g->nsvc + 1) * sizeof *keys);
            size_t nk = 0;
            for (size_t r = 0; r < g->nsvc; r++) {
                ds_rec_srcsvc s;
                ds_rec_srcsvc_get(g->svc + r * DS_REC_SRCSVC, &s);
                if ((s.tools & DS_DETIN_SERIES_TOOLS) || s.cls != DS_CLASS_SCAN)
                    continue;
                if ((dim ? (uint32_t)ds_cc_pack(s.cc) : s.service) != e.key)
                    continue;
                packets += s.packets;
                if (s.packets > maxrec)
                    maxrec = s.packets;
                keys[nk++] = s.src;
            }
            assert_true(packets > 0);
            assert_int_equal(e.packets, packets);
            assert_int_equal(e.maxrec, maxrec);
            total += packets;
            if (dim) {
                qsort(keys, nk, sizeof *keys, u64_cmp);
                size_t distinct = 0;
                for (size_t k = 0; k < nk; k++)
                    distinct += !k || keys[k] != keys[k - 1];
                ds_srcvec sv = { 0 };
                assert_int_equal(ds_srcset_decode(e.set, e.bytes, e.n4, e.n6, &sv, &err), DS_OK);
                assert_int_equal(sv.n4 + sv.n6, distinct);
                ds_srcvec_free(&sv);
            }
            free(keys);
        }
        uint64_t want = 0;
        for (size_t r = 0; r < g->nsvc; r++) {
            ds_rec_srcsvc s;
            ds_rec_srcsvc_get(g->svc + r * DS_REC_SRCSVC, &s);
            if (!(s.tools & DS_DETIN_SERIES_TOOLS) && s.cls == DS_CLASS_SCAN)
                want += s.packets;
        }
        assert_int_equal(total, want);   /* no counted record missing from the entries */
    }
    /* tool records: the SRCSVC records with a tool bit, in order */
    size_t t = 0;
    for (size_t r = 0; r < g->nsvc; r++)
        if (g->svc[r * DS_REC_SRCSVC + 26]) {
            assert_true(t < v.ntool);
            assert_memory_equal(v.tool + t * DS_REC_SRCSVC, g->svc + r * DS_REC_SRCSVC, DS_REC_SRCSVC);
            t++;
        }
    assert_int_equal(t, v.ntool);
    /* vertical: services folded per source (scan class), listed at DS_DETIN_VERT_MIN */
    typedef struct kv { uint64_t k; uint64_t s; } kv;
    kv *f = calloc(g->nsrc + 1, sizeof *f);
    size_t nf = 0;
    for (size_t r = 0; r < g->nsrc; r++) {
        const uint8_t *p = g->src + r * DS_REC_SOURCES;
        ds_rec_source so;
        ds_rec_source_get(p, &so);
        if (!(so.class_mask & (1u << DS_CLASS_SCAN)))
            continue;
        uint64_t k = ds_src_key(&so.ip);
        size_t i = 0;
        while (i < nf && f[i].k != k)
            i++;
        if (i == nf)
            f[nf++] = (kv){ k, 0 };
        f[i].s += so.services;
    }
    qsort(f, nf, sizeof *f, u64_cmp);   /* by key: k is the first member */
    uint32_t listed = 0, omit = 0;
    for (size_t i = 0; i < nf; i++) {
        if (f[i].s >= DS_DETIN_VERT_MIN) {
            assert_true(listed < v.nvert);
            assert_int_equal(ds_detin_vert_src(&v, listed), f[i].k);
            assert_int_equal(ds_detin_vert_services(&v, listed), f[i].s);
            listed++;
        } else if (f[i].s > omit) {
            omit = (uint32_t)f[i].s;
        }
    }
    assert_int_equal(listed, v.nvert);
    assert_int_equal(omit, v.vert_omit);
    free(f);
}

static void test_build(void **state)
{
    (void)state;
    ds_detin_work *w = ds_detin_work_new();
    assert_non_null(w);
    const size_t sizes[] = { 0, 1, 40, 700, 3000, 5 };
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        group g;
        make_group(&g, 0x9e3779b97f4a7c15ULL + i * 7, sizes[i]);
        uint8_t *c;
        size_t len;
        ds_err err;
        assert_int_equal(ds_detin_build(w, g.svc, g.nsvc, g.src, g.nsrc, &c, &len, &err), DS_OK);
        check_group(&g, c, len);
        free(c);
        free(g.svc);
        free(g.src);
    }
    ds_detin_work_free(w);
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24);
}

/* Open, then read every entry and decode every set: DS_OK or DS_EFORMAT, nothing else. */
static ds_rc read_all(const uint8_t *c, size_t len)
{
    ds_err err;
    ds_detin_view v;
    ds_rc rc = ds_detin_open(c, len, &v, &err);
    for (int dim = 0; rc == DS_OK && dim < 2; dim++)
        for (uint32_t i = 0; rc == DS_OK && i < (dim ? v.ncc : v.nsvc); i++) {
            ds_detin_entry e;
            if ((rc = ds_detin_entry_get(&v, dim, i, &e, &err)) == DS_OK && dim) {
                ds_srcvec sv = { 0 };
                rc = ds_srcset_decode(e.set, e.bytes, e.n4, e.n6, &sv, &err);
                ds_srcvec_free(&sv);
            }
        }
    if (rc != DS_OK)
        assert_true(err.msg[0] != '\0');
    return rc;
}

static void test_damaged(void **state)
{
    (void)state;
    ds_detin_work *w = ds_detin_work_new();
    group g;
    make_group(&g, 77, 60);
    uint8_t *c;
    size_t len;
    ds_err err;
    assert_int_equal(ds_detin_build(w, g.svc, g.nsvc, g.src, g.nsrc, &c, &len, &err), DS_OK);
    assert_int_equal(read_all(c, len), DS_OK);
    uint8_t *d = malloc(len);
    /* magic, version */
    memcpy(d, c, len);
    d[0] = 'X';
    assert_int_equal(read_all(d, len), DS_EFORMAT);
    memcpy(d, c, len);
    d[4] = 9;
    assert_int_equal(read_all(d, len), DS_EFORMAT);
    /* every length cut short */
    for (size_t l = 0; l < len; l++)
        assert_int_equal(read_all(c, l), DS_EFORMAT);
    /* counts the bytes cannot hold (and a count near 2^32: no overflow) */
    for (int f = 8; f <= 24; f += 4) {
        memcpy(d, c, len);
        put32(d + f, 0xffffffffu);
        assert_int_equal(read_all(d, len), DS_EFORMAT);
    }
    /* a country's set outside the sets */
    ds_detin_view v;
    assert_int_equal(ds_detin_open(c, len, &v, &err), DS_OK);
    if (v.ncc) {
        memcpy(d, c, len);
        size_t at = (size_t)(v.cc - c) + 24;
        put32(d + at, v.set_bytes + 1);
        assert_int_equal(read_all(d, len), DS_EFORMAT);
        memcpy(d, c, len);
        put32(d + at + 4, 0xffffffffu);
        assert_int_equal(read_all(d, len), DS_EFORMAT);
    }
    /* every byte flipped */
    for (size_t i = 0; i < len; i++) {
        memcpy(d, c, len);
        d[i] ^= 0x5a;
        ds_rc rc = read_all(d, len);
        assert_true(rc == DS_OK || rc == DS_EFORMAT);
    }
    free(d);
    free(c);
    free(g.svc);
    free(g.src);
    ds_detin_work_free(w);
}

/* CROSS (core/cross.c): each (service, country, class) of a group once, ascending, its packets
 * the sum of its SRCSVC records; every record in some cell. */
static void test_cross(void **state)
{
    (void)state;
    ds_cross_work *w = ds_cross_work_new();
    assert_non_null(w);
    const size_t sizes[] = { 1, 300, 0, 2000 };
    for (size_t t = 0; t < sizeof sizes / sizeof sizes[0]; t++) {
        group g;
        make_group(&g, 4242 + t, sizes[t]);
        const uint8_t *x;
        size_t n;
        assert_int_equal(ds_cross_build(w, g.svc, g.nsvc, &x, &n), 0);
        uint64_t total = 0, want = 0;
        for (size_t i = 0; i < n; i++) {
            ds_rec_cross c;
            ds_rec_cross_get(x + i * DS_REC_CROSS, &c);
            if (i) {
                ds_rec_cross p;
                ds_rec_cross_get(x + (i - 1) * DS_REC_CROSS, &p);
                uint64_t kp = (uint64_t)p.service << 32 | (uint64_t)p.cc << 16 | p.cls,
                         kc = (uint64_t)c.service << 32 | (uint64_t)c.cc << 16 | c.cls;
                assert_true(kp < kc);
            }
            uint64_t sum = 0;
            for (size_t r = 0; r < g.nsvc; r++) {
                ds_rec_srcsvc s;
                ds_rec_srcsvc_get(g.svc + r * DS_REC_SRCSVC, &s);
                if (s.service == c.service && ds_cc_pack(s.cc) == c.cc && s.cls == c.cls)
                    sum += s.packets;
            }
            assert_int_equal(c.packets, sum);
            total += c.packets;
        }
        for (size_t r = 0; r < g.nsvc; r++) {
            ds_rec_srcsvc s;
            ds_rec_srcsvc_get(g.svc + r * DS_REC_SRCSVC, &s);
            want += s.packets;
        }
        assert_int_equal(total, want);
        free(g.svc);
        free(g.src);
    }
    ds_cross_work_free(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_build),
        cmocka_unit_test(test_cross),
        cmocka_unit_test(test_damaged),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
