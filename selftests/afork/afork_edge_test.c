// SPDX-License-Identifier: GPL-2.0
/*
 * afork(): the edges, series v2.  What the child creates that shares the
 * mm (a nested afork(), a clone(CLONE_VM) child, its own threads across an
 * exec by its leader), the EAGAIN path, and how a tracer sees the child.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "afork_selftests.h"
#include "../kselftest_harness.h"

/* State shared between a test and its afork() child. */
struct shared {
	int in[2];		/* parent -> child */
	int out[2];		/* child -> parent */
	const char *path;	/* for exec */
	char *const *argv;
	long value;
	void *tstack;		/* top of the stack of the child's thread */
};

FIXTURE(edge) {
	struct shared *s;
	void *stack;
	__u32 word;
	int pidfd;
};

FIXTURE_SETUP(edge)
{
	self->s = calloc(1, sizeof(*self->s));
	ASSERT_NE(NULL, self->s);
	ASSERT_EQ(0, pipe2(self->s->in, O_CLOEXEC));
	ASSERT_EQ(0, pipe2(self->s->out, O_CLOEXEC));
	self->stack = afork_stack_alloc(AFORK_TEST_STACK_SIZE);
	ASSERT_NE(NULL, self->stack);
	self->word = 0;
	self->pidfd = -1;
}

FIXTURE_TEARDOWN(edge)
{
	close(self->s->in[0]);
	close(self->s->in[1]);
	close(self->s->out[0]);
	close(self->s->out[1]);
	if (self->pidfd >= 0)
		close(self->pidfd);
	free(self->s);
	munmap(self->stack, AFORK_TEST_STACK_SIZE);
}

/* A second thread of the child: wait for a byte, then end. */
static int thread_wait_then_exit(void *arg)
{
	struct shared *s = arg;
	char c = 0;

	child_read(s->in[0], &c, 1);
	raw_syscall(__NR_exit, 0, 0, 0, 0);
	return 0;
}

static int child_exit_5(void *arg)
{
	return 5;
}

/*
 * §5: what the child creates that shares the mm is not counted.  The
 * child starts a grandchild, with afork() or with clone(CLONE_VM), that
 * waits on the pipe, and exits: the child's release is reported while the
 * grandchild still runs in our memory.  The test is the grandchild's
 * subreaper, to reap it.
 */
struct nested {
	struct afork_args ga;	/* the nested afork(), from the child */
	void *gstack;
	__u32 gword;
	int gpidfd;		/* a number in the child's file table */
	int use_clone;
};

static int grandchild_wait(void *arg)
{
	struct shared *s = arg;
	char c = 0;

	if (child_read(s->in[0], &c, 1) != 1)
		return 100;
	return 9;
}

static int child_start_grandchild(void *arg)
{
	struct shared *s = arg;
	struct nested *n = (struct nested *)s->path;

	if (n->use_clone)
		s->value = raw_call_child(__NR_clone, CLONE_VM | SIGCHLD,
					  (long)n->gstack + AFORK_TEST_STACK_SIZE,
					  0, grandchild_wait, s);
	else
		s->value = afork_run(&n->ga, sizeof(n->ga), grandchild_wait, s);
	return s->value > 0 ? 3 : 4;
}

struct nested_job {
	struct shared *s;
	void *stack;
	__u32 *word;
	int *pidfd;
};

static void nested_not_counted(struct __test_metadata *_metadata,
			       struct nested_job *j, int use_clone)
{
	struct afork_args a = args_for(j->stack, 0, j->word,
				       j->pidfd);
	struct nested n = { .gpidfd = -1, .use_clone = use_clone };
	pid_t pid, gpid;
	int st, gfd;

	ASSERT_EQ(0, prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0));
	n.gstack = afork_stack_alloc(AFORK_TEST_STACK_SIZE);
	ASSERT_NE(NULL, n.gstack);
	n.ga = args_for(n.gstack, 0, &n.gword, &n.gpidfd);
	j->s->path = (const char *)&n;
	pid = afork_run(&a, sizeof(a), child_start_grandchild, j->s);
	ASSERT_GT(pid, 0);
	EXPECT_EQ(3, WEXITSTATUS(reap(pid)));
	gpid = j->s->value;
	ASSERT_GT(gpid, 0);
	/* The pidfd the nested afork() made is in the child's file table. */
	gfd = sys_pidfd_open(gpid, 0);
	ASSERT_GE(gfd, 0);
	/* The child is gone; the grandchild still runs in our memory. */
	EXPECT_TRUE(pidfd_wait_events(*j->pidfd, POLLPRI, 0) & POLLPRI);
	EXPECT_EQ(0, __atomic_load_n(j->word, __ATOMIC_ACQUIRE));
	if (!use_clone) {
		EXPECT_EQ((__u32)gpid, __atomic_load_n(&n.gword, __ATOMIC_ACQUIRE));
		EXPECT_EQ(0, pidfd_wait_events(gfd, POLLPRI, 0));
	}
	ASSERT_EQ(1, write(j->s->in[1], "", 1));
	ASSERT_EQ(gpid, waitpid(gpid, &st, 0));
	EXPECT_EQ(9, WEXITSTATUS(st));
	if (!use_clone) {
		/* Its own release, through the word the child passed. */
		EXPECT_TRUE(pidfd_wait_events(gfd, POLLPRI, 0) & POLLPRI);
		EXPECT_EQ(0, __atomic_load_n(&n.gword, __ATOMIC_ACQUIRE));
	}
	close(gfd);
	munmap(n.gstack, AFORK_TEST_STACK_SIZE);
}

TEST_F(edge, nested_afork_not_counted)
{
	struct nested_job j = { self->s, self->stack, &self->word,
				&self->pidfd };

	nested_not_counted(_metadata, &j, 0);
}

TEST_F(edge, clone_vm_grandchild_not_counted)
{
	struct nested_job j = { self->s, self->stack, &self->word,
				&self->pidfd };

	nested_not_counted(_metadata, &j, 1);
}

/*
 * §5: the child's leader execs while another thread of the child runs.
 * de_thread() ends that thread, the exec replaces the mm, and the release
 * is reported once both have left: the program's exit status comes back.
 */
static int child_thread_then_exec(void *arg)
{
	struct shared *s = arg;

	if (child_start_thread(CLONE_FILES, s->tstack, thread_wait_then_exit,
			       s) <= 0)
		return 120;
	raw_syscall(__NR_execve, (long)s->path, (long)s->argv,
		    (long)environ, 0);
	return 127;
}

TEST_F(edge, leader_exec_with_threads)
{
	static const char * const argv[] = { "sh", "-c", "exit 4", NULL };
	struct afork_args a = args_for(self->stack, 0, &self->word,
				       &self->pidfd);
	void *tstack = afork_stack_alloc(AFORK_TEST_STACK_SIZE);
	pid_t pid;

	ASSERT_NE(NULL, tstack);
	self->s->tstack = (char *)tstack + AFORK_TEST_STACK_SIZE;
	self->s->path = "/bin/sh";
	self->s->argv = (char *const *)argv;
	pid = afork_run(&a, sizeof(a), child_thread_then_exec, self->s);
	ASSERT_GT(pid, 0);
	EXPECT_TRUE(pidfd_wait_events(self->pidfd, POLLPRI, -1) & POLLPRI);
	EXPECT_EQ(0, __atomic_load_n(&self->word, __ATOMIC_ACQUIRE));
	EXPECT_EQ(4, WEXITSTATUS(reap(pid)));
	munmap(tstack, AFORK_TEST_STACK_SIZE);
}

/*
 * §5: an exec that fails past the point of no return.  The program is an
 * ELF whose one segment asks for 16 TiB of zeroed memory: the kernel has
 * already replaced the mm (the release) when vm_brk_flags() fails, and
 * then kills the child with SIGSEGV.  The parent sees the release and the
 * signal; the child never returns to its function.
 */
static int write_huge_bss_elf(char *path)
{
	static const unsigned char code[] = {
		0xb8, 0x3c, 0x00, 0x00, 0x00,	/* mov $60, %eax */
		0x31, 0xff,			/* xor %edi, %edi */
		0x0f, 0x05,			/* syscall */
	};
	unsigned char img[0x78 + sizeof(code)] = { 0 };
	__u64 v;
	int fd, ok;

	img[0] = 0x7f;				/* ELFMAG */
	memcpy(img + 1, "ELF", 3);
	img[4] = 2;				/* ELFCLASS64 */
	img[5] = 1;				/* ELFDATA2LSB */
	img[6] = 1;				/* EV_CURRENT */
	img[16] = 2;				/* e_type: ET_EXEC */
	img[18] = 62;				/* e_machine: x86-64 */
	img[20] = 1;				/* e_version */
	v = 0x400078;				/* e_entry */
	memcpy(img + 24, &v, 8);
	v = 64;					/* e_phoff */
	memcpy(img + 32, &v, 8);
	img[52] = 64;				/* e_ehsize */
	img[54] = 56;				/* e_phentsize */
	img[56] = 1;				/* e_phnum */
	img[64] = 1;				/* p_type: PT_LOAD */
	img[68] = 7;				/* p_flags: RWX */
	v = 0x400000;				/* p_vaddr, p_paddr */
	memcpy(img + 64 + 16, &v, 8);
	memcpy(img + 64 + 24, &v, 8);
	v = sizeof(img);			/* p_filesz */
	memcpy(img + 64 + 32, &v, 8);
	v = 1ULL << 44;				/* p_memsz: 16 TiB */
	memcpy(img + 64 + 40, &v, 8);
	v = 0x1000;				/* p_align */
	memcpy(img + 64 + 48, &v, 8);
	memcpy(img + 0x78, code, sizeof(code));

	fd = mkstemp(path);
	if (fd < 0)
		return -1;
	ok = write(fd, img, sizeof(img)) == (ssize_t)sizeof(img) &&
	     fchmod(fd, 0755) == 0;
	close(fd);
	return ok ? 0 : -1;
}

static int child_exec_path(void *arg)
{
	struct shared *s = arg;

	s->value = raw_syscall(__NR_execve, (long)s->path, (long)s->argv,
			       (long)environ, 0);
	return 127;
}

TEST_F(edge, exec_fails_past_point_of_no_return)
{
	char path[] = "/tmp/afork-huge-bss.XXXXXX";
	static const char * const argv[] = { "huge-bss", NULL };
	struct afork_args a = args_for(self->stack, 0, &self->word,
				       &self->pidfd);
	pid_t pid;
	int st;

#if !defined(__x86_64__)
	SKIP(return, "the ELF image is x86-64");
#endif
	ASSERT_EQ(0, write_huge_bss_elf(path));
	self->s->path = path;
	self->s->argv = (char *const *)argv;
	self->s->value = 1;
	pid = afork_run(&a, sizeof(a), child_exec_path, self->s);
	ASSERT_GT(pid, 0);
	ASSERT_EQ(pid, waitpid(pid, &st, 0));
	unlink(path);
	EXPECT_TRUE(WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV)
		TH_LOG("status %#x", st);
	/* Released when the mm was replaced; the exec never returned. */
	EXPECT_TRUE(pidfd_wait_events(self->pidfd, POLLPRI, 0) & POLLPRI);
	EXPECT_EQ(0, __atomic_load_n(&self->word, __ATOMIC_ACQUIRE));
	EXPECT_EQ(1, self->s->value);
}

/*
 * §5: a given mask, less SIGKILL and SIGSTOP, is the one the exec'd program
 * starts with: the program (this test, run as --print-sigmask) prints it.
 */
/* Exec s->path with in[0] as stdin and out[1] as stdout. */
static int child_exec_stdio(void *arg)
{
	struct shared *s = arg;

	/* dup3: the generic table has no dup2; the pipe fds are above 2. */
	if (raw_syscall(__NR_dup3, s->in[0], 0, 0, 0) != 0 ||
	    raw_syscall(__NR_dup3, s->out[1], 1, 0, 0) != 1)
		return 120;
	s->value = raw_syscall(__NR_execve, (long)s->path, (long)s->argv,
			       (long)environ, 0);
	return 127;
}

TEST_F(edge, mask_carried_into_exec_sigstop_dropped)
{
	static const char * const argv[] = { "afork_edge_test",
					     "--print-sigmask", NULL };
	struct afork_args a = args_for(self->stack, 0, &self->word,
				       &self->pidfd);
	__u64 want = (1ULL << (SIGUSR1 - 1)) | (1ULL << (SIGTERM - 1));
	__u64 mask = want | (1ULL << (SIGSTOP - 1));
	unsigned long long got;
	char buf[64] = { 0 }, *end;
	pid_t pid;
	int st;

	a.sigmask = ptr_to_u64(&mask);
	a.sigmask_size = sizeof(mask);
	self->s->path = "/proc/self/exe";
	self->s->argv = (char *const *)argv;
	pid = afork_run(&a, sizeof(a), child_exec_stdio, self->s);
	ASSERT_GT(pid, 0);
	/* The program has written all it writes once it has exited. */
	st = reap(pid);
	ASSERT_EQ(0, st) TH_LOG("status %#x, execve %ld", st, self->s->value);
	ASSERT_GT(read(self->s->out[0], buf, sizeof(buf) - 1), 0);
	got = strtoull(buf, &end, 16);
	ASSERT_EQ('\n', *end) TH_LOG("printed: %s", buf);
	EXPECT_EQ(want, got);
}

/*
 * §5: no event from threads started after the release.  The exec'd
 * program (this test, as --thread-after-release) waits for a byte, starts
 * a thread and joins it; the word recycled after POLLPRI stays untouched.
 */
static void *noop_thread(void *arg)
{
	return arg;
}

static int thread_after_release_main(void)
{
	pthread_t th;
	char c;

	if (read(0, &c, 1) != 1 || pthread_create(&th, NULL, noop_thread, NULL))
		return 1;
	return pthread_join(th, NULL) ? 2 : 6;
}

TEST_F(edge, threads_after_release_not_counted)
{
	static const char * const argv[] = { "afork_edge_test",
					     "--thread-after-release", NULL };
	struct afork_args a = args_for(self->stack, 0, &self->word,
				       &self->pidfd);
	pid_t pid;

	self->s->path = "/proc/self/exe";
	self->s->argv = (char *const *)argv;
	pid = afork_run(&a, sizeof(a), child_exec_stdio, self->s);
	ASSERT_GT(pid, 0);
	ASSERT_TRUE(pidfd_wait_events(self->pidfd, POLLPRI, -1) & POLLPRI);
	EXPECT_EQ(0, __atomic_load_n(&self->word, __ATOMIC_ACQUIRE));
	__atomic_store_n(&self->word, 0x77, __ATOMIC_RELEASE);
	ASSERT_EQ(1, write(self->s->in[1], "", 1));
	EXPECT_EQ(6, WEXITSTATUS(reap(pid)));
	EXPECT_EQ(0x77, __atomic_load_n(&self->word, __ATOMIC_ACQUIRE));
}

/*
 * §5: the EAGAIN path.  A failed afork() creates nothing, leaves the
 * release word alone and no descriptor open.  The pidfd slot, as with
 * clone3(), may hold the number of a descriptor that was reserved and
 * released again: copy_process() stores it before the cgroup's verdict.
 * 0 when it went so, else a code naming what did not.
 */
static int expect_eagain(struct afork_args *a, __u32 *word, int *pidfd)
{
	int probe = dup(0), probe2;
	long r;

	*word = 0xabcd;
	*pidfd = -7;
	close(probe);
	r = afork_run(a, sizeof(*a), child_exit_5, NULL);
	if (r > 0) {
		waitpid(r, NULL, 0);
		return 20;
	}
	if (r != -EAGAIN)
		return 21;
	if (*word != 0xabcd)
		return 22;
	probe2 = dup(0);
	close(probe2);
	return probe2 == probe ? 0 : 23;
}

TEST(eagain_rlimit_nproc)
{
	void *stack = afork_stack_alloc(AFORK_TEST_STACK_SIZE);
	struct rlimit none = { 0, 0 };
	__u32 word;
	int pidfd, st;
	pid_t pid;

	ASSERT_NE(NULL, stack);
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		struct afork_args a = args_for(stack, 0, &word, &pidfd);

		/* Root is exempt from RLIMIT_NPROC: be nobody. */
		if (getuid() == 0 && (setresgid(65534, 65534, 65534) ||
				      setresuid(65534, 65534, 65534)))
			_exit(2);
		if (setrlimit(RLIMIT_NPROC, &none))
			_exit(3);
		_exit(expect_eagain(&a, &word, &pidfd));
	}
	ASSERT_EQ(pid, waitpid(pid, &st, 0));
	ASSERT_TRUE(WIFEXITED(st));
	if (WEXITSTATUS(st) == 2)
		SKIP(return, "cannot become uid 65534");
	EXPECT_EQ(0, WEXITSTATUS(st));
	munmap(stack, AFORK_TEST_STACK_SIZE);
}

static int write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	int ok;

	if (fd < 0)
		return -1;
	ok = write(fd, text, strlen(text)) == (ssize_t)strlen(text);
	close(fd);
	return ok ? 0 : -1;
}

/* The same with the child created into a cgroup whose pids.max is 0. */
TEST_F(edge, eagain_pids_max)
{
	char root[] = "/tmp/afork-cg.XXXXXX", dir[64], path[96];
	struct afork_args a = args_for(self->stack, AFORK_INTO_CGROUP,
				       &self->word, &self->pidfd);
	int cg;

	ASSERT_NE(NULL, mkdtemp(root));
	if (mount("none", root, "cgroup2", 0, NULL)) {
		rmdir(root);
		SKIP(return, "cannot mount cgroup2: %s", strerror(errno));
	}
	snprintf(path, sizeof(path), "%s/cgroup.subtree_control", root);
	if (write_file(path, "+pids")) {
		umount2(root, MNT_DETACH);
		rmdir(root);
		SKIP(return, "no pids controller (CONFIG_CGROUP_PIDS)");
	}
	snprintf(dir, sizeof(dir), "%s/afork-pids", root);
	ASSERT_EQ(0, mkdir(dir, 0755));
	snprintf(path, sizeof(path), "%s/pids.max", dir);
	ASSERT_EQ(0, write_file(path, "0"));
	cg = open(dir, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
	ASSERT_GE(cg, 0);
	a.cgroup = cg;
	EXPECT_EQ(0, expect_eagain(&a, &self->word, &self->pidfd));
	self->pidfd = -1;
	close(cg);
	rmdir(dir);
	umount2(root, MNT_DETACH);
	rmdir(root);
}

/*
 * 2.2: a tracer sees an afork() child as a vfork() child.  v1 reported it
 * as a fork, and gdb, following the parent, detached the "forked" child
 * with its breakpoints removed from its memory, which is the parent's.
 *
 * The tracee forks off, attached with PTRACE_SEIZE and @options, and runs
 * one afork() child that exits 5 at once.  It exits 0 when the call went
 * as @waits says: with waits, the child has been released by the time
 * afork() returns (the word is clear and POLLPRI is up), as vfork()'s
 * caller waits.  The tracer records the tracee's event stops and detaches
 * every other task it is given, as gdb does by default.
 */
static int traced_afork(int go, int waits)
{
	void *stack = afork_stack_alloc(AFORK_TEST_STACK_SIZE);
	__u32 word = 0;
	int pidfd = -1, st;
	struct afork_args a = args_for(stack, 0, &word, &pidfd);
	pid_t pid;
	char c;

	if (!stack || read(go, &c, 1) != 1)
		return 10;
	pid = afork_run(&a, sizeof(a), child_exit_5, NULL);
	if (pid <= 0)
		return 11;
	if (waits && (__atomic_load_n(&word, __ATOMIC_ACQUIRE) != 0 ||
		      !(pidfd_wait_events(pidfd, POLLPRI, 0) & POLLPRI)))
		return 12;
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) ||
	    WEXITSTATUS(st) != 5)
		return 13;
	return 0;
}

struct trace_log {
	int events[8];		/* PTRACE_EVENT_* of the tracee's stops */
	unsigned long msgs[8];	/* PTRACE_GETEVENTMSG of each */
	int n;
	pid_t others[8];	/* other tasks the tracer was given */
	int n_others;
	int status;		/* the tracee's exit status */
};

static int run_traced(unsigned long options, int waits, struct trace_log *log)
{
	int go[2], st;
	pid_t tracee, pid;

	memset(log, 0, sizeof(*log));
	if (pipe(go))
		return -1;
	tracee = fork();
	if (tracee < 0)
		return -1;
	if (tracee == 0) {
		close(go[1]);
		_exit(traced_afork(go[0], waits));
	}
	close(go[0]);
	if (ptrace(PTRACE_SEIZE, tracee, 0, options)) {
		int err = errno;

		close(go[1]);
		waitpid(tracee, &st, 0);
		return err;
	}
	if (write(go[1], "g", 1) != 1)
		return -1;
	close(go[1]);
	for (;;) {
		pid = waitpid(-1, &st, __WALL);
		if (pid < 0)
			return -1;
		if (pid != tracee) {
			/* An auto-attached child: let it go, as gdb does. */
			if (log->n_others < 8)
				log->others[log->n_others++] = pid;
			if (WIFSTOPPED(st))
				ptrace(PTRACE_DETACH, pid, 0, 0);
			continue;
		}
		if (WIFEXITED(st) || WIFSIGNALED(st)) {
			log->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128;
			return 0;
		}
		if (WIFSTOPPED(st) && (st >> 16) && log->n < 8) {
			log->events[log->n] = st >> 16;
			ptrace(PTRACE_GETEVENTMSG, tracee, 0,
			       &log->msgs[log->n]);
			log->n++;
		}
		ptrace(PTRACE_CONT, tracee, 0, 0);
	}
}

TEST(ptrace_reported_as_vfork)
{
	struct trace_log log;
	int r = run_traced(PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK |
			   PTRACE_O_TRACECLONE | PTRACE_O_TRACEVFORKDONE,
			   1, &log);

	if (r > 0)
		SKIP(return, "PTRACE_SEIZE: %s", strerror(r));
	ASSERT_EQ(0, r);
	ASSERT_EQ(2, log.n);
	EXPECT_EQ(PTRACE_EVENT_VFORK, log.events[0]);
	EXPECT_EQ(PTRACE_EVENT_VFORK_DONE, log.events[1]);
	EXPECT_NE(0UL, log.msgs[0]);
	EXPECT_EQ(log.msgs[0], log.msgs[1]);
	ASSERT_EQ(1, log.n_others);
	EXPECT_EQ((pid_t)log.msgs[0], log.others[0]);
	EXPECT_EQ(0, log.status);
}

/*
 * A tracer that follows forks and clones but not vforks hears nothing of
 * an afork() child, as of a vfork() child, and the caller does not wait.
 */
TEST(ptrace_not_reported_as_fork)
{
	struct trace_log log;
	int r = run_traced(PTRACE_O_TRACEFORK | PTRACE_O_TRACECLONE, 0, &log);

	if (r > 0)
		SKIP(return, "PTRACE_SEIZE: %s", strerror(r));
	ASSERT_EQ(0, r);
	EXPECT_EQ(0, log.n);
	EXPECT_EQ(0, log.n_others);
	EXPECT_EQ(0, log.status);
}

/*
 * VFORK_DONE means released: after the last thread of the child has left
 * the mm, not when its first one has (found by a probe: the first version
 * of the tracer support completed vfork_done when the child's leader
 * exited, with a second thread still running in the caller's memory).
 *
 * The child's leader starts a thread, which waits on hold[], and exits.
 * The tracer waits until the leader is gone (EOF on gone[]: the leader's
 * file table held the last write end), looks for a VFORK_DONE stop for up
 * to a second, and only then lets the thread go.  The tracee checks, when
 * afork() returns, that the release word is clear, and exits 12 if not.
 */
struct held {
	int hold[2];
	int gone[2];
	int started[2];
	void *tstack;
};

static int held_thread(void *arg)
{
	struct held *h = arg;
	char c;

	/* Its own file table: drop its copy of the write end. */
	raw_syscall(__NR_close, h->gone[1], 0, 0, 0);
	child_read(h->hold[0], &c, 1);
	raw_syscall(__NR_exit, 0, 0, 0, 0);
	return 0;
}

static int child_leader_leaves_thread(void *arg)
{
	struct held *h = arg;

	if (child_start_thread(0, h->tstack, held_thread, h) <= 0)
		return 120;
	child_write(h->started[1], "s", 1);
	return raw_syscall(__NR_exit, 0, 0, 0, 0);
}

/* In the tracee: once the child has its file table, drop our write end. */
static void *drop_gone(void *arg)
{
	struct held *h = arg;
	char c;

	if (read(h->started[0], &c, 1) == 1)
		close(h->gone[1]);
	return NULL;
}

static int traced_afork_thread(int go, struct held *h)
{
	void *stack = afork_stack_alloc(AFORK_TEST_STACK_SIZE);
	__u32 word = 0;
	int pidfd = -1, st;
	struct afork_args a = args_for(stack, 0, &word, &pidfd);
	pthread_t th;
	pid_t pid;
	char c;

	if (!stack || read(go, &c, 1) != 1 ||
	    pthread_create(&th, NULL, drop_gone, h))
		return 10;
	pid = afork_run(&a, sizeof(a), child_leader_leaves_thread, h);
	if (pid <= 0)
		return 11;
	if (__atomic_load_n(&word, __ATOMIC_ACQUIRE) != 0)
		return 12;
	if (waitpid(pid, &st, 0) != pid)
		return 13;
	pthread_join(th, NULL);
	return 0;
}

TEST(ptrace_vfork_done_after_last_thread)
{
	struct held h;
	int go[2], st, vforked = 0, done_early = 0, done = 0;
	unsigned long msg = 0;
	pid_t tracee, pid;
	char c = 0;

	ASSERT_EQ(0, pipe(go));
	ASSERT_EQ(0, pipe(h.hold));
	ASSERT_EQ(0, pipe(h.gone));
	ASSERT_EQ(0, pipe(h.started));
	h.tstack = (char *)afork_stack_alloc(AFORK_TEST_STACK_SIZE) +
		   AFORK_TEST_STACK_SIZE;
	tracee = fork();
	ASSERT_GE(tracee, 0);
	if (tracee == 0)
		_exit(traced_afork_thread(go[0], &h));
	close(h.gone[1]);
	if (ptrace(PTRACE_SEIZE, tracee, 0,
		   PTRACE_O_TRACEVFORK | PTRACE_O_TRACEVFORKDONE)) {
		kill(tracee, SIGKILL);
		waitpid(tracee, &st, 0);
		SKIP(return, "PTRACE_SEIZE: %s", strerror(errno));
	}
	ASSERT_EQ(1, write(go[1], "g", 1));
	for (;;) {
		pid = waitpid(-1, &st, __WALL);
		ASSERT_GT(pid, 0);
		if (pid != tracee) {
			/* The auto-attached child: let it go, as gdb does. */
			if (WIFSTOPPED(st))
				ptrace(PTRACE_DETACH, pid, 0, 0);
			continue;
		}
		if (!WIFSTOPPED(st))
			break;
		if ((st >> 16) == PTRACE_EVENT_VFORK_DONE)
			done++;
		if ((st >> 16) == PTRACE_EVENT_VFORK)
			ptrace(PTRACE_GETEVENTMSG, tracee, 0, &msg);
		ptrace(PTRACE_CONT, tracee, 0, 0);
		if ((st >> 16) != PTRACE_EVENT_VFORK || vforked++)
			continue;
		/* The auto-attached child starts stopped: let it go. */
		ASSERT_EQ((pid_t)msg, waitpid((pid_t)msg, &st, __WALL));
		ASSERT_TRUE(WIFSTOPPED(st));
		ASSERT_EQ(0, ptrace(PTRACE_DETACH, (pid_t)msg, 0, 0));
		/* EOF: the leader has left the mm; its thread still runs. */
		ASSERT_EQ(0, read(h.gone[0], &c, 1));
		/* A bounded look for a stop that must not come yet. */
		for (int i = 0; i < 100 && !done_early; i++) {
			struct timespec ten_ms = { 0, 10 * 1000 * 1000 };

			pid = waitpid(tracee, &st, WNOHANG | __WALL);
			if (pid == tracee && WIFSTOPPED(st)) {
				done_early = (st >> 16) == PTRACE_EVENT_VFORK_DONE;
				done += done_early;
				ptrace(PTRACE_CONT, tracee, 0, 0);
			}
			if (!done_early)
				nanosleep(&ten_ms, NULL);
		}
		ASSERT_EQ(1, write(h.hold[1], &c, 1));
	}
	EXPECT_EQ(1, vforked);
	EXPECT_EQ(0, done_early);
	EXPECT_EQ(1, done);
	ASSERT_TRUE(WIFEXITED(st));
	EXPECT_EQ(0, WEXITSTATUS(st));
}

int main(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "--thread-after-release"))
		return thread_after_release_main();
	if (argc == 2 && !strcmp(argv[1], "--print-sigmask")) {
		__u64 mask = 0;

		if (raw_syscall(__NR_rt_sigprocmask, SIG_BLOCK, 0, (long)&mask,
				sizeof(mask)))
			return 1;
		printf("%llx\n", (unsigned long long)mask);
		return 0;
	}
	if (!afork_supported())
		ksft_exit_skip("afork() is not supported by this kernel\n");
	return test_harness_run(argc, argv);
}
