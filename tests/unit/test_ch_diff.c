/* test_ch_diff.c: the ClickHouse store's own answers (src/store/ch_query.c) against the chunk
 * code's, on stores built from the same captures (issue #23).
 *
 * Run by tests/e2e/clickhouse.sh, which starts a server and fills both stores: DS_SQ_STORE is the
 * SQLite store's path, DS_CH_STORE the ClickHouse store's URL.  Without them the test is skipped.
 * Every cube of a grid (dimension pairs with the source port, filters by sensor, class, service,
 * country, ASN, tools, one source, excluded and only-counted sources) and `top` with source sets
 * (which the CLI cannot ask) must give the same cells, rows and totals, field for field; and
 * every `top` the rollup tables answer, on both of the ClickHouse store's paths (rollups, and
 * the per-source rows under DS_NO_ROLLUP=1).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "analysis/cube.h"
#include "analysis/top.h"
#include "store/store.h"

static ds_store *sq, *ch;
static int32_t from, to;

static void cube_same(const ds_cube_query *q, const char *what)
{
    ds_cube a = { 0 }, b = { 0 };
    ds_err err = { 0 };
    assert_int_equal(ds_cube_run(sq, q, &a, &err), DS_OK);
    ds_rc rc = ds_cube_run(ch, q, &b, &err);
    if (rc != DS_OK)
        fail_msg("%s: %s", what, err.msg);
    if (a.n != b.n || a.total_packets != b.total_packets || a.total_sources != b.total_sources)
        fail_msg("%s: %zu/%zu cells, %llu/%llu packets, %llu/%llu sources", what, a.n, b.n,
                 (unsigned long long)a.total_packets, (unsigned long long)b.total_packets,
                 (unsigned long long)a.total_sources, (unsigned long long)b.total_sources);
    for (size_t i = 0; i < a.n; i++)
        if (memcmp(&a.cells[i], &b.cells[i], sizeof a.cells[i]) != 0)
            fail_msg("%s: cell %zu: (%u,%u) %llu %llu vs (%u,%u) %llu %llu", what, i, a.cells[i].a, a.cells[i].b,
                     (unsigned long long)a.cells[i].packets, (unsigned long long)a.cells[i].sources, b.cells[i].a,
                     b.cells[i].b, (unsigned long long)b.cells[i].packets, (unsigned long long)b.cells[i].sources);
    ds_cube_free(&a);
    ds_cube_free(&b);
}

static void top_same(const ds_top_query *q, const char *what)
{
    ds_top_result a = { 0 }, b = { 0 };
    ds_err err = { 0 };
    assert_int_equal(ds_top_run(sq, q, &a, &err), DS_OK);
    if (ds_top_run(ch, q, &b, &err) != DS_OK)
        fail_msg("%s: %s", what, err.msg);
    if (a.n != b.n || a.total_packets != b.total_packets || a.total_sources != b.total_sources ||
        a.addresses != b.addresses || a.days != b.days || a.addr_days != b.addr_days)
        fail_msg("%s: the totals differ (%zu/%zu rows)", what, a.n, b.n);
    for (size_t i = 0; i < a.n; i++)
        if (a.rows[i].key != b.rows[i].key || a.rows[i].packets != b.rows[i].packets ||
            a.rows[i].sources != b.rows[i].sources || a.rows[i].share != b.rows[i].share ||
            a.rows[i].per_ip_per_day != b.rows[i].per_ip_per_day)
            fail_msg("%s: row %zu differs", what, i);
    ds_top_result_free(&a);
    ds_top_result_free(&b);
}

static void test_cubes(void **state)
{
    (void)state;
    if (!sq)
        skip();
    static const ds_cube_dim D[][2] = {
        { DS_CUBE_NONE, DS_CUBE_NONE }, { DS_CUBE_DAY, DS_CUBE_NONE }, { DS_CUBE_SERVICE, DS_CUBE_NONE },
        { DS_CUBE_COUNTRY, DS_CUBE_SERVICE }, { DS_CUBE_ASN, DS_CUBE_DAY }, { DS_CUBE_SERVICE, DS_CUBE_SPORT },
        { DS_CUBE_DAY, DS_CUBE_COUNTRY },
    };
    ds_u64set ex = { 0 };
    assert_int_equal(ds_u64set_init(&ex, 64), 0);
    for (size_t d = 0; d < sizeof D / sizeof D[0]; d++)
        for (int f = 0; f < 9; f++) {
            ds_cube_query q = { .from = from, .to = to, .a = D[d][0], .b = D[d][1], .sources = d % 2 == 0,
                                .total_sources = 1 };
            ds_filter_init(&q.filter);
            switch (f) {
            case 1: q.filter.sensor_id = 1; break;
            case 2: q.filter.cls = 1; break;
            case 3: q.filter.ports[0] = DS_SERVICE(6, 23); q.filter.ports[1] = DS_SERVICE(6, 445); q.filter.nports = 2; break;
            case 4: q.filter.countries[0] = ds_cc_pack("CN"); q.filter.ncountries = 1; break;
            case 5: q.filter.tools = 0xff; break;
            case 6: q.filter.asns[0] = 4134; q.filter.nasns = 1; break;
            case 7: {   /* the first sources of the top 5, excluded; then only them */
                ds_top_query tq = { .dim = DS_TOP_SOURCES, .from = from, .to = to, .cls = -1, .limit = 5 };
                ds_top_result tr = { 0 };
                ds_err err = { 0 };
                assert_int_equal(ds_top_run(sq, &tq, &tr, &err), DS_OK);
                for (size_t i = 0; i < tr.n; i++)
                    ds_u64set_add(&ex, tr.rows[i].key);
                ds_top_result_free(&tr);
                q.filter.exclude = &ex;
                break;
            }
            case 8: q.filter.only = &ex; break;
            }
            char what[64];
            snprintf(what, sizeof what, "cube %zu filter %d", d, f);
            cube_same(&q, what);
        }
    for (int dim = DS_TOP_PORTS; dim <= DS_TOP_ASNS; dim++) {
        ds_top_query q = { .dim = (ds_top_dim)dim, .from = from, .to = to, .cls = -1, .limit = 20, .exclude = &ex };
        top_same(&q, "top excluding sources");
        q.exclude = NULL;
        q.only = &ex;
        top_same(&q, "top of some sources");
        q.only = NULL;
        q.tools = 0xff;
        q.limit = 0;
        top_same(&q, "top of tools");
    }
    ds_u64set_free(&ex);
}

/* The queries the ClickHouse store answers from its rollup tables (src/store/ch_rollup.c: a
 * sensor, a class, values of the ranked dimension), against SQLite's, and against its own
 * per-source path (DS_NO_ROLLUP=1). */
static void test_rollup_top(void **state)
{
    (void)state;
    if (!sq)
        skip();
    for (int dim = DS_TOP_PORTS; dim <= DS_TOP_ASNS; dim++)
        for (int f = 0; f < 9; f++) {
            ds_top_query q = { .dim = (ds_top_dim)dim, .from = from, .to = to, .cls = -1, .limit = 10 };
            switch (f) {
            case 1: q.limit = 0; break;
            case 2: q.cls = 0; break;
            case 3: q.cls = 1; q.limit = 3; break;
            case 4: q.sensor_id = 1; break;
            case 5: q.sensor_id = 2; q.cls = 0; q.limit = 0; break;
            case 6: q.from = from + 2; q.to = from + 4; break;
            case 7:   /* values of the ranked dimension, one with no packets */
            case 8:
                if (dim == DS_TOP_PORTS) {
                    q.ports[0] = DS_SERVICE(6, 23); q.ports[1] = DS_SERVICE(6, 445); q.ports[2] = DS_SERVICE(17, 1);
                    q.nports = 3;
                } else if (dim == DS_TOP_COUNTRIES) {
                    q.countries[0] = ds_cc_pack("CN"); q.countries[1] = ds_cc_pack("US"); q.countries[2] = ds_cc_pack("AQ");
                    q.ncountries = 3;
                } else {
                    q.asns[0] = 4134; q.asns[1] = 4837; q.asns[2] = 64512;
                    q.nasns = 3;
                }
                if (f == 8) {
                    q.cls = 0;
                    q.limit = 1;
                }
                break;
            }
            char what[64];
            snprintf(what, sizeof what, "top %d (rollups) query %d", dim, f);
            top_same(&q, what);
            setenv("DS_NO_ROLLUP", "1", 1);
            snprintf(what, sizeof what, "top %d (per-source rows) query %d", dim, f);
            top_same(&q, what);
            unsetenv("DS_NO_ROLLUP");
        }
}

int main(void)
{
    const char *a = getenv("DS_SQ_STORE"), *b = getenv("DS_CH_STORE");
    ds_err err = { 0 };
    if (a && b) {
        if (ds_store_open(&sq, a, 0, &err) != DS_OK || ds_store_open(&ch, b, 0, &err) != DS_OK ||
            ds_store_day_span(sq, &from, &to, &err) != DS_OK) {
            fprintf(stderr, "test_ch_diff: %s\n", err.msg);
            return 1;
        }
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cubes),
        cmocka_unit_test(test_rollup_top),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    ds_store_close(sq);
    ds_store_close(ch);
    return rc;
}
