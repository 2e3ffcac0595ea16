// SPDX-License-Identifier: MIT
/*
 * A program that spawns through libc in every way the preload library
 * takes over, and prints what it sees: return values, errnos, statuses,
 * the output of its children and their state (fds, cwd, session, group,
 * signals).  preload_test.sh runs it with and without
 * LD_PRELOAD=libafork-preload.so: the two outputs must be the same.
 * Pids are never printed, only how they relate.
 *
 *   preload_probe DIR           run everything (DIR: a scratch directory)
 *   preload_probe --state       print this process's state (the child)
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static char self[4096];

static void status_line(const char *name, char *out, size_t len)
{
	FILE *f = fopen("/proc/self/status", "re");
	char line[256];
	size_t n = strlen(name);

	snprintf(out, len, "?");
	while (f && fgets(line, sizeof(line), f)) {
		if (!strncmp(line, name, n) && line[n] == ':') {
			snprintf(out, len, "%s", line + n + 2);
			out[strcspn(out, "\n")] = 0;
		}
	}
	if (f)
		fclose(f);
}

/* The child: its state on stdout. */
static int state(void)
{
	char path[64], tgt[4096], v[64];
	unsigned long long ign;
	int fd;
	ssize_t n;

	for (fd = 0; fd < 64; fd++) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		n = readlink(path, tgt, sizeof(tgt) - 1);
		if (n < 0)
			continue;
		tgt[n] = 0;
		if (!strncmp(tgt, "pipe:", 5))
			strcpy(tgt, "pipe");
		printf("fd %d %s cloexec=%d\n", fd, tgt, !!(fcntl(fd, F_GETFD) & FD_CLOEXEC));
	}
	if (getcwd(tgt, sizeof(tgt)))
		printf("cwd %s\n", tgt);
	printf("session-leader %d group-leader %d\n", getsid(0) == getpid(),
	       getpgrp() == getpid());
	status_line("SigBlk", v, sizeof(v));
	printf("sigblk %s\n", v);
	status_line("SigIgn", v, sizeof(v));
	/*
	 * glibc 2.36 leaves its internal signals 32 and 33 ignored in every
	 * posix_spawn child; afork does not (afork-preload(7)).
	 */
	ign = strtoull(v, NULL, 16) & ~0x180000000ULL;
	printf("sigign %016llx\n", ign);
	printf("euid-is-ruid %d\n", geteuid() == getuid());
	return 0;
}

/* Spawn, print the result and the child's output and status. */
static void run(const char *what, int usepath, const char *path,
		posix_spawn_file_actions_t *fa, posix_spawnattr_t *attr,
		char *const argv[])
{
	posix_spawn_file_actions_t own;
	int p[2], r, st = -1;
	pid_t pid = -12345;
	char buf[8192];
	ssize_t n, t = 0;

	if (pipe2(p, O_CLOEXEC))
		exit(2);
	if (!fa) {
		posix_spawn_file_actions_init(&own);
		fa = &own;
	}
	posix_spawn_file_actions_adddup2(fa, p[1], 1);
	if (usepath)
		r = posix_spawnp(&pid, path, fa, attr, argv, environ);
	else
		r = posix_spawn(&pid, path, fa, attr, argv, environ);
	close(p[1]);
	while ((n = read(p[0], buf + t, sizeof(buf) - 1 - (size_t)t)) > 0)
		t += n;
	buf[t] = 0;
	close(p[0]);
	if (!r && waitpid(pid, &st, 0) != pid)
		st = -2;
	printf("== %s: ret %d (%s) pid %s status 0x%x\n%s", what, r,
	       r ? strerror(r) : "ok", r ? (pid == -12345 ? "untouched" : "CHANGED")
					: (pid > 0 ? "set" : "bad"), st, buf);
	if (fa == &own)
		posix_spawn_file_actions_destroy(&own);
}

static void spawns(const char *dir)
{
	char *sh[] = { "sh", "-c", "echo \"$0\" \"$@\"; exit 3", "zero", "one two", NULL };
	char *st[] = { "probe", "--state", NULL };
	char *none[] = { "x", NULL };
	char p[4200];
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t s;

	run("sh args", 0, "/bin/sh", NULL, NULL, sh);
	run("spawnp sh", 1, "sh", NULL, NULL, sh);
	run("state plain", 0, self, NULL, NULL, st);
	run("missing", 0, "/nonexistent/x", NULL, NULL, none);
	run("spawnp missing", 1, "no-such-program-anywhere", NULL, NULL, none);
	snprintf(p, sizeof(p), "%s/noexec", dir);
	run("noexec", 0, p, NULL, NULL, none);
	snprintf(p, sizeof(p), "%s/script", dir);
	run("script without #!", 0, p, NULL, NULL, none);
	snprintf(p, sizeof(p), "%s/noexec/x", dir);
	run("enotdir", 0, p, NULL, NULL, none);

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 5, "/etc/passwd", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY | O_CLOEXEC, 0);
	posix_spawn_file_actions_adddup2(&fa, 5, 7);
	posix_spawn_file_actions_addclose(&fa, 5);
	posix_spawn_file_actions_addclose(&fa, 40);
	posix_spawn_file_actions_addchdir_np(&fa, dir);
	posix_spawn_file_actions_addchdir_np(&fa, "sub");
	run("state actions", 0, self, &fa, NULL, st);
	posix_spawn_file_actions_destroy(&fa);

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addclosefrom_np(&fa, 3);
	posix_spawn_file_actions_addfchdir_np(&fa, 0);
	run("fchdir on a non-dir", 0, self, &fa, NULL, st);
	posix_spawn_file_actions_destroy(&fa);

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 4, "/nonexistent/file", O_RDONLY, 0);
	run("open fails", 0, self, &fa, NULL, st);
	posix_spawn_file_actions_destroy(&fa);

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, 50, 4);
	run("dup2 fails", 0, self, &fa, NULL, st);
	posix_spawn_file_actions_destroy(&fa);

	posix_spawnattr_init(&at);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSID);
	run("setsid", 0, self, NULL, &at, st);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP);
	posix_spawnattr_setpgroup(&at, 0);
	run("setpgroup", 0, self, NULL, &at, st);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSID);
	run("setsid+setpgroup", 0, self, NULL, &at, st);
	sigemptyset(&s);
	sigaddset(&s, SIGUSR1);
	sigaddset(&s, SIGTERM);
	posix_spawnattr_setsigmask(&at, &s);
	sigemptyset(&s);
	sigaddset(&s, SIGPIPE);
	posix_spawnattr_setsigdefault(&at, &s);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
				 POSIX_SPAWN_RESETIDS | POSIX_SPAWN_USEVFORK);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	run("signals and ids", 0, self, NULL, &at, st);
	signal(SIGPIPE, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	posix_spawnattr_destroy(&at);
}

static void popens(void)
{
	const char *const modes[] = { "r", "re", "er", "w", "we", "rw", "x", "", NULL };
	char buf[256];
	FILE *f;
	int i;

	for (i = 0; modes[i]; i++) {
		errno = 0;
		f = popen(modes[i][0] == 'w' || modes[i][1] == 'w' ?
			  "cat > /dev/null; exit 5" : "echo out; exit 6", modes[i]);
		if (!f) {
			printf("== popen \"%s\": NULL (%s)\n", modes[i], strerror(errno));
			continue;
		}
		printf("== popen \"%s\": cloexec %d\n", modes[i],
		       !!(fcntl(fileno(f), F_GETFD) & FD_CLOEXEC));
		if (strchr(modes[i], 'r')) {
			while (fgets(buf, sizeof(buf), f))
				printf("read %s", buf);
		} else {
			fputs("data\n", f);
		}
		printf("pclose 0x%x\n", pclose(f));
	}
	/* Earlier streams are closed in later children. */
	{
		FILE *a = popen("cat >/dev/null", "w");
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "test -e /proc/self/fd/%d && echo open || echo closed",
			 fileno(a));
		f = popen(cmd, "r");
		if (fgets(buf, sizeof(buf), f))
			printf("earlier stream in later child: %s", buf);
		printf("pclose 0x%x 0x%x\n", pclose(f), pclose(a));
	}
	/* A command that does not exist: sh says 127. */
	f = popen("no-such-command-anywhere 2>/dev/null", "r");
	printf("== popen missing command: %s, pclose 0x%x\n", f ? "stream" : "NULL",
	       f ? pclose(f) : -1);
}

static void systems(void)
{
	printf("== system exit 4: 0x%x\n", system("exit 4"));
	printf("== system NULL: %d\n", system(NULL));
	printf("== system kill -TERM: 0x%x\n", system("kill -TERM $$"));
	printf("== system missing: 0x%x\n", system("no-such-command-anywhere 2>/dev/null"));
	printf("== system output:\n");
	fflush(stdout);
	system("echo from system");
}

int main(int argc, char **argv)
{
	char p[4200];
	ssize_t n;
	int i;

	if (argc > 1 && !strcmp(argv[1], "--state"))
		return state();
	if (argc < 2) {
		fprintf(stderr, "usage: preload_probe DIR\n");
		return 2;
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n < 0)
		return 2;
	self[n] = 0;
	setvbuf(stdout, NULL, _IOLBF, 0);
	snprintf(p, sizeof(p), "%s/noexec", argv[1]);
	close(open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644));
	snprintf(p, sizeof(p), "%s/script", argv[1]);
	close(open(p, O_WRONLY | O_CREAT | O_TRUNC, 0755));
	snprintf(p, sizeof(p), "%s/sub", argv[1]);
	mkdir(p, 0755);

	spawns(argv[1]);
	popens();
	systems();
	/* Many in a row: nothing leaks (fds are listed by the last state). */
	for (i = 0; i < 50; i++) {
		char *t[] = { "true", NULL };
		pid_t pid;
		int st;

		if (posix_spawnp(&pid, "true", NULL, NULL, t, environ) ||
		    waitpid(pid, &st, 0) != pid || st)
			printf("spawn %d failed\n", i);
	}
	{
		char *st[] = { "probe", "--state", NULL };

		run("state at the end", 0, self, NULL, NULL, st);
	}
	return 0;
}
