// SPDX-License-Identifier: MIT
/*
 * afork-pipeline: a popen-style pipeline, "CMD1 | CMD2 | ... | CMDn",
 * whose output this program reads, as popen(..., "r") would give it.
 *
 *   afork-pipeline [-i TEXT] CMD...
 *
 * Each stage is "/bin/sh -c CMD" started with afork_spawn(): file actions
 * put the pipes on its stdin and stdout and close everything else; the
 * call returns before the stage has exec'd, so all stages are started
 * back to back.  With -i, TEXT is written to the first stage's stdin.
 * The last stage's output is printed with line numbers; then, for each
 * stage, its pid, whether its exec worked (afork_exec_errno) and its exit
 * status.  Exits 0 if every stage exited 0.
 *
 * The same with the popen-shaped call, for one command:
 *   FILE *f = afork_popen("CMD1 | CMD2", "r");  ...  afork_pclose(f);
 */
#include <afork_spawn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static void usage(const char *prog)
{
	fprintf(stderr, "usage: %s [-i TEXT] CMD...\n", prog);
	exit(2);
}

/*
 * Start the n stages, each "sh -c CMD" reading the one before; the first
 * reads @in_fd if there is one (>= 0).  Returns the read end of the last
 * stage's stdout, or -1.
 */
static int start_stages(char **cmd, int n, int in_fd, struct afork_child **stage)
{
	int i, out[2];

	for (i = 0; i < n; i++) {
		char *sh[] = { "sh", "-c", cmd[i], NULL };
		afork_spawn_file_actions_t fa;
		int r;

		/* Every pipe is close-on-exec; dup2 gives the stage its ends. */
		if (pipe2(out, O_CLOEXEC))
			return -1;
		afork_spawn_file_actions_init(&fa);
		if (in_fd >= 0)
			afork_spawn_file_actions_adddup2(&fa, in_fd, 0);
		afork_spawn_file_actions_adddup2(&fa, out[1], 1);
		afork_spawn_file_actions_addclosefrom(&fa, 3);
		r = afork_spawn(&stage[i], NULL, "/bin/sh", &fa, NULL, sh, environ);
		afork_spawn_file_actions_destroy(&fa);
		if (r) {
			fprintf(stderr, "afork_spawn: %s\n", strerror(r));
			return -1;
		}
		/* The child has its copies (or is about to): ours can go now. */
		if (in_fd >= 0)
			close(in_fd);
		close(out[1]);
		in_fd = out[0];
	}
	return in_fd;
}

/* Give @input, newline-terminated, to the first stage; closing ends its input. */
static void feed_input(int feed, const char *input)
{
	size_t len = strlen(input);

	if (write(feed, input, len) != (ssize_t)len ||
	    (len && input[len - 1] != '\n' && write(feed, "\n", 1) != 1))
		perror("write");
	close(feed);
}

/* Print the last stage's output with line numbers; -1 if it cannot be read. */
static int print_output(int fd)
{
	char line[4096];
	FILE *f;
	int i;

	f = fdopen(fd, "r");
	if (!f)
		return -1;
	for (i = 1; fgets(line, sizeof(line), f); i++)
		printf("%4d  %s", i, line);
	fclose(f);
	return 0;
}

/* Wait for each stage and say how it went; 1 if one did not exit 0. */
static int report_stages(struct afork_child **stage, int n)
{
	int i, rc = 0;

	for (i = 0; i < n; i++) {
		int st = 0, e;

		afork_wait_release(stage[i], -1);
		e = afork_exec_errno(stage[i]);
		printf("stage %d: pid %d, exec %s, ", i + 1, (int)afork_pid(stage[i]),
		       e ? strerror(e) : "ok");
		if (afork_wait(stage[i], &st, 0) < 0)
			printf("wait: %s\n", strerror(errno));
		else if (WIFEXITED(st))
			printf("exit %d\n", WEXITSTATUS(st));
		else
			printf("signal %d\n", WTERMSIG(st));
		if (!WIFEXITED(st) || WEXITSTATUS(st))
			rc = 1;
		afork_free(stage[i]);
	}
	return rc;
}

int main(int argc, char **argv)
{
	const char *input = NULL;
	struct afork_child **stage;
	int n, opt, in_fd = -1, feed = -1, out, rc;

	while ((opt = getopt(argc, argv, "i:")) != -1) {
		if (opt != 'i')
			usage(argv[0]);
		input = optarg;
	}
	n = argc - optind;
	if (n < 1)
		usage(argv[0]);
	stage = calloc((size_t)n, sizeof(*stage));
	if (!stage)
		return 1;

	if (input) {
		int p[2];

		if (pipe2(p, O_CLOEXEC))
			return 1;
		in_fd = p[0];
		feed = p[1];
	}
	out = start_stages(argv + optind, n, in_fd, stage);
	if (out < 0)
		return 1;
	if (feed >= 0)
		feed_input(feed, input);
	if (print_output(out))
		return 1;

	rc = report_stages(stage, n);
	free(stage);
	return rc;
}
