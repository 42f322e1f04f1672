/* cross.c: building the CROSS records (design in cross.h).
 *
 * One pass over the group's SRCSVC records into an open-addressing table keyed by (service, cc,
 * class) packed in 64 bits (a random-port day has tens of thousands of keys), then the keys sorted
 * (a radix sort) and written.  The table, the sort's buffers and the output are kept from group
 * to group. */
#include "core/cross.h"

#include <stdlib.h>
#include <string.h>

#include "core/hash.h"

typedef struct cell { uint64_t key, packets; } cell;

enum { DIGIT = 11, RADIX = 1 << DIGIT };

struct ds_cross_work {
    uint32_t *slot;   /* cell index + 1; 0 empty */
    size_t cap;
    cell *cells, *tmp;          /* tmp: the radix sort's second buffer */
    size_t n, capcells;
    uint32_t hist[RADIX];
    uint8_t *out;
    size_t capout;
};

ds_cross_work *ds_cross_work_new(void) { return calloc(1, sizeof(ds_cross_work)); }

void ds_cross_work_free(ds_cross_work *w)
{
    if (!w)
        return;
    free(w->slot);
    free(w->cells);
    free(w->tmp);
    free(w->out);
    free(w);
}

/* Sort cells by key: LSD radix on 11-bit digits of the 48 bits a key uses (service, cc, class:
 * bits 8..55), each digit every cell shares skipped.  A random-port day has tens of thousands of
 * cells, and qsort of them was 3.5% of a backscatter quarter's ingest. */
static cell *sort_cells(cell *a, cell *tmp, size_t n, uint32_t *hist)
{
    cell *src = a, *dst = tmp;
    for (int shift = 8; shift < 56; shift += DIGIT) {
        memset(hist, 0, RADIX * sizeof *hist);
        for (size_t i = 0; i < n; i++)
            hist[src[i].key >> shift & (RADIX - 1)]++;
        if (hist[src[0].key >> shift & (RADIX - 1)] == n)
            continue;
        uint32_t sum = 0;
        for (size_t d = 0; d < RADIX; d++) {
            uint32_t c = hist[d];
            hist[d] = sum;
            sum += c;
        }
        for (size_t i = 0; i < n; i++)
            dst[hist[src[i].key >> shift & (RADIX - 1)]++] = src[i];
        cell *t = src;
        src = dst;
        dst = t;
    }
    return src;
}

int ds_cross_build(ds_cross_work *w, const uint8_t *srcsvc, size_t nsvc, const uint8_t **out, size_t *nrec)
{
    *out = NULL;
    *nrec = 0;
    size_t cap = 64;
    while (cap < 2 * nsvc)   /* at most one cell per record: never more than half full */
        cap *= 2;
    if (cap > UINT32_MAX)
        return -1;
    if (cap > w->cap) {
        uint32_t *s = malloc(cap * sizeof *s);
        if (!s)
            return -1;
        free(w->slot);
        w->slot = s;
        w->cap = cap;
    }
    memset(w->slot, 0, cap * sizeof *w->slot);   /* this group's part (a small group after a large one) */
    if (nsvc > w->capcells) {
        cell *c = realloc(w->cells, nsvc * sizeof *c), *t = c ? realloc(w->tmp, nsvc * sizeof *t) : NULL;
        if (c)
            w->cells = c;
        if (!c || !t)
            return -1;
        w->tmp = t;
        w->capcells = nsvc;
    }
    w->n = 0;
    size_t m = cap - 1;
    for (size_t i = 0; i < nsvc; i++) {
        ds_rec_srcsvc r;
        ds_rec_srcsvc_get(srcsvc + i * DS_REC_SRCSVC, &r);
        uint64_t key = (uint64_t)r.service << 32 | (uint64_t)ds_cc_pack(r.cc) << 16 | (uint64_t)r.cls << 8;
        size_t j = (size_t)ds_mix64(key) & m;
        while (w->slot[j] && w->cells[w->slot[j] - 1].key != key)
            j = (j + 1) & m;
        if (!w->slot[j]) {
            w->cells[w->n] = (cell){ key, 0 };
            w->slot[j] = (uint32_t)++w->n;
        }
        w->cells[w->slot[j] - 1].packets += r.packets;
    }
    const cell *sorted = w->n > 1 ? sort_cells(w->cells, w->tmp, w->n, w->hist) : w->cells;
    size_t len = w->n * DS_REC_CROSS;
    if (len > w->capout) {
        uint8_t *o = realloc(w->out, len);
        if (!o)
            return -1;
        w->out = o;
        w->capout = len;
    }
    for (size_t i = 0; i < w->n; i++) {
        uint8_t *p = w->out + i * DS_REC_CROSS;
        uint64_t k = sorted[i].key, v = sorted[i].packets;
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
    *nrec = w->n;
    return 0;
}
