// SPDX-License-Identifier: GPL-2.0
/*
 * afork(): what the child shares with its parent, what it gets of its own,
 * and how the parent learns that the child has left its address space.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "afork_selftests.h"
#include "../kselftest_harness.h"

/* State shared between a test and its afork() child. */
struct shared {
	int in[2];		/* parent -> child */
	int out[2];		/* child -> parent */
	long value;
	long addr;
	long exec_errno;
	__u64 mask;
	long act[8];		/* two struct kernel_sigaction */
	const char *path;
	char *const *argv;
	int fd;
	int gone[2];		/* EOF once the child's first thread is gone */
	void *tstack;		/* top of the stack of the child's thread */
};

static int child_wait_then_exit(void *arg)
{
	struct shared *s = arg;
	char c = 0;

	if (child_read(s->in[0], &c, 1) != 1)
		return 100;
	return c;
}

static int child_store_and_exit(void *arg)
{
	struct shared *s = arg;

	s->value = 0x5eed;
	return 7;
}

static int child_stack_addr(void *arg)
{
	struct shared *s = arg;
	int local = 1;

	s->addr = (long)&local;
	return local;
}

/* Block until a byte arrives, then exec s->path, storing errno on failure. */
static int child_wait_then_exec(void *arg)
{
	struct shared *s = arg;
	char c;
	long ret;

	if (child_read(s->in[0], &c, 1) != 1)
		return 100;
	ret = raw_syscall(__NR_execve, (long)s->path, (long)s->argv,
			  (long)environ, 0);
	s->exec_errno = -ret;
	return 127;
}

/* Report the starting mask and the SIGUSR1/SIGUSR2 dispositions. */
static int child_signal_state(void *arg)
{
	struct shared *s = arg;

	if (raw_syscall(__NR_rt_sigprocmask, SIG_BLOCK, 0, (long)&s->mask, 8))
		return 1;
	if (raw_syscall(__NR_rt_sigaction, SIGUSR1, 0, (long)&s->act[0], 8))
		return 2;
	if (raw_syscall(__NR_rt_sigaction, SIGUSR2, 0, (long)&s->act[4], 8))
		return 3;
	return 0;
}

static int child_close_and_chdir(void *arg)
{
	struct shared *s = arg;

	if (raw_syscall(__NR_close, s->fd, 0, 0, 0))
		return 1;
	if (raw_syscall(__NR_chdir, (long)"/", 0, 0, 0))
		return 2;
	return 0;
}

static int child_segv(void *arg)
{
	/*
	 * A fault is delivered even though the child blocks every signal.
	 * A real store to arg (NULL): the empty asm hides its value from
	 * the compiler, which could otherwise turn the store into a trap,
	 * and an atomic store is never left out.
	 */
	__asm__ volatile ("" : "+r"(arg));
	__atomic_store_n((int *)arg, 1, __ATOMIC_RELAXED);
	return 99;
}

FIXTURE(afork) {
	struct shared *s;
	void *stack;
	__u32 word;
	int pidfd;
};

FIXTURE_SETUP(afork)
{
	self->s = calloc(1, sizeof(*self->s));
	ASSERT_NE(NULL, self->s);
	ASSERT_EQ(0, pipe2(self->s->in, O_CLOEXEC));
	ASSERT_EQ(0, pipe2(self->s->out, O_CLOEXEC));
	self->stack = afork_stack_alloc(AFORK_TEST_STACK_SIZE);
	ASSERT_NE(NULL, self->stack);
	self->word = 0;
	self->pidfd = -1;
}

FIXTURE_TEARDOWN(afork)
{
	close(self->s->in[0]);
	close(self->s->in[1]);
	close(self->s->out[0]);
	close(self->s->out[1]);
	if (self->pidfd >= 0)
		close(self->pidfd);
	free(self->s);
	munmap(self->stack, AFORK_TEST_STACK_SIZE);
}

/* afork() returns to the parent while the child is still blocked. */
TEST_F(afork, parent_not_suspended)
{
	struct afork_args a = args_for(self->stack, 0, &self->word,
				       &self->pidfd);
	pid_t pid = afork_run(&a, sizeof(a), child_wait_then_exit, self->s);
	int st;

	ASSERT_GT(pid, 0);
	/* The child can only finish once we write, which we do only now. */
	ASSERT_EQ(1, write(self->s->in[1], "\x05", 1));
	st = reap(pid);
	ASSERT_TRUE(WIFEXITED(st));
	EXPECT_EQ(5, WEXITSTATUS(st));
}

/* The child writes into the parent's memory: the mm is shared. */
TEST_F(afork, memory_shared)
{
	struct afork_args a = args_for(self->stack, 0, &self->word,
				       &self->pidfd);
	pid_t pid = afork_run(&a, sizeof(a), child_store_and_exit, self->s);
	int st;

	ASSERT_GT(pid, 0);
	st = reap(pid);
	ASSERT_TRUE(WIFEXITED(st));
	EXPECT_EQ(7, WEXITSTATUS(st));
	EXPECT_EQ(0x5eed, self->s->value);
}

/* The child runs on the stack it was given. */
TEST_F(afork, runs_on_given_stack)
{
	struct afork_args a = args_for(self->stack, 0, &self->word,
				       &self->pidfd);
	pid_t pid = afork_run(&a, sizeof(a), child_stack_addr, self->s);

	ASSERT_GT(pid, 0);
	ASSERT_TRUE(WIFEXITED(reap(pid)));
	EXPECT_GE(self->s->addr, (long)self->stack);
	EXPECT_LT(self->s->addr, (long)self->stack + AFORK_TEST_STACK_SIZE);
}

static void on_usr1(int sig)
{
}

/* Caught handlers are reset to SIG_DFL, SIG_IGN stays, all signals blocked. */
TEST_F(afork, signals_reset_and_blocked)
{
	struct afork_args a = args_for(self->stack, 0, &self->word,
				       &self->pidfd);
	__u64 all = ~0ULL & ~((1ULL << (SIGKILL - 1)) | (1ULL << (SIGSTOP - 1)));
	pid_t pid;
	int st;

	ASSERT_NE(SIG_ERR, signal(SIGUSR1, on_usr1));
	ASSERT_NE(SIG_ERR, signal(SIGUSR2, SIG_IGN));
	pid = afork_run(&a, sizeof(a), child_signal_state, self->s);
	ASSERT_GT(pid, 0);
	st = reap(pid);
	ASSERT_TRUE(WIFEXITED(st));
	ASSERT_EQ(0, WEXITSTATUS(st));
	EXPECT_EQ((long)SIG_DFL, self->s->act[0]);
	EXPECT_EQ((long)SIG_IGN, self->s->act[4]);
	/* glibc reserves two RT signals but the kernel blocks them too. */
	EXPECT_EQ(all, self->s->mask);
}

/* With a mask given, the child starts with exactly that mask. */
TEST_F(afork, signals_given_mask)
{
	struct afork_args a = args_for(self->stack, 0, &self->word,
				       &self->pidfd);
	__u64 mask = (1ULL << (SIGUSR1 - 1)) | (1ULL << (SIGTERM - 1)) |
		     (1ULL << (SIGKILL - 1));
	pid_t pid;

	a.sigmask = ptr_to_u64(&mask);
	a.sigmask_size = sizeof(mask);
	pid = afork_run(&a, sizeof(a), child_signal_state, self->s);
	ASSERT_GT(pid, 0);
	ASSERT_EQ(0, WEXITSTATUS(reap(pid)));
	/* SIGKILL cannot be blocked and is silently dropped. */
	EXPECT_EQ(mask & ~(1ULL << (SIGKILL - 1)), self->s->mask);
}

/* The fd table and cwd are copies: the child's close and chdir stay its own. */
TEST_F(afork, files_and_fs_copied)
{
	struct afork_args a = args_for(self->stack, 0, &self->word,
				       &self->pidfd);
	char before[PATH_MAX], after[PATH_MAX];
	pid_t pid;

	ASSERT_EQ(0, chdir("/proc"));
	ASSERT_NE(NULL, getcwd(before, sizeof(before)));
	self->s->fd = dup(self->s->in[0]);
	ASSERT_GE(self->s->fd, 0);
	pid = afork_run(&a, sizeof(a), child_close_and_chdir, self->s);
	ASSERT_GT(pid, 0);
	ASSERT_EQ(0, WEXITSTATUS(reap(pid)));
	EXPECT_EQ(0, fcntl(self->s->fd, F_GETFD)) TH_LOG("fd closed in parent");
	ASSERT_NE(NULL, getcwd(after, sizeof(after)));
	EXPECT_STREQ(before, after);
	close(self->s->fd);
}

/* AFORK_PIDFD yields a close-on-exec pidfd for the child. */
TEST_F(afork, pidfd_returned)
{
	struct afork_args a = args_for(self->stack, 0, &self->word,
				       &self->pidfd);
	siginfo_t info = { 0 };
	pid_t pid;

	pid = afork_run(&a, sizeof(a), child_store_and_exit, self->s);
	ASSERT_GT(pid, 0);
	ASSERT_GE(self->pidfd, 0);
	EXPECT_EQ(FD_CLOEXEC, fcntl(self->pidfd, F_GETFD));
	ASSERT_EQ(0, waitid(P_PIDFD, self->pidfd, &info, WEXITED));
	EXPECT_EQ(pid, info.si_pid);
	EXPECT_EQ(7, info.si_status);
}

/* Without AFORK_PIDFD the pidfd field is ignored and no fd is made. */
TEST_F(afork, no_pidfd_without_flag)
{
	struct afork_args a = args_for(self->stack, 0, &self->word,
				       &self->pidfd);
	int next = dup(0);
	pid_t pid;

	ASSERT_GE(next, 0);
	close(next);
	a.flags &= ~AFORK_PIDFD;
	pid = afork_run(&a, sizeof(a), child_store_and_exit, self->s);
	ASSERT_GT(pid, 0);
	EXPECT_EQ(-1, self->pidfd);
	EXPECT_EQ(-1, fcntl(next, F_GETFD));
	reap(pid);
}

/* Tell the parent we run, then wait for the byte to exit with. */
static int child_ready_then_exit(void *arg)
{
	struct shared *s = arg;
	char c = 0;

	if (child_write(s->out[1], "r", 1) != 1)
		return 101;
	if (child_read(s->in[0], &c, 1) != 1)
		return 100;
	return c;
}

/*
 * Before the child leaves, the word holds its TID and no POLLPRI is seen.
 * The child says it runs, and it cannot leave before our byte: so the
 * check below sees a child that is known to be in our mm.
 */
TEST_F(afork, no_release_before_exit)
{
	struct afork_args a = args_for(self->stack, 0, &self->word,
				       &self->pidfd);
	pid_t pid = afork_run(&a, sizeof(a), child_ready_then_exit, self->s);
	char c;

	ASSERT_GT(pid, 0);
	ASSERT_EQ(1, read(self->s->out[0], &c, 1));
	EXPECT_EQ((__u32)pid, self->word);
	EXPECT_EQ(0, pidfd_wait_events(self->pidfd, POLLPRI | POLLIN, 0));
	ASSERT_EQ(1, write(self->s->in[1], "", 1));
	reap(pid);
}

/* Exit releases the mm: the word is cleared, POLLPRI and POLLIN reported. */
TEST_F(afork, release_on_exit)
{
	struct afork_args a = args_for(self->stack, 0, &self->word,
				       &self->pidfd);
	pid_t pid = afork_run(&a, sizeof(a), child_wait_then_exit, self->s);
	int ev;

	ASSERT_GT(pid, 0);
	ASSERT_EQ(1, write(self->s->in[1], "", 1));
	ev = pidfd_wait_events(self->pidfd, POLLIN | POLLPRI, -1);
	while (!(ev & POLLIN) && ev > 0)
		ev = pidfd_wait_events(self->pidfd, POLLIN | POLLPRI, -1);
	EXPECT_TRUE(ev & POLLIN);
	EXPECT_TRUE(ev & POLLPRI);
	EXPECT_EQ(0, __atomic_load_n(&self->word, __ATOMIC_ACQUIRE));
	reap(pid);
	/* Once reaped, the pidfd reports HUP. */
	EXPECT_TRUE(pidfd_wait_events(self->pidfd, POLLPRI, 0) & POLLHUP);
}

/*
 * A committed exec releases the mm while the new program still runs:
 * POLLPRI without POLLIN, and the word is cleared.
 */
TEST_F(afork, release_on_exec)
{
	struct afork_args a = args_for(self->stack, 0, &self->word,
				       &self->pidfd);
	static const char * const argv[] = { "sh", "-c", "read x", NULL };
	pid_t pid;
	int ev;

	/* The exec'd shell blocks reading stdin: give it our pipe. */
	self->s->path = "/bin/sh";
	self->s->argv = (char *const *)argv;
	ASSERT_EQ(0, access(self->s->path, X_OK));
	ASSERT_EQ(0, dup2(self->s->out[0], 0));
	pid = afork_run(&a, sizeof(a), child_wait_then_exec, self->s);
	ASSERT_GT(pid, 0);
	close(0);
	ASSERT_EQ(1, write(self->s->in[1], "", 1));

	ev = pidfd_wait_events(self->pidfd, POLLPRI | POLLIN, -1);
	EXPECT_TRUE(ev & POLLPRI);
	EXPECT_FALSE(ev & POLLIN) TH_LOG("exec'd program reported as exited");
	EXPECT_EQ(0, __atomic_load_n(&self->word, __ATOMIC_ACQUIRE));
	EXPECT_EQ(0, self->s->exec_errno);

	/* Let the program finish: now it is an exit. */
	ASSERT_EQ(1, write(self->s->out[1], "\n", 1));
	ev = pidfd_wait_events(self->pidfd, POLLIN, -1);
	EXPECT_TRUE(ev & POLLIN);
	EXPECT_EQ(0, WEXITSTATUS(reap(pid)));
}

/* A failed exec does not release; the errno slot then the exit tell why. */
TEST_F(afork, exec_failure_distinguishable)
{
	struct afork_args a = args_for(self->stack, 0, &self->word,
				       &self->pidfd);
	static const char * const argv[] = { "nonexistent", NULL };
	pid_t pid;
	int st;

	self->s->path = "/nonexistent/program";
	self->s->argv = (char *const *)argv;
	self->s->exec_errno = -1;
	pid = afork_run(&a, sizeof(a), child_wait_then_exec, self->s);
	ASSERT_GT(pid, 0);
	ASSERT_EQ(1, write(self->s->in[1], "", 1));
	/* Release comes with the exit, after the child stored the errno. */
	EXPECT_TRUE(pidfd_wait_events(self->pidfd, POLLPRI, -1) & POLLPRI);
	EXPECT_EQ(0, __atomic_load_n(&self->word, __ATOMIC_ACQUIRE));
	EXPECT_EQ(ENOENT, self->s->exec_errno);
	st = reap(pid);
	EXPECT_EQ(127, WEXITSTATUS(st));
}

struct futex_waiter {
	__u32 *word;
	__u32 tid;
	int op;
	long ret;
};

static void *futex_waiter(void *arg)
{
	struct futex_waiter *w = arg;

	while (__atomic_load_n(w->word, __ATOMIC_ACQUIRE) == w->tid) {
		w->ret = sys_futex_wait(w->word, w->tid, w->op);
		if (w->ret && errno != EAGAIN && errno != EINTR)
			break;
	}
	return NULL;
}

/* Both a shared and a private futex waiter on the word are woken. */
TEST_F(afork, release_wakes_futex_waiters)
{
	struct afork_args a = args_for(self->stack, 0, &self->word,
				       &self->pidfd);
	struct futex_waiter w[2];
	pthread_t th[2];
	pid_t pid;
	int i;

	pid = afork_run(&a, sizeof(a), child_wait_then_exit, self->s);
	ASSERT_GT(pid, 0);
	for (i = 0; i < 2; i++) {
		w[i] = (struct futex_waiter){ &self->word, pid,
			i ? FUTEX_WAIT_PRIVATE : FUTEX_WAIT, 0 };
		ASSERT_EQ(0, pthread_create(&th[i], NULL, futex_waiter, &w[i]));
	}
	ASSERT_EQ(1, write(self->s->in[1], "", 1));
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(0, pthread_join(th[i], NULL));
		EXPECT_EQ(0, w[i].ret);
	}
	EXPECT_EQ(0, self->word);
	reap(pid);
}

/*
 * The child's second thread: it has its own fd table, so once it drops
 * its copy of gone[1], EOF on gone[0] means the first thread's files, and
 * so its mm, are gone.  Then it waits for a byte and ends the process.
 */
static int thread_wait_then_exit_group(void *arg)
{
	struct shared *s = arg;
	char c = 0;

	raw_syscall(__NR_close, s->gone[1], 0, 0, 0);
	if (child_read(s->in[0], &c, 1) != 1)
		c = 100;
	raw_syscall(__NR_exit_group, c, 0, 0, 0);
	return c;
}

/* The child's first thread: start the second, then exit(2) alone. */
static int child_thread_then_exit(void *arg)
{
	struct shared *s = arg;

	if (child_start_thread(0, s->tstack, thread_wait_then_exit_group,
			       s) < 0)
		return 1;
	/* exit(2), not exit_group(2): the second thread lives on. */
	return raw_syscall(__NR_exit, 0, 0, 0, 0);
}

/* The child's second thread execs; its first thread is killed by that. */
static int thread_exec(void *arg)
{
	struct shared *s = arg;

	return child_wait_then_exec(s);
}

/* The child's first thread: start an exec'ing thread, then block. */
static int child_thread_execs(void *arg)
{
	struct shared *s = arg;
	char c;

	if (child_start_thread(CLONE_FILES, s->tstack, thread_exec, s) < 0)
		return 1;
	child_read(s->out[0], &c, 1);
	return 2;
}

/*
 * Release waits for every thread of the child: while one still runs in
 * our mm after the first thread exited, no POLLPRI and the word is kept.
 */
TEST_F(afork, release_waits_for_child_threads)
{
	struct afork_args a = args_for(self->stack, 0, &self->word,
				       &self->pidfd);
	void *tstack = afork_stack_alloc(AFORK_TEST_STACK_SIZE);
	pid_t pid;
	char c;
	int ev;

	ASSERT_NE(NULL, tstack);
	ASSERT_EQ(0, pipe2(self->s->gone, O_CLOEXEC));
	self->s->tstack = (char *)tstack + AFORK_TEST_STACK_SIZE;
	pid = afork_run(&a, sizeof(a), child_thread_then_exit, self->s);
	ASSERT_GT(pid, 0);
	close(self->s->gone[1]);
	/* EOF: the first thread has run exit_mm() and exit_files(). */
	EXPECT_EQ(0, read(self->s->gone[0], &c, 1));
	close(self->s->gone[0]);

	EXPECT_EQ(0, pidfd_wait_events(self->pidfd, POLLPRI | POLLIN, 0))
		TH_LOG("released while a thread of the child runs in our mm");
	EXPECT_EQ((__u32)pid, __atomic_load_n(&self->word, __ATOMIC_ACQUIRE));

	ASSERT_EQ(1, write(self->s->in[1], "\x07", 1));
	do {
		ev = pidfd_wait_events(self->pidfd, POLLIN | POLLPRI, -1);
	} while (ev > 0 && !(ev & POLLIN));
	EXPECT_TRUE(ev & POLLIN);
	EXPECT_TRUE(ev & POLLPRI);
	EXPECT_EQ(0, __atomic_load_n(&self->word, __ATOMIC_ACQUIRE));
	EXPECT_EQ(7, WEXITSTATUS(reap(pid)));
	munmap(tstack, AFORK_TEST_STACK_SIZE);
}

/*
 * An exec from another thread of the child releases the mm, and the
 * process keeps what afork() gave it: AFORK_WAITPID still hides it.
 */
TEST_F(afork, release_on_exec_from_thread)
{
	struct afork_args a = args_for(self->stack, AFORK_WAITPID,
				       &self->word, &self->pidfd);
	static const char * const argv[] = { "sh", "-c", "read x", NULL };
	void *tstack = afork_stack_alloc(AFORK_TEST_STACK_SIZE);
	int ev, stdin_copy;
	pid_t pid;

	ASSERT_NE(NULL, tstack);
	self->s->tstack = (char *)tstack + AFORK_TEST_STACK_SIZE;
	self->s->path = "/bin/sh";
	self->s->argv = (char *const *)argv;
	ASSERT_EQ(0, access(self->s->path, X_OK));
	stdin_copy = dup(0);
	ASSERT_EQ(0, dup2(self->s->out[0], 0));
	pid = afork_run(&a, sizeof(a), child_thread_execs, self->s);
	ASSERT_GT(pid, 0);
	ASSERT_EQ(0, dup2(stdin_copy, 0));
	close(stdin_copy);
	ASSERT_EQ(1, write(self->s->in[1], "", 1));

	ev = pidfd_wait_events(self->pidfd, POLLPRI | POLLIN, -1);
	EXPECT_TRUE(ev & POLLPRI);
	EXPECT_FALSE(ev & POLLIN) TH_LOG("exec'd program reported as exited");
	EXPECT_EQ(0, __atomic_load_n(&self->word, __ATOMIC_ACQUIRE));
	EXPECT_EQ(0, self->s->exec_errno);
	/* The exec'ing thread took over the process: still WAITPID-only. */
	EXPECT_EQ(-1, waitpid(-1, NULL, WNOHANG | __WALL));
	EXPECT_EQ(ECHILD, errno);

	ASSERT_EQ(1, write(self->s->out[1], "\n", 1));
	EXPECT_TRUE(pidfd_wait_events(self->pidfd, POLLIN, -1) & POLLIN);
	EXPECT_EQ(0, WEXITSTATUS(reap(pid)));
	munmap(tstack, AFORK_TEST_STACK_SIZE);
}

/* A core-dumping signal kills the child only, and is reported as such. */
TEST_F(afork, core_signal_spares_parent)
{
	struct afork_args a = args_for(self->stack, 0, &self->word,
				       &self->pidfd);
	struct rlimit nocore = { 0, 0 };
	pid_t pid;
	int st;

	ASSERT_EQ(0, setrlimit(RLIMIT_CORE, &nocore));
	pid = afork_run(&a, sizeof(a), child_segv, NULL);
	ASSERT_GT(pid, 0);
	st = reap(pid);
	ASSERT_TRUE(WIFSIGNALED(st));
	EXPECT_EQ(SIGSEGV, WTERMSIG(st));
	/* We are still here: the shared mm did not take us down. */
	EXPECT_EQ(0, kill(getpid(), 0));
}

struct thread_job {
	int n;
	int failures;
};

static int child_return_arg(void *arg)
{
	return (int)(long)arg & 0x7f;
}

static void *afork_many(void *arg)
{
	struct thread_job *job = arg;
	void *stack = afork_stack_alloc(AFORK_TEST_STACK_SIZE);
	int i;

	for (i = 0; i < job->n && stack; i++) {
		__u32 word = 0;
		int pidfd = -1, st;
		struct afork_args a = args_for(stack, 0, &word, &pidfd);
		long pid = afork_run(&a, sizeof(a), child_return_arg,
				     (void *)(long)i);

		if (pid <= 0) {
			job->failures++;
			continue;
		}
		/* Reuse the stack only once the child has released it. */
		if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) ||
		    WEXITSTATUS(st) != (i & 0x7f) || word != 0)
			job->failures++;
		close(pidfd);
	}
	if (!stack)
		job->failures = job->n;
	else
		munmap(stack, AFORK_TEST_STACK_SIZE);
	return NULL;
}

/* Several threads afork() at once; every child is created and reaped. */
TEST(multithreaded_caller)
{
	struct thread_job jobs[4];
	pthread_t th[4];
	int i;

	for (i = 0; i < 4; i++) {
		jobs[i] = (struct thread_job){ .n = 200 };
		ASSERT_EQ(0, pthread_create(&th[i], NULL, afork_many, &jobs[i]));
	}
	for (i = 0; i < 4; i++) {
		ASSERT_EQ(0, pthread_join(th[i], NULL));
		EXPECT_EQ(0, jobs[i].failures) TH_LOG("thread %d", i);
	}
	EXPECT_EQ(-1, waitpid(-1, NULL, WNOHANG | __WALL));
}

int main(int argc, char **argv)
{
	if (!afork_supported())
		ksft_exit_skip("afork() is not supported by this kernel\n");
	return test_harness_run(argc, argv);
}
