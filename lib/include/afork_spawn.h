/* SPDX-License-Identifier: MIT */
/*
 * afork_spawn.h - libafork's posix_spawn, popen and system that do not
 * make the caller wait for the child's exec.
 *
 * afork_spawn() has the shape of posix_spawn(): a path (or a file searched
 * in PATH), argv, envp, file actions and attributes.  It returns as soon
 * as the child exists, with its pid and a struct afork_child handle; the
 * result of the exec (success, or the errno of the step that failed, and
 * which step) arrives later through the handle: afork_released(),
 * afork_wait_release(), afork_release_pollfd(), then afork_exec_errno()
 * and afork_error_step().  Everything the call is given is copied before
 * it returns: the caller may free or reuse argv, envp, the file actions
 * and the attributes at once.
 *
 * afork_popen() / afork_pclose() are popen() / pclose() whose child no
 * wait(-1), SIGCHLD handler or SIGCHLD SIG_IGN in the program can take
 * away; afork_system() is system() on the same kind of child.
 *
 * Conventions: the afork_spawn*() functions return 0 or an error number
 * and leave errno alone, as posix_spawn() does; afork_popen(),
 * afork_pclose() and afork_system() return like popen(), pclose() and
 * system(), with errno.  C99 or C++.  Available since libafork 0.1.
 */
#ifndef AFORK_SPAWN_H
#define AFORK_SPAWN_H

#include <afork.h>
#include <sched.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ */
/* File actions                                                        */
/* ------------------------------------------------------------------ */

/*
 * A list of actions the child performs in order before it execs.  Opaque;
 * afork_spawn_file_actions_init() before use, _destroy() after.  The
 * add functions copy their path arguments.
 */
typedef struct {
	void *__impl;
	unsigned long __reserved[7];
} afork_spawn_file_actions_t;

int afork_spawn_file_actions_init(afork_spawn_file_actions_t *fa);
int afork_spawn_file_actions_destroy(afork_spawn_file_actions_t *fa);
/* open(path, oflag, mode) and put the result at fd. */
int afork_spawn_file_actions_addopen(afork_spawn_file_actions_t *fa, int fd,
				     const char *path, int oflag, mode_t mode);
/* close(fd); closing an fd that is not open is not an error. */
int afork_spawn_file_actions_addclose(afork_spawn_file_actions_t *fa, int fd);
/* dup2(fd, newfd); fd == newfd clears FD_CLOEXEC (POSIX.1-2024). */
int afork_spawn_file_actions_adddup2(afork_spawn_file_actions_t *fa, int fd,
				     int newfd);
int afork_spawn_file_actions_addchdir(afork_spawn_file_actions_t *fa,
				      const char *path);
int afork_spawn_file_actions_addfchdir(afork_spawn_file_actions_t *fa, int fd);
/* Close every fd >= from. */
int afork_spawn_file_actions_addclosefrom(afork_spawn_file_actions_t *fa,
					  int from);
/* close_range(first, last, flags); flags 0 or CLOSE_RANGE_CLOEXEC (4). */
int afork_spawn_file_actions_addclose_range(afork_spawn_file_actions_t *fa,
					    unsigned int first,
					    unsigned int last,
					    unsigned int flags);
/* Make the child's process group the foreground one of the terminal fd. */
int afork_spawn_file_actions_addtcsetpgrp(afork_spawn_file_actions_t *fa,
					  int fd);

/* ------------------------------------------------------------------ */
/* Attributes                                                          */
/* ------------------------------------------------------------------ */

/* afork_spawnattr_setflags(); the values of glibc's POSIX_SPAWN_*. */
#define AFORK_SPAWN_RESETIDS		0x01	/* euid/egid := real ids */
#define AFORK_SPAWN_SETPGROUP		0x02	/* setpgid(0, pgroup) */
#define AFORK_SPAWN_SETSIGDEF		0x04	/* sigdefault set to SIG_DFL */
#define AFORK_SPAWN_SETSIGMASK		0x08	/* start with sigmask */
#define AFORK_SPAWN_SETSCHEDPARAM	0x10	/* sched_setparam() */
#define AFORK_SPAWN_SETSCHEDULER	0x20	/* sched_setscheduler() */
#define AFORK_SPAWN_SETSID		0x80	/* setsid() */

/* Opaque; afork_spawnattr_init() before use.  Needs no destroy. */
typedef struct {
	unsigned long long __opaque[16];
} afork_spawnattr_t;

int afork_spawnattr_init(afork_spawnattr_t *attr);
int afork_spawnattr_destroy(afork_spawnattr_t *attr);
int afork_spawnattr_setflags(afork_spawnattr_t *attr, int flags);
int afork_spawnattr_getflags(const afork_spawnattr_t *attr, int *flags);
int afork_spawnattr_setpgroup(afork_spawnattr_t *attr, pid_t pgroup);
int afork_spawnattr_getpgroup(const afork_spawnattr_t *attr, pid_t *pgroup);
int afork_spawnattr_setsigmask(afork_spawnattr_t *attr, const sigset_t *mask);
int afork_spawnattr_getsigmask(const afork_spawnattr_t *attr, sigset_t *mask);
int afork_spawnattr_setsigdefault(afork_spawnattr_t *attr, const sigset_t *set);
int afork_spawnattr_getsigdefault(const afork_spawnattr_t *attr, sigset_t *set);
int afork_spawnattr_setschedpolicy(afork_spawnattr_t *attr, int policy);
int afork_spawnattr_getschedpolicy(const afork_spawnattr_t *attr, int *policy);
/* Only sched_priority of struct sched_param is used. */
int afork_spawnattr_setschedparam(afork_spawnattr_t *attr,
				  const struct sched_param *param);
int afork_spawnattr_getschedparam(const afork_spawnattr_t *attr,
				  struct sched_param *param);
/*
 * The afork side: flags AFORK_NOSIGCHLD | AFORK_WAITPID (as for aforkx())
 * and options AFORK_OPT_PIDFD | AFORK_OPT_RELEASE_FD (as for
 * afork_start(); default AFORK_OPT_PIDFD).
 */
int afork_spawnattr_setafork(afork_spawnattr_t *attr, int flags,
			     unsigned int options);
int afork_spawnattr_getafork(const afork_spawnattr_t *attr, int *flags,
			     unsigned int *options);

/* ------------------------------------------------------------------ */
/* Spawning                                                            */
/* ------------------------------------------------------------------ */

/*
 * afork_error_step() of a child started by afork_spawn(): which step
 * failed.  A file action reports AFORK_SPAWN_STEP_ACTION plus its index
 * in the list (0 for the first one added).
 */
#define AFORK_SPAWN_STEP_EXEC		1
#define AFORK_SPAWN_STEP_SIGDEF		2
#define AFORK_SPAWN_STEP_SCHED		3
#define AFORK_SPAWN_STEP_SETSID		4
#define AFORK_SPAWN_STEP_SETPGROUP	5
#define AFORK_SPAWN_STEP_RESETIDS	6
#define AFORK_SPAWN_STEP_SIGMASK	7
#define AFORK_SPAWN_STEP_START		8	/* popen/system: starting the shell */
#define AFORK_SPAWN_STEP_ACTION		0x100

/* "exec", "setsid", ..., "file action"; NULL for an unknown step. */
const char *afork_spawn_step_name(int step);

/*
 * Start path (afork_spawn) or file searched in the caller's PATH
 * (afork_spawnp; "/bin:/usr/bin" if PATH is unset; a file containing '/'
 * is used as is; no /bin/sh retry for ENOEXEC) with argv and envp (NULL:
 * empty), after the file actions fa and attributes attr (each may be
 * NULL).  Returns 0 once the child exists, storing its pid in *pid and a
 * handle in *childp (both may be NULL; without a handle nobody learns
 * the exec's result).  Free the handle with afork_free().  On failure
 * returns an error number and no child exists: EINVAL (bad flags or
 * arguments), E2BIG (argv/envp beyond what a stack can hold), ENOMEM,
 * EAGAIN, ENOSYS and EMFILE as for afork_start().
 *
 * The child exits with status 127 when a step fails; exec success or
 * failure is known only after release.
 */
int afork_spawn(struct afork_child **childp, pid_t *pid, const char *path,
		const afork_spawn_file_actions_t *fa,
		const afork_spawnattr_t *attr,
		char *const argv[], char *const envp[]);
int afork_spawnp(struct afork_child **childp, pid_t *pid, const char *file,
		 const afork_spawn_file_actions_t *fa,
		 const afork_spawnattr_t *attr,
		 char *const argv[], char *const envp[]);

/* ------------------------------------------------------------------ */
/* popen, pclose, system                                               */
/* ------------------------------------------------------------------ */

/*
 * Run "/bin/sh -c -- command" with a pipe to its stdout (mode "r") or
 * stdin ("w"); 'e' in mode makes the caller's end close-on-exec.  Returns
 * the stream at once, before the shell has exec'd; NULL and errno
 * (EINVAL for a bad mode, errors of pipe2, afork_spawn and fdopen).  The
 * child is started with AFORK_WAITPID | AFORK_NOSIGCHLD: see
 * afork_popen(3) for what that guarantees on each backend.
 */
FILE *afork_popen(const char *command, const char *mode);
/*
 * Close the stream and wait for its child; returns its wait status (127
 * exit status if the shell could not be run), or -1 and errno: ECHILD if
 * stream did not come from afork_popen() or its child was reaped by
 * someone else.
 */
int afork_pclose(FILE *stream);
/*
 * The child of a stream from afork_popen() (for its pid, pidfd, release).
 * On the clone backends it stands for the command, whose shield it is:
 * afork_pid() is the command's pid and afork_wait() its status.
 */
struct afork_child *afork_popen_child(FILE *stream);

/*
 * popen without a shell: run the program @path (afork_popenve) or the
 * file found along @search_path, the caller's PATH when NULL
 * (afork_popenvpe), with @argv and @envp (NULL: environ) as execve()
 * takes them; no quoting, no second exec.  Mode, return, pclose and the
 * child as for afork_popen(); a program that cannot be run makes pclose
 * return exit status 127, and afork_exec_errno() on afork_popen_child()
 * says why.  Since 0.3.
 */
FILE *afork_popenve(const char *path, char *const argv[], char *const envp[],
		    const char *mode);
FILE *afork_popenvpe(const char *file, char *const argv[], char *const envp[],
		     const char *search_path, const char *mode);
/*
 * Both directions: *to_child is a stream to the program's stdin,
 * *from_child one from its stdout.  afork_pclose() on either closes it
 * alone (closing *to_child gives the program EOF) and returns 0; on the
 * second it waits, as afork_pclose() does.  @flags: 0 or O_CLOEXEC (the
 * caller's ends close-on-exec).  0, or -1 and errno.  Since 0.3.
 */
int afork_popen2ve(const char *path, char *const argv[], char *const envp[],
		   int flags, FILE **to_child, FILE **from_child);
int afork_popen2vpe(const char *file, char *const argv[], char *const envp[],
		    const char *search_path, int flags,
		    FILE **to_child, FILE **from_child);

/*
 * system(): runs "/bin/sh -c -- command" and waits for it.  SIGINT and
 * SIGQUIT are blocked in the calling thread only (not ignored process-
 * wide) and discarded if they arrived meanwhile, SIGCHLD is blocked; see
 * afork_system(3).  command NULL: non-zero if a shell can be run.
 */
int afork_system(const char *command);

#ifdef __cplusplus
}
#endif

#endif /* AFORK_SPAWN_H */
