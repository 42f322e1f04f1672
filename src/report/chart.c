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
 *
 * This file holds what every figure shares: the output buffer, the text (ink), the number
 * helpers and the canvas; chart_line.c makes the line charts, chart_bar.c the bar charts
 * (chart_int.h).
 */
#include "report/chart.h"
#include "report/cairo_api.h"
#include "report/chart_int.h"
#include "util/textfmt.h"


#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define FONT_FAMILIES "DejaVu Sans, IPAGothic, sans"


/* ---------------------------------------------------------------- output buffer */

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

void ds_chart_ink_close(ink *k)
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

ds_rc ds_chart_ink_open(ink *k, const char *lang, ds_err *err)
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
PangoLayout *ds_chart_ink_layout(const ink *k, const PangoFontDescription *font, const char *str,
                                 double width, int max_lines, PangoAlignment align)
{
    PangoLayout *l = pango_layout_new(k->pc);
    pango_layout_set_font_description(l, font);
    if (!str)
        str = "";
    if (g_utf8_validate(str, -1, NULL)) {
        pango_layout_set_text(l, str, -1);
    } else {
        gchar *valid = g_utf8_make_valid(str, -1);
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
PangoLayout *ds_chart_ink_layout_capped(const ink *k, const PangoFontDescription *font,
                                        const char *str, double cap, int max_lines,
                                        PangoAlignment align)
{
    PangoLayout *l = ds_chart_ink_layout(k, font, str, 0, 0, align);
    PangoRectangle lr;
    pango_layout_get_extents(l, NULL, &lr);
    if ((double)lr.width / PANGO_SCALE <= cap && pango_layout_get_line_count(l) <= max_lines)
        return l;
    g_object_unref(l);
    return ds_chart_ink_layout(k, font, str, cap, max_lines, align);
}

void ds_chart_text_release(text *t)
{
    if (t->l)
        g_object_unref(t->l);
    t->l = NULL;
}

void ds_chart_text_draw(cairo_t *cr, const text *t, rgb colour)
{
    if (!t->l)
        return;
    set_rgb(cr, colour);
    cairo_move_to(cr, t->x, t->y);
    pango_cairo_show_layout(cr, t->l);
}

/* ---------------------------------------------------------------- numbers and dates */

/* Fewest decimals (0..6) that show step exactly. */
int ds_chart_decimals_for(double step)
{
    int d = 0;
    double scaled = step;
    while (d < 6 && fabs(scaled - round(scaled)) > 1e-6 * (scaled > 1 ? scaled : 1)) {
        scaled *= 10;
        d++;
    }
    return d;
}

double ds_chart_nice_step(double raw)
{
    if (!(raw > 0))
        return 1;
    double mag = pow(10, floor(log10(raw)));
    double f = raw / mag;
    double nice = f <= 1 ? 1 : f <= 2 ? 2 : f <= 2.5 ? 2.5 : f <= 5 ? 5 : 10;
    return nice * mag;
}


ds_rc ds_chart_canvas_open(canvas *cv, ds_chart_format f, double w_pt, double h_pt, size_t max_len,
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
ds_rc ds_chart_canvas_finish(canvas *cv, ds_chart_out *out, ds_err *err)
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

void ds_chart_canvas_release(canvas *cv)
{
    if (cv->cr)
        cairo_destroy(cv->cr);
    if (cv->surface)
        cairo_surface_destroy(cv->surface);
    free(cv->out.data);
    memset(cv, 0, sizeof *cv);
}
