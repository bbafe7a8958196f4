/*
 * enrich.c - placeholder until the enrichers land (issue 3): it adds nothing.
 */
#include "enrich.h"

#include <stdlib.h>

struct enrich {
	struct enrich_opts o;
};

struct enrich *enrich_new(const struct enrich_opts *o)
{
	struct enrich *e = calloc(1, sizeof(*e));

	if (e)
		e->o = *o;
	return e;
}

void enrich_free(struct enrich *e)
{
	free(e);
}

void enrich_scan_begin(struct enrich *e)
{
	(void)e;
}

void enrich_flow(struct enrich *e, struct flow *f)
{
	(void)e, (void)f;
}

int enrich_fd(const struct enrich *e)
{
	(void)e;
	return -1;
}

int enrich_drain(struct enrich *e)
{
	(void)e;
	return 0;
}

void enrich_wait(struct enrich *e, unsigned int timeout_ms)
{
	(void)e, (void)timeout_ms;
}
