/* svclog.h: the (source, service, class) packet counts of one day, kept as an append-only log
 * that is sorted and reduced when the day retires.
 *
 * Why a log, not a hash table.  Backscatter goes to random destination ports, so almost every
 * backscatter packet is a (source, class, service) of its own.  In a hash table each of them is a
 * new entry at a random place in a table as large as the day's packets: one cache miss per packet
 * (37% of the aggregator's time on bench/gen_backscatter.c's mix), and a table to walk and clear
 * when the day retires.  Here a packet costs an append to a sequential log, and the counting is
 * done once, when the day retires: an LSD radix sort on the key (sequential passes, 11-bit digits,
 * digits that do not vary are skipped) and one pass that folds equal keys (as sort | uniq -c
 * does).
 *
 * The combining cache.  Before the log, each packet goes through a small direct-mapped cache of
 * items (DS_SVCLOG_CACHE entries, 32 KiB: it stays in L1/L2).  A packet whose key is in the cache
 * adds to it; otherwise the cache entry it maps to is appended to the log and replaced.  A
 * scanner sending thousands of packets to one port, the usual shape, therefore writes one log item
 * now and then, not one per packet; a random-port packet costs one append, as without the cache.
 * The log may hold a key several times (evicted, then seen again): the sort brings them together.
 *
 * Bounded memory.  When the log is full it is reduced in place (a partial reduction): the
 * appended part is sorted and folded, then merged with the part reduced before (from the back,
 * so no third buffer is needed).  Only when the reduced log still fills more than half of the
 * array does the array double, so the log holds at most about twice the day's distinct keys, not
 * the day's packets, plus the radix sort's second buffer of the same size.
 *
 * Folding two items: packets add (saturating at 2^46 - 1, as the table before did), and the item
 * keeps "every packet came from source port P" only when both did with the same P.  That makes
 * the result independent of the order the packets came in, so the records are exactly those the
 * hash table wrote.
 */
#ifndef DS_SVCLOG_H
#define DS_SVCLOG_H
#include <stddef.h>
#include <stdint.h>

/* One (source, service, class) count.  key: see ds_svc_key.  packets == 0 marks an empty cache
 * entry.  16 bytes: a radix pass moves a quarter of a cache line per item. */
typedef struct ds_svc_item {
    uint64_t key;
    uint64_t packets : 46;
    uint64_t has_port : 1;   /* the packets had a source port (TCP/UDP) */
    uint64_t mixed : 1;      /* not all the same source port (or some had none) */
    uint64_t sport : 16;     /* the source port when has_port and not mixed */
} ds_svc_item;

#define DS_SVC_PACKETS_MAX ((1ULL << 46) - 1)
#define DS_SVCLOG_CACHE_BITS 11
#define DS_SVCLOG_CACHE (1u << DS_SVCLOG_CACHE_BITS)

/* key = source index << 26 | service (24 bits, classify.h's DS_SERVICE) << 2 | class (< 4):
 * sorted keys put a source's items together, and within them a service's classes. */
static inline uint64_t ds_svc_key(uint32_t src, uint32_t service, unsigned cls)
{
    return (uint64_t)src << 26 | (uint64_t)(service & 0xffffffu) << 2 | (cls & 3u);
}
static inline uint32_t ds_svc_key_src(uint64_t k) { return (uint32_t)(k >> 26); }
static inline uint32_t ds_svc_key_service(uint64_t k) { return (uint32_t)(k >> 2) & 0xffffffu; }
static inline unsigned ds_svc_key_class(uint64_t k) { return (unsigned)k & 3u; }

/* The radix sort: 11-bit digits, six of them for a 64-bit key. */
enum { DS_SVCLOG_DIGIT_BITS = 11, DS_SVCLOG_DIGITS = 6, DS_SVCLOG_RADIX = 1 << DS_SVCLOG_DIGIT_BITS };

typedef struct ds_svclog {
    ds_svc_item *v; size_t n, cap;    /* v[0, nsorted): sorted, one item per key; v[nsorted, n): appended */
    size_t nsorted;
    ds_svc_item *tmp; size_t captmp;  /* the radix sort's second buffer */
    uint32_t (*hist)[DS_SVCLOG_RADIX]; /* [DS_SVCLOG_DIGITS]: its digit counts (48 KiB) */
    ds_svc_item *cache;               /* [DS_SVCLOG_CACHE] */
    uint64_t spills;                  /* partial reductions so far (for tests and measurements) */
} ds_svclog;

/* An empty log with room for `cap` items before its first partial reduction (at least 64).
 * 0, or -1 when memory runs out. */
int ds_svclog_init(ds_svclog *l, size_t cap);
void ds_svclog_free(ds_svclog *l);

/* The log is full: reduce it in place, and grow it when that frees less than half (see the
 * design note).  0, or -1 when memory runs out (the log is then unchanged). */
int ds_svclog_spill(ds_svclog *l);

/* Fold `b` into `a` (same key): packets add, and the source port stays only if both agree. */
static inline void ds_svc_fold(ds_svc_item *a, const ds_svc_item *b)
{
    uint64_t p = (uint64_t)a->packets + b->packets;
    a->packets = p > DS_SVC_PACKETS_MAX ? DS_SVC_PACKETS_MAX : p;
    if (b->mixed || b->has_port != a->has_port || b->sport != a->sport)
        a->mixed = 1;
}

/* One packet of `key`; sport < 0: the packet has no source port.  0, or -1 when memory runs out. */
static inline int ds_svclog_add(ds_svclog *l, uint64_t key, int sport)
{
    ds_svc_item *c = &l->cache[(key * 0x9E3779B97F4A7C15ULL) >> (64 - DS_SVCLOG_CACHE_BITS)];
    if (c->packets && c->key == key) {
        c->packets += c->packets < DS_SVC_PACKETS_MAX;
        if (sport != (c->has_port ? (int)c->sport : -1))
            c->mixed = 1;
        return 0;
    }
    if (c->packets) {
        if (l->n == l->cap && ds_svclog_spill(l) != 0)
            return -1;
        l->v[l->n++] = *c;
    }
    c->key = key;
    c->packets = 1;
    c->has_port = sport >= 0;
    c->mixed = 0;
    c->sport = sport >= 0 ? (uint16_t)sport : 0;
    return 0;
}

/* Flush the cache and reduce the whole log: afterwards v[0, n) holds one item per key, in key
 * order.  0, or -1 when memory runs out. */
int ds_svclog_reduce(ds_svclog *l);
/* Empty the log (after a reduce), keeping its arrays for the next day. */
void ds_svclog_clear(ds_svclog *l);
/* Bytes held. */
size_t ds_svclog_memory(const ds_svclog *l);

#endif
