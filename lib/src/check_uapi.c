/* SPDX-License-Identifier: MIT */
/*
 * Compile-time checks that the public header agrees with the kernel's uapi
 * header (uapi/linux/afork.h) and with itself.  No code.
 */
#include <stddef.h>
#include <afork.h>

enum {
	PUB_NOSIGCHLD = AFORK_NOSIGCHLD,
	PUB_WAITPID = AFORK_WAITPID,
};

#undef AFORK_NOSIGCHLD
#undef AFORK_WAITPID
#include <linux/afork.h>

_Static_assert(PUB_NOSIGCHLD == AFORK_NOSIGCHLD,
	       "<afork.h> and <linux/afork.h> disagree on AFORK_NOSIGCHLD");
_Static_assert(PUB_WAITPID == AFORK_WAITPID,
	       "<afork.h> and <linux/afork.h> disagree on AFORK_WAITPID");
_Static_assert(sizeof(struct afork_opts) == AFORK_OPTS_SIZE_VER0,
	       "struct afork_opts changed size: add AFORK_OPTS_SIZE_VER1");
_Static_assert(offsetof(struct afork_pool_stats, maps) ==
	       offsetof(struct afork_pool_stats, max_free) + sizeof(unsigned long),
	       "struct afork_pool_stats: only append members");

extern int afork__check_uapi_unused;
