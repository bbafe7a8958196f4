/*
 * reader.h - turns the byte stream from flowtop-emit (NDJSON, or CSV with a
 * header) into struct flow records, one line at a time.
 *
 * struct reader owns its line buffer and parser state.  Records are handed
 * to the caller's callback and live only for that call; the strings in them
 * belong to whoever the intern function stores them in.  Bad lines are
 * skipped and counted, never fatal.
 *
 * Every record is one line: a newline ends it even inside a CSV quote
 * (flowtop-emit replaces control characters, so a real record never holds
 * one), so a stray quote costs its own line and nothing after it.
 */
#ifndef FLOWTOP_VIEW_READER_H
#define FLOWTOP_VIEW_READER_H

#include <stddef.h>
#include <stdint.h>

#include "field.h"
#include "flow.h"

/* Hard cap on one input line (bytes); longer lines are skipped whole. */
#define READER_LINE_MAX (64 * 1024)

enum reader_format {
	READER_UNKNOWN,		/* no JSON object and no CSV header seen yet */
	READER_NDJSON,
	READER_CSV,
};

struct reader_stats {
	uint64_t lines;		/* non-blank lines seen */
	uint64_t records;	/* flows handed over */
	uint64_t markers;	/* markers handed over */
	uint64_t bad;		/* lines skipped, too_long included */
	uint64_t too_long;	/* lines over READER_LINE_MAX */
};

/* Called for each good record; f is the reader's and valid for the call. */
typedef void (*reader_record_fn)(void *ctx, struct flow *f);

/* Called with the intern context when a line is counted bad: strings it
 * had interned belong to no record (strpool_rollback forgets them). */
typedef void (*reader_bad_fn)(void *ictx);

struct reader;

/* A reader calling cb for every record and intern for every string.
 * NULL when out of memory. */
struct reader *reader_new(reader_record_fn cb, void *ctx,
			  field_intern_fn intern, void *ictx);

/* Free the reader. */
void reader_free(struct reader *r);

/* Have fn called for every bad line from now on (NULL: none). */
void reader_on_bad(struct reader *r, reader_bad_fn fn);

/* Feed the next bytes of the stream; complete lines are parsed at once.
 * Returns 0, or -1 (ENOMEM) when the stream cannot be buffered. */
int reader_feed(struct reader *r, const char *buf, size_t len);

/* End of stream: parse a last line that had no newline. */
void reader_finish(struct reader *r);

/* Parse one line without its newline.  Returns 0 for a record or a
 * header, 1 for a blank line, -1 for a line counted as bad. */
int reader_line(struct reader *r, const char *line, size_t len);

/* Counters since reader_new(). */
const struct reader_stats *reader_stats(const struct reader *r);

/* The format: decided by the first line that is a JSON object or a CSV
 * header naming event.action; lines before it are counted bad. */
enum reader_format reader_format(const struct reader *r);

#endif
