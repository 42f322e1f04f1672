/* payloads_json.h: the JSON of `darkscope payloads --format json`, written to any stream.
 *
 * The CLI prints it to stdout and `darkscope serve` (net/serve_api.c, /api/v1/payloads) writes
 * it into its answers: one renderer, so the two give the same bytes for the same query, as
 * tables_json.h does for top, events and stats.  Times are ISO 8601 in the process's timezone
 * (the store's: cli_query_open sets it), with the offset.  Fields: docs/api.md.
 */
#ifndef DS_REPORT_PAYLOADS_JSON_H
#define DS_REPORT_PAYLOADS_JSON_H
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "store/store.h"

#define DS_PAYLOAD_EXCERPT_JSON 256   /* bytes of a payload in "excerpt" (all of it in "hex") */

/* An array of payloads (q->top: of identical payloads grouped, with count and sources). */
void ds_json_payloads(FILE *f, const ds_payload_query *q, const ds_payload_row *rows, size_t n);

/* "2023-07-01T09:00:10+09:00" in the current timezone ("-" when it cannot be converted). */
char *ds_payload_iso_time(uint64_t ts_ns, char *buf, size_t len);
/* Printable ASCII as it is, any other byte as '.': at most max bytes of p, NUL-terminated in
 * buf (max + 1 bytes). */
char *ds_payload_excerpt(const uint8_t *p, size_t n, size_t max, char *buf);

#endif
