// SPDX-License-Identifier: GPL-2.0
/*
 * afork(): the argument structure and flag checks, as clone3 checks its own.
 * None of these calls is meant to create a child; if one does, the child
 * exits at once with status 42 and the test fails.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "afork_selftests.h"
#include "../kselftest_harness.h"

static int child_exit42(void *arg)
{
	return 42;
}

FIXTURE(args) {
	struct afork_args a;
	void *stack;
	long page;
};

FIXTURE_SETUP(args)
{
	self->page = sysconf(_SC_PAGESIZE);
	self->stack = afork_stack_alloc(AFORK_TEST_STACK_SIZE);
	ASSERT_NE(NULL, self->stack);
	memset(&self->a, 0, sizeof(self->a));
	self->a.stack = ptr_to_u64(self->stack);
	self->a.stack_size = AFORK_TEST_STACK_SIZE;
}

FIXTURE_TEARDOWN(args)
{
	munmap(self->stack, AFORK_TEST_STACK_SIZE);
}

/* Call afork() with a buffer of @size bytes; returns -errno or the pid. */
static long call(struct afork_args *a, size_t size)
{
	long ret = afork_run(a, size, child_exit42, NULL);
	int st;

	if (ret > 0)
		waitpid(ret, &st, 0);
	return ret;
}

/* A size smaller than the first published struct is EINVAL. */
TEST_F(args, size_too_small)
{
	EXPECT_EQ(-EINVAL, call(&self->a, 0));
	EXPECT_EQ(-EINVAL, call(&self->a, AFORK_ARGS_SIZE_VER0 - 8));
	EXPECT_EQ(-EINVAL, call(&self->a, AFORK_ARGS_SIZE_VER0 - 1));
}

/* A size past a page is E2BIG, whatever the buffer holds. */
TEST_F(args, size_above_page)
{
	char *buf = calloc(1, 2 * self->page);

	ASSERT_NE(NULL, buf);
	memcpy(buf, &self->a, sizeof(self->a));
	EXPECT_EQ(-E2BIG, call((struct afork_args *)buf, self->page + 8));
	free(buf);
}

/* A larger struct whose unknown tail is zero is accepted. */
TEST_F(args, larger_size_zero_tail)
{
	char *buf = calloc(1, self->page);
	long pid;
	int st;

	ASSERT_NE(NULL, buf);
	memcpy(buf, &self->a, sizeof(self->a));
	pid = afork_run((struct afork_args *)buf, self->page,
			child_exit42, NULL);
	ASSERT_GT(pid, 0);
	ASSERT_EQ(pid, waitpid(pid, &st, 0));
	EXPECT_TRUE(WIFEXITED(st));
	EXPECT_EQ(42, WEXITSTATUS(st));
	free(buf);
}

/* A larger struct with a non-zero byte past the known fields is E2BIG. */
TEST_F(args, larger_size_nonzero_tail)
{
	char *buf = calloc(1, self->page);

	ASSERT_NE(NULL, buf);
	memcpy(buf, &self->a, sizeof(self->a));
	buf[sizeof(self->a) + 3] = 1;
	EXPECT_EQ(-E2BIG, call((struct afork_args *)buf, sizeof(self->a) + 8));
	buf[sizeof(self->a) + 3] = 0;
	buf[self->page - 1] = 1;
	EXPECT_EQ(-E2BIG, call((struct afork_args *)buf, self->page));
	free(buf);
}

/* Unreadable argument memory is EFAULT. */
TEST_F(args, bad_pointer)
{
	void *unmapped = mmap(NULL, self->page, PROT_NONE,
			      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	ASSERT_NE(MAP_FAILED, unmapped);
	EXPECT_EQ(-EFAULT, call(NULL, sizeof(self->a)));
	EXPECT_EQ(-EFAULT, call(unmapped, sizeof(self->a)));
	EXPECT_EQ(-EFAULT, call((void *)-4096L, sizeof(self->a)));
	munmap(unmapped, self->page);
}

/* Every flag bit the kernel does not know is EINVAL, one at a time. */
TEST_F(args, unknown_flags)
{
	int bit;

	for (bit = 0; bit < 64; bit++) {
		__u64 flag = 1ULL << bit;

		if (flag & (AFORK_FLAGS_ALL | AFORK_QUERY))
			continue;
		self->a.flags = flag;
		EXPECT_EQ(-EINVAL, call(&self->a, sizeof(self->a)))
			TH_LOG("flag bit %d accepted", bit);
	}
}

/* A stack is required, and a size without a stack or the reverse is EINVAL. */
TEST_F(args, stack_required)
{
	self->a.stack = 0;
	self->a.stack_size = 0;
	EXPECT_EQ(-EINVAL, call(&self->a, sizeof(self->a)));
	self->a.stack_size = AFORK_TEST_STACK_SIZE;
	EXPECT_EQ(-EINVAL, call(&self->a, sizeof(self->a)));
	self->a.stack = ptr_to_u64(self->stack);
	self->a.stack_size = 0;
	EXPECT_EQ(-EINVAL, call(&self->a, sizeof(self->a)));
}

/* A stack in kernel space is EINVAL. */
TEST_F(args, stack_kernel_address)
{
	self->a.stack = 0xffff880000000000ULL;
	EXPECT_EQ(-EINVAL, call(&self->a, sizeof(self->a)));
}

/* The signal mask must be kernel-sigset sized, and readable. */
TEST_F(args, sigmask_checks)
{
	__u64 mask = 0;

	self->a.sigmask = ptr_to_u64(&mask);
	self->a.sigmask_size = 4;
	EXPECT_EQ(-EINVAL, call(&self->a, sizeof(self->a)));
	self->a.sigmask_size = 16;
	EXPECT_EQ(-EINVAL, call(&self->a, sizeof(self->a)));
	self->a.sigmask = 0;
	self->a.sigmask_size = 8;
	EXPECT_EQ(-EINVAL, call(&self->a, sizeof(self->a)));
	self->a.sigmask = 8;
	EXPECT_EQ(-EFAULT, call(&self->a, sizeof(self->a)));
}

/* The release word must be aligned and writable. */
TEST_F(args, release_word_checks)
{
	__u32 words[2] = { 0, 0 };
	const __u32 *ro = mmap(NULL, self->page, PROT_READ,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	ASSERT_NE(MAP_FAILED, ro);
	self->a.release_word = ptr_to_u64((char *)words + 1);
	EXPECT_EQ(-EINVAL, call(&self->a, sizeof(self->a)));
	self->a.release_word = ptr_to_u64(ro);
	EXPECT_EQ(-EFAULT, call(&self->a, sizeof(self->a)));
	self->a.release_word = 4;
	EXPECT_EQ(-EFAULT, call(&self->a, sizeof(self->a)));
	munmap((void *)ro, self->page);
}

/* AFORK_PIDFD with an unwritable pidfd pointer is EFAULT and leaks no child. */
TEST_F(args, pidfd_bad_pointer)
{
	self->a.flags = AFORK_PIDFD;
	self->a.pidfd = 0;
	EXPECT_EQ(-EFAULT, call(&self->a, sizeof(self->a)));
	self->a.pidfd = 16;
	EXPECT_EQ(-EFAULT, call(&self->a, sizeof(self->a)));
	/* No child was created, so there is nothing to wait for. */
	EXPECT_EQ(-1, waitpid(-1, NULL, WNOHANG | __WALL));
	EXPECT_EQ(ECHILD, errno);
}

/* The pidfd and the release word may not be the same memory. */
TEST_F(args, pidfd_aliases_release_word)
{
	__u32 word;

	self->a.flags = AFORK_PIDFD;
	self->a.pidfd = ptr_to_u64(&word);
	self->a.release_word = ptr_to_u64(&word);
	EXPECT_EQ(-EINVAL, call(&self->a, sizeof(self->a)));
}

/* AFORK_QUERY reports the struct size and the flags, and creates nothing. */
TEST_F(args, query)
{
	struct afork_args q = { .flags = AFORK_QUERY };

	EXPECT_EQ(sizeof(q), sys_afork(&q, sizeof(q)));
	EXPECT_EQ(AFORK_FLAGS_ALL, q.flags);
	EXPECT_EQ(-1, waitpid(-1, NULL, WNOHANG | __WALL));
}

/* AFORK_QUERY combined with any other flag is EINVAL. */
TEST_F(args, query_alone)
{
	struct afork_args q = { .flags = AFORK_QUERY | AFORK_PIDFD };

	EXPECT_EQ(-EINVAL, call(&q, sizeof(q)));
	q.flags = AFORK_QUERY | (1ULL << 40);
	EXPECT_EQ(-EINVAL, call(&q, sizeof(q)));
}

/* AFORK_QUERY into read-only memory is EFAULT. */
TEST_F(args, query_readonly)
{
	struct afork_args *q = mmap(NULL, self->page, PROT_READ | PROT_WRITE,
				    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	ASSERT_NE(MAP_FAILED, q);
	q->flags = AFORK_QUERY;
	ASSERT_EQ(0, mprotect(q, self->page, PROT_READ));
	EXPECT_EQ(-EFAULT, call(q, sizeof(*q)));
	munmap(q, self->page);
}

/* The first published size is still accepted: the v2 fields read as 0. */
TEST_F(args, size_ver0_accepted)
{
	long pid = call(&self->a, AFORK_ARGS_SIZE_VER0);

	EXPECT_GT(pid, 0);
}

/* The second published size, and one between the two, are accepted. */
TEST_F(args, size_ver1_accepted)
{
	EXPECT_EQ(AFORK_ARGS_SIZE_VER1, sizeof(struct afork_args));
	EXPECT_GT(call(&self->a, AFORK_ARGS_SIZE_VER1), 0);
	EXPECT_GT(call(&self->a, AFORK_ARGS_SIZE_VER0 + 8), 0);
}

/* A size that cuts a field in two is accepted, as clone3 accepts it. */
TEST_F(args, size_unaligned)
{
	EXPECT_GT(call(&self->a, AFORK_ARGS_SIZE_VER0 + 1), 0);
}

/* tls without AFORK_SETTLS, cgroup without AFORK_INTO_CGROUP: EINVAL. */
TEST_F(args, v1_fields_need_their_flag)
{
	self->a.tls = 0x1000;
	EXPECT_EQ(-EINVAL, call(&self->a, sizeof(self->a)));
	self->a.tls = 0;
	self->a.cgroup = 3;
	EXPECT_EQ(-EINVAL, call(&self->a, sizeof(self->a)));
}

/* A cgroup fd that is no int is EINVAL, one that is not open EBADF. */
TEST_F(args, into_cgroup_bad_fd)
{
	self->a.flags = AFORK_INTO_CGROUP;
	self->a.cgroup = 1ULL << 32;
	EXPECT_EQ(-EINVAL, call(&self->a, sizeof(self->a)));
	self->a.cgroup = 1000000;
	EXPECT_EQ(-EBADF, call(&self->a, sizeof(self->a)));
}

/* AUTOREAP means no wait at all, WAITPID a named one: EINVAL. */
TEST_F(args, autoreap_with_waitpid)
{
	self->a.flags = AFORK_AUTOREAP | AFORK_WAITPID;
	EXPECT_EQ(-EINVAL, call(&self->a, sizeof(self->a)));
}

/* AFORK_PIDFD_AUTOKILL needs AFORK_PIDFD and AFORK_AUTOREAP, as clone3. */
TEST_F(args, autokill_needs_pidfd_and_autoreap)
{
	int pidfd = -1;

	self->a.flags = AFORK_PIDFD_AUTOKILL | AFORK_AUTOREAP | AFORK_NNP;
	EXPECT_EQ(-EINVAL, call(&self->a, sizeof(self->a)));
	self->a.flags = AFORK_PIDFD_AUTOKILL | AFORK_PIDFD | AFORK_NNP;
	self->a.pidfd = ptr_to_u64(&pidfd);
	EXPECT_EQ(-EINVAL, call(&self->a, sizeof(self->a)));
	EXPECT_EQ(-1, pidfd);
}

/*
 * A failed afork() leaves the release word as it was.  v1 zeroed it
 * before checks that could still fail (here: the stack, and later
 * kernel_clone() itself).
 */
TEST_F(args, failure_leaves_word)
{
	__u32 word = 0x5eed;

	self->a.release_word = ptr_to_u64(&word);
	self->a.stack = 0xffff800000000000ULL;	/* a kernel address */
	EXPECT_EQ(-EINVAL, call(&self->a, sizeof(self->a)));
	EXPECT_EQ(0x5eed, word);

	/* Failing in copy_process(): a cgroup fd that is not a cgroup. */
	self->a.stack = ptr_to_u64(self->stack);
	self->a.flags = AFORK_INTO_CGROUP;
	self->a.cgroup = 0;	/* stdin, not a cgroup2 directory */
	EXPECT_GT(0, call(&self->a, sizeof(self->a)));
	EXPECT_EQ(0x5eed, word);
}

/* A release word in read-only memory is EFAULT, and nothing is created. */
TEST_F(args, release_word_readonly)
{
	__u32 *ro = mmap(NULL, self->page, PROT_READ,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	ASSERT_NE(MAP_FAILED, ro);
	self->a.release_word = ptr_to_u64(ro);
	EXPECT_EQ(-EFAULT, call(&self->a, sizeof(self->a)));
	EXPECT_EQ(-1, waitpid(-1, NULL, WNOHANG | __WALL));
	munmap(ro, self->page);
}

/* QUERY reports every v2 flag and the VER1 size. */
TEST_F(args, query_v2)
{
	struct afork_args q = { .flags = AFORK_QUERY };
	const __u64 v2 = AFORK_SETTLS | AFORK_INTO_CGROUP | AFORK_NNP |
			 AFORK_PIDFD_AUTOKILL | AFORK_AUTOREAP;

	EXPECT_EQ(AFORK_ARGS_SIZE_VER1, sys_afork(&q, sizeof(q)));
	EXPECT_EQ(v2, q.flags & v2);
}

/*
 * QUERY from a caller that knows a larger struct: a zero tail is fine
 * and the other fields are ignored; a non-zero tail is E2BIG.
 */
TEST_F(args, query_larger_size)
{
	__u64 buf[16] = { AFORK_QUERY, 1, 2, 3, 4, 5, 6, 7, 8 };

	EXPECT_EQ(AFORK_ARGS_SIZE_VER1, sys_afork((void *)buf, sizeof(buf)));
	EXPECT_EQ(AFORK_FLAGS_ALL, buf[0]);
	buf[0] = AFORK_QUERY;
	buf[15] = 1;
	EXPECT_EQ(-1, sys_afork((void *)buf, sizeof(buf)));
	EXPECT_EQ(E2BIG, errno);
}

#if defined(__x86_64__)
#ifndef __X32_SYSCALL_BIT
#define __X32_SYSCALL_BIT 0x40000000
#endif
/* The number in arch/x86/entry/syscalls/syscall_32.tbl. */
#define NR_AFORK_I386 600

/*
 * 2.7: the x32 entry.  The struct is all __u64, so x32 shares the 64-bit
 * entry point; called with __X32_SYSCALL_BIT it must answer the query and
 * create a child as the 64-bit call does.
 */
TEST_F(args, x32_entry)
{
	struct afork_args q = { .flags = AFORK_QUERY };
	long ret;
	int st;

	/* x32 at all: getpid() through the same bit. */
	if (syscall(__X32_SYSCALL_BIT | __NR_getpid) != getpid())
		SKIP(return, "kernel without x32 (CONFIG_X86_X32_ABI, syscall.x32)");
	ret = syscall(__X32_SYSCALL_BIT | __NR_afork, &q, sizeof(q));
	EXPECT_EQ(sizeof(q), ret);
	EXPECT_EQ(AFORK_FLAGS_ALL, q.flags);
	ret = raw_call_child(__X32_SYSCALL_BIT | __NR_afork, (long)&self->a,
			     sizeof(self->a), 0, child_exit42, NULL);
	ASSERT_GT(ret, 0);
	ASSERT_EQ(ret, waitpid(ret, &st, 0));
	EXPECT_EQ(42, WEXITSTATUS(st));
}

/* The query through the i386 entry (int $0x80), from a process of ours. */
static long int80_query(struct afork_args *q, long size)
{
	long ret;

	__asm__ volatile ("int $0x80"
			  : "=a"(ret)
			  : "0"((long)NR_AFORK_I386), "b"(q), "c"(size)
			  : "r8", "r9", "r10", "r11", "memory");
	return ret;
}

/*
 * 2.7: the i386 entry (IA32_EMULATION).  int $0x80 takes 32-bit pointers,
 * so the struct sits below 4 GiB.  Without IA32 emulation int $0x80 is a
 * #GP: the probe runs in a child, and a SIGSEGV there means a skip.
 */
TEST_F(args, i386_entry)
{
	struct afork_args *q = mmap(NULL, self->page, PROT_READ | PROT_WRITE,
				    MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT,
				    -1, 0);
	pid_t pid;
	int st;

	ASSERT_NE(MAP_FAILED, q);
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		q->flags = AFORK_QUERY;
		if (int80_query(q, sizeof(*q)) != sizeof(*q))
			_exit(1);
		_exit(q->flags == AFORK_FLAGS_ALL ? 0 : 2);
	}
	ASSERT_EQ(pid, waitpid(pid, &st, 0));
	munmap(q, self->page);
	if (WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV)
		SKIP(return, "kernel without CONFIG_IA32_EMULATION");
	ASSERT_TRUE(WIFEXITED(st));
	EXPECT_EQ(0, WEXITSTATUS(st));
}
#endif

int main(int argc, char **argv)
{
	if (!afork_supported())
		ksft_exit_skip("afork() is not supported by this kernel\n");
	return test_harness_run(argc, argv);
}
