/* debug.S: debug facilities: single-step traps with TF (DR6.BS, the first trap after the
 * instruction that follows the POPF setting TF), instruction breakpoints (faults; RF in the
 * EFLAGS image lets the instruction run), data breakpoints on writes and on reads/writes
 * (traps after the access), DR7.GD general detect, and DR4/DR5 aliasing and CR4.DE. */
#include "guest.h"

    .code32
    .text
    .globl test_main
test_main:
    movl $1, %eax
    movl $db_handler, %ebx
    movl $ATTR_INTGATE0, %ecx
    call set_gate

    /* 1. Single-step over four NOPs; the handler clears TF after the third trap. */
    movl $0, db_count
    pushfl
    orl $0x100, (%esp)
    popfl
step0:
    nop
step1:
    nop
step2:
    nop
step3:
    nop
    nop
    CHECK_EQ db_count, 3, "single-step traps"
    CHECK_EQ db_eip, step1, "EIP of the first single-step trap"
    movl db_dr6, %eax
    andl $0x4000, %eax
    CHECK_EQ %eax, 0x4000, "DR6.BS"

    /* 2. Instruction breakpoint on bp_insn: one fault, then RF lets it execute. */
    movl $0, db_count
    movl $0, db_set_rf_mode
    movl $bp_insn, %eax
    movl %eax, %dr0
    movl $0x00000001, %eax     /* L0, R/W 00, LEN 00 */
    movl %eax, %dr7
    xorl %ebx, %ebx
bp_insn:
    incl %ebx
    xorl %eax, %eax
    movl %eax, %dr7
    CHECK_EQ db_count, 1, "instruction breakpoint faults once"
    CHECK_EQ db_eip, bp_insn, "EIP of an instruction breakpoint (a fault)"
    CHECK_EQ %ebx, 1, "the instruction ran once after the breakpoint"
    movl db_dr6, %eax
    andl $0xF, %eax
    CHECK_EQ %eax, 1, "DR6.B0"

    /* 3. Data breakpoint on writes to watched (4 bytes): a trap after the writing
     * instruction; reads do not trigger it. */
    movl $0, db_count
    movl $watched, %eax
    movl %eax, %dr1
    movl $0x00D00004, %eax     /* L1, R/W1 = 01 (write), LEN1 = 11 (4 bytes) */
    movl %eax, %dr7
    movl watched, %eax
    CHECK_EQ db_count, 0, "a read does not hit a write breakpoint"
    movb $1, watched + 2
after_write:
    CHECK_EQ db_count, 1, "a write hits the write breakpoint"
    CHECK_EQ db_eip, after_write, "EIP of a data breakpoint (a trap)"
    movl db_dr6, %eax
    andl $0xF, %eax
    CHECK_EQ %eax, 2, "DR6.B1"
    movl $0x00F00004, %eax     /* R/W1 = 11: reads and writes */
    movl %eax, %dr7
    movl watched, %eax
    CHECK_EQ db_count, 2, "a read hits a read/write breakpoint"
    movl watched + 4, %eax
    CHECK_EQ db_count, 2, "a read next to the watched dword does not"
    xorl %eax, %eax
    movl %eax, %dr7

    /* 4. DR7.GD: the next debug-register access is a #DB fault with DR6.BD, GD cleared. */
    movl $0, db_count
    movl $0x2000, %eax
    movl %eax, %dr7
    movl %dr0, %eax
    CHECK_EQ db_count, 1, "general-detect fault"
    movl db_dr6, %eax
    andl $0x2000, %eax
    CHECK_EQ %eax, 0x2000, "DR6.BD"
    movl %dr7, %eax
    andl $0x2000, %eax
    CHECK_EQ %eax, 0, "GD cleared by the fault"

    /* 5. DR4/DR5 alias DR6/DR7 without CR4.DE; with it they are #UD. */
    movl %dr7, %eax
    movl %dr5, %ebx
    cmpl %eax, %ebx
    jne bad_alias
    movl %cr4, %eax
    orl $8, %eax
    movl %eax, %cr4
    EXPECT_FAULT 6, 1f
    movl %dr4, %eax
    movl $msg_nofault, %esi
    jmp fail
1:  movl %cr4, %eax
    andl $~8, %eax
    movl %eax, %cr4
    PUTS "debug ok"
    ret

/* #DB handler: record DR6 and EIP, clear DR6; stop single-stepping after three traps; set RF
 * for a fault (instruction breakpoint or general detect) so the instruction can complete. */
db_handler:
    pushl %eax
    incl db_count
    movl %dr6, %eax
    movl %eax, db_dr6
    testl $0xF, %eax
    jz 1f
    /* An instruction breakpoint is a fault: set RF in the image. */
    movl %dr7, %eax
    testl $0x1, %eax
    jz 1f
    orl $0x10000, 12(%esp)
1:  movl 4(%esp), %eax
    cmpl $1, db_count
    jne 2f
    movl %eax, db_eip
2:  cmpl $3, db_count
    jne 3f
    andl $~0x100, 12(%esp)
3:  movl db_dr6, %eax
    testl $0x2000, %eax
    jz 4f
    addl $3, 4(%esp)          /* skip the 3-byte MOV from DR0 */
4:  movl $0xFFFF0FF0, %eax
    movl %eax, %dr6
    popl %eax
    iret

bad_alias:
    movl $msg_alias, %esi
    jmp fail

    .section .rodata
msg_nofault: .asciz "expected fault did not happen"
msg_alias: .asciz "DR5 is not DR7"
    .data
db_count: .long 0
db_eip: .long 0
db_dr6: .long 0
db_set_rf_mode: .long 0
    .align 8
watched: .long 0, 0
