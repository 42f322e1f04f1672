/* robust.h: the statistics under the time-series detectors (detect_series.c, detect_periodic.c).
 *
 * Pure functions over arrays of doubles, with no store, so the unit tests can plant a spike or a
 * cycle in a made-up series and check exactly what is found.  Missing days (before the store's
 * first day) are NaN and are left out of every baseline.
 *
 *  - median and MAD: the baseline of a day is the median of the days before it, its spread
 *    1.4826 x the median absolute deviation (a consistent estimate of the standard deviation
 *    for Gaussian data that one outlier cannot move; Rousseeuw & Croux 1993), and the robust
 *    z-score is (x - median) / spread (Iglewicz & Hoaglin 1993's "modified z-score").
 *  - spike runs: days whose robust z and ratio to the baseline pass a start rule, extended over
 *    the following days while a weaker rule holds (hysteresis, so one spike is one run), with a
 *    seasonal baseline: the larger of the trailing window's median and the median of the same
 *    weekday in the trailing weeks, so a service that is busy every Tuesday is not a spike every
 *    Tuesday.
 *  - periodicity: autocorrelation at a lag (Box & Jenkins), the mean profile over a cycle (hour
 *    of day, day of week) after removing each cycle's level, and how many cycles peak at the
 *    profile's peak, which noise and single bursts rarely repeat.
 */
#ifndef DS_ROBUST_H
#define DS_ROBUST_H
#include <stddef.h>

/* 1.4826 = 1 / Phi^-1(3/4): MAD x 1.4826 estimates sigma for normal data. */
#define DS_MAD_SIGMA 1.4826

/* Median of the finite values of x[0..n) (NaN are skipped); NaN when there are none.  scratch
 * holds n doubles; x is not changed. */
double ds_median(const double *x, size_t n, double *scratch);
/* Median absolute deviation around med of the finite values of x[0..n); scratch as above. */
double ds_mad(const double *x, size_t n, double med, double *scratch);

typedef struct ds_spike_rule {
    size_t window;          /* trailing days in the baseline (28) */
    size_t min_days;        /* fewest finite baseline days to judge a day at all (14) */
    double z_start;         /* robust z a run's first day must reach */
    double ratio_start;     /* and x >= ratio_start x baseline median */
    double z_extend;        /* later days stay in the run while z >= z_extend */
    double ratio_extend;    /*   and x >= ratio_extend x median */
    double peak_frac;       /*   and x - median >= peak_frac x (the run's peak so far - median): a spike
                             *   ends when it falls back, even if a heavy-tail source keeps the day high */
    double min_excess;      /* a run whose summed excess over the median is below this is dropped */
    size_t onset_min_days;  /* > 0: a run of at least this many days is dated where its rise began
                             *   (changepoint.h): a surge's start; 0: where it passed the rules */
    size_t level_days;      /* > 0: the median is raised to that of the series itself over this many
                             *   days before (ds_spike_runs_vs: the level another base left out) */
    double split_frac;      /* > 0: two spikes that touch are two runs: a run of at most 2 x
                             *   split_max_days + 1 days ends before its deepest fully observed inner
                             *   day when that day's excess is below split_frac x the excess of the
                             *   highest day on each side, each side is at most split_max_days long
                             *   and the later side's peak passes the start rule itself.  Longer runs
                             *   (a surge, a host's weeks) are never cut. */
    size_t split_max_days;
    const double *soft;     /* NULL, or per day of the series: below 1, a day only partly observed and
                             *   scaled up (cov_weights.h), which may extend a run but not end it: a
                             *   host whose packets fell on the dark sensor's addresses is not a spike
                             *   that ended.  Missing days (NaN) never end a run either. */
} ds_spike_rule;

typedef struct ds_run {
    size_t first, last;     /* indexes into the series, inclusive */
    size_t onset;           /* where the rise began (changepoint.h): first, or before it when the
                             *   days before rose significantly (never before the baseline window) */
    size_t peak;            /* index of the largest value */
    double median, sigma;   /* the baseline the run was judged against (frozen at its start) */
    double peak_z;          /* robust z of the peak */
    double total, excess;   /* sum of x over the run, and of x - median */
} ds_run;

/* Spread used in the z-score: 1.4826 x MAD, but at least sqrt(median) (Poisson counting noise,
 * which a quiet series' MAD of 0 or 1 would hide) and at least 1. */
double ds_robust_sigma(double median, double mad);

/* The baseline of day d of x, computed for that day alone: median and spread (ds_robust_sigma of
 * the MAD) of the finite days of the r->window days before it, the median raised to that of the
 * same weekday in the window when higher.  Returns the finite days (0: no baseline, med and
 * sigma untouched).  ds_spike_runs_vs takes each day's baseline this way; ds_baselines_fill must
 * give the same bits (test_robust). */
size_t ds_baseline(const double *x, size_t d, const ds_spike_rule *r, double *med, double *sigma);

/* Runs in x[from..n) judged against the trailing baseline; x[0..from) is baseline only.
 * Returns the number of runs written to out (at most max). */
size_t ds_spike_runs(const double *x, size_t n, size_t from, const ds_spike_rule *r, ds_run *out, size_t max);
/* The same, with each day's baseline taken from base[] (same length and days as x) instead of x
 * itself: detect_series.c judges a service's packets against the trailing days of the same series
 * with each day's largest source held to its usual size, so that one heavy scanner's weeks do not
 * widen the baseline (and so hide a spike) or count as the spike. */
size_t ds_spike_runs_vs(const double *x, const double *base, size_t n, size_t from, const ds_spike_rule *r, ds_run *out,
                        size_t max);

/* The baselines of one series for every day of [from, n), computed once with a sliding window
 * (a sorted copy of the trailing days, updated by one insertion and one removal a day, instead of
 * a sort per day and per search) for several searches against the same base: exactly the
 * median, spread and finite-day count each search would compute itself.  Memory is the caller's:
 * three arrays of n doubles, indexed by day (entries before `from` are not set). */
typedef struct ds_baselines {
    double *median, *sigma;
    double *days;           /* finite days in the window (0: none, no baseline) */
} ds_baselines;
void ds_baselines_fill(const double *base, size_t n, size_t from, const ds_spike_rule *r, ds_baselines *out);
/* The median of the `days` (at most 64) days before each day d of [from, n) with d >= days, into
 * level[d] (the level ds_spike_runs_vs compares with when r->level_days is days); other entries
 * are not set. */
void ds_levels_fill(const double *x, size_t n, size_t from, size_t days, double *level);
/* ds_spike_runs_vs with the baselines of base (ds_baselines_fill, same rule window) and, when
 * r->level_days, the levels of x (ds_levels_fill) precomputed: the same runs. */
size_t ds_spike_runs_pre(const double *x, size_t n, size_t from, const ds_spike_rule *r, const ds_baselines *b,
                         const double *level, ds_run *out, size_t max);

/* Sample autocorrelation of the finite series x[0..n) at lag (0 when undefined). */
double ds_acf(const double *x, size_t n, size_t lag);

typedef struct ds_cycle_fit {
    double acf;             /* autocorrelation at the cycle's lag, after removing each cycle's mean */
    double peak_ratio;      /* profile maximum / profile mean */
    size_t peak;            /* phase (0..period-1) of the profile's maximum */
    double consistency;     /* share of full cycles whose own maximum is within +-tol of `peak` */
    size_t cycles;          /* full cycles used */
    size_t above;           /* phases whose profile is at or above the profile mean (how broad) */
    double profile[168];    /* mean of x / cycle mean per phase (period <= 168) */
} ds_cycle_fit;

/* Fit a cycle of `period` samples (24: hours of a day; 7: days of a week) to x[0..n), where
 * x[0] has phase `phase0`.  Each cycle is divided by its own mean (the level changes from day to
 * day; the shape is what repeats).  Cycles with a mean of zero are skipped.  tol: phases either
 * side of the peak that still count as "the same peak" for the consistency.  Returns 0, or -1
 * when fewer than 3 cycles have data or period is out of range. */
int ds_cycle_fit_run(const double *x, size_t n, size_t period, size_t phase0, size_t tol, ds_cycle_fit *out);

/* Peak / mean of the profile after a circular 3-point running median: one phase that stands
 * alone (a sweep that runs minutes at the same hour every day, on top of a flat service) drops
 * out, a cycle that rises and falls over hours stays.  Tukey's running median (Tukey 1977). */
double ds_cycle_smooth_ratio(const ds_cycle_fit *f, size_t period);

/* A working week (Monday to Friday high, the weekend low) in a daily series whose x[0] is weekday
 * phase0 (0 Sunday): in each full week (Sunday to Saturday) with all 7 days seen, whether Saturday
 * and Sunday are the two quietest days.  Five similar busy days split the weeks' single peaks
 * (ds_cycle_fit_run's consistency), but not this: noise makes the weekend the two quietest days of a
 * week with probability 2!5!/7! = 1/21.  weeks: full weeks in x; agree: those that did; ratio: mean
 * of the weekdays / mean of the weekend days over the weeks seen (0 when the weekend is 0). */
typedef struct ds_workweek { size_t weeks, agree; double ratio; } ds_workweek;
void ds_workweek_fit(const double *x, size_t n, size_t phase0, ds_workweek *out);

/* Friedman's rank test (Friedman 1937; Conover, "Practical Nonparametric Statistics", 3rd ed.,
 * 1999, s. 5.8) that the phases of a cycle differ: x[0..n) cut into cycles of `period` samples
 * from the first sample of phase 0 (x[0] has phase phase0), each full cycle with every sample
 * finite a block, its samples ranked within it (ties get their mean rank).  Ranks within a cycle
 * ignore its level and one outlier moves one rank, so neither a trend nor a spike of a few days
 * looks like a cycle, and no sign of an autocorrelation is needed.  Under "no phase differs from
 * another" every ordering of a cycle is equally likely, whatever the distribution: the p-value
 * (tie-corrected statistic T1, chi-square with period - 1 degrees of freedom) is the rate at which
 * noise passes.  blocks: cycles used; rank_sum[i]: the sum of phase i's ranks.  Returns 0, or -1
 * when fewer than 3 cycles are complete or period is out of range (2..168). */
typedef struct ds_friedman { size_t blocks; double stat, p; double rank_sum[168]; } ds_friedman;
int ds_friedman_run(const double *x, size_t n, size_t period, size_t phase0, ds_friedman *out);
/* P(X >= x) for X chi-square with df degrees of freedom (1..400), for the test above. */
double ds_chi2_sf(double x, unsigned df);

#endif
