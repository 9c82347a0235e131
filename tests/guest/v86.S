/* v86.S: virtual-8086 mode: entry by IRET with VM, real-mode addressing, the TSS I/O bitmap
 * for IN/OUT (including a word access straddling an allowed and a denied port), the
 * IOPL-sensitive CLI/PUSHF/INT n faulting with IOPL 0, and with IOPL 3 INT n through the
 * protected-mode IDT with the V86 frame (segment registers pushed, VM in EFLAGS). */
#include "guest.h"

    .code32
    .text
    .globl test_main
test_main:
    orb $1, TSS_BASE + 0x68 + (0x80 / 8)        /* port 0x80 denied */
    movl $0x40, %eax
    movl $int40_v86, %ebx
    movl $ATTR_INTGATE3, %ecx
    call set_gate

    /* IOPL 0. */
    movw $v86_iopl0, %ax
    xorl %ebx, %ebx
    call to_v86
    CHECK_EQ v86_steps, 5, "V86 steps with IOPL 0"
    CHECK_EQ v86_value, 0x1234, "V86 real-mode addressing"

    /* IOPL 3. */
    movw $v86_iopl3, %ax
    movl $0x3000, %ebx
    call to_v86
    CHECK_EQ v86_steps, 8, "V86 steps with IOPL 3"
    CHECK_EQ int_vm, 0x20000, "VM set in the EFLAGS image of an interrupt from V86"
    CHECK_EQ int_ds, 0x0123, "DS pushed by an interrupt from V86"
    CHECK_EQ int_ds_now, 0, "DS null inside the handler"
    CHECK_EQ int_cs, 0, "CS of the V86 code pushed"
    PUTS "v86 ok"
    ret

/* Ring 0 handler for INT 40h from V86 (IOPL 3). Frame: EIP CS EFLAGS ESP SS ES DS FS GS. */
int40_v86:
    pushl %eax
    movl %ds, %eax
    movl %eax, %ss:int_ds_now
    movl $SEL_DATA0, %eax
    movw %ax, %ds
    movl 12(%esp), %eax
    andl $0x20000, %eax
    movl %eax, int_vm
    movl 28(%esp), %eax
    movl %eax, int_ds
    movl 8(%esp), %eax
    movl %eax, int_cs
    popl %eax
    iret

    .code16
v86_iopl0:
    /* Segment arithmetic: DS = 0x0123 reaches linear 0x1230 + offset. */
    movw $0x0123, %ax
    movw %ax, %ds
    movw $0x1234, %ds:(v86_value - 0x1230)
    xorw %ax, %ax
    movw %ax, %ds
    incw v86_steps                              /* 1 */
    /* Allowed port: the debug console. */
    movw $PORT_CON, %dx
    movb $'V', %al
    outb %al, %dx
    movb $'\n', %al
    outb %al, %dx
    incw v86_steps                              /* 2 */
    /* Denied port, and a word access that reaches the denied port. */
    movl $1f, recover_eip
    movl $13, expected_vector
    inb $0x80, %al
    jmp v86_fail
1:  movl $1f, recover_eip
    movl $13, expected_vector
    inw $0x7F, %ax
    jmp v86_fail
1:  incw v86_steps                              /* 3 */
    /* IOPL-sensitive instructions. */
    movl $1f, recover_eip
    movl $13, expected_vector
    cli
    jmp v86_fail
1:  movl $1f, recover_eip
    movl $13, expected_vector
    pushfw
    jmp v86_fail
1:  movl $1f, recover_eip
    movl $13, expected_vector
    int $0x40
    jmp v86_fail
1:  incw v86_steps                              /* 4 */
    incw v86_steps                              /* 5 */
    /* Leave through a #GP that the handler turns into a return to ring 0. */
    movl $V86_EXIT, recover_eip
    movl $13, expected_vector
    hlt

v86_iopl3:
    cli
    sti
    pushfw
    popfw
    incw v86_steps                              /* 6 */
    movw $0x0123, %ax
    movw %ax, %ds
    int $0x40
    xorw %ax, %ax
    movw %ax, %ds
    incw v86_steps                              /* 7 */
    incw v86_steps                              /* 8 */
    int $0x7F

v86_fail:
    movw $PORT_EXIT, %dx
    movw $0x99, %ax
    outw %ax, %dx
    hlt

    .code32
    .data
v86_steps: .long 0
    .align 16
v86_value: .long 0
int_vm: .long 0
int_ds: .long 0
int_ds_now: .long -1
int_cs: .long -1
