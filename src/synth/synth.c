/* synth.c: the synthetic darknet traffic model (see synth.h and docs/synth.md).
 *
 * Plan first, then generate one day at a time:
 *  1. events with exact packet counts: ZMap / Masscan sweeps (every dark address once, on one port,
 *     within minutes), Nmap SYN scans, DDoS backscatter bursts;
 *  2. the population: what is left of the budget (rate x sensors x days) is shared among sources
 *     whose packet counts follow a truncated Pareto law, so a few sources send a lot and most send a
 *     handful over a few days.  Mirai bots, port-mix scanners, random-port scanners;
 *  3. the notable phenomena (spikes, a surge, new services, single-source floods, a weekly cycle,
 *     payload tools), on their own random stream so the background stays the same with or
 *     without them; magnitudes relative to the planned population's expected volumes;
 *  4. per day: each active source's share of its packets, the diurnal botnet, the events that
 *     overlap the day, the noise, the phenomena; then a stable LSD radix sort by timestamp and
 *     serialisation.
 * An event packet i is a pure function of (event seed, i), so an event crossing midnight is
 * simply replayed for both days and each packet lands in exactly one of them; a phenomenon's
 * day is a pure function of (its seed, the day).
 *
 * Header fields follow each tool's source: Mirai's scanner.c (seq = destination address, ports
 * 23/2323 at 9:1, TTL 64, fixed per-bot source port and window, no options, random IP ID), ZMap's
 * tcp_synscan module (IP ID 54321 before 4.1, window 65535, TTL 255, MSS or Windows-style options),
 * Masscan's templ-pkt.c (window 1024, TTL 255, IP ID = dst ^ dport ^ seq with a SYN-cookie seq),
 * Nmap's raw SYN probe (window 1024, MSS 1460 only, TTL 37..59, random IP ID); SIP scanners'
 * requests (RFC 3261, SIPVicious's User-Agent), Slammer's 376-byte 1434/udp datagram (its head
 * and length, not its code) and Nachi's 92-byte 0xAA ping.  Frames follow RFC 791 (IPv4),
 * RFC 793 (TCP), RFC 768 (UDP), RFC 792 (ICMP), RFC 826 (ARP), RFC 8200 / RFC 4443 (IPv6 /
 * ICMPv6), and the libpcap classic file format.
 */
#include "synth/synth.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/ip.h"

#define NS_PER_SEC 1000000000ull
#define NS_PER_DAY (86400ull * NS_PER_SEC)

/* ------------------------------------------------------------------------------------------ */
/* Randomness: xoshiro256** streams seeded through splitmix64, plus a stateless mixer for events. */

typedef struct rng { uint64_t s[4]; } rng;

static inline uint64_t mix64(uint64_t z)
{
    z += 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}
static void rng_seed(rng *r, uint64_t seed, uint64_t stream)
{
    uint64_t x = seed * 0x9e3779b97f4a7c15ull ^ mix64(stream + 0x5bd1e995ull);
    for (int i = 0; i < 4; i++) {
        x = mix64(x);
        r->s[i] = x;
    }
}
static inline uint64_t rotl64(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
static inline uint64_t rng_next(rng *r)
{
    uint64_t *s = r->s;
    uint64_t out = rotl64(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3];
    s[2] ^= t; s[3] = rotl64(s[3], 45);
    return out;
}
static inline uint32_t rng_u32(rng *r) { return (uint32_t)(rng_next(r) >> 32); }
/* Uniform in [0, n) by multiply-shift (Lemire); bias < n / 2^32, irrelevant here. */
static inline uint32_t rng_below(rng *r, uint32_t n) { return (uint32_t)(((uint64_t)rng_u32(r) * n) >> 32); }
static inline uint32_t hash_below(uint64_t h, uint32_t n) { return (uint32_t)(((h >> 32) * n) >> 32); }
static inline double rng_unit(rng *r) { return (double)(rng_next(r) >> 11) * 0x1.0p-53; }   /* [0,1) */
static inline double rng_logu(rng *r, double lo, double hi) { return lo * exp(rng_unit(r) * log(hi / lo)); }

/* ------------------------------------------------------------------------------------------ */
/* Tables */

/* Non-public IPv4 space that no real scanner source lives in (RFC 6890 and friends). */
static const struct { uint32_t net; uint8_t len; } reserved4[] = {
    { 0x00000000u, 8 }, { 0x0a000000u, 8 }, { 0x64400000u, 10 }, { 0x7f000000u, 8 },
    { 0xa9fe0000u, 16 }, { 0xac100000u, 12 }, { 0xc0000000u, 24 }, { 0xc0000200u, 24 },
    { 0xc0a80000u, 16 }, { 0xc6120000u, 15 }, { 0xc6336400u, 24 }, { 0xcb007100u, 24 },
    { 0xe0000000u, 3 },
};

/* Source-country weights.  The shapes follow what published darknet reports show year after
 * year: NICTER Observation Reports 2022/2023 (top source countries of darknet packets), CAIDA UCSD
 * telescope studies, and Shadowserver / GreyNoise scanner summaries.  CN and US lead general
 * scanning; Mirai-family infections sit in countries with many exposed consumer routers and DVRs
 * (BR, VN, CN, IN, TW, IR, EG ...), as in Antonakakis et al., "Understanding the Mirai Botnet"
 * (USENIX Security 2017); research sweepers are mostly hosted in US and European clouds.  The
 * numbers are rounded shares, a shape to test against, not measurements.  "rest" = any other. */
typedef struct cc_weight { const char *cc; double w; } cc_weight;
static const cc_weight cc_general[] = {
    { "CN", 15 }, { "US", 14 }, { "RU", 6 }, { "BR", 6 }, { "IN", 5 }, { "KR", 4 }, { "TW", 3.5 },
    { "VN", 3.5 }, { "NL", 3.5 }, { "DE", 3 }, { "GB", 3 }, { "JP", 2 }, { "FR", 2 }, { "HK", 2 },
    { "SG", 2 }, { "ID", 2 }, { "IR", 1.5 }, { "TR", 1.5 }, { "UA", 1 }, { "TH", 1 }, { "MX", 1 },
    { "EG", 1 }, { "BG", 1 }, { "rest", 13.5 },
};
static const cc_weight cc_mirai[] = {
    { "BR", 14 }, { "VN", 10 }, { "CN", 10 }, { "IN", 9 }, { "TW", 6 }, { "RU", 6 }, { "KR", 5 },
    { "IR", 5 }, { "EG", 4 }, { "TR", 4 }, { "ID", 4 }, { "US", 4 }, { "MX", 3 }, { "AR", 3 },
    { "TH", 3 }, { "CO", 2 }, { "UA", 2 }, { "PK", 2 }, { "rest", 4 },
};
static const cc_weight cc_research[] = {
    { "US", 40 }, { "NL", 15 }, { "DE", 10 }, { "GB", 10 }, { "SG", 5 }, { "FR", 5 }, { "JP", 5 },
    { "CN", 5 }, { "RU", 5 },
};

/* Scan port mix of the non-Mirai scanners (relative weights).  23/tcp still appears here: plenty
 * of telnet scanning is not Mirai-fingerprinted.  proto 1 = ICMP echo request. */
typedef struct svc { uint8_t proto; uint16_t port; double w; } svc;
static const svc port_mix[] = {
    { 6, 23, 8 }, { 6, 2323, 1 }, { 6, 22, 10 }, { 6, 80, 8 }, { 6, 443, 6 }, { 6, 8080, 5 },
    { 6, 8443, 2.5 }, { 6, 445, 6 }, { 6, 3389, 5 }, { 6, 1433, 2.5 }, { 6, 3306, 2 },
    { 6, 6379, 2 }, { 6, 5555, 3 }, { 6, 37215, 2 }, { 6, 52869, 1.5 }, { 6, 60001, 1 },
    { 6, 7547, 2 }, { 6, 81, 1.5 }, { 6, 8000, 1.5 }, { 6, 9200, 1 }, { 6, 5900, 1.5 },
    { 6, 21, 1.5 }, { 6, 25, 1 }, { 6, 8888, 1 }, { 6, 5432, 1 }, { 6, 2375, 0.8 }, { 6, 8081, 1 },
    { 17, 5060, 2.5 }, { 17, 53, 2 }, { 17, 123, 1.5 }, { 17, 1900, 1.5 }, { 17, 161, 1.5 },
    { 17, 5353, 1 }, { 17, 11211, 0.5 }, { 1, 0, 4 },
};
#define N_PORT_MIX (sizeof port_mix / sizeof port_mix[0])

static const uint16_t sweep_ports[] = { 80, 443, 22, 8080, 3389, 445, 21, 25, 7547, 2323, 6379,
                                        9200, 5900, 8443, 1433, 23, 3306, 5432 };
/* Nmap's most frequently open TCP ports, in its order, head of the "top ports" list. */
static const uint16_t nmap_top[] = {
    80, 23, 443, 21, 22, 25, 3389, 110, 445, 139, 143, 53, 135, 3306, 8080, 1723, 111, 995, 993,
    5900, 1025, 587, 8888, 199, 1720, 465, 548, 113, 81, 6001, 10000, 514, 5060, 179, 1026, 2000,
    8443, 8000, 32768, 554, 26, 1433, 49152, 2001, 515, 8008, 49154, 1027, 5666, 646, 5000, 5631,
    631, 49153, 8081, 2049, 88, 79, 5800, 106, 2121, 1110, 49155, 6000, 513, 990, 5357, 427, 49156,
    543, 544, 5101, 144, 7, 389,
};

/* ------------------------------------------------------------------------------------------ */
/* Model state */

enum { OS_LINUX, OS_WINDOWS, OS_BARE };
enum { OPT_NONE, OPT_MSS, OPT_WIN, OPT_LINUX };                     /* TCP option sets */
enum { W_TCP, W_UDP, W_ICMP_ECHO, W_ICMP_UNREACH, W_ARP, W_FRAG, W_V6_TCP, W_V6_ICMP };
enum { BS_SYNACK, BS_RSTACK, BS_ECHOREPLY, BS_UNREACH, BS__COUNT };
enum { PL_NONE, PL_SIP_OPTIONS, PL_SIP_REGISTER, PL_SLAMMER, PL_NACHI };    /* spkt.payload */
static const char *const bs_names[] = { "tcp-synack", "tcp-rstack", "icmp-echoreply", "icmp-unreach" };

/* One packet to be: 48 bytes; sorted by ts, then serialised. */
typedef struct spkt {
    uint64_t ts;                 /* ns since the epoch */
    uint32_t src, dst;           /* IPv4, host order (IPv6: low bits of the addresses) */
    uint32_t seq, ack;
    uint32_t aux;                /* unreach: victim (inner dst); v6: darknet6 index; echo: id<<16|seq */
    uint16_t sport, dport;
    uint16_t ipid, win;
    uint8_t kind, tcpflags, ttl, opt, cat, cc;
    uint8_t payload;             /* PL_*: a tool's payload instead of the usual probe */
    uint8_t pad;
} spkt;

typedef struct source {
    uint32_t addr, count;
    uint16_t first_day, span;
    uint16_t sport, win;
    uint8_t cat, cc, ttl, os;
    uint8_t svc[3], emitted;
} source;

enum { EV_ZMAP, EV_MASSCAN, EV_NMAP, EV_BURST };
typedef struct event {
    uint64_t start, dur;         /* ns */
    uint64_t seed;
    uint64_t emitted;
    uint32_t src, npk;
    uint32_t victim_port_or_nports;
    uint32_t naddr;
    uint32_t addr_base;          /* nmap: first dark address index scanned */
    uint16_t port, sport;
    uint8_t type, variant, cc, ttl;
    int scanner;                 /* index into scanners[] or -1 */
} event;

typedef struct scanner {
    uint32_t addr;
    uint16_t port, sport;
    uint8_t type, variant, cc, daily, ttl;
    uint32_t runs;
    uint64_t packets;
} scanner;

/* Phenomena (planned in plan_phenomena, generated per day in gen_phenomena) */
enum { PH_SPIKE_CC, PH_SPIKE_SVC, PH_SURGE, PH_NEW_SERVICE, PH_SINGLE, PH_WEEKLY, PH_TOOL };
typedef struct phen {
    uint64_t start, end;          /* planned window, ns (tools: the run; their hosts have days) */
    uint64_t seed;
    double per_day;               /* packets per full day at full strength */
    double factor;                /* the magnitude the truth reports */
    double low;                   /* weekly: level of the quiet days (peak day = 1) */
    double cc_share, sport_share; /* surge: planned shares of its packets */
    uint32_t first_src, nsrc;     /* its hosts: psrc[first_src .. first_src + nsrc) */
    uint32_t nsrc_cc;             /* surge: the first nsrc_cc hosts are from cc */
    uint32_t ramp_days;           /* surge: days until every host has joined */
    uint16_t port, sport;
    uint8_t type, tool, proto, cc, weekday, weekdays;
    /* measured while generating */
    uint64_t packets, first_ts, last_ts, cc_packets, sport_packets;
} phen;
/* A phenomenon's hold on a service (proto != 0) or a country (proto 0) over days d0..d1. */
typedef struct claim { uint32_t d0, d1; uint16_t port; uint8_t proto, cc, exclusive; } claim;

typedef struct range4 { uint32_t start, size; uint64_t before; } range4;
typedef struct range6 { uint8_t net[16]; uint8_t len; } range6;

typedef struct gen {
    const ds_synth_params *p;
    ds_err *err;
    range4 *r4; size_t n4; uint64_t v4total;
    int sweep_sampled;
    range6 *r6; size_t n6;
    /* country machinery (only with a callback) */
    char cc_code[256][3]; unsigned ncc; uint8_t cc_index[26 * 26];
    uint32_t *pool; uint32_t pool_start[257];
    /* sources */
    source *src; size_t nsrc, capsrc;
    source *bots; size_t nbots;
    event *ev; size_t nev, capev;
    scanner *sc; size_t nsc;
    /* budgets */
    double diurnal_per_day, noise_per_day[DS_SYNTH_CAT__COUNT];
    /* the day being built */
    spkt *day, *tmp; size_t nday, capday;
    size_t radix[65536];
    /* time-of-day acceptance tables (per minute, 2^32 scale) */
    uint32_t mild[1440], strong[1440];
    /* output */
    FILE *out; const char *out_name;
    uint8_t *buf, *spare; size_t blen, bcap;
    pthread_t writer; pthread_mutex_t mu; pthread_cond_t cv; int writer_on, stop, write_failed;
    uint8_t *full; size_t full_len;          /* handed to the writer; guarded by mu */
    ds_synth_stats st;
    uint64_t *tcp_port, *udp_port, icmp_echo;
    uint64_t cc_count[256];
    /* the diurnal botnet as used (params, or drawn from the seed) */
    uint16_t dn_port; char dn_cc[3]; int dn_peak_local, dn_offset;
    /* phenomena */
    phen *ph; size_t nph, capph;
    source *psrc; size_t npsrc, cappsrc;
    claim *claims; size_t nclaims, capclaims;
    uint8_t port_banned[65536];              /* new_service TCP/UDP ports: nothing else may use them */
    double exp_cc[256];                      /* expected packets per day by source country */
    double exp_mix[64];                      /* expected packets per day by port_mix entry */
    double exp_random_tcp, exp_total;        /* per TCP port from random-port scanners; all, per day */
    double exp_mirai;
    uint64_t dn_first, dn_last;              /* the diurnal botnet's first and last packet */
    ds_synth_phenomenon *out_ph; const phen **out_src; size_t nout;   /* what the truth reports */
} gen;

/* ------------------------------------------------------------------------------------------ */
/* Address space */

static int in_range(uint32_t a, uint32_t net, uint8_t len)
{
    uint32_t mask = len ? ~0u << (32 - len) : 0;
    return (a & mask) == net;
}
static int is_dark4(const gen *g, uint32_t a)
{
    size_t lo = 0, hi = g->n4;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (a < g->r4[mid].start)
            hi = mid;
        else if (a - g->r4[mid].start >= g->r4[mid].size)
            lo = mid + 1;
        else
            return 1;
    }
    return 0;
}
static int excluded4(const gen *g, uint32_t a)
{
    for (size_t i = 0; i < sizeof reserved4 / sizeof reserved4[0]; i++)
        if (in_range(a, reserved4[i].net, reserved4[i].len))
            return 1;
    return is_dark4(g, a);
}
/* The idx-th dark IPv4 address, idx < v4total. */
static inline uint32_t dark_addr(const gen *g, uint64_t idx)
{
    size_t lo = 0, hi = g->n4 - 1;
    while (lo < hi) {
        size_t mid = (lo + hi + 1) / 2;
        if (g->r4[mid].before <= idx)
            lo = mid;
        else
            hi = mid - 1;
    }
    return g->r4[lo].start + (uint32_t)(idx - g->r4[lo].before);
}
static inline uint32_t random_dark(const gen *g, rng *r)
{
    return dark_addr(g, rng_next(r) % g->v4total);
}
static uint32_t random_public(const gen *g, rng *r)
{
    for (;;) {
        uint32_t a = rng_u32(r);
        if (!excluded4(g, a))
            return a;
    }
}
/* An address next to a darknet but outside every one (route leaks, typos, neighbours). */
static uint32_t random_outside(const gen *g, rng *r)
{
    for (int tries = 0; tries < 16; tries++) {
        const range4 *rg = &g->r4[rng_below(r, (uint32_t)g->n4)];
        uint32_t off = 1 + rng_below(r, 256);
        uint32_t a = (rng_u32(r) & 1) ? rg->start - off : rg->start + rg->size - 1 + off;
        if (!is_dark4(g, a) && a > 0x01000000u && a < 0xe0000000u)
            return a;
    }
    for (;;) {
        uint32_t a = rng_u32(r);
        if (!is_dark4(g, a) && a > 0x01000000u && a < 0xe0000000u)
            return a;
    }
}

static int cmp_range4(const void *a, const void *b)
{
    const range4 *x = a, *y = b;
    return x->start < y->start ? -1 : x->start > y->start;
}

static ds_rc build_space(gen *g)
{
    const ds_synth_params *p = g->p;
    size_t total = 0;
    for (size_t s = 0; s < p->nsensors; s++)
        total += p->sensors[s].nprefixes;
    g->r4 = calloc(total + 1, sizeof *g->r4);
    g->r6 = calloc(total + 1, sizeof *g->r6);
    if (!g->r4 || !g->r6)
        return ds_fail(g->err, DS_ENOMEM, "synth: out of memory for %zu darknet prefixes", total);
    for (size_t s = 0; s < p->nsensors; s++) {
        for (size_t i = 0; i < p->sensors[s].nprefixes; i++) {
            const ds_prefix *px = &p->sensors[s].prefixes[i];
            if (px->addr.v6) {
                memcpy(g->r6[g->n6].net, px->addr.b, 16);
                g->r6[g->n6++].len = px->len;
            } else {
                uint32_t size = px->len == 0 ? 0xffffffffu : (uint32_t)(1ull << (32 - px->len));
                if (px->len < 8)
                    return ds_fail(g->err, DS_EINVAL, "synth: sensor %s: prefix /%u is too large "
                                   "to be a darknet", p->sensors[s].name, px->len);
                g->r4[g->n4].start = ds_ip_v4(&px->addr);
                g->r4[g->n4++].size = size;
            }
        }
    }
    if (g->n4 == 0)
        return ds_fail(g->err, DS_EINVAL, "synth: no IPv4 darknet prefix configured (give --sensor NAME=CIDR)");
    qsort(g->r4, g->n4, sizeof *g->r4, cmp_range4);
    for (size_t i = 0; i < g->n4; i++) {
        if (i && g->r4[i].start - g->r4[i - 1].start < g->r4[i - 1].size)
            return ds_fail(g->err, DS_EINVAL, "synth: darknet prefixes overlap");
        g->r4[i].before = g->v4total;
        g->v4total += g->r4[i].size;
    }
    return DS_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* Countries */

static unsigned cc_intern(gen *g, const char cc[3])
{
    unsigned a = (unsigned)(cc[0] - 'A'), b = (unsigned)(cc[1] - 'A');
    if (a >= 26 || b >= 26)
        return 0;
    uint8_t *slot = &g->cc_index[a * 26 + b];
    if (!*slot) {
        if (g->ncc >= 255)
            return 0;
        *slot = (uint8_t)g->ncc;
        memcpy(g->cc_code[g->ncc], cc, 2);
        g->cc_code[g->ncc++][2] = '\0';
    }
    return *slot;
}
static unsigned cc_lookup(gen *g, uint32_t a)
{
    char cc[3] = "ZZ";
    if (!g->p->country_of || g->p->country_of(g->p->country_ctx, a, cc) != 0)
        return 0;
    return cc_intern(g, cc);
}

/* Sample the public space through the callback once, so that later draws can propose addresses
 * near known addresses of the wanted country instead of blind draws (a blind rejection sampler
 * needs ~25 lookups per accepted VN or TW address; this needs one or two). */
#define POOL_SIZE (1u << 17)
static ds_rc build_pool(gen *g, rng *r)
{
    uint32_t *raw = malloc(POOL_SIZE * sizeof *raw);
    uint8_t *rawcc = malloc(POOL_SIZE);
    uint32_t count[257] = { 0 };
    ds_rc rc = DS_ENOMEM;
    g->pool = malloc(POOL_SIZE * sizeof *g->pool);
    if (!raw || !rawcc || !g->pool) {
        ds_fail(g->err, DS_ENOMEM, "synth: out of memory for the country sample");
        goto out;
    }
    for (uint32_t i = 0; i < POOL_SIZE; i++) {
        raw[i] = random_public(g, r);
        rawcc[i] = (uint8_t)cc_lookup(g, raw[i]);
        count[rawcc[i]]++;
    }
    g->pool_start[0] = 0;
    for (unsigned c = 0; c < 256; c++)
        g->pool_start[c + 1] = g->pool_start[c] + count[c];
    uint32_t fill[256];
    memcpy(fill, g->pool_start, sizeof fill);
    for (uint32_t i = 0; i < POOL_SIZE; i++)
        g->pool[fill[rawcc[i]]++] = raw[i];
    rc = DS_OK;
out:
    free(raw);
    free(rawcc);
    return rc;
}

static int table_has(gen *g, const cc_weight *t, size_t n, unsigned idx)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(t[i].cc, "rest") && cc_intern(g, t[i].cc) == idx)
            return 1;
    return 0;
}

/* Draw a source address whose country follows table t; *cc gets its country index. */
static uint32_t draw_source(gen *g, rng *r, const cc_weight *t, size_t n, uint8_t *cc)
{
    *cc = 0;
    if (!g->p->country_of || !g->pool) {
        return random_public(g, r);
    }
    double total = 0;
    for (size_t i = 0; i < n; i++)
        total += t[i].w;
    for (int tries = 0; tries < 64; tries++) {
        double x = rng_unit(r) * total;
        size_t e = 0;
        while (e + 1 < n && x >= t[e].w) {
            x -= t[e].w;
            e++;
        }
        int rest = strcmp(t[e].cc, "rest") == 0;
        unsigned want = rest ? 0 : cc_intern(g, t[e].cc);
        uint32_t seed;
        if (rest) {
            /* any sampled address whose country is not named in the table */
            uint32_t known = POOL_SIZE - g->pool_start[1];
            if (!known)
                continue;
            seed = g->pool[g->pool_start[1] + rng_below(r, known)];
        } else {
            uint32_t lo = g->pool_start[want], cnt = g->pool_start[want + 1] - lo;
            if (!cnt)
                continue;
            seed = g->pool[lo + rng_below(r, cnt)];
        }
        uint32_t cand = (seed & ~0xfffu) | rng_below(r, 4096);
        if (excluded4(g, cand))
            continue;
        unsigned got = cc_lookup(g, cand);
        if (rest ? (got == 0 || table_has(g, t, n, got)) : got != want)
            continue;
        *cc = (uint8_t)got;
        return cand;
    }
    uint32_t a = random_public(g, r);
    *cc = (uint8_t)cc_lookup(g, a);
    return a;
}

/* ------------------------------------------------------------------------------------------ */
/* Planning */

static ds_rc push_event(gen *g, const event *e)
{
    if (g->nev == g->capev) {
        size_t cap = g->capev ? g->capev * 2 : 256;
        event *ne = realloc(g->ev, cap * sizeof *ne);
        if (!ne)
            return ds_fail(g->err, DS_ENOMEM, "synth: out of memory for %zu events", cap);
        g->ev = ne;
        g->capev = cap;
    }
    g->ev[g->nev++] = *e;
    return DS_OK;
}

static uint64_t day_ns(const gen *g, uint32_t d) { return ((uint64_t)g->p->start + 86400ull * d) * NS_PER_SEC; }

static uint32_t scaled_count(uint32_t per92, uint32_t days, int at_least_one)
{
    double v = (double)per92 * days / 92.0;
    uint32_t n = (uint32_t)(v + 0.5);
    return (at_least_one && per92 && n == 0) ? 1 : n;
}

static ds_rc plan_events(gen *g, rng *r, uint64_t *event_packets)
{
    const ds_synth_params *p = g->p;
    uint64_t end = day_ns(g, p->days);
    /* A sweep reaches every dark address; when the darknet is large next to the daily budget
     * (a /16 at a few thousand packets a day) it is sampled down to 2% of a day's packets, as if
     * the telescope sampled, so that the --rate the user asked for still holds. */
    double daily = p->rate * (double)p->nsensors;
    double cover = daily * 0.02 < 64 ? 64 : daily * 0.02;
    uint32_t sweep_npk = (double)g->v4total > cover ? (uint32_t)cover : (uint32_t)g->v4total;
    g->sweep_sampled = sweep_npk < g->v4total;
    uint32_t nsweepers = p->zmap_scanners + p->masscan_scanners;
    g->sc = calloc(nsweepers + p->nmap_hosts + 1, sizeof *g->sc);
    if (!g->sc)
        return ds_fail(g->err, DS_ENOMEM, "synth: out of memory for scanners");
    *event_packets = 0;

    /* ZMap / Masscan sweepers */
    for (uint32_t i = 0; i < nsweepers; i++) {
        scanner *s = &g->sc[g->nsc];
        s->type = i < p->zmap_scanners ? EV_ZMAP : EV_MASSCAN;
        s->addr = draw_source(g, r, cc_research, sizeof cc_research / sizeof cc_research[0], &s->cc);
        s->port = sweep_ports[rng_below(r, sizeof sweep_ports / sizeof sweep_ports[0])];
        s->variant = (uint8_t)rng_below(r, 2);
        s->sport = (uint16_t)(40000 + rng_below(r, 20000));   /* masscan: one source port per run */
        s->daily = rng_unit(r) < p->sweep_daily_frac;
        s->ttl = 255;
        uint32_t hour = rng_below(r, 24);
        for (uint32_t d = 0; d < p->days; d++) {
            int go = s->daily ? 1 : rng_unit(r) < p->sweep_other_prob;
            if (!go)
                continue;
            event e = { 0 };
            e.type = s->type;
            e.variant = s->variant;
            e.src = s->addr;
            e.cc = s->cc;
            e.port = s->port;
            e.sport = s->sport;
            e.ttl = 255;
            e.npk = sweep_npk;
            e.dur = (uint64_t)(rng_logu(r, 600, 7200) * NS_PER_SEC);
            uint64_t at = s->daily ? hour * 3600ull + rng_below(r, 1800) : rng_below(r, 86400);
            e.start = day_ns(g, d) + at * NS_PER_SEC;
            if (e.start + e.dur > end)
                e.start = end - e.dur;
            e.seed = rng_next(r);
            e.scanner = (int)g->nsc;
            ds_rc rc = push_event(g, &e);
            if (rc != DS_OK)
                return rc;
            *event_packets += e.npk;
            s->runs++;
        }
        g->nsc++;
    }

    /* Nmap hosts: a few addresses, many ports, minutes */
    size_t nmap_first = g->nsc;
    for (uint32_t i = 0; i < p->nmap_hosts; i++) {
        scanner *s = &g->sc[g->nsc++];
        s->type = EV_NMAP;
        s->addr = draw_source(g, r, cc_general, sizeof cc_general / sizeof cc_general[0], &s->cc);
    }
    uint32_t nscans = p->nmap_hosts ? scaled_count(p->nmap_scans, p->days, 1) : 0;
    for (uint32_t i = 0; i < nscans; i++) {
        size_t h = nmap_first + rng_below(r, p->nmap_hosts);
        event e = { 0 };
        e.type = EV_NMAP;
        e.src = g->sc[h].addr;
        e.cc = g->sc[h].cc;
        e.scanner = (int)h;
        e.naddr = 1 + rng_below(r, 4);
        if (e.naddr > g->v4total)
            e.naddr = (uint32_t)g->v4total;
        e.addr_base = (uint32_t)(rng_next(r) % g->v4total);
        e.victim_port_or_nports = rng_unit(r) < 0.6 ? 1000 : 100 + rng_below(r, 400);
        e.npk = e.naddr * e.victim_port_or_nports;
        e.sport = (uint16_t)(33000 + rng_below(r, 30000));
        e.dur = (uint64_t)(rng_logu(r, 60, 1800) * NS_PER_SEC);
        e.start = day_ns(g, 0) + (rng_next(r) % (end - day_ns(g, 0) - e.dur));
        e.seed = rng_next(r);
        ds_rc rc = push_event(g, &e);
        if (rc != DS_OK)
            return rc;
        *event_packets += e.npk;
        g->sc[h].runs++;
    }

    /* Backscatter bursts: a victim's replies to spoofed traffic that named our addresses */
    uint32_t nbursts = scaled_count(p->backscatter_bursts, p->days, 1);
    double scale = daily / (2 * 18500.0);
    for (uint32_t i = 0; i < nbursts; i++) {
        event e = { 0 };
        e.type = EV_BURST;
        e.variant = (uint8_t)(i % BS__COUNT);
        e.src = draw_source(g, r, cc_general, sizeof cc_general / sizeof cc_general[0], &e.cc);
        static const uint16_t tcp_victim_ports[] = { 80, 443, 80, 443, 22, 25, 53, 8080 };
        e.port = e.variant == BS_UNREACH ? (rng_below(r, 3) ? 53 : 80)
                 : e.variant == BS_ECHOREPLY ? 0 : tcp_victim_ports[rng_below(r, 8)];
        static const uint8_t ttls[] = { 64, 128, 255 };
        e.ttl = (uint8_t)(ttls[rng_below(r, 3)] - 8 - rng_below(r, 14));
        double npk = rng_logu(r, 300, 30000) * (scale < 0.05 ? 0.05 : scale);
        e.npk = (uint32_t)(npk < 20 ? 20 : npk);
        e.dur = (uint64_t)(rng_logu(r, 300, 6 * 3600) * NS_PER_SEC);
        if (e.dur > end - day_ns(g, 0))
            e.dur = end - day_ns(g, 0);
        e.start = day_ns(g, 0) + (end - day_ns(g, 0) > e.dur ? rng_next(r) % (end - day_ns(g, 0) - e.dur) : 0);
        e.seed = rng_next(r);
        e.scanner = -1;
        ds_rc rc = push_event(g, &e);
        if (rc != DS_OK)
            return rc;
        *event_packets += e.npk;
        g->st.bursts++;
    }
    return DS_OK;
}

static ds_rc push_source(gen *g, const source *s)
{
    if (g->nsrc == g->capsrc) {
        size_t cap = g->capsrc ? g->capsrc * 2 : 4096;
        source *ns = realloc(g->src, cap * sizeof *ns);
        if (!ns)
            return ds_fail(g->err, DS_ENOMEM, "synth: out of memory for %zu sources", cap);
        g->src = ns;
        g->capsrc = cap;
    }
    g->src[g->nsrc++] = *s;
    return DS_OK;
}

static uint8_t pick_svc(rng *r)
{
    double total = 0;
    for (size_t i = 0; i < N_PORT_MIX; i++)
        total += port_mix[i].w;
    double x = rng_unit(r) * total;
    size_t i = 0;
    while (i + 1 < N_PORT_MIX && x >= port_mix[i].w) {
        x -= port_mix[i].w;
        i++;
    }
    return (uint8_t)i;
}

/* A port-mix scanner's OS profile (window, TTL, options follow from it) and its three services. */
static void scanner_profile(rng *r, source *s)
{
    uint32_t os = rng_below(r, 10);
    s->os = os < 3 ? OS_LINUX : os < 6 ? OS_WINDOWS : OS_BARE;
    static const uint16_t lwin[] = { 64240, 29200, 65535 }, wwin[] = { 64240, 8192, 65535 },
                          bwin[] = { 1024, 65535, 14600, 5840, 2048 };
    s->win = s->os == OS_LINUX ? lwin[rng_below(r, 3)] : s->os == OS_WINDOWS ? wwin[rng_below(r, 3)]
                                                                             : bwin[rng_below(r, 5)];
    uint8_t base = s->os == OS_WINDOWS ? 128 : (s->os == OS_BARE && rng_below(r, 2)) ? 255 : 64;
    s->ttl = (uint8_t)(base - 6 - rng_below(r, 18));
    s->sport = (uint16_t)rng_u32(r);
    s->svc[0] = pick_svc(r);
    s->svc[1] = pick_svc(r);
    s->svc[2] = pick_svc(r);
}

/* Sources of one category until their Pareto-distributed counts fill the budget. */
static ds_rc plan_population(gen *g, rng *r, int cat, double budget, double cap)
{
    const ds_synth_params *p = g->p;
    double used = 0;
    double per_day_max = 400.0 * (p->rate / 18500.0) + 50.0;
    while (used < budget) {
        source s = { 0 };
        double u = 1.0 - rng_unit(r);                        /* (0,1] */
        double c = floor(p->pareto_min * pow(u, -1.0 / p->pareto_alpha));
        if (c > cap)
            c = cap;
        if (c > budget - used)
            c = ceil(budget - used);
        if (c < 1)
            c = 1;
        s.count = (uint32_t)c;
        uint32_t span = 1;
        while (span < 60 && rng_u32(r) < 0x80000000u)        /* geometric, mean 2 days */
            span++;
        span += (uint32_t)(c / per_day_max);
        if (span > p->days)
            span = p->days;
        s.span = (uint16_t)span;
        s.first_day = (uint16_t)rng_below(r, p->days - span + 1);
        s.cat = (uint8_t)cat;
        if (cat == DS_SYNTH_CAT_MIRAI) {
            s.addr = draw_source(g, r, cc_mirai, sizeof cc_mirai / sizeof cc_mirai[0], &s.cc);
            s.os = OS_BARE;
            do s.sport = (uint16_t)rng_u32(r); while (s.sport < 1024);   /* scanner_init() */
            s.win = (uint16_t)rng_u32(r);
            s.ttl = (uint8_t)(64 - 6 - rng_below(r, 18));
        } else {
            s.addr = draw_source(g, r, cc_general, sizeof cc_general / sizeof cc_general[0], &s.cc);
            scanner_profile(r, &s);
        }
        ds_rc rc = push_source(g, &s);
        if (rc != DS_OK)
            return rc;
        used += c;
    }
    return DS_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* Phenomena: planning
 *
 * Each phenomenon imitates a sentence from an observatory report (docs/synth.md lists them).
 * Magnitudes are relative to what the population would send anyway (its expected packets per
 * day, by country and by service, summed over the planned sources), so they hold at any --rate.
 * The plan has its own random stream, so the background traffic is the same with and without
 * phenomena.  Claims keep two phenomena off one service (or one country) at the same time, so
 * each is found where the truth says it is. */

static uint32_t cc_pool_count(gen *g, const char *cc)
{
    if (!g->p->country_of || !g->pool)
        return 0;
    unsigned i = cc_intern(g, cc);
    return i ? g->pool_start[i + 1] - g->pool_start[i] : 0;
}

/* The diurnal botnet's port, country, UTC offset and local peak hour (before build_tables). */
static void choose_diurnal(gen *g)
{
    const ds_synth_params *p = g->p;
    g->dn_port = 4899;
    memcpy(g->dn_cc, "CN", 3);
    g->dn_offset = 8;
    g->dn_peak_local = 21;
    if (p->phenomena) {
        /* Remote-administration services that botnets of home PCs scan; the places: South
         * America half the time (the 4899/tcp reports), else Asia, Europe, Mexico. */
        static const uint16_t ports[] = { 4899, 4899, 4899, 5938, 5900, 3389, 7070 };
        static const struct { const char *cc; int utc_offset; } places[] = {
            { "BR", -3 }, { "AR", -3 }, { "CL", -4 }, { "CO", -5 }, { "PE", -5 }, { "VE", -4 }, { "EC", -5 },
            { "CN", 8 }, { "VN", 7 }, { "ID", 7 }, { "IN", 5 }, { "RU", 3 }, { "TR", 3 }, { "MX", -6 },
        };
        rng r;
        rng_seed(&r, p->seed, 0x646975726eull);                   /* "diurn" */
        g->dn_port = ports[rng_below(&r, sizeof ports / sizeof ports[0])];
        for (int tries = 0; tries < 16; tries++) {
            uint32_t i = rng_below(&r, 2) ? rng_below(&r, 7) : 7 + rng_below(&r, 7);
            if (p->country_of && cc_pool_count(g, places[i].cc) < 16)
                continue;
            memcpy(g->dn_cc, places[i].cc, 3);
            g->dn_offset = places[i].utc_offset;
            break;
        }
        g->dn_peak_local = 19 + (int)rng_below(&r, 5);
    }
    if (p->diurnal_port)
        g->dn_port = p->diurnal_port;
    if (p->diurnal_cc[0]) {
        memcpy(g->dn_cc, p->diurnal_cc, 2);
        g->dn_cc[2] = '\0';
        g->dn_offset = p->diurnal_utc_offset;
    }
    if (p->diurnal_peak_hour >= 0)
        g->dn_peak_local = p->diurnal_peak_hour % 24;
}

/* Expected packets per day of the planned population and events, by country and by service. */
static void expected_volumes(gen *g)
{
    double days = g->p->days;
    for (size_t i = 0; i < g->nsrc; i++) {
        const source *s = &g->src[i];
        double per = s->count / days;
        g->exp_cc[s->cc] += per;
        g->exp_total += per;
        if (s->cat == DS_SYNTH_CAT_SCAN) {
            g->exp_mix[s->svc[0]] += 0.8 * per;
            g->exp_mix[s->svc[1]] += 0.1 * per;
            g->exp_mix[s->svc[2]] += 0.1 * per;
        } else if (s->cat == DS_SYNTH_CAT_MIRAI) {
            g->exp_mirai += per;
        } else {
            g->exp_random_tcp += per / 65535.0;
        }
    }
    for (size_t i = 0; i < g->nbots; i++)
        g->exp_cc[g->bots[i].cc] += g->diurnal_per_day / (double)g->nbots;
    g->exp_total += g->diurnal_per_day;
    for (size_t i = 0; i < g->nev; i++) {
        g->exp_cc[g->ev[i].cc] += g->ev[i].npk / days;
        g->exp_total += g->ev[i].npk / days;
    }
}

static double usual_svc(const gen *g, uint8_t proto, uint16_t port)
{
    double v = 0;
    for (size_t i = 0; i < N_PORT_MIX; i++)
        if (port_mix[i].proto == proto && (proto == 1 || port_mix[i].port == port))
            v += g->exp_mix[i];
    if (proto == 6) {
        v += g->exp_random_tcp;
        if (port == g->dn_port)
            v += g->diurnal_per_day;
        if (port == 23 || port == 2323)
            v += g->exp_mirai * (port == 23 ? 0.9 : 0.1);
        for (size_t i = 0; i < g->nev; i++)
            if ((g->ev[i].type == EV_ZMAP || g->ev[i].type == EV_MASSCAN) && g->ev[i].port == port)
                v += g->ev[i].npk / (double)g->p->days;
    }
    return v;
}

/* Is the port used by anything in the model other than a phenomenon (either protocol)? */
static int port_in_model(const gen *g, uint16_t port)
{
    for (size_t i = 0; i < N_PORT_MIX; i++)
        if (port_mix[i].proto != 1 && port_mix[i].port == port)
            return 1;
    for (size_t i = 0; i < sizeof sweep_ports / sizeof sweep_ports[0]; i++)
        if (sweep_ports[i] == port)
            return 1;
    for (size_t i = 0; i < sizeof nmap_top / sizeof nmap_top[0]; i++)
        if (nmap_top[i] == port)
            return 1;
    static const uint16_t fixed[] = { 22, 80, 443, 445, 3389, 53, 5060, 1434 };   /* IPv6, fragments, tools */
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        if (fixed[i] == port)
            return 1;
    return port == g->dn_port;
}

static ds_rc push_claim(gen *g, uint8_t proto, uint16_t port, uint8_t cc, uint32_t d0, uint32_t d1, int exclusive)
{
    if (g->nclaims == g->capclaims) {
        size_t cap = g->capclaims ? g->capclaims * 2 : 64;
        claim *nc = realloc(g->claims, cap * sizeof *nc);
        if (!nc)
            return ds_fail(g->err, DS_ENOMEM, "synth: out of memory planning phenomena");
        g->claims = nc;
        g->capclaims = cap;
    }
    g->claims[g->nclaims++] = (claim){ d0, d1, port, proto, cc, (uint8_t)exclusive };
    return DS_OK;
}
/* Two weeks' margin either side: a detector's baseline should not hold another phenomenon. */
static int overlaps(const claim *c, uint32_t d0, uint32_t d1) { return d0 < c->d1 + 14 && c->d0 < d1 + 14; }
static int svc_taken(const gen *g, uint8_t proto, uint16_t port, uint32_t d0, uint32_t d1, int exclusive)
{
    if (proto != 1 && g->port_banned[port])
        return 1;
    for (size_t i = 0; i < g->nclaims; i++) {
        const claim *c = &g->claims[i];
        if (c->proto == proto && (proto == 1 || c->port == port) && (exclusive || c->exclusive || overlaps(c, d0, d1)))
            return 1;
    }
    return 0;
}
static int cc_taken(const gen *g, uint8_t cc, uint32_t d0, uint32_t d1)
{
    for (size_t i = 0; i < g->nclaims; i++)
        if (g->claims[i].proto == 0 && g->claims[i].cc == cc && overlaps(&g->claims[i], d0, d1))
            return 1;
    return 0;
}

static phen *new_phen(gen *g, rng *r, uint8_t type)
{
    if (g->nph == g->capph) {
        size_t cap = g->capph ? g->capph * 2 : 32;
        phen *np = realloc(g->ph, cap * sizeof *np);
        if (!np)
            return NULL;
        g->ph = np;
        g->capph = cap;
    }
    phen *ph = &g->ph[g->nph++];
    memset(ph, 0, sizeof *ph);
    ph->type = type;
    ph->seed = rng_next(r);
    ph->first_src = (uint32_t)g->npsrc;
    ph->first_ts = UINT64_MAX;
    return ph;
}
static source *new_psrc(gen *g, phen *ph)
{
    if (g->npsrc == g->cappsrc) {
        size_t cap = g->cappsrc ? g->cappsrc * 2 : 1024;
        source *ns = realloc(g->psrc, cap * sizeof *ns);
        if (!ns)
            return NULL;
        g->psrc = ns;
        g->cappsrc = cap;
    }
    source *s = &g->psrc[g->npsrc++];
    memset(s, 0, sizeof *s);
    ph->nsrc++;
    return s;
}
/* A source address no population source uses: "a new source" must be new. */
static uint32_t fresh_source(gen *g, rng *r, const cc_weight *t, size_t n, uint8_t *cc)
{
    uint32_t a = 0;
    for (int tries = 0; tries < 8; tries++) {
        a = draw_source(g, r, t, n, cc);
        size_t i = 0;
        while (i < g->nsrc && g->src[i].addr != a)
            i++;
        if (i == g->nsrc)
            break;
    }
    return a;
}

/* Per 92 days, lo..hi drawn from the seed, scaled to the run; at least one in 60 days or more. */
static uint32_t phen_count(rng *r, uint32_t lo, uint32_t hi, uint32_t days, uint32_t min_days)
{
    uint32_t per92 = lo + rng_below(r, hi - lo + 1);
    if (days < 14 + min_days)
        return 0;
    uint32_t n = (uint32_t)((double)per92 * days / 92.0 + 0.5);
    return n == 0 && days >= 60 ? 1 : n;
}

#define CCW(x) x, sizeof x / sizeof x[0]

/* Many hosts of country cc (or of table t when cc is 0), each a port-mix scanner profile. */
static ds_rc add_hosts(gen *g, rng *r, phen *ph, uint32_t n, uint8_t cc, const cc_weight *t, size_t nt)
{
    cc_weight one[1] = { { "ZZ", 1 } };
    if (cc) {
        one[0].cc = g->cc_code[cc];
        t = one;
        nt = 1;
    }
    for (uint32_t i = 0; i < n; i++) {
        source *s = new_psrc(g, ph);
        if (!s)
            return ds_fail(g->err, DS_ENOMEM, "synth: out of memory planning phenomena");
        s->addr = draw_source(g, r, t, nt, &s->cc);
        s->cat = DS_SYNTH_CAT_SCAN;
        scanner_profile(r, s);
    }
    return DS_OK;
}

/* Start day (>= 14) and window for a phenomenon of dur_days days starting at a random hour. */
static void place(gen *g, rng *r, phen *ph, uint32_t dur_days, uint32_t *d0, uint32_t *d1)
{
    uint32_t days = g->p->days;
    *d0 = 14 + rng_below(r, days - 14 - dur_days + 1);
    *d1 = *d0 + dur_days;
    ph->start = day_ns(g, *d0) + (uint64_t)rng_below(r, 86400) * NS_PER_SEC;
    ph->end = ph->start + (uint64_t)dur_days * NS_PER_DAY;
    if (ph->end > day_ns(g, days))
        ph->end = day_ns(g, days);
}

static const svc surge_svcs[] = {   /* databases, admin panels, clusters: low-ranked in the port mix */
    { 6, 1521, 1 }, { 6, 5984, 1 }, { 6, 27017, 1 }, { 6, 9000, 1 }, { 6, 2222, 1 }, { 6, 6443, 1 },
    { 6, 8088, 1 }, { 6, 10250, 1 }, { 6, 9090, 1 }, { 6, 5601, 1 }, { 6, 7001, 1 }, { 6, 8983, 1 },
    { 6, 50070, 1 }, { 6, 11434, 1 }, { 6, 2181, 1 }, { 6, 9042, 1 }, { 6, 5672, 1 }, { 6, 15672, 1 },
};
static const svc new_svcs[] = {     /* IoT and exploit targets not in the port mix */
    { 6, 37777, 1 }, { 6, 34567, 1 }, { 6, 9527, 1 }, { 6, 8291, 1 }, { 6, 8728, 1 }, { 6, 32764, 1 },
    { 6, 61616, 1 }, { 6, 4786, 1 }, { 6, 5985, 1 }, { 6, 9530, 1 }, { 6, 4567, 1 }, { 6, 10443, 1 },
    { 17, 37810, 1 }, { 17, 3702, 1 }, { 17, 10001, 1 }, { 17, 47808, 1 },
};
static const svc weekly_svcs[] = {  /* office-hours services */
    { 6, 445, 1 }, { 6, 3389, 1 }, { 6, 1433, 1 }, { 6, 3306, 1 }, { 6, 5432, 1 }, { 6, 6379, 1 },
    { 6, 9200, 1 }, { 6, 5900, 1 }, { 6, 21, 1 }, { 6, 2375, 1 }, { 6, 8000, 1 }, { 6, 8888, 1 },
};
static const char *const surge_ccs[] = { "CN", "CN", "CN", "US", "RU", "BR", "IN", "KR", "NL", "VN", "TW", "DE" };
static const char *const weekly_ccs[] = { "US", "CN", "RU", "DE", "NL", "GB", "FR", "JP", "KR", "IN", "BR",
                                          "SG", "HK", "UA", "TR" };

/* A country from names (with pool data, unclaimed in d0..d1); 0 without country data or none free. */
static uint8_t pick_cc(gen *g, rng *r, const char *const *names, size_t n, uint32_t d0, uint32_t d1)
{
    if (!g->p->country_of)
        return 0;
    for (int tries = 0; tries < 32; tries++) {
        const char *cc = names[rng_below(r, (uint32_t)n)];
        if (cc_pool_count(g, cc) < 16)
            continue;
        uint8_t i = (uint8_t)cc_intern(g, cc);
        if (i && !cc_taken(g, i, d0, d1))
            return i;
    }
    return 0;
}
/* A service from t that is free in d0..d1 (exclusive: never used by another phenomenon). */
static const svc *pick_svc_from(gen *g, rng *r, const svc *t, size_t n, uint32_t d0, uint32_t d1, int exclusive)
{
    uint32_t at = rng_below(r, (uint32_t)n);
    for (size_t k = 0; k < n; k++) {
        const svc *v = &t[(at + k) % n];
        if (!svc_taken(g, v->proto, v->port, d0, d1, exclusive))
            return v;
    }
    return NULL;
}
/* A mid-ranked TCP or UDP service of the port mix: rank lo..hi (1 = most packets expected) among
 * its entries, free in d0..d1, not the SIP tools' 5060/udp nor the diurnal botnet's port. */
static const svc *pick_mid_svc(gen *g, rng *r, uint32_t lo, uint32_t hi, uint32_t d0, uint32_t d1)
{
    const svc *ranked[N_PORT_MIX];
    double vol[N_PORT_MIX];
    uint32_t n = 0;
    for (size_t i = 0; i < N_PORT_MIX; i++) {
        const svc *v = &port_mix[i];
        double u = v->proto == 1 ? 0 : usual_svc(g, v->proto, v->port);
        uint32_t k = n++;
        for (; k > 0 && vol[k - 1] < u; k--) {       /* insertion sort, largest first */
            ranked[k] = ranked[k - 1];
            vol[k] = vol[k - 1];
        }
        ranked[k] = v;
        vol[k] = u;
    }
    if (hi > n)
        hi = n;
    if (lo < 1 || lo > hi)
        return NULL;
    uint32_t span = hi - lo + 1, at = rng_below(r, span);
    for (uint32_t k = 0; k < span; k++) {
        const svc *v = ranked[lo - 1 + (at + k) % span];
        if (v->proto != 1 && !(v->proto == 17 && v->port == 5060) && v->port != g->dn_port &&
            !svc_taken(g, v->proto, v->port, d0, d1, 0))
            return v;
    }
    return NULL;
}

static double clampd(double v, double lo, double hi) { return v < lo ? lo : v > hi ? hi : v; }

static ds_rc plan_tools(gen *g, rng *r)
{
    const ds_synth_params *p = g->p;
    uint32_t days = p->days;
    double usual_sip = usual_svc(g, 17, 5060), daily = g->exp_total;
    static const struct { uint8_t tool; uint32_t lo, hi, span_lo, span_hi; } kinds[] = {
        { DS_SYNTH_TOOL_SIPVICIOUS, 3, 6, 1, 5 }, { DS_SYNTH_TOOL_SIPCLI, 1, 3, 1, 4 },
        { DS_SYNTH_TOOL_SLAMMER, 3, 8, 10, 92 }, { DS_SYNTH_TOOL_NACHI, 2, 5, 5, 40 },
    };
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        uint8_t tool = kinds[k].tool;
        if (tool == DS_SYNTH_TOOL_SIPCLI && rng_below(r, 2))
            tool = DS_SYNTH_TOOL_VAXSIP;
        uint32_t per92 = kinds[k].lo + rng_below(r, kinds[k].hi - kinds[k].lo + 1);
        uint32_t n = (uint32_t)((double)per92 * days / 92.0 + 0.5);
        if (n == 0)
            n = 1;
        phen *ph = new_phen(g, r, PH_TOOL);
        if (!ph)
            return ds_fail(g->err, DS_ENOMEM, "synth: out of memory planning phenomena");
        ph->tool = tool;
        ph->proto = tool == DS_SYNTH_TOOL_NACHI ? 1 : 17;
        ph->port = tool == DS_SYNTH_TOOL_NACHI ? 8 : tool == DS_SYNTH_TOOL_SLAMMER ? 1434 : 5060;
        ph->start = day_ns(g, 0);
        ph->end = day_ns(g, days);
        for (uint32_t i = 0; i < n; i++) {
            source *s = new_psrc(g, ph);
            if (!s)
                return ds_fail(g->err, DS_ENOMEM, "synth: out of memory planning phenomena");
            s->addr = fresh_source(g, r, CCW(cc_general), &s->cc);
            uint32_t span = kinds[k].span_lo + rng_below(r, kinds[k].span_hi - kinds[k].span_lo + 1);
            if (span > days)
                span = days;
            s->span = (uint16_t)span;
            s->first_day = (uint16_t)rng_below(r, days - span + 1);
            if (tool == DS_SYNTH_TOOL_SLAMMER && i == 0) {
                /* Slammer is endemic: one host runs from the first day to the last, so that
                 * 1434/udp is part of the baseline, never a "new service" */
                s->first_day = 0;
                s->span = (uint16_t)(days > 65535 ? 65535 : days);
            }
            s->ttl = (uint8_t)(128 - 6 - rng_below(r, 18));           /* Windows hosts, PBX boxes */
            double per_day;
            switch (tool) {
            case DS_SYNTH_TOOL_SLAMMER:
                /* the worm's one socket: one ephemeral source port for the host's life */
                s->sport = (uint16_t)(1025 + rng_below(r, 3975));
                per_day = daily * (0.0002 + 0.0006 * rng_unit(r));
                break;
            case DS_SYNTH_TOOL_NACHI:
                s->sport = (uint16_t)rng_u32(r);                      /* ICMP identifier */
                per_day = daily * (0.0005 + 0.0015 * rng_unit(r));
                break;
            default:
                /* svmap / svwar bind 5060 locally; the others use an ephemeral port */
                s->sport = tool == DS_SYNTH_TOOL_SIPVICIOUS ? 5060 : (uint16_t)(32768 + rng_below(r, 28232));
                s->ttl = (uint8_t)(64 - 6 - rng_below(r, 18));
                s->svc[0] = rng_below(r, 10) < 7 ? PL_SIP_OPTIONS : PL_SIP_REGISTER;
                per_day = usual_sip * (0.2 + 0.4 * rng_unit(r));
                break;
            }
            s->count = (uint32_t)(per_day < 1 ? 1 : per_day);
        }
    }
    return DS_OK;
}

static ds_rc plan_phenomena(gen *g)
{
    const ds_synth_params *p = g->p;
    uint32_t days = p->days;
    rng r;
    rng_seed(&r, p->seed, 0x7068656eull);                        /* "phen" */
    expected_volumes(g);
    double daily = g->exp_total;
    ds_rc rc;
    uint8_t dncc = p->country_of ? (uint8_t)cc_intern(g, g->dn_cc) : 0;
    if ((rc = push_claim(g, 6, g->dn_port, 0, 0, days, 1)) != DS_OK ||
        (dncc && (rc = push_claim(g, 0, 0, dncc, 0, days, 0)) != DS_OK) ||
        (rc = push_claim(g, 17, 5060, 0, 0, days, 1)) != DS_OK ||
        (rc = push_claim(g, 17, 1434, 0, 0, days, 1)) != DS_OK ||
        (rc = push_claim(g, 1, 8, 0, 0, days, 1)) != DS_OK)
        return rc;
    if ((rc = plan_tools(g, &r)) != DS_OK)
        return rc;
#define NEW_PHEN(type)                                                                  \
    phen *ph = new_phen(g, &r, type);                                                   \
    if (!ph)                                                                            \
        return ds_fail(g->err, DS_ENOMEM, "synth: out of memory planning phenomena")

    /* surge: "1521/tcp rose from 74th to 13th place; 92 % of the packets came from China and 99 %
     * had source port 6000; the number of source hosts surged in late July" */
    uint32_t n = phen_count(&r, 1, 1, days, 28);
    for (uint32_t i = 0; i < n; i++) {
        uint32_t dur = 14 + rng_below(&r, 22), d0, d1;
        if (dur > days - 14)
            dur = days - 14;
        NEW_PHEN(PH_SURGE);
        place(g, &r, ph, dur, &d0, &d1);
        const svc *v = pick_svc_from(g, &r, surge_svcs, sizeof surge_svcs / sizeof surge_svcs[0], d0, d1, 1);
        if (!v) {
            g->nph--;
            continue;
        }
        static const uint16_t sports[] = { 6000, 6000, 6000, 6001, 6003, 6005 };
        static const uint16_t wins[] = { 16384, 65535, 8192, 29200 };
        ph->proto = 6;
        ph->port = v->port;
        ph->cc = pick_cc(g, &r, surge_ccs, sizeof surge_ccs / sizeof surge_ccs[0], d0, d1);
        ph->sport = sports[rng_below(&r, 6)];
        ph->per_day = daily * (0.015 + 0.025 * rng_unit(&r));
        ph->factor = ph->per_day / (usual_svc(g, 6, v->port) > 1 ? usual_svc(g, 6, v->port) : 1);
        ph->cc_share = ph->cc ? 0.92 + 0.05 * rng_unit(&r) : 1;
        ph->sport_share = 0.993 + 0.006 * rng_unit(&r);
        ph->ramp_days = 3 + rng_below(&r, 5);
        uint32_t hosts = (uint32_t)clampd(50 + rng_below(&r, 350), 4, ph->per_day * dur / 3 + 4);
        uint32_t hosts_cc = ph->cc ? (uint32_t)(hosts * ph->cc_share + 0.5) : hosts;
        if (ph->cc && hosts_cc >= hosts)
            hosts_cc = hosts - 1;
        uint16_t win = wins[rng_below(&r, 4)];
        uint8_t base = rng_below(&r, 2) ? 128 : 64;
        if ((rc = add_hosts(g, &r, ph, hosts_cc, ph->cc, CCW(cc_general))) != DS_OK ||
            (rc = add_hosts(g, &r, ph, hosts - hosts_cc, 0, CCW(cc_general))) != DS_OK)
            return rc;
        ph->nsrc_cc = hosts_cc;
        for (uint32_t k = 0; k < ph->nsrc; k++) {      /* one bot, one stack: bare SYNs, no options */
            source *s = &g->psrc[ph->first_src + k];
            s->os = OS_BARE;
            s->win = win;
            s->ttl = (uint8_t)(base - 6 - rng_below(&r, 18));
        }
        if ((rc = push_claim(g, 6, v->port, 0, d0, d1, 1)) != DS_OK ||
            (ph->cc && (rc = push_claim(g, 0, 0, ph->cc, d0, d1, 0)) != DS_OK))
            return rc;
    }

    /* periodic_weekly: one country's scanning of one service on working days, or on one day.  Each
     * runs from its third week to the end of the run, so any quarter of the run shows the cycle;
     * a longer run has several at once, on other services and from other countries. */
    n = phen_count(&r, 1, 1, days, 28);
    for (uint32_t i = 0; i < n; i++) {
        uint32_t d0 = 14 + rng_below(&r, 7), d1 = days;
        NEW_PHEN(PH_WEEKLY);
        ph->start = day_ns(g, d0);
        ph->end = day_ns(g, d1);
        const svc *v = pick_svc_from(g, &r, weekly_svcs, sizeof weekly_svcs / sizeof weekly_svcs[0], d0, d1, 0);
        ph->cc = pick_cc(g, &r, weekly_ccs, sizeof weekly_ccs / sizeof weekly_ccs[0], d0, d1);
        if (!v || (p->country_of && !ph->cc)) {
            g->nph--;
            continue;
        }
        ph->proto = v->proto;
        ph->port = v->port;
        ph->weekdays = (uint8_t)rng_below(&r, 2);
        ph->weekday = (uint8_t)(ph->weekdays ? 1 + rng_below(&r, 5) : rng_below(&r, 7));
        ph->low = 0.05 + 0.1 * rng_unit(&r);
        ph->factor = 1 / ph->low;
        ph->per_day = usual_svc(g, v->proto, v->port) * (0.6 + 0.9 * rng_unit(&r));
        if (ph->per_day < 10)
            ph->per_day = 10;
        if ((rc = add_hosts(g, &r, ph, 20 + rng_below(&r, 100), ph->cc, CCW(cc_general))) != DS_OK ||
            (rc = push_claim(g, v->proto, v->port, 0, d0, d1, 0)) != DS_OK ||
            (ph->cc && (rc = push_claim(g, 0, 0, ph->cc, d0, d1, 0)) != DS_OK))
            return rc;
    }

    /* new_service: "scans of 37215/tcp appeared on ..." - a port nothing else ever uses */
    n = phen_count(&r, 1, 2, days, 7);
    for (uint32_t i = 0; i < n; i++) {
        uint32_t d0, d1, dur = 7 + rng_below(&r, 34);
        if (dur > days - 14)
            dur = days - 14;
        NEW_PHEN(PH_NEW_SERVICE);
        place(g, &r, ph, dur, &d0, &d1);
        if (rng_below(&r, 2)) {                       /* half stay to the end of the run */
            ph->end = day_ns(g, days);
            d1 = days;
        }
        const svc *v = NULL;
        for (int tries = 0; tries < 8 && (!v || port_in_model(g, v->port)); tries++)
            v = pick_svc_from(g, &r, new_svcs, sizeof new_svcs / sizeof new_svcs[0], 0, days, 1);
        if (!v || port_in_model(g, v->port)) {
            g->nph--;
            continue;
        }
        ph->proto = v->proto;
        ph->port = v->port;
        ph->per_day = daily * (0.003 + 0.009 * rng_unit(&r));
        ph->factor = ph->per_day;                     /* from nothing: packets per day */
        g->port_banned[v->port] = 1;
        if ((rc = add_hosts(g, &r, ph, 40 + rng_below(&r, 260), 0, CCW(cc_mirai))) != DS_OK ||
            (rc = push_claim(g, v->proto, v->port, 0, 0, days, 1)) != DS_OK)
            return rc;
    }

    /* spike (service): "scans of 5555/tcp jumped tenfold for two days" */
    n = phen_count(&r, 1, 2, days, 4);
    for (uint32_t i = 0; i < n; i++) {
        uint32_t d0, d1;
        NEW_PHEN(PH_SPIKE_SVC);
        place(g, &r, ph, 1 + rng_below(&r, 4), &d0, &d1);
        const svc *v = pick_mid_svc(g, &r, 10, 30, d0, d1);
        if (!v) {
            g->nph--;
            continue;
        }
        ph->proto = v->proto;
        ph->port = v->port;
        ph->factor = 5 + 15 * rng_unit(&r);
        ph->per_day = (ph->factor - 1) * usual_svc(g, v->proto, v->port);
        uint32_t hosts = (uint32_t)clampd(ph->per_day * (d1 - d0) / (5 + 15 * rng_unit(&r)), 50, 3000);
        if ((rc = add_hosts(g, &r, ph, hosts, 0, CCW(cc_general))) != DS_OK ||
            (rc = push_claim(g, v->proto, v->port, 0, d0, d1, 0)) != DS_OK)
            return rc;
    }

    /* single_source: one new host sends enough to multiply a service's day five times or more */
    n = phen_count(&r, 1, 2, days, 3);
    for (uint32_t i = 0; i < n; i++) {
        uint32_t d0, d1;
        NEW_PHEN(PH_SINGLE);
        place(g, &r, ph, 3, &d0, &d1);
        ph->end = ph->start + (uint64_t)((1 + 2 * rng_unit(&r)) * (double)NS_PER_DAY);
        if (ph->end > day_ns(g, days))
            ph->end = day_ns(g, days);
        const svc *v = pick_mid_svc(g, &r, 12, 34, d0, d1);
        if (!v) {
            g->nph--;
            continue;
        }
        ph->proto = v->proto;
        ph->port = v->port;
        ph->factor = 5 + 7 * rng_unit(&r);
        ph->per_day = (ph->factor - 1) * usual_svc(g, v->proto, v->port);
        source *s = new_psrc(g, ph);
        if (!s)
            return ds_fail(g->err, DS_ENOMEM, "synth: out of memory planning phenomena");
        s->addr = fresh_source(g, &r, CCW(cc_general), &s->cc);
        scanner_profile(&r, s);
        ph->cc = s->cc;
        if ((rc = push_claim(g, v->proto, v->port, 0, d0, d1, 0)) != DS_OK)
            return rc;
    }

    /* spike (country): "packets from Bulgaria rose for a few days" - not a top-5 country */
    n = p->country_of ? phen_count(&r, 1, 2, days, 5) : 0;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t d0, d1;
        NEW_PHEN(PH_SPIKE_CC);
        place(g, &r, ph, 2 + rng_below(&r, 4), &d0, &d1);
        uint8_t order[256];
        unsigned no = 0;
        for (unsigned c = 1; c < g->ncc && c < 256; c++)
            if (g->exp_cc[c] > 0)
                order[no++] = (uint8_t)c;
        for (unsigned a = 1; a < no; a++)            /* by expected volume, largest first */
            for (unsigned b = a; b > 0 && g->exp_cc[order[b]] > g->exp_cc[order[b - 1]]; b--) {
                uint8_t t = order[b];
                order[b] = order[b - 1];
                order[b - 1] = t;
            }
        uint8_t cc = 0;
        /* ranks 8..25: a margin below the top 5, whose order the planted traffic can shift */
        for (int tries = 0; tries < 32 && !cc && no > 7; tries++) {
            uint8_t c = order[7 + rng_below(&r, (no < 25 ? no : 25) - 7)];
            if (g->exp_cc[c] >= 0.002 * daily && g->pool_start[c + 1] - g->pool_start[c] >= 16 &&
                !cc_taken(g, c, d0, d1))
                cc = c;
        }
        if (!cc) {
            g->nph--;
            continue;
        }
        ph->cc = cc;
        ph->factor = 4 + 6 * rng_unit(&r);
        ph->per_day = (ph->factor - 1) * g->exp_cc[cc];
        uint32_t hosts = (uint32_t)clampd(ph->per_day * (d1 - d0) / (10 + 30 * rng_unit(&r)), 30, 3000);
        if ((rc = add_hosts(g, &r, ph, hosts, cc, CCW(cc_general))) != DS_OK ||
            (rc = push_claim(g, 0, 0, cc, d0, d1, 0)) != DS_OK)
            return rc;
    }
#undef NEW_PHEN
    return DS_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* Day building */

static inline spkt *emit(gen *g)
{
    if (g->nday == g->capday) {
        size_t cap = g->capday * 2;
        spkt *nd = realloc(g->day, cap * sizeof *nd);
        spkt *nt = nd ? realloc(g->tmp, cap * sizeof *nt) : NULL;
        if (nd)
            g->day = nd;
        if (!nd || !nt)
            return NULL;
        g->tmp = nt;
        g->capday = cap;
    }
    spkt *s = &g->day[g->nday++];
    memset(s, 0, sizeof *s);
    return s;
}

static void build_tables(gen *g)
{
    const double pi = 3.14159265358979323846;
    int peak = ((g->dn_peak_local - g->dn_offset) % 24 + 24) % 24;
    for (int m = 0; m < 1440; m++) {
        /* background: mild (±20%) swell peaking 14:00 UTC, when Asia's evening meets Europe's day */
        double mild = (1.0 + 0.2 * cos(2 * pi * (m - 14 * 60) / 1440.0)) / 1.2;
        /* the diurnal botnet: devices on at local evening, near silent at local dawn */
        double c = (1.0 + cos(2 * pi * (m - peak * 60) / 1440.0)) / 2.0;
        double strong = 0.03 + 0.97 * c * c;
        g->mild[m] = (uint32_t)(mild * 4294967295.0);
        g->strong[m] = (uint32_t)(strong * 4294967295.0);
    }
}
static inline uint64_t time_in_day(rng *r, const uint32_t *table)
{
    for (;;) {
        uint64_t x = rng_next(r);
        uint32_t m = (uint32_t)(((x >> 32) * 1440) >> 32);
        if ((uint32_t)x < table[m])
            return m * 60ull * NS_PER_SEC + rng_next(r) % (60ull * NS_PER_SEC);
    }
}

static void fill_probe(spkt *k, const source *s, rng *r, uint8_t proto, uint16_t port);

static void fill_scan(gen *g, spkt *k, const source *s, rng *r, uint64_t ts)
{
    k->ts = ts;
    k->src = s->addr;
    k->dst = random_dark(g, r);
    k->cat = s->cat;
    k->cc = s->cc;
    k->ttl = s->ttl;
    k->ipid = (uint16_t)rng_u32(r);
    if (s->cat == DS_SYNTH_CAT_MIRAI) {
        /* scanner.c: dport 2323 for every tenth probe, seq = daddr, per-bot sport and window */
        k->kind = W_TCP;
        k->tcpflags = 0x02;
        k->dport = rng_below(r, 10) == 0 ? 2323 : 23;
        k->sport = s->sport;
        k->win = s->win;
        k->seq = k->dst;
        k->opt = OPT_NONE;
        return;
    }
    uint8_t proto = 6;
    uint16_t port;
    if (s->cat == DS_SYNTH_CAT_RANDOM_PORT) {
        do port = (uint16_t)(1 + rng_below(r, 65535)); while (g->port_banned[port]);
    } else {
        uint32_t x = rng_below(r, 10);
        const svc *v = &port_mix[s->svc[x < 8 ? 0 : x < 9 ? 1 : 2]];
        proto = v->proto;
        port = v->port;
    }
    fill_probe(k, s, r, proto, port);
}

/* The probe a scanner with s's OS profile sends to one service (proto 1: ICMP echo request). */
static void fill_probe(spkt *k, const source *s, rng *r, uint8_t proto, uint16_t port)
{
    k->dport = port;
    if (proto == 6) {
        k->kind = W_TCP;
        k->tcpflags = 0x02;
        k->seq = rng_u32(r);
        k->win = s->win;
        k->opt = s->os == OS_LINUX ? OPT_LINUX : s->os == OS_WINDOWS ? OPT_WIN
                                               : (s->win == 1024 ? OPT_MSS : OPT_NONE);
        k->sport = s->os == OS_LINUX ? (uint16_t)(32768 + rng_below(r, 28232))
                   : s->os == OS_WINDOWS ? (uint16_t)(49152 + rng_below(r, 16384))
                                         : s->sport;
    } else if (proto == 17) {
        k->kind = W_UDP;
        k->sport = s->os == OS_BARE ? s->sport : (uint16_t)(32768 + rng_below(r, 28232));
        k->aux = rng_u32(r);
    } else {
        k->kind = W_ICMP_ECHO;
        k->tcpflags = 8;                                     /* ICMP type: echo request */
        k->opt = s->os == OS_LINUX ? 56 : s->os == OS_WINDOWS ? 32 : 0;
        k->aux = (uint32_t)s->sport << 16 | rng_below(r, 65536);
    }
}

static ds_rc gen_population(gen *g, uint32_t d, rng *r)
{
    uint64_t base = day_ns(g, d);
    for (size_t i = 0; i < g->nsrc; i++) {
        source *s = &g->src[i];
        if (d < s->first_day || d >= (uint32_t)s->first_day + s->span)
            continue;
        uint64_t k = d - s->first_day;
        uint32_t n = (uint32_t)((uint64_t)s->count * (k + 1) / s->span - (uint64_t)s->count * k / s->span);
        for (uint32_t j = 0; j < n; j++) {
            spkt *pk = emit(g);
            if (!pk)
                return ds_fail(g->err, DS_ENOMEM, "synth: out of memory for day %u", d);
            fill_scan(g, pk, s, r, base + time_in_day(r, g->mild));
        }
        if (n)
            s->emitted = 1;
    }
    /* the diurnal botnet */
    uint32_t nb = (uint32_t)g->diurnal_per_day + (rng_unit(r) < g->diurnal_per_day - floor(g->diurnal_per_day));
    for (uint32_t j = 0; j < nb && g->nbots; j++) {
        source *b = &g->bots[rng_below(r, (uint32_t)g->nbots)];
        spkt *pk = emit(g);
        if (!pk)
            return ds_fail(g->err, DS_ENOMEM, "synth: out of memory for day %u", d);
        pk->ts = base + time_in_day(r, g->strong);
        if (pk->ts < g->dn_first || !g->dn_first)
            g->dn_first = pk->ts;
        if (pk->ts > g->dn_last)
            g->dn_last = pk->ts;
        pk->src = b->addr;
        pk->dst = random_dark(g, r);
        pk->cat = DS_SYNTH_CAT_DIURNAL;
        pk->cc = b->cc;
        pk->ttl = b->ttl;
        pk->ipid = (uint16_t)rng_u32(r);
        pk->kind = W_TCP;
        pk->tcpflags = 0x02;
        pk->dport = g->dn_port;
        pk->sport = (uint16_t)(49152 + rng_below(r, 16384));
        pk->seq = rng_u32(r);
        pk->win = b->win;
        pk->opt = OPT_WIN;
        b->emitted = 1;
    }
    return DS_OK;
}

static ds_rc gen_noise(gen *g, uint32_t d, rng *r)
{
    uint64_t base = day_ns(g, d);
    for (int cat = DS_SYNTH_CAT_OUTSIDE; cat <= DS_SYNTH_CAT_OTHER_FLAGS; cat++) {
        double want = g->noise_per_day[cat];
        uint32_t n = (uint32_t)want + (rng_unit(r) < want - floor(want));
        for (uint32_t j = 0; j < n; j++) {
            if (!g->nsrc)
                break;
            const source *s = &g->src[rng_below(r, (uint32_t)g->nsrc)];
            spkt *k = emit(g);
            if (!k)
                return ds_fail(g->err, DS_ENOMEM, "synth: out of memory for day %u", d);
            uint64_t ts = base + time_in_day(r, g->mild);
            switch (cat) {
            case DS_SYNTH_CAT_OUTSIDE:
                fill_scan(g, k, s, r, ts);
                k->dst = random_outside(g, r);
                if (s->cat == DS_SYNTH_CAT_MIRAI)
                    k->seq = k->dst;
                break;
            case DS_SYNTH_CAT_ARP:
                k->ts = ts;
                k->kind = W_ARP;
                k->dst = random_dark(g, r);
                k->src = g->r4[0].start - 2;                         /* the upstream router */
                break;
            case DS_SYNTH_CAT_FRAGMENT:
                fill_scan(g, k, s, r, ts);
                k->kind = W_FRAG;
                k->opt = (uint8_t)rng_below(r, 2);                 /* 0 first fragment, 1 later */
                k->dport = 53;
                k->sport = (uint16_t)(1024 + rng_below(r, 64512));
                break;
            case DS_SYNTH_CAT_IPV6:
                k->ts = ts;
                k->kind = rng_below(r, 2) ? W_V6_TCP : W_V6_ICMP;
                k->aux = rng_below(r, (uint32_t)g->n6);
                k->src = rng_u32(r);
                k->dst = rng_u32(r);
                k->seq = rng_u32(r);
                k->ack = rng_u32(r);
                static const uint16_t v6ports[] = { 22, 80, 443, 445, 3389 };
                k->dport = v6ports[rng_below(r, 5)];
                k->sport = (uint16_t)(32768 + rng_below(r, 28232));
                k->ttl = (uint8_t)(64 - 6 - rng_below(r, 18));
                k->win = 64800;
                k->cc = 0;
                break;
            default: /* other flags: ACK-only or FIN, stray ends of connections */
                fill_scan(g, k, s, r, ts);
                k->kind = W_TCP;
                k->tcpflags = rng_below(r, 2) ? 0x10 : 0x01;
                k->ack = rng_u32(r);
                k->seq = rng_u32(r);
                k->opt = OPT_NONE;
                if (!k->dport)
                    k->dport = 80;
                break;
            }
            k->cat = (uint8_t)cat;
        }
    }
    return DS_OK;
}

static ds_rc gen_events(gen *g, uint32_t d)
{
    uint64_t lo = day_ns(g, d), hi = lo + NS_PER_DAY;
    for (size_t i = 0; i < g->nev; i++) {
        event *e = &g->ev[i];
        if (e->start >= hi || e->start + e->dur <= lo)
            continue;
        for (uint32_t j = 0; j < e->npk; j++) {
            uint64_t h = mix64(e->seed ^ (j * 0x9e3779b97f4a7c15ull));
            uint64_t ts = e->start + h % e->dur;
            if (ts < lo || ts >= hi)
                continue;
            uint64_t h2 = mix64(h), h3 = mix64(h2);
            spkt *k = emit(g);
            if (!k)
                return ds_fail(g->err, DS_ENOMEM, "synth: out of memory for day %u", d);
            k->ts = ts;
            k->src = e->src;
            k->cc = e->cc;
            e->emitted++;
            switch (e->type) {
            case EV_ZMAP:
                k->cat = DS_SYNTH_CAT_ZMAP;
                k->kind = W_TCP;
                k->tcpflags = 0x02;
                k->dst = g->sweep_sampled ? dark_addr(g, h2 % g->v4total) : dark_addr(g, j);
                k->dport = e->port;
                k->sport = (uint16_t)(32768 + hash_below(h2, 28232));  /* zmap's default range */
                k->seq = (uint32_t)h3;                                /* validation bytes */
                k->ipid = 54321;
                k->ttl = 255;
                k->win = 65535;
                k->opt = e->variant ? OPT_WIN : OPT_MSS;
                break;
            case EV_MASSCAN:
                k->cat = DS_SYNTH_CAT_MASSCAN;
                k->kind = W_TCP;
                k->tcpflags = 0x02;
                k->dst = g->sweep_sampled ? dark_addr(g, h2 % g->v4total) : dark_addr(g, j);
                k->dport = e->port;
                k->sport = e->sport;
                /* syn-cookie: a keyed hash of the 4-tuple; IP ID = ip_them ^ port_them ^ seqno */
                k->seq = (uint32_t)mix64(e->seed ^ ((uint64_t)k->dst << 16 | k->dport) ^ ((uint64_t)k->src << 32));
                k->ipid = (uint16_t)((k->dst ^ k->dport ^ k->seq) & 0xffff);
                k->ttl = 255;
                k->win = 1024;
                k->opt = e->variant ? OPT_NONE : OPT_MSS;
                break;
            case EV_NMAP: {
                uint32_t nports = e->victim_port_or_nports, pi = j % nports, ai = j / nports;
                k->cat = DS_SYNTH_CAT_NMAP;
                k->kind = W_TCP;
                k->tcpflags = 0x02;
                k->dst = dark_addr(g, (e->addr_base + (uint64_t)ai * 7) % g->v4total);
                k->dport = pi < sizeof nmap_top / sizeof nmap_top[0]
                               ? nmap_top[pi]
                               : (uint16_t)(1 + hash_below(mix64(e->seed + pi), 65535));
                for (uint64_t x = e->seed + pi; g->port_banned[k->dport];)
                    k->dport = (uint16_t)(1 + hash_below(x = mix64(x), 65535));
                k->sport = e->sport;
                k->seq = (uint32_t)h3;
                k->ipid = (uint16_t)(h3 >> 32);
                k->ttl = (uint8_t)(37 + hash_below(h2, 23));
                k->win = 1024;
                k->opt = OPT_MSS;
                break;
            }
            default: /* backscatter */
                k->cat = DS_SYNTH_CAT_BACKSCATTER;
                k->dst = dark_addr(g, h2 % g->v4total);
                k->ttl = e->ttl;
                k->ipid = (uint16_t)(h3 >> 48);
                switch (e->variant) {
                case BS_SYNACK:
                case BS_RSTACK:
                    k->kind = W_TCP;
                    k->sport = e->port;
                    k->dport = (uint16_t)(1024 + hash_below(h3, 64512));
                    for (uint64_t x = h3; g->port_banned[k->dport];)
                        k->dport = (uint16_t)(1024 + hash_below(x = mix64(x), 64512));
                    k->ack = (uint32_t)h3 + 1;
                    if (e->variant == BS_SYNACK) {
                        k->tcpflags = 0x12;
                        k->seq = (uint32_t)(h2 >> 32);
                        k->win = 65160;
                        k->opt = OPT_MSS;
                    } else {
                        k->tcpflags = 0x14;
                        k->win = 0;
                        k->opt = OPT_NONE;
                    }
                    break;
                case BS_ECHOREPLY:
                    k->kind = W_ICMP_ECHO;
                    k->tcpflags = 0;                                  /* ICMP type: echo reply */
                    k->opt = 56;
                    k->aux = (uint32_t)h3;
                    break;
                default:
                    k->kind = W_ICMP_UNREACH;
                    k->aux = e->src;                                  /* quoted dst: the victim */
                    k->dport = e->port;
                    k->sport = (uint16_t)(1024 + hash_below(h3, 64512));
                    k->seq = (uint32_t)h3;                            /* quoted IP ID / payload */
                    break;
                }
                break;
            }
        }
    }
    return DS_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* Phenomena: one day's packets.  A phenomenon's day is a pure function of (its seed, the day). */

static inline int weekday_of(uint64_t ns) { return (int)((ns / NS_PER_DAY + 4) % 7); }   /* 0 Sunday */

/* Bresenham: is packet j one of the share q (0 <= q <= 1) spread evenly over the packets?  Of the
 * first n packets, exactly floor(n q) are. */
static inline int in_share(uint64_t j, double q)
{
    return floor((double)(j + 1) * q) > floor((double)j * q);
}

static inline void fill_head(gen *g, spkt *k, const source *s, rng *r, uint64_t ts)
{
    k->ts = ts;
    k->src = s->addr;
    k->dst = random_dark(g, r);
    k->cc = s->cc;
    k->ttl = s->ttl;
    k->ipid = (uint16_t)rng_u32(r);
}

static inline void note(phen *ph, source *s, uint64_t ts)
{
    s->emitted = 1;
    ph->packets++;
    if (ts < ph->first_ts)
        ph->first_ts = ts;
    if (ts > ph->last_ts)
        ph->last_ts = ts;
}

static ds_rc gen_tool_day(gen *g, phen *ph, uint32_t d, rng *r)
{
    uint64_t lo = day_ns(g, d);
    for (uint32_t i = 0; i < ph->nsrc; i++) {
        source *s = &g->psrc[ph->first_src + i];
        if (d < s->first_day || d >= (uint32_t)s->first_day + s->span)
            continue;
        double want = s->count * (0.8 + 0.4 * rng_unit(r));
        uint32_t n = (uint32_t)want + (rng_unit(r) < want - floor(want));
        for (uint32_t j = 0; j < n; j++) {
            spkt *k = emit(g);
            if (!k)
                return ds_fail(g->err, DS_ENOMEM, "synth: out of memory for day %u", d);
            fill_head(g, k, s, r, lo + time_in_day(r, g->mild));
            k->cat = DS_SYNTH_CAT_TOOL_PAYLOAD;
            k->sport = s->sport;
            if (ph->tool == DS_SYNTH_TOOL_NACHI) {
                k->kind = W_ICMP_ECHO;
                k->tcpflags = 8;
                k->opt = 64;                                 /* 64 bytes of 0xAA: IP total length 92 */
                k->payload = PL_NACHI;
                k->aux = (uint32_t)s->sport << 16 | (uint16_t)(k->ts / NS_PER_SEC);
            } else {
                k->kind = W_UDP;
                k->dport = ph->port;
                k->aux = rng_u32(r);
                k->seq = rng_u32(r);
                if (ph->tool == DS_SYNTH_TOOL_SLAMMER) {
                    k->payload = PL_SLAMMER;
                } else {
                    k->payload = s->svc[0];                  /* OPTIONS or REGISTER */
                    k->opt = (uint8_t)(ph->tool - DS_SYNTH_TOOL_SIPVICIOUS);   /* User-Agent */
                }
            }
            note(ph, s, k->ts);
        }
    }
    return DS_OK;
}

static const uint8_t ph_cat[] = {
    [PH_SPIKE_CC] = DS_SYNTH_CAT_SPIKE, [PH_SPIKE_SVC] = DS_SYNTH_CAT_SPIKE, [PH_SURGE] = DS_SYNTH_CAT_SURGE,
    [PH_NEW_SERVICE] = DS_SYNTH_CAT_NEW_SERVICE, [PH_SINGLE] = DS_SYNTH_CAT_SINGLE_SOURCE,
    [PH_WEEKLY] = DS_SYNTH_CAT_WEEKLY, [PH_TOOL] = DS_SYNTH_CAT_TOOL_PAYLOAD,
};

static ds_rc gen_phenomena(gen *g, uint32_t d)
{
    uint64_t lo = day_ns(g, d), hi = lo + NS_PER_DAY;
    for (size_t i = 0; i < g->nph; i++) {
        phen *ph = &g->ph[i];
        if (ph->start >= hi || ph->end <= lo || !ph->nsrc)
            continue;
        rng r;
        rng_seed(&r, ph->seed, d);
        if (ph->type == PH_TOOL) {
            ds_rc rc = gen_tool_day(g, ph, d, &r);
            if (rc != DS_OK)
                return rc;
            continue;
        }
        uint64_t a = ph->start > lo ? ph->start : lo, b = ph->end < hi ? ph->end : hi;
        double level = 1;
        uint32_t n_cc = ph->nsrc_cc, n_other = ph->nsrc - ph->nsrc_cc;
        if (ph->type == PH_SURGE) {
            /* the volume is there from the first day; the hosts join over ramp_days */
            uint32_t since = d - (uint32_t)((ph->start - day_ns(g, 0)) / NS_PER_DAY);
            double frac = (since + 1.0) / ph->ramp_days;
            if (frac < 1) {
                n_cc = (uint32_t)(n_cc * frac);
                n_other = (uint32_t)(n_other * frac);
            }
            n_cc += !n_cc && ph->nsrc_cc;
            n_other += !n_other && ph->nsrc > ph->nsrc_cc;
            level = since == 0 ? 0.5 : 1;
        } else if (ph->type == PH_WEEKLY) {
            int wd = weekday_of(lo);
            if (ph->weekdays)
                level = wd == ph->weekday ? 1 : (wd >= 1 && wd <= 5) ? 0.625 : ph->low;
            else
                level = wd == ph->weekday ? 1 : ph->low;
        }
        double want = ph->per_day * level * (double)(b - a) / (double)NS_PER_DAY * (0.85 + 0.3 * rng_unit(&r));
        uint32_t n = (uint32_t)want + (rng_unit(&r) < want - floor(want));
        for (uint32_t j = 0; j < n; j++) {
            spkt *k = emit(g);
            if (!k)
                return ds_fail(g->err, DS_ENOMEM, "synth: out of memory for day %u", d);
            uint64_t ts = a + rng_next(&r) % (b - a);
            source *s;
            if (ph->type == PH_SURGE) {
                /* counted over the whole surge (ph->packets so far), so the shares hold exactly */
                int other = n_other && (!n_cc || in_share(ph->packets, 1 - ph->cc_share));
                s = &g->psrc[ph->first_src + (other ? ph->nsrc_cc + rng_below(&r, n_other) : rng_below(&r, n_cc))];
                fill_head(g, k, s, &r, ts);
                fill_probe(k, s, &r, ph->proto, ph->port);
                if (!in_share(ph->packets, 1 - ph->sport_share))
                    k->sport = ph->sport;
                ph->cc_packets += s->cc == ph->cc;
                ph->sport_packets += k->sport == ph->sport;
            } else {
                s = &g->psrc[ph->first_src + rng_below(&r, ph->nsrc)];
                if (ph->type == PH_SPIKE_CC) {
                    fill_scan(g, k, s, &r, ts);
                } else {
                    fill_head(g, k, s, &r, ts);
                    fill_probe(k, s, &r, ph->proto, ph->port);
                }
            }
            k->cat = ph_cat[ph->type];
            note(ph, s, ts);
        }
    }
    return DS_OK;
}

/* Stable LSD radix sort on the ns offset within the day (< 2^47: three 16-bit digits). */
static void sort_day(gen *g, uint64_t base)
{
    size_t *cnt = g->radix;
    spkt *a = g->day, *b = g->tmp;
    for (int pass = 0; pass < 3; pass++) {
        int sh = pass * 16;
        memset(cnt, 0, 65536 * sizeof *cnt);
        for (size_t i = 0; i < g->nday; i++)
            cnt[((a[i].ts - base) >> sh) & 0xffff]++;
        size_t sum = 0;
        for (size_t i = 0; i < 65536; i++) {
            size_t c = cnt[i];
            cnt[i] = sum;
            sum += c;
        }
        for (size_t i = 0; i < g->nday; i++)
            b[cnt[((a[i].ts - base) >> sh) & 0xffff]++] = a[i];
        spkt *t = a;
        a = b;
        b = t;
    }
    /* three passes: the sorted data is in the buffer that started as tmp */
    g->tmp = g->day;
    g->day = a;
}

/* ------------------------------------------------------------------------------------------ */
/* Wire format */

static inline void be16(uint8_t *p, uint32_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static inline void be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}
static inline void le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24);
}
static inline uint32_t sum16(const uint8_t *p, size_t n, uint32_t sum)
{
    for (size_t i = 0; i + 1 < n; i += 2)
        sum += (uint32_t)p[i] << 8 | p[i + 1];
    if (n & 1)
        sum += (uint32_t)p[n - 1] << 8;
    return sum;
}
static inline uint16_t fold(uint32_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

static const uint8_t mac_sensor[6] = { 0x02, 0x00, 0x5e, 0x10, 0x00, 0x01 };
static const uint8_t mac_router[6] = { 0x02, 0x00, 0x5e, 0x10, 0x00, 0xfe };

static size_t put_ipv4(uint8_t *p, uint16_t total, uint16_t id, uint16_t frag, uint8_t ttl,
                       uint8_t proto, uint32_t src, uint32_t dst)
{
    p[0] = 0x45; p[1] = 0;
    be16(p + 2, total); be16(p + 4, id); be16(p + 6, frag);
    p[8] = ttl; p[9] = proto; p[10] = p[11] = 0;
    be32(p + 12, src); be32(p + 16, dst);
    be16(p + 10, fold(sum16(p, 20, 0)));
    return 20;
}
static inline uint32_t pseudo4(uint32_t src, uint32_t dst, uint8_t proto, uint32_t len)
{
    return (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) + proto + len;
}

static size_t tcp_options(uint8_t *o, int opt, uint32_t tsval)
{
    static const uint8_t mss[4] = { 2, 4, 0x05, 0xb4 };
    static const uint8_t win[12] = { 2, 4, 0x05, 0xb4, 1, 3, 3, 8, 1, 1, 4, 2 };
    switch (opt) {
    case OPT_MSS: memcpy(o, mss, 4); return 4;
    case OPT_WIN: memcpy(o, win, 12); return 12;
    case OPT_LINUX:
        /* MSS, SACK permitted, timestamps, NOP, window scale 7: Linux's SYN layout */
        memcpy(o, mss, 4);
        o[4] = 4; o[5] = 2; o[6] = 8; o[7] = 10;
        be32(o + 8, tsval); be32(o + 12, 0);
        o[16] = 1; o[17] = 3; o[18] = 3; o[19] = 7;
        return 20;
    default: return 0;
    }
}

/* UDP probe payloads, as the usual scanners send them. */
static const uint8_t dns_q[] = { 0, 0, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0,
    7, 'v', 'e', 'r', 's', 'i', 'o', 'n', 4, 'b', 'i', 'n', 'd', 0, 0, 16, 0, 3 };
static const uint8_t mdns_q[] = { 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0,
    9, '_', 's', 'e', 'r', 'v', 'i', 'c', 'e', 's', 7, '_', 'd', 'n', 's', '-', 's', 'd',
    4, '_', 'u', 'd', 'p', 5, 'l', 'o', 'c', 'a', 'l', 0, 0, 12, 0, 1 };
static const uint8_t snmp_q[] = { 0x30, 0x29, 0x02, 0x01, 0x01, 0x04, 0x06, 'p', 'u', 'b', 'l', 'i', 'c',
    0xa0, 0x1c, 0x02, 0x04, 0, 0, 0, 0, 0x02, 0x01, 0x00, 0x02, 0x01, 0x00, 0x30, 0x0e, 0x30, 0x0c,
    0x06, 0x08, 0x2b, 0x06, 0x01, 0x02, 0x01, 0x01, 0x01, 0x00, 0x05, 0x00 };
static const char ssdp_q[] = "M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\n"
                             "MAN: \"ssdp:discover\"\r\nMX: 1\r\nST: ssdp:all\r\n\r\n";
/* The population's SIP probe names no User-Agent: the planted SIP tools (below) are the only
 * sources whose payload names a scanner, so the truth file can list every one of them. */
static const char sip_q[] = "OPTIONS sip:100@example.invalid SIP/2.0\r\n"
                            "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK-1\r\nMax-Forwards: 70\r\n"
                            "To: <sip:100@example.invalid>\r\nFrom: <sip:100@example.invalid>;tag=1\r\n"
                            "Call-ID: 1\r\nCSeq: 1 OPTIONS\r\n"
                            "Content-Length: 0\r\n\r\n";
static const char memcache_q[] = "\0\1\0\0\0\1\0\0stats\r\n";

static size_t udp_payload(uint8_t *o, uint16_t dport, uint32_t rnd)
{
    switch (dport) {
    case 53: memcpy(o, dns_q, sizeof dns_q); be16(o, rnd); return sizeof dns_q;
    case 5353: memcpy(o, mdns_q, sizeof mdns_q); return sizeof mdns_q;
    case 161: memcpy(o, snmp_q, sizeof snmp_q); be32(o + 17, rnd & 0x7fffffff); return sizeof snmp_q;
    case 1900: memcpy(o, ssdp_q, sizeof ssdp_q - 1); return sizeof ssdp_q - 1;
    case 5060: memcpy(o, sip_q, sizeof sip_q - 1); return sizeof sip_q - 1;
    case 11211: memcpy(o, memcache_q, sizeof memcache_q - 1); return sizeof memcache_q - 1;
    case 123:
        /* NTPv4 client request (mode 3), transmit timestamp random */
        memset(o, 0, 48);
        o[0] = 0xe3;
        be32(o + 40, rnd);
        return 48;
    default:
        for (int i = 0; i < 16; i++)
            o[i] = (uint8_t)(rnd >> (i % 4 * 8)) ^ (uint8_t)(i * 37);
        return 16;
    }
}

/* Payload-identified tools.  SIP requests (RFC 3261) as SIPVicious's svmap (OPTIONS) and svwar
 * (REGISTER) send them, with the User-Agent that names the tool; sipcli and VaxSIPUserAgent
 * are the other scanners seen in darknets.  Formatted per packet, which is fine: a run has a
 * few thousand of them. */
static const char *const sip_agents[] = { "friendly-scanner", "sipcli/v1.8", "VaxSIPUserAgent/3.1" };
#define SIP_MAX 900
static size_t sip_payload(uint8_t *o, const spkt *k)
{
    char src[16], dst[16];
    snprintf(src, sizeof src, "%u.%u.%u.%u", k->src >> 24, k->src >> 16 & 255, k->src >> 8 & 255, k->src & 255);
    snprintf(dst, sizeof dst, "%u.%u.%u.%u", k->dst >> 24, k->dst >> 16 & 255, k->dst >> 8 & 255, k->dst & 255);
    unsigned ext = 100 + k->seq % 900;
    const char *ua = sip_agents[k->opt % 3];
    int n;
    if (k->payload == PL_SIP_OPTIONS)
        n = snprintf((char *)o, SIP_MAX,
                     "OPTIONS sip:%u@%s SIP/2.0\r\nVia: SIP/2.0/UDP %s:%u;branch=z9hG4bK-%u;rport\r\n"
                     "Max-Forwards: 70\r\nTo: <sip:%u@%s>\r\nFrom: <sip:%u@%s>;tag=%08x\r\n"
                     "User-Agent: %s\r\nCall-ID: %u\r\nContact: <sip:%u@%s:%u>\r\nCSeq: 1 OPTIONS\r\n"
                     "Accept: application/sdp\r\nContent-Length: 0\r\n\r\n",
                     ext, dst, src, k->sport, k->aux, ext, dst, ext, dst, k->seq, ua, k->aux ^ k->seq, ext, src, k->sport);
    else
        n = snprintf((char *)o, SIP_MAX,
                     "REGISTER sip:%s SIP/2.0\r\nVia: SIP/2.0/UDP %s:%u;branch=z9hG4bK-%u;rport\r\n"
                     "Max-Forwards: 70\r\nTo: <sip:%u@%s>\r\nFrom: <sip:%u@%s>;tag=%08x\r\n"
                     "User-Agent: %s\r\nCall-ID: %u\r\nContact: <sip:%u@%s:%u>\r\nCSeq: 1 REGISTER\r\n"
                     "Content-Length: 0\r\n\r\n",
                     dst, src, k->sport, k->aux, ext, dst, ext, dst, k->seq, ua, k->aux ^ k->seq, ext, src, k->sport);
    return n > 0 && n < SIP_MAX ? (size_t)n : 0;
}

/* SQL Slammer's datagram to the SQL Server Resolution Service (1434/udp) is 376 bytes: 0x04 (the
 * request type it abuses), then a long run of 0x01 filler, then its code.  This payload keeps the
 * well-known head (0x04 and the 0x01 run) and the length, and carries inert filler plus the
 * names the worm resolves, never the worm's code. */
#define SLAMMER_LEN 376
static size_t slammer_payload(uint8_t *o)
{
    static const char names[] = "kernel32.dll\0GetTickCount\0ws2_32.dll\0socket\0sendto\0";
    o[0] = 0x04;
    memset(o + 1, 0x01, SLAMMER_LEN - 1);
    memcpy(o + SLAMMER_LEN - sizeof names - 8, names, sizeof names);
    return SLAMMER_LEN;
}

/* Build the frame for k at out; return its length. */
static size_t build_frame(const gen *g, const spkt *k, uint8_t *out)
{
    int ether = g->p->linktype == DS_SYNTH_LINK_ETHER;
    uint8_t *ip = out;
    if (ether) {
        memcpy(out, k->kind == W_ARP ? (const uint8_t *)"\xff\xff\xff\xff\xff\xff" : mac_sensor, 6);
        memcpy(out + 6, mac_router, 6);
        be16(out + 12, k->kind == W_ARP ? 0x0806 : (k->kind >= W_V6_TCP ? 0x86dd : 0x0800));
        ip = out + 14;
    }
    size_t iplen = 0;
    switch (k->kind) {
    case W_TCP: {
        uint8_t *t = ip + 20;
        size_t ol = tcp_options(t + 20, k->opt, k->seq ^ 0x5a5a5a5a);
        size_t tl = 20 + ol;
        be16(t, k->sport); be16(t + 2, k->dport); be32(t + 4, k->seq); be32(t + 8, k->ack);
        t[12] = (uint8_t)((tl / 4) << 4); t[13] = k->tcpflags;
        be16(t + 14, k->win); t[16] = t[17] = 0; t[18] = t[19] = 0;
        be16(t + 16, fold(sum16(t, tl, pseudo4(k->src, k->dst, 6, (uint32_t)tl))));
        iplen = 20 + tl;
        /* OS stacks set DF on SYNs and replies; raw-socket scanners leave the field zero */
        uint16_t df = (k->opt == OPT_LINUX || k->opt == OPT_WIN || k->cat == DS_SYNTH_CAT_BACKSCATTER) ? 0x4000 : 0;
        put_ipv4(ip, (uint16_t)iplen, k->ipid, df, k->ttl, 6, k->src, k->dst);
        break;
    }
    case W_UDP: {
        uint8_t *u = ip + 20;
        size_t pl = k->payload == PL_SLAMMER ? slammer_payload(u + 8)
                    : k->payload ? sip_payload(u + 8, k) : udp_payload(u + 8, k->dport, k->aux);
        size_t ul = 8 + pl;
        be16(u, k->sport); be16(u + 2, k->dport); be16(u + 4, (uint16_t)ul); u[6] = u[7] = 0;
        uint16_t cs = fold(sum16(u, ul, pseudo4(k->src, k->dst, 17, (uint32_t)ul)));
        be16(u + 6, cs ? cs : 0xffff);
        iplen = 20 + ul;
        put_ipv4(ip, (uint16_t)iplen, k->ipid, 0, k->ttl, 17, k->src, k->dst);
        break;
    }
    case W_ICMP_ECHO: {
        uint8_t *c = ip + 20;
        size_t pl = k->opt;
        c[0] = k->tcpflags; c[1] = 0; c[2] = c[3] = 0;
        be32(c + 4, k->aux);
        if (k->payload == PL_NACHI)
            memset(c + 8, 0xaa, pl);                         /* Nachi / Welchia's ping */
        else
            for (size_t i = 0; i < pl; i++)
                c[8 + i] = pl == 32 ? (uint8_t)('a' + i % 23) : (uint8_t)(0x10 + i);
        be16(c + 2, fold(sum16(c, 8 + pl, 0)));
        iplen = 20 + 8 + pl;
        put_ipv4(ip, (uint16_t)iplen, k->ipid, 0, k->ttl ? k->ttl : 64, 1, k->src, k->dst);
        break;
    }
    case W_ICMP_UNREACH: {
        /* RFC 792 port unreachable quoting the spoofed UDP datagram: IP header + 8 bytes */
        uint8_t *c = ip + 20, *q = c + 8;
        c[0] = 3; c[1] = 3; c[2] = c[3] = 0; be32(c + 4, 0);
        put_ipv4(q, 20 + 8 + 32, (uint16_t)k->seq, 0, (uint8_t)(40 + (k->seq >> 24) % 20), 17, k->dst, k->aux);
        be16(q + 20, k->sport); be16(q + 22, k->dport); be16(q + 24, 8 + 32); be16(q + 26, (uint16_t)(k->seq >> 8));
        be16(c + 2, fold(sum16(c, 8 + 28, 0)));
        iplen = 20 + 8 + 28;
        put_ipv4(ip, (uint16_t)iplen, k->ipid, 0, k->ttl, 1, k->src, k->dst);
        break;
    }
    case W_FRAG: {
        /* a fragmented UDP datagram (576-byte fragments): the first carries the UDP header */
        uint8_t *u = ip + 20;
        size_t pl = k->opt == 0 ? 556 : 120;
        for (size_t i = 0; i < pl; i++)
            u[i] = (uint8_t)(i * 13 + k->ipid);
        if (k->opt == 0) {
            be16(u, k->sport); be16(u + 2, k->dport); be16(u + 4, 8 + 548 + 120); be16(u + 6, 0);
        }
        iplen = 20 + pl;
        put_ipv4(ip, (uint16_t)iplen, k->ipid, k->opt == 0 ? 0x2000 : (556 / 8), k->ttl, 17, k->src, k->dst);
        break;
    }
    case W_ARP: {
        if (!ether)
            return 0;
        uint8_t *a = ip;
        be16(a, 1); be16(a + 2, 0x0800); a[4] = 6; a[5] = 4; be16(a + 6, 1);
        memcpy(a + 8, mac_router, 6); be32(a + 14, k->src);
        memset(a + 18, 0, 6); be32(a + 24, k->dst);
        iplen = 28;
        break;
    }
    default: { /* IPv6: TCP SYN or ICMPv6 echo request to a darknet6 address */
        const range6 *r6 = &g->r6[k->aux];
        uint8_t src6[16] = { 0x2a, 0x0e, 0x97, 0xc0, 0x05, 0x10 }, dst6[16];
        be32(src6 + 8, k->src); be32(src6 + 12, k->seq);
        uint8_t rnd[16] = { 0 };
        be32(rnd + 8, k->dst); be32(rnd + 12, k->ack);
        be32(rnd + 4, k->ack ^ k->dst);
        for (int i = 0; i < 16; i++) {
            int bits = r6->len - i * 8;
            uint8_t mask = bits >= 8 ? 0xff : bits <= 0 ? 0 : (uint8_t)(0xff << (8 - bits));
            dst6[i] = (uint8_t)((r6->net[i] & mask) | (rnd[i] & ~mask));
        }
        uint8_t *l4 = ip + 40;
        size_t l4len;
        uint8_t nh;
        if (k->kind == W_V6_TCP) {
            nh = 6;
            l4len = 20 + tcp_options(l4 + 20, OPT_LINUX, k->seq);
            be16(l4, k->sport); be16(l4 + 2, k->dport); be32(l4 + 4, k->seq); be32(l4 + 8, 0);
            l4[12] = (uint8_t)((l4len / 4) << 4); l4[13] = 0x02; be16(l4 + 14, k->win);
            l4[16] = l4[17] = l4[18] = l4[19] = 0;
        } else {
            nh = 58;
            l4len = 8 + 16;
            l4[0] = 128; l4[1] = 0; l4[2] = l4[3] = 0; be32(l4 + 4, k->ack);
            for (int i = 0; i < 16; i++)
                l4[8 + i] = (uint8_t)i;
        }
        uint32_t ps = sum16(src6, 16, 0);
        ps = sum16(dst6, 16, ps) + (uint32_t)l4len + nh;
        be16(l4 + (nh == 6 ? 16 : 2), fold(sum16(l4, l4len, ps)));
        be32(ip, 0x60000000u | (k->seq & 0xfffff));
        be16(ip + 4, (uint16_t)l4len); ip[6] = nh; ip[7] = k->ttl;
        memcpy(ip + 8, src6, 16); memcpy(ip + 24, dst6, 16);
        iplen = 40 + l4len;
        break;
    }
    }
    size_t len = (size_t)(ip - out) + iplen;
    if (ether && len < 60) {          /* Ethernet minimum frame (without FCS), zero padded */
        memset(out + len, 0, 60 - len);
        len = 60;
    }
    return len;
}

/* Output is double-buffered: a writer thread fwrite()s one full 8 MiB buffer while generation
 * fills the other, so building packets and the kernel's copy into the page cache overlap
 * (alone, each takes about half the time of a quarter's run). */
static void *writer_main(void *arg)
{
    gen *g = arg;
    pthread_mutex_lock(&g->mu);
    for (;;) {
        while (!g->full_len && !g->stop)
            pthread_cond_wait(&g->cv, &g->mu);
        if (!g->full_len)
            break;
        uint8_t *b = g->full;
        size_t n = g->full_len;
        pthread_mutex_unlock(&g->mu);
        int ok = fwrite(b, 1, n, g->out) == n;
        pthread_mutex_lock(&g->mu);
        if (!ok)
            g->write_failed = 1;
        g->full_len = 0;
        pthread_cond_broadcast(&g->cv);
    }
    pthread_mutex_unlock(&g->mu);
    return NULL;
}

/* Wait until the writer has nothing in hand; report a failed write. */
static ds_rc writer_idle(gen *g)
{
    pthread_mutex_lock(&g->mu);
    while (g->full_len)
        pthread_cond_wait(&g->cv, &g->mu);
    int failed = g->write_failed;
    pthread_mutex_unlock(&g->mu);
    if (failed)
        return ds_fail(g->err, DS_EIO, "%s: write failed after at most %llu bytes", g->out_name,
                       (unsigned long long)g->st.bytes);
    return DS_OK;
}

static ds_rc flush_out(gen *g)
{
    ds_rc rc = writer_idle(g);
    if (rc != DS_OK || !g->blen)
        return rc;
    pthread_mutex_lock(&g->mu);
    g->full = g->buf;
    g->full_len = g->blen;
    pthread_cond_broadcast(&g->cv);
    pthread_mutex_unlock(&g->mu);
    g->st.bytes += g->blen;
    uint8_t *t = g->buf;
    g->buf = g->spare;
    g->spare = t;
    g->blen = 0;
    return DS_OK;
}

#define OUT_BUF (8u << 20)
#define MAX_RECORD 2048u

static ds_rc write_header(gen *g)
{
    uint8_t *h = g->buf;
    le32(h, g->p->nsec ? 0xa1b23c4du : 0xa1b2c3d4u);
    h[4] = 2; h[5] = 0; h[6] = 4; h[7] = 0;
    le32(h + 8, 0); le32(h + 12, 0);
    le32(h + 16, 262144);
    le32(h + 20, (uint32_t)g->p->linktype);
    g->blen = 24;
    return DS_OK;
}

static ds_rc write_day(gen *g)
{
    int nsec = g->p->nsec;
    for (size_t i = 0; i < g->nday; i++) {
        const spkt *k = &g->day[i];
        if (g->bcap - g->blen < MAX_RECORD) {
            ds_rc rc = flush_out(g);
            if (rc != DS_OK)
                return rc;
        }
        uint8_t *rec = g->buf + g->blen;
        size_t len = build_frame(g, k, rec + 16);
        if (!len)
            continue;
        uint64_t sec = k->ts / NS_PER_SEC, frac = k->ts % NS_PER_SEC;
        le32(rec, (uint32_t)sec);
        le32(rec + 4, (uint32_t)(nsec ? frac : frac / 1000));
        le32(rec + 8, (uint32_t)len);
        le32(rec + 12, (uint32_t)len);
        g->blen += 16 + len;
        /* bookkeeping, read off the wire fields so it says what the file holds */
        g->st.packets++;
        g->st.by_cat[k->cat]++;
        if (k->kind == W_ARP)
            continue;
        if (k->kind < W_V6_TCP)
            g->cc_count[k->cc]++;
        if (k->kind == W_TCP && (k->tcpflags & 0x02) && k->dport == 23)
            g->st.syn_dport23++;
        if (k->cat == DS_SYNTH_CAT_OUTSIDE || k->kind >= W_V6_TCP)
            continue;
        if (k->kind == W_TCP && k->tcpflags == 0x02)
            g->tcp_port[k->dport]++;
        else if (k->kind == W_UDP)
            g->udp_port[k->dport]++;
        else if (k->kind == W_ICMP_ECHO && k->tcpflags == 8)
            g->icmp_echo++;
    }
    return DS_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* Truth */

static void iso_time(uint64_t ns, char *buf, size_t len)
{
    time_t t = (time_t)(ns / NS_PER_SEC);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}
static void ip4_str(uint32_t a, char *buf)
{
    ds_ip ip;
    ds_ip_set4(&ip, a);
    ds_ip_format(&ip, buf, DS_IP_STRLEN);
}
static void json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

typedef struct portcount { uint32_t key; uint64_t n; } portcount;
static int cmp_portcount(const void *a, const void *b)
{
    const portcount *x = a, *y = b;
    if (x->n != y->n)
        return x->n > y->n ? -1 : 1;
    return x->key < y->key ? -1 : x->key > y->key;
}

/* The phenomena that sent packets, in order of their first packet, as ds_synth_phenomenon. */
static int cmp_out(const void *a, const void *b)
{
    const ds_synth_phenomenon *x = *(const ds_synth_phenomenon *const *)a, *y = *(const ds_synth_phenomenon *const *)b;
    if (x->start_ns != y->start_ns)
        return x->start_ns < y->start_ns ? -1 : 1;
    return x->type - y->type;
}
static ds_rc collect_phenomena(gen *g)
{
    size_t cap = g->nph + 1, n = 0;
    ds_synth_phenomenon *v = calloc(cap, sizeof *v), **order = calloc(cap, sizeof *order);
    const phen **src = calloc(cap, sizeof *src);
    ds_rc rc = DS_ENOMEM;
    if (!v || !order || !src) {
        ds_fail(g->err, DS_ENOMEM, "synth: out of memory listing phenomena");
        goto out;
    }
    if (g->st.by_cat[DS_SYNTH_CAT_DIURNAL]) {
        ds_synth_phenomenon *x = &v[n++];
        x->type = DS_SYNTH_PH_PERIODIC_DAILY;
        x->proto = 6;
        x->port = g->dn_port;
        if (g->p->country_of)
            memcpy(x->cc, g->dn_cc, 3);
        x->start_ns = g->dn_first;
        x->end_ns = g->dn_last;
        x->packets = g->st.by_cat[DS_SYNTH_CAT_DIURNAL];
        for (size_t i = 0; i < g->nbots; i++)
            x->hosts += g->bots[i].emitted;
        x->peak_hour_utc = ((g->dn_peak_local - g->dn_offset) % 24 + 24) % 24;
        x->utc_offset = g->dn_offset;
        x->factor = 1 / 0.03;                        /* peak over trough of the activity curve */
    }
    for (size_t i = 0; i < g->nph; i++) {
        const phen *ph = &g->ph[i];
        if (!ph->packets)
            continue;
        ds_synth_phenomenon *x = &v[n];
        src[n++] = ph;
        static const int types[] = {
            [PH_SPIKE_CC] = DS_SYNTH_PH_SPIKE, [PH_SPIKE_SVC] = DS_SYNTH_PH_SPIKE, [PH_SURGE] = DS_SYNTH_PH_SURGE,
            [PH_NEW_SERVICE] = DS_SYNTH_PH_NEW_SERVICE, [PH_SINGLE] = DS_SYNTH_PH_SINGLE_SOURCE,
            [PH_WEEKLY] = DS_SYNTH_PH_PERIODIC_WEEKLY, [PH_TOOL] = DS_SYNTH_PH_TOOL,
        };
        x->type = types[ph->type];
        x->tool = ph->tool;
        x->by_country = ph->type == PH_SPIKE_CC;
        x->proto = ph->proto;
        x->port = ph->port;
        if (ph->cc && g->p->country_of)
            memcpy(x->cc, g->cc_code[ph->cc], 3);
        x->sport = ph->sport;
        x->start_ns = ph->first_ts;
        x->end_ns = ph->last_ts;
        x->packets = ph->packets;
        x->factor = ph->factor;
        for (uint32_t k = 0; k < ph->nsrc; k++) {
            const source *s = &g->psrc[ph->first_src + k];
            if (s->emitted && !x->hosts++)
                x->source = s->addr;
        }
        if (ph->type == PH_SURGE) {
            x->country_share = (double)ph->cc_packets / (double)ph->packets;
            x->sport_share = (double)ph->sport_packets / (double)ph->packets;
        }
        x->peak_weekday = ph->weekday;
        x->weekdays = ph->weekdays;
    }
    for (size_t i = 0; i < n; i++)
        order[i] = &v[i];
    qsort(order, n, sizeof *order, cmp_out);
    g->out_ph = calloc(n + 1, sizeof *g->out_ph);
    g->out_src = calloc(n + 1, sizeof *g->out_src);
    if (!g->out_ph || !g->out_src) {
        ds_fail(g->err, DS_ENOMEM, "synth: out of memory listing phenomena");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        size_t at = (size_t)(order[i] - v);
        g->out_ph[i] = v[at];
        g->out_src[i] = src[at];
        if (i < DS_SYNTH_MAX_PHEN)
            g->st.phen[i] = v[at];
    }
    g->nout = n;
    g->st.nphen = (uint32_t)n;
    rc = DS_OK;
out:
    free(v);
    free(order);
    free(src);
    return rc;
}

static void svc_str(uint8_t proto, uint16_t port, char *buf, size_t len)
{
    snprintf(buf, len, "%u/%s", port, proto == 6 ? "tcp" : proto == 17 ? "udp" : "icmp");
}

static void write_phenomena(gen *g, FILE *f)
{
    static const char *const wdays[] = { "Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday" };
    char a[DS_IP_STRLEN], t0[32], t1[32], sv[24];
    fprintf(f, "  \"phenomena\": [");
    for (size_t i = 0; i < g->nout; i++) {
        const ds_synth_phenomenon *x = &g->out_ph[i];
        iso_time(x->start_ns, t0, sizeof t0);
        iso_time(x->end_ns, t1, sizeof t1);
        fprintf(f, "%s\n    {\"type\": \"%s\", \"service\": ", i ? "," : "", ds_synth_phenomenon_name(x->type));
        if (x->proto) {
            svc_str(x->proto, x->port, sv, sizeof sv);
            fprintf(f, "\"%s\"", sv);
        } else {
            fputs("null", f);
        }
        fputs(", \"country\": ", f);
        if (x->cc[0])
            fprintf(f, "\"%s\"", x->cc);
        else
            fputs("null", f);
        fprintf(f, ", \"start\": \"%s\", \"end\": \"%s\", \"packets\": %llu, \"hosts\": %u", t0, t1,
                (unsigned long long)x->packets, x->hosts);
        switch (x->type) {
        case DS_SYNTH_PH_SPIKE:
            fprintf(f, ", \"dimension\": \"%s\", \"factor\": %.1f", x->by_country ? "country" : "service", x->factor);
            break;
        case DS_SYNTH_PH_SURGE:
            fprintf(f, ", \"sport\": %u, \"factor\": %.1f, \"country_share\": ", x->sport, x->factor);
            if (x->cc[0])
                fprintf(f, "%.4f", x->country_share);
            else
                fputs("null", f);
            fprintf(f, ", \"sport_share\": %.4f", x->sport_share);
            break;
        case DS_SYNTH_PH_NEW_SERVICE:
            fprintf(f, ", \"factor\": %.1f", x->factor);
            break;
        case DS_SYNTH_PH_SINGLE_SOURCE:
            ip4_str(x->source, a);
            fprintf(f, ", \"source\": \"%s\", \"factor\": %.1f", a, x->factor);
            break;
        case DS_SYNTH_PH_PERIODIC_DAILY:
            fprintf(f, ", \"peak_hour_utc\": %d, \"utc_offset\": %d, \"peak_hour_local\": %d, \"factor\": %.1f",
                    x->peak_hour_utc, x->utc_offset, ((x->peak_hour_utc + x->utc_offset) % 24 + 24) % 24, x->factor);
            break;
        case DS_SYNTH_PH_PERIODIC_WEEKLY:
            fprintf(f, ", \"peak_weekday\": \"%s\", \"pattern\": \"%s\", \"factor\": %.1f",
                    wdays[x->peak_weekday % 7], x->weekdays ? "weekdays" : "one_day", x->factor);
            break;
        default: { /* tool */
            const phen *ph = g->out_src[i];
            fprintf(f, ", \"tool\": \"%s\"", ds_synth_tool_name(x->tool));
            if (x->tool >= DS_SYNTH_TOOL_SIPVICIOUS && x->tool <= DS_SYNTH_TOOL_VAXSIP)
                fprintf(f, ", \"user_agent\": \"%s\"", sip_agents[x->tool - DS_SYNTH_TOOL_SIPVICIOUS]);
            fputs(", \"sources\": [", f);
            int first = 1;
            for (uint32_t k = 0; ph && k < ph->nsrc; k++) {
                const source *s = &g->psrc[ph->first_src + k];
                if (!s->emitted)
                    continue;
                ip4_str(s->addr, a);
                fprintf(f, "%s\"%s\"", first ? "" : ", ", a);
                first = 0;
            }
            fputc(']', f);
            break;
        }
        }
        fputc('}', f);
    }
    fprintf(f, "\n  ],\n");
}

static ds_rc write_truth(gen *g, FILE *f)
{
    const ds_synth_params *p = g->p;
    char a[DS_IP_STRLEN], t0[32], t1[32];
    portcount *pc = malloc((2 * 65536 + 1) * sizeof *pc);
    if (!pc)
        return ds_fail(g->err, DS_ENOMEM, "synth: out of memory for the truth file");
    iso_time(day_ns(g, 0), t0, sizeof t0);
    fprintf(f, "{\n  \"generator\": \"darkscope synth\",\n  \"seed\": %llu,\n  \"start\": \"%s\",\n"
               "  \"days\": %u,\n  \"rate\": %.0f,\n  \"linktype\": \"%s\",\n  \"sensors\": [",
            (unsigned long long)p->seed, t0, p->days, p->rate,
            p->linktype == DS_SYNTH_LINK_ETHER ? "ether" : "raw");
    for (size_t s = 0; s < p->nsensors; s++) {
        fprintf(f, "%s\n    {\"name\": ", s ? "," : "");
        json_str(f, p->sensors[s].name);
        fprintf(f, ", \"prefixes\": [");
        for (size_t i = 0; i < p->sensors[s].nprefixes; i++) {
            const ds_prefix *px = &p->sensors[s].prefixes[i];
            fprintf(f, "%s\"%s/%u\"", i ? ", " : "", ds_ip_format(&px->addr, a, sizeof a), px->len);
        }
        fprintf(f, "]}");
    }
    fprintf(f, "\n  ],\n  \"totals\": {\n    \"packets\": %llu,\n    \"bytes\": %llu,\n"
               "    \"syn_dport23\": %llu,\n    \"distinct_sources\": %llu,\n    \"by_category\": {",
            (unsigned long long)g->st.packets, (unsigned long long)g->st.bytes,
            (unsigned long long)g->st.syn_dport23, (unsigned long long)g->st.distinct_sources);
    for (int c = 0; c < DS_SYNTH_CAT__COUNT; c++)
        fprintf(f, "%s\n      \"%s\": %llu", c ? "," : "", ds_synth_cat_name(c), (unsigned long long)g->st.by_cat[c]);
    fprintf(f, "\n    }\n  },\n");

    /* per_port: scan packets (TCP SYN, UDP, ICMP echo request) to the darknets, by service */
    size_t n = 0;
    uint64_t tail = 0;
    for (uint32_t port = 0; port < 65536; port++) {
        if (g->tcp_port[port])
            pc[n++] = (portcount){ 6u << 16 | port, g->tcp_port[port] };
        if (g->udp_port[port])
            pc[n++] = (portcount){ 17u << 16 | port, g->udp_port[port] };
    }
    if (g->icmp_echo)
        pc[n++] = (portcount){ 1u << 16 | 8, g->icmp_echo };
    qsort(pc, n, sizeof *pc, cmp_portcount);
    fprintf(f, "  \"per_port_note\": \"scan packets (TCP SYN, UDP, ICMP echo request) to the darknets by "
               "destination service; the top 200, the rest summed in other_ports\",\n  \"per_port\": {");
    for (size_t i = 0; i < n; i++) {
        if (i >= 200) {
            tail += pc[i].n;
            continue;
        }
        uint8_t proto = (uint8_t)(pc[i].key >> 16);
        fprintf(f, "%s\n    \"%u/%s\": %llu", i ? "," : "", pc[i].key & 0xffff,
                proto == 6 ? "tcp" : proto == 17 ? "udp" : "icmp", (unsigned long long)pc[i].n);
    }
    fprintf(f, "\n  },\n  \"other_ports\": %llu,\n  \"distinct_ports\": %zu,\n", (unsigned long long)tail, n);

    if (p->country_of) {
        n = 0;
        for (unsigned c = 0; c < g->ncc; c++)
            if (g->cc_count[c])
                pc[n++] = (portcount){ c, g->cc_count[c] };
        qsort(pc, n, sizeof *pc, cmp_portcount);
        fprintf(f, "  \"per_country\": {");
        for (size_t i = 0; i < n; i++)
            fprintf(f, "%s\n    \"%s\": %llu", i ? "," : "", g->cc_code[pc[i].key], (unsigned long long)pc[i].n);
        fprintf(f, "\n  },\n");
    }

    fprintf(f, "  \"backscatter\": [");
    int first = 1;
    for (size_t i = 0; i < g->nev; i++) {
        const event *e = &g->ev[i];
        if (e->type != EV_BURST)
            continue;
        iso_time(e->start, t0, sizeof t0);
        iso_time(e->start + e->dur, t1, sizeof t1);
        ip4_str(e->src, a);
        fprintf(f, "%s\n    {\"victim\": \"%s\", \"cc\": \"%s\", \"kind\": \"%s\", \"port\": %u, "
                   "\"start\": \"%s\", \"end\": \"%s\", \"packets\": %llu}",
                first ? "" : ",", a, g->cc_code[e->cc], bs_names[e->variant], e->port, t0, t1,
                (unsigned long long)e->emitted);
        first = 0;
    }
    fprintf(f, "\n  ],\n  \"scanners\": [");
    for (size_t i = 0; i < g->nsc; i++) {
        const scanner *s = &g->sc[i];
        ip4_str(s->addr, a);
        uint64_t pk = 0;
        for (size_t j = 0; j < g->nev; j++)
            if (g->ev[j].scanner == (int)i)
                pk += g->ev[j].emitted;
        if (s->type == EV_NMAP)
            fprintf(f, "%s\n    {\"tool\": \"nmap\", \"src\": \"%s\", \"cc\": \"%s\", \"window\": 1024, "
                       "\"scans\": %u, \"packets\": %llu}",
                    i ? "," : "", a, g->cc_code[s->cc], s->runs, (unsigned long long)pk);
        else
            fprintf(f, "%s\n    {\"tool\": \"%s\", \"src\": \"%s\", \"cc\": \"%s\", \"port\": %u, "
                       "\"ip_id\": \"%s\", \"daily\": %s, \"sweeps\": %u, \"packets\": %llu}",
                    i ? "," : "", s->type == EV_ZMAP ? "zmap" : "masscan", a, g->cc_code[s->cc], s->port,
                    s->type == EV_ZMAP ? "54321" : "dst^dport^seq", s->daily ? "true" : "false", s->runs,
                    (unsigned long long)pk);
    }
    int peak = ((g->dn_peak_local - g->dn_offset) % 24 + 24) % 24;
    fprintf(f, "\n  ],\n");
    write_phenomena(g, f);
    fprintf(f, "  \"mirai\": {\"sources\": %llu, \"packets\": %llu, \"ports\": \"23/tcp 90%%, 2323/tcp 10%%\"},\n"
               "  \"diurnal\": {\"sources\": %zu, \"port\": \"%u/tcp\", \"cc\": \"%s\", \"peak_hour_utc\": %d, "
               "\"packets\": %llu}\n}\n",
            (unsigned long long)g->st.mirai_sources, (unsigned long long)g->st.by_cat[DS_SYNTH_CAT_MIRAI],
            g->nbots, g->dn_port, p->country_of ? g->dn_cc : "ZZ", peak,
            (unsigned long long)g->st.by_cat[DS_SYNTH_CAT_DIURNAL]);
    free(pc);
    if (ferror(f))
        return ds_fail(g->err, DS_EIO, "synth: writing the truth file failed");
    return DS_OK;
}

/* ------------------------------------------------------------------------------------------ */

static const char *const cat_names[DS_SYNTH_CAT__COUNT] = {
    "mirai", "scan", "random_port", "diurnal", "zmap", "masscan", "nmap", "backscatter",
    "outside", "arp", "fragment", "ipv6", "other_flags",
    "spike", "surge", "new_service", "single_source", "weekly", "tool_payload",
};
const char *ds_synth_cat_name(int cat)
{
    return cat >= 0 && cat < DS_SYNTH_CAT__COUNT ? cat_names[cat] : "?";
}
static const char *const ph_names[DS_SYNTH_PH__COUNT] = {
    "spike", "surge", "new_service", "single_source", "periodic_daily", "periodic_weekly", "tool",
};
const char *ds_synth_phenomenon_name(int type)
{
    return type >= 0 && type < DS_SYNTH_PH__COUNT ? ph_names[type] : "?";
}
/* as data/payload-tools.tsv names them: sipcli and VaxSIPUserAgent are both "sip-other" */
static const char *const tool_names[DS_SYNTH_TOOL__COUNT] = {
    "", "sipvicious", "sip-other", "sip-other", "slammer", "nachi",
};
const char *ds_synth_tool_name(int tool)
{
    return tool >= 0 && tool < DS_SYNTH_TOOL__COUNT ? tool_names[tool] : "?";
}

void ds_synth_defaults(ds_synth_params *p)
{
    memset(p, 0, sizeof *p);
    p->seed = 1;
    p->start = 1688169600;            /* 2023-07-01T00:00:00Z */
    p->days = 92;
    p->rate = 18500;
    p->linktype = DS_SYNTH_LINK_ETHER;
    p->share_mirai = 0.42;
    p->share_scan = 0.45;
    p->share_random_port = 0.08;
    p->share_diurnal = 0.05;
    p->pareto_alpha = 0.9;
    p->pareto_min = 2;
    p->pareto_cap_frac = 0.01;
    p->frac_outside = 0.005;
    p->frac_arp = 0.002;
    p->frac_fragment = 0.002;
    p->frac_ipv6 = 0.002;
    p->frac_other_flags = 0.003;
    p->zmap_scanners = 5;
    p->masscan_scanners = 5;
    p->sweep_daily_frac = 0.5;
    p->sweep_other_prob = 0.08;
    p->nmap_hosts = 4;
    p->nmap_scans = 12;
    p->backscatter_bursts = 12;
    p->diurnal_bots = 300;
    p->diurnal_port = 0;              /* automatic, see synth.h */
    p->diurnal_peak_hour = -1;
    p->diurnal_utc_offset = 8;
    p->phenomena = 1;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}
static uint64_t count_unique(uint32_t *v, size_t n)
{
    if (!n)
        return 0;
    qsort(v, n, sizeof *v, cmp_u32);
    uint64_t u = 1;
    for (size_t i = 1; i < n; i++)
        u += v[i] != v[i - 1];
    return u;
}

static ds_rc finish_counts(gen *g)
{
    size_t cap = g->nsrc + g->nbots + g->nev + g->npsrc + 1;
    uint32_t *v = malloc(cap * sizeof *v);
    size_t n = 0, nm = 0;
    if (!v)
        return ds_fail(g->err, DS_ENOMEM, "synth: out of memory counting sources");
    for (size_t i = 0; i < g->nsrc; i++)
        if (g->src[i].emitted && g->src[i].cat == DS_SYNTH_CAT_MIRAI)
            v[nm++] = g->src[i].addr;
    g->st.mirai_sources = count_unique(v, nm);
    for (size_t i = 0; i < g->nsrc; i++)
        if (g->src[i].emitted)
            v[n++] = g->src[i].addr;
    for (size_t i = 0; i < g->nbots; i++)
        if (g->bots[i].emitted)
            v[n++] = g->bots[i].addr;
    for (size_t i = 0; i < g->nev; i++)
        if (g->ev[i].emitted)
            v[n++] = g->ev[i].src;
    for (size_t i = 0; i < g->npsrc; i++)
        if (g->psrc[i].emitted)
            v[n++] = g->psrc[i].addr;
    g->st.distinct_sources = count_unique(v, n);
    free(v);
    return DS_OK;
}

ds_rc ds_synth_run(const ds_synth_params *p, FILE *out, const char *out_name, FILE *truth,
                   ds_synth_stats *stats, ds_err *err)
{
    ds_rc rc = DS_ENOMEM;
    gen *g = calloc(1, sizeof *g);
    rng r;
    if (!g)
        return ds_fail(err, DS_ENOMEM, "synth: out of memory");
    g->p = p;
    g->err = err;
    g->out = out;
    g->out_name = out_name ? out_name : "output";
    if (p->days == 0 || p->days > 36500 || !(p->rate > 0) || p->rate > 1e9 || !(p->pareto_alpha > 0) ||
        !(p->pareto_min >= 1)) {
        rc = ds_fail(err, DS_EINVAL, "synth: days must be 1..36500, rate, pareto_alpha > 0, pareto_min >= 1");
        goto out;
    }
    if (p->linktype != DS_SYNTH_LINK_ETHER && p->linktype != DS_SYNTH_LINK_RAW) {
        rc = ds_fail(err, DS_EINVAL, "synth: link type %d is not ether (1) or raw (101)", p->linktype);
        goto out;
    }
    if ((rc = build_space(g)) != DS_OK)
        goto out;
    rc = DS_ENOMEM;
    g->capday = 1024;
    g->day = malloc(g->capday * sizeof *g->day);
    g->tmp = malloc(g->capday * sizeof *g->tmp);
    g->buf = malloc(OUT_BUF);
    g->spare = malloc(OUT_BUF);
    g->bcap = OUT_BUF;
    g->tcp_port = calloc(65536, sizeof *g->tcp_port);
    g->udp_port = calloc(65536, sizeof *g->udp_port);
    if (!g->day || !g->tmp || !g->buf || !g->spare || !g->tcp_port || !g->udp_port) {
        ds_fail(err, DS_ENOMEM, "synth: out of memory for buffers");
        goto out;
    }
    memcpy(g->cc_code[0], "ZZ", 3);
    g->ncc = 1;

    /* plan */
    rng_seed(&r, p->seed, 0x706c616eull);                    /* "plan" */
    if (p->country_of && (rc = build_pool(g, &r)) != DS_OK)
        goto out;
    choose_diurnal(g);
    build_tables(g);
    uint64_t event_packets;
    if ((rc = plan_events(g, &r, &event_packets)) != DS_OK)
        goto out;
    double total = p->rate * (double)p->nsensors * p->days;
    double fr[DS_SYNTH_CAT__COUNT] = { 0 };
    fr[DS_SYNTH_CAT_OUTSIDE] = p->frac_outside;
    fr[DS_SYNTH_CAT_ARP] = p->linktype == DS_SYNTH_LINK_ETHER ? p->frac_arp : 0;
    fr[DS_SYNTH_CAT_FRAGMENT] = p->frac_fragment;
    fr[DS_SYNTH_CAT_IPV6] = g->n6 ? p->frac_ipv6 : 0;
    fr[DS_SYNTH_CAT_OTHER_FLAGS] = p->frac_other_flags;
    double noise = 0;
    for (int c = 0; c < DS_SYNTH_CAT__COUNT; c++) {
        g->noise_per_day[c] = fr[c] * total / p->days;
        noise += fr[c] * total;
    }
    double pop = total - (double)event_packets - noise;
    if (pop < 0.1 * total)
        pop = 0.1 * total;
    double shares = p->share_mirai + p->share_scan + p->share_random_port + p->share_diurnal;
    if (!(shares > 0)) {
        rc = ds_fail(err, DS_EINVAL, "synth: the population shares add up to zero");
        goto out;
    }
    double cap = p->pareto_cap_frac * total;
    if (cap < 50)
        cap = 50;
    static const int pop_cats[] = { DS_SYNTH_CAT_MIRAI, DS_SYNTH_CAT_SCAN, DS_SYNTH_CAT_RANDOM_PORT };
    const double pop_share[] = { p->share_mirai, p->share_scan, p->share_random_port };
    for (int i = 0; i < 3; i++)
        if (pop_share[i] > 0 && (rc = plan_population(g, &r, pop_cats[i], pop * pop_share[i] / shares, cap)) != DS_OK)
            goto out;
    g->diurnal_per_day = pop * p->share_diurnal / shares / p->days;
    if (p->share_diurnal > 0 && p->diurnal_bots) {
        g->bots = calloc(p->diurnal_bots, sizeof *g->bots);
        if (!g->bots) {
            rc = ds_fail(err, DS_ENOMEM, "synth: out of memory for the diurnal botnet");
            goto out;
        }
        cc_weight one[1] = { { g->dn_cc, 1 } };
        for (uint32_t i = 0; i < p->diurnal_bots; i++) {
            source *b = &g->bots[g->nbots++];
            b->addr = draw_source(g, &r, one, 1, &b->cc);
            b->win = 64240;
            b->ttl = (uint8_t)(128 - 8 - rng_below(&r, 14));
            b->cat = DS_SYNTH_CAT_DIURNAL;
        }
    }

    if (p->phenomena && (rc = plan_phenomena(g)) != DS_OK)
        goto out;

    /* generate */
    pthread_mutex_init(&g->mu, NULL);
    pthread_cond_init(&g->cv, NULL);
    if (pthread_create(&g->writer, NULL, writer_main, g) != 0) {
        rc = ds_fail(err, DS_ENOMEM, "synth: cannot start the writer thread");
        pthread_cond_destroy(&g->cv);
        pthread_mutex_destroy(&g->mu);
        goto out;
    }
    g->writer_on = 1;
    write_header(g);
    for (uint32_t d = 0; d < p->days; d++) {
        rng dr;
        rng_seed(&dr, p->seed, 0x646179000000ull + d);       /* "day" + d */
        g->nday = 0;
        if ((rc = gen_population(g, d, &dr)) != DS_OK || (rc = gen_events(g, d)) != DS_OK ||
            (rc = gen_noise(g, d, &dr)) != DS_OK || (rc = gen_phenomena(g, d)) != DS_OK)
            goto out;
        sort_day(g, day_ns(g, d));
        if ((rc = write_day(g)) != DS_OK)
            goto out;
    }
    if ((rc = flush_out(g)) != DS_OK || (rc = writer_idle(g)) != DS_OK)
        goto out;
    if (fflush(out) != 0) {
        rc = ds_fail(err, DS_EIO, "%s: write failed", g->out_name);
        goto out;
    }
    if ((rc = finish_counts(g)) != DS_OK || (rc = collect_phenomena(g)) != DS_OK)
        goto out;
    if (truth && (rc = write_truth(g, truth)) != DS_OK)
        goto out;
    if (stats)
        *stats = g->st;
    rc = DS_OK;
out:
    if (g->writer_on) {
        pthread_mutex_lock(&g->mu);
        g->stop = 1;
        pthread_cond_broadcast(&g->cv);
        pthread_mutex_unlock(&g->mu);
        pthread_join(g->writer, NULL);
        pthread_cond_destroy(&g->cv);
        pthread_mutex_destroy(&g->mu);
    }
    free(g->spare);
    free(g->r4);
    free(g->r6);
    free(g->pool);
    free(g->src);
    free(g->bots);
    free(g->ev);
    free(g->sc);
    free(g->day);
    free(g->tmp);
    free(g->buf);
    free(g->tcp_port);
    free(g->udp_port);
    free(g->ph);
    free(g->psrc);
    free(g->claims);
    free(g->out_ph);
    free(g->out_src);
    free(g);
    return rc;
}
