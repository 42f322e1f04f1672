/* agg_int.h: the aggregator's state, shared by its three files (not a public header).
 *
 *   agg.c       the state's life, the per-packet path (sources, destination maps, the
 *               (source, service, class) log, hourly counts, detectors) and the counters
 *   agg_day.c   day slabs: finding or opening a day's slab, growing its source index, and
 *               retiring a day or an hour into records
 *   agg_emit.c  record groups per (sensor, day), their zstd frames, the detectors' record
 *               sinks, finish, merge and emit
 *   agg_rollup.c the rollup chunks of a retiring day (core/rollup_build.h), kept per group
 *
 * The design is described at the top of agg.c.
 */
#ifndef DS_AGG_INT_H
#define DS_AGG_INT_H
#include "core/agg.h"
#include "core/dos.h"
#include "core/fingerprint.h"
#include "core/flood.h"
#include "core/hash.h"
#include "core/rollup_build.h"
#include "core/scan.h"
#include "core/svclog.h"

#include <string.h>
#include <zstd.h>

typedef struct src_ent {
    ds_ip ip;
    uint8_t class_mask;
    uint16_t sensor;
    int32_t day;
    char cc[2];
    uint16_t dst1;          /* map bit + 1 of the first destination */
    uint32_t asn;
    uint32_t map;           /* index + 1 into the map pool once a second destination arrived */
    uint8_t tool_hit;       /* DS_TOOL_* fingerprints some packet matched */
    /* Packets ZMap's (UDP, ICMP echo) and the SYN fingerprints applied to before the first ZMap,
     * Masscan or Nmap match, saturating; from that match on, tcnt[index] counts (TOOL_COUNTED). */
    uint8_t pre_other;
    uint16_t pre_syn;
    uint64_t packets, first_ns, last_ns;
} src_ent;
_Static_assert(sizeof(src_ent) == 64, "a source entry is one cache line");
_Static_assert(DS_CLASS__COUNT <= 4, "a class fits the 2 bits ds_svc_key gives it");

typedef struct dstmap { uint8_t bits[DS_DSTMAP_BYTES]; } dstmap;

/* Sources with these bits in tool_hit have their share counts in tcnt (core/fingerprint.h). */
#define TOOL_COUNTED (DS_TOOL_ZMAP | DS_TOOL_MASSCAN | DS_TOOL_NMAP)

typedef struct outbuf { uint8_t *p; size_t len, cap; } outbuf;

/* The rollup chunks of one batch of a group's sources (one retirement of its day). */
typedef struct rupart { uint8_t *c[DS_ROLLUP__COUNT]; size_t len[DS_ROLLUP__COUNT]; } rupart;

/* Records retired for one (sensor, day): one buffer per chunk kind. */
typedef struct group {
    int sensor;
    int32_t day;
    outbuf kind[DS_CHUNK__END];   /* indexed by ds_chunk_kind: raw records while open */
    size_t nrec[DS_CHUNK__END];
    uint8_t *z[DS_CHUNK__END];    /* zstd frames once closed */
    size_t zlen[DS_CHUNK__END];
    rupart *ru; size_t nru, capru;  /* rollup chunks (conf.rollups): one part per retirement, one once closed */
    int closed;
} group;

/* The sources of one local day (of every sensor) and the log of their (source, service, class)
 * packets: a day retires as a whole, so its tables are encoded and emptied in place, and the other
 * days' entries are never touched.  Retired slabs keep their arrays for the next day: allocating
 * fresh zeroed tables made page faults a fifth of the ingest time. */
typedef struct dayslab {
    int32_t day;
    int live;
    src_ent *src; size_t nsrc, capsrc;      /* dense entries, 64-byte aligned */
    ds_tool_counts *tcnt;                   /* [capsrc]: written only for TOOL_COUNTED sources */
    dstmap *maps; size_t nmaps, capmaps;    /* destination maps of multi-destination sources */
    uint64_t *slot; size_t capslot;         /* (hash >> 32) << 32 | (index + 1); 0 empty */
    ds_svclog log;                          /* keyed by (index in this slab, service, class) */
} dayslab;

/* Items a day's log holds before its first partial reduction (16 bytes each). */
#define SLAB_LOG_ITEMS 16384

/* The hourly counts of one (UTC hour, local day), as a log like a day's srcsvc: key = sensor (16
 * bits) | dimension (1) | class (2) | service or packed country (24), see hr_key.  An hour maps
 * to one local day unless the time zone's offset has minutes; a late packet for an hour already
 * retired opens a log of its own, retired with the next hour. */
typedef struct hourlog {
    uint32_t hour;
    int32_t day;
    int live;
    ds_svclog log;
} hourlog;
#define HOUR_LOG_ITEMS 4096

static inline uint64_t hr_key(int sensor, int dim, ds_class cls, uint32_t k3)
{
    return (uint64_t)(uint16_t)sensor << 27 | (uint64_t)(dim & 1) << 26 | (uint64_t)(cls & 3) << 24 | (k3 & 0xffffffu);
}

struct ds_agg {
    ds_agg_conf conf;
    uint8_t *exact_dst;

    dayslab *slabs; size_t nslabs;          /* live days and spare (retired) slabs */
    size_t last_slab; uint32_t last_idx; int have_last;
    void *scratch; size_t capscratch;       /* retire_slab's work arrays */

    hourlog *hl; size_t nhl, last_hl;       /* live hours and spare (retired) logs; the last used */

    uint32_t hour_max, hour_min;            /* newest hour seen; oldest live hourly entry */
    int32_t day_max, day_min;               /* the same for live sources */

    group *groups; size_t ngroups, capgroups;
    ZSTD_CCtx *zc;
    ds_dos *dos;                            /* attack vectors from backscatter (core/dos.h) */
    ds_floods *floods;                      /* floods and reflections at dark addresses (core/flood.h) */
    ds_scans *scans;                        /* scan flows (core/scan.h) */
    outbuf spare[16]; size_t nspare;        /* raw buffers of closed groups, for reuse */
    uint64_t *gkey; uint32_t *gid; size_t capg;   /* (sensor, day) -> group index + 1 */

    ds_agg_counts *counts;                  /* [nsensors + 1]; [0] = unattributed */

    ds_rollup_batch *rb;                    /* conf.rollups: the rollup builder's work arrays */
    void *ruscratch; size_t capruscratch;   /* agg_rollup_slab's source order */
};

static inline uint64_t agg_src_hash(int sensor, int32_t day, const ds_ip *ip)
{
    uint64_t a, b;
    memcpy(&a, ip->b, 8);
    memcpy(&b, ip->b + 8, 8);
    return ds_mix64(a ^ ds_mix64(b ^ ((uint64_t)(uint16_t)sensor << 40) ^ ((uint64_t)ip->v6 << 39) ^ (uint32_t)day));
}

/* agg_day.c */
void agg_slab_free(dayslab *d);
long agg_slab_of(ds_agg *a, int32_t day);
int agg_slot_grow(dayslab *d);
int agg_retire_days(ds_agg *a, int32_t keep_from);
int agg_retire_hours(ds_agg *a, uint32_t keep_from);
long agg_hourlog_of(ds_agg *a, uint32_t hour, int32_t day);

/* agg_rollup.c */
int agg_rollup_slab(ds_agg *a, const dayslab *d, const ds_svc_item *it, size_t nit);
int agg_rollup_close(group *g);
void agg_rollup_free(group *g);

/* agg_emit.c */
group *agg_group_of(ds_agg *a, int sensor, int32_t day);
uint8_t *agg_group_rec(ds_agg *a, group *g, int kind);
int agg_close_groups(ds_agg *a, int32_t before);
int agg_attack_out(void *ctx, const ds_attack *at);
int agg_flood_out(void *ctx, const ds_flood_vec *v);
int agg_scan_out(void *ctx, const ds_scan *sc);

#endif
