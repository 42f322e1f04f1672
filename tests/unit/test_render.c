/* test_render.c: the HTML and Markdown report renderers (src/report/render_html.c,
 * render_md.c, i18n.c).
 *
 * A report is built by hand (no store, no model.c): two services, two regions, mixes, the IoT
 * figures and a region focus with a hostile organisation name, in Japanese and English, with
 * and without the previous-period comparison, and with names == NULL as a report without the
 * names tables has.  The HTML is checked for the numbers as fmt.h prints them ("1,234",
 * "12.35"), the Japanese wording of the publications it imitates (概要, 前期順位, 件/IP・日,
 * 新規, 2023年7月1日), the em dash for a missing relative change, escaping of "<script>", one
 * <img data:image/svg+xml;base64,...> per figure and no reference to any network resource.
 * The Markdown renderer must write every figure it links into the figure directory.
 *
 * With DS_RENDER_SAMPLES=DIR set, the sample reports are also written to DIR for a person to
 * look at.  Under LeakSanitizer, fontconfig's and pango's process-lifetime caches are
 * suppressed as in test_chart.c.
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
#include <math.h>
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "report/i18n.h"
#include "report/render.h"
#include "util/timeutil.h"

const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
    return "leak:libfontconfig.so\n"
           "leak:libpango-1.0.so\n"
           "leak:libpangoft2-1.0.so\n"
           "leak:libpangocairo-1.0.so\n"
           "leak:libglib-2.0.so\n"
           "leak:libgobject-2.0.so\n"
           "leak:libharfbuzz.so\n"
           "leak:libfreetype.so\n"
           "leak:libcairo.so\n";
}

/* ---------------------------------------------------------------- a report by hand */

#define NDAYS 92   /* Q3 2023 */
#define HOSTILE_ORG "<script>alert(1)</script> & Co"

typedef struct fixture {
    ds_report r;
    ds_report_row services[2], regions[2];
    double daily[4][NDAYS];
    uint32_t rs_rows[2], rs_parts[2], sr_rows[2], sr_parts[2];
    double rs_values[4], rs_totals[2], sr_values[4], sr_totals[2];
    ds_report_focus focus[2];
    uint32_t f2_parts[1];
    double f2_values[1], f2_totals[1];
    double f_daily[NDAYS], f_sources[NDAYS], f_split[2 * NDAYS];
    uint32_t f_parts[2];
    double f_values[2], f_totals[1];
    ds_report_source sources[2];
    ds_report_orgrow orgs[2];
} fixture;

static uint32_t cc_key(const char *cc) { return (uint32_t)((uint8_t)cc[0] << 8 | (uint8_t)cc[1]); }

static void row(ds_report_row *w, uint32_t key, const char *text, const char *label, const char *name, const char *iot,
                int rank, int prev_rank, uint64_t packets, uint64_t prev, double per_ip, double share, double *daily,
                int compare)
{
    memset(w, 0, sizeof *w);
    w->key = key;
    snprintf(w->text, sizeof w->text, "%s", text);
    snprintf(w->label, sizeof w->label, "%s", label);
    w->name = name;
    w->iot = iot;
    w->rank = rank;
    w->previous_rank = compare ? prev_rank : 0;
    w->packets = packets;
    w->previous_packets = compare ? prev : 0;
    w->sources = packets / 100;
    w->per_ip_per_day = per_ip;
    w->share = share;
    w->change = compare ? (double)packets - (double)prev : NAN;
    w->change_pct = compare && prev > 0 ? ((double)packets - (double)prev) * 100.0 / (double)prev : NAN;
    w->daily = daily;
}

static fixture *make_report(ds_lang lang, int compare)
{
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    ds_report *r = &f->r;
    int ja = lang == DS_LANG_JA;
    r->o.period = (ds_period){ DS_PERIOD_QUARTER, ds_days_from_civil(2023, 7, 1), ds_days_from_civil(2023, 9, 30), 2023, 3 };
    r->o.compare = compare;
    r->o.lang = lang;
    r->o.top = 10;
    r->o.timezone = "Asia/Tokyo";
    r->o.exclude_label = ja ? "既知の調査目的スキャナー" : "known research scanners";
    ds_period_previous(&r->o.period, &r->prev);
    r->days = NDAYS;
    assert_int_equal(ds_period_days(&r->o.period), NDAYS);
    r->cur = (ds_report_totals){ .packets = 3412345, .sources = 45678, .sensors = 2, .addresses = 512,
                                 .per_ip_per_day = 3412345.0 / (512.0 * NDAYS), .per_ip = 3412345.0 / 512.0 };
    r->previous = (ds_report_totals){ .packets = 3038001, .sources = 44000, .sensors = 2, .addresses = 512 };
    r->change = compare ? 3412345.0 - 3038001.0 : NAN;
    r->change_pct = compare ? 12.3 : NAN;
    r->sources_change_pct = compare ? 3.8 : NAN;

    for (int s = 0; s < 4; s++)
        for (int d = 0; d < NDAYS; d++)
            f->daily[s][d] = 1000.0 * (4 - s) + 37.0 * (d % 7) + (s == 1 ? 25.0 * d : 0.0);
    row(&f->services[0], 23u | 6u << 16, "23/tcp", "23/TCP", "telnet", ja ? "ルーター、監視カメラ" : "routers, IP cameras", 1, 2,
        1234567, 1000000, 12.3456, 0.3618, f->daily[0], compare);
    row(&f->services[1], 445u | 6u << 16, "445/tcp", "445/TCP", NULL, NULL, 2, 0, 1234, 0, 0.0262, 0.00036, f->daily[1], compare);
    f->services[0].increase_rank = compare ? 1 : 0;
    f->services[1].increase_rank = compare ? 7 : 0;
    r->services = (ds_report_table){ f->services, 2, 1500 };
    row(&f->regions[0], cc_key("CN"), "CN", "CN", ja ? "中国" : "China", NULL, 1, 1, 900000, 950000, 19.1, 0.264,
        f->daily[2], compare);
    row(&f->regions[1], cc_key("US"), "US", "US", NULL, NULL, 2, 3, 800000, 700000, 16.98, 0.234, f->daily[3], compare);
    f->regions[0].decrease_rank = compare ? 4 : 0;
    f->regions[1].increase_rank = compare ? 2 : 0;
    r->regions = (ds_report_table){ f->regions, 2, 180 };

    /* regions of the top services; services of the top regions */
    f->rs_rows[0] = f->services[0].key, f->rs_rows[1] = f->services[1].key;
    f->rs_parts[0] = cc_key("CN"), f->rs_parts[1] = cc_key("US");
    double rs[4] = { 500000, 300000, 600, 200 };
    memcpy(f->rs_values, rs, sizeof rs);
    f->rs_totals[0] = 1234567, f->rs_totals[1] = 1234;
    r->regions_of_services = (ds_report_mix){ 2, 2, f->rs_rows, f->rs_parts, f->rs_values, f->rs_totals };
    f->sr_rows[0] = cc_key("CN"), f->sr_rows[1] = cc_key("US");
    f->sr_parts[0] = f->services[0].key, f->sr_parts[1] = f->services[1].key;
    double sr[4] = { 500000, 600, 300000, 200 };
    memcpy(f->sr_values, sr, sizeof sr);
    f->sr_totals[0] = 900000, f->sr_totals[1] = 800000;
    r->services_of_regions = (ds_report_mix){ 2, 2, f->sr_rows, f->sr_parts, f->sr_values, f->sr_totals };

    r->iot_in_top30 = 1;
    r->iot_packets = 1234567;
    r->top30_packets = 1235801;
    r->iot_share = 1234567.0 / 1235801.0;

    /* a region focus: Japan, with a hostile organisation name */
    ds_report_focus *fx = &f->focus[0];
    fx->dim = DS_REPORT_REGION;
    fx->key = cc_key("JP");
    snprintf(fx->text, sizeof fx->text, "JP");
    snprintf(fx->label, sizeof fx->label, "JP");
    fx->name = ja ? "日本" : "Japan";
    fx->packets = 4321;
    fx->sources = 87;
    fx->per_ip_per_day = 4321.0 / (512.0 * NDAYS);
    fx->share = 4321.0 / 3412345.0;
    fx->rank = 0;   /* not in the ranking: 圏外 */
    for (int d = 0; d < NDAYS; d++) {
        fx->daily_sources = f->f_sources;
        f->f_daily[d] = 40 + d % 5;
        f->f_sources[d] = 3 + d % 3;
        f->f_split[d] = 30 + d % 5;
        f->f_split[NDAYS + d] = 10;
    }
    fx->daily = f->f_daily;
    f->f_parts[0] = f->services[0].key, f->f_parts[1] = 22u | 6u << 16;
    f->f_values[0] = 3000, f->f_values[1] = 920;
    f->f_totals[0] = 4321;
    fx->split = (ds_report_mix){ 1, 2, &fx->key, f->f_parts, f->f_values, f->f_totals };
    fx->split_daily = f->f_split;
    f->sources[0] = (ds_report_source){ "192.0.2.77", "JP", 64500, HOSTILE_ORG, 3000, 40,
                                        1688169600ULL * 1000000000ULL, 1696032000ULL * 1000000000ULL };
    f->sources[1] = (ds_report_source){ "2001:db8::1", "JP", 0, NULL, 100, 1, 0, 0 };
    fx->top_sources = f->sources;
    fx->ntop_sources = 2;
    f->orgs[0] = (ds_report_orgrow){ 64500, HOSTILE_ORG, 3000, 10 };
    f->orgs[1] = (ds_report_orgrow){ 0, NULL, 1321, 77 };
    fx->orgs = f->orgs;
    fx->norgs = 2;
    /* a service focus: 23/TCP, first in its ranking, split by region */
    ds_report_focus *fs = &f->focus[1];
    fs->dim = DS_REPORT_SERVICE;
    fs->key = f->services[0].key;
    snprintf(fs->text, sizeof fs->text, "23/tcp");
    snprintf(fs->label, sizeof fs->label, "23/TCP");
    fs->name = "telnet";
    fs->packets = 1234567;
    fs->sources = 12345;
    fs->per_ip_per_day = 12.3456;
    fs->share = 0.3618;
    fs->rank = 1;
    fs->daily = f->daily[0];
    fs->daily_sources = f->f_sources;
    f->f2_parts[0] = cc_key("CN");
    f->f2_values[0] = 500000;
    f->f2_totals[0] = 1234567;
    fs->split = (ds_report_mix){ 1, 1, &fs->key, f->f2_parts, f->f2_values, f->f2_totals };
    fs->split_daily = f->daily[2];
    fs->top_sources = f->sources;
    fs->ntop_sources = 1;
    r->focus = f->focus;
    r->nfocus = 2;
    r->names = NULL;
    return f;
}

/* ---------------------------------------------------------------- helpers */

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0, l = strlen(needle);
    for (const char *p = strstr(hay, needle); p; p = strstr(p + l, needle))
        n++;
    return n;
}

static void has(const char *doc, const char *needle)
{
    if (!strstr(doc, needle))
        fail_msg("expected \"%s\" in the output", needle);
}

static void lacks(const char *doc, const char *needle)
{
    if (strstr(doc, needle))
        fail_msg("did not expect \"%s\" in the output", needle);
}

static void save_sample(const char *name, const ds_out *o)
{
    const char *dir = getenv("DS_RENDER_SAMPLES");
    if (!dir || !*dir)
        return;
    char path[512];
    ds_err err = { 0 };
    mkdir(dir, 0755);
    snprintf(path, sizeof path, "%s/%s", dir, name);
    assert_int_equal(ds_out_write_file(o, path, &err), DS_OK);
}

static char *render_html(fixture *f, const char *sample)
{
    ds_out o;
    ds_err err = { 0 };
    ds_out_init(&o, 0);
    ds_rc rc = ds_report_render_html(&f->r, &o, &err);
    if (rc != DS_OK)
        fail_msg("render_html: %s", err.msg);
    assert_false(o.failed);
    if (sample)
        save_sample(sample, &o);
    return o.p;
}

/* Structure every HTML report must have, whatever its content. */
static void check_html_common(const char *h, const char *lang)
{
    char b[64];
    assert_memory_equal(h, "<!DOCTYPE html>", 15);
    snprintf(b, sizeof b, "<html lang=\"%s\">", lang);
    has(h, b);
    has(h, "<meta charset=\"utf-8\">");
    has(h, "@media print");
    has(h, "size:A4");
    has(h, "Hiragino Sans");
    has(h, "Noto Sans CJK JP");
    has(h, "IPAGothic");
    has(h, "Yu Gothic");
    has(h, "</html>\n");
    /* offline: no network resource of any kind */
    lacks(h, "http://");
    lacks(h, "https://");
    lacks(h, "url(");
    lacks(h, "<script");
    lacks(h, "<link");
    lacks(h, "@import");
    /* one embedded SVG image per figure, each with alt text and a caption */
    size_t figs = count(h, "<figure ");
    assert_true(figs > 0);
    assert_int_equal(count(h, "<img "), figs);
    assert_int_equal(count(h, "<img src=\"data:image/svg+xml;base64,"), figs);
    assert_int_equal(count(h, "\" alt=\""), figs);
    assert_int_equal(count(h, "<figcaption>"), figs);
    /* no src other than data: URIs */
    assert_int_equal(count(h, "src=\""), figs);
}

/* ---------------------------------------------------------------- tests */

static void test_html_ja_compare(void **state)
{
    (void)state;
    fixture *f = make_report(DS_LANG_JA, 1);
    char *h = render_html(f, "report-ja.html");
    check_html_common(h, "ja");
    /* headings and columns as the publications word them */
    has(h, "ダークネット観測レポート 2023年第3四半期");
    has(h, "1. 概要");
    has(h, "2. 宛先ポート別");
    has(h, "3. 送信元地域別");
    has(h, "4. 注目された現象");
    has(h, "この期間に注目すべき現象は検出されませんでした。");
    has(h, "5. 注目地域：日本（JP）");
    has(h, "本レポートの見方");
    static const char *const cols[] = { "<th scope=\"col\">順位</th>", "<th scope=\"col\">前期順位</th>",
                                        "<th scope=\"col\">宛先ポート</th>", "<th scope=\"col\">サービス</th>",
                                        "<th scope=\"col\">IoT機器</th>", "<th scope=\"col\">件/IP・日</th>",
                                        "<th scope=\"col\">割合</th>", "<th scope=\"col\">前期比</th>",
                                        "<th scope=\"col\">増加順位</th>", "<th scope=\"col\">減少順位</th>" };
    for (size_t i = 0; i < sizeof cols / sizeof cols[0]; i++)
        has(h, cols[i]);
    /* numbers */
    has(h, "<td class=\"num\">1,234,567</td>");
    has(h, "<td class=\"num\">1,234</td>");
    has(h, "<td class=\"num\">12.35</td>");
    has(h, "<td class=\"num\">36.2%</td>");
    has(h, "<td class=\"num\">+234,567</td>");
    has(h, "<td class=\"num\">+23.5%</td>");
    has(h, "<td class=\"num\">新規</td>");                 /* previous_rank 0 */
    has(h, "<td class=\"num\">" DS_FMT_NA "</td>");       /* NaN change_pct, no decrease rank */
    has(h, "<td>ルーター、監視カメラ</td>");
    /* the overview sentence */
    has(h, "2023年第3四半期に観測したパケットは3,412,345件（1IPアドレス・1日あたり72.4件）で、前期比12.3%増加しました（前期 3,038,001件）。");
    has(h, "送信元は45,678ユニークアドレスでした（前期比+3.8%）。");
    has(h, "宛先ポート別では23/TCP（telnet）が全体の36.2%で最も多く");
    has(h, "1ポートはIoT機器を狙ったもの");
    has(h, "前期の上位10位圏外から新たに上位10位に入ったのは445/TCPです。");
    lacks(h, "入ったのはUS");   /* previous rank 3 was inside the top 10 */
    has(h, "上位10位のうち前期から最も増加したのは23/TCP（telnet）で、234,567件（23.5%）増加しました。");
    has(h, "上位10位のうち前期から最も減少したのは中国（CN）で、50,000件（5.3%）減少しました。");
    /* dates and the generation note */
    has(h, "2023年7月1日～2023年9月30日（92日間、Asia/Tokyo）");
    has(h, "除外した送信元: 既知の調査目的スキャナー。");
    has(h, "比較対象（前期）: 2023年第2四半期（2023年4月1日～2023年6月30日）");
    /* the focus section */
    has(h, "ランキングでは圏外でした");
    has(h, "6. 注目ポート：23/TCP（telnet）");
    has(h, "23/TCP（telnet）宛てのパケットは1,234,567件（1IPアドレス・1日あたり12.35件）で全体の36.2%を占め、宛先ポート別で第1位でした。");
    has(h, "7. 本レポートの見方");
    has(h, "<td>2023-07-01</td>");
    has(h, "<td>2023-09-30</td>");
    has(h, "AS64500");
    has(h, "&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co");
    lacks(h, HOSTILE_ORG);
    has(h, "図1 ");
    has(h, "表1 ");
    free(h);
    free(f);
}

static void test_html_en_compare(void **state)
{
    (void)state;
    fixture *f = make_report(DS_LANG_EN, 1);
    char *h = render_html(f, "report-en.html");
    check_html_common(h, "en");
    has(h, "Darknet Observation Report — Q3 2023");
    has(h, "In Q3 2023 the 2 sensors (512 addresses) received 3,412,345 packets, 72.4 packets per address per day, "
           "12.3% more than in Q2 2023 (3,038,001 packets), from 45,678 unique sources (3.8% more than in Q2 2023).");
    has(h, "<th scope=\"col\">Rank</th>");
    has(h, "<th scope=\"col\">Prev.</th>");
    has(h, "<th scope=\"col\">Service</th>");
    has(h, "<th scope=\"col\">Packets/IP/day</th>");
    has(h, "<th scope=\"col\">Share</th>");
    has(h, "<th scope=\"col\">Change</th>");
    has(h, "<td class=\"num\">new</td>");
    has(h, "<td class=\"num\">12.35</td>");
    has(h, "1 of the top 30 services targets IoT devices; it received 99.9% of the packets to the top 30.");
    has(h, "New in the top 10 compared with Q2 2023: 445/TCP.");
    has(h, "Among the top 10 the largest increase was 23/TCP (telnet): +234,567 packets (+23.5%).");
    has(h, "Among the top 10 the largest increase was US: +100,000 packets (+14.3%). "
           "Among the top 10 the largest decrease was China (CN): -50,000 packets (-5.3%).");
    has(h, "Period: 1 July 2023 – 30 September 2023 (92 days, dates in Asia/Tokyo).");
    has(h, "Excluded sources: known research scanners.");
    has(h, "Figure 1. ");
    has(h, "Table 1. ");
    has(h, "it is not ranked among source regions.");
    has(h, "23/TCP (telnet) received 1,234,567 packets (12.35 per address per day), 36.2% of all packets, from 12,345 "
           "unique sources; it ranks 1st among destination services.");
    has(h, "Japan (JP)");
    has(h, "US</td>");     /* a region without a name falls back to its code */
    lacks(h, "新規");
    lacks(h, "概要");
    free(h);
    free(f);
}

static void test_html_no_compare(void **state)
{
    (void)state;
    for (int ja = 0; ja <= 1; ja++) {
        fixture *f = make_report(ja ? DS_LANG_JA : DS_LANG_EN, 0);
        char *h = render_html(f, NULL);
        check_html_common(h, ja ? "ja" : "en");
        /* no comparison columns, no comparison words */
        lacks(h, ja ? "前期順位" : "Prev.");
        lacks(h, ja ? "増加順位" : "Incr. rank");
        lacks(h, ja ? "前期比" : "more than");
        lacks(h, ja ? "新規" : ">new<");
        has(h, ja ? "（1IPアドレス・1日あたり72.4件）でした。" : "72.4 packets per address per day, from 45,678 unique sources.");
        has(h, "<td class=\"num\">1,234</td>");
        free(h);
        free(f);
    }
}

static void test_html_yearly(void **state)
{
    (void)state;
    for (int ja = 0; ja <= 1; ja++) {
        fixture *f = make_report(ja ? DS_LANG_JA : DS_LANG_EN, 1);
        /* a year of 92 days would not be a year: cut the report to a one-year label only for the
         * sentence, the series length stays r->days */
        f->r.o.period.kind = DS_PERIOD_YEAR;
        f->r.o.period.num = 0;
        char *h = render_html(f, NULL);
        has(h, ja ? "1IPアドレスあたり年間6,665件" : "or 6,665 per address over the year");
        free(h);
        free(f);
    }
}

static void test_html_empty_report(void **state)
{
    (void)state;
    ds_report r;
    memset(&r, 0, sizeof r);
    r.o.period = (ds_period){ DS_PERIOD_MONTH, ds_days_from_civil(2023, 7, 1), ds_days_from_civil(2023, 7, 31), 2023, 7 };
    ds_period_previous(&r.o.period, &r.prev);
    r.days = 31;
    r.o.lang = DS_LANG_EN;
    r.o.compare = 1;
    r.change = r.change_pct = r.sources_change_pct = NAN;
    ds_out o;
    ds_err err = { 0 };
    ds_out_init(&o, 0);
    assert_int_equal(ds_report_render_html(&r, &o, &err), DS_OK);
    has(o.p, "No packets were observed in this period.");
    has(o.p, "There were no packets in June 2023 to compare with.");
    lacks(o.p, "<img");
    ds_out_free(&o);
}

static void test_chart_error_propagates(void **state)
{
    (void)state;
    fixture *f = make_report(DS_LANG_EN, 1);
    f->daily[0][5] = -1;    /* chart.c refuses a negative value: the renderer must return its error */
    ds_out o;
    ds_err err = { 0 };
    ds_out_init(&o, 0);
    assert_int_equal(ds_report_render_html(&f->r, &o, &err), DS_EINVAL);
    assert_true(err.msg[0] != '\0');
    ds_out_free(&o);
    free(f);
}

static void test_html_output_limit(void **state)
{
    (void)state;
    fixture *f = make_report(DS_LANG_JA, 1);
    ds_out o;
    ds_err err = { 0 };
    ds_out_init(&o, 4096);
    assert_int_equal(ds_report_render_html(&f->r, &o, &err), DS_ENOMEM);
    assert_non_null(strstr(err.msg, "HTML report"));
    ds_out_free(&o);
    free(f);
}

/* Markdown: every linked figure is a file in fig_dir, and nothing else is written there. */
static void test_md(void **state)
{
    (void)state;
    char dir[] = "/tmp/test_render_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char figdir[256];
    snprintf(figdir, sizeof figdir, "%s/figs/sub", dir);   /* created by the renderer */
    for (int ja = 0; ja <= 1; ja++) {
        fixture *f = make_report(ja ? DS_LANG_JA : DS_LANG_EN, ja);
        ds_out o;
        ds_err err = { 0 };
        ds_out_init(&o, 0);
        const char *prefix = ja ? "report-2023Q3 ja" : "report-2023Q3";
        ds_rc rc = ds_report_render_md(&f->r, &o, figdir, prefix, &err);
        if (rc != DS_OK)
            fail_msg("render_md: %s", err.msg);
        const char *m = o.p;
        save_sample(ja ? "report-ja.md" : "report-en.md", &o);
        has(m, ja ? "## 1. 概要" : "## 1. Overview");
        has(m, ja ? "| 順位 | 前期順位 | 宛先ポート |" : "| Rank | Port | Service |");
        has(m, "| ---: |");
        has(m, "| :--- |");
        has(m, "| 1,234 |");
        has(m, "| 12.35 |");
        has(m, "\\<script\\>alert(1)\\</script\\> \\& Co");
        lacks(m, "<script>");
        lacks(m, "http://");
        if (ja) {
            has(m, "| 新規 |");
            has(m, "| " DS_FMT_NA " |");
            has(m, "](report-2023Q3%20ja-services-daily.svg)");
        }
        /* every image link names a file that exists, is an SVG, and is not a temporary */
        size_t links = 0;
        for (const char *p = strstr(m, "]("); p; p = strstr(p + 2, "](")) {
            const char *e = strchr(p, ')');
            assert_non_null(e);
            char link[256], name[256], path[600];
            size_t n = (size_t)(e - p - 2);
            assert_true(n < sizeof link);
            memcpy(link, p + 2, n);
            link[n] = 0;
            assert_null(strchr(link, '/'));
            /* undo the %20 of the Japanese prefix */
            size_t k = 0;
            for (size_t i = 0; i < n; i++) {
                if (link[i] == '%' && i + 2 < n && link[i + 1] == '2' && link[i + 2] == '0') {
                    name[k++] = ' ';
                    i += 2;
                } else {
                    name[k++] = link[i];
                }
            }
            name[k] = 0;
            assert_non_null(strstr(name, prefix));
            snprintf(path, sizeof path, "%s/%s", figdir, name);
            FILE *fp = fopen(path, "rb");
            if (!fp)
                fail_msg("linked figure %s was not written", path);
            char head[6] = { 0 };
            assert_int_equal(fread(head, 1, 5, fp), 5);
            fclose(fp);
            assert_string_equal(head, "<?xml");
            links++;
        }
        assert_int_equal(links, count(m, "!["));
        assert_true(links >= 8);
        ds_out_free(&o);
        free(f);
    }
    /* clean up: only the figures are there (no temporaries) */
    DIR *d = opendir(figdir);
    assert_non_null(d);
    struct dirent *de;
    size_t files = 0;
    char path[600];
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.' && (!de->d_name[1] || (de->d_name[1] == '.' && !de->d_name[2])))
            continue;
        assert_non_null(strstr(de->d_name, ".svg"));
        assert_true(de->d_name[0] != '.');
        snprintf(path, sizeof path, "%s/%s", figdir, de->d_name);
        assert_int_equal(unlink(path), 0);
        files++;
    }
    closedir(d);
    assert_true(files >= 16);
    assert_int_equal(rmdir(figdir), 0);
    snprintf(path, sizeof path, "%s/figs", dir);
    assert_int_equal(rmdir(path), 0);
    assert_int_equal(rmdir(dir), 0);
}

static void test_md_bad_prefix(void **state)
{
    (void)state;
    fixture *f = make_report(DS_LANG_EN, 1);
    static const char *const bad[] = { "", "..", ".", "../x", "a/b" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ds_out o;
        ds_err err = { 0 };
        ds_out_init(&o, 0);
        assert_int_equal(ds_report_render_md(&f->r, &o, "/tmp", bad[i], &err), DS_EINVAL);
        assert_true(err.msg[0] != '\0');
        ds_out_free(&o);
    }
    /* a figure directory that is a file */
    ds_out o;
    ds_err err = { 0 };
    ds_out_init(&o, 0);
    assert_int_equal(ds_report_render_md(&f->r, &o, "/etc/hostname", "x", &err) == DS_OK, 0);
    ds_out_free(&o);
    free(f);
}

/* With the names tables loaded (skipped where the system lacks iso-codes or /etc/services):
 * regions without a name in their row get one from the tables, in the report language. */
static void test_html_with_names(void **state)
{
    (void)state;
    ds_names *names = NULL;
    ds_err err = { 0 };
    if (ds_names_open(&names, &err) != DS_OK) {
        print_message("skipped: names tables not available (%s)\n", err.msg);
        skip();
    }
    fixture *f = make_report(DS_LANG_JA, 1);
    f->r.names = names;
    char *h = render_html(f, NULL);
    check_html_common(h, "ja");
    has(h, ds_names_country(names, "JP", DS_LANG_JA));   /* focus source country, from the tables */
    has(h, "日本（JP）");
    free(h);
    free(f);
    ds_names_free(names);
}

/* Every UI string exists in both languages and the Japanese one is not the English one. */
static void test_messages(void **state)
{
    (void)state;
    for (int m = 0; m < DS_MSG__COUNT; m++) {
        const char *en = ds_msg_text(DS_LANG_EN, (ds_msg)m), *ja = ds_msg_text(DS_LANG_JA, (ds_msg)m);
        assert_true(en[0] != '\0');
        assert_true(ja[0] != '\0');
        if (!strcmp(en, ja))
            fail_msg("message %d has no Japanese text (\"%s\")", m, en);
    }
    assert_string_equal(ds_msg_text(DS_LANG_EN, DS_MSG__COUNT), "");
    assert_string_equal(ds_msg_text(DS_LANG_JA, DS_MSG_NEW), "新規");
    assert_string_equal(ds_msg_text(DS_LANG_JA, DS_MSG_OUT_OF_RANKING), "圏外");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_messages),
        cmocka_unit_test(test_html_ja_compare),
        cmocka_unit_test(test_html_en_compare),
        cmocka_unit_test(test_html_no_compare),
        cmocka_unit_test(test_html_yearly),
        cmocka_unit_test(test_html_with_names),
        cmocka_unit_test(test_html_empty_report),
        cmocka_unit_test(test_chart_error_propagates),
        cmocka_unit_test(test_html_output_limit),
        cmocka_unit_test(test_md),
        cmocka_unit_test(test_md_bad_prefix),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
