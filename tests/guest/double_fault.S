/* double_fault.S: the double-fault rules (SDM Vol. 3, 6.15, table 6-5): a #GP whose gate is
 * not present raises #NP while delivering it, two contributory faults make #DF with error
 * code 0; a benign fault during delivery is simply delivered; and a #PF while pushing the
 * frame of a #PF (the stack is unmapped) makes #DF, handled by a task gate on a fresh stack. */
#include "guest.h"

#define PD 0x100000
#define PT0 0x101000
#define TSS_DF 0x5000
#define SEL_TSS_DF 0x48

    .code32
    .text
    .globl test_main
test_main:
    /* 1. #GP with a not-present #GP gate: #NP during delivery -> #DF(0). */
    andb $0x7F, IDT_BASE + 13 * 8 + 5
    EXPECT_FAULT 8, 1f
    xorl %eax, %eax
    movw %ax, %ss              /* #GP(0) */
    movl $msg_nofault, %esi
    jmp fail
1:  orb $0x80, IDT_BASE + 13 * 8 + 5
    CHECK_EQ last_err, 0, "#DF error code"
    CHECK_EQ fault_count, 1, "one exception reached a handler"

    /* 2. Benign then contributory: INT3 through a not-present gate raises #NP(vector 3), which
     * is delivered normally. */
    andb $0x7F, IDT_BASE + 3 * 8 + 5
    EXPECT_FAULT 11, 1f
    int3
    movl $msg_nofault, %esi
    jmp fail
1:  orb $0x80, IDT_BASE + 3 * 8 + 5
    CHECK_EQ last_err, (3*8+2), "#NP error code for the INT3 gate"

    /* 3. #PF while delivering #PF: #DF through a task gate. Paging: identity 0-4 MiB except
     * the page at 0x3FF000, used as an unmapped stack. */
    movl $PT0, %edi
    movl $(PG_P | PG_RW), %eax
    movl $1024, %ecx
1:  movl %eax, (%edi)
    addl $0x1000, %eax
    addl $4, %edi
    loop 1b
    movl $0, PT0 + 0x3FF * 4
    movl $PD, %edi
    xorl %eax, %eax
    movl $1024, %ecx
    rep stosl
    movl $(PT0 | PG_P | PG_RW), PD
    movl $PD, %eax
    movl %eax, %cr3
    movl %cr0, %eax
    orl $0x80000000, %eax
    movl %eax, %cr0

    movl $TSS_DF, %edi
    movl $0x68, %ecx
    xorl %eax, %eax
    rep stosb
    movl $PD, TSS_DF + 0x1C
    movl $df_task, TSS_DF + 0x20
    movl $2, TSS_DF + 0x24
    movl $0x60000, TSS_DF + 0x38
    movl $SEL_DATA0, TSS_DF + 0x48
    movl $SEL_CODE0, TSS_DF + 0x4C
    movl $SEL_DATA0, TSS_DF + 0x50
    movl $SEL_DATA0, TSS_DF + 0x54
    movl $SEL_DATA0, TSS_DF + 0x58
    movl $SEL_DATA0, TSS_DF + 0x5C
    movw $0x68, TSS_DF + 0x66
    movl $SEL_TSS_DF, %eax
    movl $TSS_DF, %ebx
    movl $0x67, %ecx
    movw $ATTR_TSS32, %dx
    call set_seg_desc
    movl $IDT_BASE + 8 * 8, %edi
    movl $(SEL_TSS_DF << 16), (%edi)
    movl $0x8500, 4(%edi)

    movl $0x400000, %esp        /* the frame would go to 0x3FFFF0: unmapped */
    movl 0x500000, %eax         /* #PF (beyond the mapped 4 MiB) */
    movl $msg_nofault, %esi
    jmp fail

df_task:
    popl %eax                   /* error code of #DF, pushed on this task's stack */
    CHECK_EQ %eax, 0, "#DF error code in the task"
    movl %cr2, %eax
    CHECK_EQ %eax, 0x3FFFFC, "CR2 of the second #PF (the push)"
    movzwl TSS_DF, %eax
    CHECK_EQ %eax, SEL_TSS, "back link of the #DF task"
    movl TSS_BASE + 0x38, %eax
    CHECK_EQ %eax, 0x400000, "ESP saved in the faulting task"
    PUTS "double_fault ok"
    jmp pass

    .section .rodata
msg_nofault: .asciz "expected fault did not happen"
