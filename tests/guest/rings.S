/* rings.S: privilege transitions: a call gate from ring 3 to ring 0 with parameter copying
 * and the inner stack from the TSS, RET imm16 back to the outer level (nulling DPL 0 data
 * segment registers), interrupt and trap gates from ring 3 (IF cleared or kept), the gate DPL
 * check for INT n, conforming code, IOPL-sensitive instructions and the I/O bitmap at CPL 3,
 * POPF's silent IF rule, SYSENTER/SYSEXIT, alignment checks (#AC). */
#include "guest.h"

#define SEL_CGATE 0x40     /* call gate DPL 3 -> ring 0, 2 dword parameters */
#define SEL_CONF 0x48      /* conforming code DPL 0 */

    .code32
    .text
    .globl test_main
test_main:
    movl $SEL_CGATE, %eax
    movl $gate_target, %ebx
    movw $SEL_CODE0, %dx
    movw $(2 << 8) | ATTR_CALLGATE3, %cx
    call set_gdt_gate
    movl $SEL_CONF, %eax
    xorl %ebx, %ebx
    movl $0xFFFFF, %ecx
    movw $0xC09E, %dx      /* P, DPL 0, code, conforming, readable */
    call set_seg_desc
    movl $0x80, %eax
    movl $int80, %ebx
    movl $ATTR_INTGATE3, %ecx
    call set_gate
    movl $0x81, %eax
    movl $int81, %ebx
    movl $0xEF, %ecx       /* trap gate, DPL 3 */
    call set_gate
    movl $0x82, %eax
    movl $int80, %ebx
    movl $ATTR_INTGATE0, %ecx
    call set_gate
    movl $0x84, %eax
    movl $set_tsd, %ebx
    movl $ATTR_INTGATE3, %ecx
    call set_gate
    /* Port 0x80 denied in the I/O bitmap. */
    orb $1, TSS_BASE + 0x68 + (0x80 / 8)
    /* SYSENTER target. */
    movl $0x174, %ecx
    movl $SEL_CODE0, %eax
    xorl %edx, %edx
    wrmsr
    movl $0x175, %ecx
    movl $0x8F000, %eax
    wrmsr
    movl $0x176, %ecx
    movl $sysenter_target, %eax
    wrmsr

    movl %cr0, %eax
    orl $0x40000, %eax         /* CR0.AM */
    movl %eax, %cr0
    sti
    movl $user_code, %eax
    call to_ring3
    cli
    movl %cr4, %eax
    andl $~4, %eax
    movl %eax, %cr4
    CHECK_EQ steps, 9, "ring 3 steps completed"
    CHECK_EQ gate_cs, SEL_CODE0, "CS inside the call gate target"
    CHECK_EQ gate_p0, 0x22222222, "first copied parameter"
    CHECK_EQ gate_p1, 0x11111111, "second copied parameter"
    CHECK_EQ gate_oss, SEL_DATA3, "outer SS saved on the inner stack"
    CHECK_EQ gate_ocs, SEL_CODE3, "return CS saved on the inner stack"
    CHECK_EQ gate_esp, 24, "inner ESP from the TSS, 6 dwords pushed"
    PUTS "rings ok"
    ret

/* Ring 0 side. */
gate_target:
    movl %cs, %eax
    movl %eax, gate_cs
    movl 8(%esp), %eax
    movl %eax, gate_p0
    movl 12(%esp), %eax
    movl %eax, gate_p1
    movl 4(%esp), %eax
    movl %eax, gate_ocs
    movl 20(%esp), %eax
    movl %eax, gate_oss
    movl TSS_BASE + 4, %eax
    subl %esp, %eax
    movl %eax, gate_esp
    movl $SEL_DATA0, %eax
    movw %ax, %es          /* DPL 0 data: nulled on the return to ring 3 */
    movl $0x600D, %eax
    lret $8

int80:
    pushfl
    popl %eax
    movl %eax, int_flags
    movl 4(%esp), %eax     /* CS pushed: ring 3 */
    movl %eax, int_cs
    iret

int81:
    pushfl
    popl %eax
    movl %eax, int_flags
    iret

/* set_tsd: from ring 3, set CR4.TSD and return to a RDTSC, which must then fault. */
set_tsd:
    pushl %eax
    movl %cr4, %eax
    orl $4, %eax
    movl %eax, %cr4
    popl %eax
    iret
    /* not reached */

sysenter_target:
    movl %cs, %eax
    movl %eax, sys_cs
    movl %esp, sys_esp
    movl %ebx, %edx        /* return EIP */
    movl %ebp, %ecx        /* return ESP */
    sysexit

/* Ring 3 side: each part bumps `steps`. */
user_code:
    movl %cs, %eax
    CHECK_EQ %eax, SEL_CODE3, "CS in ring 3"
    incl steps                                          /* 1 */

    /* Call gate with two parameters; RET 8 releases them on the outer stack. */
    movl %esp, %ebp
    pushl $0x11111111
    pushl $0x22222222
    lcall $SEL_CGATE | 3, $0
    CHECK_EQ %eax, 0x600D, "call gate result"
    cmpl %esp, %ebp
    jne bad_esp
    movl %es, %eax
    CHECK_EQ %eax, 0, "ES nulled on the return to ring 3"
    movl $SEL_DATA3, %eax
    movw %ax, %es
    incl steps                                          /* 2 */

    /* Interrupt gate: IF clear in the handler; trap gate: IF kept. */
    int $0x80
    movl int_flags, %eax
    andl $0x200, %eax
    CHECK_EQ %eax, 0, "IF inside an interrupt gate handler"
    CHECK_EQ int_cs, SEL_CODE3, "CS pushed by INT from ring 3"
    int $0x81
    movl int_flags, %eax
    andl $0x200, %eax
    CHECK_EQ %eax, 0x200, "IF inside a trap gate handler"
    incl steps                                          /* 3 */

    /* INT to a DPL 0 gate: #GP(vector * 8 + 2). */
    EXPECT_FAULT 13, 1f
    int $0x82
    jmp user_fail
1:  CHECK_EQ last_err, (0x82*8+2), "#GP error code of INT to a DPL 0 gate"
    incl steps                                          /* 4 */

    /* CPL 3 > IOPL 0: CLI faults, POPF leaves IF alone, the I/O bitmap decides for IN. */
    EXPECT_FAULT 13, 1f
    cli
    jmp user_fail
1:  pushfl
    andl $~0x200, (%esp)
    popfl
    pushfl
    popl %eax
    andl $0x200, %eax
    CHECK_EQ %eax, 0x200, "POPF at CPL > IOPL changed IF"
    movw $PORT_CON, %dx
    inb %dx, %al
    EXPECT_FAULT 13, 1f
    inb $0x80, %al
    jmp user_fail
1:  incl steps                                          /* 5 */

    /* Conforming code: CPL stays 3, and the CS RPL shows it. */
    lcall $SEL_CONF, $conf_code
    CHECK_EQ %eax, 3, "CPL inside conforming code"
    incl steps                                          /* 6 */

    /* Privileged instructions at CPL 3. */
    EXPECT_FAULT 13, 1f
    hlt
    jmp user_fail
1:  EXPECT_FAULT 13, 1f
    movl %cr0, %eax
    jmp user_fail
1:  EXPECT_FAULT 13, 1f
    lgdt gdt_desc
    jmp user_fail
1:  EXPECT_FAULT 13, 1f
    clts
    jmp user_fail
1:  EXPECT_FAULT 13, 1f
    wbinvd
    jmp user_fail
1:  EXPECT_FAULT 13, 1f
    movl %dr7, %eax
    jmp user_fail
1:  rdtsc                  /* allowed while CR4.TSD = 0 */
    EXPECT_FAULT 13, 1f
    int $0x84              /* the ring 0 helper sets CR4.TSD */
    rdtsc
    jmp user_fail
1:  incl steps                                          /* 7 */

    /* SYSENTER / SYSEXIT. */
    movl $1f, %ebx
    movl %esp, %ebp
    sysenter
1:  movl %cs, %eax
    CHECK_EQ %eax, SEL_CODE3, "CS after SYSEXIT"
    CHECK_EQ sys_cs, SEL_CODE0, "CS after SYSENTER"
    CHECK_EQ sys_esp, 0x8F000, "ESP after SYSENTER"
    cmpl %esp, %ebp
    jne bad_esp
    incl steps                                          /* 8 */

    /* Alignment checks: CR0.AM (set by the ring 0 part) and EFLAGS.AC at CPL 3. */
    movl misaligned, %eax      /* AC = 0: fine */
    pushfl
    orl $0x40000, (%esp)
    popfl
    movl aligned, %eax
    EXPECT_FAULT 17, 1f
    movl misaligned, %eax
    jmp user_fail
1:  CHECK_EQ last_err, 0, "#AC error code"
    pushfl
    andl $~0x40000, (%esp)
    popfl

    /* A far return to ring 0 from ring 3 is #GP(selector). */
    pushl $SEL_CODE0
    pushl $user_fail
    EXPECT_FAULT 13, 1f
    lret
1:  addl $8, %esp
    CHECK_EQ last_err, SEL_CODE0, "#GP error code of RET to an inner level"
    incl steps                                          /* 9 */
    int $0x7F

conf_code:
    movl %cs, %eax
    andl $3, %eax
    lret

user_fail:
    movl last_vector, %eax
    movl $msg_nofault, %esi
    jmp fail
bad_esp:
    movl %esp, %eax
    movl $msg_esp, %esi
    jmp fail

    .section .rodata
msg_nofault: .asciz "expected fault did not happen"
msg_esp: .asciz "ESP not restored"
    .data
steps: .long 0
gate_cs: .long 0
gate_p0: .long 0
gate_p1: .long 0
gate_ocs: .long 0
gate_oss: .long 0
gate_esp: .long 0
int_flags: .long 0
int_cs: .long 0
sys_cs: .long 0
sys_esp: .long 0
    .align 4
aligned: .long 0
    .byte 0
misaligned: .long 0
