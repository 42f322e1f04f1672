/* test_dynlib.c: util/dynlib.c (libraries loaded on first use) and the three tables built on it.
 *
 * A table over libm binds typed pointers that compute what libm computes; a missing library and
 * a missing function each fail with a message naming it and the package, leave the table
 * unbound, and fail the same way again; a good load binds once however often it is asked.  Then
 * the real tables (libcurl, libmicrohttpd, cairo/pango) load and call one function each, so a
 * name listed wrong or a soname the Makefile read wrong fails here rather than in a sensor.
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
#include <cmocka.h>

#include "util/dynlib.h"
#include "net/curl_api.h"
#include "net/mhd_api.h"
#include "report/cairo_api.h"

typedef struct math_api {
    double (*cos)(double);
    double (*sqrt)(double);
} math_api;

static math_api m;
static int binds;

static void bind_math(void *const *a)
{
    memcpy(&m.cos, &a[0], sizeof m.cos);
    memcpy(&m.sqrt, &a[1], sizeof m.sqrt);
    binds++;
}

static const char *const libm_names[] = { "libm.so.6", NULL };
static const char *const fn_names[] = { "cos", "sqrt" };
static void *fn_addr[2];

static void test_load_binds_once(void **state)
{
    (void)state;
    ds_dynlib lib = DS_DYNLIB_INIT("maths", libm_names, "libc6", fn_names, 2, fn_addr, bind_math);
    ds_err err = { 0 };
    memset(&m, 0, sizeof m);
    binds = 0;
    assert_int_equal(ds_dynlib_load(&lib, &err), DS_OK);
    assert_int_equal(ds_dynlib_load(&lib, &err), DS_OK);
    assert_int_equal(binds, 1);
    assert_non_null(m.cos);
    assert_true(m.cos(0.0) == 1.0);
    assert_true(m.sqrt(16.0) == 4.0);
    pthread_mutex_destroy(&lib.mu);
}

static void test_missing_library(void **state)
{
    (void)state;
    static const char *const none[] = { "libm.so.6", "libdarkscope-no-such-library.so.9", NULL };
    ds_dynlib lib = DS_DYNLIB_INIT("maths", none, "libnothing9", fn_names, 2, fn_addr, bind_math);
    ds_err err = { 0 };
    binds = 0;
    for (int round = 0; round < 2; round++) {   /* nothing is remembered: the same failure again */
        memset(&err, 0, sizeof err);
        assert_int_equal(ds_dynlib_load(&lib, &err), DS_ENOTFOUND);
        assert_non_null(strstr(err.msg, "maths: cannot load libdarkscope-no-such-library.so.9"));
        assert_non_null(strstr(err.msg, "install the Debian package libnothing9"));
    }
    assert_int_equal(binds, 0);
    assert_int_equal(lib.loaded, 0);
    pthread_mutex_destroy(&lib.mu);
}

static void test_missing_function(void **state)
{
    (void)state;
    static const char *const names[] = { "cos", "ds_no_such_function" };
    ds_dynlib lib = DS_DYNLIB_INIT("maths", libm_names, "libc6", names, 2, fn_addr, bind_math);
    ds_err err = { 0 };
    binds = 0;
    assert_int_equal(ds_dynlib_load(&lib, &err), DS_ENOTFOUND);
    assert_string_equal(err.msg, "maths: the installed libc6 has no function ds_no_such_function (too old?)");
    assert_int_equal(binds, 0);
    assert_int_equal(lib.loaded, 0);
    pthread_mutex_destroy(&lib.mu);
}

/* The real tables: every listed function resolves, and a call through each table works. */
static void test_real_tables(void **state)
{
    (void)state;
    ds_err err = { 0 };
    assert_int_equal(ds_curl_load(&err), DS_OK);
    assert_string_equal(curl_easy_strerror(CURLE_OK), "No error");
    assert_int_equal(ds_mhd_load(&err), DS_OK);
    assert_int_equal(MHD_is_feature_supported(MHD_FEATURE_MESSAGES), MHD_YES);
    assert_int_equal(ds_cairo_load(&err), DS_OK);
    assert_string_equal(cairo_status_to_string(CAIRO_STATUS_SUCCESS), "no error has occurred");
    cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, 4, 4);
    assert_int_equal(cairo_surface_status(s), CAIRO_STATUS_SUCCESS);
    cairo_surface_destroy(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_load_binds_once),
        cmocka_unit_test(test_missing_library),
        cmocka_unit_test(test_missing_function),
        cmocka_unit_test(test_real_tables),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
