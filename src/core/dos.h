/* dos.h: denial-of-service attacks seen through their backscatter.
 *
 * A flood with spoofed, random source addresses makes its victim answer addresses that include
 * the darknet's: SYN-ACKs or RSTs to a SYN flood, echo replies to a ping flood, and ICMP errors
 * (port unreachable quoting the flood's UDP datagram) from the victim or the routers before it.
 * Moore et al. ("Inferring Internet Denial-of-Service Activity", USENIX Security 2001) introduced
 * the method; CAIDA's corsaro3 dos plugin (RS-DoS) fixed the thresholds this module uses:
 *
 *   - packets are grouped into an attack vector per victim, which ends after 300 s without one;
 *   - a vector counts as an attack when it has at least 25 packets, lasts at least 60 s, and at
 *     some point carried at least 30 packets within 60 s (a window sliding by 10 s).
 *
 * The rate threshold was set for CAIDA's /8 telescope (2^24 addresses).  A telescope sees a
 * victim's responses in proportion to its size (Moore et al. scale by 2^32 / n), so the same
 * attack gives a /24 65,536 times fewer packets a minute: the 30 is scaled by n / 2^24, and with
 * fewer than ~560,000 addresses that would leave "at least one packet in the window", i.e. no
 * rate test at all: the scaled value is floored at DS_DOS_MIN_PPM_FLOOR.  The packet and duration
 * thresholds are kept as they are.
 *
 * Answers seen across the darknet (issue #20).  A victim of a randomly spoofed flood answers each
 * spoofed packet once, to a random address: its SYN-ACKs carry distinct sequence/ack numbers and
 * reach several of a telescope's addresses.  A host that answers one SYN hundreds of times
 * (Kuehrer et al., "Hell of a Handshake: Abusing TCP for Reflective Amplification DDoS Attacks",
 * WOOT 2014: some TCP stacks and middleboxes retransmit a SYN-ACK tens to thousands of times) to
 * one dark address gives many packets but one answer.  So a vector also needs
 * DS_DOS_MIN_RESPONSES distinct answers: distinct (dark destination, TCP sequence, TCP ack) for
 * TCP, (dark destination, quoted ports, IP ID) for ICMP.  5 is the fewest distinct SYNs that can
 * give corsaro3's 25 packets when each SYN-ACK is sent at most 6 times (once and Linux's
 * tcp_synack_retries = 5 retransmissions): a normal stack cannot make 25 packets of fewer answers.
 *
 * The victim of a TCP or ICMP echo answer is its source address; of an ICMP error it is the
 * destination of the quoted packet (the flood's target), as corsaro3 does.
 *
 * State: one small record per victim seen in the last 300 s, in a dense array indexed by an
 * open-addressing table of 8-byte tagged slots (dos.c); idle vectors are closed by ds_dos_expire,
 * which the aggregator calls when the clock moves on an hour, walking the slots.
 */
#ifndef DS_DOS_H
#define DS_DOS_H
#include <stddef.h>
#include <stdint.h>

#include "core/packet.h"

#define DS_DOS_TIMEOUT_NS (300ULL * 1000000000ULL)
#define DS_DOS_MIN_PACKETS 25
#define DS_DOS_MIN_DURATION_NS (60ULL * 1000000000ULL)
#define DS_DOS_MIN_PPM 30
#define DS_DOS_MIN_PPM_FLOOR 3     /* the scaled rate threshold never falls below this */
#define DS_DOS_MIN_RESPONSES 5     /* distinct answers (see above) */

/* What the backscatter was: which flood it answers. */
typedef enum ds_attack_kind {
    DS_ATK_SYNACK,       /* TCP SYN-ACK: a SYN flood on an open port */
    DS_ATK_RST,          /* TCP RST / RST-ACK: a SYN flood on a closed port (or a TCP flood) */
    DS_ATK_ECHO_REPLY,   /* ICMP(v6) echo reply: a ping flood */
    DS_ATK_UNREACH_UDP,  /* ICMP unreachable quoting UDP: a UDP flood */
    DS_ATK_UNREACH_TCP,  /* ICMP unreachable quoting TCP */
    DS_ATK_ICMP_OTHER,   /* other ICMP errors and replies */
    DS_ATK__COUNT
} ds_attack_kind;

typedef struct ds_attack {
    ds_ip victim;
    int sensor;                           /* sensor of the first packet */
    int32_t day;                          /* local day of the first packet */
    uint64_t start_ns, end_ns, packets;
    uint32_t max_ppm;                     /* most packets in a 60 s window */
    uint32_t kind_packets[DS_ATK__COUNT];
    uint16_t port;                        /* the victim's port of the first packet (0: none) */
    uint8_t port_proto;                   /* 6 or 17, 0 when no port */
    uint32_t port_packets;                /* packets with that port */
    uint32_t responses;                   /* distinct answers, counted up to 255 (0: not counted, an
                                             older store's record) */
} ds_attack;

typedef struct ds_dos ds_dos;
/* Receives each vector that passed the thresholds; non-zero stops (memory). */
typedef int (*ds_attack_fn)(void *ctx, const ds_attack *a);

/* telescope_v4: monitored IPv4 addresses (0: a /8, corsaro3's own threshold). */
ds_dos *ds_dos_new(uint64_t telescope_v4);
/* The rate threshold (packets within 60 s) for a telescope of that many addresses: corsaro3's 30
 * scaled by n / 2^24, at least DS_DOS_MIN_PPM_FLOOR. */
uint32_t ds_dos_min_ppm(uint64_t telescope_v4);
void ds_dos_free(ds_dos *d);
/* One backscatter packet (class DS_CLASS_BACKSCATTER).  0, or -1 when memory runs out. */
int ds_dos_packet(ds_dos *d, int sensor, int32_t day, const ds_pkt *p, ds_attack_fn fn, void *ctx);
/* Close vectors idle since before now - 300 s (all of them with now = UINT64_MAX). */
int ds_dos_expire(ds_dos *d, uint64_t now_ns, ds_attack_fn fn, void *ctx);
/* The attack a flood of this kind is: "SYN flood", ... (English; for summaries). */
const char *ds_attack_kind_name(ds_attack_kind k);
/* The kind of one backscatter packet and its victim; -1 when it names none. */
int ds_attack_classify(const ds_pkt *p, ds_ip *victim, uint16_t *port, uint8_t *port_proto);

#endif
