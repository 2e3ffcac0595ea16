/* SPDX-License-Identifier: MIT */
/*
 * afork_popen(), afork_pclose(): popen on an afork child that only a wait
 * naming it can reap (AFORK_WAITPID | AFORK_NOSIGCHLD).
 *
 * The pipe is made close-on-exec at both ends, so that no other child
 * created meanwhile (by another thread, by anyone) inherits it; the child
 * gets its end with a dup2 file action (onto itself if the pipe landed
 * on 0 or 1, which clears FD_CLOEXEC).  Streams of earlier popens still
 * open are closed in the child, as POSIX asks: their fds are in a list,
 * under a lock held while the child is created.  The stream is made
 * before the child, so that nothing can fail after the child exists.
 *
 * The preload library's popen() uses the same code with POPEN_SYNC: it
 * waits for the exec and fails with its errno, as glibc's does, and runs
 * "sh -c command" without "--" (POPEN_NO_DASHDASH), as glibc does.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "spawn_int.h"

extern char **environ;

struct popen_ent {
	FILE *fp;
	int fd;
	struct afork_child *child;
	struct popen_ent *next;
};

static pthread_mutex_t popen_lock = PTHREAD_MUTEX_INITIALIZER;
static struct popen_ent *popen_list;
static pthread_once_t popen_once = PTHREAD_ONCE_INIT;

static void atfork_prepare(void)
{
	pthread_mutex_lock(&popen_lock);
}

static void atfork_parent(void)
{
	pthread_mutex_unlock(&popen_lock);
}

static void atfork_child(void)
{
	/* The streams stay usable; their children are not ours any more. */
	pthread_mutex_init(&popen_lock, NULL);
}

/*
 * Lock order: popen_lock, then the library's locks (the pool, the vfork
 * queue, clone's fd window), which afork__popen() takes while it holds
 * popen_lock.  fork() runs prepare handlers in the reverse order of their
 * registration, so ours must be registered after the library's, whatever
 * the program called first: afork__init() registers those, once.
 */
static void popen_init(void)
{
	afork__init();
	pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
}

/* Mode "r" or "w" plus optional 'e': 0 read, 1 write, -EINVAL. */
static int parse_mode(const char *mode, int *cloexec)
{
	int rd = 0, wr = 0;

	*cloexec = 0;
	if (!mode)
		return -EINVAL;
	for (; *mode; mode++) {
		switch (*mode) {
		case 'r':
			rd = 1;
			break;
		case 'w':
			wr = 1;
			break;
		case 'e':
			*cloexec = 1;
			break;
		default:
			return -EINVAL;
		}
	}
	if (rd == wr)
		return -EINVAL;
	return wr;
}

FILE *afork__popen(const char *command, const char *mode, int how, int *err)
{
	char *argv[5] = { "sh", "-c", "--", NULL, NULL };
	afork_spawn_file_actions_t fa;
	struct spawn_attr attr;
	struct spawn_req req;
	struct popen_ent *e, *it;
	struct afork_child *c = NULL;
	int p[2], wr, cloexec, mine, theirs, r;
	FILE *fp;

	wr = parse_mode(mode, &cloexec);
	if (wr < 0 || !command) {
		*err = EINVAL;
		return NULL;
	}
	if (how & POPEN_NO_DASHDASH) {
		argv[2] = (char *)command;
	} else {
		argv[3] = (char *)command;
	}
	pthread_once(&popen_once, popen_init);
	e = calloc(1, sizeof(*e));
	if (!e) {
		*err = ENOMEM;
		return NULL;
	}
	if (pipe2(p, O_CLOEXEC)) {
		*err = errno;
		free(e);
		return NULL;
	}
	mine = wr ? p[1] : p[0];
	theirs = wr ? p[0] : p[1];
	fp = fdopen(mine, wr ? "w" : "r");
	if (!fp) {
		*err = errno;
		close(p[0]);
		close(p[1]);
		free(e);
		return NULL;
	}
	r = afork_spawn_file_actions_init(&fa);
	if (r) {
		*err = r;
		goto fail;
	}
	afork__spawnattr_default(&attr);
	attr.aflags = (int)(AFORK_WAITPID | AFORK_NOSIGCHLD);
	attr.options = 0;

	pthread_mutex_lock(&popen_lock);
	for (it = popen_list; it && !r; it = it->next)
		r = afork_spawn_file_actions_addclose(&fa, it->fd);
	if (!r)
		r = afork_spawn_file_actions_adddup2(&fa, theirs, wr ? 0 : 1);
	if (r) {
		pthread_mutex_unlock(&popen_lock);
		afork_spawn_file_actions_destroy(&fa);
		*err = r;
		goto fail;
	}
	memset(&req, 0, sizeof(req));
	req.path = "/bin/sh";
	req.fa = afork__spawn_actions(&fa);
	req.attr = &attr;
	req.argv = argv;
	req.envp = environ;
	req.how = SPAWN_REQ_SHIELD;
	r = afork__spawn(&c, &req);
	pthread_mutex_unlock(&popen_lock);
	afork_spawn_file_actions_destroy(&fa);
	close(theirs);
	theirs = -1;
	if (r < 0) {
		*err = -r;
		goto fail;
	}
	if (how & POPEN_SYNC) {
		r = afork__spawn_wait_exec(c, req.shielded);
		if (r > 0) {
			while (afork_wait(c, NULL, 0) < 0 && errno == EINTR)
				;
			afork_free(c);
			*err = r;
			goto fail;
		}
	}

	e->fp = fp;
	e->fd = mine;
	e->child = c;
	pthread_mutex_lock(&popen_lock);
	if (!cloexec)
		fcntl(mine, F_SETFD, 0);
	e->next = popen_list;
	popen_list = e;
	pthread_mutex_unlock(&popen_lock);
	return fp;

fail:
	fclose(fp);
	if (theirs >= 0)
		close(theirs);
	free(e);
	return NULL;
}

static struct popen_ent *unlink_ent(FILE *fp)
{
	struct popen_ent **pp, *e;

	pthread_once(&popen_once, popen_init);
	pthread_mutex_lock(&popen_lock);
	for (pp = &popen_list; (e = *pp); pp = &e->next) {
		if (e->fp == fp) {
			*pp = e->next;
			break;
		}
	}
	pthread_mutex_unlock(&popen_lock);
	return e;
}

int afork__pclose(FILE *fp, int *status)
{
	struct popen_ent *e = unlink_ent(fp);
	int st = 0;
	pid_t r;

	if (!e)
		return 0;
	fclose(fp);
	/* The status the caller may have collected with afork_wait(). */
	if (e->child->reaped) {
		*status = e->child->status;
	} else {
		while ((r = afork_wait(e->child, &st, 0)) < 0 && errno == EINTR)
			;
		*status = r < 0 ? -errno : st;
	}
	afork_free(e->child);
	free(e);
	return 1;
}

AFORK_API FILE *afork_popen(const char *command, const char *mode)
{
	int err = 0;
	FILE *fp = afork__popen(command, mode, 0, &err);

	if (!fp)
		errno = err;
	return fp;
}

AFORK_API int afork_pclose(FILE *stream)
{
	int st;

	if (!stream || !afork__pclose(stream, &st)) {
		errno = ECHILD;
		return -1;
	}
	if (st < 0) {
		errno = -st;
		return -1;
	}
	return st;
}

AFORK_API struct afork_child *afork_popen_child(FILE *stream)
{
	struct popen_ent *e;
	struct afork_child *c = NULL;

	pthread_once(&popen_once, popen_init);
	pthread_mutex_lock(&popen_lock);
	for (e = popen_list; e; e = e->next)
		if (e->fp == stream)
			c = e->child;
	pthread_mutex_unlock(&popen_lock);
	if (!c)
		errno = EINVAL;
	return c;
}
