/* SPDX-License-Identifier: MIT */
/*
 * The cheapest program to exec on arm64 (see ../x86_64/tiny.S): a static
 * binary with no libc whose entry point exits with status 0.
 */
	.text
	.globl	_start
	.type	_start, %function
_start:
	mov	x0, #0
	mov	x8, #94			/* __NR_exit_group */
	svc	#0
	brk	#0
	.size	_start, .-_start

	.section .note.GNU-stack, "", %progbits
