/* sets.h: hash sets the analysis queries count distinct things with.
 *
 * Open addressing with linear probing, power-of-two capacity, grown at 50% load.  Exact, not
 * sketches: an observatory's "unique sources" is a number analysts compare between reports, so
 * it must not move with a sketch's error.  Each add returns 1 when the value is new, 0 when it
 * was there, -1 when memory ran out.
 */
#ifndef DS_SETS_H
#define DS_SETS_H
#include <stddef.h>
#include <stdint.h>

/* Set of (a, b) pairs, one 24-byte entry each so a probe touches one cache line. */
typedef struct ds_pair_ent { uint64_t a, b; uint64_t used; } ds_pair_ent;
typedef struct ds_pairset { ds_pair_ent *e; size_t cap, n; } ds_pairset;
int ds_pairset_init(ds_pairset *t, size_t cap);   /* cap: a power of two */
int ds_pairset_add(ds_pairset *t, uint64_t a, uint64_t b);
void ds_pairset_free(ds_pairset *t);

/* Set of u64 values (8 bytes an entry, so it stays in cache longer); 0 is kept as a flag. */
typedef struct ds_u64set { uint64_t *e; size_t cap, n; int has_zero; } ds_u64set;
int ds_u64set_init(ds_u64set *t, size_t cap);
int ds_u64set_add(ds_u64set *t, uint64_t v);
int ds_u64set_has(const ds_u64set *t, uint64_t v);   /* an empty (zeroed) set has nothing */
void ds_u64set_free(ds_u64set *t);
/* Empty the set, keeping its memory (a set refilled per day stays in cache). */
void ds_u64set_clear(ds_u64set *t);

/* Set of non-zero u32 values: IPv4 sources, 4 bytes an entry. */
typedef struct ds_u32set { uint32_t *e; size_t cap, n; } ds_u32set;
int ds_u32set_init(ds_u32set *t, size_t cap);
int ds_u32set_add(ds_u32set *t, uint32_t v);
void ds_u32set_free(ds_u32set *t);

#endif
