/*
 * output.h - standard output for follow mode: records go into a buffer of
 * the emitter's own, and the poll loop writes them out when the reader can
 * take them, so a stalled reader never holds the program in write() with
 * its stop signals blocked.
 *
 * struct output owns that buffer, the stdio stream that fills it (handed to
 * the writer) and, for pipes, FIFOs and terminals, a descriptor of its own
 * on the same file (a new open file description, non-blocking).  The
 * caller's descriptor and its flags are never changed: the shell and the
 * other programs of a pipeline share them.  The stream of output_direct()
 * (--once) owns its buffer, which its fclose() frees.
 *
 * --output FILE: both take a struct output_reopen, and then own fd (and
 * every descriptor opened after it), which they close.  When *hup is set
 * (SIGHUP, after logrotate renamed the file) the path is opened anew at
 * the next line boundary: every line written before goes whole to the old
 * file, every line after to the new one, none twice.
 */
#ifndef FLOWTOP_OUTPUT_H
#define FLOWTOP_OUTPUT_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct output;

/* --output FILE: the path, the flag that asks for it to be opened anew,
 * and whether that failed (the write then fails with open()'s errno). */
struct output_reopen {
	const char *path;
	volatile sig_atomic_t *hup;
	bool failed;
};

/* Open path to append to (created 0640 before the umask); -1 with errno. */
int output_open_file(const char *path);

/* Take over writing to descriptor fd (which stays open and unchanged, or
 * with r, becomes ours).  NULL with errno on failure. */
struct output *output_open(int fd, struct output_reopen *r);

/* Free everything, dropping what was not written (output_flush() first to
 * write it); fd stays open unless it is ours. */
void output_close(struct output *o);

/* The stream to write records into; it only fills the buffer, so its
 * writes fail only for want of memory. */
FILE *output_stream(struct output *o);

/* The descriptor to poll: POLLOUT when output_pending(), and POLLERR or
 * POLLHUP when the reader has gone. */
int output_fd(const struct output *o);

/* Bytes taken from the stream but not yet written (after output_flush). */
size_t output_pending(const struct output *o);

/* Move the stream's data into the buffer and write as much as the reader
 * takes now, without waiting.  0 (all written, or the reader is busy), or
 * -1 with errno (EPIPE: the reader has gone). */
int output_flush(struct output *o);

/* --once: a stream that writes straight to fd, blocking like stdout (as
 * fast), but that fails with EINTR instead of writing on once *stop is
 * set, where stdio would take a write a signal cut short and write the
 * rest into a stalled reader.  Close it with fclose(); fd stays open
 * unless it is ours (r).
 * NULL with errno on failure. */
FILE *output_direct(int fd, volatile sig_atomic_t *stop, struct output_reopen *r);

/* Whether a write can block (no non-blocking way to the file was found):
 * then the caller lets its stop signals in around output_flush(), whose
 * write returns EINTR when one comes. */
bool output_may_block(const struct output *o);

#endif
