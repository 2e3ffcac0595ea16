/* SPDX-License-Identifier: MIT */
/*
 * uring-spawner: run a command N times, at most K at once, from one thread
 * that learns of every child's release and exit through an io_uring.
 *
 *   uring-spawner [-n N] [-k K] [-q] -- COMMAND [ARG...]
 *
 * Prints a line per child (its exit status, signal or exec error) and the
 * throughput; exits 0 if every child exited 0, 1 if any failed, 2 on a
 * usage or setup error.  No SIGCHLD is involved: the children are started
 * with AFORK_NOSIGCHLD | AFORK_WAITPID and reaped by the ring.
 * AFORK_URING_RELEASE=futex|poll and AFORK_URING_EXIT=waitid|poll force
 * the helpers' paths, AFORK_BACKEND the libafork backend.
 */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <afork_uring.h>

extern char **environ;

/* What every child runs; read-only while children share our memory. */
struct job {
	char **argv;
	char **envp;
	const char *path;
};

static int child_main(struct afork_ctx *ctx, void *arg)
{
	const struct job *job = arg;

	afork_ctx_execvpe(ctx, job->argv[0], job->argv, job->envp, job->path);
	return 127;	/* the errno is in ctx, for afork_exec_errno() */
}

static void usage(void)
{
	fprintf(stderr, "usage: uring-spawner [-n N] [-k K] [-q] -- COMMAND [ARG...]\n");
	exit(2);
}

static unsigned long number(const char *s, unsigned long max)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v == 0 || v > max)
		usage();
	return v;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Print one child's outcome; 1 if it failed. */
static int report(const struct afork_uring_event *ev, int quiet)
{
	unsigned long idx = (unsigned long)(uintptr_t)ev->data;
	pid_t pid = afork_pid(ev->child);
	int st = ev->status, failed = 1;
	char what[160];

	if (ev->error)
		snprintf(what, sizeof(what), "not reaped: %s", strerror(ev->error));
	else if (ev->exec_errno)
		snprintf(what, sizeof(what), "exec failed: %s (errno %d), exit %d",
			 strerror(ev->exec_errno), ev->exec_errno,
			 WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	else if (WIFEXITED(st)) {
		snprintf(what, sizeof(what), "exit %d", WEXITSTATUS(st));
		failed = WEXITSTATUS(st) != 0;
	} else if (WIFSIGNALED(st))
		snprintf(what, sizeof(what), "killed by signal %d (%s)",
			 WTERMSIG(st), strsignal(WTERMSIG(st)));
	else
		snprintf(what, sizeof(what), "status 0x%x", st);
	if (!quiet || failed)
		printf("child %lu: pid %d, %s\n", idx, (int)pid, what);
	return failed;
}

int main(int argc, char **argv)
{
	unsigned long n = 1, k = 1, started = 0, done = 0, inflight = 0;
	unsigned long failed = 0;
	struct afork_uring *u;
	struct io_uring ring;
	struct afork_opts opts;
	struct job job;
	unsigned int paths;
	int quiet = 0, opt, r;
	double t0, t;

	while ((opt = getopt(argc, argv, "+n:k:q")) != -1) {
		switch (opt) {
		case 'n':
			n = number(optarg, ULONG_MAX / 2);
			break;
		case 'k':
			k = number(optarg, 4096);
			break;
		case 'q':
			quiet = 1;
			break;
		default:
			usage();
		}
	}
	if (optind >= argc)
		usage();
	job.argv = argv + optind;
	job.envp = environ;
	job.path = getenv("PATH");	/* read here: the child must not */
	setvbuf(stdout, NULL, _IOLBF, 0);

	/* Two requests per child, and room for re-arming. */
	r = io_uring_queue_init((unsigned int)(2 * k + 8), &ring, 0);
	if (r < 0) {
		fprintf(stderr, "uring-spawner: io_uring_queue_init: %s\n", strerror(-r));
		return 2;
	}
	u = afork_uring_new(&ring, 0);
	if (!u) {
		perror("uring-spawner: afork_uring_new");
		return 2;
	}
	afork_opts_init(&opts);
	opts.flags = AFORK_NOSIGCHLD | AFORK_WAITPID;
	afork_uring_prep_opts(u, &opts);

	t0 = now();
	while (done < n) {
		struct io_uring_cqe *cqe;
		unsigned int head, seen = 0;

		while (started < n && inflight < k) {
			struct afork_child *c;

			if (afork_start_ctx(&c, &opts, child_main, &job) < 0) {
				if ((errno == EAGAIN || errno == ENOMEM) && inflight)
					break;	/* limits: wait for some to finish */
				perror("uring-spawner: afork_start_ctx");
				return 2;
			}
			started++;
			if (afork_uring_watch(u, c, (void *)(uintptr_t)started) < 0) {
				perror("uring-spawner: afork_uring_watch");
				return 2;
			}
			inflight++;
		}
		r = io_uring_submit_and_wait(&ring, 1);
		if (r < 0 && r != -EINTR) {
			fprintf(stderr, "uring-spawner: io_uring_submit_and_wait: %s\n",
				strerror(-r));
			return 2;
		}
		io_uring_for_each_cqe(&ring, head, cqe) {
			struct afork_uring_event ev;

			seen++;
			if (!afork_uring_owns(cqe) ||
			    afork_uring_handle(u, cqe, &ev) <= 0 ||
			    !(ev.events & AFORK_URING_EXITED))
				continue;
			failed += (unsigned long)report(&ev, quiet);
			afork_free(ev.child);
			inflight--;
			done++;
		}
		io_uring_cq_advance(&ring, seen);
	}
	t = now() - t0;

	paths = afork_uring_paths(u);
	printf("uring-spawner: %lu children, at most %lu in flight, %lu failed, "
	       "%.3f s, %.0f children/s (backend %s, release %s, exit %s)\n",
	       n, k, failed, t, t > 0 ? (double)n / t : 0.0,
	       afork_backend_name(afork_backend()),
	       afork_uring_path_name(paths & (AFORK_URING_RELEASE_FUTEX |
					      AFORK_URING_RELEASE_POLL)),
	       afork_uring_path_name(paths & (AFORK_URING_EXIT_WAITID |
					      AFORK_URING_EXIT_POLL)));
	afork_uring_free(u);
	io_uring_queue_exit(&ring);
	return failed ? 1 : 0;
}
