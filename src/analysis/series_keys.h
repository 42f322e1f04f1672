/* series_keys.h: packets per service and per source country, summed in arrays indexed by the key
 * itself, for the daily series of detect_series.c.
 *
 * The series detector reads a half year of SRCSVC records (about 1.5 million for a quarter and
 * its baseline) twice: once to rank every service and country, once to fill the daily series of
 * the ranked ones.  A hash table on (dimension, key) made that two lookups per record with a
 * cache miss each; services of TCP and UDP and countries have small key spaces, so a plain array
 * indexed by the key does the same with no probing.  Services of other protocols (and ICMP
 * values past 255) are few, and numbered as met through a small open-addressing map.
 *
 * Nothing here depends on the order records are read in: which keys were met, and their sums,
 * are the same for any order of the chunks (detect_series.c ranks and lists them by content).
 */
#ifndef DS_SERIES_KEYS_H
#define DS_SERIES_KEYS_H
#include <stddef.h>
#include <stdint.h>

#include "core/classify.h"

/* dense indexes: TCP ports, UDP ports, ICMP and ICMPv6 types, then countries (ds_cc_pack) */
#define DS_SK_SERVICES (65536 + 65536 + 256 + 256)
#define DS_SK_DENSE (DS_SK_SERVICES + 65536)

/* known[] by index: 0 not met, 1 met, DS_SK_SLOT + s: met and judged, with series slot s (set by
 * the caller; one array for both, so the second scan's test of a record is one load per key) */
#define DS_SK_SLOT 2
#define DS_SK_MAX_SLOTS (65535 - DS_SK_SLOT)

typedef struct ds_series_keys {
    uint64_t *p, *q;            /* packets in the period, in the previous period, by index */
    uint16_t *known;            /* see DS_SK_SLOT */
    size_t cap;                 /* indexes allocated: DS_SK_DENSE + room for other services */
    /* services of other protocols: service -> index, open addressing (0 empty: index is never 0
     * there, as those start at DS_SK_DENSE) */
    uint32_t *other_key, *other_idx;
    size_t other_cap, nother;
} ds_series_keys;

int ds_series_keys_init(ds_series_keys *k);
void ds_series_keys_free(ds_series_keys *k);
/* ds_series_keys_meet's slow path: a key not met before (or a service of another protocol). */
long ds_series_keys_meet_new(ds_series_keys *k, int dim, uint32_t key);
/* The index of a service of another protocol met before, or -1 (ds_series_keys_find's slow path). */
long ds_series_keys_find_other(const ds_series_keys *k, uint32_t service);

/* The dense index of a service, or -1 (another protocol: see other_key). */
static inline int ds_series_keys_dense_service(ds_service s)
{
    long v = DS_SERVICE_VALUE(s);
    switch (DS_SERVICE_PROTO(s)) {
    case DS_PROTO_TCP: return (int)v;
    case DS_PROTO_UDP: return (int)(65536 + v);
    case DS_PROTO_ICMP: return v < 256 ? (int)(131072 + v) : -1;
    case DS_PROTO_ICMP6: return v < 256 ? (int)(131328 + v) : -1;
    default: return -1;
    }
}

/* The key at dense index i < DS_SK_DENSE (ds_series_keys_dense_service's inverse for services;
 * *dim 1: a ds_cc_pack'ed country). */
static inline uint32_t ds_series_keys_dense_key(size_t i, int *dim)
{
    *dim = i >= DS_SK_SERVICES;
    if (*dim)
        return (uint32_t)(i - DS_SK_SERVICES);
    if (i < 65536)
        return DS_SERVICE(DS_PROTO_TCP, i);
    if (i < 131072)
        return DS_SERVICE(DS_PROTO_UDP, i - 65536);
    return i < 131328 ? DS_SERVICE(DS_PROTO_ICMP, i - 131072) : DS_SERVICE(DS_PROTO_ICMP6, i - 131328);
}

/* The index of a key (dim 0: a service, 1: a country) met before, or -1.  Inline: the series
 * detector looks up two keys per record, a million records a pass. */
static inline long ds_series_keys_find(const ds_series_keys *k, int dim, uint32_t key)
{
    if (dim)
        return DS_SK_SERVICES + (long)(key & 0xffff);
    int d = ds_series_keys_dense_service(key);
    return d >= 0 ? d : ds_series_keys_find_other(k, key);
}

/* The index of a service (dim 0) or country (dim 1), met now if it was not yet (known[] = 1),
 * or -1 when out of memory.  Inline for the key met before, which is nearly every record. */
static inline long ds_series_keys_meet(ds_series_keys *k, int dim, uint32_t key)
{
    long i = dim ? DS_SK_SERVICES + (long)(key & 0xffff) : ds_series_keys_dense_service(key);
    if (i >= 0 && k->known[i])
        return i;
    return ds_series_keys_meet_new(k, dim, key);
}

#endif
