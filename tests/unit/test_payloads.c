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

#include "core/classify.h"
#include "store/store.h"

typedef struct tmp { char dir[64]; char db[128]; } tmp;

static int setup(void **state)
{
    tmp *t = calloc(1, sizeof *t);
    if (!t)
        return -1;
    snprintf(t->dir, sizeof t->dir, "/tmp/ds_test_payloads.XXXXXX");
    if (!mkdtemp(t->dir)) {
        free(t);
        return -1;
    }
    snprintf(t->db, sizeof t->db, "%s/store.db", t->dir);
    *state = t;
    return 0;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st; (void)flag; (void)ftw;
    return remove(path);
}

static int teardown(void **state)
{
    tmp *t = *state;
    nftw(t->dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
    free(t);
    return 0;
}

static ds_store *open_store(const char *path, int create)
{
    ds_store *s = NULL;
    ds_err err = { 0 };
    if (ds_store_sqlite.open(&s, path, create, &err) != DS_OK)
        fail_msg("open %s: %s", path, err.msg);
    assert_non_null(s->ops->payloads_put);
    assert_non_null(s->ops->payloads_query);
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
    ds_rc rc = s->ops->payloads_put(s, b, &err);
    if (rc != DS_OK)
        fail_msg("payloads_put: %s", err.msg);
}

static ds_payload_row *query(ds_store *s, const ds_payload_query *q, size_t *n, uint64_t *total)
{
    ds_payload_row *rows = NULL;
    ds_err err = { 0 };
    ds_rc rc = s->ops->payloads_query(s, q, &rows, n, total, &err);
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
    assert_int_equal(s->ops->payloads_put(s, &again, &err), DS_EEXIST);
    assert_non_null(strstr(err.msg, "already stored"));
    assert_int_equal(count_rows(s), 4);
    /* a second handle (another collector connection) is refused too */
    ds_store *s2 = open_store(t->db, 0);
    memset(&err, 0, sizeof err);
    assert_int_equal(s2->ops->payloads_put(s2, &again, &err), DS_EEXIST);
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
    assert_int_equal(s->ops->payloads_put(s, &empty, &err), DS_EEXIST);
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
    assert_int_equal(s->ops->payloads_put(s, &b, &err), DS_EINVAL);
    assert_non_null(strstr(err.msg, "payload 2"));
    assert_int_equal(count_rows(s), 4);
    rows[1].data_len = strlen(GET);
    rows[1].ts_ns = (uint64_t)INT64_MAX + 1;
    assert_int_equal(s->ops->payloads_put(s, &b, &err), DS_EINVAL);
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_empty_store, setup, teardown),
        cmocka_unit_test_setup_teardown(test_roundtrip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_idempotent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refused_batch_changes_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_filters, setup, teardown),
        cmocka_unit_test_setup_teardown(test_top, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
