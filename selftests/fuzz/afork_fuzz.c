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

#include "fuzz_oracle.h"
#include "fuzz_rng.h"
#include "fuzz_sys.h"
#include "kselftest.h"

#define SIGBIT(s) (1ULL << ((s) - 1))

/* The arena: data pages, a guard, stack pages, a guard. */
#define DATA_PAGES	8	/* 0-2: the struct; 3-7: word, pidfd, mask */
#define STRUCT_PAGES	3
#define STACK_FIRST	10
#define STACK_PAGES	64
#define ARENA_PAGES	(STACK_FIRST + STACK_PAGES + 2)
/* Stack the child needs below its top to be sure to run. */
#define CHILD_STACK_NEED 3

#define WORD_SENTINEL	0x5a5a5a5au
#define PIDFD_SENTINEL	0x3c3c3c3c

enum mode { M_EXIT, M_WAIT, M_EXEC, M_EXECFAIL, M_FAULT, M_NR };
static const char *const mode_name[M_NR] = {
	"exit", "wait", "exec", "execfail", "fault",
};
enum disp { D_DFL, D_IGN, D_NOCLDWAIT };
enum reap { R_WAITPID, R_PIDFD, R_PID, R_WALL, R_NR };

/* Exit codes of the child (see child_fn). */
#define CODE_OK		0
#define CODE_EXECED	42
#define CODE_EXECFAIL	43
#define CODE_BAD	64	/* | what the child found wrong */
#define BAD_MASK	1
#define BAD_USR1	2	/* caught handler not reset */
#define BAD_USR2	4	/* SIG_IGN not kept */
#define BAD_STACK	8
#define BAD_PPID	16
#define BAD_EXEC	32

/* Checks, one TAP line each. */
enum check {
	C_ORACLE, C_TASKS, C_FDS, C_STATUS, C_CHILD, C_RELEASE, C_WAIT,
	C_SIGCHLD, C_STUCK, C_NR
};
static const char *const check_name[C_NR] = {
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

struct plan {
	uint64_t iter;
	unsigned char state[ARENA_PAGES];
	uintptr_t uargs;
	uint64_t size;
	struct afork_args a;
	int tail_nz;			/* offset past 56 of a non-zero byte */
	uint64_t mask_val;
	/* the race */
	int race;
	size_t race_lo, race_hi;
	unsigned long race_spin;
	const char *race_what;
	/* the child */
	enum mode mode;
	int sig;			/* sent to the child, or 0 */
	unsigned long kill_spin;
	enum disp disp;
	uint64_t parent_mask;
	enum reap reap;
};

/* What the child reads; the parent leaves it alone until the reap. */
struct child_job {
	enum mode mode;
	uint64_t mask;
	uintptr_t top;
	int check_stack;
	pid_t ppid;
	volatile uint32_t go;
	const char *path;
	char *const *argv;
	char *const *envp;
	uintptr_t fault_addr;		/* M_FAULT stores here: unmapped */
};

static struct {
	uint64_t seed;
	uint64_t iterations;
	double seconds;
	int64_t only;
	int verbose;
	int timeout_ms;
} opt = { 0, 100000000, 30, -1, 0, 60000 };

static size_t page;
static uintptr_t arena;
static unsigned char cur_state[ARENA_PAGES];
static unsigned char *shadow;
static size_t ksize;
static uint64_t task_size_max;
static int top_free, low_free;	/* special stack tops are unmapped */
static char self_path[PATH_MAX];
static char *exec_argv[] = { "afork_fuzz", "--exec-child", NULL };
static char *exec_envp[] = { NULL };
static char *fail_argv[] = { "nonexistent", NULL };
static struct child_job job;
static pid_t self_pid;
static volatile int handler_in_child;

/* Figures for the summary. */
static struct {
	uint64_t calls, children, query_ok, by_errno[160], other_ret;
	uint64_t races, exited, segv, signaled, sent, sigchld_seen;
	uint64_t autoreaped, waitpid_hidden, mode[M_NR];
} fig;
static uint64_t failures[C_NR];
static uint64_t cur_iter;

static volatile uint64_t progress;

static const struct plan *cur_plan;
static int plan_shown;
static void print_plan(const struct plan *p);

static void failf(enum check c, const char *fmt, ...)
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
/* The arena                                                           */
/* ------------------------------------------------------------------ */

static uintptr_t pg_addr(size_t pg)
{
	return arena + pg * page;
}

static void die(const char *what)
{
	ksft_exit_fail_msg("%s: %s (iteration %" PRIu64 ")\n", what,
			   strerror(errno), cur_iter);
}

/* Write @len bytes at @addr (in the arena, mapped RW now) and the shadow. */
static void put(uintptr_t addr, const void *src, size_t len)
{
	if (addr < arena || addr + len > pg_addr(DATA_PAGES) || addr + len < addr)
		return;
	memcpy((void *)addr, src, len);
	memcpy(shadow + (addr - arena), src, len);
}

/* Change the pages [lo, hi) whose state differs from @st to it. */
static void arena_set(const unsigned char *st, size_t lo, size_t hi)
{
	size_t i = lo, j;

	while (i < hi) {
		if (cur_state[i] == st[i]) {
			i++;
			continue;
		}
		for (j = i + 1; j < hi && st[j] == st[i] && cur_state[j] != st[j] &&
		     (cur_state[j] == PG_UNMAPPED) == (cur_state[i] == PG_UNMAPPED); j++)
			;
		/* A hole we left: nobody else maps here (MAP_FIXED_NOREPLACE). */
		if (cur_state[i] == PG_UNMAPPED && st[i] != PG_UNMAPPED &&
		    mmap((void *)pg_addr(i), (j - i) * page, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0) !=
		    (void *)pg_addr(i))
			die("arena hole taken");
		if (st[i] == PG_UNMAPPED) {
			if (munmap((void *)pg_addr(i), (j - i) * page))
				die("munmap");
		} else if (mprotect((void *)pg_addr(i), (j - i) * page,
				    st[i] == PG_RW ? PROT_READ | PROT_WRITE :
				    st[i] == PG_R ? PROT_READ : PROT_NONE)) {
			die("mprotect");
		}
		memset(cur_state + i, st[i], j - i);
		i = j;
	}
}

static void arena_apply(const struct plan *p)
{
	unsigned char rw[ARENA_PAGES];
	uint8_t nz = 0xa5;

	/* The data pages read-write to write them, then as planned. */
	memcpy(rw, cur_state, sizeof(rw));
	memset(rw, PG_RW, DATA_PAGES);
	arena_set(rw, 0, DATA_PAGES);
	memset((void *)arena, 0, DATA_PAGES * page);
	memset(shadow, 0, DATA_PAGES * page);

	/* Slots first, then the struct (they never overlap the struct). */
	put(p->a.sigmask, &p->mask_val, 8);
	{
		uint32_t w = WORD_SENTINEL;
		int f = PIDFD_SENTINEL;

		put(p->a.release_word, &w, 4);
		put(p->a.pidfd, &f, 4);
	}
	if (p->uargs >= arena && p->uargs < pg_addr(STRUCT_PAGES)) {
		size_t n = p->size < AFORK_ARGS_SIZE_VER0 ? p->size
							  : AFORK_ARGS_SIZE_VER0;

		put(p->uargs, &p->a, n);
		if (p->tail_nz >= 0)
			put(p->uargs + AFORK_ARGS_SIZE_VER0 + p->tail_nz, &nz, 1);
	}
	arena_set(p->state, 0, ARENA_PAGES);
}

/* ------------------------------------------------------------------ */
/* Drawing a plan                                                      */
/* ------------------------------------------------------------------ */

static const uint64_t bad_addrs[] = {
	0, 8, 0xfff,
	0xffff888000000000ULL,		/* direct map */
	0xffffffff81000000ULL,		/* kernel text */
	0xffffffffff600000ULL,		/* vsyscall page */
	0xfffffffffffff000ULL,
	0x0000800000000000ULL,		/* non-canonical with 4 levels */
	0x8000000000000000ULL,
	0xdead000000000000ULL,
};

static uint64_t draw_bad_addr(struct rng *r, size_t len)
{
	unsigned int n = sizeof(bad_addrs) / sizeof(bad_addrs[0]);
	uint64_t i = rng_below(r, n + 1);

	if (i == n)	/* just below the top of user space, unmapped */
		return top_free ? task_size_max - len : 0;
	return bad_addrs[i];
}

static unsigned char draw_state(struct rng *r, unsigned int rw_pct)
{
	uint64_t x = rng_below(r, 100);

	if (x < rw_pct)
		return PG_RW;
	x = rng_below(r, 3);
	return x == 0 ? PG_R : x == 1 ? PG_NONE : PG_UNMAPPED;
}

/* A slot of @len bytes in the data pages 3-7, or a bad address. */
static uint64_t draw_slot(struct rng *r, size_t len, size_t align)
{
	uint64_t pg = STRUCT_PAGES + rng_below(r, DATA_PAGES - STRUCT_PAGES);
	uint64_t x = rng_below(r, 100);

	if (x < 80)
		return pg_addr(pg) + rng_below(r, page / align) * align;
	if (x < 85)		/* straddling into the next page */
		return pg_addr(pg) + page - len / 2 - (pg == DATA_PAGES - 1 ? page : 0);
	if (x < 90)		/* misaligned */
		return pg_addr(pg) + rng_below(r, page - 8) + 1 + (align == 1);
	return draw_bad_addr(r, len);
}

static uint64_t draw_mask(struct rng *r)
{
	switch (rng_below(r, 4)) {
	case 0:
		return 0;
	case 1:
		return ~0ULL;
	case 2:
		return SIGBIT(1 + rng_below(r, 64)) | SIGBIT(1 + rng_below(r, 64));
	default:
		return rng_next(r);
	}
}

static void draw_flags(struct rng *r, struct plan *p)
{
	uint64_t x = rng_below(r, 100);

	p->a.flags = rng_below(r, 8);	/* a subset of the known flags */
	if (x < 65)
		return;
	if (x < 80)
		/* Unknown: above the v2 flags (the v1 subset is drawn above). */
		p->a.flags |= 1ULL << (8 + rng_below(r, 55));
	else if (x < 88)
		p->a.flags = AFORK_QUERY;
	else if (x < 92)
		p->a.flags |= AFORK_QUERY;
	else if (x < 94)
		p->a.flags = ~0ULL;
	else
		p->a.flags = rng_next(r);
}

static void draw_stack(struct rng *r, struct plan *p)
{
	uint64_t x = rng_below(r, 100);
	uintptr_t lo = pg_addr(STACK_FIRST), top;

	if (x < 78) {
		/* In the stack pages, at a page boundary or anywhere. */
		top = lo + (1 + rng_below(r, STACK_PAGES)) * page;
		if (rng_pct(r, 40))
			top -= rng_below(r, page);
		p->a.stack_size = rng_pct(r, 80) ? rng_log(r, top - lo)
						 : rng_log(r, 1ULL << 40);
		if (p->a.stack_size > top)
			p->a.stack_size = top;
		p->a.stack = top - p->a.stack_size;
		if (!p->a.stack) {
			p->a.stack = top - 1;
			p->a.stack_size = 1;
		}
		return;
	}
	switch (x % 9) {
	case 0:
		p->a.stack = 0;
		p->a.stack_size = rng_pct(r, 50) ? 0 : 65536;
		break;
	case 1:
		p->a.stack = lo;
		p->a.stack_size = 0;
		break;
	case 2:		/* kernel or non-canonical */
		p->a.stack = draw_bad_addr(r, 0) | 0xffff000000000000ULL;
		p->a.stack_size = 4096;
		break;
	case 3:		/* wraps around */
		p->a.stack = ~0ULL - 100;
		p->a.stack_size = 200;
		break;
	case 4:
		p->a.stack = lo;
		p->a.stack_size = 1ULL << 63;
		break;
	case 5:		/* ends exactly at the top of user space: valid */
		p->a.stack_size = 65536;
		p->a.stack = top_free ? task_size_max - 65536 : 0;
		break;
	case 6:		/* one byte past it */
		p->a.stack_size = 65536;
		p->a.stack = task_size_max - 65535;
		break;
	case 7:		/* low, unmapped (below mmap_min_addr) */
		p->a.stack = low_free ? 4096 : 0;
		p->a.stack_size = 4096;
		break;
	default:
		p->a.stack = rng_next(r);
		p->a.stack_size = rng_next(r);
		break;
	}
}

static void draw_size(struct rng *r, struct plan *p)
{
	uint64_t x = rng_below(r, 100);

	p->tail_nz = -1;
	if (x < 45) {
		p->size = AFORK_ARGS_SIZE_VER0;
	} else if (x < 55) {
		p->size = rng_below(r, AFORK_ARGS_SIZE_VER0);
	} else if (x < 80) {
		p->size = AFORK_ARGS_SIZE_VER0 + 1 +
			  rng_below(r, page - AFORK_ARGS_SIZE_VER0);
		if (rng_pct(r, 15))
			p->size = page;
		if (rng_pct(r, 40))
			p->tail_nz = (int)rng_below(r, p->size - AFORK_ARGS_SIZE_VER0);
	} else if (x < 92) {
		p->size = page + 1 + rng_below(r, page);
	} else {
		static const uint64_t huge[] = {
			~0ULL, 1ULL << 63, (1ULL << 32) + AFORK_ARGS_SIZE_VER0,
			(1ULL << 32) + 8, 0x100000000ULL,
		};
		p->size = huge[rng_below(r, sizeof(huge) / sizeof(huge[0]))];
	}
}

static void draw_uargs(struct rng *r, struct plan *p)
{
	uint64_t x = rng_below(r, 100), span;

	if (x >= 88) {
		p->uargs = draw_bad_addr(r, AFORK_ARGS_SIZE_VER0);
		return;
	}
	span = p->size < page ? p->size : page;
	if (span < AFORK_ARGS_SIZE_VER0)
		span = AFORK_ARGS_SIZE_VER0;
	if (x < 60)		/* 8-byte aligned */
		p->uargs = pg_addr(rng_below(r, 2)) + rng_below(r, page / 8) * 8;
	else if (x < 72)	/* unaligned */
		p->uargs = pg_addr(rng_below(r, 2)) + rng_below(r, page);
	else			/* ending at or just past a page boundary */
		p->uargs = pg_addr(1 + rng_below(r, 2)) - span +
			   rng_below(r, 16) - (rng_pct(r, 50) ? 0 : 8);
	/* Keep the struct in pages 0-2. */
	if (p->uargs + span > pg_addr(STRUCT_PAGES))
		p->uargs = pg_addr(STRUCT_PAGES) - span;
	if (p->uargs < arena)
		p->uargs = arena;
}

static const int sigs[] = {
	SIGKILL, SIGTERM, SIGUSR1, SIGUSR2, SIGINT, SIGHUP, SIGALRM, SIGCHLD,
	SIGWINCH, SIGURG, SIGCONT, SIGSEGV, SIGQUIT, SIGPIPE, 35, 40, 64,
};

/* Valid choices, for the "sane" iterations (see draw_plan()). */
static void sane_stack(struct rng *r, struct plan *p)
{
	uintptr_t lo = pg_addr(STACK_FIRST);
	uintptr_t top = lo + (CHILD_STACK_NEED +
			      rng_below(r, STACK_PAGES - CHILD_STACK_NEED + 1)) * page;

	if (rng_pct(r, 30))
		top -= rng_below(r, page);
	p->a.stack_size = rng_log(r, top - lo);
	p->a.stack = top - p->a.stack_size;
}

enum aspect { A_PAGES = 1, A_SIZE, A_UARGS, A_FLAGS, A_STACK, A_PIDFD, A_WORD,
	      A_MASK, A_NR };

static void draw_plan(uint64_t iter, struct plan *p)
{
	struct rng r;
	size_t i;
	/*
	 * Half the iterations are "sane": every argument valid, and in half
	 * of those one aspect drawn adversarially; the others draw every
	 * aspect adversarially.  So a good share of the calls create
	 * children, and each error path is also hit in isolation.
	 */
	int sane, perturb;

	memset(p, 0, sizeof(*p));
	rng_init(&r, opt.seed, iter);
	p->iter = iter;
	sane = rng_pct(&r, 50);
	perturb = sane && rng_pct(&r, 50) ? 1 + (int)rng_below(&r, A_NR - 1) : 0;
#define ADV(a) (!sane || perturb == (a))

	/* Page states: the struct pages mostly RW, slots anything. */
	for (i = 0; i < ARENA_PAGES; i++)
		p->state[i] = PG_NONE;
	for (i = 0; i < DATA_PAGES; i++)
		p->state[i] = PG_RW;
	for (i = STACK_FIRST; i < STACK_FIRST + STACK_PAGES; i++)
		p->state[i] = PG_RW;
	if (ADV(A_PAGES)) {
		if (rng_pct(&r, 25))
			p->state[rng_below(&r, STRUCT_PAGES)] = draw_state(&r, 0);
		for (i = STRUCT_PAGES; i < DATA_PAGES; i++)
			p->state[i] = draw_state(&r, 60);
		if (rng_pct(&r, 20)) {
			size_t a = rng_below(&r, STACK_PAGES), n = 1 + rng_below(&r, 8);
			unsigned char s = draw_state(&r, 0);

			for (i = a; i < a + n && i < STACK_PAGES; i++)
				p->state[STACK_FIRST + i] = s;
		}
	}

	if (ADV(A_SIZE)) {
		draw_size(&r, p);
	} else {
		p->tail_nz = -1;
		p->size = rng_pct(&r, 70) ? AFORK_ARGS_SIZE_VER0 :
			  AFORK_ARGS_SIZE_VER0 + 1 + rng_below(&r, page - AFORK_ARGS_SIZE_VER0);
	}
	if (ADV(A_UARGS)) {
		draw_uargs(&r, p);
	} else {
		size_t span = p->size < page ? p->size : page;

		p->uargs = pg_addr(rng_below(&r, 2)) + rng_below(&r, page / 8) * 8;
		if (p->uargs + span > pg_addr(STRUCT_PAGES))
			p->uargs = pg_addr(STRUCT_PAGES) - span;
	}
	if (ADV(A_FLAGS))
		draw_flags(&r, p);
	else
		p->a.flags = rng_below(&r, 8);
	if (ADV(A_STACK))
		draw_stack(&r, p);
	else
		sane_stack(&r, p);

	/* The pidfd slot, used whatever the flags say. */
	if (ADV(A_PIDFD)) {
		p->a.pidfd = draw_slot(&r, 4, 4);
		if (rng_pct(&r, 3))
			p->a.pidfd = 0;
	} else {
		p->a.pidfd = pg_addr(5 + rng_below(&r, 2)) + rng_below(&r, page / 4) * 4;
	}

	/* The release word. */
	if (ADV(A_WORD)) {
		if (rng_pct(&r, 15))
			p->a.release_word = 0;
		else if (rng_pct(&r, 8))
			p->a.release_word = p->a.pidfd;		/* aliasing */
		else
			p->a.release_word = draw_slot(&r, 4, 4);
	} else if (rng_pct(&r, 70)) {
		p->a.release_word = pg_addr(3 + rng_below(&r, 2)) +
				    rng_below(&r, page / 4) * 4;
	}

	/* The signal mask. */
	p->mask_val = draw_mask(&r);
	if (ADV(A_MASK)) {
		switch (rng_below(&r, 20)) {
		case 0:
			p->a.sigmask_size = 8;
			break;
		case 1:
			p->a.sigmask = draw_slot(&r, 8, 8);
			p->a.sigmask_size = rng_pct(&r, 50) ? rng_below(&r, 16) : rng_next(&r);
			break;
		case 2: case 3: case 4: case 5: case 6: case 7: case 8:
			break;
		default:
			p->a.sigmask = draw_slot(&r, 8, 8);
			p->a.sigmask_size = 8;
			break;
		}
	} else if (rng_pct(&r, 60)) {
		p->a.sigmask = pg_addr(7) + rng_below(&r, page / 8) * 8;
		p->a.sigmask_size = 8;
	}
#undef ADV

	/* A race against the call: unmap a page the call reads or writes. */
	if (rng_pct(&r, 15)) {
		uintptr_t t = 0;
		size_t pages = 1;

		switch (rng_below(&r, 5)) {
		case 0:
			t = p->uargs;
			pages = 1 + rng_below(&r, 2);
			p->race_what = "struct";
			break;
		case 1:
			t = p->a.release_word;
			p->race_what = "release word";
			break;
		case 2:
			t = p->a.pidfd;
			p->race_what = "pidfd slot";
			break;
		case 3:
			t = p->a.sigmask;
			p->race_what = "sigmask";
			break;
		default:
			t = p->a.stack + p->a.stack_size - 1;
			pages = 1 + rng_below(&r, 4);
			p->race_what = "stack";
			break;
		}
		if (t >= arena && t < pg_addr(ARENA_PAGES)) {
			size_t pg = (t - arena) / page;

			if (!strcmp(p->race_what, "stack") && pg + 1 >= pages)
				pg = pg + 1 - pages;
			if (pg + pages > ARENA_PAGES)
				pages = ARENA_PAGES - pg;
			if (p->state[pg] != PG_UNMAPPED) {
				p->race = 1;
				p->race_lo = pg;
				p->race_hi = pg + pages;
				p->race_spin = rng_log(&r, 20000);
			}
		}
	}

	/* The child and how the parent treats it. */
	i = rng_below(&r, 100);
	p->mode = i < 52 ? M_EXIT : i < 80 ? M_WAIT : i < 90 ? M_EXEC :
		  i < 97 ? M_EXECFAIL : M_FAULT;
	if (rng_pct(&r, p->mode == M_WAIT ? 60 : 15)) {
		p->sig = sigs[rng_below(&r, sizeof(sigs) / sizeof(sigs[0]))];
		p->kill_spin = rng_log(&r, 50000);
	}
	i = rng_below(&r, 100);
	p->disp = i < 80 ? D_DFL : i < 90 ? D_IGN : D_NOCLDWAIT;
	/* Any mask, but the runner's timeout (SIGTERM) and ^C still work. */
	p->parent_mask = (rng_next(&r) | SIGBIT(SIGCHLD)) &
			 ~(SIGBIT(SIGKILL) | SIGBIT(SIGSTOP) | SIGBIT(32) | SIGBIT(33) |
			   SIGBIT(SIGTERM) | SIGBIT(SIGINT) | SIGBIT(SIGHUP));
	p->reap = (enum reap)rng_below(&r, R_NR);
}

static void print_plan(const struct plan *p)
{
	char st[ARENA_PAGES + 1];
	size_t i;

	for (i = 0; i < ARENA_PAGES; i++)
		st[i] = "-nrw"[p->state[i]];
	st[ARENA_PAGES] = 0;
	printf("# iter %" PRIu64 ": pages %s\n", p->iter, st);
	printf("#   uargs %+" PRId64 " size %#" PRIx64 " tail_nz %d flags %#" PRIx64
	       " pidfd %+" PRId64 " stack %+" PRId64 "/%#" PRIx64
	       " word %+" PRId64 " mask %+" PRId64 "/%" PRIu64 " = %#" PRIx64 "\n",
	       (int64_t)(p->uargs - arena), p->size, p->tail_nz, (uint64_t)p->a.flags,
	       (int64_t)(p->a.pidfd - arena), (int64_t)(p->a.stack - arena),
	       (uint64_t)p->a.stack_size, (int64_t)(p->a.release_word - arena),
	       (int64_t)(p->a.sigmask - arena), (uint64_t)p->a.sigmask_size,
	       p->mask_val);
	printf("#   race %s pages %zu-%zu spin %lu; child %s sig %d spin %lu; "
	       "SIGCHLD %s; reap %d\n",
	       p->race ? p->race_what : "none", p->race_lo, p->race_hi,
	       p->race_spin, mode_name[p->mode], p->sig, p->kill_spin,
	       p->disp == D_DFL ? "default" : p->disp == D_IGN ? "ignored" :
	       "SA_NOCLDWAIT", p->reap);
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

/* waitid(P_ALL, WNOHANG | WNOWAIT | __WALL): 0 none left, else the pid. */
static long any_child(void)
{
	siginfo_t si;

	memset(&si, 0, sizeof(si));
	if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT | __WALL) < 0)
		return errno == ECHILD ? 0 : -1;
	return si.si_pid ? si.si_pid : -2;	/* -2: a running child */
}

static int sigchld_take(void)
{
	struct timespec zero = { 0, 0 };
	sigset_t s;

	sigemptyset(&s);
	sigaddset(&s, SIGCHLD);
	return sigtimedwait(&s, NULL, &zero) == SIGCHLD;
}

/* Would @sig, sent to a child with mask @mask, kill it? */
static int sig_fatal(int sig, uint64_t mask)
{
	if (sig == SIGKILL)
		return 1;
	if (mask & SIGBIT(sig))
		return 0;
	switch (sig) {
	case SIGUSR2:			/* SIG_IGN in the parent: kept */
	case SIGCHLD: case SIGWINCH: case SIGURG: case SIGCONT:
		return 0;		/* ignored by default */
	default:
		return 1;
	}
}

/* Is [addr, addr+len) read-write in the arena now (after any race)? */
static int rw_now(uintptr_t addr, size_t len)
{
	size_t pg;

	if (addr < arena || addr + len > pg_addr(DATA_PAGES) || addr + len < addr)
		return 0;
	for (pg = (addr - arena) / page; pg <= (addr + len - 1 - arena) / page; pg++)
		if (cur_state[pg] != PG_RW)
			return 0;
	return 1;
}

static int overlaps(uint64_t a, size_t alen, uint64_t b, size_t blen)
{
	return a < b + blen && b < a + alen;
}

static int poll_fd(int fd, short events, int timeout_ms)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	int r;

	do {
		r = poll(&pfd, 1, timeout_ms);
	} while (r < 0 && errno == EINTR);
	return r < 0 ? -1 : r ? pfd.revents : 0;
}

static void set_sigchld(enum disp d)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = d == D_IGN ? SIG_IGN : SIG_DFL;
	sa.sa_flags = d == D_NOCLDWAIT ? SA_NOCLDWAIT : 0;
	sigaction(SIGCHLD, &sa, NULL);
}

static void spin(unsigned long n)
{
	volatile unsigned long i;

	for (i = 0; i < n; i++)
		;
}

/* Follow a created child to its end; @o is the oracle's (non-raced) view. */
static void follow_child(const struct plan *p, const struct oracle_out *o,
			 pid_t pid, int lowest)
{
	const struct afork_args *a = &o->args;
	uint64_t flags = a->flags;
	int waitpid_only = !!(flags & AFORK_WAITPID);
	int autoreap = p->disp != D_DFL && !waitpid_only;
	uintptr_t top = (uintptr_t)(a->stack + a->stack_size) & ~(uintptr_t)15;
	int word_ok, must_run = 1, may_segv = 0, must_segv = 0, sig_kills = 0;
	int exit_code = -1, pfd = -1, own_pfd = 0, revents, st = 0, r;
	uint64_t sigs_ok = 0;
	siginfo_t si;
	size_t pg;

	fig.children++;
	fig.mode[p->mode]++;

	/* Which memory the fuzzer can still trust to check values in. */
	word_ok = a->release_word && rw_now(a->release_word, 4) &&
		  !overlaps(a->release_word, 4, a->pidfd, 4) &&
		  !overlaps(a->release_word, 4, a->sigmask, 8);

	/* Can the child run on its stack? */
	if (top < arena + STACK_FIRST * page || top > pg_addr(STACK_FIRST + STACK_PAGES)) {
		must_run = 0;
		must_segv = 1;		/* only unmapped tops are drawn */
	} else {
		size_t first = (top - CHILD_STACK_NEED * page - arena) / page;

		pg = (top - 8 - arena) / page;
		if (p->state[pg] != PG_RW)
			must_segv = 1;
		if (first < STACK_FIRST)
			must_run = 0;
		for (; first <= pg && must_run; first++)
			if (p->state[first] != PG_RW ||
			    (p->race && first >= p->race_lo && first < p->race_hi))
				must_run = 0;
	}
	if (must_segv)
		must_run = 0;
	may_segv = !must_run;

	switch (p->mode) {
	case M_EXIT: case M_WAIT:
		exit_code = CODE_OK;
		break;
	case M_EXEC:
		exit_code = CODE_EXECED;
		break;
	case M_EXECFAIL:
		exit_code = CODE_EXECFAIL;
		break;
	case M_FAULT:
		sigs_ok |= SIGBIT(SIGSEGV);
		break;
	default:
		break;
	}
	if (may_segv)
		sigs_ok |= SIGBIT(SIGSEGV);
	if (must_segv)
		exit_code = -1;
	if (p->sig) {
		sig_kills = sig_fatal(p->sig, o->child_mask);
		if (sig_kills) {
			sigs_ok |= SIGBIT(p->sig);
			/* A waiting child cannot exit before we let it. */
			if (p->mode == M_WAIT && must_run)
				sigs_ok = SIGBIT(p->sig), exit_code = -1;
		}
	}

	/* The pidfd: AFORK_PIDFD gives it at the lowest free fd, else none. */
	if (flags & AFORK_PIDFD) {
		if (rw_now(a->pidfd, 4) && !overlaps(a->pidfd, 4, a->release_word, 4)) {
			int v;

			memcpy(&v, (void *)(uintptr_t)a->pidfd, 4);
			if (v != lowest)
				failf(C_FDS, "pidfd slot holds %d, lowest free fd was %d",
				      v, lowest);
		}
		pfd = lowest;
		r = fcntl(pfd, F_GETFD);
		if (r < 0 || !(r & FD_CLOEXEC))
			failf(C_FDS, "pidfd %d: F_GETFD %d (%s), want FD_CLOEXEC",
			      pfd, r, strerror(errno));
		own_pfd = 1;
	} else {
		if (fcntl(lowest, F_GETFD) >= 0)
			failf(C_FDS, "fd %d created without AFORK_PIDFD", lowest);
		if (rw_now(a->pidfd, 4) && !overlaps(a->pidfd, 4, a->release_word, 4)) {
			int v;

			memcpy(&v, (void *)(uintptr_t)a->pidfd, 4);
			if (v != PIDFD_SENTINEL)
				failf(C_FDS, "pidfd slot written without AFORK_PIDFD");
		}
		pfd = (int)syscall(__NR_pidfd_open, pid, 0);
		/*
		 * An auto-reaped child may be gone already: ESRCH, or EINVAL
		 * while its struct pid outlives the task (pidfd_prepare()).
		 */
		if (pfd < 0 && !(autoreap && (errno == ESRCH || errno == EINVAL)))
			failf(C_TASKS, "pidfd_open(%d): %s", pid, strerror(errno));
		own_pfd = pfd >= 0;
	}

	if (word_ok) {
		uint32_t w = load32((uint32_t *)(uintptr_t)a->release_word);

		if (w != (uint32_t)pid && w != 0)
			failf(C_RELEASE, "release word %#x, want the TID %d or 0", w, pid);
	}

	if (p->mode == M_WAIT) {
		if (must_run && pfd >= 0) {
			revents = poll_fd(pfd, POLLIN | POLLPRI, 0);
			if (revents)
				failf(C_RELEASE, "waiting child: pidfd revents %#x before release",
				      revents);
			if (word_ok && load32((uint32_t *)(uintptr_t)a->release_word) != (uint32_t)pid)
				failf(C_RELEASE, "waiting child: release word %#x, want TID %d",
				      load32((uint32_t *)(uintptr_t)a->release_word), pid);
		}
		if (p->sig && pfd >= 0) {
			/* ESRCH: it died of its stack and was auto-reaped. */
			if (syscall(__NR_pidfd_send_signal, pfd, p->sig, NULL, 0) &&
			    (must_run || errno != ESRCH))
				failf(C_STATUS, "pidfd_send_signal: %s", strerror(errno));
			fig.sent++;
		}
		store32(&job.go, 1);
		futex_wake(&job.go);
	} else if (p->sig && pfd >= 0) {
		spin(p->kill_spin);
		if (syscall(__NR_pidfd_send_signal, pfd, p->sig, NULL, 0) &&
		    errno != ESRCH)
			failf(C_STATUS, "pidfd_send_signal: %s", strerror(errno));
		fig.sent++;
	}

	/* Its end: POLLIN, and POLLPRI with it (mm_release precedes exit). */
	if (pfd >= 0) {
		revents = poll_fd(pfd, POLLIN, opt.timeout_ms);
		if (revents <= 0) {
			failf(C_STUCK, "child %d still running after %d ms", pid,
			      opt.timeout_ms);
			syscall(__NR_pidfd_send_signal, pfd, SIGKILL, NULL, 0);
			poll_fd(pfd, POLLIN, -1);
		}
		/* poll() reports only what is asked for (and POLLHUP). */
		revents = poll_fd(pfd, POLLIN | POLLPRI, 0);
		if (!autoreap && !(revents & POLLPRI))
			failf(C_RELEASE, "exited child: pidfd revents %#x lack POLLPRI",
			      revents);
	}

	/* Who may see it. */
	r = (int)any_child();
	if (autoreap || waitpid_only) {
		if (r != 0)
			failf(C_WAIT, "waitid(P_ALL) sees %d (WAITPID %d, SIGCHLD %s)",
			      r, waitpid_only, p->disp == D_IGN ? "SIG_IGN" : "SA_NOCLDWAIT");
		if (waitpid_only && !autoreap)
			fig.waitpid_hidden++;
	} else if (r != pid) {
		failf(C_WAIT, "waitid(P_ALL) returned %d, want the zombie %d", r, pid);
	}

	/* Reap it the way the plan says (each works with any flag). */
	memset(&si, 0, sizeof(si));
	switch (p->reap) {
	case R_WAITPID:
		r = waitpid(pid, &st, 0);
		break;
	case R_PIDFD:
		if (pfd < 0) {
			r = waitpid(pid, &st, 0);
			break;
		}
		r = waitid(P_PIDFD, pfd, &si, WEXITED);
		goto from_si;
	case R_PID:
		r = waitid(P_PID, pid, &si, WEXITED);
from_si:
		if (r == 0) {
			r = si.si_pid;
			st = si.si_code == CLD_EXITED ? (si.si_status & 0xff) << 8
						      : si.si_status & 0x7f;
		}
		break;
	default:
		r = wait4(pid, &st, __WALL, NULL);
		break;
	}
	if (autoreap) {
		if (r >= 0 || errno != ECHILD)
			failf(C_WAIT, "auto-reaped child %d: reap returned %d", pid, r);
		fig.autoreaped++;
	} else if (r != pid) {
		failf(C_TASKS, "reaping %d (how %d): %d %s", pid, p->reap, r,
		      strerror(errno));
	} else if (WIFEXITED(st)) {
		fig.exited++;
		if (WEXITSTATUS(st) != exit_code) {
			if (WEXITSTATUS(st) >= CODE_BAD && WEXITSTATUS(st) < 128)
				failf(C_CHILD, "child found: %s%s%s%s%s%s",
				      st & (BAD_MASK << 8) ? "wrong mask " : "",
				      st & (BAD_USR1 << 8) ? "handler not reset " : "",
				      st & (BAD_USR2 << 8) ? "SIG_IGN lost " : "",
				      st & (BAD_STACK << 8) ? "not on its stack " : "",
				      st & (BAD_PPID << 8) ? "wrong parent " : "",
				      st & (BAD_EXEC << 8) ? "exec/fault failed" : "");
			else
				failf(C_STATUS, "child exited %d, want %d (mode %s, sig %d)",
				      WEXITSTATUS(st), exit_code, mode_name[p->mode], p->sig);
		}
	} else if (WIFSIGNALED(st)) {
		int s = WTERMSIG(st);

		if (s == SIGSEGV)
			fig.segv++;
		else
			fig.signaled++;
		if (!(sigs_ok & SIGBIT(s)))
			failf(C_STATUS, "child killed by signal %d (mode %s, sent %d, "
			      "must_run %d, must_segv %d)", s, mode_name[p->mode],
			      p->sig, must_run, must_segv);
	} else {
		failf(C_STATUS, "child status %#x", st);
	}

	/* SIGCHLD: queued (it is blocked) unless NOSIGCHLD, or SIG_IGN reaps. */
	{
		int want = !(flags & AFORK_NOSIGCHLD) &&
			   !(p->disp == D_IGN && !waitpid_only);
		int got = sigchld_take();

		fig.sigchld_seen += got;
		if (got != want)
			failf(C_SIGCHLD, "SIGCHLD %s (flags %#" PRIx64 ", disposition %d)",
			      got ? "sent" : "missing", flags, p->disp);
	}

	if (word_ok && load32((uint32_t *)(uintptr_t)a->release_word) != 0)
		failf(C_RELEASE, "release word %#x after exit, want 0",
		      load32((uint32_t *)(uintptr_t)a->release_word));
	/*
	 * A reaped child's pidfd reports POLLHUP at once; an auto-reaped one
	 * only once the child has finished release_task() itself (its
	 * POLLIN came before that, and nothing wakes us for POLLHUP).
	 */
	if (pfd >= 0 && !autoreap) {
		revents = poll_fd(pfd, POLLIN, 0);
		if (!(revents & POLLHUP))
			failf(C_RELEASE, "reaped child: pidfd revents %#x lack POLLHUP",
			      revents);
		if (own_pfd)
			close(pfd);
	}
}

static void run_iteration(uint64_t iter)
{
	struct oracle_out want, o;
	struct mem_view m;
	struct plan p;
	sigset_t ps;
	int lowest, match = 0;
	unsigned int flip, max_flip;
	long ret, norm;

	cur_iter = iter;
	draw_plan(iter, &p);
	cur_plan = &p;
	plan_shown = 0;
	if (opt.verbose)
		print_plan(&p);
	arena_apply(&p);

	/* The oracle, without the race and with it at every point. */
	memset(&m, 0, sizeof(m));
	m.base = arena;
	m.npages = ARENA_PAGES;
	m.page = page;
	m.state = p.state;
	m.shadow = shadow;
	m.task_size_max = task_size_max;
	m.flip = UINT_MAX;
	oracle_eval(&m, p.uargs, p.size, ksize, &want);
	max_flip = p.race ? want.accesses : 0;

	/* The child's job. */
	memset(&job, 0, sizeof(job));
	job.mode = p.mode;
	job.mask = want.child_mask;
	job.top = (uintptr_t)(p.a.stack + p.a.stack_size) & ~(uintptr_t)15;
	job.ppid = self_pid;
	job.path = self_path;
	job.argv = exec_argv;
	job.envp = exec_envp;
	job.fault_addr = 16;
	/* The child checks its stack only where it surely runs (see below). */
	job.check_stack = !p.race && job.top >= pg_addr(STACK_FIRST + CHILD_STACK_NEED) &&
			  job.top <= pg_addr(STACK_FIRST + STACK_PAGES);

	set_sigchld(p.disp);
	memset(&ps, 0, sizeof(ps));
	memcpy(&ps, &p.parent_mask, 8);
	pthread_sigmask(SIG_SETMASK, &ps, NULL);
	lowest = lowest_free_fd();

	if (p.race)
		race_start(&p);
	ret = fuzz_afork((void *)p.uargs, p.size, child_fn, &job);
	if (p.race) {
		size_t i;

		race_wait();
		for (i = p.race_lo; i < p.race_hi; i++)
			cur_state[i] = PG_UNMAPPED;
		fig.races++;
	}
	fig.calls++;
	/* Keep SIGCHLD blocked from here on: the checks read it pending. */
	sigemptyset(&ps);
	sigaddset(&ps, SIGCHLD);
	pthread_sigmask(SIG_SETMASK, &ps, NULL);

	norm = ret;
	if (ret > 0 && !(want.read_args && (want.args.flags & AFORK_QUERY)))
		norm = ORACLE_CHILD;
	o = want;
	for (flip = 0; flip <= max_flip && !match; flip++) {
		if (p.race) {
			m.race_lo = p.race_lo;
			m.race_hi = p.race_hi;
			m.flip = flip;
			oracle_eval(&m, p.uargs, p.size, ksize, &o);
		}
		match = o.ret == norm;
	}
	if (ret < 0 && -ret < 160)
		fig.by_errno[-ret]++;
	else if (ret == (long)ksize && norm != ORACLE_CHILD)
		fig.query_ok++;
	else if (ret <= 0)
		fig.other_ret++;

	if (!match) {
		failf(C_ORACLE, "afork returned %ld (%s), oracle says %ld (%s)%s",
		      ret, ret < 0 ? strerror((int)-ret) : "-", want.ret,
		      want.ret < 0 ? strerror((int)-want.ret) : "-",
		      p.race ? " or any raced outcome" : "");
	}

	if (ret > 0 && norm == ORACLE_CHILD) {
		follow_child(&p, &o, (pid_t)ret, lowest);
	} else {
		long c = any_child();

		if (c != 0)
			failf(C_TASKS, "a task exists after afork returned %ld: %ld",
			      ret, c);
		if (fcntl(lowest, F_GETFD) >= 0) {
			failf(C_FDS, "fd %d left behind by afork returning %ld",
			      lowest, ret);
			close(lowest);
		}
		/* The word: 0 iff the kernel got as far as storing it. */
		if (!p.race && want.read_args && p.a.release_word &&
		    rw_now(p.a.release_word, 4) &&
		    !overlaps(p.a.release_word, 4, p.a.pidfd, 4) &&
		    !overlaps(p.a.release_word, 4, p.a.sigmask, 8)) {
			uint32_t w, exp;

			/*
			 * A plain read: the word may be misaligned here (the
			 * call refused it), and arm64's acquire load faults
			 * on a misaligned address.
			 */
			memcpy(&w, (void *)(uintptr_t)p.a.release_word, 4);
			exp = want.word_zeroed ? 0 : WORD_SENTINEL;

			if (match && w != exp)
				failf(C_RELEASE, "after %ld the release word is %#x, want %#x",
				      ret, w, exp);
		}
		if (!p.race && p.a.pidfd && rw_now(p.a.pidfd, 4) &&
		    !overlaps(p.a.pidfd, 4, p.a.release_word, 4)) {
			int v;

			memcpy(&v, (void *)(uintptr_t)p.a.pidfd, 4);
			if (v != PIDFD_SENTINEL)
				failf(C_FDS, "after %ld the pidfd slot holds %d", ret, v);
		}
		if (ret == (long)ksize && norm != ORACLE_CHILD && rw_now(p.uargs, 8)) {
			uint64_t f;

			memcpy(&f, (void *)p.uargs, 8);
			if (f != AFORK_FLAGS_ALL)
				failf(C_ORACLE, "AFORK_QUERY stored flags %#" PRIx64, f);
		}
		sigchld_take();
	}

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

static uint64_t env_u64(const char *name, uint64_t dflt)
{
	const char *s = getenv(name);

	return s && *s ? strtoull(s, NULL, 0) : dflt;
}

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

int main(int argc, char **argv)
{
	struct afork_args q = { .flags = AFORK_QUERY };
	struct rlimit nocore = { 0, 0 };
	struct sigaction sa;
	pthread_t rt, wt;
	sigset_t all;
	uint64_t i, done = 0;
	double t0;
	long r;
	int c, t_given = 0;

	if (argc > 1 && !strcmp(argv[1], "--exec-child"))
		_exit(CODE_EXECED);

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
	setvbuf(stdout, NULL, _IOLBF, 0);
	ksft_print_header();

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

	/*
	 * Known dispositions: the runner may have left some ignored (a
	 * shell ignores SIGINT and SIGQUIT for background commands), and
	 * SIG_IGN is inherited by the children, which the oracle of
	 * sig_fatal() assumes it is not.
	 */
	for (c = 1; c < 65; c++)
		if (c != SIGKILL && c != SIGSTOP && (c < 32 || c > 33))
			signal(c, SIG_DFL);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGUSR1, &sa, NULL);
	signal(SIGUSR2, SIG_IGN);

	/* Helper threads take no signal. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, NULL);
	if (pthread_create(&rt, NULL, racer, NULL) ||
	    pthread_create(&wt, NULL, watchdog, NULL))
		ksft_exit_fail_msg("pthread_create failed\n");

	ksft_print_msg("seed %" PRIu64 ", %s %" PRIu64 " iterations%s%.0f%s, "
		       "sizeof(struct afork_args) %zu, TASK_SIZE_MAX %#" PRIx64 "\n",
		       opt.seed, opt.only >= 0 ? "replaying 1 of" : "up to",
		       opt.only >= 0 ? (uint64_t)opt.only + 1 : opt.iterations,
		       opt.seconds > 0 ? " or " : "", opt.seconds,
		       opt.seconds > 0 ? " s" : "", ksize, task_size_max);
	ksft_set_plan(C_NR);

	t0 = now();
	if (opt.only >= 0) {
		run_iteration((uint64_t)opt.only);
		done = 1;
	} else {
		for (i = 0; i < opt.iterations; i++) {
			if (opt.seconds > 0 && (i & 15) == 0 && now() - t0 > opt.seconds)
				break;
			run_iteration(i);
			done++;
		}
	}

	race.quit = 1;
	store32(&race.seq, load32(&race.seq) + 1);
	futex_wake(&race.seq);
	pthread_join(rt, NULL);
	store32(&watchdog_stop, 1);
	futex_wake(&watchdog_stop);
	pthread_join(wt, NULL);

	/* Nothing may be left: waitpid(-1, WNOHANG | __WALL) is ECHILD. */
	if (waitpid(-1, NULL, WNOHANG | __WALL) != -1 || errno != ECHILD)
		failf(C_TASKS, "a child is left at the end");

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

	for (c = 0; c < C_NR; c++) {
		if (failures[c])
			ksft_test_result_fail("%s: %" PRIu64 " failure(s)\n",
					      check_name[c], failures[c]);
		else
			ksft_test_result_pass("%s\n", check_name[c]);
	}
	ksft_finished();
}
