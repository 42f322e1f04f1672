/* top.h: ranked tables over a period (`darkscope top`).
 *
 * Counted from the SRCSVC chunks: every classified packet once, toward its destination service,
 * its source's country and ASN, and its source.  Filters of one field are OR'ed, different fields
 * AND'ed (country=CN, country=RU, port=23/tcp: 23/tcp from CN or RU).  `sources` is the exact
 * number of distinct source addresses over the whole period (not a sum of daily counts).
 */
#ifndef DS_TOP_H
#define DS_TOP_H
#include <stddef.h>
#include <stdint.h>

#include "store/query.h"   /* ds_top_query, ds_top_row, ds_top_result */
#include "store/store.h"

/* The store engine's own answer when it has one (store/query.h), else the chunk code. */
ds_rc ds_top_run(ds_store *st, const ds_top_query *q, ds_top_result *res, ds_err *err);
/* Row key as text: "23/tcp", "JP", "AS4134"-less plain "4134", or the address. */
char *ds_top_key_format(ds_top_dim dim, const ds_top_row *r, char *buf, size_t len);

#endif
