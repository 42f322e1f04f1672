/* responder.h: the reactive part of a telescope (`--respond syn`): answer TCP SYNs to darknet
 * addresses with a stateless SYN-ACK so the scanner sends its first payload, and record that
 * payload.  See responder.c for the protocol reasoning (RFC 9293, RFC 4987).
 */
#ifndef DS_NET_RESPONDER_H
#define DS_NET_RESPONDER_H
#include <stddef.h>
#include <stdint.h>

#include "core/darknet.h"
#include "core/synjudge.h"
#include "util/result.h"

struct ds_spool;

typedef struct ds_responder_opts {
    const ds_prefix *darknets;   /* only IPv4 prefixes are answered */
    size_t ndarknets;
    double source_rate, source_burst;   /* SYN-ACKs per second per source address */
    double total_rate, total_burst;     /* SYN-ACKs per second overall */
    uint32_t payload_max;               /* bytes of the first payload kept (2048) */
} ds_responder_opts;

void ds_responder_opts_default(ds_responder_opts *o);

typedef struct ds_responder ds_responder;

typedef struct ds_responder_stats {
    uint64_t syns_seen, synacks_sent, rate_limited, send_errors;
    uint64_t refused;                        /* SYNs (and data segments) a real stack would drop */
    uint64_t refused_by[DS_SYN__COUNT];      /* ... by reason (core/synjudge.h) */
    uint64_t payloads_recorded, payload_duplicates, bad_cookies;
} ds_responder_stats;

ds_rc ds_responder_open(ds_responder **out, const ds_responder_opts *o, ds_err *err);
/* Where answers go: injected on the capture handle (a pcap_t *) for Ethernet, else a raw socket. */
ds_rc ds_responder_attach(ds_responder *r, void *pcap_handle, int linktype, ds_err *err);
/* One captured packet (already written to the spool): judged by ds_syn_judge(), answered when it
 * is a SYN a real stack would answer, its payload recorded when it carries our cookie. */
void ds_responder_packet(ds_responder *r, struct ds_spool *s, uint64_t ts_ns, const uint8_t *data, uint32_t caplen);
/* Periodic: closes the payload file when the spool moved to another segment. */
void ds_responder_tick(ds_responder *r, struct ds_spool *s, uint64_t now_ns);
/* Finish the open payload file (pay-<seq>.jsonl). */
void ds_responder_flush(ds_responder *r);
void ds_responder_get_stats(const ds_responder *r, ds_responder_stats *st);
void ds_responder_close(ds_responder *r);

/* Build the SYN-ACK answering an IPv4 TCP SYN (ip points at the IPv4 header of the SYN).  Writes
 * 44 bytes (IPv4 + TCP with an MSS option) to out.  Exposed for tests.  0 on success. */
int ds_synack_build(const uint8_t *ip, size_t iplen, uint32_t our_seq, uint8_t out[44]);

#endif
