/* SPDX-License-Identifier: MIT */
/*
 * The thread pointer on glibc AArch64, for tls.c: TLS variant I.
 *
 * The thread pointer (tpidr_el0) points at a 16-byte TCB (tcbhead_t: the
 * dtv, then a word glibc leaves unused), and the static TLS blocks follow
 * it, from the thread pointer up to the size ld.so reports; errno is among
 * them.  glibc's struct pthread sits right below the thread pointer
 * (pthread_self() is tp - sizeof(struct pthread)) and has no pointer to
 * itself that glibc reads back (THREAD_SELF is computed from tp).  The
 * stack-protector canary and the pointer guard are globals on arm64, not
 * in the TCB.  So a copy needs one fix: its dtv pointer, at tp + 0.
 */
#ifndef AFORK_ARCH_AARCH64_TLS_H
#define AFORK_ARCH_AARCH64_TLS_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

/* struct pthread below the thread pointer, the TCB and TLS above. */
#define AFORK_TLS_TCB_AT_TP	0
#define AFORK_TLS_TCB_SIZE	16	/* tcbhead_t */

static inline uintptr_t afork__thread_pointer(void)
{
	uintptr_t tp;

	__asm__("mrs %0, tpidr_el0" : "=r"(tp));
	return tp;
}

/* Does the TCB at @tp look like glibc's (@pthread: its struct pthread size)? */
static inline int afork__tcb_check(uintptr_t tp, size_t pthread)
{
	const uintptr_t *tcb = (const uintptr_t *)tp;

	return tcb[0] && (uintptr_t)pthread_self() == tp - pthread;
}

static inline uintptr_t afork__tcb_dtv(uintptr_t tp)
{
	return ((const uintptr_t *)tp)[0];
}

/* Point the copied TCB at @ntp at its dtv @ndtv. */
static inline void afork__tcb_install(uintptr_t ntp, uintptr_t ndtv)
{
	uintptr_t *tcb = (uintptr_t *)ntp;

	tcb[0] = ndtv;
}

#endif /* AFORK_ARCH_AARCH64_TLS_H */
