/*
 * host.h - host.name and host.id, which tell one machine's records from
 * another's in a fleet's pipeline.  struct host is a plain value the caller
 * owns (it holds both strings); host_init() fills it once per run.
 */
#ifndef FLOWTOP_HOST_H
#define FLOWTOP_HOST_H

#include <limits.h>

#ifndef HOST_NAME_MAX
#define HOST_NAME_MAX 64
#endif

struct host {
	char name[HOST_NAME_MAX + 1];	/* "" when unknown */
	char id[33];			/* "" when unknown */
};

/* Fill h: the name from gethostname(), lowercased (ECS recommends the
 * lowercase name, and a fleet's names then compare alike); the id from the
 * machine-id file (NULL: /etc/machine-id), 32 hexadecimal digits, left
 * empty when the file is unreadable or holds anything else.  Returns 0, or
 * -1 with errno set when neither is known. */
int host_init(struct host *h, const char *machine_id_path);

#endif
