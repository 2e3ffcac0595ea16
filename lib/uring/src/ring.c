/* SPDX-License-Identifier: MIT */
/*
 * The state per ring: the opcode probe (once per ring), the choice of
 * paths, and the records of the watched children.
 *
 *   release path   FUTEX_WAIT on the release word needs IORING_OP_FUTEX_WAIT
 *                  (Linux 6.7, CONFIG_FUTEX); the poll on the release fd
 *                  needs only IORING_OP_POLL_ADD (5.1).  Auto: the poll on
 *                  the syscall backend, where the release fd is the pidfd
 *                  we keep anyway (its POLLPRI is the kernel's own release
 *                  event); elsewhere FUTEX_WAIT, which needs no descriptor
 *                  (the clone backends' release fd is a pipe per child),
 *                  else the poll.
 *   exit path      IORING_OP_WAITID (Linux 6.7) reaps in the ring; else a
 *                  poll on the pidfd (pidfds are POLLIN at exit since 5.3)
 *                  and waitid(P_PIDFD, WNOHANG) from afork_wait().
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define AFU_SPARE_MAX 64	/* records kept for reuse */

static unsigned int probe(struct io_uring *ring)
{
	struct io_uring_probe *p = io_uring_get_probe_ring(ring);
	unsigned int have = AFORK_URING_RELEASE_POLL | AFORK_URING_EXIT_POLL;

	/* No probe (before 5.6): neither opcode either, they are 6.7's. */
	if (!p)
		return have;
	if (io_uring_opcode_supported(p, AFORK_IORING_OP_FUTEX_WAIT))
		have |= AFORK_URING_RELEASE_FUTEX;
	if (io_uring_opcode_supported(p, AFORK_IORING_OP_WAITID))
		have |= AFORK_URING_EXIT_WAITID;
	io_uring_free_probe(p);
	return have;
}

/* A path forced by the environment: 0 for auto, -1 for a bad value. */
static int env_path(const char *name, const char *a, unsigned int pa,
		    const char *b, unsigned int pb)
{
	const char *v = getenv(name);

	if (!v || !*v || !strcmp(v, "auto"))
		return 0;
	if (!strcmp(v, a))
		return (int)pa;
	if (!strcmp(v, b))
		return (int)pb;
	return -1;
}

static int pick(unsigned int *paths, unsigned int flags, unsigned int have)
{
	unsigned int rel = flags & AFU_RELEASE_PATHS;
	unsigned int ex = flags & AFU_EXIT_PATHS;
	int e;

	if (rel == AFU_RELEASE_PATHS || ex == AFU_EXIT_PATHS)
		return -EINVAL;
	if (!rel) {
		e = env_path("AFORK_URING_RELEASE", "futex",
			     AFORK_URING_RELEASE_FUTEX, "poll",
			     AFORK_URING_RELEASE_POLL);
		if (e < 0)
			return -EINVAL;
		rel = (unsigned int)e;
	}
	if (!ex) {
		e = env_path("AFORK_URING_EXIT", "waitid",
			     AFORK_URING_EXIT_WAITID, "poll",
			     AFORK_URING_EXIT_POLL);
		if (e < 0)
			return -EINVAL;
		ex = (unsigned int)e;
	}
	if ((rel | ex) & ~have)
		return -EOPNOTSUPP;
	if (!rel) {
		if (afork_backend() == AFORK_BACKEND_SYSCALL ||
		    !(have & AFORK_URING_RELEASE_FUTEX))
			rel = AFORK_URING_RELEASE_POLL;
		else
			rel = AFORK_URING_RELEASE_FUTEX;
	}
	if (!ex)
		ex = have & AFORK_URING_EXIT_WAITID ? AFORK_URING_EXIT_WAITID
						     : AFORK_URING_EXIT_POLL;
	*paths = rel | ex;
	return 0;
}

AFU_API struct afork_uring *afork_uring_new(struct io_uring *ring,
					    unsigned int flags)
{
	struct afork_uring *u;
	int r;

	if (!ring || flags & ~(AFU_RELEASE_PATHS | AFU_EXIT_PATHS)) {
		errno = EINVAL;
		return NULL;
	}
	u = calloc(1, sizeof(*u));
	if (!u)
		return NULL;
	u->ring = ring;
	u->have = probe(ring);
	r = pick(&u->paths, flags, u->have);
	if (r < 0) {
		free(u);
		errno = -r;
		return NULL;
	}
	return u;
}

AFU_API void afork_uring_free(struct afork_uring *u)
{
	struct afu_watch *w, *next;

	if (!u)
		return;
	for (w = u->list; w; w = next) {
		next = w->next;
		free(w);
	}
	for (w = u->spare; w; w = next) {
		next = w->next;
		free(w);
	}
	free(u);
}

AFU_API unsigned int afork_uring_paths(const struct afork_uring *u)
{
	return u ? u->paths : 0;
}

AFU_API const char *afork_uring_path_name(unsigned int path)
{
	switch (path) {
	case AFORK_URING_RELEASE_FUTEX:
		return "futex";
	case AFORK_URING_RELEASE_POLL:
		return "poll";
	case AFORK_URING_EXIT_WAITID:
		return "waitid";
	case AFORK_URING_EXIT_POLL:
		return "pidfd-poll";
	}
	return NULL;
}

AFU_API void afork_uring_prep_opts(const struct afork_uring *u,
				   struct afork_opts *opts)
{
	if (!u || !opts)
		return;
	opts->options |= AFORK_OPT_PIDFD;
	if (u->paths & AFORK_URING_RELEASE_POLL)
		opts->options |= AFORK_OPT_RELEASE_FD;
}

AFU_API unsigned long afork_uring_watched(const struct afork_uring *u)
{
	return u ? u->watched : 0;
}

/* A zeroed record on the list, or NULL. */
static struct afu_watch *watch_new(struct afork_uring *u)
{
	struct afu_watch *w = u->spare;

	if (w) {
		u->spare = w->next;
		u->nspare--;
	} else {
		w = aligned_alloc(16, sizeof(*w));
		if (!w)
			return NULL;
	}
	memset(w, 0, sizeof(*w));
	w->u = u;
	w->next = u->list;
	if (u->list)
		u->list->prev = w;
	u->list = w;
	u->watched++;
	return w;
}

/* Off the list: back to the spares, or freed. */
void afu_watch_done(struct afu_watch *w)
{
	struct afork_uring *u = w->u;

	if (w->prev)
		w->prev->next = w->next;
	else
		u->list = w->next;
	if (w->next)
		w->next->prev = w->prev;
	u->watched--;
	if (u->nspare < AFU_SPARE_MAX) {
		w->next = u->spare;
		u->spare = w;
		u->nspare++;
	} else {
		free(w);
	}
}

AFU_API int afork_uring_watch(struct afork_uring *u, struct afork_child *child,
			      void *data)
{
	struct afu_watch *w;
	struct pollfd pfd;
	unsigned int paths;
	int r;

	if (!u || !child) {
		errno = EINVAL;
		return -1;
	}
	/* Per child, degrade where it lacks the descriptor a path needs. */
	paths = u->paths;
	if (paths & AFORK_URING_RELEASE_POLL &&
	    afork_release_pollfd(child, &pfd) < 0 &&
	    u->have & AFORK_URING_RELEASE_FUTEX)
		paths ^= AFORK_URING_RELEASE_POLL | AFORK_URING_RELEASE_FUTEX;
	if (paths & AFORK_URING_EXIT_POLL && afork_pidfd(child) < 0) {
		if (!(u->have & AFORK_URING_EXIT_WAITID)) {
			errno = EINVAL;
			return -1;
		}
		paths ^= AFORK_URING_EXIT_POLL | AFORK_URING_EXIT_WAITID;
	}
	/* Both requests or neither. */
	if (io_uring_sq_space_left(u->ring) < 2) {
		io_uring_submit(u->ring);
		if (io_uring_sq_space_left(u->ring) < 2) {
			errno = EBUSY;
			return -1;
		}
	}
	w = watch_new(u);
	if (!w) {
		errno = ENOMEM;
		return -1;
	}
	w->child = child;
	w->data = data;
	w->paths = paths;
	r = afu_arm_release(w);
	if (r == 0)
		r = afu_arm_exit(w);
	if (r < 0) {
		/* Cannot happen with the room checked above. */
		afu_watch_done(w);
		errno = -r;
		return -1;
	}
	return 0;
}
