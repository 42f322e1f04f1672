/* collector_int.h: the collector's private state, shared by its modules (not a public header).
 *
 *   collector.c         start/stop: options, the listening socket (plain HTTP on loopback only),
 *                       TLS set-up, libmicrohttpd's daemon, the tokens
 *   collector_http.c    the request handler: headers, authorization, the body as it arrives,
 *                       the answers (JSON, no filesystem paths in them)
 *   collector_guard.c   every connection's deadlines (headers, minimum body rate), enforced by a
 *                       reaper thread, since libmicrohttpd has only one idle timeout
 *   collector_worker.c  the ingest worker: finished uploads are committed off libmicrohttpd's
 *                       threads (suspend/resume), one at a time (the one writer)
 *   collector_spool.c   the spool (its lock, its clean-up), the decompression cap, the archive
 *   collector_health.c  `darkscope collector --health` / `darkscope stats` per-sensor health
 *
 * Threads: libmicrohttpd's polling threads (a small pool, epoll) run collector_http.c and never
 * wait for the store's writer; one worker thread runs every ingest and payload commit; one
 * reaper thread closes connections that miss their deadlines.  The polling threads read the
 * ledger through a connection of their own (reader) and queue their health notes to the worker,
 * so no store write ever runs on them.  Locks (never two at once): tokens_mu, ledger_mu,
 * reader_mu, stats_mu, the guard's mu, the worker's mu.
 */
#ifndef DS_NET_COLLECTOR_INT_H
#define DS_NET_COLLECTOR_INT_H

#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <time.h>
#include <xxhash.h>

#include "ingest/ingest.h"
#include "net/collector.h"
#include "net/mhd_api.h"
#include "net/tokens.h"

/* ---- one connection's deadlines (collector_guard.c) ---- */
typedef enum conn_phase {
    PHASE_HEADERS,   /* TLS handshake and request headers: must complete by the header deadline */
    PHASE_BODY,      /* the body arrives: at least min_rate bytes per GUARD_WINDOW seconds */
    PHASE_WORK,      /* suspended while the worker commits it: no deadline */
    PHASE_ANSWER,    /* the answer is queued: libmicrohttpd's idle timeout applies */
} conn_phase;

typedef struct conn_track {
    struct conn_track *prev, *next;
    int fd;
    conn_phase phase;
    struct timespec since;          /* the phase began */
    struct timespec mark;           /* PHASE_BODY: start of the current rate window */
    uint64_t bytes, mark_bytes;     /* body bytes of this request; at the mark */
    int closed_by_guard;            /* we shut it down: say why once */
    char peer[64];
} conn_track;

typedef struct conn_guard {
    pthread_mutex_t mu;
    pthread_cond_t cv;              /* wakes the reaper to stop */
    conn_track *head;
    unsigned n;
    int stop, running;
    pthread_t thread;
    uint64_t closed_headers, closed_slow;   /* counts, for /v1/health */
} conn_guard;

/* ---- the upload queue (collector_worker.c) ---- */
typedef struct upload upload;
typedef struct work_queue {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    upload *head, *tail;
    int stop, running, busy;
    pthread_t thread;
} work_queue;

struct ds_collector {
    ds_collector_opts o;
    char spool[PATH_MAX];
    struct MHD_Daemon *mhd;
    int listen_fd;
    unsigned port;
    char *tls_cert_pem, *tls_key_pem;
    time_t started;
    int spool_lock_fd, store_lock_fd;

    pthread_mutex_t tokens_mu;      /* tokens, tokens_mtime */
    ds_tokens tokens;
    struct timespec tokens_mtime;

    pthread_mutex_t ledger_mu;      /* the ledger handle (one SQLite connection: one thread at a time) */
    ds_store *ledger;               /* the worker's: every write */
    pthread_mutex_t reader_mu;
    ds_store *reader;               /* the polling threads' lookups: WAL readers never wait for the writer */

    ds_ingest **ingest;             /* per configured sensor, made at its first upload (worker only) */
    time_t months_at;               /* when the month rollups were last built (worker only) */

    pthread_mutex_t stats_mu;
    uint64_t committed, duplicates, rejected;
    uint64_t payload_files;         /* POST /v1/payloads committed */

    conn_guard guard;
    work_queue work;
};

/* One request's state (libmicrohttpd's per-request con_cls). */
struct upload {
    int answered;                   /* a response was queued: ignore the rest */
    int done;                       /* the worker filled code/resp: queue them on the next call */
    int sensor_idx;
    int have_seq;
    char sensor[64];                /* as claimed by X-Darkscope-Sensor, checked by the token */
    uint64_t seq;
    uint8_t hash[16];               /* as claimed by X-Darkscope-Hash */
    char hash_hex[33];
    uint64_t length, received;
    XXH3_state_t *xx;
    int fd;
    int write_errno;                /* the spool refused a write: answer 503 at the end */
    char part[PATH_MAX];            /* the body as it arrives ("" once gone) */
    ds_sensor_health health;
    uint64_t first_ns, last_ns;     /* X-Darkscope-First-Ns / -Last-Ns: the segment's capture span */
    struct timespec t0;
    char peer[64];
    int payloads;                   /* POST /v1/payloads: the body is kept in memory */
    char *body;
    size_t body_cap;                /* grown as the body arrives, never past `length` */
    conn_track *trk;                /* this connection's deadlines (NULL: none known) */
    struct MHD_Connection *conn;    /* while suspended */
    unsigned code;                  /* the answer the worker decided */
    char resp[1400];
    int health_only;                /* a queued health note, no connection (freed by the worker) */
    upload *qnext;
};

#define SEGMENTS_PATH "/v1/segments"
#define HEALTH_PATH "/v1/health"
#define PAYLOADS_PATH "/v1/payloads"
#define PAYLOADS_MAX ((uint64_t)64 << 20)
#define GUARD_WINDOW 10             /* seconds: the body rate is checked over windows this long */

/* collector_http.c */
enum MHD_Result ds_col_on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                  const char *version, const char *upload_data, size_t *upload_data_size,
                                  void **con_cls);
void ds_col_on_completed(void *cls, struct MHD_Connection *conn, void **con_cls, enum MHD_RequestTerminationCode toe);
int ds_col_parse_u64(const char *s, uint64_t *out);
void ds_col_hash_hex(const uint8_t h[16], char out[33]);
/* The answer in u->code/u->resp and its log line: an error (public text has no paths; the log
 * line gets log_msg, or the public text when NULL) or a 200. */
void ds_col_fail(ds_collector *c, upload *u, unsigned code, const char *public_msg, const char *log_msg);
void ds_col_ok(ds_collector *c, upload *u, int duplicate, const char *unit, uint64_t count, const char *note,
               uint64_t *committed);
void ds_col_health_note(ds_collector *c, upload *u);
/* The ledger's word on (sensor, seq): 0 not there, 1 same hash, 2 other hash, -1 store error.
 * reader: through the polling threads' own connection (never waits for the writer). */
int ds_col_ledger_lookup(ds_collector *c, const upload *u, int reader, ds_segment_rec *rec, ds_err *err);
void ds_col_part_discard(upload *u);
void ds_col_tokens_refresh(ds_collector *c);

/* collector_guard.c */
ds_rc ds_guard_start(ds_collector *c, ds_err *err);
void ds_guard_stop(ds_collector *c);
void ds_guard_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
                     enum MHD_ConnectionNotificationCode code);
conn_track *ds_guard_of(struct MHD_Connection *conn);
void ds_guard_phase(ds_collector *c, conn_track *t, conn_phase p);
void ds_guard_bytes(ds_collector *c, conn_track *t, size_t n);
/* Connections with a request in progress (body, work or answer). */
unsigned ds_guard_busy(ds_collector *c);

/* collector_worker.c */
ds_rc ds_worker_start(ds_collector *c, ds_err *err);
/* Queue a finished upload (its connection already suspended); -1 when stopping. */
int ds_worker_submit(ds_collector *c, upload *u);
/* Commit what is queued, then end the thread. */
void ds_worker_stop(ds_collector *c);
/* Queued or being committed. */
int ds_worker_pending(ds_collector *c);

/* collector_spool.c */
int ds_col_mkdirs(const char *path, mode_t mode);
ds_rc ds_spool_lock(ds_collector *c, ds_err *err);
void ds_spool_unlock(ds_collector *c);
void ds_spool_clean(const char *spool);
void ds_spool_archive(ds_collector *c, const upload *u, const char *path);
/* The decompressed size of a zstd/gzip/plain file, counting stopped once it passes `limit`:
 * 0 and *out = the size, or 1 and *out > limit. */
int ds_spool_inflated_size(const char *path, uint64_t limit, uint64_t *out);

#endif
