/* names.c: country, service, ICMP type and IoT device-class names for reports.
 *
 * Sources, all read once at open (docs/names.md has the details):
 *  - Country names: Debian's iso-codes package.  English from iso_3166-1.json (ECMA-404 /
 *    RFC 8259 JSON: {"3166-1": [{"alpha_2": "JP", "name": "Japan", "common_name": ...}, ...]});
 *    `common_name` ("South Korea", "Taiwan") is preferred over the formal `name` ("Korea,
 *    Republic of").  Japanese from the gettext catalogue ja/LC_MESSAGES/iso_3166-1.mo (GNU .mo
 *    format, gettext manual section "The Format of GNU MO Files"), looked up by common_name
 *    first, then name, then official_name; without a translation the English name is used.
 *    These are maintained, translated lists; a hand-written table would rot.
 *  - Service names: IANA's Service Name and Transport Protocol Port Number Registry, as
 *    Wireshark ships it (Debian's libwireshark-data), else /etc/services (netbase, a subset);
 *    read by report/services.c.
 *  - ICMP/ICMPv6 type names and IoT device classes: data/icmp-types.tsv and data/iot-ports.tsv,
 *    shipped in this repository with their sources.
 *
 * Both parsers take untrusted bytes: the JSON reader (util/json.c) is a small recursive-descent parser with
 * a nesting limit, the .mo reader bounds-checks every table entry and string against the file
 * size (`len >= size - off`, never `off + len > size`), and every string kept is checked to be
 * UTF-8 because renderers hand it to Pango and HTML.  Errors name the file and byte offset.
 * Lookups are array indexing (countries, 26 x 26 codes) or binary search (services), so the
 * struct is immutable after open and safe to share between threads.
 */
#include "report/names.h"
#include "core/records.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "report/services.h"
#include "util/datadir.h"
#include "util/json.h"

#define NCODES (26 * 26)
#define MAX_FILE_BYTES (64u << 20)   /* no names file comes near this; a bigger one is a mistake */
#define JSON_STR_MAX 1024            /* longest country name kept (the longest real one is ~60) */

/* ---- string arena: everything the struct points to lives here, freed in one go ---- */

typedef struct arena_block {
    struct arena_block *next;
    size_t used, cap;
    char data[];
} arena_block;

static char *arena_strndup(arena_block **head, const char *s, size_t len)
{
    arena_block *b = *head;
    if (!b || len >= b->cap - b->used) {
        size_t cap = len + 1 > 16384 ? len + 1 : 16384;
        b = malloc(sizeof *b + cap);
        if (!b)
            return NULL;
        b->next = *head;
        b->used = 0;
        b->cap = cap;
        *head = b;
    }
    char *out = b->data + b->used;
    memcpy(out, s, len);
    out[len] = '\0';
    b->used += len + 1;
    return out;
}

static void arena_free(arena_block *b)
{
    while (b) {
        arena_block *next = b->next;
        free(b);
        b = next;
    }
}

/* ---- the names struct ---- */

typedef struct country_names {
    const char *name;     /* iso-codes `name`: the msgid of the catalogue */
    const char *common;   /* iso-codes `common_name`, or NULL */
    const char *official; /* iso-codes `official_name`, or NULL: a last msgid to try */
    const char *ja;       /* translation, or NULL */
} country_names;

typedef struct svc_name {
    ds_service key;
    uint32_t order;       /* load order: the first entry for a key wins, as in getservbyport */
    const char *name;
} svc_name;

typedef struct iot_class {
    ds_service key;
    const char *en, *ja;
} iot_class;

struct ds_names {
    country_names country[NCODES];
    char code[NCODES][3];         /* "AA".."ZZ", returned for codes the tables lack */
    svc_name *svc;
    size_t nsvc, svc_cap;
    iot_class *iot;
    size_t niot, iot_cap;
    arena_block *arena;
};

static int code_index(const char cc[2])
{
    unsigned a = (unsigned char)cc[0], b = (unsigned char)cc[1];
    a = (a >= 'a' && a <= 'z') ? a - 'a' : a - 'A';
    b = (b >= 'a' && b <= 'z') ? b - 'a' : b - 'A';
    return (a < 26 && b < 26) ? (int)(a * 26 + b) : -1;
}

/* ---- helpers ---- */

static ds_rc read_file(const char *path, const char *hint, char **out, size_t *outlen, ds_err *err)
{
    ds_rc rc = DS_OK;
    char *buf = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) {
        rc = ds_fail(err, errno == ENOENT ? DS_ENOTFOUND : DS_EIO, "cannot open %s: %s%s%s", path,
                     strerror(errno), hint ? " " : "", hint ? hint : "");
        goto out;
    }
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        rc = ds_fail(err, DS_EIO, "%s is not a regular file", path);
        goto out;
    }
    if ((uint64_t)st.st_size > MAX_FILE_BYTES) {
        rc = ds_fail(err, DS_ENOMEM, "%s is %lld bytes, more than the %u a names file may have", path,
                     (long long)st.st_size, MAX_FILE_BYTES);
        goto out;
    }
    size_t size = (size_t)st.st_size;
    buf = malloc(size + 1);
    if (!buf) {
        rc = ds_fail(err, DS_ENOMEM, "out of memory reading %s", path);
        goto out;
    }
    size_t got = fread(buf, 1, size, f);
    if (got != size) {
        rc = ds_fail_at(err, DS_EIO, got, "cannot read %s: %s", path,
                        ferror(f) ? strerror(errno) : "file shrank while reading");
        goto out;
    }
    buf[size] = '\0';
    *out = buf;
    *outlen = size;
    buf = NULL;
out:
    free(buf);
    if (f)
        fclose(f);
    return rc;
}

/* Returns the length of the valid UTF-8 prefix of [s, s+len) (RFC 3629: no overlongs, no
 * surrogates, nothing above U+10FFFF); equal to len when all of it is valid. */
static size_t utf8_valid_prefix(const unsigned char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        unsigned c = s[i];
        size_t need;
        uint32_t cp, min;
        if (c < 0x80) { i++; continue; }
        else if ((c & 0xE0) == 0xC0) { need = 1; cp = c & 0x1F; min = 0x80; }
        else if ((c & 0xF0) == 0xE0) { need = 2; cp = c & 0x0F; min = 0x800; }
        else if ((c & 0xF8) == 0xF0) { need = 3; cp = c & 0x07; min = 0x10000; }
        else return i;
        if (need > len - i - 1)
            return i;
        for (size_t k = 1; k <= need; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return i;
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return i;
        i += need + 1;
    }
    return i;
}

static const char *env_or(const char *var, const char *def)
{
    const char *v = getenv(var);
    return v && v[0] ? v : def;
}

typedef struct country_rec {
    char alpha2[3], name[JSON_STR_MAX], common[JSON_STR_MAX], official[JSON_STR_MAX];
    size_t alpha2_len, name_len, common_len, official_len;
    int have_alpha2, have_name, have_common, have_official;
} country_rec;

typedef struct country_ctx {
    ds_names *n;
    country_rec rec;
    size_t loaded;
} country_ctx;

static ds_rc country_member(ds_json *j, const char *key, size_t keylen, void *vctx, int depth)
{
    country_rec *r = &((country_ctx *)vctx)->rec;
    char *out = NULL;
    size_t cap = 0, *lenp = NULL;
    int *have = NULL;
    if (keylen == 7 && memcmp(key, "alpha_2", 7) == 0) {
        out = r->alpha2; cap = 2; lenp = &r->alpha2_len; have = &r->have_alpha2;
    } else if (keylen == 4 && memcmp(key, "name", 4) == 0) {
        out = r->name; cap = sizeof r->name; lenp = &r->name_len; have = &r->have_name;
    } else if (keylen == 11 && memcmp(key, "common_name", 11) == 0) {
        out = r->common; cap = sizeof r->common; lenp = &r->common_len; have = &r->have_common;
    } else if (keylen == 13 && memcmp(key, "official_name", 13) == 0) {
        out = r->official; cap = sizeof r->official; lenp = &r->official_len; have = &r->have_official;
    }
    if (!out || j->p >= j->end || *j->p != '"')
        return ds_json_skip(j, depth);
    const char *at = j->p;
    ds_rc rc = ds_json_string(j, out, cap, lenp);
    if (rc != DS_OK)
        return rc;
    if (*lenp > cap) {
        if (cap == 2) {   /* not a two-letter code: the record is skipped */
            *have = 0;
            return DS_OK;
        }
        j->p = at;
        return ds_json_fail(j, "country name longer than 1024 bytes");
    }
    if (utf8_valid_prefix((const unsigned char *)out, *lenp) != *lenp) {
        j->p = at;
        return ds_json_fail(j, "string is not valid UTF-8");
    }
    *have = 1;
    return DS_OK;
}

static ds_rc country_elem(ds_json *j, void *vctx, int depth)
{
    country_ctx *ctx = vctx;
    if (j->p >= j->end || *j->p != '{')
        return ds_json_skip(j, depth);   /* not a record: tolerated */
    memset(&ctx->rec, 0, sizeof ctx->rec);
    ds_rc rc = ds_json_object(j, depth, country_member, ctx);
    if (rc != DS_OK)
        return rc;
    country_rec *r = &ctx->rec;
    if (!r->have_alpha2 || r->alpha2_len != 2 || !r->have_name || r->name_len == 0)
        return DS_OK;
    int idx = code_index(r->alpha2);
    if (idx < 0 || r->alpha2[0] < 'A' || r->alpha2[1] < 'A' || r->alpha2[0] > 'Z' || r->alpha2[1] > 'Z')
        return DS_OK;
    country_names *c = &ctx->n->country[idx];
    if (c->name)
        return DS_OK;   /* duplicate code: the first record wins */
    c->name = arena_strndup(&ctx->n->arena, r->name, r->name_len);
    if (r->have_common && r->common_len > 0)
        c->common = arena_strndup(&ctx->n->arena, r->common, r->common_len);
    if (r->have_official && r->official_len > 0)
        c->official = arena_strndup(&ctx->n->arena, r->official, r->official_len);
    if (!c->name || (r->have_common && r->common_len > 0 && !c->common) ||
        (r->have_official && r->official_len > 0 && !c->official))
        return ds_fail(j->err, DS_ENOMEM, "out of memory loading %s", j->path);
    ctx->loaded++;
    return DS_OK;
}

static ds_rc top_member(ds_json *j, const char *key, size_t keylen, void *ctx, int depth)
{
    if (j->p < j->end && *j->p == '[')
        return ds_json_array(j, depth, country_elem, ctx);
    return ds_json_skip(j, depth);
}

static ds_rc load_countries(ds_names *n, ds_err *err)
{
    char path[4096];
    const char *dir = env_or("DARKSCOPE_ISO_CODES_DIR", "/usr/share/iso-codes/json");
    snprintf(path, sizeof path, "%s/iso_3166-1.json", dir);

    char *buf = NULL;
    size_t len = 0;
    ds_rc rc = read_file(path, "(install Debian's iso-codes package or set DARKSCOPE_ISO_CODES_DIR)", &buf, &len, err);
    if (rc != DS_OK)
        goto out;
    ds_json j = { buf, buf, buf + len, path, err, NULL };
    country_ctx ctx;
    ctx.n = n;
    ctx.loaded = 0;
    ds_json_ws(&j);
    if (j.p < j.end && *j.p == '{')
        rc = ds_json_object(&j, 1, top_member, &ctx);
    else if (j.p < j.end && *j.p == '[')
        rc = ds_json_array(&j, 1, country_elem, &ctx);
    else
        rc = ds_json_fail(&j, "expected a JSON object or array");
    if (rc != DS_OK)
        goto out;
    if ((rc = ds_json_end(&j)) != DS_OK)
        goto out;
    if (ctx.loaded == 0)
        rc = ds_fail(err, DS_EFORMAT, "%s: no country records (objects with alpha_2 and name) found", path);
out:
    free(buf);
    return rc;
}

/* ---- GNU .mo catalogue ---- */

typedef struct mo_entry {
    const char *id, *str;
    uint32_t id_len, str_len;
} mo_entry;

static uint32_t mo_u32(const unsigned char *p, int big_endian)
{
    if (big_endian)
        return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
    return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

static int mo_cmp(const void *a, const void *b)
{
    const mo_entry *x = a, *y = b;
    uint32_t n = x->id_len < y->id_len ? x->id_len : y->id_len;
    int c = memcmp(x->id, y->id, n);
    if (c)
        return c;
    return x->id_len < y->id_len ? -1 : x->id_len > y->id_len;
}

static const mo_entry *mo_find(const mo_entry *e, size_t n, const char *id)
{
    mo_entry key = { id, NULL, (uint32_t)strlen(id), 0 };
    return bsearch(&key, e, n, sizeof *e, mo_cmp);
}

/* Reads string descriptor i of the table at table_off: checks that the string and its NUL
 * terminator lie inside the file. */
static ds_rc mo_string(const unsigned char *buf, size_t size, uint32_t table_off, uint32_t i, int be,
                       const char *path, const char **s, uint32_t *len, ds_err *err)
{
    uint64_t desc = (uint64_t)table_off + (uint64_t)i * 8;   /* table bounds checked by the caller */
    uint32_t l = mo_u32(buf + desc, be), off = mo_u32(buf + desc + 4, be);
    if (off > size || l >= size - off)
        return ds_fail_at(err, DS_EFORMAT, desc, "%s: string %u (%u bytes at offset %u) lies outside the %zu-byte file, at byte %llu",
                          path, i, l, off, size, (unsigned long long)desc);
    if (buf[off + l] != '\0')
        return ds_fail_at(err, DS_EFORMAT, (uint64_t)off + l, "%s: string %u is not NUL-terminated, at byte %llu",
                          path, i, (unsigned long long)off + l);
    *s = (const char *)buf + off;
    *len = l;
    return DS_OK;
}

/* The header entry (msgid "") says the catalogue's charset; anything but UTF-8 would come out
 * as mojibake in the report, so it is refused. */
static ds_rc mo_check_charset(const char *hdr, uint32_t len, const char *path, ds_err *err)
{
    const char *cs = NULL;
    for (uint32_t i = 0; i + 8 <= len; i++) {
        if (strncasecmp(hdr + i, "charset=", 8) == 0) {
            cs = hdr + i + 8;
            break;
        }
    }
    if (!cs)
        return DS_OK;   /* no declaration: gettext assumes nothing; the UTF-8 checks still apply */
    size_t n = 0;
    while (cs + n < hdr + len && cs[n] != '\n' && cs[n] != ' ' && cs[n] != ';' && cs[n] != '\0')
        n++;
    if ((n == 5 && strncasecmp(cs, "UTF-8", 5) == 0) || (n == 4 && strncasecmp(cs, "UTF8", 4) == 0))
        return DS_OK;
    return ds_fail(err, DS_EFORMAT, "%s: catalogue charset is %.*s; darkscope needs UTF-8", path, (int)(n < 40 ? n : 40), cs);
}

static ds_rc load_japanese(ds_names *n, ds_err *err)
{
    char path[4096];
    const char *dir = env_or("DARKSCOPE_LOCALE_DIR", "/usr/share/locale");
    snprintf(path, sizeof path, "%s/ja/LC_MESSAGES/iso_3166-1.mo", dir);

    char *raw = NULL;
    size_t size = 0;
    mo_entry *ents = NULL;
    ds_rc rc = read_file(path, "(install Debian's iso-codes package with its translations, or set DARKSCOPE_LOCALE_DIR)",
                         &raw, &size, err);
    if (rc != DS_OK)
        goto out;
    const unsigned char *buf = (const unsigned char *)raw;
    if (size < 28) {
        rc = ds_fail_at(err, DS_ETRUNC, size, "%s: %zu bytes, too short for a .mo header (28 bytes)", path, size);
        goto out;
    }
    int be;
    if (mo_u32(buf, 0) == 0x950412deu)
        be = 0;
    else if (mo_u32(buf, 1) == 0x950412deu)
        be = 1;
    else {
        rc = ds_fail_at(err, DS_EFORMAT, 0, "%s: not a GNU .mo catalogue (magic is not 0x950412de), at byte 0", path);
        goto out;
    }
    uint32_t revision = mo_u32(buf + 4, be);
    if ((revision >> 16) > 1) {
        rc = ds_fail_at(err, DS_EFORMAT, 4, "%s: unsupported .mo major revision %u, at byte 4", path, revision >> 16);
        goto out;
    }
    uint32_t count = mo_u32(buf + 8, be), orig_off = mo_u32(buf + 12, be), trans_off = mo_u32(buf + 16, be);
    if (orig_off > size || count > (size - orig_off) / 8 || trans_off > size || count > (size - trans_off) / 8) {
        rc = ds_fail_at(err, DS_ETRUNC, 8, "%s: string tables (%u entries at offsets %u and %u) run past the end of the %zu-byte file, at byte 8",
                        path, count, orig_off, trans_off, size);
        goto out;
    }
    ents = malloc((size_t)(count ? count : 1) * sizeof *ents);
    if (!ents) {
        rc = ds_fail(err, DS_ENOMEM, "out of memory reading %s", path);
        goto out;
    }
    size_t nents = 0;
    for (uint32_t i = 0; i < count; i++) {
        mo_entry e;
        rc = mo_string(buf, size, orig_off, i, be, path, &e.id, &e.id_len, err);
        if (rc == DS_OK)
            rc = mo_string(buf, size, trans_off, i, be, path, &e.str, &e.str_len, err);
        if (rc != DS_OK)
            goto out;
        if (e.id_len == 0) {
            rc = mo_check_charset(e.str, e.str_len, path, err);
            if (rc != DS_OK)
                goto out;
            continue;
        }
        /* Plural entries hold several NUL-separated forms; the first is the singular. */
        e.str_len = (uint32_t)strnlen(e.str, e.str_len);
        if (e.str_len == 0)
            continue;   /* untranslated */
        if (utf8_valid_prefix((const unsigned char *)e.str, e.str_len) != e.str_len) {
            uint64_t at = (uint64_t)(e.str - raw) + utf8_valid_prefix((const unsigned char *)e.str, e.str_len);
            rc = ds_fail_at(err, DS_EFORMAT, at, "%s: translation %u is not valid UTF-8, at byte %llu", path, i,
                            (unsigned long long)at);
            goto out;
        }
        ents[nents++] = e;
    }
    qsort(ents, nents, sizeof *ents, mo_cmp);

    for (int i = 0; i < NCODES; i++) {
        country_names *c = &n->country[i];
        if (!c->name)
            continue;
        const mo_entry *hit = c->common ? mo_find(ents, nents, c->common) : NULL;
        if (!hit)
            hit = mo_find(ents, nents, c->name);
        if (!hit && c->official)   /* "Czechia" is untranslated, "Czech Republic" is not */
            hit = mo_find(ents, nents, c->official);
        if (!hit)
            continue;   /* falls back to English */
        c->ja = arena_strndup(&n->arena, hit->str, hit->str_len);
        if (!c->ja) {
            rc = ds_fail(err, DS_ENOMEM, "out of memory loading %s", path);
            goto out;
        }
    }
out:
    free(ents);
    free(raw);
    return rc;
}

/* ---- services(5) and the TSV tables ---- */

static ds_rc add_service(ds_names *n, ds_service key, const char *name, size_t len, ds_err *err)
{
    if (n->nsvc == n->svc_cap) {
        size_t cap = n->svc_cap ? n->svc_cap * 2 : 1024;
        svc_name *grown = realloc(n->svc, cap * sizeof *grown);
        if (!grown)
            return ds_fail(err, DS_ENOMEM, "out of memory loading service names");
        n->svc = grown;
        n->svc_cap = cap;
    }
    const char *s = arena_strndup(&n->arena, name, len);
    if (!s)
        return ds_fail(err, DS_ENOMEM, "out of memory loading service names");
    n->svc[n->nsvc] = (svc_name){ key, (uint32_t)n->nsvc, s };
    n->nsvc++;
    return DS_OK;
}

static ds_rc service_entry(void *ctx, ds_service key, const char *name, size_t len, ds_err *err)
{
    return add_service(ctx, key, name, len, err);
}

static ds_rc load_services(ds_names *n, ds_err *err)
{
    char path[4096];
    char *buf = NULL;
    size_t len = 0;
    ds_rc rc = ds_services_path(path, sizeof path, err);
    if (rc == DS_OK)
        rc = read_file(path, "(set DARKSCOPE_SERVICES to a services(5) file)", &buf, &len, err);
    if (rc == DS_OK)
        rc = ds_services_parse(path, buf, len, service_entry, n, err);
    free(buf);
    return rc;
}

/* Splits a TSV line into at most max fields; returns the count. */
static size_t tsv_split(const char *p, const char *e, const char **f, size_t *flen, size_t max)
{
    size_t n = 0;
    for (;;) {
        const char *tab = memchr(p, '\t', (size_t)(e - p));
        const char *fe = tab ? tab : e;
        if (n == max)
            return max + 1;   /* too many */
        f[n] = p;
        flen[n] = (size_t)(fe - p);
        n++;
        if (!tab)
            return n;
        p = tab + 1;
    }
}

/* Reads a shipped TSV table: `#` comments and blank lines skipped, every other line must have
 * exactly nfields non-empty, UTF-8 fields, the first a service key.  Strict, because the file
 * is ours: a bad line is a bug to fix, reported with line number and byte offset. */
typedef ds_rc (*tsv_row_fn)(ds_names *n, ds_service key, const char **f, const size_t *flen, const char *path,
                            unsigned line, uint64_t off, ds_err *err);

/* key_country: the first field is an ISO 3166 alpha-2 code (passed as ds_cc_pack), not a service. */
static ds_rc load_tsv(ds_names *n, const char *name, size_t nfields, int key_country, tsv_row_fn row, ds_err *err)
{
    char path[4096];
    char *buf = NULL;
    size_t len = 0;
    ds_rc rc = ds_data_path(name, path, sizeof path, err);
    if (rc == DS_OK)
        rc = read_file(path, NULL, &buf, &len, err);
    if (rc != DS_OK)
        goto out;
    unsigned line = 0;
    const char *p = buf, *end = buf + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *eol = nl ? nl : end;
        uint64_t off = (uint64_t)(p - buf);
        line++;
        if (eol > p && eol[-1] == '\r')
            eol--;
        if (eol == p || *p == '#') {
            p = nl ? nl + 1 : end;
            continue;
        }
        const char *f[8];
        size_t flen[8];
        size_t nf = tsv_split(p, eol, f, flen, nfields);
        if (nf != nfields) {
            rc = ds_fail_at(err, DS_EFORMAT, off, "%s:%u: expected %zu tab-separated fields, found %s%zu, at byte %llu",
                            path, line, nfields, nf > nfields ? "more than " : "", nf > nfields ? nfields : nf,
                            (unsigned long long)off);
            goto out;
        }
        for (size_t i = 0; i < nf; i++) {
            if (flen[i] == 0 || utf8_valid_prefix((const unsigned char *)f[i], flen[i]) != flen[i]) {
                uint64_t at = (uint64_t)(f[i] - buf);
                rc = ds_fail_at(err, DS_EFORMAT, at, "%s:%u: field %zu is empty or not UTF-8, at byte %llu", path, line,
                                i + 1, (unsigned long long)at);
                goto out;
            }
        }
        char keytext[DS_SERVICE_STRLEN];
        ds_service key;
        int key_ok = 0;
        if (key_country) {
            key_ok = flen[0] == 2 && f[0][0] >= 'A' && f[0][0] <= 'Z' && f[0][1] >= 'A' && f[0][1] <= 'Z';
            key = key_ok ? ds_cc_pack(f[0]) : 0;
            if (!key_ok) {
                rc = ds_fail_at(err, DS_EFORMAT, off, "%s:%u: \"%.*s\" is not a country code like JP, at byte %llu",
                                path, line, (int)(flen[0] < 20 ? flen[0] : 20), f[0], (unsigned long long)off);
                goto out;
            }
        } else if (flen[0] < sizeof keytext) {
            memcpy(keytext, f[0], flen[0]);
            keytext[flen[0]] = '\0';
            key_ok = ds_service_parse(keytext, &key) == 0;
        }
        if (!key_ok) {
            rc = ds_fail_at(err, DS_EFORMAT, off, "%s:%u: \"%.*s\" is not a service key like 23/tcp, at byte %llu", path,
                            line, (int)(flen[0] < 20 ? flen[0] : 20), f[0], (unsigned long long)off);
            goto out;
        }
        rc = row(n, key, f, flen, path, line, off, err);
        if (rc != DS_OK)
            goto out;
        p = nl ? nl + 1 : end;
    }
out:
    free(buf);
    return rc;
}

static ds_rc icmp_row(ds_names *n, ds_service key, const char **f, const size_t *flen, const char *path,
                      unsigned line, uint64_t off, ds_err *err)
{
    uint8_t proto = DS_SERVICE_PROTO(key);
    if (proto != DS_PROTO_ICMP && proto != DS_PROTO_ICMP6)
        return ds_fail_at(err, DS_EFORMAT, off, "%s:%u: %.*s is not an ICMP or ICMPv6 type, at byte %llu", path, line,
                          (int)flen[0], f[0], (unsigned long long)off);
    return add_service(n, key, f[1], flen[1], err);
}

static ds_rc iot_row(ds_names *n, ds_service key, const char **f, const size_t *flen, const char *path,
                     unsigned line, uint64_t off, ds_err *err)
{
    for (size_t i = 0; i < n->niot; i++)
        if (n->iot[i].key == key)
            return ds_fail_at(err, DS_EFORMAT, off, "%s:%u: %.*s is listed twice, at byte %llu", path, line,
                              (int)flen[0], f[0], (unsigned long long)off);
    if (n->niot == n->iot_cap) {
        size_t cap = n->iot_cap ? n->iot_cap * 2 : 64;
        iot_class *grown = realloc(n->iot, cap * sizeof *grown);
        if (!grown)
            return ds_fail(err, DS_ENOMEM, "out of memory loading %s", path);
        n->iot = grown;
        n->iot_cap = cap;
    }
    const char *en = arena_strndup(&n->arena, f[1], flen[1]);
    const char *ja = arena_strndup(&n->arena, f[2], flen[2]);
    if (!en || !ja)
        return ds_fail(err, DS_ENOMEM, "out of memory loading %s", path);
    n->iot[n->niot++] = (iot_class){ key, en, ja };
    return DS_OK;   /* f[3], the source, is for people reading the file */
}

/* data/country-names-ja.tsv: Japanese names the iso-codes catalogue lacks (names changed after
 * its last translation, e.g. Türkiye) and the short names reports print for its formal ones
 * (韓国 for 大韓民国 (韓国)).  The table wins over the catalogue. */
static ds_rc ja_row(ds_names *n, ds_service key, const char **f, const size_t *flen, const char *path,
                    unsigned line, uint64_t off, ds_err *err)
{
    char cc[3];
    ds_cc_unpack((uint16_t)key, cc);
    int idx = code_index(cc);
    if (idx < 0)
        return ds_fail_at(err, DS_EFORMAT, off, "%s:%u: bad country code, at byte %llu", path, line,
                          (unsigned long long)off);
    country_names *c = &n->country[idx];
    /* the table wins: it has what the catalogue lacks and the short names reports print */
    if (!(c->ja = arena_strndup(&n->arena, f[1], flen[1])))
        return ds_fail(err, DS_ENOMEM, "out of memory loading %s", path);
    return DS_OK;   /* f[2], the source, is for people reading the file */
}

static int svc_cmp(const void *a, const void *b)
{
    const svc_name *x = a, *y = b;
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    return x->order < y->order ? -1 : x->order > y->order;
}

static int iot_cmp(const void *a, const void *b)
{
    const iot_class *x = a, *y = b;
    return x->key < y->key ? -1 : x->key > y->key;
}

/* ---- public API ---- */

ds_rc ds_names_open(ds_names **out, ds_err *err)
{
    *out = NULL;
    ds_rc rc = DS_OK;
    ds_names *n = calloc(1, sizeof *n);
    if (!n)
        return ds_fail(err, DS_ENOMEM, "out of memory allocating the names tables");
    for (int i = 0; i < NCODES; i++) {
        n->code[i][0] = (char)('A' + i / 26);
        n->code[i][1] = (char)('A' + i % 26);
        n->code[i][2] = '\0';
    }
    if ((rc = load_countries(n, err)) != DS_OK || (rc = load_japanese(n, err)) != DS_OK ||
        (rc = load_services(n, err)) != DS_OK || (rc = load_tsv(n, "icmp-types.tsv", 2, 0, icmp_row, err)) != DS_OK ||
        (rc = load_tsv(n, "iot-ports.tsv", 4, 0, iot_row, err)) != DS_OK ||
        (rc = load_tsv(n, "country-names-ja.tsv", 3, 1, ja_row, err)) != DS_OK)
        goto out;

    /* Sort, then keep the first entry of each key (services(5) order, then the ICMP table). */
    qsort(n->svc, n->nsvc, sizeof *n->svc, svc_cmp);
    size_t kept = 0;
    for (size_t i = 0; i < n->nsvc; i++)
        if (kept == 0 || n->svc[kept - 1].key != n->svc[i].key)
            n->svc[kept++] = n->svc[i];
    n->nsvc = kept;
    qsort(n->iot, n->niot, sizeof *n->iot, iot_cmp);
    *out = n;
    n = NULL;
out:
    ds_names_free(n);
    return rc;
}

void ds_names_free(ds_names *n)
{
    if (!n)
        return;
    free(n->svc);
    free(n->iot);
    arena_free(n->arena);
    free(n);
}

const char *ds_names_country(const ds_names *n, const char cc[2], ds_lang lang)
{
    if (!cc)
        return "??";
    int idx = code_index(cc);
    if (idx < 0)
        return "??";
    if (idx == ('Z' - 'A') * 26 + ('Z' - 'A'))   /* special-purpose sources, and no data (docs/geo.md) */
        return lang == DS_LANG_JA ? DS_NAMES_ZZ_JA : DS_NAMES_ZZ_EN;
    const country_names *c = &n->country[idx];
    if (!c->name)
        return n->code[idx];
    if (lang == DS_LANG_JA && c->ja)
        return c->ja;
    return c->common ? c->common : c->name;
}

const char *ds_names_service(const ds_names *n, ds_service svc)
{
    size_t lo = 0, hi = n->nsvc;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (n->svc[mid].key < svc)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n->nsvc && n->svc[lo].key == svc ? n->svc[lo].name : NULL;
}

static const iot_class *iot_find(const ds_names *n, ds_service svc)
{
    iot_class key = { svc, NULL, NULL };
    return n->niot ? bsearch(&key, n->iot, n->niot, sizeof *n->iot, iot_cmp) : NULL;
}

const char *ds_names_iot(const ds_names *n, ds_service svc, ds_lang lang)
{
    const iot_class *c = iot_find(n, svc);
    if (!c)
        return NULL;
    return lang == DS_LANG_JA ? c->ja : c->en;
}

int ds_names_is_iot(const ds_names *n, ds_service svc)
{
    return iot_find(n, svc) != NULL;
}
