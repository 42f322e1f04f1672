/* payloads_exclude.c: see payloads_exclude.h.
 *
 * The store groups payloads in SQL (GROUP BY service and content hash), and a group's count
 * and distinct sources change when sources are left out, so the exclusion cannot be applied to
 * the grouped rows: it reads the ungrouped rows of the query, drops the excluded ones, and
 * groups what is left here, by the same rules and in the same order as the store's SQL
 * (store_sqlite.c sq_payloads_query): two sorts, no hash table.  Only `--exclude research`
 * takes this path; without it the store's query answers as before.  Source text is compared
 * with strcmp, which orders as SQLite's min() does (BINARY collation: memcmp of the bytes).
 */
#include "analysis/payloads_exclude.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "core/ip.h"
#include "core/records.h"

int ds_payload_src_excluded(const char *src, const ds_u64set *keys, const ds_research *research)
{
    ds_ip ip;
    if (ds_ip_parse(src, &ip) != 0)
        return 0;
    if (keys && ds_u64set_has(keys, ds_src_key(&ip)))
        return 1;
    return research && ds_research_match(research, &ip, 0);
}

/* Grouping order: service, then content, then source (so a group's distinct sources are its
 * changes of source, and its first row has the smallest). */
static int by_content(const void *a, const void *b)
{
    const ds_payload_row *x = a, *y = b;
    if (x->proto != y->proto)
        return x->proto < y->proto ? -1 : 1;
    if (x->dport != y->dport)
        return x->dport < y->dport ? -1 : 1;
    int c = memcmp(x->hash, y->hash, 16);
    return c ? c : strcmp(x->src, y->src);
}

/* The store's --top order (store.h, payloads_query): count, then distinct sources (both
 * descending), first arrival, hash, protocol, destination port. */
static int by_rank(const void *a, const void *b)
{
    const ds_payload_row *x = a, *y = b;
    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    if (x->sources != y->sources)
        return x->sources > y->sources ? -1 : 1;
    if (x->first_ns != y->first_ns)
        return x->first_ns < y->first_ns ? -1 : 1;
    int c = memcmp(x->hash, y->hash, 16);
    if (c)
        return c;
    if (x->proto != y->proto)
        return x->proto < y->proto ? -1 : 1;
    return (x->dport > y->dport) - (x->dport < y->dport);
}

/* rows[0..n) (list rows, sorted by_content) into groups at the front; returns their number.
 * Each group keeps its first row's data; the others' data is freed. */
static size_t group_rows(ds_payload_row *rows, size_t n)
{
    size_t ngroups = 0;
    for (size_t s = 0; s < n;) {
        ds_payload_row g = rows[s];
        g.sensor[0] = 0;
        g.sport = 0;
        g.tcp_seq = 0;
        g.count = 0;
        g.sources = 0;
        size_t e = s;
        for (; e < n && rows[e].proto == g.proto && rows[e].dport == g.dport && memcmp(rows[e].hash, g.hash, 16) == 0;
             e++) {
            const ds_payload_row *r = &rows[e];
            g.count++;
            if (e == s || strcmp(r->src, rows[e - 1].src) != 0)
                g.sources++;
            if (r->first_ns < g.first_ns)
                g.first_ns = r->first_ns;
            if (r->last_ns > g.last_ns)
                g.last_ns = r->last_ns;
            if (strcmp(r->dst, g.dst) < 0)
                memcpy(g.dst, r->dst, sizeof g.dst);
            if (r->len > g.len)
                g.len = r->len;
            if (e > s)
                free(r->data);
        }
        rows[ngroups++] = g;   /* ngroups <= s: every row it overwrites has been read */
        s = e;
    }
    return ngroups;
}

int ds_payload_addr_canon(const char *in, char *out)
{
    unsigned char a[16];
    if (inet_pton(AF_INET, in, a) == 1)
        return inet_ntop(AF_INET, a, out, DS_PAYLOAD_ADDRLEN) ? 0 : -1;
    if (inet_pton(AF_INET6, in, a) == 1)
        return inet_ntop(AF_INET6, a, out, DS_PAYLOAD_ADDRLEN) ? 0 : -1;
    return -1;
}

ds_rc ds_payloads_query_excluding(ds_store *st, const ds_payload_query *q, const ds_u64set *keys,
                                  const ds_research *research, ds_payload_row **rows, size_t *n, uint64_t *total,
                                  ds_err *err)
{
    if (!keys && !research)
        return ds_store_payloads_query(st, q, rows, n, total, err);
    ds_payload_query all = *q;
    all.top = 0;
    all.limit = 0;
    ds_payload_row *r = NULL;
    size_t nr = 0, kept = 0;
    uint64_t ignored;
    ds_rc rc = ds_store_payloads_query(st, &all, &r, &nr, &ignored, err);
    if (rc != DS_OK)
        return rc;
    for (size_t i = 0; i < nr; i++) {
        if (ds_payload_src_excluded(r[i].src, keys, research))
            free(r[i].data);
        else
            r[kept++] = r[i];
    }
    if (q->top && kept) {
        qsort(r, kept, sizeof *r, by_content);
        kept = group_rows(r, kept);
        qsort(r, kept, sizeof *r, by_rank);
    }
    *total = kept;
    if (q->limit && kept > q->limit) {
        for (size_t i = q->limit; i < kept; i++)
            free(r[i].data);
        kept = q->limit;
    }
    if (!kept) {
        free(r);
        r = NULL;
    }
    *rows = r;
    *n = kept;
    return DS_OK;
}
