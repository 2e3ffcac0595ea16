/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _AFORK_SELFTESTS_H
#define _AFORK_SELFTESTS_H

#define _GNU_SOURCE
#include <errno.h>
#include <linux/afork.h>
#include <linux/futex.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../kselftest.h"

#ifndef __NR_afork
#define __NR_afork -1
#endif

#ifndef __NR_pidfd_open
#define __NR_pidfd_open 434
#endif

#define ptr_to_u64(ptr) ((__u64)((uintptr_t)(ptr)))

#define AFORK_TEST_STACK_SIZE (64 * 1024)

/*
 * A child of afork() runs in our address space beside the thread that
 * created it and shares that thread's TLS, so it must not touch errno,
 * locks or stdio.  The child side of these tests uses raw system calls.
 *
 * Starting the child on its own stack needs a few instructions of
 * assembly per architecture: x86-64 and arm64 have them.  Elsewhere the
 * tests that run a child are skipped (AFORK_TEST_HAVE_CHILD is 0) and the
 * argument checks still run.
 */
#if defined(__x86_64__)
#define AFORK_TEST_HAVE_CHILD 1

static inline long raw_syscall(long nr, long a1, long a2, long a3, long a4)
{
	register long r10 __asm__("r10") = a4;
	long ret;

	__asm__ volatile ("syscall"
			  : "=a"(ret)
			  : "0"(nr), "D"(a1), "S"(a2), "d"(a3), "r"(r10)
			  : "rcx", "r11", "memory");
	return ret;
}

/*
 * Make system call @nr, one that starts a new task on a new stack with
 * every other register as in the caller (afork(), clone()).  The new task
 * cannot return into C code: it calls fn(arg) from here, with fn and arg
 * kept in r12 and r13 across the system call, and ends with exit(2), its
 * status fn's return value.  In the caller, returns the system call's
 * result.
 */
static inline long raw_call_child(long nr, long a1, long a2, long a3,
				  int (*fn)(void *), void *arg)
{
	register long r10 __asm__("r10") = 0;
	register long r8 __asm__("r8") = 0;
	register void *r12 __asm__("r12") = (void *)fn;
	register void *r13 __asm__("r13") = arg;
	long ret;

	__asm__ volatile ("syscall\n\t"
			  "test %%rax, %%rax\n\t"
			  "jnz 1f\n\t"
			  "xor %%ebp, %%ebp\n\t"
			  "and $-16, %%rsp\n\t"
			  "mov %%r13, %%rdi\n\t"
			  "call *%%r12\n\t"
			  "mov %%eax, %%edi\n\t"
			  "mov %[exit], %%eax\n\t"
			  "syscall\n\t"
			  "hlt\n"
			  "1:"
			  : "=a"(ret)
			  : "0"(nr), "D"(a1), "S"(a2), "d"(a3), "r"(r10), "r"(r8),
			    "r"(r12), "r"(r13), [exit] "i"(__NR_exit)
			  : "rcx", "r11", "memory");
	return ret;
}
#elif defined(__aarch64__)
#define AFORK_TEST_HAVE_CHILD 1

static inline long raw_syscall(long nr, long a1, long a2, long a3, long a4)
{
	register long x8 __asm__("x8") = nr;
	register long x0 __asm__("x0") = a1;
	register long x1 __asm__("x1") = a2;
	register long x2 __asm__("x2") = a3;
	register long x3 __asm__("x3") = a4;

	__asm__ volatile ("svc #0"
			  : "+r"(x0)
			  : "r"(x8), "r"(x1), "r"(x2), "r"(x3)
			  : "memory", "cc");
	return x0;
}

/* As on x86-64; fn and arg ride in x9 and x10, which svc preserves. */
static inline long raw_call_child(long nr, long a1, long a2, long a3,
				  int (*fn)(void *), void *arg)
{
	register long x8 __asm__("x8") = nr;
	register long x0 __asm__("x0") = a1;
	register long x1 __asm__("x1") = a2;
	register long x2 __asm__("x2") = a3;
	register long x3 __asm__("x3") = 0;
	register long x4 __asm__("x4") = 0;
	register void *x9 __asm__("x9") = (void *)fn;
	register void *x10 __asm__("x10") = arg;

	__asm__ volatile ("svc #0\n\t"
			  "cbnz x0, 1f\n\t"
			  "mov x29, xzr\n\t"
			  "mov x30, xzr\n\t"
			  "mov x16, sp\n\t"
			  "and x16, x16, #-16\n\t"
			  "mov sp, x16\n\t"
			  "mov x0, x10\n\t"
			  "blr x9\n\t"
			  "mov x8, %[exit]\n\t"
			  "svc #0\n\t"
			  "brk #0x3e8\n"
			  "1:"
			  : "+r"(x0)
			  : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4),
			    "r"(x9), "r"(x10), [exit] "i"(__NR_exit)
			  : "x16", "memory", "cc");
	return x0;
}
#else
#define AFORK_TEST_HAVE_CHILD 0

static inline long raw_syscall(long nr, long a1, long a2, long a3, long a4)
{
	return -EOPNOTSUPP;
}

static inline long raw_call_child(long nr, long a1, long a2, long a3,
				  int (*fn)(void *), void *arg)
{
	return -EOPNOTSUPP;
}
#endif

/* afork() running fn(arg) in the child; the child's pid, or -errno. */
static inline long afork_run(struct afork_args *args, size_t size,
			     int (*fn)(void *), void *arg)
{
	return raw_call_child(__NR_afork, (long)args, size, 0, fn, arg);
}

/*
 * From inside an afork() child: start another thread of the child
 * (CLONE_VM | CLONE_SIGHAND | CLONE_THREAD, plus @flags) on @stack_top,
 * running fn(arg).  Returns the thread's TID or a negative errno.
 */
static inline long child_start_thread(unsigned long flags, void *stack_top,
				      int (*fn)(void *), void *arg)
{
	return raw_call_child(__NR_clone,
			      CLONE_VM | CLONE_SIGHAND | CLONE_THREAD | flags,
			      (long)stack_top, 0, fn, arg);
}

/* The raw system call, for argument checks: no child is meant to run. */
static inline long sys_afork(struct afork_args *args, size_t size)
{
	return syscall(__NR_afork, args, size);
}

/*
 * Returns 1 when the running kernel has afork() and this architecture can
 * run a child in these tests, 0 otherwise.
 */
static inline int afork_supported(void)
{
	struct afork_args args = { .flags = AFORK_QUERY };
	long ret;

	if (__NR_afork < 0 || !AFORK_TEST_HAVE_CHILD)
		return 0;
	ret = syscall(__NR_afork, &args, sizeof(args));
	return ret >= AFORK_ARGS_SIZE_VER0 &&
	       (args.flags & AFORK_FLAGS_ALL) == AFORK_FLAGS_ALL &&
	       !(args.flags & AFORK_QUERY);
}

static inline void *afork_stack_alloc(size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

/*
 * The arguments most tests use: a stack of AFORK_TEST_STACK_SIZE, a pidfd
 * and a release word.
 */
static inline struct afork_args args_for(void *stack, __u64 flags,
					 __u32 *word, int *pidfd)
{
	struct afork_args a = {
		.flags = flags | AFORK_PIDFD,
		.pidfd = ptr_to_u64(pidfd),
		.stack = ptr_to_u64(stack),
		.stack_size = AFORK_TEST_STACK_SIZE,
		.release_word = ptr_to_u64(word),
	};
	return a;
}

/* Reap @pid; its wait status, or -1. */
static inline int reap(pid_t pid)
{
	int st;

	if (waitpid(pid, &st, 0) != pid)
		return -1;
	return st;
}

/* Child-side helpers: raw, errno-free. */
static inline void child_exit(int status)
{
	raw_syscall(__NR_exit, status, 0, 0, 0);
	__builtin_unreachable();
}

static inline long child_read(int fd, void *buf, size_t len)
{
	return raw_syscall(__NR_read, fd, (long)buf, len, 0);
}

static inline long child_write(int fd, const void *buf, size_t len)
{
	return raw_syscall(__NR_write, fd, (long)buf, len, 0);
}

/* Wait for the child's pidfd to report @events; returns revents or -1. */
static inline int pidfd_wait_events(int pidfd, short events, int timeout_ms)
{
	struct pollfd pfd = { .fd = pidfd, .events = events };
	int ret;

	do {
		ret = poll(&pfd, 1, timeout_ms);
	} while (ret < 0 && errno == EINTR);
	if (ret < 0)
		return -1;
	return ret ? pfd.revents : 0;
}

static inline int sys_pidfd_open(pid_t pid, unsigned int flags)
{
	return syscall(__NR_pidfd_open, pid, flags);
}

static inline long sys_futex_wait(__u32 *word, __u32 val, int op)
{
	return syscall(__NR_futex, word, op, val, NULL, NULL, 0);
}

#endif /* _AFORK_SELFTESTS_H */
