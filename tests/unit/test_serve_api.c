/* test_serve_api.c: net/serve_api.c's parameter checks and net/serve_cache.c, without HTTP.
 *
 * Every refusal is a 400 whose message starts with the parameter at fault; valid requests on an
 * empty store answer what the CLI prints for one (an empty table), or 404 when no period is
 * given and the store has none.  The cache: a hit after a put, nothing after the store's files
 * change, and an answer computed across a change never kept; the events memo likewise; the kept
 * period views give the answers the store gives.  (tests/e2e/serve.sh checks the
 * answers against the CLI over HTTP; tests/e2e/payloads.sh /payloads against `darkscope payloads`.)
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
#include <unistd.h>
#include <cmocka.h>

#include "net/serve.h"
#include "net/serve_int.h"
#include "unit/testdir.h"
#include "util/timeutil.h"

static char dir[256], db[300];
static ds_config cfg;
static ds_store *st;
static ds_serve_views *views;   /* what ask() runs with (NULL: none) */

static int setup(void **state)
{
    ds_err err = { 0 };
    (void)state;
    if (testdir_make(dir, sizeof dir, "ds-serve") != 0)
        return -1;
    snprintf(db, sizeof db, "%s/s.db", dir);
    ds_config_init(&cfg);
    snprintf(cfg.store_path, sizeof cfg.store_path, "%s", db);
    ds_tz_use("UTC", &err);
    return ds_store_open(&st, db, 1, &err) == DS_OK ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    ds_store_close(st);
    ds_config_free(&cfg);
    testdir_remove(dir);
    return 0;
}

/* GET /api/v1/path?k1=v1&k2=v2... (pairs, NULL-terminated): the status; the body or the
 * message in out. */
static unsigned ask(const char *path, char *out, size_t outlen, ...)
{
    ds_serve_args a = { 0 };
    ds_serve_ctx c = { &cfg, NULL, NULL, NULL, views };
    va_list ap;
    va_start(ap, outlen);
    for (const char *k; (k = va_arg(ap, const char *));) {
        a.v[a.n].key = k;
        a.v[a.n].val = va_arg(ap, const char *);
        a.n++;
    }
    va_end(ap);
    char *body = NULL, msg[512];
    size_t len = 0;
    FILE *f = open_memstream(&body, &len);
    assert_non_null(f);
    unsigned code = ds_serve_api(&c, st, path, &a, f, msg, sizeof msg);
    fclose(f);
    snprintf(out, outlen, "%s", code == 200 ? body : msg);
    free(body);
    return code;
}

#define BAD(prefix, path, ...) do { \
        char m_[512]; \
        assert_int_equal(ask(path, m_, sizeof m_, __VA_ARGS__, NULL), 400); \
        if (strncmp(m_, prefix, strlen(prefix)) != 0) \
            fail_msg("%s: '%s' does not start with '%s'", path, m_, prefix); \
    } while (0)

static void test_refusals(void **state)
{
    (void)state;
    const char *F = "from", *T = "to";
    BAD("dim: ", "top", F, "2023-07-01");
    BAD("dim: 'port'", "top", "dim", "port");
    BAD("limit: 'x'", "top", "dim", "ports", "limit", "x");
    BAD("limit: '-1'", "top", "dim", "ports", "limit", "-1");
    BAD("limit: '1000000001'", "top", "dim", "ports", "limit", "1000000001");
    BAD("from: '2023-02-30'", "top", "dim", "ports", F, "2023-02-30");
    BAD("to: 'soon'", "top", "dim", "ports", T, "soon");
    BAD("to: is before from", "top", "dim", "ports", F, "2023-07-02", T, "2023-07-01");
    BAD("to: more than ten years", "top", "dim", "ports", F, "2000-01-01", T, "2023-07-01");
    BAD("service: '70000/tcp'", "top", "dim", "ports", "service", "23/tcp,70000/tcp");
    BAD("service: ", "top", "dim", "ports", "service", "23/tcp,");
    BAD("service: ", "top", "dim", "ports", "service", "");
    BAD("country: 'C1'", "top", "dim", "ports", "country", "C1");
    BAD("country: 'CHN'", "top", "dim", "ports", "country", "CHN");
    BAD("asn: 'AS'", "top", "dim", "ports", "asn", "AS");
    BAD("asn: '4294967296'", "top", "dim", "ports", "asn", "4294967296");
    BAD("class: 'worm'", "top", "dim", "ports", "class", "worm");
    BAD("tool: 'curl'", "top", "dim", "ports", "tool", "mirai,curl");
    BAD("colour: unknown parameter", "top", "dim", "ports", "colour", "red");
    BAD("dim: given twice", "top", "dim", "ports", "dim", "asns");
    BAD("step: 'week'", "series", "step", "week");
    BAD("step: 'hour'", "series", "step", "hour", "class", "scan");
    BAD("step: 'hour'", "series", "step", "hour", F, "2023-01-01", T, "2023-07-01");
    BAD("type: 'worm'", "events", "type", "worm");
    BAD("service: unknown parameter", "events", "service", "23/tcp");
    BAD("source: '1.2.3'", "source/1.2.3", F, "2023-07-01");
    BAD("events: '2'", "source/192.0.2.1", "events", "2");
    BAD("from: unknown parameter", "coverage", F, "2023-07-01");
    BAD("x: unknown parameter (this endpoint takes: none)", "sensors", "x", "1");
    BAD("payloads: 'all'", "source/192.0.2.1", "payloads", "all");
    BAD("by: missing", "cube", F, "2023-07-01");
    BAD("by: 'day,day'", "cube", "by", "day,day");
    BAD("by: 'day,'", "cube", "by", "day,");
    BAD("by: 'day,service,asn'", "cube", "by", "day,service,asn");
    BAD("by: 'ports'", "cube", "by", "ports");
    BAD("sources: 'yes'", "cube", "by", "day", "sources", "yes");
    BAD("limit: '-2'", "cube", "by", "day", "limit", "-2");
    BAD("step: unknown parameter", "cube", "by", "day", "step", "day");
    BAD("service: '23/tcp,80/tcp'", "payloads", "service", "23/tcp,80/tcp");
    BAD("source: '192.0.2.256'", "payloads", "source", "192.0.2.256");
    BAD("top: 'true'", "payloads", "top", "true");
    BAD("exclude: 'scanners'", "payloads", "exclude", "scanners");
    BAD("to: is before from", "payloads", F, "2023-07-02", T, "2023-07-01");
    BAD("from: '2023-07-32'", "payloads", F, "2023-07-32");
    BAD("class: unknown parameter", "payloads", "class", "scan");
    /* 64 services is the filter's limit */
    char list[64 * 8 + 8] = "";
    for (int i = 1; i <= 65; i++)
        snprintf(list + strlen(list), sizeof list - strlen(list), "%s%d/tcp", i > 1 ? "," : "", i);
    BAD("service: '65/tcp'", "top", "dim", "ports", "service", list);
}

static void test_empty_store(void **state)
{
    (void)state;
    char out[4096];
    assert_int_equal(ask("nothing", out, sizeof out, NULL), 404);
    assert_non_null(strstr(out, "no such endpoint"));
    assert_int_equal(ask("top", out, sizeof out, "dim", "ports", NULL), 404);   /* no period, no data */
    assert_string_equal(out, "the store holds no data yet");
    /* a period given: what `darkscope top` prints for an empty one */
    assert_int_equal(ask("top", out, sizeof out, "dim", "ports", "from", "2023-07-01", "to", "2023-07-02",
                         "service", "23/TCP,8/icmp", "country", "cn", "asn", "AS4134", "class", "scan", NULL), 200);
    assert_string_equal(out, "[]\n");
    assert_int_equal(ask("series", out, sizeof out, "from", "2023-07-01", "to", "2023-07-02", NULL), 200);
    assert_non_null(strstr(out, "\"total_packets\": 0"));
    assert_non_null(strstr(out, "{\"t\": \"2023-07-02\", \"packets\": 0, \"sources\": 0}"));
    assert_int_equal(ask("series", out, sizeof out, "step", "hour", "from", "2023-07-01", "to", "2023-07-01", NULL), 200);
    assert_non_null(strstr(out, "{\"t\": \"2023-07-01T23:00:00Z\", \"packets\": null}"));
    assert_int_equal(ask("sensors", out, sizeof out, NULL), 200);
    assert_string_equal(out, "[]\n");
    assert_int_equal(ask("source/2001:db8::1", out, sizeof out, "from", "2023-07-01", "to", "2023-07-01", "events", "0", NULL), 200);
    assert_non_null(strstr(out, "\"source\": []"));
    assert_non_null(strstr(out, "\"events\": null"));
    assert_non_null(strstr(out, "\"payloads\": []"));   /* the sqlite store keeps payloads: none here */
    assert_int_equal(ask("cube", out, sizeof out, "by", "service,day", "from", "2023-07-01", "to", "2023-07-03", "sources", "1",
                         "limit", "5", NULL), 200);
    assert_string_equal(out, "{\"by\": [\"service\", \"day\"], \"from\": \"2023-07-01\", \"to\": \"2023-07-03\", "
                             "\"total_packets\": 0, \"total_sources\": 0, \"cells_total\": 0, \"cells\": []}\n");
    assert_int_equal(ask("cube", out, sizeof out, "by", "sport", NULL), 404);   /* no period, no data */
    assert_int_equal(ask("payloads", out, sizeof out, "source", "2001:DB8::1", "top", "1", NULL), 200);
    assert_string_equal(out, "[]\n");
    assert_int_equal(ask("top", out, sizeof out, "dim", "ports", "from", "2023-07-01", "to", "2023-07-01", "sensor", "nagoya", NULL), 400);
    assert_string_equal(out, "sensor: 'nagoya': no such sensor in the store");
}

/* The kept period views (serve_views.c): the same answers through them, a period longer than a
 * quarter never kept, none at all with DS_SERVE_NO_VIEWS=1; a handle lent is a store that reads
 * (empty here) and a second request over the period borrows the same view. */
static void test_views(void **state)
{
    (void)state;
    char a[4096], b[4096];
    ds_err err = { 0 };
    setenv("DS_SERVE_NO_VIEWS", "1", 1);
    assert_null(ds_serve_views_new(db, (size_t)DS_SERVE_VIEW_MIB << 20));
    unsetenv("DS_SERVE_NO_VIEWS");
    views = ds_serve_views_new(db, (size_t)DS_SERVE_VIEW_MIB << 20);
    assert_non_null(views);
    assert_null(ds_serve_views_get(views, st, 19000, 19000 + 93));   /* 94 days: not kept */
    assert_null(ds_serve_views_get(views, st, 19005, 19004));
    ds_store *h1 = ds_serve_views_get(views, st, 19000, 19000 + 92), *h2 = ds_serve_views_get(views, st, 19000, 19000 + 92);
    assert_non_null(h1);
    assert_non_null(h2);
    int32_t first, last;
    assert_int_equal(ds_store_day_span(h1, &first, &last, &err), ds_store_day_span(st, &first, &last, &err));
    ds_serve_views_done(views, h1, 19000, 19000 + 92);
    ds_serve_views_done(views, h2, 19000, 19000 + 92);
    static const char *const Q[][2] = { { "top", "ports" }, { "series", NULL }, { "events", NULL }, { "source/192.0.2.1", NULL } };
    for (size_t i = 0; i < sizeof Q / sizeof Q[0]; i++)
        for (int round = 0; round < 2; round++) {
            ds_serve_views *keep = views;
            unsigned ca = Q[i][1] ? ask(Q[i][0], a, sizeof a, "dim", Q[i][1], "from", "2023-07-01", "to", "2023-07-03", NULL)
                                  : ask(Q[i][0], a, sizeof a, "from", "2023-07-01", "to", "2023-07-03", NULL);
            views = NULL;
            unsigned cb = Q[i][1] ? ask(Q[i][0], b, sizeof b, "dim", Q[i][1], "from", "2023-07-01", "to", "2023-07-03", NULL)
                                  : ask(Q[i][0], b, sizeof b, "from", "2023-07-01", "to", "2023-07-03", NULL);
            views = keep;
            assert_int_equal(ca, cb);
            assert_string_equal(a, b);
        }
    ds_serve_views_free(views);
    views = NULL;
}

static void touch_db(void)
{
    FILE *f = fopen(db, "ab");
    assert_non_null(f);
    fputc(0, f);
    fclose(f);
}

static void test_cache(void **state)
{
    (void)state;
    ds_serve_cache *c = ds_serve_cache_new(db);
    size_t len = 0;
    assert_non_null(c);
    ds_serve_stamp s0 = ds_serve_cache_stamp(c);
    assert_null(ds_serve_cache_get(c, "k", &len));
    ds_serve_cache_put(c, "k", "[1]\n", 4, &s0);
    char *b = ds_serve_cache_get(c, "k", &len);
    assert_non_null(b);
    assert_int_equal(len, 4);
    assert_memory_equal(b, "[1]\n", 4);
    free(b);
    assert_null(ds_serve_cache_get(c, "k2", &len));
    /* the store changes: every answer goes, and one computed before the change is not kept */
    touch_db();
    assert_null(ds_serve_cache_get(c, "k", &len));
    ds_serve_cache_put(c, "k", "[1]\n", 4, &s0);
    assert_null(ds_serve_cache_get(c, "k", &len));
    ds_serve_stamp s1 = ds_serve_cache_stamp(c);
    ds_serve_cache_put(c, "k", "[2]\n", 4, &s1);
    assert_non_null(b = ds_serve_cache_get(c, "k", &len));
    assert_memory_equal(b, "[2]\n", 4);
    free(b);
    /* bounded: many answers, the oldest go */
    for (int i = 0; i < 300; i++) {
        char k[16];
        snprintf(k, sizeof k, "n%d", i);
        ds_serve_cache_put(c, k, "x", 1, &s1);
    }
    assert_null(ds_serve_cache_get(c, "n0", &len));
    assert_non_null(b = ds_serve_cache_get(c, "n299", &len));
    free(b);
    assert_int_equal(ds_serve_cacheable("top"), 1);
    assert_int_equal(ds_serve_cacheable("sensors"), 0);
    assert_int_equal(ds_serve_cacheable("coverage"), 0);
    ds_serve_cache_free(c);
}

/* The events memo: a copy out after a put (what the list owns copied: the memo's survives the
 * caller's free), per (from, to, sensor, type); nothing after the store changes, nothing for a
 * query with excluded sources, the least recently used dropped past eight periods. */
static void test_events_memo(void **state)
{
    (void)state;
    ds_serve_cache *c = ds_serve_cache_new(db);
    assert_non_null(c);
    ds_serve_stamp s0 = ds_serve_cache_stamp(c);
    ds_event_query q = { .from = 19500, .to = 19591 };
    ds_events ev = { 0 }, got;
    ds_err err;
    (void)err;
    ev.ev = calloc(1, sizeof *ev.ev);
    assert_non_null(ev.ev);
    ev.n = ev.cap = 1;
    ds_event *v = &ev.ev[0];
    snprintf(v->type, sizeof v->type, "mirai");
    v->nall = 2;
    v->all = calloc(2, sizeof *v->all);
    snprintf(v->all[1].addr, sizeof v->all[1].addr, "192.0.2.9");
    v->series.n = 3;
    v->series.v = malloc(3 * sizeof *v->series.v);
    for (int i = 0; i < 3; i++)
        v->series.v[i] = i + 1;
    assert_int_equal(ds_serve_events_get(c, &q, &got), 0);
    ds_serve_events_put(c, &q, &ev, &s0);
    ds_events_free(&ev);
    assert_int_equal(ds_serve_events_get(c, &q, &got), 1);
    assert_int_equal(got.n, 1);
    assert_string_equal(got.ev[0].type, "mirai");
    assert_string_equal(got.ev[0].all[1].addr, "192.0.2.9");
    assert_true(got.ev[0].series.n == 3 && got.ev[0].series.v[2] == 3);
    ds_events_free(&got);
    ds_event_query other = q;
    other.sensor_id = 2;
    assert_int_equal(ds_serve_events_get(c, &other, &got), 0);
    other = q;
    other.type = "tool";
    assert_int_equal(ds_serve_events_get(c, &other, &got), 0);
    ds_u64set ex = { 0 };
    other = q;
    other.exclude = &ex;
    ds_serve_events_put(c, &other, &got, &s0);   /* got is empty: never kept anyway */
    assert_int_equal(ds_serve_events_get(c, &other, &got), 0);
    /* bounded: eight periods, the least recently used goes */
    for (int i = 1; i <= 8; i++) {
        ds_event_query qi = { .from = 19000 + i, .to = 19010 + i };
        ds_serve_events_put(c, &qi, &got, &s0);
    }
    assert_int_equal(ds_serve_events_get(c, &q, &got), 0);
    ds_event_query q8 = { .from = 19008, .to = 19018 };
    assert_int_equal(ds_serve_events_get(c, &q8, &got), 1);
    ds_events_free(&got);
    /* the store changes: gone, and one found across the change is not kept */
    touch_db();
    assert_int_equal(ds_serve_events_get(c, &q8, &got), 0);
    ds_serve_events_put(c, &q8, &got, &s0);
    assert_int_equal(ds_serve_events_get(c, &q8, &got), 0);
    ds_serve_cache_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_empty_store),
        cmocka_unit_test(test_cache),
        cmocka_unit_test(test_events_memo),
        cmocka_unit_test(test_views),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
