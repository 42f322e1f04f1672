/* ch_payloads.c: the ClickHouse backend's first payloads (store.h, ds_store_payload_ops; issues
 * #5, #23).
 *
 * The tables mirror SQLite's (sqlite_payloads.c; created by ch_ledger.c's CH_LEDGER_TABLES):
 * payload_data holds each distinct content once by its XXH3-128 (ReplacingMergeTree: a content
 * written twice is one row after a merge, and readers take any(data) by hash meanwhile);
 * payloads one row per payload; payload_files one row per uploaded file (sensor, seq, hash).
 *
 * A batch without a transaction, as a file of captures (ch_writer.c): its payloads carry a batch
 * id (ch_new_id: unique, increasing with time), and its payload_files row, written last in one
 * INSERT, is its commit.  Readers count a payload only when its batch is the first one committed
 * of its (sensor, seq, hash) (`batch IN (SELECT min(batch) FROM payload_files GROUP BY sensor,
 * seq, hash)`): a batch cut off before its marker is never seen, and should two uploads of one
 * file race past the duplicate check (two collectors), only one of them counts.  payloads_put
 * refuses a (sensor, seq, hash) already in payload_files with DS_EEXIST.  The payloads of batches
 * that never committed are deleted, once per handle, when more than a day old (no put takes that
 * long).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "store/ch_int.h"
#include "util/grow.h"

#define CH_VISIBLE "batch IN (SELECT min(batch) FROM payload_files GROUP BY sensor, seq, hash)"
#define CH_DEAD_AFTER_US (86400LL * 1000000)
#define CH_DEAD_MAX 1000   /* dead batches deleted at a time */

static void payload_hash(const uint8_t *data, size_t len, uint8_t out[16])
{
    XXH128_canonical_t c;
    XXH128_canonicalFromHash(&c, XXH3_128bits(data, len));
    memcpy(out, c.digest, 16);
}

/* Payloads of batches with no payload_files row, older than a day: deleted (a mutation, in the
 * background; they are never read meanwhile).  Best effort: a failure leaves rows nobody reads. */
static void clean_dead(ch_store *s)
{
    ch_buf ids = { 0 }, sql = { 0 };
    ds_err quiet = { 0 };
    int64_t cut = (ch_new_id() / 1024 - CH_DEAD_AFTER_US) * 1024;
    s->payloads_cleaned = 1;
    if (ch_execf(&s->c, &ids, &quiet, "SELECT DISTINCT batch FROM payloads WHERE batch < %lld AND batch NOT IN"
                 " (SELECT batch FROM payload_files) LIMIT %d FORMAT TSV", (long long)cut, CH_DEAD_MAX) != DS_OK ||
        !ids.n)
        goto out;
    for (size_t i = 0; i < ids.n; i++)
        if (ids.p[i] == '\n')
            ids.p[i] = i + 1 == ids.n ? ' ' : ',';
    ch_buf_printf(&sql, "ALTER TABLE payloads DELETE WHERE batch IN (%s)", (const char *)ids.p);
    if (!sql.oom)
        (void)ch_exec(&s->c, (const char *)sql.p, NULL, NULL, &quiet);
out:
    ch_buf_free(&ids);
    ch_buf_free(&sql);
}

typedef struct hashed { uint8_t h[16]; size_t row; } hashed;
static int by_hash(const void *a, const void *b) { return memcmp(((const hashed *)a)->h, ((const hashed *)b)->h, 16); }

static ds_rc ch_payloads_put(ds_store *base, const ds_payload_batch *b, ds_err *err)
{
    ch_store *s = (ch_store *)base;
    ch_buf sql = { 0 }, ans = { 0 }, data = { 0 }, rows = { 0 }, file = { 0 };
    hashed *h = NULL;
    ds_rc rc = DS_OK;
    char hx[33];
    for (size_t i = 0; i < b->n; i++)   /* refuse before writing anything */
        if (b->rows[i].data_len > DS_PAYLOAD_MAX || b->rows[i].ts_ns > (uint64_t)INT64_MAX ||
            (b->rows[i].data_len && !b->rows[i].data))
            return ds_fail(err, DS_EINVAL, "store: payload %zu of sensor %s file %llu is out of range", i + 1,
                           b->sensor, (unsigned long long)b->seq);
    if (!s->payloads_cleaned)
        clean_dead(s);
    ch_hex16(b->hash, hx);
    ch_buf_printf(&sql, "SELECT count() FROM payload_files WHERE sensor = ");
    ch_buf_quote(&sql, b->sensor);
    ch_buf_printf(&sql, " AND seq = %llu AND hash = unhex('%s') FORMAT TSV", (unsigned long long)b->seq, hx);
    rc = sql.oom ? ds_fail(err, DS_ENOMEM, "out of memory") : ch_exec(&s->c, (const char *)sql.p, NULL, &ans, err);
    if (rc != DS_OK)
        goto out;
    if (atoll((const char *)ans.p) > 0) {
        rc = ds_fail(err, DS_EEXIST, "payload file %llu of sensor %s is already stored", (unsigned long long)b->seq,
                     b->sensor);
        goto out;
    }
    if (b->n && !(h = malloc(b->n * sizeof *h))) {
        rc = ds_fail(err, DS_ENOMEM, "out of memory storing %zu payloads", b->n);
        goto out;
    }
    int64_t batch = ch_new_id();
    for (size_t i = 0; i < b->n; i++) {
        const ds_payload *p = &b->rows[i];
        static const uint8_t none = 0;
        payload_hash(p->data_len ? p->data : &none, p->data_len, h[i].h);
        h[i].row = i;
        ch_rb_u64(&rows, (uint64_t)batch);
        ch_rb_str(&rows, b->sensor, strlen(b->sensor));
        ch_rb_u64(&rows, b->seq);
        ch_rb_u64(&rows, p->ts_ns);
        ch_rb_str(&rows, p->src, strlen(p->src));
        ch_rb_u16(&rows, p->sport);
        ch_rb_str(&rows, p->dst, strlen(p->dst));
        ch_rb_u16(&rows, p->dport);
        ch_rb_u8(&rows, p->proto);
        ch_rb_u32(&rows, p->tcp_seq);
        ch_rb_u32(&rows, p->len);
        ch_buf_add(&rows, h[i].h, 16);
    }
    /* each distinct content of the batch once (scanners repeat a few requests) */
    if (b->n)
        qsort(h, b->n, sizeof *h, by_hash);
    for (size_t i = 0; i < b->n; i++) {
        const ds_payload *p = &b->rows[h[i].row];
        if (i && memcmp(h[i].h, h[i - 1].h, 16) == 0)
            continue;
        ch_buf_add(&data, h[i].h, 16);
        ch_rb_str(&data, p->data_len ? p->data : (const uint8_t *)"", p->data_len);
    }
    ch_rb_str(&file, b->sensor, strlen(b->sensor));
    ch_rb_u64(&file, b->seq);
    ch_buf_add(&file, b->hash, 16);
    ch_rb_u64(&file, (uint64_t)batch);
    ch_rb_u64(&file, b->n);
    ch_rb_u64(&file, (uint64_t)b->committed_at);
    if (data.oom || rows.oom || file.oom) {
        rc = ds_fail(err, DS_ENOMEM, "out of memory storing %zu payloads", b->n);
        goto out;
    }
    /* the contents, the payloads, and last the file's row: the commit */
    if ((data.n && (rc = ch_exec(&s->c, "INSERT INTO payload_data FORMAT RowBinary", &data, NULL, err)) != DS_OK) ||
        (rows.n && (rc = ch_exec(&s->c, "INSERT INTO payloads FORMAT RowBinary", &rows, NULL, err)) != DS_OK))
        goto out;
    rc = ch_exec(&s->c, "INSERT INTO payload_files FORMAT RowBinary", &file, NULL, err);
out:
    free(h);
    ch_buf_free(&sql);
    ch_buf_free(&ans);
    ch_buf_free(&data);
    ch_buf_free(&rows);
    ch_buf_free(&file);
    return rc;
}

/* The WHERE clause of q over payloads: committed batches, and only the conditions q has. */
static void payload_where(ch_buf *sql, const ds_payload_query *q)
{
    uint64_t from = q->from_ns > (uint64_t)INT64_MAX ? (uint64_t)INT64_MAX : q->from_ns;
    ch_buf_printf(sql, " WHERE " CH_VISIBLE " AND ts_ns >= %llu", (unsigned long long)from);
    if (q->sensor) {
        ch_buf_printf(sql, " AND sensor = ");
        ch_buf_quote(sql, q->sensor);
    }
    if (q->have_service)
        ch_buf_printf(sql, " AND proto = %u AND dport = %u", (unsigned)(q->service >> 16 & 0xff),
                      (unsigned)(q->service & 0xffff));
    if (q->to_ns)
        ch_buf_printf(sql, " AND ts_ns < %llu",
                      (unsigned long long)(q->to_ns > (uint64_t)INT64_MAX ? (uint64_t)INT64_MAX : q->to_ns));
    if (q->source) {
        ch_buf_printf(sql, " AND src = ");
        ch_buf_quote(sql, q->source);
    }
}

static void limit(ch_buf *sql, const ds_payload_query *q)
{
    if (q->limit)
        ch_buf_printf(sql, " LIMIT %llu", (unsigned long long)q->limit);
}

/* Order contract (store.h, payloads_query): content only; String and FixedString compare
 * bytewise in ClickHouse, as SQLite's BINARY and memcmp do.  Columns of both shapes: sensor,
 * first, last, src, sport, dst, dport, proto, tcp_seq, len, hash, count, sources, data. */
static void build_rows(ch_buf *sql, const ds_payload_query *q)
{
    if (q->top) {
        ch_buf_printf(sql, "SELECT '', f, l, s, toUInt16(0), d, dport, proto, toUInt32(0), n, hash, c, u, data FROM"
                      " (SELECT min(ts_ns) AS f, max(ts_ns) AS l, min(src) AS s, min(dst) AS d, dport, proto,"
                      " max(len) AS n, hash, count() AS c, uniqExact(src) AS u FROM payloads");
        payload_where(sql, q);
        ch_buf_printf(sql, " GROUP BY proto, dport, hash ORDER BY c DESC, u DESC, f, hash, proto, dport");
    } else {
        ch_buf_printf(sql, "SELECT sensor, ts_ns, ts_ns, src, sport, dst, dport, proto, tcp_seq, len, hash,"
                      " toUInt64(1), toUInt64(1), data FROM (SELECT sensor, ts_ns, src, sport, dst, dport, proto,"
                      " tcp_seq, len, hash FROM payloads");
        payload_where(sql, q);
        ch_buf_printf(sql, " ORDER BY ts_ns, sensor, src, sport, dst, dport, proto, tcp_seq, hash, len");
    }
    limit(sql, q);
    /* each content once, only those of the payloads matched */
    ch_buf_printf(sql, ") ANY LEFT JOIN (SELECT hash, any(data) AS data FROM payload_data WHERE hash IN"
                  " (SELECT hash FROM payloads");
    payload_where(sql, q);
    ch_buf_printf(sql, ") GROUP BY hash) USING hash ORDER BY ");
    ch_buf_printf(sql, q->top ? "c DESC, u DESC, f, hash, proto, dport"
                              : "ts_ns, sensor, src, sport, dst, dport, proto, tcp_seq, hash, len");
    limit(sql, q);
    ch_buf_printf(sql, " FORMAT RowBinary");
}

static int get_text(ch_rd *r, char *out, size_t len)
{
    const uint8_t *p;
    size_t n;
    if (ch_get_str(r, &p, &n))
        return -1;
    snprintf(out, len, "%.*s", (int)(n < len ? n : len - 1), (const char *)p);
    return 0;
}

static ds_rc ch_payloads_query(ds_store *base, const ds_payload_query *q, ds_payload_row **rows, size_t *n,
                               uint64_t *total, ds_err *err)
{
    ch_store *s = (ch_store *)base;
    ch_buf sql = { 0 }, ans = { 0 };
    size_t cap = 0;
    ds_rc rc;
    *rows = NULL;
    *n = 0;
    *total = 0;
    ch_buf_printf(&sql, q->top ? "SELECT count() FROM (SELECT 1 FROM payloads" : "SELECT count() FROM payloads");
    payload_where(&sql, q);
    ch_buf_printf(&sql, q->top ? " GROUP BY proto, dport, hash) FORMAT TSV" : " FORMAT TSV");
    rc = sql.oom ? ds_fail(err, DS_ENOMEM, "out of memory") : ch_exec(&s->c, (const char *)sql.p, NULL, &ans, err);
    if (rc != DS_OK)
        goto out;
    *total = strtoull((const char *)ans.p, NULL, 10);
    if (!*total)
        goto out;
    ch_buf_free(&sql);
    build_rows(&sql, q);
    rc = sql.oom ? ds_fail(err, DS_ENOMEM, "out of memory") : ch_exec(&s->c, (const char *)sql.p, NULL, &ans, err);
    ch_rd r = { ans.p, ans.n, 0, 0 };
    while (rc == DS_OK && r.off < r.n) {
        if (*n == cap) {
            void *nr = ds_grow(*rows, &cap, sizeof **rows, 64);
            if (!nr) {
                rc = ds_fail(err, DS_ENOMEM, "out of memory");
                break;
            }
            *rows = nr;
        }
        ds_payload_row *x = &(*rows)[*n];
        memset(x, 0, sizeof *x);
        const uint8_t *d;
        size_t dl;
        if (get_text(&r, x->sensor, sizeof x->sensor) || ch_get_u64(&r, &x->first_ns) || ch_get_u64(&r, &x->last_ns) ||
            get_text(&r, x->src, sizeof x->src) || ch_get_u16(&r, &x->sport) || get_text(&r, x->dst, sizeof x->dst) ||
            ch_get_u16(&r, &x->dport) || ch_get_u8(&r, &x->proto) || ch_get_u32(&r, &x->tcp_seq) ||
            ch_get_u32(&r, &x->len) || ch_get_fixed(&r, x->hash, 16) || ch_get_u64(&r, &x->count) ||
            ch_get_u64(&r, &x->sources) || ch_get_str(&r, &d, &dl)) {
            rc = ds_fail(err, DS_ESTORE, "store %s: the payloads answer is cut short", s->c.where);
            break;
        }
        if (dl > DS_PAYLOAD_MAX) {
            rc = ds_fail(err, DS_ESTORE, "store %s: a stored payload has %zu bytes (at most %u)", s->c.where, dl,
                         DS_PAYLOAD_MAX);
            break;
        }
        if (!(x->data = malloc(dl ? dl : 1))) {
            rc = ds_fail(err, DS_ENOMEM, "out of memory");
            break;
        }
        if (dl)
            memcpy(x->data, d, dl);
        x->data_len = dl;
        (*n)++;
    }
out:
    ch_buf_free(&sql);
    ch_buf_free(&ans);
    if (rc != DS_OK) {
        ds_payload_rows_free(*rows, *n);
        *rows = NULL;
        *n = 0;
        *total = 0;
    }
    return rc;
}

const ds_store_payload_ops ch_payload_ops = {
    .payloads_put = ch_payloads_put,
    .payloads_query = ch_payloads_query,
};
