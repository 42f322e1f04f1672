/* test_rollup.c: source sets (core/srcset.c) and rollup chunks (core/rollup.c).
 *
 * Sets: normalizing (sort, repeats dropped: the radix sort above 64 values, insertion below),
 * encode/decode round trips with IPv4, 0.0.0.0, the largest IPv4 key and IPv6 keys, and damaged
 * encodings, each refused with DS_EFORMAT and a message: a varint cut short, one too long,
 * a value not above the one before, a value past the range, bytes left over, counts that the
 * bytes cannot hold.  Chunks: a built rollup read back entry by entry against counts made here,
 * every header and entry field damaged in turn, and every byte of a chunk flipped and every
 * length cut, each giving DS_OK or DS_EFORMAT (under ASan: never a read outside the chunk).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/records.h"
#include "core/rollup.h"
#include "core/srcset.h"

static uint64_t rng(uint64_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

static void test_normalize(void **state)
{
    (void)state;
    ds_srcvec v = { 0 };
    uint64_t x = 12345;
    /* 5000 values from a range of 3000: repeats for sure; count them with a bitmap */
    static uint8_t seen[3000];
    memset(seen, 0, sizeof seen);
    size_t distinct = 0;
    for (int i = 0; i < 5000; i++) {
        uint32_t k = (uint32_t)(rng(&x) % 3000);
        uint64_t key = k < 2990 ? (uint64_t)k * 1431655u : (1ULL << 63) + k;   /* a few IPv6 keys */
        distinct += !seen[k];
        seen[k] = 1;
        assert_int_equal(ds_srcvec_add(&v, key), 0);
    }
    assert_int_equal(ds_srcvec_distinct(&v), (int64_t)distinct);
    for (size_t i = 1; i < v.n4; i++)
        assert_true(v.v4[i - 1] < v.v4[i]);
    for (size_t i = 1; i < v.n6; i++)
        assert_true(v.v6[i - 1] < v.v6[i]);
    /* small: insertion sort */
    ds_srcvec_clear(&v);
    const uint64_t few[] = { 9, 3, 3, 0, UINT32_MAX, 9, 1 };
    for (size_t i = 0; i < sizeof few / sizeof few[0]; i++)
        assert_int_equal(ds_srcvec_add(&v, few[i]), 0);
    assert_int_equal(ds_srcvec_distinct(&v), 5);
    assert_int_equal(v.v4[0], 0);
    assert_int_equal(v.v4[4], UINT32_MAX);
    ds_srcvec_free(&v);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* ds_sort_u64 (cube.c's (cell, source) items) against qsort: full 64-bit values, values that
 * differ only in some digits (skipped passes, including the top digit's 9 bits), all equal, one */
static void test_sort_u64(void **state)
{
    (void)state;
    enum { N = 20000 };
    static uint64_t v[N], ref[N], tmp[N];
    uint64_t x = 777;
    const uint64_t masks[] = { UINT64_MAX, 0xffffffffull, 0xffull << 40 | 0xfff, 0x7ffull << 53, 0 };
    for (size_t m = 0; m < sizeof masks / sizeof masks[0]; m++)
        for (size_t n = 0; n <= N; n = n ? n * 10 : 1) {
            for (size_t i = 0; i < n; i++)
                v[i] = ref[i] = (rng(&x) & masks[m]) | 0x100000000ull;
            ds_sort_u64(v, tmp, n);
            qsort(ref, n, sizeof *ref, cmp_u64);
            assert_memory_equal(v, ref, n * sizeof *v);
        }
}

static void test_roundtrip(void **state)
{
    (void)state;
    ds_srcvec v = { 0 }, back = { 0 };
    const uint64_t keys[] = { 0, 1, 2, 0x7f, 0x80, 0x4000, UINT32_MAX - 1, UINT32_MAX,
                              1ULL << 63, (1ULL << 63) + 1, UINT64_MAX - 1, UINT64_MAX };
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        assert_int_equal(ds_srcvec_add(&v, keys[i]), 0);
    uint64_t x = 99;
    for (int i = 0; i < 1000; i++)
        assert_int_equal(ds_srcvec_add(&v, rng(&x) & 0xffffffffu), 0);
    assert_int_equal(ds_srcvec_normalize(&v), 0);
    size_t len = ds_srcset_encoded_size(&v);
    uint8_t *buf = malloc(len);
    assert_non_null(buf);
    assert_int_equal(ds_srcset_encode(&v, buf), len);
    ds_err err = { 0 };
    assert_int_equal(ds_srcset_decode(buf, len, (uint32_t)v.n4, (uint32_t)v.n6, &back, &err), DS_OK);
    assert_int_equal(back.n4, v.n4);
    assert_int_equal(back.n6, v.n6);
    assert_memory_equal(back.v4, v.v4, v.n4 * sizeof *v.v4);
    assert_memory_equal(back.v6, v.v6, v.n6 * sizeof *v.v6);
    /* appended after what is there: a union */
    assert_int_equal(ds_srcset_decode(buf, len, (uint32_t)v.n4, (uint32_t)v.n6, &back, &err), DS_OK);
    assert_int_equal(back.n4, 2 * v.n4);
    assert_int_equal(ds_srcvec_distinct(&back), (int64_t)(v.n4 + v.n6));
    /* wrong counts: fewer sources leave bytes over, more run past the end */
    assert_int_equal(ds_srcset_decode(buf, len, (uint32_t)v.n4 - 1, (uint32_t)v.n6, &back, &err), DS_EFORMAT);
    assert_int_equal(ds_srcset_decode(buf, len, (uint32_t)v.n4, (uint32_t)v.n6 + 1, &back, &err), DS_EFORMAT);
    free(buf);
    ds_srcvec_free(&v);
    ds_srcvec_free(&back);
}

/* A union of decoded sets large enough to be counted run by run (srcset.c runs_distinct) counts
 * what sorting counts. */
static void test_union_of_runs(void **state)
{
    (void)state;
    ds_srcvec u = { 0 }, ref = { 0 };
    ds_err err = { 0 };
    uint64_t x = 777;
    for (int day = 0; day < 12; day++) {
        ds_srcvec d = { 0 };
        for (int i = 0; i < 20000; i++) {   /* overlapping days: values from a range of 150,000 */
            uint64_t k = (rng(&x) % 150000) * 28631;
            assert_int_equal(ds_srcvec_add(&d, k), 0);
            assert_int_equal(ds_srcvec_add(&ref, k), 0);
        }
        assert_int_equal(ds_srcvec_add(&d, (1ULL << 63) + (uint64_t)day % 3), 0);   /* IPv6 too */
        assert_int_equal(ds_srcvec_add(&ref, (1ULL << 63) + (uint64_t)day % 3), 0);
        assert_int_equal(ds_srcvec_normalize(&d), 0);
        size_t len = ds_srcset_encoded_size(&d);
        uint8_t *b = malloc(len);
        assert_non_null(b);
        ds_srcset_encode(&d, b);
        assert_int_equal(ds_srcset_decode(b, len, (uint32_t)d.n4, (uint32_t)d.n6, &u, &err), DS_OK);
        free(b);
        ds_srcvec_free(&d);
    }
    assert_int_equal(u.nruns, 12);
    assert_false(u.mixed);
    int64_t want = ds_srcvec_distinct(&ref);
    assert_true(want > 65536);
    assert_int_equal(ds_srcvec_distinct(&u), want);
    ds_srcvec_free(&u);
    ds_srcvec_free(&ref);
}

/* Many runs (a quarter's daily sets of two sensors) over the whole IPv4 range, with values on
 * both sides of runs_distinct's block edges (multiples of 2^20), 0 and UINT32_MAX: counted as
 * sorting counts them. */
static void test_union_of_many_runs(void **state)
{
    (void)state;
    ds_srcvec u = { 0 }, ref = { 0 };
    ds_err err = { 0 };
    uint64_t x = 991;
    for (int day = 0; day < 182; day++) {
        ds_srcvec d = { 0 };
        for (int i = 0; i < 1500; i++) {
            uint64_t k;
            switch (i % 4) {
            case 0: k = rng(&x) & 0xffffffffu; break;                               /* anywhere */
            case 1: k = ((rng(&x) % 4096) << 20) + (rng(&x) % 3) - 1; break;       /* at a block edge */
            case 2: k = (rng(&x) % 3000) * 1431655; break;                          /* shared by days */
            default: k = i % 8 ? 0xffffffffu - rng(&x) % 5 : rng(&x) % 5; break;   /* the ends */
            }
            k &= 0xffffffffu;
            assert_int_equal(ds_srcvec_add(&d, k), 0);
            assert_int_equal(ds_srcvec_add(&ref, k), 0);
        }
        assert_int_equal(ds_srcvec_normalize(&d), 0);
        size_t len = ds_srcset_encoded_size(&d);
        uint8_t *b = malloc(len);
        assert_non_null(b);
        ds_srcset_encode(&d, b);
        assert_int_equal(ds_srcset_decode(b, len, (uint32_t)d.n4, (uint32_t)d.n6, &u, &err), DS_OK);
        free(b);
        ds_srcvec_free(&d);
    }
    assert_int_equal(u.nruns, 182);
    int64_t want = ds_srcvec_distinct(&ref);
    assert_true(want > 65536);
    assert_int_equal(ds_srcvec_distinct(&u), want);
    ds_srcvec_free(&u);
    ds_srcvec_free(&ref);
}

/* Unions of decoded sets as a month's merge makes them (1 to 31 sets of 1 to 5,000 sources,
 * overlapping), made sets by merging their runs (srcset.c merge_runs), equal the same keys added
 * one by one and sorted. */
static void test_normalize_runs(void **state)
{
    (void)state;
    ds_err err = { 0 };
    uint64_t x = 4242;
    for (int round = 0; round < 200; round++) {
        ds_srcvec u = { 0 }, ref = { 0 };
        int nsets = 1 + (int)(rng(&x) % 31);
        uint64_t range = 1 + rng(&x) % 20000;
        for (int k = 0; k < nsets; k++) {
            ds_srcvec d = { 0 };
            int n = 1 + (int)(rng(&x) % (round < 100 ? 40 : 5000));
            for (int i = 0; i < n; i++) {
                uint64_t key = (rng(&x) % range) * 214013u;
                assert_int_equal(ds_srcvec_add(&d, key), 0);
                assert_int_equal(ds_srcvec_add(&ref, key), 0);
            }
            assert_int_equal(ds_srcvec_normalize(&d), 0);
            size_t len = ds_srcset_encoded_size(&d);
            uint8_t *b = malloc(len ? len : 1);
            assert_non_null(b);
            ds_srcset_encode(&d, b);
            assert_int_equal(ds_srcset_decode(b, len, (uint32_t)d.n4, (uint32_t)d.n6, &u, &err), DS_OK);
            free(b);
            ds_srcvec_free(&d);
        }
        assert_false(u.mixed);
        assert_int_equal(ds_srcvec_normalize(&u), 0);
        assert_int_equal(ds_srcvec_normalize(&ref), 0);
        assert_int_equal(u.n4, ref.n4);
        assert_memory_equal(u.v4, ref.v4, ref.n4 * sizeof *ref.v4);
        ds_srcvec_free(&u);
        ds_srcvec_free(&ref);
    }
}

static ds_rc dec(const uint8_t *p, size_t len, uint32_t n4, uint32_t n6, ds_err *err)
{
    ds_srcvec v = { 0 };
    ds_rc rc = ds_srcset_decode(p, len, n4, n6, &v, err);
    ds_srcvec_free(&v);
    return rc;
}

static void test_damaged_sets(void **state)
{
    (void)state;
    ds_err err = { 0 };
    const uint8_t cut[] = { 0x80 };                          /* continuation with nothing after */
    assert_int_equal(dec(cut, 1, 1, 0, &err), DS_EFORMAT);
    assert_non_null(strstr(err.msg, "cut short"));
    const uint8_t big4[] = { 0xff, 0xff, 0xff, 0xff, 0x1f }; /* 2^35 - 1: past 32 bits */
    assert_int_equal(dec(big4, 5, 1, 0, &err), DS_EFORMAT);
    const uint8_t sum4[] = { 0xff, 0xff, 0xff, 0xff, 0x0f, 0x01 };   /* UINT32_MAX, then + 1 */
    assert_int_equal(dec(sum4, 6, 2, 0, &err), DS_EFORMAT);
    assert_non_null(strstr(err.msg, "not above"));
    const uint8_t same[] = { 0x05, 0x00 };                    /* 5, then 5 again */
    assert_int_equal(dec(same, 2, 2, 0, &err), DS_EFORMAT);
    assert_non_null(strstr(err.msg, "not above"));
    const uint8_t over[] = { 0x05, 0x01, 0x01 };              /* two values, a byte left */
    assert_int_equal(dec(over, 3, 2, 0, &err), DS_EFORMAT);
    assert_non_null(strstr(err.msg, "left over"));
    const uint8_t longv[] = { 0x80, 0x80, 0x80, 0x80, 0x80, 0x80 };  /* never ends within 5 bytes */
    assert_int_equal(dec(longv, 6, 1, 0, &err), DS_EFORMAT);
    /* IPv6: the first from 2^63; a difference that wraps past 2^64 */
    const uint8_t wrap6[] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 0x01 };
    assert_int_equal(dec(wrap6, 10, 0, 2, &err), DS_EFORMAT);
    /* counts no bytes could hold: refused before any memory is asked for */
    assert_int_equal(dec(same, 2, UINT32_MAX, UINT32_MAX, &err), DS_EFORMAT);
    assert_non_null(strstr(err.msg, "cannot fit"));
    assert_int_equal(dec(NULL, 0, 0, 0, &err), DS_OK);        /* the empty set */
}

/* A rollup of records made here, and the same counts kept by hand. */
typedef struct want { uint32_t key; uint8_t cls; uint64_t packets; uint64_t srcs[64]; size_t n; } want;

static void want_add(want *w, size_t *nw, uint32_t key, uint8_t cls, uint32_t packets, uint64_t src)
{
    size_t i = 0;
    while (i < *nw && !(w[i].key == key && w[i].cls == cls))
        i++;
    if (i == *nw) {
        memset(&w[i], 0, sizeof w[i]);
        w[i].key = key;
        w[i].cls = cls;
        (*nw)++;
    }
    w[i].packets += packets;
    for (size_t k = 0; k < w[i].n; k++)
        if (w[i].srcs[k] == src)
            return;
    w[i].srcs[w[i].n++] = src;
}

static uint8_t *build(ds_rollup_dim dim, size_t *len, want *w, size_t *nw)
{
    ds_rollup *r = ds_rollup_new();
    assert_non_null(r);
    uint64_t x = 4242;
    *nw = 0;
    for (int i = 0; i < 200; i++) {
        ds_ip ip;
        uint32_t s = (uint32_t)(rng(&x) % 40);
        if (s < 5) {
            memset(&ip, 0, sizeof ip);
            ip.v6 = 1;
            ip.b[0] = 0x20;
            ip.b[15] = (uint8_t)s;
        } else {
            ds_ip_set4(&ip, 0x01020300u + s * 4099u);
        }
        static const char cc[][2] = { { 'C', 'N' }, { 'U', 'S' }, { 'Z', 'Z' } };
        ds_rec_srcsvc rec = { ds_src_key(&ip), DS_SERVICE(DS_PROTO_TCP, (uint32_t)(rng(&x) % 5) * 1000 + 22),
                              (uint32_t)(rng(&x) % 4), (uint32_t)(rng(&x) % 9 + 1), (uint8_t)(rng(&x) % 3),
                              { cc[s % 3][0], cc[s % 3][1] }, 0, 0, 0 };
        uint8_t p[DS_REC_SRCSVC];
        ds_rec_srcsvc_put(p, &rec);
        assert_int_equal(ds_rollup_add(r, p), 0);
        uint32_t key = dim == DS_ROLLUP_SERVICE ? rec.service : dim == DS_ROLLUP_COUNTRY ? ds_cc_pack(rec.cc)
                     : dim == DS_ROLLUP_ASN ? rec.asn : 0;
        want_add(w, nw, key, rec.cls, rec.packets, rec.src);
    }
    uint8_t *chunk = NULL;
    ds_err err = { 0 };
    assert_int_equal(ds_rollup_encode(r, dim, &chunk, len, &err), DS_OK);
    ds_rollup_free(r);
    return chunk;
}

static void test_chunk_roundtrip(void **state)
{
    (void)state;
    for (int dim = 0; dim < DS_ROLLUP__COUNT; dim++) {
        want w[64];
        size_t nw = 0, len = 0;
        uint8_t *chunk = build((ds_rollup_dim)dim, &len, w, &nw);
        ds_rollup_view v;
        ds_err err = { 0 };
        assert_int_equal(ds_rollup_open(chunk, len, DS_ROLLUP_KIND(dim), &v, &err), DS_OK);
        assert_int_equal(v.n, nw);
        for (uint32_t i = 0; i < v.n; i++) {
            ds_rollup_entry e;
            ds_rollup_get(&v, i, &e);
            size_t k = 0;
            while (k < nw && !(w[k].key == e.key && w[k].cls == e.cls))
                k++;
            assert_true(k < nw);
            assert_int_equal(e.packets, w[k].packets);
            assert_int_equal(e.n4 + e.n6, w[k].n);
            ds_srcvec s = { 0 };
            assert_int_equal(ds_srcset_decode(e.set, e.set_len, e.n4, e.n6, &s, &err), DS_OK);
            for (size_t m = 0; m < w[k].n; m++) {
                int found = 0;
                for (size_t q = 0; q < s.n4; q++)
                    found |= s.v4[q] == w[k].srcs[m];
                for (size_t q = 0; q < s.n6; q++)
                    found |= s.v6[q] == w[k].srcs[m];
                assert_true(found);
            }
            ds_srcvec_free(&s);
        }
        /* a chunk of one dimension is not one of another */
        assert_int_equal(ds_rollup_open(chunk, len, DS_ROLLUP_KIND((dim + 1) % DS_ROLLUP__COUNT), &v, &err), DS_EFORMAT);
        assert_non_null(strstr(err.msg, "dimension"));
        free(chunk);
    }
}

/* Open the chunk and decode every set: DS_OK or DS_EFORMAT, nothing else. */
static ds_rc read_all(const uint8_t *p, size_t len, int kind, ds_err *err)
{
    ds_rollup_view v;
    ds_rc rc = ds_rollup_open(p, len, kind, &v, err);
    for (uint32_t i = 0; rc == DS_OK && i < v.n; i++) {
        ds_rollup_entry e;
        ds_rollup_get(&v, i, &e);
        rc = dec(e.set, e.set_len, e.n4, e.n6, err);
    }
    return rc;
}

static void put32le(uint8_t *p, uint32_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24); }

static void test_damaged_chunks(void **state)
{
    (void)state;
    want w[64];
    size_t nw = 0, len = 0;
    uint8_t *chunk = build(DS_ROLLUP_SERVICE, &len, w, &nw);
    uint8_t *c = malloc(len);
    assert_non_null(c);
    ds_err err = { 0 };
    const int kind = DS_CHUNK_ROLLUP_SERVICE;
    struct { size_t off; uint8_t val; const char *msg; } field[] = {
        { 0, 'X', "header" }, { 4, 2, "version" }, { 5, 1, "dimension" }, { 8, 0xff, "do not make" },
        { 12, 0xff, "do not make" },
        { DS_ROLLUP_HEADER + 4, 7, "class" }, { DS_ROLLUP_HEADER + 5, 1, "class" },
        { DS_ROLLUP_HEADER + DS_ROLLUP_ENTRY + 24, 0x7f, "expected at" },
        { DS_ROLLUP_HEADER + 28, 0x00, "sources in" },
    };
    for (size_t i = 0; i < sizeof field / sizeof field[0]; i++) {
        memcpy(c, chunk, len);
        c[field[i].off] = field[i].val;
        assert_int_equal(read_all(c, len, kind, &err), DS_EFORMAT);
        if (!strstr(err.msg, field[i].msg))
            fail_msg("field at %zu: message '%s' lacks '%s'", field[i].off, err.msg, field[i].msg);
    }
    /* entries out of order: the second made equal to the first */
    memcpy(c, chunk, len);
    memcpy(c + DS_ROLLUP_HEADER + DS_ROLLUP_ENTRY, c + DS_ROLLUP_HEADER, 8);
    assert_int_equal(read_all(c, len, kind, &err), DS_EFORMAT);
    /* more sources than bytes */
    memcpy(c, chunk, len);
    put32le(c + DS_ROLLUP_HEADER + 16, 1000000);
    assert_int_equal(read_all(c, len, kind, &err), DS_EFORMAT);
    assert_int_equal(read_all(chunk, len, DS_CHUNK_SRCSVC, &err), DS_EINVAL);
    /* every length cut short, every byte flipped: refused or read, never outside the chunk */
    for (size_t cutlen = 0; cutlen < len; cutlen++) {
        uint8_t *t = malloc(cutlen ? cutlen : 1);   /* exactly cutlen bytes, for ASan */
        assert_non_null(t);
        memcpy(t, chunk, cutlen);
        assert_int_equal(read_all(t, cutlen, kind, &err), DS_EFORMAT);
        free(t);
    }
    size_t bad = 0;
    for (size_t i = 0; i < len; i++) {
        for (int bit = 0; bit < 8; bit++) {
            memcpy(c, chunk, len);
            c[i] ^= (uint8_t)(1u << bit);
            ds_rc rc = read_all(c, len, kind, &err);
            assert_true(rc == DS_OK || rc == DS_EFORMAT);
            bad += rc != DS_OK;
        }
    }
    assert_true(bad > len);   /* most flips are caught (a packet count's are not: nothing to check) */
    free(c);
    free(chunk);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_normalize),
        cmocka_unit_test(test_sort_u64),
        cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_damaged_sets),
        cmocka_unit_test(test_union_of_runs),
        cmocka_unit_test(test_union_of_many_runs),
        cmocka_unit_test(test_normalize_runs),
        cmocka_unit_test(test_chunk_roundtrip),
        cmocka_unit_test(test_damaged_chunks),
    };
    return cmocka_run_group_tests_name("rollup", tests, NULL, NULL);
}
