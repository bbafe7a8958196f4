/*
 * host.c - host.name and host.id: the name as gethostname() says, in
 * lowercase; the id only from a well-formed machine-id file.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "host.h"
#include "tap.h"

static char path[] = "/tmp/flowtop-machine-id.XXXXXX";

static void put(const char *text)
{
	FILE *f = fopen(path, "w");

	if (!f)
		exit(1);
	fputs(text, f);
	fclose(f);
}

int main(void)
{
	struct host h;
	char want[HOST_NAME_MAX + 1] = "";
	int fd = mkstemp(path);

	if (fd < 0)
		return 1;
	close(fd);
	gethostname(want, sizeof(want));
	for (char *p = want; *p; p++)
		*p = (char)tolower((unsigned char)*p);

	put("0123456789abcdef0123456789ABCDEF\n");
	ok(host_init(&h, path) == 0, "host_init");
	is_str(h.name, want, "host.name is the host's name, lowercase");
	is_str(h.id, "0123456789abcdef0123456789abcdef", "host.id from the file, lowercase");

	/* anything but 32 hex digits (and a newline) is no id */
	static const struct { const char *text, *id, *what; } cases[] = {
		{ "0123456789abcdef0123456789abcdef", "0123456789abcdef0123456789abcdef",
		  "no newline at the end: still an id" },
		{ "", "", "an empty file (first boot): no id" },
		{ "uninitialized\n", "", "'uninitialized': no id" },
		{ "0123456789abcdef0123456789abcdeg\n", "", "a non-hex digit: no id" },
		{ "0123456789abcdef0123456789abcdef0\n", "", "33 digits: no id" },
		{ "0123456789abcdef0123456789abcde\n", "", "31 digits: no id" },
		{ "0123456789abcdef0123456789abcdef extra\n", "", "trailing text: no id" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		put(cases[i].text);
		host_init(&h, path);
		is_str(h.id, cases[i].id, "%s", cases[i].what);
	}
	unlink(path);
	ok(host_init(&h, path) == 0 && !h.id[0], "no file: no id, the name still");
	return tap_done();
}
