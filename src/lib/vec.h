/*
 * vec.h - room in a growing array: the doubling that every module's vector
 * of entries (sockets, descriptors, services, addresses, flows) needs when
 * it takes one more.
 *
 * The array stays the caller's, allocated with malloc or realloc (or NULL
 * before the first element); vec_room() only reallocates it.
 */
#ifndef FLOWTOP_VEC_H
#define FLOWTOP_VEC_H

#include <stddef.h>

/* vec_room() when the array must grow. */
void *vec_grow_(void *v, size_t *cap, size_t n, size_t size, size_t first);

/* The array v, of *cap elements of size bytes, with room for n (>= 1):
 * v itself while it has room, else v moved to twice its capacity (first
 * elements when *cap is 0), or more if n needs it, and *cap updated.
 * Returns NULL with errno ENOMEM when it cannot grow; v is then unchanged
 * and still the caller's.  Inline while there is room: a dump adds every
 * socket and every descriptor through it. */
static inline void *vec_room(void *v, size_t *cap, size_t n, size_t size, size_t first)
{
	return n <= *cap ? v : vec_grow_(v, cap, n, size, first);
}

#endif
