/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
#ifndef _UAPI_LINUX_AFORK_H
#define _UAPI_LINUX_AFORK_H

#include <linux/types.h>

/*
 * Flags for struct afork_args::flags.
 *
 * AFORK_NOSIGCHLD and AFORK_WAITPID carry the values of illumos'
 * FORK_NOSIGCHLD and FORK_WAITPID.  The flags from AFORK_SETTLS on
 * mean what the clone3() flag of the same name means.
 */
#define AFORK_NOSIGCHLD	0x00000001ULL	/* No SIGCHLD to the parent on exit. */
#define AFORK_WAITPID	0x00000002ULL	/* Reaped only by a wait naming it. */
#define AFORK_PIDFD	0x00000004ULL	/* Store a pidfd at args->pidfd. */
#define AFORK_SETTLS	0x00000008ULL	/* Thread pointer from args->tls. */
#define AFORK_INTO_CGROUP 0x00000010ULL	/* Start in the cgroup args->cgroup. */
#define AFORK_NNP	0x00000020ULL	/* Set no_new_privs in the child. */
#define AFORK_PIDFD_AUTOKILL 0x00000040ULL /* SIGKILL when the pidfd closes. */
#define AFORK_AUTOREAP	0x00000080ULL	/* Reaped on exit, no wait, no signal. */
#define AFORK_QUERY	0x8000000000000000ULL /* Report features, create nothing. */

/* Every flag this version of the header knows, AFORK_QUERY excepted. */
#define AFORK_FLAGS_ALL	(AFORK_NOSIGCHLD | AFORK_WAITPID | AFORK_PIDFD | \
			 AFORK_SETTLS | AFORK_INTO_CGROUP | AFORK_NNP | \
			 AFORK_PIDFD_AUTOKILL | AFORK_AUTOREAP)

/*
 * Poll event reported on the child's pidfd once the child has released
 * the parent's address space: its execve() committed, or it and every
 * thread it started have exited.  It stays reported from then on, after
 * the child is reaped too.  Exit is still reported as EPOLLIN; a reaped
 * child reports EPOLLHUP.
 */
#define AFORK_POLL_RELEASE	0x002	/* EPOLLPRI */

/**
 * struct afork_args - arguments for the afork() system call
 * @flags:        AFORK_* flags.
 * @pidfd:        With AFORK_PIDFD, a pointer to an int where the kernel
 *                stores a close-on-exec pidfd for the child.
 * @stack:        Lowest address of the child's stack (required).
 * @stack_size:   Size of the child's stack in bytes (required).
 * @release_word: Zero, or a pointer to a naturally aligned __u32.  The
 *                kernel stores the child's TID there before the child
 *                runs, and stores 0 and wakes every futex waiter on it
 *                (FUTEX_WAKE, private and shared) when the child releases
 *                the parent's address space.  Both stores happen before
 *                the pidfd reports the release; a failed afork() leaves
 *                the word untouched.
 * @sigmask:      Zero, or a pointer to the signal mask the child starts
 *                with.  Zero means every signal is blocked.
 * @sigmask_size: Size of *@sigmask, which must be sizeof(sigset_t) of the
 *                kernel (8 on x86-64), or zero when @sigmask is zero.
 * @tls:          With AFORK_SETTLS, the child's thread pointer, as
 *                clone3()'s @tls with CLONE_SETTLS.
 * @cgroup:       With AFORK_INTO_CGROUP, a file descriptor of a cgroup2
 *                directory the child starts in, as clone3()'s @cgroup.
 *
 * The structure is versioned by size and thus extensible.  New members
 * must only be added to the end and the kernel rejects a larger structure
 * whose unknown tail is not zero.
 *
 * With AFORK_QUERY set alone, afork() creates no process: it stores the
 * flags the kernel supports in @flags and returns sizeof(struct afork_args)
 * as known to the kernel.
 */
struct afork_args {
	__aligned_u64 flags;
	__aligned_u64 pidfd;
	__aligned_u64 stack;
	__aligned_u64 stack_size;
	__aligned_u64 release_word;
	__aligned_u64 sigmask;
	__aligned_u64 sigmask_size;
	__aligned_u64 tls;
	__aligned_u64 cgroup;
};

#define AFORK_ARGS_SIZE_VER0 56 /* sizeof first published struct */
#define AFORK_ARGS_SIZE_VER1 72 /* sizeof second published struct */

#endif /* _UAPI_LINUX_AFORK_H */
