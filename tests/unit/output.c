/* --output's reopen on SIGHUP: whatever the moment, every line lands whole
 * in exactly one of the old and the new file, the old file's lines first. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "output.h"
#include "tap.h"

static char dir[] = "/tmp/flowtop-output-XXXXXX";
static char path[64], old[64];

static char *slurp(const char *p, size_t *len)
{
	FILE *f = fopen(p, "rb");
	char *buf = NULL;

	*len = 0;
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	*len = (size_t)ftell(f);
	rewind(f);
	buf = malloc(*len + 1);
	if (buf && fread(buf, 1, *len, f) != *len)
		*len = 0;
	fclose(f);
	return buf;
}

/* lines "n <n> xxx...\n" of varying length, numbered from first */
static size_t put_lines(FILE *s, unsigned int first, unsigned int n, char *all, size_t at)
{
	for (unsigned int i = first; i < first + n; i++) {
		char l[200];
		int k = snprintf(l, sizeof(l), "n %u %.*s\n", i, (int)(i % 150), "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");

		fwrite(l, 1, (size_t)k, s);
		memcpy(all + at, l, (size_t)k);
		at += (size_t)k;
	}
	return at;
}

/* old + new == all, each ends in a newline, the cut falls on a line end
 * (at want_old bytes, unless 0) */
static void check_split(const char *all, size_t n, size_t want_old, const char *what)
{
	size_t lo, ln;
	char *o = slurp(old, &lo), *w = slurp(path, &ln);

	ok(o && w && lo + ln == n && !memcmp(o, all, lo) && !memcmp(w, all + lo, ln),
	   "%s: the old file then the new one hold every byte once (%zu + %zu of %zu)",
	   what, lo, ln, n);
	ok(lo && ln && o[lo - 1] == '\n' && w[ln - 1] == '\n',
	   "%s: both files have records, and end with a whole line", what);
	if (want_old)
		ok(lo == want_old, "%s: the old file has what was buffered when the signal came", what);
	free(o);
	free(w);
}

static void test_direct(char *all)
{
	volatile sig_atomic_t stop = 0, hup = 0;
	struct output_reopen r = { path, &hup, false };
	int fd = output_open_file(path);
	FILE *s = output_direct(fd, &stop, &r);
	size_t n;
	struct stat st;

	ok(fd >= 0 && s, "--once: a stream on the file");
	/* past the stream's 256 KiB buffer: stdio writes a block that ends
	 * inside a line, then the signal comes */
	n = put_lines(s, 0, 4000, all, 0);
	rename(path, old);
	hup = 1;
	n = put_lines(s, 4000, 4000, all, n);
	ok(fclose(s) == 0 && !r.failed, "--once: written and closed");
	ok(hup == 0, "--once: the signal was acted on");
	check_split(all, n, 0, "--once");
	ok(stat(path, &st) == 0 && (st.st_mode & 0777) == (0640 & ~022u), "the new file is 0640");
	unlink(path);
	unlink(old);
}

static void test_follow(char *all)
{
	volatile sig_atomic_t hup = 0;
	struct output_reopen r = { path, &hup, false };
	int fd = output_open_file(path);
	struct output *o = output_open(fd, &r);
	size_t n, cut;

	ok(fd >= 0 && o, "follow: an output on the file");
	n = put_lines(output_stream(o), 0, 3000, all, 0);
	ok(output_flush(o) == 0 && output_pending(o) == 0, "follow: flushed");
	n = cut = put_lines(output_stream(o), 3000, 100, all, n);
	/* what was buffered when the signal came goes to the old file */
	rename(path, old);
	hup = 1;
	ok(output_flush(o) == 0 && !r.failed && hup == 0, "follow: flushed after the signal");
	n = put_lines(output_stream(o), 3100, 3000, all, n);
	ok(output_flush(o) == 0, "follow: flushed into the new file");
	check_split(all, n, cut, "follow");
	output_close(o);
	unlink(path);
	unlink(old);

	/* a path that cannot be opened again: an error, said */
	hup = 0;
	fd = output_open_file(path);
	o = output_open(fd, &r);
	put_lines(output_stream(o), 0, 10, all, 0);
	unlink(path);
	rmdir(dir);
	hup = 1;
	ok(output_flush(o) < 0 && r.failed, "follow: the path gone with its directory: an error");
	output_close(o);
}

int main(void)
{
	char *all = malloc(8000 * 200);

	umask(022);
	if (!all || !mkdtemp(dir))
		return 1;
	snprintf(path, sizeof(path), "%s/f", dir);
	snprintf(old, sizeof(old), "%s/f.1", dir);
	test_direct(all);
	test_follow(all);
	rmdir(dir);
	free(all);
	return tap_done();
}
