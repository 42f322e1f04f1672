/* grow.h: room for one more element in a growable array.
 *
 * Every list darkscope builds while reading (records, cells, events) grows the same way: double
 * the capacity, starting from a first size.  Written once here, with the multiplication checked
 * so a huge count fails as "out of memory" instead of wrapping to a small allocation.
 */
#ifndef DS_GROW_H
#define DS_GROW_H
#include <stddef.h>

/* A block for at least *cap + 1 elements of `elem` bytes (cap doubled, or `first` when 0),
 * holding arr's contents; *cap is updated.  NULL when out of memory or the size would overflow:
 * then arr and *cap are unchanged and still valid.  Call it when n == *cap. */
void *ds_grow(void *arr, size_t *cap, size_t elem, size_t first);
/* Append one zeroed element of `elem` bytes to the array *arr of *n (capacity *cap, grown by
 * ds_grow from `first`): a pointer to it, *n counted; NULL when out of memory (all unchanged). */
void *ds_grow_push(void **arr, size_t *n, size_t *cap, size_t elem, size_t first);

#endif
