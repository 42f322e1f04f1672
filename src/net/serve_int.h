/* serve_int.h: the modules of `darkscope serve` (not a public header).
 *
 *   serve.c       start/stop, the request handler: method, path, security headers, tokens,
 *                 static assets, a store handle per request
 *   serve_api.c   /api/v1/...: parameters validated, the analysis run, the JSON written
 *                 (report/tables_json.h: the CLI's own renderers); knows nothing of HTTP, so the
 *                 unit tests call it directly
 */
#ifndef DS_NET_SERVE_INT_H
#define DS_NET_SERVE_INT_H
#include <stddef.h>
#include <stdio.h>

#include "geo/geo.h"
#include "report/names.h"
#include "store/store.h"
#include "util/config.h"

#define DS_SERVE_MAX_ARGS 16

/* A request's query string, decoded (libmicrohttpd decodes %XX and '+'). */
typedef struct ds_serve_args {
    struct { const char *key, *val; } v[DS_SERVE_MAX_ARGS];
    size_t n;
    int too_many;                /* more than DS_SERVE_MAX_ARGS: answered 400 */
} ds_serve_args;

typedef struct ds_serve_ctx {
    const ds_config *cfg;
    const ds_geo *geo;
    const ds_names *names;
} ds_serve_ctx;

/* Answer GET /api/v1/<path> into out (JSON).  Returns the HTTP status: 200, or 400 / 404 / 500
 * with the reason in msg (naming the parameter at fault) and nothing useful in out. */
unsigned ds_serve_api(const ds_serve_ctx *c, ds_store *st, const char *path, const ds_serve_args *a, FILE *out,
                      char *msg, size_t msglen);

#endif
