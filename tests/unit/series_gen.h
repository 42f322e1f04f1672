/* series_gen.h: daily series for the detector tests (test_series.c, test_cov_weights.c), drawn
 * the same way on every run, and the spike rule detect_series.c judges them by.  Static functions
 * in a header, because every tests/unit/test_X.c is a program of its own (as testdir.h). */
#ifndef DS_SERIES_GEN_H
#define DS_SERIES_GEN_H
#include <math.h>
#include <stdint.h>

#include "analysis/events_int.h"

/* A tiny deterministic generator (splitmix64) so every run sees the same series: set rng_state,
 * then draw. */
static uint64_t rng_state;
static inline double unit(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    return (double)(z >> 11) / 9007199254740992.0;
}
/* Poisson-ish count with mean m (normal approximation, never negative). */
static inline double noisy(double m)
{
    double u1 = unit(), u2 = unit();
    double g = sqrt(-2.0 * log(u1 > 0 ? u1 : 1e-12)) * cos(2 * M_PI * u2);
    double v = floor(m + sqrt(m) * g + 0.5);
    return v < 0 ? 0 : v;
}

/* The rule detect_series.c uses for spikes (its own constant, not a copy). */
#define RULE ds_series_spike_rule

#endif
