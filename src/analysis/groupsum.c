/* groupsum.c: see groupsum.h.  Linear probing on a power-of-two table. */
#include "analysis/groupsum.h"

#include <stdlib.h>
#include <string.h>

#include "core/hash.h"

int ds_groupsum_reset(ds_groupsum *g, size_t groups)
{
    size_t cap = 64;
    g->n = 0;
    while (cap < 2 * groups + 2) {
        if (cap > ((size_t)1 << 40))
            return -1;
        cap *= 2;
    }
    if (cap > g->alloc) {
        ds_group *e = calloc(cap, sizeof *e);
        if (!e)
            return -1;
        free(g->e);
        g->e = e;
        g->alloc = cap;
    } else {
        memset(g->e, 0, cap * sizeof *g->e);   /* only the part this use needs */
    }
    g->cap = cap;
    return 0;
}

ds_group *ds_groupsum_get(ds_groupsum *g, uint64_t k1, uint32_t k2)
{
    size_t i = (size_t)ds_mix64(k1 ^ ds_mix64((uint64_t)k2 + 1)) & (g->cap - 1);
    while (g->e[i].used && (g->e[i].k1 != k1 || g->e[i].k2 != k2))
        i = (i + 1) & (g->cap - 1);
    if (!g->e[i].used) {
        g->e[i] = (ds_group){ .k1 = k1, .k2 = k2, .used = 1 };
        g->n++;
    }
    return &g->e[i];
}

void ds_groupsum_free(ds_groupsum *g)
{
    free(g->e);
    memset(g, 0, sizeof *g);
}
