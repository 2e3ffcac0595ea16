// SPDX-License-Identifier: MIT
/*
 * The seed's spellings: emulated_afork() and avfork(), both on the vfork
 * worker pool whatever the backend.  Each TEST_F runs once per backend
 * (the harness forks per test, so AFORK_BACKEND set in the setup holds
 * for that test alone); the result must not depend on it.
 */
#include <poll.h>

#include "afork_test_util.h"
#include "kselftest_harness.h"

FIXTURE(seed) {
	int id;
};

FIXTURE_VARIANT(seed) {
	const char *env;
};

FIXTURE_VARIANT_ADD(seed, clone3) {
	.env = "clone3",
};

FIXTURE_VARIANT_ADD(seed, vfork) {
	.env = "vfork",
};

FIXTURE_SETUP(seed)
{
	setenv("AFORK_BACKEND", variant->env, 1);
	self->id = afork_backend();
	if (self->id < 0)
		SKIP(return, "backend %s not available here: %s",
		     variant->env, strerror(errno));
}

FIXTURE_TEARDOWN(seed)
{
}

static int child_return(void *p)
{
	return (int)(long)p;
}

/* avfork() returns the child's pid; waitpid gets fn's return value. */
TEST_F(seed, avfork_pid)
{
	pid_t pid;
	int st;

	pid = avfork(child_return, (void *)17L);
	ASSERT_GT(pid, 0);
	ASSERT_EQ(pid, waitpid(pid, &st, __WALL));
	ASSERT_TRUE(WIFEXITED(st));
	EXPECT_EQ(17, WEXITSTATUS(st));
	EXPECT_EQ(0, any_child_left());
}

/* avfork() shares memory with the caller, as afork() does. */
static int child_store(void *p)
{
	*(volatile int *)p = 42;
	return 0;
}

TEST_F(seed, avfork_shares_memory)
{
	volatile int word = 0;
	pid_t pid;
	int st;

	pid = avfork(child_store, (void *)&word);
	ASSERT_GT(pid, 0);
	ASSERT_EQ(pid, waitpid(pid, &st, __WALL));
	EXPECT_EQ(42, word);
}

/* avfork(NULL, ...): -1 and EINVAL, no child. */
TEST_F(seed, avfork_null)
{
	errno = 0;
	EXPECT_EQ(-1, avfork(NULL, NULL));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(0, any_child_left());
}

static int seed_notify = -1;
static volatile pid_t seed_pid;

static void seed_cb(pid_t pid)
{
	char b = 1;

	seed_pid = pid;
	if (write(seed_notify, &b, 1) != 1)
		abort();
}

/* emulated_afork() returns 0 at once; the callback gets the child's pid. */
TEST_F(seed, emulated_afork_callback)
{
	struct pollfd pfd;
	int p[2], st;
	char b;

	ASSERT_EQ(0, pipe2(p, O_CLOEXEC));
	seed_notify = p[1];
	seed_pid = 0;
	ASSERT_EQ(0, emulated_afork(child_return, (void *)23L, seed_cb));
	pfd.fd = p[0];
	pfd.events = POLLIN;
	ASSERT_EQ(1, poll(&pfd, 1, 10000));
	ASSERT_EQ(1, read(p[0], &b, 1));
	ASSERT_GT(seed_pid, 0);
	ASSERT_EQ(seed_pid, waitpid(seed_pid, &st, __WALL));
	EXPECT_EQ(23, WEXITSTATUS(st));
	close(p[0]);
	close(p[1]);
}

/* The child writes one byte to the pipe, then exits with 29. */
static int child_write_exit(void *p)
{
	char b = 1;

	afork_child_write(*(int *)p, &b, 1);
	return 29;
}

/* emulated_afork() without a callback still runs the child. */
TEST_F(seed, emulated_afork_no_callback)
{
	struct pollfd pfd;
	int p[2], st;
	pid_t pid;
	char b;

	ASSERT_EQ(0, pipe2(p, O_CLOEXEC));
	ASSERT_EQ(0, emulated_afork(child_write_exit, &p[1], NULL));
	/* The worker vforks later: the byte says the child exists. */
	pfd.fd = p[0];
	pfd.events = POLLIN;
	ASSERT_EQ(1, poll(&pfd, 1, 10000));
	ASSERT_EQ(1, read(p[0], &b, 1));
	pid = waitpid(-1, &st, __WALL);
	close(p[0]);
	close(p[1]);
	ASSERT_GT(pid, 0);
	EXPECT_EQ(29, WEXITSTATUS(st));
}

/* emulated_afork(NULL, ...): -1 and EINVAL. */
TEST_F(seed, emulated_afork_null)
{
	errno = 0;
	EXPECT_EQ(-1, emulated_afork(NULL, NULL, seed_cb));
	EXPECT_EQ(EINVAL, errno);
}

/*
 * The seed's calls work as the program's first libafork call: the harness
 * forks each TEST from a main that has not touched the library, and this
 * one has no fixture that would.
 */
TEST(emulated_afork_first_call)
{
	int p[2], i, st;
	char b;

	ASSERT_EQ(0, pipe2(p, O_CLOEXEC));
	for (i = 0; i < 3; i++) {
		ASSERT_EQ(0, emulated_afork(child_write_exit, &p[1], NULL));
		ASSERT_EQ(1, read(p[0], &b, 1));
	}
	for (i = 0; i < 3; i++) {
		ASSERT_LT(0, waitpid(-1, &st, __WALL));
		EXPECT_EQ(29, WEXITSTATUS(st));
	}
	close(p[0]);
	close(p[1]);
}

/* avfork() as the program's first libafork call, then again. */
TEST(avfork_first_call)
{
	pid_t pid;
	int i, st;

	for (i = 0; i < 3; i++) {
		pid = avfork(child_return, (void *)(long)(31 + i));
		ASSERT_GT(pid, 0);
		ASSERT_EQ(pid, waitpid(pid, &st, __WALL));
		EXPECT_EQ(31 + i, WEXITSTATUS(st));
	}
}

TEST_HARNESS_MAIN
