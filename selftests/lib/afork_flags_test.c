// SPDX-License-Identifier: MIT
/*
 * libafork tests, the flags: what each backend guarantees for
 * AFORK_NOSIGCHLD and AFORK_WAITPID (afork(3), BACKEND DIFFERENCES), and
 * the vfork backend's ENOTSUP.
 */
#include "afork_test_fixture.h"

struct flag_result {
	int sigchld;		/* SIGCHLD was pending after the exit */
	int plain_waitpid;	/* waitpid(pid, 0) could reap it */
	int wait_any;		/* waitid(P_ALL) without __WALL reaped it */
	int wait_any_wall;	/* waitid(P_ALL, __WALL) reaped it */
	int status;
};

/* Start fn with flags, let it exit, and see who can reap it. */
static void probe_flags(struct __test_metadata *_metadata, int flags,
			int how, struct flag_result *r)
{
	struct afork_child *c;
	struct afork_opts o;
	struct pollfd pfd;
	siginfo_t si;
	sigset_t chld;
	int st = 0;
	pid_t pid;

	memset(r, 0, sizeof(*r));
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	ASSERT_EQ(0, pthread_sigmask(SIG_BLOCK, &chld, NULL));
	drain_sigchld();

	afork_opts_init(&o);
	o.flags = flags;
	o.options = AFORK_OPT_PIDFD;
	ASSERT_EQ(0, afork_start(&c, &o, child_return, (void *)(long)33));
	pid = afork_pid(c);
	ASSERT_GE(afork_pidfd(c), 0);
	/* Wait for the exit without reaping: the pidfd turns readable. */
	pfd.fd = afork_pidfd(c);
	pfd.events = POLLIN;
	ASSERT_EQ(1, poll(&pfd, 1, 10000));

	if (how == 0) {
		if (waitpid(pid, &st, 0) == pid) {
			r->plain_waitpid = 1;
			r->status = st;
		}
	} else {
		memset(&si, 0, sizeof(si));
		if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG) == 0 &&
		    si.si_pid == pid)
			r->wait_any = 1;
		if (!r->wait_any) {
			memset(&si, 0, sizeof(si));
			if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | __WALL) == 0 &&
			    si.si_pid == pid)
				r->wait_any_wall = 1;
		}
	}
	if (!r->plain_waitpid && !r->wait_any && !r->wait_any_wall) {
		ASSERT_EQ(pid, afork_wait(c, &st, 0));
		r->status = st;
	} else if (how) {
		r->status = 33 << 8;
	}
	r->sigchld = sigchld_pending();
	afork_free(c);
	ASSERT_EQ(0, any_child_left());
}

/* No flags: a normal child on every backend (SIGCHLD, waitpid reaps it). */
TEST_F(backend, flags_none)
{
	struct flag_result r;

	probe_flags(_metadata, 0, 0, &r);
	EXPECT_EQ(1, r.sigchld);
	EXPECT_EQ(1, r.plain_waitpid);
	EXPECT_EQ(33, WEXITSTATUS(r.status));
}

/* No flags: waitid(P_ALL) without __WALL reaps it too. */
TEST_F(backend, flags_none_wait_any)
{
	struct flag_result r;

	probe_flags(_metadata, 0, 1, &r);
	EXPECT_EQ(1, r.wait_any);
}

/* AFORK_NOSIGCHLD: no SIGCHLD; plain waitpid only on syscall. */
TEST_F(backend, flags_nosigchld)
{
	struct flag_result r;

	if (self->id == AFORK_BACKEND_VFORK)
		SKIP(return, "vfork refuses the flags (flags_refused_vfork)");
	probe_flags(_metadata, AFORK_NOSIGCHLD, 0, &r);
	EXPECT_EQ(33, WEXITSTATUS(r.status));
	if (afork_backend_is_clone(self->id)) {
		EXPECT_EQ(0, r.sigchld);
		/* exit_signal 0 makes it a "clone" child: __WALL needed. */
		EXPECT_EQ(0, r.plain_waitpid);
	} else {
		EXPECT_EQ(0, r.sigchld);
		EXPECT_EQ(1, r.plain_waitpid);
	}
}

/* AFORK_WAITPID: wait(-1) never reaps it (syscall), only with __WALL (clone). */
TEST_F(backend, flags_waitpid)
{
	struct flag_result r;

	if (self->id == AFORK_BACKEND_VFORK)
		SKIP(return, "vfork refuses the flags (flags_refused_vfork)");
	probe_flags(_metadata, AFORK_WAITPID, 1, &r);
	EXPECT_EQ(33, WEXITSTATUS(r.status));
	switch (self->id) {
	case AFORK_BACKEND_SYSCALL:
		EXPECT_EQ(1, r.sigchld);
		EXPECT_EQ(0, r.wait_any);
		EXPECT_EQ(0, r.wait_any_wall);
		break;
	default:
		EXPECT_EQ(0, r.sigchld);	/* exit_signal 0 */
		EXPECT_EQ(0, r.wait_any);
		EXPECT_EQ(1, r.wait_any_wall);
		break;
	}
}

/* AFORK_WAITPID: waitpid(pid, 0) reaps it on syscall, not on clone (__WALL). */
TEST_F(backend, flags_waitpid_plain)
{
	struct flag_result r;

	if (self->id == AFORK_BACKEND_VFORK)
		SKIP(return, "vfork refuses the flags (flags_refused_vfork)");
	probe_flags(_metadata, AFORK_WAITPID, 0, &r);
	EXPECT_EQ(33, WEXITSTATUS(r.status));
	EXPECT_EQ(afork_backend_is_clone(self->id) ? 0 : 1, r.plain_waitpid);
}

/* Under SIGCHLD SIG_IGN a NOSIGCHLD|WAITPID child is still reapable. */
TEST_F(backend, flags_sigchld_ignored)
{
	struct afork_child *c;
	struct afork_opts o;
	struct pollfd pfd;
	int st = 0;
	pid_t r;

	if (self->id == AFORK_BACKEND_VFORK)
		SKIP(return, "vfork refuses the flags (flags_refused_vfork)");
	ASSERT_TRUE(signal(SIGCHLD, SIG_IGN) != SIG_ERR);
	afork_opts_init(&o);
	o.flags = AFORK_NOSIGCHLD | AFORK_WAITPID;
	o.options = AFORK_OPT_PIDFD;
	ASSERT_EQ(0, afork_start(&c, &o, child_return, (void *)(long)21));
	pfd.fd = afork_pidfd(c);
	pfd.events = POLLIN;
	ASSERT_EQ(1, poll(&pfd, 1, 10000));
	r = afork_wait(c, &st, 0);
	EXPECT_EQ(afork_pid(c), r);
	EXPECT_EQ(21, WEXITSTATUS(st));
	afork_free(c);
}

/* The vfork backend cannot honour the flags: ENOTSUP, and no child. */
TEST_F(backend, flags_refused_vfork)
{
	struct afork_child *c = NULL;
	struct afork_opts o;

	if (self->id != AFORK_BACKEND_VFORK)
		SKIP(return, "%s honours the flags (flags_* tests)", variant->env);
	errno = 0;
	EXPECT_EQ(-1, aforkx(AFORK_WAITPID, child_return, NULL));
	EXPECT_EQ(ENOTSUP, errno);
	errno = 0;
	EXPECT_EQ(-1, aforkx(AFORK_NOSIGCHLD, child_return, NULL));
	EXPECT_EQ(ENOTSUP, errno);
	afork_opts_init(&o);
	o.flags = AFORK_NOSIGCHLD | AFORK_WAITPID;
	o.options = AFORK_OPT_PIDFD | AFORK_OPT_RELEASE_FD;
	EXPECT_EQ(-1, afork_start(&c, &o, child_return, NULL));
	EXPECT_EQ(ENOTSUP, errno);
	EXPECT_EQ(NULL, c);
	EXPECT_EQ(0, any_child_left());
}

AFORK_TEST_MAIN
