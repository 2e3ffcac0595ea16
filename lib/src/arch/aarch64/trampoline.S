/* SPDX-License-Identifier: MIT */
/*
 * The child trampoline of libafork on AArch64.
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
 *	system call's result in x0 (a pid or -errno).  The child aligns its
 *	stack, calls fn(ctx) and exits the process with its return value.
 *	x9/x10 carry fn and ctx across the system call: svc preserves every
 *	register but x0, the kernel copies them into the child, and in the
 *	parent they are caller-saved scratch, so nothing needs restoring.
 *
 * The routine is a leaf on the parent's side: it never saves the link
 * register and keeps nothing on the parent's stack, so the return is a
 * plain ret through an x30 that was never spilled.  That is why there is
 * no paciasp/autiasp pair: return-address signing protects a saved LR,
 * and there is none (GCC signs no leaf function either under
 * -mbranch-protection=standard).  The child never returns at all.
 *
 * Branch target identification (BTI).  In a binary whose pages are mapped
 * with BTI enforced (every object marked, PROT_BTI), an indirect branch
 * must land on a BTI instruction of the matching kind.  The entry point is
 * called: directly today (bl, which needs no landing pad), but a call
 * through a PLT veneer or a function pointer (blr, or br x16/x17 from a
 * veneer) must not fault, so it starts with "bti c", which accepts both.
 * No other instruction here is the target of an indirect branch: the child
 * resumes after the svc (an exception return, not a branch), and fn is C
 * code with its own landing pad.  There is no "bti j" because nothing
 * here is reached by a br.  BTI and PACIASP live in the hint space, so
 * they are NOPs on cores without them: they are emitted unconditionally,
 * as hint #34, so that any assembler takes them.
 *
 * The GNU property note marks this object BTI- and PAC-compatible
 * (GNU_PROPERTY_AARCH64_FEATURE_1_AND, BTI | PAC).  The linker keeps a
 * feature for the library only if every object has it, so with C objects
 * built with -mbranch-protection=standard the library can be loaded into
 * a BTI-enforced process; without that flag the C objects carry no note
 * and the output has none, whatever this file says.
 */

#define BTI_C	hint	#34

	.text

	.globl	afork__tramp
	.hidden	afork__tramp
	.type	afork__tramp, %function
	.p2align 4
afork__tramp:
	.cfi_startproc
	BTI_C
	mov	x9, x2			/* fn */
	mov	x10, x3			/* ctx */
	mov	x8, x0			/* system call number */
	mov	x11, x1
	ldp	x0, x1, [x11]
	ldp	x2, x3, [x11, #16]
	ldp	x4, x5, [x11, #32]
	svc	#0
	cbz	x0, 1f
	ret
1:
	/* The child, on its new stack: nothing to unwind to. */
	.cfi_undefined x30
	mov	x29, xzr
	mov	x30, xzr
	mov	x16, sp
	and	x16, x16, #-16
	mov	sp, x16
	mov	x0, x10
	blr	x9
	mov	x8, #94			/* exit_group */
	svc	#0
	brk	#0x3e8
	.cfi_endproc
	.size	afork__tramp, .-afork__tramp

	.section .note.GNU-stack, "", %progbits

/*
 * NT_GNU_PROPERTY_TYPE_0 with GNU_PROPERTY_AARCH64_FEATURE_1_AND: bit 0
 * BTI, bit 1 PAC (see above).
 */
	.section .note.gnu.property, "a"
	.p2align 3
	.long	4			/* name size: "GNU" */
	.long	16			/* descriptor size */
	.long	5			/* NT_GNU_PROPERTY_TYPE_0 */
	.asciz	"GNU"
	.long	0xc0000000		/* GNU_PROPERTY_AARCH64_FEATURE_1_AND */
	.long	4			/* property size */
	.long	3			/* BTI, PAC */
	.p2align 3			/* pad the descriptor to 8 bytes */
