/* top.c: see top.h.
 *
 * Pass 1 reads the period's SRCSVC records once: packets are summed per key (a small hash table:
 * a few thousand services or countries), and each matching record is kept as a 24-byte item in
 * one array, with every distinct source added to a set for the total.  Pass 2 runs over that array
 * only for the keys that made the ranking, counting their distinct sources in a (key, source) set.
 * Counting distinct sources for every key, shown or not, was most of the cost (the pair set over a
 * quarter runs to tens of MB); restricting it to the rows printed keeps a quarter's `top` within
 * the 0.1 s the issue asks.
 */
#include "analysis/top.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/records.h"
#include "core/hash.h"

/* Pass 1 table: key -> packets (and, for source rows, country and ASN).  24 bytes an entry,
 * because a quarter can hold tens of thousands of keys (random-port scans) and fresh memory is
 * what costs here. */
typedef struct sum_ent { uint64_t key, packets; uint32_t asn; char cc[2]; uint8_t used, rsv; } sum_ent;
typedef struct sumtab { sum_ent *e; size_t cap, n; } sumtab;

static int sumtab_init(sumtab *t, size_t cap)
{
    t->cap = cap;
    t->n = 0;
    t->e = calloc(cap, sizeof *t->e);
    return t->e ? 0 : -1;
}

static sum_ent *sumtab_slot(sum_ent *e, size_t cap, uint64_t k)
{
    size_t m = cap - 1, j = (size_t)ds_mix64(k) & m;
    while (e[j].used && e[j].key != k)
        j = (j + 1) & m;
    return &e[j];
}

static sum_ent *sumtab_get(sumtab *t, uint64_t k)
{
    if ((t->n + 1) * 2 > t->cap) {
        size_t cap = t->cap * 2;
        sum_ent *n = calloc(cap, sizeof *n);
        if (!n)
            return NULL;
        for (size_t i = 0; i < t->cap; i++)
            if (t->e[i].used)
                *sumtab_slot(n, cap, t->e[i].key) = t->e[i];
        free(t->e);
        t->e = n;
        t->cap = cap;
    }
    sum_ent *x = sumtab_slot(t->e, t->cap, k);
    if (!x->used) {
        x->used = 1;
        x->key = k;
        t->n++;
    }
    return x;
}

/* Set of (a, b) pairs, one 24-byte entry each so a probe touches one cache line. */
typedef struct pair_ent { uint64_t a, b; uint64_t used; } pair_ent;
typedef struct pairtab { pair_ent *e; size_t cap, n; } pairtab;

static int pairtab_init(pairtab *t, size_t cap)
{
    t->cap = cap;
    t->n = 0;
    t->e = calloc(cap, sizeof *t->e);
    return t->e ? 0 : -1;
}
static void pairtab_free(pairtab *t) { free(t->e); }

static inline size_t pair_home(uint64_t a, uint64_t b, size_t m)
{
    return (size_t)ds_mix64(a * 0x9e3779b97f4a7c15ULL ^ b) & m;
}

/* Set of u64 values (8 bytes an entry, so it stays in cache longer); 0 is kept as a flag. */
typedef struct u64set { uint64_t *e; size_t cap, n; int has_zero; } u64set;

static int u64set_init(u64set *t, size_t cap)
{
    t->cap = cap;
    t->n = 0;
    t->has_zero = 0;
    t->e = calloc(cap, sizeof *t->e);
    return t->e ? 0 : -1;
}

static int u64set_add(u64set *t, uint64_t v)
{
    if (!v) {
        int added = !t->has_zero;
        t->has_zero = 1;
        t->n += (size_t)added;
        return added;
    }
    if ((t->n + 1) * 2 > t->cap) {
        size_t cap = t->cap * 2;
        uint64_t *n = calloc(cap, sizeof *n);
        if (!n)
            return -1;
        for (size_t i = 0; i < t->cap; i++) {
            if (!t->e[i])
                continue;
            size_t j = (size_t)ds_mix64(t->e[i]) & (cap - 1);
            while (n[j])
                j = (j + 1) & (cap - 1);
            n[j] = t->e[i];
        }
        free(t->e);
        t->e = n;
        t->cap = cap;
    }
    size_t m = t->cap - 1, j = (size_t)ds_mix64(v) & m;
    while (t->e[j]) {
        if (t->e[j] == v)
            return 0;
        j = (j + 1) & m;
    }
    t->e[j] = v;
    t->n++;
    return 1;
}

/* Set of non-zero u32 values: IPv4 sources, 4 bytes an entry. */
typedef struct u32set { uint32_t *e; size_t cap, n; } u32set;

static int u32set_init(u32set *t, size_t cap)
{
    t->cap = cap;
    t->n = 0;
    t->e = calloc(cap, sizeof *t->e);
    return t->e ? 0 : -1;
}

static int u32set_add(u32set *t, uint32_t v)
{
    if ((t->n + 1) * 2 > t->cap) {
        size_t cap = t->cap * 2;
        uint32_t *n = calloc(cap, sizeof *n);
        if (!n)
            return -1;
        for (size_t i = 0; i < t->cap; i++) {
            if (!t->e[i])
                continue;
            size_t j = (size_t)((t->e[i] * 0x9e3779b97f4a7c15ULL) >> 20) & (cap - 1);
            while (n[j])
                j = (j + 1) & (cap - 1);
            n[j] = t->e[i];
        }
        free(t->e);
        t->e = n;
        t->cap = cap;
    }
    size_t m = t->cap - 1, j = (size_t)((v * 0x9e3779b97f4a7c15ULL) >> 20) & m;
    while (t->e[j]) {
        if (t->e[j] == v)
            return 0;
        j = (j + 1) & m;
    }
    t->e[j] = v;
    t->n++;
    return 1;
}

/* 1 if newly added, 0 if present, -1 out of memory */
static int pairtab_add(pairtab *t, uint64_t a, uint64_t b)
{
    if ((t->n + 1) * 2 > t->cap) {
        size_t cap = t->cap * 2;
        pair_ent *n = calloc(cap, sizeof *n);
        if (!n)
            return -1;
        for (size_t i = 0; i < t->cap; i++) {
            if (!t->e[i].used)
                continue;
            size_t j = pair_home(t->e[i].a, t->e[i].b, cap - 1);
            while (n[j].used)
                j = (j + 1) & (cap - 1);
            n[j] = t->e[i];
        }
        free(t->e);
        t->e = n;
        t->cap = cap;
    }
    size_t m = t->cap - 1, j = pair_home(a, b, m);
    while (t->e[j].used) {
        if (t->e[j].a == a && t->e[j].b == b)
            return 0;
        j = (j + 1) & m;
    }
    t->e[j] = (pair_ent){ a, b, 1 };
    t->n++;
    return 1;
}

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

static inline uint64_t key_of(const ds_top_query *q, const ds_rec_srcsvc *r)
{
    return q->dim == DS_TOP_PORTS ? r->service : q->dim == DS_TOP_COUNTRIES ? ds_cc_pack(r->cc)
         : q->dim == DS_TOP_ASNS ? r->asn : r->src;
}

/* Ports and countries have small key spaces, so pass 1 sums them in plain arrays instead of
 * the hash table: no hashing, no probing.  A port key maps to (protocol slot, port); protocols
 * other than TCP/UDP/ICMP/ICMPv6 use the hash table. */
#define DENSE_SLOTS 4
static inline long dense_index(ds_top_dim dim, uint64_t key)
{
    if (dim == DS_TOP_COUNTRIES)
        return (long)(key & 0xffff);
    if (dim != DS_TOP_PORTS)
        return -1;
    long slot;
    switch (DS_SERVICE_PROTO((ds_service)key)) {
    case DS_PROTO_TCP: slot = 0; break;
    case DS_PROTO_UDP: slot = 1; break;
    case DS_PROTO_ICMP: slot = 2; break;
    case DS_PROTO_ICMP6: slot = 3; break;
    default: return -1;
    }
    return slot << 16 | DS_SERVICE_VALUE((ds_service)key);
}
static inline uint64_t dense_key(ds_top_dim dim, size_t i)
{
    static const uint8_t proto[DENSE_SLOTS] = { DS_PROTO_TCP, DS_PROTO_UDP, DS_PROTO_ICMP, DS_PROTO_ICMP6 };
    return dim == DS_TOP_COUNTRIES ? (uint64_t)i : DS_SERVICE(proto[i >> 16], i & 0xffff);
}

typedef struct scan_ctx {
    const ds_top_query *q;
    uint64_t *dense;     /* packets by dense_index (ports, countries) */
    sumtab sums;
    u32set all_v4;       /* distinct sources overall: IPv4 (non-zero) ... */
    u64set all_other;    /* ... and the rest (IPv6 keys, 0.0.0.0) */
    uint64_t total;
    /* pass 2 */
    sumtab shown;        /* key of a printed row -> its index (in .packets) */
    uint64_t shown_mask; /* bit (hash of key) & 63 of every printed key: screens records first */
    ds_top_row *rows;
    u64set seen32;       /* (key, source) or (source, day) packed when both fit in 32 bits */
    pairtab seen;        /* the same pairs when they don't (IPv6 sources) */
} scan_ctx;

static ds_rc pass1(void *ctx, int64_t sensor_id, int32_t day, const uint8_t *data, size_t nrec, ds_err *err)
{
    scan_ctx *c = ctx;
    for (size_t i = 0; i < nrec; i++) {
        ds_rec_srcsvc r;
        ds_rec_srcsvc_get(data + i * DS_REC_SRCSVC, &r);
        if (!match(c->q, &r))
            continue;
        uint64_t key = key_of(c->q, &r);
        long di = c->dense ? dense_index(c->q->dim, key) : -1;
        if ((r.src && r.src <= UINT32_MAX ? u32set_add(&c->all_v4, (uint32_t)r.src) : u64set_add(&c->all_other, r.src)) < 0)
            return ds_fail(err, DS_ENOMEM, "out of memory counting sources");
        c->total += r.packets;
        if (di >= 0) {
            c->dense[di] += r.packets;
            continue;
        }
        sum_ent *e = sumtab_get(&c->sums, key);
        if (!e)
            return ds_fail(err, DS_ENOMEM, "out of memory counting sources");
        e->packets += r.packets;
        e->asn = r.asn;
        e->cc[0] = r.cc[0];
        e->cc[1] = r.cc[1];
    }
    return DS_OK;
}

static inline unsigned mask_bit(uint64_t key) { return (unsigned)((key * 0x9e3779b97f4a7c15ULL) >> 58); }

static ds_rc pass2(void *ctx, int64_t sensor_id, int32_t day, const uint8_t *data, size_t nrec, ds_err *err)
{
    scan_ctx *c = ctx;
    for (size_t i = 0; i < nrec; i++) {
        ds_rec_srcsvc r;
        ds_rec_srcsvc_get(data + i * DS_REC_SRCSVC, &r);
        if (!match(c->q, &r))
            continue;
        uint64_t key = key_of(c->q, &r);
        if (!(c->shown_mask >> mask_bit(key) & 1))
            continue;
        sum_ent *e = sumtab_slot(c->shown.e, c->shown.cap, key);
        if (!e->used)
            continue;
        ds_top_row *row = &c->rows[e->packets];
        uint64_t a = c->q->dim == DS_TOP_SOURCES ? r.src : key;
        uint64_t b = c->q->dim == DS_TOP_SOURCES ? (uint32_t)day : r.src;
        int added = a >> 32 || b >> 32 ? pairtab_add(&c->seen, a, b) : u64set_add(&c->seen32, a << 32 | b);
        if (added < 0)
            return ds_fail(err, DS_ENOMEM, "out of memory counting sources");
        if (c->q->dim == DS_TOP_SOURCES)
            row->days += (uint32_t)added;
        else
            row->sources += (uint64_t)added;
    }
    return DS_OK;
}

typedef struct src_detail_ctx { ds_top_row *rows; sumtab idx; } src_detail_ctx;

/* Fill address, first and last seen of the printed source rows from the SOURCES chunks. */
static ds_rc on_sources(void *ctx, int64_t sensor_id, int32_t day, const uint8_t *data, size_t nrec, ds_err *err)
{
    src_detail_ctx *c = ctx;
    for (size_t i = 0; i < nrec; i++) {
        ds_rec_source r;
        ds_rec_source_get(data + i * DS_REC_SOURCES, &r);
        sum_ent *e = sumtab_slot(c->idx.e, c->idx.cap, ds_src_key(&r.ip));
        if (!e->used)
            continue;
        ds_top_row *row = &c->rows[e->packets];
        row->ip = r.ip;
        if (!row->first_ns || r.first_ns < row->first_ns)
            row->first_ns = r.first_ns;
        if (r.last_ns > row->last_ns)
            row->last_ns = r.last_ns;
    }
    return DS_OK;
}

/* ranking order: more packets first, then the smaller key */
static int ent_before(const sum_ent *x, const sum_ent *y)
{
    return x->packets != y->packets ? x->packets > y->packets : x->key < y->key;
}

static int ent_cmp(const void *a, const void *b)
{
    const sum_ent *x = *(const sum_ent *const *)a, *y = *(const sum_ent *const *)b;
    return ent_before(x, y) ? -1 : ent_before(y, x) ? 1 : 0;
}

/* Keep the best `limit` entries in a min-heap (worst on top), then sort them. */
static size_t select_top(const sumtab *t, size_t limit, const sum_ent **out)
{
    size_t n = 0;
    for (size_t i = 0; i < t->cap; i++) {
        const sum_ent *e = &t->e[i];
        if (!e->used)
            continue;
        if (n < limit) {
            size_t k = n++;
            out[k] = e;
            while (k && ent_before(out[(k - 1) / 2], out[k])) {   /* sift up: parent must be worse */
                const sum_ent *tmp = out[k]; out[k] = out[(k - 1) / 2]; out[(k - 1) / 2] = tmp;
                k = (k - 1) / 2;
            }
        } else if (ent_before(e, out[0])) {
            out[0] = e;
            size_t k = 0;
            for (;;) {   /* sift down */
                size_t l = 2 * k + 1, r = l + 1, w = k;
                if (l < n && ent_before(out[w], out[l])) w = l;
                if (r < n && ent_before(out[w], out[r])) w = r;
                if (w == k) break;
                const sum_ent *tmp = out[k]; out[k] = out[w]; out[w] = tmp;
                k = w;
            }
        }
    }
    qsort(out, n, sizeof *out, ent_cmp);
    return n;
}

ds_rc ds_top_run(ds_store *st, const ds_top_query *q, ds_top_result *res, ds_err *err)
{
    ds_rc rc = DS_ENOMEM;
    scan_ctx c = { .q = q };
    src_detail_ctx sd = { 0 };
    const sum_ent **best = NULL;
    ds_sensor_info *sensors = NULL;
    size_t nsensors = 0;

    memset(res, 0, sizeof *res);
    if (sumtab_init(&c.sums, 1024) || u32set_init(&c.all_v4, 1 << 16) || u64set_init(&c.all_other, 1 << 8))
        goto nomem;
    if (q->dim == DS_TOP_PORTS || q->dim == DS_TOP_COUNTRIES) {
        if (!(c.dense = calloc((size_t)DENSE_SLOTS << 16, sizeof *c.dense)))
            goto nomem;
    }
    if ((rc = st->ops->scan(st, DS_CHUNK_SRCSVC, q->sensor_id, q->from, q->to, pass1, &c, err)) != DS_OK)
        goto out;
    if ((rc = st->ops->sensors(st, &sensors, &nsensors, err)) != DS_OK)
        goto out;
    for (size_t i = 0; i < nsensors; i++)
        if (!q->sensor_id || sensors[i].id == q->sensor_id)
            res->addresses += sensors[i].v4_addresses;
    res->days = q->to - q->from + 1;
    res->total_packets = c.total;
    /* fold the dense sums into the hash table: at most a few thousand non-zero slots */
    if (c.dense) {
        for (size_t i = 0; i < (size_t)DENSE_SLOTS << 16; i++) {
            if (!c.dense[i])
                continue;
            sum_ent *e = sumtab_get(&c.sums, dense_key(q->dim, i));
            if (!e)
                goto nomem;
            e->packets += c.dense[i];
        }
    }
    res->total_sources = c.all_v4.n + c.all_other.n;

    size_t limit = q->limit && q->limit < c.sums.n ? q->limit : c.sums.n;
    best = malloc((limit + 1) * sizeof *best);
    res->rows = calloc(limit + 1, sizeof *res->rows);
    if (!best || !res->rows)
        goto nomem;
    res->n = select_top(&c.sums, limit, best);
    double denom = (double)res->addresses * (double)res->days;
    size_t cap = 16;
    while (cap < res->n * 2 + 2)
        cap *= 2;
    if (sumtab_init(&c.shown, cap) || pairtab_init(&c.seen, 1 << 10) || u64set_init(&c.seen32, 1 << 12))
        goto nomem;
    for (size_t i = 0; i < res->n; i++) {
        ds_top_row *r = &res->rows[i];
        r->key = best[i]->key;
        r->packets = best[i]->packets;
        r->share = c.total ? (double)r->packets / (double)c.total : 0;
        r->per_ip_per_day = denom > 0 ? (double)r->packets / denom : 0;
        if (q->dim == DS_TOP_SOURCES) {
            r->cc[0] = best[i]->cc[0];
            r->cc[1] = best[i]->cc[1];
            r->asn = best[i]->asn;
            r->sources = 1;
            if (!(r->key >> 63))
                ds_ip_set4(&r->ip, (uint32_t)r->key);
        }
        sum_ent *e = sumtab_get(&c.shown, r->key);
        e->packets = i;
        c.shown_mask |= 1ULL << mask_bit(r->key);
    }
    /* pass 2: distinct sources (or, for source rows, days) of the printed rows only */
    c.rows = res->rows;
    if (res->n && (rc = st->ops->scan(st, DS_CHUNK_SRCSVC, q->sensor_id, q->from, q->to, pass2, &c, err)) != DS_OK)
        goto out;
    if (q->dim == DS_TOP_SOURCES && res->n) {
        /* addresses (IPv6 keys are hashes) and first/last seen */
        sd.rows = res->rows;
        sd.idx = c.shown;
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
    free(c.dense);
    free(c.sums.e);
    free(c.shown.e);
    free(c.all_v4.e);
    free(c.all_other.e);
    free(c.seen32.e);
    pairtab_free(&c.seen);
    free(best);
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
