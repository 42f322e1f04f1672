/* sensor.h: the live sensor's capture loop and its on-disk spool of compressed pcap segments.
 *
 * The spool is a directory owned by one sensor process (an flock on spool/lock):
 *
 *   state                     next_seq=N: the next segment number, persisted before a segment
 *                             is created, so a restart never reuses a number
 *   seg-<seq>.pcap.zst.part   the segment being written (zstd stream of a nanosecond pcap file)
 *   seg-<seq>.meta            counters of a finished segment (packets, first/last ns, drops)
 *   seg-<seq>.pcap.zst        a finished segment, waiting for upload (renamed atomically)
 *   pay-<seq>.jsonl[.part]    first payloads recorded by the SYN responder (see responder.h)
 *   conflict/, rejected/      segments the collector refused; kept for a human
 *
 * Segments are numbered per sensor, increasing, never reused.  The uploader deletes a segment only
 * after the collector said it committed it (or already had it), so a packet written to a segment is
 * shipped exactly once even across crashes: a re-upload of the same (sensor, seq, hash) is answered
 * "duplicate".  Only the spool layer knows file names; the uploader lists what it finds.
 */
#ifndef DS_NET_SENSOR_H
#define DS_NET_SENSOR_H
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "core/darknet.h"
#include "util/result.h"
#include "util/timeutil.h"   /* ds_now_ns */

typedef struct ds_spool_opts {
    const char *dir;
    uint64_t rotate_ns;      /* finish a segment at the next multiple of this wall-clock period */
    uint64_t rotate_bytes;   /* ... or when its compressed size reaches this */
    uint64_t max_bytes;      /* spool cap: finished + open segments; beyond it packets are counted, not written */
    uint64_t flush_ns;       /* flush the zstd stream this often, so a crash loses at most this much */
    int zstd_level;          /* 1..19; 1-3 keep up with line rate */
    int zstd_workers;        /* 0: compress in the capture thread; 1+: zstd's own worker threads */
    uint32_t snaplen;
    int linktype;            /* DLT of the capture, written in the pcap header */
    int continuous;          /* live capture: a segment is always open (see ds_spool_tick), so a
                              * quiet interval is shipped as a segment without packets whose
                              * span tells the collector the sensor was capturing */
} ds_spool_opts;

void ds_spool_opts_default(ds_spool_opts *o);

typedef struct ds_spool ds_spool;

/* Counters of one segment, as written to seg-<seq>.meta and sent in the upload headers. */
typedef struct ds_seg_meta {
    uint64_t packets, first_ns, last_ns;   /* first_ns, last_ns: of the packets (0 without any) */
    uint64_t span_from_ns, span_to_ns;     /* the wall-clock span the segment was capturing, its
                                            * packets included; 0 when unknown (a --read replay,
                                            * a salvaged segment, an older sensor) */
    uint64_t kernel_drops;     /* pcap ps_drop during the segment */
    uint64_t if_drops;         /* pcap ps_ifdrop during the segment */
    uint64_t spool_drops;      /* packets not written because the spool was full */
    int salvaged;              /* rebuilt from a .part a crash left behind */
} ds_seg_meta;

/* Create/lock the directory, read state, salvage any .part left by a crash (whole records that
 * decompress are kept; the torn tail is dropped and reported on stderr).  DS_EBUSY when another
 * process holds the spool. */
ds_rc ds_spool_open(ds_spool **out, const ds_spool_opts *o, ds_err *err);
/* Append one packet (opens a segment when none is open; rotates by size). */
ds_rc ds_spool_write(ds_spool *s, uint64_t ts_ns, const uint8_t *data, uint32_t caplen, uint32_t wirelen,
                     ds_err *err);
/* Call a few times a second, packets or not: rotates by time (wall clock), flushes, logs
 * spool-full transitions; in continuous mode it also opens the next segment at once, so that
 * an interval without packets still ends as a segment at its time. */
ds_rc ds_spool_tick(ds_spool *s, uint64_t now_ns, ds_err *err);
/* Finish the open segment now (no-op when none is open). */
ds_rc ds_spool_rotate(ds_spool *s, ds_err *err);
/* Cumulative pcap counters since the capture opened; the spool keeps per-segment deltas. */
void ds_spool_set_drops(ds_spool *s, uint64_t kernel_drops, uint64_t if_drops);
/* Sequence of the open segment, 0 when none is open. */
uint64_t ds_spool_current_seq(const ds_spool *s);
/* Register a callback run after each segment is finished (the uploader's wake-up). */
void ds_spool_on_finish(ds_spool *s, void (*fn)(void *ctx), void *ctx);
/* The uploader deleted `bytes` of finished segments: makes room under the cap.  Thread-safe. */
void ds_spool_released(ds_spool *s, uint64_t bytes);
uint64_t ds_spool_bytes(const ds_spool *s);
uint64_t ds_spool_drops_total(const ds_spool *s);
/* Packets written by this process. */
uint64_t ds_spool_packets_total(const ds_spool *s);
/* Link type and snaplen for segments opened from now on (the capture's, once it is open). */
void ds_spool_set_linktype(ds_spool *s, int linktype, uint32_t snaplen);
const char *ds_spool_dir(const ds_spool *s);
/* Finish the open segment (and ship drop counts not yet shipped), so that an uploader can drain
 * it; the spool stays allocated, because the uploader still calls ds_spool_released() on it until
 * it has stopped.  No writes after this.  Safe on NULL and twice. */
ds_rc ds_spool_finish(ds_spool *s, ds_err *err);
/* ds_spool_finish() if not done yet, then unlock and free.  Safe on NULL.  Stop the uploader first. */
ds_rc ds_spool_close(ds_spool *s, ds_err *err);

/* Read seg-<seq>.meta in dir (missing file -> zeros, DS_ENOTFOUND). */
ds_rc ds_seg_meta_read(const char *dir, uint64_t seq, ds_seg_meta *m, ds_err *err);

/* ---- live capture ---- */

struct ds_responder;

typedef struct ds_sensor_opts {
    const char *iface;          /* live interface, or NULL with read_file */
    const char *read_file;      /* offline: capture from this pcap instead (tests, replays) */
    const ds_prefix *darknets;
    size_t ndarknets;
    uint32_t snaplen;
    int buffer_mib;             /* kernel ring size */
    struct ds_responder *responder;   /* NULL: passive */
} ds_sensor_opts;

/* The BPF text for the darknet prefixes: "dst net A or dst net B ...". */
ds_rc ds_sensor_bpf(const ds_prefix *p, size_t n, char *buf, size_t len, ds_err *err);
/* Open the capture (live or file) and return its link type. */
typedef struct ds_capture ds_capture;
ds_rc ds_capture_open(ds_capture **out, const ds_sensor_opts *o, int *linktype, ds_err *err);
/* Capture into the spool until *stop is set (or the file ends); finishes the open segment. */
ds_rc ds_capture_run(ds_capture *c, ds_spool *s, volatile sig_atomic_t *stop, ds_err *err);
/* Interrupt a blocking ds_capture_run from a signal handler. */
void ds_capture_break(ds_capture *c);
void ds_capture_close(ds_capture *c);

#endif
