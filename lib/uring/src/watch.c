/* SPDX-License-Identifier: MIT */
/*
 * Filling the requests.  liburing 2.3 has no prep helper for WAITID and
 * FUTEX_WAIT and its struct io_uring_sqe no field names for some of their
 * operands, so they are filled with io_uring_prep_rw() and by offset
 * (uring_ops.h).
 */
#include <errno.h>
#include <string.h>

#include "internal.h"

_Static_assert(__builtin_offsetof(struct io_uring_sqe, file_index) ==
	       AFORK_SQE_FILE_INDEX_OFF, "io_uring_sqe.file_index");
_Static_assert(__builtin_offsetof(struct io_uring_sqe, addr3) ==
	       AFORK_SQE_ADDR3_OFF, "io_uring_sqe.addr3");

/* An SQE, submitting once to make room if the queue is full. */
struct io_uring_sqe *afu_get_sqe(struct io_uring *ring)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);

	if (!sqe) {
		io_uring_submit(ring);
		sqe = io_uring_get_sqe(ring);
	}
	return sqe;
}

static void prep_futex_wait(struct io_uring_sqe *sqe,
			    const volatile uint32_t *word, uint32_t val)
{
	/* Shared, not FUTEX2_PRIVATE: the release word is woken shared. */
	io_uring_prep_rw(AFORK_IORING_OP_FUTEX_WAIT, sqe, FUTEX2_SIZE_U32,
			 (const void *)word, 0, val);
	sqe->addr3 = FUTEX_BITSET_MATCH_ANY;
}

static void prep_waitid(struct io_uring_sqe *sqe, int idtype, int id,
			siginfo_t *si, int options)
{
	io_uring_prep_rw(AFORK_IORING_OP_WAITID, sqe, id, NULL,
			 (unsigned int)idtype, (uint64_t)(uintptr_t)si);
	sqe->file_index = (uint32_t)options;
}

static void queue(struct afu_watch *w, struct io_uring_sqe *sqe,
		  enum afu_tag tag)
{
	io_uring_sqe_set_data64(sqe, afu_udata(w, tag));
	w->inflight++;
	if (tag <= AFU_TAG_RELEASE_NOP) {
		w->release_armed = 1;
		w->release_udata = afu_udata(w, tag);
	}
}

/*
 * Queue the release request.  A child already released gets a NOP, so
 * that its RELEASED event comes through the ring like any other.  A child
 * whose path has nothing to wait on (a poll path without a release fd)
 * gets nothing: its release is reported with its exit, which implies it.
 */
int afu_arm_release(struct afu_watch *w)
{
	const volatile uint32_t *word = afork_release_word(w->child);
	struct io_uring_sqe *sqe;
	struct pollfd pfd;
	uint32_t v;

	if (w->paths & AFORK_URING_RELEASE_POLL &&
	    afork_release_pollfd(w->child, &pfd) < 0)
		return 0;
	sqe = afu_get_sqe(w->u->ring);
	if (!sqe)
		return -EBUSY;
	v = __atomic_load_n(word, __ATOMIC_ACQUIRE);
	if (v == 0) {
		io_uring_prep_nop(sqe);
		queue(w, sqe, AFU_TAG_RELEASE_NOP);
	} else if (w->paths & AFORK_URING_RELEASE_FUTEX) {
		prep_futex_wait(sqe, word, v);
		queue(w, sqe, AFU_TAG_RELEASE_FUTEX);
	} else {
		io_uring_prep_poll_add(sqe, pfd.fd, (unsigned int)pfd.events);
		queue(w, sqe, AFU_TAG_RELEASE_POLL);
	}
	return 0;
}

/*
 * Queue the exit request: WAITID names the child (P_PIDFD, else P_PID:
 * its pid cannot be reused before it is reaped) with __WALL, which the
 * clone backends' children with exit signal 0 need; the pidfd poll is
 * followed by afork_wait() in event.c.
 */
int afu_arm_exit(struct afu_watch *w)
{
	struct io_uring_sqe *sqe = afu_get_sqe(w->u->ring);
	int pidfd = afork_pidfd(w->child);

	if (!sqe)
		return -EBUSY;
	if (w->paths & AFORK_URING_EXIT_WAITID) {
		memset(&w->si, 0, sizeof(w->si));
		if (pidfd >= 0)
			prep_waitid(sqe, P_PIDFD, pidfd, &w->si, WEXITED | __WALL);
		else
			prep_waitid(sqe, P_PID, afork_pid(w->child), &w->si,
				    WEXITED | __WALL);
		queue(w, sqe, AFU_TAG_EXIT_WAITID);
	} else {
		io_uring_prep_poll_add(sqe, pidfd, POLLIN);
		queue(w, sqe, AFU_TAG_EXIT_POLL);
	}
	return 0;
}

/*
 * The child was reaped while its release request is still in flight: a
 * release wake-up can have gone elsewhere (CLONE_CHILD_CLEARTID wakes a
 * single waiter), so do not count on it and cancel the request.
 */
int afu_cancel_release(struct afu_watch *w)
{
	struct io_uring_sqe *sqe = afu_get_sqe(w->u->ring);

	if (!sqe)
		return -EBUSY;
	io_uring_prep_cancel64(sqe, w->release_udata, 0);
	io_uring_sqe_set_data64(sqe, afu_udata(w, AFU_TAG_CANCEL));
	w->inflight++;
	w->cancelled = 1;
	return 0;
}
