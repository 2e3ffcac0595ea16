// SPDX-License-Identifier: MIT
/*
 * libafork under load, on every backend: 8 threads each start
 * AFORK_STRESS_N children (default 25, the guest's make check; make
 * stress: 10,000) in batches,
 * through every API (afork, aforkx, afork_start, afork_start_ctx) with
 * random flags, options, stack sizes and signal masks, while a storm of
 * SIGUSR1 hits the parent process and each of its threads.  Children exit,
 * wait to be let go, exec a helper or fail an exec; the parent kills some
 * of them at random points: right after afork returns (before exec), after
 * a random delay (during exec), after release (after exec).
 *
 * Checked: every afork succeeds; every child ends with its exit code or,
 * when it was sent a signal its mask does not block, by that signal; the
 * parent's SIGUSR1 handler runs (counted) but never in a child (the
 * handler compares getpid() with the parent's, and each child checks its
 * own SIGUSR1 disposition); exec errors arrive through the handle; release
 * fds fire; and after the test the fds, the mappings, the zombies and the
 * stack pool are back to their starting counts.
 */
#include "stress_util.h"

#define THREADS 8
#define BATCH_MAX 16
#define CODE_BAD 99		/* the child found a caught handler */
#define CODE_EXECFAIL 126

enum kind { K_EXIT, K_WAIT, K_EXEC, K_EXECFAIL };
enum api { A_AFORK, A_AFORKX, A_START, A_START_CTX };

/* What one child reads; left alone by the parent until the child is reaped. */
struct job {
	enum kind kind;
	enum api api;
	int code;
	uint32_t go;
	struct afork_child *c;
	pid_t pid;
	int sig;		/* sent to the child, or 0 */
	uint64_t mask;		/* the child's signal mask */
};

struct worker {
	pthread_t th;
	pid_t tid;
	unsigned int id;
	unsigned long n;
	struct rng rng;
	unsigned long spawned, killed, execs, failures;
	char why[256];
	struct job jobs[BATCH_MAX];
};

static pid_t parent_pid;
static unsigned long handler_runs, handler_in_child;
static volatile int storm_stop;
static struct worker workers[THREADS];

static void on_usr1(int sig)
{
	(void)sig;
	__atomic_add_fetch(&handler_runs, 1, __ATOMIC_RELAXED);
	if (syscall(SYS_getpid) != parent_pid)
		__atomic_add_fetch(&handler_in_child, 1, __ATOMIC_RELAXED);
}

/* ---- the children: afork_child_*() only ---------------------------- */

static int usr1_caught(void)
{
	struct { void *h; unsigned long f; void *r; uint64_t m; } act;

	if (afork_child_syscall(SYS_rt_sigaction, SIGUSR1, 0, (long)&act, 8, 0, 0))
		return 1;
	return act.h != (void *)SIG_DFL;
}

static int child_plain(void *p)
{
	struct job *j = p;

	if (usr1_caught())
		return CODE_BAD;
	switch (j->kind) {
	case K_WAIT:
		while (!__atomic_load_n(&j->go, __ATOMIC_ACQUIRE))
			afork_child_syscall(SYS_futex, (long)&j->go, FUTEX_WAIT, 0,
					    0, 0, 0);
		return j->code;
	case K_EXEC:
		afork_child_execve(stress_self, stress_helper_argv[j->code],
				   stress_empty_env);
		return CODE_EXECFAIL;
	case K_EXECFAIL:
		afork_child_execve("/nonexistent/helper", stress_helper_argv[0],
				   stress_empty_env);
		return CODE_EXECFAIL;
	default:
		return j->code;
	}
}

static int child_ctx(struct afork_ctx *ctx, void *p)
{
	struct job *j = p;

	if (usr1_caught())
		return CODE_BAD;
	if (j->kind == K_EXEC)
		afork_ctx_execve(ctx, stress_self, stress_helper_argv[j->code],
				 stress_empty_env);
	else if (j->kind == K_EXECFAIL)
		afork_ctx_execve(ctx, "/nonexistent/helper", stress_helper_argv[0],
				 stress_empty_env);
	else
		return child_plain(p);
	return CODE_EXECFAIL;
}

/* ---- the parent side ---------------------------------------------- */

static void wfail(struct worker *w, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void wfail(struct worker *w, const char *fmt, ...)
{
	va_list ap;

	if (!w->failures++) {
		va_start(ap, fmt);
		vsnprintf(w->why, sizeof(w->why), fmt, ap);
		va_end(ap);
	}
}

static uint64_t thread_mask(void)
{
	uint64_t m = 0;

	syscall(SYS_rt_sigprocmask, SIG_BLOCK, NULL, &m, 8);
	return m;
}

static void send_sig(struct worker *w, struct job *j)
{
	static const int sigs[] = { SIGKILL, SIGTERM, SIGUSR1, SIGINT, SIGHUP };
	int fd = j->c ? afork_pidfd(j->c) : -1;

	if (j->sig)
		return;
	j->sig = sigs[rng_below(&w->rng, sizeof(sigs) / sizeof(sigs[0]))];
	if (fd >= 0)
		syscall(SYS_pidfd_send_signal, fd, j->sig, NULL, 0);
	else
		kill(j->pid, j->sig);	/* not reaped yet: the pid is ours */
	w->killed++;
}

static int start_job(struct worker *w, struct job *j)
{
	struct afork_opts o;
	int flags = stress_flags((int)rng_below(&w->rng, 4)), r;
	uint64_t x = rng_below(&w->rng, 100);

	memset(j, 0, sizeof(*j));
	j->kind = x < 45 ? K_EXIT : x < 70 ? K_WAIT : x < 90 ? K_EXEC : K_EXECFAIL;
	j->code = (int)rng_below(&w->rng, 8);
	x = rng_below(&w->rng, 100);
	j->api = x < 25 ? A_AFORK : x < 40 ? A_AFORKX : x < 85 ? A_START : A_START_CTX;
	j->mask = thread_mask();

	switch (j->api) {
	case A_AFORK:
		j->pid = afork(child_plain, j);
		return j->pid > 0 ? 0 : -1;
	case A_AFORKX:
		j->pid = aforkx(flags, child_plain, j);
		return j->pid > 0 ? 0 : -1;
	default:
		break;
	}
	afork_opts_init(&o);
	o.flags = flags;
	o.options = (unsigned int)rng_below(&w->rng, 8);
	if (rng_pct(&w->rng, 30))
		o.stack_size = stress_stack_sizes[rng_below(&w->rng,
			sizeof(stress_stack_sizes) / sizeof(stress_stack_sizes[0]))];
	if (o.options & AFORK_OPT_SIGMASK) {
		j->mask = rng_next(&w->rng) & ~(SIGBIT(SIGKILL) | SIGBIT(SIGSTOP));
		memcpy(&o.sigmask, &j->mask, 8);
	}
	if (j->api == A_START)
		r = afork_start(&j->c, &o, child_plain, j);
	else
		r = afork_start_ctx(&j->c, &o, child_ctx, j);
	if (r)
		return -1;
	j->pid = afork_pid(j->c);
	return 0;
}

/* Would @sig kill a child that blocks @mask (handlers are all reset)? */
static int fatal(int sig, uint64_t mask)
{
	return sig == SIGKILL || !(mask & SIGBIT(sig));
}

static void finish_job(struct worker *w, struct job *j)
{
	int st = 0, want, e;
	pid_t got;

	if (j->kind == K_WAIT) {
		__atomic_store_n(&j->go, 1, __ATOMIC_RELEASE);
		syscall(SYS_futex, &j->go, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
	}
	if (j->c) {
		if (afork_wait_release(j->c, STRESS_TIMEOUT_MS))
			wfail(w, "child %d: no release within %d ms (%s)", j->pid,
			      STRESS_TIMEOUT_MS, strerror(errno));
		if (rng_pct(&w->rng, 3))
			send_sig(w, j);		/* after exec */
		if (exit_bounded(j->pid))
			wfail(w, "child %d stuck for %d ms", j->pid, STRESS_TIMEOUT_MS);
		do {
			got = afork_wait(j->c, &st, 0);
		} while (got < 0 && errno == EINTR);
		if (got != j->pid)
			wfail(w, "afork_wait(%d): %d (%s)", j->pid, got, strerror(errno));
		if (afork_released(j->c) != 1)
			wfail(w, "child %d reaped but not released", j->pid);
		if (afork_wait(j->c, NULL, WNOHANG) != -1 || errno != ECHILD)
			wfail(w, "afork_wait of a reaped child: not ECHILD");
		e = afork_exec_errno(j->c);
		if (j->api == A_START_CTX && !j->sig &&
		    e != (j->kind == K_EXECFAIL ? ENOENT : 0))
			wfail(w, "exec errno %d for kind %d", e, j->kind);
		{
			struct pollfd p;

			if (afork_release_pollfd(j->c, &p) == 0 &&
			    !(poll_revents(p.fd, p.events, 0) & (p.events | POLLHUP)))
				wfail(w, "release fd of %d not ready after exit", j->pid);
		}
		afork_free(j->c);
	} else {
		got = reap_bounded(j->pid, &st);
		if (got != j->pid)
			wfail(w, "reaping %d: %d (%s)", j->pid, got, strerror(errno));
	}

	want = j->kind == K_EXECFAIL ? CODE_EXECFAIL : j->code;
	if (WIFEXITED(st) && WEXITSTATUS(st) == want)
		return;
	if (WIFSIGNALED(st) && j->sig && WTERMSIG(st) == j->sig &&
	    fatal(j->sig, j->mask))
		return;
	if (WIFEXITED(st) && WEXITSTATUS(st) == CODE_BAD)
		wfail(w, "child %d found the parent's SIGUSR1 handler", j->pid);
	else
		wfail(w, "child %d (kind %d api %d sig %d mask %#" PRIx64 "): "
		      "status %#x, want exit %d", j->pid, j->kind, j->api, j->sig,
		      j->mask, st, want);
}

static void *worker_main(void *p)
{
	struct worker *w = p;
	unsigned long done = 0;

	w->tid = (pid_t)syscall(SYS_gettid);
	while (done < w->n && w->failures < 100) {
		unsigned int batch = 1 + (unsigned int)rng_below(&w->rng, BATCH_MAX), i;

		if (batch > w->n - done)
			batch = (unsigned int)(w->n - done);
		for (i = 0; i < batch; i++) {
			struct job *j = &w->jobs[i];

			if (start_job(w, j)) {
				wfail(w, "afork (api %d): %s", j->api, strerror(errno));
				batch = i;
				break;
			}
			w->spawned++;
			if (j->kind == K_EXEC)
				w->execs++;
			if (rng_pct(&w->rng, 8))
				send_sig(w, j);			/* before exec */
		}
		for (i = 0; i < batch; i++) {
			struct job *j = &w->jobs[i];

			if (rng_pct(&w->rng, 6)) {		/* during exec */
				volatile unsigned long n, spin = rng_log(&w->rng, 200000);

				for (n = 0; n < spin; n++)
					;
				send_sig(w, j);
			}
			finish_job(w, j);
		}
		done += batch;
	}
	return NULL;
}

static void *storm_main(void *unused)
{
	struct rng r;
	unsigned long sent = 0;

	(void)unused;
	rng_init(&r, stress_seed(), 999);
	while (!storm_stop) {
		struct worker *w = &workers[rng_below(&r, THREADS)];

		kill(parent_pid, SIGUSR1);
		if (w->tid)
			syscall(SYS_tgkill, parent_pid, w->tid, SIGUSR1);
		sent += 2;
		sched_yield();
	}
	return (void *)sent;
}

static void run_workers(struct __test_metadata *_metadata, unsigned long n,
			int storm, uint64_t stream)
{
	pthread_attr_t a;
	pthread_t st;
	void *sent = NULL;
	unsigned long spawned = 0, killed = 0, execs = 0, fails = 0;
	unsigned int i;

	pthread_attr_init(&a);
	pthread_attr_setstacksize(&a, STRESS_THREAD_STACK);
	storm_stop = 0;
	for (i = 0; i < THREADS; i++) {
		struct worker *w = &workers[i];

		memset(w, 0, sizeof(*w));
		w->id = i;
		w->n = n;
		rng_init(&w->rng, stress_seed(), stream * 100 + i);
		ASSERT_EQ(0, pthread_create(&w->th, &a, worker_main, w));
	}
	if (storm)
		ASSERT_EQ(0, pthread_create(&st, &a, storm_main, NULL));
	for (i = 0; i < THREADS; i++) {
		struct worker *w = &workers[i];

		pthread_join(w->th, NULL);
		spawned += w->spawned;
		killed += w->killed;
		execs += w->execs;
		fails += w->failures;
		if (w->failures)
			TH_LOG("thread %u: %lu failure(s), first: %s", i,
			       w->failures, w->why);
	}
	storm_stop = 1;
	if (storm)
		pthread_join(st, &sent);
	pthread_attr_destroy(&a);
	EXPECT_EQ(0ul, fails);
	TH_LOG("%lu spawns (%lu exec), %lu killed at random points, "
	       "%lu SIGUSR1 sent, %lu handled by the parent",
	       spawned, execs, killed, (unsigned long)sent, handler_runs);
}

/* 8 threads x N aforks under a SIGUSR1 storm, random kills; nothing leaks. */
TEST_F_TIMEOUT(backend, storm, 600)
{
	struct sigaction sa;
	static struct snapshot base;
	unsigned long n = env_u64("AFORK_STRESS_N", 25);

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	sa.sa_flags = SA_RESTART;
	ASSERT_EQ(0, sigaction(SIGUSR1, &sa, NULL));
	parent_pid = getpid();

	/* Warm up (lazy init, glibc's caches, vfork workers), then measure. */
	run_workers(_metadata, 5, 0, 1);
	TAKE_BASELINE(base);
	handler_runs = 0;

	run_workers(_metadata, n, 1, 2);
	EXPECT_EQ(0ul, handler_in_child);
	EXPECT_GT(handler_runs, 0ul);
	EXPECT_NO_LEAK(base);
}

STRESS_MAIN
