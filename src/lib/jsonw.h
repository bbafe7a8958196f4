/*
 * jsonw.h - a streaming JSON writer into a growable buffer, one record at a
 * time.  The caller owns struct jsonw (init/release) and takes the bytes
 * with jsonw_buf() before jsonw_reset().
 *
 * Why not yajl_gen: at 100k flows a record costs about twice as much through
 * yajl's per-token state machine and per-character escaping callbacks as
 * through this writer, and the emitter must keep up with `conntrack -L`.
 * yajl still parses JSON in the view.
 */
#ifndef FLOWTOP_JSONW_H
#define FLOWTOP_JSONW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JSONW_MAX_DEPTH 16

struct jsonw {
	char *buf;
	size_t len, cap;
	int depth;
	bool need_comma[JSONW_MAX_DEPTH];
	bool after_key;
	bool oom;
};

void jsonw_init(struct jsonw *w);
void jsonw_release(struct jsonw *w);

/* Start a new record; keeps the buffer's memory. */
void jsonw_reset(struct jsonw *w);

/* Open and close an object or an array. */
void jsonw_obj_open(struct jsonw *w);
void jsonw_obj_close(struct jsonw *w);
void jsonw_arr_open(struct jsonw *w);
void jsonw_arr_close(struct jsonw *w);

/* A key of the open object; escaped like any string. */
void jsonw_key(struct jsonw *w, const char *s, size_t len);

/* Text that is already JSON: a key with its quotes and colon ("k":), made
 * once by the caller; saves escaping the same keys for every record. */
void jsonw_key_raw(struct jsonw *w, const char *json, size_t len);

/* A string value known to need no escaping (ASCII we formatted ourselves:
 * addresses, times, state names). */
void jsonw_str_plain(struct jsonw *w, const char *s, size_t len);

/* A string value: must be valid UTF-8 (see utf8_repair); quotes,
 * backslashes and control characters are escaped. */
void jsonw_str(struct jsonw *w, const char *s, size_t len);

/* A number value. */
void jsonw_uint(struct jsonw *w, uint64_t v);

/* The record so far; NULL when memory ran out while writing it. */
const char *jsonw_buf(const struct jsonw *w, size_t *len);

#endif
