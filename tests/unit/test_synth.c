/* test_synth.c: the synthetic traffic generator, checked from the outside.
 *
 * A small run (2 days, low rate) is written to a temp file and read back with libpcap, an
 * independent reader; the tool fingerprints are checked on the wire bytes (through bounds-checked
 * cursors), and where tcpdump is installed its count of telnet SYNs is the oracle.
 *
 * The planted phenomena are checked the same way on a 61-day run with a made-up country map
 * (country = first octet): what ds_synth_stats says was planted must be in the packets (the
 * surge's country and source-port shares, the new service's port used by nothing else, the
 * weekly peak day, the diurnal peak hour, the tools' payloads), and nothing may start before
 * day 14.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/bytes.h"
#include "synth/synth.h"

static ds_prefix tokyo_px, osaka_px;
static ds_sensor_conf sensors[2];

static void setup_sensors(void)
{
    ds_ip_set4(&tokyo_px.addr, 0xc6336400u);   /* 198.51.100.0/24 */
    tokyo_px.len = 24;
    ds_ip_set4(&osaka_px.addr, 0xcb007100u);   /* 203.0.113.0/24 */
    osaka_px.len = 24;
    memset(sensors, 0, sizeof sensors);
    strcpy(sensors[0].name, "tokyo");
    sensors[0].prefixes = &tokyo_px;
    sensors[0].nprefixes = 1;
    strcpy(sensors[1].name, "osaka");
    sensors[1].prefixes = &osaka_px;
    sensors[1].nprefixes = 1;
}

static void small_params(ds_synth_params *p, uint64_t seed)
{
    setup_sensors();
    ds_synth_defaults(p);
    p->seed = seed;
    p->days = 2;
    p->rate = 5000;
    p->sensors = sensors;
    p->nsensors = 2;
    p->zmap_scanners = 2;            /* few sweepers, all daily: a 2-day run surely has both */
    p->masscan_scanners = 2;
    p->sweep_daily_frac = 1.0;
}

/* Generate into a fresh temp file; returns its path (static buffer per slot). */
static const char *gen_file(const ds_synth_params *p, int slot, ds_synth_stats *st, FILE *truth)
{
    static char paths[4][64];
    snprintf(paths[slot], sizeof paths[slot], "/tmp/test_synth_XXXXXX");
    int fd = mkstemp(paths[slot]);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "wb");
    assert_non_null(f);
    ds_err err;
    ds_err_clear(&err);
    ds_rc rc = ds_synth_run(p, f, paths[slot], truth, st, &err);
    if (rc != DS_OK)
        fail_msg("ds_synth_run: %s", err.msg);
    assert_int_equal(fclose(f), 0);
    return paths[slot];
}

static unsigned char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    long n = ftell(f);
    assert_true(n > 0);
    rewind(f);
    unsigned char *b = malloc((size_t)n);
    assert_non_null(b);
    assert_int_equal(fread(b, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return b;
}

static void test_deterministic(void **state)
{
    (void)state;
    ds_synth_params p;
    small_params(&p, 1);
    const char *a = gen_file(&p, 0, NULL, NULL);
    const char *b = gen_file(&p, 1, NULL, NULL);
    small_params(&p, 2);
    const char *c = gen_file(&p, 2, NULL, NULL);
    size_t la, lb, lc;
    unsigned char *ba = slurp(a, &la), *bb = slurp(b, &lb), *bc = slurp(c, &lc);
    assert_int_equal(la, lb);
    assert_memory_equal(ba, bb, la);
    assert_true(la != lc || memcmp(ba, bc, la) != 0);
    free(ba);
    free(bb);
    free(bc);
    unlink(a);
    unlink(b);
    unlink(c);
}

/* What the test itself reads off the file. */
typedef struct seen {
    uint64_t records, ip4, outside, arp;
    uint64_t syn23;                       /* IPv4 TCP, SYN bit, dport 23 (the tcpdump filter) */
    uint64_t seq_is_dst, seq_is_dst_23, seq_is_dst_2323, seq_is_dst_bad;
    uint64_t masscan_rule, zmap_id;
    uint64_t scan_tcp[65536];             /* SYN without ACK by dport */
    uint32_t *srcs; size_t nsrcs;
} seen;

static int in_dark(uint32_t a) { return (a >> 8) == 0xc63364u || (a >> 8) == 0xcb0071u; }

static void inspect(const char *path, int want_dlt, seen *s)
{
    char errbuf[PCAP_ERRBUF_SIZE];
    pcap_t *pc = pcap_open_offline(path, errbuf);
    if (!pc)
        fail_msg("pcap_open_offline: %s", errbuf);
    assert_int_equal(pcap_datalink(pc), want_dlt);
    struct pcap_pkthdr *h;
    const u_char *data;
    uint64_t last = 0;
    int r;
    s->srcs = malloc(4u << 20);
    assert_non_null(s->srcs);
    while ((r = pcap_next_ex(pc, &h, &data)) == 1) {
        uint64_t ts = (uint64_t)h->ts.tv_sec * 1000000u + (uint64_t)h->ts.tv_usec;
        assert_true(ts >= last);
        last = ts;
        s->records++;
        ds_cur c = ds_cur_make(data, h->caplen);
        if (want_dlt == DLT_EN10MB) {
            uint16_t et = ds_peek_be16(&c, 12);
            assert_true(ds_cur_ok(&c));
            if (et == 0x0806) {
                s->arp++;
                continue;
            }
            if (et != 0x0800)
                continue;
            ds_cur_skip(&c, 14);
        } else if ((ds_peek_u8(&c, 0) >> 4) != 4) {
            continue;
        }
        uint8_t vihl = ds_peek_u8(&c, 0);
        uint16_t ipid = ds_peek_be16(&c, 4), frag = ds_peek_be16(&c, 6);
        uint8_t ttl = ds_peek_u8(&c, 8), proto = ds_peek_u8(&c, 9);
        uint32_t src = ds_peek_be32(&c, 12), dst = ds_peek_be32(&c, 16);
        assert_true(ds_cur_ok(&c));
        assert_int_equal(vihl, 0x45);
        s->ip4++;
        if (s->nsrcs < (4u << 20) / sizeof *s->srcs)
            s->srcs[s->nsrcs++] = src;
        if (!in_dark(dst))
            s->outside++;
        if (proto != 6 || (frag & 0x1fff))
            continue;
        ds_cur_skip(&c, 20);
        uint16_t dport = ds_peek_be16(&c, 2);
        uint32_t seq = ds_peek_be32(&c, 4);
        uint8_t off = ds_peek_u8(&c, 12) >> 4, flags = ds_peek_u8(&c, 13);
        uint16_t win = ds_peek_be16(&c, 14);
        assert_true(ds_cur_ok(&c));
        if ((flags & 0x02) && dport == 23)
            s->syn23++;
        if ((flags & 0x12) != 0x02)
            continue;
        s->scan_tcp[dport]++;
        if (seq == dst) {
            s->seq_is_dst++;
            if (dport == 23)
                s->seq_is_dst_23++;
            else if (dport == 2323)
                s->seq_is_dst_2323++;
            if ((dport != 23 && dport != 2323) || off != 5)
                s->seq_is_dst_bad++;
        }
        if (win == 1024 && ttl == 255 && ipid == ((dst ^ dport ^ seq) & 0xffff))
            s->masscan_rule++;
        if (ipid == 54321 && ttl == 255 && win == 65535)
            s->zmap_id++;
    }
    assert_int_equal(r, PCAP_ERROR_BREAK);
    pcap_close(pc);
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}
static uint64_t distinct(uint32_t *v, size_t n)
{
    qsort(v, n, sizeof *v, cmp_u32);
    uint64_t u = n ? 1 : 0;
    for (size_t i = 1; i < n; i++)
        u += v[i] != v[i - 1];
    return u;
}

static void test_fingerprints(void **state)
{
    (void)state;
    ds_synth_params p;
    ds_synth_stats st;
    small_params(&p, 1);
    char tpath[] = "/tmp/test_synth_truth_XXXXXX";
    int tfd = mkstemp(tpath);
    assert_true(tfd >= 0);
    FILE *truth = fdopen(tfd, "w");
    const char *path = gen_file(&p, 0, &st, truth);
    fclose(truth);
    seen *s = calloc(1, sizeof *s);
    assert_non_null(s);
    inspect(path, DLT_EN10MB, s);

    /* the file holds what the generator says it wrote */
    assert_int_equal(s->records, st.packets);
    assert_true(st.packets > 0.7 * 2 * 2 * 5000 && st.packets < 1.6 * 2 * 2 * 5000);
    assert_int_equal(s->syn23, st.syn_dport23);
    assert_true(s->arp > 0);

    /* Mirai: every seq == dst SYN goes to 23 or 2323 with a bare header, about 9:1 */
    assert_true(st.by_cat[DS_SYNTH_CAT_MIRAI] > 0);
    assert_true(s->seq_is_dst >= st.by_cat[DS_SYNTH_CAT_MIRAI]);
    assert_true(s->seq_is_dst <= st.by_cat[DS_SYNTH_CAT_MIRAI] + st.by_cat[DS_SYNTH_CAT_OUTSIDE]);
    assert_int_equal(s->seq_is_dst_bad, 0);
    double r2323 = (double)s->seq_is_dst_2323 / (double)s->seq_is_dst;
    assert_true(r2323 > 0.07 && r2323 < 0.13);

    /* Masscan's IP ID rule and ZMap's constant IP ID */
    assert_true(st.by_cat[DS_SYNTH_CAT_MASSCAN] > 0);
    assert_true(s->masscan_rule >= st.by_cat[DS_SYNTH_CAT_MASSCAN]);
    assert_true(s->masscan_rule < st.by_cat[DS_SYNTH_CAT_MASSCAN] + 10);
    assert_true(st.by_cat[DS_SYNTH_CAT_ZMAP] > 0);
    assert_int_equal(s->zmap_id, st.by_cat[DS_SYNTH_CAT_ZMAP]);

    /* 23/tcp is the top scanned service, by a margin */
    uint64_t best = 0, second = 0;
    unsigned best_port = 0;
    for (unsigned port = 0; port < 65536; port++) {
        if (s->scan_tcp[port] > best) {
            second = best;
            best = s->scan_tcp[port];
            best_port = port;
        } else if (s->scan_tcp[port] > second) {
            second = s->scan_tcp[port];
        }
    }
    assert_int_equal(best_port, 23);
    assert_true(best > 2 * second);

    /* many sources, and the generator counts them as the file shows them */
    uint64_t nsrc = distinct(s->srcs, s->nsrcs);
    assert_true(nsrc >= 500);
    assert_int_equal(nsrc, st.distinct_sources);

    /* a small but non-zero share goes to addresses outside the darknets */
    double out = (double)s->outside / (double)s->ip4;
    assert_true(s->outside > 0 && out < 0.02);

    /* the truth file names what was planted */
    size_t tl;
    unsigned char *tj = slurp(tpath, &tl);
    char *text = malloc(tl + 1);
    assert_non_null(text);
    memcpy(text, tj, tl);
    text[tl] = '\0';
    assert_non_null(strstr(text, "\"backscatter\": [\n    {\"victim\""));
    assert_non_null(strstr(text, "\"tool\": \"masscan\""));
    assert_non_null(strstr(text, "\"23/tcp\""));
    free(text);
    free(tj);

    /* tcpdump, where installed, is the independent oracle for the telnet SYN count */
    if (access("/usr/bin/tcpdump", X_OK) == 0 || access("/usr/sbin/tcpdump", X_OK) == 0) {
        char cmd[256];
        snprintf(cmd, sizeof cmd, "tcpdump -nr %s 'tcp[tcpflags] & tcp-syn != 0 and dst port 23' 2>/dev/null | wc -l",
                 path);
        FILE *pp = popen(cmd, "r");
        assert_non_null(pp);
        unsigned long long n = 0;
        assert_int_equal(fscanf(pp, "%llu", &n), 1);
        pclose(pp);
        assert_int_equal(n, s->syn23);
    }
    free(s->srcs);
    free(s);
    unlink(path);
    unlink(tpath);
}

static void test_raw_nsec(void **state)
{
    (void)state;
    ds_synth_params p;
    ds_synth_stats st;
    small_params(&p, 7);
    p.days = 1;
    p.linktype = DS_SYNTH_LINK_RAW;
    p.nsec = 1;
    const char *path = gen_file(&p, 0, &st, NULL);
    size_t len;
    unsigned char *b = slurp(path, &len);
    assert_true(len > 24);
    assert_int_equal(b[0] | b[1] << 8 | b[2] << 16 | (uint32_t)b[3] << 24, 0xa1b23c4du);
    assert_int_equal(b[20], 101);
    free(b);
    seen *s = calloc(1, sizeof *s);
    assert_non_null(s);
    inspect(path, DLT_RAW, s);
    assert_int_equal(s->records, st.packets);
    assert_int_equal(st.by_cat[DS_SYNTH_CAT_ARP], 0);
    free(s->srcs);
    free(s);
    unlink(path);
}

/* ---- phenomena ---- */

/* A made-up country map: the first octet decides, over 40 countries (every one the tables name). */
static const char *const fake_cc[40] = {
    "CN", "US", "RU", "BR", "IN", "KR", "TW", "VN", "NL", "DE", "GB", "JP", "FR", "HK", "SG", "ID",
    "IR", "TR", "UA", "TH", "MX", "EG", "BG", "AR", "CO", "PK", "CL", "PE", "VE", "EC", "IT", "ES",
    "PL", "RO", "CA", "AU", "ZA", "NG", "KE", "SE",
};
static int fake_country(void *ctx, uint32_t addr, char cc[3])
{
    (void)ctx;
    memcpy(cc, fake_cc[(addr >> 24) % 40], 3);
    return 0;
}
static int is_cc(uint32_t addr, const char *cc) { return strcmp(fake_cc[(addr >> 24) % 40], cc) == 0; }

static void phen_params(ds_synth_params *p, uint64_t seed)
{
    small_params(p, seed);
    p->days = 61;
    p->rate = 1500;
    p->start = 1688169600;                   /* 2023-07-01, a Saturday */
    p->country_of = fake_country;
}

static const ds_synth_phenomenon *find_phen(const ds_synth_stats *st, int type, int tool, int by_country)
{
    for (uint32_t i = 0; i < st->nphen && i < DS_SYNTH_MAX_PHEN; i++) {
        const ds_synth_phenomenon *x = &st->phen[i];
        if (x->type == type && (type != DS_SYNTH_PH_TOOL || x->tool == tool) &&
            (type != DS_SYNTH_PH_SPIKE || x->by_country == by_country))
            return x;
    }
    return NULL;
}

static uint16_t csum(const unsigned char *p, size_t n, uint32_t sum)
{
    for (size_t i = 0; i + 1 < n; i += 2)
        sum += (uint32_t)p[i] << 8 | p[i + 1];
    if (n & 1)
        sum += (uint32_t)p[n - 1] << 8;
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)sum;
}

typedef struct phen_seen {
    uint64_t records;
    uint64_t new_svc, new_svc_early;             /* packets to the new service's port; before its start */
    uint64_t surge, surge_sport, surge_cc;       /* to the surge's service within its window */
    uint64_t weekly_by_wd[7];                    /* weekly service, from its country */
    uint64_t diurnal_by_hour[24];                /* diurnal service, from its country */
    uint64_t sv, sip_other, sip_no_ua;           /* UDP 5060 payloads by User-Agent */
    uint64_t slammer, slammer_bad, nachi, nachi_bad;
    uint64_t cc_spike_in, cc_spike_base;         /* spike country's packets: in its window, days 0-13 */
    uint64_t bad_checksum;
} phen_seen;

static void inspect_phen(const char *path, const ds_synth_stats *st, phen_seen *s)
{
    const ds_synth_phenomenon *nsv = find_phen(st, DS_SYNTH_PH_NEW_SERVICE, 0, 0),
                              *sur = find_phen(st, DS_SYNTH_PH_SURGE, 0, 0),
                              *wk = find_phen(st, DS_SYNTH_PH_PERIODIC_WEEKLY, 0, 0),
                              *dn = find_phen(st, DS_SYNTH_PH_PERIODIC_DAILY, 0, 0),
                              *spc = find_phen(st, DS_SYNTH_PH_SPIKE, 0, 1);
    assert_non_null(nsv);
    assert_non_null(sur);
    assert_non_null(wk);
    assert_non_null(dn);
    assert_non_null(spc);
    char errbuf[PCAP_ERRBUF_SIZE];
    pcap_t *pc = pcap_open_offline(path, errbuf);
    if (!pc)
        fail_msg("pcap_open_offline: %s", errbuf);
    struct pcap_pkthdr *h;
    const u_char *data;
    int r;
    uint64_t base = 1688169600ull;
    while ((r = pcap_next_ex(pc, &h, &data)) == 1) {
        s->records++;
        /* the file has microseconds, the truth nanoseconds: round the packet's time up, so that
         * ns >= start_ns holds for the first packet and ns <= end_ns for the last */
        uint64_t ns = (uint64_t)h->ts.tv_sec * 1000000000u + (uint64_t)h->ts.tv_usec * 1000u;
        uint64_t ns_up = ns + 999;
        ds_cur c = ds_cur_make(data, h->caplen);
        if (ds_peek_be16(&c, 12) != 0x0800)
            continue;
        ds_cur_skip(&c, 14);
        const unsigned char *ip = c.p;
        uint16_t total = ds_peek_be16(&c, 2), frag = ds_peek_be16(&c, 6);
        uint8_t proto = ds_peek_u8(&c, 9);
        uint32_t src = ds_peek_be32(&c, 12), dst = ds_peek_be32(&c, 16);
        assert_true(ds_cur_ok(&c));
        assert_true(total >= 20 && total <= c.left);   /* so ip[0 .. total) is captured */
        if (csum(ip, 20, 0) != 0xffff)
            s->bad_checksum++;
        if (is_cc(src, spc->cc)) {
            if (ns_up >= spc->start_ns && ns <= spc->end_ns)
                s->cc_spike_in++;
            else if (ns < (base + 14 * 86400ull) * 1000000000ull)
                s->cc_spike_base++;
        }
        if (frag & 0x3fff)
            continue;
        ds_cur l4 = ds_cur_make(ip + 20, (size_t)total - 20);
        const unsigned char *l4p = ip + 20;
        size_t l4len = (size_t)total - 20;
        uint32_t pseudo = (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) + proto + (uint32_t)l4len;
        if (proto == 1) {
            uint8_t type = ds_peek_u8(&l4, 0);
            assert_true(ds_cur_ok(&l4));
            if (type != 8)
                continue;
            if (csum(l4p, l4len, 0) != 0xffff)
                s->bad_checksum++;
            int all_aa = l4len == 72;
            for (size_t i = 8; all_aa && i < l4len; i++)
                all_aa = l4p[i] == 0xaa;
            if (all_aa)
                s->nachi++;
            else if (l4len > 8 && l4p[8] == 0xaa)
                s->nachi_bad++;
            continue;
        }
        if (proto != 6 && proto != 17)
            continue;
        uint16_t sport = ds_peek_be16(&l4, 0), dport = ds_peek_be16(&l4, 2);
        uint8_t flags = proto == 6 ? ds_peek_u8(&l4, 13) : 0;
        assert_true(ds_cur_ok(&l4));
        if (csum(l4p, l4len, pseudo) != 0xffff)
            s->bad_checksum++;
        if (dport == nsv->port) {
            s->new_svc++;
            s->new_svc_early += ns_up < nsv->start_ns;
        }
        int syn = proto == 17 || (flags & 0x12) == 0x02;
        if (syn && proto == sur->proto && dport == sur->port && ns_up >= sur->start_ns && ns <= sur->end_ns) {
            s->surge++;
            s->surge_sport += sport == sur->sport;
            s->surge_cc += is_cc(src, sur->cc);
        }
        if (syn && proto == wk->proto && dport == wk->port && is_cc(src, wk->cc) && ns >= wk->start_ns)
            s->weekly_by_wd[(ns / 86400000000000ull + 4) % 7]++;
        if (syn && proto == 6 && dport == dn->port && is_cc(src, dn->cc))
            s->diurnal_by_hour[ns / 3600000000000ull % 24]++;
        if (proto == 17 && dport == 5060) {
            const char *pl = (const char *)l4p + 8;
            size_t n = l4len - 8;
            if (memmem(pl, n, "\r\nUser-Agent: friendly-scanner\r\n", 32))
                s->sv++;
            else if (memmem(pl, n, "\r\nUser-Agent: sipcli/v1.8\r\n", 27) ||
                     memmem(pl, n, "\r\nUser-Agent: VaxSIPUserAgent/3.1\r\n", 35))
                s->sip_other++;
            else if (!memmem(pl, n, "User-Agent:", 11))
                s->sip_no_ua++;
        }
        if (proto == 17 && dport == 1434) {
            int ok = total == 404 && l4len == 384 && l4p[8] == 0x04;
            for (size_t i = 9; ok && i < 8 + 97; i++)
                ok = l4p[i] == 0x01;
            if (ok)
                s->slammer++;
            else
                s->slammer_bad++;
        }
    }
    assert_int_equal(r, PCAP_ERROR_BREAK);
    pcap_close(pc);
}

static const char *write_truth_file(const ds_synth_params *p, int slot, ds_synth_stats *st, char **text)
{
    char tpath[] = "/tmp/test_synth_truth_XXXXXX";
    int tfd = mkstemp(tpath);
    assert_true(tfd >= 0);
    FILE *truth = fdopen(tfd, "w");
    assert_non_null(truth);
    const char *path = gen_file(p, slot, st, truth);
    fclose(truth);
    size_t tl;
    unsigned char *tj = slurp(tpath, &tl);
    *text = malloc(tl + 1);
    assert_non_null(*text);
    memcpy(*text, tj, tl);
    (*text)[tl] = '\0';
    free(tj);
    unlink(tpath);
    return path;
}

static void test_phenomena(void **state)
{
    (void)state;
    ds_synth_params p;
    ds_synth_stats *st = calloc(1, sizeof *st);
    assert_non_null(st);
    phen_params(&p, 1);
    char *truth;
    const char *path = write_truth_file(&p, 0, st, &truth);

    /* one of each kind, nothing (but the endemic daily cycle and tools) before day 14 */
    assert_true(st->nphen >= 11 && st->nphen <= DS_SYNTH_MAX_PHEN);
    for (int type = 0; type < DS_SYNTH_PH__COUNT; type++)
        assert_non_null(find_phen(st, type, DS_SYNTH_TOOL_SIPVICIOUS, 0));
    assert_non_null(find_phen(st, DS_SYNTH_PH_SPIKE, 0, 1));
    assert_non_null(find_phen(st, DS_SYNTH_PH_TOOL, DS_SYNTH_TOOL_SLAMMER, 0));
    assert_non_null(find_phen(st, DS_SYNTH_PH_TOOL, DS_SYNTH_TOOL_NACHI, 0));
    const ds_synth_phenomenon *sip2 = find_phen(st, DS_SYNTH_PH_TOOL, DS_SYNTH_TOOL_SIPCLI, 0);
    if (!sip2)
        sip2 = find_phen(st, DS_SYNTH_PH_TOOL, DS_SYNTH_TOOL_VAXSIP, 0);
    assert_non_null(sip2);
    uint64_t day14 = (1688169600ull + 14 * 86400ull) * 1000000000ull;
    uint64_t end = (1688169600ull + 61 * 86400ull) * 1000000000ull;
    for (uint32_t i = 0; i < st->nphen; i++) {
        const ds_synth_phenomenon *x = &st->phen[i];
        assert_true(x->packets > 0 && x->hosts > 0 && x->start_ns <= x->end_ns && x->end_ns < end);
        if (x->type != DS_SYNTH_PH_PERIODIC_DAILY && x->type != DS_SYNTH_PH_TOOL)
            assert_true(x->start_ns >= day14);
        if (x->type == DS_SYNTH_PH_SINGLE_SOURCE)
            assert_int_equal(x->hosts, 1);
        if (i)
            assert_true(x->start_ns >= st->phen[i - 1].start_ns);
    }

    /* the truth file lists them all */
    const char *ph = strstr(truth, "\"phenomena\": [");
    assert_non_null(ph);
    unsigned listed = 0;
    for (const char *q = ph; (q = strstr(q, "{\"type\": \"")) != NULL; q++)
        listed++;
    assert_int_equal(listed, st->nphen);
    assert_non_null(strstr(ph, "\"tool\": \"sipvicious\", \"user_agent\": \"friendly-scanner\", \"sources\": [\""));
    assert_non_null(strstr(ph, "\"type\": \"surge\""));
    assert_non_null(strstr(ph, "\"peak_weekday\": \""));

    phen_seen *s = calloc(1, sizeof *s);
    assert_non_null(s);
    inspect_phen(path, st, s);
    assert_int_equal(s->records, st->packets);
    assert_int_equal(s->bad_checksum, 0);

    /* new service: every packet to its port is the phenomenon's, none before its start */
    const ds_synth_phenomenon *x = find_phen(st, DS_SYNTH_PH_NEW_SERVICE, 0, 0);
    assert_int_equal(s->new_svc, x->packets);
    assert_int_equal(s->new_svc_early, 0);
    assert_true(x->hosts >= 20);

    /* surge: >= 90 % from its country, >= 99 % from its source port, in the packets */
    x = find_phen(st, DS_SYNTH_PH_SURGE, 0, 0);
    assert_true(x->cc[0] && x->sport);
    assert_true(s->surge >= x->packets);
    assert_true((double)s->surge_cc >= 0.90 * (double)s->surge);
    assert_true((double)s->surge_sport >= 0.99 * (double)s->surge);
    assert_true(x->country_share >= 0.90 && x->sport_share >= 0.99 && x->factor > 50);
    assert_true(x->end_ns - x->start_ns >= 13 * 86400000000000ull);

    /* weekly: the peak weekday has the most packets of that service from that country */
    x = find_phen(st, DS_SYNTH_PH_PERIODIC_WEEKLY, 0, 0);
    for (int wd = 0; wd < 7; wd++)
        if (wd != x->peak_weekday)
            assert_true(s->weekly_by_wd[x->peak_weekday] > s->weekly_by_wd[wd]);

    /* daily: the busiest hour (UTC) of the diurnal service from its country is the peak hour */
    x = find_phen(st, DS_SYNTH_PH_PERIODIC_DAILY, 0, 0);
    int best = 0;
    for (int hr = 1; hr < 24; hr++)
        if (s->diurnal_by_hour[hr] > s->diurnal_by_hour[best])
            best = hr;
    int dist = abs(best - x->peak_hour_utc);
    assert_true(dist <= 1 || dist == 23);

    /* country spike: several times the country's usual packets per day */
    x = find_phen(st, DS_SYNTH_PH_SPIKE, 0, 1);
    double days_in = (double)(x->end_ns - x->start_ns) / 86400e9;
    assert_true((double)s->cc_spike_in / days_in > 2.5 * (double)s->cc_spike_base / 14.0);

    /* tools: the payloads say what the truth says */
    assert_int_equal(s->sv, find_phen(st, DS_SYNTH_PH_TOOL, DS_SYNTH_TOOL_SIPVICIOUS, 0)->packets);
    assert_int_equal(s->sip_other, sip2->packets);
    assert_true(s->sip_no_ua > 0);                /* the population's SIP probes name no tool */
    assert_int_equal(s->slammer, find_phen(st, DS_SYNTH_PH_TOOL, DS_SYNTH_TOOL_SLAMMER, 0)->packets);
    assert_int_equal(s->slammer_bad, 0);
    assert_int_equal(s->nachi, find_phen(st, DS_SYNTH_PH_TOOL, DS_SYNTH_TOOL_NACHI, 0)->packets);
    assert_int_equal(s->nachi_bad, 0);
    assert_int_equal(st->by_cat[DS_SYNTH_CAT_TOOL_PAYLOAD], s->sv + s->sip_other + s->slammer + s->nachi);

    /* tcpdump, where installed, agrees on the Slammer datagrams (UDP length 8 + 376) */
    if (access("/usr/bin/tcpdump", X_OK) == 0 || access("/usr/sbin/tcpdump", X_OK) == 0) {
        char cmd[256];
        snprintf(cmd, sizeof cmd, "tcpdump -nr %s 'udp dst port 1434 and udp[4:2] = 384 and udp[8] = 4' 2>/dev/null | wc -l",
                 path);
        FILE *pp = popen(cmd, "r");
        assert_non_null(pp);
        unsigned long long n = 0;
        assert_int_equal(fscanf(pp, "%llu", &n), 1);
        pclose(pp);
        assert_int_equal(n, s->slammer);
    }
    free(s);
    free(truth);
    free(st);
    unlink(path);
}

/* Same seed, same bytes (phenomena included); another seed, other phenomena. */
static void test_phenomena_seeded(void **state)
{
    (void)state;
    ds_synth_params p;
    ds_synth_stats *st = calloc(3, sizeof *st);
    assert_non_null(st);
    phen_params(&p, 5);
    const char *a = gen_file(&p, 0, &st[0], NULL);
    const char *b = gen_file(&p, 1, &st[1], NULL);
    size_t la, lb;
    unsigned char *ba = slurp(a, &la), *bb = slurp(b, &lb);
    assert_int_equal(la, lb);
    assert_memory_equal(ba, bb, la);
    free(ba);
    free(bb);
    unlink(a);
    unlink(b);
    phen_params(&p, 6);
    a = gen_file(&p, 0, &st[2], NULL);
    unlink(a);
    assert_true(st[0].nphen > 0 && st[2].nphen > 0);
    /* compare the layouts: (type, service, country, start day) of the non-tool phenomena */
    unsigned same = 0, total = 0;
    for (uint32_t i = 0; i < st[0].nphen; i++) {
        const ds_synth_phenomenon *x = &st[0].phen[i];
        if (x->type == DS_SYNTH_PH_TOOL)
            continue;
        total++;
        for (uint32_t j = 0; j < st[2].nphen; j++) {
            const ds_synth_phenomenon *y = &st[2].phen[j];
            if (y->type == x->type && y->proto == x->proto && y->port == x->port && !strcmp(y->cc, x->cc) &&
                y->start_ns / 86400000000000ull == x->start_ns / 86400000000000ull)
                same++;
        }
    }
    assert_true(total >= 6);
    assert_true(same < total / 2);
    free(st);
}

/* --no-phenomena: nothing planted but the diurnal botnet, which keeps 4899/tcp from CN. */
static void test_phenomena_off(void **state)
{
    (void)state;
    ds_synth_params p;
    ds_synth_stats *st = calloc(1, sizeof *st);
    assert_non_null(st);
    phen_params(&p, 1);
    p.phenomena = 0;
    const char *a = gen_file(&p, 0, st, NULL);
    unlink(a);
    assert_int_equal(st->nphen, 1);
    assert_int_equal(st->phen[0].type, DS_SYNTH_PH_PERIODIC_DAILY);
    assert_int_equal(st->phen[0].port, 4899);
    assert_string_equal(st->phen[0].cc, "CN");
    assert_int_equal(st->phen[0].peak_hour_utc, 13);
    for (int c = DS_SYNTH_CAT_SPIKE; c < DS_SYNTH_CAT__COUNT; c++)
        assert_int_equal(st->by_cat[c], 0);
    free(st);
}

static void test_bad_params(void **state)
{
    (void)state;
    ds_synth_params p;
    ds_err err;
    small_params(&p, 1);
    p.nsensors = 0;
    FILE *f = tmpfile();
    assert_non_null(f);
    assert_int_equal(ds_synth_run(&p, f, "tmp", NULL, NULL, &err), DS_EINVAL);
    assert_non_null(strstr(err.msg, "darknet"));
    small_params(&p, 1);
    p.days = 0;
    assert_int_equal(ds_synth_run(&p, f, "tmp", NULL, NULL, &err), DS_EINVAL);
    /* overlapping prefixes of two sensors */
    small_params(&p, 1);
    sensors[1].prefixes = &tokyo_px;
    assert_int_equal(ds_synth_run(&p, f, "tmp", NULL, NULL, &err), DS_EINVAL);
    fclose(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_fingerprints),
        cmocka_unit_test(test_raw_nsec),
        cmocka_unit_test(test_phenomena),
        cmocka_unit_test(test_phenomena_seeded),
        cmocka_unit_test(test_phenomena_off),
        cmocka_unit_test(test_bad_params),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
