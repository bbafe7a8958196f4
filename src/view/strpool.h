/*
 * strpool.h - the view's string pool: every string read from the stream is
 * stored here once, made safe for a terminal, and shared by all flows.
 *
 * struct strpool owns its memory; pointers it hands out stay valid until
 * strpool_free() or, for strings not yet committed, strpool_rollback().
 * Strings are not freed one by one: the view rebuilds the pool (strpool_new,
 * re-intern the live strings, free the old one) when it has grown stale.
 *
 * The ownership rule that makes the rebuild safe: only the flow table keeps
 * pool pointers beyond the record being applied, and flowtab_reintern()
 * moves every one of them.  Everything else (sorted rows, per-process rows,
 * a paused screen) refers to flows by table index and reads strings through
 * the table when it draws.
 */
#ifndef FLOWTOP_VIEW_STRPOOL_H
#define FLOWTOP_VIEW_STRPOOL_H

#include <stddef.h>
#include <stdint.h>

/* Longest string kept, in bytes after repair; longer ones are cut at a
 * character boundary (a DNS name is at most 253, a path may be longer). */
#define STRPOOL_STR_MAX 512

struct strpool;

/* A new, empty pool; NULL when out of memory. */
struct strpool *strpool_new(void);

/* Free the pool and every string in it. */
void strpool_free(struct strpool *p);

/* The pooled, terminal-safe copy of s[0..len) (utf8_clean_terminal: invalid
 * UTF-8, control characters and bidirectional controls each become U+FFFD),
 * or NULL when out of memory.  The same text always returns the same
 * pointer. */
const char *strpool_intern(struct strpool *p, const char *s, size_t len);

/* Same, as a field_intern_fn (ctx is the pool). */
const char *strpool_intern_cb(void *ctx, const char *s, size_t len);

/* Keep every string interned so far: the record that needed them was
 * stored. */
void strpool_commit(struct strpool *p);

/* Forget every string interned since the last strpool_commit() (or since
 * strpool_new()): the line that brought them was bad or its record was
 * dropped, so nothing points to them. */
void strpool_rollback(struct strpool *p);

/* Bytes held by the pool, strings and index together. */
size_t strpool_bytes(const struct strpool *p);

/* Number of distinct strings. */
size_t strpool_count(const struct strpool *p);

#endif
