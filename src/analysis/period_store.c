/* period_store.c: see period_store.h.
 *
 * Lazy kinds (ds_period_load.lazy, what `events` lists beside the DETECT chunks): a kind that
 * may not be read at all is loaded by the first scan that reaches it, on whichever thread gets
 * there, under the snapshot's mutex; its state is read and written atomically, so a handle on
 * another thread reads the kind's list only once it is whole.  (Streaming the first scan and
 * loading on the second decompressed a busy quarter's chunks twice: 25% more CPU for `events`.)
 *
 * Why a view and not a cache inside the SQLite store: `events` runs eight detectors, and each
 * reads the quarter's SRCSVC, HOURLY or SOURCES chunks once or several times (`top` alone is run
 * nine times, and `top` reads with several threads, each on a connection of its own whose read
 * cache starts empty).  Measured on a synthetic quarter, zstd decompression was a third of
 * `events` and first-touch page faults on the memory chunks were decompressed into a fifth.
 * Loading the chunks once into memory that every handle shares (the threads' handles are views
 * too) makes every later scan a walk over an array.
 *
 * Same chunks, in content order: the view loads each kind with one scan of every sensor over its
 * days (split between threads by days, concatenated in day order), then sorts each day's chunks
 * by sensor id, record count and bytes (chunk_cmp), and serves a scan as the matching
 * subsequence.  So a callback sees the chunks in day order (store.h's contract for scan) and,
 * within a day, in an order that depends on the chunks alone, never on the order the files were
 * ingested in.  (Until 2026-12 the view replayed SQLite's order: its (kind, day, sensor_id) index,
 * then the row id, which is ingest order.  No reader depends on the order within a day any more,
 * so the results are the same either way; tests/unit/test_period_store.c checks that against the
 * store itself, and tests/e2e/order.sh against stores filled in different orders.)  A scan
 * reaching outside the loaded days goes to the store underneath.
 *
 * Memory: chunks are copied into blocks of BLOCK bytes, in plain 4 KiB pages.  Until 2026-12-07
 * the blocks were mapped with MADV_HUGEPAGE, as top.c's buffers and store_sqlite.c's read cache
 * are.  On our VM that is fast only when the memory is warm: on the source-heavy month (1.2 GB
 * of chunks loaded by two threads), `events` run again at once took 2.0-2.2 s with huge pages and
 * 2.8-2.9 s without, but run after a 3-second pause (as an analyst runs a report) 4.5-5.1 s
 * with them (3.5-3.8 s of system time, the kernel zeroing 2 MiB pages the host had taken back)
 * and 2.7-2.9 s without (bench/README.md).  Plain pages cost the same either way. The snapshot is
 * written by the loading threads only, before any handle exists, and read-only afterwards, so
 * handles on other threads share it without locks.
 */
#include "analysis/period_store.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "analysis/period_slice.h"
#include "core/records.h"
#include "util/grow.h"

#define MAX_PARTS 4
#define MIN_PART_DAYS 7          /* a thread's share of days, at least (an open costs a little) */
#define BLOCK ((size_t)32 << 20) /* address space; pages are touched as filled */
#define HUGE_PAGE ((size_t)2 << 20)

typedef struct pchunk {
    int64_t sensor_id;
    int32_t day;
    size_t nrec, len;       /* len: nrec times the kind's record size, in bytes */
    const uint8_t *data;
} pchunk;

/* The view's order: day, sensor id, then the chunk's content (record count, then bytes). */
static int chunk_cmp(const void *a, const void *b)
{
    const pchunk *x = a, *y = b;
    if (x->day != y->day)
        return x->day < y->day ? -1 : 1;
    if (x->sensor_id != y->sensor_id)
        return x->sensor_id < y->sensor_id ? -1 : 1;
    if (x->nrec != y->nrec)
        return x->nrec < y->nrec ? -1 : 1;
    return x->len ? memcmp(x->data, y->data, x->len) : 0;   /* same nrec and kind: same len */
}

typedef struct chunk_list { pchunk *c; size_t n, cap; } chunk_list;

/* Blocks of copied chunk bytes, one list per loading thread. */
typedef struct block { void *map; size_t len; } block;
typedef struct blocks {
    block *b;
    size_t n, cap;
    uint8_t *cur;
    size_t left;
} blocks;

typedef struct loaded_kind {
    int loaded;
    int32_t from, to;
    chunk_list list;
} loaded_kind;

typedef struct snapshot {
    loaded_kind kinds[DS_CHUNK__END];
    blocks mem[MAX_PARTS];
    /* Lazy kinds (ds_period_load.lazy): lazy_state 1 until loaded, then 2 (read and written
     * atomically: a reader on another thread reads kinds[k] only once it sees 2).  mu serialises
     * the loading. */
    ds_period_load lazy[DS_CHUNK__END];
    int lazy_state[DS_CHUNK__END];
    pthread_mutex_t mu;
    int mu_ok;
    int refs;               /* handles on it (atomic): the last one closed frees it */
    ds_slice_cache *slices; /* a service's drill-down answered from a slice (period_slice.h), or NULL */
} snapshot;

typedef struct period_store {
    ds_store base;
    ds_store *origin;       /* the caller's store */
    ds_store *under;        /* what unloaded scans and other operations go to: origin for the
                             * first handle; for a reopened one its own connection, opened when
                             * first needed */
    snapshot *snap;
    int first;              /* the handle ds_period_store_open made (under: the caller's store) */
    int own_under;          /* under was opened by this handle (a reopened one): closed with it */
} period_store;

static const ds_store_ops period_ops;

/* ---- memory ------------------------------------------------------------------------------- */

/* Freed blocks kept for the next view (ds_period_store_keep_memory): a process that loads a
 * period again and again (`serve`, one load per `events` it computes) copies into pages already
 * faulted in instead of fresh ones, whose first touch was a quarter of a quarter's `events` on our
 * VM (the kernel clearing 4 KiB pages: clear_page_erms).  Reused blocks hold old bytes; a view
 * reads only what it copied. */
static pthread_mutex_t pool_mu = PTHREAD_MUTEX_INITIALIZER;
static void *pool[64];
static size_t npool, pool_max;

void ds_period_store_keep_memory(size_t bytes)
{
    pthread_mutex_lock(&pool_mu);
    pool_max = bytes / BLOCK < sizeof pool / sizeof pool[0] ? bytes / BLOCK : sizeof pool / sizeof pool[0];
    while (npool > pool_max)
        munmap(pool[--npool], BLOCK);
    pthread_mutex_unlock(&pool_mu);
}

static void *block_map(size_t size)
{
    void *p = NULL;
    if (size == BLOCK) {
        pthread_mutex_lock(&pool_mu);
        if (npool)
            p = pool[--npool];
        pthread_mutex_unlock(&pool_mu);
    }
    if (!p && (p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0)) ==
                  MAP_FAILED)
        p = NULL;
    return p;
}

static void block_unmap(void *p, size_t size)
{
    if (size == BLOCK) {
        pthread_mutex_lock(&pool_mu);
        int kept = npool < pool_max;
        if (kept)
            pool[npool++] = p;
        pthread_mutex_unlock(&pool_mu);
        if (kept)
            return;
    }
    munmap(p, size);
}

static uint8_t *blocks_alloc(blocks *m, size_t len)
{
    size_t need = (len + 15) & ~(size_t)15;
    if (need > m->left) {
        if (m->n == m->cap) {
            block *nb = ds_grow(m->b, &m->cap, sizeof *nb, 8);
            if (!nb)
                return NULL;
            m->b = nb;
        }
        size_t size = need > BLOCK ? (need + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1) : BLOCK;
        void *p = block_map(size);
        if (!p)
            return NULL;
        m->b[m->n++] = (block){ p, size };
        m->cur = p;
        m->left = size;
    }
    uint8_t *r = m->cur;
    m->cur += need;
    m->left -= need;
    return r;
}

static void blocks_free(blocks *m)
{
    for (size_t i = 0; i < m->n; i++)
        block_unmap(m->b[i].map, m->b[i].len);
    free(m->b);
    memset(m, 0, sizeof *m);
}

static void snapshot_free(snapshot *s)
{
    if (!s)
        return;
    for (size_t k = 0; k < DS_CHUNK__END; k++)
        free(s->kinds[k].list.c);
    for (size_t i = 0; i < MAX_PARTS; i++)
        blocks_free(&s->mem[i]);
    if (s->mu_ok)
        pthread_mutex_destroy(&s->mu);
    ds_slice_cache_free(s->slices);
    free(s);
}

/* ---- loading ------------------------------------------------------------------------------ */

typedef struct part {
    ds_store *main_st, *st;     /* st: main_st for part 0, else opened in the thread */
    const ds_period_load *loads;
    size_t nloads, self, n;
    chunk_list lists[DS_CHUNK__END];
    blocks *mem;
    int kind;                   /* the kind being scanned (for the callback) */
    int deferred;               /* no connection of its own: read on the caller's after the join */
    ds_rc rc;
    ds_err err;
    pthread_t th;
} part;

static ds_rc on_chunk(void *ctx, int64_t sensor_id, int32_t day, const uint8_t *data, size_t nrec, ds_err *err)
{
    part *p = ctx;
    chunk_list *l = &p->lists[p->kind];
    size_t len = nrec * ds_rec_size(p->kind);   /* the store checked nrec * size against the chunk */
    uint8_t *copy = len ? blocks_alloc(p->mem, len) : NULL;
    if (len && !copy)
        return ds_fail(err, DS_ENOMEM, "out of memory holding the period's chunks");
    if (l->n == l->cap) {
        pchunk *nc = ds_grow(l->c, &l->cap, sizeof *nc, 256);
        if (!nc)
            return ds_fail(err, DS_ENOMEM, "out of memory holding the period's chunks");
        l->c = nc;
    }
    if (len)
        memcpy(copy, data, len);
    l->c[l->n++] = (pchunk){ sensor_id, day, nrec, len, copy };
    return DS_OK;
}

/* Days [from, to] split in n nearly equal runs: run i. */
static void slice(int32_t from, int32_t to, size_t i, size_t n, int32_t *a, int32_t *b)
{
    int64_t days = (int64_t)to - from + 1;
    *a = from + (int32_t)(days * (int64_t)i / (int64_t)n);
    *b = from + (int32_t)(days * (int64_t)(i + 1) / (int64_t)n) - 1;
}

static void *part_main(void *arg)
{
    part *p = arg;
    p->rc = DS_OK;
    if (!p->st && ds_store_reopen(p->main_st, &p->st, &p->err) != DS_OK) {
        p->st = NULL;
        p->deferred = 1;
        return NULL;
    }
    for (size_t i = 0; i < p->nloads && p->rc == DS_OK; i++) {
        const ds_period_load *ld = &p->loads[i];
        if (ld->from > ld->to)
            continue;
        int32_t a, b;
        slice(ld->from, ld->to, p->self, p->n, &a, &b);
        if (a > b)
            continue;
        p->kind = ld->kind;
        p->rc = ds_store_scan(p->st, ld->kind | DS_SCAN_NOFILL, 0, a, b, on_chunk, p, &p->err);
    }
    return NULL;
}

static ds_rc load(ds_store *base, const ds_period_load *loads, size_t nloads, snapshot *snap, ds_err *err)
{
    part parts[MAX_PARTS];
    size_t n = 1, started = 1;
    int32_t longest = 0;
    ds_rc rc = DS_OK;
    memset(parts, 0, sizeof parts);
    for (size_t i = 0; i < nloads; i++) {
        const ds_period_load *ld = &loads[i];
        int twice = 0;
        for (size_t j = 0; j < i; j++)
            twice |= loads[j].kind == ld->kind;
        if (ld->kind <= 0 || ld->kind >= DS_CHUNK__END || !ds_rec_size(ld->kind) || twice)
            return ds_fail(err, DS_EINVAL, "period store: chunk kind %d is unknown or listed twice", ld->kind);
        if (ld->to - ld->from + 1 > longest)
            longest = ld->to - ld->from + 1;
    }
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    while ((long)n < ncpu && n < MAX_PARTS && longest / (int32_t)(n + 1) >= MIN_PART_DAYS)
        n++;
    for (size_t i = 0; i < n; i++)
        parts[i] = (part){ .main_st = base, .st = i ? NULL : base, .loads = loads, .nloads = nloads, .self = i,
                           .n = n, .mem = &snap->mem[i] };
    for (; started < n; started++)
        if (pthread_create(&parts[started].th, NULL, part_main, &parts[started]) != 0)
            break;
    part_main(&parts[0]);
    for (size_t i = 1; i < started; i++)
        pthread_join(parts[i].th, NULL);
    /* a part whose thread could not start, or that could not open a connection, is read here, on
     * the caller's connection (fewer threads, same chunks) */
    for (size_t i = 1; i < n; i++)
        if (i >= started || parts[i].deferred) {
            parts[i].st = base;
            part_main(&parts[i]);
        }
    for (size_t i = 0; i < n && rc == DS_OK; i++)
        if (parts[i].rc != DS_OK) {
            *err = parts[i].err;
            rc = parts[i].rc;
        }
    /* each kind's chunks: the parts' lists one after the other, which is day order */
    for (size_t i = 0; i < nloads && rc == DS_OK; i++) {
        loaded_kind *lk = &snap->kinds[loads[i].kind];
        size_t total = 0;
        if (loads[i].from > loads[i].to)
            continue;   /* no days: not loaded, every scan goes underneath */
        for (size_t j = 0; j < n; j++)
            total += parts[j].lists[loads[i].kind].n;
        lk->list.c = malloc((total ? total : 1) * sizeof *lk->list.c);
        if (!lk->list.c) {
            rc = ds_fail(err, DS_ENOMEM, "out of memory holding the period's chunks");
            break;
        }
        for (size_t j = 0; j < n; j++) {
            const chunk_list *l = &parts[j].lists[loads[i].kind];
            if (l->n)
                memcpy(lk->list.c + lk->list.n, l->c, l->n * sizeof *l->c);
            lk->list.n += l->n;
        }
        lk->list.cap = total;
        if (lk->list.n > 1)
            qsort(lk->list.c, lk->list.n, sizeof *lk->list.c, chunk_cmp);   /* content order (top) */
        lk->from = loads[i].from;
        lk->to = loads[i].to;
        lk->loaded = 1;
    }
    for (size_t i = 0; i < n; i++) {
        for (size_t k = 0; k < DS_CHUNK__END; k++)
            free(parts[i].lists[k].c);
        if (i && parts[i].st && parts[i].st != base)
            ds_store_close(parts[i].st);
    }
    return rc;
}

/* ---- the view ----------------------------------------------------------------------------- */

static ds_rc view_new(ds_store *origin, ds_store *under, snapshot *snap, int first, ds_store **out, ds_err *err)
{
    period_store *v = calloc(1, sizeof *v);
    if (!v)
        return ds_fail(err, DS_ENOMEM, "out of memory opening a period store");
    v->base.ops = &period_ops;
    v->origin = origin;
    v->under = under;
    v->snap = snap;
    v->first = first;
    __atomic_add_fetch(&snap->refs, 1, __ATOMIC_ACQ_REL);
    *out = &v->base;
    return DS_OK;
}

ds_rc ds_period_store_open(ds_store *base, const ds_period_load *loads, size_t nloads, ds_store **out, ds_err *err)
{
    *out = NULL;
    ds_period_load eager[DS_CHUNK__END];
    size_t neager = 0;
    snapshot *snap = calloc(1, sizeof *snap);
    if (!snap)
        return ds_fail(err, DS_ENOMEM, "out of memory opening a period store");
    ds_rc rc = DS_OK;
    if (pthread_mutex_init(&snap->mu, NULL) != 0)
        rc = ds_fail(err, DS_ENOMEM, "period store: no mutex");
    snap->mu_ok = rc == DS_OK;
    for (size_t i = 0; i < nloads && rc == DS_OK; i++) {
        int k = loads[i].kind, twice = 0;
        for (size_t j = 0; j < i; j++)
            twice |= loads[j].kind == k;
        if (k <= 0 || k >= DS_CHUNK__END || !ds_rec_size(k) || twice)
            rc = ds_fail(err, DS_EINVAL, "period store: chunk kind %d is unknown or listed twice", k);
        else if (!loads[i].lazy)
            eager[neager++] = loads[i];
        else if (loads[i].from <= loads[i].to) {
            snap->lazy[k] = loads[i];
            snap->lazy_state[k] = 1;
        }
    }
    if (rc == DS_OK)
        rc = load(base, eager, neager, snap, err);
    if (rc == DS_OK)
        rc = view_new(base, base, snap, 1, out, err);
    if (rc != DS_OK)
        snapshot_free(snap);
    return rc;
}

/* The store underneath this handle, opened now for a handle made by reopen (NULL: failed). */
static ds_store *under(period_store *v, ds_err *err)
{
    if (!v->under && ds_store_reopen(v->origin, &v->under, err) != DS_OK)
        v->under = NULL;
    return v->under;
}

static void pv_close(ds_store *s)
{
    period_store *v = (period_store *)s;
    if (v->own_under && v->under)
        ds_store_close(v->under);
    if (__atomic_sub_fetch(&v->snap->refs, 1, __ATOMIC_ACQ_REL) == 0)
        snapshot_free(v->snap);
    free(v);
}

/* Another handle on the same snapshot, for another thread: it opens a connection of its own only
 * if it is asked for something the snapshot does not hold. */
static ds_rc pv_reopen(ds_store *s, ds_store **out, ds_err *err)
{
    period_store *v = (period_store *)s;
    ds_rc rc = view_new(v->origin, NULL, v->snap, 0, out, err);
    if (rc == DS_OK)
        ((period_store *)*out)->own_under = 1;
    return rc;
}

ds_rc ds_period_store_borrow(ds_store *view, ds_store *under, ds_store **out, ds_err *err)
{
    *out = NULL;
    if (!view || view->ops != &period_ops || !under)
        return ds_fail(err, DS_EINVAL, "period store: not a period view");
    return view_new(under, under, ((period_store *)view)->snap, 0, out, err);
}

size_t ds_period_store_bytes(ds_store *view)
{
    if (!view || view->ops != &period_ops)
        return 0;
    snapshot *snap = ((period_store *)view)->snap;
    size_t n = 0;
    pthread_mutex_lock(&snap->mu);   /* a lazy load adds blocks under it */
    for (size_t i = 0; i < MAX_PARTS; i++)
        for (size_t j = 0; j < snap->mem[i].n; j++)
            n += snap->mem[i].b[j].len - (j + 1 == snap->mem[i].n ? snap->mem[i].left : 0);
    pthread_mutex_unlock(&snap->mu);
    return n + ds_slice_cache_bytes(snap->slices);
}

ds_rc ds_period_store_enable_slices(ds_store *view, ds_err *err)
{
    if (!view || view->ops != &period_ops)
        return ds_fail(err, DS_EINVAL, "period store: not a period view");
    snapshot *snap = ((period_store *)view)->snap;
    if (!snap->slices && !(snap->slices = ds_slice_cache_new()))
        return ds_fail(err, DS_ENOMEM, "out of memory");
    return DS_OK;
}

ds_slice_cache *ds_period_store_slices(ds_store *view)
{
    return view && view->ops == &period_ops ? ((period_store *)view)->snap->slices : NULL;
}

/* First chunk of day >= day (chunks are in day order). */
static size_t first_of_day(const chunk_list *l, int32_t day)
{
    size_t lo = 0, hi = l->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (l->c[mid].day < day)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* The days of a loaded kind outside what was loaded go to the store underneath, before and after
 * the loaded ones (chunks come in day order), without filling its read cache: a reader that
 * scans them more than once is the reason to load them, and the cache costs fresh memory.  A
 * kind the view never loads (the rollups the report's cubes read several times) goes there
 * whole, as the caller asked (nofill 0: its DS_SCAN_NOFILL bit, or none). */
static ds_rc pass_through(period_store *v, int kind, int nofill, int64_t sensor_id, int32_t from, int32_t to,
                          ds_scan_fn fn, void *ctx, ds_err *err)
{
    if (from > to)
        return DS_OK;
    ds_store *u = under(v, err);
    return u ? ds_store_scan(u, kind | nofill, sensor_id, from, to, fn, ctx, err) : DS_ESTORE;
}

/* A lazy kind's chunks, loaded now (by the first thread to get here) from this handle's store,
 * from the first day that scan asks for (from) on: the days before it, if a later scan asks
 * for them, go to the store underneath as any day outside the loaded ones does.  (`events`
 * lists SRCSVC from the series baseline on, 92 days before a quarter, for the raw reads when
 * DETECT is missing; with DETECT its readers ask for the period and a few days before it, and
 * loading the whole list decompressed and copied twice what they read.) */
static ds_rc lazy_load(period_store *v, int k, int32_t from, ds_err *err)
{
    snapshot *snap = v->snap;
    ds_rc rc = DS_OK;
    pthread_mutex_lock(&snap->mu);
    if (__atomic_load_n(&snap->lazy_state[k], __ATOMIC_ACQUIRE) == 1) {
        ds_store *u = under(v, err);
        ds_period_load ld = snap->lazy[k];
        if (from > ld.from && from <= ld.to)
            ld.from = from;
        rc = u ? load(u, &ld, 1, snap, err) : DS_ESTORE;
        if (rc == DS_OK)
            __atomic_store_n(&snap->lazy_state[k], 2, __ATOMIC_RELEASE);
    }
    pthread_mutex_unlock(&snap->mu);
    return rc;
}

static ds_rc pv_scan(ds_store *s, int kind, int64_t sensor_id, int32_t from, int32_t to, ds_scan_fn fn, void *ctx,
                     ds_err *err)
{
    period_store *v = (period_store *)s;
    int k = kind & ~DS_SCAN_NOFILL;
    if (from > to)
        return DS_OK;   /* an empty range, as in SQL's BETWEEN */
    if (k > 0 && k < DS_CHUNK__END && __atomic_load_n(&v->snap->lazy_state[k], __ATOMIC_ACQUIRE) == 1) {
        ds_rc rc = lazy_load(v, k, from, err);   /* a lazy kind, first reached: loaded now */
        if (rc != DS_OK)
            return rc;
    }
    const loaded_kind *lk = k > 0 && k < DS_CHUNK__END ? &v->snap->kinds[k] : NULL;
    if (!lk || !lk->loaded)
        return pass_through(v, kind, 0, sensor_id, from, to, fn, ctx, err);
    if (to < lk->from || from > lk->to)
        return pass_through(v, kind, DS_SCAN_NOFILL, sensor_id, from, to, fn, ctx, err);
    int32_t a = from > lk->from ? from : lk->from, b = to < lk->to ? to : lk->to;
    ds_rc rc = pass_through(v, kind, DS_SCAN_NOFILL, sensor_id, from, a - 1, fn, ctx, err);
    for (size_t i = first_of_day(&lk->list, a); rc == DS_OK && i < lk->list.n && lk->list.c[i].day <= b; i++) {
        const pchunk *c = &lk->list.c[i];
        if (sensor_id <= 0 || c->sensor_id == sensor_id)
            rc = fn(ctx, c->sensor_id, c->day, c->data, c->nrec, err);
    }
    return rc == DS_OK ? pass_through(v, kind, DS_SCAN_NOFILL, sensor_id, b + 1, to, fn, ctx, err) : rc;
}

/* Everything else is the store underneath's; the view writes nothing. */
#define UNDER_OR_FAIL(v, err)                                                                                          \
    ds_store *u = under((period_store *)(v), err);                                                                     \
    if (!u)                                                                                                            \
        return DS_ESTORE

static ds_rc pv_meta_get(ds_store *s, const char *key, char *val, size_t len, ds_err *err)
{
    UNDER_OR_FAIL(s, err);
    return ds_store_meta_get(u, key, val, len, err);
}

static ds_rc pv_day_span(ds_store *s, int32_t *first, int32_t *last, ds_err *err)
{
    UNDER_OR_FAIL(s, err);
    return ds_store_day_span(u, first, last, err);
}

static ds_rc pv_chunks_lacking(ds_store *s, int have, int need, int64_t sensor_id, int32_t from, int32_t to,
                               ds_sensor_day **rows, size_t *n, ds_err *err)
{
    UNDER_OR_FAIL(s, err);
    return ds_store_chunks_lacking(u, have, need, sensor_id, from, to, rows, n, err);
}

static ds_rc pv_sensors(ds_store *s, ds_sensor_info **rows, size_t *n, ds_err *err)
{
    UNDER_OR_FAIL(s, err);
    return ds_store_sensors(u, rows, n, err);
}

static ds_rc pv_sensor_stats(ds_store *s, ds_sensor_stats **rows, size_t *n, ds_err *err)
{
    UNDER_OR_FAIL(s, err);
    return ds_store_sensor_stats(u, rows, n, err);
}

static ds_rc pv_segment_get(ds_store *s, const char *sensor, uint64_t seq, ds_segment_rec *out, ds_err *err)
{
    UNDER_OR_FAIL(s, err);
    return ds_store_segment_get(u, sensor, seq, out, err);
}

static ds_rc pv_sensor_health(ds_store *s, ds_sensor_health **rows, size_t *n, ds_err *err)
{
    UNDER_OR_FAIL(s, err);
    return ds_store_sensor_health(u, rows, n, err);
}

static ds_rc pv_segments_list(ds_store *s, const char *sensor, int64_t from, int64_t to, ds_segment_rec **rows,
                              size_t *n, ds_err *err)
{
    UNDER_OR_FAIL(s, err);
    return ds_store_segments_list(u, sensor, from, to, rows, n, err);
}

static ds_rc pv_payloads_query(ds_store *s, const ds_payload_query *q, ds_payload_row **rows, size_t *n,
                               uint64_t *total, ds_err *err)
{
    UNDER_OR_FAIL(s, err);
    return ds_store_payloads_query(u, q, rows, n, total, err);
}

static ds_rc pv_coverage_span(ds_store *s, uint64_t *first_ns, uint64_t *last_ns, ds_err *err)
{
    UNDER_OR_FAIL(s, err);
    return ds_store_coverage_span(u, first_ns, last_ns, err);
}

static ds_rc pv_coverage_scan(ds_store *s, uint64_t from_ns, uint64_t to_ns, ds_coverage_fn fn, void *ctx,
                              ds_err *err)
{
    UNDER_OR_FAIL(s, err);
    return ds_store_coverage_scan(u, from_ns, to_ns, fn, ctx, err);
}

/* Read-only: no writer part, so every write is refused by store.c's wrappers ("the period store
 * is read-only"); the ledger and payloads go to the store underneath. */
static const ds_store_reader_ops period_reader = {
    .meta_get = pv_meta_get,
    .scan = pv_scan,
    .chunks_lacking = pv_chunks_lacking,
    .day_span = pv_day_span,
    .coverage_span = pv_coverage_span,
    .coverage_scan = pv_coverage_scan,
    .sensors = pv_sensors,
    .sensor_stats = pv_sensor_stats,
};

static const ds_store_ledger_ops period_ledger = {
    .segment_get = pv_segment_get,
    .ledger_put = NULL,   /* never called: ds_store_keeps(DS_WRITABLE) is 0, and the collector writes the store itself */
    .sensor_health = pv_sensor_health,
    .segments_list = pv_segments_list,
};

static const ds_store_payload_ops period_payloads = {
    .payloads_put = NULL,
    .payloads_query = pv_payloads_query,
};

/* A service's drill-down from its slice when slices are on (period_slice.c); everything else,
 * and every query of a view without them, declined: the chunk code answers over the chunks. */
static const ds_store_query_ops period_query = {
    .top = ds_slice_top,
    .cube = ds_slice_cube,
    .source_rows = NULL,
};

static const ds_store_ops period_ops = {
    .name = "period",
    .open = NULL,   /* made by ds_period_store_open only */
    .close = pv_close,
    .reopen = pv_reopen,
    .writer = NULL,
    .reader = &period_reader,
    .ledger = &period_ledger,
    .payloads = &period_payloads,
    .query = &period_query,   /* slices, or analysis's chunk code over the loaded chunks */
};
