/* cross.h: packets by (service, source country, class) per group of SRCSVC records: the face of
 * the cube that the report's mixes read (top regions by service, top services by region), kept at
 * ingest so that a month's report does not pass over every SRCSVC record for a few dozen cells
 * (issue #22).
 *
 * The rollups (core/rollup.h) keep one dimension each, with source sets; a mix crosses two and
 * needs no sources.  One CROSS chunk is written beside every SRCSVC chunk (core/agg_emit.c, as a
 * group closes), with the same file, sensor and day; its records sum exactly the group's SRCSVC
 * records of each (service, country, class), so selecting records by service, country and class
 * selects exactly the packets the SRCSVC path would count (analysis/cube.c).
 *
 * Record (DS_REC_CROSS = 16 bytes, little-endian; docs/store.md, "Cross (kind 9)"):
 *   service u32 | cc u16 (ds_cc_pack) | class u8 | rsv u8 (0) | packets u64
 * strictly ascending by (service, cc, class) within a chunk.
 */
#ifndef DS_CROSS_H
#define DS_CROSS_H
#include <stddef.h>
#include <stdint.h>

#include "core/records.h"

typedef struct ds_cross_work ds_cross_work;   /* reusable work arrays */
ds_cross_work *ds_cross_work_new(void);
void ds_cross_work_free(ds_cross_work *w);
/* The records of nsvc SRCSVC records, in *out (the work's memory, valid until its next build:
 * *nrec records of DS_REC_CROSS bytes).  -1 when memory runs out. */
int ds_cross_build(ds_cross_work *w, const uint8_t *srcsvc, size_t nsvc, const uint8_t **out, size_t *nrec);

typedef struct ds_rec_cross { uint32_t service; uint16_t cc; uint8_t cls; uint64_t packets; } ds_rec_cross;
static inline void ds_rec_cross_get(const uint8_t *p, ds_rec_cross *r)
{
    r->service = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
    r->cc = (uint16_t)(p[4] | p[5] << 8);
    r->cls = p[6];
    r->packets = 0;
    for (int b = 15; b >= 8; b--)
        r->packets = r->packets << 8 | p[b];
}

#endif
