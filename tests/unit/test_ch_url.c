/* test_ch_url.c: a ClickHouse store's URL (store/ch_http.c, ch_parse_url) and the [store] keys
 * that become its options (util/config.c, ds_config_store_location), for TLS: secure=1 turns on
 * https (port 8443 when none is given), ca_file= names the CA, and bad values are refused with a
 * message naming them.  Nothing here talks to a server (tests/e2e/clickhouse_tls.sh does).
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

#include "store/ch_int.h"
#include "util/config.h"

static void expect_fail(const char *url, const char *needle)
{
    ch_conn c;
    ds_err err = { 0 };
    if (ch_parse_url(&c, url, &err) == DS_OK)
        fail_msg("%s accepted", url);
    if (!strstr(err.msg, needle))
        fail_msg("%s: \"%s\" does not say \"%s\"", url, err.msg, needle);
}

static void test_secure(void **state)
{
    (void)state;
    ch_conn c;
    ds_err err = { 0 };
    assert_int_equal(ch_parse_url(&c, "clickhouse://db.example:8123/ds", &err), DS_OK);
    assert_int_equal(c.secure, 0);
    assert_int_equal(c.port, 8123);
    assert_int_equal(ch_parse_url(&c, "clickhouse://db.example/ds?secure=1", &err), DS_OK);
    assert_int_equal(c.secure, 1);
    assert_int_equal(c.port, 8443);   /* ClickHouse's usual https_port */
    assert_string_equal(c.where, "clickhouse://db.example/ds");
    assert_int_equal(ch_parse_url(&c, "clickhouse://db.example:9443/ds?secure=true", &err), DS_OK);
    assert_int_equal(c.secure, 1);
    assert_int_equal(c.port, 9443);
    assert_int_equal(ch_parse_url(&c, "clickhouse://db.example/ds?secure=false", &err), DS_OK);
    assert_int_equal(c.secure, 0);
    assert_int_equal(c.port, 8123);
    expect_fail("clickhouse://db.example/ds?secure=on", "secure=on: write secure=1");
    expect_fail("clickhouse://db.example/ds?secure=", "secure=: write secure=1");
    expect_fail("clickhouse://db.example/ds?tls=1", "unknown option \"tls=1\"");
}

static void test_ca_file(void **state)
{
    (void)state;
    char dir[] = "/tmp/test_ch_url.XXXXXX", ca[64];
    assert_non_null(mkdtemp(dir));
    snprintf(ca, sizeof ca, "%s/ca.pem", dir);
    FILE *f = fopen(ca, "w");
    assert_non_null(f);
    fputs("-----BEGIN CERTIFICATE-----\n", f);
    fclose(f);
    ch_conn c, sh;
    ds_err err = { 0 };
    char url[256];
    snprintf(url, sizeof url, "clickhouse://db.example/ds?secure=1&ca_file=%s", ca);
    assert_int_equal(ch_parse_url(&c, url, &err), DS_OK);
    assert_string_equal(c.ca_file, ca);
    assert_true(strstr(c.where, ca) == NULL);   /* messages never show the options */
    /* a cluster's shards are reached the same way */
    snprintf(url, sizeof url, "clickhouse://a:8443/ds?secure=1&ca_file=%s&cluster=two&shards=a:8443,b:8443", ca);
    assert_int_equal(ch_parse_url(&c, url, &err), DS_OK);
    ch_conn_shard(&c, 1, &sh);
    assert_int_equal(sh.secure, 1);
    assert_string_equal(sh.ca_file, ca);
    assert_string_equal(sh.host, "b");
    /* ca_file without secure: refused, not silently plain http */
    snprintf(url, sizeof url, "clickhouse://db.example/ds?ca_file=%s", ca);
    expect_fail(url, "without secure=1");
    /* a missing file: named here, not as libcurl's "problem with the SSL CA cert" at the first query */
    snprintf(url, sizeof url, "clickhouse://db.example/ds?secure=1&ca_file=%s/nope.pem", dir);
    expect_fail(url, "nope.pem: No such file or directory");
    unlink(ca);
    rmdir(dir);
}

static void test_config_keys(void **state)
{
    (void)state;
    char dir[] = "/tmp/test_ch_url.XXXXXX", conf[64];
    assert_non_null(mkdtemp(dir));
    snprintf(conf, sizeof conf, "%s/c.conf", dir);
    FILE *f = fopen(conf, "w");
    assert_non_null(f);
    fputs("[store]\nurl = clickhouse://db.example/ds\nuser = reader\nsecure = true\nca_file = /etc/ssl/ch-ca.pem\n", f);
    fclose(f);
    ds_config cfg;
    ds_err err = { 0 };
    ds_config_init(&cfg);
    assert_int_equal(ds_config_load(&cfg, conf, &err), DS_OK);
    assert_int_equal(ds_config_store_location(&cfg, &err), DS_OK);   /* once: a second call adds nothing */
    assert_string_equal(cfg.store_path,
                        "clickhouse://db.example/ds?user=reader&secure=true&ca_file=/etc/ssl/ch-ca.pem");
    ds_config_free(&cfg);

    f = fopen(conf, "w");
    assert_non_null(f);
    fputs("[store]\nurl = clickhouse://db.example/ds\nsecure = maybe\n", f);
    fclose(f);
    ds_config_init(&cfg);
    assert_int_not_equal(ds_config_load(&cfg, conf, &err), DS_OK);
    assert_non_null(strstr(err.msg, "[store] secure = maybe: write true"));
    ds_config_free(&cfg);

    f = fopen(conf, "w");
    assert_non_null(f);
    fputs("[store]\nurl = clickhouse://db.example/ds\nsecure = 1\nca_file = a&b.pem\n", f);
    fclose(f);
    ds_config_init(&cfg);
    assert_int_not_equal(ds_config_load(&cfg, conf, &err), DS_OK);   /* load ends with store_location */
    assert_non_null(strstr(err.msg, "[store] ca_file = a&b.pem"));
    ds_config_free(&cfg);
    unlink(conf);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_secure),
        cmocka_unit_test(test_ca_file),
        cmocka_unit_test(test_config_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
