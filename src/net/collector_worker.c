/* collector_worker.c: the ingest worker, where finished uploads are committed.
 *
 * libmicrohttpd's polling threads serve every connection, so none of them may wait for an
 * ingest (seconds for a large segment) or a store transaction.  When a body is complete the
 * request handler suspends its connection (MHD_suspend_connection) and queues the upload here;
 * this one thread commits the uploads in arrival order, fills in the answer and resumes the
 * connection, and libmicrohttpd calls the handler again, which queues the answer.  One thread is
 * also the one writer: ingests never run side by side (the store has one writer anyway), and two
 * uploads of one segment are seen one after the other.  While a segment is ingested, other
 * sensors' uploads keep arriving into the spool and wait in the queue.
 *
 * Exactly once, for a segment (a sensor deletes it only when we answer 200 and retries anything
 * else, so every path must either commit and say so, or change nothing):
 *   1. The body was streamed into SPOOL/NAME.SEQ.XXXXXX.part while its XXH3-128 was computed; a
 *      mismatch with X-Darkscope-Hash is a 400 and the file goes.
 *   2. Its decompressed size is counted, up to the cap (--max-decompressed, and --max-ratio times
 *      its compressed size): over it is a 413 and the file goes, before the writer is involved.
 *   3. Look in the ledger again (two uploads of one segment may have been queued), rename the file
 *      to SPOOL/NAME-SEQ.pcap.zst (the name the store's files row keeps), and ingest it: one store
 *      transaction that either commits or leaves the store as it was.  The ingest refuses content
 *      it has committed before (DS_EEXIST), which is how a segment committed just before a crash,
 *      and whose ledger row was lost with it, is recognised on the retry: it is answered
 *      "duplicate" and the ledger row is written then.
 *   4. ledger_put records (sensor, seq, hash) and the health headers, synced to disk (it also
 *      makes the ingest's commit durable: one WAL), and only then do we answer 200.
 *   5. The segment is deleted or moved into the archive.  Leftover .part and -SEQ.pcap.zst files
 *      at start-up were never answered 200: the sensor still has them, so they are deleted.
 *
 * POST /v1/payloads (a `--respond syn` sensor's pay-<seq>.jsonl, NDJSON) follows the same rule:
 * the whole file is parsed (src/net/payload_ndjson.c) before anything is stored, one store
 * transaction keyed by (sensor, seq, hash) commits it, and only then is it 200.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ingest/ingest.h"
#include "net/collector_int.h"
#include "net/payload_ndjson.h"

#define MONTHS_EVERY_S 600   /* the collector builds month rollups at most this often */

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

/* Step 2: 0 when the segment decompresses within the caps; otherwise the 413 is in u. */
static int within_caps(ds_collector *c, upload *u)
{
    uint64_t by_ratio = u->length > UINT64_MAX / c->o.max_ratio ? UINT64_MAX : u->length * c->o.max_ratio;
    uint64_t limit = by_ratio < c->o.max_decompressed ? by_ratio : c->o.max_decompressed, size = 0;
    if (ds_spool_inflated_size(u->part, limit, &size) == 0)
        return 0;
    char msg[512];
    if (limit == by_ratio)
        snprintf(msg, sizeof msg, "segment of %llu bytes decompresses to more than %llu bytes, over %u times its "
                 "size (--max-ratio); refused, nothing stored", (unsigned long long)u->length,
                 (unsigned long long)limit, c->o.max_ratio);
    else
        snprintf(msg, sizeof msg, "segment of %llu bytes decompresses to more than %llu bytes "
                 "(--max-decompressed); refused, nothing stored", (unsigned long long)u->length,
                 (unsigned long long)limit);
    ds_col_fail(c, u, MHD_HTTP_CONTENT_TOO_LARGE, msg, NULL);
    return -1;
}

/* A collector that lost the store's collector role (a ClickHouse store's lease, ch_lease.c:
 * another collector took it over) commits nothing more: 503, the sensor keeps its data and
 * retries.  1 when so (answered). */
static int role_lost(ds_collector *c, upload *u)
{
    ds_err err = { 0 };
    if (ds_store_role_check(c->ledger, &err) == DS_OK)
        return 0;
    ds_col_fail(c, u, MHD_HTTP_SERVICE_UNAVAILABLE, "this collector lost the store's collector role; retry later",
                err.msg);
    return 1;
}

static void commit_segment(ds_collector *c, upload *u)
{
    char msg[700], logmsg[900], seg[PATH_MAX];
    ds_err err = { 0 };
    if (u->write_errno) {
        snprintf(logmsg, sizeof logmsg, "spool %.300s: cannot store the upload: %s", c->spool, strerror(u->write_errno));
        snprintf(msg, sizeof msg, "spool: cannot store the upload: %s", strerror(u->write_errno));
        ds_col_fail(c, u, MHD_HTTP_SERVICE_UNAVAILABLE, msg, logmsg);
        return;
    }
    if (u->received != u->length) {
        ds_col_fail(c, u, MHD_HTTP_BAD_REQUEST, "body shorter than Content-Length", NULL);
        return;
    }
    XXH128_canonical_t canon;
    XXH128_canonicalFromHash(&canon, XXH3_128bits_digest(u->xx));
    if (memcmp(canon.digest, u->hash, 16) != 0) {
        char gh[33];
        ds_col_hash_hex(canon.digest, gh);
        snprintf(msg, sizeof msg, "body hash %s does not match X-Darkscope-Hash %s (damaged in transit?)", gh, u->hash_hex);
        ds_col_health_note(c, u);
        ds_col_fail(c, u, MHD_HTTP_BAD_REQUEST, msg, NULL);
        return;
    }
    close(u->fd);
    u->fd = -1;
    if (within_caps(c, u) != 0)
        return;

    if (role_lost(c, u))
        return;
    ds_segment_rec rec;
    int seen = ds_col_ledger_lookup(c, u, 0, &rec, &err);
    if (seen == 1) {
        ds_col_health_note(c, u);
        ds_col_ok(c, u, 1, "packets", rec.packets, "(raced with another upload)", &c->committed);
        return;
    }
    if (seen == 2) {
        snprintf(msg, sizeof msg, "segment %llu of sensor %s was committed with another hash",
                 (unsigned long long)u->seq, u->sensor);
        ds_col_fail(c, u, MHD_HTTP_CONFLICT, msg, NULL);
        return;
    }
    if (seen < 0) {
        ds_col_fail(c, u, MHD_HTTP_SERVICE_UNAVAILABLE, "the store is not answering; retry later", err.msg);
        return;
    }
    /* the name the store's files row keeps: sensor and sequence, for the operator */
    snprintf(seg, sizeof seg, "%.3900s/%s-%020llu.pcap.zst", c->spool, u->sensor, (unsigned long long)u->seq);
    if (rename(u->part, seg) != 0) {
        snprintf(logmsg, sizeof logmsg, "spool %.400s: %s", seg, strerror(errno));
        snprintf(msg, sizeof msg, "spool: %s", strerror(errno));
        ds_col_fail(c, u, MHD_HTTP_SERVICE_UNAVAILABLE, msg, logmsg);
        return;
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
        unsigned code = status_of(rc);
        if (code == MHD_HTTP_BAD_REQUEST)
            ds_col_health_note(c, u);
        /* the ingest names the file: the answer gets its name without the spool (scrubbed) */
        ds_col_fail(c, u, code, err.msg, NULL);
        return;
    }
    ds_segment_rec s = { .seq = u->seq, .packets = res.packets, .bytes = u->length, .committed_at = (int64_t)time(NULL),
                         .first_ns = u->first_ns, .last_ns = u->last_ns };
    snprintf(s.sensor, sizeof s.sensor, "%s", u->sensor);
    memcpy(s.hash, u->hash, 16);
    u->health.last_upload = s.committed_at;
    pthread_mutex_lock(&c->ledger_mu);
    ds_rc lrc = ds_store_ledger_put(c->ledger, &s, &u->health, &err);
    pthread_mutex_unlock(&c->ledger_mu);
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
    /* the closed months' rollups (store/rollup_months.h), at most every MONTHS_EVERY_S: a backlog
     * of late segments for a closed month removes its chunks at each commit, and building them
     * after every one would unite the month again and again.  A failure costs only speed. */
    size_t built = 0;
    ds_err merr;
    time_t now = time(NULL);
    if (!duplicate && now - c->months_at >= MONTHS_EVERY_S) {
        c->months_at = now;
        if (ds_ingest_months(*ing, &built, &merr) != DS_OK)
            fprintf(stderr, "darkscope collector: month rollups not built (queries read the days instead): %s\n",
                    merr.msg);
        else if (built)
            fprintf(stderr, "darkscope collector: month rollups built for %zu sensor-month%s\n", built,
                    built == 1 ? "" : "s");
    }
    ds_col_ok(c, u, duplicate, "packets", res.packets, res.truncated ? "(truncated capture)" : NULL, &c->committed);
    if (c->o.archive_dir && !duplicate)
        ds_spool_archive(c, u, seg);
}

static void commit_payloads(ds_collector *c, upload *u)
{
    char msg[800];
    ds_err err = { 0 };
    ds_payload_file pf = { 0 };
    if (u->write_errno == ENOMEM) {
        ds_col_fail(c, u, MHD_HTTP_SERVICE_UNAVAILABLE, "out of memory for the payload file; retry later", NULL);
        return;
    }
    if (u->write_errno || u->received != u->length) {
        ds_col_fail(c, u, MHD_HTTP_BAD_REQUEST, "body longer or shorter than Content-Length", NULL);
        return;
    }
    XXH128_canonical_t canon;
    XXH128_canonicalFromHash(&canon, XXH3_128bits(u->body ? u->body : "", (size_t)u->received));
    if (memcmp(canon.digest, u->hash, 16) != 0) {
        char gh[33];
        ds_col_hash_hex(canon.digest, gh);
        snprintf(msg, sizeof msg, "body hash %s does not match X-Darkscope-Hash %s (damaged in transit?)", gh, u->hash_hex);
        ds_col_fail(c, u, MHD_HTTP_BAD_REQUEST, msg, NULL);
        return;
    }
    ds_rc prc = ds_payload_ndjson_parse(u->body ? u->body : "", (size_t)u->received, &pf, &err);
    if (prc != DS_OK) {
        snprintf(msg, sizeof msg, "payload file %llu refused, nothing stored: %s", (unsigned long long)u->seq, err.msg);
        ds_col_fail(c, u, prc == DS_ENOMEM ? MHD_HTTP_SERVICE_UNAVAILABLE : MHD_HTTP_BAD_REQUEST, msg, NULL);
        goto out;
    }
    if (role_lost(c, u))
        goto out;
    size_t n = pf.n;
    ds_payload_batch b = { .seq = u->seq, .committed_at = (int64_t)time(NULL), .rows = pf.rows, .n = n };
    snprintf(b.sensor, sizeof b.sensor, "%s", u->sensor);
    memcpy(b.hash, u->hash, 16);
    pthread_mutex_lock(&c->ledger_mu);
    ds_rc rc = ds_store_payloads_put(c->ledger, &b, &err);   /* "keeps no payloads" from store.c when so */
    pthread_mutex_unlock(&c->ledger_mu);
    if (rc != DS_OK && rc != DS_EEXIST) {
        ds_col_fail(c, u, rc == DS_EINVAL ? MHD_HTTP_INTERNAL_SERVER_ERROR : MHD_HTTP_SERVICE_UNAVAILABLE, err.msg, NULL);
        goto out;
    }
    ds_col_ok(c, u, rc == DS_EEXIST, "payloads", n, NULL, &c->payload_files);
out:
    ds_payload_file_free(&pf);
}

static void *worker(void *arg)
{
    ds_collector *c = arg;
    work_queue *q = &c->work;
    pthread_mutex_lock(&q->mu);
    for (;;) {
        while (!q->head && !q->stop)
            pthread_cond_wait(&q->cv, &q->mu);
        upload *u = q->head;
        if (!u)
            break;   /* stopping, and nothing left */
        q->head = u->qnext;
        if (!q->head)
            q->tail = NULL;
        q->busy = 1;
        pthread_mutex_unlock(&q->mu);

        if (u->health_only) {
            ds_col_health_note(c, u);
            free(u);
            pthread_mutex_lock(&q->mu);
            q->busy = 0;
            continue;
        }
        if (u->payloads)
            commit_payloads(c, u);
        else
            commit_segment(c, u);
        ds_col_part_discard(u);
        struct MHD_Connection *conn = u->conn;
        u->done = 1;
        MHD_resume_connection(conn);   /* u is the connection's again: not touched after this */

        pthread_mutex_lock(&q->mu);
        q->busy = 0;
    }
    pthread_mutex_unlock(&q->mu);
    return NULL;
}

ds_rc ds_worker_start(ds_collector *c, ds_err *err)
{
    work_queue *q = &c->work;
    int e = pthread_create(&q->thread, NULL, worker, c);
    if (e != 0)
        return ds_fail(err, DS_ENOMEM, "cannot start the ingest worker thread: %s", strerror(e));
    q->running = 1;
    return DS_OK;
}

int ds_worker_submit(ds_collector *c, upload *u)
{
    work_queue *q = &c->work;
    pthread_mutex_lock(&q->mu);
    if (q->stop || !q->running) {
        pthread_mutex_unlock(&q->mu);
        return -1;
    }
    u->qnext = NULL;
    if (q->tail)
        q->tail->qnext = u;
    else
        q->head = u;
    q->tail = u;
    pthread_cond_signal(&q->cv);
    pthread_mutex_unlock(&q->mu);
    return 0;
}

int ds_worker_pending(ds_collector *c)
{
    work_queue *q = &c->work;
    pthread_mutex_lock(&q->mu);
    int n = q->head != NULL || q->busy;
    pthread_mutex_unlock(&q->mu);
    return n;
}

void ds_worker_stop(ds_collector *c)
{
    work_queue *q = &c->work;
    if (!q->running)
        return;
    pthread_mutex_lock(&q->mu);
    q->stop = 1;
    pthread_cond_signal(&q->cv);
    pthread_mutex_unlock(&q->mu);
    pthread_join(q->thread, NULL);
    q->running = 0;
}
