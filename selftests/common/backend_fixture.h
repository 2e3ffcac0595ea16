/* SPDX-License-Identifier: MIT */
/*
 * The per-backend fixture of the libafork selftests: every TEST_F of a
 * fixture made with AFORK_BACKEND_FIXTURE() runs once per backend, as the
 * variants syscall, clone3, clone_legacy and vfork.  The harness forks per
 * test, so AFORK_BACKEND set in the setup decides the backend for that
 * test alone; a backend the running kernel lacks is skipped with the
 * reason.  Include kselftest_harness.h and afork.h first.
 *
 *   AFORK_BACKEND_FIXTURE(name, char tmp[PATH_MAX];);
 *
 *   FIXTURE_SETUP(name)
 *   {
 *           AFORK_BACKEND_SETUP();
 *           ...
 *   }
 */
#ifndef SELFTESTS_COMMON_BACKEND_FIXTURE_H
#define SELFTESTS_COMMON_BACKEND_FIXTURE_H

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <afork.h>

/* The fixture @name (self->id, then @extra members) and its four variants. */
#define AFORK_BACKEND_FIXTURE(name, extra)				\
FIXTURE(name) {								\
	int id;								\
	extra								\
};									\
FIXTURE_VARIANT(name) {							\
	const char *env;						\
	int id;								\
};									\
FIXTURE_VARIANT_ADD(name, syscall) {					\
	.env = "syscall", .id = AFORK_BACKEND_SYSCALL,			\
};									\
FIXTURE_VARIANT_ADD(name, clone3) {					\
	.env = "clone3", .id = AFORK_BACKEND_CLONE3,			\
};									\
FIXTURE_VARIANT_ADD(name, clone_legacy) {				\
	.env = "clone-legacy", .id = AFORK_BACKEND_CLONE,		\
};									\
FIXTURE_VARIANT_ADD(name, vfork) {					\
	.env = "vfork", .id = AFORK_BACKEND_VFORK,			\
}

/* Select the backend named @env for this process, without core dumps. */
static inline int afork_backend_select(const char *env)
{
	struct rlimit nocore = { 0, 0 };

	setrlimit(RLIMIT_CORE, &nocore);
	setenv("AFORK_BACKEND", env, 1);
	return afork_backend();
}

/* In FIXTURE_SETUP: the variant's backend in self->id, or skip the test. */
#define AFORK_BACKEND_SETUP()						\
do {									\
	self->id = afork_backend_select(variant->env);			\
	if (self->id < 0)						\
		SKIP(return, "backend %s not available here: %s",	\
		     variant->env, strerror(errno));			\
	ASSERT_EQ(variant->id, self->id);				\
} while (0)

/* The two clone backends, which share their flag semantics. */
static inline int afork_backend_is_clone(int id)
{
	return id == AFORK_BACKEND_CLONE3 || id == AFORK_BACKEND_CLONE;
}

#endif /* SELFTESTS_COMMON_BACKEND_FIXTURE_H */
