/* bench/gen_backscatter.c: write a quarter-long pcap shaped like a real telescope's busiest mix:
 * backscatter to random ephemeral ports, a few floods, scanners and Mirai, from ~100 k sources.
 * For bench/ingest_shapes.sh (issue #22: ingest speed that holds across shapes of traffic).
 *
 * `darkscope synth` plants few services and few sources; its backscatter goes to a handful of
 * ports.  A real telescope's backscatter does not: a victim of a spoofed SYN flood answers every
 * spoofed (address, port) with a SYN-ACK or RST to that port, so the darknet sees tens of
 * thousands of distinct destination ports (Moore et al., "Inferring Internet Denial-of-Service
 * Activity", ACM TOCS 24(2), 2006).  Every (source, class, service) and (hour, service) then
 * becomes a table entry of its own, which is the shape this file exercises.
 *
 * The population: SOURCES addresses (public unicast IPv4, distinct by a bijective permutation of
 * the 32-bit space, as in gen_sources.c), each with a role, a weight (heavy-tailed: a few sources
 * send most packets) and an active span of days:
 *
 *   role        sources  packets  what they send
 *   victim        40%     47%     SYN-ACK (70%), RST-ACK (20%) or RST (10%) from a service port
 *                                 (80, 443, 22, 25, 53, 3389...) to a random dark address and a
 *                                 random destination port in 10000-65535; 15% of victims are
 *                                 routers answering with ICMP errors (type 3 or 11, quoting the
 *                                 spoofed datagram, RFC 792) or echo replies, 5% DNS servers
 *                                 answering from 53/udp (an amplifier's reply); 1-3 days each
 *   flood         20 in all  8%   one victim's SYN-ACKs within 1-2 hours, as above
 *   scanner       35%     25%     TCP SYNs to its ports (one port, a short list, or random
 *                                 ports: a vertical scan); 10% send UDP probes or ICMP echo
 *   mirai         20%     12%     SYN to 23/tcp (90%) or 2323/tcp, sequence number = the
 *                                 destination address (Antonakakis et al., USENIX Security 2017)
 *   other          5%      8%     TCP ACKs and FINs (class other) and IPsec ESP
 *
 * Each day's packets are drawn, shuffled in time over the day (floods in their window) and
 * written in time order.  Two sensors' darknets, 198.51.100.0/24 and 203.0.113.0/24 (RFC 5737),
 * as in bench/ingest_vs_tcpdump.sh.
 *
 * Output: classic pcap (microsecond timestamps, LINKTYPE_ETHERNET), IPv4 header checksums and
 * TCP/UDP checksums over the RFC 9293 / RFC 768 pseudo-header set, written little-endian so the
 * file is the same on any host.
 *
 * usage: gen_backscatter OUT.pcap [PACKETS (16200000)] [SOURCES (102000)] [DAYS (92)] [SEED (1)]
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { RECORD_HEADER_LEN = 16, MAX_FRAME = 14 + 20 + 8 + 20 + 8 };

static const uint32_t DARKNETS[2] = { 0xC6336400u, 0xCB007100u };   /* 198.51.100.0/24, 203.0.113.0/24 */
static const int64_t DAY0 = 1688169600;                              /* 2023-07-01 00:00:00 UTC */

enum role { VICTIM, SCANNER, MIRAI, OTHER, NROLES };
static const double ROLE_SOURCES[NROLES] = { 0.40, 0.35, 0.20, 0.05 };
static const double ROLE_PACKETS[NROLES] = { 0.47, 0.25, 0.12, 0.08 };
#define FLOOD_SHARE 0.08
#define NFLOODS 20

enum kind { K_TCP, K_UDP, K_ICMP_ERR, K_ICMP_ECHO, K_ESP };

typedef struct pkt {
    uint64_t t_us;
    uint32_t src, dst;
    uint16_t sport, dport;
    uint32_t seq;
    uint8_t kind, flags, icmp_type, icmp_code;
} pkt;

typedef struct source {
    uint32_t ip;
    uint8_t role, sub;        /* sub: victim 0 TCP, 1 ICMP, 2 DNS; scanner 0 one port, 1 list, 2 vertical, 3 UDP, 4 ICMP */
    uint16_t port;            /* victim's service port, scanner's first port */
    int32_t first, last;      /* active days */
    double w;
} source;

typedef struct flood {
    uint32_t victim;
    uint16_t port;
    int32_t day;
    uint32_t start_s, len_s;
} flood;

static uint64_t rng_state;

static uint64_t rng_next(void) /* splitmix64 */
{
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}
static double rng_unit(void) { return (double)(rng_next() >> 11) / 9007199254740992.0; }
static uint32_t rng_below(uint32_t n) { return (uint32_t)(rng_next() % n); }

static uint32_t permute32(uint32_t x, uint32_t key) /* a bijection of the 32-bit space */
{
    x ^= key;
    x *= 0x7FEB352Du;
    x ^= x >> 15;
    x *= 0x846CA68Bu;
    x ^= x >> 16;
    return x;
}

static int in_prefix(uint32_t ip, uint32_t base, int len)
{
    uint32_t mask = len == 0 ? 0 : ~0u << (32 - len);
    return (ip & mask) == base;
}

static int is_public_unicast(uint32_t ip)
{
    static const struct { uint32_t base; int len; } special[] = {
        {0x00000000u, 8},  {0x0A000000u, 8},  {0x64400000u, 10}, {0x7F000000u, 8},
        {0xA9FE0000u, 16}, {0xAC100000u, 12}, {0xC0000000u, 24}, {0xC0000200u, 24},
        {0xC0586300u, 24}, {0xC0A80000u, 16}, {0xC6120000u, 15}, {0xC6336400u, 24},
        {0xCB007100u, 24}, {0xE0000000u, 3},
    };
    for (size_t i = 0; i < sizeof special / sizeof special[0]; i++)
        if (in_prefix(ip, special[i].base, special[i].len))
            return 0;
    return 1;
}

static void put_be16(uint8_t *p, uint32_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static void put_be32(uint8_t *p, uint32_t v) { put_be16(p, v >> 16); put_be16(p + 2, v); }
static void put_le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24);
}

static uint32_t sum16(const uint8_t *p, size_t n, uint32_t acc) /* RFC 1071 partial sum */
{
    for (size_t i = 0; i + 1 < n; i += 2)
        acc += (uint32_t)p[i] << 8 | p[i + 1];
    if (n & 1)
        acc += (uint32_t)p[n - 1] << 8;
    return acc;
}

static uint16_t fold(uint32_t acc)
{
    while (acc >> 16)
        acc = (acc & 0xFFFF) + (acc >> 16);
    return (uint16_t)~acc;
}

static void ip_header(uint8_t *ip, uint32_t src, uint32_t dst, uint8_t proto, size_t l4len, uint16_t id, uint8_t ttl)
{
    ip[0] = 0x45; ip[1] = 0;
    put_be16(ip + 2, (uint32_t)(20 + l4len));
    put_be16(ip + 4, id);
    put_be16(ip + 6, 0x4000);
    ip[8] = ttl; ip[9] = proto;
    put_be16(ip + 10, 0);
    put_be32(ip + 12, src);
    put_be32(ip + 16, dst);
    put_be16(ip + 10, fold(sum16(ip, 20, 0)));
}

static uint16_t l4_sum(const uint8_t *ip, const uint8_t *l4, size_t len, uint8_t proto)
{
    uint8_t pseudo[12];
    memcpy(pseudo, ip + 12, 8);
    pseudo[8] = 0; pseudo[9] = proto;
    put_be16(pseudo + 10, (uint32_t)len);
    return fold(sum16(l4, len, sum16(pseudo, sizeof pseudo, 0)));
}

/* One Ethernet frame for p; returns its length. */
static size_t build_frame(uint8_t *f, const pkt *p, uint64_t r)
{
    static const uint8_t macs[12] = {0x02, 0, 0, 0, 0, 0x01, 0x02, 0, 0, 0, 0, 0x02};
    uint8_t *ip = f + 14, *l4 = ip + 20;
    uint16_t id = (uint16_t)r;
    uint8_t ttl = (uint8_t)(32 + (r >> 16) % 224);
    size_t len = 0;
    memcpy(f, macs, sizeof macs);
    put_be16(f + 12, 0x0800);
    switch (p->kind) {
    case K_TCP:
        len = 20;
        put_be16(l4, p->sport);
        put_be16(l4 + 2, p->dport);
        put_be32(l4 + 4, p->seq);
        put_be32(l4 + 8, (p->flags & 0x10) ? (uint32_t)(r >> 24) : 0);
        l4[12] = 5 << 4; l4[13] = p->flags;
        put_be16(l4 + 14, (p->flags & 0x04) ? 0 : 29200);
        put_be16(l4 + 16, 0);
        put_be16(l4 + 18, 0);
        ip_header(ip, p->src, p->dst, 6, len, id, ttl);
        put_be16(l4 + 16, l4_sum(ip, l4, len, 6));
        break;
    case K_UDP:
        len = 8 + 8;
        put_be16(l4, p->sport);
        put_be16(l4 + 2, p->dport);
        put_be16(l4 + 4, (uint32_t)len);
        put_be16(l4 + 6, 0);
        put_be32(l4 + 8, p->seq);          /* an 8-byte payload: DNS id and flags, or a probe */
        put_be32(l4 + 12, (uint32_t)(r >> 32));
        ip_header(ip, p->src, p->dst, 17, len, id, ttl);
        put_be16(l4 + 6, l4_sum(ip, l4, len, 17));
        break;
    case K_ICMP_ECHO:
        len = 8;
        l4[0] = p->icmp_type; l4[1] = 0;
        put_be16(l4 + 2, 0);
        put_be16(l4 + 4, p->sport);
        put_be16(l4 + 6, p->dport);
        ip_header(ip, p->src, p->dst, 1, len, id, ttl);
        put_be16(l4 + 2, fold(sum16(l4, len, 0)));
        break;
    case K_ICMP_ERR: {   /* RFC 792: the header plus the spoofed datagram's IP header and 8 bytes */
        len = 8 + 20 + 8;
        l4[0] = p->icmp_type; l4[1] = p->icmp_code;
        memset(l4 + 2, 0, 6);
        uint8_t *q = l4 + 8;
        ip_header(q, p->dst, (uint32_t)(r >> 32) | 1u, 17, 8, (uint16_t)(r >> 8), 64);
        put_be16(q + 20, p->dport);
        put_be16(q + 22, p->sport);
        put_be16(q + 24, 8);
        put_be16(q + 26, 0);
        ip_header(ip, p->src, p->dst, 1, len, id, ttl);
        put_be16(l4 + 2, fold(sum16(l4, len, 0)));
        break;
    }
    case K_ESP:   /* RFC 4303: SPI and sequence number, then ciphertext */
        len = 16;
        put_be32(l4, p->seq);
        put_be32(l4 + 4, 1);
        put_be32(l4 + 8, (uint32_t)(r >> 32));
        put_be32(l4 + 12, (uint32_t)r);
        ip_header(ip, p->src, p->dst, 50, len, id, ttl);
        break;
    }
    return 14 + 20 + len;
}

static const uint16_t SERVICE_PORTS[] = { 80, 80, 80, 443, 443, 443, 443, 22, 25, 53, 3389, 8080, 8443, 21, 110, 143, 993, 6667, 27015, 25565 };
static const uint16_t SCAN_PORTS[] = { 23, 22, 80, 443, 445, 3389, 8080, 2323, 5555, 6379, 1433, 3306, 5900, 8443, 8888, 9200, 7547, 81, 8000, 37215, 52869, 2375, 5060, 1723 };
static const uint16_t UDP_PORTS[] = { 53, 123, 161, 1900, 5060, 5353, 11211, 389, 137, 19, 3702, 10001 };

#define NELEM(a) (sizeof (a) / sizeof (a)[0])

static uint16_t ephemeral(void) { return (uint16_t)(10000 + rng_below(55536)); }

static uint32_t dark(void) { return DARKNETS[rng_next() & 1] | rng_below(256); }

/* One packet from source s at t_us. */
static pkt draw(const source *s, uint64_t t_us)
{
    pkt p = { .t_us = t_us, .src = s->ip, .dst = dark(), .kind = K_TCP };
    uint64_t r = rng_next();
    switch (s->role) {
    case VICTIM:
        if (s->sub == 1) {
            uint32_t k = (uint32_t)(r % 10);
            if (k < 4) {
                p.kind = K_ICMP_ECHO;
                p.icmp_type = 0;
                p.sport = (uint16_t)(r >> 8);
                p.dport = (uint16_t)(r >> 24);
            } else {
                p.kind = K_ICMP_ERR;
                p.icmp_type = k < 8 ? 3 : 11;
                p.icmp_code = k < 8 ? (uint8_t)(1 + (r >> 8) % 3) : 0;
                p.sport = s->port;
                p.dport = ephemeral();
            }
        } else if (s->sub == 2) {
            p.kind = K_UDP;
            p.sport = 53;
            p.dport = ephemeral();
            p.seq = (uint32_t)(r >> 8) | 0x8180u;
        } else {
            uint32_t k = (uint32_t)(r % 10);
            p.flags = k < 7 ? 0x12 : k < 9 ? 0x14 : 0x04;
            p.sport = s->port;
            p.dport = ephemeral();
            p.seq = (uint32_t)(r >> 32);
        }
        break;
    case SCANNER:
        p.sport = (uint16_t)(1024 + (r >> 40) % 64512);
        p.seq = (uint32_t)r;
        p.flags = 0x02;
        switch (s->sub) {
        case 0: p.dport = s->port; break;
        case 1: p.dport = SCAN_PORTS[(s->port + (r >> 8) % 4) % NELEM(SCAN_PORTS)]; break;
        case 2: p.dport = (uint16_t)(1 + (r >> 8) % 65535); break;
        case 3:
            p.kind = K_UDP;
            p.dport = UDP_PORTS[(s->port + (r >> 8) % 3) % NELEM(UDP_PORTS)];
            break;
        default:
            p.kind = K_ICMP_ECHO;
            p.icmp_type = 8;
            p.sport = (uint16_t)s->ip;
            p.dport = (uint16_t)(r >> 8);
        }
        break;
    case MIRAI:
        p.flags = 0x02;
        p.sport = (uint16_t)(1024 + (r >> 40) % 64512);
        p.dport = (r >> 8) % 10 ? 23 : 2323;
        p.seq = p.dst;
        break;
    default:
        if ((r & 7) == 0) {
            p.kind = K_ESP;
            p.seq = (uint32_t)(r >> 16);
        } else {
            p.flags = (r >> 8) & 1 ? 0x10 : 0x11;
            p.sport = SERVICE_PORTS[(r >> 16) % NELEM(SERVICE_PORTS)];
            p.dport = ephemeral();
            p.seq = (uint32_t)(r >> 32);
        }
    }
    return p;
}

static int write_all(FILE *out, const void *buf, size_t len, const char *path)
{
    if (fwrite(buf, len, 1, out) == 1)
        return 0;
    fprintf(stderr, "gen_backscatter: writing %s failed: %s\n", path, strerror(errno));
    return -1;
}

static int by_time(const void *a, const void *b)
{
    const pkt *x = a, *y = b;
    return x->t_us < y->t_us ? -1 : x->t_us > y->t_us;
}

static unsigned long arg(int argc, char **argv, int i, unsigned long def, unsigned long max, const char *name)
{
    if (argc <= i)
        return def;
    char *end;
    errno = 0;
    unsigned long v = strtoul(argv[i], &end, 10);
    if (errno || *end || v == 0 || v > max) {
        fprintf(stderr, "gen_backscatter: %s must be 1 .. %lu (got '%s')\n", name, max, argv[i]);
        exit(2);
    }
    return v;
}

int main(int argc, char **argv)
{
    int rc = 1;
    FILE *out = NULL;
    source *src = NULL;
    uint32_t *cnt = NULL;
    pkt *day = NULL;
    size_t daycap = 0;

    if (argc < 2 || argc > 6) {
        fprintf(stderr, "usage: %s OUT.pcap [PACKETS] [SOURCES] [DAYS] [SEED]\n", argv[0]);
        return 2;
    }
    unsigned long packets = arg(argc, argv, 2, 16200000ul, 1000000000ul, "PACKETS");
    unsigned long nsrc = arg(argc, argv, 3, 102000ul, 50000000ul, "SOURCES");
    unsigned long ndays = arg(argc, argv, 4, 92ul, 3660ul, "DAYS");
    rng_state = arg(argc, argv, 5, 1ul, ~0ul, "SEED");
    if (nsrc < 100) {
        fprintf(stderr, "gen_backscatter: SOURCES must be at least 100\n");
        return 2;
    }

    src = calloc(nsrc, sizeof *src);
    cnt = calloc(nsrc, sizeof *cnt);
    if (!src || !cnt) {
        fprintf(stderr, "gen_backscatter: out of memory for %lu sources\n", nsrc);
        goto out;
    }
    uint32_t key = (uint32_t)rng_next();
    uint64_t counter = 0;
    for (unsigned long i = 0; i < nsrc; counter++) {
        uint32_t ip = permute32((uint32_t)counter, key);
        if (!is_public_unicast(ip))
            continue;
        source *s = &src[i++];
        s->ip = ip;
        double u = rng_unit(), acc = 0;
        s->role = OTHER;
        for (int r = 0; r < NROLES; r++)
            if (u < (acc += ROLE_SOURCES[r])) {
                s->role = (uint8_t)r;
                break;
            }
        s->w = 1.0 / (0.001 + rng_unit());   /* heavy-tailed (Pareto-like, clipped at 1000) */
        uint32_t span;
        switch (s->role) {
        case VICTIM:
            s->sub = rng_below(100) < 15 ? 1 : rng_below(100) < 6 ? 2 : 0;
            s->port = SERVICE_PORTS[rng_below(NELEM(SERVICE_PORTS))];
            span = 1 + rng_below(3);
            break;
        case SCANNER: {
            uint32_t k = rng_below(100);
            s->sub = k < 50 ? 0 : k < 80 ? 1 : k < 90 ? 2 : k < 95 ? 3 : 4;
            s->port = SCAN_PORTS[rng_below(NELEM(SCAN_PORTS))];
            if (s->sub == 1 || s->sub == 3)
                s->port = (uint16_t)rng_below(64);
            span = 1 + rng_below((uint32_t)ndays / 3 + 1);
            break;
        }
        case MIRAI:
            span = 1 + rng_below((uint32_t)ndays / 2 + 1);
            break;
        default:
            span = 1 + rng_below(7);
        }
        if (span > ndays)
            span = (uint32_t)ndays;
        s->first = (int32_t)rng_below((uint32_t)(ndays - span + 1));
        s->last = s->first + (int32_t)span - 1;
    }
    flood floods[NFLOODS];
    for (int i = 0; i < NFLOODS; i++) {
        floods[i].victim = src[rng_below((uint32_t)nsrc)].ip;
        floods[i].port = SERVICE_PORTS[rng_below(NELEM(SERVICE_PORTS))];
        floods[i].day = (int32_t)rng_below((uint32_t)ndays);
        floods[i].len_s = 3600 + rng_below(3600);
        floods[i].start_s = rng_below(86400 - floods[i].len_s);
    }

    out = fopen(argv[1], "wb");
    if (!out) {
        fprintf(stderr, "gen_backscatter: cannot create %s: %s\n", argv[1], strerror(errno));
        goto out;
    }
    uint8_t header[24];
    put_le32(header, 0xA1B2C3D4u);
    header[4] = 2; header[5] = 0; header[6] = 4; header[7] = 0;
    put_le32(header + 8, 0);
    put_le32(header + 12, 0);
    put_le32(header + 16, 65535);
    put_le32(header + 20, 1);
    if (write_all(out, header, sizeof header, argv[1]) != 0)
        goto out;

    uint64_t written = 0;
    double per_role_day[NROLES];
    for (int r = 0; r < NROLES; r++)
        per_role_day[r] = (double)packets * ROLE_PACKETS[r] / (double)ndays;
    double flood_pkts = (double)packets * FLOOD_SHARE / NFLOODS;
    for (int32_t d = 0; d < (int32_t)ndays; d++) {
        double wsum[NROLES] = { 0 };
        for (unsigned long i = 0; i < nsrc; i++)
            if (src[i].first <= d && d <= src[i].last)
                wsum[src[i].role] += src[i].w;
        uint64_t t0 = (uint64_t)(DAY0 + (int64_t)d * 86400) * 1000000ull;
        size_t n = 0;
        for (unsigned long i = 0; i < nsrc; i++) {   /* how many packets each sends today */
            const source *s = &src[i];
            cnt[i] = 0;
            if (s->first > d || d > s->last)
                continue;
            double want = per_role_day[s->role] * s->w / wsum[s->role];
            cnt[i] = (uint32_t)want + (rng_unit() < want - (double)(uint32_t)want);
            n += cnt[i];
        }
        for (int f = 0; f < NFLOODS; f++)
            if (floods[f].day == d)
                n += (size_t)flood_pkts;
        if (n > daycap) {
            pkt *np = realloc(day, n * sizeof *np);
            if (!np) {
                fprintf(stderr, "gen_backscatter: out of memory for %zu packets a day\n", n);
                goto out;
            }
            day = np;
            daycap = n;
        }
        size_t k = 0;
        for (unsigned long i = 0; i < nsrc; i++) {
            const source *s = &src[i];
            if (!cnt[i])
                continue;
            /* a victim is attacked within a few hours; everyone else spreads over the day */
            uint64_t span = s->role == VICTIM ? 3600ull * (1 + rng_below(6)) : 86400ull;
            uint64_t from = rng_below((uint32_t)(86400 - span + 1));
            for (uint32_t j = 0; j < cnt[i]; j++)
                day[k++] = draw(s, t0 + from * 1000000ull + rng_next() % (span * 1000000ull));
        }
        for (int f = 0; f < NFLOODS; f++) {
            if (floods[f].day != d)
                continue;
            source v = { .ip = floods[f].victim, .role = VICTIM, .sub = 0, .port = floods[f].port };
            for (size_t j = 0; j < (size_t)flood_pkts; j++)
                day[k++] = draw(&v, t0 + floods[f].start_s * 1000000ull + rng_next() % (floods[f].len_s * 1000000ull));
        }
        qsort(day, n, sizeof *day, by_time);
        for (size_t i = 0; i < n; i++) {
            uint8_t rec[RECORD_HEADER_LEN + MAX_FRAME];
            size_t fl = build_frame(rec + RECORD_HEADER_LEN, &day[i], rng_next());
            put_le32(rec, (uint32_t)(day[i].t_us / 1000000ull));
            put_le32(rec + 4, (uint32_t)(day[i].t_us % 1000000ull));
            put_le32(rec + 8, (uint32_t)fl);
            put_le32(rec + 12, (uint32_t)fl);
            if (write_all(out, rec, RECORD_HEADER_LEN + fl, argv[1]) != 0)
                goto out;
        }
        written += n;
    }
    int close_rc = fclose(out);
    out = NULL;
    if (close_rc != 0) {
        fprintf(stderr, "gen_backscatter: writing %s failed: %s\n", argv[1], strerror(errno));
        goto out;
    }
    fprintf(stderr, "gen_backscatter: %lu sources, %llu packets, %lu days -> %s\n", nsrc,
            (unsigned long long)written, ndays, argv[1]);
    rc = 0;
out:
    if (out)
        fclose(out);
    free(day);
    free(cnt);
    free(src);
    return rc;
}
