// SPDX-License-Identifier: MIT
/*
 * The parent exits while hundreds of its afork children are in flight.
 *
 * The test process makes itself a child subreaper and forks a "middle"
 * process that starts AFORK_STRESS_INFLIGHT children (default 200) with
 * random flags (AFORK_NOSIGCHLD, AFORK_WAITPID) through every API, kills a
 * few of them, reports each child's pid and fate through a pipe, and then
 * exits (or is killed) with its children blocked on a gate.  The test
 * opens the gate; the children, still running in the dead parent's
 * memory, exit with their codes or exec a helper.  The subreaper must reap
 * every one of them and the middle with a plain waitpid(-1, &st, 0) (the
 * afork flags are dropped, or exit_signal reset, on reparenting), each
 * with its expected status, within a bounded time; then nothing is left.
 *
 * On the vfork backend every child in flight holds a worker thread, and
 * there are at most 256 of them: children past 240 do not wait at the gate.
 */
#include <sys/prctl.h>
#include <sys/signalfd.h>

#include "stress_util.h"

struct rec {
	pid_t pid;
	int code;		/* exit code, or -SIG when it was killed */
};

struct gate_job {
	int fd;			/* read end of the gate; -1: do not wait */
	int code;
	int exec;
};

static int child_gate(void *p)
{
	struct gate_job *j = p;
	char c;

	if (j->fd >= 0)
		afork_child_read(j->fd, &c, 1);		/* EOF when the gate opens */
	if (j->exec)
		afork_child_execve(stress_self, stress_helper_argv[j->code],
				   stress_empty_env);
	return j->code;
}

static void write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			_exit(100);
		p += n;
		len -= (size_t)n;
	}
}

/* The middle process: start @n children, report them, die. */
static void middle(int backend, int gate_rd, int report_wr, unsigned long n)
{
	struct gate_job *jobs = calloc(n, sizeof(*jobs));
	struct rng r;
	struct rec rec;
	unsigned long i;

	if (!jobs)
		_exit(101);
	rng_init(&r, stress_seed(), 7);
	for (i = 0; i < n; i++) {
		struct gate_job *j = &jobs[i];
		struct afork_child *c = NULL;
		struct afork_opts o;
		int flags = stress_flags((int)rng_below(&r, 4));
		pid_t pid;

		j->fd = backend == AFORK_BACKEND_VFORK && i >= 240 ? -1 : gate_rd;
		j->code = (int)rng_below(&r, 8);
		j->exec = rng_pct(&r, 20);
		switch (rng_below(&r, 3)) {
		case 0:
			pid = afork(child_gate, j);
			break;
		case 1:
			pid = aforkx(flags, child_gate, j);
			break;
		default:
			afork_opts_init(&o);
			o.flags = flags;
			o.options = (unsigned int)rng_below(&r, 4);	/* pidfd, release fd */
			pid = afork_start(&c, &o, child_gate, j) ? -1 : afork_pid(c);
			/* Keep the handle: it dies with this process. */
			break;
		}
		if (pid < 0)
			_exit(102);
		rec.pid = pid;
		rec.code = j->code;
		if (rng_pct(&r, 5)) {
			kill(pid, SIGKILL);
			rec.code = -SIGKILL;
		}
		write_all(report_wr, &rec, sizeof(rec));
	}
	rec.pid = 0;
	write_all(report_wr, &rec, sizeof(rec));
	if (rng_pct(&r, 50))
		raise(SIGKILL);
	_exit(0);
}

/* The children's records from @fd, up to the end marker: how many. */
static unsigned long read_records(struct __test_metadata *_metadata, int fd,
				  struct rec *recs, unsigned long n)
{
	unsigned long seen = 0;
	struct rec rec;

	for (;;) {
		size_t got = 0;

		while (got < sizeof(rec)) {
			ssize_t r = read(fd, (char *)&rec + got, sizeof(rec) - got);

			if (r < 0 && errno == EINTR)
				continue;
			ASSERT_GT(r, 0) TH_LOG("the middle process died early");
			got += (size_t)r;
		}
		if (!rec.pid)
			return seen;
		ASSERT_LT(seen, n);
		recs[seen++] = rec;
	}
}

/*
 * Is @st the status the record of @pid says (*want: the code recorded)?
 * 1 if so, 0 if not, -1 if @pid is no child we know.
 */
static int status_as_recorded(struct rec *recs, unsigned long n, pid_t pid,
			      int st, int *want)
{
	unsigned long i;

	for (i = 0; i < n && recs[i].pid != pid; i++)
		;
	if (i == n)
		return -1;
	recs[i].pid = -1;
	*want = recs[i].code;
	if (recs[i].code == -SIGKILL)
		return (WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL) || WIFEXITED(st);
	return WIFEXITED(st) && WEXITSTATUS(st) == recs[i].code;
}

/*
 * Nothing to reap right now: wait for the next SIGCHLD (@sfd), bounded.
 * A stuck child, or one hidden from waitpid(-1), fails the test.
 */
static void await_sigchld(struct __test_metadata *_metadata, int sfd,
			  unsigned long reaped, unsigned long total)
{
	struct signalfd_siginfo si;
	int left = any_child_left();

	ASSERT_NE(0, left);
	if (poll_revents(sfd, POLLIN, STRESS_TIMEOUT_MS) <= 0) {
		/* Stuck, or hidden from waitpid(-1): say which. */
		TH_LOG("%lu of %lu reaped; waitid(__WALL) sees %d",
		       reaped, total, left);
		ASSERT_TRUE(0);
	}
	while (read(sfd, &si, sizeof(si)) == sizeof(si))
		;
}

/*
 * Reap the middle process and every child with a plain waitpid(-1, &st,
 * 0): no flag may hide a child now.  How many ended otherwise than
 * recorded.
 */
static unsigned long reap_everyone(struct __test_metadata *_metadata, int sfd,
				   pid_t mid, struct rec *recs, unsigned long n)
{
	unsigned long reaped = 0, bad = 0;
	int st, middle_done = 0, ok, want;
	pid_t pid;

	while (reaped < n + 1) {
		pid = waitpid(-1, &st, WNOHANG);
		if (pid < 0 && errno == EINTR)
			continue;
		ASSERT_GE(pid, 0) TH_LOG("waitpid: %s with %lu of %lu reaped",
					 strerror(errno), reaped, n + 1);
		if (pid == 0) {
			await_sigchld(_metadata, sfd, reaped, n + 1);
			continue;
		}
		reaped++;
		if (pid == mid) {
			middle_done = 1;
			EXPECT_TRUE((WIFEXITED(st) && WEXITSTATUS(st) == 0) ||
				    (WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL))
				TH_LOG("middle process status %#x", st);
			continue;
		}
		ok = status_as_recorded(recs, n, pid, st, &want);
		if (ok < 0) {
			TH_LOG("reaped %d, which is no child we know", pid);
			bad++;
		} else if (!ok && bad++ < 5) {
			TH_LOG("child %d: status %#x, want %d", pid, st, want);
		}
	}
	EXPECT_TRUE(middle_done);
	return bad;
}

/* The parent exits with hundreds of children in flight; a subreaper reaps all. */
TEST_F_TIMEOUT(backend, parent_exits_in_flight, 600)
{
	unsigned long n = env_u64("AFORK_STRESS_INFLIGHT", 100);
	int gate[2], report[2], sfd, fds0;
	struct rec *recs = calloc(n + 1, sizeof(*recs));
	sigset_t chld;
	pid_t mid;

	ASSERT_NE(NULL, recs);
	fds0 = count_fds();
	ASSERT_EQ(0, prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0));
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	ASSERT_EQ(0, sigprocmask(SIG_BLOCK, &chld, NULL));
	sfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
	ASSERT_GE(sfd, 0);
	ASSERT_EQ(0, pipe2(gate, O_CLOEXEC));
	ASSERT_EQ(0, pipe2(report, O_CLOEXEC));

	mid = fork();
	ASSERT_GE(mid, 0);
	if (mid == 0) {
		close(gate[1]);
		close(report[0]);
		close(sfd);
		middle(self->id, gate[0], report[1], n);
	}
	close(report[1]);
	close(gate[0]);
	ASSERT_EQ(n, read_records(_metadata, report[0], recs, n));
	close(report[0]);

	/* Open the gate: every child goes on, in its dead parent's memory. */
	close(gate[1]);
	EXPECT_EQ(0ul, reap_everyone(_metadata, sfd, mid, recs, n));
	EXPECT_EQ(0, any_child_left());
	close(sfd);
	free(recs);
	EXPECT_EQ(fds0, count_fds());
	TH_LOG("%lu children in flight when their parent exited, all reaped by the subreaper",
	       n);
}

STRESS_MAIN
