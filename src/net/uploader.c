/* uploader.c: the sensor's upload thread: finished segments -> collector, over HTTP(S) with libcurl.
 *
 * Protocol (fixed with the collector): POST <collector>/v1/segments with the zstd pcap segment as
 * the body and the headers
 *   Authorization: Bearer <token>         X-Darkscope-Sensor: <name>
 *   X-Darkscope-Segment: <seq>             X-Darkscope-Hash: <hex XXH3-128 of the body, hi then lo>
 *   X-Darkscope-Kernel-Drops, X-Darkscope-Spool-Bytes, X-Darkscope-First-Ns, X-Darkscope-Last-Ns
 *   (and, informative, X-Darkscope-Packets, X-Darkscope-If-Drops, X-Darkscope-Spool-Drops)
 *   Content-Type: application/vnd.tcpdump.pcap
 * Answers: 200 with "status":"committed" or "duplicate" -> delete the file; 409 -> the collector
 * has this sequence with another hash: log loudly and move the file to conflict/; 400, 413, 415,
 * 422 -> this file itself is refused: move to rejected/ so it does not block the queue; any other
 * 4xx (401/403: a token problem; 404: wrong URL; 408/429) and 5xx or a connection error -> keep
 * the file and retry with exponential backoff (1 s doubling to 60 s).
 *
 * Exactly once: the file is deleted only after a 200, so a crash at any point leads at worst to
 * the same (sensor, seq, hash) being sent again, which the collector answers "duplicate".
 * Segments go strictly in sequence order; payload files (pay-<seq>.jsonl, POST /v1/payloads,
 * Content-Type application/x-ndjson) go on their own queue so a collector without that endpoint
 * does not hold back the pcap segments.
 */
#include "net/uploader.h"
#include "net/curl_api.h"
#include "net/sensor.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

struct ds_uploader {
    ds_uploader_opts o;
    struct ds_spool *spool;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int woken, stopping;
    double drain_until;     /* monotonic seconds */
    ds_uploader_stats st;
};

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

ds_rc ds_file_xxh128_hex(const char *path, char out[33], uint64_t *size, ds_err *err)
{
    ds_rc rc = DS_OK;
    uint8_t *buf = malloc(1u << 20);
    XXH3_state_t *h = XXH3_createState();
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    uint64_t total = 0;
    if (!buf || !h) {
        rc = ds_fail(err, DS_ENOMEM, "%s: out of memory for hashing", path);
        goto out;
    }
    if (fd < 0) {
        rc = ds_fail(err, DS_EIO, "%s: cannot open: %s", path, strerror(errno));
        goto out;
    }
    XXH3_128bits_reset(h);
    for (;;) {
        ssize_t n = read(fd, buf, 1u << 20);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = ds_fail_at(err, DS_EIO, total, "%s: read failed: %s", path, strerror(errno));
            goto out;
        }
        if (n == 0)
            break;
        XXH3_128bits_update(h, buf, (size_t)n);
        total += (uint64_t)n;
    }
    XXH128_hash_t d = XXH3_128bits_digest(h);
    snprintf(out, 33, "%016" PRIx64 "%016" PRIx64, (uint64_t)d.high64, (uint64_t)d.low64);
    if (size)
        *size = total;
out:
    if (fd >= 0)
        close(fd);
    XXH3_freeState(h);
    free(buf);
    return rc;
}

/* ---- one file ---- */

typedef struct body_buf {
    char data[4096];
    size_t len;
} body_buf;

static size_t on_body(char *p, size_t sz, size_t n, void *ud)
{
    body_buf *b = ud;
    size_t len = sz * n, room = sizeof b->data - 1 - b->len;
    size_t take = len < room ? len : room;
    memcpy(b->data + b->len, p, take);
    b->len += take;
    b->data[b->len] = '\0';
    return len;
}

static size_t on_read(char *p, size_t sz, size_t n, void *ud)
{
    return fread(p, sz, n, (FILE *)ud);
}

/* curl rewinds the body when it resends on a fresh connection (a kept-alive one the server closed) */
static int on_seek(void *ud, curl_off_t off, int origin)
{
    return fseeko((FILE *)ud, (off_t)off, origin) == 0 ? CURL_SEEKFUNC_OK : CURL_SEEKFUNC_FAIL;
}

/* The value of "status" in a small JSON object, or "" */
static void json_status(const char *body, char *out, size_t len)
{
    out[0] = '\0';
    const char *p = strstr(body, "\"status\"");
    if (!p)
        return;
    p += 8;
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
        p++;
    if (*p++ != ':')
        return;
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
        p++;
    if (*p++ != '"')
        return;
    size_t i = 0;
    while (*p && *p != '"' && i + 1 < len)
        out[i++] = *p++;
    out[i] = '\0';
}

typedef struct pending {
    uint64_t seq;
    int payload;      /* pay-<seq>.jsonl */
    uint64_t size;
} pending;

static int cmp_pending(const void *a, const void *b)
{
    const pending *x = a, *y = b;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void file_name(const pending *f, char *buf, size_t len)
{
    if (f->payload)
        snprintf(buf, len, "pay-%" PRIu64 ".jsonl", f->seq);
    else
        snprintf(buf, len, "seg-%" PRIu64 ".pcap.zst", f->seq);
}

static void move_aside(const ds_uploader_opts *o, const pending *f, const char *sub)
{
    char name[64], from[1300], to[1400];
    file_name(f, name, sizeof name);
    snprintf(from, sizeof from, "%s/%s", o->spool_dir, name);
    snprintf(to, sizeof to, "%s/%s/%s", o->spool_dir, sub, name);
    if (rename(from, to) != 0)
        fprintf(stderr, "darkscope sensor: cannot move %s to %s: %s\n", from, to, strerror(errno));
    else
        fprintf(stderr, "darkscope sensor: kept %s for inspection\n", to);
    if (!f->payload) {
        snprintf(from, sizeof from, "%s/seg-%" PRIu64 ".meta", o->spool_dir, f->seq);
        snprintf(to, sizeof to, "%s/%s/seg-%" PRIu64 ".meta", o->spool_dir, sub, f->seq);
        rename(from, to);
    }
}

static int add_header(struct curl_slist **list, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int add_header(struct curl_slist **list, const char *fmt, ...)
{
    char line[4300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    struct curl_slist *n = curl_slist_append(*list, line);
    if (!n)
        return 0;
    *list = n;
    return 1;
}

static ds_upload_outcome upload_one(CURL *curl, const ds_uploader_opts *o, const pending *f, uint64_t spool_bytes,
                                    ds_uploader_stats *st)
{
    char name[64], path[1300], url[2048], hex[33], status[64] = "";
    ds_err err = { 0 };
    ds_seg_meta m;
    uint64_t size = 0;
    struct curl_slist *hdrs = NULL;
    FILE *body = NULL;
    body_buf resp = { .len = 0 };
    ds_upload_outcome outcome = DS_UP_RETRY;
    file_name(f, name, sizeof name);
    snprintf(path, sizeof path, "%s/%s", o->spool_dir, name);
    if (ds_file_xxh128_hex(path, hex, &size, &err) != DS_OK) {
        fprintf(stderr, "darkscope sensor: %s\n", err.msg);
        goto out;
    }
    memset(&m, 0, sizeof m);
    if (!f->payload)
        ds_seg_meta_read(o->spool_dir, f->seq, &m, NULL);
    body = fopen(path, "rb");
    if (!body)
        goto out;
    size_t blen = strlen(o->collector);
    while (blen && o->collector[blen - 1] == '/')
        blen--;
    snprintf(url, sizeof url, "%.*s/v1/%s", (int)blen, o->collector, f->payload ? "payloads" : "segments");
    static const char *const names[] = { "X-Darkscope-Kernel-Drops", "X-Darkscope-If-Drops",
                                         "X-Darkscope-Spool-Drops", "X-Darkscope-Spool-Bytes",
                                         "X-Darkscope-First-Ns", "X-Darkscope-Last-Ns", "X-Darkscope-Packets" };
    /* the capture span: the wall-clock span the segment was open (a live sensor's, packets or
     * not), else that of its packets (a --read replay, a salvaged segment) */
    uint64_t span_from = m.span_from_ns ? m.span_from_ns : m.first_ns;
    uint64_t span_to = m.span_from_ns ? m.span_to_ns : m.last_ns;
    const uint64_t values[] = { m.kernel_drops, m.if_drops, m.spool_drops, spool_bytes, span_from, span_to,
                                m.packets };
    char auth[4200];
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", o->token);
    if (!add_header(&hdrs, "%s", auth) || !add_header(&hdrs, "X-Darkscope-Sensor: %s", o->sensor) ||
        !add_header(&hdrs, "X-Darkscope-Segment: %" PRIu64, f->seq) || !add_header(&hdrs, "X-Darkscope-Hash: %s", hex) ||
        !add_header(&hdrs, "Content-Type: %s", f->payload ? "application/x-ndjson" : "application/vnd.tcpdump.pcap") ||
        !add_header(&hdrs, "Expect:"))
        goto out;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (!add_header(&hdrs, "%s: %" PRIu64, names[i], values[i]))
            goto out;
    curl_easy_reset(curl);
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_POST, 1L);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(curl, CURLOPT_READFUNCTION, on_read);
    curl_easy_setopt(curl, CURLOPT_READDATA, body);
    curl_easy_setopt(curl, CURLOPT_SEEKFUNCTION, on_seek);
    curl_easy_setopt(curl, CURLOPT_SEEKDATA, body);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)size);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &resp);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);     /* stalled for 60 s: give up, retry */
    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, 60L);
    curl_easy_setopt(curl, CURLOPT_USERAGENT, "darkscope-sensor");
    if (o->cacert)
        curl_easy_setopt(curl, CURLOPT_CAINFO, o->cacert);
    CURLcode cc = curl_easy_perform(curl);
    long code = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
    if (cc != CURLE_OK) {
        fprintf(stderr, "darkscope sensor: upload of %s to %s failed: %s\n", name, url, curl_easy_strerror(cc));
        goto out;
    }
    json_status(resp.data, status, sizeof status);
    if (code == 200 && (!strcmp(status, "committed") || !strcmp(status, "duplicate"))) {
        outcome = strcmp(status, "committed") ? DS_UP_DUPLICATE : DS_UP_COMMITTED;
        fprintf(stderr, "darkscope sensor: %s (%" PRIu64 " packets, %" PRIu64 " bytes): %s\n", name, m.packets, size,
                status);
    } else if (code == 409) {
        outcome = DS_UP_CONFLICT;
        fprintf(stderr, "darkscope sensor: CONFLICT: the collector holds %s segment %" PRIu64
                        " with another hash (ours %s); NOT deleting it: %s\n", o->sensor, f->seq, hex, resp.data);
    } else if (code == 400 || code == 413 || code == 415 || code == 422) {
        outcome = DS_UP_REJECTED;
        fprintf(stderr, "darkscope sensor: REJECTED: the collector refused %s with HTTP %ld: %s\n", name, code, resp.data);
    } else {
        fprintf(stderr, "darkscope sensor: upload of %s: HTTP %ld %s%s; will retry\n", name, code, status, resp.data);
    }
out:
    if (body)
        fclose(body);
    curl_slist_free_all(hdrs);
    if (outcome == DS_UP_COMMITTED || outcome == DS_UP_DUPLICATE) {
        st->bytes_sent += size;
        if (f->payload)
            st->payload_files_sent++;
        else if (outcome == DS_UP_COMMITTED)
            st->segments_sent++;
        else
            st->duplicates++;
    } else if (outcome == DS_UP_CONFLICT) {
        st->conflicts++;
    } else if (outcome == DS_UP_REJECTED) {
        st->rejected++;
    } else {
        st->failures++;
    }
    return outcome;
}

/* List finished files: segments and payloads, each sorted by sequence. */
static int list_pending(const char *dir, pending **segs, size_t *nsegs, pending **pays, size_t *npays,
                        uint64_t *bytes)
{
    *segs = *pays = NULL;
    *nsegs = *npays = 0;
    *bytes = 0;
    size_t cs = 0, cp = 0;
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    struct dirent *e;
    while ((e = readdir(d))) {
        int payload;
        uint64_t seq;
        char tail[32];
        if (sscanf(e->d_name, "seg-%" SCNu64 "%31s", &seq, tail) == 2 && !strcmp(tail, ".pcap.zst"))
            payload = 0;
        else if (sscanf(e->d_name, "pay-%" SCNu64 "%31s", &seq, tail) == 2 && !strcmp(tail, ".jsonl"))
            payload = 1;
        else
            continue;
        char path[1300];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (stat(path, &st) != 0)
            continue;
        pending **arr = payload ? pays : segs;
        size_t *n = payload ? npays : nsegs, *cap = payload ? &cp : &cs;
        if (*n == *cap) {
            *cap = *cap ? *cap * 2 : 64;
            pending *na = realloc(*arr, *cap * sizeof *na);
            if (!na)
                break;
            *arr = na;
        }
        (*arr)[(*n)++] = (pending){ seq, payload, (uint64_t)st.st_size };
        *bytes += (uint64_t)st.st_size;
    }
    closedir(d);
    if (*nsegs)   /* qsort(NULL, 0, ...) is undefined behaviour (C11 7.22.5) */
        qsort(*segs, *nsegs, sizeof **segs, cmp_pending);
    if (*npays)
        qsort(*pays, *npays, sizeof **pays, cmp_pending);
    return 0;
}

static void finish_file(const ds_uploader_opts *o, struct ds_spool *spool, const pending *f, ds_upload_outcome oc)
{
    char name[64], path[1300];
    if (oc == DS_UP_COMMITTED || oc == DS_UP_DUPLICATE) {
        file_name(f, name, sizeof name);
        snprintf(path, sizeof path, "%s/%s", o->spool_dir, name);
        unlink(path);
        if (!f->payload) {
            snprintf(path, sizeof path, "%s/seg-%" PRIu64 ".meta", o->spool_dir, f->seq);
            unlink(path);
            if (spool)
                ds_spool_released(spool, f->size);
        }
    } else if (oc == DS_UP_CONFLICT) {
        move_aside(o, f, "conflict");
    } else if (oc == DS_UP_REJECTED) {
        move_aside(o, f, "rejected");
    }
}

/* Upload one queue in order; stop at the first file that must be retried.  Returns the number
 * left (0 when the queue emptied), and sets *retry when a file asked for backoff. */
static size_t drain_queue(CURL *curl, const ds_uploader_opts *o, struct ds_spool *spool, const pending *q, size_t n,
                          uint64_t *bytes, int *retry, ds_uploader_stats *st, volatile int *abort_flag)
{
    *retry = 0;
    for (size_t i = 0; i < n; i++) {
        if (abort_flag && *abort_flag)
            return n - i;
        ds_upload_outcome oc = upload_one(curl, o, &q[i], *bytes, st);
        if (oc == DS_UP_RETRY) {
            *retry = 1;
            return n - i;
        }
        finish_file(o, spool, &q[i], oc);
        *bytes -= *bytes > q[i].size ? q[i].size : *bytes;
    }
    return 0;
}

/* ---- the thread ---- */

static void wait_for(ds_uploader *u, double seconds)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    double t = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9 + seconds;
    ts.tv_sec = (time_t)t;
    ts.tv_nsec = (long)((t - (double)ts.tv_sec) * 1e9);
    pthread_mutex_lock(&u->mu);
    while (!u->woken) {   /* stop() sets woken once; a draining thread still sleeps between tries */
        if (pthread_cond_timedwait(&u->cv, &u->mu, &ts) != 0)
            break;
    }
    u->woken = 0;
    pthread_mutex_unlock(&u->mu);
}

static void *uploader_main(void *arg)
{
    ds_uploader *u = arg;
    CURL *curl = curl_easy_init();
    double seg_backoff = 0, pay_backoff = 0, seg_next = 0, pay_next = 0;
    if (!curl) {
        fprintf(stderr, "darkscope sensor: cannot start libcurl; nothing will be uploaded\n");
        return NULL;
    }
    for (;;) {
        pthread_mutex_lock(&u->mu);
        int stopping = u->stopping;
        double drain_until = u->drain_until;
        pthread_mutex_unlock(&u->mu);
        double now = mono_s();
        if (stopping && now >= drain_until)
            break;
        pending *segs, *pays;
        size_t ns, np, left_s = 0, left_p = 0;
        uint64_t bytes;
        int retry;
        if (list_pending(u->o.spool_dir, &segs, &ns, &pays, &np, &bytes) != 0) {
            fprintf(stderr, "darkscope sensor: cannot list the spool %s: %s\n", u->o.spool_dir, strerror(errno));
            wait_for(u, 5);
            continue;
        }
        if (ns && now >= seg_next) {
            left_s = drain_queue(curl, &u->o, u->spool, segs, ns, &bytes, &retry, &u->st, NULL);
            if (retry) {
                seg_backoff = seg_backoff ? seg_backoff * 2 : 1;
                if (seg_backoff > u->o.max_backoff_s)
                    seg_backoff = u->o.max_backoff_s;
                seg_next = mono_s() + seg_backoff;
                fprintf(stderr, "darkscope sensor: collector did not take segments; %zu waiting (%" PRIu64
                                " bytes in the spool); next try in %.0f s\n", left_s, bytes, seg_backoff);
            } else {
                seg_backoff = 0;
            }
        } else {
            left_s = ns;
        }
        if (np && mono_s() >= pay_next) {
            left_p = drain_queue(curl, &u->o, u->spool, pays, np, &bytes, &retry, &u->st, NULL);
            if (retry) {
                pay_backoff = pay_backoff ? pay_backoff * 2 : 1;
                if (pay_backoff > u->o.max_backoff_s)
                    pay_backoff = u->o.max_backoff_s;
                pay_next = mono_s() + pay_backoff;
            } else {
                pay_backoff = 0;
            }
        } else {
            left_p = np;
        }
        free(segs);
        free(pays);
        now = mono_s();
        if (stopping && left_s == 0 && left_p == 0)
            break;
        double wait = 1.0;
        if (left_s && seg_next > now)
            wait = seg_next - now;
        if (left_p && pay_next > now && (!left_s || pay_next - now < wait))
            wait = pay_next - now;
        if (stopping && drain_until - now < wait)
            wait = drain_until - now;
        if (wait > 0)
            wait_for(u, wait);
    }
    curl_easy_cleanup(curl);
    return NULL;
}

ds_rc ds_uploader_start(ds_uploader **out, const ds_uploader_opts *o, struct ds_spool *spool, ds_err *err)
{
    *out = NULL;
    ds_rc rc = ds_curl_load(err);   /* before the thread: it calls libcurl */
    if (rc != DS_OK)
        return rc;
    ds_uploader *u = calloc(1, sizeof *u);
    if (!u)
        return ds_fail(err, DS_ENOMEM, "out of memory for the uploader");
    u->o = *o;
    if (u->o.max_backoff_s <= 0)
        u->o.max_backoff_s = 60;
    u->spool = spool;
    pthread_mutex_init(&u->mu, NULL);
    pthread_cond_init(&u->cv, NULL);
    if (pthread_create(&u->thread, NULL, uploader_main, u) != 0) {
        free(u);
        return ds_fail(err, DS_EIO, "cannot start the upload thread");
    }
    *out = u;
    return DS_OK;
}

void ds_uploader_wake(void *arg)
{
    ds_uploader *u = arg;
    pthread_mutex_lock(&u->mu);
    u->woken = 1;
    pthread_cond_signal(&u->cv);
    pthread_mutex_unlock(&u->mu);
}

void ds_uploader_stop(ds_uploader *u, double drain_s, ds_uploader_stats *stats)
{
    if (!u)
        return;
    pthread_mutex_lock(&u->mu);
    u->stopping = 1;
    u->woken = 1;
    u->drain_until = mono_s() + drain_s;
    pthread_cond_signal(&u->cv);
    pthread_mutex_unlock(&u->mu);
    pthread_join(u->thread, NULL);
    if (stats)
        *stats = u->st;
    pthread_mutex_destroy(&u->mu);
    pthread_cond_destroy(&u->cv);
    free(u);
}
