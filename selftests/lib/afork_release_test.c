// SPDX-License-Identifier: MIT
/*
 * libafork tests, the release: reported when exec commits or the child
 * exits, not before, by every measure (afork_released(), the release word,
 * afork_wait_release(), the release fd); the fd fires only once the word
 * is clear.
 */
#include <pthread.h>

#include "afork_test_fixture.h"

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

AFORK_TEST_MAIN
