/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The parts of afork_fuzz (see afork_fuzz.c for what it does):
 *
 *   fuzz_plan.c    the plan of one iteration, laid out in the arena
 *   fuzz_draw.c    drawing a plan from the seed and the iteration number
 *   fuzz_follow.c  following a created child to its end, checking it
 *   afork_fuzz.c   the child, the racing thread, the watchdog, one
 *                  iteration against the oracle, main()
 *
 * and what they share: the arena's layout, the plan, the child's job, the
 * run's options, checks and figures.
 */
#ifndef AFORK_FUZZ_H
#define AFORK_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "fuzz_oracle.h"

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
extern const char *const mode_name[M_NR];
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
extern const char *const check_name[C_NR];

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

struct fuzz_opt {
	uint64_t seed;
	uint64_t iterations;
	double seconds;
	int64_t only;
	int verbose;
	int timeout_ms;
};
extern struct fuzz_opt opt;

/* Figures for the summary. */
struct fuzz_figures {
	uint64_t calls, children, query_ok, by_errno[160], other_ret;
	uint64_t races, exited, segv, signaled, sent, sigchld_seen;
	uint64_t autoreaped, waitpid_hidden, mode[M_NR];
};
extern struct fuzz_figures fig;

/* The arena and what the run found out about the machine. */
extern size_t page;
extern uintptr_t arena;
extern unsigned char cur_state[ARENA_PAGES];
extern unsigned char *shadow;
extern uint64_t task_size_max;
extern int top_free, low_free;		/* special stack tops are unmapped */
extern struct child_job job;

/* A check failed in this iteration (the plan is printed with the first). */
void failf(enum check c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Stop the run: a system call the fuzzer itself needs failed. */
void die(const char *what);

/* fuzz_plan.c */
static inline uintptr_t pg_addr(size_t pg)
{
	return arena + pg * page;
}

void arena_set(const unsigned char *st, size_t lo, size_t hi);
void arena_apply(const struct plan *p);
int rw_now(uintptr_t addr, size_t len);
int overlaps(uint64_t a, size_t alen, uint64_t b, size_t blen);
void print_plan(const struct plan *p);

/* fuzz_draw.c */
void draw_plan(uint64_t iter, struct plan *p);

/* fuzz_follow.c */
void follow_child(const struct plan *p, const struct oracle_out *o,
		  pid_t pid, int lowest);

#endif /* AFORK_FUZZ_H */
