/* SPDX-License-Identifier: MIT */
/*
 * Shared by the libafork stress tests: the per-backend fixture, the
 * resource snapshot taken before and after each test (fds, mappings,
 * zombies, the stack pool), bounded waits, the helper program (this
 * binary re-exec'd with --stress-helper CODE) and the main().
 *
 * Nothing here may run in an afork child, except where marked.
 */
#ifndef STRESS_UTIL_H
#define STRESS_UTIL_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <afork.h>
#include <linux/futex.h>

#include "../common/proc_util.h"
#include "../fuzz/fuzz_rng.h"
#include "kselftest_harness.h"
#include "../common/backend_fixture.h"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

#define SIGBIT(s) (1ULL << ((s) - 1))

/* AddressSanitizer maps its shadow on demand: mapping counts mean nothing. */
#if defined(__SANITIZE_ADDRESS__)
#define STRESS_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define STRESS_ASAN 1
#endif
#endif
#ifndef STRESS_ASAN
#define STRESS_ASAN 0
#endif

/* Flags the backend honours: the vfork backend refuses any (ENOTSUP). */
static inline int stress_flags(int flags)
{
	return afork_backend() == AFORK_BACKEND_VFORK ? 0 : flags;
}

/* Thread stacks of these tests, told apart from the pool's by size. */
#define STRESS_THREAD_STACK (1024 * 1024)
/* libafork's vfork workers (be_vfork.c VF_WORKER_STACK). */
#define VFORK_WORKER_STACK (256 * 1024)
/* Every bounded wait of these tests, in ms; a child that takes longer is stuck. */
#define STRESS_TIMEOUT_MS 60000

/* ------------------------------------------------------------------ */
/* Parameters                                                          */
/* ------------------------------------------------------------------ */

/* AFORK_STRESS_SEED, else from the clock; printed by each test. */
static inline uint64_t stress_seed(void)
{
	static uint64_t seed;
	struct timespec ts;

	if (!seed) {
		seed = env_u64("AFORK_STRESS_SEED", 0);
		if (!seed) {
			clock_gettime(CLOCK_REALTIME, &ts);
			seed = ((uint64_t)ts.tv_sec << 20) ^ (uint64_t)ts.tv_nsec;
		}
	}
	return seed;
}

/* ------------------------------------------------------------------ */
/* The helper program and this program's path                         */
/* ------------------------------------------------------------------ */

static char stress_self[PATH_MAX];
static char stress_code[8][4] __attribute__((unused)) = { "0", "1", "2", "3", "4", "5", "6", "7" };
/* argv for exec'ing the helper with exit code i (0..7). */
static char *stress_helper_argv[8][4];
static char *stress_empty_env[] __attribute__((unused)) = { NULL };

static inline void stress_init_paths(void)
{
	ssize_t n = readlink("/proc/self/exe", stress_self, sizeof(stress_self) - 1);
	int i;

	stress_self[n > 0 ? n : 0] = 0;
	for (i = 0; i < 8; i++) {
		stress_helper_argv[i][0] = "stress-helper";
		stress_helper_argv[i][1] = "--stress-helper";
		stress_helper_argv[i][2] = stress_code[i];
		stress_helper_argv[i][3] = NULL;
	}
}

/* ------------------------------------------------------------------ */
/* Resource snapshot                                                   */
/* ------------------------------------------------------------------ */

#define SNAP_LINES 512

struct snapshot {
	int fds;
	int maps_other;		/* mappings that are no thread or pool stack */
	int pool_maps;		/* guarded mappings of a pool stack's shape */
	int thread_stacks;
	int arenas;		/* glibc malloc heaps (64 MiB reservations) */
	struct afork_pool_stats pool;
	int nlines;
	char lines[SNAP_LINES][96];	/* the "other" mappings, for a diff */
};

/* This process's address space (VmSize), in bytes; 0 if unknown. */
static inline unsigned long vm_size(void)
{
	FILE *f = fopen("/proc/self/status", "re");
	unsigned long kb = 0;
	char line[256];

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "VmSize: %lu kB", &kb) == 1)
			break;
	if (f)
		fclose(f);
	return kb * 1024;
}

/* Pool stack sizes the tests use (stack + the record's page, see pool.c). */
static const size_t stress_stack_sizes[] = {
	16 * 1024, 32 * 1024, 64 * 1024, 128 * 1024, 512 * 1024,
};

static inline int is_pool_rw(size_t rw)
{
	size_t i, pg = (size_t)sysconf(_SC_PAGESIZE);

	for (i = 0; i < sizeof(stress_stack_sizes) / sizeof(stress_stack_sizes[0]); i++)
		if (rw == stress_stack_sizes[i] + pg)
			return 1;
	return 0;
}

struct map_line {
	unsigned long lo, hi;
	char perm[8];
	int anon;
	char text[96];
};

static inline int read_maps(struct map_line *m, int max)
{
	FILE *f = fopen("/proc/self/maps", "re");
	char line[512];
	int n = 0, at;

	if (!f)
		return -1;
	while (n < max && fgets(line, sizeof(line), f)) {
		at = 0;
		if (sscanf(line, "%lx-%lx %7s %*s %*s %*s %n", &m[n].lo, &m[n].hi,
			   m[n].perm, &at) < 3)
			continue;
		m[n].anon = at && (line[at] == '\n' || line[at] == 0);
		line[strcspn(line, "\n")] = 0;
		line[sizeof(m[n].text) - 1] = 0;
		memcpy(m[n].text, line, sizeof(m[n].text));
		n++;
	}
	fclose(f);
	return n;
}

/*
 * Classify /proc/self/maps: a PROT_NONE page followed by a private
 * anonymous rw mapping is a guarded stack; by the size of its rw part
 * it belongs to a thread (ours or a vfork worker: glibc keeps the stacks
 * of exited threads cached) or to the afork pool.  An anonymous rw
 * mapping followed by a PROT_NONE one, together 64 MiB and 64 MiB
 * aligned, is a glibc malloc arena heap (created the first time a thread
 * allocates, e.g. pthread_create's TLS in a thread that starts a vfork
 * worker, and never unmapped).  Everything else must come back to where
 * it was.
 */
static inline int snapshot_maps(struct snapshot *s)
{
	static struct map_line m[4096];
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);
	const unsigned long heap = 64ul << 20;
	int n = read_maps(m, 4096), i;

	if (n < 0)
		return -1;
	s->pool_maps = s->thread_stacks = s->arenas = s->maps_other = s->nlines = 0;
	for (i = 0; i < n; i++) {
		size_t guard = m[i].hi - m[i].lo;

		/*
		 * The pool guards with a page; glibc's thread stacks with a
		 * page, or 64 KiB on aarch64 (its ARCH_MIN_GUARD_SIZE).
		 */
		if (i + 1 < n && !strcmp(m[i].perm, "---p") && m[i].anon &&
		    (guard == pg || guard == 64 * 1024) && m[i + 1].lo == m[i].hi &&
		    !strcmp(m[i + 1].perm, "rw-p") && m[i + 1].anon) {
			size_t rw = m[i + 1].hi - m[i + 1].lo;

			/* glibc adds the guard to the size asked for (BZ #22637). */
			if (rw == STRESS_THREAD_STACK || rw == VFORK_WORKER_STACK ||
			    rw == STRESS_THREAD_STACK - guard ||
			    rw == VFORK_WORKER_STACK - guard) {
				s->thread_stacks++;
				i++;
				continue;
			}
			if (guard == pg && is_pool_rw(rw)) {
				s->pool_maps++;
				i++;
				continue;
			}
		}
		if (i + 1 < n && !strcmp(m[i].perm, "rw-p") && m[i].anon &&
		    !(m[i].lo & (heap - 1)) && m[i + 1].lo == m[i].hi &&
		    !strcmp(m[i + 1].perm, "---p") && m[i + 1].hi - m[i].lo == heap) {
			s->arenas++;
			i++;
			continue;
		}
		if (!strcmp(m[i].perm, "rw-p") && m[i].anon &&
		    !(m[i].lo & (heap - 1)) && m[i].hi - m[i].lo == heap) {
			s->arenas++;	/* an arena heap grown to its full size */
			continue;
		}
		s->maps_other++;
		if (s->nlines < SNAP_LINES)
			memcpy(s->lines[s->nlines++], m[i].text, sizeof(m[i].text));
	}
	return 0;
}

/* Print the "other" mappings in one snapshot and not the other. */
static inline void snapshot_diff(const struct snapshot *a, const struct snapshot *b)
{
	int i, j;

	for (i = 0; i < b->nlines; i++) {
		for (j = 0; j < a->nlines && strcmp(a->lines[j], b->lines[i]); j++)
			;
		if (j == a->nlines)
			fprintf(stderr, "# + %s\n", b->lines[i]);
	}
	for (i = 0; i < a->nlines; i++) {
		for (j = 0; j < b->nlines && strcmp(b->lines[j], a->lines[i]); j++)
			;
		if (j == b->nlines)
			fprintf(stderr, "# - %s\n", a->lines[i]);
	}
}

static inline int snapshot_take(struct snapshot *s)
{
	memset(s, 0, sizeof(*s));
	s->pool.size = sizeof(s->pool);
	if (afork_pool_stats(&s->pool))
		return -1;
	s->fds = count_fds();
	return snapshot_maps(s);
}

/*
 * Trim the pool until no stack is busy.  A plain afork() child on the
 * vfork backend gives its stack back when its worker thread has seen
 * vfork() return, which may be a little after we reaped the child: wait
 * for that condition, bounded, yielding the CPU (the library offers no
 * event for it).  On the other backends the first trim must do.
 */
static inline int pool_settle(int backend, struct afork_pool_stats *ps)
{
	struct timespec t0, t;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		afork_pool_trim();
		ps->size = sizeof(*ps);
		if (afork_pool_stats(ps))
			return -1;
		/* A vfork worker may free a stack between the trim and here. */
		if ((ps->stacks_busy == 0 && ps->stacks_free == 0) ||
		    backend != AFORK_BACKEND_VFORK)
			return (int)ps->stacks_busy;
		clock_gettime(CLOCK_MONOTONIC, &t);
		if ((t.tv_sec - t0.tv_sec) * 1000 > STRESS_TIMEOUT_MS)
			return (int)ps->stacks_busy;
		sched_yield();
	}
}

/* ------------------------------------------------------------------ */
/* Bounded waits                                                       */
/* ------------------------------------------------------------------ */

/*
 * Wait at most STRESS_TIMEOUT_MS for our unreaped child @pid to exit,
 * without reaping it: 0 when it has, -1 when it is stuck (then it is
 * killed, so that the caller's reap does not block).
 */
static inline int exit_bounded(pid_t pid)
{
	if (wait_exit_unreaped(pid, STRESS_TIMEOUT_MS) != 1)
		return 0;
	kill(pid, SIGKILL);
	return -1;
}

/* Reap @pid (our child, any flag, any backend), bounded; -2 if it was stuck. */
static inline pid_t reap_bounded(pid_t pid, int *status)
{
	int stuck = exit_bounded(pid);
	pid_t got;

	do {
		got = waitpid(pid, status, __WALL);
	} while (got < 0 && errno == EINTR);
	return stuck ? -2 : got;
}

/* ------------------------------------------------------------------ */
/* Fixture: one variant per backend                                    */
/* ------------------------------------------------------------------ */

AFORK_BACKEND_FIXTURE(backend, );

FIXTURE_SETUP(backend)
{
	AFORK_BACKEND_SETUP();
	stress_init_paths();
	TH_LOG("backend %s, seed %" PRIu64 " (AFORK_STRESS_SEED)", variant->env,
	       stress_seed());
}

FIXTURE_TEARDOWN(backend)
{
}

/*
 * The end-of-test check: everything back to @before.  Pool stacks still
 * mapped must be the pool's free list, which afork_pool_trim() empties.
 */
#define EXPECT_NO_LEAK(before) do {						\
	static struct snapshot __now;						\
	struct afork_pool_stats __ps;						\
	int __busy = pool_settle(self->id, &__ps);				\
										\
	EXPECT_EQ(0, any_child_left());						\
	EXPECT_EQ(0, __busy);							\
	ASSERT_EQ(0, snapshot_take(&__now));					\
	EXPECT_EQ(0ul, __now.pool.stacks_total);				\
	EXPECT_EQ(0ul, __now.pool.bytes_mapped);				\
	EXPECT_EQ(0, __now.pool_maps);						\
	EXPECT_EQ((before).fds, __now.fds);					\
	if (!STRESS_ASAN)							\
	EXPECT_EQ((before).maps_other, __now.maps_other) {			\
		TH_LOG("mappings other than stacks: %d before, %d now",		\
		       (before).maps_other, __now.maps_other);			\
		snapshot_diff(&(before), &__now);				\
	}									\
	TH_LOG("pool: %lu maps, %lu reuses; %d thread stacks cached, %d malloc arenas", \
	       __now.pool.maps, __now.pool.reuses, __now.thread_stacks,	\
	       __now.arenas);							\
} while (0)

/* Take the baseline after trimming (the pool may hold free stacks). */
#define TAKE_BASELINE(snap) do {						\
	struct afork_pool_stats __ps;						\
										\
	ASSERT_EQ(0, pool_settle(self->id, &__ps));				\
	ASSERT_EQ(0, snapshot_take(&(snap)));					\
	ASSERT_EQ(0ul, (snap).pool.stacks_total);				\
} while (0)

/*
 * main(): the helper program, then the harness with every test's timeout
 * scaled by AFORK_STRESS_TIMEOUT_SCALE (make stress raises it with N).
 */
#define STRESS_MAIN							\
int main(int argc, char **argv)						\
{									\
	struct __fixture_metadata *f;					\
	struct __test_metadata *t;					\
	unsigned long scale = env_u64("AFORK_STRESS_TIMEOUT_SCALE", 1);	\
									\
	if (argc > 2 && !strcmp(argv[1], "--stress-helper"))		\
		_exit(atoi(argv[2]));					\
	for (f = __fixture_list; f; f = f->next)			\
		for (t = f->tests; t; t = t->next)			\
			t->timeout *= (int)scale;			\
	return test_harness_run(argc, argv);				\
}

#endif /* STRESS_UTIL_H */
