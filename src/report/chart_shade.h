/* chart_shade.h: grey bands behind a daily line chart for the days the sensors did not observe
 * whole (chart.c's line chart draws them under its grid; ds_line_chart.covered). */
#ifndef DS_REPORT_CHART_SHADE_H
#define DS_REPORT_CHART_SHADE_H
#include <stddef.h>

#include "report/cairo_api.h"
#include "report/chart.h"

/* covered[i] must be finite and within 0..1 (DS_EINVAL otherwise); NULL is "every day covered". */
ds_rc ds_chart_shade_validate(const double *covered, size_t ndays, ds_err *err);
/* One band per day below 1 across the plot's height, centred on the day's x (the plot spans the
 * days' centres, as line_x places them): grey, darker the less of the day was covered. */
void ds_chart_shade_days(cairo_t *cr, const ds_chart_rect *plot, size_t ndays, const double *covered);

#endif
