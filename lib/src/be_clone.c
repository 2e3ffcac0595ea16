/* SPDX-License-Identifier: MIT */
/*
 * Backends: clone3() and legacy clone() with CLONE_VM and no CLONE_VFORK
 * (except under a debugger, see tracer.c).
 *
 * Release word: CLONE_CHILD_CLEARTID makes the kernel store 0 and
 * FUTEX_WAKE the word in mm_release(), which runs both when the child's
 * exec commits and when it exits.  clone3 also stores the TID there first
 * (CLONE_PARENT_SETTID); legacy clone leaves our non-zero marker.
 *
 * Signals: clone3 has CLONE_CLEAR_SIGHAND (Linux 5.5), so the child starts
 * with the caller's mask and default handlers, and we need not block
 * anything unless the child is to get another mask (AFORK_OPT_SIGMASK):
 * then every signal is blocked around the call, as for legacy clone.  Legacy clone copies the caller's handlers: we block every
 * signal (raw, so glibc's internal ones too) around the call, and the child
 * resets its caught handlers before it unblocks.
 *
 * TLS: the child gets a copy of the caller's static TLS and TCB at the top
 * of its stack area (tls.c) and starts on it with CLONE_SETTLS; where no
 * copy can be made it shares the caller's.
 *
 * Flags: Linux can only hide a child from SIGCHLD and from wait(-1) by
 * giving it exit_signal 0, which does both at once and also hides it from
 * waits without __WALL/__WCLONE.  So AFORK_NOSIGCHLD and AFORK_WAITPID each
 * give exit_signal 0 here; see afork(3) for the consequences.
 *
 * Release fd (AFORK_OPT_RELEASE_FD): a close-on-exec pipe whose write end
 * only the child keeps, so its read end sees EOF on exec or exit.  While
 * the write end is open in the parent (pipe2 ... clone ... close) any other
 * child created meanwhile would inherit it and hold back our EOF, so that
 * window is exclusive: creators without a pipe take fdwin_lock shared,
 * creators with one take it exclusive, and fork() in another thread waits
 * for it (pthread_atfork).  Other creators of processes (posix_spawn,
 * vfork, raw clone, the vfork backend) do not know the lock: a child of
 * theirs started inside the window delays our EOF until it execs or exits.
 */
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

#ifndef CLONE_PIDFD
#define CLONE_PIDFD 0x00001000
#endif
#ifndef CLONE_CLEAR_SIGHAND
#define CLONE_CLEAR_SIGHAND 0x100000000ULL
#endif

/* struct clone_args up to CLONE_ARGS_SIZE_VER0 (Linux 5.3). */
struct afork_clone_args {
	uint64_t flags;
	uint64_t pidfd;
	uint64_t child_tid;
	uint64_t parent_tid;
	uint64_t exit_signal;
	uint64_t stack;
	uint64_t stack_size;
	uint64_t tls;
};

static pthread_rwlock_t fdwin_lock;
static pthread_once_t fdwin_once = PTHREAD_ONCE_INIT;

static void fdwin_init(void)
{
	pthread_rwlockattr_t a;

	pthread_rwlockattr_init(&a);
	pthread_rwlockattr_setkind_np(&a,
		PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&fdwin_lock, &a);
	pthread_rwlockattr_destroy(&a);
}

void afork__atfork_clone(int phase)
{
	pthread_once(&fdwin_once, fdwin_init);
	switch (phase) {
	case AFORK_ATFORK_PREPARE:
		pthread_rwlock_rdlock(&fdwin_lock);
		break;
	case AFORK_ATFORK_PARENT:
		pthread_rwlock_unlock(&fdwin_lock);
		break;
	case AFORK_ATFORK_CHILD:
		fdwin_init();
		break;
	}
}

/* clone3(NULL, 0) fails with EINVAL where clone3 exists, ENOSYS where not. */
int afork__clone3_probe(void)
{
	return sys_clone3(NULL, 0) == -EINVAL;
}

static long do_clone3(struct afork_child *c, int exit_signal, int pidfd,
		      uintptr_t tls, int vfork)
{
	struct afork_clone_args ca;
	long args[6] = { 0 };

	memset(&ca, 0, sizeof(ca));
	ca.flags = CLONE_VM | CLONE_CLEAR_SIGHAND | CLONE_CHILD_CLEARTID |
		   CLONE_PARENT_SETTID | (vfork ? CLONE_VFORK : 0);
	if (tls) {
		ca.flags |= CLONE_SETTLS;
		ca.tls = tls;
	}
	if (pidfd) {
		ca.flags |= CLONE_PIDFD;
		ca.pidfd = (uint64_t)(uintptr_t)&c->pidfd;
	}
	ca.child_tid = (uint64_t)(uintptr_t)&c->release;
	ca.parent_tid = (uint64_t)(uintptr_t)&c->release;
	ca.exit_signal = (uint64_t)exit_signal;
	ca.stack = (uint64_t)(uintptr_t)afork__stack_base(c);
	ca.stack_size = afork__stack_avail(c);
	args[0] = (long)&ca;
	args[1] = sizeof(ca);
	return afork__tramp(__NR_clone3, args, afork__child_entry, c);
}

static long do_clone(struct afork_child *c, int exit_signal, int pidfd,
		     unsigned int options, uintptr_t tls, int vfork)
{
	uint64_t all = ~0ull, old = 0;
	long args[6] = { 0 };
	long r;

	c->reset_handlers = 1;
	c->set_mask = 1;
	sys_sigprocmask(SIG_SETMASK, &all, &old);
	if (!(options & AFORK_OPT_SIGMASK))
		c->child_mask = old;
	args[0] = CLONE_VM | CLONE_CHILD_CLEARTID | (exit_signal & 0xff) |
		  (pidfd ? CLONE_PIDFD : 0) | (tls ? CLONE_SETTLS : 0) |
		  (vfork ? CLONE_VFORK : 0);
	args[1] = (long)afork__stack_top(c);
	args[2] = pidfd ? (long)&c->pidfd : 0;	/* CLONE_PIDFD's slot */
	args[AFORK_CLONE_ARG_CTID] = (long)&c->release;
	args[AFORK_CLONE_ARG_TLS] = (long)tls;
	r = afork__tramp(__NR_clone, args, afork__child_entry, c);
	if (r == -EINVAL && pidfd) {
		/* Before Linux 5.2: no CLONE_PIDFD, no pidfd. */
		args[0] &= ~(long)CLONE_PIDFD;
		args[2] = 0;
		c->pidfd = -1;
		r = afork__tramp(__NR_clone, args, afork__child_entry, c);
	}
	sys_sigprocmask(SIG_SETMASK, &old, NULL);
	return r;
}

int afork__clone_start(struct afork_child *c, int flags, unsigned int options,
		       int legacy)
{
	int exit_signal = (flags & (AFORK_NOSIGCHLD | AFORK_WAITPID)) ? 0
								     : SIGCHLD;
	int pidfd = !!(options & AFORK_OPT_PIDFD);
	int pipefd[2] = { -1, -1 };
	uintptr_t tls = afork__tls_prepare(c);
	/*
	 * Under a debugger, a vfork it can follow (tracer.c); never for a
	 * stand-in, which does not exec and would block us until it exits.
	 */
	int vfork = !c->proxy && afork__traced();
	long r;

	pthread_once(&fdwin_once, fdwin_init);
	if (options & AFORK_OPT_RELEASE_FD) {
		pthread_rwlock_wrlock(&fdwin_lock);
		r = sys_pipe2(pipefd, O_CLOEXEC);
		if (r < 0) {
			pthread_rwlock_unlock(&fdwin_lock);
			return (int)r;
		}
		c->child_fd[0] = pipefd[0];
		c->child_fd[1] = pipefd[1];
	} else {
		pthread_rwlock_rdlock(&fdwin_lock);
	}

	if (!legacy) {
		uint64_t all = ~0ull, old = 0;

		/*
		 * The child inherits our mask until it sets its own: when that
		 * differs, a signal it blocks could reach it in between, so it
		 * starts with everything blocked.
		 */
		if (options & AFORK_OPT_SIGMASK) {
			c->set_mask = 1;
			sys_sigprocmask(SIG_SETMASK, &all, &old);
		}
		r = do_clone3(c, exit_signal, pidfd, tls, vfork);
		if (options & AFORK_OPT_SIGMASK)
			sys_sigprocmask(SIG_SETMASK, &old, NULL);
		if ((r == -ENOSYS || r == -EINVAL || r == -EPERM) &&
		    afork__clone3_failed()) {
			c->pidfd = -1;
			c->release = AFORK_RELEASE_PENDING;
			legacy = 1;
		}
	}
	if (legacy)
		r = do_clone(c, exit_signal, pidfd, options, tls, vfork);

	if (pipefd[1] >= 0)
		sys_close(pipefd[1]);
	pthread_rwlock_unlock(&fdwin_lock);
	if (r < 0) {
		if (pipefd[0] >= 0)
			sys_close(pipefd[0]);
		return (int)r;
	}
	c->pid = (pid_t)r;
	c->backend = legacy ? AFORK_BACKEND_CLONE : AFORK_BACKEND_CLONE3;
	c->release_fd = pipefd[0];
	c->release_events = POLLIN;
	return 0;
}
