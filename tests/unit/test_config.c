/* test_config.c: darkscope.conf loading (src/util/config.c).
 *
 * Each test writes its INI text into a fresh temporary directory and loads it.  Errors are
 * checked for what a user needs to fix them: the file, the line, and the key, section or
 * sensor at fault.  A misspelt key must be an error, never silently ignored.
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

#include "util/config.h"

typedef struct tmp { char dir[64]; char path[128]; int nfiles; } tmp;

static int setup(void **state)
{
    tmp *t = calloc(1, sizeof *t);
    if (!t)
        return -1;
    snprintf(t->dir, sizeof t->dir, "/tmp/ds_test_config.XXXXXX");
    if (!mkdtemp(t->dir)) {
        free(t);
        return -1;
    }
    *state = t;
    return 0;
}

static int teardown(void **state)
{
    tmp *t = *state;
    char p[160];
    for (int i = 0; i < t->nfiles; i++) {
        snprintf(p, sizeof p, "%s/%d.conf", t->dir, i);
        unlink(p);
    }
    rmdir(t->dir);
    free(t);
    return 0;
}

/* Write text into a new file of the temp dir; returns its path (valid until the next call). */
static const char *write_conf(tmp *t, const char *text)
{
    snprintf(t->path, sizeof t->path, "%s/%d.conf", t->dir, t->nfiles++);
    FILE *f = fopen(t->path, "w");
    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
    return t->path;
}

/* Load text into a fresh config; returns rc and leaves the config for inspection. */
static ds_rc load(tmp *t, const char *text, ds_config *c, ds_err *err)
{
    ds_config_init(c);
    memset(err, 0, sizeof *err);
    return ds_config_load(c, write_conf(t, text), err);
}

static void expect_msg(const ds_err *err, const char *part)
{
    if (!strstr(err->msg, part))
        fail_msg("message '%s' should contain '%s'", err->msg, part);
}

static const ds_sensor_conf *sensor(const ds_config *c, const char *name)
{
    for (size_t i = 0; i < c->nsensors; i++)
        if (strcmp(c->sensors[i].name, name) == 0)
            return &c->sensors[i];
    fail_msg("no sensor '%s'", name);
    return NULL;
}

static void expect_prefixes(const ds_sensor_conf *s, const char *const *want, size_t n)
{
    if (s->nprefixes != n)
        fail_msg("sensor %s: %zu prefixes, expected %zu", s->name, s->nprefixes, n);
    for (size_t i = 0; i < n; i++) {
        char buf[64];
        assert_string_equal(ds_prefix_format(&s->prefixes[i], buf, sizeof buf), want[i]);
    }
}

/* ---- good files ---------------------------------------------------------------------- */

static void test_defaults(void **state)
{
    (void)state;
    ds_config c;
    ds_config_init(&c);
    assert_string_equal(c.store_path, "darkscope.db");
    assert_string_equal(c.geo_country, "data/geo/country");
    assert_string_equal(c.geo_asn, "data/geo/asn");
    assert_string_equal(c.timezone, "UTC");
    assert_int_equal(c.nsensors, 0);
    assert_string_equal(c.source, "");
    ds_config_free(&c);
    ds_config_free(&c);   /* twice is harmless */
}

static void test_all_keys(void **state)
{
    tmp *t = *state;
    ds_config c;
    ds_err err;
    ds_rc rc = load(t,
        "; darkscope test configuration\n"
        "# comments of both kinds\n"
        "[store]\n"
        "path = /var/lib/darkscope/store.db\n"
        "\n"
        "[geo]\n"
        "country = /srv/geo/country\n"
        "asn=/srv/geo/asn\n"
        "[report]\n"
        "timezone = Asia/Tokyo\n"
        "[sensor.tokyo-1]\n"
        "darknet = 198.51.100.0/24,203.0.113.0/25 ,  192.0.2.7\n"
        "darknet6 = 2001:db8:1::/48, 2001:db8:2::/64\n"
        "[sensor.osaka_2.b]\n"
        "darknet =   203.0.113.128/25   \n"
        "[sensor.v6only]\n"
        "darknet6 = 2001:db8:ff::/48\n"
        "[sensor.tokyo-1]\n"
        "darknet = 10.0.0.0/8\n",
        &c, &err);
    if (rc != DS_OK)
        fail_msg("load: %s", err.msg);
    assert_string_equal(c.store_path, "/var/lib/darkscope/store.db");
    assert_string_equal(c.geo_country, "/srv/geo/country");
    assert_string_equal(c.geo_asn, "/srv/geo/asn");
    assert_string_equal(c.timezone, "Asia/Tokyo");
    assert_string_equal(c.source, t->path);
    assert_int_equal(c.nsensors, 3);
    assert_string_equal(c.sensors[0].name, "tokyo-1");   /* file order */
    assert_string_equal(c.sensors[1].name, "osaka_2.b");
    assert_string_equal(c.sensors[2].name, "v6only");
    static const char *const tokyo[] = { "198.51.100.0/24", "203.0.113.0/25", "192.0.2.7/32", "2001:db8:1::/48",
                                         "2001:db8:2::/64", "10.0.0.0/8" };
    static const char *const osaka[] = { "203.0.113.128/25" };
    static const char *const v6[] = { "2001:db8:ff::/48" };
    expect_prefixes(sensor(&c, "tokyo-1"), tokyo, 6);
    expect_prefixes(sensor(&c, "osaka_2.b"), osaka, 1);
    expect_prefixes(sensor(&c, "v6only"), v6, 1);
    ds_config_free(&c);
    assert_int_equal(c.nsensors, 0);
    assert_null(c.sensors);
}

/* A darknet list can continue on indented lines (inih's multi-line values) and on repeated
 * keys; empty items between commas are skipped. */
/* [store] ttl_days sets both TTLs; ttl_raw_days / ttl_rollup_days one each; 0 and words refused */
static void test_store_ttls(void **state)
{
    tmp *t = *state;
    ds_config c;
    ds_err err;
    assert_int_equal(load(t, "[store]\nttl_days = 30\n", &c, &err), DS_OK);
    assert_int_equal(c.store_ttl_raw_days, 30);
    assert_int_equal(c.store_ttl_rollup_days, 30);
    ds_config_free(&c);
    assert_int_equal(load(t, "[store]\nttl_days = 30\nttl_rollup_days = 3650\n", &c, &err), DS_OK);
    assert_int_equal(c.store_ttl_raw_days, 30);
    assert_int_equal(c.store_ttl_rollup_days, 3650);
    ds_config_free(&c);
    assert_int_equal(load(t, "[store]\nttl_raw_days = 90\n", &c, &err), DS_OK);
    assert_int_equal(c.store_ttl_raw_days, 90);
    assert_int_equal(c.store_ttl_rollup_days, 0);
    ds_config_free(&c);
    assert_int_equal(load(t, "[store]\nttl_raw_days = 0\n", &c, &err), DS_EINVAL);
    expect_msg(&err, "store.ttl_raw_days: '0' is not a whole number");
    ds_config_free(&c);
    assert_int_equal(load(t, "[store]\nttl_days = month\n", &c, &err), DS_EINVAL);
    expect_msg(&err, "store.ttl_days: 'month'");
    ds_config_free(&c);
}

static void test_continuation_and_empty_items(void **state)
{
    tmp *t = *state;
    ds_config c;
    ds_err err;
    ds_rc rc = load(t,
        "[sensor.a]\n"
        "darknet = 10.0.0.0/24,\n"
        "  10.0.1.0/24,, ,\n"
        "\t10.0.2.0/24\n"
        "darknet = 10.0.3.0/24\r\n"
        "darknet =\n",
        &c, &err);
    if (rc != DS_OK)
        fail_msg("load: %s", err.msg);
    static const char *const want[] = { "10.0.0.0/24", "10.0.1.0/24", "10.0.2.0/24", "10.0.3.0/24" };
    expect_prefixes(sensor(&c, "a"), want, 4);
    ds_config_free(&c);
}

/* Two files merge: the second overrides settings and adds prefixes to known sensors. */
static void test_two_files_merge(void **state)
{
    tmp *t = *state;
    ds_config c;
    ds_err err;
    assert_int_equal(load(t, "[store]\npath = a.db\n[sensor.x]\ndarknet = 10.0.0.0/8\n", &c, &err), DS_OK);
    const char *second = write_conf(t, "[store]\npath = b.db\n[sensor.x]\ndarknet = 11.0.0.0/8\n"
                                       "[sensor.y]\ndarknet = 12.0.0.0/8\n");
    if (ds_config_load(&c, second, &err) != DS_OK)
        fail_msg("second load: %s", err.msg);
    assert_string_equal(c.store_path, "b.db");
    assert_string_equal(c.source, second);
    static const char *const x[] = { "10.0.0.0/8", "11.0.0.0/8" }, *const y[] = { "12.0.0.0/8" };
    expect_prefixes(sensor(&c, "x"), x, 2);
    expect_prefixes(sensor(&c, "y"), y, 1);
    ds_config_free(&c);
}

/* The longest line inih takes (199 characters) still works; values up to the field size. */
static void test_long_but_fitting(void **state)
{
    tmp *t = *state;
    char text[512], path[200];
    /* "path = " is 7 characters: 192 more make a 199-character line */
    memset(path, 'p', 192);
    path[0] = '/';
    path[192] = '\0';
    snprintf(text, sizeof text, "[store]\npath = %s\n[report]\ntimezone = America/Argentina/ComodRivadavia\n", path);
    ds_config c;
    ds_err err;
    ds_rc rc = load(t, text, &c, &err);
    if (rc != DS_OK)
        fail_msg("load: %s", err.msg);
    assert_string_equal(c.store_path, path);
    assert_string_equal(c.timezone, "America/Argentina/ComodRivadavia");
    ds_config_free(&c);
    /* the same at the end of the file without a newline */
    snprintf(text, sizeof text, "[store]\npath = %s", path);
    rc = load(t, text, &c, &err);
    if (rc != DS_OK)
        fail_msg("load without final newline: %s", err.msg);
    assert_string_equal(c.store_path, path);
    ds_config_free(&c);
}

/* ---- errors -------------------------------------------------------------------------- */

static void test_unknown_key_and_section(void **state)
{
    tmp *t = *state;
    ds_config c;
    ds_err err;
    assert_int_equal(load(t, "[store]\npath = x.db\npaht = y.db\n", &c, &err), DS_EINVAL);
    expect_msg(&err, t->path);
    expect_msg(&err, "paht");
    expect_msg(&err, "[store]");
    expect_msg(&err, ":3:");
    ds_config_free(&c);

    assert_int_equal(load(t, "[stroe]\npath = x.db\n", &c, &err), DS_EINVAL);
    expect_msg(&err, t->path);
    expect_msg(&err, "[stroe]");
    expect_msg(&err, "path");
    ds_config_free(&c);

    /* keys outside any section, and a sensor key in the wrong section */
    assert_int_equal(load(t, "timezone = UTC\n", &c, &err), DS_EINVAL);
    expect_msg(&err, "timezone");
    ds_config_free(&c);
    assert_int_equal(load(t, "[geo]\ndarknet = 10.0.0.0/8\n", &c, &err), DS_EINVAL);
    expect_msg(&err, "[geo] darknet");
    ds_config_free(&c);
    assert_int_equal(load(t, "[sensor.a]\ndarknet4 = 10.0.0.0/8\n", &c, &err), DS_EINVAL);
    expect_msg(&err, "darknet4");
    ds_config_free(&c);
    /* "[sensor]" without a name is not a sensor section */
    assert_int_equal(load(t, "[sensor]\ndarknet = 10.0.0.0/8\n", &c, &err), DS_EINVAL);
    expect_msg(&err, "[sensor]");
    ds_config_free(&c);
}

static void test_syntax_error_line(void **state)
{
    tmp *t = *state;
    ds_config c;
    ds_err err;
    assert_int_equal(load(t, "[store]\npath = a.db\n\nthis line has no equals sign\n", &c, &err), DS_EINVAL);
    expect_msg(&err, t->path);
    expect_msg(&err, ":4:");
    expect_msg(&err, "syntax");
    ds_config_free(&c);

    assert_int_equal(load(t, "[store]\npath = a.db\n[report\ntimezone = UTC\n", &c, &err), DS_EINVAL);
    expect_msg(&err, ":3:");
    ds_config_free(&c);

    /* the first problem in the file is the one reported */
    assert_int_equal(load(t, "[store]\nbogus\n[x]\ny = 1\n", &c, &err), DS_EINVAL);
    expect_msg(&err, ":2: syntax");
    ds_config_free(&c);
    assert_int_equal(load(t, "[x]\ny = 1\n[store]\nbogus\n[sensor.a]\ndarknet = 1.2.3.4/33\n", &c, &err), DS_EINVAL);
    expect_msg(&err, ":2: unknown setting [x] y");
    ds_config_free(&c);
}

static void test_bad_cidr_names_sensor(void **state)
{
    tmp *t = *state;
    ds_config c;
    ds_err err;
    assert_int_equal(load(t, "[sensor.alpha]\ndarknet = 10.0.0.0/8\n[sensor.bravo]\n"
                             "darknet = 192.0.2.0/24, 198.51.100.1/24\n", &c, &err), DS_EINVAL);
    expect_msg(&err, t->path);
    expect_msg(&err, ":4:");
    expect_msg(&err, "bravo");
    expect_msg(&err, "198.51.100.1/24");
    ds_config_free(&c);

    static const char *const bad[] = { "1.2.3.4/33", "banana", "10.0.0.0/8 11.0.0.0/8", "2001:db8::1/64",
                                       "10.0.0.0/", "/8" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char text[256];
        snprintf(text, sizeof text, "[sensor.s%zu]\ndarknet6 = %s\n", i, bad[i]);
        assert_int_equal(load(t, text, &c, &err), DS_EINVAL);
        char name[16];
        snprintf(name, sizeof name, "'s%zu'", i);
        expect_msg(&err, name);
        expect_msg(&err, bad[i]);
        ds_config_free(&c);
    }
}

static void test_bad_sensor_names(void **state)
{
    tmp *t = *state;
    ds_config c;
    ds_err err;
    assert_int_equal(load(t, "[sensor.bad name]\ndarknet = 10.0.0.0/8\n", &c, &err), DS_EINVAL);
    expect_msg(&err, "bad name");
    ds_config_free(&c);
    assert_int_equal(load(t, "[sensor.]\ndarknet = 10.0.0.0/8\n", &c, &err), DS_EINVAL);
    ds_config_free(&c);
    /* names up to 63 characters through ds_config_add_darknet; in a file, inih keeps section
     * names of 49 characters at most ("sensor." + 42), and a longer one must be an error, not
     * cut short (two long names sharing their start would become one sensor) */
    char text[256];
    char longname[80];
    memset(longname, 'n', 64);
    longname[64] = '\0';
    snprintf(text, sizeof text, "[store]\npath = a\n[sensor.%s]\ndarknet = 10.0.0.0/8\n", longname);
    assert_int_equal(load(t, text, &c, &err), DS_EINVAL);
    expect_msg(&err, ":3:");
    expect_msg(&err, "too long");
    ds_config_free(&c);
    longname[43] = '\0';
    snprintf(text, sizeof text, "[sensor.%s]\ndarknet = 10.0.0.0/8\n", longname);
    assert_int_equal(load(t, text, &c, &err), DS_EINVAL);
    expect_msg(&err, "too long");
    ds_config_free(&c);
    longname[42] = '\0';
    snprintf(text, sizeof text, "[sensor.%s]\ndarknet = 10.0.0.0/8\n", longname);
    assert_int_equal(load(t, text, &c, &err), DS_OK);
    assert_string_equal(c.sensors[0].name, longname);
    ds_config_free(&c);
    memset(longname, 'n', 64);
    longname[63] = '\0';
    ds_config_init(&c);
    assert_int_equal(ds_config_add_darknet(&c, longname, "10.0.0.0/8", &err), DS_OK);
    longname[63] = 'n';
    assert_int_equal(ds_config_add_darknet(&c, longname, "10.0.0.0/8", &err), DS_EINVAL);
    expect_msg(&err, "names are 1-63 of");
    ds_config_free(&c);
    /* issue #21: "." and ".." (util/name.h), in a file and through --darknet NAME=CIDR */
    assert_int_equal(load(t, "[sensor..]\ndarknet = 10.0.0.0/8\n", &c, &err), DS_EINVAL);
    expect_msg(&err, "sensor name '.' is not allowed");
    ds_config_free(&c);
    assert_int_equal(load(t, "[sensor...]\noutage = 2023-01-01..2023-01-02\n", &c, &err), DS_EINVAL);
    expect_msg(&err, ":2: sensor name '..' is not allowed");
    ds_config_free(&c);
}

static void test_too_long(void **state)
{
    tmp *t = *state;
    ds_config c;
    ds_err err;
    char text[1024], v[200];
    /* a value longer than its field (timezone: 127) on a line inih still takes */
    memset(v, 'Z', 150);
    v[150] = '\0';
    snprintf(text, sizeof text, "[report]\ntimezone = %s\n", v);
    assert_int_equal(load(t, text, &c, &err), DS_EINVAL);
    expect_msg(&err, t->path);
    expect_msg(&err, "report.timezone");
    expect_msg(&err, "too long");
    assert_string_equal(c.timezone, "UTC");   /* unchanged */
    ds_config_free(&c);
    memset(v, 'Z', 128);
    v[128] = '\0';
    snprintf(text, sizeof text, "[report]\ntimezone = %s\n", v);
    assert_int_equal(load(t, text, &c, &err), DS_EINVAL);
    ds_config_free(&c);
    v[127] = '\0';
    snprintf(text, sizeof text, "[report]\ntimezone = %s\n", v);
    assert_int_equal(load(t, text, &c, &err), DS_OK);
    assert_string_equal(c.timezone, v);
    ds_config_free(&c);
}

/* A line longer than inih's buffer is an error naming the line -- not split into pieces that
 * are parsed as lines of their own (which used to truncate paths and cut prefixes in half). */
static void test_overlong_line(void **state)
{
    tmp *t = *state;
    ds_config c;
    ds_err err;
    char text[2048];
    size_t n = (size_t)snprintf(text, sizeof text, "[sensor.big]\ndarknet = 10.0.0.0/24");
    for (int i = 1; i < 40; i++)
        n += (size_t)snprintf(text + n, sizeof text - n, ", 10.0.%d.0/24", i);
    snprintf(text + n, sizeof text - n, "\n[store]\npath = x.db\n");
    assert_int_equal(load(t, text, &c, &err), DS_EINVAL);
    expect_msg(&err, t->path);
    expect_msg(&err, ":2:");
    expect_msg(&err, "longer than");
    ds_config_free(&c);

    /* the piece after the split starts with a blank: inih would take it as a continuation */
    char path[400];
    memset(path, 'a', sizeof path);
    memcpy(path, "/data/", 6);
    path[192] = ' ';
    path[300] = '\0';
    snprintf(text, sizeof text, "[store]\npath = %s\n", path);
    assert_int_equal(load(t, text, &c, &err), DS_EINVAL);
    expect_msg(&err, ":2:");
    assert_string_equal(c.store_path, "darkscope.db");
    ds_config_free(&c);
}

static void test_missing_file(void **state)
{
    tmp *t = *state;
    ds_config c;
    ds_err err = { 0 };
    char p[160];
    snprintf(p, sizeof p, "%s/does-not-exist.conf", t->dir);
    ds_config_init(&c);
    assert_int_equal(ds_config_load(&c, p, &err), DS_EIO);
    expect_msg(&err, p);
    assert_string_equal(c.source, "");
    ds_config_free(&c);
}

/* ---- ds_config_add_darknet ------------------------------------------------------------- */

static void test_add_darknet(void **state)
{
    tmp *t = *state;
    ds_config c;
    ds_err err;
    assert_int_equal(load(t, "[sensor.a]\ndarknet = 10.0.0.0/8\n[sensor.b]\ndarknet = 11.0.0.0/8\n", &c, &err), DS_OK);
    /* onto an existing sensor */
    assert_int_equal(ds_config_add_darknet(&c, "b", " 12.0.0.0/8 ,2001:db8::/32,, ", &err), DS_OK);
    /* a new one */
    assert_int_equal(ds_config_add_darknet(&c, "c", "13.0.0.0/8", &err), DS_OK);
    /* empty list: the sensor exists with no prefixes */
    assert_int_equal(ds_config_add_darknet(&c, "d", "", &err), DS_OK);
    assert_int_equal(c.nsensors, 4);
    static const char *const a[] = { "10.0.0.0/8" }, *const b[] = { "11.0.0.0/8", "12.0.0.0/8", "2001:db8::/32" },
                             *const cc[] = { "13.0.0.0/8" };
    expect_prefixes(sensor(&c, "a"), a, 1);
    expect_prefixes(sensor(&c, "b"), b, 3);
    expect_prefixes(sensor(&c, "c"), cc, 1);
    expect_prefixes(sensor(&c, "d"), NULL, 0);
    /* errors: bad prefix names the sensor; bad sensor name */
    memset(&err, 0, sizeof err);
    assert_int_equal(ds_config_add_darknet(&c, "a", "14.0.0.0/8, 15.0.0.1/8", &err), DS_EINVAL);
    expect_msg(&err, "'a'");
    expect_msg(&err, "15.0.0.1/8");
    assert_int_equal(ds_config_add_darknet(&c, "a/b", "16.0.0.0/8", &err), DS_EINVAL);
    expect_msg(&err, "a/b");
    assert_int_equal(ds_config_add_darknet(&c, "", "16.0.0.0/8", &err), DS_EINVAL);
    ds_config_free(&c);
}

static void test_too_many_sensors(void **state)
{
    (void)state;
    ds_config c;
    ds_err err = { 0 };
    ds_config_init(&c);
    char name[32], cidr[32];
    for (int i = 0; i < DS_MAX_SENSORS; i++) {
        snprintf(name, sizeof name, "s%d", i);
        snprintf(cidr, sizeof cidr, "10.%d.%d.0/24", i / 256, i % 256);
        if (ds_config_add_darknet(&c, name, cidr, &err) != DS_OK)
            fail_msg("sensor %d: %s", i, err.msg);
    }
    assert_int_equal(c.nsensors, DS_MAX_SENSORS);
    assert_int_equal(ds_config_add_darknet(&c, "one-more", "11.0.0.0/8", &err), DS_EINVAL);
    expect_msg(&err, "too many sensors");
    /* an existing one still takes prefixes */
    assert_int_equal(ds_config_add_darknet(&c, "s7", "11.0.0.0/8", &err), DS_OK);
    ds_config_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test_setup_teardown(test_all_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(test_continuation_and_empty_items, setup, teardown),
        cmocka_unit_test_setup_teardown(test_two_files_merge, setup, teardown),
        cmocka_unit_test_setup_teardown(test_long_but_fitting, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_key_and_section, setup, teardown),
        cmocka_unit_test_setup_teardown(test_syntax_error_line, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_cidr_names_sensor, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_sensor_names, setup, teardown),
        cmocka_unit_test_setup_teardown(test_too_long, setup, teardown),
        cmocka_unit_test_setup_teardown(test_overlong_line, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_add_darknet, setup, teardown),
        cmocka_unit_test(test_too_many_sensors),
        cmocka_unit_test_setup_teardown(test_store_ttls, setup, teardown),
    };
    return cmocka_run_group_tests(tests, 0, NULL);
}
