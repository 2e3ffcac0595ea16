/* SPDX-License-Identifier: MIT */
/*
 * Is a debugger attached?  TracerPid in /proc/self/status, read with raw
 * system calls on every afork of the clone backends (a debugger may attach
 * at any time, so nothing is cached): 3 to 5 microseconds on the host
 * where a whole afork() call costs 11 to 16.
 *
 * Why it matters: the kernel reports a clone(CLONE_VM) child with the
 * ordinary exit signal as a fork (PTRACE_EVENT_FORK).  gdb then detaches
 * the "forked" child and removes its breakpoints from the child's memory,
 * which is the parent's: breakpoints in the parent stop firing.  A vfork
 * (CLONE_VFORK, PTRACE_EVENT_VFORK) it handles: it keeps the breakpoints
 * out while the child runs and puts them back when the vfork is done.  So
 * under a tracer the clone backends add CLONE_VFORK, and the caller waits
 * for the child's exec or exit as with vfork(); see afork(3).
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>

#include "internal.h"

/* 1 if this process is being traced, 0 if not or when /proc is missing. */
int afork__traced(void)
{
	static const char key[] = "\nTracerPid:";
	char buf[4096], *p;
	long fd, n, got = 0;

	fd = sys_openat(AT_FDCWD, "/proc/self/status", O_RDONLY | O_CLOEXEC, 0);
	if (fd < 0)
		return 0;
	while (got < (long)sizeof(buf) - 1) {
		n = sys_read((int)fd, buf + got, sizeof(buf) - 1 - (size_t)got);
		if (n == -EINTR)
			continue;
		if (n <= 0)
			break;
		got += n;
	}
	sys_close((int)fd);
	buf[got] = 0;
	p = strstr(buf, key);
	if (!p)
		return 0;
	for (p += sizeof(key) - 1; *p == ' ' || *p == '\t'; p++)
		;
	return *p >= '1' && *p <= '9';
}
