/* SPDX-License-Identifier: MIT */
/*
 * libafork-uring internals: the state per ring and the record per watched
 * child, and how a completion's user_data leads back to that record.
 */
#ifndef AFORK_URING_INTERNAL_H
#define AFORK_URING_INTERNAL_H

#include <afork_uring.h>
#include <signal.h>
#include <stdint.h>

#include "uring_ops.h"

#define AFU_API __attribute__((visibility("default")))

/*
 * user_data of every request: the record's address, a tag in the low 3
 * bits (records are 16-byte aligned) and AFU_MARK in the top byte, which
 * user-space addresses never have on x86-64 (even with 5-level paging
 * they end below 1 << 56) nor on arm64 (below 1 << 52), as long as the
 * pointers carry no tag in their top byte: heap tagging (MTE, HWASan) is
 * not supported, its tag would be lost here.
 */
#define AFU_MARK	(0xafull << 56)
#define AFU_MARK_MASK	(0xffull << 56)
#define AFU_TAG_MASK	0x7ull

enum afu_tag {
	AFU_TAG_RELEASE_FUTEX = 1,	/* IORING_OP_FUTEX_WAIT on the word */
	AFU_TAG_RELEASE_POLL = 2,	/* POLL_ADD on the release fd */
	AFU_TAG_RELEASE_NOP = 3,	/* released before we armed */
	AFU_TAG_EXIT_WAITID = 4,	/* IORING_OP_WAITID */
	AFU_TAG_EXIT_POLL = 5,		/* POLL_ADD on the pidfd */
	AFU_TAG_CANCEL = 6,		/* ASYNC_CANCEL of the release request */
};

#define AFU_RELEASE_PATHS (AFORK_URING_RELEASE_FUTEX | AFORK_URING_RELEASE_POLL)
#define AFU_EXIT_PATHS (AFORK_URING_EXIT_WAITID | AFORK_URING_EXIT_POLL)

struct afu_watch;

struct afork_uring {
	struct io_uring *ring;
	unsigned int paths;		/* in use: one release, one exit path */
	unsigned int have;		/* the ring supports: AFORK_URING_* */
	unsigned long watched;		/* records on the list */
	struct afu_watch *list;		/* watched children */
	struct afu_watch *spare;	/* records kept for reuse */
	unsigned long nspare;
};

/* One per watched child; lives until the EXITED event is returned. */
struct afu_watch {
	siginfo_t si;			/* written by IORING_OP_WAITID */
	struct afork_uring *u;
	struct afu_watch *next, *prev;
	struct afork_child *child;
	void *data;
	unsigned int paths;		/* the paths of this child */
	unsigned int inflight;		/* our requests not yet completed */
	uint64_t release_udata;		/* of the release request in flight */
	unsigned char release_armed;	/* a release request is in flight */
	unsigned char released;		/* known released */
	unsigned char reported;		/* RELEASED returned */
	unsigned char exited;		/* exit handled (reaped or given up) */
	unsigned char cancelled;	/* cancel of the release request sent */
	int status;
	int error;
} __attribute__((aligned(16)));

static inline uint64_t afu_udata(struct afu_watch *w, enum afu_tag tag)
{
	return AFU_MARK | (uint64_t)(uintptr_t)w | (uint64_t)tag;
}

static inline struct afu_watch *afu_watch_of(uint64_t udata)
{
	return (struct afu_watch *)(uintptr_t)(udata & ~(AFU_MARK_MASK | AFU_TAG_MASK));
}

/* watch.c: queue the requests; 0 or -errno. */
struct io_uring_sqe *afu_get_sqe(struct io_uring *ring);
int afu_arm_release(struct afu_watch *w);
int afu_arm_exit(struct afu_watch *w);
int afu_cancel_release(struct afu_watch *w);

/* ring.c: the record's life. */
void afu_watch_done(struct afu_watch *w);

#endif /* AFORK_URING_INTERNAL_H */
