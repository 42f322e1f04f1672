/* ch_query.c: `top` and the report's cubes answered by ClickHouse (store/query.h).
 *
 * `top ports|countries|asns` whose filters are a sensor, a class and values of the ranked
 * dimension read the rollup tables instead (ch_rollup.c: per day, sensor, class, key and file,
 * sumState and uniqExactState), once every live file has them and DS_NO_ROLLUP is not set.
 *
 * Otherwise both read `srcsvc`, the per-source daily rows (one per SRCSVC record: source, service, ASN,
 * country, class, packets, tools, source port), of committed files only, and ask ClickHouse for
 * the sums and exact distinct counts (uniqExact) that analysis/top.c and cube.c compute from the
 * chunks; the filter (store/filter.h) becomes the WHERE clause, field for field as
 * ds_filter_match reads it.  WITH TOTALS gives the filtered totals (packets, distinct sources) in
 * the same statement.  What remains in C is what top.c does after its passes: share and rate
 * arithmetic, in the same order of operations, so that the output is the same to the byte.
 *
 * `top sources` is one GROUP BY src over `srcsvc` too: packets, days, the country and ASN of the
 * source's last day (the greatest (country, ASN) of that day: top_tables.h's src_geo_after), and
 * its first and last day.  What `srcsvc` lacks is the first and last sighting to the nanosecond
 * and an IPv6 source's address: analysis/top.c reads them from the SOURCES chunks of the printed
 * rows' first and last days only (ds_top_row.first_day, last_day), not from the period's chunks.
 * With a filter other than the sensor, those days are the source's own over every record (a
 * second statement over the printed sources), as the chunk code's detail reads.
 *
 * Not answered here (the entry declines with DS_ENOTFOUND and the chunk code answers through
 * scan()): filters with more than CH_MAX_SET excluded or only-counted sources.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/records.h"
#include "store/ch_int.h"
#include "store/rollup_months.h"

#define CH_MAX_SET 200000

static void add_set(ch_buf *w, const char *op, const ds_u64set *set)
{
    size_t k = 0;
    ch_buf_printf(w, " AND src %s (", op);
    for (size_t i = 0; i < set->cap; i++)
        if (set->e[i])
            ch_buf_printf(w, "%s%llu", k++ ? "," : "", (unsigned long long)set->e[i]);
    if (set->has_zero)
        ch_buf_printf(w, "%s0", k++ ? "," : "");
    if (!k)
        ch_buf_printf(w, "18446744073709551615");   /* no source: an empty IN list is a syntax error */
    ch_buf_printf(w, ")");
}

/* The WHERE clause of f over days [from, to]; 0, or -1 when a set is too large to send. */
static int where(ch_buf *w, const ds_filter *f, int32_t from, int32_t to)
{
    if ((f->exclude && f->exclude->n > CH_MAX_SET) || (f->only && f->only->n > CH_MAX_SET))
        return -1;
    ch_buf_printf(w, " WHERE " CH_COMMITTED " AND day BETWEEN toDate(%d) AND toDate(%d)", from < 0 ? 0 : (int)from,
                  to > 65535 ? 65535 : (int)to);
    if (f->sensor_id > 0)
        ch_buf_printf(w, " AND sensor_id = %lld", (long long)f->sensor_id);
    if (f->one_source)
        ch_buf_printf(w, " AND src = %llu", (unsigned long long)f->source);
    if (f->cls >= 0)
        ch_buf_printf(w, " AND cls = %d", f->cls);
    for (size_t i = 0; i < f->nports; i++)
        ch_buf_printf(w, "%s%u%s", i ? "," : " AND service IN (", (unsigned)f->ports[i], i + 1 == f->nports ? ")" : "");
    for (size_t i = 0; i < f->ncountries; i++)
        ch_buf_printf(w, "%s%u%s", i ? "," : " AND cc IN (", (unsigned)f->countries[i], i + 1 == f->ncountries ? ")" : "");
    for (size_t i = 0; i < f->nasns; i++)
        ch_buf_printf(w, "%s%u%s", i ? "," : " AND asn IN (", (unsigned)f->asns[i], i + 1 == f->nasns ? ")" : "");
    if (f->exclude)
        add_set(w, "NOT IN", f->exclude);
    if (f->only)
        add_set(w, "IN", f->only);
    if (f->tools)
        ch_buf_printf(w, " AND bitAnd(tools, %u) != 0", f->tools & 0xffu);
    return 0;
}

/* One TSV line of n unsigned numbers; 0, or -1 when it is not that. */
static int tsv_nums(const char **p, const char *end, uint64_t *v, int n)
{
    for (int i = 0; i < n; i++) {
        char *e;
        if (*p >= end || **p < '0' || **p > '9')
            return -1;
        v[i] = strtoull(*p, &e, 10);
        if (e >= end || *e != (i + 1 < n ? '\t' : '\n'))
            return -1;
        *p = e + 1;
    }
    return 0;
}

/* Runs sql (GROUP BY ... WITH TOTALS, FORMAT TSV, ncol numeric columns) and hands each row to
 * fn, then the totals (all zero when no row matched) to tot. */
typedef int (*row_fn)(void *ctx, const uint64_t *v);
static ds_rc grouped(ch_store *s, const ch_buf *sql, int ncol, row_fn fn, void *ctx, uint64_t *tot, ds_err *err)
{
    ch_buf out = { 0 };
    if (sql->oom)
        return ds_fail(err, DS_ENOMEM, "out of memory");
    ds_rc rc = ch_exec(&s->c, (const char *)sql->p, NULL, &out, err);
    const char *p = (const char *)out.p, *end = p + out.n;
    memset(tot, 0, (size_t)ncol * sizeof *tot);
    while (rc == DS_OK && p < end && *p != '\n') {
        uint64_t v[8];
        if (tsv_nums(&p, end, v, ncol) != 0)
            rc = ds_fail(err, DS_ESTORE, "store %s: an answer of ClickHouse is not the rows asked for", s->c.where);
        else if (fn(ctx, v) != 0)
            rc = ds_fail(err, DS_ENOMEM, "out of memory");
    }
    if (rc == DS_OK && p < end) {   /* a blank line, then the totals */
        p++;
        if (tsv_nums(&p, end, tot, ncol) != 0)
            rc = ds_fail(err, DS_ESTORE, "store %s: an answer of ClickHouse has no totals", s->c.where);
    }
    ch_buf_free(&out);
    return rc;
}

/* ---- top from the rollups (ch_rollup.c) ---- */

/* DS_NO_ROLLUP=1: never the rollups (analysis/rollups.h's variable: the tests compare both paths) */
static int rollups_off(void)
{
    const char *v = getenv("DS_NO_ROLLUP");
    return v && *v && strcmp(v, "0") != 0;
}

/* The filters the rollups answer exactly: a sensor, a class, values of the ranked dimension
 * (analysis/top_rollup.c's rollup condition). */
static int rollup_fits(const ds_top_query *q)
{
    switch (q->dim) {
    case DS_TOP_PORTS: return !q->ncountries && !q->nasns && !q->exclude && !q->only && !q->tools;
    case DS_TOP_COUNTRIES: return !q->nports && !q->nasns && !q->exclude && !q->only && !q->tools;
    case DS_TOP_ASNS: return !q->nports && !q->ncountries && !q->exclude && !q->only && !q->tools;
    case DS_TOP_SOURCES: break;
    }
    return 0;
}

/* WHERE over a rollup table: live files, the days, sensor, class; keys: the dimension's values */
static void rollup_where(ch_buf *w, const ds_top_query *q, int keys)
{
    size_t nf = q->dim == DS_TOP_PORTS ? q->nports : q->dim == DS_TOP_COUNTRIES ? q->ncountries : q->nasns;
    ch_buf_printf(w, " WHERE " CH_COMMITTED " AND day BETWEEN toDate(%d) AND toDate(%d)", q->from < 0 ? 0 : (int)q->from,
                  q->to > 65535 ? 65535 : (int)q->to);
    if (q->sensor_id > 0)
        ch_buf_printf(w, " AND sensor_id = %lld", (long long)q->sensor_id);
    if (q->cls >= 0)
        ch_buf_printf(w, " AND cls = %d", q->cls);
    for (size_t i = 0; keys && i < nf; i++) {
        unsigned v = q->dim == DS_TOP_PORTS ? (unsigned)q->ports[i]
                   : q->dim == DS_TOP_COUNTRIES ? (unsigned)q->countries[i] : (unsigned)q->asns[i];
        ch_buf_printf(w, "%s%u%s", i ? "," : " AND key IN (", v, i + 1 == nf ? ")" : "");
    }
}

static int tot_row(void *ctx, const uint64_t *v)
{
    memcpy(ctx, v, 3 * sizeof *v);
    return 0;
}

static int top_row(void *ctx, const uint64_t *v);

/* The rows and totals of q from the rollup tables: two statements.  The rows: the printed keys
 * (ranked by packets alone in a subquery, so that only their source states are merged), each
 * with sumMerge and uniqExactMerge.  The totals: rollup_all's states (the union of every key's
 * sources), or, with a filter on the dimension's values, the merge of those keys' states.
 * DS_ENOTFOUND when the rollups cannot answer q (its filters; a live file without rollups). */
static ds_rc top_rollup(ch_store *s, const ds_top_query *q, void *t, uint64_t *tot, ds_err *err)
{
    static const char *const TAB[] = { [DS_TOP_PORTS] = "rollup_service", [DS_TOP_COUNTRIES] = "rollup_country",
                                       [DS_TOP_ASNS] = "rollup_asn" };
    int ready = 0;
    if (rollups_off() || !rollup_fits(q))
        return DS_ENOTFOUND;
    ds_rc rc = ch_rollup_ready(&s->c, &ready, err);
    if (rc != DS_OK || !ready)
        return rc != DS_OK ? rc : DS_ENOTFOUND;
    int keyed = (q->dim == DS_TOP_PORTS ? q->nports : q->dim == DS_TOP_COUNTRIES ? q->ncountries : q->nasns) > 0;
    ch_buf sql = { 0 };
    ch_buf_printf(&sql, "SELECT key AS k, sumMerge(packets) AS p, uniqExactMerge(sources) FROM %s", TAB[q->dim]);
    rollup_where(&sql, q, 1);
    if (q->limit) {   /* the printed keys: packets descending, then key ascending (top.c's cand_before) */
        ch_buf_printf(&sql, " AND key GLOBAL IN (SELECT key FROM %s", TAB[q->dim]);
        rollup_where(&sql, q, 1);
        ch_buf_printf(&sql, " GROUP BY key ORDER BY sumMerge(packets) DESC, key ASC LIMIT %zu)", q->limit);
    }
    ch_buf_printf(&sql, " GROUP BY k ORDER BY p DESC, k ASC FORMAT TSV");
    uint64_t none[3];
    rc = grouped(s, &sql, 3, top_row, t, none, err);
    sql.n = 0;
    ch_buf_printf(&sql, "SELECT 0, sumMerge(packets), uniqExactMerge(sources) FROM %s",
                  keyed ? TAB[q->dim] : "rollup_all");
    rollup_where(&sql, q, keyed);
    ch_buf_printf(&sql, " FORMAT TSV");
    if (rc == DS_OK)
        rc = grouped(s, &sql, 3, tot_row, tot, none, err);
    ch_buf_free(&sql);
    return rc;
}

/* ---- top ---- */

typedef struct top_ctx { ds_top_result *res; size_t cap; } top_ctx;

static int top_row(void *ctx, const uint64_t *v)
{
    top_ctx *t = ctx;
    ds_top_result *r = t->res;
    if (r->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 64;
        ds_top_row *nr = realloc(r->rows, cap * sizeof *nr);
        if (!nr)
            return -1;
        r->rows = nr;
        t->cap = cap;
    }
    ds_top_row *row = &r->rows[r->n++];
    memset(row, 0, sizeof *row);
    row->key = v[0];
    row->packets = v[1];
    row->sources = v[2];
    return 0;
}

/* *yes = 1 when q fits the rollups and a whole month of its period has month rollups (ch_months.c)
 * in the dimension's kind: the chunk code (analysis/top_rollup.c) then reads one united set per
 * month where this would merge a state per day and file.  Rows of a signature gone stale count
 * here too: the chunk code then reads that month's days, exact and only slower. */
static ds_rc month_rows(ch_store *s, const ds_top_query *q, int *yes, ds_err *err)
{
    int32_t from = q->from, to = q->to, mfrom, mto;
    ch_buf out = { 0 };
    *yes = 0;
    if (rollups_off() || ds_rollup_months_disabled() || !rollup_fits(q))
        return DS_OK;
    ds_rc rc = ds_rollup_whole_months(&s->base, &from, &to, &mfrom, &mto, err);
    if (rc != DS_OK || mto < mfrom)
        return rc;
    char sens[48] = "";
    if (q->sensor_id > 0)
        snprintf(sens, sizeof sens, " AND sensor_id = %lld", (long long)q->sensor_id);
    rc = ch_execf(&s->c, &out, err, "SELECT count() FROM rollup_months WHERE kind = %d AND month BETWEEN toDate(%d) AND"
                  " toDate(%d)%s FORMAT TSV", DS_CHUNK_MONTH_SERVICE + (int)q->dim, (int)(mfrom < 0 ? 0 : mfrom),
                  (int)(mto > 65535 ? 65535 : mto), sens);
    if (rc == DS_OK)
        *yes = atoi((char *)out.p) > 0;
    ch_buf_free(&out);
    return rc;
}

/* ---- top sources ---- */

/* A source's last day, country and ASN in one number that max() orders as src_geo_after does:
 * day, then country, then ASN (analysis/top_tables.h). */
#define GEO_LAST "max(toUInt64(toUInt16(day)) * 281474976710656 + toUInt64(cc) * 4294967296 + toUInt64(asn))"

static int source_row(void *ctx, const uint64_t *v)
{
    top_ctx *t = ctx;
    if (top_row(ctx, v) != 0)
        return -1;
    ds_top_row *row = &t->res->rows[t->res->n - 1];
    row->sources = 1;
    row->days = (uint32_t)v[2];
    row->asn = (uint32_t)(v[3] & 0xffffffffu);
    ds_cc_unpack((uint16_t)(v[3] >> 32), row->cc);
    row->last_day = (int32_t)(v[3] >> 48);
    row->first_day = (int32_t)v[4];
    if (!(row->key >> 63))
        ds_ip_set4(&row->ip, (uint32_t)row->key);
    return 0;
}

typedef struct key_at { uint64_t key; size_t row; } key_at;   /* a row, by its source */

static int key_at_cmp(const void *a, const void *b)
{
    uint64_t x = ((const key_at *)a)->key, y = ((const key_at *)b)->key;
    return x < y ? -1 : x > y;
}

/* The answers of a statement about the printed sources: one row each, by source ascending. */
typedef struct rows_ctx { ds_top_result *res; const key_at *by_key; size_t at; int bad; } rows_ctx;

/* The printed row of the answer's next source, or NULL (marked bad) when it is not the next. */
static ds_top_row *next_row(rows_ctx *d, uint64_t src)
{
    if (d->at >= d->res->n || d->by_key[d->at].key != src) {
        d->bad = 1;
        return NULL;
    }
    return &d->res->rows[d->by_key[d->at++].row];
}

/* a printed source's first and last day over all its records */
static int days_row(void *ctx, const uint64_t *v)
{
    ds_top_row *row = next_row(ctx, v[0]);
    if (!row)
        return 0;
    row->first_day = (int32_t)v[1];
    row->last_day = (int32_t)v[2];
    return 0;
}

/* ---- JSONCompact: the ranking's rows, totals and group count ---- */

static const char *skip_ws(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    return p;
}

/* An unsigned integer, quoted or not (64-bit ones come quoted); NULL when there is none. */
static const char *json_u64(const char *p, const char *end, uint64_t *v)
{
    p = skip_ws(p, end);
    int quoted = p < end && *p == '"';
    p += quoted;
    if (p >= end || *p < '0' || *p > '9')
        return NULL;
    uint64_t x = 0;
    for (; p < end && *p >= '0' && *p <= '9'; p++) {
        if (x > (UINT64_MAX - (uint64_t)(*p - '0')) / 10)
            return NULL;
        x = x * 10 + (uint64_t)(*p - '0');
    }
    if (quoted && (p >= end || *p++ != '"'))
        return NULL;
    *v = x;
    return p;
}

/* [a, b]: two unsigned integers; NULL when it is not that */
static const char *json_pair(const char *p, const char *end, uint64_t *v)
{
    p = skip_ws(p, end);
    if (p >= end || *p++ != '[' || !(p = json_u64(p, end, &v[0])))
        return NULL;
    p = skip_ws(p, end);
    if (p >= end || *p++ != ',' || !(p = json_u64(p, end, &v[1])))
        return NULL;
    p = skip_ws(p, end);
    return p < end && *p == ']' ? p + 1 : NULL;
}

/* The value after "key": in [p, end), or NULL */
static const char *json_after(const char *p, const char *end, const char *key)
{
    size_t kl = strlen(key);
    for (; p + kl + 2 < end; p++)
        if (*p == '"' && !memcmp(p + 1, key, kl) && p[kl + 1] == '"') {
            const char *q = skip_ws(p + kl + 2, end);
            return q < end && *q == ':' ? q + 1 : NULL;
        }
    return NULL;
}

/* Rows (source, packets) of a JSONCompact answer into t, the totals' packets, and the rows there
 * were before the LIMIT (rows_before_limit_at_least: every group, i.e. the distinct sources,
 * since ORDER BY sorted them all; the row count when there was no LIMIT).  -1: not that shape. */
static int ranking_parse(const char *p, const char *end, top_ctx *t, uint64_t *total, uint64_t *groups)
{
    const char *d = json_after(p, end, "data");
    if (!d)
        return -1;
    d = skip_ws(d, end);
    if (d >= end || *d++ != '[')
        return -1;
    size_t rows = 0;
    for (;;) {
        d = skip_ws(d, end);
        if (d < end && *d == ']')
            break;
        uint64_t v[3] = { 0, 0, 0 };
        if (!(d = json_pair(d, end, v)))
            return -1;
        if (top_row(t, v) != 0)
            return -2;
        rows++;
        d = skip_ws(d, end);
        if (d < end && *d == ',')
            d++;
    }
    uint64_t tv[2];
    const char *tt = json_after(d, end, "totals");
    if (!tt && rows)
        return -1;
    if (tt && !json_pair(tt, end, tv))
        return -1;
    *total = tt ? tv[1] : 0;   /* no row: ClickHouse may leave the totals out */
    const char *rb = json_after(d, end, "rows_before_limit_at_least");
    *groups = rows;
    if (rb && !json_u64(rb, end, groups))
        return -1;
    return 0;
}

/* The printed sources' days, country and ASN and first day under the filter (a few rows: every
 * group's own states were the cost of one statement for all) */
static int detail_row(void *ctx, const uint64_t *v)
{
    ds_top_row *row = next_row(ctx, v[0]);
    if (!row)
        return 0;
    row->sources = 1;
    row->days = (uint32_t)v[1];
    row->asn = (uint32_t)(v[2] & 0xffffffffu);
    ds_cc_unpack((uint16_t)(v[2] >> 32), row->cc);
    row->last_day = (int32_t)(v[2] >> 48);
    row->first_day = (int32_t)v[3];
    if (!(row->key >> 63))
        ds_ip_set4(&row->ip, (uint32_t)row->key);
    return 0;
}

/* The printed sources, ascending (the detail statements' order), in *out */
static ds_rc rows_by_key(const ds_top_result *res, key_at **out, ds_err *err)
{
    if (!(*out = malloc((res->n ? res->n : 1) * sizeof **out)))
        return ds_fail(err, DS_ENOMEM, "out of memory");
    for (size_t i = 0; i < res->n; i++)
        (*out)[i] = (key_at){ res->rows[i].key, i };
    qsort(*out, res->n, sizeof **out, key_at_cmp);
    return DS_OK;
}

static void src_list(ch_buf *sql, const ds_top_result *res)
{
    for (size_t i = 0; i < res->n; i++)
        ch_buf_printf(sql, "%s%llu", i ? "," : " AND src IN (", (unsigned long long)res->rows[i].key);
    ch_buf_printf(sql, ")");
}

/* Source rows of q (see the top of this file); tot: packets, distinct sources.  A page of rows
 * (q->limit up to CH_MAX_SET): the ranking by packets alone (its JSONCompact answer also gives the
 * groups before the LIMIT: the distinct sources), then the printed rows' days, geo and first day.
 * Every row (no limit, or a larger one): one statement with each group's states (on the
 * source-heavy month's 2-shard cluster 7.7 s against 2.5 + 0.2 s for a page). */
static ds_rc top_sources(ch_store *s, const ds_top_query *q, const ds_filter *f, top_ctx *t, uint64_t *tot, ds_err *err)
{
    ch_buf sql = { 0 }, out = { 0 };
    key_at *by_key = NULL;
    uint64_t v[6];
    ds_rc rc;
    ds_top_result *res = t->res;
    if (q->limit && q->limit <= CH_MAX_SET) {
        ch_buf_printf(&sql, "SELECT src AS k, sum(packets) AS p FROM srcsvc");
        if (where(&sql, f, q->from, q->to) != 0) {
            ch_buf_free(&sql);
            return DS_ENOTFOUND;
        }
        ch_buf_printf(&sql, " GROUP BY k WITH TOTALS ORDER BY p DESC, k ASC LIMIT %zu FORMAT JSONCompact", q->limit);
        if (sql.oom) {
            rc = ds_fail(err, DS_ENOMEM, "out of memory");
            goto out;
        }
        if ((rc = ch_exec(&s->c, (const char *)sql.p, NULL, &out, err)) != DS_OK)
            goto out;
        int pr = ranking_parse((const char *)out.p, (const char *)out.p + out.n, t, &tot[1], &tot[2]);
        if (pr != 0) {
            rc = pr == -2 ? ds_fail(err, DS_ENOMEM, "out of memory")
                          : ds_fail(err, DS_ESTORE, "store %s: an answer of ClickHouse is not the ranking asked for",
                                    s->c.where);
            goto out;
        }
        if (res->n) {
            sql.n = 0;
            ch_buf_printf(&sql, "SELECT src, uniqExact(day), " GEO_LAST ", toUInt16(min(day)) FROM srcsvc");
            where(&sql, f, q->from, q->to);
            src_list(&sql, res);
            ch_buf_printf(&sql, " GROUP BY src ORDER BY src FORMAT TSV");
            if ((rc = rows_by_key(res, &by_key, err)) != DS_OK)
                goto out;
            rows_ctx d = { res, by_key, 0, 0 };
            rc = grouped(s, &sql, 4, detail_row, &d, v, err);
            if (rc == DS_OK && (d.bad || d.at != res->n))
                rc = ds_fail(err, DS_ESTORE, "store %s: ClickHouse gave the details of %zu of %zu sources", s->c.where,
                             d.at, res->n);
            if (rc != DS_OK)
                goto out;
        }
    } else {
        ch_buf_printf(&sql, "SELECT src AS k, sum(packets) AS p, uniqExact(day), " GEO_LAST ", toUInt16(min(day)),"
                            " uniqExact(src) FROM srcsvc");
        if (where(&sql, f, q->from, q->to) != 0) {
            ch_buf_free(&sql);
            return DS_ENOTFOUND;
        }
        ch_buf_printf(&sql, " GROUP BY k WITH TOTALS ORDER BY p DESC, k ASC");   /* top.c's cand_before */
        if (q->limit)
            ch_buf_printf(&sql, " LIMIT %zu", q->limit);
        ch_buf_printf(&sql, " FORMAT TSV");
        if ((rc = grouped(s, &sql, 6, source_row, t, v, err)) != DS_OK)
            goto out;
        tot[1] = v[1];
        tot[2] = v[5];
    }
    int filtered = q->cls >= 0 || q->nports || q->ncountries || q->nasns || q->exclude || q->only || q->tools;
    if (!filtered || !res->n)
        goto out;
    if (res->n > CH_MAX_SET) {   /* too many to list: the detail reads every day (top.c) */
        for (size_t i = 0; i < res->n; i++)
            res->rows[i].first_day = res->rows[i].last_day = 0;
        goto out;
    }
    ds_filter all;
    ds_filter_init(&all);
    all.sensor_id = f->sensor_id;
    sql.n = 0;
    ch_buf_printf(&sql, "SELECT src, toUInt16(min(day)), toUInt16(max(day)) FROM srcsvc");
    where(&sql, &all, q->from, q->to);
    src_list(&sql, res);
    ch_buf_printf(&sql, " GROUP BY src ORDER BY src FORMAT TSV");
    if (!by_key && (rc = rows_by_key(res, &by_key, err)) != DS_OK)
        goto out;
    rows_ctx d = { res, by_key, 0, 0 };
    rc = grouped(s, &sql, 3, days_row, &d, v, err);
    if (rc == DS_OK && (d.bad || d.at != res->n))
        rc = ds_fail(err, DS_ESTORE, "store %s: ClickHouse gave the days of %zu of %zu sources", s->c.where, d.at, res->n);
out:
    free(by_key);
    ch_buf_free(&sql);
    ch_buf_free(&out);
    return rc;
}

static ds_rc ch_top(ds_store *base, const ds_top_query *q, ds_top_result *res, ds_err *err)
{
    ch_store *s = (ch_store *)base;
    static const char *const KEY[] = { [DS_TOP_PORTS] = "service", [DS_TOP_COUNTRIES] = "cc", [DS_TOP_ASNS] = "asn" };
    ds_filter f;
    ch_buf sql = { 0 };
    uint64_t tot[3];
    int months = 0;
    ds_rc mrc = q->dim == DS_TOP_SOURCES ? DS_OK : month_rows(s, q, &months, err);
    if (mrc != DS_OK || months)
        return mrc != DS_OK ? mrc : DS_ENOTFOUND;   /* months: the chunk code reads them (see the top) */
    ds_filter_init(&f);
    f.sensor_id = q->sensor_id;
    f.cls = q->cls;
    memcpy(f.ports, q->ports, q->nports * sizeof *q->ports);
    f.nports = q->nports;
    memcpy(f.countries, q->countries, q->ncountries * sizeof *q->countries);
    f.ncountries = q->ncountries;
    memcpy(f.asns, q->asns, q->nasns * sizeof *q->asns);
    f.nasns = q->nasns;
    f.exclude = q->exclude;
    f.only = q->only;
    f.tools = q->tools;
    memset(res, 0, sizeof *res);
    top_ctx t = { res, 0 };
    ds_rc rc = q->dim == DS_TOP_SOURCES ? top_sources(s, q, &f, &t, tot, err) : top_rollup(s, q, &t, tot, err);
    if (rc == DS_ENOTFOUND && q->dim == DS_TOP_SOURCES) {
        ds_top_result_free(res);
        return rc;   /* the chunk code answers */
    }
    if (rc == DS_ENOTFOUND) {   /* the per-source rows */
        ds_top_result_free(res);
        memset(res, 0, sizeof *res);
        t.cap = 0;
        ch_buf_printf(&sql, "SELECT %s AS k, sum(packets) AS p, uniqExact(src) FROM srcsvc", KEY[q->dim]);
        if (where(&sql, &f, q->from, q->to) != 0) {
            ch_buf_free(&sql);
            return DS_ENOTFOUND;
        }
        /* packets descending, then key ascending: top.c's cand_before */
        ch_buf_printf(&sql, " GROUP BY k WITH TOTALS ORDER BY p DESC, k ASC");
        if (q->limit)
            ch_buf_printf(&sql, " LIMIT %zu", q->limit);
        ch_buf_printf(&sql, " FORMAT TSV");
        rc = grouped(s, &sql, 3, top_row, &t, tot, err);
        ch_buf_free(&sql);
    }
    if (rc == DS_OK)
        rc = ds_top_result_addresses(base, q->sensor_id, res, err);
    if (rc != DS_OK) {
        ds_top_result_free(res);
        return rc;
    }
    res->days = q->to - q->from + 1;
    res->total_packets = tot[1];
    res->total_sources = tot[2];
    ds_top_result_rates(res, q->have_addr_days, q->addr_days);   /* as top.c */
    return DS_OK;
}

/* ---- cubes ---- */

static const char *cube_expr(ds_cube_dim d)
{
    switch (d) {
    case DS_CUBE_DAY: return "toUInt16(day)";
    case DS_CUBE_SERVICE: return "service";
    case DS_CUBE_COUNTRY: return "cc";
    case DS_CUBE_ASN: return "asn";
    case DS_CUBE_SPORT: return "if(one_sport, toUInt32(sport), 65536)";   /* DS_SPORT_VARIOUS */
    case DS_CUBE_NONE: break;
    }
    return "0";
}

typedef struct cube_ctx { ds_cube *c; size_t cap; int sources; } cube_ctx;

static int cube_row(void *ctx, const uint64_t *v)
{
    cube_ctx *k = ctx;
    ds_cube *c = k->c;
    if (c->n == k->cap) {
        size_t cap = k->cap ? k->cap * 2 : 64;
        ds_cube_cell *nc = realloc(c->cells, cap * sizeof *nc);
        if (!nc)
            return -1;
        c->cells = nc;
        k->cap = cap;
    }
    ds_cube_cell *cell = &c->cells[c->n++];
    cell->a = (uint32_t)v[0];
    cell->b = (uint32_t)v[1];
    cell->packets = v[2];
    cell->sources = k->sources ? v[3] : 0;
    return 0;
}

static ds_rc ch_cube(ds_store *base, const ds_cube_query *q, ds_cube *out, size_t n, ds_err *err)
{
    ch_store *s = (ch_store *)base;
    ds_rc rc = DS_OK;
    for (size_t i = 0; i < n; i++)
        memset(&out[i], 0, sizeof out[i]);
    for (size_t i = 0; i < n; i++)   /* as cube.c asks */
        if (q[i].from > q[i].to)
            return ds_fail(err, DS_EINVAL, "empty period: the first day is after the last");
    for (size_t i = 0; i < n && rc == DS_OK; i++) {
        ch_buf sql = { 0 };
        uint64_t tot[4];
        ch_buf_printf(&sql, "SELECT %s AS a, %s AS b, sum(packets), uniqExact(src) FROM srcsvc", cube_expr(q[i].a),
                      cube_expr(q[i].b));
        if (where(&sql, &q[i].filter, q[i].from, q[i].to) != 0) {
            ch_buf_free(&sql);
            rc = ds_fail(err, DS_EINVAL, "store %s: a filter of more than %d sources is not sent to ClickHouse",
                         s->c.where, CH_MAX_SET);
            break;
        }
        ch_buf_printf(&sql, " GROUP BY a, b WITH TOTALS ORDER BY a, b FORMAT TSV");   /* cube.c's cell order */
        cube_ctx k = { &out[i], 0, q[i].sources };
        rc = grouped(s, &sql, 4, cube_row, &k, tot, err);
        ch_buf_free(&sql);
        out[i].total_packets = tot[2];
        out[i].total_sources = q[i].total_sources ? tot[3] : 0;
    }
    if (rc != DS_OK)
        for (size_t i = 0; i < n; i++)
            ds_cube_free(&out[i]);
    return rc;
}

const ds_store_query_ops ch_query_ops = {
    .top = ch_top,
    .cube = ch_cube,
};
