/* detin.c: building and reading the detectors' inputs (design in detin.h).
 *
 * Building walks a group's SRCSVC records once: a counted record (scan class, no series tool
 * bit) adds to its service's entry (an open-addressing table, reused from group to group) and to
 * its country's (a direct index of the 65,536 packed codes), whose set gets the record's source
 * unless it was the country's last (a source's records are consecutive in a chunk, agg_day.c);
 * a record with a tool bit is copied.  The sets are normalized (a radix sort, core/srcset.c) and
 * encoded.  The SOURCES records' services are folded per source with the same sort-and-fold log
 * that ingest uses for its own counts (core/svclog.h), and the sources at or past
 * DS_DETIN_VERT_MIN listed.  Nothing here allocates per record.
 */
#include "core/detin.h"

#include <stdlib.h>
#include <string.h>

#include "core/hash.h"
#include "core/srcset.h"
#include "core/svclog.h"
#include "util/grow.h"

typedef struct svc_ent { uint32_t key, maxrec; uint64_t packets; } svc_ent;
typedef struct cc_ent {
    uint32_t key, maxrec;
    uint64_t packets, last;
    int has_last;
    ds_srcvec set;
} cc_ent;

struct ds_detin_work {
    uint32_t *slot;            /* service table: entry index + 1; 0 empty */
    size_t cap, mask;          /* cap: allocated; mask + 1: the slots this build uses */
    svc_ent *svc;
    size_t nsvc, capsvc;
    int32_t *cc_idx;           /* [65536]: country entry index + 1; 0 none */
    cc_ent *cc;
    size_t ncc, capcc;         /* entries [0, ncc) in use; their sets are kept for reuse */
    uint8_t *tool;
    size_t tool_len, tool_cap;
    ds_svclog log;
    int log_ok;
};

ds_detin_work *ds_detin_work_new(void)
{
    ds_detin_work *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->cc_idx = calloc(65536, sizeof *w->cc_idx);
    if (!w->cc_idx || ds_svclog_init(&w->log, 4096) != 0) {
        free(w->cc_idx);
        free(w);
        return NULL;
    }
    w->log_ok = 1;
    return w;
}

void ds_detin_work_free(ds_detin_work *w)
{
    if (!w)
        return;
    free(w->slot);
    free(w->svc);
    free(w->cc_idx);
    for (size_t i = 0; i < w->capcc; i++)
        ds_srcvec_free(&w->cc[i].set);
    free(w->cc);
    free(w->tool);
    if (w->log_ok)
        ds_svclog_free(&w->log);
    free(w);
}

static inline void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24);
}
static inline void put64(uint8_t *p, uint64_t v)
{
    put32(p, (uint32_t)v);
    put32(p + 4, (uint32_t)(v >> 32));
}
static inline uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint64_t get64(const uint8_t *p) { return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32; }

/* The service table sized for n more keys at most (half full at worst). */
static int svc_reserve(ds_detin_work *w, size_t n)
{
    size_t cap = 64;
    while (cap < 2 * n)
        cap *= 2;
    if (cap > w->cap) {
        uint32_t *s = malloc(cap * sizeof *s);
        if (!s)
            return -1;
        free(w->slot);
        w->slot = s;
        w->cap = cap;
    }
    memset(w->slot, 0, cap * sizeof *w->slot);   /* this group's part: a small group after a large
                                                 * one clears a little, not the large one's table */
    w->mask = cap - 1;
    w->nsvc = 0;
    return 0;
}

static svc_ent *svc_of(ds_detin_work *w, uint32_t key)
{
    size_t m = w->mask, i = (size_t)ds_mix64(key) & m;
    while (w->slot[i]) {
        svc_ent *e = &w->svc[w->slot[i] - 1];
        if (e->key == key)
            return e;
        i = (i + 1) & m;
    }
    if (w->nsvc == w->capsvc) {
        svc_ent *n = ds_grow(w->svc, &w->capsvc, sizeof *n, 256);
        if (!n)
            return NULL;
        w->svc = n;
    }
    svc_ent *e = &w->svc[w->nsvc++];
    *e = (svc_ent){ .key = key };
    w->slot[i] = (uint32_t)w->nsvc;
    return e;
}

static cc_ent *cc_of(ds_detin_work *w, uint16_t key)
{
    if (w->cc_idx[key])
        return &w->cc[w->cc_idx[key] - 1];
    if (w->ncc == w->capcc) {
        size_t old = w->capcc;
        cc_ent *n = ds_grow(w->cc, &w->capcc, sizeof *n, 64);
        if (!n)
            return NULL;
        memset(n + old, 0, (w->capcc - old) * sizeof *n);
        w->cc = n;
    }
    cc_ent *e = &w->cc[w->ncc++];
    ds_srcvec set = e->set;   /* kept from an earlier group: its arrays are reused */
    ds_srcvec_clear(&set);
    *e = (cc_ent){ .key = key, .set = set };
    w->cc_idx[key] = (int32_t)w->ncc;
    return e;
}

static int svc_cmp(const void *a, const void *b)
{
    const svc_ent *x = a, *y = b;
    return x->key < y->key ? -1 : x->key > y->key;
}

static int cc_cmp(const void *a, const void *b)
{
    const cc_ent *x = a, *y = b;
    return x->key < y->key ? -1 : x->key > y->key;
}

static int tool_add(ds_detin_work *w, const uint8_t *rec)
{
    if (DS_REC_SRCSVC > w->tool_cap - w->tool_len) {
        size_t cap = w->tool_cap ? w->tool_cap * 2 : 64 * DS_REC_SRCSVC;
        uint8_t *n = realloc(w->tool, cap);
        if (!n)
            return -1;
        w->tool = n;
        w->tool_cap = cap;
    }
    memcpy(w->tool + w->tool_len, rec, DS_REC_SRCSVC);
    w->tool_len += DS_REC_SRCSVC;
    return 0;
}

ds_rc ds_detin_build(ds_detin_work *w, const uint8_t *srcsvc, size_t nsvc, const uint8_t *sources, size_t nsrc,
                     uint8_t **out, size_t *len, ds_err *err)
{
    ds_rc rc = DS_OK;
    uint8_t *buf = NULL;
    *out = NULL;
    *len = 0;
    w->tool_len = 0;
    w->ncc = 0;
    if (svc_reserve(w, nsvc) != 0)
        goto nomem;
    for (size_t i = 0; i < nsvc; i++) {
        const uint8_t *p = srcsvc + i * DS_REC_SRCSVC;
        ds_rec_srcsvc r;
        ds_rec_srcsvc_get(p, &r);
        if (r.tools && tool_add(w, p) != 0)
            goto nomem;
        if ((r.tools & DS_DETIN_SERIES_TOOLS) || r.cls != DS_CLASS_SCAN)
            continue;
        svc_ent *s = svc_of(w, r.service);
        cc_ent *c = s ? cc_of(w, ds_cc_pack(r.cc)) : NULL;
        if (!c)
            goto nomem;
        s->packets += r.packets;
        if (r.packets > s->maxrec)
            s->maxrec = r.packets;
        c->packets += r.packets;
        if (r.packets > c->maxrec)
            c->maxrec = r.packets;
        if (!c->has_last || c->last != r.src) {
            if (ds_srcvec_add(&c->set, r.src) != 0)
                goto nomem;
            c->last = r.src;
            c->has_last = 1;
        }
    }
    /* the sources' services, folded per source */
    ds_svclog *l = &w->log;
    ds_svclog_clear(l);
    for (size_t i = 0; i < nsrc; i++) {
        const uint8_t *p = sources + i * DS_REC_SOURCES;
        if (!(p[19] & (1u << DS_CLASS_SCAN)))   /* class_mask (records.h) */
            continue;
        if (l->n == l->cap && ds_svclog_spill(l) != 0)
            goto nomem;
        l->v[l->n++] = (ds_svc_item){ .key = ds_rec_source_key(p), .packets = get32(p + 48) };
    }
    if (ds_svclog_reduce(l) != 0)
        goto nomem;
    uint32_t nvert = 0, omit = 0;
    for (size_t i = 0; i < l->n; i++) {
        uint64_t s = l->v[i].packets;
        uint32_t v = s > UINT32_MAX ? UINT32_MAX : (uint32_t)s;
        if (v >= DS_DETIN_VERT_MIN)
            nvert++;
        else if (v > omit)
            omit = v;
    }
    for (size_t i = 0; i < w->ncc; i++) {
        w->cc_idx[w->cc[i].key] = 0;
        if (ds_srcvec_normalize(&w->cc[i].set) != 0)
            goto nomem;
    }
    if (w->nsvc)
        qsort(w->svc, w->nsvc, sizeof *w->svc, svc_cmp);
    if (w->ncc)
        qsort(w->cc, w->ncc, sizeof *w->cc, cc_cmp);
    size_t set_bytes = 0;
    for (size_t i = 0; i < w->ncc; i++)
        set_bytes += ds_srcset_encoded_size(&w->cc[i].set);
    size_t ntool = w->tool_len / DS_REC_SRCSVC;
    size_t total = DS_DETIN_HEADER + w->nsvc * DS_DETIN_SVC + w->ncc * DS_DETIN_CC + w->tool_len +
                   (size_t)nvert * DS_DETIN_VERT + set_bytes;
    if (total > UINT32_MAX || w->nsvc > UINT32_MAX || ntool > UINT32_MAX) {
        rc = ds_fail(err, DS_EINVAL, "detector inputs of a (sensor, day) past 4 GiB");
        goto out;
    }
    if (!(buf = calloc(1, total)))
        goto nomem;
    uint8_t *p = buf;
    memcpy(p, "DSDI", 4);
    p[4] = DS_DETIN_VERSION;
    put32(p + 8, (uint32_t)w->nsvc);
    put32(p + 12, (uint32_t)w->ncc);
    put32(p + 16, (uint32_t)ntool);
    put32(p + 20, nvert);
    put32(p + 24, (uint32_t)set_bytes);
    put32(p + 28, omit);
    p += DS_DETIN_HEADER;
    for (size_t i = 0; i < w->nsvc; i++, p += DS_DETIN_SVC) {
        put32(p, w->svc[i].key);
        put32(p + 4, w->svc[i].maxrec);
        put64(p + 8, w->svc[i].packets);
    }
    uint8_t *sets = buf + total - set_bytes;
    size_t off = 0;
    for (size_t i = 0; i < w->ncc; i++, p += DS_DETIN_CC) {
        const cc_ent *c = &w->cc[i];
        size_t b = ds_srcset_encode(&c->set, sets + off);
        put32(p, c->key);
        put32(p + 4, c->maxrec);
        put64(p + 8, c->packets);
        put32(p + 16, (uint32_t)c->set.n4);
        put32(p + 20, (uint32_t)c->set.n6);
        put32(p + 24, (uint32_t)off);
        put32(p + 28, (uint32_t)b);
        off += b;
    }
    if (w->tool_len)
        memcpy(p, w->tool, w->tool_len);
    p += w->tool_len;
    for (size_t i = 0; i < l->n; i++) {
        uint64_t s = l->v[i].packets;
        if (s < DS_DETIN_VERT_MIN)
            continue;
        put64(p, l->v[i].key);
        put32(p + 8, s > UINT32_MAX ? UINT32_MAX : (uint32_t)s);
        p += DS_DETIN_VERT;
    }
    *out = buf;
    *len = total;
    buf = NULL;
    goto out;
nomem:
    rc = ds_fail(err, DS_ENOMEM, "out of memory building the detectors' inputs");
out:
    for (size_t i = 0; i < w->ncc; i++)   /* a failure half way leaves no country marked */
        w->cc_idx[w->cc[i].key] = 0;
    free(buf);
    return rc;
}

ds_rc ds_detin_open(const uint8_t *p, size_t len, ds_detin_view *v, ds_err *err)
{
    memset(v, 0, sizeof *v);
    if (len < DS_DETIN_HEADER || memcmp(p, "DSDI", 4) != 0)
        return ds_fail(err, DS_EFORMAT, "detector inputs: not a DSDI chunk (%zu bytes)", len);
    if (p[4] != DS_DETIN_VERSION)
        return ds_fail(err, DS_EFORMAT, "detector inputs: version %u, this darkscope reads %u", p[4],
                       DS_DETIN_VERSION);
    v->nsvc = get32(p + 8);
    v->ncc = get32(p + 12);
    v->ntool = get32(p + 16);
    v->nvert = get32(p + 20);
    v->set_bytes = get32(p + 24);
    v->vert_omit = get32(p + 28);
    uint64_t need = (uint64_t)DS_DETIN_HEADER + (uint64_t)v->nsvc * DS_DETIN_SVC + (uint64_t)v->ncc * DS_DETIN_CC +
                    (uint64_t)v->ntool * DS_REC_SRCSVC + (uint64_t)v->nvert * DS_DETIN_VERT + v->set_bytes;
    if (need != len)
        return ds_fail(err, DS_EFORMAT, "detector inputs: sections of %llu bytes in a chunk of %zu",
                       (unsigned long long)need, len);
    v->svc = p + DS_DETIN_HEADER;
    v->cc = v->svc + (size_t)v->nsvc * DS_DETIN_SVC;
    v->tool = v->cc + (size_t)v->ncc * DS_DETIN_CC;
    v->vert = v->tool + (size_t)v->ntool * DS_REC_SRCSVC;
    v->sets = v->vert + (size_t)v->nvert * DS_DETIN_VERT;
    return DS_OK;
}

ds_rc ds_detin_entry_get(const ds_detin_view *v, int dim, uint32_t i, ds_detin_entry *e, ds_err *err)
{
    const uint8_t *p = dim ? v->cc + (size_t)i * DS_DETIN_CC : v->svc + (size_t)i * DS_DETIN_SVC;
    e->key = get32(p);
    e->maxrec = get32(p + 4);
    e->packets = get64(p + 8);
    e->set = NULL;
    e->bytes = 0;
    e->n4 = e->n6 = 0;
    if (!dim)
        return DS_OK;
    e->n4 = get32(p + 16);
    e->n6 = get32(p + 20);
    uint32_t off = get32(p + 24), bytes = get32(p + 28);
    if (off > v->set_bytes || bytes > v->set_bytes - off)
        return ds_fail(err, DS_EFORMAT, "detector inputs: a country's set at %u+%u outside %u bytes of sets", off,
                       bytes, v->set_bytes);
    e->set = v->sets + off;
    e->bytes = bytes;
    return DS_OK;
}
