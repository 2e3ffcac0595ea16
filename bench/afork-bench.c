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
/*
 * This file is the coordinator (and main); afork-bench.h names the others.
 */
#include <errno.h>
#include <fcntl.h>
#include <gnu/libc-version.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "afork-bench.h"

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

/* The backends besides the base worker's, by AFORK_BACKEND name. */
static const char *const all_backends[] = {
	"syscall", "clone3", "clone-legacy", "vfork"
};
#define NBACKENDS 4

static char base_backend[24];	/* what "auto" picks here */

/* ------------------------------------------------------------------ */
/* Output: everything printed goes into these, then out at the end.   */
/* ------------------------------------------------------------------ */

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

/* ------------------------------------------------------------------ */
/* Workers                                                             */
/* ------------------------------------------------------------------ */

/* The worker's end: this program again, with --worker and its arguments. */
static void exec_worker(const struct config *cf, const struct row *r,
			const char *backend, int all_methods, int in, int out)
	__attribute__((noreturn));
static void exec_worker(const struct config *cf, const struct row *r,
			const char *backend, int all_methods, int in, int out)
{
	char a_size[32], a_thp[8], a_busy[16], a_in[16], a_out[16];
	char *argv[] = {
		(char *)prog, (char *)"--worker", (char *)backend, a_size,
		a_thp, a_busy, (char *)(all_methods ? "1" : "0"), a_in, a_out,
		(char *)cf->tiny_path, (char *)cf->true_path,
		(char *)cf->target_list, NULL
	};

	/* Workers never write to our stdout (it may be the CSV). */
	dup2(2, 1);
	if (strcmp(backend, "auto"))
		setenv("AFORK_BACKEND", backend, 1);
	else
		unsetenv("AFORK_BACKEND");
	snprintf(a_size, sizeof(a_size), "%lu", r->size_mib);
	snprintf(a_thp, sizeof(a_thp), "%d", r->thp);
	snprintf(a_busy, sizeof(a_busy), "%d", r->busy);
	snprintf(a_in, sizeof(a_in), "%d", in);
	snprintf(a_out, sizeof(a_out), "%d", out);
	execv(self_exe, argv);
	fprintf(stderr, "%s: exec %s: %s\n", prog, self_exe, strerror(errno));
	_exit(127);
}

static struct worker start_worker(const struct config *cf, const struct row *r,
				  const char *backend, int all_methods)
{
	int to[2], from[2];
	struct worker w;

	memset(&w, 0, sizeof(w));
	if (pipe(to) || pipe(from))
		die("pipe: %s", strerror(errno));
	w.pid = fork();
	if (w.pid < 0)
		die("fork: %s", strerror(errno));
	if (w.pid == 0) {
		close(to[1]);
		close(from[0]);
		exec_worker(cf, r, backend, all_methods, to[0], from[1]);
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

static void backend_snake(char *dst, size_t len, const char *name)
{
	size_t i;

	snprintf(dst, len, "%s", name);
	for (i = 0; dst[i]; i++)
		if (dst[i] == '-')
			dst[i] = '_';
}

/* With --methods, is one of the methods of backend b's worker wanted? */
static int backend_wanted(const struct config *cf, const char *b)
{
	static const char *const pre[] = { "afork", "afork_poll", "afork_spawn" };
	char bn[24], mn[48];
	int q;

	if (!cf->methods[0])
		return 1;
	backend_snake(bn, sizeof(bn), b);
	for (q = 0; q < 3; q++) {
		snprintf(mn, sizeof(mn), "%s_%s", pre[q], bn);
		if (in_list(cf->methods, mn))
			return 1;
	}
	return 0;
}

/*
 * The base worker: backend auto, every method; then one per other
 * backend.  All start at once, so that they touch their memory in
 * parallel (4 GiB takes a while).  wi[i]: worker i's index in
 * all_backends, -1 for the base worker.
 */
static int start_row_workers(const struct config *cf, const struct row *r,
			     struct worker *w, int *wi)
{
	int nw = 0, i;

	wi[nw] = -1;
	w[nw++] = start_worker(cf, r, "auto", 1);
	for (i = 0; i < NBACKENDS; i++) {
		const char *b = all_backends[i];

		if (!in_list(cf->backends, b) || !strcmp(b, base_backend) ||
		    !backend_wanted(cf, b))
			continue;
		wi[nw] = i;
		w[nw++] = start_worker(cf, r, b, 0);
	}
	return nw;
}

/* Every worker's hello; those whose backend is not there stop.  How many are left. */
static int greet_row_workers(const struct row *r, struct worker *w,
			     const int *wi, int nw)
{
	static int noted[NBACKENDS];
	int i, j;

	for (i = 0, j = 0; i < nw; i++) {
		struct worker x = w[i];
		const char *b = wi[i] < 0 ? "auto" : all_backends[wi[i]];

		worker_hello(&x, b);
		if (wi[i] < 0) {
			if (x.h.status)
				die("no afork backend: %s", strerror(x.h.status));
			fprintf(stderr, "  row %s: base worker (%s) ready in %.1f s, RSS %ld MiB, AnonHuge %ld MiB\n",
				r->label, x.h.backend_name, x.h.setup_ns / 1e9,
				x.h.rss_kb / 1024, x.h.anon_huge_kb / 1024);
		} else if (x.h.status) {
			if (!noted[wi[i]])
				META("# backend %s: unavailable (%s)\n", b,
				     strerror(x.h.status));
			noted[wi[i]] = 1;
			stop_worker(&x);
			continue;
		} else {
			if (!noted[wi[i]])
				META("# backend %s: available\n", b);
			noted[wi[i]] = 1;
			fprintf(stderr, "  row %s: worker %s ready in %.1f s\n",
				r->label, x.h.backend_name, x.h.setup_ns / 1e9);
		}
		w[j++] = x;
	}
	return j;
}

/* ------------------------------------------------------------------ */
/* Slots: one per (worker, method)                                     */
/* ------------------------------------------------------------------ */

static int make_slots(const struct config *cf, const struct worker *w, int nw,
		      struct slot *s)
{
	int ns = 0, i, j;

	for (i = 0; i < nw; i++) {
		for (j = 0; j < w[i].h.nmethods && ns < MAX_SLOTS; j++) {
			int m = w[i].h.methods[j];
			char bn[24];

			memset(&s[ns], 0, sizeof(s[ns]));
			s[ns].w = i;
			s[ns].m = m;
			backend_snake(bn, sizeof(bn), w[i].h.backend_name);
			if (method_is_afork(m))
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
	return ns;
}

/* Every slot's samples dropped, for the next target. */
static void slots_reset(struct slot *s, int ns)
{
	int k;

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

/* Has the slot all the latency samples it gets? */
static int slot_lat_done(const struct config *cf, const struct slot *sl)
{
	if (sl->focus)
		return sl->nlat >= cf->focus_iters;
	return sl->nlat >= cf->iters ||
	       (sl->nlat >= cf->min_iters && sl->lat_s >= cf->lat_budget);
}

static void slot_error(struct slot *sl, const struct reply *rp)
{
	sl->errors += rp->errors ? rp->errors : 1;
	sl->last_status = rp->status;
}

/*
 * Latency, one sample per method per round, rotating order, after a
 * warm-up (stacks mapped, code and pages faulted in).  Focus methods go
 * on to focus_iters, without a time budget, still interleaved with each
 * other.
 */
static void sample_latency(const struct config *cf, struct worker *w,
			   struct slot *s, int ns, int t)
{
	int it, j, k, active;

	for (it = 0; it < WARMUP; it++)
		for (k = 0; k < ns; k++)
			ask(&w[s[k].w], OP_LAT, s[k].m, t, 0, 0);
	for (it = 0, active = 1; active; it++) {
		active = 0;
		for (j = 0; j < ns; j++) {
			struct slot *sl = &s[(j + it) % ns];
			struct reply rp;

			if (slot_lat_done(cf, sl))
				continue;
			active++;
			rp = ask(&w[sl->w], OP_LAT, sl->m, t, 0, 0);
			if (rp.status || rp.errors) {
				slot_error(sl, &rp);
				if (rp.status)
					continue;
			}
			slot_add(sl, rp.a / 1e3, rp.b / 1e3);
			sl->lat_s += rp.b / 1e9;
		}
	}
}

/* Throughput: rounds of n spawns, up to cf->inflight at once. */
static void sample_tput(const struct config *cf, struct worker *w,
			struct slot *s, int ns, int t)
{
	int it, j;

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
			if (rp.status || rp.errors)
				slot_error(sl, &rp);
			sl->tput_ns += rp.a;
			sl->tput_cpu_ns += rp.cpu;
			sl->tput_spawns += (long)rp.b;
			sl->tput_rounds++;
		}
	}
}

/* A CSV line per slot for target t of row r. */
static void report_target(const struct config *cf, const struct row *r,
			  const struct worker *w, struct slot *s, int ns, int t)
{
	int k;

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
}

/* ------------------------------------------------------------------ */
/* Rows                                                                */
/* ------------------------------------------------------------------ */

static void run_row(const struct config *cf, const struct row *r)
{
	struct worker w[MAX_WORKERS];
	struct slot s[MAX_SLOTS];
	int wi[MAX_WORKERS], nw, ns, t, k;
	int64_t row_t0 = now_ns();
	char la[128];

	read_first_line("/proc/loadavg", la, sizeof(la));
	META("# row %s: loadavg at start %s, getppid %.0f ns\n",
	     r->label, la, syscall_ns());
	nw = start_row_workers(cf, r, w, wi);
	nw = greet_row_workers(r, w, wi, nw);
	ns = make_slots(cf, w, nw, s);
	for (t = 0; t < ntargets; t++) {
		int64_t t0 = now_ns();

		slots_reset(s, ns);
		sample_latency(cf, w, s, ns, t);
		sample_tput(cf, w, s, ns, t);
		report_target(cf, r, w, s, ns, t);
		fprintf(stderr, "  row %s, target %s: %.1f s\n", r->label,
			targets[t].label, (now_ns() - t0) / 1e9);
	}
	for (k = 0; k < ns; k++) {
		free(s[k].blk);
		free(s[k].rtt);
	}
	for (k = 0; k < nw; k++)
		stop_worker(&w[k]);
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

/* The rows: sizes with THP off, sizes with THP on (if the kernel has it), busy. */
static int make_rows(struct config *cf, struct row *rows)
{
	char buf[512];
	int nrows = 0, i;

	read_first_line("/sys/kernel/mm/transparent_hugepage/enabled", buf, sizeof(buf));
	if (!strcmp(buf, "absent") && cf->nthp) {
		cf->nthp = 0;
		META("# thp_rows: skipped (no transparent huge pages in this kernel)\n");
	}
	for (i = 0; i < cf->nsizes && nrows < MAX_ROWS; i++, nrows++)
		rows[nrows] = (struct row){ .size_mib = cf->sizes[i] };
	for (i = 0; i < cf->nthp && nrows < MAX_ROWS; i++, nrows++)
		rows[nrows] = (struct row){ .size_mib = cf->thp_sizes[i], .thp = 1 };
	if (cf->busy_size >= 0 && nrows < MAX_ROWS)
		rows[nrows++] = (struct row){ .size_mib = (unsigned long)cf->busy_size,
					      .busy = cf->busy_threads };
	for (i = 0; i < nrows; i++)
		row_label(&rows[i]);
	return nrows;
}

/* ------------------------------------------------------------------ */
/* Options                                                             */
/* ------------------------------------------------------------------ */

static void usage(void) __attribute__((noreturn));
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

static void config_defaults(struct config *cf, const char *tiny)
{
	memset(cf, 0, sizeof(*cf));
	cf->where = "host";
	cf->nsizes = parse_list("0,256,1024,4096", cf->sizes, MAX_ROWS);
	cf->nthp = parse_list("4096", cf->thp_sizes, MAX_ROWS);
	cf->busy_size = 0;
	cf->busy_threads = 8;
	cf->iters = 400;
	cf->min_iters = 20;
	cf->lat_budget = 1.0;
	cf->tput_n = 256;
	cf->inflight = 64;
	cf->tput_rounds = 5;
	cf->tput_budget = 2;
	snprintf(cf->backends, sizeof(cf->backends), "syscall,clone3,clone-legacy,vfork");
	snprintf(cf->target_list, sizeof(cf->target_list), "static,true");
	cf->tiny_path = tiny;
	cf->true_path = "/bin/true";
}

/* --smoke: a few samples of everything, small sizes. */
static void config_smoke(struct config *cf)
{
	cf->nsizes = parse_list("0,8", cf->sizes, MAX_ROWS);
	cf->nthp = parse_list("8", cf->thp_sizes, MAX_ROWS);
	cf->busy_size = 0;
	cf->busy_threads = 2;
	cf->iters = 4;
	cf->min_iters = 2;
	cf->lat_budget = 0.5;
	cf->tput_n = 16;
	cf->inflight = 8;
	cf->tput_rounds = 1;
	cf->tput_budget = 0.5;
}

/* --busy SIZE:THREADS or none. */
static void parse_busy(struct config *cf, const char *v)
{
	if (!strcmp(v, "none"))
		cf->busy_size = -1;
	else if (sscanf(v, "%ld:%d", &cf->busy_size, &cf->busy_threads) != 2 ||
		 cf->busy_threads <= 0)
		die("bad --busy '%s'", v);
}

#define SET_STR(field, v) snprintf(field, sizeof(field), "%s", v)

static void parse_args(struct config *cf, int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

#define ARG(name) (!strcmp(a, name) && (v || (usage(), 0)) && ++i)
		if (ARG("--where"))
			cf->where = v;
		else if (ARG("--sizes"))
			cf->nsizes = parse_list(v, cf->sizes, MAX_ROWS);
		else if (ARG("--thp-sizes"))
			cf->nthp = parse_list(v, cf->thp_sizes, MAX_ROWS);
		else if (ARG("--busy"))
			parse_busy(cf, v);
		else if (ARG("--iters"))
			cf->iters = atoi(v);
		else if (ARG("--min-iters"))
			cf->min_iters = atoi(v);
		else if (ARG("--lat-budget"))
			cf->lat_budget = atof(v);
		else if (ARG("--tput-n"))
			cf->tput_n = atoi(v);
		else if (ARG("--inflight"))
			cf->inflight = atoi(v);
		else if (ARG("--tput-rounds"))
			cf->tput_rounds = atoi(v);
		else if (ARG("--tput-budget"))
			cf->tput_budget = atof(v);
		else if (ARG("--backends"))
			SET_STR(cf->backends, v);
		else if (ARG("--methods"))
			SET_STR(cf->methods, v);
		else if (ARG("--focus"))
			SET_STR(cf->focus, v);
		else if (ARG("--focus-iters"))
			cf->focus_iters = atoi(v);
		else if (ARG("--targets"))
			SET_STR(cf->target_list, v);
		else if (ARG("--tiny"))
			cf->tiny_path = v;
		else if (ARG("--true"))
			cf->true_path = v;
		else if (ARG("--out"))
			cf->out = v;
		else if (!strcmp(a, "--smoke"))
			config_smoke(cf);
		else
			usage();
#undef ARG
	}
	if (!cf->focus_iters)
		cf->focus_iters = cf->iters;
	if (cf->iters < 1 || cf->min_iters < 1 || cf->tput_n < 1 ||
	    cf->inflight < 1 || cf->inflight > MAX_INFLIGHT || cf->tput_rounds < 1)
		die("bad iteration parameters");
}

/* ------------------------------------------------------------------ */
/* The CSV's "# key: value" lines                                      */
/* ------------------------------------------------------------------ */

/* The machine: kernel, CPU, page size, THP, load, libraries. */
static void meta_machine(void)
{
	struct utsname u;
	char buf[512], date[64];
	time_t now;

	uname(&u);
	now = time(NULL);
	strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
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
}

/* The run: targets, parameters, what the methods do. */
static void meta_run(const struct config *cf)
{
	int i;

	for (i = 0; i < ntargets; i++) {
		char *rp = realpath(targets[i].path, NULL);

		META("# target %s: %s (%s)\n", targets[i].label, targets[i].path,
		     rp ? rp : "?");
		free(rp);
	}
	if (cf->focus[0])
		META("# focus: %s (%d latency samples each, no time budget)\n",
		     cf->focus, cf->focus_iters);
	META("# params: iters=%d min_iters=%d lat_budget_s=%.2f tput_n=%d inflight=%d tput_rounds=%d tput_budget_s=%.2f warmup=%d\n",
	     cf->iters, cf->min_iters, cf->lat_budget, cf->tput_n, cf->inflight,
	     cf->tput_rounds, cf->tput_budget, WARMUP);
	META("# raw_clone_vm: clone(CLONE_VM|CLONE_CHILD_CLEARTID|SIGCHLD), asm child: execve or exit_group(127)\n");
	META("# afork_spawn: %s\n", HAVE_AFORK_SPAWN ?
	     "afork_spawn(NULL, &pid, path, fa, NULL attr (default: pidfd), argv, envp)" :
	     "not in this libafork: skipped");
	META("# 3fa: file actions open(/dev/null)->0, dup2(nullw,1), close(nullw); afork_spawn_3fa passes the same actions; afork_3fa does them with afork_child_* in an afork() child\n");
}

static void meta_end(int64_t t0)
{
	char buf[512];

	META("# elapsed_s: %.1f\n", (now_ns() - t0) / 1e9);
	read_first_line("/proc/loadavg", buf, sizeof(buf));
	META("# loadavg_end: %s\n", buf);
	META("# getppid_ns_end: %.0f\n", syscall_ns());
}

static void write_csv(const struct config *cf)
{
	FILE *out = cf->out ? fopen(cf->out, "w") : stdout;

	if (!out)
		die("%s: %s", cf->out, strerror(errno));
	fputs(meta_buf, out);
	fputs("where,row,size_mib,thp,busy_threads,target,method,backend,samples,"
	      "blocked_p50_us,blocked_p90_us,blocked_p99_us,"
	      "rtt_p50_us,rtt_p90_us,rtt_p99_us,"
	      "tput_spawns,tput_per_s,tput_cpu_us_per_spawn,errors,anon_huge_mib\n", out);
	if (csv_buf)
		fputs(csv_buf, out);
	if (fflush(out) || (cf->out && fclose(out)))
		die("writing the CSV: %s", strerror(errno));
}

/* ------------------------------------------------------------------ */
/* main                                                                */
/* ------------------------------------------------------------------ */

/* afork-bench --worker BACKEND SIZE THP BUSY ALL IN OUT TINY TRUE TARGETS */
static int worker_entry(int argc, char **argv)
{
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

/* The backend "auto" picks (the base worker's): not started twice. */
static void pick_base_backend(void)
{
	int b;

	unsetenv("AFORK_BACKEND");
	b = afork_backend();
	if (b < 0)
		die("no afork backend: %s", strerror(errno));
	snprintf(base_backend, sizeof(base_backend), "%s", afork_backend_name(b));
	META("# backend auto: %s\n", base_backend);
}

int main(int argc, char **argv)
{
	static char tiny_default[PATH_MAX];
	struct config cf;
	struct row rows[MAX_ROWS];
	int64_t t0 = now_ns();
	int nrows, i;
	ssize_t n;

	if (argc > 1 && !strcmp(argv[1], "--tls-probe"))
		return tls_probe();
	if (argc > 1 && !strcmp(argv[1], "--worker"))
		return worker_entry(argc, argv);

	n = readlink("/proc/self/exe", self_exe, sizeof(self_exe) - 1);
	if (n <= 0)
		die("readlink /proc/self/exe: %s", strerror(errno));
	self_exe[n] = 0;
	if (argc > 1 && !strcmp(argv[1], "--tls-cost")) {
		int samples = argc > 2 ? atoi(argv[2]) : 4000;

		return tls_cost(samples > 0 ? samples : 4000);
	}
	/* The tiny target's default: beside this program. */
	snprintf(tiny_default, sizeof(tiny_default), "%.*s/afork-bench-tiny",
		 (int)(strrchr(self_exe, '/') - self_exe), self_exe);

	config_defaults(&cf, tiny_default);
	parse_args(&cf, argc, argv);
	setup_targets(cf.tiny_path, cf.true_path, cf.target_list);
	signal(SIGPIPE, SIG_IGN);
	pick_base_backend();
	nrows = make_rows(&cf, rows);
	META("# afork-bench: CSV, one line per (row, target, method); times in microseconds\n");
	META("# where: %s\n", cf.where);
	meta_machine();
	meta_run(&cf);

	fprintf(stderr, "%s: %d rows x %d targets\n", prog, nrows, ntargets);
	for (i = 0; i < nrows; i++)
		run_row(&cf, &rows[i]);
	meta_end(t0);
	write_csv(&cf);
	fprintf(stderr, "%s: done in %.1f s\n", prog, (now_ns() - t0) / 1e9);
	return 0;
}
