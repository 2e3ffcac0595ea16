// SPDX-License-Identifier: MIT
/*
 * afork_popenve(), afork_popenvpe(), afork_popen2ve(), afork_popen2vpe():
 * popen without a shell, one way and both ways.  The program is this test
 * binary in a helper mode (--pv), so that what it saw (its arguments,
 * environment, descriptors, input) comes back exactly.  Every TEST_F runs
 * once per backend; the vfork backend cannot protect its children from a
 * wait(-1) (afork(3)) and skips those tests.
 */
#include <dirent.h>
#include <libgen.h>
#include <poll.h>
#include <pthread.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "spawn_test_util.h"
#include "../common/sigchld_reaper.h"
#include "kselftest_harness.h"

#undef TEST_TIMEOUT_DEFAULT
#define TEST_TIMEOUT_DEFAULT 120

extern char **environ;

/* ------------------------------------------------------------------ */
/* The helper: what the program saw                                    */
/* ------------------------------------------------------------------ */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Lines of stdin, sorted, to stdout (at most 64 lines of 64 bytes). */
static int pv_sort(void)
{
	static char lines[64][64];
	char *v[64];
	int n = 0, i;

	while (n < 64 && fgets(lines[n], sizeof(lines[n]), stdin))
		v[n] = lines[n], n++;
	qsort(v, (size_t)n, sizeof(v[0]), cmp_str);
	for (i = 0; i < n; i++)
		fputs(v[i], stdout);
	return 0;
}

/* Open descriptors, as "0 1 2 ...\n". */
static int pv_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	int fds[256], n = 0, i;

	if (!d)
		return 1;
	while ((de = readdir(d)) && n < 256)
		if (de->d_name[0] != '.' && atoi(de->d_name) != dirfd(d))
			fds[n++] = atoi(de->d_name);
	closedir(d);
	qsort(fds, (size_t)n, sizeof(fds[0]), fd_cmp);
	for (i = 0; i < n; i++)
		printf("%s%d", i ? " " : "", fds[i]);
	printf("\n");
	return 0;
}

/*
 * The process's first call into the library is an afork_spawn() whose
 * arguments need more than the default stack: 0 when it starts and reaps
 * the child (it hung in the pool's size rounding before the pool was set
 * up).
 */
static int pv_big_first(void)
{
	static char big[100 * 1024];
	char *argv[] = { "true", big, NULL };
	struct afork_child *c;
	int st;

	memset(big, 'x', sizeof(big) - 1);
	if (afork_spawn(&c, NULL, "/bin/true", NULL, NULL, argv, environ))
		return 1;
	if (afork_wait(c, &st, 0) < 0)
		return 1;
	afork_free(c);
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : 1;
}

static int pv_main(int argc, char **argv)
{
	char buf[4096];
	long total = 0;
	ssize_t k;
	int i;

	if (argc < 3)
		return 99;
	if (!strcmp(argv[2], "args")) {
		for (i = 3; i < argc; i++)
			printf("[%s]\n", argv[i]);
		return 0;
	}
	if (!strcmp(argv[2], "env")) {
		for (i = 0; environ[i]; i++)
			printf("%s\n", environ[i]);
		return 0;
	}
	if (!strcmp(argv[2], "expect") && argc == 4) {
		while ((k = read(0, buf, sizeof(buf))) > 0)
			total += k;
		return total == atol(argv[3]) ? 0 : 1;
	}
	if (!strcmp(argv[2], "sort"))
		return pv_sort();
	if (!strcmp(argv[2], "big-first"))
		return pv_big_first();
	if (!strcmp(argv[2], "fds"))
		return pv_fds();
	if (!strcmp(argv[2], "exit") && argc == 4)
		return atoi(argv[3]);
	return 99;
}

/* ------------------------------------------------------------------ */
/* Tests                                                               */
/* ------------------------------------------------------------------ */

SPAWN_BACKEND_FIXTURE(popenve, );

FIXTURE_SETUP(popenve)
{
	SPAWN_BACKEND_SETUP();
	ASSERT_NE(NULL, helper_path());
}

FIXTURE_TEARDOWN(popenve)
{
	EXPECT_EQ(1, prctl(PR_GET_DUMPABLE));
	signal(SIGCHLD, SIG_DFL);
	SPAWN_BACKEND_TEARDOWN();
}

/* Read all of @f into @buf (NUL-terminated). */
static size_t slurp(FILE *f, char *buf, size_t len)
{
	size_t n = fread(buf, 1, len - 1, f);

	buf[n] = 0;
	return n;
}

/* Arguments reach the program as they are: no shell, no quoting. */
TEST_F(popenve, argv_literal)
{
	char *argv[] = { "pv", "--pv", "args", "a b", "$HOME", "'q'\"", "", "; exit 3", NULL };
	char buf[256];
	FILE *f = afork_popenve(helper_path(), argv, NULL, "r");

	ASSERT_NE(NULL, f);
	/* Waited for through a pidfd: never a child that reuses its pid. */
	EXPECT_GE(afork_pidfd(afork_popen_child(f)), 0);
	slurp(f, buf, sizeof(buf));
	EXPECT_STREQ("[a b]\n[$HOME]\n['q'\"]\n[]\n[; exit 3]\n", buf);
	EXPECT_EQ(0, afork_pclose(f));
}

/*
 * How many stacks 20 popen/pclose cycles map: a popen's stack goes back to
 * the pool at pclose and the next popen takes it again.
 */
static unsigned long popen_cycle_maps(struct __test_metadata *_metadata)
{
	char *argv[] = { "pv", "--pv", "exit", "0", NULL };
	struct afork_pool_stats ps0 = { .size = sizeof(ps0) };
	struct afork_pool_stats ps = { .size = sizeof(ps) };
	int i;

	EXPECT_EQ(0, afork_pool_stats(&ps0));
	for (i = 0; i < 20; i++) {
		FILE *f = afork_popenve(helper_path(), argv, NULL, "r");

		EXPECT_NE(NULL, f);
		if (!f)
			return ~0ul;
		EXPECT_EQ(0, afork_pclose(f));
	}
	EXPECT_EQ(0, afork_pool_stats(&ps));
	return ps.maps - ps0.maps;
}

/*
 * 20 popens map at most one stack (the vfork backend's worker may give
 * one back a little late: two).  The shield's stack is larger than the
 * default; the pool keeps it because spawn asks for a size it keeps.
 */
TEST_F(popenve, stack_reused)
{
	EXPECT_LE(popen_cycle_maps(_metadata),
		  self->id == AFORK_BACKEND_VFORK ? 2ul : 1ul);
}

/* The same with the smallest default stack (16 KiB), far below popen's. */
TEST_F(popenve, stack_reused_small_default)
{
	ASSERT_EQ(0, afork_pool_set_stack_size(16 * 1024));
	EXPECT_LE(popen_cycle_maps(_metadata),
		  self->id == AFORK_BACKEND_VFORK ? 2ul : 1ul);
}

/*
 * A fresh process whose first library call is an afork_spawn() needing a
 * stack above the default (the helper, run with posix_spawn): it finishes
 * within 60 s and exits 0.
 */
TEST_F(popenve, first_call_big_spawn)
{
	char *argv[] = { "pv", "--pv", "big-first", NULL };
	struct pollfd pfd = { .events = POLLIN };
	pid_t pid;
	int st;

	ASSERT_EQ(0, posix_spawn(&pid, helper_path(), NULL, NULL, argv, environ));
	pfd.fd = (int)syscall(__NR_pidfd_open, pid, 0);
	ASSERT_GE(pfd.fd, 0);
	EXPECT_EQ(1, poll(&pfd, 1, 60000));
	if (pfd.revents != POLLIN)
		kill(pid, SIGKILL);
	close(pfd.fd);
	ASSERT_EQ(pid, waitpid(pid, &st, 0));
	EXPECT_TRUE(WIFEXITED(st));
	EXPECT_EQ(0, WEXITSTATUS(st));
}

/* envp is the program's whole environment; NULL passes the caller's. */
TEST_F(popenve, environment)
{
	char *argv[] = { "pv", "--pv", "env", NULL };
	char *envp[] = { "A=1", "B=x y", NULL };
	char buf[8192];
	FILE *f = afork_popenve(helper_path(), argv, envp, "r");

	ASSERT_NE(NULL, f);
	slurp(f, buf, sizeof(buf));
	EXPECT_STREQ("A=1\nB=x y\n", buf);
	EXPECT_EQ(0, afork_pclose(f));

	ASSERT_EQ(0, setenv("AFORK_PV_MARK", "inherited", 1));
	f = afork_popenve(helper_path(), argv, NULL, "r");
	ASSERT_NE(NULL, f);
	slurp(f, buf, sizeof(buf));
	EXPECT_NE(NULL, strstr(buf, "AFORK_PV_MARK=inherited\n"));
	EXPECT_EQ(0, afork_pclose(f));
	unsetenv("AFORK_PV_MARK");
}

/* "w": the program reads what we write, and EOF when we pclose. */
TEST_F(popenve, write)
{
	char *argv[] = { "pv", "--pv", "expect", "100000", NULL };
	char block[1000];
	FILE *f = afork_popenve(helper_path(), argv, NULL, "w");
	int i;

	ASSERT_NE(NULL, f);
	memset(block, 'x', sizeof(block));
	for (i = 0; i < 100; i++)
		ASSERT_EQ(sizeof(block), fwrite(block, 1, sizeof(block), f));
	EXPECT_EQ(0, afork_pclose(f));
	/* One byte short: the program says so. */
	f = afork_popenve(helper_path(), argv, NULL, "w");
	ASSERT_NE(NULL, f);
	ASSERT_EQ(99, (int)fwrite(block, 1, 99, f));
	EXPECT_EQ(1 << 8, afork_pclose(f));
}

/* 'e' makes the caller's end close-on-exec, as glibc's popen does. */
TEST_F(popenve, modes)
{
	char *argv[] = { "pv", "--pv", "exit", "0", NULL };
	/* As glibc: repeated letters are allowed, r and w together are not. */
	static const char *const good[] = { "r", "w", "re", "we", "er", "ww" };
	static const char *const bad[] = { "", "rw", "x", "r+", "e" };
	int fds = count_fds();
	unsigned int i;
	FILE *f;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		f = afork_popenve(helper_path(), argv, NULL, good[i]);
		ASSERT_NE(NULL, f);
		EXPECT_EQ(strchr(good[i], 'e') ? FD_CLOEXEC : 0,
			  fcntl(fileno(f), F_GETFD) & FD_CLOEXEC) TH_LOG("mode %s", good[i]);
		EXPECT_EQ(0, afork_pclose(f));
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		errno = 0;
		EXPECT_EQ(NULL, afork_popenve(helper_path(), argv, NULL, bad[i]));
		EXPECT_EQ(EINVAL, errno) TH_LOG("mode \"%s\"", bad[i]);
	}
	errno = 0;
	EXPECT_EQ(NULL, afork_popenve(helper_path(), argv, NULL, NULL));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(fds, count_fds());
}

/* NULL program, NULL argv, NULL or bad arguments to the two-way calls. */
TEST_F(popenve, bad_arguments)
{
	char *argv[] = { "pv", "--pv", "exit", "0", NULL };
	FILE *to = NULL, *from = NULL;
	int fds = count_fds();

	errno = 0;
	EXPECT_EQ(NULL, afork_popenve(NULL, argv, NULL, "r"));
	EXPECT_EQ(EINVAL, errno);
	errno = 0;
	EXPECT_EQ(NULL, afork_popenvpe(NULL, argv, NULL, NULL, "r"));
	EXPECT_EQ(EINVAL, errno);
	errno = 0;
	EXPECT_EQ(NULL, afork_popenve(helper_path(), NULL, NULL, "r"));
	EXPECT_EQ(EINVAL, errno);
	errno = 0;
	EXPECT_EQ(-1, afork_popen2ve(helper_path(), argv, NULL, 0, NULL, &from));
	EXPECT_EQ(EINVAL, errno);
	errno = 0;
	EXPECT_EQ(-1, afork_popen2ve(helper_path(), argv, NULL, 0, &to, NULL));
	EXPECT_EQ(EINVAL, errno);
	errno = 0;
	EXPECT_EQ(-1, afork_popen2ve(helper_path(), argv, NULL, O_NONBLOCK, &to, &from));
	EXPECT_EQ(EINVAL, errno);
	errno = 0;
	EXPECT_EQ(-1, afork_popen2vpe("pv", NULL, NULL, NULL, 0, &to, &from));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(NULL, to);
	EXPECT_EQ(NULL, from);
	EXPECT_EQ(fds, count_fds());
}

/* A program that cannot run: a stream at once, then 127 and the errno. */
TEST_F(popenve, exec_failure)
{
	char *argv[] = { "x", NULL };
	char path[PATH_MAX + 16];
	struct afork_child *c;
	FILE *f;

	f = afork_popenve("/nonexistent/program", argv, NULL, "r");
	ASSERT_NE(NULL, f);
	c = afork_popen_child(f);
	ASSERT_NE(NULL, c);
	ASSERT_EQ(0, afork_wait_release(c, 30000));
	EXPECT_EQ(ENOENT, afork_exec_errno(c));
	EXPECT_EQ(127 << 8, afork_pclose(f));

	/* Not executable. */
	snprintf(path, sizeof(path), "%s/plain", self->tmp);
	ASSERT_EQ(0, write_file(path, "#!/bin/sh\n", 0644));
	f = afork_popenve(path, argv, NULL, "w");
	ASSERT_NE(NULL, f);
	c = afork_popen_child(f);
	ASSERT_NE(NULL, c);
	ASSERT_EQ(0, afork_wait_release(c, 30000));
	EXPECT_EQ(EACCES, afork_exec_errno(c));
	EXPECT_EQ(127 << 8, afork_pclose(f));
}

/* popenvpe: the given search path, else the caller's PATH. */
TEST_F(popenve, search_path)
{
	char dir[PATH_MAX], search[PATH_MAX + 32], base[NAME_MAX + 1], buf[64];
	char *argv[] = { "pv", "--pv", "args", "found", NULL };
	const char *old = getenv("PATH");
	char *saved = old ? strdup(old) : NULL;
	FILE *f;

	snprintf(dir, sizeof(dir), "%s", helper_path());
	snprintf(base, sizeof(base), "%s", basename(dir));
	snprintf(dir, sizeof(dir), "%s", helper_path());
	snprintf(search, sizeof(search), "/nonexistent:%s", dirname(dir));

	f = afork_popenvpe(base, argv, NULL, search, "r");
	ASSERT_NE(NULL, f);
	slurp(f, buf, sizeof(buf));
	EXPECT_STREQ("[found]\n", buf);
	EXPECT_EQ(0, afork_pclose(f));

	f = afork_popenvpe(base, argv, NULL, "/nonexistent", "r");
	ASSERT_NE(NULL, f);
	ASSERT_EQ(0, afork_wait_release(afork_popen_child(f), 30000));
	EXPECT_EQ(ENOENT, afork_exec_errno(afork_popen_child(f)));
	EXPECT_EQ(127 << 8, afork_pclose(f));

	/* NULL: the caller's PATH at the time of the call. */
	ASSERT_EQ(0, setenv("PATH", search, 1));
	f = afork_popenvpe(base, argv, NULL, NULL, "r");
	if (saved)
		setenv("PATH", saved, 1);
	else
		unsetenv("PATH");
	free(saved);
	ASSERT_NE(NULL, f);
	slurp(f, buf, sizeof(buf));
	EXPECT_STREQ("[found]\n", buf);
	EXPECT_EQ(0, afork_pclose(f));
}

/* Both ways, through a sort: closing our write side gives it EOF. */
TEST_F(popenve, two_way_sort)
{
	char *argv[] = { "pv", "--pv", "sort", NULL };
	FILE *to = NULL, *from = NULL;
	char buf[64];

	ASSERT_EQ(0, afork_popen2ve(helper_path(), argv, NULL, 0, &to, &from));
	ASSERT_NE(NULL, to);
	ASSERT_NE(NULL, from);
	EXPECT_NE(fileno(to), fileno(from));
	ASSERT_NE(NULL, afork_popen_child(to));
	EXPECT_EQ(afork_popen_child(to), afork_popen_child(from));
	fputs("pear\napple\nfig\n", to);
	/* The first pclose closes that stream alone: 0, no wait. */
	EXPECT_EQ(0, afork_pclose(to));
	slurp(from, buf, sizeof(buf));
	EXPECT_STREQ("apple\nfig\npear\n", buf);
	EXPECT_EQ(0, afork_pclose(from));
	/* Both are gone from the list. */
	errno = 0;
	EXPECT_EQ(NULL, afork_popen_child(from));
}

/* Read side closed first: the second pclose waits and has the status. */
TEST_F(popenve, two_way_close_read_first)
{
	char *argv[] = { "pv", "--pv", "expect", "5", NULL };
	FILE *to, *from;

	ASSERT_EQ(0, afork_popen2vpe(helper_path(), argv, NULL, NULL, O_CLOEXEC, &to, &from));
	EXPECT_EQ(FD_CLOEXEC, fcntl(fileno(to), F_GETFD) & FD_CLOEXEC);
	EXPECT_EQ(FD_CLOEXEC, fcntl(fileno(from), F_GETFD) & FD_CLOEXEC);
	EXPECT_EQ(0, afork_pclose(from));
	fputs("12345", to);
	EXPECT_EQ(0, afork_pclose(to));

	ASSERT_EQ(0, afork_popen2ve(helper_path(), argv, NULL, 0, &to, &from));
	EXPECT_EQ(0, fcntl(fileno(to), F_GETFD) & FD_CLOEXEC);
	EXPECT_EQ(0, afork_pclose(from));
	fputs("123456", to);
	EXPECT_EQ(1 << 8, afork_pclose(to));
}

/* The caller's stdin and stdout closed: the pipes land on 0 and 1. */
TEST_F(popenve, two_way_low_fds)
{
	char *argv[] = { "pv", "--pv", "sort", NULL };
	int in = dup(0), out = dup(1);
	FILE *to = NULL, *from = NULL;
	char buf[64];
	int r;

	ASSERT_GE(in, 0);
	ASSERT_GE(out, 0);
	fflush(stdout);
	close(0);
	close(1);
	r = afork_popen2ve(helper_path(), argv, NULL, 0, &to, &from);
	if (!r) {
		fputs("b\na\n", to);
		afork_pclose(to);
		slurp(from, buf, sizeof(buf));
	}
	dup2(in, 0);
	dup2(out, 1);
	close(in);
	close(out);
	ASSERT_EQ(0, r);
	EXPECT_STREQ("a\nb\n", buf);
	EXPECT_EQ(0, afork_pclose(from));
}

/* Neither SIGCHLD ignored nor a waitpid(-1) handler takes the child. */
TEST_F(popenve, not_stolen)
{
	char *argv[] = { "pv", "--pv", "exit", "9", NULL };
	FILE *to, *from, *f;

	if (self->id == AFORK_BACKEND_VFORK)
		SKIP(return, "the vfork backend cannot protect its children (afork(3))");
	signal(SIGCHLD, SIG_IGN);
	f = afork_popenve(helper_path(), argv, NULL, "r");
	ASSERT_NE(NULL, f);
	popen_wait_exited(_metadata, f);
	EXPECT_EQ(9 << 8, afork_pclose(f));

	ASSERT_EQ(0, reaper_install());
	ASSERT_EQ(0, afork_popen2ve(helper_path(), argv, NULL, 0, &to, &from));
	popen_wait_exited(_metadata, from);
	/* Another child makes the handler run; it must not get ours. */
	ASSERT_EQ(0, reaper_run());
	EXPECT_EQ(1, reaper_reaped);
	EXPECT_EQ(0, afork_pclose(to));
	EXPECT_EQ(9 << 8, afork_pclose(from));
	EXPECT_EQ(1, reaper_reaped);
}

/* The same pointer for both streams: EINVAL, nothing made. */
TEST_F(popenve, two_way_same_pointer)
{
	char *argv[] = { "pv", "--pv", "exit", "0", NULL };
	int fds = count_fds();
	FILE *s = NULL;

	errno = 0;
	EXPECT_EQ(-1, afork_popen2ve(helper_path(), argv, NULL, 0, &s, &s));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(NULL, s);
	EXPECT_EQ(fds, count_fds());
	EXPECT_EQ(0, any_child_left());
}

/* No room above fd 2 for the child's ends: EMFILE, as pipe2() says. */
TEST_F(popenve, two_way_no_fds)
{
	char *argv[] = { "pv", "--pv", "exit", "0", NULL };
	struct rlimit rl = { 3, 3 };
	FILE *to, *from;
	int st;
	pid_t pid;

	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		int r;

		close(0);
		close(1);
		if (setrlimit(RLIMIT_NOFILE, &rl))
			_exit(2);
		r = afork_popen2ve(helper_path(), argv, NULL, 0, &to, &from);
		_exit(r == -1 && errno == EMFILE ? 0 : 1);
	}
	ASSERT_EQ(pid, waitpid(pid, &st, 0));
	EXPECT_EQ(0, st);
}

/* A final flush that fails is pclose's error (-1, EPIPE), as in glibc. */
TEST_F(popenve, pclose_reports_flush_error)
{
	char *argv[] = { "pv", "--pv", "exit", "0", NULL };
	FILE *f, *to, *from;

	signal(SIGPIPE, SIG_IGN);
	f = afork_popenve(helper_path(), argv, NULL, "w");
	ASSERT_NE(NULL, f);
	popen_wait_exited(_metadata, f);
	fputs("to nobody", f);		/* buffered: written by the pclose */
	errno = 0;
	EXPECT_EQ(-1, afork_pclose(f));
	EXPECT_EQ(EPIPE, errno);

	ASSERT_EQ(0, afork_popen2ve(helper_path(), argv, NULL, 0, &to, &from));
	popen_wait_exited(_metadata, from);
	fputs("to nobody", to);
	errno = 0;
	EXPECT_EQ(-1, afork_pclose(to));
	EXPECT_EQ(EPIPE, errno);
	EXPECT_EQ(0, afork_pclose(from));
	signal(SIGPIPE, SIG_DFL);
}

/* Earlier popen streams, both of a two-way pair, are closed in the child. */
TEST_F(popenve, earlier_streams_closed)
{
	char *cat[] = { "pv", "--pv", "sort", NULL };
	char *fds[] = { "pv", "--pv", "fds", NULL };
	char buf[256], want[64];
	FILE *to, *from, *f;

	ASSERT_EQ(0, afork_popen2ve(helper_path(), cat, NULL, 0, &to, &from));
	f = afork_popenve(helper_path(), fds, NULL, "r");
	ASSERT_NE(NULL, f);
	slurp(f, buf, sizeof(buf));
	EXPECT_EQ(0, afork_pclose(f));
	snprintf(want, sizeof(want), " %d ", fileno(to));
	memmove(buf + 1, buf, strlen(buf) + 1);
	buf[0] = ' ';
	buf[strcspn(buf, "\n")] = ' ';
	EXPECT_EQ(NULL, strstr(buf, want)) TH_LOG("child's fds:%s", buf);
	snprintf(want, sizeof(want), " %d ", fileno(from));
	EXPECT_EQ(NULL, strstr(buf, want)) TH_LOG("child's fds:%s", buf);
	EXPECT_EQ(0, afork_pclose(to));
	EXPECT_EQ(0, afork_pclose(from));
}

/* Another thread's two-way popens (O_CLOEXEC) never leak into our children. */
struct churn {
	volatile int stop;
	int errors;
};

static void *churn(void *p)
{
	char *argv[] = { "pv", "--pv", "sort", NULL };
	struct churn *c = p;
	FILE *to, *from;
	char buf[16];

	while (!c->stop) {
		if (afork_popen2ve(helper_path(), argv, NULL, O_CLOEXEC, &to, &from)) {
			c->errors++;
			continue;
		}
		fputs("x\n", to);
		afork_pclose(to);
		if (!fgets(buf, sizeof(buf), from) || strcmp(buf, "x\n"))
			c->errors++;
		if (afork_pclose(from))
			c->errors++;
	}
	return NULL;
}

TEST_F(popenve, no_leak_across_threads)
{
	char *fds[] = { "pv", "--pv", "fds", NULL };
	struct churn c = { 0, 0 };
	char first[256], buf[256];
	pthread_t t;
	FILE *f;
	int i;

	f = afork_popenve(helper_path(), fds, NULL, "re");
	ASSERT_NE(NULL, f);
	slurp(f, first, sizeof(first));
	EXPECT_EQ(0, afork_pclose(f));
	ASSERT_EQ(0, pthread_create(&t, NULL, churn, &c));
	for (i = 0; i < 50; i++) {
		f = afork_popenve(helper_path(), fds, NULL, "re");
		ASSERT_NE(NULL, f);
		slurp(f, buf, sizeof(buf));
		EXPECT_EQ(0, afork_pclose(f));
		EXPECT_STREQ(first, buf);
	}
	c.stop = 1;
	pthread_join(t, NULL);
	EXPECT_EQ(0, c.errors);
}

int main(int argc, char **argv)
{
	int handled, r;

	if (argc > 1 && !strcmp(argv[1], "--pv"))
		return pv_main(argc, argv);
	r = spawn_helper_main(argc, argv, &handled);
	if (handled)
		return r;
	return test_harness_run(argc, argv);
}
