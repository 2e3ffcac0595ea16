// SPDX-License-Identifier: MIT
/*
 * libafork tests, signals: caught handlers never run in the child (also
 * while signals storm both sides), they have their default action there,
 * SIG_IGN is kept, and the child's mask is the caller's or opts->sigmask.
 */
#include <pthread.h>

#include "afork_test_fixture.h"

static volatile pid_t parent_pid;
static volatile int handler_in_child;
static volatile int handler_runs;

static void on_signal(int sig)
{
	(void)sig;
	if (syscall(SYS_getpid) != parent_pid)
		handler_in_child = 1;
	else
		handler_runs++;
}

struct storm {
	volatile int stop;
	volatile pid_t pids[64];
	pthread_t thread;
};

static void *storm_thread(void *p)
{
	struct storm *s = p;
	unsigned int i;

	while (!s->stop) {
		kill(parent_pid, SIGWINCH);
		kill(parent_pid, SIGURG);
		for (i = 0; i < 64; i++) {
			pid_t pid = s->pids[i];

			if (pid > 0) {
				kill(pid, SIGWINCH);
				kill(pid, SIGURG);
			}
		}
	}
	return NULL;
}

static int child_spin_read(void *p)
{
	struct pipe_job *j = p;
	volatile unsigned long n;
	unsigned char c;

	for (n = 0; n < 200000; n++)
		;
	if (afork_child_read(j->rfd, &c, 1) != 1)
		return 100;
	return 0;
}

/* Caught handlers never run in the child while signals storm both sides. */
TEST_F_TIMEOUT(backend, signal_storm, 120)
{
	struct sigaction sa;
	struct storm s;
	struct pipe_job j;
	int p[2], st, round, i;
	pid_t pids[64];

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART;
	ASSERT_EQ(0, sigaction(SIGWINCH, &sa, NULL));
	ASSERT_EQ(0, sigaction(SIGURG, &sa, NULL));
	parent_pid = getpid();
	memset(&s, 0, sizeof(s));
	ASSERT_EQ(0, pthread_create(&s.thread, NULL, storm_thread, &s));
	ASSERT_EQ(0, pipe2(p, O_CLOEXEC));
	j.rfd = p[0];
	j.ret = 0;

	for (round = 0; round < 4; round++) {
		for (i = 0; i < 64; i++) {
			pids[i] = afork(child_spin_read, &j);
			ASSERT_GT(pids[i], 0);
			s.pids[i] = pids[i];
		}
		for (i = 0; i < 64; i++)
			ASSERT_EQ(1, write(p[1], "x", 1));
		for (i = 0; i < 64; i++) {
			ASSERT_EQ(pids[i], waitpid(pids[i], &st, __WALL));
			s.pids[i] = 0;
			EXPECT_TRUE(WIFEXITED(st));
			EXPECT_EQ(0, WEXITSTATUS(st));
		}
	}
	s.stop = 1;
	pthread_join(s.thread, NULL);
	EXPECT_EQ(0, handler_in_child);
	EXPECT_GT(handler_runs, 0);
	close(p[0]);
	close(p[1]);
}

/* A signal the parent catches has its default action in the child. */
TEST_F(backend, handlers_reset)
{
	struct sigaction sa;
	struct pipe_job j;
	int p[2], st;
	pid_t pid;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	ASSERT_EQ(0, sigaction(SIGUSR1, &sa, NULL));
	parent_pid = getpid();
	ASSERT_EQ(0, pipe2(p, O_CLOEXEC));
	j.rfd = p[0];
	j.ret = 0;
	pid = afork(child_read_exit, &j);
	ASSERT_GT(pid, 0);
	ASSERT_EQ(0, kill(pid, SIGUSR1));
	ASSERT_EQ(pid, waitpid(pid, &st, __WALL));
	ASSERT_TRUE(WIFSIGNALED(st));
	EXPECT_EQ(SIGUSR1, WTERMSIG(st));
	EXPECT_EQ(0, handler_in_child);
	close(p[0]);
	close(p[1]);
}

/* SIG_IGN dispositions are kept in the child, as across exec. */
TEST_F(backend, sig_ign_kept)
{
	pid_t pid;
	int st;

	ASSERT_TRUE(signal(SIGUSR2, SIG_IGN) != SIG_ERR);
	pid = afork(child_kill_self, (void *)(long)SIGUSR2);
	ASSERT_GT(pid, 0);
	ASSERT_EQ(pid, waitpid(pid, &st, __WALL));
	ASSERT_TRUE(WIFEXITED(st));
	EXPECT_EQ(1, WEXITSTATUS(st));
}

static int child_get_mask(void *p)
{
	sigset_t *m = p;

	return afork_child_sigprocmask(SIG_BLOCK, NULL, m) ? 1 : 0;
}

/* The child starts with the caller's mask. */
TEST_F(backend, sigmask)
{
	sigset_t block, got;
	pid_t pid;
	int st;

	sigemptyset(&block);
	sigaddset(&block, SIGUSR2);
	ASSERT_EQ(0, pthread_sigmask(SIG_BLOCK, &block, NULL));
	sigemptyset(&got);
	pid = afork(child_get_mask, &got);
	ASSERT_GT(pid, 0);
	ASSERT_EQ(pid, waitpid(pid, &st, __WALL));
	ASSERT_EQ(0, st);
	EXPECT_TRUE(sigismember(&got, SIGUSR2));
	EXPECT_FALSE(sigismember(&got, SIGUSR1));
}

/* With AFORK_OPT_SIGMASK the child starts with opts->sigmask instead. */
TEST_F(backend, sigmask_opts)
{
	struct afork_child *c;
	struct afork_opts o;
	sigset_t block, got;
	int st;

	sigemptyset(&block);
	sigaddset(&block, SIGUSR2);
	ASSERT_EQ(0, pthread_sigmask(SIG_BLOCK, &block, NULL));
	afork_opts_init(&o);
	o.options = AFORK_OPT_SIGMASK;
	sigemptyset(&o.sigmask);
	sigaddset(&o.sigmask, SIGUSR1);
	sigemptyset(&got);
	ASSERT_EQ(0, afork_start(&c, &o, child_get_mask, &got));
	ASSERT_EQ(afork_pid(c), afork_wait(c, &st, 0));
	ASSERT_EQ(0, st);
	EXPECT_TRUE(sigismember(&got, SIGUSR1));
	EXPECT_FALSE(sigismember(&got, SIGUSR2));
	afork_free(c);
}

AFORK_TEST_MAIN
