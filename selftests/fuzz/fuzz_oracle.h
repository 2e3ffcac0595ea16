/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The fuzzer's oracle: what afork(uargs, size) must return, computed from
 * the arguments and a model of the caller's memory, following the order of
 * checks documented in afork(2) and implemented by the series (patch 0001):
 *
 *   size > PAGE_SIZE                                  E2BIG
 *   size < AFORK_ARGS_SIZE_VER0                       EINVAL
 *   unknown tail: unreadable word (in order)          EFAULT
 *                 non-zero byte (in order)            E2BIG
 *   the known struct unreadable                       EFAULT
 *   AFORK_QUERY: other flags set                      EINVAL
 *                flags not writable                   EFAULT
 *                else                                 sizeof(struct afork_args)
 *   unknown flag                                      EINVAL
 *   stack == 0 or stack_size == 0                     EINVAL
 *   AUTOREAP with WAITPID; tls/cgroup without flag    EINVAL (series v2)
 *   sigmask: sigmask_size != 8                        EINVAL
 *            unreadable                               EFAULT
 *   no sigmask but sigmask_size != 0                  EINVAL
 *   release_word: not 4-byte aligned                  EINVAL
 *                 not writable (nothing stored)       EFAULT
 *   stack + stack_size wraps or > TASK_SIZE_MAX       EINVAL (access_ok)
 *   AFORK_PIDFD, a release word, and pidfd == word    EINVAL (kernel_clone)
 *   AFORK_PIDFD and *pidfd not writable               EFAULT (copy_process)
 *   else                                              a child
 *
 * A bad stack address inside user space is not detectable by the kernel:
 * the child is created and dies of SIGSEGV on its first push.
 *
 * Races: a second thread unmaps a range of pages during the call.  Every
 * user memory access the kernel makes is numbered; the race is modelled by
 * letting accesses from number "flip" on see the range unmapped, and the
 * caller accepts the outcome of any flip.
 */
#ifndef FUZZ_ORACLE_H
#define FUZZ_ORACLE_H

#include <stddef.h>
#include <stdint.h>
#include <linux/afork.h>

enum page_state { PG_UNMAPPED = 0, PG_NONE, PG_R, PG_RW };

struct mem_view {
	uintptr_t base;			/* the arena; nothing else is mapped */
	size_t npages, page;		/* that the kernel could reach */
	const unsigned char *state;	/* enum page_state per page */
	const unsigned char *shadow;	/* contents as written, per byte */
	size_t race_lo, race_hi;	/* pages unmapped by the racer */
	unsigned int flip;		/* first access that sees them gone */
	uint64_t task_size_max;		/* highest valid end of a user range */
};

struct oracle_out {
	long ret;		/* -errno, ksize (AFORK_QUERY) or 1 (a pid) */
	int word_zeroed;	/* the kernel stored 0 in the release word */
	int read_args;		/* args below is what the kernel read */
	uint64_t child_mask;	/* the mask a created child starts with */
	unsigned int accesses;	/* user memory accesses made */
	struct afork_args args;
};

#define ORACLE_CHILD 1L

void oracle_eval(const struct mem_view *m, uintptr_t uargs, uint64_t size,
		 size_t ksize, struct oracle_out *out);

/* Access check of the memory model, for the fuzzer's own use. */
int oracle_accessible(const struct mem_view *m, unsigned int idx,
		      uintptr_t addr, size_t len, int write);

#endif /* FUZZ_ORACLE_H */
