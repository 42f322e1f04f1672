/* chart_int.h: what the chart files share (internal; the API is chart.h).  chart.c holds the
 * output buffer, the text machinery (one pango context, layouts measured once), the number
 * helpers and the canvas (SVG or PNG surface); chart_line.c plans and draws the daily line
 * charts, chart_bar.c the share and mix bar charts.  The one-line helpers the planners call for
 * every label and value are static inline here, so the split costs no call.
 */
#ifndef DS_REPORT_CHART_INT_H
#define DS_REPORT_CHART_INT_H
#include <math.h>
#include <stddef.h>

#include "report/cairo_api.h"
#include "report/chart.h"
#include "util/result.h"

#define MARGIN 12.0
#define MAX_CANVAS_H 12000.0

typedef struct rgb { double r, g, b; } rgb;

/* Ink, grid and axis colours of every chart */
static const rgb INK = { 0.13, 0.13, 0.13 };
static const rgb GRID = { 0.86, 0.86, 0.86 };
static const rgb AXIS = { 0.30, 0.30, 0.30 };

/* ---------------------------------------------------------------- output buffer */

typedef struct sink {
    unsigned char *data;
    size_t len, cap, max;
    int too_big, no_mem;
} sink;

/* ---------------------------------------------------------------- text */

typedef struct ink {
    PangoContext *pc;
    PangoFontDescription *title, *text, *small;
} ink;

/* A layout and the point where its top left corner is drawn. */
typedef struct text { PangoLayout *l; double x, y; } text;

/* ---------------------------------------------------------------- canvas */

typedef struct canvas {
    cairo_surface_t *surface;
    cairo_t *cr;
    sink out;
    ds_chart_format format;
    int width, height;   /* document units: pt for SVG, px for PNG */
} canvas;

/* ---------------------------------------------------------------- helpers (chart.c) */

void ds_chart_ink_close(ink *k);
ds_rc ds_chart_ink_open(ink *k, const char *lang, ds_err *err);
PangoLayout *ds_chart_ink_layout(const ink *k, const PangoFontDescription *font, const char *str,
                                 double width, int max_lines, PangoAlignment align);
PangoLayout *ds_chart_ink_layout_capped(const ink *k, const PangoFontDescription *font,
                                        const char *str, double cap, int max_lines,
                                        PangoAlignment align);
void ds_chart_text_release(text *t);
void ds_chart_text_draw(cairo_t *cr, const text *t, rgb colour);
int ds_chart_decimals_for(double step);
double ds_chart_nice_step(double raw);
ds_rc ds_chart_canvas_open(canvas *cv, ds_chart_format f, double w_pt, double h_pt, size_t max_len,
                           ds_err *err);
ds_rc ds_chart_canvas_finish(canvas *cv, ds_chart_out *out, ds_err *err);
void ds_chart_canvas_release(canvas *cv);

static inline double layout_w(PangoLayout *l)
{
    PangoRectangle lr;
    pango_layout_get_extents(l, NULL, &lr);
    return (double)lr.width / PANGO_SCALE;
}

static inline double layout_h(PangoLayout *l)
{
    PangoRectangle lr;
    pango_layout_get_extents(l, NULL, &lr);
    return (double)lr.height / PANGO_SCALE;
}

static inline void set_rgb(cairo_t *cr, rgb c)
{
    cairo_set_source_rgb(cr, c.r, c.g, c.b);
}

static inline int finite_nonneg(double v)
{
    return isfinite(v) && v >= 0;
}

#endif
