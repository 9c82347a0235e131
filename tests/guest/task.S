/* task.S: hardware task switches with 32-bit TSSs: JMP to a TSS (busy bits, no link), CALL
 * through a task gate (NT, back link, busy kept on the caller), IRET back through the link,
 * INT through an IDT task gate, register state saved and restored, CR3 and LDTR switched with
 * the task, CR0.TS set by a switch, and #GP for a JMP to a busy TSS. */
#include "guest.h"

#define TSS2 0x5000
#define SEL_TSS2 0x48
#define SEL_TGATE 0x50
#define SEL_LDT 0x58
#define LDT_TABLE 0x6000
#define PD1 0x100000
#define PT0 0x101000
#define PT1 0x102000
#define PD2 0x103000
#define PT2 0x104000

    .code32
    .text
    .globl test_main
test_main:
    /* Paging: two directories sharing the identity map of 0-4 MiB; linear 0x400000 is
     * phys 0x300000 under PD1 (the first task) and 0x301000 under PD2 (task2). */
    movl $PT0, %edi
    movl $(PG_P | PG_RW), %eax
    movl $1024, %ecx
1:  movl %eax, (%edi)
    addl $0x1000, %eax
    addl $4, %edi
    loop 1b
    movl $PD1, %edi
    xorl %eax, %eax
    movl $(5 * 1024), %ecx
    rep stosl                       /* PD1, PT0 again below, PT1, PD2, PT2 cleared */
    movl $PT0, %edi
    movl $(PG_P | PG_RW), %eax
    movl $1024, %ecx
1:  movl %eax, (%edi)
    addl $0x1000, %eax
    addl $4, %edi
    loop 1b
    movl $(PT0 | PG_P | PG_RW), PD1
    movl $(PT1 | PG_P | PG_RW), PD1 + 4
    movl $(0x300000 | PG_P | PG_RW), PT1
    movl $(PT0 | PG_P | PG_RW), PD2
    movl $(PT2 | PG_P | PG_RW), PD2 + 4
    movl $(0x301000 | PG_P | PG_RW), PT2
    movl $0x1111, 0x300000
    movl $0x2222, 0x301000
    movl $PD1, %eax
    movl %eax, %cr3
    movl %cr0, %eax
    orl $0x80000000, %eax
    movl %eax, %cr0
    movl $PD1, TSS_BASE + 0x1C       /* CR3 is loaded from, never saved to, a TSS */

    /* An LDT for task2 with one data segment (selector 0x0C) based at 0x123000. */
    movl $0xABCD, 0x123000
    movl $LDT_TABLE, %edi
    movl $0, (%edi)
    movl $0, 4(%edi)
    movl $0x3000FFFF, 8(%edi)        /* base 15:0 = 0x3000, limit 15:0 */
    movl $0x00CF9212, 12(%edi)       /* base 23:16 = 0x12, P, data RW, G, B */
    movl $SEL_LDT, %eax
    movl $LDT_TABLE, %ebx
    movl $15, %ecx
    movw $0x0082, %dx                /* P, LDT */
    call set_seg_desc

    /* TSS2: ring 0 flat task starting at task2, its own stack. */
    movl $TSS2, %edi
    movl $0x68, %ecx
    xorl %eax, %eax
    rep stosb
    movl $PD2, TSS2 + 0x1C
    movl $SEL_LDT, TSS2 + 0x60
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
    CHECK_EQ cr3_seen, PD2, "CR3 loaded from task2's TSS"
    CHECK_EQ mapped_seen, 0x2222, "task2's address space"
    CHECK_EQ 0x400000, 0x1111, "the first task's address space after the switch back"
    CHECK_EQ ldt_seen, SEL_LDT, "LDTR inside task2"
    CHECK_EQ ldt_data_seen, 0xABCD, "data segment loaded from task2's LDT"
    sldt %ax
    movzwl %ax, %eax
    CHECK_EQ %eax, 0, "LDTR back to null in the first task"

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

    /* 3. INT through a task gate, with the T bit set in task2's TSS: a #DB trap (DR6.BT)
     * arrives before task2's first instruction. */
    movw $1, TSS2 + 0x64
    movl $1, %eax
    movl $db_handler, %ebx
    movl $ATTR_INTGATE0, %ecx
    call set_gate
    int $0x90
    CHECK_EQ task2_runs, 3, "task2 ran from INT"
    movl db_dr6, %eax
    andl $0x8000, %eax
    CHECK_EQ %eax, 0x8000, "DR6.BT after a switch to a TSS with the T bit"
    CHECK_EQ db_eip, task2_int, "EIP of the T-bit trap"
    movw $0, TSS2 + 0x64

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
    movl %cr3, %eax
    movl %eax, cr3_seen
    movl 0x400000, %eax
    movl %eax, mapped_seen
    sldt %ax
    movzwl %ax, %eax
    movl %eax, ldt_seen
    movw $0x0C, %ax
    movw %ax, %fs
    movl %fs:0, %eax
    movl %eax, ldt_data_seen
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
task2_int:
    incl task2_runs
    iret

db_handler:
    pushl %eax
    movl %dr6, %eax
    movl %eax, db_dr6
    movl 4(%esp), %eax
    movl %eax, db_eip
    movl $0xFFFF0FF0, %eax
    movl %eax, %dr6
    popl %eax
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
db_dr6: .long 0
db_eip: .long 0
cr3_seen: .long 0
mapped_seen: .long 0
ldt_seen: .long 0
ldt_data_seen: .long 0
