// SPDX-License-Identifier: MIT
/*
 * afork-bench --tls-cost: what the child's own TLS costs the caller.
 *
 * Two probe processes on the clone3 backend, one of them with
 * AFORK_TLS=shared (no copy), take turns timing batches of afork() calls
 * (CLOCK_MONOTONIC around the call only) of a child that exits at once,
 * so noise hits both alike.  The report gives each one's median, their
 * difference (the copy's share of the blocked time), the bytes each
 * child's copy takes, and a loop of copies of that size alone.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "afork-bench.h"

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
int tls_probe(void)
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

/*
 * The calling thread's TLS as libafork copies it (lib/src/tls.c): x86-64
 * (variant II) has the TLS blocks below the thread pointer and struct
 * pthread (the TCB) above, and @size counts both; arm64 (variant I) has
 * struct pthread below and the TCB and TLS blocks above, @size without
 * struct pthread.  The dtv pointer is the TCB's second word on x86-64, its
 * first on arm64.
 */
struct tls_region {
	const char *lo;
	size_t len;
	const size_t *dtv;
};

static struct tls_region tls_region(size_t size, size_t pthread)
{
	struct tls_region r;
	uintptr_t tp;

#if defined(__x86_64__)
	__asm__("movq %%fs:0, %0" : "=r"(tp));
	r.lo = (const char *)tp - (size - pthread);
	r.len = size;
	r.dtv = ((const size_t *const *)tp)[1];
#elif defined(__aarch64__)
	__asm__("mrs %0, tpidr_el0" : "=r"(tp));
	r.lo = (const char *)tp - pthread;
	r.len = pthread + size;
	r.dtv = ((const size_t *const *)tp)[0];
#else
#error "afork-bench --tls-cost: x86_64 and aarch64 only"
#endif
	return r;
}

/* The copy alone: static TLS and TCB, then the dtv, 100,000 times; ns each. */
static double tls_copy_ns(struct tls_region r, size_t dtv_bytes)
{
	char *buf = aligned_alloc(64, (r.len + dtv_bytes + 63) & ~(size_t)63);
	int64_t t0;
	int i;

	if (!buf)
		die("out of memory");
	t0 = now_ns();
	for (i = 0; i < 100000; i++) {
		memcpy(buf, r.lo, r.len);
		memcpy(buf + r.len, r.dtv - 2, dtv_bytes);
		__asm__ volatile("" : : "r"(buf) : "memory");
	}
	t0 = now_ns() - t0;
	free(buf);
	return (double)t0 / 100000;
}

/* rounds batches of each probe, taking turns; v[k] gets probe k's samples. */
static void tls_sample(int rounds, double *v[2])
{
	struct tls_probe_proc pr[2];
	int r, k, st;

	pr[0] = tls_probe_start(NULL);
	pr[1] = tls_probe_start("shared");
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
}

int tls_cost(int samples)
{
	int rounds = (samples + TLS_BATCH - 1) / TLS_BATCH, n = rounds * TLS_BATCH;
	size_t size = 0, align = 0, dtv_bytes, bytes;
	struct tls_region r;
	double *v[2], copy_ns, own, shared;

	if (!_dl_get_tls_static_info || !&_thread_db_sizeof_pthread) {
		printf("tls-cost: no glibc TLS layout here: children share TLS\n");
		return 0;
	}
	_dl_get_tls_static_info(&size, &align);
	r = tls_region(size, _thread_db_sizeof_pthread);
	dtv_bytes = (r.dtv[-2] + 2) * 2 * sizeof(size_t);
	bytes = r.len + dtv_bytes;
	copy_ns = tls_copy_ns(r, dtv_bytes);

	v[0] = calloc((size_t)n, sizeof(double));
	v[1] = calloc((size_t)n, sizeof(double));
	if (!v[0] || !v[1])
		die("out of memory");
	tls_sample(rounds, v);
	own = median_of(v[0], n);
	shared = median_of(v[1], n);
	printf("tls-cost: clone3 backend, %d samples each, interleaved by %d\n",
	       n, TLS_BATCH);
	printf("tls-cost: bytes copied per child: %zu (static TLS and TCB %zu, struct pthread %u of them, dtv %zu), align %zu\n",
	       bytes, r.len, _thread_db_sizeof_pthread, dtv_bytes, align);
	printf("tls-cost: copy alone: %.0f ns\n", copy_ns);
	printf("tls-cost: afork() blocked, median: own TLS %.0f ns, shared TLS %.0f ns, difference %+.0f ns (%.2fx)\n",
	       own, shared, own - shared, own / shared);
	free(v[0]);
	free(v[1]);
	return 0;
}
