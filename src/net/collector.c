/* collector.c: the collection center's HTTP(S) server: start and stop (protocol in collector.h,
 * the modules in collector_int.h).
 *
 * HTTP/1.1 (RFC 9110, RFC 9112) and TLS are libmicrohttpd's (with GnuTLS), loaded with dlopen
 * (mhd_api.h).  It polls every connection with epoll from a small pool of threads, so an idle
 * connection costs a file descriptor, not a thread; no request handler waits for the store (the
 * ingest worker does, collector_worker.c); and each connection has deadlines
 * (collector_guard.c).  What stops one client from holding the collector:
 *
 *   --max-connections     connections in all (libmicrohttpd closes any over it at once)
 *   --max-per-address     connections from one client address (MHD_OPTION_PER_IP_CONNECTION_LIMIT)
 *   --header-timeout      seconds from accept to complete request headers (TLS handshake included)
 *   --min-rate            body bytes per second, over every 10 s
 *   idle timeout          DS_COLLECTOR_IDLE_TIMEOUT_DEFAULT s without a byte, in any phase
 *
 * Bearer tokens must not cross a network in clear text: plain HTTP on loopback only, unless
 * --insecure-plain-http; TLS 1.2 and 1.3 only (net/httpd.h, shared with `darkscope serve`).
 */
#include "net/collector.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ingest/ingest.h"
#include "net/collector_int.h"
#include "net/httpd.h"

#define STOP_DRAIN_SECONDS 30   /* at SIGTERM, uploads in progress get this long to finish */

ds_rc ds_collector_reload_tokens(ds_collector *c, ds_err *err)
{
    ds_tokens fresh = { 0 };
    struct stat st;
    ds_rc rc = ds_tokens_load(&fresh, c->o.tokens_path, 0, err);
    if (rc != DS_OK) {
        ds_tokens_free(&fresh);
        return rc;
    }
    pthread_mutex_lock(&c->tokens_mu);
    ds_tokens_free(&c->tokens);
    c->tokens = fresh;
    if (stat(c->o.tokens_path, &st) == 0)
        c->tokens_mtime = st.st_mtim;
    pthread_mutex_unlock(&c->tokens_mu);
    return DS_OK;
}

/* Room for the connections in the file descriptor limit: raise the soft limit if need be, else
 * lower the connection limit and say so. */
static void fit_fd_limit(ds_collector *c)
{
    struct rlimit rl;
    rlim_t need = (rlim_t)c->o.max_connections + 64;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= need)
        return;
    rlim_t want = rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= need ? need : rl.rlim_max;
    struct rlimit nl = { want, rl.rlim_max };
    if (setrlimit(RLIMIT_NOFILE, &nl) == 0)
        rl.rlim_cur = want;
    if (rl.rlim_cur < need) {
        unsigned fit = rl.rlim_cur > 128 ? (unsigned)(rl.rlim_cur - 64) : 64;
        fprintf(stderr, "darkscope collector: warning: the file descriptor limit (%llu) leaves room for %u "
                        "connections, not --max-connections %u (raise LimitNOFILE)\n",
                (unsigned long long)rl.rlim_cur, fit, c->o.max_connections);
        c->o.max_connections = fit;
    }
}

static void set_defaults(ds_collector_opts *o)
{
    if (o->threads < 1)
        o->threads = 1;
    if (!o->max_segment)
        o->max_segment = DS_COLLECTOR_MAX_SEGMENT_DEFAULT;
    if (!o->max_decompressed)
        o->max_decompressed = DS_COLLECTOR_MAX_DECOMPRESSED_DEFAULT;
    if (!o->max_ratio)
        o->max_ratio = DS_COLLECTOR_MAX_RATIO_DEFAULT;
    if (!o->max_connections)
        o->max_connections = DS_COLLECTOR_MAX_CONNECTIONS_DEFAULT;
    if (!o->max_per_address)
        o->max_per_address = DS_COLLECTOR_MAX_PER_ADDRESS_DEFAULT;
    if (!o->header_timeout)
        o->header_timeout = DS_COLLECTOR_HEADER_TIMEOUT_DEFAULT;
    if (!o->min_rate)
        o->min_rate = DS_COLLECTOR_MIN_RATE_DEFAULT;
    if (!o->timeout_seconds)
        o->timeout_seconds = DS_COLLECTOR_IDLE_TIMEOUT_DEFAULT;
    if (!o->http_threads)
        o->http_threads = DS_COLLECTOR_HTTP_THREADS_DEFAULT;
}

static int configured(const ds_config *cfg, const char *name)
{
    for (size_t i = 0; i < cfg->nsensors; i++)
        if (strcmp(cfg->sensors[i].name, name) == 0)
            return 1;
    return 0;
}

static ds_rc start_daemon(ds_collector *c, ds_err *err)
{
    const ds_collector_opts *o = &c->o;
    unsigned flags = MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME;
    flags |= MHD_is_feature_supported(MHD_FEATURE_EPOLL) == MHD_YES ? MHD_USE_EPOLL_INTERNAL_THREAD
                                                                     : MHD_USE_AUTO_INTERNAL_THREAD;
    if (o->tls_cert)
        flags |= MHD_USE_TLS;
    struct MHD_OptionItem opts[16];
    size_t n = 0;
#define OPT(opt, val, ptr) opts[n++] = (struct MHD_OptionItem){ (opt), (intptr_t)(val), (ptr) }
    OPT(MHD_OPTION_EXTERNAL_LOGGER, ds_httpd_log, (void *)"darkscope collector");   /* first, or the options' own messages miss it */
    OPT(MHD_OPTION_LISTEN_SOCKET, c->listen_fd, NULL);
    OPT(MHD_OPTION_NOTIFY_COMPLETED, ds_col_on_completed, c);
    OPT(MHD_OPTION_NOTIFY_CONNECTION, ds_guard_notify, c);
    OPT(MHD_OPTION_CONNECTION_LIMIT, o->max_connections, NULL);
    OPT(MHD_OPTION_PER_IP_CONNECTION_LIMIT, o->max_per_address, NULL);
    OPT(MHD_OPTION_CONNECTION_TIMEOUT, o->timeout_seconds, NULL);
    if (o->http_threads > 1)
        OPT(MHD_OPTION_THREAD_POOL_SIZE, o->http_threads, NULL);
    if (o->tls_cert) {
        OPT(MHD_OPTION_HTTPS_MEM_CERT, 0, c->tls_cert_pem);
        OPT(MHD_OPTION_HTTPS_MEM_KEY, 0, c->tls_key_pem);
        OPT(MHD_OPTION_HTTPS_PRIORITIES, 0, (void *)DS_HTTPD_TLS_PRIORITIES);
    }
    OPT(MHD_OPTION_END, 0, NULL);
#undef OPT
    c->mhd = MHD_start_daemon(flags, 0, NULL, NULL, ds_col_on_request, c, MHD_OPTION_ARRAY, opts, MHD_OPTION_END);
    if (!c->mhd)
        return ds_fail(err, DS_EIO, "--listen %s: libmicrohttpd would not start (see its message above; a bad "
                       "TLS certificate or key?)", o->listen);
    return DS_OK;
}

ds_rc ds_collector_start(ds_collector **out, const ds_collector_opts *o, ds_err *err)
{
    ds_rc rc = DS_ENOMEM;
    ds_collector *c = calloc(1, sizeof *c);
    *out = NULL;
    if (!c)
        return ds_fail(err, DS_ENOMEM, "out of memory");
    c->o = *o;
    c->listen_fd = c->spool_lock_fd = c->store_lock_fd = -1;
    c->started = time(NULL);
    pthread_mutex_init(&c->tokens_mu, NULL);
    pthread_mutex_init(&c->ledger_mu, NULL);
    pthread_mutex_init(&c->reader_mu, NULL);
    pthread_mutex_init(&c->stats_mu, NULL);
    pthread_mutex_init(&c->guard.mu, NULL);
    pthread_mutex_init(&c->work.mu, NULL);
    pthread_cond_init(&c->work.cv, NULL);
    set_defaults(&c->o);
    if (!(c->ingest = calloc(o->cfg->nsensors ? o->cfg->nsensors : 1, sizeof *c->ingest)))
        goto out;
    if (o->cfg->nsensors == 0) {
        rc = ds_fail(err, DS_EINVAL, "no sensors configured: the collector ingests each upload as its sensor's "
                     "capture, so add a [sensor.NAME] section per sensor");
        goto out;
    }
    if ((!o->tls_cert) != (!o->tls_key)) {
        rc = ds_fail(err, DS_EINVAL, "TLS needs both --tls-cert and --tls-key");
        goto out;
    }
    if ((rc = ds_mhd_load(err)) != DS_OK || (rc = ds_collector_reload_tokens(c, err)) != DS_OK)
        goto out;
    if (c->tokens.mode & 077)
        fprintf(stderr, "darkscope collector: warning: tokens file %s may be read by others (mode %o): chmod 600 it\n",
                o->tokens_path, c->tokens.mode & 0777);
    if (c->tokens.n == 0)
        fprintf(stderr, "darkscope collector: warning: %s holds no tokens: every upload will be refused "
                        "(darkscope token new NAME --tokens %s)\n", o->tokens_path, o->tokens_path);
    for (size_t i = 0; i < c->tokens.n; i++)
        if (!configured(o->cfg, c->tokens.v[i].name))
            fprintf(stderr, "darkscope collector: warning: sensor %s has a token but no [sensor.%s] section; "
                            "its uploads will be refused\n", c->tokens.v[i].name, c->tokens.v[i].name);
    if (o->tls_cert) {
        if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
            rc = ds_fail(err, DS_EINVAL, "this libmicrohttpd was built without TLS");
            goto out;
        }
        if ((rc = ds_httpd_read_pem(o->tls_cert, 0, &c->tls_cert_pem, err)) != DS_OK ||
            (rc = ds_httpd_read_pem(o->tls_key, 1, &c->tls_key_pem, err)) != DS_OK)
            goto out;
    }
    if (o->spool_dir) {
        snprintf(c->spool, sizeof c->spool, "%s", o->spool_dir);
    } else if (strstr(o->cfg->store_path, "://")) {   /* a ClickHouse store: no directory beside it */
        rc = ds_fail(err, DS_EINVAL, "store %s is not a file: give the spool directory (--spool DIR)",
                     o->cfg->store_path);
        goto out;
    } else {
        const char *slash = strrchr(o->cfg->store_path, '/');
        if (slash)
            snprintf(c->spool, sizeof c->spool, "%.*s/incoming", (int)(slash - o->cfg->store_path), o->cfg->store_path);
        else
            snprintf(c->spool, sizeof c->spool, "incoming");
    }
    if (ds_col_mkdirs(c->spool, 0700) != 0) {
        rc = ds_fail(err, DS_EIO, "spool %s: %s", c->spool, strerror(errno));
        goto out;
    }
    if ((rc = ds_spool_lock(c, err)) != DS_OK)   /* before the clean-up: it deletes uploads in progress */
        goto out;
    ds_spool_clean(c->spool);
    if (o->archive_dir && ds_col_mkdirs(o->archive_dir, 0750) != 0) {
        rc = ds_fail(err, DS_EIO, "archive %s: %s", o->archive_dir, strerror(errno));
        goto out;
    }
    if ((rc = ds_store_open(&c->ledger, o->cfg->store_path, 1, err)) != DS_OK)
        goto out;
    if (!ds_store_keeps(c->ledger, DS_WRITABLE | DS_KEEPS_LEDGER)) {
        rc = ds_fail(err, DS_EINVAL, "store %s: the %s backend has no collector ledger", o->cfg->store_path,
                     c->ledger->ops->name);
        goto out;
    }
    /* a store that keeps the collector role itself (ClickHouse: a lease); SQLite's is the file
     * lock ds_spool_lock took */
    if ((rc = ds_store_role_take(c->ledger, "collector", err)) != DS_OK)
        goto out;
    if ((rc = ds_store_open(&c->reader, o->cfg->store_path, 0, err)) != DS_OK)
        goto out;
    ds_httpd_listen hl = { o->listen, o->tls_cert != NULL, o->insecure_plain_http, "the sensors' bearer tokens" };
    if ((rc = ds_httpd_bind(&hl, &c->listen_fd, &c->port, err)) != DS_OK)
        goto out;
    fit_fd_limit(c);
    if ((rc = ds_guard_start(c, err)) != DS_OK || (rc = ds_worker_start(c, err)) != DS_OK ||
        (rc = start_daemon(c, err)) != DS_OK)
        goto out;
    ds_collector_housekeep(c);
    *out = c;
    c = NULL;
    rc = DS_OK;
out:
    if (rc == DS_ENOMEM && !err->msg[0])
        ds_fail(err, rc, "out of memory");
    ds_collector_stop(c);
    return rc;
}

unsigned ds_collector_port(const ds_collector *c) { return c->port; }

static void nap_100ms(void)
{
    struct timespec ts = { 0, 100000000L };
    nanosleep(&ts, NULL);
}

/* Stop accepting; give the uploads in progress STOP_DRAIN_SECONDS to arrive and be committed;
 * commit what is queued and send those answers; then close everything. */
static void drain(ds_collector *c)
{
    MHD_socket lfd = MHD_quiesce_daemon(c->mhd);
    (void)lfd;   /* our own listen_fd: closed below */
    unsigned busy = ds_guard_busy(c);
    if (busy)
        fprintf(stderr, "darkscope collector: waiting up to %d s for %u requests in progress\n", STOP_DRAIN_SECONDS, busy);
    for (int i = 0; i < STOP_DRAIN_SECONDS * 10 && (ds_guard_busy(c) || ds_worker_pending(c)); i++)
        nap_100ms();
    ds_worker_stop(c);   /* commits what is queued and resumes those connections */
    for (int i = 0; i < 20 && ds_guard_busy(c); i++)
        nap_100ms();
}

void ds_collector_stop(ds_collector *c)
{
    if (!c)
        return;
    if (c->mhd) {
        drain(c);
        MHD_stop_daemon(c->mhd);
    }
    ds_worker_stop(c);
    ds_guard_stop(c);
    if (c->listen_fd >= 0)
        close(c->listen_fd);
    if (c->ingest)
        for (size_t i = 0; i < c->o.cfg->nsensors; i++)
            ds_ingest_free(c->ingest[i]);
    free(c->ingest);
    ds_store_close(c->reader);
    ds_store_close(c->ledger);
    ds_spool_unlock(c);
    ds_tokens_free(&c->tokens);
    ds_httpd_free_pem(c->tls_cert_pem);
    ds_httpd_free_pem(c->tls_key_pem);
    pthread_mutex_destroy(&c->tokens_mu);
    pthread_mutex_destroy(&c->ledger_mu);
    pthread_mutex_destroy(&c->reader_mu);
    pthread_mutex_destroy(&c->stats_mu);
    pthread_mutex_destroy(&c->guard.mu);
    pthread_mutex_destroy(&c->work.mu);
    pthread_cond_destroy(&c->work.cv);
    free(c);
}
