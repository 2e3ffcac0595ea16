/* SPDX-License-Identifier: MIT */
/*
 * afork.h - libafork: start a child that shares your memory, without
 * waiting for it.
 *
 * afork() is an asynchronous vfork(): the child shares the caller's address
 * space and runs fn(arg) on a stack of its own, while the calling thread
 * goes on at once.  It costs the same at 1 MiB or 100 GiB of parent memory.
 * The child is meant to set up a few things (fds, cwd, session, signal
 * mask) with the afork_child_*() helpers below and exec, or to exit.
 *
 * Three backends, chosen once per process: the afork system call when the
 * running kernel has it, clone3()/clone() with CLONE_VM otherwise, and a
 * portable emulation with worker threads that vfork().  AFORK_BACKEND in
 * the environment forces one.  See afork(3) for what differs between them.
 *
 * C99 or C++; no other header of this project needs to be installed.
 * Available since libafork 0.1.
 */
#ifndef AFORK_H
#define AFORK_H

#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/select.h>	/* sigset_t even without POSIX feature macros */
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The version of this header; afork_version() gives the library's. */
#define AFORK_VERSION_MAJOR 0
#define AFORK_VERSION_MINOR 3
#define AFORK_VERSION_PATCH 0

/*
 * Flags for aforkx() and struct afork_opts::flags.  The values and their
 * spelling are those of <linux/afork.h> (and of illumos' FORK_NOSIGCHLD /
 * FORK_WAITPID), so both headers can be included in either order.
 */
#ifndef AFORK_NOSIGCHLD
#define AFORK_NOSIGCHLD	0x00000001ULL	/* No SIGCHLD to the parent on exit. */
#endif
#ifndef AFORK_WAITPID
#define AFORK_WAITPID	0x00000002ULL	/* Reaped only by a wait naming it. */
#endif

#if defined(__GNUC__) || defined(__clang__)
#define AFORK_NORETURN __attribute__((noreturn))
#else
#define AFORK_NORETURN
#endif

/* ------------------------------------------------------------------ */
/* The basic interface: fn(arg) in a child, the pid back              */
/* ------------------------------------------------------------------ */

/*
 * Start a child that shares the caller's memory and runs fn(arg) on a
 * fresh stack; fn's return value is its exit status.  Returns the child's
 * pid, or -1 with errno set (EINVAL: fn is NULL or flags unknown; EAGAIN,
 * ENOMEM: the kernel's or the stack pool's limits; ENOSYS: the backend
 * forced by AFORK_BACKEND is not available; ENOTSUP: flags on the vfork
 * backend, which cannot honour them).  The child is reaped like one
 * from fork(): waitpid(pid, &status, __WALL) works on every backend.
 */
pid_t afork(int (*fn)(void *), void *arg);
pid_t aforkx(int flags, int (*fn)(void *), void *arg);

/*
 * The callback variant, always on the vfork worker pool (any
 * backend, any kernel): queues fn(arg) and returns 0 at once (-1 and errno
 * for EINVAL/ENOMEM/EAGAIN).  A worker thread later vforks, the child runs
 * fn(arg), and once the child has exec'd or exited the worker calls
 * cb(pid, arg) (cb may be NULL); on failure cb gets -errno instead of a
 * pid.  The child sees the file descriptors of the moment the worker
 * vforked, so keep those it needs open until cb has run.
 */
int afork_emulated(int (*fn)(void *), void *arg,
		   void (*cb)(pid_t pid, void *arg));

/*
 * Two more spellings, on the same vfork worker pool (any backend, any
 * kernel); available since libafork 0.2.  emulated_afork() is
 * afork_emulated() with a callback that gets the pid (or -errno) alone.  avfork() is the pid-returning variant: it returns once
 * a worker has vforked, with the child's pid (-1 and errno as afork()),
 * and the child is reaped like one from afork().
 */
int emulated_afork(int (*start_routine)(void *), void *arg,
		   void (*cb)(pid_t));
pid_t avfork(int (*start_routine)(void *), void *arg);

/* ------------------------------------------------------------------ */
/* The extended interface: a handle per child                          */
/* ------------------------------------------------------------------ */

struct afork_child;	/* parent side: one per child, see afork_start() */
struct afork_ctx;	/* child side: passed to fn by afork_start_ctx() */

/* struct afork_opts::options */
#define AFORK_OPT_PIDFD		0x1u	/* Give the child a pidfd. */
#define AFORK_OPT_RELEASE_FD	0x2u	/* Make afork_release_pollfd() work. */
#define AFORK_OPT_SIGMASK	0x4u	/* Child starts with opts->sigmask. */

/*
 * Options for afork_start().  Versioned by size: set .size to
 * sizeof(struct afork_opts) (afork_opts_init() does); new members are only
 * added at the end.  A NULL opts means all defaults.
 */
struct afork_opts {
	size_t size;		/* sizeof(struct afork_opts) */
	int flags;		/* AFORK_NOSIGCHLD, AFORK_WAITPID */
	unsigned int options;	/* AFORK_OPT_* */
	size_t stack_size;	/* Child stack; 0: the pool default. */
	sigset_t sigmask;	/* With AFORK_OPT_SIGMASK: the child's mask,
				 * else it gets the caller's. */
};

#define AFORK_OPTS_SIZE_VER0 152 /* sizeof first published struct */

static inline void afork_opts_init(struct afork_opts *opts)
{
	unsigned char *p = (unsigned char *)opts;
	size_t i;

	for (i = 0; i < sizeof(*opts); i++)
		p[i] = 0;
	opts->size = sizeof(*opts);
}

/*
 * Start a child as afork() does and return a handle in *childp: 0 on
 * success, -1 and errno on failure (as afork(), plus E2BIG for an opts
 * whose unknown tail is not zero, EMFILE/ENFILE for the pidfd or release
 * fd).  afork_start_ctx() passes fn a context that the afork_ctx_*()
 * helpers use to report an exec error back to the parent.
 */
int afork_start(struct afork_child **childp, const struct afork_opts *opts,
		int (*fn)(void *), void *arg);
int afork_start_ctx(struct afork_child **childp,
		    const struct afork_opts *opts,
		    int (*fn)(struct afork_ctx *ctx, void *arg), void *arg);

/* The child's pid. */
pid_t afork_pid(const struct afork_child *child);

/*
 * The child's pidfd (O_CLOEXEC, owned by the handle and only lent: do
 * not close it), or -1 when none was asked for or the kernel cannot give
 * one.  afork_take_pidfd() hands it over to the caller, who then closes
 * it; the handle forgets it (-1 and ENOENT if there is none).  Should the
 * caller close a lent fd anyway, the handle notices that the number now
 * names another file and leaves that file alone.
 */
int afork_pidfd(const struct afork_child *child);
int afork_take_pidfd(struct afork_child *child);

/*
 * The child "releases" the parent's memory when its execve() succeeds or
 * it exits.  Only then may the caller reuse what the child reads, and only
 * then is afork_exec_errno() meaningful.
 *
 * afork_released():     1 if released, 0 if not (never blocks).
 * afork_wait_release(): blocks up to timeout_ms (-1: no limit, 0: poll);
 *                       0 when released, -1 and ETIMEDOUT otherwise.
 * afork_release_pollfd(): with AFORK_OPT_RELEASE_FD, fills pfd->fd and
 *                       pfd->events with what to poll for; the fd stays
 *                       owned by the handle (-1 and EINVAL without the
 *                       option).  It is ready when poll() reports
 *                       pfd->events or POLLHUP.  Syscall backend: the
 *                       pidfd, POLLPRI.  clone backends: a pipe only the
 *                       child holds the write end of (EOF: POLLHUP).
 *                       vfork: an eventfd, POLLIN.
 * afork_release_word(): the 32-bit word that is non-zero until release and
 *                       then 0 with a FUTEX_WAKE (shared, not private) on
 *                       every backend; for FUTEX_WAIT, e.g. from io_uring.
 */
int afork_released(const struct afork_child *child);
int afork_wait_release(struct afork_child *child, int timeout_ms);
int afork_release_pollfd(const struct afork_child *child, struct pollfd *pfd);
const volatile uint32_t *afork_release_word(const struct afork_child *child);

/*
 * After release: 0 when the child exec'd (or exited without reporting an
 * error), else the positive errno reported by afork_ctx_execve() or
 * afork_ctx_set_error() in the child.  -1 and EBUSY before release.
 * afork_error_step() returns the step given to afork_ctx_set_error() (0 by
 * default; -1 and EBUSY before release).
 */
int afork_exec_errno(const struct afork_child *child);
int afork_error_step(const struct afork_child *child);

/*
 * Reap exactly this child (waitid(P_PIDFD) with a pidfd, else
 * waitpid(pid, __WALL), so every flag and backend works).  options: 0 or
 * WNOHANG.  Returns the pid and stores a waitpid()-style status; 0 with
 * WNOHANG if the child is still running; -1 and errno (EINTR, ECHILD when
 * already reaped or reaped by someone else, EINVAL for other options).
 */
pid_t afork_wait(struct afork_child *child, int *status, int options);

/*
 * Forget the handle; closes its pidfd and release fd.  Does not wait or
 * kill: an unreaped child stays a zombie until someone reaps it.  The
 * child's stack and context go back to the pool once it has released.
 * NULL is a no-op.
 */
void afork_free(struct afork_child *child);

/* ------------------------------------------------------------------ */
/* Safe in the child                                                   */
/* ------------------------------------------------------------------ */
/*
 * The child runs in the parent's memory beside the parent's threads.  Its
 * TLS is its own where afork_tls_private() returns 1: a copy of the
 * calling thread's (syscall and clone backends), or the suspended vfork
 * worker's; then the libc wrappers afork(3) lists (open, close, dup2,
 * fcntl, chdir, setsid, setpgid, sigprocmask, execve, _exit, ...) are safe
 * in it, as in a vfork child.  Otherwise it runs on the calling thread's
 * TLS and must not call libc functions that set errno.  It must not: call
 * malloc/free or anything that may allocate; use stdio; take locks or use
 * pthread_*; call exit() (atexit handlers, stdio flushing) or return
 * through longjmp; rely on signal handlers (every caught handler is reset
 * to SIG_DFL in the child, SIG_IGN is kept).
 * It may: call the functions below; read and write memory the parent will
 * not touch until release; call pure functions (memcpy, strlen, ...).
 * Functions called through the PLT for the first time run the dynamic
 * linker's lazy binding, which touches the thread's TCB: link with
 * -Wl,-z,now, or call the helpers you need once before afork.
 *
 * All return >= 0 on success and -errno on failure, never touch errno,
 * take no locks and do not allocate.
 */

/* execve(2). Returns only on failure. */
int afork_child_execve(const char *path, char *const argv[],
		       char *const envp[]);
/*
 * execvpe with an explicit search path (read PATH in the parent before
 * afork: the child must not read the environment the parent may be
 * changing).  search_path NULL means "/bin:/usr/bin"; a file with a '/' is
 * exec'd as is.  The candidate path is built on the child's stack (no
 * allocation).  EACCES from any directory is reported if no directory
 * yields anything better, else ENOENT; ENOENT, ENOTDIR, ELOOP, ESTALE,
 * ENAMETOOLONG, ENODEV and ETIMEDOUT go on to the next directory; every
 * other error (ENOEXEC included: there is no /bin/sh fallback for scripts
 * without #!) stops the search and is returned.
 */
int afork_child_execvpe(const char *file, char *const argv[],
			char *const envp[], const char *search_path);
int afork_child_open(const char *path, int flags, mode_t mode);
int afork_child_close(int fd);
/* close_range(2); falls back to /proc/self/fd before Linux 5.9. */
int afork_child_close_range(unsigned int first, unsigned int last,
			    unsigned int flags);
int afork_child_dup2(int oldfd, int newfd);
int afork_child_fcntl(int fd, int cmd, long arg);
int afork_child_chdir(const char *path);
int afork_child_fchdir(int fd);
int afork_child_setsid(void);
int afork_child_setpgid(pid_t pid, pid_t pgid);
int afork_child_sigprocmask(int how, const sigset_t *set, sigset_t *old);
/* Set every caught handler to SIG_DFL (SIG_IGN is kept). */
int afork_child_sigreset(void);
/* Set every signal in *set to SIG_DFL (POSIX_SPAWN_SETSIGDEF). */
int afork_child_sigdefault(const sigset_t *set);
long afork_child_read(int fd, void *buf, size_t count);
long afork_child_write(int fd, const void *buf, size_t count);
pid_t afork_child_getpid(void);
/* Any system call, raw: for setuid, prctl, ioctl and the like. */
long afork_child_syscall(long nr, long a1, long a2, long a3, long a4,
			 long a5, long a6);
/* Exit the child process (exit_group), no atexit handlers, no flushing. */
AFORK_NORETURN void afork_child_exit(int status);

/*
 * With afork_start_ctx(): as afork_child_execve()/execvpe(), and on
 * failure the errno is also recorded for afork_exec_errno().
 */
int afork_ctx_execve(struct afork_ctx *ctx, const char *path,
		     char *const argv[], char *const envp[]);
int afork_ctx_execvpe(struct afork_ctx *ctx, const char *file,
		      char *const argv[], char *const envp[],
		      const char *search_path);
/* Record err (> 0, or 0 to clear) and a caller-defined step number. */
void afork_ctx_set_error(struct afork_ctx *ctx, int err, int step);

/* ------------------------------------------------------------------ */
/* Backends and the stack pool (process-wide)                          */
/* ------------------------------------------------------------------ */

#define AFORK_BACKEND_SYSCALL		1	/* the afork system call */
#define AFORK_BACKEND_CLONE3		2	/* clone3(CLONE_VM|...) */
#define AFORK_BACKEND_CLONE		3	/* legacy clone(CLONE_VM|...) */
#define AFORK_BACKEND_VFORK		4	/* vfork worker threads */

/*
 * The backend in use (choosing it on the first call), or -1 and errno:
 * ENOSYS when AFORK_BACKEND forces one the kernel lacks, EINVAL when
 * AFORK_BACKEND has an unknown value.  Values of AFORK_BACKEND: auto
 * (default), syscall, clone (clone3, else legacy clone), clone3,
 * clone-legacy, vfork.
 */
int afork_backend(void);
/* "syscall", "clone3", "clone-legacy", "vfork"; NULL for anything else. */
const char *afork_backend_name(int backend);

/*
 * 1 if children started now, on the default stack size, have thread-local
 * storage of their own (errno among it), so that the libc wrappers afork(3)
 * lists under "Thread-local storage" are safe in them; 0 if they share the
 * calling thread's; -1 and errno as afork_backend().  Available since
 * libafork 0.2.
 */
int afork_tls_private(void);

/* "MAJOR.MINOR.PATCH" of the library. */
const char *afork_version(void);

struct afork_pool_stats {
	size_t size;			/* set by the caller: sizeof(*this) */
	size_t stack_size;		/* default stack size in bytes */
	size_t bytes_mapped;		/* all stacks, guard pages included */
	unsigned long stacks_total;	/* mapped stacks */
	unsigned long stacks_busy;	/* in use by a child or a handle */
	unsigned long stacks_free;	/* ready for reuse */
	unsigned long max_stacks;	/* limit on stacks_total */
	unsigned long max_free;		/* free stacks kept beyond this are unmapped */
	unsigned long maps;		/* stacks mapped so far */
	unsigned long reuses;		/* stacks reused so far */
};

/*
 * Copy the pool's counters into *st (st->size set by the caller, at least
 * offsetof(..., maps)).  0, or -1 and EINVAL.
 */
int afork_pool_stats(struct afork_pool_stats *st);
/* Unmap every free stack; returns how many were unmapped. */
int afork_pool_trim(void);
/*
 * Default stack size for new children (rounded up to pages, 16 KiB to
 * 1 GiB; initial value AFORK_STACK_SIZE from the environment, else 64 KiB).
 * 0, or -1 and EINVAL.
 */
int afork_pool_set_stack_size(size_t size);
/*
 * At most max_stacks stacks mapped at once (busy + free, initial value
 * AFORK_POOL_MAX, else 1024): beyond that afork fails with EAGAIN.  At most
 * max_free kept free for reuse (default 16).  0 leaves a value unchanged.
 */
int afork_pool_set_limits(unsigned long max_stacks, unsigned long max_free);

#ifdef __cplusplus
}
#endif

#endif /* AFORK_H */
