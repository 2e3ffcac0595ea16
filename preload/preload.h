/* SPDX-License-Identifier: MIT */
/*
 * libafork-preload.so internals: libc's posix_spawn, posix_spawnp, popen,
 * pclose and system on top of libafork's spawn layer (its interface for
 * this library, lib/src/spawn_api.h; libafork.a is linked in), with libc's
 * own as the fallback.
 */
#ifndef AFORK_PRELOAD_H
#define AFORK_PRELOAD_H

#include <spawn.h>

#include "spawn_api.h"	/* lib/src: the spawn layer's interface for the preload */

/* Why a call went to libc's own function (AFORK_PRELOAD_STATS). */
enum fallback {
	FB_NONE = 0,
	FB_LAYOUT,	/* glibc's file action layout failed the probe */
	FB_ACTION,	/* a file action this library does not know */
	FB_FLAGS,	/* attribute flags this library does not know */
	FB_BACKEND,	/* no afork backend (AFORK_BACKEND forces a missing one) */
	FB_START,	/* afork could not start the child (pool limit, memory) */
	FB_MODE,	/* a popen mode this library does not take */
	FB_N
};

/* glibc_spawn.c: 0, or the reason to fall back. */
int preload_file_actions(const posix_spawn_file_actions_t *fa,
			 struct spawn_actions *out);
int preload_attr(const posix_spawnattr_t *attr, struct spawn_attr *out);

#endif /* AFORK_PRELOAD_H */
