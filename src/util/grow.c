/* grow.c: see grow.h. */
#include "util/grow.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

void *ds_grow(void *arr, size_t *cap, size_t elem, size_t first)
{
    size_t n = *cap ? *cap : first;
    if (*cap && n > SIZE_MAX / 2)
        return NULL;
    if (*cap)
        n *= 2;
    if (!elem || n > SIZE_MAX / elem)
        return NULL;
    void *p = realloc(arr, n * elem);
    if (p)
        *cap = n;
    return p;
}

void *ds_grow_push(void **arr, size_t *n, size_t *cap, size_t elem, size_t first)
{
    if (*n == *cap) {
        void *p = ds_grow(*arr, cap, elem, first);
        if (!p)
            return NULL;
        *arr = p;
    }
    void *e = (char *)*arr + (*n)++ * elem;
    memset(e, 0, elem);
    return e;
}
