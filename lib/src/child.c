/* SPDX-License-Identifier: MIT */
/*
 * The child's side of every backend: called by the trampoline on the
 * child's own stack, before the caller's function runs.
 *
 * On entry no caught signal handler can run: the syscall and clone3
 * backends have the kernel reset them (CLONE_CLEAR_SIGHAND semantics); the
 * legacy clone and vfork backends start the child with every signal
 * blocked, and it resets the handlers here before unblocking.
 */
#include "internal.h"

void afork__sigreset_all(void)
{
	static const struct afork_ksigaction dfl;	/* SIG_DFL, no flags */
	struct afork_ksigaction old;
	int sig;

	for (sig = 1; sig <= 64; sig++) {
		if (sig == SIGKILL || sig == SIGSTOP)
			continue;
		if (sys_sigaction(sig, NULL, &old) < 0)
			continue;
		if (old.handler != (void *)SIG_DFL &&
		    old.handler != (void *)SIG_IGN)
			sys_sigaction(sig, &dfl, NULL);
	}
}

int afork__child_entry(void *p)
{
	struct afork_child *c = p;

	if (c->reset_handlers)
		afork__sigreset_all();
	if (c->set_mask)
		sys_sigprocmask(SIG_SETMASK, &c->child_mask, NULL);
	if (c->fn_ctx)
		return c->fn_ctx((struct afork_ctx *)c, c->arg);
	return c->fn(c->arg);
}
