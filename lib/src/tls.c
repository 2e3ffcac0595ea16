/* SPDX-License-Identifier: MIT */
/*
 * The child's own thread pointer: a copy of the calling thread's static TLS
 * and TCB, made for each child before it starts.
 *
 * glibc keeps a thread's static TLS blocks (of the program and of every
 * library loaded at start-up, errno among them), its TCB and its struct
 * pthread in one area around the thread pointer, laid out per architecture
 * (arch/<arch>/tls.h):
 *
 *  - variant II (x86-64): the thread pointer points at the TCB, the head
 *    of struct pthread; the TLS blocks lie right below it;
 *  - variant I (AArch64): the thread pointer points at a 16-byte TCB and
 *    the TLS blocks follow it; struct pthread lies right below it.
 *
 * ld.so tells the size of the static area and its alignment through
 * _dl_get_tls_static_info() (variant II: TLS and struct pthread; variant
 * I: TCB and TLS from the thread pointer up, struct pthread not counted);
 * libc tells sizeof(struct pthread) for libthread_db as
 * _thread_db_sizeof_pthread.  Both are GLIBC_PRIVATE: we refer to them
 * weakly (so that the library still loads where they are missing, and a
 * static program gets them when it has them), read them once, and check
 * that they make sense.
 *
 * For a child, the parent copies the whole area, from its lowest byte
 * (the lowest TLS block, or the start of struct pthread) to its highest,
 * in one memcpy(), into the top of the child's stack area (right below
 * its struct afork_child), and its dynamic thread vector (dtv) right
 * below that.  Then it points the copy's TCB at the copy
 * (afork__tcb_install(): the dtv pointer, and on x86-64 the TCB's self
 * pointers), and the copied dtv's entries that pointed into the calling
 * thread's static TLS blocks now point into the copy.  The canary and the
 * pointer guard are process-wide (in the TCB on x86-64, globals on arm64)
 * and stay as they are.  The backend starts the child with that thread
 * pointer (CLONE_SETTLS, or the tls field of the afork system call).
 *
 * So the child has errno and every other __thread variable to itself,
 * starting from the calling thread's values, and no longer depends on the
 * calling thread staying alive.  What stays shared: the TLS of modules
 * dlopen()ed after start-up (the dtv entries that point outside the static
 * area), and what struct pthread says about the thread (its tid, locks,
 * cancellation state are copies of the calling thread's).
 *
 * AFORK_TLS=shared in the environment (read once, ignored in set-id
 * programs) turns the copy off: the comparison for the benchmark, and a
 * way out should a glibc change its layout in a way the checks miss.
 *
 * Where any of this does not hold -- not glibc (the symbols are missing),
 * implausible sizes, a calling thread whose TCB does not look like
 * glibc's (afork__tcb_check()), an errno outside the static TLS blocks,
 * or a copy that would take more than half of the child's stack or more
 * than AFORK_TLS_MAX -- the child shares the calling thread's TLS as
 * before (afork(3), "Thread-local storage").  Nothing here runs in the
 * child.  Under AddressSanitizer the copy is made too: the runtime's
 * per-thread state in it is the calling thread's, as it was when the
 * child shared that thread's TLS.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include AFORK_ARCH_TLS_H

/* glibc, GLIBC_PRIVATE (see above). */
extern void _dl_get_tls_static_info(size_t *size, size_t *align)
	__attribute__((weak));
extern const unsigned int _thread_db_sizeof_pthread __attribute__((weak));

/* Most bytes a child's copy may take from its stack. */
#define AFORK_TLS_MAX (16u * 1024)

/* One dtv slot: the block's address, and what to free (unused here). */
struct dtv_slot {
	uintptr_t val;
	uintptr_t to_free;
};

#define DTV_MAX_SLOTS 1024	/* more than that: not what we expect */

static struct {
	size_t below;		/* bytes copied below the thread pointer */
	size_t above;		/* bytes copied from the thread pointer up */
	long blk_lo, blk_hi;	/* the static TLS blocks, from the thread pointer */
	size_t pthread;		/* sizeof(struct pthread) */
	size_t align;		/* of the thread pointer */
	int ok;
} layout;

static pthread_once_t tls_once = PTHREAD_ONCE_INIT;

static void tls_init(void)
{
	const unsigned int *tcb_size = &_thread_db_sizeof_pthread;
	const char *env = secure_getenv("AFORK_TLS");
	size_t size = 0, align = 0, pthread;

	if (env && !strcmp(env, "shared"))
		return;
	if (!_dl_get_tls_static_info || !tcb_size)
		return;
	_dl_get_tls_static_info(&size, &align);
	if (align < 16)
		align = 16;
	if (align > 4096 || (align & (align - 1)))
		return;
	/* struct pthread is about 2 KiB; the header alone is 0x40 bytes. */
	pthread = *tcb_size;
	if (pthread < 0x40 || pthread > 8192 || (pthread & 7))
		return;
#if AFORK_TLS_TCB_AT_TP
	/* @size: the TLS blocks below the thread pointer, struct pthread above. */
	if (size <= pthread)
		return;
	layout.below = size - pthread;
	layout.above = pthread;
	layout.blk_lo = -(long)layout.below;
	layout.blk_hi = 0;
#else
	/* @size: the TCB and the TLS blocks above; struct pthread below. */
	if (size <= AFORK_TLS_TCB_SIZE)
		return;
	layout.below = pthread;
	layout.above = size;
	layout.blk_lo = AFORK_TLS_TCB_SIZE;
	layout.blk_hi = (long)size;
#endif
	if (layout.below + layout.above + align > AFORK_TLS_MAX)
		return;
	layout.pthread = pthread;
	layout.align = align;
	layout.ok = 1;
}

int afork__tls_supported(void)
{
	pthread_once(&tls_once, tls_init);
	return layout.ok;
}

/* Does @p lie in the static TLS blocks of the thread at @tp? */
static int in_blocks(uintptr_t p, uintptr_t tp)
{
	return p >= tp + (uintptr_t)layout.blk_lo &&
	       p < tp + (uintptr_t)layout.blk_hi;
}

/*
 * Give @c a copy of the calling thread's TLS at the top of its stack area.
 * Returns the child's thread pointer, or 0 (c->tls_size stays 0) when the
 * child must share the caller's.
 */
uintptr_t afork__tls_prepare(struct afork_child *c)
{
	uintptr_t tp = afork__thread_pointer(), top = (uintptr_t)c, ntp, lo, dlo;
	const struct dtv_slot *dtv;
	struct dtv_slot *ndtv;
	size_t nslots, i, need;

	c->tls_size = 0;
	if (!afork__tls_supported())
		return 0;
	if (!afork__tcb_check(tp, layout.pthread))
		return 0;
	/* The point of the copy: the child's errno must be in it. */
	if (!in_blocks((uintptr_t)&errno, tp))
		return 0;
	/* dtv[-1] holds the number of slots after dtv[0], the generation. */
	dtv = (const struct dtv_slot *)afork__tcb_dtv(tp);
	nslots = dtv[-1].val;
	if (!nslots || nslots > DTV_MAX_SLOTS)
		return 0;

	ntp = (top - layout.above) & ~(uintptr_t)(layout.align - 1);
	lo = ntp - layout.below;
	dlo = (lo - (nslots + 2) * sizeof(*dtv)) & ~(uintptr_t)63;
	need = top - dlo;
	if (need > AFORK_TLS_MAX || need > c->stack_size / 2)
		return 0;

	memcpy((void *)lo, (const void *)(tp - layout.below),
	       layout.below + layout.above);
	ndtv = (struct dtv_slot *)dlo + 1;
	memcpy(ndtv - 1, dtv - 1, (nslots + 2) * sizeof(*dtv));
	for (i = 1; i <= nslots; i++) {
		uintptr_t v = ndtv[i].val;

		if (in_blocks(v, tp))
			ndtv[i].val = v - tp + ntp;
	}
	afork__tcb_install(ntp, (uintptr_t)ndtv);
	c->tls_size = need;
	return ntp;
}
