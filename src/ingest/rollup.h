/* rollup.h (ingest): the rollups of one ingested file (core/rollup.h), written in its
 * transaction.
 *
 * Each aggregation thread builds the rollup chunks of its (sensor, day)s as the days retire
 * (core/rollup_build.h, core/agg_rollup.c).  Here they are collected at commit, and the chunks of
 * one (sensor, day, kind) from several threads (which own disjoint sources) or several groups (a
 * late packet after the day closed) are united (ds_rollup_merge): a file has one rollup chunk per
 * (sensor, day, kind) whatever its thread count, byte for byte what one builder over all of its
 * SRCSVC records writes.
 *
 * Every (sensor, day) of the file that has SRCSVC records gets the four rollup chunks: a reader
 * takes a file's (sensor, day) without them for one written before rollups existed and reads its
 * SRCSVC records instead (analysis/top_rollup.c). */
#ifndef DS_INGEST_ROLLUP_H
#define DS_INGEST_ROLLUP_H
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"
#include "util/result.h"

typedef struct ingest_rollups ingest_rollups;

ingest_rollups *ingest_rollups_new(void);
void ingest_rollups_free(ingest_rollups *r);
/* One rollup chunk of sensor index `sensor`, `day` and kind DS_CHUNK_ROLLUP_* (a ds_rollup_sink,
 * core/agg.h).  The chunk is not copied: it must live until ingest_rollups_put. */
ds_rc ingest_rollups_feed(void *r, int sensor, int32_t day, int kind, const uint8_t *chunk, size_t len, ds_err *err);
/* Put every rollup chunk through the file batch's sink (store.h ds_file_batch), by (sensor
 * index, day, kind). */
ds_rc ingest_rollups_put(ingest_rollups *r, ds_batch_sink *sink, ds_err *err);

#endif
