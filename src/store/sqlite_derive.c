/* sqlite_derive.c: the DETECT and CROSS chunks of files ingested before they existed
 * (`darkscope store migrate`; sqlite_engine.h).
 *
 * Ingest writes a DETECT chunk (core/detin.h) beside every SOURCES chunk and a CROSS chunk
 * (core/cross.h) beside every SRCSVC chunk; a store written before them reads the raw chunks
 * wherever one is missing (events.c, cube.c).  Here each (file, sensor, day) that lacks one gets
 * it, built from all its SRCSVC and SOURCES records taken together, which is what the readers
 * need: the series' sums and largest records and the countries' source sets compose over any
 * grouping of the records, the tool records are the records themselves, and a source's services
 * folded over the (file, sensor, day) are an exact sum, so the vertical-scan bound holds (a
 * file's several groups become one chunk).  A file's chunks go in one transaction
 * (store_sqlite.c's sq_migrate), so a kill leaves each file with all of them or none, and a run
 * again builds what is left.
 */
#include "store/sqlite_engine.h"
#include "store/sqlite_int.h"

#include <stdlib.h>
#include <string.h>

#include "core/cross.h"
#include "core/detin.h"
#include "core/records.h"

ds_rc ds_sqlite_derive_lacking(sqlite_store *s, ds_sq_derive_row **rows, size_t *n, ds_err *err)
{
    sqlite3_stmt *q = NULL;
    ds_rc rc = DS_OK;
    size_t cap = 0;
    *rows = NULL;
    *n = 0;
    /* the inner probes walk the (kind, day, sensor_id) index; file 0 (month rollups) has neither */
    const char *sql =
        "SELECT file_id, sensor_id, day,"
        " max(kind = 3) AND NOT EXISTS (SELECT 1 FROM chunks b WHERE b.kind = 8 AND b.day = a.day"
        "   AND b.sensor_id = a.sensor_id AND b.file_id = a.file_id),"
        " max(kind = 2) AND NOT EXISTS (SELECT 1 FROM chunks b WHERE b.kind = 9 AND b.day = a.day"
        "   AND b.sensor_id = a.sensor_id AND b.file_id = a.file_id)"
        " FROM chunks a WHERE kind IN (2, 3) AND file_id > 0 GROUP BY file_id, sensor_id, day"
        " ORDER BY file_id, sensor_id, day";
    if (sqlite3_prepare_v2(s->db, sql, -1, &q, NULL) != SQLITE_OK)
        return ds_sq_fail(s, err, "chunks lacking derived chunks");
    int st;
    while ((st = sqlite3_step(q)) == SQLITE_ROW) {
        int detect = sqlite3_column_int(q, 3), cross = sqlite3_column_int(q, 4);
        if (!detect && !cross)
            continue;
        ds_sq_derive_row *r = ds_sqlite_row_append((void **)rows, n, &cap, sizeof *r);
        if (!r) {
            rc = ds_fail(err, DS_ENOMEM, "out of memory");
            goto out;
        }
        *r = (ds_sq_derive_row){ sqlite3_column_int64(q, 0), sqlite3_column_int64(q, 1), sqlite3_column_int(q, 2),
                                 detect, cross };
    }
    if (st != SQLITE_DONE)
        rc = ds_sq_fail(s, err, "chunks lacking derived chunks");
out:
    sqlite3_finalize(q);
    if (rc != DS_OK) {
        free(*rows);
        *rows = NULL;
        *n = 0;
    }
    return rc;
}

/* Append len bytes to a growable buffer. */
static int append(uint8_t **buf, size_t *len, size_t *cap, const uint8_t *p, size_t n)
{
    if (n > *cap - *len) {
        size_t c = *cap ? *cap : 1 << 16;
        while (c - *len < n)
            c *= 2;
        uint8_t *b = realloc(*buf, c);
        if (!b)
            return -1;
        *buf = b;
        *cap = c;
    }
    memcpy(*buf + *len, p, n);
    *len += n;
    return 0;
}

ds_rc ds_sqlite_derive_build(sqlite_store *s, const ds_sq_derive_row *row, ds_sq_derive_work *w,
                             const uint8_t *data[2], size_t nrec[2], ds_err *err)
{
    sqlite3_stmt *q = NULL;
    ds_rc rc = DS_OK;
    data[0] = data[1] = NULL;
    nrec[0] = nrec[1] = 0;
    w->nsvc = w->nsrc = 0;
    if (sqlite3_prepare_v2(s->db, "SELECT kind, nrec, data, codec FROM chunks WHERE kind IN (2, 3) AND day = ?1"
                           " AND sensor_id = ?2 AND file_id = ?3 ORDER BY id", -1, &q, NULL) != SQLITE_OK)
        return ds_sq_fail(s, err, "chunks");
    sqlite3_bind_int(q, 1, row->day);
    sqlite3_bind_int64(q, 2, row->sensor_id);
    sqlite3_bind_int64(q, 3, row->file_id);
    int st;
    while ((st = sqlite3_step(q)) == SQLITE_ROW) {
        int kind = sqlite3_column_int(q, 0);
        sqlite3_int64 n = sqlite3_column_int64(q, 1);
        const uint8_t *rec;
        if ((rc = ds_sq_chunk_records(s, sqlite3_column_blob(q, 2), (size_t)sqlite3_column_bytes(q, 2),
                                      sqlite3_column_int(q, 3), kind, row->day, n, &rec, err)) != DS_OK)
            goto out;
        size_t len = (size_t)n * ds_rec_size(kind), had = kind == DS_CHUNK_SRCSVC ? w->nsvc : w->nsrc;
        int fail = kind == DS_CHUNK_SRCSVC ? append(&w->svc, &had, &w->capsvc, rec, len)
                                           : append(&w->src, &had, &w->capsrc, rec, len);
        if (fail) {
            rc = ds_fail(err, DS_ENOMEM, "out of memory building derived chunks");
            goto out;
        }
        *(kind == DS_CHUNK_SRCSVC ? &w->nsvc : &w->nsrc) = had;
    }
    if (st != SQLITE_DONE) {
        rc = ds_sq_fail(s, err, "chunks");
        goto out;
    }
    size_t nsvc = w->nsvc / DS_REC_SRCSVC, nsrc = w->nsrc / DS_REC_SOURCES;
    if ((!w->dw && !(w->dw = ds_detin_work_new())) || (!w->cw && !(w->cw = ds_cross_work_new()))) {
        rc = ds_fail(err, DS_ENOMEM, "out of memory building derived chunks");
        goto out;
    }
    free(w->detect);
    w->detect = NULL;
    if ((rc = ds_detin_build(w->dw, w->svc, nsvc, w->src, nsrc, &w->detect, &nrec[0], err)) != DS_OK)
        goto out;
    data[0] = w->detect;
    if (nsvc && ds_cross_build(w->cw, w->svc, nsvc, &data[1], &nrec[1]) != 0)
        rc = ds_fail(err, DS_ENOMEM, "out of memory building derived chunks");
out:
    sqlite3_finalize(q);
    return rc;
}

void ds_sqlite_derive_work_free(ds_sq_derive_work *w)
{
    free(w->svc);
    free(w->src);
    free(w->detect);
    ds_detin_work_free(w->dw);
    ds_cross_work_free(w->cw);
    memset(w, 0, sizeof *w);
}
