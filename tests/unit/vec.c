/*
 * vec.c - vec_room: room as it is, doubling from the first size, enough for
 * a bigger need, and a failure that leaves the array the caller's.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "tap.h"
#include "vec.h"

int main(void)
{
	size_t cap = 0, n = 0;
	int *v = NULL, *w;
	int all = 1;

	for (int i = 0; i < 1000; i++) {
		w = vec_room(v, &cap, n + 1, sizeof(*v), 16);
		if (!w || cap < n + 1) {
			all = 0;
			break;
		}
		v = w;
		v[n++] = i;
	}
	ok(all && cap == 1024, "1,000 adds from nothing: capacity 16 doubled to %zu", cap);
	for (size_t i = 0; i < n; i++)
		all &= v[i] == (int)i;
	ok(all, "the elements survive every move");
	ok(vec_room(v, &cap, 1000, sizeof(*v), 16) == v && cap == 1024,
	   "with room the array stays where it is");
	w = vec_room(v, &cap, 5000, sizeof(*v), 16);
	ok(w && cap == 8192, "a bigger need doubles until it fits (%zu)", cap);
	v = w ? w : v;
	errno = 0;
	w = vec_room(v, &cap, SIZE_MAX / 2, sizeof(*v), 16);
	ok(!w && errno == ENOMEM && cap == 8192 && v[999] == 999,
	   "too big: NULL, ENOMEM, the array and its capacity unchanged");
	free(v);
	cap = 0;
	v = vec_room(NULL, &cap, 1, sizeof(*v), 0);
	ok(v && cap == 1, "a first size of 0 still makes room");
	free(v);
	return tap_done();
}
