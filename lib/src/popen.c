/* SPDX-License-Identifier: MIT */
/*
 * afork_popen(), afork_pclose(): popen on an afork child that only a wait
 * naming it can reap (AFORK_WAITPID | AFORK_NOSIGCHLD); afork_popenve()
 * and afork_popenvpe() run a program without a shell, and
 * afork_popen2ve() and afork_popen2vpe() give a stream each way.
 *
 * Each pipe is made close-on-exec at both ends, so that no other child
 * created meanwhile (by another thread, by anyone) inherits it; the child
 * gets its end with a dup2 file action (see pipe_make()).  The two
 * streams of a two-way popen share the child: pclose of the first closes
 * it alone, that of the second waits.  Streams of earlier popens still
 * open are closed in the child, as POSIX asks: their fds are in a list,
 * under a lock held while the child is created.  The stream is made
 * before the child, so that nothing can fail after the child exists.
 *
 * The preload library's popen() uses the same code and asks, in struct
 * shell_req (spawn_api.h), for glibc's behaviours: it waits for the exec
 * and fails with its errno (POPEN_SYNC here), and runs "sh -c command"
 * without "--".
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
	struct popen_ent *peer;		/* the other stream of a two-way popen */
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

/* Mode "r" or "w" plus optional 'e': POPEN_RD or POPEN_WR, or -EINVAL. */
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
	return wr ? POPEN_WR : POPEN_RD;
}

/* One direction: the caller's stream, its entry, and the child's end. */
struct popen_pipe {
	FILE *fp;
	struct popen_ent *e;
	int mine, theirs;
};

static void pipe_undo(struct popen_pipe *p)
{
	if (p->fp)
		fclose(p->fp);
	else if (p->mine >= 0)
		close(p->mine);
	if (p->theirs >= 0)
		close(p->theirs);
	free(p->e);
}

/*
 * The pipe for one direction, close-on-exec at both ends.  With two
 * directions the child's ends are kept above 2, so that neither dup2 onto
 * 0 or 1 can overwrite the other's source; with one, an end on its own
 * target is dup2'ed onto itself, which clears FD_CLOEXEC.
 */
static int pipe_make(struct popen_pipe *p, int wr, int both)
{
	int fds[2], n;

	p->fp = NULL;
	p->mine = p->theirs = -1;
	p->e = calloc(1, sizeof(*p->e));
	if (!p->e)
		return -ENOMEM;
	if (pipe2(fds, O_CLOEXEC))
		return -errno;
	p->mine = wr ? fds[1] : fds[0];
	p->theirs = wr ? fds[0] : fds[1];
	if (both && p->theirs <= 2) {
		n = fcntl(p->theirs, F_DUPFD_CLOEXEC, 3);
		if (n < 0)	/* EINVAL: 3 is beyond RLIMIT_NOFILE */
			return errno == EINVAL ? -EMFILE : -errno;
		close(p->theirs);
		p->theirs = n;
	}
	p->fp = fdopen(p->mine, wr ? "w" : "r");
	return p->fp ? 0 : -errno;
}

/*
 * Start the child with the pipes' ends of @pp as its stdin and stdout and
 * every other popen stream's fd closed; close those ends here.  0 and the
 * child in *cp (*shielded: through the shield), or -errno.
 */
static int start_child(const struct popen_cmd *cmd, struct popen_pipe pp[2],
		       struct afork_child **cp, int *shielded)
{
	afork_spawn_file_actions_t fa;
	struct spawn_attr attr;
	struct spawn_req req;
	struct popen_ent *it;
	int i, r;

	r = afork_spawn_file_actions_init(&fa);
	if (r)
		return -r;
	afork__spawnattr_default(&attr);
	attr.aflags = (int)(AFORK_WAITPID | AFORK_NOSIGCHLD);
	/* A pidfd: pclose then waits for this child, never for a pid reused. */
	attr.options = AFORK_OPT_PIDFD;

	pthread_mutex_lock(&popen_lock);
	for (it = popen_list; it && !r; it = it->next)
		r = afork_spawn_file_actions_addclose(&fa, it->fd);
	for (i = 0; i < 2 && !r; i++)
		if (pp[i].theirs >= 0)
			r = afork_spawn_file_actions_adddup2(&fa, pp[i].theirs, i ? 0 : 1);
	if (r) {
		r = -r;
	} else {
		memset(&req, 0, sizeof(req));
		req.path = cmd->path;
		req.use_path = cmd->use_path;
		req.search = cmd->search;
		req.fa = afork__spawn_actions(&fa);
		req.attr = &attr;
		req.argv = cmd->argv;
		req.envp = cmd->envp ? cmd->envp : environ;
		req.how = SPAWN_REQ_SHIELD;
		r = afork__spawn(cp, &req);
		*shielded = req.shielded;
	}
	pthread_mutex_unlock(&popen_lock);
	afork_spawn_file_actions_destroy(&fa);
	for (i = 0; i < 2; i++) {
		if (pp[i].theirs >= 0)
			close(pp[i].theirs);
		pp[i].theirs = -1;
	}
	return r;
}

/* Put the streams of @pp, now the child @c's, on the list. */
static void publish(struct popen_pipe pp[2], struct afork_child *c, int both,
		    int how)
{
	int i;

	pthread_mutex_lock(&popen_lock);
	for (i = 0; i < 2; i++) {
		struct popen_ent *e = pp[i].e;

		if (!e)		/* a direction not asked for */
			continue;
		e->fp = pp[i].fp;
		e->fd = pp[i].mine;
		e->child = c;
		e->peer = both ? pp[!i].e : NULL;
		if (!(how & POPEN_CLOEXEC))
			fcntl(e->fd, F_SETFD, 0);
		e->next = popen_list;
		popen_list = e;
	}
	pthread_mutex_unlock(&popen_lock);
}

int afork__popen_run(const struct popen_cmd *cmd, int dirs, int how,
		     FILE **to, FILE **from)
{
	struct popen_pipe pp[2];	/* [0] from the child, [1] to it */
	struct afork_child *c = NULL;
	int both = dirs == (POPEN_RD | POPEN_WR), shielded = 0, i, r = 0;

	pthread_once(&popen_once, popen_init);
	for (i = 0; i < 2; i++) {
		pp[i].fp = NULL;
		pp[i].e = NULL;
		pp[i].mine = pp[i].theirs = -1;
	}
	for (i = 0; i < 2 && !r; i++)
		if (dirs & (i ? POPEN_WR : POPEN_RD))
			r = pipe_make(&pp[i], i, both);
	if (!r)
		r = start_child(cmd, pp, &c, &shielded);
	if (r)
		goto fail;
	if (how & POPEN_SYNC) {
		r = afork__spawn_wait_exec(c, shielded);
		if (r > 0) {
			while (afork_wait(c, NULL, 0) < 0 && errno == EINTR)
				;
			afork_free(c);
			r = -r;
			goto fail;
		}
	}
	publish(pp, c, both, how);
	if (from)
		*from = pp[0].fp;
	if (to)
		*to = pp[1].fp;
	return 0;

fail:
	for (i = 0; i < 2; i++)
		pipe_undo(&pp[i]);
	return r;
}

int afork__popen(const struct shell_req *req, const char *mode, FILE **fp)
{
	char *argv[5] = { "sh", "-c", "--", NULL, NULL };
	struct popen_cmd cmd = { "/bin/sh", argv, NULL, 0, NULL };
	int dir, cloexec, how;

	*fp = NULL;
	dir = parse_mode(mode, &cloexec);
	if (dir < 0 || !req->command)
		return -EINVAL;
	argv[req->no_dashdash ? 2 : 3] = (char *)req->command;
	how = (req->sync ? POPEN_SYNC : 0) | (cloexec ? POPEN_CLOEXEC : 0);
	return afork__popen_run(&cmd, dir, how, dir == POPEN_WR ? fp : NULL,
				dir == POPEN_RD ? fp : NULL);
}

/*
 * Take @fp's entry off the list.  *last: no other stream shares its child
 * (the other of a two-way popen was closed already, or there is none).
 */
static struct popen_ent *unlink_ent(FILE *fp, int *last)
{
	struct popen_ent **pp, *e;

	pthread_once(&popen_once, popen_init);
	pthread_mutex_lock(&popen_lock);
	for (pp = &popen_list; (e = *pp); pp = &e->next) {
		if (e->fp == fp) {
			*pp = e->next;
			*last = !e->peer;
			if (e->peer)
				e->peer->peer = NULL;
			break;
		}
	}
	pthread_mutex_unlock(&popen_lock);
	return e;
}

int afork__pclose(FILE *fp, int *status)
{
	int st = 0, last = 1, ferr;
	struct popen_ent *e = unlink_ent(fp, &last);
	pid_t r;

	if (!e)
		return 0;
	/* A final flush that failed is the caller's error, as in glibc. */
	ferr = fclose(fp) ? errno : 0;
	if (!last) {
		/* The child's stdin or stdout closed; the other stream waits. */
		free(e);
		*status = -ferr;
		return 1;
	}
	/* The status the caller may have collected with afork_wait(). */
	if (e->child->reaped) {
		*status = e->child->status;
	} else {
		while ((r = afork_wait(e->child, &st, 0)) < 0 && errno == EINTR)
			;
		*status = r < 0 ? -errno : st;
	}
	if (ferr && *status >= 0)
		*status = -ferr;
	afork_free(e->child);
	free(e);
	return 1;
}

AFORK_API FILE *afork_popen(const char *command, const char *mode)
{
	struct shell_req req = { .command = command };
	FILE *fp;
	int r = afork__popen(&req, mode, &fp);

	if (r < 0)
		errno = -r;
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

/* The argv popens: no shell, the program itself. */
static FILE *popen_argv(const struct popen_cmd *cmd, const char *mode)
{
	int dir, cloexec, r;
	FILE *fp = NULL;

	dir = parse_mode(mode, &cloexec);
	if (dir < 0 || !cmd->path || !cmd->argv) {
		errno = EINVAL;
		return NULL;
	}
	r = afork__popen_run(cmd, dir, cloexec ? POPEN_CLOEXEC : 0,
			     dir == POPEN_WR ? &fp : NULL, dir == POPEN_RD ? &fp : NULL);
	if (r < 0)
		errno = -r;
	return fp;
}

AFORK_API FILE *afork_popenve(const char *path, char *const argv[],
			      char *const envp[], const char *mode)
{
	struct popen_cmd cmd = { path, argv, envp, 0, NULL };

	return popen_argv(&cmd, mode);
}

AFORK_API FILE *afork_popenvpe(const char *file, char *const argv[],
			       char *const envp[], const char *search_path,
			       const char *mode)
{
	struct popen_cmd cmd = { file, argv, envp, 1, search_path };

	return popen_argv(&cmd, mode);
}

static int popen2_argv(const struct popen_cmd *cmd, int flags, FILE **to, FILE **from)
{
	int r;

	if (!cmd->path || !cmd->argv || !to || !from || to == from ||
	    (flags & ~O_CLOEXEC)) {
		errno = EINVAL;
		return -1;
	}
	r = afork__popen_run(cmd, POPEN_RD | POPEN_WR,
			     (flags & O_CLOEXEC) ? POPEN_CLOEXEC : 0, to, from);
	if (r < 0) {
		errno = -r;
		return -1;
	}
	return 0;
}

AFORK_API int afork_popen2ve(const char *path, char *const argv[],
			     char *const envp[], int flags,
			     FILE **to_child, FILE **from_child)
{
	struct popen_cmd cmd = { path, argv, envp, 0, NULL };

	return popen2_argv(&cmd, flags, to_child, from_child);
}

AFORK_API int afork_popen2vpe(const char *file, char *const argv[],
			      char *const envp[], const char *search_path,
			      int flags, FILE **to_child, FILE **from_child)
{
	struct popen_cmd cmd = { file, argv, envp, 1, search_path };

	return popen2_argv(&cmd, flags, to_child, from_child);
}
