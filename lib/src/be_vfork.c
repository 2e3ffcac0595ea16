/* SPDX-License-Identifier: MIT */
/*
 * Backend: the seed's portable emulation, worker threads that vfork().
 *
 * vfork() suspends only the calling thread, so a pool of worker threads can
 * vfork on behalf of callers that go on at once.  The workers exist ahead of
 * demand (they are started when the queue is longer than the number of idle
 * workers, up to VF_MAX_WORKERS, and exit after VF_IDLE_SEC idle), but each
 * vforks only when it takes a job.  The seed also vforks ahead of demand;
 * we do not, because a vfork child gets a copy of the fd table, cwd and
 * umask of the moment it is created: a pre-vforked child would miss every
 * descriptor the caller opened since (the pipe of a popen(), say).
 *
 * Hand-off: the caller queues the job (its struct afork_child) and, for a
 * pid-returning afork, waits on the futex word vf_state.  The worker blocks
 * every signal and vforks, as clone(CLONE_VM|CLONE_VFORK) onto the job's
 * stack, with CLONE_PIDFD when the caller asked for a pidfd (the kernel
 * stores it before the child runs, so nobody waits for anybody: a child
 * held back until the caller had opened a pidfd hung under gdb, which
 * stops the caller until the vfork is done); the child publishes its pid
 * in vf_state, wakes the caller, resets its caught handlers, installs the
 * caller's mask and runs the job.  When the clone returns in the worker
 * the child has exec'd or exited: the worker clears and wakes the release
 * word, then signals the release fd (the kernel's order: whoever polls the
 * fd finds the word clear), through a reference of its own, since the
 * caller may have closed the handle's by then; and runs the callback of an
 * afork_emulated() job.
 *
 * The child runs with the worker's TLS, not the caller's.  It is the
 * child of the worker thread (PR_SET_PDEATHSIG fires when that worker
 * exits).  AFORK_NOSIGCHLD and AFORK_WAITPID cannot be honoured: vfork()
 * children always signal SIGCHLD and are visible to wait(-1), so asking for
 * them fails with ENOTSUP rather than being ignored.
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

#ifndef CLONE_PIDFD
#define CLONE_PIDFD 0x00001000
#endif

#define VF_MAX_WORKERS 256
#define VF_IDLE_SEC 2
#define VF_WORKER_STACK (256 * 1024)

static pthread_mutex_t vf_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t vf_cv;
static pthread_once_t vf_once = PTHREAD_ONCE_INIT;
static struct afork_child *q_head, *q_tail;
static unsigned int q_len, n_workers, n_idle;

static void vf_init(void)
{
	pthread_condattr_t a;

	pthread_condattr_init(&a);
	pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
	pthread_cond_init(&vf_cv, &a);
	pthread_condattr_destroy(&a);
}

void afork__atfork_vfork(int phase)
{
	pthread_once(&vf_once, vf_init);
	switch (phase) {
	case AFORK_ATFORK_PREPARE:
		pthread_mutex_lock(&vf_lock);
		break;
	case AFORK_ATFORK_PARENT:
		pthread_mutex_unlock(&vf_lock);
		break;
	case AFORK_ATFORK_CHILD:
		/* No worker thread survives fork(); queued jobs were theirs. */
		pthread_mutex_init(&vf_lock, NULL);
		vf_init();
		q_head = q_tail = NULL;
		q_len = n_workers = n_idle = 0;
		break;
	}
}

/* The worker will not touch the record again. */
static void worker_done(struct afork_child *c)
{
	afork__store(&c->vf_done, 1);
	sys_futex_wake(&c->vf_done, INT_MAX);
}

/*
 * The child: tell the caller its pid, then run the job.  On the job's own
 * stack from the start, the worker's TLS (the worker is suspended).
 */
static int vf_child(void *p)
{
	struct afork_child *c = p;

	/* The worker's reference is the worker's, not the child's. */
	if (c->vf_efd >= 0)
		sys_close(c->vf_efd);
	c->vf_pid = (pid_t)sys_getpid();
	afork__store(&c->vf_state, VF_STARTED);
	sys_futex_wake(&c->vf_state, INT_MAX);
	return afork__child_entry(c);
}

/* vfork(), spelled clone(CLONE_VM|CLONE_VFORK), onto the job's stack. */
static long vf_clone(struct afork_child *c)
{
	long args[6] = { 0 };
	long r;

	args[0] = CLONE_VM | CLONE_VFORK | SIGCHLD;
	args[1] = (long)afork__stack_top(c);
	if (c->vf_pidfd) {
		args[0] |= CLONE_PIDFD;
		args[2] = (long)&c->pidfd;	/* CLONE_PIDFD's slot */
	}
	r = afork__tramp(__NR_clone, args, vf_child, c);
	if (r == -EINVAL && c->vf_pidfd) {
		/* Before Linux 5.2: no CLONE_PIDFD, no pidfd. */
		args[0] &= ~(long)CLONE_PIDFD;
		args[2] = 0;
		c->pidfd = -1;
		r = afork__tramp(__NR_clone, args, vf_child, c);
	}
	return r;
}

static void run_job(struct afork_child *c)
{
	uint64_t all = ~0ull, old = 0;
	void (*cb)(pid_t, void *);
	void (*cb1)(pid_t);
	uint64_t one = 1;
	void *arg;
	pid_t pid;
	long r;
	int err = 0, efd;

	sys_sigprocmask(SIG_SETMASK, &all, &old);
	r = vf_clone(c);
	pid = r < 0 ? -1 : (pid_t)r;
	if (r < 0)
		err = (int)-r;
	sys_sigprocmask(SIG_SETMASK, &old, NULL);

	cb = c->vf_cb;
	cb1 = c->vf_cb1;
	arg = c->arg;
	efd = c->vf_efd;
	if (pid < 0) {
		if (efd >= 0)
			sys_close(efd);
		if (cb || cb1) {
			/* afork_emulated(): nobody waits, the pool collects. */
			worker_done(c);
			afork__store(&c->release, 0);
			if (cb)
				cb(-err, arg);
			else if (cb1)
				cb1(-err);
		} else {
			c->vf_err = err;
			afork__store(&c->vf_state, VF_FAILED);
			sys_futex_wake(&c->vf_state, INT_MAX);
		}
		return;
	}
	if (afork__load(&c->vf_state) == VF_QUEUED) {
		/* Killed before it could say so. */
		c->vf_pid = pid;
		afork__store(&c->vf_state, VF_STARTED);
		sys_futex_wake(&c->vf_state, INT_MAX);
	}
	/*
	 * The word goes first, as in the kernel (a poller woken by the fd
	 * finds it released), then the fd through our own reference (the
	 * caller may have closed theirs).  vf_done is the last touch of the
	 * record: the pool may reuse it from there on.
	 */
	afork__store(&c->release, 0);
	sys_futex_wake(&c->release, INT_MAX);
	if (efd >= 0) {
		sys_write(efd, &one, sizeof(one));
		sys_close(efd);
	}
	worker_done(c);
	if (cb)
		cb(pid, arg);
	else if (cb1)
		cb1(pid);
}

static void *worker(void *unused)
{
	struct afork_child *c;
	struct timespec ts;

	(void)unused;
	pthread_mutex_lock(&vf_lock);
	for (;;) {
		while (!q_head) {
			int r;

			clock_gettime(CLOCK_MONOTONIC, &ts);
			ts.tv_sec += VF_IDLE_SEC;
			n_idle++;
			r = pthread_cond_timedwait(&vf_cv, &vf_lock, &ts);
			n_idle--;
			if (r == ETIMEDOUT && !q_head) {
				n_workers--;
				pthread_mutex_unlock(&vf_lock);
				return NULL;
			}
		}
		c = q_head;
		q_head = c->vf_next;
		if (!q_head)
			q_tail = NULL;
		q_len--;
		pthread_mutex_unlock(&vf_lock);
		run_job(c);
		pthread_mutex_lock(&vf_lock);
	}
}

static int start_worker(void)
{
	sigset_t all, old;
	pthread_attr_t a;
	pthread_t t;
	int r;

	pthread_attr_init(&a);
	pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&a, VF_WORKER_STACK);
	/* Workers never take the application's signals. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	r = pthread_create(&t, &a, worker, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&a);
	return r;
}

int afork__vfork_submit(struct afork_child *c)
{
	int spawn = 0, r;

	pthread_once(&vf_once, vf_init);
	c->reset_handlers = 1;
	c->set_mask = 1;
	afork__store(&c->vf_state, VF_QUEUED);
	c->vf_next = NULL;

	pthread_mutex_lock(&vf_lock);
	if (q_tail)
		q_tail->vf_next = c;
	else
		q_head = c;
	q_tail = c;
	q_len++;
	if (q_len > n_idle && n_workers < VF_MAX_WORKERS) {
		n_workers++;
		spawn = 1;
	}
	pthread_cond_signal(&vf_cv);
	pthread_mutex_unlock(&vf_lock);
	if (!spawn)
		return 0;

	r = start_worker();
	if (!r)
		return 0;
	pthread_mutex_lock(&vf_lock);
	n_workers--;
	if (n_idle == 0) {
		/*
		 * No worker is free to run it and none could be started: take
		 * it back if still queued rather than make the caller wait for
		 * a busy worker's child to exec or exit.
		 */
		struct afork_child **pp;

		for (pp = &q_head; *pp; pp = &(*pp)->vf_next) {
			if (*pp == c) {
				*pp = c->vf_next;
				if (q_tail == c) {
					struct afork_child *t = q_head;

					while (t && t->vf_next)
						t = t->vf_next;
					q_tail = t;
				}
				q_len--;
				pthread_mutex_unlock(&vf_lock);
				return -EAGAIN;
			}
		}
	}
	pthread_mutex_unlock(&vf_lock);
	return 0;
}

int afork__vfork_start(struct afork_child *c, int flags, unsigned int options)
{
	uint32_t s;
	int r;

	if (flags)
		return -ENOTSUP;	/* cannot be honoured, see above */
	c->backend = AFORK_BACKEND_VFORK;
	if (!(options & AFORK_OPT_SIGMASK))
		c->child_mask = afork__current_mask();
	if (options & AFORK_OPT_RELEASE_FD) {
		r = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (r < 0)
			return -errno;
		c->release_fd = r;
		c->child_fd[0] = r;
		c->release_events = POLLIN;
		/* The worker's own reference: the caller may close theirs. */
		r = (int)sys_fcntl(c->release_fd, F_DUPFD_CLOEXEC, 0);
		if (r < 0)
			goto fail;
		c->vf_efd = r;
	}
	c->vf_pidfd = !!(options & AFORK_OPT_PIDFD);
	r = afork__vfork_submit(c);
	if (r < 0)
		goto fail;
	while ((s = afork__load(&c->vf_state)) == VF_QUEUED)
		sys_futex_wait(&c->vf_state, VF_QUEUED, NULL);
	if (s == VF_FAILED) {
		c->vf_efd = -1;		/* the worker closed it */
		r = -c->vf_err;
		goto fail;
	}
	/* The kernel stored the pidfd (CLONE_PIDFD) before the child ran. */
	c->pid = c->vf_pid;
	return 0;
fail:
	if (c->vf_efd >= 0)
		sys_close(c->vf_efd);
	c->vf_efd = -1;
	if (c->release_fd >= 0)
		sys_close(c->release_fd);
	c->release_fd = -1;
	return r;
}
