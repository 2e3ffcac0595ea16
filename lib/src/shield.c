/* SPDX-License-Identifier: MIT */
/*
 * The shield of popen and system.  On the clone backends AFORK_NOSIGCHLD
 * and AFORK_WAITPID are exit_signal 0, and execve() resets exit_signal to SIGCHLD (fs/exec.c):
 * an exec'd child is an ordinary child again, seen by wait(-1), reaped by
 * the kernel under SIGCHLD SIG_IGN.  No clone flag keeps a child of ours
 * out of wait(-1) past its exec, so popen and system run the command as a
 * grandchild: the afork child (the shield) never execs, starts the command
 * with clone(CLONE_VM|CLONE_VFORK) on a second stack (above the block),
 * waits for it with every signal blocked, forwards the signals sent to
 * it, and exits.  The command is started in the caller's process group;
 * then the shield leaves it for a group of its own, so a signal sent to
 * the caller's group (a terminal's ^C, kill(0, sig)) reaches the command
 * once, not a second time through the shield (below).  wait(-1) and
 * SIGCHLD see only the shield, which keeps exit_signal 0.  The syscall backend keeps the flags across exec and the
 * vfork backend cannot have them: neither has a shield.
 *
 * The handle stands for the command, not the shield (struct afork_child's
 * proxy): the command publishes its pid first thing, so afork_pid() is the
 * command's and a signal sent to it reaches the command; the shield
 * stores the command's wait status before it exits, so afork_wait() and
 * pclose report the command's status; the shield itself exits 0 and never
 * re-raises a signal.  The command asks for SIGKILL when the shield dies
 * (PR_SET_PDEATHSIG, then checks the shield is still its parent), so it
 * never outlives its shield.  A start failure is recorded before exec_done
 * is published; exec_done nudges the release word, so that a wait for the
 * exec also ends when the shield dies first.  Neither child changes
 * anything the mm holds (dumpability, for one): they share it with the
 * caller.  The command's $PPID is the shield, not the caller.
 *
 * Runs in the child: raw system calls only (sys.h), no errno, no locks,
 * no allocation.
 */
#include <errno.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "spawn_int.h"

/* The shield's child, the command: started by clone(CLONE_VM|CLONE_VFORK). */
static int shielded_body(void *p)
{
	struct afork_child *c = p;
	struct spawn_block *b = afork__stack_base(c);
	struct afork_ksigaction ign;

	/* The handle stands for this process from now on. */
	__atomic_store_n(&c->proxy_pid, (pid_t)sys_getpid(), __ATOMIC_RELEASE);
	afork__release_nudge(c);
	/* Never outlive the shield (this task's own attribute, kept by exec). */
	sys_prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (sys_getppid() != b->shield_pid)
		sys_exit_group(127);

	/* The caller's SIGCHLD disposition, which the shield changed. */
	if (b->chld_ignored) {
		memset(&ign, 0, sizeof(ign));
		ign.handler = (void *)SIG_IGN;
		sys_sigaction(SIGCHLD, &ign, NULL);
	}
	afork__spawn_body(c, b);
}

/* Any failure is recorded before this, and the word nudged after. */
static void exec_done(struct afork_child *c, struct spawn_block *b)
{
	__atomic_store_n(&b->exec_done, 1, __ATOMIC_RELEASE);
	afork__release_nudge(c);
}

/*
 * The shield: a child that never execs, so that its
 * exit_signal 0 holds, runs the command as its own child and passes on
 * its wait status through the handle.  Every signal stays blocked here;
 * those sent to the shield are forwarded to the command.
 *
 * Process groups: the command must be in the caller's group from its
 * first instruction, so it is started while the shield still is; then
 * the shield leaves for a group of its own, so that a signal sent to the
 * caller's group (^C, kill(0, sig)) reaches the command once, not a
 * second time through the shield.  Of what the shield got while in the
 * caller's group, it passes on what came before the command existed (the
 * command missed it) and drops what came after (the command has it).
 */
AFORK_NORETURN void afork__shield(struct afork_child *c, struct spawn_block *b)
{
	static const struct afork_ksigaction dfl;
	struct afork_ksigaction old;
	static const struct timespec zero;
	uint64_t all = ~0ull, before = 0;
	long args[6] = { 0 };
	long gpid, r;
	int st = 0, sig;

	/* An ignored SIGCHLD would let the kernel reap our child. */
	sys_sigaction(SIGCHLD, &dfl, &old);
	b->chld_ignored = old.handler == (void *)SIG_IGN;
	b->shield_pid = (pid_t)sys_getpid();
	/* Group signals so far came before the command: they are its due. */
	sys_sigpending(&before);
	args[0] = CLONE_VM | CLONE_VFORK | SIGCHLD;
	args[1] = (long)b->shield_stack;
	gpid = afork__tramp(__NR_clone, args, shielded_body, c);
	/* Here the command has exec'd or exited (or never started). */
	if (gpid < 0) {
		afork_ctx_set_error((struct afork_ctx *)c, (int)-gpid,
				    AFORK_SPAWN_STEP_START);
		__atomic_store_n(&c->proxy_pid, -1, __ATOMIC_RELEASE);
		exec_done(c, b);
		sys_exit_group(127);
	}
	exec_done(c, b);
	/* Out of the caller's group; then pass on what the command missed. */
	sys_setpgid(0, 0);
	while ((sig = (int)sys_sigtimedwait(&all, NULL, &zero)) > 0) {
		uint64_t bit = 1ull << (sig - 1);

		if (before & bit & ~(1ull << (SIGCHLD - 1)))
			sys_kill((pid_t)gpid, sig);
		before &= ~bit;
	}
	/*
	 * Never exec'ing, we would hold every fd (a popen pipe's write end:
	 * the command would never see EOF).  Keep only the release pipe.
	 */
	afork__spawn_close_all_but(c->child_fd[1]);

	for (;;) {
		r = sys_wait4((pid_t)gpid, &st, WNOHANG | __WALL);
		if (r == gpid)
			break;
		if (r < 0 && r != -EINTR)
			sys_exit_group(127);
		sig = (int)sys_sigtimedwait(&all, NULL, NULL);
		if (sig > 0 && sig != SIGCHLD)
			sys_kill((pid_t)gpid, sig);
	}
	/* The command's status, for afork_wait(): nothing to re-raise. */
	c->proxy_status = st;
	afork__store(&c->proxy_done, 1);
	sys_exit_group(0);
}
