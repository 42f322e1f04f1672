/* test_chart.c: report figures (src/report/chart.c).
 *
 * Every chart type is rendered in both formats and the document checked structurally: an SVG
 * starts with "<?xml", holds "<svg" and ends with "</svg>"; a PNG has the PNG signature and an
 * IHDR whose width and height are the layout's size times DS_CHART_PNG_SCALE.  Japanese
 * labels, 200-character labels, NULL labels, zero series, all-zero values, one day and 1,000
 * days must render; NaN, infinities, negative values, n != ndays and sums above the total are
 * DS_EINVAL; an output cap below the document size is DS_ENOMEM.  The line chart's layout is
 * checked geometrically for 1 to 1,000 days, English and Japanese, few and many series: the
 * legend never meets the plot or the tick labels, tick labels never meet each other, and
 * everything lies on the canvas.
 *
 * With DS_CHART_SAMPLES=DIR set, sample figures are also written to DIR for a person to look at.
 * Under LeakSanitizer, fontconfig's process-lifetime caches are suppressed (see
 * __lsan_default_suppressions below); leaks in chart.c itself are still reported.
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
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "report/chart.h"

/* fontconfig keeps its font sets and pattern caches for the life of the process and never
 * frees them; only allocations made inside libfontconfig are suppressed, so a PangoLayout or
 * cairo surface that chart.c forgets to release is still reported. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
    return "leak:libfontconfig.so\n";
}

#define DAY_2024_07_01 19905   /* days from 1970-01-01 to 2024-07-01 */

/* ---------------------------------------------------------------- helpers */

static void check_svg(const ds_chart_out *o)
{
    assert_non_null(o->data);
    assert_true(o->len > 200);
    assert_memory_equal(o->data, "<?xml", 5);
    assert_non_null(memmem(o->data, o->len, "<svg", 4));
    size_t end = o->len;
    while (end > 0 && (o->data[end - 1] == '\n' || o->data[end - 1] == ' ' || o->data[end - 1] == '\r'))
        end--;
    assert_true(end >= 6);
    assert_memory_equal(o->data + end - 6, "</svg>", 6);
}

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void check_png(const ds_chart_out *o, int width, int height)
{
    static const unsigned char sig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
    assert_non_null(o->data);
    assert_true(o->len > 33);
    assert_memory_equal(o->data, sig, 8);
    assert_memory_equal(o->data + 12, "IHDR", 4);
    assert_int_equal(be32(o->data + 16), (uint32_t)width);
    assert_int_equal(be32(o->data + 20), (uint32_t)height);
    assert_int_equal(o->width, width);
    assert_int_equal(o->height, height);
}

static void save_sample(const char *name, const ds_chart_out *o)
{
    const char *dir = getenv("DS_CHART_SAMPLES");
    if (!dir || !*dir)
        return;
    mkdir(dir, 0755);
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f)
        fail_msg("cannot write %s", path);
    fwrite(o->data, 1, o->len, f);
    fclose(f);
}

static int rects_meet(ds_chart_rect a, ds_chart_rect b)
{
    if (a.w <= 0 || a.h <= 0 || b.w <= 0 || b.h <= 0)
        return 0;
    return a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
}

static int rect_on_canvas(ds_chart_rect r, const ds_line_layout *lay)
{
    return r.x >= -0.01 && r.y >= -0.01 && r.x + r.w <= lay->width + 0.01 &&
           r.y + r.h <= lay->height + 0.01;
}

/* Deterministic traffic-like series: a base level, a weekly cycle and a few bursts. */
typedef struct fixture {
    double *values[DS_CHART_MAX_SERIES];
    ds_chart_series series[DS_CHART_MAX_SERIES];
    char labels[DS_CHART_MAX_SERIES][256];
} fixture;

static void fixture_make(fixture *fx, size_t nseries, size_t ndays, const char *const *labels)
{
    memset(fx, 0, sizeof *fx);
    uint32_t seed = 12345;
    for (size_t s = 0; s < nseries; s++) {
        fx->values[s] = calloc(ndays ? ndays : 1, sizeof(double));
        assert_non_null(fx->values[s]);
        double base = 120000.0 / (double)(s + 1);
        for (size_t i = 0; i < ndays; i++) {
            seed = seed * 1103515245u + 12345u;
            double noise = (double)((seed >> 16) % 1000) / 1000.0;
            double burst = (i % 23 == s % 23) ? 3.0 : 1.0;
            fx->values[s][i] = floor(base * (0.8 + 0.2 * sin((double)i * 2 * M_PI / 7) + 0.3 * noise) * burst);
        }
        if (labels)
            snprintf(fx->labels[s], sizeof fx->labels[s], "%s", labels[s]);
        else
            snprintf(fx->labels[s], sizeof fx->labels[s], "%zu/TCP", (size_t)(23 + s * 422));
        fx->series[s] = (ds_chart_series){ fx->labels[s], fx->values[s], ndays };
    }
}

static void fixture_free(fixture *fx)
{
    for (size_t s = 0; s < DS_CHART_MAX_SERIES; s++)
        free(fx->values[s]);
}

static ds_line_chart line_of(const fixture *fx, size_t nseries, size_t ndays, int ja)
{
    ds_line_chart c = {
        .title = ja ? "宛先ポート別 日次パケット数" : "Daily packets by destination port",
        .y_label = ja ? "パケット数" : "packets",
        .first_day = DAY_2024_07_01,
        .ndays = ndays,
        .series = fx->series,
        .nseries = nseries,
        .ja = ja,
    };
    return c;
}

/* Render in both formats, check both documents; returns nothing, fails the test on error. */
static void render_line_both(const ds_line_chart *c, const char *sample)
{
    ds_err err = { 0 };
    ds_line_layout lay;
    assert_int_equal(ds_chart_line_layout(c, &lay, &err), DS_OK);
    ds_chart_out svg = { 0 }, png = { 0 };
    if (ds_chart_line(c, DS_CHART_SVG, &svg, &err) != DS_OK)
        fail_msg("svg: %s", err.msg);
    check_svg(&svg);
    if (ds_chart_line(c, DS_CHART_PNG, &png, &err) != DS_OK)
        fail_msg("png: %s", err.msg);
    check_png(&png, (int)ceil(lay.width) * DS_CHART_PNG_SCALE, (int)ceil(lay.height) * DS_CHART_PNG_SCALE);
    if (sample) {
        char name[128];
        snprintf(name, sizeof name, "%s.svg", sample);
        save_sample(name, &svg);
        snprintf(name, sizeof name, "%s.png", sample);
        save_sample(name, &png);
    }
    ds_chart_out_free(&svg);
    ds_chart_out_free(&png);
    assert_null(svg.data);
}

/* ---------------------------------------------------------------- line chart */

static void test_line_quarter_en(void **state)
{
    (void)state;
    fixture fx;
    fixture_make(&fx, 5, 92, NULL);
    ds_line_chart c = line_of(&fx, 5, 92, 0);
    render_line_both(&c, "line-quarter-en");
    fixture_free(&fx);
}

static void test_line_japanese(void **state)
{
    (void)state;
    static const char *const names[] = { "中華人民共和国", "アメリカ合衆国", "ブラジル連邦共和国",
                                         "インド", "ロシア連邦" };
    fixture fx;
    fixture_make(&fx, 5, 31, names);
    ds_line_chart c = line_of(&fx, 5, 31, 1);
    render_line_both(&c, "line-month-ja");

    ds_err err = { 0 };
    ds_chart_out png = { 0 };
    assert_int_equal(ds_chart_line(&c, DS_CHART_PNG, &png, &err), DS_OK);
    assert_true(png.len > 20000);   /* kanji, lines and markers: far from an empty picture */
    ds_chart_out_free(&png);
    fixture_free(&fx);
}

static void test_line_edges(void **state)
{
    (void)state;
    fixture fx;
    ds_err err = { 0 };

    /* zero series */
    ds_line_chart none = { .title = "nothing", .first_day = DAY_2024_07_01, .ndays = 7 };
    render_line_both(&none, "line-empty");

    /* all zero: y axis 0..1 */
    fixture_make(&fx, 2, 10, NULL);
    for (size_t s = 0; s < 2; s++)
        memset(fx.values[s], 0, 10 * sizeof(double));
    ds_line_chart zero = line_of(&fx, 2, 10, 0);
    ds_line_layout lay;
    assert_int_equal(ds_chart_line_layout(&zero, &lay, &err), DS_OK);
    assert_true(lay.nyticks >= 2);
    assert_true(lay.ytick_value[0] == 0);
    assert_true(lay.ytick_value[lay.nyticks - 1] == 1);
    render_line_both(&zero, "line-all-zero");
    zero.log_y = 1;
    render_line_both(&zero, NULL);
    fixture_free(&fx);

    /* one day */
    fixture_make(&fx, 3, 1, NULL);
    ds_line_chart one = line_of(&fx, 3, 1, 0);
    assert_int_equal(ds_chart_line_layout(&one, &lay, &err), DS_OK);
    assert_int_equal(lay.nxticks, 1);
    render_line_both(&one, "line-one-day");
    fixture_free(&fx);

    /* 1,000 days, log axis too */
    fixture_make(&fx, 5, 1000, NULL);
    ds_line_chart many = line_of(&fx, 5, 1000, 0);
    render_line_both(&many, "line-1000d-en");
    many.log_y = 1;
    fx.values[2][100] = 0;   /* a zero on a log axis breaks the line */
    render_line_both(&many, "line-1000d-log");
    fixture_free(&fx);

    /* ten years: more days than columns, so the path is decimated (M4); zeros on a log axis */
    fixture_make(&fx, 3, 3653, NULL);
    fx.values[1][2000] = 0;
    ds_line_chart decade = line_of(&fx, 3, 3653, 1);
    render_line_both(&decade, "line-10y-ja");
    decade.log_y = 1;
    render_line_both(&decade, NULL);
    fixture_free(&fx);

    /* 200-character labels, NULL labels, no title, 64 series (legend below) */
    char longlabel[201];
    for (int i = 0; i < 200; i++)
        longlabel[i] = (char)('a' + i % 26);
    longlabel[200] = '\0';
    for (int i = 9; i < 200; i += 10)
        longlabel[i] = ' ';
    fixture_make(&fx, DS_CHART_MAX_SERIES, 60, NULL);
    fx.series[0].label = longlabel;
    fx.series[1].label = NULL;
    ds_line_chart wide = line_of(&fx, 4, 60, 0);
    wide.title = longlabel;
    wide.y_label = longlabel;
    render_line_both(&wide, "line-long-labels");
    wide.nseries = DS_CHART_MAX_SERIES;
    wide.title = NULL;
    assert_int_equal(ds_chart_line_layout(&wide, &lay, &err), DS_OK);
    assert_true(lay.legend_below);
    render_line_both(&wide, "line-64-series");
    fixture_free(&fx);
}

static void test_line_invalid(void **state)
{
    (void)state;
    fixture fx;
    ds_err err = { 0 };
    ds_chart_out o = { 0 };
    fixture_make(&fx, 2, 7, NULL);
    ds_line_chart c = line_of(&fx, 2, 7, 0);

    assert_int_equal(ds_chart_line(NULL, DS_CHART_SVG, &o, &err), DS_EINVAL);
    /* NaN is "no value" (a day no sensor observed): the line breaks there, in both formats and
     * on a log axis, and a series of NaN only is drawn as nothing */
    fx.values[1][3] = NAN;
    assert_int_equal(ds_chart_line(&c, DS_CHART_SVG, &o, &err), DS_OK);
    ds_chart_out_free(&o);
    assert_int_equal(ds_chart_line(&c, DS_CHART_PNG, &o, &err), DS_OK);
    ds_chart_out_free(&o);
    c.log_y = 1;
    assert_int_equal(ds_chart_line(&c, DS_CHART_SVG, &o, &err), DS_OK);
    ds_chart_out_free(&o);
    c.log_y = 0;
    for (int i = 0; i < 7; i++)
        fx.values[1][i] = NAN;
    assert_int_equal(ds_chart_line(&c, DS_CHART_SVG, &o, &err), DS_OK);
    ds_chart_out_free(&o);
    for (int i = 0; i < 7; i++)
        fx.values[1][i] = i;
    fx.values[1][3] = -1;
    assert_int_equal(ds_chart_line(&c, DS_CHART_PNG, &o, &err), DS_EINVAL);
    assert_non_null(strstr(err.msg, "series 1"));
    fx.values[1][3] = INFINITY;
    assert_int_equal(ds_chart_line(&c, DS_CHART_PNG, &o, &err), DS_EINVAL);
    fx.values[1][3] = 5;
    fx.series[0].n = 6;
    assert_int_equal(ds_chart_line(&c, DS_CHART_SVG, &o, &err), DS_EINVAL);
    assert_non_null(strstr(err.msg, "6 values for 7 days"));
    fx.series[0].n = 7;
    c.ndays = 0;
    assert_int_equal(ds_chart_line(&c, DS_CHART_SVG, &o, &err), DS_EINVAL);
    c.ndays = 7;
    c.nseries = DS_CHART_MAX_SERIES + 1;
    assert_int_equal(ds_chart_line(&c, DS_CHART_SVG, &o, &err), DS_EINVAL);
    c.nseries = 2;
    c.series = NULL;
    assert_int_equal(ds_chart_line(&c, DS_CHART_SVG, &o, &err), DS_EINVAL);
    c.series = fx.series;
    assert_int_equal(ds_chart_line(&c, (ds_chart_format)7, &o, &err), DS_EINVAL);
    assert_null(o.data);

    /* the output cap: a document larger than max_len is DS_ENOMEM, and nothing is handed out */
    o.max_len = 1000;
    assert_int_equal(ds_chart_line(&c, DS_CHART_SVG, &o, &err), DS_ENOMEM);
    assert_null(o.data);
    assert_int_equal(ds_chart_line(&c, DS_CHART_PNG, &o, &err), DS_ENOMEM);
    assert_null(o.data);
    o.max_len = 0;
    assert_int_equal(ds_chart_line(&c, DS_CHART_SVG, &o, &err), DS_OK);
    ds_chart_out_free(&o);
    fixture_free(&fx);
}

/* Uncovered days (report coverage): a band per day below 1, drawn in both formats; the shares are
 * validated like the values. */
static void test_line_covered(void **state)
{
    (void)state;
    fixture fx;
    ds_err err = { 0 };
    ds_chart_out o = { 0 };
    double cov[92];
    fixture_make(&fx, 3, 92, NULL);
    ds_line_chart c = line_of(&fx, 3, 92, 0);
    assert_int_equal(ds_chart_line(&c, DS_CHART_SVG, &o, &err), DS_OK);
    size_t plain = o.len;
    ds_chart_out_free(&o);
    for (size_t i = 0; i < 92; i++)
        cov[i] = i >= 40 && i < 50 ? 0.5 : i == 39 ? 0.8 : 1.0;   /* one sensor of two down ten days */
    c.covered = cov;
    render_line_both(&c, "line-quarter-covered");
    assert_int_equal(ds_chart_line(&c, DS_CHART_SVG, &o, &err), DS_OK);
    assert_true(o.len > plain);   /* eleven more filled rectangles */
    ds_chart_out_free(&o);
    cov[3] = 1.5;
    assert_int_equal(ds_chart_line(&c, DS_CHART_SVG, &o, &err), DS_EINVAL);
    assert_non_null(strstr(err.msg, "covered share 3"));
    cov[3] = NAN;
    assert_int_equal(ds_chart_line(&c, DS_CHART_PNG, &o, &err), DS_EINVAL);
    cov[3] = -0.1;
    assert_int_equal(ds_chart_line(&c, DS_CHART_SVG, &o, &err), DS_EINVAL);
    assert_null(o.data);
    fixture_free(&fx);
}

/* Geometry of the line chart's layout for one configuration. */
static void check_line_layout(const ds_line_chart *c)
{
    ds_err err = { 0 };
    ds_line_layout lay;
    if (ds_chart_line_layout(c, &lay, &err) != DS_OK)
        fail_msg("layout: %s", err.msg);
    assert_true(lay.plot.w > 300);
    assert_true(lay.plot.h > 150);
    assert_true(rect_on_canvas(lay.plot, &lay));
    if (c->nseries) {
        assert_true(rect_on_canvas(lay.legend, &lay));
        assert_false(rects_meet(lay.legend, lay.plot));
        assert_int_equal(lay.nlegend, c->nseries);
        for (size_t i = 0; i < lay.nlegend; i++) {
            assert_false(rects_meet(lay.legend_entry[i], lay.plot));
            assert_true(rect_on_canvas(lay.legend_entry[i], &lay));
            for (size_t j = i + 1; j < lay.nlegend; j++)
                assert_false(rects_meet(lay.legend_entry[i], lay.legend_entry[j]));
        }
    }
    assert_false(rects_meet(lay.title, lay.plot));
    assert_false(rects_meet(lay.y_label, lay.plot));
    assert_true(lay.nxticks >= (c->ndays > 1 ? 2u : 1u));
    for (size_t i = 0; i < lay.nxticks; i++) {
        ds_chart_rect a = lay.xtick_label[i];
        assert_true(rect_on_canvas(a, &lay));
        assert_false(rects_meet(a, lay.plot));
        assert_false(rects_meet(a, lay.legend));
        assert_false(rects_meet(a, lay.y_label));
        for (size_t j = 0; j < lay.nyticks; j++)
            assert_false(rects_meet(a, lay.ytick_label[j]));
        for (size_t j = i + 1; j < lay.nxticks; j++) {
            if (rects_meet(a, lay.xtick_label[j]))
                fail_msg("%zu days: x tick labels %zu and %zu overlap", c->ndays, i, j);
        }
        if (i > 0)
            assert_true(lay.xtick_day[i] > lay.xtick_day[i - 1]);
        assert_true(lay.xtick_day[i] >= c->first_day);
        assert_true(lay.xtick_day[i] < c->first_day + (int32_t)c->ndays);
    }
    for (size_t j = 0; j < lay.nyticks; j++) {
        assert_true(rect_on_canvas(lay.ytick_label[j], &lay));
        assert_false(rects_meet(lay.ytick_label[j], lay.plot));
        assert_false(rects_meet(lay.ytick_label[j], lay.y_label));
        if (j > 0)
            assert_false(rects_meet(lay.ytick_label[j], lay.ytick_label[j - 1]));
    }
}

static void test_line_layout(void **state)
{
    (void)state;
    static const size_t days[] = { 1, 2, 7, 14, 31, 60, 92, 183, 366, 731, 1000 };
    static const size_t nseries[] = { 0, 1, 5, 12, 40 };
    fixture fx;
    fixture_make(&fx, 40, 1000, NULL);
    char longlabel[201];
    memset(longlabel, 'W', 200);
    longlabel[200] = '\0';
    for (size_t d = 0; d < sizeof days / sizeof days[0]; d++)
        for (size_t s = 0; s < sizeof nseries / sizeof nseries[0]; s++)
            for (int ja = 0; ja < 2; ja++)
                for (int longs = 0; longs < 2; longs++) {
                    for (size_t i = 0; i < 40; i++)
                        fx.series[i].n = days[d];
                    const char *keep = fx.series[0].label;
                    if (longs)
                        fx.series[0].label = longlabel;
                    ds_line_chart c = line_of(&fx, nseries[s], days[d], ja);
                    check_line_layout(&c);
                    c.first_day = 20089;   /* 2025-01-01: a quarter starting in a new year */
                    check_line_layout(&c);
                    fx.series[0].label = keep;
                }

    /* the tick spacings the brief asks for */
    ds_err err = { 0 };
    ds_line_layout lay;
    for (size_t i = 0; i < 40; i++)
        fx.series[i].n = 7;
    ds_line_chart c = line_of(&fx, 5, 7, 0);
    assert_int_equal(ds_chart_line_layout(&c, &lay, &err), DS_OK);
    assert_int_equal(lay.nxticks, 7);   /* every day */
    for (size_t i = 0; i < 40; i++)
        fx.series[i].n = 366;
    c = line_of(&fx, 5, 366, 0);
    assert_int_equal(ds_chart_line_layout(&c, &lay, &err), DS_OK);
    assert_true(lay.nxticks >= 4 && lay.nxticks <= 13);   /* monthly or coarser */
    for (size_t i = 0; i < 40; i++)
        fx.series[i].n = 92;
    c = line_of(&fx, 5, 92, 0);
    assert_int_equal(ds_chart_line_layout(&c, &lay, &err), DS_OK);
    assert_true(lay.nxticks >= 3 && lay.nxticks <= 14);   /* weekly to monthly */
    fixture_free(&fx);
}

/* ---------------------------------------------------------------- share chart */

static void test_share(void **state)
{
    (void)state;
    static const char *const en[] = { "23/TCP (telnet)", "445/TCP (microsoft-ds)", "22/TCP (ssh)",
                                      "80/TCP (http)", "8080/TCP (http-alt)" };
    static const char *const ja[] = { "中華人民共和国", "アメリカ合衆国", "オランダ", "日本", "ブルガリア" };
    static const double v[] = { 412345, 230000, 98000, 45000, 30 };
    ds_err err = { 0 };
    ds_share_chart c = { "Top destination services (share of all packets)", en, v, 5, 1000000, "other" };
    ds_chart_out svg = { 0 }, png = { 0 };
    assert_int_equal(ds_chart_share(&c, DS_CHART_SVG, &svg, &err), DS_OK);
    check_svg(&svg);
    save_sample("share-en.svg", &svg);
    assert_int_equal(ds_chart_share(&c, DS_CHART_PNG, &png, &err), DS_OK);
    check_png(&png, svg.width * DS_CHART_PNG_SCALE, svg.height * DS_CHART_PNG_SCALE);
    assert_int_equal(svg.width, 720);
    save_sample("share-en.png", &png);
    ds_chart_out_free(&svg);
    ds_chart_out_free(&png);

    ds_share_chart cj = { "送信元地域別 パケット数の割合", ja, v, 5, 1000000, "その他" };
    assert_int_equal(ds_chart_share(&cj, DS_CHART_PNG, &png, &err), DS_OK);
    assert_true(png.len > 10000);
    save_sample("share-ja.png", &png);
    ds_chart_out_free(&png);

    /* edges: no other row when the values add up; NULL labels; nothing at all; zero total */
    ds_share_chart exact = { NULL, NULL, v, 5, 412345.0 + 230000 + 98000 + 45000 + 30, "other" };
    assert_int_equal(ds_chart_share(&exact, DS_CHART_SVG, &svg, &err), DS_OK);
    int h_exact = svg.height;
    ds_chart_out_free(&svg);
    exact.total += 1000;
    assert_int_equal(ds_chart_share(&exact, DS_CHART_SVG, &svg, &err), DS_OK);
    assert_true(svg.height > h_exact);   /* the "other" bar adds a row */
    ds_chart_out_free(&svg);
    ds_share_chart empty = { "empty", NULL, NULL, 0, 0, "other" };
    assert_int_equal(ds_chart_share(&empty, DS_CHART_PNG, &png, &err), DS_OK);
    check_png(&png, png.width, png.height);
    ds_chart_out_free(&png);
    static const double zeros[] = { 0, 0 };
    ds_share_chart zero = { "zero", en, zeros, 2, 0, "other" };
    assert_int_equal(ds_chart_share(&zero, DS_CHART_SVG, &svg, &err), DS_OK);
    check_svg(&svg);
    ds_chart_out_free(&svg);

    /* heights grow with rows */
    static double many[DS_CHART_MAX_ROWS];
    static const char *many_labels[DS_CHART_MAX_ROWS];
    for (size_t i = 0; i < DS_CHART_MAX_ROWS; i++) {
        many[i] = 1;
        many_labels[i] = "a label that goes on and on and on and on and on and on and on and on "
                         "and on and on and on and on and on and on and on and on and on and on "
                         "and on and on and on and on and on and on and on and on and on and on.";
    }
    ds_share_chart big = { "many", many_labels, many, 30, 100, "other" };
    assert_int_equal(ds_chart_share(&big, DS_CHART_SVG, &svg, &err), DS_OK);
    int h30 = svg.height;
    ds_chart_out_free(&svg);
    big.n = DS_CHART_MAX_ROWS;
    big.total = 400;
    assert_int_equal(ds_chart_share(&big, DS_CHART_PNG, &png, &err), DS_OK);
    assert_true(png.height > h30 * DS_CHART_PNG_SCALE * 3);
    ds_chart_out_free(&png);

    /* invalid */
    double bad[2] = { 1, NAN };
    ds_share_chart b = { "bad", en, bad, 2, 10, NULL };
    assert_int_equal(ds_chart_share(&b, DS_CHART_SVG, &svg, &err), DS_EINVAL);
    bad[1] = -3;
    assert_int_equal(ds_chart_share(&b, DS_CHART_SVG, &svg, &err), DS_EINVAL);
    bad[1] = 20;
    assert_int_equal(ds_chart_share(&b, DS_CHART_SVG, &svg, &err), DS_EINVAL);   /* 21 > 10 */
    bad[1] = 2;
    b.total = INFINITY;
    assert_int_equal(ds_chart_share(&b, DS_CHART_SVG, &svg, &err), DS_EINVAL);
    b.total = 10;
    b.values = NULL;
    assert_int_equal(ds_chart_share(&b, DS_CHART_SVG, &svg, &err), DS_EINVAL);
    big.n = DS_CHART_MAX_ROWS + 1;
    assert_int_equal(ds_chart_share(&big, DS_CHART_SVG, &svg, &err), DS_EINVAL);
    assert_int_equal(ds_chart_share(NULL, DS_CHART_SVG, &svg, &err), DS_EINVAL);
    assert_null(svg.data);
}

/* ---------------------------------------------------------------- mix chart */

static void test_mix(void **state)
{
    (void)state;
    static const char *const rows[] = { "China", "United States", "Netherlands", "Japan" };
    static const char *const parts[] = { "23/TCP", "445/TCP", "22/TCP", "80/TCP", "3389/TCP" };
    static const double v[] = {
        500, 200, 100, 50, 10,
        100, 300, 250, 50, 40,
        30, 30, 30, 30, 30,
        0, 0, 10, 0, 0,
    };
    static const double totals[] = { 1000, 800, 150, 10 };
    ds_err err = { 0 };
    ds_mix_chart c = { "Service mix of each top region", rows, 4, parts, 5, v, totals, "other" };
    ds_chart_out svg = { 0 }, png = { 0 };
    assert_int_equal(ds_chart_mix(&c, DS_CHART_SVG, &svg, &err), DS_OK);
    check_svg(&svg);
    save_sample("mix-en.svg", &svg);
    assert_int_equal(ds_chart_mix(&c, DS_CHART_PNG, &png, &err), DS_OK);
    check_png(&png, svg.width * DS_CHART_PNG_SCALE, svg.height * DS_CHART_PNG_SCALE);
    save_sample("mix-en.png", &png);
    ds_chart_out_free(&svg);
    ds_chart_out_free(&png);

    /* Japanese, one row (IoT share among the top-30 services) */
    static const char *const iot_row[] = { "上位30サービス" };
    static const char *const iot_parts[] = { "IoT機器を狙う通信", "それ以外の既知サービス" };
    static const double iot_v[] = { 620, 300 };
    static const double iot_t[] = { 1000 };
    ds_mix_chart iot = { "上位30サービスに占めるIoT関連の割合", iot_row, 1, iot_parts, 2, iot_v, iot_t, "その他" };
    assert_int_equal(ds_chart_mix(&iot, DS_CHART_PNG, &png, &err), DS_OK);
    assert_true(png.len > 5000);
    save_sample("mix-iot-ja.png", &png);
    ds_chart_out_free(&png);

    /* many parts wrap the legend; NULL names; no row totals; no other label */
    static double mv[3 * 20];
    for (size_t i = 0; i < 60; i++)
        mv[i] = (double)(1 + i % 7);
    static const char *mparts[20];
    for (size_t i = 0; i < 20; i++)
        mparts[i] = i == 3 ? NULL : "a rather long service name/TCP";
    ds_mix_chart many = { NULL, NULL, 3, mparts, 20, mv, NULL, NULL };
    assert_int_equal(ds_chart_mix(&many, DS_CHART_PNG, &png, &err), DS_OK);
    save_sample("mix-many.png", &png);
    ds_chart_out_free(&png);
    ds_mix_chart nothing = { "nothing", NULL, 0, NULL, 0, NULL, NULL, "other" };
    assert_int_equal(ds_chart_mix(&nothing, DS_CHART_SVG, &svg, &err), DS_OK);
    check_svg(&svg);
    ds_chart_out_free(&svg);
    static const double zero_t[] = { 0, 0, 0, 0 };
    static const double zero_v[20] = { 0 };
    ds_mix_chart zero = { "zero", rows, 4, parts, 5, zero_v, zero_t, "other" };
    assert_int_equal(ds_chart_mix(&zero, DS_CHART_SVG, &svg, &err), DS_OK);
    ds_chart_out_free(&svg);

    /* invalid: a row's parts above its total, NaN, negative, too many parts */
    static const double low_t[] = { 1000, 800, 100, 10 };
    ds_mix_chart bad = c;
    bad.row_totals = low_t;
    assert_int_equal(ds_chart_mix(&bad, DS_CHART_SVG, &svg, &err), DS_EINVAL);
    assert_non_null(strstr(err.msg, "row 2"));
    double nan_v[20];
    memcpy(nan_v, v, sizeof nan_v);
    nan_v[7] = NAN;
    bad = c;
    bad.values = nan_v;
    assert_int_equal(ds_chart_mix(&bad, DS_CHART_SVG, &svg, &err), DS_EINVAL);
    nan_v[7] = -1;
    assert_int_equal(ds_chart_mix(&bad, DS_CHART_PNG, &svg, &err), DS_EINVAL);
    bad = c;
    bad.nparts = DS_CHART_MAX_PARTS + 1;
    assert_int_equal(ds_chart_mix(&bad, DS_CHART_SVG, &svg, &err), DS_EINVAL);
    bad = c;
    bad.values = NULL;
    assert_int_equal(ds_chart_mix(&bad, DS_CHART_SVG, &svg, &err), DS_EINVAL);
    assert_null(svg.data);
}

int main(int argc, char **argv)
{
    /* glib's slice allocator keeps GObjects (PangoLayouts) in its own magazines, where
     * LeakSanitizer cannot see a leaked one; G_SLICE=always-malloc makes them plain malloc
     * blocks.  glib reads it in a constructor, before main, so set it and start again once. */
    (void)argc;
    if (!getenv("G_SLICE")) {
        setenv("G_SLICE", "always-malloc", 1);
        execv("/proc/self/exe", argv);   /* on failure, go on with the slice allocator */
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_line_quarter_en),
        cmocka_unit_test(test_line_japanese),
        cmocka_unit_test(test_line_edges),
        cmocka_unit_test(test_line_invalid),
        cmocka_unit_test(test_line_covered),
        cmocka_unit_test(test_line_layout),
        cmocka_unit_test(test_share),
        cmocka_unit_test(test_mix),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
