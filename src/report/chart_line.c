/* chart_line.c: the daily line chart (ds_chart_line, ds_chart_line_layout).  Validate the
 * series; plan the y ticks (linear or log, the finest nice step whose labels fit), the dated x
 * ticks (daily .. yearly, the finest whose labels do not overlap), the legend beside or below the
 * plot; then draw each series with its colour, dash and marker, decimated by M4 where a point is
 * less than a point wide.  See chart.c for the three steps every figure follows.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "report/chart.h"
#include "report/cairo_api.h"
#include "report/chart_int.h"
#include "report/chart_shade.h"
#include "util/textfmt.h"

#define LINE_WIDTH_PT 720.0
#define LINE_HEIGHT_PT 360.0
#define MIN_PLOT_H 160.0
#define LEGEND_SAMPLE 28.0      /* length of the line sample in a line-chart legend entry */
#define LEGEND_LABEL_MAX 170.0  /* legend labels wrap (3 lines at most) beyond this width */

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
/* Dash patterns (pt) per line; the first is solid. */
static const double DASH_PATTERNS[6][4] = {
    { 0, 0, 0, 0 }, { 6, 3, 0, 0 }, { 1.6, 2.4, 0, 0 }, { 8, 3, 1.6, 3 }, { 3, 2.5, 0, 0 }, { 11, 4, 0, 0 },
};
static const int DASH_COUNT[6] = { 0, 2, 2, 4, 2, 2 };

/* Middle of a layout's first line, from its top (where a legend sample goes). */
static double first_line_mid(PangoLayout *l)
{
    int lines = pango_layout_get_line_count(l);
    return layout_h(l) / (lines > 0 ? lines : 1) / 2;
}

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
            snprintf(buf, size, "%.*f%s", ds_chart_decimals_for(step / units[i].unit), v / units[i].unit,
                     units[i].suffix);
            return;
        }
    }
    ds_fmt_fixed(v, ds_chart_decimals_for(step), buf, size);
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
    ds_chart_text_release(&p->title);
    ds_chart_text_release(&p->y_label);
    ds_chart_text_release(&p->no_data);
    for (size_t i = 0; i < DS_CHART_MAX_YTICKS; i++)
        ds_chart_text_release(&p->ytl[i]);
    for (size_t i = 0; i < DS_CHART_MAX_XTICKS; i++)
        ds_chart_text_release(&p->xtl[i]);
    for (size_t i = 0; i < DS_CHART_MAX_SERIES; i++)
        ds_chart_text_release(&p->legend[i]);
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
    double step = ds_chart_nice_step(vmax / 5);
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
        ds_chart_text_release(&p->xtl[i]);
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
    PangoLayout *l = ds_chart_ink_layout(k, k->small, buf, 0, 0, PANGO_ALIGN_CENTER);
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
        p->title.l = ds_chart_ink_layout(k, k->title, c->title, W - 2 * MARGIN, 3, PANGO_ALIGN_LEFT);
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
        p->ytl[i].l = ds_chart_ink_layout(k, k->small, ylabels[i], 0, 0, PANGO_ALIGN_LEFT);
        double w = layout_w(p->ytl[i].l), h = layout_h(p->ytl[i].l);
        ytick_w = w > ytick_w ? w : ytick_w;
        ytick_h = h > ytick_h ? h : ytick_h;
        p->pub.ytick_value[i] = p->log_y ? pow(10, yvals[i]) : yvals[i];
    }
    p->pub.nyticks = nyt;

    double y_label_thick = 0;
    int has_y_label = c->y_label && *c->y_label;
    if (has_y_label) {
        PangoLayout *probe = ds_chart_ink_layout(k, k->text, "Ag", 0, 0, PANGO_ALIGN_LEFT);
        y_label_thick = layout_h(probe);
        g_object_unref(probe);
    }

    /* x labels: the widest plausible one sets the right-hand overhang, two lines the height */
    PangoLayout *probe = ds_chart_ink_layout(k, k->small, c->ja ? "12/31\n2000" : "Sep 30\n2000", 0, 0,
                                             PANGO_ALIGN_CENTER);
    double xlabel_w = layout_w(probe), xlabel_h = layout_h(probe);
    g_object_unref(probe);

    /* legend entries, natural size */
    double entry_w = 0, entry_h[DS_CHART_MAX_SERIES], legend_h = 0;
    for (size_t s = 0; s < c->nseries; s++) {
        p->legend[s].l = ds_chart_ink_layout_capped(k, k->text, c->series[s].label, LEGEND_LABEL_MAX, 3,
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
        p->y_label.l = ds_chart_ink_layout(k, k->text, c->y_label, plot->h, 1, PANGO_ALIGN_CENTER);
        p->y_label.x = MARGIN;
        p->y_label.y = plot->y + plot->h;
        double lw = layout_w(p->y_label.l);
        p->pub.y_label = (ds_chart_rect){ MARGIN, plot->y + (plot->h - lw) / 2, y_label_thick, lw };
    }

    line_x_ticks(k, c, p, plot->y + plot->h + 8);

    if (c->nseries == 0) {
        p->no_data.l = ds_chart_ink_layout(k, k->text, c->ja ? "データなし" : "no data", 0, 0,
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
    ds_chart_text_draw(cr, &p->title, INK);
    for (size_t i = 0; i < p->pub.nyticks; i++)
        ds_chart_text_draw(cr, &p->ytl[i], INK);
    for (size_t i = 0; i < p->pub.nxticks; i++)
        ds_chart_text_draw(cr, &p->xtl[i], INK);
    if (p->no_data.l) {   /* on a white plate, so the grid does not run through it */
        ds_chart_rect r = text_rect(&p->no_data);
        cairo_set_source_rgb(cr, 1, 1, 1);
        cairo_rectangle(cr, r.x - 4, r.y - 2, r.w + 8, r.h + 4);
        cairo_fill(cr);
        ds_chart_text_draw(cr, &p->no_data, AXIS);
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
        ds_chart_text_draw(cr, &p->legend[s], INK);
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
    rc = ds_chart_ink_open(&k, c->ja ? "ja" : "en", err);
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
    ds_chart_ink_close(&k);
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
    rc = ds_chart_ink_open(&k, c->ja ? "ja" : "en", err);
    if (rc != DS_OK)
        goto out;
    rc = line_plan_make(&k, c, p, err);
    if (rc != DS_OK)
        goto out;
    rc = ds_chart_canvas_open(&cv, f, p->pub.width, p->pub.height, out->max_len, err);
    if (rc != DS_OK)
        goto out;
    line_draw(cv.cr, c, p);
    rc = ds_chart_canvas_finish(&cv, out, err);
out:
    ds_chart_canvas_release(&cv);
    if (p)
        line_plan_release(p);
    free(p);
    ds_chart_ink_close(&k);
    return rc;
}
