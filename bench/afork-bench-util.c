// SPDX-License-Identifier: MIT
/*
 * afork-bench's small helpers: errors, the clock, pipes, /proc, statistics.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "afork-bench.h"

const char *prog = "afork-bench";
char self_exe[PATH_MAX];

void die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void xwrite(int fd, const void *buf, size_t len)
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
int xread(int fd, void *buf, size_t len)
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

void read_first_line(const char *path, char *buf, size_t len)
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
long proc_kb(const char *path, const char *key)
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

void cpu_model(char *buf, size_t len)
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

/*
 * The machine's speed right now: ns per getppid() (the cheapest system
 * call), best of five runs of 20,000.  On an idle machine this is about
 * 0.1-0.3 us; when other work shares the CPUs it grows, and so does
 * every figure of the run.
 */
double syscall_ns(void)
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

int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of a sorted array. */
double pct(const double *v, int n, double p)
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

double median_of(const double *v, int n)
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
int in_list(const char *list, const char *name)
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

/* A comma-separated list of numbers into v; "none" or "" is empty. */
int parse_list(const char *s, unsigned long *v, int max)
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
