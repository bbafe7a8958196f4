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

enum out_kind { OUT_NONBLOCK, OUT_SOCKET, OUT_PLAIN, OUT_BLOCKING };

struct output {
	int fd;				/* what we write to */
	int own_fd;			/* our reopened descriptor, or -1 */
	enum out_kind kind;
	FILE *stream;
	char *buf;			/* unwritten bytes: buf[head, head + len) */
	size_t head, len, cap;
	int err;			/* errno of a failed write, sticky */
};

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
	snprintf(path, sizeof(path), "/proc/self/fd/%d", o->fd);
	o->own_fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (o->own_fd >= 0) {
		o->fd = o->own_fd;
		o->kind = OUT_NONBLOCK;
	} else if (errno != ENXIO) {
		o->kind = OUT_BLOCKING;
	}
}

struct output *output_open(int fd)
{
	static const cookie_io_functions_t io = { .write = cookie_write };
	struct output *o = calloc(1, sizeof(*o));

	if (!o)
		return NULL;
	o->fd = fd;
	o->own_fd = -1;
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
	char buf[DIRECT_BUF];		/* the stream's: stdio frees none it is given */
};

/* A short count would make stdio write the rest: all, or an error.  (A
 * signal that comes between the check and write() still waits for the
 * reader: the window is the few instructions between them.) */
static ssize_t direct_write(void *cookie, const char *data, size_t n)
{
	struct direct *d = cookie;
	size_t done = 0;

	while (done < n) {
		ssize_t w;

		if (*d->stop) {
			errno = EINTR;
			return -1;
		}
		w = write(d->fd, data + done, n - done);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		done += (size_t)w;
	}
	return (ssize_t)n;
}

static int direct_close(void *cookie)
{
	free(cookie);
	return 0;
}

FILE *output_direct(int fd, volatile sig_atomic_t *stop)
{
	static const cookie_io_functions_t io = { .write = direct_write, .close = direct_close };
	struct direct *d = malloc(sizeof(*d));
	FILE *f;

	if (!d)
		return NULL;
	d->fd = fd;
	d->stop = stop;
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

int output_flush(struct output *o)
{
	if (o->err) {
		errno = o->err;
		return -1;
	}
	if (fflush(o->stream) == EOF)
		return -1;
	while (o->len) {
		size_t n = o->len > SSIZE_MAX ? SSIZE_MAX : o->len;
		ssize_t w;

		if (o->kind == OUT_SOCKET)
			w = send(o->fd, o->buf + o->head, n, MSG_DONTWAIT | MSG_NOSIGNAL);
		else
			w = write(o->fd, o->buf + o->head, n);
		if (w < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
				return 0;
			o->err = errno;
			return -1;
		}
		o->head += (size_t)w;
		o->len -= (size_t)w;
	}
	o->head = 0;
	return 0;
}

void output_close(struct output *o)
{
	if (!o)
		return;
	fclose(o->stream);
	if (o->own_fd >= 0)
		close(o->own_fd);
	free(o->buf);
	free(o);
}
