/* SPDX-License-Identifier: MIT */
/*
 * Small helpers for the libafork-uring tests (never called in a child).
 */
#ifndef URING_TEST_UTIL_H
#define URING_TEST_UTIL_H

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

/* Open file descriptors of this process. */
static inline int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1;	/* the directory's own */
}

/* 1 if this process has a child left (zombie or running), 0 if not. */
static inline int any_child_left(void)
{
	siginfo_t si;

	memset(&si, 0, sizeof(si));
	if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT | __WALL) < 0)
		return errno == ECHILD ? 0 : -1;
	return 1;
}

/* Drop any pending SIGCHLD (blocked by the caller). */
static inline void drain_sigchld(void)
{
	struct timespec zero = { 0, 0 };
	sigset_t s;

	sigemptyset(&s);
	sigaddset(&s, SIGCHLD);
	while (sigtimedwait(&s, NULL, &zero) == SIGCHLD)
		;
}

static inline int sigchld_pending(void)
{
	sigset_t p;

	sigpending(&p);
	return sigismember(&p, SIGCHLD);
}

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
