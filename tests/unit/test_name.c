/* test_name.c: util/name.c, the one rule for sensor names.
 *
 * 1 to 63 of [A-Za-z0-9._-], and not only dots: "." and ".." were accepted by the config,
 * `token new` and the collector, and with `collector --archive` put a sensor's uploads into the
 * archive's own directory or its parent (issue #21).  The message names the rule and shows the
 * name escaped.
 */
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
#include "util/name.h"

static void test_rule(void **state)
{
    (void)state;
    static const char *const good[] = { "tokyo", "osaka-2", "v6_only", "a.b", ".a", "a.", "a..b", "..a", "-", "_", "0" };
    static const char *const bad[] = { "", ".", "..", "...", "a/b", "/", "a b", "tökyo", "a\nb", "a:b", "a=b", "*" };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        if (!ds_sensor_name_ok(good[i]))
            fail_msg("'%s' refused", good[i]);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (ds_sensor_name_ok(bad[i]))
            fail_msg("'%s' accepted", bad[i]);
    assert_false(ds_sensor_name_ok(NULL));
    char name[DS_SENSOR_NAME_MAX + 2];
    memset(name, 'a', sizeof name);
    name[DS_SENSOR_NAME_MAX] = '\0';
    assert_true(ds_sensor_name_ok(name));            /* 63 */
    name[DS_SENSOR_NAME_MAX] = 'a';
    name[DS_SENSOR_NAME_MAX + 1] = '\0';
    assert_false(ds_sensor_name_ok(name));           /* 64 */
    memset(name, '.', DS_SENSOR_NAME_MAX);
    name[DS_SENSOR_NAME_MAX] = '\0';
    assert_false(ds_sensor_name_ok(name));           /* 63 dots */
}

static void test_message(void **state)
{
    (void)state;
    ds_err err = { 0 };
    assert_int_equal(ds_sensor_name_check("tokyo", &err), DS_OK);
    assert_int_equal(ds_sensor_name_check("..", &err), DS_EINVAL);
    assert_string_equal(err.msg, "sensor name '..' is not allowed: names are 1-63 of A-Z a-z 0-9 . _ - and not only dots");
    /* control bytes and quotes escaped; a long name cut short */
    assert_int_equal(ds_sensor_name_check("a\nb'c", &err), DS_EINVAL);
    assert_non_null(strstr(err.msg, "'a\\x0ab\\x27c'"));
    char longname[300];
    memset(longname, 'x', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    assert_int_equal(ds_sensor_name_check(longname, &err), DS_EINVAL);
    assert_non_null(strstr(err.msg, "x...' is not allowed"));
    assert_true(strlen(err.msg) < 200);
    assert_int_equal(ds_sensor_name_check(NULL, &err), DS_EINVAL);
}

/* the configuration refuses them by the same rule, [sensor.NAME] and --darknet NAME=CIDR alike */
static void test_config(void **state)
{
    (void)state;
    ds_config c;
    ds_err err = { 0 };
    ds_config_init(&c);
    assert_int_equal(ds_config_add_darknet(&c, "..", "10.0.0.0/8", &err), DS_EINVAL);
    assert_non_null(strstr(err.msg, "sensor name '..' is not allowed"));
    assert_int_equal(ds_config_add_darknet(&c, ".", "10.0.0.0/8", &err), DS_EINVAL);
    assert_int_equal(ds_config_add_darknet(&c, "..a", "10.0.0.0/8", &err), DS_OK);
    assert_int_equal(c.nsensors, 1);
    ds_config_free(&c);

    char path[] = "/tmp/ds-name-conf.XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    fputs("[sensor.ok]\ndarknet = 10.0.0.0/8\n[sensor...]\ndarknet = 11.0.0.0/8\n", f);
    fclose(f);
    ds_config_init(&c);
    assert_int_equal(ds_config_load(&c, path, &err), DS_EINVAL);
    assert_non_null(strstr(err.msg, ":4: sensor name '..' is not allowed"));
    ds_config_free(&c);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rule),
        cmocka_unit_test(test_message),
        cmocka_unit_test(test_config),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
