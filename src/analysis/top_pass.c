/* top_pass.c: the passes of top's SRCSVC path and the threads that run them (see top.c for
 * the design): pass 1 over the SRCSVC chunks (sums, distinct sources, items kept for pass 2), the
 * SOURCES details of the printed source rows, the parts each thread runs, the lock-free merge of
 * partition p by thread p, and pass 2 over the kept items for the printed rows' distinct counts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/top_int.h"
#include "core/sets.h"

/* Room for n more narrow items; -1 out of memory.  Items live in an arena of their own, which
 * pass 2 reads while the tables' arena is reused (see ds_top_arena_reuse). */
static int items_reserve(scan_ctx *c, size_t n)
{
    if (!c->items_last || ITEM_BLOCK - c->items_last->n < n) {
        item_blk *b = ds_top_arena_zalloc(&c->item_mem, sizeof *b);
        if (!b)
            return -1;
        if (c->items_last)
            c->items_last->next = b;
        else
            c->items = b;
        c->items_last = b;
    }
    return 0;
}

/* One wide item (IPv6 sources are rare: their blocks are taken as needed); -1 out of memory. */
static int wide_add(scan_ctx *c, uint64_t key, uint64_t src)
{
    if (!c->wide_last || c->wide_last->n == ITEM_BLOCK / 2) {
        wide_blk *b = ds_top_arena_zalloc(&c->item_mem, sizeof *b);
        if (!b)
            return -1;
        if (c->wide_last)
            c->wide_last->next = b;
        else
            c->wide = b;
        c->wide_last = b;
    }
    c->wide_last->v[c->wide_last->n++] = (wide_item){ key, src };
    return 0;
}

ds_rc ds_top_pass1(void *ctx, int64_t sensor_id, int32_t day, const uint8_t *data, size_t nrec, ds_err *err)
{
    scan_ctx *c = ctx;
    const ds_top_dim dim = c->q->dim;
    const size_t np = c->np;
    const uint32_t dayno = (uint32_t)(day - c->from) + 1;
    uint64_t src[BATCH], key[BATCH], hs[BATCH], hk[BATCH];
    uint32_t packets[BATCH];
    long di[BATCH];
    const uint8_t *rec[BATCH];
    for (size_t i0 = 0; i0 < nrec; i0 += BATCH) {
        size_t nb = 0, end = nrec - i0 < BATCH ? nrec : i0 + BATCH;
        if (dim != DS_TOP_SOURCES && items_reserve(c, BATCH) != 0)
            return ds_fail(err, DS_ENOMEM, "out of memory counting sources");
        for (size_t i = i0; i < end; i++) {   /* decode, filter, hash, prefetch */
            const uint8_t *p = data + i * DS_REC_SRCSVC;
            if (c->filter_on) {
                ds_rec_srcsvc r;
                ds_rec_srcsvc_get(p, &r);
                if (!ds_filter_match(c->f, &r))
                    continue;
            }
            rec[nb] = p;
            src[nb] = rd64(p + SV_SRC);
            key[nb] = key_at(dim, p);
            packets[nb] = rd32(p + SV_PACKETS);
            if (dim == DS_TOP_SOURCES) {
                hk[nb] = src_hash(key[nb]);
                const srctab *t = &c->srcs[part_of(hk[nb], np)];
                prefetch_slot(t->e, t->cap, sizeof *t->e, hk[nb]);
                nb++;
                continue;
            }
            hs[nb] = ds_mix64(src[nb]);
            size_t pt = part_of(hs[nb], np);
            if (src[nb] && src[nb] <= UINT32_MAX)
                prefetch_slot(c->v4[pt].e, c->v4[pt].cap, sizeof *c->v4[pt].e, hs[nb]);
            di[nb] = c->dense ? dense_index(dim, key[nb]) : -1;
            if (di[nb] >= 0) {
                __builtin_prefetch(&c->dense[di[nb]], 1);
            } else {
                hk[nb] = ds_mix64(key[nb]);
                const kvtab *t = &c->sums[part_of(hk[nb], np)];
                prefetch_slot(t->e, t->cap, sizeof *t->e, hk[nb]);
            }
            nb++;
        }
        for (size_t b = 0; b < nb; b++) {
            c->total += packets[b];
            if (dim == DS_TOP_SOURCES) {   /* the keys are the sources: no set, no pass 2 */
                src_ent *e = srctab_get(&c->srcs[part_of(hk[b], np)], &c->mem, key[b], hk[b]);
                if (!e)
                    return ds_fail(err, DS_ENOMEM, "out of memory counting sources");
                e->packets += packets[b];
                uint32_t asn = rd32(rec[b] + SV_ASN);
                uint16_t cc = (uint16_t)(rec[b][SV_CC] << 8 | rec[b][SV_CC + 1]);
                if (e->last != dayno || src_geo_after(cc, asn, e->cc, e->asn)) {
                    e->asn = asn;
                    e->cc = cc;
                }
                if (e->last != dayno) {
                    if (!e->days)
                        e->first = (uint16_t)(dayno < 65535 ? dayno : 65535);
                    e->days++;
                    e->last = dayno;
                }
                continue;
            }
            /* distinct sources overall */
            size_t pt = part_of(hs[b], np);
            if ((src[b] && src[b] <= UINT32_MAX ? set32_add(&c->v4[pt], &c->mem, (uint32_t)src[b], hs[b])
                                                : set64_add(&c->other[pt], &c->mem, src[b], hs[b])) < 0)
                return ds_fail(err, DS_ENOMEM, "out of memory counting sources");
            if (src[b] <= UINT32_MAX && key[b] <= UINT32_MAX) {
                c->items_last->v[c->items_last->n++] = key[b] << 32 | src[b];
            } else if (wide_add(c, key[b], src[b]) != 0) {
                return ds_fail(err, DS_ENOMEM, "out of memory counting sources");
            }
            if (di[b] >= 0) {
                uint32_t was = c->dense[di[b]];
                c->dense[di[b]] = was + packets[b];
                if (was + packets[b] < was) {
                    uint64_t *v = kv_get(&c->spill, &c->mem, (uint64_t)di[b], ds_mix64((uint64_t)di[b]));
                    if (!v)
                        return ds_fail(err, DS_ENOMEM, "out of memory counting sources");
                    *v += (uint64_t)1 << 32;
                }
                continue;
            }
            uint64_t *v = kv_get(&c->sums[part_of(hk[b], np)], &c->mem, key[b], hk[b]);
            if (!v)
                return ds_fail(err, DS_ENOMEM, "out of memory counting sources");
            *v += packets[b];
        }
    }
    return DS_OK;
}
/* Fill address, first and last seen of the printed source rows from the SOURCES chunks. */
ds_rc ds_top_on_sources(void *ctx, int64_t sensor_id, int32_t day, const uint8_t *data, size_t nrec, ds_err *err)
{
    src_detail_ctx *c = ctx;
    for (size_t i = 0; i < nrec; i++) {
        const uint8_t *rec = data + i * DS_REC_SOURCES;
        const uint64_t *row = kv_find(c->idx, ds_rec_source_key(rec));
        if (!row)
            continue;
        ds_rec_source r;
        ds_rec_source_get(rec, &r);
        ds_top_row *t = &c->rows[*row];
        t->ip = r.ip;
        if (!t->first_ns || r.first_ns < t->first_ns)
            t->first_ns = r.first_ns;
        if (r.last_ns > t->last_ns)
            t->last_ns = r.last_ns;
    }
    return DS_OK;
}

/* ---- running the passes in threads --------------------------------------------------------- */

static void *part_main(void *arg)
{
    part *p = arg;
    p->rc = p->job(p, &p->err);
    return NULL;
}

/* A part other than 0 opens its own connection in its thread, so that the opens overlap the
 * first part's scan; a part that cannot is left to the calling thread (fewer threads, same
 * answer). */
static ds_rc job_scan(part *p, ds_err *err)
{
    if (!p->st && !p->no_store) {
        ds_err ignored;
        if (ds_store_reopen(p->main_st, &p->st, &ignored) != DS_OK) {
            p->st = NULL;
            p->no_store = 1;
        }
    }
    if (!p->st) {
        p->deferred = 1;
        return DS_OK;
    }
    return ds_store_scan(p->st, p->kind, p->sensor_id, p->from, p->to, p->fn, p->ctx, err);
}

/* Run job over every part, parts 1.. in threads, then report the first failure. */
ds_rc ds_top_run_parts(part *parts, size_t n, part_job job, ds_err *err)
{
    size_t started = 1;
    for (size_t i = 0; i < n; i++) {
        parts[i].job = job;
        parts[i].self = i;
        parts[i].n = n;
        parts[i].rc = DS_OK;
        parts[i].err.msg[0] = '\0';
    }
    for (; started < n; started++)
        if (pthread_create(&parts[started].th, NULL, part_main, &parts[started]) != 0)
            break;
    /* the calling thread does part 0, and any part a thread could not be started for */
    for (size_t i = 0; i < n; i++) {
        if (i == 0 || i >= started)
            part_main(&parts[i]);
    }
    for (size_t i = 1; i < started; i++)
        pthread_join(parts[i].th, NULL);
    for (size_t i = 0; i < n; i++) {
        part *p = &parts[i];
        if (p->deferred && p->rc == DS_OK) {
            p->deferred = 0;
            p->rc = ds_store_scan(p->main_st, p->kind, p->sensor_id, p->from, p->to, p->fn, p->ctx, &p->err);
        }
    }
    for (size_t i = 0; i < n; i++) {
        if (parts[i].rc != DS_OK) {
            if (err)
                *err = parts[i].err;
            return parts[i].rc;
        }
    }
    return DS_OK;
}

ds_rc ds_top_run_scans(part *parts, size_t n, int kind, ds_scan_fn fn, void **ctx, ds_err *err)
{
    for (size_t i = 0; i < n; i++) {
        parts[i].kind = kind;
        parts[i].fn = fn;
        parts[i].ctx = ctx[i];
    }
    return ds_top_run_parts(parts, n, job_scan, err);
}

/* Source details of the days need[] marks: the runs of consecutive days self, self + n, ...
 * (part 0 alone, with n = 1, when a part has no store of its own). */
ds_rc ds_top_job_detail(part *p, ds_err *err)
{
    size_t run = 0;
    for (int32_t d = 0; d < p->days;) {
        if (!p->need[d]) {
            d++;
            continue;
        }
        int32_t e = d;
        while (e + 1 < p->days && p->need[e + 1])
            e++;
        if (run++ % (p->n ? p->n : 1) == p->self) {
            ds_rc rc = ds_store_scan(p->st, p->kind, p->sensor_id, p->from0 + d, p->from0 + e, p->fn, p->ctx, err);
            if (rc != DS_OK)
                return rc;
        }
        d = e + 1;
    }
    return DS_OK;
}

/* After pass 1, part p: partition p of every thread's sums and source sets into its own. */
ds_rc ds_top_job_merge1(part *pp, ds_err *err)
{
    size_t p = pp->self, n = pp->n;
    scan_ctx *c = pp->all, *own = &c[p];
    for (size_t i = 0; i < n; i++) {
        if (i == p)
            continue;
        const kvtab *s = &c[i].sums[p];
        if (s->n && ds_top_kv_reserve(&own->sums[p], &own->mem, own->sums[p].n + s->n, s->cap) != 0)
            goto nomem;
        for (size_t k = 0; k < s->cap; k++) {
            if (!s->e[k].key)
                continue;
            uint64_t *v = kv_get(&own->sums[p], &own->mem, s->e[k].key, ds_mix64(s->e[k].key));
            if (!v)
                goto nomem;
            *v += s->e[k].val;
        }
        if (s->has_zero) {
            uint64_t *v = kv_get(&own->sums[p], &own->mem, 0, 0);
            *v += s->zero_val;
        }
        const srctab *st = &c[i].srcs[p];
        if (st->n && ds_top_srctab_reserve(&own->srcs[p], &own->mem, own->srcs[p].n + st->n, st->cap) != 0)
            goto nomem;
        for (size_t k = 0; k < st->cap; k++) {
            const src_ent *f = &st->e[k];
            if (!f->days)
                continue;
            src_ent *e = srctab_get(&own->srcs[p], &own->mem, f->key, src_hash(f->key));
            if (!e)
                goto nomem;
            if (!e->days || f->last > e->last ||
                (f->last == e->last && src_geo_after(f->cc, f->asn, e->cc, e->asn))) {   /* as in the scan */
                e->asn = f->asn;
                e->cc = f->cc;
            }
            if (!e->days || f->first < e->first)
                e->first = f->first;
            if (f->last > e->last)
                e->last = f->last;
            e->packets += f->packets;
            e->days += f->days;   /* parts hold disjoint days */
        }
        const set32 *v4 = &c[i].v4[p];
        if (v4->n && ds_top_set32_reserve(&own->v4[p], &own->mem, own->v4[p].n + v4->n, v4->cap) != 0)
            goto nomem;
        for (size_t k = 0; k < v4->cap; k++)
            if (v4->e[k] && set32_add(&own->v4[p], &own->mem, v4->e[k], ds_mix64(v4->e[k])) < 0)
                goto nomem;
        const set64 *o = &c[i].other[p];
        if (o->n && ds_top_set64_reserve(&own->other[p], &own->mem, own->other[p].n + o->n, o->cap) != 0)
            goto nomem;
        for (size_t k = 0; k < o->cap; k++)
            if (o->e[k] && set64_add(&own->other[p], &own->mem, o->e[k], ds_mix64(o->e[k])) < 0)
                goto nomem;
        if (o->has_zero)
            set64_add(&own->other[p], &own->mem, 0, 0);
    }
    return DS_OK;
nomem:
    return ds_fail(err, DS_ENOMEM, "out of memory counting sources");
}

/* Pass 2 (ports, countries, ASNs), part p: the printed rows' (row, source) pairs from its own
 * items, into its partitioned pair sets; ds_top_job_merge2 then unites and counts them. */
ds_rc ds_top_job_pass2(part *pp, ds_err *err)
{
    scan_ctx *c = &pp->all[pp->self];
    const size_t np = c->np;
    uint64_t val[BATCH], h[BATCH], row[BATCH];
    size_t nb = 0;
    /* narrow items, then wide ones; a batch fills with printed rows' pairs and then inserts */
    const item_blk *ib = c->items;
    const wide_blk *wb = c->wide;
    size_t k = 0;
    for (;;) {
        uint64_t key, src;
        if (ib && k < ib->n) {
            key = ib->v[k] >> 32;
            src = ib->v[k] & 0xffffffffu;
            k++;
        } else if (ib) {
            ib = ib->next;
            k = 0;
            continue;
        } else if (wb && k < wb->n) {
            key = wb->v[k].key;
            src = wb->v[k].src;
            k++;
        } else if (wb) {
            wb = wb->next;
            k = 0;
            continue;
        } else {
            key = src = 0;
        }
        int last = !ib && !wb;
        if (!last && c->shown_mask >> mask_bit(key) & 1) {
            const uint64_t *rowp = kv_find(c->shown, key);
            if (rowp) {
                uint64_t r = *rowp;
                if (src >> 32 || r >> 31) {   /* wide pair: val holds the source, h its pair hash */
                    val[nb] = src;
                    h[nb] = wide_hash(src, r + 1);
                    row[nb] = r | (uint64_t)1 << 63;
                    const wideset *t = &c->seenw[part_of(h[nb], np)];
                    prefetch_slot(t->e, t->cap, sizeof *t->e, h[nb]);
                } else {
                    val[nb] = r << 32 | src;
                    h[nb] = ds_mix64(val[nb]);
                    row[nb] = r;
                    const set64 *t = &c->seen[part_of(h[nb], np)];
                    prefetch_slot(t->e, t->cap, sizeof *t->e, h[nb]);
                }
                nb++;
            }
        }
        if (nb == BATCH || (last && nb)) {
            for (size_t b = 0; b < nb; b++) {
                int added = row[b] >> 63
                    ? wideset_add(&c->seenw[part_of(h[b], np)], &c->mem, val[b], (row[b] & ~((uint64_t)1 << 63)) + 1, h[b])
                    : set64_add(&c->seen[part_of(h[b], np)], &c->mem, val[b], h[b]);
                if (added < 0)
                    return ds_fail(err, DS_ENOMEM, "out of memory counting sources");
            }
            nb = 0;
        }
        if (last)
            return DS_OK;
    }
}

/* After pass 2, part p: partition p of every thread's pair sets into its own, then count each
 * row's pairs in it. */
ds_rc ds_top_job_merge2(part *pp, ds_err *err)
{
    size_t p = pp->self, n = pp->n;
    scan_ctx *c = pp->all, *own = &c[p];
    for (size_t i = 0; i < n; i++) {
        if (i == p)
            continue;
        const set64 *s = &c[i].seen[p];
        if (s->n && ds_top_set64_reserve(&own->seen[p], &own->mem, own->seen[p].n + s->n, s->cap) != 0)
            goto nomem;
        for (size_t k = 0; k < s->cap; k++)
            if (s->e[k] && set64_add(&own->seen[p], &own->mem, s->e[k], ds_mix64(s->e[k])) < 0)
                goto nomem;
        if (s->has_zero)
            set64_add(&own->seen[p], &own->mem, 0, 0);
        const wideset *w = &c[i].seenw[p];
        if (w->n && ds_top_wideset_reserve(&own->seenw[p], &own->mem, own->seenw[p].n + w->n, w->cap) != 0)
            goto nomem;
        for (size_t k = 0; k < w->cap; k++)
            if (w->e[k].row1 && wideset_add(&own->seenw[p], &own->mem, w->e[k].src, w->e[k].row1,
                                            wide_hash(w->e[k].src, w->e[k].row1)) < 0)
                goto nomem;
    }
    const set64 *s = &own->seen[p];
    for (size_t k = 0; k < s->cap; k++)
        if (s->e[k])
            own->count[s->e[k] >> 32]++;
    if (s->has_zero)
        own->count[0]++;
    const wideset *w = &own->seenw[p];
    for (size_t k = 0; k < w->cap; k++)
        if (w->e[k].row1)
            own->count[w->e[k].row1 - 1]++;
    return DS_OK;
nomem:
    return ds_fail(err, DS_ENOMEM, "out of memory counting sources");
}

/* Days whose SOURCES chunks hold the printed sources' first and last sightings.  A source has a
 * SOURCES record on exactly the (sensor, day)s it has SRCSVC records on (core/agg.c writes both
 * from one table entry), so its earliest first_ns is on its first day and its latest last_ns on
 * its last day, as pass 1 found them (without filters: with any, every day is read).  The next
 * and the previous day are taken too: where clocks go back across midnight, the hour after the
 * change belongs to the day before, so a day may end after the next one starts.  need[d - from]
 * is set for each; returns how many are (every day when periods are too long for src_ent.first). */
