/* test_payloads.c: the store's first-payload operations (payloads_put, payloads_query in
 * src/store/store_sqlite.c), through the ops table only.
 *
 * What is checked is the contract in store.h: a batch is stored in one transaction and exactly
 * once per (sensor, seq, hash) (a retried upload is DS_EEXIST and changes nothing; the same
 * sequence with other content is another file); payload bytes come back byte for byte, binary
 * and empty ones included; the filters (sensor, service, time range, limit) select what they
 * say and the total ignores the limit; --top groups identical content per service with counts
 * and distinct sources; a store that never saw a payload answers with no rows, and one opened
 * again later (an existing store) keeps them.  Each test works in its own temporary directory.
 * ds_payloads_query_excluding (analysis/payloads_exclude.c, --exclude research) leaves out the
 * sources it is given, by key or by list prefix, and regroups --top in memory exactly as the
 * store's SQL does: with nothing excluded its answer equals the store's, row for row.
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
#include <ftw.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sqlite3.h>
#include <cmocka.h>

#include "analysis/payloads_exclude.h"
#include "core/classify.h"
#include "core/ip.h"
#include "core/records.h"
#include "store/store.h"
#include "unit/testdir.h"

typedef struct tmp { char dir[64]; char db[128]; } tmp;

static int setup(void **state)
{
    tmp *t = calloc(1, sizeof *t);
    if (!t)
        return -1;
    if (testdir_make(t->dir, sizeof t->dir, "ds_test_payloads") != 0) {
        free(t);
        return -1;
    }
    snprintf(t->db, sizeof t->db, "%s/store.db", t->dir);
    *state = t;
    return 0;
}

static int teardown(void **state)
{
    tmp *t = *state;
    testdir_remove(t->dir);
    free(t);
    return 0;
}

static ds_store *open_store(const char *path, int create)
{
    ds_store *s = NULL;
    ds_err err = { 0 };
    if (ds_store_sqlite.open(&s, path, create, &err) != DS_OK)
        fail_msg("open %s: %s", path, err.msg);
    assert_true(ds_store_keeps(s, DS_KEEPS_PAYLOADS));
    return s;
}

#define NS(sec) ((uint64_t)(sec) * 1000000000ull)
#define T0 1688169600ull   /* 2023-07-01 00:00:00 UTC */

static const char GET[] = "GET / HTTP/1.1\r\nHost: 198.51.100.7\r\nUser-Agent: Mozilla/5.0\r\n\r\n";
static const uint8_t BIN[] = { 0x16, 0x03, 0x01, 0x00, 0x00, 0xff, 0x7f, 0x80, 0x0a, 0x0d };   /* NULs inside */

static ds_payload pl(uint64_t sec, const char *src, const char *dst, uint16_t dport, const void *data, size_t len)
{
    ds_payload p;
    memset(&p, 0, sizeof p);
    p.ts_ns = NS(sec) + 123;
    snprintf(p.src, sizeof p.src, "%s", src);
    snprintf(p.dst, sizeof p.dst, "%s", dst);
    p.sport = 40000;
    p.dport = dport;
    p.proto = 6;
    p.tcp_seq = 0xdeadbeef;
    p.len = (uint32_t)len;
    p.data = data;
    p.data_len = len;
    return p;
}

static ds_payload_batch batch(const char *sensor, uint64_t seq, uint8_t tag, const ds_payload *rows, size_t n)
{
    ds_payload_batch b;
    memset(&b, 0, sizeof b);
    snprintf(b.sensor, sizeof b.sensor, "%s", sensor);
    b.seq = seq;
    for (int i = 0; i < 16; i++)
        b.hash[i] = (uint8_t)(tag + i);
    b.committed_at = 1700000000;
    b.rows = rows;
    b.n = n;
    return b;
}

static void put_ok(ds_store *s, const ds_payload_batch *b)
{
    ds_err err = { 0 };
    ds_rc rc = ds_store_payloads_put(s, b, &err);
    if (rc != DS_OK)
        fail_msg("payloads_put: %s", err.msg);
}

static ds_payload_row *query(ds_store *s, const ds_payload_query *q, size_t *n, uint64_t *total)
{
    ds_payload_row *rows = NULL;
    ds_err err = { 0 };
    ds_rc rc = ds_store_payloads_query(s, q, &rows, n, total, &err);
    if (rc != DS_OK)
        fail_msg("payloads_query: %s", err.msg);
    return rows;
}

static uint64_t count_rows(ds_store *s)
{
    ds_payload_query q = { 0 };
    size_t n;
    uint64_t total;
    ds_payload_row *rows = query(s, &q, &n, &total);
    ds_payload_rows_free(rows, n);
    assert_int_equal(n, total);
    return total;
}

/* The first batch of the e2e test, in the store's terms: two GETs to 80/tcp from two sources, one
 * TLS-ish binary payload to 443/tcp, one more GET from the first source a minute later. */
static void put_first(ds_store *s)
{
    ds_payload rows[] = {
        pl(T0 + 10, "192.0.2.1", "198.51.100.7", 80, GET, strlen(GET)),
        pl(T0 + 20, "192.0.2.2", "198.51.100.8", 80, GET, strlen(GET)),
        pl(T0 + 30, "192.0.2.3", "198.51.100.9", 443, BIN, sizeof BIN),
        pl(T0 + 70, "192.0.2.1", "198.51.100.7", 80, GET, strlen(GET)),
    };
    ds_payload_batch b = batch("tokyo", 1, 1, rows, 4);
    put_ok(s, &b);
}

static void test_empty_store(void **state)
{
    tmp *t = *state;
    ds_store *s = open_store(t->db, 1);
    ds_payload_query q = { .top = 1 };
    size_t n = 99;
    uint64_t total = 99;
    ds_payload_row *rows = query(s, &q, &n, &total);
    assert_int_equal(n, 0);
    assert_int_equal(total, 0);
    ds_payload_rows_free(rows, n);
    /* nothing was created by reading: the ledger-style tables appear with the first put */
    sqlite3 *db;
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_open(t->db, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM sqlite_master WHERE name LIKE 'payload%'", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    ds_store_close(s);
}

static void test_roundtrip(void **state)
{
    tmp *t = *state;
    ds_store *s = open_store(t->db, 1);
    put_first(s);
    ds_payload_query q = { 0 };
    size_t n;
    uint64_t total;
    ds_payload_row *rows = query(s, &q, &n, &total);
    assert_int_equal(n, 4);
    assert_int_equal(total, 4);
    /* by arrival time */
    for (size_t i = 1; i < n; i++)
        assert_true(rows[i - 1].first_ns <= rows[i].first_ns);
    assert_string_equal(rows[0].sensor, "tokyo");
    assert_string_equal(rows[0].src, "192.0.2.1");
    assert_string_equal(rows[0].dst, "198.51.100.7");
    assert_int_equal(rows[0].first_ns, NS(T0 + 10) + 123);
    assert_int_equal(rows[0].last_ns, rows[0].first_ns);
    assert_int_equal(rows[0].sport, 40000);
    assert_int_equal(rows[0].dport, 80);
    assert_int_equal(rows[0].proto, 6);
    assert_int_equal(rows[0].tcp_seq, 0xdeadbeef);
    assert_int_equal(rows[0].count, 1);
    assert_int_equal(rows[0].data_len, strlen(GET));
    assert_memory_equal(rows[0].data, GET, strlen(GET));
    assert_int_equal(rows[2].dport, 443);
    assert_int_equal(rows[2].data_len, sizeof BIN);
    assert_memory_equal(rows[2].data, BIN, sizeof BIN);   /* binary, NULs included, byte for byte */
    assert_memory_not_equal(rows[0].hash, rows[2].hash, 16);
    assert_memory_equal(rows[0].hash, rows[1].hash, 16);   /* same content, same key */
    ds_payload_rows_free(rows, n);
    ds_store_close(s);

    /* an existing store opened again keeps them, and takes more */
    s = open_store(t->db, 0);
    assert_int_equal(count_rows(s), 4);
    ds_payload more[] = { pl(T0 + 90, "192.0.2.9", "198.51.100.7", 80, GET, strlen(GET)) };
    ds_payload_batch b = batch("tokyo", 2, 2, more, 1);
    put_ok(s, &b);
    assert_int_equal(count_rows(s), 5);
    ds_store_close(s);
}

static void test_idempotent(void **state)
{
    tmp *t = *state;
    ds_store *s = open_store(t->db, 1);
    put_first(s);
    ds_payload rows[] = { pl(T0 + 10, "192.0.2.1", "198.51.100.7", 80, GET, strlen(GET)) };
    ds_payload_batch again = batch("tokyo", 1, 1, rows, 1);   /* same (sensor, seq, hash) */
    ds_err err = { 0 };
    assert_int_equal(ds_store_payloads_put(s, &again, &err), DS_EEXIST);
    assert_non_null(strstr(err.msg, "already stored"));
    assert_int_equal(count_rows(s), 4);
    /* a second handle (another collector connection) is refused too */
    ds_store *s2 = open_store(t->db, 0);
    memset(&err, 0, sizeof err);
    assert_int_equal(ds_store_payloads_put(s2, &again, &err), DS_EEXIST);
    ds_store_close(s2);
    /* the same sequence with other content is another file (a spool started over) */
    ds_payload_batch other = batch("tokyo", 1, 9, rows, 1);
    put_ok(s, &other);
    assert_int_equal(count_rows(s), 5);
    /* another sensor's file 1 is its own */
    ds_payload_batch osaka = batch("osaka", 1, 1, rows, 1);
    put_ok(s, &osaka);
    assert_int_equal(count_rows(s), 6);
    /* an empty file is recorded, and its retry is a duplicate */
    ds_payload_batch empty = batch("osaka", 7, 7, NULL, 0);
    put_ok(s, &empty);
    assert_int_equal(ds_store_payloads_put(s, &empty, &err), DS_EEXIST);
    assert_int_equal(count_rows(s), 6);
    ds_store_close(s);
}

static void test_refused_batch_changes_nothing(void **state)
{
    tmp *t = *state;
    ds_store *s = open_store(t->db, 1);
    put_first(s);
    ds_payload rows[] = {
        pl(T0 + 100, "192.0.2.5", "198.51.100.7", 80, GET, strlen(GET)),
        pl(T0 + 101, "192.0.2.5", "198.51.100.7", 80, GET, strlen(GET)),
    };
    rows[1].data_len = DS_PAYLOAD_MAX + 1;   /* out of range: the whole batch goes */
    ds_payload_batch b = batch("tokyo", 3, 3, rows, 2);
    ds_err err = { 0 };
    assert_int_equal(ds_store_payloads_put(s, &b, &err), DS_EINVAL);
    assert_non_null(strstr(err.msg, "payload 2"));
    assert_int_equal(count_rows(s), 4);
    rows[1].data_len = strlen(GET);
    rows[1].ts_ns = (uint64_t)INT64_MAX + 1;
    assert_int_equal(ds_store_payloads_put(s, &b, &err), DS_EINVAL);
    assert_int_equal(count_rows(s), 4);
    /* and the file is not recorded: the corrected upload goes in */
    rows[1].ts_ns = NS(T0 + 101);
    put_ok(s, &b);
    assert_int_equal(count_rows(s), 6);
    ds_store_close(s);
}

static void test_filters(void **state)
{
    tmp *t = *state;
    ds_store *s = open_store(t->db, 1);
    put_first(s);
    ds_payload o[] = { pl(T0 + 15, "192.0.2.50", "203.0.113.1", 80, "\x00", 1) };
    ds_payload_batch b = batch("osaka", 1, 1, o, 1);
    put_ok(s, &b);
    size_t n;
    uint64_t total;
    ds_payload_row *rows;

    ds_payload_query q = { .have_service = 1, .service = DS_SERVICE(6, 80) };
    rows = query(s, &q, &n, &total);
    assert_int_equal(n, 4);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(rows[i].dport, 80);
    ds_payload_rows_free(rows, n);

    q.service = DS_SERVICE(17, 80);   /* 80/udp: none */
    rows = query(s, &q, &n, &total);
    assert_int_equal(n, 0);
    ds_payload_rows_free(rows, n);

    q = (ds_payload_query){ .sensor = "osaka" };
    rows = query(s, &q, &n, &total);
    assert_int_equal(n, 1);
    assert_string_equal(rows[0].src, "192.0.2.50");
    assert_int_equal(rows[0].data_len, 1);
    assert_int_equal(rows[0].data[0], 0);
    ds_payload_rows_free(rows, n);

    q = (ds_payload_query){ .sensor = "kyoto" };
    rows = query(s, &q, &n, &total);
    assert_int_equal(n, 0);
    ds_payload_rows_free(rows, n);

    /* [from, to): T0+15 .. T0+30 holds the 15 s and 20 s payloads, not the one at 30 s */
    q = (ds_payload_query){ .from_ns = NS(T0 + 15), .to_ns = NS(T0 + 30) };
    rows = query(s, &q, &n, &total);
    assert_int_equal(n, 2);
    assert_string_equal(rows[0].src, "192.0.2.50");
    assert_string_equal(rows[1].src, "192.0.2.2");
    ds_payload_rows_free(rows, n);

    /* the limit cuts the rows, not the total */
    q = (ds_payload_query){ .limit = 2 };
    rows = query(s, &q, &n, &total);
    assert_int_equal(n, 2);
    assert_int_equal(total, 5);
    assert_int_equal(rows[0].first_ns, NS(T0 + 10) + 123);
    ds_payload_rows_free(rows, n);
    ds_store_close(s);
}

static void test_top(void **state)
{
    tmp *t = *state;
    ds_store *s = open_store(t->db, 1);
    put_first(s);
    /* the GET again from a third source on another sensor, and once to 8080/tcp */
    ds_payload o[] = {
        pl(T0 + 200, "192.0.2.7", "203.0.113.1", 80, GET, strlen(GET)),
        pl(T0 + 201, "192.0.2.7", "203.0.113.1", 8080, GET, strlen(GET)),
    };
    ds_payload_batch b = batch("osaka", 1, 1, o, 2);
    put_ok(s, &b);
    size_t n;
    uint64_t total;
    ds_payload_row *rows;
    ds_payload_query q = { .top = 1 };
    rows = query(s, &q, &n, &total);
    /* (80, GET) x4 from 3 sources; then (443, BIN) and (8080, GET) once each */
    assert_int_equal(n, 3);
    assert_int_equal(total, 3);
    assert_int_equal(rows[0].dport, 80);
    assert_int_equal(rows[0].count, 4);
    assert_int_equal(rows[0].sources, 3);
    assert_int_equal(rows[0].first_ns, NS(T0 + 10) + 123);
    assert_int_equal(rows[0].last_ns, NS(T0 + 200) + 123);
    assert_string_equal(rows[0].src, "192.0.2.1");
    assert_int_equal(rows[0].len, strlen(GET));
    assert_memory_equal(rows[0].data, GET, strlen(GET));
    assert_int_equal(rows[1].count, 1);
    assert_int_equal(rows[1].dport, 443);   /* ties: the earlier first */
    assert_int_equal(rows[2].dport, 8080);
    ds_payload_rows_free(rows, n);

    q = (ds_payload_query){ .top = 1, .have_service = 1, .service = DS_SERVICE(6, 80), .sensor = "osaka" };
    rows = query(s, &q, &n, &total);
    assert_int_equal(n, 1);
    assert_int_equal(rows[0].count, 1);
    assert_int_equal(rows[0].sources, 1);
    ds_payload_rows_free(rows, n);

    q = (ds_payload_query){ .top = 1, .limit = 1 };
    rows = query(s, &q, &n, &total);
    assert_int_equal(n, 1);
    assert_int_equal(total, 3);
    ds_payload_rows_free(rows, n);
    ds_store_close(s);
}

static ds_payload_row *query_ex(ds_store *s, const ds_payload_query *q, const ds_u64set *keys, const ds_research *r,
                                 size_t *n, uint64_t *total)
{
    ds_payload_row *rows = NULL;
    ds_err err = { 0 };
    ds_rc rc = ds_payloads_query_excluding(s, q, keys, r, &rows, n, total, &err);
    if (rc != DS_OK)
        fail_msg("ds_payloads_query_excluding: %s", err.msg);
    return rows;
}

static void same_rows(const ds_payload_row *a, const ds_payload_row *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(a[i].sensor, b[i].sensor);
        assert_int_equal(a[i].first_ns, b[i].first_ns);
        assert_int_equal(a[i].last_ns, b[i].last_ns);
        assert_string_equal(a[i].src, b[i].src);
        assert_string_equal(a[i].dst, b[i].dst);
        assert_int_equal(a[i].sport, b[i].sport);
        assert_int_equal(a[i].dport, b[i].dport);
        assert_int_equal(a[i].proto, b[i].proto);
        assert_int_equal(a[i].tcp_seq, b[i].tcp_seq);
        assert_int_equal(a[i].len, b[i].len);
        assert_memory_equal(a[i].hash, b[i].hash, 16);
        assert_int_equal(a[i].count, b[i].count);
        assert_int_equal(a[i].sources, b[i].sources);
        assert_int_equal(a[i].data_len, b[i].data_len);
        if (a[i].data_len)
            assert_memory_equal(a[i].data, b[i].data, a[i].data_len);
    }
}

/* --exclude research over payloads: by source key (what the store attributes to a research
 * scanner), by list prefix (an address never captured), and the in-memory --top against the
 * store's own. */
static void test_exclude(void **state)
{
    tmp *t = *state;
    ds_store *s = open_store(t->db, 1);
    put_first(s);
    static const char SSH[] = "SSH-2.0-Go\r\n";
    ds_payload o[] = {
        pl(T0 + 200, "192.0.2.7", "203.0.113.1", 80, GET, strlen(GET)),
        pl(T0 + 201, "192.0.2.7", "203.0.113.1", 8080, GET, strlen(GET)),
        pl(T0 + 202, "2001:db8::7", "203.0.113.0", 80, GET, strlen(GET) - 4),   /* a GET cut short: other content */
        pl(T0 + 203, "2001:db8::8", "203.0.113.2", 22, SSH, strlen(SSH)),
        pl(T0 + 204, "192.0.2.9", "203.0.113.2", 22, SSH, strlen(SSH)),
        pl(T0 + 205, "192.0.2.9", "203.0.113.3", 22, SSH, strlen(SSH)),
        pl(T0 + 206, "192.0.2.10", "203.0.113.2", 22, "", 0),
    };
    o[6].len = 0;
    ds_payload_batch b = batch("osaka", 1, 1, o, sizeof o / sizeof o[0]);
    put_ok(s, &b);
    size_t n, n2;
    uint64_t total, total2;
    ds_u64set none = { 0 }, keys = { 0 };
    ds_payload_row *want, *got;

    /* nothing excluded: every query (list and top, each filter, limits) answers as the store's */
    const ds_payload_query qs[] = {
        { 0 }, { .top = 1 }, { .top = 1, .limit = 2 }, { .limit = 3 },
        { .top = 1, .have_service = 1, .service = DS_SERVICE(6, 80) }, { .top = 1, .sensor = "tokyo" },
        { .top = 1, .from_ns = NS(T0 + 30), .to_ns = NS(T0 + 205) },
    };
    for (size_t k = 0; k < sizeof qs / sizeof qs[0]; k++) {
        want = query(s, &qs[k], &n, &total);
        got = query_ex(s, &qs[k], &none, NULL, &n2, &total2);
        assert_int_equal(n2, n);
        assert_int_equal(total2, total);
        same_rows(got, want, n);
        ds_payload_rows_free(want, n);
        ds_payload_rows_free(got, n2);
    }

    /* 192.0.2.1 by its key: two of the four 80/tcp GETs go, and one of their three sources */
    ds_ip ip;
    assert_int_equal(ds_ip_parse("192.0.2.1", &ip), 0);
    assert_int_equal(ds_u64set_init(&keys, 16), 0);
    assert_true(ds_u64set_add(&keys, ds_src_key(&ip)) >= 0);
    assert_int_equal(ds_payload_src_excluded("192.0.2.1", &keys, NULL), 1);
    assert_int_equal(ds_payload_src_excluded("192.0.2.2", &keys, NULL), 0);
    assert_int_equal(ds_payload_src_excluded("not an address", &keys, NULL), 0);
    ds_payload_query q = { .top = 1 };
    got = query_ex(s, &q, &keys, NULL, &n, &total);
    assert_int_equal(n, 6);
    assert_int_equal(total, 6);
    assert_int_equal(got[0].dport, 22);   /* SSH x3 from 2 sources, now first */
    assert_int_equal(got[0].count, 3);
    assert_int_equal(got[0].sources, 2);
    assert_string_equal(got[0].src, "192.0.2.9");   /* the smallest text, as SQL's min() */
    assert_string_equal(got[0].dst, "203.0.113.2");
    assert_int_equal(got[1].dport, 80);
    assert_int_equal(got[1].count, 2);
    assert_int_equal(got[1].sources, 2);
    assert_int_equal(got[1].first_ns, NS(T0 + 20) + 123);
    assert_int_equal(got[1].last_ns, NS(T0 + 200) + 123);
    assert_string_equal(got[1].src, "192.0.2.2");
    assert_memory_equal(got[1].data, GET, strlen(GET));
    assert_int_equal(got[1].sport, 0);
    assert_int_equal(got[1].tcp_seq, 0);
    assert_string_equal(got[1].sensor, "");
    ds_payload_rows_free(got, n);

    /* and by a list prefix (2001:db8::/32, 192.0.2.8/29) on top of the key: list rows keep
     * their order, and a limit counts what is left */
    ds_research *r = ds_research_new();
    assert_non_null(r);
    static const char LIST[] = "{\"name\":\"t\",\"type\":\"cidr\",\"list\":[\"2001:db8::/32\",\"192.0.2.8/29\"]}";
    ds_err err = { 0 };
    if (ds_research_add_json(r, "list", LIST, strlen(LIST), &err) != DS_OK)
        fail_msg("research list: %s", err.msg);
    assert_int_equal(ds_payload_src_excluded("2001:db8::7", NULL, r), 1);
    assert_int_equal(ds_payload_src_excluded("192.0.2.7", NULL, r), 0);
    q = (ds_payload_query){ .limit = 2 };
    got = query_ex(s, &q, &keys, r, &n, &total);
    assert_int_equal(total, 4);   /* 192.0.2.2, .3, .7 twice */
    assert_int_equal(n, 2);
    assert_string_equal(got[0].src, "192.0.2.2");
    assert_string_equal(got[1].src, "192.0.2.3");
    ds_payload_rows_free(got, n);
    q = (ds_payload_query){ .top = 1 };
    got = query_ex(s, &q, NULL, r, &n, &total);   /* the prefixes alone */
    assert_int_equal(total, 3);
    assert_int_equal(got[0].dport, 80);
    assert_int_equal(got[0].count, 4);
    assert_int_equal(got[0].sources, 3);
    ds_payload_rows_free(got, n);
    /* everything excluded: no rows, no allocation */
    q = (ds_payload_query){ .sensor = "tokyo", .have_service = 1, .service = DS_SERVICE(6, 443) };
    assert_int_equal(ds_ip_parse("192.0.2.3", &ip), 0);
    assert_true(ds_u64set_add(&keys, ds_src_key(&ip)) >= 0);
    got = query_ex(s, &q, &keys, r, &n, &total);
    assert_null(got);
    assert_int_equal(n, 0);
    assert_int_equal(total, 0);
    ds_research_free(r);
    ds_u64set_free(&keys);
    ds_store_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_empty_store, setup, teardown),
        cmocka_unit_test_setup_teardown(test_roundtrip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_idempotent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refused_batch_changes_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_filters, setup, teardown),
        cmocka_unit_test_setup_teardown(test_top, setup, teardown),
        cmocka_unit_test_setup_teardown(test_exclude, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
