/* serve_int.h: the modules of `darkscope serve` (not a public header).
 *
 *   serve.c       start/stop, the request handler: method, path, security headers, tokens,
 *                 static assets, a store handle per request
 *   serve_auth.c  who may read: bearer tokens and users' passwords (HTTP Basic)
 *   serve_cache.c answers kept until the store's files change
 *   serve_views.c the decompressed chunks of the periods asked about, kept until then too
 *   serve_api.c   /api/v1/...: parameters validated, the analysis run, the JSON written
 *                 (report/tables_json.h: the CLI's own renderers); knows nothing of HTTP, so the
 *                 unit tests call it directly
 */
#ifndef DS_NET_SERVE_INT_H
#define DS_NET_SERVE_INT_H
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <stdio.h>
#include <time.h>

#include "analysis/events.h"
#include "geo/geo.h"
#include "net/tokens.h"
#include "net/users.h"
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

typedef struct ds_serve_cache ds_serve_cache;
typedef struct ds_serve_views ds_serve_views;
typedef struct ds_serve_ctx {
    const ds_config *cfg;
    const ds_geo *geo;
    const ds_names *names;
    ds_serve_cache *cache;       /* NULL: nothing kept (--no-cache) */
    ds_serve_views *views;       /* NULL: every request reads the store (serve_views.c) */
} ds_serve_ctx;

/* Answer GET /api/v1/<path> into out (JSON).  Returns the HTTP status: 200, or 400 / 404 / 500
 * with the reason in msg (naming the parameter at fault) and nothing useful in out. */
unsigned ds_serve_api(const ds_serve_ctx *c, ds_store *st, const char *path, const ds_serve_args *a, FILE *out,
                      char *msg, size_t msglen);

/* The app's period presets (web/app.js presetPeriod), each ending at the store's last day with
 * data: the day, its week (7 days), its calendar month, its calendar quarter, so far.  Fills
 * out[4]; returns 4, or -1 (no data: err says why when the store failed). */
typedef struct ds_serve_period { char preset[8]; int32_t from, to; } ds_serve_period;
int ds_serve_presets(ds_store *st, ds_serve_period *out, ds_err *err);

/* serve_cache.c: answers kept until the store changes.  Take a stamp before computing an answer
 * and pass it to put: an answer computed while the store changed is not kept. */
typedef struct ds_serve_stamp { long long v[6]; } ds_serve_stamp;   /* size, mtime of db, -wal, -chunks */
ds_serve_cache *ds_serve_cache_new(const char *store_path);
void ds_serve_cache_free(ds_serve_cache *c);
ds_serve_stamp ds_serve_cache_stamp(const ds_serve_cache *c);
/* A malloc'ed copy of the answer for key, or NULL. */
char *ds_serve_cache_get(ds_serve_cache *c, const char *key, size_t *len);
void ds_serve_cache_put(ds_serve_cache *c, const char *key, const char *body, size_t len, const ds_serve_stamp *before);
/* The events of q as found under the current stamp (a deep copy in *out; 1), or 0.  A query with
 * excluded sources is never kept. */
int ds_serve_events_get(ds_serve_cache *c, const ds_event_query *q, ds_events *out);
void ds_serve_events_put(ds_serve_cache *c, const ds_event_query *q, const ds_events *ev, const ds_serve_stamp *before);
/* The size and mtime of the store's files at path (database, WAL, chunk file), now. */
ds_serve_stamp ds_serve_stamp_take(const char *store_path);

/* serve_views.c: the decompressed chunks of the periods readers ask about, kept until the store
 * changes.  new gives NULL when DS_SERVE_NO_VIEWS=1 (or out of memory): then nothing is kept. */
ds_serve_views *ds_serve_views_new(const char *store_path, size_t max_bytes);
void ds_serve_views_free(ds_serve_views *w);
/* A handle on the kept view of days [from, to] (made now if there is none) that reads what it
 * does not hold from st, the request's own store; NULL (read st) for a period not kept (longer
 * than a quarter, w NULL, or a failure).  Given back with done, which closes it. */
ds_store *ds_serve_views_get(ds_serve_views *w, ds_store *st, int32_t from, int32_t to);
void ds_serve_views_done(ds_serve_views *w, ds_store *h, int32_t from, int32_t to);

/* 1 when the answers of path do not depend on the clock (everything but coverage and sensors). */
int ds_serve_cacheable(const char *path);

/* serve_auth.c: the readers of --tokens and --users (either path may be NULL). */
#define DS_SERVE_AUTH_CACHE 32
typedef struct ds_serve_auth {
    pthread_mutex_t mu;               /* everything below */
    const char *tokens_path, *users_path;
    ds_tokens tokens;
    ds_users users;
    struct timespec tokens_mtime, users_mtime;
    uint8_t key[32];                  /* random, this process's: the passed credentials' digests */
    struct { uint8_t digest[32]; time_t until; } passed[DS_SERVE_AUTH_CACHE];
} ds_serve_auth;
ds_rc ds_serve_auth_init(ds_serve_auth *a, const char *tokens_path, const char *users_path, ds_err *err);
void ds_serve_auth_free(ds_serve_auth *a);
/* Re-read both files (SIGHUP); on an error the readers loaded before stay. */
ds_rc ds_serve_auth_reload(ds_serve_auth *a, ds_err *err);
/* 1 when the Authorization header (NULL: none) is a reader's: "Bearer TOKEN" of the tokens
 * file, or "Basic base64(NAME:PASSWORD)" of the users file. */
int ds_serve_auth_check(ds_serve_auth *a, const char *header);

#endif
