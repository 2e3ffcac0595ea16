// SPDX-License-Identifier: MIT
/*
 * libafork tests.  Every TEST_F runs once per backend (fixture variant);
 * a backend the running kernel lacks is skipped with the reason.  Each test
 * runs in its own process (the harness forks), so AFORK_BACKEND set in the
 * setup decides the backend for that test alone.
 *
 * Functions named child_*() run in an afork child: they only use the
 * afork_child_*() helpers and memory the parent leaves alone.
 * Synchronisation is by pipes, futex words and pidfds, never by sleeping.
 */
#include <poll.h>
#include <pthread.h>
#include <stddef.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <ucontext.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

#include "afork_test_util.h"
#include "kselftest_harness.h"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

FIXTURE(backend) {
	int id;
	char tmp[PATH_MAX];
};

FIXTURE_VARIANT(backend) {
	const char *env;
	int id;
};

FIXTURE_VARIANT_ADD(backend, syscall) {
	.env = "syscall", .id = AFORK_BACKEND_SYSCALL,
};

FIXTURE_VARIANT_ADD(backend, clone3) {
	.env = "clone3", .id = AFORK_BACKEND_CLONE3,
};

FIXTURE_VARIANT_ADD(backend, clone_legacy) {
	.env = "clone-legacy", .id = AFORK_BACKEND_CLONE,
};

FIXTURE_VARIANT_ADD(backend, vfork) {
	.env = "vfork", .id = AFORK_BACKEND_VFORK,
};

FIXTURE_SETUP(backend)
{
	struct rlimit nocore = { 0, 0 };

	self->tmp[0] = 0;
	setrlimit(RLIMIT_CORE, &nocore);
	setenv("AFORK_BACKEND", variant->env, 1);
	self->id = afork_backend();
	if (self->id < 0)
		SKIP(return, "backend %s not available here: %s",
		     variant->env, strerror(errno));
	ASSERT_EQ(variant->id, self->id);
	ASSERT_STREQ(variant->env, afork_backend_name(self->id));
}

FIXTURE_TEARDOWN(backend)
{
	if (self->tmp[0] && remove_tmpdir(self->tmp))
		TH_LOG("could not remove %s", self->tmp);
}

static int is_clone(int id)
{
	return id == AFORK_BACKEND_CLONE3 || id == AFORK_BACKEND_CLONE;
}

/* ---------------------------------------------------------------- */

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

/* afork returns while the child is blocked on a pipe only the parent can fill. */
TEST_F(backend, nonblocking)
{
	struct pipe_job j;
	int p[2], st = 0;
	pid_t pid;

	ASSERT_EQ(0, pipe2(p, O_CLOEXEC));
	j.rfd = p[0];
	j.ret = -1;
	pid = afork(child_read_exit, &j);
	ASSERT_GT(pid, 0);
	/* The child cannot have finished: nothing was written yet. */
	ASSERT_EQ(0, waitpid(pid, &st, WNOHANG | __WALL));
	ASSERT_EQ(1, write(p[1], "\x2a", 1));
	ASSERT_EQ(pid, waitpid(pid, &st, __WALL));
	ASSERT_TRUE(WIFEXITED(st));
	ASSERT_EQ(42, WEXITSTATUS(st));
	close(p[0]);
	close(p[1]);
}

struct shm_job {
	int *parent_local;
	int before;
};

static int global_word;

static int child_shm(void *p)
{
	struct shm_job *j = p;

	j->before = global_word;
	global_word = 4711;
	*j->parent_local = 815;
	return 0;
}

/* The child shares the parent's memory: globals and the caller's stack. */
TEST_F(backend, shared_memory)
{
	int local = 1, st;
	struct shm_job j = { &local, 0 };
	pid_t pid;

	global_word = 17;
	pid = afork(child_shm, &j);
	ASSERT_GT(pid, 0);
	ASSERT_EQ(pid, waitpid(pid, &st, __WALL));
	ASSERT_EQ(0, st);
	EXPECT_EQ(17, j.before);
	EXPECT_EQ(4711, global_word);
	EXPECT_EQ(815, local);
}

static int child_kill_self(void *p)
{
	afork_child_syscall(SYS_kill, afork_child_getpid(), (long)p, 0, 0, 0, 0);
	return 1;
}

/* fn's return value is the exit status; a signal death is reported as such. */
TEST_F(backend, exit_status)
{
	static const int codes[] = { 0, 1, 7, 127, 255, 256, 257 };
	unsigned int i;
	pid_t pid;
	int st;

	for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		pid = afork(child_return, (void *)(long)codes[i]);
		ASSERT_GT(pid, 0);
		ASSERT_EQ(pid, waitpid(pid, &st, __WALL));
		ASSERT_TRUE(WIFEXITED(st));
		EXPECT_EQ(codes[i] & 0xff, WEXITSTATUS(st));
	}
	pid = afork(child_kill_self, (void *)(long)SIGTERM);
	ASSERT_GT(pid, 0);
	ASSERT_EQ(pid, waitpid(pid, &st, __WALL));
	ASSERT_TRUE(WIFSIGNALED(st));
	EXPECT_EQ(SIGTERM, WTERMSIG(st));
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

/* Release is reported when exec commits (child still running), not before. */
TEST_F(backend, release_on_exec)
{
	struct afork_child *c;
	struct afork_opts o;
	struct exec_job j;
	struct pollfd pfd;
	int go[2], in[2], st;

	ASSERT_NE(NULL, helper_path());
	ASSERT_EQ(0, pipe2(go, O_CLOEXEC));
	ASSERT_EQ(0, pipe2(in, O_CLOEXEC));
	memset(&j, 0, sizeof(j));
	j.go = go[0];
	j.stdin_fd = in[0];
	j.path = helper_path();
	j.argv[0] = "helper";
	j.argv[1] = "--helper";
	j.argv[2] = "cat";

	afork_opts_init(&o);
	o.options = AFORK_OPT_RELEASE_FD | AFORK_OPT_PIDFD;
	ASSERT_EQ(0, afork_start_ctx(&c, &o, child_exec, &j));
	ASSERT_GT(afork_pid(c), 0);

	/* Blocked before exec: not released by any measure. */
	EXPECT_EQ(0, afork_released(c));
	EXPECT_NE(0u, *afork_release_word(c));
	EXPECT_EQ(-1, afork_wait_release(c, 0));
	EXPECT_EQ(ETIMEDOUT, errno);
	EXPECT_EQ(-1, afork_wait_release(c, 20));
	EXPECT_EQ(ETIMEDOUT, errno);
	ASSERT_EQ(0, afork_release_pollfd(c, &pfd));
	EXPECT_EQ(0, poll_now(&pfd));
	EXPECT_EQ(-1, afork_exec_errno(c));
	EXPECT_EQ(EBUSY, errno);

	ASSERT_EQ(1, write(go[1], "g", 1));
	ASSERT_EQ(0, afork_wait_release(c, 10000));
	EXPECT_EQ(1, afork_released(c));
	EXPECT_EQ(0u, *afork_release_word(c));
	EXPECT_EQ(1, poll(&pfd, 1, 10000));
	/* A pipe's EOF shows as POLLHUP, which poll reports unasked. */
	EXPECT_NE(0, pfd.revents & (pfd.events | POLLHUP));
	EXPECT_EQ(0, pfd.revents & (POLLERR | POLLNVAL));
	EXPECT_EQ(0, afork_exec_errno(c));

	/* Exec'd, not exited: the helper waits for EOF on its stdin. */
	EXPECT_EQ(0, afork_wait(c, &st, WNOHANG));
	close(in[1]);
	ASSERT_EQ(afork_pid(c), afork_wait(c, &st, 0));
	EXPECT_TRUE(WIFEXITED(st));
	EXPECT_EQ(0, WEXITSTATUS(st));
	afork_free(c);
	close(go[0]);
	close(go[1]);
	close(in[0]);
}

/* A child that exits without exec releases at exit, not before. */
TEST_F(backend, release_on_exit)
{
	struct afork_child *c;
	struct pipe_job j;
	struct afork_opts o;
	struct pollfd pfd;
	int p[2], st;

	ASSERT_EQ(0, pipe2(p, O_CLOEXEC));
	j.rfd = p[0];
	j.ret = 5;
	afork_opts_init(&o);
	o.options = AFORK_OPT_RELEASE_FD;
	ASSERT_EQ(0, afork_start(&c, &o, child_read_exit, &j));
	ASSERT_EQ(0, afork_release_pollfd(c, &pfd));
	EXPECT_EQ(0, afork_released(c));
	EXPECT_EQ(0, poll_now(&pfd));
	EXPECT_EQ(-1, afork_wait_release(c, 0));

	ASSERT_EQ(1, write(p[1], "x", 1));
	ASSERT_EQ(0, afork_wait_release(c, -1));
	EXPECT_EQ(1, poll(&pfd, 1, 10000));
	EXPECT_EQ(0, afork_exec_errno(c));
	EXPECT_EQ(0, afork_error_step(c));
	ASSERT_EQ(afork_pid(c), afork_wait(c, &st, 0));
	EXPECT_EQ(5, WEXITSTATUS(st));
	/* Reaped once only. */
	EXPECT_EQ(-1, afork_wait(c, &st, 0));
	EXPECT_EQ(ECHILD, errno);
	afork_free(c);
	close(p[0]);
	close(p[1]);
}

static int run_exec(struct __test_metadata *_metadata, struct exec_job *j,
		    int *status)
{
	struct afork_child *c;
	int err;

	j->go = -1;
	j->stdin_fd = -1;
	if (afork_start_ctx(&c, NULL, child_exec, j))
		return -1000 - errno;
	errno = 4242;
	EXPECT_EQ(0, afork_wait_release(c, -1));
	err = afork_exec_errno(c);
	/* Nothing in the child touched the parent thread's errno. */
	EXPECT_EQ(4242, errno);
	EXPECT_EQ(afork_pid(c), afork_wait(c, status, 0));
	afork_free(c);
	return err;
}

/* A failed exec reports its errno; the parent's errno is untouched. */
TEST_F(backend, exec_errors)
{
	char noexec[PATH_MAX + 16], junk[PATH_MAX + 16], notdir[PATH_MAX + 32];
	char link[PATH_MAX + 32], search[2 * PATH_MAX + 16];
	struct exec_job j;
	int st = 0;

	ASSERT_EQ(0, make_tmpdir(self->tmp, sizeof(self->tmp)));
	snprintf(noexec, sizeof(noexec), "%s/noexec", self->tmp);
	snprintf(junk, sizeof(junk), "%s/junk", self->tmp);
	snprintf(notdir, sizeof(notdir), "%s/noexec/x", self->tmp);
	snprintf(link, sizeof(link), "%s/afork-helper", self->tmp);
	ASSERT_EQ(0, write_file(noexec, "#!/bin/sh\nexit 0\n", 0644));
	ASSERT_EQ(0, write_file(junk, "\x01\x02\x03 not a program\n", 0755));
	ASSERT_EQ(0, symlink(helper_path(), link));

	memset(&j, 0, sizeof(j));
	j.argv[0] = "x";
	j.path = "/nonexistent/afork-test";
	EXPECT_EQ(ENOENT, run_exec(_metadata, &j, &st));
	EXPECT_EQ(127, WEXITSTATUS(st));
	j.path = noexec;
	EXPECT_EQ(EACCES, run_exec(_metadata, &j, &st));
	j.path = junk;
	EXPECT_EQ(ENOEXEC, run_exec(_metadata, &j, &st));
	j.path = notdir;
	EXPECT_EQ(ENOTDIR, run_exec(_metadata, &j, &st));
	j.path = "";
	EXPECT_EQ(ENOENT, run_exec(_metadata, &j, &st));

	/* PATH search: ENOENT goes on, EACCES is remembered, ENOEXEC stops. */
	j.search = search;
	snprintf(search, sizeof(search), "/nonexistent:%s", self->tmp);
	j.path = "noexec";
	EXPECT_EQ(EACCES, run_exec(_metadata, &j, &st));
	j.path = "nosuch";
	EXPECT_EQ(ENOENT, run_exec(_metadata, &j, &st));
	snprintf(search, sizeof(search), "%s:/bin:/usr/bin", self->tmp);
	j.path = "junk";
	EXPECT_EQ(ENOEXEC, run_exec(_metadata, &j, &st));

	/* ... and a hit after misses execs, with no error recorded. */
	snprintf(search, sizeof(search), "/nonexistent::%s", self->tmp);
	j.path = "afork-helper";
	j.argv[1] = "--helper";
	j.argv[2] = "exit";
	j.argv[3] = "3";
	EXPECT_EQ(0, run_exec(_metadata, &j, &st));
	EXPECT_TRUE(WIFEXITED(st));
	EXPECT_EQ(3, WEXITSTATUS(st));
	/* EACCES in an earlier directory does not stop the search. */
	snprintf(notdir, sizeof(notdir), "%s/d", self->tmp);
	ASSERT_EQ(0, mkdir(notdir, 0755));
	snprintf(noexec, sizeof(noexec), "%s/d/afork-helper", self->tmp);
	ASSERT_EQ(0, write_file(noexec, "not this one\n", 0644));
	snprintf(search, sizeof(search), "%s/d:%s", self->tmp, self->tmp);
	EXPECT_EQ(0, run_exec(_metadata, &j, &st));
	EXPECT_EQ(3, WEXITSTATUS(st));
	/* A path with a slash is not searched. */
	j.path = link;
	j.search = "/nonexistent";
	EXPECT_EQ(0, run_exec(_metadata, &j, &st));
	EXPECT_EQ(3, WEXITSTATUS(st));
}

static int child_set_error(struct afork_ctx *ctx, void *p)
{
	(void)p;
	afork_ctx_set_error(ctx, EPERM, 3);
	return 9;
}

/* afork_ctx_set_error() reaches afork_exec_errno()/afork_error_step(). */
TEST_F(backend, ctx_error_step)
{
	struct afork_child *c;
	int st;

	ASSERT_EQ(0, afork_start_ctx(&c, NULL, child_set_error, NULL));
	ASSERT_EQ(0, afork_wait_release(c, -1));
	EXPECT_EQ(EPERM, afork_exec_errno(c));
	EXPECT_EQ(3, afork_error_step(c));
	ASSERT_EQ(afork_pid(c), afork_wait(c, &st, 0));
	EXPECT_EQ(9, WEXITSTATUS(st));
	afork_free(c);
}

/* ---------------------------------------------------------------- */
/* Signals                                                           */

static volatile pid_t parent_pid;
static volatile int handler_in_child;
static volatile int handler_runs;

static void on_signal(int sig)
{
	(void)sig;
	if (syscall(SYS_getpid) != parent_pid)
		handler_in_child = 1;
	else
		handler_runs++;
}

struct storm {
	volatile int stop;
	volatile pid_t pids[64];
	pthread_t thread;
};

static void *storm_thread(void *p)
{
	struct storm *s = p;
	unsigned int i;

	while (!s->stop) {
		kill(parent_pid, SIGWINCH);
		kill(parent_pid, SIGURG);
		for (i = 0; i < 64; i++) {
			pid_t pid = s->pids[i];

			if (pid > 0) {
				kill(pid, SIGWINCH);
				kill(pid, SIGURG);
			}
		}
	}
	return NULL;
}

static int child_spin_read(void *p)
{
	struct pipe_job *j = p;
	volatile unsigned long n;
	unsigned char c;

	for (n = 0; n < 200000; n++)
		;
	if (afork_child_read(j->rfd, &c, 1) != 1)
		return 100;
	return 0;
}

/* Caught handlers never run in the child while signals storm both sides. */
TEST_F_TIMEOUT(backend, signal_storm, 120)
{
	struct sigaction sa;
	struct storm s;
	struct pipe_job j;
	int p[2], st, round, i;
	pid_t pids[64];

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART;
	ASSERT_EQ(0, sigaction(SIGWINCH, &sa, NULL));
	ASSERT_EQ(0, sigaction(SIGURG, &sa, NULL));
	parent_pid = getpid();
	memset(&s, 0, sizeof(s));
	ASSERT_EQ(0, pthread_create(&s.thread, NULL, storm_thread, &s));
	ASSERT_EQ(0, pipe2(p, O_CLOEXEC));
	j.rfd = p[0];
	j.ret = 0;

	for (round = 0; round < 4; round++) {
		for (i = 0; i < 64; i++) {
			pids[i] = afork(child_spin_read, &j);
			ASSERT_GT(pids[i], 0);
			s.pids[i] = pids[i];
		}
		for (i = 0; i < 64; i++)
			ASSERT_EQ(1, write(p[1], "x", 1));
		for (i = 0; i < 64; i++) {
			ASSERT_EQ(pids[i], waitpid(pids[i], &st, __WALL));
			s.pids[i] = 0;
			EXPECT_TRUE(WIFEXITED(st));
			EXPECT_EQ(0, WEXITSTATUS(st));
		}
	}
	s.stop = 1;
	pthread_join(s.thread, NULL);
	EXPECT_EQ(0, handler_in_child);
	EXPECT_GT(handler_runs, 0);
	close(p[0]);
	close(p[1]);
}

/* A signal the parent catches has its default action in the child. */
TEST_F(backend, handlers_reset)
{
	struct sigaction sa;
	struct pipe_job j;
	int p[2], st;
	pid_t pid;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	ASSERT_EQ(0, sigaction(SIGUSR1, &sa, NULL));
	parent_pid = getpid();
	ASSERT_EQ(0, pipe2(p, O_CLOEXEC));
	j.rfd = p[0];
	j.ret = 0;
	pid = afork(child_read_exit, &j);
	ASSERT_GT(pid, 0);
	ASSERT_EQ(0, kill(pid, SIGUSR1));
	ASSERT_EQ(pid, waitpid(pid, &st, __WALL));
	ASSERT_TRUE(WIFSIGNALED(st));
	EXPECT_EQ(SIGUSR1, WTERMSIG(st));
	EXPECT_EQ(0, handler_in_child);
	close(p[0]);
	close(p[1]);
}

/* SIG_IGN dispositions are kept in the child, as across exec. */
TEST_F(backend, sig_ign_kept)
{
	pid_t pid;
	int st;

	ASSERT_TRUE(signal(SIGUSR2, SIG_IGN) != SIG_ERR);
	pid = afork(child_kill_self, (void *)(long)SIGUSR2);
	ASSERT_GT(pid, 0);
	ASSERT_EQ(pid, waitpid(pid, &st, __WALL));
	ASSERT_TRUE(WIFEXITED(st));
	EXPECT_EQ(1, WEXITSTATUS(st));
}

static int child_get_mask(void *p)
{
	sigset_t *m = p;

	return afork_child_sigprocmask(SIG_BLOCK, NULL, m) ? 1 : 0;
}

/* The child starts with the caller's mask, or with opts->sigmask. */
TEST_F(backend, sigmask)
{
	struct afork_child *c;
	struct afork_opts o;
	sigset_t block, got;
	pid_t pid;
	int st;

	sigemptyset(&block);
	sigaddset(&block, SIGUSR2);
	ASSERT_EQ(0, pthread_sigmask(SIG_BLOCK, &block, NULL));
	sigemptyset(&got);
	pid = afork(child_get_mask, &got);
	ASSERT_GT(pid, 0);
	ASSERT_EQ(pid, waitpid(pid, &st, __WALL));
	ASSERT_EQ(0, st);
	EXPECT_TRUE(sigismember(&got, SIGUSR2));
	EXPECT_FALSE(sigismember(&got, SIGUSR1));

	afork_opts_init(&o);
	o.options = AFORK_OPT_SIGMASK;
	sigemptyset(&o.sigmask);
	sigaddset(&o.sigmask, SIGUSR1);
	sigemptyset(&got);
	ASSERT_EQ(0, afork_start(&c, &o, child_get_mask, &got));
	ASSERT_EQ(afork_pid(c), afork_wait(c, &st, 0));
	ASSERT_EQ(0, st);
	EXPECT_TRUE(sigismember(&got, SIGUSR1));
	EXPECT_FALSE(sigismember(&got, SIGUSR2));
	afork_free(c);
}

/* ---------------------------------------------------------------- */
/* Flags: what each backend guarantees (afork(3), BACKEND DIFFERENCES) */

struct flag_result {
	int sigchld;		/* SIGCHLD was pending after the exit */
	int plain_waitpid;	/* waitpid(pid, 0) could reap it */
	int wait_any;		/* waitid(P_ALL) without __WALL reaped it */
	int wait_any_wall;	/* waitid(P_ALL, __WALL) reaped it */
	int status;
};

/* Start fn with flags, let it exit, and see who can reap it. */
static void probe_flags(struct __test_metadata *_metadata, int flags,
			int how, struct flag_result *r)
{
	struct afork_child *c;
	struct afork_opts o;
	struct pollfd pfd;
	siginfo_t si;
	sigset_t chld;
	int st = 0;
	pid_t pid;

	memset(r, 0, sizeof(*r));
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	ASSERT_EQ(0, pthread_sigmask(SIG_BLOCK, &chld, NULL));
	drain_sigchld();

	afork_opts_init(&o);
	o.flags = flags;
	o.options = AFORK_OPT_PIDFD;
	ASSERT_EQ(0, afork_start(&c, &o, child_return, (void *)(long)33));
	pid = afork_pid(c);
	ASSERT_GE(afork_pidfd(c), 0);
	/* Wait for the exit without reaping: the pidfd turns readable. */
	pfd.fd = afork_pidfd(c);
	pfd.events = POLLIN;
	ASSERT_EQ(1, poll(&pfd, 1, 10000));

	if (how == 0) {
		if (waitpid(pid, &st, 0) == pid) {
			r->plain_waitpid = 1;
			r->status = st;
		}
	} else {
		memset(&si, 0, sizeof(si));
		if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG) == 0 &&
		    si.si_pid == pid)
			r->wait_any = 1;
		if (!r->wait_any) {
			memset(&si, 0, sizeof(si));
			if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | __WALL) == 0 &&
			    si.si_pid == pid)
				r->wait_any_wall = 1;
		}
	}
	if (!r->plain_waitpid && !r->wait_any && !r->wait_any_wall) {
		ASSERT_EQ(pid, afork_wait(c, &st, 0));
		r->status = st;
	} else if (how) {
		r->status = 33 << 8;
	}
	r->sigchld = sigchld_pending();
	afork_free(c);
	ASSERT_EQ(0, any_child_left());
}

/* No flags: a normal child on every backend (SIGCHLD, any wait reaps it). */
TEST_F(backend, flags_none)
{
	struct flag_result r;

	probe_flags(_metadata, 0, 0, &r);
	EXPECT_EQ(1, r.sigchld);
	EXPECT_EQ(1, r.plain_waitpid);
	EXPECT_EQ(33, WEXITSTATUS(r.status));
	probe_flags(_metadata, 0, 1, &r);
	EXPECT_EQ(1, r.wait_any);
}

/* AFORK_NOSIGCHLD: no SIGCHLD; plain waitpid only on syscall. */
TEST_F(backend, flags_nosigchld)
{
	struct flag_result r;

	if (self->id == AFORK_BACKEND_VFORK)
		SKIP(return, "vfork refuses the flags (flags_refused_vfork)");
	probe_flags(_metadata, AFORK_NOSIGCHLD, 0, &r);
	EXPECT_EQ(33, WEXITSTATUS(r.status));
	if (is_clone(self->id)) {
		EXPECT_EQ(0, r.sigchld);
		/* exit_signal 0 makes it a "clone" child: __WALL needed. */
		EXPECT_EQ(0, r.plain_waitpid);
	} else {
		EXPECT_EQ(0, r.sigchld);
		EXPECT_EQ(1, r.plain_waitpid);
	}
}

/* AFORK_WAITPID: wait(-1) never reaps it (syscall), only with __WALL (clone). */
TEST_F(backend, flags_waitpid)
{
	struct flag_result r;

	if (self->id == AFORK_BACKEND_VFORK)
		SKIP(return, "vfork refuses the flags (flags_refused_vfork)");
	probe_flags(_metadata, AFORK_WAITPID, 1, &r);
	EXPECT_EQ(33, WEXITSTATUS(r.status));
	switch (self->id) {
	case AFORK_BACKEND_SYSCALL:
		EXPECT_EQ(1, r.sigchld);
		EXPECT_EQ(0, r.wait_any);
		EXPECT_EQ(0, r.wait_any_wall);
		break;
	default:
		EXPECT_EQ(0, r.sigchld);	/* exit_signal 0 */
		EXPECT_EQ(0, r.wait_any);
		EXPECT_EQ(1, r.wait_any_wall);
		break;
	}
	probe_flags(_metadata, AFORK_WAITPID, 0, &r);
	EXPECT_EQ(33, WEXITSTATUS(r.status));
	EXPECT_EQ(is_clone(self->id) ? 0 : 1, r.plain_waitpid);
}

/* Under SIGCHLD SIG_IGN a NOSIGCHLD|WAITPID child is still reapable. */
TEST_F(backend, flags_sigchld_ignored)
{
	struct afork_child *c;
	struct afork_opts o;
	struct pollfd pfd;
	int st = 0;
	pid_t r;

	if (self->id == AFORK_BACKEND_VFORK)
		SKIP(return, "vfork refuses the flags (flags_refused_vfork)");
	ASSERT_TRUE(signal(SIGCHLD, SIG_IGN) != SIG_ERR);
	afork_opts_init(&o);
	o.flags = AFORK_NOSIGCHLD | AFORK_WAITPID;
	o.options = AFORK_OPT_PIDFD;
	ASSERT_EQ(0, afork_start(&c, &o, child_return, (void *)(long)21));
	pfd.fd = afork_pidfd(c);
	pfd.events = POLLIN;
	ASSERT_EQ(1, poll(&pfd, 1, 10000));
	r = afork_wait(c, &st, 0);
	EXPECT_EQ(afork_pid(c), r);
	EXPECT_EQ(21, WEXITSTATUS(st));
	afork_free(c);
}

/* ---------------------------------------------------------------- */
/* pidfd, pollfd, handles                                            */

/* OPT_PIDFD gives a close-on-exec pidfd that afork_take_pidfd() hands over. */
TEST_F(backend, pidfd)
{
	struct afork_child *c;
	struct afork_opts o;
	struct pipe_job j;
	siginfo_t si;
	int p[2], fd;

	ASSERT_EQ(0, pipe2(p, O_CLOEXEC));
	j.rfd = p[0];
	j.ret = 12;
	afork_opts_init(&o);
	o.options = AFORK_OPT_PIDFD;
	ASSERT_EQ(0, afork_start(&c, &o, child_read_exit, &j));
	fd = afork_pidfd(c);
	ASSERT_GE(fd, 0);
	EXPECT_TRUE(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	EXPECT_EQ(fd, afork_take_pidfd(c));
	EXPECT_EQ(-1, afork_pidfd(c));
	ASSERT_EQ(1, write(p[1], "x", 1));
	memset(&si, 0, sizeof(si));
	ASSERT_EQ(0, waitid((idtype_t)P_PIDFD, (id_t)fd, &si, WEXITED | __WALL));
	EXPECT_EQ(afork_pid(c), si.si_pid);
	EXPECT_EQ(12, si.si_status);
	close(fd);
	/* Without a pidfd afork_wait() falls back to the pid. */
	afork_free(c);
	close(p[0]);
	close(p[1]);
}

/* Without the option there is no release fd; without a pidfd it is -1. */
TEST_F(backend, handle_defaults)
{
	struct afork_child *c;
	struct pollfd pfd;
	int st;

	ASSERT_EQ(0, afork_start(&c, NULL, child_return, (void *)(long)4));
	EXPECT_EQ(-1, afork_pidfd(c));
	EXPECT_EQ(-1, afork_release_pollfd(c, &pfd));
	EXPECT_EQ(EINVAL, errno);
	ASSERT_EQ(afork_pid(c), afork_wait(c, &st, 0));
	EXPECT_EQ(4, WEXITSTATUS(st));
	EXPECT_EQ(0, afork_wait_release(c, 0));
	afork_free(c);
}

/* 64 children in flight at once, released and reaped in any order. */
TEST_F(backend, many_in_flight)
{
	struct afork_child *c[64];
	struct afork_opts o;
	struct pipe_job j;
	int p[2], i, st;

	ASSERT_EQ(0, pipe2(p, O_CLOEXEC));
	j.rfd = p[0];
	j.ret = -1;
	afork_opts_init(&o);
	o.options = AFORK_OPT_RELEASE_FD | AFORK_OPT_PIDFD;
	for (i = 0; i < 64; i++)
		ASSERT_EQ(0, afork_start(&c[i], &o, child_read_exit, &j));
	for (i = 0; i < 64; i++)
		EXPECT_EQ(0, afork_released(c[i]));
	for (i = 0; i < 64; i++)
		ASSERT_EQ(1, write(p[1], "\x07", 1));
	for (i = 63; i >= 0; i--) {
		ASSERT_EQ(afork_pid(c[i]), afork_wait(c[i], &st, 0));
		EXPECT_EQ(7, WEXITSTATUS(st));
		EXPECT_EQ(0, afork_wait_release(c[i], -1));
		afork_free(c[i]);
	}
	EXPECT_EQ(0, any_child_left());
	close(p[0]);
	close(p[1]);
}

struct helpers_result {
	long dup2_ret, closed_ret, cloexec_ret, chdir_ret, sid, pid, pgid_ret;
	char cwd[256];
};

struct helpers_job {
	int wfd;
	const char *dir;
	struct helpers_result *res;
};

static int child_helpers(void *p)
{
	struct helpers_job *j = p;
	struct helpers_result *r = j->res;

	r->pid = afork_child_getpid();
	r->dup2_ret = afork_child_dup2(j->wfd, 40);
	afork_child_dup2(j->wfd, 41);
	r->cloexec_ret = afork_child_close_range(41, 41, 4 /* CLOEXEC */);
	if (!r->cloexec_ret)
		r->cloexec_ret = afork_child_fcntl(41, F_GETFD, 0);
	afork_child_close_range(42, ~0u, 0);
	r->closed_ret = afork_child_fcntl(j->wfd > 42 ? j->wfd : 43, F_GETFD, 0);
	r->chdir_ret = afork_child_chdir(j->dir);
	afork_child_syscall(SYS_getcwd, (long)r->cwd, sizeof(r->cwd), 0, 0, 0, 0);
	r->sid = afork_child_setsid();
	r->pgid_ret = afork_child_setpgid(0, 0);
	afork_child_write(40, "ok", 2);
	return 0;
}

/* The child-side helpers do what their names say, with -errno results. */
TEST_F(backend, child_helpers)
{
	struct helpers_result res;
	struct helpers_job j;
	char buf[4] = { 0 };
	int p[2], st, hi;
	pid_t pid;

	ASSERT_EQ(0, make_tmpdir(self->tmp, sizeof(self->tmp)));
	ASSERT_EQ(0, pipe2(p, O_CLOEXEC));
	/* Make sure fd 43+ exists in the parent, for close_range to close. */
	hi = fcntl(p[1], F_DUPFD_CLOEXEC, 50);
	ASSERT_GE(hi, 50);
	memset(&res, 0, sizeof(res));
	j.wfd = hi;
	j.dir = self->tmp;
	j.res = &res;
	pid = afork(child_helpers, &j);
	ASSERT_GT(pid, 0);
	ASSERT_EQ(pid, waitpid(pid, &st, __WALL));
	ASSERT_EQ(0, st);
	close(hi);
	close(p[1]);
	ASSERT_EQ(2, read(p[0], buf, 2));
	EXPECT_STREQ("ok", buf);
	EXPECT_EQ(40, res.dup2_ret);
	EXPECT_EQ(FD_CLOEXEC, res.cloexec_ret);
	EXPECT_EQ(-EBADF, res.closed_ret);
	EXPECT_EQ(0, res.chdir_ret);
	EXPECT_STREQ(self->tmp[0] == '/' ? self->tmp : res.cwd, res.cwd);
	EXPECT_EQ(pid, res.pid);
	EXPECT_EQ(pid, res.sid);
	/* Already a session leader: setpgid fails with EPERM, returned raw. */
	EXPECT_EQ(-EPERM, res.pgid_ret);
	close(p[0]);
}

/* ---------------------------------------------------------------- */
/* Pool, leaks, threads                                              */

struct thread_arg {
	int id;
	int rounds;
	int failures;
};

static int child_exit_code(void *p)
{
	return (int)((long)p & 0xff);
}

static void *afork_thread(void *p)
{
	struct thread_arg *t = p;
	struct afork_opts o;
	int i, st;

	afork_opts_init(&o);
	o.options = AFORK_OPT_PIDFD | AFORK_OPT_RELEASE_FD;
	for (i = 0; i < t->rounds; i++) {
		long code = (t->id * 1000 + i) & 0xff;

		if (i % 4 == 0) {
			struct afork_child *c;

			if (afork_start(&c, &o, child_exit_code, (void *)code)) {
				t->failures++;
				continue;
			}
			if (afork_wait(c, &st, 0) != afork_pid(c) ||
			    WEXITSTATUS(st) != code)
				t->failures++;
			afork_free(c);
		} else {
			pid_t pid = afork(child_exit_code, (void *)code);

			if (pid < 0 || waitpid(pid, &st, __WALL) != pid ||
			    WEXITSTATUS(st) != code)
				t->failures++;
		}
	}
	return NULL;
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

/*
 * Rounds per thread in threads_no_leak: 1000, or AFORK_TEST_ROUNDS (the
 * guest, emulated and with KASAN, runs fewer).
 */
static int test_rounds(void)
{
	const char *env = getenv("AFORK_TEST_ROUNDS");
	int n = env ? atoi(env) : 0;

	return n > 0 ? n : 1000;
}

/* 8 threads x 1000 aforks leak no fds, stacks (mappings) or zombies. */
TEST_F_TIMEOUT(backend, threads_no_leak, 300)
{
	struct afork_pool_stats ps = { .size = sizeof(ps) };
	struct thread_arg args[8];
	pthread_t th[8];
	int fds0, fds1, maps0, maps1, ours0, ours1, i, failures = 0;
	size_t rw = pool_rw_size(64 * 1024);

	/*
	 * Warm up (lazy init, glibc's cache of thread stacks, vfork
	 * workers), then take the baseline.
	 */
	for (i = 0; i < 8; i++) {
		args[i].id = i;
		args[i].rounds = 50;
		args[i].failures = 0;
		ASSERT_EQ(0, pthread_create(&th[i], NULL, afork_thread, &args[i]));
	}
	for (i = 0; i < 8; i++) {
		pthread_join(th[i], NULL);
		ASSERT_EQ(0, args[i].failures);
	}
	afork_pool_trim();
	fds0 = count_fds();
	maps0 = count_maps(rw, &ours0);
	ASSERT_EQ(0, afork_pool_stats(&ps));
	ASSERT_GT(fds0, 0);
	/* Every stack mapping is the pool's (see settled()). */
	ASSERT_EQ((int)ps.stacks_total, ours0);
	ASSERT_LE(ours0, settled(self->id));

	for (i = 0; i < 8; i++) {
		args[i].id = i;
		args[i].rounds = test_rounds();
		args[i].failures = 0;
		ASSERT_EQ(0, pthread_create(&th[i], NULL, afork_thread, &args[i]));
	}
	for (i = 0; i < 8; i++) {
		pthread_join(th[i], NULL);
		failures += args[i].failures;
	}
	EXPECT_EQ(0, failures);
	EXPECT_EQ(0, any_child_left());

	ASSERT_EQ(0, afork_pool_stats(&ps));
	EXPECT_LE(ps.stacks_total, ps.max_stacks);
	EXPECT_LE(ps.stacks_free, ps.max_free);
	TH_LOG("pool: %lu maps, %lu reuses, %lu stacks left",
	       ps.maps, ps.reuses, ps.stacks_total);
	EXPECT_GE(afork_pool_trim(), 0);
	fds1 = count_fds();
	maps1 = count_maps(rw, &ours1);
	ASSERT_EQ(0, afork_pool_stats(&ps));
	EXPECT_LE(ps.stacks_total, (unsigned long)settled(self->id));
	/* Each mapping: the stack, the record's page and the guard page. */
	EXPECT_EQ(ps.stacks_total * (rw + (size_t)sysconf(_SC_PAGESIZE)),
		  ps.bytes_mapped);
	EXPECT_EQ((int)ps.stacks_total, ours1);
	EXPECT_EQ(fds0, fds1);
	/* vfork workers come and go with demand; each owns two mappings. */
	EXPECT_LE(maps1 - ours1, maps0 - ours0 +
		  (self->id == AFORK_BACKEND_VFORK ? 32 : 0));
}

/* Stacks are reused after release and unmapped by afork_pool_trim(). */
TEST_F(backend, pool_reuse_trim)
{
	struct afork_pool_stats ps = { .size = sizeof(ps) };
	int i, st, ours;
	pid_t pid;

	ASSERT_EQ(0, afork_pool_stats(&ps));
	EXPECT_EQ(64u * 1024, ps.stack_size);
	/* With a handle, afork_wait() + afork_free() give the stack back. */
	for (i = 0; i < 20; i++) {
		struct afork_child *c;

		ASSERT_EQ(0, afork_start(&c, NULL, child_return, (void *)(long)i));
		ASSERT_EQ(afork_pid(c), afork_wait(c, &st, 0));
		ASSERT_EQ(i, WEXITSTATUS(st));
		afork_free(c);
	}
	ASSERT_EQ(0, afork_pool_stats(&ps));
	EXPECT_EQ(1ul, ps.maps);
	EXPECT_EQ(19ul, ps.reuses);
	EXPECT_EQ(1ul, ps.stacks_free);
	/* Plain afork(): reused once the release is seen. */
	for (i = 0; i < 20; i++) {
		pid = afork(child_return, (void *)(long)i);
		ASSERT_GT(pid, 0);
		ASSERT_EQ(pid, waitpid(pid, &st, __WALL));
		ASSERT_EQ(i, WEXITSTATUS(st));
	}
	ASSERT_EQ(0, afork_pool_stats(&ps));
	EXPECT_LE(ps.maps, 2ul + (unsigned long)settled(self->id));
	EXPECT_EQ(ps.stacks_total, ps.stacks_free + ps.stacks_busy);
	count_maps(pool_rw_size(64 * 1024), &ours);
	EXPECT_EQ((int)ps.stacks_total, ours);
	EXPECT_GE(afork_pool_trim(), self->id == AFORK_BACKEND_VFORK ? 0 : 1);
	ASSERT_EQ(0, afork_pool_stats(&ps));
	EXPECT_LE(ps.stacks_total, (unsigned long)settled(self->id));
	EXPECT_EQ(0ul, ps.stacks_free);
	EXPECT_EQ(ps.stacks_total * (pool_rw_size(64 * 1024) +
				     (size_t)sysconf(_SC_PAGESIZE)),
		  ps.bytes_mapped);
	count_maps(pool_rw_size(64 * 1024), &ours);
	EXPECT_EQ((int)ps.stacks_total, ours);
}

/* The pool is bounded: beyond max_stacks afork fails with EAGAIN. */
TEST_F(backend, pool_limit)
{
	struct afork_child *c1, *c2, *c3;
	struct pipe_job j;
	int p[2], st;

	ASSERT_EQ(0, afork_pool_set_limits(2, 0));
	ASSERT_EQ(0, pipe2(p, O_CLOEXEC));
	j.rfd = p[0];
	j.ret = 0;
	ASSERT_EQ(0, afork_start(&c1, NULL, child_read_exit, &j));
	ASSERT_EQ(0, afork_start(&c2, NULL, child_read_exit, &j));
	EXPECT_EQ(-1, afork_start(&c3, NULL, child_read_exit, &j));
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_EQ(-1, afork(child_read_exit, &j));
	EXPECT_EQ(EAGAIN, errno);
	/* Let one go: its stack comes back once it is released. */
	ASSERT_EQ(1, write(p[1], "x", 1));
	ASSERT_EQ(1, write(p[1], "x", 1));
	ASSERT_GT(afork_wait(c1, &st, 0), 0);
	afork_free(c1);
	ASSERT_EQ(0, afork_start(&c3, NULL, child_return, NULL));
	ASSERT_GT(afork_wait(c3, &st, 0), 0);
	afork_free(c3);
	ASSERT_GT(afork_wait(c2, &st, 0), 0);
	afork_free(c2);
	close(p[0]);
	close(p[1]);
}

static int child_big_stack(void *p)
{
	volatile char buf[512 * 1024];
	size_t i;

	for (i = 0; i < sizeof(buf); i += 4096)
		buf[i] = (char)i;
	return buf[4096] == (char)4096 ? (int)(long)p : 1;
}

static int child_recurse(void *p)
{
	volatile char buf[1024];

	buf[0] = (char)(long)p;
	if ((long)p > (1L << 40))	/* never: the guard page comes first */
		return 0;
	return child_recurse((void *)((long)p + 1)) + buf[0];
}

/* opts->stack_size sets the child's stack; overflowing it hits the guard page. */
TEST_F(backend, stack_size_and_guard)
{
	struct afork_child *c;
	struct afork_opts o;
	struct utsname u;
	int st, major = 0, minor = 0;

	afork_opts_init(&o);
	o.stack_size = 1024 * 1024;
	ASSERT_EQ(0, afork_start(&c, &o, child_big_stack, (void *)6L));
	ASSERT_EQ(afork_pid(c), afork_wait(c, &st, 0));
	ASSERT_TRUE(WIFEXITED(st));
	EXPECT_EQ(6, WEXITSTATUS(st));
	afork_free(c);

	/* Before Linux 5.16 a fatal signal in a CLONE_VM child kills us too. */
	ASSERT_EQ(0, uname(&u));
	sscanf(u.release, "%d.%d", &major, &minor);
	if (major < 5 || (major == 5 && minor < 16))
		SKIP(return, "kernel %s < 5.16 kills the parent too", u.release);
	ASSERT_EQ(0, afork_start(&c, NULL, child_recurse, NULL));
	ASSERT_EQ(afork_pid(c), afork_wait(c, &st, 0));
	ASSERT_TRUE(WIFSIGNALED(st));
	EXPECT_EQ(SIGSEGV, WTERMSIG(st));
	afork_free(c);
}

/* After fork() the new process can afork; inherited handles are inert. */
TEST_F(backend, fork_then_afork)
{
	struct afork_child *c;
	struct pipe_job j;
	int p[2], st;
	pid_t f;

	ASSERT_EQ(0, pipe2(p, O_CLOEXEC));
	j.rfd = p[0];
	j.ret = 8;
	ASSERT_EQ(0, afork_start(&c, NULL, child_read_exit, &j));
	f = fork();
	ASSERT_GE(f, 0);
	if (f == 0) {
		struct afork_pool_stats ps = { .size = sizeof(ps) };
		int bad = 0, s2;
		pid_t pid;

		if (afork_released(c) != 1)
			bad |= 1;
		if (afork_wait(c, &s2, WNOHANG) != -1 || errno != ECHILD)
			bad |= 2;
		afork_free(c);
		pid = afork(child_return, (void *)(long)9);
		if (pid < 0 || waitpid(pid, &s2, __WALL) != pid ||
		    WEXITSTATUS(s2) != 9)
			bad |= 4;
		afork_pool_trim();
		if (afork_pool_stats(&ps) ||
		    ps.stacks_total > (unsigned long)settled(afork_backend()))
			bad |= 8;
		_exit(bad);
	}
	ASSERT_EQ(f, waitpid(f, &st, 0));
	EXPECT_TRUE(WIFEXITED(st));
	EXPECT_EQ(0, WEXITSTATUS(st));
	/* Our own child is unaffected. */
	EXPECT_EQ(0, afork_released(c));
	ASSERT_EQ(1, write(p[1], "x", 1));
	ASSERT_EQ(afork_pid(c), afork_wait(c, &st, 0));
	EXPECT_EQ(8, WEXITSTATUS(st));
	afork_free(c);
	close(p[0]);
	close(p[1]);
}

/* Bad arguments fail with the documented errno and leak nothing. */
TEST_F(backend, bad_arguments)
{
	struct afork_pool_stats ps = { .size = sizeof(ps) };
	struct { struct afork_opts o; char tail[16]; } big;
	struct afork_child *c = NULL;
	struct afork_opts o;
	struct pollfd pfd;
	int fds, st;

	fds = count_fds();
	errno = 0;
	EXPECT_EQ(-1, afork(NULL, NULL));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, aforkx(4, child_return, NULL));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, aforkx(-1, child_return, NULL));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, afork_start(NULL, NULL, child_return, NULL));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, afork_start(&c, NULL, NULL, NULL));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, afork_emulated(NULL, NULL, NULL));
	EXPECT_EQ(EINVAL, errno);

	afork_opts_init(&o);
	o.size = AFORK_OPTS_SIZE_VER0 - 8;
	EXPECT_EQ(-1, afork_start(&c, &o, child_return, NULL));
	EXPECT_EQ(EINVAL, errno);
	afork_opts_init(&o);
	o.options = 0x80;
	EXPECT_EQ(-1, afork_start(&c, &o, child_return, NULL));
	EXPECT_EQ(EINVAL, errno);
	afork_opts_init(&o);
	o.stack_size = 100;
	EXPECT_EQ(-1, afork_start(&c, &o, child_return, NULL));
	EXPECT_EQ(EINVAL, errno);
	o.stack_size = (size_t)1 << 40;
	EXPECT_EQ(-1, afork_start(&c, &o, child_return, NULL));
	EXPECT_EQ(EINVAL, errno);

	/* A larger struct is fine if its tail is zero, E2BIG if not. */
	memset(&big, 0, sizeof(big));
	afork_opts_init(&big.o);
	big.o.size = sizeof(big);
	big.tail[3] = 1;
	EXPECT_EQ(-1, afork_start(&c, &big.o, child_return, NULL));
	EXPECT_EQ(E2BIG, errno);
	big.tail[3] = 0;
	ASSERT_EQ(0, afork_start(&c, &big.o, child_return, (void *)(long)2));
	EXPECT_EQ(-1, afork_wait(c, &st, WUNTRACED));
	EXPECT_EQ(EINVAL, errno);
	ASSERT_EQ(afork_pid(c), afork_wait(c, &st, 0));
	EXPECT_EQ(2, WEXITSTATUS(st));
	afork_free(c);
	afork_free(NULL);

	EXPECT_EQ(-1, afork_pid(NULL));
	EXPECT_EQ(-1, afork_released(NULL));
	EXPECT_EQ(-1, afork_wait_release(NULL, 0));
	EXPECT_EQ(-1, afork_release_pollfd(NULL, &pfd));
	EXPECT_EQ(NULL, afork_release_word(NULL));
	EXPECT_EQ(-1, afork_wait(NULL, &st, 0));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, afork_pool_set_stack_size(1));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, afork_pool_stats(NULL));
	EXPECT_EQ(EINVAL, errno);
	ps.size = 1;
	EXPECT_EQ(-1, afork_pool_stats(&ps));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(NULL, afork_backend_name(0));

	EXPECT_EQ(fds, count_fds());
	ps.size = sizeof(ps);
	ASSERT_EQ(0, afork_pool_stats(&ps));
	EXPECT_EQ(0, any_child_left());
}

struct emu_state {
	int notify;		/* pipe the callbacks write to */
	pid_t pids[16];
	int released_in_cb[16];
	struct afork_child *dummy;
};

struct emu_job {
	struct emu_state *s;
	int idx;
};

static int child_emu(void *p)
{
	struct emu_job *j = p;

	return 50 + j->idx;
}

static void emu_cb(pid_t pid, void *p)
{
	struct emu_job *j = p;
	char c = (char)j->idx;

	j->s->pids[j->idx] = pid;
	if (write(j->s->notify, &c, 1) != 1)
		abort();
}

/* afork_emulated() runs the job and calls back with the pid after release. */
TEST_F(backend, emulated_callback)
{
	struct emu_state s;
	struct emu_job jobs[16];
	struct pollfd pfd;
	int p[2], i, st;
	char c;

	memset(&s, 0, sizeof(s));
	ASSERT_EQ(0, pipe2(p, O_CLOEXEC));
	s.notify = p[1];
	for (i = 0; i < 16; i++) {
		jobs[i].s = &s;
		jobs[i].idx = i;
		ASSERT_EQ(0, afork_emulated(child_emu, &jobs[i], emu_cb));
	}
	pfd.fd = p[0];
	pfd.events = POLLIN;
	for (i = 0; i < 16; i++) {
		ASSERT_EQ(1, poll(&pfd, 1, 10000));
		ASSERT_EQ(1, read(p[0], &c, 1));
	}
	for (i = 0; i < 16; i++) {
		ASSERT_GT(s.pids[i], 0);
		ASSERT_EQ(s.pids[i], waitpid(s.pids[i], &st, __WALL));
		EXPECT_EQ(50 + i, WEXITSTATUS(st));
	}
	close(p[0]);
	close(p[1]);
}

/* ---------------------------------------------------------------- */
/* Issue 13: release order, flags on vfork, lent fds, pool counts     */

/* Children with a release fd; after poll says released, never EBUSY. */
static int release_order_run(int n)
{
	struct afork_child *c;
	struct afork_opts o;
	struct pollfd pfd;
	int i, busy = 0, st;

	afork_opts_init(&o);
	o.options = AFORK_OPT_RELEASE_FD;
	for (i = 0; i < n; i++) {
		if (afork_start(&c, &o, child_return, (void *)0L))
			return -1;
		if (afork_release_pollfd(c, &pfd) || poll(&pfd, 1, 10000) != 1)
			return -1;
		if (afork_exec_errno(c) == -1 && errno == EBUSY)
			busy++;
		if (afork_wait(c, &st, 0) < 0)
			return -1;
		afork_free(c);
	}
	return busy;
}

/* The release fd fires only once the release word is clear (2,000 runs). */
TEST_F_TIMEOUT(backend, release_fd_after_word, 120)
{
	EXPECT_EQ(0, release_order_run(2000));
}

static void *release_order_thread(void *unused)
{
	return (void *)(long)release_order_run(250);
}

/* The same with 8 threads at once. */
TEST_F_TIMEOUT(backend, release_fd_after_word_threads, 120)
{
	pthread_t t[8];
	void *r;
	int i, busy = 0;

	for (i = 0; i < 8; i++)
		ASSERT_EQ(0, pthread_create(&t[i], NULL, release_order_thread, NULL));
	for (i = 0; i < 8; i++) {
		ASSERT_EQ(0, pthread_join(t[i], &r));
		ASSERT_GE((long)r, 0);
		busy += (int)(long)r;
	}
	EXPECT_EQ(0, busy);
}

/* The vfork backend cannot honour the flags: ENOTSUP, and no child. */
TEST_F(backend, flags_refused_vfork)
{
	struct afork_child *c = NULL;
	struct afork_opts o;

	if (self->id != AFORK_BACKEND_VFORK)
		SKIP(return, "%s honours the flags (flags_* tests)", variant->env);
	errno = 0;
	EXPECT_EQ(-1, aforkx(AFORK_WAITPID, child_return, NULL));
	EXPECT_EQ(ENOTSUP, errno);
	errno = 0;
	EXPECT_EQ(-1, aforkx(AFORK_NOSIGCHLD, child_return, NULL));
	EXPECT_EQ(ENOTSUP, errno);
	afork_opts_init(&o);
	o.flags = AFORK_NOSIGCHLD | AFORK_WAITPID;
	o.options = AFORK_OPT_PIDFD | AFORK_OPT_RELEASE_FD;
	EXPECT_EQ(-1, afork_start(&c, &o, child_return, NULL));
	EXPECT_EQ(ENOTSUP, errno);
	EXPECT_EQ(NULL, c);
	EXPECT_EQ(0, any_child_left());
}

/* Start a child with a pidfd and a release fd that exits at once. */
static struct afork_child *start_with_fds(struct __test_metadata *_metadata)
{
	struct afork_child *c = NULL;
	struct afork_opts o;

	afork_opts_init(&o);
	o.options = AFORK_OPT_PIDFD | AFORK_OPT_RELEASE_FD;
	EXPECT_EQ(0, afork_start(&c, &o, child_return, (void *)5L));
	return c;
}

/*
 * The caller closed the lent @fd and @other took its number: afork_wait()
 * and afork_free() leave it alone.
 */
static void reused_number_survives(struct __test_metadata *_metadata,
				   struct afork_child *c, int fd, int other)
{
	int st;

	ASSERT_GE(other, 0);
	if (other != fd) {
		ASSERT_EQ(fd, dup3(other, fd, O_CLOEXEC));
		close(other);
	}
	ASSERT_EQ(afork_pid(c), afork_wait(c, &st, 0));
	EXPECT_EQ(5, WEXITSTATUS(st));
	afork_free(c);
	EXPECT_NE(-1, fcntl(fd, F_GETFD));
	close(fd);
}

/* A lent pidfd the caller closed: afork_free leaves its reused number alone. */
TEST_F(backend, pidfd_lent_closed)
{
	struct afork_child *c = start_with_fds(_metadata);
	int fd;

	ASSERT_NE(NULL, c);
	fd = afork_pidfd(c);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, close(fd));
	reused_number_survives(_metadata, c, fd, open("/dev/null", O_RDONLY | O_CLOEXEC));
}

/*
 * The same when the reused number holds another pidfd of the same child:
 * one inode under pidfs, but not our file description.
 */
TEST_F(backend, pidfd_lent_closed_same_child)
{
	struct afork_child *c = start_with_fds(_metadata);
	int fd;

	ASSERT_NE(NULL, c);
	fd = afork_pidfd(c);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, close(fd));
	reused_number_survives(_metadata, c, fd,
			       (int)syscall(SYS_pidfd_open, afork_pid(c), 0));
}

/* The same for a lent release fd. */
TEST_F(backend, release_fd_lent_closed)
{
	struct afork_child *c = start_with_fds(_metadata);
	struct pollfd pfd;

	ASSERT_NE(NULL, c);
	ASSERT_EQ(0, afork_release_pollfd(c, &pfd));
	ASSERT_EQ(0, close(pfd.fd));
	reused_number_survives(_metadata, c, pfd.fd, open("/dev/null", O_RDONLY | O_CLOEXEC));
}

/*
 * The same when the reused number holds a descriptor of the release fd's
 * kind: eventfds (vfork) share one inode, and so do pidfds of the child
 * (syscall backend).
 */
TEST_F(backend, release_fd_lent_closed_same_kind)
{
	struct afork_child *c = start_with_fds(_metadata);
	struct pollfd pfd;
	int other, p[2];

	ASSERT_NE(NULL, c);
	ASSERT_EQ(0, afork_release_pollfd(c, &pfd));
	ASSERT_EQ(0, close(pfd.fd));
	if (self->id == AFORK_BACKEND_VFORK) {
		other = eventfd(0, EFD_CLOEXEC);
	} else if (self->id == AFORK_BACKEND_SYSCALL) {
		other = (int)syscall(SYS_pidfd_open, afork_pid(c), 0);
	} else {
		ASSERT_EQ(0, pipe2(p, O_CLOEXEC));
		close(p[1]);
		other = p[0];
	}
	reused_number_survives(_metadata, c, pfd.fd, other);
}

/* afork_take_pidfd() without a pidfd: -1 and an errno. */
TEST_F(backend, take_pidfd_sets_errno)
{
	struct afork_child *c;
	int st;

	ASSERT_EQ(0, afork_start(&c, NULL, child_return, NULL));
	errno = 0;
	EXPECT_EQ(-1, afork_take_pidfd(c));
	EXPECT_EQ(ENOENT, errno);
	ASSERT_EQ(afork_pid(c), afork_wait(c, &st, 0));
	afork_free(c);
}

static int stats_notify = -1;

static void stats_cb(pid_t pid, void *unused)
{
	char b = pid > 0 ? 1 : 0;

	if (write(stats_notify, &b, 1) != 1)
		abort();
}

/* Released children without a handle are not counted busy. */
TEST_F(backend, pool_stats_released_not_busy)
{
	struct afork_pool_stats st;
	struct pollfd pfd;
	pid_t pid[4];
	int p[2], i, s;
	char b;

	ASSERT_EQ(0, pipe2(p, O_CLOEXEC));
	stats_notify = p[1];
	for (i = 0; i < 4; i++) {
		if (self->id == AFORK_BACKEND_VFORK) {
			/* The callback runs once the worker has released. */
			ASSERT_EQ(0, afork_emulated(child_return, NULL, stats_cb));
		} else {
			/* The kernel clears the word before the exit is seen. */
			pid[i] = afork(child_return, NULL);
			ASSERT_GT(pid[i], 0);
			ASSERT_EQ(pid[i], waitpid(pid[i], &s, __WALL));
		}
	}
	if (self->id == AFORK_BACKEND_VFORK) {
		pfd.fd = p[0];
		pfd.events = POLLIN;
		for (i = 0; i < 4; i++) {
			ASSERT_EQ(1, poll(&pfd, 1, 10000));
			ASSERT_EQ(1, read(p[0], &b, 1));
			ASSERT_EQ(1, b);
		}
		while (waitpid(-1, &s, __WALL) > 0)
			;
	}
	memset(&st, 0, sizeof(st));
	st.size = sizeof(st);
	ASSERT_EQ(0, afork_pool_stats(&st));
	EXPECT_EQ(0UL, st.stacks_busy);
	EXPECT_EQ(st.stacks_total, st.stacks_free + st.stacks_busy);
	close(p[0]);
	close(p[1]);
}

int main(int argc, char **argv)
{
	/* Re-exec'd as the helper program by the exec tests. */
	if (argc > 1 && !strcmp(argv[1], "--helper"))
		return run_helper(argc, argv);
	return test_harness_run(argc, argv);
}
