/* agg.c: aggregation tables for one worker thread.
 *
 * Design.  Every classified packet updates three open-addressing hash tables (linear probing,
 * power-of-two arrays, grown at 50% load):
 *
 *   sources  (sensor, day, address) -> packets, first/last seen, classes, country, ASN, and the
 *            destinations reached.  Entries are one 64-byte cache line each, in a dense array; the
 *            probe array holds (hash high bits | index) so most misses never touch an entry.
 *            Country and ASN are looked up once, when a source is first seen that day.
 *   srcsvc   (source index, class, service) -> packets
 *   hourly   (UTC hour, local day, sensor, dimension, class, service or country) -> packets
 *
 * Destinations: an entry holds the map bit of its first destination; a 512-bit map is taken from
 * a side pool only when a second, different destination arrives.  About 40% of a darknet's
 * source-days reach one address, and keeping the 64-byte map out of the entry halves the memory
 * every packet touches.
 *
 * Only a live window is kept.  Captures arrive in time order, so when the clock passes into a
 * new hour, hourly entries older than the previous hour are retired, and when it passes into a
 * new day, sources (and their srcsvc entries) older than the previous day are retired: encoded
 * once into append-only record buffers per (sensor, day), and dropped from the tables.  The
 * tables therefore hold at most two hours and two days, stay in cache for ordinary telescopes,
 * and bound memory by a day's distinct sources, not a file's.  A packet older than the window
 * still counts: it simply opens a new entry, and its record is merged with the earlier one by
 * the readers, which already sum packets and take set unions across chunks.
 *
 * Day slabs.  The sources and srcsvc tables are kept per local day (a dayslab, for every sensor):
 * a srcsvc key holds the source's index in its own day's slab, so retiring a day encodes that
 * slab and empties it in place, and the day kept is never walked nor re-keyed.  (With one table
 * for the whole window, each retirement walked the whole srcsvc capacity four times and
 * re-inserted the surviving day's entries under new keys: 17% of an ingest of backscatter to
 * random ports, where nearly every packet is an entry of its own.)  Retired slabs keep their
 * arrays for the next day.
 *
 * The destination map: when the sensor monitors at most 512 IPv4 addresses, bit i is address
 * i of the sensor, so the distinct-destination count is exact; otherwise bit = hash(dst) mod 512
 * and the count is a linear-counting estimate.  Maps merge by OR.
 *
 * Closing.  Once a (sensor, day) can receive nothing more (its sources and its hours are all
 * retired, i.e. it is two days behind the clock), its record buffers are compressed into zstd
 * frames and the raw buffers are reused for the next day.  The file's records then sit in memory
 * compressed, the same few raw buffers stay warm in cache instead of a file's worth of fresh pages
 * being faulted in, and with --threads N the compression runs in the N threads, not at commit.
 * A packet that arrives after its day was closed opens a second group for that day.
 *
 * Detectors fed from here: backscatter packets go to the DoS vectors (core/dos.h), scan-class
 * packets to the scan flows (core/scan.h); both write their records into the group of the day
 * the attack or scan started.  Packets with a payload to a (protocol, port) of the payload-tool
 * table (core/payload.h) are matched against it, and the hits join the header fingerprints in
 * the source's tool bits.
 */
#include "core/agg.h"
#include "core/dos.h"
#include "core/flood.h"
#include "core/fingerprint.h"
#include "core/hash.h"
#include "core/payload.h"
#include "core/scan.h"

#include <stdlib.h>
#include <string.h>
#include <zstd.h>

typedef struct src_ent {
    ds_ip ip;
    uint8_t class_mask;
    uint16_t sensor;
    int32_t day;
    char cc[2];
    uint16_t dst1;          /* map bit + 1 of the first destination */
    uint32_t asn;
    uint32_t map;           /* index + 1 into the map pool once a second destination arrived */
    uint8_t tool_hit;       /* DS_TOOL_* fingerprints some packet matched */
    /* Packets ZMap's (UDP, ICMP echo) and the SYN fingerprints applied to before the first ZMap,
     * Masscan or Nmap match, saturating; from that match on, tcnt[index] counts (TOOL_COUNTED). */
    uint8_t pre_other;
    uint16_t pre_syn;
    uint64_t packets, first_ns, last_ns;
} src_ent;
_Static_assert(sizeof(src_ent) == 64, "a source entry is one cache line");

typedef struct dstmap { uint8_t bits[DS_DSTMAP_BYTES]; } dstmap;

/* Sources with these bits in tool_hit have their share counts in tcnt (core/fingerprint.h). */
#define TOOL_COUNTED (DS_TOOL_ZMAP | DS_TOOL_MASSCAN | DS_TOOL_NMAP)

/* (source, class, service) -> packets, and the source port when every packet had the same one.
 * packets == 0: empty slot.  Bit-fields keep the entry at 16 bytes, a quarter of a cache line. */
typedef struct svc_ent {
    uint64_t key;
    uint64_t packets : 46;
    uint64_t has_port : 1;   /* the first packet had a source port (TCP/UDP) */
    uint64_t mixed : 1;      /* a later packet came from another port (or had none) */
    uint64_t sport : 16;
} svc_ent;
typedef struct hour_ent { uint64_t k1, k2; uint32_t k3, rsv; uint64_t packets; } hour_ent;

typedef struct outbuf { uint8_t *p; size_t len, cap; } outbuf;

/* Records retired for one (sensor, day): one buffer per chunk kind. */
typedef struct group {
    int sensor;
    int32_t day;
    outbuf kind[DS_CHUNK__END];   /* indexed by ds_chunk_kind: raw records while open */
    size_t nrec[DS_CHUNK__END];
    uint8_t *z[DS_CHUNK__END];    /* zstd frames once closed */
    size_t zlen[DS_CHUNK__END];
    int closed;
} group;

/* The sources of one local day (of every sensor) and their srcsvc entries: a day retires as a
 * whole, so its tables are encoded and emptied in place, and the other days' entries are never
 * touched (nor re-keyed).  Retired slabs keep their arrays for the next day: allocating fresh
 * zeroed tables made page faults a fifth of the ingest time. */
typedef struct dayslab {
    int32_t day;
    int live;
    src_ent *src; size_t nsrc, capsrc;      /* dense entries, 64-byte aligned */
    ds_tool_counts *tcnt;                   /* [capsrc]: written only for TOOL_COUNTED sources */
    dstmap *maps; size_t nmaps, capmaps;    /* destination maps of multi-destination sources */
    uint64_t *slot; size_t capslot;         /* (hash >> 32) << 32 | (index + 1); 0 empty */
    svc_ent *svc; size_t nsvc, capsvc;      /* keyed by (index in this slab, class, service) */
} dayslab;

struct ds_agg {
    ds_agg_conf conf;
    uint8_t *exact_dst;

    dayslab *slabs; size_t nslabs;          /* live days and spare (retired) slabs */
    size_t last_slab; uint32_t last_idx; int have_last;
    void *scratch; size_t capscratch;       /* retire_slab's work arrays */

    hour_ent *hr; size_t nhr, caphr;        /* dense entries */
    uint32_t *hslot; size_t caphslot;       /* index + 1 into hr; 0 empty */

    uint32_t hour_max, hour_min;            /* newest hour seen; oldest live hourly entry */
    int32_t day_max, day_min;               /* the same for live sources */

    group *groups; size_t ngroups, capgroups;
    ZSTD_CCtx *zc;
    ds_dos *dos;                            /* attack vectors from backscatter (core/dos.h) */
    ds_floods *floods;                      /* floods and reflections at dark addresses (core/flood.h) */
    ds_scans *scans;                        /* scan flows (core/scan.h) */
    outbuf spare[16]; size_t nspare;        /* raw buffers of closed groups, for reuse */
    uint64_t *gkey; uint32_t *gid; size_t capg;   /* (sensor, day) -> group index + 1 */

    ds_agg_counts *counts;                  /* [nsensors + 1]; [0] = unattributed */
};

static void slab_free(dayslab *d);

static inline uint64_t src_hash(int sensor, int32_t day, const ds_ip *ip)
{
    uint64_t a, b;
    memcpy(&a, ip->b, 8);
    memcpy(&b, ip->b + 8, 8);
    return ds_mix64(a ^ ds_mix64(b ^ ((uint64_t)(uint16_t)sensor << 40) ^ ((uint64_t)ip->v6 << 39) ^ (uint32_t)day));
}

ds_agg *ds_agg_new(const ds_agg_conf *conf)
{
    ds_agg *a = calloc(1, sizeof *a);
    if (!a)
        return NULL;
    a->conf = *conf;
    a->exact_dst = calloc(conf->nsensors + 1, 1);
    a->counts = calloc(conf->nsensors + 1, sizeof *a->counts);
    a->caphr = 2048;
    a->caphslot = 4096;
    a->dos = ds_dos_new(conf->telescope_v4);
    a->floods = ds_floods_new();
    a->scans = ds_scans_new(conf->scan_min_addresses, conf->scan_timeout_s, conf->sensor_v4, conf->nsensors);
    a->hr = malloc(a->caphr * sizeof *a->hr);
    a->hslot = calloc(a->caphslot, sizeof *a->hslot);
    if (!a->exact_dst || !a->counts || !a->hr || !a->hslot || !a->dos || !a->floods ||
        !a->scans) {
        ds_agg_free(a);
        return NULL;
    }
    if (conf->exact_dst)
        memcpy(a->exact_dst, conf->exact_dst, conf->nsensors);
    a->conf.exact_dst = a->exact_dst;
    a->hour_min = UINT32_MAX;
    a->day_min = INT32_MAX;
    a->day_max = INT32_MIN;
    return a;
}

void ds_agg_free(ds_agg *a)
{
    if (!a)
        return;
    free(a->exact_dst);
    free(a->counts);
    for (size_t i = 0; i < a->nslabs; i++)
        slab_free(&a->slabs[i]);
    free(a->slabs);
    free(a->scratch);
    free(a->hr);
    free(a->hslot);
    for (size_t g = 0; g < a->ngroups; g++)
        for (int k = 0; k < DS_CHUNK__END; k++) {
            free(a->groups[g].kind[k].p);
            free(a->groups[g].z[k]);
        }
    for (size_t i = 0; i < a->nspare; i++)
        free(a->spare[i].p);
    ZSTD_freeCCtx(a->zc);
    ds_dos_free(a->dos);
    ds_floods_free(a->floods);
    ds_scans_free(a->scans);
    free(a->groups);
    free(a->gkey);
    free(a->gid);
    free(a);
}

size_t ds_agg_memory(const ds_agg *a)
{
    size_t n = a->capscratch + a->nslabs * sizeof *a->slabs + a->caphr * sizeof *a->hr + a->caphslot * sizeof *a->hslot + a->capgroups * sizeof *a->groups +
               ds_scans_memory(a->scans);
    for (size_t g = 0; g < a->ngroups; g++)
        for (int k = 0; k < DS_CHUNK__END; k++)
            n += a->groups[g].kind[k].cap + a->groups[g].zlen[k];
    for (size_t i = 0; i < a->nspare; i++)
        n += a->spare[i].cap;
    for (size_t i = 0; i < a->nslabs; i++) {
        const dayslab *d = &a->slabs[i];
        n += d->capsrc * (sizeof *d->src + sizeof *d->tcnt) + d->capmaps * sizeof *d->maps +
             d->capslot * sizeof *d->slot + d->capsvc * sizeof *d->svc;
    }
    return n;
}

/* ---- sources ----------------------------------------------------------------------------- */

static void slab_free(dayslab *d)
{
    free(d->src);
    free(d->tcnt);
    free(d->maps);
    free(d->slot);
    free(d->svc);
    memset(d, 0, sizeof *d);
}

/* The live slab of `day`, taking a spare one (or a new one) when the day has none; its index in
 * a->slabs, or -1 when memory runs out.  A linear scan: captures in time order keep two or three
 * days live (a late packet of an older day opens one more until the next day retires it). */
static long slab_of(ds_agg *a, int32_t day)
{
    size_t spare = SIZE_MAX;
    for (size_t i = 0; i < a->nslabs; i++) {
        if (a->slabs[i].live && a->slabs[i].day == day)
            return (long)i;
        if (!a->slabs[i].live && spare == SIZE_MAX)
            spare = i;
    }
    if (spare == SIZE_MAX) {
        dayslab *n = realloc(a->slabs, (a->nslabs + 1) * sizeof *n);
        if (!n)
            return -1;
        a->slabs = n;
        spare = a->nslabs++;
        memset(&a->slabs[spare], 0, sizeof a->slabs[spare]);
    }
    dayslab *d = &a->slabs[spare];
    if (!d->src) {   /* new, or freed by retire_days */
        d->capsrc = 1024;
        d->capslot = 2048;
        d->capmaps = 256;
        d->capsvc = 4096;
        d->src = aligned_alloc(64, d->capsrc * sizeof *d->src);
        d->tcnt = malloc(d->capsrc * sizeof *d->tcnt);
        d->maps = malloc(d->capmaps * sizeof *d->maps);
        d->slot = calloc(d->capslot, sizeof *d->slot);
        d->svc = calloc(d->capsvc, sizeof *d->svc);
        if (!d->src || !d->tcnt || !d->maps || !d->slot || !d->svc) {
            slab_free(d);
            return -1;
        }
    }
    d->live = 1;
    d->day = day;
    return (long)spare;
}

static int slot_grow(dayslab *d)
{
    size_t cap = d->capslot * 2;
    uint64_t *ns = calloc(cap, sizeof *ns);
    if (!ns)
        return -1;
    for (size_t i = 0; i < d->nsrc; i++) {
        const src_ent *e = &d->src[i];
        uint64_t h = src_hash(e->sensor, e->day, &e->ip);
        size_t j = (size_t)h & (cap - 1);
        while (ns[j])
            j = (j + 1) & (cap - 1);
        ns[j] = (h >> 32 << 32) | (uint64_t)(i + 1);
    }
    free(d->slot);
    d->slot = ns;
    d->capslot = cap;
    return 0;
}

/* Index of (sensor, day, ip) in d (the slab of day), inserting a fresh entry when absent; -1 on
 * allocation failure. */
static long src_find(dayslab *d, int sensor, int32_t day, const ds_ip *ip, int *created)
{
    uint64_t h = src_hash(sensor, day, ip);
    uint64_t tag = h >> 32 << 32;
    size_t mask = d->capslot - 1, j = (size_t)h & mask;
    *created = 0;
    for (;;) {
        uint64_t s = d->slot[j];
        if (!s)
            break;
        if ((s & 0xffffffff00000000ULL) == tag) {
            size_t idx = (size_t)(uint32_t)s - 1;
            const src_ent *e = &d->src[idx];
            if (e->sensor == (uint16_t)sensor && ds_ip_eq(&e->ip, ip))
                return (long)idx;
        }
        j = (j + 1) & mask;
    }
    if (d->nsrc >= 0xfffffffeu)
        return -1;
    if (d->nsrc == d->capsrc) {   /* realloc would not keep the alignment */
        src_ent *n = aligned_alloc(64, d->capsrc * 2 * sizeof *n);
        ds_tool_counts *tc = n ? realloc(d->tcnt, d->capsrc * 2 * sizeof *tc) : NULL;
        if (!tc) {
            free(n);
            return -1;
        }
        d->tcnt = tc;
        memcpy(n, d->src, d->nsrc * sizeof *n);
        free(d->src);
        d->src = n;
        d->capsrc *= 2;
    }
    size_t idx = d->nsrc++;
    src_ent *e = &d->src[idx];
    memset(e, 0, sizeof *e);
    e->ip = *ip;
    e->sensor = (uint16_t)sensor;
    e->day = day;
    e->cc[0] = 'Z';
    e->cc[1] = 'Z';
    d->slot[j] = tag | (uint64_t)(idx + 1);
    *created = 1;
    if (d->nsrc * 2 > d->capslot && slot_grow(d) != 0)
        return -1;
    return (long)idx;
}

/* ---- srcsvc and hourly ------------------------------------------------------------------- */

static int svc_grow(dayslab *d)
{
    size_t cap = d->capsvc * 2;
    svc_ent *n = calloc(cap, sizeof *n);
    if (!n)
        return -1;
    for (size_t i = 0; i < d->capsvc; i++) {
        if (!d->svc[i].packets)
            continue;
        size_t j = (size_t)ds_mix64(d->svc[i].key) & (cap - 1);
        while (n[j].packets)
            j = (j + 1) & (cap - 1);
        n[j] = d->svc[i];
    }
    free(d->svc);
    d->svc = n;
    d->capsvc = cap;
    return 0;
}

static inline uint64_t svc_key(uint32_t src_idx, ds_class cls, ds_service svc)
{
    return (uint64_t)src_idx << 32 | (uint64_t)cls << 24 | (svc & 0xffffffu);
}

/* One packet of (source, class, service); sport < 0: the packet has no source port. */
static int svc_add(dayslab *d, uint64_t key, int sport)
{
    size_t mask = d->capsvc - 1, j = (size_t)ds_mix64(key) & mask;
    while (d->svc[j].packets) {
        svc_ent *s = &d->svc[j];
        if (s->key == key) {
            if (s->packets < (1ULL << 46) - 1)   /* 7e13 packets a day from one source: saturate */
                s->packets++;
            if (sport != (s->has_port ? (int)s->sport : -1))
                s->mixed = 1;
            return 0;
        }
        j = (j + 1) & mask;
    }
    d->svc[j].key = key;
    d->svc[j].packets = 1;
    d->svc[j].has_port = sport >= 0;
    d->svc[j].mixed = 0;
    d->svc[j].sport = sport >= 0 ? (uint16_t)sport : 0;
    if (++d->nsvc * 2 > d->capsvc)
        return svc_grow(d);
    return 0;
}

static const svc_ent *svc_get(const dayslab *d, uint64_t key)
{
    size_t mask = d->capsvc - 1, j = (size_t)ds_mix64(key) & mask;
    while (d->svc[j].packets) {
        if (d->svc[j].key == key)
            return &d->svc[j];
        j = (j + 1) & mask;
    }
    return NULL;
}

static inline uint64_t hr_hash(uint64_t k1, uint64_t k2, uint32_t k3)
{
    return ds_mix64(k1 ^ ds_mix64(k2 ^ ((uint64_t)k3 << 7)));
}

/* Rebuild the index over the dense hourly entries (after growth or a retire). */
static void hr_reindex(ds_agg *a)
{
    memset(a->hslot, 0, a->caphslot * sizeof *a->hslot);
    size_t m = a->caphslot - 1;
    for (size_t i = 0; i < a->nhr; i++) {
        const hour_ent *e = &a->hr[i];
        size_t j = (size_t)hr_hash(e->k1, e->k2, e->k3) & m;
        while (a->hslot[j])
            j = (j + 1) & m;
        a->hslot[j] = (uint32_t)(i + 1);
    }
}

static int hr_add(ds_agg *a, uint64_t k1, uint64_t k2, uint32_t k3, uint64_t n)
{
    size_t mask = a->caphslot - 1, j = (size_t)hr_hash(k1, k2, k3) & mask;
    uint32_t s;
    while ((s = a->hslot[j])) {
        hour_ent *e = &a->hr[s - 1];
        if (e->k1 == k1 && e->k2 == k2 && e->k3 == k3) {
            e->packets += n;
            return 0;
        }
        j = (j + 1) & mask;
    }
    if (a->nhr == a->caphr) {
        hour_ent *nh = realloc(a->hr, a->caphr * 2 * sizeof *nh);
        if (!nh)
            return -1;
        a->hr = nh;
        a->caphr *= 2;
    }
    a->hr[a->nhr] = (hour_ent){ k1, k2, k3, 0, n };
    a->hslot[j] = (uint32_t)++a->nhr;
    if (a->nhr * 2 > a->caphslot) {
        uint32_t *ns = malloc(a->caphslot * 2 * sizeof *ns);
        if (!ns)
            return -1;
        free(a->hslot);
        a->hslot = ns;
        a->caphslot *= 2;
        hr_reindex(a);
    }
    return 0;
}

/* hourly key: k1 = hour | day, k2 = sensor | dimension | class, k3 = service or packed country */
static inline uint64_t hr_k1(uint32_t hour, int32_t day) { return (uint64_t)hour << 32 | (uint32_t)day; }
static inline uint64_t hr_k2(int sensor, int dim, ds_class cls)
{
    return (uint64_t)(uint16_t)sensor << 32 | (uint64_t)(uint8_t)dim << 8 | (uint8_t)cls;
}

/* ---- retired records ---------------------------------------------------------------- */

static group *group_of(ds_agg *a, int sensor, int32_t day)
{
    uint64_t key = (uint64_t)(uint16_t)sensor << 32 | (uint32_t)day;
    if ((a->ngroups + 1) * 2 > a->capg) {
        size_t cap = a->capg ? a->capg * 2 : 64;
        uint64_t *nk = calloc(cap, sizeof *nk);
        uint32_t *ni = calloc(cap, sizeof *ni);
        if (!nk || !ni) {
            free(nk);
            free(ni);
            return NULL;
        }
        for (size_t i = 0; i < a->capg; i++) {
            if (!a->gid[i])
                continue;
            size_t j = (size_t)ds_mix64(a->gkey[i]) & (cap - 1);
            while (ni[j])
                j = (j + 1) & (cap - 1);
            nk[j] = a->gkey[i];
            ni[j] = a->gid[i];
        }
        free(a->gkey);
        free(a->gid);
        a->gkey = nk;
        a->gid = ni;
        a->capg = cap;
    }
    size_t m = a->capg - 1, j = (size_t)ds_mix64(key) & m;
    while (a->gid[j]) {
        if (a->gkey[j] == key) {
            if (!a->groups[a->gid[j] - 1].closed)
                return &a->groups[a->gid[j] - 1];
            break;   /* closed: a late record opens a new group for the day, found here from now on */
        }
        j = (j + 1) & m;
    }
    if (a->ngroups == a->capgroups) {
        size_t cap = a->capgroups ? a->capgroups * 2 : 16;
        group *ng = realloc(a->groups, cap * sizeof *ng);
        if (!ng)
            return NULL;
        a->groups = ng;
        a->capgroups = cap;
    }
    group *g = &a->groups[a->ngroups];
    memset(g, 0, sizeof *g);
    g->sensor = sensor;
    g->day = day;
    a->gkey[j] = key;
    a->gid[j] = (uint32_t)++a->ngroups;
    return g;
}

/* Room for one more record of `kind` in g; NULL when memory runs out. */
static uint8_t *group_rec(ds_agg *a, group *g, int kind)
{
    outbuf *b = &g->kind[kind];
    size_t rs = ds_rec_size(kind);
    if (!b->cap && a->nspare) {   /* a warm buffer of a closed group */
        *b = a->spare[--a->nspare];
        b->len = 0;
    }
    if (rs > b->cap - b->len) {
        size_t cap = b->cap ? b->cap * 2 : rs * 256;
        uint8_t *np = realloc(b->p, cap);
        if (!np)
            return NULL;
        b->p = np;
        b->cap = cap;
    }
    uint8_t *r = b->p + b->len;
    b->len += rs;
    g->nrec[kind]++;
    return r;
}

/* Compress an open group's records into zstd frames and keep its raw buffers for reuse. */
static int close_group(ds_agg *a, group *g)
{
    if (g->closed)
        return 0;
    if (!a->zc && !(a->zc = ZSTD_createCCtx()))
        return -1;
    for (int k = 1; k < DS_CHUNK__END; k++) {
        outbuf *b = &g->kind[k];
        if (g->nrec[k]) {
            size_t bound = ZSTD_compressBound(b->len);
            uint8_t *z = malloc(bound);
            if (!z)
                return -1;
            size_t zl = ZSTD_compressCCtx(a->zc, z, bound, b->p, b->len, DS_CHUNK_ZSTD_LEVEL);
            if (ZSTD_isError(zl)) {
                free(z);
                return -1;
            }
            uint8_t *shrunk = realloc(z, zl);
            g->z[k] = shrunk ? shrunk : z;
            g->zlen[k] = zl;
        }
        if (b->cap && a->nspare < sizeof a->spare / sizeof a->spare[0]) {
            a->spare[a->nspare++] = *b;
        } else {
            free(b->p);
        }
        memset(b, 0, sizeof *b);
    }
    g->closed = 1;
    return 0;
}

/* Close every open group of a day before `before`: nothing more can reach them. */
static int close_groups(ds_agg *a, int32_t before)
{
    for (size_t i = 0; i < a->ngroups; i++)
        if (!a->groups[i].closed && a->groups[i].day < before && close_group(a, &a->groups[i]) != 0)
            return -1;
    return 0;
}

/* Retire hourly entries of hours before `keep_from`: encode them, compact the keepers, and
 * rebuild the small index.  Touches only live entries, so an hourly retire costs the hour's
 * entries, not the table's capacity. */
static int retire_hours(ds_agg *a, uint32_t keep_from)
{
    if (a->hour_min >= keep_from)
        return 0;
    int rc = 0;
    size_t w = 0;
    a->hour_min = UINT32_MAX;
    for (size_t i = 0; i < a->nhr; i++) {
        const hour_ent *h = &a->hr[i];
        uint32_t hour = (uint32_t)(h->k1 >> 32);
        if (hour >= keep_from) {
            if (hour < a->hour_min)
                a->hour_min = hour;
            a->hr[w++] = *h;
            continue;
        }
        group *g = group_of(a, (int)(uint16_t)(h->k2 >> 32), (int32_t)(uint32_t)h->k1);
        ds_rec_hourly r = { .hour = hour, .key = h->k3, .dim = (uint8_t)(h->k2 >> 8), .cls = (uint8_t)h->k2 };
        /* a count above 2^32-1 (never in practice) is split over several records: readers sum */
        for (uint64_t left = h->packets; left; left -= r.packets) {
            uint8_t *p = g ? group_rec(a, g, DS_CHUNK_HOURLY) : NULL;
            if (!p) {
                rc = -1;
                break;
            }
            r.packets = left > UINT32_MAX ? UINT32_MAX : (uint32_t)left;
            ds_rec_hourly_put(p, &r);
        }
    }
    a->nhr = w;
    hr_reindex(a);
    return rc;
}

/* Distinct destination map bits of a source (exact for small sensors, see the design note). */
static uint32_t destinations(const dayslab *d, const src_ent *e)
{
    if (!e->map)
        return e->dst1 ? 1 : 0;
    return ds_dstmap_bits(d->maps[e->map - 1].bits);
}

/* Room for `bytes` of work arrays; NULL when memory runs out. */
static void *scratch(ds_agg *a, size_t bytes)
{
    if (bytes > a->capscratch) {
        free(a->scratch);
        a->capscratch = 0;
        if (!(a->scratch = malloc(bytes)))
            return NULL;
        a->capscratch = bytes;
    }
    return a->scratch;
}

/* Runs of at most this many srcsvc entries of one source are checked for a service seen in
 * another class by comparing them with each other (in cache); longer runs probe the table. */
#define DUP_SCAN_MAX 32

/* Encode every source of slab d with its srcsvc entries, and empty the slab for reuse.  Touches
 * the day's own entries only: its srcsvc table is read once, in slot order. */
static int retire_slab(ds_agg *a, dayslab *d)
{
    int rc = 0;
    size_t n = d->nsrc;
    /* work arrays: the day's srcsvc entries sorted by source (a counting sort on the source
     * index), where each source's entries start, its distinct services, its tool bits */
    svc_ent *sorted = scratch(a, d->nsvc * sizeof(svc_ent) + (n + 1) * (2 * sizeof(uint32_t) + 1));
    if (!sorted)
        return -1;
    uint32_t *start = (uint32_t *)(sorted + d->nsvc);   /* [n + 1] */
    uint32_t *svc_count = start + n + 1;                /* [n] */
    uint8_t *tools = (uint8_t *)(svc_count + n);        /* [n]: decided once, for SOURCES and SRCSVC */
    memset(start, 0, (n + 1) * sizeof *start);
    for (size_t i = 0; i < d->capsvc; i++)
        if (d->svc[i].packets)
            start[(d->svc[i].key >> 32) + 1]++;
    for (size_t i = 0; i < n; i++)
        start[i + 1] += start[i];
    for (size_t i = 0; i < d->capsvc; i++)   /* start[si] ends at the next source's start */
        if (d->svc[i].packets)
            sorted[start[d->svc[i].key >> 32]++] = d->svc[i];
    for (size_t i = n; i > 0; i--)
        start[i] = start[i - 1];
    start[0] = 0;
    /* distinct services per source: count (source, service) once whatever the class */
    for (size_t si = 0; si < n; si++) {
        uint32_t from = start[si], to = start[si + 1], c = 0;
        for (uint32_t k = from; k < to; k++) {
            uint64_t key = sorted[k].key;
            uint32_t cls = (uint32_t)(key >> 24) & 0xff;
            int dup = 0;
            if (to - from <= DUP_SCAN_MAX) {
                for (uint32_t q = from; q < to && !dup; q++)
                    dup = (sorted[q].key & 0xffffffu) == (key & 0xffffffu) && ((sorted[q].key >> 24) & 0xff) < cls;
            } else {
                for (uint32_t x = 0; x < cls && !dup; x++)
                    dup = svc_get(d, (key & ~0xff000000ULL) | (uint64_t)x << 24) != NULL;
            }
            c += !dup;
        }
        svc_count[si] = c;
    }
    /* sources */
    for (size_t i = 0; i < n; i++) {
        const src_ent *e = &d->src[i];
        tools[i] = (uint8_t)ds_tools_of(e->tool_hit, e->tool_hit & TOOL_COUNTED ? &d->tcnt[i] : NULL, svc_count[i],
                                        destinations(d, e));
        group *g = group_of(a, e->sensor, e->day);
        uint8_t *ps = g ? group_rec(a, g, DS_CHUNK_SOURCES) : NULL;
        uint8_t *pd = ps && e->map ? group_rec(a, g, DS_CHUNK_DSTMAP) : NULL;
        if (!ps || (e->map && !pd)) {
            rc = -1;
            continue;
        }
        ds_rec_source r = { .ip = e->ip, .class_mask = e->class_mask, .asn = e->asn, .packets = e->packets,
                            .first_ns = e->first_ns, .last_ns = e->last_ns, .services = svc_count[i],
                            .dst1 = e->map ? 0 : e->dst1, .tools = tools[i] };
        r.cc[0] = e->cc[0];
        r.cc[1] = e->cc[1];
        ds_rec_source_put(ps, &r);
        if (pd) {
            ds_rec_dstmap dm;
            dm.src = ds_src_key(&e->ip);
            memcpy(dm.bits, d->maps[e->map - 1].bits, DS_DSTMAP_BYTES);
            ds_rec_dstmap_put(pd, &dm);
        }
    }
    /* srcsvc, one source after another: the 14 bytes of source, ASN and country then repeat in
     * neighbouring records, which zstd turns into matches (the chunks come out 18% smaller,
     * measured on the 16 M-packet benchmark file) */
    group *g = NULL;
    uint32_t g_src = UINT32_MAX;
    for (size_t k = 0; k < d->nsvc; k++) {
        const svc_ent *s = &sorted[k];
        uint32_t si = (uint32_t)(s->key >> 32);
        const src_ent *e = &d->src[si];
        if (si != g_src) {
            g = group_of(a, e->sensor, e->day);
            g_src = si;
        }
        ds_rec_srcsvc r = { .src = ds_src_key(&e->ip), .service = (uint32_t)(s->key & 0xffffffu), .asn = e->asn,
                            .cls = (uint8_t)(s->key >> 24), .one_sport = s->has_port && !s->mixed,
                            .sport = (uint16_t)s->sport, .tools = tools[si] };
        r.cc[0] = e->cc[0];
        r.cc[1] = e->cc[1];
        /* a count above 2^32-1 (never in practice) is split over several records: readers sum */
        for (uint64_t left = s->packets; left; left -= r.packets) {
            uint8_t *p = g ? group_rec(a, g, DS_CHUNK_SRCSVC) : NULL;
            if (!p) {
                rc = -1;
                break;
            }
            r.packets = left > UINT32_MAX ? UINT32_MAX : (uint32_t)left;
            ds_rec_srcsvc_put(p, &r);
        }
    }
    /* empty the slab, keeping its arrays */
    memset(d->slot, 0, d->capslot * sizeof *d->slot);
    memset(d->svc, 0, d->capsvc * sizeof *d->svc);
    d->nsrc = d->nmaps = d->nsvc = 0;
    d->live = 0;
    return rc;
}

/* Retire the sources of days before `keep_from`, with their srcsvc entries: slab by slab, so the
 * days kept are not touched. */
static int retire_days(ds_agg *a, int32_t keep_from)
{
    if (a->day_min >= keep_from)
        return 0;
    int rc = 0;
    int32_t newmin = INT32_MAX;
    size_t spares = 0;
    for (size_t i = 0; i < a->nslabs; i++) {
        dayslab *d = &a->slabs[i];
        if (d->live && d->day < keep_from && retire_slab(a, d) != 0)
            rc = -1;
        if (d->live && d->day < newmin)
            newmin = d->day;
        /* a burst of late packets over many days left many slabs: keep a few spares */
        if (!d->live && ++spares > 4)
            slab_free(d);
    }
    while (a->nslabs && !a->slabs[a->nslabs - 1].live && !a->slabs[a->nslabs - 1].src)
        a->nslabs--;
    a->have_last = 0;
    a->day_min = newmin;
    return rc;
}

/* ---- per packet -------------------------------------------------------------------------- */

/* An attack vector that passed the thresholds: a record in the group of the day it started. */
static int attack_out(void *ctx, const ds_attack *at)
{
    ds_agg *a = ctx;
    group *g = group_of(a, at->sensor, at->day);
    uint8_t *p = g ? group_rec(a, g, DS_CHUNK_ATTACKS) : NULL;
    if (!p)
        return -1;
    ds_rec_attack_put(p, at);
    return 0;
}

/* A flood or reflection at a dark address (core/flood.h): a record in the group of its first day. */
static int flood_out(void *ctx, const ds_flood_vec *v)
{
    ds_agg *a = ctx;
    group *g = group_of(a, v->sensor, v->day);
    uint8_t *p = g ? group_rec(a, g, DS_CHUNK_FLOODS) : NULL;
    if (!p)
        return -1;
    ds_rec_flood_put(p, v);
    return 0;
}

/* A scan that reached the address threshold: a record in the group of the day it started. */
static int scan_out(void *ctx, const ds_scan *sc)
{
    ds_agg *a = ctx;
    group *g = group_of(a, sc->sensor, sc->day);
    uint8_t *p = g ? group_rec(a, g, DS_CHUNK_SCANS) : NULL;
    if (!p)
        return -1;
    ds_rec_scan_put(p, sc);
    return 0;
}

/* Give e a destination map holding its first destination. */
static int map_new(dayslab *a, src_ent *e)
{
    if (a->nmaps == a->capmaps) {
        size_t cap = a->capmaps ? a->capmaps * 2 : 256;
        dstmap *n = realloc(a->maps, cap * sizeof *n);
        if (!n)
            return -1;
        a->maps = n;
        a->capmaps = cap;
    }
    dstmap *m = &a->maps[a->nmaps];
    memset(m, 0, sizeof *m);
    uint32_t first = (uint32_t)e->dst1 - 1;
    m->bits[first >> 3] |= (uint8_t)(1u << (first & 7));
    e->map = (uint32_t)++a->nmaps;
    return 0;
}

/* First and last seen, where 0 means "none yet" (as in the store): a packet stamped 0 itself (a
 * capture without a clock) therefore moves neither, in every order the packets may come in;
 * treating it as a time made the span depend on the order, and --threads 2 disagree with 1. */
static inline void counts_touch(ds_agg_counts *c, uint64_t ts)
{
    if (!ts)
        return;
    if (!c->first_ns || ts < c->first_ns)
        c->first_ns = ts;
    if (ts > c->last_ns)
        c->last_ns = ts;
}

ds_rc ds_agg_packet(ds_agg *a, int sensor, int32_t day, uint32_t dst_index, const ds_pkt *p,
                    ds_service svc, ds_class cls)
{
    uint32_t idx, hour = (uint32_t)(p->ts_ns / 3600000000000ULL);
    dayslab *d;
    src_ent *e;

    /* the clock moved on: retire what can no longer change (see the design note) */
    if (hour > a->hour_max) {
        a->hour_max = hour;
        if (retire_hours(a, hour - 1) != 0 || ds_dos_expire(a->dos, p->ts_ns, attack_out, a) != 0 ||
            ds_floods_expire(a->floods, p->ts_ns, flood_out, a) != 0)
            return DS_ENOMEM;
    }
    if (day > a->day_max) {
        a->day_max = day;
        /* hours of days before day - 1 have all been retired above (the clock is past them) */
        if (retire_days(a, day - 1) != 0 || close_groups(a, day - 1) != 0)
            return DS_ENOMEM;
    }

    if (a->have_last && (d = &a->slabs[a->last_slab])->day == day &&
        (e = &d->src[a->last_idx])->sensor == (uint16_t)sensor && ds_ip_eq(&e->ip, &p->src)) {
        idx = a->last_idx;
    } else {
        int created;
        long si = slab_of(a, day);
        if (si < 0)
            return DS_ENOMEM;
        d = &a->slabs[si];
        long i = src_find(d, sensor, day, &p->src, &created);
        if (i < 0)
            return DS_ENOMEM;
        idx = (uint32_t)i;
        e = &d->src[idx];
        if (created) {
            if (a->conf.geo)
                a->conf.geo(a->conf.geo_ctx, &p->src, e->cc, &e->asn);
            if (day < a->day_min)
                a->day_min = day;
        }
        a->last_slab = (size_t)si;
        a->last_idx = idx;
        a->have_last = 1;
    }
    e->packets++;
    if (p->ts_ns && (!e->first_ns || p->ts_ns < e->first_ns))   /* 0: no time (see counts_touch) */
        e->first_ns = p->ts_ns;
    if (p->ts_ns > e->last_ns)
        e->last_ns = p->ts_ns;
    e->class_mask |= (uint8_t)(1u << cls);
    if (!a->conf.no_detect) {
        unsigned applicable, hit = ds_fingerprint(p, &applicable) | ds_payload_tools(a->conf.payload, p, e->tool_hit);
        if (e->tool_hit & TOOL_COUNTED) {
            ds_tool_count(&d->tcnt[idx], hit, applicable);
        } else if (hit & TOOL_COUNTED) {   /* the first match: start counting, with the packets before */
            ds_tool_counts *c = &d->tcnt[idx];
            /* a saturated count stands for "too many to attribute" (at most 2^31 - 1 matches follow) */
            c->syn = e->pre_syn == UINT16_MAX ? INT32_MAX : e->pre_syn;
            c->zapp = c->syn + (e->pre_other == UINT8_MAX ? INT32_MAX : e->pre_other);
            c->zmap = c->masscan = c->nmap = 0;
            ds_tool_count(c, hit, applicable);
        } else if (applicable) {
            if (applicable & DS_TOOL_MASSCAN)
                e->pre_syn = (uint16_t)(e->pre_syn + (e->pre_syn != UINT16_MAX));
            else
                e->pre_other = (uint8_t)(e->pre_other + (e->pre_other != UINT8_MAX));
        }
        e->tool_hit |= (uint8_t)hit;
    }
    uint32_t bit = a->exact_dst[sensor] ? dst_index : (uint32_t)ds_mix64(ds_src_key(&p->dst));
    bit &= DS_DSTMAP_BYTES * 8 - 1;
    if (e->map) {
        d->maps[e->map - 1].bits[bit >> 3] |= (uint8_t)(1u << (bit & 7));
    } else if (!e->dst1) {
        e->dst1 = (uint16_t)(bit + 1);
    } else if (e->dst1 != bit + 1) {   /* a second destination: take a map */
        if (map_new(d, e) != 0)
            return DS_ENOMEM;
        d->maps[e->map - 1].bits[bit >> 3] |= (uint8_t)(1u << (bit & 7));
    }

    int sport = (p->have & DS_HAVE_L4) && (p->proto == DS_PROTO_TCP || p->proto == DS_PROTO_UDP) ? p->sport : -1;
    if (svc_add(d, svc_key(idx, cls, svc), sport) != 0)
        return DS_ENOMEM;
    uint64_t k1 = hr_k1(hour, day);
    if (hr_add(a, k1, hr_k2(sensor, DS_HOURLY_SERVICE, cls), svc, 1) != 0 ||
        hr_add(a, k1, hr_k2(sensor, DS_HOURLY_COUNTRY, cls), ds_cc_pack(e->cc), 1) != 0)
        return DS_ENOMEM;
    if (hour < a->hour_min)
        a->hour_min = hour;
    if (!a->conf.no_detect && ds_floods_packet(a->floods, sensor, day, cls, p, flood_out, a) != 0)
        return DS_ENOMEM;
    if (a->conf.no_detect) {
        /* counting only */
    } else if (cls == DS_CLASS_BACKSCATTER) {
        if (ds_dos_packet(a->dos, sensor, day, p, attack_out, a) != 0)
            return DS_ENOMEM;
    } else if (cls == DS_CLASS_SCAN) {
        /* IPv4 destinations by their index in the sensor (the map's bit on a small sensor; the
         * scan's target-order test bins by it), IPv6 ones by a hash */
        int exact = a->exact_dst[sensor];
        uint32_t dkey = p->dst.v6 ? (uint32_t)ds_mix64(ds_src_key(&p->dst)) : dst_index;
        if (ds_scans_packet(a->scans, sensor, day, dkey, exact, p, svc, scan_out, a) != 0)
            return DS_ENOMEM;
    }
    ds_agg_counts *c = &a->counts[sensor + 1];
    c->packets++;
    counts_touch(c, p->ts_ns);
    return DS_OK;
}

void ds_agg_other(ds_agg *a, int sensor, ds_outcome o, int outside, uint64_t ts_ns)
{
    if (sensor < -1 || sensor >= (int)a->conf.nsensors)
        sensor = -1;
    ds_agg_counts *c = &a->counts[sensor + 1];
    if (outside)
        c->outside++;
    else if ((unsigned)o < DS_PKT__COUNT)
        c->outcome[o]++;
    if (o != DS_PKT_BAD_TIMESTAMP)   /* its time is impossible: it moves no span */
        counts_touch(c, ts_ns);
}

void ds_agg_encap(ds_agg *a, int sensor, unsigned encap)
{
    if (sensor < -1 || sensor >= (int)a->conf.nsensors)
        sensor = -1;
    ds_agg_counts *c = &a->counts[sensor + 1];
    for (int i = 0; i < DS_ENC__COUNT; i++)
        c->encap[i] += (encap >> i) & 1;
}

const ds_agg_counts *ds_agg_counts_of(const ds_agg *a, int s)
{
    if (s < -1 || s >= (int)a->conf.nsensors)
        return NULL;
    return &a->counts[s + 1];
}

ds_rc ds_agg_finish(ds_agg *a)
{
    if (retire_hours(a, UINT32_MAX) != 0 || retire_days(a, INT32_MAX) != 0 ||
        ds_dos_expire(a->dos, UINT64_MAX, attack_out, a) != 0 ||
        ds_floods_expire(a->floods, UINT64_MAX, flood_out, a) != 0 ||
        ds_scans_expire(a->scans, UINT64_MAX, scan_out, a) != 0 || close_groups(a, INT32_MAX) != 0)
        return DS_ENOMEM;
    return DS_OK;
}

/* ---- merge and emit ---------------------------------------------------------------------- */

ds_rc ds_agg_merge(ds_agg *into, ds_agg *from)
{
    if (ds_agg_finish(into) != DS_OK || ds_agg_finish(from) != DS_OK)
        return DS_ENOMEM;
    /* closed groups move over as they are: a day may then have several chunks, which readers
     * combine */
    for (size_t gi = 0; gi < from->ngroups; gi++) {
        group *f = &from->groups[gi];
        group *t = group_of(into, f->sensor, f->day);   /* a fresh, empty group: into is all closed */
        if (!t)
            return DS_ENOMEM;
        for (int k = 1; k < DS_CHUNK__END; k++) {
            t->z[k] = f->z[k];
            t->zlen[k] = f->zlen[k];
            t->nrec[k] = f->nrec[k];
            f->z[k] = NULL;
            f->zlen[k] = 0;
            f->nrec[k] = 0;
        }
        t->closed = 1;
    }
    for (size_t s = 0; s <= from->conf.nsensors && s <= into->conf.nsensors; s++)
        ds_agg_counts_add(&into->counts[s], &from->counts[s]);
    return DS_OK;
}

void ds_agg_counts_add(ds_agg_counts *t, const ds_agg_counts *f)
{
    t->packets += f->packets;
    t->outside += f->outside;
    for (int o = 0; o < DS_PKT__COUNT; o++)
        t->outcome[o] += f->outcome[o];
    for (int i = 0; i < DS_ENC__COUNT; i++)
        t->encap[i] += f->encap[i];
    if (f->first_ns)
        counts_touch(t, f->first_ns);
    if (f->last_ns)
        counts_touch(t, f->last_ns);
}

ds_rc ds_agg_emit(ds_agg *a, ds_chunk_sink sink, void *ctx, ds_err *err)
{
    ds_rc rc = DS_OK;
    uint8_t *raw = NULL;
    size_t cap = 0;
    if (ds_agg_finish(a) != DS_OK)
        return ds_fail(err, DS_ENOMEM, "out of memory while writing aggregates");
    for (size_t gi = 0; gi < a->ngroups && rc == DS_OK; gi++) {
        const group *g = &a->groups[gi];
        for (int k = 1; k < DS_CHUNK__END && rc == DS_OK; k++) {
            if (!g->nrec[k])
                continue;
            size_t len = g->nrec[k] * ds_rec_size(k);
            if (len > cap) {
                uint8_t *n = realloc(raw, len);
                if (!n) {
                    rc = ds_fail(err, DS_ENOMEM, "out of memory while writing aggregates");
                    break;
                }
                raw = n;
                cap = len;
            }
            if (ZSTD_decompress(raw, len, g->z[k], g->zlen[k]) != len) {
                rc = ds_fail(err, DS_ENOMEM, "aggregates: a compressed chunk does not decompress");
                break;
            }
            rc = sink(ctx, g->sensor, g->day, (ds_chunk_kind)k, raw, g->nrec[k], err);
        }
    }
    free(raw);
    return rc;
}

ds_rc ds_agg_emit_zstd(ds_agg *a, ds_chunk_zsink sink, void *ctx, ds_err *err)
{
    if (ds_agg_finish(a) != DS_OK)
        return ds_fail(err, DS_ENOMEM, "out of memory while writing aggregates");
    for (size_t gi = 0; gi < a->ngroups; gi++) {
        const group *g = &a->groups[gi];
        for (int k = 1; k < DS_CHUNK__END; k++) {
            if (!g->nrec[k])
                continue;
            ds_rc rc = sink(ctx, g->sensor, g->day, (ds_chunk_kind)k, g->z[k], g->zlen[k], g->nrec[k], err);
            if (rc != DS_OK)
                return rc;
        }
    }
    return DS_OK;
}
