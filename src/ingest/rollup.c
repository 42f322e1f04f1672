/* rollup.c (ingest): see rollup.h.
 *
 * The SRCSVC frames are decompressed once more here (the store keeps them as they are): about
 * 1 ms per MB of records, against the reader's minutes of decoding packets.  The rollups of the
 * whole file are held until the last thread's chunks are in, one ds_rollup per (sensor, day);
 * what they hold is about 4 values of 4 bytes per SRCSVC record (one per dimension and ALL).
 */
#include "ingest/rollup.h"

#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "core/records.h"
#include "core/rollup.h"

typedef struct day_rollup {
    int sensor;
    int32_t day;
    ds_rollup *r;
} day_rollup;

struct ingest_rollups {
    day_rollup *d;
    size_t n, cap;
    uint8_t *buf;             /* decompressed records */
    size_t bufcap;
};

ingest_rollups *ingest_rollups_new(void)
{
    return calloc(1, sizeof(ingest_rollups));
}

void ingest_rollups_free(ingest_rollups *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n; i++)
        ds_rollup_free(r->d[i].r);
    free(r->d);
    free(r->buf);
    free(r);
}

static ds_rollup *day_of(ingest_rollups *r, int sensor, int32_t day)
{
    for (size_t i = r->n; i-- > 0;)   /* the latest first: a thread emits a (sensor, day)'s kinds together */
        if (r->d[i].sensor == sensor && r->d[i].day == day)
            return r->d[i].r;
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 16;
        day_rollup *d = realloc(r->d, cap * sizeof *d);
        if (!d)
            return NULL;
        r->d = d;
        r->cap = cap;
    }
    ds_rollup *x = ds_rollup_new();
    if (!x)
        return NULL;
    r->d[r->n++] = (day_rollup){ sensor, day, x };
    return x;
}

ds_rc ingest_rollups_feed(ingest_rollups *r, int sensor, int32_t day, const uint8_t *frame, size_t framelen,
                          size_t nrec, ds_err *err)
{
    if (nrec > SIZE_MAX / DS_REC_SRCSVC)
        return ds_fail(err, DS_ENOMEM, "rollups: a chunk of %zu records is too large", nrec);
    size_t len = nrec * DS_REC_SRCSVC;
    if (len > r->bufcap) {
        uint8_t *b = realloc(r->buf, len);
        if (!b)
            return ds_fail(err, DS_ENOMEM, "out of memory building rollups");
        r->buf = b;
        r->bufcap = len;
    }
    size_t got = ZSTD_decompress(r->buf, len, frame, framelen);
    if (ZSTD_isError(got) || got != len)
        return ds_fail(err, DS_EFORMAT, "rollups: a SRCSVC chunk of day %d does not decompress to %zu records: %s", day,
                       nrec, ZSTD_isError(got) ? ZSTD_getErrorName(got) : "wrong length");
    ds_rollup *x = day_of(r, sensor, day);
    if (!x)
        return ds_fail(err, DS_ENOMEM, "out of memory building rollups");
    for (size_t i = 0; i < nrec; i++)
        if (ds_rollup_add(x, r->buf + i * DS_REC_SRCSVC) != 0)
            return ds_fail(err, DS_ENOMEM, "out of memory building rollups");
    return DS_OK;
}

static int by_sensor_day(const void *a, const void *b)
{
    const day_rollup *x = a, *y = b;
    if (x->sensor != y->sensor)
        return x->sensor < y->sensor ? -1 : 1;
    return x->day < y->day ? -1 : x->day > y->day;
}

ds_rc ingest_rollups_put(ingest_rollups *r, ds_batch_sink *sink, ds_err *err)
{
    ds_rc rc = DS_OK;
    if (r->n)   /* a file without SRCSVC records has no day: r->d is NULL, which qsort may not take */
        qsort(r->d, r->n, sizeof *r->d, by_sensor_day);
    for (size_t i = 0; i < r->n && rc == DS_OK; i++) {
        for (int dim = 0; dim < DS_ROLLUP__COUNT && rc == DS_OK; dim++) {
            uint8_t *chunk = NULL;
            size_t len = 0;
            rc = ds_rollup_encode(r->d[i].r, (ds_rollup_dim)dim, &chunk, &len, err);
            if (rc == DS_OK)
                rc = ds_batch_put_chunk(sink, r->d[i].sensor, r->d[i].day, DS_ROLLUP_KIND(dim), chunk, len, 1, err);
            free(chunk);
        }
        ds_rollup_free(r->d[i].r);   /* written: its memory goes back before the next day's is encoded */
        r->d[i].r = NULL;
    }
    return rc;
}
