/* store_files.c: see store_files.h.
 *
 * Superseding.  A capture cut short (a sensor killed mid-write) is committed up to its last whole
 * record, and its files row keeps truncated = 1 and (as every file read from a path) a hash of
 * its first 64 KiB.  When a file
 * arrives whose first L bytes are exactly such a file of L bytes, it holds every record of it, so
 * its counts replace the short file's in its own transaction: the short file's rows in every
 * per-file table go, and its files row stays, marked superseded_by, so that the same short file
 * sent again is still refused as stored.
 *
 * Chunk ids.  A reader's cache (store_sqlite.c) keys decompressed chunks by row id, and SQLite
 * gives a new row the largest id + 1: deleting the rows with the largest ids would hand those ids
 * to the next chunks, and a reader that cached the old chunk would serve it for the new one.  So
 * the new file's chunks go in first (their ids are larger than any of the short file's), and if
 * the short file still holds the largest id (the new file wrote no chunk), that row is kept as a
 * tombstone of kind 0 (no scan asks for kind 0) instead of being deleted.
 */
#include "store/store_files.h"
#include "store/sqlite_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The tables besides `chunks` whose rows belong to one file, by a file_id column.  A table not in
 * the store (yet) is skipped, so a table can be listed before the code that makes it lands. */
static const char *const FILE_TABLES[] = { "counts", "coverage" };

static const char *db_name(sqlite3 *db) { return sqlite3_db_filename(db, "main"); }

static ds_rc fail(sqlite3 *db, ds_err *err, const char *what) { return ds_sqlite_fail(db, what, err); }

static void text(sqlite3_stmt *q, int col, char *out, size_t len)
{
    const unsigned char *t = sqlite3_column_text(q, col);
    snprintf(out, len, "%s", t ? (const char *)t : "");
}

ds_rc ds_sqfiles_dup(sqlite3 *db, const ds_file_meta *f, uint64_t *packets, ds_err *err)
{
    sqlite3_stmt *q = NULL;
    ds_rc rc = DS_OK;
    /* a row that is not superseded first: it is what the bytes count as now */
    if (sqlite3_prepare_v2(db, "SELECT f.path, datetime(f.ingested_at, 'unixepoch'), g.path, "
                               "datetime(g.ingested_at, 'unixepoch'), (SELECT coalesce(sum(packets), 0) FROM counts "
                               "WHERE file_id = f.id) FROM files f LEFT JOIN files g ON g.id = f.superseded_by "
                               "WHERE f.hash = ?1 ORDER BY f.superseded_by IS NOT NULL LIMIT 1", -1, &q, NULL) != SQLITE_OK)
        return fail(db, err, "files");
    sqlite3_bind_blob(q, 1, f->hash, 16, SQLITE_STATIC);
    int st = sqlite3_step(q);
    if (st == SQLITE_ROW) {
        char path[512], when[32], by[512], bywhen[32];
        text(q, 0, path, sizeof path);
        text(q, 1, when, sizeof when);
        text(q, 2, by, sizeof by);
        text(q, 3, bywhen, sizeof bywhen);
        if (packets)
            *packets = (uint64_t)sqlite3_column_int64(q, 4);
        if (sqlite3_column_type(q, 2) == SQLITE_NULL)
            rc = ds_fail(err, DS_EEXIST, "%s: already ingested (same content as %s, ingested %s UTC); use --force to "
                         "count it again", f->path, path, when);
        else
            rc = ds_fail(err, DS_EEXIST, "%s: already ingested (same content as %s, ingested %s UTC, a capture cut "
                         "short whose records %s holds, ingested %s UTC); use --force to count it again",
                         f->path, path, when, by, bywhen);
    } else if (st != SQLITE_DONE) {
        rc = fail(db, err, "files");
    }
    sqlite3_finalize(q);
    return rc;
}

ds_rc ds_sqfiles_priors(sqlite3 *db, const ds_file_meta *f, ds_file_prior *prior, size_t max, size_t *n,
                        ds_err *err)
{
    sqlite3_stmt *q = NULL;
    ds_rc rc = DS_OK;
    int st;
    *n = 0;
    if (!f->have_prefix || max == 0)
        return DS_OK;
    /* by files_prefix: the same length, or cut short and shorter; by files_cut (the open files
     * cut short, usually none): those shorter than the prefix, hashed whole, so that their prefix
     * hash says nothing and their full hash decides (the caller's ds_reader_hash_head) */
    if (sqlite3_prepare_v2(db, "SELECT id, bytes, hash, path, datetime(ingested_at, 'unixepoch') FROM files "
                               "WHERE prefix_hash = ?1 AND (bytes = ?2 OR (bytes < ?2 AND truncated = 1 AND "
                               "superseded_by IS NULL)) "
                               "UNION SELECT id, bytes, hash, path, datetime(ingested_at, 'unixepoch') FROM files "
                               "WHERE truncated = 1 AND superseded_by IS NULL AND bytes > 0 AND bytes < 65536 AND "
                               "bytes < ?2 ORDER BY 2 DESC LIMIT ?3", -1, &q, NULL) != SQLITE_OK)
        return fail(db, err, "files");
    sqlite3_bind_blob(q, 1, f->prefix_hash, 16, SQLITE_STATIC);
    sqlite3_bind_int64(q, 2, f->bytes > (uint64_t)INT64_MAX ? INT64_MAX : (sqlite3_int64)f->bytes);
    sqlite3_bind_int64(q, 3, (sqlite3_int64)max);
    while ((st = sqlite3_step(q)) == SQLITE_ROW) {
        ds_file_prior *p = &prior[(*n)++];
        memset(p, 0, sizeof *p);
        p->id = sqlite3_column_int64(q, 0);
        p->bytes = (uint64_t)sqlite3_column_int64(q, 1);
        if (sqlite3_column_bytes(q, 2) == 16)
            memcpy(p->hash, sqlite3_column_blob(q, 2), 16);
        text(q, 3, p->path, sizeof p->path);
        text(q, 4, p->ingested, sizeof p->ingested);
    }
    if (st != SQLITE_DONE)
        rc = fail(db, err, "files");
    sqlite3_finalize(q);
    return rc;
}

/* Run sql with ?1 = a, ?2 = b (either unused by some). */
static ds_rc run2(sqlite3 *db, const char *sql, int64_t a, int64_t b, ds_err *err)
{
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK)
        return fail(db, err, sql);
    if (sqlite3_bind_parameter_count(q) >= 1)
        sqlite3_bind_int64(q, 1, a);
    if (sqlite3_bind_parameter_count(q) >= 2)
        sqlite3_bind_int64(q, 2, b);
    ds_rc rc = sqlite3_step(q) == SQLITE_DONE ? DS_OK : fail(db, err, sql);
    sqlite3_finalize(q);
    return rc;
}

/* 1 when table exists with a file_id column, 0 when not, -1 on error. */
static int has_file_id(sqlite3 *db, const char *table)
{
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(db, "SELECT count(*) FROM pragma_table_info(?1) WHERE name = 'file_id'", -1, &q, NULL) !=
        SQLITE_OK)
        return -1;
    sqlite3_bind_text(q, 1, table, -1, SQLITE_STATIC);
    int r = sqlite3_step(q) == SQLITE_ROW ? sqlite3_column_int(q, 0) > 0 : -1;
    sqlite3_finalize(q);
    return r;
}

ds_rc ds_sqfiles_supersede(sqlite3 *db, int64_t file_id, const ds_file_prior *old, ds_err *err)
{
    sqlite3_stmt *q = NULL;
    ds_rc rc;
    if (sqlite3_get_autocommit(db))
        return ds_fail(err, DS_EINVAL, "store %s: supersede outside a file's transaction", db_name(db));
    if (sqlite3_prepare_v2(db, "SELECT 1 FROM files WHERE id = ?1 AND hash = ?2 AND truncated = 1 AND "
                               "superseded_by IS NULL AND id <> ?3", -1, &q, NULL) != SQLITE_OK)
        return fail(db, err, "files");
    sqlite3_bind_int64(q, 1, old->id);
    sqlite3_bind_blob(q, 2, old->hash, 16, SQLITE_STATIC);
    sqlite3_bind_int64(q, 3, file_id);
    int st = sqlite3_step(q);
    sqlite3_finalize(q);
    if (st == SQLITE_DONE)
        return DS_ENOTFOUND;   /* superseded meanwhile by a concurrent ingest, or removed */
    if (st != SQLITE_ROW)
        return fail(db, err, "files");
    /* the largest chunk id stays taken (see the note at the top) */
    if ((rc = run2(db, "UPDATE chunks SET kind = 0, nrec = 0, codec = 0, data = x'', file_id = ?2 "
                       "WHERE id = (SELECT max(id) FROM chunks) AND file_id = ?1", old->id, file_id, err)) != DS_OK ||
        (rc = run2(db, "DELETE FROM chunks WHERE file_id = ?1", old->id, 0, err)) != DS_OK)
        return rc;
    for (size_t i = 0; i < sizeof FILE_TABLES / sizeof FILE_TABLES[0]; i++) {
        char sql[128];
        int h = has_file_id(db, FILE_TABLES[i]);
        if (h < 0)
            return fail(db, err, FILE_TABLES[i]);
        if (!h)
            continue;
        snprintf(sql, sizeof sql, "DELETE FROM %s WHERE file_id = ?1", FILE_TABLES[i]);
        if ((rc = run2(db, sql, old->id, 0, err)) != DS_OK)
            return rc;
    }
    return run2(db, "UPDATE files SET superseded_by = ?2 WHERE id = ?1", old->id, file_id, err);
}

/* ---- store copy (ds_store_dump_ops) ---- */

ds_rc ds_sqfiles_list(sqlite3 *db, ds_stored_file **rows, size_t *n, ds_err *err)
{
    sqlite3_stmt *q = NULL;
    ds_rc rc = DS_OK;
    size_t cap = 0;
    *rows = NULL;
    *n = 0;
    if (sqlite3_prepare_v2(db, "SELECT id, hash, path, bytes, records, truncated, prefix_hash, superseded_by IS NOT NULL"
                           " FROM files ORDER BY id", -1, &q, NULL) != SQLITE_OK)
        return fail(db, err, "files");
    int st;
    while ((st = sqlite3_step(q)) == SQLITE_ROW) {
        if (*n == cap) {
            size_t nc = cap ? cap * 2 : 64;
            ds_stored_file *nr = realloc(*rows, nc * sizeof *nr);
            if (!nr) {
                rc = ds_fail(err, DS_ENOMEM, "out of memory");
                break;
            }
            *rows = nr;
            cap = nc;
        }
        ds_stored_file *f = &(*rows)[(*n)++];
        memset(f, 0, sizeof *f);
        f->id = sqlite3_column_int64(q, 0);
        if (sqlite3_column_bytes(q, 1) == 16)
            memcpy(f->hash, sqlite3_column_blob(q, 1), 16);
        text(q, 2, f->path, sizeof f->path);
        f->bytes = (uint64_t)sqlite3_column_int64(q, 3);
        f->records = (uint64_t)sqlite3_column_int64(q, 4);
        f->truncated = sqlite3_column_int(q, 5) != 0;
        if (sqlite3_column_bytes(q, 6) == 16) {
            memcpy(f->prefix_hash, sqlite3_column_blob(q, 6), 16);
            f->have_prefix = 1;
        }
        f->superseded = sqlite3_column_int(q, 7);
    }
    if (rc == DS_OK && st != SQLITE_DONE)
        rc = fail(db, err, "files");
    sqlite3_finalize(q);
    if (rc != DS_OK) {
        free(*rows);
        *rows = NULL;
        *n = 0;
    }
    return rc;
}

ds_rc ds_sqfiles_counts(sqlite3 *db, int64_t file_id, ds_dump_counts_fn fn, void *ctx, ds_err *err)
{
    sqlite3_stmt *q = NULL;
    ds_rc rc = DS_OK;
    if (sqlite3_prepare_v2(db, "SELECT sensor_id, packets, outside, non_ip, truncated, fragment, malformed, unknown_link,"
                           " first_ns, last_ns, bad_timestamp, enc_vlan, enc_mpls, enc_pppoe, enc_gre, enc_erspan,"
                           " enc_vxlan, enc_geneve, enc_ipip FROM counts WHERE file_id = ?1 ORDER BY sensor_id",
                           -1, &q, NULL) != SQLITE_OK)
        return fail(db, err, "counts");
    _Static_assert(DS_ENC__COUNT == 8, "the encapsulation columns above");
    sqlite3_bind_int64(q, 1, file_id);
    int st;
    while (rc == DS_OK && (st = sqlite3_step(q)) == SQLITE_ROW) {
        ds_agg_counts c;
        memset(&c, 0, sizeof c);
        c.packets = (uint64_t)sqlite3_column_int64(q, 1);
        c.outside = (uint64_t)sqlite3_column_int64(q, 2);
        c.outcome[DS_PKT_NON_IP] = (uint64_t)sqlite3_column_int64(q, 3);
        c.outcome[DS_PKT_TRUNCATED] = (uint64_t)sqlite3_column_int64(q, 4);
        c.outcome[DS_PKT_FRAGMENT] = (uint64_t)sqlite3_column_int64(q, 5);
        c.outcome[DS_PKT_MALFORMED] = (uint64_t)sqlite3_column_int64(q, 6);
        c.outcome[DS_PKT_UNKNOWN_LINK] = (uint64_t)sqlite3_column_int64(q, 7);
        c.first_ns = (uint64_t)sqlite3_column_int64(q, 8);
        c.last_ns = (uint64_t)sqlite3_column_int64(q, 9);
        c.outcome[DS_PKT_BAD_TIMESTAMP] = (uint64_t)sqlite3_column_int64(q, 10);
        for (int e = 0; e < DS_ENC__COUNT; e++)
            c.encap[e] = (uint64_t)sqlite3_column_int64(q, 11 + e);
        rc = fn(ctx, sqlite3_column_int64(q, 0), &c, err);
    }
    if (rc == DS_OK && st != SQLITE_DONE)
        rc = fail(db, err, "counts");
    sqlite3_finalize(q);
    return rc;
}
