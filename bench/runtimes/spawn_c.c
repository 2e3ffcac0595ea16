// SPDX-License-Identifier: MIT
/*
 * The same measurement in C, beside the runtimes: afork_spawn() or
 * glibc's posix_spawn() from a parent holding MIB MiB of touched memory.
 *   spawn_c afork_spawn|posix_spawn TARGET N MIB   prints "p50 p90 p99" (µs)
 */
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <afork_spawn.h>

extern char **environ;

static double now_us(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	char *args[2] = { argv[2], NULL };
	size_t size, i;
	double *v, t;
	char *mem;
	int n, k, st, use_afork;
	pid_t pid;

	if (argc != 5)
		return 2;
	use_afork = !strcmp(argv[1], "afork_spawn");
	n = atoi(argv[3]);
	size = (size_t)atol(argv[4]) << 20;
	v = calloc((size_t)n, sizeof(*v));
	if (!v || n < 1)
		return 2;
	if (size) {
		mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (mem == MAP_FAILED)
			return 2;
		madvise(mem, size, MADV_NOHUGEPAGE);
		for (i = 0; i < size; i += 4096)
			mem[i] = 1;
	}
	for (k = 0; k < n; k++) {
		t = now_us();
		if (use_afork ? afork_spawn(NULL, &pid, argv[2], NULL, NULL, args, environ)
			      : posix_spawn(&pid, argv[2], NULL, NULL, args, environ))
			return 1;
		v[k] = now_us() - t;
		if (waitpid(pid, &st, 0) != pid || st)
			return 1;
	}
	qsort(v, (size_t)n, sizeof(*v), cmp);
	printf("%.1f %.1f %.1f\n", v[n / 2], v[n * 9 / 10], v[n * 99 / 100]);
	return 0;
}
