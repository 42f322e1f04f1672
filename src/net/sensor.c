/* sensor.c: the live sensor's spool of rotating zstd-compressed pcap segments.
 *
 * The capture loop (capture.c) hands each packet to ds_spool_write(), which appends it to a
 * staging buffer that is compressed with ZSTD_compressStream2 (RFC 8878) into
 * seg-<seq>.pcap.zst.part as a classic
 * pcap file with the nanosecond magic 0xa1b23c4d (the format of libpcap's pcap-savefile(5)), the
 * format src/capture reads back.  The stream is flushed (ZSTD_e_flush) every flush period: the
 * bytes on disk then end on a complete zstd block, so after a crash every packet older than one
 * flush period can be recovered; a clean stop (SIGTERM) loses nothing.
 *
 * Rotation: at wall-clock multiples of --rotate and at --rotate-bytes of compressed output, the
 * frame is ended (ZSTD_e_end), the file fsync'ed, its counters written to seg-<seq>.meta, and the
 * .part renamed to seg-<seq>.pcap.zst: rename(2) is atomic, so the uploader sees either nothing
 * or a whole file.  The sequence number is persisted (state file, fsync, rename) before the .part
 * is created, so no number is ever used twice.  Rotation follows the clock, not the packets: the
 * capture loop (capture.c) calls ds_spool_tick() a few times a second even when nothing arrives,
 * so a quiet sensor's last packets leave with their interval.
 *
 * Quiet intervals (continuous mode, the live sensor): a segment is open from the start and the
 * next one opens when one is finished, so every interval ends as a segment, with or without
 * packets.  Its meta carries the wall-clock span it was capturing (span_from_ns..span_to_ns),
 * which the uploader sends as the segment's capture span: the collector's coverage
 * (docs/store.md "Coverage") then records a quiet hour as observed with 0 packets, not as an
 * outage, and sensor_silent sees uploads.  A segment that met a full spool ends its span at the
 * first packet not written: the time after it was not observed.  While the spool is full no new
 * segment opens, so that time stays uncovered.  Every finished segment ends with a zstd
 * skippable frame (RFC 8878 section 3.1.2; decompressors skip it) naming the segment, its span
 * and a random per-process nonce: the collector refuses a file whose bytes it already stored, and
 * two segments without packets would otherwise be byte for byte the same.
 *
 * Spool full (finished + open bytes >= --spool-max): capture keeps reading the ring, so the
 * kernel's drop counter stays meaningful, but packets are counted as spool drops instead of
 * written.  The log says so when it starts, every minute while it lasts, and when it ends; the
 * count travels with the next segment (meta spool_drops, X-Darkscope-Spool-Drops).  We prefer
 * losing the newest packets with an exact count to deleting old segments nobody has seen.
 *
 * Salvage: a .part found at start was cut by a crash.  It is decompressed as far as it is valid,
 * whole pcap records are re-compressed into a complete seg-<seq>.pcap.zst (meta salvaged=1), and
 * the torn tail (at most one flush period of packets) is reported.  We rewrite rather than upload
 * the cut file so the collector only ever sees complete frames.
 */
#include "net/sensor.h"
#include "util/atomic_file.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#define PCAP_NS_MAGIC 0xa1b23c4du
#define STAGE_CAP (1u << 20)          /* bytes of pcap collected before one compress call */
#define MAX_RECORD (16u + 262144u)

void ds_spool_opts_default(ds_spool_opts *o)
{
    memset(o, 0, sizeof *o);
    o->rotate_ns = 60ULL * 1000000000ULL;
    o->rotate_bytes = 64ULL << 20;
    o->max_bytes = 10ULL << 30;
    o->flush_ns = 1000000000ULL;
    o->zstd_level = 1;
    o->zstd_workers = 0;
    o->snaplen = 262144;
    o->linktype = DLT_EN10MB;
}

struct ds_spool {
    ds_spool_opts o;
    int finished;           /* ds_spool_finish() ran: no more writes */
    char dir[1024];
    int lock_fd;
    int dir_fd;
    uint64_t next_seq;
    /* open segment */
    int fd;
    uint64_t seq;                 /* 0: none open */
    char part_path[1300];
    ZSTD_CCtx *cctx;
    uint8_t *stage;
    size_t stage_len;
    size_t stage_limit;           /* compress when this much is staged: small against rotate_bytes */
    uint8_t *zout;
    size_t zout_cap;
    uint64_t part_bytes;          /* compressed bytes written to the open segment */
    uint64_t deadline_ns;         /* rotate at this wall-clock time */
    uint64_t next_flush_ns;
    uint64_t open_ns;             /* wall clock when the open segment began */
    uint64_t full_ns;             /* first packet of the open segment not written (spool full); 0: none */
    uint64_t bridge_ns;           /* continuous: where the last segment's span ended, when nothing was
                                   * lost since, so the next one's span begins there; 0: at its opening */
    uint64_t nonce;               /* random, per process: in each segment's trailing skippable frame */
    ds_seg_meta cur;
    /* drops */
    uint64_t kdrops, ifdrops, kdrops_shipped, ifdrops_shipped;
    uint64_t spool_drops, spool_drops_shipped, spool_drops_total;
    int full, full_logged;
    uint64_t full_since_drops, full_log_ns;
    uint64_t written_total;
    _Atomic uint64_t finished_bytes;
    void (*on_finish)(void *);
    void *on_finish_ctx;
};

static ds_rc write_all(int fd, const void *buf, size_t n, const char *path, ds_err *err)
{
    const uint8_t *p = buf;
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return ds_fail(err, DS_EIO, "%s: write failed: %s", path, strerror(errno));
        }
        p += w;
        n -= (size_t)w;
    }
    return DS_OK;
}

/* Write a small file of the spool atomically (util/atomic_file.h: tmp, fsync, rename, fsync(dir)). */
static ds_rc write_file_atomic(ds_spool *s, const char *name, const char *text, ds_err *err)
{
    char path[1300];
    snprintf(path, sizeof path, "%s/%s", s->dir, name);
    return ds_afile_write_file(path, text, strlen(text), 0644, 0, err);
}

static ds_rc save_state(ds_spool *s, ds_err *err)
{
    char text[64];
    snprintf(text, sizeof text, "next_seq=%" PRIu64 "\n", s->next_seq);
    return write_file_atomic(s, "state", text, err);
}

static ds_rc write_meta(ds_spool *s, uint64_t seq, const ds_seg_meta *m, ds_err *err)
{
    char name[64], text[512];
    snprintf(name, sizeof name, "seg-%" PRIu64 ".meta", seq);
    snprintf(text, sizeof text,
             "packets=%" PRIu64 "\nfirst_ns=%" PRIu64 "\nlast_ns=%" PRIu64 "\nspan_from_ns=%" PRIu64
             "\nspan_to_ns=%" PRIu64 "\nkernel_drops=%" PRIu64 "\nif_drops=%" PRIu64 "\nspool_drops=%" PRIu64
             "\nsalvaged=%d\n",
             m->packets, m->first_ns, m->last_ns, m->span_from_ns, m->span_to_ns, m->kernel_drops, m->if_drops,
             m->spool_drops, m->salvaged);
    return write_file_atomic(s, name, text, err);
}

ds_rc ds_seg_meta_read(const char *dir, uint64_t seq, ds_seg_meta *m, ds_err *err)
{
    char path[1300], line[256];
    memset(m, 0, sizeof *m);
    snprintf(path, sizeof path, "%s/seg-%" PRIu64 ".meta", dir, seq);
    FILE *f = fopen(path, "r");
    if (!f)
        return ds_fail(err, DS_ENOTFOUND, "%s: no segment counters: %s", path, strerror(errno));
    while (fgets(line, sizeof line, f)) {
        char *eq = strchr(line, '=');
        if (!eq)
            continue;
        *eq = '\0';
        uint64_t v = strtoull(eq + 1, NULL, 10);
        if (!strcmp(line, "packets")) m->packets = v;
        else if (!strcmp(line, "first_ns")) m->first_ns = v;
        else if (!strcmp(line, "last_ns")) m->last_ns = v;
        else if (!strcmp(line, "span_from_ns")) m->span_from_ns = v;
        else if (!strcmp(line, "span_to_ns")) m->span_to_ns = v;
        else if (!strcmp(line, "kernel_drops")) m->kernel_drops = v;
        else if (!strcmp(line, "if_drops")) m->if_drops = v;
        else if (!strcmp(line, "spool_drops")) m->spool_drops = v;
        else if (!strcmp(line, "salvaged")) m->salvaged = (int)v;
    }
    fclose(f);
    return DS_OK;
}

/* ---- segment writer ---- */

static ds_rc z_push(ds_spool *s, ZSTD_EndDirective mode, ds_err *err)
{
    ZSTD_inBuffer in = { s->stage, s->stage_len, 0 };
    for (;;) {
        ZSTD_outBuffer out = { s->zout, s->zout_cap, 0 };
        size_t r = ZSTD_compressStream2(s->cctx, &out, &in, mode);
        if (ZSTD_isError(r))
            return ds_fail(err, DS_EIO, "%s: zstd compression failed: %s", s->part_path, ZSTD_getErrorName(r));
        if (out.pos) {
            ds_rc rc = write_all(s->fd, s->zout, out.pos, s->part_path, err);
            if (rc != DS_OK)
                return rc;
            s->part_bytes += out.pos;
        }
        if (mode == ZSTD_e_continue ? in.pos == in.size : r == 0)
            break;
    }
    s->stage_len = 0;
    return DS_OK;
}

/* Start writing segment seq into path (a .part, or a .salvage during recovery). */
static ds_rc seg_begin(ds_spool *s, uint64_t seq, const char *path, ds_err *err)
{
    snprintf(s->part_path, sizeof s->part_path, "%s", path);
    s->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (s->fd < 0)
        return ds_fail(err, DS_EIO, "%s: cannot create segment: %s", path, strerror(errno));
    ZSTD_CCtx_reset(s->cctx, ZSTD_reset_session_only);
    s->seq = seq;
    s->part_bytes = 0;
    s->stage_len = 0;
    memset(&s->cur, 0, sizeof s->cur);
    /* pcap header in host order: magic, version 2.4 (two u16), thiszone, sigfigs, snaplen, linktype */
    uint32_t hdr[6] = { PCAP_NS_MAGIC, 0, 0, 0, s->o.snaplen, (uint32_t)s->o.linktype };
    uint16_t ver[2] = { 2, 4 };
    memcpy(&hdr[1], ver, 4);
    memcpy(s->stage, hdr, sizeof hdr);
    s->stage_len = sizeof hdr;
    uint64_t now = ds_now_ns();
    s->open_ns = s->bridge_ns && s->bridge_ns <= now ? s->bridge_ns : now;
    s->bridge_ns = 0;
    s->full_ns = 0;
    s->deadline_ns = (now / s->o.rotate_ns + 1) * s->o.rotate_ns;
    s->next_flush_ns = now + s->o.flush_ns;
    return DS_OK;
}

static inline void seg_put(ds_spool *s, uint64_t ts_ns, const uint8_t *data, uint32_t caplen, uint32_t wirelen)
{
    uint32_t rh[4] = { (uint32_t)(ts_ns / 1000000000ULL), (uint32_t)(ts_ns % 1000000000ULL), caplen, wirelen };
    memcpy(s->stage + s->stage_len, rh, sizeof rh);
    memcpy(s->stage + s->stage_len + sizeof rh, data, caplen);
    s->stage_len += sizeof rh + caplen;
    if (!s->cur.packets)
        s->cur.first_ns = ts_ns;
    s->cur.last_ns = ts_ns;
    s->cur.packets++;
}

/* After the pcap frame: a zstd skippable frame (RFC 8878 section 3.1.2: magic 0x184D2A50-5F,
 * little-endian u32 size, then user data that every decompressor skips) naming the segment.  It
 * makes each segment's bytes unique, so that the collector, which refuses bytes it already
 * stored, takes two segments without packets as two (see the design comment at the top). */
static ds_rc seg_trailer(ds_spool *s, ds_err *err)
{
    uint8_t frame[8 + 160];
    int n = snprintf((char *)frame + 8, sizeof frame - 8,
                     "darkscope segment seq=%" PRIu64 " span=%" PRIu64 "..%" PRIu64 " nonce=%016" PRIx64 "\n",
                     s->seq, s->cur.span_from_ns, s->cur.span_to_ns, s->nonce);
    if (n < 0 || (size_t)n >= sizeof frame - 8)
        return ds_fail(err, DS_EINVAL, "%s: segment trailer too long", s->part_path);
    uint32_t magic = 0x184D2A5Du, size = (uint32_t)n;
    for (int i = 0; i < 4; i++) {
        frame[i] = (uint8_t)(magic >> (8 * i));
        frame[4 + i] = (uint8_t)(size >> (8 * i));
    }
    ds_rc rc = write_all(s->fd, frame, 8 + (size_t)n, s->part_path, err);
    if (rc == DS_OK)
        s->part_bytes += 8 + (uint64_t)n;
    return rc;
}

/* End the frame, fsync, write meta, rename to the final name. */
static ds_rc seg_finish(ds_spool *s, ds_err *err)
{
    ds_rc rc = z_push(s, ZSTD_e_end, err);
    if (rc == DS_OK)
        rc = seg_trailer(s, err);
    char final[1300];
    snprintf(final, sizeof final, "%s/seg-%" PRIu64 ".pcap.zst", s->dir, s->seq);
    if (rc == DS_OK && fsync(s->fd) != 0)
        rc = ds_fail(err, DS_EIO, "%s: fsync failed: %s", s->part_path, strerror(errno));
    close(s->fd);
    s->fd = -1;
    if (rc == DS_OK)
        rc = write_meta(s, s->seq, &s->cur, err);
    if (rc == DS_OK && rename(s->part_path, final) != 0)
        rc = ds_fail(err, DS_EIO, "%s: rename failed: %s", final, strerror(errno));
    if (rc == DS_OK) {
        fsync(s->dir_fd);
        atomic_fetch_add(&s->finished_bytes, s->part_bytes);
    }
    s->seq = 0;
    s->part_bytes = 0;
    if (rc == DS_OK && s->on_finish)
        s->on_finish(s->on_finish_ctx);
    return rc;
}

static ds_rc seg_open_next(ds_spool *s, ds_err *err)
{
    uint64_t seq = s->next_seq++;
    ds_rc rc = save_state(s, err);
    if (rc != DS_OK)
        return rc;
    char path[1300];
    snprintf(path, sizeof path, "%s/seg-%" PRIu64 ".pcap.zst.part", s->dir, seq);
    return seg_begin(s, seq, path, err);
}

ds_rc ds_spool_rotate(ds_spool *s, ds_err *err)
{
    if (!s->seq)
        return DS_OK;
    s->cur.kernel_drops = s->kdrops - s->kdrops_shipped;
    s->cur.if_drops = s->ifdrops - s->ifdrops_shipped;
    s->cur.spool_drops = s->spool_drops - s->spool_drops_shipped;
    if (s->o.continuous) {
        /* the span it captured: from its opening to now (or to its first packet the full spool
         * took), widened to its packets' times: a packet read from the ring after a rotation
         * may carry an earlier kernel timestamp */
        uint64_t from = s->open_ns, to = s->full_ns ? s->full_ns : ds_now_ns();
        if (s->cur.packets && s->cur.first_ns < from)
            from = s->cur.first_ns;
        if (s->cur.packets && s->cur.last_ns > to)
            to = s->cur.last_ns;
        s->cur.span_from_ns = from;
        s->cur.span_to_ns = to > from ? to : from;
        s->bridge_ns = s->full_ns ? 0 : s->cur.span_to_ns;   /* a full spool's gap is not bridged */
    }
    uint64_t k = s->kdrops, i = s->ifdrops, d = s->spool_drops;
    ds_rc rc = seg_finish(s, err);
    if (rc == DS_OK) {
        s->kdrops_shipped = k;
        s->ifdrops_shipped = i;
        s->spool_drops_shipped = d;
    }
    return rc;
}

ds_rc ds_spool_write(ds_spool *s, uint64_t ts_ns, const uint8_t *data, uint32_t caplen, uint32_t wirelen,
                     ds_err *err)
{
    if (caplen > s->o.snaplen)
        caplen = s->o.snaplen;
    uint64_t used = atomic_load_explicit(&s->finished_bytes, memory_order_relaxed) + s->part_bytes;
    if (used >= s->o.max_bytes) {
        s->spool_drops++;
        s->spool_drops_total++;
        s->full = 1;
        s->bridge_ns = 0;
        if (s->seq && !s->full_ns)
            s->full_ns = ts_ns ? ts_ns : 1;
        return DS_OK;
    }
    s->full = 0;
    s->written_total++;
    ds_rc rc;
    if (!s->seq && (rc = seg_open_next(s, err)) != DS_OK)
        return rc;
    if (s->stage_len + 16u + caplen > s->stage_limit && (rc = z_push(s, ZSTD_e_continue, err)) != DS_OK)
        return rc;
    seg_put(s, ts_ns, data, caplen, wirelen);
    if (s->part_bytes >= s->o.rotate_bytes)
        return ds_spool_rotate(s, err);
    return DS_OK;
}

ds_rc ds_spool_tick(ds_spool *s, uint64_t now, ds_err *err)
{
    if (s->full && (!s->full_logged || now - s->full_log_ns >= 60000000000ULL)) {
        fprintf(stderr,
                "darkscope sensor: SPOOL FULL: %s holds %" PRIu64 " bytes (cap %" PRIu64
                "); packets are counted but NOT written (%" PRIu64 " so far) until the collector takes segments\n",
                s->dir, ds_spool_bytes(s), s->o.max_bytes, s->spool_drops_total);
        if (!s->full_logged)
            s->full_since_drops = s->spool_drops_total;
        s->full_logged = 1;
        s->full_log_ns = now;
    } else if (!s->full && s->full_logged) {
        fprintf(stderr, "darkscope sensor: spool has room again; %" PRIu64 " packets were not written while it was full\n",
                s->spool_drops_total - s->full_since_drops);
        s->full_logged = 0;
    }
    ds_rc rc;
    if (s->seq && now >= s->deadline_ns && (rc = ds_spool_rotate(s, err)) != DS_OK)
        return rc;
    /* continuous: the next segment opens at once (after a rotation by time, by size, or when the
     * full spool has room again), so the spans of consecutive segments meet */
    if (!s->seq && s->o.continuous && !s->finished &&
        atomic_load_explicit(&s->finished_bytes, memory_order_relaxed) < s->o.max_bytes)
        return seg_open_next(s, err);
    if (!s->seq)
        return DS_OK;
    if (now >= s->next_flush_ns) {
        s->next_flush_ns = now + s->o.flush_ns;
        return z_push(s, ZSTD_e_flush, err);
    }
    return DS_OK;
}

void ds_spool_set_drops(ds_spool *s, uint64_t kernel_drops, uint64_t if_drops)
{
    s->kdrops = kernel_drops;
    s->ifdrops = if_drops;
}

uint64_t ds_spool_current_seq(const ds_spool *s) { return s->seq; }
const char *ds_spool_dir(const ds_spool *s) { return s->dir; }
uint64_t ds_spool_drops_total(const ds_spool *s) { return s->spool_drops_total; }
uint64_t ds_spool_packets_total(const ds_spool *s) { return s->written_total; }
void ds_spool_set_linktype(ds_spool *s, int linktype, uint32_t snaplen)
{
    s->o.linktype = linktype;
    if (snaplen && snaplen <= 262144)
        s->o.snaplen = snaplen;
}

void ds_spool_on_finish(ds_spool *s, void (*fn)(void *), void *ctx)
{
    s->on_finish = fn;
    s->on_finish_ctx = ctx;
}

void ds_spool_released(ds_spool *s, uint64_t bytes)
{
    uint64_t cur = atomic_load(&s->finished_bytes);
    uint64_t next;
    do
        next = cur > bytes ? cur - bytes : 0;
    while (!atomic_compare_exchange_weak(&s->finished_bytes, &cur, next));
}

uint64_t ds_spool_bytes(const ds_spool *s)
{
    return atomic_load((_Atomic uint64_t *)&s->finished_bytes) + s->part_bytes;
}

/* ---- start-up: state, leftovers, salvage ---- */

/* "seg-12.pcap.zst" -> 12 with kind "seg" and rest ".pcap.zst"; 0 if the name is not ours. */
static uint64_t name_seq(const char *name, const char *prefix, const char **rest)
{
    size_t n = strlen(prefix);
    if (strncmp(name, prefix, n) != 0 || name[n] < '0' || name[n] > '9')
        return 0;
    char *end;
    uint64_t v = strtoull(name + n, &end, 10);
    *rest = end;
    return v;
}

static int has_suffix(const char *s, const char *suf)
{
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && strcmp(s + a - b, suf) == 0;
}

/* Decompress a cut segment as far as it is valid and rewrite its whole records as segment seq. */
static ds_rc salvage_segment(ds_spool *s, uint64_t seq, ds_err *err)
{
    char part[1300], tmp[1300];
    snprintf(part, sizeof part, "%s/seg-%" PRIu64 ".pcap.zst.part", s->dir, seq);
    snprintf(tmp, sizeof tmp, "%s/seg-%" PRIu64 ".pcap.zst.salvage", s->dir, seq);
    ds_rc rc = DS_OK;
    uint8_t *in = NULL, *buf = NULL;
    size_t buf_cap = 2u << 20, buf_len = 0, pos = 0;
    int fd = -1, header_done = 0, began = 0, swapped_fd = 0;
    uint64_t consumed = 0;
    const char *why = "the file ends inside a block";
    ZSTD_DCtx *dctx = ZSTD_createDCtx();
    in = malloc(1u << 16);
    buf = malloc(buf_cap);
    if (!dctx || !in || !buf) {
        rc = ds_fail(err, DS_ENOMEM, "%s: out of memory for salvage", part);
        goto out;
    }
    fd = open(part, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        rc = ds_fail(err, DS_EIO, "%s: cannot open for salvage: %s", part, strerror(errno));
        goto out;
    }
    for (int eof = 0; !eof;) {
        ssize_t n = read(fd, in, 1u << 16);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        ZSTD_inBuffer ib = { in, (size_t)n, 0 };
        while (ib.pos < ib.size) {
            ZSTD_outBuffer ob = { buf + buf_len, buf_cap - buf_len, 0 };
            size_t zr = ZSTD_decompressStream(dctx, &ob, &ib);
            if (ZSTD_isError(zr)) {
                why = ZSTD_getErrorName(zr);
                eof = 1;
                break;
            }
            buf_len += ob.pos;
            /* parse whole records out of buf[pos, buf_len) */
            if (!header_done && buf_len - pos >= 24) {
                uint32_t magic;
                memcpy(&magic, buf + pos, 4);
                if (magic != PCAP_NS_MAGIC) {
                    why = "not a darkscope segment (bad pcap magic)";
                    eof = 1;
                    break;
                }
                /* keep the cut file's own snaplen and link type (it may predate a config change) */
                uint32_t snap, link;
                memcpy(&snap, buf + pos + 16, 4);
                memcpy(&link, buf + pos + 20, 4);
                uint32_t snap_now = s->o.snaplen;
                int link_now = s->o.linktype;
                s->o.snaplen = snap;
                s->o.linktype = (int)link;
                pos += 24;
                header_done = 1;
                rc = seg_begin(s, seq, tmp, err);
                s->o.snaplen = snap_now;
                s->o.linktype = link_now;
                if (rc != DS_OK)
                    goto out;
                began = 1;
            }
            while (header_done) {
                uint32_t rh[4];
                if (buf_len - pos < sizeof rh)
                    break;
                memcpy(rh, buf + pos, sizeof rh);
                if (rh[2] > 262144u || rh[2] > rh[3] || rh[1] >= 1000000000u) {
                    why = "an impossible record header";
                    eof = 1;
                    break;
                }
                if (rh[2] > buf_len - pos - sizeof rh)
                    break;
                if (16u + rh[2] > STAGE_CAP - s->stage_len && (rc = z_push(s, ZSTD_e_continue, err)) != DS_OK)
                    goto out;
                seg_put(s, (uint64_t)rh[0] * 1000000000ULL + rh[1], buf + pos + sizeof rh, rh[2], rh[3]);
                pos += sizeof rh + rh[2];
                consumed = pos;
            }
            if (eof)
                break;
            if (buf_cap - buf_len < MAX_RECORD) {   /* keep the unparsed tail, drop the rest */
                memmove(buf, buf + pos, buf_len - pos);
                buf_len -= pos;
                pos = 0;
            }
            if (ob.pos == 0 && ib.pos == ib.size)
                break;
        }
    }
    (void)consumed;
    uint64_t packets = began ? s->cur.packets : 0;
    if (began) {
        s->cur.salvaged = 1;
        swapped_fd = 1;
        if ((rc = seg_finish(s, err)) != DS_OK)   /* renames tmp -> seg-<seq>.pcap.zst */
            goto out;
    }
    fprintf(stderr, "darkscope sensor: salvaged %" PRIu64 " packets from %s, cut by a crash (%s; "
                    "packets not yet flushed then are lost)\n",
            packets, part, why);
    unlink(part);
    fsync(s->dir_fd);
out:
    if (rc != DS_OK && began && !swapped_fd && s->fd >= 0) {
        close(s->fd);
        s->fd = -1;
        unlink(tmp);
        s->seq = 0;
    }
    if (fd >= 0)
        close(fd);
    ZSTD_freeDCtx(dctx);
    free(in);
    free(buf);
    return rc;
}

/* A payload file cut by a crash: keep the whole lines. */
static void salvage_payloads(ds_spool *s, const char *name)
{
    char part[1300], final[1300];
    snprintf(part, sizeof part, "%s/%s", s->dir, name);
    snprintf(final, sizeof final, "%s", part);
    final[strlen(final) - strlen(".part")] = '\0';
    FILE *f = fopen(part, "r+");
    if (!f)
        return;
    long keep = 0, at = 0;
    int c;
    while ((c = fgetc(f)) != EOF) {
        at++;
        if (c == '\n')
            keep = at;
    }
    fclose(f);
    if (keep == 0 || truncate(part, keep) != 0 || rename(part, final) != 0)
        unlink(part);
}

static ds_rc scan_and_recover(ds_spool *s, ds_err *err)
{
    ds_rc rc = DS_OK;
    DIR *d = opendir(s->dir);
    if (!d)
        return ds_fail(err, DS_EIO, "%s: cannot list spool: %s", s->dir, strerror(errno));
    uint64_t *parts = NULL;
    size_t nparts = 0, cap = 0;
    uint64_t maxseq = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        const char *rest = "";
        uint64_t seq = name_seq(e->d_name, "seg-", &rest);
        if (!seq)
            seq = name_seq(e->d_name, "pay-", &rest);
        if (!seq && ds_afile_is_temp(e->d_name))   /* a state or meta write cut by a crash */
            unlinkat(s->dir_fd, e->d_name, 0);
        if (!seq)
            continue;
        if (seq > maxseq)
            maxseq = seq;
        char path[1300];
        snprintf(path, sizeof path, "%s/%s", s->dir, e->d_name);
        if (has_suffix(e->d_name, ".salvage") || has_suffix(e->d_name, ".tmp")) {
            unlink(path);
        } else if (!strncmp(e->d_name, "seg-", 4) && !strcmp(rest, ".pcap.zst.part")) {
            if (nparts == cap) {
                cap = cap ? cap * 2 : 16;
                uint64_t *np = realloc(parts, cap * sizeof *np);
                if (!np) {
                    rc = ds_fail(err, DS_ENOMEM, "%s: out of memory", s->dir);
                    goto out;
                }
                parts = np;
            }
            parts[nparts++] = seq;
        } else if (!strncmp(e->d_name, "pay-", 4) && !strcmp(rest, ".jsonl.part")) {
            salvage_payloads(s, e->d_name);
        }
    }
    if (maxseq + 1 > s->next_seq)
        s->next_seq = maxseq + 1;
    for (size_t i = 0; i < nparts && rc == DS_OK; i++)
        rc = salvage_segment(s, parts[i], err);
    /* orphan meta (segment already uploaded and deleted) and the size of what waits */
    rewinddir(d);
    uint64_t bytes = 0;
    while ((e = readdir(d))) {
        const char *rest = "";
        uint64_t seq = name_seq(e->d_name, "seg-", &rest);
        if (!seq)
            continue;
        char path[1300];
        struct stat st;
        if (!strcmp(rest, ".meta")) {
            snprintf(path, sizeof path, "%s/seg-%" PRIu64 ".pcap.zst", s->dir, seq);
            if (stat(path, &st) != 0) {
                snprintf(path, sizeof path, "%s/%s", s->dir, e->d_name);
                unlink(path);
            }
        } else if (!strcmp(rest, ".pcap.zst")) {
            snprintf(path, sizeof path, "%s/%s", s->dir, e->d_name);
            if (stat(path, &st) == 0)
                bytes += (uint64_t)st.st_size;
        }
    }
    atomic_store(&s->finished_bytes, bytes);
out:
    closedir(d);
    free(parts);
    return rc;
}

ds_rc ds_spool_open(ds_spool **out, const ds_spool_opts *o, ds_err *err)
{
    ds_rc rc = DS_OK;
    *out = NULL;
    ds_spool *s = calloc(1, sizeof *s);
    if (!s)
        return ds_fail(err, DS_ENOMEM, "out of memory for the spool");
    s->o = *o;
    s->fd = s->lock_fd = s->dir_fd = -1;
    if (!s->o.rotate_ns)
        s->o.rotate_ns = 60ULL * 1000000000ULL;
    if (!s->o.flush_ns)
        s->o.flush_ns = 1000000000ULL;
    if (!s->o.snaplen || s->o.snaplen > 262144)
        s->o.snaplen = 262144;
    if (strlen(o->dir) >= sizeof s->dir - 64) {
        rc = ds_fail(err, DS_EINVAL, "spool path too long: %s", o->dir);
        goto out;
    }
    snprintf(s->dir, sizeof s->dir, "%s", o->dir);
    if (mkdir(s->dir, 0750) != 0 && errno != EEXIST) {
        rc = ds_fail(err, DS_EIO, "%s: cannot create spool directory: %s", s->dir, strerror(errno));
        goto out;
    }
    char path[1300];
    snprintf(path, sizeof path, "%s/lock", s->dir);
    s->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (s->lock_fd < 0) {
        rc = ds_fail(err, DS_EIO, "%s: cannot open: %s", path, strerror(errno));
        goto out;
    }
    if (flock(s->lock_fd, LOCK_EX | LOCK_NB) != 0) {
        rc = ds_fail(err, DS_EBUSY, "%s: another sensor process uses this spool", s->dir);
        goto out;
    }
    s->dir_fd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    s->cctx = ZSTD_createCCtx();
    s->stage = malloc(STAGE_CAP);
    /* the size check sees compressed bytes only after a compress call: stage at most 1/8 of a segment */
    s->stage_limit = s->o.rotate_bytes / 8 < STAGE_CAP ? (size_t)(s->o.rotate_bytes / 8) : STAGE_CAP;
    if (s->stage_limit < 4096)
        s->stage_limit = 4096;
    s->zout_cap = ZSTD_CStreamOutSize();
    s->zout = malloc(s->zout_cap);
    if (s->dir_fd < 0 || !s->cctx || !s->stage || !s->zout) {
        rc = ds_fail(err, DS_ENOMEM, "%s: cannot set up the segment writer", s->dir);
        goto out;
    }
    ZSTD_CCtx_setParameter(s->cctx, ZSTD_c_compressionLevel, o->zstd_level ? o->zstd_level : 1);
    ZSTD_CCtx_setParameter(s->cctx, ZSTD_c_checksumFlag, 1);
    if (o->zstd_workers > 0)
        ZSTD_CCtx_setParameter(s->cctx, ZSTD_c_nbWorkers, o->zstd_workers);   /* ignored if single-threaded lib */
    if (getrandom(&s->nonce, sizeof s->nonce, 0) != (ssize_t)sizeof s->nonce)
        s->nonce = ds_now_ns() ^ ((uint64_t)getpid() << 32);   /* unique enough: it only tells segments apart */
    s->next_seq = 1;
    snprintf(path, sizeof path, "%s/state", s->dir);
    FILE *f = fopen(path, "r");
    if (f) {
        char line[128];
        while (fgets(line, sizeof line, f))
            if (!strncmp(line, "next_seq=", 9))
                s->next_seq = strtoull(line + 9, NULL, 10);
        fclose(f);
        if (!s->next_seq)
            s->next_seq = 1;
    }
    for (const char *sub = "conflict"; sub; sub = strcmp(sub, "conflict") ? NULL : "rejected") {
        snprintf(path, sizeof path, "%s/%s", s->dir, sub);
        mkdir(path, 0750);
    }
    if ((rc = scan_and_recover(s, err)) != DS_OK)
        goto out;
    rc = save_state(s, err);
out:
    if (rc != DS_OK) {
        ds_spool_close(s, NULL);
        return rc;
    }
    *out = s;
    return DS_OK;
}

ds_rc ds_spool_finish(ds_spool *s, ds_err *err)
{
    if (!s || s->finished)
        return DS_OK;
    s->finished = 1;
    ds_rc rc = DS_OK;
    /* drop counts not yet shipped travel in a segment without packets (a few bytes over the cap) */
    if (!s->seq && s->cctx && (s->spool_drops > s->spool_drops_shipped || s->kdrops > s->kdrops_shipped ||
                               s->ifdrops > s->ifdrops_shipped))
        rc = seg_open_next(s, err);
    if (rc == DS_OK && s->seq && s->fd >= 0)
        rc = ds_spool_rotate(s, err);
    if (s->fd >= 0)
        close(s->fd);
    s->fd = -1;
    return rc;
}

ds_rc ds_spool_close(ds_spool *s, ds_err *err)
{
    if (!s)
        return DS_OK;
    ds_rc rc = ds_spool_finish(s, err);
    if (s->dir_fd >= 0)
        close(s->dir_fd);
    if (s->lock_fd >= 0)
        close(s->lock_fd);
    ZSTD_freeCCtx(s->cctx);
    free(s->stage);
    free(s->zout);
    free(s);
    return rc;
}
