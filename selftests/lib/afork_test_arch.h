/* SPDX-License-Identifier: MIT */
/*
 * What the libafork tests know of the architecture and of glibc's thread
 * layout there (the library's own view is lib/src/arch/<arch>/tls.h):
 * the stack-protector canary, the thread pointer and the dtv, the
 * registers of a system call trapped by seccomp, the seccomp arch.
 */
#ifndef AFORK_TEST_ARCH_H
#define AFORK_TEST_ARCH_H

#include <stdint.h>
#include <ucontext.h>
#include <linux/audit.h>

#if defined(__x86_64__)

#include <asm/prctl.h>
#include <sys/syscall.h>

#define TEST_AUDIT_ARCH AUDIT_ARCH_X86_64

/* The stack-protector canary of the running thread (glibc TCB, %fs:0x28). */
static inline unsigned long test_canary(void)
{
	unsigned long v;

	__asm__ volatile("movq %%fs:0x28, %0" : "=r"(v));
	return v;
}

/* glibc's TCB: its own address at %fs:0, the dtv at %fs:8. */
static inline uintptr_t test_thread_pointer(void)
{
	uintptr_t tp;

	__asm__ volatile("movq %%fs:0, %0" : "=r"(tp));
	return tp;
}

static inline const uintptr_t *test_dtv(void)
{
	const uintptr_t *dtv;

	__asm__ volatile("movq %%fs:8, %0" : "=r"(dtv));
	return dtv;
}

/* Switch this thread to another thread pointer: arch_prctl(ARCH_SET_FS). */
static inline void test_set_thread_pointer(uintptr_t tp)
{
	long ret;

	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "0"((long)__NR_arch_prctl), "D"((long)ARCH_SET_FS),
			   "S"(tp)
			 : "rcx", "r11", "memory");
	(void)ret;
}

/*
 * Static TLS lies below the thread pointer (variant II): does dtv slot
 * value @v point into it?
 */
static inline int test_in_static_tls(uintptr_t v, uintptr_t tp)
{
	return v < tp && tp - v < 65536;
}

/*
 * Is @tls, a child's thread pointer, a copy of this thread's TCB: one
 * that points at itself (0x00 and struct pthread's self, 0x10), with
 * this process's canary (0x28)?
 */
static inline int test_tcb_is_copy(uint64_t tls)
{
	const uint64_t *t = (const uint64_t *)(uintptr_t)tls;

	return tls && t[0] == tls && t[2] == tls && t[5] == test_canary();
}

/* Argument @i and the result of a system call trapped with SECCOMP_RET_TRAP. */
static inline long test_sys_arg(const ucontext_t *uc, int i)
{
	static const int reg[6] = {
		REG_RDI, REG_RSI, REG_RDX, REG_R10, REG_R8, REG_R9,
	};

	return (long)uc->uc_mcontext.gregs[reg[i]];
}

static inline void test_sys_ret(ucontext_t *uc, long ret)
{
	uc->uc_mcontext.gregs[REG_RAX] = ret;
}

#elif defined(__aarch64__)

#define TEST_AUDIT_ARCH AUDIT_ARCH_AARCH64

/* The stack-protector canary: on arm64 a global of glibc's, not in the TCB. */
extern uintptr_t __stack_chk_guard;

static inline unsigned long test_canary(void)
{
	return *(volatile uintptr_t *)&__stack_chk_guard;
}

/* tpidr_el0 points at glibc's 16-byte TCB: the dtv, then an unused word. */
static inline uintptr_t test_thread_pointer(void)
{
	uintptr_t tp;

	__asm__ volatile("mrs %0, tpidr_el0" : "=r"(tp));
	return tp;
}

static inline const uintptr_t *test_dtv(void)
{
	return *(const uintptr_t *const *)test_thread_pointer();
}

/* Switch this thread to another thread pointer. */
static inline void test_set_thread_pointer(uintptr_t tp)
{
	__asm__ volatile("msr tpidr_el0, %0" : : "r"(tp) : "memory");
}

/*
 * Static TLS lies above the thread pointer (variant I), after the TCB:
 * does dtv slot value @v point into it?
 */
static inline int test_in_static_tls(uintptr_t v, uintptr_t tp)
{
	return v >= tp + 16 && v - tp < 65536;
}

/*
 * Is @tls, a child's thread pointer, a copy of this thread's TCB: not
 * ours, with a dtv of its own that has as many slots as ours?
 */
static inline int test_tcb_is_copy(uint64_t tls)
{
	const uintptr_t *ndtv, *dtv = test_dtv();

	if (!tls || tls == test_thread_pointer())
		return 0;
	ndtv = *(const uintptr_t *const *)(uintptr_t)tls;
	return ndtv && ndtv != dtv && ndtv[-2] == dtv[-2];
}

/*
 * Argument @i and the result of a system call trapped with
 * SECCOMP_RET_TRAP (x0 holds the first argument again: the kernel rolls
 * the registers back before it raises SIGSYS).
 */
static inline long test_sys_arg(const ucontext_t *uc, int i)
{
	return (long)uc->uc_mcontext.regs[i];
}

static inline void test_sys_ret(ucontext_t *uc, long ret)
{
	uc->uc_mcontext.regs[0] = (unsigned long)ret;
}

#else
#error "the libafork tests know x86-64 and AArch64"
#endif

#endif /* AFORK_TEST_ARCH_H */
