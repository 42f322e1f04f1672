/* chart.h: report figures (daily line series, share bars, 100%-stacked mix bars) drawn with
 * cairo and laid out with pango, written as a standalone SVG document or a PNG image.
 *
 * Every function validates its input first (NaN, infinities and negative counts are DS_EINVAL),
 * lays the figure out from measured text extents, then renders into a malloc'd buffer whose
 * growth stops at a hard maximum (DS_ENOMEM beyond it).  Sizes are in points (1/72 inch); an
 * SVG uses them as its width/height in pt, a PNG is rendered at DS_CHART_PNG_SCALE pixels per
 * point.  See docs/charts.md for what each figure shows, the palette and the fonts it needs.
 */
#ifndef DS_REPORT_CHART_H
#define DS_REPORT_CHART_H
#include <stddef.h>
#include <stdint.h>

#include "util/result.h"

#define DS_CHART_OUT_MAX ((size_t)64 << 20)  /* hard maximum size of one rendered document */
#define DS_CHART_PNG_SCALE 2                 /* PNG pixels per point (144 dpi) */
#define DS_CHART_MAX_SERIES 64               /* lines in one line chart */
#define DS_CHART_MAX_DAYS 36600              /* a century of daily points */
#define DS_CHART_MAX_ROWS 200                /* bars in one share or mix chart */
#define DS_CHART_MAX_PARTS 64                /* segments per mix bar (before "other") */

typedef enum ds_chart_format { DS_CHART_SVG, DS_CHART_PNG } ds_chart_format;

/* Zero it before use.  max_len is an input: 0 means DS_CHART_OUT_MAX; a smaller value caps the
 * document further.  On success data (malloc'd) and len hold the document, width and height its
 * size (points for SVG, pixels for PNG).  On failure data is NULL. */
typedef struct ds_chart_out {
    unsigned char *data;
    size_t len;
    size_t max_len;
    int width, height;
} ds_chart_out;
void ds_chart_out_free(ds_chart_out *o);

/* values: finite and >= 0, or NaN for "no value" (line charts break the line there) */
typedef struct ds_chart_series { const char *label; const double *values; size_t n; } ds_chart_series;

/* Daily series: one line per series over ndays days starting at first_day (days since
 * 1970-01-01, a civil date).  Dated x axis whose tick spacing (daily, every 2 days, weekly,
 * fortnightly, semi-monthly, monthly, ...) is the finest whose measured labels do not overlap;
 * labels "7/1" (ja) or "Jul 1" (en), the year under the first label and at each year change.
 * Nice round y ticks with thousands separators (or k/M/G above a million), y_label rotated at
 * the left, legend beside the plot (or below it when it is taller than the plot), Okabe-Ito
 * colours plus a dash pattern and a marker shape per series.  Every series must have
 * n == ndays; a NULL label is drawn as an empty string. */
typedef struct ds_line_chart {
    const char *title, *y_label;
    int32_t first_day; size_t ndays;
    const ds_chart_series *series; size_t nseries;
    int ja;                       /* Japanese date labels ("no data" text too) */
    int log_y;                    /* logarithmic y axis; zero values break the line */
    const double *covered;        /* [ndays] covered share 0..1 of each day, or NULL (all covered):
                                   * days below 1 get a grey band behind the lines (chart_shade.h) */
} ds_line_chart;

/* Shares: horizontal bar chart of labels with their share of total (percent labels at the end
 * of the bars), plus an "other" bar for total - sum(values) when other_label is set and the
 * remainder > 0.  sum(values) must not exceed total (a relative slack of 1e-9 is allowed). */
typedef struct ds_share_chart {
    const char *title;
    const char *const *labels; const double *values; size_t n;
    double total; const char *other_label;
} ds_share_chart;

/* Mix: one 100%-stacked horizontal bar per row, segments per part, values row-major
 * nrows x nparts, remainder of row_totals[r] shown as other_label (left blank when
 * other_label is NULL); legend for the parts below the bars.  row_totals may be NULL: each
 * row is then its parts' sum. */
typedef struct ds_mix_chart {
    const char *title;
    const char *const *rows; size_t nrows;
    const char *const *parts; size_t nparts;
    const double *values; const double *row_totals;
    const char *other_label;
} ds_mix_chart;

ds_rc ds_chart_line(const ds_line_chart *c, ds_chart_format f, ds_chart_out *out, ds_err *err);
ds_rc ds_chart_share(const ds_share_chart *c, ds_chart_format f, ds_chart_out *out, ds_err *err);
ds_rc ds_chart_mix(const ds_mix_chart *c, ds_chart_format f, ds_chart_out *out, ds_err *err);

/* The line chart's layout, for tests and for callers that want to know the figure's size
 * before rendering.  Rectangles are in points, origin top left; a text rectangle is the
 * measured logical extent of the text where it is drawn. */
typedef struct ds_chart_rect { double x, y, w, h; } ds_chart_rect;
#define DS_CHART_MAX_XTICKS 64
#define DS_CHART_MAX_YTICKS 16
typedef struct ds_line_layout {
    double width, height;                 /* canvas */
    ds_chart_rect title, plot, legend, y_label;   /* w == 0 when absent */
    int legend_below;                     /* 1: legend under the x axis, 0: beside the plot */
    size_t nxticks;
    int32_t xtick_day[DS_CHART_MAX_XTICKS];
    ds_chart_rect xtick_label[DS_CHART_MAX_XTICKS];
    size_t nyticks;
    double ytick_value[DS_CHART_MAX_YTICKS];
    ds_chart_rect ytick_label[DS_CHART_MAX_YTICKS];
    size_t nlegend;
    ds_chart_rect legend_entry[DS_CHART_MAX_SERIES];
} ds_line_layout;
ds_rc ds_chart_line_layout(const ds_line_chart *c, ds_line_layout *lay, ds_err *err);

#endif
