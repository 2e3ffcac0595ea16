// SPDX-License-Identifier: MIT
/*
 * /init of the afork test guest.
 *
 * Mounts the pseudo filesystems, executes /payload/run (a binary, or a
 * script through its #! line; the shell runs it when it has neither) with a
 * timeout, prints one marker line with the payload's exit status and hands
 * that status to the host through QEMU's isa-debug-exit device (I/O port
 * 0xf4): QEMU then exits with (status << 1) | 1, so an exit status of 0 can
 * never be mistaken for a verdict.  If the port cannot be used the guest
 * reboots, which -no-reboot turns into a QEMU exit with status 0: the host
 * reports a missing verdict instead of waiting for its timeout.
 *
 * On arm64 (QEMU's virt machine, which has no isa-debug-exit) the same
 * (status << 1) | 1 leaves QEMU through semihosting instead: see
 * send_verdict() for why, and qemu/run-vm.sh for the QEMU side.
 *
 * As PID 1 it also reaps every orphan the tests leave behind.
 *
 * Kernel command line parameters read here:
 *   afork.timeout=SECONDS   payload timeout (default 600)
 *   afork.epoch=SECONDS     the host's time (seconds since 1970), set as
 *                           the guest's when its own clock is behind
 *
 * Built static (gcc -static -Os; aarch64-linux-gnu-gcc for arm64) by
 * qemu/Makefile.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if defined(__x86_64__) || defined(__i386__)
#include <sys/io.h>
#endif
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define DEBUG_EXIT_PORT		0xf4
#define DEFAULT_TIMEOUT		600
#define STATUS_TIMEOUT		124	/* as timeout(1) */
#define STATUS_NOT_RUN		127	/* as sh for a missing command */

static volatile sig_atomic_t timed_out;

static void on_alarm(int sig)
{
	(void)sig;
	timed_out = 1;
}

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("afork-init: ", stdout);
	vprintf(fmt, ap);
	fputc('\n', stdout);
	fflush(stdout);
	va_end(ap);
}

static void do_mount(const char *src, const char *dir, const char *type,
		     const char *opts)
{
	mkdir(dir, 0755);
	if (mount(src, dir, type, MS_NOSUID, opts) && errno != EBUSY)
		say("mount %s on %s: %s", type, dir, strerror(errno));
}

/* Console on fds 0-2; the kernel may already have done it. */
static void setup_console(void)
{
	int fd = open("/dev/console", O_RDWR | O_NOCTTY);

	if (fd < 0)
		return;
	dup2(fd, 0);
	dup2(fd, 1);
	dup2(fd, 2);
	if (fd > 2)
		close(fd);
	setvbuf(stdout, NULL, _IOLBF, 0);
}

/* The value of "@name=" on the kernel command line, or @def. */
static unsigned long cmdline_ulong(const char *name, unsigned long def)
{
	char buf[4096], *p;
	size_t len = strlen(name);
	ssize_t n;
	int fd = open("/proc/cmdline", O_RDONLY);

	if (fd < 0)
		return def;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return def;
	buf[n] = '\0';
	for (p = buf; (p = strstr(p, name)); p++) {
		if ((p == buf || p[-1] == ' ') && p[len] == '=') {
			unsigned long v = strtoul(p + len + 1, NULL, 10);

			return v ? v : def;
		}
	}
	return def;
}

/*
 * The host's time, from afork.epoch=: an arm64 guest has no RTC driver and
 * would start at 1970, which the benchmarks' reports print.  A clock that
 * already reads later (x86's CMOS clock) is left alone.
 */
static void set_clock(void)
{
	struct timespec ts = { .tv_sec = (time_t)cmdline_ulong("afork.epoch", 0) };

	if (ts.tv_sec > time(NULL) + 60 && clock_settime(CLOCK_REALTIME, &ts))
		say("clock_settime: %s", strerror(errno));
}

/* First line of a small /proc file, without the newline ("" if none). */
static void read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");

	buf[0] = '\0';
	if (!f)
		return;
	if (fgets(buf, (int)len, f))
		buf[strcspn(buf, "\n")] = '\0';
	fclose(f);
}

/* Lockdep clears debug_locks after its first report (or any BUG). */
static int lockdep_off(void)
{
	char line[256];
	int off = 0;
	FILE *f = fopen("/proc/lockdep_stats", "r");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		char *p = strstr(line, "debug_locks:");

		if (p && strtol(p + 12, NULL, 10) == 0)
			off = 1;
	}
	fclose(f);
	return off;
}

/*
 * The busybox applet links (/bin/sh, /usr/bin/timeout, ...).
 * qemu/mkinitramfs.sh puts them in the archive from `busybox --list-full`,
 * which only a busybox that runs on the build host can answer; for another
 * architecture's busybox (the arm64 guest built on x86-64) it leaves them
 * out, and busybox makes them here.  A no-op when /bin/sh is there.
 */
static void install_applets(void)
{
	pid_t pid;
	int st;

	if (access("/bin/sh", X_OK) == 0 || access("/bin/busybox", X_OK) != 0)
		return;
	pid = fork();
	if (pid == 0) {
		execl("/bin/busybox", "busybox", "--install", "-s", (char *)NULL);
		_exit(STATUS_NOT_RUN);
	}
	if (pid > 0)
		waitpid(pid, &st, 0);
	if (access("/bin/sh", X_OK))
		say("busybox --install -s made no /bin/sh");
}

static pid_t start_payload(void)
{
	pid_t pid = fork();

	if (pid != 0)
		return pid;

	/* Own session and process group, so a timeout can kill all of it. */
	setsid();
	signal(SIGALRM, SIG_DFL);
	if (chdir("/payload"))
		chdir("/");
	setenv("PATH", "/bin:/sbin:/usr/bin:/usr/sbin", 1);
	setenv("HOME", "/tmp", 1);
	setenv("TMPDIR", "/tmp", 1);
	/*
	 * Executed as it is: a binary, or a script through its #! line.  A
	 * file the kernel cannot execute (no #! line, or no execute bit) is
	 * handed to the shell, as execvp() and the shell itself do.
	 */
	execl("/payload/run", "run", (char *)NULL);
	if (errno == EACCES && access("/payload/run", X_OK) == 0) {
		say("exec /payload/run: %s (its #! interpreter?)", strerror(errno));
		_exit(STATUS_NOT_RUN);
	} else if (errno == ENOENT && access("/payload/run", F_OK) == 0) {
		say("exec /payload/run: its #! interpreter is missing");
		_exit(STATUS_NOT_RUN);
	} else if (errno != ENOEXEC && errno != EACCES) {
		say("exec /payload/run: %s", strerror(errno));
		_exit(STATUS_NOT_RUN);
	}
	if (errno == EACCES)
		say("/payload/run is not executable: running it with /bin/sh");
	execl("/bin/sh", "sh", "/payload/run", (char *)NULL);
	say("exec /bin/sh /payload/run: %s", strerror(errno));
	_exit(STATUS_NOT_RUN);
}

/* Reap children until the payload has exited or the alarm went off. */
static int wait_payload(pid_t payload, unsigned int timeout)
{
	struct sigaction sa = { .sa_handler = on_alarm };	/* no SA_RESTART */
	int st;

	sigaction(SIGALRM, &sa, NULL);
	alarm(timeout);
	for (;;) {
		pid_t pid = waitpid(-1, &st, 0);

		if (pid == payload)
			break;
		if (pid < 0 && errno == EINTR && timed_out) {
			say("payload timed out after %u s, killing it", timeout);
			kill(-payload, SIGKILL);
			waitpid(payload, &st, 0);
			alarm(0);
			return STATUS_TIMEOUT;
		}
		if (pid < 0 && errno == ECHILD)
			return STATUS_NOT_RUN;	/* cannot happen: payload is ours */
	}
	alarm(0);
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	say("payload killed by signal %d", WTERMSIG(st));
	return 128 + WTERMSIG(st);
}

/* Kill what the payload left running and reap it. */
static void cleanup(pid_t payload)
{
	kill(-payload, SIGKILL);
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
}

static void report_kernel_state(void)
{
	char buf[256];

	/* A WARN() taints the kernel ('W'); a lockdep report turns debug_locks off. */
	read_line("/proc/sys/kernel/tainted", buf, sizeof(buf));
	if (buf[0] && strcmp(buf, "0"))
		say("kernel tainted: %s", buf);
	if (lockdep_off())
		say("lockdep turned itself off (debug_locks 0): see its report above");
}

#if defined(__aarch64__)
/*
 * The verdict on arm64.  QEMU's virt machine has no isa-debug-exit; the
 * two ways out that carry a value are semihosting's exit call and the
 * console line alone after a PSCI power-off (QEMU then exits with 0 whatever
 * happened).  Semihosting is taken: the host gets the status from QEMU's
 * exit status as on x86, as (status << 1) | 1, so that run-vm.sh applies
 * the same rule to both (an odd status that agrees with the marker line is
 * a verdict; 0 is a panic or a reboot; anything else is QEMU's own error),
 * and a verdict never rests on console text a test could print.  QEMU runs
 * with -semihosting-config enable=on,target=native,userspace=on: the call
 * is made from user space (EL0), which QEMU refuses without userspace=on.
 *
 * SYS_EXIT_EXTENDED (0x20): x1 points to { reason, subcode }; with reason
 * ADP_Stopped_ApplicationExit QEMU exits with subcode as its status.  The
 * call traps as an undefined instruction (SIGILL) when QEMU does not take
 * it, so it is made in a child: init survives to say so and to reboot.
 */
#define SEMIHOSTING_SYS_EXIT_EXTENDED	0x20
#define ADP_STOPPED_APPLICATION_EXIT	0x20026

static int semihosting_exit(unsigned int code)
{
	pid_t pid = fork();
	int st;

	if (pid == 0) {
		unsigned long block[2] = { ADP_STOPPED_APPLICATION_EXIT, code };
		register unsigned long x0 __asm__("x0") = SEMIHOSTING_SYS_EXIT_EXTENDED;
		register unsigned long *x1 __asm__("x1") = block;

		__asm__ volatile("hlt #0xf000" : "+r"(x0) : "r"(x1) : "memory");
		_exit(0);	/* QEMU returned: no such call */
	}
	if (pid < 0)
		return -1;
	waitpid(pid, &st, 0);
	if (WIFSIGNALED(st))
		say("semihosting exit: killed by signal %d (QEMU without "
		    "-semihosting-config enable=on,userspace=on?)", WTERMSIG(st));
	else
		say("semihosting exit returned");
	return -1;
}
#endif

static void send_verdict(int status)
{
	/* Only 7 bits survive QEMU's (value << 1) | 1 in an 8-bit exit status. */
	unsigned int value = status > 127 ? 127 : (unsigned int)status;

	fflush(NULL);
	sync();
#if defined(__aarch64__)
	semihosting_exit((value << 1) | 1);
#else
	if (ioperm(DEBUG_EXIT_PORT, 4, 1) == 0) {
		outl(value, DEBUG_EXIT_PORT);
		/* Not reached when the device exists. */
		say("isa-debug-exit did not stop the machine (no such device?)");
	} else {
		say("ioperm(0x%x): %s", DEBUG_EXIT_PORT, strerror(errno));
	}
#endif
	/* With -no-reboot this ends QEMU with status 0: "no verdict". */
	reboot(RB_AUTOBOOT);
	for (;;)
		pause();
}

int main(void)
{
	unsigned int timeout;
	pid_t payload;
	int status;

	do_mount("devtmpfs", "/dev", "devtmpfs", "mode=0755");
	setup_console();
	do_mount("proc", "/proc", "proc", NULL);
	do_mount("sysfs", "/sys", "sysfs", NULL);
	do_mount("tmpfs", "/tmp", "tmpfs", "mode=1777");
	install_applets();

	set_clock();
	timeout = (unsigned int)cmdline_ulong("afork.timeout", DEFAULT_TIMEOUT);
	say("running /payload/run (timeout %u s)", timeout);
	payload = start_payload();
	if (payload < 0) {
		say("fork: %s", strerror(errno));
		status = STATUS_NOT_RUN;
	} else {
		status = wait_payload(payload, timeout);
		cleanup(payload);
	}
	report_kernel_state();
	say("payload exit status %d", status);
	send_verdict(status);
	return 0;
}
