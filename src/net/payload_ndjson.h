/* payload_ndjson.h: the parser of a `--respond syn` sensor's pay-<seq>.jsonl (first payloads).
 *
 * One JSON object (RFC 8259) per line (NDJSON): ts_ns, src, sport, dst, dport, seq, len and
 * payload_b64 (RFC 4648 section 4 base64, padded); members a newer sensor adds are skipped.  The
 * collector (POST /v1/payloads, src/net/collector.c) checks the whole file with it before it
 * stores anything, and fuzz/fuzz_payload_ndjson.c drives it directly: it needs no HTTP server,
 * no store and no I/O, only the bytes of the file.
 */
#ifndef DS_PAYLOAD_NDJSON_H
#define DS_PAYLOAD_NDJSON_H
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"
#include "util/result.h"

typedef struct ds_payload_file {
    ds_payload *rows;   /* n rows, in file order; each row's data points into arena */
    size_t n;
    uint8_t *arena;     /* the decoded payload bytes of every row */
} ds_payload_file;

/* Every line of body[0..len) into out->rows.  Blank lines (white space only) are allowed, as are
 * CRLF line ends and a last line without a newline.  A malformed line is DS_EFORMAT with the
 * message "line N: what at byte M" (M counted from the start of that line, in err->offset too)
 * and *out left empty; running out of memory is DS_ENOMEM.  body may be NULL when len is 0.
 * Free a filled *out with ds_payload_file_free. */
ds_rc ds_payload_ndjson_parse(const char *body, size_t len, ds_payload_file *out, ds_err *err);
void ds_payload_file_free(ds_payload_file *f);

#endif
