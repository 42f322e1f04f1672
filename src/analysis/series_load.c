/* series_load.c: the daily series of the series detector (series_int.h), from two scans of SRCSVC.
 *
 * The first scan sums scan-class packets per service and per source country, in the period and in
 * the previous one (arrays indexed by the key, series_keys.h); only the top TOP_KEYS of each
 * period per dimension are then ranked exactly and judged.  The second scan fills, for the judged
 * keys only, each day's packets and each day's largest source (the largest SRCSVC record per
 * sensor, summed over sensors), and for countries the distinct sources of each day.  Days before
 * the store's first day are NaN; days a sensor did not observe are scaled or missing
 * (cov_weights.h).  The sums' memory, dead once the ranks are known, holds the series, and what is
 * left of it the drivers' copies (series_drivers.c).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/cov_weights.h"
#include "analysis/series_int.h"
#include "core/detin.h"
#include "core/srcset.h"

/* Two scans of SRCSVC over [base_from, to].  The first sums packets per (dimension, key) in the
 * period and in the previous one, for the ranks; the second fills daily series for the judged
 * keys only.  One pass with a (key, day) table was slower: random-port scans touch tens of
 * thousands of services a quarter, and keeping half a million (key, day) cells cost more than
 * reading the chunks twice (fresh memory is dear on our VM: about 3 ms a megabyte of 4 KiB pages
 * the kernel must fault in and clear).  The sums are kept in arrays indexed by the key itself
 * (series_keys.h), and only the top keys of each period are ranked exactly (a heap, then each
 * judged key's rank by counting the keys before it), not every key sorted.  Once the ranks are
 * known the sums are dead, and their memory, already faulted in, holds the series: no fresh
 * megabytes for them.
 * Sources attributed to ZMap, Masscan or Nmap are left out: each is a `tool` event of its own,
 * and a ZMap or Masscan sweep (one packet to every dark address on one port, within minutes)
 * would otherwise be the commonest single-host jump of a small service. */
/* The largest source of a (key, day) is approximated by the largest SRCSVC record, per sensor
 * (a scanner's packets to one service arrive as one record per sensor that saw it), summed over
 * sensors.  More sensors than lanes share lanes, which can only overstate the largest source.
 * Chunks come in day order (store.h's scan), so the second pass keeps the largest record of each
 * judged key per lane for the current day only, and adds the lanes up into the day's cell when
 * the day changes: a few kilobytes reused, not a lane per cell of the whole half year. */
#define LANES 8

typedef struct scan_ctx {
    ds_series_keys *keys;   /* pass 1: sums per key (series_keys.h); pass 2: the judged keys' slots */
    const ds_filter *f;
    int32_t base, from, prev_from, ndays;
    double *xs;             /* second pass: nslots x ndays */
    double *top;            /* second pass: the same cells, the day's largest record summed over lanes */
    uint32_t *lane_max;     /* second pass: nslots x LANES, the largest record of the current day */
    size_t nslots;
    double *srcs;           /* second pass: the countries' slots [cc0, nslots) x ndays, distinct sources */
    size_t cc0;             /* the first country slot */
    ds_u64set *day_src;     /* second pass, SRCSVC: per judged country, its sources met on cur_day */
    ds_srcacc *day_acc;     /* second pass, DETECT: per judged country, its sets of cur_day */
    uint64_t last_src;      /* second pass: the source of the chunk's last record put in day_src */
    int has_last;
    int32_t cur_day;        /* the day lane_max holds */
    unsigned lanes_used;    /* bit per lane written since the day began */
    int64_t lane_id[LANES]; /* sensor id of each lane (0: free) */
    size_t lane;            /* the lane of the chunk being read */
    int fill;
    /* first pass: the period's packets per sensor (the mean day is summed from each sensor's
     * packets over its own observed days); sensors past LANES go to per_sensor_extra */
    int64_t ps_id[LANES];
    double ps_packets[LANES], per_sensor_extra;
} scan_ctx;

/* Pass 1: a record's packets toward its key's sums for the period or the previous one. */
static inline int count(scan_ctx *c, int dim, uint32_t key, int32_t day, uint64_t packets)
{
    long i = ds_series_keys_meet(c->keys, dim, key);
    if (i < 0)
        return -1;
    if (day >= c->from)
        c->keys->p[i] += packets;
    else if (day >= c->prev_from)
        c->keys->q[i] += packets;
    return 0;
}

/* Pass 2: packets into a key's series, when the key is judged: a record's (maxrec = packets), or
 * a DETECT entry's sum and largest record. */
static inline void fill_max(scan_ctx *c, long i, int32_t day, uint64_t packets, uint32_t maxrec)
{
    unsigned v = c->keys->known[i];
    if (v < DS_SK_SLOT)
        return;
    size_t s = v - DS_SK_SLOT;
    c->xs[s * (size_t)c->ndays + (size_t)(day - c->base)] += (double)packets;
    uint32_t *t = &c->lane_max[s * LANES + c->lane];
    if (maxrec > *t)
        *t = maxrec;
}

static inline void fill(scan_ctx *c, long i, int32_t day, uint32_t packets) { fill_max(c, i, day, packets, packets); }

/* Pass 2: a record's source into its country's distinct sources of the day, when the country is
 * judged: one set per country, so that a source a day's files placed in two countries (a geo
 * database replaced mid-day) counts in each, as the DETECT path's sets do.  -1 when out of
 * memory. */
static inline int fill_source(scan_ctx *c, long i, int32_t day, uint64_t src)
{
    unsigned v = c->keys->known[i];
    if (v < DS_SK_SLOT || (c->has_last && src == c->last_src))
        return 0;   /* a source's records are consecutive in a chunk (agg_day.c): met already */
    c->last_src = src;
    c->has_last = 1;
    size_t s = v - DS_SK_SLOT - c->cc0;
    int added = ds_u64set_add(&c->day_src[s], src);
    if (added > 0)
        c->srcs[s * (size_t)c->ndays + (size_t)(day - c->base)] += 1;
    return added < 0 ? -1 : 0;
}

/* Pass 2: the current day's largest records, summed over the lanes, into its cells; its distinct
 * sources per country (DETECT: the union of the day's sets). */
static ds_rc flush_day(scan_ctx *c, ds_err *err)
{
    if (!c->lanes_used)
        return DS_OK;
    size_t ncc = c->nslots - c->cc0;
    for (size_t s = 0; s < ncc; s++) {
        if (c->day_acc) {
            if (c->day_acc[s].has_pend || c->day_acc[s].v.n4 || c->day_acc[s].v.n6) {
                int64_t n = ds_srcacc_distinct(&c->day_acc[s], err);
                if (n == -1)
                    return ds_fail(err, DS_ENOMEM, "out of memory counting sources a day");
                if (n < 0)
                    return DS_EFORMAT;   /* a damaged set: *err names it */
                c->srcs[s * (size_t)c->ndays + (size_t)(c->cur_day - c->base)] += (double)n;
            }
            ds_srcacc_free(&c->day_acc[s]);
            memset(&c->day_acc[s], 0, sizeof c->day_acc[s]);
        } else {
            ds_u64set_clear(&c->day_src[s]);
        }
    }
    size_t day = (size_t)(c->cur_day - c->base);
    for (size_t s = 0; s < c->nslots; s++) {
        uint32_t *lm = &c->lane_max[s * LANES];
        double t = 0;
        for (size_t l = 0; l < LANES; l++)
            t += lm[l];
        memset(lm, 0, LANES * sizeof *lm);
        if (isfinite(c->top[s * (size_t)c->ndays + day]))
            c->top[s * (size_t)c->ndays + day] = t;
    }
    c->lanes_used = 0;
    return DS_OK;
}

/* A chunk begins: its sensor's packets sum (pass 1), or the day and lane it fills (pass 2). */
static ds_rc chunk_begin(scan_ctx *c, int64_t sensor_id, int32_t day, double **psum, ds_err *err)
{
    double *ps = &c->per_sensor_extra;
    for (size_t l = 0; !c->fill && l < LANES; l++)
        if (c->ps_id[l] == sensor_id || !c->ps_id[l]) {
            c->ps_id[l] = sensor_id;
            ps = &c->ps_packets[l];
            break;
        }
    if (c->fill) {
        if (day != c->cur_day) {
            ds_rc rc = flush_day(c, err);
            if (rc != DS_OK)
                return rc;
            c->cur_day = day;
        }
        size_t l = 0;
        while (l < LANES && c->lane_id[l] && c->lane_id[l] != sensor_id)
            l++;
        if (l == LANES)
            l = (size_t)sensor_id % LANES;
        else
            c->lane_id[l] = sensor_id;
        c->lane = l;
        c->lanes_used |= 1u << l;
        c->has_last = 0;
    }
    *psum = ps;
    return DS_OK;
}

static ds_rc on_srcsvc(void *vctx, int64_t sensor_id, int32_t day, const uint8_t *data, size_t nrec, ds_err *err)
{
    scan_ctx *c = vctx;
    double *ps;
    ds_rc rc = chunk_begin(c, sensor_id, day, &ps, err);
    if (rc != DS_OK)
        return rc;
    for (size_t i = 0; i < nrec; i++) {
        const uint8_t *rec = data + i * DS_REC_SRCSVC;
        if (!counted(c->f, rec))
            continue;
        uint32_t service = ss_u32(rec + SS_SERVICE), packets = ss_u32(rec + SS_PACKETS);
        uint16_t cc = ss_cc(rec);
        if (c->fill) {
            long at = ds_series_keys_find(c->keys, 1, cc);
            fill(c, ds_series_keys_find(c->keys, 0, service), day, packets);
            fill(c, at, day, packets);
            if (fill_source(c, at, day, ss_u64(rec + SS_SRC)) != 0)
                return ds_fail(err, DS_ENOMEM, "out of memory counting sources a day");
        } else if (count(c, 0, service, day, packets) != 0 || count(c, 1, cc, day, packets) != 0) {
            return ds_fail(err, DS_ENOMEM, "out of memory building daily series");
        } else if (day >= c->from) {
            *ps += packets;
        }
    }
    return DS_OK;
}

/* The same two passes over DETECT chunks (core/detin.h): an entry is the sum of the chunk's
 * counted records of its key, with their largest, and a country's set its sources. */
static ds_rc on_detin(void *vctx, int64_t sensor_id, int32_t day, const uint8_t *data, size_t nrec, ds_err *err)
{
    scan_ctx *c = vctx;
    ds_detin_view v;
    double *ps;
    ds_rc rc = ds_detin_open(data, nrec, &v, err);
    if (rc != DS_OK || (rc = chunk_begin(c, sensor_id, day, &ps, err)) != DS_OK)
        return rc;
    for (int dim = 0; dim < 2; dim++)
        for (uint32_t i = 0, n = dim ? v.ncc : v.nsvc; i < n; i++) {
            ds_detin_entry e;
            if ((rc = ds_detin_entry_get(&v, dim, i, &e, err)) != DS_OK)
                return rc;
            if (!c->fill) {
                if (count(c, dim, e.key, day, e.packets) != 0)
                    return ds_fail(err, DS_ENOMEM, "out of memory building daily series");
                if (!dim && day >= c->from)
                    *ps += (double)e.packets;
                continue;
            }
            long at = ds_series_keys_find(c->keys, dim, e.key);
            fill_max(c, at, day, e.packets, e.maxrec);
            unsigned k = dim ? c->keys->known[at] : 0;
            if (k >= DS_SK_SLOT && (e.n4 || e.n6) &&
                (rc = ds_srcacc_add(&c->day_acc[k - DS_SK_SLOT - c->cc0], e.set, e.bytes, e.n4, e.n6, err)) != DS_OK)
                return rc;
        }
    return DS_OK;
}

/* Ranks: by packets, then the smaller key; 1-based; 0 for a key without packets. */
typedef struct ranked { uint64_t v; uint32_t key, idx; } ranked;

static inline int ranked_before(const ranked *a, const ranked *b)
{
    return (a->v > b->v) | ((a->v == b->v) & (a->key < b->key));   /* no branch: it decides searches */
}

static int ranked_cmp(const void *a, const void *b)
{
    const ranked *x = a, *y = b;
    return ranked_before(x, y) ? -1 : ranked_before(y, x);
}

/* A heap of the TOP_KEYS first keys met so far (its root is the one every other comes before). */
typedef struct top_heap { ranked e[TOP_KEYS]; size_t n; } top_heap;

static void heap_offer(top_heap *h, const ranked *r)
{
    if (!r->v || (h->n == TOP_KEYS && !ranked_before(r, &h->e[0])))
        return;
    ranked *out = h->e;
    size_t at, n = h->n;
    if (n < TOP_KEYS) {   /* sift up */
        at = h->n++;
        while (at > 0 && ranked_before(&out[(at - 1) / 2], r)) {
            out[at] = out[(at - 1) / 2];
            at = (at - 1) / 2;
        }
    } else {              /* replace the root, sift down */
        at = 0;
        for (;;) {
            size_t l = 2 * at + 1, m = at;
            const ranked *worst = r;
            if (l < n && ranked_before(worst, &out[l]))
                worst = &out[m = l];
            if (l + 1 < n && ranked_before(worst, &out[l + 1]))
                worst = &out[m = l + 1];
            if (m == at)
                break;
            out[at] = out[m];
            at = m;
        }
    }
    out[at] = *r;
}

/* Where r goes among the nz judged keys with packets j[] (sorted): counted in before[] at the
 * first one it comes before (only before[a] of those is used, so a key that comes after all of
 * them is not counted).  A random-port scan's thousands of keys have a few packets each: for a
 * count v < PLACE_DIRECT the first judged key with at most v packets is at[v], worked out once,
 * and only a judged key with v packets too (a tie, broken by the key) needs a look past it; a
 * larger count is placed by binary search. */
#define PLACE_DIRECT 4096
_Static_assert(2 * TOP_KEYS < 256, "place_table keeps judged-key indexes in bytes");
_Static_assert(4 * TOP_KEYS <= DS_SK_MAX_SLOTS, "series slots are kept in series_keys.h's known[]");

static void place_table(const ranked *j, size_t nz, uint8_t *at)
{
    size_t m = nz;
    for (uint64_t v = 1; v < PLACE_DIRECT; v++) {
        while (m > 0 && j[m - 1].v <= v)
            m--;
        at[v] = (uint8_t)m;
    }
}

static inline void place(const ranked *r, const ranked *j, size_t nz, const uint8_t *at, int32_t *before)
{
    if (!r->v)
        return;
    size_t lo;
    if (r->v < PLACE_DIRECT) {
        lo = at[r->v];
        while (lo < nz && j[lo].v == r->v && j[lo].key <= r->key)
            lo++;
    } else {
        if (!nz || !ranked_before(r, &j[nz - 1]))
            return;
        const ranked *base = j;   /* the first j r comes before, in [base, base + n] */
        size_t n = nz;
        while (n > 1) {
            size_t half = n / 2;
            base = ranked_before(r, &base[half]) ? base : base + half;
            n -= half;
        }
        lo = (size_t)(base - j) + !ranked_before(r, base);
    }
    before[lo]++;
}

/* The judged keys of one dimension (ranked in the top TOP_KEYS of the period or the previous
 * one), with their sums and ranks, in the order of j; each key's known[] is DS_SK_SLOT + its
 * place in j until table_rows gives it a series slot. */
typedef struct judged_set {
    ranked j[2 * TOP_KEYS];
    uint64_t p[2 * TOP_KEYS], q[2 * TOP_KEYS];
    int32_t rank_p[2 * TOP_KEYS], rank_q[2 * TOP_KEYS];
    size_t n;
} judged_set;

/* Every key met, in index order (the sums are read in order, not at random).  1 with the next
 * key's dimension, key and index. */
typedef struct key_iter { size_t i, o; } key_iter;

static int next_key(const ds_series_keys *k, key_iter *it, int *dim, uint32_t *key, long *at)
{
    while (it->i < DS_SK_DENSE) {
        size_t i = it->i++;
        if (k->known[i]) {
            *key = ds_series_keys_dense_key(i, dim);
            *at = (long)i;
            return 1;
        }
    }
    while (it->o < k->other_cap) {   /* services of other protocols */
        size_t o = it->o++;
        if (k->other_idx[o]) {
            *dim = 0;
            *key = k->other_key[o];
            *at = k->other_idx[o];
            return 1;
        }
    }
    return 0;
}

/* The judged keys of both dimensions, js[dim], and the period's packets.  Two passes over the
 * keys met: one for the first keys of each dimension and period (heaps), one for the judged
 * keys' ranks (a key's rank is one more than the keys of its dimension that come before it: each
 * key is placed among the judged ones, sorted (place), so this is O(keys log judged) at most, not
 * a sort of every key). */
static void judged_keys(ds_series_keys *k, judged_set js[2], uint64_t *period_packets)
{
    top_heap heap[2][2] = { 0 };   /* [dim][period: p, q] */
    ranked jq[2][2 * TOP_KEYS];
    int32_t before[2][2][2 * TOP_KEYS + 1];
    size_t nz[2][2];
    int dim;
    uint32_t key;
    long at;
    for (key_iter it = { 0 }; next_key(k, &it, &dim, &key, &at);) {
        if (!dim)
            *period_packets += k->p[at];   /* every service's: all the period's packets */
        heap_offer(&heap[dim][0], &(ranked){ k->p[at], key, (uint32_t)at });
        heap_offer(&heap[dim][1], &(ranked){ k->q[at], key, (uint32_t)at });
    }
    for (dim = 0; dim < 2; dim++) {
        /* the first TOP_KEYS by either period, once each (known marks them) */
        ranked *j = js[dim].j;
        size_t nj = 0;
        for (int per = 0; per < 2; per++)
            for (size_t a = 0; a < heap[dim][per].n; a++) {
                const ranked *r = &heap[dim][per].e[a];
                if (k->known[r->idx] < DS_SK_SLOT) {
                    k->known[r->idx] = DS_SK_SLOT;
                    j[nj++] = *r;
                }
            }
        js[dim].n = nj;
        /* sorted by each period's packets, for the ranks */
        for (size_t a = 0; a < nj; a++) {
            j[a].v = k->p[j[a].idx];
            jq[dim][a] = j[a];
            jq[dim][a].v = k->q[j[a].idx];
        }
        qsort(j, nj, sizeof *j, ranked_cmp);
        qsort(jq[dim], nj, sizeof *j, ranked_cmp);
        for (nz[dim][0] = 0; nz[dim][0] < nj && j[nz[dim][0]].v; nz[dim][0]++)
            ;
        for (nz[dim][1] = 0; nz[dim][1] < nj && jq[dim][nz[dim][1]].v; nz[dim][1]++)
            ;
    }
    uint8_t direct[2][2][PLACE_DIRECT];
    memset(before, 0, sizeof before);
    for (dim = 0; dim < 2; dim++) {
        place_table(js[dim].j, nz[dim][0], direct[dim][0]);
        place_table(jq[dim], nz[dim][1], direct[dim][1]);
    }
    for (key_iter it = { 0 }; next_key(k, &it, &dim, &key, &at);) {
        place(&(ranked){ k->p[at], key, (uint32_t)at }, js[dim].j, nz[dim][0], direct[dim][0], before[dim][0]);
        place(&(ranked){ k->q[at], key, (uint32_t)at }, jq[dim], nz[dim][1], direct[dim][1], before[dim][1]);
    }
    for (dim = 0; dim < 2; dim++) {
        judged_set *s = &js[dim];
        for (int per = 0; per < 2; per++)
            for (size_t a = 1; a <= s->n; a++)
                before[dim][per][a] += before[dim][per][a - 1];
        /* ranks: the number of keys before it, plus one; 0 for none in that period */
        for (size_t a = 0; a < s->n; a++) {
            k->known[s->j[a].idx] = (uint16_t)(DS_SK_SLOT + a);
            s->p[a] = k->p[s->j[a].idx];
            s->q[a] = k->q[s->j[a].idx];
            s->rank_p[a] = s->p[a] ? before[dim][0][a] + 1 : 0;
        }
        for (size_t a = 0; a < s->n; a++)
            s->rank_q[k->known[jq[dim][a].idx] - DS_SK_SLOT] = jq[dim][a].v ? before[dim][1][a] + 1 : 0;
    }
}

/* The rows of one dimension's judged keys, each with a series slot (known[] = DS_SK_SLOT + slot;
 * slots numbered on from *nslots).  Order contract: by packets in the period, descending, then
 * by key (a service as proto << 16 | port, a country as its packed code), ascending: the order of
 * js->j, so content alone decides in which order series are judged, which candidates the
 * MAX_CANDS cap keeps, and in which order events are emitted.  (Until 2026-12 rows came in the
 * slot order of a hash table filled as records were read, which is the order SQLite returned the
 * chunks, and so depended on the order files were ingested.) */
static ds_rc table_rows(ds_series_keys *k, int dim, const judged_set *js, series_tab *t, size_t *nslots,
                        ds_err *err)
{
    t->dim = dim ? DS_CUBE_COUNTRY : DS_CUBE_SERVICE;
    t->rows = calloc(2 * TOP_KEYS + 1, sizeof *t->rows);
    if (!t->rows)
        return ds_fail(err, DS_ENOMEM, "out of memory building daily series");
    for (size_t i = 0; i < js->n; i++) {
        long at = (long)js->j[i].idx;
        if (k->known[at] < DS_SK_SLOT)
            continue;
        size_t a = k->known[at] - DS_SK_SLOT;
        k->known[at] = (uint16_t)(DS_SK_SLOT + *nslots);
        /* the row keeps its slot number in x until the series exist (see attach_series) */
        t->rows[t->n++] = (keyrow){ .key = js->j[i].key, .p = js->p[a], .q = js->q[a], .rank_p = js->rank_p[a],
                                    .rank_q = js->rank_q[a], .x = (double *)(uintptr_t)(++*nslots) };
    }
    return DS_OK;
}

static void attach_series(series_tab *t, double *xs, double *top, int32_t ndays)
{
    for (size_t i = 0; i < t->n; i++) {
        uintptr_t s1 = (uintptr_t)t->rows[i].x;
        t->rows[i].x = s1 ? xs + (s1 - 1) * (size_t)ndays : NULL;
        t->rows[i].top = s1 ? top + (s1 - 1) * (size_t)ndays : NULL;
    }
}

/* The judged rows and their series (in x->keys' memory, or x->xs_owned when they do not fit). */
ds_rc ds_series_load(ctx *x, series_tab *svc, series_tab *cc, ds_err *err)
{
    ds_filter f;
    base_filter(x, &f);
    ds_series_keys *k = &x->keys;
    scan_ctx c = { .keys = k, .f = &f, .base = x->base_from, .from = x->q->from, .prev_from = x->prev_from,
                   .ndays = x->ndays };
    size_t nslots = 0;
    ds_rc rc = DS_OK;
    judged_set *js = malloc(2 * sizeof *js);
    if (!js || ds_series_keys_init(k) != 0)
        goto nomem;
    /* SRCSVC, or DETECT when every day has it (events.c, detin_usable) */
    int kind = x->q->detin ? DS_CHUNK_DETECT : DS_CHUNK_SRCSVC;
    ds_scan_fn on = x->q->detin ? on_detin : on_srcsvc;
    if ((rc = ds_store_scan(x->st, kind, x->q->sensor_id, x->base_from, x->q->to, on, &c, err)) != DS_OK)
        goto out;
    judged_keys(k, js, &x->period_packets);
    /* the mean day per observed day: each sensor's packets over its own observed days, so that a
     * sensor's share of the traffic need not follow its share of the addresses */
    if (!c.per_sensor_extra && ds_cov_known(x->q->coverage)) {
        double m = 0;
        for (size_t l = 0; l < LANES && c.ps_id[l]; l++) {
            double days = ds_cov_days(x->q->coverage, c.ps_id[l], x->q->from, x->q->to);
            m += days > 0 ? c.ps_packets[l] / days : 0;
        }
        x->mean_day = m;
    }
    /* the sums are dead from here: their memory holds the series */
    if ((rc = table_rows(k, 0, &js[0], svc, &nslots, err)) != DS_OK ||
        (rc = table_rows(k, 1, &js[1], cc, &nslots, err)) != DS_OK)
        goto out;
    size_t cells = (nslots ? nslots : 1) * (size_t)x->ndays;
    /* xs holds the series, then the largest-source series (attach_series) */
    x->spare[0] = k->q;
    x->spare_len[0] = k->cap * sizeof *k->q;
    if (2 * cells <= k->cap) {
        c.xs = (double *)k->p;
        x->spare[1] = c.xs + 2 * cells;
        x->spare_len[1] = (k->cap - 2 * cells) * sizeof *k->p;
    } else {
        if (!(c.xs = x->xs_owned = malloc(2 * cells * sizeof *c.xs)))
            goto nomem;
        x->spare[1] = k->p;
        x->spare_len[1] = k->cap * sizeof *k->p;
    }
    c.lane_max = calloc((nslots ? nslots : 1) * LANES, sizeof *c.lane_max);
    if (!c.lane_max)
        goto nomem;
    c.top = c.xs + cells;
    c.nslots = nslots;
    /* the countries' distinct sources a day (their slots follow the services') */
    c.cc0 = svc->n;
    size_t scells = (nslots - c.cc0 ? nslots - c.cc0 : 1) * (size_t)x->ndays;
    size_t ncc = nslots - c.cc0;
    if (!(c.srcs = x->srcs = malloc(scells * sizeof *c.srcs)))
        goto nomem;
    if (x->q->detin) {
        if (ncc && !(c.day_acc = calloc(ncc, sizeof *c.day_acc)))
            goto nomem;
    } else if (ncc) {
        if (!(c.day_src = calloc(ncc, sizeof *c.day_src)))
            goto nomem;
        for (size_t i = 0; i < ncc; i++)
            if (ds_u64set_init(&c.day_src[i], 256) != 0)
                goto nomem;
    }
    for (size_t i = 0; i < scells; i++)
        c.srcs[i] = x->base_from + (int32_t)(i % (size_t)x->ndays) < x->first_day ? NAN : 0;
    for (size_t i = 0; i < nslots; i++)
        for (int32_t d = 0; d < x->ndays; d++)
            c.xs[i * (size_t)x->ndays + (size_t)d] = c.top[i * (size_t)x->ndays + (size_t)d] =
                x->base_from + d < x->first_day ? NAN : 0;
    c.fill = 1;
    c.cur_day = x->base_from - 1;
    if ((rc = ds_store_scan(x->st, kind, x->q->sensor_id, x->base_from, x->q->to, on, &c, err)) != DS_OK ||
        (rc = flush_day(&c, err)) != DS_OK)
        goto out;
    /* time no sensor observed is missing, not zero; a day half the addresses saw counts double */
    for (size_t i = 0; i < 2 * nslots; i++)
        ds_cov_apply(c.xs + i * (size_t)x->ndays, x->dayw, (size_t)x->ndays);
    for (size_t i = c.cc0; i < nslots; i++)
        ds_cov_apply(c.srcs + (i - c.cc0) * (size_t)x->ndays, x->dayw, (size_t)x->ndays);
    attach_series(svc, c.xs, c.top, x->ndays);
    attach_series(cc, c.xs, c.top, x->ndays);
    for (size_t i = 0; i < cc->n; i++)
        if (cc->rows[i].x)
            cc->rows[i].srcs = c.srcs + (size_t)(cc->rows[i].x - c.xs) - c.cc0 * (size_t)x->ndays;
    goto out;
nomem:
    rc = ds_fail(err, DS_ENOMEM, "out of memory building daily series");
out:
    if (rc != DS_OK) {
        for (size_t i = 0; i < svc->n; i++)
            svc->rows[i].x = svc->rows[i].top = NULL;
        for (size_t i = 0; i < cc->n; i++)
            cc->rows[i].x = cc->rows[i].top = cc->rows[i].srcs = NULL;
    }
    for (size_t i = 0; i < nslots - c.cc0; i++) {
        if (c.day_src)
            ds_u64set_free(&c.day_src[i]);
        if (c.day_acc)
            ds_srcacc_free(&c.day_acc[i]);
    }
    free(c.day_src);
    free(c.day_acc);
    free(c.lane_max);
    free(js);
    return rc;
}

void ds_series_tab_free(series_tab *t)
{
    free(t->rows);
    memset(t, 0, sizeof *t);
}
