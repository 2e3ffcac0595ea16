/* SPDX-License-Identifier: MIT */
/*
 * A SIGCHLD handler of the kind that steals children: it reaps everything
 * with waitpid(-1, WNOHANG) in a loop, as many programs do.  The tests
 * install it, make a child of their own exit so that it runs, and check
 * that it took that child and none of the library's.  For the parent only.
 */
#ifndef SELFTESTS_COMMON_SIGCHLD_REAPER_H
#define SELFTESTS_COMMON_SIGCHLD_REAPER_H

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* Children the handler reaped, and how often it ran. */
static volatile sig_atomic_t reaper_reaped, reaper_calls;

static void reaper_handler(int sig)
{
	int st, saved = errno;

	(void)sig;
	reaper_calls++;
	while (waitpid(-1, &st, WNOHANG) > 0)
		reaper_reaped++;
	errno = saved;
}

/* Install the handler (SA_RESTART) with its counters at 0. */
static inline int reaper_install(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = reaper_handler;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	reaper_reaped = reaper_calls = 0;
	return sigaction(SIGCHLD, &sa, NULL);
}

/*
 * Fork a child that exits at once and wait, in sigsuspend(), until the
 * handler has reaped something: 0, or -1 if fork() failed.
 */
static inline int reaper_run(void)
{
	sigset_t chld, old;
	pid_t other;

	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, &old);
	other = fork();
	if (other == 0)
		_exit(0);
	while (other > 0 && !reaper_reaped)
		sigsuspend(&old);
	sigprocmask(SIG_SETMASK, &old, NULL);
	return other > 0 ? 0 : -1;
}

#endif /* SELFTESTS_COMMON_SIGCHLD_REAPER_H */
