/* top.c: see top.h.  This file holds the query (ds_top_run) and its ranking; the passes, threads
 * and merges are in top_pass.c, the arenas and hash tables in top_tables.c (top_tables.h), what
 * they share in top_int.h.
 *
 * Ports, countries and ASNs are answered from the rollups when they can be (top_rollup.c: the
 * filters are a sensor, a class or the ranked dimension's own values, and every day of the period
 * has them); what follows is the path over the SRCSVC records, for every other query and store.
 *
 * One read of the period's SRCSVC chunks, split by days between threads (one per CPU, at most
 * TOP_MAX_THREADS; corsaro3's shape: partial state per thread, then a merge), each thread with
 * its own store connection because SQLite connections are not shared across threads.
 *
 * Pass 1 reads the chunks: it sums packets per key (plain arrays for ports and countries, whose
 * key spaces are small; hash tables for ASNs and sources), puts every source in a set for the
 * period's distinct total, and keeps each matching record's (key, source) as an 8-byte item.
 * Pass 2, once the ranking is known, runs over those items only, collecting (printed row,
 * source) pairs, so that distinct counts are exact over the whole period but paid for the rows
 * shown only: counting distinct sources for every key was most of the cost (the pair set over a
 * quarter runs to tens of MB).  Source rows need no pass 2: their entry counts its days as
 * pass 1 goes (a part reads its days in order), and keeps country and ASN.
 *
 * What a quarter's `top` (about 640,000 records) costs is memory, not arithmetic.  On virtual
 * machines, memory the kernel must hand out fresh (and clear) is the dearest of all: a 4 KiB
 * first-touch fault costs more than the work done on the page, and a 2 MiB page not touched
 * since the host took it back costs about a millisecond.  So:
 *   - chunks are read with DS_SCAN_NOFILL: decompressed into one reused buffer, not into the
 *     store's read cache (18 MB of fresh memory for a quarter, read once more at most);
 *   - tables live in per-thread arenas mapped with MADV_HUGEPAGE, and pass 2's tables reuse
 *     pass 1's pages (ds_top_arena_reuse);
 *   - every hash table and set is split into one partition per thread by the high bits of the
 *     hash.  Thread t fills all partitions from its days; then thread p alone merges partition p
 *     of every thread into its own, in parallel and without locks, and a distinct count is the
 *     sum of the merged partitions' sizes (a value lives in exactly one partition);
 *   - inserts are batched so that their cache misses overlap (see BATCH);
 *   - records are decoded field by field, only the fields the dimension needs (the whole record
 *     only when a filter needs it);
 *   - ranking reads the per-port and per-country arrays directly (a quarter of random-port scans
 *     fills tens of thousands of port slots) instead of folding them into a hash table first;
 *   - source rows need first and last seen from the SOURCES chunks, but only of the days on which
 *     each printed source was first and last seen (and their neighbours, see detail_days): a few
 *     chunks instead of the whole period's.
 */
#include "analysis/top.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analysis/rollups.h"
#include "analysis/top_int.h"
#include "analysis/top_rollup.h"
#include "core/sets.h"

/* ---- ranking ------------------------------------------------------------------------------- */

typedef struct cand { uint64_t key, packets; } cand;

/* ranking order: more packets first, then the smaller key */
static inline int cand_before(const cand *x, const cand *y)
{
    return x->packets != y->packets ? x->packets > y->packets : x->key < y->key;
}

static int cand_cmp(const void *a, const void *b)
{
    const cand *x = a, *y = b;
    return cand_before(x, y) ? -1 : cand_before(y, x) ? 1 : 0;
}

/* The best `limit` candidates so far in a min-heap (worst on top). */
typedef struct topheap { cand *h; size_t n, limit; } topheap;

static inline void heap_offer(topheap *t, uint64_t key, uint64_t packets)
{
    cand e = { key, packets };
    cand *h = t->h;
    if (t->n < t->limit) {
        size_t k = t->n++;
        h[k] = e;
        while (k && cand_before(&h[(k - 1) / 2], &h[k])) {   /* sift up: parent must be worse */
            cand tmp = h[k]; h[k] = h[(k - 1) / 2]; h[(k - 1) / 2] = tmp;
            k = (k - 1) / 2;
        }
    } else if (t->limit && cand_before(&e, &h[0])) {
        h[0] = e;
        size_t k = 0, n = t->n;
        for (;;) {   /* sift down */
            size_t l = 2 * k + 1, r = l + 1, w = k;
            if (l < n && cand_before(&h[w], &h[l])) w = l;
            if (r < n && cand_before(&h[w], &h[r])) w = r;
            if (w == k) break;
            cand tmp = h[k]; h[k] = h[w]; h[w] = tmp;
            k = w;
        }
    }
}

static size_t detail_days(const ds_top_result *res, int32_t from, int32_t days, uint8_t *need)
{
    size_t marked = 0;
    if (days >= 65535)
        return (size_t)days;
    for (size_t r = 0; r < res->n; r++) {
        const ds_top_row *t = &res->rows[r];
        if (!t->first_day || !t->last_day) {   /* not known (an engine's answer): every day */
            memset(need, 1, (size_t)days);
            return (size_t)days;
        }
        long d[4] = { (long)t->first_day - from, (long)t->first_day - from + 1, (long)t->last_day - from - 1,
                      (long)t->last_day - from };
        for (int k = 0; k < 4; k++)
            if (d[k] >= 0 && d[k] < (long)days && !need[d[k]]) {
                need[d[k]] = 1;
                marked++;
            }
    }
    return marked;
}

/* Fold the detail rows a part found into the result's rows. */
static void merge_detail(ds_top_result *res, const ds_top_row *detail)
{
    for (size_t k = 0; k < res->n; k++) {
        const ds_top_row *f = &detail[k];
        ds_top_row *t = &res->rows[k];
        if (!f->first_ns)
            continue;
        t->ip = f->ip;
        if (!t->first_ns || f->first_ns < t->first_ns)
            t->first_ns = f->first_ns;
        if (f->last_ns > t->last_ns)
            t->last_ns = f->last_ns;
    }
}

/* First/last seen and IPv6 addresses of source rows an engine answered itself (store/query.h:
 * their first_day and last_day), from the SOURCES chunks of the days detail_days marks, in the
 * calling thread (an engine that answers source rows has its data elsewhere: few chunks come). */
static ds_rc engine_source_detail(ds_store *st, const ds_top_query *q, ds_top_result *res, ds_err *err)
{
    ds_rc rc = DS_ENOMEM;
    arena mem = { 0 };
    kvtab shown = { 0 };
    int32_t days = q->to - q->from + 1;
    uint8_t *need = calloc((size_t)days + 1, 1);
    ds_top_row *detail = calloc(res->n, sizeof *detail);
    if (!need || !detail)
        goto nomem;
    for (size_t i = 0; i < res->n; i++) {
        uint64_t *v = kv_get(&shown, &mem, res->rows[i].key, ds_mix64(res->rows[i].key));
        if (!v)
            goto nomem;
        *v = i;
    }
    src_detail_ctx sd = { detail, &shown };
    part p = { .st = st, .main_st = st, .sensor_id = q->sensor_id, .kind = DS_CHUNK_SOURCES | DS_SCAN_NOFILL,
               .fn = ds_top_on_sources, .ctx = &sd, .self = 0, .n = 1, .need = need, .days = days,
               .from0 = q->from };
    if (detail_days(res, q->from, days, need) && (rc = ds_top_job_detail(&p, err)) != DS_OK)
        goto out;
    merge_detail(res, detail);
    rc = DS_OK;
    goto out;
nomem:
    rc = ds_fail(err, DS_ENOMEM, "out of memory");
out:
    ds_top_arena_free(&mem);
    free(detail);
    free(need);
    return rc;
}

/* Packets of dense slot i over every thread. */
static inline uint64_t dense_total(const scan_ctx *c, size_t n, size_t i)
{
    uint64_t v = 0;
    for (size_t t = 0; t < n; t++) {
        v += c[t].dense[i];
        const uint64_t *s = c[t].spill.n ? kv_find(&c[t].spill, i) : NULL;
        if (s)
            v += *s;
    }
    return v;
}

static void init_filter(ds_filter *f, const ds_top_query *q)
{
    ds_filter_init(f);
    f->sensor_id = q->sensor_id;
    f->cls = q->cls;
    memcpy(f->ports, q->ports, q->nports * sizeof *q->ports);
    f->nports = q->nports;
    memcpy(f->countries, q->countries, q->ncountries * sizeof *q->countries);
    f->ncountries = q->ncountries;
    memcpy(f->asns, q->asns, q->nasns * sizeof *q->asns);
    f->nasns = q->nasns;
    f->exclude = q->exclude;
    f->only = q->only;
    f->tools = q->tools;
}

ds_rc ds_top_run(ds_store *st, const ds_top_query *q, ds_top_result *res, ds_err *err)
{
    ds_rc rc;
    if (st->ops->query && st->ops->query->top &&   /* the engine answers where its data is (store/query.h) */
        (rc = st->ops->query->top(st, q, res, err)) != DS_ENOTFOUND) {
        if (rc == DS_OK && q->dim == DS_TOP_SOURCES && res->n &&
            (rc = engine_source_detail(st, q, res, err)) != DS_OK)
            ds_top_result_free(res);
        return rc;
    }
    rc = DS_ENOMEM;
    scan_ctx c[TOP_MAX_THREADS];
    part parts[TOP_MAX_THREADS];
    void *ctxs[TOP_MAX_THREADS];
    src_detail_ctx sd[TOP_MAX_THREADS];
    ds_top_row *detail[TOP_MAX_THREADS] = { 0 };
    kvtab shown = { 0 };
    cand *best = NULL;
    uint8_t *need = NULL;
    size_t n = 1;
    ds_filter filter;

    /* ports, countries, ASNs: from the rollups when they answer the query (top_rollup.h) */
    if (q->dim != DS_TOP_SOURCES && !ds_rollups_disabled()) {
        int done = 0;
        rc = ds_top_rollup_run(st, q, res, &done, err);
        if (rc != DS_OK || done)
            return rc;
    }
    memset(res, 0, sizeof *res);
    init_filter(&filter, q);
    int filter_on = q->cls >= 0 || q->nports || q->ncountries || q->nasns || q->exclude || q->only || q->tools;
    memset(c, 0, sizeof c);
    memset(parts, 0, sizeof parts);
    memset(sd, 0, sizeof sd);
    /* one part per CPU (at most TOP_MAX_THREADS), each at least a few days long */
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    int32_t days = q->to - q->from + 1;
    size_t dense_size = q->dim == DS_TOP_COUNTRIES ? 65536 : (size_t)DENSE_SIZE;
    while ((long)n < ncpu && n < TOP_MAX_THREADS && days / (int32_t)(n + 1) >= 7)
        n++;
    parts[0].st = st;
    for (size_t i = 0; i < n; i++) {
        parts[i].main_st = st;
        parts[i].sensor_id = q->sensor_id;
        parts[i].all = c;
        parts[i].from = q->from + (int32_t)((int64_t)days * (int64_t)i / (int64_t)n);
        parts[i].to = q->from + (int32_t)((int64_t)days * (int64_t)(i + 1) / (int64_t)n) - 1;
        c[i].q = q;
        c[i].f = &filter;
        c[i].filter_on = filter_on;
        c[i].np = n;
        c[i].self = i;
        c[i].from = q->from;
        ctxs[i] = &c[i];
        if ((q->dim == DS_TOP_PORTS || q->dim == DS_TOP_COUNTRIES) &&
            !(c[i].dense = ds_top_arena_zalloc(&c[i].mem, dense_size * sizeof *c[i].dense)))
            goto nomem;
    }
    if ((rc = ds_top_run_scans(parts, n, DS_CHUNK_SRCSVC | DS_SCAN_NOFILL, ds_top_pass1, ctxs, err)) != DS_OK ||
        (rc = ds_top_run_parts(parts, n, ds_top_job_merge1, err)) != DS_OK)
        goto out;
    rc = DS_ENOMEM;
    uint64_t total = 0;
    size_t nkeys = 0;
    for (size_t i = 0; i < n; i++) {
        total += c[i].total;
        nkeys += c[i].sums[i].n + c[i].srcs[i].n;
        res->total_sources += c[i].v4[i].n + c[i].other[i].n;
    }
    for (size_t i = 0; c[0].dense && i < dense_size; i++)
        nkeys += dense_total(c, n, i) != 0;
    if (q->dim == DS_TOP_SOURCES)
        res->total_sources = nkeys;
    if ((rc = ds_top_result_addresses(st, q->sensor_id, res, err)) != DS_OK)
        goto out;
    rc = DS_ENOMEM;
    res->days = days;
    res->total_packets = total;

    size_t limit = q->limit && q->limit < nkeys ? q->limit : nkeys;
    best = malloc((limit + 1) * sizeof *best);
    res->rows = calloc(limit + 1, sizeof *res->rows);
    if (!best || !res->rows)
        goto nomem;
    topheap heap = { best, 0, limit };
    for (size_t i = 0; c[0].dense && i < dense_size; i++) {
        uint64_t v = dense_total(c, n, i);
        if (v)
            heap_offer(&heap, dense_key(q->dim, i), v);
    }
    for (size_t i = 0; i < n; i++) {
        const kvtab *s = &c[i].sums[i];
        for (size_t k = 0; k < s->cap; k++)
            if (s->e[k].key)
                heap_offer(&heap, s->e[k].key, s->e[k].val);
        if (s->has_zero)
            heap_offer(&heap, 0, s->zero_val);
        const srctab *t = &c[i].srcs[i];
        for (size_t k = 0; k < t->cap; k++)
            if (t->e[k].days)
                heap_offer(&heap, t->e[k].key, t->e[k].packets);
    }
    qsort(best, heap.n, sizeof *best, cand_cmp);
    res->n = heap.n;
    if (q->dim != DS_TOP_SOURCES)   /* pass 1's tables are dead (source rows still read theirs) */
        for (size_t i = 0; i < n; i++)
            ds_top_arena_reuse(&c[i].mem);
    uint64_t mask = 0;
    for (size_t i = 0; i < res->n; i++) {
        ds_top_row *r = &res->rows[i];
        r->key = best[i].key;
        r->packets = best[i].packets;
        if (q->dim == DS_TOP_SOURCES) {
            const src_ent *e = srctab_find(&c[part_of(src_hash(r->key), n)].srcs[part_of(src_hash(r->key), n)], r->key);
            r->sources = 1;
            if (!(r->key >> 63))
                ds_ip_set4(&r->ip, (uint32_t)r->key);
            if (e) {
                r->days = e->days;
                r->asn = e->asn;
                ds_cc_unpack(e->cc, r->cc);
                if (!filter_on && e->first) {   /* unfiltered, they are the source's own days */
                    r->first_day = q->from + (int32_t)e->first - 1;
                    r->last_day = q->from + (int32_t)e->last - 1;
                }
            }
        }
        uint64_t *v = kv_get(&shown, &c[0].mem, r->key, ds_mix64(r->key));
        if (!v)
            goto nomem;
        *v = i;
        mask |= 1ULL << mask_bit(r->key);
    }
    ds_top_result_rates(res, q->have_addr_days, q->addr_days);
    /* pass 2: distinct sources of the printed rows only (source rows have what they print) */
    if (res->n && q->dim != DS_TOP_SOURCES) {
        for (size_t i = 0; i < n; i++) {
            c[i].shown = &shown;
            c[i].shown_mask = mask;
            if (!(c[i].count = ds_top_arena_zalloc(&c[i].mem, (res->n + 1) * sizeof *c[i].count)))
                goto nomem;
        }
        if ((rc = ds_top_run_parts(parts, n, ds_top_job_pass2, err)) != DS_OK ||
            (rc = ds_top_run_parts(parts, n, ds_top_job_merge2, err)) != DS_OK)
            goto out;
        rc = DS_ENOMEM;
        for (size_t r = 0; r < res->n; r++)
            for (size_t i = 0; i < n; i++)
                res->rows[r].sources += c[i].count[r];
    }
    if (q->dim == DS_TOP_SOURCES && res->n) {
        /* addresses (IPv6 keys are hashes) and first/last seen */
        if (!(need = calloc((size_t)days + 1, 1)))
            goto nomem;
        size_t marked = filter_on ? (size_t)days : detail_days(res, q->from, days, need), nd = 1;
        if (marked * 2 > (size_t)days) {   /* most days: every part scans its own, as passes 1 and 2 */
            nd = n;
            for (size_t i = 0; i < n; i++) {
                if (!(detail[i] = calloc(res->n, sizeof *detail[i])))
                    goto nomem;
                sd[i].rows = detail[i];
                sd[i].idx = &shown;
                ctxs[i] = &sd[i];
            }
            if ((rc = ds_top_run_scans(parts, n, DS_CHUNK_SOURCES | DS_SCAN_NOFILL, ds_top_on_sources, ctxs, err)) != DS_OK)
                goto out;
        } else {   /* a few days: runs of consecutive ones, shared out between the parts */
            int serial = 0;
            for (size_t i = 0; i < n; i++)
                serial |= !parts[i].st;
            nd = serial ? 1 : n;
            for (size_t i = 0; i < nd; i++) {
                if (!(detail[i] = calloc(res->n, sizeof *detail[i])))
                    goto nomem;
                sd[i].rows = detail[i];
                sd[i].idx = &shown;
                parts[i].kind = DS_CHUNK_SOURCES | DS_SCAN_NOFILL;
                parts[i].fn = ds_top_on_sources;
                parts[i].ctx = &sd[i];
                parts[i].need = need;
                parts[i].days = days;
                parts[i].from0 = q->from;
            }
            if (serial) {
                parts[0].self = 0;
                parts[0].n = 1;
            }
            if ((rc = serial ? ds_top_job_detail(&parts[0], err) : ds_top_run_parts(parts, nd, ds_top_job_detail, err)) != DS_OK)
                goto out;
        }
        for (size_t i = 0; i < nd; i++)
            merge_detail(res, detail[i]);
    }
    rc = DS_OK;
    goto out;
nomem:
    rc = ds_fail(err, DS_ENOMEM, "out of memory");
out:
    if (rc != DS_OK)
        ds_top_result_free(res);
    for (size_t i = 0; i < TOP_MAX_THREADS; i++) {
        ds_top_arena_free(&c[i].mem);
        ds_top_arena_free(&c[i].item_mem);
        free(detail[i]);
        if (i > 0 && parts[i].st)
            ds_store_close(parts[i].st);
    }
    free(need);
    free(best);
    return rc;
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
