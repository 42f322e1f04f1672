/* period_store.h: a read-only view of a store that holds one period's chunks decompressed in
 * memory, so that `events` reads and decodes each chunk once however many detectors scan it.
 *
 * The view is a ds_store (store.h) of its own: detectors, `top` and the cube scan it exactly as
 * they scan the SQLite store, and get the same chunks in the same order (see period_store.c), so
 * their output cannot change.  Scans of what was not loaded, and every other operation, go to
 * the store underneath.
 */
#ifndef DS_PERIOD_STORE_H
#define DS_PERIOD_STORE_H
#include <stdint.h>

#include "store/store.h"
#include "util/result.h"

typedef struct ds_period_load {
    int kind;                   /* DS_CHUNK_* */
    int32_t from, to;           /* local days, inclusive (from > to: nothing) */
    /* 1: loaded only when a scan first reaches it (by that scan, on its thread), from that
     * scan's first day on (earlier days go to the store underneath).  For a kind that may not
     * be read at all, or only in part. */
    int lazy;
} ds_period_load;

/* A view of base holding the chunks of every listed (kind, days) of every sensor in memory; each
 * kind at most once in loads.  base must outlive the view and the handles reopened from it;
 * ds_store_close(view) frees only the view (and the connections it opened for threads).  The
 * loads are read in parallel, one thread per CPU (at most four), each with its own connection. */
ds_rc ds_period_store_open(ds_store *base, const ds_period_load *loads, size_t nloads, ds_store **out, ds_err *err);

/* Another handle on view's chunks (view: one of ds_period_store_open's handles) whose scans of
 * what they do not hold, and every other operation, go to under, the caller's store (not closed
 * with the handle); its reopened handles open connections of their own from under.  Every handle
 * keeps the chunks alive: they are freed when the last handle on them is closed, in any order.
 * So a long-lived process keeps a view (`serve`, a period its readers ask about) and lends it to
 * each request on that request's own connection. */
ds_rc ds_period_store_borrow(ds_store *view, ds_store *under, ds_store **out, ds_err *err);
/* Bytes of chunks view holds now (0 for a store that is no period view). */
size_t ds_period_store_bytes(ds_store *view);

/* Let view (and every handle on its chunks) answer a service's drill-down from slices
 * (period_slice.h: `serve`'s kept views); before the view is lent.  Their memory counts in
 * ds_period_store_bytes. */
ds_rc ds_period_store_enable_slices(ds_store *view, ds_err *err);
struct ds_slice_cache;
/* The view's slices, or NULL (none enabled, or no period view). */
struct ds_slice_cache *ds_period_store_slices(ds_store *view);

/* Keep up to bytes (rounded down to whole 32 MiB blocks, at most 64) of the memory of closed views
 * for the next ones, instead of giving it back (0, the default: give it all back).  For a long-
 * lived process that opens views again and again (`serve`): pages already touched cost nothing
 * to fill again, fresh ones a fault and a clear each.  The memory kept stays resident. */
void ds_period_store_keep_memory(size_t bytes);

#endif
