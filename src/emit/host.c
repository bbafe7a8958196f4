/*
 * host.c - the machine's name and id (see host.h).
 */
#include "host.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* machine-id(5): 32 lowercase hex digits and a newline.  Anything else
 * (an empty file at first boot, "uninitialized") is no id at all. */
static void read_machine_id(struct host *h, const char *path)
{
	char line[64];
	size_t n;
	FILE *f = fopen(path, "re");

	h->id[0] = '\0';
	if (!f)
		return;
	if (!fgets(line, sizeof(line), f)) {
		fclose(f);
		return;
	}
	fclose(f);
	n = strcspn(line, "\n");
	if (n != sizeof(h->id) - 1 || (line[n] != '\n' && line[n] != '\0'))
		return;
	for (size_t i = 0; i < n; i++)
		if (!isxdigit((unsigned char)line[i]))
			return;
	for (size_t i = 0; i < n; i++)
		h->id[i] = (char)tolower((unsigned char)line[i]);
	h->id[n] = '\0';
}

/* Hostnames are ASCII letters, digits, '-' and '.' (and '_', seen in the
 * wild); anything else, which root could set, keeps the name out of the
 * record rather than write control characters into it. */
static void read_name(struct host *h)
{
	h->name[0] = '\0';
	if (gethostname(h->name, sizeof(h->name)) < 0) {
		h->name[0] = '\0';
		return;
	}
	h->name[sizeof(h->name) - 1] = '\0';
	for (char *p = h->name; *p; p++) {
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '.' && *p != '_') {
			h->name[0] = '\0';
			return;
		}
		*p = (char)tolower((unsigned char)*p);
	}
}

int host_init(struct host *h, const char *machine_id_path)
{
	read_name(h);
	read_machine_id(h, machine_id_path ? machine_id_path : "/etc/machine-id");
	if (!h->name[0] && !h->id[0]) {
		errno = ENOENT;
		return -1;
	}
	return 0;
}
