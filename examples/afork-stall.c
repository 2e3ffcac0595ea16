// SPDX-License-Identifier: MIT
/*
 * afork-stall: how long does starting a child stall an event loop?
 *
 * The program holds SIZE bytes of touched memory (default 1 GiB) and runs
 * an event loop around poll(): a timerfd ticks every millisecond, and on
 * each turn of the loop one more child (/bin/true) is launched while fewer
 * than INFLIGHT are running, until COUNT have been; finished children are
 * reaped with waitpid(WNOHANG).  It does this with fork()+exec, with
 * glibc's posix_spawn() and with afork_spawn(), and prints for each the
 * time the launching call took (average and worst) and the loop's worst
 * stall: the longest gap between two turns that handled the timer.
 *
 *   afork-stall [-s SIZE[k|M|G]] [-n COUNT] [-j INFLIGHT] [-m fork,posix_spawn,afork]
 *
 * fork() copies the page tables of SIZE bytes, so it stalls the loop for
 * milliseconds at 1 GiB; posix_spawn() suspends the caller until the child
 * has exec'd; afork_spawn() returns as soon as the child exists.
 */
#include <afork_spawn.h>
#include <errno.h>
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

extern char **environ;

static char *true_argv[] = { "true", NULL };
static const char *true_path = "/bin/true";

static uint64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static pid_t launch(const char *method)
{
	pid_t pid = -1;
	int r;

	if (!strcmp(method, "fork")) {
		pid = fork();
		if (pid == 0) {
			execve(true_path, true_argv, environ);
			_exit(127);
		}
		return pid;
	}
	if (!strcmp(method, "posix_spawn")) {
		r = posix_spawn(&pid, true_path, NULL, NULL, true_argv, environ);
		return r ? -1 : pid;
	}
	/* afork: no handle needed, the child is reaped by pid below. */
	r = afork_spawn(NULL, &pid, true_path, NULL, NULL, true_argv, environ);
	return r ? -1 : pid;
}

static int run(const char *method, unsigned long count, unsigned int inflight)
{
	struct itimerspec its = { { 0, 1000000 }, { 0, 1000000 } };
	uint64_t t_prev, t, worst_gap = 0, launch_sum = 0, launch_max = 0, t0;
	unsigned long launched = 0, reaped = 0, failed = 0;
	unsigned int running = 0;
	struct pollfd pfd;
	int tfd, st;

	tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (tfd < 0 || timerfd_settime(tfd, 0, &its, NULL)) {
		perror("timerfd");
		return 1;
	}
	pfd.fd = tfd;
	pfd.events = POLLIN;
	t0 = t_prev = now_ns();
	while (reaped < count) {
		uint64_t ticks;
		pid_t pid;

		if (poll(&pfd, 1, 100) > 0 && read(tfd, &ticks, sizeof(ticks)) == sizeof(ticks)) {
			t = now_ns();
			if (t - t_prev > worst_gap)
				worst_gap = t - t_prev;
			t_prev = t;
		}
		while ((pid = waitpid(-1, &st, WNOHANG | __WALL)) > 0) {
			reaped++;
			running--;
			if (!WIFEXITED(st) || WEXITSTATUS(st))
				failed++;
		}
		if (launched < count && running < inflight) {
			uint64_t a = now_ns(), d;

			pid = launch(method);
			d = now_ns() - a;
			launch_sum += d;
			if (d > launch_max)
				launch_max = d;
			launched++;
			if (pid > 0) {
				running++;
			} else {
				reaped++;
				failed++;
			}
		}
	}
	close(tfd);
	printf("%-12s %14.1f %14.1f %18.1f %10.2f %7lu\n", method,
	       launch_sum / 1e3 / (double)launched, launch_max / 1e3,
	       worst_gap / 1e3, (now_ns() - t0) / 1e9, failed);
	return failed ? 1 : 0;
}

static size_t parse_size(const char *s)
{
	char *end;
	double v = strtod(s, &end);

	switch (*end) {
	case 'k': case 'K':
		v *= 1024;
		break;
	case 'm': case 'M':
		v *= 1024 * 1024;
		break;
	case 'g': case 'G':
		v *= 1024.0 * 1024 * 1024;
		break;
	}
	return (size_t)v;
}

int main(int argc, char **argv)
{
	size_t size = 1ul << 30, page = (size_t)sysconf(_SC_PAGESIZE), i;
	unsigned long count = 1000;
	unsigned int inflight = 8;
	char methods[256] = "fork,posix_spawn,afork", *m, *save;
	char *mem = NULL;
	int opt, rc = 0;

	while ((opt = getopt(argc, argv, "s:n:j:m:")) != -1) {
		switch (opt) {
		case 's':
			size = parse_size(optarg);
			break;
		case 'n':
			count = strtoul(optarg, NULL, 0);
			break;
		case 'j':
			inflight = (unsigned int)strtoul(optarg, NULL, 0);
			break;
		case 'm':
			snprintf(methods, sizeof(methods), "%s", optarg);
			break;
		default:
			fprintf(stderr, "usage: %s [-s SIZE[k|M|G]] [-n COUNT] [-j INFLIGHT] "
				"[-m fork,posix_spawn,afork]\n", argv[0]);
			return 2;
		}
	}
	if (!count || !inflight)
		return 2;
	if (size) {
		mem = mmap(NULL, size, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (mem == MAP_FAILED) {
			perror("mmap");
			return 1;
		}
		madvise(mem, size, MADV_NOHUGEPAGE);	/* state the page size honestly */
		for (i = 0; i < size; i += page)
			mem[i] = 1;
	}
	printf("%zu MiB touched (%zu KiB pages), %lu children of %s, %u in flight, "
	       "timer every 1 ms, afork backend %s\n",
	       size >> 20, page >> 10, count, true_path, inflight,
	       afork_backend_name(afork_backend()) ? afork_backend_name(afork_backend()) : "none");
	printf("%-12s %14s %14s %18s %10s %7s\n", "method", "launch avg us",
	       "launch max us", "worst loop gap us", "elapsed s", "failed");
	for (m = strtok_r(methods, ",", &save); m; m = strtok_r(NULL, ",", &save)) {
		if (strcmp(m, "fork") && strcmp(m, "posix_spawn") && strcmp(m, "afork")) {
			fprintf(stderr, "unknown method %s\n", m);
			return 2;
		}
		rc |= run(m, count, inflight);
	}
	if (mem)
		munmap(mem, size);
	return rc;
}
