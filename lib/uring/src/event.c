/* SPDX-License-Identifier: MIT */
/*
 * Completions: what each one means for its child, the follow-up requests,
 * and the events returned to the caller.
 *
 * Per child the caller sees RELEASED before (or with) EXITED, and EXITED
 * only once none of our requests for the child is in flight: after it the
 * record is reused, and the caller may afork_free() the child.
 */
#include <errno.h>
#include <string.h>

#include "internal.h"

AFU_API int afork_uring_owns(const struct io_uring_cqe *cqe)
{
	return cqe && (cqe->user_data & AFU_MARK_MASK) == AFU_MARK &&
	       (cqe->user_data & AFU_TAG_MASK) != 0;
}

static int status_of(const siginfo_t *si)
{
	switch (si->si_code) {
	case CLD_EXITED:
		return (si->si_status & 0xff) << 8;
	case CLD_KILLED:
		return si->si_status & 0x7f;
	case CLD_DUMPED:
		return (si->si_status & 0x7f) | 0x80;
	}
	return 0;
}

/*
 * The release request completed with res.  The word decides: a futex
 * wake-up or poll event without release (value changed, spurious wake,
 * the TID stored after we read the word) re-arms; an error or a
 * cancellation leaves the release to be implied by the exit.
 */
static void on_release(struct afu_watch *w, enum afu_tag tag, int res)
{
	int rearm = 0;

	w->release_armed = 0;
	if (afork_released(w->child) == 1) {
		w->released = 1;
		return;
	}
	if (w->exited)
		return;
	if (tag == AFU_TAG_RELEASE_FUTEX)
		rearm = res == 0 || res == -EAGAIN || res == -EINTR;
	else if (tag == AFU_TAG_RELEASE_POLL)
		rearm = res > 0 && !(res & (POLLHUP | POLLERR | POLLNVAL));
	if (rearm)
		afu_arm_release(w);	/* on -EBUSY: implied by the exit */
}

/* The exit request completed with res. */
static void on_exit_waitid(struct afu_watch *w, int res)
{
	w->exited = 1;
	if (res < 0) {
		w->error = -res;	/* ECHILD: reaped by someone else */
		return;
	}
	w->status = status_of(&w->si);
}

static void on_exit_poll(struct afu_watch *w, int res)
{
	int st = 0;
	pid_t r;

	r = afork_wait(w->child, &st, WNOHANG);
	if (r > 0) {
		w->exited = 1;
		w->status = st;
		return;
	}
	if (r < 0 || res < 0 || res & (POLLERR | POLLNVAL)) {
		w->exited = 1;
		w->error = r < 0 ? errno : res < 0 ? -res : EIO;
		return;
	}
	/* POLLIN before the child can be waited for: poll again. */
	if (afu_arm_exit(w) < 0) {
		w->exited = 1;
		w->error = EBUSY;	/* not reaped: afork_wait() it */
	}
}

AFU_API int afork_uring_handle(struct afork_uring *u,
			       const struct io_uring_cqe *cqe,
			       struct afork_uring_event *ev)
{
	struct afu_watch *w;
	enum afu_tag tag;

	if (!u || !ev || !afork_uring_owns(cqe)) {
		errno = EINVAL;
		return -1;
	}
	w = afu_watch_of(cqe->user_data);
	tag = (enum afu_tag)(cqe->user_data & AFU_TAG_MASK);
	if (w->u != u) {
		errno = EINVAL;
		return -1;
	}
	w->inflight--;
	switch (tag) {
	case AFU_TAG_RELEASE_FUTEX:
	case AFU_TAG_RELEASE_POLL:
	case AFU_TAG_RELEASE_NOP:
		on_release(w, tag, cqe->res);
		break;
	case AFU_TAG_EXIT_WAITID:
		on_exit_waitid(w, cqe->res);
		break;
	case AFU_TAG_EXIT_POLL:
		on_exit_poll(w, cqe->res);
		break;
	default:	/* AFU_TAG_CANCEL */
		break;
	}

	if (w->exited) {
		/*
		 * Reaped (by us, or by someone else: ECHILD), so released;
		 * the vfork backend's worker may not have published it yet
		 * (a moment, see afork_wait()).
		 */
		if ((!w->error || w->error == ECHILD) &&
		    afork_released(w->child) != 1)
			afork_wait_release(w->child, -1);
		if (afork_released(w->child) == 1) {
			w->released = 1;
			if (w->release_armed && !w->cancelled &&
			    afu_cancel_release(w) < 0)
				w->cancelled = 1;	/* wait for it instead */
		}
	}

	memset(ev, 0, sizeof(*ev));
	ev->child = w->child;
	ev->data = w->data;
	ev->paths = w->paths;
	if (w->released && !w->reported) {
		w->reported = 1;
		ev->events |= AFORK_URING_RELEASED;
	}
	if (w->released) {
		ev->exec_errno = afork_exec_errno(w->child);
		if (ev->exec_errno < 0)
			ev->exec_errno = 0;
	}
	if (w->exited && w->inflight == 0) {
		ev->events |= AFORK_URING_EXITED;
		ev->status = w->status;
		ev->error = w->error;
		afu_watch_done(w);
	}
	return ev->events ? 1 : 0;
}
