/* flood.h: floods aimed at the darknet and reflection attacks that named it their victim.
 *
 * Per dark destination address and class, packets are grouped into a vector that ends after
 * DS_FLOOD_TIMEOUT_NS without one (as core/dos.c groups a victim's answers):
 *
 *   - scan class (SYN, UDP, echo request), and the "other" class (ACK, FIN and other TCP floods,
 *     other protocols) in the same vector: a flood aimed at that address.  A randomly spoofed SYN
 *     flood is thousands of "sources" of one packet each, to one address and port, within seconds;
 *     the series detectors would otherwise see it as a jump in every country at once.  An ACK
 *     flood (hping3 -A --rand-source) is the same attack with other flags, and a mix of SYN and
 *     ACK floods at one address is one attack.  A vector mostly of the "other" class is kept only
 *     when its sources look spoofed (at most two packets each): TCP sessions of many hosts with
 *     an address that is not dark are no flood;
 *   - backscatter class (SYN-ACK, RST, ICMP errors, UDP amplifier replies): many hosts answering
 *     one dark address, i.e. that address was the forged source of requests to reflectors, the
 *     victim of a reflection attack.
 *
 * A vector is kept when, at some point, DS_FLOOD_MIN_PPM packets arrived within 60 s (six 10-s
 * buckets, as dos.c) from at least DS_FLOOD_MIN_SOURCES distinct sources.  Sources are counted by
 * a HyperLogLog of 512 one-byte registers (Flajolet et al. 2007: 4.6% standard error; linear
 * counting below 1,280), allocated once the vector's 60 s window holds 16 packets (so a quiet
 * dark address costs no registers; the sources of its first 15 packets may go uncounted).  Thresholds and their sources: docs/detection.md, "Floods at the darknet".
 *
 * Ingest threads partition packets by source, so a flood from spoofed sources comes as one record
 * per thread; readers merge them by target and time (sources add up: the threads' sets are
 * disjoint).
 */
#ifndef DS_FLOOD_H
#define DS_FLOOD_H
#include <stdint.h>

#include "core/packet.h"

#define DS_FLOOD_TIMEOUT_NS (60ULL * 1000000000ULL)
#define DS_FLOOD_MIN_PPM 600
#define DS_FLOOD_MIN_SOURCES 100

typedef struct ds_flood_vec {
    ds_ip target;                 /* the dark address */
    int sensor;
    int32_t day;                  /* local day of the first packet */
    uint8_t cls;                  /* DS_CLASS_SCAN: a flood; DS_CLASS_BACKSCATTER: a reflection */
    uint8_t port_proto;           /* protocol of the main port (6, 17; 1/58 for ICMP) */
    uint16_t port;                /* the main port, the most common among the first 256 packets:
                                     flood: destination port; reflection: source port (the
                                     reflectors' service) */
    uint64_t start_ns, end_ns, packets;
    uint32_t port_packets;        /* packets with that port */
    uint32_t max_ppm;             /* most packets in a 60 s window */
    uint32_t sources;             /* distinct sources (HyperLogLog estimate) */
    uint32_t kinds[4];            /* reflection: SYN-ACK, RST, ICMP, UDP packets; flood: SYN, UDP,
                                     ICMP, other (the "other" class: ACK, FIN... and protocols) */
} ds_flood_vec;

typedef struct ds_floods ds_floods;
typedef int (*ds_flood_fn)(void *ctx, const ds_flood_vec *v);

ds_floods *ds_floods_new(void);
void ds_floods_free(ds_floods *f);
/* One packet of class cls to a dark address (scan and other: a flood's; backscatter: a
 * reflection's).  0, or -1 out of memory. */
int ds_floods_packet(ds_floods *f, int sensor, int32_t day, int cls, const ds_pkt *p, ds_flood_fn fn, void *ctx);
/* Close vectors idle since before now - timeout (all with now = UINT64_MAX). */
int ds_floods_expire(ds_floods *f, uint64_t now_ns, ds_flood_fn fn, void *ctx);

#endif
