// SPDX-License-Identifier: MIT
/*
 * afork-demo: what libafork does on this machine, in plain words.
 *
 * Shows the backend in use, starts children with afork(), aforkx() and
 * afork_start(), and prints their pids, release events, exec errors,
 * statuses, and how long the calling thread was blocked, next to fork()
 * with the same amount of touched memory.
 *
 *   afork-demo [MiB]      (default 256 MiB of touched memory)
 */
#include <afork.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static const char *search = "/bin:/usr/bin";

static int child_exec(struct afork_ctx *ctx, void *arg)
{
	char *argv[] = { arg, NULL };
	char *envp[] = { NULL };

	afork_ctx_execvpe(ctx, arg, argv, envp, search);
	return 127;
}

static int child_exit(void *arg)
{
	return (int)(long)arg;
}

static void show_status(const char *what, pid_t pid, int st)
{
	if (WIFEXITED(st))
		printf("  %-28s pid %d exited with %d\n", what, pid, WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		printf("  %-28s pid %d killed by signal %d\n", what, pid, WTERMSIG(st));
}

/* Start `prog` with a handle; report call time, release, exec errno, status. */
static int run_one(const char *prog)
{
	struct afork_child *c;
	struct afork_opts o;
	struct pollfd pfd;
	double t0, t1, t2;
	int st, err;

	afork_opts_init(&o);
	o.flags = AFORK_NOSIGCHLD | AFORK_WAITPID;
	o.options = AFORK_OPT_PIDFD | AFORK_OPT_RELEASE_FD;
	t0 = now_us();
	if (afork_start_ctx(&c, &o, child_exec, (void *)prog)) {
		printf("  afork_start_ctx: %s\n", strerror(errno));
		return 1;
	}
	t1 = now_us();
	afork_release_pollfd(c, &pfd);
	poll(&pfd, 1, -1);
	t2 = now_us();
	err = afork_exec_errno(c);
	printf("  exec %-23s pid %d, pidfd %d: call blocked %.1f us, released after %.1f us, %s\n",
	       prog, afork_pid(c), afork_pidfd(c), t1 - t0, t2 - t1,
	       err ? strerror(err) : "exec succeeded");
	if (afork_wait(c, &st, 0) > 0)
		show_status("  reaped with afork_wait:", afork_pid(c), st);
	afork_free(c);
	return 0;
}

static double median(double *v, int n)
{
	int i, j;

	for (i = 1; i < n; i++)
		for (j = i; j > 0 && v[j - 1] > v[j]; j--) {
			double t = v[j];

			v[j] = v[j - 1];
			v[j - 1] = t;
		}
	return v[n / 2];
}

/* Median time the caller is blocked in fork() and afork(), 15 runs each. */
static void timings(size_t mib)
{
	double f[15], a[15];
	char *mem = NULL;
	int i, st;

	if (mib) {
		mem = mmap(NULL, mib << 20, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (mem == MAP_FAILED) {
			printf("  cannot map %zu MiB\n", mib);
			return;
		}
		memset(mem, 1, mib << 20);
	}
	for (i = 0; i < 15; i++) {
		double t0 = now_us();
		pid_t p = fork();

		if (p == 0)
			_exit(0);
		f[i] = now_us() - t0;
		waitpid(p, &st, 0);
		t0 = now_us();
		p = afork(child_exit, NULL);
		a[i] = now_us() - t0;
		waitpid(p, &st, __WALL);
	}
	printf("  %5zu MiB touched: fork blocks %9.1f us, afork blocks %6.1f us (median of 15, %ld-byte pages)\n",
	       mib, median(f, 15), median(a, 15), sysconf(_SC_PAGESIZE));
	if (mem)
		munmap(mem, mib << 20);
}

int main(int argc, char **argv)
{
	struct afork_pool_stats ps = { .size = sizeof(ps) };
	size_t mib = argc > 1 ? strtoul(argv[1], NULL, 0) : 256;
	int backend = afork_backend(), st, rc = 0;
	pid_t pid;

	if (backend < 0) {
		printf("afork-demo: no backend: %s\n", strerror(errno));
		return 1;
	}
	printf("libafork %s, backend: %s\n", afork_version(), afork_backend_name(backend));

	printf("afork() and aforkx():\n");
	pid = afork(child_exit, (void *)3L);
	if (pid < 0 || waitpid(pid, &st, __WALL) != pid)
		rc = 1;
	else
		show_status("afork(fn returns 3):", pid, st);
	pid = aforkx(AFORK_NOSIGCHLD, child_exit, (void *)4L);
	if (pid < 0 || waitpid(pid, &st, __WALL) != pid)
		rc = 1;
	else
		show_status("aforkx(NOSIGCHLD, 4):", pid, st);

	printf("afork_start_ctx() with a release fd (NOSIGCHLD|WAITPID):\n");
	rc |= run_one("true");
	rc |= run_one("no-such-program");

	printf("time the calling thread is blocked:\n");
	timings(0);
	if (mib)
		timings(mib);

	afork_pool_stats(&ps);
	printf("stack pool: %lu stacks mapped (%zu bytes), %lu free, %lu maps, %lu reuses\n",
	       ps.stacks_total, ps.bytes_mapped, ps.stacks_free, ps.maps, ps.reuses);
	return rc;
}
