/* dos.c: attack vectors from backscatter (see dos.h for the method and its sources).
 *
 * Each live vector keeps six 10-second buckets: the packets of the current 60 s window.  When a
 * packet falls in a later bucket, the buckets in between are emptied; the window's sum after
 * each packet is a candidate for the vector's peak, which is corsaro3's "60 s window sliding by
 * 10 s" measured at every packet instead of every 10 s (the same maximum, since the sum only
 * grows between slides).
 */
#include "core/dos.h"

#include <stdlib.h>
#include <string.h>

#include "core/hash.h"

#define BUCKET_NS (10ULL * 1000000000ULL)
#define NBUCKETS 6
#define NRESP 8                   /* distinct answers remembered (more than DS_DOS_MIN_RESPONSES) */
#define RESP_CAP 255              /* answers counted beyond the remembered ones, up to this */

typedef struct vec {
    ds_attack a;
    uint64_t bucket;              /* index of the newest bucket (ts / 10 s) */
    uint32_t counts[NBUCKETS];
    uint32_t window;              /* sum of counts */
    uint32_t resp[NRESP];         /* hashes of the first distinct answers */
    uint32_t hash;                /* low 32 bits of ip_hash(victim): its slot's tag */
} vec;

/* The victims: an open-addressing table (linear probing, grown at 50% load) of 8-byte slots,
 * (low 32 bits of the victim's hash) << 32 | (index + 1) into a dense array of vectors, 0 empty.
 * A probe compares tags and touches a vector only when its tag matches, and the hourly expiry
 * walks the slots (8 bytes each), not the vectors (about 170): with the vectors in the table
 * itself, a table grown to 16 k victims once made every later hour's walk 2.8 MB, and that walk
 * and the probes were 5% of an ingest of bench/gen_backscatter.c's mix.  The slots take the
 * positions the vectors took in that table (same hash, same probing, same deletion), so
 * vectors are closed, and attacks reported, in the same order as before. */
struct ds_dos {
    uint64_t *slot;
    size_t cap, n;                /* slots (a power of two), vectors */
    vec *v;
    size_t capv;
    uint32_t min_ppm;
};

uint32_t ds_dos_min_ppm(uint64_t telescope_v4)
{
    if (!telescope_v4 || telescope_v4 >= (1ULL << 24))
        return DS_DOS_MIN_PPM;
    uint64_t scaled = (DS_DOS_MIN_PPM * telescope_v4) >> 24;
    return scaled > DS_DOS_MIN_PPM_FLOOR ? (uint32_t)scaled : DS_DOS_MIN_PPM_FLOOR;
}

ds_dos *ds_dos_new(uint64_t telescope_v4)
{
    ds_dos *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    d->min_ppm = ds_dos_min_ppm(telescope_v4);
    d->cap = 256;
    d->capv = d->cap / 2;
    d->slot = calloc(d->cap, sizeof *d->slot);
    d->v = malloc(d->capv * sizeof *d->v);
    if (!d->slot || !d->v) {
        ds_dos_free(d);
        return NULL;
    }
    return d;
}

void ds_dos_free(ds_dos *d)
{
    if (!d)
        return;
    free(d->slot);
    free(d->v);
    free(d);
}

static const char *const KIND_NAMES[DS_ATK__COUNT] = {
    "SYN flood", "SYN flood (closed port) or TCP flood", "ping flood", "UDP flood", "TCP flood (ICMP errors)",
    "flood answered with other ICMP",
};

const char *ds_attack_kind_name(ds_attack_kind k) { return (unsigned)k < DS_ATK__COUNT ? KIND_NAMES[k] : "?"; }

int ds_attack_classify(const ds_pkt *p, ds_ip *victim, uint16_t *port, uint8_t *port_proto)
{
    *port = 0;
    *port_proto = 0;
    if (!(p->have & DS_HAVE_L4))
        return -1;
    if (p->proto == DS_PROTO_TCP) {
        *victim = p->src;
        *port = p->sport;
        *port_proto = DS_PROTO_TCP;
        if ((p->tcp_flags & (DS_TH_SYN | DS_TH_ACK)) == (DS_TH_SYN | DS_TH_ACK))
            return DS_ATK_SYNACK;
        return (p->tcp_flags & DS_TH_RST) ? DS_ATK_RST : -1;
    }
    int v6 = p->proto == DS_PROTO_ICMP6;
    if (p->proto != DS_PROTO_ICMP && !v6)
        return -1;
    if ((!v6 && p->icmp_type == 0) || (v6 && p->icmp_type == 129)) {
        *victim = p->src;
        return DS_ATK_ECHO_REPLY;
    }
    int error = v6 ? (p->icmp_type >= 1 && p->icmp_type <= 4)
                   : (p->icmp_type == 3 || p->icmp_type == 4 || p->icmp_type == 5 || p->icmp_type == 11 ||
                      p->icmp_type == 12);
    if (error) {
        if (!(p->have & DS_HAVE_INNER))
            return -1;   /* nothing quoted: the flood's target is unknown */
        *victim = p->inner_dst;
        int unreach = v6 ? p->icmp_type == 1 : p->icmp_type == 3;
        if (p->inner_proto == DS_PROTO_UDP || p->inner_proto == DS_PROTO_TCP) {
            *port = p->inner_dport;
            *port_proto = p->inner_proto;
        }
        if (unreach && p->inner_proto == DS_PROTO_UDP)
            return DS_ATK_UNREACH_UDP;
        if (unreach && p->inner_proto == DS_PROTO_TCP)
            return DS_ATK_UNREACH_TCP;
        return DS_ATK_ICMP_OTHER;
    }
    /* timestamp, information and address-mask replies */
    *victim = p->src;
    return DS_ATK_ICMP_OTHER;
}

static uint64_t ip_hash(const ds_ip *ip)
{
    uint64_t a, b;
    memcpy(&a, ip->b, 8);
    memcpy(&b, ip->b + 8, 8);
    return ds_mix64(a ^ ds_mix64(b ^ ip->v6));
}

static int passes(const ds_dos *d, const ds_attack *a)
{
    return a->packets >= DS_DOS_MIN_PACKETS && a->end_ns - a->start_ns >= DS_DOS_MIN_DURATION_NS &&
           a->max_ppm >= d->min_ppm && a->responses >= DS_DOS_MIN_RESPONSES;
}

static inline uint32_t slot_home(uint64_t s) { return (uint32_t)(s >> 32); }
static inline size_t slot_index(uint64_t s) { return (size_t)(uint32_t)s - 1; }

/* Grow the slots to cap, re-inserted in slot order (expiry deletes in place: slot_delete). */
static int rehash(ds_dos *d, size_t cap)
{
    uint64_t *n = calloc(cap, sizeof *n);
    if (!n)
        return -1;
    for (size_t i = 0; i < d->cap; i++) {
        if (!d->slot[i])
            continue;
        size_t j = slot_home(d->slot[i]) & (cap - 1);
        while (n[j])
            j = (j + 1) & (cap - 1);
        n[j] = d->slot[i];
    }
    free(d->slot);
    d->slot = n;
    d->cap = cap;
    return 0;
}

/* Empty slot i and shift later members of its cluster back (Knuth, TAOCP vol. 3, 6.4, Algorithm
 * R), as core/flood.c and core/scan.c do.  The hourly expiry used to rebuild the whole table into
 * a second array instead: a memset of the table and a re-insert of every live vector each hour,
 * 4-5% of an ingest of bench/gen_backscatter.c's mix, where the table holds thousands of victims. */
static void slot_delete(ds_dos *d, size_t i)
{
    size_t mask = d->cap - 1, j = i;
    d->slot[i] = 0;
    for (;;) {
        j = (j + 1) & mask;
        uint64_t x = d->slot[j];
        if (!x)
            break;
        size_t home = slot_home(x) & mask;
        /* x may move to i when its home is not cyclically within (i, j] */
        int stays = i <= j ? (home > i && home <= j) : (home > i || home <= j);
        if (stays)
            continue;
        d->slot[i] = x;
        d->slot[j] = 0;
        i = j;
    }
}

/* Drop the vector of slot i: the slot, and the vector (the last one moves into its place). */
static void vec_delete(ds_dos *d, size_t i)
{
    size_t idx = slot_index(d->slot[i]), last = d->n - 1;
    slot_delete(d, i);
    d->n--;
    if (idx == last)
        return;
    d->v[idx] = d->v[last];
    size_t mask = d->cap - 1, j = d->v[idx].hash & mask;
    while (d->slot[j] != ((uint64_t)d->v[idx].hash << 32 | (last + 1)))
        j = (j + 1) & mask;
    d->slot[j] = (uint64_t)d->v[idx].hash << 32 | (idx + 1);
}

int ds_dos_expire(ds_dos *d, uint64_t now_ns, ds_attack_fn fn, void *ctx)
{
    int rc = 0;
    /* a slot refilled by the shift is looked at again; one refilled from the table's start (a
     * cluster that wraps) was looked at and kept already, and is kept again */
    for (size_t i = 0; i < d->cap;) {
        if (!d->slot[i]) {
            i++;
            continue;
        }
        vec *x = &d->v[slot_index(d->slot[i])];
        if (now_ns != UINT64_MAX && x->a.end_ns + DS_DOS_TIMEOUT_NS > now_ns) {
            i++;
            continue;
        }
        if (passes(d, &x->a) && fn(ctx, &x->a) != 0)
            rc = -1;
        vec_delete(d, i);
    }
    return rc;
}

static void vec_start(vec *x, const ds_ip *victim, int sensor, int32_t day, uint64_t ts)
{
    uint32_t hash = x->hash;
    memset(x, 0, sizeof *x);
    x->hash = hash;
    x->a.victim = *victim;
    x->a.sensor = sensor;
    x->a.day = day;
    x->a.start_ns = x->a.end_ns = ts;
    x->bucket = ts / BUCKET_NS;
}

/* What makes one answer differ from another's retransmission (see dos.h); never 0. */
static uint32_t answer_hash(const ds_pkt *p)
{
    uint64_t a, b;
    memcpy(&a, p->dst.b, 8);
    memcpy(&b, p->dst.b + 8, 8);
    uint64_t k = p->proto == DS_PROTO_TCP
                     ? ((uint64_t)p->tcp_seq << 32 | p->tcp_ack)
                     : ((uint64_t)p->inner_sport << 48 | (uint64_t)p->inner_dport << 32 | p->ip_id);
    uint64_t h = ds_mix64(a ^ ds_mix64(b ^ ds_mix64(k ^ p->proto)));
    uint32_t r = (uint32_t)(h >> 32);
    return r ? r : 1;
}

/* Count p's answer when it is new (up to NRESP remembered; beyond them every packet that differs
 * from those counts, which only matters above the threshold). */
static void count_answer(vec *x, const ds_pkt *p)
{
    uint32_t h = answer_hash(p);
    for (int i = 0; i < NRESP; i++) {
        if (x->resp[i] == h)
            return;
        if (!x->resp[i]) {
            x->resp[i] = h;
            x->a.responses++;
            return;
        }
    }
    if (x->a.responses < RESP_CAP)
        x->a.responses++;
}

int ds_dos_packet(ds_dos *d, int sensor, int32_t day, const ds_pkt *p, ds_attack_fn fn, void *ctx)
{
    ds_ip victim;
    uint16_t port;
    uint8_t proto;
    int kind = ds_attack_classify(p, &victim, &port, &proto);
    if (kind < 0)
        return 0;
    uint64_t ts = p->ts_ns;
    uint32_t h = (uint32_t)ip_hash(&victim);
    size_t m = d->cap - 1, j = h & m;
    vec *x = NULL;
    for (uint64_t s; (s = d->slot[j]) != 0; j = (j + 1) & m) {
        if (slot_home(s) == h && ds_ip_eq(&d->v[slot_index(s)].a.victim, &victim)) {
            x = &d->v[slot_index(s)];
            break;
        }
    }
    if (x && ts > x->a.end_ns + DS_DOS_TIMEOUT_NS) {   /* the old vector ended: report it */
        if (passes(d, &x->a) && fn(ctx, &x->a) != 0)
            return -1;
        vec_start(x, &victim, sensor, day, ts);
    } else if (!x) {
        if (d->n >= UINT32_MAX - 1)   /* an index + 1 fits the slot's low half */
            return -1;
        if (d->n == d->capv) {
            vec *nv = realloc(d->v, d->capv * 2 * sizeof *nv);
            if (!nv)
                return -1;
            d->v = nv;
            d->capv *= 2;
        }
        x = &d->v[d->n];
        x->hash = h;
        vec_start(x, &victim, sensor, day, ts);
        d->slot[j] = (uint64_t)h << 32 | ++d->n;
        if (d->n * 2 > d->cap && rehash(d, d->cap * 2) != 0)
            return -1;
    }
    ds_attack *a = &x->a;
    /* slide the window to this packet's bucket (a packet out of order counts in the newest) */
    uint64_t b = ts / BUCKET_NS;
    if (b > x->bucket) {
        uint64_t steps = b - x->bucket;
        for (uint64_t s = 1; s <= steps && s <= NBUCKETS; s++) {
            uint32_t *c = &x->counts[(x->bucket + s) % NBUCKETS];
            x->window -= *c;
            *c = 0;
        }
        x->bucket = b;
    }
    x->counts[x->bucket % NBUCKETS]++;
    x->window++;
    if (x->window > a->max_ppm)
        a->max_ppm = x->window;
    if (ts < a->start_ns)
        a->start_ns = ts;
    if (ts > a->end_ns)
        a->end_ns = ts;
    if (!a->packets) {
        a->port = port;
        a->port_proto = proto;
    }
    if (proto == a->port_proto && port == a->port)
        a->port_packets++;
    a->packets++;
    a->kind_packets[kind]++;
    count_answer(x, p);
    return 0;
}
