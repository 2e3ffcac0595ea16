/* SPDX-License-Identifier: MIT */
/*
 * afork_system(): system() on an afork child that only a wait naming it
 * can reap (AFORK_WAITPID | AFORK_NOSIGCHLD), so neither SIGCHLD SIG_IGN
 * nor a SIGCHLD handler calling waitpid(-1) elsewhere loses its status.
 *
 * Signals.  POSIX asks system() to ignore SIGINT and SIGQUIT and to block
 * SIGCHLD while it waits.  Ignoring is a process-wide change of
 * disposition: in a threaded program it takes ^C away from every other
 * thread for as long as any thread is in system().  afork_system() does it
 * for the calling thread only: it blocks SIGINT, SIGQUIT and SIGCHLD in
 * its own signal mask and, before restoring the mask, discards the SIGINT
 * and SIGQUIT that became pending meanwhile (those it blocked itself, and
 * not pending already on entry), unless another thread leaves them
 * unblocked: such a thread is the one the kernel gives a process-directed
 * signal to, and until it runs the signal sits in the process's pending
 * set, where draining would steal it (then only those sent to the
 * calling thread itself are discarded).  A single-threaded program sees
 * exactly POSIX's behaviour; in a threaded one, another thread that does
 * not block SIGINT still gets it, as if system() were not running.  The child gets
 * the caller's mask and dispositions from before the call (caught
 * handlers reset to default by exec, ignored signals stay ignored), as
 * under POSIX.
 *
 * The preload library's system() asks for process_wide (struct shell_req
 * in spawn_api.h): glibc's behaviour, SIGINT and SIGQUIT ignored process-wide while any thread is
 * inside (a count under a lock), and in the child reset to default unless
 * they were ignored before.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "spawn_int.h"

extern char **environ;

static pthread_mutex_t sys_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned long sys_refs;
static struct sigaction saved_int, saved_quit;

/* Returns the sigdefault set for the child. */
static void ignore_process_wide(sigset_t *reset)
{
	struct sigaction ign;

	memset(&ign, 0, sizeof(ign));
	ign.sa_handler = SIG_IGN;
	sigemptyset(&ign.sa_mask);
	pthread_mutex_lock(&sys_lock);
	if (sys_refs++ == 0) {
		sigaction(SIGINT, &ign, &saved_int);
		sigaction(SIGQUIT, &ign, &saved_quit);
	}
	sigemptyset(reset);
	if (saved_int.sa_handler != SIG_IGN)
		sigaddset(reset, SIGINT);
	if (saved_quit.sa_handler != SIG_IGN)
		sigaddset(reset, SIGQUIT);
	pthread_mutex_unlock(&sys_lock);
}

static void restore_process_wide(void)
{
	pthread_mutex_lock(&sys_lock);
	if (--sys_refs == 0) {
		sigaction(SIGINT, &saved_int, NULL);
		sigaction(SIGQUIT, &saved_quit, NULL);
	}
	pthread_mutex_unlock(&sys_lock);
}

/* The mask of a "Name:\t<hex>" line of a /proc status file; 0 if none. */
static unsigned long long status_mask(const char *path, const char *name)
{
	unsigned long long m = 0;
	size_t n = strlen(name);
	char line[128];
	FILE *f;

	f = fopen(path, "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, name, n)) {
			m = strtoull(line + n, NULL, 16);
			break;
		}
	fclose(f);
	return m;
}

/*
 * 1 if a thread other than the caller has @sig unblocked.  A signal sent
 * to the process while the caller blocks it goes to such a thread, but
 * stays in the process's pending set until that thread runs: draining it
 * then would steal it from the thread POSIX gives it to.
 */
static int other_thread_takes(int sig)
{
	unsigned long long bit = 1ULL << (sig - 1);
	pid_t self = gettid();
	char path[300];
	struct dirent *e;
	int found = 0;
	DIR *d;

	d = opendir("/proc/self/task");
	if (!d)
		return 0;
	while (!found && (e = readdir(d))) {
		if (e->d_name[0] == '.' ||
		    strtol(e->d_name, NULL, 10) == (long)self)
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/status", e->d_name);
		found = !(status_mask(path, "SigBlk:") & bit);
	}
	closedir(d);
	return found;
}

/*
 * Discard @sig sent to this thread alone (pthread_kill, tgkill), never
 * one sent to the process: the kernel takes a thread's own pending
 * signal before the process's, so one sigtimedwait() takes exactly it.
 */
static void drain_own(int sig)
{
	struct timespec zero = { 0, 0 };
	sigset_t one;

	if (!(status_mask("/proc/thread-self/status", "SigPnd:") &
	      (1ULL << (sig - 1))))
		return;
	sigemptyset(&one);
	sigaddset(&one, sig);
	sigtimedwait(&one, NULL, &zero);
}

/* Discard pending signals of @set (which must be blocked). */
static void drain(const sigset_t *set)
{
	struct timespec zero = { 0, 0 };

	while (sigtimedwait(set, NULL, &zero) > 0)
		;
}

/*
 * Block SIGCHLD, and SIGINT/SIGQUIT as POSIX or glibc ask; *old: the mask
 * before, *reset: what the child resets to default, *drop: what to drain
 * afterwards (see the top of this file).
 */
static void signals_enter(const struct shell_req *rq, sigset_t *old,
			  sigset_t *reset, sigset_t *drop)
{
	sigset_t block, pending;

	sigemptyset(&block);
	sigemptyset(reset);
	sigemptyset(drop);
	sigaddset(&block, SIGCHLD);
	if (rq->process_wide) {
		ignore_process_wide(reset);
		pthread_sigmask(SIG_BLOCK, &block, old);
		return;
	}
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGQUIT);
	pthread_sigmask(SIG_BLOCK, &block, old);
	sigpending(&pending);
	if (!sigismember(old, SIGINT) && !sigismember(&pending, SIGINT))
		sigaddset(drop, SIGINT);
	if (!sigismember(old, SIGQUIT) && !sigismember(&pending, SIGQUIT))
		sigaddset(drop, SIGQUIT);
}

static void signals_leave(const struct shell_req *rq, const sigset_t *old,
			  sigset_t *drop)
{
	if (rq->process_wide) {
		restore_process_wide();
	} else {
		int saved = errno;

		static const int sigs[] = { SIGINT, SIGQUIT };
		unsigned int i;

		for (i = 0; i < 2; i++)
			if (sigismember(drop, sigs[i]) && other_thread_takes(sigs[i])) {
				sigdelset(drop, sigs[i]);
				drain_own(sigs[i]);
			}
		drain(drop);
		errno = saved;
	}
	pthread_sigmask(SIG_SETMASK, old, NULL);
}

/* Run the shell with @old as its mask and @reset to default; wait for it. */
static int run_shell(const struct shell_req *rq, const sigset_t *old,
		     const sigset_t *reset, int *st)
{
	char *argv[5] = { "sh", "-c", "--", NULL, NULL };
	struct spawn_attr attr;
	struct spawn_req req;
	struct afork_child *c;
	int r;
	pid_t w;

	argv[rq->no_dashdash ? 2 : 3] = (char *)rq->command;
	afork__spawnattr_default(&attr);
	attr.aflags = (int)(AFORK_WAITPID | AFORK_NOSIGCHLD);
	attr.options = 0;
	attr.flags = AFORK_SPAWN_SETSIGMASK | AFORK_SPAWN_SETSIGDEF;
	memcpy(&attr.sigmask, old, sizeof(attr.sigmask));
	memcpy(&attr.sigdefault, reset, sizeof(attr.sigdefault));
	memset(&req, 0, sizeof(req));
	req.path = "/bin/sh";
	req.attr = &attr;
	req.argv = argv;
	req.envp = environ;
	req.how = SPAWN_REQ_SHIELD;

	r = afork__spawn(&c, &req);
	if (r < 0) {
		/* glibc: as if the shell exited 127; POSIX: -1. */
		*st = rq->process_wide ? 127 << 8 : -1;
		return r;
	}
	while ((w = afork_wait(c, st, 0)) < 0 && errno == EINTR)
		;
	r = w < 0 ? -errno : 0;
	if (w < 0)
		*st = -1;
	/* The shield could not start the shell: no child, as for fork(). */
	if (!r && afork_error_step(c) == AFORK_SPAWN_STEP_START &&
	    afork_exec_errno(c) > 0) {
		r = -afork_exec_errno(c);
		*st = rq->process_wide ? 127 << 8 : -1;
	}
	afork_free(c);
	return r;
}

int afork__system(const struct shell_req *rq, int *status)
{
	sigset_t old, reset, drop;
	int r, st = 0;

	if (!rq->command) {
		/* A shell is available if it runs. */
		struct shell_req probe = *rq;

		probe.command = "exit 0";
		r = afork__system(&probe, &st);
		*status = !r && st == 0;
		/* No process could be made: say so (the preload falls back). */
		return r == -EAGAIN || r == -ENOMEM ? r : 0;
	}
	signals_enter(rq, &old, &reset, &drop);
	r = run_shell(rq, &old, &reset, &st);
	signals_leave(rq, &old, &drop);
	*status = st;
	return r;
}

AFORK_API int afork_system(const char *command)
{
	struct shell_req req = { .command = command };
	int st, r = afork__system(&req, &st);

	if (r < 0)
		errno = -r;
	return st;
}
