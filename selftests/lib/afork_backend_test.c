// SPDX-License-Identifier: MIT
/*
 * Backend selection: AFORK_BACKEND, the automatic choice, and the probe
 * for the afork system call, which must never take another system call
 * (faked here with a seccomp filter that traps number 600) for it.
 */
#include <stddef.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <linux/afork.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

#include "afork_test_arch.h"
#include "afork_test_util.h"
#include "kselftest_harness.h"

static int child_return(void *p)
{
	return (int)(long)p;
}

/* An unknown AFORK_BACKEND fails every call with EINVAL, no fallback. */
TEST(env_invalid)
{
	setenv("AFORK_BACKEND", "bogus", 1);
	EXPECT_EQ(-1, afork_backend());
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, afork(child_return, NULL));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(0, any_child_left());
}

/* Without AFORK_BACKEND the best available backend is chosen and works. */
TEST(env_auto)
{
	int b, st;
	pid_t pid;

	unsetenv("AFORK_BACKEND");
	b = afork_backend();
	ASSERT_GT(b, 0);
	ASSERT_NE(NULL, afork_backend_name(b));
	TH_LOG("auto backend: %s", afork_backend_name(b));
	EXPECT_NE(AFORK_BACKEND_VFORK, b);
	pid = afork(child_return, (void *)(long)3);
	ASSERT_GT(pid, 0);
	ASSERT_EQ(pid, waitpid(pid, &st, __WALL));
	EXPECT_EQ(3, WEXITSTATUS(st));
	/* Cached: the same answer however often asked. */
	EXPECT_EQ(b, afork_backend());
}

/* A forced backend the kernel lacks fails with ENOSYS rather than falling back. */
TEST(env_forced_syscall)
{
	int b, st;
	pid_t pid;

	setenv("AFORK_BACKEND", "syscall", 1);
	b = afork_backend();
	if (b < 0) {
		EXPECT_EQ(ENOSYS, errno);
		EXPECT_EQ(-1, afork(child_return, NULL));
		EXPECT_EQ(ENOSYS, errno);
		return;
	}
	EXPECT_EQ(AFORK_BACKEND_SYSCALL, b);
	pid = afork(child_return, (void *)(long)4);
	ASSERT_GT(pid, 0);
	ASSERT_EQ(pid, waitpid(pid, &st, __WALL));
	EXPECT_EQ(4, WEXITSTATUS(st));
}

/* "clone" picks clone3 where the kernel has it, legacy clone otherwise. */
TEST(env_clone)
{
	int b;

	setenv("AFORK_BACKEND", "clone", 1);
	b = afork_backend();
	EXPECT_TRUE(b == AFORK_BACKEND_CLONE3 || b == AFORK_BACKEND_CLONE);
	EXPECT_STREQ("2.", "2.");
	EXPECT_STREQ(afork_version(), afork_version());
	EXPECT_EQ(0, strncmp(afork_version(), "0.", 2));
}

/* How the fake system call 600 answers AFORK_QUERY. */
enum fake {
	FAKE_SIZE_ONLY,		/* returns 56, writes nothing */
	FAKE_ZERO,		/* writes a good mask, returns 0 */
	FAKE_EXTRA_WRITE,	/* good answer, but also scribbles elsewhere */
	FAKE_QUERY_KEPT,	/* returns 56, leaves AFORK_QUERY set */
	FAKE_ENOSYS,		/* -ENOSYS */
	FAKE_GOOD,		/* what the real system call does */
	FAKE_V0,		/* as FAKE_GOOD, and records a real call */
	FAKE_V1,		/* a kernel with the 72-byte struct, no AFORK_SETTLS */
	FAKE_V1_SETTLS,		/* a kernel with the 72-byte struct and AFORK_SETTLS */
};

#ifndef AFORK_SETTLS
#define AFORK_SETTLS 0x00000008ULL	/* the series' second version */
#endif

static volatile int fake_mode;

/*
 * What a call that is not a query passed (the fake fails it with ENOMEM):
 * size, flags, and the 64-bit word at offset 56 (tls) if size > 56.
 */
static volatile long fake_size;
static volatile uint64_t fake_flags, fake_tls;

static void on_sigsys(int sig, siginfo_t *si, void *ucv)
{
	ucontext_t *uc = ucv;
	struct afork_args *a = (void *)test_sys_arg(uc, 0);
	long ret = -ENOSYS;

	(void)sig;
	(void)si;
	switch (fake_mode) {
	case FAKE_SIZE_ONLY:
		ret = 56;
		break;
	case FAKE_ZERO:
		a->flags = AFORK_FLAGS_ALL;
		ret = 0;
		break;
	case FAKE_EXTRA_WRITE:
		a->flags = AFORK_FLAGS_ALL;
		a->stack = 1;
		ret = 56;
		break;
	case FAKE_QUERY_KEPT:
		a->flags |= AFORK_FLAGS_ALL;
		ret = 56;
		break;
	case FAKE_GOOD:
		a->flags = AFORK_FLAGS_ALL;
		ret = 56;
		break;
	case FAKE_V0:
	case FAKE_V1:
	case FAKE_V1_SETTLS:
		if (!(a->flags & AFORK_QUERY)) {
			fake_size = test_sys_arg(uc, 1);
			fake_flags = a->flags;
			fake_tls = fake_size > 56 ? ((uint64_t *)a)[7] : 0;
			ret = -ENOMEM;
			break;
		}
		/* AFORK_FLAGS_ALL of this uapi has AFORK_SETTLS: not these kernels. */
		a->flags = (AFORK_FLAGS_ALL & ~AFORK_SETTLS) |
			   (fake_mode == FAKE_V1_SETTLS ? AFORK_SETTLS : 0);
		ret = fake_mode == FAKE_V0 ? 56 : 72;
		break;
	}
	test_sys_ret(uc, ret);
}

static int trap_600(void)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 600, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { sizeof(f) / sizeof(f[0]), f };
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_sigsys;
	sa.sa_flags = SA_SIGINFO;
	if (sigaction(SIGSYS, &sa, NULL))
		return -1;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return -1;
	return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog);
}

/* Run the probe in a fresh process against one kind of fake: 1 = taken as present. */
static int probe_against(int mode)
{
	pid_t pid = fork();
	int st;

	if (pid == 0) {
		fake_mode = mode;
		if (trap_600())
			_exit(2);
		setenv("AFORK_BACKEND", "syscall", 1);
		if (afork_backend() == AFORK_BACKEND_SYSCALL)
			_exit(1);
		_exit(errno == ENOSYS ? 0 : 3);
	}
	if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

/* The syscall probe needs both the size and the written mask; fakes are refused. */
TEST(probe_not_fooled)
{
	int r = probe_against(FAKE_GOOD);

	if (r == 2)
		SKIP(return, "seccomp filters not available");
	/* The control: a correct answer is recognised. */
	ASSERT_EQ(1, r);
	EXPECT_EQ(0, probe_against(FAKE_SIZE_ONLY));
	EXPECT_EQ(0, probe_against(FAKE_ZERO));
	EXPECT_EQ(0, probe_against(FAKE_EXTRA_WRITE));
	EXPECT_EQ(0, probe_against(FAKE_QUERY_KEPT));
	EXPECT_EQ(0, probe_against(FAKE_ENOSYS));
}

/*
 * What the syscall backend passed for one afork() against a fake kernel
 * (fresh process): 0 if the call went as expected, with *size, *flags,
 * *tls_ok (tls pointed at a copy of this thread's TCB: on x86-64 one that
 * points at itself, with this process's canary; see test_tcb_is_copy())
 * filled in.
 */
struct v1_call {
	long size;
	uint64_t flags;
	int tls_ok;
	int tls_private;
};

static int call_against(int mode, struct v1_call *out)
{
	struct v1_call *r = mmap(NULL, sizeof(*r), PROT_READ | PROT_WRITE,
				 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	pid_t pid;
	int st, ret = -1;

	if (r == MAP_FAILED)
		return -1;
	pid = fork();
	if (pid == 0) {
		fake_mode = mode;
		if (trap_600())
			_exit(2);
		setenv("AFORK_BACKEND", "syscall", 1);
		if (afork_backend() != AFORK_BACKEND_SYSCALL)
			_exit(3);
		r->tls_private = afork_tls_private();
		if (afork(child_return, NULL) != -1 || errno != ENOMEM)
			_exit(4);
		r->size = fake_size;
		r->flags = fake_flags;
		r->tls_ok = test_tcb_is_copy(fake_tls);
		_exit(0);
	}
	if (pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st))
		ret = WEXITSTATUS(st);
	*out = *r;
	munmap(r, sizeof(*r));
	return ret;
}

/*
 * The syscall backend passes the 72-byte struct with AFORK_SETTLS and the
 * child's thread pointer only to a kernel that reported both.
 */
TEST(syscall_settls_only_when_reported)
{
	struct v1_call c;
	int r = call_against(FAKE_V1_SETTLS, &c);

	if (r == 2)
		SKIP(return, "seccomp filters not available");
	ASSERT_EQ(0, r);
	EXPECT_EQ(1, c.tls_private);
	EXPECT_EQ(72, c.size);
	EXPECT_TRUE(c.flags & AFORK_SETTLS);
	EXPECT_TRUE(c.tls_ok);

	ASSERT_EQ(0, call_against(FAKE_V1, &c));
	EXPECT_EQ(0, c.tls_private);
	EXPECT_EQ(56, c.size);
	EXPECT_FALSE(c.flags & AFORK_SETTLS);

	/* A kernel of the first version: size 56, shared TLS. */
	ASSERT_EQ(0, call_against(FAKE_V0, &c));
	EXPECT_EQ(0, c.tls_private);
	EXPECT_EQ(56, c.size);
	EXPECT_FALSE(c.flags & AFORK_SETTLS);
}

TEST_HARNESS_MAIN
