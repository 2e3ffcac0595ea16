// SPDX-License-Identifier: GPL-2.0
/*
 * Drawing afork_fuzz's plan of one iteration from the seed and the
 * iteration number alone (its own stream of the seed), so that
 * "-s SEED -i I" replays iteration I.  The order of the draws is the
 * replay format: change it and old seeds replay other iterations.
 */
#include <string.h>
#include <signal.h>

#include "afork_fuzz.h"
#include "fuzz_rng.h"

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

/*
 * Half the iterations are "sane": every argument valid, and in half of
 * those one aspect drawn adversarially; the others draw every aspect
 * adversarially.  So a good share of the calls create children, and each
 * error path is also hit in isolation.
 */
enum aspect { A_PAGES = 1, A_SIZE, A_UARGS, A_FLAGS, A_STACK, A_PIDFD, A_WORD,
	      A_MASK, A_NR };

/* Page states: the struct pages mostly RW, slots anything. */
static void draw_pages(struct rng *r, struct plan *p, int adv)
{
	size_t i;

	for (i = 0; i < ARENA_PAGES; i++)
		p->state[i] = PG_NONE;
	for (i = 0; i < DATA_PAGES; i++)
		p->state[i] = PG_RW;
	for (i = STACK_FIRST; i < STACK_FIRST + STACK_PAGES; i++)
		p->state[i] = PG_RW;
	if (!adv)
		return;
	if (rng_pct(r, 25))
		p->state[rng_below(r, STRUCT_PAGES)] = draw_state(r, 0);
	for (i = STRUCT_PAGES; i < DATA_PAGES; i++)
		p->state[i] = draw_state(r, 60);
	if (rng_pct(r, 20)) {
		size_t a = rng_below(r, STACK_PAGES), n = 1 + rng_below(r, 8);
		unsigned char s = draw_state(r, 0);

		for (i = a; i < a + n && i < STACK_PAGES; i++)
			p->state[STACK_FIRST + i] = s;
	}
}

/* The struct: its size, its address, the flags and the stack. */
static void draw_struct(struct rng *r, struct plan *p, unsigned int adv)
{
	if (adv & (1u << A_SIZE)) {
		draw_size(r, p);
	} else {
		p->tail_nz = -1;
		p->size = rng_pct(r, 70) ? AFORK_ARGS_SIZE_VER0 :
			  AFORK_ARGS_SIZE_VER0 + 1 + rng_below(r, page - AFORK_ARGS_SIZE_VER0);
	}
	if (adv & (1u << A_UARGS)) {
		draw_uargs(r, p);
	} else {
		size_t span = p->size < page ? p->size : page;

		p->uargs = pg_addr(rng_below(r, 2)) + rng_below(r, page / 8) * 8;
		if (p->uargs + span > pg_addr(STRUCT_PAGES))
			p->uargs = pg_addr(STRUCT_PAGES) - span;
	}
	if (adv & (1u << A_FLAGS))
		draw_flags(r, p);
	else
		p->a.flags = rng_below(r, 8);
	if (adv & (1u << A_STACK))
		draw_stack(r, p);
	else
		sane_stack(r, p);
}

/* The pidfd slot (used whatever the flags say) and the release word. */
static void draw_pidfd_word(struct rng *r, struct plan *p, unsigned int adv)
{
	if (adv & (1u << A_PIDFD)) {
		p->a.pidfd = draw_slot(r, 4, 4);
		if (rng_pct(r, 3))
			p->a.pidfd = 0;
	} else {
		p->a.pidfd = pg_addr(5 + rng_below(r, 2)) + rng_below(r, page / 4) * 4;
	}

	if (adv & (1u << A_WORD)) {
		if (rng_pct(r, 15))
			p->a.release_word = 0;
		else if (rng_pct(r, 8))
			p->a.release_word = p->a.pidfd;		/* aliasing */
		else
			p->a.release_word = draw_slot(r, 4, 4);
	} else if (rng_pct(r, 70)) {
		p->a.release_word = pg_addr(3 + rng_below(r, 2)) +
				    rng_below(r, page / 4) * 4;
	}
}

/* The signal mask: its value, and where and how big the struct says it is. */
static void draw_sigmask(struct rng *r, struct plan *p, int adv)
{
	p->mask_val = draw_mask(r);
	if (!adv) {
		if (rng_pct(r, 60)) {
			p->a.sigmask = pg_addr(7) + rng_below(r, page / 8) * 8;
			p->a.sigmask_size = 8;
		}
		return;
	}
	switch (rng_below(r, 20)) {
	case 0:
		p->a.sigmask_size = 8;
		break;
	case 1:
		p->a.sigmask = draw_slot(r, 8, 8);
		p->a.sigmask_size = rng_pct(r, 50) ? rng_below(r, 16) : rng_next(r);
		break;
	case 2: case 3: case 4: case 5: case 6: case 7: case 8:
		break;
	default:
		p->a.sigmask = draw_slot(r, 8, 8);
		p->a.sigmask_size = 8;
		break;
	}
}

/* What the race unmaps: an address in the struct, a slot or the stack. */
static uintptr_t draw_race_target(struct rng *r, struct plan *p, size_t *pages)
{
	*pages = 1;
	switch (rng_below(r, 5)) {
	case 0:
		*pages = 1 + rng_below(r, 2);
		p->race_what = "struct";
		return p->uargs;
	case 1:
		p->race_what = "release word";
		return p->a.release_word;
	case 2:
		p->race_what = "pidfd slot";
		return p->a.pidfd;
	case 3:
		p->race_what = "sigmask";
		return p->a.sigmask;
	default:
		*pages = 1 + rng_below(r, 4);
		p->race_what = "stack";
		return p->a.stack + p->a.stack_size - 1;
	}
}

/* A race against the call: unmap a page the call reads or writes. */
static void draw_race(struct rng *r, struct plan *p)
{
	uintptr_t t;
	size_t pages, pg;

	if (!rng_pct(r, 15))
		return;
	t = draw_race_target(r, p, &pages);
	if (t < arena || t >= pg_addr(ARENA_PAGES))
		return;
	pg = (t - arena) / page;
	if (!strcmp(p->race_what, "stack") && pg + 1 >= pages)
		pg = pg + 1 - pages;
	if (pg + pages > ARENA_PAGES)
		pages = ARENA_PAGES - pg;
	if (p->state[pg] != PG_UNMAPPED) {
		p->race = 1;
		p->race_lo = pg;
		p->race_hi = pg + pages;
		p->race_spin = rng_log(r, 20000);
	}
}

/* The child and how the parent treats it. */
static void draw_child(struct rng *r, struct plan *p)
{
	uint64_t i = rng_below(r, 100);

	p->mode = i < 52 ? M_EXIT : i < 80 ? M_WAIT : i < 90 ? M_EXEC :
		  i < 97 ? M_EXECFAIL : M_FAULT;
	if (rng_pct(r, p->mode == M_WAIT ? 60 : 15)) {
		p->sig = sigs[rng_below(r, sizeof(sigs) / sizeof(sigs[0]))];
		p->kill_spin = rng_log(r, 50000);
	}
	i = rng_below(r, 100);
	p->disp = i < 80 ? D_DFL : i < 90 ? D_IGN : D_NOCLDWAIT;
	/* Any mask, but the runner's timeout (SIGTERM) and ^C still work. */
	p->parent_mask = (rng_next(r) | SIGBIT(SIGCHLD)) &
			 ~(SIGBIT(SIGKILL) | SIGBIT(SIGSTOP) | SIGBIT(32) | SIGBIT(33) |
			   SIGBIT(SIGTERM) | SIGBIT(SIGINT) | SIGBIT(SIGHUP));
	p->reap = (enum reap)rng_below(r, R_NR);
}

void draw_plan(uint64_t iter, struct plan *p)
{
	unsigned int adv = 0;
	struct rng r;
	int sane, perturb, a;

	memset(p, 0, sizeof(*p));
	rng_init(&r, opt.seed, iter);
	p->iter = iter;
	sane = rng_pct(&r, 50);
	perturb = sane && rng_pct(&r, 50) ? 1 + (int)rng_below(&r, A_NR - 1) : 0;
	/* The aspects drawn adversarially, a bit each. */
	for (a = A_PAGES; a < A_NR; a++)
		if (!sane || perturb == a)
			adv |= 1u << a;

	draw_pages(&r, p, !!(adv & (1u << A_PAGES)));
	draw_struct(&r, p, adv);
	draw_pidfd_word(&r, p, adv);
	draw_sigmask(&r, p, !!(adv & (1u << A_MASK)));
	draw_race(&r, p);
	draw_child(&r, p);
}
