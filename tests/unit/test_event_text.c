/* test_event_text.c: events' sentences are written from their facts alone (report/event_text.h),
 * in words a CSIRT can publish (issue #20): "1 packet", no "1e+04", no field names or command
 * lines, ports as 23/TCP, countries by name, private sources said as such, ranks far down not
 * spelled out, and in Japanese no sign after a word that says the direction.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <math.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "analysis/events.h"
#include "report/event_text.h"
#include "report/tables_json.h"
#include "util/timeutil.h"

static char out[2][4096];

static void fact(ds_event *v, const char *name, double value, const char *text)
{
    assert_true(v->nevidence < DS_EVENT_MAX_EVIDENCE);
    ds_event_evidence *x = &v->evidence[v->nevidence++];
    x->name = name;
    x->value = value;
    snprintf(x->text, sizeof x->text, "%s", text ? text : "");
}

/* Both languages' sentences of v into out[0] (en) and out[1] (ja), with names when given. */
static void say(const ds_event *v, const ds_names *names)
{
    for (int ja = 0; ja <= 1; ja++) {
        ds_out o;
        ds_out_init(&o, 0);
        ds_event_words w = { .lang = ja ? DS_LANG_JA : DS_LANG_EN, .names = names };
        ds_event_sentence(v, &w, &o);
        assert_false(o.failed);
        snprintf(out[ja], sizeof out[ja], "%.*s", (int)o.len, o.p ? o.p : "");
        ds_out_free(&o);
    }
}

/* What no sentence may hold: exponents, field names, command lines, doubled spaces. */
static void clean(void)
{
    regex_t re;
    assert_int_equal(regcomp(&re, "[0-9]e[+-][0-9]|[a-z]+_[a-z_]+|--[a-z]|`|  |\\bnan\\b|\\binf\\b", REG_EXTENDED), 0);
    for (int ja = 0; ja <= 1; ja++)
        if (regexec(&re, out[ja], 0, NULL, 0) == 0)
            fail_msg("unpublishable text in %s: %s", ja ? "ja" : "en", out[ja]);
    regfree(&re);
    assert_null(strstr(out[0], " 1 packets"));
    assert_null(strstr(out[0], " 1 days"));
    assert_null(strstr(out[0], " 1 sources"));
}

static void base(ds_event *v, const char *type, int32_t d0, int32_t d1)
{
    memset(v, 0, sizeof *v);
    snprintf(v->type, sizeof v->type, "%s", type);
    v->start_ns = ds_day_start_ns(d0);
    v->end_ns = ds_day_start_ns(d1 + 1) - 1000000000ULL;
}

static void test_surge_far_rank(void **state)
{
    (void)state;
    ds_event v;
    int32_t d0;
    assert_int_equal(ds_day_parse("2023-07-05", &d0), 0);
    base(&v, "surge", d0, d0 + 29);
    v.has_service = 1;
    assert_int_equal(ds_service_parse("1521/tcp", &v.service), 0);
    memcpy(v.country, "CN", 3);
    v.sources = 167;
    v.packets = 20648;
    fact(&v, "packets_per_day_baseline", 0, NULL);
    fact(&v, "packets_peak", 785, "2023-07-08");
    fact(&v, "robust_z", 785, NULL);
    fact(&v, "rank", 26, NULL);
    fact(&v, "rank_previous", 61290, NULL);
    fact(&v, "country_share", 0.94, "CN");
    fact(&v, "sport_share", 0.99, "6000");
    fact(&v, "sources_per_day", 158, NULL);
    fact(&v, "sources_per_day_before", 6, NULL);
    say(&v, NULL);
    clean();
    assert_non_null(strstr(out[0], "1521/TCP"));
    assert_null(strstr(out[0], "61290"));   /* "rose from rank 61290" said nothing */
    assert_null(strstr(out[0], "61,290"));
    assert_non_null(strstr(out[0], "below the top 1,000"));
    assert_non_null(strstr(out[0], "source port 6000"));
    assert_non_null(strstr(out[0], "158 sources a day"));
    assert_null(strstr(out[0], "robust z"));   /* against a baseline of nothing, z means nothing */
    assert_non_null(strstr(out[1], "1,000位圏外"));
    assert_non_null(strstr(out[1], "1日あたりの送信元数は158件"));   /* says what is counted */
    assert_non_null(strstr(out[1], "1521/TCP宛て"));
}

/* A country spike found in its distinct sources a day (series_judge.c): the sentences give the
 * sources numbers it passed the rule with, and no packets z it did not pass. */
static void test_country_spike_by_sources(void **state)
{
    (void)state;
    ds_event v;
    int32_t d0;
    assert_int_equal(ds_day_parse("2023-08-09", &d0), 0);
    base(&v, "spike", d0, d0 + 5);
    memcpy(v.country, "MX", 3);
    v.sources = 558;
    v.packets = 9118;
    fact(&v, "days", 6, NULL);
    fact(&v, "packets_per_day_baseline", 338, NULL);
    fact(&v, "packets_peak", 2009, "2023-08-13");
    fact(&v, "peak_ratio", 5.94, NULL);
    fact(&v, "sources_peak", 450, "2023-08-13");
    fact(&v, "sources_per_day_baseline", 30, NULL);
    fact(&v, "sources_robust_z", 56.66, NULL);
    fact(&v, "sources_per_day", 388.8, NULL);
    fact(&v, "sources_per_day_before", 28.6, NULL);
    fact(&v, "of_country", 1, "MX");
    say(&v, NULL);
    clean();
    assert_non_null(strstr(out[0], "the distinct sources a day peaked at 450 on 13 August 2023, 15.0 times their "
                                   "baseline of 30 (robust z 56.7)"));
    assert_int_equal(strstr(out[0], "robust z") - out[0], strstr(out[0], "(robust z 56.7)") - out[0] + 1);
    assert_non_null(strstr(out[1], "1日あたりの送信元数は2023年8月13日に最多の450件で、平常時（1日あたり30件）の15.0倍"));
    assert_non_null(strstr(out[1], "ロバストz値 56.7"));
}

/* `events --format json` writes a number that is not finite as null (RFC 8259 has no infinity):
 * a ratio over an unset baseline once wrote "inf", and the whole list failed to parse. */
static void test_json_not_finite(void **state)
{
    (void)state;
    ds_event v;
    base(&v, "spike", 19600, 19601);
    memcpy(v.country, "PK", 3);
    fact(&v, "peak_ratio", INFINITY, NULL);
    fact(&v, "robust_z", NAN, NULL);
    fact(&v, "packets_peak", -INFINITY, "2023-08-13");
    ds_events e = { .ev = &v, .n = 1 };
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    ds_event_words w = { .lang = DS_LANG_EN };
    ds_json_events(f, &e, &w);
    fclose(f);
    assert_non_null(strstr(buf, "\"peak_ratio\": null"));
    assert_non_null(strstr(buf, "\"robust_z\": null"));
    assert_non_null(strstr(buf, "\"packets_peak\": {\"value\": null, \"of\": \"2023-08-13\"}"));
    assert_null(strstr(buf, "inf"));
    assert_null(strstr(buf, "nan"));
    free(buf);
}

static void test_plurals_and_private(void **state)
{
    (void)state;
    ds_event v;
    int32_t d0;
    assert_int_equal(ds_day_parse("2010-07-04", &d0), 0);
    base(&v, "vertical_scan", d0, d0);
    v.start_ns = (uint64_t)ds_day_start(d0) * 1000000000ULL + 3600ULL * 1000000000ULL;
    v.end_ns = v.start_ns + 5000000000ULL;
    v.sources = 1;
    v.packets = 1;
    snprintf(v.top[0].addr, sizeof v.top[0].addr, "172.16.0.8");
    memcpy(v.top[0].cc, "ZZ", 3);
    v.ntop = 1;
    fact(&v, "ports", 1, NULL);
    fact(&v, "addresses", 1, NULL);
    fact(&v, "days", 1, NULL);
    say(&v, NULL);
    clean();
    assert_non_null(strstr(out[0], "1 port of 1 dark address, 1 packet "));
    assert_non_null(strstr(out[0], "172.16.0.8 (a private or reserved address)"));
    assert_null(strstr(out[0], "ZZ"));
    assert_null(strstr(out[0], "AS0"));
    assert_non_null(strstr(out[1], "プライベート/予約済みアドレス"));
    assert_null(strstr(out[1], "AS0"));
}

static void test_scan_rates(void **state)
{
    (void)state;
    ds_event v;
    int32_t d0;
    assert_int_equal(ds_day_parse("2023-07-01", &d0), 0);
    base(&v, "scan", d0, d0);
    v.has_service = 1;
    assert_int_equal(ds_service_parse("23/tcp", &v.service), 0);
    v.sources = 1;
    v.packets = 10000;
    snprintf(v.top[0].addr, sizeof v.top[0].addr, "198.18.0.9");
    memcpy(v.top[0].cc, "US", 3);
    v.top[0].asn = 64500;
    v.ntop = 1;
    fact(&v, "addresses", 256, "exact");
    fact(&v, "monitored_addresses", 256, NULL);
    fact(&v, "share_of_monitored", 1, NULL);
    fact(&v, "sweep_packets", 10000, NULL);
    fact(&v, "sweep_start", (double)ds_day_start(d0), NULL);
    fact(&v, "duration_s", 0.4, NULL);
    fact(&v, "rate_pps", 12345.6, NULL);
    fact(&v, "sweeps", 1, NULL);
    fact(&v, "internet_rate_pps", 2.07e11, NULL);
    fact(&v, "internet_rate_pps_low", 2.0e11, NULL);
    fact(&v, "internet_rate_pps_high", 2.1e11, NULL);
    fact(&v, "ipv4_cover_s", 0.02, NULL);
    say(&v, NULL);
    clean();
    assert_non_null(strstr(out[0], "12,346 packets a second"));
    assert_non_null(strstr(out[0], "207 G addresses a second"));
    assert_non_null(strstr(out[0], "under a second"));
    assert_non_null(strstr(out[1], "2,070億"));
}

/* A sweep of the darknet alone at line rate: no Internet-wide rate, and the sentence says why. */
static void test_scan_rate_rejected(void **state)
{
    (void)state;
    ds_event v;
    int32_t d0;
    assert_int_equal(ds_day_parse("2026-12-07", &d0), 0);
    base(&v, "scan", d0, d0);
    v.has_service = 1;
    assert_int_equal(ds_service_parse("445/tcp", &v.service), 0);
    v.sources = 1;
    v.packets = 256;
    fact(&v, "addresses", 256, "exact");
    fact(&v, "monitored_addresses", 256, NULL);
    fact(&v, "share_of_monitored", 1, NULL);
    fact(&v, "rate_pps", 984.6, NULL);
    fact(&v, "internet_rate_rejected", 4.3e9, "pps; above 100 GbE line rate, so not Internet-wide");
    say(&v, NULL);
    clean();
    assert_non_null(strstr(out[0], "100 Gbit/s"));
    assert_null(strstr(out[0], "addresses a second Internet-wide"));
    assert_non_null(strstr(out[1], "推定していません"));
}

static void test_backscatter_and_flood(void **state)
{
    (void)state;
    ds_event v;
    int32_t d0;
    assert_int_equal(ds_day_parse("2023-08-29", &d0), 0);
    base(&v, "backscatter", d0, d0);
    v.end_ns = v.start_ns + 75 * 60 * 1000000000ULL;
    v.has_service = 1;
    assert_int_equal(ds_service_parse("22/tcp", &v.service), 0);
    v.sources = 1;
    v.packets = 25067;
    snprintf(v.top[0].addr, sizeof v.top[0].addr, "61.244.152.53");
    memcpy(v.top[0].cc, "HK", 3);
    v.top[0].asn = 9269;
    v.ntop = 1;
    fact(&v, "syn_ack_packets", 25067, NULL);
    fact(&v, "peak_packets_per_60s", 389, NULL);
    fact(&v, "inferred_attack", 0, "SYN flood");
    say(&v, NULL);
    clean();   /* the fact is called syn_ack_packets; the sentence says SYN-ACK */
    assert_non_null(strstr(out[0], "SYN flood inferred from 25,067 packets (SYN-ACK, 22/TCP)"));
    assert_non_null(strstr(out[1], "SYNフラッド攻撃を受けていたと推定されます"));
    assert_non_null(strstr(out[1], "、送信元ポート22/TCP）"));
    assert_int_equal(ds_service_parse("8/icmp", &v.service), 0);   /* ICMP has no ports */
    say(&v, NULL);
    clean();
    assert_null(strstr(out[1], "送信元ポート"));
    assert_non_null(strstr(out[1], "、8/ICMP）"));

    base(&v, "flood", d0, d0);
    v.end_ns = v.start_ns + 10 * 1000000000ULL;
    v.sources = 37623;
    v.packets = 37841;
    snprintf(v.top[0].addr, sizeof v.top[0].addr, "10.10.10.10");
    memcpy(v.top[0].cc, "ZZ", 3);
    v.ntop = 1;
    fact(&v, "rate_pps", 3784.1, NULL);
    fact(&v, "peak_packets_per_60s", 37841, NULL);
    say(&v, NULL);
    clean();
    assert_non_null(strstr(out[0], "spoofed"));
    assert_non_null(strstr(out[0], "3,784 packets a second"));
    assert_non_null(strstr(out[1], "偽装"));
    /* counts of four digits or more carry separators everywhere (was "at most 37841 in 60 s") */
    assert_non_null(strstr(out[0], "at most 37,841 in 60 s"));
    assert_non_null(strstr(out[1], "最大37,841パケット"));
    /* the packets by kind: one kind names the packets, several are listed */
    fact(&v, "packets_of_kind", 37841, "SYN");
    say(&v, NULL);
    clean();
    assert_non_null(strstr(out[0], "37,841 SYN packets from about"));
    assert_non_null(strstr(out[1], "SYNの37,841パケット（"));
    fact(&v, "packets_of_kind", 3000, "other");
    say(&v, NULL);
    clean();
    assert_non_null(strstr(out[0], "37,841 packets (37,841 SYN, 3,000 ACK, FIN or other) from about"));
    assert_non_null(strstr(out[1], "（SYN 37,841、ACK・FIN等 3,000、毎秒"));
}

/* A one-source tool event of one day says its day once (was "on 1 day from 4 July 2010 to 4 July
 * 2010"; in Japanese 「1,994パケットででした」 when no service dominated). */
static void test_tool_one_day(void **state)
{
    (void)state;
    ds_event v;
    int32_t d0;
    assert_int_equal(ds_day_parse("2010-07-04", &d0), 0);
    base(&v, "tool", d0, d0);
    snprintf(v.tool, sizeof v.tool, "nmap");
    v.sources = 1;
    v.packets = 1994;
    snprintf(v.top[0].addr, sizeof v.top[0].addr, "172.16.0.8");
    memcpy(v.top[0].cc, "ZZ", 3);
    v.ntop = 1;
    fact(&v, "days_active", 1, NULL);
    fact(&v, "services", 1000, NULL);
    say(&v, NULL);
    clean();
    assert_non_null(strstr(out[0], "1,994 packets on 4 July 2010 (1,000 services)."));
    assert_null(strstr(out[0], " to 4 July"));
    assert_null(strstr(out[1], "ででした"));
    assert_non_null(strstr(out[1], "2010年7月4日に1,994パケットでした（宛先サービス1,000種類）。"));
    base(&v, "tool", d0, d0 + 2);   /* three days: the span, and the main service in Japanese */
    snprintf(v.tool, sizeof v.tool, "nmap");
    v.sources = 1;
    v.packets = 1994;
    v.ntop = 1;
    snprintf(v.top[0].addr, sizeof v.top[0].addr, "172.16.0.8");
    fact(&v, "days_active", 3, NULL);
    fact(&v, "services", 3, NULL);
    fact(&v, "main_service_share", 0.5, "23/tcp");
    say(&v, NULL);
    clean();
    assert_non_null(strstr(out[0], "on 3 days from 4 July 2010 to 6 July 2010, 50.0% of them to 23/TCP"));
    assert_non_null(strstr(out[1], "1,994パケットで、その50.0%が23/TCP宛てでした"));
    /* several sources on one day (nmap's scan types from nine addresses, tools_netns.sh): was
     * "from 9 sources from 7 December 2026 to 7 December 2026" */
    base(&v, "tool", d0, d0);
    snprintf(v.tool, sizeof v.tool, "nmap");
    v.sources = 9;
    v.packets = 5085;
    fact(&v, "days_active", 1, NULL);
    fact(&v, "services", 300, NULL);
    say(&v, NULL);
    clean();
    assert_non_null(strstr(out[0], "from 9 sources on 4 July 2010: 5,085 packets"));
    assert_null(strstr(out[0], " to 4 July"));
    assert_non_null(strstr(out[1], "2010年7月4日に、Nmapによる"));
    assert_null(strstr(out[1], "にかけて"));
}

/* With the names tables: countries by their names, and Japanese by the short names reports use. */
static void test_names(void **state)
{
    (void)state;
    ds_names *n = NULL;
    ds_err err = { 0 };
    if (ds_names_open(&n, &err) != DS_OK)
        skip();   /* no iso-codes on this system: test_names covers the tables */
    ds_event v;
    int32_t d0;
    assert_int_equal(ds_day_parse("2023-07-08", &d0), 0);
    base(&v, "spike", d0, d0 + 3);
    memcpy(v.country, "KR", 3);
    v.sources = 1294;
    v.packets = 36694;
    fact(&v, "packets_per_day_baseline", 1439, NULL);
    fact(&v, "packets_peak", 11381, "2023-07-09");
    fact(&v, "robust_z", 30.6, NULL);
    fact(&v, "of_country", 1, "KR");
    say(&v, n);
    clean();
    assert_non_null(strstr(out[0], "packets from South Korea spiked"));
    assert_non_null(strstr(out[1], "韓国からのパケットが増加しました"));
    assert_null(strstr(out[1], "大韓民国"));
    memcpy(v.country, "NL", 3);
    say(&v, n);
    assert_non_null(strstr(out[0], "packets from the Netherlands spiked"));
    ds_out h;
    ds_out_init(&h, 0);
    ds_event_words w = { .lang = DS_LANG_EN, .names = n };
    ds_event_heading(&v, &w, &h);
    ds_out_putn(&h, "", 1);
    assert_string_equal(h.p, "Spike of packets from the Netherlands");
    ds_out_free(&h);
    ds_names_free(n);
}

/* A weekly cycle found by Friedman's rank test (weekly_rule.h) says so, with its p written out
 * (no exponent), instead of an autocorrelation that was not what found it. */
static void test_weekly_by_rank(void **state)
{
    (void)state;
    ds_event v;
    int32_t d0;
    assert_int_equal(ds_day_parse("2023-07-01", &d0), 0);
    base(&v, "periodic_weekly", d0, d0 + 91);
    v.has_service = 1;
    assert_int_equal(ds_service_parse("5432/tcp", &v.service), 0);
    v.packets = 18113;
    fact(&v, "autocorrelation", -0.06, "lag 7 days");
    fact(&v, "weeks_weekend_quietest", 5.0 / 13, NULL);
    fact(&v, "weekdays_to_weekend", 1.57, NULL);
    fact(&v, "weekday_rank_p", 3e-7, "Friedman's test");
    fact(&v, "by_rank_test", 1, NULL);
    fact(&v, "working_week", 1, NULL);
    fact(&v, "weeks_counted", 13, NULL);
    say(&v, NULL);
    clean();
    assert_non_null(strstr(out[0], "Friedman's test, p < 0.0001"));
    assert_null(strstr(out[0], "autocorrelation"));
    assert_non_null(strstr(out[1], "フリードマン検定、p < 0.0001"));
    v.evidence[3].value = 0.00051;
    say(&v, NULL);
    clean();
    assert_non_null(strstr(out[0], "p = 0.0005)"));
    v.nevidence = 3;   /* found by the autocorrelation: that is what the sentence gives */
    fact(&v, "working_week", 1, NULL);
    fact(&v, "weeks_counted", 13, NULL);
    say(&v, NULL);
    assert_non_null(strstr(out[0], "the autocorrelation at 7 days was -0.06."));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_weekly_by_rank),
        cmocka_unit_test(test_surge_far_rank),
        cmocka_unit_test(test_country_spike_by_sources),
        cmocka_unit_test(test_json_not_finite),
        cmocka_unit_test(test_plurals_and_private),
        cmocka_unit_test(test_scan_rates),
        cmocka_unit_test(test_scan_rate_rejected),
        cmocka_unit_test(test_backscatter_and_flood),
        cmocka_unit_test(test_tool_one_day),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
