/* top_int.h: what top.c and top_pass.c share (internal): the SRCSVC field readers, the
 * per-thread state of the passes (scan_ctx), the parts the period is split into for the threads,
 * and the passes and merges top.c runs.  See top.c for the design.
 */
#ifndef DS_ANALYSIS_TOP_INT_H
#define DS_ANALYSIS_TOP_INT_H
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "analysis/top.h"
#include "analysis/top_tables.h"
#include "core/records.h"
#include "store/filter.h"

#define TOP_MAX_THREADS 4

/* ---- reading SRCSVC records ---------------------------------------------------------------- *
 * Only the fields a query needs, at the offsets of records.h's layout (the full decode,
 * ds_rec_srcsvc_get, when a filter needs every field). */
_Static_assert(DS_REC_SRCSVC == 28, "top_pass.c reads SRCSVC fields at records.h's offsets: update them with the layout");
enum { SV_SRC = 0, SV_SERVICE = 8, SV_ASN = 12, SV_PACKETS = 16, SV_CC = 21 };

static inline uint32_t rd32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }
static inline uint64_t rd64(const uint8_t *p) { return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32; }

static inline uint64_t key_at(ds_top_dim dim, const uint8_t *p)
{
    switch (dim) {
    case DS_TOP_PORTS: return rd32(p + SV_SERVICE);
    case DS_TOP_COUNTRIES: return (uint64_t)p[SV_CC] << 8 | p[SV_CC + 1];   /* ds_cc_pack */
    case DS_TOP_ASNS: return rd32(p + SV_ASN);
    case DS_TOP_SOURCES: break;
    }
    return rd64(p + SV_SRC);
}

/* Ports and countries have small key spaces, so pass 1 sums them in plain arrays instead of
 * the hash table: no hashing, no probing.  A port key maps to (protocol slot, port); protocols
 * other than TCP/UDP/ICMP/ICMPv6 use the hash table. */
/* TCP and UDP ports take 65536 slots each, ICMP and ICMPv6 types 256 each. */
#define DENSE_SIZE (65536 + 65536 + 256 + 256)
static inline long dense_index(ds_top_dim dim, uint64_t key)
{
    if (dim == DS_TOP_COUNTRIES)
        return (long)(key & 0xffff);
    if (dim != DS_TOP_PORTS)
        return -1;
    long v = DS_SERVICE_VALUE((ds_service)key);
    switch (DS_SERVICE_PROTO((ds_service)key)) {
    case DS_PROTO_TCP: return v;
    case DS_PROTO_UDP: return 65536 + v;
    case DS_PROTO_ICMP: return v < 256 ? 131072 + v : -1;
    case DS_PROTO_ICMP6: return v < 256 ? 131328 + v : -1;
    default: return -1;
    }
}
static inline uint64_t dense_key(ds_top_dim dim, size_t i)
{
    if (dim == DS_TOP_COUNTRIES)
        return (uint64_t)i;
    if (i < 65536)
        return DS_SERVICE(DS_PROTO_TCP, i);
    if (i < 131072)
        return DS_SERVICE(DS_PROTO_UDP, i - 65536);
    if (i < 131328)
        return DS_SERVICE(DS_PROTO_ICMP, i - 131072);
    return DS_SERVICE(DS_PROTO_ICMP6, i - 131328);
}

/* Pass 1 keeps, for pass 2, each matching record's (key, source): key << 32 | source when the
 * source fits in 32 bits (IPv4), in `narrow` blocks, else the pair in `wide` blocks.  8 bytes a
 * record instead of the 28 a second read of the chunks would take from a cache of them. */
#define ITEM_BLOCK 32768
typedef struct item_blk { struct item_blk *next; size_t n; uint64_t v[ITEM_BLOCK]; } item_blk;
typedef struct wide_item { uint64_t key, src; } wide_item;
typedef struct wide_blk { struct wide_blk *next; size_t n; wide_item v[ITEM_BLOCK / 2]; } wide_blk;

typedef struct scan_ctx {
    const ds_top_query *q;
    const ds_filter *f;       /* q's filters */
    int filter_on;            /* any of them set */
    size_t np;                /* partitions = threads */
    size_t self;              /* this part's index */
    int32_t from;
    arena mem;                /* this thread's tables */
    arena item_mem;           /* and its items */
    /* pass 1 */
    uint32_t *dense;          /* packets by dense_index (ports, countries), 4 bytes to stay in cache ... */
    kvtab spill;              /* ... and what overflowed them: dense index -> multiples of 2^32 */
    kvtab sums[TOP_MAX_THREADS];    /* key -> packets, by partition (ASNs, other protocols) */
    srctab srcs[TOP_MAX_THREADS];   /* source rows, by partition */
    set32 v4[TOP_MAX_THREADS];      /* distinct sources overall: IPv4 (non-zero) ... */
    set64 other[TOP_MAX_THREADS];   /* ... and the rest (IPv6 keys, 0.0.0.0) */
    uint64_t total;
    item_blk *items, *items_last;
    wide_blk *wide, *wide_last;
    /* pass 2 */
    const kvtab *shown;       /* key of a printed row -> its index; shared, read-only */
    uint64_t shown_mask;      /* bit (hash of key) & 63 of every printed key: screens records first */
    set64 seen[TOP_MAX_THREADS];    /* row << 32 | source, when both fit in 32 bits */
    wideset seenw[TOP_MAX_THREADS]; /* (row, source) when they do not (IPv6 keys) */
    uint64_t *count;          /* per row: distinct sources in the partition this thread owns */
} scan_ctx;

/* The hash tables outgrow the CPU caches on a quarter, so a record's insert waits on memory.
 * Records are therefore taken BATCH at a time: first each one's slot is computed and prefetched,
 * then the inserts run, with their misses already in flight together instead of one by one. */
#define BATCH 16
static inline void prefetch_slot(const void *base, size_t cap, size_t size, uint64_t h)
{
    if (cap)
        __builtin_prefetch((const uint8_t *)base + ((size_t)h & (cap - 1)) * size, 1);
}


/* One of 64 bits per printed key: an item whose bit is not in the mask is not a printed row's,
 * without a lookup. */
static inline unsigned mask_bit(uint64_t key) { return (unsigned)((key * 0x9e3779b97f4a7c15ULL) >> 58); }

typedef struct src_detail_ctx { ds_top_row *rows; const kvtab *idx; } src_detail_ctx;

typedef struct part part;
typedef ds_rc (*part_job)(part *p, ds_err *err);
struct part {
    ds_store *st;             /* part 0: the caller's store; others open their own (see job_scan) */
    ds_store *main_st;        /* the caller's */
    int no_store;             /* could not open one: the caller scans this part's days itself */
    int deferred;
    int64_t sensor_id;
    int32_t from, to;
    /* a scan: kind, fn, ctx */
    int kind;
    ds_scan_fn fn;
    void *ctx;
    /* a merge: this part's index among n, over every thread's state */
    size_t self, n;
    scan_ctx *all;
    /* source details: runs of days with need[d - from0] set, every n-th one from self on */
    const uint8_t *need;
    int32_t days, from0;
    part_job job;
    ds_rc rc;
    ds_err err;
    pthread_t th;
};

/* top_pass.c: pass 1 and the sources' details (scan callbacks), the threads, the merges, pass 2 */
ds_rc ds_top_pass1(void *ctx, int64_t sensor_id, int32_t day, const uint8_t *data, size_t nrec, ds_err *err);
ds_rc ds_top_on_sources(void *ctx, int64_t sensor_id, int32_t day, const uint8_t *data, size_t nrec, ds_err *err);
ds_rc ds_top_run_parts(part *parts, size_t n, part_job job, ds_err *err);
ds_rc ds_top_run_scans(part *parts, size_t n, int kind, ds_scan_fn fn, void **ctx, ds_err *err);
ds_rc ds_top_job_detail(part *p, ds_err *err);
ds_rc ds_top_job_merge1(part *pp, ds_err *err);
ds_rc ds_top_job_pass2(part *pp, ds_err *err);
ds_rc ds_top_job_merge2(part *pp, ds_err *err);

#endif
