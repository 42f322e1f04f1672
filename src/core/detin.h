/* detin.h: the detectors' inputs, kept at ingest (issue #22: `events` over a busy month in a
 * second).
 *
 * Why.  `events` used to read a period's SRCSVC and SOURCES chunks: one record per (source,
 * service) and per source each day, 1.2 GB for the source-heavy month (4 M sources), most of a
 * second to decompress before any detector ran.  Yet what most detectors need of those records is
 * small, and can be summed per (file, sensor, day) as the records are written:
 *
 *   series   the `spike`/`surge`/`new_service`/`single_source` detector (analysis/series_*.c):
 *            per service and per source country, the scan-class packets of sources not attributed
 *            to ZMap, Masscan or Nmap (DS_DETIN_SERIES_TOOLS), the largest such record, and per
 *            country the set of those sources (core/srcset.h), for each day's distinct sources;
 *   tools    the `mirai` and `tool` detectors (analysis/detect_tools.c): the SRCSVC records that
 *            carry a tool bit, as they are;
 *   vertical the `vertical_scan` pre-pass (analysis/detect_vertical.c): per source, the sum of
 *            the services of its scan-class SOURCES records in the chunk, for the sources whose
 *            sum is at least DS_DETIN_VERT_MIN, and the largest sum left out (vert_omit), so that
 *            a reader bounds what it did not see and reads the raw chunks only where a source
 *            may reach the detector's threshold.
 *
 * One chunk (DS_CHUNK_DETECT) per group of SRCSVC and SOURCES records (core/agg_emit.c builds it
 * from the group's raw records as the group closes), so a day has as many as it has SOURCES
 * chunks, and every sum above composes across them the way the records do: packets add, largest
 * records take the larger, sets unite.  A reader that finds a (file, sensor, day) with SOURCES
 * and no DETECT chunk (a store written before these existed) reads the raw chunks instead
 * (ds_store_chunks_lacking).
 *
 * Layout, little-endian (docs/store.md, "Detector inputs"):
 *   header  32 B  magic "DSDI" | version u8 (1) | rsv u8[3] (0) | nsvc u32 | ncc u32 | ntool u32 |
 *                 nvert u32 | set_bytes u32 | vert_omit u32
 *   service 16 B  key u32 (ds_service) | maxrec u32 | packets u64           strictly ascending key
 *   country 32 B  key u32 (ds_cc_pack) | maxrec u32 | packets u64 | n4 u32 | n6 u32 | off u32 |
 *                 bytes u32                                                 strictly ascending key;
 *                 sets laid out in order (off: the previous entry's off + bytes, the first's 0)
 *   tool    28 B  a SRCSVC record (records.h), in the chunk's order
 *   vertical 16 B src u64 (ds_src_key) | services u32 | rsv u32 (0)          strictly ascending src
 *   sets          set_bytes bytes (core/srcset.h encoding)
 * The chunk is stored like a rollup: record size 1 byte, nrec = bytes.
 */
#ifndef DS_DETIN_H
#define DS_DETIN_H
#include <stddef.h>
#include <stdint.h>

#include "core/fingerprint.h"
#include "core/records.h"
#include "util/result.h"

#define DS_DETIN_SERIES_TOOLS (DS_TOOL_ZMAP | DS_TOOL_MASSCAN | DS_TOOL_NMAP)   /* left out of the series */
#define DS_DETIN_VERT_MIN 16   /* a source's services in a chunk, at least, to be listed */

enum { DS_DETIN_HEADER = 32, DS_DETIN_SVC = 16, DS_DETIN_CC = 32, DS_DETIN_VERT = 16, DS_DETIN_VERSION = 1 };

/* ---- building (core/agg_emit.c, as a group closes) ---- */
typedef struct ds_detin_work ds_detin_work;   /* reusable work arrays */
ds_detin_work *ds_detin_work_new(void);
void ds_detin_work_free(ds_detin_work *w);
/* The chunk of nsvc SRCSVC records and nsrc SOURCES records (records.h layouts), in *out
 * (malloc'd, *len bytes).  DS_ENOMEM, or DS_EINVAL past a chunk's 4 GiB. */
ds_rc ds_detin_build(ds_detin_work *w, const uint8_t *srcsvc, size_t nsvc, const uint8_t *sources, size_t nsrc,
                     uint8_t **out, size_t *len, ds_err *err);

/* ---- reading ---- */
typedef struct ds_detin_view {
    const uint8_t *svc, *cc, *tool, *vert, *sets;
    uint32_t nsvc, ncc, ntool, nvert, set_bytes, vert_omit;
} ds_detin_view;
/* Check a chunk's header and section sizes (the sets are checked when decoded).  DS_EFORMAT
 * naming what is wrong. */
ds_rc ds_detin_open(const uint8_t *p, size_t len, ds_detin_view *v, ds_err *err);

typedef struct ds_detin_entry {
    uint32_t key, maxrec;
    uint64_t packets;
    uint32_t n4, n6;
    const uint8_t *set;   /* countries: the encoded set, `bytes` long; services: NULL */
    size_t bytes;
} ds_detin_entry;
/* Entry i of the services (dim 0) or countries (dim 1).  DS_EFORMAT when a country's set lies
 * outside the sets. */
ds_rc ds_detin_entry_get(const ds_detin_view *v, int dim, uint32_t i, ds_detin_entry *e, ds_err *err);
static inline uint64_t ds_detin_vert_src(const ds_detin_view *v, uint32_t i)
{
    const uint8_t *p = v->vert + (size_t)i * DS_DETIN_VERT;
    uint64_t x = 0;
    for (int b = 7; b >= 0; b--)
        x = x << 8 | p[b];
    return x;
}
static inline uint32_t ds_detin_vert_services(const ds_detin_view *v, uint32_t i)
{
    const uint8_t *p = v->vert + (size_t)i * DS_DETIN_VERT + 8;
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

#endif
