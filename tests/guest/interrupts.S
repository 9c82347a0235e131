/* interrupts.S: external interrupts in protected mode: INTR taken only with IF = 1, the
 * one-instruction shadows after STI and MOV SS, HLT woken by INTR, NMI taken with IF = 0 and
 * blocked until the handler's IRET, and INTO/INT3 as traps (EIP after the instruction). */
#include "guest.h"

    .code32
    .text
    .globl test_main
test_main:
    movl $0x50, %eax
    movl $irq_handler, %ebx
    movl $ATTR_INTGATE0, %ecx
    call set_gate
    movl $2, %eax
    movl $nmi_handler, %ebx
    call set_gate
    movl $3, %eax
    movl $trap_handler, %ebx
    call set_gate
    movl $4, %eax
    call set_gate

    /* INTR waits while IF = 0, then comes right after the instruction following STI. */
    cli
    movl $0, irq_count
    movw $PORT_INJECT, %dx
    movw $0x50, %ax
    outw %ax, %dx
    nop
    nop
    CHECK_EQ irq_count, 0, "INTR taken with IF = 0"
    xorl %ecx, %ecx
    sti
    movl $1, %ecx
    movl $2, %ecx
    cli
    CHECK_EQ irq_count, 1, "INTR after STI"
    CHECK_EQ irq_ecx, 1, "STI shadow: one instruction before the interrupt"

    /* MOV SS shadow. */
    movw $0x50, %ax
    outw %ax, %dx
    xorl %ecx, %ecx
    sti
    nop
    CHECK_EQ irq_count, 2, "INTR with IF = 1"
    movw $0x50, %ax
    cli
    outw %ax, %dx
    sti
    nop                     /* the STI shadow ends; the interrupt comes here */
    CHECK_EQ irq_count, 3, "INTR after the STI shadow"
    /* STI's shadow covers MOV SS, whose own shadow covers the next instruction. */
    cli
    movw $0x50, %ax
    outw %ax, %dx
    movl $SEL_DATA0, %ebx
    xorl %ecx, %ecx
    sti
    movw %bx, %ss
    movl $1, %ecx
    movl $2, %ecx
    CHECK_EQ irq_count, 4, "INTR after MOV SS"
    CHECK_EQ irq_ecx, 1, "MOV SS shadow"

    /* HLT wakes on INTR and continues after the HLT. */
    cli
    movw $0x50, %ax
    outw %ax, %dx
    sti
    hlt
    cli
    CHECK_EQ irq_count, 5, "HLT woken by INTR"

    /* NMI with IF = 0; a second NMI raised inside the handler waits for its IRET. */
    movl $0, nmi_count
    movw $0x100, %ax
    outw %ax, %dx
    nop
    CHECK_EQ nmi_count, 2, "two NMIs delivered"
    CHECK_EQ nmi_nested, 0, "NMI nested inside the NMI handler"

    /* INT3 and INTO are traps: the pushed EIP follows the instruction. */
    int3
after_int3:
    CHECK_EQ trap_eip, after_int3, "EIP pushed by INT3"
    movl $0x7FFFFFFF, %eax
    addl $1, %eax           /* OF = 1 */
    into
after_into:
    CHECK_EQ trap_eip, after_into, "EIP pushed by INTO"
    movl $0, trap_eip
    xorl %eax, %eax
    into                    /* OF = 0: nothing */
    CHECK_EQ trap_eip, 0, "INTO with OF = 0"
    /* INT1 (ICEBP) from ring 3 reaches a DPL 0 #DB gate (no DPL check) as a trap. */
    movl $1, %eax
    movl $trap_handler, %ebx
    movl $ATTR_INTGATE0, %ecx
    call set_gate
    movl $0, trap_eip
    movl $user_icebp, %eax
    call to_ring3
    CHECK_EQ trap_eip, after_icebp, "EIP pushed by INT1"
    PUTS "interrupts ok"
    ret

user_icebp:
    .byte 0xF1
after_icebp:
    int $0x7F

irq_handler:
    incl irq_count
    movl %ecx, irq_ecx
    iret

nmi_handler:
    pushl %eax
    pushl %edx
    cmpl $0, in_nmi
    je 1f
    movl $1, nmi_nested
1:  movl $1, in_nmi
    incl nmi_count
    cmpl $1, nmi_count
    jne 2f
    movw $PORT_INJECT, %dx
    movw $0x100, %ax
    outw %ax, %dx          /* a second NMI: blocked until IRET */
    nop
    nop
2:  movl $0, in_nmi
    popl %edx
    popl %eax
    iret

trap_handler:
    pushl %eax
    movl 4(%esp), %eax
    movl %eax, trap_eip
    popl %eax
    iret

    .data
irq_count: .long 0
irq_ecx: .long 0
nmi_count: .long 0
nmi_nested: .long 0
in_nmi: .long 0
trap_eip: .long 0
