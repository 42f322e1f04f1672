/* cross.c: building the CROSS records (design in cross.h).
 *
 * The counting is core/svclog.h's, the one ingest uses for its (source, service, class) counts:
 * each SRCSVC record is appended to a log as ((service, cc, class) packed in 64 bits, packets),
 * and the log is sorted (a radix sort on the key) and folded, which leaves one item per cell in
 * key order.  A random-port day has tens of thousands of cells; a hash table and a qsort of its
 * cells did the same job twice as slowly.  A cell's packets saturate at 2^46 - 1, as svclog's
 * do: 70 trillion packets of one service, country and class in one file's day, a hundred times
 * what NICTER's 290,000 addresses saw in all of 2023.  The log and the output are kept from group
 * to group. */
#include "core/cross.h"

#include <stdlib.h>
#include <string.h>

#include "core/svclog.h"

struct ds_cross_work {
    ds_svclog log;
    uint8_t *out;
    size_t capout;
};

ds_cross_work *ds_cross_work_new(void)
{
    ds_cross_work *w = calloc(1, sizeof *w);
    if (w && ds_svclog_init(&w->log, 4096) != 0) {
        free(w);
        return NULL;
    }
    return w;
}

void ds_cross_work_free(ds_cross_work *w)
{
    if (!w)
        return;
    ds_svclog_free(&w->log);
    free(w->out);
    free(w);
}

int ds_cross_build(ds_cross_work *w, const uint8_t *srcsvc, size_t nsvc, const uint8_t **out, size_t *nrec)
{
    ds_svclog *l = &w->log;
    *out = NULL;
    *nrec = 0;
    ds_svclog_clear(l);
    for (size_t i = 0; i < nsvc; i++) {
        ds_rec_srcsvc r;
        ds_rec_srcsvc_get(srcsvc + i * DS_REC_SRCSVC, &r);
        if (l->n == l->cap && ds_svclog_spill(l) != 0)
            return -1;
        l->v[l->n++] = (ds_svc_item){ .key = (uint64_t)r.service << 32 | (uint64_t)ds_cc_pack(r.cc) << 16 |
                                             (uint64_t)r.cls << 8,
                                      .packets = r.packets };
    }
    if (ds_svclog_reduce(l) != 0)
        return -1;
    size_t len = l->n * DS_REC_CROSS;
    if (len > w->capout) {
        uint8_t *o = realloc(w->out, len);
        if (!o)
            return -1;
        w->out = o;
        w->capout = len;
    }
    for (size_t i = 0; i < l->n; i++) {
        uint8_t *p = w->out + i * DS_REC_CROSS;
        uint64_t k = l->v[i].key, v = l->v[i].packets;
        uint32_t svc = (uint32_t)(k >> 32);
        uint16_t cc = (uint16_t)(k >> 16);
        p[0] = (uint8_t)svc; p[1] = (uint8_t)(svc >> 8); p[2] = (uint8_t)(svc >> 16); p[3] = (uint8_t)(svc >> 24);
        p[4] = (uint8_t)cc; p[5] = (uint8_t)(cc >> 8);
        p[6] = (uint8_t)(k >> 8);
        p[7] = 0;
        for (int b = 0; b < 8; b++)
            p[8 + b] = (uint8_t)(v >> (8 * b));
    }
    *out = w->out;
    *nrec = l->n;
    return 0;
}
