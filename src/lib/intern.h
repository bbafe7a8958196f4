/*
 * intern.h - a string interner: each distinct string stored once, in big
 * chunks, and the same pointer handed out for the same text, so that a
 * name shared by ten thousand flows costs its bytes once and strings
 * compare by pointer.
 *
 * struct intern owns every string it stores; pointers stay valid until
 * intern_free() or, for strings stored after the last intern_commit(),
 * intern_rollback().  Strings are never freed one by one.  The bytes are
 * stored as given (the caller repairs or sanitises first, utf8.h) up to the
 * first NUL.  Not thread-safe.
 */
#ifndef FLOWTOP_INTERN_H
#define FLOWTOP_INTERN_H

#include <stddef.h>

struct intern;

/* A new, empty interner that stores at most max_bytes of strings (their
 * bytes and NULs; 0: no bound).  NULL when out of memory. */
struct intern *intern_new(size_t max_bytes);

/* Free the interner and every string in it. */
void intern_free(struct intern *in);

/* The stored copy of s[0..len) (cut at a NUL), NUL-terminated; the same
 * text always returns the same pointer.  NULL with errno ENOMEM when out of
 * memory, ENOSPC when a new string would pass max_bytes. */
const char *intern_str(struct intern *in, const char *s, size_t len);

/* Keep every string stored so far: a later rollback goes back to here. */
void intern_commit(struct intern *in);

/* Forget every string stored since the last intern_commit() (or since
 * intern_new()); the caller promises nothing points to them any more. */
void intern_rollback(struct intern *in);

/* Number of distinct strings. */
size_t intern_count(const struct intern *in);

/* Bytes held: chunks and index. */
size_t intern_bytes(const struct intern *in);

#endif
