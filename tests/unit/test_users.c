/* test_users.c: net/users.c, the password file of `darkscope serve --users`.
 *
 * A password checks against its own hash only (right / wrong / empty / another user's / an
 * unknown user); an empty password is refused; yescrypt and SHA-512 hashes; the file holds the
 * hash and never the password, round-trips, is mode 0600, and a malformed line is refused naming
 * its line.  (tests/e2e/serve.sh checks HTTP Basic against a running serve.)
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
#include <sys/stat.h>
#include <cmocka.h>

#include "net/users.h"
#include "unit/testdir.h"

static char dir[256], path[300];

static int setup(void **state)
{
    (void)state;
    if (testdir_make(dir, sizeof dir, "ds-users") != 0)
        return -1;
    snprintf(path, sizeof path, "%s/users", dir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    testdir_remove(dir);
    return 0;
}

static void test_check(void **state)
{
    (void)state;
    ds_users u = { 0 };
    ds_err err = { 0 };
    assert_int_equal(ds_users_set(&u, "alice", "s3cret pass", "$y$", 0, &err), DS_OK);
    assert_int_equal(ds_users_set(&u, "bob", "другой", "$6$", 0, &err), DS_OK);
    assert_int_equal(strncmp(u.v[0].hash, "$y$", 3), 0);
    assert_int_equal(strncmp(u.v[1].hash, "$6$", 3), 0);
    assert_int_equal(ds_users_check(&u, "alice", "s3cret pass"), 1);
    assert_int_equal(ds_users_check(&u, "alice", "s3cret pas"), 0);
    assert_int_equal(ds_users_check(&u, "alice", "s3cret pass "), 0);
    assert_int_equal(ds_users_check(&u, "alice", ""), 0);
    assert_int_equal(ds_users_check(&u, "bob", "другой"), 1);
    assert_int_equal(ds_users_check(&u, "bob", "s3cret pass"), 0);   /* alice's */
    assert_int_equal(ds_users_check(&u, "carol", "s3cret pass"), 0);  /* nobody */
    /* refused: empty, an existing user without replace, a bad name, a bad method */
    assert_int_equal(ds_users_set(&u, "carol", "", "$y$", 0, &err), DS_EINVAL);
    assert_non_null(strstr(err.msg, "empty"));
    assert_int_equal(ds_users_set(&u, "alice", "x", "$y$", 0, &err), DS_EEXIST);
    assert_int_not_equal(ds_users_set(&u, "a:b", "x", "$y$", 0, &err), DS_OK);
    assert_int_equal(ds_users_set(&u, "carol", "x", "$1$", 0, &err), DS_EINVAL);
    /* the same password twice: two salts, two hashes */
    char first[DS_USER_HASH_MAX];
    snprintf(first, sizeof first, "%s", u.v[0].hash);
    assert_int_equal(ds_users_set(&u, "alice", "s3cret pass", "$y$", 1, &err), DS_OK);
    assert_string_not_equal(first, u.v[0].hash);
    assert_int_equal(ds_users_check(&u, "alice", "s3cret pass"), 1);
    assert_int_equal(ds_users_remove(&u, "alice"), 1);
    assert_int_equal(ds_users_remove(&u, "alice"), 0);
    assert_int_equal(ds_users_check(&u, "alice", "s3cret pass"), 0);
    ds_users_free(&u);
}

static void test_file(void **state)
{
    (void)state;
    ds_users u = { 0 }, back = { 0 };
    ds_err err = { 0 };
    struct stat st;
    assert_int_equal(ds_users_load(&u, path, 1, &err), DS_OK);   /* missing_ok */
    assert_int_equal(u.n, 0);
    assert_int_equal(ds_users_load(&u, path, 0, &err), DS_ENOTFOUND);
    assert_int_equal(ds_users_set(&u, "alice", "hunter2-hunter2", "$y$", 0, &err), DS_OK);
    assert_int_equal(ds_users_save(&u, path, &err), DS_OK);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    FILE *f = fopen(path, "r");
    char text[4096];
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = 0;
    assert_null(strstr(text, "hunter2"));   /* only the hash */
    assert_non_null(strstr(text, u.v[0].hash));
    assert_int_equal(ds_users_load(&back, path, 0, &err), DS_OK);
    assert_int_equal(back.n, 1);
    assert_int_equal(ds_users_check(&back, "alice", "hunter2-hunter2"), 1);
    /* malformed lines are refused, naming the line */
    static const char *const bad[] = { "alice\n", "alice $y$x$y extra\n", "alice nothash\n", "a:b $6$x$y\n",
                                       "alice $6$x$y\nalice $6$x$z\n", "alice $6$x y\n" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        f = fopen(path, "w");
        fprintf(f, "# comment\n\n%s", bad[i]);
        fclose(f);
        assert_int_equal(ds_users_load(&back, path, 0, &err), DS_EFORMAT);
        assert_non_null(strstr(err.msg, ":3:") ? err.msg : strstr(err.msg, ":4:"));
        assert_int_equal(back.n, 0);
    }
    ds_users_free(&u);
    ds_users_free(&back);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_check),
        cmocka_unit_test(test_file),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
