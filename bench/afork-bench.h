/* SPDX-License-Identifier: MIT */
/*
 * afork-bench's parts (see afork-bench.c for what it measures and how):
 *
 *   afork-bench.c          the coordinator: options, rows, the CSV
 *   afork-bench-worker.c   a worker process: memory, busy threads, samples
 *   afork-bench-methods.c  the spawn methods a worker times
 *   afork-bench-tls.c      --tls-cost: what a child's own TLS costs
 *   afork-bench-util.c     pipes, clocks, /proc, statistics
 */
#ifndef AFORK_BENCH_H
#define AFORK_BENCH_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <afork.h>
#if __has_include(<afork_spawn.h>)
#include <afork_spawn.h>
#define HAVE_AFORK_SPAWN 1
#else
#define HAVE_AFORK_SPAWN 0
#endif

#define MIB (1024ul * 1024)
#define MAX_WORKERS 8
#define MAX_SLOTS 24
#define MAX_TARGETS 2
#define MAX_ROWS 16
#define MAX_INFLIGHT 256
#define WARMUP 3

/* ---- afork-bench-util.c ---- */

extern const char *prog;
/* This program, as /proc/self/exe names it (the coordinator's). */
extern char self_exe[PATH_MAX];

void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
int64_t now_ns(void);
void xwrite(int fd, const void *buf, size_t len);
int xread(int fd, void *buf, size_t len);
void read_first_line(const char *path, char *buf, size_t len);
long proc_kb(const char *path, const char *key);
void cpu_model(char *buf, size_t len);
double syscall_ns(void);
int cmp_double(const void *a, const void *b);
double pct(const double *v, int n, double p);
double median_of(const double *v, int n);
int in_list(const char *list, const char *name);
int parse_list(const char *s, unsigned long *v, int max);

/* ---- afork-bench-methods.c ---- */

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

extern const char *const method_name[M_NMETHODS];

struct target {
	char label[16];
	char path[PATH_MAX];
	char *argv[2];
};

extern struct target targets[MAX_TARGETS];
extern int ntargets;

void setup_targets(const char *tiny, const char *truep, const char *list);
/* A worker's part: the raw clone stacks, the file actions. */
void methods_setup(void);
/* Is m one of libafork's (named after the backend in the CSV)? */
int method_is_afork(int m);
/* Start one child running target t; its pid, or -errno. */
pid_t spawn_one(int m, const struct target *t);
/* After the child pid of method m has been reaped. */
void spawn_done(int m, pid_t pid);
pid_t reap(pid_t pid, int *st);
int exited_ok(int st);

/* ---- afork-bench-worker.c: the coordinator's protocol with it ---- */

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

int worker_main(const struct worker_args *wa);

/* ---- afork-bench-tls.c ---- */

int tls_probe(void);
int tls_cost(int samples);

#endif
