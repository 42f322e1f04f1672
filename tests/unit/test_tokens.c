/* test_tokens.c: the collector's tokens file (src/net/tokens.c) and its ledger in the store
 * (segment_get / ledger_put / sensor_health of store_sqlite.c, added for the collector).
 *
 * Tokens: a new token has the documented shape and verifies for its sensor only (OK / OTHER /
 * BAD); the file round-trips, keeps no token in clear, is mode 0600 and is replaced atomically;
 * damaged lines, duplicate names and bad names are refused with the line number.
 * Ledger: a segment is found after ledger_put with its hash and packets, recorded once however
 * often it is put (health counts it once), health merges reported values, and a store that
 * never saw an upload answers "not found" / no rows without growing tables.
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
#include <sys/stat.h>
#include <cmocka.h>

#include "net/tokens.h"
#include "store/store.h"

typedef struct tmp { char dir[64]; char path[128]; } tmp;

static int setup(void **state)
{
    tmp *t = calloc(1, sizeof *t);
    if (!t)
        return -1;
    snprintf(t->dir, sizeof t->dir, "/tmp/ds_test_tokens.XXXXXX");
    if (!mkdtemp(t->dir)) {
        free(t);
        return -1;
    }
    snprintf(t->path, sizeof t->path, "%s/tokens", t->dir);
    *state = t;
    return 0;
}

static int teardown(void **state)
{
    tmp *t = *state;
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", t->dir);
    if (system(cmd) != 0)
        return -1;
    free(t);
    return 0;
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void test_generate_shape(void **state)
{
    (void)state;
    char a[DS_TOKEN_LEN + 1], b[DS_TOKEN_LEN + 1];
    ds_err err = { 0 };
    assert_int_equal(ds_token_generate(a, sizeof a, &err), DS_OK);
    assert_int_equal(ds_token_generate(b, sizeof b, &err), DS_OK);
    assert_int_equal(strlen(a), DS_TOKEN_LEN);
    assert_memory_equal(a, "dst_", 4);
    for (size_t i = 4; i < DS_TOKEN_LEN; i++)
        assert_non_null(strchr("0123456789abcdef", a[i]));
    assert_string_not_equal(a, b);
    assert_int_equal(ds_token_generate(a, DS_TOKEN_LEN, &err), DS_EINVAL);   /* no room for the NUL */
}

static void test_check_verdicts(void **state)
{
    (void)state;
    ds_tokens t = { 0 };
    ds_err err = { 0 };
    char tokyo[DS_TOKEN_LEN + 1], osaka[DS_TOKEN_LEN + 1];
    assert_int_equal(ds_token_generate(tokyo, sizeof tokyo, &err), DS_OK);
    assert_int_equal(ds_token_generate(osaka, sizeof osaka, &err), DS_OK);
    assert_int_equal(ds_tokens_set(&t, "tokyo", tokyo, 0, &err), DS_OK);
    assert_int_equal(ds_tokens_set(&t, "osaka", osaka, 0, &err), DS_OK);
    assert_int_equal(ds_tokens_check(&t, "tokyo", tokyo), DS_TOKEN_OK);
    assert_int_equal(ds_tokens_check(&t, "osaka", osaka), DS_TOKEN_OK);
    assert_int_equal(ds_tokens_check(&t, "osaka", tokyo), DS_TOKEN_OTHER);
    assert_int_equal(ds_tokens_check(&t, "nagoya", tokyo), DS_TOKEN_OTHER);
    char wrong[DS_TOKEN_LEN + 1];
    memcpy(wrong, tokyo, sizeof wrong);
    wrong[DS_TOKEN_LEN - 1] = wrong[DS_TOKEN_LEN - 1] == '0' ? '1' : '0';   /* one digit off */
    assert_int_equal(ds_tokens_check(&t, "tokyo", wrong), DS_TOKEN_BAD);
    /* serve's readers: whose is it, whoever it is */
    assert_int_equal(ds_tokens_find(&t, tokyo), 0);
    assert_int_equal(ds_tokens_find(&t, osaka), 1);
    assert_int_equal(ds_tokens_find(&t, wrong), -1);
    assert_int_equal(ds_tokens_find(&t, ""), -1);
    assert_int_equal(ds_tokens_find(&t, "dst_"), -1);
    assert_int_equal(ds_tokens_check(&t, "tokyo", ""), DS_TOKEN_BAD);
    assert_int_equal(ds_tokens_check(&t, "tokyo", "dst_"), DS_TOKEN_BAD);
    char longer[DS_TOKEN_LEN + 2];
    snprintf(longer, sizeof longer, "%s0", tokyo);
    assert_int_equal(ds_tokens_check(&t, "tokyo", longer), DS_TOKEN_BAD);   /* a prefix match is no match */
    assert_int_equal(ds_tokens_find(&t, longer), -1);
    char noprefix[DS_TOKEN_LEN + 1];
    memcpy(noprefix, tokyo, sizeof noprefix);
    noprefix[0] = 'x';
    assert_int_equal(ds_tokens_check(&t, "tokyo", noprefix), DS_TOKEN_BAD);
    /* a second token for tokyo only with replace; then the old one stops working */
    char again[DS_TOKEN_LEN + 1];
    assert_int_equal(ds_token_generate(again, sizeof again, &err), DS_OK);
    assert_int_equal(ds_tokens_set(&t, "tokyo", again, 0, &err), DS_EEXIST);
    assert_non_null(strstr(err.msg, "--replace"));
    assert_int_equal(ds_tokens_set(&t, "tokyo", again, 1, &err), DS_OK);
    assert_int_equal(t.n, 2);
    assert_int_equal(ds_tokens_check(&t, "tokyo", again), DS_TOKEN_OK);
    assert_int_equal(ds_tokens_check(&t, "tokyo", tokyo), DS_TOKEN_BAD);
    assert_int_equal(ds_tokens_remove(&t, "osaka"), 1);
    assert_int_equal(ds_tokens_remove(&t, "osaka"), 0);
    assert_int_equal(ds_tokens_check(&t, "osaka", osaka), DS_TOKEN_BAD);
    assert_int_equal(ds_tokens_set(&t, "bad name", again, 0, &err), DS_EINVAL);
    assert_int_equal(ds_tokens_set(&t, "", again, 0, &err), DS_EINVAL);
    /* issue #21: "." and ".." name a directory and its parent in the collector's archive */
    assert_int_equal(ds_tokens_set(&t, "..", again, 0, &err), DS_EINVAL);
    assert_non_null(strstr(err.msg, "sensor name '..' is not allowed"));
    assert_int_equal(ds_tokens_set(&t, ".", again, 0, &err), DS_EINVAL);
    assert_int_equal(t.n, 1);
    ds_tokens_free(&t);
}

static void test_file_roundtrip(void **state)
{
    tmp *d = *state;
    ds_tokens t = { 0 }, u = { 0 };
    ds_err err = { 0 };
    char tok[DS_TOKEN_LEN + 1];
    /* missing file: empty when allowed, an error naming the file otherwise */
    assert_int_equal(ds_tokens_load(&t, d->path, 1, &err), DS_OK);
    assert_int_equal(t.n, 0);
    assert_int_equal(ds_tokens_load(&t, d->path, 0, &err), DS_ENOTFOUND);
    assert_non_null(strstr(err.msg, d->path));
    assert_int_equal(ds_token_generate(tok, sizeof tok, &err), DS_OK);
    assert_int_equal(ds_tokens_set(&t, "sensor-1.a_b", tok, 0, &err), DS_OK);
    assert_int_equal(ds_tokens_save(&t, d->path, &err), DS_OK);
    struct stat st;
    assert_int_equal(stat(d->path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    /* the token itself is not in the file */
    FILE *f = fopen(d->path, "r");
    char buf[4096];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    assert_null(strstr(buf, tok + 4));
    assert_non_null(strstr(buf, "sensor-1.a_b "));
    assert_int_equal(ds_tokens_load(&u, d->path, 0, &err), DS_OK);
    assert_int_equal(u.n, 1);
    assert_int_equal(ds_tokens_check(&u, "sensor-1.a_b", tok), DS_TOKEN_OK);
    /* no temporary file left beside it */
    char cmd[256];
    snprintf(cmd, sizeof cmd, "test $(ls -A '%s' | wc -l) -eq 1", d->dir);
    assert_int_equal(system(cmd), 0);
    ds_tokens_free(&t);
    ds_tokens_free(&u);
}

static void test_bad_files(void **state)
{
    tmp *d = *state;
    ds_tokens t = { 0 };
    ds_err err = { 0 };
    const char *salt = "00112233445566778899aabbccddeeff";
    const char *dig = "0011223344556677889900112233445566778899001122334455667788990011";
    char good[256];
    snprintf(good, sizeof good, "# comment\n\n  tokyo %s %s\r\n", salt, dig);
    write_file(d->path, good);
    assert_int_equal(ds_tokens_load(&t, d->path, 0, &err), DS_OK);
    assert_int_equal(t.n, 1);
    assert_string_equal(t.v[0].name, "tokyo");
    assert_int_equal(t.mode & 0777, 0644);   /* written by fopen: the caller warns about it */

    /* short salt; two fields; four fields; a bad name; the same sensor twice */
    char text[512];
    snprintf(text, sizeof text, "tokyo 0011 %s\n", dig);
    write_file(d->path, text);
    assert_int_equal(ds_tokens_load(&t, d->path, 0, &err), DS_EFORMAT);
    assert_non_null(strstr(err.msg, ":1:"));
    assert_int_equal(t.n, 0);
    snprintf(text, sizeof text, "tokyo %s\n", salt);
    write_file(d->path, text);
    assert_int_equal(ds_tokens_load(&t, d->path, 0, &err), DS_EFORMAT);
    snprintf(text, sizeof text, "tokyo %s %s extra\n", salt, dig);
    write_file(d->path, text);
    assert_int_equal(ds_tokens_load(&t, d->path, 0, &err), DS_EFORMAT);
    snprintf(text, sizeof text, "tok/yo %s %s\n", salt, dig);
    write_file(d->path, text);
    assert_int_equal(ds_tokens_load(&t, d->path, 0, &err), DS_EFORMAT);
    snprintf(text, sizeof text, ".. %s %s\n", salt, dig);   /* issue #21 */
    write_file(d->path, text);
    assert_int_equal(ds_tokens_load(&t, d->path, 0, &err), DS_EFORMAT);
    snprintf(text, sizeof text, "tokyo %s %s\ntokyo %s %s\n", salt, dig, salt, dig);
    write_file(d->path, text);
    assert_int_equal(ds_tokens_load(&t, d->path, 0, &err), DS_EFORMAT);
    assert_non_null(strstr(err.msg, ":2:"));
    /* bad hex in the digest */
    char baddig[80];
    snprintf(baddig, sizeof baddig, "%s", dig);
    baddig[10] = 'g';
    snprintf(text, sizeof text, "tokyo %s %s\n", salt, baddig);
    write_file(d->path, text);
    assert_int_equal(ds_tokens_load(&t, d->path, 0, &err), DS_EFORMAT);
    /* a name of 64 characters is one too long */
    char longname[70];
    memset(longname, 'a', 64);
    longname[64] = 0;
    snprintf(text, sizeof text, "%s %s %s\n", longname, salt, dig);
    write_file(d->path, text);
    assert_int_equal(ds_tokens_load(&t, d->path, 0, &err), DS_EFORMAT);
    assert_int_equal(ds_sensor_name_ok(longname), 0);
    longname[63] = 0;
    assert_int_equal(ds_sensor_name_ok(longname), 1);
    /* a directory is not a tokens file */
    assert_int_equal(ds_tokens_load(&t, d->dir, 0, &err), DS_EFORMAT);
    ds_tokens_free(&t);
}

static void test_ledger(void **state)
{
    tmp *d = *state;
    char db[160];
    ds_store *s = NULL;
    ds_err err = { 0 };
    snprintf(db, sizeof db, "%s/store.db", d->dir);
    assert_int_equal(ds_store_open(&s, db, 1, &err), DS_OK);
    ds_segment_rec got;
    ds_sensor_health *rows = NULL;
    size_t n = 99;
    /* before any upload: no ledger tables, nothing found */
    assert_int_equal(ds_store_segment_get(s, "tokyo", 1, &got, &err), DS_ENOTFOUND);
    assert_int_equal(ds_store_sensor_health(s, &rows, &n, &err), DS_OK);
    assert_int_equal(n, 0);
    free(rows);

    ds_segment_rec seg = { .sensor = "tokyo", .seq = 7, .packets = 1000, .bytes = 5000, .committed_at = 1700000000 };
    memset(seg.hash, 0xab, 16);
    ds_sensor_health h = { .name = "tokyo", .last_seen = 1700000000, .last_upload = 1700000000, .last_ns = 5,
                           .kernel_drops = 3, .spool_bytes = 100, .have = DS_HEALTH_HAVE_DROPS | DS_HEALTH_HAVE_SPOOL };
    assert_int_equal(ds_store_ledger_put(s, &seg, &h, &err), DS_OK);
    assert_int_equal(ds_store_ledger_put(s, &seg, &h, &err), DS_OK);   /* the same segment again: kept once */
    assert_int_equal(ds_store_segment_get(s, "tokyo", 7, &got, &err), DS_OK);
    assert_memory_equal(got.hash, seg.hash, 16);
    assert_int_equal(got.packets, 1000);
    assert_int_equal(got.bytes, 5000);
    assert_int_equal(ds_store_segment_get(s, "tokyo", 8, &got, &err), DS_ENOTFOUND);
    assert_int_equal(ds_store_segment_get(s, "osaka", 7, &got, &err), DS_ENOTFOUND);
    /* sequence numbers above INT64_MAX round-trip */
    ds_segment_rec big = seg;
    big.seq = UINT64_MAX;
    assert_int_equal(ds_store_ledger_put(s, &big, NULL, &err), DS_OK);
    assert_int_equal(ds_store_segment_get(s, "tokyo", UINT64_MAX, &got, &err), DS_OK);
    assert_int_equal(got.seq, UINT64_MAX);
    /* health only: no drops reported this time, so the stored value stays; last_ns only grows */
    ds_sensor_health h2 = { .name = "tokyo", .last_seen = 1700000100, .last_ns = 2, .spool_bytes = 50,
                            .have = DS_HEALTH_HAVE_SPOOL };
    assert_int_equal(ds_store_ledger_put(s, NULL, &h2, &err), DS_OK);
    assert_int_equal(ds_store_sensor_health(s, &rows, &n, &err), DS_OK);
    assert_int_equal(n, 1);
    assert_string_equal(rows[0].name, "tokyo");
    assert_int_equal(rows[0].segments, 1);      /* seq 7 counted once; the health-less put of UINT64_MAX not at all */
    assert_int_equal(rows[0].packets, 1000);
    assert_int_equal(rows[0].last_segment, 7);
    assert_int_equal(rows[0].last_upload, 1700000000);
    assert_int_equal(rows[0].last_seen, 1700000100);
    assert_int_equal(rows[0].last_ns, 5);
    assert_int_equal(rows[0].kernel_drops, 3);
    assert_int_equal(rows[0].spool_bytes, 50);
    assert_int_equal(rows[0].have, DS_HEALTH_HAVE_DROPS | DS_HEALTH_HAVE_SPOOL);
    free(rows);
    ds_store_close(s);
    /* and it survives reopening */
    assert_int_equal(ds_store_open(&s, db, 0, &err), DS_OK);
    assert_int_equal(ds_store_segment_get(s, "tokyo", 7, &got, &err), DS_OK);
    ds_store_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_generate_shape),
        cmocka_unit_test(test_check_verdicts),
        cmocka_unit_test_setup_teardown(test_file_roundtrip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ledger, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
