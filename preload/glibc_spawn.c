/* SPDX-License-Identifier: MIT */
/*
 * Reading glibc's posix_spawn objects, for the preload library.
 *
 * Attributes: through glibc's own getters (posix_spawnattr_getflags and
 * friends), so nothing depends on the layout of posix_spawnattr_t.
 *
 * File actions: glibc offers no getter.  posix_spawn_file_actions_t is
 * public ({ int __allocated, __used; struct __spawn_action *__actions;
 * ... }), but struct __spawn_action is private to glibc (a tag, then a
 * union of one struct per action).  Two ways to learn the actions:
 *
 *  - intercept every posix_spawn_file_actions_add*() and keep a shadow
 *    copy keyed by the object's address.  It needs no private layout, but
 *    it breaks silently: an object copied by value, freed without
 *    destroy and its address reused, or filled before the preload could
 *    see it gives the wrong actions (or none) with nothing to tell; and
 *    every add takes a global lock;
 *
 *  - read the private array, checking the layout against the running
 *    glibc first.  That is what this file does: at the first spawn with
 *    file actions, it builds one action of each kind with glibc's own add
 *    functions and distinctive values, and accepts the layout only if
 *    every tag and field reads back where expected (and the tags differ).
 *    The tag values themselves are learnt from the probe, not assumed.
 *    A glibc that changed the layout fails the probe, and every spawn with
 *    file actions then goes to glibc's own posix_spawn (counted); an
 *    action kind the probe did not learn (one added by a later glibc)
 *    sends that spawn to glibc.  A wrong answer needs a layout change
 *    that the probe cannot see, i.e. one that keeps every field of every
 *    known action where it was.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>

#include "preload.h"

/* The private layout this file expects (LP64: x86-64, arm64): tag, then the union. */
#define ACT_SIZE	32
#define OFF_TAG		0
#define OFF_FD		8	/* close, dup2, open, fchdir, closefrom, tcsetpgrp */
#define OFF_NEWFD	12	/* dup2 */
#define OFF_PATH_OPEN	16	/* open: path */
#define OFF_OFLAG	24	/* open: oflag */
#define OFF_MODE	28	/* open: mode */
#define OFF_PATH_CHDIR	8	/* chdir: path */

enum { K_CLOSE, K_DUP2, K_OPEN, K_CHDIR, K_FCHDIR, K_CLOSEFROM, K_TCSETPGRP, K_N };

static int tags[K_N];
static unsigned char known[K_N];
static int layout_ok;
static pthread_once_t probe_once = PTHREAD_ONCE_INIT;

static int rd_int(const char *a, int off)
{
	int v;

	memcpy(&v, a + off, sizeof(v));
	return v;
}

static const char *rd_ptr(const char *a, int off)
{
	const char *p;

	memcpy(&p, a + off, sizeof(p));
	return p;
}

typedef int (*add_fd_fn)(posix_spawn_file_actions_t *, int);
typedef int (*add_path_fn)(posix_spawn_file_actions_t *, const char *);

static void probe(void)
{
	posix_spawn_file_actions_t fa;
	add_path_fn addchdir = (add_path_fn)dlsym(RTLD_DEFAULT, "posix_spawn_file_actions_addchdir_np");
	add_fd_fn addfchdir = (add_fd_fn)dlsym(RTLD_DEFAULT, "posix_spawn_file_actions_addfchdir_np");
	add_fd_fn addclosefrom = (add_fd_fn)dlsym(RTLD_DEFAULT, "posix_spawn_file_actions_addclosefrom_np");
	add_fd_fn addtcsetpgrp = (add_fd_fn)dlsym(RTLD_DEFAULT, "posix_spawn_file_actions_addtcsetpgrp_np");
	int kind[K_N], n = 0, i, j, ok = 1;
	const char *a;

	if (posix_spawn_file_actions_init(&fa))
		return;
	/* Distinctive values: fds 7, 9/11, 5, 13, 15, 17 (all valid). */
	if (!posix_spawn_file_actions_addclose(&fa, 7))
		kind[n++] = K_CLOSE;
	if (!posix_spawn_file_actions_adddup2(&fa, 9, 11))
		kind[n++] = K_DUP2;
	if (!posix_spawn_file_actions_addopen(&fa, 5, "/afork/probe/open",
					      O_WRONLY | O_CREAT | O_APPEND, 0641))
		kind[n++] = K_OPEN;
	if (addchdir && !addchdir(&fa, "/afork/probe/chdir"))
		kind[n++] = K_CHDIR;
	if (addfchdir && !addfchdir(&fa, 13))
		kind[n++] = K_FCHDIR;
	if (addclosefrom && !addclosefrom(&fa, 15))
		kind[n++] = K_CLOSEFROM;
	if (addtcsetpgrp && !addtcsetpgrp(&fa, 17))
		kind[n++] = K_TCSETPGRP;
	if (fa.__used != n || n < 3 || !fa.__actions)
		ok = 0;
	for (i = 0; ok && i < n; i++) {
		a = (const char *)fa.__actions + i * ACT_SIZE;
		tags[kind[i]] = rd_int(a, OFF_TAG);
		switch (kind[i]) {
		case K_CLOSE:
			ok = rd_int(a, OFF_FD) == 7;
			break;
		case K_DUP2:
			ok = rd_int(a, OFF_FD) == 9 && rd_int(a, OFF_NEWFD) == 11;
			break;
		case K_OPEN:
			ok = rd_int(a, OFF_FD) == 5 && rd_ptr(a, OFF_PATH_OPEN) &&
			     !strcmp(rd_ptr(a, OFF_PATH_OPEN), "/afork/probe/open") &&
			     rd_int(a, OFF_OFLAG) == (O_WRONLY | O_CREAT | O_APPEND) &&
			     rd_int(a, OFF_MODE) == 0641;
			break;
		case K_CHDIR:
			ok = rd_ptr(a, OFF_PATH_CHDIR) &&
			     !strcmp(rd_ptr(a, OFF_PATH_CHDIR), "/afork/probe/chdir");
			break;
		case K_FCHDIR:
			ok = rd_int(a, OFF_FD) == 13;
			break;
		case K_CLOSEFROM:
			ok = rd_int(a, OFF_FD) == 15;
			break;
		case K_TCSETPGRP:
			ok = rd_int(a, OFF_FD) == 17;
			break;
		}
		for (j = 0; ok && j < i; j++)
			if (tags[kind[j]] == tags[kind[i]])
				ok = 0;
	}
	if (ok)
		for (i = 0; i < n; i++)
			known[kind[i]] = 1;
	layout_ok = ok;
	posix_spawn_file_actions_destroy(&fa);
}

/* Which known kind has this tag, or -1. */
static int kind_of(int tag)
{
	int k;

	for (k = 0; k < K_N; k++)
		if (known[k] && tags[k] == tag)
			return k;
	return -1;
}

int preload_file_actions(const posix_spawn_file_actions_t *fa,
			 struct spawn_actions *out)
{
	const char *a;
	int i, k;

	out->n = out->cap = 0;
	out->a = NULL;
	if (!fa || fa->__used == 0)
		return 0;
	pthread_once(&probe_once, probe);
	if (!layout_ok)
		return FB_LAYOUT;
	if (fa->__used < 0 || fa->__used > fa->__allocated || !fa->__actions)
		return FB_ACTION;
	out->a = calloc((size_t)fa->__used, sizeof(*out->a));
	if (!out->a)
		return FB_START;
	out->cap = (unsigned int)fa->__used;
	for (i = 0; i < fa->__used; i++) {
		struct spawn_action *s = &out->a[i];

		a = (const char *)fa->__actions + i * ACT_SIZE;
		k = kind_of(rd_int(a, OFF_TAG));
		switch (k) {
		case K_CLOSE:
			s->op = SPAWN_CLOSE;
			s->fd = rd_int(a, OFF_FD);
			break;
		case K_DUP2:
			s->op = SPAWN_DUP2;
			s->fd = rd_int(a, OFF_FD);
			s->newfd = rd_int(a, OFF_NEWFD);
			break;
		case K_OPEN:
			s->op = SPAWN_OPEN;
			s->fd = rd_int(a, OFF_FD);
			s->path = (char *)rd_ptr(a, OFF_PATH_OPEN);
			s->oflag = rd_int(a, OFF_OFLAG);
			s->mode = (unsigned int)rd_int(a, OFF_MODE);
			break;
		case K_CHDIR:
			s->op = SPAWN_CHDIR;
			s->path = (char *)rd_ptr(a, OFF_PATH_CHDIR);
			break;
		case K_FCHDIR:
			s->op = SPAWN_FCHDIR;
			s->fd = rd_int(a, OFF_FD);
			break;
		case K_CLOSEFROM:
			s->op = SPAWN_CLOSE_RANGE;
			s->first = (unsigned int)rd_int(a, OFF_FD);
			s->last = ~0u;
			break;
		case K_TCSETPGRP:
			s->op = SPAWN_TCSETPGRP;
			s->fd = rd_int(a, OFF_FD);
			break;
		default:
			free(out->a);
			out->a = NULL;
			return FB_ACTION;
		}
		if ((s->op == SPAWN_OPEN || s->op == SPAWN_CHDIR) && !s->path) {
			free(out->a);
			out->a = NULL;
			return FB_ACTION;
		}
		out->n++;
	}
	return 0;
}

#define GLIBC_KNOWN_FLAGS (POSIX_SPAWN_RESETIDS | POSIX_SPAWN_SETPGROUP | \
	POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK | \
	POSIX_SPAWN_SETSCHEDPARAM | POSIX_SPAWN_SETSCHEDULER | \
	POSIX_SPAWN_USEVFORK | POSIX_SPAWN_SETSID)

int preload_attr(const posix_spawnattr_t *attr, struct spawn_attr *out)
{
	short flags = 0;
	sigset_t set;
	struct sched_param sp;
	pid_t pg = 0;
	int pol = 0;

	afork__spawnattr_default(out);
	out->options = 0;	/* no pidfd: the preload waits by pid */
	if (!attr)
		return 0;
	if (posix_spawnattr_getflags(attr, &flags))
		return FB_FLAGS;
	if ((unsigned short)flags & ~(unsigned short)GLIBC_KNOWN_FLAGS)
		return FB_FLAGS;
	/* USEVFORK is a no-op in glibc too. */
	if (flags & POSIX_SPAWN_RESETIDS)
		out->flags |= AFORK_SPAWN_RESETIDS;
	if (flags & POSIX_SPAWN_SETPGROUP)
		out->flags |= AFORK_SPAWN_SETPGROUP;
	if (flags & POSIX_SPAWN_SETSIGDEF)
		out->flags |= AFORK_SPAWN_SETSIGDEF;
	if (flags & POSIX_SPAWN_SETSIGMASK)
		out->flags |= AFORK_SPAWN_SETSIGMASK;
	if (flags & POSIX_SPAWN_SETSCHEDPARAM)
		out->flags |= AFORK_SPAWN_SETSCHEDPARAM;
	if (flags & POSIX_SPAWN_SETSCHEDULER)
		out->flags |= AFORK_SPAWN_SETSCHEDULER;
	if (flags & POSIX_SPAWN_SETSID)
		out->flags |= AFORK_SPAWN_SETSID;
	posix_spawnattr_getpgroup(attr, &pg);
	out->pgroup = pg;
	sigemptyset(&set);
	posix_spawnattr_getsigmask(attr, &set);
	memcpy(&out->sigmask, &set, sizeof(out->sigmask));
	sigemptyset(&set);
	posix_spawnattr_getsigdefault(attr, &set);
	memcpy(&out->sigdefault, &set, sizeof(out->sigdefault));
	posix_spawnattr_getschedpolicy(attr, &pol);
	out->policy = pol;
	memset(&sp, 0, sizeof(sp));
	posix_spawnattr_getschedparam(attr, &sp);
	out->priority = sp.sched_priority;
	return 0;
}
