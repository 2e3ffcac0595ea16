// SPDX-License-Identifier: MIT
/*
 * An afork-bench worker: a process of its own per afork backend (libafork
 * picks its backend once per process), holding the row's memory and busy
 * threads, that answers the coordinator's commands over a pipe pair: one
 * latency sample (OP_LAT) or one throughput round (OP_TPUT) of a method.
 * Its busy threads spin only while it samples.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "afork-bench.h"

#ifndef MADV_NOHUGEPAGE
#define MADV_NOHUGEPAGE 15
#endif
#ifndef MADV_HUGEPAGE
#define MADV_HUGEPAGE 14
#endif

/* ---- busy threads ---- */

static int busy_active;		/* futex word: spin while 1, park while 0 */
static volatile unsigned long busy_sink;

static void *busy_thread(void *unused)
{
	unsigned long x = 0;
	int i;

	(void)unused;
	for (;;) {
		while (__atomic_load_n(&busy_active, __ATOMIC_RELAXED)) {
			for (i = 0; i < 4096; i++)
				x = x * 6364136223846793005ul + 1442695040888963407ul;
			busy_sink = x;
		}
		syscall(SYS_futex, &busy_active, FUTEX_WAIT_PRIVATE, 0, NULL);
	}
	return NULL;
}

static void busy_set(int on, int nthreads)
{
	if (!nthreads)
		return;
	__atomic_store_n(&busy_active, on, __ATOMIC_RELAXED);
	if (on)
		syscall(SYS_futex, &busy_active, FUTEX_WAKE_PRIVATE, INT_MAX);
}

/* ---- the parent's memory ---- */

static void *touch_memory(unsigned long size_mib, int thp)
{
	size_t len = size_mib * MIB, align = 2 * MIB, i;
	char *map, *p;

	if (!len)
		return NULL;
	/* 2 MiB aligned, so that THP can use every part of it. */
	map = mmap(NULL, len + align, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (map == MAP_FAILED)
		die("mmap %lu MiB: %s", size_mib, strerror(errno));
	p = (char *)(((uintptr_t)map + align - 1) & ~(uintptr_t)(align - 1));
	if (madvise(p, len, thp ? MADV_HUGEPAGE : MADV_NOHUGEPAGE))
		fprintf(stderr, "%s: madvise(%s): %s\n", prog,
			thp ? "MADV_HUGEPAGE" : "MADV_NOHUGEPAGE", strerror(errno));
	for (i = 0; i < len; i += 4096)
		p[i] = (char)(i >> 12 | 1);
	return p;
}

/* ---- samples ---- */

static void run_lat(const struct cmd *c, struct reply *rp)
{
	const struct target *t = &targets[c->target];
	int64_t t0, t1, t2;
	pid_t pid;
	int st = 0;

	t0 = now_ns();
	pid = spawn_one(c->method, t);
	t1 = now_ns();
	if (pid < 0) {
		rp->status = -pid;
		rp->errors = 1;
		return;
	}
	if (reap(pid, &st) != pid) {
		rp->status = errno;
		rp->errors = 1;
		return;
	}
	t2 = now_ns();
	spawn_done(c->method, pid);
	rp->errors = !exited_ok(st);
	rp->a = t1 - t0;
	rp->b = t2 - t0;
}

/* CPU time used so far by this process and its reaped children, in ns. */
static int64_t cpu_ns(void)
{
	struct rusage self, kids;

	getrusage(RUSAGE_SELF, &self);
	getrusage(RUSAGE_CHILDREN, &kids);
	return ((int64_t)self.ru_utime.tv_sec + self.ru_stime.tv_sec +
		kids.ru_utime.tv_sec + kids.ru_stime.tv_sec) * 1000000000 +
	       ((int64_t)self.ru_utime.tv_usec + self.ru_stime.tv_usec +
		kids.ru_utime.tv_usec + kids.ru_stime.tv_usec) * 1000;
}

static void run_tput(const struct cmd *c, struct reply *rp)
{
	const struct target *t = &targets[c->target];
	int n = c->n, inflight = c->inflight, started = 0, done = 0;
	int64_t t0, cpu0;
	pid_t pid;
	int st;

	if (inflight > MAX_INFLIGHT)
		inflight = MAX_INFLIGHT;
	cpu0 = cpu_ns();
	t0 = now_ns();
	while (done < n) {
		while (started < n && started - done < inflight) {
			pid = spawn_one(c->method, t);
			if (pid < 0) {
				rp->status = -pid;
				rp->errors++;
				n = started;	/* stop here, reap the rest */
				break;
			}
			started++;
		}
		if (done == started)
			break;
		pid = reap(-1, &st);
		if (pid < 0) {
			rp->status = errno;
			rp->errors += started - done;
			break;
		}
		done++;
		spawn_done(c->method, pid);
		if (!exited_ok(st))
			rp->errors++;
	}
	rp->a = now_ns() - t0;
	rp->b = done;
	rp->cpu = cpu_ns() - cpu0;
}

/* ---- the worker ---- */

/* The methods this worker runs: all (the base worker) or libafork's. */
static void worker_methods(const struct worker_args *wa, struct hello *h)
{
	int i;

	if (wa->all_methods) {
		for (i = 0; i < M_NMETHODS; i++)
			if (HAVE_AFORK_SPAWN ||
			    (i != M_AFORK_SPAWN && i != M_AFORK_SPAWN_3FA))
				h->methods[h->nmethods++] = i;
	} else {
		h->methods[h->nmethods++] = M_AFORK;
		h->methods[h->nmethods++] = M_AFORK_POLL;
		if (HAVE_AFORK_SPAWN)
			h->methods[h->nmethods++] = M_AFORK_SPAWN;
	}
}

/*
 * The memory, the busy threads, the methods' state; h says how it went
 * (0 if the backend is not there: nothing else is set up then).
 */
static int worker_setup(const struct worker_args *wa, struct hello *h)
{
	int64_t t0 = now_ns();
	pthread_t th;
	int i, b;

	memset(h, 0, sizeof(*h));
	b = afork_backend();
	if (b < 0) {
		h->status = errno;
		return 0;
	}
	h->backend = b;
	/* An experiment's knob: keep more free stacks (afork_pool_set_limits). */
	if (getenv("AFORK_BENCH_POOL_FREE"))
		afork_pool_set_limits(0, strtoul(getenv("AFORK_BENCH_POOL_FREE"), NULL, 10));
	snprintf(h->backend_name, sizeof(h->backend_name), "%s",
		 afork_backend_name(b) ? afork_backend_name(b) : "?");

	touch_memory(wa->size_mib, wa->thp);
	methods_setup();
	for (i = 0; i < wa->busy; i++)
		if (pthread_create(&th, NULL, busy_thread, NULL))
			die("pthread_create");
	worker_methods(wa, h);
	h->anon_huge_kb = proc_kb("/proc/self/smaps_rollup", "AnonHugePages");
	h->rss_kb = proc_kb("/proc/self/status", "VmRSS");
	h->setup_ns = now_ns() - t0;
	return 1;
}

static void pool_stats(const char *backend_name)
{
	struct afork_pool_stats st;

	memset(&st, 0, sizeof(st));
	st.size = sizeof(st);
	if (!afork_pool_stats(&st))
		fprintf(stderr, "%s: worker %s: pool: %lu stacks mapped, %lu reused, %lu free, max_free %lu\n",
			prog, backend_name, st.maps, st.reuses,
			st.stacks_free, st.max_free);
}

int worker_main(const struct worker_args *wa)
{
	struct hello h;
	struct cmd c;
	int ok;

	fcntl(wa->in_fd, F_SETFD, FD_CLOEXEC);
	fcntl(wa->out_fd, F_SETFD, FD_CLOEXEC);
	signal(SIGPIPE, SIG_IGN);

	ok = worker_setup(wa, &h);
	xwrite(wa->out_fd, &h, sizeof(h));
	if (!ok)
		return 0;

	while (xread(wa->in_fd, &c, sizeof(c))) {
		struct reply rp;

		memset(&rp, 0, sizeof(rp));
		if (c.target < 0 || c.target >= ntargets ||
		    c.method < 0 || c.method >= M_NMETHODS) {
			rp.status = EINVAL;
		} else {
			busy_set(1, wa->busy);
			if (c.op == OP_LAT)
				run_lat(&c, &rp);
			else
				run_tput(&c, &rp);
			busy_set(0, wa->busy);
		}
		xwrite(wa->out_fd, &rp, sizeof(rp));
	}
	if (getenv("AFORK_BENCH_POOL_STATS"))
		pool_stats(h.backend_name);
	return 0;
}
