/* rollup_build.c: see rollup_build.h. */
#include "core/rollup_build.h"

#include <stdlib.h>
#include <string.h>

#include "core/records.h"

/* One (entry, source) pair: key = service, packed country, ASN or 0; cr = class << 30 | the
 * source's rank in the batch. */
typedef struct tuple {
    uint32_t key;
    uint32_t cr;
    uint64_t packets;
} tuple;
_Static_assert(sizeof(tuple) == 16, "a tuple is 16 bytes");

#define RANK_MAX ((1u << 30) - 1)

typedef struct tvec { tuple *v; size_t n, cap; } tvec;

struct ds_rollup_batch {
    uint64_t *src; size_t nsrc, capsrc;   /* the batch's sources, ascending: src[rank] */
    uint16_t *cc; uint32_t *asn;          /* [capsrc] */
    tvec t[DS_ROLLUP__COUNT];
    tuple *tmp; size_t captmp;            /* the radix sort's second buffer */
    uint64_t cpk[4]; unsigned cmask;      /* the last source's packets by class, the classes seen */
    uint32_t *v4; uint64_t *v6; size_t capset;   /* one entry's set as it is written */
    ds_rollup_writer w;
};

ds_rollup_batch *ds_rollup_batch_new(void)
{
    return calloc(1, sizeof(ds_rollup_batch));
}

void ds_rollup_batch_free(ds_rollup_batch *b)
{
    if (!b)
        return;
    free(b->src);
    free(b->cc);
    free(b->asn);
    for (int d = 0; d < DS_ROLLUP__COUNT; d++)
        free(b->t[d].v);
    free(b->tmp);
    free(b->v4);
    free(b->v6);
    ds_rollup_writer_free(&b->w);
    free(b);
}

void ds_rollup_batch_begin(ds_rollup_batch *b)
{
    b->nsrc = 0;
    for (int d = 0; d < DS_ROLLUP__COUNT; d++)
        b->t[d].n = 0;
    b->cmask = 0;
}

size_t ds_rollup_batch_sources(const ds_rollup_batch *b)
{
    return b->nsrc;
}

static int tpush(tvec *t, uint32_t key, uint32_t cr, uint64_t packets)
{
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 4096;
        if (cap > SIZE_MAX / sizeof(tuple))
            return -1;
        tuple *v = realloc(t->v, cap * sizeof *v);
        if (!v)
            return -1;
        t->v = v;
        t->cap = cap;
    }
    t->v[t->n++] = (tuple){ key, cr, packets };
    return 0;
}

/* The last source's pairs of the per-source dimensions: one per class it was seen in. */
static int flush_source(ds_rollup_batch *b)
{
    if (!b->nsrc)
        return 0;
    uint32_t rank = (uint32_t)(b->nsrc - 1);
    for (unsigned c = 0; c < 4; c++) {
        if (!(b->cmask >> c & 1))
            continue;
        uint32_t cr = c << 30 | rank;
        if (tpush(&b->t[DS_ROLLUP_COUNTRY], b->cc[rank], cr, b->cpk[c]) != 0 ||
            tpush(&b->t[DS_ROLLUP_ASN], b->asn[rank], cr, b->cpk[c]) != 0 ||
            tpush(&b->t[DS_ROLLUP_ALL], 0, cr, b->cpk[c]) != 0)
            return -1;
        b->cpk[c] = 0;
    }
    b->cmask = 0;
    return 0;
}

int ds_rollup_batch_source(ds_rollup_batch *b, uint64_t src, const char cc[2], uint32_t asn)
{
    if ((b->nsrc && src < b->src[b->nsrc - 1]) || b->nsrc >= RANK_MAX || flush_source(b) != 0)
        return -1;
    if (b->nsrc == b->capsrc) {
        size_t cap = b->capsrc ? b->capsrc * 2 : 4096;
        uint64_t *s = realloc(b->src, cap * sizeof *s);
        if (s)
            b->src = s;
        uint16_t *c = realloc(b->cc, cap * sizeof *c);
        if (c)
            b->cc = c;
        uint32_t *a = realloc(b->asn, cap * sizeof *a);
        if (a)
            b->asn = a;
        if (!s || !c || !a)
            return -1;
        b->capsrc = cap;
    }
    b->src[b->nsrc] = src;
    b->cc[b->nsrc] = ds_cc_pack(cc);
    b->asn[b->nsrc] = asn;
    b->nsrc++;
    return 0;
}

int ds_rollup_batch_item(ds_rollup_batch *b, uint32_t service, unsigned cls, uint64_t packets)
{
    if (!b->nsrc || cls > 3)
        return -1;
    b->cmask |= 1u << cls;
    b->cpk[cls] += packets;
    return tpush(&b->t[DS_ROLLUP_SERVICE], service, cls << 30 | (uint32_t)(b->nsrc - 1), packets);
}

/* Stable LSD radix sort of t by (class, key): 11-bit digits of the key, then the class; a digit
 * every tuple shares is skipped.  Returns the array holding the result (t->v or b->tmp). */
static tuple *sort_tuples(ds_rollup_batch *b, tvec *t)
{
    enum { BITS = 11, R = 1 << BITS };
    static const unsigned shift[4] = { 0, 11, 22, 30 };   /* digit 3: the class, from cr */
    size_t n = t->n;
    uint32_t (*hist)[R] = calloc(4, sizeof *hist);
    if (!hist)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        uint32_t k = t->v[i].key;
        hist[0][k & (R - 1)]++;
        hist[1][k >> 11 & (R - 1)]++;
        hist[2][k >> 22]++;
        hist[3][t->v[i].cr >> 30]++;
    }
    tuple *src = t->v, *dst = b->tmp;
    for (int d = 0; d < 4; d++) {
        uint32_t first = d < 3 ? src[0].key >> shift[d] & (R - 1) : src[0].cr >> 30;
        if (hist[d][first] == n)
            continue;
        uint32_t sum = 0;
        for (size_t x = 0; x < R; x++) {
            uint32_t c = hist[d][x];
            hist[d][x] = sum;
            sum += c;
        }
        for (size_t i = 0; i < n; i++) {
            uint32_t x = d < 3 ? src[i].key >> shift[d] & (R - 1) : src[i].cr >> 30;
            dst[hist[d][x]++] = src[i];
        }
        tuple *s = src;
        src = dst;
        dst = s;
    }
    free(hist);
    return src;
}

/* Sort dimension d's pairs and write its chunk: one entry per (class, key), its sources the
 * ranks of its run in order. */
static ds_rc encode_dim(ds_rollup_batch *b, ds_rollup_dim d, uint8_t **out, size_t *len, ds_err *err)
{
    tvec *t = &b->t[d];
    if (t->n > b->captmp) {
        free(b->tmp);
        b->captmp = 0;
        if (!(b->tmp = malloc(t->n * sizeof *b->tmp)))
            return ds_fail(err, DS_ENOMEM, "out of memory building rollups");
        b->captmp = t->n;
    }
    if (t->n > UINT32_MAX)   /* the histogram counts are 32-bit */
        return ds_fail(err, DS_ENOMEM, "rollup of %zu pairs is too large", t->n);
    tuple *v = t->n ? sort_tuples(b, t) : t->v;
    if (t->n && !v)
        return ds_fail(err, DS_ENOMEM, "out of memory building rollups");
    for (size_t i = 0; i < t->n;) {
        uint32_t key = v[i].key, cls = v[i].cr >> 30;
        uint64_t packets = 0;
        ds_srcvec set = { .v4 = b->v4, .v6 = b->v6, .sorted = 1 };
        for (; i < t->n && v[i].key == key && v[i].cr >> 30 == cls; i++) {
            uint64_t s = b->src[v[i].cr & RANK_MAX];   /* ascending: the ranks are */
            packets += v[i].packets;
            if (s <= UINT32_MAX) {
                if (!set.n4 || set.v4[set.n4 - 1] != s)
                    set.v4[set.n4++] = (uint32_t)s;
            } else if (!set.n6 || set.v6[set.n6 - 1] != s) {
                set.v6[set.n6++] = s;
            }
        }
        if (ds_rollup_writer_add(&b->w, (uint64_t)cls << 32 | key, packets, &set) != 0)
            return ds_fail(err, DS_ENOMEM, "out of memory building rollups");
    }
    return ds_rollup_writer_finish(&b->w, d, out, len, err);
}

ds_rc ds_rollup_batch_encode(ds_rollup_batch *b, uint8_t *out[DS_ROLLUP__COUNT], size_t len[DS_ROLLUP__COUNT],
                             ds_err *err)
{
    for (int d = 0; d < DS_ROLLUP__COUNT; d++) {
        out[d] = NULL;
        len[d] = 0;
    }
    if (flush_source(b) != 0)
        return ds_fail(err, DS_ENOMEM, "out of memory building rollups");
    if (b->nsrc > b->capset) {   /* an entry holds each source at most once */
        uint32_t *v4 = realloc(b->v4, b->nsrc * sizeof *v4);
        if (v4)
            b->v4 = v4;
        uint64_t *v6 = realloc(b->v6, b->nsrc * sizeof *v6);
        if (v6)
            b->v6 = v6;
        if (!v4 || !v6)
            return ds_fail(err, DS_ENOMEM, "out of memory building rollups");
        b->capset = b->nsrc;
    }
    ds_rc rc = DS_OK;
    for (int d = 0; d < DS_ROLLUP__COUNT && rc == DS_OK; d++)
        rc = encode_dim(b, (ds_rollup_dim)d, &out[d], &len[d], err);
    if (rc != DS_OK)
        for (int d = 0; d < DS_ROLLUP__COUNT; d++) {
            free(out[d]);
            out[d] = NULL;
            len[d] = 0;
        }
    return rc;
}

/* ---- uniting parts ------------------------------------------------------------------------ */

static uint64_t entry_id(const ds_rollup_entry *e) { return (uint64_t)e->cls << 32 | e->key; }

#define NO_ID UINT64_MAX   /* a chunk read to its end (an entry id is at most 2^34) */

/* Chunk i's next entry into head[i] and its id into id[i] (NO_ID past the last). */
static void head_next(const ds_rollup_view *v, uint32_t *pos, ds_rollup_entry *head, uint64_t *id, size_t i)
{
    if (pos[i] < v[i].n) {
        ds_rollup_get(&v[i], pos[i]++, &head[i]);
        id[i] = entry_id(&head[i]);
    } else {
        id[i] = NO_ID;
    }
}

/* A k-way merge of the chunks' entries.  Each chunk's head entry is decoded once, when the merge
 * reaches it, and kept with its id: finding the smallest id is then a scan of n integers (n is a
 * month's days at most), where decoding every head again for each entry written was 40% of
 * building a month of random-port backscatter's service rollups. */
ds_rc ds_rollup_merge(ds_rollup_dim dim, const uint8_t *const *chunks, const size_t *lens, size_t n, uint8_t **out,
                      size_t *len, ds_err *err)
{
    *out = NULL;
    *len = 0;
    ds_rc rc = DS_OK;
    size_t m = n ? n : 1;
    ds_rollup_view *v = calloc(m, sizeof *v);
    uint32_t *pos = calloc(m, sizeof *pos);
    ds_rollup_entry *head = calloc(m, sizeof *head);
    uint64_t *id = calloc(m, sizeof *id);
    size_t *hold = calloc(m, sizeof *hold);
    ds_rollup_writer w = { 0 };
    ds_srcvec set = { 0 };
    if (!v || !pos || !head || !id || !hold) {
        rc = ds_fail(err, DS_ENOMEM, "out of memory uniting rollups");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        if ((rc = ds_rollup_open(chunks[i], lens[i], DS_ROLLUP_KIND(dim), &v[i], err)) != DS_OK)
            goto out;
        head_next(v, pos, head, id, i);
    }
    for (;;) {
        /* the smallest id at the chunks' heads, and the chunks holding it */
        uint64_t min = NO_ID;
        size_t holders = 0;
        for (size_t i = 0; i < n; i++) {
            if (id[i] < min) {
                min = id[i];
                holders = 0;
            }
            if (id[i] == min && min != NO_ID)
                hold[holders++] = i;
        }
        if (!holders)
            break;
        if (holders == 1) {   /* in one chunk only (a random port, one thread's): its set as it is */
            const ds_rollup_entry *e = &head[hold[0]];
            if (ds_rollup_writer_add_encoded(&w, min, e->packets, e->n4, e->n6, e->set, e->set_len) != 0) {
                rc = ds_fail(err, DS_ENOMEM, "out of memory uniting rollups");
                goto out;
            }
            head_next(v, pos, head, id, hold[0]);
            continue;
        }
        uint64_t packets = 0;
        ds_srcvec_clear(&set);
        for (size_t h = 0; h < holders; h++) {
            const ds_rollup_entry *e = &head[hold[h]];
            packets += e->packets;
            if ((rc = ds_srcset_decode(e->set, e->set_len, e->n4, e->n6, &set, err)) != DS_OK)
                goto out;
            head_next(v, pos, head, id, hold[h]);
        }
        if (ds_srcvec_normalize(&set) != 0) {
            rc = ds_fail(err, DS_ENOMEM, "out of memory uniting rollups");
            goto out;
        }
        set.sorted = 1;
        if (ds_rollup_writer_add(&w, min, packets, &set) != 0) {
            rc = ds_fail(err, DS_ENOMEM, "out of memory uniting rollups");
            goto out;
        }
    }
    rc = ds_rollup_writer_finish(&w, dim, out, len, err);
out:
    ds_srcvec_free(&set);
    ds_rollup_writer_free(&w);
    free(v);
    free(pos);
    free(head);
    free(id);
    free(hold);
    return rc;
}
