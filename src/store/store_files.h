/* store_files.h: the SQLite backend's questions about stored files (store_files.c), for
 * store_sqlite.c only: is this file stored, which stored file cut short may it continue, and
 * superseding one (docs/store.md, "Re-sent files"). */
#ifndef DS_STORE_FILES_H
#define DS_STORE_FILES_H
#include <sqlite3.h>

#include "store/store.h"

/* Columns and the indexes these need, on top of store_sqlite.c's files table (see its SCHEMA and
 * ADDED_COLUMNS): files.prefix_hash (XXH3-128 of the first 64 KiB of a file read from a path) and
 * files.superseded_by (the id of the file that holds all of its records and replaced its counts).
 * files_cut holds only the files cut short and not superseded: usually none. */
#define DS_FILES_INDEXES \
    "CREATE INDEX IF NOT EXISTS files_prefix ON files(prefix_hash) WHERE prefix_hash IS NOT NULL;" \
    "CREATE INDEX IF NOT EXISTS files_cut ON files(bytes) WHERE truncated = 1 AND superseded_by IS NULL;"

/* DS_OK: f->hash is not stored.  DS_EEXIST: it is, with the message naming the stored file (and
 * the file that superseded it, if one did); *packets (may be NULL): the packets stored for it. */
ds_rc ds_sqfiles_dup(sqlite3 *db, const ds_file_meta *f, uint64_t *packets, ds_err *err);
/* The stored files that may hold f's bytes (ds_store_ops.file_priors), longest first. */
ds_rc ds_sqfiles_priors(sqlite3 *db, const ds_file_meta *f, ds_file_prior *prior, size_t max, size_t *n,
                        ds_err *err);
/* ds_store_ops.supersede, inside the caller's write transaction. */
ds_rc ds_sqfiles_supersede(sqlite3 *db, int64_t file_id, const ds_file_prior *old, ds_err *err);

/* ds_store_dump_ops.files and .file_counts (store copy) */
ds_rc ds_sqfiles_list(sqlite3 *db, ds_stored_file **rows, size_t *n, ds_err *err);
ds_rc ds_sqfiles_counts(sqlite3 *db, int64_t file_id, ds_dump_counts_fn fn, void *ctx, ds_err *err);

#endif
