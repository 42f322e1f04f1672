/* serve.c: `darkscope serve`'s HTTP(S) server: start, stop and the request handler (the
 * protocol is in serve.h, the API in serve_api.c, the endpoints in docs/api.md).
 *
 * HTTP/1.1 (RFC 9110, RFC 9112) and TLS are libmicrohttpd's, loaded with dlopen (mhd_api.h), on
 * a pool of `threads` polling threads.  Each request borrows one of as many read-only store
 * handles (a SQLite connection serves one thread at a time), so requests run side by side and
 * never wait for an ingest (WAL readers do not wait for the writer).
 *
 * Every answer carries the same security headers: a Content-Security-Policy of 'self' only and
 * no inline script or style (CSP Level 3, https://www.w3.org/TR/CSP3/), so the browser fetches
 * nothing but this server's files and runs only its scripts; nosniff; no referrer; no framing.
 * API answers are not cached by browsers (Cache-Control: no-store): they are a store's current
 * state.  The server keeps them itself until the store's files change (serve_cache.c), so the
 * overview every reader opens is computed once per ingest; X-Darkscope-Cache says hit or miss.
 */
#include "net/serve.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "analysis/period_store.h"
#include "net/httpd.h"
#include "net/mhd_api.h"
#include "net/serve_int.h"
#include "net/tokens.h"
#include "net/web_assets.h"
#include "util/textfmt.h"
#include "util/timeutil.h"

#define API_PREFIX "/api/v1/"
/* Memory of closed period views (`events`' decompressed chunks) kept for the next computation
 * (period_store.h): a quarter of the demo's events loads about 50 MiB; fresh pages cost a fault
 * and a clear each, a quarter of the CPU of the events computed over a quarter. */
#define KEEP_VIEW_MEMORY ((size_t)256 << 20)
#define STATIC_PREFIX "/static/"
#define MAX_THREADS 64

static const char CSP[] = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
                          "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
                          "form-action 'none'; frame-ancestors 'none'";

struct ds_serve {
    ds_serve_opts o;
    ds_serve_ctx ctx;
    struct MHD_Daemon *mhd;
    int listen_fd;
    unsigned port;
    char *tls_cert_pem, *tls_key_pem;

    ds_serve_auth auth;          /* --tokens, --users */
    int auth_ready;

    pthread_mutex_t pool_mu;     /* the store handles */
    pthread_cond_t pool_cv;
    ds_store *st[MAX_THREADS];
    int busy[MAX_THREADS];
    unsigned nst;
    ds_serve_cache *cache;       /* NULL: --no-cache */

    /* the presets' overviews, computed ahead (warm_main) */
    pthread_mutex_t warm_mu;
    pthread_cond_t warm_cv;
    int warm_stop, warm_running;
    pthread_t warm_thread;
    ds_store *warm_st;           /* the warm thread's own handle */
};

/* ---- access ------------------------------------------------------------------------------ */

ds_rc ds_serve_reload_tokens(ds_serve *s, ds_err *err)
{
    return ds_serve_auth_reload(&s->auth, err);
}

static int authorized(ds_serve *s, struct MHD_Connection *conn)
{
    return ds_serve_auth_check(&s->auth, MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION));
}

/* ---- answers ------------------------------------------------------------------------------ */

/* Queue an answer.  *made (may be NULL) tells whether the response was made, i.e. whether
 * libmicrohttpd owns a MUST_FREE body now. */
static int challenge;   /* a 401's WWW-Authenticate: 1 Bearer, 2 Basic (set at start, one server a process) */

static enum MHD_Result send_buf(struct MHD_Connection *conn, unsigned code, const char *type, const void *body,
                                size_t len, enum MHD_ResponseMemoryMode mode, int api, const char *cache,
                                struct MHD_Response **made)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(len, (void *)body, mode);
    if (made)
        *made = r;
    if (!r)
        return MHD_NO;
    if (cache)
        MHD_add_response_header(r, "X-Darkscope-Cache", cache);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    MHD_add_response_header(r, "Content-Security-Policy", CSP);
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(r, "X-Frame-Options", "DENY");
    MHD_add_response_header(r, "Cross-Origin-Resource-Policy", "same-origin");
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, api ? "no-store" : "no-cache");
    if (code == MHD_HTTP_UNAUTHORIZED && (challenge & 1))
        MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer realm=\"darkscope\"");
    if (code == MHD_HTTP_UNAUTHORIZED && (challenge & 2))   /* RFC 7617 section 2.1 */
        MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Basic realm=\"darkscope\", charset=\"UTF-8\"");
    if (code == MHD_HTTP_METHOD_NOT_ALLOWED)
        MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
    enum MHD_Result ret = MHD_queue_response(conn, code, r);
    MHD_destroy_response(r);
    return ret;
}

/* {"status": "error", "code": N, "error": "..."} */
static enum MHD_Result send_error(struct MHD_Connection *conn, unsigned code, const char *msg)
{
    char *body = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&body, &len);
    if (!f)
        return MHD_NO;
    fprintf(f, "{\"status\": \"error\", \"code\": %u, \"error\": ", code);
    ds_json_fputs(f, msg);
    fprintf(f, "}\n");
    if (fclose(f) != 0) {
        free(body);
        return MHD_NO;
    }
    struct MHD_Response *r = NULL;
    enum MHD_Result ret = send_buf(conn, code, "application/json", body, len, MHD_RESPMEM_MUST_FREE, 1, NULL, &r);
    if (!r)
        free(body);
    return ret;
}

static const ds_web_asset *asset(const char *name)
{
    for (size_t i = 0; i < ds_web_nassets; i++)
        if (strcmp(ds_web_assets[i].name, name) == 0)
            return &ds_web_assets[i];
    return NULL;
}

/* ---- the store handles -------------------------------------------------------------------- */

static int borrow(ds_serve *s)
{
    pthread_mutex_lock(&s->pool_mu);
    for (;;) {
        for (unsigned i = 0; i < s->nst; i++)
            if (!s->busy[i]) {
                s->busy[i] = 1;
                pthread_mutex_unlock(&s->pool_mu);
                return (int)i;
            }
        pthread_cond_wait(&s->pool_cv, &s->pool_mu);
    }
}

static void give_back(ds_serve *s, int i)
{
    pthread_mutex_lock(&s->pool_mu);
    s->busy[i] = 0;
    pthread_cond_signal(&s->pool_cv);
    pthread_mutex_unlock(&s->pool_mu);
}

/* ---- the request -------------------------------------------------------------------------- */

static enum MHD_Result collect_arg(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    ds_serve_args *a = cls;
    (void)kind;
    if (a->n == DS_SERVE_MAX_ARGS) {
        a->too_many = 1;
        return MHD_NO;
    }
    a->v[a->n].key = key;
    a->v[a->n].val = value ? value : "";
    a->n++;
    return MHD_YES;
}

static double ms_since(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) * 1e3 + (double)(t.tv_nsec - t0->tv_nsec) / 1e6;
}

static int cmp_arg(const void *a, const void *b)
{
    const char *const *x = a, *const *y = b;
    return strcmp(x[0], y[0]);
}

/* The cache's key of a request: its path and its parameters sorted by name, each length-prefixed
 * (a value cannot pass for a separator).  NULL when out of memory. */
static char *cache_key(const char *path, const ds_serve_args *a)
{
    const char *kv[DS_SERVE_MAX_ARGS][2];
    char *key = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&key, &len);
    if (!f)
        return NULL;
    for (size_t i = 0; i < a->n; i++) {
        kv[i][0] = a->v[i].key;
        kv[i][1] = a->v[i].val;
    }
    qsort(kv, a->n, sizeof kv[0], cmp_arg);
    fprintf(f, "%zu:%s", strlen(path), path);
    for (size_t i = 0; i < a->n; i++)
        fprintf(f, "|%zu:%s=%zu:%s", strlen(kv[i][0]), kv[i][0], strlen(kv[i][1]), kv[i][1]);
    if (fclose(f) != 0) {
        free(key);
        return NULL;
    }
    return key;
}

static enum MHD_Result send_json(struct MHD_Connection *conn, char *body, size_t len, const char *cache)
{
    struct MHD_Response *r = NULL;
    enum MHD_Result ret = send_buf(conn, MHD_HTTP_OK, "application/json", body, len, MHD_RESPMEM_MUST_FREE, 1, cache, &r);
    if (ret == MHD_NO && !r)
        free(body);
    return ret;
}

static enum MHD_Result api(ds_serve *s, struct MHD_Connection *conn, const char *path)
{
    ds_serve_args args = { 0 };
    char msg[512] = "";
    char *body = NULL;
    size_t len = 0;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if ((s->o.tokens_path || s->o.users_path) && !authorized(s, conn))
        return send_error(conn, MHD_HTTP_UNAUTHORIZED, s->o.users_path && s->o.tokens_path
                          ? "missing or wrong Authorization: a Bearer token or Basic name and password"
                          : s->o.users_path ? "missing or wrong Authorization: Basic name and password"
                                            : "missing or unknown Authorization: Bearer token");
    MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, collect_arg, &args);
    if (args.too_many)
        return send_error(conn, MHD_HTTP_BAD_REQUEST, "too many query parameters");
    char *key = s->cache && ds_serve_cacheable(path) ? cache_key(path, &args) : NULL;
    if (key && (body = ds_serve_cache_get(s->cache, key, &len))) {
        free(key);
        if (s->o.log_requests)
            fprintf(stderr, "darkscope serve: GET %s%s -> 200 cached (%.1f ms)\n", API_PREFIX, path, ms_since(&t0));
        return send_json(conn, body, len, "hit");
    }
    ds_serve_stamp before = s->cache ? ds_serve_cache_stamp(s->cache) : (ds_serve_stamp){ { 0 } };
    FILE *f = open_memstream(&body, &len);
    if (!f) {
        free(key);
        return send_error(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
    }
    int h = borrow(s);
    unsigned code = ds_serve_api(&s->ctx, s->st[h], path, &args, f, msg, sizeof msg);
    give_back(s, h);
    if (fclose(f) != 0 && code == MHD_HTTP_OK) {
        code = MHD_HTTP_INTERNAL_SERVER_ERROR;
        snprintf(msg, sizeof msg, "out of memory");
    }
    if (s->o.log_requests)
        fprintf(stderr, "darkscope serve: GET %s%s -> %u (%.1f ms)\n", API_PREFIX, path, code, ms_since(&t0));
    if (code != MHD_HTTP_OK) {
        free(key);
        free(body);
        return send_error(conn, code, msg);
    }
    if (key)
        ds_serve_cache_put(s->cache, key, body, len, &before);
    free(key);
    return send_json(conn, body, len, s->cache && ds_serve_cacheable(path) ? "miss" : NULL);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                  const char *version, const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    ds_serve *s = cls;
    (void)version;
    (void)upload_data;
    (void)con_cls;
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
        return send_error(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "read-only: GET and HEAD only");
    if (*upload_data_size)
        return send_error(conn, MHD_HTTP_BAD_REQUEST, "a GET has no body");
    if (strncmp(url, API_PREFIX, sizeof API_PREFIX - 1) == 0)
        return api(s, conn, url + sizeof API_PREFIX - 1);
    const ds_web_asset *a = NULL;
    if (strcmp(url, "/") == 0 || strcmp(url, "/index.html") == 0)
        a = asset("index.html");
    else if (strncmp(url, STATIC_PREFIX, sizeof STATIC_PREFIX - 1) == 0)
        a = asset(url + sizeof STATIC_PREFIX - 1);
    if (!a)
        return send_error(conn, MHD_HTTP_NOT_FOUND, "no such page");
    return send_buf(conn, MHD_HTTP_OK, a->type, a->data, a->len, MHD_RESPMEM_PERSISTENT, 0, NULL, NULL);
}

/* ---- the presets' overviews, computed ahead ------------------------------------------------- */

/* The overview of the app's period presets (day, week, month, quarter, each ending at the store's
 * last day) is what every reader opens first, and their events what costs most to compute
 * (a quarter's: about 0.14 and 0.24 s, bench/README.md).  A thread of its own computes them into the cache at start and whenever the
 * store's files have changed and then stayed unchanged for WARM_POLL_S (a collector committing
 * every second does not keep it computing), the quarter first; a reader asking before it is done
 * computes the answer itself, as without it. */
#define WARM_POLL_S 5

static int warm_stopping(ds_serve *s)
{
    pthread_mutex_lock(&s->warm_mu);
    int stop = s->warm_stop;
    pthread_mutex_unlock(&s->warm_mu);
    return stop;
}

/* One answer computed into the cache (unless there already), as a reader asking `path` with the
 * period's from and to alone would get it (the same cache key). */
static void warm_one(ds_serve *s, const ds_serve_stamp *stamp, const char *path, const ds_serve_period *p)
{
    char from[11], to[11], msg[512];
    ds_serve_args a = { .n = 2 };
    a.v[0].key = "from";
    a.v[0].val = ds_day_format(p->from, from);
    a.v[1].key = "to";
    a.v[1].val = ds_day_format(p->to, to);
    char *key = cache_key(path, &a), *body = NULL, *have;
    size_t len = 0;
    if (!key)
        return;
    if ((have = ds_serve_cache_get(s->cache, key, &len))) {   /* a week and a month can be one period */
        free(have);
        free(key);
        return;
    }
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    FILE *f = open_memstream(&body, &len);
    unsigned code = f ? ds_serve_api(&s->ctx, s->warm_st, path, &a, f, msg, sizeof msg) : 500;
    if (f && fclose(f) == 0 && code == MHD_HTTP_OK)
        ds_serve_cache_put(s->cache, key, body, len, stamp);
    if (s->o.log_requests)
        fprintf(stderr, "darkscope serve: precomputed the %s %s %s..%s -> %u (%.1f ms)\n", p->preset, path, from, to,
                code, ms_since(&t0));
    free(body);
    free(key);
}

/* The presets' overviews, the quarter first, then their events (the app's events page, and what
 * costs most to compute: bench/README.md). */
static void warm_once(ds_serve *s, const ds_serve_stamp *stamp)
{
    ds_serve_period p[4];
    ds_err err = { 0 };
    int n = ds_serve_presets(s->warm_st, p, &err);
    for (int i = n - 1; i >= 0 && !warm_stopping(s); i--)
        warm_one(s, stamp, "overview", &p[i]);
    for (int i = n - 1; i >= 0 && !warm_stopping(s); i--)
        warm_one(s, stamp, "events", &p[i]);
}

static void *warm_main(void *arg)
{
    ds_serve *s = arg;
    ds_serve_stamp done = { { 0 } }, seen = { { 0 } };
    int have = 0;
    pthread_mutex_lock(&s->warm_mu);
    while (!s->warm_stop) {
        ds_serve_stamp now = ds_serve_cache_stamp(s->cache);
        int stable = !memcmp(&now, &seen, sizeof now);
        seen = now;
        if (!have || (stable && memcmp(&now, &done, sizeof now) != 0)) {
            pthread_mutex_unlock(&s->warm_mu);
            warm_once(s, &now);
            done = now;
            have = 1;
            pthread_mutex_lock(&s->warm_mu);
        }
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += WARM_POLL_S;
        if (!s->warm_stop)
            pthread_cond_timedwait(&s->warm_cv, &s->warm_mu, &ts);
    }
    pthread_mutex_unlock(&s->warm_mu);
    return NULL;
}

/* ---- start and stop ----------------------------------------------------------------------- */

static ds_rc start_daemon(ds_serve *s, ds_err *err)
{
    unsigned flags = MHD_USE_ERROR_LOG;
    flags |= MHD_is_feature_supported(MHD_FEATURE_EPOLL) == MHD_YES ? MHD_USE_EPOLL_INTERNAL_THREAD
                                                                     : MHD_USE_AUTO_INTERNAL_THREAD;
    if (s->o.tls_cert)
        flags |= MHD_USE_TLS;
    struct MHD_OptionItem opts[12];
    size_t n = 0;
#define OPT(opt, val, ptr) opts[n++] = (struct MHD_OptionItem){ (opt), (intptr_t)(val), (ptr) }
    OPT(MHD_OPTION_EXTERNAL_LOGGER, ds_httpd_log, (void *)"darkscope serve");
    OPT(MHD_OPTION_LISTEN_SOCKET, s->listen_fd, NULL);
    OPT(MHD_OPTION_CONNECTION_LIMIT, 256, NULL);
    OPT(MHD_OPTION_PER_IP_CONNECTION_LIMIT, 32, NULL);
    OPT(MHD_OPTION_CONNECTION_TIMEOUT, 60, NULL);
    if (s->nst > 1)
        OPT(MHD_OPTION_THREAD_POOL_SIZE, s->nst, NULL);
    if (s->o.tls_cert) {
        OPT(MHD_OPTION_HTTPS_MEM_CERT, 0, s->tls_cert_pem);
        OPT(MHD_OPTION_HTTPS_MEM_KEY, 0, s->tls_key_pem);
        OPT(MHD_OPTION_HTTPS_PRIORITIES, 0, (void *)DS_HTTPD_TLS_PRIORITIES);
    }
    OPT(MHD_OPTION_END, 0, NULL);
#undef OPT
    s->mhd = MHD_start_daemon(flags, 0, NULL, NULL, on_request, s, MHD_OPTION_ARRAY, opts, MHD_OPTION_END);
    if (!s->mhd)
        return ds_fail(err, DS_EIO, "--listen %s: libmicrohttpd would not start (see its message above; a bad "
                       "TLS certificate or key?)", s->o.listen);
    return DS_OK;
}

ds_rc ds_serve_start(ds_serve **out, const ds_serve_opts *o, ds_err *err)
{
    ds_rc rc;
    ds_serve *s = calloc(1, sizeof *s);
    *out = NULL;
    if (!s)
        return ds_fail(err, DS_ENOMEM, "out of memory");
    s->o = *o;
    s->listen_fd = -1;
    s->ctx = (ds_serve_ctx){ o->cfg, o->geo, o->names, NULL, NULL };
    pthread_mutex_init(&s->warm_mu, NULL);
    pthread_cond_init(&s->warm_cv, NULL);
    pthread_mutex_init(&s->pool_mu, NULL);
    pthread_cond_init(&s->pool_cv, NULL);
    s->nst = o->threads ? o->threads : DS_SERVE_THREADS_DEFAULT;
    if (s->nst > MAX_THREADS) {
        rc = ds_fail(err, DS_EINVAL, "--threads %u: at most %d", s->nst, MAX_THREADS);
        s->nst = 0;
        goto out;
    }
    if ((!o->tls_cert) != (!o->tls_key)) {
        rc = ds_fail(err, DS_EINVAL, "TLS needs both --tls-cert and --tls-key");
        goto out;
    }
    if ((rc = ds_mhd_load(err)) != DS_OK)
        goto out;
    s->auth_ready = 1;
    if ((rc = ds_serve_auth_init(&s->auth, o->tokens_path, o->users_path, err)) != DS_OK)
        goto out;
    challenge = (o->tokens_path ? 1 : 0) | (o->users_path ? 2 : 0);
    if (o->tokens_path && (s->auth.tokens.mode & 077))
        fprintf(stderr, "darkscope serve: warning: tokens file %s may be read by others (mode %o): chmod 600 it\n",
                o->tokens_path, s->auth.tokens.mode & 0777);
    if (o->users_path && (s->auth.users.mode & 077))
        fprintf(stderr, "darkscope serve: warning: users file %s may be read by others (mode %o): chmod 600 it\n",
                o->users_path, s->auth.users.mode & 0777);
    if (o->tokens_path && s->auth.tokens.n == 0 && !(o->users_path && s->auth.users.n))
        fprintf(stderr, "darkscope serve: warning: %s holds no tokens: every API request will be refused "
                        "(darkscope token new NAME --tokens %s)\n", o->tokens_path, o->tokens_path);
    if (o->users_path && s->auth.users.n == 0 && !(o->tokens_path && s->auth.tokens.n))
        fprintf(stderr, "darkscope serve: warning: %s holds no users: every API request will be refused "
                        "(darkscope user add NAME --users %s)\n", o->users_path, o->users_path);
    if (o->tls_cert) {
        if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
            rc = ds_fail(err, DS_EINVAL, "this libmicrohttpd was built without TLS");
            goto out;
        }
        if ((rc = ds_httpd_read_pem(o->tls_cert, 0, &s->tls_cert_pem, err)) != DS_OK ||
            (rc = ds_httpd_read_pem(o->tls_key, 1, &s->tls_key_pem, err)) != DS_OK)
            goto out;
    }
    for (unsigned i = 0; i < s->nst; i++)
        if ((rc = ds_store_open(&s->st[i], o->cfg->store_path, 0, err)) != DS_OK)
            goto out;
    ds_period_store_keep_memory(KEEP_VIEW_MEMORY);
    if (!o->no_cache && !(s->cache = ds_serve_cache_new(o->cfg->store_path))) {
        rc = ds_fail(err, DS_ENOMEM, "out of memory");
        goto out;
    }
    s->ctx.cache = s->cache;   /* the events of a period, kept with the answers (serve_cache.c) */
    /* NULL: each request reads the store */
    s->ctx.views = o->no_views ? NULL
                               : ds_serve_views_new(o->cfg->store_path,
                                                    (size_t)(o->view_mib ? o->view_mib : DS_SERVE_VIEW_MIB) << 20);
    if (s->cache && (rc = ds_store_open(&s->warm_st, o->cfg->store_path, 0, err)) != DS_OK)
        goto out;
    /* passwords cross the network over TLS only: --insecure-plain-http does not lift the
     * loopback rule for them (a token is revoked in a second, a reused password is not) */
    ds_httpd_listen hl = { o->listen, o->tls_cert != NULL, o->insecure_plain_http && !o->users_path,
                           o->users_path ? "the users' passwords (HTTP Basic needs TLS or loopback, whatever "
                                           "--insecure-plain-http says) and the store's data"
                           : o->tokens_path ? "the readers' bearer tokens and the store's data" : "the store's data" };
    if ((rc = ds_httpd_bind(&hl, &s->listen_fd, &s->port, err)) != DS_OK || (rc = start_daemon(s, err)) != DS_OK)
        goto out;
    if (s->cache)   /* without the thread every answer is computed when asked: slower, not wrong */
        s->warm_running = pthread_create(&s->warm_thread, NULL, warm_main, s) == 0;
    *out = s;
    s = NULL;
out:
    ds_serve_stop(s);
    return rc;
}

unsigned ds_serve_port(const ds_serve *s) { return s->port; }

void ds_serve_stop(ds_serve *s)
{
    if (!s)
        return;
    if (s->warm_running) {
        pthread_mutex_lock(&s->warm_mu);
        s->warm_stop = 1;
        pthread_cond_signal(&s->warm_cv);
        pthread_mutex_unlock(&s->warm_mu);
        pthread_join(s->warm_thread, NULL);   /* at most the overview being computed */
    }
    if (s->mhd)
        MHD_stop_daemon(s->mhd);   /* waits for the requests in progress */
    if (s->listen_fd >= 0)
        close(s->listen_fd);
    ds_serve_views_free(s->ctx.views);
    for (unsigned i = 0; i < s->nst; i++)
        ds_store_close(s->st[i]);
    ds_store_close(s->warm_st);
    ds_serve_cache_free(s->cache);
    if (s->auth_ready)
        ds_serve_auth_free(&s->auth);
    ds_httpd_free_pem(s->tls_cert_pem);
    ds_httpd_free_pem(s->tls_key_pem);
    pthread_mutex_destroy(&s->warm_mu);
    pthread_cond_destroy(&s->warm_cv);
    pthread_mutex_destroy(&s->pool_mu);
    pthread_cond_destroy(&s->pool_cv);
    free(s);
}
