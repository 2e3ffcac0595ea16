/* SPDX-License-Identifier: MIT */
/*
 * Raw x86-64 system calls for libafork.
 *
 * Every function returns the kernel's result unchanged: a value >= 0 on
 * success, -errno on failure.  Nothing here touches errno, takes a lock or
 * uses thread-local storage, so all of it is safe in an afork child, which
 * shares the parent thread's TLS.  errno is set only at the public API.
 */
#ifndef AFORK_ARCH_X86_64_SYSCALL_H
#define AFORK_ARCH_X86_64_SYSCALL_H

#ifndef __x86_64__
#error "this header is for x86-64 only"
#endif

#include <stddef.h>
#include <stdint.h>
#include <sys/syscall.h>

static inline long afork__syscall0(long nr)
{
	long ret;

	__asm__ volatile ("syscall"
			  : "=a" (ret)
			  : "a" (nr)
			  : "rcx", "r11", "memory");
	return ret;
}

static inline long afork__syscall1(long nr, long a1)
{
	long ret;

	__asm__ volatile ("syscall"
			  : "=a" (ret)
			  : "a" (nr), "D" (a1)
			  : "rcx", "r11", "memory");
	return ret;
}

static inline long afork__syscall2(long nr, long a1, long a2)
{
	long ret;

	__asm__ volatile ("syscall"
			  : "=a" (ret)
			  : "a" (nr), "D" (a1), "S" (a2)
			  : "rcx", "r11", "memory");
	return ret;
}

static inline long afork__syscall3(long nr, long a1, long a2, long a3)
{
	long ret;

	__asm__ volatile ("syscall"
			  : "=a" (ret)
			  : "a" (nr), "D" (a1), "S" (a2), "d" (a3)
			  : "rcx", "r11", "memory");
	return ret;
}

static inline long afork__syscall4(long nr, long a1, long a2, long a3,
				   long a4)
{
	register long r10 __asm__ ("r10") = a4;
	long ret;

	__asm__ volatile ("syscall"
			  : "=a" (ret)
			  : "a" (nr), "D" (a1), "S" (a2), "d" (a3), "r" (r10)
			  : "rcx", "r11", "memory");
	return ret;
}

static inline long afork__syscall5(long nr, long a1, long a2, long a3,
				   long a4, long a5)
{
	register long r10 __asm__ ("r10") = a4;
	register long r8 __asm__ ("r8") = a5;
	long ret;

	__asm__ volatile ("syscall"
			  : "=a" (ret)
			  : "a" (nr), "D" (a1), "S" (a2), "d" (a3), "r" (r10),
			    "r" (r8)
			  : "rcx", "r11", "memory");
	return ret;
}

static inline long afork__syscall6(long nr, long a1, long a2, long a3,
				   long a4, long a5, long a6)
{
	register long r10 __asm__ ("r10") = a4;
	register long r8 __asm__ ("r8") = a5;
	register long r9 __asm__ ("r9") = a6;
	long ret;

	__asm__ volatile ("syscall"
			  : "=a" (ret)
			  : "a" (nr), "D" (a1), "S" (a2), "d" (a3), "r" (r10),
			    "r" (r8), "r" (r9)
			  : "rcx", "r11", "memory");
	return ret;
}

/*
 * Legacy clone() on x86-64: clone(flags, stack, parent_tid, child_tid,
 * tls).  The slots of args[] for afork__tramp(__NR_clone, ...).
 */
#define AFORK_CLONE_ARG_CTID	3
#define AFORK_CLONE_ARG_TLS	4

/* The kernel's sigset_t: 64 signals, 8 bytes on x86-64. */
#define AFORK_KSIGSET_SIZE 8

/*
 * The kernel's struct sigaction on x86-64 (handler, flags, restorer, mask),
 * which differs from glibc's.  Only used to read a handler and to set
 * SIG_DFL, so no restorer is ever needed.
 */
struct afork_ksigaction {
	void *handler;
	unsigned long flags;
	void *restorer;
	uint64_t mask;
};

#endif /* AFORK_ARCH_X86_64_SYSCALL_H */
