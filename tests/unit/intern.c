/*
 * intern.c - the string interner: one copy per text, pointers that stay
 * put while it grows, the byte bound, and commit/rollback.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "intern.h"
#include "tap.h"

int main(void)
{
	struct intern *in = intern_new(0);
	const char *a, *b, *c, *keep[3000];
	char buf[32], big[70000];
	size_t n, bytes;
	bool same = true;

	a = intern_str(in, "example.org", 11);
	b = intern_str(in, "example.org!", 11);
	is_str(a, "example.org", "a string is stored NUL-terminated");
	ok(a == b, "the same text gives the same pointer");
	c = intern_str(in, "example.org", 7);
	ok(c != a && !strcmp(c, "example"), "a prefix is a different string");
	ok(intern_str(in, "ab\0cd", 5) == intern_str(in, "ab", 2), "cut at a NUL");
	ok(*intern_str(in, "", 0) == '\0', "the empty string is a string");
	for (int i = 0; i < 3000; i++) {
		snprintf(buf, sizeof(buf), "name-%d", i);
		keep[i] = intern_str(in, buf, strlen(buf));
	}
	for (int i = 0; i < 3000; i++) {
		snprintf(buf, sizeof(buf), "name-%d", i);
		same &= intern_str(in, buf, strlen(buf)) == keep[i] && !strcmp(keep[i], buf);
	}
	ok(same && intern_str(in, "example.org", 11) == a,
	   "3000 strings later every pointer still holds its text and is found again");
	n = intern_count(in);
	ok(n == 3004, "count %zu", n);

	/* rollback forgets what came after the commit, and only that */
	intern_commit(in);
	bytes = intern_bytes(in);
	c = intern_str(in, "in-the-commit-chunk", 19);
	memset(big, 'x', sizeof(big));
	ok(intern_str(in, big, sizeof(big)) != NULL, "a string bigger than a chunk is stored");
	b = intern_str(in, "after-commit", 12);
	for (int i = 0; i < 20; i++) {
		snprintf(buf, sizeof(buf), "late-%d", i);
		intern_str(in, buf, strlen(buf));
	}
	ok(intern_count(in) == n + 23, "23 more strings");
	intern_rollback(in);
	ok(intern_count(in) == n && intern_bytes(in) == bytes,
	   "rollback: back to %zu strings, %zu bytes (was %zu)", intern_count(in),
	   intern_bytes(in), bytes);
	ok(intern_str(in, "name-7", 6) == keep[7], "committed strings survive a rollback");
	ok(intern_count(in) == n, "a string rolled back in the commit point's own chunk is gone too");
	c = intern_str(in, "after-commit", 12);
	ok(c && !strcmp(c, "after-commit") && intern_count(in) == n + 1,
	   "a rolled-back string is stored anew");
	intern_free(in);

	/* the bound */
	in = intern_new(100);
	for (n = 0; n < 20 && intern_str(in, buf, (size_t)snprintf(buf, sizeof(buf), "bound-%zu", n)); n++)
		;
	ok(n == 12 && errno == ENOSPC, "at most 100 bytes: 12 strings of 8, then ENOSPC (%zu)", n);
	ok(intern_str(in, "bound-3", 7) != NULL, "a stored string is still found at the bound");
	intern_free(in);
	return tap_done();
}
