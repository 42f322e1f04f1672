/* period_slice.c: see period_slice.h.
 *
 * Why.  Over the source-heavy month (bench/serve.sh month: 8 M SRCSVC records, 23/tcp a fifth
 * of them from 2.7 M sources), a service's page was four queries of 280-420 ms each with the
 * month's chunks already in memory: each read every record, filtered it, and put the matching
 * ones' sources in hash sets (perf: the sets' inserts and growth, and fresh pages for them, most
 * of the time).  The four queries ask the same thing of the same records: which sources, with
 * which keys.  So the first of them gathers the service's records once, sorts them by source, and
 * every query of the page becomes one walk over runs of a source.
 *
 * A slice: the records of one service over [from, to] of one sensor (or all), 20 bytes each
 * (IPv4 source, day, country, packets, ASN, source port), sorted by source and, within a source,
 * in the view's day order (the sort is stable: it sorts source << 32 | position).  A slice with an
 * IPv6 source (a 63-bit hash: no room beside the position) is not made, and its queries are
 * declined.  The cache keeps SLICES of them per view, the least recently used dropped first; a
 * slice being read is freed by its last reader.  The slice is built under the cache's mutex, so
 * the page's four requests, sent at once, build it once.
 *
 * Exactness.  Each answer is what the chunk code computes from the same records (top.c, cube.c):
 * sums add; a source counts once per key it has (a run's keys are marked with the run's number,
 * so a key already counted for this run is not counted again); a source row's days are its
 * distinct days, its country and ASN those of its last day, the greatest when that day has
 * several (top_tables.h, src_geo_after); rows rank by packets, then key.  tests/e2e/serve.sh
 * compares a service page served with slices against one read from the store, byte for byte.
 */
#include "analysis/period_slice.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/period_store.h"
#include "core/hash.h"
#include "core/records.h"
#include "core/srcset.h"
#include "util/grow.h"

#define SLICES 4

typedef struct srec {
    uint32_t src;         /* IPv4 address */
    uint16_t day;         /* - from */
    uint16_t cc;          /* ds_cc_pack */
    uint32_t packets, asn;
    uint32_t sport;       /* the port, or DS_SPORT_VARIOUS (cube.c's DS_CUBE_SPORT) */
} srec;

typedef struct slice {
    int32_t from, to;
    int64_t sensor_id;
    ds_service service;
    int usable;           /* 0: it has an IPv6 source (its queries are declined) */
    srec *r;
    size_t n, bytes;
    int refs, dropped;    /* under the cache's mutex */
    unsigned long long used;
} slice;

struct ds_slice_cache {
    pthread_mutex_t mu;
    slice *s[SLICES];
    size_t n;
    unsigned long long clock;
    size_t bytes;         /* atomic */
};

ds_slice_cache *ds_slice_cache_new(void)
{
    ds_slice_cache *c = calloc(1, sizeof *c);
    if (c && pthread_mutex_init(&c->mu, NULL) != 0) {
        free(c);
        return NULL;
    }
    return c;
}

static void slice_free(ds_slice_cache *c, slice *s)
{
    __atomic_sub_fetch(&c->bytes, s->bytes, __ATOMIC_RELAXED);
    free(s->r);
    free(s);
}

void ds_slice_cache_free(ds_slice_cache *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n; i++)
        slice_free(c, c->s[i]);   /* no reader is left: the view's last handle is closing */
    pthread_mutex_destroy(&c->mu);
    free(c);
}

size_t ds_slice_cache_bytes(const ds_slice_cache *c)
{
    return c ? __atomic_load_n(&c->bytes, __ATOMIC_RELAXED) : 0;
}

/* ---- building ------------------------------------------------------------------------------ */

typedef struct build {
    slice *s;
    srec *r;
    size_t cap;
    uint64_t *keys;
    size_t capk;
} build;

static ds_rc on_build(void *ctx, int64_t sensor_id, int32_t day, const uint8_t *data, size_t nrec, ds_err *err)
{
    build *b = ctx;
    slice *s = b->s;
    (void)sensor_id;
    for (size_t i = 0; i < nrec && s->usable; i++) {
        ds_rec_srcsvc r;
        ds_rec_srcsvc_get(data + i * DS_REC_SRCSVC, &r);
        if (r.service != s->service)
            continue;
        if (r.src > UINT32_MAX || s->n >= UINT32_MAX || day < s->from || day - s->from > UINT16_MAX) {
            s->usable = 0;   /* an IPv6 source: declined */
            break;
        }
        if (s->n == b->cap) {
            srec *nr = ds_grow(b->r, &b->cap, sizeof *nr, 4096);
            if (!nr)
                return ds_fail(err, DS_ENOMEM, "out of memory gathering a service's records");
            b->r = nr;
        }
        if (s->n == b->capk) {
            uint64_t *nk = ds_grow(b->keys, &b->capk, sizeof *nk, 4096);
            if (!nk)
                return ds_fail(err, DS_ENOMEM, "out of memory gathering a service's records");
            b->keys = nk;
        }
        b->r[s->n] = (srec){ (uint32_t)r.src, (uint16_t)(day - s->from), ds_cc_pack(r.cc), r.packets, r.asn,
                             r.one_sport ? r.sport : DS_SPORT_VARIOUS };
        b->keys[s->n] = r.src << 32 | s->n;
        s->n++;
    }
    return DS_OK;
}

/* The records of s's service from the view, sorted by source (stable: day order within one). */
static ds_rc slice_build(ds_store *view, slice *s, ds_err *err)
{
    build b = { .s = s };
    uint64_t *tmp = NULL;
    s->usable = 1;
    ds_rc rc = ds_store_scan(view, DS_CHUNK_SRCSVC | DS_SCAN_NOFILL, s->sensor_id, s->from, s->to, on_build, &b, err);
    if (rc == DS_OK && s->usable && s->n) {
        if (!(tmp = malloc(s->n * sizeof *tmp)) || !(s->r = malloc(s->n * sizeof *s->r))) {
            rc = ds_fail(err, DS_ENOMEM, "out of memory sorting a service's records");
        } else {
            ds_sort_u64(b.keys, tmp, s->n);
            for (size_t i = 0; i < s->n; i++)
                s->r[i] = b.r[b.keys[i] & 0xffffffffu];
            s->bytes = s->n * sizeof *s->r;
        }
    }
    if (!s->usable) {
        free(s->r);
        s->r = NULL;
        s->n = s->bytes = 0;
    }
    free(tmp);
    free(b.r);
    free(b.keys);
    return rc;
}

/* The slice of (from, to, sensor, service), made when missing; *out NULL when it cannot answer. */
static ds_rc slice_get(ds_store *view, ds_slice_cache *c, int32_t from, int32_t to, int64_t sensor_id, ds_service svc,
                       slice **out, ds_err *err)
{
    ds_rc rc = DS_OK;
    *out = NULL;
    pthread_mutex_lock(&c->mu);
    slice *s = NULL;
    for (size_t i = 0; i < c->n && !s; i++)
        if (c->s[i]->from == from && c->s[i]->to == to && c->s[i]->sensor_id == sensor_id && c->s[i]->service == svc)
            s = c->s[i];
    if (!s) {
        if (!(s = calloc(1, sizeof *s))) {
            rc = ds_fail(err, DS_ENOMEM, "out of memory");
            goto out;
        }
        *s = (slice){ .from = from, .to = to, .sensor_id = sensor_id, .service = svc };
        if ((rc = slice_build(view, s, err)) != DS_OK) {
            free(s->r);
            free(s);
            s = NULL;
            goto out;
        }
        __atomic_add_fetch(&c->bytes, s->bytes, __ATOMIC_RELAXED);
        if (c->n == SLICES) {   /* the least recently used goes; its readers keep it until done */
            size_t lru = 0;
            for (size_t i = 1; i < c->n; i++)
                if (c->s[i]->used < c->s[lru]->used)
                    lru = i;
            slice *old = c->s[lru];
            c->s[lru] = c->s[--c->n];
            if (old->refs)
                old->dropped = 1;
            else
                slice_free(c, old);
        }
        c->s[c->n++] = s;
    }
    s->used = ++c->clock;
    if (s->usable) {
        s->refs++;
        *out = s;
    }
out:
    pthread_mutex_unlock(&c->mu);
    return rc;
}

static void slice_put(ds_slice_cache *c, slice *s)
{
    pthread_mutex_lock(&c->mu);
    if (--s->refs == 0 && s->dropped)
        slice_free(c, s);
    pthread_mutex_unlock(&c->mu);
}

/* ---- counting -------------------------------------------------------------------------------- */

/* Keys (a cell, a country, an ASN) to their tallies: open addressing, grown at half full. */
typedef struct tally { uint64_t key, packets, sources; size_t run; } tally;
typedef struct tallies { tally *t; uint32_t *idx; size_t n, cap, capidx; } tallies;

static int tallies_rehash(tallies *m, size_t cap)
{
    uint32_t *n = calloc(cap, sizeof *n);
    if (!n)
        return -1;
    for (size_t i = 0; i < m->n; i++) {
        size_t j = (size_t)ds_mix64(m->t[i].key) & (cap - 1);
        while (n[j])
            j = (j + 1) & (cap - 1);
        n[j] = (uint32_t)(i + 1);
    }
    free(m->idx);
    m->idx = n;
    m->capidx = cap;
    return 0;
}

/* The tally of key, made when new (NULL out of memory). */
static tally *tally_get(tallies *m, uint64_t key)
{
    if (!m->capidx && tallies_rehash(m, 256) != 0)
        return NULL;
    size_t mask = m->capidx - 1, j = (size_t)ds_mix64(key) & mask;
    for (; m->idx[j]; j = (j + 1) & mask)
        if (m->t[m->idx[j] - 1].key == key)
            return &m->t[m->idx[j] - 1];
    if (m->n == m->cap) {
        tally *nt = ds_grow(m->t, &m->cap, sizeof *nt, 256);
        if (!nt)
            return NULL;
        m->t = nt;
    }
    m->t[m->n] = (tally){ key, 0, 0, SIZE_MAX };
    m->idx[j] = (uint32_t)++m->n;
    if (m->n * 2 > m->capidx && tallies_rehash(m, m->capidx * 2) != 0)
        return NULL;
    return &m->t[m->n - 1];
}

static void tallies_free(tallies *m)
{
    free(m->t);
    free(m->idx);
}

static uint32_t dim_value(ds_cube_dim d, const slice *s, const srec *r)
{
    switch (d) {
    case DS_CUBE_DAY: return (uint32_t)(s->from + r->day);
    case DS_CUBE_SERVICE: return s->service;
    case DS_CUBE_COUNTRY: return r->cc;
    case DS_CUBE_ASN: return r->asn;
    case DS_CUBE_SPORT: return r->sport;
    case DS_CUBE_NONE: break;
    }
    return 0;
}

/* Tally every record under the key of dims (a, b), a source once per key; *runs: the sources. */
static int tally_slice(const slice *s, ds_cube_dim a, ds_cube_dim b, tallies *m, uint64_t *total, size_t *runs)
{
    size_t run = 0;
    *total = 0;
    for (size_t i = 0; i < s->n; i++) {
        const srec *r = &s->r[i];
        if (i && r->src != s->r[i - 1].src)
            run++;
        tally *t = tally_get(m, (uint64_t)dim_value(a, s, r) << 32 | dim_value(b, s, r));
        if (!t)
            return -1;
        t->packets += r->packets;
        *total += r->packets;
        if (t->run != run) {
            t->run = run;
            t->sources++;
        }
    }
    *runs = s->n ? run + 1 : 0;
    return 0;
}

/* ---- the entries ------------------------------------------------------------------------------ */

/* The one service of a filter that names a sensor at most besides it, or 0 when it names more. */
static int only_service(const ds_filter *f, ds_service *svc)
{
    if (f->cls >= 0 || f->nports != 1 || f->ncountries || f->nasns || f->exclude || f->only || f->tools ||
        f->one_source)
        return 0;
    *svc = f->ports[0];
    return 1;
}

/* top.c's ranking: more packets first, then the smaller key */
typedef struct cand { uint64_t key, packets, sources; uint32_t days, asn; uint16_t cc; } cand;

static int cand_before(const cand *a, const cand *b)
{
    return a->packets != b->packets ? a->packets > b->packets : a->key < b->key;
}

static int cand_cmp(const void *x, const void *y)
{
    const cand *a = x, *b = y;
    return cand_before(a, b) ? -1 : cand_before(b, a);
}

/* The best `limit` of the offered candidates (all when limit is 0): a heap whose root is the
 * worst kept. */
typedef struct best { cand *h; size_t n, cap, limit; } best;

static int best_offer(best *b, const cand *c)
{
    if (b->limit && b->n == b->limit) {
        if (!cand_before(c, &b->h[0]))
            return 0;
        b->h[0] = *c;
        for (size_t k = 0;;) {   /* sift the new root down: the worse child goes up */
            size_t l = 2 * k + 1, r = l + 1, w = k;
            if (l < b->n && cand_before(&b->h[w], &b->h[l]))
                w = l;
            if (r < b->n && cand_before(&b->h[w], &b->h[r]))
                w = r;
            if (w == k)
                break;
            cand t = b->h[k];
            b->h[k] = b->h[w];
            b->h[w] = t;
            k = w;
        }
        return 0;
    }
    if (b->n == b->cap) {
        cand *nh = ds_grow(b->h, &b->cap, sizeof *nh, 64);
        if (!nh)
            return -1;
        b->h = nh;
    }
    size_t k = b->n++;
    b->h[k] = *c;
    if (!b->limit)
        return 0;
    while (k > 0 && cand_before(&b->h[(k - 1) / 2], &b->h[k])) {   /* sift up: the worse parent comes down */
        cand t = b->h[k];
        b->h[k] = b->h[(k - 1) / 2];
        b->h[(k - 1) / 2] = t;
        k = (k - 1) / 2;
    }
    return 0;
}

/* Source rows: per run, its packets, distinct days, and its last day's greatest (country, ASN). */
static int source_cands(const slice *s, best *b, uint64_t *total, size_t *runs)
{
    *total = 0;
    *runs = 0;
    for (size_t i = 0; i < s->n;) {
        const srec *r = &s->r[i];
        cand c = { .key = r->src, .sources = 1, .days = 0, .cc = r->cc, .asn = r->asn };
        int32_t day = -1;
        size_t j = i;
        for (; j < s->n && s->r[j].src == r->src; j++) {
            const srec *x = &s->r[j];
            c.packets += x->packets;
            if (x->day != day) {
                day = x->day;
                c.days++;
                c.cc = x->cc;
                c.asn = x->asn;
            } else if (x->cc > c.cc || (x->cc == c.cc && x->asn > c.asn)) {
                c.cc = x->cc;
                c.asn = x->asn;
            }
        }
        *total += c.packets;
        (*runs)++;
        if (best_offer(b, &c) != 0)
            return -1;
        i = j;
    }
    return 0;
}

/* The printed sources' first and last days over all their records (any service) of the period,
 * from the view's SRCSVC chunks: analysis/top.c then reads their first and last sightings from
 * the SOURCES chunks of those days only (store/query.h, ds_top_row.first_day). */
typedef struct span_ctx { tallies rows; ds_top_row *r; } span_ctx;

static ds_rc on_span(void *ctx, int64_t sensor_id, int32_t day, const uint8_t *data, size_t nrec, ds_err *err)
{
    span_ctx *x = ctx;
    (void)sensor_id;
    (void)err;
    size_t mask = x->rows.capidx - 1;
    for (size_t i = 0; i < nrec; i++) {
        ds_rec_srcsvc r;
        ds_rec_srcsvc_get(data + i * DS_REC_SRCSVC, &r);
        uint64_t src = r.src;
        for (size_t j = (size_t)ds_mix64(src) & mask; x->rows.idx[j]; j = (j + 1) & mask) {
            const tally *t = &x->rows.t[x->rows.idx[j] - 1];
            if (t->key != src)
                continue;
            ds_top_row *row = &x->r[t->packets];   /* packets: the row's index */
            if (!row->first_day || day < row->first_day)
                row->first_day = day;
            if (day > row->last_day)
                row->last_day = day;
            break;
        }
    }
    return DS_OK;
}

#define SPAN_MAX_ROWS 10000   /* more printed rows: top.c reads every day's SOURCES instead */

ds_rc ds_slice_top(ds_store *view, const ds_top_query *q, ds_top_result *res, ds_err *err)
{
    ds_slice_cache *c = ds_period_store_slices(view);
    ds_service svc;
    ds_filter f;
    ds_filter_init(&f);
    f.cls = q->cls;
    f.nports = q->nports;
    memcpy(f.ports, q->ports, q->nports * sizeof *q->ports);
    f.ncountries = q->ncountries;
    f.nasns = q->nasns;
    f.exclude = q->exclude;
    f.only = q->only;
    f.tools = q->tools;
    if (!c || q->dim == DS_TOP_PORTS || q->from > q->to || !only_service(&f, &svc))
        return DS_ENOTFOUND;
    slice *s;
    ds_rc rc = slice_get(view, c, q->from, q->to, q->sensor_id, svc, &s, err);
    if (rc != DS_OK || !s)
        return rc != DS_OK ? rc : DS_ENOTFOUND;
    tallies m = { 0 };
    best b = { .limit = q->limit };
    span_ctx sp = { .r = NULL };
    size_t runs = 0;
    uint64_t total = 0;
    memset(res, 0, sizeof *res);
    if (q->dim == DS_TOP_SOURCES) {
        if (source_cands(s, &b, &total, &runs) != 0)
            goto nomem;
    } else {
        if (tally_slice(s, q->dim == DS_TOP_COUNTRIES ? DS_CUBE_COUNTRY : DS_CUBE_ASN, DS_CUBE_NONE, &m, &total, &runs) != 0)
            goto nomem;
        for (size_t i = 0; i < m.n; i++) {
            cand k = { .key = m.t[i].key >> 32, .packets = m.t[i].packets, .sources = m.t[i].sources };
            if (best_offer(&b, &k) != 0)
                goto nomem;
        }
    }
    qsort(b.h, b.n, sizeof *b.h, cand_cmp);
    if (b.n && !(res->rows = calloc(b.n, sizeof *res->rows)))
        goto nomem;
    if ((rc = ds_top_result_addresses(view, q->sensor_id, res, err)) != DS_OK)
        goto out;
    res->days = q->to - q->from + 1;
    res->total_packets = total;
    res->total_sources = runs;
    res->n = b.n;
    for (size_t i = 0; i < b.n; i++) {
        ds_top_row *r = &res->rows[i];
        r->key = b.h[i].key;
        r->packets = b.h[i].packets;
        r->sources = b.h[i].sources;
        if (q->dim == DS_TOP_SOURCES) {
            ds_ip_set4(&r->ip, (uint32_t)r->key);
            ds_cc_unpack(b.h[i].cc, r->cc);
            r->asn = b.h[i].asn;
            r->days = b.h[i].days;
        }
    }
    ds_top_result_rates(res, q->have_addr_days, q->addr_days);   /* as top.c */
    if (q->dim == DS_TOP_SOURCES && res->n && res->n <= SPAN_MAX_ROWS) {
        for (size_t i = 0; i < res->n; i++) {
            tally *t = tally_get(&sp.rows, res->rows[i].key);
            if (!t)
                goto nomem;
            t->packets = i;
        }
        sp.r = res->rows;
        if ((rc = ds_store_scan(view, DS_CHUNK_SRCSVC | DS_SCAN_NOFILL, q->sensor_id, q->from, q->to, on_span, &sp,
                                err)) != DS_OK)
            goto out;
    }
    rc = DS_OK;
    goto out;
nomem:
    rc = ds_fail(err, DS_ENOMEM, "out of memory counting a service's records");
out:
    if (rc != DS_OK)
        ds_top_result_free(res);
    tallies_free(&m);
    tallies_free(&sp.rows);
    free(b.h);
    slice_put(c, s);
    return rc;
}

static int cell_cmp(const void *x, const void *y)
{
    const ds_cube_cell *a = x, *b = y;
    uint64_t ka = (uint64_t)a->a << 32 | a->b, kb = (uint64_t)b->a << 32 | b->b;
    return ka < kb ? -1 : ka > kb;
}

ds_rc ds_slice_cube(ds_store *view, const ds_cube_query *q, ds_cube *out, size_t n, ds_err *err)
{
    ds_slice_cache *c = ds_period_store_slices(view);
    ds_service svc;
    if (!c)
        return DS_ENOTFOUND;
    for (size_t i = 0; i < n; i++)
        if (q[i].from > q[i].to || !only_service(&q[i].filter, &svc))
            return DS_ENOTFOUND;
    for (size_t i = 0; i < n; i++)
        memset(&out[i], 0, sizeof out[i]);
    ds_rc rc = DS_OK;
    for (size_t i = 0; i < n && rc == DS_OK; i++) {
        slice *s;
        only_service(&q[i].filter, &svc);
        if ((rc = slice_get(view, c, q[i].from, q[i].to, q[i].filter.sensor_id, svc, &s, err)) != DS_OK)
            break;
        if (!s) {
            rc = DS_ENOTFOUND;
            break;
        }
        tallies m = { 0 };
        size_t runs = 0;
        uint64_t total = 0;
        if (tally_slice(s, q[i].a, q[i].b, &m, &total, &runs) != 0 ||
            (m.n && !(out[i].cells = malloc(m.n * sizeof *out[i].cells)))) {
            rc = ds_fail(err, DS_ENOMEM, "out of memory grouping a service's records");
        } else {
            for (size_t k = 0; k < m.n; k++)
                out[i].cells[k] = (ds_cube_cell){ (uint32_t)(m.t[k].key >> 32), (uint32_t)m.t[k].key, m.t[k].packets,
                                                   q[i].sources ? m.t[k].sources : 0 };
            out[i].n = m.n;
            qsort(out[i].cells, out[i].n, sizeof *out[i].cells, cell_cmp);   /* cube.c's cell order */
            out[i].total_packets = total;
            out[i].total_sources = q[i].total_sources ? runs : 0;
        }
        tallies_free(&m);
        slice_put(c, s);
    }
    if (rc != DS_OK)
        for (size_t i = 0; i < n; i++)
            ds_cube_free(&out[i]);
    return rc;
}
