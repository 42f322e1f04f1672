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

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/records.h"
#include "core/hash.h"
#include "analysis/filter.h"
#include "analysis/sets.h"

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


static inline uint64_t key_of(const ds_top_query *q, const ds_rec_srcsvc *r)
{
    return q->dim == DS_TOP_PORTS ? r->service : q->dim == DS_TOP_COUNTRIES ? ds_cc_pack(r->cc)
         : q->dim == DS_TOP_ASNS ? r->asn : r->src;
}

/* Ports and countries have small key spaces, so pass 1 sums them in plain arrays instead of
 * the hash table: no hashing, no probing.  A port key maps to (protocol slot, port); protocols
 * other than TCP/UDP/ICMP/ICMPv6 use the hash table. */
/* TCP and UDP ports take 65536 slots each, ICMP and ICMPv6 types 256 each. */
#define DENSE_SIZE (65536 + 65536 + 256 + 256)
static inline long dense_index(ds_top_dim dim, uint64_t key)
{
    if (dim == DS_TOP_COUNTRIES)
        return (long)(key & 0xffff);
    if (dim != DS_TOP_PORTS)
        return -1;
    long v = DS_SERVICE_VALUE((ds_service)key);
    switch (DS_SERVICE_PROTO((ds_service)key)) {
    case DS_PROTO_TCP: return v;
    case DS_PROTO_UDP: return 65536 + v;
    case DS_PROTO_ICMP: return v < 256 ? 131072 + v : -1;
    case DS_PROTO_ICMP6: return v < 256 ? 131328 + v : -1;
    default: return -1;
    }
}
static inline uint64_t dense_key(ds_top_dim dim, size_t i)
{
    if (dim == DS_TOP_COUNTRIES)
        return (uint64_t)i;
    if (i < 65536)
        return DS_SERVICE(DS_PROTO_TCP, i);
    if (i < 131072)
        return DS_SERVICE(DS_PROTO_UDP, i - 65536);
    if (i < 131328)
        return DS_SERVICE(DS_PROTO_ICMP, i - 131072);
    return DS_SERVICE(DS_PROTO_ICMP6, i - 131328);
}

typedef struct scan_ctx {
    const ds_top_query *q;
    const ds_filter *f;  /* q's filters */
    uint64_t *dense;     /* packets by dense_index (ports, countries) */
    sumtab sums;
    ds_u32set all_v4;       /* distinct sources overall: IPv4 (non-zero) ... */
    ds_u64set all_other;    /* ... and the rest (IPv6 keys, 0.0.0.0) */
    uint64_t total;
    /* pass 2 */
    const sumtab *shown; /* key of a printed row -> its index (in .packets); shared, read-only */
    uint64_t shown_mask; /* bit (hash of key) & 63 of every printed key: screens records first */
    ds_top_row *rows;
    ds_u64set seen32;       /* (key, source) or (source, day) packed when both fit in 32 bits */
    ds_pairset seen;        /* the same pairs when they don't (IPv6 sources) */
} scan_ctx;

static ds_rc pass1(void *ctx, int64_t sensor_id, int32_t day, const uint8_t *data, size_t nrec, ds_err *err)
{
    scan_ctx *c = ctx;
    for (size_t i = 0; i < nrec; i++) {
        ds_rec_srcsvc r;
        ds_rec_srcsvc_get(data + i * DS_REC_SRCSVC, &r);
        if (!ds_filter_match(c->f, &r))
            continue;
        uint64_t key = key_of(c->q, &r);
        long di = c->dense ? dense_index(c->q->dim, key) : -1;
        /* distinct sources overall; for source rows they are the keys themselves */
        if (c->q->dim != DS_TOP_SOURCES &&
            (r.src && r.src <= UINT32_MAX ? ds_u32set_add(&c->all_v4, (uint32_t)r.src) : ds_u64set_add(&c->all_other, r.src)) < 0)
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
        if (!ds_filter_match(c->f, &r))
            continue;
        uint64_t key = key_of(c->q, &r);
        if (!(c->shown_mask >> mask_bit(key) & 1))
            continue;
        if (!sumtab_slot(c->shown->e, c->shown->cap, key)->used)
            continue;
        /* only collected here: the rows are counted from the sets once every thread is done */
        uint64_t a = c->q->dim == DS_TOP_SOURCES ? r.src : key;
        uint64_t b = c->q->dim == DS_TOP_SOURCES ? (uint32_t)day : r.src;
        if ((a >> 32 || b >> 32 ? ds_pairset_add(&c->seen, a, b) : ds_u64set_add(&c->seen32, a << 32 | b)) < 0)
            return ds_fail(err, DS_ENOMEM, "out of memory counting sources");
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

/* ---- running the passes in threads ---------------------------------------------------- *
 *
 * A quarter's `top` splits its days between threads (corsaro3's shape again: partial state per
 * thread, then a merge), each with its own store connection, because SQLite connections are not
 * shared across threads.  Pass 1 runs in parallel and its sums and source sets are merged; the
 * ranking is chosen; pass 2 runs in parallel and the (key, source) sets are united, which is what
 * makes the distinct counts exact across the split. */

#define TOP_MAX_THREADS 4

typedef struct part {
    ds_store *st;
    int64_t sensor_id;
    int32_t from, to;
    int kind;
    ds_scan_fn fn;
    void *ctx;
    ds_rc rc;
    ds_err err;
    pthread_t th;
} part;

static void *part_main(void *arg)
{
    part *p = arg;
    p->rc = p->st->ops->scan(p->st, p->kind, p->sensor_id, p->from, p->to, p->fn, p->ctx, &p->err);
    return NULL;
}

/* Run scan(kind, fn) over each part's days, part i with ctx[i], parts 1.. in threads. */
static ds_rc run_parts(part *parts, size_t n, int64_t sensor_id, int kind, ds_scan_fn fn, void **ctx, ds_err *err)
{
    size_t started = 1;
    for (size_t i = 0; i < n; i++) {
        parts[i].sensor_id = sensor_id;
        parts[i].kind = kind;
        parts[i].fn = fn;
        parts[i].ctx = ctx[i];
        parts[i].rc = DS_OK;
        parts[i].err.msg[0] = '\0';
    }
    for (; started < n; started++)
        if (pthread_create(&parts[started].th, NULL, part_main, &parts[started]) != 0)
            break;
    /* the calling thread does part 0, and any part a thread could not be started for */
    for (size_t i = 0; i < n; i++) {
        if (i == 0 || i >= started)
            part_main(&parts[i]);
    }
    for (size_t i = 1; i < started; i++)
        pthread_join(parts[i].th, NULL);
    for (size_t i = 0; i < n; i++) {
        if (parts[i].rc != DS_OK) {
            if (err)
                *err = parts[i].err;
            return parts[i].rc;
        }
    }
    return DS_OK;
}

/* Count the printed rows' distinct sources (or days) from the sets of part 0, then unite the
 * other parts' sets into it, counting what they add. */
static int count_seen(scan_ctx *c, size_t n, ds_top_row *rows)
{
    const ds_top_query *q = c[0].q;
    for (size_t i = 0; i < n; i++) {
        ds_u64set *s32 = &c[i].seen32;
        ds_pairset *sp = &c[i].seen;
        size_t total = s32->cap + sp->cap + (s32->has_zero ? 1 : 0);
        for (size_t k = 0; k < total; k++) {
            uint64_t a, b;
            if (k < s32->cap) {
                if (!s32->e[k])
                    continue;
                a = s32->e[k] >> 32;
                b = s32->e[k] & 0xffffffffu;
            } else if (k < s32->cap + sp->cap) {
                const ds_pair_ent *pe = &sp->e[k - s32->cap];
                if (!pe->used)
                    continue;
                a = pe->a;
                b = pe->b;
            } else {
                a = 0;   /* the packed pair (0, 0) */
                b = 0;
            }
            int added = 1;
            if (i > 0) {
                added = a >> 32 || b >> 32 ? ds_pairset_add(&c[0].seen, a, b) : ds_u64set_add(&c[0].seen32, a << 32 | b);
                if (added < 0)
                    return -1;
            }
            if (!added)
                continue;
            ds_top_row *row = &rows[sumtab_slot(c[0].shown->e, c[0].shown->cap, a)->packets];
            if (q->dim == DS_TOP_SOURCES)
                row->days++;
            else
                row->sources++;
        }
    }
    return 0;
}

static void scan_ctx_free(scan_ctx *c)
{
    free(c->dense);
    free(c->sums.e);
    free(c->all_v4.e);
    free(c->all_other.e);
    free(c->seen32.e);
    ds_pairset_free(&c->seen);
}

ds_rc ds_top_run(ds_store *st, const ds_top_query *q, ds_top_result *res, ds_err *err)
{
    ds_rc rc = DS_ENOMEM;
    scan_ctx c[TOP_MAX_THREADS];
    part parts[TOP_MAX_THREADS];
    void *ctxs[TOP_MAX_THREADS];
    src_detail_ctx sd[TOP_MAX_THREADS];
    ds_top_row *detail[TOP_MAX_THREADS] = { 0 };
    sumtab shown = { 0 };
    const sum_ent **best = NULL;
    ds_sensor_info *sensors = NULL;
    size_t nsensors = 0, n = 1;
    ds_filter filter;

    memset(res, 0, sizeof *res);
    ds_filter_init(&filter);
    filter.sensor_id = q->sensor_id;
    filter.cls = q->cls;
    memcpy(filter.ports, q->ports, q->nports * sizeof *q->ports);
    filter.nports = q->nports;
    memcpy(filter.countries, q->countries, q->ncountries * sizeof *q->countries);
    filter.ncountries = q->ncountries;
    memcpy(filter.asns, q->asns, q->nasns * sizeof *q->asns);
    filter.nasns = q->nasns;
    filter.exclude = q->exclude;
    filter.only = q->only;
    filter.tools = q->tools;
    memset(c, 0, sizeof c);
    memset(parts, 0, sizeof parts);
    memset(sd, 0, sizeof sd);
    /* one part per CPU (at most TOP_MAX_THREADS), each at least a few days long */
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    int32_t days = q->to - q->from + 1;
    while ((long)n < ncpu && n < TOP_MAX_THREADS && days / (int32_t)(n + 1) >= 7)
        n++;
    parts[0].st = st;
    for (size_t i = 1; i < n; i++) {
        if (st->ops->reopen(st, &parts[i].st, err) != DS_OK) {
            n = i;   /* fewer threads, same answer */
            break;
        }
    }
    for (size_t i = 0; i < n; i++) {
        parts[i].from = q->from + (int32_t)((int64_t)days * (int64_t)i / (int64_t)n);
        parts[i].to = q->from + (int32_t)((int64_t)days * (int64_t)(i + 1) / (int64_t)n) - 1;
        c[i].q = q;
        c[i].f = &filter;
        ctxs[i] = &c[i];
        if (sumtab_init(&c[i].sums, 1024) || ds_u32set_init(&c[i].all_v4, 1 << 16) || ds_u64set_init(&c[i].all_other, 1 << 8) ||
            ds_pairset_init(&c[i].seen, 1 << 10) || ds_u64set_init(&c[i].seen32, 1 << 12))
            goto nomem;
        if ((q->dim == DS_TOP_PORTS || q->dim == DS_TOP_COUNTRIES) &&
            !(c[i].dense = calloc((size_t)DENSE_SIZE, sizeof *c[i].dense)))
            goto nomem;
    }
    if ((rc = run_parts(parts, n, q->sensor_id, DS_CHUNK_SRCSVC, pass1, ctxs, err)) != DS_OK)
        goto out;
    rc = DS_ENOMEM;
    /* merge pass 1 into part 0 */
    for (size_t i = 1; i < n; i++) {
        c[0].total += c[i].total;
        if (c[0].dense)
            for (size_t k = 0; k < (size_t)DENSE_SIZE; k++)
                c[0].dense[k] += c[i].dense[k];
        for (size_t k = 0; k < c[i].sums.cap; k++) {
            const sum_ent *f = &c[i].sums.e[k];
            if (!f->used)
                continue;
            sum_ent *e = sumtab_get(&c[0].sums, f->key);
            if (!e)
                goto nomem;
            e->packets += f->packets;
            e->asn = f->asn;
            e->cc[0] = f->cc[0];
            e->cc[1] = f->cc[1];
        }
        for (size_t k = 0; k < c[i].all_v4.cap; k++)
            if (c[i].all_v4.e[k] && ds_u32set_add(&c[0].all_v4, c[i].all_v4.e[k]) < 0)
                goto nomem;
        for (size_t k = 0; k < c[i].all_other.cap; k++)
            if (c[i].all_other.e[k] && ds_u64set_add(&c[0].all_other, c[i].all_other.e[k]) < 0)
                goto nomem;
        if (c[i].all_other.has_zero && ds_u64set_add(&c[0].all_other, 0) < 0)
            goto nomem;
    }
    if ((rc = st->ops->sensors(st, &sensors, &nsensors, err)) != DS_OK)
        goto out;
    rc = DS_ENOMEM;
    for (size_t i = 0; i < nsensors; i++)
        if (!q->sensor_id || sensors[i].id == q->sensor_id)
            res->addresses += sensors[i].v4_addresses;
    res->days = days;
    res->total_packets = c[0].total;
    /* fold the dense sums into the hash table: at most a few thousand non-zero slots */
    if (c[0].dense) {
        for (size_t i = 0; i < (size_t)DENSE_SIZE; i++) {
            if (!c[0].dense[i])
                continue;
            sum_ent *e = sumtab_get(&c[0].sums, dense_key(q->dim, i));
            if (!e)
                goto nomem;
            e->packets += c[0].dense[i];
        }
    }
    res->total_sources = q->dim == DS_TOP_SOURCES ? c[0].sums.n : c[0].all_v4.n + c[0].all_other.n;

    size_t limit = q->limit && q->limit < c[0].sums.n ? q->limit : c[0].sums.n;
    best = malloc((limit + 1) * sizeof *best);
    res->rows = calloc(limit + 1, sizeof *res->rows);
    if (!best || !res->rows)
        goto nomem;
    res->n = select_top(&c[0].sums, limit, best);
    double denom = (double)res->addresses * (double)days;
    size_t cap = 16;
    while (cap < res->n * 2 + 2)
        cap *= 2;
    if (sumtab_init(&shown, cap))
        goto nomem;
    uint64_t mask = 0;
    for (size_t i = 0; i < res->n; i++) {
        ds_top_row *r = &res->rows[i];
        r->key = best[i]->key;
        r->packets = best[i]->packets;
        r->share = c[0].total ? (double)r->packets / (double)c[0].total : 0;
        r->per_ip_per_day = denom > 0 ? (double)r->packets / denom : 0;
        if (q->dim == DS_TOP_SOURCES) {
            r->cc[0] = best[i]->cc[0];
            r->cc[1] = best[i]->cc[1];
            r->asn = best[i]->asn;
            r->sources = 1;
            if (!(r->key >> 63))
                ds_ip_set4(&r->ip, (uint32_t)r->key);
        }
        sumtab_get(&shown, r->key)->packets = i;
        mask |= 1ULL << mask_bit(r->key);
    }
    for (size_t i = 0; i < n; i++) {
        c[i].shown = &shown;
        c[i].shown_mask = mask;
    }
    /* pass 2: distinct sources (or, for source rows, days) of the printed rows only */
    if (res->n) {
        if ((rc = run_parts(parts, n, q->sensor_id, DS_CHUNK_SRCSVC, pass2, ctxs, err)) != DS_OK)
            goto out;
        rc = DS_ENOMEM;
        if (count_seen(c, n, res->rows) != 0)
            goto nomem;
    }
    if (q->dim == DS_TOP_SOURCES && res->n) {
        /* addresses (IPv6 keys are hashes) and first/last seen: each part fills its own copy */
        for (size_t i = 0; i < n; i++) {
            if (!(detail[i] = calloc(res->n, sizeof *detail[i])))
                goto nomem;
            sd[i].rows = detail[i];
            sd[i].idx = shown;
            ctxs[i] = &sd[i];
        }
        if ((rc = run_parts(parts, n, q->sensor_id, DS_CHUNK_SOURCES, on_sources, ctxs, err)) != DS_OK)
            goto out;
        for (size_t i = 0; i < n; i++) {
            for (size_t k = 0; k < res->n; k++) {
                ds_top_row *t = &res->rows[k];
                const ds_top_row *f = &detail[i][k];
                if (!f->first_ns)
                    continue;
                t->ip = f->ip;
                if (!t->first_ns || f->first_ns < t->first_ns)
                    t->first_ns = f->first_ns;
                if (f->last_ns > t->last_ns)
                    t->last_ns = f->last_ns;
            }
        }
    }
    rc = DS_OK;
    goto out;
nomem:
    rc = ds_fail(err, DS_ENOMEM, "out of memory");
out:
    if (rc != DS_OK)
        ds_top_result_free(res);
    for (size_t i = 0; i < TOP_MAX_THREADS; i++) {
        scan_ctx_free(&c[i]);
        free(detail[i]);
        if (i > 0 && parts[i].st)
            ds_store_close(parts[i].st);
    }
    free(shown.e);
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
