/* bench/pcap_rows.c: the raw rows of classic pcap files as tab-separated text, one line per IPv4
 * packet: "ts src dst sport dport proto" (ts in UNIX seconds, addresses as 32-bit integers, ports
 * 0 for protocols without them), for loading into ClickHouse as the peer of bench/scale.sh.
 * tcpdump -nn -tt -r and awk do the same about twenty times slower.
 *
 * Reads classic pcap (magic a1b2c3d4 for microseconds or a1b23c4d for nanoseconds, either byte
 * order; draft-ietf-opsawg-pcap) with link type 1 (Ethernet, RFC 894, one
 * 802.1Q tag skipped) or 101 (raw IP).  Anything else (IPv6, ARP, a cut record) is skipped and
 * counted on stderr.  No pcapng: bench/gen_sources.c writes classic pcap.
 *
 * usage: pcap_rows FILE.pcap...  > rows.tsv
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint32_t rd32(const uint8_t *p, int swap)
{
    uint32_t v = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
    return swap ? __builtin_bswap32(v) : v;
}

static uint32_t be32(const uint8_t *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }
static unsigned be16(const uint8_t *p) { return (unsigned)p[0] << 8 | p[1]; }

static int one_file(const char *path, unsigned long long *rows, unsigned long long *skipped)
{
    FILE *f = fopen(path, "rb");
    uint8_t gh[24], rh[16];
    static uint8_t buf[262144];
    if (!f) {
        perror(path);
        return -1;
    }
    if (fread(gh, 1, sizeof gh, f) != sizeof gh) {
        fprintf(stderr, "pcap_rows: %s: shorter than a pcap header\n", path);
        fclose(f);
        return -1;
    }
    uint32_t magic = rd32(gh, 0);
    int swap = magic == 0xd4c3b2a1u || magic == 0x4d3cb2a1u;
    if (!swap && magic != 0xa1b2c3d4u && magic != 0xa1b23c4du) {
        fprintf(stderr, "pcap_rows: %s: not a classic pcap file (magic %08x)\n", path, magic);
        fclose(f);
        return -1;
    }
    uint32_t link = rd32(gh + 20, swap) & 0xffff;
    if (link != 1 && link != 101) {
        fprintf(stderr, "pcap_rows: %s: link type %u (want 1 Ethernet or 101 raw IP)\n", path, link);
        fclose(f);
        return -1;
    }
    while (fread(rh, 1, sizeof rh, f) == sizeof rh) {
        uint32_t ts = rd32(rh, swap), caplen = rd32(rh + 8, swap);
        if (caplen > sizeof buf || fread(buf, 1, caplen, f) != caplen) {
            fprintf(stderr, "pcap_rows: %s: record of %u bytes cut short or too long\n", path, caplen);
            break;
        }
        const uint8_t *p = buf;
        size_t n = caplen;
        if (link == 1) {
            if (n < 14) { ++*skipped; continue; }
            unsigned type = be16(p + 12);
            p += 14, n -= 14;
            if (type == 0x8100 && n >= 4) {
                type = be16(p + 2);
                p += 4, n -= 4;
            }
            if (type != 0x0800) { ++*skipped; continue; }
        }
        if (n < 20 || p[0] >> 4 != 4) { ++*skipped; continue; }
        size_t ihl = (size_t)(p[0] & 15) * 4;
        unsigned proto = p[9], sport = 0, dport = 0;
        int first_fragment = (be16(p + 6) & 0x1fff) == 0;
        if ((proto == 6 || proto == 17) && first_fragment && n >= ihl + 4) {
            sport = be16(p + ihl);
            dport = be16(p + ihl + 2);
        }
        printf("%u\t%u\t%u\t%u\t%u\t%u\n", ts, be32(p + 12), be32(p + 16), sport, dport, proto);
        ++*rows;
    }
    fclose(f);
    return 0;
}

int main(int argc, char **argv)
{
    unsigned long long rows = 0, skipped = 0;
    static char out[1 << 20];
    setvbuf(stdout, out, _IOFBF, sizeof out);
    if (argc < 2) {
        fprintf(stderr, "usage: pcap_rows FILE.pcap... > rows.tsv\n");
        return 2;
    }
    for (int i = 1; i < argc; i++)
        if (one_file(argv[i], &rows, &skipped) != 0)
            return 1;
    if (fflush(stdout) != 0) {
        perror("pcap_rows: stdout");
        return 1;
    }
    fprintf(stderr, "pcap_rows: %llu rows, %llu records skipped (not IPv4)\n", rows, skipped);
    return 0;
}
