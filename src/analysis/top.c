/* top.c: see top.h.
 *
 * One pass over the period's SRCSVC records builds two hash tables: key -> packets, and the set
 * of (key, source) pairs, whose size per key is that key's distinct sources.  Both are open
 * addressing over power-of-two arrays.  A quarter of a two-/24 telescope is a few hundred
 * thousand records, so this stays well under the 0.1 s the issue asks of `top`.
 */
#include "analysis/top.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/records.h"

static inline uint64_t mix64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

/* key -> row (packets, sources); used flag kept apart so any key value is allowed */
typedef struct keytab { uint64_t *key; ds_top_row *row; uint8_t *used; size_t cap, n; } keytab;
/* set of (a, b) pairs */
typedef struct pairtab { uint64_t *a, *b; uint8_t *used; size_t cap, n; } pairtab;

static int keytab_init(keytab *t, size_t cap)
{
    t->cap = cap;
    t->n = 0;
    t->key = malloc(cap * sizeof *t->key);
    t->row = malloc(cap * sizeof *t->row);
    t->used = calloc(cap, 1);
    return t->key && t->row && t->used ? 0 : -1;
}
static void keytab_free(keytab *t) { free(t->key); free(t->row); free(t->used); }

static ds_top_row *keytab_get(keytab *t, uint64_t k);

static int keytab_grow(keytab *t)
{
    keytab n;
    if (keytab_init(&n, t->cap * 2) != 0) {
        keytab_free(&n);
        return -1;
    }
    for (size_t i = 0; i < t->cap; i++)
        if (t->used[i])
            *keytab_get(&n, t->key[i]) = t->row[i];
    keytab_free(t);
    *t = n;
    return 0;
}

/* Find or insert (zeroed row); the table never exceeds half full, so this always finds room. */
static ds_top_row *keytab_get(keytab *t, uint64_t k)
{
    size_t m = t->cap - 1, j = (size_t)mix64(k) & m;
    while (t->used[j]) {
        if (t->key[j] == k)
            return &t->row[j];
        j = (j + 1) & m;
    }
    t->used[j] = 1;
    t->key[j] = k;
    memset(&t->row[j], 0, sizeof t->row[j]);
    t->row[j].key = k;
    t->n++;
    return &t->row[j];
}

static int pairtab_init(pairtab *t, size_t cap)
{
    t->cap = cap;
    t->n = 0;
    t->a = malloc(cap * sizeof *t->a);
    t->b = malloc(cap * sizeof *t->b);
    t->used = calloc(cap, 1);
    return t->a && t->b && t->used ? 0 : -1;
}
static void pairtab_free(pairtab *t) { free(t->a); free(t->b); free(t->used); }

/* 1 if newly added, 0 if present */
static int pairtab_add(pairtab *t, uint64_t a, uint64_t b)
{
    size_t m = t->cap - 1, j = (size_t)mix64(a * 0x9e3779b97f4a7c15ULL ^ mix64(b)) & m;
    while (t->used[j]) {
        if (t->a[j] == a && t->b[j] == b)
            return 0;
        j = (j + 1) & m;
    }
    t->used[j] = 1;
    t->a[j] = a;
    t->b[j] = b;
    t->n++;
    return 1;
}

static int pairtab_grow(pairtab *t)
{
    pairtab n;
    if (pairtab_init(&n, t->cap * 2) != 0) {
        pairtab_free(&n);
        return -1;
    }
    for (size_t i = 0; i < t->cap; i++)
        if (t->used[i])
            pairtab_add(&n, t->a[i], t->b[i]);
    pairtab_free(t);
    *t = n;
    return 0;
}

typedef struct scan_ctx {
    const ds_top_query *q;
    keytab rows;
    pairtab key_src;     /* (row key, source) */
    pairtab all_src;     /* (0, source): distinct sources overall */
    pairtab src_day;     /* (source, day): for source rows */
    uint64_t total;
} scan_ctx;

static int match(const ds_top_query *q, const ds_rec_srcsvc *r)
{
    if (q->cls >= 0 && r->cls != q->cls)
        return 0;
    if (q->nports) {
        size_t i = 0;
        while (i < q->nports && q->ports[i] != r->service)
            i++;
        if (i == q->nports)
            return 0;
    }
    if (q->ncountries) {
        uint16_t cc = ds_cc_pack(r->cc);
        size_t i = 0;
        while (i < q->ncountries && q->countries[i] != cc)
            i++;
        if (i == q->ncountries)
            return 0;
    }
    if (q->nasns) {
        size_t i = 0;
        while (i < q->nasns && q->asns[i] != r->asn)
            i++;
        if (i == q->nasns)
            return 0;
    }
    return 1;
}

static ds_rc on_srcsvc(void *ctx, int64_t sensor_id, int32_t day, const uint8_t *data, size_t nrec, ds_err *err)
{
    scan_ctx *c = ctx;
    const ds_top_query *q = c->q;
    for (size_t i = 0; i < nrec; i++) {
        ds_rec_srcsvc r;
        ds_rec_srcsvc_get(data + i * DS_REC_SRCSVC, &r);
        if (!match(q, &r))
            continue;
        uint64_t key = q->dim == DS_TOP_PORTS ? r.service : q->dim == DS_TOP_COUNTRIES ? ds_cc_pack(r.cc)
                     : q->dim == DS_TOP_ASNS ? r.asn : r.src;
        if ((c->rows.n + 1) * 2 > c->rows.cap && keytab_grow(&c->rows) != 0)
            goto nomem;
        ds_top_row *row = keytab_get(&c->rows, key);
        row->packets += r.packets;
        c->total += r.packets;
        if (q->dim == DS_TOP_SOURCES) {
            row->cc[0] = r.cc[0];
            row->cc[1] = r.cc[1];
            row->asn = r.asn;
            row->sources = 1;
            if ((c->src_day.n + 1) * 2 > c->src_day.cap && pairtab_grow(&c->src_day) != 0)
                goto nomem;
            row->days += (uint32_t)pairtab_add(&c->src_day, r.src, (uint64_t)(uint32_t)day);
        } else {
            if ((c->key_src.n + 1) * 2 > c->key_src.cap && pairtab_grow(&c->key_src) != 0)
                goto nomem;
            row->sources += (uint64_t)pairtab_add(&c->key_src, key, r.src);
        }
        if ((c->all_src.n + 1) * 2 > c->all_src.cap && pairtab_grow(&c->all_src) != 0)
            goto nomem;
        pairtab_add(&c->all_src, 0, r.src);
    }
    return DS_OK;
nomem:
    return ds_fail(err, DS_ENOMEM, "out of memory counting sources");
}

typedef struct src_detail_ctx { ds_top_row **byrank; size_t n; keytab idx; } src_detail_ctx;

/* Fill address, first and last seen of the selected source rows from the SOURCES chunks. */
static ds_rc on_sources(void *ctx, int64_t sensor_id, int32_t day, const uint8_t *data, size_t nrec, ds_err *err)
{
    src_detail_ctx *c = ctx;
    for (size_t i = 0; i < nrec; i++) {
        ds_rec_source r;
        ds_rec_source_get(data + i * DS_REC_SOURCES, &r);
        uint64_t k = ds_src_key(&r.ip);
        size_t m = c->idx.cap - 1, j = (size_t)mix64(k) & m;
        while (c->idx.used[j] && c->idx.key[j] != k)
            j = (j + 1) & m;
        if (!c->idx.used[j])
            continue;
        ds_top_row *row = c->byrank[c->idx.row[j].packets];   /* row index stored in .packets */
        row->ip = r.ip;
        if (!row->first_ns || r.first_ns < row->first_ns)
            row->first_ns = r.first_ns;
        if (r.last_ns > row->last_ns)
            row->last_ns = r.last_ns;
    }
    return DS_OK;
}

static int row_cmp(const void *a, const void *b)
{
    const ds_top_row *x = a, *y = b;
    if (x->packets != y->packets)
        return x->packets < y->packets ? 1 : -1;
    return x->key < y->key ? -1 : x->key > y->key;
}

ds_rc ds_top_run(ds_store *st, const ds_top_query *q, ds_top_result *res, ds_err *err)
{
    ds_rc rc = DS_ENOMEM;
    scan_ctx c = { .q = q };
    src_detail_ctx sd = { 0 };
    ds_sensor_info *sensors = NULL;
    size_t nsensors = 0;

    memset(res, 0, sizeof *res);
    if (keytab_init(&c.rows, 1024) || pairtab_init(&c.key_src, 1 << 16) || pairtab_init(&c.all_src, 1 << 16) ||
        pairtab_init(&c.src_day, q->dim == DS_TOP_SOURCES ? 1 << 16 : 16))
        goto nomem;
    if ((rc = st->ops->scan(st, DS_CHUNK_SRCSVC, q->sensor_id, q->from, q->to, on_srcsvc, &c, err)) != DS_OK)
        goto out;
    if ((rc = st->ops->sensors(st, &sensors, &nsensors, err)) != DS_OK)
        goto out;
    for (size_t i = 0; i < nsensors; i++)
        if (!q->sensor_id || sensors[i].id == q->sensor_id)
            res->addresses += sensors[i].v4_addresses;
    res->days = q->to - q->from + 1;
    res->total_packets = c.total;
    res->total_sources = c.all_src.n;

    res->rows = malloc((c.rows.n + 1) * sizeof *res->rows);
    if (!res->rows)
        goto nomem;
    for (size_t i = 0; i < c.rows.cap; i++)
        if (c.rows.used[i])
            res->rows[res->n++] = c.rows.row[i];
    qsort(res->rows, res->n, sizeof *res->rows, row_cmp);
    if (q->limit && res->n > q->limit)
        res->n = q->limit;
    double denom = (double)res->addresses * (double)res->days;
    for (size_t i = 0; i < res->n; i++) {
        ds_top_row *r = &res->rows[i];
        r->share = c.total ? (double)r->packets / (double)c.total : 0;
        r->per_ip_per_day = denom > 0 ? (double)r->packets / denom : 0;
        if (q->dim == DS_TOP_SOURCES && !(r->key >> 63))
            ds_ip_set4(&r->ip, (uint32_t)r->key);
    }
    if (q->dim == DS_TOP_SOURCES && res->n) {
        /* second, narrow pass: addresses (IPv6 keys are hashes) and first/last seen */
        size_t cap = 16;
        while (cap < res->n * 2)
            cap *= 2;
        if (keytab_init(&sd.idx, cap) != 0)
            goto nomem;
        sd.byrank = malloc(res->n * sizeof *sd.byrank);
        if (!sd.byrank)
            goto nomem;
        for (size_t i = 0; i < res->n; i++) {
            sd.byrank[i] = &res->rows[i];
            keytab_get(&sd.idx, res->rows[i].key)->packets = i;
        }
        if ((rc = st->ops->scan(st, DS_CHUNK_SOURCES, q->sensor_id, q->from, q->to, on_sources, &sd, err)) != DS_OK)
            goto out;
    }
    rc = DS_OK;
    goto out;
nomem:
    rc = ds_fail(err, DS_ENOMEM, "out of memory");
out:
    if (rc != DS_OK)
        ds_top_result_free(res);
    keytab_free(&c.rows);
    pairtab_free(&c.key_src);
    pairtab_free(&c.all_src);
    pairtab_free(&c.src_day);
    keytab_free(&sd.idx);
    free(sd.byrank);
    free(sensors);
    return rc;
}

void ds_top_result_free(ds_top_result *res)
{
    free(res->rows);
    res->rows = NULL;
    res->n = 0;
}

char *ds_top_key_format(ds_top_dim dim, const ds_top_row *r, char *buf, size_t len)
{
    switch (dim) {
    case DS_TOP_PORTS:
        return ds_service_format((ds_service)r->key, buf, len);
    case DS_TOP_COUNTRIES: {
        char cc[3];
        ds_cc_unpack((uint16_t)r->key, cc);
        snprintf(buf, len, "%s", cc);
        return buf;
    }
    case DS_TOP_ASNS:
        snprintf(buf, len, "%u", (unsigned)r->key);
        return buf;
    case DS_TOP_SOURCES:
        return ds_ip_format(&r->ip, buf, len);
    }
    return buf;
}
