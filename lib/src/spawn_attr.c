/* SPDX-License-Identifier: MIT */
/*
 * afork_spawnattr_*: the attributes, a struct spawn_attr inside the
 * public opaque type.  Signal sets are kept as the kernel's 64-bit sets.
 */
#include <errno.h>
#include <string.h>

#include "spawn_int.h"

_Static_assert(sizeof(struct spawn_attr) <= sizeof(afork_spawnattr_t),
	       "struct spawn_attr outgrew afork_spawnattr_t");
_Static_assert(_Alignof(struct spawn_attr) <= _Alignof(afork_spawnattr_t),
	       "afork_spawnattr_t is not aligned enough");

#define KNOWN_AFLAGS ((int)(AFORK_NOSIGCHLD | AFORK_WAITPID))
#define KNOWN_OPTIONS (AFORK_OPT_PIDFD | AFORK_OPT_RELEASE_FD)

void afork__spawnattr_default(struct spawn_attr *a)
{
	memset(a, 0, sizeof(*a));
	a->magic = SPAWN_ATTR_MAGIC;
	a->options = AFORK_OPT_PIDFD;
}

static struct spawn_attr *get(afork_spawnattr_t *attr)
{
	struct spawn_attr *a = (struct spawn_attr *)(void *)attr;

	return a && a->magic == SPAWN_ATTR_MAGIC ? a : NULL;
}

const struct spawn_attr *afork__spawnattr(const afork_spawnattr_t *attr)
{
	return get((afork_spawnattr_t *)attr);
}

static uint64_t to_kset(const sigset_t *s)
{
	uint64_t k;

	memcpy(&k, s, sizeof(k));
	return k;
}

static void from_kset(sigset_t *s, uint64_t k)
{
	sigemptyset(s);
	memcpy(s, &k, sizeof(k));
}

AFORK_API int afork_spawnattr_init(afork_spawnattr_t *attr)
{
	if (!attr)
		return EINVAL;
	memset(attr, 0, sizeof(*attr));
	afork__spawnattr_default((struct spawn_attr *)(void *)attr);
	return 0;
}

AFORK_API int afork_spawnattr_destroy(afork_spawnattr_t *attr)
{
	struct spawn_attr *a = get(attr);

	if (!a)
		return EINVAL;
	a->magic = 0;
	return 0;
}

AFORK_API int afork_spawnattr_setflags(afork_spawnattr_t *attr, int flags)
{
	struct spawn_attr *a = get(attr);

	if (!a || (flags & ~SPAWN_KNOWN_FLAGS))
		return EINVAL;
	a->flags = flags;
	return 0;
}

AFORK_API int afork_spawnattr_getflags(const afork_spawnattr_t *attr, int *flags)
{
	const struct spawn_attr *a = afork__spawnattr(attr);

	if (!a || !flags)
		return EINVAL;
	*flags = a->flags;
	return 0;
}

AFORK_API int afork_spawnattr_setpgroup(afork_spawnattr_t *attr, pid_t pgroup)
{
	struct spawn_attr *a = get(attr);

	if (!a || pgroup < 0)
		return EINVAL;
	a->pgroup = pgroup;
	return 0;
}

AFORK_API int afork_spawnattr_getpgroup(const afork_spawnattr_t *attr,
					pid_t *pgroup)
{
	const struct spawn_attr *a = afork__spawnattr(attr);

	if (!a || !pgroup)
		return EINVAL;
	*pgroup = a->pgroup;
	return 0;
}

AFORK_API int afork_spawnattr_setsigmask(afork_spawnattr_t *attr,
					 const sigset_t *mask)
{
	struct spawn_attr *a = get(attr);

	if (!a || !mask)
		return EINVAL;
	a->sigmask = to_kset(mask);
	return 0;
}

AFORK_API int afork_spawnattr_getsigmask(const afork_spawnattr_t *attr,
					 sigset_t *mask)
{
	const struct spawn_attr *a = afork__spawnattr(attr);

	if (!a || !mask)
		return EINVAL;
	from_kset(mask, a->sigmask);
	return 0;
}

AFORK_API int afork_spawnattr_setsigdefault(afork_spawnattr_t *attr,
					    const sigset_t *set)
{
	struct spawn_attr *a = get(attr);

	if (!a || !set)
		return EINVAL;
	a->sigdefault = to_kset(set);
	return 0;
}

AFORK_API int afork_spawnattr_getsigdefault(const afork_spawnattr_t *attr,
					    sigset_t *set)
{
	const struct spawn_attr *a = afork__spawnattr(attr);

	if (!a || !set)
		return EINVAL;
	from_kset(set, a->sigdefault);
	return 0;
}

AFORK_API int afork_spawnattr_setschedpolicy(afork_spawnattr_t *attr, int policy)
{
	struct spawn_attr *a = get(attr);

	if (!a)
		return EINVAL;
	a->policy = policy;	/* the kernel judges it, in the child */
	return 0;
}

AFORK_API int afork_spawnattr_getschedpolicy(const afork_spawnattr_t *attr,
					     int *policy)
{
	const struct spawn_attr *a = afork__spawnattr(attr);

	if (!a || !policy)
		return EINVAL;
	*policy = a->policy;
	return 0;
}

AFORK_API int afork_spawnattr_setschedparam(afork_spawnattr_t *attr,
					    const struct sched_param *param)
{
	struct spawn_attr *a = get(attr);

	if (!a || !param)
		return EINVAL;
	a->priority = param->sched_priority;
	return 0;
}

AFORK_API int afork_spawnattr_getschedparam(const afork_spawnattr_t *attr,
					    struct sched_param *param)
{
	const struct spawn_attr *a = afork__spawnattr(attr);

	if (!a || !param)
		return EINVAL;
	memset(param, 0, sizeof(*param));
	param->sched_priority = a->priority;
	return 0;
}

AFORK_API int afork_spawnattr_setafork(afork_spawnattr_t *attr, int flags,
				       unsigned int options)
{
	struct spawn_attr *a = get(attr);

	if (!a || (flags & ~KNOWN_AFLAGS) || (options & ~KNOWN_OPTIONS))
		return EINVAL;
	a->aflags = flags;
	a->options = options;
	return 0;
}

AFORK_API int afork_spawnattr_getafork(const afork_spawnattr_t *attr,
				       int *flags, unsigned int *options)
{
	const struct spawn_attr *a = afork__spawnattr(attr);

	if (!a)
		return EINVAL;
	if (flags)
		*flags = a->aflags;
	if (options)
		*options = a->options;
	return 0;
}
