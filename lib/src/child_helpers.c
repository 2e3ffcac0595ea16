/* SPDX-License-Identifier: MIT */
/*
 * Helpers that are safe in the child: each is one raw system call (or a
 * short loop of them), returns >= 0 or -errno, never touches errno, takes
 * no lock and allocates nothing.
 */
#include <errno.h>

#include "internal.h"

AFORK_API int afork_child_execve(const char *path, char *const argv[],
				 char *const envp[])
{
	return (int)sys_execve(path, argv, envp);
}

AFORK_API int afork_child_open(const char *path, int flags, mode_t mode)
{
	return (int)sys_openat(AT_FDCWD, path, flags, mode);
}

AFORK_API int afork_child_close(int fd)
{
	return (int)sys_close(fd);
}

struct afork_dirent64 {
	uint64_t ino;
	int64_t off;
	unsigned short reclen;
	unsigned char type;
	char name[];
};

/* close_range() before Linux 5.9: walk /proc/self/fd. */
static int close_range_slow(unsigned int first, unsigned int last,
			    unsigned int cloexec)
{
	char buf[1024] __attribute__((aligned(8)));
	long dfd, n, pos;

	dfd = sys_openat(AT_FDCWD, "/proc/self/fd",
			 O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
	if (dfd < 0)
		return (int)dfd;
	while ((n = sys_getdents64((int)dfd, buf, sizeof(buf))) > 0) {
		for (pos = 0; pos < n;) {
			struct afork_dirent64 *d = (void *)(buf + pos);
			unsigned long fd = 0;
			const char *s = d->name;

			pos += d->reclen;
			if (*s < '0' || *s > '9')
				continue;
			while (*s >= '0' && *s <= '9')
				fd = fd * 10 + (unsigned long)(*s++ - '0');
			if (fd == (unsigned long)dfd || fd < first || fd > last)
				continue;
			if (cloexec)
				sys_fcntl((int)fd, F_SETFD, FD_CLOEXEC);
			else
				sys_close((int)fd);
		}
	}
	sys_close((int)dfd);
	return n < 0 ? (int)n : 0;
}

#ifndef CLOSE_RANGE_UNSHARE
#define CLOSE_RANGE_UNSHARE (1u << 1)
#endif
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1u << 2)
#endif

AFORK_API int afork_child_close_range(unsigned int first, unsigned int last,
				      unsigned int flags)
{
	long r = sys_close_range(first, last, flags);

	if (r != -ENOSYS)
		return (int)r;
	if (flags & ~(CLOSE_RANGE_UNSHARE | CLOSE_RANGE_CLOEXEC) ||
	    first > last)
		return -EINVAL;
	return close_range_slow(first, last, flags & CLOSE_RANGE_CLOEXEC);
}

AFORK_API int afork_child_dup2(int oldfd, int newfd)
{
	return (int)sys_dup2(oldfd, newfd);
}

AFORK_API int afork_child_fcntl(int fd, int cmd, long arg)
{
	return (int)sys_fcntl(fd, cmd, arg);
}

AFORK_API int afork_child_chdir(const char *path)
{
	return (int)sys_chdir(path);
}

AFORK_API int afork_child_fchdir(int fd)
{
	return (int)sys_fchdir(fd);
}

AFORK_API int afork_child_setsid(void)
{
	return (int)sys_setsid();
}

AFORK_API int afork_child_setpgid(pid_t pid, pid_t pgid)
{
	return (int)sys_setpgid(pid, pgid);
}

AFORK_API int afork_child_sigprocmask(int how, const sigset_t *set,
				      sigset_t *old)
{
	return (int)sys_sigprocmask(how, set, old);
}

AFORK_API int afork_child_sigreset(void)
{
	afork__sigreset_all();
	return 0;
}

AFORK_API int afork_child_sigdefault(const sigset_t *set)
{
	static const struct afork_ksigaction dfl;
	uint64_t bits;
	int sig;
	long r;

	if (!set)
		return -EFAULT;
	bits = *(const uint64_t *)(const void *)set;
	for (sig = 1; sig <= 64; sig++) {
		if (!(bits & (1ull << (sig - 1))) ||
		    sig == SIGKILL || sig == SIGSTOP)
			continue;
		r = sys_sigaction(sig, &dfl, NULL);
		if (r < 0)
			return (int)r;
	}
	return 0;
}

AFORK_API long afork_child_read(int fd, void *buf, size_t count)
{
	return sys_read(fd, buf, count);
}

AFORK_API long afork_child_write(int fd, const void *buf, size_t count)
{
	return sys_write(fd, buf, count);
}

AFORK_API pid_t afork_child_getpid(void)
{
	return (pid_t)sys_getpid();
}

AFORK_API long afork_child_syscall(long nr, long a1, long a2, long a3,
				   long a4, long a5, long a6)
{
	return afork__syscall6(nr, a1, a2, a3, a4, a5, a6);
}

AFORK_API void afork_child_exit(int status)
{
	sys_exit_group(status);
}

AFORK_API void afork_ctx_set_error(struct afork_ctx *ctx, int err, int step)
{
	struct afork_child *c = (struct afork_child *)ctx;

	if (!c)
		return;
	c->exec_errno = err;
	c->error_step = step;
}
