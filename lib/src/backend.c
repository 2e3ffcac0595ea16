/* SPDX-License-Identifier: MIT */
/*
 * Backend selection, done once per process and cached.
 *
 *   syscall       the afork system call (patched kernels), detected with
 *                 AFORK_QUERY: present only if both the return value and
 *                 the flag mask written back make sense (docs/contracts.md)
 *   clone3        clone3(CLONE_VM | CLONE_CLEAR_SIGHAND | CLONE_PIDFD |
 *                 CLONE_CHILD_CLEARTID | CLONE_PARENT_SETTID), Linux 5.5+
 *   clone-legacy  clone(CLONE_VM | CLONE_CHILD_CLEARTID [| CLONE_PIDFD]),
 *                 any Linux (CLONE_PIDFD 5.2+)
 *   vfork         worker threads that vfork(), portable
 *
 * "auto" (default) takes the first that works of syscall, clone3,
 * clone-legacy.  AFORK_BACKEND=name forces one; "clone" means clone3 if
 * available, else clone-legacy.  A forced backend the kernel lacks makes
 * every afork fail with ENOSYS, an unknown name with EINVAL: no silent
 * fallback from what was asked for.  A clone3 that the kernel (or a seccomp
 * filter) refuses at the first real call demotes clone3 to clone-legacy,
 * unless clone3 was forced.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static int chosen;		/* AFORK_BACKEND_* or -errno */
static int clone3_forced;
static pthread_once_t choose_once = PTHREAD_ONCE_INIT;

static void choose(void)
{
	const char *e = secure_getenv("AFORK_BACKEND");

	if (!e || !*e || !strcmp(e, "auto")) {
		if (afork__syscall_probe())
			chosen = AFORK_BACKEND_SYSCALL;
		else if (afork__clone3_probe())
			chosen = AFORK_BACKEND_CLONE3;
		else
			chosen = AFORK_BACKEND_CLONE;
	} else if (!strcmp(e, "syscall")) {
		chosen = afork__syscall_probe() ? AFORK_BACKEND_SYSCALL : -ENOSYS;
	} else if (!strcmp(e, "clone")) {
		chosen = afork__clone3_probe() ? AFORK_BACKEND_CLONE3
					       : AFORK_BACKEND_CLONE;
	} else if (!strcmp(e, "clone3")) {
		clone3_forced = 1;
		chosen = afork__clone3_probe() ? AFORK_BACKEND_CLONE3 : -ENOSYS;
	} else if (!strcmp(e, "clone-legacy")) {
		chosen = AFORK_BACKEND_CLONE;
	} else if (!strcmp(e, "vfork")) {
		chosen = AFORK_BACKEND_VFORK;
	} else {
		chosen = -EINVAL;
	}
}

int afork__backend_get(void)
{
	afork__init();
	pthread_once(&choose_once, choose);
	return __atomic_load_n(&chosen, __ATOMIC_ACQUIRE);
}

int afork__clone3_failed(void)
{
	int expected = AFORK_BACKEND_CLONE3;

	if (clone3_forced)
		return 0;
	__atomic_compare_exchange_n(&chosen, &expected, AFORK_BACKEND_CLONE, 0,
				    __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
	return 1;
}

AFORK_API int afork_backend(void)
{
	int b = afork__backend_get();

	if (b < 0) {
		errno = -b;
		return -1;
	}
	return b;
}

AFORK_API int afork_tls_private(void)
{
	int b = afork__backend_get();

	switch (b) {
	case AFORK_BACKEND_VFORK:
		return 1;	/* the worker's TLS, suspended in vfork() */
	case AFORK_BACKEND_SYSCALL:
		return afork__syscall_settls() && afork__tls_supported();
	case AFORK_BACKEND_CLONE3:
	case AFORK_BACKEND_CLONE:
		return afork__tls_supported();
	}
	errno = -b;
	return -1;
}

AFORK_API const char *afork_backend_name(int backend)
{
	switch (backend) {
	case AFORK_BACKEND_SYSCALL:
		return "syscall";
	case AFORK_BACKEND_CLONE3:
		return "clone3";
	case AFORK_BACKEND_CLONE:
		return "clone-legacy";
	case AFORK_BACKEND_VFORK:
		return "vfork";
	}
	return NULL;
}
