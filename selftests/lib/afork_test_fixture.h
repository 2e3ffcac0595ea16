/* SPDX-License-Identifier: MIT */
/*
 * What the afork_*_test programs of the library share: the per-backend
 * fixture (../common/backend_fixture.h, with a tmpdir and the backend's
 * name checked), the simplest child functions, and main().  Each program
 * tests one topic:
 *
 *   afork_test           the basics: the call, memory, exit status, fork
 *   afork_exec_test      exec from the child, its errors, the error step
 *   afork_release_test   the release: at exec, at exit, its fd and word
 *   afork_handle_test    handles: the pidfd, defaults, lent descriptors
 *   afork_signal_test    handlers, dispositions and masks in the child
 *   afork_flags_test     AFORK_NOSIGCHLD and AFORK_WAITPID per backend
 *   afork_pool_test      the stack pool: reuse, limits, leaks, the guard
 *   afork_badarg_test    bad arguments: the errno, and nothing leaked
 *
 * Every TEST_F runs once per backend (fixture variant).  Functions named
 * child_*() run in an afork child: they only use the afork_child_*()
 * helpers and memory the parent leaves alone.  Synchronisation is by
 * pipes, futex words and pidfds, never by sleeping.
 */
#ifndef AFORK_TEST_FIXTURE_H
#define AFORK_TEST_FIXTURE_H

#include <poll.h>
#include <sys/syscall.h>

#include "afork_test_util.h"
#include "kselftest_harness.h"
#include "../common/backend_fixture.h"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

AFORK_BACKEND_FIXTURE(backend, char tmp[PATH_MAX];);

FIXTURE_SETUP(backend)
{
	self->tmp[0] = 0;
	AFORK_BACKEND_SETUP();
	ASSERT_STREQ(variant->env, afork_backend_name(self->id));
}

FIXTURE_TEARDOWN(backend)
{
	if (self->tmp[0] && remove_tmpdir(self->tmp))
		TH_LOG("could not remove %s", self->tmp);
}

struct pipe_job {
	int rfd;		/* child reads one byte from here */
	int ret;		/* then returns this (or the byte if < 0) */
};

static int child_read_exit(void *p)
{
	struct pipe_job *j = p;
	unsigned char c = 0;

	if (afork_child_read(j->rfd, &c, 1) != 1)
		return 100;
	return j->ret >= 0 ? j->ret : c;
}

static int child_return(void *p)
{
	return (int)(long)p;
}

static int child_kill_self(void *p)
{
	afork_child_syscall(SYS_kill, afork_child_getpid(), (long)p, 0, 0, 0, 0);
	return 1;
}

struct exec_job {
	int go;			/* read one byte first, -1: don't */
	int stdin_fd;		/* dup2'ed to 0 if >= 0 */
	const char *path;	/* execve, or execvpe with search != NULL */
	const char *search;
	char *argv[6];
};

static int child_exec(struct afork_ctx *ctx, void *p)
{
	struct exec_job *j = p;
	static char *const envp[] = { NULL };
	unsigned char c;

	if (j->go >= 0 && afork_child_read(j->go, &c, 1) != 1)
		return 100;
	if (j->stdin_fd >= 0 && afork_child_dup2(j->stdin_fd, 0) < 0)
		return 101;
	if (j->search)
		afork_ctx_execvpe(ctx, j->path, j->argv, envp, j->search);
	else
		afork_ctx_execve(ctx, j->path, j->argv, envp);
	return 127;
}

static int poll_now(struct pollfd *pfd)
{
	pfd->revents = 0;
	return poll(pfd, 1, 0);
}

/*
 * Stacks of reaped children still mapped after afork_pool_trim(): none,
 * except on the vfork backend, where a plain afork() child reaped with
 * waitpid() gives its stack back only when its worker thread runs again
 * (at most one per thread that was waiting for it here).
 */
static int settled(int backend)
{
	return backend == AFORK_BACKEND_VFORK ? 8 : 0;
}

/* main(): the helper program when re-exec'd as one, else the harness. */
#define AFORK_TEST_MAIN							\
int main(int argc, char **argv)						\
{									\
	if (argc > 1 && !strcmp(argv[1], "--helper"))			\
		return run_helper(argc, argv);				\
	return test_harness_run(argc, argv);				\
}

#endif /* AFORK_TEST_FIXTURE_H */
