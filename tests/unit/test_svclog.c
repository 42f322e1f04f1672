/* test_svclog.c: the (source, service, class) log of a day (src/core/svclog.c).
 *
 * Streams of packets go through ds_svclog_add and ds_svclog_reduce, and the result is checked
 * against a plain reference: every packet kept, sorted with qsort, folded by key.  The cases:
 * random keys with a log so small that it is reduced in place again and again (partial
 * reductions merged with the part reduced before), a million packets over a few thousand keys
 * (the log's array must stay bounded by the keys, not the packets), the source-port rule (kept
 * only when every packet of a key had the same port, whatever the order and however the packets
 * were split between the cache, partial reductions and the final one), the radix sort on keys
 * that differ only in high digits, and reuse after clear.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/svclog.h"

typedef struct pk { uint64_t key; int sport; } pk;

static uint64_t rng = 88172645463325252ULL;
static uint64_t xorshift(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static int cmp_pk(const void *x, const void *y)
{
    const pk *a = x, *b = y;
    return a->key < b->key ? -1 : a->key > b->key;
}

/* The reference: packets sorted by key and counted one by one, as the hash table before did; a
 * key keeps its port when every packet had that same port (which does not depend on the order
 * qsort leaves equal keys in). */
typedef struct ref { uint64_t key, packets; int first_sport, mixed; } ref;

static size_t reference(const pk *in, size_t n, ref *out)
{
    pk *s = malloc(n * sizeof *s);
    assert_non_null(s);
    memcpy(s, in, n * sizeof *s);
    qsort(s, n, sizeof *s, cmp_pk);
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (m && out[m - 1].key == s[i].key) {
            out[m - 1].packets++;
            if (s[i].sport != out[m - 1].first_sport)
                out[m - 1].mixed = 1;
        } else {
            out[m++] = (ref){ s[i].key, 1, s[i].sport, 0 };
        }
    }
    free(s);
    return m;
}

/* Feed the packets, reduce, and compare with the reference. */
static void check(ds_svclog *l, const pk *in, size_t n)
{
    for (size_t i = 0; i < n; i++)
        assert_int_equal(ds_svclog_add(l, in[i].key, in[i].sport), 0);
    assert_int_equal(ds_svclog_reduce(l), 0);
    ref *r = malloc((n + 1) * sizeof *r);
    assert_non_null(r);
    size_t m = reference(in, n, r);
    assert_int_equal(l->n, m);
    for (size_t i = 0; i < m; i++) {
        const ds_svc_item *it = &l->v[i];
        assert_true(it->key == r[i].key);
        assert_true(it->packets == r[i].packets);
        int one = r[i].first_sport >= 0 && !r[i].mixed;
        assert_int_equal(it->has_port && !it->mixed, one);
        if (one)
            assert_int_equal(it->sport, r[i].first_sport);
    }
    free(r);
}

/* Random keys of 300 sources, ports and classes; the log starts at 64 items, so it is reduced in
 * place again and again, and the reduced part is merged with each new run. */
static void test_partial_reductions(void **state)
{
    (void)state;
    enum { N = 200000 };
    pk *in = malloc(N * sizeof *in);
    assert_non_null(in);
    for (size_t i = 0; i < N; i++) {
        uint64_t x = xorshift();
        uint32_t src = (uint32_t)(x % 300);
        uint32_t port = (uint32_t)(x >> 20) % (i & 1 ? 40000u : 50u);   /* half random ports, half a few */
        unsigned cls = (unsigned)(x >> 40) % 3;
        in[i].key = ds_svc_key(src, (6u << 16) | port, cls);
        in[i].sport = (x >> 50) % 4 == 0 ? -1 : (int)((x >> 52) % 3);
    }
    ds_svclog l;
    assert_int_equal(ds_svclog_init(&l, 64), 0);
    check(&l, in, N);
    assert_true(l.spills >= 10);   /* the array doubled from 64 items, one reduction at each size */
    free(in);
    ds_svclog_free(&l);
}

/* A million packets cycling over 5,000 keys (more than the combining cache holds, so nearly
 * every packet is appended): the log's array follows the keys, not the packets. */
static void test_memory_bounded(void **state)
{
    (void)state;
    enum { N = 1000000, KEYS = 5000 };
    pk *in = malloc(N * sizeof *in);
    assert_non_null(in);
    for (size_t i = 0; i < N; i++) {
        uint32_t k = (uint32_t)((i * 7919) % KEYS);
        in[i].key = ds_svc_key(k / 10, (17u << 16) | (k % 10) * 1000, 0);
        in[i].sport = 53;
    }
    ds_svclog l;
    assert_int_equal(ds_svclog_init(&l, 64), 0);
    check(&l, in, N);
    assert_int_equal(l.n, KEYS);
    for (size_t i = 0; i < l.n; i++) {
        assert_true(l.v[i].packets == N / KEYS);
        assert_true(l.v[i].has_port && !l.v[i].mixed && l.v[i].sport == 53);
    }
    assert_true(l.cap <= 4 * KEYS);   /* at most about twice the keys, rounded up to a power of two */
    assert_true(ds_svclog_memory(&l) < (size_t)N * sizeof(ds_svc_item) / 10);
    assert_true(l.spills > 10);
    free(in);
    ds_svclog_free(&l);
}

/* The source port: kept only when every packet of the key had the same one.  Each pattern is
 * fed packet by packet with partial reductions between the packets (the log holds 64 items and
 * other keys fill it), and the answer must not depend on where the splits fell. */
static void test_source_port_rule(void **state)
{
    (void)state;
    static const int pat[][4] = {
        { 40000, 40000, 40000, 40000 },   /* one port: kept */
        { 40000, 40000, 40001, 40000 },   /* one differs: mixed */
        { -1, -1, -1, -1 },               /* no port (ICMP): none */
        { 40000, -1, 40000, 40000 },      /* one without: mixed */
        { -1, 40000, 40000, 40000 },      /* the first without: mixed */
        { 0, 0, 0, 0 },                   /* port 0 is a port */
    };
    for (size_t p = 0; p < sizeof pat / sizeof pat[0]; p++) {
        for (int filler = 0; filler <= 3000; filler += 1500) {
            ds_svclog l;
            assert_int_equal(ds_svclog_init(&l, 64), 0);
            pk in[4 + 3000];
            size_t n = 0;
            uint64_t key = ds_svc_key(7, (6u << 16) | 443, 1);
            for (int k = 0; k < 4; k++) {
                in[n++] = (pk){ key, pat[p][k] };
                for (int f = 0; f < filler / 4; f++)   /* other keys, so the cache evicts and the log spills */
                    in[n++] = (pk){ ds_svc_key(8 + (uint32_t)f, (17u << 16) | (uint32_t)(k * 1000 + f), 0), 5 };
            }
            check(&l, in, n);
            ds_svclog_free(&l);
        }
    }
}

/* Keys that differ only in their top digits (source indexes up to 2^30) and only in their
 * bottom one (the class): the digit passes the sort skips must not be the ones that matter. */
static void test_radix_digits(void **state)
{
    (void)state;
    enum { N = 50000 };
    pk *in = malloc(N * sizeof *in);
    assert_non_null(in);
    for (size_t i = 0; i < N; i++) {
        uint64_t x = xorshift();
        uint32_t src = i % 3 == 0 ? (uint32_t)(x >> 34) : (uint32_t)(x % 4) << 28;
        in[i].key = ds_svc_key(src, i % 5 == 0 ? (uint32_t)(x >> 8) & 0xffffffu : 6u << 16 | 23, (unsigned)(x >> 60) % 3);
        in[i].sport = 1;
    }
    ds_svclog l;
    assert_int_equal(ds_svclog_init(&l, 1000), 0);
    check(&l, in, N);
    for (size_t i = 1; i < l.n; i++)
        assert_true(l.v[i - 1].key < l.v[i].key);
    free(in);
    ds_svclog_free(&l);
}

/* Cleared and used again (a slab kept for a later day): nothing of the first day remains. */
static void test_reuse(void **state)
{
    (void)state;
    ds_svclog l;
    assert_int_equal(ds_svclog_init(&l, 64), 0);
    pk a[500], b[300];
    for (size_t i = 0; i < 500; i++)
        a[i] = (pk){ ds_svc_key((uint32_t)i % 17, (6u << 16) | (uint32_t)i, 1), 80 };
    for (size_t i = 0; i < 300; i++)
        b[i] = (pk){ ds_svc_key((uint32_t)i % 5, (17u << 16) | (uint32_t)(i % 7), 0), -1 };
    check(&l, a, 500);
    ds_svclog_clear(&l);
    check(&l, b, 300);
    ds_svclog_clear(&l);
    assert_int_equal(ds_svclog_reduce(&l), 0);   /* an empty day */
    assert_int_equal(l.n, 0);
    ds_svclog_free(&l);
}

/* Saturation: a count folded past 2^46 - 1 stays there, as the hash table's did. */
static void test_saturation(void **state)
{
    (void)state;
    ds_svc_item x = { .key = 1, .packets = DS_SVC_PACKETS_MAX - 1, .has_port = 1, .sport = 9 };
    ds_svc_item y = { .key = 1, .packets = 5, .has_port = 1, .sport = 9 };
    ds_svc_fold(&x, &y);
    assert_true(x.packets == DS_SVC_PACKETS_MAX);
    assert_false(x.mixed);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_partial_reductions),
        cmocka_unit_test(test_memory_bounded),
        cmocka_unit_test(test_source_port_rule),
        cmocka_unit_test(test_radix_digits),
        cmocka_unit_test(test_reuse),
        cmocka_unit_test(test_saturation),
    };
    return cmocka_run_group_tests(tests, 0, NULL);
}
