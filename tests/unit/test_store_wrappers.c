/* test_store_wrappers.c: the ds_store_* wrappers (src/store/store.c) over a backend that leaves
 * parts out (issue #22, item 1): a read-only backend's writes are refused with its name, a store
 * without a ledger or payloads answers "none" to reads and refuses writes, ds_store_keeps says
 * which parts there are, and a writer without put_chunk_zstd gets the frame decompressed into
 * put_chunk.  And ds_store_put_file, the one call ingest makes for a file, over SQLite: all of a
 * batch or nothing, sensors by name, the timezone and duplicates refused. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <zstd.h>

#include "core/records.h"
#include "store/store.h"
#include "unit/testdir.h"

static void has(const char *msg, const char *want)
{
    if (!strstr(msg, want))
        fail_msg("\"%s\" lacks \"%s\"", msg, want);
}

/* ---- a backend with a reader only ---- */

static ds_rc r_meta_get(ds_store *s, const char *key, char *val, size_t len, ds_err *err)
{
    (void)s; (void)key; (void)val; (void)len; (void)err;
    return DS_ENOTFOUND;
}
static int scans;
static ds_rc r_scan(ds_store *s, int kind, int64_t sensor_id, int32_t from, int32_t to, ds_scan_fn fn, void *ctx,
                    ds_err *err)
{
    (void)s; (void)kind; (void)sensor_id; (void)from; (void)to; (void)fn; (void)ctx; (void)err;
    scans++;
    return DS_OK;
}
static ds_rc r_day_span(ds_store *s, int32_t *first, int32_t *last, ds_err *err)
{
    (void)s; (void)err;
    *first = *last = 7;
    return DS_OK;
}
static ds_rc r_sensors(ds_store *s, ds_sensor_info **rows, size_t *n, ds_err *err)
{
    (void)s; (void)err;
    *rows = NULL;
    *n = 0;
    return DS_OK;
}
static ds_rc r_sensor_stats(ds_store *s, ds_sensor_stats **rows, size_t *n, ds_err *err)
{
    (void)s; (void)err;
    *rows = NULL;
    *n = 0;
    return DS_OK;
}

static const ds_store_reader_ops reader = { .meta_get = r_meta_get, .scan = r_scan, .day_span = r_day_span,
                                            .sensors = r_sensors, .sensor_stats = r_sensor_stats };

/* ---- a writer with put_chunk only (of the chunk writes) ---- */

static uint8_t got[4 * DS_REC_SRCSVC];
static size_t got_nrec, got_recsize;
static ds_rc w_put_chunk(ds_store *s, int64_t file_id, int64_t sensor_id, int32_t day, int kind, const uint8_t *data,
                         size_t nrec, size_t recsize, ds_err *err)
{
    (void)s; (void)file_id; (void)sensor_id; (void)day; (void)kind; (void)err;
    assert_true(nrec * recsize <= sizeof got);
    memcpy(got, data, nrec * recsize);
    got_nrec = nrec;
    got_recsize = recsize;
    return DS_OK;
}
static const ds_store_writer_ops writer = { .put_chunk = w_put_chunk };

static const ds_store_ops readonly_ops = { .name = "fake", .reader = &reader };
static const ds_store_ops rowstore_ops = { .name = "rows", .reader = &reader, .writer = &writer };

static void test_read_only(void **state)
{
    (void)state;
    ds_store st = { &readonly_ops };
    ds_err err = { 0 };
    int64_t id = 0;
    ds_sensor_info si = { .v4_addresses = 1 };
    assert_false(ds_store_keeps(&st, DS_WRITABLE));
    assert_false(ds_store_keeps(&st, DS_KEEPS_LEDGER));
    assert_false(ds_store_keeps(&st, DS_KEEPS_PAYLOADS));
    assert_false(ds_store_keeps(&st, DS_KEEPS_COVERAGE));
    assert_false(ds_store_keeps(&st, DS_KNOWS_ROLLUPS));
    assert_true(ds_store_keeps(&st, 0));
    assert_int_equal(ds_store_sensor_upsert(&st, &si, &id, &err), DS_EINVAL);
    has(err.msg, "the fake store is read-only");
    ds_file_meta f = { .path = "x.pcap" };
    assert_int_equal(ds_store_begin(&st, &f, &id, &err), DS_EINVAL);
    assert_int_equal(ds_store_meta_set(&st, "timezone", "UTC", &err), DS_EINVAL);
    ds_store_rollback(&st);   /* nothing to roll back: no crash */
    /* reads go through */
    int32_t a = 0, b = 0;
    assert_int_equal(ds_store_day_span(&st, &a, &b, &err), DS_OK);
    assert_int_equal(a, 7);
    assert_int_equal(ds_store_scan(&st, DS_CHUNK_SRCSVC, 0, 1, 2, NULL, NULL, &err), DS_OK);
    assert_int_equal(scans, 1);
}

static void test_missing_parts(void **state)
{
    (void)state;
    ds_store st = { &readonly_ops };
    ds_err err = { 0 };
    /* no ledger: reads say "none", writes are refused */
    ds_segment_rec seg;
    assert_int_equal(ds_store_segment_get(&st, "tokyo", 1, &seg, &err), DS_ENOTFOUND);
    ds_sensor_health *h = (ds_sensor_health *)&err;   /* set to NULL by the wrapper */
    size_t n = 99;
    assert_int_equal(ds_store_sensor_health(&st, &h, &n, &err), DS_OK);
    assert_null(h);
    assert_int_equal(n, 0);
    ds_segment_rec *segs = (ds_segment_rec *)&err;
    n = 99;
    assert_int_equal(ds_store_segments_list(&st, "tokyo", 0, 10, &segs, &n, &err), DS_OK);
    assert_null(segs);
    assert_int_equal(n, 0);
    ds_sensor_health one = { 0 };
    assert_int_equal(ds_store_ledger_put(&st, NULL, &one, &err), DS_EINVAL);
    has(err.msg, "keeps no collector ledger");
    /* no payloads */
    ds_payload_query q = { .limit = 5 };
    ds_payload_row *rows = (ds_payload_row *)&err;
    uint64_t total = 99;
    n = 99;
    assert_int_equal(ds_store_payloads_query(&st, &q, &rows, &n, &total, &err), DS_OK);
    assert_null(rows);
    assert_int_equal(n, 0);
    assert_int_equal(total, 0);
    ds_payload_batch pb = { .n = 0 };
    assert_int_equal(ds_store_payloads_put(&st, &pb, &err), DS_EINVAL);
    has(err.msg, "keeps no payloads");
    /* no coverage, no rollup index */
    uint64_t f0, f1;
    assert_int_equal(ds_store_coverage_span(&st, &f0, &f1, &err), DS_ENOTFOUND);
    assert_int_equal(ds_store_coverage_scan(&st, 0, 1, NULL, NULL, &err), DS_EINVAL);
    has(err.msg, "keeps no coverage");
    ds_sensor_day *sd = (ds_sensor_day *)&err;
    n = 99;
    assert_int_equal(ds_store_chunks_lacking(&st, DS_CHUNK_SRCSVC, DS_CHUNK_ROLLUP_ALL, 0, 1, 2, &sd, &n, &err), DS_EINVAL);
    assert_null(sd);
    assert_int_equal(n, 0);
    has(err.msg, "cannot tell");
}

static void test_zstd_default(void **state)
{
    (void)state;
    ds_store st = { &rowstore_ops };
    ds_err err = { 0 };
    uint8_t recs[3 * DS_REC_SRCSVC], frame[512];
    for (size_t i = 0; i < sizeof recs; i++)
        recs[i] = (uint8_t)(i * 7 + 1);
    size_t flen = ZSTD_compress(frame, sizeof frame, recs, sizeof recs, 3);
    assert_false(ZSTD_isError(flen));
    assert_true(ds_store_keeps(&st, DS_WRITABLE));
    assert_int_equal(ds_store_put_chunk_zstd(&st, 1, 1, 100, DS_CHUNK_SRCSVC, frame, flen, 3, &err), DS_OK);
    assert_int_equal(got_nrec, 3);
    assert_int_equal(got_recsize, DS_REC_SRCSVC);
    assert_memory_equal(got, recs, sizeof recs);
    /* a frame that does not hold the records it claims: refused, never half given */
    got_nrec = 0;
    assert_int_equal(ds_store_put_chunk_zstd(&st, 1, 1, 100, DS_CHUNK_SRCSVC, frame, flen, 4, &err), DS_EINVAL);
    has(err.msg, "does not hold 4 records");
    assert_int_equal(got_nrec, 0);
    assert_int_equal(ds_store_put_chunk_zstd(&st, 1, 1, 100, DS_CHUNK_SRCSVC, frame, flen / 2, 3, &err), DS_EINVAL);
    assert_int_equal(got_nrec, 0);
    /* writes the backend leaves out: coverage dropped, no prior files, supersede finds nothing */
    ds_coverage_row cr = { 0 };
    assert_int_equal(ds_store_put_coverage(&st, &cr, &err), DS_OK);
    ds_file_meta f = { .path = "x.pcap" };
    ds_file_prior pr[2];
    size_t n = 9;
    assert_int_equal(ds_store_file_priors(&st, &f, pr, 2, &n, &err), DS_OK);
    assert_int_equal(n, 0);
    uint64_t packets = 0;
    assert_int_equal(ds_store_file_check(&st, &f, &packets, &err), DS_OK);
    assert_int_equal(ds_store_supersede(&st, 1, &pr[0], &err), DS_ENOTFOUND);
}


/* ---- ds_store_put_file over SQLite ---- */

typedef struct emit_ctx { int fail_after; int bad_sensor; } emit_ctx;

static ds_rc emit_two(void *ctx, ds_batch_sink *k, ds_err *err)
{
    emit_ctx *e = ctx;
    uint8_t rec[DS_REC_SRCSVC];
    ds_rec_srcsvc r = { .src = 0x01020304, .service = 23 | (6u << 16), .packets = 5, .cls = DS_CLASS_SCAN,
                        .cc = { 'J', 'P' } };
    ds_rec_srcsvc_put(rec, &r);
    ds_rc rc = ds_batch_put_chunk(k, e->bad_sensor ? 7 : 0, 19600, DS_CHUNK_SRCSVC, rec, 1, DS_REC_SRCSVC, err);
    if (rc != DS_OK)
        return rc;
    if (e->fail_after)
        return ds_fail(err, DS_EIO, "emit failed half way");
    rc = ds_batch_put_chunk(k, 1, 19600, DS_CHUNK_SRCSVC, rec, 1, DS_REC_SRCSVC, err);
    ds_agg_counts c = { .packets = 5 };
    return rc != DS_OK ? rc : ds_batch_put_counts(k, -1, &c, err);
}

static int chunks_seen;
static ds_rc count_chunk(void *ctx, int64_t sensor_id, int32_t day, const uint8_t *data, size_t nrec, ds_err *err)
{
    (void)ctx; (void)sensor_id; (void)day; (void)data; (void)nrec; (void)err;
    chunks_seen++;
    return DS_OK;
}

static int stored_chunks(ds_store *st)
{
    ds_err err = { 0 };
    chunks_seen = 0;
    assert_int_equal(ds_store_scan(st, DS_CHUNK_SRCSVC, 0, 19000, 20000, count_chunk, NULL, &err), DS_OK);
    return chunks_seen;
}

static void test_put_file(void **state)
{
    (void)state;
    char dir[64], db[128];
    ds_err err = { 0 };
    ds_store *st;
    assert_int_equal(testdir_make(dir, sizeof dir, "ds_test_putfile"), 0);
    snprintf(db, sizeof db, "%s/s.db", dir);
    assert_int_equal(ds_store_open(&st, db, 1, &err), DS_OK);
    ds_sensor_info sens[2] = { { .v4_addresses = 256 }, { .v4_addresses = 256 } };
    snprintf(sens[0].name, sizeof sens[0].name, "tokyo");
    snprintf(sens[1].name, sizeof sens[1].name, "osaka");
    ds_file_meta fm = { .path = "a.pcap", .hash = { 1, 2, 3 } };
    emit_ctx e = { 0 };
    ds_file_batch b = { .file = &fm, .timezone = "Asia/Tokyo", .sensors = sens, .nsensors = 2, .emit = emit_two,
                        .ctx = &e };
    ds_file_put put;

    /* a batch that fails half way leaves nothing */
    e.fail_after = 1;
    assert_int_equal(ds_store_put_file(st, &b, &put, &err), DS_EIO);
    assert_int_equal(stored_chunks(st), 0);
    /* so does one naming a sensor it does not have */
    e.fail_after = 0;
    e.bad_sensor = 1;
    assert_int_equal(ds_store_put_file(st, &b, &put, &err), DS_EINVAL);
    has(err.msg, "sensor 7 of 2");
    assert_int_equal(stored_chunks(st), 0);
    /* the whole batch, once */
    e.bad_sensor = 0;
    assert_int_equal(ds_store_put_file(st, &b, &put, &err), DS_OK);
    assert_int_equal(put.superseded, 0);
    assert_int_equal(stored_chunks(st), 2);
    ds_sensor_info *rows = NULL;
    size_t n = 0;
    assert_int_equal(ds_store_sensors(st, &rows, &n, &err), DS_OK);
    assert_int_equal(n, 2);
    free(rows);
    /* the same bytes again: refused, nothing added */
    assert_int_equal(ds_store_put_file(st, &b, &put, &err), DS_EEXIST);
    assert_int_equal(stored_chunks(st), 2);
    /* other bytes counted in another timezone: refused, nothing added */
    ds_file_meta fm2 = { .path = "b.pcap", .hash = { 9 } };
    b.file = &fm2;
    b.timezone = "UTC";
    assert_int_equal(ds_store_put_file(st, &b, &put, &err), DS_EINVAL);
    has(err.msg, "timezone Asia/Tokyo");
    assert_int_equal(stored_chunks(st), 2);
    ds_store_close(st);
    testdir_remove(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_read_only),
        cmocka_unit_test(test_missing_parts),
        cmocka_unit_test(test_zstd_default),
        cmocka_unit_test(test_put_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
