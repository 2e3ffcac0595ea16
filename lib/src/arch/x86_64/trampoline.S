/* SPDX-License-Identifier: MIT */
/*
 * The child trampoline of libafork on x86-64.
 *
 * A child that shares the parent's memory cannot be started from C: it
 * returns from the system call on a different stack, so the compiler's
 * frame is meaningless there.  This routine keeps everything the child
 * needs in registers, starts it on its own stack, calls the C entry and turns
 * its return value into an exit status.
 *
 * long afork__tramp(long nr, const long args[6], int (*fn)(void *), void *ctx)
 *
 *	Issues system call @nr with the six arguments in @args (clone, clone3
 *	or afork, all of which start the child at the stack pointer they were
 *	given with the other registers as in the parent).  The parent gets the
 *	system call's return value (a pid or -errno).  The child aligns its
 *	stack, calls fn(ctx) and exits the process with its return value.
 *	%r12/%r13 carry fn and ctx across the system call: the kernel copies
 *	them into the child, and the parent restores its own.
 *
 * Control-flow enforcement (CET).  Built with -fcf-protection, the
 * compiler defines __CET__ (bit 0: indirect branch tracking, bit 1: shadow
 * stack) and marks every C object with a GNU property note; the linker
 * keeps IBT and SHSTK for the library only if every object has it, so this
 * file adds its own note with the same bits, and endbr64 where an indirect
 * branch may land: its entry point (its address is not taken today,
 * but a call through a pointer or a PLT must not fault).  No other
 * instruction here is the target of an indirect branch: the child resumes
 * after the system call, and fn is C code with its own endbr64.
 *
 * The shadow stack.  A clone or afork child that shares the memory
 * without CLONE_VFORK gets a new, empty shadow stack from the kernel, and
 * the vfork child runs on its suspended parent's: in both, the child only
 * calls down from here and leaves by exit_group, never returning across
 * the switch of stacks, so its shadow stack never has to match a frame
 * of the parent's.  The parent's side returns normally.
 */

#ifdef __CET__
#define ENDBR	endbr64
#else
#define ENDBR
#endif

	.text

	.globl	afork__tramp
	.hidden	afork__tramp
	.type	afork__tramp, @function
	.p2align 4
afork__tramp:
	.cfi_startproc
	ENDBR
	pushq	%r12
	.cfi_adjust_cfa_offset 8
	.cfi_rel_offset %r12, 0
	pushq	%r13
	.cfi_adjust_cfa_offset 8
	.cfi_rel_offset %r13, 0
	movq	%rdx, %r12		/* fn */
	movq	%rcx, %r13		/* ctx */
	movq	%rdi, %rax		/* system call number */
	movq	0(%rsi), %rdi
	movq	16(%rsi), %rdx
	movq	24(%rsi), %r10
	movq	32(%rsi), %r8
	movq	40(%rsi), %r9
	movq	8(%rsi), %rsi
	syscall
	testq	%rax, %rax
	jz	1f
	popq	%r13
	.cfi_adjust_cfa_offset -8
	.cfi_restore %r13
	popq	%r12
	.cfi_adjust_cfa_offset -8
	.cfi_restore %r12
	ret
1:
	/* The child, on its new stack: nothing to unwind to. */
	.cfi_undefined %rip
	xorl	%ebp, %ebp
	andq	$-16, %rsp
	movq	%r13, %rdi
	call	*%r12
	movl	%eax, %edi
	movl	$231, %eax		/* exit_group */
	syscall
	hlt
	.cfi_endproc
	.size	afork__tramp, .-afork__tramp

	.section .note.GNU-stack, "", @progbits

#ifdef __CET__
/*
 * NT_GNU_PROPERTY_TYPE_0 with GNU_PROPERTY_X86_FEATURE_1_AND: the features
 * this object supports, bit 0 IBT and bit 1 SHSTK, as in __CET__.
 */
	.section .note.gnu.property, "a"
	.p2align 3
	.long	4			/* name size: "GNU" */
	.long	16			/* descriptor size */
	.long	5			/* NT_GNU_PROPERTY_TYPE_0 */
	.asciz	"GNU"
	.long	0xc0000002		/* GNU_PROPERTY_X86_FEATURE_1_AND */
	.long	4			/* property size */
	.long	(__CET__) & 3		/* IBT, SHSTK */
	.p2align 3			/* pad the descriptor to 8 bytes */
#endif
