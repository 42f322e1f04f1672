/* research.c: see research.h.
 *
 * MISP warninglists are JSON (RFC 8259) objects: {"name": ..., "type": "cidr", "list": [...],
 * ...}.  util/json.c checks the whole document's syntax (an unbalanced or truncated file is an
 * error naming the byte offset, not a half-read list); the callbacks below collect "type" and the
 * strings of "list".  Entries are IPv4 or IPv6 prefixes or bare addresses; host bits set in an
 * entry are cleared (the lists are third-party data, and "192.0.2.1/24" plainly means the /24).
 *
 * Matching: IPv4 prefixes become merged, sorted [lo, hi] ranges searched by bisection; IPv6
 * prefixes are few and compared one by one.
 */
#include "analysis/research.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/records.h"
#include "util/json.h"

#define LIST_MAX_BYTES (64u << 20)

typedef struct range4 { uint32_t lo, hi; } range4;

struct ds_research {
    range4 *r4; size_t n4, cap4;
    ds_prefix *p6; size_t n6, cap6;
    uint32_t *asns; size_t nasns;
    int sorted;
};

ds_research *ds_research_new(void) { return calloc(1, sizeof(ds_research)); }

void ds_research_free(ds_research *r)
{
    if (!r)
        return;
    free(r->r4);
    free(r->p6);
    free(r->asns);
    free(r);
}

size_t ds_research_prefixes(const ds_research *r) { return r->n4 + r->n6; }

static int add_prefix(ds_research *r, const ds_prefix *p)
{
    if (!p->addr.v6) {
        if (r->n4 == r->cap4) {
            size_t cap = r->cap4 ? r->cap4 * 2 : 64;
            range4 *n = realloc(r->r4, cap * sizeof *n);
            if (!n)
                return -1;
            r->r4 = n;
            r->cap4 = cap;
        }
        uint32_t lo = ds_ip_v4(&p->addr);
        uint32_t hi = p->len == 0 ? UINT32_MAX : lo | (uint32_t)((1ULL << (32 - p->len)) - 1);
        r->r4[r->n4++] = (range4){ lo, hi };
        r->sorted = 0;
        return 0;
    }
    if (r->n6 == r->cap6) {
        size_t cap = r->cap6 ? r->cap6 * 2 : 16;
        ds_prefix *n = realloc(r->p6, cap * sizeof *n);
        if (!n)
            return -1;
        r->p6 = n;
        r->cap6 = cap;
    }
    r->p6[r->n6++] = *p;
    return 0;
}

static int cmp_range(const void *a, const void *b)
{
    const range4 *x = a, *y = b;
    return x->lo < y->lo ? -1 : x->lo > y->lo;
}

/* Sort and merge overlapping IPv4 ranges. */
static void finish(ds_research *r)
{
    if (r->sorted)
        return;
    if (r->n4)
        qsort(r->r4, r->n4, sizeof *r->r4, cmp_range);
    size_t w = 0;
    for (size_t i = 0; i < r->n4; i++) {
        if (w && (r->r4[i].lo <= r->r4[w - 1].hi || r->r4[i].lo - 1 == r->r4[w - 1].hi)) {
            if (r->r4[i].hi > r->r4[w - 1].hi)
                r->r4[w - 1].hi = r->r4[i].hi;
        } else {
            r->r4[w++] = r->r4[i];
        }
    }
    r->n4 = w;
    r->sorted = 1;
}

/* ---- the warninglist: {"type": "cidr", "list": [...], ...} through util/json ------------ */

typedef struct list_ctx {
    ds_research *r;
    char type[64];
    int have_list;
} list_ctx;

static ds_rc list_entry(ds_json *j, void *vctx, int depth)
{
    list_ctx *c = vctx;
    char entry[128];
    size_t len;
    const char *at = j->p;
    ds_prefix pf;
    if (j->p >= j->end || *j->p != '"')
        return ds_json_fail(j, "a list entry that is not a string");
    ds_rc rc = ds_json_string(j, entry, sizeof entry - 1, &len);
    if (rc != DS_OK)
        return rc;
    entry[len < sizeof entry - 1 ? len : sizeof entry - 1] = 0;
    if (len >= sizeof entry - 1 || ds_prefix_parse_masked(entry, &pf) != 0) {
        j->p = at;
        return ds_json_fail(j, "a list entry that is not an IP prefix");
    }
    if (add_prefix(c->r, &pf) != 0)
        return ds_fail(j->err, DS_ENOMEM, "%s: out of memory", j->path);
    return DS_OK;
}

static ds_rc list_member(ds_json *j, const char *key, size_t keylen, void *vctx, int depth)
{
    list_ctx *c = vctx;
    if (keylen == 4 && !memcmp(key, "type", 4) && j->p < j->end && *j->p == '"') {
        size_t len;
        ds_rc rc = ds_json_string(j, c->type, sizeof c->type - 1, &len);
        c->type[len < sizeof c->type - 1 ? len : sizeof c->type - 1] = 0;
        return rc;
    }
    if (keylen == 4 && !memcmp(key, "list", 4) && j->p < j->end && *j->p == '[') {
        c->have_list = 1;
        return ds_json_array(j, depth, list_entry, c);
    }
    return ds_json_skip(j, depth);
}

ds_rc ds_research_add_json(ds_research *r, const char *name, const char *json, size_t len, ds_err *err)
{
    ds_json j = { json, json, json + len, name, err, "not a warninglist: " };
    list_ctx c = { .r = r };
    ds_rc rc;
    ds_json_ws(&j);
    if (j.p >= j.end || *j.p != '{')
        return ds_json_fail(&j, "a JSON object was expected");
    if ((rc = ds_json_object(&j, 1, list_member, &c)) != DS_OK || (rc = ds_json_end(&j)) != DS_OK)
        return rc;
    if (!c.have_list)
        return ds_fail(err, DS_EFORMAT, "%s: not a warninglist: no \"list\" array", name);
    if (c.type[0] && strcmp(c.type, "cidr") != 0)
        return ds_fail(err, DS_EFORMAT, "%s: a warninglist of type \"%s\"; only type \"cidr\" lists name networks",
                       name, c.type);
    finish(r);
    return DS_OK;
}

static ds_rc read_file(const char *path, char **out, size_t *len, ds_err *err)
{
    ds_rc rc = DS_OK;
    char *buf = NULL;
    size_t n = 0, cap = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return ds_fail(err, DS_EIO, "%s: cannot open research list: %s", path, strerror(errno));
    for (;;) {
        if (cap - n < 65536) {
            if (cap >= LIST_MAX_BYTES) {
                rc = ds_fail(err, DS_EFORMAT, "%s: research list larger than %u MiB", path, LIST_MAX_BYTES >> 20);
                goto out;
            }
            size_t nc = cap ? cap * 2 : 1 << 16;
            char *nb = realloc(buf, nc);
            if (!nb) {
                rc = ds_fail(err, DS_ENOMEM, "%s: out of memory", path);
                goto out;
            }
            buf = nb;
            cap = nc;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) {
            if (ferror(f))
                rc = ds_fail(err, DS_EIO, "%s: read error: %s", path, strerror(errno));
            break;
        }
    }
out:
    fclose(f);
    if (rc != DS_OK) {
        free(buf);
        return rc;
    }
    *out = buf;
    *len = n;
    return DS_OK;
}

ds_rc ds_research_load(ds_research **out, const ds_research_conf *conf, ds_err *err)
{
    ds_rc rc = DS_OK;
    ds_research *r = NULL;
    *out = NULL;
    if (!conf->nlists && !conf->nasns)
        return ds_fail(err, DS_EINVAL, "--exclude research: no research scanners are configured; name MISP "
                                       "warninglists in [detect] research_lists and/or AS numbers in research_asns");
    if (!(r = ds_research_new()) || (conf->nasns && !(r->asns = malloc(conf->nasns * sizeof *r->asns)))) {
        rc = ds_fail(err, DS_ENOMEM, "out of memory reading research lists");
        goto out;
    }
    if (conf->nasns)
        memcpy(r->asns, conf->asns, conf->nasns * sizeof *r->asns);
    r->nasns = conf->nasns;
    for (size_t i = 0; i < conf->nlists; i++) {
        char *buf = NULL;
        size_t len = 0;
        if ((rc = read_file(conf->lists[i], &buf, &len, err)) != DS_OK)
            goto out;
        rc = ds_research_add_json(r, conf->lists[i], buf, len, err);
        free(buf);
        if (rc != DS_OK)
            goto out;
    }
    finish(r);
    *out = r;
    r = NULL;
out:
    ds_research_free(r);
    return rc;
}

static int in_prefix6(const ds_prefix *p, const ds_ip *ip)
{
    unsigned full = p->len / 8, rest = p->len % 8;
    if (memcmp(p->addr.b, ip->b, full) != 0)
        return 0;
    if (!rest)
        return 1;
    uint8_t mask = (uint8_t)(0xff00u >> rest);
    return (p->addr.b[full] & mask) == (ip->b[full] & mask);
}

int ds_research_match(const ds_research *r, const ds_ip *ip, uint32_t asn)
{
    for (size_t i = 0; i < r->nasns; i++)
        if (r->asns[i] == asn && asn)
            return 1;
    if (!ip->v6) {
        uint32_t a = ds_ip_v4(ip);
        size_t lo = 0, hi = r->n4;
        while (lo < hi) {   /* first range with lo > a */
            size_t mid = lo + (hi - lo) / 2;
            if (r->r4[mid].lo <= a)
                lo = mid + 1;
            else
                hi = mid;
        }
        return lo > 0 && a <= r->r4[lo - 1].hi;
    }
    for (size_t i = 0; i < r->n6; i++)
        if (r->p6[i].addr.v6 && in_prefix6(&r->p6[i], ip))
            return 1;
    return 0;
}

typedef struct src_ctx { const ds_research *r; ds_u64set *set; } src_ctx;

static ds_rc on_sources(void *ctx, int64_t sensor_id, int32_t day, const uint8_t *data, size_t nrec, ds_err *err)
{
    src_ctx *c = ctx;
    for (size_t i = 0; i < nrec; i++) {
        ds_rec_source s;
        ds_rec_source_get(data + i * DS_REC_SOURCES, &s);
        if (ds_research_match(c->r, &s.ip, s.asn) && ds_u64set_add(c->set, ds_src_key(&s.ip)) < 0)
            return ds_fail(err, DS_ENOMEM, "out of memory collecting research scanners");
    }
    return DS_OK;
}

ds_rc ds_research_sources(const ds_research *r, ds_store *st, int32_t from, int32_t to, ds_u64set *set, ds_err *err)
{
    if (!set->e && ds_u64set_init(set, 1024) != 0)
        return ds_fail(err, DS_ENOMEM, "out of memory collecting research scanners");
    src_ctx c = { r, set };
    return ds_store_scan(st, DS_CHUNK_SOURCES, 0, from, to, on_sources, &c, err);
}
