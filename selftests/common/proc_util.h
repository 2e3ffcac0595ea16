/* SPDX-License-Identifier: MIT */
/*
 * Helpers every suite of selftests/ shares: this process's descriptors and
 * children, its pending SIGCHLD, bounded polls and waits, numbers from the
 * environment.  For the parent only: none of these may run in an afork
 * child (they use libc and errno).  Plain C, no harness: the fuzzers use
 * them too.
 */
#ifndef SELFTESTS_COMMON_PROC_UTIL_H
#define SELFTESTS_COMMON_PROC_UTIL_H

#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef __NR_pidfd_open
#define __NR_pidfd_open 434
#endif

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
	return n - 1;	/* the directory's own fd */
}

/*
 * Children of this process left unreaped: 0 if none, else the pid of a
 * zombie, or 1 when only running children are left (waitid() names no
 * pid then); -1 on an error.
 */
static inline int any_child_left(void)
{
	siginfo_t si;

	memset(&si, 0, sizeof(si));
	if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT | __WALL) < 0)
		return errno == ECHILD ? 0 : -1;
	return si.si_pid ? si.si_pid : 1;
}

/* Take one pending SIGCHLD (it must be blocked): 1 if there was one. */
static inline int sigchld_take(void)
{
	struct timespec zero = { 0, 0 };
	sigset_t s;

	sigemptyset(&s);
	sigaddset(&s, SIGCHLD);
	return sigtimedwait(&s, NULL, &zero) == SIGCHLD;
}

/* Drop any pending SIGCHLD (it must be blocked). */
static inline void drain_sigchld(void)
{
	while (sigchld_take())
		;
}

static inline int sigchld_pending(void)
{
	sigset_t p;

	sigpending(&p);
	return sigismember(&p, SIGCHLD);
}

/*
 * poll() one descriptor, restarted on EINTR: its revents, 0 on a
 * timeout, -1 on an error.
 */
static inline int poll_revents(int fd, short events, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = events };
	int r;

	do {
		r = poll(&p, 1, timeout_ms);
	} while (r < 0 && errno == EINTR);
	return r <= 0 ? r : p.revents;
}

/*
 * Wait at most @timeout_ms for our child @pid to exit, without reaping
 * it (its pidfd turns readable): 0 when it has exited, or is gone
 * already (pidfd_open fails with ESRCH: reaped by someone else); 1 when
 * it still runs; -1 when no pidfd could be had (errno says why).
 */
static inline int wait_exit_unreaped(pid_t pid, int timeout_ms)
{
	int fd = (int)syscall(__NR_pidfd_open, pid, 0), r;

	if (fd < 0)
		return errno == ESRCH ? 0 : -1;
	r = poll_revents(fd, POLLIN, timeout_ms);
	close(fd);
	return r > 0 ? 0 : r == 0 ? 1 : -1;
}

/* A number from the environment (any base strtoull reads), else @dflt. */
static inline uint64_t env_u64(const char *name, uint64_t dflt)
{
	const char *s = getenv(name);

	return s && *s ? strtoull(s, NULL, 0) : dflt;
}

#endif /* SELFTESTS_COMMON_PROC_UTIL_H */
