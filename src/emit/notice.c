/*
 * notice.c - notices, errors and usage errors on stderr (see notice.h).
 */
#include "notice.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#define EXIT_USAGE 2

static bool quiet;

void notice_set_quiet(bool q)
{
	quiet = q;
}

static void vsay(const char *fmt, va_list ap, const char *tail)
{
	char line[1024];

	vsnprintf(line, sizeof(line), fmt, ap);
	/* one write a line (stderr is unbuffered), so that other writers to
	 * the same stderr, such as the user name thread, do not cut into it */
	fprintf(stderr, NOTICE_PROG ": %s\n%s", line, tail);
}

void notice(const char *fmt, ...)
{
	va_list ap;

	if (quiet)
		return;
	va_start(ap, fmt);
	vsay(fmt, ap, "");
	va_end(ap);
}

void notice_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsay(fmt, ap, "");
	va_end(ap);
}

void notice_usage(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsay(fmt, ap, "try '" NOTICE_PROG " --help'\n");
	va_end(ap);
	exit(EXIT_USAGE);
}

void notice_usage_hint(void)
{
	fputs("try '" NOTICE_PROG " --help'\n", stderr);
	exit(EXIT_USAGE);
}
