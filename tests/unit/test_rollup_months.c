/* test_rollup_months.c: month rollups (store/rollup_months.h) over the SQLite store.
 *
 * Day rollup chunks are written by hand (ds_rollup_writer) for days of June and July 2023, then:
 *   - a closed month is built, an open one is not; its chunks are ds_rollup_merge of the days;
 *   - ds_store_scan_rollups gives each source of the period once, through the month chunk where
 *     the month is whole (or the store's data ends within it), through the days elsewhere; the
 *     unions equal those over the day chunks alone (DS_ROLLUP_DAYS=1);
 *   - a file adding a day to a built month removes its month chunks in the same transaction,
 *     and a file superseding one does too;
 *   - a build whose month changed between its read and its write writes nothing (stale);
 *   - ds_srcacc counts one set without decoding it, and a union as before. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "core/records.h"
#include "core/rollup.h"
#include "core/rollup_build.h"
#include "core/srcset.h"
#include "store/rollup_months.h"
#include "store/store.h"
#include "unit/testdir.h"
#include "util/timeutil.h"

static char dir[64], path[128];
static int64_t sensor = 0;
static int nfile;

/* One day chunk of dimension dim: key k (class 0) with sources [base, base + n) step 3, and key
 * k + 1 with the sources base + 1 .. (odd keys overlap across days: unions matter). */
static void day_chunk(int dim, uint32_t base, size_t n, uint8_t **out, size_t *len)
{
    ds_rollup_writer w = { 0 };
    ds_srcvec v = { 0 };
    ds_err err;
    for (uint32_t key = 7; key <= 8; key++) {
        ds_srcvec_clear(&v);
        for (size_t i = 0; i < n; i++)
            assert_int_equal(ds_srcvec_add(&v, base + (key - 7) + 3 * i), 0);
        assert_int_equal(ds_srcvec_normalize(&v), 0);
        v.sorted = 1;
        uint64_t id = dim == DS_ROLLUP_ALL ? 0 : key;
        assert_int_equal(ds_rollup_writer_add(&w, id, 10 * n + key, &v), 0);
        if (dim == DS_ROLLUP_ALL)
            break;
    }
    assert_int_equal(ds_rollup_writer_finish(&w, (ds_rollup_dim)dim, out, len, &err), DS_OK);
    ds_rollup_writer_free(&w);
    ds_srcvec_free(&v);
}

/* A file with one HOURLY record and the four rollup chunks of each day in days[0..n). */
static void put_file(ds_store *st, const int32_t *days, size_t n, uint32_t base)
{
    ds_err err;
    ds_file_meta f = { .path = "t.pcap", .bytes = 1, .records = 1 };
    int64_t fid;
    f.hash[0] = (uint8_t)++nfile;
    assert_int_equal(ds_store_begin(st, &f, &fid, &err), DS_OK);
    ds_sensor_info si = { .v4_addresses = 256 };
    snprintf(si.name, sizeof si.name, "tokyo");
    snprintf(si.darknet, sizeof si.darknet, "198.51.100.0/24");
    assert_int_equal(ds_store_sensor_upsert(st, &si, &sensor, &err), DS_OK);
    for (size_t i = 0; i < n; i++) {
        uint8_t rec[DS_REC_HOURLY] = { 0 };
        assert_int_equal(ds_store_put_chunk(st, fid, sensor, days[i], DS_CHUNK_HOURLY, rec, 1, DS_REC_HOURLY, &err),
                         DS_OK);
        for (int dim = 0; dim < DS_ROLLUP__COUNT; dim++) {
            uint8_t *c;
            size_t len;
            day_chunk(dim, base + 1000 * (uint32_t)days[i] % 7, 50 + (size_t)(days[i] % 5), &c, &len);
            assert_int_equal(ds_store_put_chunk(st, fid, sensor, days[i], DS_ROLLUP_KIND(dim), c, len, 1, &err), DS_OK);
            free(c);
        }
    }
    assert_int_equal(ds_store_commit(st, &err), DS_OK);
}

static int64_t month_chunks(ds_store *st, int32_t month)
{
    (void)st;
    char cmd[256];
    snprintf(cmd, sizeof cmd, "sqlite3 %s 'SELECT count(*) FROM chunks WHERE kind BETWEEN 40 AND 43 AND day = %d'",
             path, month);
    FILE *p = popen(cmd, "r");
    long long n = -1;
    assert_non_null(p);
    if (fscanf(p, "%lld", &n) != 1)
        n = -1;
    pclose(p);
    return n;
}

/* per key: packets, and the union of the sets seen (as an accumulator) */
typedef struct sums { uint64_t packets[16]; ds_srcacc acc[16]; int chunks, months; int kind; } sums;

static ds_rc on_chunk(void *ctx, int64_t sensor_id, int32_t day, const uint8_t *data, size_t nrec, ds_err *err)
{
    (void)sensor_id;
    sums *s = ctx;
    ds_rollup_view v;
    ds_rc rc = ds_rollup_open(data, nrec, s->kind, &v, err);
    if (rc != DS_OK)
        return rc;
    s->chunks++;
    int32_t first, last;
    ds_month_span(day, &first, &last);
    for (uint32_t i = 0; i < v.n; i++) {
        ds_rollup_entry e;
        ds_rollup_get(&v, i, &e);
        assert_true(e.key < 16);
        s->packets[e.key] += e.packets;
        if ((rc = ds_srcacc_add(&s->acc[e.key], e.set, e.set_len, e.n4, e.n6, err)) != DS_OK)
            return rc;
    }
    return DS_OK;
}

/* Both ways: through months where there are some, and days only; the same packets and sources. */
static void same_both_ways(ds_store *st, int kind, int32_t from, int32_t to, int *chunks_months, int *chunks_days)
{
    sums a = { .kind = kind }, b = { .kind = kind };
    ds_err err;
    assert_int_equal(ds_store_scan_rollups(st, kind, 0, from, to, on_chunk, &a, &err), DS_OK);
    setenv("DS_ROLLUP_DAYS", "1", 1);
    assert_int_equal(ds_store_scan_rollups(st, kind, sensor, from, to, on_chunk, &b, &err), DS_OK);
    unsetenv("DS_ROLLUP_DAYS");
    for (int k = 0; k < 16; k++) {
        assert_int_equal(a.packets[k], b.packets[k]);
        assert_int_equal(ds_srcacc_distinct(&a.acc[k], &err), ds_srcacc_distinct(&b.acc[k], &err));
        ds_srcacc_free(&a.acc[k]);
        ds_srcacc_free(&b.acc[k]);
    }
    *chunks_months = a.chunks;
    *chunks_days = b.chunks;
}

static void test_months(void **state)
{
    (void)state;
    ds_store *st = NULL;
    ds_err err;
    size_t built = 0;
    assert_int_equal(testdir_make(dir, sizeof dir, "ds-months"), 0);
    snprintf(path, sizeof path, "%s/store.db", dir);
    assert_int_equal(ds_store_open(&st, path, 1, &err), DS_OK);
    assert_true(ds_store_keeps(st, DS_KEEPS_MONTHS));
    int32_t jun1 = ds_days_from_civil(2023, 6, 1), jul1 = ds_days_from_civil(2023, 7, 1);

    /* June 3..12 and July 1..3 in one file; June 20..30 in a second, from other sources */
    int32_t d1[13], d2[11];
    for (int i = 0; i < 10; i++)
        d1[i] = jun1 + 2 + i;
    for (int i = 0; i < 3; i++)
        d1[10 + i] = jul1 + i;
    for (int i = 0; i < 11; i++)
        d2[i] = jun1 + 19 + i;
    put_file(st, d1, 13, 100);
    put_file(st, d2, 11, 5000);

    /* June and July are both closed (they ended before today): both built */
    assert_int_equal(ds_store_months_build(st, &built, &err), DS_OK);
    assert_int_equal(built, 2);
    assert_int_equal(month_chunks(st, jun1), 4);
    assert_int_equal(month_chunks(st, jul1), 4);
    assert_int_equal(ds_store_months_build(st, &built, &err), DS_OK);
    assert_int_equal(built, 0);   /* nothing missing any more */

    /* the month chunk is the merge of the days */
    for (int kind = DS_CHUNK_ROLLUP_SERVICE; kind <= DS_CHUNK_ROLLUP_ALL; kind++) {
        int cm, cd;
        same_both_ways(st, kind, jun1, jun1 + 29, &cm, &cd);
        assert_int_equal(cm, 1);    /* June whole: its month chunk alone */
        assert_int_equal(cd, 21);   /* the 21 days */
        same_both_ways(st, kind, jun1 + 5, jul1 + 2, &cm, &cd);   /* June cut: its days; July reaches the data's end */
        assert_int_equal(cm, 18 + 1);
        same_both_ways(st, kind, jun1 - 40, jul1 + 60, &cm, &cd);  /* both months whole */
        assert_int_equal(cm, 2);
        same_both_ways(st, kind, jun1 + 3, jun1 + 25, &cm, &cd);  /* no whole month */
        assert_int_equal(cm, cd);
    }

    /* a late file for June removes June's month chunks (in its transaction), not July's */
    int32_t late = jun1 + 14;
    put_file(st, &late, 1, 9000);
    assert_int_equal(month_chunks(st, jun1), 0);
    assert_int_equal(month_chunks(st, jul1), 4);
    int cm, cd;
    same_both_ways(st, DS_CHUNK_ROLLUP_SERVICE, jun1, jul1 + 30, &cm, &cd);
    assert_int_equal(cm, 22 + 1);   /* June by its days again, July by its month */
    assert_int_equal(ds_store_months_build(st, &built, &err), DS_OK);
    assert_int_equal(built, 1);
    same_both_ways(st, DS_CHUNK_ROLLUP_SERVICE, jun1, jul1 + 30, &cm, &cd);
    assert_int_equal(cm, 2);

    /* a build that read June before a file changed it writes nothing */
    const ds_store_month_ops *mo = st->ops->months;
    uint64_t sig[2];
    assert_int_equal(mo->sig(st, sensor, jun1, sig, &err), DS_OK);
    late = jun1 + 15;
    put_file(st, &late, 1, 9100);
    uint8_t *data[4];
    size_t len[4];
    for (int dim = 0; dim < 4; dim++)
        day_chunk(dim, 1, 3, &data[dim], &len[dim]);
    int stale = 0;
    assert_int_equal(mo->put(st, sensor, jun1, sig, data, len, &stale, &err), DS_OK);
    assert_int_equal(stale, 1);
    assert_int_equal(month_chunks(st, jun1), 0);
    for (int dim = 0; dim < 4; dim++)
        free(data[dim]);
    assert_int_equal(ds_store_months_build(st, &built, &err), DS_OK);
    assert_int_equal(built, 1);
    same_both_ways(st, DS_CHUNK_ROLLUP_ALL, jun1, jul1 + 30, &cm, &cd);
    assert_int_equal(cm, 2);

    ds_store_close(st);
    testdir_remove(dir);
}

static void test_month_open(void **state)
{
    (void)state;
    ds_store *st = NULL;
    ds_err err;
    size_t built = 9;
    assert_int_equal(testdir_make(dir, sizeof dir, "ds-months"), 0);
    snprintf(path, sizeof path, "%s/store.db", dir);
    assert_int_equal(ds_store_open(&st, path, 1, &err), DS_OK);
    nfile = 0;
    /* this month, up to today: still open (it has not ended, the sensor has no later day) */
    int32_t today = ds_day_of((int64_t)time(NULL)), first, last;
    ds_month_span(today, &first, &last);
    int32_t d[1] = { first };
    put_file(st, d, 1, 1);
    assert_int_equal(ds_store_months_build(st, &built, &err), DS_OK);
    assert_int_equal(built, 0);
    ds_store_close(st);
    testdir_remove(dir);
}

static void test_acc_one_set(void **state)
{
    (void)state;
    uint8_t *c1, *c2;
    size_t l1, l2;
    ds_err err;
    day_chunk(DS_ROLLUP_ALL, 10, 40, &c1, &l1);
    day_chunk(DS_ROLLUP_ALL, 11, 40, &c2, &l2);
    ds_rollup_view v1, v2;
    ds_rollup_entry e1, e2;
    assert_int_equal(ds_rollup_open(c1, l1, DS_CHUNK_ROLLUP_ALL, &v1, &err), DS_OK);
    assert_int_equal(ds_rollup_open(c2, l2, DS_CHUNK_MONTH_ALL, &v2, &err), DS_OK);   /* a month's: the same table */
    ds_rollup_get(&v1, 0, &e1);
    ds_rollup_get(&v2, 0, &e2);
    ds_srcacc a = { 0 };
    assert_int_equal(ds_srcacc_add(&a, e1.set, e1.set_len, e1.n4, e1.n6, &err), DS_OK);
    assert_int_equal(a.v.n4, 0);   /* kept encoded */
    assert_int_equal(ds_srcacc_distinct(&a, &err), 40);
    assert_int_equal(ds_srcacc_add(&a, e1.set, e1.set_len, e1.n4, e1.n6, &err), DS_OK);
    assert_int_equal(ds_srcacc_add(&a, e2.set, e2.set_len, e2.n4, e2.n6, &err), DS_OK);
    assert_int_equal(ds_srcacc_distinct(&a, &err), 80);   /* 10+3i and 11+3i never meet */
    ds_srcacc_free(&a);
    /* a damaged kept set is found when it is united */
    uint8_t bad[4] = { 5, 0, 0, 0 };
    assert_int_equal(ds_srcacc_add(&a, bad, sizeof bad, 2, 0, &err), DS_OK);
    assert_int_equal(ds_srcacc_add(&a, e1.set, e1.set_len, e1.n4, e1.n6, &err), DS_EFORMAT);
    ds_srcacc_free(&a);
    free(c1);
    free(c2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_months),
        cmocka_unit_test(test_month_open),
        cmocka_unit_test(test_acc_one_set),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
