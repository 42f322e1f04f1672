/* synth_int.h: what the files of the synthetic traffic generator share (internal; the API is
 * synth.h).  One state struct, gen, is threaded through the stages:
 *   synth.c        parameters, names, ds_synth_run (plan, then day by day), final counts
 *   synth_space.c  the address space: dark ranges, public and outside draws, countries, the pool
 *   synth_plan.c   the model's tables (country weights, port mix) and the planned events and
 *                  population
 *   synth_phen.c   planning of the notable phenomena
 *   synth_day.c    one day's packets (population, events, noise, phenomena) and the radix sort
 *   synth_wire.c   the frames (RFC 791/793/768/792/826/8200) and the double-buffered pcap writer
 *   synth_truth.c  the truth file
 * The random streams and the address helpers the per-packet loops call are static inline here,
 * so that the split costs no call on a hot path.
 */
#ifndef DS_SYNTH_INT_H
#define DS_SYNTH_INT_H
#include <math.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "synth/synth.h"

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
static inline void rng_seed(rng *r, uint64_t seed, uint64_t stream)
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
/* Tables (synth_plan.c) */

typedef struct cc_weight { const char *cc; double w; } cc_weight;
extern const cc_weight ds_synth_cc_general[24], ds_synth_cc_mirai[19], ds_synth_cc_research[9];
typedef struct svc { uint8_t proto; uint16_t port; double w; } svc;
extern const svc ds_synth_port_mix[35];
extern const uint16_t ds_synth_sweep_ports[18];
extern const uint16_t ds_synth_nmap_top[75];
#define N_PORT_MIX (sizeof ds_synth_port_mix / sizeof ds_synth_port_mix[0])
/* SIP User-Agents of the planted SIP tools, by tool - DS_SYNTH_TOOL_SIPVICIOUS (synth_wire.c) */
extern const char *const ds_synth_sip_agents[3];

/* ------------------------------------------------------------------------------------------ */
/* Model state */

enum { OS_LINUX, OS_WINDOWS, OS_BARE };
enum { OPT_NONE, OPT_MSS, OPT_WIN, OPT_LINUX };                     /* TCP option sets */
enum { W_TCP, W_UDP, W_ICMP_ECHO, W_ICMP_UNREACH, W_ARP, W_FRAG, W_V6_TCP, W_V6_ICMP };
enum { BS_SYNACK, BS_RSTACK, BS_ECHOREPLY, BS_UNREACH, BS__COUNT };
enum { PL_NONE, PL_SIP_OPTIONS, PL_SIP_REGISTER, PL_SLAMMER, PL_NACHI };    /* spkt.payload */

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

/* Phenomena (planned in ds_synth_plan_phenomena, generated per day in ds_synth_gen_phenomena) */
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
    double exp_mix[64];                      /* expected packets per day by ds_synth_port_mix entry */
    double exp_random_tcp, exp_total;        /* per TCP port from random-port scanners; all, per day */
    double exp_mirai;
    uint64_t dn_first, dn_last;              /* the diurnal botnet's first and last packet */
    ds_synth_phenomenon *out_ph; const phen **out_src; size_t nout;   /* what the truth reports */
} gen;

/* ------------------------------------------------------------------------------------------ */
/* Helpers of the per-packet loops */

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
static inline uint64_t day_ns(const gen *g, uint32_t d) { return ((uint64_t)g->p->start + 86400ull * d) * NS_PER_SEC; }

#define OUT_BUF (8u << 20)

/* synth_space.c */
ds_rc ds_synth_build_space(gen *g);
ds_rc ds_synth_build_pool(gen *g, rng *r);
unsigned ds_synth_cc_intern(gen *g, const char cc[3]);
uint32_t ds_synth_draw_source(gen *g, rng *r, const cc_weight *t, size_t n, uint8_t *cc);
uint32_t ds_synth_random_outside(const gen *g, rng *r);
/* synth_plan.c */
ds_rc ds_synth_plan_events(gen *g, rng *r, uint64_t *event_packets);
void ds_synth_scanner_profile(rng *r, source *s);
ds_rc ds_synth_plan_population(gen *g, rng *r, int cat, double budget, double cap);
/* synth_phen.c */
void ds_synth_choose_diurnal(gen *g);
ds_rc ds_synth_plan_phenomena(gen *g);
/* synth_day.c */
void ds_synth_build_tables(gen *g);
ds_rc ds_synth_gen_population(gen *g, uint32_t d, rng *r);
ds_rc ds_synth_gen_noise(gen *g, uint32_t d, rng *r);
ds_rc ds_synth_gen_events(gen *g, uint32_t d);
ds_rc ds_synth_gen_phenomena(gen *g, uint32_t d);
void ds_synth_sort_day(gen *g, uint64_t base);
/* synth_wire.c */
void *ds_synth_writer_main(void *arg);
ds_rc ds_synth_writer_idle(gen *g);
ds_rc ds_synth_flush_out(gen *g);
ds_rc ds_synth_write_header(gen *g);
ds_rc ds_synth_write_day(gen *g);
/* synth_truth.c */
ds_rc ds_synth_collect_phenomena(gen *g);
ds_rc ds_synth_write_truth(gen *g, FILE *f);

#endif
