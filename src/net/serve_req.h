/* serve_req.h: a request to /api/v1/ as its endpoints see it (serve_req.c; not a public header).
 *
 * Every endpoint validates every parameter before it touches the store and refuses what it
 * does not know (serve_api.c's design comment); these are the pieces they share: the 400 that
 * names the parameter, the filter of `darkscope top` parsed from the query string, and the
 * queries whose JSON is the CLI's.
 */
#ifndef DS_NET_SERVE_REQ_H
#define DS_NET_SERVE_REQ_H
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "analysis/events.h"
#include "analysis/top.h"
#include "core/sets.h"
#include "net/serve_int.h"

#define MAX_ROWS 1000000000u   /* limit: as the CLI's --limit */
#define MAX_LIST 64            /* values in one list parameter (the filter's DS_FILTER_MAX) */

typedef struct req {
    const ds_serve_ctx *c;
    ds_store *st;               /* the request's store, or a kept view of its period on it */
    const ds_serve_args *a;
    char *msg;
    size_t msglen;
    ds_store *view;             /* st when it is a kept view (serve_views.c): given back at the end */
    int32_t view_from, view_to;
} req;

/* The filter every table and series takes (docs/api.md, "The filter"). */
typedef struct filt {
    int32_t from, to;
    int64_t sensor_id;
    int cls;
    ds_service ports[MAX_LIST]; size_t nports;
    uint16_t countries[MAX_LIST]; size_t ncountries;
    uint32_t asns[MAX_LIST]; size_t nasns;
    unsigned tools;
} filt;

#define FILTER_PARAMS "from", "to", "sensor", "class", "service", "country", "asn", "tool"

/* A 400: "PARAM: what is wrong" into r->msg. */
unsigned sv_bad(req *r, const char *param, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* A 500 with err's message. */
unsigned sv_failed(req *r, const ds_err *err);
/* The value of key, or NULL. */
const char *sv_arg(const req *r, const char *key);
/* Every parameter is one of `known` (NULL-terminated) and given once: 0, else the 400. */
unsigned sv_check_known(req *r, const char *const *known);
/* from, to (default: the store's first and last day with data) and sensor. */
unsigned sv_parse_scope(req *r, filt *f);
/* The whole filter (FILTER_PARAMS). */
unsigned sv_parse_filter(req *r, filt *f);
/* 0 and *v when key is absent (v unchanged) or a number in [0, max]; else the 400. */
unsigned sv_parse_u64(req *r, const char *key, uint64_t max, uint64_t *v);
/* 0 and *v = 0/1 when key is absent (v unchanged), "0" or "1"; else the 400. */
unsigned sv_parse_bool(req *r, const char *key, int *v);

void sv_top_query(const filt *f, ds_top_query *q);
void sv_cube_filter(const filt *f, ds_filter *cf);
/* ds_top_run of q as `darkscope top` runs it (the caller frees res, whatever the answer). */
unsigned sv_top(req *r, ds_top_query *q, ds_top_result *res);
/* `top --format json` of q (its rates over the covered address-days, as the CLI's). */
unsigned sv_run_top(req *r, ds_top_query *q, FILE *out);
/* /series?step=day of the filter cf over f's days. */
unsigned sv_series_day(req *r, const filt *f, const ds_filter *cf, FILE *out);
/* ds_events_run as `darkscope events` runs it (research scanners when [detect] lists them). */
unsigned sv_events_run(req *r, ds_event_query *q, ds_events *ev, ds_u64set *research);

/* serve_drill.c's endpoints. */
unsigned sv_ep_source(req *r, const char *addr, FILE *out);
unsigned sv_ep_cube(req *r, FILE *out);
unsigned sv_ep_payloads(req *r, FILE *out);

#endif
