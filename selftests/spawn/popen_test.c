// SPDX-License-Identifier: MIT
/*
 * afork_popen(), afork_pclose() and afork_system(): results like popen,
 * pclose and system, and a child nothing else in the program can take:
 * not SIGCHLD SIG_IGN, not a SIGCHLD handler calling waitpid(-1) in a
 * loop.  Every TEST_F runs once per backend; the vfork backend cannot
 * protect its children (afork(3)) and skips those tests.
 */
#include <poll.h>
#include <pthread.h>
#include <stddef.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "spawn_test_util.h"
#include "../common/sigchld_reaper.h"
#include "../lib/afork_test_arch.h"
#include "../../lib/src/spawn_api.h"
#include "kselftest_harness.h"

/* The guest (TCG + KASAN) spawns slowly. */
#undef TEST_TIMEOUT_DEFAULT
#define TEST_TIMEOUT_DEFAULT 120

SPAWN_BACKEND_FIXTURE(popen, );

FIXTURE_SETUP(popen)
{
	SPAWN_BACKEND_SETUP();
	ASSERT_NE(NULL, helper_path());
}

FIXTURE_TEARDOWN(popen)
{
	/* No popen or system may make the caller undumpable (issue 13). */
	EXPECT_EQ(1, prctl(PR_GET_DUMPABLE));
	signal(SIGCHLD, SIG_DFL);
	SPAWN_BACKEND_TEARDOWN();
}

/* "r": the command's output, and its status from pclose. */
TEST_F(popen, read)
{
	char buf[64];
	FILE *f = afork_popen("echo hello; echo world; exit 3", "r");

	ASSERT_NE(NULL, f);
	ASSERT_NE(NULL, afork_popen_child(f));
	ASSERT_NE(NULL, fgets(buf, sizeof(buf), f));
	EXPECT_STREQ("hello\n", buf);
	ASSERT_NE(NULL, fgets(buf, sizeof(buf), f));
	EXPECT_STREQ("world\n", buf);
	EXPECT_EQ(NULL, fgets(buf, sizeof(buf), f));
	EXPECT_EQ(3 << 8, afork_pclose(f));
}

/* Collected with afork_wait() first: pclose returns that status again. */
TEST_F(popen, pclose_after_afork_wait)
{
	FILE *f = afork_popen("exit 7", "r");
	struct afork_child *c;
	int st = 0;

	ASSERT_NE(NULL, f);
	c = afork_popen_child(f);
	ASSERT_NE(NULL, c);
	ASSERT_EQ(afork_pid(c), afork_wait(c, &st, 0));
	EXPECT_EQ(7 << 8, st);
	EXPECT_EQ(-1, afork_wait(c, &st, 0));
	EXPECT_EQ(ECHILD, errno);
	EXPECT_EQ(7 << 8, afork_pclose(f));
}

/*
 * Every open stream holds one mapping of the stack pool (its handle lives
 * there) until pclose, and the pool's limit says how many: popen fails
 * with EAGAIN beyond it, and works again once a stream is closed.
 */
TEST_F(popen, pool_limit)
{
	struct afork_pool_stats ps = { .size = sizeof(ps) };
	FILE *f[8];
	int i, n = 0;

	afork_pool_trim();
	ASSERT_EQ(0, afork_pool_stats(&ps));
	ASSERT_EQ(0, afork_pool_set_limits(ps.stacks_busy + 4, ps.max_free));
	for (i = 0; i < 8; i++) {
		f[i] = afork_popen("cat >/dev/null", "w");
		if (!f[i]) {
			EXPECT_EQ(EAGAIN, errno);
			break;
		}
		n++;
	}
	EXPECT_EQ(4, n);
	EXPECT_EQ(0, afork_pclose(f[0]));
	f[0] = afork_popen("cat >/dev/null", "w");
	EXPECT_NE(NULL, f[0]);
	for (i = 0; i < n; i++)
		if (f[i])
			EXPECT_EQ(0, afork_pclose(f[i]));
	EXPECT_EQ(0, afork_pool_set_limits(ps.max_stacks, ps.max_free));
}

/* "w": the command reads what we write; a killed command shows as such. */
TEST_F(popen, write)
{
	char cmd[PATH_MAX + 64], path[PATH_MAX + 16], buf[64];
	FILE *f;

	snprintf(path, sizeof(path), "%s/out", self->tmp);
	snprintf(cmd, sizeof(cmd), "cat > '%s'; exit 4", path);
	f = afork_popen(cmd, "w");
	ASSERT_NE(NULL, f);
	fputs("data line\n", f);
	EXPECT_EQ(4 << 8, afork_pclose(f));
	ASSERT_GT(read_file(path, buf, sizeof(buf)), 0);
	EXPECT_STREQ("data line\n", buf);

	f = afork_popen("kill -TERM $$", "r");
	ASSERT_NE(NULL, f);
	EXPECT_EQ(SIGTERM, afork_pclose(f));
}

/* 'e' makes our end close-on-exec; without it, it is inheritable. */
TEST_F(popen, modes)
{
	static const char *const bad[] = { "", "x", "rw", "wr", "re+", "rb" };
	unsigned int i;
	FILE *f;

	f = afork_popen("true", "re");
	ASSERT_NE(NULL, f);
	EXPECT_NE(0, fcntl(fileno(f), F_GETFD) & FD_CLOEXEC);
	EXPECT_EQ(0, afork_pclose(f));
	f = afork_popen("true", "er");
	ASSERT_NE(NULL, f);
	EXPECT_NE(0, fcntl(fileno(f), F_GETFD) & FD_CLOEXEC);
	EXPECT_EQ(0, afork_pclose(f));
	f = afork_popen("cat >/dev/null", "w");
	ASSERT_NE(NULL, f);
	EXPECT_EQ(0, fcntl(fileno(f), F_GETFD) & FD_CLOEXEC);
	EXPECT_EQ(0, afork_pclose(f));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		errno = 0;
		EXPECT_EQ(NULL, afork_popen("true", bad[i]));
		EXPECT_EQ(EINVAL, errno);
	}
	EXPECT_EQ(NULL, afork_popen("true", NULL));
	EXPECT_EQ(NULL, afork_popen(NULL, "r"));
}

/* pclose of a stream afork_popen did not make: -1, ECHILD. */
TEST_F(popen, pclose_foreign)
{
	FILE *f = fopen("/dev/null", "r");

	ASSERT_NE(NULL, f);
	errno = 0;
	EXPECT_EQ(-1, afork_pclose(f));
	EXPECT_EQ(ECHILD, errno);
	EXPECT_EQ(NULL, afork_popen_child(f));
	fclose(f);
}

/* The shell runs even if it cannot find the command: 127. */
TEST_F(popen, missing_command)
{
	FILE *f = afork_popen("no-such-command-anywhere 2>/dev/null", "r");

	ASSERT_NE(NULL, f);
	EXPECT_EQ(127 << 8, afork_pclose(f));
}

/* Streams of earlier popens are closed in later children (POSIX). */
TEST_F(popen, earlier_streams_closed)
{
	char cmd[128], buf[32];
	FILE *a, *f;

	a = afork_popen("cat >/dev/null", "w");
	ASSERT_NE(NULL, a);
	snprintf(cmd, sizeof(cmd),
		 "test -e /proc/self/fd/%d && echo open || echo closed", fileno(a));
	f = afork_popen(cmd, "r");
	ASSERT_NE(NULL, f);
	ASSERT_NE(NULL, fgets(buf, sizeof(buf), f));
	EXPECT_STREQ("closed\n", buf);
	EXPECT_EQ(0, afork_pclose(f));
	/* And a's reader got EOF when we closed it, not later. */
	EXPECT_EQ(0, afork_pclose(a));
}

/* SIGCHLD ignored: the kernel must not reap the child; pclose gets 7. */
TEST_F(popen, sigchld_ignored)
{
	FILE *f;

	if (self->id == AFORK_BACKEND_VFORK)
		SKIP(return, "the vfork backend cannot protect its children (afork(3))");
	signal(SIGCHLD, SIG_IGN);
	f = afork_popen("exit 7", "r");
	ASSERT_NE(NULL, f);
	popen_wait_exited(_metadata, f);
	EXPECT_EQ(7 << 8, afork_pclose(f));
	EXPECT_EQ(5 << 8, afork_system("exit 5"));
}

/* A SIGCHLD handler reaping everything with waitpid(-1) in a loop. */
TEST_F(popen, sigchld_handler_waitpid_any)
{
	FILE *f;

	if (self->id == AFORK_BACKEND_VFORK)
		SKIP(return, "the vfork backend cannot protect its children (afork(3))");
	ASSERT_EQ(0, reaper_install());

	f = afork_popen("exit 9", "r");
	ASSERT_NE(NULL, f);
	popen_wait_exited(_metadata, f);
	/* Our child is a zombie now; another child makes the handler run. */
	ASSERT_EQ(0, reaper_run());
	EXPECT_EQ(1, reaper_reaped);
	EXPECT_EQ(9 << 8, afork_pclose(f));
	/* And system() under the same handler. */
	EXPECT_EQ(6 << 8, afork_system("exit 6"));
	EXPECT_EQ(1, reaper_reaped);
}

/* system(): statuses, NULL, a signal death, a missing command. */
TEST_F(popen, system_status)
{
	EXPECT_EQ(5 << 8, afork_system("exit 5"));
	EXPECT_EQ(0, afork_system("true"));
	EXPECT_NE(0, afork_system(NULL));
	EXPECT_EQ(SIGTERM, afork_system("kill -TERM $$"));
	EXPECT_EQ(127 << 8, afork_system("no-such-command-anywhere 2>/dev/null"));
}

static volatile sig_atomic_t ints;

static void count_int(int sig)
{
	(void)sig;
	ints++;
}

/* SIGINT during system() is discarded, as if ignored (one thread). */
TEST_F(popen, system_sigint_discarded)
{
	char cmd[128];

	signal(SIGINT, count_int);
	signal(SIGQUIT, count_int);
	ints = 0;
	/* Not $PPID: on the clone backends that is the shield (spawn_int.h). */
	snprintf(cmd, sizeof(cmd), "kill -INT %d; kill -QUIT %d; exit 3",
		 (int)getpid(), (int)getpid());
	EXPECT_EQ(3 << 8, afork_system(cmd));
	EXPECT_EQ(0, ints);
	/* Not ignored for good: a later SIGINT is handled. */
	raise(SIGINT);
	EXPECT_EQ(1, ints);
	signal(SIGINT, SIG_DFL);
	signal(SIGQUIT, SIG_DFL);
}

static int int_pipe[2] = { -1, -1 };

static void count_int_pipe(int sig)
{
	char b = 1;

	(void)sig;
	ints++;
	if (write(int_pipe[1], &b, 1) != 1)
		abort();
}

/* Tell the test it runs with SIGINT unblocked, then wait for the handler. */
static void *idle_thread(void *p)
{
	sigset_t s;
	char b = 0;

	sigemptyset(&s);
	sigaddset(&s, SIGINT);
	pthread_sigmask(SIG_UNBLOCK, &s, NULL);
	if (write(*(int *)p, &b, 1) != 1)
		return (void *)1L;
	while (read(int_pipe[0], &b, 1) < 0 && errno == EINTR)
		;
	return NULL;
}

/* ...but another thread that takes SIGINT still gets it (documented). */
TEST_F(popen, system_sigint_other_thread)
{
	char cmd[64], b;
	int started[2];
	pthread_t t;
	void *r;

	ASSERT_EQ(0, pipe2(int_pipe, O_CLOEXEC));
	ASSERT_EQ(0, pipe2(started, O_CLOEXEC));
	signal(SIGINT, count_int_pipe);
	ints = 0;
	ASSERT_EQ(0, pthread_create(&t, NULL, idle_thread, &started[1]));
	/* The thread has SIGINT unblocked before the signal is sent. */
	ASSERT_EQ(1, read(started[0], &b, 1));
	snprintf(cmd, sizeof(cmd), "kill -INT %d", (int)getpid());
	EXPECT_EQ(0, afork_system(cmd));
	/* A lost signal leaves the thread waiting: the harness's timeout. */
	ASSERT_EQ(0, pthread_join(t, &r));
	EXPECT_EQ(NULL, r);
	EXPECT_EQ(1, ints);
	signal(SIGINT, SIG_DFL);
	close(int_pipe[0]);
	close(int_pipe[1]);
	close(started[0]);
	close(started[1]);
}

/* The shell gets the caller's mask and dispositions from before the call. */
TEST_F(popen, system_child_signals)
{
	char cmd[2 * PATH_MAX + 64], out[PATH_MAX + 16], buf[32768];
	sigset_t m, old;

	snprintf(out, sizeof(out), "%s/dump", self->tmp);
	snprintf(cmd, sizeof(cmd), "exec '%s' --dump '%s' /nowhere", helper_path(), out);
	sigemptyset(&m);
	sigaddset(&m, SIGUSR1);
	ASSERT_EQ(0, sigprocmask(SIG_BLOCK, &m, &old));
	signal(SIGINT, count_int);	/* caught: default in the child */
	signal(SIGQUIT, SIG_IGN);	/* ignored: stays ignored */
	EXPECT_EQ(0, afork_system(cmd));
	ASSERT_GT(read_file(out, buf, sizeof(buf)), 0);
	/* Only SIGUSR1 blocked; only SIGQUIT ignored (glibc's 32/33 aside). */
	EXPECT_NE(NULL, strstr(buf, "sigblk 0000000000000200\n"));
	ASSERT_NE(NULL, strstr(buf, "sigign "));
	EXPECT_EQ(0x4ULL, strtoull(strstr(buf, "sigign ") + 7, NULL, 16) & ~0x180000000ULL)
		TH_LOG("%s", strstr(buf, "sigblk"));
	sigprocmask(SIG_SETMASK, &old, NULL);
	signal(SIGINT, SIG_DFL);
	signal(SIGQUIT, SIG_DFL);
}

/* Killing the popen child's pid reaches the command (clone: the shield). */
TEST_F(popen, kill_reaches_command)
{
	FILE *f = afork_popen("read x", "w");
	struct afork_child *c;

	ASSERT_NE(NULL, f);
	c = afork_popen_child(f);
	ASSERT_NE(NULL, c);
	ASSERT_EQ(0, kill(afork_pid(c), SIGTERM));
	EXPECT_EQ(SIGTERM, afork_pclose(f));
}

/* ---------------------------------------------------------------- */
/* Issue 13: the caller stays dumpable; the handle is the command's   */

/* A popen'd command that exits: the caller stays dumpable. */
TEST_F(popen, dumpable_after_popen)
{
	FILE *f = afork_popen("exit 0", "r");

	ASSERT_NE(NULL, f);
	EXPECT_EQ(0, afork_pclose(f));
	EXPECT_EQ(1, prctl(PR_GET_DUMPABLE));
}

/* A popen'd command killed by a signal (SIGPIPE): still dumpable. */
TEST_F(popen, dumpable_after_popen_killed)
{
	char buf[64];
	FILE *f = afork_popen("exec yes", "r");

	ASSERT_NE(NULL, f);
	ASSERT_NE(NULL, fgets(buf, sizeof(buf), f));
	EXPECT_EQ(SIGPIPE, afork_pclose(f));
	EXPECT_EQ(1, prctl(PR_GET_DUMPABLE));
}

/* A popen whose shell cannot run the command: still dumpable. */
TEST_F(popen, dumpable_after_popen_missing)
{
	FILE *f = afork_popen("exec /nonexistent/command 2>/dev/null", "r");

	ASSERT_NE(NULL, f);
	EXPECT_EQ(127 << 8, afork_pclose(f));
	EXPECT_EQ(1, prctl(PR_GET_DUMPABLE));
}

/* afork_system of a command that exits: still dumpable. */
TEST_F(popen, dumpable_after_system)
{
	EXPECT_EQ(3 << 8, afork_system("exit 3"));
	EXPECT_EQ(1, prctl(PR_GET_DUMPABLE));
}

/* afork_system("kill -TERM $$"): the status says so; still dumpable. */
TEST_F(popen, dumpable_after_system_killed)
{
	EXPECT_EQ(SIGTERM, afork_system("kill -TERM $$"));
	EXPECT_EQ(1, prctl(PR_GET_DUMPABLE));
}

/* Read "PID [PPID]" that the command printed first. */
static void read_pids(struct __test_metadata *_metadata, FILE *f,
		      pid_t *pid, pid_t *ppid)
{
	char line[64];
	long a = 0, b = 0;

	ASSERT_NE(NULL, fgets(line, sizeof(line), f));
	ASSERT_LE(1, sscanf(line, "%ld %ld", &a, &b));
	*pid = (pid_t)a;
	if (ppid)
		*ppid = (pid_t)b;
}

/* The command is gone within 10 s (it would otherwise sleep for 1000). */
static int gone(int pidfd)
{
	struct pollfd pfd = { .fd = pidfd, .events = POLLIN };

	return poll(&pfd, 1, 10000) == 1;
}

/* The pid popen exposes is the command's own ($$ of its shell). */
TEST_F(popen, pid_is_command)
{
	FILE *f = afork_popen("echo $$", "r");
	pid_t cmd;

	ASSERT_NE(NULL, f);
	read_pids(_metadata, f, &cmd, NULL);
	EXPECT_EQ(cmd, afork_pid(afork_popen_child(f)));
	EXPECT_EQ(0, afork_pclose(f));
}

/* SIGKILL to that pid kills the command, and pclose reports 9. */
TEST_F(popen, sigkill_to_pid_kills_command)
{
	FILE *f = afork_popen("echo $$; exec sleep 1000", "r");
	pid_t cmd;
	int pidfd;

	ASSERT_NE(NULL, f);
	read_pids(_metadata, f, &cmd, NULL);
	pidfd = (int)syscall(SYS_pidfd_open, cmd, 0);
	ASSERT_GE(pidfd, 0);
	ASSERT_EQ(0, kill(afork_pid(afork_popen_child(f)), SIGKILL));
	EXPECT_TRUE(gone(pidfd));
	EXPECT_EQ(SIGKILL, afork_pclose(f));
	if (syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0) == 0)
		TH_LOG("the command outlived pclose");
	close(pidfd);
}

/* A shield killed with SIGKILL takes the command with it; pclose returns. */
TEST_F(popen, shield_killed_command_dies)
{
	FILE *f = afork_popen("echo $$ $PPID; exec sleep 1000", "r");
	pid_t cmd, parent;
	int pidfd, st;

	ASSERT_NE(NULL, f);
	read_pids(_metadata, f, &cmd, &parent);
	pidfd = (int)syscall(SYS_pidfd_open, cmd, 0);
	ASSERT_GE(pidfd, 0);
	if (parent == getpid()) {
		syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
		afork_pclose(f);
		close(pidfd);
		SKIP(return, "no shield on the %s backend", afork_backend_name(self->id));
	}
	ASSERT_EQ(0, kill(parent, SIGKILL));
	EXPECT_TRUE(gone(pidfd));
	st = afork_pclose(f);
	EXPECT_TRUE(WIFSIGNALED(st)) TH_LOG("status %#x", st);
	syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
	close(pidfd);
}

/*
 * A signal sent to the caller's process group reaches the command once:
 * the shield, which forwards what it gets, is not in that group.  The
 * count is asked for with a second real-time signal, sent to the shield
 * where there is one: it forwards in signal order, and the command takes
 * the lower number first, so any forwarded copy is counted before it.
 */
TEST_F(popen, group_signal_reaches_command_once)
{
	char cmd[PATH_MAX + 64], line[32];
	FILE *f;
	pid_t pid, parent;
	sigset_t one;

	ASSERT_EQ(0, setpgid(0, 0));	/* a group of this test's own */
	snprintf(cmd, sizeof(cmd), "exec '%s' --helper rtcount", helper_path());
	f = afork_popen(cmd, "r");
	ASSERT_NE(NULL, f);
	read_pids(_metadata, f, &pid, &parent);
	EXPECT_EQ(pid, afork_pid(afork_popen_child(f)));
	EXPECT_EQ(getpgrp(), getpgid(pid));
	sigemptyset(&one);
	sigaddset(&one, SIGRTMIN + 1);
	ASSERT_EQ(0, sigprocmask(SIG_BLOCK, &one, NULL));
	ASSERT_EQ(0, kill(0, SIGRTMIN + 1));
	ASSERT_EQ(0, kill(parent == getpid() ? pid : parent, SIGRTMIN + 2));
	ASSERT_NE(NULL, fgets(line, sizeof(line), f));
	EXPECT_STREQ("1\n", line);
	EXPECT_EQ(0, afork_pclose(f));
	ASSERT_EQ(SIGRTMIN + 1, sigtimedwait(&one, NULL, &(struct timespec){ 0 }));
}

/*
 * The same for a signal sent to the group at once, while the shield may
 * still be starting the command: never doubled.  It may be lost only if
 * it comes while the shield is inside clone() creating the command
 * (afork_popen(3), BUGS): 20 rounds, at most 6 lost (none seen on the
 * host in 120 rounds, 1 in 20 under TCG with KASAN: the bound keeps a
 * guest run from failing by chance).  The first fix, in which the
 * shield left the group before the command existed, lost more.  The
 * command inherits the blocked real-time signals and counts once ready.
 */
TEST_F(popen, group_signal_right_after_popen)
{
	char cmd[PATH_MAX + 64], line[32];
	int i, once = 0;
	sigset_t both;

	ASSERT_EQ(0, setpgid(0, 0));
	snprintf(cmd, sizeof(cmd), "exec '%s' --helper rtcount", helper_path());
	sigemptyset(&both);
	sigaddset(&both, SIGRTMIN + 1);
	sigaddset(&both, SIGRTMIN + 2);
	ASSERT_EQ(0, sigprocmask(SIG_BLOCK, &both, NULL));
	for (i = 0; i < 20; i++) {
		sigset_t one;
		pid_t pid, parent;
		FILE *f = afork_popen(cmd, "r");

		ASSERT_NE(NULL, f);
		ASSERT_EQ(0, kill(0, SIGRTMIN + 1));
		read_pids(_metadata, f, &pid, &parent);
		ASSERT_EQ(0, kill(parent == getpid() ? pid : parent, SIGRTMIN + 2));
		ASSERT_NE(NULL, fgets(line, sizeof(line), f));
		EXPECT_STRNE("2\n", line) TH_LOG("round %d: doubled", i);
		if (!strcmp(line, "1\n"))
			once++;
		else
			TH_LOG("round %d: the command counted %s", i, line);
		EXPECT_EQ(0, afork_pclose(f));
		sigemptyset(&one);
		sigaddset(&one, SIGRTMIN + 1);
		ASSERT_EQ(SIGRTMIN + 1, sigtimedwait(&one, NULL, &(struct timespec){ 0 }));
	}
	EXPECT_LE(14, once);
}

/* afork_system's command killed by SIGKILL: system reports 9. */
TEST_F(popen, system_command_sigkilled)
{
	EXPECT_EQ(SIGKILL, afork_system("kill -KILL $$"));
}

/*
 * The preload's popen: afork__popen() with glibc's behaviours, in
 * libafork.a; its interface for the preload is lib/src/spawn_api.h.
 */
static FILE *preload_popen(const char *command, const char *mode, int *err)
{
	struct shell_req req = { .command = command, .no_dashdash = 1, .sync = 1 };
	FILE *f;

	*err = -afork__popen(&req, mode, &f);
	return f;
}

/*
 * In this (test) process, make clone() with CLONE_VFORK, which only the
 * shield uses here, fail with @ret (SECCOMP_RET_ERRNO | e, or
 * SECCOMP_RET_KILL_PROCESS: the shield dies before the command starts).
 */
static int filter_vfork_clone(unsigned int ret)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, TEST_AUDIT_ARCH, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_clone, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0])),
		BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, CLONE_VFORK, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, ret),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { .len = sizeof(f) / sizeof(f[0]), .filter = f };

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return -1;
	return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog);
}

/* The shield cannot start the command: the preload's popen fails with it. */
TEST_F(popen, sync_start_failure_reported)
{
	FILE *f;
	int err = 0;

	if (self->id != AFORK_BACKEND_CLONE3 && self->id != AFORK_BACKEND_CLONE)
		SKIP(return, "no shield on the %s backend", afork_backend_name(self->id));
	ASSERT_EQ(0, filter_vfork_clone(SECCOMP_RET_ERRNO | EAGAIN));
	f = preload_popen("true", "r", &err);
	EXPECT_EQ(NULL, f);
	EXPECT_EQ(EAGAIN, err);
	if (f)
		afork_pclose(f);
}

/* The shield dies before the command starts: the preload's popen fails, no hang. */
TEST_F_TIMEOUT(popen, sync_shield_killed_early, 60)
{
	FILE *f;
	int err = 0;

	if (self->id != AFORK_BACKEND_CLONE3 && self->id != AFORK_BACKEND_CLONE)
		SKIP(return, "no shield on the %s backend", afork_backend_name(self->id));
	ASSERT_EQ(0, filter_vfork_clone(SECCOMP_RET_KILL_PROCESS));
	f = preload_popen("true", "r", &err);
	EXPECT_EQ(NULL, f);
	EXPECT_EQ(EAGAIN, err);	/* as if fork() had failed */
	if (f)
		afork_pclose(f);
}

static int exit_zero(void *unused)
{
	return 0;
}

/*
 * The pool at its limit with only free stacks of another size (those of
 * earlier children): popen and system make room instead of failing with
 * EAGAIN (found by an outside probe: they stayed at EAGAIN for good).
 */
TEST_F(popen, pool_full_of_other_stacks)
{
	struct afork_child *c[2];
	FILE *f;
	int i;

	ASSERT_EQ(0, afork_pool_set_limits(2, 0));
	for (i = 0; i < 2; i++)
		ASSERT_EQ(0, afork_start(&c[i], NULL, exit_zero, NULL));
	for (i = 0; i < 2; i++) {
		ASSERT_LE(0, afork_wait(c[i], NULL, 0));
		afork_free(c[i]);
	}
	f = afork_popen("exit 0", "r");
	ASSERT_NE(NULL, f) TH_LOG("afork_popen: %s", strerror(errno));
	EXPECT_EQ(0, afork_pclose(f));
	EXPECT_EQ(0, afork_system("exit 0"));
}

static struct {
	int started[2], go[2];
	pthread_t caller;
	volatile sig_atomic_t caught;
} tsig;

static void tsig_handler(int sig)
{
	tsig.caught++;
}

/* Once the command runs, SIGINT to the caller's thread alone, then let it end. */
static void *tsig_sender(void *unused)
{
	char ch;

	if (read(tsig.started[0], &ch, 1) == 1)
		pthread_kill(tsig.caller, SIGINT);
	if (write(tsig.go[1], "x\n", 2) != 2)
		return (void *)1;
	return NULL;
}

/* afork_system() from the calling thread, a SIGINT sent to that thread. */
static void *tsig_call(void *status)
{
	char cmd[64];
	pthread_t t;

	snprintf(cmd, sizeof(cmd), "echo >&%d; read x <&%d",
		 tsig.started[1], tsig.go[0]);
	tsig.caller = pthread_self();
	if (pthread_create(&t, NULL, tsig_sender, NULL))
		return (void *)1;
	*(int *)status = afork_system(cmd);
	pthread_join(t, NULL);
	return NULL;
}

/*
 * A SIGINT sent to the calling thread while the command runs is
 * discarded (afork_system(3)), whether that thread is the main one or
 * not; the found defect: from any other thread it reached the handler
 * after the call, because the main thread left SIGINT unblocked.
 */
TEST_F(popen, system_thread_signal_discarded)
{
	struct sigaction sa = { .sa_handler = tsig_handler };
	int st = -2, i;
	pthread_t t;

	ASSERT_EQ(0, pipe(tsig.started));
	ASSERT_EQ(0, pipe(tsig.go));
	ASSERT_EQ(0, sigaction(SIGINT, &sa, NULL));
	for (i = 0; i < 2; i++) {
		tsig.caught = 0;
		if (i == 0) {
			ASSERT_EQ(NULL, tsig_call(&st));
		} else {
			ASSERT_EQ(0, pthread_create(&t, NULL, tsig_call, &st));
			ASSERT_EQ(0, pthread_join(t, NULL));
		}
		EXPECT_EQ(0, st);
		EXPECT_EQ(0, tsig.caught) TH_LOG("%s thread: SIGINT not discarded",
						 i ? "second" : "main");
	}
	signal(SIGINT, SIG_DFL);
	for (i = 0; i < 2; i++) {
		close(tsig.started[i]);
		close(tsig.go[i]);
	}
}

/*
 * The shield cannot create the shell's process: afork_system() says no
 * child could be created (-1, EAGAIN) rather than "the shell exited 127",
 * so that the preload can fall back to libc's system().
 */
TEST_F(popen, system_shield_start_failure)
{
	int st;

	if (self->id != AFORK_BACKEND_CLONE3 && self->id != AFORK_BACKEND_CLONE)
		SKIP(return, "no shield on the %s backend", afork_backend_name(self->id));
	ASSERT_EQ(0, filter_vfork_clone(SECCOMP_RET_ERRNO | EAGAIN));
	errno = 0;
	st = afork_system("exit 0");
	EXPECT_EQ(-1, st);
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_EQ(0, afork_system(NULL));
}

SPAWN_MAIN()
