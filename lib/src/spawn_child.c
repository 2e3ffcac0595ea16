/* SPDX-License-Identifier: MIT */
/*
 * The child's side of afork_spawn(): wait for the parent's copy of the
 * arguments, apply the attributes and file actions in glibc's order,
 * set the final signal mask, exec.  Runs in the child: raw system calls
 * only (sys.h and the afork_child_* helpers), no errno, no locks, no
 * allocation.
 *
 * Order, as glibc's posix_spawn: signals to default, scheduler, setsid,
 * setpgid, reset ids, the file actions in the order added, the signal
 * mask, exec.  A failing step is recorded with afork_ctx_set_error() and
 * the child exits with 127.
 *
 * The library's own fds in the child (the release pipe on the clone
 * backends, the eventfd on the vfork backend; see child_fd in internal.h)
 * are hidden from the file actions, as if they were not open, which is
 * what the same actions see under glibc: the ones the child does not need
 * are closed first; the release pipe's write end, which must stay open
 * until exec, is moved out of the way of an action that targets its
 * number, skipped by close and closefrom, and an action that uses it as a
 * source fails with EBADF.
 */
#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <termios.h>

#include "spawn_int.h"

/* The release pipe's write end while it must stay open, else -1. */
struct fds {
	int keep;
};

static int is_ours(const struct fds *f, int fd)
{
	return f->keep >= 0 && fd == f->keep;
}

/*
 * Move our fd above @target.  An open action takes the lowest free fd, as
 * under glibc only if our fd does not sit below its target, so before an
 * open (and for a dup2 onto our fd) it goes up.  With no room above, it
 * goes anywhere else; with no room at all it is closed, and the release
 * fd may then report release before the exec.
 */
static void move_above(struct fds *f, int target)
{
	long n;

	if (f->keep < 0 || f->keep > target)
		return;
	n = sys_fcntl(f->keep, F_DUPFD_CLOEXEC, (long)target + 1);
	if (n < 0 && f->keep == target)
		n = sys_fcntl(f->keep, F_DUPFD_CLOEXEC, 0);
	if (n < 0 && f->keep != target)
		return;
	sys_close(f->keep);
	f->keep = n >= 0 ? (int)n : -1;
}

/* Soft RLIMIT_NOFILE, as glibc judges fds (x86-64 and arm64 have getrlimit). */
static int fd_in_range(int fd)
{
	unsigned long rl[2];	/* the kernel's struct rlimit: cur, max */

	if (fd < 0)
		return 0;
	if (sys_getrlimit(RLIMIT_NOFILE, rl) < 0)
		return 1;
	return (unsigned long)fd < rl[0];
}

static long close_range_keep(struct fds *f, unsigned int first,
			     unsigned int last, unsigned int flags)
{
	unsigned int k = (unsigned int)f->keep;
	long r = 0;

	if (f->keep < 0 || k < first || k > last)
		return afork_child_close_range(first, last, flags);
	if (k > first)
		r = afork_child_close_range(first, k - 1, flags);
	if (r >= 0 && k < last)
		r = afork_child_close_range(k + 1, last, flags);
	return r;
}

static long do_action(struct fds *f, const struct spawn_action *a)
{
	long r, fd;

	switch (a->op) {
	case SPAWN_OPEN:
		/*
		 * POSIX: an open fd is closed first, so the open may land on
		 * it and keep its O_CLOEXEC (glibc does the same).
		 */
		move_above(f, a->fd);
		sys_close(a->fd);
		fd = sys_openat(AT_FDCWD, a->path, a->oflag, a->mode);
		if (fd < 0 || fd == a->fd)
			return fd;
		r = sys_dup2((int)fd, a->fd);
		sys_close((int)fd);
		return r;
	case SPAWN_CLOSE:
		if (is_ours(f, a->fd))
			return 0;
		r = sys_close(a->fd);
		/* As glibc: only an fd out of range is an error. */
		return (r < 0 && !fd_in_range(a->fd)) ? r : 0;
	case SPAWN_DUP2:
		/* Move first: our fd may land on a source that is not open. */
		if (is_ours(f, a->newfd) && a->fd != a->newfd)
			move_above(f, a->newfd);
		if (is_ours(f, a->fd))
			return -EBADF;
		if (a->fd == a->newfd) {
			/* POSIX.1-2024: dup2 onto itself clears FD_CLOEXEC. */
			r = sys_fcntl(a->fd, F_GETFD, 0);
			if (r < 0 || !(r & FD_CLOEXEC))
				return r;
			return sys_fcntl(a->fd, F_SETFD, r & ~FD_CLOEXEC);
		}
		return sys_dup2(a->fd, a->newfd);
	case SPAWN_CHDIR:
		return sys_chdir(a->path);
	case SPAWN_FCHDIR:
		if (is_ours(f, a->fd))
			return -EBADF;
		return sys_fchdir(a->fd);
	case SPAWN_CLOSE_RANGE:
		return close_range_keep(f, a->first, a->last, a->flags);
	case SPAWN_TCSETPGRP: {
		int pgrp;

		if (is_ours(f, a->fd))
			return -EBADF;
		pgrp = (int)sys_getpgid(0);
		return sys_ioctl(a->fd, TIOCSPGRP, (long)&pgrp);
	}
	}
	return -EINVAL;
}

static long do_attrs(const struct spawn_attr *a, int *step)
{
	long r;

	if (a->flags & AFORK_SPAWN_SETSIGDEF) {
		*step = AFORK_SPAWN_STEP_SIGDEF;
		r = afork_child_sigdefault((const sigset_t *)(const void *)&a->sigdefault);
		if (r < 0)
			return r;
	}
	if (a->flags & (AFORK_SPAWN_SETSCHEDULER | AFORK_SPAWN_SETSCHEDPARAM)) {
		int param = a->priority;	/* struct sched_param */

		*step = AFORK_SPAWN_STEP_SCHED;
		if (a->flags & AFORK_SPAWN_SETSCHEDULER)
			r = sys_sched_setscheduler(0, a->policy, &param);
		else
			r = sys_sched_setparam(0, &param);
		if (r < 0)
			return r;
	}
	if (a->flags & AFORK_SPAWN_SETSID) {
		*step = AFORK_SPAWN_STEP_SETSID;
		r = sys_setsid();
		if (r < 0)
			return r;
	}
	if (a->flags & AFORK_SPAWN_SETPGROUP) {
		*step = AFORK_SPAWN_STEP_SETPGROUP;
		r = sys_setpgid(0, a->pgroup);
		if (r < 0)
			return r;
	}
	if (a->flags & AFORK_SPAWN_RESETIDS) {
		/* Effective ids := real ids; raw calls, this process only. */
		*step = AFORK_SPAWN_STEP_RESETIDS;
		r = sys_setresuid(-1, sys_getuid(), -1);
		if (r < 0)
			return r;
		r = sys_setresgid(-1, sys_getgid(), -1);
		if (r < 0)
			return r;
	}
	return 0;
}

static AFORK_NORETURN void fail(struct afork_ctx *ctx, long err, int step)
{
	afork_ctx_set_error(ctx, (int)-err, step);
	sys_exit_group(127);
}

/* Attributes, file actions, mask, exec: the child, or the shield's child. */
AFORK_NORETURN void afork__spawn_body(struct afork_child *c, struct spawn_block *b)
{
	struct afork_ctx *ctx = (struct afork_ctx *)c;
	struct fds f;
	unsigned int i;
	int step = 0;
	long r;

	f.keep = c->child_fd[1];
	r = do_attrs(&b->attr, &step);
	if (r < 0)
		fail(ctx, r, step);
	for (i = 0; i < b->nactions; i++) {
		r = do_action(&f, &b->actions[i]);
		if (r < 0)
			fail(ctx, r, AFORK_SPAWN_STEP_ACTION + (int)i);
	}
	r = sys_sigprocmask(SIG_SETMASK, &b->mask, NULL);
	if (r < 0)
		fail(ctx, r, AFORK_SPAWN_STEP_SIGMASK);

	if (b->use_path)
		r = afork_child_execvpe(b->path, b->argv, b->envp, b->search);
	else
		r = sys_execve(b->path, b->argv, b->envp);
	fail(ctx, r, AFORK_SPAWN_STEP_EXEC);
}

/* The shield (shield.c) keeps the release pipe and closes every other fd. */
void afork__spawn_close_all_but(int keep)
{
	struct fds f = { keep };

	close_range_keep(&f, 0, ~0u, 0);
}

int afork__spawn_child(struct afork_ctx *ctx, void *arg)
{
	struct afork_child *c = (struct afork_child *)ctx;
	struct spawn_block *b = afork__stack_base(c);

	(void)arg;
	if (c->child_fd[0] >= 0)
		sys_close(c->child_fd[0]);
	if (b->shield_stack)
		afork__shield(c, b);
	afork__spawn_body(c, b);
}
