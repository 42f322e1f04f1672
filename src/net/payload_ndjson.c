/* payload_ndjson.c: a sensor's pay-<seq>.jsonl into ds_payload rows (see payload_ndjson.h).
 *
 * The format is what record_payload (src/net/responder.c) writes: one JSON object (RFC 8259) per
 * line, NDJSON, each a scanner's first payload: ts_ns, src, sport, dst, dport, seq, len and
 * payload_b64 (RFC 4648 section 4 base64 with padding).  The syntax is util/json.c's validating
 * reader, run over one line at a time (its end is the line's end, so no value can run into the
 * next line and every message names the line).  Here we add what the rows need: integers in
 * range with no sign, fraction or leading zero; addresses that inet_pton accepts, kept in
 * inet_ntop's canonical text; strict padded base64; every member exactly once.
 *
 * Memory: the input is untrusted (it arrives over the network), so every buffer is sized from
 * what we already hold.  The decoded payloads of all rows go into one arena of len bytes: base64
 * decodes to 3 bytes per 4 characters, JSON escapes only shrink text, and the rows' payload_b64
 * strings are disjoint parts of the body, so the arena cannot be outgrown (ds_base64_decode still
 * checks).  One payload's JSON-decoded text is held in a buffer the size of the base64 of
 * DS_PAYLOAD_MAX bytes; a longer string is refused, not truncated.
 */
#include "net/payload_ndjson.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/base64.h"
#include "util/grow.h"
#include "util/json.h"

enum {
    PF_TS = 1u << 0, PF_SRC = 1u << 1, PF_SPORT = 1u << 2, PF_DST = 1u << 3, PF_DPORT = 1u << 4,
    PF_SEQ = 1u << 5, PF_LEN = 1u << 6, PF_B64 = 1u << 7, PF_ALL = (1u << 8) - 1,
};

typedef struct pay_parse {
    ds_payload *p;                  /* the row being read */
    unsigned seen;                  /* PF_* */
    char *text;                     /* payload_b64 as decoded from JSON */
    size_t text_cap;
    uint8_t *arena;                 /* decoded payload bytes of every row */
    size_t arena_cap, arena_used;
    uint64_t len;
} pay_parse;

/* A JSON number that must be an integer in [0, max]: digits only, no leading zero. */
static ds_rc json_uint(ds_json *j, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;
    const char *p = j->p;
    if (p >= j->end || *p < '0' || *p > '9')
        return ds_json_fail(j, "expected an unsigned integer");
    if (*p == '0' && j->end - p > 1 && p[1] >= '0' && p[1] <= '9')
        return ds_json_fail(j, "leading zero in a number");
    for (; p < j->end && *p >= '0' && *p <= '9'; p++) {
        unsigned d = (unsigned)(*p - '0');
        if (v > (max - d) / 10)   /* v * 10 + d > max, without overflowing (every max >= 9) */
            return ds_json_fail(j, "number out of range");
        v = v * 10 + d;
    }
    if (p < j->end && (*p == '.' || *p == 'e' || *p == 'E'))
        return ds_json_fail(j, "expected an unsigned integer");
    j->p = p;
    *out = v;
    return DS_OK;
}

/* An IPv4 or IPv6 address string, kept in its canonical text form. */
static ds_rc json_addr(ds_json *j, char out[DS_PAYLOAD_ADDRLEN])
{
    char buf[64];
    size_t len;
    uint8_t a[16];
    const char *at = j->p;
    if (j->p >= j->end || *j->p != '"')
        return ds_json_fail(j, "expected an address string");
    ds_rc rc = ds_json_string(j, buf, sizeof buf - 1, &len);
    if (rc != DS_OK)
        return rc;
    /* len is the whole decoded length; buf holds at most sizeof buf - 1 bytes of it */
    if (len >= sizeof buf - 1 || memchr(buf, 0, len)) {
        j->p = at;
        return ds_json_fail(j, "not an IPv4 or IPv6 address");
    }
    buf[len] = 0;
    if (inet_pton(AF_INET, buf, a) == 1 ? !inet_ntop(AF_INET, a, out, DS_PAYLOAD_ADDRLEN)
        : inet_pton(AF_INET6, buf, a) == 1 ? !inet_ntop(AF_INET6, a, out, DS_PAYLOAD_ADDRLEN) : 1) {
        j->p = at;
        return ds_json_fail(j, "not an IPv4 or IPv6 address");
    }
    return DS_OK;
}

static ds_rc pay_member(ds_json *j, const char *key, size_t keylen, void *ctx, int depth)
{
    pay_parse *pp = ctx;
    ds_payload *p = pp->p;
    static const struct { const char *name; unsigned bit; } keys[] = {
        { "ts_ns", PF_TS }, { "src", PF_SRC }, { "sport", PF_SPORT }, { "dst", PF_DST }, { "dport", PF_DPORT },
        { "seq", PF_SEQ }, { "len", PF_LEN }, { "payload_b64", PF_B64 },
    };
    unsigned bit = 0;
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (keylen == strlen(keys[i].name) && memcmp(key, keys[i].name, keylen) == 0)
            bit = keys[i].bit;
    if (!bit)
        return ds_json_skip(j, depth);   /* a member a newer sensor adds */
    if (pp->seen & bit)
        return ds_json_fail(j, "member given twice");
    pp->seen |= bit;
    uint64_t v = 0;
    ds_rc rc = DS_OK;
    switch (bit) {
    case PF_TS:
        if ((rc = json_uint(j, INT64_MAX, &v)) == DS_OK)
            p->ts_ns = v;
        break;
    case PF_SRC: return json_addr(j, p->src);
    case PF_DST: return json_addr(j, p->dst);
    case PF_SPORT:
    case PF_DPORT:
        if ((rc = json_uint(j, 65535, &v)) == DS_OK)
            *(bit == PF_SPORT ? &p->sport : &p->dport) = (uint16_t)v;
        break;
    case PF_SEQ:
        if ((rc = json_uint(j, UINT32_MAX, &v)) == DS_OK)
            p->tcp_seq = (uint32_t)v;
        break;
    case PF_LEN:
        if ((rc = json_uint(j, UINT32_MAX, &v)) == DS_OK)
            pp->len = v;
        break;
    case PF_B64: {
        size_t len;
        const char *at = j->p;
        if (j->p >= j->end || *j->p != '"')
            return ds_json_fail(j, "payload_b64: expected a string");
        if ((rc = ds_json_string(j, pp->text, pp->text_cap, &len)) != DS_OK)
            return rc;
        if (len > pp->text_cap) {   /* text_cap is the base64 length of DS_PAYLOAD_MAX bytes */
            j->p = at;
            return ds_json_fail(j, "payload_b64: more than 65535 bytes");
        }
        long n = ds_base64_decode(pp->text, len, pp->arena + pp->arena_used, pp->arena_cap - pp->arena_used);
        if (n < 0 || (size_t)n > DS_PAYLOAD_MAX) {
            j->p = at;
            return ds_json_fail(j, n < 0 ? "payload_b64: not padded base64 (RFC 4648)" : "payload_b64: more than 65535 bytes");
        }
        p->data = pp->arena + pp->arena_used;
        p->data_len = (size_t)n;
        pp->arena_used += (size_t)n;
        break;
    }
    default:
        break;
    }
    return rc;
}

/* One non-blank line (j positioned at its first non-space byte) into *p. */
static ds_rc parse_line(ds_json *j, pay_parse *pp, ds_payload *p)
{
    static const char *const names[] = { "ts_ns", "src", "sport", "dst", "dport", "seq", "len", "payload_b64" };
    const char *line = j->start;
    ds_rc rc;
    if (*j->p != '{')
        return ds_json_fail(j, "expected a JSON object");
    memset(p, 0, sizeof *p);
    p->proto = 6;   /* --respond syn answers TCP only */
    pp->p = p;
    pp->seen = 0;
    pp->len = 0;
    if ((rc = ds_json_object(j, 0, pay_member, pp)) != DS_OK || (rc = ds_json_end(j)) != DS_OK)
        return rc;
    if ((pp->seen & PF_ALL) != PF_ALL) {
        unsigned missing = PF_ALL & ~pp->seen;
        int b = 0;
        while (!(missing & (1u << b)))
            b++;
        char what[64];
        snprintf(what, sizeof what, "member %s missing", names[b]);
        j->p = line;
        return ds_json_fail(j, what);
    }
    if (pp->len < p->data_len) {
        j->p = line;
        return ds_json_fail(j, "len is smaller than the payload");
    }
    p->len = (uint32_t)pp->len;
    return DS_OK;
}

ds_rc ds_payload_ndjson_parse(const char *body, size_t len, ds_payload_file *out, ds_err *err)
{
    pay_parse pp = { 0 };
    ds_payload *rows = NULL;
    size_t cap = 0, n = 0, lineno = 0;
    ds_rc rc = DS_ENOMEM;
    char where[48];
    out->rows = NULL;
    out->n = 0;
    out->arena = NULL;
    pp.text_cap = (DS_PAYLOAD_MAX + 2) / 3 * 4;
    pp.arena_cap = len;
    if (!(pp.text = malloc(pp.text_cap)) || !(pp.arena = malloc(pp.arena_cap ? pp.arena_cap : 1))) {
        rc = ds_fail(err, DS_ENOMEM, "out of memory");
        goto out;
    }
    const char *end = len ? body + len : body;
    for (const char *line = body; line != end;) {
        const char *nl = memchr(line, '\n', (size_t)(end - line));
        const char *stop = nl ? nl : end;
        lineno++;
        snprintf(where, sizeof where, "line %zu", lineno);
        ds_json j = { .start = line, .p = line, .end = stop, .path = where, .err = err };
        ds_json_ws(&j);   /* a CR before the LF is white space, as is a blank line */
        if (j.p < j.end) {
            /* rows grow with the lines that hold objects (each ~90 bytes or more), so blank
             * lines cost no memory */
            if (n == cap) {
                ds_payload *more = ds_grow(rows, &cap, sizeof *rows, 64);
                if (!more) {
                    rc = ds_fail(err, DS_ENOMEM, "out of memory");
                    goto out;
                }
                rows = more;
            }
            if ((rc = parse_line(&j, &pp, &rows[n])) != DS_OK)
                goto out;
            n++;
        }
        if (!nl)
            break;
        line = nl + 1;
    }
    out->rows = rows;
    out->n = n;
    out->arena = pp.arena;
    rows = NULL;
    pp.arena = NULL;
    rc = DS_OK;
out:
    free(rows);
    free(pp.text);
    free(pp.arena);
    return rc;
}

void ds_payload_file_free(ds_payload_file *f)
{
    if (!f)
        return;
    free(f->rows);
    free(f->arena);
    f->rows = NULL;
    f->arena = NULL;
    f->n = 0;
}
