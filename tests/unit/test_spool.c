/* test_spool.c: the sensor's spool without a network: segment writing, rotation by size, sequence
 * numbers surviving a restart, salvage of a segment cut by a crash, the spool cap, quiet intervals
 * shipped as segments without packets (continuous mode), the BPF text,
 * the upload hash format, and the SYN-ACK the responder builds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include <xxhash.h>

#include "capture/reader.h"
#include "net/responder.h"
#include "net/sensor.h"
#include "net/uploader.h"

static char g_dir[256];

static int setup(void **state)
{
    snprintf(g_dir, sizeof g_dir, "/tmp/ds-spool-test.XXXXXX");
    assert_non_null(mkdtemp(g_dir));
    return 0;
}

static int teardown(void **state)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* a fake Ethernet/IPv4/UDP frame whose bytes depend on i */
static size_t make_frame(uint8_t *buf, uint32_t i)
{
    memset(buf, 0, 60);
    buf[12] = 0x08;
    buf[14] = 0x45;
    buf[23] = 17;
    memcpy(buf + 26, &i, 4);
    buf[30] = 198; buf[31] = 51; buf[32] = 100; buf[33] = (uint8_t)i;
    for (int k = 42; k < 60; k++)
        buf[k] = (uint8_t)(i * 7 + (uint32_t)k);
    return 60;
}

/* packets in every seg-*.pcap.zst of g_dir, read back with the project's reader */
static uint64_t count_spool(uint64_t *nsegs, uint64_t *maxseq)
{
    uint64_t total = 0;
    *nsegs = 0;
    *maxseq = 0;
    for (uint64_t seq = 1; seq < 1000; seq++) {
        char path[400];
        snprintf(path, sizeof path, "%s/seg-%llu.pcap.zst", g_dir, (unsigned long long)seq);
        if (access(path, F_OK) != 0)
            continue;
        ds_reader *r;
        ds_err err = { 0 };
        assert_int_equal(ds_reader_open(&r, path, &err), DS_OK);
        ds_record rec;
        ds_rc rc;
        uint64_t n = 0;
        while ((rc = ds_reader_next(r, &rec, &err)) == DS_OK) {
            assert_int_equal(rec.caplen, 60);
            n++;
        }
        assert_int_equal(rc, DS_EOF);
        ds_reader_close(r);
        ds_seg_meta m;
        assert_int_equal(ds_seg_meta_read(g_dir, seq, &m, &err), DS_OK);
        assert_int_equal(m.packets, n);
        total += n;
        (*nsegs)++;
        *maxseq = seq;
    }
    return total;
}

static void test_rotation_and_restart(void **state)
{
    ds_spool_opts o;
    ds_spool_opts_default(&o);
    o.dir = g_dir;
    o.rotate_bytes = 4096;           /* many segments */
    o.rotate_ns = 3600ULL * 1000000000ULL;
    ds_spool *s;
    ds_err err = { 0 };
    uint8_t f[64];
    assert_int_equal(ds_spool_open(&s, &o, &err), DS_OK);
    /* a second process cannot take the same spool */
    ds_spool *s2;
    assert_int_equal(ds_spool_open(&s2, &o, &err), DS_EBUSY);
    for (uint32_t i = 0; i < 20000; i++)
        assert_int_equal(ds_spool_write(s, 1700000000000000000ULL + i, f, (uint32_t)make_frame(f, i), 60, &err), DS_OK);
    assert_int_equal(ds_spool_close(s, &err), DS_OK);
    uint64_t nsegs, maxseq;
    assert_int_equal(count_spool(&nsegs, &maxseq), 20000);
    assert_true(nsegs > 2);
    assert_int_equal(maxseq, nsegs);
    /* restart: numbering continues after the last segment */
    assert_int_equal(ds_spool_open(&s, &o, &err), DS_OK);
    assert_int_equal(ds_spool_write(s, 1, f, (uint32_t)make_frame(f, 1), 60, &err), DS_OK);
    assert_int_equal(ds_spool_current_seq(s), maxseq + 1);
    assert_int_equal(ds_spool_close(s, &err), DS_OK);
    assert_int_equal(count_spool(&nsegs, &maxseq), 20001);
}

/* Simulate a crash: keep a copy of the .part as it was after a flush, let the spool finish
 * normally, then put the copy back in place of the finished segment. */
static void crash_and_salvage(off_t cut_tail, uint64_t *salvaged)
{
    ds_spool_opts o;
    ds_spool_opts_default(&o);
    o.dir = g_dir;
    o.rotate_ns = 3600ULL * 1000000000ULL;
    o.flush_ns = 1;
    ds_spool *s;
    ds_err err = { 0 };
    uint8_t f[64];
    assert_int_equal(ds_spool_open(&s, &o, &err), DS_OK);
    for (uint32_t i = 0; i < 5000; i++)
        assert_int_equal(ds_spool_write(s, 1700000000000000000ULL + i, f, (uint32_t)make_frame(f, i), 60, &err), DS_OK);
    assert_int_equal(ds_spool_tick(s, ds_now_ns(), &err), DS_OK);   /* flush */
    uint64_t seq = ds_spool_current_seq(s);
    char part[400], copy[400], cmd[900], final[400], meta[400];
    snprintf(part, sizeof part, "%s/seg-%llu.pcap.zst.part", g_dir, (unsigned long long)seq);
    snprintf(copy, sizeof copy, "%s/saved.part.bak", g_dir);
    snprintf(final, sizeof final, "%s/seg-%llu.pcap.zst", g_dir, (unsigned long long)seq);
    snprintf(meta, sizeof meta, "%s/seg-%llu.meta", g_dir, (unsigned long long)seq);
    snprintf(cmd, sizeof cmd, "cp '%s' '%s'", part, copy);
    assert_int_equal(system(cmd), 0);
    /* packets after the flush are not in the copy: they were still in the compressor */
    for (uint32_t i = 0; i < 100; i++)
        assert_int_equal(ds_spool_write(s, 1800000000000000000ULL + i, f, (uint32_t)make_frame(f, i), 60, &err), DS_OK);
    assert_int_equal(ds_spool_close(s, &err), DS_OK);
    unlink(final);
    unlink(meta);
    assert_int_equal(rename(copy, part), 0);
    if (cut_tail) {
        struct stat st;
        assert_int_equal(stat(part, &st), 0);
        assert_int_equal(truncate(part, st.st_size - cut_tail), 0);
    }
    assert_int_equal(ds_spool_open(&s, &o, &err), DS_OK);
    assert_int_equal(access(part, F_OK), -1);
    ds_seg_meta m;
    assert_int_equal(ds_seg_meta_read(g_dir, seq, &m, &err), DS_OK);
    assert_int_equal(m.salvaged, 1);
    *salvaged = m.packets;
    /* the salvaged segment keeps its number; the next one gets a new one */
    assert_int_equal(ds_spool_write(s, 1, f, (uint32_t)make_frame(f, 1), 60, &err), DS_OK);
    assert_int_equal(ds_spool_current_seq(s), seq + 1);
    assert_int_equal(ds_spool_close(s, &err), DS_OK);
}

static void test_salvage_after_flush(void **state)
{
    uint64_t n, nsegs, maxseq;
    crash_and_salvage(0, &n);
    assert_int_equal(n, 5000);   /* everything flushed before the "crash" */
    assert_int_equal(count_spool(&nsegs, &maxseq), 5001);
}

static void test_salvage_torn(void **state)
{
    uint64_t n, nsegs, maxseq;
    crash_and_salvage(100, &n);  /* the last block is torn */
    assert_true(n < 5000);
    assert_int_equal(count_spool(&nsegs, &maxseq), n + 1);
}

static void test_spool_full(void **state)
{
    ds_spool_opts o;
    ds_spool_opts_default(&o);
    o.dir = g_dir;
    o.rotate_bytes = 2048;
    o.max_bytes = 8192;
    ds_spool *s;
    ds_err err = { 0 };
    uint8_t f[64];
    assert_int_equal(ds_spool_open(&s, &o, &err), DS_OK);
    for (uint32_t i = 0; i < 20000; i++)
        assert_int_equal(ds_spool_write(s, 1700000000000000000ULL + i, f, (uint32_t)make_frame(f, i), 60, &err), DS_OK);
    uint64_t dropped = ds_spool_drops_total(s), written = ds_spool_packets_total(s);
    assert_true(dropped > 0);
    assert_int_equal(dropped + written, 20000);
    assert_int_equal(ds_spool_tick(s, ds_now_ns(), &err), DS_OK);   /* logs SPOOL FULL */
    assert_int_equal(ds_spool_close(s, &err), DS_OK);
    uint64_t nsegs, maxseq;
    assert_int_equal(count_spool(&nsegs, &maxseq), written);
    /* the drop count travels in the meta of a segment */
    uint64_t shipped = 0;
    for (uint64_t q = 1; q <= maxseq; q++) {
        ds_seg_meta m;
        if (ds_seg_meta_read(g_dir, q, &m, &err) == DS_OK)
            shipped += m.spool_drops;
    }
    assert_true(shipped > 0 && shipped <= dropped);
}

static void seg_hash(uint64_t seq, char hex[33])
{
    char path[400];
    uint64_t size;
    ds_err err = { 0 };
    snprintf(path, sizeof path, "%s/seg-%llu.pcap.zst", g_dir, (unsigned long long)seq);
    assert_int_equal(ds_file_xxh128_hex(path, hex, &size, &err), DS_OK);
}

/* Issue #21: a live (continuous) spool ends every interval as a segment, packets or not, when
 * ds_spool_tick() sees its deadline pass; the spans of consecutive segments meet; two segments
 * without packets differ in their bytes (the collector refuses bytes it already stored); a
 * --read (non-continuous) spool opens nothing on its own. */
static void test_quiet_segments(void **state)
{
    ds_spool_opts o;
    ds_spool_opts_default(&o);
    o.dir = g_dir;
    o.rotate_ns = 3600ULL * 1000000000ULL;
    ds_spool *s;
    ds_err err = { 0 };
    uint8_t f[64];
    const uint64_t later = ds_now_ns() + 7200ULL * 1000000000ULL;   /* past any deadline set now */
    assert_int_equal(ds_spool_open(&s, &o, &err), DS_OK);
    assert_int_equal(ds_spool_tick(s, ds_now_ns(), &err), DS_OK);
    assert_int_equal(ds_spool_current_seq(s), 0);                  /* not continuous: nothing opens */
    assert_int_equal(ds_spool_close(s, &err), DS_OK);

    o.continuous = 1;
    assert_int_equal(ds_spool_open(&s, &o, &err), DS_OK);
    assert_int_equal(ds_spool_tick(s, ds_now_ns(), &err), DS_OK);
    assert_int_equal(ds_spool_current_seq(s), 1);                  /* open before any packet */
    uint64_t t0 = ds_now_ns();
    for (uint32_t i = 0; i < 3; i++)
        assert_int_equal(ds_spool_write(s, t0 + i, f, (uint32_t)make_frame(f, i), 60, &err), DS_OK);
    for (uint64_t seq = 1; seq <= 3; seq++) {                      /* three intervals end by the clock */
        assert_int_equal(ds_spool_tick(s, later, &err), DS_OK);
        assert_int_equal(ds_spool_current_seq(s), seq + 1);
    }
    assert_int_equal(ds_spool_close(s, &err), DS_OK);              /* the fourth at the stop */
    uint64_t nsegs, maxseq;
    assert_int_equal(count_spool(&nsegs, &maxseq), 3);             /* the reader takes empty segments */
    assert_int_equal(nsegs, 4);
    ds_seg_meta m[5];
    for (uint64_t q = 1; q <= 4; q++) {
        assert_int_equal(ds_seg_meta_read(g_dir, q, &m[q], &err), DS_OK);
        assert_int_equal(m[q].packets, q == 1 ? 3 : 0);
        assert_true(m[q].span_from_ns > 0 && m[q].span_to_ns >= m[q].span_from_ns);
        if (q > 1)
            assert_int_equal(m[q].span_from_ns, m[q - 1].span_to_ns);   /* the spans meet */
    }
    assert_true(m[1].span_from_ns <= t0 && m[1].span_to_ns >= t0 + 2);
    char h2[33], h3[33];
    seg_hash(2, h2);
    seg_hash(3, h3);
    assert_string_not_equal(h2, h3);
}

/* A continuous segment that meets a full spool ends its span at the first packet not written, and
 * no segment opens until the uploader made room; the next one does not claim the gap. */
static void test_quiet_spool_full(void **state)
{
    ds_spool_opts o;
    ds_spool_opts_default(&o);
    o.dir = g_dir;
    o.rotate_ns = 3600ULL * 1000000000ULL;
    o.max_bytes = 8192;
    o.continuous = 1;
    ds_spool *s;
    ds_err err = { 0 };
    uint8_t f[64];
    assert_int_equal(ds_spool_open(&s, &o, &err), DS_OK);
    uint64_t t0 = ds_now_ns(), first_drop = 0;
    for (uint32_t i = 0; i < 200000 && !first_drop; i++) {
        assert_int_equal(ds_spool_write(s, t0 + i, f, (uint32_t)make_frame(f, i), 60, &err), DS_OK);
        if (ds_spool_drops_total(s))
            first_drop = t0 + i;
    }
    assert_true(first_drop > 0);
    const uint64_t later = ds_now_ns() + 7200ULL * 1000000000ULL;
    assert_int_equal(ds_spool_tick(s, later, &err), DS_OK);
    assert_int_equal(ds_spool_current_seq(s), 0);                  /* full: nothing opens */
    ds_seg_meta m;
    assert_int_equal(ds_seg_meta_read(g_dir, 1, &m, &err), DS_OK);
    assert_int_equal(m.span_to_ns, first_drop);
    assert_int_equal(m.spool_drops, 1);                             /* and it carries the count */
    ds_spool_released(s, UINT64_MAX);                               /* the uploader took it */
    assert_int_equal(ds_spool_tick(s, later, &err), DS_OK);
    assert_int_equal(ds_spool_current_seq(s), 2);
    assert_int_equal(ds_spool_close(s, &err), DS_OK);
    ds_seg_meta m2;
    assert_int_equal(ds_seg_meta_read(g_dir, 2, &m2, &err), DS_OK);
    assert_true(m2.span_from_ns > first_drop);
    assert_int_equal(m2.spool_drops, 0);
}

static void test_bpf_and_hash(void **state)
{
    ds_prefix p[2];
    assert_int_equal(ds_prefix_parse("198.51.100.0/24", &p[0]), 0);
    assert_int_equal(ds_prefix_parse("2001:db8::/64", &p[1]), 0);
    char buf[256];
    ds_err err = { 0 };
    assert_int_equal(ds_sensor_bpf(p, 2, buf, sizeof buf, &err), DS_OK);
    assert_string_equal(buf, "dst net 198.51.100.0/24 or dst net 2001:db8::/64");
    assert_int_equal(ds_sensor_bpf(p, 0, buf, sizeof buf, &err), DS_EINVAL);

    char path[400], hex[33], want[33];
    snprintf(path, sizeof path, "%s/blob", g_dir);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs("darkscope", f);
    fclose(f);
    uint64_t size;
    assert_int_equal(ds_file_xxh128_hex(path, hex, &size, &err), DS_OK);
    assert_int_equal(size, 9);
    /* same bytes as the store's canonical (big-endian hi||lo) file hash */
    XXH128_canonical_t c;
    XXH128_canonicalFromHash(&c, XXH3_128bits("darkscope", 9));
    for (int i = 0; i < 16; i++)
        snprintf(want + 2 * i, 3, "%02x", c.digest[i]);
    assert_string_equal(hex, want);
}

static uint16_t fold(const uint8_t *p, size_t n, uint32_t sum)
{
    for (size_t i = 0; i + 1 < n; i += 2)
        sum += (uint32_t)p[i] << 8 | p[i + 1];
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)sum;
}

static void test_synack(void **state)
{
    /* SYN 192.0.2.9:40000 -> 198.51.100.7:80, seq 1000 */
    uint8_t syn[40] = { 0x45, 0, 0, 40, 0, 1, 0x40, 0, 64, 6, 0, 0, 192, 0, 2, 9, 198, 51, 100, 7,
                        0x9c, 0x40, 0, 80, 0, 0, 0x03, 0xe8, 0, 0, 0, 0, 0x50, 0x02, 0xff, 0xff, 0, 0, 0, 0 };
    uint8_t out[44];
    assert_int_equal(ds_synack_build(syn, sizeof syn, 0x12345678u, out), 0);
    assert_int_equal(fold(out, 20, 0), 0xffff);                          /* IPv4 header checksum */
    assert_memory_equal(out + 12, syn + 16, 4);                          /* from the darknet address */
    assert_memory_equal(out + 16, syn + 12, 4);
    const uint8_t *t = out + 20;
    assert_int_equal(t[0] << 8 | t[1], 80);
    assert_int_equal(t[2] << 8 | t[3], 40000);
    assert_int_equal(t[13], 0x12);                                       /* SYN+ACK, nothing else */
    assert_int_equal((uint32_t)t[8] << 24 | (uint32_t)t[9] << 16 | (uint32_t)t[10] << 8 | t[11], 1001);
    uint8_t pseudo[12];
    memcpy(pseudo, out + 12, 8);
    pseudo[8] = 0; pseudo[9] = 6; pseudo[10] = 0; pseudo[11] = 24;
    assert_int_equal(fold(t, 24, fold(pseudo, 12, 0)), 0xffff);          /* TCP checksum */
    assert_int_equal(ds_synack_build(syn, 30, 1, out), -1);              /* cut SYN: refused */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_rotation_and_restart, setup, teardown),
        cmocka_unit_test_setup_teardown(test_salvage_after_flush, setup, teardown),
        cmocka_unit_test_setup_teardown(test_salvage_torn, setup, teardown),
        cmocka_unit_test_setup_teardown(test_spool_full, setup, teardown),
        cmocka_unit_test_setup_teardown(test_quiet_segments, setup, teardown),
        cmocka_unit_test_setup_teardown(test_quiet_spool_full, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bpf_and_hash, setup, teardown),
        cmocka_unit_test(test_synack),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
