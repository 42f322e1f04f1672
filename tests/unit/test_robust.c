/* test_robust.c: analysis/robust.c, the statistics under the spike, surge and cycle detectors.
 *
 * The series detector computes each series' baselines once (ds_baselines_fill: a sorted window
 * that slides a day at a time, the MAD merged from the halves beside the median; ds_levels_fill)
 * and searches against them (ds_spike_runs_pre), where it used to sort every day's window in
 * every search (ds_spike_runs_vs).  Both must give the same bits, or events would change with an
 * optimisation: random series (a fixed seed; NaN days, ties, -0, heavy days, every window and
 * level length) are checked day by day against the per-day baseline (ds_baseline, the path
 * ds_spike_runs_vs takes), and run by run against ds_spike_runs_vs.  ds_median switches to
 * quickselect above 64 values: checked against a plain sort on random arrays with NaN, ties and
 * signed zeros.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "analysis/robust.h"

static double rnd(void)
{
    return rand() / (double)RAND_MAX;
}

static void test_baselines_match_per_day(void **state)
{
    (void)state;
    srand(20261122);
    long bad = 0, nruns = 0, ndays = 0;
    for (int it = 0; it < 3000; it++) {
        size_t n = 20 + rand() % 300, from = rand() % n;
        double *x = malloc(n * 8), *y = malloc(n * 8), *md = malloc(n * 8), *sg = malloc(n * 8), *dy = malloc(n * 8),
               *lv = malloc(n * 8);
        int mode = rand() % 5;
        double scale = mode == 0 ? 3 : mode == 1 ? 50 : 10000;
        size_t nan_until = rand() % 3 == 0 ? rand() % n : 0;
        for (size_t i = 0; i < n; i++) {
            double v = floor(rnd() * scale);
            if (mode == 3)
                v = (rand() % 4) * 1.5;
            if (mode == 4 && rand() % 7 == 0)
                v = -0.0;
            if (rand() % 40 == 0)
                v *= 20;
            x[i] = i < nan_until || rand() % 50 == 0 ? NAN : v;
            y[i] = isfinite(x[i]) && rand() % 3 == 0 ? x[i] * 0.7 : x[i];
        }
        ds_spike_rule r = {.window = rand() % 3 ? 28 : 1 + rand() % 80,
                           .min_days = rand() % 20,
                           .z_start = 1 + rnd() * 6,
                           .ratio_start = 1 + rnd() * 2,
                           .z_extend = rnd() * 3,
                           .ratio_extend = 1 + rnd(),
                           .peak_frac = rnd() * 0.5,
                           .min_excess = 0,
                           .level_days = rand() % 2 ? 0 : 1 + rand() % 30};
        ds_baselines b = {md, sg, dy};
        ds_baselines_fill(y, n, from, &r, &b);
        for (size_t d = from; d < n; d++) {
            double m = 0, s = 1;
            size_t nw = ds_baseline(y, d, &r, &m, &s);
            ndays++;
            if (nw != (size_t)dy[d] || (nw && (memcmp(&m, &md[d], 8) || memcmp(&s, &sg[d], 8)))) {
                if (bad++ < 10)
                    print_message("baseline mismatch it %d d %zu nw %zu/%g m %g/%g s %g/%g\n", it, d, nw, dy[d], m,
                                  md[d], s, sg[d]);
            }
        }
        if (r.level_days) {
            ds_levels_fill(x, n, from, r.level_days, lv);
            for (size_t d = from > r.level_days ? from : r.level_days; d < n; d++) {
                double sc[64];
                size_t k = r.level_days < 64 ? r.level_days : 64;
                double ref = ds_median(x + d - k, k, sc);
                if (memcmp(&ref, &lv[d], 8) && !(isnan(ref) && isnan(lv[d]))) {
                    if (bad++ < 10)
                        print_message("level mismatch\n");
                }
            }
        }
        ds_run a[16], c[16];
        size_t na = ds_spike_runs_vs(x, y, n, from, &r, a, 16);
        size_t nc = ds_spike_runs_pre(x, n, from, &r, &b, r.level_days ? lv : NULL, c, 16);
        nruns += na;
        if (na != nc || memcmp(a, c, na * sizeof *a)) {
            if (bad++ < 10)
                print_message("runs mismatch it %d %zu %zu\n", it, na, nc);
        }
        free(x);
        free(y);
        free(md);
        free(sg);
        free(dy);
        free(lv);
    }
    assert_int_equal(bad, 0);
    assert_true(nruns > 1000); /* the searches found runs to compare, not only empty lists */
    assert_true(ndays > 100000);
}

static int dbl_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* The median by sorting the finite values, as ds_median did for every size. */
static double ref_median(const double *x, size_t n, double *s)
{
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (isfinite(x[i]))
            s[m++] = x[i];
    if (!m)
        return NAN;
    if (m > 64) {
        qsort(s, m, sizeof *s, dbl_cmp);
    } else {
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
    return m % 2 ? s[m / 2] : 0.5 * (s[m / 2 - 1] + s[m / 2]);
}

/* Two spikes of one country in a week, the day between them at under half of each, are two runs
 * (issue #20: the @police-style quarter reported them once); a surge's ragged plateau (longer than
 * split_max_days before the dip) stays one run, and so does a spike whose dip is shallow. */
static void test_touching_spikes(void **state)
{
    (void)state;
    enum { N = 80 };
    double x[N];
    for (size_t i = 0; i < N; i++)
        x[i] = 100 + (double)(i * 7 % 11);   /* 100-110: a baseline with some spread */
    ds_spike_rule r = { .window = 28, .min_days = 14, .z_start = 6, .ratio_start = 2.5, .z_extend = 3,
                        .ratio_extend = 1.5, .peak_frac = 0.25, .split_frac = 0.5, .split_max_days = 6 };
    ds_run runs[8];
    /* 1,000 and 800, a valley of 420 (excess ~315: over peak_frac of the first peak's, so it does not
     * end the run by itself), then 1,200 and 600 */
    x[40] = 1000, x[41] = 800, x[42] = 420, x[43] = 1200, x[44] = 600;
    size_t n = ds_spike_runs_vs(x, x, N, 30, &r, runs, 8);
    assert_int_equal(n, 2);
    assert_int_equal(runs[0].first, 40);
    assert_int_equal(runs[0].last, 41);
    assert_int_equal(runs[1].peak, 43);
    assert_true(runs[1].first >= 42 && runs[1].first <= 43);
    /* without split_frac: one run, as before */
    ds_spike_rule one = r;
    one.split_frac = 0;
    assert_int_equal(ds_spike_runs_vs(x, x, N, 30, &one, runs, 8), 1);
    /* a shallow dip (600 between 1,000 and 1,200) is one spike */
    x[42] = 600;
    assert_int_equal(ds_spike_runs_vs(x, x, N, 30, &r, runs, 8), 1);
    /* a long plateau (8 days) with a dip and a rise after it: one run (a surge is not split) */
    for (size_t i = 40; i < 48; i++)
        x[i] = 900 + (double)(i % 3) * 50;
    x[48] = 420, x[49] = 1000, x[50] = 110;
    assert_int_equal(ds_spike_runs_vs(x, x, N, 30, &r, runs, 8), 1);
}

static void test_median_quickselect(void **state)
{
    (void)state;
    static double x[1000], s1[1000], s2[1000];
    long bad = 0;
    srand(4711);
    for (int it = 0; it < 30000; it++) {
        size_t n = (size_t)(rand() % 600);
        int mode = rand() % 6;
        for (size_t i = 0; i < n; i++) {
            double v;
            switch (mode) {
            case 0:
                v = rand() % 3;
                break;
            case 1:
                v = rand() % 1000;
                break;
            case 2:
                v = (rand() % 5) - 2;
                break;
            case 3:
                v = rnd();
                break;
            case 4:
                v = (rand() % 2) ? 0.0 : -0.0;
                if (rand() % 3 == 0)
                    v = rand() % 4;
                break;
            default:
                v = (double)i;
                break;
            }
            if (rand() % 30 == 0)
                v = NAN;
            if (mode == 5 && rand() % 2)
                v = (double)(n - i);
            x[i] = v;
        }
        double a = ref_median(x, n, s1), b = ds_median(x, n, s2);
        if (memcmp(&a, &b, sizeof a) != 0 && !(isnan(a) && isnan(b)) && bad++ < 5)
            print_message("median mismatch: n %zu mode %d: %g against %g\n", n, mode, a, b);
    }
    assert_int_equal(bad, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_baselines_match_per_day),
        cmocka_unit_test(test_median_quickselect),
        cmocka_unit_test(test_touching_spikes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
