/* json.c: see json.h. */
#include "util/json.h"

#include <string.h>

ds_rc ds_json_fail(ds_json *j, const char *what)
{
    return ds_fail_at(j->err, DS_EFORMAT, (uint64_t)(j->p - j->start), "%s: %s%s at byte %zu", j->path,
                      j->context ? j->context : "", what, (size_t)(j->p - j->start));
}

void ds_json_ws(ds_json *j)
{
    while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
        j->p++;
}

static int hex4(const char *p, uint32_t *out)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        v <<= 4;
        if (c >= '0' && c <= '9') v |= (uint32_t)(c - '0');
        else if (c >= 'a' && c <= 'f') v |= (uint32_t)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F') v |= (uint32_t)(c - 'A' + 10);
        else return -1;
    }
    *out = v;
    return 0;
}

/* Parses a string at j->p (which is '"').  Decoded bytes go to out (cap bytes, may be NULL to
 * only validate); *len gets the full decoded length, which may exceed cap (then out holds a
 * prefix).  Raw bytes >= 0x80 are copied as they are and checked as UTF-8 by the caller. */
ds_rc ds_json_string(ds_json *j, char *out, size_t cap, size_t *len)
{
    size_t n = 0;
    j->p++;   /* opening quote */
    for (;;) {
        if (j->p >= j->end)
            return ds_json_fail(j, "unterminated string");
        unsigned char c = (unsigned char)*j->p;
        if (c == '"') {
            j->p++;
            break;
        }
        if (c < 0x20)
            return ds_json_fail(j, "control character in string");
        char enc[4];
        size_t enc_len = 1;
        if (c != '\\') {
            enc[0] = (char)c;
            j->p++;
        } else {
            if (j->end - j->p < 2)
                return ds_json_fail(j, "unterminated escape");
            char e = j->p[1];
            j->p += 2;
            switch (e) {
            case '"': enc[0] = '"'; break;
            case '\\': enc[0] = '\\'; break;
            case '/': enc[0] = '/'; break;
            case 'b': enc[0] = '\b'; break;
            case 'f': enc[0] = '\f'; break;
            case 'n': enc[0] = '\n'; break;
            case 'r': enc[0] = '\r'; break;
            case 't': enc[0] = '\t'; break;
            case 'u': {
                uint32_t cp, lo;
                if (j->end - j->p < 4 || hex4(j->p, &cp) != 0)
                    return ds_json_fail(j, "bad \\u escape");
                j->p += 4;
                if (cp >= 0xDC00 && cp <= 0xDFFF)
                    return ds_json_fail(j, "lone low surrogate in \\u escape");
                if (cp >= 0xD800 && cp <= 0xDBFF) {
                    if (j->end - j->p < 6 || j->p[0] != '\\' || j->p[1] != 'u' || hex4(j->p + 2, &lo) != 0 ||
                        lo < 0xDC00 || lo > 0xDFFF)
                        return ds_json_fail(j, "high surrogate not followed by a low one");
                    j->p += 6;
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                }
                if (cp == 0)
                    return ds_json_fail(j, "NUL character in string");
                if (cp < 0x80) {
                    enc[0] = (char)cp;
                } else if (cp < 0x800) {
                    enc[0] = (char)(0xC0 | (cp >> 6));
                    enc[1] = (char)(0x80 | (cp & 0x3F));
                    enc_len = 2;
                } else if (cp < 0x10000) {
                    enc[0] = (char)(0xE0 | (cp >> 12));
                    enc[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
                    enc[2] = (char)(0x80 | (cp & 0x3F));
                    enc_len = 3;
                } else {
                    enc[0] = (char)(0xF0 | (cp >> 18));
                    enc[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
                    enc[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
                    enc[3] = (char)(0x80 | (cp & 0x3F));
                    enc_len = 4;
                }
                break;
            }
            default:
                j->p -= 2;
                return ds_json_fail(j, "unknown escape in string");
            }
        }
        if (out && enc_len <= cap && n <= cap - enc_len)
            memcpy(out + n, enc, enc_len);
        n += enc_len;
    }
    *len = n;
    return DS_OK;
}

static ds_rc json_number(ds_json *j)
{
    const char *p = j->p;
    if (p < j->end && *p == '-')
        p++;
    if (p >= j->end || *p < '0' || *p > '9')
        return ds_json_fail(j, "bad number");
    while (p < j->end && *p >= '0' && *p <= '9')
        p++;
    if (p < j->end && *p == '.') {
        p++;
        if (p >= j->end || *p < '0' || *p > '9') {
            j->p = p;
            return ds_json_fail(j, "bad fraction in number");
        }
        while (p < j->end && *p >= '0' && *p <= '9')
            p++;
    }
    if (p < j->end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < j->end && (*p == '+' || *p == '-'))
            p++;
        if (p >= j->end || *p < '0' || *p > '9') {
            j->p = p;
            return ds_json_fail(j, "bad exponent in number");
        }
        while (p < j->end && *p >= '0' && *p <= '9')
            p++;
    }
    j->p = p;
    return DS_OK;
}

static ds_rc json_literal(ds_json *j, const char *word)
{
    size_t len = strlen(word);
    if ((size_t)(j->end - j->p) < len || memcmp(j->p, word, len) != 0)
        return ds_json_fail(j, "unexpected character");
    j->p += len;
    return DS_OK;
}

ds_rc ds_json_object(ds_json *j, int depth, ds_json_member_fn member, void *ctx)
{
    if (depth > DS_JSON_MAX_DEPTH)
        return ds_json_fail(j, "nesting deeper than 32 levels");
    j->p++;   /* '{' */
    ds_json_ws(j);
    if (j->p < j->end && *j->p == '}') {
        j->p++;
        return DS_OK;
    }
    for (;;) {
        ds_json_ws(j);
        if (j->p >= j->end || *j->p != '"')
            return ds_json_fail(j, "expected a member name");
        char key[32];
        size_t keylen;
        ds_rc rc = ds_json_string(j, key, sizeof key, &keylen);
        if (rc != DS_OK)
            return rc;
        ds_json_ws(j);
        if (j->p >= j->end || *j->p != ':')
            return ds_json_fail(j, "expected ':'");
        j->p++;
        ds_json_ws(j);
        /* A key longer than the buffer matches nothing we look for. */
        rc = member(j, key, keylen <= sizeof key ? keylen : 0, ctx, depth + 1);
        if (rc != DS_OK)
            return rc;
        ds_json_ws(j);
        if (j->p < j->end && *j->p == ',') {
            j->p++;
            continue;
        }
        if (j->p < j->end && *j->p == '}') {
            j->p++;
            return DS_OK;
        }
        return ds_json_fail(j, "expected ',' or '}'");
    }
}

ds_rc ds_json_array(ds_json *j, int depth, ds_json_elem_fn elem, void *ctx)
{
    if (depth > DS_JSON_MAX_DEPTH)
        return ds_json_fail(j, "nesting deeper than 32 levels");
    j->p++;   /* '[' */
    ds_json_ws(j);
    if (j->p < j->end && *j->p == ']') {
        j->p++;
        return DS_OK;
    }
    for (;;) {
        ds_json_ws(j);
        ds_rc rc = elem(j, ctx, depth + 1);
        if (rc != DS_OK)
            return rc;
        ds_json_ws(j);
        if (j->p < j->end && *j->p == ',') {
            j->p++;
            continue;
        }
        if (j->p < j->end && *j->p == ']') {
            j->p++;
            return DS_OK;
        }
        return ds_json_fail(j, "expected ',' or ']'");
    }
}

static ds_rc skip_member(ds_json *j, const char *key, size_t keylen, void *ctx, int depth)
{
    return ds_json_skip(j, depth);
}

static ds_rc skip_elem(ds_json *j, void *ctx, int depth)
{
    return ds_json_skip(j, depth);
}

ds_rc ds_json_skip(ds_json *j, int depth)
{
    if (j->p >= j->end)
        return ds_json_fail(j, "unexpected end of file");
    size_t len;
    switch (*j->p) {
    case '{': return ds_json_object(j, depth, skip_member, NULL);
    case '[': return ds_json_array(j, depth, skip_elem, NULL);
    case '"': return ds_json_string(j, NULL, 0, &len);
    case 't': return json_literal(j, "true");
    case 'f': return json_literal(j, "false");
    case 'n': return json_literal(j, "null");
    default: return json_number(j);
    }
}

ds_rc ds_json_end(ds_json *j)
{
    ds_json_ws(j);
    return j->p == j->end ? DS_OK : ds_json_fail(j, "trailing data after the JSON value");
}
