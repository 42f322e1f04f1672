/* serve_views.c: the decompressed chunks of the periods `serve`'s readers ask about, kept
 * between requests (serve_int.h).
 *
 * Why: a view of the dashboard is several requests over one period (a service's page asks for
 * its series, its countries, ASNs, sources and source ports; a source's page for its row, its
 * services, its days and its events), and each read the period's chunks from the store again:
 * over the demo's quarter, zstd decompression and the copies into fresh memory were a third to a
 * half of a service's and a source's page.  So the chunks a period's requests read (SRCSVC,
 * SOURCES, HOURLY, DETECT, DSTMAP and CROSS over the days any detector reads:
 * ds_events_period_loads) are held
 * in a period view (analysis/period_store.h), each kind loaded by the first request that reads
 * it, and lent to every later request over the same period on that request's own connection
 * (ds_period_store_borrow).  The answers cannot change: a view serves the same chunks as the
 * store (period_store.c; tests/unit/test_period_store.c), and DS_SERVE_NO_VIEWS=1 turns the
 * views off (tests/e2e/serve.sh compares the answers both ways).  These are the store's data,
 * not answers: --no-cache, which computes every answer, keeps them too.
 *
 * When a view is stale: as serve_cache.c, the store's files are stat()ed on every lookup, and any
 * change of size or mtime from the stamp the view was made under drops every view (a request
 * still reading one keeps it until it is done: handles hold the chunks, period_store.h).
 *
 * A kept view answers a service's page (its countries, ASNs, sources and source ports) from one
 * slice of the service's records sorted by source (analysis/period_slice.h), built by the page's
 * first request; DS_SERVE_NO_SLICES=1 turns them off (tests/e2e/serve.sh compares both ways).
 *
 * Only for a store that answers no query itself (SQLite): ClickHouse answers `top` and the cubes
 * with SQL where its rows are (store/query.h), which a view would answer from fetched chunks.
 *
 * Bounds: periods of at most MAX_DAYS days (the app's longest preset is a quarter), at most VIEWS
 * of them, and at most max_bytes of chunks over all of them (`serve --view-memory MIB`, default
 * DS_SERVE_VIEW_MIB): once a request is done, the least recently used views are dropped until the
 * rest fit, and a view larger than the whole budget is dropped too.  A source-heavy month's
 * view (bench/serve.sh month) is 1.1-1.3 GB: under the 512 MiB this used to be, every request
 * over it read and decompressed its chunks again, and a service's page took 5.5 s of server time
 * instead of 1.6 s.
 */
#include <stdlib.h>
#include <string.h>

#include <pthread.h>

#include "analysis/events.h"
#include "analysis/period_store.h"
#include "net/serve_int.h"
#include "store/query.h"

#define VIEWS 4
#define MAX_DAYS 93

typedef struct kept {
    int32_t from, to;
    ds_store *view;             /* the handle that keeps the chunks (never read: it is lent) */
    unsigned long long used;
} kept;

struct ds_serve_views {
    pthread_mutex_t mu;
    char path[4096];
    ds_serve_stamp st;          /* the stamp every kept view was made under */
    kept v[VIEWS];
    size_t n;
    size_t max_bytes;
    int no_slices;              /* DS_SERVE_NO_SLICES=1: a service's page from the chunks (tests) */
    unsigned long long clock;
};

ds_serve_views *ds_serve_views_new(const char *store_path, size_t max_bytes)
{
    const char *off = getenv("DS_SERVE_NO_VIEWS");
    if (off && *off && strcmp(off, "0") != 0)
        return NULL;
    ds_serve_views *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    if (pthread_mutex_init(&w->mu, NULL) != 0) {
        free(w);
        return NULL;
    }
    snprintf(w->path, sizeof w->path, "%s", store_path ? store_path : "");
    w->max_bytes = max_bytes;
    const char *ns = getenv("DS_SERVE_NO_SLICES");
    w->no_slices = ns && *ns && strcmp(ns, "0") != 0;
    w->st = ds_serve_stamp_take(w->path);
    return w;
}

static void drop(ds_serve_views *w, size_t i)
{
    ds_store_close(w->v[i].view);
    w->v[i] = w->v[--w->n];
}

void ds_serve_views_free(ds_serve_views *w)
{
    if (!w)
        return;
    while (w->n)
        drop(w, w->n - 1);
    pthread_mutex_destroy(&w->mu);
    free(w);
}

ds_store *ds_serve_views_get(ds_serve_views *w, ds_store *st, int32_t from, int32_t to)
{
    ds_store *h = NULL;
    ds_err err = { 0 };
    /* an engine that answers queries itself (ClickHouse, store/query.h) where its rows are:
     * a view would answer them from its chunks instead, the same numbers fetched whole */
    if (!w || to < from || to - from + 1 > MAX_DAYS || st->ops->query)
        return NULL;
    pthread_mutex_lock(&w->mu);
    ds_serve_stamp now = ds_serve_stamp_take(w->path);
    if (memcmp(&now, &w->st, sizeof now)) {   /* the store changed: every view is stale */
        while (w->n)
            drop(w, w->n - 1);
        w->st = now;
    }
    size_t i = 0;
    while (i < w->n && (w->v[i].from != from || w->v[i].to != to))
        i++;
    if (i == w->n) {   /* a new period: a view of it, nothing loaded until a scan reaches it */
        ds_period_load loads[DS_EVENTS_PERIOD_LOADS];
        size_t nl = ds_events_period_loads(from, to, loads);
        ds_store *view = NULL;
        if (ds_period_store_open(st, loads, nl, &view, &err) != DS_OK ||
            (!w->no_slices && ds_period_store_enable_slices(view, &err) != DS_OK)) {
            if (view)
                ds_store_close(view);
            pthread_mutex_unlock(&w->mu);
            return NULL;
        }
        if (w->n == VIEWS) {   /* the least recently used goes */
            size_t lru = 0;
            for (size_t k = 1; k < w->n; k++)
                if (w->v[k].used < w->v[lru].used)
                    lru = k;
            drop(w, lru);
        }
        i = w->n++;
        w->v[i] = (kept){ .from = from, .to = to, .view = view };
    }
    w->v[i].used = ++w->clock;
    if (ds_period_store_borrow(w->v[i].view, st, &h, &err) != DS_OK)
        h = NULL;
    pthread_mutex_unlock(&w->mu);
    return h;
}

void ds_serve_views_done(ds_serve_views *w, ds_store *h, int32_t from, int32_t to)
{
    if (!h)
        return;
    (void)from;
    (void)to;
    pthread_mutex_lock(&w->mu);
    for (;;) {   /* over the budget: the least recently used go first (the one just used last) */
        size_t total = 0, lru = 0;
        for (size_t i = 0; i < w->n; i++) {
            total += ds_period_store_bytes(w->v[i].view);
            if (w->v[i].used < w->v[lru].used)
                lru = i;
        }
        if (!w->n || total <= w->max_bytes)
            break;
        drop(w, lru);   /* a request still reading it keeps its chunks until it is done */
    }
    pthread_mutex_unlock(&w->mu);
    ds_store_close(h);
}
