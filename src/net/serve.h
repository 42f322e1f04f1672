/* serve.h: `darkscope serve`, the web dashboard: a read-only, versioned JSON API and the
 * single-page app that reads it, from one process (docs/api.md).
 *
 *   GET /                      the app (web/index.html)
 *   GET /static/NAME           its scripts, style sheets and the chart library (uPlot)
 *   GET /api/v1/ENDPOINT?...   top, series, events, coverage, sensors, source/ADDR
 *
 * Read-only: GET and HEAD only; the store is opened for reading.  Self-contained: every asset is
 * compiled into the binary (net/web_assets.h) and every answer carries a Content-Security-Policy
 * of 'self' only, so a browser fetches nothing from elsewhere.  Access: with --tokens, every API
 * request needs "Authorization: Bearer dst_..." of a reader in that file (the format of
 * net/tokens.h, `darkscope token new NAME --tokens FILE`); the app's own files need none (they
 * hold no data).  With --users, "Authorization: Basic" with the name and password of a reader
 * in that file (net/users.h, `darkscope user add NAME --users FILE`), only over TLS or on
 * loopback.  TLS and the loopback-only plain HTTP rule are the collector's (net/httpd.h).
 */
#ifndef DS_NET_SERVE_H
#define DS_NET_SERVE_H
#include "geo/geo.h"
#include "report/names.h"
#include "util/config.h"
#include "util/result.h"

#define DS_SERVE_THREADS_DEFAULT 2u

typedef struct ds_serve_opts {
    const ds_config *cfg;        /* the store, sensors, [detect]; the process timezone must be the store's */
    const ds_geo *geo;           /* organisations (may be NULL) */
    const ds_names *names;       /* countries by name in event summaries (may be NULL) */
    const char *tokens_path;     /* readers' tokens; NULL: none */
    const char *users_path;      /* readers' names and password hashes (net/users.h); NULL: none.
                                  * Neither: the API is open. */
    const char *listen;          /* as the collector's --listen */
    const char *tls_cert, *tls_key;
    int insecure_plain_http;
    unsigned threads;            /* request threads, each with its own store handle; 0: the default */
    int log_requests;            /* one line per request on stderr */
    int no_cache;                /* compute every answer (serve_cache.c keeps them otherwise) */
    uint64_t view_mib;           /* memory for kept period views, MiB (serve_views.c); 0: the default,
                                  * DS_SERVE_VIEW_MIB */
    int no_views;                /* keep none: every request reads the store */
} ds_serve_opts;

#define DS_SERVE_VIEW_MIB 2048   /* a source-heavy month's view is 1.1-1.3 GB (bench/serve.sh month) */

typedef struct ds_serve ds_serve;

ds_rc ds_serve_start(ds_serve **out, const ds_serve_opts *o, ds_err *err);
unsigned ds_serve_port(const ds_serve *s);
/* Re-read the tokens and users files (SIGHUP); each is also re-read when its mtime changes. */
ds_rc ds_serve_reload_tokens(ds_serve *s, ds_err *err);
void ds_serve_stop(ds_serve *s);

#endif
