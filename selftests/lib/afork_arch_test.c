// SPDX-License-Identifier: MIT
/*
 * libafork tests of its architecture layer (lib/src/arch/<arch>/, sys.h,
 * tls.c), with no child that shares this process's memory: they also run
 * under qemu-user, which cannot start a CLONE_VM child, and check what a
 * port gets wrong first.
 *
 *  - the raw system calls: six arguments in the right registers, -errno
 *    returned and errno left alone, dup2 on the generic table (dup3),
 *    the kernel's struct sigaction;
 *  - the trampoline and legacy clone's argument slots, through a clone
 *    without CLONE_VM: the child must start on the given (misaligned)
 *    stack, find its child_tid word written and its thread pointer set,
 *    run fn(ctx) and exit with its return value;
 *  - the copy of the thread's TLS that tls.c makes for a child: this
 *    thread switches onto the copy for a moment and must find errno, a
 *    __thread variable and pthread_self() at the same offsets there,
 *    separate from its own.
 *
 * The internal functions are linked from libafork.a.
 */
#include <pthread.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "internal.h"		/* lib/src: sys.h, struct afork_child */
#include "afork_test_arch.h"
#include "afork_test_util.h"
#include "kselftest_harness.h"

/* ---------------------------------------------------------------- */
/* Raw system calls                                                   */

/* mmap's sixth argument, the offset, picks the second page of a file. */
TEST(syscall_six_args)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	char *buf = malloc(2 * page);
	const char *p;
	long r;
	int fd;

	ASSERT_NE(NULL, buf);
	memset(buf, 'a', page);
	memset(buf + page, 'b', page);
	fd = memfd_create("afork_arch_test", MFD_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ((ssize_t)(2 * page), write(fd, buf, 2 * page));
	r = afork__syscall6(__NR_mmap, 0, (long)page, PROT_READ, MAP_SHARED,
			    fd, (long)page);
	ASSERT_GE(r, 0);
	p = (const char *)r;
	EXPECT_EQ('b', p[0]);
	EXPECT_EQ('b', p[page - 1]);
	munmap((void *)p, page);
	close(fd);
	free(buf);
}

/* A failing call returns -errno and leaves errno alone. */
TEST(syscall_returns_minus_errno)
{
	char b;

	errno = 1234;
	EXPECT_EQ(-EBADF, sys_close(-1));
	EXPECT_EQ(-EBADF, sys_read(-1, &b, 1));
	EXPECT_EQ(-ENOENT, sys_openat(AT_FDCWD, "/nonexistent/afork", O_RDONLY, 0));
	EXPECT_EQ(1234, errno);
	EXPECT_EQ(getpid(), sys_getpid());
}

/* sys_dup2() behaves as libc's dup2(), on either table. */
TEST(dup2_as_libc)
{
	int fd, gone, target;
	struct stat a, b;

	fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	gone = dup(fd);
	ASSERT_LE(0, gone);
	close(gone);

	/* Onto itself: the fd if open (flags kept), else EBADF. */
	EXPECT_EQ(fd, dup2(fd, fd));
	EXPECT_EQ(fd, sys_dup2(fd, fd));
	EXPECT_EQ(FD_CLOEXEC, fcntl(fd, F_GETFD) & FD_CLOEXEC);
	EXPECT_EQ(-1, dup2(gone, gone));
	EXPECT_EQ(EBADF, errno);
	EXPECT_EQ(-EBADF, sys_dup2(gone, gone));

	/* Onto another number: a copy without FD_CLOEXEC. */
	target = gone;
	EXPECT_EQ(target, sys_dup2(fd, target));
	EXPECT_EQ(0, fcntl(target, F_GETFD) & FD_CLOEXEC);
	ASSERT_EQ(0, fstat(fd, &a));
	ASSERT_EQ(0, fstat(target, &b));
	EXPECT_EQ(a.st_ino, b.st_ino);
	EXPECT_EQ(a.st_dev, b.st_dev);
	close(target);

	/* Bad numbers. */
	EXPECT_EQ(-EBADF, sys_dup2(-1, target));
	EXPECT_EQ(-EBADF, sys_dup2(fd, -1));
	close(fd);
}

static void on_usr1(int sig)
{
	(void)sig;
}

/* struct afork_ksigaction is the kernel's: handler, flags, restorer, mask. */
TEST(ksigaction_layout)
{
	struct afork_ksigaction k, dfl;
	struct sigaction sa, back;
	uint64_t m = 0;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaddset(&sa.sa_mask, SIGUSR2);
	ASSERT_EQ(0, sigaction(SIGUSR1, &sa, NULL));

	memset(&k, 0, sizeof(k));
	ASSERT_EQ(0, sys_sigaction(SIGUSR1, NULL, &k));
	EXPECT_EQ((void *)on_usr1, k.handler);
	EXPECT_TRUE(k.flags & SA_RESTART);
	EXPECT_EQ(1ull << (SIGUSR2 - 1), k.mask);

	memset(&dfl, 0, sizeof(dfl));
	ASSERT_EQ(0, sys_sigaction(SIGUSR1, &dfl, NULL));
	ASSERT_EQ(0, sigaction(SIGUSR1, NULL, &back));
	EXPECT_TRUE(back.sa_handler == SIG_DFL);

	EXPECT_EQ(0, sys_sigprocmask(SIG_BLOCK, NULL, &m));
	EXPECT_EQ(AFORK_KSIGSET_SIZE, sizeof(m));
}

/* ---------------------------------------------------------------- */
/* The trampoline and clone's argument slots                         */

struct clone_probe {
	uintptr_t tls;		/* the thread pointer the child must have */
	uint32_t ctid;		/* CLONE_CHILD_SETTID writes the child's tid */
};

/*
 * In a copy of this process (no CLONE_VM), on the trampoline's stack:
 * say by the exit status what went wrong.
 */
static int clone_child(void *p)
{
	struct clone_probe *cp = p;
	volatile char probe[64];

	probe[0] = 1;	/* an SP-relative store: faults on a misaligned sp */
	if (test_thread_pointer() != cp->tls)
		return 10;
	if (cp->ctid != (uint32_t)sys_getpid())
		return 11;
	return 42 + probe[0];
}

TEST(clone_slots_and_trampoline)
{
	size_t size = 64 * 1024;
	long args[6] = { 0 };
	struct clone_probe cp;
	char *stack;
	long pid;
	int st;

	stack = mmap(NULL, size, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
	ASSERT_NE(MAP_FAILED, stack);
	memset(&cp, 0, sizeof(cp));
	/* Our own thread pointer is one the child's copy can run C with. */
	cp.tls = test_thread_pointer();
	args[0] = CLONE_CHILD_SETTID | CLONE_SETTLS | SIGCHLD;
	args[1] = (long)(stack + size - 8);	/* the trampoline aligns it */
	args[AFORK_CLONE_ARG_CTID] = (long)&cp.ctid;
	args[AFORK_CLONE_ARG_TLS] = (long)cp.tls;
	pid = afork__tramp(__NR_clone, args, clone_child, &cp);
	ASSERT_GT(pid, 0);
	ASSERT_EQ(pid, waitpid((pid_t)pid, &st, 0));
	EXPECT_TRUE(WIFEXITED(st)) {
		TH_LOG("child killed by signal %d", WTERMSIG(st));
	}
	EXPECT_EQ(43, WEXITSTATUS(st));
	/* The parent's copy was not written (no CLONE_VM). */
	EXPECT_EQ(0u, cp.ctid);
	munmap(stack, size);
}

/* ---------------------------------------------------------------- */
/* The child's copy of the TLS                                       */

static __thread int tls_marker = 7;

/*
 * errno's and the marker's address, computed afresh from the thread
 * pointer on every call (the asm keeps the compiler from taking the
 * result of an earlier call, as it may for __errno_location()).
 */
static __attribute__((noinline)) int *errno_here(void)
{
	__asm__ volatile("" ::: "memory");
	return &errno;
}

static __attribute__((noinline)) int *marker_here(void)
{
	__asm__ volatile("" ::: "memory");
	return &tls_marker;
}

struct on_copy {
	uintptr_t tp, self;
	int *err_addr, *marker_addr;
	const uintptr_t *dtv;
	int close_ret, err, marker;
};

/* Run a little on the thread pointer @ntp, with every signal blocked. */
static __attribute__((noinline)) void run_on_copy(uintptr_t ntp,
						  struct on_copy *o)
{
	sigset_t all, old;
	uintptr_t tp;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	tp = test_thread_pointer();
	test_set_thread_pointer(ntp);

	o->tp = test_thread_pointer();
	o->err_addr = errno_here();
	*o->err_addr = 0;
	o->close_ret = close(-1);
	o->err = *errno_here();
	o->marker_addr = marker_here();
	o->marker = *o->marker_addr;
	*o->marker_addr = 99;
	o->self = (uintptr_t)pthread_self();
	o->dtv = test_dtv();

	test_set_thread_pointer(tp);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

/* A stand-in for a child's record, at the top of a 64 KiB stack area. */
static struct afork_child *fake_child(void **map, size_t *len)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE), stack = 64 * 1024;
	struct afork_child *c;
	char *m;

	*len = stack + page;
	m = mmap(NULL, *len, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		return NULL;
	*map = m;
	c = (struct afork_child *)(m + stack);
	memset(c, 0, sizeof(*c));
	c->stack_size = stack;
	return c;
}

/* What one thread checks of its copy. */
static void check_copy(struct __test_metadata *_metadata)
{
	uintptr_t tp = test_thread_pointer(), ntp, self = (uintptr_t)pthread_self();
	const uintptr_t *dtv = test_dtv();
	struct afork_child *c;
	struct on_copy o;
	size_t len, i, n;
	void *map;

	c = fake_child(&map, &len);
	ASSERT_NE(NULL, c);
	errno = 4321;
	tls_marker = 7;
	ntp = afork__tls_prepare(c);
	ASSERT_NE(0ul, ntp) {
		TH_LOG("tls.c made no copy of this thread's TLS");
	}
	EXPECT_LT(0ul, c->tls_size);
	EXPECT_GE(ntp, (uintptr_t)c - c->tls_size);
	EXPECT_LT(ntp, (uintptr_t)c);

	memset(&o, 0, sizeof(o));
	run_on_copy(ntp, &o);

	/* Back on our own: nothing of ours changed. */
	EXPECT_EQ(tp, test_thread_pointer());
	EXPECT_EQ(4321, errno);
	EXPECT_EQ(7, tls_marker);

	/* On the copy: the same layout, its own values. */
	EXPECT_EQ(ntp, o.tp);
	EXPECT_EQ(-1, o.close_ret);
	EXPECT_EQ(EBADF, o.err);
	EXPECT_EQ((uintptr_t)errno_here() - tp, (uintptr_t)o.err_addr - ntp);
	EXPECT_EQ(EBADF, *o.err_addr);
	EXPECT_EQ(7, o.marker);
	EXPECT_EQ((uintptr_t)marker_here() - tp, (uintptr_t)o.marker_addr - ntp);
	EXPECT_EQ(99, *o.marker_addr);
	EXPECT_EQ(self - tp, o.self - ntp);
	/* The copy's dtv is its own, its static slots point into the copy. */
	EXPECT_NE(dtv, o.dtv);
	EXPECT_GE((uintptr_t)o.dtv, (uintptr_t)c - c->tls_size);
	EXPECT_LT((uintptr_t)o.dtv, (uintptr_t)c);
	ASSERT_EQ(dtv[-2], o.dtv[-2]);
	n = dtv[-2];
	for (i = 1; i <= n && i < 64; i++) {
		uintptr_t want = dtv[2 * i];

		if (test_in_static_tls(want, tp))
			want = ntp + (want - tp);
		EXPECT_EQ(want, o.dtv[2 * i]);
	}
	munmap(map, len);
}

FIXTURE(tls) {
	int dummy;
};

FIXTURE_SETUP(tls)
{
#ifdef __SANITIZE_ADDRESS__
	SKIP(return, "AddressSanitizer keeps per-thread state of its own");
#endif
	if (getenv("AFORK_TLS") && !strcmp(getenv("AFORK_TLS"), "shared"))
		SKIP(return, "AFORK_TLS=shared");
}

FIXTURE_TEARDOWN(tls)
{
}

/* The main thread on a copy of its TLS. */
TEST_F(tls, main_thread_copy)
{
	check_copy(_metadata);
}

struct thread_run {
	struct __test_metadata *md;
};

static void *thread_check(void *p)
{
	struct thread_run *t = p;

	check_copy(t->md);
	return NULL;
}

/* A thread of pthread_create()'s, whose TLS sits at the top of its stack. */
TEST_F(tls, pthread_copy)
{
	struct thread_run t = { _metadata };
	pthread_t th;

	ASSERT_EQ(0, pthread_create(&th, NULL, thread_check, &t));
	ASSERT_EQ(0, pthread_join(th, NULL));
}

TEST_HARNESS_MAIN
