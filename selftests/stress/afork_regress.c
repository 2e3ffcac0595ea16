// SPDX-License-Identifier: MIT
/*
 * Regression tests for libafork bugs that the stress tests found, made
 * deterministic.  Each runs on every backend.
 *
 * 1. AFORK_OPT_SIGMASK on the clone3 backend: the child ran its first
 *    instructions with the caller's mask and installed the given one only
 *    in its C entry, so a signal sent before it got there was delivered
 *    although the given mask blocks it (afork_stress: children killed by
 *    SIGUSR1/SIGHUP/SIGTERM their mask blocked).  Made deterministic by
 *    running the caller SCHED_FIFO with SCHED_RESET_ON_FORK on one CPU: the
 *    child cannot run before the caller has signalled it.
 *
 * 2. vfork backend: when a worker thread could not be started (RLIMIT_AS,
 *    RLIMIT_NPROC, no memory) while every worker was busy with a child,
 *    afork() waited for a worker to come free instead of failing, forever
 *    if those children wait for the caller (afork_stress_limits,
 *    no_memory_for_stack).  Here: one busy worker, room for a stack but not
 *    for a new worker's stack; afork must fail, not block.
 */
#include <sched.h>

#include "stress_util.h"

struct waiter {
	uint32_t go;
};

static int child_wait(void *p)
{
	struct waiter *w = p;

	while (!__atomic_load_n(&w->go, __ATOMIC_ACQUIRE))
		afork_child_syscall(SYS_futex, (long)&w->go, FUTEX_WAIT, 0, 0, 0, 0);
	return 5;
}

static void let_go(struct waiter *w)
{
	__atomic_store_n(&w->go, 1, __ATOMIC_RELEASE);
	syscall(SYS_futex, &w->go, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
}

/* A child started with AFORK_OPT_SIGMASK has that mask before it runs at all. */
TEST_F(backend, sigmask_before_first_instruction)
{
	struct sched_param fifo = { .sched_priority = 1 }, other = { 0 };
	struct afork_child *c;
	struct afork_opts o;
	struct waiter w = { 0 };
	cpu_set_t one;
	int st, round, bad = 0;

	CPU_ZERO(&one);
	CPU_SET(sched_getcpu(), &one);
	ASSERT_EQ(0, sched_setaffinity(0, sizeof(one), &one));
	if (sched_setscheduler(0, SCHED_FIFO | SCHED_RESET_ON_FORK, &fifo))
		SKIP(return, "SCHED_FIFO needs CAP_SYS_NICE: %s", strerror(errno));

	for (round = 0; round < 20; round++) {
		afork_opts_init(&o);
		o.options = AFORK_OPT_SIGMASK | (round & 1 ? AFORK_OPT_PIDFD : 0);
		sigemptyset(&o.sigmask);
		sigaddset(&o.sigmask, SIGUSR1);
		sigaddset(&o.sigmask, SIGTERM);
		w.go = 0;
		ASSERT_EQ(0, afork_start(&c, &o, child_wait, &w));
		/* We run first: the child has not executed an instruction yet. */
		ASSERT_EQ(0, kill(afork_pid(c), round & 2 ? SIGTERM : SIGUSR1));
		let_go(&w);
		ASSERT_EQ(0, sched_setscheduler(0, SCHED_OTHER, &other));
		ASSERT_EQ(afork_pid(c), afork_wait(c, &st, 0));
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 5)
			if (bad++ < 3)
				TH_LOG("round %d: status %#x: killed by a signal its "
				       "mask blocks", round, st);
		afork_free(c);
		ASSERT_EQ(0, sched_setscheduler(0, SCHED_FIFO | SCHED_RESET_ON_FORK,
						&fifo));
	}
	sched_setscheduler(0, SCHED_OTHER, &other);
	EXPECT_EQ(0, bad);
}

struct bounded_call {
	uint32_t done;
	struct waiter *w;
	pid_t pid;
	int err;
};

static void *call_afork(void *p)
{
	struct bounded_call *b = p;

	b->pid = afork(child_wait, b->w);
	b->err = errno;
	__atomic_store_n(&b->done, 1, __ATOMIC_RELEASE);
	syscall(SYS_futex, &b->done, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
	return NULL;
}

/* With no room for a new vfork worker, afork fails instead of blocking. */
TEST_F(backend, no_worker_no_wait)
{
	struct waiter w = { 0 };
	struct bounded_call b = { 0 };
	struct timespec ts = { 20, 0 };
	struct rlimit saved, low;
	pthread_attr_t a;
	pthread_t th;
	int st, stuck = 0;
	pid_t first;

	if (STRESS_ASAN)
		SKIP(return, "RLIMIT_AS and AddressSanitizer's shadow do not mix");
	/* One child that keeps its vfork worker (if any) busy. */
	first = afork(child_wait, &w);
	ASSERT_GT(first, 0);

	b.w = &w;
	pthread_attr_init(&a);
	pthread_attr_setstacksize(&a, STRESS_THREAD_STACK);
	ASSERT_EQ(0, getrlimit(RLIMIT_AS, &saved));
	/* Room for a pool stack (64 KiB + 8 KiB) and the caller's thread, not a worker. */
	low.rlim_cur = vm_size() + STRESS_THREAD_STACK + 4096 + 128 * 1024;
	low.rlim_max = saved.rlim_max;
	ASSERT_EQ(0, setrlimit(RLIMIT_AS, &low));
	ASSERT_EQ(0, pthread_create(&th, &a, call_afork, &b));
	while (!__atomic_load_n(&b.done, __ATOMIC_ACQUIRE)) {
		if (syscall(SYS_futex, &b.done, FUTEX_WAIT, 0, &ts, NULL, 0) &&
		    errno == ETIMEDOUT) {
			stuck = 1;
			let_go(&w);	/* frees the worker: the call goes on */
		}
	}
	pthread_join(th, NULL);
	setrlimit(RLIMIT_AS, &saved);
	pthread_attr_destroy(&a);
	let_go(&w);
	EXPECT_FALSE(stuck) TH_LOG("afork blocked while no worker could start");
	if (b.pid > 0) {
		/* Other backends need no worker: a success is fine there. */
		EXPECT_NE(AFORK_BACKEND_VFORK, self->id);
		EXPECT_EQ(b.pid, reap_bounded(b.pid, &st));
	} else {
		EXPECT_TRUE(b.err == EAGAIN || b.err == ENOMEM)
			TH_LOG("afork failed with %s", strerror(b.err));
	}
	EXPECT_EQ(first, reap_bounded(first, &st));
	EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 5);
}

STRESS_MAIN
