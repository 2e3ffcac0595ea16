// SPDX-License-Identifier: GPL-2.0
/*
 * afork_fuzz's plan of one iteration, laid out in the arena: the page
 * states, the argument struct and the slots it points to (see
 * afork_fuzz.h); what the fuzzer may still read there; the plan printed
 * for a replay.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "afork_fuzz.h"

size_t page;
uintptr_t arena;
unsigned char cur_state[ARENA_PAGES];
unsigned char *shadow;
uint64_t task_size_max;
int top_free, low_free;

const char *const mode_name[M_NR] = {
	"exit", "wait", "exec", "execfail", "fault",
};

/* Write @len bytes at @addr (in the arena, mapped RW now) and the shadow. */
static void put(uintptr_t addr, const void *src, size_t len)
{
	if (addr < arena || addr + len > pg_addr(DATA_PAGES) || addr + len < addr)
		return;
	memcpy((void *)addr, src, len);
	memcpy(shadow + (addr - arena), src, len);
}


/* Change the pages [lo, hi) whose state differs from @st to it. */
void arena_set(const unsigned char *st, size_t lo, size_t hi)
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


void arena_apply(const struct plan *p)
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


/* Is [addr, addr+len) read-write in the arena now (after any race)? */
int rw_now(uintptr_t addr, size_t len)
{
	size_t pg;

	if (addr < arena || addr + len > pg_addr(DATA_PAGES) || addr + len < addr)
		return 0;
	for (pg = (addr - arena) / page; pg <= (addr + len - 1 - arena) / page; pg++)
		if (cur_state[pg] != PG_RW)
			return 0;
	return 1;
}


int overlaps(uint64_t a, size_t alen, uint64_t b, size_t blen)
{
	return a < b + blen && b < a + alen;
}

void print_plan(const struct plan *p)
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
