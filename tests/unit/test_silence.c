/* test_silence.c: the sensor_silent events (src/analysis/detect_silence.c), through
 * ds_events_run on real SQLite stores in a temporary directory.
 *
 * Ledger: a store whose collector ledger has a two-hour gap between two runs of per-minute
 * segments gives exactly that gap (start, end, segments on either side); a sensor whose last
 * upload is hours old is silent "now" (ongoing); gaps just under the threshold give nothing; the
 * period and --sensor select.  Packets: a file-fed store whose HOURLY records have empty hours
 * gives silences of whole hours (a lower bound), including one that runs to the store's end while
 * another sensor goes on; the threshold in whole hours; and a sensor the ledger knows is judged by
 * the ledger only.  Cause: with the segments' capture spans in the ledger, a gap the backlog
 * uploaded after it covers is "upload" (no data lost), one with an uncaptured stretch is "sensor"
 * (with its length, also when it is only part of the gap), and segments without spans or with
 * capture times that do not line up with their commits give "unknown"; a ledger written before
 * the span columns existed is read (spans 0) and migrated by the next ledger_put.
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
#include <ftw.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <cmocka.h>
#include <sqlite3.h>

#include "analysis/events.h"
#include "report/event_text.h"
#include "core/records.h"
#include "store/store.h"
#include "util/timeutil.h"
#include "unit/testdir.h"

typedef struct tmp { char dir[64]; char db[128]; ds_store *st; } tmp;

static int setup(void **state)
{
    ds_err err = { 0 };
    tmp *t = calloc(1, sizeof *t);
    if (!t)
        return -1;
    if (testdir_make(t->dir, sizeof t->dir, "ds_test_silence") != 0) {
        free(t);
        return -1;
    }
    snprintf(t->db, sizeof t->db, "%s/store.db", t->dir);
    if (ds_tz_use("UTC", &err) != DS_OK || ds_store_open(&t->st, t->db, 1, &err) != DS_OK) {
        fprintf(stderr, "%s\n", err.msg);
        return -1;
    }
    *state = t;
    return 0;
}

static int teardown(void **state)
{
    tmp *t = *state;
    ds_store_close(t->st);
    testdir_remove(t->dir);
    free(t);
    return 0;
}

/* One committed segment, as the collector records it: `packets` packets, captured over
 * [first_ns, last_ns] (0, 0: no span reported). */
static void put_ledger(ds_store *st, const char *sensor, uint64_t seq, int64_t at, uint64_t packets, uint64_t first_ns,
                       uint64_t last_ns)
{
    ds_err err = { 0 };
    ds_segment_rec seg = { .seq = seq, .packets = packets, .bytes = 1000, .committed_at = at,
                           .first_ns = first_ns, .last_ns = last_ns };
    ds_sensor_health h = { .last_seen = at, .last_upload = at };
    snprintf(seg.sensor, sizeof seg.sensor, "%s", sensor);
    snprintf(h.name, sizeof h.name, "%s", sensor);
    seg.hash[0] = (uint8_t)seq;
    seg.hash[1] = (uint8_t)(seq >> 8);
    seg.hash[2] = (uint8_t)sensor[0];
    assert_int_equal(ds_store_ledger_put(st, &seg, &h, &err), DS_OK);
}

static void put_segment(ds_store *st, const char *sensor, uint64_t seq, int64_t at)
{
    put_ledger(st, sensor, seq, at, 100 + seq, 0, 0);
}

/* The same with the capture span [first_s, last_s] the sensor reported. */
static void put_span(ds_store *st, const char *sensor, uint64_t seq, int64_t at, int64_t first_s, int64_t last_s)
{
    put_ledger(st, sensor, seq, at, 100, (uint64_t)first_s * 1000000000ULL + 5, (uint64_t)last_s * 1000000000ULL + 7);
}

/* The event's sentence (report/event_text.h), en or ja, in a buffer of its own per language. */
static const char *said(const ds_event *v, int ja)
{
    static char buf[2][2048];
    ds_out o;
    ds_out_init(&o, 0);
    ds_event_words w = { .lang = ja ? DS_LANG_JA : DS_LANG_EN };
    ds_event_sentence(v, &w, &o);
    snprintf(buf[ja], sizeof buf[ja], "%.*s", (int)o.len, o.p ? o.p : "");
    ds_out_free(&o);
    return buf[ja];
}

static const char *evidence_text(const ds_event *v, const char *name)
{
    for (size_t i = 0; i < v->nevidence; i++)
        if (!strcmp(v->evidence[i].name, name))
            return v->evidence[i].text;
    fail_msg("no evidence %s in the event of %s", name, said(v, 0));
    return "";
}

static double evidence(const ds_event *v, const char *name)
{
    for (size_t i = 0; i < v->nevidence; i++)
        if (!strcmp(v->evidence[i].name, name))
            return v->evidence[i].value;
    fail_msg("no evidence %s in the event of %s", name, said(v, 0));
    return -1;
}

static const char *sensor_of(const ds_event *v)
{
    for (size_t i = 0; i < v->nevidence; i++)
        if (!strcmp(v->evidence[i].name, "sensor"))
            return v->evidence[i].text;
    return "";
}

static void run(ds_store *st, ds_event_query *q, ds_events *ev)
{
    ds_err err = { 0 };
    q->type = "sensor_silent";
    ds_rc rc = ds_events_run(st, NULL, q, ev, &err);
    if (rc != DS_OK)
        fail_msg("%s", err.msg);
    for (size_t i = 0; i < ev->n; i++) {
        assert_string_equal(ev->ev[i].type, "sensor_silent");
        assert_non_null(strstr(said(&ev->ev[i], 0), sensor_of(&ev->ev[i])));
        assert_non_null(strstr(said(&ev->ev[i], 1), "センサー"));
        assert_true(ev->ev[i].end_ns > ev->ev[i].start_ns);
    }
}

static void ledger_gap(void **state)
{
    tmp *t = *state;
    ds_store *st = t->st;
    ds_err err = { 0 };
    int64_t now = (int64_t)time(NULL);
    uint64_t seq = 1;
    /* tokyo: 10 segments a minute apart, 7260 s of nothing, then 49 more up to 2 min ago */
    for (int i = 0; i < 10; i++)
        put_segment(st, "tokyo", seq++, now - 10800 + 60 * i);
    for (int i = 0; i < 49; i++)
        put_segment(st, "tokyo", seq++, now - 3000 + 60 * i);
    /* osaka: one segment 20000 s ago and none since */
    put_segment(st, "osaka", 1, now - 20000);
    /* nagoya: gaps of 3599 s and 1301 s: under the threshold */
    put_segment(st, "nagoya", 1, now - 5000);
    put_segment(st, "nagoya", 2, now - 1401);
    put_segment(st, "nagoya", 3, now - 100);

    ds_events ev = { 0 };
    ds_event_query q = { .from = ds_day_of(now - 2 * 86400), .to = ds_day_of(now) };
    run(st, &q, &ev);
    assert_int_equal(ev.n, 2);   /* sorted by start: osaka's, then tokyo's */
    const ds_event *o = &ev.ev[0], *k = &ev.ev[1];
    assert_string_equal(sensor_of(o), "osaka");
    assert_int_equal(o->start_ns / 1000000000ULL, now - 20000);
    assert_true(o->end_ns / 1000000000ULL >= (uint64_t)now);
    assert_true(evidence(o, "ongoing") == 1);
    assert_true(evidence(o, "last_segment") == 1);
    assert_non_null(strstr(said(o, 0), "has been silent"));
    assert_string_equal(sensor_of(k), "tokyo");
    assert_int_equal(k->start_ns / 1000000000ULL, now - 10800 + 540);
    assert_int_equal(k->end_ns / 1000000000ULL, now - 3000);
    assert_true(evidence(k, "silence_s") == 7260);
    assert_true(evidence(k, "threshold_s") == 3600);
    assert_true(evidence(k, "ongoing") == 0);
    assert_true(evidence(k, "last_segment") == 10);
    assert_true(evidence(k, "next_segment") == 11);
    assert_true(evidence(k, "source") == 1);
    assert_non_null(strstr(said(k, 0), "2 h 01 min"));
    assert_non_null(strstr(said(k, 1), "2時間01分"));
    ds_events_free(&ev);

    /* a threshold over the gap: only osaka's (20000 s) */
    q.sensor_silence_s = 7261;
    run(st, &q, &ev);
    assert_int_equal(ev.n, 1);
    assert_string_equal(sensor_of(&ev.ev[0]), "osaka");
    ds_events_free(&ev);

    /* a lower one: nagoya's 3599 s gap shows */
    q.sensor_silence_s = 3599;
    run(st, &q, &ev);
    assert_int_equal(ev.n, 3);
    ds_events_free(&ev);

    /* --sensor tokyo (the ledger knows names; the query ids) */
    ds_sensor_info si = { 0 };
    snprintf(si.name, sizeof si.name, "tokyo");
    snprintf(si.darknet, sizeof si.darknet, "198.51.100.0/24");
    int64_t id = 0;
    assert_int_equal(ds_store_sensor_upsert(st, &si, &id, &err), DS_OK);
    q.sensor_silence_s = 0;
    q.sensor_id = id;
    run(st, &q, &ev);
    assert_int_equal(ev.n, 1);
    assert_string_equal(sensor_of(&ev.ev[0]), "tokyo");
    ds_events_free(&ev);

    /* a period long before: nothing */
    q.sensor_id = 0;
    q.from = ds_day_of(now - 30 * 86400);
    q.to = ds_day_of(now - 20 * 86400);
    run(st, &q, &ev);
    assert_int_equal(ev.n, 0);
    ds_events_free(&ev);

    /* the op itself: segments in range, with the one before */
    ds_segment_rec *rows = NULL;
    size_t n = 0;
    assert_int_equal(ds_store_segments_list(st, "tokyo", now - 3000, now - 2900, &rows, &n, &err), DS_OK);
    assert_int_equal(n, 4);   /* seq 10 (before), 11, 12 (in range), 13 (the first after) */
    assert_int_equal(rows[0].seq, 10);
    assert_int_equal(rows[1].seq, 11);
    assert_int_equal(rows[3].seq, 13);
    assert_int_equal(rows[3].committed_at, now - 3000 + 120);
    free(rows);
}

/* Hourly records of one sensor for the busy hours [h, h + n) of busy[] (1 = packets). */
static void put_hours(ds_store *st, int64_t file_id, int64_t sensor_id, uint32_t h0, const int *busy, int n)
{
    ds_err err = { 0 };
    uint8_t buf[64 * DS_REC_HOURLY];
    size_t nrec = 0;
    for (int i = 0; i < n; i++) {
        if (!busy[i])
            continue;
        ds_rec_hourly r = { .hour = h0 + (uint32_t)i, .key = 80, .packets = 50, .dim = DS_HOURLY_SERVICE };
        ds_rec_hourly_put(buf + nrec++ * DS_REC_HOURLY, &r);
        r.dim = DS_HOURLY_COUNTRY;   /* the same packets by country: must not fill a gap of their own */
        ds_rec_hourly_put(buf + nrec++ * DS_REC_HOURLY, &r);
    }
    assert_int_equal(ds_store_put_chunk(st, file_id, sensor_id, ds_day_of((int64_t)h0 * 3600), DS_CHUNK_HOURLY, buf,
                                        nrec, DS_REC_HOURLY, &err), DS_OK);
}

static void packet_gaps(void **state)
{
    tmp *t = *state;
    ds_store *st = t->st;
    ds_err err = { 0 };
    const uint32_t h0 = (uint32_t)(ds_days_from_civil(2023, 7, 1) * 24);
    int kobe[24], sendai[24];
    for (int i = 0; i < 24; i++) {
        sendai[i] = 1;
        kobe[i] = !(i >= 5 && i <= 8) && i < 20;   /* empty 05-08 (4 hours) and from 20 on */
    }
    ds_file_meta f = { .path = "x.pcap", .bytes = 1, .records = 1 };
    f.hash[0] = 0x5a;
    int64_t fid = 0, kid = 0, sid = 0;
    ds_sensor_info a = { .v4_addresses = 256 }, b = { .v4_addresses = 256 };
    snprintf(a.name, sizeof a.name, "kobe");
    snprintf(a.darknet, sizeof a.darknet, "198.51.100.0/24");
    snprintf(b.name, sizeof b.name, "sendai");
    snprintf(b.darknet, sizeof b.darknet, "203.0.113.0/24");
    assert_int_equal(ds_store_begin(st, &f, &fid, &err), DS_OK);
    assert_int_equal(ds_store_sensor_upsert(st, &a, &kid, &err), DS_OK);
    assert_int_equal(ds_store_sensor_upsert(st, &b, &sid, &err), DS_OK);
    put_hours(st, fid, kid, h0, kobe, 24);
    put_hours(st, fid, sid, h0, sendai, 24);
    assert_int_equal(ds_store_commit(st, &err), DS_OK);

    ds_events ev = { 0 };
    int32_t day = ds_days_from_civil(2023, 7, 1);
    ds_event_query q = { .from = day, .to = day };
    run(st, &q, &ev);
    assert_int_equal(ev.n, 2);
    const ds_event *g = &ev.ev[0], *e = &ev.ev[1];
    assert_string_equal(sensor_of(g), "kobe");
    assert_int_equal(g->start_ns / 1000000000ULL, ((uint64_t)h0 + 5) * 3600);
    assert_int_equal(g->end_ns / 1000000000ULL, ((uint64_t)h0 + 9) * 3600);
    assert_true(evidence(g, "empty_hours") == 4);
    assert_true(evidence(g, "until_end_of_data") == 0);
    assert_true(evidence(g, "source") == 2);
    assert_non_null(strstr(said(g, 0), "at least 4 h 00 min"));
    assert_string_equal(sensor_of(e), "kobe");   /* to the start of the store's last hour (sendai's) */
    assert_int_equal(e->start_ns / 1000000000ULL, ((uint64_t)h0 + 20) * 3600);
    assert_int_equal(e->end_ns / 1000000000ULL, ((uint64_t)h0 + 23) * 3600);
    assert_true(evidence(e, "until_end_of_data") == 1);
    ds_events_free(&ev);

    /* 4 h: the 4 empty hours reach it, the 3 at the end do not */
    q.sensor_silence_s = 4 * 3600;
    run(st, &q, &ev);
    assert_int_equal(ev.n, 1);
    assert_true(evidence(&ev.ev[0], "empty_hours") == 4);
    ds_events_free(&ev);
    /* one second more needs 5 whole hours */
    q.sensor_silence_s = 4 * 3600 + 1;
    run(st, &q, &ev);
    assert_int_equal(ev.n, 0);
    ds_events_free(&ev);

    /* --sensor sendai: nothing */
    q.sensor_silence_s = 0;
    q.sensor_id = sid;
    run(st, &q, &ev);
    assert_int_equal(ev.n, 0);
    ds_events_free(&ev);

    /* once kobe uploads through a collector, its ledger judges it, not its hours */
    q.sensor_id = 0;
    put_segment(st, "kobe", 1, (int64_t)time(NULL) - 10);
    run(st, &q, &ev);
    assert_int_equal(ev.n, 0);
    ds_events_free(&ev);
}

/* Ten segments a minute apart, each capturing the minute before its commit, the last at A. */
static uint64_t before_gap(ds_store *st, const char *sensor, int64_t A)
{
    uint64_t seq = 1;
    for (int i = 9; i >= 0; i--, seq++)
        put_span(st, sensor, seq, A - 60 * i, A - 60 * i - 60, A - 60 * i - 1);
    return seq;
}

static void ledger_gap_cause(void **state)
{
    tmp *t = *state;
    ds_store *st = t->st;
    int64_t now = (int64_t)time(NULL), A = now - 10000, B = A + 7200;
    uint64_t seq;

    /* tokyo: the upload path was down for [A, B]; the sensor captured on, and the 120 minutes of
     * backlog arrive at B, a second apart, then a segment a minute again */
    seq = before_gap(st, "tokyo", A);
    for (int k = 0; k < 120; k++)
        put_span(st, "tokyo", seq++, B + k, A + 60 * k, A + 60 * k + 59);
    for (int j = 0; j < 30; j++)
        put_span(st, "tokyo", seq++, B + 120 + 60 * j, B + 60 * j, B + 60 * j + 59);
    /* osaka: the sensor was down; it captures again from B - 60 (committed at B) */
    seq = before_gap(st, "osaka", A);
    for (int j = 0; j < 30; j++)
        put_span(st, "osaka", seq++, B + 60 * j, B - 60 + 60 * j, B - 1 + 60 * j);
    /* nagoya: upload path down, and the sensor too for 1000 s of it: [A + 3000, A + 4000) */
    seq = before_gap(st, "nagoya", A);
    for (int k = 0; k < 120; k++)
        if (k < 50 || k >= 66)
            put_span(st, "nagoya", seq++, B + k, k == 66 ? A + 4000 : A + 60 * k, A + 60 * k + 59);
    put_span(st, "nagoya", seq++, B + 200, B, B + 100);
    /* kobe: no capture spans (an older sensor) */
    for (int i = 0; i < 3; i++)
        put_segment(st, "kobe", (uint64_t)i + 1, A - 60 * (2 - i));
    put_segment(st, "kobe", 4, B);
    /* sendai: a replayed capture of 2023 (its capture times far before its commits) */
    int64_t old = 1688169600;
    for (int i = 0; i < 3; i++)
        put_span(st, "sendai", (uint64_t)i + 1, A - 60 * (2 - i), old + 60 * i, old + 60 * i + 59);
    put_span(st, "sendai", 4, B, old + 180, old + 7500);
    /* sapporo: a span that ends after its own commit (a sensor clock far ahead) */
    put_span(st, "sapporo", 1, A, A - 60, A - 1);
    put_span(st, "sapporo", 2, B, B - 60, B + 3600);

    ds_events ev = { 0 };
    ds_event_query q = { .from = ds_day_of(now - 2 * 86400), .to = ds_day_of(now) };
    run(st, &q, &ev);
    assert_int_equal(ev.n, 6);
    int seen = 0;
    for (size_t i = 0; i < ev.n; i++) {
        const ds_event *v = &ev.ev[i];
        const char *s = sensor_of(v);
        assert_int_equal(v->start_ns / 1000000000ULL, A);
        assert_int_equal(v->end_ns / 1000000000ULL, B);
        assert_true(evidence(v, "silence_s") == 7200);
        if (!strcmp(s, "tokyo")) {
            assert_string_equal(evidence_text(v, "cause"), "upload");
            assert_true(evidence(v, "cause") == 1);
            assert_true(evidence(v, "uncaptured_s") == 0);
            assert_non_null(strstr(said(v, 0), "the upload path or the collector was down, and no data was lost"));
            assert_non_null(strstr(said(v, 1), "データの欠落はありません"));
        } else if (!strcmp(s, "osaka")) {
            assert_string_equal(evidence_text(v, "cause"), "sensor");
            assert_true(evidence(v, "cause") == 2);
            assert_true(evidence(v, "uncaptured_s") == 7200 - 60);
            assert_non_null(strstr(said(v, 0), "captured nothing for 1 h 59 min of it"));
            assert_non_null(strstr(said(v, 0), "those packets are missing"));
            assert_non_null(strstr(said(v, 1), "1時間59分の間、センサーはパケットを記録していません"));
        } else if (!strcmp(s, "nagoya")) {
            assert_string_equal(evidence_text(v, "cause"), "sensor");
            assert_true(evidence(v, "uncaptured_s") == 1000);
            assert_non_null(strstr(said(v, 0), "captured nothing for 16 min of it"));
        } else {
            assert_true(!strcmp(s, "kobe") || !strcmp(s, "sendai") || !strcmp(s, "sapporo"));
            assert_string_equal(evidence_text(v, "cause"), "unknown");
            assert_true(evidence(v, "cause") == 0);
            assert_non_null(strstr(said(v, 0), "is not known"));
            assert_non_null(strstr(said(v, 1), "不明です"));
            for (size_t k = 0; k < v->nevidence; k++)
                assert_string_not_equal(v->evidence[k].name, "uncaptured_s");
        }
        seen |= 1 << (s[0] == 't' ? 0 : s[0] == 'o' ? 1 : s[0] == 'n' ? 2 : s[0] == 'k' ? 3 : s[1] == 'e' ? 4 : 5);
    }
    assert_int_equal(seen, 63);
    ds_events_free(&ev);

    /* short stretches are the pause between segments, not a silence of the sensor: tokyo's
     * backlog with a 100 s hole in it stays "upload" (HOLE_MIN: 300 s) */
    seq = before_gap(st, "hakata", A);
    for (int k = 0; k < 120; k++)
        put_span(st, "hakata", seq++, B + k, A + 60 * k + (k == 7 ? 100 : 0), A + 60 * k + 59 + (k == 6 ? -50 : 0));
    q.sensor_id = 0;
    run(st, &q, &ev);
    int found = 0;
    for (size_t i = 0; i < ev.n; i++)
        if (!strcmp(sensor_of(&ev.ev[i]), "hakata")) {
            found = 1;
            assert_string_equal(evidence_text(&ev.ev[i], "cause"), "upload");
        }
    assert_true(found);
    ds_events_free(&ev);

    /* an ongoing silence cannot tell yet */
    put_span(st, "kushiro", 1, now - 20000, now - 20060, now - 20001);
    q.sensor_silence_s = 0;
    run(st, &q, &ev);
    found = 0;
    for (size_t i = 0; i < ev.n; i++)
        if (!strcmp(sensor_of(&ev.ev[i]), "kushiro")) {
            found = 1;
            assert_string_equal(evidence_text(&ev.ev[i], "cause"), "unknown");
            assert_true(evidence(&ev.ev[i], "ongoing") == 1);
        }
    assert_true(found);
    ds_events_free(&ev);

    /* the op keeps the spans */
    ds_segment_rec *rows = NULL;
    size_t n = 0;
    ds_err err = { 0 };
    assert_int_equal(ds_store_segments_list(st, "osaka", B, B, &rows, &n, &err), DS_OK);
    assert_true(n >= 2);
    assert_int_equal(rows[1].committed_at, B);
    assert_int_equal(rows[1].first_ns, (uint64_t)(B - 60) * 1000000000ULL + 5);
    assert_int_equal(rows[1].last_ns, (uint64_t)(B - 1) * 1000000000ULL + 7);
    free(rows);
}

/* A ledger written before the span columns existed: read with spans 0, migrated by the next
 * ledger_put (old rows keep 0: "unknown"), and the schema version left as it was. */
static void ledger_migration(void **state)
{
    tmp *t = *state;
    ds_store *st = t->st;
    ds_err err = { 0 };
    sqlite3 *db = NULL;
    int64_t now = (int64_t)time(NULL), A = now - 10000, B = A + 7200;
    char ver[32] = "";
    assert_int_equal(ds_store_meta_get(st, "schema_version", ver, sizeof ver, &err), DS_OK);
    assert_int_equal(sqlite3_open(t->db, &db), SQLITE_OK);
    char sql[1024];
    snprintf(sql, sizeof sql,
             "CREATE TABLE collector_segments(sensor TEXT NOT NULL, seq INTEGER NOT NULL, hash BLOB NOT NULL,"
             "  packets INTEGER NOT NULL, bytes INTEGER NOT NULL, committed_at INTEGER NOT NULL, PRIMARY KEY(sensor, seq));"
             "CREATE TABLE collector_health(name TEXT PRIMARY KEY, last_seen INTEGER NOT NULL,"
             "  last_upload INTEGER NOT NULL, last_segment INTEGER NOT NULL, segments INTEGER NOT NULL,"
             "  packets INTEGER NOT NULL, last_ns INTEGER NOT NULL, kernel_drops INTEGER, spool_bytes INTEGER);"
             "INSERT INTO collector_segments VALUES('tokyo', 1, x'00', 5, 10, %lld);"
             "INSERT INTO collector_health VALUES('tokyo', %lld, %lld, 1, 1, 5, 0, NULL, NULL);",
             (long long)A, (long long)A, (long long)A);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);

    ds_segment_rec *rows = NULL;
    size_t n = 0;
    assert_int_equal(ds_store_segments_list(st, "tokyo", 0, now, &rows, &n, &err), DS_OK);
    assert_int_equal(n, 1);
    assert_int_equal(rows[0].first_ns, 0);
    assert_int_equal(rows[0].last_ns, 0);
    free(rows);
    put_span(st, "tokyo", 2, B, B - 60, B - 1);   /* migrates */
    assert_int_equal(ds_store_segments_list(st, "tokyo", 0, now, &rows, &n, &err), DS_OK);
    assert_int_equal(n, 2);
    assert_int_equal(rows[0].last_ns, 0);
    assert_int_equal(rows[1].last_ns, (uint64_t)(B - 1) * 1000000000ULL + 7);
    free(rows);
    char ver2[32] = "";
    assert_int_equal(ds_store_meta_get(st, "schema_version", ver2, sizeof ver2, &err), DS_OK);
    assert_string_equal(ver, ver2);

    ds_events ev = { 0 };
    ds_event_query q = { .from = ds_day_of(now - 2 * 86400), .to = ds_day_of(now) };
    run(st, &q, &ev);
    assert_int_equal(ev.n, 1);
    assert_string_equal(evidence_text(&ev.ev[0], "cause"), "unknown");   /* the old row has no span */
    ds_events_free(&ev);
}

static void unknown_type_lists_it(void **state)
{
    (void)state;
    char buf[512];
    assert_true(ds_event_type_known("sensor_silent"));
    assert_non_null(strstr(ds_event_types_format(buf, sizeof buf), "sensor_silent"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(ledger_gap, setup, teardown),
        cmocka_unit_test_setup_teardown(packet_gaps, setup, teardown),
        cmocka_unit_test_setup_teardown(ledger_gap_cause, setup, teardown),
        cmocka_unit_test_setup_teardown(ledger_migration, setup, teardown),
        cmocka_unit_test(unknown_type_lists_it),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
