/* test_top.c: ranked tables over a period (src/analysis/top.c).
 *
 * A store is built through the ops table from a list of SRCSVC records the test writes itself
 * (plus SOURCES records for first/last seen), spread over several files, sensors and days.
 * Every ds_top_run result is compared, row by row, with a plain reference computed here by
 * sorting: packets per key, exact distinct sources over the whole period (a source seen on
 * several days or in several chunks counts once), share, per-IP-per-day, days per source,
 * filters (one field OR'ed, different fields AND'ed), limit, and the order of ties (more
 * packets first, then the smaller key).  A small hand-made store pins a few numbers down
 * explicitly; a random one (20 000 records) exercises the hash tables and the top-N selection.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <ftw.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "analysis/top.h"
#include "core/records.h"
#include "core/rollup.h"
#include "store/store.h"
#include "unit/testdir.h"

/* One SRCSVC record of the test store, with where it goes. */
typedef struct trec {
    int32_t day;
    int sensor;          /* index into the store's sensors */
    int file;            /* which ingest (transaction) writes it */
    ds_ip ip;
    ds_service svc;
    uint8_t cls;
    char cc[2];
    uint32_t asn;
    uint32_t packets;
} trec;

#define MAXS 4
typedef struct world {
    char dir[64], db[128];
    ds_store *st;
    int64_t sensor_id[MAXS];
    uint64_t v4[MAXS];
    int nsensors;
    trec *r;
    size_t n;
    int rollups;         /* also write each (file, sensor, day)'s rollups, as ingest does (core/rollup.h) */
} world;

static ds_ip IP(const char *s)
{
    ds_ip ip;
    if (ds_ip_parse(s, &ip) != 0)
        fail_msg("bad address %s", s);
    return ip;
}

static uint16_t CC(const char *s) { return ds_cc_pack(s); }

static ds_service SVC(const char *s)
{
    ds_service v;
    if (ds_service_parse(s, &v) != 0)
        fail_msg("bad service %s", s);
    return v;
}

/* ---- building the store ------------------------------------------------------------------ */

static int cmp_place(const void *a, const void *b)
{
    const trec *x = a, *y = b;
    if (x->file != y->file) return x->file < y->file ? -1 : 1;
    if (x->sensor != y->sensor) return x->sensor < y->sensor ? -1 : 1;
    if (x->day != y->day) return x->day < y->day ? -1 : 1;
    return 0;
}

/* Write w->r into a new store: one transaction per file, one SRCSVC chunk per (file, sensor,
 * day), and a SOURCES chunk with each source's first/last seen (first = day start + packets,
 * last = first + 1000 s, so the test can predict them). */
static void world_build(world *w, const char *const *names)
{
    assert_int_equal(testdir_make(w->dir, sizeof w->dir, "ds_test_top"), 0);
    snprintf(w->db, sizeof w->db, "%s/top.db", w->dir);
    ds_err err = { 0 };
    if (ds_store_open(&w->st, w->db, 1, &err) != DS_OK)
        fail_msg("open: %s", err.msg);
    ds_store *st = w->st;
    for (int s = 0; s < w->nsensors; s++) {
        ds_sensor_info si = { 0 };
        snprintf(si.name, sizeof si.name, "%s", names[s]);
        snprintf(si.darknet, sizeof si.darknet, "test");
        si.v4_addresses = w->v4[s];
        assert_int_equal(ds_store_sensor_upsert(st, &si, &w->sensor_id[s], &err), DS_OK);
    }
    qsort(w->r, w->n, sizeof *w->r, cmp_place);
    uint8_t *buf = malloc(w->n * DS_REC_SOURCES + 1);
    assert_non_null(buf);
    size_t i = 0;
    int file = -1;
    int64_t fid = 0;
    while (i < w->n) {
        if (w->r[i].file != file) {
            if (file >= 0)
                assert_int_equal(ds_store_commit(st, &err), DS_OK);
            file = w->r[i].file;
            ds_file_meta m = { .path = "test.pcap" };
            m.hash[0] = (uint8_t)file;
            m.hash[1] = (uint8_t)(file >> 8);
            m.hash[15] = 0xee;
            if (ds_store_begin(st, &m, &fid, &err) != DS_OK)
                fail_msg("begin: %s", err.msg);
        }
        size_t j = i;
        while (j < w->n && cmp_place(&w->r[j], &w->r[i]) == 0)
            j++;
        for (size_t k = i; k < j; k++) {
            const trec *t = &w->r[k];
            ds_rec_srcsvc r = { ds_src_key(&t->ip), t->svc, t->asn, t->packets, t->cls, { t->cc[0], t->cc[1] }, 0, 0, 0 };
            ds_rec_srcsvc_put(buf + (k - i) * DS_REC_SRCSVC, &r);
        }
        if (ds_store_put_chunk(st, fid, w->sensor_id[w->r[i].sensor], w->r[i].day, DS_CHUNK_SRCSVC, buf, j - i,
                               DS_REC_SRCSVC, &err) != DS_OK)
            fail_msg("put: %s", err.msg);
        if (w->rollups) {   /* then top ports|countries|asns answer from them (analysis/top_rollup.c) */
            ds_rollup *ru = ds_rollup_new();
            assert_non_null(ru);
            for (size_t k = i; k < j; k++)
                assert_int_equal(ds_rollup_add(ru, buf + (k - i) * DS_REC_SRCSVC), 0);
            for (int d = 0; d < DS_ROLLUP__COUNT; d++) {
                uint8_t *chunk = NULL;
                size_t len = 0;
                assert_int_equal(ds_rollup_encode(ru, (ds_rollup_dim)d, &chunk, &len, &err), DS_OK);
                if (ds_store_put_chunk(st, fid, w->sensor_id[w->r[i].sensor], w->r[i].day, DS_ROLLUP_KIND(d), chunk,
                                       len, 1, &err) != DS_OK)
                    fail_msg("put rollup: %s", err.msg);
                free(chunk);
            }
            ds_rollup_free(ru);
        }
        for (size_t k = i; k < j; k++) {
            const trec *t = &w->r[k];
            uint64_t day0 = (uint64_t)t->day * 86400 * 1000000000ULL;
            ds_rec_source o = { .ip = t->ip, .class_mask = (uint8_t)(1u << t->cls), .asn = t->asn, .packets = t->packets,
                                .first_ns = day0 + (uint64_t)t->packets * 1000000000ULL,
                                .last_ns = day0 + (uint64_t)(t->packets + 1000) * 1000000000ULL, .services = 1 };
            o.cc[0] = t->cc[0];
            o.cc[1] = t->cc[1];
            ds_rec_source_put(buf + (k - i) * DS_REC_SOURCES, &o);
        }
        if (ds_store_put_chunk(st, fid, w->sensor_id[w->r[i].sensor], w->r[i].day, DS_CHUNK_SOURCES, buf, j - i,
                               DS_REC_SOURCES, &err) != DS_OK)
            fail_msg("put: %s", err.msg);
        i = j;
    }
    if (file >= 0)
        assert_int_equal(ds_store_commit(st, &err), DS_OK);
    free(buf);
}

static void world_free(world *w)
{
    ds_store_close(w->st);
    testdir_remove(w->dir);
    free(w->r);
    free(w);
}

/* ---- the reference ------------------------------------------------------------------------- */

typedef struct item { uint64_t key, src; int32_t day; uint32_t packets; const trec *t; } item;

static int cmp_item(const void *a, const void *b)
{
    const item *x = a, *y = b;
    if (x->key != y->key) return x->key < y->key ? -1 : 1;
    if (x->src != y->src) return x->src < y->src ? -1 : 1;
    if (x->day != y->day) return x->day < y->day ? -1 : 1;
    return 0;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static int cmp_row(const void *a, const void *b)
{
    const ds_top_row *x = a, *y = b;
    if (x->packets != y->packets) return x->packets > y->packets ? -1 : 1;
    return x->key < y->key ? -1 : x->key > y->key;
}

static int ref_match(const ds_top_query *q, const trec *t)
{
    if (q->cls >= 0 && t->cls != q->cls)
        return 0;
    size_t i;
    for (i = 0; i < q->nports && q->ports[i] != t->svc; i++) {}
    if (q->nports && i == q->nports)
        return 0;
    for (i = 0; i < q->ncountries && q->countries[i] != ds_cc_pack(t->cc); i++) {}
    if (q->ncountries && i == q->ncountries)
        return 0;
    for (i = 0; i < q->nasns && q->asns[i] != t->asn; i++) {}
    if (q->nasns && i == q->nasns)
        return 0;
    return 1;
}

static void reference(const world *w, const ds_top_query *q, ds_top_result *res)
{
    memset(res, 0, sizeof *res);
    item *it = calloc(w->n + 1, sizeof *it);
    uint64_t *srcs = calloc(w->n + 1, sizeof *srcs);
    res->rows = calloc(w->n + 1, sizeof *res->rows);
    assert_true(it && srcs && res->rows);
    size_t n = 0;
    for (size_t i = 0; i < w->n; i++) {
        const trec *t = &w->r[i];
        if (t->day < q->from || t->day > q->to || (q->sensor_id && w->sensor_id[t->sensor] != q->sensor_id) ||
            !ref_match(q, t))
            continue;
        uint64_t src = ds_src_key(&t->ip);
        uint64_t key = q->dim == DS_TOP_PORTS ? t->svc : q->dim == DS_TOP_COUNTRIES ? ds_cc_pack(t->cc)
                     : q->dim == DS_TOP_ASNS ? t->asn : src;
        it[n] = (item){ key, src, t->day, t->packets, t };
        srcs[n] = src;
        res->total_packets += t->packets;
        n++;
    }
    qsort(srcs, n, sizeof *srcs, cmp_u64);
    for (size_t i = 0; i < n; i++)
        res->total_sources += !i || srcs[i] != srcs[i - 1];
    qsort(it, n, sizeof *it, cmp_item);
    for (size_t i = 0; i < n;) {
        ds_top_row *r = &res->rows[res->n++];
        r->key = it[i].key;
        size_t j = i;
        for (; j < n && it[j].key == it[i].key; j++) {
            r->packets += it[j].packets;
            r->sources += j == i || it[j].src != it[j - 1].src;
            r->days += j == i || it[j].src != it[j - 1].src || it[j].day != it[j - 1].day;
        }
        if (q->dim == DS_TOP_SOURCES) {
            r->sources = 1;
            r->ip = it[i].t->ip;
        } else {
            r->days = 0;
        }
        i = j;
    }
    for (int s = 0; s < w->nsensors; s++)
        if (!q->sensor_id || w->sensor_id[s] == q->sensor_id)
            res->addresses += w->v4[s];
    res->days = q->to - q->from + 1;
    qsort(res->rows, res->n, sizeof *res->rows, cmp_row);
    if (q->limit && res->n > q->limit)
        res->n = q->limit;
    double denom = (double)res->addresses * res->days;
    for (size_t i = 0; i < res->n; i++) {
        ds_top_row *r = &res->rows[i];
        r->share = res->total_packets ? (double)r->packets / (double)res->total_packets : 0;
        r->per_ip_per_day = denom > 0 ? r->packets / denom : 0;
        if (q->dim == DS_TOP_SOURCES) {
            /* first/last seen: over the source's SOURCES records in the period and sensor */
            for (size_t k = 0; k < w->n; k++) {
                const trec *t = &w->r[k];
                if (t->day < q->from || t->day > q->to || (q->sensor_id && w->sensor_id[t->sensor] != q->sensor_id) ||
                    ds_src_key(&t->ip) != r->key)
                    continue;
                uint64_t day0 = (uint64_t)t->day * 86400 * 1000000000ULL;
                uint64_t first = day0 + (uint64_t)t->packets * 1000000000ULL, last = first + 1000 * 1000000000ULL;
                if (!r->first_ns || first < r->first_ns)
                    r->first_ns = first;
                if (last > r->last_ns)
                    r->last_ns = last;
            }
        }
    }
    free(it);
    free(srcs);
}

static const char *dim_name(ds_top_dim d)
{
    return d == DS_TOP_PORTS ? "ports" : d == DS_TOP_COUNTRIES ? "countries" : d == DS_TOP_ASNS ? "asns" : "sources";
}

/* Run q on the store and compare with the reference, row by row. */
static void check(const world *w, const ds_top_query *q, const char *what)
{
    ds_top_result got, want;
    ds_err err = { 0 };
    ds_rc rc = ds_top_run(w->st, q, &got, &err);
    if (rc != DS_OK)
        fail_msg("%s: ds_top_run: %s", what, err.msg);
    reference(w, q, &want);
    const char *dn = dim_name(q->dim);
    if (got.total_packets != want.total_packets || got.total_sources != want.total_sources ||
        got.addresses != want.addresses || got.days != want.days || got.n != want.n)
        fail_msg("%s (%s): totals %llu pk %llu src %llu addr %d days %zu rows; expected %llu %llu %llu %d %zu", what, dn,
                 (unsigned long long)got.total_packets, (unsigned long long)got.total_sources,
                 (unsigned long long)got.addresses, got.days, got.n, (unsigned long long)want.total_packets,
                 (unsigned long long)want.total_sources, (unsigned long long)want.addresses, want.days, want.n);
    for (size_t i = 0; i < want.n; i++) {
        const ds_top_row *g = &got.rows[i], *e = &want.rows[i];
        if (g->key != e->key || g->packets != e->packets || g->sources != e->sources || g->days != e->days)
            fail_msg("%s (%s) row %zu: key %llx packets %llu sources %llu days %u; expected %llx %llu %llu %u", what, dn, i,
                     (unsigned long long)g->key, (unsigned long long)g->packets, (unsigned long long)g->sources, g->days,
                     (unsigned long long)e->key, (unsigned long long)e->packets, (unsigned long long)e->sources, e->days);
        if (fabs(g->share - e->share) > 1e-12 || fabs(g->per_ip_per_day - e->per_ip_per_day) > 1e-12 * (1 + e->per_ip_per_day))
            fail_msg("%s (%s) row %zu: share %g per-ip-day %g; expected %g %g", what, dn, i, g->share, g->per_ip_per_day,
                     e->share, e->per_ip_per_day);
        if (q->dim == DS_TOP_SOURCES) {
            if (!ds_ip_eq(&g->ip, &e->ip) || g->first_ns != e->first_ns || g->last_ns != e->last_ns)
                fail_msg("%s (sources) row %zu: address or first/last seen differ (%llu..%llu, expected %llu..%llu)", what, i,
                         (unsigned long long)g->first_ns, (unsigned long long)g->last_ns,
                         (unsigned long long)e->first_ns, (unsigned long long)e->last_ns);
            /* country and ASN of the row are those of its records */
            for (size_t k = 0; k < w->n; k++)
                if (ds_src_key(&w->r[k].ip) == g->key) {
                    assert_int_equal(g->asn, w->r[k].asn);
                    assert_memory_equal(g->cc, w->r[k].cc, 2);
                    break;
                }
        }
    }
    ds_top_result_free(&got);
    ds_top_result_free(&want);
    assert_null(got.rows);
}

static ds_top_query query(ds_top_dim dim, int32_t from, int32_t to)
{
    ds_top_query q;
    memset(&q, 0, sizeof q);
    q.dim = dim;
    q.from = from;
    q.to = to;
    q.cls = -1;
    return q;
}

/* ---- the small, hand-made store --------------------------------------------------------- */

enum { D1 = 19600, D2, D3 };

static int setup_small(void **state)
{
    static const struct { int32_t day; int sensor, file; const char *ip, *svc; uint8_t cls; const char *cc; uint32_t asn, pk; } rows[] = {
        { D1, 0, 1, "1.1.1.1", "23/tcp", DS_CLASS_SCAN, "CN", 4134, 100 },
        { D1, 0, 1, "1.1.1.1", "2323/tcp", DS_CLASS_SCAN, "CN", 4134, 10 },
        { D1, 0, 1, "2.2.2.2", "23/tcp", DS_CLASS_SCAN, "RU", 12389, 50 },
        { D1, 0, 1, "2.2.2.2", "80/tcp", DS_CLASS_BACKSCATTER, "RU", 12389, 5 },
        { D1, 0, 1, "3.3.3.3", "445/tcp", DS_CLASS_SCAN, "US", 7922, 30 },
        { D1, 0, 1, "5.5.5.5", "53/udp", DS_CLASS_SCAN, "US", 7922, 10 },    /* ties 2323/tcp */
        { D2, 0, 1, "1.1.1.1", "23/tcp", DS_CLASS_SCAN, "CN", 4134, 40 },
        { D2, 0, 1, "4.4.4.4", "23/tcp", DS_CLASS_SCAN, "CN", 4837, 60 },
        { D2, 0, 1, "2001:db8::1", "128/icmp6", DS_CLASS_SCAN, "JP", 2497, 7 },
        { D2, 0, 1, "2001:db8::2", "23/tcp", DS_CLASS_SCAN, "JP", 2497, 1 },
        { D2, 1, 1, "2.2.2.2", "22/tcp", DS_CLASS_SCAN, "RU", 12389, 20 },
        { D3, 0, 2, "1.1.1.1", "23/tcp", DS_CLASS_SCAN, "CN", 4134, 5 },     /* another file */
        { D3, 0, 2, "3.3.3.3", "445/tcp", DS_CLASS_SCAN, "US", 7922, 1 },    /* split over two records */
        { D3, 0, 2, "3.3.3.3", "445/tcp", DS_CLASS_SCAN, "US", 7922, 1 },
        { D1 - 1, 0, 2, "9.9.9.9", "23/tcp", DS_CLASS_SCAN, "DE", 3320, 1000 }, /* before the period */
        { D3 + 1, 1, 2, "9.9.9.9", "23/tcp", DS_CLASS_SCAN, "DE", 3320, 1000 }, /* after it */
    };
    world *w = calloc(1, sizeof *w);
    assert_non_null(w);
    w->n = sizeof rows / sizeof rows[0];
    w->r = calloc(w->n, sizeof *w->r);
    assert_non_null(w->r);
    for (size_t i = 0; i < w->n; i++) {
        trec *t = &w->r[i];
        t->day = rows[i].day;
        t->sensor = rows[i].sensor;
        t->file = rows[i].file;
        t->ip = IP(rows[i].ip);
        t->svc = SVC(rows[i].svc);
        t->cls = rows[i].cls;
        t->cc[0] = rows[i].cc[0];
        t->cc[1] = rows[i].cc[1];
        t->asn = rows[i].asn;
        t->packets = rows[i].pk;
    }
    w->nsensors = 2;
    w->v4[0] = 256;
    w->v4[1] = 512;
    static const char *const names[] = { "alpha", "bravo" };
    world_build(w, names);
    *state = w;
    return 0;
}

static int teardown_world(void **state)
{
    world_free(*state);
    return 0;
}

static ds_top_result run(const world *w, const ds_top_query *q)
{
    ds_top_result r;
    ds_err err = { 0 };
    if (ds_top_run(w->st, q, &r, &err) != DS_OK)
        fail_msg("ds_top_run: %s", err.msg);
    return r;
}

static void test_small_ports(void **state)
{
    world *w = *state;
    ds_top_query q = query(DS_TOP_PORTS, D1, D3);
    ds_top_result r = run(w, &q);
    /* 23/tcp 100+50+40+60+1+5 from 1.1.1.1 (three days, two files: once), 2.2.2.2, 4.4.4.4 and
     * 2001:db8::2; then 445/tcp (32), 22/tcp (20), the tie 2323/tcp = 53/udp = 10 (smaller key
     * first: tcp is protocol 6, udp 17), 128/icmp6 (7), 80/tcp (5) */
    assert_int_equal(r.n, 7);
    assert_int_equal(r.total_packets, 256 + 32 + 20 + 10 + 10 + 7 + 5);
    assert_int_equal(r.total_sources, 7);
    assert_int_equal(r.addresses, 768);
    assert_int_equal(r.days, 3);
    static const char *const order[] = { "23/tcp", "445/tcp", "22/tcp", "2323/tcp", "53/udp", "128/icmp6", "80/tcp" };
    static const uint64_t pk[] = { 256, 32, 20, 10, 10, 7, 5 }, src[] = { 4, 1, 1, 1, 1, 1, 1 };
    for (size_t i = 0; i < 7; i++) {
        char buf[32];
        assert_string_equal(ds_top_key_format(DS_TOP_PORTS, &r.rows[i], buf, sizeof buf), order[i]);
        assert_int_equal(r.rows[i].packets, pk[i]);
        assert_int_equal(r.rows[i].sources, src[i]);
    }
    assert_true(fabs(r.rows[0].share - 256.0 / 340.0) < 1e-12);
    assert_true(fabs(r.rows[0].per_ip_per_day - 256.0 / (768.0 * 3)) < 1e-12);
    ds_top_result_free(&r);
    check(w, &q, "ports");
    /* limit cuts inside the tie: 2323/tcp stays, 53/udp goes; totals are still the period's */
    q.limit = 4;
    r = run(w, &q);
    assert_int_equal(r.n, 4);
    assert_int_equal(r.rows[3].key, SVC("2323/tcp"));
    assert_int_equal(r.total_packets, 340);
    ds_top_result_free(&r);
    check(w, &q, "ports limit 4");
    q.limit = 1;
    check(w, &q, "ports limit 1");
    q.limit = 100;
    check(w, &q, "ports limit 100");
}

static void test_small_countries_asns(void **state)
{
    world *w = *state;
    ds_top_query q = query(DS_TOP_COUNTRIES, D1, D3);
    ds_top_result r = run(w, &q);
    assert_int_equal(r.n, 4);
    char buf[8];
    assert_string_equal(ds_top_key_format(DS_TOP_COUNTRIES, &r.rows[0], buf, sizeof buf), "CN");
    assert_int_equal(r.rows[0].packets, 215);
    assert_int_equal(r.rows[0].sources, 2);
    assert_string_equal(ds_top_key_format(DS_TOP_COUNTRIES, &r.rows[1], buf, sizeof buf), "RU");
    assert_int_equal(r.rows[1].packets, 75);
    assert_int_equal(r.rows[1].sources, 1);
    assert_string_equal(ds_top_key_format(DS_TOP_COUNTRIES, &r.rows[2], buf, sizeof buf), "US");
    assert_int_equal(r.rows[2].packets, 42);
    assert_int_equal(r.rows[2].sources, 2);
    assert_string_equal(ds_top_key_format(DS_TOP_COUNTRIES, &r.rows[3], buf, sizeof buf), "JP");
    assert_int_equal(r.rows[3].sources, 2);   /* two IPv6 sources */
    ds_top_result_free(&r);
    check(w, &q, "countries");
    q.dim = DS_TOP_ASNS;
    r = run(w, &q);
    assert_int_equal(r.n, 5);
    assert_int_equal(r.rows[0].key, 4134);
    assert_int_equal(r.rows[0].packets, 155);
    assert_string_equal(ds_top_key_format(DS_TOP_ASNS, &r.rows[0], buf, sizeof buf), "4134");
    ds_top_result_free(&r);
    check(w, &q, "asns");
}

static void test_small_sources(void **state)
{
    world *w = *state;
    ds_top_query q = query(DS_TOP_SOURCES, D1, D3);
    ds_top_result r = run(w, &q);
    assert_int_equal(r.n, 7);
    char buf[64];
    assert_string_equal(ds_top_key_format(DS_TOP_SOURCES, &r.rows[0], buf, sizeof buf), "1.1.1.1");
    assert_int_equal(r.rows[0].packets, 155);
    assert_int_equal(r.rows[0].days, 3);
    assert_int_equal(r.rows[0].asn, 4134);
    assert_int_equal(r.rows[0].first_ns, (uint64_t)D1 * 86400000000000ULL + 10 * 1000000000ULL);
    assert_int_equal(r.rows[0].last_ns, (uint64_t)D3 * 86400000000000ULL + 1005 * 1000000000ULL);
    assert_string_equal(ds_top_key_format(DS_TOP_SOURCES, &r.rows[1], buf, sizeof buf), "2.2.2.2");
    assert_int_equal(r.rows[1].days, 2);      /* D1 on alpha and D2 on bravo */
    /* 3.3.3.3: 30 + 1 + 1 over D1 and D3 */
    assert_string_equal(ds_top_key_format(DS_TOP_SOURCES, &r.rows[3], buf, sizeof buf), "3.3.3.3");
    assert_int_equal(r.rows[3].packets, 32);
    assert_int_equal(r.rows[3].days, 2);
    /* the IPv6 sources come back with their addresses */
    assert_string_equal(ds_top_key_format(DS_TOP_SOURCES, &r.rows[5], buf, sizeof buf), "2001:db8::1");
    assert_string_equal(ds_top_key_format(DS_TOP_SOURCES, &r.rows[6], buf, sizeof buf), "2001:db8::2");
    ds_top_result_free(&r);
    check(w, &q, "sources");
    q.limit = 2;
    check(w, &q, "sources limit 2");
}

static void test_small_filters(void **state)
{
    world *w = *state;
    ds_top_query q = query(DS_TOP_PORTS, D1, D3);
    /* class */
    q.cls = DS_CLASS_BACKSCATTER;
    ds_top_result r = run(w, &q);
    assert_int_equal(r.n, 1);
    assert_int_equal(r.rows[0].key, SVC("80/tcp"));
    assert_int_equal(r.total_packets, 5);
    assert_true(r.rows[0].share == 1.0);
    ds_top_result_free(&r);
    check(w, &q, "class backscatter");
    q.cls = DS_CLASS_OTHER;
    check(w, &q, "class other (nothing)");
    q.cls = -1;
    /* countries OR'ed */
    q.countries[q.ncountries++] = CC("CN");
    q.countries[q.ncountries++] = CC("RU");
    r = run(w, &q);
    assert_int_equal(r.total_packets, 155 + 60 + 75);
    assert_int_equal(r.rows[0].key, SVC("23/tcp"));
    assert_int_equal(r.rows[0].packets, 255);
    assert_int_equal(r.rows[0].sources, 3);
    ds_top_result_free(&r);
    check(w, &q, "CN or RU");
    /* AND a port: 23/tcp from CN or RU, by country */
    q.ports[q.nports++] = SVC("23/tcp");
    q.dim = DS_TOP_COUNTRIES;
    r = run(w, &q);
    assert_int_equal(r.n, 2);
    assert_int_equal(r.rows[0].key, CC("CN"));
    assert_int_equal(r.rows[0].packets, 205);
    assert_int_equal(r.rows[1].key, CC("RU"));
    assert_int_equal(r.rows[1].packets, 50);
    assert_int_equal(r.total_sources, 3);
    ds_top_result_free(&r);
    check(w, &q, "23/tcp and (CN or RU)");
    /* two ports OR'ed, AND one country, AND an ASN */
    q.ports[q.nports++] = SVC("2323/tcp");
    q.ncountries = 1;
    q.countries[0] = CC("CN");
    q.asns[q.nasns++] = 4134;
    q.dim = DS_TOP_PORTS;
    r = run(w, &q);
    assert_int_equal(r.n, 2);
    assert_int_equal(r.total_packets, 155);
    ds_top_result_free(&r);
    check(w, &q, "(23 or 2323) and CN and AS4134");
    q.dim = DS_TOP_SOURCES;
    check(w, &q, "sources, filtered");
    /* a filter nothing matches */
    q.asns[0] = 1;
    r = run(w, &q);
    assert_int_equal(r.n, 0);
    assert_int_equal(r.total_packets, 0);
    ds_top_result_free(&r);
}

static void test_small_sensor_and_days(void **state)
{
    world *w = *state;
    ds_top_query q = query(DS_TOP_PORTS, D1, D3);
    q.sensor_id = w->sensor_id[1];
    ds_top_result r = run(w, &q);
    assert_int_equal(r.n, 1);
    assert_int_equal(r.rows[0].key, SVC("22/tcp"));
    assert_int_equal(r.addresses, 512);
    assert_true(fabs(r.rows[0].per_ip_per_day - 20.0 / (512.0 * 3)) < 1e-12);
    ds_top_result_free(&r);
    for (int dim = DS_TOP_PORTS; dim <= DS_TOP_SOURCES; dim++) {
        q = query((ds_top_dim)dim, D1, D3);
        for (int s = 0; s < 2; s++) {
            q.sensor_id = w->sensor_id[s];
            check(w, &q, "one sensor");
        }
        q.sensor_id = 0;
        q.from = q.to = D2;
        check(w, &q, "one day");
        q.from = D1 - 1;
        q.to = D3 + 1;
        check(w, &q, "the whole store");
        q.from = D3 + 10;
        q.to = D3 + 20;
        check(w, &q, "an empty period");
    }
}

/* ---- a random store ---------------------------------------------------------------------- */

static uint64_t rng(uint64_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

static int setup_random(void **state)
{
    world *w = calloc(1, sizeof *w);
    assert_non_null(w);
    w->n = 20000;
    w->rollups = 1;   /* the small store has none: both of top's paths are checked against the reference */
    w->r = calloc(w->n, sizeof *w->r);
    assert_non_null(w->r);
    static const char *const ccs[] = { "CN", "US", "RU", "BR", "IN", "NL", "DE", "ZZ" };
    static const uint32_t asns[] = { 4134, 4837, 7922, 12389, 16509, 14061, 0, 9808, 3462, 45090 };
    uint64_t x = 88172645463325252ULL;
    for (size_t i = 0; i < w->n; i++) {
        trec *t = &w->r[i];
        t->day = D1 + (int32_t)(rng(&x) % 40);   /* 40 days: long enough for top to split them between threads */
        t->sensor = (int)(rng(&x) % 3);
        t->file = (int)(rng(&x) % 4);
        uint32_t s = (uint32_t)(rng(&x) % 600);
        if (s < 40) {
            t->ip = IP("2001:db8::");
            t->ip.b[14] = (uint8_t)(s >> 8);
            t->ip.b[15] = (uint8_t)s;
        } else {
            ds_ip_set4(&t->ip, 0x2d000000u + s * 7919u);
        }
        /* a source keeps its country and ASN */
        t->cc[0] = ccs[s % 8][0];
        t->cc[1] = ccs[s % 8][1];
        t->asn = asns[s % 10];
        uint64_t k = rng(&x) % 100;
        if (k < 40)
            t->svc = DS_SERVICE(DS_PROTO_TCP, (uint16_t)(k % 8 == 0 ? 23 : 1 + rng(&x) % 65535));
        else if (k < 60)
            t->svc = DS_SERVICE(DS_PROTO_UDP, (uint16_t)(rng(&x) % 40));
        else if (k < 70)
            t->svc = DS_SERVICE(DS_PROTO_ICMP, (uint16_t)(rng(&x) % 4 * 4));
        else if (k < 75)
            t->svc = DS_SERVICE(DS_PROTO_ICMP6, 128);
        else if (k < 80)
            t->svc = DS_SERVICE((uint8_t)(40 + rng(&x) % 10), 0);   /* other protocols */
        else
            t->svc = DS_SERVICE(DS_PROTO_TCP, (uint16_t)(rng(&x) % 30));
        t->cls = (uint8_t)(rng(&x) % 3);
        t->packets = (uint32_t)(1 + rng(&x) % (k < 5 ? 100000 : 50));
    }
    w->nsensors = 3;
    w->v4[0] = 256;
    w->v4[1] = 65536;
    w->v4[2] = 0;
    static const char *const names[] = { "a", "b", "c" };
    world_build(w, names);
    *state = w;
    return 0;
}

static void test_random_against_reference(void **state)
{
    world *w = *state;
    static const size_t limits[] = { 0, 1, 3, 10, 1000 };
    for (int dim = DS_TOP_PORTS; dim <= DS_TOP_SOURCES; dim++) {
        for (int variant = 0; variant < 7; variant++) {
            ds_top_query q = query((ds_top_dim)dim, D1, D1 + 39);
            switch (variant) {
            case 1: q.cls = DS_CLASS_SCAN; break;
            case 2: q.countries[0] = CC("CN"); q.countries[1] = CC("RU"); q.ncountries = 2; break;
            case 3: q.ports[0] = DS_SERVICE(DS_PROTO_TCP, 23); q.nports = 1; q.countries[0] = CC("US"); q.ncountries = 1; break;
            case 4: q.asns[0] = 4134; q.asns[1] = 0; q.nasns = 2; q.cls = DS_CLASS_OTHER; break;
            case 5: q.sensor_id = w->sensor_id[1]; q.from = D1 + 1; q.to = D1 + 3; break;
            case 6: q.sensor_id = w->sensor_id[2]; q.ports[0] = DS_SERVICE(DS_PROTO_ICMP6, 128);
                    q.ports[1] = DS_SERVICE(45, 0); q.nports = 2; break;
            }
            for (size_t l = 0; l < sizeof limits / sizeof limits[0]; l++) {
                q.limit = limits[l];
                char what[64];
                snprintf(what, sizeof what, "variant %d limit %zu", variant, limits[l]);
                check(w, &q, what);
            }
        }
    }
}

int main(void)
{
    const struct CMUnitTest small[] = {
        cmocka_unit_test(test_small_ports),
        cmocka_unit_test(test_small_countries_asns),
        cmocka_unit_test(test_small_sources),
        cmocka_unit_test(test_small_filters),
        cmocka_unit_test(test_small_sensor_and_days),
    };
    const struct CMUnitTest random[] = {
        cmocka_unit_test(test_random_against_reference),
    };
    int failed = cmocka_run_group_tests_name("small store", small, setup_small, teardown_world);
    failed += cmocka_run_group_tests_name("random store", random, setup_random, teardown_world);
    return failed;
}
