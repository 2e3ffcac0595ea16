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
 * child function here reads the canary at %fs:0x28 of the child's TCB.
 *
 * Functions named child_*() run in an afork child.  They call the libc
 * wrappers that afork(3) allows there (those that only set errno).
 * Synchronisation is by pipes and the release word, never by sleeping.
 */
#include <poll.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/resource.h>

#include "afork_test_util.h"
#include "kselftest_harness.h"

FIXTURE(backend) {
	int id;
};

FIXTURE_VARIANT(backend) {
	const char *env;
	int id;
};

FIXTURE_VARIANT_ADD(backend, syscall) {
	.env = "syscall", .id = AFORK_BACKEND_SYSCALL,
};

FIXTURE_VARIANT_ADD(backend, clone3) {
	.env = "clone3", .id = AFORK_BACKEND_CLONE3,
};

FIXTURE_VARIANT_ADD(backend, clone_legacy) {
	.env = "clone-legacy", .id = AFORK_BACKEND_CLONE,
};

FIXTURE_VARIANT_ADD(backend, vfork) {
	.env = "vfork", .id = AFORK_BACKEND_VFORK,
};

FIXTURE_SETUP(backend)
{
	struct rlimit nocore = { 0, 0 };

	setrlimit(RLIMIT_CORE, &nocore);
	setenv("AFORK_BACKEND", variant->env, 1);
	self->id = afork_backend();
	if (self->id < 0)
		SKIP(return, "backend %s not available here: %s",
		     variant->env, strerror(errno));
	ASSERT_EQ(variant->id, self->id);
	if (afork_tls_private() != 1)
		SKIP(return, "children share the caller's TLS here (%s)",
		     self->id == AFORK_BACKEND_SYSCALL ?
		     "the kernel has no AFORK_SETTLS, or no glibc layout" :
		     "no glibc layout, or a sanitizer build");
}

FIXTURE_TEARDOWN(backend)
{
}

/* The stack-protector canary of the running thread (glibc x86-64 TCB). */
static unsigned long canary(void)
{
	unsigned long v;

	__asm__ volatile("movq %%fs:0x28, %0" : "=r"(v));
	return v;
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
#define CHILD_ROUNDS 2000

struct race_job {
	uint32_t go;			/* the child starts when the parent spins */
	int bad;			/* child: wrapper left an unexpected errno */
	int last;			/* child: the errno of the last mismatch */
	int step;			/* child: which wrapper */
};

/* Each wrapper here fails and sets errno to the value given. */
static int child_wrappers(void *p)
{
	struct race_job *j = p;
	sigset_t none;
	int i;

	sigemptyset(&none);
	while (!__atomic_load_n(&j->go, __ATOMIC_ACQUIRE))
		;
	for (i = 0; i < CHILD_ROUNDS; i++) {
		struct { int ret, want, step; } r[8];
		int k;

		errno = 0;
		r[0].ret = open("/nonexistent/afork", O_RDONLY | O_CLOEXEC);
		r[0].want = ENOENT;
		r[0].step = errno == ENOENT ? 0 : 1;
		errno = 0;
		r[1].ret = close(-1);
		r[1].want = EBADF;
		r[1].step = errno == EBADF ? 0 : 2;
		errno = 0;
		r[2].ret = dup2(-1, 100);
		r[2].want = EBADF;
		r[2].step = errno == EBADF ? 0 : 3;
		errno = 0;
		r[3].ret = fcntl(-1, F_GETFD);
		r[3].want = EBADF;
		r[3].step = errno == EBADF ? 0 : 4;
		errno = 0;
		r[4].ret = chdir("/nonexistent/afork");
		r[4].want = ENOENT;
		r[4].step = errno == ENOENT ? 0 : 5;
		errno = 0;
		r[5].ret = setpgid(-1, 0);
		r[5].want = EINVAL;
		r[5].step = errno == EINVAL ? 0 : 6;
		errno = 0;
		r[6].ret = sigprocmask(12345, &none, NULL);
		r[6].want = EINVAL;
		r[6].step = errno == EINVAL ? 0 : 7;
		errno = 0;
		r[7].ret = execve("/nonexistent/afork", (char *[]){ NULL },
				  (char *[]){ NULL });
		r[7].want = ENOENT;
		r[7].step = errno == ENOENT ? 0 : 8;
		for (k = 0; k < 8; k++) {
			if (r[k].ret != -1 || r[k].step) {
				j->bad++;
				j->step = k + 1;
				j->last = errno;
			}
		}
	}
	_exit(j->bad ? 1 : 0);
}

/*
 * A child calling errno-setting wrappers in a loop never changes the
 * calling thread's errno, and the calling thread writing errno meanwhile
 * never changes what the child's wrappers report.
 */
TEST_F_TIMEOUT(backend, errno_private, 60)
{
	struct afork_child *c;
	struct race_job j;
	long changed = 0, spins = 0;
	int st;

	memset(&j, 0, sizeof(j));
	ASSERT_EQ(0, afork_start(&c, NULL, child_wrappers, &j));
	errno = PARENT_ERRNO;
	__atomic_store_n(&j.go, 1, __ATOMIC_RELEASE);
	while (!afork_released(c)) {
		if (errno != PARENT_ERRNO) {
			changed++;
			errno = PARENT_ERRNO;
		}
		spins++;
	}
	errno = 0;
	ASSERT_EQ(afork_pid(c), afork_wait(c, &st, 0));
	TH_LOG("%ld checks of errno while the child ran", spins);
	EXPECT_EQ(0, changed);
	EXPECT_TRUE(WIFEXITED(st));
	EXPECT_EQ(0, WEXITSTATUS(st)) {
		TH_LOG("%d bad results, last at wrapper %d (errno %d)",
		       j.bad, j.step, j.last);
	}
	afork_free(c);
}

TEST_HARNESS_MAIN
