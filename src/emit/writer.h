/*
 * writer.h - turns flows into NDJSON (through jsonw) or CSV lines on a stdio
 * stream.
 *
 * The caller owns the FILE and the flows; struct writer owns only its JSON
 * buffer, the field paths and the JSON order it made once, and scratch
 * space.  Output errors are reported through ferror() on the caller's
 * stream, as with any stdio writer.
 */
#ifndef FLOWTOP_WRITER_H
#define FLOWTOP_WRITER_H

#include <stdbool.h>
#include <stdio.h>

#include "flow.h"

enum writer_format { WRITER_JSON, WRITER_CSV };

struct writer;
struct field;

/* fields: indexes into field_table to write, in order (CSV) or as a subset
 * (JSON keeps the table's order, each object's members together); NULL/0
 * means every field. */
struct writer *writer_new(FILE *out, enum writer_format fmt, const int *fields, int nfields);

/* The same over another table of nrows rows, which must outlive the
 * writer: how the tests check the writer against any order of rows. */
struct writer *writer_new_rows(FILE *out, enum writer_format fmt, const struct field *rows,
			       size_t nrows, const int *fields, int nfields);
void writer_free(struct writer *w);

/* Write one record (a flow or a marker) as one line; 0 or -1. */
int writer_write(struct writer *w, const struct flow *f);

/* Write a marker record (snapshot-begin, snapshot-end, overrun, refresh) now. */
int writer_marker(struct writer *w, enum flow_action marker);

/* CSV: leave out the header line (appending to a file that has one). */
void writer_no_header(struct writer *w);

/* Flush after every record (follow mode) or let stdio buffer (--once). */
void writer_set_flush(struct writer *w, bool each_record);

#endif
