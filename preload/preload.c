/* SPDX-License-Identifier: MIT */
/*
 * libafork-preload.so: LD_PRELOAD it to run a program's posix_spawn,
 * posix_spawnp, popen, pclose and system on afork, with libc's
 * synchronous semantics:
 *
 *  - posix_spawn/posix_spawnp wait for the child's release (exec or exit)
 *    and return the exec's errno themselves, reaping the failed child and
 *    leaving *pid alone, as glibc does; the child is an ordinary child
 *    (SIGCHLD, seen by wait(-1)), as glibc's;
 *  - popen waits for the exec too and fails with its errno; its child is
 *    started with AFORK_WAITPID|AFORK_NOSIGCHLD, and pclose returns its
 *    status (see afork-preload(7) for what differs from glibc);
 *  - system ignores SIGINT/SIGQUIT process-wide and blocks SIGCHLD, as
 *    glibc's, on a child that only it reaps.
 *
 * AFORK_PRELOAD_ASYNC=1 opts into an asynchronous posix_spawn: it returns
 * as soon as the child exists, and a failure after that point (the exec's
 * errno, a file action's) is reported as POSIX allows, as the child's exit
 * status 127.  The caller's thread then blocks for the child's creation
 * only, not until the exec; afork-preload(7) says who gains by it.
 *
 * Anything it cannot translate goes to libc's own function (dlsym
 * RTLD_NEXT), counted by reason; AFORK_PRELOAD_STATS=1 prints the counts
 * to stderr at exit (AFORK_PRELOAD_STATS=/path appends them to a file),
 * for every process that made at least one call.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "preload.h"

enum { C_SPAWN, C_SPAWNP, C_POPEN, C_SYSTEM, C_N };

static unsigned long via_afork[C_N];
static unsigned long fallbacks[FB_N];

static const char *const call_names[C_N] = {
	"posix_spawn", "posix_spawnp", "popen", "system",
};
static const char *const fb_names[FB_N] = {
	[FB_LAYOUT] = "file-actions-layout",
	[FB_ACTION] = "file-action",
	[FB_FLAGS] = "attr-flags",
	[FB_BACKEND] = "no-backend",
	[FB_START] = "start-failed",
	[FB_MODE] = "popen-mode",
};

static void count(unsigned long *c)
{
	__atomic_fetch_add(c, 1, __ATOMIC_RELAXED);
}

/* libc's own functions. */
typedef int (*spawn_fn)(pid_t *, const char *, const posix_spawn_file_actions_t *,
			const posix_spawnattr_t *, char *const[], char *const[]);
typedef FILE *(*popen_fn)(const char *, const char *);
typedef int (*pclose_fn)(FILE *);
typedef int (*system_fn)(const char *);

static spawn_fn real_spawn, real_spawnp;
static popen_fn real_popen;
static pclose_fn real_pclose;
static system_fn real_system;
static pthread_once_t real_once = PTHREAD_ONCE_INIT;

static int spawn_async;	/* AFORK_PRELOAD_ASYNC=1 */

static void find_real(void)
{
	const char *a = getenv("AFORK_PRELOAD_ASYNC");

	spawn_async = a && !strcmp(a, "1");
	real_spawn = (spawn_fn)dlsym(RTLD_NEXT, "posix_spawn");
	real_spawnp = (spawn_fn)dlsym(RTLD_NEXT, "posix_spawnp");
	real_popen = (popen_fn)dlsym(RTLD_NEXT, "popen");
	real_pclose = (pclose_fn)dlsym(RTLD_NEXT, "pclose");
	real_system = (system_fn)dlsym(RTLD_NEXT, "system");
}

static void real(void)
{
	pthread_once(&real_once, find_real);
}

static int backend_ok(void)
{
	int saved = errno, b = afork_backend();

	errno = saved;
	return b > 0;
}

static int do_spawn(int which, pid_t *pid, const char *path,
		    const posix_spawn_file_actions_t *fa,
		    const posix_spawnattr_t *attr, char *const argv[],
		    char *const envp[])
{
	struct spawn_actions acts;
	struct spawn_attr sa;
	struct spawn_req req;
	struct afork_child *c;
	int saved = errno, fb, r, e;

	real();
	fb = backend_ok() ? 0 : FB_BACKEND;
	acts.a = NULL;
	if (!fb)
		fb = preload_attr(attr, &sa);
	if (!fb)
		fb = preload_file_actions(fa, &acts);
	if (!fb) {
		memset(&req, 0, sizeof(req));
		req.path = path;
		req.use_path = which == C_SPAWNP;
		req.fa = acts.n ? &acts : NULL;
		req.attr = &sa;
		req.argv = argv;
		req.envp = envp;
		r = afork__spawn(&c, &req);
		free(acts.a);
		if (r == -EINVAL && !path) {
			errno = saved;
			return EINVAL;
		}
		if (r < 0)
			fb = FB_START;
	}
	if (fb) {
		count(&fallbacks[fb]);
		errno = saved;
		return (which == C_SPAWNP ? real_spawnp : real_spawn)(pid, path, fa, attr,
									argv, envp);
	}
	count(&via_afork[which]);
	/* Asynchronous: a later failure is the child's exit status 127. */
	e = 0;
	if (!spawn_async) {
		afork_wait_release(c, -1);
		e = afork_exec_errno(c);
	}
	if (e > 0) {
		/* As glibc: the failed child is reaped here, *pid untouched. */
		while (afork_wait(c, NULL, 0) < 0 && errno == EINTR)
			;
		afork_free(c);
		errno = saved;
		return e;
	}
	if (pid)
		*pid = afork_pid(c);
	afork_free(c);
	errno = saved;
	return 0;
}

__attribute__((visibility("default")))
int posix_spawn(pid_t *pid, const char *path,
		const posix_spawn_file_actions_t *fa,
		const posix_spawnattr_t *attr, char *const argv[],
		char *const envp[])
{
	return do_spawn(C_SPAWN, pid, path, fa, attr, argv, envp);
}

__attribute__((visibility("default")))
int posix_spawnp(pid_t *pid, const char *file,
		 const posix_spawn_file_actions_t *fa,
		 const posix_spawnattr_t *attr, char *const argv[],
		 char *const envp[])
{
	return do_spawn(C_SPAWNP, pid, file, fa, attr, argv, envp);
}

__attribute__((visibility("default")))
FILE *popen(const char *command, const char *mode)
{
	struct shell_req req = { .command = command, .no_dashdash = 1, .sync = 1 };
	FILE *fp;
	int err, fb = 0;

	real();
	if (!command)
		fb = FB_MODE;
	else if (!backend_ok())
		fb = FB_BACKEND;
	if (!fb) {
		err = -afork__popen(&req, mode, &fp);
		if (fp) {
			count(&via_afork[C_POPEN]);
			return fp;
		}
		if (err == EINVAL)
			fb = FB_MODE;		/* let glibc judge the mode */
		else if (err == EAGAIN || err == ENOMEM)
			fb = FB_START;
		else {
			count(&via_afork[C_POPEN]);
			errno = err;
			return NULL;
		}
	}
	count(&fallbacks[fb]);
	return real_popen(command, mode);
}

__attribute__((visibility("default")))
int pclose(FILE *stream)
{
	int st;

	real();
	if (!afork__pclose(stream, &st))
		return real_pclose(stream);	/* one of libc's own popens */
	if (st < 0) {
		errno = -st;
		return -1;
	}
	return st;
}

__attribute__((visibility("default")))
int system(const char *command)
{
	struct shell_req req = {
		.command = command, .no_dashdash = 1, .process_wide = 1,
	};
	int r, st;

	real();
	if (!backend_ok()) {
		count(&fallbacks[FB_BACKEND]);
		return real_system(command);
	}
	r = afork__system(&req, &st);
	if (r == -EAGAIN || r == -ENOMEM) {
		/* afork could not start the shell: libc's own may still. */
		count(&fallbacks[FB_START]);
		return real_system(command);
	}
	count(&via_afork[C_SYSTEM]);
	if (r < 0)
		errno = -r;
	return st;
}

/* ------------------------------------------------------------------ */
/* Statistics                                                          */
/* ------------------------------------------------------------------ */

static void atfork_child(void)
{
	/* A forked child reports its own calls, not its parent's. */
	memset(via_afork, 0, sizeof(via_afork));
	memset(fallbacks, 0, sizeof(fallbacks));
}

__attribute__((constructor))
static void preload_init(void)
{
	pthread_atfork(NULL, NULL, atfork_child);
}

__attribute__((destructor))
static void preload_stats(void)
{
	const char *dest = getenv("AFORK_PRELOAD_STATS");
	unsigned long total = 0, fbs = 0;
	char buf[1024];
	size_t n = 0;
	int i, fd, saved = errno;

	if (!dest || !*dest || !strcmp(dest, "0"))
		return;
	for (i = 0; i < C_N; i++)
		total += via_afork[i];
	for (i = 1; i < FB_N; i++)
		fbs += fallbacks[i];
	if (!total && !fbs)
		return;
#define OUT(...) do {							\
		int m_ = snprintf(buf + n, sizeof(buf) - n, __VA_ARGS__); \
		if (m_ > 0 && (size_t)m_ < sizeof(buf) - n)		\
			n += (size_t)m_;				\
	} while (0)
	OUT("afork-preload: pid %d (%s): %lu via afork (", (int)getpid(),
	    program_invocation_short_name, total);
	for (i = 0; i < C_N; i++)
		OUT("%s%s %lu", i ? ", " : "", call_names[i], via_afork[i]);
	OUT("), %lu fallbacks", fbs);
	for (i = 1; i < FB_N; i++)
		if (fallbacks[i])
			OUT(", %s %lu", fb_names[i], fallbacks[i]);
	OUT(", backend %s\n", afork_backend_name(afork_backend()) ?
	    afork_backend_name(afork_backend()) : "none");
#undef OUT
	if (dest[0] == '/')
		fd = open(dest, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	else
		fd = 2;
	if (fd >= 0) {
		if (write(fd, buf, n) < 0)
			n = 0;
		if (fd != 2)
			close(fd);
	}
	errno = saved;
}
