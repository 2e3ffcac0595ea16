/* SPDX-License-Identifier: MIT */
/*
 * The floor of afork-bench: clone(CLONE_VM) without CLONE_VFORK, and a
 * child that does nothing but execve() and, if that fails, exit_group(127).
 *
 * long bench_raw_clone_exec(unsigned long flags, void *stack_top,
 *			     int *child_tid, const char *path,
 *			     char *const argv[], char *const envp[]);
 *
 * Returns the child's pid or -errno in the parent.  The child never
 * touches memory: it keeps path, argv and envp in callee-saved registers,
 * which the kernel copies into it, and never uses its stack (stack_top
 * must still point at memory of the caller's: a signal frame would go
 * there).  The parent restores its own registers from its own stack.
 */
	.text
	.globl	bench_raw_clone_exec
	.type	bench_raw_clone_exec, @function
	.p2align 4
bench_raw_clone_exec:
	.cfi_startproc
	pushq	%r12
	.cfi_adjust_cfa_offset 8
	.cfi_rel_offset %r12, 0
	pushq	%r13
	.cfi_adjust_cfa_offset 8
	.cfi_rel_offset %r13, 0
	pushq	%r14
	.cfi_adjust_cfa_offset 8
	.cfi_rel_offset %r14, 0
	movq	%rcx, %r12		/* path */
	movq	%r8, %r13		/* argv */
	movq	%r9, %r14		/* envp */
	movq	%rdx, %r10		/* child_tid (4th syscall argument) */
	xorl	%edx, %edx		/* parent_tid */
	xorl	%r8d, %r8d		/* tls */
	movl	$56, %eax		/* __NR_clone: (flags, sp, ptid, ctid, tls) */
	syscall
	testq	%rax, %rax
	jz	1f
	popq	%r14
	.cfi_adjust_cfa_offset -8
	.cfi_restore %r14
	popq	%r13
	.cfi_adjust_cfa_offset -8
	.cfi_restore %r13
	popq	%r12
	.cfi_adjust_cfa_offset -8
	.cfi_restore %r12
	ret
1:
	.cfi_undefined %rip
	movq	%r12, %rdi
	movq	%r13, %rsi
	movq	%r14, %rdx
	movl	$59, %eax		/* __NR_execve */
	syscall
	movl	$127, %edi
	movl	$231, %eax		/* __NR_exit_group */
	syscall
	hlt
	.cfi_endproc
	.size	bench_raw_clone_exec, .-bench_raw_clone_exec

	.section .note.GNU-stack, "", @progbits
