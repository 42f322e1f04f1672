/* collector_guard.c: every connection's deadlines, so that nobody who can reach the collector
 * can hold its connections.
 *
 * libmicrohttpd has one per-connection timeout, an idle timeout that every byte resets: a client
 * that sends one header byte every few seconds, or one body byte, keeps its connection for ever,
 * and enough of them fill the connection limit.  So each connection is tracked here from accept
 * (MHD_OPTION_NOTIFY_CONNECTION) to close, with the phase it is in (collector_int.h):
 *
 *   headers   TLS handshake and request headers must be complete within --header-timeout
 *             seconds of accept, or of the previous answer on a kept-alive connection;
 *   body      at least --min-rate bytes per second over every GUARD_WINDOW-second window
 *             (a sensor on a slow link is fine; one that stalls is not);
 *   work      suspended while the worker commits the upload: no deadline (it is ours);
 *   answer    the answer is queued: libmicrohttpd's idle timeout applies.
 *
 * A reaper thread looks twice a second and shuts down (shutdown(2), SHUT_RDWR) the socket of a
 * connection past its deadline; libmicrohttpd then sees the connection fail, finishes the request
 * (on_completed removes a .part file) and closes the socket itself.  The fd is only touched under
 * the guard's lock, and the close notification removes the entry under the same lock before
 * libmicrohttpd closes the fd (daemon.c, MHD_cleanup_connections), so a reused fd number is
 * never shut down by mistake.  The header phase and the polling are libmicrohttpd's (epoll, a
 * few threads), so idle connections cost a file descriptor and a few KiB, not a thread.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "net/collector_int.h"

static double secs(const struct timespec *a, const struct timespec *b)
{
    return (double)(b->tv_sec - a->tv_sec) + (double)(b->tv_nsec - a->tv_nsec) / 1e9;
}

void ds_guard_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
                     enum MHD_ConnectionNotificationCode code)
{
    ds_collector *c = cls;
    conn_guard *g = &c->guard;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        conn_track *t = calloc(1, sizeof *t);
        *socket_context = t;
        if (!t)
            return;   /* untracked: libmicrohttpd's idle timeout still applies */
        const union MHD_ConnectionInfo *fi = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        const union MHD_ConnectionInfo *ai = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
        t->fd = fi ? fi->connect_fd : -1;
        snprintf(t->peer, sizeof t->peer, "?");
        if (ai && ai->client_addr && ai->client_addr->sa_family == AF_INET)
            inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)ai->client_addr)->sin_addr, t->peer,
                      sizeof t->peer);
        else if (ai && ai->client_addr && ai->client_addr->sa_family == AF_INET6)
            inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)ai->client_addr)->sin6_addr, t->peer,
                      sizeof t->peer);
        t->phase = PHASE_HEADERS;
        clock_gettime(CLOCK_MONOTONIC, &t->since);
        pthread_mutex_lock(&g->mu);
        t->next = g->head;
        if (g->head)
            g->head->prev = t;
        g->head = t;
        g->n++;
        pthread_mutex_unlock(&g->mu);
    } else if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
        conn_track *t = *socket_context;
        if (!t)
            return;
        pthread_mutex_lock(&g->mu);
        if (t->prev)
            t->prev->next = t->next;
        else
            g->head = t->next;
        if (t->next)
            t->next->prev = t->prev;
        g->n--;
        pthread_mutex_unlock(&g->mu);
        free(t);
        *socket_context = NULL;
    }
}

conn_track *ds_guard_of(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci ? ci->socket_context : NULL;
}

void ds_guard_phase(ds_collector *c, conn_track *t, conn_phase p)
{
    if (!t)
        return;
    pthread_mutex_lock(&c->guard.mu);
    t->phase = p;
    clock_gettime(CLOCK_MONOTONIC, &t->since);
    t->mark = t->since;
    if (p == PHASE_BODY)
        t->bytes = t->mark_bytes = 0;
    pthread_mutex_unlock(&c->guard.mu);
}

void ds_guard_bytes(ds_collector *c, conn_track *t, size_t n)
{
    if (!t)
        return;
    pthread_mutex_lock(&c->guard.mu);
    t->bytes += n;
    pthread_mutex_unlock(&c->guard.mu);
}

unsigned ds_guard_busy(ds_collector *c)
{
    unsigned n = 0;
    pthread_mutex_lock(&c->guard.mu);
    for (conn_track *t = c->guard.head; t; t = t->next)
        n += t->phase != PHASE_HEADERS;
    pthread_mutex_unlock(&c->guard.mu);
    return n;
}

/* One pass over the connections (under the lock): shut down those past their deadline. */
static void reap(ds_collector *c, const struct timespec *now)
{
    conn_guard *g = &c->guard;
    double header_deadline = (double)c->o.header_timeout, window = GUARD_WINDOW;
    unsigned n_headers = 0, n_slow = 0;
    char last_peer[64] = "";
    for (conn_track *t = g->head; t; t = t->next) {
        if (t->closed_by_guard || t->fd < 0)
            continue;
        int kill = 0;
        if (t->phase == PHASE_HEADERS && secs(&t->since, now) > header_deadline) {
            kill = 1;
            n_headers++;
        } else if (t->phase == PHASE_BODY && secs(&t->mark, now) >= window) {
            if (t->bytes - t->mark_bytes < (uint64_t)((double)c->o.min_rate * window)) {
                kill = 1;
                n_slow++;
            } else {
                t->mark = *now;
                t->mark_bytes = t->bytes;
            }
        }
        if (kill) {
            t->closed_by_guard = 1;
            shutdown(t->fd, SHUT_RDWR);
            snprintf(last_peer, sizeof last_peer, "%s", t->peer);
        }
    }
    g->closed_headers += n_headers;
    g->closed_slow += n_slow;
    /* one line per pass, not per connection: a flood must not flood the journal */
    if (n_headers)
        fprintf(stderr, "darkscope collector: closed %u connection%s (e.g. from %s) without complete request "
                        "headers %u s after accept (--header-timeout)\n", n_headers, n_headers == 1 ? "" : "s",
                last_peer, c->o.header_timeout);
    if (n_slow)
        fprintf(stderr, "darkscope collector: closed %u upload%s (e.g. from %s) slower than %llu bytes/s over %d s "
                        "(--min-rate)\n", n_slow, n_slow == 1 ? "" : "s", last_peer,
                (unsigned long long)c->o.min_rate, GUARD_WINDOW);
}

static void *reaper(void *arg)
{
    ds_collector *c = arg;
    conn_guard *g = &c->guard;
    pthread_mutex_lock(&g->mu);
    while (!g->stop) {
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_nsec += 500000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        int r = pthread_cond_timedwait(&g->cv, &g->mu, &until);
        if (g->stop)
            break;
        if (r == ETIMEDOUT || r == 0) {
            struct timespec now;
            clock_gettime(CLOCK_MONOTONIC, &now);
            reap(c, &now);
        }
    }
    pthread_mutex_unlock(&g->mu);
    return NULL;
}

ds_rc ds_guard_start(ds_collector *c, ds_err *err)
{
    conn_guard *g = &c->guard;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&g->cv, &ca);
    pthread_condattr_destroy(&ca);
    int e = pthread_create(&g->thread, NULL, reaper, c);
    if (e != 0)
        return ds_fail(err, DS_ENOMEM, "cannot start the connection guard thread: %s", strerror(e));
    g->running = 1;
    return DS_OK;
}

void ds_guard_stop(ds_collector *c)
{
    conn_guard *g = &c->guard;
    if (!g->running)
        return;
    pthread_mutex_lock(&g->mu);
    g->stop = 1;
    pthread_cond_signal(&g->cv);
    pthread_mutex_unlock(&g->mu);
    pthread_join(g->thread, NULL);
    g->running = 0;
    pthread_cond_destroy(&g->cv);
}
