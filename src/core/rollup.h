/* rollup.h: per (file, sensor, day) tables of packets and exact distinct sources by service,
 * by source country and by source ASN (issue #22, item 2), so that `top ports|countries|asns`
 * over a period sums a few thousand rows a day instead of reading every SRCSVC record.
 *
 * A rollup sums the SRCSVC records of one (sensor, day) of one ingested file and is stored as
 * four chunks, one per dimension (ingest builds them from the day's sorted log as it retires,
 * core/rollup_build.h; ds_rollup_add below builds the same bytes from SRCSVC records, and is
 * the reference its tests compare against):
 *
 *   DS_CHUNK_ROLLUP_SERVICE   per (class, service):  packets, the set of its sources
 *   DS_CHUNK_ROLLUP_COUNTRY   per (class, country):  the same
 *   DS_CHUNK_ROLLUP_ASN       per (class, ASN):      the same
 *   DS_CHUNK_ROLLUP_ALL       per class (key 0):     every source of the class, for a period's
 *                                                    distinct total without uniting every key
 *
 * One kind per dimension, not one chunk with four sections, because a query reads one dimension
 * (and ALL): the others' bytes would be decompressed for nothing.  Per dimension and class, not
 * the (service x country x ASN) cube: the cube had as many cells as SRCSVC has records (see
 * records.h on HOURLY).  So the rollups answer a query whose only filters are a sensor, a class
 * and values of the ranked dimension itself; anything else (port=23/tcp on a country table,
 * tools, excluded sources) reads SRCSVC as before (analysis/top_rollup.c).
 *
 * Layout, little-endian (docs/store.md, "Rollups"):
 *   header 16 B  magic "DSRU" | version u8 (1) | dim u8 (DS_ROLLUP_*) | rsv u16 (0) | entries u32 | set_bytes u32
 *   entry  32 B  key u32 | class u8 | rsv u8[3] (0) | packets u64 | n4 u32 | n6 u32 | off u32 | bytes u32
 *                entries strictly ascending by (class, key); their sets laid out in order: off is
 *                the previous entry's off + bytes (the first's 0), the last ends at set_bytes
 *   sets         set_bytes bytes: each entry's sources (core/srcset.h encoding), n4 IPv4 and
 *                n6 IPv6 keys
 * key: ds_service (SERVICE), ds_cc_pack (COUNTRY), ASN (ASN), 0 (ALL).
 */
#ifndef DS_ROLLUP_H
#define DS_ROLLUP_H
#include <stddef.h>
#include <stdint.h>

#include "core/records.h"
#include "core/srcset.h"
#include "util/result.h"

typedef enum ds_rollup_dim { DS_ROLLUP_SERVICE = 0, DS_ROLLUP_COUNTRY = 1, DS_ROLLUP_ASN = 2, DS_ROLLUP_ALL = 3,
                             DS_ROLLUP__COUNT = 4 } ds_rollup_dim;
#define DS_ROLLUP_KIND(dim) (DS_CHUNK_ROLLUP_SERVICE + (int)(dim))   /* records.h's chunk kind */

enum { DS_ROLLUP_HEADER = 16, DS_ROLLUP_ENTRY = 32, DS_ROLLUP_VERSION = 1 };

/* ---- building ---- */
typedef struct ds_rollup ds_rollup;   /* one (sensor, day) being built */
ds_rollup *ds_rollup_new(void);
void ds_rollup_free(ds_rollup *r);
/* Count one SRCSVC record (DS_REC_SRCSVC bytes, records.h); -1 out of memory. */
int ds_rollup_add(ds_rollup *r, const uint8_t *srcsvc);
/* The chunk of one dimension, in *out (malloc'd, *len bytes).  Normalizes the sets. */
ds_rc ds_rollup_encode(ds_rollup *r, ds_rollup_dim dim, uint8_t **out, size_t *len, ds_err *err);

/* ---- writing a chunk (the one encoder, whichever builder feeds it) ---- */
typedef struct ds_rollup_writer {
    uint8_t *ent; size_t n, capent;       /* entries, DS_ROLLUP_ENTRY bytes each */
    uint8_t *sets; size_t setlen, capsets;
} ds_rollup_writer;
/* Append one entry: id = class << 32 | key, strictly after the entry before; set normalized
 * (ds_srcvec_normalize, or built ascending without repeats with `sorted` set).  -1 out of memory
 * or past a chunk's 4 GiB. */
int ds_rollup_writer_add(ds_rollup_writer *w, uint64_t id, uint64_t packets, const ds_srcvec *set);
/* Append one entry whose set is already encoded (another chunk's, copied as it is). */
int ds_rollup_writer_add_encoded(ds_rollup_writer *w, uint64_t id, uint64_t packets, uint32_t n4, uint32_t n6,
                                 const uint8_t *set, size_t len);
/* The chunk of the entries added since the last finish, in *out (malloc'd, *len bytes). */
ds_rc ds_rollup_writer_finish(ds_rollup_writer *w, ds_rollup_dim dim, uint8_t **out, size_t *len, ds_err *err);
void ds_rollup_writer_free(ds_rollup_writer *w);

/* ---- reading ---- */
typedef struct ds_rollup_view {
    const uint8_t *p;         /* the chunk */
    size_t len;
    uint32_t n;               /* entries */
    ds_rollup_dim dim;
} ds_rollup_view;

typedef struct ds_rollup_entry {
    uint32_t key;
    uint8_t cls;
    uint64_t packets;
    uint32_t n4, n6;          /* sources in the set */
    const uint8_t *set;       /* its encoding, set_len bytes (ds_srcset_decode) */
    size_t set_len;
} ds_rollup_entry;

/* Check a chunk of `kind` (header, every entry, the sets' extents; the sets themselves when
 * decoded) and view it.  DS_EFORMAT naming what is wrong: the bytes are untrusted. */
ds_rc ds_rollup_open(const uint8_t *p, size_t len, int kind, ds_rollup_view *v, ds_err *err);
/* Entry i < v->n of an opened chunk. */
void ds_rollup_get(const ds_rollup_view *v, uint32_t i, ds_rollup_entry *e);

#endif
