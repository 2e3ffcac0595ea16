/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Raw system calls for the afork fuzzers, usable in an afork() child: they
 * return -errno, never touch errno, take no lock and do not allocate.
 * x86-64 and AArch64.
 */
#ifndef FUZZ_SYS_H
#define FUZZ_SYS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <linux/afork.h>

#ifndef __NR_afork
#define __NR_afork 600		/* docs/contracts.md */
#endif
#ifndef __NR_pidfd_open
#define __NR_pidfd_open 434
#endif
#ifndef __NR_pidfd_send_signal
#define __NR_pidfd_send_signal 424
#endif
#ifndef P_PIDFD
#define P_PIDFD 3
#endif

#define u64_of(p) ((uint64_t)(uintptr_t)(p))

#if defined(__x86_64__)
static inline long raw6(long nr, long a1, long a2, long a3, long a4, long a5,
			long a6)
{
	register long r10 __asm__("r10") = a4;
	register long r8 __asm__("r8") = a5;
	register long r9 __asm__("r9") = a6;
	long ret;

	__asm__ volatile ("syscall"
			  : "=a"(ret)
			  : "0"(nr), "D"(a1), "S"(a2), "d"(a3), "r"(r10),
			    "r"(r8), "r"(r9)
			  : "rcx", "r11", "memory");
	return ret;
}
#elif defined(__aarch64__)
static inline long raw6(long nr, long a1, long a2, long a3, long a4, long a5,
			long a6)
{
	register long x8 __asm__("x8") = nr;
	register long x0 __asm__("x0") = a1;
	register long x1 __asm__("x1") = a2;
	register long x2 __asm__("x2") = a3;
	register long x3 __asm__("x3") = a4;
	register long x4 __asm__("x4") = a5;
	register long x5 __asm__("x5") = a6;

	__asm__ volatile ("svc #0"
			  : "+r"(x0)
			  : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x5)
			  : "memory", "cc");
	return x0;
}
#else
#error "the afork fuzzers know x86-64 and AArch64"
#endif

#define raw0(nr)		raw6(nr, 0, 0, 0, 0, 0, 0)
#define raw1(nr, a)		raw6(nr, (long)(a), 0, 0, 0, 0, 0)
#define raw2(nr, a, b)		raw6(nr, (long)(a), (long)(b), 0, 0, 0, 0)
#define raw3(nr, a, b, c)	raw6(nr, (long)(a), (long)(b), (long)(c), 0, 0, 0)
#define raw4(nr, a, b, c, d)	raw6(nr, (long)(a), (long)(b), (long)(c), \
				     (long)(d), 0, 0)

/*
 * afork() returns 0 in the child on the new stack with every other
 * register as in the parent, so the child cannot return into C code: the
 * asm calls fn(arg) there (fn and arg ride in registers the kernel copies:
 * r8/r9 on x86-64, x9/x10 on arm64) and exits with fn's return value.
 * The parent gets the system call's result: a pid, the AFORK_QUERY size,
 * or -errno.
 */
#if defined(__x86_64__)
static inline long fuzz_afork(void *uargs, size_t size, int (*fn)(void *),
			      void *arg)
{
	register void *r8 __asm__("r8") = (void *)fn;
	register void *r9 __asm__("r9") = arg;
	long ret;

	__asm__ volatile ("syscall\n\t"
			  "test %%rax, %%rax\n\t"
			  "jnz 1f\n\t"
			  "xor %%ebp, %%ebp\n\t"
			  "and $-16, %%rsp\n\t"
			  "mov %%r9, %%rdi\n\t"
			  "call *%%r8\n\t"
			  "mov %%eax, %%edi\n\t"
			  "mov %[exit], %%eax\n\t"
			  "syscall\n\t"
			  "hlt\n"
			  "1:"
			  : "=a"(ret)
			  : "0"((long)__NR_afork), "D"(uargs), "S"(size),
			    "r"(r8), "r"(r9), [exit] "i"(__NR_exit_group)
			  : "rcx", "r11", "memory");
	return ret;
}
#elif defined(__aarch64__)
static inline long fuzz_afork(void *uargs, size_t size, int (*fn)(void *),
			      void *arg)
{
	register long x8 __asm__("x8") = __NR_afork;
	register long x0 __asm__("x0") = (long)uargs;
	register long x1 __asm__("x1") = (long)size;
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
			  : "r"(x8), "r"(x1), "r"(x9), "r"(x10),
			    [exit] "i"(__NR_exit_group)
			  : "x16", "memory", "cc");
	return x0;
}
#endif

/* The kernel's struct sigaction on x86-64 and arm64 (SA_RESTORER). */
struct fuzz_ksigaction {
	void *handler;
	unsigned long flags;
	void *restorer;
	uint64_t mask;
};

static inline uint32_t load32(const volatile uint32_t *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static inline void store32(volatile uint32_t *p, uint32_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
}

/* FUTEX_WAIT (shared) for *w to leave @val; returns -errno or 0. */
static inline long futex_wait(volatile uint32_t *w, uint32_t val,
			      const void *timeout)
{
	return raw4(__NR_futex, w, 0 /* FUTEX_WAIT */, val, timeout);
}

static inline long futex_wake(volatile uint32_t *w)
{
	return raw3(__NR_futex, w, 1 /* FUTEX_WAKE */, 0x7fffffff);
}

#endif /* FUZZ_SYS_H */
