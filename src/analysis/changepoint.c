/* changepoint.c: where a detected rise began (changepoint.h). */
#include "analysis/changepoint.h"

#include <math.h>

size_t ds_onset_back(const double *x, size_t lo, size_t first, size_t last, double median, double sigma, double z_min,
                     double ratio_min)
{
    if (first <= lo || last < first || !(sigma > 0))
        return first;
    /* a lead-in no longer than the run itself: a level held longer is a plateau of its own */
    if (last + 1 - first < first - lo)
        lo = first - (last + 1 - first);
    /* Page's CUSUM backward from the run: P(t) = sum over [t, first) of (z_u - k), stopped where
     * it falls to zero (the days before are the baseline again); its maximum is the change point */
    double k = z_min / 2, p = 0, best = 0;
    size_t at = first;
    for (size_t t = first; t-- > lo;) {
        if (!isfinite(x[t]))
            continue;
        p += (x[t] - median) / sigma - k;
        if (p <= 0)
            break;
        if (p > best) {
            best = p;
            at = t;
        }
    }
    if (at >= first)
        return first;
    /* not noise alone: two days or more, whose mean passes the run's own extension rule */
    double sum = 0;
    size_t days = 0;
    for (size_t t = at; t < first; t++)
        if (isfinite(x[t])) {
            sum += x[t];
            days++;
        }
    double mean = sum / (double)days;
    if (days < DS_ONSET_MIN_DAYS || (mean - median) / sigma < z_min || mean < ratio_min * median)
        return first;
    return at;
}
