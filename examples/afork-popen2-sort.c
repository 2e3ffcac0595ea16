// SPDX-License-Identifier: MIT
/*
 * afork-popen2-sort: pipe data through a program both ways, without a
 * shell.  The lines given as arguments go to sort(1) (or the program
 * named with -p, found along PATH), its output comes back here.
 *
 *   afork-popen2-sort [-p PROGRAM] LINE...
 *
 * afork_popen2vpe() returns at once with a stream each way; closing the
 * one to the program gives it end-of-file (sort writes nothing before
 * that) while the one from it stays open for its output.  The exit status
 * is the program's.
 */
#include <err.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <afork_spawn.h>

int main(int argc, char **argv)
{
	char *prog = "sort", line[4096];
	char *pargv[2];
	FILE *to, *from;
	int i, opt, st;

	while ((opt = getopt(argc, argv, "p:")) != -1) {
		if (opt != 'p') {
			fprintf(stderr, "usage: afork-popen2-sort [-p PROGRAM] LINE...\n");
			return 2;
		}
		prog = optarg;
	}
	pargv[0] = prog;
	pargv[1] = NULL;
	if (afork_popen2vpe(prog, pargv, NULL, NULL, O_CLOEXEC, &to, &from))
		err(1, "afork_popen2vpe %s", prog);
	/* Lines larger than the pipe would need a reader meanwhile; these are small. */
	for (i = optind; i < argc; i++)
		fprintf(to, "%s\n", argv[i]);
	if (afork_pclose(to))		/* the first of the two: closes it, 0 */
		err(1, "afork_pclose (to %s)", prog);
	while (fgets(line, sizeof(line), from))
		fputs(line, stdout);
	st = afork_pclose(from);	/* the second: waits for the program */
	if (st < 0)
		err(1, "afork_pclose (from %s)", prog);
	if (WIFEXITED(st) && WEXITSTATUS(st) == 127)
		errx(127, "%s: could not be run", prog);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}
