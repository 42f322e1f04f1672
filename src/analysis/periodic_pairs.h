/* periodic_pairs.h: daily series of (service, source country) pairs, for the weekly cycles that
 * neither the service's series nor the country's shows (detect_periodic.c).
 *
 * One country's weekly habit on a service it sends a small share of is drowned in the service's
 * other senders and in the country's other services: Russia's 37 packets a day to 8888/tcp, ten
 * times as many on weekdays as at weekends, inside 8888/tcp's 140 a day and Russia's thousands
 * (synthetic seeds 108, 121, 129, 131, 135; issue #20: "a weekly cycle on 445/TCP was not
 * found").  Its own series shows it at once.  Pairs are read from the CROSS chunks (core/cross.h:
 * packets by service, country and class, one chunk beside every SRCSVC chunk), scan class only,
 * in one pass that fills a daily series for every pair of the services asked for (their runs
 * found by binary search in each chunk's sorted records); the largest pairs are kept.
 */
#ifndef DS_PERIODIC_PAIRS_H
#define DS_PERIODIC_PAIRS_H
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

typedef struct ds_pair_series {
    uint32_t service;       /* ds_service */
    uint16_t cc;            /* ds_cc_pack */
    uint64_t packets;       /* over the period */
    double *daily;          /* packets per day, from the query's first day (ndays) */
} ds_pair_series;

/* The at most max pairs of scan packets with the most packets, at least min_packets each (ties by
 * service, then country: content order), of the nservices services in services[] (ascending),
 * with their daily series over [from, to], into *out (n of them; free with ds_pair_series_free).
 * The services bound the work: a quarter of random ports makes millions of pairs, and a table of
 * them all took 1.3 s and 150 MB of the source-heavy month's `events`.  *out is NULL and *n 0 when some (file, sensor, day) of
 * the period has SRCSVC records but no CROSS chunk (a store ingested before them, until `store
 * migrate`): the pairs would be short. */
ds_rc ds_pair_series_load(ds_store *st, int64_t sensor_id, int32_t from, int32_t to, const uint32_t *services,
                          size_t nservices, size_t max, double min_packets, ds_pair_series **out, size_t *n, ds_err *err);
void ds_pair_series_free(ds_pair_series *p, size_t n);

#endif
