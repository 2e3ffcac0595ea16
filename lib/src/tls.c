/* SPDX-License-Identifier: MIT */
/*
 * The child's own thread pointer: a copy of the calling thread's static TLS
 * and TCB, made for each child before it starts.
 *
 * On glibc x86-64 the thread pointer (the %fs base) points at the thread's
 * TCB, which is the head of its struct pthread; the static TLS blocks (of
 * the program and of every library loaded at start-up, errno among them)
 * lie right below it.  ld.so tells the size of the whole static area, TCB
 * included, and its alignment through _dl_get_tls_static_info(); libc tells
 * sizeof(struct pthread) for libthread_db as _thread_db_sizeof_pthread.
 * Both are GLIBC_PRIVATE: we refer to them weakly (so that the library
 * still loads where they are missing, and a static program gets them when
 * it has them), read them once, and check that they make sense.
 *
 * For a child, the parent copies the bytes from the lowest static TLS
 * block up to the end of the TCB in one memcpy(), into the top of the
 * child's stack area (right below its struct afork_child), and its dynamic
 * thread vector (dtv) right below that.  Then it points the copy's TCB
 * header at the copy: the words at 0x00 (the TCB's own address, what
 * %fs:0 reads) and 0x10 (struct pthread's self pointer) become the new
 * thread pointer, and 0x08 the copied dtv, whose entries that pointed into
 * the calling thread's static area now point into the copy.  The canary
 * (0x28) and the pointer guard (0x30) are process-wide and stay as they
 * are.  The backend starts the child with that thread pointer
 * (CLONE_SETTLS, or the tls field of the afork system call).
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
 * implausible sizes, a calling thread whose TCB does not point at itself,
 * or a copy that would take more than half of the child's stack or more
 * than AFORK_TLS_MAX -- the child shares the calling thread's TLS as
 * before (afork(3), "Thread-local storage").  Nothing here runs in the
 * child.  Under AddressSanitizer the copy is made too: the runtime's
 * per-thread state in it is the calling thread's, as it was when the
 * child shared that thread's TLS.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* glibc, GLIBC_PRIVATE (see above). */
extern void _dl_get_tls_static_info(size_t *size, size_t *align)
	__attribute__((weak));
extern const unsigned int _thread_db_sizeof_pthread __attribute__((weak));

/* Most bytes a child's copy may take from its stack. */
#define AFORK_TLS_MAX (16u * 1024)

/* The TCB header words the copy fixes (glibc tcbhead_t, x86-64). */
#define TCB_SELF0	0	/* the TCB's own address */
#define TCB_DTV		1	/* the dtv */
#define TCB_SELF2	2	/* struct pthread's self pointer */

/* One dtv slot: the block's address, and what to free (unused here). */
struct dtv_slot {
	uintptr_t val;
	uintptr_t to_free;
};

#define DTV_MAX_SLOTS 1024	/* more than that: not what we expect */

static struct {
	size_t below;		/* static TLS bytes below the TCB */
	size_t tcb;		/* sizeof(struct pthread) */
	size_t align;		/* of the thread pointer */
	int ok;
} layout;

static pthread_once_t tls_once = PTHREAD_ONCE_INIT;

static uintptr_t thread_pointer(void)
{
	uintptr_t tp;

	__asm__("movq %%fs:0, %0" : "=r"(tp));
	return tp;
}

static void tls_init(void)
{
	const unsigned int *tcb_size = &_thread_db_sizeof_pthread;
	const char *env = secure_getenv("AFORK_TLS");
	size_t size = 0, align = 0;

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
	if (*tcb_size < 0x40 || *tcb_size > 8192 || (*tcb_size & 7))
		return;
	if (size <= *tcb_size || size + align > AFORK_TLS_MAX)
		return;
	layout.below = size - *tcb_size;
	layout.tcb = *tcb_size;
	layout.align = align;
	layout.ok = 1;
}

int afork__tls_supported(void)
{
	pthread_once(&tls_once, tls_init);
	return layout.ok;
}

/*
 * Give @c a copy of the calling thread's TLS at the top of its stack area.
 * Returns the child's thread pointer, or 0 (c->tls_size stays 0) when the
 * child must share the caller's.
 */
uintptr_t afork__tls_prepare(struct afork_child *c)
{
	uintptr_t tp = thread_pointer(), top = (uintptr_t)c, ntp, lo, dlo;
	const uintptr_t *tcb = (const uintptr_t *)tp;
	const struct dtv_slot *dtv;
	struct dtv_slot *ndtv;
	size_t nslots, i, need;

	c->tls_size = 0;
	if (!afork__tls_supported())
		return 0;
	if (tcb[TCB_SELF0] != tp || tcb[TCB_SELF2] != tp || !tcb[TCB_DTV])
		return 0;
	/* dtv[-1] holds the number of slots after dtv[0], the generation. */
	dtv = (const struct dtv_slot *)tcb[TCB_DTV];
	nslots = dtv[-1].val;
	if (!nslots || nslots > DTV_MAX_SLOTS)
		return 0;

	ntp = (top - layout.tcb) & ~(uintptr_t)(layout.align - 1);
	lo = ntp - layout.below;
	dlo = (lo - (nslots + 2) * sizeof(*dtv)) & ~(uintptr_t)63;
	need = top - dlo;
	if (need > AFORK_TLS_MAX || need > c->stack_size / 2)
		return 0;

	memcpy((void *)lo, (const void *)(tp - layout.below),
	       layout.below + layout.tcb);
	ndtv = (struct dtv_slot *)dlo + 1;
	memcpy(ndtv - 1, dtv - 1, (nslots + 2) * sizeof(*dtv));
	for (i = 1; i <= nslots; i++) {
		uintptr_t v = ndtv[i].val;

		if (v >= tp - layout.below && v < tp)
			ndtv[i].val = v - tp + ntp;
	}
	((uintptr_t *)ntp)[TCB_SELF0] = ntp;
	((uintptr_t *)ntp)[TCB_DTV] = (uintptr_t)ndtv;
	((uintptr_t *)ntp)[TCB_SELF2] = ntp;
	c->tls_size = need;
	return ntp;
}
