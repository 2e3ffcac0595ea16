/* SPDX-License-Identifier: MIT */
/*
 * Backend: the afork system call (docs/contracts.md, afork(2)).
 *
 * The kernel does all the work the other backends emulate: it resets caught
 * handlers, starts the child with the mask we pass, clears and wakes the
 * release word and raises POLLPRI on the pidfd at release, and implements
 * AFORK_NOSIGCHLD and AFORK_WAITPID exactly.
 *
 * TLS: the second version of struct afork_args (AFORK_ARGS_SIZE_VER1, 72
 * bytes) adds the child's thread pointer, used with AFORK_SETTLS.  We pass
 * it, with a copy of the caller's TLS (tls.c), only when AFORK_QUERY said
 * the kernel knows a struct of at least that size and AFORK_SETTLS;
 * otherwise the first version, and the child shares the caller's TLS.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <linux/afork.h>	/* from ../uapi, see Makefile */

#include "internal.h"

_Static_assert(sizeof(struct afork_args) == AFORK_ARGS_SIZE_VER1,
	       "struct afork_args changed size: add a new SIZE_VER");
_Static_assert(offsetof(struct afork_args, tls) == AFORK_ARGS_SIZE_VER0,
	       "struct afork_args: the first version is not a prefix");

/* What AFORK_QUERY reported: the kernel's struct size and flags. */
static long query_size;
static uint64_t query_flags;

/*
 * AFORK_QUERY must return a plausible struct size and write back a flag
 * mask with AFORK_QUERY cleared and our flags set, leaving the other
 * fields alone.  Anything else (ENOSYS, another system call that owns the
 * number, a seccomp filter) means absent.
 */
int afork__syscall_probe(void)
{
	const uint64_t need = AFORK_NOSIGCHLD | AFORK_WAITPID | AFORK_PIDFD;
	struct afork_args a;
	long r;

	memset(&a, 0, sizeof(a));
	a.flags = AFORK_QUERY;
	r = sys_afork(&a, sizeof(a));
	if (r < AFORK_ARGS_SIZE_VER0 || r > 4096 || (r & 7))
		return 0;
	if ((a.flags & AFORK_QUERY) || (a.flags & need) != need)
		return 0;
	if (a.pidfd || a.stack || a.stack_size || a.release_word ||
	    a.sigmask || a.sigmask_size)
		return 0;
	query_size = r;
	query_flags = a.flags;
	return 1;
}

/* Does the kernel take the child's thread pointer? */
int afork__syscall_settls(void)
{
	return query_size >= AFORK_ARGS_SIZE_VER1 &&
	       (query_flags & AFORK_SETTLS);
}

int afork__syscall_start(struct afork_child *c, int flags,
			 unsigned int options)
{
	struct afork_args a;
	size_t size = AFORK_ARGS_SIZE_VER0;
	long args[6] = { 0 };
	long r;

	memset(&a, 0, sizeof(a));
	a.flags = (uint64_t)(unsigned int)flags;
	if (afork__syscall_settls()) {
		a.tls = afork__tls_prepare(c);
		if (a.tls) {
			a.flags |= AFORK_SETTLS;
			size = AFORK_ARGS_SIZE_VER1;
		}
	}
	if (options & (AFORK_OPT_PIDFD | AFORK_OPT_RELEASE_FD)) {
		a.flags |= AFORK_PIDFD;
		a.pidfd = (uint64_t)(uintptr_t)&c->pidfd;
	}
	a.stack = (uint64_t)(uintptr_t)afork__stack_base(c);
	a.stack_size = afork__stack_avail(c);
	a.release_word = (uint64_t)(uintptr_t)&c->release;
	a.sigmask = (uint64_t)(uintptr_t)&c->child_mask;
	a.sigmask_size = AFORK_KSIGSET_SIZE;
	if (!(options & AFORK_OPT_SIGMASK))
		c->child_mask = afork__current_mask();

	args[0] = (long)&a;
	args[1] = (long)size;
	r = afork__tramp(__NR_afork, args, afork__child_entry, c);
	if (r < 0)
		return (int)r;
	c->pid = (pid_t)r;
	if (options & AFORK_OPT_RELEASE_FD) {
		c->release_fd = c->pidfd;
		c->release_events = AFORK_POLL_RELEASE;
	}
	return 0;
}
