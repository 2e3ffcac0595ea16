// SPDX-License-Identifier: MIT
/*
 * afork-popen-bench: how long does a popen call keep its caller?  popen of
 * a program that exits at once (/bin/true), from a parent holding SIZE MiB
 * of touched memory, by glibc's popen(), afork_popen() (which still runs
 * it through /bin/sh -c) and afork_popenve() (no shell), beside the floor
 * of such a call (floor_open() below).  The time is the
 * call's alone; the pclose that follows is timed apart.  Methods take
 * turns, one call each per round, so that they share the machine's state.
 *
 *   afork-popen-bench [--size MIB] [--iters N] [--program PATH] [--out FILE]
 *
 * One CSV line per method:
 *   size_mib,method,backend,n,call_p50_us,call_p90_us,call_p99_us,pclose_p50_us
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <afork.h>
#include <afork_spawn.h>

#include "bench-time.h"

enum { GLIBC, AFORK_POPEN, AFORK_POPENVE, FLOOR, NMETHODS };
static const char *const names[NMETHODS] = {
	"popen", "afork_popen", "afork_popenve", "floor"
};

extern char **environ;

/*
 * The floor of any popen that returns at once with a stream and a child
 * that only a wait naming it reaps: a pipe, a stdio stream, and afork_start()
 * with AFORK_WAITPID | AFORK_NOSIGCHLD and a pidfd of a child that dup2s
 * and execs.  No shield (so on the clone backends the exec'd program is
 * an ordinary child again), no file actions, no list of open streams.
 */
struct floor_arg {
	int wfd;
	const char *prog;
};

static struct floor_arg floor_arg;	/* read by the child before its exec */
static struct afork_child *floor_child;

static int floor_fn(void *p)
{
	const struct floor_arg *a = p;
	char *argv[] = { (char *)a->prog, NULL };

	if (afork_child_dup2(a->wfd, 1) == 1)
		afork_child_execve(a->prog, argv, environ);
	afork_child_exit(127);
}

static FILE *floor_open(const char *prog)
{
	struct afork_opts o;
	int p[2];

	if (pipe2(p, O_CLOEXEC))
		return NULL;
	floor_arg.wfd = p[1];
	floor_arg.prog = prog;
	afork_opts_init(&o);
	o.flags = AFORK_WAITPID | AFORK_NOSIGCHLD;
	o.options = AFORK_OPT_PIDFD;
	if (afork_start(&floor_child, &o, floor_fn, &floor_arg)) {
		close(p[0]);
		close(p[1]);
		return NULL;
	}
	close(p[1]);
	return fdopen(p[0], "r");
}

static int floor_close(FILE *f)
{
	int st = -1;

	fclose(f);
	if (afork_wait(floor_child, &st, 0) < 0)
		st = -1;
	afork_free(floor_child);
	return st;
}

/* Nearest-rank percentile of n sorted samples, in µs. */
static double pct(const uint64_t *v, int n, double p)
{
	int i = (int)(p / 100.0 * n + 0.999999);

	if (i < 1)
		i = 1;
	if (i > n)
		i = n;
	return (double)v[i - 1] / 1e3;
}

static FILE *open_one(int m, const char *prog)
{
	char *argv[] = { (char *)prog, NULL };

	switch (m) {
	case GLIBC:
		return popen(prog, "r");
	case AFORK_POPEN:
		return afork_popen(prog, "r");
	case AFORK_POPENVE:
		return afork_popenve(prog, argv, NULL, "r");
	default:
		return floor_open(prog);
	}
}

static int close_one(int m, FILE *f)
{
	switch (m) {
	case GLIBC:
		return pclose(f);
	case FLOOR:
		return floor_close(f);
	default:
		return afork_pclose(f);
	}
}

/* The command line. */
struct cfg {
	const char *prog;
	unsigned long mib;
	int iters;
	FILE *out;
};

/* The options into @c; 0, or the exit status when one is wrong. */
static int parse_args(int argc, char **argv, struct cfg *c)
{
	static const struct option opts[] = {
		{ "size", 1, NULL, 's' }, { "iters", 1, NULL, 'n' },
		{ "program", 1, NULL, 'p' }, { "out", 1, NULL, 'o' },
		{ NULL, 0, NULL, 0 }
	};
	int opt;

	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 's': c->mib = strtoul(optarg, NULL, 0); break;
		case 'n': c->iters = atoi(optarg); break;
		case 'p': c->prog = optarg; break;
		case 'o':
			c->out = fopen(optarg, "w");
			if (!c->out) {
				perror(optarg);
				return 2;
			}
			break;
		default:
			fprintf(stderr, "usage: afork-popen-bench [--size MIB] [--iters N] "
				"[--program PATH] [--out FILE]\n");
			return 2;
		}
	}
	if (c->iters < 1 || optind != argc)
		return 2;
	return 0;
}

/* @mib MiB of touched memory, THP off; NULL for 0, MAP_FAILED if it cannot. */
static char *hold(unsigned long mib)
{
	size_t size = (size_t)mib << 20, page = (size_t)sysconf(_SC_PAGESIZE), k;
	char *mem;

	if (!size)
		return NULL;
	mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		return MAP_FAILED;
	madvise(mem, size, MADV_NOHUGEPAGE);
	for (k = 0; k < size; k += page)
		mem[k] = 1;
	return mem;
}

/*
 * The rounds: each method's call and its pclose timed into @call and @clo;
 * the number of children that did not exit 0, or -1 if a call failed.
 */
static int measure(const struct cfg *c, uint64_t **call, uint64_t **clo)
{
	int i, m, bad = 0;

	for (i = 0; i < c->iters; i++) {
		for (m = 0; m < NMETHODS; m++) {
			uint64_t t0 = now_ns(), t1;
			FILE *f = open_one(m, c->prog);
			int st;

			t1 = now_ns();
			if (!f) {
				fprintf(stderr, "afork-popen-bench: %s: %s\n", names[m], strerror(errno));
				return -1;
			}
			st = close_one(m, f);
			call[m][i] = t1 - t0;
			clo[m][i] = now_ns() - t1;
			if (st != 0)
				bad++;
		}
	}
	return bad;
}

/* The CSV: what was run, then a line per method. */
static void report(const struct cfg *c, uint64_t **call, uint64_t **clo)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	int m, n = c->iters;

	fprintf(c->out, "# afork-popen-bench: popen(\"%s\", \"r\") then pclose, %d rounds, parent %lu MiB, page %zu B\n",
		c->prog, n, c->mib, page);
	fprintf(c->out, "size_mib,method,backend,n,call_p50_us,call_p90_us,call_p99_us,pclose_p50_us\n");
	for (m = 0; m < NMETHODS; m++) {
		qsort(call[m], (size_t)n, sizeof(uint64_t), cmp_u64);
		qsort(clo[m], (size_t)n, sizeof(uint64_t), cmp_u64);
		fprintf(c->out, "%lu,%s,%s,%d,%.1f,%.1f,%.1f,%.1f\n", c->mib, names[m],
			m == GLIBC ? "-" : afork_backend_name(afork_backend()), n,
			pct(call[m], n, 50), pct(call[m], n, 90),
			pct(call[m], n, 99), pct(clo[m], n, 50));
	}
}

int main(int argc, char **argv)
{
	struct cfg c = { "/bin/true", 1024, 300, stdout };
	uint64_t *call[NMETHODS], *clo[NMETHODS];
	int m, bad;

	if (parse_args(argc, argv, &c))
		return 2;
	if (hold(c.mib) == MAP_FAILED) {
		fprintf(stderr, "afork-popen-bench: cannot hold %lu MiB\n", c.mib);
		return 1;
	}
	for (m = 0; m < NMETHODS; m++) {
		call[m] = calloc((size_t)c.iters, sizeof(uint64_t));
		clo[m] = calloc((size_t)c.iters, sizeof(uint64_t));
		if (!call[m] || !clo[m])
			return 1;
	}
	bad = measure(&c, call, clo);
	if (bad < 0)
		return 1;
	report(&c, call, clo);
	if (bad)
		fprintf(stderr, "afork-popen-bench: %d children did not exit 0\n", bad);
	return bad != 0;
}
