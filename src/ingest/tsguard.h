/* tsguard.h: which capture records have impossible timestamps (issue #19).
 *
 * A record is bad when its time is before 1990-01-01, after "now" plus a day, or a spike: it
 * jumps more than DS_TSGUARD_GAP away from the last accepted record, and the file comes back
 * within DS_TSGUARD_GAP of that record after at most DS_TSGUARD_RUN records.  A jump the file does
 * not come back from (a sensor that was off for ten days, a clock set right) is accepted in full.
 * tsguard.c explains the rules, including the first records of a file and its end.
 *
 * The verdict is a function of the record sequence alone, so every ingest thread, which reads
 * every record, reaches the same one.  Records are handed to a callback with their verdict, in
 * file order except that a record outside the absolute bounds is handed over at once as bad
 * while a spike is pending.  The common case, a record within a day of the previous one, costs
 * one inline test (ds_tsguard_fast) and no copy.
 */
#ifndef DS_TSGUARD_H
#define DS_TSGUARD_H
#include <stdint.h>

#include "capture/reader.h"
#include "util/result.h"

#define DS_TSGUARD_NS 1000000000ull
/* 1990-01-01T00:00:00Z: no capture is older (libpcap's format is from 1988-1990; the oldest
 * captures of our corpus are from the mid-1990s), while a zeroed or 1970 clock lands before it */
#define DS_TSGUARD_MIN_S 631152000ull
/* A record may be up to a day ahead of the time of the ingest: clocks that are a little ahead,
 * and timezones mistaken for UTC (at most 14 h), stay in. */
#define DS_TSGUARD_AHEAD_S 86400ull
/* 1 when every instant of [from_ns, to_ns] is a possible time by the bounds above (now_s: the
 * ingest's "now", UNIX seconds): a span given with a file (a live sensor's segment, pcapng
 * interface statistics) is checked as its records are. */
static inline int ds_tsguard_span_possible(uint64_t from_ns, uint64_t to_ns, uint64_t now_s)
{
    return from_ns >= DS_TSGUARD_MIN_S * DS_TSGUARD_NS && from_ns <= to_ns &&
           to_ns / DS_TSGUARD_NS <= now_s + DS_TSGUARD_AHEAD_S;
}
/* G, the largest jump between neighbouring records that is never questioned: a day.  Records of
 * a capture are in time order up to small disorder (interfaces of a pcapng, an NTP step: seconds
 * to minutes); a day is far above that.  A spike of less than a day moves a period by at most a
 * day, so it is not worth a look-ahead. */
#define DS_TSGUARD_GAP_NS (86400ull * DS_TSGUARD_NS)
/* K, the longest run of records that jumped away and are still judged a spike when the file
 * comes back.  Damaged headers come alone or in short bursts; a real gap or clock step is
 * followed by the rest of the capture, far more than 16 records.  It also bounds the look-ahead:
 * at most K + 1 records are copied. */
#define DS_TSGUARD_RUN 16

/* A record and its verdict: 1 = bad (not classified), 0 = good.  r->data is valid during the
 * call only. */
typedef ds_rc (*ds_tsguard_fn)(void *ctx, const ds_record *r, int bad);

typedef struct ds_tsguard_slot {
    ds_record rec;       /* rec.data points into buf */
    uint8_t *buf;
    uint32_t cap;
} ds_tsguard_slot;

typedef struct ds_tsguard {
    /* the fast path: anchored, nothing pending, lo <= ts <= lo + span */
    int open;
    uint64_t lo, span;
    uint64_t min_ns, max_ns;     /* absolute bounds */
    int anchored;                /* a record was accepted: last is its time */
    uint64_t last;
    /* held records: slot[0..s) are decided (none between calls), slot[s..e) the pending run,
     * slot[e..n) records not looked at yet (during a re-examination) */
    ds_tsguard_slot slot[DS_TSGUARD_RUN + 1];
    unsigned n;
    uint64_t nbad;               /* records handed over as bad */
} ds_tsguard;

/* Start a file: now_s is the time of the ingest (seconds since the epoch), which sets the upper
 * bound now_s + DS_TSGUARD_AHEAD_S.  Keeps the slot buffers of an earlier file. */
void ds_tsguard_init(ds_tsguard *g, uint64_t now_s);
void ds_tsguard_free(ds_tsguard *g);

/* 1 when ts is within a day of the last accepted record and nothing is pending: then the record
 * is good, and the caller hands it on itself.  0: call ds_tsguard_push. */
static inline int ds_tsguard_fast(ds_tsguard *g, uint64_t ts)
{
    if (!g->open || ts - g->lo > g->span)
        return 0;
    uint64_t lo = ts - DS_TSGUARD_GAP_NS, hi = ts + DS_TSGUARD_GAP_NS;   /* ts >= min_ns > G */
    g->last = ts;
    g->lo = lo < g->min_ns ? g->min_ns : lo;
    g->span = (hi > g->max_ns ? g->max_ns : hi) - g->lo;
    return 1;
}

/* The slow path: judge r (copying it when its verdict must wait) and hand every record decided
 * now to fn.  DS_ENOMEM when a copy cannot be made; fn's error otherwise. */
ds_rc ds_tsguard_push(ds_tsguard *g, const ds_record *r, ds_tsguard_fn fn, void *ctx);
/* End of file: decide every held record and hand it to fn. */
ds_rc ds_tsguard_end(ds_tsguard *g, ds_tsguard_fn fn, void *ctx);

#endif
