/* test_silence.c: the sensor_silent events (src/analysis/detect_silence.c), through
 * ds_events_run on real SQLite stores in a temporary directory.
 *
 * Ledger: a store whose collector ledger has a two-hour gap between two runs of per-minute
 * segments gives exactly that gap (start, end, segments on either side); a sensor whose last
 * upload is hours old is silent "now" (ongoing); gaps just under the threshold give nothing; the
 * period and --sensor select.  Packets: a file-fed store whose HOURLY records have empty hours
 * gives silences of whole hours (a lower bound), including one that runs to the store's end while
 * another sensor goes on; the threshold in whole hours; and a sensor the ledger knows is judged by
 * the ledger only.
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

#include "analysis/events.h"
#include "core/records.h"
#include "store/store.h"
#include "util/timeutil.h"

typedef struct tmp { char dir[64]; char db[128]; ds_store *st; } tmp;

static int setup(void **state)
{
    ds_err err = { 0 };
    tmp *t = calloc(1, sizeof *t);
    if (!t)
        return -1;
    snprintf(t->dir, sizeof t->dir, "/tmp/ds_test_silence.XXXXXX");
    if (!mkdtemp(t->dir)) {
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

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st; (void)flag; (void)ftw;
    return remove(path);
}

static int teardown(void **state)
{
    tmp *t = *state;
    ds_store_close(t->st);
    nftw(t->dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
    free(t);
    return 0;
}

/* One committed segment, as the collector records it. */
static void put_segment(ds_store *st, const char *sensor, uint64_t seq, int64_t at)
{
    ds_err err = { 0 };
    ds_segment_rec seg = { .seq = seq, .packets = 100 + seq, .bytes = 1000, .committed_at = at };
    ds_sensor_health h = { .last_seen = at, .last_upload = at };
    snprintf(seg.sensor, sizeof seg.sensor, "%s", sensor);
    snprintf(h.name, sizeof h.name, "%s", sensor);
    seg.hash[0] = (uint8_t)seq;
    seg.hash[1] = (uint8_t)(seq >> 8);
    seg.hash[2] = (uint8_t)sensor[0];
    assert_int_equal(st->ops->ledger_put(st, &seg, &h, &err), DS_OK);
}

static double evidence(const ds_event *v, const char *name)
{
    for (size_t i = 0; i < v->nevidence; i++)
        if (!strcmp(v->evidence[i].name, name))
            return v->evidence[i].value;
    fail_msg("no evidence %s in the event of %s", name, v->summary_en);
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
        assert_non_null(strstr(ev->ev[i].summary_en, sensor_of(&ev->ev[i])));
        assert_non_null(strstr(ev->ev[i].summary_ja, "センサー"));
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
    assert_non_null(strstr(o->summary_en, "has been silent"));
    assert_string_equal(sensor_of(k), "tokyo");
    assert_int_equal(k->start_ns / 1000000000ULL, now - 10800 + 540);
    assert_int_equal(k->end_ns / 1000000000ULL, now - 3000);
    assert_true(evidence(k, "silence_s") == 7260);
    assert_true(evidence(k, "threshold_s") == 3600);
    assert_true(evidence(k, "ongoing") == 0);
    assert_true(evidence(k, "last_segment") == 10);
    assert_true(evidence(k, "next_segment") == 11);
    assert_true(evidence(k, "source") == 1);
    assert_non_null(strstr(k->summary_en, "2 h 01 min"));
    assert_non_null(strstr(k->summary_ja, "2時間01分"));
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
    assert_int_equal(st->ops->sensor_upsert(st, &si, &id, &err), DS_OK);
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
    assert_int_equal(st->ops->segments_list(st, "tokyo", now - 3000, now - 2900, &rows, &n, &err), DS_OK);
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
    assert_int_equal(st->ops->put_chunk(st, file_id, sensor_id, ds_day_of((int64_t)h0 * 3600), DS_CHUNK_HOURLY, buf,
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
    assert_int_equal(st->ops->begin(st, &f, &fid, &err), DS_OK);
    assert_int_equal(st->ops->sensor_upsert(st, &a, &kid, &err), DS_OK);
    assert_int_equal(st->ops->sensor_upsert(st, &b, &sid, &err), DS_OK);
    put_hours(st, fid, kid, h0, kobe, 24);
    put_hours(st, fid, sid, h0, sendai, 24);
    assert_int_equal(st->ops->commit(st, &err), DS_OK);

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
    assert_non_null(strstr(g->summary_en, "at least 4 h 00 min"));
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
        cmocka_unit_test(unknown_type_lists_it),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
