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

/* The run: its options, the ring that watches the children, the counts. */
struct spawner {
	unsigned long n, k;	/* children to run, at most in flight at once */
	int quiet;
	struct job job;
	struct io_uring ring;
	struct afork_uring *u;
	struct afork_opts opts;
	unsigned long started, done, inflight, failed;
};

static void parse_args(struct spawner *s, int argc, char **argv)
{
	int opt;

	while ((opt = getopt(argc, argv, "+n:k:q")) != -1) {
		switch (opt) {
		case 'n':
			s->n = number(optarg, ULONG_MAX / 2);
			break;
		case 'k':
			s->k = number(optarg, 4096);
			break;
		case 'q':
			s->quiet = 1;
			break;
		default:
			usage();
		}
	}
	if (optind >= argc)
		usage();
	s->job.argv = argv + optind;
	s->job.envp = environ;
	s->job.path = getenv("PATH");	/* read here: the child must not */
}

/* The ring, libafork-uring's helpers on it, and the options they need. */
static int setup(struct spawner *s)
{
	int r;

	/* Two requests per child, and room for re-arming. */
	r = io_uring_queue_init((unsigned int)(2 * s->k + 8), &s->ring, 0);
	if (r < 0) {
		fprintf(stderr, "uring-spawner: io_uring_queue_init: %s\n", strerror(-r));
		return -1;
	}
	s->u = afork_uring_new(&s->ring, 0);
	if (!s->u) {
		perror("uring-spawner: afork_uring_new");
		return -1;
	}
	afork_opts_init(&s->opts);
	s->opts.flags = AFORK_NOSIGCHLD | AFORK_WAITPID;
	afork_uring_prep_opts(s->u, &s->opts);
	return 0;
}

/* Start children, up to K in flight and N in all; the ring watches each. */
static int start_children(struct spawner *s)
{
	while (s->started < s->n && s->inflight < s->k) {
		struct afork_child *c;

		if (afork_start_ctx(&c, &s->opts, child_main, &s->job) < 0) {
			if ((errno == EAGAIN || errno == ENOMEM) && s->inflight)
				break;	/* limits: wait for some to finish */
			perror("uring-spawner: afork_start_ctx");
			return -1;
		}
		s->started++;
		if (afork_uring_watch(s->u, c, (void *)(uintptr_t)s->started) < 0) {
			perror("uring-spawner: afork_uring_watch");
			return -1;
		}
		s->inflight++;
	}
	return 0;
}

/* Wait for the ring; report and free every child that exited. */
static int reap_children(struct spawner *s)
{
	struct io_uring_cqe *cqe;
	unsigned int head, seen = 0;
	int r;

	r = io_uring_submit_and_wait(&s->ring, 1);
	if (r < 0 && r != -EINTR) {
		fprintf(stderr, "uring-spawner: io_uring_submit_and_wait: %s\n",
			strerror(-r));
		return -1;
	}
	io_uring_for_each_cqe(&s->ring, head, cqe) {
		struct afork_uring_event ev;

		seen++;
		if (!afork_uring_owns(cqe) ||
		    afork_uring_handle(s->u, cqe, &ev) <= 0 ||
		    !(ev.events & AFORK_URING_EXITED))
			continue;
		s->failed += (unsigned long)report(&ev, s->quiet);
		afork_free(ev.child);
		s->inflight--;
		s->done++;
	}
	io_uring_cq_advance(&s->ring, seen);
	return 0;
}

/* The throughput, and which paths the helpers took. */
static void summary(const struct spawner *s, double t)
{
	unsigned int paths = afork_uring_paths(s->u);

	printf("uring-spawner: %lu children, at most %lu in flight, %lu failed, "
	       "%.3f s, %.0f children/s (backend %s, release %s, exit %s)\n",
	       s->n, s->k, s->failed, t, t > 0 ? (double)s->n / t : 0.0,
	       afork_backend_name(afork_backend()),
	       afork_uring_path_name(paths & (AFORK_URING_RELEASE_FUTEX |
					      AFORK_URING_RELEASE_POLL)),
	       afork_uring_path_name(paths & (AFORK_URING_EXIT_WAITID |
					      AFORK_URING_EXIT_POLL)));
}

int main(int argc, char **argv)
{
	struct spawner s = { .n = 1, .k = 1 };
	double t0, t;

	parse_args(&s, argc, argv);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (setup(&s))
		return 2;

	t0 = now();
	while (s.done < s.n) {
		if (start_children(&s) || reap_children(&s))
			return 2;
	}
	t = now() - t0;

	summary(&s, t);
	afork_uring_free(s.u);
	io_uring_queue_exit(&s.ring);
	return s.failed ? 1 : 0;
}
