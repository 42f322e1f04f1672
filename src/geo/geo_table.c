/* geo_table.c: compiles loaded ranges into the flat lookup table, and validates such a table.
 *
 * Why a flat table: libmaxminddb's MMDB_lookup costs ~1 us (a bit-by-bit walk of up to 128
 * tree nodes scattered over the file).  A sorted array of range starts that partitions the
 * whole address space, with a first-level index on the top 16 bits, answers with one index
 * load plus a binary search over a handful of neighbouring starts (typically one or two cache
 * lines).  Country and ASN partitions are merged into one table of (start, pair) where a pair
 * is a distinct (country, ASN) combination, so a lookup is one search, not two.
 *
 * Overlapping input ranges (possible in CSV files, never in an MMDB tree walk): the more
 * specific (smaller) range wins; between two ranges of the same size, the one loaded later
 * wins.  Resolved by a sweep over the range boundaries with a heap of the open ranges ordered
 * by that priority.  Inputs that are already sorted and disjoint (all real data) take a linear
 * fast path.
 *
 * Image layout (also the cache file; see geo_int.h): a fixed header, then 8-byte aligned
 * sections.  geo_image_attach() trusts nothing in it: every offset and count is bounds-checked,
 * the index must be monotonic and in range, every value must name an existing pair, every
 * string offset must lie inside a NUL-terminated string section, and an XXH3 hash over the
 * payload catches torn or bit-flipped files.
 */
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "core/hash.h"
#include "geo/geo_int.h"

/* ---------------------------------------------------------------- hash map */

static int map_grow(geo_map *m)
{
    size_t ncap = m->cap ? m->cap * 2 : 1024;
    uint64_t *keys = calloc(ncap, sizeof *keys);
    uint32_t *vals = calloc(ncap, sizeof *vals);
    uint8_t *used = calloc(ncap, 1);
    if (!keys || !vals || !used) {
        free(keys);
        free(vals);
        free(used);
        return -1;
    }
    for (size_t i = 0; i < m->cap; i++) {
        if (!m->used[i])
            continue;
        size_t j = (size_t)ds_mix64(m->keys[i]) & (ncap - 1);
        while (used[j])
            j = (j + 1) & (ncap - 1);
        used[j] = 1;
        keys[j] = m->keys[i];
        vals[j] = m->vals[i];
    }
    free(m->keys);
    free(m->vals);
    free(m->used);
    m->keys = keys;
    m->vals = vals;
    m->used = used;
    m->cap = ncap;
    return 0;
}

uint32_t *geo_map_put(geo_map *m, uint64_t key, int *inserted)
{
    *inserted = 0;
    if ((m->n + 1) * 2 > m->cap && map_grow(m) != 0)
        return NULL;
    size_t j = (size_t)ds_mix64(key) & (m->cap - 1);
    while (m->used[j]) {
        if (m->keys[j] == key)
            return &m->vals[j];
        j = (j + 1) & (m->cap - 1);
    }
    m->used[j] = 1;
    m->keys[j] = key;
    m->vals[j] = 0;
    m->n++;
    *inserted = 1;
    return &m->vals[j];
}

const uint32_t *geo_map_get(const geo_map *m, uint64_t key)
{
    if (!m->cap)
        return NULL;
    size_t j = (size_t)ds_mix64(key) & (m->cap - 1);
    while (m->used[j]) {
        if (m->keys[j] == key)
            return &m->vals[j];
        j = (j + 1) & (m->cap - 1);
    }
    return NULL;
}

void geo_map_free(geo_map *m)
{
    free(m->keys);
    free(m->vals);
    free(m->used);
    memset(m, 0, sizeof *m);
}

/* ---------------------------------------------------------------- sink */

ds_rc geo_sink_add(geo_sink *s, int role, int fam, geo_u128 start, geo_u128 end, uint32_t val,
                   ds_err *err)
{
    geo_ranges *r = &s->fam[role][fam];
    if (r->n == r->cap) {
        size_t ncap = r->cap ? r->cap * 2 : 4096;
        geo_range *v = realloc(r->v, ncap * sizeof *v);
        if (!v)
            return ds_fail(err, DS_ENOMEM, "geo: out of memory holding %zu ranges", r->n);
        r->v = v;
        r->cap = ncap;
    }
    geo_range *x = &r->v[r->n++];
    x->start = start;
    x->end = end;
    x->val = val;
    x->seq = s->seq++;
    return DS_OK;
}

static int orgs_reserve(geo_orgs *o, size_t more)
{
    if (more <= o->cap - o->len)
        return 0;
    size_t ncap = o->cap ? o->cap : 65536;
    while (more > ncap - o->len)
        ncap *= 2;
    char *b = realloc(o->blob, ncap);
    if (!b)
        return -1;
    o->blob = b;
    o->cap = ncap;
    return 0;
}

ds_rc geo_org_set(geo_sink *s, uint32_t asn, const char *name, size_t len, ds_err *err)
{
    geo_orgs *o = &s->orgs;
    if (o->len == 0) {             /* offset 0 is the empty name */
        if (orgs_reserve(o, 1) != 0)
            goto nomem;
        o->blob[o->len++] = '\0';
    }
    if (asn == 0)
        return DS_OK;
    int inserted;
    uint32_t *slot = geo_map_put(&o->by_asn, asn, &inserted);
    if (!slot)
        goto nomem;
    if (!inserted)
        return DS_OK;              /* first name seen for an ASN wins */
    if (len == 0 || len >= UINT32_MAX / 2 || o->len >= UINT32_MAX / 2) {
        *slot = 0;
        return DS_OK;
    }
    if (orgs_reserve(o, len + 1) != 0)
        goto nomem;
    *slot = (uint32_t)o->len;
    memcpy(o->blob + o->len, name, len);
    o->len += len;
    o->blob[o->len++] = '\0';
    return DS_OK;
nomem:
    return ds_fail(err, DS_ENOMEM, "geo: out of memory holding organisation names");
}

void geo_sink_free(geo_sink *s)
{
    for (int r = 0; r < GEO_NROLES; r++)
        for (int f = 0; f < GEO_NFAMS; f++)
            free(s->fam[r][f].v);
    geo_map_free(&s->orgs.by_asn);
    free(s->orgs.blob);
    memset(s, 0, sizeof *s);
}

/* ---------------------------------------------------------------- partitions */

/* A partition of [0, max]: start[0] == 0, strictly increasing, val of each piece. */
typedef struct geo_part {
    geo_u128 *start;
    uint32_t *val;
    size_t n, cap;
} geo_part;

static int part_push(geo_part *p, geo_u128 start, uint32_t val)
{
    if (p->n && p->val[p->n - 1] == val)
        return 0;                       /* coalesce equal neighbours */
    if (p->n && p->start[p->n - 1] == start) {
        p->val[p->n - 1] = val;         /* empty predecessor piece: replace */
        if (p->n > 1 && p->val[p->n - 2] == val)
            p->n--;
        return 0;
    }
    if (p->n == p->cap) {
        size_t ncap = p->cap ? p->cap * 2 : 4096;
        geo_u128 *s = realloc(p->start, ncap * sizeof *s);
        if (!s)
            return -1;
        p->start = s;
        uint32_t *v = realloc(p->val, ncap * sizeof *v);
        if (!v)
            return -1;
        p->val = v;
        p->cap = ncap;
    }
    p->start[p->n] = start;
    p->val[p->n] = val;
    p->n++;
    return 0;
}

static void part_free(geo_part *p)
{
    free(p->start);
    free(p->val);
    memset(p, 0, sizeof *p);
}

static int cmp_range_start(const void *a, const void *b)
{
    const geo_range *x = a, *y = b;
    if (x->start != y->start)
        return x->start < y->start ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int cmp_u128(const void *a, const void *b)
{
    geo_u128 x = *(const geo_u128 *)a, y = *(const geo_u128 *)b;
    return x < y ? -1 : x > y;
}

/* Does range a take precedence over range b where they overlap? */
static int range_beats(const geo_range *a, const geo_range *b)
{
    geo_u128 sa = a->end - a->start, sb = b->end - b->start;
    if (sa != sb)
        return sa < sb;
    return a->seq > b->seq;
}

static void heap_push(uint32_t *h, size_t *n, const geo_range *r, uint32_t x)
{
    size_t i = (*n)++;
    h[i] = x;
    while (i > 0) {
        size_t up = (i - 1) / 2;
        if (!range_beats(&r[h[i]], &r[h[up]]))
            break;
        uint32_t t = h[i];
        h[i] = h[up];
        h[up] = t;
        i = up;
    }
}

static void heap_pop(uint32_t *h, size_t *n, const geo_range *r)
{
    h[0] = h[--*n];
    size_t i = 0;
    for (;;) {
        size_t l = 2 * i + 1, best = i;
        if (l < *n && range_beats(&r[h[l]], &r[h[best]]))
            best = l;
        if (l + 1 < *n && range_beats(&r[h[l + 1]], &r[h[best]]))
            best = l + 1;
        if (best == i)
            break;
        uint32_t t = h[i];
        h[i] = h[best];
        h[best] = t;
        i = best;
    }
}

/* Overlap resolution by a boundary sweep over one cluster of mutually overlapping ranges
 * (see the file comment).  Emits pieces from the cluster's first start up to and including
 * the point one past its last end (value 0 there), unless that is past max. */
static int partition_sweep(geo_range *v, size_t n, geo_u128 max, geo_part *out)
{
    int rc = -1;
    size_t npts = 0, nheap = 0, next = 0;
    geo_u128 *pts = malloc(2 * n * sizeof *pts);
    uint32_t *heap = malloc(n * sizeof *heap);
    if (!pts || !heap)
        goto out;
    for (size_t i = 0; i < n; i++) {
        pts[npts++] = v[i].start;
        if (v[i].end != max)
            pts[npts++] = v[i].end + 1;
    }
    qsort(pts, npts, sizeof *pts, cmp_u128);
    for (size_t k = 0; k < npts; k++) {
        geo_u128 p = pts[k];
        if (k && p == pts[k - 1])
            continue;
        while (next < n && v[next].start <= p)
            heap_push(heap, &nheap, v, (uint32_t)next++);
        while (nheap && v[heap[0]].end < p)
            heap_pop(heap, &nheap, v);
        if (part_push(out, p, nheap ? v[heap[0]].val : 0) != 0)
            goto out;
    }
    rc = 0;
out:
    free(pts);
    free(heap);
    return rc;
}

/* Ranges -> partition of [0, max].  Real data is sorted and disjoint but for the odd
 * overlapping pair, so only clusters of overlapping ranges go through the sweep. */
static int partition(geo_ranges *in, int fam, geo_part *out)
{
    geo_u128 max = geo_fam_max(fam);
    geo_range *v = in->v;
    size_t n = in->n;
    if (n > UINT32_MAX / 2)
        return -1;
    for (size_t i = 1; i < n; i++) {
        if (v[i].start < v[i - 1].start) {
            qsort(v, n, sizeof *v, cmp_range_start);
            break;
        }
    }
    geo_u128 cur = 0;
    int full = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i + 1;
        geo_u128 cend = v[i].end;
        while (j < n && v[j].start <= cend) {
            if (v[j].end > cend)
                cend = v[j].end;
            j++;
        }
        if (v[i].start > cur && part_push(out, cur, 0) != 0)
            return -1;
        if (j == i + 1) {
            if (part_push(out, v[i].start, v[i].val) != 0)
                return -1;
        } else if (partition_sweep(v + i, j - i, max, out) != 0) {
            return -1;
        }
        if (cend == max) {
            full = 1;
            break;
        }
        cur = cend + 1;
        i = j;
    }
    if (!full && part_push(out, cur, 0) != 0)
        return -1;
    return 0;
}

/* Merge the country and ASN partitions of one family into (start, pair index). */
static int merge_parts(const geo_part *cc, const geo_part *as, geo_map *pairs, geo_pair **pairv,
                       size_t *npairs, size_t *paircap, geo_part *out)
{
    size_t i = 0, j = 0;
    for (;;) {
        geo_u128 start = cc->start[i] > as->start[j] ? cc->start[i] : as->start[j];
        uint64_t key = (uint64_t)cc->val[i] << 32 | as->val[j];
        int inserted;
        uint32_t *slot = geo_map_put(pairs, key, &inserted);
        if (!slot)
            return -1;
        if (inserted) {
            if (*npairs == *paircap) {
                size_t ncap = *paircap * 2;
                geo_pair *v = realloc(*pairv, ncap * sizeof *v);
                if (!v)
                    return -1;
                *pairv = v;
                *paircap = ncap;
            }
            geo_pair *pr = &(*pairv)[*npairs];
            memset(pr, 0, sizeof *pr);
            pr->asn = as->val[j];
            pr->cc[0] = cc->val[i] ? (char)(cc->val[i] >> 8) : 'Z';   /* ZZ = unknown */
            pr->cc[1] = cc->val[i] ? (char)cc->val[i] : 'Z';
            *slot = (uint32_t)(*npairs)++;
        }
        if (part_push(out, start, *slot) != 0)
            return -1;
        int has_c = i + 1 < cc->n, has_a = j + 1 < as->n;
        if (!has_c && !has_a)
            break;
        if (has_c && has_a && cc->start[i + 1] == as->start[j + 1]) {
            i++;
            j++;
        } else if (has_c && (!has_a || cc->start[i + 1] < as->start[j + 1])) {
            i++;
        } else {
            j++;
        }
    }
    return 0;
}

static int cmp_org(const void *a, const void *b)
{
    const geo_org *x = a, *y = b;
    return x->asn < y->asn ? -1 : x->asn > y->asn;
}

static size_t align8(size_t x) { return (x + 7) & ~(size_t)7; }

ds_rc geo_image_build(geo_sink *s, const char *sources, size_t sources_len, uint8_t **out,
                      size_t *out_len, ds_err *err)
{
    ds_rc rc = DS_ENOMEM;
    geo_part parts[GEO_NROLES][GEO_NFAMS], merged[GEO_NFAMS];
    geo_map pairs = { 0 };
    size_t npairs = 0, paircap = 1024;
    geo_pair *pairv = malloc(paircap * sizeof *pairv);
    geo_org *orgs = NULL;
    uint8_t *img = NULL;
    memset(parts, 0, sizeof parts);
    memset(merged, 0, sizeof merged);
    *out = NULL;
    *out_len = 0;
    if (!pairv)
        goto out;
    {   /* pair 0 is "unknown" so that an all-zero value means ZZ / AS0 */
        int inserted;
        uint32_t *slot = geo_map_put(&pairs, 0, &inserted);
        if (!slot)
            goto out;
        *slot = 0;
        memset(&pairv[0], 0, sizeof pairv[0]);
        pairv[0].cc[0] = pairv[0].cc[1] = 'Z';
        npairs = 1;
    }
    for (int r = 0; r < GEO_NROLES; r++)
        for (int f = 0; f < GEO_NFAMS; f++)
            if (partition(&s->fam[r][f], f, &parts[r][f]) != 0)
                goto out;
    for (int f = 0; f < GEO_NFAMS; f++)
        if (merge_parts(&parts[GEO_ROLE_COUNTRY][f], &parts[GEO_ROLE_ASN][f], &pairs, &pairv,
                        &npairs, &paircap, &merged[f]) != 0)
            goto out;

    size_t norgs = s->orgs.by_asn.n, k = 0;
    orgs = malloc((norgs ? norgs : 1) * sizeof *orgs);
    if (!orgs)
        goto out;
    for (size_t i = 0; i < s->orgs.by_asn.cap; i++) {
        if (s->orgs.by_asn.used[i]) {
            orgs[k].asn = (uint32_t)s->orgs.by_asn.keys[i];
            orgs[k].name_off = s->orgs.by_asn.vals[i];
            k++;
        }
    }
    qsort(orgs, norgs, sizeof *orgs, cmp_org);
    const char *strings = s->orgs.len ? s->orgs.blob : "";
    size_t strings_len = s->orgs.len ? s->orgs.len : 1;

    geo_image_header h;
    memset(&h, 0, sizeof h);
    memcpy(h.magic, GEO_IMAGE_MAGIC, 8);
    h.version = GEO_IMAGE_VERSION;
    h.byte_order = GEO_IMAGE_BYTE_ORDER;
    size_t off = align8(sizeof h);
#define PLACE(field, bytes) do { h.field = off; off = align8(off + (bytes)); } while (0)
    PLACE(sources_off, sources_len);
    h.sources_len = sources_len;
    h.v4_n = merged[GEO_V4].n;
    PLACE(v4_index_off, GEO_INDEX_N * sizeof(uint32_t));
    PLACE(v4_start_off, h.v4_n * sizeof(uint32_t));
    PLACE(v4_val_off, h.v4_n * sizeof(uint32_t));
    h.v6_n = merged[GEO_V6].n;
    PLACE(v6_index_off, GEO_INDEX_N * sizeof(uint32_t));
    PLACE(v6_start_off, h.v6_n * 2 * sizeof(uint64_t));
    PLACE(v6_val_off, h.v6_n * sizeof(uint32_t));
    h.npairs = npairs;
    PLACE(pairs_off, npairs * sizeof(geo_pair));
    h.norgs = norgs;
    PLACE(orgs_off, norgs * sizeof(geo_org));
    h.strings_len = strings_len;
    PLACE(strings_off, strings_len);
#undef PLACE
    h.total_size = off;
    img = calloc(1, off);
    if (!img)
        goto out;
    memcpy(img + h.sources_off, sources, sources_len);
    for (int f = 0; f < GEO_NFAMS; f++) {
        const geo_part *m = &merged[f];
        uint32_t *index = (uint32_t *)(img + (f == GEO_V4 ? h.v4_index_off : h.v6_index_off));
        uint32_t *val = (uint32_t *)(img + (f == GEO_V4 ? h.v4_val_off : h.v6_val_off));
        int shift = f == GEO_V4 ? 16 : 112;
        size_t i = 0;
        for (uint32_t p = 0; p < 65536; p++) {
            geo_u128 a = (geo_u128)p << shift;
            while (i + 1 < m->n && m->start[i + 1] <= a)
                i++;
            index[p] = (uint32_t)i;
        }
        index[65536] = (uint32_t)(m->n - 1);
        memcpy(val, m->val, m->n * sizeof *val);
        if (f == GEO_V4) {
            uint32_t *st = (uint32_t *)(img + h.v4_start_off);
            for (size_t e = 0; e < m->n; e++)
                st[e] = (uint32_t)m->start[e];
        } else {
            uint64_t *st = (uint64_t *)(img + h.v6_start_off);
            for (size_t e = 0; e < m->n; e++) {
                st[2 * e] = (uint64_t)(m->start[e] >> 64);
                st[2 * e + 1] = (uint64_t)m->start[e];
            }
        }
    }
    memcpy(img + h.pairs_off, pairv, npairs * sizeof *pairv);
    memcpy(img + h.orgs_off, orgs, norgs * sizeof *orgs);
    memcpy(img + h.strings_off, strings, strings_len);
    h.payload_hash = XXH3_64bits(img + sizeof h, off - sizeof h);
    memcpy(img, &h, sizeof h);
    *out = img;
    *out_len = off;
    img = NULL;
    rc = DS_OK;
out:
    if (rc != DS_OK)
        ds_fail(err, rc, "geo: out of memory compiling the lookup table");
    for (int r = 0; r < GEO_NROLES; r++)
        for (int f = 0; f < GEO_NFAMS; f++)
            part_free(&parts[r][f]);
    for (int f = 0; f < GEO_NFAMS; f++)
        part_free(&merged[f]);
    geo_map_free(&pairs);
    free(pairv);
    free(orgs);
    free(img);
    return rc;
}

/* ---------------------------------------------------------------- attach */

/* Is [off, off + count * size) inside an image of len bytes, with off aligned?  Overflow-safe. */
static int section_ok(uint64_t len, uint64_t off, uint64_t count, uint64_t size, uint64_t align)
{
    if (off > len || off % align)
        return 0;
    return count <= (len - off) / size;
}

static int index_ok(const uint32_t *index, uint64_t n)
{
    if (index[0] != 0 || index[65536] != n - 1)
        return 0;
    for (uint32_t p = 1; p < GEO_INDEX_N; p++)
        if (index[p] < index[p - 1] || index[p] >= n)
            return 0;
    return 1;
}

ds_rc geo_image_attach(ds_geo *g, const uint8_t *img, size_t len, const char *sources,
                       size_t sources_len, ds_err *err)
{
    geo_image_header h;
    if (len < sizeof h)
        return ds_fail(err, DS_EFORMAT, "geo table: %zu bytes is shorter than its header", len);
    memcpy(&h, img, sizeof h);
    if (memcmp(h.magic, GEO_IMAGE_MAGIC, 8) != 0 || h.version != GEO_IMAGE_VERSION ||
        h.byte_order != GEO_IMAGE_BYTE_ORDER)
        return ds_fail(err, DS_EFORMAT, "geo table: wrong magic, version or byte order");
    if (h.total_size != len)
        return ds_fail(err, DS_EFORMAT, "geo table: header says %llu bytes, file has %zu",
                       (unsigned long long)h.total_size, len);
    if (!section_ok(len, h.sources_off, h.sources_len, 1, 1) || h.sources_len != sources_len ||
        memcmp(img + h.sources_off, sources, sources_len) != 0)
        return ds_fail(err, DS_EFORMAT, "geo table: built from other or changed source files");
    if (h.v4_n < 1 || h.v6_n < 1 || h.npairs < 1 || h.strings_len < 1 ||
        h.v4_n > UINT32_MAX || h.v6_n > UINT32_MAX || h.npairs > UINT32_MAX ||
        !section_ok(len, h.v4_index_off, GEO_INDEX_N, 4, 4) ||
        !section_ok(len, h.v4_start_off, h.v4_n, 4, 4) ||
        !section_ok(len, h.v4_val_off, h.v4_n, 4, 4) ||
        !section_ok(len, h.v6_index_off, GEO_INDEX_N, 4, 4) ||
        !section_ok(len, h.v6_start_off, h.v6_n, 16, 8) ||
        !section_ok(len, h.v6_val_off, h.v6_n, 4, 4) ||
        !section_ok(len, h.pairs_off, h.npairs, sizeof(geo_pair), 4) ||
        !section_ok(len, h.orgs_off, h.norgs, sizeof(geo_org), 4) ||
        !section_ok(len, h.strings_off, h.strings_len, 1, 1))
        return ds_fail(err, DS_EFORMAT, "geo table: a section lies outside the file");
    if (XXH3_64bits(img + sizeof h, len - sizeof h) != h.payload_hash)
        return ds_fail(err, DS_EFORMAT, "geo table: checksum mismatch (torn or corrupt file)");

    const uint32_t *v4_index = (const uint32_t *)(img + h.v4_index_off);
    const uint32_t *v4_start = (const uint32_t *)(img + h.v4_start_off);
    const uint32_t *v4_val = (const uint32_t *)(img + h.v4_val_off);
    const uint32_t *v6_index = (const uint32_t *)(img + h.v6_index_off);
    const uint64_t *v6_start = (const uint64_t *)(img + h.v6_start_off);
    const uint32_t *v6_val = (const uint32_t *)(img + h.v6_val_off);
    const geo_pair *pairs = (const geo_pair *)(img + h.pairs_off);
    const geo_org *orgs = (const geo_org *)(img + h.orgs_off);
    const char *strings = (const char *)(img + h.strings_off);

    if (!index_ok(v4_index, h.v4_n) || !index_ok(v6_index, h.v6_n) || v4_start[0] != 0 ||
        v6_start[0] != 0 || v6_start[1] != 0)
        return ds_fail(err, DS_EFORMAT, "geo table: bad first-level index");
    uint32_t bad = 0;
    for (uint64_t i = 0; i < h.v4_n; i++) {
        bad |= v4_val[i] >= h.npairs;
        bad |= i && v4_start[i] <= v4_start[i - 1];
    }
    for (uint64_t i = 0; i < h.v6_n; i++) {
        bad |= v6_val[i] >= h.npairs;
        if (i) {
            uint64_t ph = v6_start[2 * i - 2], pl = v6_start[2 * i - 1];
            uint64_t ch = v6_start[2 * i], cl = v6_start[2 * i + 1];
            bad |= ch < ph || (ch == ph && cl <= pl);
        }
    }
    for (uint64_t i = 0; i < h.norgs; i++) {
        bad |= orgs[i].name_off >= h.strings_len;
        bad |= i && orgs[i].asn <= orgs[i - 1].asn;
    }
    bad |= strings[h.strings_len - 1] != '\0';
    if (bad)
        return ds_fail(err, DS_EFORMAT, "geo table: ranges out of order or values out of range");

    g->v4_index = v4_index;
    g->v4_start = v4_start;
    g->v4_val = v4_val;
    g->v4_n = h.v4_n;
    g->v6_index = v6_index;
    g->v6_start = v6_start;
    g->v6_val = v6_val;
    g->v6_n = h.v6_n;
    g->pairs = pairs;
    g->npairs = h.npairs;
    g->orgs = orgs;
    g->norgs = h.norgs;
    g->strings = strings;
    g->strings_len = h.strings_len;
    return DS_OK;
}
