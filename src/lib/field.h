/*
 * field.h - the record's fields, listed once.
 *
 * field_table drives the JSON writer, the CSV header and columns, the view's
 * parser and the man page's field list.  The table is static and read-only;
 * a field_value is the caller's scratch space, and the strings a getter
 * points to are owned by the flow (or by the value's own buf).
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
};

struct field {
	const char *name;	/* dotted ECS path, e.g. "source.geo.city_name" */
	enum field_type type;
	unsigned int flags;
	/* Fills v and returns true when the flow has this field. */
	bool (*get)(const struct flow *f, struct field_value *v);
	/* Stores v into f; a FIELD_LIST field gets one call per element,
	 * as a FIELD_STR.  Returns 0, or -1 when the value is not valid. */
	int (*set)(struct flow *f, const struct field_value *v,
		   field_intern_fn intern, void *ctx);
	const char *doc;	/* one line for the man page */
};

extern const struct field field_table[];
extern const size_t field_count;

/* Index of the field with this exact dotted name, or -1. */
int field_lookup(const char *name, size_t len);

/* Parse a comma-separated list of field names into idx (at most max);
 * returns the count, or -1 with the first bad name's offset in *bad. */
int field_parse_list(const char *list, int *idx, int max, size_t *bad);

#endif
