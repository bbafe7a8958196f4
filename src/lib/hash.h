/*
 * hash.h - the one hash function family both programs' tables use: xxHash's
 * XXH3 (libxxhash), fast on the short keys we have (addresses, tuples,
 * inodes, names) and good enough that a table can take its low bits as
 * they are.  Not for anything an attacker must not be able to collide on
 * purpose: the tables bound their work by their load, not by the hash.
 *
 * The functions are inline, with xxhash.h's own header-only build
 * (XXH_INLINE_ALL): a call into the shared library cost more than XXH3
 * itself on a 8- or 32-byte key, and with the length known the compiler
 * keeps only the code for that length (an attributed flow hashes up to six
 * keys; per 10,000 flows the library calls cost ~2M instructions).
 *
 * Pure functions: nothing is owned or kept.
 */
#ifndef FLOWTOP_HASH_H
#define FLOWTOP_HASH_H

#include <stddef.h>
#include <stdint.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

/* The 64-bit hash of p[0..n). */
static inline uint64_t hash_bytes(const void *p, size_t n)
{
	return XXH3_64bits(p, n);
}

/* The 64-bit hash of one number (an inode, a pid, a record offset).  XXH3
 * has no entry for a number, and on 8 bytes of input it takes ~20
 * instructions; a number needs only xxHash's final mix (XXH64's avalanche,
 * with its primes), 7 instructions.  The mix is a bijection, so two
 * numbers never share a hash, and every bit of x reaches the low bits a
 * table takes. */
static inline uint64_t hash_u64(uint64_t x)
{
	x ^= x >> 33;
	x *= XXH_PRIME64_2;
	x ^= x >> 29;
	x *= XXH_PRIME64_3;
	x ^= x >> 32;
	return x;
}

/* p[0..n) hashed with a seed: a second, independent hash of the same key,
 * or one key made of a small prefix (a family, a database index) and
 * bytes without copying them together. */
static inline uint64_t hash_bytes_seed(const void *p, size_t n, uint64_t seed)
{
	return XXH3_64bits_withSeed(p, n, seed);
}

#endif
