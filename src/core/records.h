/* records.h: the aggregate records darkscope stores, and their byte layout.
 *
 * Aggregates are written in chunks: one chunk per (sensor, local day, kind) per ingested file,
 * each a packed array of fixed-size little-endian records.  Chunks are append-only: ingesting a
 * file never rewrites another file's data (so a file's commit is one transaction that only adds),
 * and readers merge the chunks of a period as they scan them (sums for packets, set union for
 * sources).  Layouts are explicit bytes, not C structs, so a store moves between machines.
 *
 *  HOURLY   16 B  hour u32 (UTC hours since epoch) | key u32 | packets u32 | dim u8 | class u8 | rsv u16
 *                 dim 0: key is the service; dim 1: key is the source country (ds_cc_pack).
 *                 Every packet is counted once in each dim.
 *  SRCSVC   28 B  src u64 (ds_src_key) | service u32 | asn u32 | packets u32 | class u8 | cc[2] | flags u8 |
 *                 sport u16 | tools u8 | rsv u8
 *                 flags bit 0: every packet of this (source, service, class) that day came from source
 *                 port `sport` (TCP/UDP).  That is how a tool with a fixed source port shows up (the
 *                 1521/tcp campaign of the seed reports: 99% from port 6000) without a record per
 *                 (service, source port), which random-port scanners would make as many as packets.
 *  SOURCES  56 B  ip[16] | v6 u8 | cc[2] | class_mask u8 | asn u32 | packets u64 | first_ns u64 | last_ns u64 | services u32 |
 *                 dst1 u16 | tools u8 | rsv u8
 *
 * tools (SOURCES and SRCSVC): DS_TOOL_* bits (core/fingerprint.h) of the tools the source's
 * packets that day were attributed to.
 *  DSTMAP   72 B  src u64 | bitmap[64]   (destinations seen, see agg.c for the 512-bit map)
 *  ATTACKS  80 B  victim ip[16] | v6 u8 | port_proto u8 | port u16 | port_packets u32 | start_ns u64 |
 *                 end_ns u64 | packets u64 | max_ppm u32 | kind_packets u32 x 6 | responses u32
 *                 one DoS attack vector seen through its backscatter (core/dos.h), in the chunk of the
 *                 day it started; one attack split over threads or files has several records, which
 *                 readers merge by victim and time; responses: distinct answers, up to 255 (0 in
 *                 records written before it was counted)
 *  SCANS    64 B  src ip[16] | v6 u8 | flags u8 | rsv u16 | service u32 | start_ns u64 | end_ns u64 |
 *                 packets u64 | addresses u32 | sensor_addresses u32 | timeout_s u32 | min_addresses u32
 *                 one scan (core/scan.h) in the chunk of the day it started; flags bit 0: addresses
 *                 is an estimate (HyperLogLog); bits 1-2: its target order (DS_SCAN_ORDER_*: 0 not
 *                 tested, as in stores written before the test, 1 uniformly random, 2 not).  A scan cut by a file, or by the table's memory cap,
 *                 has several records, which readers merge by source, service and time
 *  FLOODS   80 B  target ip[16] | v6 u8 | class u8 | port_proto u8 | rsv u8 | port u16 | rsv u16 |
 *                 start_ns u64 | end_ns u64 | packets u64 | port_packets u32 | max_ppm u32 |
 *                 sources u32 | kinds u32 x 4 | rsv u32
 *                 a flood at one dark address (class scan) or a reflection that named it the victim
 *                 (class backscatter), core/flood.h, in the chunk of the day it started; one record
 *                 per ingest thread, which readers merge by target, class and time
 *
 * Why hourly counts are kept per service and per country, not per (service, country, ASN): the
 * cross product had as many cells as a quarter of the packets (random-port scans from thousands of
 * networks) and was a third of the bytes written, while the readers that need hours (daily and
 * hourly series, periodicity) ask for one dimension at a time; the cross-dimension questions
 * (23/tcp from CN) are answered per day from SRCSVC.
 *
 * A source that reached a single destination that day (about 40% of source-days) has no DSTMAP
 * record: SOURCES.dst1 holds that destination's map bit + 1.  dst1 is 0 when a DSTMAP record
 * holds the map.
 */
#ifndef DS_RECORDS_H
#define DS_RECORDS_H
#include <stddef.h>
#include <stdint.h>

#include "core/classify.h"
#include "core/ip.h"

typedef enum ds_chunk_kind {
    DS_CHUNK_HOURLY = 1,
    DS_CHUNK_SRCSVC = 2,
    DS_CHUNK_SOURCES = 3,
    DS_CHUNK_DSTMAP = 4,
    DS_CHUNK_ATTACKS = 5,
    DS_CHUNK_SCANS = 6,
    DS_CHUNK_FLOODS = 7,
    /* The detectors' inputs of the same group of records (core/detin.h): one encoded table per
     * chunk, like a rollup (record size 1 byte, nrec = bytes), written beside every SOURCES chunk. */
    DS_CHUNK_DETECT = 8,
    /* Packets by (service, country, class) of the same group of SRCSVC records (core/cross.h),
     * written beside every SRCSVC chunk: the report's mixes. */
    DS_CHUNK_CROSS = 9,
    DS_CHUNK__END = 10,  /* one past the last kind core/agg.c writes (records, DETECT, CROSS) */
    /* Rollups (core/rollup.h): not records but one encoded table per chunk, what the file's
     * SRCSVC records sum to (built as days retire, core/rollup_build.h); stored with a "record"
     * size of 1 byte, nrec = bytes. */
    DS_CHUNK_ROLLUP_SERVICE = 32,
    DS_CHUNK_ROLLUP_COUNTRY = 33,
    DS_CHUNK_ROLLUP_ASN = 34,
    DS_CHUNK_ROLLUP_ALL = 35,
    /* The same tables for one whole calendar month of one sensor (store/rollup_months.h): the
     * union of the month's day chunks, stored with the month's first day as their day and no
     * file.  DS_CHUNK_MONTH(kind) of a ROLLUP_* kind. */
    DS_CHUNK_MONTH_SERVICE = 40,
    DS_CHUNK_MONTH_COUNTRY = 41,
    DS_CHUNK_MONTH_ASN = 42,
    DS_CHUNK_MONTH_ALL = 43,
} ds_chunk_kind;
#define DS_CHUNK_MONTH(rollup_kind) ((rollup_kind) + (DS_CHUNK_MONTH_SERVICE - DS_CHUNK_ROLLUP_SERVICE))

enum { DS_REC_CROSS = 16, DS_REC_HOURLY = 16, DS_REC_SRCSVC = 28, DS_REC_SOURCES = 56, DS_REC_DSTMAP = 72, DS_REC_ATTACK = 80,
       DS_REC_SCAN = 64, DS_REC_FLOOD = 80, DS_DSTMAP_BYTES = 64 };

enum { DS_HOURLY_SERVICE = 0, DS_HOURLY_COUNTRY = 1 };

typedef struct ds_rec_hourly {
    uint32_t hour;
    uint32_t key;         /* a ds_service (dim 0) or a ds_cc_pack'ed country (dim 1) */
    uint32_t packets;     /* a larger count is split over several records: readers sum */
    uint8_t dim;
    uint8_t cls;
} ds_rec_hourly;

typedef struct ds_rec_srcsvc {
    uint64_t src;
    ds_service service;
    uint32_t asn;
    uint32_t packets;
    uint8_t cls;
    char cc[2];
    uint8_t one_sport;    /* 1: all packets from source port `sport` */
    uint16_t sport;
    uint8_t tools;        /* DS_TOOL_* of the source that day */
} ds_rec_srcsvc;

typedef struct ds_rec_source {
    ds_ip ip;
    char cc[2];
    uint8_t class_mask;   /* bit per ds_class seen */
    uint32_t asn;
    uint64_t packets, first_ns, last_ns;
    uint32_t services;    /* distinct services this day, in this chunk */
    uint32_t dst1;        /* map bit + 1 of the only destination; 0: see the DSTMAP record */
    uint8_t tools;        /* DS_TOOL_* (core/fingerprint.h) */
} ds_rec_source;

typedef struct ds_rec_dstmap {
    uint64_t src;
    uint8_t bits[DS_DSTMAP_BYTES];
} ds_rec_dstmap;

/* A compact key for a source: the IPv4 address itself, or (bit 63 set) a 63-bit hash of an
 * IPv6 address.  Unique counts of IPv6 sources are therefore exact unless two of them collide
 * in 63 bits. */
uint64_t ds_src_key(const ds_ip *ip);

void ds_rec_hourly_put(uint8_t *p, const ds_rec_hourly *r);
void ds_rec_hourly_get(const uint8_t *p, ds_rec_hourly *r);
void ds_rec_srcsvc_put(uint8_t *p, const ds_rec_srcsvc *r);
void ds_rec_srcsvc_get(const uint8_t *p, ds_rec_srcsvc *r);
void ds_rec_source_put(uint8_t *p, const ds_rec_source *r);
void ds_rec_source_get(const uint8_t *p, ds_rec_source *r);
/* ds_src_key of a SOURCES record's address, read without decoding the record: a reader that
 * wants a few sources of a quarter's records looks each up by this first. */
static inline uint64_t ds_rec_source_key(const uint8_t *p)
{
    if (!p[16])
        return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
    ds_ip ip;
    memcpy(ip.b, p, 16);
    ip.v6 = 1;
    return ds_src_key(&ip);
}
void ds_rec_dstmap_put(uint8_t *p, const ds_rec_dstmap *r);
void ds_rec_dstmap_get(const uint8_t *p, ds_rec_dstmap *r);
/* ATTACKS records are ds_attack (core/dos.h) without sensor and day (the chunk's). */
struct ds_attack;
void ds_rec_attack_put(uint8_t *p, const struct ds_attack *a);
void ds_rec_attack_get(const uint8_t *p, struct ds_attack *a);
/* SCANS records are ds_scan (core/scan.h) without sensor and day (the chunk's). */
struct ds_scan;
void ds_rec_scan_put(uint8_t *p, const struct ds_scan *s);
void ds_rec_scan_get(const uint8_t *p, struct ds_scan *s);

/* FLOODS records are ds_flood_vec (core/flood.h) without sensor and day (the chunk's). */
struct ds_flood_vec;
void ds_rec_flood_put(uint8_t *p, const struct ds_flood_vec *v);
void ds_rec_flood_get(const uint8_t *p, struct ds_flood_vec *v);

/* Record size of a kind, 0 if unknown. */
size_t ds_rec_size(int kind);

/* Country code helpers: "ZZ" when unknown. */
static inline uint16_t ds_cc_pack(const char cc[2]) { return (uint16_t)((uint8_t)cc[0] << 8 | (uint8_t)cc[1]); }
static inline void ds_cc_unpack(uint16_t v, char cc[3]) { cc[0] = (char)(v >> 8); cc[1] = (char)v; cc[2] = 0; }

/* Number of distinct destinations a DSTMAP says were hit.  exact: the map indexes the sensor's
 * addresses directly (darknet of <= 512 IPv4 addresses), so this is a popcount; otherwise the map
 * holds hashes and this is the linear-counting estimate (Whang et al., 1990). */
double ds_dstmap_count(const uint8_t bits[DS_DSTMAP_BYTES], int exact);
/* Bits set in a map (the exact count).  Written out (SWAR) because without -mpopcnt, which a
 * portable build can't assume, __builtin_popcount is a libgcc call per byte. */
unsigned ds_dstmap_bits(const uint8_t bits[DS_DSTMAP_BYTES]);

#endif
