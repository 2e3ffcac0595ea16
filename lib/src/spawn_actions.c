/* SPDX-License-Identifier: MIT */
/*
 * afork_spawn_file_actions_*: the list of file actions, a growable array
 * behind the public struct's pointer.  Each add copies its path.  Errors
 * are returned as error numbers (posix_spawn's convention); fds are
 * checked as glibc checks them: EBADF if negative or not below the soft
 * RLIMIT_NOFILE.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "spawn_int.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1u << 2)
#endif

/* Are @a and @b both fds below the soft RLIMIT_NOFILE?  One getrlimit. */
static int fds_valid(int a, int b)
{
	struct rlimit rl;
	int hi = a > b ? a : b;

	if (a < 0 || b < 0)
		return 0;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    (rlim_t)hi >= rl.rlim_cur)
		return 0;
	return 1;
}

int afork__fd_valid(int fd)
{
	return fds_valid(fd, fd);
}

const struct spawn_actions *afork__spawn_actions(const afork_spawn_file_actions_t *fa)
{
	return fa ? (const struct spawn_actions *)fa->__impl : NULL;
}

AFORK_API int afork_spawn_file_actions_init(afork_spawn_file_actions_t *fa)
{
	struct spawn_actions *l;

	if (!fa)
		return EINVAL;
	l = calloc(1, sizeof(*l));
	if (!l)
		return ENOMEM;
	memset(fa, 0, sizeof(*fa));
	fa->__impl = l;
	return 0;
}

AFORK_API int afork_spawn_file_actions_destroy(afork_spawn_file_actions_t *fa)
{
	struct spawn_actions *l;
	unsigned int i;

	if (!fa || !fa->__impl)
		return EINVAL;
	l = fa->__impl;
	for (i = 0; i < l->n; i++)
		free(l->a[i].path);
	free(l->a);
	free(l);
	fa->__impl = NULL;
	return 0;
}

/* A new zeroed action at the end of the list, or NULL (ENOMEM). */
static struct spawn_action *add(afork_spawn_file_actions_t *fa, int op,
				const char *path, int *err)
{
	struct spawn_actions *l = fa ? fa->__impl : NULL;
	struct spawn_action *a;
	char *copy = NULL;

	if (!l) {
		*err = EINVAL;
		return NULL;
	}
	if (path) {
		copy = strdup(path);
		if (!copy) {
			*err = ENOMEM;
			return NULL;
		}
	}
	if (l->n == l->cap) {
		unsigned int cap = l->cap ? 2 * l->cap : 8;
		struct spawn_action *na;

		na = realloc(l->a, cap * sizeof(*na));
		if (!na) {
			free(copy);
			*err = ENOMEM;
			return NULL;
		}
		l->a = na;
		l->cap = cap;
	}
	a = &l->a[l->n++];
	memset(a, 0, sizeof(*a));
	a->op = op;
	a->path = copy;
	return a;
}

AFORK_API int afork_spawn_file_actions_addopen(afork_spawn_file_actions_t *fa,
					       int fd, const char *path,
					       int oflag, mode_t mode)
{
	struct spawn_action *a;
	int err;

	if (!afork__fd_valid(fd))
		return EBADF;
	if (!path)
		return EINVAL;
	a = add(fa, SPAWN_OPEN, path, &err);
	if (!a)
		return err;
	a->fd = fd;
	a->oflag = oflag;
	a->mode = mode;
	return 0;
}

AFORK_API int afork_spawn_file_actions_addclose(afork_spawn_file_actions_t *fa,
						int fd)
{
	struct spawn_action *a;
	int err;

	if (!afork__fd_valid(fd))
		return EBADF;
	a = add(fa, SPAWN_CLOSE, NULL, &err);
	if (!a)
		return err;
	a->fd = fd;
	return 0;
}

AFORK_API int afork_spawn_file_actions_adddup2(afork_spawn_file_actions_t *fa,
					       int fd, int newfd)
{
	struct spawn_action *a;
	int err;

	if (!fds_valid(fd, newfd))
		return EBADF;
	a = add(fa, SPAWN_DUP2, NULL, &err);
	if (!a)
		return err;
	a->fd = fd;
	a->newfd = newfd;
	return 0;
}

AFORK_API int afork_spawn_file_actions_addchdir(afork_spawn_file_actions_t *fa,
						const char *path)
{
	struct spawn_action *a;
	int err;

	if (!path)
		return EINVAL;
	a = add(fa, SPAWN_CHDIR, path, &err);
	return a ? 0 : err;
}

AFORK_API int afork_spawn_file_actions_addfchdir(afork_spawn_file_actions_t *fa,
						 int fd)
{
	struct spawn_action *a;
	int err;

	/* As glibc: not checked here, fchdir in the child says EBADF. */
	a = add(fa, SPAWN_FCHDIR, NULL, &err);
	if (!a)
		return err;
	a->fd = fd;
	return 0;
}

AFORK_API int afork_spawn_file_actions_addclose_range(afork_spawn_file_actions_t *fa,
						      unsigned int first,
						      unsigned int last,
						      unsigned int flags)
{
	struct spawn_action *a;
	int err;

	if (first > last || (flags & ~CLOSE_RANGE_CLOEXEC))
		return EINVAL;
	a = add(fa, SPAWN_CLOSE_RANGE, NULL, &err);
	if (!a)
		return err;
	a->first = first;
	a->last = last;
	a->flags = flags;
	return 0;
}

AFORK_API int afork_spawn_file_actions_addclosefrom(afork_spawn_file_actions_t *fa,
						    int from)
{
	if (!afork__fd_valid(from))
		return EBADF;
	return afork_spawn_file_actions_addclose_range(fa, (unsigned int)from,
						       ~0u, 0);
}

AFORK_API int afork_spawn_file_actions_addtcsetpgrp(afork_spawn_file_actions_t *fa,
						    int fd)
{
	struct spawn_action *a;
	int err;

	if (!afork__fd_valid(fd))
		return EBADF;
	a = add(fa, SPAWN_TCSETPGRP, NULL, &err);
	if (!a)
		return err;
	a->fd = fd;
	return 0;
}
