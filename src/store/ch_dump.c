/* ch_dump.c: the ClickHouse store's files and each one's rows, as stored (ds_store_dump_ops), for
 * `darkscope store copy` (store/copy.c): the committed files by id, a file's chunks decompressed,
 * and its counts.  Coverage rows travel through coverage_scan, which names their file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "core/records.h"
#include "store/ch_int.h"

ds_rc ch_dump_files(ds_store *base, ds_stored_file **rows, size_t *n, ds_err *err)
{
    ch_store *s = (ch_store *)base;
    ch_buf out = { 0 };
    size_t cap = 0;
    *rows = NULL;
    *n = 0;
    ds_rc rc = ch_execf(&s->c, &out, err, "SELECT id, hash, path, bytes, records, truncated, prefix_hash, have_prefix,"
                        " id IN (SELECT old FROM superseded WHERE new IN (SELECT id FROM files)) FROM files ORDER BY id"
                        " FORMAT RowBinary");
    ch_rd r = { out.p, out.n, 0, 0 };
    while (rc == DS_OK && r.off < r.n) {
        uint64_t id, bytes, records;
        uint8_t trunc, havep, sup;
        const uint8_t *path;
        size_t pl;
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
        ds_stored_file *f = &(*rows)[*n];
        memset(f, 0, sizeof *f);
        if (ch_get_u64(&r, &id) || r.n - r.off < 16 || (memcpy(f->hash, r.p + r.off, 16), r.off += 16, 0) ||
            ch_get_str(&r, &path, &pl) || ch_get_u64(&r, &bytes) || ch_get_u64(&r, &records) || ch_get_u8(&r, &trunc) ||
            r.n - r.off < 16 || (memcpy(f->prefix_hash, r.p + r.off, 16), r.off += 16, 0) || ch_get_u8(&r, &havep) ||
            ch_get_u8(&r, &sup)) {
            rc = ds_fail(err, DS_ESTORE, "store %s: the files answer is cut short", s->c.where);
            break;
        }
        f->id = (int64_t)id;
        snprintf(f->path, sizeof f->path, "%.*s", (int)pl, (const char *)path);
        f->bytes = bytes;
        f->records = records;
        f->truncated = trunc != 0;
        f->have_prefix = havep != 0;
        f->superseded = sup != 0;
        (*n)++;
    }
    ch_buf_free(&out);
    if (rc != DS_OK) {
        free(*rows);
        *rows = NULL;
        *n = 0;
    }
    return rc;
}

ds_rc ch_dump_chunks(ds_store *base, int64_t file_id, ds_dump_chunk_fn fn, void *ctx, ds_err *err)
{
    ch_store *s = (ch_store *)base;
    ch_buf out = { 0 };
    uint8_t *raw = NULL;
    size_t rawcap = 0;
    ds_rc rc = ch_execf(&s->c, &out, err, "SELECT sensor_id, day, kind, nrec, data FROM chunks WHERE file_id = %lld"
                        " ORDER BY kind, day, sensor_id FORMAT RowBinary", (long long)file_id);
    ch_rd r = { out.p, out.n, 0, 0 };
    while (rc == DS_OK && r.off < r.n) {
        uint64_t sid, nrec;
        uint16_t day;
        uint8_t kind;
        const uint8_t *z;
        size_t zlen;
        if (ch_get_u64(&r, &sid) || ch_get_u16(&r, &day) || ch_get_u8(&r, &kind) || ch_get_u64(&r, &nrec) ||
            ch_get_str(&r, &z, &zlen)) {
            rc = ds_fail(err, DS_ESTORE, "store %s: the chunks answer is cut short", s->c.where);
            break;
        }
        size_t recsize = ds_rec_size(kind);
        if (!recsize || !nrec || nrec > SIZE_MAX / recsize) {
            rc = ds_fail(err, DS_ESTORE, "store %s: a chunk of kind %u on day %u claims %llu records", s->c.where, kind,
                         day, (unsigned long long)nrec);
            break;
        }
        size_t len = (size_t)nrec * recsize;
        if (len > rawcap) {
            uint8_t *p = realloc(raw, len);
            if (!p) {
                rc = ds_fail(err, DS_ENOMEM, "out of memory reading a chunk");
                break;
            }
            raw = p;
            rawcap = len;
        }
        size_t got = ZSTD_decompress(raw, len, z, zlen);
        if (ZSTD_isError(got) || got != len) {
            rc = ds_fail(err, DS_ESTORE, "store %s: chunk of kind %u on day %u is damaged", s->c.where, kind, day);
            break;
        }
        rc = fn(ctx, (int64_t)sid, day, kind, raw, (size_t)nrec, err);
    }
    free(raw);
    ch_buf_free(&out);
    return rc;
}

ds_rc ch_counts_get(ch_rd *r, ds_agg_counts *c)
{
    uint8_t len;
    uint64_t v[2 + DS_PKT__COUNT + 2 + DS_ENC__COUNT];
    if (ch_get_u8(r, &len) || len != sizeof v / sizeof v[0])   /* the array's LEB128 length: below 128 */
        return r->bad = 1, -1;
    for (size_t i = 0; i < len; i++)
        if (ch_get_u64(r, &v[i]))
            return -1;
    size_t k = 0;
    memset(c, 0, sizeof *c);
    c->packets = v[k++];
    c->outside = v[k++];
    for (int o = 0; o < DS_PKT__COUNT; o++)
        c->outcome[o] = v[k++];
    c->first_ns = v[k++];
    c->last_ns = v[k++];
    for (int e = 0; e < DS_ENC__COUNT; e++)
        c->encap[e] = v[k++];
    return 0;
}

ds_rc ch_dump_counts(ds_store *base, int64_t file_id, ds_dump_counts_fn fn, void *ctx, ds_err *err)
{
    ch_store *s = (ch_store *)base;
    ch_buf out = { 0 };
    ds_rc rc = ch_execf(&s->c, &out, err, "SELECT sensor_id, v FROM counts WHERE file_id = %lld ORDER BY sensor_id"
                        " FORMAT RowBinary", (long long)file_id);
    ch_rd r = { out.p, out.n, 0, 0 };
    while (rc == DS_OK && r.off < r.n) {
        uint64_t sid;
        ds_agg_counts c;
        if (ch_get_u64(&r, &sid) || ch_counts_get(&r, &c)) {
            rc = ds_fail(err, DS_ESTORE, "store %s: the counts answer is cut short or has the wrong shape", s->c.where);
            break;
        }
        rc = fn(ctx, (int64_t)sid, &c, err);
    }
    ch_buf_free(&out);
    return rc;
}
