// SPDX-License-Identifier: MIT
/*
 * libafork tests, exec from the child: a failed exec reports its errno
 * (afork_exec_errno()) and leaves the parent's errno alone, the PATH
 * search's rules, and afork_ctx_set_error().  One behaviour per test.
 */
#include "afork_test_fixture.h"

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

/*
 * The tree of the exec tests, in a new tmpdir: noexec (a script without
 * the x bit), junk (executable, but no program) and afork-helper (a link
 * to this program, which runs as the helper).
 */
static void exec_tree(struct __test_metadata *_metadata, char *tmp, size_t len)
{
	char path[PATH_MAX + 32];

	ASSERT_NE(NULL, helper_path());
	ASSERT_EQ(0, make_tmpdir(tmp, len));
	snprintf(path, sizeof(path), "%s/noexec", tmp);
	ASSERT_EQ(0, write_file(path, "#!/bin/sh\nexit 0\n", 0644));
	snprintf(path, sizeof(path), "%s/junk", tmp);
	ASSERT_EQ(0, write_file(path, "\x01\x02\x03 not a program\n", 0755));
	snprintf(path, sizeof(path), "%s/afork-helper", tmp);
	ASSERT_EQ(0, symlink(helper_path(), path));
}

/* A job exec'ing @path (searched in @search if not NULL) as the helper. */
static void exec_job_init(struct exec_job *j, const char *path, const char *search)
{
	memset(j, 0, sizeof(*j));
	j->path = path;
	j->search = search;
	j->argv[0] = "x";
	j->argv[1] = "--helper";
	j->argv[2] = "exit";
	j->argv[3] = "3";
}

/* Exec @name of the tree (or @name itself if it starts with a slash). */
static int exec_in_tree(struct __test_metadata *_metadata, const char *tmp,
			const char *name, const char *search, int *status)
{
	char path[PATH_MAX + 32];
	struct exec_job j;

	if (name[0] == '/' || search)
		snprintf(path, sizeof(path), "%s", name);
	else
		snprintf(path, sizeof(path), "%s/%s", tmp, name);
	exec_job_init(&j, path, search);
	return run_exec(_metadata, &j, status);
}

/* A missing file: ENOENT, and the child exits 127. */
TEST_F(backend, exec_errors_enoent)
{
	int st = 0;

	EXPECT_EQ(ENOENT, exec_in_tree(_metadata, NULL, "/nonexistent/afork-test",
				       NULL, &st));
	EXPECT_EQ(127, WEXITSTATUS(st));
}

/* A file without the x bit: EACCES. */
TEST_F(backend, exec_errors_eacces)
{
	int st = 0;

	exec_tree(_metadata, self->tmp, sizeof(self->tmp));
	EXPECT_EQ(EACCES, exec_in_tree(_metadata, self->tmp, "noexec", NULL, &st));
}

/* An executable that is no program: ENOEXEC. */
TEST_F(backend, exec_errors_enoexec)
{
	int st = 0;

	exec_tree(_metadata, self->tmp, sizeof(self->tmp));
	EXPECT_EQ(ENOEXEC, exec_in_tree(_metadata, self->tmp, "junk", NULL, &st));
}

/* A file used as a directory: ENOTDIR. */
TEST_F(backend, exec_errors_enotdir)
{
	int st = 0;

	exec_tree(_metadata, self->tmp, sizeof(self->tmp));
	EXPECT_EQ(ENOTDIR, exec_in_tree(_metadata, self->tmp, "noexec/x", NULL, &st));
}

/* An empty path: ENOENT. */
TEST_F(backend, exec_errors_empty_path)
{
	struct exec_job j;
	int st = 0;

	exec_job_init(&j, "", NULL);
	EXPECT_EQ(ENOENT, run_exec(_metadata, &j, &st));
}

/* PATH search: ENOENT goes on, and an EACCES met on the way is remembered. */
TEST_F(backend, exec_errors_search_eacces)
{
	char search[2 * PATH_MAX + 16];
	int st = 0;

	exec_tree(_metadata, self->tmp, sizeof(self->tmp));
	snprintf(search, sizeof(search), "/nonexistent:%s", self->tmp);
	EXPECT_EQ(EACCES, exec_in_tree(_metadata, self->tmp, "noexec", search, &st));
}

/* PATH search: found nowhere, ENOENT. */
TEST_F(backend, exec_errors_search_enoent)
{
	char search[2 * PATH_MAX + 16];
	int st = 0;

	exec_tree(_metadata, self->tmp, sizeof(self->tmp));
	snprintf(search, sizeof(search), "/nonexistent:%s", self->tmp);
	EXPECT_EQ(ENOENT, exec_in_tree(_metadata, self->tmp, "nosuch", search, &st));
}

/* PATH search: ENOEXEC stops it. */
TEST_F(backend, exec_errors_search_enoexec)
{
	char search[2 * PATH_MAX + 16];
	int st = 0;

	exec_tree(_metadata, self->tmp, sizeof(self->tmp));
	snprintf(search, sizeof(search), "%s:/bin:/usr/bin", self->tmp);
	EXPECT_EQ(ENOEXEC, exec_in_tree(_metadata, self->tmp, "junk", search, &st));
}

/* PATH search: a hit after misses (and an empty entry) execs, no error recorded. */
TEST_F(backend, exec_errors_search_hit)
{
	char search[2 * PATH_MAX + 16];
	int st = 0;

	exec_tree(_metadata, self->tmp, sizeof(self->tmp));
	snprintf(search, sizeof(search), "/nonexistent::%s", self->tmp);
	EXPECT_EQ(0, exec_in_tree(_metadata, self->tmp, "afork-helper", search, &st));
	EXPECT_TRUE(WIFEXITED(st));
	EXPECT_EQ(3, WEXITSTATUS(st));
}

/* PATH search: EACCES in an earlier directory does not stop it. */
TEST_F(backend, exec_errors_search_past_eacces)
{
	char search[2 * PATH_MAX + 16], path[PATH_MAX + 32];
	int st = 0;

	exec_tree(_metadata, self->tmp, sizeof(self->tmp));
	snprintf(path, sizeof(path), "%s/d", self->tmp);
	ASSERT_EQ(0, mkdir(path, 0755));
	snprintf(path, sizeof(path), "%s/d/afork-helper", self->tmp);
	ASSERT_EQ(0, write_file(path, "not this one\n", 0644));
	snprintf(search, sizeof(search), "%s/d:%s", self->tmp, self->tmp);
	EXPECT_EQ(0, exec_in_tree(_metadata, self->tmp, "afork-helper", search, &st));
	EXPECT_EQ(3, WEXITSTATUS(st));
}

/* A path with a slash is not searched. */
TEST_F(backend, exec_errors_slash_not_searched)
{
	char link[PATH_MAX + 32];
	struct exec_job j;
	int st = 0;

	exec_tree(_metadata, self->tmp, sizeof(self->tmp));
	snprintf(link, sizeof(link), "%s/afork-helper", self->tmp);
	exec_job_init(&j, link, "/nonexistent");
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

AFORK_TEST_MAIN
