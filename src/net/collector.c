/* collector.c: the collection center's HTTP(S) server (protocol in collector.h).
 *
 * HTTP/1.1 (RFC 9110, RFC 9112) is libmicrohttpd's, one thread per connection: a request may
 * wait seconds for the store, and a thread of its own keeps that from stalling other sensors'
 * uploads.  TLS is libmicrohttpd's GnuTLS.
 *
 * Exactly once.  A sensor deletes a segment only when we answer 200, and it retries anything
 * else, so every path must either commit and say so, or change nothing:
 *   1. Headers first: token, sensor, sequence, hash, length are checked before a byte of the body
 *      is read (an early answer means no "100 Continue", so a rejected body is never sent), and
 *      a sequence already in the ledger is answered from it (duplicate / 409) right away.
 *   2. The body streams into SPOOL/NAME.SEQ.XXXXXX.part while its XXH3-128 is computed; a
 *      mismatch with X-Darkscope-Hash is a 400 and the file goes.
 *   3. Under the one writer lock: look in the ledger again (two uploads of one segment may race),
 *      rename the file to SPOOL/NAME-SEQ.pcap.zst (the name the store's files row keeps), and
 *      ingest it: one store transaction that either commits or leaves the store as it was.  The
 *      ingest refuses content it has committed before (DS_EEXIST), which is how a segment
 *      committed just before a crash, and whose ledger row was lost with it, is recognised
 *      on the retry: it is answered "duplicate" and the ledger row is written then.
 *   4. ledger_put records (sensor, seq, hash) and the health headers, synced to disk (it also
 *      makes the ingest's commit durable: one WAL), and only then do we answer 200.
 *   5. The segment is deleted or moved into the archive.  Leftover .part and -SEQ.pcap.zst files
 *      at start-up were never answered 200: the sensor still has them, so they are deleted.
 *
 * POST /v1/payloads takes a `--respond syn` sensor's pay-<seq>.jsonl (first payloads, NDJSON)
 * under the same headers and the same rule: the whole file is parsed before anything is stored,
 * one store transaction keyed by (sensor, seq, hash) commits it, and only then is it 200; see
 * the section below.
 */
#include "net/collector.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

#include "ingest/ingest.h"
#include "net/mhd_api.h"
#include "net/payload_ndjson.h"
#include "net/tokens.h"

#define SEGMENTS_PATH "/v1/segments"
#define HEALTH_PATH "/v1/health"
#define PAYLOADS_PATH "/v1/payloads"

struct ds_collector {
    ds_collector_opts o;
    char spool[PATH_MAX];
    struct MHD_Daemon *mhd;
    int listen_fd;
    unsigned port;
    char *tls_cert_pem, *tls_key_pem;
    time_t started;

    pthread_mutex_t tokens_mu;      /* tokens, tokens_mtime */
    ds_tokens tokens;
    struct timespec tokens_mtime;

    pthread_mutex_t ledger_mu;      /* the ledger handle (one SQLite connection: one thread at a time) */
    ds_store *ledger;

    pthread_mutex_t write_mu;       /* one writer: the ingests and their ledger rows */
    ds_ingest **ingest;             /* per configured sensor, made at its first upload */

    pthread_mutex_t stats_mu;
    uint64_t committed, duplicates, rejected;
    uint64_t payload_files;         /* POST /v1/payloads committed */
};

typedef struct upload {
    int answered;                   /* a response was queued: ignore the rest */
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
} upload;

/* ---- small helpers ------------------------------------------------------------------------- */

static double since(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

/* A strict u64: 1 to 20 decimal digits, no sign, no spaces, no overflow.  0 on success. */
static int parse_u64(const char *s, uint64_t *out)
{
    uint64_t v = 0;
    if (!s || !*s)
        return -1;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return -1;
        unsigned d = (unsigned)(*s - '0');
        if (v > (UINT64_MAX - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

static int parse_hash(const char *s, uint8_t out[16])
{
    if (!s || strlen(s) != 32)
        return -1;
    for (int i = 0; i < 16; i++) {
        unsigned v = 0;
        for (int k = 0; k < 2; k++) {
            char c = s[2 * i + k];
            unsigned d = c >= '0' && c <= '9' ? (unsigned)(c - '0')
                       : c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10)
                       : c >= 'A' && c <= 'F' ? (unsigned)(c - 'A' + 10) : 16u;
            if (d > 15)
                return -1;
            v = v << 4 | d;
        }
        out[i] = (uint8_t)v;
    }
    return 0;
}

static void hash_hex(const uint8_t h[16], char out[33])
{
    static const char digits[] = "0123456789abcdef";
    for (int i = 0; i < 16; i++) {
        out[2 * i] = digits[h[i] >> 4];
        out[2 * i + 1] = digits[h[i] & 15];
    }
    out[32] = 0;
}

/* s as a JSON string body (RFC 8259 escapes) into out, cut to fit. */
static void json_escape(const char *s, char *out, size_t len)
{
    size_t o = 0;
    for (; *s && o + 7 < len; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            out[o++] = '\\';
            out[o++] = (char)c;
        } else if (c < 0x20) {
            o += (size_t)snprintf(out + o, len - o, "\\u%04x", c);
        } else {
            out[o++] = (char)c;
        }
    }
    out[o] = 0;
}

static void log_line(const upload *u, unsigned code, const char *what)
{
    /* one line per request: systemd's journal adds the time */
    if (u && u->have_seq)
        fprintf(stderr, "darkscope collector: %s sensor=%s %s=%llu bytes=%llu -> %u %s (%.3f s)\n", u->peer,
                u->sensor, u->payloads ? "payload-file" : "segment", (unsigned long long)u->seq, (unsigned long long)u->received, code, what, since(&u->t0));
    else if (u && u->sensor[0])
        fprintf(stderr, "darkscope collector: %s sensor=%s -> %u %s\n", u->peer, u->sensor, code, what);
    else
        fprintf(stderr, "darkscope collector: %s -> %u %s\n", u ? u->peer : "-", code, what);
}

static enum MHD_Result send_json(struct MHD_Connection *conn, unsigned code, const char *body)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    if (code == MHD_HTTP_UNAUTHORIZED)
        MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer realm=\"darkscope\"");
    if (code == MHD_HTTP_METHOD_NOT_ALLOWED)
        MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "POST");
    if (code == MHD_HTTP_SERVICE_UNAVAILABLE)
        MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, "30");
    enum MHD_Result ret = MHD_queue_response(conn, code, r);
    MHD_destroy_response(r);
    return ret;
}

/* An error answer and its log line. */
static enum MHD_Result reject(ds_collector *c, struct MHD_Connection *conn, upload *u, unsigned code, const char *msg)
{
    char esc[1024], body[1400];
    json_escape(msg, esc, sizeof esc);
    snprintf(body, sizeof body, "{\"status\":\"error\",\"code\":%u,\"error\":\"%s\"}\n", code, esc);
    log_line(u, code, msg);
    pthread_mutex_lock(&c->stats_mu);
    c->rejected++;
    pthread_mutex_unlock(&c->stats_mu);
    if (u)
        u->answered = 1;
    return send_json(conn, code, body);
}

/* 200 for a stored (or already stored) upload: `count` of `unit` (packets of a segment, rows of a
 * payload file) in the body and the log line, and one more in *committed or the duplicates. */
static enum MHD_Result answer_ok(ds_collector *c, struct MHD_Connection *conn, upload *u, int duplicate,
                                 const char *unit, uint64_t count, const char *note, uint64_t *committed)
{
    char body[512];
    snprintf(body, sizeof body, "{\"status\":\"%s\",\"sensor\":\"%s\",\"segment\":%llu,\"%s\":%llu}\n",
             duplicate ? "duplicate" : "committed", u->sensor, (unsigned long long)u->seq, unit,
             (unsigned long long)count);
    char what[256];
    snprintf(what, sizeof what, "%s %s=%llu%s%s", duplicate ? "duplicate" : "committed", unit,
             (unsigned long long)count, note ? " " : "", note ? note : "");
    log_line(u, 200, what);
    pthread_mutex_lock(&c->stats_mu);
    if (duplicate)
        c->duplicates++;
    else
        (*committed)++;
    pthread_mutex_unlock(&c->stats_mu);
    u->answered = 1;
    return send_json(conn, MHD_HTTP_OK, body);
}

static void part_discard(upload *u)
{
    if (u->fd >= 0) {
        close(u->fd);
        u->fd = -1;
    }
    if (u->part[0]) {
        unlink(u->part);
        u->part[0] = 0;
    }
}

/* ---- tokens ---------------------------------------------------------------------------------- */

/* Re-read the tokens file when its mtime moved (`darkscope token new` while we run). */
static void tokens_refresh(ds_collector *c)
{
    struct stat st;
    if (stat(c->o.tokens_path, &st) != 0)
        return;   /* keep what we have: a file being replaced is briefly absent on some systems */
    pthread_mutex_lock(&c->tokens_mu);
    if (st.st_mtim.tv_sec != c->tokens_mtime.tv_sec || st.st_mtim.tv_nsec != c->tokens_mtime.tv_nsec) {
        ds_tokens fresh = { 0 };
        ds_err err = { 0 };
        if (ds_tokens_load(&fresh, c->o.tokens_path, 0, &err) == DS_OK) {
            ds_tokens_free(&c->tokens);
            c->tokens = fresh;
            c->tokens_mtime = st.st_mtim;
            fprintf(stderr, "darkscope collector: %s: %zu sensor tokens loaded\n", c->o.tokens_path, c->tokens.n);
        } else {
            ds_tokens_free(&fresh);
            c->tokens_mtime = st.st_mtim;   /* say it once, keep the old tokens */
            fprintf(stderr, "darkscope collector: %s (keeping the tokens loaded before)\n", err.msg);
        }
    }
    pthread_mutex_unlock(&c->tokens_mu);
}

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

/* ---- the request ----------------------------------------------------------------------------- */

static const char *header(struct MHD_Connection *conn, const char *name)
{
    return MHD_lookup_connection_value(conn, MHD_HEADER_KIND, name);
}

static int sensor_index(const ds_collector *c, const char *name)
{
    for (size_t i = 0; i < c->o.cfg->nsensors; i++)
        if (strcmp(c->o.cfg->sensors[i].name, name) == 0)
            return (int)i;
    return -1;
}

static void health_from_headers(struct MHD_Connection *conn, upload *u)
{
    ds_sensor_health *h = &u->health;
    uint64_t v;
    snprintf(h->name, sizeof h->name, "%s", u->sensor);
    h->last_seen = (int64_t)time(NULL);
    if (parse_u64(header(conn, "X-Darkscope-Kernel-Drops"), &v) == 0) {
        h->kernel_drops = v;
        h->have |= DS_HEALTH_HAVE_DROPS;
    }
    if (parse_u64(header(conn, "X-Darkscope-Spool-Bytes"), &v) == 0) {
        h->spool_bytes = v;
        h->have |= DS_HEALTH_HAVE_SPOOL;
    }
    if (parse_u64(header(conn, "X-Darkscope-Last-Ns"), &v) == 0)
        h->last_ns = v;
    /* the segment's capture span, for the ledger (sensor_silent tells a sensor that kept capturing
     * from one that was down); informative, so one that cannot be right is kept as unknown */
    uint64_t first = 0;
    if (parse_u64(header(conn, "X-Darkscope-First-Ns"), &first) == 0 && first > 0 && first <= h->last_ns &&
        h->last_ns <= (uint64_t)INT64_MAX) {
        u->first_ns = first;
        u->last_ns = h->last_ns;
    }
}

/* Record health only (no segment); failures are logged, they never change an answer. */
static void health_note(ds_collector *c, upload *u)
{
    ds_err err = { 0 };
    pthread_mutex_lock(&c->ledger_mu);
    ds_rc rc = c->ledger->ops->ledger_put(c->ledger, NULL, &u->health, &err);
    pthread_mutex_unlock(&c->ledger_mu);
    if (rc != DS_OK)
        fprintf(stderr, "darkscope collector: sensor %s: health not recorded: %s\n", u->sensor, err.msg);
}

/* The ledger's word on (sensor, seq): 0 not there, 1 same hash, 2 other hash, -1 store error. */
static int ledger_lookup(ds_collector *c, const upload *u, ds_segment_rec *rec, ds_err *err)
{
    pthread_mutex_lock(&c->ledger_mu);
    ds_rc rc = c->ledger->ops->segment_get(c->ledger, u->sensor, u->seq, rec, err);
    pthread_mutex_unlock(&c->ledger_mu);
    if (rc == DS_ENOTFOUND)
        return 0;
    if (rc != DS_OK)
        return -1;
    return memcmp(rec->hash, u->hash, 16) == 0 ? 1 : 2;
}

/* The token and the sensor it speaks for, as every upload checks them first.  0: u->sensor and
 * u->sensor_idx are set; otherwise the refusal is queued in *ret. */
static int authorize(ds_collector *c, struct MHD_Connection *conn, upload *u, enum MHD_Result *ret)
{
    char msg[512];
    const char *auth = header(conn, MHD_HTTP_HEADER_AUTHORIZATION);
    const char *name = header(conn, "X-Darkscope-Sensor");
    if (!auth || strncmp(auth, "Bearer ", 7) != 0) {
        *ret = reject(c, conn, u, MHD_HTTP_UNAUTHORIZED, "missing Authorization: Bearer token");
        return -1;
    }
    if (!name || !ds_sensor_name_ok(name)) {
        *ret = reject(c, conn, u, MHD_HTTP_BAD_REQUEST, "missing or bad X-Darkscope-Sensor (1 to 63 of A-Z a-z 0-9 . _ -)");
        return -1;
    }
    snprintf(u->sensor, sizeof u->sensor, "%s", name);   /* claimed, for the log, until the token says so */
    tokens_refresh(c);
    pthread_mutex_lock(&c->tokens_mu);
    ds_token_verdict v = ds_tokens_check(&c->tokens, name, auth + 7);
    pthread_mutex_unlock(&c->tokens_mu);
    if (v == DS_TOKEN_BAD) {
        snprintf(msg, sizeof msg, "bad token for sensor %s (unknown sensor or wrong token)", name);
        *ret = reject(c, conn, u, MHD_HTTP_UNAUTHORIZED, msg);
        return -1;
    }
    if (v == DS_TOKEN_OTHER) {
        snprintf(msg, sizeof msg, "the token is another sensor's, not %s's", name);
        *ret = reject(c, conn, u, MHD_HTTP_FORBIDDEN, msg);
        return -1;
    }
    if ((u->sensor_idx = sensor_index(c, name)) < 0) {
        snprintf(msg, sizeof msg, "sensor %s has a token but no [sensor.%s] section in the collector's configuration",
                 name, name);
        *ret = reject(c, conn, u, MHD_HTTP_FORBIDDEN, msg);
        return -1;
    }
    return 0;
}

/* First call of POST /v1/segments: everything the headers can decide. */
static enum MHD_Result begin_upload(ds_collector *c, struct MHD_Connection *conn, upload *u)
{
    char msg[512];
    enum MHD_Result refused;
    if (authorize(c, conn, u, &refused) != 0)
        return refused;
    health_from_headers(conn, u);
    if (parse_u64(header(conn, "X-Darkscope-Segment"), &u->seq) != 0)
        return reject(c, conn, u, MHD_HTTP_BAD_REQUEST, "missing or bad X-Darkscope-Segment (a decimal u64)");
    u->have_seq = 1;
    if (parse_hash(header(conn, "X-Darkscope-Hash"), u->hash) != 0)
        return reject(c, conn, u, MHD_HTTP_BAD_REQUEST, "missing or bad X-Darkscope-Hash (32 hex digits of XXH3-128)");
    hash_hex(u->hash, u->hash_hex);
    const char *ctype = header(conn, MHD_HTTP_HEADER_CONTENT_TYPE);
    if (ctype && strncmp(ctype, "application/vnd.tcpdump.pcap", 28) != 0 && strncmp(ctype, "application/octet-stream", 24) != 0)
        return reject(c, conn, u, MHD_HTTP_BAD_REQUEST, "Content-Type must be application/vnd.tcpdump.pcap");
    const char *clen = header(conn, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (!clen)
        return reject(c, conn, u, MHD_HTTP_LENGTH_REQUIRED, "Content-Length required (no chunked uploads)");
    if (parse_u64(clen, &u->length) != 0)
        return reject(c, conn, u, MHD_HTTP_BAD_REQUEST, "bad Content-Length");
    if (u->length > c->o.max_segment) {
        snprintf(msg, sizeof msg, "segment of %llu bytes is over the limit of %llu bytes (--max-segment)",
                 (unsigned long long)u->length, (unsigned long long)c->o.max_segment);
        return reject(c, conn, u, MHD_HTTP_CONTENT_TOO_LARGE, msg);
    }
    ds_segment_rec rec;
    ds_err err = { 0 };
    switch (ledger_lookup(c, u, &rec, &err)) {
    case 1:
        health_note(c, u);
        return answer_ok(c, conn, u, 1, "packets", rec.packets, "(from the ledger)", &c->committed);
    case 2: {
        char had[33];
        hash_hex(rec.hash, had);
        snprintf(msg, sizeof msg, "segment %llu of sensor %s was committed with hash %s, not %s",
                 (unsigned long long)u->seq, u->sensor, had, u->hash_hex);
        health_note(c, u);
        return reject(c, conn, u, MHD_HTTP_CONFLICT, msg);
    }
    case -1:
        return reject(c, conn, u, MHD_HTTP_SERVICE_UNAVAILABLE, err.msg);
    default:
        break;
    }
    snprintf(u->part, sizeof u->part, "%.3900s/%s.%llu.XXXXXX.part", c->spool, u->sensor, (unsigned long long)u->seq);
    if ((u->fd = mkostemps(u->part, 5, O_CLOEXEC)) < 0) {
        snprintf(msg, sizeof msg, "spool %.300s: %s", c->spool, strerror(errno));
        u->part[0] = 0;
        return reject(c, conn, u, MHD_HTTP_SERVICE_UNAVAILABLE, msg);
    }
    if (!(u->xx = XXH3_createState()) || XXH3_128bits_reset(u->xx) != XXH_OK)
        return reject(c, conn, u, MHD_HTTP_SERVICE_UNAVAILABLE, "out of memory");
    return MHD_YES;   /* libmicrohttpd now sends 100 Continue if the client asked */
}

static void body_chunk(upload *u, const char *data, size_t n)
{
    if (n > u->length - u->received) {   /* libmicrohttpd enforces the length; never trust that */
        u->write_errno = EFBIG;
        return;
    }
    u->received += n;
    XXH3_128bits_update(u->xx, data, n);
    while (n && !u->write_errno) {
        ssize_t w = write(u->fd, data, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            u->write_errno = w < 0 ? errno : EIO;
            break;
        }
        data += w;
        n -= (size_t)w;
    }
}

/* An ingest's ds_rc as an HTTP status: only the capture's own faults are the sensor's (400). */
static unsigned status_of(ds_rc rc)
{
    switch (rc) {
    case DS_EFORMAT:
    case DS_ETRUNC:
        return MHD_HTTP_BAD_REQUEST;
    case DS_EINVAL:
    case DS_ENOTFOUND:
        return MHD_HTTP_INTERNAL_SERVER_ERROR;   /* the collector's configuration, not the segment */
    default:
        return MHD_HTTP_SERVICE_UNAVAILABLE;     /* store busy or failing, memory, I/O: retry later */
    }
}

static void archive_segment(ds_collector *c, const upload *u, const char *path);

/* Last call: the whole body is in u->part. */
static enum MHD_Result finish_upload(ds_collector *c, struct MHD_Connection *conn, upload *u)
{
    char msg[700], seg[PATH_MAX];
    ds_err err = { 0 };
    enum MHD_Result ret;
    if (u->write_errno) {
        snprintf(msg, sizeof msg, "spool %.300s: cannot store the upload: %s", c->spool, strerror(u->write_errno));
        part_discard(u);
        return reject(c, conn, u, MHD_HTTP_SERVICE_UNAVAILABLE, msg);
    }
    if (u->received != u->length) {
        part_discard(u);
        return reject(c, conn, u, MHD_HTTP_BAD_REQUEST, "body shorter than Content-Length");
    }
    uint8_t got[16];
    XXH128_canonical_t canon;
    XXH128_canonicalFromHash(&canon, XXH3_128bits_digest(u->xx));
    memcpy(got, canon.digest, 16);
    if (memcmp(got, u->hash, 16) != 0) {
        char gh[33];
        hash_hex(got, gh);
        snprintf(msg, sizeof msg, "body hash %s does not match X-Darkscope-Hash %s (damaged in transit?)", gh, u->hash_hex);
        part_discard(u);
        health_note(c, u);
        return reject(c, conn, u, MHD_HTTP_BAD_REQUEST, msg);
    }
    close(u->fd);
    u->fd = -1;

    pthread_mutex_lock(&c->write_mu);
    ds_segment_rec rec;
    int seen = ledger_lookup(c, u, &rec, &err);
    if (seen != 0) {
        pthread_mutex_unlock(&c->write_mu);
        part_discard(u);
        if (seen == 1) {
            health_note(c, u);
            return answer_ok(c, conn, u, 1, "packets", rec.packets, "(raced with another upload)", &c->committed);
        }
        if (seen == 2) {
            snprintf(msg, sizeof msg, "segment %llu of sensor %s was committed with another hash",
                     (unsigned long long)u->seq, u->sensor);
            return reject(c, conn, u, MHD_HTTP_CONFLICT, msg);
        }
        return reject(c, conn, u, MHD_HTTP_SERVICE_UNAVAILABLE, err.msg);
    }
    /* the name the store's files row keeps: sensor and sequence, for the operator */
    snprintf(seg, sizeof seg, "%.3900s/%s-%020llu.pcap.zst", c->spool, u->sensor, (unsigned long long)u->seq);
    if (rename(u->part, seg) != 0) {
        snprintf(msg, sizeof msg, "spool %.400s: %s", seg, strerror(errno));
        pthread_mutex_unlock(&c->write_mu);
        part_discard(u);
        return reject(c, conn, u, MHD_HTTP_SERVICE_UNAVAILABLE, msg);
    }
    snprintf(u->part, sizeof u->part, "%s", seg);
    ds_ingest **ing = &c->ingest[u->sensor_idx];
    ds_rc rc = DS_OK;
    if (!*ing) {
        ds_ingest_opts io = { .cfg = c->o.cfg, .geo = c->o.geo, .sensor = u->sensor, .threads = c->o.threads,
                              .force = 0, .progress = 0, .store_path = c->o.cfg->store_path };
        rc = ds_ingest_new(ing, &io, &err);
    }
    ds_ingest_result res;
    memset(&res, 0, sizeof res);
    if (rc == DS_OK) {
        /* the sensor was capturing over the segment's span, as it reported it (0, 0 for an older
         * sensor that does not say: then the span of its packets) */
        ds_ingest_set_cover(*ing, DS_COVSRC_SEGMENT, u->first_ns, u->last_ns);
        rc = ds_ingest_file(*ing, seg, &res, &err);
    }
    int duplicate = rc == DS_EEXIST;   /* same content committed before: a lost answer, or `ingest` */
    if (rc != DS_OK && !duplicate) {
        pthread_mutex_unlock(&c->write_mu);
        part_discard(u);
        unsigned code = status_of(rc);
        if (code == MHD_HTTP_BAD_REQUEST)
            health_note(c, u);
        return reject(c, conn, u, code, err.msg);
    }
    ds_segment_rec s = { .seq = u->seq, .packets = res.packets, .bytes = u->length, .committed_at = (int64_t)time(NULL),
                         .first_ns = u->first_ns, .last_ns = u->last_ns };
    snprintf(s.sensor, sizeof s.sensor, "%s", u->sensor);
    memcpy(s.hash, u->hash, 16);
    u->health.last_upload = s.committed_at;
    pthread_mutex_lock(&c->ledger_mu);
    ds_rc lrc = c->ledger->ops->ledger_put(c->ledger, &s, &u->health, &err);
    pthread_mutex_unlock(&c->ledger_mu);
    pthread_mutex_unlock(&c->write_mu);
    if (lrc != DS_OK)   /* the segment is committed; a retry finds it through the ingest's DS_EEXIST */
        fprintf(stderr, "darkscope collector: sensor %s segment %llu: committed, but the ledger row failed: %s\n",
                u->sensor, (unsigned long long)u->seq, err.msg);
    /* a live sensor ships its quiet intervals as segments without packets (docs/sensor.md): the
     * ingest's "holds no packets" warning would then be logged once a rotation, for nothing */
    int quiet = res.records == 0 && !res.truncated && u->first_ns;
    if (res.warning[0] && !quiet)
        fprintf(stderr, "darkscope collector: sensor %s segment %llu: warning: %s\n", u->sensor,
                (unsigned long long)u->seq, res.warning);
    if (res.notice[0])
        fprintf(stderr, "darkscope collector: sensor %s segment %llu: %s\n", u->sensor, (unsigned long long)u->seq,
                res.notice);
    ret = answer_ok(c, conn, u, duplicate, "packets", res.packets, res.truncated ? "(truncated capture)" : NULL,
                    &c->committed);
    if (c->o.archive_dir && !duplicate)
        archive_segment(c, u, seg);
    part_discard(u);
    return ret;
}

/* ---- POST /v1/payloads ---------------------------------------------------------------------
 * A sensor's pay-<seq>.jsonl (`--respond syn`): one JSON object (RFC 8259) per line (NDJSON), each
 * a scanner's first payload: ts_ns, src, sport, dst, dport, seq, len, payload_b64 (RFC 4648
 * section 4 base64 with padding).  The same headers as a segment (token, sensor, sequence, hash
 * of the body), and the same rule: answer 200 only once it is committed, and change nothing
 * otherwise.  The whole body is parsed before anything is stored, so one malformed line refuses
 * the file (400 naming the line) rather than storing part of it; the store keeps the file once
 * per (sensor, seq, hash), so a retry is answered "duplicate".  Bodies are small (at most 2 KiB
 * per payload, one per answered connection) and are kept in memory, up to PAYLOADS_MAX.  The
 * parser is src/net/payload_ndjson.c (fuzzed by fuzz/fuzz_payload_ndjson.c). */

#define PAYLOADS_MAX ((uint64_t)64 << 20)

/* First call of POST /v1/payloads: the headers. */
static enum MHD_Result begin_payloads(ds_collector *c, struct MHD_Connection *conn, upload *u)
{
    char msg[512];
    enum MHD_Result refused;
    u->payloads = 1;
    if (authorize(c, conn, u, &refused) != 0)
        return refused;
    if (parse_u64(header(conn, "X-Darkscope-Segment"), &u->seq) != 0)
        return reject(c, conn, u, MHD_HTTP_BAD_REQUEST, "missing or bad X-Darkscope-Segment (a decimal u64)");
    u->have_seq = 1;
    if (parse_hash(header(conn, "X-Darkscope-Hash"), u->hash) != 0)
        return reject(c, conn, u, MHD_HTTP_BAD_REQUEST, "missing or bad X-Darkscope-Hash (32 hex digits of XXH3-128)");
    hash_hex(u->hash, u->hash_hex);
    const char *ctype = header(conn, MHD_HTTP_HEADER_CONTENT_TYPE);
    if (ctype && strncmp(ctype, "application/x-ndjson", 20) != 0)
        return reject(c, conn, u, MHD_HTTP_BAD_REQUEST, "Content-Type must be application/x-ndjson");
    const char *clen = header(conn, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (!clen)
        return reject(c, conn, u, MHD_HTTP_LENGTH_REQUIRED, "Content-Length required (no chunked uploads)");
    if (parse_u64(clen, &u->length) != 0)
        return reject(c, conn, u, MHD_HTTP_BAD_REQUEST, "bad Content-Length");
    uint64_t cap = c->o.max_segment < PAYLOADS_MAX ? c->o.max_segment : PAYLOADS_MAX;
    if (u->length > cap) {
        snprintf(msg, sizeof msg, "payload file of %llu bytes is over the limit of %llu bytes",
                 (unsigned long long)u->length, (unsigned long long)cap);
        return reject(c, conn, u, MHD_HTTP_CONTENT_TOO_LARGE, msg);
    }
    if (!(u->body = malloc(u->length ? (size_t)u->length : 1)))
        return reject(c, conn, u, MHD_HTTP_SERVICE_UNAVAILABLE, "out of memory");
    return MHD_YES;
}

static void payloads_chunk(upload *u, const char *data, size_t n)
{
    if (n > u->length - u->received) {   /* libmicrohttpd enforces the length; never trust that */
        u->write_errno = EFBIG;
        return;
    }
    memcpy(u->body + u->received, data, n);
    u->received += n;
}

/* Last call: the whole file is in u->body. */
static enum MHD_Result finish_payloads(ds_collector *c, struct MHD_Connection *conn, upload *u)
{
    char msg[800];
    ds_err err = { 0 };
    ds_payload_file pf = { 0 };
    enum MHD_Result ret;
    if (u->write_errno || u->received != u->length)
        return reject(c, conn, u, MHD_HTTP_BAD_REQUEST, "body longer or shorter than Content-Length");
    XXH128_canonical_t canon;
    XXH128_canonicalFromHash(&canon, XXH3_128bits(u->body, (size_t)u->received));
    if (memcmp(canon.digest, u->hash, 16) != 0) {
        char gh[33];
        hash_hex(canon.digest, gh);
        snprintf(msg, sizeof msg, "body hash %s does not match X-Darkscope-Hash %s (damaged in transit?)", gh, u->hash_hex);
        return reject(c, conn, u, MHD_HTTP_BAD_REQUEST, msg);
    }
    ds_rc prc = ds_payload_ndjson_parse(u->body, (size_t)u->received, &pf, &err);
    if (prc != DS_OK) {
        snprintf(msg, sizeof msg, "payload file %llu refused, nothing stored: %s", (unsigned long long)u->seq, err.msg);
        return reject(c, conn, u, prc == DS_ENOMEM ? MHD_HTTP_SERVICE_UNAVAILABLE : MHD_HTTP_BAD_REQUEST, msg);
    }
    size_t n = pf.n;
    ds_payload_batch b = { .seq = u->seq, .committed_at = (int64_t)time(NULL), .rows = pf.rows, .n = n };
    snprintf(b.sensor, sizeof b.sensor, "%s", u->sensor);
    memcpy(b.hash, u->hash, 16);
    pthread_mutex_lock(&c->ledger_mu);
    ds_rc rc = c->ledger->ops->payloads_put ? c->ledger->ops->payloads_put(c->ledger, &b, &err)
                                            : ds_fail(&err, DS_EINVAL, "the %s store keeps no payloads", c->ledger->ops->name);
    pthread_mutex_unlock(&c->ledger_mu);
    if (rc != DS_OK && rc != DS_EEXIST) {
        ret = reject(c, conn, u, rc == DS_EINVAL ? MHD_HTTP_INTERNAL_SERVER_ERROR : MHD_HTTP_SERVICE_UNAVAILABLE, err.msg);
        goto out;
    }
    ret = answer_ok(c, conn, u, rc == DS_EEXIST, "payloads", n, NULL, &c->payload_files);
out:
    ds_payload_file_free(&pf);
    return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                  const char *version, const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    ds_collector *c = cls;
    upload *u = *con_cls;
    if (!u) {
        if (!(u = calloc(1, sizeof *u)))
            return MHD_NO;
        u->fd = -1;
        u->sensor_idx = -1;
        clock_gettime(CLOCK_MONOTONIC, &u->t0);
        const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
        snprintf(u->peer, sizeof u->peer, "?");
        if (ci && ci->client_addr) {
            const struct sockaddr *sa = ci->client_addr;
            if (sa->sa_family == AF_INET)
                inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, u->peer, sizeof u->peer);
            else if (sa->sa_family == AF_INET6)
                inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, u->peer, sizeof u->peer);
        }
        *con_cls = u;
        if (strcmp(url, HEALTH_PATH) == 0) {
            if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
                return reject(c, conn, u, MHD_HTTP_METHOD_NOT_ALLOWED, "GET /v1/health");
            char body[256];
            pthread_mutex_lock(&c->stats_mu);
            snprintf(body, sizeof body,
                     "{\"status\":\"ok\",\"uptime_s\":%lld,\"committed\":%llu,\"duplicates\":%llu,\"rejected\":%llu,"
                     "\"payload_files\":%llu}\n",
                     (long long)(time(NULL) - c->started), (unsigned long long)c->committed,
                     (unsigned long long)c->duplicates, (unsigned long long)c->rejected,
                     (unsigned long long)c->payload_files);
            pthread_mutex_unlock(&c->stats_mu);
            u->answered = 1;
            return send_json(conn, MHD_HTTP_OK, body);
        }
        if (strcmp(url, PAYLOADS_PATH) == 0) {
            if (strcmp(method, "POST") != 0)
                return reject(c, conn, u, MHD_HTTP_METHOD_NOT_ALLOWED, "POST " PAYLOADS_PATH);
            return begin_payloads(c, conn, u);
        }
        if (strcmp(url, SEGMENTS_PATH) != 0) {
            char msg[300];
            snprintf(msg, sizeof msg, "no such path (POST " SEGMENTS_PATH ", POST " PAYLOADS_PATH ", GET " HEALTH_PATH ")");
            return reject(c, conn, u, MHD_HTTP_NOT_FOUND, msg);
        }
        if (strcmp(method, "POST") != 0)
            return reject(c, conn, u, MHD_HTTP_METHOD_NOT_ALLOWED, "POST " SEGMENTS_PATH);
        return begin_upload(c, conn, u);
    }
    if (u->answered) {   /* rejected early: let the rest of the body go by */
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (*upload_data_size) {
        if (u->payloads)
            payloads_chunk(u, upload_data, *upload_data_size);
        else
            body_chunk(u, upload_data, *upload_data_size);
        *upload_data_size = 0;
        return MHD_YES;
    }
    return u->payloads ? finish_payloads(c, conn, u) : finish_upload(c, conn, u);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls, enum MHD_RequestTerminationCode toe)
{
    ds_collector *c = cls;
    upload *u = *con_cls;
    if (!u)
        return;
    if (!u->answered && u->have_seq)   /* the client went away mid-upload: nothing was committed */
        log_line(u, 0, toe == MHD_REQUEST_TERMINATED_TIMEOUT_REACHED ? "upload timed out" : "upload aborted");
    (void)c;
    part_discard(u);
    if (u->xx)
        XXH3_freeState(u->xx);
    free(u->body);
    free(u);
    *con_cls = NULL;
}

/* ---- archive ----------------------------------------------------------------------------- */

static int mkdirs(const char *path, mode_t mode)
{
    char tmp[PATH_MAX];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof tmp)
        return -1;
    memcpy(tmp, path, n + 1);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = 0;
        if (mkdir(tmp, mode) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return mkdir(tmp, mode) != 0 && errno != EEXIST ? -1 : 0;
}

static int copy_file(const char *from, const char *to)
{
    int in = open(from, O_RDONLY | O_CLOEXEC), out = -1, rc = -1;
    char buf[1 << 16];
    if (in < 0 || (out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0)
        goto out;
    for (;;) {
        ssize_t r = read(in, buf, sizeof buf);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            goto out;
        if (r == 0)
            break;
        for (ssize_t off = 0; off < r;) {
            ssize_t w = write(out, buf + off, (size_t)(r - off));
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0)
                goto out;
            off += w;
        }
    }
    rc = fsync(out);
out:
    if (in >= 0)
        close(in);
    if (out >= 0 && close(out) != 0)
        rc = -1;
    if (rc != 0 && out >= 0)
        unlink(to);
    return rc;
}

/* ARCHIVE/SENSOR/YYYYMMDD/SEQ-HASH.pcap.zst (upload day, UTC).  A failure is logged: the
 * segment is committed either way, and it stays in SPOOL/unarchived/ for the operator. */
static void archive_segment(ds_collector *c, const upload *u, const char *path)
{
    char dir[PATH_MAX], dest[PATH_MAX + 128], day[16];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(day, sizeof day, "%Y%m%d", &tm);
    snprintf(dir, sizeof dir, "%.3900s/%s/%s", c->o.archive_dir, u->sensor, day);
    snprintf(dest, sizeof dest, "%s/%020llu-%s.pcap.zst", dir, (unsigned long long)u->seq, u->hash_hex);
    if (mkdirs(dir, 0750) == 0 && (rename(path, dest) == 0 || (errno == EXDEV && copy_file(path, dest) == 0)))
        return;
    int e = errno;
    snprintf(dir, sizeof dir, "%.3900s/unarchived", c->spool);
    snprintf(dest, sizeof dest, "%s/%s-%020llu-%s.pcap.zst", dir, u->sensor, (unsigned long long)u->seq, u->hash_hex);
    int kept = mkdirs(dir, 0700) == 0 && rename(path, dest) == 0;
    fprintf(stderr, "darkscope collector: sensor %s segment %llu: cannot archive into %s: %s; %s\n", u->sensor,
            (unsigned long long)u->seq, c->o.archive_dir, strerror(e), kept ? dest : "deleted");
}

/* Files under dir (two levels: SENSOR/DAY/) older than cutoff go; then empty day dirs. */
static void sweep_dir(const char *dir, time_t cutoff, int depth)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    if (!d)
        return;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char p[PATH_MAX];
        struct stat st;
        if ((size_t)snprintf(p, sizeof p, "%s/%s", dir, e->d_name) >= sizeof p || lstat(p, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode) && depth < 2) {
            sweep_dir(p, cutoff, depth + 1);
            if (depth == 1)
                rmdir(p);   /* fails while it holds anything: that is the test for "empty" */
        } else if (S_ISREG(st.st_mode) && depth == 2 && st.st_mtime < cutoff) {
            if (unlink(p) != 0)
                fprintf(stderr, "darkscope collector: retention: cannot delete %s: %s\n", p, strerror(errno));
        }
    }
    closedir(d);
}

void ds_collector_housekeep(ds_collector *c)
{
    if (!c->o.archive_dir || c->o.retention_days <= 0)
        return;
    sweep_dir(c->o.archive_dir, time(NULL) - (time_t)c->o.retention_days * 86400, 0);
}

/* ---- start / stop ------------------------------------------------------------------------ */

static ds_rc read_pem(const char *path, char **out, ds_err *err)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    ds_rc rc = DS_OK;
    if (!f)
        return ds_fail(err, DS_EIO, "%s: %s", path, strerror(errno));
    if (!(buf = malloc(1 << 20))) {
        rc = ds_fail(err, DS_ENOMEM, "out of memory");
        goto out;
    }
    size_t n = fread(buf, 1, (1 << 20) - 1, f);
    if (ferror(f) || n == 0 || !feof(f)) {
        rc = ds_fail(err, DS_EFORMAT, "%s: not a PEM file of at most 1 MiB", path);
        goto out;
    }
    buf[n] = 0;
    *out = buf;
    buf = NULL;
out:
    free(buf);
    fclose(f);
    return rc;
}

/* Bind "HOST:PORT" / "[V6]:PORT" / ":PORT" ourselves, so port 0 can be asked back. */
static ds_rc bind_listen(ds_collector *c, ds_err *err)
{
    char host[256] = "", port[16];
    const char *a = c->o.listen, *colon;
    if (a[0] == '[') {
        const char *close_br = strchr(a, ']');
        if (!close_br || close_br[1] != ':' || (size_t)(close_br - a - 1) >= sizeof host)
            return ds_fail(err, DS_EINVAL, "--listen %s: expected [IPV6]:PORT", a);
        memcpy(host, a + 1, (size_t)(close_br - a - 1));
        host[close_br - a - 1] = 0;
        colon = close_br + 1;
    } else {
        if (!(colon = strrchr(a, ':')) || (size_t)(colon - a) >= sizeof host)
            return ds_fail(err, DS_EINVAL, "--listen %s: expected HOST:PORT", a);
        memcpy(host, a, (size_t)(colon - a));
        host[colon - a] = 0;
    }
    uint64_t pv;
    if (parse_u64(colon + 1, &pv) != 0 || pv > 65535)
        return ds_fail(err, DS_EINVAL, "--listen %s: the port must be 0 to 65535", a);
    snprintf(port, sizeof port, "%u", (unsigned)pv);
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                              .ai_flags = AI_PASSIVE | AI_NUMERICSERV }, *ai = NULL;
    int g = getaddrinfo(host[0] ? host : "0.0.0.0", port, &hints, &ai);
    if (g != 0)
        return ds_fail(err, DS_EINVAL, "--listen %s: %s", a, gai_strerror(g));
    ds_rc rc = DS_OK;
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 64) != 0) {
        rc = ds_fail(err, DS_EIO, "--listen %s: %s", a, strerror(errno));
        goto out;
    }
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
        c->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                                 : ((struct sockaddr_in *)&ss)->sin_port);
    c->listen_fd = fd;
    fd = -1;
out:
    if (fd >= 0)
        close(fd);
    freeaddrinfo(ai);
    return rc;
}

/* Remove what a previous run left in the spool: never answered 200, so the sensors still
 * have those segments and will send them again. */
static void spool_clean(const char *spool)
{
    DIR *d = opendir(spool);
    struct dirent *e;
    unsigned n = 0;
    if (!d)
        return;
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        int part = len > 5 && strcmp(e->d_name + len - 5, ".part") == 0;
        int seg = len > 9 && strcmp(e->d_name + len - 9, ".pcap.zst") == 0;
        if (!part && !seg)
            continue;
        char p[PATH_MAX];
        if ((size_t)snprintf(p, sizeof p, "%s/%s", spool, e->d_name) < sizeof p && unlink(p) == 0)
            n++;
    }
    closedir(d);
    if (n)
        fprintf(stderr, "darkscope collector: removed %u unfinished uploads from %s\n", n, spool);
}

ds_rc ds_collector_start(ds_collector **out, const ds_collector_opts *o, ds_err *err)
{
    ds_rc rc = DS_ENOMEM;
    ds_collector *c = calloc(1, sizeof *c);
    *out = NULL;
    if (!c)
        return ds_fail(err, DS_ENOMEM, "out of memory");
    c->o = *o;
    c->listen_fd = -1;
    c->started = time(NULL);
    pthread_mutex_init(&c->tokens_mu, NULL);
    pthread_mutex_init(&c->ledger_mu, NULL);
    pthread_mutex_init(&c->write_mu, NULL);
    pthread_mutex_init(&c->stats_mu, NULL);
    if (c->o.threads < 1)
        c->o.threads = 1;
    if (!c->o.max_segment)
        c->o.max_segment = DS_COLLECTOR_MAX_SEGMENT_DEFAULT;
    if (!(c->ingest = calloc(o->cfg->nsensors ? o->cfg->nsensors : 1, sizeof *c->ingest)))
        goto out;
    if (o->cfg->nsensors == 0) {
        rc = ds_fail(err, DS_EINVAL, "no sensors configured: the collector ingests each upload as its sensor's "
                     "capture, so add a [sensor.NAME] section per sensor");
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
        if (sensor_index(c, c->tokens.v[i].name) < 0)
            fprintf(stderr, "darkscope collector: warning: sensor %s has a token but no [sensor.%s] section; "
                            "its uploads will be refused\n", c->tokens.v[i].name, c->tokens.v[i].name);
    if (o->spool_dir) {
        snprintf(c->spool, sizeof c->spool, "%s", o->spool_dir);
    } else {
        const char *slash = strrchr(o->cfg->store_path, '/');
        if (slash)
            snprintf(c->spool, sizeof c->spool, "%.*s/incoming", (int)(slash - o->cfg->store_path), o->cfg->store_path);
        else
            snprintf(c->spool, sizeof c->spool, "incoming");
    }
    if (mkdirs(c->spool, 0700) != 0) {
        rc = ds_fail(err, DS_EIO, "spool %s: %s", c->spool, strerror(errno));
        goto out;
    }
    spool_clean(c->spool);
    if (o->archive_dir && mkdirs(o->archive_dir, 0750) != 0) {
        rc = ds_fail(err, DS_EIO, "archive %s: %s", o->archive_dir, strerror(errno));
        goto out;
    }
    if ((rc = ds_store_open(&c->ledger, o->cfg->store_path, 1, err)) != DS_OK)
        goto out;
    if (!c->ledger->ops->segment_get || !c->ledger->ops->ledger_put) {
        rc = ds_fail(err, DS_EINVAL, "store %s: the %s backend has no collector ledger", o->cfg->store_path,
                     c->ledger->ops->name);
        goto out;
    }
    if ((!o->tls_cert) != (!o->tls_key)) {
        rc = ds_fail(err, DS_EINVAL, "TLS needs both --tls-cert and --tls-key");
        goto out;
    }
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_ERROR_LOG;
    if (o->tls_cert) {
        if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
            rc = ds_fail(err, DS_EINVAL, "this libmicrohttpd was built without TLS");
            goto out;
        }
        if ((rc = read_pem(o->tls_cert, &c->tls_cert_pem, err)) != DS_OK ||
            (rc = read_pem(o->tls_key, &c->tls_key_pem, err)) != DS_OK)
            goto out;
        flags |= MHD_USE_TLS;
    }
    if ((rc = bind_listen(c, err)) != DS_OK)
        goto out;
    unsigned limit = o->max_connections ? o->max_connections : 64, timeout = o->timeout_seconds ? o->timeout_seconds : 300;
    if (o->tls_cert)
        c->mhd = MHD_start_daemon(flags, 0, NULL, NULL, on_request, c, MHD_OPTION_LISTEN_SOCKET, c->listen_fd,
                                  MHD_OPTION_NOTIFY_COMPLETED, on_completed, c, MHD_OPTION_CONNECTION_LIMIT, limit,
                                  MHD_OPTION_CONNECTION_TIMEOUT, timeout, MHD_OPTION_HTTPS_MEM_CERT, c->tls_cert_pem,
                                  MHD_OPTION_HTTPS_MEM_KEY, c->tls_key_pem, MHD_OPTION_END);
    else
        c->mhd = MHD_start_daemon(flags, 0, NULL, NULL, on_request, c, MHD_OPTION_LISTEN_SOCKET, c->listen_fd,
                                  MHD_OPTION_NOTIFY_COMPLETED, on_completed, c, MHD_OPTION_CONNECTION_LIMIT, limit,
                                  MHD_OPTION_CONNECTION_TIMEOUT, timeout, MHD_OPTION_END);
    if (!c->mhd) {
        rc = ds_fail(err, DS_EIO, "--listen %s: libmicrohttpd would not start (see its message above; a bad "
                     "TLS certificate or key?)", o->listen);
        goto out;
    }
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

void ds_collector_stop(ds_collector *c)
{
    if (!c)
        return;
    if (c->mhd)
        MHD_stop_daemon(c->mhd);   /* joins the connection threads: requests in progress finish */
    if (c->listen_fd >= 0)
        close(c->listen_fd);
    if (c->ingest)
        for (size_t i = 0; i < c->o.cfg->nsensors; i++)
            ds_ingest_free(c->ingest[i]);
    free(c->ingest);
    ds_store_close(c->ledger);
    ds_tokens_free(&c->tokens);
    free(c->tls_cert_pem);
    if (c->tls_key_pem) {
        memset(c->tls_key_pem, 0, strlen(c->tls_key_pem));
        free(c->tls_key_pem);
    }
    pthread_mutex_destroy(&c->tokens_mu);
    pthread_mutex_destroy(&c->ledger_mu);
    pthread_mutex_destroy(&c->write_mu);
    pthread_mutex_destroy(&c->stats_mu);
    free(c);
}

/* ---- health for `darkscope stats` ---------------------------------------------------------- */

static void fmt_time(int64_t t, char *buf, size_t len)
{
    struct tm tm;
    time_t tt = (time_t)t;
    if (t <= 0 || !localtime_r(&tt, &tm) || !strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm))
        snprintf(buf, len, "-");
}

/* 93784 -> "1d02h", 3723 -> "1h02m", 75 -> "1m15s"; negative (clock skew) -> "0s" */
static void fmt_age(int64_t s, char *buf, size_t len)
{
    if (s < 0)
        s = 0;
    if (s >= 86400)
        snprintf(buf, len, "%lldd%02lldh", (long long)(s / 86400), (long long)(s % 86400 / 3600));
    else if (s >= 3600)
        snprintf(buf, len, "%lldh%02lldm", (long long)(s / 3600), (long long)(s % 3600 / 60));
    else if (s >= 60)
        snprintf(buf, len, "%lldm%02llds", (long long)(s / 60), (long long)(s % 60));
    else
        snprintf(buf, len, "%llds", (long long)s);
}

ds_rc ds_collector_print_health(ds_store *st, FILE *f, int json, ds_err *err)
{
    ds_sensor_health *h = NULL;
    ds_sensor_stats *stats = NULL;
    size_t nh = 0, ns = 0;
    ds_rc rc = DS_OK;
    if (!st->ops->sensor_health)
        goto out;
    if ((rc = st->ops->sensor_health(st, &h, &nh, err)) != DS_OK)
        goto out;
    if (nh && (rc = st->ops->sensor_stats(st, &stats, &ns, err)) != DS_OK)
        goto out;
    int64_t now = (int64_t)time(NULL);
    if (json)
        fprintf(f, "[");
    else if (nh)
        fprintf(f, "\n%-12s %-19s %9s %9s %14s %9s %12s %14s\n", "sensor", "last upload", "ago", "segments",
                "packets", "lag", "kernel-drops", "spool-bytes");
    for (size_t i = 0; i < nh; i++) {
        const ds_sensor_health *r = &h[i];
        /* lag: now - newest packet, the sensor's word or what the store holds, whichever is newer */
        uint64_t last_ns = r->last_ns;
        for (size_t k = 0; k < ns; k++)
            if (stats[k].sensor_id && strcmp(stats[k].name, r->name) == 0 && stats[k].c.last_ns > last_ns)
                last_ns = stats[k].c.last_ns;
        int64_t lag = last_ns ? now - (int64_t)(last_ns / 1000000000u) : -1;
        char when[32], ago[32], lagbuf[32], drops[32], spool[32];
        fmt_time(r->last_upload, when, sizeof when);
        if (r->last_upload)
            fmt_age(now - r->last_upload, ago, sizeof ago);
        else
            snprintf(ago, sizeof ago, "-");
        if (lag >= 0)
            fmt_age(lag, lagbuf, sizeof lagbuf);
        else
            snprintf(lagbuf, sizeof lagbuf, "-");
        snprintf(drops, sizeof drops, (r->have & DS_HEALTH_HAVE_DROPS) ? "%llu" : "-", (unsigned long long)r->kernel_drops);
        snprintf(spool, sizeof spool, (r->have & DS_HEALTH_HAVE_SPOOL) ? "%llu" : "-", (unsigned long long)r->spool_bytes);
        if (json) {
            fprintf(f, "%s\n  {\"sensor\": \"%s\", \"last_upload\": %lld, \"last_seen\": %lld, \"last_segment\": %llu,"
                       " \"segments\": %llu, \"packets\": %llu, \"lag_s\": %lld, \"kernel_drops\": %s, \"spool_bytes\": %s}",
                    i ? "," : "", r->name, (long long)r->last_upload, (long long)r->last_seen,
                    (unsigned long long)r->last_segment, (unsigned long long)r->segments, (unsigned long long)r->packets,
                    (long long)lag, (r->have & DS_HEALTH_HAVE_DROPS) ? drops : "null",
                    (r->have & DS_HEALTH_HAVE_SPOOL) ? spool : "null");
        } else {
            fprintf(f, "%-12s %-19s %9s %9llu %14llu %9s %12s %14s\n", r->name, when, ago,
                    (unsigned long long)r->segments, (unsigned long long)r->packets, lagbuf, drops, spool);
        }
    }
    if (json)
        fprintf(f, "%s]\n", nh ? "\n" : "");
out:
    free(h);
    free(stats);
    return rc;
}
