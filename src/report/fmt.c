/* fmt.c: escaped text and the output buffer for published reports (numbers and dates are
 * util/textfmt.c).
 *
 * The escapers walk the string once, copying runs of bytes that need nothing and writing a
 * replacement for the rest.  UTF-8 is decoded by RFC 3629's table of well-formed sequences, and
 * each maximal invalid subpart becomes one U+FFFD, as Unicode 15 section 3.9 ("U+FFFD
 * Substitution of Maximal Subparts") recommends, so a browser, a JSON parser and a Markdown
 * renderer all see the same valid text.  JSON follows RFC 8259 section 7, HTML the HTML Living
 * Standard's text and attribute rules, Markdown the GFM spec's tables and backslash escapes,
 * base64 RFC 4648 section 4.
 *
 * ds_out keeps a sticky failure flag like SQLite's StrAccum and curl's dynbuf: one check at the
 * end instead of one after every append, and a hard maximum so a runaway report cannot eat the
 * machine's memory.  ds_out_write_file hands the buffer to util/atomic_file.c, which replaces a
 * file atomically (temporary file in the same directory, fsync, rename), as curl does for its
 * cookie jar, so a reader never sees half a report, and writes through a device or FIFO.
 */
#include "report/fmt.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/atomic_file.h"
#include "util/base64.h"
#include "util/timeutil.h"

#define UTF8_REPLACEMENT "\xef\xbf\xbd"   /* U+FFFD */

/* ---- output buffer ----------------------------------------------------------------------- */

void ds_out_init(ds_out *o, size_t max)
{
    o->p = NULL;
    o->len = o->cap = 0;
    o->max = max ? max : DS_OUT_DEFAULT_MAX;
    o->failed = 0;
}

void ds_out_free(ds_out *o)
{
    free(o->p);
    ds_out_init(o, o->max);
}

/* Room for n more bytes plus the NUL; returns where they go, or NULL (and sets failed). */
static char *out_reserve(ds_out *o, size_t n)
{
    if (o->failed)
        return NULL;
    size_t max = o->max ? o->max : DS_OUT_DEFAULT_MAX;
    if (max > SIZE_MAX / 2)
        max = SIZE_MAX / 2;   /* so that len + n + 1 and max + 1 cannot wrap */
    if (o->len > max || n > max - o->len)
        goto fail;
    size_t need = o->len + n + 1;   /* cannot overflow: len + n <= max < SIZE_MAX */
    if (need > o->cap) {
        size_t cap = o->cap ? o->cap : 256;
        while (cap < need)
            cap = cap > SIZE_MAX / 2 ? need : cap * 2;
        if (cap > max + 1 && max + 1 >= need)
            cap = max + 1;
        char *np = realloc(o->p, cap);
        if (!np)
            goto fail;
        o->p = np;
        o->cap = cap;
    }
    return o->p + o->len;
fail:
    o->failed = 1;
    return NULL;
}

void ds_out_putn(ds_out *o, const char *s, size_t n)
{
    char *w = out_reserve(o, n);
    if (!w)
        return;
    if (n)
        memcpy(w, s, n);
    o->len += n;
    o->p[o->len] = '\0';
}

void ds_out_puts(ds_out *o, const char *s)
{
    if (s)
        ds_out_putn(o, s, strlen(s));
}

void ds_out_printf(ds_out *o, const char *fmt, ...)
{
    if (o->failed)
        return;
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) {
        o->failed = 1;
        return;
    }
    if ((size_t)n < sizeof small) {
        ds_out_putn(o, small, (size_t)n);
        return;
    }
    char *w = out_reserve(o, (size_t)n);
    if (!w)
        return;
    va_start(ap, fmt);
    vsnprintf(w, (size_t)n + 1, fmt, ap);
    va_end(ap);
    o->len += (size_t)n;
}

/* Decodes one character of s[0..n) (n >= 1).  Returns the bytes it takes; *bad is set for an
 * ill-formed sequence, which then covers its maximal subpart (at least one byte). */
static size_t utf8_next(const unsigned char *s, size_t n, uint32_t *cp, int *bad)
{
    unsigned c = s[0];
    *bad = 0;
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    size_t need;
    uint32_t v;
    unsigned lo = 0x80, hi = 0xBF;   /* allowed range of the second byte (RFC 3629, 4) */
    if (c >= 0xC2 && c <= 0xDF) {
        need = 1;
        v = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        need = 2;
        v = c & 0x0F;
        if (c == 0xE0)
            lo = 0xA0;          /* no overlong forms */
        else if (c == 0xED)
            hi = 0x9F;          /* no surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 3;
        v = c & 0x07;
        if (c == 0xF0)
            lo = 0x90;
        else if (c == 0xF4)
            hi = 0x8F;          /* nothing above U+10FFFF */
    } else {
        *bad = 1;
        *cp = 0xFFFD;
        return 1;
    }
    for (size_t i = 1; i <= need; i++) {
        if (i >= n || s[i] < lo || s[i] > hi) {
            *bad = 1;
            *cp = 0xFFFD;
            return i;
        }
        v = v << 6 | (s[i] & 0x3Fu);
        lo = 0x80;
        hi = 0xBF;
    }
    *cp = v;
    return need + 1;
}

/* What to write instead of one character, or NULL to copy it.  next is the byte after it. */
typedef const char *(*escape_fn)(uint32_t cp, int bad, unsigned char next, char tmp[16]);

static void out_escaped(ds_out *o, const char *s, escape_fn esc)
{
    if (!s || o->failed)
        return;
    const unsigned char *u = (const unsigned char *)s;
    size_t n = strlen(s), i = 0, run = 0;
    char tmp[16];
    while (i < n) {
        uint32_t cp;
        int bad;
        size_t adv = utf8_next(u + i, n - i, &cp, &bad);
        const char *rep = esc(cp, bad, i + adv < n ? u[i + adv] : 0, tmp);
        if (rep) {
            ds_out_putn(o, s + run, i - run);
            ds_out_puts(o, rep);
            run = i + adv;
        }
        i += adv;
    }
    ds_out_putn(o, s + run, n - run);
}

static int is_control(uint32_t cp)
{
    return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F);
}

static const char *esc_html(uint32_t cp, int bad, unsigned char next, char tmp[16])
{
    switch (cp) {
    case '&': return "&amp;";
    case '<': return "&lt;";
    case '>': return "&gt;";
    case '"': return "&quot;";
    case '\'': return "&#39;";
    case '\t': case '\n': case '\r': return NULL;
    }
    return bad || is_control(cp) ? UTF8_REPLACEMENT : NULL;
}

void ds_out_html(ds_out *o, const char *s)
{
    out_escaped(o, s, esc_html);
}

static const char *esc_json(uint32_t cp, int bad, unsigned char next, char tmp[16])
{
    if (bad)
        return UTF8_REPLACEMENT;
    switch (cp) {
    case '"': return "\\\"";
    case '\\': return "\\\\";
    case '\b': return "\\b";
    case '\f': return "\\f";
    case '\n': return "\\n";
    case '\r': return "\\r";
    case '\t': return "\\t";
    case '<': return "\\u003c";
    case '>': return "\\u003e";
    case '&': return "\\u0026";
    case 0x2028: return "\\u2028";
    case 0x2029: return "\\u2029";
    }
    if (cp < 0x20) {
        snprintf(tmp, 16, "\\u%04x", (unsigned)cp);
        return tmp;
    }
    return NULL;
}

void ds_out_json_str(ds_out *o, const char *s)
{
    ds_out_putn(o, "\"", 1);
    out_escaped(o, s, esc_json);
    ds_out_putn(o, "\"", 1);
}

static const char *esc_md(uint32_t cp, int bad, unsigned char next, char tmp[16])
{
    if (bad)
        return UTF8_REPLACEMENT;
    switch (cp) {
    case '\\': case '`': case '*': case '_': case '[': case ']':
    case '<': case '>': case '|': case '~': case '&':
        tmp[0] = '\\';
        tmp[1] = (char)cp;
        tmp[2] = '\0';
        return tmp;
    case '\n': return "<br>";
    case '\r': return next == '\n' ? "" : "<br>";
    case '\t': return " ";
    }
    return is_control(cp) ? UTF8_REPLACEMENT : NULL;
}

void ds_out_md(ds_out *o, const char *s)
{
    out_escaped(o, s, esc_md);
}

void ds_out_base64(ds_out *o, const unsigned char *p, size_t n)
{
    size_t groups = n / 3 + (n % 3 != 0);
    if (groups > SIZE_MAX / 4) {
        o->failed = 1;
        return;
    }
    size_t len = groups * 4;
    char *w = out_reserve(o, len);
    if (!w)
        return;
    w[ds_base64_encode(p, n, w)] = '\0';
    o->len += len;
}

/* ---- atomic file write ------------------------------------------------------------------- */

ds_rc ds_out_write_file(const ds_out *o, const char *path, ds_err *err)
{
    if (!path || !*path)
        return ds_fail(err, DS_EINVAL, "no output file name given");
    if (o->failed)
        return ds_fail(err, DS_ENOMEM, "'%s' was not written: the output passed its %zu-byte maximum "
                       "or memory ran out", path, o->max ? o->max : DS_OUT_DEFAULT_MAX);
    return ds_afile_write_file(path, o->p, o->len, 0644, 0, err);
}
