/* agg_emit.c: where the aggregator's records go (part of the aggregator; design in agg.c).
 *
 * Records retired from the tables, and those the detectors write, are appended to the raw
 * buffers of their (sensor, day) group, one buffer per chunk kind.  Once a (sensor, day) can
 * receive nothing more (two days behind the clock) its buffers are compressed into zstd frames
 * (close_group) and the raw buffers are kept for the next group.  Finish retires everything left,
 * merge moves one state's closed groups into another, and emit hands every group's chunks to
 * the store.  A group's rollup chunks (agg_rollup.c) are united into one set of four when it
 * closes, and move with it.
 */
#include "core/agg_int.h"

#include <stdlib.h>
#include <string.h>

/* ---- record groups ------------------------------------------------------------------------ */

group *agg_group_of(ds_agg *a, int sensor, int32_t day)
{
    uint64_t key = (uint64_t)(uint16_t)sensor << 32 | (uint32_t)day;
    if ((a->ngroups + 1) * 2 > a->capg) {
        size_t cap = a->capg ? a->capg * 2 : 64;
        uint64_t *nk = calloc(cap, sizeof *nk);
        uint32_t *ni = calloc(cap, sizeof *ni);
        if (!nk || !ni) {
            free(nk);
            free(ni);
            return NULL;
        }
        for (size_t i = 0; i < a->capg; i++) {
            if (!a->gid[i])
                continue;
            size_t j = (size_t)ds_mix64(a->gkey[i]) & (cap - 1);
            while (ni[j])
                j = (j + 1) & (cap - 1);
            nk[j] = a->gkey[i];
            ni[j] = a->gid[i];
        }
        free(a->gkey);
        free(a->gid);
        a->gkey = nk;
        a->gid = ni;
        a->capg = cap;
    }
    size_t m = a->capg - 1, j = (size_t)ds_mix64(key) & m;
    while (a->gid[j]) {
        if (a->gkey[j] == key) {
            if (!a->groups[a->gid[j] - 1].closed)
                return &a->groups[a->gid[j] - 1];
            break;   /* closed: a late record opens a new group for the day, found here from now on */
        }
        j = (j + 1) & m;
    }
    if (a->ngroups == a->capgroups) {
        size_t cap = a->capgroups ? a->capgroups * 2 : 16;
        group *ng = realloc(a->groups, cap * sizeof *ng);
        if (!ng)
            return NULL;
        a->groups = ng;
        a->capgroups = cap;
    }
    group *g = &a->groups[a->ngroups];
    memset(g, 0, sizeof *g);
    g->sensor = sensor;
    g->day = day;
    a->gkey[j] = key;
    a->gid[j] = (uint32_t)++a->ngroups;
    return g;
}

/* Room for one more record of `kind` in g; NULL when memory runs out. */
uint8_t *agg_group_rec(ds_agg *a, group *g, int kind)
{
    outbuf *b = &g->kind[kind];
    size_t rs = ds_rec_size(kind);
    if (!b->cap && a->nspare) {   /* a warm buffer of a closed group */
        *b = a->spare[--a->nspare];
        b->len = 0;
    }
    if (rs > b->cap - b->len) {
        /* a spare buffer may be small (a closed group's DETECT or CROSS chunk): room for 256
         * records at least */
        size_t cap = b->cap * 2 > rs * 256 ? b->cap * 2 : rs * 256;
        uint8_t *np = realloc(b->p, cap);
        if (!np)
            return NULL;
        b->p = np;
        b->cap = cap;
    }
    uint8_t *r = b->p + b->len;
    b->len += rs;
    g->nrec[kind]++;
    return r;
}

/* The group's DETECT chunk (core/detin.h), from its raw SRCSVC and SOURCES records, and its CROSS
 * chunk (core/cross.h) from the SRCSVC records: one beside every SOURCES (SRCSVC) chunk, so that a
 * reader can tell a store written before them. */
static int add_detect(ds_agg *a, group *g)
{
    if (!g->nrec[DS_CHUNK_SRCSVC] && !g->nrec[DS_CHUNK_SOURCES])
        return 0;
    if (!a->detin && !(a->detin = ds_detin_work_new()))
        return -1;
    uint8_t *c;
    size_t len;
    ds_err err;
    if (ds_detin_build(a->detin, g->kind[DS_CHUNK_SRCSVC].p, g->nrec[DS_CHUNK_SRCSVC], g->kind[DS_CHUNK_SOURCES].p,
                       g->nrec[DS_CHUNK_SOURCES], &c, &len, &err) != DS_OK)
        return -1;
    outbuf *b = &g->kind[DS_CHUNK_DETECT];
    free(b->p);
    *b = (outbuf){ .p = c, .len = len, .cap = len };
    g->nrec[DS_CHUNK_DETECT] = len;
    if (!g->nrec[DS_CHUNK_SRCSVC])
        return 0;
    /* and its CROSS chunk (core/cross.h), beside the SRCSVC chunk */
    const uint8_t *x;
    size_t n;
    if ((!a->cross && !(a->cross = ds_cross_work_new())) ||
        ds_cross_build(a->cross, g->kind[DS_CHUNK_SRCSVC].p, g->nrec[DS_CHUNK_SRCSVC], &x, &n) != 0)
        return -1;
    b = &g->kind[DS_CHUNK_CROSS];
    free(b->p);
    if (!(b->p = malloc(n * DS_REC_CROSS)))
        return -1;
    memcpy(b->p, x, n * DS_REC_CROSS);
    b->len = b->cap = n * DS_REC_CROSS;
    g->nrec[DS_CHUNK_CROSS] = n;
    return 0;
}

/* Compress an open group's records into zstd frames and keep its raw buffers for reuse. */
static int close_group(ds_agg *a, group *g)
{
    if (g->closed)
        return 0;
    if (!a->zc && !(a->zc = ZSTD_createCCtx()))
        return -1;
    if (agg_rollup_close(g) != 0 || add_detect(a, g) != 0)
        return -1;
    for (int k = 1; k < DS_CHUNK__END; k++) {
        outbuf *b = &g->kind[k];
        if (g->nrec[k]) {
            size_t bound = ZSTD_compressBound(b->len);
            uint8_t *z = malloc(bound);
            if (!z)
                return -1;
            size_t zl = ZSTD_compressCCtx(a->zc, z, bound, b->p, b->len, DS_CHUNK_ZSTD_LEVEL);
            if (ZSTD_isError(zl)) {
                free(z);
                return -1;
            }
            uint8_t *shrunk = realloc(z, zl);
            g->z[k] = shrunk ? shrunk : z;
            g->zlen[k] = zl;
        }
        if (b->cap && a->nspare < sizeof a->spare / sizeof a->spare[0]) {
            a->spare[a->nspare++] = *b;
        } else {
            free(b->p);
        }
        memset(b, 0, sizeof *b);
    }
    g->closed = 1;
    return 0;
}

/* Close every open group of a day before `before`: nothing more can reach them. */
int agg_close_groups(ds_agg *a, int32_t before)
{
    for (size_t i = 0; i < a->ngroups; i++)
        if (!a->groups[i].closed && a->groups[i].day < before && close_group(a, &a->groups[i]) != 0)
            return -1;
    return 0;
}

/* ---- detector records ---------------------------------------------------------------------- */

/* An attack vector that passed the thresholds: a record in the group of the day it started. */
int agg_attack_out(void *ctx, const ds_attack *at)
{
    ds_agg *a = ctx;
    group *g = agg_group_of(a, at->sensor, at->day);
    uint8_t *p = g ? agg_group_rec(a, g, DS_CHUNK_ATTACKS) : NULL;
    if (!p)
        return -1;
    ds_rec_attack_put(p, at);
    return 0;
}

/* A flood or reflection at a dark address (core/flood.h): a record in the group of its first day. */
int agg_flood_out(void *ctx, const ds_flood_vec *v)
{
    ds_agg *a = ctx;
    group *g = agg_group_of(a, v->sensor, v->day);
    uint8_t *p = g ? agg_group_rec(a, g, DS_CHUNK_FLOODS) : NULL;
    if (!p)
        return -1;
    ds_rec_flood_put(p, v);
    return 0;
}

/* A scan that reached the address threshold: a record in the group of the day it started. */
int agg_scan_out(void *ctx, const ds_scan *sc)
{
    ds_agg *a = ctx;
    group *g = agg_group_of(a, sc->sensor, sc->day);
    uint8_t *p = g ? agg_group_rec(a, g, DS_CHUNK_SCANS) : NULL;
    if (!p)
        return -1;
    ds_rec_scan_put(p, sc);
    return 0;
}


/* ---- finish, merge and emit ----------------------------------------------------------------- */

ds_rc ds_agg_finish(ds_agg *a)
{
    if (agg_retire_hours(a, UINT32_MAX) != 0 || agg_retire_days(a, INT32_MAX) != 0 ||
        ds_dos_expire(a->dos, UINT64_MAX, agg_attack_out, a) != 0 ||
        ds_floods_expire(a->floods, UINT64_MAX, agg_flood_out, a) != 0 ||
        ds_scans_expire(a->scans, UINT64_MAX, agg_scan_out, a) != 0 || agg_close_groups(a, INT32_MAX) != 0)
        return DS_ENOMEM;
    return DS_OK;
}

/* ---- merge and emit ---------------------------------------------------------------------- */

ds_rc ds_agg_merge(ds_agg *into, ds_agg *from)
{
    if (ds_agg_finish(into) != DS_OK || ds_agg_finish(from) != DS_OK)
        return DS_ENOMEM;
    /* closed groups move over as they are: a day may then have several chunks, which readers
     * combine */
    for (size_t gi = 0; gi < from->ngroups; gi++) {
        group *f = &from->groups[gi];
        group *t = agg_group_of(into, f->sensor, f->day);   /* a fresh, empty group: into is all closed */
        if (!t)
            return DS_ENOMEM;
        for (int k = 1; k < DS_CHUNK__END; k++) {
            t->z[k] = f->z[k];
            t->zlen[k] = f->zlen[k];
            t->nrec[k] = f->nrec[k];
            f->z[k] = NULL;
            f->zlen[k] = 0;
            f->nrec[k] = 0;
        }
        t->ru = f->ru;
        t->nru = f->nru;
        t->capru = f->capru;
        f->ru = NULL;
        f->nru = f->capru = 0;
        t->closed = 1;
    }
    for (size_t s = 0; s <= from->conf.nsensors && s <= into->conf.nsensors; s++)
        ds_agg_counts_add(&into->counts[s], &from->counts[s]);
    return DS_OK;
}

ds_rc ds_agg_emit(ds_agg *a, ds_chunk_sink sink, void *ctx, ds_err *err)
{
    ds_rc rc = DS_OK;
    uint8_t *raw = NULL;
    size_t cap = 0;
    if (ds_agg_finish(a) != DS_OK)
        return ds_fail(err, DS_ENOMEM, "out of memory while writing aggregates");
    for (size_t gi = 0; gi < a->ngroups && rc == DS_OK; gi++) {
        const group *g = &a->groups[gi];
        for (int k = 1; k < DS_CHUNK__END && rc == DS_OK; k++) {
            if (!g->nrec[k])
                continue;
            size_t len = g->nrec[k] * ds_rec_size(k);
            if (len > cap) {
                uint8_t *n = realloc(raw, len);
                if (!n) {
                    rc = ds_fail(err, DS_ENOMEM, "out of memory while writing aggregates");
                    break;
                }
                raw = n;
                cap = len;
            }
            if (ZSTD_decompress(raw, len, g->z[k], g->zlen[k]) != len) {
                rc = ds_fail(err, DS_ENOMEM, "aggregates: a compressed chunk does not decompress");
                break;
            }
            rc = sink(ctx, g->sensor, g->day, (ds_chunk_kind)k, raw, g->nrec[k], err);
        }
    }
    free(raw);
    return rc;
}

ds_rc ds_agg_emit_zstd(ds_agg *a, ds_chunk_zsink sink, void *ctx, ds_err *err)
{
    if (ds_agg_finish(a) != DS_OK)
        return ds_fail(err, DS_ENOMEM, "out of memory while writing aggregates");
    for (size_t gi = 0; gi < a->ngroups; gi++) {
        const group *g = &a->groups[gi];
        for (int k = 1; k < DS_CHUNK__END; k++) {
            if (!g->nrec[k])
                continue;
            ds_rc rc = sink(ctx, g->sensor, g->day, (ds_chunk_kind)k, g->z[k], g->zlen[k], g->nrec[k], err);
            if (rc != DS_OK)
                return rc;
        }
    }
    return DS_OK;
}
