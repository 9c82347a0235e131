/* guest.h: definitions and macros shared by the guest test programs (GNU as, preprocessed).
 *
 * Memory map of a test (flat, linear = physical unless the test enables paging):
 *   0x01000  IDT (256 gates)        0x02000  TSS (104 bytes) + I/O bitmap (8 KiB + 1)
 *   0x08000  the image              0x80000  ring 3 stack top     0x90000  ring 0 stack top
 *   0x100000 and up: free for page tables and test data.
 * GDT selectors: see SEL_* below; 0x48-0x78 are free for the test (set_seg_desc, set_gate). */
#ifndef GUEST_H
#define GUEST_H

#define PORT_CON 0xE9
#define PORT_EXIT 0x501
#define PORT_INJECT 0x510

#define IDT_BASE 0x1000
#define TSS_BASE 0x2000
#define STACK3_TOP 0x80000
#define STACK0_TOP 0x90000

#define SEL_CODE0 0x08
#define SEL_DATA0 0x10
#define SEL_CODE3 0x1B
#define SEL_DATA3 0x23
#define SEL_TSS 0x28
#define SEL_CODE16 0x30
#define SEL_DATA16 0x38
#define SEL_FREE0 0x40

/* recover_eip value that makes the fault handler return from to_v86 / to_ring3. */
#define V86_EXIT 0xFFFFFFFF

/* Gate and descriptor attribute bytes (P, DPL, type). */
#define ATTR_INTGATE0 0x8E
#define ATTR_INTGATE3 0xEE
#define ATTR_TRAPGATE0 0x8F
#define ATTR_TASKGATE0 0x85
#define ATTR_CALLGATE3 0xEC
#define ATTR_TSS32 0x89
#define ATTR_CODE0 0x9A
#define ATTR_DATA0 0x92
#define ATTR_CODE3 0xFA
#define ATTR_DATA3 0xF2

/* Page-table bits. */
#define PG_P 1
#define PG_RW 2
#define PG_US 4
#define PG_A 0x20
#define PG_D 0x40
#define PG_PS 0x80

#ifdef __ASSEMBLER__

/* EXPECT_FAULT vec, label: the next exception must be vec; the handler records it in
 * last_vector/last_err/last_eip/last_cr2 and resumes at label. */
.macro EXPECT_FAULT vec, label
    movl $\vec, expected_vector
    movl $\label, recover_eip
.endm

/* CHECK_EQ what, imm, msg: compare a 32-bit register or memory operand with an immediate;
 * on a mismatch print msg and the value, and exit with failure. */
.macro CHECK_EQ what, imm, msg
    cmpl $\imm, \what
    je 901f
    movl \what, %eax
    .pushsection .rodata
902: .asciz "\msg"
    .popsection
    movl $902b, %esi
    jmp fail
901:
.endm

/* PUTS msg: print a literal string and a newline on the debug console (32-bit code). */
.macro PUTS msg
    .pushsection .rodata
903: .ascii "\msg"
    .byte 10, 0
    .popsection
    pushl %esi
    movl $903b, %esi
    call puts
    popl %esi
.endm

/* PUTS16 msg: the same from 16-bit code. */
.macro PUTS16 msg
    .pushsection .rodata
904: .ascii "\msg"
    .byte 10, 0
    .popsection
    pushw %si
    pushw %ax
    pushw %dx
    movw $904b, %si
    movw $PORT_CON, %dx
905: movb %cs:(%si), %al
    incw %si
    testb %al, %al
    jz 906f
    outb %al, %dx
    jmp 905b
906: popw %dx
    popw %ax
    popw %si
.endm

/* EXIT16 code: end the test from 16-bit code. */
.macro EXIT16 code
    movw $PORT_EXIT, %dx
    movw $\code, %ax
    outw %ax, %dx
    cli
    hlt
.endm

#endif
#endif
