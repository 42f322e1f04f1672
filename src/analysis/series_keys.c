/* series_keys.c: see series_keys.h. */
#include "analysis/series_keys.h"

#include <stdlib.h>
#include <string.h>

#include "core/hash.h"

int ds_series_keys_init(ds_series_keys *k)
{
    memset(k, 0, sizeof *k);
    k->cap = DS_SK_DENSE + 64;
    k->p = calloc(k->cap, sizeof *k->p);
    k->q = calloc(k->cap, sizeof *k->q);
    k->known = calloc(k->cap, sizeof *k->known);
    if (!k->p || !k->q || !k->known) {
        ds_series_keys_free(k);
        return -1;
    }
    return 0;
}

void ds_series_keys_free(ds_series_keys *k)
{
    free(k->p);
    free(k->q);
    free(k->known);
    free(k->other_key);
    free(k->other_idx);
    memset(k, 0, sizeof *k);
}

static size_t other_pos(const ds_series_keys *k, uint32_t service)
{
    size_t i = (size_t)ds_mix64(service) & (k->other_cap - 1);
    while (k->other_idx[i] && k->other_key[i] != service)
        i = (i + 1) & (k->other_cap - 1);
    return i;
}

/* Room for one more service of another protocol: the map at most half full, the arrays by index
 * one longer.  -1 when out of memory (nothing changed). */
static int other_reserve(ds_series_keys *k)
{
    if ((k->nother + 1) * 2 > k->other_cap) {
        size_t cap = k->other_cap ? k->other_cap * 2 : 64;
        uint32_t *key = calloc(cap, sizeof *key), *idx = calloc(cap, sizeof *idx);
        if (!key || !idx) {
            free(key);
            free(idx);
            return -1;
        }
        for (size_t i = 0; i < k->other_cap; i++)
            if (k->other_idx[i]) {
                size_t j = (size_t)ds_mix64(k->other_key[i]) & (cap - 1);
                while (idx[j])
                    j = (j + 1) & (cap - 1);
                key[j] = k->other_key[i];
                idx[j] = k->other_idx[i];
            }
        free(k->other_key);
        free(k->other_idx);
        k->other_key = key;
        k->other_idx = idx;
        k->other_cap = cap;
    }
    if (DS_SK_DENSE + k->nother + 1 > k->cap) {
        size_t cap = k->cap * 2;
        uint64_t *p = realloc(k->p, cap * sizeof *p);
        if (p)
            k->p = p;
        uint64_t *q = p ? realloc(k->q, cap * sizeof *q) : NULL;
        if (q)
            k->q = q;
        uint16_t *known = q ? realloc(k->known, cap * sizeof *known) : NULL;
        if (!known)
            return -1;   /* the arrays grown so far are kept: still valid, only longer */
        k->known = known;
        memset(k->p + k->cap, 0, (cap - k->cap) * sizeof *k->p);
        memset(k->q + k->cap, 0, (cap - k->cap) * sizeof *k->q);
        memset(k->known + k->cap, 0, (cap - k->cap) * sizeof *k->known);
        k->cap = cap;
    }
    return 0;
}

long ds_series_keys_find_other(const ds_series_keys *k, uint32_t service)
{
    if (!k->other_cap)
        return -1;
    size_t i = other_pos(k, service);
    return k->other_idx[i] ? (long)k->other_idx[i] : -1;
}

long ds_series_keys_meet_new(ds_series_keys *k, int dim, uint32_t key)
{
    long i = ds_series_keys_find(k, dim, key);
    if (i < 0) {   /* a service of another protocol, not met before */
        if (other_reserve(k) != 0)
            return -1;
        size_t at = other_pos(k, key);
        i = (long)(DS_SK_DENSE + k->nother++);
        k->other_key[at] = key;
        k->other_idx[at] = (uint32_t)i;
    }
    k->known[i] = 1;
    return i;
}
