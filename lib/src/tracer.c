/* SPDX-License-Identifier: MIT */
/*
 * Is a debugger attached?  TracerPid in /proc/self/status, read with raw
 * system calls by the clone backends before they start a child.
 *
 * Why it matters: the kernel reports a clone(CLONE_VM) child with the
 * ordinary exit signal as a fork (PTRACE_EVENT_FORK).  gdb then detaches
 * the "forked" child and removes its breakpoints from the child's memory,
 * which is the parent's: breakpoints in the parent stop firing.  A vfork
 * (CLONE_VFORK, PTRACE_EVENT_VFORK) it handles: it keeps the breakpoints
 * out while the child runs and puts them back when the vfork is done.  So
 * under a tracer the clone backends add CLONE_VFORK, and the caller waits
 * for the child's exec or exit as with vfork(); see afork(3).
 *
 * What it costs: generating /proc/self/status takes 3 to 13 microseconds
 * (host, quiet to loaded), as much as the rest of an afork() call.  So
 * the answer is reused for up to TRACER_RECHECK_NS: at most 20 reads a
 * second, however often and however sparsely the program spawns.  A
 * debugger can attach at any time, but before our breakpoints could be
 * lost it must stop us, read the program's symbols, insert breakpoints
 * and let us run again, which takes far longer (gdb -p stopped a small
 * test program for 257 ms on the 2-CPU machine this was measured on):
 * we come back to a stale answer and read the file again.  After
 * fork() the child process reads it afresh (afork__tracer_forget()): a
 * debugger may follow it.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <time.h>

#include "internal.h"

#define TRACER_RECHECK_NS 50000000ull	/* 50 ms */

static uint64_t checked_ns;	/* CLOCK_MONOTONIC of the last read, 0: none */
static int traced_seen;		/* what it said */

/* 1 if this process is being traced, 0 if not or when /proc is missing. */
static int read_tracer(void)
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

int afork__traced(void)
{
	struct timespec ts;
	uint64_t now, last;
	int t;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	last = __atomic_load_n(&checked_ns, __ATOMIC_ACQUIRE);
	if (last && now - last < TRACER_RECHECK_NS)
		return __atomic_load_n(&traced_seen, __ATOMIC_RELAXED);
	t = read_tracer();
	__atomic_store_n(&traced_seen, t, __ATOMIC_RELAXED);
	__atomic_store_n(&checked_ns, now ? now : 1, __ATOMIC_RELEASE);
	return t;
}

/* fork() child: a debugger may follow the new process; look again. */
void afork__tracer_forget(void)
{
	__atomic_store_n(&checked_ns, 0, __ATOMIC_RELAXED);
}
