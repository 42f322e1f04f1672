/* hash.h: the 64-bit mixer every open-addressing table here hashes with (the finaliser of
 * MurmurHash3, as in Appleby's public-domain description): cheap, and every input bit reaches
 * every output bit, so masking the low bits for a table index is safe. */
#ifndef DS_HASH_H
#define DS_HASH_H
#include <stdint.h>

static inline uint64_t ds_mix64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

#endif
