/* bench/gen_sources.c: write a one-day pcap in which N distinct public IPv4 sources each send 2 or
 * 3 TCP SYNs to random addresses of the darknet 198.51.100.0/24, for the memory benchmark
 * (bench/memory_1m_sources.sh: peak RSS with 1 M distinct sources a day).
 *
 * `darkscope synth` models a realistic telescope, where a few scanners send most packets, so
 * even at 16 M packets it has far fewer than 1 M distinct sources in a day.  This program is the
 * opposite extreme: every source is new and sends almost nothing, which is what makes per-source
 * state (distinct counts, top-sources tables) the cost to measure.
 *
 * Sources are distinct by construction: a bijective mixer (odd multiplications and xor-shifts are
 * each invertible mod 2^32) permutes the 32-bit space, and addresses that are not public unicast
 * (RFC 6890 special-purpose blocks, multicast, reserved) or are the darknet itself are skipped.
 * All packets are built in memory, shuffled (Fisher-Yates), then given increasing timestamps over
 * the day, so each source's SYNs land at random times and the file is in time order.
 *
 * Output: classic pcap (microsecond timestamps, LINKTYPE_ETHERNET), each record an Ethernet II
 * frame with an IPv4 header (RFC 791, header checksum set) and a 20-byte TCP SYN (RFC 9293,
 * checksum over the RFC 9293 pseudo-header set), 54 bytes, written field by field in
 * little-endian pcap order so the file is the same on any host.
 *
 * Several days (the source-heavy month of bench/ingest_shapes.sh): with DAYS > 1 the program writes
 * one file a day, OUT-01.pcap, OUT-02.pcap ..., each with SOURCES distinct sources, of which
 * RETURN_PERCENT are a random choice of the day before's sources and the rest are new.
 *
 * usage: gen_sources OUT.pcap [SOURCES (default 1000000)] [SEED (default 1)] [DAYS (default 1)]
 *                    [RETURN_PERCENT (default 50)]
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { FRAME_LEN = 54, RECORD_HEADER_LEN = 16 };

static const uint32_t DARKNET_BASE = 0xC6336400u;     /* 198.51.100.0/24 */
static const int64_t DAY_START = 1688169600;           /* 2023-07-01 00:00:00 UTC */

struct syn {
    uint32_t src, dst;
    uint16_t sport, dport;
    uint32_t seq;
};

static uint64_t rng_state;

static uint64_t rng_next(void) /* splitmix64: small, fast, good enough for traffic shapes */
{
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

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
        {0xCB007100u, 24}, {0xE0000000u, 3}, /* 224/4 multicast and 240/4 reserved */
    };
    for (size_t i = 0; i < sizeof special / sizeof special[0]; i++)
        if (in_prefix(ip, special[i].base, special[i].len))
            return 0;
    return 1;
}

static uint16_t pick_port(void) /* a darknet-like mix: telnet and friends first, then anything */
{
    static const uint16_t common[] = {23, 23, 23, 2323, 22, 80, 443, 445, 3389, 8080, 5555, 6379};
    uint64_t r = rng_next();
    if (r % 5 == 0)
        return (uint16_t)(1 + (r >> 8) % 65535);
    return common[(r >> 8) % (sizeof common / sizeof common[0])];
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
    return acc;
}

static uint16_t fold(uint32_t acc)
{
    while (acc >> 16)
        acc = (acc & 0xFFFF) + (acc >> 16);
    return (uint16_t)~acc;
}

static void build_frame(uint8_t frame[FRAME_LEN], const struct syn *s, uint16_t ip_id, uint8_t ttl)
{
    static const uint8_t macs[12] = {0x02, 0, 0, 0, 0, 0x01, 0x02, 0, 0, 0, 0, 0x02};
    uint8_t *ip = frame + 14, *tcp = ip + 20, pseudo[12];

    memcpy(frame, macs, sizeof macs);
    put_be16(frame + 12, 0x0800);

    ip[0] = 0x45; ip[1] = 0;
    put_be16(ip + 2, 40);
    put_be16(ip + 4, ip_id);
    put_be16(ip + 6, 0x4000);                      /* DF */
    ip[8] = ttl; ip[9] = 6;
    put_be16(ip + 10, 0);
    put_be32(ip + 12, s->src);
    put_be32(ip + 16, s->dst);
    put_be16(ip + 10, fold(sum16(ip, 20, 0)));

    put_be16(tcp + 0, s->sport);
    put_be16(tcp + 2, s->dport);
    put_be32(tcp + 4, s->seq);
    put_be32(tcp + 8, 0);
    tcp[12] = 5 << 4; tcp[13] = 0x02;              /* 20-byte header, SYN */
    put_be16(tcp + 14, 1024);
    put_be16(tcp + 16, 0);
    put_be16(tcp + 18, 0);
    memcpy(pseudo, ip + 12, 8);
    pseudo[8] = 0; pseudo[9] = 6;
    put_be16(pseudo + 10, 20);
    put_be16(tcp + 16, fold(sum16(tcp, 20, sum16(pseudo, sizeof pseudo, 0))));
}

static int write_all(FILE *out, const void *buf, size_t len, const char *path)
{
    if (fwrite(buf, len, 1, out) == 1)
        return 0;
    fprintf(stderr, "gen_sources: writing %s failed: %s\n", path, strerror(errno));
    return -1;
}

/* The SYNs of one day: each source in src[0..nsrc) sends 2 or 3, shuffled, then timed over the day
 * starting at day_start and written to path. */
static int write_day(const char *path, const uint32_t *src, size_t nsrc, struct syn *syns, int64_t day_start)
{
    size_t n = 0;
    for (size_t i = 0; i < nsrc; i++) {
        int k = 2 + (int)(rng_next() & 1);
        for (int j = 0; j < k; j++) {
            uint64_t r = rng_next();
            syns[n++] = (struct syn){
                .src = src[i],
                .dst = DARKNET_BASE | (uint32_t)(r & 0xFF),
                .sport = (uint16_t)(1024 + (r >> 8) % 64512),
                .dport = pick_port(),
                .seq = (uint32_t)(r >> 32),
            };
        }
    }
    for (size_t i = n - 1; i > 0; i--) {
        size_t j = (size_t)(rng_next() % (i + 1));
        struct syn t = syns[i];
        syns[i] = syns[j];
        syns[j] = t;
    }
    FILE *out = fopen(path, "wb");
    if (!out) {
        fprintf(stderr, "gen_sources: cannot create %s: %s\n", path, strerror(errno));
        return -1;
    }
    uint8_t header[24];
    put_le32(header, 0xA1B2C3D4u);
    header[4] = 2; header[5] = 0; header[6] = 4; header[7] = 0;   /* version 2.4, little-endian */
    put_le32(header + 8, 0);
    put_le32(header + 12, 0);
    put_le32(header + 16, 65535);
    put_le32(header + 20, 1);                                     /* LINKTYPE_ETHERNET */
    if (write_all(out, header, sizeof header, path) != 0)
        goto fail;
    uint64_t day_us = 86400ull * 1000000ull;
    for (size_t i = 0; i < n; i++) {
        uint8_t rec[RECORD_HEADER_LEN + FRAME_LEN];
        uint64_t t_us = (uint64_t)day_start * 1000000ull + day_us * i / n;
        uint64_t r = rng_next();
        put_le32(rec, (uint32_t)(t_us / 1000000ull));
        put_le32(rec + 4, (uint32_t)(t_us % 1000000ull));
        put_le32(rec + 8, FRAME_LEN);
        put_le32(rec + 12, FRAME_LEN);
        build_frame(rec + RECORD_HEADER_LEN, &syns[i], (uint16_t)r, (uint8_t)(32 + (r >> 16) % 224));
        if (write_all(out, rec, sizeof rec, path) != 0)
            goto fail;
    }
    if (fclose(out) != 0) {
        fprintf(stderr, "gen_sources: writing %s failed: %s\n", path, strerror(errno));
        return -1;
    }
    fprintf(stderr, "gen_sources: %zu distinct sources, %zu packets, 1 day -> %s\n", nsrc, n, path);
    return 0;
fail:
    fclose(out);
    return -1;
}

int main(int argc, char **argv)
{
    int rc = 1;
    uint32_t *cur = NULL;
    struct syn *syns = NULL;
    char *path = NULL;

    if (argc < 2 || argc > 6) {
        fprintf(stderr, "usage: %s OUT.pcap [SOURCES] [SEED] [DAYS] [RETURN_PERCENT]\n", argv[0]);
        return 2;
    }
    unsigned long sources = argc > 2 ? strtoul(argv[2], NULL, 10) : 1000000ul;
    unsigned long seed = argc > 3 ? strtoul(argv[3], NULL, 10) : 1ul;
    unsigned long days = argc > 4 ? strtoul(argv[4], NULL, 10) : 1ul;
    unsigned long ret = argc > 5 ? strtoul(argv[5], NULL, 10) : 50ul;
    if (sources == 0 || sources > 100000000ul) {
        fprintf(stderr, "gen_sources: SOURCES must be 1 .. 100000000\n");
        return 2;
    }
    if (days == 0 || days > 366 || ret > 100) {
        fprintf(stderr, "gen_sources: DAYS must be 1 .. 366 and RETURN_PERCENT 0 .. 100\n");
        return 2;
    }
    rng_state = seed;
    cur = malloc(sources * sizeof *cur);
    syns = malloc((size_t)sources * 3 * sizeof *syns);
    path = malloc(strlen(argv[1]) + 16);
    if (!cur || !syns || !path) {
        fprintf(stderr, "gen_sources: out of memory for %lu sources\n", sources);
        goto out;
    }

    uint32_t key = (uint32_t)rng_next();
    uint64_t counter = 0;
    size_t keep = 0;   /* sources of the day before that come back: cur[0..keep) */
    for (unsigned long d = 0; d < days; d++) {
        for (size_t made = keep; made < sources; counter++) {
            if (counter > UINT32_MAX) {
                fprintf(stderr, "gen_sources: ran out of public addresses\n");
                goto out;
            }
            uint32_t src = permute32((uint32_t)counter, key);
            if (is_public_unicast(src))
                cur[made++] = src;
        }
        if (days == 1) {
            strcpy(path, argv[1]);
        } else {   /* OUT.pcap -> OUT-01.pcap, OUT-02.pcap ... */
            const char *dot = strrchr(argv[1], '.');
            int stem = dot && !strchr(dot, '/') ? (int)(dot - argv[1]) : (int)strlen(argv[1]);
            sprintf(path, "%.*s-%02lu%s", stem, argv[1], d + 1, argv[1] + stem);
        }
        if (write_day(path, cur, sources, syns, DAY_START + (int64_t)d * 86400) != 0)
            goto out;
        /* RETURN_PERCENT of today's sources come back tomorrow: a random subset, moved to the front */
        keep = (size_t)sources * ret / 100;
        for (size_t i = 0; i < keep; i++) {
            size_t j = i + (size_t)(rng_next() % (sources - i));
            uint32_t t = cur[i];
            cur[i] = cur[j];
            cur[j] = t;
        }
    }
    rc = 0;
out:
    free(path);
    free(syns);
    free(cur);
    return rc;
}
