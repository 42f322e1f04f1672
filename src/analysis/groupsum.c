/* groupsum.c: see groupsum.h.  Linear probing on a power-of-two table. */
#include "analysis/groupsum.h"

#include <stdlib.h>
#include <string.h>

#include "core/hash.h"

#define FIRST_CAP 64
#define MAX_HINT_CAP 4096   /* a reset clears at most this many entries; more come by growing */

/* Room for cap entries in *e (allocated *alloc), cleared.  -1: out of memory. */
static int room(ds_group **e, size_t *alloc, size_t cap)
{
    if (cap > *alloc) {
        ds_group *n = calloc(cap, sizeof *n);
        if (!n)
            return -1;
        free(*e);
        *e = n;
        *alloc = cap;
    } else {
        memset(*e, 0, cap * sizeof **e);   /* only the part this use needs */
    }
    return 0;
}

int ds_groupsum_reset(ds_groupsum *g, size_t groups)
{
    size_t cap = FIRST_CAP;
    g->n = 0;
    while (cap / 4 * 3 < groups + 1 && cap < MAX_HINT_CAP)
        cap *= 2;
    if (room(&g->e, &g->alloc, cap) != 0) {
        g->cap = 0;
        return -1;
    }
    g->cap = cap;
    return 0;
}

static size_t home(const ds_groupsum *g, uint64_t k1)
{
    return (size_t)ds_mix64(k1) & (g->cap - 1);
}

/* Double the table, rehashing into the spare block, which becomes the table. */
static int grow(ds_groupsum *g)
{
    size_t cap = g->cap * 2;
    if (cap < g->cap || room(&g->spare, &g->spare_alloc, cap) != 0)
        return -1;
    ds_group *old = g->e;
    size_t old_cap = g->cap, old_alloc = g->alloc;
    g->e = g->spare;
    g->alloc = g->spare_alloc;
    g->cap = cap;
    for (size_t i = 0; i < old_cap; i++)
        if (old[i].used) {
            size_t j = home(g, old[i].k1);
            while (g->e[j].used)
                j = (j + 1) & (cap - 1);
            g->e[j] = old[i];
        }
    g->spare = old;
    g->spare_alloc = old_alloc;
    return 0;
}

ds_group *ds_groupsum_get(ds_groupsum *g, uint64_t k1)
{
    if (!g->cap)
        return NULL;   /* a failed reset */
    size_t i = home(g, k1);
    while (g->e[i].used && g->e[i].k1 != k1)
        i = (i + 1) & (g->cap - 1);
    if (!g->e[i].used) {
        if ((g->n + 1) * 4 > g->cap * 3) {
            if (grow(g) != 0)
                return NULL;
            i = home(g, k1);
            while (g->e[i].used)
                i = (i + 1) & (g->cap - 1);
        }
        g->e[i] = (ds_group){ .k1 = k1, .used = 1 };
        g->n++;
    }
    return &g->e[i];
}

void ds_groupsum_free(ds_groupsum *g)
{
    free(g->e);
    free(g->spare);
    memset(g, 0, sizeof *g);
}
