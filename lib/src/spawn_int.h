/* SPDX-License-Identifier: MIT */
/*
 * The spawn layer's internals, shared by spawn*.c, popen.c, system.c and
 * the preload library (which links libafork.a).
 *
 * How a spawn works (spawn.c, spawn_child.c):
 *
 *   1. The parent measures everything the child will read (path, PATH,
 *      argv, envp, the file actions with their paths) and picks a stack
 *      big enough for a copy of it plus SPAWN_WORK_STACK bytes to run on.
 *   2. The parent takes a stack from the pool and copies everything into
 *      its bottom (the child will run at the top), before the child exists
 *      (afork__start()'s prep step).
 *   3. The child starts with every signal blocked and finds its copy ready:
 *      neither side waits for the other.
 *   4. The child applies the attributes and file actions, sets its final
 *      signal mask and execs; a failing step is recorded with
 *      afork_ctx_set_error(ctx, errno, step) and the child exits 127.
 *
 * So the call returns as soon as the child exists, the caller may free its
 * arguments at once, and the copy goes away with the stack, which the pool
 * reuses only after release.
 */
#ifndef AFORK_SPAWN_INTERNAL_H
#define AFORK_SPAWN_INTERNAL_H

#include "internal.h"
#include "spawn_api.h"

/* What the child reads: at the bottom of its stack. */
struct spawn_block {
	unsigned int nactions;
	int use_path;		/* afork_spawnp */
	const char *path;
	const char *search;	/* afork_spawnp: the PATH to search */
	char **argv;
	char **envp;
	struct spawn_action *actions;
	struct spawn_attr attr;
	uint64_t mask;		/* the child's signal mask at exec */
	void *shield_stack;	/* shield: top of the real child's stack */
	uint32_t exec_done;	/* shield: the real child exec'd or exited */
	int chld_ignored;	/* shield: the caller ignored SIGCHLD */
	pid_t shield_pid;	/* shield: its pid, for the real child's check */
};

/* Stack the child runs on, above the block. */
#if defined(__SANITIZE_ADDRESS__)
#define SPAWN_WORK_STACK (96u * 1024)
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SPAWN_WORK_STACK (96u * 1024)
#endif
#endif
#ifndef SPAWN_WORK_STACK
#define SPAWN_WORK_STACK (32u * 1024)
#endif

/* spawn.c: wait for the exec (shielded or not); its errno, 0 on success. */
int afork__spawn_wait_exec(struct afork_child *c, int shielded);

/* spawn_attr.c / spawn_actions.c */
const struct spawn_attr *afork__spawnattr(const afork_spawnattr_t *attr);
const struct spawn_actions *afork__spawn_actions(const afork_spawn_file_actions_t *fa);
int afork__fd_valid(int fd);

/* spawn_child.c: the child's function (its argument is unused). */
int afork__spawn_child(struct afork_ctx *ctx, void *unused);
/* spawn_child.c: attributes, file actions, mask, exec; never returns. */
AFORK_NORETURN void afork__spawn_body(struct afork_child *c, struct spawn_block *b);
void afork__spawn_close_all_but(int keep);
/* shield.c: popen's and system's guard on the clone backends; runs the
 * command as its own child and never returns. */
AFORK_NORETURN void afork__shield(struct afork_child *c, struct spawn_block *b);

/* What a popen runs: the program (or the file to search for) and its args. */
struct popen_cmd {
	const char *path;
	char *const *argv;
	char *const *envp;	/* NULL: environ */
	int use_path;
	const char *search;	/* use_path: the PATH to search; NULL: the caller's */
};
#define POPEN_RD	0x1	/* a stream from the child's stdout */
#define POPEN_WR	0x2	/* a stream to its stdin */
/* afork__popen_run()'s @how. */
#define POPEN_SYNC	0x1	/* wait for the exec; fail with its errno */
#define POPEN_CLOEXEC	0x2	/* the caller's ends close-on-exec ('e') */
/* 0 and the streams asked for by @dirs, or -errno; errno unchanged. */
int afork__popen_run(const struct popen_cmd *cmd, int dirs, int how,
		     FILE **to, FILE **from);

#endif /* AFORK_SPAWN_INTERNAL_H */
