/* copy.c: see copy.h.
 *
 * The copy is a replay: each file of `from` becomes one ds_file_batch put into `to`, as if ingest
 * had decoded it again, so the target backend's own write path gives its promises (exactly once,
 * visible whole: store.h; ClickHouse: ch_writer.c).  What the target computes from the rows
 * (ClickHouse's per-source rows from the SRCSVC chunks; SQLite's month rollups, built after the
 * files) it computes as on ingest.  Not carried over: when a file was ingested (the target's
 * files row says when it was copied), and files another file superseded (their rows are gone;
 * their hashes are not recognised by the target).
 */
#include "store/copy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/records.h"
#include "store/rollup_months.h"

typedef struct cov_row {
    ds_coverage_row r;
    uint32_t *hours;
} cov_row;

typedef struct copy_ctx {
    ds_store *from;
    const ds_stored_file *file;
    ds_sensor_info *sensors;
    size_t nsensors;
    cov_row *cov;               /* every coverage row of from, by file id */
    size_t ncov, covcap;
    ds_batch_sink *sink;
    ds_copy_stats *st;
} copy_ctx;

static ds_rc sensor_index(copy_ctx *c, int64_t id, int *idx, ds_err *err)
{
    for (size_t i = 0; i < c->nsensors; i++)
        if (c->sensors[i].id == id) {
            *idx = (int)i;
            return DS_OK;
        }
    return ds_fail(err, DS_ESTORE, "store copy: file %s has rows of sensor %lld, which the store does not list",
                   c->file->path, (long long)id);
}

static ds_rc on_chunk(void *ctx, int64_t sensor_id, int32_t day, int kind, const uint8_t *data, size_t nrec,
                      ds_err *err)
{
    copy_ctx *c = ctx;
    int idx = -1;
    ds_rc rc = sensor_index(c, sensor_id, &idx, err);
    if (rc != DS_OK)
        return rc;
    c->st->chunks++;
    return ds_batch_put_chunk(c->sink, idx, day, kind, data, nrec, ds_rec_size(kind), err);
}

static ds_rc on_counts(void *ctx, int64_t sensor_id, const ds_agg_counts *counts, ds_err *err)
{
    copy_ctx *c = ctx;
    int idx = -1;   /* sensor 0: the packets no sensor owns */
    ds_rc rc = sensor_id ? sensor_index(c, sensor_id, &idx, err) : DS_OK;
    return rc != DS_OK ? rc : ds_batch_put_counts(c->sink, idx, counts, err);
}

static ds_rc emit(void *ctx, ds_batch_sink *sink, ds_err *err)
{
    copy_ctx *c = ctx;
    const ds_store_dump_ops *d = c->from->ops->dump;
    c->sink = sink;
    ds_rc rc = d->file_chunks(c->from, c->file->id, on_chunk, c, err);
    if (rc == DS_OK)
        rc = d->file_counts(c->from, c->file->id, on_counts, c, err);
    for (size_t i = 0; rc == DS_OK && i < c->ncov; i++) {
        if (c->cov[i].r.file_id != c->file->id)
            continue;
        int idx = -1;
        if ((rc = sensor_index(c, c->cov[i].r.sensor_id, &idx, err)) == DS_OK)
            rc = ds_batch_put_coverage(sink, idx, &c->cov[i].r, err);
        c->st->coverage++;
    }
    return rc;
}

static ds_rc on_cov(void *ctx, const ds_coverage_row *row, ds_err *err)
{
    copy_ctx *c = ctx;
    if (c->ncov == c->covcap) {
        size_t cap = c->covcap ? c->covcap * 2 : 256;
        cov_row *n = realloc(c->cov, cap * sizeof *n);
        if (!n)
            return ds_fail(err, DS_ENOMEM, "out of memory");
        c->cov = n;
        c->covcap = cap;
    }
    cov_row *x = &c->cov[c->ncov];
    x->r = *row;
    x->hours = NULL;
    if (row->hours) {
        if (!(x->hours = malloc((row->nhours ? row->nhours : 1) * sizeof *x->hours)))
            return ds_fail(err, DS_ENOMEM, "out of memory");
        memcpy(x->hours, row->hours, row->nhours * sizeof *x->hours);
    }
    x->r.hours = x->hours;
    c->ncov++;
    return DS_OK;
}

static int by_id(const void *a, const void *b)
{
    const ds_sensor_info *x = a, *y = b;
    return (x->id > y->id) - (x->id < y->id);
}

ds_rc ds_store_copy(ds_store *from, ds_store *to, ds_copy_stats *st, ds_err *err)
{
    ds_stored_file *files = NULL, *have = NULL;
    size_t nfiles = 0, nhave = 0;
    copy_ctx c = { .from = from, .st = st };
    char tzf[128] = "", tzt[128] = "";
    ds_err quiet = { 0 };
    ds_rc rc;
    memset(st, 0, sizeof *st);
    if (!from->ops->dump || !to->ops->dump)
        return ds_fail(err, DS_EINVAL, "store copy: the %s store cannot list its files",
                       !from->ops->dump ? from->ops->name : to->ops->name);
    if (!ds_store_keeps(to, DS_WRITABLE))
        return ds_fail(err, DS_EINVAL, "store copy: the %s store is read-only", to->ops->name);
    if ((rc = to->ops->dump->files(to, &have, &nhave, err)) != DS_OK)
        return rc;
    free(have);
    if (nhave)
        return ds_fail(err, DS_EEXIST, "store copy: the target holds %zu file%s already; copy writes into an empty "
                       "store only (a new SQLite path, or a ClickHouse database after `store init`)", nhave,
                       nhave == 1 ? "" : "s");
    rc = ds_store_meta_get(from, "timezone", tzf, sizeof tzf, &quiet);
    if (rc != DS_OK && rc != DS_ENOTFOUND)
        return ds_fail(err, rc, "%s", quiet.msg);
    rc = ds_store_meta_get(to, "timezone", tzt, sizeof tzt, &quiet);
    if (rc != DS_OK && rc != DS_ENOTFOUND)
        return ds_fail(err, rc, "%s", quiet.msg);
    if (tzf[0] && tzt[0] && strcmp(tzf, tzt) != 0)
        return ds_fail(err, DS_EINVAL, "store copy: the source counts days in timezone %s, the target in %s; a store "
                       "keeps one timezone", tzf, tzt);
    if ((rc = from->ops->dump->files(from, &files, &nfiles, err)) != DS_OK)
        return rc;
    if ((rc = ds_store_sensors(from, &c.sensors, &c.nsensors, err)) != DS_OK)
        goto out;
    qsort(c.sensors, c.nsensors, sizeof *c.sensors, by_id);
    if (ds_store_keeps(from, DS_KEEPS_COVERAGE) &&
        (rc = ds_store_coverage_scan(from, 0, UINT64_MAX, on_cov, &c, err)) != DS_OK)
        goto out;
    for (size_t i = 0; i < nfiles && rc == DS_OK; i++) {
        const ds_stored_file *f = &files[i];
        if (f->superseded) {
            st->superseded++;
            continue;
        }
        ds_file_meta m = { .path = f->path, .bytes = f->bytes, .records = f->records, .truncated = f->truncated,
                           .have_prefix = f->have_prefix };
        memcpy(m.hash, f->hash, 16);
        memcpy(m.prefix_hash, f->prefix_hash, 16);
        c.file = f;
        ds_file_batch b = { .file = &m, .timezone = tzf[0] ? tzf : NULL, .sensors = c.sensors,
                            .nsensors = c.nsensors, .emit = emit, .ctx = &c };
        ds_file_put res;
        if ((rc = ds_store_put_file(to, &b, &res, err)) == DS_OK)
            st->files++;
    }
    if (rc == DS_OK && ds_store_keeps(to, DS_KEEPS_MONTHS))
        rc = ds_store_months_build(to, &st->months, err);
out:
    for (size_t i = 0; i < c.ncov; i++)
        free(c.cov[i].hours);
    free(c.cov);
    free(c.sensors);
    free(files);
    return rc;
}
