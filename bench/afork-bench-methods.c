// SPDX-License-Identifier: MIT
/*
 * The ways of starting a program that afork-bench times, each behind
 * spawn_one(): fork, vfork and posix_spawn (libc), a raw clone(CLONE_VM)
 * (the floor: raw_clone.S), libafork's afork(), afork_start() with a
 * handle per child (afork_poll) and afork_spawn(), and the same three file
 * actions through posix_spawn, afork_spawn and an afork() child.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "afork-bench.h"

#define RAW_SLOTS (MAX_INFLIGHT + 8)
#define RAW_STACK (16 * 1024)

long bench_raw_clone_exec(unsigned long flags, void *stack_top, int *child_tid,
			  const char *path, char *const argv[],
			  char *const envp[]);

const char *const method_name[M_NMETHODS] = {
	[M_FORK] = "fork",
	[M_VFORK] = "vfork",
	[M_POSIX_SPAWN] = "posix_spawn",
	[M_RAW_CLONE] = "raw_clone_vm",
	[M_AFORK] = "afork",
	[M_POSIX_SPAWN_3FA] = "posix_spawn_3fa",
	[M_AFORK_3FA] = "afork_3fa",
	[M_AFORK_SPAWN] = "afork_spawn",
	[M_AFORK_SPAWN_3FA] = "afork_spawn_3fa",
	[M_AFORK_POLL] = "afork_poll",
};

/* The same small environment for every method and target. */
static char *child_envp[] = { (char *)"PATH=/usr/bin:/bin", NULL };

struct target targets[MAX_TARGETS];
int ntargets;

static posix_spawn_file_actions_t fa3;
#if HAVE_AFORK_SPAWN
static afork_spawn_file_actions_t afa3;
#endif
static int nullw = -1;			/* /dev/null, O_WRONLY, inherited */
static char *raw_stacks;
static int raw_ctid[RAW_SLOTS];

/*
 * afork_poll keeps a handle per child (with a pidfd and a release fd, as an
 * event loop would), freed once the child is reaped.
 */
static struct {
	pid_t pid;
	struct afork_child *c;
} handles[RAW_SLOTS];

void setup_targets(const char *tiny, const char *truep, const char *list)
{
	ntargets = 0;
	if (strstr(list, "static")) {
		struct target *t = &targets[ntargets++];

		snprintf(t->label, sizeof(t->label), "static");
		snprintf(t->path, sizeof(t->path), "%s", tiny);
	}
	if (strstr(list, "true")) {
		struct target *t = &targets[ntargets++];

		snprintf(t->label, sizeof(t->label), "bin_true");
		snprintf(t->path, sizeof(t->path), "%s", truep);
	}
	for (int i = 0; i < ntargets; i++) {
		targets[i].argv[0] = targets[i].path;
		targets[i].argv[1] = NULL;
		if (access(targets[i].path, X_OK))
			die("exec target %s: %s", targets[i].path, strerror(errno));
	}
	if (!ntargets)
		die("no exec target in '%s'", list);
}

static void handle_put(pid_t pid)
{
	int i;

	for (i = 0; i < RAW_SLOTS; i++) {
		if (handles[i].c && handles[i].pid == pid) {
			afork_free(handles[i].c);
			handles[i].c = NULL;
			return;
		}
	}
}

/* The child of afork(): exec the target, nothing else. */
static int child_exec(void *arg)
{
	const struct target *t = arg;

	afork_child_execve(t->path, t->argv, child_envp);
	afork_child_exit(127);
}

static pid_t afork_poll_spawn(const struct target *t)
{
	struct afork_opts opts;
	struct afork_child *c;
	int i;

	for (i = 0; i < RAW_SLOTS && handles[i].c; i++)
		;
	if (i == RAW_SLOTS)
		return -EAGAIN;
	afork_opts_init(&opts);
	opts.options = AFORK_OPT_PIDFD | AFORK_OPT_RELEASE_FD;
	if (afork_start(&c, &opts, child_exec, (void *)t))
		return -errno;
	handles[i].c = c;
	handles[i].pid = afork_pid(c);
	return handles[i].pid;
}

/*
 * The child of afork() doing what posix_spawn_3fa's file actions do (and
 * what glibc does for them): open /dev/null onto fd 0, dup2 nullw onto
 * fd 1, close nullw.
 */
static int child_3fa(void *arg)
{
	const struct target *t = arg;
	int fd = afork_child_open("/dev/null", O_RDONLY, 0);

	if (fd < 0)
		afork_child_exit(126);
	if (fd != 0) {
		if (afork_child_dup2(fd, 0) < 0)
			afork_child_exit(126);
		afork_child_close(fd);
	}
	if (afork_child_dup2(nullw, 1) < 0)
		afork_child_exit(126);
	afork_child_close(nullw);
	afork_child_execve(t->path, t->argv, child_envp);
	afork_child_exit(127);
}

static void setup_3fa(void)
{
	nullw = open("/dev/null", O_WRONLY);	/* inherited: the actions close it */
	if (nullw < 0)
		die("open /dev/null: %s", strerror(errno));
	posix_spawn_file_actions_init(&fa3);
	if (posix_spawn_file_actions_addopen(&fa3, 0, "/dev/null", O_RDONLY, 0) ||
	    posix_spawn_file_actions_adddup2(&fa3, nullw, 1) ||
	    posix_spawn_file_actions_addclose(&fa3, nullw))
		die("posix_spawn_file_actions");
#if HAVE_AFORK_SPAWN
	afork_spawn_file_actions_init(&afa3);
	if (afork_spawn_file_actions_addopen(&afa3, 0, "/dev/null", O_RDONLY, 0) ||
	    afork_spawn_file_actions_adddup2(&afa3, nullw, 1) ||
	    afork_spawn_file_actions_addclose(&afa3, nullw))
		die("afork_spawn_file_actions");
#endif
}

void methods_setup(void)
{
	raw_stacks = mmap(NULL, (size_t)(RAW_SLOTS + 1) * RAW_STACK,
			  PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
	if (raw_stacks == MAP_FAILED)
		die("mmap stacks: %s", strerror(errno));
	setup_3fa();
}

static pid_t raw_clone_spawn(const struct target *t)
{
	int i;
	long r;

	for (;;) {
		for (i = 0; i < RAW_SLOTS; i++)
			if (__atomic_load_n(&raw_ctid[i], __ATOMIC_ACQUIRE) == 0)
				break;
		if (i < RAW_SLOTS)
			break;
		/* Every stack in use: wait for the first to be released. */
		syscall(SYS_futex, &raw_ctid[0], FUTEX_WAIT, raw_ctid[0], NULL);
	}
	raw_ctid[i] = 1;	/* cleared by the kernel at the child's exec/exit */
	r = bench_raw_clone_exec(CLONE_VM | CLONE_CHILD_CLEARTID | SIGCHLD,
				 raw_stacks + (size_t)(i + 1) * RAW_STACK,
				 &raw_ctid[i], t->path, t->argv, child_envp);
	if (r < 0)
		raw_ctid[i] = 0;
	return (pid_t)r;
}

pid_t spawn_one(int m, const struct target *t)
{
	pid_t pid;
	int r;

	switch (m) {
	case M_FORK:
		pid = fork();
		if (pid == 0) {
			execve(t->path, t->argv, child_envp);
			_exit(127);
		}
		return pid < 0 ? -errno : pid;
	case M_VFORK:
		pid = vfork();
		if (pid == 0) {
			execve(t->path, t->argv, child_envp);
			_exit(127);
		}
		return pid < 0 ? -errno : pid;
	case M_POSIX_SPAWN:
		r = posix_spawn(&pid, t->path, NULL, NULL, t->argv, child_envp);
		return r ? -r : pid;
	case M_POSIX_SPAWN_3FA:
		r = posix_spawn(&pid, t->path, &fa3, NULL, t->argv, child_envp);
		return r ? -r : pid;
	case M_RAW_CLONE:
		return raw_clone_spawn(t);
	case M_AFORK:
		pid = afork(child_exec, (void *)t);
		return pid < 0 ? -errno : pid;
	case M_AFORK_3FA:
		pid = afork(child_3fa, (void *)t);
		return pid < 0 ? -errno : pid;
	case M_AFORK_POLL:
		return afork_poll_spawn(t);
#if HAVE_AFORK_SPAWN
	/* Default attributes (a pidfd), no handle: as a caller that only
	 * wants the pid would do. */
	case M_AFORK_SPAWN:
		r = afork_spawn(NULL, &pid, t->path, NULL, NULL, t->argv,
				child_envp);
		return r ? -r : pid;
	case M_AFORK_SPAWN_3FA:
		r = afork_spawn(NULL, &pid, t->path, &afa3, NULL, t->argv,
				child_envp);
		return r ? -r : pid;
#endif
	}
	return -EINVAL;
}

void spawn_done(int m, pid_t pid)
{
	if (m == M_AFORK_POLL)
		handle_put(pid);
}

int method_is_afork(int m)
{
	return m == M_AFORK || m == M_AFORK_3FA || m == M_AFORK_SPAWN ||
	       m == M_AFORK_SPAWN_3FA || m == M_AFORK_POLL;
}

int exited_ok(int st)
{
	return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

pid_t reap(pid_t pid, int *st)
{
	pid_t r;

	do
		r = waitpid(pid, st, __WALL);
	while (r < 0 && errno == EINTR);
	return r;
}
