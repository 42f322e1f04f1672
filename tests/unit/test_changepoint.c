/* test_changepoint.c: surges dated where their rise began (src/analysis/changepoint.c, issue #20).
 *
 * A surge modelled on @police's July 2009 1521/tcp (a quiet service that rises from one date and
 * surges nine days later) is dated on the day of the rise, not on the day it crossed the start
 * rule; a surge with no lead-in keeps its first day; one mildly high day before a surge, a level
 * held longer than the run, a spike after a ramp, and noise do not move a start back.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "analysis/changepoint.h"
#include "analysis/robust.h"
#include "series_gen.h"

/* 0.5 packets a day, then a rise to ~20 a day from day `rise`, a surge to ~300 a day from day
 * `surge` for `len` days */
static void slow_then_surge(double *x, size_t n, size_t rise, size_t surge, size_t len)
{
    for (size_t i = 0; i < n; i++)
        x[i] = i >= surge && i < surge + len ? noisy(300) : i >= rise && i < surge ? noisy(20) : noisy(0.5);
}

static void test_slow_rise_dated_at_rise(void **state)
{
    (void)state;
    double x[140];
    rng_state = 2009;
    slow_then_surge(x, 140, 61, 70, 25);
    ds_run runs[8];
    size_t n = ds_spike_runs(x, 140, 28, &RULE, runs, 8);
    assert_int_equal(n, 1);
    assert_int_equal(runs[0].first, 70);     /* the rise is a fifteenth of the peak: trimmed */
    assert_int_equal(runs[0].onset, 61);     /* ... but it is where the surge began */
    assert_int_equal(runs[0].last, 94);
}

static void test_step_keeps_first(void **state)
{
    (void)state;
    double x[140];
    rng_state = 3;
    for (size_t i = 0; i < 140; i++)
        x[i] = noisy(400) + (i >= 70 && i < 90 ? 1600 : 0);
    ds_run runs[8];
    assert_int_equal(ds_spike_runs(x, 140, 28, &RULE, runs, 8), 1);
    assert_int_equal(runs[0].first, 70);
    assert_int_equal(runs[0].onset, 70);
}

/* one day a heavy host kept high just before a surge is not its start (trim_lead's reason) */
static void test_one_high_day_not_a_rise(void **state)
{
    (void)state;
    double x[140];
    rng_state = 11;
    for (size_t i = 0; i < 140; i++)
        x[i] = noisy(400) + (i >= 70 && i < 90 ? 3000 : 0);
    x[69] = 1.6 * 400 + 40;
    ds_run runs[8];
    assert_int_equal(ds_spike_runs(x, 140, 28, &RULE, runs, 8), 1);
    assert_int_equal(runs[0].onset, 70);
}

/* a plateau held longer than the run, and the lead-in of a spike, stay the run's own */
static void test_plateau_and_spike_kept(void **state)
{
    (void)state;
    double x[140];
    ds_run runs[8];
    rng_state = 5;
    for (size_t i = 0; i < 140; i++)   /* 20 days at 2x, then 8 days at 12x */
        x[i] = noisy(200) + (i >= 50 && i < 78 ? 200 : 0) + (i >= 70 && i < 78 ? 2200 : 0);
    size_t n = ds_spike_runs(x, 140, 28, &RULE, runs, 8);
    assert_true(n >= 1);
    assert_int_equal(runs[n - 1].first, 70);
    assert_true(runs[n - 1].onset >= 70 - 8);   /* no further back than the run is long */
    rng_state = 6;
    for (size_t i = 0; i < 140; i++)   /* a 3-day ramp at 2x, then a 3-day spike: a spike's start is its jump */
        x[i] = noisy(200) + (i >= 67 && i < 70 ? 250 : 0) + (i >= 70 && i < 73 ? 2500 : 0);
    n = ds_spike_runs(x, 140, 28, &RULE, runs, 8);
    assert_int_equal(n, 1);
    assert_int_equal(runs[0].onset, runs[0].first);
}

/* Noise alone never moves a start back: 500 series of Poisson noise with a 10-day step, each
 * dated on the step's first day (or on the day before, when it passes the ramp rule by chance). */
static void test_noise_does_not_move(void **state)
{
    (void)state;
    double x[120];
    ds_run runs[8];
    rng_state = 99;
    size_t found = 0;
    for (int it = 0; it < 500; it++) {
        double lvl = 5 + 500 * unit();
        for (size_t i = 0; i < 120; i++)
            x[i] = noisy(lvl) + (i >= 80 && i < 90 ? noisy(5 * lvl) : 0);
        size_t n = ds_spike_runs(x, 120, 28, &RULE, runs, 8);
        for (size_t k = 0; k < n; k++)
            if (runs[k].last >= 80 && runs[k].first <= 89) {
                found++;
                assert_true(runs[k].onset + 1 >= 80);
            }
    }
    assert_true(found >= 490);
}

static void test_onset_bounds(void **state)
{
    (void)state;
    double x[40];
    for (size_t i = 0; i < 40; i++)
        x[i] = i < 20 ? 10 : 100;
    /* a rise of 10 days before a run of 10 days [30, 39]: found */
    assert_int_equal(ds_onset_back(x, 0, 30, 39, 10, 3, 3, 1.5), 20);
    /* a run of 5 days reaches back 5 at most */
    assert_int_equal(ds_onset_back(x, 0, 30, 34, 10, 3, 3, 1.5), 25);
    /* not into an earlier run (lo) */
    assert_int_equal(ds_onset_back(x, 27, 30, 39, 10, 3, 3, 1.5), 27);
    /* missing days are skipped, and a lead-in of one observed day is not a rise */
    for (size_t i = 20; i < 29; i++)
        x[i] = NAN;
    assert_int_equal(ds_onset_back(x, 0, 30, 39, 10, 3, 3, 1.5), 30);
    assert_int_equal(ds_onset_back(x, 0, 0, 39, 10, 3, 3, 1.5), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_slow_rise_dated_at_rise), cmocka_unit_test(test_step_keeps_first),
        cmocka_unit_test(test_one_high_day_not_a_rise),  cmocka_unit_test(test_plateau_and_spike_kept),
        cmocka_unit_test(test_noise_does_not_move),      cmocka_unit_test(test_onset_bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
