/* chart_shade.c: shading of uncovered days in daily line charts (see chart_shade.h). */
#include "report/chart_shade.h"

#include <math.h>

ds_rc ds_chart_shade_validate(const double *covered, size_t ndays, ds_err *err)
{
    for (size_t i = 0; covered && i < ndays; i++)
        if (!isfinite(covered[i]) || covered[i] < 0 || covered[i] > 1)
            return ds_fail(err, DS_EINVAL, "line chart: covered share %zu is %g (must be within 0..1)", i, covered[i]);
    return DS_OK;
}

void ds_chart_shade_days(cairo_t *cr, const ds_chart_rect *plot, size_t ndays, const double *covered)
{
    if (!covered || !ndays)
        return;
    double step = ndays > 1 ? plot->w / (double)(ndays - 1) : plot->w;
    cairo_save(cr);
    cairo_rectangle(cr, plot->x, plot->y, plot->w, plot->h);
    cairo_clip(cr);
    for (size_t i = 0; i < ndays; i++) {
        double gap = 1.0 - covered[i];
        if (gap <= 1e-9)
            continue;
        double x = ndays > 1 ? plot->x + step * (double)i : plot->x + plot->w / 2;
        /* a fully uncovered day is a light grey band; a partly covered one lighter still */
        cairo_set_source_rgba(cr, 0.55, 0.55, 0.55, 0.10 + 0.22 * gap);
        cairo_rectangle(cr, x - step / 2, plot->y, step, plot->h);
        cairo_fill(cr);
    }
    cairo_restore(cr);
}
