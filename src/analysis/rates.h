/* rates.h: the denominator of every "packets per address per day": covered address-days.
 *
 * A sensor that was down saw nothing because it was down, not because nobody scanned, so a rate
 * divides by the address-days the sensors were observing (analysis/coverage.h), not by monitored
 * addresses x calendar days.  `top`, `report` and their JSON state rates this way.
 */
#ifndef DS_RATES_H
#define DS_RATES_H
#include <stdint.h>

#include "store/store.h"
#include "util/config.h"
#include "util/result.h"

/* Covered IPv4 address-days of one sensor (sensor_id > 0) or of all over local days [from, to]
 * (ds_coverage_addr_days); cfg (may be NULL) supplies declared outages.  A store that keeps no
 * coverage (a backend without coverage_scan, or a store without a single coverage row) falls back
 * to monitored addresses x days. */
ds_rc ds_rate_addr_days(ds_store *st, const ds_config *cfg, int64_t sensor_id, int32_t from, int32_t to,
                        double *addr_days, ds_err *err);

/* packets / addr_days, 0 when addr_days is not positive. */
double ds_rate_per_addr_day(uint64_t packets, double addr_days);

#endif
