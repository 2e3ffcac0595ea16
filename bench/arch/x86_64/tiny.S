/* SPDX-License-Identifier: MIT */
/*
 * The cheapest program to exec: a static binary with no libc whose entry
 * point exits with status 0.  afork-bench uses it as the floor exec target.
 * Built with: cc -nostdlib -static -o afork-bench-tiny tiny.S
 */
	.text
	.globl	_start
	.type	_start, @function
_start:
	xorl	%edi, %edi
	movl	$231, %eax		/* __NR_exit_group */
	syscall
	hlt
	.size	_start, .-_start

	.section .note.GNU-stack, "", @progbits
