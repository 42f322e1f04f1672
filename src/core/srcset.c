/* srcset.c: see srcset.h. */
#include "core/srcset.h"

#include <stdlib.h>
#include <string.h>

#define V6_FIRST ((uint64_t)1 << 63)   /* smallest IPv6 key (ds_src_key sets bit 63) */

void ds_srcvec_free(ds_srcvec *s)
{
    free(s->v4);
    free(s->v6);
    free(s->runs);
    memset(s, 0, sizeof *s);
}

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 0;
    size_t c = *cap ? *cap : 16;
    while (c < need) {
        if (c > SIZE_MAX / 2 / elem)
            return -1;
        c *= 2;
    }
    void *q = realloc(*p, c * elem);
    if (!q)
        return -1;
    *p = q;
    *cap = c;
    return 0;
}

int ds_srcvec_add(ds_srcvec *s, uint64_t key)
{
    s->mixed = 1;
    s->sorted = 0;
    if (key <= UINT32_MAX) {
        if (s->n4 == s->cap4 && grow((void **)&s->v4, &s->cap4, s->n4 + 1, sizeof *s->v4) != 0)
            return -1;
        s->v4[s->n4++] = (uint32_t)key;
    } else {
        if (s->n6 == s->cap6 && grow((void **)&s->v6, &s->cap6, s->n6 + 1, sizeof *s->v6) != 0)
            return -1;
        s->v6[s->n6++] = key;
    }
    return 0;
}

/* LSD radix sort, three passes of 11 bits, through tmp (n values). */
static void radix32(uint32_t *v, uint32_t *tmp, size_t n)
{
    static const int shift[3] = { 0, 11, 22 };
    uint32_t *src = v, *dst = tmp;
    for (int p = 0; p < 3; p++) {
        size_t count[2048] = { 0 };
        for (size_t i = 0; i < n; i++)
            count[src[i] >> shift[p] & 2047]++;
        if (count[src[0] >> shift[p] & 2047] == n)   /* one bucket: the pass would not move anything */
            continue;
        size_t sum = 0;
        for (size_t b = 0; b < 2048; b++) {
            size_t c = count[b];
            count[b] = sum;
            sum += c;
        }
        for (size_t i = 0; i < n; i++)
            dst[count[src[i] >> shift[p] & 2047]++] = src[i];
        uint32_t *t = src;
        src = dst;
        dst = t;
    }
    if (src != v)
        memcpy(v, src, n * sizeof *v);
}

void ds_sort_u64(uint64_t *v, uint64_t *tmp, size_t n)
{
    if (n < 2)
        return;
    uint64_t vary = 0;   /* the bits that differ between values: digits without any are skipped */
    for (size_t i = 1; i < n; i++)
        vary |= v[i] ^ v[0];
    uint64_t *src = v, *dst = tmp;
    for (int shift = 0; shift < 64; shift += 11) {
        if (!(vary >> shift & 2047))
            continue;
        size_t count[2048] = { 0 };
        for (size_t i = 0; i < n; i++)
            count[src[i] >> shift & 2047]++;
        size_t sum = 0;
        for (size_t b = 0; b < 2048; b++) {
            size_t c = count[b];
            count[b] = sum;
            sum += c;
        }
        for (size_t i = 0; i < n; i++)
            dst[count[src[i] >> shift & 2047]++] = src[i];
        uint64_t *t = src;
        src = dst;
        dst = t;
    }
    if (src != v)
        memcpy(v, src, n * sizeof *v);
}

static int cmp64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Sort v4 when it is decoded sets, i.e. ascending runs (runs[]): merged two by two, bottom-up,
 * through a buffer (log2(runs) sequential passes; repeats kept, dropped by the caller).  A month's
 * rollup merge unites 20-30 days' sets of a few to a few thousand sources each: a radix sort
 * cleared its three 16 KiB histograms for each of them, and insertion sort was quadratic in a
 * union of 30 small sets.  -1 out of memory (v4 is then unchanged). */
static int merge_runs(ds_srcvec *s)
{
    size_t n = s->n4, nr = s->nruns;
    uint32_t *tmp = malloc(n * sizeof *tmp);
    size_t *end = malloc((nr + 1) * sizeof *end);   /* end[r + 1]: where run r ends; end[0] = 0 */
    if (!tmp || !end) {
        free(tmp);
        free(end);
        return -1;
    }
    end[0] = 0;
    memcpy(end + 1, s->runs, nr * sizeof *end);
    uint32_t *src = s->v4, *dst = tmp;
    while (nr > 1) {
        size_t w = 0;
        for (size_t r = 0; r < nr; r += 2) {
            size_t i = end[r], mid = end[r + 1], hi = r + 2 <= nr ? end[r + 2] : mid, j = mid, o = i;
            while (i < mid && j < hi)
                dst[o++] = src[j] < src[i] ? src[j++] : src[i++];
            while (i < mid)
                dst[o++] = src[i++];
            while (j < hi)
                dst[o++] = src[j++];
            end[++w] = hi;
        }
        nr = w;
        uint32_t *t = src;
        src = dst;
        dst = t;
    }
    if (src != s->v4)
        memcpy(s->v4, src, n * sizeof *src);
    free(tmp);
    free(end);
    return 0;
}

int ds_srcvec_normalize(ds_srcvec *s)
{
    if (s->sorted)
        return 0;
    /* decoded sets (ascending runs, nothing added otherwise): one run is sorted already */
    int runs = !s->mixed && s->nruns && s->runs[s->nruns - 1] == s->n4;
    if (s->n4 > 1 && runs && s->nruns == 1) {
        /* strictly ascending as decoded: nothing to sort or drop */
    } else if (s->n4 > 1) {
        if (runs && s->n4 >= 64 && s->n4 < 65536) {
            if (merge_runs(s) != 0)
                return -1;
        } else if (s->n4 < 64) {   /* insertion sort: no buffer */
            for (size_t i = 1; i < s->n4; i++) {
                uint32_t x = s->v4[i];
                size_t j = i;
                for (; j && s->v4[j - 1] > x; j--)
                    s->v4[j] = s->v4[j - 1];
                s->v4[j] = x;
            }
        } else {
            uint32_t *tmp = malloc(s->n4 * sizeof *tmp);
            if (!tmp)
                return -1;
            radix32(s->v4, tmp, s->n4);
            free(tmp);
        }
        size_t k = 1;
        for (size_t i = 1; i < s->n4; i++)
            if (s->v4[i] != s->v4[k - 1])
                s->v4[k++] = s->v4[i];
        s->n4 = k;
    }
    if (s->n6 > 1) {   /* IPv6 sources are few on telescopes: no radix sort for them */
        qsort(s->v6, s->n6, sizeof *s->v6, cmp64);
        size_t k = 1;
        for (size_t i = 1; i < s->n6; i++)
            if (s->v6[i] != s->v6[k - 1])
                s->v6[k++] = s->v6[i];
        s->n6 = k;
    }
    s->sorted = 1;
    s->mixed = 1;   /* one sorted array now, not runs */
    s->nruns = 0;
    return 0;
}

/* Distinct values of the runs of v4: for each block of 2^20 values (the high 12 bits) in turn,
 * every run's values in it (each run ascends, so they are the next ones) marked in a bitmap of the
 * low 20 bits (128 KiB, inside L2), counted as they are new, then the bitmap's words those values
 * set cleared again.  Reads each value twice, in order, where a sort would scatter it three times.
 * Until 2026-12 a block was one /16 (an 8 KiB bitmap): the walk then stepped every run 65,536
 * times, which for a quarter's 182 daily sets of a busy service was 12 M steps whatever the sets
 * held, a fifth of a service's view in `serve` (bench/serve.sh); 4,096 blocks make it 0.7 M. */
#define RUNS_BLOCK_BITS 20
static int64_t runs_distinct(const ds_srcvec *s)
{
    size_t nr = s->nruns;
    size_t *pos = malloc(2 * nr * sizeof *pos);
    uint64_t *bm = calloc((size_t)1 << (RUNS_BLOCK_BITS - 6), sizeof *bm);
    if (!pos || !bm) {
        free(pos);
        free(bm);
        return -1;
    }
    size_t *next = pos + nr;
    for (size_t r = 0; r < nr; r++)
        pos[r] = r ? s->runs[r - 1] : 0;
    const uint32_t lomask = ((uint32_t)1 << RUNS_BLOCK_BITS) - 1;
    int64_t count = 0;
    const uint32_t *v = s->v4;
    for (uint32_t h = 0; h < (uint32_t)1 << (32 - RUNS_BLOCK_BITS); h++) {
        for (size_t r = 0; r < nr; r++) {
            size_t p = pos[r], end = s->runs[r];
            for (; p < end && v[p] >> RUNS_BLOCK_BITS == h; p++) {
                uint32_t lo = v[p] & lomask;
                uint64_t bit = (uint64_t)1 << (lo & 63);
                count += !(bm[lo >> 6] & bit);
                bm[lo >> 6] |= bit;
            }
            next[r] = p;
        }
        for (size_t r = 0; r < nr; r++) {
            for (size_t p = pos[r]; p < next[r]; p++)
                bm[(v[p] & lomask) >> 6] = 0;
            pos[r] = next[r];
        }
    }
    free(pos);
    free(bm);
    return count;
}

int64_t ds_srcvec_distinct(ds_srcvec *s)
{
    if (!s->sorted && !s->mixed && s->nruns >= 2 && s->n4 >= 65536) {
        int64_t c4 = runs_distinct(s);
        if (c4 < 0)
            return -1;
        size_t n4 = s->n4;
        s->n4 = 0;   /* the IPv6 keys alone through normalize */
        s->sorted = 0;
        int rc = ds_srcvec_normalize(s);
        s->n4 = n4;
        s->sorted = 0;
        s->mixed = 1;
        return rc != 0 ? -1 : c4 + (int64_t)s->n6;
    }
    return ds_srcvec_normalize(s) != 0 ? -1 : (int64_t)(s->n4 + s->n6);
}

/* The kept first set into the vector. */
static ds_rc pend_decode(ds_srcacc *a, ds_err *err)
{
    if (!a->has_pend)
        return DS_OK;
    a->has_pend = 0;
    ds_rc rc = ds_srcset_decode(a->pend, a->pend_len, a->pend4, a->pend6, &a->v, err);
    a->pend4 = a->pend6 = 0;
    return rc;
}

ds_rc ds_srcacc_add(ds_srcacc *a, const uint8_t *set, size_t len, uint32_t n4, uint32_t n6, ds_err *err)
{
    if (!a->has_pend && !a->v.n4 && !a->v.n6 && !a->v.mixed && (n4 || n6)) {   /* the first set: kept as it is */
        if (len > a->pend_cap) {
            uint8_t *p = realloc(a->pend, len);
            if (!p)
                return ds_fail(err, DS_ENOMEM, "out of memory counting sources");
            a->pend = p;
            a->pend_cap = len;
        }
        memcpy(a->pend, set, len);
        a->pend_len = len;
        a->pend4 = n4;
        a->pend6 = n6;
        a->has_pend = 1;
        return DS_OK;
    }
    ds_rc rc = pend_decode(a, err);
    if (rc == DS_OK)
        rc = ds_srcset_decode(set, len, n4, n6, &a->v, err);
    if (rc != DS_OK)
        return rc;
    if (a->v.n4 + a->v.n6 > 2 * a->norm + ((size_t)64 << 20)) {   /* past 256 MB: a set again */
        if (ds_srcvec_normalize(&a->v) != 0)
            return ds_fail(err, DS_ENOMEM, "out of memory counting sources");
        a->norm = a->v.n4 + a->v.n6;
    }
    return DS_OK;
}

int64_t ds_srcacc_distinct(ds_srcacc *a, ds_err *err)
{
    if (a->has_pend && !a->v.n4 && !a->v.n6)   /* one set: strictly ascending as encoded */
        return (int64_t)a->pend4 + a->pend6;
    if (pend_decode(a, err) != DS_OK)
        return -2;
    return ds_srcvec_distinct(&a->v);
}

void ds_srcacc_free(ds_srcacc *a)
{
    ds_srcvec_free(&a->v);
    free(a->pend);
    memset(a, 0, sizeof *a);
}

static inline size_t varint_len(uint64_t v)
{
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

static inline uint8_t *varint_put(uint8_t *p, uint64_t v)
{
    while (v >= 0x80) {
        *p++ = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    *p++ = (uint8_t)v;
    return p;
}

size_t ds_srcset_encoded_size(const ds_srcvec *s)
{
    size_t n = 0;
    uint64_t prev = 0;
    for (size_t i = 0; i < s->n4; i++) {
        n += varint_len(s->v4[i] - prev);
        prev = s->v4[i];
    }
    prev = V6_FIRST;
    for (size_t i = 0; i < s->n6; i++) {
        n += varint_len(s->v6[i] - prev);
        prev = s->v6[i];
    }
    return n;
}

size_t ds_srcset_encode(const ds_srcvec *s, uint8_t *out)
{
    uint8_t *p = out;
    uint64_t prev = 0;
    for (size_t i = 0; i < s->n4; i++) {
        p = varint_put(p, s->v4[i] - prev);
        prev = s->v4[i];
    }
    prev = V6_FIRST;
    for (size_t i = 0; i < s->n6; i++) {
        p = varint_put(p, s->v6[i] - prev);
        prev = s->v6[i];
    }
    return (size_t)(p - out);
}

/* One varint of at most maxbits bits at *p (< end); -1 when cut short or too long. */
static inline int varint_get(const uint8_t **pp, const uint8_t *end, unsigned maxbits, uint64_t *v)
{
    const uint8_t *p = *pp;
    uint64_t x = 0;
    for (unsigned shift = 0; p < end && shift < maxbits; shift += 7) {
        uint8_t b = *p++;
        if (shift + 7 > maxbits && (uint64_t)(b & 0x7f) >> (maxbits - shift))
            return -1;   /* bits beyond maxbits */
        x |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *pp = p;
            *v = x;
            return 0;
        }
    }
    return -1;
}

ds_rc ds_srcset_decode(const uint8_t *p, size_t len, uint32_t n4, uint32_t n6, ds_srcvec *out, ds_err *err)
{
    const uint8_t *end = p + len;
    /* every value takes at least one byte: counts larger than the bytes are damage, and checking
     * it first bounds the memory a damaged count can ask for */
    if ((uint64_t)n4 + n6 > len)
        return ds_fail(err, DS_EFORMAT, "source set: %u + %u sources cannot fit in %zu bytes", n4, n6, len);
    if (grow((void **)&out->v4, &out->cap4, out->n4 + n4, sizeof *out->v4) != 0 ||
        grow((void **)&out->v6, &out->cap6, out->n6 + n6, sizeof *out->v6) != 0)
        return ds_fail(err, DS_ENOMEM, "out of memory reading a source set");
    uint64_t prev = 0, d;
    uint32_t *v4 = out->v4 + out->n4;
    for (uint32_t i = 0; i < n4; i++) {
        if (varint_get(&p, end, 32, &d) != 0)
            return ds_fail(err, DS_EFORMAT, "source set: IPv4 source %u of %u is cut short or too long", i + 1, n4);
        if ((i && !d) || prev + d > UINT32_MAX)
            return ds_fail(err, DS_EFORMAT, "source set: IPv4 source %u of %u is not above the one before", i + 1, n4);
        prev += d;
        v4[i] = (uint32_t)prev;
    }
    prev = V6_FIRST;
    uint64_t *v6 = out->v6 + out->n6;
    for (uint32_t i = 0; i < n6; i++) {
        if (varint_get(&p, end, 63, &d) != 0)
            return ds_fail(err, DS_EFORMAT, "source set: IPv6 source %u of %u is cut short or too long", i + 1, n6);
        if ((i && !d) || d > UINT64_MAX - prev)
            return ds_fail(err, DS_EFORMAT, "source set: IPv6 source %u of %u is not above the one before", i + 1, n6);
        prev += d;
        v6[i] = prev;
    }
    if (p != end)
        return ds_fail(err, DS_EFORMAT, "source set: %zu bytes left over after %u + %u sources", (size_t)(end - p), n4, n6);
    if (n4 && !out->mixed) {   /* a new run; without room for it the vector is just mixed */
        if (grow((void **)&out->runs, &out->capruns, out->nruns + 1, sizeof *out->runs) == 0)
            out->runs[out->nruns++] = out->n4 + n4;
        else
            out->mixed = 1;
    }
    if (n4 || n6)
        out->sorted = 0;
    out->n4 += n4;
    out->n6 += n6;
    return DS_OK;
}
