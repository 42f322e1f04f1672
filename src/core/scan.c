/* scan.c: scan flows per (sensor, source, service); see scan.h for the definition and sources.
 *
 * The table is open addressing with linear probing over 64-byte entries (one cache line: the
 * probe that finds the key also brings the counters), at most half full.  Closed flows are
 * removed by backward-shift deletion (Knuth, TAOCP vol. 3, 6.4, Algorithm R), so a sweep needs
 * no second table.  An entry keeps up to four destinations inline; about nine in ten darknet
 * flows never get a fifth, and only the others take a 304-byte side block (an exact list, a
 * bitmap of a small sensor's address indices, or HyperLogLog registers, and the target order's
 * statistics).
 */
#include "core/scan.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/hash.h"
#include "core/records.h"

enum { NINLINE = 4, ST_EMPTY = 0, ST_LIST = NINLINE + 1, ST_BITMAP, ST_HLL };
#define HLL_M 256
#define MIN_SLOTS 4096

typedef struct flow {
    uint8_t ip[16];
    uint8_t v6;
    uint8_t state;          /* ST_EMPTY, 1..NINLINE destinations inline, or a side block's kind */
    uint16_t sensor;
    uint32_t svc;
    int32_t day;
    uint32_t packets;       /* saturates at 2^32-1 */
    uint64_t first_ns, last_ns;
    uint32_t dst[NINLINE];  /* inline destinations; with a side block: [0] its index, [1] list length */
} flow;
_Static_assert(sizeof(flow) == 64, "a flow is one cache line");

/* The order statistics of a flow (scan.h): prev is the last packet's destination; unbinned
 * counts destinations that were no sensor address index (the spatial test is then skipped). */
typedef struct order_stats {
    uint32_t prev, steps, ascents, unbinned;
    uint32_t bins[DS_SCAN_ORDER_BINS];
} order_stats;

typedef struct block {
    union {
        uint32_t list[DS_SCAN_EXACT];
        uint8_t reg[HLL_M];
        uint8_t bits[DS_DSTMAP_BYTES];
    } u;
    order_stats ord;
} block;

struct ds_scans {
    flow *t;
    size_t cap, n, max_slots;
    block *blocks;
    uint32_t *freeb;          /* free block indices (same capacity as blocks) */
    size_t nblocks, capblocks, nfree;
    uint64_t timeout_ns, clock;          /* clock: the newest packet time seen */
    uint32_t min_addresses, timeout_s;
    uint64_t *sensor_v4;
    size_t nsensors;
};

ds_scans *ds_scans_new(uint32_t min_addresses, uint32_t timeout_s, const uint64_t *sensor_v4, size_t nsensors)
{
    ds_scans *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->min_addresses = min_addresses ? min_addresses : DS_SCAN_MIN_ADDRESSES;
    s->timeout_s = timeout_s ? timeout_s : DS_SCAN_TIMEOUT_S;
    s->timeout_ns = (uint64_t)s->timeout_s * 1000000000ULL;
    s->max_slots = DS_SCAN_MAX_SLOTS;
    s->cap = MIN_SLOTS;
    s->t = calloc(s->cap, sizeof *s->t);
    s->nsensors = nsensors;
    s->sensor_v4 = calloc(nsensors + 1, sizeof *s->sensor_v4);
    if (!s->t || !s->sensor_v4) {
        ds_scans_free(s);
        return NULL;
    }
    if (sensor_v4)
        memcpy(s->sensor_v4, sensor_v4, nsensors * sizeof *sensor_v4);
    return s;
}

void ds_scans_free(ds_scans *s)
{
    if (!s)
        return;
    free(s->t);
    free(s->blocks);
    free(s->freeb);
    free(s->sensor_v4);
    free(s);
}

size_t ds_scans_memory(const ds_scans *s)
{
    return s->cap * sizeof *s->t + s->capblocks * (sizeof *s->blocks + sizeof *s->freeb);
}

size_t ds_scans_live(const ds_scans *s) { return s->n; }

static inline uint64_t flow_hash(const uint8_t ip[16], uint8_t v6, uint16_t sensor, uint32_t svc)
{
    uint64_t a, b = 0;
    memcpy(&a, ip, 8);
    if (v6)
        memcpy(&b, ip + 8, 8);
    /* IPv4 sits in the low 32 bits of a: the service and sensor fill the rest, one mix */
    return ds_mix64(a ^ (uint64_t)(svc & 0xffffff) << 32 ^ (uint64_t)sensor << 56 ^ (v6 ? ds_mix64(b ^ 1) : 0));
}

/* ---- side blocks ----------------------------------------------------------------------- */

static long block_new(ds_scans *s)
{
    if (s->nfree)
        return (long)s->freeb[--s->nfree];
    if (s->nblocks == s->capblocks) {
        size_t cap = s->capblocks ? s->capblocks * 2 : 64;
        block *nb = realloc(s->blocks, cap * sizeof *nb);
        if (!nb)
            return -1;
        s->blocks = nb;
        uint32_t *nf = realloc(s->freeb, cap * sizeof *nf);
        if (!nf)
            return -1;
        s->freeb = nf;
        s->capblocks = cap;
    }
    return (long)s->nblocks++;
}

static void block_free(ds_scans *s, uint32_t b) { s->freeb[s->nfree++] = b; }

static void hll_add(uint8_t reg[HLL_M], uint32_t key)
{
    uint64_t h = ds_mix64((uint64_t)key * 0x9e3779b97f4a7c15ULL + 0x5ca1ab1eULL);
    uint64_t w = h >> 8;
    uint8_t rank = (uint8_t)(w ? __builtin_ctzll(w) + 1 : 57);
    if (rank > reg[h & (HLL_M - 1)])
        reg[h & (HLL_M - 1)] = rank;
}

static double hll_count(const uint8_t reg[HLL_M])
{
    double sum = 0;
    int zeros = 0;
    for (int i = 0; i < HLL_M; i++) {
        sum += ldexp(1.0, -(int)reg[i]);
        zeros += !reg[i];
    }
    double e = 0.7213 / (1.0 + 1.079 / HLL_M) * HLL_M * HLL_M / sum;
    if (e <= 2.5 * HLL_M && zeros)   /* small range: linear counting over the registers */
        e = HLL_M * log((double)HLL_M / zeros);
    return e;
}

/* Distinct destinations of a flow; *estimated set when it is the HyperLogLog's. */
static uint32_t flow_count(const ds_scans *s, const flow *e, int *estimated)
{
    *estimated = 0;
    if (e->state <= NINLINE)
        return e->state;
    const block *k = &s->blocks[e->dst[0]];
    if (e->state == ST_LIST)
        return e->dst[1];
    if (e->state == ST_BITMAP)
        return ds_dstmap_bits(k->u.bits);
    *estimated = 1;
    double c = hll_count(k->u.reg) + 0.5;
    return c > 4294967295.0 ? UINT32_MAX : (uint32_t)c;
}

/* ---- target order ------------------------------------------------------------------------ */

static uint32_t sensor_size(const ds_scans *s, const flow *e)
{
    uint64_t m = e->sensor < s->nsensors ? s->sensor_v4[e->sensor] : 0;
    return m > UINT32_MAX ? UINT32_MAX : (uint32_t)m;
}

static void order_bin(order_stats *o, uint32_t key, uint32_t m)
{
    if (m >= 8 * DS_SCAN_ORDER_BINS && key < m)
        o->bins[(uint64_t)key * DS_SCAN_ORDER_BINS / m]++;
    else
        o->unbinned++;
}

/* A packet to key: a step when it differs from the previous destination. */
static void order_add(order_stats *o, uint32_t key, uint32_t m)
{
    if (key == o->prev)
        return;
    o->steps++;
    o->ascents += key > o->prev;
    o->prev = key;
    order_bin(o, key, m);
}

int ds_scan_order_test(uint32_t steps, uint32_t ascents, const uint32_t *bins, uint32_t sensor_addresses)
{
    if (steps < 20)   /* fewer steps say little either way */
        return DS_SCAN_ORDER_UNTESTED;
    /* ascents of m random steps: mean m/2, variance (m+1)/12; |z| > 3.29 is p < 0.001 */
    double z = ((double)ascents - steps / 2.0) / sqrt((steps + 1.0) / 12.0);
    if (z > 3.29 || z < -3.29)
        return DS_SCAN_ORDER_NOT_RANDOM;
    uint64_t n = 0;
    for (int i = 0; bins && i < DS_SCAN_ORDER_BINS; i++)
        n += bins[i];
    if (!bins || n < 5 * DS_SCAN_ORDER_BINS || sensor_addresses < 8 * DS_SCAN_ORDER_BINS)
        return DS_SCAN_ORDER_RANDOM;   /* too few for the chi-square rule of 5 per bin */
    double chi2 = 0, m = sensor_addresses;
    for (int i = 0; i < DS_SCAN_ORDER_BINS; i++) {
        /* bin i holds the indices k with floor(k x 8 / m) = i */
        double lo = ceil(i * m / DS_SCAN_ORDER_BINS), hi = ceil((i + 1) * m / DS_SCAN_ORDER_BINS);
        double want = (double)n * (hi - lo) / m, d = bins[i] - want;
        chi2 += d * d / want;
    }
    /* 24.32: the chi-square quantile of 7 degrees of freedom at p = 0.001 */
    return chi2 > 24.32 ? DS_SCAN_ORDER_NOT_RANDOM : DS_SCAN_ORDER_RANDOM;
}

/* The side block's statistics, from the inline destinations in the order they came. */
static void order_start(order_stats *o, const uint32_t *dst, int n, uint32_t m)
{
    memset(o, 0, sizeof *o);
    o->prev = dst[0];
    order_bin(o, dst[0], m);
    for (int i = 1; i < n; i++)
        order_add(o, dst[i], m);
}

static int add_dst(ds_scans *s, flow *e, uint32_t key, int exact)
{
    if (e->state <= NINLINE) {
        for (unsigned i = 0; i < e->state; i++)
            if (e->dst[i] == key)
                return 0;
        if (e->state < NINLINE) {
            e->dst[e->state++] = key;
            return 0;
        }
        long b = block_new(s);
        if (b < 0)
            return -1;
        block *k = &s->blocks[b];
        uint32_t m = e->v6 ? 0 : sensor_size(s, e);
        order_start(&k->ord, e->dst, NINLINE, m);
        order_add(&k->ord, key, m);
        if (exact) {
            memset(k->u.bits, 0, sizeof k->u.bits);
            for (int i = 0; i < NINLINE; i++)
                k->u.bits[(e->dst[i] & 511) >> 3] |= (uint8_t)(1u << (e->dst[i] & 7));
            k->u.bits[(key & 511) >> 3] |= (uint8_t)(1u << (key & 7));
            e->state = ST_BITMAP;
        } else {
            memcpy(k->u.list, e->dst, sizeof e->dst);
            k->u.list[NINLINE] = key;
            e->dst[1] = NINLINE + 1;
            e->state = ST_LIST;
        }
        e->dst[0] = (uint32_t)b;
        return 0;
    }
    block *k = &s->blocks[e->dst[0]];
    order_add(&k->ord, key, e->v6 ? 0 : sensor_size(s, e));
    if (e->state == ST_BITMAP) {
        k->u.bits[(key & 511) >> 3] |= (uint8_t)(1u << (key & 7));
    } else if (e->state == ST_LIST) {
        uint32_t n = e->dst[1];
        for (uint32_t i = 0; i < n; i++)
            if (k->u.list[i] == key)
                return 0;
        if (n < DS_SCAN_EXACT) {
            k->u.list[n] = key;
            e->dst[1] = n + 1;
            return 0;
        }
        uint32_t keep[DS_SCAN_EXACT];   /* the exact list becomes registers holding the same set */
        memcpy(keep, k->u.list, sizeof keep);
        memset(k->u.reg, 0, sizeof k->u.reg);
        for (uint32_t i = 0; i < DS_SCAN_EXACT; i++)
            hll_add(k->u.reg, keep[i]);
        hll_add(k->u.reg, key);
        e->state = ST_HLL;
    } else {
        hll_add(k->u.reg, key);
    }
    return 0;
}

/* ---- closing --------------------------------------------------------------------------- */

/* Report e if it is a scan, and release its side block; the entry itself stays. */
static int flow_close(ds_scans *s, flow *e, ds_scan_out_fn fn, void *ctx)
{
    int est, rc = 0;
    uint32_t n = flow_count(s, e, &est);
    if (n > e->packets)   /* an estimate above the packets seen: each packet reached one address */
        n = e->packets;
    if (n >= s->min_addresses) {
        ds_scan x;
        memset(&x, 0, sizeof x);
        memcpy(x.src.b, e->ip, 16);
        x.src.v6 = e->v6;
        x.sensor = e->sensor;
        x.day = e->day;
        x.service = e->svc;
        x.start_ns = e->first_ns;
        x.end_ns = e->last_ns;
        x.packets = e->packets;
        x.addresses = n;
        x.estimated = est;
        x.sensor_addresses = sensor_size(s, e);
        if (e->state > NINLINE && !e->v6) {
            const order_stats *o = &s->blocks[e->dst[0]].ord;
            x.order = ds_scan_order_test(o->steps, o->ascents, o->unbinned ? NULL : o->bins, x.sensor_addresses);
        }
        x.timeout_s = s->timeout_s;
        x.min_addresses = s->min_addresses;
        if (fn(ctx, &x) != 0)
            rc = -1;
    }
    if (e->state > NINLINE)
        block_free(s, e->dst[0]);
    e->state = 0;
    return rc;
}

/* Empty slot i and shift later members of its cluster back (Algorithm R). */
static void slot_delete(ds_scans *s, size_t i)
{
    size_t mask = s->cap - 1, j = i;
    s->t[i].state = ST_EMPTY;
    for (;;) {
        j = (j + 1) & mask;
        flow *f = &s->t[j];
        if (f->state == ST_EMPTY)
            break;
        size_t home = (size_t)flow_hash(f->ip, f->v6, f->sensor, f->svc) & mask;
        /* f may move to i when its home is not cyclically within (i, j] */
        int stays = i <= j ? (home > i && home <= j) : (home > i || home <= j);
        if (stays)
            continue;
        s->t[i] = *f;
        f->state = ST_EMPTY;
        i = j;
    }
    s->n--;
}

/* Close the flows `drop` says, with deletion; a slot refilled by the shift is looked at again. */
static int sweep(ds_scans *s, int (*drop)(const ds_scans *, const flow *, uint64_t), uint64_t arg,
                 ds_scan_out_fn fn, void *ctx)
{
    int rc = 0;
    for (size_t i = 0; i < s->cap;) {
        flow *e = &s->t[i];
        if (e->state != ST_EMPTY && drop(s, e, arg)) {
            if (flow_close(s, e, fn, ctx) != 0)
                rc = -1;
            slot_delete(s, i);
            continue;
        }
        i++;
    }
    return rc;
}

static int idle_before(const ds_scans *s, const flow *e, uint64_t now)
{
    return now == UINT64_MAX || e->last_ns + s->timeout_ns < now;
}

static int fewer_than(const ds_scans *s, const flow *e, uint64_t limit)
{
    int est;
    return flow_count(s, e, &est) < limit;
}

int ds_scans_expire(ds_scans *s, uint64_t now_ns, ds_scan_out_fn fn, void *ctx)
{
    return sweep(s, idle_before, now_ns, fn, ctx);
}

static int rehash(ds_scans *s, size_t cap)
{
    flow *n = calloc(cap, sizeof *n);
    if (!n)
        return -1;
    for (size_t i = 0; i < s->cap; i++) {
        const flow *f = &s->t[i];
        if (f->state == ST_EMPTY)
            continue;
        size_t j = (size_t)flow_hash(f->ip, f->v6, f->sensor, f->svc) & (cap - 1);
        while (n[j].state != ST_EMPTY)
            j = (j + 1) & (cap - 1);
        n[j] = *f;
    }
    free(s->t);
    s->t = n;
    s->cap = cap;
    return 0;
}

/* Room for one more flow.  The idle flows are closed first; the table then grows when more than
 * an eighth of it is still live (so the next sweep is at least 3/8 cap new flows away: a sweep
 * costs O(1) per new flow, amortised), and at the cap the flows with fewest destinations go. */
static int make_room(ds_scans *s, ds_scan_out_fn fn, void *ctx)
{
    if ((s->n + 1) * 2 <= s->cap)
        return 0;
    int rc = sweep(s, idle_before, s->clock, fn, ctx);
    if (rc == 0 && s->n * 8 > s->cap && s->cap < s->max_slots)
        return rehash(s, s->cap * 2);
    for (uint64_t limit = 2; rc == 0 && s->n * 4 > s->cap; limit *= 2)
        rc = sweep(s, fewer_than, limit, fn, ctx);
    return rc;
}

/* ---- per packet ------------------------------------------------------------------------ */

static void flow_start(flow *e, const ds_pkt *p, uint16_t sensor, uint32_t svc, int32_t day)
{
    memcpy(e->ip, p->src.b, 16);
    e->v6 = p->src.v6;
    e->state = 0;
    e->sensor = sensor;
    e->svc = svc;
    e->day = day;
    e->packets = 0;
    e->first_ns = e->last_ns = p->ts_ns;
}

int ds_scans_packet(ds_scans *s, int sensor, int32_t day, uint32_t dst_key, int exact, const ds_pkt *p,
                    ds_service svc, ds_scan_out_fn fn, void *ctx)
{
    uint64_t ts = p->ts_ns;
    if (ts > s->clock)
        s->clock = ts;
    uint16_t sn = (uint16_t)sensor;
    uint64_t h = flow_hash(p->src.b, p->src.v6, sn, svc);
    size_t mask = s->cap - 1, j = (size_t)h & mask;
    flow *e;
    for (;;) {
        e = &s->t[j];
        if (e->state == ST_EMPTY)
            break;
        if (e->svc == svc && e->sensor == sn && e->v6 == p->src.v6 && memcmp(e->ip, p->src.b, 16) == 0)
            break;
        j = (j + 1) & mask;
    }
    if (e->state == ST_EMPTY) {
        /* a new flow: the slot found may move if the table grows or sheds flows */
        if ((s->n + 1) * 2 > s->cap) {
            if (make_room(s, fn, ctx) != 0)
                return -1;
            mask = s->cap - 1;
            for (j = (size_t)h & mask; s->t[j].state != ST_EMPTY; j = (j + 1) & mask)
                ;
            e = &s->t[j];
        }
        flow_start(e, p, sn, svc, day);
        s->n++;
    } else if (ts > e->last_ns + s->timeout_ns) {   /* the old flow ended: report it, start again */
        if (flow_close(s, e, fn, ctx) != 0)
            return -1;
        flow_start(e, p, sn, svc, day);
    }
    if (e->packets != UINT32_MAX)
        e->packets++;
    if (ts < e->first_ns)
        e->first_ns = ts;
    if (ts > e->last_ns)
        e->last_ns = ts;
    return add_dst(s, e, dst_key, exact);
}
