/* synjudge.h: which captured TCP segments the SYN responder (net/responder.c) may answer.
 *
 * A reactive telescope must not be told apart from a real host by what it answers.  A SYN-ACK to
 * a segment whose checksum is wrong, to a SYN+FIN, to port 0, to a subnet's broadcast address or
 * to a multicast MAC marks the sensor at once: Linux drops all of these.  ds_syn_judge() is the
 * whole decision, a pure function of the captured frame (no I/O, no clock), so that every refusal
 * can be tested with a crafted packet (tests/unit/test_synjudge.c).  The rules, and the Linux code
 * that applies each of them, are in synjudge.c.
 */
#ifndef DS_CORE_SYNJUDGE_H
#define DS_CORE_SYNJUDGE_H
#include <stddef.h>
#include <stdint.h>

#include "core/darknet.h"
#include "util/result.h"

typedef enum ds_syn_verdict {
    DS_SYN_ANSWER = 0,      /* a SYN that a listening Linux socket would answer with a SYN-ACK */
    DS_SYN_DATA,            /* a segment with ACK and a payload, SYN/RST clear, that passes every check
                             * but the TCP checksum (synjudge.c says why): may carry our cookie */
    DS_SYN_IGNORE,          /* not our business: not TCP over IPv4 to a darknet address, or a segment
                             * we never answer (RST, bare ACK, SYN-ACK backscatter, FIN...) */
    /* refusals: a SYN (or a data segment) that a real stack would drop */
    DS_SYN_TRUNCATED,       /* captured shorter than its IPv4 total length: checksums unverifiable */
    DS_SYN_IP_HEADER,       /* total length shorter than the headers */
    DS_SYN_IP_CHECKSUM,     /* IPv4 header checksum wrong (RFC 791, RFC 1122 3.2.1.2) */
    DS_SYN_IP_OPTIONS,      /* malformed IPv4 options, or source routing (LSRR, SSRR) */
    DS_SYN_FRAGMENT,        /* MF set or a fragment offset: never reassembled here */
    DS_SYN_TTL0,            /* TTL 0: no router forwards it (RFC 1812 5.3.1) */
    DS_SYN_SOURCE,          /* a source no host answers (RFC 1122 3.2.1.3, RFC 1812 5.3.7) */
    DS_SYN_DEST,            /* to a darknet prefix's network or broadcast address, or multicast */
    DS_SYN_LINK,            /* a link-layer broadcast/multicast frame, or one from such a MAC */
    DS_SYN_TCP_HEADER,      /* TCP data offset below 5 words or past the segment */
    DS_SYN_TCP_CHECKSUM,    /* TCP checksum wrong (RFC 9293 3.1) */
    DS_SYN_PORT0,           /* source or destination port 0 */
    DS_SYN_FLAGS,           /* SYN together with RST or FIN */
    DS_SYN__COUNT
} ds_syn_verdict;

/* The header fields of a judged segment (valid when the verdict is not DS_SYN_IGNORE). */
typedef struct ds_tcp4_seg {
    size_t l3off;           /* offset of the IPv4 header in the frame */
    size_t ihl, doff;       /* IPv4 and TCP header lengths, bytes */
    size_t total;           /* IPv4 total length */
    uint32_t src, dst;      /* host order */
    uint16_t sport, dport;
    uint32_t seq, ack;
    uint8_t flags;          /* TCP flags byte (CWR ECE URG ACK PSH RST SYN FIN) */
} ds_tcp4_seg;

/* What the judge needs besides the frame: the darknet (destinations answered, sources refused)
 * and the network and broadcast addresses of its IPv4 prefixes of /30 or shorter, sorted. */
typedef struct ds_syn_guard {
    const ds_darknet *dn;
    uint32_t *edges;
    size_t nedges;
} ds_syn_guard;

/* dn must hold exactly prefixes p[0..n); it is borrowed, not copied. */
ds_rc ds_syn_guard_init(ds_syn_guard *g, const ds_darknet *dn, const ds_prefix *p, size_t n, ds_err *err);
void ds_syn_guard_free(ds_syn_guard *g);

/* Judge one captured frame of the given pcap link type (Ethernet 1, Linux cooked 113, raw IPv4
 * 12/101; anything else is DS_SYN_IGNORE).  caplen: the bytes captured.  *seg is filled unless
 * the verdict is DS_SYN_IGNORE. */
ds_syn_verdict ds_syn_judge(const ds_syn_guard *g, const uint8_t *frame, size_t caplen, int linktype,
                            ds_tcp4_seg *seg);

/* "bad TCP checksum", ... for logs and statistics. */
const char *ds_syn_verdict_name(ds_syn_verdict v);

#endif
