/* bench/replay_fast.c: replay a classic pcap onto a Linux interface as fast as the kernel allows,
 * or at a target packet rate, for bench/sensor_replay.sh (the live-capture bar of issue #5).
 *
 * Why not tcpreplay: Debian's build (a debug build) sends one packet per sendto() and tops out at
 * about 0.4 M packets/s into a veth on these 2-core VMs, so it cannot show a 1 M packets/s bar.
 * This program does the least a generator can do per packet:
 *   - the whole file is read into memory once and indexed (offset, length) before the clock
 *     starts, so the send loop touches no file and allocates nothing;
 *   - an AF_PACKET SOCK_RAW socket with protocol 0 (it receives nothing) bound to the interface,
 *     with PACKET_QDISC_BYPASS so frames go straight to the driver's xmit (packet(7));
 *   - either sendmmsg(2) batches of iovecs that point into the preloaded file (--mode mmsg), or a
 *     TPACKET_V2 PACKET_TX_RING (--mode ring): frames are copied into the mmap'ed ring, marked
 *     TP_STATUS_SEND_REQUEST, and one send() per batch hands them all to the kernel
 *     (Documentation/networking/packet_mmap.rst).
 *
 * Counting is honest: a packet counts as sent only when the kernel accepted it.  sendmmsg()
 * returns how many of the batch it took; the rest are resent (ENOBUFS, EAGAIN, EINTR: the
 * kernel's buffers or the veth peer's backlog were full) and every refusal is counted in
 * send_errors.  In ring mode a frame
 * counts once the kernel hands it back (TP_STATUS_AVAILABLE) after a send() that succeeded; if a
 * send() fails, every frame of that flush is counted as refused (the kernel does not say which
 * one it dropped), so the count can err low, never high.  Frames the kernel rejects as malformed
 * (TP_STATUS_WRONG_FORMAT) are counted as refused too.  What the veth drops after accepting a
 * frame (its peer's backlog) is invisible here: the script compares against the peer's counters.
 *
 * Rate control: with --pps R the loop sends a batch, then waits until CLOCK_MONOTONIC reaches
 * start + sent / R (sleeping with clock_nanosleep TIMER_ABSTIME when more than 200 us ahead,
 * spinning otherwise), so the average rate is exact and bursts are at most one batch long.
 * Batches shrink at low rates so that one batch is at most ~1 ms of traffic.
 *
 * Input: the classic pcap format (draft-ietf-opsawg-pcap; magic a1b2c3d4 for microseconds,
 * a1b23c4d for nanoseconds, either byte order), LINKTYPE_ETHERNET only, because the frames go
 * out unchanged on an Ethernet-like interface.  Every record header is checked before use:
 * 16 bytes must remain, caplen <= snaplen, caplen <= bytes left in the file (compared as
 * `caplen > size - off`, which cannot overflow).  Records shorter than an Ethernet header or
 * longer than MTU + 14 are skipped and counted, since the kernel would refuse them.  A file
 * that ends inside a record is replayed up to the last complete record, with a warning.
 *
 * Output (stdout, one key=value per line, read by the script):
 *   packets_sent, send_errors, seconds, pps, mode, batch, file_packets, skipped_records
 *
 * usage: replay_fast -i IFACE [--pps R | --topspeed] [--seconds S] [--count N]
 *                    [--mode mmsg|ring] [--batch B] [--cpu C] FILE.pcap
 * Stops after S seconds (default 3) or N packets sent, whichever comes first.  Needs CAP_NET_RAW.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum {
    PCAP_FILE_HEADER_LEN = 24,
    PCAP_RECORD_HEADER_LEN = 16,
    LINKTYPE_ETHERNET = 1,
    ETHER_HEADER_LEN = 14,
    MAX_BATCH = 1024,
    MAX_CAPLEN = 262144,          /* libpcap's MAXIMUM_SNAPLEN: larger is corruption */
};

struct frame {                    /* one preloaded record: where its bytes are in the file buffer */
    uint32_t offset;
    uint32_t len;
};

struct capture {
    unsigned char *data;          /* the whole file */
    size_t size;
    struct frame *frames;
    size_t nframes;
    size_t skipped;               /* records the kernel would refuse (runt or over MTU) */
    uint32_t max_len;
};

struct options {
    const char *ifname;
    const char *path;
    uint64_t pps;                 /* 0: --topspeed */
    double seconds;
    uint64_t count;               /* 0: no packet limit */
    int ring;                     /* 1: PACKET_TX_RING, 0: sendmmsg */
    unsigned batch;
    int cpu;                      /* -1: no pinning */
};

struct tally {
    uint64_t sent;
    uint64_t errors;
};

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static uint32_t get32(const unsigned char *p, int swapped)
{
    uint32_t le = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
    uint32_t be = (uint32_t)p[3] | (uint32_t)p[2] << 8 | (uint32_t)p[1] << 16 | (uint32_t)p[0] << 24;
    return swapped ? be : le;
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Read PATH into memory and index its records; frames longer than max_frame are skipped. */
static int load_pcap(const char *path, uint32_t max_frame, struct capture *cap)
{
    int rc = -1;
    FILE *f = NULL;
    struct stat st;
    size_t cap_frames = 0;

    memset(cap, 0, sizeof *cap);
    f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "replay_fast: cannot open %s: %s\n", path, strerror(errno));
        goto out;
    }
    if (fstat(fileno(f), &st) != 0 || st.st_size < PCAP_FILE_HEADER_LEN) {
        fprintf(stderr, "replay_fast: %s is shorter than a pcap file header (24 bytes)\n", path);
        goto out;
    }
    if ((uint64_t)st.st_size > UINT32_MAX) {   /* offsets are 32-bit to keep the index small */
        fprintf(stderr, "replay_fast: %s is larger than 4 GiB; cut it with editcap first\n", path);
        goto out;
    }
    cap->size = (size_t)st.st_size;
    cap->data = malloc(cap->size);
    if (!cap->data || fread(cap->data, 1, cap->size, f) != cap->size) {
        fprintf(stderr, "replay_fast: cannot read %s into memory (%zu bytes)\n", path, cap->size);
        goto out;
    }

    uint32_t magic = get32(cap->data, 0);
    int swapped;
    if (magic == 0xa1b2c3d4u || magic == 0xa1b23c4du)
        swapped = 0;
    else if (magic == 0xd4c3b2a1u || magic == 0x4d3cb2a1u)
        swapped = 1;
    else {
        fprintf(stderr, "replay_fast: %s is not a classic pcap file (magic %08" PRIx32 " at byte 0; "
                "pcapng is not supported, convert it with editcap -F pcap)\n", path, magic);
        goto out;
    }
    uint32_t snaplen = get32(cap->data + 16, swapped);
    uint32_t linktype = get32(cap->data + 20, swapped) & 0xffffu;   /* upper bits: FCS length */
    if (linktype != LINKTYPE_ETHERNET) {
        fprintf(stderr, "replay_fast: %s has link type %" PRIu32 " at byte 20; only Ethernet (1) can be "
                "sent unchanged\n", path, linktype);
        goto out;
    }
    if (snaplen == 0 || snaplen > MAX_CAPLEN)    /* some writers leave it 0: fall back to the maximum */
        snaplen = MAX_CAPLEN;

    size_t off = PCAP_FILE_HEADER_LEN;
    while (off < cap->size) {
        if (PCAP_RECORD_HEADER_LEN > cap->size - off) {
            fprintf(stderr, "replay_fast: warning: %s ends inside a record header at byte %zu; "
                    "replaying the %zu complete records before it\n", path, off, cap->nframes);
            break;
        }
        uint32_t caplen = get32(cap->data + off + 8, swapped);
        if (caplen > snaplen) {
            fprintf(stderr, "replay_fast: %s: record at byte %zu has caplen %" PRIu32 " > snaplen %" PRIu32
                    "; the file is corrupt\n", path, off, caplen, snaplen);
            goto out;
        }
        off += PCAP_RECORD_HEADER_LEN;
        if (caplen > cap->size - off) {
            fprintf(stderr, "replay_fast: warning: %s ends inside the record at byte %zu; "
                    "replaying the %zu complete records before it\n", path, off - PCAP_RECORD_HEADER_LEN,
                    cap->nframes);
            break;
        }
        if (caplen < ETHER_HEADER_LEN || caplen > max_frame) {
            cap->skipped++;
        } else {
            if (cap->nframes == cap_frames) {
                size_t n = cap_frames ? cap_frames * 2 : 65536;
                struct frame *grown = n <= SIZE_MAX / sizeof *grown ? realloc(cap->frames, n * sizeof *grown) : NULL;
                if (!grown) {
                    fprintf(stderr, "replay_fast: out of memory indexing %s\n", path);
                    goto out;
                }
                cap->frames = grown;
                cap_frames = n;
            }
            cap->frames[cap->nframes].offset = (uint32_t)off;
            cap->frames[cap->nframes].len = caplen;
            cap->nframes++;
            if (caplen > cap->max_len)
                cap->max_len = caplen;
        }
        off += caplen;
    }
    if (cap->nframes == 0) {
        fprintf(stderr, "replay_fast: %s has no frame that can be sent (%zu skipped)\n", path, cap->skipped);
        goto out;
    }
    rc = 0;
out:
    if (f)
        fclose(f);
    if (rc != 0) {
        free(cap->data);
        free(cap->frames);
        memset(cap, 0, sizeof *cap);
    }
    return rc;
}

/* Packets the loop may still send: the count limit, or effectively unlimited. */
static uint64_t remaining(const struct options *o, const struct tally *t)
{
    return o->count ? o->count - t->sent : UINT64_MAX;
}

/* Wait until the schedule allows `sent` packets (rate mode); returns 1 when time is up. */
static int pace(const struct options *o, uint64_t start, uint64_t deadline, uint64_t sent)
{
    if (o->pps == 0)
        return now_ns() >= deadline;
    uint64_t due = start + (uint64_t)((double)sent * 1e9 / (double)o->pps);
    for (;;) {
        uint64_t now = now_ns();
        if (now >= deadline || stop_requested)
            return 1;
        if (now >= due)
            return 0;
        if (due - now > 200000) {   /* far ahead: sleep, leaving a margin for wake-up latency */
            uint64_t wake = due - 100000;
            struct timespec ts = { (time_t)(wake / 1000000000u), (long)(wake % 1000000000u) };
            clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
        }
    }
}

static int is_retryable(int e)
{
    return e == ENOBUFS || e == EAGAIN || e == EINTR;
}

static int run_mmsg(int fd, const struct options *o, const struct capture *cap, struct tally *t, double *secs)
{
    static struct mmsghdr msgs[MAX_BATCH];
    static struct iovec iov[MAX_BATCH];
    size_t next = 0;
    uint64_t start = now_ns(), deadline = start + (uint64_t)(o->seconds * 1e9);

    memset(msgs, 0, sizeof msgs);
    while (!stop_requested && remaining(o, t) > 0) {
        if (pace(o, start, deadline, t->sent))
            break;
        unsigned n = o->batch;
        if (n > remaining(o, t))
            n = (unsigned)remaining(o, t);
        for (unsigned i = 0; i < n; i++) {
            const struct frame *fr = &cap->frames[next];
            iov[i].iov_base = cap->data + fr->offset;
            iov[i].iov_len = fr->len;
            msgs[i].msg_hdr.msg_iov = &iov[i];
            msgs[i].msg_hdr.msg_iovlen = 1;
            if (++next == cap->nframes)
                next = 0;
        }
        unsigned done = 0;
        while (done < n) {
            int r = sendmmsg(fd, msgs + done, n - done, 0);
            if (r > 0) {
                done += (unsigned)r;
                t->sent += (uint64_t)r;
                /* sendmmsg stops early only when the next message failed; it reports the error
                 * only when nothing was sent, so count the refusal here and resend from it */
                if (done < n)
                    t->errors++;
                continue;
            }
            if (r < 0 && is_retryable(errno)) {   /* the kernel took none: count, yield, resend */
                t->errors++;
                if (stop_requested || now_ns() >= deadline)
                    break;
                sched_yield();
                continue;
            }
            fprintf(stderr, "replay_fast: sendmmsg on %s: %s\n", o->ifname, r < 0 ? strerror(errno) : "sent nothing");
            *secs = (double)(now_ns() - start) / 1e9;
            return -1;
        }
        if (done < n)   /* stopped while the kernel refused: the unsent rest is not counted */
            break;
    }
    *secs = (double)(now_ns() - start) / 1e9;
    return 0;
}

/* TPACKET_V2 transmit ring.  The frame's data starts after the aligned tpacket2_hdr (without
 * PACKET_TX_HAS_OFF the kernel reads it from tp_hdrlen - sizeof(struct sockaddr_ll)). */
static int run_ring(int fd, const struct options *o, const struct capture *cap, struct tally *t, double *secs)
{
    int rc = -1;
    unsigned char *ring = MAP_FAILED;
    size_t data_off = TPACKET_ALIGN(sizeof(struct tpacket2_hdr));
    size_t frame_size = 2048;
    while (frame_size < data_off + cap->max_len)
        frame_size *= 2;
    struct tpacket_req req;
    req.tp_block_size = frame_size > 65536 ? (unsigned)frame_size : 65536;
    req.tp_frame_size = (unsigned)frame_size;
    req.tp_block_nr = 64;
    req.tp_frame_nr = req.tp_block_nr * (req.tp_block_size / req.tp_frame_size);
    size_t ring_len = (size_t)req.tp_block_size * req.tp_block_nr;
    unsigned nframes = req.tp_frame_nr;
    int version = TPACKET_V2;
    uint64_t start = 0, deadline = 0;
    size_t next = 0;
    unsigned head = 0;          /* next ring frame to fill */
    unsigned inflight = 0;      /* frames handed to the kernel and not yet seen back */
    unsigned tail = 0;          /* oldest in-flight frame */
    uint64_t poisoned = 0;      /* in-flight frames of a flush whose send() failed */

    if (setsockopt(fd, SOL_PACKET, PACKET_VERSION, &version, sizeof version) != 0 ||
        setsockopt(fd, SOL_PACKET, PACKET_TX_RING, &req, sizeof req) != 0) {
        fprintf(stderr, "replay_fast: cannot set up a TPACKET_V2 TX ring on %s: %s\n", o->ifname, strerror(errno));
        goto out;
    }
    ring = mmap(NULL, ring_len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (ring == MAP_FAILED) {
        fprintf(stderr, "replay_fast: cannot map the TX ring (%zu bytes): %s\n", ring_len, strerror(errno));
        goto out;
    }

    start = now_ns();
    deadline = start + (uint64_t)(o->seconds * 1e9);
    for (;;) {
        /* reap frames the kernel is done with, oldest first (it completes them in order) */
        while (inflight > 0) {
            volatile struct tpacket2_hdr *h = (volatile struct tpacket2_hdr *)(ring + (size_t)tail * frame_size);
            uint32_t st = h->tp_status;
            if (st & (TP_STATUS_SEND_REQUEST | TP_STATUS_SENDING))
                break;
            if (st & TP_STATUS_WRONG_FORMAT || poisoned > 0)
                t->errors++;
            else
                t->sent++;
            if (poisoned > 0)
                poisoned--;
            h->tp_status = TP_STATUS_AVAILABLE;
            tail = (tail + 1) % nframes;
            inflight--;
        }
        int time_up = stop_requested || pace(o, start, deadline, t->sent + inflight);
        uint64_t want = remaining(o, t) > inflight ? remaining(o, t) - inflight : 0;
        if (time_up || want == 0) {
            if (inflight == 0)
                break;
            /* drain: let the kernel finish what it already has */
            if (send(fd, NULL, 0, 0) < 0 && !is_retryable(errno)) {
                fprintf(stderr, "replay_fast: send on the TX ring of %s: %s\n", o->ifname, strerror(errno));
                goto out;
            }
            continue;
        }
        unsigned n = o->batch;
        if (n > want)
            n = (unsigned)want;
        if (n > nframes - inflight)
            n = nframes - inflight;
        for (unsigned i = 0; i < n; i++) {
            struct tpacket2_hdr *h = (struct tpacket2_hdr *)(ring + (size_t)head * frame_size);
            const struct frame *fr = &cap->frames[next];
            memcpy((unsigned char *)h + data_off, cap->data + fr->offset, fr->len);
            h->tp_len = fr->len;
            __atomic_store_n(&h->tp_status, TP_STATUS_SEND_REQUEST, __ATOMIC_RELEASE);
            head = (head + 1) % nframes;
            if (++next == cap->nframes)
                next = 0;
        }
        inflight += n;
        if (send(fd, NULL, 0, 0) < 0) {
            if (!is_retryable(errno)) {
                fprintf(stderr, "replay_fast: send on the TX ring of %s: %s\n", o->ifname, strerror(errno));
                goto out;
            }
            /* the kernel dropped one of the pending frames and does not say which: count them all
             * as refused, so the sent count can only err low */
            poisoned = inflight;
        }
    }
    rc = 0;
out:
    *secs = start ? (double)(now_ns() - start) / 1e9 : 0;
    if (ring != MAP_FAILED)
        munmap(ring, ring_len);
    return rc;
}

static void usage(FILE *to)
{
    fprintf(to, "usage: replay_fast -i IFACE [--pps R | --topspeed] [--seconds S] [--count N]\n"
                "                   [--mode mmsg|ring] [--batch B] [--cpu C] FILE.pcap\n"
                "Replays a classic Ethernet pcap (preloaded) on IFACE through AF_PACKET with\n"
                "PACKET_QDISC_BYPASS, looping the file, for S seconds (default 3) or N packets.\n");
}

static int parse_u64(const char *s, const char *what, uint64_t *v)
{
    char *end;
    errno = 0;
    unsigned long long x = strtoull(s, &end, 10);
    if (errno || end == s || *end || s[0] == '-') {
        fprintf(stderr, "replay_fast: %s must be a non-negative integer, not '%s'\n", what, s);
        return -1;
    }
    *v = x;
    return 0;
}

int main(int argc, char **argv)
{
    int rc = 1, fd = -1;
    struct capture cap = { 0 };
    struct options o = { .seconds = 3, .batch = 0, .cpu = -1, .ring = 0 };
    int topspeed = 0;
    static const struct option longopts[] = {
        { "interface", required_argument, NULL, 'i' }, { "pps", required_argument, NULL, 'p' },
        { "topspeed", no_argument, NULL, 't' },        { "seconds", required_argument, NULL, 's' },
        { "count", required_argument, NULL, 'n' },     { "mode", required_argument, NULL, 'm' },
        { "batch", required_argument, NULL, 'b' },     { "cpu", required_argument, NULL, 'c' },
        { "help", no_argument, NULL, 'h' },            { NULL, 0, NULL, 0 },
    };
    int ch;
    uint64_t v;
    while ((ch = getopt_long(argc, argv, "i:p:ts:n:m:b:c:h", longopts, NULL)) != -1) {
        switch (ch) {
        case 'i': o.ifname = optarg; break;
        case 'p': if (parse_u64(optarg, "--pps", &o.pps)) goto out; break;
        case 't': topspeed = 1; break;
        case 's': {
            char *end;
            o.seconds = strtod(optarg, &end);
            if (end == optarg || *end || !(o.seconds > 0 && o.seconds < 86400)) {
                fprintf(stderr, "replay_fast: --seconds must be between 0 and 86400, not '%s'\n", optarg);
                goto out;
            }
            break;
        }
        case 'n': if (parse_u64(optarg, "--count", &o.count)) goto out; break;
        case 'm':
            if (strcmp(optarg, "ring") == 0) o.ring = 1;
            else if (strcmp(optarg, "mmsg") == 0) o.ring = 0;
            else { fprintf(stderr, "replay_fast: --mode is mmsg or ring, not '%s'\n", optarg); goto out; }
            break;
        case 'b':
            if (parse_u64(optarg, "--batch", &v)) goto out;
            if (v < 1 || v > MAX_BATCH) { fprintf(stderr, "replay_fast: --batch must be 1..%d\n", MAX_BATCH); goto out; }
            o.batch = (unsigned)v;
            break;
        case 'c':
            if (parse_u64(optarg, "--cpu", &v)) goto out;
            if (v >= CPU_SETSIZE) { fprintf(stderr, "replay_fast: --cpu %" PRIu64 " is out of range\n", v); goto out; }
            o.cpu = (int)v;
            break;
        case 'h': usage(stdout); rc = 0; goto out;
        default: usage(stderr); rc = 2; goto out;
        }
    }
    if (optind != argc - 1 || !o.ifname) {
        usage(stderr);
        rc = 2;
        goto out;
    }
    o.path = argv[optind];
    if (topspeed && o.pps) {
        fprintf(stderr, "replay_fast: --topspeed and --pps exclude each other\n");
        rc = 2;
        goto out;
    }
    if (o.batch == 0)   /* at most ~1 ms of traffic per batch at low rates, 64 at full speed */
        o.batch = o.pps == 0 || o.pps >= 64000 ? 64 : (unsigned)(o.pps / 1000 > 1 ? o.pps / 1000 : 1);

    unsigned ifindex = if_nametoindex(o.ifname);
    if (ifindex == 0) {
        fprintf(stderr, "replay_fast: no interface %s: %s\n", o.ifname, strerror(errno));
        goto out;
    }
    fd = socket(AF_PACKET, SOCK_RAW, 0);   /* protocol 0: a send-only socket, nothing is queued to it */
    if (fd < 0) {
        fprintf(stderr, "replay_fast: cannot open an AF_PACKET socket: %s (needs CAP_NET_RAW)\n", strerror(errno));
        goto out;
    }
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", o.ifname);
    if (ioctl(fd, SIOCGIFMTU, &ifr) != 0) {
        fprintf(stderr, "replay_fast: cannot read the MTU of %s: %s\n", o.ifname, strerror(errno));
        goto out;
    }
    if (load_pcap(o.path, (uint32_t)ifr.ifr_mtu + ETHER_HEADER_LEN, &cap) != 0)
        goto out;

    int one = 1, sndbuf = 4 << 20;
    if (setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof one) != 0)
        fprintf(stderr, "replay_fast: warning: PACKET_QDISC_BYPASS refused (%s); going through the qdisc\n",
                strerror(errno));
    if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf, sizeof sndbuf) != 0)
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
    struct sockaddr_ll sll;
    memset(&sll, 0, sizeof sll);
    sll.sll_family = AF_PACKET;
    sll.sll_ifindex = (int)ifindex;
    sll.sll_protocol = 0;
    if (bind(fd, (struct sockaddr *)&sll, sizeof sll) != 0) {
        fprintf(stderr, "replay_fast: cannot bind to %s: %s\n", o.ifname, strerror(errno));
        goto out;
    }
    if (o.cpu >= 0) {
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(o.cpu, &set);
        if (sched_setaffinity(0, sizeof set, &set) != 0)
            fprintf(stderr, "replay_fast: warning: cannot pin to CPU %d: %s\n", o.cpu, strerror(errno));
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    struct tally t = { 0, 0 };
    double secs = 0;
    int run = o.ring ? run_ring(fd, &o, &cap, &t, &secs) : run_mmsg(fd, &o, &cap, &t, &secs);
    printf("packets_sent=%" PRIu64 "\nsend_errors=%" PRIu64 "\nseconds=%.6f\npps=%.0f\nmode=%s\nbatch=%u\n"
           "file_packets=%zu\nskipped_records=%zu\n",
           t.sent, t.errors, secs, secs > 0 ? (double)t.sent / secs : 0.0, o.ring ? "ring" : "mmsg", o.batch,
           cap.nframes, cap.skipped);
    rc = run == 0 ? 0 : 1;
out:
    if (fd >= 0)
        close(fd);
    free(cap.data);
    free(cap.frames);
    return rc;
}
