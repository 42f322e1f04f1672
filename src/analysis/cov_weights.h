/* cov_weights.h: how the detectors' daily and hourly series treat time a sensor did not observe.
 *
 * A sensor that was down saw nothing because it was down.  Counted as zeros, its dark days lower
 * every baseline, and the day it comes back looks like a surge (issue #19: 25 surges, 5 spikes
 * and 17 single-source events after one 10-day outage).  So a series day (or hour) is:
 *
 *   - judged as it is, when every sensor of the query observed all of it, or when the store has
 *     no coverage for it (a store written before coverage was kept, days outside the data);
 *   - scaled to a whole day, value / frac, when the sensors observed all or nothing of it and
 *     frac, the observed share, is at least DS_COV_MIN_FRAC.  Over several sensors the share is
 *     weighted by each sensor's usual traffic (its mean packets per observed hour in the loaded
 *     hours): what the sum loses while that sensor is dark.  Addresses (coverage.h) are the
 *     weights when there is no traffic to go by; they are what traffic follows on average, but
 *     two /24s saw 47% and 53% of one synthetic quarter, and that 6% moved borderline events;
 *   - missing (NaN: left out of every baseline, and no run can start, end or pass there) when
 *     frac is below DS_COV_MIN_FRAC, or when some sensor of the query observed only part of it:
 *     the day an outage begins or ends.  Scaling such a day by 1 / frac assumes the traffic was
 *     spread evenly over its hours, which a daily cycle or a scanner's burst breaks, and those
 *     edge days are where the false events came from.
 */
#ifndef DS_COV_WEIGHTS_H
#define DS_COV_WEIGHTS_H
#include <stdint.h>

#include "analysis/coverage.h"

/* Below 40% a day is missing.  Scaling a day of Poisson counts by 1 / frac multiplies its
 * standard deviation by sqrt(1 / frac): at 0.4 by 1.58, and the spike rule's start z of 6 is still
 * 3.8 standard deviations of that noise, beyond Iglewicz and Hoaglin's 3.5 for a single test (the
 * floor that gives is (3.5 / 6)^2 = 0.34).  Not 0.5: one of two equal sensors saw 49% of the
 * traffic in a synthetic quarter, and the days the other was dark went missing.  At a third
 * (tried: a sensor with two thirds of the addresses dark for 10 days) a few dozen packets of one
 * host tripled into a country "spike" (docs/detection.md). */
#define DS_COV_MIN_FRAC 0.4

/* 1 when c holds coverage that can be used (the store has coverage rows). */
int ds_cov_known(const ds_coverage *c);

/* Weights of local days [from, to] into w[0 .. to - from]: 1 (judge as is), frac in
 * [DS_COV_MIN_FRAC, 1) (divide by it), or 0 (missing), by the rules above, for one sensor
 * (sensor_id) or all (0).  c may be NULL (every weight 1). */
void ds_cov_day_weights(const ds_coverage *c, int64_t sensor_id, int32_t from, int32_t to, double *w);

/* The same for UTC hours hour0 .. hour0 + n - 1 (unix seconds / 3600) into w[0 .. n): 1, frac, or
 * 0 below DS_COV_MIN_FRAC (an hour is observed or not: no edge rule). */
void ds_cov_hour_weights(const ds_coverage *c, int64_t sensor_id, int64_t hour0, size_t n, double *w);

/* Observed days of [from, to] (weighted over the query's sensors as above; a day without coverage
 * information counts whole): the denominator of a "per day" rate. */
double ds_cov_days(const ds_coverage *c, int64_t sensor_id, int32_t from, int32_t to);

/* Apply weights to a series: x[d] / w[d], or NaN where w[d] is 0 (x[d] NaN stays NaN). */
void ds_cov_apply(double *x, const double *w, size_t n);

#endif
