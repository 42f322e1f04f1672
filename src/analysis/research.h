/* research.h: known benign scanners (research projects, search engines) to leave out.
 *
 * NICTER publishes its figures with and without "research scans"; the operators of those
 * scanners publish their networks, and MISP's warninglists collect them (JSON objects with
 * "type": "cidr" and a "list" of prefixes).  darkscope ships none of that data: the analyst
 * names the files and AS numbers in [detect] research_lists / research_asns.
 *
 * A source counts as a research scanner when its address lies in a listed prefix or its ASN
 * (as the geo data gave it at ingest) is listed.
 */
#ifndef DS_RESEARCH_H
#define DS_RESEARCH_H
#include <stddef.h>
#include <stdint.h>

#include "core/sets.h"
#include "core/darknet.h"
#include "store/store.h"
#include "util/config.h"

typedef struct ds_research ds_research;

/* Read every list of conf; DS_EINVAL when nothing is configured (so that --exclude research
 * never silently excludes nothing), DS_EFORMAT naming file and offset for a malformed list. */
ds_rc ds_research_load(ds_research **out, const ds_research_conf *conf, ds_err *err);
/* Parse one warninglist held in memory (name is for messages); prefixes are added to r. */
ds_rc ds_research_add_json(ds_research *r, const char *name, const char *json, size_t len, ds_err *err);
ds_research *ds_research_new(void);
void ds_research_free(ds_research *r);

int ds_research_match(const ds_research *r, const ds_ip *ip, uint32_t asn);
size_t ds_research_prefixes(const ds_research *r);

/* Add to `set` the source key (ds_src_key) of every source seen in [from, to] that matches. */
ds_rc ds_research_sources(const ds_research *r, ds_store *st, int32_t from, int32_t to, ds_u64set *set,
                          ds_err *err);

#endif
