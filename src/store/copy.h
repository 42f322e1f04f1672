/* copy.h: `darkscope store copy FROM TO`: every file of one store into another, empty one, of
 * either backend (SQLite to ClickHouse and back), through the store interface alone. */
#ifndef DS_STORE_COPY_H
#define DS_STORE_COPY_H
#include <stddef.h>

#include "store/store.h"

typedef struct ds_copy_stats {
    size_t files;           /* copied */
    size_t superseded;      /* not copied: their counts live in the files that superseded them */
    size_t chunks, coverage;
    size_t months;          /* month rollups the target built after (SQLite) */
} ds_copy_stats;

/* Copies every live file of `from` (ds_store_dump_ops: its chunks, counts and coverage rows, its
 * hash, prefix hash, length, path, cut-short flag), in id order, each with ds_store_put_file:
 * each file is visible in `to` whole or not at all.  The sensors go first, in from's id order, so
 * ids are given out in the same order.  Refused (nothing written): a target that holds a file, a
 * target whose timezone is not from's, a store that cannot list its files. */
ds_rc ds_store_copy(ds_store *from, ds_store *to, ds_copy_stats *st, ds_err *err);

#endif
