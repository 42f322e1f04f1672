/* ch_rollup.c: the rollup tables of the ClickHouse store (issue #23, docs/clickhouse.md).
 *
 * Per dimension (service, country, ASN, and `all` for the distinct total), an
 * AggregatingMergeTree table of per-day partial aggregates:
 *
 *   (day, sensor_id, cls, key, file_id) -> sumState(packets), uniqExactState(src)
 *
 * partitioned by month and ordered by that key, so `top` over a period reads the states of its
 * days instead of every per-source row of `srcsvc`.  file_id stays in the key: a reader keeps
 * seeing only live files (CH_COMMITTED, as for srcsvc), and a file's rows are deleted with it
 * (a superseded file, a crashed write).
 *
 * Writing: inside a file's write, once its srcsvc rows are in (ch_commit), the server builds the
 * file's rollup rows from them (INSERT ... SELECT ... WHERE file_id = X GROUP BY ...: the work is
 * done where the rows are), then a `rollup_files` row marks the file as having them; both come
 * before the file's `files` row (the commit), so a crash leaves only invisible rows, which
 * ch_cleanup deletes as the file's other rows.  On a cluster each shard builds its part from its
 * own srcsvc_local into its rollup_*_local (srcsvc is sharded by source, so each shard's states
 * hold disjoint sets of sources), and the Distributed rollup_* tables merge them: uniqExactMerge
 * of the shards' states is the exact union.
 *
 * Reading (ch_query.c): only when every live file has its rollup_files row (ch_rollup_ready):
 * files committed by a release before the rollups have none until `darkscope store migrate`
 * builds them (ch_rollup_migrate, the same INSERT ... SELECT per file).
 *
 * Exactness: a (day, sensor, cls, key, file) row holds the sum and the set of sources of the
 * srcsvc rows with those values, so a query whose filters are a sensor, a class and values of the
 * ranked dimension selects whole rows, and its sums and unions are those of the same srcsvc rows
 * (analysis/top_rollup.c's argument for the SQLite rollups).  AggregatingMergeTree may merge two
 * rows of one key in the background: the merged states are the sum and union of the two, which
 * changes no answer.
 *
 * TTLs ([store] ttl_raw_days, ttl_rollup_days; ch_ttl_set): `ALTER TABLE ... MODIFY TTL day +
 * INTERVAL N DAY` on the tables with a day: chunks and srcsvc (raw), the rollup tables.  Table TTL
 * came with ClickHouse 19.6: an older server is refused, naming the version.
 *
 * Distinct-source states are uniqExact (ClickHouse 18.16 has it; exact).  groupBitmap (20.1 and
 * later) would be smaller, but is not used: the tested server (18.16.1) has none to test it on.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/records.h"
#include "store/ch_int.h"

const char *const CH_ROLLUP_TABLE[CH_NROLLUP] = { "rollup_service", "rollup_country", "rollup_asn", "rollup_all" };
/* the key each table groups by (srcsvc's columns), as the table's UInt32 `key` */
static const char *const KEY_EXPR[CH_NROLLUP] = { "service", "toUInt32(cc)", "asn", "toUInt32(0)" };

#define ROLLUP_COLS "day Date, sensor_id Int64, cls UInt8, key UInt32, file_id Int64," \
    " packets AggregateFunction(sum, UInt64), sources AggregateFunction(uniqExact, UInt64)"
#define ROLLUP_ENGINE "AggregatingMergeTree PARTITION BY toYYYYMM(day) ORDER BY (day, sensor_id, cls, key, file_id)"
/* on the store's server only, also in a cluster (beside `files`) */
#define ROLLUP_FILES "CREATE TABLE IF NOT EXISTS rollup_files (file_id Int64) ENGINE = MergeTree ORDER BY file_id"
/* the live files without rollups */
#define LACKING "SELECT id FROM files WHERE id NOT IN (SELECT old FROM superseded WHERE new IN (SELECT id FROM files))" \
    " AND id NOT IN (SELECT file_id FROM rollup_files)"

ds_rc ch_rollup_create(ch_conn *c, ds_err *err)
{
    ds_rc rc = ch_exec(c, ROLLUP_FILES, NULL, NULL, err);
    for (int i = 0; i < CH_NROLLUP && rc == DS_OK; i++) {
        const char *t = CH_ROLLUP_TABLE[i];
        if (!c->cluster[0]) {
            rc = ch_execf(c, NULL, err, "CREATE TABLE IF NOT EXISTS %s (" ROLLUP_COLS ") ENGINE = " ROLLUP_ENGINE, t);
            continue;
        }
        for (unsigned k = 0; k < c->nshards && rc == DS_OK; k++) {
            ch_conn sh;
            ch_conn_shard(c, k, &sh);
            sh.use_db = 0;
            rc = ch_execf(&sh, NULL, err, "CREATE DATABASE IF NOT EXISTS %s", c->db);
            sh.use_db = 1;
            if (rc == DS_OK)
                rc = ch_execf(&sh, NULL, err, "CREATE TABLE IF NOT EXISTS %s_local (" ROLLUP_COLS ") ENGINE = "
                              ROLLUP_ENGINE, t);
            ch_conn_close(&sh);
        }
        /* no sharding key: rows are never inserted through it (each shard builds its own, below),
         * and without one an INSERT into it is refused rather than spread */
        if (rc == DS_OK)
            rc = ch_execf(c, NULL, err, "CREATE TABLE IF NOT EXISTS %s (" ROLLUP_COLS ") ENGINE = Distributed(%s, %s,"
                          " %s_local)", t, c->cluster, c->db, t);
    }
    return rc;
}

/* The rollup rows of the files listed ("1,2,3") from their srcsvc rows of days [from, to], on
 * one server.  The days: srcsvc is partitioned by month and ordered by day first, so the
 * statement reads those days' parts only, not the whole table (file_id is not in its key). */
static ds_rc build_on(ch_conn *c, const char *suffix, const char *ids, int32_t from, int32_t to, ds_err *err)
{
    ds_rc rc = DS_OK;
    for (int i = 0; i < CH_NROLLUP && rc == DS_OK; i++)
        rc = ch_execf(c, NULL, err, "INSERT INTO %s%s SELECT day, sensor_id, cls, %s AS key, file_id, sumState(packets),"
                      " uniqExactState(src) FROM srcsvc%s WHERE day BETWEEN toDate(%d) AND toDate(%d) AND file_id IN"
                      " (%s) GROUP BY day, sensor_id, cls, key, file_id", CH_ROLLUP_TABLE[i], suffix, KEY_EXPR[i],
                      suffix, (int)from, (int)to, ids);
    return rc;
}

ds_rc ch_rollup_build(ch_conn *c, const char *ids, int32_t from, int32_t to, ds_err *err)
{
    ds_rc rc = DS_OK;
    if (from > to)   /* no per-source rows: only the marker */
        ;
    else if (!c->cluster[0])
        rc = build_on(c, "", ids, from, to, err);
    for (unsigned k = 0; from <= to && c->cluster[0] && k < c->nshards && rc == DS_OK; k++) {
        ch_conn sh;
        ch_conn_shard(c, k, &sh);
        rc = build_on(&sh, "_local", ids, from, to, err);
        ch_conn_close(&sh);
    }
    if (rc == DS_OK)   /* the marker: the files have their rollups */
        rc = ch_execf(c, NULL, err, "INSERT INTO rollup_files SELECT toInt64(arrayJoin([%s]))", ids);
    return rc;
}

ds_rc ch_rollup_delete(ch_conn *c, const char *ids, ds_err *err)
{
    ds_rc rc = DS_OK;
    for (int i = 0; i < CH_NROLLUP && rc == DS_OK; i++)
        rc = ch_delete_rows(c, CH_ROLLUP_TABLE[i], ids, err);
    if (rc == DS_OK)
        rc = ch_execf(c, NULL, err, "ALTER TABLE rollup_files DELETE WHERE file_id IN (%s)", ids);
    return rc;
}

ds_rc ch_rollup_ready(ch_conn *c, int *yes, ds_err *err)
{
    ch_buf out = { 0 };
    *yes = 0;
    ds_rc rc = ch_execf(c, &out, err, "SELECT count() FROM (" LACKING ") FORMAT TSV");
    if (rc == DS_OK)
        *yes = out.n > 0 && out.p[0] == '0' && (out.n == 1 || out.p[1] == '\n');
    ch_buf_free(&out);
    return rc;
}

/* rows of the files listed in any rollup table (a migrate cut off midway left them) */
static ds_rc any_rows(ch_conn *c, const char *ids, int *yes, ds_err *err)
{
    ch_buf out = { 0 };
    ds_rc rc = DS_OK;
    *yes = 0;
    for (int i = 0; i < CH_NROLLUP && rc == DS_OK && !*yes; i++) {
        out.n = 0;
        rc = ch_execf(c, &out, err, "SELECT count() FROM %s WHERE file_id IN (%s) FORMAT TSV", CH_ROLLUP_TABLE[i], ids);
        *yes = rc == DS_OK && out.n && out.p[0] != '0';
    }
    ch_buf_free(&out);
    return rc;
}

#define MIGRATE_BATCH 16

/* The days of the files' SRCSVC chunks (the chunks table is ordered by kind, then day): from > to
 * when they have none. */
static ds_rc srcsvc_days(ch_conn *c, const char *ids, int32_t *from, int32_t *to, ds_err *err)
{
    ch_buf out = { 0 };
    unsigned a = 1, b = 0, n = 0;
    ds_rc rc = ch_execf(c, &out, err, "SELECT toUInt16(min(day)), toUInt16(max(day)), count() FROM chunks WHERE kind = %d"
                        " AND file_id IN (%s) FORMAT TSV", DS_CHUNK_SRCSVC, ids);
    if (rc == DS_OK && (out.n == 0 || sscanf((char *)out.p, "%u\t%u\t%u", &a, &b, &n) != 3))
        rc = ds_fail(err, DS_ESTORE, "store %s: the chunks' days answer is not three numbers", c->where);
    ch_buf_free(&out);
    *from = n ? (int32_t)a : 1;
    *to = n ? (int32_t)b : 0;
    return rc;
}

ds_rc ch_rollup_migrate(ch_conn *c, size_t *built, ds_err *err)
{
    ch_buf out = { 0 }, ids = { 0 }, batch = { 0 };
    size_t n = 0;
    int stale = 0;
    *built = 0;
    ds_rc rc = ch_execf(c, &out, err, LACKING " ORDER BY id FORMAT TSV");
    for (const char *p = (const char *)out.p, *end = p + out.n; rc == DS_OK && p < end;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl)
            nl = end;
        ch_buf_printf(&ids, "%s%.*s", n++ ? "," : "", (int)(nl - p), p);
        p = nl + 1;
    }
    if (rc == DS_OK && ids.oom)
        rc = ds_fail(err, DS_ENOMEM, "out of memory");
    if (rc != DS_OK || !n)
        goto out;
    ch_buf_add(&ids, "", 1);
    /* rows a migrate cut off midway left, without their marker: deleted first (a mutation changes
     * only the parts that exist when it is made, so the rows built next are not touched) */
    if ((rc = any_rows(c, (char *)ids.p, &stale, err)) == DS_OK && stale)
        for (int i = 0; i < CH_NROLLUP && rc == DS_OK; i++)
            rc = ch_delete_rows(c, CH_ROLLUP_TABLE[i], (char *)ids.p, err);
    /* a few files per statement: a statement's states are held in the server's memory at once */
    const char *p = (char *)ids.p;
    while (rc == DS_OK && *p) {
        size_t k = 0;
        batch.n = 0;
        while (*p && k < MIGRATE_BATCH) {
            size_t len = strcspn(p, ",");
            ch_buf_printf(&batch, "%s%.*s", k++ ? "," : "", (int)len, p);
            p += len + (p[len] == ',');
        }
        ch_buf_add(&batch, "", 1);
        int32_t from = 1, to = 0;
        rc = batch.oom ? ds_fail(err, DS_ENOMEM, "out of memory") : srcsvc_days(c, (char *)batch.p, &from, &to, err);
        if (rc == DS_OK)
            rc = ch_rollup_build(c, (char *)batch.p, from, to, err);
        if (rc == DS_OK)
            *built += k;
    }
out:
    ch_buf_free(&out);
    ch_buf_free(&ids);
    ch_buf_free(&batch);
    return rc;
}

/* ---- TTLs per resolution ---- */

#define TTL_MAJOR 19
#define TTL_MINOR 6

static ds_rc ttl_on(ch_conn *c, const char *table, unsigned days, ds_err *err)
{
    if (!c->cluster[0])
        return ch_execf(c, NULL, err, "ALTER TABLE %s MODIFY TTL day + INTERVAL %u DAY", table, days);
    ds_rc rc = DS_OK;   /* a Distributed table keeps no rows: the shards' tables get the TTL */
    for (unsigned k = 0; k < c->nshards && rc == DS_OK; k++) {
        ch_conn sh;
        ch_conn_shard(c, k, &sh);
        rc = ch_execf(&sh, NULL, err, "ALTER TABLE %s_local MODIFY TTL day + INTERVAL %u DAY", table, days);
        ch_conn_close(&sh);
    }
    return rc;
}

ds_rc ch_ttl_set(ch_conn *c, unsigned raw_days, unsigned rollup_days, ds_err *err)
{
    ds_rc rc = DS_OK;
    if (!raw_days && !rollup_days)
        return DS_OK;
    if (c->major < TTL_MAJOR || (c->major == TTL_MAJOR && c->minor < TTL_MINOR))
        return ds_fail(err, DS_EINVAL, "store %s: [store] ttl_days / ttl_raw_days / ttl_rollup_days need ClickHouse "
                       "%d.%d or later (table TTL); this server is %s: remove them, or upgrade the server", c->where,
                       TTL_MAJOR, TTL_MINOR, c->version);
    if (raw_days) {
        rc = ttl_on(c, "chunks", raw_days, err);
        if (rc == DS_OK)
            rc = ttl_on(c, "srcsvc", raw_days, err);
    }
    for (int i = 0; rollup_days && i < CH_NROLLUP && rc == DS_OK; i++)
        rc = ttl_on(c, CH_ROLLUP_TABLE[i], rollup_days, err);
    return rc;
}
