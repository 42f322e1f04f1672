/* periodic_pairs.c: see periodic_pairs.h. */
#include "analysis/periodic_pairs.h"

#include <stdlib.h>
#include <string.h>

#include "analysis/rollups.h"
#include "core/classify.h"
#include "core/cross.h"
#include "core/hash.h"

/* A pair's key: service << 16 | country, plus one so that 0 marks a free slot. */
typedef struct pslot { uint64_t k; uint64_t packets; double *daily; } pslot;

/* A period of up to ONE_PASS_DAYS is read once, every pair with its daily series (at most the
 * 50 services' ~200 countries each: 40 MB at 400 days).  A longer one is read twice, the totals
 * first and then the chosen pairs' days, so that years do not cost a series per pair. */
#define ONE_PASS_DAYS 400
enum pass { BOTH, TOTALS, DAYS };

/* DS_PAIRS_TWO_PASS=1: two passes whatever the period (tests/e2e/weekly_pair.sh compares both). */
static int two_pass_forced(void)
{
    const char *v = getenv("DS_PAIRS_TWO_PASS");
    return v && *v && strcmp(v, "0") != 0;
}

typedef struct pctx {
    const uint32_t *services;
    size_t nservices;
    pslot *t;
    size_t cap, n;
    int32_t from, to;
    enum pass pass;
} pctx;

static uint64_t pair_key(uint32_t service, uint16_t cc)
{
    return ((uint64_t)service << 16 | cc) + 1;
}

static pslot *find(const pctx *c, uint64_t k)
{
    size_t j = (size_t)ds_mix64(k) & (c->cap - 1);
    while (c->t[j].k && c->t[j].k != k)
        j = (j + 1) & (c->cap - 1);
    return &c->t[j];
}

static int grow(pctx *c)
{
    size_t cap = c->cap ? c->cap * 2 : 4096;
    pslot *old = c->t, *n = calloc(cap, sizeof *n);
    size_t oldcap = c->cap;
    if (!n)
        return -1;
    c->t = n;
    c->cap = cap;
    for (size_t i = 0; i < oldcap; i++)
        if (old[i].k)
            *find(c, old[i].k) = old[i];
    free(old);
    return 0;
}

static void add(pctx *c, int32_t day, const ds_rec_cross *r, int *oom)
{
    if (c->pass == DAYS) {   /* the chosen pairs only, which have their series */
        pslot *s = find(c, pair_key(r->service, r->cc));
        if (s->k && s->daily)
            s->daily[day - c->from] += (double)r->packets;
        return;
    }
    if ((c->n + 1) * 2 > c->cap && grow(c) != 0) {
        *oom = 1;
        return;
    }
    pslot *s = find(c, pair_key(r->service, r->cc));
    if (!s->k) {
        if (c->pass == BOTH && !(s->daily = calloc((size_t)(c->to - c->from + 1), sizeof *s->daily))) {
            *oom = 1;
            return;
        }
        s->k = pair_key(r->service, r->cc);
        c->n++;
    }
    s->packets += r->packets;
    if (c->pass == BOTH)
        s->daily[day - c->from] += (double)r->packets;
}

/* The first record of a chunk (sorted by service, country, class: core/cross.h) whose service is
 * at least service. */
static size_t first_of(const uint8_t *data, size_t nrec, uint32_t service)
{
    size_t lo = 0, hi = nrec;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        ds_rec_cross r;
        ds_rec_cross_get(data + mid * DS_REC_CROSS, &r);
        if (r.service < service)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Only the wanted services' runs of each chunk are read, found by binary search: a busy month's
 * chunks hold every port a source reached, and reading them all twice was most of the pairs'
 * cost. */
static ds_rc on_cross(void *vctx, int64_t sensor_id, int32_t day, const uint8_t *data, size_t nrec, ds_err *err)
{
    (void)sensor_id;
    pctx *c = vctx;
    int oom = 0;
    if (day < c->from || day > c->to)
        return DS_OK;
    for (size_t j = 0; j < c->nservices && !oom; j++)
        for (size_t i = first_of(data, nrec, c->services[j]); i < nrec && !oom; i++) {
            ds_rec_cross r;
            ds_rec_cross_get(data + i * DS_REC_CROSS, &r);
            if (r.service != c->services[j])
                break;
            if (r.cls == DS_CLASS_SCAN)
                add(c, day, &r, &oom);
        }
    return oom ? ds_fail(err, DS_ENOMEM, "out of memory reading the period's service and country pairs") : DS_OK;
}

/* Most packets first, then by key (service, then country): content order. */
static int slot_cmp(const void *a, const void *b)
{
    const pslot *x = *(pslot *const *)a, *y = *(pslot *const *)b;
    if (x->packets != y->packets)
        return x->packets > y->packets ? -1 : 1;
    return x->k < y->k ? -1 : x->k > y->k;
}

void ds_pair_series_free(ds_pair_series *p, size_t n)
{
    for (size_t i = 0; p && i < n; i++)
        free(p[i].daily);
    free(p);
}

ds_rc ds_pair_series_load(ds_store *st, int64_t sensor_id, int32_t from, int32_t to, const uint32_t *services,
                          size_t nservices, size_t max, double min_packets, ds_pair_series **out, size_t *n, ds_err *err)
{
    *out = NULL;
    *n = 0;
    pctx c = { .services = services, .nservices = nservices, .from = from, .to = to,
               .pass = to - from + 1 <= ONE_PASS_DAYS && !two_pass_forced() ? BOTH : TOTALS };
    pslot **order = NULL;
    ds_pair_series *p = NULL;
    size_t np = 0;
    int yes = 0;
    ds_rc rc = ds_rollups_cover(st, DS_CHUNK_CROSS, sensor_id, from, to, &yes, err);
    if (rc != DS_OK || !yes || !max || !nservices || from > to)
        return rc;
    if (grow(&c) != 0)
        goto nomem;   /* c.t is NULL: out frees nothing of it */
    if ((rc = ds_store_scan(st, DS_CHUNK_CROSS | DS_SCAN_NOFILL, sensor_id, from, to, on_cross, &c, err)) != DS_OK)
        goto out;
    if (!(order = malloc((c.n ? c.n : 1) * sizeof *order)))
        goto nomem;
    size_t m = 0;
    for (size_t i = 0; i < c.cap; i++)
        if (c.t[i].k && (double)c.t[i].packets >= min_packets)
            order[m++] = &c.t[i];
    qsort(order, m, sizeof *order, slot_cmp);
    if (m > max)
        m = max;
    if (c.pass == TOTALS) {   /* the chosen pairs' days, in a second pass */
        for (size_t i = 0; i < m; i++)
            if (!(order[i]->daily = calloc((size_t)(to - from + 1), sizeof *order[i]->daily)))
                goto nomem;
        c.pass = DAYS;
        if ((rc = ds_store_scan(st, DS_CHUNK_CROSS | DS_SCAN_NOFILL, sensor_id, from, to, on_cross, &c, err)) != DS_OK)
            goto out;
    }
    if (m && !(p = calloc(m, sizeof *p)))
        goto nomem;
    for (; np < m; np++) {   /* the chosen series move to p */
        pslot *s = order[np];
        p[np] = (ds_pair_series){ (uint32_t)((s->k - 1) >> 16), (uint16_t)((s->k - 1) & 0xffff), s->packets, s->daily };
        s->daily = NULL;
    }
    *out = p;
    *n = np;
    p = NULL;
    np = 0;
    goto out;
nomem:
    rc = ds_fail(err, DS_ENOMEM, "out of memory reading the period's service and country pairs");
out:
    ds_pair_series_free(p, np);
    for (size_t i = 0; i < c.cap; i++)
        free(c.t[i].daily);
    free(order);
    free(c.t);
    return rc;
}
