// SPDX-License-Identifier: GPL-2.0
/*
 * afork_fuzz following a created child to its end: what the plan lets it
 * expect (does the child run, how may it end), its pidfd and release word
 * while it runs, signalling or letting it go, POLLPRI before POLLIN, who
 * may see and reap it, its status, SIGCHLD, and the word and pidfd after.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "afork_fuzz.h"
#include "fuzz_sys.h"
#include "../common/proc_util.h"

/* What the plan lets the fuzzer expect of the child. */
struct expect {
	int waitpid_only;	/* AFORK_WAITPID */
	int autoreap;		/* reaped by the kernel (SIGCHLD ignored) */
	int word_ok;		/* the release word can be read to check it */
	int must_run;		/* its stack is surely good */
	int must_segv;		/* its stack surely faults */
	int exit_code;		/* the exit status it must end with, or -1 */
	uint64_t sigs_ok;	/* the signals it may die of */
};

/* Would @sig, sent to a child with mask @mask, kill it? */
static int sig_fatal(int sig, uint64_t mask)
{
	if (sig == SIGKILL)
		return 1;
	if (mask & SIGBIT(sig))
		return 0;
	switch (sig) {
	case SIGUSR2:			/* SIG_IGN in the parent: kept */
	case SIGCHLD: case SIGWINCH: case SIGURG: case SIGCONT:
		return 0;		/* ignored by default */
	default:
		return 1;
	}
}

static void spin(unsigned long n)
{
	volatile unsigned long i;

	for (i = 0; i < n; i++)
		;
}

/* Can the child run on the stack below @top? */
static void expect_stack(const struct plan *p, uintptr_t top, struct expect *e)
{
	size_t first, pg;

	e->must_run = 1;
	e->must_segv = 0;
	if (top < arena + STACK_FIRST * page || top > pg_addr(STACK_FIRST + STACK_PAGES)) {
		e->must_run = 0;
		e->must_segv = 1;	/* only unmapped tops are drawn */
		return;
	}
	first = (top - CHILD_STACK_NEED * page - arena) / page;
	pg = (top - 8 - arena) / page;
	if (p->state[pg] != PG_RW)
		e->must_segv = 1;
	if (first < STACK_FIRST)
		e->must_run = 0;
	for (; first <= pg && e->must_run; first++)
		if (p->state[first] != PG_RW ||
		    (p->race && first >= p->race_lo && first < p->race_hi))
			e->must_run = 0;
	if (e->must_segv)
		e->must_run = 0;
}

/* How the child may end: its exit code, or the signals it may die of. */
static void expect_end(const struct plan *p, const struct oracle_out *o,
		       struct expect *e)
{
	const struct afork_args *a = &o->args;

	e->waitpid_only = !!(a->flags & AFORK_WAITPID);
	e->autoreap = p->disp != D_DFL && !e->waitpid_only;
	/* Which memory the fuzzer can still trust to check values in. */
	e->word_ok = a->release_word && rw_now(a->release_word, 4) &&
		     !overlaps(a->release_word, 4, a->pidfd, 4) &&
		     !overlaps(a->release_word, 4, a->sigmask, 8);
	expect_stack(p, (uintptr_t)(a->stack + a->stack_size) & ~(uintptr_t)15, e);

	e->exit_code = -1;
	e->sigs_ok = 0;
	if (p->mode == M_EXIT || p->mode == M_WAIT)
		e->exit_code = CODE_OK;
	else if (p->mode == M_EXEC)
		e->exit_code = CODE_EXECED;
	else if (p->mode == M_EXECFAIL)
		e->exit_code = CODE_EXECFAIL;
	else if (p->mode == M_FAULT)
		e->sigs_ok |= SIGBIT(SIGSEGV);
	if (!e->must_run)
		e->sigs_ok |= SIGBIT(SIGSEGV);
	if (e->must_segv)
		e->exit_code = -1;
	if (p->sig && sig_fatal(p->sig, o->child_mask)) {
		e->sigs_ok |= SIGBIT(p->sig);
		/* A waiting child cannot exit before we let it. */
		if (p->mode == M_WAIT && e->must_run) {
			e->sigs_ok = SIGBIT(p->sig);
			e->exit_code = -1;
		}
	}
}

/* The pidfd slot, if the fuzzer can read it: -1 if it cannot. */
static int slot_readable(const struct afork_args *a, int *v)
{
	if (!rw_now(a->pidfd, 4) || overlaps(a->pidfd, 4, a->release_word, 4))
		return -1;
	memcpy(v, (void *)(uintptr_t)a->pidfd, 4);
	return 0;
}

/*
 * The child's pidfd: AFORK_PIDFD gives it at the lowest free fd, else
 * none is made and the fuzzer opens one (*own: close it at the end).
 */
static int child_pidfd(const struct afork_args *a, pid_t pid, int lowest,
		       const struct expect *e, int *own)
{
	int pfd, r, v;

	if (a->flags & AFORK_PIDFD) {
		if (!slot_readable(a, &v) && v != lowest)
			failf(C_FDS, "pidfd slot holds %d, lowest free fd was %d",
			      v, lowest);
		r = fcntl(lowest, F_GETFD);
		if (r < 0 || !(r & FD_CLOEXEC))
			failf(C_FDS, "pidfd %d: F_GETFD %d (%s), want FD_CLOEXEC",
			      lowest, r, strerror(errno));
		*own = 1;
		return lowest;
	}
	if (fcntl(lowest, F_GETFD) >= 0)
		failf(C_FDS, "fd %d created without AFORK_PIDFD", lowest);
	if (!slot_readable(a, &v) && v != PIDFD_SENTINEL)
		failf(C_FDS, "pidfd slot written without AFORK_PIDFD");
	pfd = (int)syscall(__NR_pidfd_open, pid, 0);
	/*
	 * An auto-reaped child may be gone already: ESRCH, or EINVAL
	 * while its struct pid outlives the task (pidfd_prepare()).
	 */
	if (pfd < 0 && !(e->autoreap && (errno == ESRCH || errno == EINVAL)))
		failf(C_TASKS, "pidfd_open(%d): %s", pid, strerror(errno));
	*own = pfd >= 0;
	return pfd;
}

static uint32_t word_of(const struct afork_args *a)
{
	return load32((uint32_t *)(uintptr_t)a->release_word);
}

/* Signal the child at the planned point, or let a waiting child go. */
static void drive_child(const struct plan *p, const struct afork_args *a,
			pid_t pid, int pfd, const struct expect *e)
{
	int revents;

	if (p->mode != M_WAIT) {
		if (!p->sig || pfd < 0)
			return;
		spin(p->kill_spin);
		if (syscall(__NR_pidfd_send_signal, pfd, p->sig, NULL, 0) &&
		    errno != ESRCH)
			failf(C_STATUS, "pidfd_send_signal: %s", strerror(errno));
		fig.sent++;
		return;
	}
	if (e->must_run && pfd >= 0) {
		revents = poll_revents(pfd, POLLIN | POLLPRI, 0);
		if (revents)
			failf(C_RELEASE, "waiting child: pidfd revents %#x before release",
			      revents);
		if (e->word_ok && word_of(a) != (uint32_t)pid)
			failf(C_RELEASE, "waiting child: release word %#x, want TID %d",
			      word_of(a), pid);
	}
	if (p->sig && pfd >= 0) {
		/* ESRCH: it died of its stack and was auto-reaped. */
		if (syscall(__NR_pidfd_send_signal, pfd, p->sig, NULL, 0) &&
		    (e->must_run || errno != ESRCH))
			failf(C_STATUS, "pidfd_send_signal: %s", strerror(errno));
		fig.sent++;
	}
	store32(&job.go, 1);
	futex_wake(&job.go);
}

/* Its end: POLLIN, and POLLPRI with it (mm_release precedes exit). */
static void wait_end(pid_t pid, int pfd, const struct expect *e)
{
	int revents;

	if (pfd < 0)
		return;
	revents = poll_revents(pfd, POLLIN, opt.timeout_ms);
	if (revents <= 0) {
		failf(C_STUCK, "child %d still running after %d ms", pid,
		      opt.timeout_ms);
		syscall(__NR_pidfd_send_signal, pfd, SIGKILL, NULL, 0);
		poll_revents(pfd, POLLIN, -1);
	}
	/* poll() reports only what is asked for (and POLLHUP). */
	revents = poll_revents(pfd, POLLIN | POLLPRI, 0);
	if (!e->autoreap && !(revents & POLLPRI))
		failf(C_RELEASE, "exited child: pidfd revents %#x lack POLLPRI",
		      revents);
}

/* Who may see it: waitid(P_ALL) only if neither WAITPID nor auto-reaped. */
static void check_visible(const struct plan *p, pid_t pid, const struct expect *e)
{
	int r = any_child_left();

	if (e->autoreap || e->waitpid_only) {
		if (r != 0)
			failf(C_WAIT, "waitid(P_ALL) sees %d (WAITPID %d, SIGCHLD %s)",
			      r, e->waitpid_only,
			      p->disp == D_IGN ? "SIG_IGN" : "SA_NOCLDWAIT");
		if (e->waitpid_only && !e->autoreap)
			fig.waitpid_hidden++;
	} else if (r != pid) {
		failf(C_WAIT, "waitid(P_ALL) returned %d, want the zombie %d", r, pid);
	}
}

/* Reap it the way the plan says (each works with any flag): waitpid's result. */
static int reap_child(const struct plan *p, pid_t pid, int pfd, int *st)
{
	siginfo_t si;
	int r;

	memset(&si, 0, sizeof(si));
	switch (p->reap) {
	case R_WAITPID:
		return waitpid(pid, st, 0);
	case R_PIDFD:
		if (pfd < 0)
			return waitpid(pid, st, 0);
		r = waitid(P_PIDFD, pfd, &si, WEXITED);
		break;
	case R_PID:
		r = waitid(P_PID, pid, &si, WEXITED);
		break;
	default:
		return wait4(pid, st, __WALL, NULL);
	}
	if (r == 0) {
		r = si.si_pid;
		*st = si.si_code == CLD_EXITED ? (si.si_status & 0xff) << 8
					       : si.si_status & 0x7f;
	}
	return r;
}

/* An exit status other than the expected one: what the child found, or a plain fail. */
static void bad_exit(const struct plan *p, int st, const struct expect *e)
{
	if (WEXITSTATUS(st) >= CODE_BAD && WEXITSTATUS(st) < 128)
		failf(C_CHILD, "child found: %s%s%s%s%s%s",
		      st & (BAD_MASK << 8) ? "wrong mask " : "",
		      st & (BAD_USR1 << 8) ? "handler not reset " : "",
		      st & (BAD_USR2 << 8) ? "SIG_IGN lost " : "",
		      st & (BAD_STACK << 8) ? "not on its stack " : "",
		      st & (BAD_PPID << 8) ? "wrong parent " : "",
		      st & (BAD_EXEC << 8) ? "exec/fault failed" : "");
	else
		failf(C_STATUS, "child exited %d, want %d (mode %s, sig %d)",
		      WEXITSTATUS(st), e->exit_code, mode_name[p->mode], p->sig);
}

/*
 * A child whose stack may go away under it (!must_run: a racing munmap,
 * or pages not all read-write) can have its own system calls fail with
 * EFAULT on that stack: the values it then reports are no evidence.  Seen
 * on arm64, whose frame puts the sigaction buffer in the page a race
 * unmapped, where x86-64's frame does not.
 */
static int stack_fault_ok(int st, const struct expect *e)
{
	int code = WEXITSTATUS(st);

	return !e->must_run && code >= CODE_BAD && code < 128 &&
	       !(code & ~(CODE_BAD | BAD_MASK | BAD_USR1 | BAD_USR2));
}

/* The reap's result @r and status @st against what was expected. */
static void check_status(const struct plan *p, pid_t pid, int r, int st,
			 const struct expect *e)
{
	if (e->autoreap) {
		if (r >= 0 || errno != ECHILD)
			failf(C_WAIT, "auto-reaped child %d: reap returned %d", pid, r);
		fig.autoreaped++;
	} else if (r != pid) {
		failf(C_TASKS, "reaping %d (how %d): %d %s", pid, p->reap, r,
		      strerror(errno));
	} else if (WIFEXITED(st)) {
		fig.exited++;
		if (WEXITSTATUS(st) != e->exit_code && !stack_fault_ok(st, e))
			bad_exit(p, st, e);
	} else if (WIFSIGNALED(st)) {
		int s = WTERMSIG(st);

		if (s == SIGSEGV)
			fig.segv++;
		else
			fig.signaled++;
		if (!(e->sigs_ok & SIGBIT(s)))
			failf(C_STATUS, "child killed by signal %d (mode %s, sent %d, "
			      "must_run %d, must_segv %d)", s, mode_name[p->mode],
			      p->sig, e->must_run, e->must_segv);
	} else {
		failf(C_STATUS, "child status %#x", st);
	}
}

/* SIGCHLD: queued (it is blocked) unless NOSIGCHLD, or SIG_IGN reaps. */
static void check_sigchld(const struct plan *p, uint64_t flags, const struct expect *e)
{
	int want = !(flags & AFORK_NOSIGCHLD) &&
		   !(p->disp == D_IGN && !e->waitpid_only);
	int got = sigchld_take();

	fig.sigchld_seen += got;
	if (got != want)
		failf(C_SIGCHLD, "SIGCHLD %s (flags %#" PRIx64 ", disposition %d)",
		      got ? "sent" : "missing", flags, p->disp);
}

/* After the end: the word is 0, a reaped child's pidfd reports POLLHUP. */
static void check_after(const struct afork_args *a, int pfd, int own_pfd,
			const struct expect *e)
{
	int revents;

	if (e->word_ok && word_of(a) != 0)
		failf(C_RELEASE, "release word %#x after exit, want 0", word_of(a));
	/*
	 * A reaped child's pidfd reports POLLHUP at once; an auto-reaped one
	 * only once the child has finished release_task() itself (its
	 * POLLIN came before that, and nothing wakes us for POLLHUP).
	 */
	if (pfd < 0)
		return;
	if (!e->autoreap) {
		revents = poll_revents(pfd, POLLIN, 0);
		if (!(revents & POLLHUP))
			failf(C_RELEASE, "reaped child: pidfd revents %#x lack POLLHUP",
			      revents);
	}
	/* Closed for an auto-reaped child too: one fd leaked per such child before. */
	if (own_pfd)
		close(pfd);
}

/* Follow a created child to its end; @o is the oracle's (non-raced) view. */
void follow_child(const struct plan *p, const struct oracle_out *o,
		  pid_t pid, int lowest)
{
	const struct afork_args *a = &o->args;
	struct expect e;
	int pfd, own_pfd = 0, st = 0, r;

	fig.children++;
	fig.mode[p->mode]++;
	expect_end(p, o, &e);
	pfd = child_pidfd(a, pid, lowest, &e, &own_pfd);
	if (e.word_ok) {
		uint32_t w = word_of(a);

		if (w != (uint32_t)pid && w != 0)
			failf(C_RELEASE, "release word %#x, want the TID %d or 0", w, pid);
	}
	drive_child(p, a, pid, pfd, &e);
	wait_end(pid, pfd, &e);
	check_visible(p, pid, &e);
	r = reap_child(p, pid, pfd, &st);
	check_status(p, pid, r, st, &e);
	check_sigchld(p, a->flags, &e);
	check_after(a, pfd, own_pfd, &e);
}
