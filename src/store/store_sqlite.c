/* store_sqlite.c: the SQLite storage backend.
 *
 * One database file in WAL mode (readers never block the writer, and a crash mid-write leaves
 * the last committed state).  Aggregates are chunks of fixed-size records (core/records.h), one
 * row per (file, sensor, day, kind): ingesting a 16 M-packet file writes a few hundred rows, not
 * millions, and a quarter's `top` reads a few thousand chunks in index order.
 *
 * Chunks are zstd frames (level 1): the records are regular enough to shrink about 5x, and
 * compressing at ~400 MB/s costs less than writing the raw bytes.
 *
 * The chunk file.  A store on disk at PATH keeps the frames themselves in PATH-chunks, an
 * append-only file beside the database, and each chunk row holds only where its frame lies (a
 * 16-byte locator: offset and length, little-endian; codec CODEC_ZSTD_FILE).  Why: as BLOBs,
 * every byte went through SQLite's pager four times (the page cache, the WAL, the checkpoint's
 * read of the WAL, the database) in 16 KiB pages, about 11,000 pwrite() calls for the 55 MB of a
 * 16 M-packet file, and the commit took 0.36-0.42 s of a 2.5 s ingest; with the rows alone it
 * took 0.02 s.  The frames now go to the chunk file in one pwrite() each, once.
 *
 * How a transaction uses it (all under BEGIN IMMEDIATE, so one writer at a time):
 *   - meta.chunks_end is the committed length of the chunk file.  The first chunk of a
 *     transaction cuts the file back to it: bytes past it were appended by a writer that was
 *     killed or rolled back, and no committed row points at them.  (No reader can either: a
 *     reader's rows come from a snapshot whose chunks_end is at most this one.)
 *   - Frames are appended past chunks_end.
 *   - commit: fdatasync() the chunk file, then set meta.chunks_end, then COMMIT.  The frames
 *     are on disk before any row that points at them can be, so with synchronous=NORMAL a power
 *     cut may lose the last commit but never leaves a row pointing at bytes that are not there.
 *   - rollback: cut the file back to where the transaction began, while the write lock is
 *     still held (once ROLLBACK releases it, another writer may be appending there).
 * A store kept in memory (no file name) has no chunk file and keeps frames as BLOBs
 * (CODEC_ZSTD), which is also what stores of schema version 2 hold.  Both are read; a version 2
 * store becomes version 3 with its first chunk written to a chunk file (older darkscopes then
 * refuse it with a clear message instead of misreading the locators).  Rows deleted by hand
 * (docs/store.md) leave their frames in the chunk file: its space is not reclaimed.
 *
 * Each file is one transaction taken with BEGIN IMMEDIATE: the duplicate check, the chunk rows
 * and the file row commit together or not at all.  A second writer waits (busy_timeout) rather
 * than failing.
 *
 * Files: this one is the chunk engine (writing a file's rows, scanning chunks, the op tables);
 * sqlite_open.c opens a store and keeps its schema; sqlite_chunkfile.c is the chunk file,
 * sqlite_cache.c the read cache (sqlite_engine.h: the handle they share); store_files.c the
 * files table's look-ups; sqlite_coverage.c, sqlite_months.c, sqlite_ledger.c and
 * sqlite_payloads.c the tables of their names.
 */
#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <xxhash.h>
#include <zstd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "store/sqlite_coverage.h"
#include "store/sqlite_engine.h"
#include "store/sqlite_int.h"
#include "store/sqlite_months.h"
#include "store/store.h"
#include "store/store_files.h"
#include "util/grow.h"




static ds_rc sq_begin(ds_store *base, const ds_file_meta *f, int64_t *file_id, ds_err *err)
{
    sqlite_store *s = (sqlite_store *)base;
    sqlite3_stmt *q = NULL;
    ds_rc rc;
    ds_sqcache_clear(&s->cache);
    if ((rc = ds_sq_exec(s, "BEGIN IMMEDIATE", err)) != DS_OK)
        return rc;
    s->in_tx = 1;
    s->ext_start = NO_TX_END;
    if (!f->force && (rc = ds_sqfiles_dup(s->db, f, NULL, err)) != DS_OK)
        goto out;
    if (sqlite3_prepare_v2(s->db, "INSERT INTO files(hash, path, bytes, records, truncated, ingested_at, prefix_hash) VALUES(?,?,?,?,?,?,?)",
                           -1, &q, NULL) != SQLITE_OK) {
        rc = ds_sq_fail(s, err, "files");
        goto out;
    }
    sqlite3_bind_blob(q, 1, f->hash, 16, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, f->path, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 3, (sqlite3_int64)f->bytes);
    sqlite3_bind_int64(q, 4, (sqlite3_int64)f->records);
    sqlite3_bind_int(q, 5, f->truncated);
    sqlite3_bind_int64(q, 6, (sqlite3_int64)time(NULL));
    if (f->have_prefix)   /* how the next file finds it before decoding (store_files.c) */
        sqlite3_bind_blob(q, 7, f->prefix_hash, 16, SQLITE_STATIC);
    if (sqlite3_step(q) != SQLITE_DONE) {
        rc = ds_sq_fail(s, err, "files");
        goto out;
    }
    *file_id = sqlite3_last_insert_rowid(s->db);
    rc = DS_OK;
out:
    sqlite3_finalize(q);
    if (rc != DS_OK) {
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
        s->in_tx = 0;
    }
    return rc;
}

static ds_rc sq_sensor_upsert(ds_store *base, const ds_sensor_info *info, int64_t *id, ds_err *err)
{
    sqlite_store *s = (sqlite_store *)base;
    sqlite3_stmt *q = NULL;
    ds_rc rc = DS_OK;
    if (sqlite3_prepare_v2(s->db,
                           "INSERT INTO sensors(name, darknet, v4_addresses) VALUES(?,?,?) ON CONFLICT(name) DO UPDATE "
                           "SET darknet=excluded.darknet, v4_addresses=excluded.v4_addresses RETURNING id",
                           -1, &q, NULL) != SQLITE_OK)
        return ds_sq_fail(s, err, "sensors");
    sqlite3_bind_text(q, 1, info->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, info->darknet, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 3, (sqlite3_int64)info->v4_addresses);
    if (sqlite3_step(q) == SQLITE_ROW)
        *id = sqlite3_column_int64(q, 0);
    else
        rc = ds_sq_fail(s, err, "sensors");
    sqlite3_finalize(q);
    return rc;
}

/* The one INSERT of a chunk row, whatever its codec. */
static ds_rc insert_chunk(sqlite_store *s, int64_t file_id, int64_t sensor_id, int32_t day, int kind, size_t nrec,
                          int codec, const uint8_t *blob, size_t len, ds_err *err)
{
    sqlite3_stmt *q = s->put_chunk;
    uint8_t loc[LOCATOR_LEN];
    if (codec == CODEC_ZSTD && s->ext_path) {   /* the frame to the chunk file, its place to the row */
        uint64_t off = 0;
        ds_rc rc = ds_sqext_append(s, blob, len, &off, err);
        if (rc != DS_OK)
            return rc;
        ds_sq_put_le64(loc, off);
        ds_sq_put_le64(loc + 8, len);
        codec = CODEC_ZSTD_FILE;
        blob = loc;
        len = sizeof loc;
    }
    sqlite3_reset(q);
    sqlite3_bind_int(q, 1, kind);
    sqlite3_bind_int(q, 2, day);
    sqlite3_bind_int64(q, 3, sensor_id);
    sqlite3_bind_int64(q, 4, file_id);
    sqlite3_bind_int64(q, 5, (sqlite3_int64)nrec);
    sqlite3_bind_int(q, 6, codec);
    sqlite3_bind_blob(q, 7, blob, (int)len, SQLITE_STATIC);
    ds_rc rc = sqlite3_step(q) == SQLITE_DONE ? DS_OK : ds_sq_fail(s, err, "write chunk");
    sqlite3_reset(q);
    /* a day's rollups outdate its month's (after the insert: the largest row id is then this one);
     * a file writes the four dimensions of a (sensor, day) together, so once, with ROLLUP_ALL */
    if (rc == DS_OK && kind == DS_CHUNK_ROLLUP_ALL)
        rc = ds_sqlite_months_drop(s->db, sensor_id, day, err);
    return rc;
}

static ds_rc sq_put_chunk(ds_store *base, int64_t file_id, int64_t sensor_id, int32_t day, int kind,
                          const uint8_t *data, size_t nrec, size_t recsize, ds_err *err)
{
    sqlite_store *s = (sqlite_store *)base;
    if (!recsize || recsize != ds_rec_size(kind))
        return ds_fail(err, DS_EINVAL, "store: unknown chunk kind %d (record size %zu)", kind, recsize);
    if (nrec == 0)
        return DS_OK;   /* nothing to keep; readers never see an empty chunk */
    if (nrec > (size_t)INT32_MAX / recsize)
        return ds_fail(err, DS_ENOMEM, "store: a chunk of %zu records is larger than SQLite's BLOB limit", nrec);
    size_t raw = nrec * recsize;
    if ((!s->zc && !(s->zc = ZSTD_createCCtx())) || ds_sq_buf_need(&s->zbuf, &s->zcap, ZSTD_compressBound(raw)) != 0)
        return ds_fail(err, DS_ENOMEM, "store: out of memory compressing a chunk");
    size_t zlen = ZSTD_compressCCtx(s->zc, s->zbuf, s->zcap, data, raw, CHUNK_ZSTD_LEVEL);
    if (ZSTD_isError(zlen))
        return ds_fail(err, DS_ESTORE, "store: zstd: %s", ZSTD_getErrorName(zlen));
    return insert_chunk(s, file_id, sensor_id, day, kind, nrec, CODEC_ZSTD, s->zbuf, zlen, err);
}

static ds_rc sq_put_chunk_zstd(ds_store *base, int64_t file_id, int64_t sensor_id, int32_t day, int kind,
                               const uint8_t *frame, size_t framelen, size_t nrec, ds_err *err)
{
    sqlite_store *s = (sqlite_store *)base;
    size_t recsize = ds_rec_size(kind);
    if (!recsize)
        return ds_fail(err, DS_EINVAL, "store: unknown chunk kind %d", kind);
    if (nrec == 0)
        return DS_OK;
    /* the frame must say it holds exactly nrec records, or readers would call it damaged */
    unsigned long long content = ZSTD_getFrameContentSize(frame, framelen);
    if (nrec > (size_t)INT32_MAX / recsize || framelen > (size_t)INT32_MAX || content != (unsigned long long)nrec * recsize)
        return ds_fail(err, DS_EINVAL, "store: a compressed chunk of kind %d does not hold %zu records", kind, nrec);
    return insert_chunk(s, file_id, sensor_id, day, kind, nrec, CODEC_ZSTD, frame, framelen, err);
}

static ds_rc sq_put_counts(ds_store *base, int64_t file_id, int64_t sensor_id, const ds_agg_counts *c, ds_err *err)
{
    sqlite_store *s = (sqlite_store *)base;
    sqlite3_stmt *q = NULL;
    ds_rc rc = DS_OK;
    /* columns named: an added column comes last in an old store, elsewhere in a new one */
    if (sqlite3_prepare_v2(s->db,
                           "INSERT INTO counts(file_id, sensor_id, packets, outside, non_ip, truncated, fragment, malformed,"
                           " unknown_link, first_ns, last_ns, bad_timestamp, " ENC_COLUMNS ")"
                           " VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                           -1, &q, NULL) != SQLITE_OK)
        return ds_sq_fail(s, err, "counts");
    sqlite3_int64 v[] = { file_id, sensor_id, (sqlite3_int64)c->packets, (sqlite3_int64)c->outside,
                          (sqlite3_int64)c->outcome[DS_PKT_NON_IP], (sqlite3_int64)c->outcome[DS_PKT_TRUNCATED],
                          (sqlite3_int64)c->outcome[DS_PKT_FRAGMENT], (sqlite3_int64)c->outcome[DS_PKT_MALFORMED],
                          (sqlite3_int64)c->outcome[DS_PKT_UNKNOWN_LINK], (sqlite3_int64)c->first_ns,
                          (sqlite3_int64)c->last_ns, (sqlite3_int64)c->outcome[DS_PKT_BAD_TIMESTAMP] };
    int nv = (int)(sizeof v / sizeof v[0]);
    for (int i = 0; i < nv; i++)
        sqlite3_bind_int64(q, i + 1, v[i]);
    for (int i = 0; i < DS_ENC__COUNT; i++)
        sqlite3_bind_int64(q, nv + i + 1, (sqlite3_int64)c->encap[i]);
    if (sqlite3_step(q) != SQLITE_DONE)
        rc = ds_sq_fail(s, err, "counts");
    sqlite3_finalize(q);
    return rc;
}

static ds_rc sq_commit(ds_store *base, ds_err *err)
{
    sqlite_store *s = (sqlite_store *)base;
    ds_rc rc = ds_sqext_commit(s, err);
    if (rc == DS_OK)
        rc = ds_sq_exec(s, "COMMIT", err);
    if (rc != DS_OK) {   /* a failed COMMIT leaves the transaction open: cut back, then roll back */
        ds_sqext_cut_back(s);
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
        ds_sqcache_clear(&s->cache);
    } else if (ds_sqext_wrote(s) && s->schema < 3) {
        s->schema = 3;
    }
    s->ext_start = NO_TX_END;
    s->in_tx = 0;
    return rc;
}

static void sq_rollback(ds_store *base)
{
    sqlite_store *s = (sqlite_store *)base;
    if (s->in_tx) {
        ds_sqext_cut_back(s);   /* before ROLLBACK releases the write lock: see ext_cut_back */
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    }
    s->in_tx = 0;
    ds_sqcache_clear(&s->cache);
}

static ds_rc sq_file_priors(ds_store *base, const ds_file_meta *f, ds_file_prior *prior, size_t max, size_t *n,
                            ds_err *err)
{
    return ds_sqfiles_priors(((sqlite_store *)base)->db, f, prior, max, n, err);
}

static ds_rc sq_file_check(ds_store *base, const ds_file_meta *f, uint64_t *packets, ds_err *err)
{
    if (packets)
        *packets = 0;
    return f->force ? DS_OK : ds_sqfiles_dup(((sqlite_store *)base)->db, f, packets, err);
}

static ds_rc sq_supersede(ds_store *base, int64_t file_id, const ds_file_prior *old, ds_err *err)
{
    sqlite_store *s = (sqlite_store *)base;
    if (!s->in_tx)
        return ds_fail(err, DS_EINVAL, "store %s: supersede outside a file's transaction", ds_sq_name(s));
    ds_rc rc = ds_sqlite_months_drop_file(s->db, old->id, err);
    return rc != DS_OK ? rc : ds_sqfiles_supersede(s->db, file_id, old, err);
}

static ds_rc sq_month_sig(ds_store *base, int64_t sensor_id, int32_t month, uint64_t sig[2], ds_err *err)
{
    return ds_sqlite_months_sig(((sqlite_store *)base)->db, sensor_id, month, sig, err);
}

static ds_rc sq_month_put(ds_store *base, int64_t sensor_id, int32_t month, const uint64_t sig[2],
                          uint8_t *const data[4], const size_t len[4], int *stale, ds_err *err)
{
    sqlite_store *s = (sqlite_store *)base;
    uint64_t now[2];
    ds_rc rc;
    *stale = 0;
    if (s->in_tx)
        return ds_fail(err, DS_EINVAL, "store %s: month rollups written inside a file's transaction", ds_sq_name(s));
    if ((rc = ds_sq_exec(s, "BEGIN IMMEDIATE", err)) != DS_OK)
        return rc;
    s->in_tx = 1;
    s->ext_start = NO_TX_END;
    if ((rc = ds_sqlite_months_sig(s->db, sensor_id, month, now, err)) != DS_OK)
        goto fail;
    if (now[0] != sig[0] || now[1] != sig[1]) {   /* a file came in since the build read the days */
        *stale = 1;
        sq_rollback(base);
        return DS_OK;
    }
    if ((rc = ds_sqlite_months_drop(s->db, sensor_id, month, err)) != DS_OK)
        goto fail;
    /* the frames go to the chunk file like any chunk's (a blob of tens of MB read through the
     * pager took 0.2 s); a month rebuilt leaves its old frames there, as a superseded file does */
    for (int dim = 0; dim < 4; dim++)
        if ((rc = sq_put_chunk(base, 0, sensor_id, month, DS_CHUNK_MONTH_SERVICE + dim, data[dim], len[dim], 1, err)) !=
            DS_OK)
            goto fail;
    return sq_commit(base, err);
fail:
    sq_rollback(base);
    return rc;
}

/* One file's DETECT and CROSS chunks, built from its records (sqlite_derive.c), in one
 * transaction: a file has them all or none. */
static ds_rc sq_derive_file(sqlite_store *s, const ds_sq_derive_row *rows, size_t n, ds_sq_derive_work *w, ds_err *err)
{
    ds_store *base = &s->base;
    ds_rc rc;
    if ((rc = ds_sq_exec(s, "BEGIN IMMEDIATE", err)) != DS_OK)
        return rc;
    s->in_tx = 1;
    s->ext_start = NO_TX_END;
    for (size_t i = 0; i < n; i++) {
        const uint8_t *data[2];
        size_t nrec[2];
        if ((rc = ds_sqlite_derive_build(s, &rows[i], w, data, nrec, err)) != DS_OK)
            goto fail;
        if (rows[i].need_detect &&
            (rc = sq_put_chunk(base, rows[i].file_id, rows[i].sensor_id, rows[i].day, DS_CHUNK_DETECT, data[0], nrec[0],
                               1, err)) != DS_OK)
            goto fail;
        if (rows[i].need_cross && nrec[1] &&
            (rc = sq_put_chunk(base, rows[i].file_id, rows[i].sensor_id, rows[i].day, DS_CHUNK_CROSS, data[1], nrec[1],
                               DS_REC_CROSS, err)) != DS_OK)
            goto fail;
    }
    return sq_commit(base, err);
fail:
    sq_rollback(base);
    return rc;
}

/* `store init|migrate`: the DETECT and CROSS chunks files ingested before them lack. */
static ds_rc sq_migrate(ds_store *base, const ds_migrate_opts *o, char *note, size_t notelen, ds_err *err)
{
    sqlite_store *s = (sqlite_store *)base;
    ds_sq_derive_row *rows = NULL;
    size_t n = 0, built = 0;
    ds_sq_derive_work w = { 0 };
    if (o->ttl_raw_days || o->ttl_rollup_days)
        return ds_fail(err, DS_EINVAL, "[store] ttl_raw_days and ttl_rollup_days apply to a ClickHouse store only "
                       "(the sqlite store keeps every day)");
    if (s->in_tx)
        return ds_fail(err, DS_EINVAL, "store %s: derived chunks built inside a file's transaction", ds_sq_name(s));
    ds_rc rc = ds_sqlite_derive_lacking(s, &rows, &n, err);
    for (size_t i = 0, j; rc == DS_OK && i < n; i = j) {
        for (j = i + 1; j < n && rows[j].file_id == rows[i].file_id; j++)
            ;
        if ((rc = sq_derive_file(s, rows + i, j - i, &w, err)) == DS_OK)
            built += j - i;
    }
    if (built && notelen)
        snprintf(note, notelen, "detector inputs and cross chunks built for %zu (file, sensor, day)s", built);
    ds_sqlite_derive_work_free(&w);
    free(rows);
    return rc;
}

static ds_rc sq_month_missing(ds_store *base, int32_t today, ds_sensor_day **rows, size_t *n, ds_err *err)
{
    return ds_sqlite_months_missing(((sqlite_store *)base)->db, today, rows, n, err);
}

static ds_rc sq_scan(ds_store *base, int kind, int64_t sensor_id, int32_t from, int32_t to, ds_scan_fn fn,
                     void *ctx, ds_err *err)
{
    sqlite_store *s = (sqlite_store *)base;
    sqlite3_stmt *q = NULL;
    ds_rc rc = DS_OK;
    int fill = !(kind & DS_SCAN_NOFILL);   /* else misses are decompressed into zbuf, reused */
    kind &= ~DS_SCAN_NOFILL;
    size_t recsize = ds_rec_size(kind);
    const char *sql = sensor_id > 0
        ? "SELECT sensor_id, day, nrec, data, codec, id FROM chunks WHERE kind=?1 AND day BETWEEN ?2 AND ?3 AND sensor_id=?4 ORDER BY day"
        : "SELECT sensor_id, day, nrec, data, codec, id FROM chunks WHERE kind=?1 AND day BETWEEN ?2 AND ?3 ORDER BY day";
    if (sqlite3_prepare_v2(s->db, sql, -1, &q, NULL) != SQLITE_OK)
        return ds_sq_fail(s, err, "scan");
    sqlite3_bind_int(q, 1, kind);
    sqlite3_bind_int(q, 2, from);
    sqlite3_bind_int(q, 3, to);
    if (sensor_id > 0)
        sqlite3_bind_int64(q, 4, sensor_id);
    int st;
    while ((st = sqlite3_step(q)) == SQLITE_ROW) {
        sqlite3_int64 nrec = sqlite3_column_int64(q, 2), id = sqlite3_column_int64(q, 5);
        const cached_chunk *hit = ds_sqcache_get(&s->cache, id);
        if (hit) {   /* the row was checked when it was cached: len == nrec * recsize */
            if ((rc = fn(ctx, sqlite3_column_int64(q, 0), sqlite3_column_int(q, 1), hit->data, (size_t)nrec, err)) != DS_OK)
                goto out;
            continue;
        }
        /* the blob is read only on a miss: sqlite3_column_blob pages it in */
        const uint8_t *z = sqlite3_column_blob(q, 3);
        size_t zlen = (size_t)sqlite3_column_bytes(q, 3), len = 0;
        int codec = sqlite3_column_int(q, 4);
        if (codec == CODEC_ZSTD_FILE) {
            if ((rc = ds_sqext_read(s, z, zlen, kind, sqlite3_column_int(q, 1), &z, &zlen, err)) != DS_OK)
                goto out;
            codec = CODEC_ZSTD;
        }
        if (nrec >= 0 && recsize && (uint64_t)nrec <= (uint64_t)INT32_MAX / recsize) {
            len = (size_t)nrec * recsize;
            if ((!s->zd && !(s->zd = ZSTD_createDCtx())) || ds_sq_buf_need(&s->zbuf, &s->zcap, len + 1) != 0) {
                rc = ds_fail(err, DS_ENOMEM, "store: out of memory reading a chunk");
                goto out;
            }
        }
        const uint8_t *data = s->zbuf;
        uint8_t *keep = NULL;
        size_t got = 0;
        if (codec == CODEC_RAW) {
            data = z;
            got = zlen;
        } else if (codec == CODEC_ZSTD && len && z) {
            if (fill && (keep = ds_sqcache_reserve(&s->cache, len)) != NULL) {
                got = ZSTD_decompressDCtx(s->zd, keep, len, z, zlen);
                data = keep;
            } else {
                got = ZSTD_decompressDCtx(s->zd, s->zbuf, s->zcap, z, zlen);
            }
        }
        if (keep && (ZSTD_isError(got) || got != len)) {
            ds_sqcache_unreserve(&s->cache, len);
            keep = NULL;
        }
        if (!len || ZSTD_isError(got) || got != len) {
            rc = ds_fail(err, DS_ESTORE, "store %s: chunk of kind %d on day %d is damaged (%zu bytes, %lld records)",
                         ds_sq_name(s), kind, sqlite3_column_int(q, 1), zlen, (long long)nrec);
            goto out;
        }
        if (keep)
            ds_sqcache_put(&s->cache, id, keep);
        if ((rc = fn(ctx, sqlite3_column_int64(q, 0), sqlite3_column_int(q, 1), data, (size_t)nrec, err)) != DS_OK)
            goto out;
    }
    if (st != SQLITE_DONE)
        rc = ds_sq_fail(s, err, "scan");
out:
    sqlite3_finalize(q);
    return rc;
}

static ds_rc sq_put_coverage(ds_store *base, const ds_coverage_row *row, ds_err *err)
{
    sqlite_store *s = (sqlite_store *)base;
    return ds_sqlite_coverage_put(s->db, ds_sq_name(s), row, err);
}

static ds_rc sq_coverage_span(ds_store *base, uint64_t *first_ns, uint64_t *last_ns, ds_err *err)
{
    sqlite_store *s = (sqlite_store *)base;
    return ds_sqlite_coverage_span(s->db, ds_sq_name(s), first_ns, last_ns, err);
}

static ds_rc sq_coverage_scan(ds_store *base, uint64_t from_ns, uint64_t to_ns, ds_coverage_fn fn, void *ctx,
                              ds_err *err)
{
    sqlite_store *s = (sqlite_store *)base;
    return ds_sqlite_coverage_scan(s->db, ds_sq_name(s), from_ns, to_ns, fn, ctx, err);
}


static ds_rc sq_chunks_lacking(ds_store *base, int have, int need, int64_t sensor_id, int32_t from, int32_t to,
                               ds_sensor_day **rows, size_t *n, ds_err *err)
{
    sqlite_store *s = (sqlite_store *)base;
    sqlite3_stmt *q = NULL;
    ds_rc rc = DS_OK;
    size_t cap = 0;
    *rows = NULL;
    *n = 0;
    /* the inner probe walks the (kind, day, sensor_id) index: one file's few chunks of that key */
    const char *sql =
        "SELECT DISTINCT a.sensor_id, a.day FROM chunks a WHERE a.kind=?1 AND a.day BETWEEN ?3 AND ?4"
        " AND (?5 = 0 OR a.sensor_id=?5) AND NOT EXISTS (SELECT 1 FROM chunks b WHERE b.kind=?2 AND b.day=a.day"
        " AND b.sensor_id=a.sensor_id AND b.file_id=a.file_id) ORDER BY a.sensor_id, a.day";
    if (sqlite3_prepare_v2(s->db, sql, -1, &q, NULL) != SQLITE_OK)
        return ds_sq_fail(s, err, "chunks lacking");
    sqlite3_bind_int(q, 1, have);
    sqlite3_bind_int(q, 2, need);
    sqlite3_bind_int(q, 3, from);
    sqlite3_bind_int(q, 4, to);
    sqlite3_bind_int64(q, 5, sensor_id > 0 ? sensor_id : 0);
    int st;
    while ((st = sqlite3_step(q)) == SQLITE_ROW) {
        ds_sensor_day *r = ds_sqlite_row_append((void **)rows, n, &cap, sizeof *r);
        if (!r) {
            rc = ds_fail(err, DS_ENOMEM, "out of memory");
            goto out;
        }
        r->sensor_id = sqlite3_column_int64(q, 0);
        r->day = sqlite3_column_int(q, 1);
    }
    if (st != SQLITE_DONE)
        rc = ds_sq_fail(s, err, "chunks lacking");
out:
    sqlite3_finalize(q);
    if (rc != DS_OK) {
        free(*rows);
        *rows = NULL;
        *n = 0;
    }
    return rc;
}

static ds_rc sq_day_span(ds_store *base, int32_t *first, int32_t *last, ds_err *err)
{
    sqlite_store *s = (sqlite_store *)base;
    sqlite3_stmt *q = NULL;
    ds_rc rc = DS_ENOTFOUND;
    /* min/max over the (kind, day) index: two index probes */
    if (sqlite3_prepare_v2(s->db, "SELECT (SELECT min(day) FROM chunks WHERE kind=1), (SELECT max(day) FROM chunks WHERE kind=1)",
                           -1, &q, NULL) != SQLITE_OK)
        return ds_sq_fail(s, err, "day span");
    if (sqlite3_step(q) == SQLITE_ROW && sqlite3_column_type(q, 0) != SQLITE_NULL) {
        *first = sqlite3_column_int(q, 0);
        *last = sqlite3_column_int(q, 1);
        rc = DS_OK;
    }
    sqlite3_finalize(q);
    return rc;
}

/* Room for one more row in a growing result array (*rows, *n used, *cap allocated); NULL when
 * memory runs out.  The new row is zeroed. */
void *ds_sqlite_row_append(void **rows, size_t *n, size_t *cap, size_t size)
{
    return ds_grow_push(rows, n, cap, size, 8);
}

static ds_rc sq_sensors(ds_store *base, ds_sensor_info **rows, size_t *n, ds_err *err)
{
    sqlite_store *s = (sqlite_store *)base;
    sqlite3_stmt *q = NULL;
    ds_rc rc = DS_OK;
    size_t cap = 0;
    *rows = NULL;
    *n = 0;
    if (sqlite3_prepare_v2(s->db, "SELECT id, name, darknet, v4_addresses FROM sensors ORDER BY name", -1, &q, NULL) != SQLITE_OK)
        return ds_sq_fail(s, err, "sensors");
    while (sqlite3_step(q) == SQLITE_ROW) {
        ds_sensor_info *r = ds_sqlite_row_append((void **)rows, n, &cap, sizeof *r);
        if (!r) {
            rc = ds_fail(err, DS_ENOMEM, "out of memory");
            break;
        }
        r->id = sqlite3_column_int64(q, 0);
        snprintf(r->name, sizeof r->name, "%s", (const char *)sqlite3_column_text(q, 1));
        snprintf(r->darknet, sizeof r->darknet, "%s", (const char *)sqlite3_column_text(q, 2));
        r->v4_addresses = (uint64_t)sqlite3_column_int64(q, 3);
    }
    sqlite3_finalize(q);
    return rc;
}

static ds_rc sq_sensor_stats(ds_store *base, ds_sensor_stats **rows, size_t *n, ds_err *err)
{
    sqlite_store *s = (sqlite_store *)base;
    sqlite3_stmt *q = NULL;
    ds_rc rc = DS_OK;
    size_t cap = 0;
    *rows = NULL;
    *n = 0;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT c.sensor_id, coalesce(s.name, '-'), sum(packets), sum(outside), sum(non_ip), sum(c.truncated),"
                           " sum(fragment), sum(malformed), sum(unknown_link), min(nullif(first_ns, 0)), max(last_ns),"
                           " count(DISTINCT file_id), sum(bad_timestamp), " ENC_SUMS " FROM counts c LEFT JOIN sensors s ON s.id = c.sensor_id"
                           " GROUP BY c.sensor_id ORDER BY c.sensor_id = 0, s.name",
                           -1, &q, NULL) != SQLITE_OK)
        return ds_sq_fail(s, err, "stats");
    while (sqlite3_step(q) == SQLITE_ROW) {
        ds_sensor_stats *r = ds_sqlite_row_append((void **)rows, n, &cap, sizeof *r);
        if (!r) {
            rc = ds_fail(err, DS_ENOMEM, "out of memory");
            break;
        }
        r->sensor_id = sqlite3_column_int64(q, 0);
        snprintf(r->name, sizeof r->name, "%s", (const char *)sqlite3_column_text(q, 1));
        r->c.packets = (uint64_t)sqlite3_column_int64(q, 2);
        r->c.outside = (uint64_t)sqlite3_column_int64(q, 3);
        r->c.outcome[DS_PKT_NON_IP] = (uint64_t)sqlite3_column_int64(q, 4);
        r->c.outcome[DS_PKT_TRUNCATED] = (uint64_t)sqlite3_column_int64(q, 5);
        r->c.outcome[DS_PKT_FRAGMENT] = (uint64_t)sqlite3_column_int64(q, 6);
        r->c.outcome[DS_PKT_MALFORMED] = (uint64_t)sqlite3_column_int64(q, 7);
        r->c.outcome[DS_PKT_UNKNOWN_LINK] = (uint64_t)sqlite3_column_int64(q, 8);
        r->c.first_ns = (uint64_t)sqlite3_column_int64(q, 9);
        r->c.last_ns = (uint64_t)sqlite3_column_int64(q, 10);
        r->files = (uint64_t)sqlite3_column_int64(q, 11);
        r->c.outcome[DS_PKT_BAD_TIMESTAMP] = (uint64_t)sqlite3_column_int64(q, 12);
        for (int e = 0; e < DS_ENC__COUNT; e++)
            r->c.encap[e] = (uint64_t)sqlite3_column_int64(q, 13 + e);
    }
    sqlite3_finalize(q);
    return rc;
}

/* ---- collector ledger and first payloads: sqlite_ledger.c, sqlite_payloads.c ---- */

static ds_rc sq_segment_get(ds_store *base, const char *sensor, uint64_t seq, ds_segment_rec *out, ds_err *err)
{
    return ds_sqlite_segment_get(((sqlite_store *)base)->db, sensor, seq, out, err);
}

static ds_rc sq_ledger_put(ds_store *base, const ds_segment_rec *seg, const ds_sensor_health *h, ds_err *err)
{
    return ds_sqlite_ledger_put(((sqlite_store *)base)->db, seg, h, err);
}

static ds_rc sq_sensor_health(ds_store *base, ds_sensor_health **rows, size_t *n, ds_err *err)
{
    return ds_sqlite_sensor_health(((sqlite_store *)base)->db, rows, n, err);
}

static ds_rc sq_segments_list(ds_store *base, const char *sensor, int64_t from, int64_t to, ds_segment_rec **rows,
                              size_t *n, ds_err *err)
{
    return ds_sqlite_segments_list(((sqlite_store *)base)->db, sensor, from, to, rows, n, err);
}

static ds_rc sq_payloads_put(ds_store *base, const ds_payload_batch *b, ds_err *err)
{
    return ds_sqlite_payloads_put(((sqlite_store *)base)->db, b, err);
}

static ds_rc sq_payloads_query(ds_store *base, const ds_payload_query *q, ds_payload_row **rows, size_t *n,
                               uint64_t *total, ds_err *err)
{
    return ds_sqlite_payloads_query(((sqlite_store *)base)->db, q, rows, n, total, err);
}

static const ds_store_writer_ops sq_writer = {
    .meta_set = ds_sq_meta_set,
    .begin = sq_begin,
    .sensor_upsert = sq_sensor_upsert,
    .put_chunk = sq_put_chunk,
    .put_chunk_zstd = sq_put_chunk_zstd,
    .put_counts = sq_put_counts,
    .put_coverage = sq_put_coverage,
    .commit = sq_commit,
    .rollback = sq_rollback,
    .file_priors = sq_file_priors,
    .file_check = sq_file_check,
    .supersede = sq_supersede,
};

static const ds_store_reader_ops sq_reader = {
    .meta_get = ds_sq_meta_get,
    .scan = sq_scan,
    .chunks_lacking = sq_chunks_lacking,
    .day_span = sq_day_span,
    .coverage_span = sq_coverage_span,
    .coverage_scan = sq_coverage_scan,
    .sensors = sq_sensors,
    .sensor_stats = sq_sensor_stats,
};

static const ds_store_ledger_ops sq_ledger = {
    .segment_get = sq_segment_get,
    .ledger_put = sq_ledger_put,
    .sensor_health = sq_sensor_health,
    .segments_list = sq_segments_list,
};

static const ds_store_payload_ops sq_payloads = {
    .payloads_put = sq_payloads_put,
    .payloads_query = sq_payloads_query,
};

/* ---- store copy: a file's rows (ds_store_dump_ops) ---- */

static ds_rc sq_files(ds_store *base, ds_stored_file **rows, size_t *n, ds_err *err)
{
    return ds_sqfiles_list(((sqlite_store *)base)->db, rows, n, err);
}

static ds_rc sq_file_counts(ds_store *base, int64_t file_id, ds_dump_counts_fn fn, void *ctx, ds_err *err)
{
    return ds_sqfiles_counts(((sqlite_store *)base)->db, file_id, fn, ctx, err);
}

ds_rc ds_sq_chunk_records(sqlite_store *s, const uint8_t *z, size_t zlen, int codec, int kind, int day, int64_t nrec,
                          const uint8_t **data, ds_err *err)
{
    size_t recsize = ds_rec_size(kind), len = 0, got = 0;
    *data = NULL;
    if (codec == CODEC_ZSTD_FILE) {
        ds_rc rc = ds_sqext_read(s, z, zlen, kind, day, &z, &zlen, err);
        if (rc != DS_OK)
            return rc;
    }
    if (nrec > 0 && recsize && (uint64_t)nrec <= (uint64_t)INT32_MAX / recsize)
        len = (size_t)nrec * recsize;
    if (codec == CODEC_RAW) {
        *data = z;
        got = zlen;
    } else if (len && z) {
        if ((!s->zd && !(s->zd = ZSTD_createDCtx())) || ds_sq_buf_need(&s->zbuf, &s->zcap, len + 1) != 0)
            return ds_fail(err, DS_ENOMEM, "store: out of memory reading a chunk");
        got = ZSTD_decompressDCtx(s->zd, s->zbuf, s->zcap, z, zlen);
        *data = s->zbuf;
    }
    if (!len || ZSTD_isError(got) || got != len)
        return ds_fail(err, DS_ESTORE, "store %s: chunk of kind %d on day %d is damaged (%zu bytes, %lld records)",
                       ds_sq_name(s), kind, day, zlen, (long long)nrec);
    return DS_OK;
}

/* The file's chunks (kind 0 is a tombstone: store_files.c), decompressed, without the cache. */
static ds_rc sq_file_chunks(ds_store *base, int64_t file_id, ds_dump_chunk_fn fn, void *ctx, ds_err *err)
{
    sqlite_store *s = (sqlite_store *)base;
    sqlite3_stmt *q = NULL;
    ds_rc rc = DS_OK;
    if (sqlite3_prepare_v2(s->db, "SELECT sensor_id, day, kind, nrec, data, codec FROM chunks WHERE file_id = ?1 AND"
                           " kind != 0 ORDER BY id", -1, &q, NULL) != SQLITE_OK)
        return ds_sq_fail(s, err, "chunks");
    sqlite3_bind_int64(q, 1, file_id);
    int st;
    while (rc == DS_OK && (st = sqlite3_step(q)) == SQLITE_ROW) {
        int day = sqlite3_column_int(q, 1), kind = sqlite3_column_int(q, 2);
        sqlite3_int64 nrec = sqlite3_column_int64(q, 3);
        const uint8_t *data;
        if ((rc = ds_sq_chunk_records(s, sqlite3_column_blob(q, 4), (size_t)sqlite3_column_bytes(q, 4),
                                      sqlite3_column_int(q, 5), kind, day, nrec, &data, err)) != DS_OK)
            break;
        rc = fn(ctx, sqlite3_column_int64(q, 0), day, kind, data, (size_t)nrec, err);
    }
    if (rc == DS_OK && st != SQLITE_DONE)
        rc = ds_sq_fail(s, err, "chunks");
    sqlite3_finalize(q);
    return rc;
}

static const ds_store_dump_ops sq_dump = {
    .files = sq_files,
    .file_chunks = sq_file_chunks,
    .file_counts = sq_file_counts,
};

static const ds_store_month_ops sq_months = {
    .sig = sq_month_sig,
    .put = sq_month_put,
    .missing = sq_month_missing,
};

const ds_store_ops ds_store_sqlite = {
    .name = "sqlite",
    .open = ds_sq_open,
    .close = ds_sq_close,
    .reopen = ds_sq_reopen,
    .writer = &sq_writer,
    .reader = &sq_reader,
    .ledger = &sq_ledger,
    .payloads = &sq_payloads,
    .query = NULL,   /* analysis's chunk code answers (store/query.h) */
    .months = &sq_months,
    .dump = &sq_dump,
    .migrate = sq_migrate,
};
