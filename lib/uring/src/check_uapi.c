/* SPDX-License-Identifier: MIT */
/*
 * Compile-time check of uring_ops.h against the patched tree's uapi
 * headers (build/uapi-headers, `make -C qemu headers`): built by
 * `make check-uapi`, never linked.
 */
#include <stddef.h>
#include <linux/futex.h>
#include <linux/io_uring.h>

#include "uring_ops.h"

_Static_assert(IORING_OP_WAITID == AFORK_IORING_OP_WAITID, "IORING_OP_WAITID");
_Static_assert(IORING_OP_FUTEX_WAIT == AFORK_IORING_OP_FUTEX_WAIT,
	       "IORING_OP_FUTEX_WAIT");
_Static_assert(offsetof(struct io_uring_sqe, file_index) ==
	       AFORK_SQE_FILE_INDEX_OFF, "file_index");
_Static_assert(offsetof(struct io_uring_sqe, addr3) == AFORK_SQE_ADDR3_OFF,
	       "addr3");
_Static_assert(offsetof(struct io_uring_sqe, waitid_flags) ==
	       offsetof(struct io_uring_sqe, rw_flags), "waitid_flags");
_Static_assert(offsetof(struct io_uring_sqe, futex_flags) ==
	       offsetof(struct io_uring_sqe, rw_flags), "futex_flags");
_Static_assert(FUTEX2_SIZE_U32 == 0x02, "FUTEX2_SIZE_U32");
