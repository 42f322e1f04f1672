/* chart.c: report figures with cairo (drawing) and pango (text), as SVG or PNG documents.
 *
 * Three figures, like those in JPCERT/CC's TSUBAME quarterly reports: daily packet series
 * (one line per series over a dated axis), shares (one horizontal bar per label) and mixes
 * (one 100%-stacked bar per row).  Each is made in three steps:
 *
 *   1. validate: every number must be finite and non-negative, sizes must agree and stay
 *      under the DS_CHART_MAX_* limits, so a bad input is DS_EINVAL before anything is drawn;
 *   2. plan: every text is a PangoLayout whose logical extent is measured, and the geometry
 *      (plot rectangle, tick positions, legend, canvas height) is computed from those
 *      extents, so that texts never overlap each other or the plot: long texts wrap and are
 *      ellipsized after a fixed number of lines, tick spacing is the finest whose labels fit,
 *      and the canvas grows (never shrinks) when a legend or a list of bars needs room;
 *   3. draw: the same layouts are drawn on a cairo SVG stream surface (SVG 1.1, sizes in pt)
 *      or an RGB image surface written with cairo_surface_write_to_png_stream (PNG, 2 px/pt).
 *
 * Text is measured once, on a pango context with hinting off and unrounded glyph positions at
 * 72 dpi, so one pango unit of layout is one point on either surface and the plan holds for
 * both.  The font list "DejaVu Sans, IPAGothic, sans" makes pango fall back to IPAGothic for
 * kana and kanji.  Dates are civil days (days since 1970-01-01) formatted with gmtime_r.
 * Output goes through one bounded growable buffer (DS_CHART_OUT_MAX): cairo's write callback
 * refuses to grow past it, which surfaces as DS_ENOMEM.
 *
 * Colours: the Okabe-Ito palette (Okabe & Ito, "Color Universal Design", 2008), safe for the
 * common colour-vision deficiencies; each line also gets a dash pattern and a marker shape,
 * each mix segment a hatch, so figures still read when printed in grey.
 */
#include "report/chart.h"
#include "report/cairo_api.h"
#include "report/chart_shade.h"
#include "util/textfmt.h"


#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define FONT_FAMILIES "DejaVu Sans, IPAGothic, sans"
#define MARGIN 12.0
#define LINE_WIDTH_PT 720.0
#define LINE_HEIGHT_PT 360.0
#define BAR_WIDTH_PT 720.0
#define MIN_PLOT_H 160.0
#define MAX_CANVAS_H 12000.0
#define LEGEND_SAMPLE 28.0      /* length of the line sample in a line-chart legend entry */
#define LEGEND_LABEL_MAX 170.0  /* legend labels wrap (3 lines at most) beyond this width */
#define ROW_LABEL_FRACTION 0.34 /* bar labels take at most this share of the width */

typedef struct rgb { double r, g, b; } rgb;

/* Okabe-Ito, ordered so the first lines are the most distinct on white; yellow comes last
 * because it is the palest on a white page. */
static const rgb LINE_COLOURS[8] = {
    { 0x00 / 255.0, 0x72 / 255.0, 0xB2 / 255.0 },  /* blue */
    { 0xD5 / 255.0, 0x5E / 255.0, 0x00 / 255.0 },  /* vermillion */
    { 0x00 / 255.0, 0x9E / 255.0, 0x73 / 255.0 },  /* bluish green */
    { 0xCC / 255.0, 0x79 / 255.0, 0xA7 / 255.0 },  /* reddish purple */
    { 0xE6 / 255.0, 0x9F / 255.0, 0x00 / 255.0 },  /* orange */
    { 0x56 / 255.0, 0xB4 / 255.0, 0xE9 / 255.0 },  /* sky blue */
    { 0x00 / 255.0, 0x00 / 255.0, 0x00 / 255.0 },  /* black */
    { 0xF0 / 255.0, 0xE4 / 255.0, 0x42 / 255.0 },  /* yellow */
};
/* Fills for mix segments: the same palette without black (text and hatches must show). */
static const rgb FILL_COLOURS[7] = {
    { 0x00 / 255.0, 0x72 / 255.0, 0xB2 / 255.0 },
    { 0xE6 / 255.0, 0x9F / 255.0, 0x00 / 255.0 },
    { 0x00 / 255.0, 0x9E / 255.0, 0x73 / 255.0 },
    { 0xCC / 255.0, 0x79 / 255.0, 0xA7 / 255.0 },
    { 0x56 / 255.0, 0xB4 / 255.0, 0xE9 / 255.0 },
    { 0xD5 / 255.0, 0x5E / 255.0, 0x00 / 255.0 },
    { 0xF0 / 255.0, 0xE4 / 255.0, 0x42 / 255.0 },
};
/* Hatch per segment index: neighbours differ in colour, and the second round of colours
 * (parts 7..13) differs from the first in hatch, so 14 parts stay distinct. */
static const int FILL_HATCH[14] = { 0, 1, 0, 2, 0, 3, 0, 4, 0, 1, 0, 2, 0, 3 };
static const rgb OTHER_FILL = { 0.74, 0.74, 0.74 };
static const rgb SHARE_FILL = { 0x00 / 255.0, 0x72 / 255.0, 0xB2 / 255.0 };
static const rgb INK = { 0.13, 0.13, 0.13 };
static const rgb GRID = { 0.86, 0.86, 0.86 };
static const rgb AXIS = { 0.30, 0.30, 0.30 };

/* Dash patterns (pt) per line; the first is solid. */
static const double DASH_PATTERNS[6][4] = {
    { 0, 0, 0, 0 }, { 6, 3, 0, 0 }, { 1.6, 2.4, 0, 0 }, { 8, 3, 1.6, 3 }, { 3, 2.5, 0, 0 }, { 11, 4, 0, 0 },
};
static const int DASH_COUNT[6] = { 0, 2, 2, 4, 2, 2 };

/* ---------------------------------------------------------------- output buffer */

typedef struct sink {
    unsigned char *data;
    size_t len, cap, max;
    int too_big, no_mem;
} sink;

static cairo_status_t sink_write(void *closure, const unsigned char *bytes, unsigned int n)
{
    sink *s = closure;
    if (n > s->max - s->len) {
        s->too_big = 1;
        return CAIRO_STATUS_WRITE_ERROR;
    }
    if (n > s->cap - s->len) {
        size_t cap = s->cap ? s->cap : 64 * 1024;
        while (n > cap - s->len)
            cap = cap > s->max / 2 ? s->max : cap * 2;
        unsigned char *grown = realloc(s->data, cap);
        if (!grown) {
            s->no_mem = 1;
            return CAIRO_STATUS_NO_MEMORY;
        }
        s->data = grown;
        s->cap = cap;
    }
    memcpy(s->data + s->len, bytes, n);
    s->len += n;
    return CAIRO_STATUS_SUCCESS;
}

void ds_chart_out_free(ds_chart_out *o)
{
    if (!o)
        return;
    free(o->data);
    o->data = NULL;
    o->len = 0;
    o->width = o->height = 0;
}

/* ---------------------------------------------------------------- text */

typedef struct ink {
    PangoContext *pc;
    PangoFontDescription *title, *text, *small;
} ink;

static void ink_close(ink *k)
{
    if (k->title)
        pango_font_description_free(k->title);
    if (k->text)
        pango_font_description_free(k->text);
    if (k->small)
        pango_font_description_free(k->small);
    if (k->pc)
        g_object_unref(k->pc);
    memset(k, 0, sizeof *k);
}

static ds_rc ink_open(ink *k, const char *lang, ds_err *err)
{
    memset(k, 0, sizeof *k);
    ds_rc rc = ds_cairo_load(err);
    if (rc != DS_OK)
        return rc;
    PangoFontMap *fm = pango_cairo_font_map_get_default();   /* per thread, not ours to free */
    if (!fm)
        return ds_fail(err, DS_EIO, "chart: pango has no cairo font map (is fontconfig set up?)");
    k->pc = pango_font_map_create_context(fm);
    if (!k->pc)
        return ds_fail(err, DS_ENOMEM, "chart: cannot create a pango context");
    pango_cairo_context_set_resolution(k->pc, 72.0);   /* 1 pt of font = 1 unit of drawing */
    cairo_font_options_t *fo = cairo_font_options_create();
    cairo_font_options_set_hint_metrics(fo, CAIRO_HINT_METRICS_OFF);
    cairo_font_options_set_hint_style(fo, CAIRO_HINT_STYLE_NONE);
    pango_cairo_context_set_font_options(k->pc, fo);
    cairo_font_options_destroy(fo);
    pango_context_set_round_glyph_positions(k->pc, FALSE);
    if (lang)
        pango_context_set_language(k->pc, pango_language_from_string(lang));
    k->title = pango_font_description_from_string(FONT_FAMILIES " Bold 13");
    k->text = pango_font_description_from_string(FONT_FAMILIES " 10");
    k->small = pango_font_description_from_string(FONT_FAMILIES " 9");
    return DS_OK;
}

/* A layout of text (NULL is ""; invalid UTF-8 is repaired).  width > 0 wraps at that width
 * and ellipsizes after max_lines lines; width <= 0 keeps the natural width (one line per
 * newline in text). */
static PangoLayout *ink_layout(const ink *k, const PangoFontDescription *font, const char *text,
                               double width, int max_lines, PangoAlignment align)
{
    PangoLayout *l = pango_layout_new(k->pc);
    pango_layout_set_font_description(l, font);
    if (!text)
        text = "";
    if (g_utf8_validate(text, -1, NULL)) {
        pango_layout_set_text(l, text, -1);
    } else {
        gchar *valid = g_utf8_make_valid(text, -1);
        pango_layout_set_text(l, valid, -1);
        g_free(valid);
    }
    pango_layout_set_alignment(l, align);
    if (width > 0) {
        pango_layout_set_width(l, (int)(width * PANGO_SCALE));
        pango_layout_set_wrap(l, PANGO_WRAP_WORD_CHAR);
        pango_layout_set_ellipsize(l, PANGO_ELLIPSIZE_END);
        pango_layout_set_height(l, -(max_lines > 0 ? max_lines : 1));
    }
    return l;
}

/* Natural width unless wider than cap, then wrapped at cap. */
static PangoLayout *ink_layout_capped(const ink *k, const PangoFontDescription *font,
                                      const char *text, double cap, int max_lines,
                                      PangoAlignment align)
{
    PangoLayout *l = ink_layout(k, font, text, 0, 0, align);
    PangoRectangle lr;
    pango_layout_get_extents(l, NULL, &lr);
    if ((double)lr.width / PANGO_SCALE <= cap && pango_layout_get_line_count(l) <= max_lines)
        return l;
    g_object_unref(l);
    return ink_layout(k, font, text, cap, max_lines, align);
}

static double layout_w(PangoLayout *l)
{
    PangoRectangle lr;
    pango_layout_get_extents(l, NULL, &lr);
    return (double)lr.width / PANGO_SCALE;
}

static double layout_h(PangoLayout *l)
{
    PangoRectangle lr;
    pango_layout_get_extents(l, NULL, &lr);
    return (double)lr.height / PANGO_SCALE;
}

/* Middle of a layout's first line, from its top (where a legend sample goes). */
static double first_line_mid(PangoLayout *l)
{
    int lines = pango_layout_get_line_count(l);
    return layout_h(l) / (lines > 0 ? lines : 1) / 2;
}

/* A layout and the point where its top left corner is drawn. */
typedef struct text { PangoLayout *l; double x, y; } text;

static ds_chart_rect text_rect(const text *t)
{
    ds_chart_rect r = { 0, 0, 0, 0 };
    if (!t->l)
        return r;
    PangoRectangle lr;
    pango_layout_get_extents(t->l, NULL, &lr);
    r.x = t->x + (double)lr.x / PANGO_SCALE;
    r.y = t->y + (double)lr.y / PANGO_SCALE;
    r.w = (double)lr.width / PANGO_SCALE;
    r.h = (double)lr.height / PANGO_SCALE;
    return r;
}

static void text_release(text *t)
{
    if (t->l)
        g_object_unref(t->l);
    t->l = NULL;
}

static void set_rgb(cairo_t *cr, rgb c)
{
    cairo_set_source_rgb(cr, c.r, c.g, c.b);
}

static void text_draw(cairo_t *cr, const text *t, rgb colour)
{
    if (!t->l)
        return;
    set_rgb(cr, colour);
    cairo_move_to(cr, t->x, t->y);
    pango_cairo_show_layout(cr, t->l);
}

/* ---------------------------------------------------------------- numbers and dates */

/* Fewest decimals (0..6) that show step exactly. */
static int decimals_for(double step)
{
    int d = 0;
    double scaled = step;
    while (d < 6 && fabs(scaled - round(scaled)) > 1e-6 * (scaled > 1 ? scaled : 1)) {
        scaled *= 10;
        d++;
    }
    return d;
}

/* A y tick value: thousands separators below a million, k/M/G/T suffixes at and above. */
static void format_tick(char *buf, size_t size, double v, double step, double top)
{
    static const struct { double unit; const char *suffix; } units[] = {
        { 1e12, "T" }, { 1e9, "G" }, { 1e6, "M" },
    };
    if (v == 0) {
        snprintf(buf, size, "0");
        return;
    }
    if (top >= 1e15) {
        snprintf(buf, size, "%.3g", v);
        return;
    }
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (top >= units[i].unit) {
            snprintf(buf, size, "%.*f%s", decimals_for(step / units[i].unit), v / units[i].unit,
                     units[i].suffix);
            return;
        }
    }
    ds_fmt_fixed(v, decimals_for(step), buf, size);
}

/* 10^e for a log axis: "0.01", "1", "100", "1k", "10M", "1e21". */
static void format_pow10(char *buf, size_t size, int e)
{
    static const char *const suffix[] = { "", "k", "M", "G", "T", "P", "E" };
    if (e < 0)
        snprintf(buf, size, "%.*f", -e, pow(10, e));
    else if (e < 21)
        snprintf(buf, size, "%.0f%s", pow(10, e % 3), suffix[e / 3]);
    else
        snprintf(buf, size, "1e%d", e);
}

static void format_percent(char *buf, size_t size, double pct)
{
    if (pct > 0 && pct < 0.05)
        snprintf(buf, size, "<0.1%%");
    else
        snprintf(buf, size, "%.1f%%", pct);
}

static double nice_step(double raw)
{
    if (!(raw > 0))
        return 1;
    double mag = pow(10, floor(log10(raw)));
    double f = raw / mag;
    double nice = f <= 1 ? 1 : f <= 2 ? 2 : f <= 2.5 ? 2.5 : f <= 5 ? 5 : 10;
    return nice * mag;
}

static void civil_of(int32_t day, int *year, int *month, int *mday)
{
    time_t t = (time_t)day * 86400;
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    gmtime_r(&t, &tm);
    *year = tm.tm_year + 1900;
    *month = tm.tm_mon + 1;
    *mday = tm.tm_mday;
}

static void format_day(char *buf, size_t size, int32_t day, int ja, int with_year)
{
    static const char *const months[12] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
    int y, m, d;
    civil_of(day, &y, &m, &d);
    if (ja)
        snprintf(buf, size, with_year ? "%d/%d\n%d" : "%d/%d", m, d, y);
    else
        snprintf(buf, size, with_year ? "%s %d\n%d" : "%s %d", months[m - 1], d, y);
}

static int finite_nonneg(double v)
{
    return isfinite(v) && v >= 0;
}

/* ---------------------------------------------------------------- canvas */

typedef struct canvas {
    cairo_surface_t *surface;
    cairo_t *cr;
    sink out;
    ds_chart_format format;
    int width, height;   /* document units: pt for SVG, px for PNG */
} canvas;

static ds_rc canvas_open(canvas *cv, ds_chart_format f, double w_pt, double h_pt, size_t max_len,
                         ds_err *err)
{
    memset(cv, 0, sizeof *cv);
    cv->format = f;
    cv->out.max = max_len && max_len < DS_CHART_OUT_MAX ? max_len : DS_CHART_OUT_MAX;
    if (!(h_pt <= MAX_CANVAS_H))
        return ds_fail(err, DS_EINVAL, "chart: the figure would be %.0f pt tall, more than %.0f pt",
                       h_pt, MAX_CANVAS_H);
    int w = (int)ceil(w_pt), h = (int)ceil(h_pt);
    if (f == DS_CHART_SVG) {
        cv->surface = cairo_svg_surface_create_for_stream(sink_write, &cv->out, w, h);
        cairo_svg_surface_restrict_to_version(cv->surface, CAIRO_SVG_VERSION_1_1);
        cairo_svg_surface_set_document_unit(cv->surface, CAIRO_SVG_UNIT_PT);
        cv->width = w;
        cv->height = h;
    } else if (f == DS_CHART_PNG) {
        cv->width = w * DS_CHART_PNG_SCALE;
        cv->height = h * DS_CHART_PNG_SCALE;
        cv->surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, cv->width, cv->height);
    } else {
        return ds_fail(err, DS_EINVAL, "chart: unknown output format %d", (int)f);
    }
    if (cairo_surface_status(cv->surface) != CAIRO_STATUS_SUCCESS)
        return ds_fail(err, DS_ENOMEM, "chart: cannot create a %dx%d surface: %s", cv->width,
                       cv->height, cairo_status_to_string(cairo_surface_status(cv->surface)));
    cv->cr = cairo_create(cv->surface);
    if (f == DS_CHART_PNG)
        cairo_scale(cv->cr, DS_CHART_PNG_SCALE, DS_CHART_PNG_SCALE);
    cairo_set_source_rgb(cv->cr, 1, 1, 1);
    cairo_paint(cv->cr);
    return DS_OK;
}

/* Finish the document and hand its bytes to out. */
static ds_rc canvas_finish(canvas *cv, ds_chart_out *out, ds_err *err)
{
    cairo_status_t st = cairo_status(cv->cr);
    if (st == CAIRO_STATUS_SUCCESS) {
        if (cv->format == DS_CHART_SVG) {
            cairo_surface_finish(cv->surface);
            st = cairo_surface_status(cv->surface);
        } else {
            cairo_surface_flush(cv->surface);
            st = cairo_surface_write_to_png_stream(cv->surface, sink_write, &cv->out);
        }
    }
    if (cv->out.too_big)
        return ds_fail(err, DS_ENOMEM, "chart: the %s document would exceed %zu bytes",
                       cv->format == DS_CHART_SVG ? "SVG" : "PNG", cv->out.max);
    if (cv->out.no_mem || st == CAIRO_STATUS_NO_MEMORY)
        return ds_fail(err, DS_ENOMEM, "chart: out of memory while writing the document");
    if (st != CAIRO_STATUS_SUCCESS)
        return ds_fail(err, DS_EIO, "chart: cairo failed: %s", cairo_status_to_string(st));
    out->data = cv->out.data;
    out->len = cv->out.len;
    out->width = cv->width;
    out->height = cv->height;
    cv->out.data = NULL;
    return DS_OK;
}

static void canvas_release(canvas *cv)
{
    if (cv->cr)
        cairo_destroy(cv->cr);
    if (cv->surface)
        cairo_surface_destroy(cv->surface);
    free(cv->out.data);
    memset(cv, 0, sizeof *cv);
}

/* ---------------------------------------------------------------- line chart */

typedef struct line_plan {
    ds_line_layout pub;
    text title, y_label, no_data;
    text ytl[DS_CHART_MAX_YTICKS];
    text xtl[DS_CHART_MAX_XTICKS];
    size_t xt_index[DS_CHART_MAX_XTICKS];     /* day index of each x tick */
    text legend[DS_CHART_MAX_SERIES];
    double sample_x[DS_CHART_MAX_SERIES], sample_y[DS_CHART_MAX_SERIES];
    double ymin, ymax;                        /* axis range (log10 of it when log_y) */
    int log_y;
} line_plan;

static void line_plan_release(line_plan *p)
{
    text_release(&p->title);
    text_release(&p->y_label);
    text_release(&p->no_data);
    for (size_t i = 0; i < DS_CHART_MAX_YTICKS; i++)
        text_release(&p->ytl[i]);
    for (size_t i = 0; i < DS_CHART_MAX_XTICKS; i++)
        text_release(&p->xtl[i]);
    for (size_t i = 0; i < DS_CHART_MAX_SERIES; i++)
        text_release(&p->legend[i]);
}

static ds_rc line_validate(const ds_line_chart *c, ds_err *err)
{
    if (!c)
        return ds_fail(err, DS_EINVAL, "line chart: no chart given");
    if (c->ndays == 0)
        return ds_fail(err, DS_EINVAL, "line chart: the period has no days");
    if (c->ndays > DS_CHART_MAX_DAYS)
        return ds_fail(err, DS_EINVAL, "line chart: %zu days is more than the %d a chart can show",
                       c->ndays, DS_CHART_MAX_DAYS);
    /* years 1..9999, so gmtime and the date labels stay in range */
    if (c->first_day < -719162 || c->first_day > 2932896 - (int32_t)c->ndays)
        return ds_fail(err, DS_EINVAL, "line chart: first day %d is outside years 1..9999",
                       (int)c->first_day);
    if (c->nseries > DS_CHART_MAX_SERIES)
        return ds_fail(err, DS_EINVAL, "line chart: %zu series is more than the %d a chart can show",
                       c->nseries, DS_CHART_MAX_SERIES);
    if (c->nseries && !c->series)
        return ds_fail(err, DS_EINVAL, "line chart: %zu series announced but none given", c->nseries);
    if (ds_chart_shade_validate(c->covered, c->ndays, err) != DS_OK)
        return DS_EINVAL;
    for (size_t s = 0; s < c->nseries; s++) {
        const ds_chart_series *sr = &c->series[s];
        if (sr->n != c->ndays)
            return ds_fail(err, DS_EINVAL, "line chart: series %zu (%s) has %zu values for %zu days",
                           s, sr->label ? sr->label : "unnamed", sr->n, c->ndays);
        if (!sr->values)
            return ds_fail(err, DS_EINVAL, "line chart: series %zu has no values", s);
        for (size_t i = 0; i < sr->n; i++)
            if (!finite_nonneg(sr->values[i]) && !isnan(sr->values[i]))   /* NaN: no value (a gap) */
                return ds_fail(err, DS_EINVAL,
                               "line chart: series %zu value %zu is %g (must be finite and >= 0, or NaN for none)", s,
                               i, sr->values[i]);
    }
    return DS_OK;
}

/* y axis range and ticks (values, not yet labels). */
static size_t line_y_ticks(const ds_line_chart *c, line_plan *p, double *vals, char labels[][48])
{
    double vmax = 0, vmin_pos = INFINITY;
    int integral = 1;
    for (size_t s = 0; s < c->nseries; s++)
        for (size_t i = 0; i < c->ndays; i++) {
            double v = c->series[s].values[i];
            if (v > vmax)
                vmax = v;
            if (v > 0 && v < vmin_pos)
                vmin_pos = v;
            if (!isnan(v) && v != floor(v))
                integral = 0;
        }
    size_t n = 0;
    if (c->log_y) {
        p->log_y = 1;
        int lo = 0, hi = 1;
        if (vmax > 0) {
            lo = (int)floor(log10(vmin_pos));
            hi = (int)ceil(log10(vmax));
            if (hi <= lo)
                hi = lo + 1;
        }
        int span = hi - lo;
        int every = (span + DS_CHART_MAX_YTICKS - 3) / (DS_CHART_MAX_YTICKS - 2);
        if (span > 8 && every < 2)
            every = 2;
        if (every < 1)
            every = 1;
        if (span % every)
            hi = lo + (span / every + 1) * every;
        p->ymin = lo;
        p->ymax = hi;
        for (int e = lo; e <= hi && n < DS_CHART_MAX_YTICKS; e += every) {
            vals[n] = e;
            format_pow10(labels[n], 48, e);
            n++;
        }
        return n;
    }
    if (vmax <= 0)
        vmax = 1;
    double step = nice_step(vmax / 5);
    if (integral && step < 1)
        step = 1;
    double top = ceil(vmax / step - 1e-9) * step;
    size_t count = (size_t)llround(top / step) + 1;
    if (count > DS_CHART_MAX_YTICKS)   /* cannot happen with nice steps of vmax/5; be safe */
        count = DS_CHART_MAX_YTICKS;
    p->ymin = 0;
    p->ymax = top;
    for (size_t i = 0; i < count; i++) {
        vals[n] = (double)i * step;
        format_tick(labels[n], 48, vals[n], step, top);
        n++;
    }
    return n;
}

static double line_x(const line_plan *p, size_t ndays, size_t i)
{
    const ds_chart_rect *r = &p->pub.plot;
    if (ndays < 2)
        return r->x + r->w / 2;
    return r->x + r->w * (double)i / (double)(ndays - 1);
}

/* y of an axis value (log10 of the value when log_y) */
static double line_y(const line_plan *p, double axis_value)
{
    const ds_chart_rect *r = &p->pub.plot;
    double span = p->ymax - p->ymin;
    return r->y + r->h * (1 - (axis_value - p->ymin) / (span > 0 ? span : 1));
}

/* x tick rules, finest first: every n days from the first day, the 1st and 16th of each
 * month, or the 1st of every n-th month (January-aligned). */
typedef struct tick_rule { int days, months, semimonthly; } tick_rule;
static const tick_rule TICK_RULES[] = {
    { 1, 0, 0 }, { 2, 0, 0 }, { 7, 0, 0 }, { 14, 0, 0 }, { 0, 0, 1 }, { 0, 1, 0 }, { 0, 2, 0 },
    { 0, 3, 0 }, { 0, 6, 0 }, { 0, 12, 0 }, { 0, 24, 0 }, { 0, 60, 0 }, { 0, 120, 0 }, { 0, 600, 0 },
};

static int is_tick(const tick_rule *r, size_t i, int32_t day)
{
    if (r->days)
        return i % (size_t)r->days == 0;
    int y, m, d;
    civil_of(day, &y, &m, &d);
    if (r->semimonthly)
        return d == 1 || d == 16;
    long months_since_year0 = (long)y * 12 + (m - 1);
    return d == 1 && months_since_year0 % r->months == 0;
}

static void x_ticks_clear(line_plan *p)
{
    for (size_t i = 0; i < p->pub.nxticks; i++)
        text_release(&p->xtl[i]);
    p->pub.nxticks = 0;
}

/* Append the tick at day index i; 0 when its label would come closer than the gap to the
 * previous one (or there is no room for another tick). */
static int x_tick_add(const ink *k, const ds_line_chart *c, line_plan *p, size_t i, double label_top)
{
    size_t n = p->pub.nxticks;
    if (n >= DS_CHART_MAX_XTICKS)
        return 0;
    int32_t day = c->first_day + (int32_t)i;
    int y, m, d, prev_y = 0;
    civil_of(day, &y, &m, &d);
    if (n > 0) {
        int pm, pd;
        civil_of(p->pub.xtick_day[n - 1], &prev_y, &pm, &pd);
    }
    char buf[64];
    format_day(buf, sizeof buf, day, c->ja, n == 0 || y != prev_y);
    PangoLayout *l = ink_layout(k, k->small, buf, 0, 0, PANGO_ALIGN_CENTER);
    double w = layout_w(l), x = line_x(p, c->ndays, i);
    if (n > 0) {
        ds_chart_rect prev = text_rect(&p->xtl[n - 1]);
        if (x - w / 2 < prev.x + prev.w + 8) {
            g_object_unref(l);
            return 0;
        }
    }
    p->xtl[n].l = l;
    p->xtl[n].x = x - w / 2;
    p->xtl[n].y = label_top;
    p->xt_index[n] = i;
    p->pub.xtick_day[n] = day;
    p->pub.nxticks = n + 1;
    return 1;
}

static void line_x_ticks(const ink *k, const ds_line_chart *c, line_plan *p, double label_top)
{
    size_t want = c->ndays < 2 ? 1 : 2;
    for (size_t r = 0; r < sizeof TICK_RULES / sizeof TICK_RULES[0]; r++) {
        int fits = 1;
        x_ticks_clear(p);
        for (size_t i = 0; i < c->ndays && fits; i++)
            if (is_tick(&TICK_RULES[r], i, c->first_day + (int32_t)i))
                fits = x_tick_add(k, c, p, i, label_top);
        if (fits && p->pub.nxticks >= want)
            return;
    }
    /* nothing gives two ticks that fit: the first and (if it fits) the last day */
    x_ticks_clear(p);
    x_tick_add(k, c, p, 0, label_top);
    if (c->ndays > 1)
        x_tick_add(k, c, p, c->ndays - 1, label_top);
}

static ds_rc line_plan_make(const ink *k, const ds_line_chart *c, line_plan *p, ds_err *err)
{
    memset(p, 0, sizeof *p);
    double W = LINE_WIDTH_PT, H = LINE_HEIGHT_PT;
    double top = MARGIN;

    if (c->title && *c->title) {
        p->title.l = ink_layout(k, k->title, c->title, W - 2 * MARGIN, 3, PANGO_ALIGN_LEFT);
        p->title.x = MARGIN;
        p->title.y = MARGIN;
        top += layout_h(p->title.l) + 10;
    } else {
        top += 4;   /* room for the top y tick label's upper half */
    }

    double yvals[DS_CHART_MAX_YTICKS];
    char ylabels[DS_CHART_MAX_YTICKS][48];
    size_t nyt = line_y_ticks(c, p, yvals, ylabels);
    double ytick_w = 0, ytick_h = 0;
    for (size_t i = 0; i < nyt; i++) {
        p->ytl[i].l = ink_layout(k, k->small, ylabels[i], 0, 0, PANGO_ALIGN_LEFT);
        double w = layout_w(p->ytl[i].l), h = layout_h(p->ytl[i].l);
        ytick_w = w > ytick_w ? w : ytick_w;
        ytick_h = h > ytick_h ? h : ytick_h;
        p->pub.ytick_value[i] = p->log_y ? pow(10, yvals[i]) : yvals[i];
    }
    p->pub.nyticks = nyt;

    double y_label_thick = 0;
    int has_y_label = c->y_label && *c->y_label;
    if (has_y_label) {
        PangoLayout *probe = ink_layout(k, k->text, "Ag", 0, 0, PANGO_ALIGN_LEFT);
        y_label_thick = layout_h(probe);
        g_object_unref(probe);
    }

    /* x labels: the widest plausible one sets the right-hand overhang, two lines the height */
    PangoLayout *probe = ink_layout(k, k->small, c->ja ? "12/31\n2000" : "Sep 30\n2000", 0, 0,
                                    PANGO_ALIGN_CENTER);
    double xlabel_w = layout_w(probe), xlabel_h = layout_h(probe);
    g_object_unref(probe);

    /* legend entries, natural size */
    double entry_w = 0, entry_h[DS_CHART_MAX_SERIES], legend_h = 0;
    for (size_t s = 0; s < c->nseries; s++) {
        p->legend[s].l = ink_layout_capped(k, k->text, c->series[s].label, LEGEND_LABEL_MAX, 3,
                                           PANGO_ALIGN_LEFT);
        double w = LEGEND_SAMPLE + 6 + layout_w(p->legend[s].l);
        double h = layout_h(p->legend[s].l);
        entry_h[s] = h > 12 ? h : 12;
        entry_w = w > entry_w ? w : entry_w;
        legend_h += entry_h[s] + (s ? 6 : 0);
    }

    double plot_x = MARGIN + (has_y_label ? y_label_thick + 6 : 0) + ytick_w + 6;
    double bottom_room = 4 + 4 + xlabel_h + MARGIN;   /* tick, gap, labels, margin */
    double plot_h = H - top - bottom_room;
    if (plot_h < MIN_PLOT_H) {
        H += MIN_PLOT_H - plot_h;
        plot_h = MIN_PLOT_H;
    }
    double right_overhang = xlabel_w / 2 + 2;
    double plot_right;
    p->pub.legend_below = c->nseries > 0 && legend_h > plot_h;
    if (c->nseries == 0 || p->pub.legend_below)
        plot_right = W - MARGIN - right_overhang;
    else
        plot_right = W - MARGIN - entry_w - (right_overhang + 8 > 16 ? right_overhang + 8 : 16);
    p->pub.plot = (ds_chart_rect){ plot_x, top, plot_right - plot_x, plot_h };
    const ds_chart_rect *plot = &p->pub.plot;

    /* legend placement */
    if (c->nseries > 0 && !p->pub.legend_below) {
        double x = plot_right + (right_overhang + 8 > 16 ? right_overhang + 8 : 16), y = top;
        for (size_t s = 0; s < c->nseries; s++) {
            p->legend[s].x = x + LEGEND_SAMPLE + 6;
            p->legend[s].y = y + (entry_h[s] - layout_h(p->legend[s].l)) / 2;
            p->sample_x[s] = x;
            p->sample_y[s] = p->legend[s].y + first_line_mid(p->legend[s].l);
            y += entry_h[s] + 6;
        }
        p->pub.legend = (ds_chart_rect){ x, top, entry_w, legend_h };
    } else if (c->nseries > 0) {
        double col_w = entry_w + 18, avail = W - 2 * MARGIN;
        size_t ncols = (size_t)((avail + 18) / col_w);
        if (ncols < 1)
            ncols = 1;
        if (ncols > c->nseries)
            ncols = c->nseries;
        double y0 = plot->y + plot->h + 8 + xlabel_h + 12, y = y0;
        for (size_t s0 = 0; s0 < c->nseries; s0 += ncols) {
            double row_h = 0;
            for (size_t s = s0; s < c->nseries && s < s0 + ncols; s++) {
                double x = MARGIN + (double)(s - s0) * col_w;
                p->legend[s].x = x + LEGEND_SAMPLE + 6;
                p->legend[s].y = y;
                p->sample_x[s] = x;
                p->sample_y[s] = y + first_line_mid(p->legend[s].l);
                row_h = entry_h[s] > row_h ? entry_h[s] : row_h;
            }
            y += row_h + 6;
        }
        legend_h = y - 6 - y0;
        p->pub.legend = (ds_chart_rect){ MARGIN, y0, (double)ncols * col_w - 18, legend_h };
        H = y0 + legend_h + MARGIN;
    }
    for (size_t s = 0; s < c->nseries; s++)
        p->pub.legend_entry[s] = (ds_chart_rect){ p->sample_x[s], p->legend[s].y,
                                                  LEGEND_SAMPLE + 6 + layout_w(p->legend[s].l),
                                                  entry_h[s] };
    p->pub.nlegend = c->nseries;

    /* y tick labels, right-aligned beside the axis and centred on their tick */
    for (size_t i = 0; i < nyt; i++) {
        double h = layout_h(p->ytl[i].l);
        p->ytl[i].x = plot->x - 6 - layout_w(p->ytl[i].l);
        p->ytl[i].y = line_y(p, yvals[i]) - h / 2;
    }

    if (has_y_label) {   /* rotated: drawn from (x, plot bottom) upwards, centred on the plot */
        p->y_label.l = ink_layout(k, k->text, c->y_label, plot->h, 1, PANGO_ALIGN_CENTER);
        p->y_label.x = MARGIN;
        p->y_label.y = plot->y + plot->h;
        double lw = layout_w(p->y_label.l);
        p->pub.y_label = (ds_chart_rect){ MARGIN, plot->y + (plot->h - lw) / 2, y_label_thick, lw };
    }

    line_x_ticks(k, c, p, plot->y + plot->h + 8);

    if (c->nseries == 0) {
        p->no_data.l = ink_layout(k, k->text, c->ja ? "データなし" : "no data", 0, 0,
                                  PANGO_ALIGN_LEFT);
        p->no_data.x = plot->x + (plot->w - layout_w(p->no_data.l)) / 2;
        p->no_data.y = plot->y + (plot->h - layout_h(p->no_data.l)) / 2;
    }

    p->pub.width = W;
    p->pub.height = H;
    p->pub.title = text_rect(&p->title);
    for (size_t i = 0; i < p->pub.nxticks; i++)
        p->pub.xtick_label[i] = text_rect(&p->xtl[i]);
    for (size_t i = 0; i < nyt; i++)
        p->pub.ytick_label[i] = text_rect(&p->ytl[i]);
    if (!(H <= MAX_CANVAS_H))
        return ds_fail(err, DS_EINVAL, "line chart: the figure would be %.0f pt tall", H);
    return DS_OK;
}

static void draw_marker(cairo_t *cr, int shape, double x, double y, rgb colour)
{
    const double r = 3.2;
    cairo_new_path(cr);
    switch (shape) {
    case 0: cairo_arc(cr, x, y, r, 0, 2 * M_PI); break;
    case 1: cairo_rectangle(cr, x - r * 0.9, y - r * 0.9, 1.8 * r, 1.8 * r); break;
    case 2:
        cairo_move_to(cr, x, y - r * 1.2);
        cairo_line_to(cr, x + r * 1.1, y + r * 0.8);
        cairo_line_to(cr, x - r * 1.1, y + r * 0.8);
        cairo_close_path(cr);
        break;
    case 3:
        cairo_move_to(cr, x, y - r * 1.3);
        cairo_line_to(cr, x + r * 1.1, y);
        cairo_line_to(cr, x, y + r * 1.3);
        cairo_line_to(cr, x - r * 1.1, y);
        cairo_close_path(cr);
        break;
    case 4:
        cairo_move_to(cr, x, y + r * 1.2);
        cairo_line_to(cr, x + r * 1.1, y - r * 0.8);
        cairo_line_to(cr, x - r * 1.1, y - r * 0.8);
        cairo_close_path(cr);
        break;
    default:   /* an x: stroked only */
        cairo_move_to(cr, x - r, y - r);
        cairo_line_to(cr, x + r, y + r);
        cairo_move_to(cr, x - r, y + r);
        cairo_line_to(cr, x + r, y - r);
        cairo_set_dash(cr, NULL, 0, 0);
        cairo_set_line_width(cr, 1.8);
        set_rgb(cr, colour);
        cairo_stroke(cr);
        return;
    }
    set_rgb(cr, colour);
    cairo_fill_preserve(cr);
    cairo_set_dash(cr, NULL, 0, 0);
    cairo_set_line_width(cr, 0.8);
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_stroke(cr);
}

static void set_series_stroke(cairo_t *cr, size_t s)
{
    size_t d = s % 6;
    set_rgb(cr, LINE_COLOURS[s % 8]);
    cairo_set_line_width(cr, 1.6);
    cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
    cairo_set_line_cap(cr, CAIRO_LINE_CAP_BUTT);
    cairo_set_dash(cr, DASH_PATTERNS[d], DASH_COUNT[d], 0);
}

/* M4 decimation (Jugel et al., VLDB 2014): a run of points that falls into one 1-pt
 * column is drawn through its first, lowest, highest and last point only, in day order.  At
 * that resolution the picture is the same as drawing every point, while cairo strokes (and
 * dashes) a few thousand segments instead of 36,600 per series. */
typedef struct m4 { size_t first, last, lo, hi; int open; } m4;

static double series_value_y(const line_plan *p, double v)
{
    return line_y(p, p->log_y ? log10(v) : v);
}

static void m4_flush(cairo_t *cr, const line_plan *p, const double *v, size_t ndays, m4 *b,
                     int *pen_down)
{
    if (!b->open)
        return;
    size_t idx[4] = { b->first, b->lo, b->hi, b->last };
    for (int a = 1; a < 4; a++)   /* four entries: insertion sort into day order */
        for (int z = a; z > 0 && idx[z - 1] > idx[z]; z--) {
            size_t t = idx[z];
            idx[z] = idx[z - 1];
            idx[z - 1] = t;
        }
    for (int a = 0; a < 4; a++) {
        if (a > 0 && idx[a] == idx[a - 1])
            continue;
        double x = line_x(p, ndays, idx[a]), y = series_value_y(p, v[idx[a]]);
        if (*pen_down)
            cairo_line_to(cr, x, y);
        else
            cairo_move_to(cr, x, y);
        *pen_down = 1;
    }
    b->open = 0;
}

/* The path of one series; a NaN (no value: a day no sensor observed), and on a log axis a zero,
 * lifts the pen (the line breaks there). */
static void series_path(cairo_t *cr, const line_plan *p, const double *v, size_t ndays)
{
    double columns = p->pub.plot.w;   /* one-point columns (two PNG pixels) */
    int decimate = (double)ndays > 2 * columns;
    int pen_down = 0;
    m4 b = { 0, 0, 0, 0, 0 };
    size_t column = 0;
    for (size_t i = 0; i < ndays; i++) {
        if (isnan(v[i]) || (p->log_y && !(v[i] > 0))) {
            m4_flush(cr, p, v, ndays, &b, &pen_down);
            pen_down = 0;
            continue;
        }
        if (!decimate) {
            double x = line_x(p, ndays, i), y = series_value_y(p, v[i]);
            if (pen_down)
                cairo_line_to(cr, x, y);
            else
                cairo_move_to(cr, x, y);
            pen_down = 1;
            continue;
        }
        size_t col = (size_t)((double)i / (double)(ndays - 1) * columns);
        if (b.open && col != column)
            m4_flush(cr, p, v, ndays, &b, &pen_down);
        if (!b.open) {
            b = (m4){ i, i, i, i, 1 };
            column = col;
            continue;
        }
        b.last = i;
        if (v[i] < v[b.lo])
            b.lo = i;
        if (v[i] > v[b.hi])
            b.hi = i;
    }
    m4_flush(cr, p, v, ndays, &b, &pen_down);
}

static void line_draw(cairo_t *cr, const ds_line_chart *c, const line_plan *p)
{
    const ds_chart_rect *plot = &p->pub.plot;
    double bottom = plot->y + plot->h;

    ds_chart_shade_days(cr, plot, c->ndays, c->covered);   /* uncovered days, under everything */

    /* grid */
    cairo_set_line_width(cr, 0.6);
    set_rgb(cr, GRID);
    for (size_t i = 0; i < p->pub.nyticks; i++) {
        double y = p->ytl[i].y + layout_h(p->ytl[i].l) / 2;
        cairo_move_to(cr, plot->x, y);
        cairo_line_to(cr, plot->x + plot->w, y);
    }
    for (size_t i = 0; i < p->pub.nxticks; i++) {
        double x = line_x(p, c->ndays, p->xt_index[i]);
        cairo_move_to(cr, x, plot->y);
        cairo_line_to(cr, x, bottom);
    }
    cairo_stroke(cr);

    /* axes and ticks; minor ticks every day up to a quarter-and-a-bit */
    set_rgb(cr, AXIS);
    cairo_set_line_width(cr, 0.9);
    cairo_move_to(cr, plot->x, plot->y);
    cairo_line_to(cr, plot->x, bottom);
    cairo_line_to(cr, plot->x + plot->w, bottom);
    for (size_t i = 0; i < p->pub.nxticks; i++) {
        double x = line_x(p, c->ndays, p->xt_index[i]);
        cairo_move_to(cr, x, bottom);
        cairo_line_to(cr, x, bottom + 4);
    }
    for (size_t i = 0; i < p->pub.nyticks; i++) {
        double y = p->ytl[i].y + layout_h(p->ytl[i].l) / 2;
        cairo_move_to(cr, plot->x - 3, y);
        cairo_line_to(cr, plot->x, y);
    }
    cairo_stroke(cr);
    if (c->ndays > 1 && c->ndays <= 120 && plot->w / (double)(c->ndays - 1) >= 3) {
        cairo_set_line_width(cr, 0.5);
        for (size_t i = 0; i < c->ndays; i++) {
            double x = line_x(p, c->ndays, i);
            cairo_move_to(cr, x, bottom);
            cairo_line_to(cr, x, bottom + 2);
        }
        cairo_stroke(cr);
    }

    /* series, clipped to the plot (plus room for markers on its edges) */
    cairo_save(cr);
    cairo_rectangle(cr, plot->x - 5, plot->y - 5, plot->w + 10, plot->h + 10);
    cairo_clip(cr);
    size_t marker_every = c->ndays <= 16 ? 1 : (c->ndays + 11) / 12;
    for (size_t s = 0; s < c->nseries; s++) {
        const double *v = c->series[s].values;
        set_series_stroke(cr, s);
        cairo_new_path(cr);
        series_path(cr, p, v, c->ndays);
        if (c->ndays == 1 && (!p->log_y || v[0] > 0)) {   /* one day: a short flat stub */
            double y = line_y(p, p->log_y ? log10(v[0]) : v[0]);
            cairo_move_to(cr, plot->x + plot->w / 2 - 10, y);
            cairo_line_to(cr, plot->x + plot->w / 2 + 10, y);
        }
        cairo_stroke(cr);
        /* markers staggered between series so coinciding lines still show all of them */
        size_t offset = marker_every > 1 ? (s * marker_every) / c->nseries : 0;
        for (size_t i = offset; i < c->ndays; i += marker_every) {
            if (isnan(v[i]) || (p->log_y && !(v[i] > 0)))
                continue;
            draw_marker(cr, (int)(s % 6), line_x(p, c->ndays, i),
                        line_y(p, p->log_y ? log10(v[i]) : v[i]), LINE_COLOURS[s % 8]);
        }
    }
    cairo_restore(cr);

    /* texts */
    text_draw(cr, &p->title, INK);
    for (size_t i = 0; i < p->pub.nyticks; i++)
        text_draw(cr, &p->ytl[i], INK);
    for (size_t i = 0; i < p->pub.nxticks; i++)
        text_draw(cr, &p->xtl[i], INK);
    if (p->no_data.l) {   /* on a white plate, so the grid does not run through it */
        ds_chart_rect r = text_rect(&p->no_data);
        cairo_set_source_rgb(cr, 1, 1, 1);
        cairo_rectangle(cr, r.x - 4, r.y - 2, r.w + 8, r.h + 4);
        cairo_fill(cr);
        text_draw(cr, &p->no_data, AXIS);
    }
    if (p->y_label.l) {
        cairo_save(cr);
        cairo_translate(cr, p->y_label.x, p->y_label.y);
        cairo_rotate(cr, -M_PI / 2);
        set_rgb(cr, INK);
        cairo_move_to(cr, 0, 0);
        pango_cairo_show_layout(cr, p->y_label.l);
        cairo_restore(cr);
    }
    for (size_t s = 0; s < c->nseries; s++) {
        double x = p->sample_x[s], y = p->sample_y[s];
        set_series_stroke(cr, s);
        cairo_move_to(cr, x, y);
        cairo_line_to(cr, x + LEGEND_SAMPLE, y);
        cairo_stroke(cr);
        draw_marker(cr, (int)(s % 6), x + LEGEND_SAMPLE / 2, y, LINE_COLOURS[s % 8]);
        text_draw(cr, &p->legend[s], INK);
    }
}

ds_rc ds_chart_line_layout(const ds_line_chart *c, ds_line_layout *lay, ds_err *err)
{
    ink k = { 0 };
    line_plan *p = NULL;
    ds_rc rc = line_validate(c, err);
    if (rc != DS_OK)
        goto out;
    if (!lay) {
        rc = ds_fail(err, DS_EINVAL, "line chart: no layout to fill");
        goto out;
    }
    p = calloc(1, sizeof *p);
    if (!p) {
        rc = ds_fail(err, DS_ENOMEM, "line chart: out of memory for the layout");
        goto out;
    }
    rc = ink_open(&k, c->ja ? "ja" : "en", err);
    if (rc != DS_OK)
        goto out;
    rc = line_plan_make(&k, c, p, err);
    if (rc != DS_OK)
        goto out;
    *lay = p->pub;
out:
    if (p)
        line_plan_release(p);
    free(p);
    ink_close(&k);
    return rc;
}

ds_rc ds_chart_line(const ds_line_chart *c, ds_chart_format f, ds_chart_out *out, ds_err *err)
{
    ink k = { 0 };
    canvas cv = { 0 };
    line_plan *p = NULL;
    ds_rc rc = line_validate(c, err);
    if (rc != DS_OK)
        goto out;
    if (!out) {
        rc = ds_fail(err, DS_EINVAL, "line chart: no output buffer");
        goto out;
    }
    out->data = NULL;
    out->len = 0;
    p = calloc(1, sizeof *p);
    if (!p) {
        rc = ds_fail(err, DS_ENOMEM, "line chart: out of memory for the layout");
        goto out;
    }
    rc = ink_open(&k, c->ja ? "ja" : "en", err);
    if (rc != DS_OK)
        goto out;
    rc = line_plan_make(&k, c, p, err);
    if (rc != DS_OK)
        goto out;
    rc = canvas_open(&cv, f, p->pub.width, p->pub.height, out->max_len, err);
    if (rc != DS_OK)
        goto out;
    line_draw(cv.cr, c, p);
    rc = canvas_finish(&cv, out, err);
out:
    canvas_release(&cv);
    if (p)
        line_plan_release(p);
    free(p);
    ink_close(&k);
    return rc;
}

/* ---------------------------------------------------------------- bar charts (share, mix) */

/* One labelled bar row: label left (right-aligned, wrapped to two lines), bar to its right. */
typedef struct bar_row {
    text label, value;    /* value: the share chart's percent text */
    double y, h;          /* row band */
    double share;         /* share chart: percent of total */
    int other;
} bar_row;

typedef struct bar_plan {
    double W, H;
    text title;
    bar_row rows[DS_CHART_MAX_ROWS + 1];
    size_t nrows;
    double bar_x, bar_w, bar_h;    /* bar area and thickness */
    double axis_max, axis_step;    /* percent */
    text ticks[16];
    size_t nticks;
    text legend[DS_CHART_MAX_PARTS + 1];   /* mix: parts, then other */
    double swatch_x[DS_CHART_MAX_PARTS + 1], swatch_y[DS_CHART_MAX_PARTS + 1];
    size_t nlegend;
    int other_in_legend;
} bar_plan;

static void bar_plan_release(bar_plan *p)
{
    text_release(&p->title);
    for (size_t i = 0; i < p->nrows; i++) {
        text_release(&p->rows[i].label);
        text_release(&p->rows[i].value);
    }
    for (size_t i = 0; i < p->nticks; i++)
        text_release(&p->ticks[i]);
    for (size_t i = 0; i < p->nlegend; i++)
        text_release(&p->legend[i]);
}

/* Title at the top; returns the y where the content starts. */
static double bar_title(const ink *k, bar_plan *p, const char *title)
{
    if (!title || !*title)
        return MARGIN;
    p->title.l = ink_layout(k, k->title, title, p->W - 2 * MARGIN, 3, PANGO_ALIGN_LEFT);
    p->title.x = MARGIN;
    p->title.y = MARGIN;
    return MARGIN + layout_h(p->title.l) + 10;
}

/* Row labels for p->nrows rows: names[i] for the first n (NULL names are empty), then
 * other_label; returns the label column width. */
static double bar_labels(const ink *k, bar_plan *p, const char *const *names, size_t n,
                         const char *other_label)
{
    double cap = (p->W - 2 * MARGIN) * ROW_LABEL_FRACTION, col = 0;
    for (size_t i = 0; i < p->nrows; i++) {
        const char *name = i < n ? (names ? names[i] : NULL) : other_label;
        p->rows[i].other = i >= n;
        p->rows[i].label = (text){ ink_layout_capped(k, k->text, name, cap, 2, PANGO_ALIGN_RIGHT), 0, 0 };
        double w = layout_w(p->rows[i].label.l);
        col = w > col ? w : col;
    }
    return col;
}

/* Stack the rows from y, place their labels right-aligned in [MARGIN, MARGIN + col]. */
static double bar_rows_place(bar_plan *p, double y, double col, double min_row_h)
{
    for (size_t i = 0; i < p->nrows; i++) {
        bar_row *r = &p->rows[i];
        double lh = layout_h(r->label.l);
        r->h = lh + 8 > min_row_h ? lh + 8 : min_row_h;
        r->y = y;
        r->label.x = MARGIN + col - layout_w(r->label.l);
        r->label.y = y + (r->h - lh) / 2;
        y += r->h;
    }
    return y;
}

/* Percent axis ticks under the bars, from 0 to p->axis_max every p->axis_step. */
static double bar_axis(const ink *k, bar_plan *p, double y)
{
    double tick_h = 0;
    size_t n = (size_t)llround(p->axis_max / p->axis_step) + 1;
    if (n > 16)
        n = 16;
    int dec = decimals_for(p->axis_step);
    for (size_t i = 0; i < n; i++) {
        char buf[32];
        double v = (double)i * p->axis_step;
        snprintf(buf, sizeof buf, "%.*f%%", dec, v);
        PangoLayout *l = ink_layout(k, k->small, buf, 0, 0, PANGO_ALIGN_LEFT);
        double w = layout_w(l), x = p->bar_x + p->bar_w * v / p->axis_max;
        p->ticks[i] = (text){ l, x - w / 2, y + 6 };
        tick_h = layout_h(l) > tick_h ? layout_h(l) : tick_h;
    }
    p->nticks = n;
    return y + 6 + tick_h;
}

static void bar_axis_draw(cairo_t *cr, const bar_plan *p, double top, double bottom)
{
    cairo_set_line_width(cr, 0.6);
    set_rgb(cr, GRID);
    for (size_t i = 1; i < p->nticks; i++) {
        double x = p->bar_x + p->bar_w * ((double)i * p->axis_step) / p->axis_max;
        cairo_move_to(cr, x, top);
        cairo_line_to(cr, x, bottom);
    }
    cairo_stroke(cr);
    set_rgb(cr, AXIS);
    cairo_set_line_width(cr, 0.9);
    cairo_move_to(cr, p->bar_x, top);
    cairo_line_to(cr, p->bar_x, bottom);
    cairo_line_to(cr, p->bar_x + p->bar_w, bottom);
    for (size_t i = 0; i < p->nticks; i++) {
        double x = p->bar_x + p->bar_w * ((double)i * p->axis_step) / p->axis_max;
        cairo_move_to(cr, x, bottom);
        cairo_line_to(cr, x, bottom + 3);
    }
    cairo_stroke(cr);
    for (size_t i = 0; i < p->nticks; i++)
        text_draw(cr, &p->ticks[i], INK);
}

static ds_rc share_validate(const ds_share_chart *c, ds_err *err)
{
    if (!c)
        return ds_fail(err, DS_EINVAL, "share chart: no chart given");
    if (c->n > DS_CHART_MAX_ROWS)
        return ds_fail(err, DS_EINVAL, "share chart: %zu bars is more than the %d a chart can show",
                       c->n, DS_CHART_MAX_ROWS);
    if (c->n && !c->values)
        return ds_fail(err, DS_EINVAL, "share chart: %zu bars announced but no values given", c->n);
    if (!finite_nonneg(c->total))
        return ds_fail(err, DS_EINVAL, "share chart: total %g must be finite and >= 0", c->total);
    double sum = 0;
    for (size_t i = 0; i < c->n; i++) {
        if (!finite_nonneg(c->values[i]))
            return ds_fail(err, DS_EINVAL, "share chart: value %zu is %g (must be finite and >= 0)",
                           i, c->values[i]);
        sum += c->values[i];
    }
    if (sum > c->total * (1 + 1e-9))
        return ds_fail(err, DS_EINVAL, "share chart: the values add up to %g, more than the total %g",
                       sum, c->total);
    return DS_OK;
}

static ds_rc share_plan_make(const ink *k, const ds_share_chart *c, bar_plan *p, ds_err *err)
{
    memset(p, 0, sizeof *p);
    p->W = BAR_WIDTH_PT;
    double y = bar_title(k, p, c->title);
    double sum = 0;
    for (size_t i = 0; i < c->n; i++)
        sum += c->values[i];
    double rest = c->total - sum;
    int with_other = c->other_label && rest > c->total * 1e-12 && rest > 0;
    p->nrows = c->n + (with_other ? 1 : 0);
    double col = bar_labels(k, p, c->labels, c->n, c->other_label);

    double max_pct = 0;
    for (size_t i = 0; i < p->nrows; i++) {
        double v = i < c->n ? c->values[i] : rest;
        p->rows[i].share = c->total > 0 ? 100.0 * v / c->total : 0;
        if (p->rows[i].share > 100)
            p->rows[i].share = 100;
        max_pct = p->rows[i].share > max_pct ? p->rows[i].share : max_pct;
    }
    double value_w = 0;
    for (size_t i = 0; i < p->nrows; i++) {
        char buf[32];
        format_percent(buf, sizeof buf, p->rows[i].share);
        p->rows[i].value.l = ink_layout(k, k->small, buf, 0, 0, PANGO_ALIGN_LEFT);
        double w = layout_w(p->rows[i].value.l);
        value_w = w > value_w ? w : value_w;
    }
    /* axis: a round maximum a little above the largest share */
    p->axis_step = nice_step((max_pct > 1 ? max_pct : 1) / 4);
    p->axis_max = ceil((max_pct > 1 ? max_pct : 1) / p->axis_step - 1e-9) * p->axis_step;
    if (p->axis_max > 100) {
        p->axis_max = 100;
        p->axis_step = 20;
    }
    p->bar_x = MARGIN + col + 10;
    p->bar_w = p->W - MARGIN - value_w - 6 - p->bar_x;
    p->bar_h = 13;
    y = bar_rows_place(p, y, col, 22);
    for (size_t i = 0; i < p->nrows; i++) {
        bar_row *r = &p->rows[i];
        r->value.x = p->bar_x + p->bar_w * r->share / p->axis_max + 4;
        r->value.y = r->y + (r->h - layout_h(r->value.l)) / 2;
    }
    if (p->nrows == 0)
        y += 22;   /* an empty chart still shows its axis */
    y = bar_axis(k, p, y);
    p->H = y + MARGIN;
    if (!(p->H <= MAX_CANVAS_H))
        return ds_fail(err, DS_EINVAL, "share chart: the figure would be %.0f pt tall", p->H);
    return DS_OK;
}

static double bar_rows_top(const bar_plan *p)
{
    return p->nrows ? p->rows[0].y : (p->title.l ? p->title.y + layout_h(p->title.l) + 10 : MARGIN);
}

static double bar_rows_bottom(const bar_plan *p)
{
    return p->nrows ? p->rows[p->nrows - 1].y + p->rows[p->nrows - 1].h : bar_rows_top(p) + 22;
}

static void share_draw(cairo_t *cr, const bar_plan *p)
{
    bar_axis_draw(cr, p, bar_rows_top(p), bar_rows_bottom(p));
    for (size_t i = 0; i < p->nrows; i++) {
        const bar_row *r = &p->rows[i];
        double w = p->bar_w * r->share / p->axis_max;
        set_rgb(cr, r->other ? OTHER_FILL : SHARE_FILL);
        cairo_rectangle(cr, p->bar_x, r->y + (r->h - p->bar_h) / 2, w, p->bar_h);
        cairo_fill(cr);
        text_draw(cr, &r->label, INK);
        text_draw(cr, &r->value, INK);
    }
    text_draw(cr, &p->title, INK);
}

/* ---------------------------------------------------------------- mix chart */

static ds_rc mix_validate(const ds_mix_chart *c, ds_err *err)
{
    if (!c)
        return ds_fail(err, DS_EINVAL, "mix chart: no chart given");
    if (c->nrows > DS_CHART_MAX_ROWS)
        return ds_fail(err, DS_EINVAL, "mix chart: %zu rows is more than the %d a chart can show",
                       c->nrows, DS_CHART_MAX_ROWS);
    if (c->nparts > DS_CHART_MAX_PARTS)
        return ds_fail(err, DS_EINVAL, "mix chart: %zu parts is more than the %d a chart can show",
                       c->nparts, DS_CHART_MAX_PARTS);
    if (c->nrows && c->nparts && !c->values)
        return ds_fail(err, DS_EINVAL, "mix chart: %zu x %zu values announced but none given",
                       c->nrows, c->nparts);
    for (size_t r = 0; r < c->nrows; r++) {
        double sum = 0;
        for (size_t i = 0; i < c->nparts; i++) {
            double v = c->values[r * c->nparts + i];
            if (!finite_nonneg(v))
                return ds_fail(err, DS_EINVAL,
                               "mix chart: row %zu part %zu is %g (must be finite and >= 0)", r, i, v);
            sum += v;
        }
        if (c->row_totals) {
            double t = c->row_totals[r];
            if (!finite_nonneg(t))
                return ds_fail(err, DS_EINVAL, "mix chart: row %zu total %g must be finite and >= 0",
                               r, t);
            if (sum > t * (1 + 1e-9))
                return ds_fail(err, DS_EINVAL,
                               "mix chart: row %zu parts add up to %g, more than its total %g", r,
                               sum, t);
        }
    }
    return DS_OK;
}

static double mix_row_total(const ds_mix_chart *c, size_t r)
{
    if (c->row_totals)
        return c->row_totals[r];
    double sum = 0;
    for (size_t i = 0; i < c->nparts; i++)
        sum += c->values[r * c->nparts + i];
    return sum;
}

static double luminance(rgb c)
{
    return 0.2126 * c.r + 0.7152 * c.g + 0.0722 * c.b;
}

static void fill_style(size_t part, rgb *colour, int *hatch)
{
    *colour = FILL_COLOURS[part % 7];
    *hatch = FILL_HATCH[part % 14];
}

/* Hatch lines inside a rectangle: 1 "/", 2 "\", 3 "x", 4 "|". */
static void draw_hatch(cairo_t *cr, double x, double y, double w, double h, int kind, rgb under)
{
    if (!kind || w <= 0 || h <= 0)
        return;
    const double gap = 4.5;
    cairo_save(cr);
    cairo_rectangle(cr, x, y, w, h);
    cairo_clip(cr);
    if (luminance(under) > 0.55)
        cairo_set_source_rgba(cr, 0, 0, 0, 0.45);
    else
        cairo_set_source_rgba(cr, 1, 1, 1, 0.7);
    cairo_set_line_width(cr, 1.0);
    cairo_set_dash(cr, NULL, 0, 0);
    for (double d = -h; d < w + h; d += gap) {
        if (kind == 1 || kind == 3) {
            cairo_move_to(cr, x + d, y + h);
            cairo_line_to(cr, x + d + h, y);
        }
        if (kind == 2 || kind == 3) {
            cairo_move_to(cr, x + d, y);
            cairo_line_to(cr, x + d + h, y + h);
        }
        if (kind == 4 && d >= 0) {
            cairo_move_to(cr, x + d, y);
            cairo_line_to(cr, x + d, y + h);
        }
    }
    cairo_stroke(cr);
    cairo_restore(cr);
}

static ds_rc mix_plan_make(const ink *k, const ds_mix_chart *c, bar_plan *p, ds_err *err)
{
    memset(p, 0, sizeof *p);
    p->W = BAR_WIDTH_PT;
    double y = bar_title(k, p, c->title);
    p->nrows = c->nrows;
    double col = bar_labels(k, p, c->rows, c->nrows, NULL);

    PangoLayout *probe = ink_layout(k, k->small, "100%", 0, 0, PANGO_ALIGN_LEFT);
    double overhang = layout_w(probe) / 2 + 2;
    g_object_unref(probe);
    p->bar_x = MARGIN + col + 10;
    p->bar_w = p->W - MARGIN - overhang - p->bar_x;
    p->bar_h = 16;
    p->axis_max = 100;
    p->axis_step = 25;
    y = bar_rows_place(p, y, col, 26);
    if (p->nrows == 0)
        y += 22;
    y = bar_axis(k, p, y);

    /* is any remainder shown? then "other" gets a legend entry */
    for (size_t r = 0; r < c->nrows && c->other_label; r++) {
        double sum = 0, t = mix_row_total(c, r);
        for (size_t i = 0; i < c->nparts; i++)
            sum += c->values[r * c->nparts + i];
        if (t - sum > t * 1e-12 && t - sum > 0)
            p->other_in_legend = 1;
    }

    /* legend: entries flow left to right, wrapping onto new lines */
    p->nlegend = c->nparts + (p->other_in_legend ? 1 : 0);
    double x = MARGIN, line_h = 0, legend_top = y + 12;
    y = legend_top;
    for (size_t i = 0; i < p->nlegend; i++) {
        const char *name = i < c->nparts ? (c->parts ? c->parts[i] : NULL) : c->other_label;
        p->legend[i].l = ink_layout_capped(k, k->text, name, 220, 1, PANGO_ALIGN_LEFT);
        double w = 12 + 5 + layout_w(p->legend[i].l), h = layout_h(p->legend[i].l);
        if (x > MARGIN && x + w > p->W - MARGIN) {
            x = MARGIN;
            y += line_h + 6;
            line_h = 0;
        }
        p->swatch_x[i] = x;
        p->swatch_y[i] = y + (h - 12) / 2;
        p->legend[i].x = x + 17;
        p->legend[i].y = y;
        line_h = h > line_h ? h : line_h;
        x += w + 16;
    }
    if (p->nlegend)
        y += line_h;
    p->H = y + MARGIN;
    if (!(p->H <= MAX_CANVAS_H))
        return ds_fail(err, DS_EINVAL, "mix chart: the figure would be %.0f pt tall", p->H);
    return DS_OK;
}

static void mix_segment(cairo_t *cr, const ink *k, double x, double y, double w, double h,
                        rgb colour, int hatch, double pct)
{
    if (w <= 0)
        return;
    set_rgb(cr, colour);
    cairo_rectangle(cr, x, y, w, h);
    cairo_fill(cr);
    draw_hatch(cr, x, y, w, h, hatch, colour);
    cairo_set_source_rgb(cr, 1, 1, 1);   /* a thin white seam between segments */
    cairo_set_line_width(cr, 0.8);
    cairo_move_to(cr, x + w, y);
    cairo_line_to(cr, x + w, y + h);
    cairo_stroke(cr);
    char buf[16];
    snprintf(buf, sizeof buf, pct >= 9.5 ? "%.0f%%" : "%.1f%%", pct);
    PangoLayout *l = ink_layout(k, k->small, buf, 0, 0, PANGO_ALIGN_LEFT);
    double tw = layout_w(l), th = layout_h(l);
    if (tw + 6 <= w && th <= h + 1) {
        /* on a hatch the number sits on a small plate of the fill colour */
        double tx = x + (w - tw) / 2, ty = y + (h - th) / 2;
        if (hatch) {
            set_rgb(cr, colour);
            cairo_rectangle(cr, tx - 1.5, y + 2, tw + 3, h - 4);
            cairo_fill(cr);
        }
        rgb ink_colour = luminance(colour) > 0.5 ? (rgb){ 0, 0, 0 } : (rgb){ 1, 1, 1 };
        set_rgb(cr, ink_colour);
        cairo_move_to(cr, tx, ty);
        pango_cairo_show_layout(cr, l);
    }
    g_object_unref(l);
}

static void mix_draw(cairo_t *cr, const ink *k, const ds_mix_chart *c, const bar_plan *p)
{
    bar_axis_draw(cr, p, bar_rows_top(p), bar_rows_bottom(p));
    for (size_t r = 0; r < p->nrows; r++) {
        const bar_row *row = &p->rows[r];
        double t = mix_row_total(c, r), x = p->bar_x;
        double y = row->y + (row->h - p->bar_h) / 2;
        text_draw(cr, &row->label, INK);
        if (!(t > 0))
            continue;
        double sum = 0;
        for (size_t i = 0; i < c->nparts; i++) {
            double v = c->values[r * c->nparts + i], w = p->bar_w * v / t;
            rgb colour;
            int hatch;
            fill_style(i, &colour, &hatch);
            mix_segment(cr, k, x, y, w, p->bar_h, colour, hatch, 100.0 * v / t);
            x += w;
            sum += v;
        }
        double rest = t - sum;
        if (c->other_label && rest > t * 1e-12 && rest > 0) {
            double w = p->bar_x + p->bar_w - x;
            mix_segment(cr, k, x, y, w, p->bar_h, OTHER_FILL, 0, 100.0 * rest / t);
        } else if (rest > t * 1e-12) {   /* unlabelled remainder: an outline only */
            set_rgb(cr, GRID);
            cairo_set_line_width(cr, 0.8);
            cairo_rectangle(cr, x, y + 0.4, p->bar_x + p->bar_w - x - 0.4, p->bar_h - 0.8);
            cairo_stroke(cr);
        }
    }
    for (size_t i = 0; i < p->nlegend; i++) {
        rgb colour = OTHER_FILL;
        int hatch = 0;
        if (i < c->nparts)
            fill_style(i, &colour, &hatch);
        set_rgb(cr, colour);
        cairo_rectangle(cr, p->swatch_x[i], p->swatch_y[i], 12, 12);
        cairo_fill(cr);
        draw_hatch(cr, p->swatch_x[i], p->swatch_y[i], 12, 12, hatch, colour);
        text_draw(cr, &p->legend[i], INK);
    }
    text_draw(cr, &p->title, INK);
}

/* One renderer for both bar charts: a tagged pair of typed pointers, not a void *, so each kind's
 * validate, plan and draw steps keep their own types. */
typedef struct bar_chart {
    enum { BAR_SHARE, BAR_MIX } kind;
    const char *what;   /* for messages */
    const ds_share_chart *share;
    const ds_mix_chart *mix;
} bar_chart;

static ds_rc bar_chart_render(const bar_chart *bc, ds_chart_format f, ds_chart_out *out, ds_err *err)
{
    ink k = { 0 };
    canvas cv = { 0 };
    bar_plan *p = NULL;
    ds_rc rc = bc->kind == BAR_SHARE ? share_validate(bc->share, err) : mix_validate(bc->mix, err);
    if (rc != DS_OK)
        goto out;
    if (!out) {
        rc = ds_fail(err, DS_EINVAL, "%s: no output buffer", bc->what);
        goto out;
    }
    out->data = NULL;
    out->len = 0;
    p = calloc(1, sizeof *p);
    if (!p) {
        rc = ds_fail(err, DS_ENOMEM, "%s: out of memory for the layout", bc->what);
        goto out;
    }
    rc = ink_open(&k, NULL, err);
    if (rc != DS_OK)
        goto out;
    rc = bc->kind == BAR_SHARE ? share_plan_make(&k, bc->share, p, err) : mix_plan_make(&k, bc->mix, p, err);
    if (rc != DS_OK)
        goto out;
    rc = canvas_open(&cv, f, p->W, p->H, out->max_len, err);
    if (rc != DS_OK)
        goto out;
    if (bc->kind == BAR_SHARE)
        share_draw(cv.cr, p);
    else
        mix_draw(cv.cr, &k, bc->mix, p);
    rc = canvas_finish(&cv, out, err);
out:
    canvas_release(&cv);
    if (p)
        bar_plan_release(p);
    free(p);
    ink_close(&k);
    return rc;
}

ds_rc ds_chart_share(const ds_share_chart *c, ds_chart_format f, ds_chart_out *out, ds_err *err)
{
    const bar_chart bc = { .kind = BAR_SHARE, .what = "share chart", .share = c };
    return bar_chart_render(&bc, f, out, err);
}

ds_rc ds_chart_mix(const ds_mix_chart *c, ds_chart_format f, ds_chart_out *out, ds_err *err)
{
    const bar_chart bc = { .kind = BAR_MIX, .what = "mix chart", .mix = c };
    return bar_chart_render(&bc, f, out, err);
}
