// SPDX-License-Identifier: MIT
/*
 * afork_spawn() as an interface: it returns before the exec, reports the
 * exec's result and the failing step through the handle, copies its
 * arguments, keeps the release fd honest through file actions that close
 * everything, and survives reuse, big arguments and threads.  Every
 * TEST_F runs once per backend.
 */
#include <poll.h>
#include <pthread.h>
#include <spawn.h>
#include <sys/stat.h>

#include "spawn_test_util.h"
#include "kselftest_harness.h"

/* The guest (TCG + KASAN) spawns slowly. */
#undef TEST_TIMEOUT_DEFAULT
#define TEST_TIMEOUT_DEFAULT 120

SPAWN_BACKEND_FIXTURE(spawn, );

FIXTURE_SETUP(spawn)
{
	SPAWN_BACKEND_SETUP();
	ASSERT_NE(NULL, helper_path());
}

FIXTURE_TEARDOWN(spawn)
{
	SPAWN_BACKEND_TEARDOWN();
}

static int poll_ready(struct pollfd *pfd, int ms)
{
	pfd->revents = 0;
	if (poll(pfd, 1, ms) <= 0)
		return 0;
	return !!(pfd->revents & (pfd->events | POLLHUP));
}

/*
 * The call returns while the child is still blocked in a file action
 * (opening a FIFO nobody writes to), after a closefrom(0) that closed
 * everything it could: the release fd stays quiet until the exec.
 */
TEST_F(spawn, returns_before_exec)
{
	char fifo[PATH_MAX + 16];
	char *argv[] = { "helper", "--helper", "cat", NULL };
	afork_spawn_file_actions_t fa;
	afork_spawnattr_t at;
	struct afork_child *c;
	struct pollfd pfd;
	pid_t pid;
	int fd, err = -1, st;

	snprintf(fifo, sizeof(fifo), "%s/fifo", self->tmp);
	ASSERT_EQ(0, mkfifo(fifo, 0600));
	ASSERT_EQ(0, afork_spawn_file_actions_init(&fa));
	ASSERT_EQ(0, afork_spawn_file_actions_addclosefrom(&fa, 0));
	ASSERT_EQ(0, afork_spawn_file_actions_addopen(&fa, 0, fifo, O_RDONLY, 0));
	ASSERT_EQ(0, afork_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0));
	ASSERT_EQ(0, afork_spawnattr_init(&at));
	ASSERT_EQ(0, afork_spawnattr_setafork(&at, 0, AFORK_OPT_PIDFD | AFORK_OPT_RELEASE_FD));
	ASSERT_EQ(0, afork_spawn(&c, &pid, helper_path(), &fa, &at, argv, environ));
	afork_spawn_file_actions_destroy(&fa);
	ASSERT_GT(pid, 0);
	ASSERT_EQ(pid, afork_pid(c));

	/* Blocked in open(): not released by any measure. */
	EXPECT_EQ(0, afork_released(c));
	EXPECT_EQ(-1, afork_wait_release(c, 50));
	EXPECT_EQ(ETIMEDOUT, errno);
	ASSERT_EQ(0, afork_release_pollfd(c, &pfd));
	EXPECT_EQ(0, poll_ready(&pfd, 50));
	EXPECT_EQ(-1, afork_exec_errno(c));
	EXPECT_EQ(EBUSY, errno);

	fd = open(fifo, O_WRONLY | O_CLOEXEC);	/* lets the child's open return */
	ASSERT_GE(fd, 0);
	EXPECT_EQ(1, poll_ready(&pfd, 10000));
	ASSERT_EQ(0, afork_wait_release(c, 10000));
	EXPECT_EQ(0, afork_exec_errno(c));
	EXPECT_EQ(0, afork_wait(c, &st, WNOHANG));	/* cat is waiting */
	close(fd);
	st = afork_finish(c, &err, NULL);
	EXPECT_EQ(0, err);
	EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/* Exec errors arrive with their errno and step; the child exits 127. */
TEST_F(spawn, exec_error_and_step)
{
	char *argv[] = { "x", NULL };
	afork_spawn_file_actions_t fa;
	afork_spawnattr_t at;
	struct afork_child *c;
	int err, step = -1, st;

	ASSERT_EQ(0, afork_spawn(&c, NULL, "/nonexistent/prog", NULL, NULL, argv, NULL));
	st = afork_finish(c, &err, &step);
	EXPECT_EQ(ENOENT, err);
	EXPECT_EQ(AFORK_SPAWN_STEP_EXEC, step);
	EXPECT_STREQ("exec", afork_spawn_step_name(step));
	EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 127);

	ASSERT_EQ(0, afork_spawnp(&c, NULL, "no-such-program-here", NULL, NULL, argv, NULL));
	st = afork_finish(c, &err, &step);
	EXPECT_EQ(ENOENT, err);
	EXPECT_EQ(AFORK_SPAWN_STEP_EXEC, step);

	/* The third action fails. */
	ASSERT_EQ(0, afork_spawn_file_actions_init(&fa));
	ASSERT_EQ(0, afork_spawn_file_actions_addclose(&fa, 30));
	ASSERT_EQ(0, afork_spawn_file_actions_addchdir(&fa, "/"));
	ASSERT_EQ(0, afork_spawn_file_actions_addchdir(&fa, "/nonexistent"));
	ASSERT_EQ(0, afork_spawn(&c, NULL, "/bin/true", &fa, NULL, argv, NULL));
	afork_spawn_file_actions_destroy(&fa);
	st = afork_finish(c, &err, &step);
	EXPECT_EQ(ENOENT, err);
	EXPECT_EQ(AFORK_SPAWN_STEP_ACTION + 2, step);
	EXPECT_STREQ("file action", afork_spawn_step_name(step));
	EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 127);

	/* An attribute fails: setpgid after setsid. */
	ASSERT_EQ(0, afork_spawnattr_init(&at));
	ASSERT_EQ(0, afork_spawnattr_setflags(&at, AFORK_SPAWN_SETSID | AFORK_SPAWN_SETPGROUP));
	ASSERT_EQ(0, afork_spawn(&c, NULL, "/bin/true", NULL, &at, argv, NULL));
	st = afork_finish(c, &err, &step);
	EXPECT_EQ(EPERM, err);
	EXPECT_EQ(AFORK_SPAWN_STEP_SETPGROUP, step);
	EXPECT_STREQ("setpgroup", afork_spawn_step_name(step));
	EXPECT_EQ(NULL, afork_spawn_step_name(99));
}

/* argv, envp, paths and objects may be freed and overwritten at once. */
TEST_F(spawn, arguments_are_copied)
{
	char out[PATH_MAX + 16], buf[32768];
	char *argv[8], *envp[3];
	afork_spawn_file_actions_t fa;
	afork_spawnattr_t at;
	struct afork_child *c;
	char *dir;
	int i, err, st;

	snprintf(out, sizeof(out), "%s/out", self->tmp);
	argv[0] = strdup("dump");
	argv[1] = strdup("--dump");
	argv[2] = strdup(out);
	argv[3] = strdup("/nowhere");
	argv[4] = strdup("copied-arg");
	argv[5] = NULL;
	envp[0] = strdup("SPAWNTEST_COPY=yes");
	envp[1] = NULL;
	dir = strdup(self->tmp);
	ASSERT_EQ(0, afork_spawn_file_actions_init(&fa));
	ASSERT_EQ(0, afork_spawn_file_actions_addchdir(&fa, dir));
	ASSERT_EQ(0, afork_spawnattr_init(&at));
	ASSERT_EQ(0, afork_spawn(&c, NULL, helper_path(), &fa, &at, argv, envp));
	/* Trash everything the child was given, before it can have read it. */
	afork_spawn_file_actions_destroy(&fa);
	memset(&fa, 0xa5, sizeof(fa));
	memset(&at, 0x5a, sizeof(at));
	memset(dir, 'x', strlen(dir));
	free(dir);
	for (i = 0; argv[i]; i++) {
		memset(argv[i], 'y', strlen(argv[i]));
		free(argv[i]);
		argv[i] = "garbage";
	}
	memset(envp[0], 'z', strlen(envp[0]));
	free(envp[0]);
	envp[0] = "SPAWNTEST_COPY=no";

	st = afork_finish(c, &err, NULL);
	EXPECT_EQ(0, err);
	EXPECT_EQ(0, st);
	ASSERT_GT(read_file(out, buf, sizeof(buf)), 0);
	EXPECT_NE(NULL, strstr(buf, "arg copied-arg\n"));
	EXPECT_NE(NULL, strstr(buf, "env SPAWNTEST_COPY=yes\n"));
	EXPECT_NE(NULL, strstr(buf, "cwd "));
	EXPECT_NE(NULL, strstr(buf, self->tmp));
}

/* An environment bigger than the default stack gets a bigger stack. */
TEST_F(spawn, big_environment)
{
	enum { N = 1000 };
	char out[PATH_MAX + 16], *buf;
	char *argv[] = { "dump", "--dump", out, "/nowhere", NULL };
	char **envp = calloc(N + 1, sizeof(char *));
	struct afork_child *c;
	int i, err, st, n = 0;
	char *p;

	ASSERT_NE(NULL, envp);
	buf = malloc(1 << 20);
	ASSERT_NE(NULL, buf);
	snprintf(out, sizeof(out), "%s/out", self->tmp);
	for (i = 0; i < N; i++) {
		envp[i] = malloc(300);
		ASSERT_NE(NULL, envp[i]);
		snprintf(envp[i], 300, "SPAWNTEST_%04d=%0280d", i, i);
	}
	ASSERT_EQ(0, afork_spawn(&c, NULL, helper_path(), NULL, NULL, argv, envp));
	for (i = 0; i < N; i++)
		free(envp[i]);
	free(envp);
	st = afork_finish(c, &err, NULL);
	EXPECT_EQ(0, err);
	EXPECT_EQ(0, st);
	ASSERT_GT(read_file(out, buf, 1 << 20), 0);
	for (p = buf; (p = strstr(p, "env SPAWNTEST_")); p++)
		n++;
	EXPECT_EQ(N, n);
	free(buf);
}

/* Arguments beyond the kernel's limit: E2BIG from exec, as glibc. */
TEST_F(spawn, too_big_for_exec)
{
	size_t len = 3u << 20;
	char *big = malloc(len + 1);
	char *argv[] = { "true", big, NULL };
	struct afork_child *c;
	pid_t pid;
	int err, st, gerr;

	ASSERT_NE(NULL, big);
	memset(big, 'a', len);
	big[len] = 0;
	ASSERT_EQ(0, afork_spawn(&c, NULL, "/bin/true", NULL, NULL, argv, NULL));
	st = afork_finish(c, &err, NULL);
	gerr = posix_spawn(&pid, "/bin/true", NULL, NULL, argv, NULL);
	EXPECT_EQ(E2BIG, gerr);
	EXPECT_EQ(gerr, err);
	EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 127);
	free(big);
}

/* Options: pidfd by default, none when asked; no handle at all. */
TEST_F(spawn, handle_options)
{
	char *argv[] = { "true", NULL };
	afork_spawnattr_t at;
	struct afork_child *c;
	pid_t pid = 0;
	int err, st, fl;
	unsigned int opt;

	ASSERT_EQ(0, afork_spawnattr_init(&at));
	ASSERT_EQ(0, afork_spawnattr_getafork(&at, &fl, &opt));
	EXPECT_EQ(0, fl);
	EXPECT_EQ(AFORK_OPT_PIDFD, opt);
	ASSERT_EQ(0, afork_spawn(&c, NULL, "/bin/true", NULL, &at, argv, NULL));
	EXPECT_GE(afork_pidfd(c), 0);
	st = afork_finish(c, &err, NULL);
	EXPECT_EQ(0, st);

	ASSERT_EQ(0, afork_spawnattr_setafork(&at, 0, 0));
	ASSERT_EQ(0, afork_spawn(&c, NULL, "/bin/true", NULL, &at, argv, NULL));
	EXPECT_EQ(-1, afork_pidfd(c));
	st = afork_finish(c, &err, NULL);
	EXPECT_EQ(0, st);

	/* Without a handle: a pid to wait for, nothing else. */
	ASSERT_EQ(0, afork_spawn(NULL, &pid, "/bin/true", NULL, NULL, argv, NULL));
	ASSERT_GT(pid, 0);
	ASSERT_EQ(pid, waitpid(pid, &st, __WALL));
	EXPECT_EQ(0, st);
}

/* AFORK_WAITPID|AFORK_NOSIGCHLD: no SIGCHLD, invisible to wait(-1). */
TEST_F(spawn, waitpid_nosigchld)
{
	char *argv[] = { "helper", "--helper", "exit", "9", NULL };
	afork_spawnattr_t at;
	struct afork_child *c;
	sigset_t chld, old;
	siginfo_t si;
	int err, st;

	if (self->id == AFORK_BACKEND_VFORK)
		SKIP(return, "the vfork backend cannot honour these flags (afork(3))");
	if (afork_backend_is_clone(self->id))
		SKIP(return, "clone backends hide a child by exit_signal 0, which "
		     "execve() resets to SIGCHLD (fs/exec.c): not past the exec");
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	ASSERT_EQ(0, sigprocmask(SIG_BLOCK, &chld, &old));
	drain_sigchld();
	ASSERT_EQ(0, afork_spawnattr_init(&at));
	ASSERT_EQ(0, afork_spawnattr_setafork(&at, AFORK_WAITPID | AFORK_NOSIGCHLD,
					      AFORK_OPT_PIDFD));
	ASSERT_EQ(0, afork_spawn(&c, NULL, helper_path(), NULL, &at, argv, NULL));
	/* Wait for the exit without reaping it. */
	memset(&si, 0, sizeof(si));
	ASSERT_EQ(0, waitid(P_PID, afork_pid(c), &si, WEXITED | WNOWAIT | __WALL));
	EXPECT_EQ(-1, waitpid(-1, &st, WNOHANG));
	EXPECT_EQ(ECHILD, errno);
	EXPECT_EQ(0, sigchld_pending());
	st = afork_finish(c, &err, NULL);
	EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 9);
	sigprocmask(SIG_SETMASK, &old, NULL);
}

/* Dozens in a row: stacks are reused, every child runs its own argv. */
TEST_F_TIMEOUT(spawn, sequential_reuse, 120)
{
	char code[16];
	char *argv[] = { "sh", "-c", "exit $0", code, NULL };
	struct afork_child *c;
	int i, err, st, bad = 0;

	for (i = 0; i < 60; i++) {
		snprintf(code, sizeof(code), "%d", i % 200);
		ASSERT_EQ(0, afork_spawn(&c, NULL, "/bin/sh", NULL, NULL, argv, NULL));
		st = afork_finish(c, &err, NULL);
		if (err || !WIFEXITED(st) || WEXITSTATUS(st) != i % 200)
			bad++;
	}
	EXPECT_EQ(0, bad);
}

/* Many children in flight at once, then reaped. */
TEST_F_TIMEOUT(spawn, many_in_flight, 120)
{
	enum { N = 32 };
	char codes[N][8];
	struct afork_child *c[N];
	int i, err, st, bad = 0;

	for (i = 0; i < N; i++) {
		char *argv[] = { "sh", "-c", "exit $0", codes[i], NULL };

		snprintf(codes[i], sizeof(codes[i]), "%d", i + 1);
		ASSERT_EQ(0, afork_spawn(&c[i], NULL, "/bin/sh", NULL, NULL, argv, NULL));
		/* argv was on this block's stack: gone now, copied before. */
	}
	for (i = 0; i < N; i++) {
		st = afork_finish(c[i], &err, NULL);
		if (err || !WIFEXITED(st) || WEXITSTATUS(st) != i + 1)
			bad++;
	}
	EXPECT_EQ(0, bad);
}

struct thr {
	int base, bad;
};

static void *spawner(void *p)
{
	struct thr *t = p;
	char code[16];
	char *argv[] = { "sh", "-c", "exit $0", code, NULL };
	struct afork_child *c;
	int i, err, st;

	for (i = 0; i < 15; i++) {
		snprintf(code, sizeof(code), "%d", t->base + i);
		if (afork_spawn(&c, NULL, "/bin/sh", NULL, NULL, argv, NULL)) {
			t->bad++;
			continue;
		}
		st = afork_finish(c, &err, NULL);
		if (err || !WIFEXITED(st) || WEXITSTATUS(st) != t->base + i)
			t->bad++;
	}
	return NULL;
}

/* Threads spawning at the same time each get their own children. */
TEST_F_TIMEOUT(spawn, threads, 120)
{
	pthread_t th[4];
	struct thr t[4];
	int i;

	for (i = 0; i < 4; i++) {
		t[i].base = 50 * i;
		t[i].bad = 0;
		ASSERT_EQ(0, pthread_create(&th[i], NULL, spawner, &t[i]));
	}
	for (i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		EXPECT_EQ(0, t[i].bad);
	}
}

/* errno is left alone; errors come back as numbers. */
TEST_F(spawn, error_numbers)
{
	char *argv[] = { "true", NULL };
	afork_spawn_file_actions_t fa;
	afork_spawnattr_t at;
	struct afork_child *c;
	int err, st;

	errno = 1234;
	ASSERT_EQ(0, afork_spawn(&c, NULL, "/bin/true", NULL, NULL, argv, NULL));
	EXPECT_EQ(1234, errno);
	st = afork_finish(c, &err, NULL);
	EXPECT_EQ(0, st);
	errno = 1234;
	EXPECT_EQ(EINVAL, afork_spawn(&c, NULL, NULL, NULL, NULL, argv, NULL));
	EXPECT_EQ(1234, errno);
	memset(&at, 0, sizeof(at));	/* never initialised */
	EXPECT_EQ(EINVAL, afork_spawn(&c, NULL, "/bin/true", NULL, &at, argv, NULL));
	memset(&fa, 0, sizeof(fa));
	EXPECT_EQ(EINVAL, afork_spawn(&c, NULL, "/bin/true", &fa, NULL, argv, NULL));
	EXPECT_EQ(EINVAL, afork_spawn_file_actions_addclose(&fa, 3));
}

/* On the clone backends the release pipe survives dup2 onto any fd. */
TEST_F(spawn, release_fd_survives_dup2)
{
	char fifo[PATH_MAX + 16];
	char *argv[] = { "helper", "--helper", "exit", "0", NULL };
	afork_spawn_file_actions_t fa;
	afork_spawnattr_t at;
	struct afork_child *c;
	struct pollfd pfd;
	int fd, err, st;

	if (!afork_backend_is_clone(self->id))
		SKIP(return, "only the clone backends give the child a release pipe");
	snprintf(fifo, sizeof(fifo), "%s/fifo", self->tmp);
	ASSERT_EQ(0, mkfifo(fifo, 0600));
	ASSERT_EQ(0, afork_spawn_file_actions_init(&fa));
	for (fd = 3; fd < 40; fd++)
		ASSERT_EQ(0, afork_spawn_file_actions_adddup2(&fa, 2, fd));
	for (fd = 3; fd < 40; fd++)
		ASSERT_EQ(0, afork_spawn_file_actions_addopen(&fa, fd, "/dev/null", O_RDONLY, 0));
	ASSERT_EQ(0, afork_spawn_file_actions_addclose_range(&fa, 3, ~0u, 0));
	ASSERT_EQ(0, afork_spawn_file_actions_addopen(&fa, 0, fifo, O_RDONLY, 0));
	ASSERT_EQ(0, afork_spawnattr_init(&at));
	ASSERT_EQ(0, afork_spawnattr_setafork(&at, 0, AFORK_OPT_RELEASE_FD));
	ASSERT_EQ(0, afork_spawn(&c, NULL, helper_path(), &fa, &at, argv, NULL));
	afork_spawn_file_actions_destroy(&fa);
	ASSERT_EQ(0, afork_release_pollfd(c, &pfd));
	EXPECT_EQ(0, poll_ready(&pfd, 100));
	fd = open(fifo, O_WRONLY | O_CLOEXEC);
	ASSERT_GE(fd, 0);
	EXPECT_EQ(1, poll_ready(&pfd, 10000));
	close(fd);
	st = afork_finish(c, &err, NULL);
	EXPECT_EQ(0, err);
	EXPECT_EQ(0, st);
}

SPAWN_MAIN()
