/* store.c: choose a backend for a store location, and the wrappers every caller uses (store.h):
 * each calls the backend's part, or fills in what the backend leaves out.  A file path is a
 * SQLite store; a clickhouse:// URL a ClickHouse one (store_clickhouse.c); nothing else chooses. */
#include "store/store.h"

#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "core/records.h"

ds_rc ds_store_open(ds_store **out, const char *path, int create, ds_err *err)
{
    *out = NULL;
    if (!path || !*path)
        return ds_fail(err, DS_EINVAL, "no store path: set [store] path in the config or pass --db PATH");
    if (strncmp(path, "clickhouse://", 13) == 0)
        return ds_store_clickhouse.open(out, path, create, err);
    if (strstr(path, "://"))
        return ds_fail(err, DS_EINVAL, "%s: unknown kind of store (a file path is a SQLite store, "
                       "clickhouse://HOST:PORT/DB a ClickHouse one)", path);
    return ds_store_sqlite.open(out, path, create, err);
}

int ds_store_keeps(const ds_store *s, unsigned what)
{
    const ds_store_ops *o = s->ops;
    if ((what & DS_WRITABLE) && !o->writer)
        return 0;
    if ((what & DS_KEEPS_LEDGER) && !o->ledger)
        return 0;
    if ((what & DS_KEEPS_PAYLOADS) && !o->payloads)
        return 0;
    if ((what & DS_KEEPS_COVERAGE) && !o->reader->coverage_scan)
        return 0;
    if ((what & DS_KNOWS_ROLLUPS) && !o->reader->chunks_lacking)
        return 0;
    if ((what & DS_KEEPS_MONTHS) && !(o->months && o->writer))
        return 0;
    return 1;
}

ds_rc ds_store_migrate(ds_store *s, const ds_migrate_opts *o, char *note, size_t notelen, ds_err *err)
{
    if (notelen)
        note[0] = 0;
    if (s->ops->migrate)
        return s->ops->migrate(s, o, note, notelen, err);
    if (o->ttl_raw_days || o->ttl_rollup_days)
        return ds_fail(err, DS_EINVAL, "[store] ttl_raw_days and ttl_rollup_days apply to a ClickHouse store only "
                       "(the %s store keeps every day)", s->ops->name);
    return DS_OK;
}

ds_rc ds_store_reopen(ds_store *s, ds_store **out, ds_err *err)
{
    *out = NULL;
    if (!s->ops->reopen)
        return ds_fail(err, DS_EINVAL, "the %s store cannot open a second handle", s->ops->name);
    return s->ops->reopen(s, out, err);
}

/* ---- writer ---- */

static ds_rc read_only(const ds_store *s, ds_err *err)
{
    return ds_fail(err, DS_EINVAL, "the %s store is read-only", s->ops->name);
}

ds_rc ds_store_meta_get(ds_store *s, const char *key, char *val, size_t len, ds_err *err)
{
    return s->ops->reader->meta_get(s, key, val, len, err);
}

ds_rc ds_store_meta_set(ds_store *s, const char *key, const char *val, ds_err *err)
{
    return s->ops->writer ? s->ops->writer->meta_set(s, key, val, err) : read_only(s, err);
}

ds_rc ds_store_begin(ds_store *s, const ds_file_meta *f, int64_t *file_id, ds_err *err)
{
    return s->ops->writer ? s->ops->writer->begin(s, f, file_id, err) : read_only(s, err);
}

ds_rc ds_store_sensor_upsert(ds_store *s, const ds_sensor_info *info, int64_t *id, ds_err *err)
{
    return s->ops->writer ? s->ops->writer->sensor_upsert(s, info, id, err) : read_only(s, err);
}

ds_rc ds_store_put_chunk(ds_store *s, int64_t file_id, int64_t sensor_id, int32_t day, int kind, const uint8_t *data,
                         size_t nrec, size_t recsize, ds_err *err)
{
    if (!s->ops->writer)
        return read_only(s, err);
    return s->ops->writer->put_chunk(s, file_id, sensor_id, day, kind, data, nrec, recsize, err);
}

ds_rc ds_store_put_chunk_zstd(ds_store *s, int64_t file_id, int64_t sensor_id, int32_t day, int kind,
                              const uint8_t *frame, size_t framelen, size_t nrec, ds_err *err)
{
    const ds_store_writer_ops *w = s->ops->writer;
    if (!w)
        return read_only(s, err);
    if (w->put_chunk_zstd)
        return w->put_chunk_zstd(s, file_id, sensor_id, day, kind, frame, framelen, nrec, err);
    /* a backend that stores rows: the records, decompressed */
    size_t recsize = ds_rec_size(kind);
    if (!recsize || (nrec && nrec > SIZE_MAX / recsize))
        return ds_fail(err, DS_EINVAL, "store: a compressed chunk of kind %d and %zu records", kind, nrec);
    size_t len = nrec * recsize;
    uint8_t *data = malloc(len ? len : 1);
    if (!data)
        return ds_fail(err, DS_ENOMEM, "out of memory decompressing a chunk");
    size_t got = len ? ZSTD_decompress(data, len, frame, framelen) : 0;
    ds_rc rc;
    if (ZSTD_isError(got) || got != len)
        rc = ds_fail(err, DS_EINVAL, "store: a compressed chunk of kind %d does not hold %zu records", kind, nrec);
    else
        rc = w->put_chunk(s, file_id, sensor_id, day, kind, data, nrec, recsize, err);
    free(data);
    return rc;
}

ds_rc ds_store_put_counts(ds_store *s, int64_t file_id, int64_t sensor_id, const ds_agg_counts *c, ds_err *err)
{
    return s->ops->writer ? s->ops->writer->put_counts(s, file_id, sensor_id, c, err) : read_only(s, err);
}

ds_rc ds_store_put_coverage(ds_store *s, const ds_coverage_row *row, ds_err *err)
{
    if (!s->ops->writer)
        return read_only(s, err);
    return s->ops->writer->put_coverage ? s->ops->writer->put_coverage(s, row, err) : DS_OK;
}

ds_rc ds_store_commit(ds_store *s, ds_err *err)
{
    return s->ops->writer ? s->ops->writer->commit(s, err) : read_only(s, err);
}

void ds_store_rollback(ds_store *s)
{
    if (s->ops->writer)
        s->ops->writer->rollback(s);
}

ds_rc ds_store_file_priors(ds_store *s, const ds_file_meta *f, ds_file_prior *prior, size_t max, size_t *n,
                           ds_err *err)
{
    *n = 0;
    if (!s->ops->writer)
        return read_only(s, err);
    return s->ops->writer->file_priors ? s->ops->writer->file_priors(s, f, prior, max, n, err) : DS_OK;
}

ds_rc ds_store_file_check(ds_store *s, const ds_file_meta *f, uint64_t *packets, ds_err *err)
{
    if (!s->ops->writer)
        return read_only(s, err);
    return s->ops->writer->file_check ? s->ops->writer->file_check(s, f, packets, err) : DS_OK;
}

ds_rc ds_store_supersede(ds_store *s, int64_t file_id, const ds_file_prior *old, ds_err *err)
{
    if (!s->ops->writer)
        return read_only(s, err);
    return s->ops->writer->supersede ? s->ops->writer->supersede(s, file_id, old, err) : DS_ENOTFOUND;
}

/* ---- one file, put once (the default over begin .. commit) ---- */

struct ds_batch_sink {
    ds_store *st;
    int64_t file_id;
    const int64_t *sensor_ids;          /* by the batch's sensor index */
    size_t nsensors;
};

static ds_rc sink_sensor(const ds_batch_sink *k, int sensor, int64_t *id, ds_err *err)
{
    if (sensor < 0 || (size_t)sensor >= k->nsensors)
        return ds_fail(err, DS_EINVAL, "store: a batch names sensor %d of %zu", sensor, k->nsensors);
    *id = k->sensor_ids[sensor];
    return DS_OK;
}

ds_rc ds_batch_put_chunk(ds_batch_sink *k, int sensor, int32_t day, int kind, const uint8_t *data, size_t nrec,
                         size_t recsize, ds_err *err)
{
    int64_t id = 0;
    ds_rc rc = sink_sensor(k, sensor, &id, err);
    return rc != DS_OK ? rc : ds_store_put_chunk(k->st, k->file_id, id, day, kind, data, nrec, recsize, err);
}

ds_rc ds_batch_put_chunk_zstd(ds_batch_sink *k, int sensor, int32_t day, int kind, const uint8_t *frame,
                              size_t framelen, size_t nrec, ds_err *err)
{
    int64_t id = 0;
    ds_rc rc = sink_sensor(k, sensor, &id, err);
    return rc != DS_OK ? rc : ds_store_put_chunk_zstd(k->st, k->file_id, id, day, kind, frame, framelen, nrec, err);
}

ds_rc ds_batch_put_counts(ds_batch_sink *k, int sensor, const ds_agg_counts *c, ds_err *err)
{
    int64_t id = 0;   /* 0: the packets no sensor owns */
    ds_rc rc = sensor < 0 ? DS_OK : sink_sensor(k, sensor, &id, err);
    return rc != DS_OK ? rc : ds_store_put_counts(k->st, k->file_id, id, c, err);
}

ds_rc ds_batch_put_coverage(ds_batch_sink *k, int sensor, const ds_coverage_row *row, ds_err *err)
{
    ds_coverage_row r = *row;
    ds_rc rc = sink_sensor(k, sensor, &r.sensor_id, err);
    r.file_id = k->file_id;
    return rc != DS_OK ? rc : ds_store_put_coverage(k->st, &r, err);
}

ds_rc ds_store_put_file(ds_store *s, const ds_file_batch *b, ds_file_put *res, ds_err *err)
{
    const ds_store_writer_ops *w = s->ops->writer;
    memset(res, 0, sizeof *res);
    if (!w)
        return read_only(s, err);
    if (w->put_file)
        return w->put_file(s, b, res, err);
    int64_t *ids = calloc(b->nsensors ? b->nsensors : 1, sizeof *ids);
    ds_batch_sink k = { s, 0, ids, b->nsensors };
    char tz[128];
    ds_rc rc;
    if (!ids)
        return ds_fail(err, DS_ENOMEM, "out of memory");
    if ((rc = ds_store_begin(s, b->file, &k.file_id, err)) != DS_OK)
        goto out_free;
    /* the store counts days in one timezone, set by its first file */
    rc = ds_store_meta_get(s, "timezone", tz, sizeof tz, err);
    if (rc == DS_ENOTFOUND && b->timezone)
        rc = ds_store_meta_set(s, "timezone", b->timezone, err);
    else if (rc == DS_OK && b->timezone && strcmp(tz, b->timezone) != 0)
        rc = ds_fail(err, DS_EINVAL, "the store counts days in timezone %s but the configuration says %s; "
                     "a store keeps one timezone", tz, b->timezone);
    else if (rc == DS_ENOTFOUND)
        rc = DS_OK;
    for (size_t i = 0; rc == DS_OK && i < b->nsensors; i++)
        rc = ds_store_sensor_upsert(s, &b->sensors[i], &ids[i], err);
    if (rc == DS_OK)
        rc = b->emit(b->ctx, &k, err);
    /* after this file's chunks, so that no chunk id of the file it replaces is given out again */
    if (rc == DS_OK && b->prior && b->prior->id) {
        rc = ds_store_supersede(s, k.file_id, b->prior, err);
        res->superseded = rc == DS_OK;
        if (rc == DS_ENOTFOUND)   /* a concurrent ingest superseded it first: this file simply adds */
            rc = DS_OK;
    }
    if (rc == DS_OK)
        rc = ds_store_commit(s, err);
    if (rc != DS_OK) {
        ds_store_rollback(s);
        res->superseded = 0;
    }
out_free:
    free(ids);
    return rc;
}

/* ---- reader ---- */

ds_rc ds_store_scan(ds_store *s, int kind, int64_t sensor_id, int32_t from, int32_t to, ds_scan_fn fn, void *ctx,
                    ds_err *err)
{
    return s->ops->reader->scan(s, kind, sensor_id, from, to, fn, ctx, err);
}

ds_rc ds_store_chunks_lacking(ds_store *s, int have, int need, int64_t sensor_id, int32_t from, int32_t to,
                              ds_sensor_day **rows, size_t *n, ds_err *err)
{
    *rows = NULL;
    *n = 0;
    if (!s->ops->reader->chunks_lacking)
        return ds_fail(err, DS_EINVAL, "the %s store cannot tell which days have rollups", s->ops->name);
    return s->ops->reader->chunks_lacking(s, have, need, sensor_id, from, to, rows, n, err);
}

ds_rc ds_store_day_span(ds_store *s, int32_t *first, int32_t *last, ds_err *err)
{
    return s->ops->reader->day_span(s, first, last, err);
}

ds_rc ds_store_coverage_span(ds_store *s, uint64_t *first_ns, uint64_t *last_ns, ds_err *err)
{
    if (!s->ops->reader->coverage_span)
        return DS_ENOTFOUND;
    return s->ops->reader->coverage_span(s, first_ns, last_ns, err);
}

ds_rc ds_store_coverage_scan(ds_store *s, uint64_t from_ns, uint64_t to_ns, ds_coverage_fn fn, void *ctx, ds_err *err)
{
    if (!s->ops->reader->coverage_scan)
        return ds_fail(err, DS_EINVAL, "coverage: the %s store keeps no coverage", s->ops->name);
    return s->ops->reader->coverage_scan(s, from_ns, to_ns, fn, ctx, err);
}

ds_rc ds_store_sensors(ds_store *s, ds_sensor_info **rows, size_t *n, ds_err *err)
{
    return s->ops->reader->sensors(s, rows, n, err);
}

ds_rc ds_store_sensor_stats(ds_store *s, ds_sensor_stats **rows, size_t *n, ds_err *err)
{
    return s->ops->reader->sensor_stats(s, rows, n, err);
}

/* ---- ledger ---- */

ds_rc ds_store_segment_get(ds_store *s, const char *sensor, uint64_t seq, ds_segment_rec *out, ds_err *err)
{
    return s->ops->ledger ? s->ops->ledger->segment_get(s, sensor, seq, out, err) : DS_ENOTFOUND;
}

ds_rc ds_store_ledger_put(ds_store *s, const ds_segment_rec *seg, const ds_sensor_health *h, ds_err *err)
{
    if (!s->ops->ledger || !s->ops->ledger->ledger_put)   /* none, or a read-only view of one */
        return ds_fail(err, DS_EINVAL, "the %s store keeps no collector ledger it can write", s->ops->name);
    return s->ops->ledger->ledger_put(s, seg, h, err);
}

ds_rc ds_store_role_take(ds_store *s, const char *role, ds_err *err)
{
    return s->ops->ledger && s->ops->ledger->role_take ? s->ops->ledger->role_take(s, role, err) : DS_OK;
}

ds_rc ds_store_role_check(ds_store *s, ds_err *err)
{
    return s->ops->ledger && s->ops->ledger->role_check ? s->ops->ledger->role_check(s, err) : DS_OK;
}

void ds_store_role_release(ds_store *s)
{
    if (s && s->ops->ledger && s->ops->ledger->role_release)
        s->ops->ledger->role_release(s);
}

ds_rc ds_store_sensor_health(ds_store *s, ds_sensor_health **rows, size_t *n, ds_err *err)
{
    *rows = NULL;
    *n = 0;
    return s->ops->ledger ? s->ops->ledger->sensor_health(s, rows, n, err) : DS_OK;
}

ds_rc ds_store_segments_list(ds_store *s, const char *sensor, int64_t from, int64_t to, ds_segment_rec **rows,
                             size_t *n, ds_err *err)
{
    *rows = NULL;
    *n = 0;
    return s->ops->ledger ? s->ops->ledger->segments_list(s, sensor, from, to, rows, n, err) : DS_OK;
}

/* ---- payloads ---- */

ds_rc ds_store_payloads_put(ds_store *s, const ds_payload_batch *b, ds_err *err)
{
    if (!s->ops->payloads || !s->ops->payloads->payloads_put)   /* none, or a read-only view */
        return ds_fail(err, DS_EINVAL, "the %s store keeps no payloads it can write", s->ops->name);
    return s->ops->payloads->payloads_put(s, b, err);
}

ds_rc ds_store_payloads_query(ds_store *s, const ds_payload_query *q, ds_payload_row **rows, size_t *n,
                              uint64_t *total, ds_err *err)
{
    *rows = NULL;
    *n = 0;
    if (total)
        *total = 0;
    return s->ops->payloads ? s->ops->payloads->payloads_query(s, q, rows, n, total, err) : DS_OK;
}
