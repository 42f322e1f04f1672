/* grow.c: see grow.h. */
#include "util/grow.h"

#include <stdint.h>
#include <stdlib.h>

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
