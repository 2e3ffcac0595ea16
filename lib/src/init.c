/* SPDX-License-Identifier: MIT */
/*
 * Process-wide initialisation, done once on first use: read the
 * environment and register the pthread_atfork() handlers that keep the
 * library's locks and lists consistent across fork() in the parent.
 */
#include "internal.h"

static void atfork_prepare(void)
{
	/* Lock order: clone's fd window, the vfork workers, the pool. */
	afork__atfork_clone(AFORK_ATFORK_PREPARE);
	afork__atfork_vfork(AFORK_ATFORK_PREPARE);
	afork__atfork_pool(AFORK_ATFORK_PREPARE);
}

static void atfork_parent(void)
{
	afork__atfork_pool(AFORK_ATFORK_PARENT);
	afork__atfork_vfork(AFORK_ATFORK_PARENT);
	afork__atfork_clone(AFORK_ATFORK_PARENT);
}

static void atfork_child(void)
{
	afork__atfork_pool(AFORK_ATFORK_CHILD);
	afork__atfork_vfork(AFORK_ATFORK_CHILD);
	afork__atfork_clone(AFORK_ATFORK_CHILD);
	afork__tracer_forget();
}

static pthread_once_t init_once = PTHREAD_ONCE_INIT;

static void init(void)
{
	afork__pool_env();
	pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
}

void afork__init(void)
{
	pthread_once(&init_once, init);
}
