/* test_report_model.c: the report model (src/report/model.c), the cube under it
 * (src/analysis/cube.c) and research-scanner lists (src/analysis/research.c).
 *
 * A small store is written by hand so that every number of the report can be predicted:
 *
 *   Q2 2023 (91 days)  23/tcp 100 from 1.1.1.1 (CN)   80/tcp 50 from 2.2.2.2 (US)   445/tcp 10 from 3.3.3.3 (US)
 *   Q3 2023 (92 days)  23/tcp 60+60 from 1.1.1.1 (CN, on Jul 1 and Jul 2)   8080/tcp 40 from 4.4.4.4 (JP, new)
 *                      80/tcp 20 from 2.2.2.2 (US)
 *
 * so in Q3: 23/tcp ranks 1 (was 1, +20, +20%), 8080/tcp 2 (new, +40), 80/tcp 3 (was 2, -30, -60%);
 * increase ranks 8080 then 23; decrease ranks 80 then 445 (not shown).
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

#include "analysis/cube.h"
#include "analysis/research.h"
#include "analysis/source_rows.h"
#include "analysis/top.h"
#include "core/records.h"
#include "report/model.h"
#include "store/store.h"
#include "unit/testdir.h"

static int32_t D(int y, int m, int d)
{
    /* days from civil (Howard Hinnant's algorithm) */
    y -= m <= 2;
    const int era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (unsigned)(m + (m > 2 ? -3 : 9)) + 2) / 5 + (unsigned)d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int32_t)doe - 719468;
}

typedef struct rec { int32_t day; const char *ip, *svc, *cc; uint32_t asn, packets; } rec;

static const rec RECS[] = {
    { 0, "1.1.1.1", "23/tcp", "CN", 4134, 100 },   /* day 0: filled in with 2023-05-01 */
    { 0, "2.2.2.2", "80/tcp", "US", 7018, 50 },
    { 0, "3.3.3.3", "445/tcp", "US", 7018, 10 },
    { 1, "1.1.1.1", "23/tcp", "CN", 4134, 60 },    /* day 1: 2023-07-01 */
    { 2, "1.1.1.1", "23/tcp", "CN", 4134, 60 },    /* day 2: 2023-07-02 */
    { 1, "4.4.4.4", "8080/tcp", "JP", 2914, 40 },
    { 2, "2.2.2.2", "80/tcp", "US", 7018, 20 },
};

typedef struct world { char dir[64], db[128]; ds_store *st; } world;

static int32_t day_of(int k) { return k == 0 ? D(2023, 5, 1) : k == 1 ? D(2023, 7, 1) : D(2023, 7, 2); }

static int setup(void **state)
{
    world *w = calloc(1, sizeof *w);
    ds_err err = { 0 };
    assert_int_equal(testdir_make(w->dir, sizeof w->dir, "ds_test_rep"), 0);
    snprintf(w->db, sizeof w->db, "%s/r.db", w->dir);
    assert_int_equal(ds_store_open(&w->st, w->db, 1, &err), DS_OK);
    ds_store *st = w->st;
    ds_sensor_info si = { .v4_addresses = 256 };
    snprintf(si.name, sizeof si.name, "s1");
    snprintf(si.darknet, sizeof si.darknet, "192.0.2.0/24");
    int64_t sid;
    assert_int_equal(ds_store_sensor_upsert(st, &si, &sid, &err), DS_OK);
    ds_file_meta m = { .path = "t.pcap" };
    int64_t fid;
    assert_int_equal(ds_store_begin(st, &m, &fid, &err), DS_OK);
    for (int k = 0; k < 3; k++) {
        uint8_t sv[8 * DS_REC_SRCSVC], so[8 * DS_REC_SOURCES];
        size_t n = 0;
        for (size_t i = 0; i < sizeof RECS / sizeof RECS[0]; i++) {
            if (RECS[i].day != k)
                continue;
            ds_ip ip;
            ds_service svc;
            assert_int_equal(ds_ip_parse(RECS[i].ip, &ip), 0);
            assert_int_equal(ds_service_parse(RECS[i].svc, &svc), 0);
            ds_rec_srcsvc r = { ds_src_key(&ip), svc, RECS[i].asn, RECS[i].packets, DS_CLASS_SCAN,
                                { RECS[i].cc[0], RECS[i].cc[1] }, 1, 6000, 0 };
            ds_rec_srcsvc_put(sv + n * DS_REC_SRCSVC, &r);
            uint64_t t0 = (uint64_t)day_of(k) * 86400 * 1000000000ULL;
            ds_rec_source o = { .ip = ip, .cc = { RECS[i].cc[0], RECS[i].cc[1] }, .class_mask = 1, .asn = RECS[i].asn,
                                .packets = RECS[i].packets, .first_ns = t0, .last_ns = t0 + 1, .services = 1 };
            ds_rec_source_put(so + n * DS_REC_SOURCES, &o);
            n++;
        }
        assert_int_equal(ds_store_put_chunk(st, fid, sid, day_of(k), DS_CHUNK_SRCSVC, sv, n, DS_REC_SRCSVC, &err), DS_OK);
        assert_int_equal(ds_store_put_chunk(st, fid, sid, day_of(k), DS_CHUNK_SOURCES, so, n, DS_REC_SOURCES, &err), DS_OK);
    }
    assert_int_equal(ds_store_commit(st, &err), DS_OK);
    *state = w;
    return 0;
}

static int teardown(void **state)
{
    world *w = *state;
    ds_store_close(w->st);
    testdir_remove(w->dir);
    free(w);
    return 0;
}

static ds_service S(const char *s)
{
    ds_service v;
    assert_int_equal(ds_service_parse(s, &v), 0);
    return v;
}

static void test_cube(void **state)
{
    world *w = *state;
    ds_err err = { 0 };
    ds_cube c;
    ds_cube_query q = { .from = D(2023, 7, 1), .to = D(2023, 9, 30), .a = DS_CUBE_SERVICE, .b = DS_CUBE_DAY, .sources = 1,
                        .total_sources = 1 };
    ds_filter_init(&q.filter);
    assert_int_equal(ds_cube_run(w->st, &q, &c, &err), DS_OK);
    assert_int_equal(c.total_packets, 180);
    assert_int_equal(c.total_sources, 3);
    assert_int_equal(c.n, 4);   /* 23 x2 days, 80, 8080 */
    const ds_cube_cell *x = ds_cube_get(&c, S("23/tcp"), (uint32_t)D(2023, 7, 2));
    assert_non_null(x);
    assert_int_equal(x->packets, 60);
    assert_int_equal(x->sources, 1);
    assert_null(ds_cube_get(&c, S("445/tcp"), (uint32_t)D(2023, 7, 2)));
    for (size_t i = 1; i < c.n; i++)   /* sorted */
        assert_true(((uint64_t)c.cells[i - 1].a << 32 | c.cells[i - 1].b) < ((uint64_t)c.cells[i].a << 32 | c.cells[i].b));
    ds_cube_free(&c);

    /* a filter on country, collapsed to one cell */
    q.a = DS_CUBE_NONE;
    q.b = DS_CUBE_NONE;
    q.filter.countries[q.filter.ncountries++] = ds_cc_pack("US");
    assert_int_equal(ds_cube_run(w->st, &q, &c, &err), DS_OK);
    assert_int_equal(c.n, 1);
    assert_int_equal(c.cells[0].packets, 20);
    ds_cube_free(&c);

    /* the period's distinct sources only when asked (a set of every source costs) */
    q.total_sources = 0;
    assert_int_equal(ds_cube_run(w->st, &q, &c, &err), DS_OK);
    assert_int_equal(c.total_packets, 20);
    assert_int_equal(c.total_sources, 0);
    ds_cube_free(&c);

    /* several queries in one pass: each result is what it gives alone */
    ds_cube_query m[3] = { q, q, q };
    ds_cube mc[3], one;
    m[0].filter.ncountries = 0;
    m[0].a = DS_CUBE_SERVICE;
    m[0].b = DS_CUBE_DAY;
    m[0].total_sources = 1;
    m[1].a = DS_CUBE_COUNTRY;
    m[1].filter.ncountries = 0;
    m[2].a = DS_CUBE_SPORT;
    assert_int_equal(ds_cube_run_many(w->st, m, mc, 3, &err), DS_OK);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(ds_cube_run(w->st, &m[i], &one, &err), DS_OK);
        assert_int_equal(mc[i].n, one.n);
        assert_int_equal(mc[i].total_packets, one.total_packets);
        assert_int_equal(mc[i].total_sources, one.total_sources);
        assert_memory_equal(mc[i].cells, one.cells, one.n * sizeof *one.cells);
        ds_cube_free(&one);
        ds_cube_free(&mc[i]);
    }
    assert_int_equal(mc[0].n, 0);   /* freed */
    /* ... and they must cover the same days */
    m[1].from++;
    assert_int_equal(ds_cube_run_many(w->st, m, mc, 3, &err), DS_EINVAL);

    /* an empty period is an error, not a silent zero */
    q.from = q.to + 1;
    assert_int_equal(ds_cube_run(w->st, &q, &c, &err), DS_EINVAL);
}


/* ---- the query interface (store/query.h): an engine's own answers, and the chunk code's ---- */

static int fake_calls[3];

static ds_rc fake_top(ds_store *s, const ds_top_query *q, ds_top_result *res, ds_err *err)
{
    (void)s; (void)q; (void)err;
    fake_calls[0]++;
    memset(res, 0, sizeof *res);
    res->rows = calloc(1, sizeof *res->rows);
    res->n = 1;
    res->rows[0].key = 4242;
    res->total_packets = 7;
    return DS_OK;
}

static ds_rc fake_source_rows(ds_store *s, int32_t from, int32_t to, int64_t sensor_id, const ds_source_query *qs,
                              size_t nq, ds_top_result *res, ds_err *err)
{
    (void)s; (void)from; (void)to; (void)sensor_id; (void)qs; (void)err;
    fake_calls[2]++;
    for (size_t k = 0; k < nq; k++)
        memset(&res[k], 0, sizeof res[k]);
    return DS_OK;
}

static void test_query_pushdown(void **state)
{
    world *w = *state;
    ds_err err = { 0 };
    const ds_store_ops *orig = w->st->ops;
    static ds_store_query_ops fake;
    static ds_store_ops engine;
    fake = (ds_store_query_ops){ .top = fake_top, .source_rows = fake_source_rows };   /* no cube of its own */
    engine = *orig;
    engine.query = &fake;

    ds_top_query tq = { .dim = DS_TOP_PORTS, .from = D(2023, 7, 1), .to = D(2023, 9, 30), .cls = -1 };
    ds_cube_query cq = { .from = D(2023, 7, 1), .to = D(2023, 9, 30), .a = DS_CUBE_SERVICE, .sources = 1,
                         .total_sources = 1 };
    ds_filter_init(&cq.filter);
    ds_top_result chunk_top, eng_top;
    ds_cube chunk_cube, eng_cube;
    assert_int_equal(ds_top_run(w->st, &tq, &chunk_top, &err), DS_OK);
    assert_int_equal(ds_cube_run(w->st, &cq, &chunk_cube, &err), DS_OK);
    assert_int_equal(fake_calls[0] + fake_calls[1] + fake_calls[2], 0);

    w->st->ops = &engine;
    /* the engine's top answers, not the chunks' */
    assert_int_equal(ds_top_run(w->st, &tq, &eng_top, &err), DS_OK);
    assert_int_equal(fake_calls[0], 1);
    assert_int_equal(eng_top.n, 1);
    assert_int_equal(eng_top.rows[0].key, 4242);
    assert_true(chunk_top.n == 3 && chunk_top.rows[0].key != 4242);
    /* no cube of its own: the chunk code answers through the engine's scan, the same cells */
    assert_int_equal(ds_cube_run(w->st, &cq, &eng_cube, &err), DS_OK);
    assert_int_equal(eng_cube.n, chunk_cube.n);
    assert_int_equal(eng_cube.total_sources, chunk_cube.total_sources);
    assert_memory_equal(eng_cube.cells, chunk_cube.cells, chunk_cube.n * sizeof *chunk_cube.cells);
    /* source rows: the engine's */
    ds_source_query sq = { .limit = 5 };
    ds_filter_init(&sq.filter);
    ds_top_result sr;
    assert_int_equal(ds_source_rows(w->st, D(2023, 7, 1), D(2023, 9, 30), 0, &sq, 1, &sr, &err), DS_OK);
    assert_int_equal(fake_calls[2], 1);
    assert_int_equal(sr.n, 0);
    w->st->ops = orig;

    ds_top_result_free(&chunk_top);
    ds_top_result_free(&eng_top);
    ds_top_result_free(&sr);
    ds_cube_free(&chunk_cube);
    ds_cube_free(&eng_cube);
}

static const ds_report_row *row(const ds_report_table *t, const char *text)
{
    for (size_t i = 0; i < t->n; i++)
        if (!strcmp(t->rows[i].text, text))
            return &t->rows[i];
    fail_msg("no row %s", text);
    return NULL;
}

static void build(world *w, ds_report *r, int compare, const ds_u64set *exclude)
{
    ds_err err = { 0 };
    ds_report_opts o = { .compare = compare, .lang = DS_LANG_EN, .top = 10, .exclude = exclude };
    assert_int_equal(ds_period_parse("2023Q3", &o.period, &err), DS_OK);
    o.focus[0].dim = DS_REPORT_SERVICE;
    o.focus[0].key = S("23/tcp");
    assert_int_equal(ds_report_focus_parse("us", &o.focus[1].dim, &o.focus[1].key, &err), DS_OK);
    o.nfocus = 2;
    if (ds_report_build(w->st, NULL, NULL, &o, r, &err) != DS_OK)
        fail_msg("build: %s", err.msg);
}

static void test_model(void **state)
{
    world *w = *state;
    ds_report r;
    build(w, &r, 1, NULL);
    assert_int_equal(r.days, 92);
    assert_int_equal(r.cur.packets, 180);
    assert_int_equal(r.previous.packets, 160);
    assert_int_equal(r.cur.addresses, 256);
    assert_true(fabs(r.change_pct - 12.5) < 1e-9);
    assert_int_equal(r.services.n, 3);
    assert_int_equal(r.services.keys, 3);
    const ds_report_row *a = row(&r.services, "23/tcp"), *b = row(&r.services, "8080/tcp"), *c = row(&r.services, "80/tcp");
    assert_int_equal(a->rank, 1);
    assert_int_equal(b->rank, 2);
    assert_int_equal(c->rank, 3);
    assert_string_equal(a->label, "23/TCP");
    assert_int_equal(a->previous_rank, 1);
    assert_int_equal(b->previous_rank, 0);
    assert_int_equal(c->previous_rank, 2);
    assert_true(a->change == 20 && fabs(a->change_pct - 20.0) < 1e-9);
    assert_true(b->change == 40 && isnan(b->change_pct));   /* new: no relative change */
    assert_true(c->change == -30 && fabs(c->change_pct + 60.0) < 1e-9);
    assert_int_equal(b->increase_rank, 1);
    assert_int_equal(a->increase_rank, 2);
    assert_int_equal(c->decrease_rank, 1);
    assert_int_equal(a->decrease_rank, 0);
    assert_true(fabs(a->per_ip_per_day - 120.0 / (256.0 * 92)) < 1e-12);
    assert_true(fabs(a->share - 120.0 / 180) < 1e-12);
    assert_int_equal(a->sources, 1);
    assert_true(a->daily[0] == 60 && a->daily[1] == 60 && a->daily[2] == 0);
    /* regions */
    assert_int_equal(r.regions.n, 3);
    const ds_report_row *cn = row(&r.regions, "CN"), *us = row(&r.regions, "US"), *jp = row(&r.regions, "JP");
    assert_int_equal(cn->rank, 1);
    assert_int_equal(jp->rank, 2);
    assert_int_equal(us->rank, 3);
    assert_int_equal(us->previous_rank, 2);
    assert_int_equal(jp->previous_rank, 0);
    assert_int_equal(us->decrease_rank, 1);
    /* mixes: rows are the top regions, parts the top services */
    assert_int_equal(r.services_of_regions.nrows, 3);
    assert_int_equal(r.services_of_regions.nparts, 3);
    assert_int_equal(r.services_of_regions.part_keys[0], S("23/tcp"));
    assert_true(r.services_of_regions.values[0] == 120 && r.services_of_regions.row_totals[0] == 120);
    /* focus on 23/tcp: daily packets and sources, split by region */
    const ds_report_focus *f = &r.focus[0];
    assert_int_equal(f->packets, 120);
    assert_int_equal(f->sources, 1);
    assert_int_equal(f->rank, 1);
    assert_true(f->daily[0] == 60 && f->daily_sources[0] == 1 && f->daily_sources[5] == 0);
    assert_int_equal(f->split.nparts, 1);
    assert_int_equal(f->split.part_keys[0], ds_cc_pack("CN"));
    assert_true(f->split_daily[1] == 60);
    assert_int_equal(f->nsports, 1);   /* the test's records all say: one port, 6000 */
    assert_int_equal(f->sports[0].port, 6000);
    assert_true(f->sports[0].share == 1.0);
    assert_int_equal(f->ntop_sources, 1);
    assert_string_equal(f->top_sources[0].addr, "1.1.1.1");
    /* focus on US (lower case accepted): organisations by ASN */
    const ds_report_focus *g = &r.focus[1];
    assert_int_equal(g->dim, DS_REPORT_REGION);
    assert_int_equal(g->packets, 20);
    assert_int_equal(g->norgs, 1);
    assert_int_equal(g->orgs[0].asn, 7018);
    ds_report_free(&r);

    /* without comparison: no previous numbers anywhere */
    build(w, &r, 0, NULL);
    assert_true(isnan(r.change_pct));
    assert_int_equal(row(&r.services, "80/tcp")->previous_rank, 0);
    assert_true(isnan(row(&r.services, "80/tcp")->change));
    assert_int_equal(row(&r.services, "8080/tcp")->increase_rank, 0);
    ds_report_free(&r);
}

static void test_focus_parse(void **state)
{
    (void)state;
    ds_err err = { 0 };
    ds_report_dim d;
    uint32_t k;
    assert_int_equal(ds_report_focus_parse("1521/TCP", &d, &k, &err), DS_OK);
    assert_int_equal(d, DS_REPORT_SERVICE);
    assert_int_equal(ds_report_focus_parse("JP", &d, &k, &err), DS_OK);
    assert_int_equal(d, DS_REPORT_REGION);
    assert_int_equal(ds_report_focus_parse("Japan", &d, &k, &err), DS_EINVAL);
    assert_non_null(strstr(err.msg, "Japan"));
    assert_int_equal(ds_report_focus_parse("99999/tcp", &d, &k, &err), DS_EINVAL);
    assert_int_equal(ds_report_focus_parse("", &d, &k, &err), DS_EINVAL);
}

/* ---- research lists ----------------------------------------------------------------------------- */

static ds_rc add(ds_research *r, const char *json, ds_err *err)
{
    return ds_research_add_json(r, "list.json", json, strlen(json), err);
}

static void test_research_lists(void **state)
{
    (void)state;
    ds_err err = { 0 };
    ds_research *r = ds_research_new();
    assert_non_null(r);
    assert_int_equal(add(r, "{\"name\": \"x\", \"version\": 3, \"description\": \"a \\\"q\\\" \\u00e9\", \"matching_attributes\": "
                            "[\"ip-src\", \"ip-dst\"], \"type\": \"cidr\", \"list\": [\"192.0.2.0/24\", \"198.51.100.7\", "
                            "\"203.0.113.9/28\", \"2001:db8::/32\"], \"extra\": {\"a\": [1, 2.5e3, true, null]}}", &err),
                     DS_OK);
    assert_int_equal(ds_research_prefixes(r), 4);
    ds_ip ip;
    ds_ip_parse("192.0.2.200", &ip);
    assert_true(ds_research_match(r, &ip, 0));
    ds_ip_parse("192.0.3.1", &ip);
    assert_false(ds_research_match(r, &ip, 0));
    ds_ip_parse("198.51.100.7", &ip);
    assert_true(ds_research_match(r, &ip, 0));
    ds_ip_parse("198.51.100.8", &ip);
    assert_false(ds_research_match(r, &ip, 0));
    ds_ip_parse("203.0.113.15", &ip);   /* host bits of .9/28 cleared: .0-.15 */
    assert_true(ds_research_match(r, &ip, 0));
    ds_ip_parse("203.0.113.16", &ip);
    assert_false(ds_research_match(r, &ip, 0));
    ds_ip_parse("2001:db8:1::1", &ip);
    assert_true(ds_research_match(r, &ip, 0));
    ds_ip_parse("2001:db9::1", &ip);
    assert_false(ds_research_match(r, &ip, 0));
    ds_research_free(r);

    static const char *const bad[] = {
        "", "[]", "{", "{\"list\": [\"192.0.2.0/24\"", "{\"list\": [\"192.0.2.0/24\",]}", "{\"list\": [\"not an ip\"]}",
        "{\"list\": [\"192.0.2.0/33\"]}", "{\"type\": \"string\", \"list\": [\"192.0.2.1\"]}", "{\"name\": \"no list\"}",
        "{\"list\": []} trailing", "{\"list\": [\"a\\q\"]}", "{\"list\": [\"192.0.2.0/24\"], \"x\": tru}",
        "{\"list\": [\"\x01\"]}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        r = ds_research_new();
        ds_err_clear(&err);
        if (add(r, bad[i], &err) != DS_EFORMAT)
            fail_msg("accepted bad list #%zu: %s", i, bad[i]);
        assert_non_null(strstr(err.msg, "list.json"));
        ds_research_free(r);
    }
    /* deep nesting is refused, not a stack overflow */
    size_t n = 100000;
    char *deep = malloc(2 * n + 64);
    assert_non_null(deep);
    strcpy(deep, "{\"x\": ");
    memset(deep + 6, '[', n);
    deep[6 + n] = 0;
    r = ds_research_new();
    assert_int_equal(ds_research_add_json(r, "deep.json", deep, strlen(deep), &err), DS_EFORMAT);
    ds_research_free(r);
    free(deep);

    /* nothing configured: an error, never a silent empty exclusion */
    ds_research_conf conf = { 0 };
    assert_int_equal(ds_research_load(&r, &conf, &err), DS_EINVAL);
    snprintf(conf.lists[0], sizeof conf.lists[0], "/nonexistent/list.json");
    conf.nlists = 1;
    assert_int_equal(ds_research_load(&r, &conf, &err), DS_EIO);
    assert_non_null(strstr(err.msg, "/nonexistent/list.json"));
}

static void test_research_exclusion(void **state)
{
    world *w = *state;
    ds_err err = { 0 };
    ds_research_conf conf = { .asns = { 2914 }, .nasns = 1 };   /* JP's 4.4.4.4 by ASN */
    ds_research *rs;
    assert_int_equal(ds_research_load(&rs, &conf, &err), DS_OK);
    assert_int_equal(add(rs, "{\"type\": \"cidr\", \"list\": [\"2.2.2.0/24\"]}", &err), DS_OK);
    ds_u64set set = { 0 };
    assert_int_equal(ds_research_sources(rs, w->st, D(2023, 4, 1), D(2023, 9, 30), &set, &err), DS_OK);
    assert_int_equal(set.n, 2);
    ds_report r;
    build(w, &r, 1, &set);
    assert_int_equal(r.cur.packets, 120);
    assert_int_equal(r.previous.packets, 110);
    assert_int_equal(r.services.n, 1);
    assert_int_equal(r.regions.n, 1);
    assert_int_equal(r.focus[1].packets, 0);   /* US: only 2.2.2.2 sent from there in Q3 */
    assert_int_equal(r.focus[1].ntop_sources, 0);
    ds_report_free(&r);
    ds_u64set_free(&set);
    ds_research_free(rs);
}


/* ---- coverage: rates per covered address-day, outages, no data (issue #19) ------------------ */

/* Two sensors of 256 addresses.  Coverage rows (one file) span Q2 and Q3 2023 with 100 packets in
 * every UTC hour, except s2's hours of 2023-08-10 00:00 .. 2023-08-20 00:00 (10 days, empty: an
 * inferred outage).  Traffic: Q2 23/tcp 910 from 1.1.1.1 to s1; Q3 23/tcp 700 to s1 and 80/tcp 174
 * to s2. */
static void coverage_store(const char *db, ds_store **out)
{
    ds_err err = { 0 };
    ds_store *st;
    assert_int_equal(ds_store_open(&st, db, 1, &err), DS_OK);
    int64_t sid[2];
    for (int k = 0; k < 2; k++) {
        ds_sensor_info si = { .v4_addresses = 256 };
        snprintf(si.name, sizeof si.name, "s%d", k + 1);
        snprintf(si.darknet, sizeof si.darknet, "192.0.%d.0/24", k + 2);
        assert_int_equal(ds_store_sensor_upsert(st, &si, &sid[k], &err), DS_OK);
    }
    ds_file_meta m = { .path = "c.pcap" };
    int64_t fid;
    assert_int_equal(ds_store_begin(st, &m, &fid, &err), DS_OK);
    int64_t h0 = (int64_t)D(2023, 4, 1) * 24, h1 = (int64_t)(D(2023, 9, 30) + 1) * 24;
    int64_t oa = (int64_t)D(2023, 8, 10) * 24, ob = (int64_t)D(2023, 8, 20) * 24;
    size_t nh = (size_t)(h1 - h0);
    uint32_t *hours = malloc(nh * sizeof *hours);
    assert_non_null(hours);
    for (int k = 0; k < 2; k++) {
        for (size_t i = 0; i < nh; i++)
            hours[i] = k == 1 && h0 + (int64_t)i >= oa && h0 + (int64_t)i < ob ? 0 : 100;
        ds_coverage_row cr = { .file_id = fid, .sensor_id = sid[k], .source = 1,
                               .first_ns = (uint64_t)h0 * 3600 * 1000000000ULL,
                               .last_ns = (uint64_t)h1 * 3600 * 1000000000ULL - 1, .hour0 = h0, .hours = hours,
                               .nhours = nh };
        assert_int_equal(ds_store_put_coverage(st, &cr, &err), DS_OK);
    }
    free(hours);
    const struct { int k; int32_t day; const char *svc; uint32_t packets; } t[] = {
        { 0, D(2023, 5, 1), "23/tcp", 910 }, { 0, D(2023, 7, 1), "23/tcp", 700 }, { 1, D(2023, 7, 2), "80/tcp", 174 },
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        uint8_t sv[DS_REC_SRCSVC];
        ds_ip ip;
        assert_int_equal(ds_ip_parse("1.1.1.1", &ip), 0);
        ds_rec_srcsvc r = { ds_src_key(&ip), S(t[i].svc), 4134, t[i].packets, DS_CLASS_SCAN, { 'C', 'N' }, 1, 6000, 0 };
        ds_rec_srcsvc_put(sv, &r);
        assert_int_equal(ds_store_put_chunk(st, fid, sid[t[i].k], t[i].day, DS_CHUNK_SRCSVC, sv, 1, DS_REC_SRCSVC, &err),
                         DS_OK);
    }
    assert_int_equal(ds_store_commit(st, &err), DS_OK);
    *out = st;
}

static void test_coverage_rates(void **state)
{
    (void)state;
    char dir[64], db[128];
    ds_store *st;
    ds_err err = { 0 };
    ds_report r;
    assert_int_equal(testdir_make(dir, sizeof dir, "ds_test_cov"), 0);
    snprintf(db, sizeof db, "%s/c.db", dir);
    coverage_store(db, &st);
    ds_report_opts o = { .compare = 1, .lang = DS_LANG_EN, .top = 10 };
    assert_int_equal(ds_period_parse("2023Q3", &o.period, &err), DS_OK);
    if (ds_report_build(st, NULL, NULL, &o, &r, &err) != DS_OK)
        fail_msg("build: %s", err.msg);
    /* covered address-days: 256 x 92 + 256 x (92 - 10); the previous quarter 512 x 91 */
    double ad = 256.0 * 92 + 256.0 * 82, pad = 512.0 * 91;
    assert_true(r.coverage.known);
    assert_true(fabs(r.coverage.addr_days - ad) < 1e-9);
    assert_true(fabs(r.coverage.prev_addr_days - pad) < 1e-9);
    assert_int_equal(r.cur.packets, 874);
    assert_true(fabs(r.cur.per_ip_per_day - 874.0 / ad) < 1e-9);
    assert_true(fabs(r.previous.per_ip_per_day - 910.0 / pad) < 1e-9);
    assert_true(fabs(r.cur.per_ip - 874.0 / ad * 92) < 1e-9);
    const ds_report_row *a = row(&r.services, "23/tcp"), *b = row(&r.services, "80/tcp");
    assert_true(fabs(a->per_ip_per_day - 700.0 / ad) < 1e-9);
    assert_true(fabs(b->per_ip_per_day - 174.0 / ad) < 1e-9);
    /* coverage differs (174/184 of the quarter's address-days against all of Q2): changes compare rates */
    assert_true(r.coverage.rate_based);
    double scale = ad / pad;
    assert_true(fabs(a->change - (700.0 - 910.0 * scale)) < 1e-6);
    assert_true(fabs(a->change_pct - (700.0 / ad - 910.0 / pad) * 100.0 / (910.0 / pad)) < 1e-9);
    assert_true(fabs(r.change_pct - (874.0 / ad - 910.0 / pad) * 100.0 / (910.0 / pad)) < 1e-9);
    assert_true(isnan(r.sources_change_pct));
    /* the outage, with its dates; each sensor's covered days; the daily shares */
    assert_int_equal(r.coverage.noutages, 1);
    assert_string_equal(r.coverage.outages[0].sensor, "s2");
    assert_int_equal(r.coverage.outages[0].kind, DS_HOUR_OUTAGE);
    assert_int_equal(r.coverage.outages[0].from, (int64_t)D(2023, 8, 10) * 86400);
    assert_int_equal(r.coverage.outages[0].to, (int64_t)D(2023, 8, 20) * 86400);
    assert_int_equal(r.coverage.nsensors, 2);
    assert_true(fabs(r.coverage.sensors[0].covered_days - 92) < 1e-9);
    assert_true(fabs(r.coverage.sensors[1].covered_days - 82) < 1e-9);
    assert_true(fabs(r.coverage.day_frac[D(2023, 8, 12) - D(2023, 7, 1)] - 0.5) < 1e-12);
    assert_true(fabs(r.coverage.day_frac[0] - 1.0) < 1e-12);
    ds_report_free(&r);

    /* one sensor: its own covered address-days */
    o.sensor_id = 2;
    if (ds_report_build(st, NULL, NULL, &o, &r, &err) != DS_OK)
        fail_msg("build: %s", err.msg);
    assert_true(fabs(r.cur.per_ip_per_day - 174.0 / (256.0 * 82)) < 1e-9);
    assert_int_equal(r.coverage.noutages, 1);
    ds_report_free(&r);

    /* a period with no data fails, saying what the store covers */
    o.sensor_id = 0;
    assert_int_equal(ds_period_parse("2024Q1", &o.period, &err), DS_OK);
    assert_int_equal(ds_report_build(st, NULL, NULL, &o, &r, &err), DS_ENOTFOUND);
    assert_string_equal(err.msg, "No data for Q1 2024: the store covers 1 April 2023 – 30 September 2023.");
    o.lang = DS_LANG_JA;
    assert_int_equal(ds_report_build(st, NULL, NULL, &o, &r, &err), DS_ENOTFOUND);
    assert_non_null(strstr(err.msg, "データはありません"));
    ds_store_close(st);
    testdir_remove(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cube),
        cmocka_unit_test(test_query_pushdown),
        cmocka_unit_test(test_model),
        cmocka_unit_test(test_focus_parse),
        cmocka_unit_test(test_research_lists),
        cmocka_unit_test(test_research_exclusion),
        cmocka_unit_test(test_coverage_rates),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
