// SPDX-License-Identifier: MIT
/*
 * libafork tests, bad arguments: each fails with the documented errno and
 * leaks nothing (no fd, no child).  One behaviour per test.
 */
#include "afork_test_fixture.h"

/* No fd and no child left behind since @fds were open. */
#define EXPECT_NOTHING_LEFT(fds) do {					\
	EXPECT_EQ((fds), count_fds());					\
	EXPECT_EQ(0, any_child_left());					\
} while (0)

/* afork_start() with @o fails with @err, and leaves nothing. */
static void expect_start_fails(struct __test_metadata *_metadata,
			       const struct afork_opts *o, int err)
{
	struct afork_child *c = NULL;
	int fds = count_fds();

	EXPECT_EQ(-1, afork_start(&c, o, child_return, NULL));
	EXPECT_EQ(err, errno);
	EXPECT_NOTHING_LEFT(fds);
}

/* afork() without a function: EINVAL. */
TEST_F(backend, afork_null_fn)
{
	int fds = count_fds();

	errno = 0;
	EXPECT_EQ(-1, afork(NULL, NULL));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_NOTHING_LEFT(fds);
}

/* aforkx() with flags it does not know: EINVAL. */
TEST_F(backend, aforkx_unknown_flags)
{
	int fds = count_fds();

	EXPECT_EQ(-1, aforkx(4, child_return, NULL));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, aforkx(-1, child_return, NULL));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_NOTHING_LEFT(fds);
}

/* afork_start() without a place for the handle: EINVAL. */
TEST_F(backend, start_null_handle)
{
	int fds = count_fds();

	EXPECT_EQ(-1, afork_start(NULL, NULL, child_return, NULL));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_NOTHING_LEFT(fds);
}

/* afork_start() without a function: EINVAL. */
TEST_F(backend, start_null_fn)
{
	struct afork_child *c = NULL;
	int fds = count_fds();

	EXPECT_EQ(-1, afork_start(&c, NULL, NULL, NULL));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_NOTHING_LEFT(fds);
}

/* afork_emulated() without a function: EINVAL. */
TEST_F(backend, emulated_null_fn)
{
	int fds = count_fds();

	EXPECT_EQ(-1, afork_emulated(NULL, NULL, NULL));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_NOTHING_LEFT(fds);
}

/* Options smaller than the first version's: EINVAL. */
TEST_F(backend, opts_too_small)
{
	struct afork_opts o;

	afork_opts_init(&o);
	o.size = AFORK_OPTS_SIZE_VER0 - 8;
	expect_start_fails(_metadata, &o, EINVAL);
}

/* An option bit nobody defined: EINVAL. */
TEST_F(backend, opts_unknown_option)
{
	struct afork_opts o;

	afork_opts_init(&o);
	o.options = 0x80;
	expect_start_fails(_metadata, &o, EINVAL);
}

/* A stack size too small to run on: EINVAL. */
TEST_F(backend, opts_stack_too_small)
{
	struct afork_opts o;

	afork_opts_init(&o);
	o.stack_size = 100;
	expect_start_fails(_metadata, &o, EINVAL);
}

/* A stack size beyond any sense (1 TiB): EINVAL. */
TEST_F(backend, opts_stack_too_big)
{
	struct afork_opts o;

	afork_opts_init(&o);
	o.stack_size = (size_t)1 << 40;
	expect_start_fails(_metadata, &o, EINVAL);
}

/* A larger struct than the library knows, with a non-zero tail: E2BIG. */
TEST_F(backend, opts_larger_tail_set)
{
	struct { struct afork_opts o; char tail[16]; } big;

	memset(&big, 0, sizeof(big));
	afork_opts_init(&big.o);
	big.o.size = sizeof(big);
	big.tail[3] = 1;
	expect_start_fails(_metadata, &big.o, E2BIG);
}

/* A larger struct whose tail is zero is fine. */
TEST_F(backend, opts_larger_tail_zero)
{
	struct { struct afork_opts o; char tail[16]; } big;
	struct afork_child *c = NULL;
	int fds = count_fds(), st;

	memset(&big, 0, sizeof(big));
	afork_opts_init(&big.o);
	big.o.size = sizeof(big);
	ASSERT_EQ(0, afork_start(&c, &big.o, child_return, (void *)(long)2));
	ASSERT_EQ(afork_pid(c), afork_wait(c, &st, 0));
	EXPECT_EQ(2, WEXITSTATUS(st));
	afork_free(c);
	EXPECT_NOTHING_LEFT(fds);
}

/* afork_wait() with options it does not take (WUNTRACED): EINVAL, child kept. */
TEST_F(backend, wait_bad_options)
{
	struct afork_child *c = NULL;
	int fds = count_fds(), st;

	ASSERT_EQ(0, afork_start(&c, NULL, child_return, (void *)(long)2));
	EXPECT_EQ(-1, afork_wait(c, &st, WUNTRACED));
	EXPECT_EQ(EINVAL, errno);
	ASSERT_EQ(afork_pid(c), afork_wait(c, &st, 0));
	EXPECT_EQ(2, WEXITSTATUS(st));
	afork_free(c);
	EXPECT_NOTHING_LEFT(fds);
}

/* Every accessor refuses a NULL handle; afork_free(NULL) does nothing. */
TEST_F(backend, null_handle)
{
	struct pollfd pfd;
	int fds = count_fds(), st;

	afork_free(NULL);
	EXPECT_EQ(-1, afork_pid(NULL));
	EXPECT_EQ(-1, afork_released(NULL));
	EXPECT_EQ(-1, afork_wait_release(NULL, 0));
	EXPECT_EQ(-1, afork_release_pollfd(NULL, &pfd));
	EXPECT_EQ(NULL, afork_release_word(NULL));
	EXPECT_EQ(-1, afork_wait(NULL, &st, 0));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_NOTHING_LEFT(fds);
}

/* A pool stack size too small to run on: EINVAL. */
TEST_F(backend, pool_stack_size_too_small)
{
	int fds = count_fds();

	EXPECT_EQ(-1, afork_pool_set_stack_size(1));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_NOTHING_LEFT(fds);
}

/* afork_pool_stats() without a struct: EINVAL. */
TEST_F(backend, pool_stats_null)
{
	int fds = count_fds();

	EXPECT_EQ(-1, afork_pool_stats(NULL));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_NOTHING_LEFT(fds);
}

/* afork_pool_stats() with a size no version had: EINVAL; the right one works. */
TEST_F(backend, pool_stats_bad_size)
{
	struct afork_pool_stats ps = { .size = 1 };
	int fds = count_fds();

	EXPECT_EQ(-1, afork_pool_stats(&ps));
	EXPECT_EQ(EINVAL, errno);
	ps.size = sizeof(ps);
	ASSERT_EQ(0, afork_pool_stats(&ps));
	EXPECT_NOTHING_LEFT(fds);
}

/* No backend has the number 0: no name. */
TEST_F(backend, backend_name_unknown)
{
	EXPECT_EQ(NULL, afork_backend_name(0));
}

AFORK_TEST_MAIN
