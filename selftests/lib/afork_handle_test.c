// SPDX-License-Identifier: MIT
/*
 * libafork tests, the child's handle: the pidfd and afork_take_pidfd(),
 * the defaults without options, and lent descriptors the caller closed,
 * whose numbers afork_wait() and afork_free() must leave alone.
 */
#include <sys/eventfd.h>

#include "afork_test_fixture.h"

/* OPT_PIDFD gives a close-on-exec pidfd that afork_take_pidfd() hands over. */
TEST_F(backend, pidfd)
{
	struct afork_child *c;
	struct afork_opts o;
	struct pipe_job j;
	siginfo_t si;
	int p[2], fd;

	ASSERT_EQ(0, pipe2(p, O_CLOEXEC));
	j.rfd = p[0];
	j.ret = 12;
	afork_opts_init(&o);
	o.options = AFORK_OPT_PIDFD;
	ASSERT_EQ(0, afork_start(&c, &o, child_read_exit, &j));
	fd = afork_pidfd(c);
	ASSERT_GE(fd, 0);
	EXPECT_TRUE(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	EXPECT_EQ(fd, afork_take_pidfd(c));
	EXPECT_EQ(-1, afork_pidfd(c));
	ASSERT_EQ(1, write(p[1], "x", 1));
	memset(&si, 0, sizeof(si));
	ASSERT_EQ(0, waitid((idtype_t)P_PIDFD, (id_t)fd, &si, WEXITED | __WALL));
	EXPECT_EQ(afork_pid(c), si.si_pid);
	EXPECT_EQ(12, si.si_status);
	close(fd);
	/* Without a pidfd afork_wait() falls back to the pid. */
	afork_free(c);
	close(p[0]);
	close(p[1]);
}

/* Without the option there is no release fd; without a pidfd it is -1. */
TEST_F(backend, handle_defaults)
{
	struct afork_child *c;
	struct pollfd pfd;
	int st;

	ASSERT_EQ(0, afork_start(&c, NULL, child_return, (void *)(long)4));
	EXPECT_EQ(-1, afork_pidfd(c));
	EXPECT_EQ(-1, afork_release_pollfd(c, &pfd));
	EXPECT_EQ(EINVAL, errno);
	ASSERT_EQ(afork_pid(c), afork_wait(c, &st, 0));
	EXPECT_EQ(4, WEXITSTATUS(st));
	EXPECT_EQ(0, afork_wait_release(c, 0));
	afork_free(c);
}

/* afork_take_pidfd() without a pidfd: -1 and an errno. */
TEST_F(backend, take_pidfd_sets_errno)
{
	struct afork_child *c;
	int st;

	ASSERT_EQ(0, afork_start(&c, NULL, child_return, NULL));
	errno = 0;
	EXPECT_EQ(-1, afork_take_pidfd(c));
	EXPECT_EQ(ENOENT, errno);
	ASSERT_EQ(afork_pid(c), afork_wait(c, &st, 0));
	afork_free(c);
}

/* Start a child with a pidfd and a release fd that exits at once. */
static struct afork_child *start_with_fds(struct __test_metadata *_metadata)
{
	struct afork_child *c = NULL;
	struct afork_opts o;

	afork_opts_init(&o);
	o.options = AFORK_OPT_PIDFD | AFORK_OPT_RELEASE_FD;
	EXPECT_EQ(0, afork_start(&c, &o, child_return, (void *)5L));
	return c;
}

/*
 * The caller closed the lent @fd and @other took its number: afork_wait()
 * and afork_free() leave it alone.
 */
static void reused_number_survives(struct __test_metadata *_metadata,
				   struct afork_child *c, int fd, int other)
{
	int st;

	ASSERT_GE(other, 0);
	if (other != fd) {
		ASSERT_EQ(fd, dup3(other, fd, O_CLOEXEC));
		close(other);
	}
	ASSERT_EQ(afork_pid(c), afork_wait(c, &st, 0));
	EXPECT_EQ(5, WEXITSTATUS(st));
	afork_free(c);
	EXPECT_NE(-1, fcntl(fd, F_GETFD));
	close(fd);
}

/* A lent pidfd the caller closed: afork_free leaves its reused number alone. */
TEST_F(backend, pidfd_lent_closed)
{
	struct afork_child *c = start_with_fds(_metadata);
	int fd;

	ASSERT_NE(NULL, c);
	fd = afork_pidfd(c);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, close(fd));
	reused_number_survives(_metadata, c, fd, open("/dev/null", O_RDONLY | O_CLOEXEC));
}

/*
 * The same when the reused number holds another pidfd of the same child:
 * one inode under pidfs, but not our file description.
 */
TEST_F(backend, pidfd_lent_closed_same_child)
{
	struct afork_child *c = start_with_fds(_metadata);
	int fd;

	ASSERT_NE(NULL, c);
	fd = afork_pidfd(c);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, close(fd));
	reused_number_survives(_metadata, c, fd,
			       (int)syscall(SYS_pidfd_open, afork_pid(c), 0));
}

/* The same for a lent release fd. */
TEST_F(backend, release_fd_lent_closed)
{
	struct afork_child *c = start_with_fds(_metadata);
	struct pollfd pfd;

	ASSERT_NE(NULL, c);
	ASSERT_EQ(0, afork_release_pollfd(c, &pfd));
	ASSERT_EQ(0, close(pfd.fd));
	reused_number_survives(_metadata, c, pfd.fd, open("/dev/null", O_RDONLY | O_CLOEXEC));
}

/*
 * The same when the reused number holds a descriptor of the release fd's
 * kind: eventfds (vfork) share one inode, and so do pidfds of the child
 * (syscall backend).
 */
TEST_F(backend, release_fd_lent_closed_same_kind)
{
	struct afork_child *c = start_with_fds(_metadata);
	struct pollfd pfd;
	int other, p[2];

	ASSERT_NE(NULL, c);
	ASSERT_EQ(0, afork_release_pollfd(c, &pfd));
	ASSERT_EQ(0, close(pfd.fd));
	if (self->id == AFORK_BACKEND_VFORK) {
		other = eventfd(0, EFD_CLOEXEC);
	} else if (self->id == AFORK_BACKEND_SYSCALL) {
		other = (int)syscall(SYS_pidfd_open, afork_pid(c), 0);
	} else {
		ASSERT_EQ(0, pipe2(p, O_CLOEXEC));
		close(p[1]);
		other = p[0];
	}
	reused_number_survives(_metadata, c, pfd.fd, other);
}

AFORK_TEST_MAIN
