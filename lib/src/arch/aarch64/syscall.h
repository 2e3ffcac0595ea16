/* SPDX-License-Identifier: MIT */
/*
 * Raw AArch64 system calls for libafork.
 *
 * Every function returns the kernel's result unchanged: a value >= 0 on
 * success, -errno on failure.  Nothing here touches errno, takes a lock or
 * uses thread-local storage, so all of it is safe in an afork child, which
 * may share the parent thread's TLS.  errno is set only at the public API.
 *
 * The number goes in x8, the arguments in x0-x5, the result comes back in
 * x0; svc #0 preserves every other register (and the child of a clone
 * starts with the parent's, x0 = 0).  "cc" because the kernel does not
 * promise the flags.
 */
#ifndef AFORK_ARCH_AARCH64_SYSCALL_H
#define AFORK_ARCH_AARCH64_SYSCALL_H

#ifndef __aarch64__
#error "this header is for AArch64 only"
#endif

#include <stddef.h>
#include <stdint.h>
#include <sys/syscall.h>

static inline long afork__syscall0(long nr)
{
	register long x8 __asm__ ("x8") = nr;
	register long x0 __asm__ ("x0");

	__asm__ volatile ("svc #0"
			  : "=r" (x0)
			  : "r" (x8)
			  : "memory", "cc");
	return x0;
}

static inline long afork__syscall1(long nr, long a1)
{
	register long x8 __asm__ ("x8") = nr;
	register long x0 __asm__ ("x0") = a1;

	__asm__ volatile ("svc #0"
			  : "+r" (x0)
			  : "r" (x8)
			  : "memory", "cc");
	return x0;
}

static inline long afork__syscall2(long nr, long a1, long a2)
{
	register long x8 __asm__ ("x8") = nr;
	register long x0 __asm__ ("x0") = a1;
	register long x1 __asm__ ("x1") = a2;

	__asm__ volatile ("svc #0"
			  : "+r" (x0)
			  : "r" (x8), "r" (x1)
			  : "memory", "cc");
	return x0;
}

static inline long afork__syscall3(long nr, long a1, long a2, long a3)
{
	register long x8 __asm__ ("x8") = nr;
	register long x0 __asm__ ("x0") = a1;
	register long x1 __asm__ ("x1") = a2;
	register long x2 __asm__ ("x2") = a3;

	__asm__ volatile ("svc #0"
			  : "+r" (x0)
			  : "r" (x8), "r" (x1), "r" (x2)
			  : "memory", "cc");
	return x0;
}

static inline long afork__syscall4(long nr, long a1, long a2, long a3,
				   long a4)
{
	register long x8 __asm__ ("x8") = nr;
	register long x0 __asm__ ("x0") = a1;
	register long x1 __asm__ ("x1") = a2;
	register long x2 __asm__ ("x2") = a3;
	register long x3 __asm__ ("x3") = a4;

	__asm__ volatile ("svc #0"
			  : "+r" (x0)
			  : "r" (x8), "r" (x1), "r" (x2), "r" (x3)
			  : "memory", "cc");
	return x0;
}

static inline long afork__syscall5(long nr, long a1, long a2, long a3,
				   long a4, long a5)
{
	register long x8 __asm__ ("x8") = nr;
	register long x0 __asm__ ("x0") = a1;
	register long x1 __asm__ ("x1") = a2;
	register long x2 __asm__ ("x2") = a3;
	register long x3 __asm__ ("x3") = a4;
	register long x4 __asm__ ("x4") = a5;

	__asm__ volatile ("svc #0"
			  : "+r" (x0)
			  : "r" (x8), "r" (x1), "r" (x2), "r" (x3), "r" (x4)
			  : "memory", "cc");
	return x0;
}

static inline long afork__syscall6(long nr, long a1, long a2, long a3,
				   long a4, long a5, long a6)
{
	register long x8 __asm__ ("x8") = nr;
	register long x0 __asm__ ("x0") = a1;
	register long x1 __asm__ ("x1") = a2;
	register long x2 __asm__ ("x2") = a3;
	register long x3 __asm__ ("x3") = a4;
	register long x4 __asm__ ("x4") = a5;
	register long x5 __asm__ ("x5") = a6;

	__asm__ volatile ("svc #0"
			  : "+r" (x0)
			  : "r" (x8), "r" (x1), "r" (x2), "r" (x3), "r" (x4),
			    "r" (x5)
			  : "memory", "cc");
	return x0;
}

/*
 * Legacy clone() takes its last two arguments the other way round on
 * arm64 (CONFIG_CLONE_BACKWARDS): clone(flags, stack, parent_tid, tls,
 * child_tid).  The slots of args[] for afork__tramp(__NR_clone, ...).
 */
#define AFORK_CLONE_ARG_TLS	3
#define AFORK_CLONE_ARG_CTID	4

/* The kernel's sigset_t: 64 signals, 8 bytes on arm64. */
#define AFORK_KSIGSET_SIZE 8

/*
 * The kernel's struct sigaction on arm64 (asm-generic, with SA_RESTORER:
 * handler, flags, restorer, mask), the same as on x86-64.  Only used to
 * read a handler and to set SIG_DFL, so no restorer is ever needed.
 */
struct afork_ksigaction {
	void *handler;
	unsigned long flags;
	void *restorer;
	uint64_t mask;
};

#endif /* AFORK_ARCH_AARCH64_SYSCALL_H */
