/* model.c: build a ds_report from the store (see model.h for what it holds and why).
 *
 * Every figure comes from ds_cube queries over SRCSVC (analysis/cube.h) or `top` for the source
 * tables, with one filter (sensor, exclusions) shared by all of them, so the tables, the series
 * and the mixes of one report always add up to the same totals.
 *
 * Ranking order everywhere: more packets first, then the smaller key, as `darkscope top` ranks.
 * Increase and decrease ranks are taken over every key seen in either period, by absolute change
 * (the @police tables rank the increase in accesses, not the ratio, so that a port going from 1
 * to 5 packets does not top the list).
 */
#include "report/model.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/cube.h"
#include "analysis/payloads_exclude.h"
#include "analysis/rates.h"
#include "analysis/top.h"
#include "core/records.h"
#include "report/coverage.h"
#include "util/timeutil.h"

#define MIX_ROWS 5

/* ---- keys -------------------------------------------------------------------------------- */

ds_rc ds_report_focus_parse(const char *text, ds_report_dim *dim, uint32_t *key, ds_err *err)
{
    ds_service s;
    if (strchr(text, '/')) {
        if (ds_service_parse(text, &s) != 0)
            return ds_fail(err, DS_EINVAL, "--focus '%s': not a service (expected 1521/tcp, 53/udp, 8/icmp, ...)", text);
        *dim = DS_REPORT_SERVICE;
        *key = s;
        return DS_OK;
    }
    if (strlen(text) == 2 && text[0] >= 'A' && text[0] <= 'Z' && text[1] >= 'A' && text[1] <= 'Z') {
        *dim = DS_REPORT_REGION;
        *key = ds_cc_pack(text);
        return DS_OK;
    }
    if (strlen(text) == 2 && text[0] >= 'a' && text[0] <= 'z' && text[1] >= 'a' && text[1] <= 'z') {
        char up[3] = { (char)(text[0] - 'a' + 'A'), (char)(text[1] - 'a' + 'A'), 0 };
        *dim = DS_REPORT_REGION;
        *key = ds_cc_pack(up);
        return DS_OK;
    }
    return ds_fail(err, DS_EINVAL,
                   "--focus '%s': expected a service (1521/tcp) or a region (an ISO 3166 code such as JP)", text);
}

static void key_texts(ds_report_dim dim, uint32_t key, char *text, size_t tlen, char *label, size_t llen)
{
    if (dim == DS_REPORT_SERVICE) {
        ds_service_format((ds_service)key, text, tlen);
        ds_service_label((ds_service)key, label, llen);
    } else {
        char cc[3];
        ds_cc_unpack((uint16_t)key, cc);
        snprintf(text, tlen, "%s", cc);
        snprintf(label, llen, "%s", cc);
    }
}

static const char *key_name(const ds_names *names, ds_lang lang, ds_report_dim dim, uint32_t key)
{
    if (!names)
        return NULL;
    if (dim == DS_REPORT_SERVICE)
        return ds_names_service(names, (ds_service)key);
    char cc[3];
    ds_cc_unpack((uint16_t)key, cc);
    return ds_names_country(names, cc, lang);
}

/* ---- ranking ------------------------------------------------------------------------------ */

typedef struct ranked { uint32_t key; uint64_t packets; } ranked;

static int ranked_cmp(const void *x, const void *y)
{
    const ranked *a = x, *b = y;
    if (a->packets != b->packets)
        return a->packets > b->packets ? -1 : 1;
    return a->key < b->key ? -1 : a->key > b->key;
}

/* The cube's cells (dim a only) in ranking order. */
static ranked *rank_cells(const ds_cube *c, size_t *n)
{
    ranked *r = malloc((c->n ? c->n : 1) * sizeof *r);
    if (!r)
        return NULL;
    for (size_t i = 0; i < c->n; i++)
        r[i] = (ranked){ c->cells[i].a, c->cells[i].packets };
    qsort(r, c->n, sizeof *r, ranked_cmp);
    *n = c->n;
    return r;
}

/* 1-based rank of key in r (sorted), 0 when absent. */
static int rank_of(const ranked *r, size_t n, uint32_t key)
{
    for (size_t i = 0; i < n; i++)
        if (r[i].key == key)
            return (int)(i + 1);
    return 0;
}

typedef struct delta { uint32_t key; double change; } delta;

static int delta_cmp_up(const void *x, const void *y)
{
    const delta *a = x, *b = y;
    if (a->change != b->change)
        return a->change > b->change ? -1 : 1;
    return a->key < b->key ? -1 : a->key > b->key;
}

static int delta_cmp_down(const void *x, const void *y)
{
    const delta *a = x, *b = y;
    if (a->change != b->change)
        return a->change < b->change ? -1 : 1;
    return a->key < b->key ? -1 : a->key > b->key;
}

/* ---- queries ------------------------------------------------------------------------------- */

static ds_cube_dim cube_dim(ds_report_dim d) { return d == DS_REPORT_SERVICE ? DS_CUBE_SERVICE : DS_CUBE_COUNTRY; }

static void filter_only(ds_filter *f, ds_report_dim dim, const uint32_t *keys, size_t n)
{
    if (n > DS_FILTER_MAX)
        n = DS_FILTER_MAX;
    for (size_t i = 0; i < n; i++) {
        if (dim == DS_REPORT_SERVICE)
            f->ports[f->nports++] = keys[i];
        else
            f->countries[f->ncountries++] = (uint16_t)keys[i];
    }
}

typedef struct builder {
    ds_store *st;
    const ds_geo *geo;
    const ds_report_opts *o;
    ds_report *r;
    ds_filter base;
    ds_err *err;
} builder;

/* what a cube counts besides packets */
enum { CELL_SOURCES = 1, TOTAL_SOURCES = 2 };

static ds_rc cube(builder *b, int32_t from, int32_t to, const ds_filter *f, ds_cube_dim a, ds_cube_dim bd, int want,
                  ds_cube *out)
{
    ds_cube_query q = { .from = from, .to = to, .filter = *f, .a = a, .b = bd, .sources = (want & CELL_SOURCES) != 0,
                        .total_sources = (want & TOTAL_SOURCES) != 0 };
    return ds_cube_run(b->st, &q, out, b->err);
}

static double *zeros(size_t n) { return calloc(n ? n : 1, sizeof(double)); }

/* The cube of a mix's shown values: its rows (dimension rd, the keys of rows[0..nrows)) by the
 * other dimension's shown parts (pd_rank's first DS_REPORT_MIX_PARTS), both as filters, so that
 * it has a few dozen cells however many keys the other dimension has (random-port backscatter:
 * tens of thousands of services).  A row's total is its rank's packets, not a sum of cells. */
static ds_cube_query mix_query(const builder *b, ds_report_dim rd, const ranked *rows, size_t nrows,
                               const ranked *pd_rank, size_t npd)
{
    ds_report_dim pd = rd == DS_REPORT_SERVICE ? DS_REPORT_REGION : DS_REPORT_SERVICE;
    ds_cube_query q = { .from = b->r->o.period.from, .to = b->r->o.period.to, .filter = b->base, .a = cube_dim(rd),
                        .b = cube_dim(pd) };
    uint32_t keys[DS_REPORT_MIX_PARTS > MIX_ROWS ? DS_REPORT_MIX_PARTS : MIX_ROWS];
    size_t nk = nrows < MIX_ROWS ? nrows : MIX_ROWS;
    for (size_t i = 0; i < nk; i++)
        keys[i] = rows[i].key;
    filter_only(&q.filter, rd, keys, nk);
    nk = npd < DS_REPORT_MIX_PARTS ? npd : DS_REPORT_MIX_PARTS;
    for (size_t i = 0; i < nk; i++)
        keys[i] = pd_rank[i].key;
    if (!nk)
        keys[nk++] = UINT32_MAX;   /* no part to show: a key no record has, not "every key" */
    filter_only(&q.filter, pd, keys, nk);
    return q;
}

/* Fill m: rows = rows[0..nrows) (their keys and totals), parts = the other dimension's top keys
 * (pd_rank), values from the cells of c: (row, part) cells of mix_query's cube, or, for a one-row
 * mix (a focus section), the cells (part, -) of a cube of the other dimension within the row. */
static ds_rc mix_fill(builder *b, ds_report_mix *m, const ranked *rows, size_t nrows, const ranked *pd_rank,
                      size_t npd, const ds_cube *c, int cells_are_parts)
{
    m->nrows = nrows;
    m->nparts = npd < DS_REPORT_MIX_PARTS ? npd : DS_REPORT_MIX_PARTS;
    m->row_keys = malloc((nrows ? nrows : 1) * sizeof *m->row_keys);
    m->part_keys = malloc((m->nparts ? m->nparts : 1) * sizeof *m->part_keys);
    m->values = zeros(nrows * m->nparts);
    m->row_totals = zeros(nrows);
    if (!m->row_keys || !m->part_keys || !m->values || !m->row_totals)
        return ds_fail(b->err, DS_ENOMEM, "out of memory building the report");
    for (size_t k = 0; k < nrows; k++) {
        m->row_keys[k] = rows[k].key;
        m->row_totals[k] = (double)rows[k].packets;
    }
    for (size_t p = 0; p < m->nparts; p++)
        m->part_keys[p] = pd_rank[p].key;
    for (size_t i = 0; i < c->n; i++)
        for (size_t k = 0; k < nrows; k++) {
            if (!cells_are_parts && rows[k].key != c->cells[i].a)
                continue;
            uint32_t part = cells_are_parts ? c->cells[i].a : c->cells[i].b;
            for (size_t p = 0; p < m->nparts; p++)
                if (m->part_keys[p] == part)
                    m->values[k * m->nparts + p] += (double)c->cells[i].packets;
        }
    return DS_OK;
}

static void mix_free(ds_report_mix *m)
{
    free(m->row_keys);
    free(m->part_keys);
    free(m->values);
    free(m->row_totals);
}

/* Daily packets of each key in keys (dimension d) over the period, into rows[i]->daily. */
static ds_rc daily_series(builder *b, ds_report_dim d, ds_report_row *rows, size_t n)
{
    ds_report *r = b->r;
    ds_filter f = b->base;
    ds_cube c = { 0 };
    uint32_t keys[DS_FILTER_MAX];
    size_t nk = n < DS_FILTER_MAX ? n : DS_FILTER_MAX;
    for (size_t i = 0; i < nk; i++)
        keys[i] = rows[i].key;
    filter_only(&f, d, keys, nk);
    for (size_t i = 0; i < n; i++)
        if (!(rows[i].daily = zeros((size_t)r->days)))
            return ds_fail(b->err, DS_ENOMEM, "out of memory building the report");
    if (!nk)
        return DS_OK;
    ds_rc rc = cube(b, r->o.period.from, r->o.period.to, &f, cube_dim(d), DS_CUBE_DAY, 0, &c);
    if (rc != DS_OK)
        return rc;
    for (size_t i = 0; i < c.n; i++) {
        int32_t day = (int32_t)c.cells[i].b;
        if (day < r->o.period.from || day > r->o.period.to)
            continue;
        for (size_t k = 0; k < nk; k++)
            if (rows[k].key == c.cells[i].a)
                rows[k].daily[day - r->o.period.from] += (double)c.cells[i].packets;
    }
    ds_cube_free(&c);
    return DS_OK;
}

static double pct_change(double cur, double prev)
{
    return prev >= DS_REPORT_MIN_PREV ? (cur - prev) * 100.0 / prev : NAN;
}

/* Change against the previous period: of packets, or (coverage.rate_based) of packets per covered
 * address-day, expressed in this period's packets: the previous packets scaled by prev_scale.
 * The dash rule still looks at the previous packets as counted. */
static double change_of(const ds_report *r, uint64_t cur, uint64_t prev)
{
    return (double)cur - (double)prev * r->coverage.prev_scale;
}

static double change_pct_of(const ds_report *r, uint64_t cur, uint64_t prev)
{
    double scaled = (double)prev * r->coverage.prev_scale;
    if ((double)prev < DS_REPORT_MIN_PREV || !(scaled > 0))
        return NAN;
    return ((double)cur - scaled) * 100.0 / scaled;
}

/* One ranked table: current and previous rankings, the top-N rows, their sources and series. */
static ds_rc build_table(builder *b, ds_report_dim d, ds_report_table *t, ranked **cur_out, size_t *ncur_out,
                         uint64_t *prev_total)
{
    ds_report *r = b->r;
    ds_cube cur = { 0 }, prev = { 0 }, src = { 0 };
    ranked *rc_cur = NULL, *rc_prev = NULL;
    delta *dl = NULL;
    size_t ncur = 0, nprev = 0;
    int want = d == DS_REPORT_SERVICE ? TOTAL_SOURCES : 0;   /* the period's distinct sources, once */
    ds_rc rc = cube(b, r->o.period.from, r->o.period.to, &b->base, cube_dim(d), DS_CUBE_NONE, want, &cur);
    if (rc != DS_OK)
        goto out;
    if (r->o.compare && (rc = cube(b, r->prev.from, r->prev.to, &b->base, cube_dim(d), DS_CUBE_NONE, want, &prev)) != DS_OK)
        goto out;
    if (!(rc_cur = rank_cells(&cur, &ncur)) || !(rc_prev = rank_cells(&prev, &nprev))) {
        rc = ds_fail(b->err, DS_ENOMEM, "out of memory building the report");
        goto out;
    }
    if (d == DS_REPORT_SERVICE) {
        r->cur.packets = cur.total_packets;
        r->cur.sources = cur.total_sources;
        r->previous.packets = prev.total_packets;
        r->previous.sources = prev.total_sources;
    }
    *prev_total = prev.total_packets;
    t->keys = ncur;
    t->n = ncur < r->o.top ? ncur : r->o.top;
    t->rows = calloc(t->n ? t->n : 1, sizeof *t->rows);
    if (!t->rows) {
        rc = ds_fail(b->err, DS_ENOMEM, "out of memory building the report");
        goto out;
    }
    /* increase / decrease ranks over the union of keys */
    size_t nd = 0;
    dl = malloc((ncur + nprev + 1) * sizeof *dl);
    if (!dl) {
        rc = ds_fail(b->err, DS_ENOMEM, "out of memory building the report");
        goto out;
    }
    for (size_t i = 0; i < ncur; i++) {
        const ds_cube_cell *p = ds_cube_get(&prev, rc_cur[i].key, 0);
        dl[nd++] = (delta){ rc_cur[i].key, change_of(r, rc_cur[i].packets, p ? p->packets : 0) };
    }
    for (size_t i = 0; i < nprev; i++)
        if (!ds_cube_get(&cur, rc_prev[i].key, 0))
            dl[nd++] = (delta){ rc_prev[i].key, change_of(r, 0, rc_prev[i].packets) };
    for (size_t i = 0; i < t->n; i++) {
        ds_report_row *w = &t->rows[i];
        const ds_cube_cell *p = ds_cube_get(&prev, rc_cur[i].key, 0);
        w->key = rc_cur[i].key;
        key_texts(d, w->key, w->text, sizeof w->text, w->label, sizeof w->label);
        w->name = key_name(r->names, r->o.lang, d, w->key);
        w->iot = d == DS_REPORT_SERVICE && r->names ? ds_names_iot(r->names, (ds_service)w->key, r->o.lang) : NULL;
        w->rank = (int)(i + 1);
        w->packets = rc_cur[i].packets;
        w->share = cur.total_packets ? (double)w->packets / (double)cur.total_packets : 0.0;
        w->per_ip_per_day = ds_rate_per_addr_day(w->packets, r->coverage.addr_days);
        if (r->o.compare) {
            w->previous_packets = p ? p->packets : 0;
            w->previous_rank = rank_of(rc_prev, nprev, w->key);
            w->previous_per_ip_per_day = ds_rate_per_addr_day(w->previous_packets, r->coverage.prev_addr_days);
            w->change = change_of(r, w->packets, w->previous_packets);
            w->change_pct = change_pct_of(r, w->packets, w->previous_packets);
        } else {
            w->change = w->change_pct = NAN;
        }
    }
    if (r->o.compare) {
        qsort(dl, nd, sizeof *dl, delta_cmp_up);
        for (size_t k = 0, rank = 0; k < nd && dl[k].change > 0; k++) {
            rank++;
            for (size_t i = 0; i < t->n; i++)
                if (t->rows[i].key == dl[k].key)
                    t->rows[i].increase_rank = (int)rank;
        }
        qsort(dl, nd, sizeof *dl, delta_cmp_down);
        for (size_t k = 0, rank = 0; k < nd && dl[k].change < 0; k++) {
            rank++;
            for (size_t i = 0; i < t->n; i++)
                if (t->rows[i].key == dl[k].key)
                    t->rows[i].decrease_rank = (int)rank;
        }
    }
    /* distinct sources of the shown rows */
    if (t->n) {
        ds_filter f = b->base;
        uint32_t keys[DS_FILTER_MAX];
        size_t nk = t->n < DS_FILTER_MAX ? t->n : DS_FILTER_MAX;
        for (size_t i = 0; i < nk; i++)
            keys[i] = t->rows[i].key;
        filter_only(&f, d, keys, nk);
        if ((rc = cube(b, r->o.period.from, r->o.period.to, &f, cube_dim(d), DS_CUBE_NONE, CELL_SOURCES, &src)) != DS_OK)
            goto out;
        for (size_t i = 0; i < t->n; i++) {
            const ds_cube_cell *c = ds_cube_get(&src, t->rows[i].key, 0);
            t->rows[i].sources = c ? c->sources : 0;
        }
    }
    if ((rc = daily_series(b, d, t->rows, t->n)) != DS_OK)
        goto out;
    *cur_out = rc_cur;
    *ncur_out = ncur;
    rc_cur = NULL;
out:
    ds_cube_free(&cur);
    ds_cube_free(&prev);
    ds_cube_free(&src);
    free(rc_cur);
    free(rc_prev);
    free(dl);
    return rc;
}

/* ---- focus sections -------------------------------------------------------------------------- */

static ds_rc build_focus(builder *b, ds_report_focus *fx, const ranked *rank_dim, size_t nrank_dim)
{
    ds_report *r = b->r;
    ds_filter f = b->base;
    enum { Q_DAILY, Q_PARTS, Q_SPLIT, Q_SPORT, Q_ORGS, NQ };
    ds_cube cq[NQ];
    ds_cube_query q[NQ];
    const ds_cube *c;
    ranked *parts = NULL;
    size_t nparts = 0;
    ds_top_result tr = { 0 };
    ds_rc rc;
    size_t days = (size_t)r->days;
    uint32_t key = fx->key;
    ds_report_dim other = fx->dim == DS_REPORT_SERVICE ? DS_REPORT_REGION : DS_REPORT_SERVICE;

    memset(cq, 0, sizeof cq);
    key_texts(fx->dim, key, fx->text, sizeof fx->text, fx->label, sizeof fx->label);
    fx->name = key_name(r->names, r->o.lang, fx->dim, key);
    fx->rank = rank_of(rank_dim, nrank_dim, key);
    filter_only(&f, fx->dim, &key, 1);
    fx->daily = zeros(days);
    fx->daily_sources = zeros(days);
    if (!fx->daily || !fx->daily_sources) {
        rc = ds_fail(b->err, DS_ENOMEM, "out of memory building the report");
        goto out;
    }
    /* every figure of the section at once: those the rollups do not answer share one pass */
    for (size_t i = 0; i < NQ; i++)
        q[i] = (ds_cube_query){ .from = r->o.period.from, .to = r->o.period.to, .filter = f };
    q[Q_DAILY].a = DS_CUBE_DAY;                /* daily packets and distinct sources per day */
    q[Q_DAILY].sources = q[Q_DAILY].total_sources = 1;
    q[Q_PARTS].a = cube_dim(other);            /* the other dimension's top keys within the focus */
    q[Q_SPLIT].a = cube_dim(other);            /* ... and per day */
    q[Q_SPLIT].b = DS_CUBE_DAY;
    q[Q_SPORT].a = DS_CUBE_SPORT;              /* source ports: a tool with a fixed port stands out here */
    q[Q_ORGS].a = DS_CUBE_ASN;                 /* a region's organisations (by ASN) */
    q[Q_ORGS].sources = 1;
    if ((rc = ds_cube_run_many(b->st, q, cq, fx->dim == DS_REPORT_REGION ? NQ : NQ - 1, b->err)) != DS_OK)
        goto out;

    c = &cq[Q_DAILY];
    fx->packets = c->total_packets;
    fx->sources = c->total_sources;
    fx->share = r->cur.packets ? (double)c->total_packets / (double)r->cur.packets : 0.0;
    fx->per_ip_per_day = ds_rate_per_addr_day(c->total_packets, r->coverage.addr_days);
    for (size_t i = 0; i < c->n; i++) {
        int32_t day = (int32_t)c->cells[i].a;
        if (day >= r->o.period.from && day <= r->o.period.to) {
            fx->daily[day - r->o.period.from] = (double)c->cells[i].packets;
            fx->daily_sources[day - r->o.period.from] = (double)c->cells[i].sources;
        }
    }
    if (!(parts = rank_cells(&cq[Q_PARTS], &nparts))) {
        rc = ds_fail(b->err, DS_ENOMEM, "out of memory building the report");
        goto out;
    }
    ranked self = { key, cq[Q_PARTS].total_packets };   /* the one row: the focus, by the other dimension */
    if ((rc = mix_fill(b, &fx->split, &self, 1, parts, nparts, &cq[Q_PARTS], 1)) != DS_OK)
        goto out;
    fx->split_daily = zeros(fx->split.nparts * days);
    if (!fx->split_daily) {
        rc = ds_fail(b->err, DS_ENOMEM, "out of memory building the report");
        goto out;
    }
    c = &cq[Q_SPLIT];
    for (size_t i = 0; i < c->n; i++) {
        int32_t day = (int32_t)c->cells[i].b;
        if (day < r->o.period.from || day > r->o.period.to)
            continue;
        for (size_t p = 0; p < fx->split.nparts; p++)
            if (fx->split.part_keys[p] == c->cells[i].a)
                fx->split_daily[p * days + (size_t)(day - r->o.period.from)] += (double)c->cells[i].packets;
    }
    c = &cq[Q_SPORT];
    {
        ranked *sp = NULL;
        size_t nsp = 0;
        if (!(sp = rank_cells(c, &nsp))) {
            rc = ds_fail(b->err, DS_ENOMEM, "out of memory building the report");
            goto out;
        }
        fx->nsports = nsp < 5 ? nsp : 5;
        fx->sports = calloc(fx->nsports ? fx->nsports : 1, sizeof *fx->sports);
        if (!fx->sports) {
            free(sp);
            rc = ds_fail(b->err, DS_ENOMEM, "out of memory building the report");
            goto out;
        }
        for (size_t i = 0; i < fx->nsports; i++)
            fx->sports[i] = (ds_report_sport){ sp[i].key == DS_SPORT_VARIOUS ? -1 : (int)sp[i].key, sp[i].packets,
                                               c->total_packets ? (double)sp[i].packets / (double)c->total_packets : 0.0 };
        free(sp);
    }
    /* top sources */
    ds_top_query tq = { .dim = DS_TOP_SOURCES, .from = r->o.period.from, .to = r->o.period.to,
                       .sensor_id = b->base.sensor_id, .cls = -1, .limit = 10, .exclude = b->base.exclude };
    if (fx->dim == DS_REPORT_SERVICE)
        tq.ports[tq.nports++] = key;
    else
        tq.countries[tq.ncountries++] = (uint16_t)key;
    if ((rc = ds_top_run(b->st, &tq, &tr, b->err)) != DS_OK)
        goto out;
    fx->top_sources = calloc(tr.n ? tr.n : 1, sizeof *fx->top_sources);
    if (!fx->top_sources) {
        rc = ds_fail(b->err, DS_ENOMEM, "out of memory building the report");
        goto out;
    }
    for (size_t i = 0; i < tr.n; i++) {
        ds_report_source *s = &fx->top_sources[i];
        ds_top_key_format(DS_TOP_SOURCES, &tr.rows[i], s->addr, sizeof s->addr);
        memcpy(s->cc, tr.rows[i].cc, 3);
        s->asn = tr.rows[i].asn;
        s->org = b->geo ? ds_geo_asn_org(b->geo, s->asn) : NULL;
        s->packets = tr.rows[i].packets;
        s->days = tr.rows[i].days;
        s->first_ns = tr.rows[i].first_ns;
        s->last_ns = tr.rows[i].last_ns;
    }
    fx->ntop_sources = tr.n;
    /* a region's organisations (by ASN), as the seed's analysis of Japan-origin 22/tcp groups them */
    if (fx->dim == DS_REPORT_REGION) {
        c = &cq[Q_ORGS];
        ranked *ra = NULL;
        size_t na = 0;
        if (!(ra = rank_cells(c, &na))) {
            rc = ds_fail(b->err, DS_ENOMEM, "out of memory building the report");
            goto out;
        }
        fx->norgs = na < 10 ? na : 10;
        fx->orgs = calloc(fx->norgs ? fx->norgs : 1, sizeof *fx->orgs);
        if (!fx->orgs) {
            free(ra);
            rc = ds_fail(b->err, DS_ENOMEM, "out of memory building the report");
            goto out;
        }
        for (size_t i = 0; i < fx->norgs; i++) {
            const ds_cube_cell *cell = ds_cube_get(c, ra[i].key, 0);
            fx->orgs[i] = (ds_report_orgrow){ ra[i].key, b->geo ? ds_geo_asn_org(b->geo, ra[i].key) : NULL,
                                              ra[i].packets, cell ? cell->sources : 0 };
        }
        free(ra);
    }
    rc = DS_OK;
out:
    for (size_t i = 0; i < NQ; i++)
        ds_cube_free(&cq[i]);
    free(parts);
    ds_top_result_free(&tr);
    return rc;
}

/* ---- first payloads of a focus service (sensor --respond syn) --------------------------------- */

static ds_rc focus_payloads(builder *b, ds_report_focus *fx, const ds_sensor_info *sensors, size_t nsensors)
{
    ds_report *r = b->r;
    ds_payload_row *rows = NULL;
    size_t n = 0;
    uint64_t total = 0;
    ds_payload_query q = { .have_service = 1, .service = fx->key, .limit = DS_REPORT_MAX_PAYLOADS, .top = 1 };
    if (!ds_store_keeps(b->st, DS_KEEPS_PAYLOADS))
        return DS_OK;
    if (b->base.sensor_id) {
        q.sensor = "";   /* a sensor that never recorded a payload matches nothing */
        for (size_t i = 0; i < nsensors; i++)
            if (sensors[i].id == b->base.sensor_id)
                q.sensor = sensors[i].name;
    }
    /* payloads carry timestamps, the report counts local days */
    int64_t from = ds_day_start(r->o.period.from), to = ds_day_start(r->o.period.to + 1);
    q.from_ns = from > 0 ? (uint64_t)from * 1000000000ull : 0;
    q.to_ns = to > 0 ? (uint64_t)to * 1000000000ull : 1;
    /* research scanners left out of the report (--exclude research) are left out here too */
    ds_rc rc = ds_payloads_query_excluding(b->st, &q, b->base.exclude, NULL, &rows, &n, &total, b->err);
    if (rc != DS_OK)
        return rc;
    if (n) {
        if (!(fx->payloads = calloc(n, sizeof *fx->payloads))) {
            ds_payload_rows_free(rows, n);
            return ds_fail(b->err, DS_ENOMEM, "out of memory building the report");
        }
        for (size_t i = 0; i < n; i++) {
            ds_report_payload *p = &fx->payloads[i];
            const ds_payload_row *row = &rows[i];
            size_t k = row->data_len < DS_REPORT_EXCERPT ? row->data_len : DS_REPORT_EXCERPT;
            static const char digits[] = "0123456789abcdef";
            *p = (ds_report_payload){ row->count, row->sources, row->first_ns, row->last_ns, row->len, row->data_len,
                                      "", "" };
            for (size_t j = 0; j < k; j++) {
                uint8_t c = row->data[j];
                p->excerpt[j] = c >= 0x20 && c < 0x7f ? (char)c : '.';
                p->hex[2 * j] = digits[c >> 4];
                p->hex[2 * j + 1] = digits[c & 15];
            }
            p->excerpt[k] = 0;
            p->hex[2 * k] = 0;
        }
        fx->npayloads = n;
    }
    ds_payload_rows_free(rows, n);
    return DS_OK;
}

/* ---- the whole report ---------------------------------------------------------------------- */

ds_rc ds_report_build(ds_store *st, const ds_geo *geo, const ds_names *names, const ds_report_opts *o,
                      ds_report *out, ds_err *err)
{
    ds_report *r = out;
    ds_sensor_info *sensors = NULL;
    size_t nsensors = 0;
    ranked *svc_rank = NULL, *reg_rank = NULL;
    size_t nsvc = 0, nreg = 0;
    uint64_t prev_total = 0;
    ds_rc rc;
    ds_store *view = NULL;
    builder b = { .st = st, .geo = geo, .o = o, .r = r, .err = err };

    memset(r, 0, sizeof *r);
    r->o = *o;
    r->names = names;
    r->geo = geo;
    if (!r->o.top)
        r->o.top = 10;
    if (r->o.top > DS_FILTER_MAX)
        r->o.top = DS_FILTER_MAX;
    r->days = ds_period_days(&o->period);
    ds_period_previous(&o->period, &r->prev);
    ds_filter_init(&b.base);
    b.base.sensor_id = o->sensor_id;
    b.base.exclude = o->exclude;

    /* One read of the period: the view the detectors need (SRCSVC from the series baseline on,
     * which covers the previous period of a comparison, SOURCES, HOURLY) is loaded first, and
     * every table, mix, focus figure and then the events are queried on it; what it does not
     * hold (the rollups, days before it) goes to the store underneath (analysis/period_store.c). */
    ds_event_query eq = { .from = o->period.from, .to = o->period.to, .sensor_id = o->sensor_id, .exclude = o->exclude,
                          .research = o->research, .sensor_silence_s = o->sensor_silence_s, .cfg = o->cfg };
    if ((rc = ds_events_view_open(st, &eq, &view, err)) != DS_OK)
        goto out;
    eq.view = view;
    st = b.st = view;

    if ((rc = ds_store_sensors(st, &sensors, &nsensors, err)) != DS_OK)
        goto out;
    for (size_t i = 0; i < nsensors; i++) {
        if (o->sensor_id && sensors[i].id != o->sensor_id)
            continue;
        r->cur.sensors++;
        r->cur.addresses += sensors[i].v4_addresses;
    }
    r->previous.sensors = r->cur.sensors;
    r->previous.addresses = r->cur.addresses;
    if ((rc = ds_report_coverage_load(st, r, err)) != DS_OK)
        goto out;

    if ((rc = build_table(&b, DS_REPORT_SERVICE, &r->services, &svc_rank, &nsvc, &prev_total)) != DS_OK ||
        (rc = build_table(&b, DS_REPORT_REGION, &r->regions, &reg_rank, &nreg, &prev_total)) != DS_OK)
        goto out;
    /* rates per covered address-day; the yearly figure is that rate over the whole period */
    r->cur.addr_days = r->coverage.addr_days;
    r->previous.addr_days = r->coverage.prev_addr_days;
    r->cur.per_ip_per_day = ds_rate_per_addr_day(r->cur.packets, r->cur.addr_days);
    r->cur.per_ip = r->cur.per_ip_per_day * r->days;
    r->previous.per_ip_per_day = ds_rate_per_addr_day(r->previous.packets, r->previous.addr_days);
    r->previous.per_ip = r->previous.per_ip_per_day * ds_period_days(&r->prev);
    if (o->compare) {
        r->change = change_of(r, r->cur.packets, r->previous.packets);
        r->change_pct = change_pct_of(r, r->cur.packets, r->previous.packets);
        /* distinct sources do not scale with coverage: no change is stated when it differs */
        r->sources_change_pct = r->coverage.rate_based ? NAN
                                                       : pct_change((double)r->cur.sources, (double)r->previous.sources);
    } else {
        r->change = r->change_pct = r->sources_change_pct = NAN;
    }

    /* mixes: each top region by the top services, each top service by the top regions (one pass) */
    {
        size_t nr[2] = { nreg < MIX_ROWS ? nreg : MIX_ROWS, nsvc < MIX_ROWS ? nsvc : MIX_ROWS };
        ds_cube mc[2];
        ds_cube_query mq[2] = { mix_query(&b, DS_REPORT_REGION, reg_rank, nr[0], svc_rank, nsvc),
                                mix_query(&b, DS_REPORT_SERVICE, svc_rank, nr[1], reg_rank, nreg) };
        if ((rc = ds_cube_run_many(st, mq, mc, 2, err)) != DS_OK)
            goto out;
        rc = mix_fill(&b, &r->services_of_regions, reg_rank, nr[0], svc_rank, nsvc, &mc[0], 0);
        if (rc == DS_OK)
            rc = mix_fill(&b, &r->regions_of_services, svc_rank, nr[1], reg_rank, nreg, &mc[1], 0);
        ds_cube_free(&mc[0]);
        ds_cube_free(&mc[1]);
        if (rc != DS_OK)
            goto out;
    }

    /* NICTER's figure: how much of the top-30 services' traffic targets IoT devices */
    for (size_t i = 0; i < nsvc && i < DS_REPORT_IOT_TOP; i++) {
        r->top30_packets += svc_rank[i].packets;
        if (names && ds_names_is_iot(names, (ds_service)svc_rank[i].key)) {
            r->iot_packets += svc_rank[i].packets;
            r->iot_in_top30++;
        }
    }
    r->iot_share = r->top30_packets ? (double)r->iot_packets / (double)r->top30_packets : 0.0;

    /* notable phenomena (Mirai, scanning tools, DDoS backscatter) over the period, on the view */
    if ((rc = ds_events_run(st, geo, &eq, &r->events, err)) != DS_OK)
        goto out;

    if (o->nfocus) {
        r->focus = calloc(o->nfocus, sizeof *r->focus);
        if (!r->focus) {
            rc = ds_fail(err, DS_ENOMEM, "out of memory building the report");
            goto out;
        }
        r->nfocus = o->nfocus;
        for (size_t i = 0; i < o->nfocus; i++) {
            r->focus[i].dim = o->focus[i].dim;
            r->focus[i].key = o->focus[i].key;
            if (o->focus[i].dim == DS_REPORT_SERVICE) {
                rc = build_focus(&b, &r->focus[i], svc_rank, nsvc);
                if (rc == DS_OK)
                    rc = focus_payloads(&b, &r->focus[i], sensors, nsensors);
            } else
                rc = build_focus(&b, &r->focus[i], reg_rank, nreg);
            if (rc != DS_OK)
                goto out;
        }
    }
    rc = DS_OK;
out:
    free(sensors);
    free(svc_rank);
    free(reg_rank);
    ds_store_close(view);
    if (rc != DS_OK)
        ds_report_free(r);
    return rc;
}

static void table_free(ds_report_table *t)
{
    for (size_t i = 0; i < t->n; i++)
        free(t->rows[i].daily);
    free(t->rows);
}

void ds_report_free(ds_report *r)
{
    table_free(&r->services);
    table_free(&r->regions);
    mix_free(&r->services_of_regions);
    mix_free(&r->regions_of_services);
    for (size_t i = 0; i < r->nfocus; i++) {
        ds_report_focus *f = &r->focus[i];
        free(f->daily);
        free(f->daily_sources);
        mix_free(&f->split);
        free(f->split_daily);
        free(f->top_sources);
        free(f->orgs);
        free(f->sports);
        free(f->payloads);
    }
    free(r->focus);
    ds_events_free(&r->events);
    ds_report_coverage_free(&r->coverage);
    memset(r, 0, sizeof *r);
}

int32_t ds_report_day(const ds_report *r, size_t i) { return r->o.period.from + (int32_t)i; }
