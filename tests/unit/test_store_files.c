/* test_store_files.c: re-sent files in the SQLite backend (src/store/store_files.c, issue #19),
 * through the ops table: file_check() before decoding, and a whole file superseding its stored
 * copy cut short in one transaction.  (A file of its own: test_store.c is past the size we keep
 * files to.)
 *
 * What is checked: file_priors() finds the stored files that may hold a file's bytes by prefix
 * hash and length (the same length, or cut short, not superseded and shorter); file_check()
 * answers a stored hash with begin()'s refusal; supersede()
 * removes the short file's rows from every per-file table (chunks, counts, and a table added
 * later with a file_id column) and keeps its files row marked, all inside the new file's
 * transaction, so a rollback leaves the short file whole; the short file sent again is refused;
 * and no chunk id is ever given out twice.
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
#include <sqlite3.h>
#include <cmocka.h>

#include "core/records.h"
#include "store/store.h"
#include "unit/testdir.h"

typedef struct tmp { char dir[64]; char db[128]; } tmp;

static int setup(void **state)
{
    tmp *t = calloc(1, sizeof *t);
    if (!t || testdir_make(t->dir, sizeof t->dir, "ds_test_store_files") != 0) {
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

static ds_store *open_store(const char *path)
{
    ds_store *s = NULL;
    ds_err err = { 0 };
    if (ds_store_sqlite.open(&s, path, 1, &err) != DS_OK)
        fail_msg("open %s: %s", path, err.msg);
    return s;
}

/* A file: hash from tag, prefix hash from ptag (0: none). */
static ds_file_meta meta(uint8_t tag, uint8_t ptag, const char *path, uint64_t bytes, int truncated)
{
    ds_file_meta f;
    memset(&f, 0, sizeof f);
    for (int i = 0; i < 16; i++) {
        f.hash[i] = (uint8_t)(tag * 31 + i);
        f.prefix_hash[i] = (uint8_t)(ptag * 17 + i);
    }
    f.have_prefix = ptag != 0;
    f.path = path;
    f.bytes = bytes;
    f.records = 10;
    f.truncated = truncated;
    return f;
}

static int64_t sql_int(const char *db, const char *stmt)
{
    sqlite3 *h = NULL;
    sqlite3_stmt *q = NULL;
    assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
    if (sqlite3_prepare_v2(h, stmt, -1, &q, NULL) != SQLITE_OK)
        fail_msg("%s: %s", stmt, sqlite3_errmsg(h));
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    int64_t v = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    sqlite3_close(h);
    return v;
}

static void sql(const char *db, const char *stmt)
{
    sqlite3 *h = NULL;
    assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
    if (sqlite3_exec(h, stmt, NULL, NULL, NULL) != SQLITE_OK)
        fail_msg("%s: %s", stmt, sqlite3_errmsg(h));
    sqlite3_close(h);
}

/* One file committed: nchunks HOURLY chunks on days 1.., and a counts row of `packets`. */
static int64_t store_file(ds_store *s, const ds_file_meta *f, int nchunks, uint64_t packets)
{
    ds_err err = { 0 };
    int64_t id = 0;
    uint8_t rec[DS_REC_HOURLY * 4];
    memset(rec, (int)packets, sizeof rec);
    if (ds_store_begin(s, f, &id, &err) != DS_OK)
        fail_msg("begin: %s", err.msg);
    for (int i = 0; i < nchunks; i++)
        assert_int_equal(ds_store_put_chunk(s, id, 1, 1 + i, DS_CHUNK_HOURLY, rec, 4, DS_REC_HOURLY, &err), DS_OK);
    ds_agg_counts c = { .packets = packets };
    assert_int_equal(ds_store_put_counts(s, id, 1, &c, &err), DS_OK);
    assert_int_equal(ds_store_commit(s, &err), DS_OK);
    return id;
}

static ds_rc priors(ds_store *s, const ds_file_meta *f, ds_file_prior *prior, size_t *n, ds_err *err)
{
    return ds_store_file_priors(s, f, prior, 8, n, err);
}

static ds_rc check(ds_store *s, const ds_file_meta *f, ds_err *err)
{
    uint64_t packets = 0;
    return ds_store_file_check(s, f, &packets, err);
}

/* Candidates: same prefix hash and the same length (a possible duplicate, cut short or not), or
 * cut short, shorter and not superseded; files cut short shorter than the prefix whatever their
 * prefix hash; longest first; none without a prefix hash.  file_check: a stored hash is begin()'s
 * refusal, with the packets it counted. */
static void test_prefix_lookup(void **state)
{
    tmp *t = *state;
    ds_store *s = open_store(t->db);
    ds_file_meta a = meta(1, 9, "cut-a", 200000, 1);      /* a candidate */
    ds_file_meta b = meta(2, 9, "cut-b", 300000, 1);      /* a longer one */
    ds_file_meta c = meta(3, 8, "other-prefix", 250000, 1);
    ds_file_meta d = meta(4, 9, "complete", 250000, 0);   /* not cut short */
    ds_file_meta e = meta(5, 9, "longer", 900000, 1);     /* longer than the new file */
    ds_file_meta g = meta(6, 7, "tiny", 1000, 1);         /* shorter than the prefix */
    ds_file_meta h = meta(7, 9, "same-length", 500000, 0);
    ds_file_meta k = meta(8, 7, "same-length-other-prefix", 500000, 0);
    const ds_file_meta *all[] = { &a, &b, &c, &d, &e, &g, &h, &k };
    for (size_t i = 0; i < 8; i++)
        store_file(s, all[i], 1, 10 + i);
    ds_file_meta f = meta(20, 9, "whole", 500000, 0);
    ds_file_prior p[8];
    size_t n = 0;
    ds_err err = { 0 };
    assert_int_equal(priors(s, &f, p, &n, &err), DS_OK);
    assert_int_equal(n, 4);
    assert_string_equal(p[0].path, "same-length");
    assert_int_equal(p[0].bytes, 500000);
    assert_memory_equal(p[0].hash, h.hash, 16);
    assert_string_equal(p[1].path, "cut-b");
    assert_int_equal(p[1].bytes, 300000);
    assert_memory_equal(p[1].hash, b.hash, 16);
    assert_non_null(strchr(p[1].ingested, ':'));
    assert_string_equal(p[2].path, "cut-a");
    assert_string_equal(p[3].path, "tiny");
    f.have_prefix = 0;   /* stdin: nothing to compare */
    assert_int_equal(priors(s, &f, p, &n, &err), DS_OK);
    assert_int_equal(n, 0);
    /* a stored hash is begin()'s refusal, before any decoding; forced, it is not */
    ds_file_meta again = meta(7, 9, "same-again", 500000, 0);
    uint64_t packets = 0;
    assert_int_equal(ds_store_file_check(s, &again, &packets, &err), DS_EEXIST);
    assert_non_null(strstr(err.msg, "same-again: already ingested (same content as same-length"));
    assert_int_equal(packets, 16);
    again.force = 1;
    assert_int_equal(check(s, &again, &err), DS_OK);
    ds_file_meta fresh = meta(30, 9, "fresh", 500000, 0);
    assert_int_equal(check(s, &fresh, &err), DS_OK);
    ds_store_close(s);
}

/* The whole file supersedes its copy cut short: rolled back, nothing changed; committed, the
 * short file's rows are gone from every per-file table, the whole file's are in, its files row
 * stays (superseded_by), it is refused when sent again, and it is no longer a candidate. */
static void test_supersede(void **state)
{
    tmp *t = *state;
    ds_store *s = open_store(t->db);
    ds_err err = { 0 };
    ds_file_meta other = meta(1, 0, "other", 5000, 0);
    ds_file_meta cut = meta(2, 9, "cut", 200000, 1);
    int64_t oid = store_file(s, &other, 2, 7);
    int64_t cid = store_file(s, &cut, 3, 11);
    char stmt[256];
    /* coverage rows (store.h ds_coverage_row) of both files: the cut file's must leave with it */
    snprintf(stmt, sizeof stmt, "INSERT INTO coverage VALUES(%lld, 1, 1, 1, 2, 0, NULL), (%lld, 1, 1, 1, 2, 0, NULL)",
             (long long)cid, (long long)oid);
    sql(t->db, stmt);
    int64_t max_before = sql_int(t->db, "SELECT max(id) FROM chunks");
    assert_int_equal(sql_int(t->db, "SELECT prefix_hash IS NOT NULL FROM files WHERE path = 'cut'"), 1);   /* kept */
    assert_int_equal(sql_int(t->db, "SELECT prefix_hash IS NULL FROM files WHERE path = 'other'"), 1);

    ds_file_meta whole = meta(3, 9, "whole", 400000, 0);
    ds_file_prior p[8];
    size_t n = 0;
    assert_int_equal(priors(s, &whole, p, &n, &err), DS_OK);
    assert_int_equal(n, 1);
    assert_int_equal(p[0].id, cid);
    uint8_t rec[DS_REC_HOURLY * 4];
    memset(rec, 0x55, sizeof rec);
    for (int commit = 0; commit < 2; commit++) {
        int64_t id = 0;
        assert_int_equal(ds_store_begin(s, &whole, &id, &err), DS_OK);
        for (int i = 0; i < 4; i++)
            assert_int_equal(ds_store_put_chunk(s, id, 1, 1 + i, DS_CHUNK_HOURLY, rec, 4, DS_REC_HOURLY, &err), DS_OK);
        ds_agg_counts c = { .packets = 40 };
        assert_int_equal(ds_store_put_counts(s, id, 1, &c, &err), DS_OK);
        assert_int_equal(ds_store_supersede(s, id, &p[0], &err), DS_OK);
        if (!commit) {
            ds_store_rollback(s);
            /* the short file whole again */
            assert_int_equal(sql_int(t->db, "SELECT count(*) FROM chunks"), 5);
            assert_int_equal(sql_int(t->db, "SELECT sum(packets) FROM counts"), 18);
            assert_int_equal(sql_int(t->db, "SELECT count(*) FROM coverage"), 2);
            assert_int_equal(sql_int(t->db, "SELECT count(*) FROM files WHERE superseded_by IS NOT NULL"), 0);
            assert_int_equal(sql_int(t->db, "SELECT count(*) FROM files"), 2);
            continue;
        }
        assert_int_equal(ds_store_commit(s, &err), DS_OK);
        snprintf(stmt, sizeof stmt, "SELECT min(id) > %lld FROM chunks WHERE file_id = %lld", (long long)max_before,
                 (long long)id);
        assert_int_equal(sql_int(t->db, stmt), 1);   /* the new chunks took new ids */
        snprintf(stmt, sizeof stmt, "SELECT superseded_by = %lld FROM files WHERE id = %lld", (long long)id, (long long)cid);
        assert_int_equal(sql_int(t->db, stmt), 1);
    }
    snprintf(stmt, sizeof stmt, "SELECT count(*) FROM chunks WHERE file_id = %lld", (long long)cid);
    assert_int_equal(sql_int(t->db, stmt), 0);
    snprintf(stmt, sizeof stmt, "SELECT count(*) FROM coverage WHERE file_id = %lld", (long long)cid);
    assert_int_equal(sql_int(t->db, stmt), 0);
    assert_int_equal(sql_int(t->db, "SELECT count(*) FROM chunks"), 6);            /* other's 2, whole's 4 */
    assert_int_equal(sql_int(t->db, "SELECT sum(packets) FROM counts"), 47);       /* other 7 + whole 40 */
    assert_int_equal(sql_int(t->db, "SELECT count(*) FROM coverage"), 1);          /* other's */
    assert_int_equal(sql_int(t->db, "SELECT count(*) FROM files"), 3);

    /* the short file sent again: refused, naming the file that holds it, before and at begin */
    ds_file_meta resent = meta(2, 9, "cut-resent", 200000, 1);
    assert_int_equal(priors(s, &resent, p, &n, &err), DS_OK);   /* found by prefix and length */
    assert_int_equal(n, 1);
    assert_int_equal(p[0].id, cid);
    assert_int_equal(check(s, &resent, &err), DS_EEXIST);
    assert_non_null(strstr(err.msg, "cut-resent: already ingested"));
    assert_non_null(strstr(err.msg, "whole"));
    int64_t id = 0;
    assert_int_equal(ds_store_begin(s, &resent, &id, &err), DS_EEXIST);
    /* and it is no longer a candidate: a second whole copy (other bytes) supersedes nothing */
    ds_file_meta whole2 = meta(4, 9, "whole2", 400000, 0);
    assert_int_equal(priors(s, &whole2, p, &n, &err), DS_OK);
    assert_int_equal(n, 1);   /* only "whole", of the same length */
    assert_string_equal(p[0].path, "whole");
    ds_store_close(s);
}

/* A candidate that changed between file_check and the transaction (superseded by a concurrent
 * ingest, or another hash) is left alone: DS_ENOTFOUND, nothing deleted. */
static void test_supersede_gone(void **state)
{
    tmp *t = *state;
    ds_store *s = open_store(t->db);
    ds_err err = { 0 };
    ds_file_meta cut = meta(2, 9, "cut", 200000, 1);
    store_file(s, &cut, 2, 5);
    ds_file_meta whole = meta(3, 9, "whole", 400000, 0);
    ds_file_prior p[8];
    size_t n = 0;
    assert_int_equal(priors(s, &whole, p, &n, &err), DS_OK);
    assert_int_equal(n, 1);
    ds_file_prior wrong = p[0];
    wrong.hash[0] ^= 1;
    int64_t id = 0;
    assert_int_equal(ds_store_begin(s, &whole, &id, &err), DS_OK);
    assert_int_equal(ds_store_supersede(s, id, &wrong, &err), DS_ENOTFOUND);
    assert_int_equal(ds_store_commit(s, &err), DS_OK);
    assert_int_equal(sql_int(t->db, "SELECT count(*) FROM chunks"), 2);
    sql(t->db, "UPDATE files SET superseded_by = 99 WHERE path = 'cut'");
    ds_file_meta whole2 = meta(4, 9, "whole2", 400000, 0);
    assert_int_equal(ds_store_begin(s, &whole2, &id, &err), DS_OK);
    assert_int_equal(ds_store_supersede(s, id, &p[0], &err), DS_ENOTFOUND);
    ds_store_rollback(s);
    /* outside a transaction it is refused */
    assert_int_equal(ds_store_supersede(s, id, &p[0], &err), DS_EINVAL);
    assert_int_equal(sql_int(t->db, "SELECT count(*) FROM chunks"), 2);
    ds_store_close(s);
}

/* The new file wrote no chunk (another configuration, say), so the short file holds the largest
 * chunk id: that row stays as a tombstone of kind 0, and the next chunk gets a new id, never one
 * a reader may have cached for the old chunk. */
static void test_supersede_keeps_largest_id(void **state)
{
    tmp *t = *state;
    ds_store *s = open_store(t->db);
    ds_err err = { 0 };
    ds_file_meta cut = meta(2, 9, "cut", 200000, 1);
    store_file(s, &cut, 3, 5);
    int64_t max_before = sql_int(t->db, "SELECT max(id) FROM chunks");
    ds_file_meta whole = meta(3, 9, "whole", 400000, 0);
    ds_file_prior p[8];
    size_t n = 0;
    assert_int_equal(priors(s, &whole, p, &n, &err), DS_OK);
    assert_int_equal(n, 1);
    int64_t id = 0;
    assert_int_equal(ds_store_begin(s, &whole, &id, &err), DS_OK);
    assert_int_equal(ds_store_supersede(s, id, &p[0], &err), DS_OK);
    assert_int_equal(ds_store_commit(s, &err), DS_OK);
    assert_int_equal(sql_int(t->db, "SELECT count(*) FROM chunks"), 1);
    assert_int_equal(sql_int(t->db, "SELECT max(id) FROM chunks"), max_before);
    assert_int_equal(sql_int(t->db, "SELECT kind * 100 + nrec FROM chunks"), 0);
    int32_t first, last;
    assert_int_equal(ds_store_day_span(s, &first, &last, &err), DS_ENOTFOUND);   /* nothing to read */
    ds_file_meta next = meta(5, 0, "next", 1000, 0);
    store_file(s, &next, 1, 1);
    assert_true(sql_int(t->db, "SELECT max(id) FROM chunks") > max_before);
    ds_store_close(s);
}

/* A store made before the columns gets them (and the index) at its next open. */
static void test_old_store_gets_columns(void **state)
{
    tmp *t = *state;
    ds_store *s = open_store(t->db);
    ds_store_close(s);
    sql(t->db, "DROP INDEX files_cut; DROP INDEX files_prefix; ALTER TABLE files DROP COLUMN superseded_by; ALTER TABLE files DROP COLUMN prefix_hash");
    s = open_store(t->db);
    ds_store_close(s);
    assert_int_equal(sql_int(t->db, "SELECT count(*) FROM pragma_table_info('files') WHERE name IN "
                                    "('prefix_hash', 'superseded_by')"), 2);
    assert_int_equal(sql_int(t->db, "SELECT count(*) FROM sqlite_master WHERE name IN ('files_cut', 'files_prefix')"), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_prefix_lookup, setup, teardown),
        cmocka_unit_test_setup_teardown(test_supersede, setup, teardown),
        cmocka_unit_test_setup_teardown(test_supersede_gone, setup, teardown),
        cmocka_unit_test_setup_teardown(test_supersede_keeps_largest_id, setup, teardown),
        cmocka_unit_test_setup_teardown(test_old_store_gets_columns, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
