// SPDX-License-Identifier: GPL-2.0
/*
 * afork(), series v2: the order of the release, the release event as
 * pidfs keeps it, the wait flags across the parent's execve() and a
 * tracer's exit, the vfork() special cases, and the clone3() flags of
 * struct afork_args version 1.  Each test names the v1 behaviour it
 * catches, if any.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <linux/userfaultfd.h>
#include <stddef.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/select.h>
#include <sys/stat.h>
#include <unistd.h>

#include "afork_selftests.h"
#include "../kselftest_harness.h"

#ifndef __WALL
#define __WALL 0x40000000
#endif
#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL
#endif
#ifndef __NR_userfaultfd
#define __NR_userfaultfd 323
#endif

/* State shared between a test and its afork() child. */
struct shared {
	int in[2];		/* parent -> child */
	int out[2];		/* child -> parent */
	const char *path;	/* for exec */
	char *const *argv;
	long value;
	void *tstack;		/* top of the stack of the child's thread */
	int gone[2];		/* EOF once the child's first thread is gone */
};

static int child_wait_then_exit(void *arg)
{
	struct shared *s = arg;
	char c = 0;

	if (child_read(s->in[0], &c, 1) != 1)
		return 100;
	return c;
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

static int child_wait_then_exec(void *arg)
{
	struct shared *s = arg;
	char c;

	if (child_read(s->in[0], &c, 1) != 1)
		return 100;
	raw_syscall(__NR_execve, (long)s->path, (long)s->argv,
		    (long)environ, 0);
	return 127;
}

FIXTURE(v2) {
	struct shared *s;
	void *stack;
	__u32 word;
	int pidfd;
};

FIXTURE_SETUP(v2)
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

FIXTURE_TEARDOWN(v2)
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

/* Wait until thread @tid of this process sleeps in a futex wait. */
static int wait_until_in_futex(pid_t tid)
{
	char path[64], buf[128];
	int fd, n;

	snprintf(path, sizeof(path), "/proc/self/task/%d/wchan", tid);
	for (;;) {
		fd = open(path, O_RDONLY);
		if (fd < 0)
			return -1;
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n < 0)
			return -1;
		buf[n] = 0;
		if (strstr(buf, "futex"))
			return 0;
		sched_yield();
	}
}

/*
 * 2.1: once POLLPRI is visible, the kernel writes nothing of ours for
 * this child any more.  The release word sits on a page that is missing
 * and registered with userfaultfd, so the kernel's store to it at the
 * child's exec blocks until we resolve the fault.  While it blocks,
 * POLLPRI must not be visible: v1 published RELEASED before the store,
 * so a poller that recycled the word on POLLPRI had it zeroed later.
 * After the release we recycle the word and prove nothing zeroes it.
 */
TEST_F(v2, release_word_stored_before_pollpri)
{
	static const char * const argv[] = { "sh", "-c", "exit 0", NULL };
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg = { .mode = UFFDIO_REGISTER_MODE_MISSING };
	struct uffdio_zeropage zero = { 0 };
	struct uffd_msg msg;
	struct pollfd pfd;
	long page = sysconf(_SC_PAGESIZE);
	struct afork_args a;
	__u32 *word;
	char *area;
	int uffd;
	pid_t pid;

	uffd = syscall(__NR_userfaultfd, O_CLOEXEC);
	if (uffd < 0)
		SKIP(return, "userfaultfd: %s (CONFIG_USERFAULTFD, root)",
		     strerror(errno));
	ASSERT_EQ(0, ioctl(uffd, UFFDIO_API, &api));
	area = mmap(NULL, page, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, area);
	word = (__u32 *)area;
	*word = 1;	/* present for afork()'s own store of the TID */

	self->s->path = "/bin/sh";
	self->s->argv = (char *const *)argv;
	ASSERT_EQ(0, access(self->s->path, X_OK));
	a = args_for(self->stack, 0, word, &self->pidfd);
	pid = afork_run(&a, sizeof(a), child_wait_then_exec, self->s);
	ASSERT_GT(pid, 0);
	ASSERT_EQ((__u32)pid, *word);

	/* Make the page missing again, and ours to fill in. */
	ASSERT_EQ(0, madvise(area, page, MADV_DONTNEED));
	reg.range.start = (unsigned long)area;
	reg.range.len = page;
	ASSERT_EQ(0, ioctl(uffd, UFFDIO_REGISTER, &reg));

	ASSERT_EQ(1, write(self->s->in[1], "", 1));
	/* The kernel's store into the word faults: the child waits for us. */
	pfd = (struct pollfd){ .fd = uffd, .events = POLLIN };
	ASSERT_EQ(1, poll(&pfd, 1, -1));
	ASSERT_EQ(sizeof(msg), read(uffd, &msg, sizeof(msg)));
	ASSERT_EQ(UFFD_EVENT_PAGEFAULT, msg.event);
	ASSERT_EQ((unsigned long)area, msg.arg.pagefault.address & ~(page - 1));

	/* The store is still to come, so the release must not be visible. */
	EXPECT_EQ(0, pidfd_wait_events(self->pidfd, POLLPRI, 0))
		TH_LOG("POLLPRI before the kernel stored to the release word");

	zero.range.start = (unsigned long)area;
	zero.range.len = page;
	ASSERT_EQ(0, ioctl(uffd, UFFDIO_ZEROPAGE, &zero));
	ASSERT_TRUE(pidfd_wait_events(self->pidfd, POLLPRI, -1) & POLLPRI);
	EXPECT_EQ(0, __atomic_load_n(word, __ATOMIC_ACQUIRE));

	/* Recycle the word, as a spawner does for its next child. */
	__atomic_store_n(word, 0xabcd, __ATOMIC_RELEASE);
	EXPECT_EQ(0, WEXITSTATUS(reap(pid)));
	EXPECT_EQ(0xabcd, __atomic_load_n(word, __ATOMIC_ACQUIRE));
	close(uffd);
	munmap(area, page);
}

struct waiter {
	__u32 *word;
	__u32 val;
	int op;
	pid_t tid;
	long ret;
	int err;
};

static void *futex_wait_once(void *arg)
{
	struct waiter *w = arg;

	w->tid = gettid();
	w->ret = syscall(__NR_futex, w->word, w->op, w->val, NULL, NULL, 0);
	w->err = w->ret ? errno : 0;
	return NULL;
}

/*
 * 2.6: the waiters are woken even when the kernel cannot write the word
 * (v1 skipped the wake when put_user() failed; clear_child_tid does not).
 */
TEST_F(v2, release_wakes_even_if_word_unwritable)
{
	long page = sysconf(_SC_PAGESIZE);
	struct afork_args a;
	struct waiter w;
	struct timespec ts;
	pthread_t th;
	__u32 *word;
	pid_t pid;

	word = mmap(NULL, page, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, word);
	a = args_for(self->stack, 0, word, &self->pidfd);
	pid = afork_run(&a, sizeof(a), child_wait_then_exit, self->s);
	ASSERT_GT(pid, 0);
	ASSERT_EQ((__u32)pid, *word);
	ASSERT_EQ(0, mprotect(word, page, PROT_READ));

	/*
	 * A private futex: a shared one on a read-only anonymous page is
	 * EFAULT.  The kernel wakes both kinds.
	 */
	w = (struct waiter){ .word = word, .val = pid,
			     .op = FUTEX_WAIT_PRIVATE };
	ASSERT_EQ(0, pthread_create(&th, NULL, futex_wait_once, &w));
	while (!__atomic_load_n(&w.tid, __ATOMIC_ACQUIRE))
		sched_yield();
	ASSERT_EQ(0, wait_until_in_futex(w.tid));

	ASSERT_EQ(1, write(self->s->in[1], "", 1));
	ASSERT_TRUE(pidfd_wait_events(self->pidfd, POLLPRI, -1) & POLLPRI);
	/* The wake came before POLLPRI; the timeout only bounds a failure. */
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 20;
	ASSERT_EQ(0, pthread_timedjoin_np(th, NULL, &ts))
		TH_LOG("the futex waiter was never woken");
	EXPECT_EQ(0, w.ret);
	EXPECT_EQ((__u32)pid, *word);	/* unwritable: left as it was */
	reap(pid);
	munmap(word, page);
}

/*
 * 2.6: a waiter in another process, on a MAP_SHARED word, is woken even
 * when the afork() caller has gone and the child is the mm's last user
 * (v1 skipped clear and wake when mm_users was 1, as clear_child_tid
 * does).  The test is that other process: a middle process afork()s the
 * child and exits; we are its subreaper.
 */
TEST_F(v2, release_wakes_other_process_after_parent_exit)
{
	long page = sysconf(_SC_PAGESIZE);
	struct waiter w;
	struct timespec ts;
	pthread_t th;
	__u32 *word;
	pid_t middle, pid;
	int st;

	word = mmap(NULL, page, PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, word);
	ASSERT_EQ(0, prctl(PR_SET_CHILD_SUBREAPER, 1));
	middle = fork();
	ASSERT_GE(middle, 0);
	if (middle == 0) {
		struct afork_args a = {
			.stack = ptr_to_u64(self->stack),
			.stack_size = AFORK_TEST_STACK_SIZE,
			.release_word = ptr_to_u64(word),
		};

		_exit(afork_run(&a, sizeof(a), child_wait_then_exit,
				self->s) > 0 ? 0 : 1);
	}
	ASSERT_EQ(middle, waitpid(middle, &st, 0));
	ASSERT_EQ(0, WEXITSTATUS(st));
	pid = __atomic_load_n(word, __ATOMIC_ACQUIRE);
	ASSERT_GT(pid, 0);

	w = (struct waiter){ .word = word, .val = pid, .op = FUTEX_WAIT };
	ASSERT_EQ(0, pthread_create(&th, NULL, futex_wait_once, &w));
	while (!__atomic_load_n(&w.tid, __ATOMIC_ACQUIRE))
		sched_yield();
	ASSERT_EQ(0, wait_until_in_futex(w.tid));

	ASSERT_EQ(1, write(self->s->in[1], "\x03", 1));
	ASSERT_EQ(pid, waitpid(pid, &st, 0));
	EXPECT_EQ(3, WEXITSTATUS(st));
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 20;
	ASSERT_EQ(0, pthread_timedjoin_np(th, NULL, &ts))
		TH_LOG("the other process' futex waiter was never woken");
	EXPECT_EQ(0, w.ret);
	EXPECT_EQ(0, *word);
	prctl(PR_SET_CHILD_SUBREAPER, 0);
	munmap(word, page);
}

/* 2.5: POLLPRI stays after the child is reaped (v1: only POLLHUP). */
TEST_F(v2, pollpri_after_reap_poll)
{
	struct afork_args a = args_for(self->stack, 0, &self->word,
				       &self->pidfd);
	pid_t pid = afork_run(&a, sizeof(a), child_wait_then_exit, self->s);
	int ev;

	ASSERT_GT(pid, 0);
	ASSERT_EQ(1, write(self->s->in[1], "", 1));
	ASSERT_EQ(0, WEXITSTATUS(reap(pid)));
	ev = pidfd_wait_events(self->pidfd, POLLPRI | POLLIN, 0);
	EXPECT_TRUE(ev & POLLHUP);
	EXPECT_TRUE(ev & POLLPRI);
}

/* 2.5: the same through epoll, waiting for EPOLLPRI alone. */
TEST_F(v2, pollpri_epoll)
{
	struct afork_args a = args_for(self->stack, 0, &self->word,
				       &self->pidfd);
	struct epoll_event ev = { .events = EPOLLPRI }, out;
	pid_t pid;
	int ep;

	ep = epoll_create1(EPOLL_CLOEXEC);
	ASSERT_GE(ep, 0);
	pid = afork_run(&a, sizeof(a), child_wait_then_exit, self->s);
	ASSERT_GT(pid, 0);
	ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_ADD, self->pidfd, &ev));
	EXPECT_EQ(0, epoll_wait(ep, &out, 1, 0));
	ASSERT_EQ(1, write(self->s->in[1], "", 1));
	ASSERT_EQ(1, epoll_wait(ep, &out, 1, -1));
	EXPECT_TRUE(out.events & EPOLLPRI);
	EXPECT_EQ(0, WEXITSTATUS(reap(pid)));
	/* Level-triggered, and still there after the reap. */
	ASSERT_EQ(1, epoll_wait(ep, &out, 1, 0));
	EXPECT_TRUE(out.events & EPOLLPRI);
	close(ep);
}

/* 2.5: select() reports POLLPRI as an exceptional condition. */
TEST_F(v2, pollpri_select)
{
	struct afork_args a = args_for(self->stack, 0, &self->word,
				       &self->pidfd);
	fd_set ex;
	pid_t pid;

	pid = afork_run(&a, sizeof(a), child_wait_then_exit, self->s);
	ASSERT_GT(pid, 0);
	ASSERT_LT(self->pidfd, FD_SETSIZE);
	ASSERT_EQ(1, write(self->s->in[1], "", 1));
	FD_ZERO(&ex);
	FD_SET(self->pidfd, &ex);
	ASSERT_EQ(1, select(self->pidfd + 1, NULL, NULL, &ex, NULL));
	EXPECT_TRUE(FD_ISSET(self->pidfd, &ex));
	EXPECT_EQ(0, WEXITSTATUS(reap(pid)));
	FD_ZERO(&ex);
	FD_SET(self->pidfd, &ex);
	EXPECT_EQ(1, select(self->pidfd + 1, NULL, NULL, &ex,
			    &(struct timeval){ 0 }));
}

/* The child's second thread: report its TID, wait for a byte, exit. */
/*
 * The child's second thread has a file table of its own: once it has
 * dropped its copy of gone[1], EOF on gone[0] says that the first thread
 * has run exit_files(), and so exit_mm() before it.  Then it waits for a
 * byte and exits, the last of the child to leave our mm.
 */
static int thread_wait_then_exit(void *arg)
{
	struct shared *s = arg;
	char c = 0;

	raw_syscall(__NR_close, s->gone[1], 0, 0, 0);
	child_read(s->in[0], &c, 1);
	raw_syscall(__NR_exit, 0, 0, 0, 0);
	return 0;
}

/* The child's first thread: start the second, tell its TID, exit alone. */
static int child_thread_then_exit(void *arg)
{
	struct shared *s = arg;
	long tid = child_start_thread(0, s->tstack, thread_wait_then_exit, s);

	s->value = tid;
	child_write(s->out[1], "t", 1);
	return raw_syscall(__NR_exit, 0, 0, 0, 0);
}

/*
 * 2.5: a PIDFD_THREAD pidfd of a non-leader thread of the child reports
 * the release (v1 woke and marked the thread group's pid only).  The
 * thread is the last of the child to leave our mm: it is let go only
 * after the first thread is gone (without that barrier, the thread could
 * exit first, and the release then marks the first thread's pid alone).
 */
TEST_F(v2, pollpri_thread_pidfd)
{
	struct afork_args a = args_for(self->stack, 0, &self->word,
				       &self->pidfd);
	void *tstack = afork_stack_alloc(AFORK_TEST_STACK_SIZE);
	pid_t pid;
	int tfd, ev;
	char c;

	ASSERT_NE(NULL, tstack);
	ASSERT_EQ(0, pipe2(self->s->gone, O_CLOEXEC));
	self->s->tstack = (char *)tstack + AFORK_TEST_STACK_SIZE;
	pid = afork_run(&a, sizeof(a), child_thread_then_exit, self->s);
	ASSERT_GT(pid, 0);
	close(self->s->gone[1]);
	ASSERT_EQ(1, read(self->s->out[0], &c, 1));
	ASSERT_GT(self->s->value, 0);
	tfd = sys_pidfd_open(self->s->value, PIDFD_THREAD);
	/* EOF: the first thread has left our mm. */
	EXPECT_EQ(0, read(self->s->gone[0], &c, 1));
	close(self->s->gone[0]);
	if (tfd < 0) {
		write(self->s->in[1], "", 1);
		reap(pid);
		SKIP(return, "pidfd_open(PIDFD_THREAD): %s", strerror(errno));
	}
	ASSERT_EQ(1, write(self->s->in[1], "", 1));
	do {
		ev = pidfd_wait_events(tfd, POLLPRI, -1);
	} while (ev > 0 && !(ev & (POLLPRI | POLLHUP)));
	EXPECT_TRUE(ev & POLLPRI) TH_LOG("revents %#x", ev);
	EXPECT_TRUE(pidfd_wait_events(self->pidfd, POLLPRI, -1) & POLLPRI);
	reap(pid);
	close(tfd);
	munmap(tstack, AFORK_TEST_STACK_SIZE);
}

/*
 * 2.2: an afork() child is a vfork() child for the OOM killer: its
 * /proc/pid/oom_score is 0, not the score of the parent's memory, and
 * writing its own oom_score_adj leaves the parent's alone (v1 set
 * MMF_MULTIPROCESS on the shared mm, which spreads the write).
 */
static int child_set_oom_adj(void *arg)
{
	struct shared *s = arg;
	char c;
	long fd;

	fd = raw_syscall(__NR_openat, AT_FDCWD,
			 (long)"/proc/self/oom_score_adj", O_WRONLY, 0);
	if (fd < 0)
		return 1;
	if (raw_syscall(__NR_write, fd, (long)"500", 3, 0) != 3)
		return 2;
	raw_syscall(__NR_close, fd, 0, 0, 0);
	child_write(s->out[1], "o", 1);
	if (child_read(s->in[0], &c, 1) != 1)
		return 100;
	return 0;
}

static int read_proc_int(pid_t pid, const char *name)
{
	char path[64], buf[32];
	int fd, n;

	snprintf(path, sizeof(path), "/proc/%d/%s", pid, name);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return INT_MIN;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return INT_MIN;
	buf[n] = 0;
	return atoi(buf);
}

TEST_F(v2, oom_like_vfork)
{
	struct afork_args a = args_for(self->stack, 0, &self->word,
				       &self->pidfd);
	int before = read_proc_int(getpid(), "oom_score_adj");
	pid_t pid;
	char c;

	ASSERT_NE(INT_MIN, before);
	ASSERT_NE(500, before);
	pid = afork_run(&a, sizeof(a), child_set_oom_adj, self->s);
	ASSERT_GT(pid, 0);
	ASSERT_EQ(1, read(self->s->out[0], &c, 1));
	EXPECT_EQ(500, read_proc_int(pid, "oom_score_adj"));
	EXPECT_EQ(before, read_proc_int(getpid(), "oom_score_adj"));
	EXPECT_EQ(0, read_proc_int(pid, "oom_score"));
	ASSERT_EQ(1, write(self->s->in[1], "", 1));
	EXPECT_EQ(0, WEXITSTATUS(reap(pid)));
}

/*
 * 2.3: the wait flags are for the program that called afork().  A middle
 * process afork()s a WAITPID|NOSIGCHLD child and execs itself in "wait
 * any" mode: the new program's wait(-1) reaps the child and it gets
 * SIGCHLD (v1: ECHILD, the zombie lived as long as the program).
 * With @from_thread, a second thread of the middle process execs.
 */
static const char *self_exe;

static int wait_any_main(int fd)
{
	sigset_t chld;
	int st;
	pid_t got;

	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, NULL);
	/* Let the child exit now that we are the new program. */
	if (write(fd, "\x09", 1) != 1)
		return 10;
	got = wait(&st);
	if (got < 0)
		return 11;
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 9)
		return 12;
	if (sigpending(&chld) || !sigismember(&chld, SIGCHLD))
		return 13;
	return 0;
}

struct exec_job {
	char fd[16];
};

static void *exec_wait_any(void *arg)
{
	struct exec_job *j = arg;

	execl(self_exe, self_exe, "--wait-any", j->fd, (char *)NULL);
	_exit(20);
}

static void exec_after_afork(struct __test_metadata *_metadata,
			     struct shared *s, void *stack, int from_thread)
{
	pid_t middle;
	int st;

	middle = fork();
	ASSERT_GE(middle, 0);
	if (middle == 0) {
		struct afork_args a = {
			.flags = AFORK_WAITPID | AFORK_NOSIGCHLD,
			.stack = ptr_to_u64(stack),
			.stack_size = AFORK_TEST_STACK_SIZE,
		};
		struct exec_job j;
		pthread_t th;
		int fd = dup(s->in[1]);	/* not close-on-exec */

		snprintf(j.fd, sizeof(j.fd), "%d", fd);
		if (afork_run(&a, sizeof(a), child_wait_then_exit, s) <= 0)
			_exit(30);
		if (from_thread) {
			pthread_create(&th, NULL, exec_wait_any, &j);
			pthread_join(th, NULL);
			_exit(31);
		}
		exec_wait_any(&j);
	}
	ASSERT_EQ(middle, waitpid(middle, &st, 0));
	ASSERT_TRUE(WIFEXITED(st));
	EXPECT_EQ(0, WEXITSTATUS(st))
		TH_LOG("exit %d: 11 is wait(-1) failing, 13 no SIGCHLD",
		       WEXITSTATUS(st));
}

TEST_F(v2, wait_flags_dropped_on_parent_exec)
{
	exec_after_afork(_metadata, self->s, self->stack, 0);
}

TEST_F(v2, wait_flags_dropped_on_parent_exec_from_thread)
{
	exec_after_afork(_metadata, self->s, self->stack, 1);
}

/* §5: they stay when only the thread that called afork() exits. */
static void *afork_from_thread(void *arg)
{
	void **p = arg;
	struct shared *s = p[0];
	struct afork_args a = {
		.flags = AFORK_WAITPID,
		.stack = ptr_to_u64(p[1]),
		.stack_size = AFORK_TEST_STACK_SIZE,
	};

	s->value = afork_run(&a, sizeof(a), child_wait_then_exit, s);
	return NULL;
}

TEST_F(v2, wait_flags_kept_when_creating_thread_exits)
{
	void *p[2] = { self->s, self->stack };
	pthread_t th;
	int st;

	ASSERT_EQ(0, pthread_create(&th, NULL, afork_from_thread, p));
	ASSERT_EQ(0, pthread_join(th, NULL));
	ASSERT_GT(self->s->value, 0);
	ASSERT_EQ(1, write(self->s->in[1], "\x04", 1));
	/* wait(-1) does not see it; a wait naming it does. */
	EXPECT_EQ(-1, waitpid(-1, &st, __WALL));
	EXPECT_EQ(ECHILD, errno);
	EXPECT_EQ(self->s->value, waitpid(self->s->value, &st, 0));
	EXPECT_EQ(4, WEXITSTATUS(st));
}

/*
 * 2.4: a tracer in the parent's thread group exits while the traced
 * AFORK_WAITPID child is a zombie and the group ignores SIGCHLD.
 * __ptrace_detach() auto-reaped it in v1: waitpid(pid) got ECHILD.
 */
struct tracer_job {
	pid_t pid;
	pid_t tid;
	int err;
};

static void *tracer(void *arg)
{
	struct tracer_job *t = arg;
	siginfo_t si;

	t->tid = gettid();
	if (ptrace(PTRACE_SEIZE, t->pid, 0, 0)) {
		t->err = errno;
		return NULL;
	}
	t->err = -1;	/* attached; the main thread lets the child go */
	while (__atomic_load_n(&t->err, __ATOMIC_ACQUIRE) == -1)
		sched_yield();
	/* Wait, as the tracer, for the zombie without reaping it. */
	if (waitid(P_PID, t->pid, &si, WEXITED | WNOWAIT | __WALL))
		t->err = errno;
	else
		t->err = 0;
	return NULL;	/* exit_ptrace() detaches the zombie */
}

TEST_F(v2, ptrace_detach_keeps_waitpid_zombie)
{
	struct afork_args a = args_for(self->stack, AFORK_WAITPID,
				       &self->word, &self->pidfd);
	struct sigaction ign = { .sa_handler = SIG_IGN }, old;
	struct tracer_job t = { 0 };
	pthread_t th;
	int st, xfd;

	t.pid = afork_run(&a, sizeof(a), child_wait_then_exit, self->s);
	ASSERT_GT(t.pid, 0);
	ASSERT_EQ(0, sigaction(SIGCHLD, &ign, &old));
	ASSERT_EQ(0, pthread_create(&th, NULL, tracer, &t));
	while (__atomic_load_n(&t.err, __ATOMIC_ACQUIRE) == 0)
		sched_yield();
	if (t.err > 0) {
		pthread_join(th, NULL);
		sigaction(SIGCHLD, &old, NULL);
		write(self->s->in[1], "", 1);
		reap(t.pid);
		SKIP(return, "PTRACE_SEIZE: %s", strerror(t.err));
	}
	/*
	 * pthread_join() returns once the tracer's TID word is cleared, before
	 * its exit_notify() detaches the tracee; its PIDFD_THREAD pidfd
	 * reports POLLIN only after that.  Without this barrier, our waitpid()
	 * below could reap the zombie as the tracer's thread group first.
	 */
	xfd = sys_pidfd_open(t.tid, PIDFD_THREAD);
	ASSERT_GE(xfd, 0);
	ASSERT_EQ(1, write(self->s->in[1], "\x06", 1));
	__atomic_store_n(&t.err, -2, __ATOMIC_RELEASE);
	ASSERT_EQ(0, pthread_join(th, NULL));
	EXPECT_EQ(0, t.err);
	ASSERT_TRUE(pidfd_wait_events(xfd, POLLIN, -1) & POLLIN);
	close(xfd);
	EXPECT_EQ(t.pid, waitpid(t.pid, &st, 0))
		TH_LOG("the WAITPID zombie was auto-reaped");
	EXPECT_EQ(6, WEXITSTATUS(st));
	sigaction(SIGCHLD, &old, NULL);
}

/* v2 flags: AFORK_SETTLS gives the child the thread pointer asked for. */
#if defined(__x86_64__)
#include <asm/prctl.h>

static int child_get_fs(void *arg)
{
	struct shared *s = arg;
	unsigned long fs = 0;

	if (raw_syscall(__NR_arch_prctl, ARCH_GET_FS, (long)&fs, 0, 0))
		return 1;
	s->value = fs;
	return 0;
}

TEST_F(v2, settls)
{
	static unsigned long tls_block[64];
	struct afork_args a = args_for(self->stack, AFORK_SETTLS,
				       &self->word, &self->pidfd);
	pid_t pid;

	a.tls = ptr_to_u64(&tls_block[32]);
	pid = afork_run(&a, sizeof(a), child_get_fs, self->s);
	ASSERT_GT(pid, 0);
	EXPECT_EQ(0, WEXITSTATUS(reap(pid)));
	EXPECT_EQ((long)&tls_block[32], self->s->value);
}
#elif defined(__aarch64__)
static int child_get_tp(void *arg)
{
	struct shared *s = arg;
	unsigned long tp;

	__asm__ volatile ("mrs %0, tpidr_el0" : "=r"(tp));
	s->value = tp;
	return 0;
}

TEST_F(v2, settls)
{
	static unsigned long tls_block[64];
	struct afork_args a = args_for(self->stack, AFORK_SETTLS,
				       &self->word, &self->pidfd);
	pid_t pid;

	a.tls = ptr_to_u64(&tls_block[32]);
	pid = afork_run(&a, sizeof(a), child_get_tp, self->s);
	ASSERT_GT(pid, 0);
	EXPECT_EQ(0, WEXITSTATUS(reap(pid)));
	EXPECT_EQ((long)&tls_block[32], self->s->value);
}
#endif

/* "NoNewPrivs:" of /proc/PID/status, or -1. */
static int read_nnp(pid_t pid)
{
	char path[64], buf[2048], *p;
	int fd, n;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	p = strstr(buf, "NoNewPrivs:");
	return p ? atoi(p + strlen("NoNewPrivs:")) : -1;
}

/* AFORK_NNP: the child has no_new_privs, the parent keeps its own. */
TEST_F(v2, nnp)
{
	struct afork_args a = args_for(self->stack, AFORK_NNP, &self->word,
				       &self->pidfd);
	pid_t pid;
	char c;

	ASSERT_EQ(0, prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
	pid = afork_run(&a, sizeof(a), child_ready_then_exit, self->s);
	ASSERT_GT(pid, 0);
	ASSERT_EQ(1, read(self->s->out[0], &c, 1));
	EXPECT_EQ(1, read_nnp(pid));
	EXPECT_EQ(0, read_nnp(getpid()));
	ASSERT_EQ(1, write(self->s->in[1], "", 1));
	EXPECT_EQ(0, WEXITSTATUS(reap(pid)));
}

/*
 * AFORK_AUTOREAP: no zombie, no signal, and still the release event.
 * With AFORK_NOSIGCHLD too, which it implies.
 */
TEST_F(v2, autoreap)
{
	struct afork_args a = args_for(self->stack,
				       AFORK_AUTOREAP | AFORK_NOSIGCHLD,
				       &self->word, &self->pidfd);
	sigset_t chld, old, pend;
	pid_t pid;
	int ev;

	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	ASSERT_EQ(0, sigprocmask(SIG_BLOCK, &chld, &old));
	while (waitpid(-1, NULL, WNOHANG | __WALL) > 0)
		;
	sigtimedwait(&chld, NULL, &(struct timespec){ 0 });
	pid = afork_run(&a, sizeof(a), child_wait_then_exit, self->s);
	ASSERT_GT(pid, 0);
	ASSERT_EQ(1, write(self->s->in[1], "", 1));
	do {
		ev = pidfd_wait_events(self->pidfd, POLLIN | POLLPRI, -1);
	} while (ev > 0 && !(ev & POLLHUP));
	EXPECT_TRUE(ev & POLLPRI);
	EXPECT_EQ(-1, waitpid(pid, NULL, WNOHANG | __WALL));
	EXPECT_EQ(ECHILD, errno);
	ASSERT_EQ(0, sigpending(&pend));
	EXPECT_FALSE(sigismember(&pend, SIGCHLD));
	sigprocmask(SIG_SETMASK, &old, NULL);
}

/* AFORK_PIDFD_AUTOKILL: closing the afork() pidfd kills the child. */
TEST_F(v2, pidfd_autokill)
{
	struct afork_args a = args_for(self->stack,
				       AFORK_PIDFD_AUTOKILL | AFORK_AUTOREAP |
				       AFORK_NNP, &self->word, &self->pidfd);
	pid_t pid;
	int other;

	pid = afork_run(&a, sizeof(a), child_wait_then_exit, self->s);
	ASSERT_GT(pid, 0);
	other = sys_pidfd_open(pid, 0);
	ASSERT_GE(other, 0);
	ASSERT_EQ(0, close(self->pidfd));
	self->pidfd = -1;
	/* Nothing told the child to exit: only the kill ends it. */
	EXPECT_TRUE(pidfd_wait_events(other, POLLIN, -1) & POLLIN);
	EXPECT_TRUE(pidfd_wait_events(other, POLLPRI, -1) & POLLPRI);
	close(other);
}

/* AFORK_INTO_CGROUP: the child starts in the cgroup given by fd. */
TEST_F(v2, into_cgroup)
{
	char root[] = "/tmp/afork-cg.XXXXXX", dir[64], path[64], buf[256];
	struct afork_args a = args_for(self->stack, AFORK_INTO_CGROUP,
				       &self->word, &self->pidfd);
	pid_t pid;
	int cg, fd, n;
	char c;

	ASSERT_NE(NULL, mkdtemp(root));
	if (mount("none", root, "cgroup2", 0, NULL)) {
		rmdir(root);
		SKIP(return, "cannot mount cgroup2: %s", strerror(errno));
	}
	snprintf(dir, sizeof(dir), "%s/afork", root);
	ASSERT_EQ(0, mkdir(dir, 0755));
	cg = open(dir, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
	ASSERT_GE(cg, 0);
	a.cgroup = cg;
	pid = afork_run(&a, sizeof(a), child_ready_then_exit, self->s);
	ASSERT_GT(pid, 0);
	ASSERT_EQ(1, read(self->s->out[0], &c, 1));
	snprintf(path, sizeof(path), "/proc/%d/cgroup", pid);
	fd = open(path, O_RDONLY);
	ASSERT_GE(fd, 0);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	ASSERT_GT(n, 0);
	buf[n] = 0;
	EXPECT_NE(NULL, strstr(buf, "0::/afork\n")) TH_LOG("%s", buf);
	ASSERT_EQ(1, write(self->s->in[1], "", 1));
	EXPECT_EQ(0, WEXITSTATUS(reap(pid)));
	close(cg);
	rmdir(dir);
	umount2(root, MNT_DETACH);
	rmdir(root);
}

/* §5: release is reported without a release word too. */
TEST_F(v2, release_without_word)
{
	struct afork_args a = args_for(self->stack, 0, NULL, &self->pidfd);
	pid_t pid = afork_run(&a, sizeof(a), child_wait_then_exit, self->s);

	ASSERT_GT(pid, 0);
	ASSERT_EQ(1, write(self->s->in[1], "", 1));
	EXPECT_TRUE(pidfd_wait_events(self->pidfd, POLLPRI, -1) & POLLPRI);
	EXPECT_EQ(0, WEXITSTATUS(reap(pid)));
}

/*
 * §5: the release happens once.  After it we recycle the word; the
 * program the child exec'd execs again and exits, and nothing writes
 * the word.
 */
TEST_F(v2, second_exec_not_released)
{
	static const char * const argv[] = {
		"sh", "-c", "read x; exec /bin/sh -c 'exit 5'", NULL };
	struct afork_args a = args_for(self->stack, 0, &self->word,
				       &self->pidfd);
	pid_t pid;

	self->s->path = "/bin/sh";
	self->s->argv = (char *const *)argv;
	ASSERT_EQ(0, dup2(self->s->out[0], 0));
	pid = afork_run(&a, sizeof(a), child_wait_then_exec, self->s);
	ASSERT_GT(pid, 0);
	close(0);
	ASSERT_EQ(1, write(self->s->in[1], "", 1));
	ASSERT_TRUE(pidfd_wait_events(self->pidfd, POLLPRI, -1) & POLLPRI);
	EXPECT_EQ(0, __atomic_load_n(&self->word, __ATOMIC_ACQUIRE));
	__atomic_store_n(&self->word, 0x77, __ATOMIC_RELEASE);
	ASSERT_EQ(1, write(self->s->out[1], "\n", 1));
	EXPECT_EQ(5, WEXITSTATUS(reap(pid)));
	EXPECT_EQ(0x77, __atomic_load_n(&self->word, __ATOMIC_ACQUIRE));
}

/*
 * §5: a seccomp filter can deny the number; the library's probe then
 * sees an error, not afork(), and falls back.
 */
TEST(seccomp_denies_afork)
{
	struct sock_filter insns[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_afork, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = {
		.len = ARRAY_SIZE(insns),
		.filter = insns,
	};
	struct afork_args q = { .flags = AFORK_QUERY };
	pid_t pid;
	int st;

	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) ||
		    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog))
			_exit(2);
		_exit(sys_afork(&q, sizeof(q)) == -1 && errno == EPERM &&
		      q.flags == AFORK_QUERY && !afork_supported() ? 0 : 1);
	}
	ASSERT_EQ(pid, waitpid(pid, &st, 0));
	EXPECT_EQ(0, WEXITSTATUS(st));
}

int main(int argc, char **argv)
{
	self_exe = "/proc/self/exe";
	if (argc == 3 && !strcmp(argv[1], "--wait-any"))
		return wait_any_main(atoi(argv[2]));
	if (!afork_supported())
		ksft_exit_skip("afork() is not supported by this kernel\n");
	return test_harness_run(argc, argv);
}
