/* runtime.S: the support library of the guest tests: console output, exit, failure reports,
 * the GDT, IDT and TSS, descriptor helpers and the expected-fault exception handler. */
#include "guest.h"

    .code32
    .text

/* puts: print the zero-terminated string at ESI. */
    .globl puts
puts:
    pushl %eax
    pushl %edx
    pushl %esi
    movw $PORT_CON, %dx
1:  lodsb
    testb %al, %al
    jz 2f
    outb %al, %dx
    jmp 1b
2:  popl %esi
    popl %edx
    popl %eax
    ret

/* putc: print AL. */
    .globl putc
putc:
    pushl %edx
    movw $PORT_CON, %dx
    outb %al, %dx
    popl %edx
    ret

/* puthex: print EAX as 8 hex digits. */
    .globl puthex
puthex:
    pushl %eax
    pushl %ebx
    pushl %ecx
    movl %eax, %ebx
    movl $8, %ecx
1:  roll $4, %ebx
    movl %ebx, %eax
    andl $0xF, %eax
    movb hexdigits(%eax), %al
    call putc
    loop 1b
    popl %ecx
    popl %ebx
    popl %eax
    ret

/* guest_exit: end the test with status EAX (0 = pass). */
    .globl guest_exit
guest_exit:
    movw $PORT_EXIT, %dx
    outl %eax, %dx
    cli
1:  hlt
    jmp 1b

/* pass: print "PASS" and exit 0. */
    .globl pass
pass:
    movl $msg_pass, %esi
    call puts
    xorl %eax, %eax
    jmp guest_exit

/* fail: print "FAIL: " ESI, the value EAX, and exit 1. */
    .globl fail
fail:
    pushl %eax
    pushl %esi
    movl $msg_fail, %esi
    call puts
    popl %esi
    call puts
    movl $msg_value, %esi
    call puts
    popl %eax
    call puthex
    movb $'\n', %al
    call putc
    movl $1, %eax
    jmp guest_exit

/* set_gate: IDT entry EAX -> handler EBX, selector SEL_CODE0, attribute byte CL. */
    .globl set_gate
set_gate:
    pushl %eax
    pushl %edx
    leal IDT_BASE(,%eax,8), %edx
    movw %bx, (%edx)
    movw $SEL_CODE0, 2(%edx)
    movb $0, 4(%edx)
    movb %cl, 5(%edx)
    pushl %ebx
    shrl $16, %ebx
    movw %bx, 6(%edx)
    popl %ebx
    popl %edx
    popl %eax
    ret

/* set_gdt_gate: GDT entry for selector EAX becomes a gate to selector DX : offset EBX with
 * attribute byte CL and parameter count CH (call gates) -- task gates take DX only. */
    .globl set_gdt_gate
set_gdt_gate:
    pushl %eax
    pushl %edi
    andl $0xFFF8, %eax
    leal gdt(%eax), %edi
    movw %bx, (%edi)
    movw %dx, 2(%edi)
    movb %ch, 4(%edi)
    movb %cl, 5(%edi)
    pushl %ebx
    shrl $16, %ebx
    movw %bx, 6(%edi)
    popl %ebx
    popl %edi
    popl %eax
    ret

/* set_seg_desc: GDT entry for selector EAX = segment with base EBX, limit ECX (20 bits, in
 * the granularity of the flags), access byte DL and flags DH (G = 80h, D/B = 40h). */
    .globl set_seg_desc
set_seg_desc:
    pushl %eax
    pushl %edi
    andl $0xFFF8, %eax
    leal gdt(%eax), %edi
    movw %cx, (%edi)
    movw %bx, 2(%edi)
    pushl %ebx
    shrl $16, %ebx
    movb %bl, 4(%edi)
    movb %dl, 5(%edi)
    pushl %ecx
    shrl $16, %ecx
    andb $0x0F, %cl
    movb %dh, %al
    andb $0xF0, %al
    orb %cl, %al
    movb %al, 6(%edi)
    popl %ecx
    movb %bh, 7(%edi)
    popl %ebx
    popl %edi
    popl %eax
    ret

/* idt_init: every vector -> the expected-fault handler (0-31) or an "unexpected interrupt"
 * stub; load IDTR. */
    .globl idt_init
idt_init:
    pushal
    xorl %eax, %eax
    movl $ATTR_INTGATE0, %ecx
1:  cmpl $32, %eax
    jae 2f
    movl exc_stubs(,%eax,4), %ebx
    jmp 3f
2:  movl $unexpected_irq, %ebx
3:  call set_gate
    incl %eax
    cmpl $256, %eax
    jb 1b
    movl $0x7F, %eax
    movl $ring0_back, %ebx
    movl $ATTR_INTGATE3, %ecx
    call set_gate
    lidt idt_desc
    popal
    ret

/* to_ring3: continue at EAX in ring 3 (flat segments, stack STACK3_TOP, EFLAGS as now).
 * The ring 3 code comes back with `int $0x7F`, which returns from to_ring3 in ring 0 with
 * the general registers as they were at the call. */
    .globl to_ring3
to_ring3:
    pushal
    movl %esp, saved_ring0_esp
    movl %esp, TSS_BASE + 4      /* ring 0 entries from ring 3 start below this frame */
    movl $SEL_DATA3, %ebx
    movw %bx, %ds
    movw %bx, %es
    movw %bx, %fs
    movw %bx, %gs
    pushl $SEL_DATA3
    pushl $STACK3_TOP
    pushfl
    pushl $SEL_CODE3
    pushl %eax
    iret

/* to_v86: continue in virtual-8086 mode at 0000:AX with SS:SP = 0000:7000, data segments
 * 0 and EFLAGS = EBX | VM. Back to the caller through `int $0x7F` (with IOPL 3) or a fault
 * whose recover_eip is V86_EXIT. */
    .globl to_v86
to_v86:
    pushal
    movl %esp, saved_ring0_esp
    movl %esp, TSS_BASE + 4
    pushl $0                 /* GS */
    pushl $0                 /* FS */
    pushl $0                 /* DS */
    pushl $0                 /* ES */
    pushl $0                 /* SS */
    pushl $0x7000            /* ESP */
    orl $0x20002, %ebx
    pushl %ebx               /* EFLAGS with VM */
    pushl $0                 /* CS */
    movzwl %ax, %eax
    pushl %eax               /* EIP */
    iret

ring0_back:
    movl $SEL_DATA0, %eax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %fs
    movw %ax, %gs
    movl saved_ring0_esp, %esp
    movl $STACK0_TOP, TSS_BASE + 4
    popal
    ret

/* tss_init: a 32-bit TSS at TSS_BASE with SS0:ESP0 = SEL_DATA0:STACK0_TOP, an I/O bitmap
 * that allows every port, loaded into TR. */
    .globl tss_init
tss_init:
    pushal
    movl $TSS_BASE, %edi
    movl $(0x68 + 8192 + 1), %ecx
    xorl %eax, %eax
    cld
    rep stosb
    movl $STACK0_TOP, TSS_BASE + 4
    movl $SEL_DATA0, TSS_BASE + 8
    movw $0x68, TSS_BASE + 0x66
    movb $0xFF, TSS_BASE + 0x68 + 8192
    movl $SEL_TSS, %eax
    movl $TSS_BASE, %ebx
    movl $(0x68 + 8192), %ecx
    movw $ATTR_TSS32, %dx
    call set_seg_desc
    movw $SEL_TSS, %ax
    ltr %ax
    popal
    ret

/* Exception stubs: push a zero error code where the CPU pushes none, then the vector. */
.macro EXC_STUB v
exc_stub_\v:
    .if (\v == 8) || ((\v >= 10) && (\v <= 14)) || (\v == 17)
    .else
    pushl $0
    .endif
    pushl $\v
    jmp exc_common
.endm

    .irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    EXC_STUB \v
    .endr

/* exc_common: [esp] = vector, error code, EIP, CS, EFLAGS... If the vector is the expected
 * one, record it and resume at recover_eip; otherwise report and fail. */
exc_common:
    pushal
    pushl %ds
    movl $SEL_DATA0, %eax
    movw %ax, %ds
    movl 36(%esp), %eax
    cmpl expected_vector, %eax
    jne 1f
    movl %eax, last_vector
    movl 40(%esp), %ebx
    movl %ebx, last_err
    movl 44(%esp), %ebx
    movl %ebx, last_eip
    movl 48(%esp), %ebx
    movl %ebx, last_cs
    movl %cr2, %ebx
    movl %ebx, last_cr2
    incl fault_count
    movl $-1, expected_vector
    movl recover_eip, %ebx
    cmpl $V86_EXIT, %ebx
    je ring0_back
    movl %ebx, 44(%esp)
    popl %ds
    popal
    addl $8, %esp
    iret
1:  movl $msg_unexp, %esi
    call puts
    call puthex
    movl $msg_err, %esi
    call puts
    movl 40(%esp), %eax
    call puthex
    movl $msg_eip, %esi
    call puts
    movl 48(%esp), %eax
    call puthex
    movb $':', %al
    call putc
    movl 44(%esp), %eax
    call puthex
    movb $'\n', %al
    call putc
    movl 36(%esp), %eax
    addl $0x100, %eax
    jmp guest_exit

unexpected_irq:
    movl $msg_irq, %esi
    call puts
    movl $0x200, %eax
    jmp guest_exit

    .section .rodata
hexdigits: .ascii "0123456789ABCDEF"
msg_pass: .asciz "PASS\n"
msg_fail: .asciz "FAIL: "
msg_value: .asciz " value="
msg_unexp: .asciz "FAIL: unexpected exception "
msg_err: .asciz " err="
msg_eip: .asciz " at "
msg_irq: .asciz "FAIL: unexpected interrupt\n"

    .data
    .align 4
exc_stubs:
    .irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    .long exc_stub_\v
    .endr

    .globl expected_vector, recover_eip, last_vector, last_err, last_eip, last_cs, last_cr2
    .globl fault_count
expected_vector: .long -1
recover_eip: .long 0
last_vector: .long -1
last_err: .long 0
last_eip: .long 0
last_cs: .long 0
last_cr2: .long 0
fault_count: .long 0
saved_ring0_esp: .long 0

    .align 8
    .globl gdt, gdt_desc, idt_desc
gdt:
    .quad 0
    .quad 0x00CF9A000000FFFF   /* 0x08 code32 ring 0 */
    .quad 0x00CF92000000FFFF   /* 0x10 data32 ring 0 */
    .quad 0x00CFFA000000FFFF   /* 0x18 code32 ring 3 */
    .quad 0x00CFF2000000FFFF   /* 0x20 data32 ring 3 */
    .quad 0                    /* 0x28 TSS (tss_init) */
    .quad 0x00009A000000FFFF   /* 0x30 code16 ring 0, base 0, 64 KiB */
    .quad 0x000092000000FFFF   /* 0x38 data16 ring 0 */
    .fill 8, 8, 0              /* 0x40-0x78 free */
gdt_end:
    .align 4
    .word 0
gdt_desc:
    .word gdt_end - gdt - 1
    .long gdt
    .word 0
idt_desc:
    .word 256 * 8 - 1
    .long IDT_BASE
