/* tsguard.c: the timestamp check of ingest (issue #19, "Timestamps are checked").
 *
 * Why.  One corrupted record header (a time in 2106) or a sensor that boots with a 1970 clock
 * used to be ingested like any packet.  The counters' first and last times then spanned decades,
 * `top`'s default period with them, per-address rates fell 30,000-fold, and `events` reported a
 * silence of 29,984 days.  Such records are now not classified: they count as the outcome
 * bad_timestamp, attributed to a sensor like the other outcomes, and move no time span.
 *
 * The rules, for the records of one file in order:
 *
 *  - Absolute bounds.  Before 1990-01-01T00:00:00Z, or after the ingest's time plus a day, is bad
 *    (no look-ahead needed; the record is handed over at once).
 *
 *  - Spikes.  A record within G (a day) of the last accepted record is good: the fast path, one
 *    test and no copy.  A record further away starts a pending run, and the records after it
 *    join the run while they too are more than G from the last accepted one.  When a record comes
 *    back within G, the run (at most K records) was a spike: bad, and the record that came back is
 *    good.  When the run grows to K + 1 records, the file did not come back: a real gap (a
 *    sensor that was off), or a clock that was set right.  Its first record is then accepted as
 *    the new anchor and the others are looked at again against it, in order, as if they had just
 *    been read; after a gap they follow their first within G and are all accepted.  So totals
 *    stay exact across gaps of any length.
 *
 *  - The first records of a file have no predecessor.  The first record is held until one agrees
 *    with it (within G): then both are good, the later one the anchor.  When the first two
 *    disagree, the third decides: the held record it agrees with is good, the others held before
 *    the agreement are bad (with no record agreeing, K + 1 held records accept the first as
 *    above).  A file whose first record alone is damaged thus loses only that record; a file
 *    whose first record alone lies before a gap loses it too (one record).
 *
 *  - End of file.  Held records are decided first to last.  With no anchor (a file of one record,
 *    or of records that all disagree), the first is accepted.  With one, a run that went forward
 *    is accepted (a gap with few records after it before the file ended: a capture rotated soon
 *    after the sensor came back), and one that went back by more than G is bad (nothing goes
 *    back in time for long in a capture, and the file has no record after it to tell).  After
 *    each decision the rest are looked at again against the anchor.
 *
 * The verdict depends on the records alone, so the ingest threads, which each read every record,
 * agree on it; only the thread that owns a record's source counts it.  A pending record's bytes
 * are copied into the guard's slots (the reader reuses its buffer), at most K + 1 records at a
 * time: 16 + 1 slots of at most DS_MAX_CAPLEN each, kept for the next file and only ever filled
 * by the first record of a file and by spikes and gaps.
 */
#include "ingest/tsguard.h"

#include <stdlib.h>
#include <string.h>

void ds_tsguard_init(ds_tsguard *g, uint64_t now_s)
{
    g->open = 0;
    g->lo = g->span = 0;
    g->min_ns = DS_TSGUARD_MIN_S * DS_TSGUARD_NS;
    g->max_ns = now_s < UINT64_MAX / DS_TSGUARD_NS - DS_TSGUARD_AHEAD_S ? (now_s + DS_TSGUARD_AHEAD_S) * DS_TSGUARD_NS
                                                                        : UINT64_MAX;
    g->anchored = 0;
    g->last = 0;
    g->n = 0;
    g->nbad = 0;
}

void ds_tsguard_free(ds_tsguard *g)
{
    for (unsigned i = 0; i < DS_TSGUARD_RUN + 1; i++) {
        free(g->slot[i].buf);
        g->slot[i].buf = NULL;
        g->slot[i].cap = 0;
    }
    g->n = 0;
}

static int near(uint64_t a, uint64_t b)
{
    return (a > b ? a - b : b - a) <= DS_TSGUARD_GAP_NS;
}

/* ts was accepted: it is the new anchor, and the fast window is centred on it. */
static void set_anchor(ds_tsguard *g, uint64_t ts)
{
    uint64_t lo = ts - DS_TSGUARD_GAP_NS, hi = ts + DS_TSGUARD_GAP_NS;   /* ts >= min_ns > G */
    g->anchored = 1;
    g->last = ts;
    g->lo = lo < g->min_ns ? g->min_ns : lo;
    g->span = (hi > g->max_ns ? g->max_ns : hi) - g->lo;
}

static ds_rc hand(ds_tsguard *g, const ds_record *r, int bad, ds_tsguard_fn fn, void *ctx)
{
    g->nbad += (uint64_t)bad;
    return fn(ctx, r, bad);
}

/* Hand over slot[from..to) as bad. */
static ds_rc bad_range(ds_tsguard *g, unsigned from, unsigned to, ds_tsguard_fn fn, void *ctx)
{
    ds_rc rc = DS_OK;
    for (unsigned i = from; i < to && rc == DS_OK; i++)
        rc = hand(g, &g->slot[i].rec, 1, fn, ctx);
    return rc;
}

/* Decide what can be decided of the held records, slot[0..n), of which slot[0..e) were looked at
 * before (the pending run).  At the end of the file (eof) everything is decided. */
static ds_rc settle(ds_tsguard *g, unsigned e, int eof, ds_tsguard_fn fn, void *ctx)
{
    unsigned s = 0, n = g->n;
    ds_rc rc = DS_OK;
    for (;;) {
        while (e < n && rc == DS_OK) {
            const ds_record *x = &g->slot[e++].rec;
            if (g->anchored) {
                if (near(x->ts_ns, g->last)) {   /* back: the run was a spike */
                    if ((rc = bad_range(g, s, e - 1, fn, ctx)) == DS_OK)
                        rc = hand(g, x, 0, fn, ctx);
                    set_anchor(g, x->ts_ns);
                    s = e;
                    continue;
                }
            } else {
                unsigned i = e - 1;   /* the latest held record x agrees with */
                while (i > s && !near(g->slot[i - 1].rec.ts_ns, x->ts_ns))
                    i--;
                if (i > s) {
                    i--;
                    if ((rc = bad_range(g, s, i, fn, ctx)) == DS_OK && (rc = hand(g, &g->slot[i].rec, 0, fn, ctx)) == DS_OK &&
                        (rc = bad_range(g, i + 1, e - 1, fn, ctx)) == DS_OK)
                        rc = hand(g, x, 0, fn, ctx);
                    set_anchor(g, x->ts_ns);
                    s = e;
                    continue;
                }
            }
            if (e - s > DS_TSGUARD_RUN) {   /* the file did not come back: accept the run's first */
                rc = hand(g, &g->slot[s].rec, 0, fn, ctx);
                set_anchor(g, g->slot[s].rec.ts_ns);
                e = ++s;                     /* and look at the others again */
            }
        }
        if (rc != DS_OK || !eof || s == n)
            break;
        /* end of file: the first held record decides for itself, then the rest are looked at again */
        int back = g->anchored && g->slot[s].rec.ts_ns < g->last;
        rc = hand(g, &g->slot[s].rec, back, fn, ctx);
        if (!back)
            set_anchor(g, g->slot[s].rec.ts_ns);
        e = ++s;
    }
    /* keep the undecided records at the front (swapping keeps every buffer owned by one slot) */
    for (unsigned i = 0; s && i < n - s; i++) {
        ds_tsguard_slot t = g->slot[i];
        g->slot[i] = g->slot[s + i];
        g->slot[s + i] = t;
    }
    g->n = n - s;
    g->open = g->anchored && g->n == 0;
    return rc;
}

ds_rc ds_tsguard_push(ds_tsguard *g, const ds_record *r, ds_tsguard_fn fn, void *ctx)
{
    if (r->ts_ns < g->min_ns || r->ts_ns > g->max_ns)
        return hand(g, r, 1, fn, ctx);
    if (ds_tsguard_fast(g, r->ts_ns))
        return fn(ctx, r, 0);
    /* hold a copy: its verdict waits for the records after it */
    ds_tsguard_slot *sl = &g->slot[g->n];
    if (r->caplen > sl->cap) {
        uint8_t *b = realloc(sl->buf, r->caplen);
        if (!b)
            return DS_ENOMEM;
        sl->buf = b;
        sl->cap = r->caplen;
    }
    if (r->caplen)
        memcpy(sl->buf, r->data, r->caplen);
    sl->rec = *r;
    sl->rec.data = sl->buf;
    g->n++;
    g->open = 0;
    return settle(g, g->n - 1, 0, fn, ctx);
}

ds_rc ds_tsguard_end(ds_tsguard *g, ds_tsguard_fn fn, void *ctx)
{
    return settle(g, g->n, 1, fn, ctx);
}
