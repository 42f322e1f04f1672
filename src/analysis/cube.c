/* cube.c: see cube.h.
 *
 * SRCSVC path: one pass over the period's SRCSVC chunks.  Cells live in a dense array indexed
 * through an open-addressing table keyed by (a << 32 | b).  Distinct sources are counted by
 * sorting, not by hash sets: each matching record with an IPv4 source appends one 64-bit item
 * (cell index << 32 | address), and the overall distinct sources (when asked) append the source
 * to a ds_srcvec; at the end both are radix-sorted and their distinct values counted.  The hash
 * sets they replace (a pair set and a source set) took a cache miss per record: a `serve` drill-
 * down's source-port cube of 23/tcp over the source-heavy month (3.5 M matching records) spent
 * 2.3 s, 40% of it in the two sets' inserts (perf).  The logs hold a value per record, so when one
 * has doubled past FOLD_MIN values since it was last made distinct it is sorted and made distinct
 * again: at most about twice the distinct values, as the sets held.  IPv6 keys (63-bit hashes)
 * do not fit beside a cell index; they go to a pair set (telescopes see few).
 *
 * Rollup path: the same cells from the rollup entries of one dimension (or the ALL chunks when
 * the query groups by days only and filters no key).  An entry is the sum and the source set of
 * the SRCSVC records of one (sensor, day, class, key), so selecting whole entries selects exactly
 * the records the SRCSVC path would match, and a cell's sums and unions are the same: packets
 * add, sources are the union of the entries' sets (ds_srcacc, counted once at the end), and the
 * period's distinct total is the union of the ALL chunks' sets of the selected classes (or, with
 * a key filter, of the selected entries' sets).
 */
#include "analysis/cube.h"

#include <stdlib.h>
#include <string.h>

#include "analysis/rollups.h"
#include "core/cross.h"
#include "core/hash.h"
#include "core/rollup.h"
#include "core/srcset.h"
#include "store/rollup_months.h"
#include "util/grow.h"

typedef struct cube_ctx {
    const ds_cube_query *q;
    ds_cube_cell *cells; size_t n, cap;
    uint32_t *idx; size_t capidx;       /* cell index + 1; 0 empty */
    uint64_t *items; size_t nitems, capitems, items_norm;   /* (cell index << 32 | IPv4 source) */
    ds_pairset pairs;                   /* (cell key, IPv6 source key) */
    ds_srcvec all; size_t all_norm;     /* the period's sources (q->total_sources) */
    uint64_t total;
    /* rollup path */
    int kind;                           /* the rollup chunk kind read */
    ds_cube_dim rdim;                   /* the dimension its keys are (DS_CUBE_NONE for ALL) */
    ds_srcacc *acc; size_t capacc;      /* per cell (q->sources) */
    ds_srcacc total_acc;                /* the period's sources (q->total_sources) */
    int total_from_entries;             /* 1: from the selected entries; 0: from the ALL chunks */
    uint64_t total_src;                 /* the period's distinct sources (q->total_sources) */
} cube_ctx;

static uint32_t dim_value(ds_cube_dim d, int32_t day, const ds_rec_srcsvc *r)
{
    switch (d) {
    case DS_CUBE_DAY: return (uint32_t)day;
    case DS_CUBE_SERVICE: return r->service;
    case DS_CUBE_COUNTRY: return ds_cc_pack(r->cc);
    case DS_CUBE_ASN: return r->asn;
    case DS_CUBE_SPORT: return r->one_sport ? r->sport : DS_SPORT_VARIOUS;
    case DS_CUBE_NONE: break;
    }
    return 0;
}

static inline uint64_t cell_key(uint32_t a, uint32_t b) { return (uint64_t)a << 32 | b; }

static int idx_rebuild(cube_ctx *c, size_t cap)
{
    uint32_t *n = calloc(cap, sizeof *n);
    if (!n)
        return -1;
    for (size_t i = 0; i < c->n; i++) {
        size_t j = (size_t)ds_mix64(cell_key(c->cells[i].a, c->cells[i].b)) & (cap - 1);
        while (n[j])
            j = (j + 1) & (cap - 1);
        n[j] = (uint32_t)(i + 1);
    }
    free(c->idx);
    c->idx = n;
    c->capidx = cap;
    return 0;
}

/* The cell (a, b), created when new; NULL when memory runs out. */
static ds_cube_cell *cell_get(cube_ctx *c, uint32_t a, uint32_t b)
{
    size_t m = c->capidx - 1, j = (size_t)ds_mix64(cell_key(a, b)) & m;
    for (; c->idx[j]; j = (j + 1) & m) {
        ds_cube_cell *x = &c->cells[c->idx[j] - 1];
        if (x->a == a && x->b == b)
            return x;
    }
    if (c->n == c->cap) {
        ds_cube_cell *nc = ds_grow(c->cells, &c->cap, sizeof *nc, 256);
        if (!nc)
            return NULL;
        c->cells = nc;
    }
    ds_cube_cell *x = &c->cells[c->n];
    *x = (ds_cube_cell){ a, b, 0, 0 };
    c->idx[j] = (uint32_t)++c->n;
    if (c->n * 2 > c->capidx && idx_rebuild(c, c->capidx * 2) != 0)
        return NULL;
    return &c->cells[c->n - 1];
}

#define FOLD_MIN ((size_t)1 << 24)

/* Sort the items and keep one of each; -1 out of memory. */
static int items_fold(cube_ctx *c)
{
    uint64_t *tmp = malloc((c->nitems ? c->nitems : 1) * sizeof *tmp);
    if (!tmp)
        return -1;
    ds_sort_u64(c->items, tmp, c->nitems);
    free(tmp);
    size_t k = c->nitems ? 1 : 0;
    for (size_t i = 1; i < c->nitems; i++)
        if (c->items[i] != c->items[k - 1])
            c->items[k++] = c->items[i];
    c->nitems = c->items_norm = k;
    return 0;
}

static inline int item_add(cube_ctx *c, uint64_t item)
{
    if (c->nitems == c->capitems) {
        if (c->nitems >= FOLD_MIN && c->nitems >= 2 * c->items_norm && items_fold(c) != 0)
            return -1;
        if (c->nitems == c->capitems) {
            uint64_t *n = ds_grow(c->items, &c->capitems, sizeof *n, 4096);
            if (!n)
                return -1;
            c->items = n;
        }
    }
    c->items[c->nitems++] = item;
    return 0;
}

static inline int source_add(cube_ctx *c, uint64_t src)
{
    size_t held = c->all.n4 + c->all.n6;
    if (held >= FOLD_MIN && held >= 2 * c->all_norm) {
        if (ds_srcvec_normalize(&c->all) != 0)
            return -1;
        c->all_norm = c->all.n4 + c->all.n6;
    }
    return ds_srcvec_add(&c->all, src);
}

/* One matching record, its cell (a, b). */
static inline ds_rc on_record(cube_ctx *c, const ds_rec_srcsvc *r, uint32_t a, uint32_t b, ds_err *err)
{
    ds_cube_cell *x = cell_get(c, a, b);
    if (!x || (c->q->total_sources && source_add(c, r->src) < 0))
        return ds_fail(err, DS_ENOMEM, "out of memory grouping the period's records");
    x->packets += r->packets;
    c->total += r->packets;
    if (!c->q->sources)
        return DS_OK;
    if (r->src <= UINT32_MAX) {   /* counted at the end (count_sources) */
        if (item_add(c, (uint64_t)(x - c->cells) << 32 | r->src) != 0)
            return ds_fail(err, DS_ENOMEM, "out of memory counting sources");
        return DS_OK;
    }
    int added = ds_pairset_add(&c->pairs, cell_key(x->a, x->b), r->src);
    if (added < 0)
        return ds_fail(err, DS_ENOMEM, "out of memory counting sources");
    x->sources += (uint64_t)added;
    return DS_OK;
}

/* Records are taken BATCH at a time in three steps, so that the cache misses of many overlap
 * (as top_pass.c's inserts): decode and filter them and prefetch their cells' index slots; then
 * prefetch the cells those slots name; then update the cells.  A cube of thousands of cells (a
 * service's source ports: 64,513 over the source-heavy month) missed the cache twice a record,
 * and cell_get was half of its time (perf). */
#define BATCH 32

static ds_rc on_chunk(void *ctx, int64_t sensor_id, int32_t day, const uint8_t *data, size_t nrec, ds_err *err)
{
    cube_ctx *c = ctx;
    ds_rec_srcsvc rb[BATCH];
    uint32_t av[BATCH], bv[BATCH];
    for (size_t i0 = 0; i0 < nrec; i0 += BATCH) {
        size_t end = nrec - i0 < BATCH ? nrec : i0 + BATCH, nb = 0;
        for (size_t i = i0; i < end; i++) {
            ds_rec_srcsvc_get(data + i * DS_REC_SRCSVC, &rb[nb]);
            if (!ds_filter_match(&c->q->filter, &rb[nb]))
                continue;
            av[nb] = dim_value(c->q->a, day, &rb[nb]);
            bv[nb] = dim_value(c->q->b, day, &rb[nb]);
            __builtin_prefetch(&c->idx[(size_t)ds_mix64(cell_key(av[nb], bv[nb])) & (c->capidx - 1)]);
            nb++;
        }
        for (size_t b = 0; b < nb; b++) {
            uint32_t k = c->idx[(size_t)ds_mix64(cell_key(av[b], bv[b])) & (c->capidx - 1)];
            if (k)
                __builtin_prefetch(&c->cells[k - 1], 1);
        }
        for (size_t b = 0; b < nb; b++) {
            ds_rc rc = on_record(c, &rb[b], av[b], bv[b], err);
            if (rc != DS_OK)
                return rc;
        }
    }
    return DS_OK;
}

/* After the scan: each cell's IPv4 sources from the items, and the period's distinct total. */
static int count_sources(cube_ctx *c)
{
    if (c->q->sources) {
        if (items_fold(c) != 0)
            return -1;
        for (size_t i = 0; i < c->nitems; i++)
            c->cells[c->items[i] >> 32].sources++;
    }
    if (c->q->total_sources) {
        if (ds_srcvec_normalize(&c->all) != 0)
            return -1;
        c->total_src = c->all.n4 + c->all.n6;
    }
    return 0;
}

/* ---- the rollup path ------------------------------------------------------------------------ */

static ds_cube_dim filter_dim(const ds_filter *f)
{
    int n = (f->nports > 0) + (f->ncountries > 0) + (f->nasns > 0);
    if (n != 1)
        return n ? DS_CUBE_SPORT : DS_CUBE_NONE;   /* SPORT: "more than one", which no rollup answers */
    return f->nports ? DS_CUBE_SERVICE : f->ncountries ? DS_CUBE_COUNTRY : DS_CUBE_ASN;
}

/* The rollup kind that answers q, or -1: days and at most one of service, country and ASN, as
 * groups or as a filter on its values; a sensor and a class; nothing else. */
static int rollup_kind(const ds_cube_query *q, ds_cube_dim *rdim)
{
    const ds_filter *f = &q->filter;
    if (f->exclude || f->only || f->tools || f->one_source)
        return -1;
    ds_cube_dim r = DS_CUBE_NONE, fd = filter_dim(f);
    const ds_cube_dim dims[2] = { q->a, q->b };
    for (int i = 0; i < 2; i++) {
        switch (dims[i]) {
        case DS_CUBE_NONE: case DS_CUBE_DAY: break;
        case DS_CUBE_SERVICE: case DS_CUBE_COUNTRY: case DS_CUBE_ASN:
            if (r != DS_CUBE_NONE && r != dims[i])
                return -1;
            r = dims[i];
            break;
        case DS_CUBE_SPORT: return -1;
        }
    }
    if (fd == DS_CUBE_SPORT || (fd != DS_CUBE_NONE && r != DS_CUBE_NONE && fd != r))
        return -1;
    if (r == DS_CUBE_NONE)
        r = fd;
    *rdim = r;
    switch (r) {
    case DS_CUBE_SERVICE: return DS_CHUNK_ROLLUP_SERVICE;
    case DS_CUBE_COUNTRY: return DS_CHUNK_ROLLUP_COUNTRY;
    case DS_CUBE_ASN: return DS_CHUNK_ROLLUP_ASN;
    default: return DS_CHUNK_ROLLUP_ALL;
    }
}

static int entry_selected(const cube_ctx *c, const ds_rollup_entry *e)
{
    const ds_filter *f = &c->q->filter;
    if (f->cls >= 0 && e->cls != f->cls)
        return 0;
    switch (c->rdim) {
    case DS_CUBE_SERVICE:
        for (size_t i = 0; i < f->nports; i++)
            if (f->ports[i] == e->key)
                return 1;
        return !f->nports;
    case DS_CUBE_COUNTRY:
        for (size_t i = 0; i < f->ncountries; i++)
            if (f->countries[i] == e->key)
                return 1;
        return !f->ncountries;
    case DS_CUBE_ASN:
        for (size_t i = 0; i < f->nasns; i++)
            if (f->asns[i] == e->key)
                return 1;
        return !f->nasns;
    default:
        return 1;
    }
}

static uint32_t entry_value(const cube_ctx *c, ds_cube_dim d, int32_t day, const ds_rollup_entry *e)
{
    if (d == DS_CUBE_DAY)
        return (uint32_t)day;
    return d == DS_CUBE_NONE ? 0 : e->key;   /* d is the rollup's dimension (rollup_kind) */
}

static ds_rc on_rollup(void *ctx, int64_t sensor_id, int32_t day, const uint8_t *data, size_t len, ds_err *err)
{
    cube_ctx *c = ctx;
    ds_rollup_view v;
    ds_rc rc = ds_rollup_open(data, len, c->kind, &v, err);
    for (uint32_t i = 0; rc == DS_OK && i < v.n; i++) {
        ds_rollup_entry e;
        ds_rollup_get(&v, i, &e);
        if (!entry_selected(c, &e))
            continue;
        ds_cube_cell *x = cell_get(c, entry_value(c, c->q->a, day, &e), entry_value(c, c->q->b, day, &e));
        if (!x)
            return ds_fail(err, DS_ENOMEM, "out of memory grouping the period's records");
        x->packets += e.packets;
        c->total += e.packets;
        if (c->q->sources) {
            size_t k = (size_t)(x - c->cells);
            if (k >= c->capacc) {
                size_t cap = c->capacc ? c->capacc * 2 : 64;
                while (cap <= k)
                    cap *= 2;
                ds_srcacc *na = realloc(c->acc, cap * sizeof *na);
                if (!na)
                    return ds_fail(err, DS_ENOMEM, "out of memory counting sources");
                memset(na + c->capacc, 0, (cap - c->capacc) * sizeof *na);
                c->acc = na;
                c->capacc = cap;
            }
            rc = ds_srcacc_add(&c->acc[k], e.set, e.set_len, e.n4, e.n6, err);
        }
        if (rc == DS_OK && c->q->total_sources && c->total_from_entries)
            rc = ds_srcacc_add(&c->total_acc, e.set, e.set_len, e.n4, e.n6, err);
    }
    return rc;
}

/* the ALL chunks: the period's sources of the selected classes */
static ds_rc on_rollup_all(void *ctx, int64_t sensor_id, int32_t day, const uint8_t *data, size_t len, ds_err *err)
{
    cube_ctx *c = ctx;
    return ds_rollups_all_sources(data, len, c->q->filter.cls, &c->total_acc, err);
}

/* *done = 1 when the rollups answered q into c (cells unsorted, totals set); 0 when they cannot. */
static ds_rc run_rollup(ds_store *st, cube_ctx *c, int *done, ds_err *err)
{
    const ds_cube_query *q = c->q;
    int yes = 0;
    ds_rc rc;
    *done = 0;
    if (ds_rollups_disabled() || (c->kind = rollup_kind(q, &c->rdim)) < 0)
        return DS_OK;
    c->total_from_entries = c->kind == DS_CHUNK_ROLLUP_ALL || filter_dim(&q->filter) != DS_CUBE_NONE;
    if ((rc = ds_rollups_cover(st, c->kind, q->filter.sensor_id, q->from, q->to, &yes, err)) != DS_OK || !yes)
        return rc;
    if (q->total_sources && !c->total_from_entries &&
        ((rc = ds_rollups_cover(st, DS_CHUNK_ROLLUP_ALL, q->filter.sensor_id, q->from, q->to, &yes, err)) != DS_OK || !yes))
        return rc;
    /* without a day dimension, whole months may come from their month chunks (rollup_months.h) */
    int by_day = q->a == DS_CUBE_DAY || q->b == DS_CUBE_DAY;
    rc = by_day ? ds_store_scan(st, c->kind, q->filter.sensor_id, q->from, q->to, on_rollup, c, err)
                : ds_store_scan_rollups(st, c->kind, q->filter.sensor_id, q->from, q->to, on_rollup, c, err);
    if (rc != DS_OK)
        return rc;
    if (q->total_sources && !c->total_from_entries &&
        (rc = ds_store_scan_rollups(st, DS_CHUNK_ROLLUP_ALL | DS_SCAN_NOFILL, q->filter.sensor_id, q->from, q->to,
                                    on_rollup_all, c, err)) != DS_OK)
        return rc;
    for (size_t i = 0; q->sources && i < c->n; i++) {
        int64_t d = i < c->capacc ? ds_srcacc_distinct(&c->acc[i], err) : 0;
        if (d == -2)
            return DS_EFORMAT;
        if (d < 0)
            return ds_fail(err, DS_ENOMEM, "out of memory counting sources");
        c->cells[i].sources = (uint64_t)d;
        if (i < c->capacc)
            ds_srcacc_free(&c->acc[i]);
    }
    if (q->total_sources) {
        int64_t d = ds_srcacc_distinct(&c->total_acc, err);
        if (d == -2)
            return DS_EFORMAT;
        if (d < 0)
            return ds_fail(err, DS_ENOMEM, "out of memory counting sources");
        c->total_src = (uint64_t)d;
    }
    *done = 1;
    return DS_OK;
}

/* ---- the cross path ----------------------------------------------------------------------------
 * A cube of service and country (either, both or neither; no day, ASN or source port), without
 * sources, whose filter names only a sensor, a class, services and countries (the report's
 * mixes): the CROSS records (core/cross.h) sum the SRCSVC records of each (service, country,
 * class) of a chunk, so the records this filter selects are exactly the packets the SRCSVC path
 * counts.  Every (file, sensor, day) with SRCSVC records must have its CROSS chunk. */
static int cross_fits(const ds_cube_query *q)
{
    const ds_filter *f = &q->filter;
    if (q->sources || q->total_sources || f->exclude || f->only || f->tools || f->one_source || f->nasns)
        return 0;
    const ds_cube_dim d[2] = { q->a, q->b };
    for (int i = 0; i < 2; i++)
        if (d[i] != DS_CUBE_NONE && d[i] != DS_CUBE_SERVICE && d[i] != DS_CUBE_COUNTRY)
            return 0;
    return 1;
}

static uint32_t cross_value(ds_cube_dim d, const ds_rec_cross *r)
{
    return d == DS_CUBE_SERVICE ? r->service : d == DS_CUBE_COUNTRY ? r->cc : 0;
}

static ds_rc on_cross(void *ctx, int64_t sensor_id, int32_t day, const uint8_t *data, size_t nrec, ds_err *err)
{
    cube_ctx *c = ctx;
    const ds_filter *f = &c->q->filter;
    for (size_t i = 0; i < nrec; i++) {
        ds_rec_cross r;
        ds_rec_cross_get(data + i * DS_REC_CROSS, &r);
        if (f->cls >= 0 && r.cls != f->cls)
            continue;
        size_t k = 0;
        while (k < f->nports && f->ports[k] != r.service)
            k++;
        if (f->nports && k == f->nports)
            continue;
        k = 0;
        while (k < f->ncountries && f->countries[k] != r.cc)
            k++;
        if (f->ncountries && k == f->ncountries)
            continue;
        ds_cube_cell *x = cell_get(c, cross_value(c->q->a, &r), cross_value(c->q->b, &r));
        if (!x)
            return ds_fail(err, DS_ENOMEM, "out of memory grouping the period's records");
        x->packets += r.packets;
        c->total += r.packets;
    }
    return DS_OK;
}

/* *done = 1 when the CROSS chunks answered q into c; 0 when they cannot (DS_NO_ROLLUP=1 too). */
static ds_rc run_cross(ds_store *st, cube_ctx *c, int *done, ds_err *err)
{
    const ds_cube_query *q = c->q;
    int yes = 0;
    *done = 0;
    if (ds_rollups_disabled() || !cross_fits(q))
        return DS_OK;
    ds_rc rc = ds_rollups_cover(st, DS_CHUNK_CROSS, q->filter.sensor_id, q->from, q->to, &yes, err);
    if (rc != DS_OK || !yes)
        return rc;
    rc = ds_store_scan(st, DS_CHUNK_CROSS | DS_SCAN_NOFILL, q->filter.sensor_id, q->from, q->to, on_cross, c, err);
    *done = rc == DS_OK;
    return rc;
}

/* ---- both ------------------------------------------------------------------------------------- */

static int cell_cmp(const void *x, const void *y)
{
    const ds_cube_cell *a = x, *b = y;
    uint64_t ka = cell_key(a->a, a->b), kb = cell_key(b->a, b->b);
    return ka < kb ? -1 : ka > kb;
}

/* the SRCSVC path of several queries at once: each chunk, read and decompressed once, goes to
 * every query that the rollups did not answer */
typedef struct many_ctx { cube_ctx **c; size_t n; } many_ctx;

static ds_rc on_chunk_many(void *ctx, int64_t sensor_id, int32_t day, const uint8_t *data, size_t nrec, ds_err *err)
{
    many_ctx *m = ctx;
    ds_rc rc = DS_OK;
    for (size_t i = 0; rc == DS_OK && i < m->n; i++)
        rc = on_chunk(m->c[i], sensor_id, day, data, nrec, err);
    return rc;
}

static void ctx_free(cube_ctx *c)
{
    free(c->cells);
    free(c->idx);
    free(c->items);
    ds_srcvec_free(&c->all);
    ds_pairset_free(&c->pairs);
    for (size_t i = 0; i < c->capacc; i++)
        ds_srcacc_free(&c->acc[i]);
    free(c->acc);
    ds_srcacc_free(&c->total_acc);
}

ds_rc ds_cube_run_many(ds_store *st, const ds_cube_query *q, ds_cube *out, size_t n, ds_err *err)
{
    if (st->ops->query && st->ops->query->cube) {   /* the engine answers where its data is (store/query.h) */
        ds_rc rc = st->ops->query->cube(st, q, out, n, err);
        if (rc != DS_ENOTFOUND)
            return rc;
    }
    cube_ctx *c = calloc(n ? n : 1, sizeof *c);
    cube_ctx **scan = calloc(n ? n : 1, sizeof *scan);
    size_t nscan = 0;
    ds_rc rc = DS_OK;
    for (size_t i = 0; i < n; i++)
        memset(&out[i], 0, sizeof out[i]);
    if (!c || !scan) {
        rc = ds_fail(err, DS_ENOMEM, "out of memory grouping the period's records");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        if (q[i].from > q[i].to) {
            rc = ds_fail(err, DS_EINVAL, "empty period: the first day is after the last");
            goto out;
        }
        if (q[i].from != q[0].from || q[i].to != q[0].to || q[i].filter.sensor_id != q[0].filter.sensor_id) {
            rc = ds_fail(err, DS_EINVAL, "queries run together must cover the same days and sensor");
            goto out;
        }
    }
    for (size_t i = 0; i < n; i++) {
        int done = 0;
        c[i].q = &q[i];
        if (idx_rebuild(&c[i], 512) != 0) {
            rc = ds_fail(err, DS_ENOMEM, "out of memory grouping the period's records");
            goto out;
        }
        if ((rc = run_rollup(st, &c[i], &done, err)) != DS_OK ||
            (!done && (rc = run_cross(st, &c[i], &done, err)) != DS_OK))
            goto out;
        if (done)
            continue;
        if (q[i].sources && ds_pairset_init(&c[i].pairs, 4096) != 0) {
            rc = ds_fail(err, DS_ENOMEM, "out of memory grouping the period's records");
            goto out;
        }
        scan[nscan++] = &c[i];
    }
    if (nscan) {
        many_ctx m = { scan, nscan };
        rc = ds_store_scan(st, DS_CHUNK_SRCSVC | DS_SCAN_NOFILL, q[0].filter.sensor_id, q[0].from, q[0].to, on_chunk_many,
                           &m, err);
        if (rc != DS_OK)
            goto out;
        for (size_t i = 0; i < nscan; i++)
            if (count_sources(scan[i]) != 0) {
                rc = ds_fail(err, DS_ENOMEM, "out of memory counting sources");
                goto out;
            }
    }
    for (size_t i = 0; i < n; i++) {
        if (c[i].n)
            qsort(c[i].cells, c[i].n, sizeof *c[i].cells, cell_cmp);
        out[i].cells = c[i].cells;
        out[i].n = c[i].n;
        out[i].total_packets = c[i].total;
        out[i].total_sources = c[i].total_src;
        c[i].cells = NULL;
    }
out:
    for (size_t i = 0; c && i < n; i++)
        ctx_free(&c[i]);
    if (rc != DS_OK)
        for (size_t i = 0; i < n; i++)
            ds_cube_free(&out[i]);
    free(c);
    free(scan);
    return rc;
}

ds_rc ds_cube_run(ds_store *st, const ds_cube_query *q, ds_cube *out, ds_err *err)
{
    return ds_cube_run_many(st, q, out, 1, err);
}

const ds_cube_cell *ds_cube_get(const ds_cube *c, uint32_t a, uint32_t b)
{
    size_t lo = 0, hi = c->n;
    uint64_t k = cell_key(a, b);
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        uint64_t km = cell_key(c->cells[mid].a, c->cells[mid].b);
        if (km == k)
            return &c->cells[mid];
        if (km < k)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}
