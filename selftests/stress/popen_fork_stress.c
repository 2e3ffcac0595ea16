// SPDX-License-Identifier: MIT
/*
 * popen against fork(): one thread runs popen/pclose while another
 * fork()s, for every order in which the program first uses the library
 * (popen first, afork first, system first) and on every host backend.
 *
 * afork_popen() holds its lock while it spawns, which takes the library's
 * locks; fork() takes all of them in its prepare handlers.  The order of
 * those handlers follows the order of registration, so a program whose
 * first call was popen once took them in the opposite order and
 * deadlocked (issue 13, defect 1).  A deadlock here ends in the harness's
 * timeout; the threads meet through a flag and the kernel's wait, never
 * through sleeping.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <afork.h>
#include <afork_spawn.h>

#include "kselftest_harness.h"

#define POPENS 400	/* the hang came after about 400 on both backends */

enum first_use { FIRST_POPEN, FIRST_AFORK, FIRST_SYSTEM };

FIXTURE(popen_fork) {
	int stop;
	int forks;
};

FIXTURE_VARIANT(popen_fork) {
	const char *backend;
	enum first_use first;
};

#define PF_VARIANT(be, name, f)						\
FIXTURE_VARIANT_ADD(popen_fork, be##_##name) {				\
	.backend = #be, .first = f,					\
}

PF_VARIANT(clone3, popen_first, FIRST_POPEN);
PF_VARIANT(clone3, afork_first, FIRST_AFORK);
PF_VARIANT(clone3, system_first, FIRST_SYSTEM);
PF_VARIANT(vfork, popen_first, FIRST_POPEN);
PF_VARIANT(vfork, afork_first, FIRST_AFORK);
PF_VARIANT(vfork, system_first, FIRST_SYSTEM);

FIXTURE_SETUP(popen_fork)
{
	struct rlimit nocore = { 0, 0 };

	setrlimit(RLIMIT_CORE, &nocore);
	self->stop = 0;
	self->forks = 0;
	setenv("AFORK_BACKEND", variant->backend, 1);
	/* Nothing of libafork may run before the variant's first use. */
}

FIXTURE_TEARDOWN(popen_fork)
{
}

static int child_exit0(void *unused)
{
	(void)unused;
	return 0;
}

static void *forker(void *p)
{
	FIXTURE_DATA(popen_fork) *self = p;
	int st;
	pid_t pid;

	while (!__atomic_load_n(&self->stop, __ATOMIC_ACQUIRE)) {
		pid = fork();
		if (pid == 0)
			_exit(0);
		if (pid < 0)
			return (void *)(long)errno;
		if (waitpid(pid, &st, 0) != pid)
			return (void *)(long)errno;
		self->forks++;
	}
	return NULL;
}

/*
 * popen/pclose in one thread, fork() in another: both finish.  A variant
 * takes about 5 s on the host and 50-120 s in the TCG guest with KASAN
 * (120 s under a loaded host): the limit is well above that.
 */
TEST_F_TIMEOUT(popen_fork, no_deadlock, 300)
{
	pthread_t t;
	void *ret;
	FILE *f;
	pid_t pid;
	int i, st;

	switch (variant->first) {
	case FIRST_POPEN:
		f = afork_popen("exit 0", "r");
		ASSERT_NE(NULL, f);
		ASSERT_EQ(0, afork_pclose(f));
		break;
	case FIRST_AFORK:
		pid = afork(child_exit0, NULL);
		ASSERT_GT(pid, 0);
		ASSERT_EQ(pid, waitpid(pid, &st, __WALL));
		break;
	case FIRST_SYSTEM:
		ASSERT_EQ(0, afork_system("exit 0"));
		break;
	}
	ASSERT_EQ(variant->backend[0] == 'v' ? AFORK_BACKEND_VFORK
					     : AFORK_BACKEND_CLONE3,
		  afork_backend());

	ASSERT_EQ(0, pthread_create(&t, NULL, forker, self));
	for (i = 0; i < POPENS; i++) {
		f = afork_popen("exit 0", "r");
		if (!f)
			break;
		if (afork_pclose(f) != 0)
			break;
	}
	__atomic_store_n(&self->stop, 1, __ATOMIC_RELEASE);
	ASSERT_EQ(0, pthread_join(t, &ret));
	EXPECT_EQ(POPENS, i);
	EXPECT_EQ(NULL, ret);
	TH_LOG("%d popens, %d forks", i, self->forks);
}

TEST_HARNESS_MAIN
