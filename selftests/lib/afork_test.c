// SPDX-License-Identifier: MIT
/*
 * libafork tests, the basics: afork() returns before the child ends, the
 * child shares the caller's memory, fn's return value is the exit status,
 * many children in flight, the child-side helpers, afork_emulated(), and
 * afork after fork().  Other topics have programs of their own (see
 * afork_test_fixture.h).
 */
#include "afork_test_fixture.h"

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

/* fn's return value is the exit status (its low 8 bits). */
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
}

/* A child killed by a signal is reported as such. */
TEST_F(backend, exit_status_signal)
{
	pid_t pid;
	int st;

	pid = afork(child_kill_self, (void *)(long)SIGTERM);
	ASSERT_GT(pid, 0);
	ASSERT_EQ(pid, waitpid(pid, &st, __WALL));
	ASSERT_TRUE(WIFSIGNALED(st));
	EXPECT_EQ(SIGTERM, WTERMSIG(st));
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

AFORK_TEST_MAIN
