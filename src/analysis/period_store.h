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
    /* 1: loaded only when a scan first reaches it (by that scan, on its thread).  For a kind
     * that may not be read at all. */
    int lazy;
} ds_period_load;

/* A view of base holding the chunks of every listed (kind, days) of every sensor in memory; each
 * kind at most once in loads.  base must outlive the view; ds_store_close(view) frees only the
 * view (and the connections it opened for threads).  The loads are read in parallel, one thread
 * per CPU (at most four), each with its own connection. */
ds_rc ds_period_store_open(ds_store *base, const ds_period_load *loads, size_t nloads, ds_store **out, ds_err *err);

#endif
