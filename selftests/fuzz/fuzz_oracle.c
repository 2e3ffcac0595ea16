// SPDX-License-Identifier: GPL-2.0
/*
 * The oracle of afork_fuzz: see fuzz_oracle.h for the rules.  Pure
 * computation over the memory model; it never touches the memory itself.
 */
#include <errno.h>
#include <string.h>

#include "fuzz_oracle.h"

#define SIGBIT(s) (1ULL << ((s) - 1))

static int page_state_at(const struct mem_view *m, unsigned int idx, size_t pg)
{
	if (idx >= m->flip && pg >= m->race_lo && pg < m->race_hi)
		return PG_UNMAPPED;
	return m->state[pg];
}

int oracle_accessible(const struct mem_view *m, unsigned int idx,
		      uintptr_t addr, size_t len, int write)
{
	uintptr_t end = addr + len;
	size_t pg, last;

	if (!len)
		return 1;
	/* Only the arena is mapped among the addresses the fuzzer passes. */
	if (addr < m->base || end < addr || end > m->base + m->npages * m->page)
		return 0;
	last = (end - 1 - m->base) / m->page;
	for (pg = (addr - m->base) / m->page; pg <= last; pg++) {
		int s = page_state_at(m, idx, pg);

		if (s != PG_RW && (write || s != PG_R))
			return 0;
	}
	return 1;
}

/* Contents of the shadow at @addr (only called on accessible memory). */
static const unsigned char *at(const struct mem_view *m, uintptr_t addr)
{
	return m->shadow + (addr - m->base);
}

/* check_zeroed_user() of lib/usercopy.c: aligned words, in order. */
static long check_tail(const struct mem_view *m, unsigned int *idx,
		       uintptr_t from, size_t len)
{
	uintptr_t w = from & ~(uintptr_t)7, end = from + len;

	for (; w < end; w += 8) {
		uintptr_t lo = w < from ? from : w;
		uintptr_t hi = w + 8 > end ? end : w + 8;
		uintptr_t b;

		if (!oracle_accessible(m, (*idx)++, w, 8, 0))
			return -EFAULT;
		for (b = lo; b < hi; b++)
			if (*at(m, b))
				return -E2BIG;
	}
	return 0;
}

static long eval(const struct mem_view *m, uintptr_t uargs, uint64_t size,
		 size_t ksize, struct oracle_out *o)
{
	struct afork_args *a = &o->args;
	unsigned int *idx = &o->accesses;
	uint64_t top;
	long r;

	if (size > m->page)
		return -E2BIG;
	if (size < AFORK_ARGS_SIZE_VER0)
		return -EINVAL;
	if (size > ksize) {
		r = check_tail(m, idx, uargs + ksize, size - ksize);
		if (r)
			return r;
	}
	if (!oracle_accessible(m, (*idx)++, uargs,
			       size < ksize ? size : ksize, 0))
		return -EFAULT;
	memset(a, 0, sizeof(*a));
	memcpy(a, at(m, uargs), size < sizeof(*a) ? size : sizeof(*a));
	o->read_args = 1;

	if (a->flags & AFORK_QUERY) {
		if (a->flags != AFORK_QUERY)
			return -EINVAL;
		if (!oracle_accessible(m, (*idx)++, uargs, 8, 1))
			return -EFAULT;
		return (long)ksize;
	}
	if (a->flags & ~AFORK_FLAGS_ALL)
		return -EINVAL;
	if (!a->stack || !a->stack_size)
		return -EINVAL;
	/* Series v2: AUTOREAP with WAITPID, tls and cgroup without their flag. */
	if ((a->flags & AFORK_AUTOREAP) && (a->flags & AFORK_WAITPID))
		return -EINVAL;
	if (!(a->flags & AFORK_SETTLS) && a->tls)
		return -EINVAL;
	if (!(a->flags & AFORK_INTO_CGROUP) && a->cgroup)
		return -EINVAL;
	if (a->sigmask) {
		if (a->sigmask_size != 8)
			return -EINVAL;
		if (!oracle_accessible(m, (*idx)++, (uintptr_t)a->sigmask, 8, 0))
			return -EFAULT;
		memcpy(&o->child_mask, at(m, (uintptr_t)a->sigmask), 8);
	} else if (a->sigmask_size) {
		return -EINVAL;
	} else {
		o->child_mask = ~0ULL;
	}
	/* SIGKILL and SIGSTOP cannot be blocked. */
	o->child_mask &= ~(SIGBIT(9) | SIGBIT(19));
	if (a->release_word) {
		if (a->release_word & 3)
			return -EINVAL;
		if (!oracle_accessible(m, (*idx)++, (uintptr_t)a->release_word,
				       4, 1))
			return -EFAULT;
		/* Series v2: checked, not written; a failed call leaves it. */
	}
	top = a->stack + a->stack_size;
	if (top < a->stack || top > m->task_size_max)
		return -EINVAL;
	if ((a->flags & AFORK_PIDFD) && a->release_word &&
	    a->pidfd == a->release_word)
		return -EINVAL;
	if ((a->flags & AFORK_PIDFD) &&
	    !oracle_accessible(m, (*idx)++, (uintptr_t)a->pidfd, 4, 1))
		return -EFAULT;
	return ORACLE_CHILD;
}

void oracle_eval(const struct mem_view *m, uintptr_t uargs, uint64_t size,
		 size_t ksize, struct oracle_out *out)
{
	memset(out, 0, sizeof(*out));
	out->ret = eval(m, uargs, size, ksize, out);
}
