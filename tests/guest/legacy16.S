/* legacy16.S: the 80286-style system structures: a 16-bit interrupt gate (a 6-byte frame and
 * IRETW), a 16-bit call gate, and a JMP to a 16-bit TSS and back (registers and the IP
 * saved in the 16-bit layout). */
#include "guest.h"

#define TSS16 0x5000
#define SEL_TSS16 0x48
#define SEL_CGATE16 0x50

    .code32
    .text
    .globl test_main
test_main:
    /* 16-bit interrupt gate for vector 0x83 (type 6). */
    movl $0x83, %eax
    movl $int83, %ebx
    movl $0x86, %ecx
    call set_gate
    movl %esp, %ebp
    int $0x83
    CHECK_EQ frame_depth, 6, "bytes pushed through a 16-bit interrupt gate"
    cmpl %esp, %ebp
    jne bad_esp

    /* 16-bit call gate to the same privilege (type 4): pushes CS and IP as words. */
    movl $SEL_CGATE16, %eax
    movl $cgate16_target, %ebx
    movw $SEL_CODE0, %dx
    movw $0x84, %cx
    call set_gdt_gate
    lcall $SEL_CGATE16, $0
    CHECK_EQ frame_depth, 4, "bytes pushed through a 16-bit call gate"
    cmpl %esp, %ebp
    jne bad_esp

    /* 16-bit TSS: IP, FLAGS, the eight word registers, ES CS SS DS, LDT. */
    movl $TSS16, %edi
    movl $0x2C, %ecx
    xorl %eax, %eax
    rep stosb
    movw $task16, TSS16 + 0x0E
    movw $2, TSS16 + 0x10
    movw $0x4321, TSS16 + 0x18          /* BX */
    movw $0xF000, TSS16 + 0x1A          /* SP */
    movw $SEL_DATA0, TSS16 + 0x22
    movw $SEL_CODE0, TSS16 + 0x24
    movw $SEL_DATA0, TSS16 + 0x26
    movw $SEL_DATA0, TSS16 + 0x28
    movl $SEL_TSS16, %eax
    movl $TSS16, %ebx
    movl $0x2B, %ecx
    movw $0x81, %dx                      /* available 16-bit TSS */
    call set_seg_desc
    movl $0x12345678, %ebx
    ljmp $SEL_TSS16, $0
    CHECK_EQ %ebx, 0x12345678, "EBX restored from the 32-bit TSS"
    CHECK_EQ task_bx, 0x4321, "BX loaded from the 16-bit TSS"
    movzwl TSS16 + 0x18, %eax
    CHECK_EQ %eax, 0x7777, "BX saved into the 16-bit TSS"
    movzwl TSS16 + 0x0E, %eax
    CHECK_EQ %eax, task16_resume, "IP saved into the 16-bit TSS"
    movzbl gdt + SEL_TSS16 + 5, %eax
    CHECK_EQ %eax, 0x81, "16-bit TSS not busy after leaving it"
    clts
    PUTS "legacy16 ok"
    ret

int83:
    movl %ebp, %eax
    subl %esp, %eax
    movl %eax, frame_depth
    iretw

cgate16_target:
    movl %ebp, %eax
    subl %esp, %eax
    movl %eax, frame_depth
    lretw

task16:
    movzwl %bx, %eax
    movl %eax, task_bx
    movw $0x7777, %bx
    ljmp $SEL_TSS, $0
task16_resume:
    hlt

bad_esp:
    movl %esp, %eax
    movl $msg_esp, %esi
    jmp fail

    .section .rodata
msg_esp: .asciz "ESP not restored"
    .data
frame_depth: .long 0
task_bx: .long 0
