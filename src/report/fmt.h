/* fmt.h: escaped text and an output buffer for published reports (HTML, Markdown, JSON).
 * Numbers and dates (ds_fmt_count, ds_fmt_day, ...) are in util/textfmt.h, included here.
 *
 * ds_out is an append-only output buffer with a hard maximum and a sticky failure flag, in the
 * manner of SQLite's StrAccum and curl's dynbuf: renderers append freely and check o->failed
 * once at the end (ds_out_write_file refuses a failed buffer).
 */
#ifndef DS_REPORT_FMT_H
#define DS_REPORT_FMT_H
#include <stddef.h>
#include <stdint.h>

#include "util/result.h"
#include "util/textfmt.h"

/* ---- output buffer ----------------------------------------------------------------------- */

#define DS_OUT_DEFAULT_MAX ((size_t)256 << 20)   /* 256 MiB */

/* p is NUL-terminated whenever it is not NULL; len excludes the NUL; max bounds len. */
typedef struct ds_out { char *p; size_t len, cap, max; int failed; } ds_out;   /* max 0: 256 MiB */

void ds_out_init(ds_out *o, size_t max);
/* Frees the memory; the buffer is empty and usable again (same max, failed cleared). */
void ds_out_free(ds_out *o);
void ds_out_putn(ds_out *o, const char *s, size_t n);
void ds_out_puts(ds_out *o, const char *s);
void ds_out_printf(ds_out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Every escaper replaces invalid UTF-8 (RFC 3629: overlong forms, surrogates, > U+10FFFF,
 * truncated sequences) with U+FFFD, one per maximal invalid subpart (Unicode 15, section 3.9).
 * NULL is treated as "". */

/* HTML text or (quoted) attribute value: & < > " ' become entities; C0/C1 control characters
 * other than tab, LF and CR become U+FFFD (HTML 5: they are parse errors). */
void ds_out_html(ds_out *o, const char *s);
/* JSON string with the quotes (RFC 8259): \" \\ \b \f \n \r \t, other controls as \u00XX;
 * < > & as \u003c \u003e \u0026 and U+2028/U+2029 escaped, so the output can also sit inside an
 * HTML <script> element.  Other UTF-8 passes through. */
void ds_out_json_str(ds_out *o, const char *s);
/* Markdown (GFM) table cell: \ ` * _ [ ] < > | ~ & are backslash-escaped so text stays text;
 * LF, CR LF and CR become <br>; tab becomes a space; other controls become U+FFFD. */
void ds_out_md(ds_out *o, const char *s);
/* RFC 4648 section 4 base64 with padding (for data: URIs of figures). */
void ds_out_base64(ds_out *o, const unsigned char *p, size_t n);

/* Writes the buffer to path with util/atomic_file.h: a file is replaced atomically (temporary
 * file in the same directory, fsync, rename over path, fsync of the directory), keeping the
 * mode of the file it replaces (a new one: 0644 less the umask); a symbolic link is followed
 * and survives; a device or FIFO (/dev/null, /dev/stdout, a named pipe) is written through.
 * Refuses (DS_ENOMEM) a failed buffer; the error names the path.  No temporary file is left
 * behind on any failure. */
ds_rc ds_out_write_file(const ds_out *o, const char *path, ds_err *err);

#endif
