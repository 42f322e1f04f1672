/* sqlite_cache.c: the SQLite backend's read cache of decompressed chunks (sqlite_engine.h says
 * why and how; store_sqlite.c uses it in scan, begin and rollback). */
#include "store/sqlite_engine.h"

#include <string.h>
#include <sys/mman.h>

static size_t cache_pos(const chunk_cache *c, int64_t id)
{
    return (size_t)(((uint64_t)id * 0x9e3779b97f4a7c15ull) >> 20) & (c->cap - 1);
}

const cached_chunk *ds_sqcache_get(const chunk_cache *c, int64_t id)
{
    if (!c->cap)
        return NULL;
    for (size_t i = cache_pos(c, id);; i = (i + 1) & (c->cap - 1)) {
        if (c->slot[i].id == id)
            return &c->slot[i];
        if (!c->slot[i].id)
            return NULL;
    }
}

void ds_sqcache_clear(chunk_cache *c)
{
    for (size_t i = 0; i < c->narena; i++)
        munmap(c->arena[i], CACHE_ARENA);
    free(c->slot);
    memset(c, 0, sizeof *c);
}

/* Room for len bytes in an arena, or NULL (over budget, too large, or no memory: then the caller
 * decompresses into its own buffer and nothing is cached).  Valid until cache_clear; the caller
 * gives it back with cache_unreserve when decompression fails. */
uint8_t *ds_sqcache_reserve(chunk_cache *c, size_t len)
{
    if (len == 0 || len > CACHE_ARENA)
        return NULL;
    if (!c->narena || len > CACHE_ARENA - c->used) {
        if (c->narena == CACHE_ARENAS)
            return NULL;
        void *a = mmap(NULL, CACHE_ARENA, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (a == MAP_FAILED)
            return NULL;
        madvise(a, CACHE_ARENA, MADV_HUGEPAGE);   /* advice only: works without it */
        c->arena[c->narena++] = a;
        c->used = 0;
    }
    uint8_t *p = c->arena[c->narena - 1] + c->used;
    c->used += (len + 15) & ~(size_t)15;
    return p;
}

void ds_sqcache_unreserve(chunk_cache *c, size_t len)
{
    c->used -= (len + 15) & ~(size_t)15;
}

/* Index a chunk decompressed into ds_sqcache_reserve()'s memory; a failure only means no caching
 * (the memory stays reserved until cache_clear). */
void ds_sqcache_put(chunk_cache *c, int64_t id, const uint8_t *data)
{
    if (id <= 0)
        return;
    if ((c->n + 1) * 2 > c->cap) {   /* keep the load under 1/2 */
        size_t cap = c->cap ? c->cap * 2 : 1024;
        cached_chunk *slot = calloc(cap, sizeof *slot);
        if (!slot)
            return;
        chunk_cache g = *c;
        g.slot = slot;
        g.cap = cap;
        for (size_t i = 0; i < c->cap; i++)
            if (c->slot[i].id) {
                size_t j = cache_pos(&g, c->slot[i].id);
                while (g.slot[j].id)
                    j = (j + 1) & (cap - 1);
                g.slot[j] = c->slot[i];
            }
        free(c->slot);
        c->slot = slot;
        c->cap = cap;
    }
    size_t i = cache_pos(c, id);
    while (c->slot[i].id)
        i = (i + 1) & (c->cap - 1);
    c->slot[i] = (cached_chunk){ id, data };
    c->n++;
}
