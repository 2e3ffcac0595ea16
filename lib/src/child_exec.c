/* SPDX-License-Identifier: MIT */
/*
 * exec with PATH search for the child: no allocation (the candidate path
 * is built on the child's stack), no environment access (the caller passes
 * the search path), no errno.
 *
 * Unlike glibc's execvpe(), there is no fallback to /bin/sh for a file
 * that fails with ENOEXEC (a script without "#!"): the error is returned.
 */
#include <errno.h>
#include <limits.h>

#include "internal.h"

static size_t slen(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}

static int has_slash(const char *s)
{
	for (; *s; s++)
		if (*s == '/')
			return 1;
	return 0;
}

/* Errors after which the search goes on with the next directory. */
static int try_next(long err)
{
	switch (err) {
	case -ENOENT:
	case -ENOTDIR:
	case -ELOOP:
	case -ESTALE:
	case -ENAMETOOLONG:
	case -ENODEV:
	case -ETIMEDOUT:
	case -EACCES:
		return 1;
	}
	return 0;
}

AFORK_API int afork_child_execvpe(const char *file, char *const argv[],
				  char *const envp[], const char *search_path)
{
	char buf[PATH_MAX];
	const char *p, *end;
	size_t flen, dlen;
	int eacces = 0;
	long r;

	if (!file)
		return -EFAULT;
	if (!*file)
		return -ENOENT;
	if (has_slash(file))
		return (int)sys_execve(file, argv, envp);
	flen = slen(file);
	if (flen > NAME_MAX)
		return -ENAMETOOLONG;
	if (!search_path)
		search_path = "/bin:/usr/bin";

	for (p = search_path;; p = end + 1) {
		for (end = p; *end && *end != ':'; end++)
			;
		dlen = (size_t)(end - p);
		/* An empty element is the current directory. */
		if (dlen + 1 + flen + 1 <= sizeof(buf)) {
			char *q = buf;
			size_t i;

			for (i = 0; i < dlen; i++)
				*q++ = p[i];
			if (dlen)
				*q++ = '/';
			for (i = 0; i <= flen; i++)
				*q++ = file[i];
			r = sys_execve(buf, argv, envp);
			if (r == -EACCES)
				eacces = 1;
			if (!try_next(r))
				return (int)r;
		}
		if (!*end)
			break;
	}
	return eacces ? -EACCES : -ENOENT;
}

static int record(struct afork_ctx *ctx, int r)
{
	afork_ctx_set_error(ctx, -r, 0);
	return r;
}

AFORK_API int afork_ctx_execve(struct afork_ctx *ctx, const char *path,
			       char *const argv[], char *const envp[])
{
	afork_ctx_set_error(ctx, 0, 0);
	return record(ctx, afork_child_execve(path, argv, envp));
}

AFORK_API int afork_ctx_execvpe(struct afork_ctx *ctx, const char *file,
				char *const argv[], char *const envp[],
				const char *search_path)
{
	afork_ctx_set_error(ctx, 0, 0);
	return record(ctx, afork_child_execvpe(file, argv, envp, search_path));
}
