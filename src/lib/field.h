/*
 * field.h - the record's fields, listed once.
 *
 * field_table drives the JSON writer, the CSV header and columns, the view's
 * parser and merge, and the man page's field list: a field is one
 * row, which says where its value lives in struct flow.  Only derived fields
 * (event.*, network.type, the sums, status flags) carry code of their own.
 * The table is static and read-only; a field_value is the caller's scratch
 * space, and the strings it points to are owned by the flow (or by the
 * value's own buf).
 */
#ifndef FLOWTOP_FIELD_H
#define FLOWTOP_FIELD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flow.h"

enum field_type {
	FIELD_STR,		/* JSON string */
	FIELD_UINT,		/* JSON number (non-negative integer) */
	FIELD_LIST,		/* JSON array of strings; CSV joins with '|' */
};

#define FIELD_LIST_MAX 20

struct field_value {
	enum field_type type;
	uint64_t u;
	const char *s;
	size_t len;
	const char *list[FIELD_LIST_MAX];
	unsigned int nlist;
	char buf[64];		/* room for a formatted address or time */
};

/* Stores a string from the input and returns a pointer that outlives the
 * flow (the view's string pool); NULL when out of memory. */
typedef const char *(*field_intern_fn)(void *ctx, const char *s, size_t len);

enum {
	FIELD_F_MARKER = 1 << 0,	/* also written in marker records */
	FIELD_F_EXTERNAL = 1 << 1,	/* text from outside (names, databases):
					 * may hold anything, must be checked;
					 * the others are ASCII we made */
	FIELD_F_ALWAYS = 1 << 2,	/* known in every record, even when 0 */
};

/* How a row's value is kept in struct flow (at off, size bytes). */
enum field_store {
	FIELD_AT_NONE,		/* derived: only the row's own code knows it */
	FIELD_AT_PTR,		/* const char *, NULL when unknown; interned */
	FIELD_AT_INT,		/* unsigned integer of 1, 2, 4 or 8 bytes */
	FIELD_AT_DEC,		/* the same, written as a decimal string */
	FIELD_AT_TIME,		/* uint64_t ns since the epoch, RFC 3339 */
	FIELD_AT_ADDR,		/* union flow_addr of flow.family */
	FIELD_AT_CHARS,		/* char[size]: exactly size - 1 characters */
};

struct field;

/* Code of a derived field: get fills v and returns true when f has the
 * field; set stores v into f (a FIELD_LIST field gets one call per
 * element, as a FIELD_STR) and returns 0, or -1 when v is not valid. */
struct field_ops {
	bool (*get)(const struct field *fd, const struct flow *f, struct field_value *v);
	int (*set)(const struct field *fd, struct flow *f, const struct field_value *v);
};

struct field {
	const char *name;	/* dotted ECS path, e.g. "source.geo.city_name" */
	uint8_t namelen;
	uint8_t type;		/* enum field_type */
	uint8_t store;		/* enum field_store */
	uint8_t size;		/* bytes at off */
	uint16_t off;		/* offsetof(struct flow, ...) */
	uint16_t flags;		/* FIELD_F_* */
	uint32_t need;		/* FLOW_HAS_* bits that must all be set for
				 * the value to be known; 0: known when the
				 * stored bytes are not all zero */
	uint32_t sets;		/* FLOW_HAS_* bits that storing a value sets */
	const struct field_ops *ops;	/* derived fields only, else NULL */
	const char *doc;	/* one line for the man page */
};

extern const struct field field_table[];
extern const size_t field_count;

/* Fill v with f's value of field fd; false when f does not have it. */
bool field_get(const struct field *fd, const struct flow *f, struct field_value *v);

/* Store v (a value as the reader or a getter made it) into f's field fd,
 * through intern for strings.  Returns 0, or -1 when v is not valid. */
int field_set(const struct field *fd, struct flow *f, const struct field_value *v,
	      field_intern_fn intern, void *ctx);

/* Copy into d every stored field that s has; what s lacks, d keeps.  The
 * has-bits are or-ed; a derived field with no storage is left alone. */
void field_merge(struct flow *d, const struct flow *s);

/* Index of the field with this exact dotted name, or -1. */
int field_lookup(const char *name, size_t len);

/* Parse a comma-separated list of field names into idx (at most max);
 * returns the count, or -1 with the first bad name's offset in *bad. */
int field_parse_list(const char *list, int *idx, int max, size_t *bad);

#endif
