// SPDX-License-Identifier: MIT
/*
 * libafork-uring: release and exit of many afork children through one
 * io_uring, on each path the ring offers (variants of the "ring" fixture;
 * a path the kernel lacks is skipped).
 *
 * AFORK_URING_TEST_CHILDREN (default 2000) and AFORK_URING_TEST_INFLIGHT
 * (default 64) size the "many" test with the paths picked automatically;
 * AFORK_URING_TEST_CHILDREN_FORCED (default 500) its variants with forced
 * paths.  The TCG guest with KASAN runs some 25 children/s: 2,000 take
 * 80-90 s there, 500 about 20 s.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <afork_uring.h>
#include <kselftest_harness.h>

#include "uring_test_util.h"

/* ------------------------------------------------------------------ */
/* The children                                                        */
/* ------------------------------------------------------------------ */

/* What child i does, by i % 16. */
enum kind { K_EXIT, K_KILL, K_EXEC_TRUE, K_EXEC_FALSE, K_EXEC_ENOENT };

static char *true_argv[] = { "true", NULL };
static char *false_argv[] = { "false", NULL };
static char *no_env[] = { NULL };

static enum kind kind_of(unsigned int i)
{
	switch (i % 16) {
	case 0:
		return K_EXEC_TRUE;
	case 8:
		return K_EXEC_FALSE;
	case 5:
		return K_KILL;
	case 11:
		return K_EXEC_ENOENT;
	}
	return K_EXIT;
}

static int expected_status(unsigned int i)
{
	switch (kind_of(i)) {
	case K_EXIT:
		return (int)(i % 251) << 8;
	case K_KILL:
		return SIGKILL;
	case K_EXEC_TRUE:
		return 0;
	case K_EXEC_FALSE:
		return 1 << 8;
	case K_EXEC_ENOENT:
		return 127 << 8;
	}
	return -1;
}

static int expected_errno(unsigned int i)
{
	return kind_of(i) == K_EXEC_ENOENT ? ENOENT : 0;
}

/* Runs in the child: only afork_child_*() and afork_ctx_*(). */
static int child_main(struct afork_ctx *ctx, void *arg)
{
	unsigned int i = (unsigned int)(uintptr_t)arg;

	switch (kind_of(i)) {
	case K_EXIT:
		return (int)(i % 251);
	case K_KILL:
		afork_child_syscall(SYS_kill, afork_child_getpid(), SIGKILL,
				    0, 0, 0, 0);
		return 99;
	case K_EXEC_TRUE:
		afork_ctx_execve(ctx, "/bin/true", true_argv, no_env);
		return 126;
	case K_EXEC_FALSE:
		afork_ctx_execve(ctx, "/bin/false", false_argv, no_env);
		return 126;
	case K_EXEC_ENOENT:
		afork_ctx_execve(ctx, "/nonexistent/true", true_argv, no_env);
		return 127;
	}
	return 98;
}

static int exit_main(struct afork_ctx *ctx, void *arg)
{
	(void)ctx;
	return (int)((uintptr_t)arg % 251);
}

/* Children among the first n whose exec succeeds. */
static unsigned int execs_ok(unsigned int n)
{
	unsigned int i, e = 0;

	for (i = 0; i < n; i++)
		e += kind_of(i) == K_EXEC_TRUE || kind_of(i) == K_EXEC_FALSE;
	return e;
}

/* ------------------------------------------------------------------ */
/* Spawning and reaping through the ring                               */
/* ------------------------------------------------------------------ */

struct tally {
	unsigned int n;
	unsigned int *released, *exited;	/* events per child */
	int *status, *exec_errno, *error;
	int only_exit;				/* children only exit(i % 251) */
	unsigned int order_errors;		/* EXITED before RELEASED */
	unsigned int max_inflight;
	unsigned long sigchld;			/* SIGCHLD read from the signalfd */
};

static int tally_init(struct tally *t, unsigned int n)
{
	memset(t, 0, sizeof(*t));
	t->n = n;
	t->released = calloc(n, sizeof(unsigned int));
	t->exited = calloc(n, sizeof(unsigned int));
	t->status = calloc(n, sizeof(int));
	t->exec_errno = calloc(n, sizeof(int));
	t->error = calloc(n, sizeof(int));
	return t->released && t->exited && t->status && t->exec_errno &&
	       t->error ? 0 : -1;
}

static void tally_free(struct tally *t)
{
	free(t->released);
	free(t->exited);
	free(t->status);
	free(t->exec_errno);
	free(t->error);
}

static void count_sigchld(int sfd, struct tally *t)
{
	struct signalfd_siginfo si;

	while (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
		t->sigchld++;
}

/* Process the ring's completions; returns how many children finished. */
static unsigned int reap_cqes(struct io_uring *ring, struct afork_uring *u,
			      struct tally *t)
{
	struct io_uring_cqe *cqe;
	unsigned int head, seen = 0, finished = 0;

	io_uring_for_each_cqe(ring, head, cqe) {
		struct afork_uring_event ev;
		unsigned int i;

		seen++;
		if (!afork_uring_owns(cqe) ||
		    afork_uring_handle(u, cqe, &ev) <= 0)
			continue;
		i = (unsigned int)(uintptr_t)ev.data;
		if (ev.events & AFORK_URING_RELEASED) {
			t->released[i]++;
			t->exec_errno[i] = ev.exec_errno;
		}
		if (ev.events & AFORK_URING_EXITED) {
			if (!t->released[i])
				t->order_errors++;
			t->exited[i]++;
			t->status[i] = ev.status;
			t->error[i] = ev.error;
			afork_free(ev.child);
			finished++;
		}
	}
	io_uring_cq_advance(ring, seen);
	return finished;
}

/*
 * Start n children of child_main, at most k at a time, and reap them all
 * through the ring.  0, or -errno of what failed.
 */
static int run_children(struct io_uring *ring, struct afork_uring *u,
			int sfd, unsigned int n, unsigned int k, int flags,
			struct tally *t)
{
	unsigned int started = 0, done = 0, inflight = 0;
	struct afork_opts opts;
	int r;

	afork_opts_init(&opts);
	opts.flags = flags;
	afork_uring_prep_opts(u, &opts);
	while (done < n) {
		unsigned int f;

		while (started < n && inflight < k) {
			struct afork_child *c;

			if (afork_start_ctx(&c, &opts,
					    t->only_exit ? exit_main : child_main,
					    (void *)(uintptr_t)started) < 0)
				return -errno;
			if (afork_uring_watch(u, c, (void *)(uintptr_t)started) < 0)
				return -errno;
			started++;
			inflight++;
			if (inflight > t->max_inflight)
				t->max_inflight = inflight;
		}
		r = io_uring_submit_and_wait(ring, 1);
		if (r < 0 && r != -EINTR)
			return r;
		f = reap_cqes(ring, u, t);
		inflight -= f;
		done += f;
		count_sigchld(sfd, t);
	}
	count_sigchld(sfd, t);
	return 0;
}

/* Children whose events or status differ from what child_main does. */
static unsigned int check_tally(struct __test_metadata *_metadata,
				const struct tally *t)
{
	unsigned int i, bad = 0;

	for (i = 0; i < t->n; i++) {
		if (t->released[i] == 1 && t->exited[i] == 1 &&
		    t->status[i] == expected_status(i) &&
		    t->exec_errno[i] == expected_errno(i) && !t->error[i])
			continue;
		if (bad++ < 5)
			TH_LOG("child %u: released %u, exited %u, status 0x%x (want 0x%x), exec_errno %d (want %d), error %d",
			       i, t->released[i], t->exited[i], t->status[i],
			       expected_status(i), t->exec_errno[i],
			       expected_errno(i), t->error[i]);
	}
	return bad;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ------------------------------------------------------------------ */
/* The fixture: a ring, the helpers, SIGCHLD blocked and counted        */
/* ------------------------------------------------------------------ */

FIXTURE(ring) {
	struct io_uring ring;
	struct afork_uring *u;
	int sfd;
	int fds_before;
	int backend;
};

FIXTURE_VARIANT(ring) {
	unsigned int flags;
};

/* The paths afork_uring_new() picks. */
FIXTURE_VARIANT_ADD(ring, auto) {
	.flags = 0,
};

FIXTURE_VARIANT_ADD(ring, futex_waitid) {
	.flags = AFORK_URING_RELEASE_FUTEX | AFORK_URING_EXIT_WAITID,
};

FIXTURE_VARIANT_ADD(ring, futex_pidfd_poll) {
	.flags = AFORK_URING_RELEASE_FUTEX | AFORK_URING_EXIT_POLL,
};

FIXTURE_VARIANT_ADD(ring, poll_waitid) {
	.flags = AFORK_URING_RELEASE_POLL | AFORK_URING_EXIT_WAITID,
};

/* The degraded paths: POLL_ADD only, as before Linux 6.7. */
FIXTURE_VARIANT_ADD(ring, degraded) {
	.flags = AFORK_URING_DEGRADED,
};

FIXTURE_SETUP(ring)
{
	unsigned int paths;
	sigset_t set;
	int r;

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	ASSERT_EQ(0, sigprocmask(SIG_BLOCK, &set, NULL));
	drain_sigchld();
	self->backend = afork_backend();
	ASSERT_GT(self->backend, 0);
	self->fds_before = count_fds();
	self->sfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	ASSERT_GE(self->sfd, 0);
	r = io_uring_queue_init(256, &self->ring, 0);
	if (r == -ENOSYS || r == -EPERM)
		SKIP(return, "io_uring not available: %s", strerror(-r));
	ASSERT_EQ(0, r);
	self->u = afork_uring_new(&self->ring, variant->flags);
	if (!self->u && errno == EOPNOTSUPP)
		SKIP(return, "this kernel's io_uring lacks a forced path");
	ASSERT_NE(NULL, self->u);
	paths = afork_uring_paths(self->u);
	TH_LOG("backend %s, release %s, exit %s",
	       afork_backend_name(self->backend),
	       afork_uring_path_name(paths & (AFORK_URING_RELEASE_FUTEX |
					      AFORK_URING_RELEASE_POLL)),
	       afork_uring_path_name(paths & (AFORK_URING_EXIT_WAITID |
					      AFORK_URING_EXIT_POLL)));
	if (variant->flags)
		ASSERT_EQ(variant->flags, paths);
}

FIXTURE_TEARDOWN(ring)
{
	if (self->u) {
		EXPECT_EQ(0, afork_uring_watched(self->u));
		afork_uring_free(self->u);
		io_uring_queue_exit(&self->ring);
	}
	close(self->sfd);
	/* No descriptor and no child (zombie or not) left behind. */
	EXPECT_EQ(self->fds_before, count_fds());
	EXPECT_EQ(0, any_child_left());
}

/*
 * 2,000 children (500 on forced paths), 64 in flight: each released and
 * reaped exactly once,
 * RELEASED before EXITED, statuses and exec errors right, and no SIGCHLD
 * on the syscall backend (AFORK_NOSIGCHLD); on the clone backends only
 * the children that exec'd may signal.
 */
TEST_F_TIMEOUT(ring, many, 900)
{
	unsigned int n = env_uint("AFORK_URING_TEST_CHILDREN", 2000);
	unsigned int k = env_uint("AFORK_URING_TEST_INFLIGHT", 64);
	struct tally t;
	double t0, dt;

	if (variant->flags)
		n = env_uint("AFORK_URING_TEST_CHILDREN_FORCED", 500);

	ASSERT_EQ(0, tally_init(&t, n));
	t0 = now();
	ASSERT_EQ(0, run_children(&self->ring, self->u, self->sfd, n, k,
				  AFORK_NOSIGCHLD | AFORK_WAITPID, &t));
	dt = now() - t0;
	TH_LOG("%u children, %u in flight: %.2f s, %.0f children/s, SIGCHLD %lu",
	       n, k, dt, dt > 0 ? n / dt : 0.0, t.sigchld);
	EXPECT_EQ(0, check_tally(_metadata, &t));
	EXPECT_EQ(0, t.order_errors);
	EXPECT_EQ(k < n ? k : n, t.max_inflight);
	if (self->backend == AFORK_BACKEND_SYSCALL) {
		EXPECT_EQ(0, t.sigchld);
		EXPECT_EQ(0, sigchld_pending());
	} else if (self->backend != AFORK_BACKEND_VFORK) {
		/*
		 * Linux resets exit_signal to SIGCHLD at every successful
		 * exec (fs/exec.c, de_thread()): on the clone backends the
		 * children that exec'd signal, the others do not (see
		 * no_sigchld_without_exec).  Signals merge: at most one each.
		 */
		EXPECT_GE(execs_ok(n), t.sigchld);
	}
	tally_free(&t);
}

/*
 * Children that exit without exec'ing send no SIGCHLD with
 * AFORK_NOSIGCHLD, on the syscall and the clone backends alike.
 */
TEST_F(ring, no_sigchld_without_exec)
{
	struct tally t;
	unsigned int i, n = 100;

	ASSERT_EQ(0, tally_init(&t, n));
	t.only_exit = 1;
	ASSERT_EQ(0, run_children(&self->ring, self->u, self->sfd, n, 32,
				  AFORK_NOSIGCHLD | AFORK_WAITPID, &t));
	for (i = 0; i < n; i++) {
		EXPECT_EQ(1, t.exited[i]);
		EXPECT_EQ((int)(i % 251) << 8, t.status[i]);
	}
	if (self->backend != AFORK_BACKEND_VFORK) {
		EXPECT_EQ(0, t.sigchld);
		EXPECT_EQ(0, sigchld_pending());
	}
	tally_free(&t);
}

/* Control: children without AFORK_NOSIGCHLD do signal, and are reaped too. */
TEST_F(ring, sigchld_control)
{
	struct tally t;

	ASSERT_EQ(0, tally_init(&t, 32));
	ASSERT_EQ(0, run_children(&self->ring, self->u, self->sfd, 32, 8, 0, &t));
	EXPECT_EQ(0, check_tally(_metadata, &t));
	EXPECT_GE(t.sigchld, 1);
	TH_LOG("32 children without AFORK_NOSIGCHLD: %lu SIGCHLD read (they merge)",
	       t.sigchld);
	tally_free(&t);
}

struct exec_case {
	const char *path;
	int err;
};

static int exec_main(struct afork_ctx *ctx, void *arg)
{
	const struct exec_case *e = arg;

	afork_ctx_execve(ctx, e->path, true_argv, no_env);
	return 127;
}

/* An exec failure arrives through the ring with its errno, then status 127. */
TEST_F(ring, exec_errno)
{
	static const struct exec_case cases[] = {
		{ "/nonexistent/true", ENOENT },
		{ "/", EACCES },
		{ "/dev/null/true", ENOTDIR },
		{ "/bin/true", 0 },
	};
	unsigned int i, ncases = sizeof(cases) / sizeof(cases[0]);
	int released[4] = { 0 }, exited[4] = { 0 }, exec_errno[4], status[4];
	struct afork_opts opts;
	unsigned int done = 0;

	afork_opts_init(&opts);
	opts.flags = AFORK_NOSIGCHLD | AFORK_WAITPID;
	afork_uring_prep_opts(self->u, &opts);
	for (i = 0; i < ncases; i++) {
		struct afork_child *c;

		ASSERT_EQ(0, afork_start_ctx(&c, &opts, exec_main,
					     (void *)&cases[i]));
		ASSERT_EQ(0, afork_uring_watch(self->u, c, (void *)(uintptr_t)i));
	}
	while (done < ncases) {
		struct io_uring_cqe *cqe;
		struct afork_uring_event ev;

		ASSERT_LE(0, io_uring_submit_and_wait(&self->ring, 1));
		ASSERT_EQ(0, io_uring_peek_cqe(&self->ring, &cqe));
		ASSERT_TRUE(afork_uring_owns(cqe));
		if (afork_uring_handle(self->u, cqe, &ev) > 0) {
			i = (unsigned int)(uintptr_t)ev.data;
			if (ev.events & AFORK_URING_RELEASED) {
				released[i]++;
				exec_errno[i] = ev.exec_errno;
			}
			if (ev.events & AFORK_URING_EXITED) {
				exited[i]++;
				status[i] = ev.status;
				EXPECT_EQ(0, ev.error);
				afork_free(ev.child);
				done++;
			}
		}
		io_uring_cqe_seen(&self->ring, cqe);
	}
	for (i = 0; i < ncases; i++) {
		EXPECT_EQ(1, released[i]);
		EXPECT_EQ(1, exited[i]);
		EXPECT_EQ(cases[i].err, exec_errno[i]) {
			TH_LOG("%s", cases[i].path);
		}
		EXPECT_EQ(cases[i].err ? 127 << 8 : 0, status[i]);
	}
}

static int exit7_main(struct afork_ctx *ctx, void *arg)
{
	(void)ctx;
	(void)arg;
	return 7;
}

/* A child that exited before it was watched is reported all the same. */
TEST_F(ring, already_exited)
{
	struct afork_uring_event ev;
	struct io_uring_cqe *cqe;
	struct afork_opts opts;
	struct afork_child *c;
	struct pollfd pfd;
	unsigned int events = 0;

	afork_opts_init(&opts);
	opts.flags = AFORK_NOSIGCHLD | AFORK_WAITPID;
	afork_uring_prep_opts(self->u, &opts);
	ASSERT_EQ(0, afork_start_ctx(&c, &opts, exit7_main, NULL));
	pfd.fd = afork_pidfd(c);
	pfd.events = POLLIN;
	ASSERT_GE(pfd.fd, 0);
	ASSERT_EQ(1, poll(&pfd, 1, 10000));
	/* The vfork backend's worker publishes the release a moment later. */
	ASSERT_EQ(0, afork_wait_release(c, 10000));
	ASSERT_EQ(0, afork_uring_watch(self->u, c, c));
	while (!(events & AFORK_URING_EXITED)) {
		ASSERT_LE(0, io_uring_submit_and_wait(&self->ring, 1));
		ASSERT_EQ(0, io_uring_peek_cqe(&self->ring, &cqe));
		if (afork_uring_handle(self->u, cqe, &ev) > 0) {
			ASSERT_EQ(c, ev.data);
			ASSERT_EQ(0, events & ev.events);
			events |= ev.events;
		}
		io_uring_cqe_seen(&self->ring, cqe);
	}
	EXPECT_EQ(AFORK_URING_RELEASED | AFORK_URING_EXITED, events);
	EXPECT_EQ(7 << 8, ev.status);
	EXPECT_EQ(0, ev.error);
	afork_free(c);
}

/* A submission queue smaller than the children: watch makes room itself. */
TEST_F(ring, small_sq)
{
	struct io_uring small;
	struct afork_uring *u;
	struct tally t;

	ASSERT_EQ(0, io_uring_queue_init(4, &small, 0));
	u = afork_uring_new(&small, afork_uring_paths(self->u));
	ASSERT_NE(NULL, u);
	ASSERT_EQ(0, tally_init(&t, 48));
	ASSERT_EQ(0, run_children(&small, u, self->sfd, 48, 16,
				  AFORK_NOSIGCHLD | AFORK_WAITPID, &t));
	EXPECT_EQ(0, check_tally(_metadata, &t));
	EXPECT_EQ(0, afork_uring_watched(u));
	afork_uring_free(u);
	io_uring_queue_exit(&small);
	tally_free(&t);
}

/* Exits 5 when the parent closes its end of the pipe arg. */
static int wait_pipe_main(struct afork_ctx *ctx, void *arg)
{
	const int *pipefd = arg;
	char b;

	(void)ctx;
	afork_child_close(pipefd[1]);	/* our copy of the write end */
	afork_child_read(pipefd[0], &b, 1);
	return 5;
}

/*
 * wait(-1) in other code: on the afork syscall backend AFORK_WAITPID keeps
 * the child from it and the ring reaps it; on the clone backends Linux has
 * no such protection (exit signal 0 hides the child from SIGCHLD and from
 * waits without __WALL, not from __WALL), so the other waiter reaps it and
 * the ring reports ECHILD.  The ring defers its task work, so the other
 * waiter goes first.
 */
TEST_F(ring, wait_any_elsewhere)
{
	struct io_uring_params p;
	struct afork_uring_event ev;
	struct io_uring_cqe *cqe;
	struct afork_opts opts;
	struct afork_child *c;
	struct io_uring ring;
	struct afork_uring *u;
	struct pollfd pfd;
	siginfo_t si;
	int pipefd[2], r, stolen;

	memset(&p, 0, sizeof(p));
	p.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;
	r = io_uring_queue_init_params(8, &ring, &p);
	if (r == -EINVAL)
		SKIP(return, "no IORING_SETUP_DEFER_TASKRUN (Linux 6.1)");
	ASSERT_EQ(0, r);
	u = afork_uring_new(&ring, afork_uring_paths(self->u));
	ASSERT_NE(NULL, u);
	ASSERT_EQ(0, pipe2(pipefd, O_CLOEXEC));
	afork_opts_init(&opts);
	opts.flags = AFORK_NOSIGCHLD | AFORK_WAITPID;
	afork_uring_prep_opts(u, &opts);
	ASSERT_EQ(0, afork_start_ctx(&c, &opts, wait_pipe_main, pipefd));
	ASSERT_EQ(0, afork_uring_watch(u, c, NULL));
	ASSERT_EQ(2, io_uring_submit(&ring));

	/* Running: nothing for a wait on any child either way. */
	memset(&si, 0, sizeof(si));
	r = waitid(P_ALL, 0, &si, WEXITED | WNOHANG | __WALL);
	EXPECT_TRUE((r == 0 && si.si_pid == 0) || (r < 0 && errno == ECHILD));

	close(pipefd[1]);
	close(pipefd[0]);
	pfd.fd = afork_pidfd(c);
	pfd.events = POLLIN;
	ASSERT_EQ(1, poll(&pfd, 1, 10000));

	memset(&si, 0, sizeof(si));
	r = waitid(P_ALL, 0, &si, WEXITED | WNOHANG | __WALL);
	stolen = r == 0 && si.si_pid == afork_pid(c);
	if (self->backend == AFORK_BACKEND_SYSCALL) {
		EXPECT_FALSE(stolen);
	} else {
		EXPECT_TRUE(stolen);
	}

	memset(&ev, 0, sizeof(ev));
	while (!(ev.events & AFORK_URING_EXITED)) {
		ASSERT_LE(0, io_uring_submit_and_wait(&ring, 1));
		ASSERT_EQ(0, io_uring_peek_cqe(&ring, &cqe));
		if (afork_uring_handle(u, cqe, &ev) <= 0)
			ev.events = 0;
		io_uring_cqe_seen(&ring, cqe);
	}
	if (stolen) {
		EXPECT_EQ(ECHILD, ev.error);
	} else {
		EXPECT_EQ(0, ev.error);
		EXPECT_EQ(5 << 8, ev.status);
	}
	TH_LOG("backend %s: wait(-1, __WALL) elsewhere %s the child",
	       afork_backend_name(self->backend), stolen ? "reaped" : "did not see");
	afork_free(c);
	afork_uring_free(u);
	io_uring_queue_exit(&ring);
}

/* ------------------------------------------------------------------ */
/* Without the fixture                                                  */
/* ------------------------------------------------------------------ */

/* Bad arguments and environment values are refused; owns() is exact. */
TEST(arguments)
{
	struct io_uring_cqe cqe;
	struct afork_uring_event ev;
	struct io_uring ring;
	struct afork_uring *u;

	ASSERT_EQ(0, io_uring_queue_init(8, &ring, 0));
	errno = 0;
	EXPECT_EQ(NULL, afork_uring_new(NULL, 0));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(NULL, afork_uring_new(&ring, AFORK_URING_RELEASE_FUTEX |
					       AFORK_URING_RELEASE_POLL));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(NULL, afork_uring_new(&ring, AFORK_URING_EXIT_WAITID |
					       AFORK_URING_EXIT_POLL));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(NULL, afork_uring_new(&ring, 0x100));
	EXPECT_EQ(EINVAL, errno);
	setenv("AFORK_URING_RELEASE", "bogus", 1);
	EXPECT_EQ(NULL, afork_uring_new(&ring, 0));
	EXPECT_EQ(EINVAL, errno);
	/* A flag wins over the environment. */
	u = afork_uring_new(&ring, AFORK_URING_RELEASE_POLL);
	ASSERT_NE(NULL, u);
	afork_uring_free(u);
	setenv("AFORK_URING_RELEASE", "poll", 1);
	setenv("AFORK_URING_EXIT", "poll", 1);
	u = afork_uring_new(&ring, 0);
	ASSERT_NE(NULL, u);
	EXPECT_EQ(AFORK_URING_DEGRADED, afork_uring_paths(u));
	unsetenv("AFORK_URING_RELEASE");
	unsetenv("AFORK_URING_EXIT");

	EXPECT_EQ(-1, afork_uring_watch(u, NULL, NULL));
	EXPECT_EQ(EINVAL, errno);
	memset(&cqe, 0, sizeof(cqe));
	EXPECT_EQ(0, afork_uring_owns(&cqe));
	cqe.user_data = 1;
	EXPECT_EQ(0, afork_uring_owns(&cqe));
	cqe.user_data = (uintptr_t)&cqe;
	EXPECT_EQ(0, afork_uring_owns(&cqe));
	cqe.user_data = 0xafull << 56;	/* the mark without a tag */
	EXPECT_EQ(0, afork_uring_owns(&cqe));
	EXPECT_EQ(0, afork_uring_owns(NULL));
	EXPECT_EQ(-1, afork_uring_handle(u, &cqe, &ev));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_STREQ("futex", afork_uring_path_name(AFORK_URING_RELEASE_FUTEX));
	EXPECT_STREQ("poll", afork_uring_path_name(AFORK_URING_RELEASE_POLL));
	EXPECT_STREQ("waitid", afork_uring_path_name(AFORK_URING_EXIT_WAITID));
	EXPECT_STREQ("pidfd-poll", afork_uring_path_name(AFORK_URING_EXIT_POLL));
	EXPECT_EQ(NULL, afork_uring_path_name(0));
	EXPECT_EQ(NULL, afork_uring_path_name(AFORK_URING_DEGRADED));
	EXPECT_EQ(0, afork_uring_watched(u));
	afork_uring_free(u);
	afork_uring_free(NULL);
	io_uring_queue_exit(&ring);
}

/*
 * Auto picks the kernel's best: FUTEX_WAIT and WAITID where the ring has
 * them (Linux 6.7), except the release poll on the pidfd on the syscall
 * backend; the poll paths otherwise.
 */
TEST(auto_paths)
{
	struct io_uring_probe *p;
	struct io_uring ring;
	struct afork_uring *u;
	unsigned int paths, want;
	int futex = 0, waitid_op = 0;

	ASSERT_EQ(0, io_uring_queue_init(8, &ring, 0));
	p = io_uring_get_probe_ring(&ring);
	if (p) {
		futex = io_uring_opcode_supported(p, 51);	/* FUTEX_WAIT */
		waitid_op = io_uring_opcode_supported(p, 50);	/* WAITID */
		io_uring_free_probe(p);
	}
	u = afork_uring_new(&ring, 0);
	ASSERT_NE(NULL, u);
	paths = afork_uring_paths(u);
	want = afork_backend() != AFORK_BACKEND_SYSCALL && futex ?
		AFORK_URING_RELEASE_FUTEX : AFORK_URING_RELEASE_POLL;
	want |= waitid_op ? AFORK_URING_EXIT_WAITID : AFORK_URING_EXIT_POLL;
	EXPECT_EQ(want, paths);
	TH_LOG("kernel: FUTEX_WAIT %s, WAITID %s; backend %s: release %s, exit %s",
	       futex ? "yes" : "no", waitid_op ? "yes" : "no",
	       afork_backend_name(afork_backend()),
	       afork_uring_path_name(paths & (AFORK_URING_RELEASE_FUTEX |
					      AFORK_URING_RELEASE_POLL)),
	       afork_uring_path_name(paths & (AFORK_URING_EXIT_WAITID |
					      AFORK_URING_EXIT_POLL)));
	afork_uring_free(u);
	io_uring_queue_exit(&ring);
}

TEST_HARNESS_MAIN
