/* responder.c: a stateless SYN-ACK responder for darknet addresses (`darkscope sensor --respond syn`).
 *
 * A passive telescope sees a scanner's SYN but never what it wanted to send.  Reactive telescopes
 * (the @police SYNACKER, Spoki, USENIX Security 2022) answer the SYN so that the first payload
 * arrives.  We do the least that achieves it:
 *
 *  - An IPv4 TCP segment to a darknet address with SYN set and ACK, RST, FIN clear is answered
 *    as a listener would (RFC 9293 section 3.10.7.2, LISTEN state: "<SEQ=ISS><ACK=RCV.NXT>
 *    <CTL=SYN,ACK>"), with ISS a keyed hash of the 4-tuple, the client's ISN and a 64 s epoch:
 *    a SYN cookie in the sense of RFC 4987 section 3.6.  No state is kept per connection, so a
 *    SYN flood costs nothing but the rate-limited answers.
 *  - A later segment with ACK set, SYN/RST clear, payload, and SEG.ACK - 1 equal to the cookie
 *    (current or previous epoch) is the scanner's first payload: we record time, addresses,
 *    ports and up to 2 KiB of it in pay-<seq>.jsonl for upload (POST /v1/payloads).
 *  - We send NOTHING else.  RFC 9293 (3.10.7.4) would have us acknowledge the data, and answer
 *    stray ACKs in LISTEN with RST (3.10.7.2); we deliberately do neither: an ACK would invite
 *    more data (we only want the first payload, and each answer is traffic to a possibly spoofed
 *    address), and a RST would make the sensor a responder to arbitrary forged ACKs.  The peer
 *    sees a connection that stalls, exactly what Spoki's design does.  We never answer RST, ICMP,
 *    UDP, IPv6, fragments, or anything not addressed to a darknet prefix.
 *  - We answer only what a Linux host owning the address would answer: what is answered and what
 *    is refused (bad IPv4 or TCP checksums, TTL 0, port 0, SYN+RST/SYN+FIN, a prefix's network
 *    or broadcast address, link-layer broadcast/multicast, impossible sources such as 0/8,
 *    127/8, 224/4, 240/4 or the darknet itself) is decided by ds_syn_judge() (core/synjudge.c,
 *    a pure function with the rules and their RFCs), so the answers do not give the telescope
 *    away.  The SYN-ACK carries IP ID 0 with DF, as Linux sends its SYN-ACKs.
 *  - Token buckets, per source address (default 10/s, burst 10) and overall (1000/s, burst 1000),
 *    bound what the sensor can be made to send: the amplification factor is at most one 58-byte
 *    SYN-ACK per SYN, and far less under a flood.
 *
 * Answers leave on the capture interface: for Ethernet we inject a frame with the MAC addresses
 * of the SYN swapped (pcap_inject), so the SYN-ACK goes back to the router that delivered the SYN
 * and the sensor needs no route or address of its own; other link types use a raw IPv4 socket.
 * The sensor host must not own the darknet addresses itself, or its kernel would answer too.
 */
#include "net/responder.h"
#include "net/sensor.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>
#include <xxhash.h>

#include "core/bytes.h"
#include "util/atomic_file.h"
#include "util/base64.h"

#define SRC_SLOTS 65536u
#define DEDUP_SLOTS 4096u
#define EPOCH_NS (64ULL * 1000000000ULL)

typedef struct src_bucket {
    uint32_t addr;
    float tokens;
    uint64_t last_ns;
} src_bucket;

struct ds_responder {
    ds_responder_opts o;
    ds_darknet *dn;
    ds_syn_guard guard;
    uint64_t secret;
    src_bucket *buckets;
    double total_tokens;
    uint64_t total_last_ns;
    uint64_t dedup[DEDUP_SLOTS];
    pcap_t *inject;
    int linktype;
    int raw_fd;
    ds_afile pay_af;   /* pay-<seq>.jsonl, written as pay-<seq>.jsonl.part (salvaged after a crash) */
    FILE *pay;         /* pay_af's stream */
    uint64_t pay_seq;
    char pay_path[1300], pay_dir[1024];
    ds_responder_stats st;
};

void ds_responder_opts_default(ds_responder_opts *o)
{
    memset(o, 0, sizeof *o);
    o->source_rate = 10;
    o->source_burst = 10;
    o->total_rate = 1000;
    o->total_burst = 1000;
    o->payload_max = 2048;
}

ds_rc ds_responder_open(ds_responder **out, const ds_responder_opts *o, ds_err *err)
{
    ds_rc rc = DS_OK;
    *out = NULL;
    ds_responder *r = calloc(1, sizeof *r);
    if (!r)
        return ds_fail(err, DS_ENOMEM, "out of memory for the responder");
    r->o = *o;
    r->raw_fd = -1;
    if (!r->o.payload_max || r->o.payload_max > 65535)
        r->o.payload_max = 2048;
    r->buckets = calloc(SRC_SLOTS, sizeof *r->buckets);
    if (!r->buckets) {
        rc = ds_fail(err, DS_ENOMEM, "out of memory for the responder's rate limits");
        goto out;
    }
    const ds_prefix *pp = o->darknets;
    size_t n = o->ndarknets;
    const char *name = "sensor";
    if ((rc = ds_darknet_build(&r->dn, &pp, &n, &name, 1, err)) != DS_OK)
        goto out;
    if ((rc = ds_syn_guard_init(&r->guard, r->dn, o->darknets, o->ndarknets, err)) != DS_OK)
        goto out;
    if (getrandom(&r->secret, sizeof r->secret, 0) != (ssize_t)sizeof r->secret) {
        rc = ds_fail(err, DS_EIO, "cannot get a random SYN-cookie secret: %s", strerror(errno));
        goto out;
    }
    r->total_tokens = r->o.total_burst;
out:
    if (rc != DS_OK) {
        ds_responder_close(r);
        return rc;
    }
    *out = r;
    return DS_OK;
}

ds_rc ds_responder_attach(ds_responder *r, void *pcap_handle, int linktype, ds_err *err)
{
    r->linktype = linktype;
    if (linktype == DLT_EN10MB) {
        r->inject = pcap_handle;
        return DS_OK;
    }
    r->raw_fd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
    if (r->raw_fd < 0)
        return ds_fail(err, DS_EIO, "cannot open a raw socket for SYN-ACKs: %s", strerror(errno));
    return DS_OK;
}

static uint16_t csum_fold(uint32_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

static uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i + 1 < n; i += 2)
        sum += (uint32_t)p[i] << 8 | p[i + 1];
    if (n & 1)
        sum += (uint32_t)p[n - 1] << 8;
    return sum;
}

static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static void put32(uint8_t *p, uint32_t v) { put16(p, (uint16_t)(v >> 16)); put16(p + 2, (uint16_t)v); }

int ds_synack_build(const uint8_t *ip, size_t iplen, uint32_t our_seq, uint8_t out[44])
{
    ds_cur c = ds_cur_make(ip, iplen);
    size_t ihl = (size_t)(ds_peek_u8(&c, 0) & 0x0f) * 4;
    uint32_t client_isn = ds_peek_be32(&c, ihl + 4);
    if (!ds_cur_ok(&c) || ihl < 20 || iplen < ihl + 20)   /* a whole TCP header, or no answer */
        return -1;
    uint8_t *o = out;
    memset(o, 0, 44);
    o[0] = 0x45;
    put16(o + 2, 44);
    put16(o + 6, 0x4000);   /* DF, and IP ID 0 as Linux for a DF SYN-ACK (ip_build_and_send_pkt) */
    o[8] = 64;
    o[9] = 6;
    memcpy(o + 12, ip + 16, 4);   /* from the darknet address the SYN went to */
    memcpy(o + 16, ip + 12, 4);   /* back to its source */
    put16(o + 10, csum_fold(csum_add(0, o, 20)));
    uint8_t *t = o + 20;
    memcpy(t, ip + ihl + 2, 2);   /* our port: the SYN's destination port */
    memcpy(t + 2, ip + ihl, 2);
    put32(t + 4, our_seq);
    put32(t + 8, client_isn + 1);
    t[12] = 6 << 4;               /* 24-byte header: one MSS option */
    t[13] = 0x12;                 /* SYN, ACK */
    put16(t + 14, 65535);
    t[20] = 2; t[21] = 4; put16(t + 22, 1460);
    uint8_t pseudo[12];
    memcpy(pseudo, o + 12, 8);
    pseudo[8] = 0; pseudo[9] = 6; put16(pseudo + 10, 24);
    put16(t + 16, csum_fold(csum_add(csum_add(0, pseudo, 12), t, 24)));
    return 0;
}

static uint32_t cookie(const ds_responder *r, const uint8_t *ip, size_t ihl, uint32_t client_isn, uint64_t epoch)
{
    uint8_t k[24];
    memcpy(k, ip + 12, 8);           /* src, dst */
    memcpy(k + 8, ip + ihl, 4);      /* sport, dport */
    memcpy(k + 12, &client_isn, 4);
    memcpy(k + 16, &epoch, 8);
    return (uint32_t)XXH3_64bits_withSeed(k, sizeof k, r->secret);
}

static int take_token(ds_responder *r, uint32_t src, uint64_t now)
{
    src_bucket *b = &r->buckets[(uint32_t)XXH3_64bits_withSeed(&src, 4, r->secret) & (SRC_SLOTS - 1)];
    if (b->addr != src || !b->last_ns) {
        b->addr = src;
        b->tokens = (float)r->o.source_burst;
        b->last_ns = now;
    }
    double dt = now > b->last_ns ? (double)(now - b->last_ns) / 1e9 : 0;
    double bt = b->tokens + dt * r->o.source_rate;
    b->tokens = (float)(bt > r->o.source_burst ? r->o.source_burst : bt);
    b->last_ns = now;
    double gdt = now > r->total_last_ns ? (double)(now - r->total_last_ns) / 1e9 : 0;
    r->total_tokens += gdt * r->o.total_rate;
    if (r->total_tokens > r->o.total_burst)
        r->total_tokens = r->o.total_burst;
    r->total_last_ns = now;
    if (b->tokens < 1 || r->total_tokens < 1)
        return 0;
    b->tokens -= 1;
    r->total_tokens -= 1;
    return 1;
}

static void send_synack(ds_responder *r, const uint8_t *frame, size_t l3off, const uint8_t *ip, size_t iplen,
                        uint32_t seq)
{
    uint8_t pkt[18 + 44];
    size_t hdr = r->inject ? l3off : 0;
    if (r->inject) {
        if (hdr > 18)
            return;
        memcpy(pkt, frame + 6, 6);          /* to the MAC that sent the SYN */
        memcpy(pkt + 6, frame, 6);          /* from the MAC it was sent to */
        memcpy(pkt + 12, frame + 12, hdr - 12);   /* VLAN tag (if any) and EtherType */
    }
    if (ds_synack_build(ip, iplen, seq, pkt + hdr) != 0)
        return;
    int ok;
    if (r->inject) {
        ok = pcap_inject(r->inject, pkt, hdr + 44) == (int)(hdr + 44);
    } else {
        struct sockaddr_in to = { .sin_family = AF_INET };
        memcpy(&to.sin_addr, ip + 12, 4);
        ok = sendto(r->raw_fd, pkt, 44, 0, (struct sockaddr *)&to, sizeof to) == 44;
    }
    if (ok)
        r->st.synacks_sent++;
    else
        r->st.send_errors++;
}

static void close_payloads(ds_responder *r)
{
    if (!r->pay)
        return;
    r->pay = NULL;
    ds_err err = { 0 };
    if (ds_afile_commit(&r->pay_af, &err) != DS_OK)
        fprintf(stderr, "darkscope sensor: %s\n", err.msg);
}

static void record_payload(ds_responder *r, struct ds_spool *s, uint64_t ts, const uint8_t *ip, size_t ihl,
                           const uint8_t *pl, size_t n, uint32_t seq)
{
    uint64_t seg = ds_spool_current_seq(s);
    if (r->pay && r->pay_seq != seg)
        close_payloads(r);
    if (!r->pay) {
        if (!seg)
            return;
        snprintf(r->pay_path, sizeof r->pay_path, "%s/pay-%" PRIu64 ".jsonl", ds_spool_dir(s), seg);
        ds_err err = { 0 };
        if (ds_afile_open(&r->pay_af, r->pay_path, 0644, DS_AFILE_PART, &err) != DS_OK ||
            ds_afile_stream(&r->pay_af, &r->pay, &err) != DS_OK) {
            ds_afile_abort(&r->pay_af);
            r->pay = NULL;
            fprintf(stderr, "darkscope sensor: %s\n", err.msg);
            return;
        }
        r->pay_seq = seg;
    }
    char src[16], dst[16];
    inet_ntop(AF_INET, ip + 12, src, sizeof src);
    inet_ntop(AF_INET, ip + 16, dst, sizeof dst);
    size_t keep = n > r->o.payload_max ? r->o.payload_max : n;
    fprintf(r->pay, "{\"ts_ns\":%" PRIu64 ",\"src\":\"%s\",\"sport\":%u,\"dst\":\"%s\",\"dport\":%u,\"seq\":%u,"
                    "\"len\":%zu,\"payload_b64\":\"",
            ts, src, (unsigned)(ip[ihl] << 8 | ip[ihl + 1]), dst, (unsigned)(ip[ihl + 2] << 8 | ip[ihl + 3]), seq, n);
    ds_base64_fwrite(r->pay, pl, keep);
    fputs("\"}\n", r->pay);
    fflush(r->pay);
    r->st.payloads_recorded++;
}

void ds_responder_packet(ds_responder *r, struct ds_spool *s, uint64_t ts, const uint8_t *data, uint32_t caplen)
{
    ds_tcp4_seg g;
    ds_syn_verdict v = ds_syn_judge(&r->guard, data, caplen, r->linktype, &g);
    if (v == DS_SYN_IGNORE)
        return;
    const uint8_t *ip = data + g.l3off;
    size_t ihl = g.ihl, total = g.total;
    uint32_t seq = g.seq, ack = g.ack;
    uint64_t epoch = ts / EPOCH_NS;
    if (g.flags & 0x02)   /* SYN: answered or refused */
        r->st.syns_seen++;
    if (v != DS_SYN_ANSWER && v != DS_SYN_DATA) {
        r->st.refused++;
        r->st.refused_by[v]++;
        return;
    }
    if (v == DS_SYN_ANSWER) {
        if (!take_token(r, g.src, ds_now_ns())) {
            r->st.rate_limited++;
            return;
        }
        send_synack(r, data, g.l3off, ip, total, cookie(r, ip, ihl, seq, epoch));
        return;
    }
    size_t doff = g.doff, plen = total - ihl - doff;
    uint32_t isn = seq - 1;
    if (ack - 1 != cookie(r, ip, ihl, isn, epoch) && (!epoch || ack - 1 != cookie(r, ip, ihl, isn, epoch - 1))) {
        r->st.bad_cookies++;
        return;
    }
    uint8_t k[16];
    memcpy(k, ip + 12, 12);
    memcpy(k + 12, &seq, 4);
    uint64_t h = XXH3_64bits_withSeed(k, sizeof k, r->secret) | 1;
    uint64_t *slot = &r->dedup[h & (DEDUP_SLOTS - 1)];
    if (*slot == h) {             /* a retransmission: we never ACK, so the peer repeats */
        r->st.payload_duplicates++;
        return;
    }
    *slot = h;
    record_payload(r, s, ts, ip, ihl, ip + ihl + doff, plen, seq);
}

void ds_responder_tick(ds_responder *r, struct ds_spool *s, uint64_t now_ns)
{
    if (r->pay && r->pay_seq != ds_spool_current_seq(s))
        close_payloads(r);
}

void ds_responder_flush(ds_responder *r) { close_payloads(r); }

void ds_responder_get_stats(const ds_responder *r, ds_responder_stats *st) { *st = r->st; }

void ds_responder_close(ds_responder *r)
{
    if (!r)
        return;
    close_payloads(r);
    if (r->raw_fd >= 0)
        close(r->raw_fd);
    ds_syn_guard_free(&r->guard);
    ds_darknet_free(r->dn);
    free(r->buckets);
    free(r);
}
