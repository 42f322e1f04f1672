/* cube.c: see cube.h.
 *
 * One pass over the period's SRCSVC chunks.  Cells live in a dense array indexed through an
 * open-addressing table keyed by (a << 32 | b); distinct sources per cell go into one pair set
 * keyed by (cell key, source key), and overall distinct sources into a set of source keys.  A
 * report asks for a few hundred cells at most, so the sets dominate, as in `top`.
 */
#include "analysis/cube.h"

#include <stdlib.h>
#include <string.h>

#include "core/hash.h"
#include "util/grow.h"

typedef struct cube_ctx {
    const ds_cube_query *q;
    ds_cube_cell *cells; size_t n, cap;
    uint32_t *idx; size_t capidx;       /* cell index + 1; 0 empty */
    ds_pairset pairs;
    ds_u64set all;
    uint64_t total;
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

static ds_rc on_chunk(void *ctx, int64_t sensor_id, int32_t day, const uint8_t *data, size_t nrec, ds_err *err)
{
    cube_ctx *c = ctx;
    for (size_t i = 0; i < nrec; i++) {
        ds_rec_srcsvc r;
        ds_rec_srcsvc_get(data + i * DS_REC_SRCSVC, &r);
        if (!ds_filter_match(&c->q->filter, &r))
            continue;
        ds_cube_cell *x = cell_get(c, dim_value(c->q->a, day, &r), dim_value(c->q->b, day, &r));
        if (!x || ds_u64set_add(&c->all, r.src) < 0)
            return ds_fail(err, DS_ENOMEM, "out of memory grouping the period's records");
        x->packets += r.packets;
        c->total += r.packets;
        if (c->q->sources) {
            int added = ds_pairset_add(&c->pairs, cell_key(x->a, x->b), r.src);
            if (added < 0)
                return ds_fail(err, DS_ENOMEM, "out of memory counting sources");
            x->sources += (uint64_t)added;
        }
    }
    return DS_OK;
}

static int cell_cmp(const void *x, const void *y)
{
    const ds_cube_cell *a = x, *b = y;
    uint64_t ka = cell_key(a->a, a->b), kb = cell_key(b->a, b->b);
    return ka < kb ? -1 : ka > kb;
}

ds_rc ds_cube_run(ds_store *st, const ds_cube_query *q, ds_cube *out, ds_err *err)
{
    cube_ctx c = { .q = q };
    ds_rc rc = DS_OK;
    memset(out, 0, sizeof *out);
    if (q->from > q->to) {
        rc = ds_fail(err, DS_EINVAL, "empty period: the first day is after the last");
        goto out;
    }
    if (idx_rebuild(&c, 512) != 0 || ds_u64set_init(&c.all, 4096) != 0 ||
        (q->sources && ds_pairset_init(&c.pairs, 4096) != 0)) {
        rc = ds_fail(err, DS_ENOMEM, "out of memory grouping the period's records");
        goto out;
    }
    rc = st->ops->scan(st, DS_CHUNK_SRCSVC, q->filter.sensor_id, q->from, q->to, on_chunk, &c, err);
    if (rc != DS_OK)
        goto out;
    if (c.n)
        qsort(c.cells, c.n, sizeof *c.cells, cell_cmp);
    out->cells = c.cells;
    out->n = c.n;
    out->total_packets = c.total;
    out->total_sources = c.all.n;
    c.cells = NULL;
out:
    free(c.cells);
    free(c.idx);
    ds_u64set_free(&c.all);
    if (q->sources)
        ds_pairset_free(&c.pairs);
    return rc;
}

void ds_cube_free(ds_cube *c)
{
    free(c->cells);
    memset(c, 0, sizeof *c);
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
