/* test_tsguard.c: the timestamp check of ingest (src/ingest/tsguard.c).
 *
 * Each case feeds a sequence of record times through the guard the way ingest does (the inline
 * fast path first, ds_tsguard_push otherwise, ds_tsguard_end at the end of the file) and checks
 * which records came out bad, that every record came out exactly once, that the good ones came
 * out in file order, and that a held record's bytes survived the reader's buffer being reused.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ingest/tsguard.h"

#define NS DS_TSGUARD_NS
#define DAY 86400ll
#define T0 1688169600ll          /* 2023-07-01T00:00:00Z */
#define NOW 1765152000ll         /* 2025-12-08: "now" of these tests */
#define MAXREC 4096

typedef struct out {
    int seen[MAXREC];            /* times handed over */
    int bad[MAXREC];
    long long last_good;         /* index of the last good record handed over, -1 */
    int in_order;
    uint64_t nbad;
} out;

static ds_rc collect(void *ctx, const ds_record *r, int bad)
{
    out *o = ctx;
    long long i = (long long)r->offset;
    assert_true(i >= 0 && i < MAXREC);
    assert_int_equal(r->caplen, 4);
    uint32_t v;
    memcpy(&v, r->data, 4);
    assert_int_equal(v, (uint32_t)i * 2654435761u);   /* the record's own bytes, not the buffer's latest */
    o->seen[i]++;
    o->bad[i] = bad;
    o->nbad += (uint64_t)bad;
    if (!bad) {
        if (i < o->last_good)
            o->in_order = 0;
        o->last_good = i;
    }
    return DS_OK;
}

/* Feed n record times (seconds) through a guard; o receives the verdicts. */
static void run(const long long *ts_s, int n, out *o)
{
    ds_tsguard g;
    memset(&g, 0, sizeof g);
    memset(o, 0, sizeof *o);
    o->last_good = -1;
    o->in_order = 1;
    ds_tsguard_init(&g, NOW);
    uint8_t buf[4];   /* one buffer, overwritten for every record, as the reader does */
    for (int i = 0; i < n; i++) {
        uint32_t v = (uint32_t)i * 2654435761u;
        memcpy(buf, &v, 4);
        ds_record r = { .ts_ns = (uint64_t)ts_s[i] * NS, .caplen = 4, .wirelen = 4, .linktype = 1, .data = buf,
                        .offset = (uint64_t)i };
        if (ts_s[i] < 0)   /* -k: k - 1 ns below 2^64 */
            r.ts_ns = UINT64_MAX - (uint64_t)(-ts_s[i] - 1);
        if (ds_tsguard_fast(&g, r.ts_ns))
            assert_int_equal(collect(o, &r, 0), DS_OK);
        else
            assert_int_equal(ds_tsguard_push(&g, &r, collect, o), DS_OK);
        memset(buf, 0xee, sizeof buf);
    }
    assert_int_equal(ds_tsguard_end(&g, collect, o), DS_OK);
    assert_int_equal(g.nbad, o->nbad);
    ds_tsguard_free(&g);
    for (int i = 0; i < n; i++)
        assert_int_equal(o->seen[i], 1);
    assert_true(o->in_order);
}

/* A steady capture of n records from T0, one a minute. */
static void steady(long long *ts, int n)
{
    for (int i = 0; i < n; i++)
        ts[i] = T0 + 60ll * i;
}

static void expect_bad(const out *o, int n, const int *bad, int nbad)
{
    int want[MAXREC] = { 0 };
    for (int k = 0; k < nbad; k++)
        want[bad[k]] = 1;
    for (int i = 0; i < n; i++)
        if (o->bad[i] != want[i])
            fail_msg("record %d: bad %d, expected %d", i, o->bad[i], want[i]);
    assert_int_equal(o->nbad, (uint64_t)nbad);
}

static void test_steady(void **state)
{
    (void)state;
    long long ts[500];
    out o;
    steady(ts, 500);
    run(ts, 500, &o);
    expect_bad(&o, 500, NULL, 0);
}

static void test_spikes(void **state)
{
    (void)state;
    long long ts[200];
    out o;
    steady(ts, 200);
    ts[50] += 400 * DAY;   /* forward */
    ts[120] -= 400 * DAY;  /* backward */
    ts[121] -= 2 * DAY;    /* a second one right after it, elsewhere */
    run(ts, 200, &o);
    expect_bad(&o, 200, (int[]){ 50, 120, 121 }, 3);
}

static void test_absolute(void **state)
{
    (void)state;
    long long ts[100];
    out o;
    steady(ts, 100);
    ts[10] = 1;                 /* 1970 */
    ts[20] = 0;                 /* a zeroed header */
    ts[30] = 0xF0000000ll;      /* 2097 */
    ts[40] = 0xFFFFFFFFll;      /* 2106 */
    ts[50] = NOW + DAY + 1;     /* a second past the bound */
    ts[51] = NOW + DAY - 10 * 366 * DAY; /* fine in itself, but a spike */
    ts[60] = 631151999;         /* the last second of 1989 */
    run(ts, 100, &o);
    expect_bad(&o, 100, (int[]){ 10, 20, 30, 40, 50, 51, 60 }, 7);
}

/* the bounds themselves: 1990-01-01T00:00:00Z and now + a day are good */
static void test_bounds(void **state)
{
    (void)state;
    out o;
    long long a[] = { 631152000, 631152001, 631152060 };
    run(a, 3, &o);
    expect_bad(&o, 3, NULL, 0);
    long long b[] = { NOW + DAY - 60, NOW + DAY };
    run(b, 2, &o);
    expect_bad(&o, 2, NULL, 0);
    long long c[] = { T0, T0 + 1, -1, T0 + 2 };   /* 2^64 - 1 ns */
    run(c, 4, &o);
    expect_bad(&o, 4, (int[]){ 2 }, 1);
}

/* a run of K records away, then back: all K bad; K + 1: the file did not come back, all good */
static void test_run_of_k(void **state)
{
    (void)state;
    long long ts[300];
    out o;
    steady(ts, 300);
    for (int i = 100; i < 100 + DS_TSGUARD_RUN; i++)
        ts[i] += 30 * DAY;
    run(ts, 300, &o);
    int bad[DS_TSGUARD_RUN];
    for (int i = 0; i < DS_TSGUARD_RUN; i++)
        bad[i] = 100 + i;
    expect_bad(&o, 300, bad, DS_TSGUARD_RUN);

    /* K + 1 records 30 days ahead, then the old time again: a jump forward, accepted, and then a
     * jump back, accepted too once K + 1 records agree on it */
    steady(ts, 300);
    for (int i = 100; i < 100 + DS_TSGUARD_RUN + 1; i++)
        ts[i] += 30 * DAY;
    run(ts, 300, &o);
    expect_bad(&o, 300, NULL, 0);
}

/* a sensor off for 10 days: every record counts */
static void test_gap(void **state)
{
    (void)state;
    long long ts[2000];
    out o;
    steady(ts, 2000);
    for (int i = 1000; i < 2000; i++)
        ts[i] += 10 * DAY;
    run(ts, 2000, &o);
    expect_bad(&o, 2000, NULL, 0);
    /* and a clock set back by a year, for good */
    steady(ts, 2000);
    for (int i = 1000; i < 2000; i++)
        ts[i] -= 365 * DAY;
    run(ts, 2000, &o);
    expect_bad(&o, 2000, NULL, 0);
    /* a quiet sensor: a record every two days */
    for (int i = 0; i < 100; i++)
        ts[i] = T0 + 2 * DAY * i;
    run(ts, 100, &o);
    expect_bad(&o, 100, NULL, 0);
}

/* the first record: held until one agrees; when the first two disagree, the third decides */
static void test_first(void **state)
{
    (void)state;
    long long ts[100];
    out o;
    steady(ts, 100);
    ts[0] = T0 - 3000 * DAY;   /* a damaged first header, in the bounds */
    run(ts, 100, &o);
    expect_bad(&o, 100, (int[]){ 0 }, 1);
    steady(ts, 100);
    ts[1] = T0 + 3000 * DAY;   /* the second is the odd one */
    run(ts, 100, &o);
    expect_bad(&o, 100, (int[]){ 1 }, 1);
    steady(ts, 100);
    ts[0] = 0xF0000000ll;      /* an absolute one first */
    ts[1] = T0 - 1000 * DAY;   /* then a spike */
    run(ts, 100, &o);
    expect_bad(&o, 100, (int[]){ 0, 1 }, 2);
    /* one record; two that disagree (the first wins, the later one went forward); a gap right
     * after the first record costs the first */
    long long one[] = { T0 };
    run(one, 1, &o);
    expect_bad(&o, 1, NULL, 0);
    long long two[] = { T0, T0 + 5 * DAY };
    run(two, 2, &o);
    expect_bad(&o, 2, NULL, 0);
    long long back[] = { T0, T0 - 5 * DAY };
    run(back, 2, &o);
    expect_bad(&o, 2, (int[]){ 1 }, 1);
    steady(ts, 100);
    for (int i = 1; i < 100; i++)
        ts[i] += 10 * DAY;
    run(ts, 100, &o);
    expect_bad(&o, 100, (int[]){ 0 }, 1);
    run(ts, 0, &o);
}

/* the end of the file: a pending run that went back is bad, one that went forward is accepted */
static void test_end(void **state)
{
    (void)state;
    long long ts[100];
    out o;
    steady(ts, 100);
    ts[99] -= 400 * DAY;
    run(ts, 100, &o);
    expect_bad(&o, 100, (int[]){ 99 }, 1);
    steady(ts, 100);
    ts[99] += 400 * DAY;
    run(ts, 100, &o);
    expect_bad(&o, 100, NULL, 0);
    /* a gap with three records after it, then the end: kept */
    steady(ts, 100);
    for (int i = 97; i < 100; i++)
        ts[i] += 10 * DAY;
    run(ts, 100, &o);
    expect_bad(&o, 100, NULL, 0);
    /* a spike back, then a gap forward, then the end: the spike alone is bad */
    steady(ts, 100);
    ts[96] -= 400 * DAY;
    for (int i = 97; i < 100; i++)
        ts[i] += 10 * DAY;
    run(ts, 100, &o);
    expect_bad(&o, 100, (int[]){ 96 }, 1);
    /* 1970 last */
    steady(ts, 100);
    ts[99] = 1;
    run(ts, 100, &o);
    expect_bad(&o, 100, (int[]){ 99 }, 1);
}

/* records out of order by less than a day, equal times: nothing is questioned */
static void test_small_steps(void **state)
{
    (void)state;
    long long ts[400];
    out o;
    for (int i = 0; i < 400; i++)
        ts[i] = T0 + (i / 10) * 60;                      /* ten records a second apart... equal */
    for (int i = 5; i < 400; i += 37)
        ts[i] -= 3600;                                   /* an hour back */
    for (int i = 7; i < 400; i += 41)
        ts[i] += 23 * 3600;                              /* 23 h ahead */
    ts[200] = ts[199] - DAY;                             /* exactly a day back */
    run(ts, 400, &o);
    expect_bad(&o, 400, NULL, 0);
}

/* an absolute bad record inside a pending spike is handed over at once; the spike stays one */
static void test_mixed(void **state)
{
    (void)state;
    long long ts[100];
    out o;
    steady(ts, 100);
    ts[40] += 400 * DAY;
    ts[41] = 1;
    ts[42] += 400 * DAY;
    run(ts, 100, &o);
    expect_bad(&o, 100, (int[]){ 40, 41, 42 }, 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_steady),     cmocka_unit_test(test_spikes), cmocka_unit_test(test_absolute),
        cmocka_unit_test(test_bounds),     cmocka_unit_test(test_run_of_k), cmocka_unit_test(test_gap),
        cmocka_unit_test(test_first),      cmocka_unit_test(test_end),    cmocka_unit_test(test_small_steps),
        cmocka_unit_test(test_mixed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
