/* task.S: hardware task switches with 32-bit TSSs: JMP to a TSS (busy bits, no link), CALL
 * through a task gate (NT, back link, busy kept on the caller), IRET back through the link,
 * INT through an IDT task gate, register state saved and restored, CR0.TS set by a switch,
 * and #GP for a JMP to a busy TSS. */
#include "guest.h"

#define TSS2 0x5000
#define SEL_TSS2 0x48
#define SEL_TGATE 0x50

    .code32
    .text
    .globl test_main
test_main:
    /* TSS2: ring 0 flat task starting at task2, its own stack. */
    movl $TSS2, %edi
    movl $0x68, %ecx
    xorl %eax, %eax
    rep stosb
    movl %cr3, %eax
    movl %eax, TSS2 + 0x1C
    movl $task2, TSS2 + 0x20
    movl $2, TSS2 + 0x24
    movl $0x70000, TSS2 + 0x38
    movl $SEL_DATA0, TSS2 + 0x48
    movl $SEL_CODE0, TSS2 + 0x4C
    movl $SEL_DATA0, TSS2 + 0x50
    movl $SEL_DATA0, TSS2 + 0x54
    movl $SEL_DATA0, TSS2 + 0x58
    movl $SEL_DATA0, TSS2 + 0x5C
    movw $0x68, TSS2 + 0x66
    movl $SEL_TSS2, %eax
    movl $TSS2, %ebx
    movl $0x67, %ecx
    movw $ATTR_TSS32, %dx
    call set_seg_desc
    movl $SEL_TGATE, %eax
    xorl %ebx, %ebx
    movw $SEL_TSS2, %dx
    movw $ATTR_TASKGATE0, %cx
    call set_gdt_gate
    /* IDT vector 0x90: task gate to TSS2. */
    movl $IDT_BASE + 0x90 * 8, %edi
    movl $(SEL_TSS2 << 16), (%edi)
    movl $0x8500, 4(%edi)

    /* 1. JMP to the TSS. */
    movl $0x1234, %ebx
    clts
    ljmp $SEL_TSS2, $0
    CHECK_EQ task2_runs, 1, "task2 ran once"
    CHECK_EQ %ebx, 0x1234, "EBX restored from the TSS"
    CHECK_EQ tr_seen, SEL_TSS2, "TR inside task2"
    movl %cr0, %eax
    andl $8, %eax
    CHECK_EQ %eax, 8, "CR0.TS after a task switch"
    clts
    str %ax
    movzwl %ax, %eax
    CHECK_EQ %eax, SEL_TSS, "TR back in the first task"
    movzbl gdt + SEL_TSS2 + 5, %eax
    CHECK_EQ %eax, 0x89, "task2 not busy after it jumped away"
    CHECK_EQ busy_seen, 0x8B, "task2 busy while it ran"
    CHECK_EQ old_busy_seen, 0x89, "first task not busy after a JMP away"

    /* 2. CALL through a task gate; task2 returns with IRET through the back link. */
    lcall $SEL_TGATE, $0
    CHECK_EQ task2_runs, 2, "task2 ran twice"
    movl nt_seen, %eax
    andl $0x4000, %eax
    CHECK_EQ %eax, 0x4000, "NT inside a called task"
    CHECK_EQ link_seen, SEL_TSS, "back link of a called task"
    CHECK_EQ old_busy_seen, 0x8B, "caller stays busy"
    movzbl gdt + SEL_TSS2 + 5, %eax
    CHECK_EQ %eax, 0x89, "task2 not busy after IRET"
    pushfl
    popl %eax
    andl $0x4000, %eax
    CHECK_EQ %eax, 0, "NT in the caller after the return"

    /* 3. INT through a task gate. */
    int $0x90
    CHECK_EQ task2_runs, 3, "task2 ran from INT"

    /* 4. JMP to a busy TSS (our own): #GP(selector). */
    EXPECT_FAULT 13, 1f
    ljmp $SEL_TSS, $0
    movl $msg_nofault, %esi
    jmp fail
1:  CHECK_EQ last_err, SEL_TSS, "#GP error code of a JMP to a busy TSS"
    clts
    PUTS "task ok"
    ret

task2:
    str %ax
    movzwl %ax, %eax
    movl %eax, tr_seen
    movzbl gdt + SEL_TSS2 + 5, %eax
    movl %eax, busy_seen
    movzbl gdt + SEL_TSS + 5, %eax
    movl %eax, old_busy_seen
    movl $0x5555, %ebx
    incl task2_runs
    ljmp $SEL_TSS, $0
    /* Resumed by the CALL. */
    pushfl
    popl %eax
    movl %eax, nt_seen
    movzwl TSS2, %eax
    movl %eax, link_seen
    movzbl gdt + SEL_TSS + 5, %eax
    movl %eax, old_busy_seen
    incl task2_runs
    iret
    /* Resumed by INT 90h. */
    incl task2_runs
    iret

    .section .rodata
msg_nofault: .asciz "expected fault did not happen"
    .data
task2_runs: .long 0
tr_seen: .long 0
busy_seen: .long 0
old_busy_seen: .long 0
nt_seen: .long 0
link_seen: .long 0
