/* changepoint.h: where a detected rise began (issue #20).
 *
 * The series detector finds a run on the first day that passes its start rule (robust z >= 6 and
 * 2.5x the baseline, robust.h); its backward ramp takes the days before that pass the weaker rule,
 * and trim_lead drops leading days below a quarter of the peak's excess.  A surge that rises at a
 * lower level first and surges later ("1521/tcp ... rising from one date and surging later",
 * @police, July 2009) was therefore dated when it crossed those thresholds, days after it began.
 * A surge's start is the change point: the day the series left its baseline.
 *
 * The estimate is Page's one-sided CUSUM (Page, "Continuous Inspection Schemes", Biometrika 1954)
 * of the standardised excess z_t = (x_t - median) / sigma over the run's baseline, summed backward
 * from the day before the run:
 *
 *     P(t) = sum over u in [t, first) of (z_u - k),   t = first - 1, first - 2, ...
 *
 * stopped where P falls to zero or below (the days before are the baseline again).  The onset is
 * the t where P is largest: the maximum-likelihood split of a mean shift of 2k (the CUSUM's own
 * change-point estimate).  k is Page's reference value, half the shift looked for; the shift is
 * the run's extension rule, z_extend = 3 sigmas, so k = 1.5.
 *
 * An onset is moved back only when the lead-in is a rise, not noise or another phenomenon:
 *  - at least DS_ONSET_MIN_DAYS observed days (one mildly high day just before a run, a heavy
 *    host's, stays trimmed off as trim_lead wants);
 *  - the lead-in's mean passes the run's own extension rule (z >= z_extend and >= ratio_extend x
 *    the median): the day-by-day rule, applied to the days together, without the quarter-of-the-
 *    peak rule that made a slow start late;
 *  - no longer than the run itself, never further back than the baseline window, nor into an
 *    earlier run: a level held longer than the run is a plateau the run rides on;
 *  - only for runs of at least r->onset_min_days (surges; robust.h).  A spike's start is its jump,
 *    and on a heavy-tailed series the days before a spike are often somewhat high for reasons of
 *    their own: on tuning seeds 1-18, dating spikes this way moved 13 of 63 planted spikes' starts
 *    1.8 to 22 days too early (docs/detection.md).
 * Missing days (NaN: no sensor observed them) are skipped: they neither start nor end a rise.
 */
#ifndef DS_CHANGEPOINT_H
#define DS_CHANGEPOINT_H
#include <stddef.h>

#define DS_ONSET_MIN_DAYS 2     /* observed days of a rise before the run: one day is not a rise */

/* The first day of the rise that ends in the run [first, last], searched over x[lo..first): `first`
 * when there is none.  median and sigma are the run's baseline; z_min and ratio_min its extension
 * rule (Page's k is z_min / 2). */
size_t ds_onset_back(const double *x, size_t lo, size_t first, size_t last, double median, double sigma, double z_min,
                     double ratio_min);

#endif
