/* SPDX-License-Identifier: MIT */
/*
 * The thread pointer on glibc x86-64, for tls.c: TLS variant II.
 *
 * The thread pointer (the %fs base) points at the thread's TCB, which is
 * the head of its struct pthread (tcbhead_t); the static TLS blocks lie
 * right below it.  The header words tls.c fixes in a copy: 0x00 (the
 * TCB's own address, what %fs:0 reads), 0x08 (the dtv) and 0x10 (struct
 * pthread's self pointer).  The canary (0x28) and the pointer guard (0x30)
 * are process-wide and stay as they are.
 */
#ifndef AFORK_ARCH_X86_64_TLS_H
#define AFORK_ARCH_X86_64_TLS_H

#include <stddef.h>
#include <stdint.h>

/* The TCB (all of struct pthread) is at the thread pointer, TLS below. */
#define AFORK_TLS_TCB_AT_TP	1

static inline uintptr_t afork__thread_pointer(void)
{
	uintptr_t tp;

	__asm__("movq %%fs:0, %0" : "=r"(tp));
	return tp;
}

/* Does the TCB at @tp look like glibc's (@pthread: its struct pthread size)? */
static inline int afork__tcb_check(uintptr_t tp, size_t pthread)
{
	const uintptr_t *tcb = (const uintptr_t *)tp;

	(void)pthread;
	return tcb[0] == tp && tcb[2] == tp && tcb[1];
}

static inline uintptr_t afork__tcb_dtv(uintptr_t tp)
{
	return ((const uintptr_t *)tp)[1];
}

/* Point the copied TCB at @ntp at itself and at its dtv @ndtv. */
static inline void afork__tcb_install(uintptr_t ntp, uintptr_t ndtv)
{
	uintptr_t *tcb = (uintptr_t *)ntp;

	tcb[0] = ntp;
	tcb[1] = ndtv;
	tcb[2] = ntp;
}

#endif /* AFORK_ARCH_X86_64_TLS_H */
