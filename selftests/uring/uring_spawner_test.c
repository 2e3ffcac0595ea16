// SPDX-License-Identifier: MIT
/*
 * examples/uring-spawner, run on a small N with its output checked.
 * The program is $URING_SPAWNER, else uring-spawner beside this test,
 * else ../../examples/uring-spawner from it (the layout of build/host).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <kselftest_harness.h>

#include "uring_test_util.h"

static const char *spawner(void)
{
	static char path[PATH_MAX];
	const char *env = getenv("URING_SPAWNER");
	char *slash;
	ssize_t n;

	if (env && *env)
		return env;
	n = readlink("/proc/self/exe", path, sizeof(path) - 64);
	if (n < 0)
		return NULL;
	path[n] = 0;
	slash = strrchr(path, '/');
	strcpy(slash ? slash + 1 : path, "uring-spawner");
	if (access(path, X_OK) == 0 || !slash)
		return path;
	strcpy(slash + 1, "../../examples/uring-spawner");
	return path;
}

struct output {
	char *text;	/* stdout, NUL-terminated */
	int status;	/* waitpid() status */
};

/* Run the example with args (and optional NAME=VALUE pairs in env). */
static int run(struct output *o, char *const env[], char *const args[])
{
	const char *prog = spawner();
	char *argv[32];
	size_t len = 0, cap = 4096;
	int pfd[2], i;
	pid_t pid;
	ssize_t n;

	if (!prog || access(prog, X_OK))
		return -1;
	argv[0] = (char *)prog;
	for (i = 0; args[i] && i < 30; i++)
		argv[i + 1] = args[i];
	argv[i + 1] = NULL;
	if (pipe2(pfd, O_CLOEXEC))
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		dup2(pfd[1], 1);
		for (i = 0; env && env[i]; i++)
			putenv(env[i]);
		execv(prog, argv);
		_exit(126);
	}
	close(pfd[1]);
	o->text = malloc(cap);
	while (o->text && (n = read(pfd[0], o->text + len, cap - len - 1)) > 0) {
		len += (size_t)n;
		if (cap - len < 512)
			o->text = realloc(o->text, cap *= 2);
	}
	close(pfd[0]);
	if (!o->text || waitpid(pid, &o->status, 0) != pid)
		return -1;
	o->text[len] = 0;
	return 0;
}

/* Lines of text starting with prefix. */
static int count_lines(const char *text, const char *prefix, const char *has)
{
	const char *p = text;
	int n = 0;

	while (*p) {
		const char *end = strchr(p, '\n');
		size_t l = end ? (size_t)(end - p) : strlen(p);
		char line[512];

		if (l >= sizeof(line))
			l = sizeof(line) - 1;
		memcpy(line, p, l);
		line[l] = 0;
		if (!strncmp(line, prefix, strlen(prefix)) &&
		    (!has || strstr(line, has)))
			n++;
		p += end ? l + 1 : l;
	}
	return n;
}

/* The output as TAP comments, a line each. */
#define LOG_OUTPUT(text) do {						\
	const char *_p = (text);					\
	while (_p && *_p) {						\
		const char *_e = strchr(_p, '\n');			\
		int _l = _e ? (int)(_e - _p) : (int)strlen(_p);		\
		TH_LOG("| %.*s", _l, _p);				\
		_p += _e ? _l + 1 : _l;					\
	}								\
} while (0)

FIXTURE(spawner) {
	struct output o;
};

FIXTURE_SETUP(spawner)
{
	const char *prog = spawner();

	memset(&self->o, 0, sizeof(self->o));
	ASSERT_NE(NULL, prog);
	ASSERT_EQ(0, access(prog, X_OK)) {
		TH_LOG("%s: %s (set URING_SPAWNER)", prog, strerror(errno));
	}
}

FIXTURE_TEARDOWN(spawner)
{
	free(self->o.text);
}

/* 20 x /bin/true, 4 at a time: a line "exit 0" per child, exit status 0. */
TEST_F(spawner, all_succeed)
{
	char *args[] = { "-n", "20", "-k", "4", "--", "/bin/true", NULL };
	char want[32];
	int i;

	ASSERT_EQ(0, run(&self->o, NULL, args));
	LOG_OUTPUT(self->o.text);
	EXPECT_TRUE(WIFEXITED(self->o.status));
	EXPECT_EQ(0, WEXITSTATUS(self->o.status));
	EXPECT_EQ(20, count_lines(self->o.text, "child ", ", exit 0"));
	for (i = 1; i <= 20; i++) {
		snprintf(want, sizeof(want), "child %d: ", i);
		EXPECT_EQ(1, count_lines(self->o.text, want, NULL)) {
			TH_LOG("no single line for %s", want);
		}
	}
	EXPECT_EQ(1, count_lines(self->o.text,
		"uring-spawner: 20 children, at most 4 in flight, 0 failed, ",
		" children/s (backend "));
}

/* A command exiting 3: reported per child, exit status 1. */
TEST_F(spawner, command_fails)
{
	char *args[] = { "-n", "6", "-k", "3", "--", "/bin/sh", "-c", "exit 3",
			 NULL };

	ASSERT_EQ(0, run(&self->o, NULL, args));
	EXPECT_TRUE(WIFEXITED(self->o.status));
	EXPECT_EQ(1, WEXITSTATUS(self->o.status));
	EXPECT_EQ(6, count_lines(self->o.text, "child ", ", exit 3"));
	EXPECT_EQ(1, count_lines(self->o.text, "uring-spawner: 6 children, ",
				 " 6 failed, "));
}

/* A command that cannot be exec'd: its errno per child, exit status 1. */
TEST_F(spawner, exec_fails)
{
	char *args[] = { "-n", "3", "-k", "2", "--", "/nonexistent/cmd", NULL };

	ASSERT_EQ(0, run(&self->o, NULL, args));
	LOG_OUTPUT(self->o.text);
	EXPECT_EQ(1, WEXITSTATUS(self->o.status));
	EXPECT_EQ(3, count_lines(self->o.text, "child ",
				 "exec failed: "));
	EXPECT_EQ(3, count_lines(self->o.text, "child ",
				 " (errno 2), exit 127"));
}

/* -q: only the summary when every child succeeds; the degraded paths forced. */
TEST_F(spawner, quiet_degraded)
{
	char *env[] = { "AFORK_URING_RELEASE=poll", "AFORK_URING_EXIT=poll", NULL };
	char *args[] = { "-q", "-n", "50", "-k", "8", "--", "/bin/true", NULL };

	ASSERT_EQ(0, run(&self->o, env, args));
	LOG_OUTPUT(self->o.text);
	EXPECT_EQ(0, WEXITSTATUS(self->o.status));
	EXPECT_EQ(0, count_lines(self->o.text, "child ", NULL));
	EXPECT_EQ(1, count_lines(self->o.text, "uring-spawner: 50 children, at most 8 in flight, 0 failed, ",
				 ", release poll, exit pidfd-poll)"));
}

/* No command: usage, exit status 2. */
TEST_F(spawner, usage)
{
	char *args[] = { "-n", "3", NULL };

	ASSERT_EQ(0, run(&self->o, NULL, args));
	EXPECT_EQ(2, WEXITSTATUS(self->o.status));
}

TEST_HARNESS_MAIN
