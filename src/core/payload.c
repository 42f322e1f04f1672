/* payload.c: the payload table of payload.h: parsing its text, and matching packets.
 *
 * Parsing is strict, as config.c is: a row the matcher would misread (an unknown tool or match,
 * a bad escape, a port out of range) is an error naming the file and line, not a silent skip,
 * because a pattern that silently never matches looks exactly like a tool that is not there.
 * Matching is a plain scan of the captured payload (patterns are short and few packets reach
 * this point); `length` compares the length on the wire, so a capture cut by its snap length
 * still matches.
 */
#include "core/payload.h"
#include "core/bytes.h"
#include "core/fingerprint.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void ds_payload_free(ds_payload_table *t) { free(t); }

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Unescape s[0..len) into r->pat; 0, or -1 with why. */
static int unescape(const char *s, size_t len, ds_payload_rule *r, const char **why)
{
    r->patlen = 0;
    for (size_t i = 0; i < len; i++) {
        int c = (unsigned char)s[i];
        if (c == '\\') {
            if (i + 1 >= len) {
                *why = "the pattern ends in a lone backslash";
                return -1;
            }
            char e = s[++i];
            if (e == 'x') {
                int h = i + 2 < len ? hexval(s[i + 1]) : -1, l = i + 2 < len ? hexval(s[i + 2]) : -1;
                if (h < 0 || l < 0) {
                    *why = "\\x needs two hex digits";
                    return -1;
                }
                c = h << 4 | l;
                i += 2;
            } else if (e == 't' || e == 'r' || e == 'n' || e == '\\') {
                c = e == 't' ? '\t' : e == 'r' ? '\r' : e == 'n' ? '\n' : '\\';
            } else {
                *why = "unknown escape (use \\xHH, \\t, \\r, \\n or \\\\)";
                return -1;
            }
        }
        if (r->patlen == DS_PAYLOAD_MAX_PATTERN) {
            *why = "the pattern is longer than 128 bytes";
            return -1;
        }
        r->pat[r->patlen++] = (uint8_t)c;
    }
    if (!r->patlen) {
        *why = "the pattern is empty";
        return -1;
    }
    return 0;
}

/* A whole decimal number of s[0..len) into *v (at most max); 0 or -1. */
static int number(const char *s, size_t len, uint32_t max, uint32_t *v)
{
    uint64_t n = 0;
    if (!len || len > 10)
        return -1;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        n = n * 10 + (uint64_t)(s[i] - '0');
    }
    if (n > max)
        return -1;
    *v = (uint32_t)n;
    return 0;
}

static int field_is(const char *f, size_t len, const char *word)
{
    return strlen(word) == len && strncasecmp(f, word, len) == 0;
}

/* One row: fields f[0..5] (lengths fl). 0, or -1 with why. */
static int parse_row(const char *const f[6], const size_t fl[6], ds_payload_rule *r, const char **why)
{
    char tool[32];
    memset(r, 0, sizeof *r);
    if (fl[0] >= sizeof tool) {
        *why = "unknown tool";
        return -1;
    }
    memcpy(tool, f[0], fl[0]);
    tool[fl[0]] = 0;
    r->tool = ds_tool_parse(tool);
    if (!(r->tool & DS_TOOL__PAYLOAD)) {
        *why = "unknown tool (a payload tool of core/fingerprint.h: sipvicious, sip-other, slammer, nachi)";
        return -1;
    }
    if (field_is(f[1], fl[1], "tcp"))
        r->proto = 6;
    else if (field_is(f[1], fl[1], "udp"))
        r->proto = 17;
    else if (field_is(f[1], fl[1], "icmp"))
        r->proto = 1;
    else if (field_is(f[1], fl[1], "icmp6"))
        r->proto = 58;
    else {
        *why = "protocol is not tcp, udp, icmp or icmp6";
        return -1;
    }
    uint32_t port;
    if (fl[2] == 1 && f[2][0] == '*')
        r->port = -1;
    else if (number(f[2], fl[2], r->proto == 6 || r->proto == 17 ? 65535 : 255, &port) == 0)
        r->port = (int32_t)port;
    else {
        *why = "port is not a number in range (a port, an ICMP type, or *)";
        return -1;
    }
    if (field_is(f[3], fl[3], "contains"))
        r->match = DS_PM_CONTAINS;
    else if (field_is(f[3], fl[3], "icontains"))
        r->match = DS_PM_ICONTAINS;
    else if (field_is(f[3], fl[3], "sip-icontains"))
        r->match = DS_PM_SIP_ICONTAINS;
    else if (field_is(f[3], fl[3], "prefix"))
        r->match = DS_PM_PREFIX;
    else if (field_is(f[3], fl[3], "length"))
        r->match = DS_PM_LENGTH;
    else if (field_is(f[3], fl[3], "fill"))
        r->match = DS_PM_FILL;
    else {
        *why = "match is not contains, icontains, sip-icontains, prefix, length or fill";
        return -1;
    }
    if (r->match == DS_PM_LENGTH) {
        if (number(f[4], fl[4], 65535, &r->n) != 0 || !r->n) {
            *why = "a length pattern is a byte count from 1 to 65535";
            return -1;
        }
        return 0;
    }
    if (r->match == DS_PM_FILL) {   /* 0xBB/N */
        const char *s = f[4];
        size_t l = fl[4];
        int h = l > 4 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') ? hexval(s[2]) : -1;
        int lo = h >= 0 ? hexval(s[3]) : -1;
        if (h < 0 || lo < 0 || s[4] != '/' || number(s + 5, l - 5, 65535, &r->n) != 0 || !r->n) {
            *why = "a fill pattern is 0xBB/N (every byte BB, at least N of them)";
            return -1;
        }
        r->fill = (uint8_t)(h << 4 | lo);
        return 0;
    }
    if (unescape(f[4], fl[4], r, why) != 0)
        return -1;
    if (r->match == DS_PM_ICONTAINS || r->match == DS_PM_SIP_ICONTAINS)
        for (uint32_t i = 0; i < r->patlen; i++)
            if (r->pat[i] >= 'A' && r->pat[i] <= 'Z')
                r->pat[i] = (uint8_t)(r->pat[i] - 'A' + 'a');
    return 0;
}

ds_rc ds_payload_parse(const char *text, size_t len, const char *name, ds_payload_table **out, ds_err *err)
{
    ds_rc rc = DS_OK;
    ds_payload_table *t = calloc(1, sizeof *t);
    if (!t)
        return ds_fail(err, DS_ENOMEM, "out of memory reading %s", name);
    size_t pos = 0;
    for (int line = 1; pos < len; line++) {
        const char *s = text + pos;
        size_t left = len - pos, l = 0;
        while (l < left && s[l] != '\n')
            l++;
        pos += l < left ? l + 1 : l;
        size_t end = l;
        if (end && s[end - 1] == '\r')
            end--;
        size_t k = 0;
        while (k < end && (s[k] == ' ' || s[k] == '\t'))
            k++;
        if (k == end || s[k] == '#')
            continue;
        const char *f[6];
        size_t fl[6], nf = 0, start = 0;
        for (size_t i = 0; i <= end && nf < 6; i++) {
            if (i == end || s[i] == '\t') {
                f[nf] = s + start;
                fl[nf] = i - start;
                nf++;
                start = i + 1;
            }
        }
        if (nf < 5) {
            rc = ds_fail(err, DS_EFORMAT, "%s:%d: expected tool, proto, port, match, pattern (and source) separated "
                         "by tabs; found %zu field%s", name, line, nf, nf == 1 ? "" : "s");
            goto out;
        }
        if (t->n == DS_PAYLOAD_MAX_RULES) {
            rc = ds_fail(err, DS_EFORMAT, "%s:%d: more than %d rules", name, line, DS_PAYLOAD_MAX_RULES);
            goto out;
        }
        const char *why = NULL;
        ds_payload_rule *r = &t->rules[t->n];
        if (parse_row(f, fl, r, &why) != 0) {
            rc = ds_fail(err, DS_EFORMAT, "%s:%d: %s", name, line, why);
            goto out;
        }
        t->n++;
        int pi = ds_payload_proto_index(r->proto);
        if (r->port < 0)
            memset(t->ports[pi], 0xff, sizeof t->ports[pi]);
        else
            t->ports[pi][r->port >> 3] |= (uint8_t)(1u << (r->port & 7));
    }
    *out = t;
    t = NULL;
out:
    free(t);
    return rc;
}

/* The pattern at p, ASCII letters folded (pat is lower case already). */
static int equal_fold(const uint8_t *p, const uint8_t *pat, size_t m)
{
    for (size_t j = 0; j < m; j++) {
        uint8_t c = p[j];
        if (c >= 'A' && c <= 'Z')
            c = (uint8_t)(c - 'A' + 'a');
        if (c != pat[j])
            return 0;
    }
    return 1;
}

/* Does p[0..n) hold pat[0..m)?  memchr finds the candidates for the first byte (both cases when
 * folding), so a packet costs a few vectorised scans rather than a compare at every offset. */
static int has_bytes(const uint8_t *p, size_t n, const uint8_t *pat, size_t m, int fold)
{
    if (m > n)
        return 0;
    if (!fold)
        return memmem(p, n, pat, m) != NULL;
    int first[2] = { pat[0], pat[0] >= 'a' && pat[0] <= 'z' ? pat[0] - 'a' + 'A' : -1 };
    for (int k = 0; k < 2 && first[k] >= 0; k++) {
        size_t off = 0, last = n - m;   /* candidates at offsets 0..last */
        while (off <= last) {
            const uint8_t *c = memchr(p + off, first[k], last - off + 1);
            if (!c)
                break;
            if (equal_fold(c, pat, m))
                return 1;
            off = (size_t)(c - p) + 1;
        }
    }
    return 0;
}

/* RFC 3261 section 25.1: token = 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~") */
static int sip_token_char(uint8_t c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c && strchr("-.!%*_+`'~", c) != NULL);
}

int ds_payload_sip_request(const uint8_t *p, size_t n)
{
    ds_cur c = ds_cur_make(p, n);
    size_t i = 0, m = 0;
    while (i < n && (ds_peek_u8(&c, i) == '\r' || ds_peek_u8(&c, i) == '\n'))   /* section 7.5 */
        i++;
    while (i < n && sip_token_char(ds_peek_u8(&c, i))) {   /* Method */
        i++;
        m++;
    }
    if (!m || i >= n || ds_peek_u8(&c, i++) != ' ')
        return 0;
    size_t uri = 0;   /* Request-URI: no SP, CR or LF in it */
    for (uint8_t b; i < n && (b = ds_peek_u8(&c, i)) != ' ' && b != '\r' && b != '\n'; i++)
        uri++;
    if (!uri || i >= n || ds_peek_u8(&c, i++) != ' ')
        return 0;
    static const char version[] = "SIP/2.0";
    for (size_t k = 0; k < sizeof version - 1; k++, i++) {
        uint8_t b = ds_peek_u8(&c, i);
        if (b >= 'a' && b <= 'z')   /* the version is case-insensitive (section 7.1) */
            b = (uint8_t)(b - 'a' + 'A');
        if (!ds_cur_ok(&c) || b != (uint8_t)version[k])
            return 0;
    }
    uint8_t end = ds_peek_u8(&c, i);
    return ds_cur_ok(&c) && (end == '\r' || end == '\n');
}

static int rule_matches(const ds_payload_rule *r, const ds_pkt *p)
{
    const uint8_t *b = p->payload;
    size_t n = p->payload_len;
    switch (r->match) {
    case DS_PM_CONTAINS: return has_bytes(b, n, r->pat, r->patlen, 0);
    case DS_PM_ICONTAINS: return has_bytes(b, n, r->pat, r->patlen, 1);
    case DS_PM_SIP_ICONTAINS: return ds_payload_sip_request(b, n) && has_bytes(b, n, r->pat, r->patlen, 1);
    case DS_PM_PREFIX: return n >= r->patlen && memcmp(b, r->pat, r->patlen) == 0;
    case DS_PM_LENGTH: {
        /* on the wire: what the snap length cut off counts too */
        uint64_t wire = (uint64_t)n + (p->wirelen > p->caplen ? p->wirelen - p->caplen : 0);
        return wire == r->n;
    }
    case DS_PM_FILL:
        if (n < r->n)
            return 0;
        for (size_t i = 0; i < n; i++)
            if (b[i] != r->fill)
                return 0;
        return 1;
    }
    return 0;
}

unsigned ds_payload_match_rules(const ds_payload_table *t, const ds_pkt *p, unsigned known)
{
    unsigned hit = known;   /* tools already attributed need no second match */
    int icmp = p->proto == 1 || p->proto == 58;
    int32_t port = icmp ? p->icmp_type : p->dport;
    for (size_t i = 0; i < t->n; i++) {
        const ds_payload_rule *r = &t->rules[i];
        if (r->proto != p->proto || (r->port >= 0 && r->port != port) || (hit & r->tool))
            continue;
        if (rule_matches(r, p))
            hit |= r->tool;
    }
    return hit & ~known;
}
