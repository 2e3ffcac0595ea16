/* SPDX-License-Identifier: MIT */
/*
 * Small helpers for the libafork-uring tests (never called in a child);
 * fds, children and SIGCHLD in ../common/proc_util.h.
 */
#ifndef URING_TEST_UTIL_H
#define URING_TEST_UTIL_H

#include <stdlib.h>

#include "../common/proc_util.h"

/* A positive number from the environment, else def. */
static inline unsigned int env_uint(const char *name, unsigned int def)
{
	const char *v = getenv(name);
	char *end;
	unsigned long n;

	if (!v || !*v)
		return def;
	n = strtoul(v, &end, 10);
	return *end || n == 0 || n > 1000000 ? def : (unsigned int)n;
}

#endif /* URING_TEST_UTIL_H */
