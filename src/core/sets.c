/* sets.c: see sets.h. */
#include "core/sets.h"

#include <stdlib.h>
#include <string.h>

#include "core/hash.h"

/* Set of (a, b) pairs, one 24-byte entry each so a probe touches one cache line. */

int ds_pairset_init(ds_pairset *t, size_t cap)
{
    t->cap = cap;
    t->n = 0;
    t->e = calloc(cap, sizeof *t->e);
    return t->e ? 0 : -1;
}
void ds_pairset_free(ds_pairset *t) { free(t->e); }

static inline size_t pair_home(uint64_t a, uint64_t b, size_t m)
{
    return (size_t)ds_mix64(a * 0x9e3779b97f4a7c15ULL ^ b) & m;
}

/* Set of u64 values (8 bytes an entry, so it stays in cache longer); 0 is kept as a flag. */

int ds_u64set_init(ds_u64set *t, size_t cap)
{
    t->cap = cap;
    t->n = 0;
    t->has_zero = 0;
    t->e = calloc(cap, sizeof *t->e);
    return t->e ? 0 : -1;
}

int ds_u64set_add(ds_u64set *t, uint64_t v)
{
    if (!v) {
        int added = !t->has_zero;
        t->has_zero = 1;
        t->n += (size_t)added;
        return added;
    }
    if ((t->n + 1) * 2 > t->cap) {
        size_t cap = t->cap * 2;
        uint64_t *n = calloc(cap, sizeof *n);
        if (!n)
            return -1;
        for (size_t i = 0; i < t->cap; i++) {
            if (!t->e[i])
                continue;
            size_t j = (size_t)ds_mix64(t->e[i]) & (cap - 1);
            while (n[j])
                j = (j + 1) & (cap - 1);
            n[j] = t->e[i];
        }
        free(t->e);
        t->e = n;
        t->cap = cap;
    }
    size_t m = t->cap - 1, j = (size_t)ds_mix64(v) & m;
    while (t->e[j]) {
        if (t->e[j] == v)
            return 0;
        j = (j + 1) & m;
    }
    t->e[j] = v;
    t->n++;
    return 1;
}

/* Set of non-zero u32 values: IPv4 sources, 4 bytes an entry. */

int ds_u32set_init(ds_u32set *t, size_t cap)
{
    t->cap = cap;
    t->n = 0;
    t->e = calloc(cap, sizeof *t->e);
    return t->e ? 0 : -1;
}

int ds_u32set_add(ds_u32set *t, uint32_t v)
{
    if ((t->n + 1) * 2 > t->cap) {
        size_t cap = t->cap * 2;
        uint32_t *n = calloc(cap, sizeof *n);
        if (!n)
            return -1;
        for (size_t i = 0; i < t->cap; i++) {
            if (!t->e[i])
                continue;
            size_t j = (size_t)((t->e[i] * 0x9e3779b97f4a7c15ULL) >> 20) & (cap - 1);
            while (n[j])
                j = (j + 1) & (cap - 1);
            n[j] = t->e[i];
        }
        free(t->e);
        t->e = n;
        t->cap = cap;
    }
    size_t m = t->cap - 1, j = (size_t)((v * 0x9e3779b97f4a7c15ULL) >> 20) & m;
    while (t->e[j]) {
        if (t->e[j] == v)
            return 0;
        j = (j + 1) & m;
    }
    t->e[j] = v;
    t->n++;
    return 1;
}

/* 1 if newly added, 0 if present, -1 out of memory */
int ds_pairset_add(ds_pairset *t, uint64_t a, uint64_t b)
{
    if ((t->n + 1) * 2 > t->cap) {
        size_t cap = t->cap * 2;
        ds_pair_ent *n = calloc(cap, sizeof *n);
        if (!n)
            return -1;
        for (size_t i = 0; i < t->cap; i++) {
            if (!t->e[i].used)
                continue;
            size_t j = pair_home(t->e[i].a, t->e[i].b, cap - 1);
            while (n[j].used)
                j = (j + 1) & (cap - 1);
            n[j] = t->e[i];
        }
        free(t->e);
        t->e = n;
        t->cap = cap;
    }
    size_t m = t->cap - 1, j = pair_home(a, b, m);
    while (t->e[j].used) {
        if (t->e[j].a == a && t->e[j].b == b)
            return 0;
        j = (j + 1) & m;
    }
    t->e[j] = (ds_pair_ent){ a, b, 1 };
    t->n++;
    return 1;
}


void ds_u64set_free(ds_u64set *t) { free(t->e); }
void ds_u32set_free(ds_u32set *t) { free(t->e); }

int ds_u64set_has(const ds_u64set *t, uint64_t v)
{
    if (!v)
        return t->has_zero;
    if (!t->e || !t->cap)
        return 0;
    size_t m = t->cap - 1, j = (size_t)ds_mix64(v) & m;
    for (; t->e[j]; j = (j + 1) & m)
        if (t->e[j] == v)
            return 1;
    return 0;
}

void ds_u64set_clear(ds_u64set *t)
{
    if (t->e && t->n)
        memset(t->e, 0, t->cap * sizeof *t->e);
    t->n = 0;
    t->has_zero = 0;
}
