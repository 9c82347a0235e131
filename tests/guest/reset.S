/* reset.S: a 64 KiB ROM started from the RESET state: checks the Pentium II reset values,
 * then real mode: IVT delivery and IRET, segment-limit faults (#GP, #SS), INTR with the STI
 * shadow and HLT wake-up, far CALL/RET, POPF of IOPL/NT, CPUID, and a round trip through
 * protected mode that leaves 4 GiB data limits behind ("unreal mode"), and the A20 gate. */
#include "guest.h"

#define FLAG 0x600          /* RAM scratch words (DS = 0) */
#define SAVED_CX 0x602
#define VEC_HITS 0x604
#define RECOVER 0x606
#define GDT_RAM 0x700

    .code16
    .text
    .globl _start
_start:
    /* Reset state (SDM Vol. 3, table 9-1): EDX = signature, CR0 = 60000010h, EFLAGS = 2. */
    pushfl
    popl %eax
    cmpl $2, %eax
    jne bad_eflags
    cmpl $0x652, %edx
    jne bad_edx
    movl %cr0, %eax
    cmpl $0x60000010, %eax
    jne bad_cr0
    movl %dr7, %eax
    cmpl $0x400, %eax
    jne bad_dr7
    movl %dr6, %eax
    cmpl $0xFFFF0FF0, %eax
    jne bad_dr6
    ljmp $0xF000, $low_rom

low_rom:
    xorw %ax, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    movw $0x7000, %sp
    PUTS16 "reset ok"

    /* Software interrupt through the IVT: IF and TF are clear in the handler. */
    movw $int40, 0x40 * 4
    movw $0xF000, 0x40 * 4 + 2
    movw $0, FLAG
    sti
    int $0x40
    cmpw $0x1234, FLAG
    jne bad_int
    pushfw
    popw %ax
    testw $0x200, %ax
    jz bad_if_restore
    cli

    /* Real-mode limit faults: a word at DS:FFFF is #GP, at SS:FFFF #SS (SDM Vol. 3, 20.1). */
    movw $vec13, 13 * 4
    movw $0xF000, 13 * 4 + 2
    movw $vec12, 12 * 4
    movw $0xF000, 12 * 4 + 2
    movw $0, VEC_HITS
    movw $0xFFFF, %bx
    movw $1f, RECOVER
    movw (%bx), %ax
1:  movw $0xFFFF, %bp
    movw $1f, RECOVER
    movw (%bp), %ax
1:  cmpw $0x101, VEC_HITS
    jne bad_limit
    movw %ds:0xFFFE, %ax         /* the last whole word is fine */

    /* INTR: the instruction after STI runs before the interrupt; HLT wakes up. */
    movw $irq_handler, 0x41 * 4
    movw $0xF000, 0x41 * 4 + 2
    movw $0, FLAG
    xorw %cx, %cx
    movw $PORT_INJECT, %dx
    movw $0x41, %ax
    outw %ax, %dx
    sti
    movw $1, %cx
    movw $2, %cx
    cli
    cmpw $1, FLAG
    jne bad_irq
    cmpw $1, SAVED_CX
    jne bad_shadow
    movw $0, FLAG
    movw $0x41, %ax
    outw %ax, %dx
    sti
    hlt
    cli
    cmpw $1, FLAG
    jne bad_hlt

    /* Far CALL / RET and RET imm16. */
    movw $0x7000, %sp
    pushw $0x5555
    lcall $0xF000, $farfunc
    cmpw $0x7000, %sp
    jne bad_far
    cmpw $0xBEEF, %ax
    jne bad_far

    /* POPF in real mode writes IOPL and NT on a P6 (the 286 keeps them clear). */
    pushw $0x7002
    popfw
    pushfw
    popw %ax
    cmpw $0x7002, %ax
    jne bad_popf
    pushw $0x0002
    popfw

    /* CPUID. */
    xorl %eax, %eax
    cpuid
    cmpl $0x756E6547, %ebx
    jne bad_cpuid
    cmpl $0x6C65746E, %ecx
    jne bad_cpuid
    movl $1, %eax
    cpuid
    cmpl $0x652, %eax
    jne bad_cpuid

    /* Protected mode and back, keeping a 4 GiB limit in DS. */
    movw $GDT_RAM, %di
    movw $gdt_rom, %si
    movw $24, %cx
1:  movb %cs:(%si), %al
    movb %al, (%di)
    incw %si
    incw %di
    loop 1b
    movw $23, GDT_RAM + 24
    movl $GDT_RAM, GDT_RAM + 26
    lgdtl GDT_RAM + 24
    movl %cr0, %eax
    orb $1, %al
    movl %eax, %cr0
    ljmp $0x08, $pm16
pm16:
    movw $0x10, %ax
    movw %ax, %ds
    movl %cr0, %eax
    andb $0xFE, %al
    movl %eax, %cr0
    ljmp $0xF000, $real_again
real_again:
    xorw %ax, %ax
    movw %ax, %ds
    movl $0x00200000, %esi
    movl $0xCAFEF00D, (%esi)
    cmpl $0xCAFEF00D, (%esi)
    jne bad_unreal

    /* A20: with the gate off, FFFF:0010 wraps to 0000:0000. */
    movw $0xFFFF, %ax
    movw %ax, %es
    movw $0x1111, 0x0000
    movw $0x2222, %es:0x0010
    cmpw $0x1111, 0x0000
    jne bad_a20
    inb $0x92, %al
    andb $~2, %al
    outb %al, $0x92
    movw $0x3333, %es:0x0010
    cmpw $0x3333, 0x0000
    jne bad_a20
    orb $2, %al
    outb %al, $0x92
    cmpw $0x2222, %es:0x0010
    jne bad_a20
    xorw %ax, %ax
    movw %ax, %es

    PUTS16 "real mode ok"
    PUTS16 "PASS"
    EXIT16 0

int40:
    pushfw
    popw %ax
    testw $0x300, %ax
    jnz bad_int_flags
    movw $0x1234, FLAG
    iret

irq_handler:
    movw %cx, SAVED_CX
    movw $1, FLAG
    iret

/* vec13 / vec12: fault handlers: count the fault, resume at RECOVER. */
vec13:
    addw $1, VEC_HITS
    jmp 1f
vec12:
    addw $0x100, VEC_HITS
1:  pushw %bp
    pushw %ax
    movw %sp, %bp
    movw RECOVER, %ax
    movw %ax, 4(%bp)
    popw %ax
    popw %bp
    iret

farfunc:
    movw $0xBEEF, %ax
    lret $2

bad_edx: PUTS16 "FAIL: EDX after reset"
    EXIT16 1
bad_cr0: PUTS16 "FAIL: CR0 after reset"
    EXIT16 1
bad_eflags: PUTS16 "FAIL: EFLAGS after reset"
    EXIT16 1
bad_dr7: PUTS16 "FAIL: DR7 after reset"
    EXIT16 1
bad_dr6: PUTS16 "FAIL: DR6 after reset"
    EXIT16 1
bad_int: PUTS16 "FAIL: INT 40h handler did not run"
    EXIT16 1
bad_int_flags: PUTS16 "FAIL: IF/TF set inside an interrupt handler"
    EXIT16 1
bad_if_restore: PUTS16 "FAIL: IRET did not restore IF"
    EXIT16 1
bad_limit: PUTS16 "FAIL: real-mode limit faults"
    EXIT16 1
bad_irq: PUTS16 "FAIL: injected interrupt not taken after STI"
    EXIT16 1
bad_shadow: PUTS16 "FAIL: STI interrupt shadow"
    EXIT16 1
bad_hlt: PUTS16 "FAIL: HLT not woken by an interrupt"
    EXIT16 1
bad_far: PUTS16 "FAIL: far call/ret"
    EXIT16 1
bad_popf: PUTS16 "FAIL: POPF of IOPL/NT in real mode"
    EXIT16 1
bad_cpuid: PUTS16 "FAIL: CPUID"
    EXIT16 1
bad_a20: PUTS16 "FAIL: A20 gate"
    EXIT16 1
bad_unreal: PUTS16 "FAIL: 4 GiB limit after leaving protected mode"
    EXIT16 1

    .align 8
gdt_rom:
    .quad 0
    .quad 0x00009A0F0000FFFF     /* 0x08: 16-bit code, base F0000, 64 KiB */
    .quad 0x008F92000000FFFF     /* 0x10: 16-bit data, base 0, 4 GiB */

    .section .reset, "ax"
    ljmp $0xF000, $_start
