/*
 * hash.h - the one hash function family both programs' tables use: xxHash's
 * XXH3 (libxxhash), fast on the short keys we have (addresses, tuples,
 * inodes, names) and good enough that a table can take its low bits as
 * they are.  Not for anything an attacker must not be able to collide on
 * purpose: the tables bound their work by their load, not by the hash.
 *
 * Pure functions: nothing is owned or kept.
 */
#ifndef FLOWTOP_HASH_H
#define FLOWTOP_HASH_H

#include <stddef.h>
#include <stdint.h>

/* The 64-bit hash of p[0..n). */
uint64_t hash_bytes(const void *p, size_t n);

/* The 64-bit hash of one number (an inode, a pid, a record offset). */
uint64_t hash_u64(uint64_t x);

/* p[0..n) hashed with a seed: a second, independent hash of the same key,
 * or one key made of a small prefix (a family, a database index) and
 * bytes without copying them together. */
uint64_t hash_bytes_seed(const void *p, size_t n, uint64_t seed);

#endif
