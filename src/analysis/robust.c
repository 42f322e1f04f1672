/* robust.c: see robust.h.
 *
 * Medians by sorting a copy: a baseline is 28 values and a series a few hundred, so an
 * O(n log n) sort costs less than the code a selection algorithm would add.  Up to SMALL_SORT
 * values the copy is sorted by insertion, inline: the series detector takes about 40,000 such
 * medians over a quarter, and qsort's call per comparison was 5% of `events`.  The values
 * are finite (never NaN), so either sort gives the same order and the same median.
 */
#include "analysis/robust.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int dbl_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

#define SMALL_SORT 64

static void sort_finite(double *s, size_t m)
{
    if (m > SMALL_SORT) {
        qsort(s, m, sizeof *s, dbl_cmp);
        return;
    }
    for (size_t i = 1; i < m; i++) {
        double v = s[i];
        size_t j = i;
        while (j > 0 && s[j - 1] > v) {
            s[j] = s[j - 1];
            j--;
        }
        s[j] = v;
    }
}

static double median_sorted(const double *s, size_t m)
{
    if (!m)
        return NAN;
    return m % 2 ? s[m / 2] : 0.5 * (s[m / 2 - 1] + s[m / 2]);
}

double ds_median(const double *x, size_t n, double *scratch)
{
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (isfinite(x[i]))
            scratch[m++] = x[i];
    sort_finite(scratch, m);
    return median_sorted(scratch, m);
}

double ds_mad(const double *x, size_t n, double med, double *scratch)
{
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (isfinite(x[i]))
            scratch[m++] = fabs(x[i] - med);
    sort_finite(scratch, m);
    return median_sorted(scratch, m);
}

double ds_robust_sigma(double median, double mad)
{
    double s = DS_MAD_SIGMA * mad, p = median > 0 ? sqrt(median) : 0;
    if (s < p)
        s = p;
    return s < 1 ? 1 : s;
}

/* The baseline of day d: median and sigma of the trailing window, the median raised to that of
 * the same weekday in the window when higher (the seasonal part).  Returns the finite days. */
static size_t baseline(const double *x, size_t d, const ds_spike_rule *r, double *med, double *sigma)
{
    double win[64], wd[16], scratch[64];
    size_t w = r->window < 64 ? r->window : 64, nw = 0, nwd = 0;
    for (size_t k = 1; k <= w && k <= d; k++) {
        double v = x[d - k];
        if (!isfinite(v))
            continue;
        win[nw++] = v;
        if (k % 7 == 0 && nwd < 16)
            wd[nwd++] = v;
    }
    if (!nw)
        return 0;
    double m = ds_median(win, nw, scratch);
    double mad = ds_mad(win, nw, m, scratch);
    if (nwd >= 3) {
        double mw = ds_median(wd, nwd, scratch);
        if (mw > m)
            m = mw;
    }
    *med = m;
    *sigma = ds_robust_sigma(m, mad);
    return nw;
}

size_t ds_spike_runs(const double *x, size_t n, size_t from, const ds_spike_rule *r, ds_run *out, size_t max)
{
    return ds_spike_runs_vs(x, x, n, from, r, out, max);
}

/* The level of x before day d (d >= days): the median of the `days` (at most 64) days before it. */
static double level_before(const double *x, size_t d, size_t days)
{
    double scratch[64];
    size_t k = days < 64 ? days : 64;
    return ds_median(x + d - k, k, scratch);
}

/* Drop a run's leading days whose excess is below peak_frac of the peak's: the ramp was taken
 * before the peak was known, and a day that a heavy source kept high just before a spike is not
 * the spike's start. */
static void trim_lead(const double *x, const ds_spike_rule *r, ds_run *run)
{
    double floor_ex = r->peak_frac * (x[run->peak] - run->median);
    while (run->first < run->peak && (!isfinite(x[run->first]) || x[run->first] - run->median < floor_ex)) {
        if (isfinite(x[run->first])) {
            run->total -= x[run->first];
            run->excess -= x[run->first] - run->median;
        }
        run->first++;
    }
}

size_t ds_spike_runs_vs(const double *x, const double *base, size_t n, size_t from, const ds_spike_rule *r, ds_run *out,
                        size_t max)
{
    /* a run's first strong day is in the period, but a ramp may reach back before it (a phenomenon
     * that began just before the period is dated when it began); never into the previous run */
    size_t nout = 0, floor_idx = 0;
    for (size_t d = from; d < n && nout < max; d++) {
        double m = 0, s = 1;
        if (!isfinite(x[d]) || baseline(base, d, r, &m, &s) < r->min_days)
            continue;
        if (r->level_days && d >= r->level_days) {
            double lv = level_before(x, d, r->level_days);
            if (isfinite(lv) && lv > m)
                m = lv;
        }
        double z = (x[d] - m) / s;
        if (z < r->z_start || x[d] < r->ratio_start * m)
            continue;
        /* a ramp: the days before that pass the weaker rule belong to the run */
        size_t b = d;
        while (b > floor_idx && isfinite(x[b - 1]) && (x[b - 1] - m) / s >= r->z_extend &&
               x[b - 1] >= r->ratio_extend * m)
            b--;
        ds_run run = { .first = b, .last = b, .peak = b, .median = m, .sigma = s, .peak_z = (x[b] - m) / s };
        for (size_t e = b; e < n; e++) {
            double ze = isfinite(x[e]) ? (x[e] - m) / s : 0;
            if (e > d && (ze < r->z_extend || x[e] < r->ratio_extend * m ||
                          x[e] - m < r->peak_frac * (x[run.peak] - m)))
                break;
            if (e > d && r->level_days && e >= r->level_days) {
                /* a new jump over the level the run itself set (and that the run so far never
                 * made): a phenomenon of its own */
                double lv = level_before(x, e, r->level_days);
                if (isfinite(lv) && lv > m && x[e] >= r->ratio_start * lv && (x[e] - lv) / s >= r->z_start &&
                    x[run.peak] < r->ratio_start * lv)
                    break;
            }
            run.last = e;
            run.total += x[e];
            run.excess += x[e] - m;
            if (x[e] > x[run.peak]) {
                run.peak = e;
                run.peak_z = ze;
            }
        }
        trim_lead(x, r, &run);
        d = run.last;
        floor_idx = run.last + 1;
        if (run.excess >= r->min_excess)
            out[nout++] = run;
    }
    return nout;
}

double ds_acf(const double *x, size_t n, size_t lag)
{
    double sum = 0, var = 0, cov = 0;
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (isfinite(x[i])) {
            sum += x[i];
            m++;
        }
    if (m < 2 || lag >= n)
        return 0;
    double mean = sum / (double)m;
    for (size_t i = 0; i < n; i++)
        if (isfinite(x[i]))
            var += (x[i] - mean) * (x[i] - mean);
    for (size_t i = 0; i + lag < n; i++)
        if (isfinite(x[i]) && isfinite(x[i + lag]))
            cov += (x[i] - mean) * (x[i + lag] - mean);
    return var > 0 ? cov / var : 0;
}

int ds_cycle_fit_run(const double *x, size_t n, size_t period, size_t phase0, size_t tol, ds_cycle_fit *out)
{
    int rc = -1;
    double *norm = NULL;
    memset(out, 0, sizeof *out);
    if (period < 2 || period > 168 || phase0 >= period)
        return -1;
    /* whole cycles only: skip to the first sample of phase 0 */
    size_t skip = (period - phase0) % period, ncyc = (n - (n < skip ? n : skip)) / period;
    if (ncyc < 3)
        return -1;
    norm = malloc(ncyc * period * sizeof *norm);
    if (!norm)
        return -1;
    double count[168] = { 0 };
    size_t used = 0;
    for (size_t c = 0; c < ncyc; c++) {
        const double *y = x + skip + c * period;
        double sum = 0;
        size_t k = 0;
        for (size_t i = 0; i < period; i++)
            if (isfinite(y[i])) {
                sum += y[i];
                k++;
            }
        double mean = k ? sum / (double)k : 0;
        for (size_t i = 0; i < period; i++) {
            double v = mean > 0 && isfinite(y[i]) ? y[i] / mean : NAN;
            norm[c * period + i] = v;
            if (isfinite(v)) {
                out->profile[i] += v;
                count[i]++;
            }
        }
        used += mean > 0;
    }
    if (used < 3)
        goto out;
    double pmean = 0;
    for (size_t i = 0; i < period; i++) {
        out->profile[i] = count[i] ? out->profile[i] / count[i] : 0;
        pmean += out->profile[i] / (double)period;
        if (out->profile[i] > out->profile[out->peak])
            out->peak = i;
    }
    out->peak_ratio = pmean > 0 ? out->profile[out->peak] / pmean : 0;
    for (size_t i = 0; i < period; i++)
        out->above += out->profile[i] >= pmean;
    size_t agree = 0;
    for (size_t c = 0; c < ncyc; c++) {
        const double *y = norm + c * period;
        size_t best = period;
        for (size_t i = 0; i < period; i++)
            if (isfinite(y[i]) && (best == period || y[i] > y[best]))
                best = i;
        if (best == period)
            continue;
        size_t dist = best > out->peak ? best - out->peak : out->peak - best;
        if (period - dist < dist)
            dist = period - dist;
        agree += dist <= tol;
    }
    out->cycles = used;
    out->consistency = (double)agree / (double)used;
    /* the normalised series has each cycle's level removed: what is left correlates at the lag
     * only if the shape repeats */
    for (size_t i = 0; i < ncyc * period; i++)
        if (isfinite(norm[i]))
            norm[i] -= 1.0;
    out->acf = ds_acf(norm, ncyc * period, period);
    /* the phase of index 0 of the profile is phase 0 of the cycle: the caller's phase0 shifted
     * the start, so profile[i] is phase i */
    rc = 0;
out:
    free(norm);
    return rc;
}

static double med3(double a, double b, double c)
{
    if (a > b) {
        double t = a;
        a = b;
        b = t;
    }
    return c < a ? a : c > b ? b : c;
}

double ds_cycle_smooth_ratio(const ds_cycle_fit *f, size_t period)
{
    double mx = 0, sum = 0;
    if (period < 3 || period > 168)
        return 0;
    for (size_t i = 0; i < period; i++) {
        double v = med3(f->profile[(i + period - 1) % period], f->profile[i], f->profile[(i + 1) % period]);
        sum += v;
        if (v > mx)
            mx = v;
    }
    return sum > 0 ? mx / (sum / (double)period) : 0;
}
