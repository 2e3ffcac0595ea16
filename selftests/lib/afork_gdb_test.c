// SPDX-License-Identifier: MIT
/*
 * Under a debugger: gdb in batch mode runs this program (as the probe,
 * "--gdb-probe WHAT") with a breakpoint on gdb_marker(), which the probe
 * calls before each of three children and once at the end: all four hits
 * must show, and the probe must finish.  WHAT is afork, spawn or popen;
 * every backend runs each: the syscall backend in the guest, where the
 * payload carries the host's gdb (scripts/gdb-payload.sh).  posix_spawn is
 * the control: if gdb cannot trace here at all, the tests skip and say why.
 *
 * The clone backends' children are reported to a tracer as forks, and gdb
 * removes the breakpoints of a "forked" child from its memory, which is
 * the parent's; the library detects the tracer and vforks instead (afork(3),
 * DEBUGGERS).  The vfork backend hung in afork_spawn under gdb when its
 * child waited for the caller, which gdb keeps stopped until the vfork is
 * done.  Issue 13, defect 8.  The afork system call reported its child as
 * a fork too, with the same effect (0 of 3 hits in the issue): the series
 * v2 reports it as a vfork to a tracer that follows vforks (issue 12, 2.2).
 * attach_later: gdb attaches (-p) after the probe's first child, when the
 * library keeps its last answer "no tracer" for a while (issue 14.1).
 */
#include <poll.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>

#include "afork_test_util.h"
#include <afork_spawn.h>
#include "kselftest_harness.h"
#include "../common/backend_fixture.h"

#define GDB_TIMEOUT_MS 60000

extern char **environ;

/* ---- the probe, run under gdb ---- */

__attribute__((noinline)) void gdb_marker(int i)
{
	__asm__ volatile("" : : "r"(i) : "memory");
}

static char *true_argv[] = { "true", NULL };

static int child_true(void *unused)
{
	(void)unused;
	afork_child_execve("/bin/true", true_argv, environ);
	return 127;
}

static int one_child(const char *what)
{
	struct afork_child *c;
	FILE *f;
	pid_t pid;
	int st;

	if (!strcmp(what, "afork")) {
		pid = afork(child_true, NULL);
		if (pid < 0 || waitpid(pid, &st, __WALL) != pid)
			return -1;
	} else if (!strcmp(what, "spawn")) {
		if (afork_spawn(&c, &pid, "/bin/true", NULL, NULL, true_argv, environ))
			return -1;
		if (afork_wait(c, &st, 0) < 0)
			return -1;
		afork_free(c);
	} else if (!strcmp(what, "popen")) {
		f = afork_popen("true", "r");
		if (!f)
			return -1;
		st = afork_pclose(f);
	} else {
		if (posix_spawn(&pid, "/bin/true", NULL, NULL, true_argv, environ) ||
		    waitpid(pid, &st, 0) != pid)
			return -1;
	}
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

static int probe(const char *what)
{
	int i;

	for (i = 0; i < 3; i++) {
		gdb_marker(i);
		if (one_child(what)) {
			printf("probe: %s failed\n", what);
			return 1;
		}
	}
	gdb_marker(99);
	printf("probe: done\n");
	return 0;
}

/*
 * Attached later: one child first (the library now knows no tracer is
 * there, and keeps that answer for a while), then wait for a byte on
 * stdin, which the test sends once gdb has attached and continued.
 */
static int probe_attach(const char *what)
{
	char c;

	if (one_child(what))
		return 1;
	printf("ready\n");
	fflush(stdout);
	if (read(0, &c, 1) != 1)
		return 1;
	return probe(what);
}

/* ---- the tests ---- */

struct gdb_run {
	int hits;	/* "Breakpoint 1, gdb_marker (" seen */
	int done;	/* the probe said "probe: done" */
	int timed_out;
	char out[16384];
};

static int have_gdb(void)
{
	return system("gdb --version >/dev/null 2>&1") == 0;
}

/* Every process left under us (gdb's inferior, reparented): kill, reap. */
static void kill_leftovers(void)
{
	char path[64], buf[4096], *p, *end;
	int fd, st;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/self/task/%d/children", (int)gettid());
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		buf[n > 0 ? n : 0] = 0;
		for (p = buf; *p; p = end) {
			long pid = strtol(p, &end, 10);

			if (end == p)
				break;
			kill((pid_t)pid, SIGKILL);
		}
	}
	while (waitpid(-1, &st, __WALL | WNOHANG) > 0)
		;
}

/*
 * posix_spawnp @argv without LeakSanitizer: it does not work under
 * ptrace, so in an ASan build the probe would end with its fatal error
 * instead of "probe: done".  The leak check belongs to the test runs, not
 * to the probe.
 */
static int spawn_without_lsan(pid_t *pid, const posix_spawn_file_actions_t *fa,
			      char **argv)
{
	const char *asan = getenv("ASAN_OPTIONS");
	char asan_opts[512], *asan_saved;
	int spawned;

	snprintf(asan_opts, sizeof(asan_opts), "%s%sdetect_leaks=0",
		 asan ? asan : "", asan && *asan ? ":" : "");
	asan_saved = asan ? strdup(asan) : NULL;
	setenv("ASAN_OPTIONS", asan_opts, 1);
	spawned = posix_spawnp(pid, argv[0], fa, NULL, argv, environ);
	if (asan_saved)
		setenv("ASAN_OPTIONS", asan_saved, 1);
	else
		unsetenv("ASAN_OPTIONS");
	free(asan_saved);
	return spawned;
}

/* gdb's output from @fd into r->out until EOF, or kill it when time is up. */
static void read_gdb(int fd, pid_t gdb, struct gdb_run *r)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	struct timespec t0, t1;
	size_t got = 0;
	ssize_t n;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		long left;

		clock_gettime(CLOCK_MONOTONIC, &t1);
		left = GDB_TIMEOUT_MS - ((t1.tv_sec - t0.tv_sec) * 1000 +
					 (t1.tv_nsec - t0.tv_nsec) / 1000000);
		if (left <= 0 || poll(&pfd, 1, (int)left) == 0) {
			r->timed_out = 1;
			kill(gdb, SIGKILL);
			break;
		}
		n = read(fd, r->out + got, sizeof(r->out) - 1 - got);
		if (n <= 0)
			break;
		got += (size_t)n;
		if (got == sizeof(r->out) - 1)
			break;
	}
	r->out[got] = 0;
}

/* Run gdb on "--gdb-probe what" with the backend forced; bounded. */
static void run_gdb(const char *backend, const char *what, struct gdb_run *r)
{
	char *argv[] = {
		"gdb", "-nx", "-q", "-batch",
		"-ex", "set debuginfod enabled off",
		"-ex", "set pagination off",
		"-ex", "break gdb_marker",
		"-ex", "run",
		"-ex", "continue", "-ex", "continue", "-ex", "continue",
		"-ex", "continue",
		"--args", (char *)helper_path(), "--gdb-probe", (char *)what, NULL,
	};
	posix_spawn_file_actions_t fa;
	pid_t gdb;
	int p[2], st, spawned;

	memset(r, 0, sizeof(*r));
	prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
	setenv("AFORK_BACKEND", backend, 1);
	if (pipe2(p, O_CLOEXEC))
		return;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, p[1], 1);
	posix_spawn_file_actions_adddup2(&fa, p[1], 2);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	spawned = spawn_without_lsan(&gdb, &fa, argv);
	posix_spawn_file_actions_destroy(&fa);
	close(p[1]);
	if (spawned) {
		close(p[0]);
		return;
	}
	read_gdb(p[0], gdb, r);
	close(p[0]);
	waitpid(gdb, &st, 0);
	kill_leftovers();
	for (const char *s = r->out; (s = strstr(s, "Breakpoint 1, gdb_marker (")); s++)
		r->hits++;
	r->done = strstr(r->out, "probe: done") != NULL;
}

/* Read from @fd into @buf (NUL-terminated) until @want shows or time is up. */
static int read_until(int fd, char *buf, size_t size, size_t *got,
		      const char *want, int ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	ssize_t n;

	while (!strstr(buf, want)) {
		if (*got == size - 1 || poll(&pfd, 1, ms) != 1)
			return -1;
		n = read(fd, buf + *got, size - 1 - *got);
		if (n <= 0)
			return -1;
		*got += (size_t)n;
		buf[*got] = 0;
	}
	return 0;
}

/*
 * The probe runs untraced and makes a child; then gdb attaches (-p),
 * breaks on gdb_marker and continues; then the probe goes on.  The
 * library must notice the debugger that came after its last look.
 */
static void run_gdb_attach(const char *backend, const char *what, struct gdb_run *r)
{
	char pidstr[16], probe_out[256] = "";
	char *pargv[] = { (char *)helper_path(), "--gdb-attach-probe", (char *)what, NULL };
	char *gargv[] = {
		"gdb", "-nx", "-q", "-batch",
		"-ex", "set debuginfod enabled off",
		"-ex", "set pagination off",
		"-ex", "break gdb_marker",
		"-ex", "continue", "-ex", "continue", "-ex", "continue",
		"-ex", "continue",
		"-p", pidstr, NULL,
	};
	posix_spawn_file_actions_t fa;
	int in[2], out[2], g[2], st;
	size_t got = 0, pgot = 0;
	pid_t probe_pid, gdb;

	memset(r, 0, sizeof(*r));
	prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
	setenv("AFORK_BACKEND", backend, 1);
	if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC) || pipe2(g, O_CLOEXEC))
		return;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, in[0], 0);
	posix_spawn_file_actions_adddup2(&fa, out[1], 1);
	if (posix_spawn(&probe_pid, helper_path(), &fa, NULL, pargv, environ))
		return;
	posix_spawn_file_actions_destroy(&fa);
	close(in[0]);
	close(out[1]);
	if (read_until(out[0], probe_out, sizeof(probe_out), &pgot, "ready\n", GDB_TIMEOUT_MS))
		goto out;
	snprintf(pidstr, sizeof(pidstr), "%d", (int)probe_pid);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, g[1], 1);
	posix_spawn_file_actions_adddup2(&fa, g[1], 2);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	if (posix_spawnp(&gdb, "gdb", &fa, NULL, gargv, environ)) {
		posix_spawn_file_actions_destroy(&fa);
		goto out;
	}
	posix_spawn_file_actions_destroy(&fa);
	close(g[1]);
	g[1] = -1;
	/*
	 * gdb has attached (the probe is stopped) and set the breakpoint,
	 * which it puts in when it lets the probe run: then the byte is read.
	 */
	if (read_until(g[0], r->out, sizeof(r->out), &got, "Breakpoint 1 at", GDB_TIMEOUT_MS) == 0 &&
	    write(in[1], "x", 1) == 1) {
		/* Until gdb exits (it detaches after its last command). */
		read_until(g[0], r->out, sizeof(r->out), &got, "\x01never", GDB_TIMEOUT_MS);
	} else {
		r->timed_out = 1;
	}
	kill(gdb, SIGKILL);
	waitpid(gdb, &st, 0);
	read_until(out[0], probe_out, sizeof(probe_out), &pgot, "probe: done", 10000);
out:
	r->done = strstr(probe_out, "probe: done") != NULL;
	kill(probe_pid, SIGKILL);
	waitpid(probe_pid, &st, 0);
	close(in[1]);
	close(out[0]);
	close(g[0]);
	if (g[1] >= 0)
		close(g[1]);
	kill_leftovers();
	for (const char *s = r->out; (s = strstr(s, "Breakpoint 1, gdb_marker (")); s++)
		r->hits++;
}

/* The kernel reports an afork() child to a tracer as a vfork() child. */
AFORK_BACKEND_FIXTURE(gdb, );

FIXTURE_SETUP(gdb)
{
	static struct gdb_run control;

	if (!have_gdb())
		SKIP(return, "gdb is not installed");
	ASSERT_NE(NULL, helper_path());
	if (afork_backend_select(variant->env) < 0)
		SKIP(return, "backend %s not available here", variant->env);
	run_gdb(variant->env, "posix_spawn", &control);
	if (control.hits != 4 || !control.done)
		SKIP(return, "gdb cannot trace here (posix_spawn control: %d of 4 hits): %.200s",
		     control.hits, control.out);
}

FIXTURE_TEARDOWN(gdb)
{
}

static void expect_debuggable(struct __test_metadata *_metadata,
			      const char *backend, const char *what)
{
	static struct gdb_run r;

	run_gdb(backend, what, &r);
	EXPECT_EQ(0, r.timed_out);
	EXPECT_EQ(4, r.hits);
	EXPECT_EQ(1, r.done);
	if (r.timed_out || r.hits != 4 || !r.done)
		TH_LOG("gdb said: %.2000s", r.out);
}

/* Breakpoints in the parent keep firing across afork(), and it finishes. */
TEST_F_TIMEOUT(gdb, afork, 180)
{
	expect_debuggable(_metadata, variant->env, "afork");
}

/* The same across afork_spawn(). */
TEST_F_TIMEOUT(gdb, spawn, 180)
{
	expect_debuggable(_metadata, variant->env, "spawn");
}

/* The same across afork_popen()/afork_pclose(). */
TEST_F_TIMEOUT(gdb, popen, 180)
{
	expect_debuggable(_metadata, variant->env, "popen");
}

/* A debugger that attaches after the first child is seen too. */
TEST_F_TIMEOUT(gdb, attach_later, 180)
{
	static struct gdb_run r;

	run_gdb_attach(variant->env, "afork", &r);
	EXPECT_EQ(0, r.timed_out);
	EXPECT_EQ(4, r.hits);
	EXPECT_EQ(1, r.done);
	if (r.timed_out || r.hits != 4 || !r.done)
		TH_LOG("gdb said: %.2000s", r.out);
}

int main(int argc, char **argv)
{
	if (argc > 2 && !strcmp(argv[1], "--gdb-attach-probe"))
		return probe_attach(argv[2]);
	if (argc > 2 && !strcmp(argv[1], "--gdb-probe"))
		return probe(argv[2]);
	return test_harness_run(argc, argv);
}
