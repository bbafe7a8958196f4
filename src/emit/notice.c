/*
 * notice.c - notices on stderr, unless --quiet (see notice.h).
 */
#include "notice.h"

#include <stdarg.h>
#include <stdio.h>

static bool quiet;

void notice_set_quiet(bool q)
{
	quiet = q;
}

void notice(const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	if (quiet)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* one write a line (stderr is unbuffered), so that other writers to
	 * the same stderr do not cut into it */
	fprintf(stderr, "flowtop-emit: %s\n", line);
}
