/* SPDX-License-Identifier: MIT */
/*
 * Helpers for the spawn tests: the state-dumping helper program (this test
 * binary re-exec'd with --dump), the per-backend fixture, reading files.
 *
 *   prog --dump OUT BASE [args...]
 *
 * writes to OUT one line per observable thing of the process as exec'd:
 * open fds (target, fdinfo flags and offset), cwd, session and process
 * group (PID when equal to its own pid), blocked and ignored signals,
 * scheduler policy and priority, real/effective/saved ids, argv and the
 * SPAWNTEST_* environment.  Paths under BASE are written as BASE..., so
 * that two runs in two directories compare equal.  Exits 0.
 */
#ifndef SPAWN_TEST_UTIL_H
#define SPAWN_TEST_UTIL_H

#include <dirent.h>
#include <sched.h>
#include <stdarg.h>
#include <sys/resource.h>

#include "../lib/afork_test_util.h"
#include <afork_spawn.h>
#include "kselftest_harness.h"
#include "../common/backend_fixture.h"

extern char **environ;

struct strbuf {
	char s[512 * 1024];
	size_t n;
};

static inline void sb_printf(struct strbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->n >= sizeof(b->s))
		return;
	va_start(ap, fmt);
	n = vsnprintf(b->s + b->n, sizeof(b->s) - b->n, fmt, ap);
	va_end(ap);
	if (n > 0)
		b->n += (size_t)n;
	if (b->n >= sizeof(b->s))
		b->n = sizeof(b->s) - 1;
}

/* @path with a leading @base replaced by "BASE". */
static inline void sb_path(struct strbuf *b, const char *path, const char *base)
{
	size_t n = strlen(base);

	if (n && !strncmp(path, base, n) && (path[n] == '/' || !path[n]))
		sb_printf(b, "BASE%s", path + n);
	else
		sb_printf(b, "%s", path);
}

static inline int fd_cmp(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

/* "Name:\tvalue" of /proc/self/status, into @out. */
static inline void status_field(const char *name, char *out, size_t len)
{
	FILE *f = fopen("/proc/self/status", "re");
	char line[256];
	size_t n = strlen(name);

	snprintf(out, len, "?");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, name, n) && line[n] == ':') {
			char *v = line + n + 1;

			while (*v == '\t' || *v == ' ')
				v++;
			v[strcspn(v, "\n")] = 0;
			snprintf(out, len, "%s", v);
			break;
		}
	}
	fclose(f);
}

/* This process's open fds, sorted, into @fds (at most @max): how many. */
static inline int open_fds(int *fds, int max)
{
	struct dirent *de;
	DIR *d = opendir("/proc/self/fd");
	int nfd = 0, fd;

	if (!d)
		return -1;
	while ((de = readdir(d)) && nfd < max) {
		if (de->d_name[0] == '.')
			continue;
		fd = atoi(de->d_name);
		if (fd != dirfd(d))
			fds[nfd++] = fd;
	}
	closedir(d);
	qsort(fds, (size_t)nfd, sizeof(int), fd_cmp);
	return nfd;
}

/* One line per open fd: its target, its flags (and offset under @base). */
static inline int dump_fds(struct strbuf *b, const char *base)
{
	char path[PATH_MAX], tgt[PATH_MAX], line[256];
	int fds[1024], nfd, i;
	ssize_t n;

	/* Open fds first, before this program opens anything else. */
	nfd = open_fds(fds, 1024);
	if (nfd < 0)
		return -1;
	for (i = 0; i < nfd; i++) {
		FILE *f;
		long pos = -1;
		unsigned long flags = 0;

		snprintf(path, sizeof(path), "/proc/self/fd/%d", fds[i]);
		n = readlink(path, tgt, sizeof(tgt) - 1);
		if (n < 0)
			continue;	/* this program's own, already gone */
		tgt[n] = 0;
		snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fds[i]);
		f = fopen(path, "re");
		while (f && fgets(line, sizeof(line), f)) {
			sscanf(line, "pos: %ld", &pos);
			sscanf(line, "flags: %lo", &flags);
		}
		if (f)
			fclose(f);
		sb_printf(b, "fd %d ", fds[i]);
		sb_path(b, tgt, base);
		/* Offsets of the test's own output files move as it logs. */
		if (!strncmp(tgt, base, strlen(base)))
			sb_printf(b, " flags=%lo pos=%ld\n", flags, pos);
		else
			sb_printf(b, " flags=%lo\n", flags);
	}
	return 0;
}

/* cwd, session, process group, signals, scheduler and ids. */
static inline void dump_process(struct strbuf *b, const char *base)
{
	pid_t pid = getpid(), sid = getsid(0), pgid = getpgrp();
	char tgt[PATH_MAX], field[128];
	struct sched_param sp;
	uid_t r, e, s;
	gid_t gr, ge, gs;

	if (getcwd(tgt, sizeof(tgt))) {
		sb_printf(b, "cwd ");
		sb_path(b, tgt, base);
		sb_printf(b, "\n");
	}
	if (sid == pid)
		sb_printf(b, "sid PID\n");
	else
		sb_printf(b, "sid %d\n", (int)sid);
	if (pgid == pid)
		sb_printf(b, "pgid PID\n");
	else
		sb_printf(b, "pgid %d\n", (int)pgid);
	status_field("SigBlk", field, sizeof(field));
	sb_printf(b, "sigblk %s\n", field);
	status_field("SigIgn", field, sizeof(field));
	sb_printf(b, "sigign %s\n", field);
	status_field("SigCgt", field, sizeof(field));
	sb_printf(b, "sigcgt %s\n", field);
	memset(&sp, 0, sizeof(sp));
	sched_getparam(0, &sp);
	sb_printf(b, "sched %d prio %d\n", sched_getscheduler(0),
		  sp.sched_priority);
	getresuid(&r, &e, &s);
	getresgid(&gr, &ge, &gs);
	sb_printf(b, "uid %d %d %d gid %d %d %d\n", (int)r, (int)e, (int)s,
		  (int)gr, (int)ge, (int)gs);
}

static inline int dump_state(int argc, char **argv)
{
	static struct strbuf b;
	const char *out = argv[2], *base = argv[3];
	int i, fd;

	if (dump_fds(&b, base))
		return 90;
	dump_process(&b, base);
	for (i = 4; i < argc; i++)
		sb_printf(&b, "arg %s\n", argv[i]);
	for (i = 0; environ[i]; i++)
		if (!strncmp(environ[i], "SPAWNTEST_", 10))
			sb_printf(&b, "env %s\n", environ[i]);

	fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
	if (fd < 0)
		return 91;
	if (write(fd, b.s, b.n) != (ssize_t)b.n)
		return 92;
	close(fd);
	return 0;
}

/* Read a whole (small) file into @buf; -1 if missing. */
static inline int read_file(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n, t = 0;

	buf[0] = 0;
	if (fd < 0)
		return -1;
	while ((n = read(fd, buf + t, len - 1 - (size_t)t)) > 0)
		t += n;
	close(fd);
	buf[t] = 0;
	return (int)t;
}

/* Re-exec'd as a helper: --dump (above) or --helper (afork_test_util.h). */
static inline int spawn_helper_main(int argc, char **argv, int *handled)
{
	*handled = 1;
	if (argc > 3 && !strcmp(argv[1], "--dump"))
		return dump_state(argc, argv);
	if (argc > 1 && !strcmp(argv[1], "--helper"))
		return run_helper(argc, argv);
	*handled = 0;
	return 0;
}

#define SPAWN_MAIN()							\
int main(int argc, char **argv)						\
{									\
	int handled, r = spawn_helper_main(argc, argv, &handled);	\
									\
	if (handled)							\
		return r;						\
	return test_harness_run(argc, argv);				\
}

/* The per-backend fixture (../common/backend_fixture.h), with a tmpdir. */
#define SPAWN_BACKEND_FIXTURE(name, extra)				\
	AFORK_BACKEND_FIXTURE(name, char tmp[PATH_MAX]; extra)

/*
 * A temporary directory, on tmpfs when there is one: the oracle tests make
 * and remove thousands of small files, which is slow on overlayfs.
 */
static inline int spawn_tmpdir(char *buf, size_t len)
{
	struct stat st;

	if (!getenv("TMPDIR") && !stat("/dev/shm", &st) && S_ISDIR(st.st_mode) &&
	    !access("/dev/shm", W_OK)) {
		snprintf(buf, len, "/dev/shm/afork-spawn-test-XXXXXX");
		if (mkdtemp(buf))
			return 0;
	}
	return make_tmpdir(buf, len);
}

/* Setup: force the variant's backend (skip if absent), make a tmpdir. */
#define SPAWN_BACKEND_SETUP()						\
do {									\
	self->tmp[0] = 0;						\
	AFORK_BACKEND_SETUP();						\
	ASSERT_EQ(0, spawn_tmpdir(self->tmp, sizeof(self->tmp)));	\
	ASSERT_EQ(0, chmod(self->tmp, 0777));				\
} while (0)

#define SPAWN_BACKEND_TEARDOWN()					\
do {									\
	if (self->tmp[0] && remove_tmpdir(self->tmp))			\
		TH_LOG("could not remove %s", self->tmp);		\
} while (0)

/* Wait for an afork child: release, exec errno, then its status. */
static inline int afork_finish(struct afork_child *c, int *exec_err, int *step)
{
	int st = -1;

	if (afork_wait_release(c, 30000))
		return -2;
	*exec_err = afork_exec_errno(c);
	if (step)
		*step = afork_error_step(c);
	while (afork_wait(c, &st, 0) < 0 && errno == EINTR)
		;
	afork_free(c);
	return st;
}

/*
 * Until the command of a popen stream has exited, and so has the shield
 * if there is one, without reaping it; then its release.
 */
static inline void popen_wait_exited(struct __test_metadata *_metadata, FILE *f)
{
	struct afork_child *c = afork_popen_child(f);

	ASSERT_NE(NULL, c);
	/* pidfd_open's ESRCH: the shield reaped it already. */
	ASSERT_EQ(0, wait_exit_unreaped(afork_pid(c), 30000));
	ASSERT_EQ(0, afork_wait_release(c, 30000));
}

#endif /* SPAWN_TEST_UTIL_H */
