/* test_coverage.c: covered hours, inferred and declared outages, covered address-days
 * (analysis/coverage.c), the store's coverage rows (store/sqlite_coverage.c), the hour counts
 * of ingest (ingest/hours.c) and the time spans the configuration and `ingest --covers` take. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <math.h>

#include "analysis/coverage.h"
#include "ingest/hours.h"
#include "store/store.h"
#include "testdir.h"
#include "util/timeutil.h"

#define HOUR_NS 3600000000000ULL
/* 2023-07-01T00:00:00Z */
#define T0 1688169600LL
#define D0 19539

typedef struct fx {
    char dir[64], db[128];
    ds_store *s;
    int64_t tokyo, osaka;
    uint8_t tag;
} fx;

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    ds_err err = { 0 };
    assert_non_null(f);
    assert_int_equal(testdir_make(f->dir, sizeof f->dir, "ds-cov"), 0);
    snprintf(f->db, sizeof f->db, "%s/s.db", f->dir);
    assert_int_equal(ds_store_open(&f->s, f->db, 1, &err), DS_OK);
    assert_int_equal(ds_tz_use("UTC", &err), DS_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    ds_err err = { 0 };
    ds_store_close(f->s);
    testdir_remove(f->dir);
    free(f);
    ds_tz_use("UTC", &err);
    return 0;
}

/* One file: rows for tokyo (256 addresses) and osaka (512) as given; hours[] may be NULL. */
typedef struct sensor_row {
    int source;
    int64_t first_s, last_s;        /* span, seconds (last inclusive) */
    const uint32_t *hours;          /* per hour from first_s's hour */
    size_t nhours;
    int present;
} sensor_row;

static void put_file(fx *f, sensor_row tokyo, sensor_row osaka)
{
    ds_err err = { 0 };
    ds_file_meta m = { 0 };
    int64_t file = 0;
    f->tag++;
    for (int i = 0; i < 16; i++)
        m.hash[i] = (uint8_t)(f->tag * 7 + i);
    m.path = "x.pcap";
    assert_int_equal(ds_store_begin(f->s, &m, &file, &err), DS_OK);
    ds_sensor_info a = { .name = "tokyo", .darknet = "198.51.100.0/24", .v4_addresses = 256 };
    ds_sensor_info b = { .name = "osaka", .darknet = "203.0.113.0/23", .v4_addresses = 512 };
    assert_int_equal(ds_store_sensor_upsert(f->s, &a, &f->tokyo, &err), DS_OK);
    assert_int_equal(ds_store_sensor_upsert(f->s, &b, &f->osaka, &err), DS_OK);
    sensor_row rows[2] = { tokyo, osaka };
    int64_t ids[2] = { f->tokyo, f->osaka };
    for (int i = 0; i < 2; i++) {
        if (!rows[i].present)
            continue;
        ds_coverage_row r = { .file_id = file, .sensor_id = ids[i], .source = rows[i].source,
                              .first_ns = (uint64_t)rows[i].first_s * 1000000000ULL,
                              .last_ns = (uint64_t)rows[i].last_s * 1000000000ULL, .hour0 = rows[i].first_s / 3600,
                              .hours = rows[i].hours, .nhours = rows[i].nhours };
        assert_int_equal(ds_store_put_coverage(f->s, &r, &err), DS_OK);
    }
    /* one HOURLY chunk so that day_span knows the data (what ingest always writes) */
    uint8_t rec[16] = { 0 };
    assert_int_equal(ds_store_put_chunk(f->s, file, f->tokyo, ds_day_of(tokyo.present ? tokyo.first_s : osaka.first_s),
                                          DS_CHUNK_HOURLY, rec, 1, ds_rec_size(DS_CHUNK_HOURLY), &err),
                     DS_OK);
    assert_int_equal(ds_store_commit(f->s, &err), DS_OK);
}

static uint32_t *hours_of(size_t n, uint32_t v)
{
    uint32_t *h = malloc(n * sizeof *h);
    assert_non_null(h);
    for (size_t i = 0; i < n; i++)
        h[i] = v;
    return h;
}

static sensor_row packets_row(const uint32_t *h, size_t n)
{
    return (sensor_row){ DS_COVSRC_PACKETS, T0, T0 + (int64_t)n * 3600 - 1, h, n, 1 };
}

static ds_coverage *load(fx *f, const ds_config *cfg, int32_t from, int32_t to)
{
    ds_coverage *c = NULL;
    ds_err err = { 0 };
    ds_rc rc = ds_coverage_load(f->s, cfg, from, to, &c, &err);
    if (rc != DS_OK)
        fail_msg("coverage: %s", err.msg);
    return c;
}

/* One sensor down for two days in a ten-day capture: the empty hours are an inferred outage,
 * covered address-days leave them out exactly, and the outage is named with its hours. */
static void test_inferred_outage(void **state)
{
    fx *f = *state;
    uint32_t *t = hours_of(240, 500), *o = hours_of(240, 900);
    for (int h = 52; h < 100; h++)
        o[h] = 0;
    o[51] = 300;   /* the hour it went down in: partial, still covered */
    put_file(f, packets_row(t, 240), packets_row(o, 240));
    ds_coverage *c = load(f, NULL, D0, D0 + 9);
    assert_int_equal(c->n, 2);
    assert_true(fabs(ds_coverage_addr_days(c, 0, D0, D0 + 9) - (256.0 * 10 + 512.0 * (10 - 48.0 / 24))) < 1e-9);
    assert_true(fabs(ds_coverage_addr_days(c, f->tokyo, D0, D0 + 9) - 2560.0) < 1e-9);
    assert_true(fabs(ds_coverage_days(c, f->osaka, D0, D0 + 9) - 8.0) < 1e-9);
    /* day 2 (hours 48..71): osaka covered 4 of 24 hours */
    assert_true(fabs(ds_coverage_day_frac(c, f->osaka, D0 + 2) - 4.0 / 24) < 1e-9);
    assert_true(fabs(ds_coverage_day_frac(c, 0, D0 + 2) - (256.0 + 512.0 * 4 / 24) / 768.0) < 1e-9);
    assert_true(ds_coverage_hour_frac(c, f->osaka, T0 / 3600 + 60) == 0.0);
    assert_true(ds_coverage_hour_frac(c, f->osaka, T0 / 3600 + 51) == 1.0);
    ds_outage *out = NULL;
    size_t n = 0;
    ds_err err = { 0 };
    assert_int_equal(ds_coverage_outages(c, &out, &n, &err), DS_OK);
    assert_int_equal(n, 1);
    assert_string_equal(out[0].sensor, "osaka");
    assert_int_equal(out[0].kind, DS_HOUR_OUTAGE);
    assert_int_equal(out[0].from, T0 + 52 * 3600);
    assert_int_equal(out[0].to, T0 + 100 * 3600);
    assert_int_equal(out[0].open_end, 0);
    free(out);
    ds_coverage_free(c);
    free(t);
    free(o);
}

/* A quiet sensor (a few packets an hour): an empty hour is believable, never an outage. */
static void test_quiet_sensor_no_inference(void **state)
{
    fx *f = *state;
    uint32_t *t = hours_of(240, 500), *o = hours_of(240, 3);
    for (int h = 0; h < 240; h += 3)
        o[h] = 0;
    put_file(f, packets_row(t, 240), packets_row(o, 240));
    ds_coverage *c = load(f, NULL, D0, D0 + 9);
    assert_true(fabs(ds_coverage_days(c, f->osaka, D0, D0 + 9) - 10.0) < 1e-9);
    const ds_cov_sensor *os = c->s[0].id == f->osaka ? &c->s[0] : &c->s[1];
    assert_true(os->usual == 0.0);          /* a third of its hours are empty */
    assert_true(os->usual_day == 48.0);
    ds_coverage_free(c);
    free(t);
    free(o);
}

/* A sensor with a night: 2 packets an hour for six hours, 40 by day.  Three empty night hours
 * are believable (3 x 2 < 20); twelve empty hours are not (12 x 2 >= 20). */
static void test_diurnal_quiet_hours(void **state)
{
    fx *f = *state;
    uint32_t *t = hours_of(240, 500), *o = hours_of(240, 40);
    for (int h = 0; h < 240; h++)
        if (h % 24 < 6)
            o[h] = 2;
    for (int h = 48; h < 51; h++)     /* day 2, 00:00-03:00: quiet */
        o[h] = 0;
    for (int h = 120; h < 132; h++)   /* day 5, 00:00-12:00: down */
        o[h] = 0;
    put_file(f, packets_row(t, 240), packets_row(o, 240));
    ds_coverage *c = load(f, NULL, D0, D0 + 9);
    assert_true(fabs(ds_coverage_days(c, f->osaka, D0, D0 + 9) - (10.0 - 12.0 / 24)) < 1e-9);
    ds_outage *out = NULL;
    size_t n = 0;
    ds_err err = { 0 };
    assert_int_equal(ds_coverage_outages(c, &out, &n, &err), DS_OK);
    assert_int_equal(n, 1);
    assert_int_equal(out[0].from, T0 + 120 * 3600);
    assert_int_equal(out[0].to, T0 + 132 * 3600);
    free(out);
    ds_coverage_free(c);
    free(t);
    free(o);
}

/* A sensor that receives a burst of 6 packets a day: no hour is ever "usually busy", but ten
 * silent days are an outage (10 x 6 >= 20), and two are not (2 x 6 < 20). */
static void test_sparse_sensor_long_outage(void **state)
{
    fx *f = *state;
    size_t n = 24 * 40;
    uint32_t *t = hours_of(n, 500), *o = hours_of(n, 0);
    for (size_t d = 0; d < 40; d++)
        o[d * 24 + 13] = 6;
    for (size_t d = 5; d < 7; d++)    /* two quiet days */
        o[d * 24 + 13] = 0;
    for (size_t d = 20; d < 30; d++)  /* ten silent days */
        o[d * 24 + 13] = 0;
    put_file(f, packets_row(t, n), packets_row(o, n));
    ds_coverage *c = load(f, NULL, D0, D0 + 39);
    ds_outage *out = NULL;
    size_t no = 0;
    ds_err err = { 0 };
    assert_int_equal(ds_coverage_outages(c, &out, &no, &err), DS_OK);
    assert_int_equal(no, 1);
    assert_int_equal(out[0].from, T0 + (19 * 24 + 14) * 3600);   /* after its last burst */
    assert_int_equal(out[0].to, T0 + (30 * 24 + 13) * 3600);     /* until its next */
    free(out);
    ds_coverage_free(c);
    free(t);
    free(o);
}

/* A span vouched for (segment, pcapng statistics, --covers) is covered even where it is empty;
 * a declared outage in the configuration wins over everything. */
static void test_vouched_and_declared(void **state)
{
    fx *f = *state;
    uint32_t *t = hours_of(240, 500), *o = hours_of(240, 900);
    for (int h = 100; h < 124; h++)
        o[h] = 0;
    sensor_row orow = packets_row(o, 240);
    orow.source = DS_COVSRC_DECLARED;
    put_file(f, packets_row(t, 240), orow);
    ds_config cfg;
    ds_config_init(&cfg);
    ds_err err = { 0 };
    assert_int_equal(ds_config_add_darknet(&cfg, "tokyo", "198.51.100.0/24", &err), DS_OK);
    cfg.sensors[0].outages = calloc(1, sizeof *cfg.sensors[0].outages);
    cfg.sensors[0].noutages = 1;
    snprintf(cfg.sensors[0].outages[0].span, sizeof cfg.sensors[0].outages[0].span, "2023-07-03T06:30Z..2023-07-04");
    ds_coverage *c = load(f, &cfg, D0, D0 + 9);
    assert_true(fabs(ds_coverage_days(c, f->osaka, D0, D0 + 9) - 10.0) < 1e-9);
    /* tokyo: hours 07:00 .. 24:00 of day 2 declared down (the partial hour 06:xx keeps the data) */
    assert_true(fabs(ds_coverage_days(c, f->tokyo, D0, D0 + 9) - (10.0 - 17.0 / 24)) < 1e-9);
    ds_outage *out = NULL;
    size_t n = 0;
    assert_int_equal(ds_coverage_outages(c, &out, &n, &err), DS_OK);
    assert_int_equal(n, 1);
    assert_int_equal(out[0].kind, DS_HOUR_DECLARED);
    assert_int_equal(out[0].from, T0 + 2 * 86400 + 7 * 3600);
    assert_int_equal(out[0].to, T0 + 3 * 86400);
    free(out);
    ds_coverage_free(c);
    ds_config_free(&cfg);
    free(t);
    free(o);
}

/* Per-sensor files: osaka's files stop while tokyo's go on; the gap between osaka's two files is
 * named (no data), and so is its end while tokyo goes on (open). */
static void test_gaps_without_data(void **state)
{
    fx *f = *state;
    uint32_t *h = hours_of(240, 500);
    sensor_row none = { 0 };
    put_file(f, packets_row(h, 240), none);                     /* tokyo, days 0-9 */
    sensor_row o1 = packets_row(h, 48);                           /* osaka, days 0-1 */
    put_file(f, none, o1);
    sensor_row o2 = { DS_COVSRC_PACKETS, T0 + 96 * 3600, T0 + 144 * 3600 - 1, h, 48, 1 };   /* days 4-5 */
    put_file(f, none, o2);
    ds_coverage *c = load(f, NULL, D0, D0 + 9);
    assert_true(fabs(ds_coverage_days(c, f->osaka, D0, D0 + 9) - 4.0) < 1e-9);
    ds_outage *out = NULL;
    size_t n = 0;
    ds_err err = { 0 };
    assert_int_equal(ds_coverage_outages(c, &out, &n, &err), DS_OK);
    assert_int_equal(n, 2);
    assert_int_equal(out[0].kind, DS_HOUR_NODATA);
    assert_int_equal(out[0].from, T0 + 48 * 3600);
    assert_int_equal(out[0].to, T0 + 96 * 3600);
    assert_int_equal(out[0].open_end, 0);
    assert_int_equal(out[1].from, T0 + 144 * 3600);
    assert_int_equal(out[1].to, T0 + 240 * 3600);
    assert_int_equal(out[1].open_end, 1);
    free(out);
    /* a period after all data: nothing covered, no outage invented */
    ds_coverage_free(c);
    c = load(f, NULL, D0 + 20, D0 + 29);
    assert_true(ds_coverage_addr_days(c, 0, D0 + 20, D0 + 29) == 0.0);
    assert_int_equal(ds_coverage_outages(c, &out, &n, &err), DS_OK);
    assert_int_equal(n, 0);
    free(out);
    ds_coverage_free(c);
    free(h);
}

/* An outage that began long before the period is named from where it began; a period inside it
 * takes the sensor's usual rate from its history. */
static void test_outage_began_long_before(void **state)
{
    fx *f = *state;
    size_t n = 24 * 120;
    uint32_t *t = hours_of(n, 500), *o = hours_of(n, 900);
    for (size_t h = 24 * 10; h < 24 * 100; h++)
        o[h] = 0;
    put_file(f, packets_row(t, n), packets_row(o, n));
    ds_coverage *c = load(f, NULL, D0 + 80, D0 + 89);   /* inside the outage, 70 days after it began */
    assert_true(ds_coverage_days(c, f->osaka, D0 + 80, D0 + 89) == 0.0);
    ds_outage *out = NULL;
    size_t no = 0;
    ds_err err = { 0 };
    assert_int_equal(ds_coverage_outages(c, &out, &no, &err), DS_OK);
    assert_int_equal(no, 1);
    assert_int_equal(out[0].from, T0 + 10 * 86400);
    assert_int_equal(out[0].to, T0 + 100 * 86400);
    free(out);
    ds_coverage_free(c);
    free(t);
    free(o);
}

/* A period of centuries holds only the hours of the data and their context: nothing outside the
 * data can be covered, and `top --from 1900-01-01 --to 2900-12-31` must not allocate them. */
static void test_long_period_bounded(void **state)
{
    fx *f = *state;
    uint32_t *t = hours_of(240, 500);
    put_file(f, packets_row(t, 240), packets_row(t, 240));
    int32_t a, b;
    assert_int_equal(ds_day_parse("1971-01-01", &a), 0);
    assert_int_equal(ds_day_parse("2900-12-31", &b), 0);
    ds_coverage *c = load(f, NULL, a, b);
    assert_true(c->nhours <= 240 + 2 * 24 * 28 + 48);
    assert_true(fabs(ds_coverage_addr_days(c, 0, a, b) - 768.0 * 10) < 1e-9);
    assert_true(fabs(ds_coverage_days(c, f->tokyo, a, b) - 10.0) < 1e-9);
    ds_coverage_free(c);
    free(t);
}

/* A row without hour counts (a file ingested before they were kept, backfilled from counts):
 * observed, never an inferred outage. */
static void test_rows_without_hours(void **state)
{
    fx *f = *state;
    uint32_t *t = hours_of(240, 500);
    sensor_row o = { DS_COVSRC_PACKETS, T0, T0 + 240 * 3600 - 1, NULL, 0, 1 };
    put_file(f, packets_row(t, 240), o);
    ds_coverage *c = load(f, NULL, D0, D0 + 9);
    assert_true(fabs(ds_coverage_addr_days(c, 0, D0, D0 + 9) - 768.0 * 10) < 1e-9);
    ds_coverage_free(c);
    free(t);
}

/* A fully covered day of 23 or 25 hours is one day. */
static void test_dst_days(void **state)
{
    fx *f = *state;
    ds_err err = { 0 };
    /* 2023-03-20 .. 2023-04-03 UTC, a day either side of Berlin's 23-hour 2023-03-26 */
    int64_t t0 = 1679270400;
    uint32_t *h = hours_of(24 * 14, 500);
    sensor_row r = { DS_COVSRC_PACKETS, t0, t0 + 24 * 14 * 3600 - 1, h, 24 * 14, 1 };
    put_file(f, r, r);
    assert_int_equal(ds_tz_use("Europe/Berlin", &err), DS_OK);
    int32_t d;
    assert_int_equal(ds_day_parse("2023-03-26", &d), 0);
    ds_coverage *c = load(f, NULL, d - 2, d + 2);
    assert_true(fabs(ds_coverage_day_frac(c, 0, d) - 1.0) < 1e-12);
    assert_true(fabs(ds_coverage_days(c, f->tokyo, d - 2, d + 2) - 5.0) < 1e-12);
    ds_coverage_free(c);
    free(h);
}

static void test_hours_grow(void **state)
{
    (void)state;
    ds_hours a = { 0 }, b = { 0 };
    assert_int_equal(ds_hours_add(&a, 1000, 1), 0);
    assert_int_equal(ds_hours_add(&a, 1005, 2), 0);
    assert_int_equal(ds_hours_add(&a, 990, 3), 0);    /* reaches back */
    assert_int_equal(a.h0, 990);
    assert_int_equal(a.len, 16);
    assert_int_equal(a.n[0], 3);
    assert_int_equal(a.n[10], 1);
    assert_int_equal(a.n[15], 2);
    assert_int_equal(ds_hours_add(&a, 1000, UINT32_MAX), 0);   /* saturates */
    assert_int_equal(a.n[10], UINT32_MAX);
    assert_int_equal(ds_hours_add(&b, 2000, 7), 0);
    assert_int_equal(ds_hours_merge(&a, &b), 0);
    assert_int_equal(a.len, 1011);
    assert_int_equal(a.n[1010], 7);
    assert_int_equal(ds_hours_add(&a, 990 + (int64_t)DS_HOURS_SPAN_MAX + 5, 1), -1);   /* bounded, unchanged */
    assert_int_equal(a.len, 1011);
    ds_hours_free(&a);
    ds_hours_free(&b);
}

static void test_time_parse(void **state)
{
    (void)state;
    ds_err err = { 0 };
    int64_t a, b;
    assert_int_equal(ds_time_parse("2023-07-01", &a), 0);
    assert_int_equal(a, T0);
    assert_int_equal(ds_time_parse("2023-07-01T09:30Z", &a), 0);
    assert_int_equal(a, T0 + 9 * 3600 + 1800);
    assert_int_equal(ds_time_parse("2023-07-01T09:30:15+09:00", &a), 0);
    assert_int_equal(a, T0 + 1800 + 15);
    assert_int_equal(ds_time_parse("2023-07-01T00:00-05:30", &a), 0);
    assert_int_equal(a, T0 + 5 * 3600 + 1800);
    assert_int_equal(ds_tz_use("Asia/Tokyo", &err), DS_OK);
    assert_int_equal(ds_time_parse("2023-07-01", &a), 0);
    assert_int_equal(a, T0 - 9 * 3600);
    assert_int_equal(ds_tz_use("UTC", &err), DS_OK);
    const char *bad[] = { "", "2023-07", "2023-13-01", "2023-07-01T25:00", "2023-07-01T09:3", "2023-07-01Zx",
                          "2023-07-01T09:30+9", "2023-07-01T09:30+", "2023-07-01T09:30+09", "2023-07-01T09:30+09:",
                          "2023-07-01T09:30:1", "2023-07-01T09:30:", "2023-07-01 junk", NULL };
    for (int i = 0; bad[i]; i++)
        assert_int_equal(ds_time_parse(bad[i], &a), -1);
    assert_int_equal(ds_span_parse("2023-07-01..2023-07-11", &a, &b), 0);
    assert_int_equal(b - a, 10 * 86400);
    assert_int_equal(ds_span_parse("2023-07-11..2023-07-01", &a, &b), -1);
    assert_int_equal(ds_span_parse("2023-07-01", &a, &b), -1);
    assert_int_equal(ds_span_parse("2023-07-01..", &a, &b), -1);
}

/* Damaged rows are reported, never guessed at. */
static void test_damaged_row(void **state)
{
    fx *f = *state;
    uint32_t *t = hours_of(24, 500);
    put_file(f, packets_row(t, 24), packets_row(t, 24));
    ds_store_close(f->s);
    f->s = NULL;
    char cmd[512];
    snprintf(cmd, sizeof cmd, "sqlite3 %s \"UPDATE coverage SET hours = x'010203' WHERE sensor_id = 2\"", f->db);
    if (system(cmd) != 0)
        skip();
    ds_err err = { 0 };
    assert_int_equal(ds_store_open(&f->s, f->db, 0, &err), DS_OK);
    ds_coverage *c = NULL;
    assert_int_equal(ds_coverage_load(f->s, NULL, D0, D0, &c, &err), DS_ESTORE);
    assert_non_null(strstr(err.msg, "damaged"));
    assert_null(c);
    free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_inferred_outage, setup, teardown),
        cmocka_unit_test_setup_teardown(test_quiet_sensor_no_inference, setup, teardown),
        cmocka_unit_test_setup_teardown(test_diurnal_quiet_hours, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sparse_sensor_long_outage, setup, teardown),
        cmocka_unit_test_setup_teardown(test_vouched_and_declared, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gaps_without_data, setup, teardown),
        cmocka_unit_test_setup_teardown(test_outage_began_long_before, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rows_without_hours, setup, teardown),
        cmocka_unit_test_setup_teardown(test_long_period_bounded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dst_days, setup, teardown),
        cmocka_unit_test_setup_teardown(test_damaged_row, setup, teardown),
        cmocka_unit_test(test_hours_grow),
        cmocka_unit_test(test_time_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
