/* SPDX-License-Identifier: MIT */
/*
 * afork_uring.h - libafork-uring: learn through an io_uring when afork
 * children release the parent's memory and when they exit, and reap them,
 * from one event loop, without SIGCHLD, helper threads or blocking calls.
 *
 * For each child the helpers put two requests on the caller's ring:
 *
 *   release  completes when the child releases the parent's address space
 *            (its exec committed, or it exited): IORING_OP_FUTEX_WAIT on
 *            afork_release_word() (Linux 6.7), or IORING_OP_POLL_ADD on
 *            afork_release_pollfd() (the pidfd's POLLPRI on the afork
 *            syscall backend, the release pipe on the clone backends);
 *   exit     completes when the child exits, and reaps it:
 *            IORING_OP_WAITID (Linux 6.7), or IORING_OP_POLL_ADD on the
 *            pidfd (POLLIN, Linux 5.3) followed by waitid(WNOHANG).
 *
 * The ring's opcodes are probed once per struct afork_uring; what is
 * missing is replaced by the poll path.  afork_uring_paths() says which
 * paths are in use.  See afork_uring(3).
 *
 * Link with -lafork-uring -lafork -luring (pkg-config afork-uring).
 * Available since libafork 0.1.
 */
#ifndef AFORK_URING_H
#define AFORK_URING_H

#include <afork.h>
#include <liburing.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Paths: flags for afork_uring_new() (one RELEASE and/or one EXIT bit
 * forces that path; 0 picks the best the ring has), and the bits
 * afork_uring_paths() returns (exactly one of each).
 */
#define AFORK_URING_RELEASE_FUTEX	0x1u	/* IORING_OP_FUTEX_WAIT, release word */
#define AFORK_URING_RELEASE_POLL	0x2u	/* IORING_OP_POLL_ADD, release fd */
#define AFORK_URING_EXIT_WAITID		0x4u	/* IORING_OP_WAITID, reaps */
#define AFORK_URING_EXIT_POLL		0x8u	/* POLL_ADD on the pidfd + waitid */
/* The paths that need neither FUTEX_WAIT nor WAITID (Linux 5.3). */
#define AFORK_URING_DEGRADED	(AFORK_URING_RELEASE_POLL | AFORK_URING_EXIT_POLL)

/* struct afork_uring_event::events */
#define AFORK_URING_RELEASED	0x1u	/* the child released the memory */
#define AFORK_URING_EXITED	0x2u	/* the child exited and was reaped */

/* What afork_uring_handle() reports about one child. */
struct afork_uring_event {
	struct afork_child *child;	/* as given to afork_uring_watch() */
	void *data;			/* as given to afork_uring_watch() */
	unsigned int events;		/* AFORK_URING_RELEASED | _EXITED */
	unsigned int paths;		/* the paths used for this child */
	int exec_errno;			/* once released: afork_exec_errno() */
	int status;			/* EXITED: waitpid()-style status */
	int error;			/* EXITED: 0 if reaped, else errno */
	int reserved[5];		/* zero */
};

struct afork_uring;	/* the helpers' state for one ring */

/*
 * Set up the helpers for ring: probes its opcodes and picks the paths
 * (flags, else AFORK_URING_RELEASE and AFORK_URING_EXIT from the
 * environment, else the best available).  NULL and errno on failure:
 * EINVAL (unknown flags or environment value, or two paths of one kind),
 * EOPNOTSUPP (a forced path the ring lacks), ENOMEM.
 */
struct afork_uring *afork_uring_new(struct io_uring *ring, unsigned int flags);

/*
 * Free the state, and the records of children still watched (they are
 * neither killed nor reaped).  Call it after io_uring_queue_exit() or once
 * afork_uring_watched() is 0.  NULL is a no-op.
 */
void afork_uring_free(struct afork_uring *u);

/* The paths in use: one AFORK_URING_RELEASE_* and one AFORK_URING_EXIT_*. */
unsigned int afork_uring_paths(const struct afork_uring *u);

/* "futex", "poll", "waitid", "pidfd-poll" for one path bit; NULL otherwise. */
const char *afork_uring_path_name(unsigned int path);

/*
 * Add to opts->options what the paths need (AFORK_OPT_PIDFD, and
 * AFORK_OPT_RELEASE_FD for the release poll).  Use before afork_start() or
 * afork_start_ctx().  AFORK_NOSIGCHLD | AFORK_WAITPID in opts->flags keep
 * SIGCHLD and wait(-1) away from the children (see afork_uring(3)).
 */
void afork_uring_prep_opts(const struct afork_uring *u, struct afork_opts *opts);

/*
 * Queue the release and exit requests for child (submitting the ring only
 * if its submission queue is full; the caller submits).  data is handed
 * back in every event.  Keep child (do not afork_free() or afork_wait() it)
 * until the event with AFORK_URING_EXITED.  0, or -1 and errno: EINVAL
 * (NULL, or a child with neither a pidfd nor WAITID on the ring), EBUSY
 * (no room in the submission queue), ENOMEM.
 */
int afork_uring_watch(struct afork_uring *u, struct afork_child *child,
		      void *data);

/*
 * 1 if cqe belongs to a request of these helpers (of any ring), else 0.
 * Their user_data has 0xaf in its top byte and a tag in its low 3 bits,
 * which no user-space pointer and no small integer has.
 */
int afork_uring_owns(const struct io_uring_cqe *cqe);

/*
 * Process one completion of these helpers (the caller then marks it seen
 * with io_uring_cqe_seen() or io_uring_cq_advance() as usual).  May queue
 * a follow-up request.  Returns 1 and fills *ev when there is something to
 * report, 0 when not, -1 and errno EINVAL when cqe is not ours.  Per child
 * the events come in order: RELEASED, then EXITED (or both at once);
 * EXITED is the last one, after which the helpers have forgotten the child.
 */
int afork_uring_handle(struct afork_uring *u, const struct io_uring_cqe *cqe,
		       struct afork_uring_event *ev);

/* Children watched and not yet reported as EXITED. */
unsigned long afork_uring_watched(const struct afork_uring *u);

#ifdef __cplusplus
}
#endif

#endif /* AFORK_URING_H */
