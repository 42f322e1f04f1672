/* rates.c: covered address-days for per-address-per-day rates (see rates.h). */
#include "analysis/rates.h"

#include <stdlib.h>

#include "analysis/coverage.h"

double ds_rate_per_addr_day(uint64_t packets, double addr_days)
{
    return addr_days > 0 ? (double)packets / addr_days : 0.0;
}

/* Monitored addresses x days: the denominator where no coverage is kept. */
static ds_rc calendar_addr_days(ds_store *st, int64_t sensor_id, int32_t from, int32_t to, double *addr_days,
                                ds_err *err)
{
    ds_sensor_info *si = NULL;
    size_t n = 0;
    ds_rc rc = ds_store_sensors(st, &si, &n, err);
    if (rc != DS_OK)
        return rc;
    for (size_t i = 0; i < n; i++)
        if (!sensor_id || si[i].id == sensor_id)
            *addr_days += (double)si[i].v4_addresses * (double)(to - from + 1);
    free(si);
    return DS_OK;
}

ds_rc ds_rate_addr_days(ds_store *st, const ds_config *cfg, int64_t sensor_id, int32_t from, int32_t to,
                        double *addr_days, ds_err *err)
{
    ds_coverage *cov = NULL;
    *addr_days = 0;
    if (to < from)
        return DS_OK;
    if (!ds_store_keeps(st, DS_KEEPS_COVERAGE))   /* a backend that keeps no coverage: every calendar day counts */
        return calendar_addr_days(st, sensor_id, from, to, addr_days, err);
    ds_rc rc = ds_coverage_load(st, cfg, from, to, &cov, err);
    if (rc != DS_OK)
        return rc;
    if (!cov->data_first && !cov->data_last)   /* the store holds no coverage row at all */
        rc = calendar_addr_days(st, sensor_id, from, to, addr_days, err);
    else
        *addr_days = ds_coverage_addr_days(cov, sensor_id, from, to);
    ds_coverage_free(cov);
    return rc;
}
