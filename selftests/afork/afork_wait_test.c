// SPDX-License-Identifier: GPL-2.0
/*
 * afork(): AFORK_NOSIGCHLD and AFORK_WAITPID, the illumos forkx() wait
 * semantics, and what becomes of them when the child is reparented.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "afork_selftests.h"
#include "../kselftest_harness.h"

#ifndef __WALL
#define __WALL 0x40000000
#endif

static int child_wait_then_exit(void *arg)
{
	int *in = arg;
	char c = 0;

	if (child_read(in[0], &c, 1) != 1)
		return 100;
	return c;
}

/* One afork() child that exits when told to. */
struct kid {
	int in[2];
	void *stack;
	__u32 word;
	int pidfd;
};

FIXTURE(wait) {
	struct kid k;
	sigset_t chld;
};

FIXTURE_SETUP(wait)
{
	ASSERT_EQ(0, pipe2(self->k.in, O_CLOEXEC));
	self->k.stack = afork_stack_alloc(AFORK_TEST_STACK_SIZE);
	ASSERT_NE(NULL, self->k.stack);
	self->k.pidfd = -1;
	/* Keep SIGCHLD pending rather than delivered, so it can be counted. */
	sigemptyset(&self->chld);
	sigaddset(&self->chld, SIGCHLD);
	ASSERT_EQ(0, sigprocmask(SIG_BLOCK, &self->chld, NULL));
}

FIXTURE_TEARDOWN(wait)
{
	close(self->k.in[0]);
	close(self->k.in[1]);
	if (self->k.pidfd >= 0)
		close(self->k.pidfd);
	munmap(self->k.stack, AFORK_TEST_STACK_SIZE);
}

/* Start a child that waits for its exit code on a pipe; returns its pid. */
static pid_t start(struct kid *k, __u64 flags)
{
	struct afork_args a = {
		.flags = flags | AFORK_PIDFD,
		.pidfd = ptr_to_u64(&k->pidfd),
		.stack = ptr_to_u64(k->stack),
		.stack_size = AFORK_TEST_STACK_SIZE,
		.release_word = ptr_to_u64(&k->word),
	};

	return afork_run(&a, sizeof(a), child_wait_then_exit, k->in);
}

/* Let the child exit with @code and wait, without reaping, until it has. */
static int finish(struct kid *k, char code)
{
	if (write(k->in[1], &code, 1) != 1)
		return -1;
	return pidfd_wait_events(k->pidfd, POLLIN, -1) & POLLIN ? 0 : -1;
}

static int sigchld_pending(void)
{
	sigset_t set;

	sigemptyset(&set);
	if (sigpending(&set))
		return -1;
	return sigismember(&set, SIGCHLD);
}

/* AFORK_NOSIGCHLD: no SIGCHLD, and a plain waitpid(pid, &st, 0) reaps. */
TEST_F(wait, nosigchld_waitpid)
{
	pid_t pid = start(&self->k, AFORK_NOSIGCHLD);
	int st;

	ASSERT_GT(pid, 0);
	ASSERT_EQ(0, finish(&self->k, 3));
	ASSERT_EQ(pid, waitpid(pid, &st, 0));
	EXPECT_EQ(3, WEXITSTATUS(st));
	EXPECT_EQ(0, sigchld_pending());
}

/* AFORK_NOSIGCHLD: waitid(P_PIDFD) reaps, still no SIGCHLD. */
TEST_F(wait, nosigchld_waitid_pidfd)
{
	siginfo_t info = { 0 };
	pid_t pid = start(&self->k, AFORK_NOSIGCHLD);

	ASSERT_GT(pid, 0);
	ASSERT_EQ(0, finish(&self->k, 4));
	ASSERT_EQ(0, waitid(P_PIDFD, self->k.pidfd, &info, WEXITED));
	EXPECT_EQ(pid, info.si_pid);
	EXPECT_EQ(4, info.si_status);
	EXPECT_EQ(0, sigchld_pending());
}

/*
 * Without AFORK_NOSIGCHLD the same exit does raise SIGCHLD (control).
 * Checked after the reap: the pidfd reports the exit before the signal
 * is queued (do_notify_parent() wakes pidfds first), the zombie can only
 * be reaped once both are done.
 */
TEST_F(wait, sigchld_by_default)
{
	pid_t pid = start(&self->k, 0);
	int st;

	ASSERT_GT(pid, 0);
	ASSERT_EQ(0, finish(&self->k, 0));
	ASSERT_EQ(pid, waitpid(pid, &st, 0));
	EXPECT_EQ(1, sigchld_pending());
}

/* AFORK_WAITPID: invisible to every wait that does not name the child. */
TEST_F(wait, waitpid_only_named)
{
	pid_t pid = start(&self->k, AFORK_WAITPID);
	siginfo_t info;
	int st;

	ASSERT_GT(pid, 0);
	ASSERT_EQ(0, finish(&self->k, 5));

	EXPECT_EQ(-1, wait(&st));
	EXPECT_EQ(ECHILD, errno);
	EXPECT_EQ(-1, waitpid(-1, &st, WNOHANG));
	EXPECT_EQ(ECHILD, errno);
	EXPECT_EQ(-1, waitpid(-1, &st, WNOHANG | __WALL));
	EXPECT_EQ(ECHILD, errno);
	EXPECT_EQ(-1, waitpid(0, &st, WNOHANG | __WALL));
	EXPECT_EQ(ECHILD, errno);
	EXPECT_EQ(-1, waitpid(-getpgrp(), &st, WNOHANG));
	EXPECT_EQ(ECHILD, errno);
	EXPECT_EQ(-1, waitid(P_ALL, 0, &info, WEXITED | WNOHANG));
	EXPECT_EQ(ECHILD, errno);
	EXPECT_EQ(-1, waitid(P_ALL, 0, &info, WEXITED | WNOHANG | __WALL));
	EXPECT_EQ(ECHILD, errno);
	EXPECT_EQ(-1, waitid(P_PGID, getpgrp(), &info, WEXITED | WNOHANG));
	EXPECT_EQ(ECHILD, errno);

	/* The one who names it gets it, status intact. */
	ASSERT_EQ(pid, waitpid(pid, &st, 0));
	EXPECT_EQ(5, WEXITSTATUS(st));
}

/* AFORK_WAITPID: waitid(P_PID) and waitid(P_PIDFD) name it and reap. */
TEST_F(wait, waitpid_waitid_named)
{
	siginfo_t info = { 0 };
	pid_t pid = start(&self->k, AFORK_WAITPID);

	ASSERT_GT(pid, 0);
	ASSERT_EQ(0, finish(&self->k, 6));
	ASSERT_EQ(0, waitid(P_PID, pid, &info, WEXITED | WNOWAIT));
	EXPECT_EQ(6, info.si_status);
	ASSERT_EQ(0, waitid(P_PIDFD, self->k.pidfd, &info, WEXITED));
	EXPECT_EQ(pid, info.si_pid);
}

/* AFORK_WAITPID: wait(-1) reaps a sibling, never the afork() child. */
TEST_F(wait, waitpid_sibling_reaped_instead)
{
	pid_t pid = start(&self->k, AFORK_WAITPID), other;
	int st;

	ASSERT_GT(pid, 0);
	other = fork();
	ASSERT_GE(other, 0);
	if (!other)
		_exit(9);
	ASSERT_EQ(0, finish(&self->k, 5));
	ASSERT_EQ(other, wait(&st));
	EXPECT_EQ(9, WEXITSTATUS(st));
	EXPECT_EQ(-1, wait(&st));
	EXPECT_EQ(ECHILD, errno);
	ASSERT_EQ(pid, waitpid(pid, &st, 0));
}

/* AFORK_WAITPID: not auto-reaped when SIGCHLD is SIG_IGN. */
TEST_F(wait, waitpid_not_autoreaped_sig_ign)
{
	pid_t pid;
	int st;

	ASSERT_NE(SIG_ERR, signal(SIGCHLD, SIG_IGN));
	pid = start(&self->k, AFORK_WAITPID);
	ASSERT_GT(pid, 0);
	ASSERT_EQ(0, finish(&self->k, 8));
	ASSERT_EQ(pid, waitpid(pid, &st, 0));
	EXPECT_EQ(8, WEXITSTATUS(st));
}

/* AFORK_WAITPID: not auto-reaped under SA_NOCLDWAIT either. */
TEST_F(wait, waitpid_not_autoreaped_nocldwait)
{
	struct sigaction sa = { .sa_handler = SIG_DFL,
				.sa_flags = SA_NOCLDWAIT };
	pid_t pid;
	int st;

	ASSERT_EQ(0, sigaction(SIGCHLD, &sa, NULL));
	pid = start(&self->k, AFORK_WAITPID | AFORK_NOSIGCHLD);
	ASSERT_GT(pid, 0);
	ASSERT_EQ(0, finish(&self->k, 10));
	ASSERT_EQ(pid, waitpid(pid, &st, 0));
	EXPECT_EQ(10, WEXITSTATUS(st));
}

/* Control: without AFORK_WAITPID, SIG_IGN auto-reaps and waitpid fails. */
TEST_F(wait, autoreaped_without_waitpid)
{
	pid_t pid;
	int st;

	ASSERT_NE(SIG_ERR, signal(SIGCHLD, SIG_IGN));
	pid = start(&self->k, AFORK_NOSIGCHLD);
	ASSERT_GT(pid, 0);
	ASSERT_EQ(1, write(self->k.in[1], "", 1));
	/* A reaped child's pidfd reports HUP. */
	EXPECT_TRUE(pidfd_wait_events(self->k.pidfd, POLLHUP, -1) & POLLHUP);
	EXPECT_EQ(-1, waitpid(pid, &st, 0));
	EXPECT_EQ(ECHILD, errno);
}

/*
 * Reparenting drops both flags: the child of an exiting middle process
 * signals the subreaper, whose wait(-1) reaps it.
 */
TEST_F(wait, reparent_to_subreaper_drops_flags)
{
	int report[2];
	pid_t middle, orphan;
	int st, sfd;
	struct signalfd_siginfo si;

	ASSERT_EQ(0, prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0));
	ASSERT_EQ(0, pipe(report));
	sfd = signalfd(-1, &self->chld, SFD_CLOEXEC);
	ASSERT_GE(sfd, 0);

	middle = fork();
	ASSERT_GE(middle, 0);
	if (!middle) {
		pid_t pid = start(&self->k, AFORK_WAITPID | AFORK_NOSIGCHLD);

		if (write(report[1], &pid, sizeof(pid)) != sizeof(pid))
			_exit(1);
		_exit(pid > 0 ? 0 : 2);
	}
	ASSERT_EQ(sizeof(orphan), read(report[0], &orphan, sizeof(orphan)));
	ASSERT_GT(orphan, 0);
	ASSERT_EQ(middle, waitpid(middle, &st, 0));
	ASSERT_EQ(0, WEXITSTATUS(st));
	/* Drain the SIGCHLD the middle process sent. */
	ASSERT_EQ(sizeof(si), read(sfd, &si, sizeof(si)));
	EXPECT_EQ(middle, (pid_t)si.ssi_pid);

	/* The orphan is ours now, with plain SIGCHLD child semantics. */
	ASSERT_EQ(1, write(self->k.in[1], "\x0b", 1));
	ASSERT_EQ(orphan, wait(&st));
	EXPECT_EQ(11, WEXITSTATUS(st));
	ASSERT_EQ(sizeof(si), read(sfd, &si, sizeof(si)));
	EXPECT_EQ(orphan, (pid_t)si.ssi_pid);
	close(sfd);
	close(report[0]);
	close(report[1]);
}

/* A child that exits before its parent is reparented: zombie goes to init
 * semantics too (the subreaper reaps the zombie with wait(-1)).
 */
TEST_F(wait, reparent_zombie_reaped_by_subreaper)
{
	int report[2];
	pid_t middle, orphan;
	int st;

	ASSERT_EQ(0, prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0));
	ASSERT_EQ(0, pipe(report));
	middle = fork();
	ASSERT_GE(middle, 0);
	if (!middle) {
		pid_t pid = start(&self->k, AFORK_WAITPID);
		char c = 12;

		if (pid <= 0 || write(self->k.in[1], &c, 1) != 1)
			_exit(2);
		/* Wait until the child is a zombie, then orphan it. */
		if (!(pidfd_wait_events(self->k.pidfd, POLLIN, -1) & POLLIN))
			_exit(3);
		if (write(report[1], &pid, sizeof(pid)) != sizeof(pid))
			_exit(1);
		_exit(0);
	}
	ASSERT_EQ(sizeof(orphan), read(report[0], &orphan, sizeof(orphan)));
	ASSERT_EQ(middle, waitpid(middle, &st, 0));
	ASSERT_EQ(0, WEXITSTATUS(st));
	ASSERT_EQ(orphan, wait(&st));
	EXPECT_EQ(12, WEXITSTATUS(st));
	close(report[0]);
	close(report[1]);
}

/*
 * §5: AFORK_WAITPID covers stops and continues too: only a wait that names
 * the child reports them (WUNTRACED, WCONTINUED).  waitid(WNOWAIT) on the
 * named child is the barrier that the stop or continue has happened.
 */
TEST_F(wait, waitpid_stop_and_continue_named_only)
{
	pid_t pid = start(&self->k, AFORK_WAITPID);
	siginfo_t info;
	int st;

	ASSERT_GT(pid, 0);
	ASSERT_EQ(0, kill(pid, SIGSTOP));
	ASSERT_EQ(0, waitid(P_PID, pid, &info, WSTOPPED | WNOWAIT));
	EXPECT_EQ(-1, waitpid(-1, &st, WUNTRACED | WNOHANG));
	EXPECT_EQ(ECHILD, errno);
	EXPECT_EQ(-1, waitid(P_ALL, 0, &info, WSTOPPED | WNOHANG));
	EXPECT_EQ(ECHILD, errno);
	ASSERT_EQ(pid, waitpid(pid, &st, WUNTRACED));
	EXPECT_TRUE(WIFSTOPPED(st));
	EXPECT_EQ(SIGSTOP, WSTOPSIG(st));

	ASSERT_EQ(0, kill(pid, SIGCONT));
	ASSERT_EQ(0, waitid(P_PID, pid, &info, WCONTINUED | WNOWAIT));
	EXPECT_EQ(-1, waitpid(-1, &st, WCONTINUED | WNOHANG));
	EXPECT_EQ(ECHILD, errno);
	ASSERT_EQ(pid, waitpid(pid, &st, WCONTINUED));
	EXPECT_TRUE(WIFCONTINUED(st));

	ASSERT_EQ(0, finish(&self->k, 6));
	ASSERT_EQ(pid, waitpid(pid, &st, 0));
	EXPECT_EQ(6, WEXITSTATUS(st));
}

/*
 * §5: AFORK_NOSIGCHLD silences the exit only, as illumos FORK_NOSIGCHLD
 * does ("when the child process terminates"): a stop still sends SIGCHLD
 * with CLD_STOPPED, which job control needs, unless SA_NOCLDSTOP.
 */
TEST_F(wait, nosigchld_stop_still_signals)
{
	pid_t pid = start(&self->k, AFORK_NOSIGCHLD);
	struct timespec zero = { 0 };
	siginfo_t info;
	int st;

	ASSERT_GT(pid, 0);
	ASSERT_EQ(0, kill(pid, SIGSTOP));
	ASSERT_EQ(0, waitid(P_PID, pid, &info, WSTOPPED | WNOWAIT));
	memset(&info, 0, sizeof(info));
	ASSERT_EQ(SIGCHLD, sigtimedwait(&self->chld, &info, &zero));
	EXPECT_EQ(CLD_STOPPED, info.si_code);
	EXPECT_EQ(pid, info.si_pid);
	ASSERT_EQ(0, kill(pid, SIGCONT));
	ASSERT_EQ(0, finish(&self->k, 0));
	ASSERT_EQ(pid, waitpid(pid, &st, 0));
	/* The continue may have queued another; the exit adds none. */
	while (sigtimedwait(&self->chld, &info, &zero) == SIGCHLD)
		EXPECT_NE(CLD_EXITED, info.si_code);
}

/*
 * §5: __WCLONE.  The child's exit signal is SIGCHLD, with AFORK_NOSIGCHLD
 * too (the flag, not exit_signal 0, keeps the signal back), so it is not
 * a "clone" child: __WCLONE does not see it, a plain wait does.
 */
TEST_F(wait, not_a_clone_child)
{
	pid_t pid = start(&self->k, AFORK_NOSIGCHLD);
	int st;

	ASSERT_GT(pid, 0);
	ASSERT_EQ(0, finish(&self->k, 8));
	EXPECT_EQ(-1, waitpid(pid, &st, __WCLONE | WNOHANG));
	EXPECT_EQ(ECHILD, errno);
	ASSERT_EQ(pid, waitpid(pid, &st, 0));
	EXPECT_EQ(8, WEXITSTATUS(st));
}

/*
 * §5: __WNOTHREAD.  The child belongs to the thread that called afork():
 * another thread waiting with __WNOTHREAD does not see it.  The creating
 * thread stays alive until the end, or its children would pass to us.
 */
struct creator {
	struct kid *k;
	pid_t pid;
	int done[2];	/* the thread has created the child */
	int go[2];	/* the thread may exit */
};

static void *create_and_linger(void *arg)
{
	struct creator *c = arg;
	char x;

	c->pid = start(c->k, 0);
	if (write(c->done[1], "c", 1) != 1)
		return NULL;
	read(c->go[0], &x, 1);
	return NULL;
}

TEST_F(wait, wnothread_other_thread)
{
	struct creator c = { .k = &self->k };
	pthread_t th;
	char x;
	int st;

	ASSERT_EQ(0, pipe(c.done));
	ASSERT_EQ(0, pipe(c.go));
	ASSERT_EQ(0, pthread_create(&th, NULL, create_and_linger, &c));
	ASSERT_EQ(1, read(c.done[0], &x, 1));
	ASSERT_GT(c.pid, 0);
	ASSERT_EQ(0, finish(&self->k, 2));
	EXPECT_EQ(-1, waitpid(c.pid, &st, __WNOTHREAD | WNOHANG));
	EXPECT_EQ(ECHILD, errno);
	ASSERT_EQ(c.pid, waitpid(c.pid, &st, 0));
	EXPECT_EQ(2, WEXITSTATUS(st));
	ASSERT_EQ(1, write(c.go[1], "x", 1));
	pthread_join(th, NULL);
	close(c.done[0]);
	close(c.done[1]);
	close(c.go[0]);
	close(c.go[1]);
}

int main(int argc, char **argv)
{
	if (!afork_supported())
		ksft_exit_skip("afork() is not supported by this kernel\n");
	return test_harness_run(argc, argv);
}
