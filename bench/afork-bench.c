// SPDX-License-Identifier: MIT
/*
 * afork-bench: how long does starting a program hold up the caller?
 *
 * One run measures, side by side, fork+exec, vfork+exec, glibc's
 * posix_spawn, a raw clone(CLONE_VM) without CLONE_VFORK (the floor: see
 * raw_clone.S), and libafork's afork() on every backend the kernel offers,
 * plus posix_spawn and afork with the same three file actions.  For each
 * method and each exec target it records
 *
 *   blocked   CLOCK_MONOTONIC around the spawn call only (p50/p90/p99)
 *   rtt       spawn, exec, exit, reap of one child (p50/p90/p99)
 *   tput      spawns per second with up to 64 children in flight, and the
 *             CPU time (caller, its threads and the children, exec and exit
 *             included) per spawn during that run
 *
 * for parents of several sizes of touched anonymous memory (THP off for
 * the mapping with MADV_NOHUGEPAGE, or on with MADV_HUGEPAGE), and for a
 * parent running busy threads.
 *
 * Structure.  libafork picks its backend once per process (AFORK_BACKEND),
 * so every backend runs in a worker process of its own: this program
 * re-executes itself as one worker per backend, each holding the same
 * amount of memory.  The first worker ("base", backend auto) also runs the
 * methods that do not depend on the backend.  The coordinator (the
 * original process, small) drives the workers over pipes one sample at a
 * time, round-robin over every (worker, method) pair, so machine noise hits
 * all methods alike.  Workers not being asked sleep; their busy threads
 * (if any) are parked.
 *
 * Each method stops sampling once it has its minimum number of samples and
 * has used up its time budget (fork from a 4 GiB parent is slow); the
 * others go on to the maximum.
 *
 * Output: CSV on stdout or --out FILE, with "# key: value" lines first
 * recording the machine, kernel, page size, THP setting, date and
 * parameters.  bench/report.sh turns it into tables, ratios and plots.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <gnu/libc-version.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <afork.h>
#if __has_include(<afork_spawn.h>)
#include <afork_spawn.h>
#define HAVE_AFORK_SPAWN 1
#else
#define HAVE_AFORK_SPAWN 0
#endif

#ifndef MADV_NOHUGEPAGE
#define MADV_NOHUGEPAGE 15
#endif
#ifndef MADV_HUGEPAGE
#define MADV_HUGEPAGE 14
#endif

#define MIB (1024ul * 1024)
#define MAX_WORKERS 8
#define MAX_SLOTS 24
#define MAX_TARGETS 2
#define MAX_ROWS 16
#define MAX_INFLIGHT 256
#define RAW_SLOTS (MAX_INFLIGHT + 8)
#define RAW_STACK (16 * 1024)
#define WARMUP 3

extern char **environ;
long bench_raw_clone_exec(unsigned long flags, void *stack_top, int *child_tid,
			  const char *path, char *const argv[],
			  char *const envp[]);

/* ------------------------------------------------------------------ */
/* Small helpers                                                       */
/* ------------------------------------------------------------------ */

static const char *prog = "afork-bench";

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void xwrite(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t r = write(fd, p, len);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			die("write to pipe: %s", strerror(errno));
		p += r;
		len -= (size_t)r;
	}
}

/* 1 on success, 0 on EOF at the start. */
static int xread(int fd, void *buf, size_t len)
{
	char *p = buf;
	size_t got = 0;

	while (got < len) {
		ssize_t r = read(fd, p + got, len - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0 && got == 0)
			return 0;
		if (r <= 0)
			die("read from pipe: %s", r ? strerror(errno) : "short read");
		got += (size_t)r;
	}
	return 1;
}

static void read_first_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");

	snprintf(buf, len, "absent");
	if (!f)
		return;
	if (fgets(buf, (int)len, f))
		buf[strcspn(buf, "\n")] = 0;
	fclose(f);
}

/* A "Key: N kB" value from a /proc file, in kB; -1 if absent. */
static long proc_kb(const char *path, const char *key)
{
	char line[256];
	size_t kl = strlen(key);
	long v = -1;
	FILE *f = fopen(path, "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, key, kl) && line[kl] == ':') {
			v = strtol(line + kl + 1, NULL, 10);
			break;
		}
	}
	fclose(f);
	return v;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/*
 * The machine's speed right now: ns per getppid() (the cheapest system
 * call), best of five runs of 20,000.  On an idle machine this is about
 * 0.1-0.3 us; when other work shares the CPUs it grows, and so does
 * every figure of the run.
 */
static double syscall_ns(void)
{
	double best = 0;
	int r, i;

	for (r = 0; r < 5; r++) {
		int64_t t0 = now_ns();

		for (i = 0; i < 20000; i++)
			syscall(SYS_getppid);
		double ns = (now_ns() - t0) / 20000.0;

		if (!r || ns < best)
			best = ns;
	}
	return best;
}

/* Nearest-rank percentile of a sorted array. */
static double pct(const double *v, int n, double p)
{
	int i;

	if (n <= 0)
		return 0;
	i = (int)((p / 100.0) * n + 0.999999) - 1;
	if (i < 0)
		i = 0;
	if (i >= n)
		i = n - 1;
	return v[i];
}

/* ------------------------------------------------------------------ */
/* The methods                                                         */
/* ------------------------------------------------------------------ */

enum method {
	M_FORK,
	M_VFORK,
	M_POSIX_SPAWN,
	M_RAW_CLONE,
	M_AFORK,
	M_POSIX_SPAWN_3FA,
	M_AFORK_3FA,
	M_AFORK_SPAWN,
	M_AFORK_SPAWN_3FA,
	M_AFORK_POLL,
	M_NMETHODS
};

static const char *const method_name[M_NMETHODS] = {
	[M_FORK] = "fork",
	[M_VFORK] = "vfork",
	[M_POSIX_SPAWN] = "posix_spawn",
	[M_RAW_CLONE] = "raw_clone_vm",
	[M_AFORK] = "afork",
	[M_POSIX_SPAWN_3FA] = "posix_spawn_3fa",
	[M_AFORK_3FA] = "afork_3fa",
	[M_AFORK_SPAWN] = "afork_spawn",
	[M_AFORK_SPAWN_3FA] = "afork_spawn_3fa",
	[M_AFORK_POLL] = "afork_poll",
};

struct target {
	char label[16];
	char path[PATH_MAX];
	char *argv[2];
};

/* The same small environment for every method and target. */
static char *child_envp[] = { (char *)"PATH=/usr/bin:/bin", NULL };

/* Worker state. */
static struct target targets[MAX_TARGETS];
static int ntargets;
static posix_spawn_file_actions_t fa3;
#if HAVE_AFORK_SPAWN
static afork_spawn_file_actions_t afa3;
#endif
static int nullw = -1;			/* /dev/null, O_WRONLY, inherited */
static char *raw_stacks;
static int raw_ctid[RAW_SLOTS];

/*
 * afork_poll keeps a handle per child (with a pidfd and a release fd, as an
 * event loop would), freed once the child is reaped.
 */
static struct {
	pid_t pid;
	struct afork_child *c;
} handles[RAW_SLOTS];

static void handle_put(pid_t pid)
{
	int i;

	for (i = 0; i < RAW_SLOTS; i++) {
		if (handles[i].c && handles[i].pid == pid) {
			afork_free(handles[i].c);
			handles[i].c = NULL;
			return;
		}
	}
}

static int child_exec(void *arg);

static pid_t afork_poll_spawn(const struct target *t)
{
	struct afork_opts opts;
	struct afork_child *c;
	int i;

	for (i = 0; i < RAW_SLOTS && handles[i].c; i++)
		;
	if (i == RAW_SLOTS)
		return -EAGAIN;
	afork_opts_init(&opts);
	opts.options = AFORK_OPT_PIDFD | AFORK_OPT_RELEASE_FD;
	if (afork_start(&c, &opts, child_exec, (void *)t))
		return -errno;
	handles[i].c = c;
	handles[i].pid = afork_pid(c);
	return handles[i].pid;
}

/* The child of afork(): exec the target, nothing else. */
static int child_exec(void *arg)
{
	const struct target *t = arg;

	afork_child_execve(t->path, t->argv, child_envp);
	afork_child_exit(127);
}

/*
 * The child of afork() doing what posix_spawn_3fa's file actions do (and
 * what glibc does for them): open /dev/null onto fd 0, dup2 nullw onto
 * fd 1, close nullw.
 */
static int child_3fa(void *arg)
{
	const struct target *t = arg;
	int fd = afork_child_open("/dev/null", O_RDONLY, 0);

	if (fd < 0)
		afork_child_exit(126);
	if (fd != 0) {
		if (afork_child_dup2(fd, 0) < 0)
			afork_child_exit(126);
		afork_child_close(fd);
	}
	if (afork_child_dup2(nullw, 1) < 0)
		afork_child_exit(126);
	afork_child_close(nullw);
	afork_child_execve(t->path, t->argv, child_envp);
	afork_child_exit(127);
}

static void setup_3fa(void)
{
	nullw = open("/dev/null", O_WRONLY);	/* inherited: the actions close it */
	if (nullw < 0)
		die("open /dev/null: %s", strerror(errno));
	posix_spawn_file_actions_init(&fa3);
	if (posix_spawn_file_actions_addopen(&fa3, 0, "/dev/null", O_RDONLY, 0) ||
	    posix_spawn_file_actions_adddup2(&fa3, nullw, 1) ||
	    posix_spawn_file_actions_addclose(&fa3, nullw))
		die("posix_spawn_file_actions");
#if HAVE_AFORK_SPAWN
	afork_spawn_file_actions_init(&afa3);
	if (afork_spawn_file_actions_addopen(&afa3, 0, "/dev/null", O_RDONLY, 0) ||
	    afork_spawn_file_actions_adddup2(&afa3, nullw, 1) ||
	    afork_spawn_file_actions_addclose(&afa3, nullw))
		die("afork_spawn_file_actions");
#endif
}

static pid_t raw_clone_spawn(const struct target *t)
{
	int i;
	long r;

	for (;;) {
		for (i = 0; i < RAW_SLOTS; i++)
			if (__atomic_load_n(&raw_ctid[i], __ATOMIC_ACQUIRE) == 0)
				break;
		if (i < RAW_SLOTS)
			break;
		/* Every stack in use: wait for the first to be released. */
		syscall(SYS_futex, &raw_ctid[0], FUTEX_WAIT, raw_ctid[0], NULL);
	}
	raw_ctid[i] = 1;	/* cleared by the kernel at the child's exec/exit */
	r = bench_raw_clone_exec(CLONE_VM | CLONE_CHILD_CLEARTID | SIGCHLD,
				 raw_stacks + (size_t)(i + 1) * RAW_STACK,
				 &raw_ctid[i], t->path, t->argv, child_envp);
	if (r < 0)
		raw_ctid[i] = 0;
	return (pid_t)r;
}

/* Start one child running target t; its pid, or -errno. */
static pid_t spawn_one(int m, const struct target *t)
{
	pid_t pid;
	int r;

	switch (m) {
	case M_FORK:
		pid = fork();
		if (pid == 0) {
			execve(t->path, t->argv, child_envp);
			_exit(127);
		}
		return pid < 0 ? -errno : pid;
	case M_VFORK:
		pid = vfork();
		if (pid == 0) {
			execve(t->path, t->argv, child_envp);
			_exit(127);
		}
		return pid < 0 ? -errno : pid;
	case M_POSIX_SPAWN:
		r = posix_spawn(&pid, t->path, NULL, NULL, t->argv, child_envp);
		return r ? -r : pid;
	case M_POSIX_SPAWN_3FA:
		r = posix_spawn(&pid, t->path, &fa3, NULL, t->argv, child_envp);
		return r ? -r : pid;
	case M_RAW_CLONE:
		return raw_clone_spawn(t);
	case M_AFORK:
		pid = afork(child_exec, (void *)t);
		return pid < 0 ? -errno : pid;
	case M_AFORK_3FA:
		pid = afork(child_3fa, (void *)t);
		return pid < 0 ? -errno : pid;
	case M_AFORK_POLL:
		return afork_poll_spawn(t);
#if HAVE_AFORK_SPAWN
	/* Default attributes (a pidfd), no handle: as a caller that only
	 * wants the pid would do. */
	case M_AFORK_SPAWN:
		r = afork_spawn(NULL, &pid, t->path, NULL, NULL, t->argv,
				child_envp);
		return r ? -r : pid;
	case M_AFORK_SPAWN_3FA:
		r = afork_spawn(NULL, &pid, t->path, &afa3, NULL, t->argv,
				child_envp);
		return r ? -r : pid;
#endif
	}
	return -EINVAL;
}

static int exited_ok(int st)
{
	return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

static pid_t reap(pid_t pid, int *st)
{
	pid_t r;

	do
		r = waitpid(pid, st, __WALL);
	while (r < 0 && errno == EINTR);
	return r;
}

/* ------------------------------------------------------------------ */
/* Busy threads                                                        */
/* ------------------------------------------------------------------ */

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

/* ------------------------------------------------------------------ */
/* Worker                                                              */
/* ------------------------------------------------------------------ */

enum { OP_LAT = 1, OP_TPUT = 2 };

struct cmd {
	int op, method, target, n, inflight;
};

struct reply {
	int status;		/* 0 or a positive errno */
	int errors;		/* children that failed to start or exit 0 */
	int64_t a, b;		/* LAT: blocked ns, rtt ns; TPUT: ns, spawns */
	int64_t cpu;		/* TPUT: CPU ns of the worker and its children */
};

struct hello {
	int status;		/* 0 or positive errno (backend unavailable) */
	int backend;
	char backend_name[24];
	long anon_huge_kb;	/* AnonHugePages of the worker */
	long rss_kb;
	int nmethods;
	int methods[M_NMETHODS];
	int64_t setup_ns;
};

struct worker_args {
	const char *backend;	/* "auto" or an AFORK_BACKEND value */
	unsigned long size_mib;
	int thp;		/* 1: MADV_HUGEPAGE, 0: MADV_NOHUGEPAGE */
	int busy;		/* busy threads */
	int all_methods;	/* the base worker */
	int in_fd, out_fd;
};

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
	if (c->method == M_AFORK_POLL)
		handle_put(pid);
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
		if (c->method == M_AFORK_POLL)
			handle_put(pid);
		if (!exited_ok(st))
			rp->errors++;
	}
	rp->a = now_ns() - t0;
	rp->b = done;
	rp->cpu = cpu_ns() - cpu0;
}

static int worker_main(const struct worker_args *wa)
{
	struct hello h;
	struct cmd c;
	pthread_t th;
	int64_t t0 = now_ns();
	int i, b;

	memset(&h, 0, sizeof(h));
	fcntl(wa->in_fd, F_SETFD, FD_CLOEXEC);
	fcntl(wa->out_fd, F_SETFD, FD_CLOEXEC);
	signal(SIGPIPE, SIG_IGN);

	b = afork_backend();
	if (b < 0) {
		h.status = errno;
		xwrite(wa->out_fd, &h, sizeof(h));
		return 0;
	}
	h.backend = b;
	/* An experiment's knob: keep more free stacks (afork_pool_set_limits). */
	if (getenv("AFORK_BENCH_POOL_FREE"))
		afork_pool_set_limits(0, strtoul(getenv("AFORK_BENCH_POOL_FREE"), NULL, 10));
	snprintf(h.backend_name, sizeof(h.backend_name), "%s",
		 afork_backend_name(b) ? afork_backend_name(b) : "?");

	touch_memory(wa->size_mib, wa->thp);
	raw_stacks = mmap(NULL, (size_t)(RAW_SLOTS + 1) * RAW_STACK,
			  PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
	if (raw_stacks == MAP_FAILED)
		die("mmap stacks: %s", strerror(errno));
	setup_3fa();
	for (i = 0; i < wa->busy; i++)
		if (pthread_create(&th, NULL, busy_thread, NULL))
			die("pthread_create");

	if (wa->all_methods) {
		for (i = 0; i < M_NMETHODS; i++)
			if (HAVE_AFORK_SPAWN ||
			    (i != M_AFORK_SPAWN && i != M_AFORK_SPAWN_3FA))
				h.methods[h.nmethods++] = i;
	} else {
		h.methods[h.nmethods++] = M_AFORK;
		h.methods[h.nmethods++] = M_AFORK_POLL;
		if (HAVE_AFORK_SPAWN)
			h.methods[h.nmethods++] = M_AFORK_SPAWN;
	}
	h.anon_huge_kb = proc_kb("/proc/self/smaps_rollup", "AnonHugePages");
	h.rss_kb = proc_kb("/proc/self/status", "VmRSS");
	h.setup_ns = now_ns() - t0;
	xwrite(wa->out_fd, &h, sizeof(h));

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
	if (getenv("AFORK_BENCH_POOL_STATS")) {
		struct afork_pool_stats st;

		memset(&st, 0, sizeof(st));
		st.size = sizeof(st);
		if (!afork_pool_stats(&st))
			fprintf(stderr, "%s: worker %s: pool: %lu stacks mapped, %lu reused, %lu free, max_free %lu\n",
				prog, h.backend_name, st.maps, st.reuses,
				st.stacks_free, st.max_free);
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Coordinator                                                         */
/* ------------------------------------------------------------------ */

struct config {
	const char *where;
	unsigned long sizes[MAX_ROWS];
	int nsizes;
	unsigned long thp_sizes[MAX_ROWS];
	int nthp;
	long busy_size;		/* -1: no busy row */
	int busy_threads;
	int iters, min_iters;
	double lat_budget, tput_budget;	/* seconds per method, row and target */
	int tput_n, inflight, tput_rounds;
	char backends[128];
	char methods[256];	/* only these slots (comma list); "" all */
	char focus[256];	/* these get focus_iters samples, no budget */
	int focus_iters;
	char target_list[64];
	const char *tiny_path, *true_path;
	const char *out;
};

struct row {
	unsigned long size_mib;
	int thp, busy;
	char label[24];
};

struct worker {
	pid_t pid;
	int to, from;
	struct hello h;
};

struct slot {
	int w, m, focus;
	char name[48];
	double *blk, *rtt;
	int nlat, cap;
	double lat_s;		/* time spent sampling (sum of rtt) */
	int64_t tput_ns, tput_cpu_ns;
	long tput_spawns;
	int tput_rounds;
	int errors, last_status;
};

static char self_exe[PATH_MAX];
static char base_backend[24];	/* what "auto" picks here */

static struct worker start_worker(const struct config *cf, const struct row *r,
				  const char *backend, int all_methods)
{
	int to[2], from[2];
	struct worker w;
	char a_size[32], a_thp[8], a_busy[16], a_in[16], a_out[16];

	memset(&w, 0, sizeof(w));
	if (pipe(to) || pipe(from))
		die("pipe: %s", strerror(errno));
	w.pid = fork();
	if (w.pid < 0)
		die("fork: %s", strerror(errno));
	if (w.pid == 0) {
		int i;

		close(to[1]);
		close(from[0]);
		/* Workers never write to our stdout (it may be the CSV). */
		dup2(2, 1);
		if (strcmp(backend, "auto"))
			setenv("AFORK_BACKEND", backend, 1);
		else
			unsetenv("AFORK_BACKEND");
		snprintf(a_size, sizeof(a_size), "%lu", r->size_mib);
		snprintf(a_thp, sizeof(a_thp), "%d", r->thp);
		snprintf(a_busy, sizeof(a_busy), "%d", r->busy);
		snprintf(a_in, sizeof(a_in), "%d", to[0]);
		snprintf(a_out, sizeof(a_out), "%d", from[1]);
		char *argv[32];
		i = 0;
		argv[i++] = (char *)prog;
		argv[i++] = (char *)"--worker";
		argv[i++] = (char *)backend;
		argv[i++] = a_size;
		argv[i++] = a_thp;
		argv[i++] = a_busy;
		argv[i++] = (char *)(all_methods ? "1" : "0");
		argv[i++] = a_in;
		argv[i++] = a_out;
		argv[i++] = (char *)cf->tiny_path;
		argv[i++] = (char *)cf->true_path;
		argv[i++] = (char *)cf->target_list;
		argv[i] = NULL;
		execv(self_exe, argv);
		fprintf(stderr, "%s: exec %s: %s\n", prog, self_exe, strerror(errno));
		_exit(127);
	}
	close(to[0]);
	close(from[1]);
	fcntl(to[1], F_SETFD, FD_CLOEXEC);
	fcntl(from[0], F_SETFD, FD_CLOEXEC);
	w.to = to[1];
	w.from = from[0];
	return w;
}

/* Wait for a started worker to have its memory and say hello. */
static void worker_hello(struct worker *w, const char *backend)
{
	if (!xread(w->from, &w->h, sizeof(w->h)))
		die("worker (%s) died during setup", backend);
}

static void stop_worker(struct worker *w)
{
	int st;

	close(w->to);
	close(w->from);
	while (waitpid(w->pid, &st, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(st) || WEXITSTATUS(st))
		die("worker %d ended with status 0x%x", (int)w->pid, st);
}

static struct reply ask(struct worker *w, int op, int m, int t, int n,
			int inflight)
{
	struct cmd c = { op, m, t, n, inflight };
	struct reply rp;

	xwrite(w->to, &c, sizeof(c));
	if (!xread(w->from, &rp, sizeof(rp)))
		die("worker (%s) died", w->h.backend_name);
	return rp;
}

static void slot_add(struct slot *s, double blk_us, double rtt_us)
{
	if (s->nlat == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 256;
		s->blk = realloc(s->blk, s->cap * sizeof(double));
		s->rtt = realloc(s->rtt, s->cap * sizeof(double));
		if (!s->blk || !s->rtt)
			die("out of memory");
	}
	s->blk[s->nlat] = blk_us;
	s->rtt[s->nlat] = rtt_us;
	s->nlat++;
}

static double median_of(double *v, int n)
{
	double *tmp = malloc((size_t)(n ? n : 1) * sizeof(double)), r;

	if (!tmp)
		die("out of memory");
	memcpy(tmp, v, (size_t)n * sizeof(double));
	qsort(tmp, (size_t)n, sizeof(double), cmp_double);
	r = pct(tmp, n, 50);
	free(tmp);
	return r;
}

/* Is name one of the words of the comma-separated list? */
static int in_list(const char *list, const char *name)
{
	size_t n = strlen(name);
	const char *p = list;

	while ((p = strstr(p, name))) {
		if ((p == list || p[-1] == ',') && (p[n] == ',' || !p[n]))
			return 1;
		p += n;
	}
	return 0;
}

static void backend_snake(char *dst, size_t len, const char *name)
{
	size_t i;

	snprintf(dst, len, "%s", name);
	for (i = 0; dst[i]; i++)
		if (dst[i] == '-')
			dst[i] = '_';
}

/* Everything printed goes into these, then out at the end. */
static char *meta_buf, *csv_buf;
static size_t meta_len, csv_len;

static void append(char **buf, size_t *len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void append(char **buf, size_t *len, const char *fmt, ...)
{
	va_list ap;
	char tmp[2048];
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(tmp))
		n = sizeof(tmp) - 1;
	*buf = realloc(*buf, *len + (size_t)n + 1);
	if (!*buf)
		die("out of memory");
	memcpy(*buf + *len, tmp, (size_t)n + 1);
	*len += (size_t)n;
}

#define META(...) append(&meta_buf, &meta_len, __VA_ARGS__)
#define CSV(...) append(&csv_buf, &csv_len, __VA_ARGS__)

static void run_row(const struct config *cf, const struct row *r)
{
	static const char *const all_backends[] = {
		"syscall", "clone3", "clone-legacy", "vfork"
	};
	static int noted[4];
	struct worker w[MAX_WORKERS];
	struct slot s[MAX_SLOTS];
	int nw = 0, ns = 0, i, j, t, it, k;
	int64_t row_t0 = now_ns();

	/*
	 * The base worker: backend auto, every method; then one per other
	 * backend.  All start at once, so that they touch their memory in
	 * parallel (4 GiB takes a while).
	 */
	const char *wb[MAX_WORKERS];
	int wi[MAX_WORKERS];

	{
		char la[128];

		read_first_line("/proc/loadavg", la, sizeof(la));
		META("# row %s: loadavg at start %s, getppid %.0f ns\n",
		     r->label, la, syscall_ns());
	}
	wb[nw] = "auto";
	wi[nw] = -1;
	w[nw] = start_worker(cf, r, "auto", 1);
	nw++;
	for (i = 0; i < 4; i++) {
		const char *b = all_backends[i];

		if (!in_list(cf->backends, b) || !strcmp(b, base_backend))
			continue;
		if (cf->methods[0]) {
			char bn[24], mn[48];

			backend_snake(bn, sizeof(bn), b);
			static const char *const pre[] = {
				"afork", "afork_poll", "afork_spawn"
			};
			int want = 0, q;

			for (q = 0; q < 3 && !want; q++) {
				snprintf(mn, sizeof(mn), "%s_%s", pre[q], bn);
				want = in_list(cf->methods, mn);
			}
			if (!want)
				continue;
		}
		wb[nw] = b;
		wi[nw] = i;
		w[nw++] = start_worker(cf, r, b, 0);
	}
	for (i = 0, j = 0; i < nw; i++) {
		struct worker x = w[i];

		worker_hello(&x, wb[i]);
		if (wi[i] < 0) {
			if (x.h.status)
				die("no afork backend: %s", strerror(x.h.status));
			fprintf(stderr, "  row %s: base worker (%s) ready in %.1f s, RSS %ld MiB, AnonHuge %ld MiB\n",
				r->label, x.h.backend_name, x.h.setup_ns / 1e9,
				x.h.rss_kb / 1024, x.h.anon_huge_kb / 1024);
		} else if (x.h.status) {
			if (!noted[wi[i]])
				META("# backend %s: unavailable (%s)\n", wb[i],
				     strerror(x.h.status));
			noted[wi[i]] = 1;
			stop_worker(&x);
			continue;
		} else {
			if (!noted[wi[i]])
				META("# backend %s: available\n", wb[i]);
			noted[wi[i]] = 1;
			fprintf(stderr, "  row %s: worker %s ready in %.1f s\n",
				r->label, x.h.backend_name, x.h.setup_ns / 1e9);
		}
		w[j++] = x;
	}
	nw = j;

	/* One slot per (worker, method). */
	for (i = 0; i < nw; i++) {
		for (j = 0; j < w[i].h.nmethods && ns < MAX_SLOTS; j++) {
			int m = w[i].h.methods[j];
			char bn[24];

			memset(&s[ns], 0, sizeof(s[ns]));
			s[ns].w = i;
			s[ns].m = m;
			backend_snake(bn, sizeof(bn), w[i].h.backend_name);
			if (m == M_AFORK || m == M_AFORK_3FA ||
			    m == M_AFORK_SPAWN || m == M_AFORK_SPAWN_3FA ||
			    m == M_AFORK_POLL)
				snprintf(s[ns].name, sizeof(s[ns].name), "%s_%s",
					 method_name[m], bn);
			else
				snprintf(s[ns].name, sizeof(s[ns].name), "%s",
					 method_name[m]);
			if (cf->methods[0] && !in_list(cf->methods, s[ns].name))
				continue;
			s[ns].focus = cf->focus[0] && in_list(cf->focus, s[ns].name);
			ns++;
		}
	}

	for (t = 0; t < ntargets; t++) {
		int64_t t0 = now_ns();

		for (k = 0; k < ns; k++) {
			struct slot keep = s[k];

			memset(&s[k], 0, sizeof(s[k]));
			s[k].w = keep.w;
			s[k].m = keep.m;
			s[k].focus = keep.focus;
			memcpy(s[k].name, keep.name, sizeof(keep.name));
			free(keep.blk);
			free(keep.rtt);
		}
		/* Warm-up: stacks mapped, code and pages faulted in. */
		for (it = 0; it < WARMUP; it++)
			for (k = 0; k < ns; k++)
				ask(&w[s[k].w], OP_LAT, s[k].m, t, 0, 0);

		/*
		 * Latency, one sample per method per round, rotating order.
		 * Focus methods go on to focus_iters, without a time budget,
		 * still interleaved with each other.
		 */
		for (it = 0; ; it++) {
			int active = 0;

			for (j = 0; j < ns; j++) {
				struct slot *sl = &s[(j + it) % ns];
				struct reply rp;

				if (sl->focus ? sl->nlat >= cf->focus_iters
					      : (sl->nlat >= cf->iters ||
						 (sl->nlat >= cf->min_iters &&
						  sl->lat_s >= cf->lat_budget)))
					continue;
				active++;
				rp = ask(&w[sl->w], OP_LAT, sl->m, t, 0, 0);
				if (rp.status || rp.errors) {
					sl->errors += rp.errors ? rp.errors : 1;
					sl->last_status = rp.status;
					if (rp.status)
						continue;
				}
				slot_add(sl, rp.a / 1e3, rp.b / 1e3);
				sl->lat_s += rp.b / 1e9;
			}
			if (!active)
				break;
		}

		/* Throughput: rounds of n spawns, up to cf->inflight at once. */
		for (it = 0; it < cf->tput_rounds; it++) {
			for (j = 0; j < ns; j++) {
				struct slot *sl = &s[(j + it) % ns];
				struct reply rp;
				int n = cf->tput_n;
				double blk;

				if (it > 0 && sl->tput_ns / 1e9 >= cf->tput_budget)
					continue;
				/* A slow caller (fork of a big parent) gets one batch. */
				blk = median_of(sl->blk, sl->nlat) / 1e6;
				if (blk * n > cf->tput_budget / 2 && n > cf->inflight)
					n = cf->inflight;
				rp = ask(&w[sl->w], OP_TPUT, sl->m, t, n, cf->inflight);
				if (rp.status || rp.errors) {
					sl->errors += rp.errors ? rp.errors : 1;
					sl->last_status = rp.status;
				}
				sl->tput_ns += rp.a;
				sl->tput_cpu_ns += rp.cpu;
				sl->tput_spawns += (long)rp.b;
				sl->tput_rounds++;
			}
		}

		for (k = 0; k < ns; k++) {
			struct slot *sl = &s[k];
			const struct hello *h = &w[sl->w].h;

			qsort(sl->blk, (size_t)sl->nlat, sizeof(double), cmp_double);
			qsort(sl->rtt, (size_t)sl->nlat, sizeof(double), cmp_double);
			CSV("%s,%s,%lu,%s,%d,%s,%s,%s,%d,%.2f,%.2f,%.2f,%.2f,%.2f,%.2f,%ld,%.0f,%.1f,%d,%ld\n",
			    cf->where, r->label, r->size_mib, r->thp ? "on" : "off",
			    r->busy, targets[t].label, sl->name, h->backend_name,
			    sl->nlat, pct(sl->blk, sl->nlat, 50),
			    pct(sl->blk, sl->nlat, 90), pct(sl->blk, sl->nlat, 99),
			    pct(sl->rtt, sl->nlat, 50), pct(sl->rtt, sl->nlat, 90),
			    pct(sl->rtt, sl->nlat, 99), sl->tput_spawns,
			    sl->tput_ns ? sl->tput_spawns / (sl->tput_ns / 1e9) : 0.0,
			    sl->tput_spawns ? sl->tput_cpu_ns / 1e3 / sl->tput_spawns : 0.0,
			    sl->errors, h->anon_huge_kb / 1024);
			if (sl->errors)
				fprintf(stderr, "%s: %s/%s/%s: %d error(s), last: %s\n",
					prog, r->label, targets[t].label, sl->name,
					sl->errors, sl->last_status ?
					strerror(sl->last_status) : "bad exit status");
		}
		fprintf(stderr, "  row %s, target %s: %.1f s\n", r->label,
			targets[t].label, (now_ns() - t0) / 1e9);
	}
	for (k = 0; k < ns; k++) {
		free(s[k].blk);
		free(s[k].rtt);
	}
	for (i = 0; i < nw; i++)
		stop_worker(&w[i]);
	fprintf(stderr, "  row %s done in %.1f s\n", r->label,
		(now_ns() - row_t0) / 1e9);
}

static void row_label(struct row *r)
{
	unsigned long m = r->size_mib;

	if (m == 0)
		snprintf(r->label, sizeof(r->label), "0");
	else if (m % 1024 == 0)
		snprintf(r->label, sizeof(r->label), "%luG", m / 1024);
	else
		snprintf(r->label, sizeof(r->label), "%luM", m);
	if (r->thp)
		strncat(r->label, "-THP", sizeof(r->label) - strlen(r->label) - 1);
	if (r->busy) {
		char b[16];

		snprintf(b, sizeof(b), "+%dthr", r->busy);
		strncat(r->label, b, sizeof(r->label) - strlen(r->label) - 1);
	}
}

static int parse_list(const char *s, unsigned long *v, int max)
{
	int n = 0;
	char *end;

	if (!s || !*s || !strcmp(s, "none"))
		return 0;
	while (*s && n < max) {
		v[n++] = strtoul(s, &end, 10);
		if (end == s)
			die("bad list '%s'", s);
		s = *end == ',' ? end + 1 : end;
	}
	return n;
}

static void setup_targets(const char *tiny, const char *truep, const char *list)
{
	ntargets = 0;
	if (strstr(list, "static")) {
		struct target *t = &targets[ntargets++];

		snprintf(t->label, sizeof(t->label), "static");
		snprintf(t->path, sizeof(t->path), "%s", tiny);
	}
	if (strstr(list, "true")) {
		struct target *t = &targets[ntargets++];

		snprintf(t->label, sizeof(t->label), "bin_true");
		snprintf(t->path, sizeof(t->path), "%s", truep);
	}
	for (int i = 0; i < ntargets; i++) {
		targets[i].argv[0] = targets[i].path;
		targets[i].argv[1] = NULL;
		if (access(targets[i].path, X_OK))
			die("exec target %s: %s", targets[i].path, strerror(errno));
	}
	if (!ntargets)
		die("no exec target in '%s'", list);
}

static void cpu_model(char *buf, size_t len)
{
	char line[512];
	FILE *f = fopen("/proc/cpuinfo", "r");

	snprintf(buf, len, "unknown");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "model name", 10)) {
			char *p = strchr(line, ':');

			if (p) {
				p += 1 + strspn(p + 1, " \t");
				p[strcspn(p, "\n")] = 0;
				snprintf(buf, len, "%s", p);
			}
			break;
		}
	}
	fclose(f);
}

/* ------------------------------------------------------------------ */
/* --tls-cost: what the child's own TLS costs the caller              */
/* ------------------------------------------------------------------ */

/*
 * Two probe processes on the clone3 backend, one of them with
 * AFORK_TLS=shared (no copy), take turns timing batches of afork() calls
 * (CLOCK_MONOTONIC around the call only) of a child that exits at once,
 * so noise hits both alike.  The report gives each one's median, their
 * difference (the copy's share of the blocked time), the bytes each
 * child's copy takes, and a loop of copies of that size alone.
 */
#define TLS_BATCH 100

/* glibc's own figures, as libafork reads them (lib/src/tls.c). */
extern void _dl_get_tls_static_info(size_t *size, size_t *align)
	__attribute__((weak));
extern const unsigned int _thread_db_sizeof_pthread __attribute__((weak));

static int tls_child(void *unused)
{
	(void)unused;
	return 0;
}

/* The probe: for each byte read, a batch of samples (ns) written back. */
static int tls_probe(void)
{
	double v[TLS_BATCH];
	char cmd;
	int i, st;

	while (read(0, &cmd, 1) == 1) {
		for (i = 0; i < TLS_BATCH; i++) {
			int64_t t0 = now_ns();
			pid_t pid = afork(tls_child, NULL);
			int64_t t1 = now_ns();

			if (pid < 0 || waitpid(pid, &st, __WALL) != pid)
				return 1;
			v[i] = (double)(t1 - t0);
		}
		xwrite(1, v, sizeof(v));
	}
	return 0;
}

struct tls_probe_proc {
	pid_t pid;
	int to, from;
};

static struct tls_probe_proc tls_probe_start(const char *tls_env)
{
	struct tls_probe_proc p;
	int to[2], from[2];

	if (pipe2(to, O_CLOEXEC) || pipe2(from, O_CLOEXEC))
		die("pipe: %s", strerror(errno));
	p.pid = fork();
	if (p.pid < 0)
		die("fork: %s", strerror(errno));
	if (p.pid == 0) {
		dup2(to[0], 0);
		dup2(from[1], 1);
		setenv("AFORK_BACKEND", "clone3", 1);
		if (tls_env)
			setenv("AFORK_TLS", tls_env, 1);
		else
			unsetenv("AFORK_TLS");
		execl(self_exe, prog, "--tls-probe", (char *)NULL);
		_exit(127);
	}
	close(to[0]);
	close(from[1]);
	p.to = to[1];
	p.from = from[0];
	return p;
}

static int tls_cost(int samples)
{
	struct tls_probe_proc pr[2];
	double *v[2], copy_ns = 0;
	size_t size = 0, align = 0, dtv_bytes = 0, bytes;
	int rounds = (samples + TLS_BATCH - 1) / TLS_BATCH, r, k, st;
	char *buf;

	if (!_dl_get_tls_static_info || !&_thread_db_sizeof_pthread) {
		printf("tls-cost: no glibc TLS layout here: children share TLS\n");
		return 0;
	}
	_dl_get_tls_static_info(&size, &align);
	{
		const size_t *dtv;

		__asm__("movq %%fs:8, %0" : "=r"(dtv));
		dtv_bytes = (dtv[-2] + 2) * 2 * sizeof(size_t);
	}
	bytes = size + dtv_bytes;

	/* The copy alone: static TLS and TCB, then the dtv, 100,000 times. */
	buf = aligned_alloc(64, (bytes + 63) & ~(size_t)63);
	if (!buf)
		die("out of memory");
	{
		uintptr_t tp;
		int64_t t0;
		int i;

		__asm__("movq %%fs:0, %0" : "=r"(tp));
		t0 = now_ns();
		for (i = 0; i < 100000; i++) {
			memcpy(buf, (const char *)tp - (size - _thread_db_sizeof_pthread),
			       size);
			memcpy(buf + size, (const size_t *)*(size_t **)(tp + 8) - 2,
			       dtv_bytes);
			__asm__ volatile("" : : "r"(buf) : "memory");
		}
		copy_ns = (double)(now_ns() - t0) / 100000;
	}
	free(buf);

	pr[0] = tls_probe_start(NULL);
	pr[1] = tls_probe_start("shared");
	v[0] = calloc((size_t)rounds * TLS_BATCH, sizeof(double));
	v[1] = calloc((size_t)rounds * TLS_BATCH, sizeof(double));
	if (!v[0] || !v[1])
		die("out of memory");
	for (r = 0; r < rounds; r++) {
		for (k = 0; k < 2; k++) {
			xwrite(pr[k].to, "b", 1);
			if (!xread(pr[k].from, v[k] + (size_t)r * TLS_BATCH,
				   TLS_BATCH * sizeof(double)))
				die("tls probe %d died", k);
		}
	}
	for (k = 0; k < 2; k++) {
		close(pr[k].to);
		close(pr[k].from);
		waitpid(pr[k].pid, &st, 0);
	}
	{
		int n = rounds * TLS_BATCH;
		double own = median_of(v[0], n), shared = median_of(v[1], n);

		printf("tls-cost: clone3 backend, %d samples each, interleaved by %d\n",
		       n, TLS_BATCH);
		printf("tls-cost: bytes copied per child: %zu (static TLS %zu incl. TCB %u, dtv %zu), align %zu\n",
		       bytes, size, _thread_db_sizeof_pthread, dtv_bytes, align);
		printf("tls-cost: copy alone: %.0f ns\n", copy_ns);
		printf("tls-cost: afork() blocked, median: own TLS %.0f ns, shared TLS %.0f ns, difference %+.0f ns (%.2fx)\n",
		       own, shared, own - shared, own / shared);
	}
	free(v[0]);
	free(v[1]);
	return 0;
}

static void usage(void)
{
	fprintf(stderr,
"usage: afork-bench [options]\n"
"  --where host|guest   label of the machine (default host)\n"
"  --sizes LIST         parent sizes in MiB, THP off (default 0,256,1024,4096)\n"
"  --thp-sizes LIST     parent sizes with THP on (default 4096; none)\n"
"  --busy SIZE:THREADS  a row with busy threads (default 0:8; none)\n"
"  --iters N            max latency samples per method (default 400)\n"
"  --min-iters N        min latency samples per method (default 20)\n"
"  --lat-budget S       seconds of latency sampling per method (default 1)\n"
"  --tput-n N           spawns per throughput round (default 256)\n"
"  --inflight N         children in flight (default 64)\n"
"  --tput-rounds N      throughput rounds (default 5)\n"
"  --tput-budget S      seconds of throughput per method (default 2)\n"
"  --backends LIST      afork backends (default syscall,clone3,clone-legacy,vfork)\n"
"  --methods LIST       only these methods, as named in the CSV (default all)\n"
"  --focus LIST         these methods get --focus-iters latency samples, no budget\n"
"  --focus-iters N      (default: --iters)\n"
"  --targets LIST       static,true (default both)\n"
"  --tiny PATH          the tiny static exec target (default: beside this program)\n"
"  --true PATH          the /bin/true target (default /bin/true)\n"
"  --smoke              a few samples of everything, small sizes (for tests)\n"
"  --out FILE           CSV output (default stdout)\n"
"  --tls-cost [N]       only: the cost of each child's own TLS (N samples each,\n"
"                       default 4000), a short report on stdout\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static char tiny_default[PATH_MAX];
	struct config cf;
	struct row rows[MAX_ROWS];
	struct utsname u;
	char buf[512], date[64];
	int nrows = 0, i;
	int64_t t0 = now_ns();
	time_t now;
	ssize_t n;
	FILE *out;

	if (argc > 1 && !strcmp(argv[1], "--tls-probe"))
		return tls_probe();
	if (argc > 1 && !strcmp(argv[1], "--worker")) {
		struct worker_args wa;

		if (argc != 12)
			die("bad worker arguments");
		wa.backend = argv[2];
		wa.size_mib = strtoul(argv[3], NULL, 10);
		wa.thp = atoi(argv[4]);
		wa.busy = atoi(argv[5]);
		wa.all_methods = atoi(argv[6]);
		wa.in_fd = atoi(argv[7]);
		wa.out_fd = atoi(argv[8]);
		setup_targets(argv[9], argv[10], argv[11]);
		return worker_main(&wa);
	}

	n = readlink("/proc/self/exe", self_exe, sizeof(self_exe) - 1);
	if (n <= 0)
		die("readlink /proc/self/exe: %s", strerror(errno));
	self_exe[n] = 0;
	if (argc > 1 && !strcmp(argv[1], "--tls-cost")) {
		int samples = argc > 2 ? atoi(argv[2]) : 4000;

		return tls_cost(samples > 0 ? samples : 4000);
	}
	snprintf(tiny_default, sizeof(tiny_default), "%s", self_exe);
	{
		char *slash = strrchr(tiny_default, '/');

		snprintf(slash + 1, sizeof(tiny_default) - (size_t)(slash + 1 - tiny_default),
			 "afork-bench-tiny");
	}

	memset(&cf, 0, sizeof(cf));
	cf.where = "host";
	cf.nsizes = parse_list("0,256,1024,4096", cf.sizes, MAX_ROWS);
	cf.nthp = parse_list("4096", cf.thp_sizes, MAX_ROWS);
	cf.busy_size = 0;
	cf.busy_threads = 8;
	cf.iters = 400;
	cf.min_iters = 20;
	cf.lat_budget = 1.0;
	cf.tput_n = 256;
	cf.inflight = 64;
	cf.tput_rounds = 5;
	cf.tput_budget = 2;
	snprintf(cf.backends, sizeof(cf.backends), "syscall,clone3,clone-legacy,vfork");
	snprintf(cf.target_list, sizeof(cf.target_list), "static,true");
	cf.tiny_path = tiny_default;
	cf.true_path = "/bin/true";

	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

#define ARG(name) (!strcmp(a, name) && (v || (usage(), 0)) && ++i)
		if (ARG("--where"))
			cf.where = v;
		else if (ARG("--sizes"))
			cf.nsizes = parse_list(v, cf.sizes, MAX_ROWS);
		else if (ARG("--thp-sizes"))
			cf.nthp = parse_list(v, cf.thp_sizes, MAX_ROWS);
		else if (ARG("--busy")) {
			if (!strcmp(v, "none"))
				cf.busy_size = -1;
			else if (sscanf(v, "%ld:%d", &cf.busy_size, &cf.busy_threads) != 2 ||
				 cf.busy_threads <= 0)
				die("bad --busy '%s'", v);
		} else if (ARG("--iters"))
			cf.iters = atoi(v);
		else if (ARG("--min-iters"))
			cf.min_iters = atoi(v);
		else if (ARG("--lat-budget"))
			cf.lat_budget = atof(v);
		else if (ARG("--tput-n"))
			cf.tput_n = atoi(v);
		else if (ARG("--inflight"))
			cf.inflight = atoi(v);
		else if (ARG("--tput-rounds"))
			cf.tput_rounds = atoi(v);
		else if (ARG("--tput-budget"))
			cf.tput_budget = atof(v);
		else if (ARG("--backends"))
			snprintf(cf.backends, sizeof(cf.backends), "%s", v);
		else if (ARG("--methods"))
			snprintf(cf.methods, sizeof(cf.methods), "%s", v);
		else if (ARG("--focus"))
			snprintf(cf.focus, sizeof(cf.focus), "%s", v);
		else if (ARG("--focus-iters"))
			cf.focus_iters = atoi(v);
		else if (ARG("--targets"))
			snprintf(cf.target_list, sizeof(cf.target_list), "%s", v);
		else if (ARG("--tiny"))
			cf.tiny_path = v;
		else if (ARG("--true"))
			cf.true_path = v;
		else if (ARG("--out"))
			cf.out = v;
		else if (!strcmp(a, "--smoke")) {
			cf.nsizes = parse_list("0,8", cf.sizes, MAX_ROWS);
			cf.nthp = parse_list("8", cf.thp_sizes, MAX_ROWS);
			cf.busy_size = 0;
			cf.busy_threads = 2;
			cf.iters = 4;
			cf.min_iters = 2;
			cf.lat_budget = 0.5;
			cf.tput_n = 16;
			cf.inflight = 8;
			cf.tput_rounds = 1;
			cf.tput_budget = 0.5;
		} else
			usage();
#undef ARG
	}
	if (!cf.focus_iters)
		cf.focus_iters = cf.iters;
	if (cf.iters < 1 || cf.min_iters < 1 || cf.tput_n < 1 ||
	    cf.inflight < 1 || cf.inflight > MAX_INFLIGHT || cf.tput_rounds < 1)
		die("bad iteration parameters");
	setup_targets(cf.tiny_path, cf.true_path, cf.target_list);
	signal(SIGPIPE, SIG_IGN);

	/* The backend "auto" picks (the base worker's): not started twice. */
	unsetenv("AFORK_BACKEND");
	i = afork_backend();
	if (i < 0)
		die("no afork backend: %s", strerror(errno));
	snprintf(base_backend, sizeof(base_backend), "%s", afork_backend_name(i));
	META("# backend auto: %s\n", base_backend);

	/* THP rows only where the kernel has THP. */
	read_first_line("/sys/kernel/mm/transparent_hugepage/enabled", buf, sizeof(buf));
	if (!strcmp(buf, "absent") && cf.nthp) {
		cf.nthp = 0;
		META("# thp_rows: skipped (no transparent huge pages in this kernel)\n");
	}
	for (i = 0; i < cf.nsizes && nrows < MAX_ROWS; i++, nrows++) {
		rows[nrows] = (struct row){ .size_mib = cf.sizes[i] };
		row_label(&rows[nrows]);
	}
	for (i = 0; i < cf.nthp && nrows < MAX_ROWS; i++, nrows++) {
		rows[nrows] = (struct row){ .size_mib = cf.thp_sizes[i], .thp = 1 };
		row_label(&rows[nrows]);
	}
	if (cf.busy_size >= 0 && nrows < MAX_ROWS) {
		rows[nrows] = (struct row){ .size_mib = (unsigned long)cf.busy_size,
					    .busy = cf.busy_threads };
		row_label(&rows[nrows]);
		nrows++;
	}

	uname(&u);
	now = time(NULL);
	strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
	META("# afork-bench: CSV, one line per (row, target, method); times in microseconds\n");
	META("# where: %s\n", cf.where);
	META("# date: %s\n", date);
	META("# kernel: %s %s %s %s\n", u.sysname, u.release, u.version, u.machine);
	cpu_model(buf, sizeof(buf));
	META("# cpu: %s\n", buf);
	META("# cpus_online: %ld\n", sysconf(_SC_NPROCESSORS_ONLN));
	META("# page_size: %ld\n", sysconf(_SC_PAGESIZE));
	read_first_line("/sys/kernel/mm/transparent_hugepage/enabled", buf, sizeof(buf));
	META("# thp_enabled: %s\n", buf);
	read_first_line("/sys/kernel/mm/transparent_hugepage/defrag", buf, sizeof(buf));
	META("# thp_defrag: %s\n", buf);
	META("# thp_per_row: MADV_NOHUGEPAGE on the parent's mapping unless the row says THP (MADV_HUGEPAGE)\n");
	read_first_line("/proc/loadavg", buf, sizeof(buf));
	META("# loadavg_start: %s\n", buf);
	META("# getppid_ns_start: %.0f\n", syscall_ns());
	META("# glibc: %s\n", gnu_get_libc_version());
	META("# libafork: %s\n", afork_version());
	if (getenv("AFORK_BENCH_POOL_FREE"))
		META("# pool_max_free: %s (AFORK_BENCH_POOL_FREE)\n",
		     getenv("AFORK_BENCH_POOL_FREE"));
	for (i = 0; i < ntargets; i++) {
		char *rp = realpath(targets[i].path, NULL);

		META("# target %s: %s (%s)\n", targets[i].label, targets[i].path,
		     rp ? rp : "?");
		free(rp);
	}
	if (cf.focus[0])
		META("# focus: %s (%d latency samples each, no time budget)\n",
		     cf.focus, cf.focus_iters);
	META("# params: iters=%d min_iters=%d lat_budget_s=%.2f tput_n=%d inflight=%d tput_rounds=%d tput_budget_s=%.2f warmup=%d\n",
	     cf.iters, cf.min_iters, cf.lat_budget, cf.tput_n, cf.inflight,
	     cf.tput_rounds, cf.tput_budget, WARMUP);
	META("# raw_clone_vm: clone(CLONE_VM|CLONE_CHILD_CLEARTID|SIGCHLD), asm child: execve or exit_group(127)\n");
	META("# afork_spawn: %s\n", HAVE_AFORK_SPAWN ?
	     "afork_spawn(NULL, &pid, path, fa, NULL attr (default: pidfd), argv, envp)" :
	     "not in this libafork: skipped");
	META("# 3fa: file actions open(/dev/null)->0, dup2(nullw,1), close(nullw); afork_spawn_3fa passes the same actions; afork_3fa does them with afork_child_* in an afork() child\n");

	fprintf(stderr, "%s: %d rows x %d targets\n", prog, nrows, ntargets);
	for (i = 0; i < nrows; i++)
		run_row(&cf, &rows[i]);
	META("# elapsed_s: %.1f\n", (now_ns() - t0) / 1e9);
	read_first_line("/proc/loadavg", buf, sizeof(buf));
	META("# loadavg_end: %s\n", buf);
	META("# getppid_ns_end: %.0f\n", syscall_ns());

	out = cf.out ? fopen(cf.out, "w") : stdout;
	if (!out)
		die("%s: %s", cf.out, strerror(errno));
	fputs(meta_buf, out);
	fputs("where,row,size_mib,thp,busy_threads,target,method,backend,samples,"
	      "blocked_p50_us,blocked_p90_us,blocked_p99_us,"
	      "rtt_p50_us,rtt_p90_us,rtt_p99_us,"
	      "tput_spawns,tput_per_s,tput_cpu_us_per_spawn,errors,anon_huge_mib\n", out);
	if (csv_buf)
		fputs(csv_buf, out);
	if (fflush(out) || (cf.out && fclose(out)))
		die("writing the CSV: %s", strerror(errno));
	fprintf(stderr, "%s: done in %.1f s\n", prog, (now_ns() - t0) / 1e9);
	return 0;
}
