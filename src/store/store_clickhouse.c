/* store_clickhouse.c: the ClickHouse backend (issue #23): open, schema, meta, sensors, reading.
 *
 * The store is a database on a ClickHouse server, reached over its HTTP interface (ch_http.c):
 * `[store] url = clickhouse://HOST:PORT/DB` (or `--db` with that URL).  Its tables
 * (docs/clickhouse.md) mirror the SQLite store's: meta, sensors, files, counts, coverage, and
 * the chunks as the same zstd frames, keyed by (kind, day, sensor, file), so that every reader of
 * analysis/ works unchanged through scan(); beside them `srcsvc`, each SRCSVC record as a row
 * (the per-source daily rows), which ch_query.c asks `top`'s questions of in SQL.
 *
 * No transactions: every row a file writes carries its file id, and readers see a row only when
 * its file's row is in `files` (CH_COMMITTED), which ch_writer.c writes last.  The collector's
 * ledger and first payloads are ch_ledger.c's and ch_payloads.c's (small tables on this server).
 *
 * Versions: the server's (SELECT version()) is read at open and kept in meta; releases before
 * 18.16 are refused.  Only SQL that 18.16.1 (Debian 12's) runs is used: MergeTree,
 * ReplacingMergeTree, AggregatingMergeTree with AggregateFunction(sum|uniqExact) states
 * (ch_rollup.c), uniqExact, ALTER TABLE ... DELETE.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/records.h"
#include "store/ch_int.h"
#include "util/grow.h"
#include "util/timeutil.h"

#define CH_MIN_MAJOR 18
#define CH_MIN_MINOR 16
/* 1: the first cut; 2: the rollup tables (ch_rollup.c), whose rows `store migrate` builds for
 * files written before them */
#define CH_SCHEMA_VERSION "2"

/* A file cut short (old) whose counts a later file (new) replaced: they stop counting when new's
 * files row is written (CH_LIVE_FILES).  Made at every open too: stores of the first cut lack it. */
#define CH_SUPERSEDED_TABLE "CREATE TABLE IF NOT EXISTS superseded (old Int64, new Int64) ENGINE = MergeTree ORDER BY old"

/* The small tables: on the store's server only, also in a cluster. */
static const char *const SCHEMA_SMALL[] = {
    "CREATE TABLE IF NOT EXISTS meta (key String, value String, ver UInt64)"
    " ENGINE = ReplacingMergeTree(ver) ORDER BY key",
    "CREATE TABLE IF NOT EXISTS sensors (id Int64, name String, darknet String, v4_addresses UInt64, ver UInt64)"
    " ENGINE = ReplacingMergeTree(ver) ORDER BY name",
    "CREATE TABLE IF NOT EXISTS files (id Int64, hash FixedString(16), path String, bytes UInt64, records UInt64,"
    " truncated UInt8, ingested_at Int64, prefix_hash FixedString(16), have_prefix UInt8, packets UInt64)"
    " ENGINE = MergeTree ORDER BY id",
    "CREATE TABLE IF NOT EXISTS inflight (id Int64, hash FixedString(16), host String, pid UInt32, started Int64)"
    " ENGINE = MergeTree ORDER BY id",
    CH_SUPERSEDED_TABLE,
};

/* The per-file tables: on one server as they are; in a cluster NAME_local on every shard and NAME
 * a Distributed table over them on the store's server, rows placed by `key` (srcsvc by source, so
 * that a source's rows are on one shard; the others by file). */
static const struct ch_table { const char *name, *cols, *engine, *key; } SCHEMA_BIG[] = {
    { "chunks", "file_id Int64, sensor_id Int64, day Date, kind UInt8, nrec UInt64, data String",
      "MergeTree PARTITION BY toYYYYMM(day) ORDER BY (kind, day, sensor_id, file_id)"
      " SETTINGS index_granularity = " CH_CHUNKS_GRANULARITY, "sipHash64(file_id)" },   /* one mark a chunk: ch_chunks.c */
    { "srcsvc", "file_id Int64, sensor_id Int64, day Date, src UInt64, service UInt32, asn UInt32, cc UInt16,"
      " cls UInt8, packets UInt64, tools UInt8, one_sport UInt8, sport UInt16",
      "MergeTree PARTITION BY toYYYYMM(day) ORDER BY (day, sensor_id, service, src)", "sipHash64(src)" },
    { "counts", "file_id Int64, sensor_id Int64, v Array(UInt64)", "MergeTree ORDER BY (file_id, sensor_id)",
      "sipHash64(file_id)" },
    { "coverage", "file_id Int64, sensor_id Int64, source UInt8, first_ns UInt64, last_ns UInt64, hour0 Int64,"
      " has_hours UInt8, hours Array(UInt32)", "MergeTree ORDER BY (sensor_id, first_ns, file_id)",
      "sipHash64(file_id)" },
};

extern const ds_store_ops ds_store_clickhouse;

static ds_rc check_version(ch_store *s, ds_err *err)
{
    ch_buf out = { 0 };
    ds_rc rc = ch_exec(&s->c, "SELECT version()", NULL, &out, err);
    if (rc != DS_OK)
        return rc;
    snprintf(s->c.version, sizeof s->c.version, "%.*s", (int)strcspn((char *)out.p, "\r\n"), (char *)out.p);
    ch_buf_free(&out);
    if (sscanf(s->c.version, "%d.%d", &s->c.major, &s->c.minor) != 2)
        return ds_fail(err, DS_ESTORE, "store %s: the server's version \"%s\" is not a ClickHouse version", s->c.where,
                       s->c.version);
    if (s->c.major < CH_MIN_MAJOR || (s->c.major == CH_MIN_MAJOR && s->c.minor < CH_MIN_MINOR))
        return ds_fail(err, DS_ESTORE, "store %s: ClickHouse %s is older than %d.%d, the oldest release darkscope "
                       "supports", s->c.where, s->c.version, CH_MIN_MAJOR, CH_MIN_MINOR);
    return DS_OK;
}

/* The cluster as the server knows it (system.clusters, from <remote_servers>): as many shards as
 * the URL lists. */
static ds_rc check_cluster(ch_store *s, ds_err *err)
{
    ch_buf out = { 0 };
    ds_rc rc = ch_execf(&s->c, &out, err, "SELECT count() FROM system.clusters WHERE cluster = '%s' AND"
                        " replica_num = 1 FORMAT TSV", s->c.cluster);
    if (rc == DS_OK) {
        unsigned n = (unsigned)atoi((char *)out.p);
        if (!n)
            rc = ds_fail(err, DS_EINVAL, "store %s: the server knows no cluster \"%s\" (its <remote_servers>)",
                         s->c.where, s->c.cluster);
        else if (n != s->c.nshards)
            rc = ds_fail(err, DS_EINVAL, "store %s: cluster %s has %u shards in the server's <remote_servers>, the URL's "
                         "shards= lists %u", s->c.where, s->c.cluster, n, s->c.nshards);
    }
    ch_buf_free(&out);
    return rc;
}

/* "" for one server, else "NAME/N": what meta's `cluster` says, and what the URL must say */
static void cluster_tag(const ch_conn *c, char *buf, size_t len)
{
    if (c->cluster[0])
        snprintf(buf, len, "%s/%u", c->cluster, c->nshards);
    else
        buf[0] = 0;
}

static ds_rc ch_meta_get(ds_store *base, const char *key, char *val, size_t len, ds_err *err);

/* A store made for one server is not opened as a cluster, nor the other way round. */
static ds_rc check_layout(ch_store *s, ds_err *err)
{
    char have[96] = "", want[96];
    ds_err quiet = { 0 };
    cluster_tag(&s->c, want, sizeof want);
    ds_rc rc = ch_meta_get(&s->base, "cluster", have, sizeof have, &quiet);
    if (rc != DS_OK && rc != DS_ENOTFOUND)
        return ds_fail(err, rc, "%s", quiet.msg);
    if (strcmp(have, want) == 0)
        return DS_OK;
    if (!have[0])
        return ds_fail(err, DS_EINVAL, "store %s: the store was made on one server, not on cluster %s", s->c.where,
                       s->c.cluster);
    if (!want[0])
        return ds_fail(err, DS_EINVAL, "store %s: the store was made on cluster %s (shards); add ?cluster=NAME&shards="
                       "HOST:PORT,... ([store] cluster and shards)", s->c.where, have);
    return ds_fail(err, DS_EINVAL, "store %s: the store was made on cluster %s (name/shards), not %s", s->c.where, have,
                   want);
}

static ds_rc create_big(ch_store *s, ds_err *err)
{
    ds_rc rc = DS_OK;
    for (size_t i = 0; i < sizeof SCHEMA_BIG / sizeof SCHEMA_BIG[0] && rc == DS_OK; i++) {
        const struct ch_table *t = &SCHEMA_BIG[i];
        if (!s->c.cluster[0]) {
            rc = ch_execf(&s->c, NULL, err, "CREATE TABLE IF NOT EXISTS %s (%s) ENGINE = %s", t->name, t->cols,
                          t->engine);
            continue;
        }
        for (unsigned k = 0; k < s->c.nshards && rc == DS_OK; k++) {   /* no ON CLUSTER: it needs ZooKeeper */
            ch_conn sh;
            ch_conn_shard(&s->c, k, &sh);
            sh.use_db = 0;
            rc = ch_execf(&sh, NULL, err, "CREATE DATABASE IF NOT EXISTS %s", s->c.db);
            sh.use_db = 1;
            if (rc == DS_OK)
                rc = ch_execf(&sh, NULL, err, "CREATE TABLE IF NOT EXISTS %s_local (%s) ENGINE = %s", t->name, t->cols,
                              t->engine);
            ch_conn_close(&sh);
        }
        if (rc == DS_OK)
            rc = ch_execf(&s->c, NULL, err, "CREATE TABLE IF NOT EXISTS %s (%s) ENGINE = Distributed(%s, %s, %s_local,"
                          " %s)", t->name, t->cols, s->c.cluster, s->c.db, t->name, t->key);
    }
    return rc;
}

static ds_rc ensure_schema(ch_store *s, int create, ds_err *err)
{
    ch_buf out = { 0 };
    ds_rc rc;
    int exists = 0;
    unsigned later = 0;
    s->c.use_db = 0;
    if (s->c.cluster[0] && (rc = check_cluster(s, err)) != DS_OK)
        return rc;
    /* the tables there: whether it is a store, and which tables of later releases it lacks */
    rc = ch_execf(&s->c, &out, err, "SELECT countIf(name = 'files'), countIf(name IN ('superseded',"
                  " 'collector_segments', 'collector_health', 'payload_files', 'payload_data', 'payloads',"
                  " 'collector_lease', 'rollup_files', 'rollup_service', 'rollup_country', 'rollup_asn',"
                  " 'rollup_all', 'rollup_months'))"
                  " FROM system.tables WHERE database = '%s' FORMAT TSV", s->c.db);
    if (rc == DS_OK) {
        unsigned files = 0;
        if (sscanf((char *)out.p, "%u\t%u", &files, &later) != 2)
            rc = ds_fail(err, DS_ESTORE, "store %s: system.tables answered \"%.60s\"", s->c.where, (char *)out.p);
        exists = files != 0;
    }
    ch_buf_free(&out);
    if (rc == DS_OK && !exists && !create)
        rc = ds_fail(err, DS_ENOTFOUND, "store %s: no darkscope store there (run `darkscope store init`, or "
                     "ingest a file)", s->c.where);
    if (rc == DS_OK && create)
        rc = ch_execf(&s->c, NULL, err, "CREATE DATABASE IF NOT EXISTS %s", s->c.db);
    if (rc != DS_OK)
        return rc;
    s->c.use_db = 1;
    if (exists && (rc = check_layout(s, err)) != DS_OK)
        return rc;
    /* tables a store made by an earlier release lacks: made now (CREATE ... IF NOT EXISTS) */
    if (exists && later < 1 + CH_NLEDGER_TABLES + 1 + CH_NROLLUP + 1) {
        rc = ch_exec(&s->c, CH_SUPERSEDED_TABLE, NULL, NULL, err);
        for (size_t i = 0; i < CH_NLEDGER_TABLES && rc == DS_OK; i++)
            rc = ch_exec(&s->c, CH_LEDGER_TABLES[i], NULL, NULL, err);
        if (rc == DS_OK)   /* empty: the files there have no rollups until `store migrate` */
            rc = ch_rollup_create(&s->c, err);
        if (rc == DS_OK)   /* empty: the next ingest builds the closed months */
            rc = ch_exec(&s->c, CH_MONTHS_TABLE, NULL, NULL, err);
        if (rc != DS_OK)
            return rc;
    }
    if (!create)
        return DS_OK;
    for (size_t i = 0; i < sizeof SCHEMA_SMALL / sizeof SCHEMA_SMALL[0] && rc == DS_OK; i++)
        rc = ch_exec(&s->c, SCHEMA_SMALL[i], NULL, NULL, err);
    for (size_t i = 0; i < CH_NLEDGER_TABLES && rc == DS_OK; i++)
        rc = ch_exec(&s->c, CH_LEDGER_TABLES[i], NULL, NULL, err);
    if (rc == DS_OK)
        rc = create_big(s, err);
    if (rc == DS_OK)
        rc = ch_rollup_create(&s->c, err);
    if (rc == DS_OK)
        rc = ch_exec(&s->c, CH_MONTHS_TABLE, NULL, NULL, err);
    if (rc == DS_OK)
        rc = ch_meta_set(&s->base, "schema_version", CH_SCHEMA_VERSION, err);
    if (rc == DS_OK)
        rc = ch_meta_set(&s->base, "clickhouse_version", s->c.version, err);
    if (rc == DS_OK && !exists) {
        char tag[96];
        cluster_tag(&s->c, tag, sizeof tag);
        rc = ch_meta_set(&s->base, "cluster", tag, err);
    }
    return rc;
}

static void ch_close(ds_store *base)
{
    ch_store *s = (ch_store *)base;
    if (!s)
        return;
    ch_tx_drop(s);
    ch_role_release(base);
    ch_conn_close(&s->c);
    free(s);
}

static ds_rc ch_open(ds_store **out, const char *url, int create, ds_err *err)
{
    ch_store *s = calloc(1, sizeof *s);
    ds_rc rc;
    *out = NULL;
    if (!s)
        return ds_fail(err, DS_ENOMEM, "out of memory");
    s->base.ops = &ds_store_clickhouse;
    snprintf(s->url, sizeof s->url, "%s", url);
    if ((rc = ch_parse_url(&s->c, url, err)) != DS_OK || (rc = check_version(s, err)) != DS_OK ||
        (rc = ensure_schema(s, create, err)) != DS_OK) {
        ch_close(&s->base);
        return rc;
    }
    *out = &s->base;
    return DS_OK;
}

/* store init|migrate: the TTLs asked for (first: a server too old for them says so before any
 * work), the chunks table of a store made before one mark per chunk rebuilt (ch_chunks.c), then
 * the rollups of files written before them (ch_rollup.c) */
static ds_rc ch_migrate(ds_store *base, const ds_migrate_opts *o, char *note, size_t notelen, ds_err *err)
{
    ch_store *s = (ch_store *)base;
    size_t built = 0;
    unsigned rebuilt = 0;
    ds_rc rc = ch_ttl_set(&s->c, o->ttl_raw_days, o->ttl_rollup_days, err);
    if (rc == DS_OK)
        rc = ch_chunks_migrate(s, &rebuilt, err);
    if (rc == DS_OK)
        rc = ch_rollup_migrate(&s->c, &built, err);
    if (rc == DS_OK && rebuilt)
        snprintf(note, notelen, "chunks table rebuilt with one mark per chunk on %u server%s%s", rebuilt,
                 rebuilt == 1 ? "" : "s", built ? "; " : "");
    size_t l = strlen(note);
    if (rc == DS_OK && built)
        snprintf(note + l, notelen - l, "rollups built for %zu file%s written before them", built, built == 1 ? "" : "s");
    return rc;
}

static ds_rc ch_reopen(ds_store *base, ds_store **out, ds_err *err)
{
    ch_store *s = (ch_store *)base, *t = calloc(1, sizeof *t);
    *out = NULL;
    if (!t)
        return ds_fail(err, DS_ENOMEM, "out of memory");
    *t = *s;
    t->c.curl = NULL;   /* a handle of its own, for its thread */
    t->tx = NULL;
    *out = &t->base;
    return DS_OK;
}

/* ---- meta ---- */

static ds_rc ch_meta_get(ds_store *base, const char *key, char *val, size_t len, ds_err *err)
{
    ch_store *s = (ch_store *)base;
    ch_buf sql = { 0 }, out = { 0 };
    ch_buf_add(&sql, "SELECT argMax(value, ver) FROM meta WHERE key = ", 48);
    ch_buf_quote(&sql, key);
    ch_buf_printf(&sql, " GROUP BY key FORMAT RowBinary");
    ds_rc rc = sql.oom ? ds_fail(err, DS_ENOMEM, "out of memory") : ch_exec(&s->c, (char *)sql.p, NULL, &out, err);
    if (rc == DS_OK) {
        ch_rd r = { out.p, out.n, 0, 0 };
        const uint8_t *p;
        size_t n;
        if (!out.n)
            rc = DS_ENOTFOUND;
        else if (ch_get_str(&r, &p, &n))
            rc = ds_fail(err, DS_ESTORE, "store %s: a meta answer cut short", s->c.where);
        else
            snprintf(val, len, "%.*s", (int)n, (const char *)p);
    }
    ch_buf_free(&sql);
    ch_buf_free(&out);
    return rc;
}

ds_rc ch_meta_set(ds_store *base, const char *key, const char *val, ds_err *err)
{
    ch_store *s = (ch_store *)base;
    ch_buf body = { 0 };
    ch_rb_str(&body, key, strlen(key));
    ch_rb_str(&body, val, strlen(val));
    ch_rb_u64(&body, ds_now_ns());
    ds_rc rc = body.oom ? ds_fail(err, DS_ENOMEM, "out of memory")
                        : ch_exec(&s->c, "INSERT INTO meta FORMAT RowBinary", &body, NULL, err);
    ch_buf_free(&body);
    return rc;
}

/* ---- sensors ---- */

static ds_rc ch_sensors(ds_store *base, ds_sensor_info **rows, size_t *n, ds_err *err)
{
    ch_store *s = (ch_store *)base;
    ch_buf out = { 0 };
    size_t cap = 0;
    *rows = NULL;
    *n = 0;
    ds_rc rc = ch_execf(&s->c, &out, err, "SELECT argMax(id, ver), name, argMax(darknet, ver), argMax(v4_addresses, ver)"
                        " FROM sensors GROUP BY name ORDER BY name FORMAT RowBinary");
    ch_rd r = { out.p, out.n, 0, 0 };
    while (rc == DS_OK && r.off < r.n) {
        uint64_t id, v4;
        const uint8_t *name, *dn;
        size_t nl, dl;
        if (ch_get_u64(&r, &id) || ch_get_str(&r, &name, &nl) || ch_get_str(&r, &dn, &dl) || ch_get_u64(&r, &v4)) {
            rc = ds_fail(err, DS_ESTORE, "store %s: the sensors answer is cut short", s->c.where);
            break;
        }
        ds_sensor_info *x = ds_grow_push((void **)rows, n, &cap, sizeof **rows, 8);
        if (!x) {
            rc = ds_fail(err, DS_ENOMEM, "out of memory");
            break;
        }
        x->id = (int64_t)id;
        snprintf(x->name, sizeof x->name, "%.*s", (int)nl, (const char *)name);
        snprintf(x->darknet, sizeof x->darknet, "%.*s", (int)dl, (const char *)dn);
        x->v4_addresses = v4;
    }
    ch_buf_free(&out);
    if (rc != DS_OK) {
        free(*rows);
        *rows = NULL;
        *n = 0;
    }
    return rc;
}

/* By name: the id it has, or the next free one (ids, as SQLite's, count from 1 in the order
 * sensors were first written).  Two ingests naming a new sensor at the same instant may give it
 * two ids: docs/clickhouse.md, "Limits". */
ds_rc ch_sensor_upsert(ch_store *s, const ds_sensor_info *info, int64_t *id, ds_err *err)
{
    ds_sensor_info *all = NULL;
    size_t n = 0;
    ds_rc rc = ch_sensors(&s->base, &all, &n, err);
    if (rc != DS_OK)
        return rc;
    int64_t max = 0, have = 0;
    int same = 0;
    for (size_t i = 0; i < n; i++) {
        if (all[i].id > max)
            max = all[i].id;
        if (strcmp(all[i].name, info->name) == 0) {
            have = all[i].id;
            same = strcmp(all[i].darknet, info->darknet) == 0 && all[i].v4_addresses == info->v4_addresses;
        }
    }
    free(all);
    *id = have ? have : max + 1;
    if (same)
        return DS_OK;
    ch_buf body = { 0 };
    ch_rb_u64(&body, (uint64_t)*id);
    ch_rb_str(&body, info->name, strlen(info->name));
    ch_rb_str(&body, info->darknet, strlen(info->darknet));
    ch_rb_u64(&body, info->v4_addresses);
    ch_rb_u64(&body, ds_now_ns());
    rc = body.oom ? ds_fail(err, DS_ENOMEM, "out of memory")
                  : ch_exec(&s->c, "INSERT INTO sensors FORMAT RowBinary", &body, NULL, err);
    ch_buf_free(&body);
    return rc;
}

/* counts.v: packets, outside, outcome[DS_PKT__COUNT], first_ns, last_ns, encap[DS_ENC__COUNT] */
static ds_rc ch_sensor_stats(ds_store *base, ds_sensor_stats **rows, size_t *n, ds_err *err)
{
    ch_store *s = (ch_store *)base;
    ch_buf out = { 0 };
    size_t cap = 0;
    ds_sensor_info *sn = NULL;
    size_t nsn = 0;
    *rows = NULL;
    *n = 0;
    ds_rc rc = ch_sensors(base, &sn, &nsn, err);
    if (rc == DS_OK)
        rc = ch_execf(&s->c, &out, err, "SELECT sensor_id, file_id, v FROM counts WHERE " CH_COMMITTED
                      " ORDER BY sensor_id, file_id FORMAT RowBinary");
    ch_rd r = { out.p, out.n, 0, 0 };
    uint64_t last_file = 0;
    while (rc == DS_OK && r.off < r.n) {
        uint64_t sid, fid, v[2 + DS_PKT__COUNT + 2 + DS_ENC__COUNT] = { 0 };
        size_t len = 0;
        uint8_t lb = 0;
        if (ch_get_u64(&r, &sid) || ch_get_u64(&r, &fid) || ch_get_u8(&r, &lb))
            goto cut;
        len = lb;   /* the array's LEB128 length: far below 128 */
        if (lb & 0x80 || len != sizeof v / sizeof v[0])
            goto cut;
        for (size_t i = 0; i < len; i++)
            if (ch_get_u64(&r, &v[i]))
                goto cut;
        ds_sensor_stats *x = *n ? &(*rows)[*n - 1] : NULL;
        if (!x || x->sensor_id != (int64_t)sid) {
            if (!(x = ds_grow_push((void **)rows, n, &cap, sizeof **rows, 8))) {
                rc = ds_fail(err, DS_ENOMEM, "out of memory");
                break;
            }
            x->sensor_id = (int64_t)sid;
            snprintf(x->name, sizeof x->name, "-");
            for (size_t i = 0; i < nsn; i++)
                if (sn[i].id == (int64_t)sid)
                    snprintf(x->name, sizeof x->name, "%s", sn[i].name);
            last_file = 0;
        }
        size_t k = 0;
        x->c.packets += v[k++];
        x->c.outside += v[k++];
        for (int o = 0; o < DS_PKT__COUNT; o++)
            x->c.outcome[o] += v[k++];
        if (v[k] && (!x->c.first_ns || v[k] < x->c.first_ns))
            x->c.first_ns = v[k];
        k++;
        if (v[k] > x->c.last_ns)
            x->c.last_ns = v[k];
        k++;
        for (int e = 0; e < DS_ENC__COUNT; e++)
            x->c.encap[e] += v[k++];
        if (fid != last_file)
            x->files++;
        last_file = fid;
        continue;
    cut:
        rc = ds_fail(err, DS_ESTORE, "store %s: the counts answer is cut short or has the wrong shape", s->c.where);
    }
    /* as SQLite's: the unattributed row (sensor 0) last, the others by name */
    for (size_t i = 1; rc == DS_OK && i < *n; i++)
        for (size_t j = i; j > 0; j--) {
            ds_sensor_stats *a = &(*rows)[j - 1], *b = &(*rows)[j];
            int after = (a->sensor_id == 0) != (b->sensor_id == 0) ? a->sensor_id == 0 : strcmp(a->name, b->name) > 0;
            if (!after)
                break;
            ds_sensor_stats t = *a;
            *a = *b;
            *b = t;
        }
    free(sn);
    ch_buf_free(&out);
    if (rc != DS_OK) {
        free(*rows);
        *rows = NULL;
        *n = 0;
    }
    return rc;
}

/* ---- chunks: ch_chunks.c ---- */

static ds_rc ch_day_span(ds_store *base, int32_t *first, int32_t *last, ds_err *err)
{
    ch_store *s = (ch_store *)base;
    ch_buf out = { 0 };
    ds_rc rc = ch_execf(&s->c, &out, err, "SELECT min(day), max(day), count() FROM chunks WHERE kind = 1 AND "
                        CH_COMMITTED " FORMAT RowBinary");
    ch_rd r = { out.p, out.n, 0, 0 };
    uint16_t a, b;
    uint64_t cnt;
    if (rc == DS_OK && (ch_get_u16(&r, &a) || ch_get_u16(&r, &b) || ch_get_u64(&r, &cnt)))
        rc = ds_fail(err, DS_ESTORE, "store %s: an answer is cut short", s->c.where);
    else if (rc == DS_OK && !cnt)
        rc = DS_ENOTFOUND;
    else if (rc == DS_OK) {
        *first = a;
        *last = b;
    }
    ch_buf_free(&out);
    return rc;
}

/* ---- coverage ---- */

static ds_rc ch_coverage_span(ds_store *base, uint64_t *first_ns, uint64_t *last_ns, ds_err *err)
{
    ch_store *s = (ch_store *)base;
    ch_buf out = { 0 };
    ds_rc rc = ch_execf(&s->c, &out, err, "SELECT min(first_ns), max(last_ns), count() FROM coverage WHERE "
                        CH_COMMITTED " FORMAT RowBinary");
    ch_rd r = { out.p, out.n, 0, 0 };
    uint64_t cnt;
    if (rc == DS_OK && (ch_get_u64(&r, first_ns) || ch_get_u64(&r, last_ns) || ch_get_u64(&r, &cnt)))
        rc = ds_fail(err, DS_ESTORE, "store %s: an answer is cut short", s->c.where);
    else if (rc == DS_OK && !cnt)
        rc = DS_ENOTFOUND;
    ch_buf_free(&out);
    return rc;
}

static ds_rc ch_coverage_scan(ds_store *base, uint64_t from_ns, uint64_t to_ns, ds_coverage_fn fn, void *ctx,
                              ds_err *err)
{
    ch_store *s = (ch_store *)base;
    ch_buf out = { 0 };
    uint32_t *hours = NULL;
    size_t hcap = 0;
    ds_rc rc = ch_execf(&s->c, &out, err, "SELECT file_id, sensor_id, source, first_ns, last_ns, hour0, has_hours, hours"
                        " FROM coverage WHERE first_ns <= %llu AND last_ns >= %llu AND " CH_COMMITTED
                        " ORDER BY sensor_id, first_ns, file_id FORMAT RowBinary",
                        (unsigned long long)to_ns, (unsigned long long)from_ns);
    ch_rd r = { out.p, out.n, 0, 0 };
    while (rc == DS_OK && r.off < r.n) {
        uint64_t fid, sid, first, last, h0, nh = 0;
        uint8_t src, has;
        if (ch_get_u64(&r, &fid) || ch_get_u64(&r, &sid) || ch_get_u8(&r, &src) || ch_get_u64(&r, &first) ||
            ch_get_u64(&r, &last) || ch_get_u64(&r, &h0) || ch_get_u8(&r, &has))
            goto cut;
        for (int shift = 0;; shift += 7) {   /* the array's LEB128 length */
            uint8_t b;
            if (shift > 63 || ch_get_u8(&r, &b))
                goto cut;
            nh |= (uint64_t)(b & 0x7f) << shift;
            if (!(b & 0x80))
                break;
        }
        if (nh > (r.n - r.off) / 4)
            goto cut;
        if (nh > hcap) {
            uint32_t *nhp = realloc(hours, (size_t)nh * sizeof *hours);
            if (!nhp) {
                rc = ds_fail(err, DS_ENOMEM, "out of memory");
                break;
            }
            hours = nhp;
            hcap = (size_t)nh;
        }
        for (uint64_t i = 0; i < nh; i++)
            ch_get_u32(&r, &hours[i]);
        ds_coverage_row row = { .file_id = (int64_t)fid, .sensor_id = (int64_t)sid, .source = src, .first_ns = first,
                                .last_ns = last, .hour0 = (int64_t)h0, .hours = has ? hours : NULL,
                                .nhours = has ? (size_t)nh : 0 };
        rc = fn(ctx, &row, err);
        continue;
    cut:
        rc = ds_fail(err, DS_ESTORE, "store %s: the coverage answer is cut short", s->c.where);
    }
    free(hours);
    ch_buf_free(&out);
    return rc;
}

static ds_rc ch_upsert_op(ds_store *s, const ds_sensor_info *i, int64_t *id, ds_err *err)
{
    return ch_sensor_upsert((ch_store *)s, i, id, err);
}

static const ds_store_writer_ops ch_writer = {
    .meta_set = ch_meta_set,
    .begin = ch_begin,
    .sensor_upsert = ch_upsert_op,
    .put_chunk = ch_put_chunk,
    .put_chunk_zstd = ch_put_chunk_zstd,
    .put_counts = ch_put_counts,
    .put_coverage = ch_put_coverage,
    .commit = ch_commit,
    .rollback = ch_rollback,
    .file_check = ch_file_check,
    .file_priors = ch_file_priors,
    .supersede = ch_supersede,
};

static const ds_store_reader_ops ch_reader = {
    .meta_get = ch_meta_get,
    .scan = ch_scan,
    .chunks_lacking = ch_chunks_lacking,
    .day_span = ch_day_span,
    .coverage_span = ch_coverage_span,
    .coverage_scan = ch_coverage_scan,
    .sensors = ch_sensors,
    .sensor_stats = ch_sensor_stats,
};

static const ds_store_dump_ops ch_dump = {
    .files = ch_dump_files,
    .file_chunks = ch_dump_chunks,
    .file_counts = ch_dump_counts,
};

const ds_store_ops ds_store_clickhouse = {
    .name = "ClickHouse",
    .open = ch_open,
    .close = ch_close,
    .reopen = ch_reopen,
    .writer = &ch_writer,
    .reader = &ch_reader,
    .ledger = &ch_ledger_ops,
    .payloads = &ch_payload_ops,
    .query = &ch_query_ops,
    .dump = &ch_dump,
    .months = &ch_month_ops,
    .migrate = ch_migrate,
};
