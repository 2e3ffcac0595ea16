/* SPDX-License-Identifier: MIT */
/*
 * libafork internals: the per-child record shared with the child, and the
 * interfaces between the library's files.  Everything here is hidden from
 * the shared library's symbol table (-fvisibility=hidden plus the version
 * script); public functions are marked AFORK_API.
 */
#ifndef AFORK_INTERNAL_H
#define AFORK_INTERNAL_H

#include <afork.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>

#include "sys.h"

#define AFORK_API __attribute__((visibility("default")))

/*
 * One per child, at the top of the child's stack mapping:
 *
 *	[guard page][stack ... stack_size bytes][struct afork_child, page aligned]
 *
 * The child's stack ends right below this record.  The parent's handle
 * (struct afork_child *) and the child's context (struct afork_ctx *) are
 * both pointers to it.  It lives until the child has released the address
 * space and nobody holds the handle any more; only then does the pool
 * reuse or unmap it.
 */
struct afork_child {
	/* Read by the child; the parent does not change them until release. */
	int (*fn)(void *);
	int (*fn_ctx)(struct afork_ctx *, void *);
	void *arg;
	uint64_t child_mask;		/* kernel sigset for the child */
	unsigned char reset_handlers;	/* child resets caught handlers */
	unsigned char set_mask;		/* child installs child_mask */

	/* Written by the child or the kernel. */
	uint32_t release;		/* != 0 until release, futex word */
	int exec_errno;			/* afork_ctx_*(), read after release */
	int error_step;

	/* vfork backend: hand-off between caller, worker and child. */
	uint32_t vf_state;		/* VF_*, futex word */
	uint32_t vf_pidfd;		/* worker: CLONE_PIDFD into pidfd */
	uint32_t vf_done;		/* worker: done with the record, futex word */
	pid_t vf_pid;
	int vf_err;
	int vf_efd;			/* the worker's own reference to release_fd */
	void (*vf_cb)(pid_t, void *);
	void (*vf_cb1)(pid_t);		/* emulated_afork(): the seed's callback */
	struct afork_child *vf_next;

	/* Parent side only. */
	struct afork_child *next, *prev;	/* pool list links */
	void *map;
	size_t map_size;
	size_t stack_size;
	unsigned char in_use;		/* on the busy list */
	unsigned char owned;		/* a handle exists */
	unsigned char foreign;		/* inherited through fork() */
	unsigned char reaped;
	int status;			/* the wait status, once reaped */
	int backend;
	pid_t pid;
	int pidfd;
	int release_fd;			/* see afork_release_pollfd() */
	short release_events;
	/*
	 * st_dev and st_ino of pidfd and release_fd when the child started,
	 * and a mark on their file descriptions (afork.c: note_fd()):
	 * both are lent to the caller, and one the caller closed may have
	 * been reused by the time the handle closes it (afork_free()).
	 */
	uint64_t fd_dev[2], fd_ino[2];
	pid_t fd_owner[2];		/* their F_SETOWN_EX mark, 0 if none */
	/*
	 * The library's own fds that the child inherits, -1 if none: set
	 * before the child starts, so that code in the child can tell them
	 * from the caller's.  child_fd[0] is of no use to the child (clone:
	 * the release pipe's read end; vfork: the eventfd) and may be
	 * closed there; child_fd[1] (clone: the pipe's write end) must stay
	 * open until exec or the release fd reports release too early.
	 */
	int child_fd[2];
	/*
	 * Bytes at the top of the stack area that hold the child's copy of
	 * the caller's TLS (tls.c), 0 if the child shares the caller's.
	 */
	size_t tls_size;

	/*
	 * A stand-in child (the shield of popen and system, spawn_int.h)
	 * runs the process the handle is for as a child of its own and
	 * reports for it: afork_pid() gives proxy_pid once known (-1: it
	 * could not start), afork_wait() proxy_status once proxy_done.
	 * Written in the children before release; each step nudges the
	 * release word (afork__release_nudge()).
	 */
	unsigned char proxy;
	pid_t proxy_pid;
	int proxy_status;
	uint32_t proxy_done;
};

enum { VF_QUEUED = 0, VF_STARTED = 1, VF_FAILED = 2 };

#define AFORK_RELEASE_PENDING 0xffffffffu	/* release word before the kernel's TID */

/* Stack sizes the pool accepts. */
#define AFORK_STACK_MIN (16u * 1024)
#define AFORK_STACK_MAX (1024ul * 1024 * 1024)
#define AFORK_STACK_DEFAULT (64u * 1024)

/* init.c: process-wide initialisation (environment, pthread_atfork). */
void afork__init(void);

/* How afork__start() runs the child. */
enum afork_start_how {
	START_BACKEND,		/* the process's backend */
	START_EMULATED,		/* queued on the vfork pool, callback */
	START_VFORK,		/* on the vfork pool, pid-returning: avfork() */
};

/*
 * afork.c: what every entry point asks of afork__start(), one request
 * instead of a list of positional arguments.  Fields left zero are not
 * used.
 */
struct afork_start_req {
	struct afork_child **childp;	/* the handle; NULL: disown the child */
	const struct afork_opts *opts;	/* NULL: the defaults */
	int (*fn)(void *);		/* the child's function: fn or fn_ctx */
	int (*fn_ctx)(struct afork_ctx *, void *);
	void *arg;
	enum afork_start_how how;
	void (*cb)(pid_t, void *);	/* START_EMULATED: the pid's callback */
	/*
	 * A step between taking the stack and starting the child: prep may
	 * write to the child's stack (afork__stack_base(c)) and fail with
	 * -errno.
	 */
	int (*prep)(struct afork_child *c, void *prep_arg);
	void *prep_arg;
};

/*
 * afork.c: start a child.  Returns, without a handle, its pid (0 when
 * emulated); with one, 0; or -errno.  Leaves errno alone.
 */
int afork__start(const struct afork_start_req *req);

/* backend.c */
int afork__backend_get(void);		/* AFORK_BACKEND_* or -errno */
int afork__clone3_failed(void);		/* switch clone3 -> legacy; 1 if switched */
void afork__atfork_backend(int phase);

/* tracer.c: 1 if a debugger is attached (TracerPid), else 0. */
int afork__traced(void);
void afork__tracer_forget(void);

/* pool.c */
int afork__pool_get(size_t stack_size, struct afork_child **cp);	/* 0 or -errno */
void afork__pool_put(struct afork_child *c);	/* never started a child */
void afork__pool_disown(struct afork_child *c);	/* the handle is gone */
size_t afork__pool_default_stack(void);
/*
 * The stack size to ask for when @need bytes must fit: the default if it
 * is enough, else the smallest power of two up to AFORK_POOL_CLASS_MAX;
 * the pool keeps free stacks of those sizes.  @need itself beyond that.
 */
#define AFORK_POOL_CLASS_MAX (1024u * 1024)
size_t afork__pool_class(size_t need);
size_t afork__pool_round(size_t size);		/* 0 if out of range */
void afork__pool_env(void);
void afork__atfork_pool(int phase);

static inline void *afork__stack_base(struct afork_child *c)
{
	return (char *)c - c->stack_size;
}

/* The child's stack proper: below its TLS copy, if it has one. */
static inline void *afork__stack_top(struct afork_child *c)
{
	return (char *)c - c->tls_size;
}

static inline size_t afork__stack_avail(struct afork_child *c)
{
	return c->stack_size - c->tls_size;
}

/*
 * tls.c: the child's copy of the caller's static TLS and TCB.
 * afork__tls_prepare() returns the child's thread pointer and sets
 * c->tls_size, or returns 0: then the child shares the caller's TLS.
 */
int afork__tls_supported(void);
uintptr_t afork__tls_prepare(struct afork_child *c);

/* child.c: the child's C entry, called by the trampoline. */
int afork__child_entry(void *c);
void afork__sigreset_all(void);

/* arch/<arch>/trampoline.S */
long afork__tramp(long nr, const long args[6], int (*fn)(void *), void *ctx);

/* be_syscall.c, be_clone.c, be_vfork.c: start the prepared child. */
int afork__syscall_probe(void);
int afork__syscall_settls(void);		/* after a successful probe */
int afork__syscall_start(struct afork_child *c, int flags, unsigned int options);
int afork__clone3_probe(void);
int afork__clone_start(struct afork_child *c, int flags, unsigned int options,
		       int legacy);
int afork__vfork_start(struct afork_child *c, int flags, unsigned int options);
int afork__vfork_submit(struct afork_child *c);
void afork__atfork_clone(int phase);
void afork__atfork_vfork(int phase);

enum { AFORK_ATFORK_PREPARE, AFORK_ATFORK_PARENT, AFORK_ATFORK_CHILD };

/* The caller's signal mask as the kernel sees it. */
static inline uint64_t afork__current_mask(void)
{
	uint64_t m = 0;

	sys_sigprocmask(SIG_BLOCK, NULL, &m);
	return m;
}

static inline uint32_t afork__load(const uint32_t *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static inline void afork__store(uint32_t *p, uint32_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
}

/*
 * The pool may reuse the record: the child released the memory and, on the
 * vfork backend, the worker is done with the record and its eventfd.
 */
static inline int afork__recyclable(struct afork_child *c)
{
	return afork__load(&c->release) == 0 &&
	       (c->backend != AFORK_BACKEND_VFORK || afork__load(&c->vf_done));
}

/*
 * Wake the waiters of a child's release word without releasing: change its
 * non-zero value (the kernel stores 0 only at release, later).  A waiter
 * that read the old value and then sleeps returns at once, so a state
 * change published before the nudge is never missed.  Safe in a child.
 */
static inline void afork__release_nudge(struct afork_child *c)
{
	uint32_t v = afork__load(&c->release), n;

	do {
		if (v == 0)
			return;
		n = v == AFORK_RELEASE_PENDING ? AFORK_RELEASE_PENDING - 1
					       : AFORK_RELEASE_PENDING;
	} while (!__atomic_compare_exchange_n(&c->release, &v, n, 0,
					      __ATOMIC_ACQ_REL,
					      __ATOMIC_ACQUIRE));
	sys_futex_wake(&c->release, INT_MAX);
}

#endif /* AFORK_INTERNAL_H */
