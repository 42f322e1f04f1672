/* robust.c: see robust.h.
 *
 * Medians by sorting a copy up to SMALL_SORT values (a baseline is 28), by insertion, inline:
 * the series detector takes about 40,000 such medians over a quarter, and qsort's call per
 * comparison was 5% of `events`.  The values are finite (never NaN), so either sort gives the
 * same order and the same median.  A longer copy (a whole series of a few hundred days) is not
 * sorted but its middle selected (quickselect): the same values, without qsort's thousand calls.
 *
 * The series detector searches each series twice against the same base (ds_spike_runs_pre), so
 * its baselines are computed once per series, and by sliding: the trailing window is kept sorted
 * (one insertion and one removal a day), its median read off the middle, and its MAD merged out
 * of the deviations below and above the median, which come sorted from the two halves (a
 * rounded difference is monotone in its operand).  Equal values keep the order the insertion sort
 * of a fresh copy gives them, so even +0 and -0 sit where they would: the numbers are the same
 * bits as the sorting path's, which ds_spike_runs_vs still takes.
 */
#include "analysis/robust.h"
#include "analysis/changepoint.h"

#include <math.h>
#include <stdint.h>
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

/* The k-th smallest (0-based) of s[0..m), m > k, s reordered so that s[0..k) are no larger:
 * quickselect with a median-of-three pivot and a three-way partition (a series of counts has
 * runs of equal values, which a two-way partition would make quadratic). */
static double select_kth(double *s, size_t m, size_t k)
{
    size_t lo = 0, hi = m;
    while (hi - lo > SMALL_SORT) {
        double a = s[lo], b = s[lo + (hi - lo) / 2], c = s[hi - 1];
        double pivot = a < b ? (b < c ? b : a < c ? c : a) : (a < c ? a : b < c ? c : b);
        size_t lt = lo, i = lo, gt = hi;   /* [lo, lt) < pivot, [lt, i) == pivot, [gt, hi) > pivot */
        while (i < gt) {
            double v = s[i];
            if (v < pivot) {
                s[i++] = s[lt];
                s[lt++] = v;
            } else if (v > pivot) {
                s[i] = s[--gt];
                s[gt] = v;
            } else {
                i++;
            }
        }
        if (k < lt)
            hi = lt;
        else if (k >= gt)
            lo = gt;
        else
            return s[k];
    }
    sort_finite(s + lo, hi - lo);
    return s[k];
}

double ds_median(const double *x, size_t n, double *scratch)
{
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (isfinite(x[i]))
            scratch[m++] = x[i];
    if (m > SMALL_SORT) {
        /* by selection: the middle values are the sort's, so the median is too, except that a
         * +0 and a -0 compare equal and a sort leaves them in their order: a median of zero is
         * therefore taken by sorting, as before */
        double hi = select_kth(scratch, m, m / 2), med = hi;
        if (m % 2 == 0) {
            double lo = scratch[0];
            for (size_t i = 1; i < m / 2; i++)
                if (scratch[i] > lo)
                    lo = scratch[i];
            med = 0.5 * (lo + hi);
        }
        if (med != 0)
            return med;
        for (size_t i = 0, k = 0; i < n; i++)
            if (isfinite(x[i]))
                scratch[k++] = x[i];
    }
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

/* See robust.h.  wd holds the seasonal part: the same weekday's days of the window (every 7th
 * day back). */
size_t ds_baseline(const double *x, size_t d, const ds_spike_rule *r, double *med, double *sigma)
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

/* Two spikes that touch (r->split_frac): a run of at most 2 x split_max_days + 1 days whose
 * deepest fully observed inner day lies below split_frac x the excess of the highest day on each
 * side, and whose later part's peak passes the start rule on its own, ends before that valley; the
 * caller's search then finds the later spike as a run of its own.  Both parts must be spike-long:
 * a longer run (a surge, a host's weeks of scanning) is never cut, so a store with an outage and one
 * without cut the same runs. */
static void split_touching(const double *x, const ds_spike_rule *r, ds_run *run)
{
    size_t len = run->last + 1 - run->first;
    if (r->split_frac <= 0 || len < 3 || len > 2 * r->split_max_days + 1)
        return;
    double m = run->median, s = run->sigma;
    size_t best = SIZE_MAX;
    for (size_t v = run->first + 1; v < run->last; v++) {
        if (!isfinite(x[v]) || (r->soft && r->soft[v] < 1))
            continue;
        if (v - run->first > r->split_max_days || run->last - v > r->split_max_days)
            continue;
        double lp = -INFINITY, rp = -INFINITY;
        for (size_t i = run->first; i < v; i++)
            if (isfinite(x[i]) && x[i] > lp)
                lp = x[i];
        for (size_t i = v + 1; i <= run->last; i++)
            if (isfinite(x[i]) && x[i] > rp)
                rp = x[i];
        double lo = lp < rp ? lp : rp;
        if (x[v] - m >= r->split_frac * (lo - m) || (rp - m) / s < r->z_start || rp < r->ratio_start * m)
            continue;
        if (best == SIZE_MAX || x[v] < x[best])
            best = v;
    }
    if (best == SIZE_MAX)
        return;
    ds_run left = { .first = run->first, .last = run->first, .peak = run->first, .median = m, .sigma = s };
    for (size_t i = run->first; i < best; i++) {
        if (!isfinite(x[i]))
            continue;
        left.last = i;
        left.total += x[i];
        left.excess += x[i] - m;
        if (!isfinite(x[left.peak]) || x[i] > x[left.peak])
            left.peak = i;
    }
    left.peak_z = (x[left.peak] - m) / s;
    *run = left;
}

/* ---- sliding windows (ds_baselines_fill, ds_levels_fill) ---- */

/* The finite values among the last days of a series, sorted; equal values in the order a stable
 * sort of the copy ds_median makes would leave them: the most recent first when the copy is
 * taken newest first (baseline), last when oldest first (level_before). */
typedef struct window { double v[64]; size_t m; int newest_first; } window;

static void win_insert(window *w, double v)
{
    size_t j = w->m++;
    if (w->newest_first)
        while (j > 0 && w->v[j - 1] >= v) {
            w->v[j] = w->v[j - 1];
            j--;
        }
    else
        while (j > 0 && w->v[j - 1] > v) {
            w->v[j] = w->v[j - 1];
            j--;
        }
    w->v[j] = v;
}

/* Remove the oldest value equal to v: the last of its equals when newest first, else the first. */
static void win_remove(window *w, double v)
{
    size_t j = w->m;
    if (w->newest_first) {
        while (j > 0 && w->v[j - 1] != v)
            j--;
        if (!j)
            return;
        j--;
    } else {
        j = 0;
        while (j < w->m && w->v[j] != v)
            j++;
        if (j == w->m)
            return;
    }
    memmove(&w->v[j], &w->v[j + 1], (w->m - j - 1) * sizeof *w->v);
    w->m--;
}

/* Median absolute deviation around med of sorted s[0..m): the deviations of the values below med
 * (walking down) and of the rest (walking up) are each ascending, merged up to the middle. */
static double mad_sorted(const double *s, size_t m, double med)
{
    if (!m)
        return NAN;
    size_t lo = 0, hi = m;
    while (lo < hi) {   /* the first value >= med */
        size_t mid = lo + (hi - lo) / 2;
        if (s[mid] < med)
            lo = mid + 1;
        else
            hi = mid;
    }
    size_t i = lo, j = lo;
    double prev = NAN, cur = NAN;
    for (size_t t = 0; t <= m / 2; t++) {
        double dl = i > 0 ? fabs(s[i - 1] - med) : INFINITY, dr = j < m ? fabs(s[j] - med) : INFINITY;
        prev = cur;
        if (dl <= dr) {
            cur = dl;
            i--;
        } else {
            cur = dr;
            j++;
        }
    }
    return m % 2 ? cur : 0.5 * (prev + cur);
}

void ds_baselines_fill(const double *base, size_t n, size_t from, const ds_spike_rule *r, ds_baselines *out)
{
    size_t w = r->window < 64 ? r->window : 64;
    window win = { .m = 0, .newest_first = 1 };
    for (size_t i = from > w ? from - w : 0; i < from; i++)
        if (isfinite(base[i]))
            win_insert(&win, base[i]);
    for (size_t d = from; d < n; d++) {
        if (d > from && w) {   /* the window of d: base[d - w, d) */
            if (d > w && isfinite(base[d - 1 - w]))
                win_remove(&win, base[d - 1 - w]);
            if (isfinite(base[d - 1]))
                win_insert(&win, base[d - 1]);
        }
        out->days[d] = (double)win.m;
        if (!win.m)
            continue;
        double m = median_sorted(win.v, win.m), mad = mad_sorted(win.v, win.m, m);
        double wd[16], scratch[16];
        size_t nwd = 0;
        for (size_t k = 7; k <= w && k <= d && nwd < 16; k += 7)
            if (isfinite(base[d - k]))
                wd[nwd++] = base[d - k];
        if (nwd >= 3) {
            double mw = ds_median(wd, nwd, scratch);
            if (mw > m)
                m = mw;
        }
        out->median[d] = m;
        out->sigma[d] = ds_robust_sigma(m, mad);
    }
}

void ds_levels_fill(const double *x, size_t n, size_t from, size_t days, double *level)
{
    size_t k = days < 64 ? days : 64, d0 = from > days ? from : days;
    window win = { .m = 0, .newest_first = 0 };
    if (d0 >= n)
        return;
    for (size_t i = d0 - k; i < d0; i++)
        if (isfinite(x[i]))
            win_insert(&win, x[i]);
    for (size_t d = d0; d < n; d++) {
        if (d > d0 && k) {   /* the window of d: x[d - k, d) */
            if (isfinite(x[d - 1 - k]))
                win_remove(&win, x[d - 1 - k]);
            if (isfinite(x[d - 1]))
                win_insert(&win, x[d - 1]);
        }
        level[d] = median_sorted(win.v, win.m);
    }
}

/* ds_spike_runs_vs, with the baselines and levels from pre and level when given. */
static size_t runs(const double *x, const double *base, size_t n, size_t from, const ds_spike_rule *r,
                   const ds_baselines *pre, const double *level, ds_run *out, size_t max)
{
    /* a run's first strong day is in the period, but a ramp may reach back before it (a phenomenon
     * that began just before the period is dated when it began); never into the previous run */
    size_t nout = 0, floor_idx = 0;
    for (size_t d = from; d < n && nout < max; d++) {
        double m = 0, s = 1;
        if (!isfinite(x[d]))
            continue;
        size_t nw;
        if (pre) {
            nw = (size_t)pre->days[d];
            if (nw) {
                m = pre->median[d];
                s = pre->sigma[d];
            }
        } else {
            nw = ds_baseline(base, d, r, &m, &s);
        }
        if (nw < r->min_days)
            continue;
        if (r->level_days && d >= r->level_days) {
            double lv = level ? level[d] : level_before(x, d, r->level_days);
            if (isfinite(lv) && lv > m)
                m = lv;
        }
        double z = (x[d] - m) / s;
        if (z < r->z_start || x[d] < r->ratio_start * m)
            continue;
        /* a ramp: the days before that pass the weaker rule belong to the run; missing days (a
         * sensor that was down) neither pass nor end it */
        size_t b = d;
        for (size_t p = d; p > floor_idx;) {
            p--;
            if (!isfinite(x[p]))
                continue;
            if ((x[p] - m) / s < r->z_extend || x[p] < r->ratio_extend * m) {
                if (r->soft && r->soft[p] < 1)
                    continue;
                break;
            }
            b = p;
        }
        ds_run run = { .first = b, .last = b, .peak = b, .median = m, .sigma = s, .peak_z = (x[b] - m) / s };
        for (size_t e = b; e < n; e++) {
            if (!isfinite(x[e]))
                continue;   /* missing: the run goes on past it, and ends on a day that was seen */
            double ze = (x[e] - m) / s;
            if (e > d && (ze < r->z_extend || x[e] < r->ratio_extend * m ||
                          x[e] - m < r->peak_frac * (x[run.peak] - m))) {
                if (r->soft && r->soft[e] < 1)
                    continue;   /* partly observed: neither in the run nor its end */
                break;
            }
            if (e > d && r->level_days && e >= r->level_days) {
                /* a new jump over the level the run itself set (and that the run so far never
                 * made): a phenomenon of its own */
                double lv = level ? level[e] : level_before(x, e, r->level_days);
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
        split_touching(x, r, &run);
        trim_lead(x, r, &run);
        /* dated when the rise began, not when it crossed the start rule */
        size_t lo = run.first > r->window ? run.first - r->window : 0;
        run.onset = !r->onset_min_days || run.last + 1 - run.first < r->onset_min_days ? run.first :
                    ds_onset_back(x, lo > floor_idx ? lo : floor_idx, run.first, run.last, m, s, r->z_extend, r->ratio_extend);
        d = run.last;
        floor_idx = run.last + 1;
        if (run.excess >= r->min_excess)
            out[nout++] = run;
    }
    return nout;
}

size_t ds_spike_runs_vs(const double *x, const double *base, size_t n, size_t from, const ds_spike_rule *r, ds_run *out,
                        size_t max)
{
    return runs(x, base, n, from, r, NULL, NULL, out, max);
}

size_t ds_spike_runs_pre(const double *x, size_t n, size_t from, const ds_spike_rule *r, const ds_baselines *b,
                         const double *level, ds_run *out, size_t max)
{
    return runs(x, NULL, n, from, r, b, level, out, max);
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

void ds_workweek_fit(const double *x, size_t n, size_t phase0, ds_workweek *out)
{
    memset(out, 0, sizeof *out);
    if (phase0 >= 7)
        return;
    double wk = 0, we = 0;
    for (size_t w = (7 - phase0) % 7; w + 7 <= n; w += 7) {
        const double *y = x + w;   /* y[0] Sunday .. y[6] Saturday */
        out->weeks++;
        int seen = 1;
        for (size_t i = 0; i < 7; i++)
            seen &= isfinite(y[i]) != 0;
        if (!seen)
            continue;
        double lo = y[1], hi = y[0] > y[6] ? y[0] : y[6];
        for (size_t i = 2; i <= 5; i++)
            if (y[i] < lo)
                lo = y[i];
        out->agree += hi < lo;
        for (size_t i = 1; i <= 5; i++)
            wk += y[i] / 5;
        we += (y[0] + y[6]) / 2;
    }
    out->ratio = we > 0 ? wk / we : 0;
}

double ds_chi2_sf(double x, unsigned df)
{
    if (!(x > 0))
        return 1;
    if (df == 0 || df > 400)
        return NAN;
    /* the regularised upper incomplete gamma Q(df/2, x/2) in closed form (Abramowitz & Stegun
     * 26.4.4 and 26.4.5): a finite sum for even df, erfc plus a finite sum for odd df */
    double h = x / 2, term, sum;
    if (df % 2 == 0) {
        term = sum = 1;   /* h^i / i! */
        for (unsigned i = 1; i < df / 2; i++)
            sum += term *= h / i;
        sum *= exp(-h);
    } else {
        sum = erfc(sqrt(h));
        term = sqrt(h) * exp(-h) / 0.886226925452758;   /* h^(1/2) e^-h / Gamma(3/2) */
        for (unsigned i = 0; i < (df - 1) / 2; i++) {
            sum += term;
            term *= h / (i + 1.5);
        }
    }
    return sum < 0 ? 0 : sum > 1 ? 1 : sum;
}

int ds_friedman_run(const double *x, size_t n, size_t period, size_t phase0, ds_friedman *out)
{
    memset(out, 0, sizeof *out);
    if (period < 2 || period > 168 || phase0 >= period)
        return -1;
    double sq = 0;   /* the sum of every squared rank (ties change it) */
    for (size_t c = (period - phase0) % period; c + period <= n; c += period) {
        const double *y = x + c;
        int seen = 1;
        for (size_t i = 0; i < period && seen; i++)
            seen = isfinite(y[i]) != 0;
        if (!seen)
            continue;
        for (size_t i = 0; i < period; i++) {
            /* rank of y[i]: 1 + the samples below it + half the others equal to it */
            double below = 0, equal = 0;
            for (size_t j = 0; j < period; j++)
                if (y[j] < y[i])
                    below++;
                else if (y[j] == y[i] && j != i)
                    equal++;
            double r = 1 + below + equal / 2;
            out->rank_sum[i] += r;
            sq += r * r;
        }
        out->blocks++;
    }
    if (out->blocks < 3)
        return -1;
    double b = (double)out->blocks, k = (double)period, c = b * k * (k + 1) * (k + 1) / 4, num = 0;
    for (size_t i = 0; i < period; i++) {
        double d = out->rank_sum[i] - b * (k + 1) / 2;
        num += d * d;
    }
    /* Conover's T1: (k - 1) sum (R_i - b(k+1)/2)^2 / (A - C), A the sum of squared ranks; with
     * no ties it is Friedman's 12 / (b k (k+1)) sum R_i^2 - 3 b (k+1) */
    out->stat = sq - c > 0 ? (k - 1) * num / (sq - c) : 0;
    out->p = ds_chi2_sf(out->stat, (unsigned)period - 1);
    return 0;
}
