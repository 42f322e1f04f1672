/* ch_chunks.c: the ClickHouse store's chunks table (docs/clickhouse.md, "Schema"): the reader's
 * scan and chunks_lacking, and the rebuild of a table made before it had one mark per chunk.
 *
 * Why one mark per chunk (index_granularity = 1).  A row of `chunks` is one zstd frame, 100 KB to
 * a few MB; a month of a sensor is a few hundred rows.  With MergeTree's default of 8192 rows per
 * granule a part's rows all fall in one granule, and a String column is read a granule at a time
 * from its start (ClickHouse docs, "MergeTree: primary keys and indexes"): reading kind 9's
 * frames decompressed and skipped every frame of kinds 1 to 8 before them, in every part, on
 * every shard.  On bench/cluster_month.sh 4's month (2 shards, 94 MB of frames a shard) a scan of
 * one kind took 0.3-0.4 s wherever the kind sat in the key order, and the month's report (about
 * 40 scans) 13 s; with one mark per row the primary key (kind, day, sensor_id, file_id) selects
 * exactly the frames asked for: 0.01-0.1 s a scan, 2.3 s the report.  The index is one key per
 * frame: a few KB.
 *
 * Stores made before: `store migrate` rebuilds the table (ch_chunks_migrate): a new table with the
 * old one's engine clause (its TTL too) but one mark per row, the rows copied, the two renamed in
 * one RENAME, the old one dropped; on a cluster on every shard.  A write landing between the copy
 * and the rename would be lost, so it is refused while a write is in progress (an inflight row of
 * a live process, ch_live_writes), and the docs say to stop ingests and the collector first.  A
 * rebuild cut off midway leaves either the old table (and a half-filled T_regran, dropped next
 * time) or, after the first half of the RENAME, T_coarse alone, which the next run renames back.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/records.h"
#include "store/ch_int.h"
#include "util/grow.h"
#include <zstd.h>

/* One statement for the kind's chunks of the days, every sensor's or one's.  PREWHERE: kind and
 * day are read first and `data` only for the rows they select (an old store's coarse table,
 * below, then skips kinds that have no chunk there at least). */
ds_rc ch_scan(ds_store *base, int kind, int64_t sensor_id, int32_t from, int32_t to, ds_scan_fn fn, void *ctx,
              ds_err *err)
{
    ch_store *s = (ch_store *)base;
    ch_buf out = { 0 }, raw = { 0 };
    kind &= ~DS_SCAN_NOFILL;
    size_t recsize = ds_rec_size(kind);
    char sens[48] = "";
    if (from < 0)
        from = 0;
    if (to > 65535)
        to = 65535;
    if (from > to)
        return DS_OK;
    if (kind >= DS_CHUNK_MONTH_SERVICE && kind <= DS_CHUNK_MONTH_ALL)   /* in rollup_months: ch_months.c */
        return ch_months_scan(s, kind, sensor_id, from, to, fn, ctx, err);
    if (sensor_id > 0)
        snprintf(sens, sizeof sens, " AND sensor_id = %lld", (long long)sensor_id);
    ds_rc rc = ch_execf(&s->c, &out, err, "SELECT sensor_id, day, nrec, data FROM chunks PREWHERE kind = %d AND day BETWEEN"
                        " toDate(%d) AND toDate(%d)%s WHERE " CH_COMMITTED " ORDER BY day, sensor_id, file_id"
                        " FORMAT RowBinary", kind, (int)from, (int)to, sens);
    ch_rd r = { out.p, out.n, 0, 0 };
    while (rc == DS_OK && r.off < r.n) {
        uint64_t sid, nrec;
        uint16_t day;
        const uint8_t *z;
        size_t zlen;
        if (ch_get_u64(&r, &sid) || ch_get_u16(&r, &day) || ch_get_u64(&r, &nrec) || ch_get_str(&r, &z, &zlen)) {
            rc = ds_fail(err, DS_ESTORE, "store %s: the chunks answer is cut short", s->c.where);
            break;
        }
        if (!recsize || nrec > SIZE_MAX / recsize || !nrec) {
            rc = ds_fail(err, DS_ESTORE, "store %s: a chunk of kind %d on day %u claims %llu records", s->c.where, kind,
                         day, (unsigned long long)nrec);
            break;
        }
        size_t len = (size_t)nrec * recsize;
        if (raw.cap < len) {
            ch_buf_free(&raw);
            if (!(raw.p = malloc(len))) {
                rc = ds_fail(err, DS_ENOMEM, "out of memory reading a chunk");
                break;
            }
            raw.cap = len;
        }
        size_t got = ZSTD_decompress(raw.p, len, z, zlen);
        if (ZSTD_isError(got) || got != len) {
            rc = ds_fail(err, DS_ESTORE, "store %s: chunk of kind %d on day %u is damaged", s->c.where, kind, day);
            break;
        }
        rc = fn(ctx, (int64_t)sid, (int32_t)day, raw.p, (size_t)nrec, err);
    }
    ch_buf_free(&out);
    ch_buf_free(&raw);
    return rc;
}

ds_rc ch_chunks_lacking(ds_store *base, int have, int need, int64_t sensor_id, int32_t from, int32_t to,
                        ds_sensor_day **rows, size_t *n, ds_err *err)
{
    ch_store *s = (ch_store *)base;
    ch_buf out = { 0 };
    size_t cap = 0;
    char sens[48] = "";
    *rows = NULL;
    *n = 0;
    if (sensor_id > 0)
        snprintf(sens, sizeof sens, " AND sensor_id = %lld", (long long)sensor_id);
    from = from < 0 ? 0 : from;
    to = to > 65535 ? 65535 : to;
    if (from > to)
        return DS_OK;
    /* (sensor, day, file) with a chunk of `have` and none of `need`, of committed files */
    ds_rc rc = ch_execf(&s->c, &out, err, "SELECT DISTINCT sensor_id, day FROM (SELECT sensor_id, day, file_id,"
                        " sum(kind = %d) AS h, sum(kind = %d) AS k FROM chunks WHERE kind IN (%d, %d) AND day BETWEEN"
                        " toDate(%d) AND toDate(%d)%s AND " CH_COMMITTED " GROUP BY sensor_id, day, file_id)"
                        " WHERE h > 0 AND k = 0 ORDER BY sensor_id, day FORMAT RowBinary",
                        have, need, have, need, (int)from, (int)to, sens);
    ch_rd r = { out.p, out.n, 0, 0 };
    while (rc == DS_OK && r.off < r.n) {
        uint64_t sid;
        uint16_t day;
        if (ch_get_u64(&r, &sid) || ch_get_u16(&r, &day)) {
            rc = ds_fail(err, DS_ESTORE, "store %s: an answer is cut short", s->c.where);
            break;
        }
        ds_sensor_day *x = ds_grow_push((void **)rows, n, &cap, sizeof **rows, 8);
        if (!x) {
            rc = ds_fail(err, DS_ENOMEM, "out of memory");
            break;
        }
        *x = (ds_sensor_day){ (int64_t)sid, day };
    }
    ch_buf_free(&out);
    if (rc != DS_OK) {
        free(*rows);
        *rows = NULL;
        *n = 0;
    }
    return rc;
}

/* ---- the rebuild ---- */

/* Whether DB.NAME exists; its engine clause (system.tables.engine_full) into eng when so. */
static ds_rc table_engine(ch_conn *c, const char *name, int *exists, ch_buf *eng, ds_err *err)
{
    ch_buf out = { 0 };
    ds_rc rc = ch_execf(c, &out, err, "SELECT engine_full FROM system.tables WHERE database = '%s' AND name = '%s'"
                        " FORMAT RowBinary", c->db, name);
    ch_rd r = { out.p, out.n, 0, 0 };
    const uint8_t *p;
    size_t n;
    *exists = 0;
    if (rc == DS_OK && out.n) {
        if (ch_get_str(&r, &p, &n))
            rc = ds_fail(err, DS_ESTORE, "store %s: a system.tables answer is cut short", c->where);
        else {
            *exists = 1;
            eng->n = 0;
            ch_buf_add(eng, p, n);
            ch_buf_add(eng, "", 1);
            if (eng->oom)
                rc = ds_fail(err, DS_ENOMEM, "out of memory");
        }
    }
    ch_buf_free(&out);
    return rc;
}

/* The engine clause eng with index_granularity = CH_CHUNKS_GRANULARITY into out; *same = 1 when
 * eng has it already. */
static ds_rc regran_engine(const ch_conn *c, const char *table, const char *eng, ch_buf *out, int *same, ds_err *err)
{
    static const char key[] = "index_granularity = ";
    const char *at = strstr(eng, key);
    *same = 0;
    if (!at) {   /* every release writes it out (18.16 too); a clause without it is not ours */
        return ds_fail(err, DS_ESTORE, "store %s: table %s's engine clause names no index_granularity: \"%.200s\"",
                       c->where, table, eng);
    }
    const char *num = at + sizeof key - 1, *end = num + strspn(num, "0123456789");
    if ((size_t)(end - num) == strlen(CH_CHUNKS_GRANULARITY) && !strncmp(num, CH_CHUNKS_GRANULARITY, (size_t)(end - num))) {
        *same = 1;
        return DS_OK;
    }
    out->n = 0;
    ch_buf_add(out, eng, (size_t)(num - eng));
    ch_buf_printf(out, "%s%s", CH_CHUNKS_GRANULARITY, end);
    return out->oom ? ds_fail(err, DS_ENOMEM, "out of memory") : DS_OK;
}

/* One server's table T: rebuilt unless it has one mark per row already. */
static ds_rc rebuild_one(ch_conn *c, const char *t, unsigned *rebuilt, ds_err *err)
{
    ch_buf eng = { 0 }, neweng = { 0 };
    char coarse[64], regran[64];
    int exists = 0, have_coarse = 0, same = 0;
    snprintf(coarse, sizeof coarse, "%s_coarse", t);
    snprintf(regran, sizeof regran, "%s_regran", t);
    ds_rc rc = table_engine(c, t, &exists, &eng, err);
    if (rc == DS_OK && !exists) {   /* cut off after the RENAME's first half: T_coarse is T */
        rc = table_engine(c, coarse, &have_coarse, &eng, err);
        if (rc == DS_OK && !have_coarse)
            rc = ds_fail(err, DS_ESTORE, "store %s: no table %s (nor %s)", c->where, t, coarse);
        if (rc == DS_OK)
            rc = ch_execf(c, NULL, err, "RENAME TABLE %s TO %s", coarse, t);
    }
    if (rc == DS_OK)
        rc = regran_engine(c, t, (const char *)eng.p, &neweng, &same, err);
    if (rc == DS_OK && same) {   /* done, maybe by a run cut off before its DROP */
        rc = ch_execf(c, NULL, err, "DROP TABLE IF EXISTS %s", coarse);
        goto out;
    }
    if (rc == DS_OK)
        rc = ch_execf(c, NULL, err, "DROP TABLE IF EXISTS %s", regran);
    if (rc == DS_OK)
        rc = ch_execf(c, NULL, err, "CREATE TABLE %s AS %s ENGINE = %s", regran, t, (const char *)neweng.p);
    if (rc == DS_OK)
        rc = ch_execf(c, NULL, err, "INSERT INTO %s SELECT * FROM %s", regran, t);
    if (rc == DS_OK)
        rc = ch_execf(c, NULL, err, "RENAME TABLE %s TO %s, %s TO %s", t, coarse, regran, t);
    if (rc == DS_OK)
        rc = ch_execf(c, NULL, err, "DROP TABLE %s", coarse);
    if (rc == DS_OK)
        (*rebuilt)++;
out:
    ch_buf_free(&eng);
    ch_buf_free(&neweng);
    return rc;
}

ds_rc ch_chunks_migrate(ch_store *s, unsigned *rebuilt, ds_err *err)
{
    ch_conn *c = &s->c;
    ds_rc rc = DS_OK;
    unsigned need = 0;
    *rebuilt = 0;
    /* which tables need it, before the in-progress check: a store that needs nothing never asks */
    for (unsigned k = 0; k < (c->cluster[0] ? c->nshards : 1) && rc == DS_OK; k++) {
        ch_conn sh;
        ch_buf eng = { 0 }, ne = { 0 };
        int exists = 0, same = 1;
        if (c->cluster[0])
            ch_conn_shard(c, k, &sh);
        else
            ch_conn_copy(c, &sh);
        const char *t = c->cluster[0] ? "chunks_local" : "chunks";
        rc = table_engine(&sh, t, &exists, &eng, err);
        if (rc == DS_OK && exists)
            rc = regran_engine(&sh, t, (const char *)eng.p, &ne, &same, err);
        need += rc == DS_OK && (!exists || !same);
        ch_buf_free(&eng);
        ch_buf_free(&ne);
        ch_conn_close(&sh);
    }
    if (rc != DS_OK || !need)
        return rc;
    size_t live = 0;
    if ((rc = ch_live_writes(s, &live, err)) != DS_OK)
        return rc;
    if (live)
        return ds_fail(err, DS_EBUSY, "store %s: %zu write%s in progress (ingest, collector): `store migrate` rebuilds "
                       "the chunks table (one mark per chunk) and would lose rows written meanwhile; stop them and run "
                       "it again", c->where, live, live == 1 ? " is" : "s are");
    for (unsigned k = 0; k < (c->cluster[0] ? c->nshards : 1) && rc == DS_OK; k++) {
        ch_conn sh;
        if (c->cluster[0])
            ch_conn_shard(c, k, &sh);
        else
            ch_conn_copy(c, &sh);
        rc = rebuild_one(&sh, c->cluster[0] ? "chunks_local" : "chunks", rebuilt, err);
        ch_conn_close(&sh);
    }
    return rc;
}
