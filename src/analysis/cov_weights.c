/* cov_weights.c: see cov_weights.h. */
#include "analysis/cov_weights.h"

#include <math.h>
#include <stddef.h>

#include "util/timeutil.h"

/* A sensor's share of a day is "all" or "nothing" within one hour's worth: coverage is kept per
 * hour, so a share strictly between is an outage's first or last day. */
#define WHOLE_EPS (0.5 / 25.0)

int ds_cov_known(const ds_coverage *c)
{
    return c && c->n && c->data_last > c->data_first;
}

/* 1 when local day `day` lies wholly outside the store's covered data (nothing to say about it). */
static int outside_data(const ds_coverage *c, int32_t day)
{
    return day < ds_day_of(c->data_first) || day > ds_day_of(c->data_last - 1);
}

static int in_scope(const ds_cov_sensor *s, int64_t sensor_id)
{
    return !sensor_id || s->id == sensor_id;
}


/* The observed share of day `day` for the query's sensors, weighted by each one's usual traffic
 * (what the sum over sensors loses when that sensor is dark); by addresses (coverage.h) when no
 * sensor of the query has traffic to weigh by. */
static double share(const ds_coverage *c, int64_t sensor_id, int32_t day)
{
    if (sensor_id)
        return ds_coverage_day_frac(c, sensor_id, day);
    double num = 0, den = 0;
    for (size_t i = 0; i < c->n; i++) {
        double r = c->s[i].mean;
        num += r * ds_coverage_day_frac(c, c->s[i].id, day);
        den += r;
    }
    return den > 0 ? num / den : ds_coverage_day_frac(c, 0, day);
}

static double day_weight(const ds_coverage *c, int64_t sensor_id, int32_t day)
{
    if (!ds_cov_known(c) || outside_data(c, day))
        return 1.0;
    for (size_t i = 0; i < c->n; i++) {
        if (!in_scope(&c->s[i], sensor_id))
            continue;
        double f = ds_coverage_day_frac(c, c->s[i].id, day);
        if (f > WHOLE_EPS && f < 1.0 - WHOLE_EPS)
            return 0.0;   /* an outage begins or ends this day */
    }
    double f = share(c, sensor_id, day);
    return f >= 1.0 - WHOLE_EPS ? 1.0 : f >= DS_COV_MIN_FRAC ? f : 0.0;
}

void ds_cov_day_weights(const ds_coverage *c, int64_t sensor_id, int32_t from, int32_t to, double *w)
{
    for (int32_t d = from; d <= to; d++)
        w[d - from] = day_weight(c, sensor_id, d);
}

void ds_cov_hour_weights(const ds_coverage *c, int64_t sensor_id, int64_t hour0, size_t n, double *w)
{
    /* weighted by each sensor's usual traffic (its mean); past 64 sensors, by addresses */
    size_t nr = ds_cov_known(c) && !sensor_id && c->n <= 64 ? c->n : 0;
    double den = 0;
    for (size_t i = 0; i < nr; i++)
        den += c->s[i].mean;
    for (size_t k = 0; k < n; k++) {
        int64_t hour = hour0 + (int64_t)k;
        if (!ds_cov_known(c) || hour * 3600 < c->data_first || hour * 3600 >= c->data_last) {
            w[k] = 1.0;
            continue;
        }
        double f;
        if (sensor_id || den <= 0 || !nr) {
            f = ds_coverage_hour_frac(c, sensor_id, hour);
        } else {
            double num = 0;
            for (size_t i = 0; i < nr; i++)
                num += c->s[i].mean * ds_coverage_hour_frac(c, c->s[i].id, hour);
            f = num / den;
        }
        w[k] = f >= 1.0 - 1e-9 ? 1.0 : f >= DS_COV_MIN_FRAC ? f : 0.0;
    }
}

double ds_cov_days(const ds_coverage *c, int64_t sensor_id, int32_t from, int32_t to)
{
    double sum = 0;
    for (int32_t d = from; d <= to; d++)
        sum += !ds_cov_known(c) || outside_data(c, d) ? 1.0 : share(c, sensor_id, d);
    return sum;
}

void ds_cov_apply(double *x, const double *w, size_t n)
{
    for (size_t d = 0; d < n; d++)
        if (w[d] <= 0)
            x[d] = NAN;
        else if (w[d] < 1.0 && isfinite(x[d]))
            x[d] /= w[d];
}
