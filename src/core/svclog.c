/* svclog.c: sort and reduce the (source, service, class) log (design note in svclog.h).
 *
 * The sort is a least-significant-digit radix sort (Knuth, TAOCP vol. 3, 5.2.5) with 11-bit
 * digits: one read pass builds the histograms of every digit, then one stable scatter pass per
 * digit ping-pongs between the log and a second buffer.  A digit that is the same in every item
 * (the top of the source index, the class's spare bit...) costs no pass.  A day of random-port
 * backscatter with a few thousand sources needs four passes.
 */
#include "core/svclog.h"

#include <stdlib.h>
#include <string.h>

_Static_assert(DS_SVCLOG_DIGITS * DS_SVCLOG_DIGIT_BITS >= 64, "the digits cover the key");


int ds_svclog_init(ds_svclog *l, size_t cap)
{
    memset(l, 0, sizeof *l);
    if (cap < 64)
        cap = 64;
    l->v = malloc(cap * sizeof *l->v);
    l->cache = calloc(DS_SVCLOG_CACHE, sizeof *l->cache);
    if (!l->v || !l->cache) {
        ds_svclog_free(l);
        return -1;
    }
    l->cap = cap;
    return 0;
}

void ds_svclog_free(ds_svclog *l)
{
    free(l->v);
    free(l->tmp);
    free(l->hist);
    free(l->cache);
    memset(l, 0, sizeof *l);
}

size_t ds_svclog_memory(const ds_svclog *l)
{
    return (l->cap + l->captmp) * sizeof(ds_svc_item) + (l->cache ? DS_SVCLOG_CACHE * sizeof(ds_svc_item) : 0) +
           (l->hist ? DS_SVCLOG_DIGITS * sizeof *l->hist : 0);
}

/* Sort a[0, n) by key, using b[0, n) as the second buffer and hist as the digit counts (n is
 * below 2^32: ds_svclog_spill keeps the log there); returns the buffer holding the result. */
static ds_svc_item *radix_sort(ds_svc_item *a, ds_svc_item *b, size_t n, uint32_t (*hist)[DS_SVCLOG_RADIX])
{
    if (n < 2)
        return a;
    uint64_t any = 0;
    for (size_t i = 0; i < n; i++)
        any |= a[i].key;
    int digits = 0;
    while (digits < DS_SVCLOG_DIGITS && (any >> (digits * DS_SVCLOG_DIGIT_BITS)))
        digits++;
    memset(hist, 0, (size_t)digits * sizeof hist[0]);
    for (size_t i = 0; i < n; i++) {
        uint64_t k = a[i].key;
        for (int d = 0; d < digits; d++)
            hist[d][(k >> (d * DS_SVCLOG_DIGIT_BITS)) & (DS_SVCLOG_RADIX - 1)]++;
    }
    for (int d = 0; d < digits; d++) {
        unsigned shift = (unsigned)d * DS_SVCLOG_DIGIT_BITS;
        uint32_t *h = hist[d];
        if (h[(a[0].key >> shift) & (DS_SVCLOG_RADIX - 1)] == n)   /* every item has this digit */
            continue;
        uint32_t sum = 0;
        for (size_t j = 0; j < DS_SVCLOG_RADIX; j++) {
            uint32_t c = h[j];
            h[j] = sum;
            sum += c;
        }
        for (size_t i = 0; i < n; i++)
            b[h[(a[i].key >> shift) & (DS_SVCLOG_RADIX - 1)]++] = a[i];
        ds_svc_item *t = a;
        a = b;
        b = t;
    }
    return a;
}

/* Fold equal neighbours of the sorted src[0, n) into dst (which may be src); the count written. */
static size_t fold_sorted(ds_svc_item *dst, const ds_svc_item *src, size_t n)
{
    if (!n)
        return 0;
    size_t w = 0;
    dst[0] = src[0];
    for (size_t i = 1; i < n; i++) {
        if (src[i].key == dst[w].key)
            ds_svc_fold(&dst[w], &src[i]);
        else
            dst[++w] = src[i];
    }
    return w + 1;
}

/* Sort and fold the appended part, and merge it into the reduced part. */
static int reduce_tail(ds_svclog *l)
{
    size_t p = l->nsorted, t = l->n - p;
    if (!t)
        return 0;
    if (!l->hist && !(l->hist = malloc(DS_SVCLOG_DIGITS * sizeof *l->hist)))
        return -1;
    if (l->captmp < t) {
        ds_svc_item *nt = malloc(l->cap * sizeof *nt);
        if (!nt)
            return -1;
        free(l->tmp);
        l->tmp = nt;
        l->captmp = l->cap;
    }
    /* the tail, sorted and folded, into tmp[0, t) */
    ds_svc_item *s = radix_sort(l->v + p, l->tmp, t, l->hist);
    t = fold_sorted(l->tmp, s, t);
    /* merge from the back: the write position never passes the reduced part's next read (it
     * stays >= the items left to read of both parts), so v holds the result at [w, p + t) */
    size_t i = p, j = t, w = p + t;
    ds_svc_item *v = l->v, *x = l->tmp;
    while (j) {
        if (i && v[i - 1].key >= x[j - 1].key) {
            if (v[i - 1].key == x[j - 1].key) {   /* the reduced part came first */
                ds_svc_item m = v[i - 1];
                ds_svc_fold(&m, &x[j - 1]);
                v[--w] = m;
                i--;
                j--;
            } else {
                v[--w] = v[--i];
            }
        } else {
            v[--w] = x[--j];
        }
    }
    /* what is left of the reduced part, v[0, i), is already in order below w */
    if (w != i)
        memmove(v + i, v + w, (p + t - w) * sizeof *v);
    l->n = l->nsorted = i + (p + t - w);
    return 0;
}

int ds_svclog_spill(ds_svclog *l)
{
    if (reduce_tail(l) != 0)
        return -1;
    l->spills++;
    if (l->n > l->cap / 2) {   /* the reduction freed less than half: grow */
        if (l->cap > UINT32_MAX / 2)   /* the sort counts in 32 bits: 2^31 distinct keys a day at most */
            return -1;
        ds_svc_item *nv = realloc(l->v, l->cap * 2 * sizeof *nv);
        if (!nv)
            return -1;
        l->v = nv;
        l->cap *= 2;
    }
    return 0;
}

int ds_svclog_reduce(ds_svclog *l)
{
    for (size_t i = 0; i < DS_SVCLOG_CACHE; i++) {
        ds_svc_item *c = &l->cache[i];
        if (!c->packets)
            continue;
        if (l->n == l->cap && ds_svclog_spill(l) != 0)
            return -1;
        l->v[l->n++] = *c;
        c->packets = 0;
    }
    return reduce_tail(l);
}

void ds_svclog_clear(ds_svclog *l)
{
    l->n = l->nsorted = 0;
    for (size_t i = 0; i < DS_SVCLOG_CACHE; i++)
        l->cache[i].packets = 0;
}
