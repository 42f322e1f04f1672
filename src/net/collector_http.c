/* collector_http.c: the collector's request handler (libmicrohttpd's access handler).
 *
 * HTTP/1.1 (RFC 9110, RFC 9112) is libmicrohttpd's; this file decides what a request means.  It
 * runs on libmicrohttpd's polling threads, which serve every connection, so it must never wait
 * for the store's writer: everything the headers can decide is decided here (token, sensor,
 * sequence, hash, length, a ledger lookup), the body is streamed to the spool (segments) or
 * into memory (payload files) as it arrives, and once it is complete the connection is
 * suspended and the upload handed to the worker (collector_worker.c), which commits it and
 * resumes the connection; the next call here queues the answer it decided.
 *
 * Exactly once.  A sensor deletes a segment only when we answer 200, and it retries anything
 * else, so every path must either commit and say so, or change nothing (the steps are listed in
 * collector_worker.c).  An early answer (before the body) means no "100 Continue", so a refused
 * body is never sent by a client that asked.
 *
 * Answers are one JSON line.  They never name a file: the spool, archive and store paths are
 * replaced in anything we pass on from lower layers (the log line keeps them).
 *
 * Framing: a request with a Transfer-Encoding is refused, and its connection closed: we need the
 * length before the body (max_segment), and one with both Transfer-Encoding and Content-Length is
 * a request-smuggling shape (RFC 9112 section 6.1 and 6.3).  The auth scheme is matched without
 * regard to case (RFC 9110 section 11.1).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "net/collector_int.h"

/* ---- small helpers ------------------------------------------------------------------------- */

static double since(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

/* A strict u64: 1 to 20 decimal digits, no sign, no spaces, no overflow.  0 on success. */
int ds_col_parse_u64(const char *s, uint64_t *out)
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

void ds_col_hash_hex(const uint8_t h[16], char out[33])
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
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\') {
            out[o++] = '\\';
            out[o++] = (char)ch;
        } else if (ch < 0x20) {
            o += (size_t)snprintf(out + o, len - o, "\\u%04x", ch);
        } else {
            out[o++] = (char)ch;
        }
    }
    out[o] = 0;
}

/* in with every spool/archive/store path replaced, for an answer: a path in front of a '/' goes
 * with it ("SPOOL/tokyo-..." -> "tokyo-..."), a bare one becomes a word. */
static void scrub_paths(const ds_collector *c, const char *in, char *out, size_t len)
{
    const char *paths[3] = { c->spool, c->o.archive_dir, c->o.cfg ? c->o.cfg->store_path : NULL };
    static const char *const words[3] = { "the spool", "the archive", "the store" };
    size_t o = 0;
    while (*in && o + 1 < len) {
        int hit = 0;
        for (int i = 0; i < 3 && !hit; i++) {
            size_t n = paths[i] ? strlen(paths[i]) : 0;
            if (n < 2 || strncmp(in, paths[i], n) != 0)
                continue;
            hit = 1;
            in += n;
            if (*in == '/') {
                in++;
            } else {
                int w = snprintf(out + o, len - o, "%s", words[i]);
                o = w > 0 && (size_t)w < len - o ? o + (size_t)w : len - 1;
            }
        }
        if (!hit)
            out[o++] = *in++;
    }
    out[o < len ? o : len - 1] = 0;
}

static void log_line(const upload *u, unsigned code, const char *what)
{
    /* one line per request: systemd's journal adds the time */
    if (u && u->have_seq)
        fprintf(stderr, "darkscope collector: %s sensor=%s %s=%llu bytes=%llu -> %u %s (%.3f s)\n", u->peer,
                u->sensor, u->payloads ? "payload-file" : "segment", (unsigned long long)u->seq,
                (unsigned long long)u->received, code, what, since(&u->t0));
    else if (u && u->sensor[0])
        fprintf(stderr, "darkscope collector: %s sensor=%s -> %u %s\n", u->peer, u->sensor, code, what);
    else
        fprintf(stderr, "darkscope collector: %s -> %u %s\n", u ? u->peer : "-", code, what);
}

static enum MHD_Result send_json(struct MHD_Connection *conn, unsigned code, const char *body, int close_after)
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
    if (close_after)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
    enum MHD_Result ret = MHD_queue_response(conn, code, r);
    MHD_destroy_response(r);
    return ret;
}

void ds_col_fail(ds_collector *c, upload *u, unsigned code, const char *public_msg, const char *log_msg)
{
    char clean[1024], esc[1024];
    scrub_paths(c, public_msg, clean, sizeof clean);
    json_escape(clean, esc, sizeof esc);
    snprintf(u->resp, sizeof u->resp, "{\"status\":\"error\",\"code\":%u,\"error\":\"%s\"}\n", code, esc);
    u->code = code;
    log_line(u, code, log_msg ? log_msg : public_msg);
    pthread_mutex_lock(&c->stats_mu);
    c->rejected++;
    pthread_mutex_unlock(&c->stats_mu);
}

/* 200 for a stored (or already stored) upload: `count` of `unit` (packets of a segment, rows of a
 * payload file) in the body and the log line, and one more in *committed or the duplicates. */
void ds_col_ok(ds_collector *c, upload *u, int duplicate, const char *unit, uint64_t count, const char *note,
               uint64_t *committed)
{
    snprintf(u->resp, sizeof u->resp, "{\"status\":\"%s\",\"sensor\":\"%s\",\"segment\":%llu,\"%s\":%llu}\n",
             duplicate ? "duplicate" : "committed", u->sensor, (unsigned long long)u->seq, unit,
             (unsigned long long)count);
    u->code = MHD_HTTP_OK;
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
}

/* Queue the answer in u->code/u->resp. */
static enum MHD_Result respond(struct MHD_Connection *conn, upload *u, int close_after)
{
    u->answered = 1;
    return send_json(conn, u->code, u->resp, close_after);
}

/* An error answer now, and its log line. */
static enum MHD_Result reject(ds_collector *c, struct MHD_Connection *conn, upload *u, unsigned code, const char *msg)
{
    ds_col_fail(c, u, code, msg, NULL);
    return respond(conn, u, 0);
}

void ds_col_part_discard(upload *u)
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
void ds_col_tokens_refresh(ds_collector *c)
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
    if (ds_col_parse_u64(header(conn, "X-Darkscope-Kernel-Drops"), &v) == 0) {
        h->kernel_drops = v;
        h->have |= DS_HEALTH_HAVE_DROPS;
    }
    if (ds_col_parse_u64(header(conn, "X-Darkscope-Spool-Bytes"), &v) == 0) {
        h->spool_bytes = v;
        h->have |= DS_HEALTH_HAVE_SPOOL;
    }
    if (ds_col_parse_u64(header(conn, "X-Darkscope-Last-Ns"), &v) == 0)
        h->last_ns = v;
    /* the segment's capture span, for the ledger (sensor_silent tells a sensor that kept capturing
     * from one that was down); informative, so one that cannot be right is kept as unknown */
    uint64_t first = 0;
    if (ds_col_parse_u64(header(conn, "X-Darkscope-First-Ns"), &first) == 0 && first > 0 && first <= h->last_ns &&
        h->last_ns <= (uint64_t)INT64_MAX) {
        u->first_ns = first;
        u->last_ns = h->last_ns;
    }
}

/* Record health only (no segment); failures are logged, they never change an answer. */
void ds_col_health_note(ds_collector *c, upload *u)
{
    ds_err err = { 0 };
    pthread_mutex_lock(&c->ledger_mu);
    ds_rc rc = ds_store_ledger_put(c->ledger, NULL, &u->health, &err);
    pthread_mutex_unlock(&c->ledger_mu);
    if (rc != DS_OK)
        fprintf(stderr, "darkscope collector: sensor %s: health not recorded: %s\n", u->sensor, err.msg);
}

/* A health note from a polling thread: written by the worker (a store write may wait). */
static void health_later(ds_collector *c, const upload *u)
{
    upload *h = calloc(1, sizeof *h);
    if (!h)
        return;   /* informative only */
    h->health_only = 1;
    h->fd = -1;
    snprintf(h->sensor, sizeof h->sensor, "%s", u->sensor);
    h->health = u->health;
    if (ds_worker_submit(c, h) != 0)
        free(h);
}

int ds_col_ledger_lookup(ds_collector *c, const upload *u, int reader, ds_segment_rec *rec, ds_err *err)
{
    pthread_mutex_t *mu = reader ? &c->reader_mu : &c->ledger_mu;
    ds_store *st = reader ? c->reader : c->ledger;
    pthread_mutex_lock(mu);
    ds_rc rc = ds_store_segment_get(st, u->sensor, u->seq, rec, err);
    pthread_mutex_unlock(mu);
    if (rc == DS_ENOTFOUND)
        return 0;
    if (rc != DS_OK)
        return -1;
    return memcmp(rec->hash, u->hash, 16) == 0 ? 1 : 2;
}

/* "Bearer TOKEN": the scheme in any case (RFC 9110 section 11.1), then one or more spaces.  The
 * token, or NULL. */
static const char *bearer_token(const char *auth)
{
    if (!auth || strncasecmp(auth, "Bearer", 6) != 0 || auth[6] != ' ')
        return NULL;
    auth += 6;
    while (*auth == ' ')
        auth++;
    return *auth ? auth : NULL;
}

/* The token and the sensor it speaks for, as every upload checks them first.  0: u->sensor and
 * u->sensor_idx are set; otherwise the refusal is queued in *ret. */
static int authorize(ds_collector *c, struct MHD_Connection *conn, upload *u, enum MHD_Result *ret)
{
    char msg[512];
    const char *token = bearer_token(header(conn, MHD_HTTP_HEADER_AUTHORIZATION));
    const char *name = header(conn, "X-Darkscope-Sensor");
    if (!token) {
        *ret = reject(c, conn, u, MHD_HTTP_UNAUTHORIZED, "missing Authorization: Bearer token");
        return -1;
    }
    /* before anything uses the name: it becomes part of spool and archive file names */
    if (!name || !ds_sensor_name_ok(name)) {   /* it may become part of a file name (util/name.h) */
        *ret = reject(c, conn, u, MHD_HTTP_BAD_REQUEST,
                      "missing or bad X-Darkscope-Sensor (" DS_SENSOR_NAME_RULE ")");
        return -1;
    }
    snprintf(u->sensor, sizeof u->sensor, "%s", name);   /* claimed, for the log, until the token says so */
    ds_col_tokens_refresh(c);
    pthread_mutex_lock(&c->tokens_mu);
    ds_token_verdict v = ds_tokens_check(&c->tokens, name, token);
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

/* Content-Length, required, at most `cap`; no Transfer-Encoding.  0, or the refusal in *ret. */
static int body_length(ds_collector *c, struct MHD_Connection *conn, upload *u, uint64_t cap, const char *what,
                       const char *option, enum MHD_Result *ret)
{
    char msg[512];
    const char *clen = header(conn, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (header(conn, MHD_HTTP_HEADER_TRANSFER_ENCODING)) {
        /* RFC 9112 section 6.1: both is a smuggling shape; either way, close after answering */
        ds_col_fail(c, u, clen ? MHD_HTTP_BAD_REQUEST : MHD_HTTP_LENGTH_REQUIRED,
                    clen ? "Transfer-Encoding with Content-Length refused (RFC 9112 section 6.1): send Content-Length only"
                         : "Transfer-Encoding refused: Content-Length required (no chunked uploads)", NULL);
        *ret = respond(conn, u, 1);
        return -1;
    }
    if (!clen) {
        *ret = reject(c, conn, u, MHD_HTTP_LENGTH_REQUIRED, "Content-Length required (no chunked uploads)");
        return -1;
    }
    if (ds_col_parse_u64(clen, &u->length) != 0) {
        *ret = reject(c, conn, u, MHD_HTTP_BAD_REQUEST, "bad Content-Length");
        return -1;
    }
    if (u->length > cap) {
        snprintf(msg, sizeof msg, "%s of %llu bytes is over the limit of %llu bytes%s", what,
                 (unsigned long long)u->length, (unsigned long long)cap, option);
        *ret = reject(c, conn, u, MHD_HTTP_CONTENT_TOO_LARGE, msg);
        return -1;
    }
    return 0;
}

/* Sequence and hash headers, as both uploads carry them.  0, or the refusal in *ret. */
static int seq_and_hash(ds_collector *c, struct MHD_Connection *conn, upload *u, enum MHD_Result *ret)
{
    if (ds_col_parse_u64(header(conn, "X-Darkscope-Segment"), &u->seq) != 0) {
        *ret = reject(c, conn, u, MHD_HTTP_BAD_REQUEST, "missing or bad X-Darkscope-Segment (a decimal u64)");
        return -1;
    }
    u->have_seq = 1;
    if (parse_hash(header(conn, "X-Darkscope-Hash"), u->hash) != 0) {
        *ret = reject(c, conn, u, MHD_HTTP_BAD_REQUEST, "missing or bad X-Darkscope-Hash (32 hex digits of XXH3-128)");
        return -1;
    }
    ds_col_hash_hex(u->hash, u->hash_hex);
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
    if (seq_and_hash(c, conn, u, &refused) != 0)
        return refused;
    const char *ctype = header(conn, MHD_HTTP_HEADER_CONTENT_TYPE);
    if (ctype && strncmp(ctype, "application/vnd.tcpdump.pcap", 28) != 0 && strncmp(ctype, "application/octet-stream", 24) != 0)
        return reject(c, conn, u, MHD_HTTP_BAD_REQUEST, "Content-Type must be application/vnd.tcpdump.pcap");
    if (body_length(c, conn, u, c->o.max_segment, "segment", " (--max-segment)", &refused) != 0)
        return refused;
    ds_segment_rec rec;
    ds_err err = { 0 };
    switch (ds_col_ledger_lookup(c, u, 1, &rec, &err)) {
    case 1:
        health_later(c, u);
        ds_col_ok(c, u, 1, "packets", rec.packets, "(from the ledger)", &c->committed);
        return respond(conn, u, 0);
    case 2: {
        char had[33];
        ds_col_hash_hex(rec.hash, had);
        snprintf(msg, sizeof msg, "segment %llu of sensor %s was committed with hash %s, not %s",
                 (unsigned long long)u->seq, u->sensor, had, u->hash_hex);
        health_later(c, u);
        return reject(c, conn, u, MHD_HTTP_CONFLICT, msg);
    }
    case -1:
        ds_col_fail(c, u, MHD_HTTP_SERVICE_UNAVAILABLE, "the store is not answering; retry later", err.msg);
        return respond(conn, u, 0);
    default:
        break;
    }
    /* the sensor name was checked (ds_sensor_name_ok) before it gets here */
    snprintf(u->part, sizeof u->part, "%.3900s/%s.%llu.XXXXXX.part", c->spool, u->sensor, (unsigned long long)u->seq);
    if ((u->fd = mkostemps(u->part, 5, O_CLOEXEC)) < 0) {
        char logmsg[700];
        snprintf(logmsg, sizeof logmsg, "spool %.300s: %s", c->spool, strerror(errno));
        snprintf(msg, sizeof msg, "spool: %s", strerror(errno));
        u->part[0] = 0;
        ds_col_fail(c, u, MHD_HTTP_SERVICE_UNAVAILABLE, msg, logmsg);
        return respond(conn, u, 0);
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

/* First call of POST /v1/payloads: the headers. */
static enum MHD_Result begin_payloads(ds_collector *c, struct MHD_Connection *conn, upload *u)
{
    enum MHD_Result refused;
    u->payloads = 1;
    if (authorize(c, conn, u, &refused) != 0)
        return refused;
    if (seq_and_hash(c, conn, u, &refused) != 0)
        return refused;
    const char *ctype = header(conn, MHD_HTTP_HEADER_CONTENT_TYPE);
    if (ctype && strncmp(ctype, "application/x-ndjson", 20) != 0)
        return reject(c, conn, u, MHD_HTTP_BAD_REQUEST, "Content-Type must be application/x-ndjson");
    uint64_t cap = c->o.max_segment < PAYLOADS_MAX ? c->o.max_segment : PAYLOADS_MAX;
    if (body_length(c, conn, u, cap, "payload file", "", &refused) != 0)
        return refused;
    return MHD_YES;   /* the buffer grows as the body arrives: a Content-Length is only a claim */
}

static void payloads_chunk(upload *u, const char *data, size_t n)
{
    if (n > u->length - u->received) {   /* libmicrohttpd enforces the length; never trust that */
        u->write_errno = EFBIG;
        return;
    }
    if (u->received + n > u->body_cap) {
        size_t cap = u->body_cap ? u->body_cap : 65536;
        while (cap < u->received + n)
            cap *= 2;
        if (cap > u->length)
            cap = (size_t)u->length;   /* never past the length, itself at most PAYLOADS_MAX */
        char *b = realloc(u->body, cap);
        if (!b) {
            u->write_errno = ENOMEM;
            return;
        }
        u->body = b;
        u->body_cap = cap;
    }
    memcpy(u->body + u->received, data, n);
    u->received += n;
}

/* The whole body is here: suspend the connection and hand the upload to the worker, which
 * resumes it with the answer decided. */
static enum MHD_Result end_of_body(ds_collector *c, struct MHD_Connection *conn, upload *u)
{
    u->conn = conn;
    ds_guard_phase(c, u->trk, PHASE_WORK);
    MHD_suspend_connection(conn);
    if (ds_worker_submit(c, u) != 0) {
        ds_col_part_discard(u);
        ds_col_fail(c, u, MHD_HTTP_SERVICE_UNAVAILABLE, "the collector is stopping; retry later", NULL);
        u->done = 1;
        MHD_resume_connection(conn);
    }
    return MHD_YES;
}

static void peer_of(struct MHD_Connection *conn, char *out, size_t len)
{
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    snprintf(out, len, "?");
    if (ci && ci->client_addr) {
        const struct sockaddr *sa = ci->client_addr;
        if (sa->sa_family == AF_INET)
            inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, out, (socklen_t)len);
        else if (sa->sa_family == AF_INET6)
            inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, out, (socklen_t)len);
    }
}

static enum MHD_Result first_call(ds_collector *c, struct MHD_Connection *conn, upload *u, const char *url,
                                  const char *method)
{
    if (strcmp(url, HEALTH_PATH) == 0) {
        if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
            return reject(c, conn, u, MHD_HTTP_METHOD_NOT_ALLOWED, "GET /v1/health");
        pthread_mutex_lock(&c->guard.mu);
        unsigned long long conns = c->guard.n, closed_h = c->guard.closed_headers, closed_s = c->guard.closed_slow;
        pthread_mutex_unlock(&c->guard.mu);
        pthread_mutex_lock(&c->stats_mu);
        snprintf(u->resp, sizeof u->resp,
                 "{\"status\":\"ok\",\"uptime_s\":%lld,\"committed\":%llu,\"duplicates\":%llu,\"rejected\":%llu,"
                 "\"payload_files\":%llu,\"connections\":%llu,\"closed_header_timeout\":%llu,\"closed_too_slow\":%llu}\n",
                 (long long)(time(NULL) - c->started), (unsigned long long)c->committed,
                 (unsigned long long)c->duplicates, (unsigned long long)c->rejected,
                 (unsigned long long)c->payload_files, conns, closed_h, closed_s);
        pthread_mutex_unlock(&c->stats_mu);
        u->code = MHD_HTTP_OK;
        return respond(conn, u, 0);
    }
    if (strcmp(url, PAYLOADS_PATH) == 0) {
        if (strcmp(method, "POST") != 0)
            return reject(c, conn, u, MHD_HTTP_METHOD_NOT_ALLOWED, "POST " PAYLOADS_PATH);
        return begin_payloads(c, conn, u);
    }
    if (strcmp(url, SEGMENTS_PATH) != 0)
        return reject(c, conn, u, MHD_HTTP_NOT_FOUND,
                      "no such path (POST " SEGMENTS_PATH ", POST " PAYLOADS_PATH ", GET " HEALTH_PATH ")");
    if (strcmp(method, "POST") != 0)
        return reject(c, conn, u, MHD_HTTP_METHOD_NOT_ALLOWED, "POST " SEGMENTS_PATH);
    return begin_upload(c, conn, u);
}

enum MHD_Result ds_col_on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
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
        peer_of(conn, u->peer, sizeof u->peer);
        u->trk = ds_guard_of(conn);
        ds_guard_phase(c, u->trk, PHASE_BODY);   /* the headers are complete */
        *con_cls = u;
        return first_call(c, conn, u, url, method);
    }
    if (u->done) {   /* resumed by the worker: its answer */
        u->done = 0;
        ds_guard_phase(c, u->trk, PHASE_ANSWER);
        return respond(conn, u, 0);
    }
    if (u->answered) {   /* rejected early: let the rest of the body go by (the guard times it) */
        ds_guard_bytes(c, u->trk, *upload_data_size);
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (*upload_data_size) {
        ds_guard_bytes(c, u->trk, *upload_data_size);
        if (u->payloads)
            payloads_chunk(u, upload_data, *upload_data_size);
        else
            body_chunk(u, upload_data, *upload_data_size);
        *upload_data_size = 0;
        return MHD_YES;
    }
    return end_of_body(c, conn, u);
}

void ds_col_on_completed(void *cls, struct MHD_Connection *conn, void **con_cls, enum MHD_RequestTerminationCode toe)
{
    ds_collector *c = cls;
    upload *u = *con_cls;
    if (!u)
        return;
    if (!u->answered && u->have_seq)   /* the client went away mid-upload: nothing was committed */
        log_line(u, 0, toe == MHD_REQUEST_TERMINATED_TIMEOUT_REACHED ? "upload timed out" : "upload aborted");
    ds_guard_phase(c, u->trk, PHASE_HEADERS);   /* keep-alive: the next request's header deadline */
    ds_col_part_discard(u);
    if (u->xx)
        XXH3_freeState(u->xx);
    free(u->body);
    free(u);
    *con_cls = NULL;
}
