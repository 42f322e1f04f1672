/* test_cov_weights.c: time a sensor did not observe is missing, not zero (issue #19).
 *
 * cov_weights.c turns coverage into per-day weights: 1, the observed share (the day is scaled up),
 * or 0 (missing) below DS_COV_MIN_FRAC and on a day an outage begins or ends.  Checked on a
 * coverage built by hand (two sensors, one dark for ten days), then on made-up series run through
 * the spike rule (robust.c) as detect_series.c runs them:
 *
 *   - a sensor dark for ten days, counted as zeros, makes a spike of the first day back; with its
 *     days missing and its edge days missing, nothing is found;
 *   - summed over two sensors, the days one was dark show half the traffic; scaled, no run;
 *   - a real spike right after the outage is still found, on its day;
 *   - a real surge that goes on through the outage is one run, not two ending and starting at
 *     its edges, and a partly observed day that fails the rule does not end it.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "analysis/cov_weights.h"
#include "analysis/robust.h"
#include "series_gen.h"
#include "util/timeutil.h"


#define NDAYS 90
#define DAY0 19000              /* local day of index 0 (UTC in the tests) */
#define DARK0 50                /* osaka dark from 13:00 on day 50 ... */
#define DARK1 60                /* ... to 08:00 on day 60 */

/* Two sensors of 256 addresses each, COVERED every hour of NDAYS days with 500 packets, but osaka
 * (id 2) dark from DARK0 13:00 to DARK1 08:00. */
static void make_coverage(ds_coverage *c, ds_cov_sensor s[2])
{
    memset(c, 0, sizeof *c);
    memset(s, 0, 2 * sizeof *s);
    c->from = DAY0;
    c->to = DAY0 + NDAYS - 1;
    c->h0 = (int64_t)DAY0 * 24;
    c->nhours = NDAYS * 24;
    c->s = s;
    c->n = 2;
    c->data_first = c->h0 * 3600;
    c->data_last = (c->h0 + (int64_t)c->nhours) * 3600;
    for (int i = 0; i < 2; i++) {
        s[i].id = i + 1;
        snprintf(s[i].name, sizeof s[i].name, "%s", i ? "osaka" : "tokyo");
        s[i].v4_addresses = 256;
        s[i].usual = 500;
        s[i].state = malloc(c->nhours);
        s[i].packets = malloc(c->nhours * sizeof *s[i].packets);
        for (size_t h = 0; h < c->nhours; h++) {
            int dark = i == 1 && h >= DARK0 * 24 + 13 && h < DARK1 * 24 + 8;
            s[i].state[h] = dark ? DS_HOUR_OUTAGE : DS_HOUR_COVERED;
            s[i].packets[h] = dark ? 0 : 500;
        }
        s[i].mean = 500;   /* what ds_coverage_load derives: packets per covered hour */
    }
}

static void free_coverage(ds_cov_sensor s[2])
{
    for (int i = 0; i < 2; i++) {
        free(s[i].state);
        free(s[i].packets);
    }
}

static void test_day_weights(void **state)
{
    (void)state;
    ds_coverage c;
    ds_cov_sensor s[2];
    double w[NDAYS], wo[NDAYS];
    make_coverage(&c, s);
    assert_int_equal(ds_cov_known(&c), 1);
    ds_cov_day_weights(&c, 0, DAY0, DAY0 + NDAYS - 1, w);
    ds_cov_day_weights(&c, 2, DAY0, DAY0 + NDAYS - 1, wo);
    for (int d = 0; d < NDAYS; d++) {
        if (d < DARK0 || d > DARK1) {
            assert_true(w[d] == 1.0 && wo[d] == 1.0);
        } else if (d == DARK0 || d == DARK1) {   /* the outage begins or ends: missing */
            assert_true(w[d] == 0.0 && wo[d] == 0.0);
        } else {   /* tokyo alone: half the traffic, scaled; osaka alone: nothing */
            assert_true(fabs(w[d] - 0.5) < 1e-9);
            assert_true(wo[d] == 0.0);
        }
    }
    /* observed days: 10 days at a half (and the edges' shares), one sensor over its own days */
    double days = ds_cov_days(&c, 0, DAY0, DAY0 + NDAYS - 1);
    assert_true(fabs(days - (NDAYS - 0.5 * (9 + 11.0 / 24 + 8.0 / 24))) < 1e-9);
    /* no coverage, or a day outside the data: every weight 1 */
    double w1[3];
    ds_cov_day_weights(NULL, 0, DAY0, DAY0 + 2, w1);
    assert_true(w1[0] == 1 && w1[1] == 1 && w1[2] == 1);
    ds_cov_day_weights(&c, 0, DAY0 + NDAYS, DAY0 + NDAYS + 2, w1);
    assert_true(w1[0] == 1 && w1[1] == 1 && w1[2] == 1);
    /* hours: osaka dark is half for the sum, missing for osaka */
    double hw[2];
    ds_cov_hour_weights(&c, 0, c.h0 + DARK0 * 24 + 12, 2, hw);
    assert_true(hw[0] == 1.0 && fabs(hw[1] - 0.5) < 1e-9);
    ds_cov_hour_weights(&c, 2, c.h0 + DARK0 * 24 + 12, 2, hw);
    assert_true(hw[0] == 1.0 && hw[1] == 0.0);
    /* below DS_COV_MIN_FRAC: osaka with three times tokyo's traffic leaves a quarter */
    for (size_t h = 0; h < c.nhours; h++)
        s[1].packets[h] *= 3;
    s[1].mean *= 3;
    ds_cov_day_weights(&c, 0, DAY0 + DARK0 + 1, DAY0 + DARK0 + 1, w1);
    assert_true(w1[0] == 0.0);
    free_coverage(s);
}

/* One sensor's daily packets with its dark days as zeros and its edge days partial; w: weights. */
static void osaka_series(double *x, double *w)
{
    ds_coverage c;
    ds_cov_sensor s[2];
    make_coverage(&c, s);
    ds_cov_day_weights(&c, 2, DAY0, DAY0 + NDAYS - 1, w);
    free_coverage(s);
    rng_state = 19;
    for (int d = 0; d < NDAYS; d++)
        x[d] = noisy(400);
    for (int d = DARK0 + 1; d < DARK1; d++)
        x[d] = 0;
    x[DARK0] = floor(x[DARK0] * 13 / 24);
    x[DARK1] = floor(x[DARK1] * 16 / 24);
}

static size_t judge(const double *x, const double *w, ds_run *runs)
{
    ds_spike_rule r = RULE;
    r.soft = w;
    return ds_spike_runs(x, NDAYS, 28, &r, runs, 8);
}

static void test_outage_is_no_spike(void **state)
{
    (void)state;
    double x[NDAYS], w[NDAYS];
    ds_run runs[8];
    osaka_series(x, w);
    /* missing (and its partial edge days with it): nothing, before, at or after the outage */
    ds_cov_apply(x, w, NDAYS);
    for (int d = DARK0; d <= DARK1; d++)
        assert_true(isnan(x[d]));
    assert_int_equal(judge(x, w, runs), 0);
    /* a longer outage, counted as zeros, fills the baseline with them: the first days back are a
     * "spike"; missing, they are not */
    osaka_series(x, w);
    for (int d = DARK0 - 10; d < DARK1; d++) {
        x[d] = 0;
        w[d] = 0;
    }
    size_t n = ds_spike_runs(x, NDAYS, 28, &RULE, runs, 8);
    assert_true(n >= 1 && runs[0].first >= DARK1 && runs[0].first <= DARK1 + 1);
    ds_cov_apply(x, w, NDAYS);
    assert_int_equal(judge(x, w, runs), 0);
}

static void test_half_dark_sum_is_no_spike(void **state)
{
    (void)state;
    ds_coverage c;
    ds_cov_sensor s[2];
    double x[NDAYS], w[NDAYS];
    ds_run runs[8];
    make_coverage(&c, s);
    ds_cov_day_weights(&c, 0, DAY0, DAY0 + NDAYS - 1, w);
    free_coverage(s);
    rng_state = 5;
    for (int d = 0; d < NDAYS; d++) /* tokyo + osaka, osaka's share gone while it was dark */
        x[d] = noisy(300) + (d > DARK0 && d < DARK1 ? 0 : noisy(300));
    ds_cov_apply(x, w, NDAYS);
    assert_int_equal(judge(x, w, runs), 0);
}

static void test_spike_next_to_outage_found(void **state)
{
    (void)state;
    double x[NDAYS], w[NDAYS];
    ds_run runs[8];
    osaka_series(x, w);
    x[DARK1 + 1] = noisy(2400);   /* the day after the last partial day: 6x */
    x[DARK1 + 2] = noisy(2000);
    ds_cov_apply(x, w, NDAYS);
    assert_int_equal(judge(x, w, runs), 1);
    assert_int_equal(runs[0].first, DARK1 + 1);
    assert_int_equal(runs[0].last, DARK1 + 2);
}

static void test_surge_through_outage_is_one_run(void **state)
{
    (void)state;
    ds_coverage c;
    ds_cov_sensor s[2];
    double x[NDAYS], w[NDAYS];
    ds_run runs[8];
    make_coverage(&c, s);
    ds_cov_day_weights(&c, 0, DAY0, DAY0 + NDAYS - 1, w);
    free_coverage(s);
    rng_state = 11;
    for (int d = 0; d < NDAYS; d++) {
        double m = d >= DARK0 - 5 && d <= DARK1 + 5 ? 1200 : 300;   /* 4x from 5 days before to 5 after */
        int half = d > DARK0 && d < DARK1;
        x[d] = noisy(m) + (half ? 0 : noisy(m));
    }
    x[DARK0 + 3] = noisy(300);   /* one scaled day in the dark that falls back: it must not end the run */
    ds_cov_apply(x, w, NDAYS);
    assert_int_equal(judge(x, w, runs), 1);
    assert_int_equal(runs[0].first, DARK0 - 5);
    assert_int_equal(runs[0].last, DARK1 + 5);
    /* without the rule for partly observed days, the day that fell back ended it in the dark */
    assert_true(ds_spike_runs(x, NDAYS, 28, &RULE, runs, 8) >= 1 && runs[0].last < DARK1);
}

int main(void)
{
    ds_tz_use("UTC", NULL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_day_weights),
        cmocka_unit_test(test_outage_is_no_spike),
        cmocka_unit_test(test_half_dark_sum_is_no_spike),
        cmocka_unit_test(test_spike_next_to_outage_found),
        cmocka_unit_test(test_surge_through_outage_is_one_run),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
