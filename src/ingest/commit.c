/* commit.c: one file's store transaction, and what is decided about a file around it.
 *
 * ingest.c reads a file and aggregates it in threads; everything here runs after that (or, for
 * the duplicate check, before it) on the calling thread:
 *
 *   ingest_precheck   before decoding: the file's first 64 KiB hashed, and the stored files that
 *                     may hold its bytes looked up (a duplicate is refused without being decoded;
 *                     a stored copy cut short that this file continues becomes the `prior`);
 *   ingest_cover_isb  the coverage span from pcapng interface statistics, when they fit;
 *   ingest_commit     the file as one batch (store.h ds_file_batch), put once: its sensors by
 *                     name, chunks (each thread's own), the rollups its threads built
 *                     (ingest/rollup.h), coverage rows (store.h ds_coverage_row), counts, and the
 *                     prior it supersedes.  The store makes it visible at once or not at all.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ingest/ingest_int.h"
#include "ingest/rollup.h"
#include "ingest/tsguard.h"

typedef struct commit_ctx {
    ds_ingest *in;
    const ingest_parts *p;
    ds_batch_sink *sink;      /* set by emit */
    ingest_rollups *rollups;  /* NULL: none written (ds_ingest_opts.no_rollup) */
} commit_ctx;

static ds_rc sink_chunk(void *ctx, int sensor, int32_t day, ds_chunk_kind kind, const uint8_t *frame, size_t framelen,
                        size_t nrec, ds_err *err)
{
    commit_ctx *c = ctx;
    return ds_batch_put_chunk_zstd(c->sink, sensor, day, kind, frame, framelen, nrec, err);
}

/* The file's coverage rows (store.h ds_coverage_row): for every sensor the file could feed (the
 * one --sensor names, else every configured sensor: a capture point sees all its darknets, so
 * a sensor with no packet in an hour where it usually has many was down, analysis/coverage.c),
 * the span observed and the packets of each UTC hour, summed over the threads. */
static ds_rc put_coverage(ds_ingest *in, ds_batch_sink *sink, const ingest_parts *p, ds_err *err)
{
    const ds_config *cfg = in->o.cfg;
    int source = in->cover_source ? in->cover_source : DS_COVSRC_PACKETS;
    uint64_t first = p->first_ns, last = p->last_ns;
    ds_rc rc = DS_OK;
    if (in->cover_from_ns || in->cover_to_ns) {
        /* a span given with the file: taken when its times are possible (the timestamp check's
         * bounds); a live sensor whose clock is wrong reports a wrong span, and then the packets'
         * own span (their bad times already left out) is the one to keep */
        if (ds_tsguard_span_possible(in->cover_from_ns, in->cover_to_ns, p->now_s)) {
            first = in->cover_from_ns;
            last = in->cover_to_ns;
        } else {
            source = DS_COVSRC_PACKETS;
        }
    }
    if (!first && !last)
        return DS_OK;   /* no record, and no declared span: the file observed nothing */
    for (size_t s = 0; s < cfg->nsensors && rc == DS_OK; s++) {
        if (in->forced >= 0 && (int)s != in->forced)
            continue;
        ds_hours sum = { 0 };
        for (int i = 0; i < p->n && rc == DS_OK; i++)
            if (ds_hours_merge(&sum, &p->hours[i][s]) != 0)
                rc = ds_fail(err, DS_ENOMEM, "out of memory");
        /* an hour array for every row, zeros included: a row without one reads as "counts
         * unknown" (written before they were kept) and is never taken for an outage */
        int64_t h0 = (int64_t)(first / 3600000000000ULL);
        if (rc == DS_OK && !sum.len && ds_hours_add(&sum, h0, 0) != 0)
            rc = ds_fail(err, DS_ENOMEM, "out of memory");
        ds_coverage_row row = { .source = source, .first_ns = first, .last_ns = last, .hour0 = sum.h0,
                                .hours = sum.n, .nhours = sum.len };
        if (row.last_ns < row.first_ns)
            row.last_ns = row.first_ns;
        if (rc == DS_OK)
            rc = ds_batch_put_coverage(sink, (int)s, &row, err);
        ds_hours_free(&sum);
    }
    return rc;
}

/* Before a regular file is decoded: the hash of its first 64 KiB, and the stored files that may
 * hold its bytes (ds_store_ops.file_priors).  One of the same length: the whole file is hashed
 * (ds_reader_prehash, one read of it) and, the same bytes stored, DS_EEXIST (res->packets: what
 * they counted), the file not decoded.  One cut short whose bytes this file begins with: *prior
 * (else its id stays 0).  Reading the whole file only when a stored file has its first 64 KiB and
 * length keeps the ingest of a new file at one read of it: a second read cost 0.35 s of 4.2 s of
 * CPU on a 635 MB file.  An optimisation only: begin() checks again inside the write transaction,
 * and when anything here fails (stdin, no store yet, a store the commit will complain about) the
 * file is simply read.  *prehashed: the reader's hash came from here, of ds_reader_size() bytes. */
ds_rc ingest_precheck(ds_ingest *in, ds_reader *rd, ds_file_meta *fm, ds_file_prior *prior, int *prehashed,
                      ds_ingest_result *res, ds_err *err)
{
    ds_file_prior cand[8];
    size_t n = 0;
    ds_err quiet = { 0 };
    uint64_t size = ds_reader_size(rd);
    if (ds_reader_hash_head(rd, size < DS_PREFIX_HASH_LEN ? size : DS_PREFIX_HASH_LEN, fm->prefix_hash, &quiet) != DS_OK)
        return DS_OK;
    fm->have_prefix = 1;
    fm->bytes = size;
    if (!in->store && ds_store_open(&in->store, in->o.store_path, 0, &quiet) != DS_OK)
        return DS_OK;
    if (ds_store_file_priors(in->store, fm, cand, sizeof cand / sizeof cand[0], &n, &quiet) != DS_OK)
        return DS_OK;
    for (size_t i = 0; i < n; i++) {   /* longest first: the same length, then the last cut of a capture */
        uint8_t h[16];
        if (cand[i].bytes == size) {
            if (!*prehashed && ds_reader_prehash(rd, fm->hash, NULL, &quiet) != DS_OK)
                return DS_OK;
            *prehashed = 1;
            if (memcmp(fm->hash, cand[i].hash, 16) == 0) {
                ds_rc rc = ds_store_file_check(in->store, fm, &res->packets, err);
                if (rc == DS_EEXIST)
                    return rc;
                ds_err_clear(err);   /* forced, or a store error that the commit will report */
            }
        } else if (ds_reader_hash_head(rd, cand[i].bytes, h, &quiet) == DS_OK && memcmp(h, cand[i].hash, 16) == 0) {
            *prior = cand[i];
            break;
        }
    }
    return DS_OK;
}

/* Everything of the file, through the store's sink (ds_file_batch.emit). */
static ds_rc emit(void *ctx, ds_batch_sink *sink, ds_err *err)
{
    commit_ctx *c = ctx;
    const ingest_parts *p = c->p;
    const ds_config *cfg = c->in->o.cfg;
    ds_rc rc;
    c->sink = sink;
    /* each thread's records go in as chunks of their own: the threads own disjoint sources, and
     * readers combine the chunks of a day anyway, so there is nothing to merge first */
    for (int i = 0; i < p->n; i++)
        if ((rc = ds_agg_emit_zstd(p->aggs[i], sink_chunk, c, err)) != DS_OK ||
            (c->rollups && (rc = ds_agg_emit_rollups(p->aggs[i], ingest_rollups_feed, c->rollups, err)) != DS_OK))
            return rc;
    if (c->rollups && (rc = ingest_rollups_put(c->rollups, sink, err)) != DS_OK)
        return rc;
    if ((rc = put_coverage(c->in, sink, p, err)) != DS_OK)
        return rc;
    for (int s = -1; s < (int)cfg->nsensors; s++) {
        ds_agg_counts k = { 0 };
        for (int i = 0; i < p->n; i++)
            ds_agg_counts_add(&k, ds_agg_counts_of(p->aggs[i], s));
        uint64_t any = k.first_ns | k.packets | k.outside;   /* first_ns alone missed records timed 0 */
        for (int o = 0; o < DS_PKT__COUNT; o++)
            any |= k.outcome[o];
        if (any && (rc = ds_batch_put_counts(sink, s, &k, err)) != DS_OK)
            return rc;
    }
    return DS_OK;
}

ds_rc ingest_commit(ds_ingest *in, const ingest_parts *p, const ds_file_meta *fm, const ds_file_prior *prior,
                    ds_ingest_result *res, ds_err *err)
{
    if (!in->store) {
        ds_rc orc = ds_store_open(&in->store, in->o.store_path, 1, err);
        if (orc != DS_OK)
            return orc;
    }
    const ds_config *cfg = in->o.cfg;
    ds_rc rc;
    commit_ctx c = { in, p, NULL, NULL };
    ds_sensor_info *si = calloc(cfg->nsensors ? cfg->nsensors : 1, sizeof *si);
    if (!si || (!in->o.no_rollup && !(c.rollups = ingest_rollups_new()))) {
        free(si);
        return ds_fail(err, DS_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < cfg->nsensors; i++) {
        snprintf(si[i].name, sizeof si[i].name, "%s", cfg->sensors[i].name);
        size_t len = 0;
        for (size_t k = 0; k < cfg->sensors[i].nprefixes && len < sizeof si[i].darknet - 50; k++) {
            char pb[64];
            ds_prefix_format(&cfg->sensors[i].prefixes[k], pb, sizeof pb);
            len += (size_t)snprintf(si[i].darknet + len, sizeof si[i].darknet - len, "%s%s", k ? ", " : "", pb);
        }
        si[i].v4_addresses = ds_darknet_v4_addresses(in->dn, i);
    }
    ds_file_batch b = { .file = fm, .timezone = cfg->timezone, .sensors = si, .nsensors = cfg->nsensors,
                        .emit = emit, .ctx = &c, .prior = prior->id ? prior : NULL };
    ds_file_put put;
    rc = ds_store_put_file(in->store, &b, &put, err);
    if (rc == DS_OK && put.superseded)
        snprintf(res->notice, sizeof res->notice, "%s: supersedes %s (cut short at %llu bytes, ingested %s UTC): its "
                 "counts are replaced", fm->path, prior->path, (unsigned long long)prior->bytes, prior->ingested);
    ingest_rollups_free(c.rollups);
    free(si);
    return rc;
}

/* A pcapng file's interface statistics (isb_starttime .. isb_endtime) are taken as its capture span
 * (with its packets' span: whichever reaches further) only when they are possible times (the
 * timestamp check's bounds) and fit its packets: each end within a week of the first and the
 * last packet (a darknet silent for longer than that was not capturing).  Writers get the units
 * wrong: one capture of the tcpdump test suite says its interface started in January 1970. */
#define ISB_SLACK_NS (7ULL * 86400 * 1000000000ULL)
static int isb_plausible(uint64_t from, uint64_t to, uint64_t first, uint64_t last, uint64_t now_s)
{
    if (!ds_tsguard_span_possible(from, to, now_s))
        return 0;
    if (!first && !last)
        return to - from <= ISB_SLACK_NS;
    return from <= first + ISB_SLACK_NS && from + ISB_SLACK_NS >= first && to + ISB_SLACK_NS >= last &&
           to <= last + ISB_SLACK_NS;
}

void ingest_cover_isb(ds_ingest *in, const ds_reader *rd, const ingest_parts *p, const char *path,
                      ds_ingest_result *res)
{
    uint64_t isb_from, isb_to, first_ns = p->first_ns, last_ns = p->last_ns;
    if (in->cover_source || !ds_reader_capture_span(rd, &isb_from, &isb_to))
        return;
    if (!isb_plausible(isb_from, isb_to, first_ns, last_ns, p->now_s)) {
        if (!res->warning[0])
            snprintf(res->warning, sizeof res->warning,
                     "%s: its interface statistics give a capture span that does not fit its packets; the "
                     "packets' own span is taken for coverage", path);
        return;
    }
    /* the interfaces' own statistics say when they captured: quiet stretches at either end of
     * the file were observed too (with the packets' span, whichever reaches further) */
    in->cover_source = DS_COVSRC_PCAPNG;
    in->cover_from_ns = first_ns && first_ns < isb_from ? first_ns : isb_from;
    isb_to = isb_to > isb_from ? isb_to - 1 : isb_to;   /* the end is an instant: [from, to) */
    in->cover_to_ns = last_ns > isb_to ? last_ns : isb_to;
}
