// SPDX-License-Identifier: MIT
/*
 * libafork tests, the stack pool: stacks are reused and trimmed, the pool
 * is bounded, its counts are right, opts->stack_size is honoured and the
 * guard page stops an overflow, and threads leak nothing.
 */
#include <pthread.h>
#include <sys/utsname.h>

#include "afork_test_fixture.h"

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

/* With a handle, afork_wait() + afork_free() give the stack back at once. */
TEST_F(backend, pool_reuse)
{
	struct afork_pool_stats ps = { .size = sizeof(ps) };
	int i, st;

	ASSERT_EQ(0, afork_pool_stats(&ps));
	EXPECT_EQ(64u * 1024, ps.stack_size);
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
}

/* @n plain afork() children, each reaped with waitpid() before the next. */
static void plain_children(struct __test_metadata *_metadata, int n)
{
	int i, st;
	pid_t pid;

	for (i = 0; i < n; i++) {
		pid = afork(child_return, (void *)(long)i);
		ASSERT_GT(pid, 0);
		ASSERT_EQ(pid, waitpid(pid, &st, __WALL));
		ASSERT_EQ(i, WEXITSTATUS(st));
	}
}

/* Plain afork(): the stack is reused once the release is seen. */
TEST_F(backend, pool_reuse_plain)
{
	struct afork_pool_stats ps = { .size = sizeof(ps) };
	int ours;

	plain_children(_metadata, 20);
	ASSERT_EQ(0, afork_pool_stats(&ps));
	EXPECT_LE(ps.maps, 2ul + (unsigned long)settled(self->id));
	EXPECT_EQ(ps.stacks_total, ps.stacks_free + ps.stacks_busy);
	count_maps(pool_rw_size(64 * 1024), &ours);
	EXPECT_EQ((int)ps.stacks_total, ours);
}

/* afork_pool_trim() unmaps the free stacks. */
TEST_F(backend, pool_trim)
{
	struct afork_pool_stats ps = { .size = sizeof(ps) };
	int ours;

	plain_children(_metadata, 20);
	EXPECT_GE(afork_pool_trim(), self->id == AFORK_BACKEND_VFORK ? 0 : 1);
	ASSERT_EQ(0, afork_pool_stats(&ps));
	EXPECT_LE(ps.stacks_total, (unsigned long)settled(self->id));
	/*
	 * A vfork worker may give its last child's stack back after the
	 * trim (settled()): then it is free, and no more than those.
	 */
	if (self->id == AFORK_BACKEND_VFORK) {
		EXPECT_LE(ps.stacks_free, (unsigned long)settled(self->id));
	} else {
		EXPECT_EQ(0ul, ps.stacks_free);
	}
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

/*
 * @n children of stack size @size (0: the default) at once, each blocked
 * on a pipe until all exist, then reaped and freed: @n free stacks.
 */
static void burst(struct __test_metadata *_metadata, int n, size_t size)
{
	struct afork_child *c[16];
	struct afork_opts o;
	struct pipe_job j;
	int p[2], i, st;

	ASSERT_LE(n, 16);
	ASSERT_EQ(0, pipe2(p, O_CLOEXEC));
	afork_opts_init(&o);
	o.stack_size = size;
	j.rfd = p[0];
	j.ret = 0;
	for (i = 0; i < n; i++)
		ASSERT_EQ(0, afork_start(&c[i], &o, child_read_exit, &j));
	for (i = 0; i < n; i++)
		ASSERT_EQ(1, write(p[1], "x", 1));
	for (i = 0; i < n; i++) {
		ASSERT_EQ(afork_pid(c[i]), afork_wait(c[i], &st, 0));
		afork_free(c[i]);
	}
	close(p[0]);
	close(p[1]);
}

/* Lowering max_free unmaps the free stacks beyond it at once. */
TEST_F(backend, pool_limits_shrink_free)
{
	struct afork_pool_stats ps = { .size = sizeof(ps) };

	burst(_metadata, 8, 0);
	ASSERT_EQ(0, afork_pool_stats(&ps));
	ASSERT_GE(ps.stacks_free, 3ul);
	ASSERT_EQ(0, afork_pool_set_limits(0, 2));
	ASSERT_EQ(0, afork_pool_stats(&ps));
	EXPECT_LE(ps.stacks_free, 2ul);
	EXPECT_EQ(ps.stacks_total, ps.stacks_free + ps.stacks_busy);
}

/*
 * The free budget is one for every size, and the least recently used
 * stack makes way: after a burst of default stacks has filled it,
 * children of another kept size (spawn's and popen's) reuse theirs.
 */
TEST_F(backend, pool_free_budget_lru)
{
	struct afork_pool_stats ps0 = { .size = sizeof(ps0) };
	struct afork_pool_stats ps = { .size = sizeof(ps) };
	struct afork_opts o;
	int i, st;

	ASSERT_EQ(0, afork_pool_set_limits(0, 4));
	burst(_metadata, 4, 0);
	ASSERT_EQ(0, afork_pool_stats(&ps0));
	afork_opts_init(&o);
	o.stack_size = 128 * 1024;
	for (i = 0; i < 10; i++) {
		struct afork_child *c;

		ASSERT_EQ(0, afork_start(&c, &o, child_return, NULL));
		ASSERT_EQ(afork_pid(c), afork_wait(c, &st, 0));
		afork_free(c);
	}
	ASSERT_EQ(0, afork_pool_stats(&ps));
	EXPECT_LE(ps.maps - ps0.maps,
		  self->id == AFORK_BACKEND_VFORK ? 2ul : 1ul);
	EXPECT_LE(ps.stacks_free, 4ul);
}

/* A new default size unmaps the free stacks of sizes no longer kept. */
TEST_F(backend, pool_stack_size_change_drops_unkept)
{
	struct afork_pool_stats ps = { .size = sizeof(ps) };

	ASSERT_EQ(0, afork_pool_set_stack_size(80 * 1024));
	burst(_metadata, 4, 0);
	ASSERT_EQ(0, afork_pool_stats(&ps));
	ASSERT_GE(ps.stacks_free, 1ul);
	ASSERT_EQ(0, afork_pool_set_stack_size(96 * 1024));
	ASSERT_EQ(0, afork_pool_stats(&ps));
	EXPECT_EQ(0ul, ps.stacks_free);
	EXPECT_EQ(ps.stacks_total, ps.stacks_busy);
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

/* opts->stack_size sets the child's stack. */
TEST_F(backend, stack_size)
{
	struct afork_child *c;
	struct afork_opts o;
	int st;

	afork_opts_init(&o);
	o.stack_size = 1024 * 1024;
	ASSERT_EQ(0, afork_start(&c, &o, child_big_stack, (void *)6L));
	ASSERT_EQ(afork_pid(c), afork_wait(c, &st, 0));
	ASSERT_TRUE(WIFEXITED(st));
	EXPECT_EQ(6, WEXITSTATUS(st));
	afork_free(c);
}

/* Overflowing the stack hits the guard page: SIGSEGV, not the neighbour. */
TEST_F(backend, stack_guard)
{
	struct afork_child *c;
	struct utsname u;
	int st, major = 0, minor = 0;

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

AFORK_TEST_MAIN
