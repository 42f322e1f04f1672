/* ingest.c: see ingest.h for the shape of the pipeline.
 *
 * Threads.  The calling thread reads records and cuts them into batches of BATCH records.  With
 * --threads N every batch goes to all N threads (the caller is thread 0), and each thread decodes
 * every packet but aggregates only those whose source address hashes to it.  Partitioning by
 * source, as corsaro3 partitions its interval state, keeps the threads' tables disjoint: no
 * source is held twice, memory does not double, and the merge is a concatenation with nothing
 * counted twice.  (Dealing batches round-robin instead gave every thread every source: twice the
 * memory, twice the records to commit, and no speed-up.)  Decoding a packet costs ~10 ns against
 * the aggregation's ~100 ns, so decoding it in every thread is the cheap part.
 *
 * A plain file is simply read by every thread on its own (worker_reader_main): no queues, no
 * copies.  stdin and compressed input, which can't be read twice for free, are read once by the
 * calling thread and shared out in batches (the batch copies record bytes into its own arena,
 * because the reader reuses its buffer); a batch is recycled when the last thread releases it.
 * Each thread retires its own live window when it is done, and each thread's records are
 * committed as chunks of their own (commit.c: the store transaction, the duplicate check before
 * decoding, the coverage rows).
 */
#include "ingest/ingest.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/classify.h"
#include "core/packet.h"
#include "ingest/ingest_int.h"
#include "ingest/tsguard.h"
#include "store/rollup_months.h"
#include "util/datadir.h"
#include "util/progress.h"
#include "util/timeutil.h"

#define BATCH 4096
#define QUEUE_DEPTH 8
#define MAX_THREADS 64


typedef struct batch {
    ds_record rec[BATCH];
    size_t n;
    uint8_t *arena;
    size_t used, cap;
    int refs;               /* threads yet to release it (under pool.mu) */
} batch;

/* Free batches, shared by the reader and the workers. */
typedef struct pool {
    pthread_mutex_t mu;
    batch *free[MAX_THREADS * (QUEUE_DEPTH + 2)];
    size_t n;
} pool;

typedef struct worker {
    struct ds_ingest *in;
    int id, nthreads;
    const ds_reader *first; /* own-reader mode: thread 0's reader of the file this one reads again */
    ds_err err;             /* own-reader mode: why it stopped */
    ds_rc read_rc;
    uint8_t hash[16];       /* own-reader mode, thread 1: the file's dedupe hash */
    ds_agg *agg;
    ds_hours *hours;        /* [nsensors] packets per UTC hour (coverage rows) */
    ds_daycache days;
    ds_tsguard tsg;         /* the timestamp check: every thread judges every record alike */
    ds_rc rc;
    pool *pool;
    /* queue of batches to process */
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    batch *q[QUEUE_DEPTH];
    size_t qhead, qlen;
    int closing;
} worker;

static void geo_cb(void *ctx, const ds_ip *ip, char cc[2], uint32_t *asn)
{
    ds_geo_info gi;
    ds_geo_lookup((const ds_geo *)ctx, ip, &gi);
    cc[0] = gi.cc[0];
    cc[1] = gi.cc[1];
    *asn = gi.asn;
}

/* The payload-tool table (core/payload.h): the file is found like the other data files and
 * read here, so that core only parses. */
static ds_rc load_payload_tools(ds_payload_table **out, ds_err *err)
{
    char path[4096];
    ds_rc rc = ds_data_path("payload-tools.tsv", path, sizeof path, err);
    if (rc != DS_OK)
        return rc;
    FILE *f = fopen(path, "rb");
    if (!f)
        return ds_fail(err, DS_EIO, "%s: cannot open: %m", path);
    char *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (cap - len < 4096) {
            if (cap >= (1u << 20)) {
                rc = ds_fail(err, DS_EFORMAT, "%s: larger than 1 MiB; is this the payload-tool table?", path);
                break;
            }
            char *n = realloc(buf, cap + 16384);
            if (!n) {
                rc = ds_fail(err, DS_ENOMEM, "out of memory reading %s", path);
                break;
            }
            buf = n;
            cap += 16384;
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0) {
            if (ferror(f))
                rc = ds_fail(err, DS_EIO, "%s: read error", path);
            break;
        }
    }
    fclose(f);
    if (rc == DS_OK)
        rc = ds_payload_parse(buf ? buf : "", len, path, out, err);
    free(buf);
    return rc;
}

ds_rc ds_ingest_new(ds_ingest **out, const ds_ingest_opts *o, ds_err *err)
{
    ds_rc rc = DS_ENOMEM;
    const ds_config *cfg = o->cfg;
    const ds_prefix **pp = NULL;
    const char **names = NULL;
    size_t *counts = NULL;
    ds_ingest *in = calloc(1, sizeof *in);
    if (!in)
        goto out;
    in->o = *o;
    if (in->o.threads < 1)
        in->o.threads = 1;
    if (in->o.threads > MAX_THREADS)
        in->o.threads = MAX_THREADS;
    in->forced = -1;
    if (cfg->nsensors == 0) {
        rc = ds_fail(err, DS_EINVAL, "no sensors configured: add a [sensor.NAME] section with darknet = CIDR "
                     "to the config, or pass --darknet CIDR");
        goto out;
    }
    pp = calloc(cfg->nsensors, sizeof *pp);
    counts = calloc(cfg->nsensors, sizeof *counts);
    names = calloc(cfg->nsensors, sizeof *names);
    in->exact_dst = calloc(cfg->nsensors, 1);
    if (!pp || !counts || !names || !in->exact_dst)
        goto out;
    for (size_t i = 0; i < cfg->nsensors; i++) {
        pp[i] = cfg->sensors[i].prefixes;
        counts[i] = cfg->sensors[i].nprefixes;
        names[i] = cfg->sensors[i].name;
        if (o->sensor && strcmp(o->sensor, cfg->sensors[i].name) == 0)
            in->forced = (int)i;
    }
    if (o->sensor && in->forced < 0) {
        rc = ds_fail(err, DS_EINVAL, "--sensor %s: no such sensor in the configuration", o->sensor);
        goto out;
    }
    if ((rc = ds_darknet_build(&in->dn, pp, counts, names, cfg->nsensors, err)) != DS_OK)
        goto out;
    /* A sensor's destination map indexes its addresses directly (exact counts) only when it
     * monitors IPv4 space alone, at most 512 addresses; with IPv6 prefixes or none at all (a
     * --sensor that takes every packet) the map holds hashes. */
    for (size_t i = 0; i < cfg->nsensors; i++) {
        int v6 = 0;
        for (size_t k = 0; k < cfg->sensors[i].nprefixes; k++)
            v6 |= cfg->sensors[i].prefixes[k].addr.v6;
        in->exact_dst[i] = cfg->sensors[i].nprefixes > 0 && !v6 &&
                           ds_darknet_v4_addresses(in->dn, i) <= DS_DSTMAP_BYTES * 8;
    }
    if (in->forced >= 0)
        in->forced_any = cfg->sensors[in->forced].nprefixes == 0;
    in->home = in->forced >= 0 ? in->forced : cfg->nsensors == 1 ? 0 : -1;
    rc = DS_ENOMEM;
    if (!(in->sensor_v4 = calloc(cfg->nsensors, sizeof *in->sensor_v4)))
        goto out;
    for (size_t i = 0; i < cfg->nsensors; i++)
        in->sensor_v4[i] = ds_darknet_v4_addresses(in->dn, i);
    if ((rc = load_payload_tools(&in->payload, err)) != DS_OK)
        goto out;
    *out = in;
    in = NULL;
    rc = DS_OK;
out:
    if (rc == DS_ENOMEM)
        ds_fail(err, rc, "out of memory");
    free(pp);
    free(names);
    free(counts);
    ds_ingest_free(in);
    return rc;
}

ds_rc ds_ingest_months(ds_ingest *in, size_t *built, ds_err *err)
{
    *built = 0;
    if (!in->store || in->o.no_rollup)
        return DS_OK;
    return ds_store_months_build(in->store, built, err);
}

void ds_ingest_free(ds_ingest *in)
{
    if (!in)
        return;
    ds_store_close(in->store);
    ds_darknet_free(in->dn);
    free(in->exact_dst);
    free(in->sensor_v4);
    ds_payload_free(in->payload);
    free(in);
}

/* The thread that owns a source.  Every thread asks this of every record, so for a power of two
 * (--threads 2, the common case) it masks instead of dividing: the same answer without a 64-bit
 * division per record in each thread.  Alone, 16 M owner tests took 35 ms dividing and 13 ms
 * masking on our VM; inside a whole -j2 ingest the difference is within the noise. */
static inline uint32_t owner_of(uint64_t src_key, int nthreads)
{
    uint64_t h = (src_key * 0x9e3779b97f4a7c15ULL) >> 32, n = (uint64_t)nthreads;
    return (uint32_t)((n & (n - 1)) == 0 ? h & (n - 1) : h % n);
}

/* Decode r into p if this thread aggregates it: with --threads N, the thread that owns its source
 * (packets without one go to thread 0).  Every thread reads every record and must agree on its
 * owner, so ownership is a function of the record's bytes alone.  A plain Ethernet/IPv4 frame
 * owned by another thread is not decoded at all.  Returns 0 for a packet not ours. */
static inline int decode_owned(const worker *w, const ds_record *r, ds_pkt *p, ds_outcome *o)
{
    uint32_t v4;
    if (w->nthreads == 1) {
        *o = ds_decode(r->linktype, r->data, r->caplen, r->wirelen, p);
    } else if (ds_peek_ipv4_src(r->linktype, r->data, r->caplen, &v4)) {
        /* the owner of its source address (ds_src_key of IPv4 is the address), even if the
         * header turns out to be malformed: the peek alone decides, in every thread alike */
        if (owner_of(v4, w->nthreads) != (uint32_t)w->id)
            return 0;
        *o = ds_decode(r->linktype, r->data, r->caplen, r->wirelen, p);
    } else {
        *o = ds_decode(r->linktype, r->data, r->caplen, r->wirelen, p);
        uint32_t owner = (p->have & DS_HAVE_IP) ? owner_of(ds_src_key(&p->src), w->nthreads) : 0;
        if (owner != (uint32_t)w->id)
            return 0;
    }
    p->ts_ns = r->ts_ns;
    return 1;
}

/* A tunnel whose inner packet is for no darknet: was the packet that carried it sent to one?
 * Then that packet is the darknet's traffic (GRE or IP in IP aimed at dark space, such as a Mirai
 * GRE flood, whose inner destination is random) and is counted as it came on the wire (47/ip);
 * a mirrored feed's tunnel endpoint is not dark, and its inner packets count as before.  Out of
 * line: only tunnelled packets for no darknet come here.  (The record's owner thread was chosen
 * by the inner source; readers merge a source's records across threads' chunks, so counts stay
 * exact.)  Returns the sensor, or -1 with p left as it was. */
static __attribute__((noinline)) int outer_packet(const struct ds_ingest *in, const ds_record *r, ds_pkt *p,
                                                 ds_outcome *o, uint32_t *off, int bad)
{
    ds_pkt q;
    uint32_t qoff = 0;
    ds_outcome qo = ds_decode_outer(r->linktype, r->data, r->caplen, r->wirelen, &q);
    if (!(q.have & DS_HAVE_IP))
        return -1;
    int sensor = ds_darknet_find_offset(in->dn, &q.dst, &qoff);
    if (in->forced >= 0 && sensor != in->forced)
        sensor = in->forced_any ? in->forced : -1;
    if (sensor < 0)
        return -1;
    q.ts_ns = p->ts_ns;
    *p = q;
    *o = bad ? DS_PKT_BAD_TIMESTAMP : qo;
    *off = qoff;
    return sensor;
}

/* The per-packet path.  bad: the record's timestamp is impossible (tsguard.h); it is decoded
 * only to be attributed to a sensor, and counted as bad_timestamp, even when outside.  Inlined by
 * force: with a second caller (the timestamp check's callback) gcc made it a call per packet
 * (callgrind: 0.3% of an ingest's instructions). */
static inline __attribute__((always_inline)) ds_rc one_packet(worker *w, const ds_record *r, int bad)
{
    struct ds_ingest *in = w->in;
    ds_pkt p;
    ds_outcome o;
    if (!decode_owned(w, r, &p, &o))
        return DS_OK;
    if (bad)
        o = DS_PKT_BAD_TIMESTAMP;
    int sensor = in->home;
    uint32_t off = 0;
    if (p.have & DS_HAVE_IP) {
        sensor = ds_darknet_find_offset(in->dn, &p.dst, &off);
        if (in->forced >= 0 && sensor != in->forced)
            sensor = in->forced_any ? in->forced : -1;
        if (sensor < 0 && p.tunnels)
            sensor = outer_packet(in, r, &p, &o, &off, bad);
        if (sensor < 0) {
            ds_agg_other(w->agg, in->home, o, o != DS_PKT_BAD_TIMESTAMP, p.ts_ns);
            if (p.encap)
                ds_agg_encap(w->agg, in->home, p.encap);
            return DS_OK;
        }
    }
    if (p.encap)   /* counted in the row the packet is counted in */
        ds_agg_encap(w->agg, sensor, p.encap);
    if (sensor >= 0 && !bad && ds_hours_add(&w->hours[sensor], (int64_t)(p.ts_ns / 3600000000000ULL), 1) != 0)
        return DS_ENOMEM;
    if (o != DS_PKT_OK) {
        ds_agg_other(w->agg, sensor, o, 0, p.ts_ns);
        return DS_OK;
    }
    int32_t day = ds_daycache_get(&w->days, p.ts_ns);
    return ds_agg_packet(w->agg, sensor, day, off, &p, ds_service_of(&p), ds_class_of(&p));
}

/* ---- the timestamp check (ingest/tsguard.h): records within a day of the last go straight on */

static ds_rc guard_cb(void *ctx, const ds_record *r, int bad)
{
    return one_packet(ctx, r, bad);
}

static inline ds_rc guarded_packet(worker *w, const ds_record *r)
{
    if (ds_tsguard_fast(&w->tsg, r->ts_ns))
        return one_packet(w, r, 0);
    return ds_tsguard_push(&w->tsg, r, guard_cb, w);
}

/* The file ended: decide the records the check still holds. */
static ds_rc guard_end(worker *w)
{
    return ds_tsguard_end(&w->tsg, guard_cb, w);
}

static ds_rc run_batch(worker *w, const batch *b)
{
    for (size_t i = 0; i < b->n; i++) {
        ds_rc rc = guarded_packet(w, &b->rec[i]);
        if (rc != DS_OK)
            return rc;
    }
    return DS_OK;
}

static void batch_free(batch *b)
{
    if (b) {
        free(b->arena);
        free(b);
    }
}

static batch *pool_get(pool *p)
{
    pthread_mutex_lock(&p->mu);
    batch *b = p->n ? p->free[--p->n] : NULL;
    pthread_mutex_unlock(&p->mu);
    if (!b)
        b = calloc(1, sizeof *b);
    if (b) {
        b->n = 0;
        b->used = 0;
        b->refs = 0;
    }
    return b;
}

/* One thread is done with b; the last one returns it to the pool. */
static void batch_release(pool *p, batch *b)
{
    pthread_mutex_lock(&p->mu);
    int last = --b->refs == 0;
    if (last && p->n < sizeof p->free / sizeof p->free[0]) {
        p->free[p->n++] = b;
        b = NULL;
    }
    pthread_mutex_unlock(&p->mu);
    if (last)
        batch_free(b);
}

static void *worker_main(void *arg)
{
    worker *w = arg;
    pthread_mutex_lock(&w->mu);
    for (;;) {
        while (!w->qlen && !w->closing)
            pthread_cond_wait(&w->cv, &w->mu);
        if (!w->qlen)
            break;
        batch *b = w->q[w->qhead];
        pthread_mutex_unlock(&w->mu);
        ds_rc rc = w->rc == DS_OK ? run_batch(w, b) : DS_OK;
        batch_release(w->pool, b);
        pthread_mutex_lock(&w->mu);
        if (rc != DS_OK)
            w->rc = rc;
        w->qhead = (w->qhead + 1) % QUEUE_DEPTH;
        w->qlen--;
        pthread_cond_broadcast(&w->cv);
    }
    pthread_mutex_unlock(&w->mu);
    if (w->rc == DS_OK)
        w->rc = guard_end(w);
    if (w->rc == DS_OK && ds_agg_finish(w->agg) != DS_OK)   /* retire in parallel, not at commit */
        w->rc = DS_ENOMEM;
    return NULL;
}

/* Read every record of rd and aggregate those w owns: the straight path of -j1, and of each
 * own-reader thread.  (A software pipeline that decoded a packet 8 records ahead and prefetched its
 * table slots was measured here twice, one stage and two, and gained nothing outside the noise:
 * see docs/architecture.md.)  Returns the reader's final status (DS_EOF, DS_ETRUNC, or an error)
 * or an aggregation error. */
static ds_rc read_straight(worker *w, ds_reader *rd, ds_progress *prog, uint64_t *nrec_out, ds_err *err)
{
    uint64_t nrec = 0;
    ds_record rec;
    ds_rc rc;
    while ((rc = ds_reader_next(rd, &rec, err)) == DS_OK) {
        ds_rc r2 = guarded_packet(w, &rec);
        if (r2 != DS_OK) {
            rc = ds_fail(err, r2, "%s: %s while aggregating", ds_reader_path(rd), ds_rc_name(r2));
            break;
        }
        if ((++nrec & 0xffff) == 0 && prog)
            ds_progress_update(prog, ds_reader_consumed(rd), ds_reader_size(rd), nrec);
    }
    ds_rc r2 = rc == DS_EOF || rc == DS_ETRUNC ? guard_end(w) : DS_OK;
    if (r2 != DS_OK)
        rc = ds_fail(err, r2, "%s: %s while aggregating", ds_reader_path(rd), ds_rc_name(r2));
    *nrec_out = nrec;
    return rc;
}

/* Own-reader mode: read the whole file independently, aggregating the sources this thread
 * owns.  Reading is nearly free next to aggregation, so N readers of one cached file cost less
 * than feeding N threads through queues. */
static void *worker_reader_main(void *arg)
{
    worker *w = arg;
    ds_reader *rd = NULL;
    uint64_t nrec;
    /* thread 1 hashes the file for the duplicate check, the others need not: thread 0 reads
     * the progress meter's clock and, with the sources split evenly, finished last */
    unsigned flags = DS_READER_NO_MMAP | (w->id == 1 ? 0 : DS_READER_NO_HASH);
    ds_rc rc = ds_reader_open_again(&rd, w->first, flags, &w->err);
    if (rc == DS_OK)
        rc = read_straight(w, rd, NULL, &nrec, &w->err);
    w->read_rc = rc;   /* a read or an aggregation failure: w->err says which */
    if (rd && w->id == 1)
        ds_reader_hash(rd, w->hash);
    ds_reader_close(rd);
    if (w->rc == DS_OK && ds_agg_finish(w->agg) != DS_OK)   /* retire in parallel, not at commit */
        w->rc = DS_ENOMEM;
    return NULL;
}

/* Queue batch b for worker w (blocks while its queue is full). */
static void worker_push(worker *w, batch *b)
{
    pthread_mutex_lock(&w->mu);
    while (w->qlen == QUEUE_DEPTH)
        pthread_cond_wait(&w->cv, &w->mu);
    w->q[(w->qhead + w->qlen) % QUEUE_DEPTH] = b;
    w->qlen++;
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

static void worker_close(worker *w)
{
    pthread_mutex_lock(&w->mu);
    w->closing = 1;
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->th, NULL);
}

/* Copy a record's bytes into the batch arena (stream input), so it outlives the reader's
 * buffer.  Returns 1 when the arena is full (ship the batch first), -1 on allocation failure. */
static int batch_keep(batch *b, ds_record *r)
{
    if (!b->arena) {
        b->cap = (size_t)BATCH * 128;
        b->arena = malloc(b->cap);
        if (!b->arena)
            return -1;
    }
    if (r->caplen > b->cap - b->used)
        return 1;
    memcpy(b->arena + b->used, r->data, r->caplen);
    r->data = b->arena + b->used;
    b->used += r->caplen;
    return 0;
}

/* ---- one file --------------------------------------------------------------------------- */

/* Read every record of rd into the workers.  Returns the reader's final status (DS_EOF,
 * DS_ETRUNC, or an error) or an aggregation error. */
static ds_rc read_all(ds_reader *rd, worker *w, int nthreads, pool *pl, ds_progress *prog, uint64_t *nrec_out,
                      ds_err *err)
{
    ds_rc rc;
    ds_record rec;
    uint64_t nrec = 0;
    if (nthreads == 1)   /* the straight path: no batches, no copies */
        return read_straight(&w[0], rd, prog, nrec_out, err);

    batch *cur = pool_get(pl);
    if (!cur)
        return ds_fail(err, DS_ENOMEM, "out of memory");
    for (;;) {
        rc = ds_reader_next(rd, &rec, err);
        int carry = 0;     /* rec did not fit in cur's arena: it goes into the next batch */
        if (rc == DS_OK) {
            nrec++;
            /* the reader reuses its buffer (streams, and files read without mmap): copy */
            int k = batch_keep(cur, &rec);
            if (k < 0) {
                rc = ds_fail(err, DS_ENOMEM, "out of memory");
                break;
            }
            carry = k > 0;
            if (!carry)
                cur->rec[cur->n++] = rec;
            if ((nrec & 0xffff) == 0)
                ds_progress_update(prog, ds_reader_consumed(rd), ds_reader_size(rd), nrec);
        }
        if (cur->n && (cur->n == BATCH || carry || rc != DS_OK)) {
            /* every thread sees every batch and takes the packets whose source it owns */
            cur->refs = nthreads;
            for (int i = 1; i < nthreads; i++)
                worker_push(&w[i], cur);
            ds_rc r2 = run_batch(&w[0], cur);
            batch_release(pl, cur);
            if (r2 != DS_OK) {
                rc = ds_fail(err, r2, "%s: %s while aggregating", ds_reader_path(rd), ds_rc_name(r2));
                cur = NULL;
                break;
            }
            if (!(cur = pool_get(pl))) {
                rc = ds_fail(err, DS_ENOMEM, "out of memory");
                break;
            }
        }
        if (carry) {   /* the reader's buffer is still valid: next() has not been called */
            if (batch_keep(cur, &rec) != 0) {
                rc = ds_fail(err, DS_ENOMEM, "out of memory");
                break;
            }
            cur->rec[cur->n++] = rec;
        }
        if (rc != DS_OK)
            break;
    }
    if (rc == DS_EOF || rc == DS_ETRUNC) {
        ds_rc r2 = guard_end(&w[0]);
        if (r2 != DS_OK)
            rc = ds_fail(err, r2, "%s: %s while aggregating", ds_reader_path(rd), ds_rc_name(r2));
    }
    /* wait for the workers: they release the batches they still hold */
    for (int i = 1; i < nthreads; i++) {
        worker_close(&w[i]);
        if (w[i].rc != DS_OK && (rc == DS_EOF || rc == DS_ETRUNC))
            rc = ds_fail(err, w[i].rc, "%s: %s while aggregating", ds_reader_path(rd), ds_rc_name(w[i].rc));
    }
    batch_free(cur);
    *nrec_out = nrec;
    return rc;
}

/* The span of the file's records whose times can be believed (coverage): every such record is
 * counted by exactly one thread, for a sensor or as unattributed, and those counters keep their
 * first and last time; records with impossible times move none.  (Read off the counters once,
 * not tracked per record.) */
static void file_span(ds_agg *const *aggs, int n, size_t nsensors, uint64_t *first, uint64_t *last)
{
    *first = *last = 0;
    for (int i = 0; i < n; i++)
        for (int s = -1; s < (int)nsensors; s++) {
            const ds_agg_counts *k = ds_agg_counts_of(aggs[i], s);
            if (!k->first_ns)
                continue;
            if (!*first || k->first_ns < *first)
                *first = k->first_ns;
            if (k->last_ns > *last)
                *last = k->last_ns;
        }
}

/* The warning of a file with impossible timestamps, after any other (a truncation). */
static void warn_bad_timestamps(ds_ingest_result *res, const char *path, uint64_t now_s)
{
    char day[32] = "?";
    time_t t = (time_t)(now_s + DS_TSGUARD_AHEAD_S);
    struct tm tm;
    if (gmtime_r(&t, &tm))
        strftime(day, sizeof day, "%Y-%m-%d", &tm);
    size_t len = strlen(res->warning);
    snprintf(res->warning + len, sizeof res->warning - len,
             "%s%s: %llu record%s with impossible timestamps (before 1990, after %s or a jump of more than a day "
             "from their neighbours) %s not classified; see `darkscope stats`", len ? "; " : "", path,
             (unsigned long long)res->bad_timestamp, res->bad_timestamp == 1 ? "" : "s", day,
             res->bad_timestamp == 1 ? "was" : "were");
}

ds_rc ds_ingest_file(ds_ingest *in, const char *path, ds_ingest_result *res, ds_err *err)
{
    ds_rc rc;
    ds_reader *rd = NULL;
    int nthreads = in->o.threads, started = 1, joined = 0;
    worker w[MAX_THREADS];
    pool pl = { .mu = PTHREAD_MUTEX_INITIALIZER, .n = 0 };
    ds_progress prog;
    double t0 = ds_now();
    uint64_t nrec = 0;
    /* "now" for the timestamp check, once per file: a collector runs for days */
    uint64_t now_s = in->o.now_s > 0 ? (uint64_t)in->o.now_s : (uint64_t)time(NULL);
    ds_file_meta fm = { .path = path, .force = in->o.force };
    ds_file_prior prior = { 0 };
    int prehashed = 0;
    ds_agg_conf ac = { .nsensors = in->o.cfg->nsensors, .exact_dst = in->exact_dst,
                       .geo = in->o.geo ? geo_cb : NULL, .geo_ctx = (void *)in->o.geo, .sensor_v4 = in->sensor_v4,
                       .scan_min_addresses = in->o.cfg->scan_min_addresses,
                       .scan_timeout_s = in->o.cfg->scan_timeout_s, .payload = in->payload,
                       .no_detect = in->o.no_detect, .rollups = !in->o.no_rollup };
    for (size_t i = 0; i < in->o.cfg->nsensors; i++)
        ac.telescope_v4 += ds_darknet_v4_addresses(in->dn, i);

    memset(res, 0, sizeof *res);
    memset(w, 0, sizeof w);
    /* read() into one warm buffer beats faulting in a fresh mapping page by page (see
     * DS_READER_NO_MMAP); no path here needs records to outlive the next read */
    if ((rc = ds_reader_open_flags(&rd, path, DS_READER_NO_MMAP, err)) != DS_OK ||
        (rc = ingest_precheck(in, rd, &fm, &prior, &prehashed, res, err)) != DS_OK)
        goto out;
    for (int i = 0; i < nthreads; i++) {
        w[i].in = in;
        w[i].id = i;
        w[i].nthreads = nthreads;
        w[i].pool = &pl;
        w[i].days = (ds_daycache)DS_DAYCACHE_INIT;
        ds_tsguard_init(&w[i].tsg, now_s);
        if (!(w[i].agg = ds_agg_new(&ac)) || !(w[i].hours = calloc(in->o.cfg->nsensors, sizeof *w[i].hours))) {
            rc = ds_fail(err, DS_ENOMEM, "out of memory");
            goto out;
        }
    }
    /* a plain file can be read by every thread on its own (see worker_reader_main); stdin and
     * compressed input are read once and shared out in batches */
    int own_readers = nthreads > 1 && strcmp(path, "-") != 0 && ds_reader_container(rd) == DS_CONT_PLAIN &&
                      ds_reader_size(rd) > 0;
    if (own_readers)
        ds_reader_no_hash(rd);   /* thread 1 hashes the file (worker_reader_main) */
    for (; started < nthreads; started++) {
        worker *x = &w[started];
        pthread_mutex_init(&x->mu, NULL);
        pthread_cond_init(&x->cv, NULL);
        x->first = rd;
        if (pthread_create(&x->th, NULL, own_readers ? worker_reader_main : worker_main, x) != 0) {
            pthread_mutex_destroy(&x->mu);
            pthread_cond_destroy(&x->cv);
            rc = ds_fail(err, DS_ENOMEM, "cannot start a worker thread");
            goto out;
        }
    }

    ds_progress_start(&prog, path);
    if (!in->o.progress)
        prog.enabled = 0;
    if (own_readers) {
        rc = read_all(rd, w, 1, &pl, &prog, &nrec, err);   /* thread 0's share, reading by itself */
        for (int i = 1; i < nthreads; i++) {
            pthread_join(w[i].th, NULL);
            /* every reader sees the same file: only a failure of its own (memory, I/O) matters */
            if (w[i].rc != DS_OK && (rc == DS_EOF || rc == DS_ETRUNC))
                rc = ds_fail(err, w[i].rc, "%s: %s while aggregating", path, ds_rc_name(w[i].rc));
            else if (w[i].read_rc != DS_EOF && w[i].read_rc != DS_ETRUNC && (rc == DS_EOF || rc == DS_ETRUNC))
                rc = ds_fail(err, w[i].read_rc, "%s", w[i].err.msg);
        }
    } else {
        rc = read_all(rd, w, nthreads, &pl, &prog, &nrec, err);
    }
    joined = 1;
    res->read_seconds = ds_now() - t0;
    ds_progress_end(&prog);
    if (rc == DS_ETRUNC && in->o.strict) {
        char why[sizeof err->msg];
        snprintf(why, sizeof why, "%s", err->msg);
        rc = ds_fail(err, DS_ETRUNC, "%s; --strict refuses a capture cut short: nothing of it was stored", why);
        goto out;
    }
    if (rc == DS_ETRUNC) {
        res->truncated = 1;
        snprintf(res->warning, sizeof res->warning, "%s", err->msg);
        ds_err_clear(err);
    } else if (rc != DS_EOF) {
        goto out;   /* DS_EFORMAT, DS_EIO, DS_ENOMEM...: the store is not touched */
    }
    ds_agg *aggs[MAX_THREADS];
    for (int i = 0; i < nthreads; i++)
        aggs[i] = w[i].agg;

    if (!prehashed)   /* else the size precheck hashed, which the reader read up to */
        fm.bytes = ds_reader_consumed(rd);
    fm.records = nrec;
    fm.truncated = res->truncated;
    if (own_readers)   /* either way the prehash, when precheck made one */
        memcpy(fm.hash, w[1].hash, sizeof fm.hash);
    else
        ds_reader_hash(rd, fm.hash);
    res->records = nrec;
    res->bytes = fm.bytes;
    for (int i = 0; i < nthreads; i++) {
        for (int s = -1; s < (int)in->o.cfg->nsensors; s++) {
            const ds_agg_counts *k = ds_agg_counts_of(w[i].agg, s);
            res->packets += k->packets;
            res->outside += k->outside;
            for (int o = 0; o < DS_PKT__COUNT; o++)
                res->other += k->outcome[o];
        }
        res->agg_bytes += ds_agg_memory(w[i].agg);
    }
    if (nrec == 0 && !res->truncated)
        snprintf(res->warning, sizeof res->warning, "%s: the capture holds no packets", path);
    res->bad_timestamp = w[0].tsg.nbad;   /* every thread judged every record alike */
    if (res->bad_timestamp)
        warn_bad_timestamps(res, path, now_s);
    double t1 = ds_now();
    const ds_hours *hours[MAX_THREADS];
    for (int i = 0; i < nthreads; i++)
        hours[i] = w[i].hours;
    ingest_parts parts = { aggs, hours, nthreads, 0, 0, now_s };
    file_span(aggs, nthreads, in->o.cfg->nsensors, &parts.first_ns, &parts.last_ns);
    ingest_cover_isb(in, rd, &parts, path, res);
    rc = ingest_commit(in, &parts, &fm, &prior, res, err);
    res->commit_seconds = ds_now() - t1;
out:
    if (!joined)
        for (int i = 1; i < started; i++)
            worker_close(&w[i]);
    for (int i = 1; i < started; i++) {
        pthread_mutex_destroy(&w[i].mu);
        pthread_cond_destroy(&w[i].cv);
    }
    while (pl.n)
        batch_free(pl.free[--pl.n]);
    pthread_mutex_destroy(&pl.mu);
    for (int i = 0; i < nthreads; i++) {
        ds_agg_free(w[i].agg);
        ds_tsguard_free(&w[i].tsg);
        for (size_t k = 0; w[i].hours && k < in->o.cfg->nsensors; k++)
            ds_hours_free(&w[i].hours[k]);
        free(w[i].hours);
    }
    in->cover_source = 0;   /* a declared span is for one file */
    in->cover_from_ns = in->cover_to_ns = 0;
    ds_reader_close(rd);
    res->seconds = ds_now() - t0;
    return rc;
}

void ds_ingest_set_cover(ds_ingest *in, int source, uint64_t from_ns, uint64_t to_ns)
{
    in->cover_source = source;
    in->cover_from_ns = from_ns;
    in->cover_to_ns = to_ns;
}
