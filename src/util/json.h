/* json.h: a small validating JSON reader (RFC 8259) for the data files darkscope reads:
 * Debian's iso-codes (report/names.c) and MISP warninglists (analysis/research.c).
 *
 * Recursive descent over a buffer in memory, driven by callbacks: ds_json_object calls a member
 * function positioned at each value, ds_json_array an element function; each must consume the
 * value (ds_json_skip does so for the ones it ignores).  The whole document's syntax is checked,
 * so a truncated or unbalanced file is an error naming the file and the byte offset, never a
 * half-read one.  Nesting is limited to DS_JSON_MAX_DEPTH levels, so hostile input cannot
 * exhaust the stack.  Strings are decoded (escapes, surrogate pairs) into the caller's buffer;
 * raw bytes >= 0x80 are copied as they are, for the caller to check as UTF-8.
 */
#ifndef DS_JSON_H
#define DS_JSON_H
#include <stddef.h>
#include <stdint.h>

#include "util/result.h"

#define DS_JSON_MAX_DEPTH 32

typedef struct ds_json {
    const char *start, *p, *end;
    const char *path;      /* for messages */
    ds_err *err;
    const char *context;   /* put before every message ("not a warninglist: "), or NULL */
} ds_json;

/* Fail at the current position: "PATH: CONTEXTwhat at byte N" (DS_EFORMAT). */
ds_rc ds_json_fail(ds_json *j, const char *what);
void ds_json_ws(ds_json *j);
/* The string at j->p (which must be '"').  Decoded bytes go to out (cap bytes; NULL only
 * validates); *len gets the full decoded length, which may exceed cap (out then holds a prefix). */
ds_rc ds_json_string(ds_json *j, char *out, size_t cap, size_t *len);

typedef ds_rc (*ds_json_member_fn)(ds_json *j, const char *key, size_t keylen, void *ctx, int depth);
typedef ds_rc (*ds_json_elem_fn)(ds_json *j, void *ctx, int depth);
/* The object / array at j->p; keys longer than 32 bytes reach member() with keylen 0. */
ds_rc ds_json_object(ds_json *j, int depth, ds_json_member_fn member, void *ctx);
ds_rc ds_json_array(ds_json *j, int depth, ds_json_elem_fn elem, void *ctx);
/* Any value at j->p, validated and passed over. */
ds_rc ds_json_skip(ds_json *j, int depth);
/* Only white space may follow the value. */
ds_rc ds_json_end(ds_json *j);

#endif
