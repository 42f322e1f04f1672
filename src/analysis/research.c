/* research.c: see research.h.
 *
 * MISP warninglists are JSON (RFC 8259) objects: {"name": ..., "type": "cidr", "list": [...],
 * ...}.  We need two members of the top-level object, so the reader below is a small validating
 * walker rather than a general JSON library: it checks the whole document's syntax (an unbalanced
 * or truncated file is an error naming the byte offset, not a half-read list) and collects the
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

/* "a.b.c.d[/n]" or IPv6 with host bits cleared; 0 on success. */
static int prefix_loose(const char *s, ds_prefix *p)
{
    char buf[64];
    const char *slash = strchr(s, '/');
    size_t alen = slash ? (size_t)(slash - s) : strlen(s);
    if (!alen || alen >= sizeof buf)
        return -1;
    memcpy(buf, s, alen);
    buf[alen] = 0;
    if (ds_ip_parse(buf, &p->addr) != 0)
        return -1;
    unsigned max = p->addr.v6 ? 128 : 32, len = max;
    if (slash) {
        char *end;
        if (slash[1] < '0' || slash[1] > '9')
            return -1;
        unsigned long v = strtoul(slash + 1, &end, 10);
        if (*end || v > max)
            return -1;
        len = (unsigned)v;
    }
    p->len = (uint8_t)len;
    for (unsigned bit = len; bit < max; bit++)
        p->addr.b[bit / 8] &= (uint8_t)~(0x80u >> (bit % 8));
    return 0;
}

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

/* ---- the JSON walker ------------------------------------------------------------------------ */

typedef struct jw {
    const char *p, *start, *end;
    const char *name;
    ds_err *err;
    ds_rc rc;
} jw;

static ds_rc jfail(jw *w, const char *what)
{
    if (w->rc == DS_OK)
        w->rc = ds_fail_at(w->err, DS_EFORMAT, (uint64_t)(w->p - w->start), "%s: not a warninglist: %s at byte %zu",
                           w->name, what, (size_t)(w->p - w->start));
    return w->rc;
}

static void skip_ws(jw *w)
{
    while (w->p < w->end && (*w->p == ' ' || *w->p == '\t' || *w->p == '\n' || *w->p == '\r'))
        w->p++;
}

/* A string into buf (ASCII escapes decoded; \u escapes kept only below 0x80, else '?'); the
 * value is cut to len - 1 bytes. */
static ds_rc jstring(jw *w, char *buf, size_t len)
{
    size_t n = 0;
    if (w->p >= w->end || *w->p != '"')
        return jfail(w, "a string was expected");
    w->p++;
    for (;;) {
        if (w->p >= w->end)
            return jfail(w, "the file ends inside a string");
        unsigned char ch = (unsigned char)*w->p++;
        if (ch == '"')
            break;
        if (ch < 0x20)
            return jfail(w, "a control character inside a string");
        if (ch == '\\') {
            if (w->p >= w->end)
                return jfail(w, "the file ends inside a string");
            char e = *w->p++;
            switch (e) {
            case '"': case '\\': case '/': ch = (unsigned char)e; break;
            case 'b': ch = '\b'; break;
            case 'f': ch = '\f'; break;
            case 'n': ch = '\n'; break;
            case 'r': ch = '\r'; break;
            case 't': ch = '\t'; break;
            case 'u': {
                unsigned v = 0;
                if ((size_t)(w->end - w->p) < 4)
                    return jfail(w, "a short \\u escape");
                for (int i = 0; i < 4; i++) {
                    char h = *w->p++;
                    v <<= 4;
                    if (h >= '0' && h <= '9') v |= (unsigned)(h - '0');
                    else if (h >= 'a' && h <= 'f') v |= (unsigned)(h - 'a' + 10);
                    else if (h >= 'A' && h <= 'F') v |= (unsigned)(h - 'A' + 10);
                    else return jfail(w, "a bad \\u escape");
                }
                ch = v < 0x80 ? (unsigned char)v : '?';
                break;
            }
            default: return jfail(w, "an unknown escape in a string");
            }
        }
        if (buf && n + 1 < len)
            buf[n++] = (char)ch;
    }
    if (buf && len)
        buf[n] = 0;
    return DS_OK;
}

static ds_rc jvalue(jw *w, int depth);

static ds_rc jliteral(jw *w, const char *lit)
{
    size_t n = strlen(lit);
    if ((size_t)(w->end - w->p) < n || memcmp(w->p, lit, n) != 0)
        return jfail(w, "an unexpected character");
    w->p += n;
    return DS_OK;
}

static ds_rc jnumber(jw *w)
{
    const char *s = w->p;
    while (w->p < w->end && strchr("+-0123456789.eE", *w->p))
        w->p++;
    return w->p > s ? DS_OK : jfail(w, "an unexpected character");
}

/* Array or object; values skipped. */
static ds_rc jcontainer(jw *w, int depth)
{
    char close = *w->p == '[' ? ']' : '}';
    int obj = close == '}';
    if (depth > 64)
        return jfail(w, "nesting deeper than 64 levels");
    w->p++;
    skip_ws(w);
    if (w->p < w->end && *w->p == close) {
        w->p++;
        return DS_OK;
    }
    for (;;) {
        skip_ws(w);
        if (obj) {
            if (jstring(w, NULL, 0) != DS_OK)
                return w->rc;
            skip_ws(w);
            if (w->p >= w->end || *w->p != ':')
                return jfail(w, "':' was expected");
            w->p++;
        }
        if (jvalue(w, depth + 1) != DS_OK)
            return w->rc;
        skip_ws(w);
        if (w->p >= w->end)
            return jfail(w, "the file ends inside an array or object");
        if (*w->p == ',') {
            w->p++;
            continue;
        }
        if (*w->p == close) {
            w->p++;
            return DS_OK;
        }
        return jfail(w, "',' or a closing bracket was expected");
    }
}

static ds_rc jvalue(jw *w, int depth)
{
    skip_ws(w);
    if (w->p >= w->end)
        return jfail(w, "the file ends where a value was expected");
    switch (*w->p) {
    case '"': return jstring(w, NULL, 0);
    case '[': case '{': return jcontainer(w, depth);
    case 't': return jliteral(w, "true");
    case 'f': return jliteral(w, "false");
    case 'n': return jliteral(w, "null");
    default: return jnumber(w);
    }
}

ds_rc ds_research_add_json(ds_research *r, const char *name, const char *json, size_t len, ds_err *err)
{
    jw w = { json, json, json + len, name, err, DS_OK };
    char key[64], type[64] = "", entry[128];
    int have_list = 0;
    skip_ws(&w);
    if (w.p >= w.end || *w.p != '{')
        return jfail(&w, "a JSON object was expected");
    w.p++;
    skip_ws(&w);
    if (w.p < w.end && *w.p == '}')
        w.p++;
    else
        for (;;) {
            skip_ws(&w);
            if (jstring(&w, key, sizeof key) != DS_OK)
                return w.rc;
            skip_ws(&w);
            if (w.p >= w.end || *w.p != ':')
                return jfail(&w, "':' was expected");
            w.p++;
            skip_ws(&w);
            if (!strcmp(key, "type") && w.p < w.end && *w.p == '"') {
                if (jstring(&w, type, sizeof type) != DS_OK)
                    return w.rc;
            } else if (!strcmp(key, "list") && w.p < w.end && *w.p == '[') {
                have_list = 1;
                w.p++;
                skip_ws(&w);
                if (w.p < w.end && *w.p == ']') {
                    w.p++;
                } else {
                    for (;;) {
                        skip_ws(&w);
                        const char *at = w.p;
                        if (jstring(&w, entry, sizeof entry) != DS_OK)
                            return w.rc;
                        ds_prefix pf;
                        if (prefix_loose(entry, &pf) != 0) {
                            w.p = at;
                            return jfail(&w, "a list entry that is not an IP prefix");
                        }
                        if (add_prefix(r, &pf) != 0)
                            return ds_fail(err, DS_ENOMEM, "%s: out of memory", name);
                        skip_ws(&w);
                        if (w.p < w.end && *w.p == ',') {
                            w.p++;
                            continue;
                        }
                        if (w.p < w.end && *w.p == ']') {
                            w.p++;
                            break;
                        }
                        return jfail(&w, "',' or ']' was expected in \"list\"");
                    }
                }
            } else if (jvalue(&w, 1) != DS_OK) {
                return w.rc;
            }
            skip_ws(&w);
            if (w.p < w.end && *w.p == ',') {
                w.p++;
                continue;
            }
            if (w.p < w.end && *w.p == '}') {
                w.p++;
                break;
            }
            return jfail(&w, "',' or '}' was expected");
        }
    skip_ws(&w);
    if (w.p != w.end)
        return jfail(&w, "text after the JSON object");
    if (!have_list)
        return ds_fail(err, DS_EFORMAT, "%s: not a warninglist: no \"list\" array", name);
    if (type[0] && strcmp(type, "cidr") != 0)
        return ds_fail(err, DS_EFORMAT, "%s: a warninglist of type \"%s\"; only type \"cidr\" lists name networks",
                       name, type);
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
    return st->ops->scan(st, DS_CHUNK_SOURCES, 0, from, to, on_sources, &c, err);
}
