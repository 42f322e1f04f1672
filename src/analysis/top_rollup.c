/* top_rollup.c: see top_rollup.h.
 *
 * Two passes over the rollup chunks of the ranked dimension (core/rollup.h), the second served
 * from the store's read cache:
 *   pass 1  packets per key (the entries' counters only: no source set is decoded), and the
 *           period's distinct total: the ALL chunks' sets of the selected classes (or, with a
 *           filter on the dimension's values, the sets of the matching keys), appended into one
 *           vector and counted by sorting (core/srcset.h);
 *   rank    every key, sorted as top.c ranks (more packets first, then the smaller key), cut at
 *           the limit;
 *   pass 2  the sets of the printed keys only, one vector per row, counted the same way.
 * Whole calendar months come from their month chunks where the store has them (one chunk a
 * month instead of its days: store/rollup_months.h), the other days from day chunks.
 * A vector keeps every day's copy of its sources (the decoded sets, each ascending: counting
 * walks them together, srcset.h) until it passes 64 M values; then it is made a set (sorted,
 * repeats dropped) whenever it has doubled, so it holds at most about twice its distinct sources.
 *
 * What matches today's path exactly, and why: the rollups hold, per (sensor, day, class, key),
 * the sum of the SRCSVC records' packets and the set of their sources; a query whose filters
 * are a sensor, a class and values of the ranked dimension selects whole entries, so its sums
 * and unions are those of the same records.  Anything else is not answerable from them, and
 * neither is a period with a (sensor, day) whose file has no rollups (written by an older
 * darkscope): the query then goes to top.c's SRCSVC path whole (not day by day: the two paths'
 * source sets would have to be united).
 */
#include "analysis/top_rollup.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/rollups.h"
#include "core/hash.h"
#include "core/records.h"
#include "core/rollup.h"
#include "core/srcset.h"
#include "store/rollup_months.h"

/* key -> value, open addressing; keys stored + 1 so that 0 marks an empty slot (ASN 0, the
 * unknown country's key are real keys) */
typedef struct kslot { uint64_t k1, v; } kslot;
typedef struct ktab { kslot *e; size_t cap, n; } ktab;

static uint64_t *ktab_get(ktab *t, uint64_t key, int create)
{
    if (create && (t->n + 1) * 2 > t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 256;
        kslot *e = calloc(cap, sizeof *e);
        if (!e)
            return NULL;
        for (size_t i = 0; i < t->cap; i++) {
            if (!t->e[i].k1)
                continue;
            size_t j = (size_t)ds_mix64(t->e[i].k1) & (cap - 1);
            while (e[j].k1)
                j = (j + 1) & (cap - 1);
            e[j] = t->e[i];
        }
        free(t->e);
        t->e = e;
        t->cap = cap;
    }
    if (!t->cap)
        return NULL;
    size_t m = t->cap - 1, j = (size_t)ds_mix64(key + 1) & m;
    for (; t->e[j].k1; j = (j + 1) & m)
        if (t->e[j].k1 == key + 1)
            return &t->e[j].v;
    if (!create)
        return NULL;
    t->e[j].k1 = key + 1;
    t->n++;
    return &t->e[j].v;
}

typedef struct rq {
    const ds_top_query *q;
    int kind;                 /* the ranked dimension's chunk kind */
    int pass;                 /* 1 or 2 */
    ktab sums;                /* pass 1: key -> packets */
    uint64_t total_packets;
    ds_srcacc total;                /* pass 1: sources of the selected entries (or ALL) */
    int total_from_keys;      /* 1: a filter on the dimension's values; total from its keys' sets */
    ktab rows;                /* pass 2: printed key -> row index */
    ds_srcacc *per_row;
} rq;

static uint64_t dim_key_filter(const ds_top_query *q, size_t i)
{
    switch (q->dim) {
    case DS_TOP_PORTS: return q->ports[i];
    case DS_TOP_COUNTRIES: return q->countries[i];
    case DS_TOP_ASNS: return q->asns[i];
    case DS_TOP_SOURCES: break;
    }
    return 0;
}

static size_t dim_nfilters(const ds_top_query *q)
{
    return q->dim == DS_TOP_PORTS ? q->nports : q->dim == DS_TOP_COUNTRIES ? q->ncountries : q->nasns;
}

static int entry_selected(const rq *r, const ds_rollup_entry *e)
{
    if (r->q->cls >= 0 && e->cls != r->q->cls)
        return 0;
    size_t nf = dim_nfilters(r->q);
    if (!nf)
        return 1;
    for (size_t i = 0; i < nf; i++)
        if (dim_key_filter(r->q, i) == e->key)
            return 1;
    return 0;
}

static ds_rc on_chunk(void *ctx, int64_t sensor_id, int32_t day, const uint8_t *data, size_t nrec, ds_err *err)
{
    rq *r = ctx;
    ds_rollup_view v;
    ds_rc rc = ds_rollup_open(data, nrec, r->kind, &v, err);
    if (rc != DS_OK)
        return rc;
    for (uint32_t i = 0; i < v.n; i++) {
        ds_rollup_entry e;
        ds_rollup_get(&v, i, &e);
        if (!entry_selected(r, &e))
            continue;
        if (r->pass == 1) {
            uint64_t *s = ktab_get(&r->sums, e.key, 1);
            if (!s)
                return ds_fail(err, DS_ENOMEM, "out of memory");
            *s += e.packets;
            r->total_packets += e.packets;
            if (r->total_from_keys && (rc = ds_srcacc_add(&r->total, e.set, e.set_len, e.n4, e.n6, err)) != DS_OK)
                return rc;
        } else {
            const uint64_t *row = ktab_get(&r->rows, e.key, 0);
            if (row && (rc = ds_srcacc_add(&r->per_row[*row], e.set, e.set_len, e.n4, e.n6, err)) != DS_OK)
                return rc;
        }
    }
    return DS_OK;
}

/* The period's distinct total from the ALL chunks: the sources of the selected classes.  It does
 * not depend on the ranking, so it runs on a thread of its own (a second handle on the store)
 * beside passes 1 and 2, and each side decodes and counts its own sets (bench/README.md). */
typedef struct total_job {
    const ds_top_query *q;
    ds_store *main_st, *st;   /* st: the job's own handle, or main_st when run inline */
    ds_srcacc acc;
    int64_t distinct;
    ds_rc rc;
    ds_err err;
    pthread_t th;
} total_job;

static ds_rc on_all(void *ctx, int64_t sensor_id, int32_t day, const uint8_t *data, size_t nrec, ds_err *err)
{
    total_job *j = ctx;
    return ds_rollups_all_sources(data, nrec, j->q->cls, &j->acc, err);
}

static void *total_main(void *arg)
{
    total_job *j = arg;
    const ds_top_query *q = j->q;
    j->rc = ds_store_scan_rollups(j->st, DS_CHUNK_ROLLUP_ALL | DS_SCAN_NOFILL, q->sensor_id, q->from, q->to, on_all, j, &j->err);
    if (j->rc == DS_OK && (j->distinct = ds_srcacc_distinct(&j->acc, &j->err)) < 0)
        j->rc = j->distinct == -2 ? DS_EFORMAT : ds_fail(&j->err, DS_ENOMEM, "out of memory counting sources");
    ds_srcacc_free(&j->acc);
    return NULL;
}

/* Start the job on a thread; 0 when it runs there, -1 when it must be run inline (no handle or
 * no thread: the same result, later). */
static int total_start(total_job *j)
{
    if (ds_store_reopen(j->main_st, &j->st, &j->err) != DS_OK) {
        ds_err_clear(&j->err);
        j->st = NULL;
        return -1;
    }
    if (pthread_create(&j->th, NULL, total_main, j) != 0) {
        ds_store_close(j->st);
        j->st = NULL;
        return -1;
    }
    return 0;
}

/* The printed rows' distinct counts, split between the calling thread and one more: the rows are
 * independent, and counting a row's union (srcset.h) is most of pass 2's time. */
typedef struct count_job { ds_srcacc *acc; int64_t *out; size_t *rows; size_t n; int bad; ds_err err; } count_job;

static void *count_main(void *arg)
{
    count_job *j = arg;
    for (size_t i = 0; i < j->n; i++) {
        ds_srcacc *a = &j->acc[j->rows[i]];
        ds_err e;
        if ((j->out[j->rows[i]] = ds_srcacc_distinct(a, &e)) == -2 && !j->bad) {
            j->bad = 1;
            j->err = e;
        }
        ds_srcacc_free(a);
    }
    return NULL;
}

/* out[i] = the distinct sources of acc[i], i < n; DS_ENOMEM, or DS_EFORMAT for a damaged set */
static ds_rc count_rows(ds_srcacc *acc, size_t n, int64_t *out, ds_err *err)
{
    size_t *rows = malloc((n ? n : 1) * sizeof *rows);
    count_job job[2] = { { .acc = acc, .out = out }, { .acc = acc, .out = out } };
    size_t load[2] = { 0, 0 };
    pthread_t th;
    int threaded = 0;
    if (!rows)
        return ds_fail(err, DS_ENOMEM, "out of memory counting sources");
    /* largest first, each to the side with less so far (rows[0..k) side 0, rows[n-m..n) side 1) */
    size_t k = 0, m = 0;
    char *taken = calloc(n ? n : 1, 1);
    if (!taken) {
        free(rows);
        return ds_fail(err, DS_ENOMEM, "out of memory counting sources");
    }
    for (size_t step = 0; step < n; step++) {
        size_t best = n;
        for (size_t i = 0; i < n; i++)
            if (!taken[i] && (best == n || ds_srcacc_size(&acc[i]) > ds_srcacc_size(&acc[best])))
                best = i;
        taken[best] = 1;
        size_t size = ds_srcacc_size(&acc[best]);
        if (load[0] <= load[1]) {
            rows[k++] = best;
            load[0] += size;
        } else {
            rows[n - ++m] = best;
            load[1] += size;
        }
    }
    free(taken);
    job[0].rows = rows;
    job[0].n = k;
    job[1].rows = rows + k;
    job[1].n = m;
    if (m && load[1] >= ((size_t)1 << 20))   /* a thread is worth it for a million keys or more */
        threaded = pthread_create(&th, NULL, count_main, &job[1]) == 0;
    count_main(&job[0]);
    if (threaded)
        pthread_join(th, NULL);
    else
        count_main(&job[1]);
    free(rows);
    for (int side = 0; side < 2; side++)
        if (job[side].bad) {
            *err = job[side].err;
            return DS_EFORMAT;
        }
    for (size_t i = 0; i < n; i++)
        if (out[i] < 0)
            return ds_fail(err, DS_ENOMEM, "out of memory counting sources");
    return DS_OK;
}

typedef struct cand { uint64_t key, packets; } cand;

static int cand_cmp(const void *a, const void *b)   /* top.c's order: more packets, then the smaller key */
{
    const cand *x = a, *y = b;
    if (x->packets != y->packets)
        return x->packets > y->packets ? -1 : 1;
    return x->key < y->key ? -1 : x->key > y->key;
}

/* Whether top.c's pass 1 lists a key that summed to 0 packets: its plain arrays (ports of TCP,
 * UDP, ICMP types, every country) skip a zero slot, its hash table does not.  (SRCSVC records
 * count at least one packet, so this is belt and braces.) */
static int zero_listed(ds_top_dim dim, uint64_t key)
{
    if (dim == DS_TOP_COUNTRIES)
        return 0;
    if (dim != DS_TOP_PORTS)
        return 1;
    unsigned v = DS_SERVICE_VALUE((ds_service)key);
    switch (DS_SERVICE_PROTO((ds_service)key)) {
    case DS_PROTO_TCP: case DS_PROTO_UDP: return 0;
    case DS_PROTO_ICMP: case DS_PROTO_ICMP6: return v >= 256;
    default: return 1;
    }
}

int ds_top_rollup_covers(const ds_top_query *q)
{
    switch (q->dim) {
    case DS_TOP_PORTS: if (q->ncountries || q->nasns) return 0; break;
    case DS_TOP_COUNTRIES: if (q->nports || q->nasns) return 0; break;
    case DS_TOP_ASNS: if (q->nports || q->ncountries) return 0; break;
    case DS_TOP_SOURCES: return 0;
    }
    return !q->exclude && !q->only && !q->tools;
}

ds_rc ds_top_rollup_run(ds_store *st, const ds_top_query *q, ds_top_result *res, int *done, ds_err *err)
{
    static const int KIND[] = { DS_CHUNK_ROLLUP_SERVICE, DS_CHUNK_ROLLUP_COUNTRY, DS_CHUNK_ROLLUP_ASN };
    rq r;
    cand *c = NULL;
    int64_t *counts = NULL;
    size_t nc = 0, nper = 0;
    int yes = 0;
    ds_rc rc;

    *done = 0;
    memset(&r, 0, sizeof r);
    if (!ds_top_rollup_covers(q) || q->to < q->from)
        return DS_OK;
    r.q = q;
    r.kind = KIND[q->dim];
    r.total_from_keys = dim_nfilters(q) > 0;
    if ((rc = ds_rollups_cover(st, r.kind, q->sensor_id, q->from, q->to, &yes, err)) != DS_OK || !yes)
        return rc;
    if (!r.total_from_keys && ((rc = ds_rollups_cover(st, DS_CHUNK_ROLLUP_ALL, q->sensor_id, q->from, q->to, &yes, err)) != DS_OK || !yes))
        return rc;

    memset(res, 0, sizeof *res);
    total_job tj = { .q = q, .main_st = st };
    int threaded = 0, tj_pending = !r.total_from_keys;
    if (tj_pending)
        threaded = total_start(&tj) == 0;
    r.pass = 1;
    if ((rc = ds_store_scan_rollups(st, r.kind, q->sensor_id, q->from, q->to, on_chunk, &r, err)) != DS_OK)
        goto out;
    if (r.total_from_keys) {
        int64_t distinct = ds_srcacc_distinct(&r.total, err);
        ds_srcacc_free(&r.total);
        if (distinct == -2) {
            rc = DS_EFORMAT;
            goto out;
        }
        if (distinct < 0)
            goto nomem;
        res->total_sources = (uint64_t)distinct;
    }
    res->total_packets = r.total_packets;

    /* rank */
    if (!(c = malloc((r.sums.n ? r.sums.n : 1) * sizeof *c)))
        goto nomem;
    for (size_t i = 0; i < r.sums.cap; i++)
        if (r.sums.e[i].k1 && (r.sums.e[i].v || zero_listed(q->dim, r.sums.e[i].k1 - 1)))
            c[nc++] = (cand){ r.sums.e[i].k1 - 1, r.sums.e[i].v };
    qsort(c, nc, sizeof *c, cand_cmp);
    size_t limit = q->limit && q->limit < nc ? q->limit : nc;
    if (!(res->rows = calloc(limit + 1, sizeof *res->rows)) || !(r.per_row = calloc(limit + 1, sizeof *r.per_row)))
        goto nomem;
    nper = limit + 1;
    res->n = limit;
    for (size_t i = 0; i < limit; i++) {
        uint64_t *row = ktab_get(&r.rows, c[i].key, 1);
        if (!row)
            goto nomem;
        *row = i;
    }

    /* pass 2: the printed rows' sources */
    if (limit) {
        r.pass = 2;
        if ((rc = ds_store_scan_rollups(st, r.kind, q->sensor_id, q->from, q->to, on_chunk, &r, err)) != DS_OK)
            goto out;
    }

    if ((rc = ds_top_result_addresses(st, q->sensor_id, res, err)) != DS_OK)
        goto out;
    res->days = q->to - q->from + 1;
    if (!(counts = malloc((limit ? limit : 1) * sizeof *counts)))
        goto nomem;
    if ((rc = count_rows(r.per_row, limit, counts, err)) != DS_OK)
        goto out;
    for (size_t i = 0; i < limit; i++) {
        ds_top_row *t = &res->rows[i];
        t->key = c[i].key;
        t->packets = c[i].packets;
        t->sources = (uint64_t)counts[i];
    }
    ds_top_result_rates(res, q->have_addr_days, q->addr_days);
    if (tj_pending) {   /* the distinct total, from the ALL chunks */
        if (threaded)
            pthread_join(tj.th, NULL);
        else {
            tj.st = st;
            total_main(&tj);
        }
        tj_pending = 0;
        if (tj.rc != DS_OK) {
            *err = tj.err;
            rc = tj.rc;
            goto out;
        }
        res->total_sources = (uint64_t)tj.distinct;
    }
    *done = 1;
    rc = DS_OK;
    goto out;
nomem:
    rc = ds_fail(err, DS_ENOMEM, "out of memory");
out:
    if (tj_pending && threaded)   /* a failure above: the job is waited for, its result dropped */
        pthread_join(tj.th, NULL);
    if (threaded)
        ds_store_close(tj.st);
    if (rc != DS_OK)
        ds_top_result_free(res);
    ds_srcacc_free(&r.total);
    for (size_t i = 0; i < nper; i++)
        ds_srcacc_free(&r.per_row[i]);
    free(r.per_row);
    free(counts);
    free(r.sums.e);
    free(r.rows.e);
    free(c);
    return rc;
}
