/* weekly_rule.h: whether a daily series has a weekly cycle (`periodic_weekly`, detect_periodic.c).
 *
 * A pure function of the series, so the unit tests can hand it the series that were missed
 * (tests/unit/test_series.c).  Two ways to accept (docs/detection.md, "Daily and weekly cycles"):
 *
 *  - the autocorrelation way (the rule tuned on seeds 1-11): the lag-7 autocorrelation of the
 *    week-normalised series is positive, the profile peaks >= WEEKLY_PEAK_RATIO x its mean, and
 *    week by week either the peak weekday recurs (45% of the weeks; with an outage, also a binomial
 *    tail <= 1%) or Saturday and Sunday are the two quietest days in as many weeks as noise
 *    (p = 1/21 a week) reaches with at most WORKWEEK_CHANCE;
 *  - the rank way: Friedman's test (robust.h, ds_friedman_run) rejects "no weekday differs from
 *    another" at WEEKLY_RANK_P, and the profile peaks >= WEEKLY_PEAK_RATIO x its mean or is a
 *    working week (its two quietest days Saturday and Sunday, its weekdays >= WORKWEEK_RATIO x
 *    them).  The autocorrelation is a mean product of deviations: a few weeks with a burst of
 *    several days make it negative under a clear Monday-Friday cycle (seed 7, 5432/tcp from SG:
 *    -0.06); the week-by-week counts use one or two days of each week, the ranks all seven.
 *
 * A cycle is a working week (no single peak weekday) when the weekend is quietest by either test
 * and no weekday recurs as the peak; otherwise its peak weekday is the profile's.
 */
#ifndef DS_WEEKLY_RULE_H
#define DS_WEEKLY_RULE_H
#include <stddef.h>

#include "analysis/robust.h"

#define WEEKLY_ACF 0.0          /* the autocorrelation way: positive */
#define WEEKLY_RANK_P 1e-3      /* the rank way: Friedman's p <= 0.001.  Under "no weekday differs" every
                                 * ordering of a week is equally likely, so noise passes 0.1% of the
                                 * time: with 2 x 50 series a query, 0.1 false cycles a query at most
                                 * (0 of 2,893 unplanted series on seeds 1-40 passed it) */
#define WEEKLY_PEAK_RATIO 1.2   /* a working-week pattern (Mon-Fri high) peaks lower than one busy day */
#define WEEKLY_CONSISTENCY 0.45 /* 6 of 13 weeks: P(X >= 6) = 0.5% for the 1/7 chance of noise */
#define WEEKLY_CHANCE 0.01      /* when some sensor was dark in the period: also as many weeks as noise
                                 * reaches with at most 1% probability (binomial, p = 1/7), the same 6
                                 * weeks as the 45% at 12 and 13 weeks (6 of 13: 0.6%), but 5 of 8 rather
                                 * than 4 (1.8%) when the outage leaves fewer weeks */
#define WORKWEEK_CHANCE 1e-3    /* a working week: the weekend the two quietest days in as many weeks as noise
                                 * (p = 1/21 a week) reaches with at most 0.1% (5 of 13 weeks: 0.02%) */
#define WORKWEEK_RATIO 1.2      /* and Monday-Friday at least 1.2x the weekend days */
#define WEEKLY_MIN_WEEKS 4      /* at least 4 weeks seen: 3 weeks peak on one weekday by chance 0.3% of the
                                 * time, a false cycle every third month with 100 series judged */

typedef struct ds_weekly {
    ds_cycle_fit f;             /* the week-normalised profile, its peak and recurrence */
    ds_workweek ww;             /* weeks whose two quietest days were the weekend */
    double rank_p;              /* Friedman's p (1 when fewer than 3 full weeks were seen) */
    int by_acf, by_rank;        /* which way accepted it */
    int workweek;               /* a working week: no single peak weekday */
} ds_weekly;

/* daily[0..ndays) is packets per local day, daily[0] weekday wd0 (0 Sunday), NaN for a day left
 * out; dark_weeks: whole weeks an outage left out (they count as weeks that did not agree); dark:
 * some hour of the period was not fully observed.  Returns 1 when it has a weekly cycle; *out is
 * filled either way (for the debug line and the evidence). */
int ds_weekly_judge(const double *daily, size_t ndays, size_t wd0, size_t dark_weeks, int dark, ds_weekly *out);

#endif
