/* weekly_rule.c: see weekly_rule.h. */
#include "analysis/weekly_rule.h"

#include <math.h>
#include <string.h>

/* P(X >= k) for X ~ Binomial(n, p): how often noise makes k of n cycles peak at one phase. */
static double by_chance(size_t n, size_t k, double p)
{
    double sum = 0, term = pow(1 - p, (double)n);   /* P(X = 0) */
    for (size_t i = 0; i <= n; i++) {
        if (i >= k)
            sum += term;
        term *= (double)(n - i) / (double)(i + 1) * p / (1 - p);
    }
    return sum;
}

/* The weekly recurrence test: the weeks peaking on the profile's weekday, out of the weeks with
 * data and those an outage left out, reach WEEKLY_CONSISTENCY; when some hour of the period was
 * not fully observed (dark), also a binomial tail of at most WEEKLY_CHANCE over at least
 * WEEKLY_MIN_WEEKS weeks seen.  Without an outage the rule is the one tuned on the seeds (a
 * month-long query's weekly cycles are mostly noise either way: docs/detection.md). */
static int weekly_recurs(const ds_cycle_fit *f, size_t dark_weeks, int dark)
{
    size_t weeks = f->cycles + dark_weeks, agree = (size_t)llround(f->consistency * (double)f->cycles);
    if ((double)agree / (double)weeks < WEEKLY_CONSISTENCY)
        return 0;
    return !dark || (f->cycles >= WEEKLY_MIN_WEEKS && by_chance(weeks, agree, 1.0 / 7) <= WEEKLY_CHANCE);
}

/* The working-week test (robust.h, ds_workweek_fit): Saturday and Sunday the two quietest days in
 * as many weeks as noise reaches with a binomial tail of at most WORKWEEK_CHANCE for p = 1/21 (an
 * outage's weeks count as weeks that did not), and the weekdays WORKWEEK_RATIO x the weekend.  No
 * share of the weeks is asked for besides: a working week on top of a service's own traffic has
 * the weekend quietest in 5 of 13 weeks (38%; seeds 7 and 12), which noise does 0.02% of the time. */
static int workweek(const ds_workweek *w, size_t dark_weeks)
{
    size_t weeks = w->weeks + dark_weeks;
    return weeks >= WEEKLY_MIN_WEEKS && by_chance(weeks, w->agree, 1.0 / 21) <= WORKWEEK_CHANCE &&
           w->ratio >= WORKWEEK_RATIO;
}

/* The profile's two quietest days are Saturday and Sunday, and its weekdays WORKWEEK_RATIO x them. */
static int profile_workweek(const ds_cycle_fit *f)
{
    const double *p = f->profile;   /* p[0] Sunday .. p[6] Saturday */
    double wk = 0, hi = p[0] > p[6] ? p[0] : p[6];
    for (size_t i = 1; i <= 5; i++) {
        if (p[i] <= hi)
            return 0;
        wk += p[i] / 5;
    }
    return wk >= WORKWEEK_RATIO * (p[0] + p[6]) / 2;
}

int ds_weekly_judge(const double *daily, size_t ndays, size_t wd0, size_t dark_weeks, int dark, ds_weekly *out)
{
    memset(out, 0, sizeof *out);
    out->rank_p = 1;
    if (wd0 >= 7 || ds_cycle_fit_run(daily, ndays, 7, wd0, 0, &out->f) != 0)
        return 0;
    ds_friedman fr;
    if (ds_friedman_run(daily, ndays, 7, wd0, &fr) == 0)
        out->rank_p = fr.p;
    ds_workweek_fit(daily, ndays, wd0, &out->ww);
    int peaks = out->f.peak_ratio >= WEEKLY_PEAK_RATIO;
    int one_day = peaks && weekly_recurs(&out->f, dark_weeks, dark);
    int ww = peaks && workweek(&out->ww, dark_weeks), pww = profile_workweek(&out->f);
    out->by_acf = out->f.acf > WEEKLY_ACF && (one_day || ww);
    out->by_rank = out->rank_p <= WEEKLY_RANK_P && (peaks || pww);
    out->workweek = !one_day && (ww || pww);
    return out->by_acf || out->by_rank;
}
