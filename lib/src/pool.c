/* SPDX-License-Identifier: MIT */
/*
 * The stack pool.
 *
 * Each child gets one mapping: a PROT_NONE guard page, its stack, and its
 * struct afork_child on top (see internal.h).  A mapping is reused or
 * unmapped only when its child has released the address space (the release
 * word is 0) and no handle refers to it any more.  Children started with
 * plain afork() have no handle: their mappings sit on the busy list until
 * a later call finds their release word at 0 ("collecting").
 *
 * Bounds: at most max_stacks mappings exist at once (afork fails with
 * EAGAIN beyond), and at most max_free are kept for reuse.  One mutex
 * guards the lists; the child never touches them.  After fork() the child
 * process reinitialises the lock and reclaims every mapping that no handle
 * refers to (those children belong to the parent process).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "internal.h"

#if defined(__SANITIZE_ADDRESS__)
#define AFORK_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define AFORK_ASAN 1
#endif
#endif
#ifdef AFORK_ASAN
void __asan_unpoison_memory_region(void const volatile *addr, size_t size);
#endif

static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static struct afork_child *free_list;	/* singly linked via ->next */
static struct afork_child *busy_list;	/* doubly linked */
static size_t page_size;
static size_t default_stack = AFORK_STACK_DEFAULT;
static unsigned long max_stacks = 1024, max_free = 16;
static unsigned long n_total, n_free, n_maps, n_reuses;
static size_t bytes_mapped;

static size_t record_size(void)
{
	return (sizeof(struct afork_child) + page_size - 1) & ~(page_size - 1);
}

size_t afork__pool_round(size_t size)
{
	if (!page_size)
		page_size = (size_t)sysconf(_SC_PAGESIZE);
	if (size < AFORK_STACK_MIN || size > AFORK_STACK_MAX)
		return 0;
	return (size + page_size - 1) & ~(page_size - 1);
}

static unsigned long env_ulong(const char *name, unsigned long dflt)
{
	const char *s = secure_getenv(name);
	int saved = errno, bad;
	unsigned long v;
	char *end;

	if (!s || !*s)
		return dflt;
	errno = 0;
	v = strtoul(s, &end, 0);
	bad = errno || *end || !v;
	errno = saved;	/* a bad value is ignored, not reported */
	return bad ? dflt : v;
}

/* Called once from afork__init(). */
void afork__pool_env(void)
{
	size_t s;

	page_size = (size_t)sysconf(_SC_PAGESIZE);
	s = afork__pool_round(env_ulong("AFORK_STACK_SIZE", AFORK_STACK_DEFAULT));
	default_stack = s ? s : AFORK_STACK_DEFAULT;
	max_stacks = env_ulong("AFORK_POOL_MAX", max_stacks);
}

/*
 * The sizes a free stack is kept at: the default, and the powers of two
 * up to AFORK_POOL_CLASS_MAX, which is what afork__pool_class() hands out
 * to spawn, popen and system.  Any other size is unmapped when done with.
 */
static int pool_keeps(size_t stack_size)
{
	return stack_size == default_stack ||
	       (stack_size <= AFORK_POOL_CLASS_MAX &&
		!(stack_size & (stack_size - 1)));
}

size_t afork__pool_class(size_t need)
{
	size_t s = afork__pool_default_stack();

	if (need <= s)
		return s;
	/* Not page_size: the pool may not be set up yet (the first call). */
	for (s = AFORK_STACK_MIN; s < need && s < AFORK_POOL_CLASS_MAX; s *= 2)
		;
	return s >= need ? s : need;
}

size_t afork__pool_default_stack(void)
{
	size_t s;

	pthread_mutex_lock(&pool_lock);
	s = default_stack;
	pthread_mutex_unlock(&pool_lock);
	return s;
}

static void busy_add(struct afork_child *c)
{
	c->prev = NULL;
	c->next = busy_list;
	if (busy_list)
		busy_list->prev = c;
	busy_list = c;
	c->in_use = 1;
}

static void busy_del(struct afork_child *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		busy_list = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->in_use = 0;
}

/* Unlink the free stack *pp into *unmap. */
static void unlink_free(struct afork_child **pp, struct afork_child **unmap)
{
	struct afork_child *c = *pp;

	*pp = c->next;
	n_free--;
	n_total--;
	bytes_mapped -= c->map_size;
	c->next = *unmap;
	*unmap = c;
}

/* Keep at most @keep free stacks: the most recently freed (the list's head). */
static void shrink_free(unsigned long keep, struct afork_child **unmap)
{
	struct afork_child **pp = &free_list;
	unsigned long i;

	for (i = 0; *pp && i < keep; i++)
		pp = &(*pp)->next;
	while (*pp)
		unlink_free(pp, unmap);
}

/* Unmap the free stacks of sizes the pool no longer keeps. */
static void drop_unkept(struct afork_child **unmap)
{
	struct afork_child **pp = &free_list;

	while (*pp) {
		if (pool_keeps((*pp)->stack_size))
			pp = &(*pp)->next;
		else
			unlink_free(pp, unmap);
	}
}

/*
 * A mapping is done with: keep it on the free list, or hand it back in
 * *unmap (a list the caller unmaps after dropping the lock).
 */
static void recycle(struct afork_child *c, struct afork_child **unmap)
{
	if (max_free && pool_keeps(c->stack_size)) {
		c->next = free_list;
		free_list = c;
		n_free++;
		/* The budget is one for all sizes: the least recently used go. */
		shrink_free(max_free, unmap);
	} else {
		c->next = *unmap;
		*unmap = c;
		n_total--;
		bytes_mapped -= c->map_size;
	}
}

static void unmap_list(struct afork_child *c)
{
	while (c) {
		struct afork_child *next = c->next;

		munmap(c->map, c->map_size);
		c = next;
	}
}

/* Move every released, unowned busy mapping off the busy list. */
static void collect(struct afork_child **unmap)
{
	struct afork_child *c = busy_list, *next;

	for (; c; c = next) {
		next = c->next;
		if (!c->owned && afork__recyclable(c)) {
			busy_del(c);
			recycle(c, unmap);
		}
	}
}

/* The first free stack goes onto *unmap, to be unmapped after the lock. */
static void drop_free(struct afork_child **unmap)
{
	unlink_free(&free_list, unmap);
}

static struct afork_child *take_free(size_t stack_size)
{
	struct afork_child **pp, *c;

	for (pp = &free_list; (c = *pp); pp = &c->next) {
		if (c->stack_size == stack_size) {
			*pp = c->next;
			n_free--;
			n_reuses++;
			return c;
		}
	}
	return NULL;
}

static void prepare(struct afork_child *c)
{
	void *map = c->map;
	size_t map_size = c->map_size, stack_size = c->stack_size;

	memset(c, 0, sizeof(*c));
	c->map = map;
	c->map_size = map_size;
	c->stack_size = stack_size;
	c->pid = -1;
	c->pidfd = -1;
	c->release_fd = -1;
	c->child_fd[0] = c->child_fd[1] = -1;
	c->vf_efd = -1;
	c->owned = 1;
	c->release = AFORK_RELEASE_PENDING;
#ifdef AFORK_ASAN
	/* A child that exec'd or _exit'ed deep in a call left poison here. */
	__asan_unpoison_memory_region(afork__stack_base(c), stack_size);
#endif
}

int afork__pool_get(size_t stack_size, struct afork_child **cp)
{
	struct afork_child *c, *unmap = NULL;
	size_t map_size = 0;
	char *map;
	int err;

	pthread_mutex_lock(&pool_lock);
	c = take_free(stack_size);
	if (!c) {
		collect(&unmap);
		c = take_free(stack_size);
	}
	/* At the limit, a free stack of another size makes way for this one. */
	if (!c && n_total >= max_stacks && free_list)
		drop_free(&unmap);
	if (!c && n_total >= max_stacks) {
		pthread_mutex_unlock(&pool_lock);
		unmap_list(unmap);
		return -EAGAIN;
	}
	if (!c) {
		n_total++;	/* reserve our place under the limit */
		map_size = page_size + stack_size + record_size();
		bytes_mapped += map_size;
		n_maps++;
	}
	pthread_mutex_unlock(&pool_lock);
	unmap_list(unmap);

	if (!c) {
		map = mmap(NULL, map_size, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
		if (map == MAP_FAILED ||
		    mprotect(map, page_size, PROT_NONE)) {
			err = errno;
			if (map != MAP_FAILED)
				munmap(map, map_size);
			if (err != ENOMEM && err != EAGAIN)
				err = ENOMEM;
			pthread_mutex_lock(&pool_lock);
			n_total--;
			bytes_mapped -= map_size;
			pthread_mutex_unlock(&pool_lock);
			return -err;
		}
		c = (struct afork_child *)(map + page_size + stack_size);
		c->map = map;
		c->map_size = map_size;
		c->stack_size = stack_size;
	}
	prepare(c);
	pthread_mutex_lock(&pool_lock);
	busy_add(c);
	pthread_mutex_unlock(&pool_lock);
	*cp = c;
	return 0;
}

void afork__pool_put(struct afork_child *c)
{
	struct afork_child *unmap = NULL;

	pthread_mutex_lock(&pool_lock);
	busy_del(c);
	recycle(c, &unmap);
	pthread_mutex_unlock(&pool_lock);
	unmap_list(unmap);
}

void afork__pool_disown(struct afork_child *c)
{
	struct afork_child *unmap = NULL;

	pthread_mutex_lock(&pool_lock);
	c->owned = 0;
	if (afork__recyclable(c)) {
		busy_del(c);
		recycle(c, &unmap);
	}
	pthread_mutex_unlock(&pool_lock);
	unmap_list(unmap);
}

void afork__atfork_pool(int phase)
{
	struct afork_child *c, *next;

	switch (phase) {
	case AFORK_ATFORK_PREPARE:
		pthread_mutex_lock(&pool_lock);
		break;
	case AFORK_ATFORK_PARENT:
		pthread_mutex_unlock(&pool_lock);
		break;
	case AFORK_ATFORK_CHILD:
		pthread_mutex_init(&pool_lock, NULL);
		/*
		 * The children on the busy list belong to the parent process
		 * and run in its memory, not in this copy.  Handles still
		 * held here see them as released (and waiting on them fails
		 * with ECHILD); the rest is free to reuse.
		 */
		for (c = busy_list; c; c = next) {
			next = c->next;
			if (c->owned) {
				c->foreign = 1;
				c->release = 0;
				c->vf_done = 1;
			} else {
				struct afork_child *unmap = NULL;

				busy_del(c);
				recycle(c, &unmap);
				unmap_list(unmap);
			}
		}
		break;
	}
}

AFORK_API int afork_pool_stats(struct afork_pool_stats *st)
{
	struct afork_pool_stats s;
	struct afork_child *unmap = NULL;
	size_t n;

	if (!st || st->size < offsetof(struct afork_pool_stats, maps)) {
		errno = EINVAL;
		return -1;
	}
	afork__init();
	memset(&s, 0, sizeof(s));
	pthread_mutex_lock(&pool_lock);
	/* Released children nobody holds are not busy: collect them first. */
	collect(&unmap);
	s.stack_size = default_stack;
	s.bytes_mapped = bytes_mapped;
	s.stacks_total = n_total;
	s.stacks_free = n_free;
	s.stacks_busy = n_total - n_free;
	s.max_stacks = max_stacks;
	s.max_free = max_free;
	s.maps = n_maps;
	s.reuses = n_reuses;
	pthread_mutex_unlock(&pool_lock);
	unmap_list(unmap);
	n = st->size < sizeof(s) ? st->size : sizeof(s);
	s.size = st->size;
	memcpy(st, &s, n);
	return 0;
}

AFORK_API int afork_pool_trim(void)
{
	struct afork_child *unmap = NULL, *c;
	int n = 0;

	afork__init();
	pthread_mutex_lock(&pool_lock);
	collect(&unmap);
	while (free_list)
		drop_free(&unmap);
	pthread_mutex_unlock(&pool_lock);
	for (c = unmap; c; c = c->next)
		n++;
	unmap_list(unmap);
	return n;
}

AFORK_API int afork_pool_set_stack_size(size_t size)
{
	struct afork_child *unmap = NULL;
	size_t s;

	afork__init();
	s = afork__pool_round(size);
	if (!s) {
		errno = EINVAL;
		return -1;
	}
	pthread_mutex_lock(&pool_lock);
	default_stack = s;
	drop_unkept(&unmap);
	pthread_mutex_unlock(&pool_lock);
	unmap_list(unmap);
	return 0;
}

AFORK_API int afork_pool_set_limits(unsigned long stacks, unsigned long free_kept)
{
	struct afork_child *unmap = NULL;

	afork__init();
	pthread_mutex_lock(&pool_lock);
	if (stacks)
		max_stacks = stacks;
	if (free_kept)
		max_free = free_kept;
	/* Lower limits take effect at once on the free stacks. */
	shrink_free(max_free, &unmap);
	if (n_total > max_stacks)
		shrink_free(n_free > n_total - max_stacks ?
			    n_free - (n_total - max_stacks) : 0, &unmap);
	pthread_mutex_unlock(&pool_lock);
	unmap_list(unmap);
	return 0;
}
