// SPDX-License-Identifier: MIT
/*
 * spawn_diff: differential fuzzing of afork_spawn() against glibc's
 * posix_spawn(), on every libafork backend.
 *
 *   spawn_diff [-s SEED] [-n CASES] [-t SECONDS] [-i CASE] [-v]
 *
 * Each case draws, from (seed, case number): the parent's blocked mask and
 * ignored signals; up to 10 file actions (open with assorted flags and
 * paths, close, dup2 including fd == newfd, chdir, fchdir, closefrom) on
 * fds 0-12, where fds 5 (read-only, offset 2) and 6 (close-on-exec) come
 * from the parent; the attributes (SETSIGMASK with a random mask,
 * SETSIGDEF with a random set, SETSID, SETPGROUP, RESETIDS,
 * SETSCHEDULER/SETSCHEDPARAM with SCHED_OTHER or SCHED_FIFO 1); spawn or
 * spawnp (PATH search).  The same case runs through posix_spawn() from one
 * fresh directory and through afork_spawn() from an identical twin; both
 * exec this program as a probe that writes down what it can observe: every
 * open fd below 64 with its target (relative to its directory), status
 * flags, offset and close-on-exec bit; the cwd; the blocked and ignored
 * signals; whether it leads its session and process group; its scheduler;
 * its ids.  The results must agree: both fail with the same errno
 * (posix_spawn's return value, afork_exec_errno() after release, the afork
 * child exiting 127), or both succeed with identical reports.
 *
 * Not compared: the afork side's own pidfd and release fd (close-on-exec,
 * so gone after exec, like glibc's internal pipe).  TAP via kselftest.h,
 * one line per backend; a backend the kernel lacks is skipped.  Without
 * -n/-t: 25 cases per backend (make check); make fuzz runs thousands.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <afork.h>
#include <afork_spawn.h>

#include "fuzz_rng.h"
#include "kselftest.h"

#define MAX_ACTS 10
#define MAX_FD 12
#define REPORT_MAX 8192

enum act_kind { ACT_OPEN, ACT_CLOSE, ACT_DUP2, ACT_CHDIR, ACT_FCHDIR, ACT_CLOSEFROM };
static const char *const act_name[] = {
	"open", "close", "dup2", "chdir", "fchdir", "closefrom",
};

struct act {
	enum act_kind kind;
	int fd, newfd, oflag;
	mode_t mode;
	const char *path;
};

struct scase {
	uint64_t n;
	int nacts;
	struct act acts[MAX_ACTS];
	int flags;			/* POSIX_SPAWN_* (same values as AFORK_SPAWN_*) */
	sigset_t mask, sigdef;
	int policy, prio;
	int spawnp;
	uint64_t parent_mask, parent_ign;
};

static struct {
	uint64_t seed, cases;
	double seconds;
	int64_t only;
	int verbose;
} opt = { 0, 25, 0, -1, 0 };

static char self[PATH_MAX], self_dir[PATH_MAX], self_base[NAME_MAX + 1];
static char tmpdir[256];

/* ------------------------------------------------------------------ */
/* The probe: what an exec'd child can observe                         */
/* ------------------------------------------------------------------ */

static void add(char *buf, size_t *len, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf + *len, REPORT_MAX - *len, fmt, ap);
	va_end(ap);
	if (n > 0 && *len + (size_t)n < REPORT_MAX)
		*len += (size_t)n;
}

/* A path with the run directory replaced by "$RUN". */
static void rel(char *out, size_t n, const char *path, const char *run)
{
	size_t l = strlen(run);

	if (!strncmp(path, run, l) && (path[l] == '/' || !path[l]))
		snprintf(out, n, "$RUN%s", path + l);
	else if (!strncmp(path, "pipe:", 5))
		snprintf(out, n, "pipe");
	else
		snprintf(out, n, "%s", path);
}

static int probe(const char *report, const char *run)
{
	char buf[REPORT_MAX], path[PATH_MAX], link[64], r[PATH_MAX + 8];
	struct sched_param sp;
	uint64_t blocked = 0, ign = 0;
	size_t len = 0;
	sigset_t m;
	int fd, sig, f;

	for (fd = 0; fd < 64; fd++) {
		ssize_t k;
		int fdfl = fcntl(fd, F_GETFD);

		if (fdfl < 0)
			continue;
		snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
		k = readlink(link, path, sizeof(path) - 1);
		path[k > 0 ? k : 0] = 0;
		rel(r, sizeof(r), path, run);
		f = fcntl(fd, F_GETFL);
		add(buf, &len, "fd %d %s fl=%#x cloexec=%d off=%lld\n", fd, r,
		    f & ~O_LARGEFILE, fdfl & FD_CLOEXEC, (long long)lseek(fd, 0, SEEK_CUR));
	}
	if (getcwd(path, sizeof(path))) {
		rel(r, sizeof(r), path, run);
		add(buf, &len, "cwd %s\n", r);
	}
	sigprocmask(SIG_BLOCK, NULL, &m);
	for (sig = 1; sig < 65; sig++) {
		struct sigaction sa;

		if (sigismember(&m, sig) == 1)
			blocked |= 1ULL << (sig - 1);
		if (sig != SIGKILL && sig != SIGSTOP && !sigaction(sig, NULL, &sa) &&
		    sa.sa_handler == SIG_IGN)
			ign |= 1ULL << (sig - 1);
	}
	add(buf, &len, "blocked %#" PRIx64 " ignored %#" PRIx64 "\n", blocked, ign);
	add(buf, &len, "session-leader %d group-leader %d\n", getsid(0) == getpid(),
	    getpgid(0) == getpid());
	sched_getparam(0, &sp);
	add(buf, &len, "sched %d/%d ids %d %d %d %d\n", sched_getscheduler(0),
	    sp.sched_priority, getuid(), geteuid(), getgid(), getegid());

	fd = open(report, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, buf, len) != (ssize_t)len)
		return 3;
	close(fd);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Cases                                                               */
/* ------------------------------------------------------------------ */

static uint64_t rnd_mask(struct rng *r)
{
	uint64_t m = rng_pct(r, 50) ? rng_next(r) : rng_next(r) & rng_next(r);

	/* Not KILL/STOP, nor glibc's internal 32 and 33. */
	return m & ~((1ULL << (SIGKILL - 1)) | (1ULL << (SIGSTOP - 1)) |
		     (1ULL << 31) | (1ULL << 32));
}

static void to_sigset(uint64_t m, sigset_t *s)
{
	int sig;

	sigemptyset(s);
	for (sig = 1; sig < 65; sig++)
		if (m & (1ULL << (sig - 1)))
			sigaddset(s, sig);
}

static void draw_case(uint64_t n, struct scase *c)
{
	static const char *const paths[] = {
		"a", "b", "c", "d", "d/x", "missing/x", "a/x", "/dev/null",
	};
	static const int oflags[] = {
		O_RDONLY, O_WRONLY | O_CREAT, O_RDWR | O_CREAT | O_TRUNC,
		O_RDONLY | O_DIRECTORY, O_WRONLY | O_APPEND, O_RDONLY | O_CLOEXEC,
		O_CREAT | O_EXCL | O_WRONLY, O_RDWR | O_NONBLOCK,
	};
	static const char *const dirs[] = { "d", "d/..", "missing", "a", "." };
	struct rng r;
	int i;

	memset(c, 0, sizeof(*c));
	rng_init(&r, opt.seed, n);
	c->n = n;
	c->nacts = (int)rng_below(&r, MAX_ACTS + 1);
	for (i = 0; i < c->nacts; i++) {
		struct act *a = &c->acts[i];

		a->fd = (int)rng_below(&r, MAX_FD + 1);
		switch (rng_below(&r, 12)) {
		case 0: case 1: case 2: case 3:
			a->kind = ACT_OPEN;
			a->path = paths[rng_below(&r, sizeof(paths) / sizeof(paths[0]))];
			a->oflag = oflags[rng_below(&r, sizeof(oflags) / sizeof(oflags[0]))];
			a->mode = rng_pct(&r, 50) ? 0600 : 0644;
			break;
		case 4: case 5:
			a->kind = ACT_CLOSE;
			break;
		case 6: case 7: case 8:
			a->kind = ACT_DUP2;
			a->newfd = rng_pct(&r, 20) ? a->fd : (int)rng_below(&r, MAX_FD + 1);
			break;
		case 9:
			a->kind = ACT_CHDIR;
			a->path = dirs[rng_below(&r, sizeof(dirs) / sizeof(dirs[0]))];
			break;
		case 10:
			a->kind = ACT_FCHDIR;
			break;
		default:
			a->kind = ACT_CLOSEFROM;
			a->fd = 3 + (int)rng_below(&r, MAX_FD - 2);
			break;
		}
	}
	if (rng_pct(&r, 30)) {
		c->flags |= POSIX_SPAWN_SETSIGMASK;
		to_sigset(rnd_mask(&r), &c->mask);
	}
	if (rng_pct(&r, 30)) {
		c->flags |= POSIX_SPAWN_SETSIGDEF;
		to_sigset(rnd_mask(&r), &c->sigdef);
	}
	if (rng_pct(&r, 15))
		c->flags |= POSIX_SPAWN_SETSID;
	if (rng_pct(&r, 15))
		c->flags |= POSIX_SPAWN_SETPGROUP;
	if (rng_pct(&r, 10))
		c->flags |= POSIX_SPAWN_RESETIDS;
	if (rng_pct(&r, 8)) {
		c->flags |= rng_pct(&r, 50) ? POSIX_SPAWN_SETSCHEDULER
					    : POSIX_SPAWN_SETSCHEDPARAM;
		c->policy = rng_pct(&r, 60) ? SCHED_OTHER : SCHED_FIFO;
		c->prio = c->policy == SCHED_FIFO ? 1 : 0;
	}
	c->spawnp = rng_pct(&r, 20);
	c->parent_mask = rnd_mask(&r) & ~(1ULL << (SIGCHLD - 1)) & ~(1ULL << (SIGTERM - 1));
	c->parent_ign = rnd_mask(&r) & ~(1ULL << (SIGCHLD - 1)) & ~(1ULL << (SIGTERM - 1)) &
			~(1ULL << (SIGINT - 1));
}

static void print_case(const struct scase *c)
{
	char line[1024];
	size_t len = 0;
	int i;

	for (i = 0; i < c->nacts; i++) {
		const struct act *a = &c->acts[i];

		len += (size_t)snprintf(line + len, sizeof(line) - len, " %s(%d", act_name[a->kind], a->fd);
		if (a->kind == ACT_DUP2)
			len += (size_t)snprintf(line + len, sizeof(line) - len, ",%d", a->newfd);
		if (a->path)
			len += (size_t)snprintf(line + len, sizeof(line) - len, ",%s,%#o", a->path, a->oflag);
		len += (size_t)snprintf(line + len, sizeof(line) - len, ")");
		if (len >= sizeof(line) - 64)
			break;
	}
	ksft_print_msg("case %" PRIu64 ":%s; flags %#x%s, parent mask %#" PRIx64
		       " ignored %#" PRIx64 "\n", c->n, len ? line : " no actions",
		       c->flags, c->spawnp ? ", spawnp" : "", c->parent_mask, c->parent_ign);
}

/* ------------------------------------------------------------------ */
/* Running a case both ways                                            */
/* ------------------------------------------------------------------ */

static int rm_one(const char *p, const struct stat *sb, int type, struct FTW *f)
{
	(void)sb;
	(void)type;
	(void)f;
	return remove(p);
}

/* A fresh run directory: a (10 bytes), b (empty), d/ (with x). */
static int make_run(const char *dir)
{
	char p[PATH_MAX];
	int fd;

	if (mkdir(dir, 0700))
		return -1;
	snprintf(p, sizeof(p), "%s/a", dir);
	fd = open(p, O_WRONLY | O_CREAT, 0644);
	if (fd < 0 || write(fd, "0123456789", 10) != 10)
		return -1;
	close(fd);
	snprintf(p, sizeof(p), "%s/b", dir);
	fd = open(p, O_WRONLY | O_CREAT, 0644);
	if (fd < 0)
		return -1;
	close(fd);
	snprintf(p, sizeof(p), "%s/d", dir);
	if (mkdir(p, 0700))
		return -1;
	snprintf(p, sizeof(p), "%s/d/x", dir);
	fd = open(p, O_WRONLY | O_CREAT, 0644);
	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}

static int read_file(const char *path, char *buf, size_t n)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t k;

	if (fd < 0)
		return -1;
	k = read(fd, buf, n - 1);
	close(fd);
	buf[k > 0 ? k : 0] = 0;
	return k < 0 ? -1 : 0;
}

struct outcome {
	int err;		/* 0: exec'd; else the errno of the failed step */
	int status;		/* the child's wait status (-1: no child) */
	char report[REPORT_MAX];
};

/* The parent's state for a case: mask and ignored signals. */
static void parent_state(const struct scase *c, sigset_t *old)
{
	sigset_t m;
	int sig;

	for (sig = 1; sig < 65; sig++) {
		if (sig == SIGKILL || sig == SIGSTOP || sig == 32 || sig == 33 ||
		    sig == SIGCHLD || sig == SIGTERM || sig == SIGINT)
			continue;
		signal(sig, (c->parent_ign >> (sig - 1)) & 1 ? SIG_IGN : SIG_DFL);
	}
	to_sigset(c->parent_mask, &m);
	sigprocmask(SIG_SETMASK, &m, old);
}

static void parent_restore(const sigset_t *old)
{
	int sig;

	sigprocmask(SIG_SETMASK, old, NULL);
	for (sig = 1; sig < 65; sig++)
		if (sig != SIGKILL && sig != SIGSTOP && (sig < 32 || sig > 33))
			signal(sig, SIG_DFL);
}

static void run_glibc(const struct scase *c, const char *dir, const char *report,
		      struct outcome *o)
{
	char *argv[] = { self_base, "--probe", (char *)report, (char *)dir, NULL };
	char *envp[] = { "PATH=/nonexistent:", NULL };
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	struct sched_param sp = { .sched_priority = c->prio };
	sigset_t old;
	pid_t pid;
	int i, r, st;

	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&at);
	for (i = 0; i < c->nacts; i++) {
		const struct act *a = &c->acts[i];

		switch (a->kind) {
		case ACT_OPEN:
			posix_spawn_file_actions_addopen(&fa, a->fd, a->path, a->oflag, a->mode);
			break;
		case ACT_CLOSE:
			posix_spawn_file_actions_addclose(&fa, a->fd);
			break;
		case ACT_DUP2:
			posix_spawn_file_actions_adddup2(&fa, a->fd, a->newfd);
			break;
		case ACT_CHDIR:
			posix_spawn_file_actions_addchdir_np(&fa, a->path);
			break;
		case ACT_FCHDIR:
			posix_spawn_file_actions_addfchdir_np(&fa, a->fd);
			break;
		case ACT_CLOSEFROM:
			posix_spawn_file_actions_addclosefrom_np(&fa, a->fd);
			break;
		}
	}
	posix_spawnattr_setflags(&at, (short)c->flags);
	posix_spawnattr_setsigmask(&at, &c->mask);
	posix_spawnattr_setsigdefault(&at, &c->sigdef);
	posix_spawnattr_setpgroup(&at, 0);
	posix_spawnattr_setschedpolicy(&at, c->policy);
	posix_spawnattr_setschedparam(&at, &sp);

	o->status = -1;
	if (chdir(dir))
		ksft_exit_fail_msg("chdir %s: %s\n", dir, strerror(errno));
	parent_state(c, &old);
	if (c->spawnp) {
		/* PATH search: a missing directory first, then ours. */
		char path[PATH_MAX + 32];

		snprintf(path, sizeof(path), "/nonexistent:%s", self_dir);
		setenv("PATH", path, 1);
		r = posix_spawnp(&pid, self_base, &fa, &at, argv, envp);
	} else {
		r = posix_spawn(&pid, self, &fa, &at, argv, envp);
	}
	parent_restore(&old);
	o->err = r;
	if (!r) {
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
		o->status = st;
	}
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
}

static void run_afork(const struct scase *c, const char *dir, const char *report,
		      struct outcome *o)
{
	char *argv[] = { self_base, "--probe", (char *)report, (char *)dir, NULL };
	char *envp[] = { "PATH=/nonexistent:", NULL };
	afork_spawn_file_actions_t fa;
	afork_spawnattr_t at;
	struct sched_param sp = { .sched_priority = c->prio };
	struct afork_child *ch = NULL;
	sigset_t old;
	int i, r, st;

	afork_spawn_file_actions_init(&fa);
	afork_spawnattr_init(&at);
	for (i = 0; i < c->nacts; i++) {
		const struct act *a = &c->acts[i];

		switch (a->kind) {
		case ACT_OPEN:
			afork_spawn_file_actions_addopen(&fa, a->fd, a->path, a->oflag, a->mode);
			break;
		case ACT_CLOSE:
			afork_spawn_file_actions_addclose(&fa, a->fd);
			break;
		case ACT_DUP2:
			afork_spawn_file_actions_adddup2(&fa, a->fd, a->newfd);
			break;
		case ACT_CHDIR:
			afork_spawn_file_actions_addchdir(&fa, a->path);
			break;
		case ACT_FCHDIR:
			afork_spawn_file_actions_addfchdir(&fa, a->fd);
			break;
		case ACT_CLOSEFROM:
			afork_spawn_file_actions_addclosefrom(&fa, a->fd);
			break;
		}
	}
	afork_spawnattr_setflags(&at, c->flags);
	afork_spawnattr_setsigmask(&at, &c->mask);
	afork_spawnattr_setsigdefault(&at, &c->sigdef);
	afork_spawnattr_setpgroup(&at, 0);
	afork_spawnattr_setschedpolicy(&at, c->policy);
	afork_spawnattr_setschedparam(&at, &sp);
	afork_spawnattr_setafork(&at, 0, AFORK_OPT_PIDFD | AFORK_OPT_RELEASE_FD);

	o->status = -1;
	if (chdir(dir))
		ksft_exit_fail_msg("chdir %s: %s\n", dir, strerror(errno));
	parent_state(c, &old);
	if (c->spawnp) {
		char path[PATH_MAX + 32];

		snprintf(path, sizeof(path), "/nonexistent:%s", self_dir);
		setenv("PATH", path, 1);
		r = afork_spawnp(&ch, NULL, self_base, &fa, &at, argv, envp);
	} else {
		r = afork_spawn(&ch, NULL, self, &fa, &at, argv, envp);
	}
	parent_restore(&old);
	o->err = r;
	if (!r) {
		if (afork_wait_release(ch, 60000))
			ksft_print_msg("afork_spawn child %d not released in 60 s\n",
				       afork_pid(ch));
		o->err = afork_exec_errno(ch);
		while (afork_wait(ch, &st, 0) < 0 && errno == EINTR)
			;
		o->status = st;
		afork_free(ch);
	}
	afork_spawn_file_actions_destroy(&fa);
	afork_spawnattr_destroy(&at);
}

/* 1 if both ways agree on case @n, else 0 (and says how they differ). */
static int run_case(uint64_t n, const char *backend)
{
	static struct outcome g, a;
	char da[PATH_MAX], db[PATH_MAX], ra[PATH_MAX + 16], rb[PATH_MAX + 16];
	struct scase c;
	int same;

	draw_case(n, &c);
	if (opt.verbose)
		print_case(&c);
	snprintf(da, sizeof(da), "%s/%" PRIu64 "-glibc", tmpdir, n);
	snprintf(db, sizeof(db), "%s/%" PRIu64 "-afork", tmpdir, n);
	snprintf(ra, sizeof(ra), "%s.report", da);
	snprintf(rb, sizeof(rb), "%s.report", db);
	if (make_run(da) || make_run(db))
		ksft_exit_fail_msg("run directories: %s\n", strerror(errno));

	run_glibc(&c, da, ra, &g);
	run_afork(&c, db, rb, &a);
	if (chdir(tmpdir))
		ksft_exit_fail_msg("chdir %s: %s\n", tmpdir, strerror(errno));
	g.report[0] = a.report[0] = 0;
	if (!g.err)
		read_file(ra, g.report, sizeof(g.report));
	if (!a.err)
		read_file(rb, a.report, sizeof(a.report));

	same = g.err == a.err;
	if (same && !g.err)
		same = g.status == a.status && !strcmp(g.report, a.report);
	/* A failed step makes the afork child exit with 127. */
	if (same && g.err)
		same = WIFEXITED(a.status) && WEXITSTATUS(a.status) == 127;
	if (!same) {
		if (!opt.verbose)
			print_case(&c);
		ksft_print_msg("%s: posix_spawn: %s, status %#x; afork_spawn: %s, status %#x "
			       "[replay: spawn_diff -s %" PRIu64 " -i %" PRIu64 " -v]\n",
			       backend, strerror(g.err), g.status, strerror(a.err),
			       a.status, opt.seed, n);
		if (!g.err && !a.err && strcmp(g.report, a.report)) {
			ksft_print_msg("posix_spawn's child:\n%s", g.report);
			ksft_print_msg("afork_spawn's child:\n%s", a.report);
		}
	}
	nftw(da, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	nftw(db, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	remove(ra);
	remove(rb);
	return same;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* In a child process: every case on one backend; exit status = differences. */
static int run_backend(const char *backend, uint64_t *done)
{
	uint64_t i, bad = 0;
	double t0 = now();
	int shared;

	setenv("AFORK_BACKEND", backend, 1);
	if (afork_backend() < 0)
		return -1;
	/*
	 * The parent's fds the actions play with: 5 (offset 2) and 6
	 * (cloexec), and no other below 64 but 0-2, whatever the test
	 * inherited (make's jobserver pipe may hold 3 and 4).
	 */
	close_range(3, 63, 0);
	shared = open(self, O_RDONLY | O_CLOEXEC);
	if (shared < 0 || dup2(shared, 5) != 5 || lseek(5, 2, SEEK_SET) != 2 ||
	    dup3(shared, 6, O_CLOEXEC) != 6)
		ksft_exit_fail_msg("parent fds: %s\n", strerror(errno));
	close(shared);
	if (opt.only >= 0) {
		*done = 1;
		return !run_case((uint64_t)opt.only, backend);
	}
	for (i = 0; i < opt.cases; i++) {
		if (opt.seconds > 0 && now() - t0 > opt.seconds)
			break;
		if (!run_case(i, backend) && bad++ > 20)
			break;
	}
	*done = i;
	return bad > 250 ? 250 : (int)bad;
}

/* The options; 0 if the run can go on, else the exit status to end with. */
static int parse_args(int argc, char **argv)
{
	int c, t_given = 0;

	while ((c = getopt(argc, argv, "s:n:t:i:v")) != -1) {
		switch (c) {
		case 's': opt.seed = strtoull(optarg, NULL, 0); break;
		case 'n':
			opt.cases = strtoull(optarg, NULL, 0);
			if (!t_given)
				opt.seconds = 0;
			break;
		case 't': opt.seconds = strtod(optarg, NULL); t_given = 1; break;
		case 'i': opt.only = (int64_t)strtoull(optarg, NULL, 0); break;
		case 'v': opt.verbose = 1; break;
		default:
			fprintf(stderr, "usage: spawn_diff [-s SEED] [-n CASES] [-t SECONDS] "
				"[-i CASE] [-v]\n");
			return 2;
		}
	}
	if (!opt.seed)
		opt.seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	return 0;
}

/* This program's path, its directory and name, and a tmpdir: 0, or -1. */
static int setup_paths(void)
{
	char tmpl[] = "/tmp/spawn_diff.XXXXXX";
	ssize_t k = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (k <= 0)
		return -1;
	self[k] = 0;
	snprintf(self_dir, sizeof(self_dir), "%s", self);
	*strrchr(self_dir, '/') = 0;
	snprintf(self_base, sizeof(self_base), "%s", strrchr(self, '/') + 1);
	if (!mkdtemp(tmpl))
		return -1;
	snprintf(tmpdir, sizeof(tmpdir), "%s", tmpl);
	return 0;
}

/* A close-on-exec pipe above the fds that run_backend() closes and sets up. */
static int high_pipe(int pfd[2])
{
	int i, k;

	if (pipe(pfd))
		return -1;
	for (i = 0; i < 2; i++) {
		k = fcntl(pfd[i], F_DUPFD_CLOEXEC, 64);
		if (k < 0)
			return -1;
		close(pfd[i]);
		pfd[i] = k;
	}
	return 0;
}

/* Every case on @backend in a child process, and its TAP line: 0, or -1. */
static int test_backend(const char *backend)
{
	int pfd[2], st;
	uint64_t done = 0;
	pid_t pid;

	if (high_pipe(pfd))
		return -1;
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		int r = run_backend(backend, &done);

		if (write(pfd[1], &done, sizeof(done)) != sizeof(done))
			_exit(255);
		_exit(r < 0 ? 254 : r);
	}
	close(pfd[1]);
	if (read(pfd[0], &done, sizeof(done)) != sizeof(done))
		done = 0;
	close(pfd[0]);
	waitpid(pid, &st, 0);
	if (WIFEXITED(st) && WEXITSTATUS(st) == 254)
		ksft_test_result_skip("%s: backend not available\n", backend);
	else if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		ksft_test_result_pass("%s: %" PRIu64 " cases, posix_spawn and "
				      "afork_spawn agree\n", backend, done);
	else
		ksft_test_result_fail("%s: %d case(s) differ in %" PRIu64 " (status %#x)\n",
				      backend, WIFEXITED(st) ? WEXITSTATUS(st) : -1,
				      done, st);
	return 0;
}

int main(int argc, char **argv)
{
	static const char *const backends[] = { "syscall", "clone3", "clone-legacy", "vfork" };
	int i, r;

	if (argc == 4 && !strcmp(argv[1], "--probe"))
		return probe(argv[2], argv[3]);
	r = parse_args(argc, argv);
	if (r)
		return r;
	if (setup_paths())
		return 1;

	setvbuf(stdout, NULL, _IOLBF, 0);
	ksft_print_header();
	ksft_set_plan(4);
	ksft_print_msg("seed %" PRIu64 ", %" PRIu64 " cases per backend%s "
		       "(replay: spawn_diff -s %" PRIu64 " [-i CASE -v])\n", opt.seed,
		       opt.only >= 0 ? 1 : opt.cases, opt.seconds > 0 ? " at most" : "",
		       opt.seed);
	for (i = 0; i < 4; i++)
		if (test_backend(backends[i]))
			return 1;
	nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	ksft_finished();
}
