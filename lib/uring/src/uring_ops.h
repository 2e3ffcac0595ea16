/* SPDX-License-Identifier: MIT */
/*
 * What the helpers need from kernels newer than the headers they may be
 * built against (Debian's liburing 2.3 and linux-libc-dev know neither
 * IORING_OP_WAITID nor IORING_OP_FUTEX_WAIT).  Values from the 6.12 uapi
 * headers; check_uapi.c compares them with build/uapi-headers when built.
 * io_uring's opcodes are an enum, so they get names of our own.
 */
#ifndef AFORK_URING_OPS_H
#define AFORK_URING_OPS_H

#include <linux/futex.h>
#include <sys/wait.h>

/* Linux 6.7: waitid(2) as a request.  SQE: fd = id, len = idtype,
 * file_index = options, addr2 = siginfo_t *; addr, addr3 and
 * waitid_flags must be 0. */
#ifndef AFORK_IORING_OP_WAITID
#define AFORK_IORING_OP_WAITID		50
#endif

/* Linux 6.7: futex_wait(2) as a request.  SQE: addr = word, fd = FUTEX2_*
 * flags, addr2 = expected value, addr3 = wake mask; len, futex_flags,
 * buf_index and file_index must be 0. */
#ifndef AFORK_IORING_OP_FUTEX_WAIT
#define AFORK_IORING_OP_FUTEX_WAIT	51
#endif

/* SQE field offsets the generic prep leaves to us (both since 5.x). */
#define AFORK_SQE_FILE_INDEX_OFF	44
#define AFORK_SQE_ADDR3_OFF		48

#ifndef FUTEX2_SIZE_U32
#define FUTEX2_SIZE_U32			0x02	/* Linux 6.7 */
#endif
#ifndef FUTEX_BITSET_MATCH_ANY
#define FUTEX_BITSET_MATCH_ANY		0xffffffff
#endif

#ifndef P_PIDFD
#define P_PIDFD				3	/* Linux 5.4 */
#endif
#ifndef __WALL
#define __WALL				0x40000000
#endif

#endif /* AFORK_URING_OPS_H */
