/* rollup.h (ingest): the rollups of one ingested file (core/rollup.h), built at commit from the
 * SRCSVC chunks its aggregation threads emit and written in the same transaction.
 *
 * Every (sensor, day) of the file that has SRCSVC records gets the four rollup chunks: a reader
 * takes a file's (sensor, day) without them for one written before rollups existed and reads its
 * SRCSVC records instead (analysis/top_rollup.c).  The threads' chunks of one (sensor, day) hold
 * disjoint sources and go into one rollup, so a file has one rollup chunk per (sensor, day, kind)
 * whatever its thread count. */
#ifndef DS_INGEST_ROLLUP_H
#define DS_INGEST_ROLLUP_H
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"
#include "util/result.h"

typedef struct ingest_rollups ingest_rollups;

ingest_rollups *ingest_rollups_new(void);
void ingest_rollups_free(ingest_rollups *r);
/* One SRCSVC chunk (a zstd frame of nrec records) of sensor index `sensor` and `day`. */
ds_rc ingest_rollups_feed(ingest_rollups *r, int sensor, int32_t day, const uint8_t *frame, size_t framelen,
                          size_t nrec, ds_err *err);
/* Put every rollup chunk through the file batch's sink (store.h ds_file_batch), by sensor index. */
ds_rc ingest_rollups_put(ingest_rollups *r, ds_batch_sink *sink, ds_err *err);

#endif
