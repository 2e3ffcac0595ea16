/* SPDX-License-Identifier: MIT */
/*
 * The floor of afork-bench on arm64 (see ../x86_64/raw_clone.S):
 * clone(CLONE_VM) without CLONE_VFORK, and a child that does nothing but
 * execve() and, if that fails, exit_group(127).
 *
 * long bench_raw_clone_exec(unsigned long flags, void *stack_top,
 *			     int *child_tid, const char *path,
 *			     char *const argv[], char *const envp[]);
 *
 * Returns the child's pid or -errno in the parent.  The child keeps path,
 * argv and envp in x9-x11, which the kernel copies into it and no system
 * call changes, and never uses its stack.  arm64's clone takes its
 * arguments as (flags, stack, parent_tid, tls, child_tid).
 */
	.text
	.globl	bench_raw_clone_exec
	.type	bench_raw_clone_exec, %function
	.p2align 4
bench_raw_clone_exec:
	.cfi_startproc
	hint	#34			/* bti c */
	mov	x9, x3			/* path */
	mov	x10, x4			/* argv */
	mov	x11, x5			/* envp */
	mov	x4, x2			/* child_tid (5th system call argument) */
	mov	x2, xzr			/* parent_tid */
	mov	x3, xzr			/* tls */
	mov	x8, #220		/* __NR_clone */
	svc	#0
	cbz	x0, 1f
	ret
1:
	.cfi_undefined x30
	mov	x0, x9
	mov	x1, x10
	mov	x2, x11
	mov	x8, #221		/* __NR_execve */
	svc	#0
	mov	x0, #127
	mov	x8, #94			/* __NR_exit_group */
	svc	#0
	brk	#0
	.cfi_endproc
	.size	bench_raw_clone_exec, .-bench_raw_clone_exec

	.section .note.GNU-stack, "", %progbits
