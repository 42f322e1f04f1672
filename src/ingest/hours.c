/* hours.c: see hours.h. */
#include "ingest/hours.h"

#include <stdlib.h>
#include <string.h>

/* Make room for hour h: [h0, h0 + len) grows to include it.  -1 when out of memory or when the
 * span would pass DS_HOURS_SPAN_MAX (timestamps are checked before they get here; this only keeps
 * a bug from asking for gigabytes). */
static int reach(ds_hours *a, int64_t h)
{
    if (a->len == 0) {
        if (!a->cap) {
            if (!(a->n = calloc(64, sizeof *a->n)))
                return -1;
            a->cap = 64;
        }
        a->h0 = h;
        a->len = 1;
        a->n[0] = 0;
        return 0;
    }
    int64_t lo = h < a->h0 ? h : a->h0;
    int64_t hi = h >= a->h0 + (int64_t)a->len ? h + 1 : a->h0 + (int64_t)a->len;
    if (hi - lo > (int64_t)DS_HOURS_SPAN_MAX)
        return -1;
    size_t need = (size_t)(hi - lo), shift = (size_t)(a->h0 - lo);
    if (need > a->cap) {
        size_t cap = a->cap * 2 > need ? a->cap * 2 : need;
        uint32_t *n = realloc(a->n, cap * sizeof *n);
        if (!n)
            return -1;
        a->n = n;
        a->cap = cap;
    }
    if (shift) {
        memmove(a->n + shift, a->n, a->len * sizeof *a->n);
        memset(a->n, 0, shift * sizeof *a->n);
    }
    memset(a->n + shift + a->len, 0, (need - shift - a->len) * sizeof *a->n);
    a->h0 = lo;
    a->len = need;
    return 0;
}

int ds_hours_add_slow(ds_hours *a, int64_t h, uint32_t k)
{
    if ((a->len == 0 || h < a->h0 || h >= a->h0 + (int64_t)a->len) && reach(a, h) != 0)
        return -1;
    uint32_t *v = &a->n[h - a->h0];
    *v = k > UINT32_MAX - *v ? UINT32_MAX : *v + k;
    return 0;
}

int ds_hours_merge(ds_hours *a, const ds_hours *b)
{
    for (size_t i = 0; i < b->len; i++)
        if (b->n[i] && ds_hours_add(a, b->h0 + (int64_t)i, b->n[i]) != 0)
            return -1;
    return 0;
}

void ds_hours_free(ds_hours *a)
{
    free(a->n);
    memset(a, 0, sizeof *a);
}
