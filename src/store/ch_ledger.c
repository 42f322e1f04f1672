/* ch_ledger.c: the ClickHouse backend's collector ledger (store.h, ds_store_ledger_ops; issues
 * #5, #23).
 *
 * SQLite records a segment and merges its sensor's health in one transaction (sqlite_ledger.c).
 * ClickHouse has no transactions, only INSERTs atomic per block, so what must be exact lives where
 * one INSERT puts it:
 *
 *   collector_segments  one row per segment recorded: the segment as SQLite keeps it, and
 *                       `counted` (ledger_put was given a health: the segment counts in its
 *                       sensor's segments and packets), `upload_at` (the health's last_upload)
 *                       and `ver` (ns at insert).  A segment already recorded is not written
 *                       again; should two writers race, readers take the first row of a (sensor,
 *                       seq) (argMin by ver), so a segment is counted once.  A health's segments,
 *                       packets, last_upload and last_segment are computed from these rows when
 *                       read: they are exact whatever happens between two INSERTs.
 *   collector_health    what sensors report (last seen, newest packet, kernel drops, spool bytes,
 *                       and which of the last two are known), the latest state per sensor:
 *                       ReplacingMergeTree(ver), read with argMax(.., ver) (merges are in the
 *                       background).  ledger_put reads it, merges h as SQLite's upsert does (a
 *                       value h does not have keeps the stored one) and writes the merged state
 *                       with a larger ver.
 *
 * ledger_put writes the segment first, then the health: a crash between them loses a health
 * report, never a count.  The read-merge-write of the health is not atomic: two collectors on one
 * store at once could each lose a report of the other's (docs/clickhouse.md: run one collector
 * per store; a collector has one ledger writer).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/ch_int.h"
#include "util/grow.h"
#include "util/timeutil.h"

const char *const CH_LEDGER_TABLES[] = {
    "CREATE TABLE IF NOT EXISTS collector_segments (sensor String, seq UInt64, hash FixedString(16), packets UInt64,"
    " bytes UInt64, committed_at Int64, first_ns UInt64, last_ns UInt64, counted UInt8, upload_at Int64, ver UInt64)"
    " ENGINE = MergeTree ORDER BY (sensor, seq)",
    "CREATE TABLE IF NOT EXISTS collector_health (name String, last_seen Int64, last_ns UInt64, kernel_drops UInt64,"
    " spool_bytes UInt64, have UInt8, ver UInt64) ENGINE = ReplacingMergeTree(ver) ORDER BY name",
    "CREATE TABLE IF NOT EXISTS payload_files (sensor String, seq UInt64, hash FixedString(16), batch Int64,"
    " rows UInt64, committed_at Int64) ENGINE = MergeTree ORDER BY (sensor, seq, hash)",
    "CREATE TABLE IF NOT EXISTS payload_data (hash FixedString(16), data String)"
    " ENGINE = ReplacingMergeTree ORDER BY hash",
    "CREATE TABLE IF NOT EXISTS payloads (batch Int64, sensor String, file_seq UInt64, ts_ns UInt64, src String,"
    " sport UInt16, dst String, dport UInt16, proto UInt8, tcp_seq UInt32, len UInt32, hash FixedString(16))"
    " ENGINE = MergeTree ORDER BY (proto, dport, ts_ns)",
    /* the collector role's lease: claims, holds, releases, all in the server's time (ch_lease.c) */
    "CREATE TABLE IF NOT EXISTS collector_lease (role String, seq UInt64, kind UInt8, holder String, host String,"
    " pid UInt32, at DateTime DEFAULT now(), expires DateTime) ENGINE = MergeTree ORDER BY (role, seq)",
};
const size_t CH_NLEDGER_TABLES = sizeof CH_LEDGER_TABLES / sizeof CH_LEDGER_TABLES[0];

/* The first recorded row of each (sensor, seq) of `sensor` (argMin by ver), as columns
 * seq, h, p, b, t, f, l (hash, packets, bytes, committed_at, first_ns, last_ns). */
static void segments_of(ch_buf *sql, const char *sensor)
{
    ch_buf_printf(sql, "(SELECT seq, argMin(hash, ver) AS h, argMin(packets, ver) AS p, argMin(bytes, ver) AS b,"
                  " argMin(committed_at, ver) AS t, argMin(first_ns, ver) AS f, argMin(last_ns, ver) AS l"
                  " FROM collector_segments WHERE sensor = ");
    ch_buf_quote(sql, sensor);
    ch_buf_printf(sql, " GROUP BY seq)");
}

static ds_rc cut_short(ch_store *s, const char *what, ds_err *err)
{
    return ds_fail(err, DS_ESTORE, "store %s: the %s answer is cut short", s->c.where, what);
}

static ds_rc run(ch_store *s, ch_buf *sql, ch_buf *out, ds_err *err)
{
    if (sql->oom)
        return ds_fail(err, DS_ENOMEM, "out of memory");
    return ch_exec(&s->c, (const char *)sql->p, NULL, out, err);
}

static ds_rc ch_segment_get(ds_store *base, const char *sensor, uint64_t seq, ds_segment_rec *out, ds_err *err)
{
    ch_store *s = (ch_store *)base;
    ch_buf sql = { 0 }, ans = { 0 };
    ch_buf_printf(&sql, "SELECT h, p, b, t FROM ");
    segments_of(&sql, sensor);
    ch_buf_printf(&sql, " WHERE seq = %llu FORMAT RowBinary", (unsigned long long)seq);
    ds_rc rc = run(s, &sql, &ans, err);
    if (rc == DS_OK && !ans.n)
        rc = DS_ENOTFOUND;
    else if (rc == DS_OK) {
        ch_rd r = { ans.p, ans.n, 0, 0 };
        uint64_t at;
        memset(out, 0, sizeof *out);
        snprintf(out->sensor, sizeof out->sensor, "%s", sensor);
        out->seq = seq;
        if (ch_get_fixed(&r, out->hash, 16) || ch_get_u64(&r, &out->packets) || ch_get_u64(&r, &out->bytes) ||
            ch_get_u64(&r, &at))
            rc = cut_short(s, "segments", err);
        out->committed_at = (int64_t)at;
    }
    ch_buf_free(&sql);
    ch_buf_free(&ans);
    return rc;
}

/* The stored reported values of one sensor; *ver 0 when none. */
static ds_rc health_get(ch_store *s, const char *name, ds_sensor_health *h, uint64_t *ver, ds_err *err)
{
    ch_buf sql = { 0 }, ans = { 0 };
    ch_buf_printf(&sql, "SELECT argMax(last_seen, ver), argMax(last_ns, ver), argMax(kernel_drops, ver),"
                  " argMax(spool_bytes, ver), argMax(have, ver), max(ver) FROM collector_health WHERE name = ");
    ch_buf_quote(&sql, name);
    ch_buf_printf(&sql, " GROUP BY name FORMAT RowBinary");
    ds_rc rc = run(s, &sql, &ans, err);
    memset(h, 0, sizeof *h);
    *ver = 0;
    if (rc == DS_OK && ans.n) {
        ch_rd r = { ans.p, ans.n, 0, 0 };
        uint64_t seen;
        uint8_t have;
        if (ch_get_u64(&r, &seen) || ch_get_u64(&r, &h->last_ns) || ch_get_u64(&r, &h->kernel_drops) ||
            ch_get_u64(&r, &h->spool_bytes) || ch_get_u8(&r, &have) || ch_get_u64(&r, ver))
            rc = cut_short(s, "health", err);
        h->last_seen = (int64_t)seen;
        h->have = have;
    }
    ch_buf_free(&sql);
    ch_buf_free(&ans);
    return rc;
}

static ds_rc ch_ledger_put(ds_store *base, const ds_segment_rec *seg, const ds_sensor_health *h, ds_err *err)
{
    ch_store *s = (ch_store *)base;
    ch_buf body = { 0 };
    ds_rc rc = DS_OK;
    if (seg) {   /* one already recorded is kept as it is (and counted once) */
        ds_segment_rec old;
        rc = ch_segment_get(base, seg->sensor, seg->seq, &old, err);
        if (rc == DS_ENOTFOUND) {
            ch_rb_str(&body, seg->sensor, strlen(seg->sensor));
            ch_rb_u64(&body, seg->seq);
            ch_buf_add(&body, seg->hash, 16);
            ch_rb_u64(&body, seg->packets);
            ch_rb_u64(&body, seg->bytes);
            ch_rb_u64(&body, (uint64_t)seg->committed_at);
            /* as SQLite's span_ns: a time past INT64_MAX is kept as unknown */
            ch_rb_u64(&body, seg->first_ns > (uint64_t)INT64_MAX ? 0 : seg->first_ns);
            ch_rb_u64(&body, seg->last_ns > (uint64_t)INT64_MAX ? 0 : seg->last_ns);
            ch_rb_u8(&body, h != NULL);
            ch_rb_u64(&body, (uint64_t)(h ? h->last_upload : 0));
            ch_rb_u64(&body, ds_now_ns());
            rc = body.oom ? ds_fail(err, DS_ENOMEM, "out of memory")
                          : ch_exec(&s->c, "INSERT INTO collector_segments FORMAT RowBinary", &body, NULL, err);
        }
        if (rc != DS_OK)
            goto out;
    }
    if (h) {
        ds_sensor_health m;
        uint64_t ver;
        if ((rc = health_get(s, h->name, &m, &ver, err)) != DS_OK)
            goto out;
        if (h->last_seen > m.last_seen)
            m.last_seen = h->last_seen;
        if (h->last_ns > m.last_ns)
            m.last_ns = h->last_ns;
        if (h->have & DS_HEALTH_HAVE_DROPS)
            m.kernel_drops = h->kernel_drops;
        if (h->have & DS_HEALTH_HAVE_SPOOL)
            m.spool_bytes = h->spool_bytes;
        m.have |= h->have & (DS_HEALTH_HAVE_DROPS | DS_HEALTH_HAVE_SPOOL);
        uint64_t v = ds_now_ns();   /* later than the stored state's, even if the clock stepped back */
        if (v <= ver)
            v = ver + 1;
        ch_buf_free(&body);
        ch_rb_str(&body, h->name, strlen(h->name));
        ch_rb_u64(&body, (uint64_t)m.last_seen);
        ch_rb_u64(&body, m.last_ns);
        ch_rb_u64(&body, m.kernel_drops);
        ch_rb_u64(&body, m.spool_bytes);
        ch_rb_u8(&body, (uint8_t)m.have);
        ch_rb_u64(&body, v);
        rc = body.oom ? ds_fail(err, DS_ENOMEM, "out of memory")
                      : ch_exec(&s->c, "INSERT INTO collector_health FORMAT RowBinary", &body, NULL, err);
    }
out:
    ch_buf_free(&body);
    return rc;
}

static ds_sensor_health *health_row(ds_sensor_health **rows, size_t *n, size_t *cap, const uint8_t *name, size_t len)
{
    for (size_t i = 0; i < *n; i++)
        if (strlen((*rows)[i].name) == len && memcmp((*rows)[i].name, name, len) == 0)
            return &(*rows)[i];
    if (*n == *cap) {
        void *nr = ds_grow(*rows, cap, sizeof **rows, 8);
        if (!nr)
            return NULL;
        *rows = nr;
    }
    ds_sensor_health *r = &(*rows)[(*n)++];
    memset(r, 0, sizeof *r);
    snprintf(r->name, sizeof r->name, "%.*s", (int)len, (const char *)name);
    return r;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(((const ds_sensor_health *)a)->name, ((const ds_sensor_health *)b)->name);
}

/* Every sensor's health: the reported values (collector_health) and the counts (the segments
 * that counted, first row of each), merged by name; by name bytewise, as SQLite's. */
static ds_rc ch_sensor_health(ds_store *base, ds_sensor_health **rows, size_t *n, ds_err *err)
{
    ch_store *s = (ch_store *)base;
    ch_buf a = { 0 }, b = { 0 };
    size_t cap = 0;
    *rows = NULL;
    *n = 0;
    ds_rc rc = ch_execf(&s->c, &a, err, "SELECT name, argMax(last_seen, ver), argMax(last_ns, ver),"
                        " argMax(kernel_drops, ver), argMax(spool_bytes, ver), argMax(have, ver)"
                        " FROM collector_health GROUP BY name FORMAT RowBinary");
    if (rc == DS_OK)
        rc = ch_execf(&s->c, &b, err, "SELECT sensor, sum(c), sumIf(p, c = 1), maxIf(u, c = 1), argMaxIf(seq, v, c = 1)"
                      " FROM (SELECT sensor, seq, argMin(counted, ver) AS c, argMin(packets, ver) AS p,"
                      " argMin(upload_at, ver) AS u, min(ver) AS v FROM collector_segments GROUP BY sensor, seq)"
                      " GROUP BY sensor HAVING sum(c) > 0 FORMAT RowBinary");
    ch_rd r = { a.p, a.n, 0, 0 };
    while (rc == DS_OK && r.off < r.n) {
        const uint8_t *name;
        size_t len;
        uint64_t seen, last_ns, drops, spool;
        uint8_t have;
        if (ch_get_str(&r, &name, &len) || ch_get_u64(&r, &seen) || ch_get_u64(&r, &last_ns) ||
            ch_get_u64(&r, &drops) || ch_get_u64(&r, &spool) || ch_get_u8(&r, &have)) {
            rc = cut_short(s, "health", err);
            break;
        }
        ds_sensor_health *h = health_row(rows, n, &cap, name, len);
        if (!h) {
            rc = ds_fail(err, DS_ENOMEM, "out of memory");
            break;
        }
        h->last_seen = (int64_t)seen;
        h->last_ns = last_ns;
        h->have = have & (DS_HEALTH_HAVE_DROPS | DS_HEALTH_HAVE_SPOOL);
        h->kernel_drops = h->have & DS_HEALTH_HAVE_DROPS ? drops : 0;
        h->spool_bytes = h->have & DS_HEALTH_HAVE_SPOOL ? spool : 0;
    }
    r = (ch_rd){ b.p, b.n, 0, 0 };
    while (rc == DS_OK && r.off < r.n) {
        const uint8_t *name;
        size_t len;
        uint64_t segs, packets, upload, last;
        if (ch_get_str(&r, &name, &len) || ch_get_u64(&r, &segs) || ch_get_u64(&r, &packets) ||
            ch_get_u64(&r, &upload) || ch_get_u64(&r, &last)) {
            rc = cut_short(s, "segments", err);
            break;
        }
        ds_sensor_health *h = health_row(rows, n, &cap, name, len);
        if (!h) {
            rc = ds_fail(err, DS_ENOMEM, "out of memory");
            break;
        }
        h->segments = segs;
        h->packets = packets;
        h->last_upload = (int64_t)upload;
        h->last_segment = last;
    }
    if (rc == DS_OK && *n > 1)
        qsort(*rows, *n, sizeof **rows, by_name);
    ch_buf_free(&a);
    ch_buf_free(&b);
    if (rc != DS_OK) {
        free(*rows);
        *rows = NULL;
        *n = 0;
    }
    return rc;
}

/* As SQLite's: the segments committed in [from, to], with the last one before from and the first
 * after to (all of their second), oldest first. */
static ds_rc ch_segments_list(ds_store *base, const char *sensor, int64_t from, int64_t to, ds_segment_rec **rows,
                              size_t *n, ds_err *err)
{
    ch_store *s = (ch_store *)base;
    ch_buf sql = { 0 }, ans = { 0 };
    size_t cap = 0;
    *rows = NULL;
    *n = 0;
    ch_buf_printf(&sql, "SELECT countIf(t < %lld), maxIf(t, t < %lld), countIf(t > %lld), minIf(t, t > %lld) FROM ",
                  (long long)from, (long long)from, (long long)to, (long long)to);
    segments_of(&sql, sensor);
    ch_buf_printf(&sql, " FORMAT RowBinary");
    ds_rc rc = run(s, &sql, &ans, err);
    uint64_t nlo = 0, lo = 0, nhi = 0, hi = 0;
    if (rc == DS_OK) {
        ch_rd r = { ans.p, ans.n, 0, 0 };
        if (ch_get_u64(&r, &nlo) || ch_get_u64(&r, &lo) || ch_get_u64(&r, &nhi) || ch_get_u64(&r, &hi))
            rc = cut_short(s, "segments", err);
    }
    if (rc == DS_OK) {
        ch_buf_free(&sql);
        ch_buf_printf(&sql, "SELECT seq, h, p, b, t, f, l FROM ");
        segments_of(&sql, sensor);
        ch_buf_printf(&sql, " WHERE t >= %lld AND t <= %lld ORDER BY t, seq FORMAT RowBinary",
                      nlo ? (long long)(int64_t)lo : (long long)from, nhi ? (long long)(int64_t)hi : (long long)to);
        rc = run(s, &sql, &ans, err);
    }
    ch_rd r = { ans.p, ans.n, 0, 0 };
    while (rc == DS_OK && r.off < r.n) {
        if (*n == cap) {
            void *nr = ds_grow(*rows, &cap, sizeof **rows, 16);
            if (!nr) {
                rc = ds_fail(err, DS_ENOMEM, "out of memory listing the segments of sensor %s", sensor);
                break;
            }
            *rows = nr;
        }
        ds_segment_rec *x = &(*rows)[*n];
        uint64_t at;
        memset(x, 0, sizeof *x);
        snprintf(x->sensor, sizeof x->sensor, "%s", sensor);
        if (ch_get_u64(&r, &x->seq) || ch_get_fixed(&r, x->hash, 16) || ch_get_u64(&r, &x->packets) ||
            ch_get_u64(&r, &x->bytes) || ch_get_u64(&r, &at) || ch_get_u64(&r, &x->first_ns) ||
            ch_get_u64(&r, &x->last_ns)) {
            rc = cut_short(s, "segments", err);
            break;
        }
        x->committed_at = (int64_t)at;
        (*n)++;
    }
    ch_buf_free(&sql);
    ch_buf_free(&ans);
    if (rc != DS_OK) {
        free(*rows);
        *rows = NULL;
        *n = 0;
    }
    return rc;
}

const ds_store_ledger_ops ch_ledger_ops = {
    .segment_get = ch_segment_get,
    .ledger_put = ch_ledger_put,
    .sensor_health = ch_sensor_health,
    .segments_list = ch_segments_list,
    .role_take = ch_role_take,
    .role_check = ch_role_check,
    .role_release = ch_role_release,
};
