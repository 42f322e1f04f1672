/* agg.h: per-thread aggregation of classified packets into the records of records.h.
 *
 * Shape borrowed from CAIDA's corsaro3: each worker thread owns one ds_agg (no locks in the
 * per-packet path), and at the end of a file the states are merged into one and emitted as
 * chunks.  Unlike corsaro's plugins, the state is typed, not void *.  Within one (sensor, day)
 * chunk a source may appear in more than one record (a late packet, or one per thread):
 * readers sum packets and take unions, so counts stay exact.
 */
#ifndef DS_AGG_H
#define DS_AGG_H
#include <stddef.h>
#include <stdint.h>

#include "core/classify.h"
#include "core/packet.h"
#include "core/records.h"
#include "util/result.h"

typedef struct ds_agg_counts {
    uint64_t packets;                  /* classified packets (DS_PKT_OK) attributed here */
    uint64_t outside;                  /* IP packets whose destination is in no darknet */
    uint64_t outcome[DS_PKT__COUNT];   /* non-IP, truncated, fragment, malformed, unknown link, bad timestamp */
    uint64_t first_ns, last_ns;        /* span of every packet counted here but bad timestamps (0 when none) */
    uint64_t encap[DS_ENC__COUNT];     /* of the packets counted here, those carried in each encapsulation
                                          (bit i of ds_pkt.encap, ds_encap_name(i)) */
} ds_agg_counts;

/* Country/ASN of a new source; called once per (sensor, day, source) per thread. */
typedef void (*ds_geo_fn)(void *ctx, const ds_ip *ip, char cc[2], uint32_t *asn);

typedef struct ds_agg_conf {
    size_t nsensors;
    const uint8_t *exact_dst;   /* per sensor: 1 when dst_index is the exact address index (<= 512) */
    ds_geo_fn geo;              /* may be NULL: every source is ZZ / AS0 */
    void *geo_ctx;
    uint64_t telescope_v4;      /* monitored IPv4 addresses of all sensors (scales the DoS rate threshold); 0: a /8 */
    /* Scans (core/scan.h): per sensor its monitored IPv4 addresses (NULL: 0), and the thresholds
     * (0: the defaults) */
    const uint64_t *sensor_v4;
    uint32_t scan_min_addresses, scan_timeout_s;
    const struct ds_payload_table *payload;   /* payload tools (core/payload.h); NULL: none */
    /* 1: no per-packet detector (fingerprints, payload tools, DoS vectors, scans): the counts are
     * exactly the same, the tool bits stay 0 and no ATTACKS or SCANS record is written.  For
     * measuring what detection costs (bench/detect_cost.sh) and for stores that want counts only. */
    int no_detect;
    /* 1: build the rollup chunks (core/rollup.h) of each (sensor, day) as its day retires, handed
     * out by ds_agg_emit_rollups */
    int rollups;
} ds_agg_conf;

typedef struct ds_agg ds_agg;

ds_agg *ds_agg_new(const ds_agg_conf *conf);
void ds_agg_free(ds_agg *a);

/* One classified packet to sensor `sensor` (0-based) on local day `day`; dst_index is the
 * destination's index among the sensor's addresses (any value for IPv6).  DS_ENOMEM when a
 * table cannot grow. */
ds_rc ds_agg_packet(ds_agg *a, int sensor, int32_t day, uint32_t dst_index, const ds_pkt *p,
                    ds_service svc, ds_class cls);
/* A packet that is not classified: outcome != DS_PKT_OK, or outside (then pass DS_PKT_OK and
 * outside=1).  sensor -1 = unattributed.  DS_PKT_BAD_TIMESTAMP leaves first_ns/last_ns alone. */
void ds_agg_other(ds_agg *a, int sensor, ds_outcome o, int outside, uint64_t ts_ns);
/* A packet counted in sensor's row (by ds_agg_packet or ds_agg_other) was carried in the
 * encapsulations `encap` (DS_ENC_* bits of ds_pkt.encap): one more in each. */
void ds_agg_encap(ds_agg *a, int sensor, unsigned encap);

/* Retire every live entry into the record buffers (done by merge and emit; idempotent). */
ds_rc ds_agg_finish(ds_agg *a);
/* Fold `from`'s records and counters into `into` (both are finished first). */
ds_rc ds_agg_merge(ds_agg *into, ds_agg *from);

/* Add counters b into a. */
void ds_agg_counts_add(ds_agg_counts *a, const ds_agg_counts *b);
/* Counters of sensor s (0-based), or of unattributed packets (s = -1). */
const ds_agg_counts *ds_agg_counts_of(const ds_agg *a, int s);

typedef ds_rc (*ds_chunk_sink)(void *ctx, int sensor, int32_t day, ds_chunk_kind kind,
                               const uint8_t *data, size_t nrec, ds_err *err);
/* Hand every (sensor, day, kind) chunk to sink, records encoded per records.h. */
ds_rc ds_agg_emit(ds_agg *a, ds_chunk_sink sink, void *ctx, ds_err *err);

/* The same chunks as one zstd frame each (what the aggregator keeps: see agg.c), for a store
 * that takes them as they are.  Level -1 (zstd's first "fast" level, RFC 8878 frames like any
 * other): on bench/gen_backscatter.c's quarter it cut zstd's CPU from 3.35 s to 2.45 s of a
 * 15.7 s ingest, and the store grew 6% (synth 6%, the source-heavy month 7%); level 1 was used
 * before, and frames of any level read the same (bench/README.md, 2026-12-07). */
#define DS_CHUNK_ZSTD_LEVEL (-1)
typedef ds_rc (*ds_chunk_zsink)(void *ctx, int sensor, int32_t day, ds_chunk_kind kind, const uint8_t *frame,
                                size_t framelen, size_t nrec, ds_err *err);
ds_rc ds_agg_emit_zstd(ds_agg *a, ds_chunk_zsink sink, void *ctx, ds_err *err);
/* With conf.rollups: every group's rollup chunks (kind DS_CHUNK_ROLLUP_*, chunk of len bytes,
 * owned by the aggregator), after a finish.  A (sensor, day) may come in several groups (a late
 * packet after its day closed) and in several threads' aggregators: the caller unites them
 * (ds_rollup_merge). */
typedef ds_rc (*ds_rollup_sink)(void *ctx, int sensor, int32_t day, int kind, const uint8_t *chunk, size_t len,
                                ds_err *err);
ds_rc ds_agg_emit_rollups(ds_agg *a, ds_rollup_sink sink, void *ctx, ds_err *err);

/* Bytes held by the tables (for memory reporting). */
size_t ds_agg_memory(const ds_agg *a);

#endif
