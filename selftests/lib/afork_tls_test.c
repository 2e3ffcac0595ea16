// SPDX-License-Identifier: MIT
/*
 * libafork tests of the child's thread pointer (issue 13, defect 5).
 *
 * On the clone and syscall backends each child runs on a copy of the
 * calling thread's static TLS and TCB: errno and every other __thread
 * variable of the child are its own, and the child does not depend on the
 * calling thread staying alive.  On the vfork backend the child runs on its
 * worker thread's TLS, which is suspended in vfork() meanwhile: the same
 * guarantees hold.  Where the library had to fall back to the shared TLS
 * (afork_tls_private() says so), the tests skip with that reason.
 *
 * This file is built with -fstack-protector-all (see the Makefile), so every
 * child function here reads the canary: on x86-64 at %fs:0x28 of the
 * child's TCB, on arm64 from a global (afork_test_arch.h).
 *
 * Functions named child_*() run in an afork child.  They call the libc
 * wrappers that afork(3) allows there (those that only set errno).
 * Synchronisation is by pipes and the release word, never by sleeping.
 */
#include <poll.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sched.h>

#include "afork_test_arch.h"
#include "afork_test_util.h"
#include "kselftest_harness.h"
#include "../common/backend_fixture.h"

AFORK_BACKEND_FIXTURE(backend, );

FIXTURE_SETUP(backend)
{
	AFORK_BACKEND_SETUP();
	if (afork_tls_private() != 1)
		SKIP(return, "children share the caller's TLS here (%s)",
		     self->id == AFORK_BACKEND_SYSCALL ?
		     "the kernel has no AFORK_SETTLS, or no glibc layout" :
		     "no glibc layout, or a sanitizer build");
}

FIXTURE_TEARDOWN(backend)
{
}

/* The stack-protector canary of the running thread. */
static unsigned long canary(void)
{
	return test_canary();
}

/* ---------------------------------------------------------------- */
/* The calling thread exits before the child uses its TLS             */

struct late_job {
	int rfd;			/* the child waits for a byte here */
	struct afork_child *c;
	int start_err;
	unsigned long canary;		/* written by the child */
	int child_errno;		/* written by the child */
};

static int child_late_errno(void *p)
{
	struct late_job *j = p;
	char b;

	if (afork_child_read(j->rfd, &b, 1) != 1)
		return 100;
	/* The calling thread and its TLS are gone by now. */
	errno = 0;
	if (close(-1) != -1)
		return 101;
	j->child_errno = errno;
	j->canary = canary();
	return errno == EBADF ? 0 : 102;
}

static void *start_late(void *p)
{
	struct late_job *j = p;

	if (afork_start(&j->c, NULL, child_late_errno, j))
		j->start_err = errno;
	return NULL;
}

/*
 * Run start_late() on a thread whose stack (and so its TLS and TCB, which
 * glibc puts there) is unmapped once it has been joined.
 */
static int start_on_dying_thread(struct late_job *j)
{
	size_t size = 256 * 1024;
	pthread_attr_t a;
	pthread_t t;
	void *stk;
	int r;

	stk = mmap(NULL, size, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
	if (stk == MAP_FAILED)
		return -1;
	pthread_attr_init(&a);
	pthread_attr_setstack(&a, stk, size);
	r = pthread_create(&t, &a, start_late, j);
	pthread_attr_destroy(&a);
	if (r)
		return -1;
	pthread_join(t, NULL);
	return munmap(stk, size);
}

/* The child's errno works after the thread that started it has exited. */
TEST_F(backend, caller_exits_first)
{
	struct late_job j;
	int p[2], st;

	memset(&j, 0, sizeof(j));
	ASSERT_EQ(0, pipe2(p, O_CLOEXEC));
	j.rfd = p[0];
	ASSERT_EQ(0, start_on_dying_thread(&j));
	ASSERT_EQ(0, j.start_err);
	ASSERT_EQ(1, write(p[1], "x", 1));
	ASSERT_EQ(afork_pid(j.c), afork_wait(j.c, &st, 0));
	EXPECT_TRUE(WIFEXITED(st)) {
		TH_LOG("child killed by signal %d", WTERMSIG(st));
	}
	EXPECT_EQ(0, WEXITSTATUS(st));
	EXPECT_EQ(EBADF, j.child_errno);
	afork_free(j.c);
	close(p[0]);
	close(p[1]);
}

/*
 * A child built with -fstack-protector-all runs after its calling thread
 * exited, and sees the process's canary.
 */
TEST_F(backend, stack_protector_canary)
{
	struct late_job j;
	int p[2], st;

	memset(&j, 0, sizeof(j));
	ASSERT_EQ(0, pipe2(p, O_CLOEXEC));
	j.rfd = p[0];
	ASSERT_EQ(0, start_on_dying_thread(&j));
	ASSERT_EQ(0, j.start_err);
	ASSERT_EQ(1, write(p[1], "x", 1));
	ASSERT_EQ(afork_pid(j.c), afork_wait(j.c, &st, 0));
	ASSERT_TRUE(WIFEXITED(st)) {
		TH_LOG("child killed by signal %d", WTERMSIG(st));
	}
	EXPECT_NE(0ul, j.canary);
	EXPECT_EQ(canary(), j.canary);
	afork_free(j.c);
	close(p[0]);
	close(p[1]);
}

/* ---------------------------------------------------------------- */
/* errno of the child and of the calling thread are separate          */

#define PARENT_ERRNO 12345
#define CHILD_ROUNDS 20

/*
 * The child and the calling thread take turns, so that the check does not
 * depend on how the two are scheduled: the child makes a wrapper fail and
 * publishes the step; the caller checks its own errno, writes it again and
 * acknowledges; the child checks that its errno is still the wrapper's.
 */
struct race_job {
	uint32_t step;			/* child: wrapper k of round i done */
	uint32_t ack;			/* caller: step seen */
	int bad;			/* child: errno not the wrapper's */
	int last_step, last_errno;	/* child: the last such */
};

/*
 * Each wrapper afork(3) lists, made to fail, and the errno it must leave.
 * setsid() fails once the child leads its session (see below).
 */
#define NWRAP 15

static int call_wrapper(int k)
{
	static char *const none[] = { NULL };
	sigset_t empty;
	char b = 0;

	sigemptyset(&empty);
	switch (k) {
	case 0: return open("/nonexistent/afork", O_RDONLY | O_CLOEXEC);
	case 1: return openat(-1, "x", O_RDONLY | O_CLOEXEC);
	case 2: return close(-1);
	case 3: return (int)read(-1, &b, 1);
	case 4: return (int)write(-1, &b, 1);
	case 5: return dup(-1);
	case 6: return dup2(-1, 100);
	case 7: return dup3(-1, 100, O_CLOEXEC);
	case 8: return fcntl(-1, F_GETFD);
	case 9: return chdir("/nonexistent/afork");
	case 10: return fchdir(-1);
	case 11: return setsid();
	case 12: return setpgid(-1, 0);
	case 13: return sigprocmask(12345, &empty, NULL);
	default: return execve("/nonexistent/afork", none, none);
	}
}

static const int wrapper_errno[NWRAP] = {
	ENOENT, EBADF, EBADF, EBADF, EBADF, EBADF, EBADF, EBADF, EBADF,
	ENOENT, EBADF, EPERM, EINVAL, EINVAL, ENOENT,
};

static int child_wrappers(void *p)
{
	struct race_job *j = p;
	uint32_t n = 0;
	int i, k;

	afork_child_setsid();	/* session leader: setsid() fails from here */
	for (i = 0; i < CHILD_ROUNDS; i++) {
		for (k = 0; k < NWRAP; k++) {
			int r = call_wrapper(k);
			int got = errno;

			__atomic_store_n(&j->step, ++n, __ATOMIC_RELEASE);
			while (__atomic_load_n(&j->ack, __ATOMIC_ACQUIRE) != n)
				afork_child_syscall(SYS_sched_yield, 0, 0, 0, 0, 0, 0);
			if (r != -1 || got != wrapper_errno[k] ||
			    errno != wrapper_errno[k]) {
				j->bad++;
				j->last_step = k;
				j->last_errno = errno;
			}
		}
	}
	afork_child_exit(j->bad ? 1 : 0);
}

/*
 * errno-setting wrappers in the child never change the calling thread's
 * errno, and the calling thread's errno writes never change the child's.
 */
TEST_F_TIMEOUT(backend, errno_private, 60)
{
	struct afork_child *c;
	struct race_job j;
	volatile int *e = &errno;	/* read it every time */
	uint32_t n, seen = 0;
	long changed = 0;
	int st;

	memset(&j, 0, sizeof(j));
	ASSERT_EQ(0, afork_start(&c, NULL, child_wrappers, &j));
	for (n = 1; n <= CHILD_ROUNDS * NWRAP; n++) {
		*e = PARENT_ERRNO;
		while ((seen = __atomic_load_n(&j.step, __ATOMIC_ACQUIRE)) != n &&
		       !afork_released(c))
			sched_yield();
		if (seen != n)
			break;		/* the child died */
		if (*e != PARENT_ERRNO)
			changed++;
		*e = PARENT_ERRNO;
		__atomic_store_n(&j.ack, n, __ATOMIC_RELEASE);
	}
	errno = 0;
	ASSERT_EQ(afork_pid(c), afork_wait(c, &st, 0));
	EXPECT_EQ(CHILD_ROUNDS * NWRAP + 1, (int)n);
	EXPECT_EQ(0, changed);
	EXPECT_TRUE(WIFEXITED(st));
	EXPECT_EQ(0, WEXITSTATUS(st)) {
		TH_LOG("%d wrong errno in the child, last after wrapper %d: %d",
		       j.bad, j.last_step, j.last_errno);
	}
	afork_free(c);
}

/* ---------------------------------------------------------------- */
/* The dynamic thread vector                                         */

static __thread int tls_marker = 1;

#define DTV_SLOTS 16

struct dtv_job {
	uintptr_t tp;			/* the child's thread pointer */
	uintptr_t val[DTV_SLOTS];	/* its dtv slots 1.. */
	size_t n;
};

/* glibc's dtv: in the TCB, 16-byte slots, their count in slot -1. */
static size_t read_dtv(uintptr_t *tp, uintptr_t val[DTV_SLOTS])
{
	const uintptr_t *dtv;
	size_t i, n;

	*tp = test_thread_pointer();
	dtv = test_dtv();
	n = dtv[-2] < DTV_SLOTS ? dtv[-2] : DTV_SLOTS;
	for (i = 0; i < n; i++)
		val[i] = dtv[2 * (i + 1)];
	return n;
}

static int child_dtv(void *p)
{
	struct dtv_job *j = p;

	j->n = read_dtv(&j->tp, j->val);
	return tls_marker == 1 ? 0 : 1;
}

/*
 * The child's dtv sends the static modules' TLS (what __tls_get_addr
 * returns for them) to the child's copy: each slot that pointed into the
 * caller's static TLS points as far from the child's thread pointer
 * (below it on x86-64, above it on arm64).
 */
TEST_F(backend, dtv_points_at_copy)
{
	uintptr_t tp, val[DTV_SLOTS];
	struct afork_child *c;
	struct dtv_job j;
	size_t i, n, moved = 0;
	int st;

	if (self->id == AFORK_BACKEND_VFORK)
		SKIP(return, "the child runs on its worker thread's TLS");
	memset(&j, 0, sizeof(j));
	ASSERT_EQ(1, tls_marker);
	n = read_dtv(&tp, val);
	ASSERT_EQ(0, afork_start(&c, NULL, child_dtv, &j));
	ASSERT_EQ(afork_pid(c), afork_wait(c, &st, 0));
	EXPECT_EQ(0, st);
	ASSERT_EQ(n, j.n);
	for (i = 0; i < n; i++) {
		if (test_in_static_tls(val[i], tp)) {
			EXPECT_EQ(j.tp + (val[i] - tp), j.val[i]);
			moved++;
		}
	}
	EXPECT_GE(moved, 1);
	afork_free(c);
}

/* AFORK_TLS=shared turns the copy off, on the clone backends. */
TEST(env_shared)
{
	setenv("AFORK_BACKEND", "clone", 1);
	setenv("AFORK_TLS", "shared", 1);
	ASSERT_GE(afork_backend(), 0);
	EXPECT_EQ(0, afork_tls_private());
}

TEST_HARNESS_MAIN
