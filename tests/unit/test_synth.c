/* test_synth.c: the synthetic traffic generator, checked from the outside.
 *
 * A small run (2 days, low rate) is written to a temp file and read back with libpcap, an
 * independent reader; the tool fingerprints are checked on the wire bytes (through bounds-checked
 * cursors), and where tcpdump is installed its count of telnet SYNs is the oracle.
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
        cmocka_unit_test(test_bad_params),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
