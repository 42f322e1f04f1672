/* rollup_months.c: see rollup_months.h. */
#include "store/rollup_months.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/records.h"
#include "core/rollup.h"
#include "core/rollup_build.h"
#include "util/grow.h"
#include "util/timeutil.h"

int ds_rollup_months_disabled(void)
{
    const char *v = getenv("DS_ROLLUP_DAYS");
    return v && *v && strcmp(v, "0") != 0;
}

/* ---- reading ---- */

typedef struct covered { int64_t sensor; int32_t month; } covered;

typedef struct mscan {
    ds_scan_fn fn;
    void *ctx;
    covered *c;
    size_t n, cap;
} mscan;

static ds_rc on_month(void *ctx, int64_t sensor_id, int32_t day, const uint8_t *data, size_t nrec, ds_err *err)
{
    mscan *m = ctx;
    covered *c = ds_grow_push((void **)&m->c, &m->n, &m->cap, sizeof *m->c, 16);
    if (!c)
        return ds_fail(err, DS_ENOMEM, "out of memory reading month rollups");
    *c = (covered){ sensor_id, day };
    return m->fn(m->ctx, sensor_id, day, data, nrec, err);
}

/* The days of [from, to] outside the months of sensor s in c (ascending by month for one
 * sensor: the scan returns them by day, the sensors of a day interleaved), scanned as day chunks. */
static ds_rc scan_gaps(ds_store *st, int kind, int64_t scan_sensor, int64_t s, const mscan *m, int32_t from,
                       int32_t to, ds_scan_fn fn, void *ctx, ds_err *err)
{
    int32_t at = from;
    for (size_t i = 0; i < m->n; i++) {
        if (m->c[i].sensor != s)
            continue;
        int32_t first, last;
        ds_month_span(m->c[i].month, &first, &last);
        if (first > at) {
            ds_rc rc = ds_store_scan(st, kind, scan_sensor, at, first - 1, fn, ctx, err);
            if (rc != DS_OK)
                return rc;
        }
        at = last + 1;
    }
    return at <= to ? ds_store_scan(st, kind, scan_sensor, at, to, fn, ctx, err) : DS_OK;
}

/* 1 when sensors a and b have the same months in c */
static int same_months(const mscan *m, int64_t a, int64_t b)
{
    size_t i = 0, j = 0;
    for (;;) {
        while (i < m->n && m->c[i].sensor != a)
            i++;
        while (j < m->n && m->c[j].sensor != b)
            j++;
        if (i == m->n || j == m->n)
            return i == m->n && j == m->n;
        if (m->c[i].month != m->c[j].month)
            return 0;
        i++;
        j++;
    }
}

ds_rc ds_rollup_whole_months(ds_store *st, int32_t *from, int32_t *to, int32_t *mfrom, int32_t *mto, ds_err *err)
{
    /* No day before the store's first or after its last has data: a range reaching either end
     * reaches the end of that month (`top` over July 1-30 of a store whose data ends on the 30th
     * takes July's month chunk). */
    int32_t first, last, sfirst, slast;
    ds_rc rc = ds_store_day_span(st, &sfirst, &slast, err);
    if (rc == DS_ENOTFOUND) {   /* no HOURLY chunk says where the data ends: the range as given */
        ds_err_clear(err);
        sfirst = INT32_MIN;
        slast = INT32_MAX;
    } else if (rc != DS_OK) {
        return rc;
    }
    if (*from <= sfirst)
        ds_month_span(*from, from, &last);
    if (*to >= slast)
        ds_month_span(*to, &first, to);
    /* the whole months of the range: first days in [mfrom, mto] */
    ds_month_span(*from, &first, &last);
    *mfrom = first == *from ? first : last + 1;
    *mto = INT32_MIN;
    for (int32_t d = *mfrom; d <= *to; d = last + 1) {
        ds_month_span(d, &first, &last);
        if (last > *to)
            break;
        *mto = first;
    }
    return DS_OK;
}

ds_rc ds_store_scan_rollups(ds_store *st, int kind, int64_t sensor_id, int32_t from, int32_t to, ds_scan_fn fn,
                            void *ctx, ds_err *err)
{
    int flags = kind & DS_SCAN_NOFILL, base = kind & ~DS_SCAN_NOFILL;
    if (ds_rollup_months_disabled() || base < DS_CHUNK_ROLLUP_SERVICE || base > DS_CHUNK_ROLLUP_ALL || to < from)
        return ds_store_scan(st, kind, sensor_id, from, to, fn, ctx, err);
    int32_t mfrom, mto;
    ds_rc rc = ds_rollup_whole_months(st, &from, &to, &mfrom, &mto, err);
    if (rc != DS_OK)
        return rc;
    if (mto < mfrom)
        return ds_store_scan(st, kind, sensor_id, from, to, fn, ctx, err);

    mscan m = { fn, ctx, NULL, 0, 0 };
    ds_sensor_info *sensors = NULL;
    size_t nsensors = 0;
    rc = ds_store_scan(st, DS_CHUNK_MONTH(base) | flags, sensor_id, mfrom, mto, on_month, &m, err);
    if (rc != DS_OK)
        goto out;
    if (!m.n) {   /* no month chunks (a store that keeps none, months not yet built) */
        rc = ds_store_scan(st, kind, sensor_id, from, to, fn, ctx, err);
        goto out;
    }
    if (sensor_id > 0) {
        rc = scan_gaps(st, kind, sensor_id, sensor_id, &m, from, to, fn, ctx, err);
        goto out;
    }
    if ((rc = ds_store_sensors(st, &sensors, &nsensors, err)) != DS_OK)
        goto out;
    int uniform = 1;
    for (size_t i = 1; i < nsensors && uniform; i++)
        uniform = same_months(&m, sensors[0].id, sensors[i].id);
    if (uniform && nsensors) {   /* every sensor has the same months: its gaps for all at once */
        rc = scan_gaps(st, kind, 0, sensors[0].id, &m, from, to, fn, ctx, err);
        goto out;
    }
    for (size_t i = 0; i < nsensors && rc == DS_OK; i++)
        rc = scan_gaps(st, kind, sensors[i].id, sensors[i].id, &m, from, to, fn, ctx, err);
out:
    free(m.c);
    free(sensors);
    return rc;
}

/* ---- building ---- */

typedef struct gather {
    uint8_t **chunk;
    size_t *len;
    size_t n, cap;
} gather;

static ds_rc on_day(void *ctx, int64_t sensor_id, int32_t day, const uint8_t *data, size_t nrec, ds_err *err)
{
    gather *g = ctx;
    if (g->n == g->cap) {
        size_t cap = g->cap ? g->cap * 2 : 32;
        uint8_t **c = realloc(g->chunk, cap * sizeof *c);
        if (c)
            g->chunk = c;
        size_t *l = c ? realloc(g->len, cap * sizeof *l) : NULL;
        if (!l)
            return ds_fail(err, DS_ENOMEM, "out of memory building month rollups");
        g->len = l;
        g->cap = cap;
    }
    uint8_t *copy = malloc(nrec ? nrec : 1);   /* nrec counts bytes (records.h) */
    if (!copy)
        return ds_fail(err, DS_ENOMEM, "out of memory building month rollups");
    memcpy(copy, data, nrec);
    g->chunk[g->n] = copy;
    g->len[g->n++] = nrec;
    return DS_OK;
}

static void gather_clear(gather *g)
{
    for (size_t i = 0; i < g->n; i++)
        free(g->chunk[i]);
    g->n = 0;
}

/* One (sensor, month): *written = 1 when its chunks went in. */
static ds_rc build_one(ds_store *st, int64_t sensor_id, int32_t month, int *written, ds_err *err)
{
    const ds_store_month_ops *mo = st->ops->months;
    uint8_t *out[DS_ROLLUP__COUNT] = { 0 };
    size_t len[DS_ROLLUP__COUNT] = { 0 };
    gather g = { 0 };
    uint64_t sig[2];
    int32_t first, last;
    int stale = 0;
    *written = 0;
    ds_month_span(month, &first, &last);
    ds_rc rc = mo->sig(st, sensor_id, first, sig, err);
    for (int dim = 0; rc == DS_OK && dim < DS_ROLLUP__COUNT; dim++) {
        gather_clear(&g);
        rc = ds_store_scan(st, DS_ROLLUP_KIND(dim) | DS_SCAN_NOFILL, sensor_id, first, last, on_day, &g, err);
        if (rc == DS_OK && !g.n)
            goto out;   /* a dimension without day chunks: nothing to unite (removed meanwhile) */
        if (rc == DS_OK)
            rc = ds_rollup_merge((ds_rollup_dim)dim, (const uint8_t *const *)g.chunk, g.len, g.n, &out[dim], &len[dim],
                                 err);
    }
    if (rc == DS_OK && (rc = mo->put(st, sensor_id, first, sig, out, len, &stale, err)) == DS_OK)
        *written = !stale;
out:
    gather_clear(&g);
    free(g.chunk);
    free(g.len);
    for (int dim = 0; dim < DS_ROLLUP__COUNT; dim++)
        free(out[dim]);
    return rc;
}

ds_rc ds_store_months_build(ds_store *st, size_t *built, ds_err *err)
{
    ds_sensor_day *rows = NULL;
    size_t n = 0;
    *built = 0;
    if (!ds_store_keeps(st, DS_KEEPS_MONTHS))
        return DS_OK;
    ds_rc rc = st->ops->months->missing(st, ds_day_of((int64_t)time(NULL)), &rows, &n, err);
    for (size_t i = 0; rc == DS_OK && i < n; i++) {
        int written = 0;
        if ((rc = build_one(st, rows[i].sensor_id, rows[i].day, &written, err)) == DS_OK)
            *built += (size_t)written;
    }
    free(rows);
    return rc;
}
