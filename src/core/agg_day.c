/* agg_day.c: the aggregator's day slabs and their retirement (part of the aggregator; design
 * in agg.c).
 *
 * A day slab holds one local day's sources (of every sensor): the dense 64-byte entries, their
 * probe array, their destination maps, and the log of their (source, service, class) packets
 * (core/svclog.h).  Retiring a day reduces its log (sort and fold, sequential passes), writes one
 * SOURCES record per source (and a DSTMAP record when it reached more than one destination) and
 * one SRCSVC record per (source, service, class), with conf.rollups the day's rollup chunks from
 * the same sorted log (agg_rollup.c), then empties the slab in place for a later day.  Hourly
 * counts retire here too, an hour at a time: each (hour, local day) is a log of the same kind,
 * reduced into HOURLY records.
 */
#include "core/agg_int.h"

#include <stdlib.h>
#include <string.h>

/* ---- slabs ------------------------------------------------------------------------------- */

void agg_slab_free(dayslab *d)
{
    free(d->src);
    free(d->tcnt);
    free(d->maps);
    free(d->slot);
    ds_svclog_free(&d->log);
    memset(d, 0, sizeof *d);
}

/* The live slab of `day`, taking a spare one (or a new one) when the day has none; its index in
 * a->slabs, or -1 when memory runs out.  A linear scan: captures in time order keep two or three
 * days live (a late packet of an older day opens one more until the next day retires it). */
long agg_slab_of(ds_agg *a, int32_t day)
{
    size_t spare = SIZE_MAX;
    for (size_t i = 0; i < a->nslabs; i++) {
        if (a->slabs[i].live && a->slabs[i].day == day)
            return (long)i;
        if (!a->slabs[i].live && spare == SIZE_MAX)
            spare = i;
    }
    if (spare == SIZE_MAX) {
        dayslab *n = realloc(a->slabs, (a->nslabs + 1) * sizeof *n);
        if (!n)
            return -1;
        a->slabs = n;
        spare = a->nslabs++;
        memset(&a->slabs[spare], 0, sizeof a->slabs[spare]);
    }
    dayslab *d = &a->slabs[spare];
    if (!d->src) {   /* new, or freed by retire_days */
        d->capsrc = 1024;
        d->capslot = 2048;
        d->capmaps = 256;
        d->src = aligned_alloc(64, d->capsrc * sizeof *d->src);
        d->tcnt = malloc(d->capsrc * sizeof *d->tcnt);
        d->maps = malloc(d->capmaps * sizeof *d->maps);
        d->slot = calloc(d->capslot, sizeof *d->slot);
        if (!d->src || !d->tcnt || !d->maps || !d->slot || ds_svclog_init(&d->log, SLAB_LOG_ITEMS) != 0) {
            agg_slab_free(d);
            return -1;
        }
    }
    d->live = 1;
    d->day = day;
    return (long)spare;
}

int agg_slot_grow(dayslab *d)
{
    size_t cap = d->capslot * 2;
    uint64_t *ns = calloc(cap, sizeof *ns);
    if (!ns)
        return -1;
    for (size_t i = 0; i < d->nsrc; i++) {
        const src_ent *e = &d->src[i];
        uint64_t h = agg_src_hash(e->sensor, e->day, &e->ip);
        size_t j = (size_t)h & (cap - 1);
        while (ns[j])
            j = (j + 1) & (cap - 1);
        ns[j] = (h >> 32 << 32) | (uint64_t)(i + 1);
    }
    free(d->slot);
    d->slot = ns;
    d->capslot = cap;
    return 0;
}

/* ---- hours -------------------------------------------------------------------------------- */

/* The live log of (hour, day), taking a spare one (or a new one) when it has none; its index in
 * a->hl, or -1 when memory runs out.  A linear scan: in time order two hours are live (three
 * around a late packet). */
long agg_hourlog_of(ds_agg *a, uint32_t hour, int32_t day)
{
    size_t spare = SIZE_MAX;
    for (size_t i = 0; i < a->nhl; i++) {
        if (a->hl[i].live && a->hl[i].hour == hour && a->hl[i].day == day)
            return (long)i;
        if (!a->hl[i].live && spare == SIZE_MAX)
            spare = i;
    }
    if (spare == SIZE_MAX) {
        hourlog *n = realloc(a->hl, (a->nhl + 1) * sizeof *n);
        if (!n)
            return -1;
        a->hl = n;
        memset(&a->hl[a->nhl], 0, sizeof a->hl[a->nhl]);
        spare = a->nhl++;
    }
    hourlog *h = &a->hl[spare];
    if (!h->log.v && ds_svclog_init(&h->log, HOUR_LOG_ITEMS) != 0)   /* new, or freed by a retire */
        return -1;
    h->live = 1;
    h->hour = hour;
    h->day = day;
    return (long)spare;
}

/* Retire the hourly logs of hours before `keep_from`: reduce each (sort and fold, as a day's
 * srcsvc log) and encode one HOURLY record per (sensor, dimension, class, key).  Touches only
 * the logs retired, so an hourly retire costs the hour's packets, not a table's capacity. */
int agg_retire_hours(ds_agg *a, uint32_t keep_from)
{
    if (a->hour_min >= keep_from)
        return 0;
    int rc = 0;
    size_t spares = 0;
    a->hour_min = UINT32_MAX;
    for (size_t i = 0; i < a->nhl; i++) {
        hourlog *h = &a->hl[i];
        if (h->live && h->hour >= keep_from) {
            if (h->hour < a->hour_min)
                a->hour_min = h->hour;
            continue;
        }
        if (!h->live) {
            /* a burst of late packets over many hours left many logs: keep a few spares */
            if (++spares > 4 && h->log.v)
                ds_svclog_free(&h->log);
            continue;
        }
        if (ds_svclog_reduce(&h->log) != 0) {
            rc = -1;
            continue;
        }
        group *g = NULL;
        int g_sensor = -1;
        for (size_t k = 0; k < h->log.n; k++) {
            const ds_svc_item *it = &h->log.v[k];
            int sensor = (int)(uint16_t)(it->key >> 27);
            if (sensor != g_sensor) {
                g = agg_group_of(a, sensor, h->day);
                g_sensor = sensor;
            }
            ds_rec_hourly r = { .hour = h->hour, .key = (uint32_t)it->key & 0xffffffu, .dim = (uint8_t)(it->key >> 26 & 1),
                                .cls = (uint8_t)(it->key >> 24 & 3) };
            /* a count above 2^32-1 (never in practice) is split over several records: readers sum */
            for (uint64_t left = it->packets; left; left -= r.packets) {
                uint8_t *p = g ? agg_group_rec(a, g, DS_CHUNK_HOURLY) : NULL;
                if (!p) {
                    rc = -1;
                    break;
                }
                r.packets = left > UINT32_MAX ? UINT32_MAX : (uint32_t)left;
                ds_rec_hourly_put(p, &r);
            }
        }
        ds_svclog_clear(&h->log);
        h->live = 0;
    }
    return rc;
}

/* ---- days --------------------------------------------------------------------------------- */

/* Distinct destination map bits of a source (exact for small sensors, see the design note). */
static uint32_t destinations(const dayslab *d, const src_ent *e)
{
    if (!e->map)
        return e->dst1 ? 1 : 0;
    return ds_dstmap_bits(d->maps[e->map - 1].bits);
}

/* Room for `bytes` of work arrays; NULL when memory runs out. */
static void *scratch(ds_agg *a, size_t bytes)
{
    if (bytes > a->capscratch) {
        free(a->scratch);
        a->capscratch = 0;
        if (!(a->scratch = malloc(bytes)))
            return NULL;
        a->capscratch = bytes;
    }
    return a->scratch;
}


/* Encode every source of slab d with its (source, service, class) counts, and empty the slab for
 * reuse.  Touches the day's own entries only, and its log in sequential passes. */
static int retire_slab(ds_agg *a, dayslab *d)
{
    int rc = 0;
    size_t n = d->nsrc;
    if (ds_svclog_reduce(&d->log) != 0)
        return -1;
    const ds_svc_item *it = d->log.v;
    size_t nit = d->log.n;
    /* work arrays: each source's distinct services and its tool bits */
    uint32_t *svc_count = scratch(a, n * (sizeof(uint32_t) + 1) + 1);
    if (!svc_count)
        return -1;
    uint8_t *tools = (uint8_t *)(svc_count + n);   /* [n]: decided once, for SOURCES and SRCSVC */
    memset(svc_count, 0, n * sizeof *svc_count);
    /* distinct services per source, whatever the class: the items are in (source, service,
     * class) order, so a service's classes are neighbours */
    for (size_t k = 0; k < nit; k++)
        if (!k || it[k].key >> 2 != it[k - 1].key >> 2)
            svc_count[ds_svc_key_src(it[k].key)]++;
    /* sources */
    for (size_t i = 0; i < n; i++) {
        const src_ent *e = &d->src[i];
        tools[i] = (uint8_t)ds_tools_of(e->tool_hit, e->tool_hit & TOOL_COUNTED ? &d->tcnt[i] : NULL, svc_count[i],
                                        destinations(d, e));
        group *g = agg_group_of(a, e->sensor, e->day);
        uint8_t *ps = g ? agg_group_rec(a, g, DS_CHUNK_SOURCES) : NULL;
        uint8_t *pd = ps && e->map ? agg_group_rec(a, g, DS_CHUNK_DSTMAP) : NULL;
        if (!ps || (e->map && !pd)) {
            rc = -1;
            continue;
        }
        ds_rec_source r = { .ip = e->ip, .class_mask = e->class_mask, .asn = e->asn, .packets = e->packets,
                            .first_ns = e->first_ns, .last_ns = e->last_ns, .services = svc_count[i],
                            .dst1 = e->map ? 0 : e->dst1, .tools = tools[i] };
        r.cc[0] = e->cc[0];
        r.cc[1] = e->cc[1];
        ds_rec_source_put(ps, &r);
        if (pd) {
            ds_rec_dstmap dm;
            dm.src = ds_src_key(&e->ip);
            memcpy(dm.bits, d->maps[e->map - 1].bits, DS_DSTMAP_BYTES);
            ds_rec_dstmap_put(pd, &dm);
        }
    }
    /* srcsvc, one source after another: the 14 bytes of source, ASN and country then repeat in
     * neighbouring records, which zstd turns into matches (the chunks come out 18% smaller,
     * measured on the 16 M-packet benchmark file) */
    group *g = NULL;
    uint32_t g_src = UINT32_MAX;
    for (size_t k = 0; k < nit; k++) {
        const ds_svc_item *s = &it[k];
        uint32_t si = ds_svc_key_src(s->key);
        const src_ent *e = &d->src[si];
        if (si != g_src) {
            g = agg_group_of(a, e->sensor, e->day);
            g_src = si;
        }
        ds_rec_srcsvc r = { .src = ds_src_key(&e->ip), .service = ds_svc_key_service(s->key), .asn = e->asn,
                            .cls = (uint8_t)ds_svc_key_class(s->key), .one_sport = s->has_port && !s->mixed,
                            .sport = (uint16_t)s->sport, .tools = tools[si] };
        r.cc[0] = e->cc[0];
        r.cc[1] = e->cc[1];
        /* a count above 2^32-1 (never in practice) is split over several records: readers sum */
        for (uint64_t left = s->packets; left; left -= r.packets) {
            uint8_t *p = g ? agg_group_rec(a, g, DS_CHUNK_SRCSVC) : NULL;
            if (!p) {
                rc = -1;
                break;
            }
            r.packets = left > UINT32_MAX ? UINT32_MAX : (uint32_t)left;
            ds_rec_srcsvc_put(p, &r);
        }
    }
    if (a->conf.rollups && agg_rollup_slab(a, d, it, nit) != 0)
        rc = -1;
    /* empty the slab, keeping its arrays */
    memset(d->slot, 0, d->capslot * sizeof *d->slot);
    ds_svclog_clear(&d->log);
    d->nsrc = d->nmaps = 0;
    d->live = 0;
    return rc;
}

/* Retire the sources of days before `keep_from`, with their (source, service, class) logs: slab by slab, so the
 * days kept are not touched. */
int agg_retire_days(ds_agg *a, int32_t keep_from)
{
    if (a->day_min >= keep_from)
        return 0;
    int rc = 0;
    int32_t newmin = INT32_MAX;
    size_t spares = 0;
    for (size_t i = 0; i < a->nslabs; i++) {
        dayslab *d = &a->slabs[i];
        if (d->live && d->day < keep_from && retire_slab(a, d) != 0)
            rc = -1;
        if (d->live && d->day < newmin)
            newmin = d->day;
        /* a burst of late packets over many days left many slabs: keep a few spares */
        if (!d->live && ++spares > 4)
            agg_slab_free(d);
    }
    while (a->nslabs && !a->slabs[a->nslabs - 1].live && !a->slabs[a->nslabs - 1].src)
        a->nslabs--;
    a->have_last = 0;
    a->day_min = newmin;
    return rc;
}
