/* start_pm.S: the common entry of the protected-mode guest tests: from real mode at 0000:8000
 * into flat 32-bit ring 0 with the runtime's GDT, IDT and TSS, then test_main; returning
 * from test_main passes the test. */
#include "guest.h"

    .section .text.entry, "ax"
    .code16
    .globl _start
_start:
    cli
    xorw %ax, %ax
    movw %ax, %ds
    movw %ax, %ss
    movw $0x7000, %sp
    lgdtl gdt_desc
    movl %cr0, %eax
    orl $1, %eax
    movl %eax, %cr0
    ljmpl $SEL_CODE0, $1f
    .code32
1:  movl $SEL_DATA0, %eax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %fs
    movw %ax, %gs
    movw %ax, %ss
    movl $STACK0_TOP, %esp
    call idt_init
    call tss_init
    call test_main
    jmp pass
