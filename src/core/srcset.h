/* srcset.h: exact sets of sources (ds_src_key, core/records.h), as the rollups keep them.
 *
 * In memory a set is a growable pair of arrays, IPv4 keys (the address, at most UINT32_MAX) in
 * one and IPv6 keys (bit 63 set: a 63-bit hash of the address) in the other, which may hold
 * repeats until ds_srcvec_normalize sorts them and drops the repeats.  A union of many sets is
 * therefore "append them all", and its distinct count either the length once normalized (a radix
 * sort) or, for decoded sets, a walk over their ascending runs together (ds_srcvec_distinct).
 *
 * Encoded (the rollup chunks' source sets, docs/store.md "Rollups"): the IPv4 keys ascending as
 * LEB128 varints of their differences (the first from 0), then the IPv6 keys the same way (the
 * first from 2^63).  Strictly ascending: a difference of 0 after the first value is damage.  The
 * decoder reads untrusted bytes: every varint is bounded, every value checked against the one
 * before and the range of its kind, and the counts and the byte length must agree exactly.
 *
 * Why not compressed bitmaps (CRoaring): a darknet's sources are spread over the whole address
 * space, a few per /16, so a roaring bitmap is nearly all container overhead (3.7-7.7 bytes a
 * source against 2-3 here) and unions of its array containers are slow: uniting 30 daily sets of
 * 130,000 random IPv4 sources took 1.4 s with Debian 12's libroaring 0.2.66 (deserialize +
 * lazy_or_inplace; 2.1 s with or_many) against 0.23 s for even a plain pairwise merge of sorted
 * arrays (bench/README.md, the rollups entry of issue #22).
 */
#ifndef DS_SRCSET_H
#define DS_SRCSET_H
#include <stddef.h>
#include <stdint.h>

#include "util/result.h"

typedef struct ds_srcvec {
    uint32_t *v4;
    uint64_t *v6;
    size_t n4, cap4, n6, cap6;
    /* v4 as decoded: runs of strictly ascending values (one per set decoded), run i ending at
     * runs[i]; `mixed` when values came otherwise (ds_srcvec_add), `sorted` once normalized */
    size_t *runs;
    size_t nruns, capruns;
    int mixed, sorted;
} ds_srcvec;

void ds_srcvec_free(ds_srcvec *s);
static inline void ds_srcvec_clear(ds_srcvec *s) { s->n4 = s->n6 = s->nruns = 0; s->mixed = s->sorted = 0; }
/* Add one key (repeats allowed); -1 out of memory. */
int ds_srcvec_add(ds_srcvec *s, uint64_t key);
/* Sort both arrays and drop repeats; -1 out of memory (the set is then unchanged). */
int ds_srcvec_normalize(ds_srcvec *s);
/* Distinct keys; -1 out of memory.  A large union of decoded sets is counted without sorting:
 * its runs are walked together 2^20 values at a time, the low 20 bits marked in a 128 KiB bitmap;
 * anything else is normalized. */
int64_t ds_srcvec_distinct(ds_srcvec *s);

/* Sort v[0..n) ascending: an LSD radix sort of 11-bit digits through tmp (n values), digits in
 * which no two values differ skipped (cube.c's (cell, source) items use the low 40-odd bits). */
void ds_sort_u64(uint64_t *v, uint64_t *tmp, size_t n);

/* Bytes ds_srcset_encode writes for a normalized set. */
size_t ds_srcset_encoded_size(const ds_srcvec *s);
/* Write a normalized set at out (ds_srcset_encoded_size bytes); returns the bytes written. */
size_t ds_srcset_encode(const ds_srcvec *s, uint8_t *out);
/* Append the n4 IPv4 and n6 IPv6 keys encoded in p[0..len) to out.  DS_EFORMAT (naming what is
 * wrong) when the bytes are not exactly such a set; DS_ENOMEM. */
ds_rc ds_srcset_decode(const uint8_t *p, size_t len, uint32_t n4, uint32_t n6, ds_srcvec *out, ds_err *err);

/* A union being gathered from many decoded sets (a period's days of one key): the sets are
 * appended, and the vector is made a set again whenever it has doubled past 64 M values, so it
 * holds at most about twice its distinct sources.  Counted with ds_srcvec_distinct(&a->v). */
typedef struct ds_srcacc {
    ds_srcvec v;
    size_t norm;
    /* The first set added, kept encoded until a second one comes: a union of one set (a month
     * chunk's row, a day of one file) is counted from its entry's n4 + n6 without decoding it. */
    uint8_t *pend;
    size_t pend_len, pend_cap;
    uint32_t pend4, pend6;
    int has_pend;
} ds_srcacc;
ds_rc ds_srcacc_add(ds_srcacc *a, const uint8_t *set, size_t len, uint32_t n4, uint32_t n6, ds_err *err);
/* Distinct sources of everything added; -1 out of memory, -2 a kept set was damaged (*err). */
int64_t ds_srcacc_distinct(ds_srcacc *a, ds_err *err);
/* Keys held (decoded and kept), a measure of the work counting them takes. */
static inline size_t ds_srcacc_size(const ds_srcacc *a) { return a->v.n4 + a->v.n6 + a->pend4 + a->pend6; }
void ds_srcacc_free(ds_srcacc *a);

#endif
