// SPDX-License-Identifier: GPL-2.0
/*
 * afork_fuzz: call afork() with random and adversarial arguments and check
 * every result against the documented errno (fuzz_oracle.c), and every
 * child it creates against the documented behaviour, while the system
 * stays sane: every child is reaped with an expected status, no task or
 * pidfd leaks, nothing blocks beyond a timeout.
 *
 *   afork_fuzz [-s SEED] [-n ITERATIONS] [-t SECONDS] [-i ITERATION] [-v]
 *
 * Environment: AFORK_FUZZ_SEED, AFORK_FUZZ_ITERATIONS, AFORK_FUZZ_SECONDS.
 * Without -n or -t it runs for 30 seconds (the make check version); -n
 * alone sets no time limit.  The seed is random unless given.
 * The run stops after ITERATIONS or SECONDS, whichever comes first, and
 * prints the seed and how many iterations ran, so that
 * "-s SEED -n N" replays it and "-s SEED -i I" replays iteration I alone
 * (every iteration draws from its own stream of the seed).  Only the
 * outcome of the racing threads depends on timing; the oracle accepts
 * every outcome a race can produce.
 *
 * What one iteration does:
 *   - lays out the arena, a fixed run of pages whose protections it
 *     draws (read-write, read-only, PROT_NONE, unmapped): the argument
 *     struct (at any offset, of any size from 0 to past a page, with a
 *     zero or non-zero tail), the release word, the pidfd slot and the
 *     signal mask go in its data pages, the child's stack in its stack
 *     pages; or it passes NULL, kernel, non-canonical or top-of-user
 *     addresses instead;
 *   - draws the flags (known, unknown, AFORK_QUERY, all 64 bits), the
 *     stack size (0, tiny, huge, wrapping), a random signal mask, the
 *     parent's own mask and its SIGCHLD disposition (default, SIG_IGN,
 *     SA_NOCLDWAIT);
 *   - optionally has a second thread munmap() the struct, the release
 *     word, the pidfd slot, the mask or the stack during the call;
 *   - calls afork() and compares the result with the oracle;
 *   - on success follows the child: it checks its own mask, dispositions,
 *     stack and parent, then exits, waits on a futex, execs this program,
 *     fails an exec, or faults; the parent may signal or kill it at a
 *     random point; the parent checks the release word, POLLPRI before
 *     POLLIN on the pidfd, the AFORK_WAITPID and auto-reap rules, the
 *     SIGCHLD rule, the exit status, and that no task and no fd is left.
 *
 * A bad stack address inside user space cannot be detected by the kernel
 * (access_ok() only rejects kernel addresses): such a child dies of
 * SIGSEGV on its first push, which the fuzzer accepts and reaps.
 *
 * Output is TAP (kselftest.h); exit 4 (skip) when afork() is absent.
 *
 * The plan, its drawing and following a child are in fuzz_plan.c,
 * fuzz_draw.c and fuzz_follow.c (afork_fuzz.h).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "afork_fuzz.h"
#include "fuzz_sys.h"
#include "kselftest.h"
#include "../common/proc_util.h"

const char *const check_name[C_NR] = {
	"results match the documented errno (oracle)",
	"no task leaked: every child reaped, none created on error",
	"no fd leaked: a pidfd only on success with AFORK_PIDFD",
	"every child ended with an expected status",
	"children start with the given mask, reset handlers, given stack",
	"release: word holds the TID, then 0; POLLPRI before POLLIN",
	"AFORK_WAITPID and auto-reaping as documented",
	"SIGCHLD only without AFORK_NOSIGCHLD",
	"no call or child stuck beyond the timeout",
};

struct fuzz_opt opt = { 0, 100000000, 30, -1, 0, 60000 };

static size_t ksize;
static char self_path[PATH_MAX];
static char *exec_argv[] = { "afork_fuzz", "--exec-child", NULL };
static char *exec_envp[] = { NULL };
static char *fail_argv[] = { "nonexistent", NULL };
struct child_job job;
static pid_t self_pid;
static volatile int handler_in_child;

struct fuzz_figures fig;
static uint64_t failures[C_NR];
static uint64_t cur_iter;

static volatile uint64_t progress;

static const struct plan *cur_plan;
static int plan_shown;

void failf(enum check c, const char *fmt, ...)
{
	va_list ap;

	if (failures[c]++ >= 8)
		return;
	if (cur_plan && !plan_shown && !opt.verbose)
		print_plan(cur_plan);
	plan_shown = 1;
	printf("# FAIL iteration %" PRIu64 ": ", cur_iter);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf(" [replay: afork_fuzz -s %" PRIu64 " -i %" PRIu64 " -v]\n",
	       opt.seed, cur_iter);
	fflush(stdout);
}

void die(const char *what)
{
	ksft_exit_fail_msg("%s: %s (iteration %" PRIu64 ")\n", what,
			   strerror(errno), cur_iter);
}

/* ------------------------------------------------------------------ */
/* The child                                                           */
/* ------------------------------------------------------------------ */

/*
 * Runs in the afork child on whatever stack it was given, with the
 * parent thread's TLS: raw system calls only, no errno, no libc.
 */
static int child_fn(void *p)
{
	struct child_job *j = p;
	struct fuzz_ksigaction act;
	volatile char local = 0;
	uint64_t mask = 0;
	int bad = 0;
	long r;

	if (raw4(__NR_rt_sigprocmask, SIG_BLOCK, 0, &mask, 8) || mask != j->mask)
		bad |= BAD_MASK;
	if (raw4(__NR_rt_sigaction, SIGUSR1, 0, &act, 8) ||
	    act.handler != (void *)SIG_DFL)
		bad |= BAD_USR1;
	if (raw4(__NR_rt_sigaction, SIGUSR2, 0, &act, 8) ||
	    act.handler != (void *)SIG_IGN)
		bad |= BAD_USR2;
	if (j->check_stack && ((uintptr_t)&local >= j->top ||
			       (uintptr_t)&local < j->top - CHILD_STACK_NEED * 4096))
		bad |= BAD_STACK;
	if (raw0(__NR_getppid) != j->ppid)
		bad |= BAD_PPID;
	if (bad)
		return CODE_BAD | bad;

	switch (j->mode) {
	case M_EXIT:
		return CODE_OK;
	case M_WAIT:
		while (load32(&j->go) == 0)
			futex_wait(&j->go, 0, NULL);
		return CODE_OK;
	case M_EXEC:
		raw3(__NR_execve, j->path, j->argv, j->envp);
		return CODE_BAD | BAD_EXEC;
	case M_EXECFAIL:
		r = raw3(__NR_execve, "/nonexistent/afork_fuzz", fail_argv,
			 j->envp);
		return r == -ENOENT ? CODE_EXECFAIL : CODE_BAD | BAD_EXEC;
	case M_FAULT:
		*(volatile int *)j->fault_addr = 1;
		return CODE_BAD | BAD_EXEC;
	default:
		return CODE_BAD;
	}
}

/* The parent catches SIGUSR1: the handler must never run in a child. */
static void on_usr1(int sig)
{
	(void)sig;
	if (raw0(__NR_getpid) != self_pid)
		handler_in_child = 1;
}

/* ------------------------------------------------------------------ */
/* The racing thread                                                   */
/* ------------------------------------------------------------------ */

static struct {
	volatile uint32_t seq, done;
	volatile uintptr_t addr;
	volatile size_t len;
	volatile unsigned long spin;
	volatile int quit;
} race;

static void *racer(void *unused)
{
	uint32_t seen = 0, s;
	volatile unsigned long n;

	(void)unused;
	for (;;) {
		while ((s = load32(&race.seq)) == seen)
			futex_wait(&race.seq, seen, NULL);
		seen = s;
		if (race.quit)
			return NULL;
		for (n = 0; n < race.spin; n++)
			;
		munmap((void *)race.addr, race.len);
		store32(&race.done, s);
		futex_wake(&race.done);
	}
}

static void race_start(const struct plan *p)
{
	race.addr = arena + p->race_lo * page;
	race.len = (p->race_hi - p->race_lo) * page;
	race.spin = p->race_spin;
	store32(&race.seq, load32(&race.seq) + 1);
	futex_wake(&race.seq);
}

static void race_wait(void)
{
	uint32_t want = load32(&race.seq), d;

	while ((d = load32(&race.done)) != want)
		futex_wait(&race.done, d, NULL);
}

/* ------------------------------------------------------------------ */
/* The watchdog: a stuck system call or child fails the run.           */
/* ------------------------------------------------------------------ */

static volatile uint32_t watchdog_stop;

static void *watchdog(void *unused)
{
	struct timespec ts = { 0, 0 };
	uint64_t last = (uint64_t)-1;

	(void)unused;
	ts.tv_sec = (opt.timeout_ms / 1000) * 3;
	while (!load32(&watchdog_stop)) {
		if (futex_wait(&watchdog_stop, 0, &ts) != -ETIMEDOUT)
			continue;
		if (progress == last) {
			printf("not ok %d %s: iteration %" PRIu64
			       " stuck for %ld s [replay: afork_fuzz -s %"
			       PRIu64 " -i %" PRIu64 " -v]\n", C_STUCK + 1,
			       check_name[C_STUCK], cur_iter, (long)ts.tv_sec,
			       opt.seed, cur_iter);
			fflush(stdout);
			_exit(KSFT_FAIL);
		}
		last = progress;
	}
	return NULL;
}

/* ------------------------------------------------------------------ */
/* One iteration                                                       */
/* ------------------------------------------------------------------ */

static int lowest_free_fd(void)
{
	int fd = fcntl(1, F_DUPFD, 0);

	if (fd < 0)
		die("F_DUPFD");
	close(fd);
	return fd;
}

static void set_sigchld(enum disp d)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = d == D_IGN ? SIG_IGN : SIG_DFL;
	sa.sa_flags = d == D_NOCLDWAIT ? SA_NOCLDWAIT : 0;
	sigaction(SIGCHLD, &sa, NULL);
}

/* The oracle's view of the arena as the plan lays it out. */
static void oracle_view(struct mem_view *m, const struct plan *p)
{
	memset(m, 0, sizeof(*m));
	m->base = arena;
	m->npages = ARENA_PAGES;
	m->page = page;
	m->state = p->state;
	m->shadow = shadow;
	m->task_size_max = task_size_max;
	m->flip = UINT_MAX;
}

/* The child's job. */
static void prepare_job(const struct plan *p, const struct oracle_out *want)
{
	memset(&job, 0, sizeof(job));
	job.mode = p->mode;
	job.mask = want->child_mask;
	job.top = (uintptr_t)(p->a.stack + p->a.stack_size) & ~(uintptr_t)15;
	job.ppid = self_pid;
	job.path = self_path;
	job.argv = exec_argv;
	job.envp = exec_envp;
	job.fault_addr = 16;
	/* The child checks its stack only where it surely runs (see below). */
	job.check_stack = !p->race && job.top >= pg_addr(STACK_FIRST + CHILD_STACK_NEED) &&
			  job.top <= pg_addr(STACK_FIRST + STACK_PAGES);
}

/*
 * The call, under the planned SIGCHLD disposition and mask, racing the
 * munmap() if planned: its result; *lowest is the lowest free fd before.
 */
static long call_afork(const struct plan *p, int *lowest)
{
	sigset_t ps;
	long ret;

	set_sigchld(p->disp);
	memset(&ps, 0, sizeof(ps));
	memcpy(&ps, &p->parent_mask, 8);
	pthread_sigmask(SIG_SETMASK, &ps, NULL);
	*lowest = lowest_free_fd();

	if (p->race)
		race_start(p);
	ret = fuzz_afork((void *)p->uargs, p->size, child_fn, &job);
	if (p->race) {
		size_t i;

		race_wait();
		for (i = p->race_lo; i < p->race_hi; i++)
			cur_state[i] = PG_UNMAPPED;
		fig.races++;
	}
	fig.calls++;
	/* Keep SIGCHLD blocked from here on: the checks read it pending. */
	sigemptyset(&ps);
	sigaddset(&ps, SIGCHLD);
	pthread_sigmask(SIG_SETMASK, &ps, NULL);
	return ret;
}

/*
 * Does @norm match the oracle, without the race or with it at any point?
 * *o: the view that matched (the last one tried if none did).
 */
static int oracle_match(const struct plan *p, struct mem_view *m,
			const struct oracle_out *want, long norm,
			struct oracle_out *o)
{
	unsigned int flip, max_flip = p->race ? want->accesses : 0;
	int match = 0;

	*o = *want;
	for (flip = 0; flip <= max_flip && !match; flip++) {
		if (p->race) {
			m->race_lo = p->race_lo;
			m->race_hi = p->race_hi;
			m->flip = flip;
			oracle_eval(m, p->uargs, p->size, ksize, o);
		}
		match = o->ret == norm;
	}
	return match;
}

static void count_result(long ret, long norm)
{
	if (ret < 0 && -ret < 160)
		fig.by_errno[-ret]++;
	else if (ret == (long)ksize && norm != ORACLE_CHILD)
		fig.query_ok++;
	else if (ret <= 0)
		fig.other_ret++;
}

/* The word: 0 iff the kernel got as far as storing it. */
static void check_word_untouched(const struct plan *p, const struct oracle_out *want,
				 long ret, int match)
{
	uint32_t w, exp;

	if (p->race || !want->read_args || !p->a.release_word ||
	    !rw_now(p->a.release_word, 4) ||
	    overlaps(p->a.release_word, 4, p->a.pidfd, 4) ||
	    overlaps(p->a.release_word, 4, p->a.sigmask, 8))
		return;
	/*
	 * A plain read: the word may be misaligned here (the call refused
	 * it), and arm64's acquire load faults on a misaligned address.
	 */
	memcpy(&w, (void *)(uintptr_t)p->a.release_word, 4);
	exp = want->word_zeroed ? 0 : WORD_SENTINEL;
	if (match && w != exp)
		failf(C_RELEASE, "after %ld the release word is %#x, want %#x",
		      ret, w, exp);
}

/* No child was made: no task, no fd, the slots as they were. */
static void check_no_child(const struct plan *p, const struct oracle_out *want,
			   long ret, long norm, int match, int lowest)
{
	long c = any_child_left();

	if (c != 0)
		failf(C_TASKS, "a task exists after afork returned %ld: %ld", ret, c);
	if (fcntl(lowest, F_GETFD) >= 0) {
		failf(C_FDS, "fd %d left behind by afork returning %ld", lowest, ret);
		close(lowest);
	}
	check_word_untouched(p, want, ret, match);
	if (!p->race && p->a.pidfd && rw_now(p->a.pidfd, 4) &&
	    !overlaps(p->a.pidfd, 4, p->a.release_word, 4)) {
		int v;

		memcpy(&v, (void *)(uintptr_t)p->a.pidfd, 4);
		if (v != PIDFD_SENTINEL)
			failf(C_FDS, "after %ld the pidfd slot holds %d", ret, v);
	}
	if (ret == (long)ksize && norm != ORACLE_CHILD && rw_now(p->uargs, 8)) {
		uint64_t f;

		memcpy(&f, (void *)p->uargs, 8);
		if (f != AFORK_FLAGS_ALL)
			failf(C_ORACLE, "AFORK_QUERY stored flags %#" PRIx64, f);
	}
	sigchld_take();
}

static void run_iteration(uint64_t iter)
{
	struct oracle_out want, o;
	struct mem_view m;
	struct plan p;
	int lowest, match;
	long ret, norm;

	cur_iter = iter;
	draw_plan(iter, &p);
	cur_plan = &p;
	plan_shown = 0;
	if (opt.verbose)
		print_plan(&p);
	arena_apply(&p);

	/* The oracle, without the race and with it at every point. */
	oracle_view(&m, &p);
	oracle_eval(&m, p.uargs, p.size, ksize, &want);
	prepare_job(&p, &want);
	ret = call_afork(&p, &lowest);

	norm = ret;
	if (ret > 0 && !(want.read_args && (want.args.flags & AFORK_QUERY)))
		norm = ORACLE_CHILD;
	match = oracle_match(&p, &m, &want, norm, &o);
	count_result(ret, norm);
	if (!match) {
		failf(C_ORACLE, "afork returned %ld (%s), oracle says %ld (%s)%s",
		      ret, ret < 0 ? strerror((int)-ret) : "-", want.ret,
		      want.ret < 0 ? strerror((int)-want.ret) : "-",
		      p.race ? " or any raced outcome" : "");
	}

	if (ret > 0 && norm == ORACLE_CHILD)
		follow_child(&p, &o, (pid_t)ret, lowest);
	else
		check_no_child(&p, &want, ret, norm, match, lowest);

	if (handler_in_child)
		failf(C_CHILD, "the parent's SIGUSR1 handler ran in a child");
	handler_in_child = 0;
	set_sigchld(D_DFL);
	cur_plan = NULL;
	progress++;
}

/* ------------------------------------------------------------------ */
/* Setup                                                               */
/* ------------------------------------------------------------------ */

/* Is [lo, hi) free of mappings (so that a child's stack there faults)? */
static int range_unmapped(uint64_t lo, uint64_t hi)
{
	FILE *f = fopen("/proc/self/maps", "re");
	unsigned long a, b;
	char line[512];
	int ok = 1;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%lx-%lx", &a, &b) == 2 && a < hi && lo < b)
			ok = 0;
	fclose(f);
	return ok;
}

#if defined(__x86_64__)
static uint64_t detect_task_size_max(void)
{
	void *p = mmap((void *)(1UL << 50), page, PROT_NONE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint64_t max = (1ULL << 47) - page;

	if (p != MAP_FAILED) {
		if ((uintptr_t)p >= (1UL << 47))
			max = (1ULL << 56) - page;	/* 5-level paging */
		munmap(p, page);
	}
	return max;
}
#else
static int probe_child(void *unused)
{
	(void)unused;
	return 0;
}

/*
 * arm64: the limit is 1 << VA_BITS of the kernel's configuration (39 to
 * 52), which the mappings do not tell.  Ask the system call: a stack
 * whose top is above the limit fails with EINVAL (clone3_stack_valid())
 * before anything else, one at or below it gets as far as storing the
 * pidfd, which fails with EFAULT at a kernel address and leaves no child.
 */
static uint64_t detect_task_size_max(void)
{
	int k;

	for (k = 56; k >= 36; k--) {
		uint64_t top = 1ULL << k;
		struct afork_args a;
		long r;

		memset(&a, 0, sizeof(a));
		a.flags = AFORK_PIDFD;
		a.pidfd = 0xfffffffffffff000ULL;
		a.stack = top - page;
		a.stack_size = page;
		r = fuzz_afork(&a, sizeof(a), probe_child, NULL);
		if (r > 0)	/* not expected: reap it */
			waitpid((pid_t)r, NULL, __WALL);
		if (r == -EFAULT || r > 0)
			return top;
	}
	return (1ULL << 48);
}
#endif

static void usage(void)
{
	fprintf(stderr, "usage: afork_fuzz [-s SEED] [-n ITERATIONS] [-t SECONDS] "
		"[-i ITERATION] [-T TIMEOUT_MS] [-v]\n");
	exit(2);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Options from the environment, then the command line; a seed if none. */
static void parse_args(int argc, char **argv)
{
	int c, t_given = 0;

	opt.seed = env_u64("AFORK_FUZZ_SEED", 0);
	if (getenv("AFORK_FUZZ_ITERATIONS")) {
		opt.iterations = env_u64("AFORK_FUZZ_ITERATIONS", 0);
		opt.seconds = 0;
	}
	if (getenv("AFORK_FUZZ_SECONDS"))
		opt.seconds = (double)env_u64("AFORK_FUZZ_SECONDS", 0);
	while ((c = getopt(argc, argv, "s:n:t:i:T:v")) != -1) {
		switch (c) {
		case 's': opt.seed = strtoull(optarg, NULL, 0); break;
		case 'n':
			opt.iterations = strtoull(optarg, NULL, 0);
			if (!t_given)
				opt.seconds = 0;
			break;
		case 't': opt.seconds = strtod(optarg, NULL); t_given = 1; break;
		case 'i': opt.only = (int64_t)strtoull(optarg, NULL, 0); break;
		case 'T': opt.timeout_ms = atoi(optarg); break;
		case 'v': opt.verbose = 1; break;
		default: usage();
		}
	}
	if (!opt.seed) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		opt.seed = ((uint64_t)ts.tv_sec << 20) ^ (uint64_t)ts.tv_nsec ^
			   ((uint64_t)getpid() << 40);
	}
}

/* What the machine offers: the system call (else skip), the limits, the arena. */
static void setup_machine(void)
{
	struct afork_args q = { .flags = AFORK_QUERY };
	struct rlimit nocore = { 0, 0 };
	size_t i;
	long r;

	r = syscall(__NR_afork, &q, sizeof(q));
	if (r < AFORK_ARGS_SIZE_VER0 || q.flags != AFORK_FLAGS_ALL)
		ksft_exit_skip("afork() is not supported by this kernel\n");
	ksize = (size_t)r;

	page = (size_t)sysconf(_SC_PAGESIZE);
	task_size_max = detect_task_size_max();
	top_free = range_unmapped(task_size_max - 65536 - page, task_size_max);
	low_free = range_unmapped(0, 3 * 4096);
	r = readlink("/proc/self/exe", self_path, sizeof(self_path) - 1);
	if (r <= 0)
		ksft_exit_fail_msg("readlink /proc/self/exe: %s\n", strerror(errno));
	self_path[r] = 0;
	self_pid = getpid();
	setrlimit(RLIMIT_CORE, &nocore);

	shadow = calloc(ARENA_PAGES, page);
	arena = (uintptr_t)mmap(NULL, ARENA_PAGES * page, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (!shadow || arena == (uintptr_t)MAP_FAILED)
		ksft_exit_fail_msg("arena: %s\n", strerror(errno));
	for (i = 0; i < ARENA_PAGES; i++)
		cur_state[i] = PG_RW;
}

/*
 * Known dispositions: the runner may have left some ignored (a shell
 * ignores SIGINT and SIGQUIT for background commands), and SIG_IGN is
 * inherited by the children, which the oracle of sig_fatal() assumes it
 * is not.  SIGUSR1 caught (never in a child), SIGUSR2 ignored (kept).
 */
static void setup_signals(void)
{
	struct sigaction sa;
	int c;

	for (c = 1; c < 65; c++)
		if (c != SIGKILL && c != SIGSTOP && (c < 32 || c > 33))
			signal(c, SIG_DFL);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGUSR1, &sa, NULL);
	signal(SIGUSR2, SIG_IGN);
}

static pthread_t racer_thread, watchdog_thread;

/* The racer and the watchdog; they take no signal. */
static void start_threads(void)
{
	sigset_t all;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, NULL);
	if (pthread_create(&racer_thread, NULL, racer, NULL) ||
	    pthread_create(&watchdog_thread, NULL, watchdog, NULL))
		ksft_exit_fail_msg("pthread_create failed\n");
}

static void stop_threads(void)
{
	race.quit = 1;
	store32(&race.seq, load32(&race.seq) + 1);
	futex_wake(&race.seq);
	pthread_join(racer_thread, NULL);
	store32(&watchdog_stop, 1);
	futex_wake(&watchdog_stop);
	pthread_join(watchdog_thread, NULL);
}

/* The iterations asked for: one to replay, or until the count or time is up. */
static uint64_t run_iterations(double t0)
{
	uint64_t i, done = 0;

	if (opt.only >= 0) {
		run_iteration((uint64_t)opt.only);
		return 1;
	}
	for (i = 0; i < opt.iterations; i++) {
		if (opt.seconds > 0 && (i & 15) == 0 && now() - t0 > opt.seconds)
			break;
		run_iteration(i);
		done++;
	}
	return done;
}

static void print_figures(double t0, uint64_t done)
{
	ksft_print_msg("%" PRIu64 " calls in %.1f s (seed %" PRIu64
		       ", replay: afork_fuzz -s %" PRIu64 " -n %" PRIu64 ")\n",
		       fig.calls, now() - t0, opt.seed, opt.seed, done);
	ksft_print_msg("results: %" PRIu64 " children, %" PRIu64 " AFORK_QUERY, "
		       "EINVAL %" PRIu64 ", E2BIG %" PRIu64 ", EFAULT %" PRIu64
		       ", other %" PRIu64 "; %" PRIu64 " races\n",
		       fig.children, fig.query_ok, fig.by_errno[EINVAL],
		       fig.by_errno[E2BIG], fig.by_errno[EFAULT],
		       fig.calls - fig.children - fig.query_ok - fig.by_errno[EINVAL] -
		       fig.by_errno[E2BIG] - fig.by_errno[EFAULT], fig.races);
	ksft_print_msg("children: exit %" PRIu64 " exec %" PRIu64 " execfail %"
		       PRIu64 " wait %" PRIu64 " fault %" PRIu64 "; ended: exited %"
		       PRIu64 ", SIGSEGV %" PRIu64 ", other signal %" PRIu64
		       ", auto-reaped %" PRIu64 "; %" PRIu64 " signals sent, %"
		       PRIu64 " WAITPID hidden, %" PRIu64 " SIGCHLD\n",
		       fig.mode[M_EXIT], fig.mode[M_EXEC], fig.mode[M_EXECFAIL],
		       fig.mode[M_WAIT], fig.mode[M_FAULT], fig.exited, fig.segv,
		       fig.signaled, fig.autoreaped, fig.sent, fig.waitpid_hidden,
		       fig.sigchld_seen);
}

int main(int argc, char **argv)
{
	uint64_t done;
	double t0;
	int c;

	if (argc > 1 && !strcmp(argv[1], "--exec-child"))
		_exit(CODE_EXECED);
	parse_args(argc, argv);
	setvbuf(stdout, NULL, _IOLBF, 0);
	ksft_print_header();
	setup_machine();
	setup_signals();
	start_threads();

	ksft_print_msg("seed %" PRIu64 ", %s %" PRIu64 " iterations%s%.0f%s, "
		       "sizeof(struct afork_args) %zu, TASK_SIZE_MAX %#" PRIx64 "\n",
		       opt.seed, opt.only >= 0 ? "replaying 1 of" : "up to",
		       opt.only >= 0 ? (uint64_t)opt.only + 1 : opt.iterations,
		       opt.seconds > 0 ? " or " : "", opt.seconds,
		       opt.seconds > 0 ? " s" : "", ksize, task_size_max);
	ksft_set_plan(C_NR);

	t0 = now();
	done = run_iterations(t0);
	stop_threads();

	/* Nothing may be left: waitpid(-1, WNOHANG | __WALL) is ECHILD. */
	if (waitpid(-1, NULL, WNOHANG | __WALL) != -1 || errno != ECHILD)
		failf(C_TASKS, "a child is left at the end");
	print_figures(t0, done);

	for (c = 0; c < C_NR; c++) {
		if (failures[c])
			ksft_test_result_fail("%s: %" PRIu64 " failure(s)\n",
					      check_name[c], failures[c]);
		else
			ksft_test_result_pass("%s\n", check_name[c]);
	}
	ksft_finished();
}
