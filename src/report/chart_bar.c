/* chart_bar.c: the share and mix bar charts (ds_chart_share, ds_chart_mix).  One planner
 * for both: a title, labelled rows (labels right-aligned and wrapped, bars to their right), a
 * percent axis; shares get one bar per label plus "other", mixes one 100%-stacked bar per row
 * with a colour and a hatch per segment.  See chart.c for the three steps every figure follows.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/chart.h"
#include "report/cairo_api.h"
#include "report/chart_int.h"
#include "util/textfmt.h"

#define BAR_WIDTH_PT 720.0
#define ROW_LABEL_FRACTION 0.34 /* bar labels take at most this share of the width */

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

static void format_percent(char *buf, size_t size, double pct)
{
    if (pct > 0 && pct < 0.05)
        snprintf(buf, size, "<0.1%%");
    else
        snprintf(buf, size, "%.1f%%", pct);
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
    ds_chart_text_release(&p->title);
    for (size_t i = 0; i < p->nrows; i++) {
        ds_chart_text_release(&p->rows[i].label);
        ds_chart_text_release(&p->rows[i].value);
    }
    for (size_t i = 0; i < p->nticks; i++)
        ds_chart_text_release(&p->ticks[i]);
    for (size_t i = 0; i < p->nlegend; i++)
        ds_chart_text_release(&p->legend[i]);
}

/* Title at the top; returns the y where the content starts. */
static double bar_title(const ink *k, bar_plan *p, const char *title)
{
    if (!title || !*title)
        return MARGIN;
    p->title.l = ds_chart_ink_layout(k, k->title, title, p->W - 2 * MARGIN, 3, PANGO_ALIGN_LEFT);
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
        p->rows[i].label = (text){ ds_chart_ink_layout_capped(k, k->text, name, cap, 2, PANGO_ALIGN_RIGHT), 0, 0 };
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
    int dec = ds_chart_decimals_for(p->axis_step);
    for (size_t i = 0; i < n; i++) {
        char buf[32];
        double v = (double)i * p->axis_step;
        snprintf(buf, sizeof buf, "%.*f%%", dec, v);
        PangoLayout *l = ds_chart_ink_layout(k, k->small, buf, 0, 0, PANGO_ALIGN_LEFT);
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
        ds_chart_text_draw(cr, &p->ticks[i], INK);
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
        p->rows[i].value.l = ds_chart_ink_layout(k, k->small, buf, 0, 0, PANGO_ALIGN_LEFT);
        double w = layout_w(p->rows[i].value.l);
        value_w = w > value_w ? w : value_w;
    }
    /* axis: a round maximum a little above the largest share */
    p->axis_step = ds_chart_nice_step((max_pct > 1 ? max_pct : 1) / 4);
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
        ds_chart_text_draw(cr, &r->label, INK);
        ds_chart_text_draw(cr, &r->value, INK);
    }
    ds_chart_text_draw(cr, &p->title, INK);
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

    PangoLayout *probe = ds_chart_ink_layout(k, k->small, "100%", 0, 0, PANGO_ALIGN_LEFT);
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
        p->legend[i].l = ds_chart_ink_layout_capped(k, k->text, name, 220, 1, PANGO_ALIGN_LEFT);
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
    PangoLayout *l = ds_chart_ink_layout(k, k->small, buf, 0, 0, PANGO_ALIGN_LEFT);
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
        ds_chart_text_draw(cr, &row->label, INK);
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
        ds_chart_text_draw(cr, &p->legend[i], INK);
    }
    ds_chart_text_draw(cr, &p->title, INK);
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
    rc = ds_chart_ink_open(&k, NULL, err);
    if (rc != DS_OK)
        goto out;
    rc = bc->kind == BAR_SHARE ? share_plan_make(&k, bc->share, p, err) : mix_plan_make(&k, bc->mix, p, err);
    if (rc != DS_OK)
        goto out;
    rc = ds_chart_canvas_open(&cv, f, p->W, p->H, out->max_len, err);
    if (rc != DS_OK)
        goto out;
    if (bc->kind == BAR_SHARE)
        share_draw(cv.cr, p);
    else
        mix_draw(cv.cr, &k, bc->mix, p);
    rc = ds_chart_canvas_finish(&cv, out, err);
out:
    ds_chart_canvas_release(&cv);
    if (p)
        bar_plan_release(p);
    free(p);
    ds_chart_ink_close(&k);
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
