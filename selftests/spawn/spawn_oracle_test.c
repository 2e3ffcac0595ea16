// SPDX-License-Identifier: MIT
/*
 * afork_spawn() against glibc's posix_spawn() as the oracle: the same file
 * actions and attributes, from the same parent state, in two fresh and
 * identical directories; the child (this binary run as --dump) writes down
 * what it can observe (fds with targets, flags and offsets, cwd, session,
 * process group, blocked and ignored signals, scheduler, ids, argv, env).
 * Both dumps, exit statuses and errnos must be equal.  Every TEST_F runs
 * once per backend.
 *
 * The afork side always asks for a pidfd and a release fd, so that the
 * library's own fds (the release pipe on the clone backends, the eventfd
 * on vfork) are in the child while the actions run: they must stay
 * invisible to them, as they are under glibc.
 *
 * The random test draws sequences of file actions from a seed, printed
 * first (SPAWN_SEED=n repeats a run, SPAWN_RANDOM_RUNS=n sets the count).
 */
#include <poll.h>
#include <spawn.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <time.h>

#include "spawn_test_util.h"
#include "kselftest_harness.h"

/* Each test spawns dozens of children: give the guest (TCG + KASAN) time. */
#undef TEST_TIMEOUT_DEFAULT
#define TEST_TIMEOUT_DEFAULT 300

enum op_kind { OP_OPEN, OP_CLOSE, OP_DUP2, OP_CHDIR, OP_FCHDIR, OP_CLOSEFROM,
	       OP_TCSETPGRP };

struct op {
	int kind;
	int fd, newfd;
	const char *path;
	int oflag;
	mode_t mode;
};

#define MAX_OPS 32

struct scenario {
	int nops;
	struct op ops[MAX_OPS];
	int flags;			/* POSIX_SPAWN_* */
	pid_t pgroup;
	int set_mask, set_def;		/* sigmask / sigdefault given */
	sigset_t mask, def;
	int policy;
	int prio;
	const char *prog;		/* NULL: the dump helper */
	int use_path;
	const char *path_env;		/* PATH for spawnp (NULL: leave) */
	const char *extra_arg;		/* one more argv for the helper */
	int helper_by_name;		/* spawnp the helper by its name */
	const char *helper;		/* the dump helper at this path */
};

struct outcome {
	int err;		/* spawn's errno (exec's for afork) */
	int status;		/* wait status, -1 if none */
	int step;		/* afork only */
	int dumped;
	char dump[32768];
};

/* The directory tree each run starts from, and the parent's open fds. */
static void make_tree(struct __test_metadata *_metadata, const char *run)
{
	char p[PATH_MAX + 256];

	ASSERT_EQ(0, mkdir(run, 0777));
#define MK(rel, text, mode) do {					\
		snprintf(p, sizeof(p), "%s/%s", run, rel);		\
		ASSERT_EQ(0, write_file(p, text, mode));		\
	} while (0)
#define MKD(rel) do {							\
		snprintf(p, sizeof(p), "%s/%s", run, rel);		\
		ASSERT_EQ(0, mkdir(p, 0777));				\
	} while (0)
	MK("file", "0123456789", 0644);
	MK("ro", "read only", 0444);
	MK("noexec", "#!/bin/sh\nexit 0\n", 0644);
	MK("script", "exit 0\n", 0755);		/* no #!: ENOEXEC */
	MKD("dir");
	MKD("dir/sub");
	MK("dir/sub/f", "sub", 0644);
	MKD("bin1");
	MKD("bin2");
	MK("bin1/prog", "not executable", 0644);	/* EACCES, go on */
#undef MK
#undef MKD
}

/* Parent fds: 10 file (rd), 11 dir, 12 file (rdwr, cloexec), 13/14 pipe. */
static void open_parent_fds(struct __test_metadata *_metadata, int *pipefd)
{
	int fd;

	fd = open("file", O_RDONLY);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(10, dup2(fd, 10));
	close(fd);
	fd = open("dir", O_RDONLY | O_DIRECTORY);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(11, dup2(fd, 11));
	close(fd);
	fd = open("file", O_RDWR);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(12, dup3(fd, 12, O_CLOEXEC));
	close(fd);
	/* One pipe for every run, so that both dumps name the same one. */
	if (fcntl(200, F_GETFD) < 0) {
		ASSERT_EQ(0, pipe(pipefd));
		ASSERT_EQ(200, dup3(pipefd[0], 200, O_CLOEXEC));
		ASSERT_EQ(201, dup3(pipefd[1], 201, O_CLOEXEC));
		close(pipefd[0]);
		close(pipefd[1]);
	}
	ASSERT_EQ(13, dup2(200, 13));
	ASSERT_EQ(14, dup2(201, 14));
	ASSERT_EQ(0, lseek(10, 3, SEEK_SET) == 3 ? 0 : -1);
}

static void close_parent_fds(void)
{
	int fd;

	for (fd = 10; fd <= 14; fd++)
		close(fd);
}

/* Build the argv for the dump helper (or the scenario's program). */
static void make_argv(const struct scenario *s, char *out, char *base,
		      char **argv)
{
	int i = 0;

	if (s->prog) {
		argv[i++] = (char *)s->prog;
	} else {
		argv[i++] = "dump";
		argv[i++] = "--dump";
		argv[i++] = out;
		argv[i++] = base;
		argv[i++] = "arg-one";
		argv[i++] = "arg two";
		if (s->extra_arg)
			argv[i++] = (char *)s->extra_arg;
	}
	argv[i] = NULL;
}

static char *envp_for_child[] = {
	"SPAWNTEST_A=1", "SPAWNTEST_B=two words", "PATH=/nonexistent", NULL
};

/* mkdir every directory of @path after its first @from bytes, not the last. */
static int mkdirs(char *path, size_t from)
{
	char *p = path + from;

	while ((p = strchr(p + 1, '/'))) {
		*p = 0;
		if (mkdir(path, 0777))
			return -1;
		*p = '/';
	}
	return 0;
}

/* @s's file actions for glibc's posix_spawn. */
static void glibc_actions(struct __test_metadata *_metadata, const struct scenario *s,
			  posix_spawn_file_actions_t *fa)
{
	int i, r;

	for (i = 0; i < s->nops; i++) {
		const struct op *op = &s->ops[i];

		switch (op->kind) {
		case OP_OPEN:
			r = posix_spawn_file_actions_addopen(fa, op->fd, op->path, op->oflag, op->mode);
			break;
		case OP_CLOSE:
			r = posix_spawn_file_actions_addclose(fa, op->fd);
			break;
		case OP_DUP2:
			r = posix_spawn_file_actions_adddup2(fa, op->fd, op->newfd);
			break;
		case OP_CHDIR:
			r = posix_spawn_file_actions_addchdir_np(fa, op->path);
			break;
		case OP_FCHDIR:
			r = posix_spawn_file_actions_addfchdir_np(fa, op->fd);
			break;
		case OP_CLOSEFROM:
			r = posix_spawn_file_actions_addclosefrom_np(fa, op->fd);
			break;
		default:
			r = posix_spawn_file_actions_addtcsetpgrp_np(fa, op->fd);
			break;
		}
		ASSERT_EQ(0, r);
	}
}

/* @s's attributes for glibc's posix_spawn. */
static void glibc_attrs(struct __test_metadata *_metadata, const struct scenario *s,
			posix_spawnattr_t *at)
{
	ASSERT_EQ(0, posix_spawnattr_setflags(at, (short)s->flags));
	ASSERT_EQ(0, posix_spawnattr_setpgroup(at, s->pgroup));
	if (s->set_mask)
		ASSERT_EQ(0, posix_spawnattr_setsigmask(at, &s->mask));
	if (s->set_def)
		ASSERT_EQ(0, posix_spawnattr_setsigdefault(at, &s->def));
	if (s->flags & POSIX_SPAWN_SETSCHEDULER)
		ASSERT_EQ(0, posix_spawnattr_setschedpolicy(at, s->policy));
	if (s->flags & (POSIX_SPAWN_SETSCHEDPARAM | POSIX_SPAWN_SETSCHEDULER)) {
		struct sched_param sp = { .sched_priority = s->prio };

		ASSERT_EQ(0, posix_spawnattr_setschedparam(at, &sp));
	}
}

/* Spawn @s with glibc's posix_spawn and reap the child. */
static void spawn_glibc(struct __test_metadata *_metadata, const struct scenario *s,
			const char *path, char **argv, struct outcome *o)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	pid_t pid = -1;

	ASSERT_EQ(0, posix_spawn_file_actions_init(&fa));
	ASSERT_EQ(0, posix_spawnattr_init(&at));
	glibc_actions(_metadata, s, &fa);
	glibc_attrs(_metadata, s, &at);
	if (s->use_path)
		o->err = posix_spawnp(&pid, path, &fa, &at, argv, envp_for_child);
	else
		o->err = posix_spawn(&pid, path, &fa, &at, argv, envp_for_child);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	if (!o->err)
		ASSERT_EQ(pid, waitpid(pid, &o->status, 0));
}

/* @s's file actions for afork_spawn. */
static void afork_actions(struct __test_metadata *_metadata, const struct scenario *s,
			  afork_spawn_file_actions_t *fa)
{
	int i, r;

	for (i = 0; i < s->nops; i++) {
		const struct op *op = &s->ops[i];

		switch (op->kind) {
		case OP_OPEN:
			r = afork_spawn_file_actions_addopen(fa, op->fd, op->path, op->oflag, op->mode);
			break;
		case OP_CLOSE:
			r = afork_spawn_file_actions_addclose(fa, op->fd);
			break;
		case OP_DUP2:
			r = afork_spawn_file_actions_adddup2(fa, op->fd, op->newfd);
			break;
		case OP_CHDIR:
			r = afork_spawn_file_actions_addchdir(fa, op->path);
			break;
		case OP_FCHDIR:
			r = afork_spawn_file_actions_addfchdir(fa, op->fd);
			break;
		case OP_CLOSEFROM:
			r = afork_spawn_file_actions_addclosefrom(fa, op->fd);
			break;
		default:
			r = afork_spawn_file_actions_addtcsetpgrp(fa, op->fd);
			break;
		}
		ASSERT_EQ(0, r);
	}
}

/* @s's attributes for afork_spawn, with a pidfd and a release fd. */
static void afork_attrs(struct __test_metadata *_metadata, const struct scenario *s,
			afork_spawnattr_t *at)
{
	struct sched_param sp = { .sched_priority = s->prio };

	ASSERT_EQ(0, afork_spawnattr_setflags(at, s->flags & ~POSIX_SPAWN_USEVFORK));
	ASSERT_EQ(0, afork_spawnattr_setpgroup(at, s->pgroup));
	if (s->set_mask)
		ASSERT_EQ(0, afork_spawnattr_setsigmask(at, &s->mask));
	if (s->set_def)
		ASSERT_EQ(0, afork_spawnattr_setsigdefault(at, &s->def));
	ASSERT_EQ(0, afork_spawnattr_setschedpolicy(at, s->policy));
	ASSERT_EQ(0, afork_spawnattr_setschedparam(at, &sp));
	ASSERT_EQ(0, afork_spawnattr_setafork(at, 0,
			AFORK_OPT_PIDFD | AFORK_OPT_RELEASE_FD));
}

/* Spawn @s with afork_spawn and reap the child. */
static void spawn_afork(struct __test_metadata *_metadata, const struct scenario *s,
			const char *path, char **argv, struct outcome *o)
{
	afork_spawn_file_actions_t fa;
	afork_spawnattr_t at;
	struct afork_child *c = NULL;
	pid_t pid = -1;
	int r;

	ASSERT_EQ(0, afork_spawn_file_actions_init(&fa));
	ASSERT_EQ(0, afork_spawnattr_init(&at));
	afork_actions(_metadata, s, &fa);
	afork_attrs(_metadata, s, &at);
	if (s->use_path)
		r = afork_spawnp(&c, &pid, path, &fa, &at, argv, envp_for_child);
	else
		r = afork_spawn(&c, &pid, path, &fa, &at, argv, envp_for_child);
	afork_spawn_file_actions_destroy(&fa);
	afork_spawnattr_destroy(&at);
	ASSERT_EQ(0, r);
	ASSERT_EQ(pid, afork_pid(c));
	o->status = afork_finish(c, &o->err, &o->step);
	ASSERT_NE(-2, o->status);
}

/*
 * Make @base and its fresh tree, and go to its run directory; *cwdfd:
 * where to come back to.  Back by descriptor, not by name: RESETIDS runs
 * with euid 65534, which may not search the path to it (a checkout under
 * /root, as in the clean room).  Far above the fds the runs compare.
 */
static void enter_run(struct __test_metadata *_metadata, const char *base,
		      int *cwdfd)
{
	char run[PATH_MAX + 128];
	int fd;

	/* Deep enough that no sequence of chdir("..") leaves base. */
	snprintf(run, sizeof(run), "%s/u/u/u/u/u/u/u/u/run", base);
	ASSERT_EQ(0, mkdir(base, 0777));
	ASSERT_EQ(0, mkdirs(run, strlen(base)));
	make_tree(_metadata, run);
	fd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	ASSERT_GE(fd, 0);
	*cwdfd = fcntl(fd, F_DUPFD_CLOEXEC, 300);
	close(fd);
	ASSERT_GE(*cwdfd, 300);
	ASSERT_EQ(0, chdir(run));
}

static void run_one(struct __test_metadata *_metadata, const char *tmp,
		    const char *tag, const struct scenario *s, int use_afork,
		    struct outcome *o)
{
	char base[PATH_MAX + 64], out[PATH_MAX + 128];
	char *argv[16];
	const char *path;
	int pipefd[2], cwdfd;
	char *old_path = getenv("PATH") ? strdup(getenv("PATH")) : NULL;

	memset(o, 0, sizeof(*o));
	o->status = -1;
	snprintf(base, sizeof(base), "%s/%s", tmp, tag);
	snprintf(out, sizeof(out), "%s/dump.out", base);
	enter_run(_metadata, base, &cwdfd);
	open_parent_fds(_metadata, pipefd);
	make_argv(s, out, base, argv);
	path = s->prog ? s->prog : s->helper ? s->helper : helper_path();
	if (s->helper_by_name)
		path = strrchr(helper_path(), '/') + 1;
	if (s->path_env)
		setenv("PATH", s->path_env, 1);

	if (use_afork)
		spawn_afork(_metadata, s, path, argv, o);
	else
		spawn_glibc(_metadata, s, path, argv, o);
	if (old_path)
		setenv("PATH", old_path, 1);
	free(old_path);
	close_parent_fds();
	ASSERT_EQ(0, fchdir(cwdfd));
	close(cwdfd);
	o->dumped = read_file(out, o->dump, sizeof(o->dump)) >= 0;
}

/*
 * glibc 2.36 sets its two internal signals (32 SIGCANCEL, 33 SIGSETXID) to
 * SIG_IGN in every posix_spawn child, before exec, whatever the parent
 * has: its child blocks every signal and then treats each blocked internal
 * signal as one to ignore.  The exec'd program inherits that.  afork_spawn
 * leaves the parent's dispositions, so the comparison leaves these two out
 * (documented in afork_spawn(3) and afork-preload(7)).  Both sides: a test
 * started by a glibc posix_spawn (make, say) has them ignored already.
 */
static void drop_glibc_internal_ign(char *dump)
{
	char *p = strstr(dump, "\nsigign ");
	unsigned long long v;

	if (!p)
		return;
	p += strlen("\nsigign ");
	v = strtoull(p, NULL, 16) & ~0x180000000ULL;
	/* Same width: 16 hex digits. */
	{
		char tmp[17];

		snprintf(tmp, sizeof(tmp), "%016llx", v);
		memcpy(p, tmp, 16);
	}
}

/* Run @s both ways and compare; returns 1 if they agree. */
static int compare(struct __test_metadata *_metadata, const char *tmp,
		   const struct scenario *s, int *n, struct outcome *g,
		   struct outcome *a)
{
	char tg[32], ta[32];
	int same;

	snprintf(tg, sizeof(tg), "g%d", *n);
	snprintf(ta, sizeof(ta), "a%d", *n);
	(*n)++;
	run_one(_metadata, tmp, tg, s, 0, g);
	run_one(_metadata, tmp, ta, s, 1, a);
	/* Both: a parent started by glibc's posix_spawn has them ignored. */
	drop_glibc_internal_ign(g->dump);
	drop_glibc_internal_ign(a->dump);
	same = g->err == a->err && g->dumped == a->dumped &&
	       !strcmp(g->dump, a->dump);
	if (!g->err)
		same = same && g->status == a->status;
	else
		same = same && WIFEXITED(a->status) &&
		       WEXITSTATUS(a->status) == 127;
	if (!same) {
		TH_LOG("glibc: err %d (%s) status 0x%x\n%s", g->err,
		       strerror(g->err), g->status, g->dump);
		TH_LOG("afork: err %d (%s) step %d status 0x%x\n%s", a->err,
		       strerror(a->err), a->step, a->status, a->dump);
	}
	return same;
}

SPAWN_BACKEND_FIXTURE(oracle, int n; struct outcome g; struct outcome a;);

FIXTURE_SETUP(oracle)
{
	SPAWN_BACKEND_SETUP();
	self->n = 0;
	ASSERT_NE(NULL, helper_path());
}

FIXTURE_TEARDOWN(oracle)
{
	SPAWN_BACKEND_TEARDOWN();
}

#define OPEN(f, p, fl, m) { .kind = OP_OPEN, .fd = f, .path = p, .oflag = fl, .mode = m }
#define CLOSE(f) { .kind = OP_CLOSE, .fd = f }
#define DUP2(f, nf) { .kind = OP_DUP2, .fd = f, .newfd = nf }
#define CHDIR(p) { .kind = OP_CHDIR, .path = p }
#define FCHDIR(f) { .kind = OP_FCHDIR, .fd = f }
#define CLOSEFROM(f) { .kind = OP_CLOSEFROM, .fd = f }
#define TCSETPGRP(f) { .kind = OP_TCSETPGRP, .fd = f }

#define SAME(...)							\
do {									\
	struct scenario s_ = { __VA_ARGS__ };				\
									\
	EXPECT_TRUE(compare(_metadata, self->tmp, &s_, &self->n,	\
			    &self->g, &self->a));			\
} while (0)

#define OPS(...) .ops = { __VA_ARGS__ },				\
	.nops = sizeof((struct op[]){ __VA_ARGS__ }) / sizeof(struct op)

/* No actions, no attributes: the inherited state is the same. */
TEST_F(oracle, plain)
{
	SAME(.nops = 0);
	EXPECT_EQ(0, self->a.err);
	EXPECT_EQ(1, self->a.dumped);
}

/* addopen: new file at a free fd, over an open fd, flags and modes. */
TEST_F(oracle, open)
{
	SAME(OPS(OPEN(5, "file", O_RDONLY, 0)));
	SAME(OPS(OPEN(10, "file", O_RDWR | O_APPEND, 0)));
	SAME(OPS(OPEN(0, "dir/sub/f", O_RDONLY, 0)));
	SAME(OPS(OPEN(7, "new", O_WRONLY | O_CREAT | O_EXCL, 0640)));
	SAME(OPS(OPEN(7, "file", O_WRONLY | O_TRUNC, 0)));
	SAME(OPS(OPEN(8, "dir", O_RDONLY | O_DIRECTORY, 0)));
	SAME(OPS(OPEN(3, "file", O_RDONLY | O_CLOEXEC, 0)));
	SAME(OPS(OPEN(10, "file", O_RDONLY | O_CLOEXEC, 0)));	/* lands on 10 */
	SAME(OPS(OPEN(7, "file", O_RDONLY | O_CLOEXEC, 0)));	/* dup2'ed to 7 */
	SAME(OPS(OPEN(9, "file", O_RDONLY, 0), OPEN(9, "ro", O_RDONLY, 0)));
}

/* addopen failures give the same errno. */
TEST_F(oracle, open_errors)
{
	SAME(OPS(OPEN(5, "missing", O_RDONLY, 0)));
	SAME(OPS(OPEN(5, "dir", O_WRONLY, 0)));		/* EISDIR */
	SAME(OPS(OPEN(5, "file/x", O_RDONLY, 0)));	/* ENOTDIR */
	SAME(OPS(OPEN(5, "file", O_WRONLY | O_CREAT | O_EXCL, 0600)));
	SAME(OPS(OPEN(5, "file", O_RDONLY | O_DIRECTORY, 0)));
	SAME(OPS(OPEN(5, "file", O_RDONLY, 0), OPEN(6, "missing", O_RDONLY, 0)));
	EXPECT_EQ(ENOENT, self->a.err);
	EXPECT_EQ(AFORK_SPAWN_STEP_ACTION + 1, self->a.step);
}

/* addclose: an open fd goes, an fd that is not open is no error. */
TEST_F(oracle, close)
{
	SAME(OPS(CLOSE(10)));
	SAME(OPS(CLOSE(13), CLOSE(14)));
	SAME(OPS(CLOSE(20)));
	SAME(OPS(CLOSE(0), CLOSE(1), CLOSE(2)));
	SAME(OPS(CLOSE(10), CLOSE(10)));
}

/* adddup2: copies, onto an open fd, onto itself (clears FD_CLOEXEC). */
TEST_F(oracle, dup2)
{
	SAME(OPS(DUP2(10, 5)));
	SAME(OPS(DUP2(13, 0), DUP2(14, 1)));
	SAME(OPS(DUP2(11, 10)));
	SAME(OPS(DUP2(12, 12)));	/* cloexec cleared: survives exec */
	SAME(OPS(DUP2(10, 10)));	/* not cloexec: no change */
	SAME(OPS(DUP2(12, 6)));
}

/* adddup2 failures: a source fd that is not open. */
TEST_F(oracle, dup2_errors)
{
	SAME(OPS(DUP2(20, 5)));
	SAME(OPS(DUP2(20, 20)));
	SAME(OPS(CLOSE(10), DUP2(10, 5)));
	EXPECT_EQ(EBADF, self->a.err);
	EXPECT_EQ(AFORK_SPAWN_STEP_ACTION + 1, self->a.step);
}

/* addchdir and addfchdir, and what relative opens see afterwards. */
TEST_F(oracle, chdir)
{
	SAME(OPS(CHDIR("dir")));
	SAME(OPS(CHDIR("dir"), CHDIR("sub"), OPEN(5, "f", O_RDONLY, 0)));
	SAME(OPS(CHDIR("..")));
	SAME(OPS(FCHDIR(11)));
	SAME(OPS(FCHDIR(11), OPEN(5, "sub/f", O_RDONLY, 0)));
	SAME(OPS(CHDIR("missing")));
	SAME(OPS(CHDIR("file")));		/* ENOTDIR */
	SAME(OPS(FCHDIR(10)));			/* ENOTDIR */
	SAME(OPS(FCHDIR(20)));			/* EBADF */
	SAME(OPS(OPEN(5, "dir", O_RDONLY | O_DIRECTORY, 0), FCHDIR(5), CLOSE(5)));
}

/* addclosefrom: everything from an fd up. */
TEST_F(oracle, closefrom)
{
	SAME(OPS(CLOSEFROM(3)));
	SAME(OPS(CLOSEFROM(11)));
	SAME(OPS(CLOSEFROM(0)));
	SAME(OPS(DUP2(13, 40), CLOSEFROM(14)));
	SAME(OPS(CLOSEFROM(12), OPEN(20, "file", O_RDONLY, 0)));
}

/* addtcsetpgrp on something that is not a terminal. */
TEST_F(oracle, tcsetpgrp)
{
	SAME(OPS(TCSETPGRP(13)));	/* ENOTTY */
	SAME(OPS(TCSETPGRP(20)));	/* EBADF */
}

/* The library's own fds in the child stay out of the actions' way. */
TEST_F(oracle, library_fds_hidden)
{
	int fd;

	/*
	 * The release pipe or eventfd takes the lowest free numbers, 3 and
	 * up: act on all of them as sources, targets and ranges.
	 */
	for (fd = 3; fd < 7; fd++) {
		SAME(OPS(DUP2(10, fd)));
		SAME(OPS(DUP2(fd, 20)));
		SAME(OPS(CLOSE(fd)));
		SAME(OPS(FCHDIR(fd)));
		SAME(OPS(DUP2(fd, fd)));
		SAME(OPS(OPEN(fd, "file", O_RDONLY, 0)));
	}
	SAME(OPS(DUP2(10, 3), DUP2(10, 4), DUP2(10, 5), DUP2(10, 6),
		 DUP2(10, 7), OPEN(8, "file", O_RDONLY | O_CLOEXEC, 0)));
}

/* The exec itself: argv, envp, and exec errors. */
TEST_F(oracle, exec)
{
	SAME(.extra_arg = "");
	SAME(.prog = "missing");			/* ENOENT */
	SAME(.prog = "noexec");				/* EACCES */
	SAME(.prog = "script");				/* ENOEXEC */
	SAME(.prog = "file/x");				/* ENOTDIR */
	SAME(.prog = "dir");				/* EACCES */
	EXPECT_EQ(EACCES, self->a.err);
	EXPECT_EQ(AFORK_SPAWN_STEP_EXEC, self->a.step);
}

/* spawnp: PATH search, EACCES on the way, slash, empty element. */
TEST_F(oracle, spawnp)
{
	char bin[PATH_MAX];

	SAME(.prog = "prog", .use_path = 1, .path_env = "bin1:bin2");
	SAME(.prog = "prog", .use_path = 1, .path_env = "bin2");
	SAME(.prog = "missing", .use_path = 1, .path_env = "bin1:bin2:/nonexistent");
	SAME(.prog = "script", .use_path = 1, .path_env = "bin2::");
	SAME(.prog = "./script", .use_path = 1, .path_env = "bin2");
	SAME(.prog = "", .use_path = 1, .path_env = "bin2");
	/* The helper found through PATH, by its name. */
	snprintf(bin, sizeof(bin), "%s", helper_path());
	*strrchr(bin, '/') = 0;
	SAME(.use_path = 1, .helper_by_name = 1, .path_env = bin);
	EXPECT_EQ(0, self->a.err);
	EXPECT_EQ(1, self->a.dumped);
}

/* setsid and setpgroup, and their errors. */
TEST_F(oracle, session_and_group)
{
	SAME(.flags = POSIX_SPAWN_SETSID);
	SAME(.flags = POSIX_SPAWN_SETPGROUP, .pgroup = 0);
	SAME(.flags = POSIX_SPAWN_SETPGROUP, .pgroup = getpgrp());
	SAME(.flags = POSIX_SPAWN_SETPGROUP, .pgroup = 0x7ffffff0);	/* EPERM */
	SAME(.flags = POSIX_SPAWN_SETSID | POSIX_SPAWN_SETPGROUP);	/* EPERM */
	EXPECT_EQ(EPERM, self->a.err);
	EXPECT_EQ(AFORK_SPAWN_STEP_SETPGROUP, self->a.step);
	SAME(.flags = POSIX_SPAWN_SETSID, OPS(CLOSEFROM(3)));
}

/* The signal mask: inherited, or set; and signals to default. */
TEST_F(oracle, signals)
{
	sigset_t m, old;
	struct scenario s;

	/* Inherited: the caller's mask. */
	sigemptyset(&m);
	sigaddset(&m, SIGUSR2);
	sigaddset(&m, SIGTERM);
	ASSERT_EQ(0, sigprocmask(SIG_BLOCK, &m, &old));
	SAME(.nops = 0);
	/* Set. */
	memset(&s, 0, sizeof(s));
	s.flags = POSIX_SPAWN_SETSIGMASK;
	s.set_mask = 1;
	sigemptyset(&s.mask);
	sigaddset(&s.mask, SIGUSR1);
	sigaddset(&s.mask, SIGHUP);
	EXPECT_TRUE(compare(_metadata, self->tmp, &s, &self->n, &self->g, &self->a));
	s.flags = 0;	/* given but not asked for */
	EXPECT_TRUE(compare(_metadata, self->tmp, &s, &self->n, &self->g, &self->a));
	ASSERT_EQ(0, sigprocmask(SIG_SETMASK, &old, NULL));

	/* Ignored signals stay ignored unless in sigdefault. */
	signal(SIGUSR1, SIG_IGN);
	signal(SIGUSR2, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	memset(&s, 0, sizeof(s));
	EXPECT_TRUE(compare(_metadata, self->tmp, &s, &self->n, &self->g, &self->a));
	s.flags = POSIX_SPAWN_SETSIGDEF;
	s.set_def = 1;
	sigemptyset(&s.def);
	sigaddset(&s.def, SIGUSR1);
	sigaddset(&s.def, SIGPIPE);
	sigaddset(&s.def, SIGKILL);	/* cannot be changed: ignored */
	EXPECT_TRUE(compare(_metadata, self->tmp, &s, &self->n, &self->g, &self->a));
	/* USR2 still ignored, USR1 and PIPE not (the rest as inherited). */
	ASSERT_NE(NULL, strstr(self->a.dump, "sigign "));
	EXPECT_EQ(0x800ULL, strtoull(strstr(self->a.dump, "sigign ") + 7, NULL, 16) &
			    ((1ULL << (SIGUSR1 - 1)) | (1ULL << (SIGUSR2 - 1)) |
			     (1ULL << (SIGPIPE - 1))));
	signal(SIGUSR1, SIG_DFL);
	signal(SIGUSR2, SIG_DFL);
	signal(SIGPIPE, SIG_DFL);
}

static void on_usr1(int sig)
{
	(void)sig;
}

/* A caught handler in the parent is default in the child, as with glibc. */
TEST_F(oracle, handlers)
{
	signal(SIGUSR1, on_usr1);
	signal(SIGINT, on_usr1);
	SAME(.nops = 0);
	SAME(.flags = POSIX_SPAWN_SETSIGMASK, .set_mask = 1);
	signal(SIGUSR1, SIG_DFL);
	signal(SIGINT, SIG_DFL);
}

/* Scheduler policy and parameters; an invalid one fails alike. */
TEST_F(oracle, scheduler)
{
	SAME(.flags = POSIX_SPAWN_SETSCHEDPARAM, .prio = 0);
	SAME(.flags = POSIX_SPAWN_SETSCHEDULER, .policy = SCHED_OTHER, .prio = 0);
	SAME(.flags = POSIX_SPAWN_SETSCHEDPARAM, .prio = 5);	/* EINVAL */
	SAME(.flags = POSIX_SPAWN_SETSCHEDULER, .policy = SCHED_OTHER, .prio = 3);
	if (geteuid() == 0) {
		SAME(.flags = POSIX_SPAWN_SETSCHEDULER, .policy = SCHED_FIFO, .prio = 1);
		SAME(.flags = POSIX_SPAWN_SETSCHEDULER, .policy = SCHED_RR, .prio = 2);
	}
}

/* SCHED_BATCH/SCHED_IDLE: glibc's attr refuses them, ours passes them on. */
TEST_F(oracle, scheduler_batch)
{
	struct outcome *a = &self->a;
	struct scenario s = { .flags = POSIX_SPAWN_SETSCHEDULER,
			      .policy = SCHED_BATCH };

	run_one(_metadata, self->tmp, "batch", &s, 1, a);
	EXPECT_EQ(0, a->err);
	EXPECT_TRUE(strstr(a->dump, "sched 3 prio 0\n") != NULL);
	s.policy = SCHED_IDLE;
	run_one(_metadata, self->tmp, "idle", &s, 1, a);
	EXPECT_EQ(0, a->err);
	EXPECT_TRUE(strstr(a->dump, "sched 5 prio 0\n") != NULL);
}

/*
 * A copy of the dump helper in the (mode 0777) scratch directory: a run
 * with euid 65534 may not search the path to the test binary (a checkout
 * under /root, as in the clean room), and would fail the exec instead.
 */
static void copy_helper(struct __test_metadata *_metadata, const char *dir,
			char *path, size_t size)
{
	struct stat st;
	int in, out;
	off_t off = 0;

	snprintf(path, size, "%s/dump-helper", dir);
	in = open(helper_path(), O_RDONLY | O_CLOEXEC);
	ASSERT_GE(in, 0);
	ASSERT_EQ(0, fstat(in, &st));
	out = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0755);
	ASSERT_GE(out, 0);
	while (off < st.st_size)
		ASSERT_LT(0, sendfile(out, in, &off, st.st_size - off));
	close(in);
	ASSERT_EQ(0, close(out));
}

/* RESETIDS: effective ids go back to the real ones (needs root). */
TEST_F(oracle, resetids)
{
	char helper[PATH_MAX + 32];

	SAME(.flags = POSIX_SPAWN_RESETIDS);
	if (getuid() != 0)
		SKIP(return, "needs root to have different real and effective ids");
	copy_helper(_metadata, self->tmp, helper, sizeof(helper));
	ASSERT_EQ(0, setresgid(-1, 65534, -1));
	ASSERT_EQ(0, setresuid(-1, 65534, -1));
	SAME(.helper = helper);
	EXPECT_TRUE(strstr(self->a.dump, "uid 0 65534 65534 gid 0 65534 65534\n") != NULL);
	SAME(.flags = POSIX_SPAWN_RESETIDS, .helper = helper);
	EXPECT_TRUE(strstr(self->a.dump, "uid 0 0 0 gid 0 0 0\n") != NULL);
	ASSERT_EQ(0, setresuid(-1, 0, -1));
	ASSERT_EQ(0, setresgid(-1, 0, -1));
}

/* Attributes and actions together, in glibc's order. */
TEST_F(oracle, combined)
{
	sigset_t m;

	sigemptyset(&m);
	sigaddset(&m, SIGUSR1);
	SAME(.flags = POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_RESETIDS,
	     .set_mask = 1, .mask = m,
	     OPS(CHDIR("dir"), OPEN(0, "sub/f", O_RDONLY, 0), DUP2(14, 1),
		 DUP2(1, 2), CLOSEFROM(3), OPEN(5, "/dev/null", O_WRONLY, 0)));
	SAME(.flags = POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_USEVFORK,
	     OPS(DUP2(12, 12), CLOSE(10), DUP2(11, 3), FCHDIR(3)));
}

/* ---------------------------------------------------------------- */
/* Random sequences of file actions                                  */
/* ---------------------------------------------------------------- */

static unsigned int rnd(unsigned long long *st, unsigned int n)
{
	*st = *st * 6364136223846793005ULL + 1442695040888963407ULL;
	return (unsigned int)(*st >> 33) % n;
}

static void random_scenario(unsigned long long *st, struct scenario *s)
{
	static const char *const paths[] = {
		"file", "ro", "dir", "dir/sub", "dir/sub/f", "missing",
		"new1", "new2", "..", "file/x", "/dev/null",
	};
	static const int oflags[] = {
		O_RDONLY, O_WRONLY | O_CREAT, O_RDWR | O_APPEND,
		O_RDONLY | O_DIRECTORY, O_WRONLY | O_TRUNC,
		O_CREAT | O_EXCL | O_WRONLY, O_RDONLY | O_CLOEXEC, O_RDWR,
	};
	static const char *const dirs[] = { "dir", "dir/sub", "..", "missing", "file", "sub" };
	int i;

	memset(s, 0, sizeof(*s));
	s->nops = 1 + (int)rnd(st, 8);
	for (i = 0; i < s->nops; i++) {
		struct op *op = &s->ops[i];

		op->fd = (int)rnd(st, 16);
		switch (rnd(st, 12)) {
		case 0: case 1: case 2:
			op->kind = OP_OPEN;
			op->path = paths[rnd(st, sizeof(paths) / sizeof(paths[0]))];
			op->oflag = oflags[rnd(st, sizeof(oflags) / sizeof(oflags[0]))];
			op->mode = rnd(st, 2) ? 0600 : 0644;
			break;
		case 3: case 4:
			op->kind = OP_CLOSE;
			break;
		case 5: case 6: case 7:
			op->kind = OP_DUP2;
			op->newfd = rnd(st, 5) ? (int)rnd(st, 16) : op->fd;
			break;
		case 8:
			op->kind = OP_CHDIR;
			op->path = dirs[rnd(st, sizeof(dirs) / sizeof(dirs[0]))];
			break;
		case 9:
			op->kind = OP_FCHDIR;
			break;
		case 10:
			op->kind = OP_CLOSEFROM;
			op->fd = 3 + (int)rnd(st, 13);
			break;
		default:
			op->kind = rnd(st, 4) ? OP_DUP2 : OP_CLOSE;
			op->newfd = (int)rnd(st, 16);
			break;
		}
	}
	if (!rnd(st, 4))
		s->flags |= POSIX_SPAWN_SETSID;
	if (!rnd(st, 4))
		s->flags |= POSIX_SPAWN_SETPGROUP;
}

static void log_scenario(struct __test_metadata *_metadata, const struct scenario *s)
{
	static const char *const names[] = { "open", "close", "dup2", "chdir",
					     "fchdir", "closefrom", "tcsetpgrp" };
	int i;

	for (i = 0; i < s->nops; i++)
		TH_LOG("  %s fd=%d newfd=%d path=%s oflag=0%o", names[s->ops[i].kind],
		       s->ops[i].fd, s->ops[i].newfd,
		       s->ops[i].path ? s->ops[i].path : "-", s->ops[i].oflag);
	TH_LOG("  flags 0x%x", s->flags);
}

/* Seeded random sequences of actions: both sides agree on every one. */
TEST_F_TIMEOUT(oracle, random_sequences, 300)
{
	const char *e = getenv("SPAWN_SEED");
	unsigned long long seed, st;
	unsigned int runs = 50, i, bad = 0;
	struct timespec t0, t1;
	struct scenario s;

	seed = e ? strtoull(e, NULL, 0) : (unsigned long long)time(NULL);
	if (getenv("SPAWN_RANDOM_RUNS"))
		runs = (unsigned int)atoi(getenv("SPAWN_RANDOM_RUNS"));
	ksft_print_msg("random_sequences: seed %llu (SPAWN_SEED=%llu to repeat), %u runs\n",
		       seed, seed, runs);
	st = seed;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < runs; i++) {
		random_scenario(&st, &s);
		if (!compare(_metadata, self->tmp, &s, &self->n, &self->g, &self->a)) {
			TH_LOG("run %u of seed %llu differs:", i, seed);
			log_scenario(_metadata, &s);
			bad++;
		}
		/* Keep the guest (TCG + KASAN) within its time. */
		clock_gettime(CLOCK_MONOTONIC, &t1);
		if (t1.tv_sec - t0.tv_sec >= 10 && !getenv("SPAWN_RANDOM_RUNS")) {
			ksft_print_msg("random_sequences: stopped after %u runs (time)\n", i + 1);
			break;
		}
		/* Start each run from an empty directory. */
		if (self->n >= 40) {
			remove_tmpdir(self->tmp);
			ASSERT_EQ(0, spawn_tmpdir(self->tmp, sizeof(self->tmp)));
			ASSERT_EQ(0, chmod(self->tmp, 0777));
			self->n = 0;
		}
	}
	EXPECT_EQ(0, bad);
}

/* ---------------------------------------------------------------- */
/* Argument checks of the add and set functions                      */
/* ---------------------------------------------------------------- */

/* The add functions refuse the same fds with the same error numbers. */
TEST(add_errors)
{
	posix_spawn_file_actions_t g;
	afork_spawn_file_actions_t a;
	struct rlimit rl;
	int bad[] = { -1, -100, 0 }, i;

	ASSERT_EQ(0, getrlimit(RLIMIT_NOFILE, &rl));
	bad[2] = (int)rl.rlim_cur;
	ASSERT_EQ(0, posix_spawn_file_actions_init(&g));
	ASSERT_EQ(0, afork_spawn_file_actions_init(&a));
	for (i = 0; i < 3; i++) {
		EXPECT_EQ(posix_spawn_file_actions_addclose(&g, bad[i]),
			  afork_spawn_file_actions_addclose(&a, bad[i]));
		EXPECT_EQ(posix_spawn_file_actions_addopen(&g, bad[i], "x", O_RDONLY, 0),
			  afork_spawn_file_actions_addopen(&a, bad[i], "x", O_RDONLY, 0));
		EXPECT_EQ(posix_spawn_file_actions_adddup2(&g, bad[i], 1),
			  afork_spawn_file_actions_adddup2(&a, bad[i], 1));
		EXPECT_EQ(posix_spawn_file_actions_adddup2(&g, 1, bad[i]),
			  afork_spawn_file_actions_adddup2(&a, 1, bad[i]));
		EXPECT_EQ(posix_spawn_file_actions_addfchdir_np(&g, bad[i]),
			  afork_spawn_file_actions_addfchdir(&a, bad[i]));
		EXPECT_EQ(posix_spawn_file_actions_addclosefrom_np(&g, bad[i]),
			  afork_spawn_file_actions_addclosefrom(&a, bad[i]));
		EXPECT_EQ(posix_spawn_file_actions_addtcsetpgrp_np(&g, bad[i]),
			  afork_spawn_file_actions_addtcsetpgrp(&a, bad[i]));
	}
	EXPECT_EQ(EBADF, afork_spawn_file_actions_addclose(&a, -1));
	EXPECT_EQ(EINVAL, afork_spawn_file_actions_addclose_range(&a, 5, 4, 0));
	EXPECT_EQ(EINVAL, afork_spawn_file_actions_addclose_range(&a, 3, 4, 2));
	EXPECT_EQ(0, afork_spawn_file_actions_addclose_range(&a, 3, 4, 4));
	posix_spawn_file_actions_destroy(&g);
	afork_spawn_file_actions_destroy(&a);
}

/* Attribute setters: unknown flags are refused like glibc's. */
TEST(attr_errors)
{
	posix_spawnattr_t g;
	afork_spawnattr_t a;
	int f;

	ASSERT_EQ(0, posix_spawnattr_init(&g));
	ASSERT_EQ(0, afork_spawnattr_init(&a));
	EXPECT_EQ(posix_spawnattr_setflags(&g, 0x4000),
		  afork_spawnattr_setflags(&a, 0x4000));
	EXPECT_EQ(0, afork_spawnattr_setflags(&a, AFORK_SPAWN_SETSID));
	EXPECT_EQ(0, afork_spawnattr_getflags(&a, &f));
	EXPECT_EQ(AFORK_SPAWN_SETSID, f);
	EXPECT_EQ(EINVAL, afork_spawnattr_setafork(&a, 0x100, 0));
	EXPECT_EQ(EINVAL, afork_spawnattr_setafork(&a, 0, AFORK_OPT_SIGMASK));
	afork_spawnattr_destroy(&a);
	EXPECT_EQ(EINVAL, afork_spawnattr_setflags(&a, 0));	/* destroyed */
	posix_spawnattr_destroy(&g);
}

SPAWN_MAIN()
