/* flood.c: floods and reflections at dark addresses (see flood.h for the method). */
#include "core/flood.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/classify.h"
#include "core/hash.h"

#define BUCKET_NS (10ULL * 1000000000ULL)
#define NBUCKETS 6
#define HLL_M 512
#define HLL_FROM 16               /* registers once the 60 s window holds this many packets */
#define PORT_PICK 256             /* the main port is the most common among this many first packets */
#define PORT_SLOTS 8

typedef struct fvec {
    ds_flood_vec v;
    uint64_t bucket;
    uint32_t counts[NBUCKETS], window;
    uint32_t peak_sources;        /* sources estimate when the window peaked */
    uint8_t *reg;                 /* HLL_M registers, or NULL while the vector is quiet */
    uint64_t hll_n;               /* packets added to reg: no estimate may exceed it */
    /* the main port: the most common of the first PORT_PICK packets' (counted here, up to
     * PORT_SLOTS distinct ones), then counted exactly from there on (pick_port) */
    uint16_t hport[PORT_SLOTS], hn[PORT_SLOTS];
    uint8_t hproto[PORT_SLOTS], nh, picked;
    int used;
} fvec;

struct ds_floods {
    fvec *t;
    size_t cap, n;
};

ds_floods *ds_floods_new(void)
{
    ds_floods *f = calloc(1, sizeof *f);
    if (!f)
        return NULL;
    f->cap = 64;
    if (!(f->t = calloc(f->cap, sizeof *f->t))) {
        free(f);
        return NULL;
    }
    return f;
}

void ds_floods_free(ds_floods *f)
{
    if (!f)
        return;
    for (size_t i = 0; f->t && i < f->cap; i++)
        free(f->t[i].reg);
    free(f->t);
    free(f);
}

/* One mix for an IPv4 target (its address is the first 4 bytes; the rest are zero), two for IPv6:
 * every scan and backscatter packet hashes its destination here (callgrind: the second mix was a
 * fifth of the tracker's cost on IPv4). */
static inline uint64_t key_hash(const ds_ip *ip, int cls)
{
    uint64_t a, b;
    memcpy(&a, ip->b, 8);
    if (!ip->v6)
        return ds_mix64(a ^ (uint64_t)cls << 56);
    memcpy(&b, ip->b + 8, 8);
    return ds_mix64(a ^ ds_mix64(b ^ ((uint64_t)ip->v6 << 8 | (uint64_t)cls)));
}

/* The HyperLogLog estimate of the distinct sources among n packets, never more than n: the
 * estimate's error (4.6%) must not claim more sources than packets (a real flood of 37,841 SYNs
 * was reported as "from about 39,234 sources"). */
static uint32_t hll_estimate(const uint8_t *reg, uint64_t n)
{
    double sum = 0;
    int zeros = 0;
    for (int i = 0; i < HLL_M; i++) {
        sum += ldexp(1.0, -reg[i]);
        zeros += reg[i] == 0;
    }
    double e = 0.7213 / (1 + 1.079 / HLL_M) * HLL_M * HLL_M / sum;
    if (e <= 2.5 * HLL_M && zeros)
        e = HLL_M * log((double)HLL_M / zeros);
    if (e > (double)n)
        e = (double)n;
    return (uint32_t)(e + 0.5);
}

static void hll_add(uint8_t *reg, const ds_ip *src)
{
    uint64_t a, b;
    memcpy(&a, src->b, 8);
    memcpy(&b, src->b + 8, 8);
    uint64_t h = ds_mix64(a ^ ds_mix64(b ^ 0x9e3779b97f4a7c15ULL));
    unsigned j = (unsigned)(h & (HLL_M - 1));
    uint64_t w = h >> 9;
    uint8_t rank = 1;
    while (rank < 58 && !(w & 1)) {
        w >>= 1;
        rank++;
    }
    if (rank > reg[j])
        reg[j] = rank;
}

static int passes(const fvec *x)
{
    return x->v.max_ppm >= DS_FLOOD_MIN_PPM && x->peak_sources >= DS_FLOOD_MIN_SOURCES;
}

/* Grow the table to cap (expiry deletes in place: slot_delete). */
static int rehash(ds_floods *f, size_t cap)
{
    fvec *n = calloc(cap, sizeof *n);
    if (!n)
        return -1;
    for (size_t i = 0; i < f->cap; i++) {
        if (!f->t[i].used)
            continue;
        size_t j = (size_t)key_hash(&f->t[i].v.target, f->t[i].v.cls) & (cap - 1);
        while (n[j].used)
            j = (j + 1) & (cap - 1);
        n[j] = f->t[i];
    }
    free(f->t);
    f->t = n;
    f->cap = cap;
    return 0;
}

/* The vector's main port: the most common among its first packets (the first seen on a tie), with
 * its packets so far.  The first packet's port was taken before: StopDDoS's BACnet reflection
 * starts with a reply from 37810 (25% of it), where 47808 sent 71%. */
static void pick_port(fvec *x)
{
    if (x->picked)
        return;
    size_t best = 0;
    for (size_t i = 1; i < x->nh; i++)
        if (x->hn[i] > x->hn[best])
            best = i;
    if (x->nh) {
        x->v.port_proto = x->hproto[best];
        x->v.port = x->hport[best];
        x->v.port_packets = x->hn[best];
    }
    x->picked = 1;
}

static void count_port(fvec *x, uint8_t proto, uint16_t port)
{
    if (x->picked) {
        if (proto == x->v.port_proto && port == x->v.port)
            x->v.port_packets++;
        return;
    }
    size_t i = 0;
    while (i < x->nh && !(x->hport[i] == port && x->hproto[i] == proto))
        i++;
    if (i == x->nh && x->nh < PORT_SLOTS) {
        x->hport[i] = port;
        x->hproto[i] = proto;
        x->nh++;
    }
    if (i < x->nh)
        x->hn[i]++;
    if (x->v.packets + 1 >= PORT_PICK)
        pick_port(x);
}

static int close_vec(fvec *x, ds_flood_fn fn, void *ctx)
{
    int rc = 0;
    if (x->reg && passes(x)) {
        pick_port(x);
        x->v.sources = hll_estimate(x->reg, x->hll_n);
        /* mostly "other" class (ACK, FIN, data): a flood only from random spoofed sources, at most
         * two packets each (hping3 -A --rand-source: 8,000 ACKs from 7,970).  Hosts keeping TCP
         * sessions with an address that is not dark (StopDDoS's amp.dns.RRSIG.fragmented
         * capture: 2,703 such packets from 178 hosts beside its reflection) are no flood. */
        int other = (uint64_t)x->v.kinds[3] * 2 > x->v.packets;
        if (!other || x->v.packets <= 2 * (uint64_t)x->v.sources)
            rc = fn(ctx, &x->v);
    }
    free(x->reg);
    x->reg = NULL;
    return rc;
}

/* Empty slot i and shift later members of its cluster back (Knuth, TAOCP vol. 3, 6.4, Algorithm
 * R), as core/scan.c does: no new table per expiry (the rehash it replaces, a calloc and a copy of
 * the whole table once an hour of capture, was 40% of the tracker's instructions). */
static void slot_delete(ds_floods *f, size_t i)
{
    size_t mask = f->cap - 1, j = i;
    f->t[i].used = 0;
    for (;;) {
        j = (j + 1) & mask;
        fvec *x = &f->t[j];
        if (!x->used)
            break;
        size_t home = (size_t)key_hash(&x->v.target, x->v.cls) & mask;
        /* x may move to i when its home is not cyclically within (i, j] */
        int stays = i <= j ? (home > i && home <= j) : (home > i || home <= j);
        if (stays)
            continue;
        f->t[i] = *x;
        x->used = 0;
        x->reg = NULL;
        i = j;
    }
    f->n--;
}

int ds_floods_expire(ds_floods *f, uint64_t now_ns, ds_flood_fn fn, void *ctx)
{
    int rc = 0;
    /* a slot refilled by the shift is looked at again; one refilled from the table's start (a
     * cluster that wraps) was looked at and kept already, and is kept again */
    for (size_t i = 0; i < f->cap;) {
        fvec *x = &f->t[i];
        if (!x->used || (now_ns != UINT64_MAX && x->v.end_ns + DS_FLOOD_TIMEOUT_NS > now_ns)) {
            i++;
            continue;
        }
        if (close_vec(x, fn, ctx) != 0)
            rc = -1;
        slot_delete(f, i);
    }
    return rc;
}

/* The port a packet is counted under, and its kind (flood.h). */
static void port_of(const ds_pkt *p, int cls, uint8_t *proto, uint16_t *port, int *kind)
{
    *proto = p->proto;
    *port = 0;
    if (p->proto == DS_PROTO_TCP || p->proto == DS_PROTO_UDP)
        *port = cls == DS_CLASS_BACKSCATTER ? p->sport : p->dport;
    else if (p->proto == DS_PROTO_ICMP || p->proto == DS_PROTO_ICMP6)
        *port = p->icmp_type;
    if (cls == DS_CLASS_OTHER)
        *kind = 3;
    else if (cls == DS_CLASS_SCAN)
        *kind = p->proto == DS_PROTO_TCP ? 0 : p->proto == DS_PROTO_UDP ? 1 : p->proto == DS_PROTO_ICMP || p->proto == DS_PROTO_ICMP6 ? 2 : 3;
    else
        *kind = p->proto == DS_PROTO_TCP ? ((p->tcp_flags & DS_TH_RST) ? 1 : 0) : p->proto == DS_PROTO_UDP ? 3 : 2;
}

int ds_floods_packet(ds_floods *f, int sensor, int32_t day, int pcls, const ds_pkt *p, ds_flood_fn fn, void *ctx)
{
    if (pcls != DS_CLASS_SCAN && pcls != DS_CLASS_BACKSCATTER && pcls != DS_CLASS_OTHER)
        return 0;
    int cls = pcls == DS_CLASS_OTHER ? DS_CLASS_SCAN : pcls;   /* one flood vector (flood.h) */
    uint64_t ts = p->ts_ns;
    size_t m = f->cap - 1, j = (size_t)key_hash(&p->dst, cls) & m;
    while (f->t[j].used && !(f->t[j].v.cls == cls && ds_ip_eq(&f->t[j].v.target, &p->dst)))
        j = (j + 1) & m;
    fvec *x = &f->t[j];
    int fresh = !x->used;
    if (x->used && ts > x->v.end_ns + DS_FLOOD_TIMEOUT_NS) {
        /* the common case on a quiet address: its vector never got registers, so it can't pass */
        if (x->reg && close_vec(x, fn, ctx) != 0)
            return -1;
        fresh = 1;
    } else if (!x->used && ++f->n * 2 > f->cap) {
        x->used = 1;   /* placed, so that the rehash keeps it */
        x->v.target = p->dst;
        x->v.cls = (uint8_t)cls;
        if (rehash(f, f->cap * 2) != 0)
            return -1;
        m = f->cap - 1;
        for (j = (size_t)key_hash(&p->dst, cls) & m; !(f->t[j].v.cls == cls && ds_ip_eq(&f->t[j].v.target, &p->dst));
             j = (j + 1) & m)
            ;
        x = &f->t[j];
    }
    uint8_t proto;
    uint16_t port;
    int kind;
    port_of(p, pcls, &proto, &port, &kind);
    if (fresh) {
        if (x->used && x->reg)
            free(x->reg);
        memset(x, 0, sizeof *x);
        x->used = 1;
        x->v.target = p->dst;
        x->v.cls = (uint8_t)cls;
        x->v.sensor = sensor;
        x->v.day = day;
        x->v.start_ns = x->v.end_ns = ts;
        x->bucket = ts / BUCKET_NS;
    }
    ds_flood_vec *v = &x->v;
    uint64_t b = ts / BUCKET_NS;
    if (b > x->bucket) {
        for (uint64_t s = 1; s <= b - x->bucket && s <= NBUCKETS; s++) {
            uint32_t *c = &x->counts[(x->bucket + s) % NBUCKETS];
            x->window -= *c;
            *c = 0;
        }
        x->bucket = b;
    }
    x->counts[x->bucket % NBUCKETS]++;
    x->window++;
    if (!x->reg && x->window >= HLL_FROM && !(x->reg = calloc(HLL_M, 1)))
        return -1;
    if (x->reg) {
        hll_add(x->reg, &p->src);
        x->hll_n++;
    }
    if (x->window > v->max_ppm) {
        v->max_ppm = x->window;
        /* the sources of the whole vector so far, checked when the window peaks (every 64 packets
         * of a rising window, to keep the estimate off the per-packet path) */
        if (x->reg && x->peak_sources < DS_FLOOD_MIN_SOURCES && (x->window & 63) == 0)
            x->peak_sources = hll_estimate(x->reg, x->hll_n);
    }
    if (ts < v->start_ns)
        v->start_ns = ts;
    if (ts > v->end_ns)
        v->end_ns = ts;
    count_port(x, proto, port);
    v->packets++;
    v->kinds[kind]++;
    return 0;
}
