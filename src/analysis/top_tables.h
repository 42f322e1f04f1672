/* top_tables.h: the scratch memory and hash tables of top's SRCSVC path (internal to top*.c).
 *
 * Not core/sets.h's: these are tuned for one query over a quarter.  They live in per-thread arenas
 * (mmap'd with MADV_HUGEPAGE, reused by pass 2), take a hash the caller computed once (for
 * the partition and the slot alike), are split into one partition per thread by the hash's high
 * bits (part_of), and are reserved to their final size before a merge.  The inserts and lookups
 * the per-record loops call are static inline here; growing, reserving and the arena are in
 * top_tables.c.
 */
#ifndef DS_ANALYSIS_TOP_TABLES_H
#define DS_ANALYSIS_TOP_TABLES_H
#include <stddef.h>
#include <stdint.h>

#include "core/hash.h"

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

void *ds_top_arena_zalloc(arena *a, size_t bytes);
void ds_top_arena_reuse(arena *a);
void ds_top_arena_free(arena *a);

/* ---- tables (open addressing, linear probing, power-of-two sizes, grown at 50% load) -------- */

/* partition of a hashed value among np: the hash's high bits (tables index with the low ones) */
static inline size_t part_of(uint64_t h, size_t np) { return (size_t)(((h >> 32) * np) >> 32); }

/* Non-zero u32 values (IPv4 sources): 4 bytes an entry. */
typedef struct set32 { uint32_t *e; size_t cap, n; } set32;
int ds_top_set32_grow(set32 *t, arena *a);
int ds_top_set32_reserve(set32 *t, arena *a, size_t n, size_t mincap);

/* 1 when v (hash h) is new, 0 when it was there, -1 out of memory */
static inline int set32_add(set32 *t, arena *a, uint32_t v, uint64_t h)
{
    if ((t->n + 1) * 2 > t->cap && ds_top_set32_grow(t, a) != 0)
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
int ds_top_set64_grow(set64 *t, arena *a);
int ds_top_set64_reserve(set64 *t, arena *a, size_t n, size_t mincap);

static inline int set64_add(set64 *t, arena *a, uint64_t v, uint64_t h)
{
    if (!v) {
        int added = !t->has_zero;
        t->has_zero = 1;
        t->n += (size_t)added;
        return added;
    }
    if ((t->n + 1) * 2 > t->cap && ds_top_set64_grow(t, a) != 0)
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
int ds_top_wideset_grow(wideset *t, arena *a);
int ds_top_wideset_reserve(wideset *t, arena *a, size_t n, size_t mincap);

static inline uint64_t wide_hash(uint64_t src, uint64_t row1) { return ds_mix64(src ^ row1 * 0x9e3779b97f4a7c15ULL); }

static inline int wideset_add(wideset *t, arena *a, uint64_t src, uint64_t row1, uint64_t h)
{
    if ((t->n + 1) * 2 > t->cap && ds_top_wideset_grow(t, a) != 0)
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
int ds_top_kv_grow(kvtab *t, arena *a);
int ds_top_kv_reserve(kvtab *t, arena *a, size_t n, size_t mincap);

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
        if (ds_top_kv_grow(t, a) != 0)
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

/* ---- source rows' table --------------------------------------------------------------------- */

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
int ds_top_srctab_grow(srctab *t, arena *a);
int ds_top_srctab_reserve(srctab *t, arena *a, size_t n, size_t mincap);

static inline uint64_t src_hash(uint64_t key) { return ds_mix64(key); }

/* 1 when (cc, asn) is to replace (ecc, easn) as a source's country and ASN on the same day. */
static inline int src_geo_after(uint16_t cc, uint32_t asn, uint16_t ecc, uint32_t easn)
{
    return cc > ecc || (cc == ecc && asn > easn);
}

/* grown at 2/3 load, not 1/2: the largest table here, and every byte of it is fresh memory */
static inline int srctab_full(const srctab *t) { return (t->n + 1) * 3 > t->cap * 2; }

/* the entry of key (hash h); a new one is all zero but its key, and the caller sets days > 0
 * before the next call.  NULL out of memory */
static inline src_ent *srctab_get(srctab *t, arena *a, uint64_t key, uint64_t h)
{
    if (srctab_full(t) && ds_top_srctab_grow(t, a) != 0)
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


#endif
