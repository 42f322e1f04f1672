/* rollup_build.h: building the rollup chunks (core/rollup.h) where the records are already in
 * order, and uniting the chunks of one (sensor, day) written in parts.
 *
 * Where.  A day's (source, service, class) counts come out of its svclog sorted and folded when
 * the day retires (core/svclog.h, core/agg_day.c).  The aggregator hands them here a batch at a
 * time: one (sensor, day)'s sources in ascending key order (ds_src_key), each source with its
 * (service, class, packets) items, and its country and ASN as the source's entry already holds
 * them (looked up once per source and day, core/agg.c).  Nothing is looked up again.
 *
 * How, without a table per entry.  Every (entry, source) pair becomes a 16-byte tuple (key,
 * class | source rank, packets): one per item for the service dimension, one per (source, class)
 * for country, ASN and all.  The tuples are made in source order, and an LSD radix sort on the
 * entry (11-bit digits, the ones that do not vary skipped; then the class) is stable, so each
 * entry's sources come out as an ascending run (repeats only of a shared IPv6 key, dropped as
 * it is written): a set already normalized (ds_rollup_writer).  No hash table, no vector per
 * entry, no sort of a set.
 *
 * Parts.  A (sensor, day) may retire in several batches (a late packet reopens a day: core/agg.c)
 * and with --threads N each thread writes its own (they own disjoint sources).  Each batch is
 * encoded on its own; ds_rollup_merge unites the chunks of one (sensor, day, dimension) into the
 * chunk one batch of all their records would have given: entries by (class, key), packets summed,
 * sets united (an entry in one chunk only, as most random-port entries are, keeps its encoded set
 * as it is: a canonical encoding, so copying it is decoding and encoding it again).  So the chunks
 * written are byte for byte those of the builder in core/rollup.c (ds_rollup_add over the SRCSVC
 * records), whatever the batches (tests/unit/test_rollup_build.c).
 */
#ifndef DS_ROLLUP_BUILD_H
#define DS_ROLLUP_BUILD_H
#include <stddef.h>
#include <stdint.h>

#include "core/rollup.h"
#include "util/result.h"

typedef struct ds_rollup_batch ds_rollup_batch;   /* reusable work arrays */

ds_rollup_batch *ds_rollup_batch_new(void);
void ds_rollup_batch_free(ds_rollup_batch *b);
/* Start a batch (the arrays are kept from the last one). */
void ds_rollup_batch_begin(ds_rollup_batch *b);
/* The next source (ds_src_key), not below the one before in this batch (two IPv6 addresses
 * may share a key, a hash: the sets keep it once, as from SRCSVC records); cc: two letters
 * (ds_cc_pack), asn.  -1: out of memory, or descending (a caller's bug). */
int ds_rollup_batch_source(ds_rollup_batch *b, uint64_t src, const char cc[2], uint32_t asn);
/* One (service, class) count of the last source; each (service, class) once per source. */
int ds_rollup_batch_item(ds_rollup_batch *b, uint32_t service, unsigned cls, uint64_t packets);
/* Sources in the batch so far. */
size_t ds_rollup_batch_sources(const ds_rollup_batch *b);
/* The batch's four chunks (out[dim], len[dim], malloc'd), dimensions in DS_ROLLUP_* order. */
ds_rc ds_rollup_batch_encode(ds_rollup_batch *b, uint8_t *out[DS_ROLLUP__COUNT], size_t len[DS_ROLLUP__COUNT],
                             ds_err *err);

/* Unite n >= 1 chunks of dimension dim into one, in *out (malloc'd, *len bytes).  Each chunk is
 * checked with ds_rollup_open, and the sets that are united are decoded (ds_srcset_decode); a set
 * copied from one chunk is not decoded here (a reader checks it when it decodes it). */
ds_rc ds_rollup_merge(ds_rollup_dim dim, const uint8_t *const *chunks, const size_t *lens, size_t n, uint8_t **out,
                      size_t *len, ds_err *err);

#endif
