/*
 * refresh.c - see refresh.h.
 */
#include "refresh.h"

#include "clock.h"

#define COST_FACTOR 10

void refresh_init(struct refresh *r, unsigned int min_ms)
{
	r->min_ns = (uint64_t)min_ms * 1000000u;
	r->began_ns = 0;
	r->next_ns = 0;
}

uint64_t refresh_begin(struct refresh *r)
{
	r->began_ns = clock_mono_ns();
	return r->began_ns;
}

void refresh_done(struct refresh *r)
{
	uint64_t now = clock_mono_ns(), cost = now - r->began_ns;
	uint64_t wait = cost * COST_FACTOR > r->min_ns ? cost * COST_FACTOR : r->min_ns;

	r->next_ns = now + wait;
}

bool refresh_due(const struct refresh *r)
{
	return clock_mono_ns() >= r->next_ns;
}
