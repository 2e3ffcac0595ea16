/* SPDX-License-Identifier: MIT */
/*
 * afork_spawn(), afork_spawnp(): the parent's side (see spawn_int.h for the
 * whole sequence, spawn_child.c for the child's side).
 *
 * The copy of the arguments goes to the bottom of the child's stack,
 * written between the pool handing out the stack and the child's start
 * (afork__start() with a prep step): a stack is the one piece of memory whose life
 * ends exactly when the child no longer needs it (the pool reuses it after
 * release), with no bookkeeping of our own.  The child finds its copy ready;
 * neither side ever waits for the other.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "spawn_int.h"

/* Bytes needed for the copy; 0 if it cannot fit any stack. */
static size_t measure(const struct spawn_req *r, const char *search,
		      size_t *argc, size_t *envc)
{
	const struct spawn_actions *fa = r->fa;
	size_t n = sizeof(struct spawn_block), i;

	n += strlen(r->path) + 1;
	if (search)
		n += strlen(search) + 1;
	for (i = 0; r->argv && r->argv[i]; i++) {
		n += sizeof(char *) + strlen(r->argv[i]) + 1;
		if (n > AFORK_STACK_MAX)
			return 0;
	}
	*argc = i;
	n += sizeof(char *);
	for (i = 0; r->envp && r->envp[i]; i++) {
		n += sizeof(char *) + strlen(r->envp[i]) + 1;
		if (n > AFORK_STACK_MAX)
			return 0;
	}
	*envc = i;
	n += sizeof(char *);
	if (fa) {
		n += fa->n * sizeof(struct spawn_action) + 16;
		for (i = 0; i < fa->n; i++)
			if (fa->a[i].path)
				n += strlen(fa->a[i].path) + 1;
	}
	n += 64;	/* alignment slack */
	return n > AFORK_STACK_MAX ? 0 : n;
}

struct bump {
	char *p;
};

static void *take(struct bump *b, size_t n, size_t align)
{
	uintptr_t at = ((uintptr_t)b->p + align - 1) & ~(uintptr_t)(align - 1);

	b->p = (char *)(at + n);
	return (void *)at;
}

static char *copy_str(struct bump *b, const char *s)
{
	size_t n = strlen(s) + 1;
	char *d = take(b, n, 1);

	memcpy(d, s, n);
	return d;
}

static char **copy_vec(struct bump *b, char *const *v, size_t n)
{
	char **d = take(b, (n + 1) * sizeof(char *), sizeof(char *));
	size_t i;

	for (i = 0; i < n; i++)
		d[i] = copy_str(b, v[i]);
	d[n] = NULL;
	return d;
}

static int has_slash(const char *s)
{
	return strchr(s, '/') != NULL;
}

/* What fill_block() copies. */
struct fill {
	const struct spawn_req *r;
	const struct spawn_attr *attr;
	const char *search;
	size_t argc, envc;
	int shield;
};

/* Write the child's copy at the bottom of its stack, before it starts. */
static int fill_block(struct afork_child *c, void *p)
{
	const struct fill *f = p;
	const struct spawn_req *r = f->r;
	struct spawn_block *b = afork__stack_base(c);
	struct bump bp;
	size_t i;

	bp.p = (char *)(b + 1);
	b->nactions = 0;
	b->actions = NULL;
	b->attr = *f->attr;
	b->mask = (f->attr->flags & AFORK_SPAWN_SETSIGMASK) ?
		  f->attr->sigmask : afork__current_mask();
	b->path = copy_str(&bp, r->path);
	b->search = f->search ? copy_str(&bp, f->search) : NULL;
	b->use_path = r->use_path;
	b->argv = copy_vec(&bp, r->argv, f->argc);
	b->envp = r->envp ? copy_vec(&bp, r->envp, f->envc) : NULL;
	if (r->fa && r->fa->n) {
		b->nactions = r->fa->n;
		b->actions = take(&bp, r->fa->n * sizeof(struct spawn_action),
				  _Alignof(struct spawn_action));
		for (i = 0; i < r->fa->n; i++) {
			b->actions[i] = r->fa->a[i];
			if (r->fa->a[i].path)
				b->actions[i].path = copy_str(&bp, r->fa->a[i].path);
		}
	}
	b->exec_done = 0;
	b->chld_ignored = 0;
	b->shield_pid = 0;
	b->shield_stack = NULL;
	if (f->shield) {
		char *lo = take(&bp, SPAWN_WORK_STACK, 16);

		b->shield_stack = lo + SPAWN_WORK_STACK;
		c->proxy = 1;	/* afork_pid() and afork_wait(): the command */
	}
	return 0;
}

int afork__spawn(struct afork_child **childp, struct spawn_req *r)
{
	int shield = 0;
	struct spawn_attr dflt;
	const struct spawn_attr *attr = r->attr;
	const char *search = NULL;
	struct afork_opts opts;
	struct afork_child *c;
	struct fill f;
	size_t need, argc = 0, envc = 0;
	int saved = errno, err;

	if (!r->path)
		return -EINVAL;
	if (!attr) {
		afork__spawnattr_default(&dflt);
		attr = &dflt;
	}
	if (attr->flags & ~SPAWN_KNOWN_FLAGS)
		return -EINVAL;
	if (r->use_path && !has_slash(r->path))
		search = r->search ? r->search : getenv("PATH");

	need = measure(r, search, &argc, &envc);
	if (!need || need + 2 * SPAWN_WORK_STACK > AFORK_STACK_MAX)
		return -E2BIG;
	afork_opts_init(&opts);
	opts.flags = attr->aflags;
	/* The shield only where the flags would not outlive the exec. */
	if ((r->how & SPAWN_REQ_SHIELD) &&
	    (attr->aflags & (int)(AFORK_NOSIGCHLD | AFORK_WAITPID))) {
		int be = afork__backend_get();

		shield = be == AFORK_BACKEND_CLONE3 || be == AFORK_BACKEND_CLONE;
		/* vfork cannot keep them at all: an ordinary child there. */
		if (be == AFORK_BACKEND_VFORK)
			opts.flags = 0;
	}
	if (shield)
		need += SPAWN_WORK_STACK + 16;
	/* No handle wanted: no pidfd or release fd to make and close again. */
	opts.options = (childp && !r->no_handle ? attr->options : 0) |
		       AFORK_OPT_SIGMASK;
	sigfillset(&opts.sigmask);	/* until the child's last step */
	/* A size the pool keeps: popen's stack is reused, not mapped anew. */
	opts.stack_size = afork__pool_class(need + SPAWN_WORK_STACK);

	f = (struct fill){ r, attr, search, argc, envc, shield };
	err = afork__start(&(struct afork_start_req){
		.childp = &c, .opts = &opts, .fn_ctx = afork__spawn_child,
		.prep = fill_block, .prep_arg = &f });
	if (!err) {
		r->shielded = shield;
		if (childp)
			*childp = c;
		else
			afork_free(c);
	}
	errno = saved;
	return err;
}

int afork__spawn_wait_exec(struct afork_child *c, int shielded)
{
	struct spawn_block *b = afork__stack_base(c);

	if (!shielded) {
		afork_wait_release(c, -1);
		return afork_exec_errno(c);
	}
	/*
	 * Release is the shield's exit; exec_done says when the exec was,
	 * and nudges the release word, so one futex word covers both.
	 */
	for (;;) {
		uint32_t v;

		if (__atomic_load_n(&b->exec_done, __ATOMIC_ACQUIRE))
			return __atomic_load_n(&c->exec_errno, __ATOMIC_ACQUIRE);
		v = afork__load(&c->release);
		if (v == 0)
			break;
		sys_futex_wait(&c->release, v, NULL);
	}
	/*
	 * The shield died before saying so (killed): the command was never
	 * created, which popen reports as fork() failing would be.
	 */
	if (__atomic_load_n(&b->exec_done, __ATOMIC_ACQUIRE))
		return __atomic_load_n(&c->exec_errno, __ATOMIC_ACQUIRE);
	return c->exec_errno ? c->exec_errno : EAGAIN;
}

static int spawn(struct afork_child **childp, pid_t *pid, const char *path,
		 int use_path, const afork_spawn_file_actions_t *fa,
		 const afork_spawnattr_t *attr, char *const argv[],
		 char *const envp[])
{
	struct spawn_req r;
	struct afork_child *c;
	int err;

	memset(&r, 0, sizeof(r));
	r.path = path;
	r.use_path = use_path;
	r.fa = afork__spawn_actions(fa);
	r.argv = argv;
	r.envp = envp;
	r.no_handle = !childp;
	if (attr) {
		r.attr = afork__spawnattr(attr);
		if (!r.attr)
			return EINVAL;
	}
	if (fa && !r.fa)
		return EINVAL;
	err = afork__spawn(&c, &r);
	if (err)
		return -err;
	if (pid)
		*pid = afork_pid(c);
	if (childp)
		*childp = c;
	else
		afork_free(c);
	return 0;
}

AFORK_API int afork_spawn(struct afork_child **childp, pid_t *pid,
			  const char *path,
			  const afork_spawn_file_actions_t *fa,
			  const afork_spawnattr_t *attr,
			  char *const argv[], char *const envp[])
{
	return spawn(childp, pid, path, 0, fa, attr, argv, envp);
}

AFORK_API int afork_spawnp(struct afork_child **childp, pid_t *pid,
			   const char *file,
			   const afork_spawn_file_actions_t *fa,
			   const afork_spawnattr_t *attr,
			   char *const argv[], char *const envp[])
{
	return spawn(childp, pid, file, 1, fa, attr, argv, envp);
}

AFORK_API const char *afork_spawn_step_name(int step)
{
	if (step >= AFORK_SPAWN_STEP_ACTION)
		return "file action";
	switch (step) {
	case AFORK_SPAWN_STEP_EXEC:
		return "exec";
	case AFORK_SPAWN_STEP_SIGDEF:
		return "sigdefault";
	case AFORK_SPAWN_STEP_SCHED:
		return "scheduler";
	case AFORK_SPAWN_STEP_SETSID:
		return "setsid";
	case AFORK_SPAWN_STEP_SETPGROUP:
		return "setpgroup";
	case AFORK_SPAWN_STEP_RESETIDS:
		return "resetids";
	case AFORK_SPAWN_STEP_SIGMASK:
		return "sigmask";
	case AFORK_SPAWN_STEP_START:
		return "start";
	}
	return NULL;
}
