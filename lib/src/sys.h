/* SPDX-License-Identifier: MIT */
/*
 * Named raw system calls, built on the per-architecture afork__syscallN().
 * All return >= 0 or -errno and never touch errno: safe in the child.
 */
#ifndef AFORK_SYS_H
#define AFORK_SYS_H

/*
 * The architecture: its raw system calls here, the layout of its thread
 * pointer for tls.c (AFORK_ARCH_TLS_H), its trampoline.S in the Makefile.
 */
#if defined(__x86_64__)
#include "arch/x86_64/syscall.h"
#define AFORK_ARCH_TLS_H "arch/x86_64/tls.h"
#elif defined(__aarch64__)
#include "arch/aarch64/syscall.h"
#define AFORK_ARCH_TLS_H "arch/aarch64/tls.h"
#else
#error "libafork supports x86-64 and AArch64: add src/arch/<arch>/{syscall.h,tls.h,trampoline.S}"
#endif

#include <fcntl.h>
#include <linux/futex.h>
#include <signal.h>
#include <sys/types.h>
#include <time.h>

#ifndef __NR_clone3
#define __NR_clone3 435
#endif
#ifndef __NR_close_range
#define __NR_close_range 436
#endif
#ifndef __NR_pidfd_open
#define __NR_pidfd_open 434
#endif
#ifndef __NR_afork
#define __NR_afork 600	/* docs/contracts.md */
#endif

static inline long sys_read(int fd, void *buf, size_t n)
{
	return afork__syscall3(__NR_read, fd, (long)buf, (long)n);
}

static inline long sys_write(int fd, const void *buf, size_t n)
{
	return afork__syscall3(__NR_write, fd, (long)buf, (long)n);
}

static inline long sys_close(int fd)
{
	return afork__syscall1(__NR_close, fd);
}

static inline long sys_openat(int dirfd, const char *path, int flags,
			      unsigned int mode)
{
	return afork__syscall4(__NR_openat, dirfd, (long)path, flags, mode);
}

/*
 * dup2() where the table has it.  The generic table (arm64) has only
 * dup3(), which fails with EINVAL when the two are equal, where dup2()
 * checks that @oldfd is open and returns it.
 */
static inline long sys_dup2(int oldfd, int newfd)
{
#ifdef __NR_dup2
	return afork__syscall2(__NR_dup2, oldfd, newfd);
#else
	long r;

	if (oldfd != newfd)
		return afork__syscall3(__NR_dup3, oldfd, newfd, 0);
	r = afork__syscall3(__NR_fcntl, oldfd, F_GETFD, 0);
	return r < 0 ? r : newfd;
#endif
}

static inline long sys_fcntl(int fd, int cmd, long arg)
{
	return afork__syscall3(__NR_fcntl, fd, cmd, arg);
}

static inline long sys_close_range(unsigned int first, unsigned int last,
				   unsigned int flags)
{
	return afork__syscall3(__NR_close_range, first, last, flags);
}

static inline long sys_getdents64(int fd, void *buf, size_t n)
{
	return afork__syscall3(__NR_getdents64, fd, (long)buf, (long)n);
}

static inline long sys_chdir(const char *path)
{
	return afork__syscall1(__NR_chdir, (long)path);
}

static inline long sys_fchdir(int fd)
{
	return afork__syscall1(__NR_fchdir, fd);
}

static inline long sys_setsid(void)
{
	return afork__syscall0(__NR_setsid);
}

static inline long sys_setpgid(pid_t pid, pid_t pgid)
{
	return afork__syscall2(__NR_setpgid, pid, pgid);
}

static inline long sys_getpid(void)
{
	return afork__syscall0(__NR_getpid);
}

static inline long sys_getppid(void)
{
	return afork__syscall0(__NR_getppid);
}

static inline long sys_getpgid(pid_t pid)
{
	return afork__syscall1(__NR_getpgid, pid);
}

static inline long sys_getuid(void)
{
	return afork__syscall0(__NR_getuid);
}

static inline long sys_getgid(void)
{
	return afork__syscall0(__NR_getgid);
}

/* -1 leaves an id as it is. */
static inline long sys_setresuid(long r, long e, long s)
{
	return afork__syscall3(__NR_setresuid, r, e, s);
}

static inline long sys_setresgid(long r, long e, long s)
{
	return afork__syscall3(__NR_setresgid, r, e, s);
}

/* @rl: the kernel's struct rlimit, two unsigned longs. */
static inline long sys_getrlimit(int resource, void *rl)
{
	return afork__syscall2(__NR_getrlimit, resource, (long)rl);
}

/* @p: struct sched_param, an int. */
static inline long sys_sched_setscheduler(pid_t pid, int policy, const void *p)
{
	return afork__syscall3(__NR_sched_setscheduler, pid, policy, (long)p);
}

static inline long sys_sched_setparam(pid_t pid, const void *p)
{
	return afork__syscall2(__NR_sched_setparam, pid, (long)p);
}

static inline long sys_ioctl(int fd, unsigned long req, long arg)
{
	return afork__syscall3(__NR_ioctl, fd, (long)req, arg);
}

static inline long sys_prctl(int option, long arg2)
{
	return afork__syscall2(__NR_prctl, option, arg2);
}

static inline long sys_kill(pid_t pid, int sig)
{
	return afork__syscall2(__NR_kill, pid, sig);
}

static inline long sys_execve(const char *path, char *const argv[],
			      char *const envp[])
{
	return afork__syscall3(__NR_execve, (long)path, (long)argv,
			       (long)envp);
}

static inline __attribute__((noreturn)) void sys_exit_group(int status)
{
	for (;;)
		afork__syscall1(__NR_exit_group, status);
}

/* @set/@old point to at least AFORK_KSIGSET_SIZE bytes. */
static inline long sys_sigprocmask(int how, const void *set, void *old)
{
	return afork__syscall4(__NR_rt_sigprocmask, how, (long)set, (long)old,
			       AFORK_KSIGSET_SIZE);
}

static inline long sys_sigaction(int sig, const struct afork_ksigaction *act,
				 struct afork_ksigaction *old)
{
	return afork__syscall4(__NR_rt_sigaction, sig, (long)act, (long)old,
			       AFORK_KSIGSET_SIZE);
}

static inline long sys_sigpending(void *set)
{
	return afork__syscall2(__NR_rt_sigpending, (long)set, AFORK_KSIGSET_SIZE);
}

/* A signal of @set, or -EAGAIN after @timeout (NULL: wait for one). */
static inline long sys_sigtimedwait(const void *set, siginfo_t *info,
				    const struct timespec *timeout)
{
	return afork__syscall4(__NR_rt_sigtimedwait, (long)set, (long)info,
			       (long)timeout, AFORK_KSIGSET_SIZE);
}

static inline long sys_pipe2(int fds[2], int flags)
{
	return afork__syscall2(__NR_pipe2, (long)fds, flags);
}

static inline long sys_pidfd_open(pid_t pid, unsigned int flags)
{
	return afork__syscall2(__NR_pidfd_open, pid, flags);
}

static inline long sys_waitid(int idtype, int id, siginfo_t *info,
			      int options)
{
	return afork__syscall5(__NR_waitid, idtype, id, (long)info, options, 0);
}

static inline long sys_wait4(pid_t pid, int *status, int options)
{
	return afork__syscall4(__NR_wait4, pid, (long)status, options, 0);
}

/* Shared (not private) futex ops: the kernel wakes release words shared. */
static inline long sys_futex_wait(const volatile uint32_t *word,
				  uint32_t val, const struct timespec *rel)
{
	return afork__syscall4(__NR_futex, (long)word, FUTEX_WAIT, (long)val,
			       (long)rel);
}

static inline long sys_futex_wake(const volatile uint32_t *word, int n)
{
	return afork__syscall3(__NR_futex, (long)word, FUTEX_WAKE, n);
}

static inline long sys_clone3(void *args, size_t size)
{
	return afork__syscall2(__NR_clone3, (long)args, (long)size);
}

static inline long sys_afork(void *args, size_t size)
{
	return afork__syscall2(__NR_afork, (long)args, (long)size);
}

#endif /* AFORK_SYS_H */
