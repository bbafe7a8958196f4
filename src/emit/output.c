/*
 * output.c - a write end that never blocks, and the buffer in front of it.
 *
 * How each kind of file is written without waiting, and why this way:
 *
 * - pipes, FIFOs, terminals and other character devices: /proc/self/fd/N
 *   is opened again with O_NONBLOCK.  That makes a new open file
 *   description, so the non-blocking flag is ours alone; setting it with
 *   fcntl() on the inherited descriptor would change the description that
 *   the shell (a terminal) or the other end's neighbours (a pipe) share,
 *   and they would see EAGAIN after we exit.  (A FIFO without a reader
 *   refuses the open with ENXIO; then the plain descriptor is used, where
 *   writes fail with EPIPE.)
 * - sockets, which /proc cannot reopen: send() with MSG_DONTWAIT, which
 *   is non-blocking for that call only.
 * - regular files and block devices: plain write(); they never wait for a
 *   reader, and poll() always calls them ready.
 *
 * The records wait in our buffer until poll() says the reader has room, in
 * the loop's one ppoll(), the only place where stop signals are let in.  A
 * file that can be reached no other way falls back to blocking writes with
 * the signals let in around them (output_may_block()).
 *
 * --output FILE and SIGHUP: the bytes buffered when the signal is seen
 * are whole lines (the loop writes whole records between flushes), so
 * they are all written to the old file first, and the path is opened anew
 * only then; what comes later goes to the new file.  --once's stream is
 * handed blocks that stdio cuts anywhere, so it switches at the first line
 * end after the signal instead.
 */
#include "output.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

/* the stream's own buffer: one write a loop round, not one a record */
#define STREAM_BUF (64 * 1024)
#define PIPE_BIG (1 << 20)

enum out_kind { OUT_NONBLOCK, OUT_SOCKET, OUT_PLAIN, OUT_BLOCKING };

struct output {
	int fd;				/* what we write to */
	int own_fd;			/* our reopened descriptor, or -1 */
	enum out_kind kind;
	FILE *stream;
	char *buf;			/* unwritten bytes: buf[head, head + len) */
	size_t head, len, cap;
	int err;			/* errno of a failed write, sticky */
	struct output_reopen *r;	/* --output, or NULL */
	int path_fd;			/* opened from r->path, ours; or -1 */
	bool rotating;			/* a SIGHUP came: cut bytes go to the old file */
	size_t cut;
};

int output_open_file(const char *path)
{
	/* O_NONBLOCK for the open only: a FIFO without a reader fails with
	 * ENXIO instead of holding us before the loop runs; the writes pick
	 * their own way (pick_way, direct_write) */
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY | O_NONBLOCK, 0640);
	int fl;

	if (fd < 0)
		return -1;
	if ((fl = fcntl(fd, F_GETFL)) < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

/* stdio hands the stream's data here: append it to the buffer */
static ssize_t cookie_write(void *cookie, const char *data, size_t n)
{
	struct output *o = cookie;

	if (o->head && o->head + o->len + n > o->cap) {
		memmove(o->buf, o->buf + o->head, o->len);
		o->head = 0;
	}
	if (o->len + n > o->cap) {
		size_t cap = o->cap ? o->cap : STREAM_BUF;
		char *b;

		while (cap < o->len + n)
			cap *= 2;
		if (!(b = realloc(o->buf, cap))) {
			errno = ENOMEM;
			return -1;
		}
		o->buf = b;
		o->cap = cap;
	}
	memcpy(o->buf + o->head + o->len, data, n);
	o->len += n;
	return (ssize_t)n;
}

static void pick_way(struct output *o)
{
	struct stat st;
	char path[32];

	o->kind = OUT_PLAIN;
	if (fstat(o->fd, &st) < 0 || S_ISREG(st.st_mode) || S_ISBLK(st.st_mode))
		return;
	if (S_ISSOCK(st.st_mode)) {
		o->kind = OUT_SOCKET;
		return;
	}
	/* a pipe of 64 KiB switches between us and the reader every few
	 * hundred records of a million-flow snapshot; the maximum an
	 * unprivileged process may ask for (fs.pipe-max-size, 1 MiB by
	 * default) lets both run in longer stretches.  A pipe that stays
	 * small only costs time. */
	if (S_ISFIFO(st.st_mode))
		(void)fcntl(o->fd, F_SETPIPE_SZ, PIPE_BIG);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", o->fd);
	o->own_fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (o->own_fd >= 0) {
		o->fd = o->own_fd;
		o->kind = OUT_NONBLOCK;
	} else if (errno != ENXIO) {
		o->kind = OUT_BLOCKING;
	}
}

struct output *output_open(int fd, struct output_reopen *r)
{
	static const cookie_io_functions_t io = { .write = cookie_write };
	struct output *o = calloc(1, sizeof(*o));

	if (!o)
		return NULL;
	o->fd = fd;
	o->own_fd = -1;
	o->r = r;
	o->path_fd = r ? fd : -1;
	pick_way(o);
	o->stream = fopencookie(o, "w", io);
	if (!o->stream || setvbuf(o->stream, NULL, _IOFBF, STREAM_BUF)) {
		int e = errno;

		if (o->stream)
			fclose(o->stream);
		if (o->own_fd >= 0)
			close(o->own_fd);
		free(o);
		errno = e;
		return NULL;
	}
	return o;
}

FILE *output_stream(struct output *o)
{
	return o->stream;
}

int output_fd(const struct output *o)
{
	return o->fd;
}

size_t output_pending(const struct output *o)
{
	return o->len;
}

#define DIRECT_BUF (1 << 18)

struct direct {
	int fd;
	volatile sig_atomic_t *stop;
	struct output_reopen *r;	/* --output, or NULL; then fd is ours */
	bool line_start;		/* the last byte written ended a line */
	char buf[DIRECT_BUF];		/* the stream's: stdio frees none it is given */
};

static int direct_switch(struct direct *d)
{
	int fd = output_open_file(d->r->path);

	if (fd < 0) {
		d->r->failed = true;
		return -1;
	}
	close(d->fd);
	d->fd = fd;
	return 0;
}

/* A short count would make stdio write the rest: all, or an error.  (A
 * signal that comes between the check and write() still waits for the
 * reader: the window is the few instructions between them.) */
static ssize_t direct_write(void *cookie, const char *data, size_t n)
{
	struct direct *d = cookie;
	size_t done = 0;

	while (done < n) {
		size_t end = n;
		ssize_t w;

		if (*d->stop) {
			errno = EINTR;
			return -1;
		}
		/* SIGHUP: the old file gets the rest of its line, then the new
		 * file takes over */
		if (d->r && *d->r->hup) {
			const char *nl;

			if (d->line_start) {
				*d->r->hup = 0;
				if (direct_switch(d) < 0)
					return -1;
			} else if ((nl = memchr(data + done, '\n', n - done))) {
				end = (size_t)(nl - data) + 1;
			}
		}
		w = write(d->fd, data + done, end - done);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		done += (size_t)w;
		d->line_start = data[done - 1] == '\n';
	}
	return (ssize_t)n;
}

static int direct_close(void *cookie)
{
	struct direct *d = cookie;

	if (d->r)
		close(d->fd);
	free(d);
	return 0;
}

FILE *output_direct(int fd, volatile sig_atomic_t *stop, struct output_reopen *r)
{
	static const cookie_io_functions_t io = { .write = direct_write, .close = direct_close };
	struct direct *d = malloc(sizeof(*d));
	FILE *f;

	if (!d)
		return NULL;
	d->fd = fd;
	d->stop = stop;
	d->r = r;
	d->line_start = true;
	if (!(f = fopencookie(d, "w", io))) {
		free(d);
		return NULL;
	}
	/* big blocks: the table can be large (glibc ignores the size unless
	 * it is given the buffer too) */
	if (setvbuf(f, d->buf, _IOFBF, sizeof(d->buf))) {
		fclose(f);
		return NULL;
	}
	return f;
}

bool output_may_block(const struct output *o)
{
	return o->kind == OUT_BLOCKING;
}

/* Write up to want bytes: 0 when all went, 1 when the reader is busy,
 * -1 with errno. */
static int write_out(struct output *o, size_t want)
{
	while (want) {
		size_t n = want > SSIZE_MAX ? SSIZE_MAX : want;
		ssize_t w;

		if (o->kind == OUT_SOCKET)
			w = send(o->fd, o->buf + o->head, n, MSG_DONTWAIT | MSG_NOSIGNAL);
		else
			w = write(o->fd, o->buf + o->head, n);
		if (w < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
				return 1;
			o->err = errno;
			return -1;
		}
		o->head += (size_t)w;
		o->len -= (size_t)w;
		want -= (size_t)w;
		if (o->rotating)
			o->cut -= (size_t)w;
	}
	if (!o->len)
		o->head = 0;
	return 0;
}

/* The path anew, after the old file took its share. */
static int switch_file(struct output *o)
{
	int fd = output_open_file(o->r->path);

	if (fd < 0) {
		o->r->failed = true;
		return -1;
	}
	if (o->own_fd >= 0)
		close(o->own_fd);
	close(o->path_fd);
	o->fd = o->path_fd = fd;
	o->own_fd = -1;
	pick_way(o);
	return 0;
}

int output_flush(struct output *o)
{
	int rc;

	if (o->err) {
		errno = o->err;
		return -1;
	}
	if (fflush(o->stream) == EOF)
		return -1;
	/* a SIGHUP that comes while the old file still takes its share is
	 * seen after the switch: the path is opened once more */
	if (o->r && *o->r->hup && !o->rotating) {
		*o->r->hup = 0;
		o->rotating = true;
		o->cut = o->len;
	}
	if (o->rotating) {
		rc = write_out(o, o->cut);
		if (rc)
			return rc < 0 ? -1 : 0;
		if (switch_file(o) < 0) {
			o->err = errno;
			return -1;
		}
		o->rotating = false;
	}
	rc = write_out(o, o->len);
	return rc < 0 ? -1 : 0;
}

void output_close(struct output *o)
{
	if (!o)
		return;
	fclose(o->stream);
	if (o->own_fd >= 0)
		close(o->own_fd);
	if (o->path_fd >= 0)
		close(o->path_fd);
	free(o->buf);
	free(o);
}
