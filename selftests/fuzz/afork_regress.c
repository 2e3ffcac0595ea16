// SPDX-License-Identifier: GPL-2.0
/*
 * afork() semantics the fuzzer's review turned up, pinned as tests.
 *
 * release_follows_the_created_task: a child that starts a thread
 * (CLONE_THREAD) and whose first thread then calls exit(2), not
 * exit_group(2), has not exited: its other thread still runs in the
 * parent's memory.  The series reports release from mm_release() of the
 * task afork() created, as vfork() does, and afork(2) documents exactly
 * that (the child must not create threads before execve() or _exit()):
 * POLLPRI and the cleared word come when the first thread exits, POLLIN
 * only when the last one does.  Tracking the whole thread group instead
 * would change this test and the documentation together.
 */
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fuzz_sys.h"
#include "kselftest_harness.h"

#define STACK (64 * 1024)

struct tjob {
	uint32_t leader_gone;	/* CLONE_CHILD_CLEARTID-style: 0 once the first thread is gone */
	uint32_t thread_up;
	uint32_t go;
	char *tstack;
};

/* The second thread of the child: wait to be let go, then end the process. */
static int thread_fn(void *p)
{
	struct tjob *t = p;

	store32(&t->thread_up, 1);
	futex_wake(&t->thread_up);
	while (!load32(&t->go))
		futex_wait(&t->go, 0, NULL);
	raw1(__NR_exit_group, 7);
	return 0;
}

/* clone(CLONE_THREAD) from the child, raw: the new thread starts in thread_fn. */
static long start_thread(struct tjob *t)
{
	register long r10 __asm__("r10") = 0;
	register long r8 __asm__("r8") = 0;
	register void *r12 __asm__("r12") = (void *)thread_fn;
	register void *r13 __asm__("r13") = t;
	long ret;

	__asm__ volatile ("syscall\n\t"
			  "test %%rax, %%rax\n\t"
			  "jnz 1f\n\t"
			  "xor %%ebp, %%ebp\n\t"
			  "and $-16, %%rsp\n\t"
			  "mov %%r13, %%rdi\n\t"
			  "call *%%r12\n\t"
			  "mov $60, %%eax\n\t"
			  "xor %%edi, %%edi\n\t"
			  "syscall\n\t"
			  "hlt\n"
			  "1:"
			  : "=a"(ret)
			  : "0"((long)__NR_clone),
			    "D"((long)(CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND |
				       CLONE_THREAD | CLONE_SYSVSEM)),
			    "S"(t->tstack + STACK), "d"(0), "r"(r10), "r"(r8),
			    "r"(r12), "r"(r13)
			  : "rcx", "r11", "memory");
	return ret;
}

/* The child's first thread: start the second, then exit this thread only. */
static int child_fn(void *p)
{
	struct tjob *t = p;

	raw1(__NR_set_tid_address, &t->leader_gone);
	if (start_thread(t) < 0)
		return 1;
	raw1(__NR_exit, 0);
	return 0;
}

static int poll_revents(int fd, short events, int ms)
{
	struct pollfd p = { .fd = fd, .events = events };

	return poll(&p, 1, ms) > 0 ? p.revents : 0;
}

/* Release follows the task afork() created, not its threads (afork(2)). */
TEST(release_follows_the_created_task)
{
	struct afork_args a;
	static struct tjob t;
	uint32_t word = 0, v;
	char *stack;
	int pidfd = -1, st;
	long pid;

	stack = mmap(NULL, 2 * STACK, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
	ASSERT_NE(MAP_FAILED, stack);
	memset(&t, 0, sizeof(t));
	t.leader_gone = 1;
	t.tstack = stack + STACK;
	memset(&a, 0, sizeof(a));
	a.flags = AFORK_PIDFD;
	a.pidfd = u64_of(&pidfd);
	a.stack = u64_of(stack);
	a.stack_size = STACK;
	a.release_word = u64_of(&word);

	pid = fuzz_afork(&a, sizeof(a), child_fn, &t);
	ASSERT_GT(pid, 0);
	while (!load32(&t.thread_up))
		futex_wait(&t.thread_up, 0, NULL);
	/* The first thread is gone (its clear-tid word says so)... */
	while ((v = load32(&t.leader_gone)) != 0)
		futex_wait(&t.leader_gone, v, NULL);
	/*
	 * ...the second still runs in our memory, yet release is reported
	 * (documented), while the process has not exited (no POLLIN).
	 */
	EXPECT_EQ(POLLPRI, poll_revents(pidfd, POLLPRI, 60000));
	EXPECT_EQ(POLLPRI, poll_revents(pidfd, POLLPRI | POLLIN, 0))
		TH_LOG("want POLLPRI without POLLIN once the created task is gone");
	EXPECT_EQ(0u, load32(&word));

	store32(&t.go, 1);
	futex_wake(&t.go);
	EXPECT_NE(0, poll_revents(pidfd, POLLIN, 60000) & POLLIN);
	EXPECT_NE(0, poll_revents(pidfd, POLLPRI, 0) & POLLPRI);
	EXPECT_EQ(0u, load32(&word));
	ASSERT_EQ(pid, waitpid((pid_t)pid, &st, 0));
	EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 7) TH_LOG("status %#x", st);
	close(pidfd);
	munmap(stack, 2 * STACK);
}

int main(int argc, char **argv)
{
	struct afork_args q = { .flags = AFORK_QUERY };

	if (raw2(__NR_afork, &q, sizeof(q)) < AFORK_ARGS_SIZE_VER0 ||
	    q.flags != AFORK_FLAGS_ALL)
		ksft_exit_skip("afork() is not supported by this kernel\n");
	return test_harness_run(argc, argv);
}
