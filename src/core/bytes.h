/* bytes.h: bounds-checked reads of packet bytes.
 *
 * Every byte taken off the wire goes through a ds_cur.  A cursor knows how many captured bytes
 * remain; every read checks `n > cur->left` (which cannot overflow) before touching memory and
 * sets cur->err instead of reading past the end.  Decoders test ds_cur_ok() once after a run
 * of reads, as tcpdump's GET_ macros let a printer bail out, but without longjmp.
 */
#ifndef DS_BYTES_H
#define DS_BYTES_H
#include <stddef.h>
#include <stdint.h>

typedef struct ds_cur {
    const uint8_t *p;   /* next unread byte */
    size_t left;        /* captured bytes from p on */
    int err;            /* set once any read ran past the end; sticky */
} ds_cur;

static inline ds_cur ds_cur_make(const uint8_t *p, size_t len)
{
    ds_cur c = { p, len, 0 };
    return c;
}
static inline int ds_cur_ok(const ds_cur *c) { return !c->err; }
static inline int ds_cur_has(const ds_cur *c, size_t n) { return !c->err && n <= c->left; }

/* Reads at offset `off` from the cursor position without advancing. */
static inline uint8_t ds_peek_u8(ds_cur *c, size_t off)
{
    if (c->err || off >= c->left) { c->err = 1; return 0; }
    return c->p[off];
}
static inline uint16_t ds_peek_be16(ds_cur *c, size_t off)
{
    if (c->err || off > c->left || 2 > c->left - off) { c->err = 1; return 0; }
    return (uint16_t)((uint16_t)c->p[off] << 8 | c->p[off + 1]);
}
static inline uint16_t ds_peek_le16(ds_cur *c, size_t off)
{
    if (c->err || off > c->left || 2 > c->left - off) { c->err = 1; return 0; }
    return (uint16_t)((uint16_t)c->p[off + 1] << 8 | c->p[off]);
}
static inline uint32_t ds_peek_be32(ds_cur *c, size_t off)
{
    if (c->err || off > c->left || 4 > c->left - off) { c->err = 1; return 0; }
    return (uint32_t)c->p[off] << 24 | (uint32_t)c->p[off + 1] << 16 | (uint32_t)c->p[off + 2] << 8 | c->p[off + 3];
}
static inline uint32_t ds_peek_le32(ds_cur *c, size_t off)
{
    if (c->err || off > c->left || 4 > c->left - off) { c->err = 1; return 0; }
    return (uint32_t)c->p[off + 3] << 24 | (uint32_t)c->p[off + 2] << 16 | (uint32_t)c->p[off + 1] << 8 | c->p[off];
}
/* Copy n bytes at off into dst (zero-filled on failure). */
static inline void ds_peek_bytes(ds_cur *c, size_t off, void *dst, size_t n)
{
    if (c->err || off > c->left || n > c->left - off) {
        c->err = 1;
        for (size_t i = 0; i < n; i++) ((uint8_t *)dst)[i] = 0;
        return;
    }
    for (size_t i = 0; i < n; i++) ((uint8_t *)dst)[i] = c->p[off + i];
}
/* Advance by n bytes; fails (sticky) if fewer remain. */
static inline int ds_cur_skip(ds_cur *c, size_t n)
{
    if (c->err || n > c->left) { c->err = 1; return 0; }
    c->p += n;
    c->left -= n;
    return 1;
}
/* Limit the cursor to n bytes (e.g. to an IP total length); never grows it. */
static inline void ds_cur_limit(ds_cur *c, size_t n)
{
    if (n < c->left) c->left = n;
}

#endif
