/* top.c: see top.h.
 *
 * Ports, countries and ASNs are answered from the rollups when they can be (top_rollup.c: the
 * filters are a sensor, a class or the ranked dimension's own values, and every day of the period
 * has them); what follows is the path over the SRCSVC records, for every other query and store.
 *
 * One read of the period's SRCSVC chunks, split by days between threads (one per CPU, at most
 * TOP_MAX_THREADS; corsaro3's shape: partial state per thread, then a merge), each thread with
 * its own store connection because SQLite connections are not shared across threads.
 *
 * Pass 1 reads the chunks: it sums packets per key (plain arrays for ports and countries, whose
 * key spaces are small; hash tables for ASNs and sources), puts every source in a set for the
 * period's distinct total, and keeps each matching record's (key, source) as an 8-byte item.
 * Pass 2, once the ranking is known, runs over those items only, collecting (printed row,
 * source) pairs, so that distinct counts are exact over the whole period but paid for the rows
 * shown only: counting distinct sources for every key was most of the cost (the pair set over a
 * quarter runs to tens of MB).  Source rows need no pass 2: their entry counts its days as
 * pass 1 goes (a part reads its days in order), and keeps country and ASN.
 *
 * What a quarter's `top` (about 640,000 records) costs is memory, not arithmetic.  On virtual
 * machines, memory the kernel must hand out fresh (and clear) is the dearest of all: a 4 KiB
 * first-touch fault costs more than the work done on the page, and a 2 MiB page not touched
 * since the host took it back costs about a millisecond.  So:
 *   - chunks are read with DS_SCAN_NOFILL: decompressed into one reused buffer, not into the
 *     store's read cache (18 MB of fresh memory for a quarter, read once more at most);
 *   - tables live in per-thread arenas mapped with MADV_HUGEPAGE, and pass 2's tables reuse
 *     pass 1's pages (arena_reuse);
 *   - every hash table and set is split into one partition per thread by the high bits of the
 *     hash.  Thread t fills all partitions from its days; then thread p alone merges partition p
 *     of every thread into its own, in parallel and without locks, and a distinct count is the
 *     sum of the merged partitions' sizes (a value lives in exactly one partition);
 *   - inserts are batched so that their cache misses overlap (see BATCH);
 *   - records are decoded field by field, only the fields the dimension needs (the whole record
 *     only when a filter needs it);
 *   - ranking reads the per-port and per-country arrays directly (a quarter of random-port scans
 *     fills tens of thousands of port slots) instead of folding them into a hash table first;
 *   - source rows need first and last seen from the SOURCES chunks, but only of the days on which
 *     each printed source was first and last seen (and their neighbours, see detail_days): a few
 *     chunks instead of the whole period's.
 */
#include "analysis/top.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/records.h"
#include "core/hash.h"
#include "store/filter.h"
#include "core/sets.h"
#include "analysis/rollups.h"
#include "analysis/top_rollup.h"

#define TOP_MAX_THREADS 4

/* ---- scratch memory ------------------------------------------------------------------------ */

#define ARENA_HUGE ((size_t)2 << 20)
#define ARENA_BLOCK ((size_t)64 << 20)   /* address space only: pages are touched as used */
#define ARENA_MAX_BLOCKS 64

typedef struct arena {
    void *map[ARENA_MAX_BLOCKS];
    size_t len[ARENA_MAX_BLOCKS];
    uint8_t *start[ARENA_MAX_BLOCKS];   /* usable bytes of block i: start[i] .. start[i] + size[i] */
    size_t size[ARENA_MAX_BLOCKS];
    size_t used[ARENA_MAX_BLOCKS];      /* bytes of block i ever handed out (to clear on reuse) */
    size_t nblk, blk;         /* blocks mapped; the one allocations come from */
    uint8_t *cur;
    size_t left;
} arena;

static void arena_mark(arena *a)
{
    size_t u = (size_t)(a->cur - a->start[a->blk]);
    if (u > a->used[a->blk])
        a->used[a->blk] = u;
}

/* bytes of zeroed memory, valid until arena_free or arena_reuse; NULL when out of memory */
static void *arena_zalloc(arena *a, size_t bytes)
{
    if (bytes > ((size_t)1 << 46))
        return NULL;
    bytes = (bytes + 63) & ~(size_t)63;
    while (bytes > a->left) {
        if (a->nblk)
            arena_mark(a);
        if (a->blk + 1 < a->nblk) {   /* a block from before arena_reuse */
            a->blk++;
            a->cur = a->start[a->blk];
            a->left = a->size[a->blk];
            continue;
        }
        if (a->nblk == ARENA_MAX_BLOCKS)
            return NULL;
        size_t len = bytes > ARENA_BLOCK ? (bytes + ARENA_HUGE - 1) & ~(ARENA_HUGE - 1) : ARENA_BLOCK;
        size_t maplen = len + ARENA_HUGE;   /* room to start on a huge-page boundary */
        void *m = mmap(NULL, maplen, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (m == MAP_FAILED)
            return NULL;
        uint8_t *p = (uint8_t *)(((uintptr_t)m + ARENA_HUGE - 1) & ~(uintptr_t)(ARENA_HUGE - 1));
        madvise(p, len, MADV_HUGEPAGE);   /* advice only: works without it */
        a->map[a->nblk] = m;
        a->len[a->nblk] = maplen;
        a->start[a->nblk] = p;
        a->size[a->nblk] = len;
        a->used[a->nblk] = 0;
        a->blk = a->nblk++;
        a->cur = p;
        a->left = len;
    }
    uint8_t *r = a->cur, *dirty = a->start[a->blk] + a->used[a->blk];
    a->cur += bytes;
    a->left -= bytes;
    if (r < dirty)   /* fresh pages are zero; reused ones are not */
        memset(r, 0, (size_t)((a->cur < dirty ? a->cur : dirty) - r));
    return r;
}

/* Hand the memory out again from the start, keeping the pages: everything allocated so far is
 * dead.  Memory the kernel has to clear is the dearest thing here, and pass 2's tables fit where
 * pass 1's were. */
static void arena_reuse(arena *a)
{
    if (!a->nblk)
        return;
    arena_mark(a);
    a->blk = 0;
    a->cur = a->start[0];
    a->left = a->size[0];
}

static void arena_free(arena *a)
{
    for (size_t i = 0; i < a->nblk; i++)
        munmap(a->map[i], a->len[i]);
    memset(a, 0, sizeof *a);
}

/* ---- tables (open addressing, linear probing, power-of-two sizes, grown at 50% load) -------- */

/* partition of a hashed value among np: the hash's high bits (tables index with the low ones) */
static inline size_t part_of(uint64_t h, size_t np) { return (size_t)(((h >> 32) * np) >> 32); }

/* Non-zero u32 values (IPv4 sources): 4 bytes an entry. */
typedef struct set32 { uint32_t *e; size_t cap, n; } set32;

static int set32_grow(set32 *t, arena *a)
{
    size_t cap = t->cap ? t->cap * 2 : 1024;
    uint32_t *e = arena_zalloc(a, cap * sizeof *e);
    if (!e)
        return -1;
    for (size_t i = 0; i < t->cap; i++) {
        if (!t->e[i])
            continue;
        size_t j = (size_t)ds_mix64(t->e[i]) & (cap - 1);
        while (e[j])
            j = (j + 1) & (cap - 1);
        e[j] = t->e[i];
    }
    t->e = e;
    t->cap = cap;
    return 0;
}

/* 1 when v (hash h) is new, 0 when it was there, -1 out of memory */
static inline int set32_add(set32 *t, arena *a, uint32_t v, uint64_t h)
{
    if ((t->n + 1) * 2 > t->cap && set32_grow(t, a) != 0)
        return -1;
    size_t m = t->cap - 1, j = (size_t)h & m;
    for (; t->e[j]; j = (j + 1) & m)
        if (t->e[j] == v)
            return 0;
    t->e[j] = v;
    t->n++;
    return 1;
}

/* u64 values; 0 is a flag. */
typedef struct set64 { uint64_t *e; size_t cap, n; int has_zero; } set64;

static int set64_grow(set64 *t, arena *a)
{
    size_t cap = t->cap ? t->cap * 2 : 1024;
    uint64_t *e = arena_zalloc(a, cap * sizeof *e);
    if (!e)
        return -1;
    for (size_t i = 0; i < t->cap; i++) {
        if (!t->e[i])
            continue;
        size_t j = (size_t)ds_mix64(t->e[i]) & (cap - 1);
        while (e[j])
            j = (j + 1) & (cap - 1);
        e[j] = t->e[i];
    }
    t->e = e;
    t->cap = cap;
    return 0;
}

/* set32/set64 before a merge: as srctab_reserve (at most 1/2 load) */
static int set32_reserve(set32 *t, arena *a, size_t n, size_t mincap)
{
    while (t->cap < mincap || (n + 1) * 2 > t->cap)
        if (set32_grow(t, a) != 0)
            return -1;
    return 0;
}

static int set64_reserve(set64 *t, arena *a, size_t n, size_t mincap)
{
    while (t->cap < mincap || (n + 1) * 2 > t->cap)
        if (set64_grow(t, a) != 0)
            return -1;
    return 0;
}

static inline int set64_add(set64 *t, arena *a, uint64_t v, uint64_t h)
{
    if (!v) {
        int added = !t->has_zero;
        t->has_zero = 1;
        t->n += (size_t)added;
        return added;
    }
    if ((t->n + 1) * 2 > t->cap && set64_grow(t, a) != 0)
        return -1;
    size_t m = t->cap - 1, j = (size_t)h & m;
    for (; t->e[j]; j = (j + 1) & m)
        if (t->e[j] == v)
            return 0;
    t->e[j] = v;
    t->n++;
    return 1;
}

/* (row, source) pairs whose source does not fit in 32 bits (IPv6 keys); row1 = row + 1, 0 empty */
typedef struct wide_pair { uint64_t src, row1; } wide_pair;
typedef struct wideset { wide_pair *e; size_t cap, n; } wideset;

static inline uint64_t wide_hash(uint64_t src, uint64_t row1) { return ds_mix64(src ^ row1 * 0x9e3779b97f4a7c15ULL); }

static int wideset_grow(wideset *t, arena *a)
{
    size_t cap = t->cap ? t->cap * 2 : 64;
    wide_pair *e = arena_zalloc(a, cap * sizeof *e);
    if (!e)
        return -1;
    for (size_t i = 0; i < t->cap; i++) {
        if (!t->e[i].row1)
            continue;
        size_t j = (size_t)wide_hash(t->e[i].src, t->e[i].row1) & (cap - 1);
        while (e[j].row1)
            j = (j + 1) & (cap - 1);
        e[j] = t->e[i];
    }
    t->e = e;
    t->cap = cap;
    return 0;
}

static int wideset_reserve(wideset *t, arena *a, size_t n, size_t mincap)
{
    while (t->cap < mincap || (n + 1) * 2 > t->cap)
        if (wideset_grow(t, a) != 0)
            return -1;
    return 0;
}

static inline int wideset_add(wideset *t, arena *a, uint64_t src, uint64_t row1, uint64_t h)
{
    if ((t->n + 1) * 2 > t->cap && wideset_grow(t, a) != 0)
        return -1;
    size_t m = t->cap - 1, j = (size_t)h & m;
    for (; t->e[j].row1; j = (j + 1) & m)
        if (t->e[j].src == src && t->e[j].row1 == row1)
            return 0;
    t->e[j] = (wide_pair){ src, row1 };
    t->n++;
    return 1;
}

/* key -> u64 value (packets; for the printed rows, the row index).  Key 0 (ASN 0, 0.0.0.0) is
 * kept beside the array. */
typedef struct kv { uint64_t key, val; } kv;
typedef struct kvtab { kv *e; size_t cap, n; int has_zero; uint64_t zero_val; } kvtab;

static int kv_grow(kvtab *t, arena *a)
{
    size_t cap = t->cap ? t->cap * 2 : 256;
    kv *e = arena_zalloc(a, cap * sizeof *e);
    if (!e)
        return -1;
    for (size_t i = 0; i < t->cap; i++) {
        if (!t->e[i].key)
            continue;
        size_t j = (size_t)ds_mix64(t->e[i].key) & (cap - 1);
        while (e[j].key)
            j = (j + 1) & (cap - 1);
        e[j] = t->e[i];
    }
    t->e = e;
    t->cap = cap;
    return 0;
}

/* kvtab before a merge: as srctab_reserve (grown at 1/2 load, kv_get's rule) */
static int kv_reserve(kvtab *t, arena *a, size_t n, size_t mincap)
{
    while (t->cap < mincap || (n + 1) * 2 > t->cap)
        if (kv_grow(t, a) != 0)
            return -1;
    return 0;
}

/* the value of key (hash h), created as 0 when new; NULL out of memory */
static inline uint64_t *kv_get(kvtab *t, arena *a, uint64_t key, uint64_t h)
{
    if (!key) {
        t->n += (size_t)!t->has_zero;
        t->has_zero = 1;
        return &t->zero_val;
    }
    size_t m = t->cap - 1, j = (size_t)h & m;
    if (t->cap) {
        for (; t->e[j].key; j = (j + 1) & m)
            if (t->e[j].key == key)
                return &t->e[j].val;
    }
    if ((t->n + 1) * 2 > t->cap) {
        if (kv_grow(t, a) != 0)
            return NULL;
        m = t->cap - 1;
        for (j = (size_t)h & m; t->e[j].key; j = (j + 1) & m)
            ;
    }
    t->e[j].key = key;
    t->n++;
    return &t->e[j].val;
}

static inline const uint64_t *kv_find(const kvtab *t, uint64_t key)
{
    if (!key)
        return t->has_zero ? &t->zero_val : NULL;
    if (!t->cap)
        return NULL;
    size_t m = t->cap - 1, j = (size_t)ds_mix64(key) & m;
    for (; t->e[j].key; j = (j + 1) & m)
        if (t->e[j].key == key)
            return &t->e[j].val;
    return NULL;
}

/* ---- reading SRCSVC records ---------------------------------------------------------------- *
 * Only the fields a query needs, at the offsets of records.h's layout (the full decode,
 * ds_rec_srcsvc_get, when a filter needs every field). */
_Static_assert(DS_REC_SRCSVC == 28, "top.c reads SRCSVC fields at records.h's offsets: update them with the layout");
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

/* ---- per-thread state ---------------------------------------------------------------------- */

/* Source rows: one entry per source, with what its row prints besides packets, in 32 bytes.
 * `days` counts the days with a matching record: a part reads its days in order, so a new day is
 * one not equal to `last`, and parts hold disjoint days, so their counts add up.  Country and ASN
 * are those of the source's records on its last matching day, and when these differ (files of
 * one day ingested with different geo data) the greatest (country, ASN): content, not the order
 * the store returns a day's chunks in (src_geo_after).  An entry is in use when days > 0 (set as
 * soon as it is created). */
typedef struct src_ent {
    uint64_t key, packets;
    uint32_t asn;
    uint32_t days, last;           /* last: its last such day, - from + 1 */
    uint16_t cc;                   /* ds_cc_pack */
    uint16_t first;                /* its first such day, - from + 1, at most 65535 (see detail_days) */
} src_ent;
_Static_assert(sizeof(src_ent) == 32, "src_ent: two to a cache line");
typedef struct srctab { src_ent *e; size_t cap, n; } srctab;

static inline uint64_t src_hash(uint64_t key) { return ds_mix64(key); }

/* 1 when (cc, asn) is to replace (ecc, easn) as a source's country and ASN on the same day. */
static inline int src_geo_after(uint16_t cc, uint32_t asn, uint16_t ecc, uint32_t easn)
{
    return cc > ecc || (cc == ecc && asn > easn);
}

/* grown at 2/3 load, not 1/2: the largest table here, and every byte of it is fresh memory */
static inline int srctab_full(const srctab *t) { return (t->n + 1) * 3 > t->cap * 2; }

static int srctab_grow(srctab *t, arena *a)
{
    size_t cap = t->cap ? t->cap * 2 : 256;
    src_ent *e = arena_zalloc(a, cap * sizeof *e);
    if (!e)
        return -1;
    for (size_t i = 0; i < t->cap; i++) {
        if (!t->e[i].days)
            continue;
        size_t j = (size_t)src_hash(t->e[i].key) & (cap - 1);
        while (e[j].days)
            j = (j + 1) & (cap - 1);
        e[j] = t->e[i];
    }
    t->e = e;
    t->cap = cap;
    return 0;
}

/* Room for n entries at most 2/3 load, and at least mincap slots, before a merge inserts another
 * table's entries.  Those come in that table's slot order, which is hash order: into a table
 * with fewer slots (or one that grows half way) they pile onto the same runs, and each insert
 * probes a run as long as the table (a month's `top sources` spent 20 s of CPU there). */
static int srctab_reserve(srctab *t, arena *a, size_t n, size_t mincap)
{
    while (t->cap < mincap || (n + 1) * 3 > t->cap * 2)
        if (srctab_grow(t, a) != 0)
            return -1;
    return 0;
}

/* the entry of key (hash h); a new one is all zero but its key, and the caller sets days > 0
 * before the next call.  NULL out of memory */
static inline src_ent *srctab_get(srctab *t, arena *a, uint64_t key, uint64_t h)
{
    if (srctab_full(t) && srctab_grow(t, a) != 0)
        return NULL;
    size_t m = t->cap - 1, j = (size_t)h & m;
    for (; t->e[j].days; j = (j + 1) & m)
        if (t->e[j].key == key)
            return &t->e[j];
    t->e[j].key = key;
    t->n++;
    return &t->e[j];
}

static inline const src_ent *srctab_find(const srctab *t, uint64_t key)
{
    if (!t->cap)
        return NULL;
    size_t m = t->cap - 1, j = (size_t)src_hash(key) & m;
    for (; t->e[j].days; j = (j + 1) & m)
        if (t->e[j].key == key)
            return &t->e[j];
    return NULL;
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

/* Room for n more narrow items; -1 out of memory.  Items live in an arena of their own, which
 * pass 2 reads while the tables' arena is reused (see arena_reuse). */
static int items_reserve(scan_ctx *c, size_t n)
{
    if (!c->items_last || ITEM_BLOCK - c->items_last->n < n) {
        item_blk *b = arena_zalloc(&c->item_mem, sizeof *b);
        if (!b)
            return -1;
        if (c->items_last)
            c->items_last->next = b;
        else
            c->items = b;
        c->items_last = b;
    }
    return 0;
}

/* One wide item (IPv6 sources are rare: their blocks are taken as needed); -1 out of memory. */
static int wide_add(scan_ctx *c, uint64_t key, uint64_t src)
{
    if (!c->wide_last || c->wide_last->n == ITEM_BLOCK / 2) {
        wide_blk *b = arena_zalloc(&c->item_mem, sizeof *b);
        if (!b)
            return -1;
        if (c->wide_last)
            c->wide_last->next = b;
        else
            c->wide = b;
        c->wide_last = b;
    }
    c->wide_last->v[c->wide_last->n++] = (wide_item){ key, src };
    return 0;
}

static ds_rc pass1(void *ctx, int64_t sensor_id, int32_t day, const uint8_t *data, size_t nrec, ds_err *err)
{
    scan_ctx *c = ctx;
    const ds_top_dim dim = c->q->dim;
    const size_t np = c->np;
    const uint32_t dayno = (uint32_t)(day - c->from) + 1;
    uint64_t src[BATCH], key[BATCH], hs[BATCH], hk[BATCH];
    uint32_t packets[BATCH];
    long di[BATCH];
    const uint8_t *rec[BATCH];
    for (size_t i0 = 0; i0 < nrec; i0 += BATCH) {
        size_t nb = 0, end = nrec - i0 < BATCH ? nrec : i0 + BATCH;
        if (dim != DS_TOP_SOURCES && items_reserve(c, BATCH) != 0)
            return ds_fail(err, DS_ENOMEM, "out of memory counting sources");
        for (size_t i = i0; i < end; i++) {   /* decode, filter, hash, prefetch */
            const uint8_t *p = data + i * DS_REC_SRCSVC;
            if (c->filter_on) {
                ds_rec_srcsvc r;
                ds_rec_srcsvc_get(p, &r);
                if (!ds_filter_match(c->f, &r))
                    continue;
            }
            rec[nb] = p;
            src[nb] = rd64(p + SV_SRC);
            key[nb] = key_at(dim, p);
            packets[nb] = rd32(p + SV_PACKETS);
            if (dim == DS_TOP_SOURCES) {
                hk[nb] = src_hash(key[nb]);
                const srctab *t = &c->srcs[part_of(hk[nb], np)];
                prefetch_slot(t->e, t->cap, sizeof *t->e, hk[nb]);
                nb++;
                continue;
            }
            hs[nb] = ds_mix64(src[nb]);
            size_t pt = part_of(hs[nb], np);
            if (src[nb] && src[nb] <= UINT32_MAX)
                prefetch_slot(c->v4[pt].e, c->v4[pt].cap, sizeof *c->v4[pt].e, hs[nb]);
            di[nb] = c->dense ? dense_index(dim, key[nb]) : -1;
            if (di[nb] >= 0) {
                __builtin_prefetch(&c->dense[di[nb]], 1);
            } else {
                hk[nb] = ds_mix64(key[nb]);
                const kvtab *t = &c->sums[part_of(hk[nb], np)];
                prefetch_slot(t->e, t->cap, sizeof *t->e, hk[nb]);
            }
            nb++;
        }
        for (size_t b = 0; b < nb; b++) {
            c->total += packets[b];
            if (dim == DS_TOP_SOURCES) {   /* the keys are the sources: no set, no pass 2 */
                src_ent *e = srctab_get(&c->srcs[part_of(hk[b], np)], &c->mem, key[b], hk[b]);
                if (!e)
                    return ds_fail(err, DS_ENOMEM, "out of memory counting sources");
                e->packets += packets[b];
                uint32_t asn = rd32(rec[b] + SV_ASN);
                uint16_t cc = (uint16_t)(rec[b][SV_CC] << 8 | rec[b][SV_CC + 1]);
                if (e->last != dayno || src_geo_after(cc, asn, e->cc, e->asn)) {
                    e->asn = asn;
                    e->cc = cc;
                }
                if (e->last != dayno) {
                    if (!e->days)
                        e->first = (uint16_t)(dayno < 65535 ? dayno : 65535);
                    e->days++;
                    e->last = dayno;
                }
                continue;
            }
            /* distinct sources overall */
            size_t pt = part_of(hs[b], np);
            if ((src[b] && src[b] <= UINT32_MAX ? set32_add(&c->v4[pt], &c->mem, (uint32_t)src[b], hs[b])
                                                : set64_add(&c->other[pt], &c->mem, src[b], hs[b])) < 0)
                return ds_fail(err, DS_ENOMEM, "out of memory counting sources");
            if (src[b] <= UINT32_MAX && key[b] <= UINT32_MAX) {
                c->items_last->v[c->items_last->n++] = key[b] << 32 | src[b];
            } else if (wide_add(c, key[b], src[b]) != 0) {
                return ds_fail(err, DS_ENOMEM, "out of memory counting sources");
            }
            if (di[b] >= 0) {
                uint32_t was = c->dense[di[b]];
                c->dense[di[b]] = was + packets[b];
                if (was + packets[b] < was) {
                    uint64_t *v = kv_get(&c->spill, &c->mem, (uint64_t)di[b], ds_mix64((uint64_t)di[b]));
                    if (!v)
                        return ds_fail(err, DS_ENOMEM, "out of memory counting sources");
                    *v += (uint64_t)1 << 32;
                }
                continue;
            }
            uint64_t *v = kv_get(&c->sums[part_of(hk[b], np)], &c->mem, key[b], hk[b]);
            if (!v)
                return ds_fail(err, DS_ENOMEM, "out of memory counting sources");
            *v += packets[b];
        }
    }
    return DS_OK;
}

/* One of 64 bits per printed key: an item whose bit is not in the mask is not a printed row's,
 * without a lookup. */
static inline unsigned mask_bit(uint64_t key) { return (unsigned)((key * 0x9e3779b97f4a7c15ULL) >> 58); }

typedef struct src_detail_ctx { ds_top_row *rows; const kvtab *idx; } src_detail_ctx;

/* Fill address, first and last seen of the printed source rows from the SOURCES chunks. */
static ds_rc on_sources(void *ctx, int64_t sensor_id, int32_t day, const uint8_t *data, size_t nrec, ds_err *err)
{
    src_detail_ctx *c = ctx;
    for (size_t i = 0; i < nrec; i++) {
        const uint8_t *rec = data + i * DS_REC_SOURCES;
        const uint64_t *row = kv_find(c->idx, ds_rec_source_key(rec));
        if (!row)
            continue;
        ds_rec_source r;
        ds_rec_source_get(rec, &r);
        ds_top_row *t = &c->rows[*row];
        t->ip = r.ip;
        if (!t->first_ns || r.first_ns < t->first_ns)
            t->first_ns = r.first_ns;
        if (r.last_ns > t->last_ns)
            t->last_ns = r.last_ns;
    }
    return DS_OK;
}

/* ---- ranking ------------------------------------------------------------------------------- */

typedef struct cand { uint64_t key, packets; } cand;

/* ranking order: more packets first, then the smaller key */
static inline int cand_before(const cand *x, const cand *y)
{
    return x->packets != y->packets ? x->packets > y->packets : x->key < y->key;
}

static int cand_cmp(const void *a, const void *b)
{
    const cand *x = a, *y = b;
    return cand_before(x, y) ? -1 : cand_before(y, x) ? 1 : 0;
}

/* The best `limit` candidates so far in a min-heap (worst on top). */
typedef struct topheap { cand *h; size_t n, limit; } topheap;

static inline void heap_offer(topheap *t, uint64_t key, uint64_t packets)
{
    cand e = { key, packets };
    cand *h = t->h;
    if (t->n < t->limit) {
        size_t k = t->n++;
        h[k] = e;
        while (k && cand_before(&h[(k - 1) / 2], &h[k])) {   /* sift up: parent must be worse */
            cand tmp = h[k]; h[k] = h[(k - 1) / 2]; h[(k - 1) / 2] = tmp;
            k = (k - 1) / 2;
        }
    } else if (t->limit && cand_before(&e, &h[0])) {
        h[0] = e;
        size_t k = 0, n = t->n;
        for (;;) {   /* sift down */
            size_t l = 2 * k + 1, r = l + 1, w = k;
            if (l < n && cand_before(&h[w], &h[l])) w = l;
            if (r < n && cand_before(&h[w], &h[r])) w = r;
            if (w == k) break;
            cand tmp = h[k]; h[k] = h[w]; h[w] = tmp;
            k = w;
        }
    }
}

/* ---- running the passes in threads --------------------------------------------------------- */

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

static void *part_main(void *arg)
{
    part *p = arg;
    p->rc = p->job(p, &p->err);
    return NULL;
}

/* A part other than 0 opens its own connection in its thread, so that the opens overlap the
 * first part's scan; a part that cannot is left to the calling thread (fewer threads, same
 * answer). */
static ds_rc job_scan(part *p, ds_err *err)
{
    if (!p->st && !p->no_store) {
        ds_err ignored;
        if (ds_store_reopen(p->main_st, &p->st, &ignored) != DS_OK) {
            p->st = NULL;
            p->no_store = 1;
        }
    }
    if (!p->st) {
        p->deferred = 1;
        return DS_OK;
    }
    return ds_store_scan(p->st, p->kind, p->sensor_id, p->from, p->to, p->fn, p->ctx, err);
}

/* Run job over every part, parts 1.. in threads, then report the first failure. */
static ds_rc run_parts(part *parts, size_t n, part_job job, ds_err *err)
{
    size_t started = 1;
    for (size_t i = 0; i < n; i++) {
        parts[i].job = job;
        parts[i].self = i;
        parts[i].n = n;
        parts[i].rc = DS_OK;
        parts[i].err.msg[0] = '\0';
    }
    for (; started < n; started++)
        if (pthread_create(&parts[started].th, NULL, part_main, &parts[started]) != 0)
            break;
    /* the calling thread does part 0, and any part a thread could not be started for */
    for (size_t i = 0; i < n; i++) {
        if (i == 0 || i >= started)
            part_main(&parts[i]);
    }
    for (size_t i = 1; i < started; i++)
        pthread_join(parts[i].th, NULL);
    for (size_t i = 0; i < n; i++) {
        part *p = &parts[i];
        if (p->deferred && p->rc == DS_OK) {
            p->deferred = 0;
            p->rc = ds_store_scan(p->main_st, p->kind, p->sensor_id, p->from, p->to, p->fn, p->ctx, &p->err);
        }
    }
    for (size_t i = 0; i < n; i++) {
        if (parts[i].rc != DS_OK) {
            if (err)
                *err = parts[i].err;
            return parts[i].rc;
        }
    }
    return DS_OK;
}

static ds_rc run_scans(part *parts, size_t n, int kind, ds_scan_fn fn, void **ctx, ds_err *err)
{
    for (size_t i = 0; i < n; i++) {
        parts[i].kind = kind;
        parts[i].fn = fn;
        parts[i].ctx = ctx[i];
    }
    return run_parts(parts, n, job_scan, err);
}

/* Source details of the days need[] marks: the runs of consecutive days self, self + n, ...
 * (part 0 alone, with n = 1, when a part has no store of its own). */
static ds_rc job_detail(part *p, ds_err *err)
{
    size_t run = 0;
    for (int32_t d = 0; d < p->days;) {
        if (!p->need[d]) {
            d++;
            continue;
        }
        int32_t e = d;
        while (e + 1 < p->days && p->need[e + 1])
            e++;
        if (run++ % (p->n ? p->n : 1) == p->self) {
            ds_rc rc = ds_store_scan(p->st, p->kind, p->sensor_id, p->from0 + d, p->from0 + e, p->fn, p->ctx, err);
            if (rc != DS_OK)
                return rc;
        }
        d = e + 1;
    }
    return DS_OK;
}

/* After pass 1, part p: partition p of every thread's sums and source sets into its own. */
static ds_rc job_merge1(part *pp, ds_err *err)
{
    size_t p = pp->self, n = pp->n;
    scan_ctx *c = pp->all, *own = &c[p];
    for (size_t i = 0; i < n; i++) {
        if (i == p)
            continue;
        const kvtab *s = &c[i].sums[p];
        if (s->n && kv_reserve(&own->sums[p], &own->mem, own->sums[p].n + s->n, s->cap) != 0)
            goto nomem;
        for (size_t k = 0; k < s->cap; k++) {
            if (!s->e[k].key)
                continue;
            uint64_t *v = kv_get(&own->sums[p], &own->mem, s->e[k].key, ds_mix64(s->e[k].key));
            if (!v)
                goto nomem;
            *v += s->e[k].val;
        }
        if (s->has_zero) {
            uint64_t *v = kv_get(&own->sums[p], &own->mem, 0, 0);
            *v += s->zero_val;
        }
        const srctab *st = &c[i].srcs[p];
        if (st->n && srctab_reserve(&own->srcs[p], &own->mem, own->srcs[p].n + st->n, st->cap) != 0)
            goto nomem;
        for (size_t k = 0; k < st->cap; k++) {
            const src_ent *f = &st->e[k];
            if (!f->days)
                continue;
            src_ent *e = srctab_get(&own->srcs[p], &own->mem, f->key, src_hash(f->key));
            if (!e)
                goto nomem;
            if (!e->days || f->last > e->last ||
                (f->last == e->last && src_geo_after(f->cc, f->asn, e->cc, e->asn))) {   /* as in the scan */
                e->asn = f->asn;
                e->cc = f->cc;
            }
            if (!e->days || f->first < e->first)
                e->first = f->first;
            if (f->last > e->last)
                e->last = f->last;
            e->packets += f->packets;
            e->days += f->days;   /* parts hold disjoint days */
        }
        const set32 *v4 = &c[i].v4[p];
        if (v4->n && set32_reserve(&own->v4[p], &own->mem, own->v4[p].n + v4->n, v4->cap) != 0)
            goto nomem;
        for (size_t k = 0; k < v4->cap; k++)
            if (v4->e[k] && set32_add(&own->v4[p], &own->mem, v4->e[k], ds_mix64(v4->e[k])) < 0)
                goto nomem;
        const set64 *o = &c[i].other[p];
        if (o->n && set64_reserve(&own->other[p], &own->mem, own->other[p].n + o->n, o->cap) != 0)
            goto nomem;
        for (size_t k = 0; k < o->cap; k++)
            if (o->e[k] && set64_add(&own->other[p], &own->mem, o->e[k], ds_mix64(o->e[k])) < 0)
                goto nomem;
        if (o->has_zero)
            set64_add(&own->other[p], &own->mem, 0, 0);
    }
    return DS_OK;
nomem:
    return ds_fail(err, DS_ENOMEM, "out of memory counting sources");
}

/* Pass 2 (ports, countries, ASNs), part p: the printed rows' (row, source) pairs from its own
 * items, into its partitioned pair sets; job_merge2 then unites and counts them. */
static ds_rc job_pass2(part *pp, ds_err *err)
{
    scan_ctx *c = &pp->all[pp->self];
    const size_t np = c->np;
    uint64_t val[BATCH], h[BATCH], row[BATCH];
    size_t nb = 0;
    /* narrow items, then wide ones; a batch fills with printed rows' pairs and then inserts */
    const item_blk *ib = c->items;
    const wide_blk *wb = c->wide;
    size_t k = 0;
    for (;;) {
        uint64_t key, src;
        if (ib && k < ib->n) {
            key = ib->v[k] >> 32;
            src = ib->v[k] & 0xffffffffu;
            k++;
        } else if (ib) {
            ib = ib->next;
            k = 0;
            continue;
        } else if (wb && k < wb->n) {
            key = wb->v[k].key;
            src = wb->v[k].src;
            k++;
        } else if (wb) {
            wb = wb->next;
            k = 0;
            continue;
        } else {
            key = src = 0;
        }
        int last = !ib && !wb;
        if (!last && c->shown_mask >> mask_bit(key) & 1) {
            const uint64_t *rowp = kv_find(c->shown, key);
            if (rowp) {
                uint64_t r = *rowp;
                if (src >> 32 || r >> 31) {   /* wide pair: val holds the source, h its pair hash */
                    val[nb] = src;
                    h[nb] = wide_hash(src, r + 1);
                    row[nb] = r | (uint64_t)1 << 63;
                    const wideset *t = &c->seenw[part_of(h[nb], np)];
                    prefetch_slot(t->e, t->cap, sizeof *t->e, h[nb]);
                } else {
                    val[nb] = r << 32 | src;
                    h[nb] = ds_mix64(val[nb]);
                    row[nb] = r;
                    const set64 *t = &c->seen[part_of(h[nb], np)];
                    prefetch_slot(t->e, t->cap, sizeof *t->e, h[nb]);
                }
                nb++;
            }
        }
        if (nb == BATCH || (last && nb)) {
            for (size_t b = 0; b < nb; b++) {
                int added = row[b] >> 63
                    ? wideset_add(&c->seenw[part_of(h[b], np)], &c->mem, val[b], (row[b] & ~((uint64_t)1 << 63)) + 1, h[b])
                    : set64_add(&c->seen[part_of(h[b], np)], &c->mem, val[b], h[b]);
                if (added < 0)
                    return ds_fail(err, DS_ENOMEM, "out of memory counting sources");
            }
            nb = 0;
        }
        if (last)
            return DS_OK;
    }
}

/* After pass 2, part p: partition p of every thread's pair sets into its own, then count each
 * row's pairs in it. */
static ds_rc job_merge2(part *pp, ds_err *err)
{
    size_t p = pp->self, n = pp->n;
    scan_ctx *c = pp->all, *own = &c[p];
    for (size_t i = 0; i < n; i++) {
        if (i == p)
            continue;
        const set64 *s = &c[i].seen[p];
        if (s->n && set64_reserve(&own->seen[p], &own->mem, own->seen[p].n + s->n, s->cap) != 0)
            goto nomem;
        for (size_t k = 0; k < s->cap; k++)
            if (s->e[k] && set64_add(&own->seen[p], &own->mem, s->e[k], ds_mix64(s->e[k])) < 0)
                goto nomem;
        if (s->has_zero)
            set64_add(&own->seen[p], &own->mem, 0, 0);
        const wideset *w = &c[i].seenw[p];
        if (w->n && wideset_reserve(&own->seenw[p], &own->mem, own->seenw[p].n + w->n, w->cap) != 0)
            goto nomem;
        for (size_t k = 0; k < w->cap; k++)
            if (w->e[k].row1 && wideset_add(&own->seenw[p], &own->mem, w->e[k].src, w->e[k].row1,
                                            wide_hash(w->e[k].src, w->e[k].row1)) < 0)
                goto nomem;
    }
    const set64 *s = &own->seen[p];
    for (size_t k = 0; k < s->cap; k++)
        if (s->e[k])
            own->count[s->e[k] >> 32]++;
    if (s->has_zero)
        own->count[0]++;
    const wideset *w = &own->seenw[p];
    for (size_t k = 0; k < w->cap; k++)
        if (w->e[k].row1)
            own->count[w->e[k].row1 - 1]++;
    return DS_OK;
nomem:
    return ds_fail(err, DS_ENOMEM, "out of memory counting sources");
}

/* Days whose SOURCES chunks hold the printed sources' first and last sightings.  A source has a
 * SOURCES record on exactly the (sensor, day)s it has SRCSVC records on (core/agg.c writes both
 * from one table entry), so its earliest first_ns is on its first day and its latest last_ns on
 * its last day, as pass 1 found them (without filters: with any, every day is read).  The next
 * and the previous day are taken too: where clocks go back across midnight, the hour after the
 * change belongs to the day before, so a day may end after the next one starts.  need[d - from]
 * is set for each; returns how many are (every day when periods are too long for src_ent.first). */
static size_t detail_days(const ds_top_result *res, const scan_ctx *c, size_t n, int32_t days, uint8_t *need)
{
    size_t marked = 0;
    if (days >= 65535)
        return (size_t)days;
    for (size_t r = 0; r < res->n; r++) {
        size_t p = part_of(src_hash(res->rows[r].key), n);
        const src_ent *e = srctab_find(&c[p].srcs[p], res->rows[r].key);
        if (!e || !e->first)
            continue;
        long d[4] = { (long)e->first - 1, (long)e->first, (long)e->last - 2, (long)e->last - 1 };
        for (int k = 0; k < 4; k++)
            if (d[k] >= 0 && d[k] < (long)days && !need[d[k]]) {
                need[d[k]] = 1;
                marked++;
            }
    }
    return marked;
}

/* Packets of dense slot i over every thread. */
static inline uint64_t dense_total(const scan_ctx *c, size_t n, size_t i)
{
    uint64_t v = 0;
    for (size_t t = 0; t < n; t++) {
        v += c[t].dense[i];
        const uint64_t *s = c[t].spill.n ? kv_find(&c[t].spill, i) : NULL;
        if (s)
            v += *s;
    }
    return v;
}

static void init_filter(ds_filter *f, const ds_top_query *q)
{
    ds_filter_init(f);
    f->sensor_id = q->sensor_id;
    f->cls = q->cls;
    memcpy(f->ports, q->ports, q->nports * sizeof *q->ports);
    f->nports = q->nports;
    memcpy(f->countries, q->countries, q->ncountries * sizeof *q->countries);
    f->ncountries = q->ncountries;
    memcpy(f->asns, q->asns, q->nasns * sizeof *q->asns);
    f->nasns = q->nasns;
    f->exclude = q->exclude;
    f->only = q->only;
    f->tools = q->tools;
}

ds_rc ds_top_run(ds_store *st, const ds_top_query *q, ds_top_result *res, ds_err *err)
{
    ds_rc rc;
    if (st->ops->query && st->ops->query->top &&   /* the engine answers where its data is (store/query.h) */
        (rc = st->ops->query->top(st, q, res, err)) != DS_ENOTFOUND)
        return rc;
    rc = DS_ENOMEM;
    scan_ctx c[TOP_MAX_THREADS];
    part parts[TOP_MAX_THREADS];
    void *ctxs[TOP_MAX_THREADS];
    src_detail_ctx sd[TOP_MAX_THREADS];
    ds_top_row *detail[TOP_MAX_THREADS] = { 0 };
    kvtab shown = { 0 };
    cand *best = NULL;
    uint8_t *need = NULL;
    ds_sensor_info *sensors = NULL;
    size_t nsensors = 0, n = 1;
    ds_filter filter;

    /* ports, countries, ASNs: from the rollups when they answer the query (top_rollup.h) */
    if (q->dim != DS_TOP_SOURCES && !ds_rollups_disabled()) {
        int done = 0;
        rc = ds_top_rollup_run(st, q, res, &done, err);
        if (rc != DS_OK || done)
            return rc;
    }
    memset(res, 0, sizeof *res);
    init_filter(&filter, q);
    int filter_on = q->cls >= 0 || q->nports || q->ncountries || q->nasns || q->exclude || q->only || q->tools;
    memset(c, 0, sizeof c);
    memset(parts, 0, sizeof parts);
    memset(sd, 0, sizeof sd);
    /* one part per CPU (at most TOP_MAX_THREADS), each at least a few days long */
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    int32_t days = q->to - q->from + 1;
    size_t dense_size = q->dim == DS_TOP_COUNTRIES ? 65536 : (size_t)DENSE_SIZE;
    while ((long)n < ncpu && n < TOP_MAX_THREADS && days / (int32_t)(n + 1) >= 7)
        n++;
    parts[0].st = st;
    for (size_t i = 0; i < n; i++) {
        parts[i].main_st = st;
        parts[i].sensor_id = q->sensor_id;
        parts[i].all = c;
        parts[i].from = q->from + (int32_t)((int64_t)days * (int64_t)i / (int64_t)n);
        parts[i].to = q->from + (int32_t)((int64_t)days * (int64_t)(i + 1) / (int64_t)n) - 1;
        c[i].q = q;
        c[i].f = &filter;
        c[i].filter_on = filter_on;
        c[i].np = n;
        c[i].self = i;
        c[i].from = q->from;
        ctxs[i] = &c[i];
        if ((q->dim == DS_TOP_PORTS || q->dim == DS_TOP_COUNTRIES) &&
            !(c[i].dense = arena_zalloc(&c[i].mem, dense_size * sizeof *c[i].dense)))
            goto nomem;
    }
    if ((rc = run_scans(parts, n, DS_CHUNK_SRCSVC | DS_SCAN_NOFILL, pass1, ctxs, err)) != DS_OK ||
        (rc = run_parts(parts, n, job_merge1, err)) != DS_OK)
        goto out;
    rc = DS_ENOMEM;
    uint64_t total = 0;
    size_t nkeys = 0;
    for (size_t i = 0; i < n; i++) {
        total += c[i].total;
        nkeys += c[i].sums[i].n + c[i].srcs[i].n;
        res->total_sources += c[i].v4[i].n + c[i].other[i].n;
    }
    for (size_t i = 0; c[0].dense && i < dense_size; i++)
        nkeys += dense_total(c, n, i) != 0;
    if (q->dim == DS_TOP_SOURCES)
        res->total_sources = nkeys;
    if ((rc = ds_store_sensors(st, &sensors, &nsensors, err)) != DS_OK)
        goto out;
    rc = DS_ENOMEM;
    for (size_t i = 0; i < nsensors; i++)
        if (!q->sensor_id || sensors[i].id == q->sensor_id)
            res->addresses += sensors[i].v4_addresses;
    res->days = days;
    res->total_packets = total;

    size_t limit = q->limit && q->limit < nkeys ? q->limit : nkeys;
    best = malloc((limit + 1) * sizeof *best);
    res->rows = calloc(limit + 1, sizeof *res->rows);
    if (!best || !res->rows)
        goto nomem;
    topheap heap = { best, 0, limit };
    for (size_t i = 0; c[0].dense && i < dense_size; i++) {
        uint64_t v = dense_total(c, n, i);
        if (v)
            heap_offer(&heap, dense_key(q->dim, i), v);
    }
    for (size_t i = 0; i < n; i++) {
        const kvtab *s = &c[i].sums[i];
        for (size_t k = 0; k < s->cap; k++)
            if (s->e[k].key)
                heap_offer(&heap, s->e[k].key, s->e[k].val);
        if (s->has_zero)
            heap_offer(&heap, 0, s->zero_val);
        const srctab *t = &c[i].srcs[i];
        for (size_t k = 0; k < t->cap; k++)
            if (t->e[k].days)
                heap_offer(&heap, t->e[k].key, t->e[k].packets);
    }
    qsort(best, heap.n, sizeof *best, cand_cmp);
    res->n = heap.n;
    if (q->dim != DS_TOP_SOURCES)   /* pass 1's tables are dead (source rows still read theirs) */
        for (size_t i = 0; i < n; i++)
            arena_reuse(&c[i].mem);
    double denom = q->have_addr_days ? q->addr_days : (double)res->addresses * (double)days;
    res->addr_days = denom;
    uint64_t mask = 0;
    for (size_t i = 0; i < res->n; i++) {
        ds_top_row *r = &res->rows[i];
        r->key = best[i].key;
        r->packets = best[i].packets;
        r->share = total ? (double)r->packets / (double)total : 0;
        r->per_ip_per_day = denom > 0 ? (double)r->packets / denom : 0;
        if (q->dim == DS_TOP_SOURCES) {
            const src_ent *e = srctab_find(&c[part_of(src_hash(r->key), n)].srcs[part_of(src_hash(r->key), n)], r->key);
            r->sources = 1;
            if (!(r->key >> 63))
                ds_ip_set4(&r->ip, (uint32_t)r->key);
            if (e) {
                r->days = e->days;
                r->asn = e->asn;
                ds_cc_unpack(e->cc, r->cc);
            }
        }
        uint64_t *v = kv_get(&shown, &c[0].mem, r->key, ds_mix64(r->key));
        if (!v)
            goto nomem;
        *v = i;
        mask |= 1ULL << mask_bit(r->key);
    }
    /* pass 2: distinct sources of the printed rows only (source rows have what they print) */
    if (res->n && q->dim != DS_TOP_SOURCES) {
        for (size_t i = 0; i < n; i++) {
            c[i].shown = &shown;
            c[i].shown_mask = mask;
            if (!(c[i].count = arena_zalloc(&c[i].mem, (res->n + 1) * sizeof *c[i].count)))
                goto nomem;
        }
        if ((rc = run_parts(parts, n, job_pass2, err)) != DS_OK ||
            (rc = run_parts(parts, n, job_merge2, err)) != DS_OK)
            goto out;
        rc = DS_ENOMEM;
        for (size_t r = 0; r < res->n; r++)
            for (size_t i = 0; i < n; i++)
                res->rows[r].sources += c[i].count[r];
    }
    if (q->dim == DS_TOP_SOURCES && res->n) {
        ds_top_row *t = res->rows;
        /* addresses (IPv6 keys are hashes) and first/last seen */
        if (!(need = calloc((size_t)days + 1, 1)))
            goto nomem;
        size_t marked = filter_on ? (size_t)days : detail_days(res, c, n, days, need), nd = 1;
        if (marked * 2 > (size_t)days) {   /* most days: every part scans its own, as passes 1 and 2 */
            nd = n;
            for (size_t i = 0; i < n; i++) {
                if (!(detail[i] = calloc(res->n, sizeof *detail[i])))
                    goto nomem;
                sd[i].rows = detail[i];
                sd[i].idx = &shown;
                ctxs[i] = &sd[i];
            }
            if ((rc = run_scans(parts, n, DS_CHUNK_SOURCES | DS_SCAN_NOFILL, on_sources, ctxs, err)) != DS_OK)
                goto out;
        } else {   /* a few days: runs of consecutive ones, shared out between the parts */
            int serial = 0;
            for (size_t i = 0; i < n; i++)
                serial |= !parts[i].st;
            nd = serial ? 1 : n;
            for (size_t i = 0; i < nd; i++) {
                if (!(detail[i] = calloc(res->n, sizeof *detail[i])))
                    goto nomem;
                sd[i].rows = detail[i];
                sd[i].idx = &shown;
                parts[i].kind = DS_CHUNK_SOURCES | DS_SCAN_NOFILL;
                parts[i].fn = on_sources;
                parts[i].ctx = &sd[i];
                parts[i].need = need;
                parts[i].days = days;
                parts[i].from0 = q->from;
            }
            if (serial) {
                parts[0].self = 0;
                parts[0].n = 1;
            }
            if ((rc = serial ? job_detail(&parts[0], err) : run_parts(parts, nd, job_detail, err)) != DS_OK)
                goto out;
        }
        for (size_t i = 0; i < nd; i++) {
            for (size_t k = 0; k < res->n; k++) {
                const ds_top_row *f = &detail[i][k];
                if (!f->first_ns)
                    continue;
                t[k].ip = f->ip;
                if (!t[k].first_ns || f->first_ns < t[k].first_ns)
                    t[k].first_ns = f->first_ns;
                if (f->last_ns > t[k].last_ns)
                    t[k].last_ns = f->last_ns;
            }
        }
    }
    rc = DS_OK;
    goto out;
nomem:
    rc = ds_fail(err, DS_ENOMEM, "out of memory");
out:
    if (rc != DS_OK)
        ds_top_result_free(res);
    for (size_t i = 0; i < TOP_MAX_THREADS; i++) {
        arena_free(&c[i].mem);
        arena_free(&c[i].item_mem);
        free(detail[i]);
        if (i > 0 && parts[i].st)
            ds_store_close(parts[i].st);
    }
    free(need);
    free(best);
    free(sensors);
    return rc;
}

char *ds_top_key_format(ds_top_dim dim, const ds_top_row *r, char *buf, size_t len)
{
    switch (dim) {
    case DS_TOP_PORTS:
        return ds_service_format((ds_service)r->key, buf, len);
    case DS_TOP_COUNTRIES: {
        char cc[3];
        ds_cc_unpack((uint16_t)r->key, cc);
        snprintf(buf, len, "%s", cc);
        return buf;
    }
    case DS_TOP_ASNS:
        snprintf(buf, len, "%u", (unsigned)r->key);
        return buf;
    case DS_TOP_SOURCES:
        return ds_ip_format(&r->ip, buf, len);
    }
    return buf;
}
