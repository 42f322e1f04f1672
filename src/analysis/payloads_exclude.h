/* payloads_exclude.h: first payloads (store.h's payloads_query) without the research scanners'.
 *
 * `--exclude research` (issue #4 item 3, issue #5 item 2) leaves research scanners out of
 * `darkscope payloads` and of the report's payload tables as it does out of every other figure.
 * The exclusion set the report and the CLI build holds source keys (ds_src_key) of the sources
 * the store saw in a period that match a list prefix or a listed ASN (analysis/research.h);
 * payload rows carry their source as text, so each is parsed and looked up.
 */
#ifndef DS_PAYLOADS_EXCLUDE_H
#define DS_PAYLOADS_EXCLUDE_H
#include <stddef.h>
#include <stdint.h>

#include "analysis/research.h"
#include "core/sets.h"
#include "store/store.h"

/* 1 when a payload from address text src is left out: its key is in keys (NULL: none), or it
 * lies in one of research's prefixes (NULL: none; it catches sources the store never saw in
 * a capture).  An address that does not parse is never left out. */
int ds_payload_src_excluded(const char *src, const ds_u64set *keys, const ds_research *research);

/* in (an IPv4 or IPv6 address in any form inet_pton takes) as the store keeps payload addresses,
 * inet_ntop's canonical text, into out (DS_PAYLOAD_ADDRLEN bytes): 0, or -1 when in is none. */
int ds_payload_addr_canon(const char *in, char *out);

/* payloads_query(q) as the store answers it, without the rows ds_payload_src_excluded leaves
 * out.  With keys and research both NULL it is the store's query.  Otherwise every row matching
 * q's sensor, service and time range is read, the excluded ones dropped, and for q->top the rest
 * grouped as the store groups them (one row per service and content: count, distinct sources,
 * first and last arrival, the smallest source and destination, the largest len; most frequent
 * first, then most sources, then earliest, then by hash); then q->limit applies and *total
 * counts the rows (groups) without it.  The caller frees *rows with ds_payload_rows_free. */
ds_rc ds_payloads_query_excluding(ds_store *st, const ds_payload_query *q, const ds_u64set *keys,
                                  const ds_research *research, ds_payload_row **rows, size_t *n, uint64_t *total,
                                  ds_err *err);

#endif
