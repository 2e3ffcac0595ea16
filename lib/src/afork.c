/* SPDX-License-Identifier: MIT */
/*
 * The public entry points: afork(), aforkx(), afork_emulated(),
 * afork_start*() and the handle's accessors.  errno is set here and only
 * here; everything below returns -errno.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

#define KNOWN_FLAGS ((int)(AFORK_NOSIGCHLD | AFORK_WAITPID))
#define KNOWN_OPTIONS (AFORK_OPT_PIDFD | AFORK_OPT_RELEASE_FD | AFORK_OPT_SIGMASK)

static int fail(int err)
{
	errno = err;
	return -1;
}

/* Copy a size-versioned struct afork_opts, as clone3 does its args. */
static int copy_opts(struct afork_opts *dst, const struct afork_opts *src)
{
	memset(dst, 0, sizeof(*dst));
	if (!src)
		return 0;
	if (src->size < AFORK_OPTS_SIZE_VER0)
		return -EINVAL;
	if (src->size > sizeof(*dst)) {
		const unsigned char *p = (const unsigned char *)src;
		size_t i;

		if (src->size > 4096)
			return -E2BIG;
		for (i = sizeof(*dst); i < src->size; i++)
			if (p[i])
				return -E2BIG;
	}
	memcpy(dst, src, sizeof(*dst));
	return 0;
}

/* Remember which open files the handle's fds are (see internal.h). */
static void note_fd(struct afork_child *c, int i, int fd, pid_t self)
{
	struct f_owner_ex own = { F_OWNER_PID, self };
	struct stat st;

	c->fd_dev[i] = c->fd_ino[i] = 0;
	c->fd_owner[i] = 0;
	if (fd < 0 || fstat(fd, &st))
		return;
	c->fd_dev[i] = (uint64_t)st.st_dev;
	c->fd_ino[i] = (uint64_t)st.st_ino;
	/*
	 * The inode alone does not tell one file description from another:
	 * eventfds share one, and so do pidfds of one process (pidfs) or of
	 * any process (before 6.9).  Mark ours as owned by this process, an
	 * owner that means nothing to a pidfd or an eventfd (neither sends
	 * SIGIO), so that no description the caller makes has it.
	 */
	if (fcntl(fd, F_SETOWN_EX, &own) == 0)
		c->fd_owner[i] = self;
}

/* fd is still the file description the handle got for slot i. */
static int fd_still_ours(const struct afork_child *c, int i, int fd)
{
	struct f_owner_ex own;
	struct stat st;

	if (fd < 0 || fstat(fd, &st))
		return 0;
	if ((uint64_t)st.st_dev != c->fd_dev[i] ||
	    (uint64_t)st.st_ino != c->fd_ino[i])
		return 0;
	if (!c->fd_owner[i])
		return 1;
	return fcntl(fd, F_GETOWN_EX, &own) == 0 &&
	       own.type == F_OWNER_PID && own.pid == c->fd_owner[i];
}

/* Create the child on its backend (c->backend). */
static int launch(struct afork_child *c, const struct afork_opts *opts)
{
	switch (c->backend) {
	case AFORK_BACKEND_SYSCALL:
		return afork__syscall_start(c, opts->flags, opts->options);
	case AFORK_BACKEND_CLONE3:
	case AFORK_BACKEND_CLONE:
		return afork__clone_start(c, opts->flags, opts->options,
					  c->backend == AFORK_BACKEND_CLONE);
	default:
		return afork__vfork_start(c, opts->flags, opts->options);
	}
}

/* Remember which files the handle's fds are, to know them again. */
static void note_fds(struct afork_child *c)
{
	pid_t self;

	if (c->pidfd < 0 && c->release_fd < 0)
		return;
	self = getpid();
	note_fd(c, 0, c->pidfd, self);
	if (c->release_fd == c->pidfd) {	/* syscall backend: one fd */
		c->fd_dev[1] = c->fd_dev[0];
		c->fd_ino[1] = c->fd_ino[0];
		c->fd_owner[1] = c->fd_owner[0];
	} else {
		note_fd(c, 1, c->release_fd, self);
	}
}

int afork__start(const struct afork_start_req *req)
{
	const enum afork_start_how how = req->how;
	int emulated = how == START_EMULATED;
	struct afork_opts opts;
	struct afork_child *c;
	size_t stack_size = 0;
	int backend, r;

	if (!req->fn && !req->fn_ctx)
		return -EINVAL;
	/* Not only through afork__backend_get(): avfork() never calls it. */
	afork__init();
	r = copy_opts(&opts, req->opts);
	if (r)
		return r;
	if (opts.flags & ~KNOWN_FLAGS || opts.options & ~KNOWN_OPTIONS)
		return -EINVAL;
	if (opts.stack_size) {
		stack_size = afork__pool_round(opts.stack_size);
		if (!stack_size)
			return -EINVAL;
	}
	backend = how == START_BACKEND ? afork__backend_get()
				       : AFORK_BACKEND_VFORK;
	if (backend < 0)
		return backend;
	/* vfork() children always signal and wait(-1) always sees them. */
	if (backend == AFORK_BACKEND_VFORK && opts.flags)
		return -ENOTSUP;
	if (!opts.stack_size)
		stack_size = afork__pool_default_stack();

	r = afork__pool_get(stack_size, &c);
	if (r)
		return r;
	c->fn = req->fn;
	c->fn_ctx = req->fn_ctx;
	c->arg = req->arg;
	c->backend = backend;
	if (opts.options & AFORK_OPT_SIGMASK)
		memcpy(&c->child_mask, &opts.sigmask, sizeof(c->child_mask));
	if (req->prep) {
		r = req->prep(c, req->prep_arg);
		if (r < 0) {
			afork__pool_put(c);
			return r;
		}
	}

	if (emulated) {
		c->vf_cb = req->cb;
		c->child_mask = afork__current_mask();
		r = afork__vfork_submit(c);
	} else {
		r = launch(c, &opts);
	}
	if (r < 0) {
		afork__pool_put(c);
		return r;
	}
	note_fds(c);
	if (req->childp) {
		*req->childp = c;
		return 0;
	}
	r = emulated ? 0 : c->pid;
	afork__pool_disown(c);
	return r;
}

AFORK_API pid_t afork(int (*fn)(void *), void *arg)
{
	int r = afork__start(&(struct afork_start_req){ .fn = fn, .arg = arg });

	return r < 0 ? fail(-r) : r;
}

AFORK_API pid_t aforkx(int flags, int (*fn)(void *), void *arg)
{
	struct afork_opts opts;
	int r;

	afork_opts_init(&opts);
	opts.flags = flags;
	r = afork__start(&(struct afork_start_req){
		.opts = &opts, .fn = fn, .arg = arg });
	return r < 0 ? fail(-r) : r;
}

AFORK_API int afork_emulated(int (*fn)(void *), void *arg,
			     void (*cb)(pid_t pid, void *arg))
{
	int r = afork__start(&(struct afork_start_req){
		.fn = fn, .arg = arg, .how = START_EMULATED, .cb = cb });

	return r < 0 ? fail(-r) : 0;
}

/* emulated_afork(): its callback gets the pid (or -errno) alone. */
static int cb1_prep(struct afork_child *c, void *cb)
{
	c->vf_cb1 = (void (*)(pid_t))cb;
	return 0;
}

AFORK_API int emulated_afork(int (*start_routine)(void *), void *arg,
			     void (*cb)(pid_t))
{
	int r = afork__start(&(struct afork_start_req){
		.fn = start_routine, .arg = arg, .how = START_EMULATED,
		.prep = cb ? cb1_prep : NULL, .prep_arg = (void *)cb });

	return r < 0 ? fail(-r) : 0;
}

AFORK_API pid_t avfork(int (*start_routine)(void *), void *arg)
{
	int r = afork__start(&(struct afork_start_req){
		.fn = start_routine, .arg = arg, .how = START_VFORK });

	return r < 0 ? fail(-r) : r;
}

AFORK_API int afork_start(struct afork_child **childp,
			  const struct afork_opts *opts,
			  int (*fn)(void *), void *arg)
{
	int r;

	if (!childp || !fn)
		return fail(EINVAL);
	r = afork__start(&(struct afork_start_req){
		.childp = childp, .opts = opts, .fn = fn, .arg = arg });
	return r < 0 ? fail(-r) : 0;
}

AFORK_API int afork_start_ctx(struct afork_child **childp,
			      const struct afork_opts *opts,
			      int (*fn)(struct afork_ctx *, void *), void *arg)
{
	int r;

	if (!childp || !fn)
		return fail(EINVAL);
	r = afork__start(&(struct afork_start_req){
		.childp = childp, .opts = opts, .fn_ctx = fn, .arg = arg });
	return r < 0 ? fail(-r) : 0;
}

AFORK_API pid_t afork_pid(const struct afork_child *c)
{
	struct afork_child *m = (struct afork_child *)c;
	uint32_t v;
	pid_t p;

	if (!c)
		return fail(EINVAL);
	if (!c->proxy)
		return c->pid;
	/* A stand-in: its child's pid, known as soon as that child runs. */
	for (;;) {
		p = __atomic_load_n(&m->proxy_pid, __ATOMIC_ACQUIRE);
		if (p)
			break;
		v = afork__load(&m->release);
		if (!v) {
			/* Released: any pid was published before. */
			p = __atomic_load_n(&m->proxy_pid, __ATOMIC_ACQUIRE);
			break;
		}
		sys_futex_wait(&m->release, v, NULL);
	}
	return p > 0 ? p : c->pid;
}

AFORK_API int afork_pidfd(const struct afork_child *c)
{
	return c ? c->pidfd : fail(EINVAL);
}

AFORK_API int afork_take_pidfd(struct afork_child *c)
{
	int fd;

	if (!c)
		return fail(EINVAL);
	fd = c->pidfd;
	if (fd < 0)
		return fail(ENOENT);	/* none asked for, or already taken */
	if (fd == c->release_fd) {
		/* The pidfd is also the release fd: the handle keeps its own. */
		fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
		return fd;
	}
	c->pidfd = -1;
	return fd;
}

AFORK_API int afork_released(const struct afork_child *c)
{
	if (!c)
		return fail(EINVAL);
	return afork__load(&c->release) == 0;
}

AFORK_API const volatile uint32_t *afork_release_word(const struct afork_child *c)
{
	if (!c) {
		errno = EINVAL;
		return NULL;
	}
	return &c->release;
}

AFORK_API int afork_wait_release(struct afork_child *c, int timeout_ms)
{
	struct timespec now, end, rel;
	int slept = 0;
	uint32_t v;

	if (!c)
		return fail(EINVAL);
	if (timeout_ms > 0) {
		clock_gettime(CLOCK_MONOTONIC, &end);
		end.tv_sec += timeout_ms / 1000;
		end.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
		if (end.tv_nsec >= 1000000000) {
			end.tv_sec++;
			end.tv_nsec -= 1000000000;
		}
	}
	while ((v = afork__load(&c->release)) != 0) {
		if (timeout_ms == 0)
			return fail(ETIMEDOUT);
		if (timeout_ms > 0) {
			clock_gettime(CLOCK_MONOTONIC, &now);
			rel.tv_sec = end.tv_sec - now.tv_sec;
			rel.tv_nsec = end.tv_nsec - now.tv_nsec;
			if (rel.tv_nsec < 0) {
				rel.tv_sec--;
				rel.tv_nsec += 1000000000;
			}
			if (rel.tv_sec < 0)
				return fail(ETIMEDOUT);
		}
		sys_futex_wait(&c->release, v, timeout_ms > 0 ? &rel : NULL);
		slept = 1;
	}
	/* CLONE_CHILD_CLEARTID wakes one waiter only: pass it on. */
	if (slept)
		sys_futex_wake(&c->release, INT_MAX);
	return 0;
}

AFORK_API int afork_release_pollfd(const struct afork_child *c,
				   struct pollfd *pfd)
{
	if (!c || !pfd || c->release_fd < 0)
		return fail(EINVAL);
	pfd->fd = c->release_fd;
	pfd->events = c->release_events;
	pfd->revents = 0;
	return 0;
}

AFORK_API int afork_exec_errno(const struct afork_child *c)
{
	if (!c)
		return fail(EINVAL);
	if (afork__load(&c->release) != 0)
		return fail(EBUSY);
	return c->exec_errno;
}

AFORK_API int afork_error_step(const struct afork_child *c)
{
	if (!c)
		return fail(EINVAL);
	if (afork__load(&c->release) != 0)
		return fail(EBUSY);
	return c->error_step;
}

static int status_of(const siginfo_t *si)
{
	switch (si->si_code) {
	case CLD_EXITED:
		return (si->si_status & 0xff) << 8;
	case CLD_KILLED:
		return si->si_status & 0x7f;
	case CLD_DUMPED:
		return (si->si_status & 0x7f) | 0x80;
	}
	return 0;
}

AFORK_API pid_t afork_wait(struct afork_child *c, int *status, int options)
{
	long r = -ENOSYS;
	int st = 0;

	if (!c || options & ~WNOHANG)
		return fail(EINVAL);
	if (c->reaped || c->foreign)
		return fail(ECHILD);
	/* A pidfd the caller closed (or one reusing its number) is no use. */
	if (c->pidfd >= 0 && fd_still_ours(c, 0, c->pidfd)) {
		siginfo_t si;

		memset(&si, 0, sizeof(si));
		r = sys_waitid(P_PIDFD, c->pidfd, &si,
			       WEXITED | __WALL | options);
		if (r == 0) {
			if (si.si_pid == 0)
				return 0;	/* WNOHANG, still running */
			st = status_of(&si);
			r = si.si_pid;
		}
	}
	if (r == -ENOSYS || r == -EINVAL)	/* no P_PIDFD before 5.4 */
		r = sys_wait4(c->pid, &st, __WALL | options);
	if (r < 0)
		return fail((int)-r);
	if (r == 0)
		return 0;
	c->reaped = 1;
	/* A stand-in reports its child's status, if it lived to see it. */
	if (c->proxy && afork__load(&c->proxy_done))
		st = c->proxy_status;
	/* And its pid, the one afork_pid() gave. */
	if (c->proxy && __atomic_load_n(&c->proxy_pid, __ATOMIC_ACQUIRE) > 0)
		r = c->proxy_pid;
	c->status = st;
	if (status)
		*status = st;
	/*
	 * Reaped implies released, but the vfork worker clears the release
	 * word only when it runs again after the child's exit: wait until it
	 * is done with the record (and its eventfd), so that
	 * afork_released(), the pool and the fd table agree with the caller.
	 */
	if (c->backend == AFORK_BACKEND_VFORK)
		while (!afork__load(&c->vf_done))
			sys_futex_wait(&c->vf_done, 0, NULL);
	return (pid_t)r;
}

AFORK_API void afork_free(struct afork_child *c)
{
	if (!c)
		return;
	/*
	 * Both fds are lent to the caller: close them only if they are
	 * still ours, not an fd that took the number of one the caller
	 * closed.  (The vfork worker has its own reference to the eventfd.)
	 */
	if (c->pidfd >= 0 && c->pidfd != c->release_fd &&
	    fd_still_ours(c, 0, c->pidfd))
		sys_close(c->pidfd);
	c->pidfd = -1;
	if (c->release_fd >= 0 && fd_still_ours(c, 1, c->release_fd))
		sys_close(c->release_fd);
	c->release_fd = -1;
	afork__pool_disown(c);
}

AFORK_API const char *afork_version(void)
{
#define AFORK_STR2(x) #x
#define AFORK_STR(x) AFORK_STR2(x)
	return AFORK_STR(AFORK_VERSION_MAJOR) "." AFORK_STR(AFORK_VERSION_MINOR)
	       "." AFORK_STR(AFORK_VERSION_PATCH);
}
