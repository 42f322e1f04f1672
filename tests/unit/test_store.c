/* test_store.c: the SQLite backend (src/store/store_sqlite.c), through the ops table only.
 *
 * Every test works in its own temporary directory.  What is checked is the storage contract
 * of store.h: a file's chunks are visible after commit and never after rollback, a second
 * ingest of the same content is refused unless forced, chunks come back byte for byte (through
 * the compression and back, for every record kind and for sizes from one record to 100 000),
 * and a damaged chunk (its BLOB overwritten with the sqlite3 API, as a disk error or a careless
 * hand edit would) is an error with a clear message, never a crash.
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
#include <signal.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sqlite3.h>
#include <zstd.h>
#include <cmocka.h>

#include "core/records.h"
#include "store/store.h"
#include "unit/testdir.h"

typedef struct tmp { char dir[64]; char db[128]; } tmp;

static int setup(void **state)
{
    tmp *t = calloc(1, sizeof *t);
    if (!t)
        return -1;
    if (testdir_make(t->dir, sizeof t->dir, "ds_test_store") != 0) {
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
    ds_rc rc = ds_store_sqlite.open(&s, path, create, &err);
    if (rc != DS_OK)
        fail_msg("open %s: %s", path, err.msg);
    assert_non_null(s);
    assert_ptr_equal(s->ops, &ds_store_sqlite);
    return s;
}

static ds_file_meta file_meta(uint8_t tag, const char *path)
{
    ds_file_meta f;
    memset(&f, 0, sizeof f);
    for (int i = 0; i < 16; i++)
        f.hash[i] = (uint8_t)(tag * 31 + i);
    f.path = path;
    f.bytes = 1000u * tag;
    f.records = 10u * tag;
    return f;
}

static int64_t begin_ok(ds_store *s, uint8_t tag, const char *path)
{
    ds_file_meta f = file_meta(tag, path);
    int64_t id = -1;
    ds_err err = { 0 };
    ds_rc rc = ds_store_begin(s, &f, &id, &err);
    if (rc != DS_OK)
        fail_msg("begin: %s", err.msg);
    assert_true(id > 0);
    return id;
}

static void put_ok(ds_store *s, int64_t file, int64_t sensor, int32_t day, int kind, const uint8_t *data, size_t nrec)
{
    ds_err err = { 0 };
    ds_rc rc = ds_store_put_chunk(s, file, sensor, day, kind, data, nrec, ds_rec_size(kind), &err);
    if (rc != DS_OK)
        fail_msg("put_chunk: %s", err.msg);
}

static void commit_ok(ds_store *s)
{
    ds_err err = { 0 };
    ds_rc rc = ds_store_commit(s, &err);
    if (rc != DS_OK)
        fail_msg("commit: %s", err.msg);
}

/* Records of a kind: `nrec` records whose bytes follow a pattern (seeded) or are mostly zero. */
static uint8_t *make_records(int kind, size_t nrec, uint32_t seed, int sparse)
{
    size_t len = nrec * ds_rec_size(kind);
    uint8_t *p = malloc(len ? len : 1);
    assert_non_null(p);
    uint64_t x = seed * 0x9e3779b97f4a7c15ULL + 1;
    for (size_t i = 0; i < len; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        p[i] = sparse ? (i % 97 == 0 ? (uint8_t)x : 0) : (uint8_t)x;
    }
    return p;
}

/* A scan callback that keeps every chunk it is given. */
typedef struct got_chunk { int64_t sensor; int32_t day; size_t nrec; uint8_t *data; } got_chunk;
typedef struct scan_log { got_chunk c[64]; size_t n; size_t recsize; } scan_log;

static ds_rc log_chunk(void *ctx, int64_t sensor_id, int32_t day, const uint8_t *data, size_t nrec, ds_err *err)
{
    scan_log *l = ctx;
    (void)err;
    assert_true(l->n < 64);
    got_chunk *g = &l->c[l->n++];
    g->sensor = sensor_id;
    g->day = day;
    g->nrec = nrec;
    g->data = malloc(nrec * l->recsize + 1);
    assert_non_null(g->data);
    memcpy(g->data, data, nrec * l->recsize);
    return DS_OK;
}

static void log_free(scan_log *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->c[i].data);
    l->n = 0;
}

static ds_rc scan_into(ds_store *s, int kind, int64_t sensor, int32_t from, int32_t to, scan_log *l, ds_err *err)
{
    memset(l, 0, sizeof *l);
    l->recsize = ds_rec_size(kind);
    return ds_store_scan(s, kind, sensor, from, to, log_chunk, l, err);
}

/* ---- open ------------------------------------------------------------------------------- */

static void test_open_create(void **state)
{
    tmp *t = *state;
    ds_store *s = NULL;
    ds_err err = { 0 };
    /* missing, create = 0: not found, and nothing is created */
    assert_int_equal(ds_store_sqlite.open(&s, t->db, 0, &err), DS_ENOTFOUND);
    assert_null(s);
    assert_non_null(strstr(err.msg, t->db));
    assert_int_not_equal(access(t->db, F_OK), 0);
    /* the same through ds_store_open */
    assert_int_equal(ds_store_open(&s, t->db, 0, &err), DS_ENOTFOUND);
    assert_int_equal(ds_store_open(&s, "", 1, &err), DS_EINVAL);
    assert_int_equal(ds_store_open(&s, "clickhouse://x", 1, &err), DS_EINVAL);
    /* create, then reopen without create */
    s = open_store(t->db, 1);
    assert_int_equal(access(t->db, F_OK), 0);
    ds_store_close(s);
    s = open_store(t->db, 0);
    int32_t first, last;
    assert_int_equal(ds_store_day_span(s, &first, &last, &err), DS_ENOTFOUND);
    ds_store_close(s);
    ds_store_close(NULL);
    /* a directory */
    assert_int_equal(ds_store_sqlite.open(&s, t->dir, 1, &err), DS_EINVAL);
    assert_null(s);
}

static void test_refuse_non_database(void **state)
{
    tmp *t = *state;
    char path[160];
    snprintf(path, sizeof path, "%s/notes.txt", t->dir);
    char text[8192];
    size_t n = 0;
    while (n + 64 < sizeof text)
        n += (size_t)snprintf(text + n, sizeof text - n, "line %zu of someone's precious notes, not a database\n", n);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, n, f), n);
    fclose(f);
    for (int create = 0; create <= 1; create++) {
        ds_store *s = NULL;
        ds_err err = { 0 };
        ds_rc rc = ds_store_sqlite.open(&s, path, create, &err);
        assert_int_not_equal(rc, DS_OK);
        assert_null(s);
        assert_non_null(strstr(err.msg, path));
        /* the file is exactly as it was */
        char back[8192];
        f = fopen(path, "rb");
        assert_non_null(f);
        size_t m = fread(back, 1, sizeof back, f);
        fclose(f);
        assert_int_equal(m, n);
        assert_memory_equal(back, text, n);
    }
}

static uint8_t *read_all(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    uint8_t *b = malloc(1 << 20);
    assert_non_null(b);
    *n = fread(b, 1, 1 << 20, f);
    fclose(f);
    return b;
}

/* Regression: an existing SQLite database that is not a darkscope store (another tool's .db
 * given to --db by mistake) used to be taken over: the schema was created in it and it was
 * switched to WAL, even with create = 0.  It must be refused with the file unchanged. */
static void test_refuse_foreign_database(void **state)
{
    tmp *t = *state;
    char path[160];
    snprintf(path, sizeof path, "%s/other-tool.db", t->dir);
    sqlite3 *h = NULL;
    assert_int_equal(sqlite3_open(path, &h), SQLITE_OK);
    assert_int_equal(sqlite3_exec(h, "CREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT);"
                                     "INSERT INTO users VALUES(1, 'alice');", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(h);
    size_t n0, n1;
    uint8_t *before = read_all(path, &n0);
    ds_store *s = NULL;
    ds_err err = { 0 };
    ds_rc rc = ds_store_sqlite.open(&s, path, 0, &err);
    if (s)
        ds_store_close(s);
    uint8_t *after = read_all(path, &n1);
    int same = n0 == n1 && memcmp(before, after, n0) == 0;
    free(before);
    free(after);
    if (rc == DS_OK || !same) {
        print_message("a foreign SQLite database was %s by open(create=0) (rc %d)\n",
                      same ? "accepted" : "modified", rc);
        fail();
    }
    assert_non_null(strstr(err.msg, path));
}

/* Regression: put_chunk used to divide by recsize before looking at it, so a chunk of an
 * unknown kind (recsize 0) killed the process with SIGFPE instead of returning DS_EINVAL.  Run
 * in a child so a crash is seen, not suffered. */
static void test_put_chunk_unknown_kind(void **state)
{
    tmp *t = *state;
    ds_store *s = open_store(t->db, 1);
    ds_store_close(s);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        /* cmocka's handlers would catch the crash in the child and go on running tests there */
        signal(SIGFPE, SIG_DFL);
        signal(SIGSEGV, SIG_DFL);
        signal(SIGBUS, SIG_DFL);
        signal(SIGILL, SIG_DFL);
        ds_store *c = NULL;
        ds_err err = { 0 };
        if (ds_store_sqlite.open(&c, t->db, 0, &err) != DS_OK)
            _exit(11);
        ds_file_meta f = file_meta(1, "k.pcap");
        int64_t id;
        if (ds_store_begin(c, &f, &id, &err) != DS_OK)
            _exit(11);
        uint8_t rec[64] = { 0 };
        ds_rc rc = ds_store_put_chunk(c, id, 1, 1, 31, rec, 1, ds_rec_size(31), &err);   /* no kind is 31 */
        ds_store_rollback(c);
        ds_store_close(c);
        _exit(rc == DS_OK ? 10 : 0);   /* codes a sanitizer would not use */
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (WIFSIGNALED(status) || (WIFEXITED(status) && WEXITSTATUS(status) != 0 && WEXITSTATUS(status) != 10 &&
                                WEXITSTATUS(status) != 11)) {
        /* a signal, or a sanitizer's exit code (UBSan: division by zero) */
        print_message("put_chunk of an unknown kind crashed (%s %d)\n", WIFSIGNALED(status) ? "signal" : "exit",
                      WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
        fail();
    }
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);   /* refused, not stored */
}

/* ---- chunks ----------------------------------------------------------------------------- */

static void round_trip(tmp *t)
{
    ds_store *s = open_store(t->db, 1);
    static const int kinds[] = { DS_CHUNK_HOURLY, DS_CHUNK_SRCSVC, DS_CHUNK_SOURCES, DS_CHUNK_DSTMAP };
    static const size_t sizes[] = { 1, 2, 7, 1000, 100000 };
    int64_t file = begin_ok(s, 1, "a.pcap");
    /* kind k, size i on day 100 + i, sensor 1 + (i & 1); random bytes and compressible ones */
    uint8_t *data[4][5][2];
    for (int k = 0; k < 4; k++)
        for (int i = 0; i < 5; i++)
            for (int sparse = 0; sparse < 2; sparse++) {
                data[k][i][sparse] = make_records(kinds[k], sizes[i], (uint32_t)(k * 10 + i), sparse);
                put_ok(s, file, 1 + (i & 1), 100 + i + 10 * sparse, kinds[k], data[k][i][sparse], sizes[i]);
            }
    commit_ok(s);
    ds_store_close(s);

    s = open_store(t->db, 0);
    for (int k = 0; k < 4; k++) {
        scan_log l;
        ds_err err = { 0 };
        assert_int_equal(scan_into(s, kinds[k], 0, 0, 1000, &l, &err), DS_OK);
        assert_int_equal(l.n, 10);
        for (size_t c = 0; c < l.n; c++) {
            int sparse = l.c[c].day >= 110;
            int i = l.c[c].day - 100 - 10 * sparse;
            assert_true(i >= 0 && i < 5);
            assert_int_equal(l.c[c].sensor, 1 + (i & 1));
            assert_int_equal(l.c[c].nrec, sizes[i]);
            assert_memory_equal(l.c[c].data, data[k][i][sparse], sizes[i] * ds_rec_size(kinds[k]));
            if (c)   /* in day order */
                assert_true(l.c[c].day >= l.c[c - 1].day);
        }
        log_free(&l);
        /* sensor and day filters */
        assert_int_equal(scan_into(s, kinds[k], 2, 0, 1000, &l, &err), DS_OK);
        assert_int_equal(l.n, 4);   /* i = 1, 3, both variants */
        for (size_t c = 0; c < l.n; c++)
            assert_int_equal(l.c[c].sensor, 2);
        log_free(&l);
        assert_int_equal(scan_into(s, kinds[k], 0, 101, 103, &l, &err), DS_OK);
        assert_int_equal(l.n, 3);
        log_free(&l);
        assert_int_equal(scan_into(s, kinds[k], 0, 104, 104, &l, &err), DS_OK);
        assert_int_equal(l.n, 1);
        assert_int_equal(l.c[0].nrec, 100000);
        log_free(&l);
        assert_int_equal(scan_into(s, kinds[k], 7, 0, 1000, &l, &err), DS_OK);   /* no such sensor */
        assert_int_equal(l.n, 0);
        assert_int_equal(scan_into(s, kinds[k], 0, 200, 100, &l, &err), DS_OK);  /* empty range */
        assert_int_equal(l.n, 0);
    }
    int32_t first = 0, last = 0;
    ds_err err = { 0 };
    assert_int_equal(ds_store_day_span(s, &first, &last, &err), DS_OK);
    assert_int_equal(first, 100);
    assert_int_equal(last, 114);
    ds_store_close(s);
    for (int k = 0; k < 4; k++)
        for (int i = 0; i < 5; i++)
            for (int sparse = 0; sparse < 2; sparse++)
                free(data[k][i][sparse]);
}

static void test_chunk_round_trip(void **state)
{
    round_trip(*state);
}

/* Both codecs of the format read back: a zstd chunk written by darkscope, and a raw chunk
 * (codec 0) as another writer may store it, inserted here with plain SQL. */
static void test_mixed_codecs(void **state)
{
    tmp *t = *state;
    uint8_t *a = make_records(DS_CHUNK_SRCSVC, 500, 1, 0), *b = make_records(DS_CHUNK_SRCSVC, 300, 2, 1);
    ds_store *s = open_store(t->db, 1);
    int64_t f = begin_ok(s, 1, "z.pcap");
    put_ok(s, f, 1, 5, DS_CHUNK_SRCSVC, a, 500);
    commit_ok(s);
    ds_store_close(s);
    sqlite3 *h = NULL;
    sqlite3_stmt *q = NULL;
    assert_int_equal(sqlite3_open(t->db, &h), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(h, "INSERT INTO chunks(kind, day, sensor_id, file_id, nrec, codec, data)"
                                           " VALUES(?, 6, 1, ?, 300, 0, ?)", -1, &q, NULL), SQLITE_OK);
    sqlite3_bind_int(q, 1, DS_CHUNK_SRCSVC);
    sqlite3_bind_int64(q, 2, f);
    sqlite3_bind_blob(q, 3, b, 300 * DS_REC_SRCSVC, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(q), SQLITE_DONE);
    sqlite3_finalize(q);
    sqlite3_close(h);
    s = open_store(t->db, 0);
    scan_log l;
    ds_err err = { 0 };
    assert_int_equal(scan_into(s, DS_CHUNK_SRCSVC, 1, 0, 10, &l, &err), DS_OK);
    ds_store_close(s);
    assert_int_equal(l.n, 2);
    assert_memory_equal(l.c[0].data, a, 500 * DS_REC_SRCSVC);
    assert_memory_equal(l.c[1].data, b, 300 * DS_REC_SRCSVC);
    log_free(&l);
    free(a);
    free(b);
}

/* Regression: put_chunk used to commit a chunk of 0 records, which scan then reported as damaged,
 * so one empty chunk made every later query over its day fail.  Empty chunks are not stored. */
static void test_empty_chunk(void **state)
{
    tmp *t = *state;
    ds_store *s = open_store(t->db, 1);
    int64_t f = begin_ok(s, 1, "e.pcap");
    uint8_t one[DS_REC_HOURLY] = { 0 };   /* "empty-ish": a single all-zero record is fine */
    put_ok(s, f, 1, 9, DS_CHUNK_HOURLY, one, 1);
    ds_err err = { 0 };
    ds_rc put = ds_store_put_chunk(s, f, 1, 10, DS_CHUNK_HOURLY, one, 0, DS_REC_HOURLY, &err);
    commit_ok(s);
    scan_log l;
    ds_rc rc = scan_into(s, DS_CHUNK_HOURLY, 0, 9, 9, &l, &err);
    assert_int_equal(rc, DS_OK);
    assert_int_equal(l.n, 1);
    assert_int_equal(l.c[0].nrec, 1);
    assert_memory_equal(l.c[0].data, one, DS_REC_HOURLY);
    log_free(&l);
    rc = scan_into(s, DS_CHUNK_HOURLY, 0, 0, 100, &l, &err);
    size_t n = l.n;
    log_free(&l);
    ds_store_close(s);
    if (put == DS_OK && rc != DS_OK) {
        print_message("an accepted 0-record chunk makes scan fail: %s\n", err.msg);
        fail();
    }
    assert_int_equal(rc, DS_OK);
    assert_true(n == 1 || n == 2);
}

static void test_rollback_leaves_nothing(void **state)
{
    tmp *t = *state;
    ds_store *s = open_store(t->db, 1);
    uint8_t *d = make_records(DS_CHUNK_HOURLY, 10, 3, 0);
    int64_t f = begin_ok(s, 5, "x.pcap");
    put_ok(s, f, 1, 50, DS_CHUNK_HOURLY, d, 10);
    ds_agg_counts c = { .packets = 10 };
    ds_err err = { 0 };
    assert_int_equal(ds_store_put_counts(s, f, 1, &c, &err), DS_OK);
    ds_store_rollback(s);
    ds_store_rollback(s);   /* twice is harmless */
    scan_log l;
    assert_int_equal(scan_into(s, DS_CHUNK_HOURLY, 0, 0, 1000, &l, &err), DS_OK);
    assert_int_equal(l.n, 0);
    int32_t first, last;
    assert_int_equal(ds_store_day_span(s, &first, &last, &err), DS_ENOTFOUND);
    ds_sensor_stats *st = NULL;
    size_t n = 99;
    assert_int_equal(ds_store_sensor_stats(s, &st, &n, &err), DS_OK);
    assert_int_equal(n, 0);
    free(st);
    /* the file was not recorded: the same content can be ingested */
    f = begin_ok(s, 5, "x.pcap");
    put_ok(s, f, 1, 50, DS_CHUNK_HOURLY, d, 10);
    commit_ok(s);
    /* closing inside a transaction rolls it back too */
    f = begin_ok(s, 6, "y.pcap");
    put_ok(s, f, 1, 51, DS_CHUNK_HOURLY, d, 10);
    ds_store_close(s);
    s = open_store(t->db, 0);
    assert_int_equal(scan_into(s, DS_CHUNK_HOURLY, 0, 0, 1000, &l, &err), DS_OK);
    assert_int_equal(l.n, 1);
    assert_int_equal(l.c[0].day, 50);
    log_free(&l);
    ds_store_close(s);
    free(d);
}

/* The read cache (decompressed chunks by id) never serves a chunk of a rolled-back transaction:
 * SQLite reuses the rowid of a rolled-back row, so a chunk read inside the transaction and a
 * different chunk committed later share an id. */
static void test_cache_after_rollback(void **state)
{
    tmp *t = *state;
    ds_store *s = open_store(t->db, 1);
    uint8_t *a = make_records(DS_CHUNK_HOURLY, 50, 1, 0), *b = make_records(DS_CHUNK_HOURLY, 50, 2, 0);
    assert_memory_not_equal(a, b, 50 * ds_rec_size(DS_CHUNK_HOURLY));
    ds_err err = { 0 };
    scan_log l;
    int64_t f = begin_ok(s, 7, "a.pcap");
    put_ok(s, f, 1, 60, DS_CHUNK_HOURLY, a, 50);
    assert_int_equal(scan_into(s, DS_CHUNK_HOURLY, 0, 0, 1000, &l, &err), DS_OK);   /* caches a */
    assert_int_equal(l.n, 1);
    log_free(&l);
    ds_store_rollback(s);
    f = begin_ok(s, 8, "b.pcap");
    put_ok(s, f, 1, 60, DS_CHUNK_HOURLY, b, 50);
    commit_ok(s);
    for (int pass = 0; pass < 2; pass++) {   /* a miss, then a hit */
        assert_int_equal(scan_into(s, DS_CHUNK_HOURLY, 0, 0, 1000, &l, &err), DS_OK);
        assert_int_equal(l.n, 1);
        assert_memory_equal(l.c[0].data, b, 50 * ds_rec_size(DS_CHUNK_HOURLY));
        log_free(&l);
    }
    ds_store_close(s);
    free(a);
    free(b);
}

static void test_duplicate_hash(void **state)
{
    tmp *t = *state;
    ds_store *s = open_store(t->db, 1);
    uint8_t *d = make_records(DS_CHUNK_HOURLY, 3, 4, 0);
    int64_t f1 = begin_ok(s, 9, "first.pcap");
    put_ok(s, f1, 1, 1, DS_CHUNK_HOURLY, d, 3);
    commit_ok(s);
    ds_store_close(s);

    s = open_store(t->db, 0);
    ds_file_meta m = file_meta(9, "second-name.pcap.gz");
    int64_t id = -1;
    ds_err err = { 0 };
    assert_int_equal(ds_store_begin(s, &m, &id, &err), DS_EEXIST);
    assert_non_null(strstr(err.msg, "second-name.pcap.gz"));
    assert_non_null(strstr(err.msg, "first.pcap"));
    /* a refused begin leaves no transaction open: other files go on */
    int64_t f2 = begin_ok(s, 10, "other.pcap");
    assert_true(f2 != f1);
    commit_ok(s);
    /* forced */
    m.force = 1;
    assert_int_equal(ds_store_begin(s, &m, &id, &err), DS_OK);
    assert_true(id != f1 && id != f2);
    put_ok(s, id, 1, 1, DS_CHUNK_HOURLY, d, 3);
    commit_ok(s);
    scan_log l;
    assert_int_equal(scan_into(s, DS_CHUNK_HOURLY, 0, 1, 1, &l, &err), DS_OK);
    assert_int_equal(l.n, 2);   /* counted twice, as asked */
    log_free(&l);
    ds_store_close(s);
    free(d);
}

/* ---- meta, sensors, stats ----------------------------------------------------------------- */

static void test_meta(void **state)
{
    tmp *t = *state;
    ds_store *s = open_store(t->db, 1);
    char v[64] = "untouched";
    ds_err err = { 0 };
    assert_int_equal(ds_store_meta_get(s, "timezone", v, sizeof v, &err), DS_ENOTFOUND);
    assert_int_equal(ds_store_meta_set(s, "timezone", "Asia/Tokyo", &err), DS_OK);
    assert_int_equal(ds_store_meta_get(s, "timezone", v, sizeof v, &err), DS_OK);
    assert_string_equal(v, "Asia/Tokyo");
    assert_int_equal(ds_store_meta_set(s, "timezone", "UTC", &err), DS_OK);
    assert_int_equal(ds_store_meta_set(s, "note", "it's \"quoted\"; DROP TABLE meta; --", &err), DS_OK);
    ds_store_close(s);
    s = open_store(t->db, 0);
    assert_int_equal(ds_store_meta_get(s, "timezone", v, sizeof v, &err), DS_OK);
    assert_string_equal(v, "UTC");
    assert_int_equal(ds_store_meta_get(s, "note", v, sizeof v, &err), DS_OK);
    assert_string_equal(v, "it's \"quoted\"; DROP TABLE meta; --");
    char small[4];
    assert_int_equal(ds_store_meta_get(s, "note", small, sizeof small, &err), DS_OK);
    assert_string_equal(small, "it'");   /* truncated, terminated */
    ds_store_close(s);
}

static void test_sensors(void **state)
{
    tmp *t = *state;
    ds_store *s = open_store(t->db, 1);
    ds_err err = { 0 };
    ds_sensor_info a = { 0 }, b = { 0 };
    snprintf(a.name, sizeof a.name, "tokyo");
    snprintf(a.darknet, sizeof a.darknet, "198.51.100.0/24");
    a.v4_addresses = 256;
    snprintf(b.name, sizeof b.name, "osaka");
    snprintf(b.darknet, sizeof b.darknet, "203.0.113.0/24, 2001:db8::/32");
    b.v4_addresses = 256;
    int64_t ida = 0, idb = 0, id2 = 0;
    assert_int_equal(ds_store_sensor_upsert(s, &a, &ida, &err), DS_OK);
    assert_int_equal(ds_store_sensor_upsert(s, &b, &idb, &err), DS_OK);
    assert_true(ida > 0 && idb > 0 && ida != idb);
    /* the same name again, with a changed darknet: same id, new values */
    snprintf(a.darknet, sizeof a.darknet, "198.51.100.0/23");
    a.v4_addresses = 512;
    assert_int_equal(ds_store_sensor_upsert(s, &a, &id2, &err), DS_OK);
    assert_int_equal(id2, ida);
    ds_store_close(s);
    s = open_store(t->db, 0);
    assert_int_equal(ds_store_sensor_upsert(s, &b, &id2, &err), DS_OK);
    assert_int_equal(id2, idb);
    ds_sensor_info *rows = NULL;
    size_t n = 0;
    assert_int_equal(ds_store_sensors(s, &rows, &n, &err), DS_OK);
    assert_int_equal(n, 2);
    for (size_t i = 0; i < n; i++) {
        if (rows[i].id == ida) {
            assert_string_equal(rows[i].name, "tokyo");
            assert_string_equal(rows[i].darknet, "198.51.100.0/23");
            assert_int_equal(rows[i].v4_addresses, 512);
        } else {
            assert_int_equal(rows[i].id, idb);
            assert_string_equal(rows[i].name, "osaka");
            assert_string_equal(rows[i].darknet, "203.0.113.0/24, 2001:db8::/32");
        }
    }
    free(rows);
    ds_store_close(s);
}

static void test_sensor_stats(void **state)
{
    tmp *t = *state;
    ds_store *s = open_store(t->db, 1);
    ds_err err = { 0 };
    ds_sensor_info a = { 0 };
    snprintf(a.name, sizeof a.name, "alpha");
    int64_t ida = 0;
    assert_int_equal(ds_store_sensor_upsert(s, &a, &ida, &err), DS_OK);
    for (uint8_t file = 1; file <= 3; file++) {
        int64_t f = begin_ok(s, file, "f.pcap");
        ds_agg_counts c = { 0 };
        c.packets = 100u * file;
        c.outside = file;
        c.outcome[DS_PKT_TRUNCATED] = 2;
        c.outcome[DS_PKT_FRAGMENT] = 3;
        c.outcome[DS_PKT_MALFORMED] = 4;
        c.outcome[DS_PKT_BAD_TIMESTAMP] = file;
        for (int e = 0; e < DS_ENC__COUNT; e++)
            c.encap[e] = (uint64_t)(e + 1) * file;   /* each column its own */
        c.first_ns = 1000u * file;
        c.last_ns = 5000u * file;
        assert_int_equal(ds_store_put_counts(s, f, ida, &c, &err), DS_OK);
        ds_agg_counts u = { 0 };
        u.outcome[DS_PKT_NON_IP] = 7;
        u.outcome[DS_PKT_UNKNOWN_LINK] = 1;
        u.outcome[DS_PKT_BAD_TIMESTAMP] = file == 2 ? 5 : 0;
        u.first_ns = file == 1 ? 0 : 500;   /* 0 = none: not the minimum */
        u.last_ns = 600;
        assert_int_equal(ds_store_put_counts(s, f, 0, &u, &err), DS_OK);
        commit_ok(s);
    }
    ds_sensor_stats *st = NULL;
    size_t n = 0;
    assert_int_equal(ds_store_sensor_stats(s, &st, &n, &err), DS_OK);
    assert_int_equal(n, 2);
    /* sensors first, then unattributed (0) */
    assert_int_equal(st[0].sensor_id, ida);
    assert_string_equal(st[0].name, "alpha");
    assert_int_equal(st[0].c.packets, 600);
    assert_int_equal(st[0].c.outside, 6);
    assert_int_equal(st[0].c.outcome[DS_PKT_TRUNCATED], 6);
    assert_int_equal(st[0].c.outcome[DS_PKT_FRAGMENT], 9);
    assert_int_equal(st[0].c.outcome[DS_PKT_MALFORMED], 12);
    assert_int_equal(st[0].c.outcome[DS_PKT_BAD_TIMESTAMP], 6);
    for (int e = 0; e < DS_ENC__COUNT; e++)
        assert_int_equal(st[0].c.encap[e], (e + 1) * 6);
    assert_int_equal(st[1].c.encap[3], 0);
    assert_int_equal(st[0].c.first_ns, 1000);
    assert_int_equal(st[0].c.last_ns, 15000);
    assert_int_equal(st[0].files, 3);
    assert_int_equal(st[1].sensor_id, 0);
    assert_int_equal(st[1].c.outcome[DS_PKT_NON_IP], 21);
    assert_int_equal(st[1].c.outcome[DS_PKT_UNKNOWN_LINK], 3);
    assert_int_equal(st[1].c.outcome[DS_PKT_BAD_TIMESTAMP], 5);
    assert_int_equal(st[1].c.first_ns, 500);
    assert_int_equal(st[1].c.last_ns, 600);
    assert_int_equal(st[1].files, 3);
    free(st);
    /* the same counts for one file and sensor twice: refused (one row per file and sensor) */
    int64_t f = begin_ok(s, 20, "g.pcap");
    ds_agg_counts c = { .packets = 1 };
    assert_int_equal(ds_store_put_counts(s, f, ida, &c, &err), DS_OK);
    assert_int_not_equal(ds_store_put_counts(s, f, ida, &c, &err), DS_OK);
    ds_store_rollback(s);
    ds_store_close(s);
}

static void sql(const char *db, const char *stmt);

/* A store whose counts table predates bad_timestamp (and enc_*) gets the columns at its next open; its old rows
 * read as 0, and new rows are written by column name (the added column comes last there). */
static void test_counts_added_column(void **state)
{
    tmp *t = *state;
    ds_err err = { 0 };
    ds_store *s = open_store(t->db, 1);
    int64_t f = begin_ok(s, 1, "old.pcap");
    commit_ok(s);
    ds_store_close(s);
    /* the counts table as darkscope wrote it before the column, with one row */
    sql(t->db, "DROP TABLE counts");
    sql(t->db, "CREATE TABLE counts(file_id INTEGER NOT NULL, sensor_id INTEGER NOT NULL, packets INTEGER,"
               " outside INTEGER, non_ip INTEGER, truncated INTEGER, fragment INTEGER, malformed INTEGER,"
               " unknown_link INTEGER, first_ns INTEGER, last_ns INTEGER, PRIMARY KEY(file_id, sensor_id))");
    char stmt[160];
    snprintf(stmt, sizeof stmt, "INSERT INTO counts VALUES(%lld, 0, 10, 1, 2, 3, 4, 5, 6, 700, 800)", (long long)f);
    sql(t->db, stmt);
    s = open_store(t->db, 0);
    f = begin_ok(s, 2, "new.pcap");
    ds_agg_counts c = { .packets = 1, .first_ns = 900, .last_ns = 1000 };
    c.outcome[DS_PKT_BAD_TIMESTAMP] = 42;
    c.outcome[DS_PKT_UNKNOWN_LINK] = 1;
    c.encap[3] = 9;   /* gre: a column added at open too */
    assert_int_equal(ds_store_put_counts(s, f, 0, &c, &err), DS_OK);
    commit_ok(s);
    ds_sensor_stats *st = NULL;
    size_t n = 0;
    assert_int_equal(ds_store_sensor_stats(s, &st, &n, &err), DS_OK);
    assert_int_equal(n, 1);
    assert_int_equal(st[0].c.packets, 11);
    assert_int_equal(st[0].c.outcome[DS_PKT_UNKNOWN_LINK], 7);
    assert_int_equal(st[0].c.outcome[DS_PKT_BAD_TIMESTAMP], 42);
    assert_int_equal(st[0].c.encap[3], 9);
    assert_int_equal(st[0].c.encap[0], 0);
    assert_int_equal(st[0].c.first_ns, 700);
    assert_int_equal(st[0].c.last_ns, 1000);
    assert_int_equal(st[0].files, 2);
    free(st);
    ds_store_close(s);
}

static void test_day_span(void **state)
{
    tmp *t = *state;
    ds_store *s = open_store(t->db, 1);
    uint8_t *d = make_records(DS_CHUNK_SOURCES, 2, 5, 0);
    int32_t first = -5, last = -5;
    ds_err err = { 0 };
    assert_int_equal(ds_store_day_span(s, &first, &last, &err), DS_ENOTFOUND);
    int64_t f = begin_ok(s, 1, "a");
    put_ok(s, f, 1, 19000, DS_CHUNK_HOURLY, d, 2);
    put_ok(s, f, 2, 19500, DS_CHUNK_HOURLY, d, 2);
    put_ok(s, f, 1, 19200, DS_CHUNK_HOURLY, d, 2);
    commit_ok(s);
    assert_int_equal(ds_store_day_span(s, &first, &last, &err), DS_OK);
    assert_int_equal(first, 19000);
    assert_int_equal(last, 19500);
    ds_store_close(s);
    free(d);
}

/* ---- damage ------------------------------------------------------------------------------- */

static void sql(const char *db, const char *stmt)
{
    sqlite3 *h = NULL;
    assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
    char *msg = NULL;
    if (sqlite3_exec(h, stmt, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("%s: %s", stmt, msg ? msg : "?");
    sqlite3_close(h);
}

/* Flip bytes in the middle of one chunk's BLOB through the sqlite3 API. */
static void corrupt_blob(const char *db, int day)
{
    sqlite3 *h = NULL;
    assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
    sqlite3_stmt *q = NULL;
    assert_int_equal(sqlite3_prepare_v2(h, "SELECT id, data FROM chunks WHERE day = ?", -1, &q, NULL), SQLITE_OK);
    sqlite3_bind_int(q, 1, day);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    sqlite3_int64 id = sqlite3_column_int64(q, 0);
    int n = sqlite3_column_bytes(q, 1);
    uint8_t *b = malloc((size_t)n);
    assert_non_null(b);
    memcpy(b, sqlite3_column_blob(q, 1), (size_t)n);
    sqlite3_finalize(q);
    for (int i = 0; i < n; i++)   /* every byte: header, block headers and content */
        b[i] ^= (uint8_t)(0x5a + i);
    assert_int_equal(sqlite3_prepare_v2(h, "UPDATE chunks SET data = ? WHERE id = ?", -1, &q, NULL), SQLITE_OK);
    sqlite3_bind_blob(q, 1, b, n, SQLITE_TRANSIENT);
    sqlite3_bind_int64(q, 2, id);
    assert_int_equal(sqlite3_step(q), SQLITE_DONE);
    sqlite3_finalize(q);
    sqlite3_close(h);
    free(b);
}

static void expect_damaged(const char *db, int kind, int day)
{
    ds_store *s = open_store(db, 0);
    scan_log l;
    ds_err err = { 0 };
    ds_rc rc = scan_into(s, kind, 0, day, day, &l, &err);
    log_free(&l);
    ds_store_close(s);
    if (rc != DS_ESTORE)
        fail_msg("day %d: expected DS_ESTORE, got %d (%s)", day, rc, err.msg);
    if (!strstr(err.msg, "damaged") || !strstr(err.msg, db))
        fail_msg("unclear message: %s", err.msg);
}

static void test_damaged_chunk(void **state)
{
    tmp *t = *state;
    ds_store *s = open_store(t->db, 1);
    uint8_t *d = make_records(DS_CHUNK_SRCSVC, 2000, 6, 1);
    int64_t f = begin_ok(s, 1, "a");
    for (int day = 1; day <= 8; day++)
        put_ok(s, f, 1, day, DS_CHUNK_SRCSVC, d, 2000);
    commit_ok(s);
    ds_store_close(s);

    corrupt_blob(t->db, 1);
    expect_damaged(t->db, DS_CHUNK_SRCSVC, 1);
    sql(t->db, "UPDATE chunks SET nrec = nrec + 1 WHERE day = 2");           /* count disagrees */
    expect_damaged(t->db, DS_CHUNK_SRCSVC, 2);
    sql(t->db, "UPDATE chunks SET nrec = nrec - 1 WHERE day = 3");
    expect_damaged(t->db, DS_CHUNK_SRCSVC, 3);
    sql(t->db, "UPDATE chunks SET data = substr(data, 1, length(data) / 2) WHERE day = 4");   /* cut short */
    expect_damaged(t->db, DS_CHUNK_SRCSVC, 4);
    sql(t->db, "UPDATE chunks SET data = x'' WHERE day = 5");                 /* empty */
    expect_damaged(t->db, DS_CHUNK_SRCSVC, 5);
    sql(t->db, "UPDATE chunks SET nrec = -1 WHERE day = 6");
    expect_damaged(t->db, DS_CHUNK_SRCSVC, 6);
    sql(t->db, "UPDATE chunks SET nrec = 9223372036854775807 WHERE day = 7");
    expect_damaged(t->db, DS_CHUNK_SRCSVC, 7);
    /* the untouched chunk still reads */
    s = open_store(t->db, 0);
    scan_log l;
    ds_err err = { 0 };
    assert_int_equal(scan_into(s, DS_CHUNK_SRCSVC, 0, 8, 8, &l, &err), DS_OK);
    assert_int_equal(l.n, 1);
    assert_memory_equal(l.c[0].data, d, 2000 * DS_REC_SRCSVC);
    log_free(&l);
    /* and a scan over the whole range stops at the first damaged one */
    assert_int_equal(scan_into(s, DS_CHUNK_SRCSVC, 0, 0, 100, &l, &err), DS_ESTORE);
    log_free(&l);
    ds_store_close(s);
    free(d);
}

/* ---- the chunk file (store_sqlite.c's design note) ---------------------------------------- */

static long long file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long long)st.st_size : -1;
}

static void chunk_path(const tmp *t, char *out, size_t len) { snprintf(out, len, "%s-chunks", t->db); }

/* One text value from the store, by SQL (meta rows, counts). */
static void sql_text(const char *db, const char *stmt, char *out, size_t len)
{
    sqlite3 *h = NULL;
    sqlite3_stmt *q = NULL;
    assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(h, stmt, -1, &q, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    snprintf(out, len, "%s", (const char *)sqlite3_column_text(q, 0));
    sqlite3_finalize(q);
    sqlite3_close(h);
}

static void expect_chunks(const char *db, int kind, int32_t from, int32_t to, size_t n, const uint8_t *d, size_t nrec)
{
    ds_store *s = open_store(db, 0);
    scan_log l;
    ds_err err = { 0 };
    ds_rc rc = scan_into(s, kind, 0, from, to, &l, &err);
    if (rc != DS_OK)
        fail_msg("scan: %s", err.msg);
    assert_int_equal(l.n, n);
    for (size_t i = 0; i < l.n; i++) {
        assert_int_equal(l.c[i].nrec, nrec);
        assert_memory_equal(l.c[i].data, d, nrec * ds_rec_size(kind));
    }
    log_free(&l);
    ds_store_close(s);
}

/* A new store at db holding one committed file: chunks of `kind` for days [from, to], each the
 * records d. */
static void store_one_file(const char *db, int kind, const uint8_t *d, size_t nrec, int32_t from, int32_t to)
{
    ds_store *s = open_store(db, 1);
    int64_t f = begin_ok(s, 1, "a");
    for (int32_t day = from; day <= to; day++)
        put_ok(s, f, 1, day, kind, d, nrec);
    commit_ok(s);
    ds_store_close(s);
}

/* A store on disk keeps the frames in PATH-chunks, the rows only their place, and meta.chunks_end
 * its committed length; the store says version 3. */
static void test_chunk_file(void **state)
{
    tmp *t = *state;
    char cpath[160], v[64];
    chunk_path(t, cpath, sizeof cpath);
    uint8_t *d = make_records(DS_CHUNK_SRCSVC, 3000, 4, 0);
    store_one_file(t->db, DS_CHUNK_SRCSVC, d, 3000, 1, 3);
    long long size = file_size(cpath);
    assert_true(size > 0);
    sql_text(t->db, "SELECT value FROM meta WHERE key='chunks_end'", v, sizeof v);
    assert_int_equal(atoll(v), size);
    sql_text(t->db, "SELECT value FROM meta WHERE key='schema_version'", v, sizeof v);
    assert_string_equal(v, "3");
    sql_text(t->db, "SELECT group_concat(codec || ':' || length(data)) FROM chunks", v, sizeof v);
    assert_string_equal(v, "2:16,2:16,2:16");
    expect_chunks(t->db, DS_CHUNK_SRCSVC, 0, 10, 3, d, 3000);
    free(d);
}

/* A rollback, and a close inside a transaction, leave the chunk file byte for byte as it was. */
static void test_chunk_file_rollback(void **state)
{
    tmp *t = *state;
    char cpath[160], cmd[400];
    chunk_path(t, cpath, sizeof cpath);
    uint8_t *d = make_records(DS_CHUNK_HOURLY, 500, 5, 0);
    ds_store *s = open_store(t->db, 1);
    int64_t f = begin_ok(s, 1, "a");
    put_ok(s, f, 1, 1, DS_CHUNK_HOURLY, d, 500);
    commit_ok(s);
    long long size = file_size(cpath);
    snprintf(cmd, sizeof cmd, "cp %s %s.before", cpath, t->db);
    assert_int_equal(system(cmd), 0);
    f = begin_ok(s, 2, "b");
    put_ok(s, f, 1, 2, DS_CHUNK_HOURLY, d, 500);
    assert_true(file_size(cpath) > size);   /* written ahead of the commit ... */
    ds_store_rollback(s);
    assert_int_equal(file_size(cpath), size);   /* ... and taken back */
    f = begin_ok(s, 3, "c");
    put_ok(s, f, 1, 3, DS_CHUNK_HOURLY, d, 500);
    ds_store_close(s);   /* closing inside a transaction rolls back */
    assert_int_equal(file_size(cpath), size);
    snprintf(cmd, sizeof cmd, "cmp -s %s %s.before", cpath, t->db);
    assert_int_equal(system(cmd), 0);
    expect_chunks(t->db, DS_CHUNK_HOURLY, 0, 10, 1, d, 500);
    free(d);
}

/* Bytes past chunks_end (what a writer killed before its COMMIT leaves) are never read, and the
 * next writer cuts them off before appending. */
static void test_chunk_file_orphans(void **state)
{
    tmp *t = *state;
    char cpath[160];
    chunk_path(t, cpath, sizeof cpath);
    uint8_t *d = make_records(DS_CHUNK_DSTMAP, 50, 6, 0);
    store_one_file(t->db, DS_CHUNK_DSTMAP, d, 50, 1, 1);
    long long size = file_size(cpath);
    FILE *fp = fopen(cpath, "ab");
    assert_non_null(fp);
    for (int i = 0; i < 10000; i++)
        fputc(0xa5, fp);
    fclose(fp);
    expect_chunks(t->db, DS_CHUNK_DSTMAP, 0, 10, 1, d, 50);
    ds_store *s = open_store(t->db, 0);
    int64_t f = begin_ok(s, 2, "b");
    put_ok(s, f, 1, 2, DS_CHUNK_DSTMAP, d, 50);
    commit_ok(s);
    ds_store_close(s);
    /* the new frame went where the orphans began: the file is the two frames only */
    long long size2 = file_size(cpath);
    assert_true(size2 > size && size2 < size + 10000);
    assert_int_equal(size2, 2 * size);   /* the same records compress to the same frame */
    expect_chunks(t->db, DS_CHUNK_DSTMAP, 0, 10, 2, d, 50);
    free(d);
}

static void expect_scan_error(const char *db, int kind, const char *want1, const char *want2)
{
    ds_store *s = open_store(db, 0);
    scan_log l;
    ds_err err = { 0 };
    ds_rc rc = scan_into(s, kind, 0, 0, 100, &l, &err);
    log_free(&l);
    ds_store_close(s);
    if (rc != DS_ESTORE || !strstr(err.msg, want1) || !strstr(err.msg, want2))
        fail_msg("want DS_ESTORE naming '%s' and '%s', got %d: %s", want1, want2, rc, err.msg);
}

/* A chunk file that is missing, cut short or damaged gives one clear error, never a crash; a
 * writer refuses to append to a chunk file shorter than the store says. */
static void test_chunk_file_damage(void **state)
{
    tmp *t = *state;
    char cpath[160];
    chunk_path(t, cpath, sizeof cpath);
    uint8_t *d = make_records(DS_CHUNK_SRCSVC, 2000, 7, 0);
    store_one_file(t->db, DS_CHUNK_SRCSVC, d, 2000, 1, 2);
    long long size = file_size(cpath);
    char keep[200], cmd[400];
    snprintf(keep, sizeof keep, "%s.keep", t->db);
    snprintf(cmd, sizeof cmd, "cp %s %s", cpath, keep);
    assert_int_equal(system(cmd), 0);

    /* the bytes of the second frame flipped */
    FILE *fp = fopen(cpath, "r+b");
    assert_non_null(fp);
    assert_int_equal(fseek(fp, size / 2 + 8, SEEK_SET), 0);
    for (int i = 0; i < 64; i++)
        fputc(0x5a ^ i, fp);
    fclose(fp);
    expect_damaged(t->db, DS_CHUNK_SRCSVC, 2);
    expect_chunks(t->db, DS_CHUNK_SRCSVC, 1, 1, 1, d, 2000);   /* the first still reads */

    /* cut short: the second frame lies past the end */
    assert_int_equal(truncate(cpath, size / 2 + 10), 0);
    expect_scan_error(t->db, DS_CHUNK_SRCSVC, "damaged", "past the end");
    /* and a writer will not append to it */
    ds_store *s = open_store(t->db, 0);
    int64_t f = begin_ok(s, 2, "b");
    ds_err err = { 0 };
    ds_rc rc = ds_store_put_chunk(s, f, 1, 3, DS_CHUNK_SRCSVC, d, 2000, DS_REC_SRCSVC, &err);
    if (rc != DS_ESTORE || !strstr(err.msg, "cut short or replaced") || !strstr(err.msg, "-chunks"))
        fail_msg("want a refusal naming the chunk file, got %d: %s", rc, err.msg);
    ds_store_rollback(s);
    ds_store_close(s);
    assert_int_equal(file_size(cpath), size / 2 + 10);   /* refused untouched */

    /* missing: the database copied without it */
    assert_int_equal(unlink(cpath), 0);
    expect_scan_error(t->db, DS_CHUNK_SRCSVC, "cannot open its chunk file", "-chunks");

    /* a locator of the wrong length */
    snprintf(cmd, sizeof cmd, "cp %s %s", keep, cpath);
    assert_int_equal(system(cmd), 0);
    expect_chunks(t->db, DS_CHUNK_SRCSVC, 0, 10, 2, d, 2000);
    sql(t->db, "UPDATE chunks SET data = data || x'00' WHERE day = 1");
    expect_damaged(t->db, DS_CHUNK_SRCSVC, 1);
    /* a locator pointing past 2^63 */
    sql(t->db, "UPDATE chunks SET data = x'ffffffffffffff7f1000000000000000' WHERE day = 2");
    expect_damaged(t->db, DS_CHUNK_SRCSVC, 2);
    free(d);
}

/* A store of schema version 2 (frames as BLOBs, no chunk file) is read as it is, and becomes
 * version 3 with its first frame in a chunk file; both kinds of row then read.  Versions outside
 * 2..3 are refused with the versions this build reads. */
static void test_schema2_store(void **state)
{
    tmp *t = *state;
    char cpath[160], v[64];
    chunk_path(t, cpath, sizeof cpath);
    uint8_t *d = make_records(DS_CHUNK_SRCSVC, 700, 8, 0);
    ds_store *s = open_store(t->db, 1);
    int64_t f = begin_ok(s, 1, "a");
    commit_ok(s);
    ds_store_close(s);
    /* what a version 2 darkscope wrote: a zstd frame in the row */
    size_t cap = ZSTD_compressBound(700 * DS_REC_SRCSVC);
    uint8_t *z = malloc(cap);
    assert_non_null(z);
    size_t zlen = ZSTD_compress(z, cap, d, 700 * DS_REC_SRCSVC, 1);
    assert_false(ZSTD_isError(zlen));
    sqlite3 *h = NULL;
    sqlite3_stmt *q = NULL;
    assert_int_equal(sqlite3_open(t->db, &h), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(h, "INSERT INTO chunks(kind, day, sensor_id, file_id, nrec, codec, data)"
                                           " VALUES(?, 1, 1, ?, 700, 1, ?)", -1, &q, NULL), SQLITE_OK);
    sqlite3_bind_int(q, 1, DS_CHUNK_SRCSVC);
    sqlite3_bind_int64(q, 2, f);
    sqlite3_bind_blob(q, 3, z, (int)zlen, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(q), SQLITE_DONE);
    sqlite3_finalize(q);
    assert_int_equal(sqlite3_exec(h, "UPDATE meta SET value='2' WHERE key='schema_version'", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(h);
    unlink(cpath);
    expect_chunks(t->db, DS_CHUNK_SRCSVC, 0, 10, 1, d, 700);
    assert_int_equal(file_size(cpath), -1);   /* reading made no chunk file */
    sql_text(t->db, "SELECT value FROM meta WHERE key='schema_version'", v, sizeof v);
    assert_string_equal(v, "2");
    s = open_store(t->db, 0);
    f = begin_ok(s, 2, "b");
    put_ok(s, f, 1, 2, DS_CHUNK_SRCSVC, d, 700);
    commit_ok(s);
    ds_store_close(s);
    sql_text(t->db, "SELECT value FROM meta WHERE key='schema_version'", v, sizeof v);
    assert_string_equal(v, "3");
    sql_text(t->db, "SELECT group_concat(codec) FROM chunks ORDER BY day", v, sizeof v);
    assert_string_equal(v, "1,2");
    expect_chunks(t->db, DS_CHUNK_SRCSVC, 0, 10, 2, d, 700);
    const char *bad[] = { "1", "4", "", "3x" };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char stmt[128];
        snprintf(stmt, sizeof stmt, "UPDATE meta SET value='%s' WHERE key='schema_version'", bad[i]);
        sql(t->db, stmt);
        ds_store *x = NULL;
        ds_err err = { 0 };
        assert_int_equal(ds_store_sqlite.open(&x, t->db, 0, &err), DS_ESTORE);
        assert_null(x);
        if (!strstr(err.msg, "schema version") || !strstr(err.msg, "versions 2 to 3"))
            fail_msg("unclear refusal: %s", err.msg);
    }
    free(z);
    free(d);
}

/* Writers in several processes at once, each rolling back every other transaction after writing
 * its frames: every committed chunk reads back exactly, and the chunk file ends at chunks_end.
 * (A rollback cuts the file back while it still holds the write lock; cutting after ROLLBACK
 * could destroy frames another writer had just appended there.) */
static void test_chunk_file_concurrent_writers(void **state)
{
    tmp *t = *state;
    enum { PROCS = 3, ROUNDS = 24, NREC = 400 };
    char cpath[160], v[64];
    chunk_path(t, cpath, sizeof cpath);
    ds_store *s = open_store(t->db, 1);
    ds_store_close(s);
    pid_t kids[PROCS];
    for (int p = 0; p < PROCS; p++) {
        if ((kids[p] = fork()) == 0) {
            int bad = 0;
            for (int r = 0; r < ROUNDS && !bad; r++) {
                ds_store *w = NULL;
                ds_err err = { 0 };
                if (ds_store_sqlite.open(&w, t->db, 0, &err) != DS_OK) {
                    bad = 1;
                    break;
                }
                uint8_t tag = (uint8_t)(p * ROUNDS + r + 1);
                uint8_t *d = make_records(DS_CHUNK_SRCSVC, NREC, tag, 0);
                ds_file_meta f = file_meta(tag, "w.pcap");
                int64_t id = 0;
                bad = ds_store_begin(w, &f, &id, &err) != DS_OK ||
                      ds_store_put_chunk(w, id, 1, tag, DS_CHUNK_SRCSVC, d, NREC, DS_REC_SRCSVC, &err) != DS_OK;
                if (!bad && r % 2)
                    ds_store_rollback(w);
                else if (!bad)
                    bad = ds_store_commit(w, &err) != DS_OK;
                if (bad)
                    fprintf(stderr, "writer %d round %d: %s\n", p, r, err.msg);
                ds_store_close(w);
                free(d);
            }
            _exit(bad);
        }
        assert_true(kids[p] > 0);
    }
    for (int p = 0; p < PROCS; p++) {
        int st = 0;
        assert_int_equal(waitpid(kids[p], &st, 0), kids[p]);
        assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    }
    /* every even round committed: its chunk (day = tag) holds its own records */
    for (int p = 0; p < PROCS; p++)
        for (int r = 0; r < ROUNDS; r++) {
            uint8_t tag = (uint8_t)(p * ROUNDS + r + 1);
            uint8_t *d = make_records(DS_CHUNK_SRCSVC, NREC, tag, 0);
            expect_chunks(t->db, DS_CHUNK_SRCSVC, tag, tag, r % 2 ? 0 : 1, d, NREC);
            free(d);
        }
    sql_text(t->db, "SELECT value FROM meta WHERE key='chunks_end'", v, sizeof v);
    assert_int_equal(atoll(v), file_size(cpath));
}

/* A store in memory has no file to put a chunk file beside: its frames stay in the rows. */
static void test_memory_store_inline(void **state)
{
    (void)state;
    uint8_t *d = make_records(DS_CHUNK_HOURLY, 100, 9, 0);
    ds_store *s = open_store(":memory:", 1);
    int64_t f = begin_ok(s, 1, "m");
    put_ok(s, f, 1, 4, DS_CHUNK_HOURLY, d, 100);
    commit_ok(s);
    scan_log l;
    ds_err err = { 0 };
    assert_int_equal(scan_into(s, DS_CHUNK_HOURLY, 0, 0, 10, &l, &err), DS_OK);
    assert_int_equal(l.n, 1);
    assert_memory_equal(l.c[0].data, d, 100 * DS_REC_HOURLY);
    log_free(&l);
    ds_store_close(s);
    assert_int_equal(file_size(":memory:-chunks"), -1);
    assert_int_equal(file_size("-chunks"), -1);
    free(d);
}

/* An error from the callback stops the scan and is passed up. */
static ds_rc refuse(void *ctx, int64_t sensor_id, int32_t day, const uint8_t *data, size_t nrec, ds_err *err)
{
    int *calls = ctx;
    (*calls)++;
    return ds_fail(err, DS_ENOMEM, "callback refused");
}

static void test_scan_callback_error(void **state)
{
    tmp *t = *state;
    ds_store *s = open_store(t->db, 1);
    uint8_t *d = make_records(DS_CHUNK_DSTMAP, 4, 7, 0);
    int64_t f = begin_ok(s, 1, "a");
    put_ok(s, f, 1, 1, DS_CHUNK_DSTMAP, d, 4);
    put_ok(s, f, 1, 2, DS_CHUNK_DSTMAP, d, 4);
    commit_ok(s);
    int calls = 0;
    ds_err err = { 0 };
    assert_int_equal(ds_store_scan(s, DS_CHUNK_DSTMAP, 0, 0, 10, refuse, &calls, &err), DS_ENOMEM);
    assert_int_equal(calls, 1);
    assert_string_equal(err.msg, "callback refused");
    ds_store_close(s);
    free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_open_create, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refuse_non_database, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refuse_foreign_database, setup, teardown),
        cmocka_unit_test_setup_teardown(test_put_chunk_unknown_kind, setup, teardown),
        cmocka_unit_test_setup_teardown(test_chunk_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mixed_codecs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_empty_chunk, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rollback_leaves_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cache_after_rollback, setup, teardown),
        cmocka_unit_test_setup_teardown(test_duplicate_hash, setup, teardown),
        cmocka_unit_test_setup_teardown(test_meta, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sensors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sensor_stats, setup, teardown),
        cmocka_unit_test_setup_teardown(test_counts_added_column, setup, teardown),
        cmocka_unit_test_setup_teardown(test_day_span, setup, teardown),
        cmocka_unit_test_setup_teardown(test_damaged_chunk, setup, teardown),
        cmocka_unit_test_setup_teardown(test_scan_callback_error, setup, teardown),
        cmocka_unit_test_setup_teardown(test_chunk_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_chunk_file_rollback, setup, teardown),
        cmocka_unit_test_setup_teardown(test_chunk_file_orphans, setup, teardown),
        cmocka_unit_test_setup_teardown(test_chunk_file_damage, setup, teardown),
        cmocka_unit_test_setup_teardown(test_schema2_store, setup, teardown),
        cmocka_unit_test_setup_teardown(test_chunk_file_concurrent_writers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_memory_store_inline, setup, teardown),
    };
    return cmocka_run_group_tests(tests, 0, NULL);
}
