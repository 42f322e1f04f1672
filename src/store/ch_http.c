/* ch_http.c: ClickHouse's HTTP interface, through libcurl (net/curl_api.h loads it).
 *
 * Every statement is one POST to http://HOST:PORT/ (ClickHouse docs, "HTTP Interface"): the SQL
 * is the body, or, when data follows it (INSERT ... FORMAT RowBinary), the `query` URL parameter
 * and the data the body.  The database is the `database` parameter; user and password go as HTTP
 * basic authentication (RFC 7617), which every release since 1.1 accepts.  The server answers 200
 * and the result, or another status and its exception text ("Code: 60, e.displayText() = ..."),
 * which becomes the error message.  Answers are buffered whole: the backend only asks for
 * aggregates and for one kind of a period's chunks at a time.
 *
 * TLS: `secure=1` (the name clickhouse-client's --secure and the Go and Python drivers' `secure`
 * option use) makes it https://HOST:PORT/, the server's <https_port> (8443 when the URL names no
 * port).  The server's certificate is always verified, its chain against the system's CAs or
 * `ca_file=PATH` (CURLOPT_CAINFO) and its names against HOST (RFC 6125; CURLOPT_SSL_VERIFYPEER
 * and VERIFYHOST, set explicitly): there is no switch to turn that off, a self-signed server is
 * trusted by giving its certificate as ca_file.  Basic authentication over plain http to a host
 * that is not loopback sends the password in the clear (RFC 7617, 4): a warning on stderr.
 */
#include "store/ch_int.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "net/curl_api.h"

#define CH_CONNECT_TIMEOUT_S 10L

/* ---- buffers ---- */

void ch_buf_free(ch_buf *b)
{
    free(b->p);
    memset(b, 0, sizeof *b);
}

static int buf_room(ch_buf *b, size_t n)
{
    if (b->oom)
        return -1;
    if (n > SIZE_MAX / 2 - b->n) {
        b->oom = 1;
        return -1;
    }
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->n + n + 1)
            cap *= 2;
        uint8_t *p = realloc(b->p, cap);
        if (!p) {
            b->oom = 1;
            return -1;
        }
        b->p = p;
        b->cap = cap;
    }
    return 0;
}

void ch_buf_add(ch_buf *b, const void *p, size_t n)
{
    if (buf_room(b, n) != 0)
        return;
    if (n)
        memcpy(b->p + b->n, p, n);
    b->n += n;
    b->p[b->n] = 0;   /* text answers read as C strings */
}

void ch_buf_printf(ch_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int len = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (len < 0 || buf_room(b, (size_t)len) != 0)
        return;
    va_start(ap, fmt);
    vsnprintf((char *)b->p + b->n, (size_t)len + 1, fmt, ap);
    va_end(ap);
    b->n += (size_t)len;
}

/* ClickHouse docs, "Syntax: String literals": backslash escapes, \xHH for any byte */
void ch_buf_quote(ch_buf *b, const char *s)
{
    ch_buf_add(b, "'", 1);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '\\' || ch == '\'')
            ch_buf_printf(b, "\\%c", ch);
        else if (ch < 0x20 || ch == 0x7f)
            ch_buf_printf(b, "\\x%02X", ch);
        else
            ch_buf_add(b, s, 1);
    }
    ch_buf_add(b, "'", 1);
}

void ch_rb_u8(ch_buf *b, uint8_t v) { ch_buf_add(b, &v, 1); }
void ch_rb_u16(ch_buf *b, uint16_t v)
{
    uint8_t x[2] = { (uint8_t)v, (uint8_t)(v >> 8) };
    ch_buf_add(b, x, 2);
}
void ch_rb_u32(ch_buf *b, uint32_t v)
{
    uint8_t x[4];
    for (int i = 0; i < 4; i++)
        x[i] = (uint8_t)(v >> (8 * i));
    ch_buf_add(b, x, 4);
}
void ch_rb_u64(ch_buf *b, uint64_t v)
{
    uint8_t x[8];
    for (int i = 0; i < 8; i++)
        x[i] = (uint8_t)(v >> (8 * i));
    ch_buf_add(b, x, 8);
}
void ch_rb_str(ch_buf *b, const void *p, size_t n)
{
    uint8_t x[10];
    size_t k = 0;
    uint64_t v = n;
    do {   /* LEB128, as RowBinary's String and Array lengths */
        x[k] = (uint8_t)(v & 0x7f);
        v >>= 7;
        if (v)
            x[k] |= 0x80;
        k++;
    } while (v);
    ch_buf_add(b, x, k);
    ch_buf_add(b, p, n);
}

static int rd_need(ch_rd *r, size_t n)
{
    if (r->bad || n > r->n - r->off) {
        r->bad = 1;
        return -1;
    }
    return 0;
}
static uint64_t le(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}
int ch_get_u8(ch_rd *r, uint8_t *v)
{
    if (rd_need(r, 1))
        return -1;
    *v = r->p[r->off++];
    return 0;
}
int ch_get_u16(ch_rd *r, uint16_t *v)
{
    if (rd_need(r, 2))
        return -1;
    *v = (uint16_t)le(r->p + r->off, 2);
    r->off += 2;
    return 0;
}
int ch_get_u32(ch_rd *r, uint32_t *v)
{
    if (rd_need(r, 4))
        return -1;
    *v = (uint32_t)le(r->p + r->off, 4);
    r->off += 4;
    return 0;
}
int ch_get_u64(ch_rd *r, uint64_t *v)
{
    if (rd_need(r, 8))
        return -1;
    *v = le(r->p + r->off, 8);
    r->off += 8;
    return 0;
}
int ch_get_str(ch_rd *r, const uint8_t **p, size_t *n)
{
    uint64_t len = 0;
    for (int shift = 0;; shift += 7) {
        uint8_t b;
        if (shift > 63 || ch_get_u8(r, &b))
            return r->bad = 1, -1;
        len |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            break;
    }
    if (rd_need(r, len))
        return -1;
    *p = r->p + r->off;
    *n = (size_t)len;
    r->off += (size_t)len;
    return 0;
}

int ch_get_fixed(ch_rd *r, uint8_t *out, size_t n)
{
    if (rd_need(r, n))
        return -1;
    memcpy(out, r->p + r->off, n);
    r->off += n;
    return 0;
}

/* ---- URL ---- */

static ds_rc read_password(ch_conn *c, const char *path, ds_err *err)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return ds_fail(err, DS_EIO, "store %s: password file %s: %s", c->where, path, strerror(errno));
    size_t n = fread(c->password, 1, sizeof c->password - 1, f);
    int big = fgetc(f) != EOF;
    fclose(f);
    if (big)
        return ds_fail(err, DS_EINVAL, "store %s: password file %s is longer than %zu bytes", c->where, path,
                       sizeof c->password - 1);
    c->password[n] = 0;
    while (n && (c->password[n - 1] == '\n' || c->password[n - 1] == '\r'))
        c->password[--n] = 0;
    return DS_OK;
}

/* shards=HOST:PORT,HOST:PORT,... */
static ds_rc parse_shards(ch_conn *c, const char *p, size_t len, ds_err *err)
{
    const char *end = p + len;
    c->nshards = 0;
    while (p < end) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        const char *e = comma ? comma : end, *colon = NULL;
        for (const char *q = p; q < e; q++)
            if (*q == ':')
                colon = q;
        if (c->nshards == CH_MAX_SHARDS)
            return ds_fail(err, DS_EINVAL, "%s: more than %d shards", c->where, CH_MAX_SHARDS);
        ch_shard *sh = &c->shard[c->nshards];
        char num[8] = "", *ne;
        if (!colon || colon == p || (size_t)(colon - p) >= sizeof sh->host || e - colon - 1 < 1 ||
            (size_t)(e - colon - 1) >= sizeof num)
            return ds_fail(err, DS_EINVAL, "%s: shard \"%.*s\" is not HOST:PORT (the shard's HTTP interface)", c->where,
                           (int)(e - p), p);
        memcpy(num, colon + 1, (size_t)(e - colon - 1));
        unsigned long port = strtoul(num, &ne, 10);
        if (*ne || !port || port > 65535)
            return ds_fail(err, DS_EINVAL, "%s: shard \"%.*s\": the port is not a number from 1 to 65535", c->where,
                           (int)(e - p), p);
        memcpy(sh->host, p, (size_t)(colon - p));
        sh->host[colon - p] = 0;
        sh->port = (unsigned)port;
        c->nshards++;
        p = comma ? comma + 1 : end;
    }
    if (!c->nshards)
        return ds_fail(err, DS_EINVAL, "%s: shards= names no shard", c->where);
    return DS_OK;
}

static int name_ok(const char *s)   /* a database or user name: [A-Za-z0-9_] */
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if (!(*s == '_' || (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9')))
            return 0;
    return 1;
}

static int loopback(const char *host)
{
    return strcmp(host, "localhost") == 0 || strncmp(host, "127.", 4) == 0 || strcmp(host, "::1") == 0 ||
           strcmp(host, "[::1]") == 0;
}

/* "1", "true", "yes" -> 1; "0", "false", "no" -> 0; anything else -1 */
static int flag_value(const char *p, size_t n)
{
    static const char *const on[] = { "1", "true", "yes" }, *const off[] = { "0", "false", "no" };
    for (size_t i = 0; i < 3; i++) {
        if (strlen(on[i]) == n && strncasecmp(p, on[i], n) == 0)
            return 1;
        if (strlen(off[i]) == n && strncasecmp(p, off[i], n) == 0)
            return 0;
    }
    return -1;
}

ds_rc ch_parse_url(ch_conn *c, const char *url, ds_err *err)
{
    const char *p = url + strlen("clickhouse://");
    char pwfile[1024] = "";
    int port_given = 0;
    memset(c, 0, sizeof *c);
    snprintf(c->where, sizeof c->where, "%.299s", url);
    char *q = strchr(c->where, '?');
    if (q)
        *q = 0;   /* messages never show the options */
    if (strncmp(url, "clickhouse://", 13) != 0)
        return ds_fail(err, DS_EINVAL, "%s: not a clickhouse:// URL", url);
    const char *at = strchr(p, '@'), *slash = strchr(p, '/');
    if (at && (!slash || at < slash)) {
        if ((size_t)(at - p) >= sizeof c->user)
            return ds_fail(err, DS_EINVAL, "%s: the user name is too long", c->where);
        memcpy(c->user, p, (size_t)(at - p));
        p = at + 1;
    }
    if (!slash)
        return ds_fail(err, DS_EINVAL, "%s: no database: write clickhouse://HOST:PORT/DATABASE", c->where);
    size_t hl = (size_t)(slash - p);
    const char *colon = memchr(p, ':', hl);
    c->port = 8123;
    if (colon) {
        char *end;
        unsigned long port = strtoul(colon + 1, &end, 10);
        if (end != slash || !port || port > 65535)
            return ds_fail(err, DS_EINVAL, "%s: the port is not a number from 1 to 65535", c->where);
        c->port = (unsigned)port;
        port_given = 1;
        hl = (size_t)(colon - p);
    }
    if (!hl || hl >= sizeof c->host)
        return ds_fail(err, DS_EINVAL, "%s: no host name", c->where);
    memcpy(c->host, p, hl);
    const char *db = slash + 1, *opts = strchr(db, '?');
    size_t dl = opts ? (size_t)(opts - db) : strlen(db);
    if (!dl || dl >= sizeof c->db)
        return ds_fail(err, DS_EINVAL, "%s: no database: write clickhouse://HOST:PORT/DATABASE", c->where);
    memcpy(c->db, db, dl);
    /* ?user=NAME&password_file=PATH&secure=1&ca_file=PATH&cluster=NAME&shards=H:P,... (what
     * [store] user, password_file, secure, ca_file, cluster and shards add) */
    while (opts && *opts) {
        opts++;
        const char *amp = strchr(opts, '&');
        size_t len = amp ? (size_t)(amp - opts) : strlen(opts);
        if (len > 5 && strncmp(opts, "user=", 5) == 0 && len - 5 < sizeof c->user) {
            memcpy(c->user, opts + 5, len - 5);
            c->user[len - 5] = 0;
        } else if (len > 14 && strncmp(opts, "password_file=", 14) == 0 && len - 14 < sizeof pwfile) {
            memcpy(pwfile, opts + 14, len - 14);
            pwfile[len - 14] = 0;
        } else if (len >= 7 && strncmp(opts, "secure=", 7) == 0) {
            if ((c->secure = flag_value(opts + 7, len - 7)) < 0)
                return ds_fail(err, DS_EINVAL, "%s: secure=%.*s: write secure=1 (TLS) or secure=0", c->where,
                               (int)(len - 7), opts + 7);
        } else if (len > 8 && strncmp(opts, "ca_file=", 8) == 0) {
            if (len - 8 >= sizeof c->ca_file)
                return ds_fail(err, DS_EINVAL, "%s: the ca_file path is longer than %zu bytes", c->where,
                               sizeof c->ca_file - 1);
            memcpy(c->ca_file, opts + 8, len - 8);
            c->ca_file[len - 8] = 0;
        } else if (len > 8 && strncmp(opts, "cluster=", 8) == 0 && len - 8 < sizeof c->cluster) {
            memcpy(c->cluster, opts + 8, len - 8);
            c->cluster[len - 8] = 0;
        } else if (len > 7 && strncmp(opts, "shards=", 7) == 0) {
            ds_rc rc = parse_shards(c, opts + 7, len - 7, err);
            if (rc != DS_OK)
                return rc;
        } else {
            return ds_fail(err, DS_EINVAL, "%s: unknown option \"%.*s\" (user=NAME, password_file=PATH, secure=1, "
                           "ca_file=PATH, cluster=NAME and shards=HOST:PORT,... are known)", c->where, (int)len, opts);
        }
        opts = amp;
    }
    if (!name_ok(c->db))
        return ds_fail(err, DS_EINVAL, "%s: the database name may hold letters, digits and _ only", c->where);
    if (c->user[0] && !name_ok(c->user))
        return ds_fail(err, DS_EINVAL, "%s: the user name may hold letters, digits and _ only", c->where);
    if (c->cluster[0] && !name_ok(c->cluster))
        return ds_fail(err, DS_EINVAL, "%s: the cluster name may hold letters, digits and _ only", c->where);
    if (c->cluster[0] && !c->nshards)
        return ds_fail(err, DS_EINVAL, "%s: cluster=%s needs shards=HOST:PORT,... (the HTTP interface of each shard, "
                       "in the order of <remote_servers>)", c->where, c->cluster);
    if (!c->cluster[0] && c->nshards)
        return ds_fail(err, DS_EINVAL, "%s: shards= without cluster=NAME", c->where);
    if (c->ca_file[0] && !c->secure)
        return ds_fail(err, DS_EINVAL, "%s: ca_file=%s without secure=1: the CA file is for TLS (https), which "
                       "secure=1 ([store] secure = true) turns on", c->where, c->ca_file);
    if (c->ca_file[0]) {   /* here, not as libcurl's "problem with the SSL CA cert (path? access rights?)" */
        FILE *f = fopen(c->ca_file, "r");
        if (!f)
            return ds_fail(err, DS_EIO, "store %s: ca_file %s: %s", c->where, c->ca_file, strerror(errno));
        fclose(f);
    }
    if (c->secure && !port_given)
        c->port = 8443;   /* ClickHouse's usual <https_port> */
    if (pwfile[0]) {
        ds_rc rc = read_password(c, pwfile, err);
        if (rc != DS_OK)
            return rc;
    }
    static int warned;   /* once a process: a command opens its store more than once */
    if (c->user[0] && !c->secure && !loopback(c->host) && !warned) {
        warned = 1;
        fprintf(stderr, "darkscope: warning: store %s: user %s's password goes over plain http to %s: add "
                "secure=1 ([store] secure = true) to use the server's https_port\n", c->where, c->user, c->host);
    }
    return DS_OK;
}

/* ---- one statement ---- */

static size_t on_data(char *p, size_t size, size_t n, void *ctx)
{
    ch_buf *b = ctx;
    ch_buf_add(b, p, size * n);
    return b->oom ? 0 : size * n;
}

static void url_escape(ch_buf *b, const char *s)
{
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || strchr("-._~", ch))
            ch_buf_add(b, s, 1);
        else
            ch_buf_printf(b, "%%%02X", ch);   /* RFC 3986, 2.1 */
    }
}

/* libcurl's failure as a message: its error buffer (the detail: which certificate check failed)
 * or its code's text, and what to do about a TLS failure.  in_handshake: the TCP connection was
 * made and TLS was not (a plain http port answers a ClientHello with an error, or not at all
 * until the connect timeout: the same mistake either way). */
static ds_rc curl_failure(const ch_conn *c, CURLcode cc, const char *detail, int in_handshake, ds_err *err)
{
    const char *what = detail[0] ? detail : curl_easy_strerror(cc);
    size_t n = strcspn(what, "\n");
    if (c->secure && (cc == CURLE_PEER_FAILED_VERIFICATION || cc == CURLE_SSL_CACERT_BADFILE ||
                      cc == CURLE_SSL_CERTPROBLEM || cc == CURLE_SSL_ISSUER_ERROR))
        return ds_fail(err, DS_ESTORE, "store %s: TLS: the server's certificate was not accepted: %.*s (it must name "
                       "the host %s and be signed by %s%s)", c->where, (int)n, what, c->host,
                       c->ca_file[0] ? "the CA in ca_file " : "a CA this system trusts; a private CA: give it with "
                       "ca_file=PATH, [store] ca_file", c->ca_file);
    if (c->secure && (cc == CURLE_SSL_CONNECT_ERROR || (in_handshake && cc == CURLE_OPERATION_TIMEDOUT)))
        return ds_fail(err, DS_ESTORE, "store %s: TLS handshake with %s:%u failed: %.*s (is %u the server's "
                       "https_port?)", c->where, c->host, c->port, (int)n, what, c->port);
    if (!c->secure && (cc == CURLE_RECV_ERROR || cc == CURLE_GOT_NOTHING || cc == CURLE_WEIRD_SERVER_REPLY ||
                       cc == CURLE_UNSUPPORTED_PROTOCOL))
        return ds_fail(err, DS_ESTORE, "store %s: cannot reach ClickHouse at %s:%u: %.*s (if %u is the server's "
                       "https_port, add secure=1)", c->where, c->host, c->port, (int)n, what, c->port);
    return ds_fail(err, DS_ESTORE, "store %s: cannot reach ClickHouse at %s:%u: %.*s", c->where, c->host, c->port,
                   (int)n, what);
}

ds_rc ch_exec(ch_conn *c, const char *sql, const ch_buf *body, ch_buf *out, ds_err *err)
{
    ch_buf url = { 0 }, ans = { 0 };
    ds_rc rc = ds_curl_load(err);
    if (rc != DS_OK)
        return rc;
    if (!c->curl && !(c->curl = curl_easy_init()))
        return ds_fail(err, DS_ENOMEM, "store %s: cannot start libcurl", c->where);
    CURL *h = c->curl;
    curl_easy_reset(h);
    /* a query may carry a long IN list (`top`'s excluded sources): room for it (default 256 KiB) */
    ch_buf_printf(&url, "%s://%s:%u/?max_query_size=%u&", c->secure ? "https" : "http", c->host, c->port, 64u << 20);
    if (c->use_db)
        ch_buf_printf(&url, "database=%s&", c->db);
    if (c->cluster[0])   /* an INSERT into a Distributed table returns once every shard has its rows */
        ch_buf_printf(&url, "insert_distributed_sync=1&");
    if (body) {
        ch_buf_add(&url, "query=", 6);
        url_escape(&url, sql);
    }
    if (url.oom) {
        ch_buf_free(&url);
        return ds_fail(err, DS_ENOMEM, "out of memory");
    }
    curl_easy_setopt(h, CURLOPT_URL, (char *)url.p);
    curl_easy_setopt(h, CURLOPT_NOPROXY, "*");   /* a store is never reached through a web proxy */
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, CH_CONNECT_TIMEOUT_S);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    if (body) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body->n ? (char *)body->p : "");
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body->n);
    } else {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, sql);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(sql));
    }
    if (c->user[0]) {
        curl_easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        curl_easy_setopt(h, CURLOPT_USERNAME, c->user);
        curl_easy_setopt(h, CURLOPT_PASSWORD, c->password);
    }
    if (c->secure) {   /* verified always: the defaults, set so that no build's defaults matter */
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
        if (c->ca_file[0])
            curl_easy_setopt(h, CURLOPT_CAINFO, c->ca_file);
    }
    char cerr[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, cerr);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &ans);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    CURLcode cc = curl_easy_perform(h);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (getenv("DS_CH_TRACE"))   /* one line per request on stderr: where time goes (bench, debugging) */
        fprintf(stderr, "ch: %.3f s  %zu bytes  %s:%u  %.160s\n",
                (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9, ans.n, c->host, c->port, sql);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, NULL);   /* cerr goes out of scope */
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    if (ans.oom) {
        rc = ds_fail(err, DS_ENOMEM, "store %s: out of memory reading the server's answer", c->where);
    } else if (cc != CURLE_OK) {
        /* libcurl keeps no timings of a failed transfer; a timeout within the TLS handshake is
         * told by its message (lib/vtls/vtls.c: "SSL connection timeout"), a TCP one's differs */
        rc = curl_failure(c, cc, cerr, strstr(cerr, "SSL connection timeout") != NULL, err);
    } else if (status != 200) {
        /* the exception text, on one line */
        const char *msg = ans.n ? (const char *)ans.p : "(no message)";
        size_t len = strcspn(msg, "\n");
        if (len > 300)
            len = 300;
        rc = ds_fail(err, DS_ESTORE, "store %s: ClickHouse answered HTTP %ld: %.*s", c->where, status, (int)len, msg);
    } else {
        rc = DS_OK;
    }
    ch_buf_free(&url);
    if (rc == DS_OK && out) {
        ch_buf_free(out);
        *out = ans;
    } else {
        ch_buf_free(&ans);
    }
    return rc;
}

ds_rc ch_execf(ch_conn *c, ch_buf *out, ds_err *err, const char *fmt, ...)
{
    ch_buf sql = { 0 };
    va_list ap;
    va_start(ap, fmt);
    int len = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (len < 0 || buf_room(&sql, (size_t)len) != 0)
        return ds_fail(err, DS_ENOMEM, "out of memory");
    va_start(ap, fmt);
    vsnprintf((char *)sql.p, (size_t)len + 1, fmt, ap);
    va_end(ap);
    ds_rc rc = ch_exec(c, (const char *)sql.p, NULL, out, err);
    ch_buf_free(&sql);
    return rc;
}

void ch_conn_shard(const ch_conn *c, unsigned i, ch_conn *out)
{
    *out = *c;
    out->curl = NULL;
    snprintf(out->host, sizeof out->host, "%s", c->shard[i].host);
    out->port = c->shard[i].port;
    snprintf(out->where, sizeof out->where, "clickhouse://%.128s:%u/%.63s (shard %u of %.63s)", out->host, out->port, c->db,
             i + 1, c->cluster);
}

void ch_conn_copy(const ch_conn *c, ch_conn *out)
{
    *out = *c;
    out->curl = NULL;
}

void ch_conn_close(ch_conn *c)
{
    if (c->curl)   /* made only once libcurl was loaded */
        curl_easy_cleanup(c->curl);
    c->curl = NULL;
}
