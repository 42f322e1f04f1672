/* scan.h: scans: one source probing many darknet addresses on one service.
 *
 * A darknet has no hosts, so a source that reaches many of its addresses on one service is
 * sweeping address space for that service.  The definition follows Durumeric, Bailey and
 * Halderman, "An Internet-Wide View of Internet-Wide Scanning" (USENIX Security 2014, section
 * 3): a scan is the scan-class packets (TCP SYN, UDP, ICMP echo request) of one source to one
 * destination port and protocol, ended by an idle timeout, that reached at least N distinct
 * darknet addresses.  Defaults (configurable, [detect] scan_min_addresses and scan_timeout):
 *
 *   N = 25 addresses      the packet threshold of CAIDA's corsaro3 (RS-DoS, dos.h) reused as an
 *                         address threshold: 25 distinct addresses of a /24 is 10% of it, which
 *                         no chance collision of unrelated packets reaches, and below Durumeric's
 *                         100 (chosen for a telescope of millions of addresses)
 *   timeout = 480 s       Durumeric et al.'s scan timeout
 *
 * The timeout fixes the slowest scan a telescope can follow: a random-order scan of R probes/s
 * Internet-wide reaches M monitored addresses about R x M / 2^32 times a second, so gaps stay
 * under the timeout T only when R >~ 2^32 / (M x T): 35,000 probes/s for a /24 and 480 s,
 * 137 for a /16.  Slower scans show up in pieces below N and are not reported.
 *
 * Distinct destinations per flow: exact up to DS_SCAN_EXACT (64) in a list (or always, for a
 * sensor of <= 512 IPv4 addresses, as a bitmap of its address indices); beyond 64 on a larger
 * sensor, a HyperLogLog of 256 one-byte registers (Flajolet et al., 2007; standard error
 * 1.04/sqrt(256) = 6.5%, linear counting below 640).  A reported count above 64 on a large
 * sensor is therefore an estimate, and flagged so.
 *
 * State: one 64-byte entry per live (sensor, source, service), in an open-addressing table;
 * flows idle longer than the timeout are closed by a sweep when the table needs room (and a
 * packet that finds its flow idle for longer closes it and starts a new one).  The table is capped (DS_SCAN_MAX_SLOTS): when it is full after a sweep, the flows
 * with the fewest destinations are closed first (a scan cut this way is reported in pieces,
 * each still a real scan).
 *
 * Target order (whether an Internet-wide extrapolation is honest, docs/detection.md): a flow with
 * a side block also keeps, over the packets whose destination differs from the previous packet's,
 * how many went to a higher address than the one before (ascents) and how many fell in each
 * eighth of the sensor's addresses.  At close, ds_scan_order_test judges the order: a uniformly
 * random one ascends half the time (the number of ascents of m random steps has mean m/2 and
 * variance (m+1)/12, the Eulerian distribution) and spreads evenly over the eighths (chi-square,
 * 7 degrees of freedom); either test failing at p < 0.001 makes it "not random" (a sequential
 * sweep ascends at every step: z = 12 for 51 addresses).  The first four destinations count in
 * the order they first appeared.
 */
#ifndef DS_SCAN_H
#define DS_SCAN_H
#include <stddef.h>
#include <stdint.h>

#include "core/classify.h"
#include "core/packet.h"

#define DS_SCAN_MIN_ADDRESSES 25
#define DS_SCAN_TIMEOUT_S 480
#define DS_SCAN_EXACT 64
#define DS_SCAN_MAX_SLOTS (1u << 20)   /* 64 MiB of entries per thread, at most half of them used */
#define DS_SCAN_ORDER_BINS 8

/* ds_scan.order */
enum { DS_SCAN_ORDER_UNTESTED = 0, DS_SCAN_ORDER_RANDOM = 1, DS_SCAN_ORDER_NOT_RANDOM = 2 };

typedef struct ds_scan {
    ds_ip src;
    int sensor;                  /* 0-based */
    int32_t day;                 /* local day of the first packet (the record's chunk) */
    ds_service service;
    uint64_t start_ns, end_ns, packets;
    uint32_t addresses;          /* distinct darknet destinations, never more than packets */
    int estimated;               /* addresses is the HyperLogLog estimate */
    int order;                   /* DS_SCAN_ORDER_*: do its targets look uniformly random */
    uint32_t sensor_addresses;   /* IPv4 addresses the sensor monitored */
    uint32_t timeout_s, min_addresses;   /* the thresholds it was found with */
} ds_scan;

typedef struct ds_scans ds_scans;
/* Receives each closed flow that reached min_addresses; non-zero stops (memory). */
typedef int (*ds_scan_out_fn)(void *ctx, const ds_scan *s);

/* min_addresses, timeout_s: 0 for the defaults.  sensor_v4[nsensors]: monitored IPv4 addresses
 * per sensor (copied; NULL: 0). */
ds_scans *ds_scans_new(uint32_t min_addresses, uint32_t timeout_s, const uint64_t *sensor_v4, size_t nsensors);
void ds_scans_free(ds_scans *s);
/* One scan-class packet of sensor/day; dst_key identifies the destination (the address index
 * when exact, which must then be < 512; else the IPv4 address or a hash of the IPv6 one).
 * 0, or -1 when memory runs out. */
int ds_scans_packet(ds_scans *s, int sensor, int32_t day, uint32_t dst_key, int exact, const ds_pkt *p,
                    ds_service svc, ds_scan_out_fn fn, void *ctx);
/* Close every flow idle since before now - timeout (all of them with now = UINT64_MAX). */
int ds_scans_expire(ds_scans *s, uint64_t now_ns, ds_scan_out_fn fn, void *ctx);
size_t ds_scans_memory(const ds_scans *s);
/* The order test (see the top): steps between distinct consecutive destinations, how many of
 * them ascended, and bins[DS_SCAN_ORDER_BINS], the destinations per eighth of the sensor's
 * sensor_addresses (NULL: no spatial test).  DS_SCAN_ORDER_*. */
int ds_scan_order_test(uint32_t steps, uint32_t ascents, const uint32_t *bins, uint32_t sensor_addresses);
size_t ds_scans_live(const ds_scans *s);

#endif
