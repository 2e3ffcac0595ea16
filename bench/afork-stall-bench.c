// SPDX-License-Identifier: MIT
/*
 * afork-stall-bench: how long does starting a child stall an event loop?
 * The seed's argument, measured as a user of an event loop feels it.
 *
 * The parent holds SIZE MiB of touched memory (4 KiB pages: THP off on
 * it) and runs an event loop around a timerfd that expires every 1 ms.
 * Every EVERY turns that handle the timer (10: a launch every 10 ms) it
 * launches one child (the tiny static exec target) while fewer than
 * INFLIGHT run, until COUNT have been launched, and reaps those that are
 * done.  The pace is the same for every method, so each has about as
 * many turns, one in EVERY with a launch, and the p99 compares alike
 * (at one launch per turn, a method whose children live long, as fork's
 * at 4 GiB, would pad its turns with idle ones).  Per method it records:
 *
 *   - the stall at each turn that handles the timer: how late the loop
 *     came to the first expiry after its previous look (the timer is
 *     absolute, so that expiry is known), so a loop that keeps up shows
 *     tens of microseconds and a launch call that blocks for L up to L;
 *   - the time of each launch call.
 *
 * Methods: fork (fork + execve), posix_spawn (glibc), afork_spawn (the
 * loop reaps with waitpid(WNOHANG)), uring (the same afork_spawn, but the
 * loop is an io_uring: the timer is a read of the timerfd, and each child
 * is watched with afork_uring_watch() from libafork-uring, which reaps it).
 * Sizes and methods are run in the order given, methods side by side for
 * each size.  One child in flight by default: with more than the machine
 * has CPUs to spare, the loop waits for a CPU behind running children
 * and the stall measures that contention rather than the launch.  One CSV line per (size, method):
 *
 *   where,size_mib,method,backend,launches,failed,ticks,
 *   launch_p50_us,launch_p99_us,launch_max_us,
 *   stall_p50_us,stall_p99_us,stall_max_us,elapsed_s,
 *   tail_busy_us,tail_wake_us,window_p99_us
 *
 * window_p99_us is the same stall counted per launch: the worst stall of
 * the EVERY turns after each launch, then the p99 over launches.  Every
 * launch weighs the same whatever the idle turns between them (fork's
 * children at 4 GiB live long, and the turns while one runs are idle ones
 * that thin the p99 over turns).
 *
 * The tail columns split the turns at or above the p99 stall: the mean of
 * the part the loop was still busy with its own work (the launch, the
 * reaping) when the tick fell due, and of the part it was waiting and the
 * kernel woke it late (the timer's interrupt, then a CPU for the loop).
 * --ticks FILE writes those turns (where,size_mib,method,due_ns,stall_ns,
 * busy_ns; CLOCK_MONOTONIC), which bench/stall-profile.sh joins with a
 * scheduler trace to name what ran instead.
 *
 *   afork-stall-bench [--where host|guest] [--sizes 0,1024,4096]
 *       [--methods fork,posix_spawn,afork_spawn,uring] [--count N]
 *       [--inflight N] [--every TICKS] [--tiny PATH] [--out FILE]
 *       [--ticks FILE]
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <afork_spawn.h>
#include <afork_uring.h>

#include "bench-time.h"

#define PERIOD_NS 1000000ull
#define TIMER_TAG 1ull		/* user_data of the timerfd read (uring) */
#define LIST_LEN 256		/* --sizes, --methods */

extern char **environ;

struct cfg {
	const char *where;
	const char *tiny;
	unsigned long count;
	unsigned int inflight;
	unsigned int every;	/* launch at most every this many ticks */
	FILE *out;
	FILE *ticks;		/* --ticks: the tail turns, for stall-profile.sh */
};

/*
 * One turn's stall, split: @busy is the part the loop itself was still
 * working (launch, reap) when the tick fell due; the rest it was waiting,
 * and the kernel woke it late (timer interrupt, then a CPU for it).
 */
struct stall {
	uint64_t due, stall, busy;
};

/* One method's samples for one size. */
struct run {
	uint64_t *launch;
	uint64_t *window;	/* per launch: the worst stall of its window */
	struct stall *stall;
	unsigned long nlaunch, nstall, cap_stall, failed;
	unsigned int since;	/* turns since the last launch */
	unsigned int every;	/* a launch's window: this many turns after it */
	uint64_t t_start, t_end;
	uint64_t idle;		/* when the loop last went to wait */
};

/* This turn may launch: the pace, the children in flight, the count. */
static int may_launch(const struct cfg *c, struct run *r, unsigned int running)
{
	if (++r->since < c->every || r->nlaunch >= c->count || running >= c->inflight)
		return 0;
	r->since = 0;
	return 1;
}

/* The p-th percentile (nearest rank) of n sorted samples, in µs. */
static double pct(const uint64_t *v, unsigned long n, double p)
{
	unsigned long i;

	if (!n)
		return 0;
	i = (unsigned long)(p / 100.0 * (double)n + 0.999999);
	if (i < 1)
		i = 1;
	if (i > n)
		i = n;
	return (double)v[i - 1] / 1e3;
}

/* The same for the stalls, sorted by stall. */
static double stall_pct(const struct run *r, double p)
{
	unsigned long i;

	if (!r->nstall)
		return 0;
	i = (unsigned long)(p / 100.0 * (double)r->nstall + 0.999999);
	if (i < 1)
		i = 1;
	if (i > r->nstall)
		i = r->nstall;
	return (double)r->stall[i - 1].stall / 1e3;
}

/* The timer: armed to expire every PERIOD_NS from t0 (absolute). */
static int timer_open(uint64_t *t0)
{
	struct itimerspec its;
	int fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);

	if (fd < 0)
		return -1;
	*t0 = now_ns() + PERIOD_NS;
	its.it_value.tv_sec = (time_t)(*t0 / 1000000000ull);
	its.it_value.tv_nsec = (long)(*t0 % 1000000000ull);
	its.it_interval.tv_sec = 0;
	its.it_interval.tv_nsec = (long)PERIOD_NS;
	if (timerfd_settime(fd, TFD_TIMER_ABSTIME, &its, NULL)) {
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * The timer is due at t0 + k * PERIOD_NS.  A turn handles it now: the
 * stall is how late the loop came to the first expiry after its previous
 * look (@last), from the schedule alone, not from the kernel's count of
 * expirations (a kernel without high-resolution timers fires them late,
 * and loses count).
 */
static void tick(struct run *r, uint64_t t0, uint64_t last)
{
	uint64_t t = now_ns(), due;
	struct stall *s;

	due = last < t0 ? t0 : t0 + ((last - t0) / PERIOD_NS + 1) * PERIOD_NS;

	if (r->nstall == r->cap_stall) {
		s = realloc(r->stall, 2 * r->cap_stall * sizeof(*s));
		if (!s)
			return;	/* keep what we have */
		r->stall = s;
		r->cap_stall *= 2;
	}
	s = &r->stall[r->nstall++];
	s->due = due;
	s->stall = t > due ? t - due : 0;
	s->busy = r->idle > due ? r->idle - due : 0;
	if (s->busy > s->stall)
		s->busy = s->stall;
	/* Before may_launch() counts this turn: 0 is the first after a launch. */
	if (r->nlaunch && r->since < r->every && s->stall > r->window[r->nlaunch - 1])
		r->window[r->nlaunch - 1] = s->stall;
}

static char *tiny_argv[] = { "afork-bench-tiny", NULL };

/* Launch one child by @method; its pid, or -1. */
static pid_t launch_plain(const char *method, const char *path)
{
	pid_t pid = -1;

	if (!strcmp(method, "fork")) {
		pid = fork();
		if (pid == 0) {
			execve(path, tiny_argv, environ);
			_exit(127);
		}
		return pid;
	}
	if (!strcmp(method, "posix_spawn"))
		return posix_spawn(&pid, path, NULL, NULL, tiny_argv, environ) ? -1 : pid;
	return afork_spawn(NULL, &pid, path, NULL, NULL, tiny_argv, environ) ? -1 : pid;
}

/* fork, posix_spawn, afork_spawn: poll() on the timer, waitpid(WNOHANG). */
static int loop_poll(const struct cfg *c, const char *method, struct run *r)
{
	unsigned long reaped = 0;
	unsigned int running = 0;
	uint64_t t0, last = 0, n;
	struct pollfd pfd;
	int st;
	pid_t pid;

	pfd.fd = timer_open(&t0);
	if (pfd.fd < 0)
		return -1;
	pfd.events = POLLIN;
	r->t_start = now_ns();
	while (reaped < c->count) {
		r->idle = now_ns();
		if (poll(&pfd, 1, 100) > 0 && read(pfd.fd, &n, sizeof(n)) == sizeof(n)) {
			tick(r, t0, last);
			last = now_ns();
			if (may_launch(c, r, running)) {
				uint64_t a = now_ns();

				pid = launch_plain(method, c->tiny);
				r->launch[r->nlaunch++] = now_ns() - a;
				if (pid > 0) {
					running++;
				} else {
					reaped++;
					r->failed++;
				}
			}
		}
		while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
			reaped++;
			running--;
			if (!WIFEXITED(st) || WEXITSTATUS(st))
				r->failed++;
		}
	}
	r->t_end = now_ns();
	close(pfd.fd);
	return 0;
}

/* Queue a read of the timerfd; the ring has room (see uring_open). */
static void arm_timer(struct io_uring *ring, int fd, uint64_t *buf)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);

	io_uring_prep_read(sqe, fd, buf, sizeof(*buf), 0);
	io_uring_sqe_set_data64(sqe, TIMER_TAG);
}

/*
 * The uring loop: the ring, libafork-uring's watcher on it, the spawn
 * attributes that let it watch the children, the timer and the buffer its
 * read fills, and the children launched and not yet reaped.
 */
struct uring_loop {
	struct io_uring ring;
	struct afork_uring *u;
	afork_spawnattr_t at;
	int fd;
	uint64_t t0, last, buf;
	unsigned long reaped;
	unsigned int running;
};

/* Set up the ring, the watcher, the attributes and the timer (armed). */
static int uring_open(const struct cfg *c, struct uring_loop *l)
{
	struct afork_opts o;

	if (io_uring_queue_init(2 * c->inflight + 16, &l->ring, 0) < 0)
		return -1;
	l->u = afork_uring_new(&l->ring, 0);
	if (!l->u)
		goto out_ring;
	afork_opts_init(&o);
	o.flags = AFORK_NOSIGCHLD | AFORK_WAITPID;
	afork_uring_prep_opts(l->u, &o);
	afork_spawnattr_init(&l->at);
	if (afork_spawnattr_setafork(&l->at, o.flags, o.options))
		goto out_u;
	l->fd = timer_open(&l->t0);
	if (l->fd < 0)
		goto out_u;
	arm_timer(&l->ring, l->fd, &l->buf);
	return 0;
out_u:
	afork_spawnattr_destroy(&l->at);
	afork_uring_free(l->u);
out_ring:
	io_uring_queue_exit(&l->ring);
	return -1;
}

static void uring_close(struct uring_loop *l)
{
	close(l->fd);
	afork_spawnattr_destroy(&l->at);
	afork_uring_free(l->u);
	io_uring_queue_exit(&l->ring);
}

/* The timer's read completed: a turn, the next read, and maybe a launch. */
static int uring_tick(const struct cfg *c, struct run *r, struct uring_loop *l,
		      const struct io_uring_cqe *cqe)
{
	struct afork_child *ch;
	uint64_t a;
	int e;

	if (cqe->user_data != TIMER_TAG || cqe->res != sizeof(l->buf))
		return -1;
	tick(r, l->t0, l->last);
	l->last = now_ns();
	arm_timer(&l->ring, l->fd, &l->buf);
	if (!may_launch(c, r, l->running))
		return 0;
	a = now_ns();
	e = afork_spawn(&ch, NULL, c->tiny, NULL, &l->at, tiny_argv, environ);
	if (!e)
		e = afork_uring_watch(l->u, ch, NULL) ? errno : 0;
	r->launch[r->nlaunch++] = now_ns() - a;
	if (!e) {
		l->running++;
	} else {
		l->reaped++;
		r->failed++;
	}
	return 0;
}

/* A turn: wait on the ring, then every completion: the timer's, the children's. */
static int uring_turn(const struct cfg *c, struct run *r, struct uring_loop *l)
{
	struct io_uring_cqe *cqe;
	unsigned int head, seen = 0;
	int res;

	r->idle = now_ns();
	res = io_uring_submit_and_wait(&l->ring, 1);
	if (res < 0 && res != -EINTR)
		return -1;
	io_uring_for_each_cqe(&l->ring, head, cqe) {
		struct afork_uring_event ev;

		seen++;
		if (!afork_uring_owns(cqe)) {
			if (uring_tick(c, r, l, cqe))
				return -1;
			continue;
		}
		if (afork_uring_handle(l->u, cqe, &ev) <= 0 ||
		    !(ev.events & AFORK_URING_EXITED))
			continue;
		if (ev.error || !WIFEXITED(ev.status) || WEXITSTATUS(ev.status))
			r->failed++;
		afork_free(ev.child);
		l->running--;
		l->reaped++;
	}
	io_uring_cq_advance(&l->ring, seen);
	return 0;
}

/* uring: the same launch as afork_spawn, the loop is an io_uring. */
static int loop_uring(const struct cfg *c, struct run *r)
{
	struct uring_loop l = { .last = 0, .reaped = 0, .running = 0 };
	int ret = 0;

	if (uring_open(c, &l))
		return -1;
	r->t_start = now_ns();
	while (!ret && l.reaped < c->count)
		ret = uring_turn(c, r, &l);
	r->t_end = now_ns();
	uring_close(&l);
	return ret;
}

static int cmp_stall(const void *a, const void *b)
{
	return cmp_u64(&((const struct stall *)a)->stall, &((const struct stall *)b)->stall);
}

/*
 * The tail: the turns at or above the p99 stall (nearest rank), with the
 * mean of their busy and waiting parts; each written to @ticks if given.
 */
static void tail(const struct cfg *c, unsigned long mib, const char *method,
		 struct run *r, double *busy, double *wake)
{
	unsigned long i, first = 0, n;
	uint64_t b = 0, w = 0;

	if (r->nstall)
		first = (unsigned long)(0.99 * (double)r->nstall + 0.999999) - 1;
	for (i = first; i < r->nstall; i++) {
		const struct stall *s = &r->stall[i];

		b += s->busy;
		w += s->stall - s->busy;
		if (c->ticks)
			fprintf(c->ticks, "%s,%lu,%s,%llu,%llu,%llu\n", c->where, mib, method,
				(unsigned long long)s->due, (unsigned long long)s->stall,
				(unsigned long long)s->busy);
	}
	n = r->nstall - first;
	*busy = n ? (double)b / (double)n / 1e3 : 0;
	*wake = n ? (double)w / (double)n / 1e3 : 0;
}

static void report(const struct cfg *c, unsigned long mib, const char *method,
		   struct run *r)
{
	const char *be = afork_backend_name(afork_backend());
	double busy, wake;

	qsort(r->launch, r->nlaunch, sizeof(uint64_t), cmp_u64);
	qsort(r->window, r->nlaunch, sizeof(uint64_t), cmp_u64);
	qsort(r->stall, r->nstall, sizeof(*r->stall), cmp_stall);
	tail(c, mib, method, r, &busy, &wake);
	fprintf(c->out, "%s,%lu,%s,%s,%lu,%lu,%lu,%.1f,%.1f,%.1f,%.1f,%.1f,%.1f,%.2f,%.1f,%.1f,%.1f\n",
		c->where, mib, method,
		strcmp(method, "fork") && strcmp(method, "posix_spawn") ? (be ? be : "none") : "-",
		r->nlaunch, r->failed, r->nstall,
		pct(r->launch, r->nlaunch, 50), pct(r->launch, r->nlaunch, 99),
		pct(r->launch, r->nlaunch, 100),
		stall_pct(r, 50), stall_pct(r, 99), stall_pct(r, 100),
		(double)(r->t_end - r->t_start) / 1e9, busy, wake,
		pct(r->window, r->nlaunch, 99));
	fflush(c->out);
}

static int known(const char *m)
{
	return !strcmp(m, "fork") || !strcmp(m, "posix_spawn") ||
	       !strcmp(m, "afork_spawn") || !strcmp(m, "uring");
}

static char *hold(unsigned long mib)
{
	size_t size = (size_t)mib << 20, page = (size_t)sysconf(_SC_PAGESIZE), i;
	char *mem;

	if (!size)
		return NULL;
	mem = mmap(NULL, size, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		return MAP_FAILED;
	madvise(mem, size, MADV_NOHUGEPAGE);	/* 4 KiB pages: the worst case */
	for (i = 0; i < size; i += page)
		mem[i] = 1;
	return mem;
}

static void usage(void)
{
	fprintf(stderr, "usage: afork-stall-bench [--where host|guest] [--sizes MIB,...]\n"
		"       [--methods fork,posix_spawn,afork_spawn,uring] [--count N]\n"
		"       [--inflight N] [--every TICKS] [--tiny PATH] [--out FILE]\n"
		"       [--ticks FILE]\n");
	exit(2);
}

/* The exec target by default: afork-bench-tiny beside this program. */
static const char *default_tiny(void)
{
	static char tiny[PATH_MAX];
	char *slash;
	ssize_t n;

	n = readlink("/proc/self/exe", tiny, sizeof(tiny) - 32);
	if (n < 0)
		return NULL;
	tiny[n] = 0;
	slash = strrchr(tiny, '/');
	strcpy(slash ? slash + 1 : tiny, "afork-bench-tiny");
	return tiny;
}

/*
 * The options into @c and the lists of @sizes and @methods (LIST_LEN each);
 * 0, or the exit status when one is wrong.
 */
static int parse_args(int argc, char **argv, struct cfg *c, char *sizes, char *methods)
{
	static const struct option opts[] = {
		{ "where", 1, NULL, 'w' }, { "sizes", 1, NULL, 's' },
		{ "methods", 1, NULL, 'm' }, { "count", 1, NULL, 'n' },
		{ "inflight", 1, NULL, 'j' }, { "tiny", 1, NULL, 't' },
		{ "out", 1, NULL, 'o' }, { "every", 1, NULL, 'e' },
		{ "ticks", 1, NULL, 'k' },
		{ NULL, 0, NULL, 0 }
	};
	int opt;

	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'w':
			c->where = optarg;
			break;
		case 's':
			snprintf(sizes, LIST_LEN, "%s", optarg);
			break;
		case 'm':
			snprintf(methods, LIST_LEN, "%s", optarg);
			break;
		case 'n':
			c->count = strtoul(optarg, NULL, 0);
			break;
		case 'j':
			c->inflight = (unsigned int)strtoul(optarg, NULL, 0);
			break;
		case 't':
			c->tiny = optarg;
			break;
		case 'e':
			c->every = (unsigned int)strtoul(optarg, NULL, 0);
			break;
		case 'k':
			c->ticks = fopen(optarg, "w");
			if (!c->ticks) {
				perror(optarg);
				return 2;
			}
			break;
		case 'o':
			c->out = fopen(optarg, "w");
			if (!c->out) {
				perror(optarg);
				return 2;
			}
			break;
		default:
			usage();
		}
	}
	if (!c->count || !c->inflight || !c->every || optind != argc)
		usage();
	if (access(c->tiny, X_OK)) {
		perror(c->tiny);
		return 2;
	}
	return 0;
}

/* Room for one method's samples; the stalls grow if they must (tick()). */
static int run_alloc(const struct cfg *c, struct run *r)
{
	r->launch = calloc(c->count, sizeof(uint64_t));
	r->window = calloc(c->count, sizeof(uint64_t));
	r->every = c->every;
	r->cap_stall = 4 * c->count + 1024;
	r->stall = calloc(r->cap_stall, sizeof(*r->stall));
	return r->launch && r->window && r->stall ? 0 : -1;
}

static void print_header(const struct cfg *c)
{
	fprintf(c->out, "# afork-stall-bench: timer every 1 ms, a launch every %u ticks, %lu children per method, %u in flight, page %ld B\n",
		c->every, c->count, c->inflight, sysconf(_SC_PAGESIZE));
	fprintf(c->out, "where,size_mib,method,backend,launches,failed,ticks,"
		"launch_p50_us,launch_p99_us,launch_max_us,"
		"stall_p50_us,stall_p99_us,stall_max_us,elapsed_s,"
		"tail_busy_us,tail_wake_us,window_p99_us\n");
}

/* One method at one size, from a fresh run; 1 if it failed, or a child did. */
static int run_method(const struct cfg *c, struct run *r, unsigned long mib,
		      const char *m)
{
	int e;

	r->nlaunch = r->nstall = r->failed = 0;
	memset(r->window, 0, c->count * sizeof(uint64_t));
	r->since = c->every;
	e = strcmp(m, "uring") ? loop_poll(c, m, r) : loop_uring(c, r);
	if (e) {
		fprintf(stderr, "afork-stall-bench: %s: %s\n", m, strerror(errno));
		return 1;
	}
	report(c, mib, m, r);
	return r->failed != 0;
}

/*
 * Every method, in the order given, with @mib MiB held: 0, 1 if one failed,
 * or minus the exit status if the bench cannot go on.
 */
static int run_size(const struct cfg *c, struct run *r, unsigned long mib,
		    const char *methods)
{
	char *mem = hold(mib), list[LIST_LEN], *m, *save;
	int rc = 0;

	if (mem == MAP_FAILED) {
		fprintf(stderr, "afork-stall-bench: cannot hold %lu MiB\n", mib);
		return -1;
	}
	snprintf(list, sizeof(list), "%s", methods);
	for (m = strtok_r(list, ",", &save); m; m = strtok_r(NULL, ",", &save)) {
		if (!known(m)) {
			fprintf(stderr, "afork-stall-bench: unknown method %s\n", m);
			return -2;
		}
		rc |= run_method(c, r, mib, m);
	}
	if (mem)
		munmap(mem, (size_t)mib << 20);
	return rc;
}

int main(int argc, char **argv)
{
	char sizes[LIST_LEN] = "0,1024,4096";
	char methods[LIST_LEN] = "fork,posix_spawn,afork_spawn,uring";
	struct cfg c = { "host", NULL, 500, 1, 10, stdout, NULL };
	char *s, *save;
	struct run r;
	int rc = 0, e;

	c.tiny = default_tiny();
	if (!c.tiny)
		return 2;
	e = parse_args(argc, argv, &c, sizes, methods);
	if (e)
		return e;
	if (run_alloc(&c, &r))
		return 2;
	print_header(&c);
	for (s = strtok_r(sizes, ",", &save); s; s = strtok_r(NULL, ",", &save)) {
		e = run_size(&c, &r, strtoul(s, NULL, 0), methods);
		if (e < 0)
			return -e;
		rc |= e;
	}
	return rc;
}
