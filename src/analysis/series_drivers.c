/* series_drivers.c: what drives each candidate of the series detector (series_int.h).
 *
 * The records of each candidate's service (or country) from a week before it to its end are
 * copied out in one scan of SRCSVC over the union of those days, then each candidate's numbers
 * are computed from its own copy: the top source and its busiest day, the country (or service)
 * split, the source-port split, distinct sources per day.  Tool-attributed sources are left out
 * as in the series, so the shares are of the same packets the baseline was measured on.  The
 * top sources of an event with an IPv6 source come from SOURCES instead (top_rollup, via top.h).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/groupsum.h"
#include "analysis/series_int.h"
#include "util/grow.h"

typedef struct item { uint64_t src; int32_t day; uint32_t packets, other, sport, asn; uint16_t cc; } item;
/* A candidate's items, in blocks of ITEM_BLOCK from a pool: the pool hands out memory the series
 * scan already faulted in (x->keys' dead sums and key list) before it allocates fresh blocks
 * (about 3 ms a megabyte on our VM); drivers_of reads them in place (IT). */
#define ITEM_BLOCK 512
typedef struct itemvec { item **blocks; size_t nblocks, blocks_cap, n; } itemvec;
typedef struct item_pool {
    item *area[2];          /* reused memory, area_blocks[i] blocks each */
    size_t area_blocks[2], used[2];
    item **owned;           /* blocks allocated when the areas ran out */
    size_t nowned, owned_cap;
} item_pool;
typedef struct idx_ent { uint32_t key; uint32_t cand; } idx_ent;

typedef struct drv_ctx {
    ctx *x;
    ds_filter f;
    idx_ent *by_svc, *by_cc;
    size_t nsvc, ncc;
    uint16_t *mark;         /* 1 at the series_keys.h index of a candidate's service or country
                             * with the current day among its days (set as the days change) */
    int32_t mark_day;       /* the day mark is for */
    int other_svc;          /* a candidate's service has no dense index (another protocol) */
    itemvec *items;         /* one per candidate */
    item_pool pool;
    ds_u64set tools;        /* tool-attributed sources met */
    ds_groupsum groups, groups2;   /* drivers_of's tables */
} drv_ctx;

static int idx_cmp(const void *a, const void *b)
{
    const idx_ent *x = a, *y = b;
    return x->key != y->key ? (x->key < y->key ? -1 : 1) : (x->cand < y->cand ? -1 : x->cand > y->cand);
}

static size_t idx_lower(const idx_ent *e, size_t n, uint32_t key)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (e[mid].key < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static item *pool_block(item_pool *p)
{
    for (size_t a = 0; a < 2; a++)
        if (p->used[a] < p->area_blocks[a])
            return p->area[a] + ITEM_BLOCK * p->used[a]++;
    if (p->nowned == p->owned_cap) {
        item **n = ds_grow(p->owned, &p->owned_cap, sizeof *n, 64);
        if (!n)
            return NULL;
        p->owned = n;
    }
    item *b = malloc(ITEM_BLOCK * sizeof *b);
    if (b)
        p->owned[p->nowned++] = b;
    return b;
}

static void pool_free(item_pool *p)
{
    for (size_t i = 0; i < p->nowned; i++)
        free(p->owned[i]);
    free(p->owned);
}

static int push_item(item_pool *p, itemvec *v, const item *it)
{
    if (v->n == v->nblocks * ITEM_BLOCK) {
        if (v->nblocks == v->blocks_cap) {
            item **n = ds_grow(v->blocks, &v->blocks_cap, sizeof *n, 16);
            if (!n)
                return -1;
            v->blocks = n;
        }
        if (!(v->blocks[v->nblocks] = pool_block(p)))
            return -1;
        v->nblocks++;
    }
    v->blocks[v->n / ITEM_BLOCK][v->n % ITEM_BLOCK] = *it;
    v->n++;
    return 0;
}

/* Marks for the keys of the candidates whose days (from a week before) hold `day`: a record of
 * any other key, or of a candidate's key on another day, is passed over at once. */
static void mark_day(drv_ctx *d, int32_t day)
{
    for (int pass = 0; pass < 2; pass++) {
        const idx_ent *e = pass ? d->by_cc : d->by_svc;
        size_t n = pass ? d->ncc : d->nsvc;
        for (size_t j = 0; j < n; j++) {
            long at = pass ? DS_SK_SERVICES + (long)(e[j].key & 0xffff) : ds_series_keys_dense_service(e[j].key);
            if (at >= 0)
                d->mark[at] = 0;
        }
        for (size_t j = 0; j < n; j++) {
            const cand *c = &d->x->c[e[j].cand];
            long at = pass ? DS_SK_SERVICES + (long)(e[j].key & 0xffff) : ds_series_keys_dense_service(e[j].key);
            if (at >= 0 && day >= c->d0 - 7 && day <= c->d1)
                d->mark[at] = 1;
        }
    }
    d->mark_day = day;
}

static ds_rc on_drv(void *vctx, int64_t sensor_id, int32_t day, const uint8_t *data, size_t nrec, ds_err *err)
{
    drv_ctx *d = vctx;
    if (day != d->mark_day)
        mark_day(d, day);
    for (size_t i = 0; i < nrec; i++) {
        const uint8_t *rec = data + i * DS_REC_SRCSVC;
        uint16_t cc = ss_cc(rec);
        int sd = ds_series_keys_dense_service(ss_u32(rec + SS_SERVICE));
        int svc_cand = sd >= 0 ? d->mark[sd] : d->other_svc, cc_cand = d->mark[DS_SK_SERVICES + cc];
        if (!svc_cand && !cc_cand)
            continue;
        ds_rec_srcsvc r;
        ds_rec_srcsvc_get(rec, &r);
        if (!ds_filter_match(&d->f, &r))
            continue;
        for (int pass = !svc_cand; pass < 1 + cc_cand; pass++) {
            const idx_ent *e = pass ? d->by_cc : d->by_svc;
            size_t n = pass ? d->ncc : d->nsvc;
            uint32_t key = pass ? cc : r.service;
            for (size_t j = idx_lower(e, n, key); j < n && e[j].key == key; j++) {
                const cand *c = &d->x->c[e[j].cand];
                if (day < c->d0 - 7 || day > c->d1)
                    continue;
                if (r.tools & SERIES_TOOLS) {
                    if (ds_u64set_add(&d->tools, r.src) < 0)
                        return ds_fail(err, DS_ENOMEM, "out of memory finding what drives an event");
                    continue;
                }
                item it = { r.src, day, r.packets, pass ? r.service : cc,
                            r.one_sport ? r.sport : DS_SPORT_VARIOUS, r.asn, cc };
                if (push_item(&d->pool, &d->items[e[j].cand], &it) != 0)
                    return ds_fail(err, DS_ENOMEM, "out of memory finding what drives an event");
            }
        }
    }
    return DS_OK;
}

/* The largest of the groups g holds (by packets; ties to the smaller key), leaving out the key
 * `skip` (or none: skip_on 0): its key and its share of `total`.  What reading the groups off an
 * array sorted by key, keeping the first strictly larger one, gave. */
static void lead_of(const ds_groupsum *g, uint64_t total, int skip_on, uint64_t skip, uint32_t *val, double *share)
{
    uint64_t best = 0;
    *val = 0;
    for (size_t i = 0; i < g->cap; i++) {
        const ds_group *e = &g->e[i];
        if (!e->used || (skip_on && e->k1 == skip))
            continue;
        if (e->sum > best || (e->sum == best && best > 0 && e->k1 < *val)) {
            best = e->sum;
            *val = (uint32_t)e->k1;
        }
    }
    *share = total ? (double)best / (double)total : 0;
}

/* a before b among the top sources: more packets, then the smaller address */
static int top_before(const ds_group *a, const ds_group *b)
{
    return a->sum != b->sum ? a->sum > b->sum : a->k1 < b->k1;
}

#define IT(v, i) (&(v)->blocks[(i) / ITEM_BLOCK][(i) % ITEM_BLOCK])

/* What drives candidate c, from its records v: the week before its days, then its days, each in
 * scan order, which is day order (ev: the first of its days).  -1: out of memory.  The numbers
 * are those of sorting the records by source, by country or service, by source port and by day
 * and source and reading the groups off (see groupsum.h for why not). */
/* The event's items [ev, n) summed by country or service (`other`), or by source port (by_sport,
 * leaving out records of various ports), and the largest of those with its share of `total`
 * (lead_of).  -1 when out of memory. */
static int lead_by(ds_groupsum *g, const itemvec *v, size_t ev, uint64_t total, int by_sport, uint32_t *val,
                   double *share)
{
    if (ds_groupsum_reset(g, v->n - ev) != 0)
        return -1;
    for (size_t i = ev; i < v->n; i++) {
        const item *it = IT(v, i);
        ds_group *o = ds_groupsum_get(g, by_sport ? it->sport : it->other);
        if (!o)
            return -1;
        o->sum += it->packets;
    }
    lead_of(g, total, by_sport, DS_SPORT_VARIOUS, val, share);
    return 0;
}

/* Observed days of the week before c (up to 7, from the store's first day), weighted: the
 * denominator of the "before" rates.  A day no sensor observed is left out, and its records with
 * it (before_w), so an outage in that week does not make the event's days look like a rise. */
static double week_before_days(const ctx *x, const cand *c)
{
    double n = 0;
    for (int32_t d = c->d0 - 7 > x->first_day ? c->d0 - 7 : x->first_day; d < c->d0; d++)
        n += day_w(x, d) > 0;
    return n;
}

/* What one record of the week before counts for: scaled to a whole day, 0 on a missing day. */
static double before_w(const ctx *x, int32_t day)
{
    double w = day_w(x, day);
    return w > 0 ? 1.0 / w : 0.0;
}

/* A country run found in its sources (series_judge.c): the service that brought the most sources
 * a day during it (c->src_lead; distinct (source, service, day)), and that service's rise in
 * sources a day against the week before, as a share of the country's rise (c->src_lead_share).
 * A service event whose hosts were many (a service spike's hosts come from every country) lifts
 * the sources of the big countries; fold_countries then leaves it to the service event.  A
 * (source, service) pair is keyed by the source xor the service shifted past an IPv4 address:
 * exact for IPv4, a hash for IPv6 sources (ds_src_key).  -1 when out of memory. */
static int source_lead(const ctx *x, cand *c, const itemvec *v, size_t ev, ds_groupsum *g, ds_groupsum *g2)
{
    size_t n = v->n;
    c->src_lead = 0;
    c->src_lead_share = 0;
    if (ds_groupsum_reset(g, n - ev) != 0 || ds_groupsum_reset(g2, 64) != 0)
        return -1;
    for (size_t i = ev; i < n; i++) {   /* (source, service) pairs new on their day, per service */
        const item *it = IT(v, i);
        ds_group *e = ds_groupsum_get(g, it->src ^ (uint64_t)it->other << 32);
        if (!e)
            return -1;
        uint64_t day1 = (uint64_t)(uint32_t)it->day + 1;
        if (e->sum == day1)
            continue;
        e->sum = day1;
        ds_group *sv = ds_groupsum_get(g2, it->other);
        if (!sv)
            return -1;
        sv->sum++;
    }
    uint64_t best = 0;
    for (size_t i = 0; i < g2->cap; i++) {
        const ds_group *e = &g2->e[i];
        if (e->used && (e->sum > best || (e->sum == best && best > 0 && e->k1 < c->src_lead))) {
            best = e->sum;
            c->src_lead = (uint32_t)e->k1;
        }
    }
    if (!best)
        return 0;
    double before = 0;
    if (ds_groupsum_reset(g, ev) != 0)
        return -1;
    for (size_t i = 0; i < ev; i++) {   /* the lead service's sources a day in the week before */
        const item *it = IT(v, i);
        if (it->other != c->src_lead)
            continue;
        ds_group *e = ds_groupsum_get(g, it->src);
        if (!e)
            return -1;
        uint64_t day1 = (uint64_t)(uint32_t)it->day + 1;
        if (e->sum == day1)
            continue;
        e->sum = day1;
        before += before_w(x, it->day);
    }
    double bdays = week_before_days(x, c), ndays = (double)(c->d1 - c->d0 + 1);
    double rise = c->src_per_day - (isfinite(c->src_per_day_before) ? c->src_per_day_before : 0);
    double lead_rise = (double)best / ndays - (bdays > 0 ? before / bdays : 0);
    c->src_lead_share = rise > 0 ? lead_rise / rise : 0;
    return 0;
}

static int drivers_of(ctx *x, cand *c, const itemvec *v, size_t ev, ds_groupsum *g, ds_groupsum *g2)
{
    size_t n = v->n, nev = n - ev;
    uint64_t total = 0;
    /* per source over the event's days: packets, and its last record (in day order, so of its
     * latest day) for the country and ASN shown */
    if (ds_groupsum_reset(g, nev) != 0)
        return -1;
    for (size_t i = ev; i < n; i++) {
        const item *it = IT(v, i);
        ds_group *s = ds_groupsum_get(g, it->src);
        if (!s)
            return -1;
        s->sum += it->packets;
        s->last = (uint32_t)i;
        total += it->packets;
    }
    const ds_group *top[DS_EVENT_TOP_SOURCES];
    size_t nt = 0;
    for (size_t i = 0; i < g->cap; i++) {
        const ds_group *e = &g->e[i];
        if (!e->used)
            continue;
        size_t at = nt < DS_EVENT_TOP_SOURCES ? nt++ : DS_EVENT_TOP_SOURCES;
        while (at > 0 && top_before(e, top[at - 1])) {
            if (at < DS_EVENT_TOP_SOURCES)
                top[at] = top[at - 1];
            at--;
        }
        if (at < DS_EVENT_TOP_SOURCES)
            top[at] = e;
    }
    uint64_t best = nt && top[0]->sum > 0 ? top[0]->sum : 0, best_src = best ? top[0]->k1 : 0;
    c->ntop5 = nt;
    c->top_v6 = 0;
    for (size_t k = 0; k < nt; k++) {
        ds_event_source *o = &c->top5[k];
        ds_ip ip;
        c->top_v6 |= (top[k]->k1 >> 63) != 0;
        ds_ip_set4(&ip, (uint32_t)top[k]->k1);
        ds_ip_format(&ip, o->addr, sizeof o->addr);
        ds_cc_unpack(IT(v, top[k]->last)->cc, o->cc);
        o->asn = IT(v, top[k]->last)->asn;
        o->packets = top[k]->sum;
    }
    c->top1_src = best_src;
    c->top1 = (double)best;
    c->nsources = g->n;
    /* the top source's busiest day, first and last: its records of one day are consecutive in day
     * order */
    c->top1_d0 = c->top1_d1 = 0;
    for (size_t i = ev; i < n; i++) {
        if (IT(v, i)->src != best_src)
            continue;
        if (!c->top1_d0)
            c->top1_d0 = IT(v, i)->day;
        c->top1_d1 = IT(v, i)->day;
        double day = 0;
        size_t j = i;
        for (; j < n && IT(v, j)->day == IT(v, i)->day; j++)
            if (IT(v, j)->src == best_src)
                day += IT(v, j)->packets;
        if (day > c->top1_day)
            c->top1_day = day;
        i = j - 1;
    }
    /* the leading country (service events) or service (country events) */
    if (lead_by(g, v, ev, total, 0, &c->lead, &c->lead_share) != 0)
        return -1;
    {
        double lead_now = 0, lead_before = 0;
        for (size_t i = ev; i < n; i++)
            if (IT(v, i)->other == c->lead)
                lead_now += IT(v, i)->packets;
        for (size_t i = 0; i < ev; i++)
            if (IT(v, i)->other == c->lead)
                lead_before += IT(v, i)->packets * before_w(x, IT(v, i)->day);
        double bdays = week_before_days(x, c);
        double per = bdays > 0 ? lead_before / bdays : 0;
        c->lead_excess_share = c->excess_seen > 0 ? (lead_now - per * c->seen_days) / c->excess_seen : 0;
    }
    /* the leading source port, not counting records of various ports */
    if (lead_by(g, v, ev, total, 1, &c->sport, &c->sport_share) != 0)
        return -1;
    /* distinct sources per day, the event's days against the week before: in day order, a
     * (source, day) is new when the source's last day (kept in sum, plus one) is another; a table
     * of sources, not of (source, day) pairs */
    if (ds_groupsum_reset(g, n) != 0)
        return -1;
    double before = 0, during = 0;
    for (size_t i = 0; i < n; i++) {
        const item *it = IT(v, i);
        ds_group *e = ds_groupsum_get(g, it->src);
        if (!e)
            return -1;
        uint64_t day1 = (uint64_t)(uint32_t)it->day + 1;
        if (e->sum == day1)
            continue;
        e->sum = day1;
        if (it->day < c->d0)
            before += before_w(x, it->day);   /* scaled up: an upper bound, so the rise rule is stricter */
        else
            during++;
    }
    double bdays = week_before_days(x, c);
    c->src_per_day_before = bdays > 0 ? before / bdays : NAN;
    c->src_per_day = during / (double)(c->d1 - c->d0 + 1);
    return c->by_sources ? source_lead(x, c, v, ev, g, g2) : 0;
}

ds_rc ds_series_drivers(ctx *x, ds_u64set *tools, ds_err *err)
{
    drv_ctx d = { .x = x };
    ds_rc rc = DS_OK;
    int32_t from = x->q->to, to = x->q->from;
    base_filter(x, &d.f);
    d.by_svc = calloc(x->nc + 1, sizeof *d.by_svc);
    d.by_cc = calloc(x->nc + 1, sizeof *d.by_cc);
    d.items = calloc(x->nc + 1, sizeof *d.items);
    if (!d.by_svc || !d.by_cc || !d.items || ds_u64set_init(&d.tools, 64) != 0)
        goto nomem;
    for (size_t i = 0; i < x->nc; i++) {
        const cand *c = &x->c[i];
        if (c->dropped)
            continue;
        if (c->dim == DS_CUBE_SERVICE)
            d.by_svc[d.nsvc++] = (idx_ent){ c->key, (uint32_t)i };
        else
            d.by_cc[d.ncc++] = (idx_ent){ c->key, (uint32_t)i };
        int32_t a = c->d0 - 7 > x->first_day ? c->d0 - 7 : x->first_day;
        if (a < from)
            from = a;
        if (c->d1 > to)
            to = c->d1;
    }
    if (!d.nsvc && !d.ncc)
        goto out;
    qsort(d.by_svc, d.nsvc, sizeof *d.by_svc, idx_cmp);
    qsort(d.by_cc, d.ncc, sizeof *d.by_cc, idx_cmp);
    /* most records are of no candidate's key, or of none on their day: marks screen them before
     * the filter and the search */
    d.mark = x->keys.known;   /* dead since the series were filled, and faulted in */
    memset(d.mark, 0, DS_SK_DENSE * sizeof *d.mark);
    d.mark_day = from - 1;
    for (size_t i = 0; i < d.nsvc; i++)
        if (ds_series_keys_dense_service(d.by_svc[i].key) < 0)
            d.other_svc = 1;
    for (size_t a = 0; a < 2; a++) {
        d.pool.area[a] = x->spare[a];
        d.pool.area_blocks[a] = x->spare_len[a] / (ITEM_BLOCK * sizeof(item));
    }
    if ((rc = ds_store_scan(x->st, DS_CHUNK_SRCSVC, x->q->sensor_id, from, to, on_drv, &d, err)) != DS_OK)
        goto out;
    /* a candidate's records come in day order, the week before its days first; were they not,
     * they are put in that order (a stable partition) in a copy */
    for (size_t i = 0; i < x->nc; i++) {
        const itemvec *v = &d.items[i];
        const cand *c = &x->c[i];
        if (c->dropped)
            continue;
        size_t ev = 0;
        int ordered = 1;
        for (size_t j = 0; j < v->n; j++) {
            int32_t day = IT(v, j)->day;
            ordered &= !j || day >= IT(v, j - 1)->day;
            ev += day < c->d0;
        }
        if (!ordered) {
            item *copy = malloc((v->n ? v->n : 1) * sizeof *copy);
            itemvec cv = { .blocks = malloc((v->nblocks ? v->nblocks : 1) * sizeof *cv.blocks), .n = v->n };
            int ok = copy && cv.blocks;
            if (ok) {
                for (size_t b = 0; b < v->nblocks; b++)
                    cv.blocks[b] = copy + b * ITEM_BLOCK;
                for (size_t j = 0, e = 0, a = ev; j < v->n; j++)
                    copy[IT(v, j)->day < c->d0 ? e++ : a++] = *IT(v, j);
                ok = drivers_of(x, &x->c[i], &cv, ev, &d.groups, &d.groups2) == 0;
            }
            free(copy);
            free(cv.blocks);
            if (!ok)
                goto nomem;
        } else if (drivers_of(x, &x->c[i], v, ev, &d.groups, &d.groups2) != 0) {
            goto nomem;
        }
    }
    *tools = d.tools;
    d.tools = (ds_u64set){ 0 };
    goto out;
nomem:
    rc = ds_fail(err, DS_ENOMEM, "out of memory finding what drives an event");
out:
    if (d.items)
        for (size_t i = 0; i < x->nc; i++)
            free(d.items[i].blocks);
    free(d.items);
    pool_free(&d.pool);
    free(d.by_svc);
    free(d.by_cc);
    ds_u64set_free(&d.tools);
    ds_groupsum_free(&d.groups);
    ds_groupsum_free(&d.groups2);
    return rc;
}

/* The top sources of an event that is reported (addresses from SOURCES, via `top`), without the
 * tool-attributed ones the series left out. */
ds_rc ds_series_top_sources(ctx *x, cand *c, const ds_u64set *tools, ds_err *err)
{
    ds_top_query tq = { .dim = DS_TOP_SOURCES, .from = c->d0, .to = c->d1, .sensor_id = x->q->sensor_id,
                        .cls = DS_CLASS_SCAN, .limit = DS_EVENT_TOP_SOURCES + 8, .exclude = x->q->exclude };
    if (c->dim == DS_CUBE_SERVICE)
        tq.ports[tq.nports++] = c->key;
    else
        tq.countries[tq.ncountries++] = (uint16_t)c->key;
    ds_rc rc = ds_top_run(x->st, &tq, &c->top, err);
    if (rc != DS_OK)
        return rc;
    size_t k = 0;
    for (size_t i = 0; i < c->top.n; i++)
        if (!ds_u64set_has(tools, c->top.rows[i].key))
            c->top.rows[k++] = c->top.rows[i];
    c->top.n = k;
    return DS_OK;
}
