/* agg_rollup.c: the rollup chunks of a retiring day (part of the aggregator; design in agg.c,
 * the builder in core/rollup_build.h).
 *
 * When a day slab retires, its (source, service, class) log is sorted by (source index in the
 * slab, service, class): each source's items are one run.  The slab's sources are put in
 * (sensor, source key) order (an LSD radix sort of the day's sources, not of its items), and each
 * sensor's sources, with their runs of items, are one batch of the builder.  Country and ASN are
 * the source entry's, looked up once when the source was first seen that day.
 *
 * A group (sensor, day) keeps one part per batch: one normally, more when late packets retire the
 * day again before it closes.  Closing a group unites its parts; the parts of one (sensor, day)
 * in other groups or other threads are united at commit (ingest/rollup.c).
 */
#include "core/agg_int.h"

#include <stdlib.h>
#include <string.h>

typedef struct srank {
    uint64_t key;       /* ds_src_key */
    uint32_t idx;       /* in the slab */
    uint32_t sensor;
} srank;

/* Sort o[0, n) by (sensor, key), stably, through tmp: LSD radix on the key's 11-bit digits (those
 * every source shares skipped: an IPv4-only day sorts in three passes), then a counting pass on
 * the sensor.  Returns the array holding the result.  hist: 6 x 2048 counts, zeroed. */
static srank *sort_sources(srank *o, srank *tmp, size_t n, uint32_t (*hist)[2048], uint32_t *shist, uint32_t nsens)
{
    for (size_t i = 0; i < n; i++)
        for (int d = 0; d < 6; d++)
            hist[d][o[i].key >> (11 * d) & 2047]++;
    srank *src = o, *dst = tmp;
    for (int d = 0; d < 6; d++) {
        if (hist[d][src[0].key >> (11 * d) & 2047] == n)
            continue;
        uint32_t sum = 0;
        for (size_t x = 0; x < 2048; x++) {
            uint32_t c = hist[d][x];
            hist[d][x] = sum;
            sum += c;
        }
        for (size_t i = 0; i < n; i++)
            dst[hist[d][src[i].key >> (11 * d) & 2047]++] = src[i];
        srank *t = src;
        src = dst;
        dst = t;
    }
    if (nsens > 1) {
        for (size_t i = 0; i < n; i++)
            shist[src[i].sensor]++;
        uint32_t sum = 0;
        for (uint32_t x = 0; x < nsens; x++) {
            uint32_t c = shist[x];
            shist[x] = sum;
            sum += c;
        }
        for (size_t i = 0; i < n; i++)
            dst[shist[src[i].sensor]++] = src[i];
        src = dst;
    }
    return src;
}

static int add_part(group *g, uint8_t *c[DS_ROLLUP__COUNT], const size_t len[DS_ROLLUP__COUNT])
{
    if (g->nru == g->capru) {
        size_t cap = g->capru ? g->capru * 2 : 1;
        rupart *n = realloc(g->ru, cap * sizeof *n);
        if (!n)
            return -1;
        g->ru = n;
        g->capru = cap;
    }
    rupart *p = &g->ru[g->nru++];
    for (int d = 0; d < DS_ROLLUP__COUNT; d++) {
        p->c[d] = c[d];
        p->len[d] = len[d];
    }
    return 0;
}

/* One batch's chunks into the group of (sensor, day). */
static int finish_batch(ds_agg *a, int sensor, int32_t day)
{
    uint8_t *c[DS_ROLLUP__COUNT];
    size_t len[DS_ROLLUP__COUNT];
    ds_err err;
    if (ds_rollup_batch_encode(a->rb, c, len, &err) != DS_OK)
        return -1;
    group *g = agg_group_of(a, sensor, day);
    if (!g || add_part(g, c, len) != 0) {
        for (int d = 0; d < DS_ROLLUP__COUNT; d++)
            free(c[d]);
        return -1;
    }
    return 0;
}

int agg_rollup_slab(ds_agg *a, const dayslab *d, const ds_svc_item *it, size_t nit)
{
    size_t n = d->nsrc;
    if (!n || !nit)
        return 0;
    if (n > UINT32_MAX || (!a->rb && !(a->rb = ds_rollup_batch_new())))
        return -1;
    uint32_t nsens = 1;
    for (size_t i = 0; i < n; i++)
        if (d->src[i].sensor >= nsens)
            nsens = (uint32_t)d->src[i].sensor + 1;
    /* work arrays: the sources twice (the sort's two buffers), each source's first item, the
     * histograms */
    size_t need = 2 * n * sizeof(srank) + (n + 1) * sizeof(size_t) + 6 * 2048 * sizeof(uint32_t) +
                  nsens * sizeof(uint32_t);
    if (need > a->capruscratch) {
        free(a->ruscratch);
        a->capruscratch = 0;
        if (!(a->ruscratch = malloc(need)))
            return -1;
        a->capruscratch = need;
    }
    srank *o = a->ruscratch, *tmp = o + n;
    size_t *start = (size_t *)(tmp + n);
    uint32_t (*hist)[2048] = (uint32_t (*)[2048])(start + n + 1);
    uint32_t *shist = (uint32_t *)(hist + 6);
    memset(hist, 0, 6 * sizeof *hist + nsens * sizeof *shist);
    for (size_t i = 0; i < n; i++)
        o[i] = (srank){ ds_src_key(&d->src[i].ip), (uint32_t)i, d->src[i].sensor };
    /* the items are in source index order: start[i] is source i's first */
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        start[i] = k;
        while (k < nit && ds_svc_key_src(it[k].key) == i)
            k++;
    }
    start[n] = k;
    const srank *s = sort_sources(o, tmp, n, hist, shist, nsens);
    int sensor = -1;
    for (size_t r = 0; r < n; r++) {
        uint32_t i = s[r].idx;
        if (start[i] == start[i + 1])
            continue;   /* no item (cannot happen: every counted packet logs one) */
        if ((int)s[r].sensor != sensor) {
            if (sensor >= 0 && finish_batch(a, sensor, d->day) != 0)
                return -1;
            sensor = (int)s[r].sensor;
            ds_rollup_batch_begin(a->rb);
        }
        const src_ent *e = &d->src[i];
        if (ds_rollup_batch_source(a->rb, s[r].key, e->cc, e->asn) != 0)
            return -1;
        for (size_t j = start[i]; j < start[i + 1]; j++)
            if (ds_rollup_batch_item(a->rb, ds_svc_key_service(it[j].key), ds_svc_key_class(it[j].key),
                                     it[j].packets) != 0)
                return -1;
    }
    if (sensor >= 0 && finish_batch(a, sensor, d->day) != 0)
        return -1;
    return 0;
}

int agg_rollup_close(group *g)
{
    if (g->nru < 2)
        return 0;
    rupart one;
    const uint8_t **c = malloc(g->nru * sizeof *c);
    size_t *len = malloc(g->nru * sizeof *len);
    int rc = c && len ? 0 : -1;
    for (int d = 0; d < DS_ROLLUP__COUNT && rc == 0; d++) {
        for (size_t i = 0; i < g->nru; i++) {
            c[i] = g->ru[i].c[d];
            len[i] = g->ru[i].len[d];
        }
        ds_err err;
        if (ds_rollup_merge((ds_rollup_dim)d, c, len, g->nru, &one.c[d], &one.len[d], &err) != DS_OK) {
            for (int x = 0; x < d; x++)
                free(one.c[x]);
            rc = -1;
        }
    }
    free(c);
    free(len);
    if (rc != 0)
        return -1;
    agg_rollup_free(g);
    g->ru = malloc(sizeof *g->ru);
    if (!g->ru) {
        for (int d = 0; d < DS_ROLLUP__COUNT; d++)
            free(one.c[d]);
        return -1;
    }
    g->ru[0] = one;
    g->nru = g->capru = 1;
    return 0;
}

void agg_rollup_free(group *g)
{
    for (size_t i = 0; i < g->nru; i++)
        for (int d = 0; d < DS_ROLLUP__COUNT; d++)
            free(g->ru[i].c[d]);
    free(g->ru);
    g->ru = NULL;
    g->nru = g->capru = 0;
}

ds_rc ds_agg_emit_rollups(ds_agg *a, ds_rollup_sink sink, void *ctx, ds_err *err)
{
    if (ds_agg_finish(a) != DS_OK)
        return ds_fail(err, DS_ENOMEM, "out of memory while writing aggregates");
    for (size_t gi = 0; gi < a->ngroups; gi++) {
        const group *g = &a->groups[gi];
        for (size_t i = 0; i < g->nru; i++)
            for (int d = 0; d < DS_ROLLUP__COUNT; d++) {
                ds_rc rc = sink(ctx, g->sensor, g->day, DS_ROLLUP_KIND(d), g->ru[i].c[d], g->ru[i].len[d], err);
                if (rc != DS_OK)
                    return rc;
            }
    }
    return DS_OK;
}
