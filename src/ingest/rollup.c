/* rollup.c (ingest): see rollup.h.  The chunks are held as pointers into the threads'
 * aggregators, which live until the commit is done; only a (sensor, day, kind) with more than one
 * chunk is decoded and united. */
#include "ingest/rollup.h"

#include <stdlib.h>
#include <string.h>

#include "core/records.h"
#include "core/rollup_build.h"

typedef struct piece {
    int sensor;
    int32_t day;
    int kind;
    size_t seq;               /* arrival: the sort keeps it, so a union is the same each run */
    const uint8_t *chunk;
    size_t len;
} piece;

struct ingest_rollups {
    piece *p;
    size_t n, cap;
};

ingest_rollups *ingest_rollups_new(void)
{
    return calloc(1, sizeof(ingest_rollups));
}

void ingest_rollups_free(ingest_rollups *r)
{
    if (!r)
        return;
    free(r->p);
    free(r);
}

ds_rc ingest_rollups_feed(void *ctx, int sensor, int32_t day, int kind, const uint8_t *chunk, size_t len, ds_err *err)
{
    ingest_rollups *r = ctx;
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 64;
        piece *p = realloc(r->p, cap * sizeof *p);
        if (!p)
            return ds_fail(err, DS_ENOMEM, "out of memory collecting rollups");
        r->p = p;
        r->cap = cap;
    }
    r->p[r->n] = (piece){ sensor, day, kind, r->n, chunk, len };
    r->n++;
    return DS_OK;
}

static int by_sensor_day_kind(const void *a, const void *b)
{
    const piece *x = a, *y = b;
    if (x->sensor != y->sensor)
        return x->sensor < y->sensor ? -1 : 1;
    if (x->day != y->day)
        return x->day < y->day ? -1 : 1;
    if (x->kind != y->kind)
        return x->kind < y->kind ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

ds_rc ingest_rollups_put(ingest_rollups *r, ds_batch_sink *sink, ds_err *err)
{
    ds_rc rc = DS_OK;
    const uint8_t **c = NULL;
    size_t *len = NULL;
    if (r->n) {   /* a file without SRCSVC records has no rollup: r->p is NULL, which qsort may not take */
        qsort(r->p, r->n, sizeof *r->p, by_sensor_day_kind);
        c = malloc(r->n * sizeof *c);
        len = malloc(r->n * sizeof *len);
        if (!c || !len)
            rc = ds_fail(err, DS_ENOMEM, "out of memory writing rollups");
    }
    for (size_t i = 0, j; i < r->n && rc == DS_OK; i = j) {
        const piece *p = &r->p[i];
        for (j = i; j < r->n && r->p[j].sensor == p->sensor && r->p[j].day == p->day && r->p[j].kind == p->kind; j++) {
            c[j - i] = r->p[j].chunk;
            len[j - i] = r->p[j].len;
        }
        uint8_t *merged = NULL;
        size_t mlen = 0;
        if (j - i > 1)
            rc = ds_rollup_merge((ds_rollup_dim)(p->kind - DS_CHUNK_ROLLUP_SERVICE), c, len, j - i, &merged, &mlen,
                                 err);
        if (rc == DS_OK)
            rc = ds_batch_put_chunk(sink, p->sensor, p->day, p->kind, merged ? merged : p->chunk,
                                    merged ? mlen : p->len, 1, err);
        free(merged);
    }
    free(c);
    free(len);
    return rc;
}
