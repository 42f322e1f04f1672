/* coverage.h: which hours each sensor was observing, and the rates that follow from it.
 *
 * A darknet's numbers are "packets per monitored address per day".  The days that count are the
 * days a sensor was capturing, not the days of the calendar: a sensor that was down for ten days
 * saw nothing because it was down, not because nobody scanned.  So every rate divides by
 * *covered address-days*, every baseline skips uncovered hours, and a report names each outage.
 *
 * What the store knows (store.h, ds_coverage_row): for each ingested file and each sensor it
 * could have fed, the span the file observed (first to last packet; a live sensor's segment; a
 * pcapng interface's statistics; or a span declared with `ingest --covers`) and the packets the
 * sensor received in each UTC hour of it.  From that, per sensor and UTC hour:
 *
 *   DS_HOUR_NODATA     no file observed this hour for this sensor (before the data, after it,
 *                      or between files that do not meet);
 *   DS_HOUR_COVERED    observed: the sensor was capturing;
 *   DS_HOUR_OUTAGE     observed by some file's span, but the sensor received nothing in an hour
 *                      where its usual rate makes an empty hour practically impossible (the
 *                      principle IODA uses to detect outages from darknet traffic): inferred;
 *   DS_HOUR_DECLARED   declared down in the configuration (`[sensor.NAME] outage = FROM..TO`),
 *                      whatever the data says.
 *
 * Only DS_HOUR_COVERED hours count.  Hours are UTC; a local day's coverage is the covered share
 * of its seconds (a day of 23 or 25 hours, fully covered, is one day).
 */
#ifndef DS_COVERAGE_H
#define DS_COVERAGE_H
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"
#include "util/config.h"
#include "util/result.h"

enum { DS_HOUR_NODATA = 0, DS_HOUR_COVERED = 1, DS_HOUR_OUTAGE = 2, DS_HOUR_DECLARED = 3 };

/* A run of empty hours (in a plain capture's span) is an outage when the packets the sensor
 * would usually have received in it are at least this many: a Poisson stream leaves such a run
 * empty with probability e^-20 ~ 2e-9, and real darknet traffic, the sum of thousands of
 * independent scanners, is at least as steady (coverage.c explains the two rates). */
#define DS_COVERAGE_MIN_EXPECTED 20.0

typedef struct ds_cov_sensor {
    int64_t id;                 /* store sensor id */
    char name[64];
    uint64_t v4_addresses;      /* monitored IPv4 addresses (as last configured) */
    double usual;               /* quiet hourly rate (10th percentile of the hours of active days,
                                 * empty hours included); 0: none */
    double usual_day;           /* median packets a day of active days; 0: none */
    double mean;                /* packets per covered hour over the loaded hours (0: none): how much
                                 * the sum over sensors loses when this one is dark */
    uint8_t *state;             /* [nhours] DS_HOUR_* of UTC hour h0 + i */
    uint32_t *packets;          /* [nhours] packets received in that hour */
} ds_cov_sensor;

typedef struct ds_coverage {
    int32_t from, to;           /* local days asked for */
    int64_t h0;                 /* first UTC hour held (unix seconds / 3600); hours around the period
                                 * are held for context */
    size_t nhours;
    ds_cov_sensor *s;
    size_t n;
    int64_t data_first, data_last;  /* unix seconds of the first and last covered hour in the store
                                     * (0, 0 when the store covers nothing) */
} ds_coverage;

/* A span of DS_HOUR_OUTAGE, DS_HOUR_DECLARED or (inside the store's data) DS_HOUR_NODATA hours of
 * one sensor that overlaps the period, extended to where it really begins and ends, even when
 * that is outside the period. */
typedef struct ds_outage {
    int64_t sensor_id;
    char sensor[64];
    int kind;                   /* DS_HOUR_OUTAGE, DS_HOUR_DECLARED or DS_HOUR_NODATA */
    int64_t from, to;           /* unix seconds, [from, to), hour-aligned */
    int open_end;               /* 1: still going at the end of the store's data */
} ds_outage;

/* Coverage of local days [from, to] for every sensor in the store.  cfg (may be NULL) supplies
 * declared outages.  Hours around the period are loaded too, for the usual rates and for outages
 * that began before it or end after it. */
ds_rc ds_coverage_load(ds_store *st, const ds_config *cfg, int32_t from, int32_t to, ds_coverage **out, ds_err *err);
/* Coverage of every day the store covers (`darkscope stats`, serve's /api/v1/coverage); *out
 * NULL when it covers nothing. */
ds_rc ds_coverage_load_all(ds_store *st, const ds_config *cfg, ds_coverage **out, ds_err *err);
void ds_coverage_free(ds_coverage *c);

/* Covered address-days over local days [from, to] (within the loaded days): sum over sensors
 * (sensor_id 0: all) of IPv4 addresses x covered share of each day.  The denominator of every
 * "per address per day" rate. */
double ds_coverage_addr_days(const ds_coverage *c, int64_t sensor_id, int32_t from, int32_t to);
/* Covered days (not weighted by addresses) of one sensor, or the address-weighted mean over all
 * sensors (sensor_id 0; sensors of equal weight when none has IPv4 addresses). */
double ds_coverage_days(const ds_coverage *c, int64_t sensor_id, int32_t from, int32_t to);
/* Covered share (0..1) of local day `day`, and of UTC hour `hour` (unix seconds / 3600), for one
 * sensor or address-weighted over all (0). */
double ds_coverage_day_frac(const ds_coverage *c, int64_t sensor_id, int32_t day);
double ds_coverage_hour_frac(const ds_coverage *c, int64_t sensor_id, int64_t hour);

/* Outages overlapping local days [c->from, c->to], by sensor name then start; caller frees. */
ds_rc ds_coverage_outages(const ds_coverage *c, ds_outage **out, size_t *n, ds_err *err);

#endif
