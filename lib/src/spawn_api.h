/* SPDX-License-Identifier: MIT */
/*
 * The spawn layer's interface to the layer above it: what libafork-preload
 * (preload/, which links libafork.a) may use besides the public headers.
 * Nothing else in lib/src is the preload's business.
 *
 * The preload translates glibc's posix_spawn file actions and attributes
 * into struct spawn_actions and struct spawn_attr and asks afork__spawn()
 * for the child; libc's popen, pclose and system become afork__popen(),
 * afork__pclose() and afork__system(), with the glibc behaviours that
 * differ from afork_popen(3) and afork_system(3) asked for in struct
 * shell_req.  Every function returns 0 (or a documented value) or -errno
 * and leaves errno alone.
 */
#ifndef AFORK_SPAWN_API_H
#define AFORK_SPAWN_API_H

#include <stdint.h>
#include <stdio.h>

#include <afork_spawn.h>

enum spawn_op {
	SPAWN_OPEN = 1,
	SPAWN_CLOSE,
	SPAWN_DUP2,
	SPAWN_CHDIR,
	SPAWN_FCHDIR,
	SPAWN_CLOSE_RANGE,
	SPAWN_TCSETPGRP,
};

struct spawn_action {
	int op;
	int fd;			/* open (target), close, dup2 (source), fchdir, tcsetpgrp */
	int newfd;		/* dup2 */
	int oflag;		/* open */
	unsigned int mode;	/* open */
	unsigned int first, last, flags;	/* close_range */
	char *path;		/* open, chdir */
};

/* Behind afork_spawn_file_actions_t.__impl. */
struct spawn_actions {
	unsigned int n, cap;
	struct spawn_action *a;
};

#define SPAWN_ATTR_MAGIC 0x61667370u	/* "afsp": set by afork_spawnattr_init */

/* Inside afork_spawnattr_t. */
struct spawn_attr {
	unsigned int magic;
	int flags;		/* AFORK_SPAWN_* */
	pid_t pgroup;
	int policy;
	int priority;
	int aflags;		/* AFORK_NOSIGCHLD | AFORK_WAITPID */
	unsigned int options;	/* AFORK_OPT_PIDFD | AFORK_OPT_RELEASE_FD */
	uint64_t sigmask;	/* kernel sigsets */
	uint64_t sigdefault;
};

#define SPAWN_KNOWN_FLAGS (AFORK_SPAWN_RESETIDS | AFORK_SPAWN_SETPGROUP | \
	AFORK_SPAWN_SETSIGDEF | AFORK_SPAWN_SETSIGMASK | \
	AFORK_SPAWN_SETSCHEDPARAM | AFORK_SPAWN_SETSCHEDULER | AFORK_SPAWN_SETSID)

#define SPAWN_REQ_SHIELD 0x1	/* shield the child on the clone backends */

/* A spawn request, as popen, system and the preload make them. */
struct spawn_req {
	const char *path;
	int use_path;			/* search PATH for path */
	const char *search;		/* PATH to search; NULL: the caller's */
	const struct spawn_actions *fa;	/* may be NULL */
	const struct spawn_attr *attr;	/* may be NULL */
	char *const *argv;
	char *const *envp;
	int how;			/* SPAWN_REQ_* */
	int no_handle;			/* the caller keeps no handle: no fds */
	int shielded;			/* out: the shield was used */
};

/* spawn.c: 0 and a handle in *childp, or -errno. */
int afork__spawn(struct afork_child **childp, struct spawn_req *req);
/* spawn_attr.c: the attributes of afork_spawnattr_init(). */
void afork__spawnattr_default(struct spawn_attr *a);

/* A command line for popen or system; the glibc fields are the preload's. */
struct shell_req {
	const char *command;
	int no_dashdash;	/* glibc: "sh -c command", without "--" */
	int sync;		/* popen (glibc): wait for the exec, fail with its errno */
	int process_wide;	/* system (glibc): SIGINT and SIGQUIT ignored
				 * process-wide while it runs, and a failed
				 * start is exit status 127 (POSIX: -1) */
};

/* popen.c: 0 and the stream in *fp, or -errno. */
int afork__popen(const struct shell_req *req, const char *mode, FILE **fp);
/* popen.c: 1 if stream came from afork__popen: status (or -errno) in *status. */
int afork__pclose(FILE *stream, int *status);
/*
 * system.c: 0, or -errno when the shell could not be run or waited for;
 * the status system() returns in *status either way.  A NULL command asks
 * whether a shell is available (*status 1 or 0).
 */
int afork__system(const struct shell_req *req, int *status);

#endif /* AFORK_SPAWN_API_H */
