/* source_rows.c: see source_rows.h.
 *
 * Each field is made as ds_top_run (top.c) makes it for a query of source rows, so that a
 * detector's events do not change when it asks here instead:
 *   - a record counts for a query when ds_filter_match says so (the same filter top builds);
 *   - packets are summed, `days` counts the days with a counted record, and country and ASN are
 *     those of the records of the last counted day, the greatest (country, ASN) when they differ
 *     that day (content, not the order a day's chunks come in; top.c src_geo_after);
 *   - rows are ranked by packets, then the smaller source key, and cut at the limit;
 *     total_packets and total_sources are over every counted record and source;
 *   - address, first and last seen come from every SOURCES record of a shown source over the
 *     whole period (top reads every day of the period for a filtered query), the first seen
 *     taken as top takes it record by record.
 * One table holds every (query, source) entry, so the SRCSVC records are read once for all the
 * queries, and one table the shown sources, for one read of SOURCES.  Both keep their entries in
 * one array, in the order met, behind a table of 4-byte indexes: on our VM memory touched for
 * the first time costs more than the hashing (a table of whole entries was most of the time).  A record is screened by
 * the cheap fields a query names (tools, one service, one country) before the whole filter.
 */
#include "analysis/source_rows.h"

#include "analysis/detin_scan.h"

#include <stdlib.h>
#include <string.h>

#include "core/hash.h"
#include "core/records.h"
#include "util/grow.h"

typedef struct srow {
    uint64_t src, packets;
    uint32_t q1;            /* query index + 1; 0: empty slot */
    uint32_t asn, days;
    int32_t last;           /* last day counted */
    uint16_t cc;            /* ds_cc_pack */
} srow;

/* Entries in one array in the order met, found through a table of their indexes: the table is
 * 4 bytes a slot and the entries are written in sequence, so little memory is touched fresh. */
typedef struct srow_tab {
    srow *e;
    size_t n, ecap;
    uint32_t *slot;         /* entry index + 1; 0 empty */
    size_t cap;
} srow_tab;

typedef struct detail { uint64_t src, first_ns, last_ns; ds_ip ip; int seen; } detail;
typedef struct detail_tab { detail *e; size_t n; uint32_t *slot; size_t cap; } detail_tab;

#define KEY_SCREEN 32

typedef struct rows_ctx {
    const ds_source_query *qs;
    size_t nq;
    srow_tab t;
    uint64_t *total;        /* packets per query */
    uint64_t *nsrc;         /* distinct sources per query */
    detail_tab d;
    uint8_t any_tools;      /* the queries' tools OR'ed when every query names some; else 0 */
    /* When every query names services or countries, the services and countries they name (at
     * most KEY_SCREEN each): a record whose service and country are in neither list matches no
     * query and is skipped on those raw bytes, undecoded.  The periodic detector's queries (a
     * few cycles' services and countries) leave most of a quarter's records to this test. */
    int key_screen;
    size_t nsvc_keys, ncc_keys;
    uint32_t svc_keys[KEY_SCREEN];
    uint32_t cc_keys[KEY_SCREEN];   /* ds_cc_pack'ed */
} rows_ctx;

static inline size_t srow_hash(uint32_t q1, uint64_t src) { return (size_t)ds_mix64(src ^ ((uint64_t)q1 << 56 | q1)); }

/* The slot of (q1, src): its entry's, or the empty one where it goes. */
static inline size_t srow_pos(const srow_tab *t, uint32_t q1, uint64_t src)
{
    size_t i = srow_hash(q1, src) & (t->cap - 1);
    while (t->slot[i] && (t->e[t->slot[i] - 1].q1 != q1 || t->e[t->slot[i] - 1].src != src))
        i = (i + 1) & (t->cap - 1);
    return i;
}

static int srow_grow(srow_tab *t)
{
    size_t cap = t->cap ? t->cap * 2 : 4096;
    if (cap > UINT32_MAX)
        return -1;
    uint32_t *slot = calloc(cap, sizeof *slot);
    if (!slot)
        return -1;
    for (size_t k = 0; k < t->n; k++) {
        size_t i = srow_hash(t->e[k].q1, t->e[k].src) & (cap - 1);
        while (slot[i])
            i = (i + 1) & (cap - 1);
        slot[i] = (uint32_t)k + 1;
    }
    free(t->slot);
    t->slot = slot;
    t->cap = cap;
    return 0;
}

/* A cheap test a record must pass for the query: the fields its filter names alone. */
static inline int screened(const ds_filter *f, const ds_rec_srcsvc *r)
{
    if (f->tools && !(r->tools & f->tools))
        return 0;
    if (f->nports == 1 && f->ports[0] != r->service)
        return 0;
    if (f->ncountries == 1 && f->countries[0] != ds_cc_pack(r->cc))
        return 0;
    return 1;
}

/* Whether a record (raw, records.h: service at offset 8, country at 21) may match a query of a
 * key-screened set (rows_ctx.key_screen). */
static inline int key_screened(const rows_ctx *c, const uint8_t *rec)
{
    uint32_t svc = (uint32_t)rec[8] | (uint32_t)rec[9] << 8 | (uint32_t)rec[10] << 16 | (uint32_t)rec[11] << 24;
    for (size_t k = 0; k < c->nsvc_keys; k++)
        if (c->svc_keys[k] == svc)
            return 1;
    uint32_t cc = (uint32_t)rec[21] << 8 | rec[22];   /* ds_cc_pack */
    for (size_t k = 0; k < c->ncc_keys; k++)
        if (c->cc_keys[k] == cc)
            return 1;
    return 0;
}

/* Add v to the list (n of at most KEY_SCREEN) unless there; 0 when it is full. */
static int key_add(uint32_t *l, size_t *n, uint32_t v)
{
    for (size_t i = 0; i < *n; i++)
        if (l[i] == v)
            return 1;
    if (*n == KEY_SCREEN)
        return 0;
    l[(*n)++] = v;
    return 1;
}

/* The key screen of the queries: every query names services (their services go in the list) or
 * countries (theirs go in), and the lists stay short; otherwise no screen. */
static void key_screen_init(rows_ctx *c)
{
    const char *off = getenv("DS_NO_KEY_SCREEN");   /* the old path, for tests/e2e/detin_diff.sh */
    c->key_screen = c->nq > 0 && !(off && *off && strcmp(off, "0") != 0);
    for (size_t k = 0; k < c->nq && c->key_screen; k++) {
        const ds_filter *f = &c->qs[k].filter;
        if (f->nports) {
            for (size_t i = 0; i < f->nports && c->key_screen; i++)
                c->key_screen = key_add(c->svc_keys, &c->nsvc_keys, f->ports[i]);
        } else if (f->ncountries) {
            for (size_t i = 0; i < f->ncountries && c->key_screen; i++)
                c->key_screen = key_add(c->cc_keys, &c->ncc_keys, f->countries[i]);
        } else {
            c->key_screen = 0;
        }
    }
}

static ds_rc on_srcsvc(void *ctx, int64_t sensor_id, int32_t day, const uint8_t *data, size_t nrec, ds_err *err)
{
    rows_ctx *c = ctx;
    for (size_t i = 0; i < nrec; i++) {
        /* every query names tools (the tool and Mirai detectors' do): a record no tool is
         * attributed to is skipped on its tools byte (records.h: offset 26), undecoded */
        if (c->any_tools && !(data[i * DS_REC_SRCSVC + 26] & c->any_tools))
            continue;
        if (c->key_screen && !key_screened(c, data + i * DS_REC_SRCSVC))
            continue;
        ds_rec_srcsvc r;
        ds_rec_srcsvc_get(data + i * DS_REC_SRCSVC, &r);
        for (size_t k = 0; k < c->nq; k++) {
            const ds_filter *f = &c->qs[k].filter;
            if (!screened(f, &r) || !ds_filter_match(f, &r))
                continue;
            if ((c->t.n + 1) * 2 > c->t.cap && srow_grow(&c->t) != 0)
                return ds_fail(err, DS_ENOMEM, "out of memory counting sources");
            size_t at = srow_pos(&c->t, (uint32_t)k + 1, r.src);
            if (!c->t.slot[at]) {
                if (c->t.n == c->t.ecap) {
                    srow *ne = ds_grow(c->t.e, &c->t.ecap, sizeof *ne, 1024);
                    if (!ne)
                        return ds_fail(err, DS_ENOMEM, "out of memory counting sources");
                    c->t.e = ne;
                }
                c->t.e[c->t.n] = (srow){ .src = r.src, .q1 = (uint32_t)k + 1 };
                c->t.slot[at] = (uint32_t)++c->t.n;
                c->nsrc[k]++;
            }
            srow *e = &c->t.e[c->t.slot[at] - 1];
            e->packets += r.packets;
            /* the last day's country and ASN; the greatest when they differ that day (top.c) */
            uint16_t cc = ds_cc_pack(r.cc);
            if (!e->days || e->last != day || cc > e->cc || (cc == e->cc && r.asn > e->asn)) {
                e->asn = r.asn;
                e->cc = cc;
            }
            if (!e->days || e->last != day) {
                e->days++;
                e->last = day;
            }
            c->total[k] += r.packets;
        }
    }
    return DS_OK;
}

/* The slot of src in the shown sources' table: its entry's, or the empty one where it goes. */
static inline size_t detail_pos(const detail_tab *d, uint64_t src)
{
    size_t i = (size_t)ds_mix64(src) & (d->cap - 1);
    while (d->slot[i] && d->e[d->slot[i] - 1].src != src)
        i = (i + 1) & (d->cap - 1);
    return i;
}

static ds_rc on_sources(void *ctx, int64_t sensor_id, int32_t day, const uint8_t *data, size_t nrec, ds_err *err)
{
    rows_ctx *c = ctx;
    for (size_t i = 0; i < nrec; i++) {
        const uint8_t *rec = data + i * DS_REC_SOURCES;
        uint32_t at = c->d.slot[detail_pos(&c->d, ds_rec_source_key(rec))];
        if (!at)
            continue;
        ds_rec_source r;
        ds_rec_source_get(rec, &r);
        detail *x = &c->d.e[at - 1];
        x->seen = 1;
        x->ip = r.ip;
        if (!x->first_ns || r.first_ns < x->first_ns)
            x->first_ns = r.first_ns;
        if (r.last_ns > x->last_ns)
            x->last_ns = r.last_ns;
    }
    return DS_OK;
}

typedef struct ranked { uint64_t key, packets; const srow *e; } ranked;

static int ranked_cmp(const void *a, const void *b)
{
    const ranked *x = a, *y = b;
    if (x->packets != y->packets)
        return x->packets > y->packets ? -1 : 1;
    return x->key < y->key ? -1 : x->key > y->key;
}

/* a[p] moved down the heap a[0..keep) (the greatest at the root) to where it belongs */
static void sift_down(ranked *a, size_t keep, size_t p)
{
    for (;;) {
        size_t l = 2 * p + 1, m = p;
        if (l < keep && ranked_cmp(&a[l], &a[m]) > 0)
            m = l;
        if (l + 1 < keep && ranked_cmp(&a[l + 1], &a[m]) > 0)
            m = l + 1;
        if (m == p)
            return;
        ranked t = a[p];
        a[p] = a[m];
        a[m] = t;
        p = m;
    }
}

/* The first keep of a[0..n) in ranked_cmp's order moved to a[0..keep), sorted; keep < n.  A heap
 * of the keep best met so far, its worst at the root: n log keep, where sorting all n (a busy
 * service's 100,000 sources for its top 5) was a tenth of `events`.  ranked_cmp is a total order
 * (keys are distinct within a query), so the rows are the ones a full sort puts first. */
static void ranked_first(ranked *a, size_t n, size_t keep)
{
    if (!keep)
        return;
    for (size_t i = keep / 2; i-- > 0;)   /* a[0..keep) a heap, the greatest at the root */
        sift_down(a, keep, i);
    for (size_t i = keep; i < n; i++) {
        if (ranked_cmp(&a[i], &a[0]) >= 0)
            continue;
        a[0] = a[i];
        sift_down(a, keep, 0);
    }
    qsort(a, keep, sizeof *a, ranked_cmp);
}

ds_rc ds_source_rows(ds_store *st, int32_t from, int32_t to, int64_t sensor_id, const ds_source_query *qs, size_t nq,
                     ds_top_result *res, ds_err *err)
{
    if (st->ops->query && st->ops->query->source_rows)   /* the engine answers (store/query.h) */
        return st->ops->query->source_rows(st, from, to, sensor_id, qs, nq, res, err);
    rows_ctx c = { .qs = qs, .nq = nq };
    for (size_t k = 0; k < nq; k++) {
        if (!qs[k].filter.tools) {
            c.any_tools = 0;
            break;
        }
        c.any_tools |= (uint8_t)qs[k].filter.tools;
    }
    key_screen_init(&c);
    ranked *all = NULL;
    size_t *at = NULL;
    size_t shown = 0;
    ds_rc rc = DS_OK;
    int32_t days = to - from + 1;
    memset(res, 0, nq * sizeof *res);
    c.total = calloc(nq + 1, sizeof *c.total);
    c.nsrc = calloc(nq + 1, sizeof *c.nsrc);
    at = calloc(nq + 1, sizeof *at);
    if (!c.total || !c.nsrc || !at || srow_grow(&c.t) != 0)
        goto nomem;
    if ((rc = ds_detin_scan_tools(st, c.any_tools && qs[0].detin, DS_SCAN_NOFILL, sensor_id, from, to, on_srcsvc, &c,
                                  err)) != DS_OK)
        goto out;
    ds_top_result sens = { 0 };
    if ((rc = ds_top_result_addresses(st, sensor_id, &sens, err)) != DS_OK)
        goto out;
    /* every query's entries, ranked within the query */
    all = malloc((c.t.n + 1) * sizeof *all);
    if (!all)
        goto nomem;
    for (size_t k = 1; k <= nq; k++)
        at[k] = at[k - 1] + c.nsrc[k - 1];
    for (size_t i = 0; i < c.t.n; i++) {
        const srow *e = &c.t.e[i];
        all[at[e->q1 - 1]++] = (ranked){ e->src, e->packets, e };
    }
    size_t start = 0;
    for (size_t k = 0; k < nq; k++) {
        ds_top_result *r = &res[k];
        size_t n = (size_t)c.nsrc[k];
        size_t keep = qs[k].limit && qs[k].limit < n ? qs[k].limit : n;
        if (keep < n)
            ranked_first(all + start, n, keep);
        else
            qsort(all + start, n, sizeof *all, ranked_cmp);
        r->rows = calloc(keep + 1, sizeof *r->rows);
        if (!r->rows)
            goto nomem;
        r->n = keep;
        r->total_packets = c.total[k];
        r->total_sources = c.nsrc[k];
        r->addresses = sens.addresses;
        r->days = days;
        for (size_t i = 0; i < keep; i++) {
            const srow *e = all[start + i].e;
            ds_top_row *row = &r->rows[i];
            row->key = e->src;
            row->packets = e->packets;
            row->sources = 1;
            if (!(e->src >> 63))
                ds_ip_set4(&row->ip, (uint32_t)e->src);
            row->days = e->days;
            row->asn = e->asn;
            ds_cc_unpack(e->cc, row->cc);
        }
        /* monitored addresses x days: the detectors that call this (events) do not use the rate;
         * `top` states rates per covered address-day (ds_top_query.addr_days) */
        ds_top_result_rates(r, 0, 0);
        shown += keep;
        start += n;
    }
    /* address, first and last seen of every shown source, from one read of SOURCES */
    if (shown) {
        c.d.cap = 64;
        while (c.d.cap < 2 * shown + 2)
            c.d.cap *= 2;
        c.d.slot = calloc(c.d.cap, sizeof *c.d.slot);
        c.d.e = calloc(shown, sizeof *c.d.e);
        if (!c.d.slot || !c.d.e)
            goto nomem;
        for (size_t k = 0; k < nq; k++)
            for (size_t i = 0; i < res[k].n; i++) {
                size_t p = detail_pos(&c.d, res[k].rows[i].key);
                if (!c.d.slot[p]) {
                    c.d.e[c.d.n].src = res[k].rows[i].key;
                    c.d.slot[p] = (uint32_t)++c.d.n;
                }
            }
        if ((rc = ds_store_scan(st, DS_CHUNK_SOURCES | DS_SCAN_NOFILL, sensor_id, from, to, on_sources, &c, err)) !=
            DS_OK)
            goto out;
        for (size_t k = 0; k < nq; k++)
            for (size_t i = 0; i < res[k].n; i++) {
                ds_top_row *row = &res[k].rows[i];
                const detail *x = &c.d.e[c.d.slot[detail_pos(&c.d, row->key)] - 1];
                if (!x->seen || !x->first_ns)
                    continue;
                row->ip = x->ip;
                row->first_ns = x->first_ns;
                row->last_ns = x->last_ns;
            }
    }
    goto out;
nomem:
    rc = ds_fail(err, DS_ENOMEM, "out of memory counting sources");
out:
    if (rc != DS_OK)
        for (size_t k = 0; k < nq; k++)
            ds_top_result_free(&res[k]);
    free(c.t.e);
    free(c.t.slot);
    free(c.d.e);
    free(c.d.slot);
    free(c.total);
    free(c.nsrc);
    free(at);
    free(all);
    return rc;
}
