/* rollup.c: see rollup.h.
 *
 * The chunk writer (ds_rollup_writer) is the one encoder, for this builder and for
 * core/rollup_build.c's.
 *
 * Building from SRCSVC records (the reference): one table per dimension, entries in an array
 * and an open-addressing index on (class, key) beside it; each entry's sources are appended as
 * the records come (a source has one SRCSVC record per service and class, so it repeats in the
 * country, ASN and ALL tables) and made a set once, when the chunk is encoded.
 */
#include "core/rollup.h"

#include <stdlib.h>
#include <string.h>

#include "core/classify.h"
#include "core/hash.h"
#include "core/records.h"

static const uint8_t MAGIC[4] = { 'D', 'S', 'R', 'U' };

static inline void put32(uint8_t *p, uint32_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24); }
static inline void put64(uint8_t *p, uint64_t v) { put32(p, (uint32_t)v); put32(p + 4, (uint32_t)(v >> 32)); }
static inline uint32_t get32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }
static inline uint64_t get64(const uint8_t *p) { return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32; }

typedef struct rentry {
    uint64_t id;              /* class << 32 | key */
    uint64_t packets;
    /* The first source is kept here, and the vector is grown only for a second one: with random
     * destination ports most service entries have one source (a malloc and a free each, a tenth
     * of a backscatter ingest, before this). */
    uint64_t one;
    int has_one;
    ds_srcvec src;
} rentry;

typedef struct rtable {
    rentry *e;
    size_t n, cap;
    uint32_t *idx;            /* entry index + 1; 0 empty */
    size_t icap;
} rtable;

struct ds_rollup {
    rtable t[DS_ROLLUP__COUNT];
};

ds_rollup *ds_rollup_new(void)
{
    return calloc(1, sizeof(ds_rollup));
}

void ds_rollup_free(ds_rollup *r)
{
    if (!r)
        return;
    for (int d = 0; d < DS_ROLLUP__COUNT; d++) {
        for (size_t i = 0; i < r->t[d].n; i++)
            ds_srcvec_free(&r->t[d].e[i].src);
        free(r->t[d].e);
        free(r->t[d].idx);
    }
    free(r);
}

static int index_grow(rtable *t)
{
    size_t cap = t->icap ? t->icap * 2 : 64;
    uint32_t *idx = calloc(cap, sizeof *idx);
    if (!idx)
        return -1;
    for (size_t i = 0; i < t->n; i++) {
        size_t j = (size_t)ds_mix64(t->e[i].id) & (cap - 1);
        while (idx[j])
            j = (j + 1) & (cap - 1);
        idx[j] = (uint32_t)(i + 1);
    }
    free(t->idx);
    t->idx = idx;
    t->icap = cap;
    return 0;
}

static rentry *table_get(rtable *t, uint64_t id)
{
    if ((t->n + 1) * 2 > t->icap && (t->n >= UINT32_MAX - 1 || index_grow(t) != 0))
        return NULL;
    size_t m = t->icap - 1, j = (size_t)ds_mix64(id) & m;
    for (; t->idx[j]; j = (j + 1) & m)
        if (t->e[t->idx[j] - 1].id == id)
            return &t->e[t->idx[j] - 1];
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 32;
        rentry *e = realloc(t->e, cap * sizeof *e);
        if (!e)
            return NULL;
        t->e = e;
        t->cap = cap;
    }
    rentry *e = &t->e[t->n++];
    memset(e, 0, sizeof *e);
    e->id = id;
    t->idx[j] = (uint32_t)t->n;
    return e;
}

int ds_rollup_add(ds_rollup *r, const uint8_t *p)
{
    ds_rec_srcsvc rec;
    ds_rec_srcsvc_get(p, &rec);
    uint64_t cls = (uint64_t)rec.cls << 32;
    uint64_t ids[DS_ROLLUP__COUNT] = { cls | rec.service, cls | ds_cc_pack(rec.cc), cls | rec.asn, cls };
    for (int d = 0; d < DS_ROLLUP__COUNT; d++) {
        rentry *e = table_get(&r->t[d], ids[d]);
        if (!e)
            return -1;
        if (!e->has_one && !e->src.n4 && !e->src.n6) {
            e->one = rec.src;
            e->has_one = 1;
        } else if (!e->has_one || e->one != rec.src) {
            if ((e->has_one && ds_srcvec_add(&e->src, e->one) != 0) || ds_srcvec_add(&e->src, rec.src) != 0)
                return -1;
            e->has_one = 0;
        }
        e->packets += rec.packets;
    }
    return 0;
}

static int by_id(const void *a, const void *b)
{
    uint64_t x = ((const rentry *)a)->id, y = ((const rentry *)b)->id;
    return x < y ? -1 : x > y;
}

/* An entry's sources as a normalized vector: its own, or a one-value view of its inline source in
 * *view (backed by *v4 for an IPv4 key, as ds_srcvec_add splits them).  NULL: out of memory. */
static const ds_srcvec *sources_of(rentry *e, ds_srcvec *view, uint32_t *v4)
{
    if (!e->has_one)
        return ds_srcvec_normalize(&e->src) == 0 ? &e->src : NULL;
    memset(view, 0, sizeof *view);
    if (e->one <= UINT32_MAX) {
        *v4 = (uint32_t)e->one;
        view->v4 = v4;
        view->n4 = 1;
    } else {
        view->v6 = &e->one;
        view->n6 = 1;
    }
    view->sorted = 1;
    return view;
}

/* ---- writing a chunk ------------------------------------------------------------------------ */

void ds_rollup_writer_free(ds_rollup_writer *w)
{
    free(w->ent);
    free(w->sets);
    memset(w, 0, sizeof *w);
}

static int wgrow(uint8_t **p, size_t *cap, size_t need)
{
    if (need <= *cap)
        return 0;
    size_t c = *cap ? *cap : 4096;
    while (c < need) {
        if (c > SIZE_MAX / 2)
            return -1;
        c *= 2;
    }
    uint8_t *q = realloc(*p, c);
    if (!q)
        return -1;
    *p = q;
    *cap = c;
    return 0;
}

/* The entry of id whose set (bytes at w->sets + w->setlen, already there) is set_len bytes;
 * room for both was made by the caller. */
static void entry_put(ds_rollup_writer *w, uint64_t id, uint64_t packets, uint32_t n4, uint32_t n6, size_t set_len)
{
    uint8_t *q = w->ent + w->n * DS_ROLLUP_ENTRY;
    memset(q, 0, DS_ROLLUP_ENTRY);
    put32(q, (uint32_t)id);
    q[4] = (uint8_t)(id >> 32);
    put64(q + 8, packets);
    put32(q + 16, n4);
    put32(q + 20, n6);
    put32(q + 24, (uint32_t)w->setlen);
    put32(q + 28, (uint32_t)set_len);
    w->setlen += set_len;
    w->n++;
}

int ds_rollup_writer_add(ds_rollup_writer *w, uint64_t id, uint64_t packets, const ds_srcvec *set)
{
    /* room for the longest encoding (5 bytes an IPv4 difference, 10 an IPv6 one), then the
     * set written once: no sizing pass */
    if (w->n >= UINT32_MAX || w->setlen > UINT32_MAX || set->n4 > (SIZE_MAX - w->setlen) / 32 ||
        set->n6 > (SIZE_MAX - w->setlen) / 32 || wgrow(&w->ent, &w->capent, (w->n + 1) * DS_ROLLUP_ENTRY) != 0 ||
        wgrow(&w->sets, &w->capsets, w->setlen + set->n4 * 5 + set->n6 * 10) != 0)
        return -1;
    size_t b = ds_srcset_encode(set, w->sets + w->setlen);
    if (b > UINT32_MAX - w->setlen)
        return -1;
    entry_put(w, id, packets, (uint32_t)set->n4, (uint32_t)set->n6, b);
    return 0;
}

int ds_rollup_writer_add_encoded(ds_rollup_writer *w, uint64_t id, uint64_t packets, uint32_t n4, uint32_t n6,
                                 const uint8_t *set, size_t len)
{
    if (w->n >= UINT32_MAX || w->setlen > UINT32_MAX || len > UINT32_MAX - w->setlen ||
        wgrow(&w->ent, &w->capent, (w->n + 1) * DS_ROLLUP_ENTRY) != 0 || wgrow(&w->sets, &w->capsets, w->setlen + len) != 0)
        return -1;
    if (len)
        memcpy(w->sets + w->setlen, set, len);
    entry_put(w, id, packets, n4, n6, len);
    return 0;
}

ds_rc ds_rollup_writer_finish(ds_rollup_writer *w, ds_rollup_dim dim, uint8_t **out, size_t *len, ds_err *err)
{
    *out = NULL;
    *len = 0;
    if (w->setlen > UINT32_MAX - DS_ROLLUP_HEADER - (uint64_t)w->n * DS_ROLLUP_ENTRY)
        return ds_fail(err, DS_ENOMEM, "rollup of %zu entries and %zu bytes of sources is too large for a chunk", w->n,
                       w->setlen);
    size_t total = DS_ROLLUP_HEADER + w->n * DS_ROLLUP_ENTRY + w->setlen;
    uint8_t *p = malloc(total);
    if (!p)
        return ds_fail(err, DS_ENOMEM, "out of memory building rollups");
    memcpy(p, MAGIC, 4);
    p[4] = DS_ROLLUP_VERSION;
    p[5] = (uint8_t)dim;
    p[6] = p[7] = 0;
    put32(p + 8, (uint32_t)w->n);
    put32(p + 12, (uint32_t)w->setlen);
    if (w->n)
        memcpy(p + DS_ROLLUP_HEADER, w->ent, w->n * DS_ROLLUP_ENTRY);
    if (w->setlen)
        memcpy(p + DS_ROLLUP_HEADER + w->n * DS_ROLLUP_ENTRY, w->sets, w->setlen);
    *out = p;
    *len = total;
    w->n = w->setlen = 0;   /* the buffers stay for the next chunk */
    return DS_OK;
}

ds_rc ds_rollup_encode(ds_rollup *r, ds_rollup_dim dim, uint8_t **out, size_t *len, ds_err *err)
{
    rtable *t = &r->t[dim];
    *out = NULL;
    *len = 0;
    if (t->n)
        qsort(t->e, t->n, sizeof *t->e, by_id);   /* the index is stale from here: no more adds */
    free(t->idx);
    t->idx = NULL;
    t->icap = 0;
    ds_rollup_writer w = { 0 };
    ds_rc rc = DS_OK;
    for (size_t i = 0; i < t->n && rc == DS_OK; i++) {
        ds_srcvec view;
        uint32_t v4;
        const ds_srcvec *sv = sources_of(&t->e[i], &view, &v4);
        if (!sv || ds_rollup_writer_add(&w, t->e[i].id, t->e[i].packets, sv) != 0)
            rc = ds_fail(err, DS_ENOMEM, "out of memory building rollups (%zu entries)", t->n);
    }
    if (rc == DS_OK)
        rc = ds_rollup_writer_finish(&w, dim, out, len, err);
    ds_rollup_writer_free(&w);
    return rc;
}

ds_rc ds_rollup_open(const uint8_t *p, size_t len, int kind, ds_rollup_view *v, ds_err *err)
{
    memset(v, 0, sizeof *v);
    if (kind >= DS_CHUNK_MONTH_SERVICE && kind <= DS_CHUNK_MONTH_ALL)   /* a month's: the same table */
        kind -= DS_CHUNK_MONTH_SERVICE - DS_CHUNK_ROLLUP_SERVICE;
    if (kind < DS_CHUNK_ROLLUP_SERVICE || kind >= DS_CHUNK_ROLLUP_SERVICE + DS_ROLLUP__COUNT)
        return ds_fail(err, DS_EINVAL, "rollup: chunk kind %d is not a rollup", kind);
    if (len < DS_ROLLUP_HEADER || memcmp(p, MAGIC, 4) != 0)
        return ds_fail(err, DS_EFORMAT, "rollup chunk: no DSRU header (%zu bytes)", len);
    if (p[4] != DS_ROLLUP_VERSION)
        return ds_fail(err, DS_EFORMAT, "rollup chunk: version %u, this darkscope reads version %d", p[4],
                       DS_ROLLUP_VERSION);
    int dim = kind - DS_CHUNK_ROLLUP_SERVICE;
    if (p[5] != dim)
        return ds_fail(err, DS_EFORMAT, "rollup chunk: dimension %u in a chunk of kind %d", p[5], kind);
    uint32_t n = get32(p + 8), set_bytes = get32(p + 12);
    if ((uint64_t)DS_ROLLUP_HEADER + (uint64_t)n * DS_ROLLUP_ENTRY + set_bytes != len)
        return ds_fail(err, DS_EFORMAT, "rollup chunk: %u entries and %u bytes of sources do not make %zu bytes",
                       n, set_bytes, len);
    uint64_t prev_id = 0, off = 0;
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *q = p + DS_ROLLUP_HEADER + (size_t)i * DS_ROLLUP_ENTRY;
        uint64_t id = (uint64_t)q[4] << 32 | get32(q);
        uint32_t n4 = get32(q + 16), n6 = get32(q + 20), o = get32(q + 24), b = get32(q + 28);
        if (q[4] >= DS_CLASS__COUNT || q[5] || q[6] || q[7])
            return ds_fail(err, DS_EFORMAT, "rollup chunk: entry %u: class %u", i, q[4]);
        if (i && id <= prev_id)
            return ds_fail(err, DS_EFORMAT, "rollup chunk: entry %u is not after the one before", i);
        if ((dim == DS_ROLLUP_ALL && get32(q)) || (dim == DS_ROLLUP_COUNTRY && get32(q) > 0xffff))
            return ds_fail(err, DS_EFORMAT, "rollup chunk: entry %u: key %u in dimension %d", i, get32(q), dim);
        if (o != off || (uint64_t)o + b > set_bytes)
            return ds_fail(err, DS_EFORMAT, "rollup chunk: entry %u: its sources at %u..+%u, expected at %llu", i, o,
                           b, (unsigned long long)off);
        if ((uint64_t)n4 + n6 > b)
            return ds_fail(err, DS_EFORMAT, "rollup chunk: entry %u: %u + %u sources in %u bytes", i, n4, n6, b);
        prev_id = id;
        off += b;
    }
    if (off != set_bytes)
        return ds_fail(err, DS_EFORMAT, "rollup chunk: entries' sources end at %llu of %u bytes",
                       (unsigned long long)off, set_bytes);
    v->p = p;
    v->len = len;
    v->n = n;
    v->dim = (ds_rollup_dim)dim;
    return DS_OK;
}

void ds_rollup_get(const ds_rollup_view *v, uint32_t i, ds_rollup_entry *e)
{
    const uint8_t *q = v->p + DS_ROLLUP_HEADER + (size_t)i * DS_ROLLUP_ENTRY;
    e->key = get32(q);
    e->cls = q[4];
    e->packets = get64(q + 8);
    e->n4 = get32(q + 16);
    e->n6 = get32(q + 20);
    e->set = v->p + DS_ROLLUP_HEADER + (size_t)v->n * DS_ROLLUP_ENTRY + get32(q + 24);
    e->set_len = get32(q + 28);
}
