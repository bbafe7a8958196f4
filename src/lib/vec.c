/*
 * vec.c - see vec.h.
 */
#include "vec.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

void *vec_grow_(void *v, size_t *cap, size_t n, size_t size, size_t first)
{
	size_t c = *cap ? *cap : first ? first : 1;
	void *nv;

	while (c < n) {
		if (c > SIZE_MAX / 2) {
			errno = ENOMEM;
			return NULL;
		}
		c *= 2;
	}
	if (c > SIZE_MAX / size || !(nv = realloc(v, c * size))) {
		errno = ENOMEM;
		return NULL;
	}
	*cap = c;
	return nv;
}
