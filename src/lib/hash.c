/*
 * hash.c - see hash.h; libxxhash does the work.
 */
#include "hash.h"

#include <xxhash.h>

uint64_t hash_bytes(const void *p, size_t n)
{
	return XXH3_64bits(p, n);
}

uint64_t hash_bytes_seed(const void *p, size_t n, uint64_t seed)
{
	return XXH3_64bits_withSeed(p, n, seed);
}

uint64_t hash_u64(uint64_t x)
{
	return XXH3_64bits(&x, sizeof(x));
}
