/* SPDX-License-Identifier: MIT */
/*
 * Helpers shared by the libafork tests: mappings, the helper program
 * (this binary re-exec'd with --helper), a temporary directory; fds,
 * children and SIGCHLD in ../common/proc_util.h.
 * None of these may be called in an afork child.
 */
#ifndef AFORK_TEST_UTIL_H
#define AFORK_TEST_UTIL_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <afork.h>

#include "../common/proc_util.h"

/* Lines of /proc/self/maps, and anonymous rw mappings of exactly @size. */
static inline int count_maps(size_t size, int *sized)
{
	FILE *f = fopen("/proc/self/maps", "re");
	char line[512];
	int n = 0;

	if (sized)
		*sized = 0;
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;
		char perms[8];
		int path_at = 0;

		n++;
		if (sized && sscanf(line, "%lx-%lx %7s %*s %*s %*s %n",
				    &lo, &hi, perms, &path_at) == 3 &&
		    hi - lo == size && !strcmp(perms, "rw-p") &&
		    (line[path_at] == '\n' || line[path_at] == 0))
			(*sized)++;
	}
	fclose(f);
	return n;
}

/* The mapping the pool makes for a stack of @stack bytes, minus its guard. */
static inline size_t pool_rw_size(size_t stack)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);

	return stack + page;	/* the stack and the record's page */
}

/* This program's path, for exec'ing it as a helper. */
static char self_exe[PATH_MAX];

static inline const char *helper_path(void)
{
	if (!self_exe[0]) {
		ssize_t n = readlink("/proc/self/exe", self_exe,
				     sizeof(self_exe) - 1);

		if (n < 0)
			return NULL;
		self_exe[n] = 0;
	}
	return self_exe;
}

/* A fresh temporary directory (under $TMPDIR, /tmp or .). */
static inline int make_tmpdir(char *buf, size_t len)
{
	const char *bases[] = { getenv("TMPDIR"), "/tmp", "." };
	unsigned int i;

	for (i = 0; i < 3; i++) {
		if (!bases[i])
			continue;
		snprintf(buf, len, "%s/afork-test-XXXXXX", bases[i]);
		if (mkdtemp(buf))
			return 0;
	}
	return -1;
}

/* Empty the directory open at @fd (closed here), recursively. */
static inline void empty_dir(int fd)
{
	DIR *d = fdopendir(fd);
	struct dirent *e;

	if (!d) {
		close(fd);
		return;
	}
	while ((e = readdir(d))) {
		int sub;

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (unlinkat(dirfd(d), e->d_name, 0) == 0)
			continue;
		sub = openat(dirfd(d), e->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (sub >= 0) {
			empty_dir(sub);
			unlinkat(dirfd(d), e->d_name, AT_REMOVEDIR);
		}
	}
	closedir(d);
}

/* Remove a directory made by make_tmpdir() and everything in it. */
static inline int remove_tmpdir(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	empty_dir(fd);
	return rmdir(path);
}

static inline int write_file(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, text, strlen(text));
	close(fd);
	if (chmod(path, mode))
		return -1;
	return n == (ssize_t)strlen(text) ? 0 : -1;
}

/*
 * The helper program: this test binary run as
 *   prog --helper exit N      exits with N
 *   prog --helper cat         copies stdin to stdout until EOF, exits 0
 *   prog --helper rtcount     prints "PID PPID", counts SIGRTMIN+1 until
 *                             SIGRTMIN+2 comes, prints the count, exits 0
 */
static volatile sig_atomic_t helper_rt_count, helper_rt_done;

static void helper_rt(int sig)
{
	if (sig == SIGRTMIN + 1)
		helper_rt_count++;
	else
		helper_rt_done = 1;
}

static inline int helper_rtcount(void)
{
	struct sigaction sa = { .sa_handler = helper_rt };
	sigset_t none, both;

	sigemptyset(&none);
	sigemptyset(&both);
	sigaddset(&both, SIGRTMIN + 1);
	sigaddset(&both, SIGRTMIN + 2);
	/* Queued, not merged, and the lower number delivered first. */
	sigprocmask(SIG_BLOCK, &both, NULL);
	if (sigaction(SIGRTMIN + 1, &sa, NULL) || sigaction(SIGRTMIN + 2, &sa, NULL))
		return 1;
	printf("%d %d\n", (int)getpid(), (int)getppid());
	fflush(stdout);
	while (!helper_rt_done)
		sigsuspend(&none);
	printf("%d\n", (int)helper_rt_count);
	return 0;
}

static inline int run_helper(int argc, char **argv)
{
	char buf[256];
	ssize_t n;

	if (argc >= 3 && !strcmp(argv[2], "rtcount"))
		return helper_rtcount();

	if (argc >= 4 && !strcmp(argv[2], "exit"))
		return atoi(argv[3]);
	if (argc >= 3 && !strcmp(argv[2], "cat")) {
		while ((n = read(0, buf, sizeof(buf))) > 0)
			if (write(1, buf, (size_t)n) != n)
				return 1;
		return n < 0 ? 2 : 0;
	}
	return 99;
}

#endif /* AFORK_TEST_UTIL_H */
