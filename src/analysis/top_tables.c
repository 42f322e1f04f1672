/* top_tables.c: the arenas and the growing and reserving of top's tables (see top_tables.h).
 * An arena maps 64 MiB blocks of address space with MADV_HUGEPAGE and hands out zeroed memory
 * from them; reusing it clears only the bytes ever handed out.  A table grows by doubling at its
 * load limit, rehashing from the stored values, and is reserved to its final size before a merge
 * so that it is filled without growing.
 */
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "analysis/top_tables.h"

static void arena_mark(arena *a)
{
    size_t u = (size_t)(a->cur - a->start[a->blk]);
    if (u > a->used[a->blk])
        a->used[a->blk] = u;
}

/* bytes of zeroed memory, valid until ds_top_arena_free or ds_top_arena_reuse; NULL when out of memory */
void *ds_top_arena_zalloc(arena *a, size_t bytes)
{
    if (bytes > ((size_t)1 << 46))
        return NULL;
    bytes = (bytes + 63) & ~(size_t)63;
    while (bytes > a->left) {
        if (a->nblk)
            arena_mark(a);
        if (a->blk + 1 < a->nblk) {   /* a block from before ds_top_arena_reuse */
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
void ds_top_arena_reuse(arena *a)
{
    if (!a->nblk)
        return;
    arena_mark(a);
    a->blk = 0;
    a->cur = a->start[0];
    a->left = a->size[0];
}

void ds_top_arena_free(arena *a)
{
    for (size_t i = 0; i < a->nblk; i++)
        munmap(a->map[i], a->len[i]);
    memset(a, 0, sizeof *a);
}

/* ---- tables ------------------------------------------------------------------------------ */

int ds_top_set32_grow(set32 *t, arena *a)
{
    size_t cap = t->cap ? t->cap * 2 : 1024;
    uint32_t *e = ds_top_arena_zalloc(a, cap * sizeof *e);
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

int ds_top_set64_grow(set64 *t, arena *a)
{
    size_t cap = t->cap ? t->cap * 2 : 1024;
    uint64_t *e = ds_top_arena_zalloc(a, cap * sizeof *e);
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

/* set32/set64 before a merge: as ds_top_srctab_reserve (at most 1/2 load) */
int ds_top_set32_reserve(set32 *t, arena *a, size_t n, size_t mincap)
{
    while (t->cap < mincap || (n + 1) * 2 > t->cap)
        if (ds_top_set32_grow(t, a) != 0)
            return -1;
    return 0;
}

int ds_top_set64_reserve(set64 *t, arena *a, size_t n, size_t mincap)
{
    while (t->cap < mincap || (n + 1) * 2 > t->cap)
        if (ds_top_set64_grow(t, a) != 0)
            return -1;
    return 0;
}

int ds_top_wideset_grow(wideset *t, arena *a)
{
    size_t cap = t->cap ? t->cap * 2 : 64;
    wide_pair *e = ds_top_arena_zalloc(a, cap * sizeof *e);
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

int ds_top_wideset_reserve(wideset *t, arena *a, size_t n, size_t mincap)
{
    while (t->cap < mincap || (n + 1) * 2 > t->cap)
        if (ds_top_wideset_grow(t, a) != 0)
            return -1;
    return 0;
}

int ds_top_kv_grow(kvtab *t, arena *a)
{
    size_t cap = t->cap ? t->cap * 2 : 256;
    kv *e = ds_top_arena_zalloc(a, cap * sizeof *e);
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

/* kvtab before a merge: as ds_top_srctab_reserve (grown at 1/2 load, kv_get's rule) */
int ds_top_kv_reserve(kvtab *t, arena *a, size_t n, size_t mincap)
{
    while (t->cap < mincap || (n + 1) * 2 > t->cap)
        if (ds_top_kv_grow(t, a) != 0)
            return -1;
    return 0;
}

int ds_top_srctab_grow(srctab *t, arena *a)
{
    size_t cap = t->cap ? t->cap * 2 : 256;
    src_ent *e = ds_top_arena_zalloc(a, cap * sizeof *e);
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
int ds_top_srctab_reserve(srctab *t, arena *a, size_t n, size_t mincap)
{
    while (t->cap < mincap || (n + 1) * 3 > t->cap * 2)
        if (ds_top_srctab_grow(t, a) != 0)
            return -1;
    return 0;
}
