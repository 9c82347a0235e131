/* paging.S: two-level paging: translation, accessed and dirty bits, #PF error codes and CR2
 * for not-present, read-only (with and without CR0.WP), user/supervisor and reserved-bit
 * faults, 4 MiB pages (CR4.PSE), INVLPG, global pages (CR4.PGE) surviving a CR3 write, and a
 * page-crossing write that faults on its second page without writing the first. */
#include "guest.h"

#define PD 0x100000
#define PT0 0x101000       /* identity map of 0-4 MiB, user-accessible */
#define PT1 0x102000       /* the test pages at 0x400000 */
#define LIN 0x400000

    .code32
    .text
    .globl test_main
test_main:
    /* PT0: identity, P|RW|US. */
    movl $PT0, %edi
    movl $(PG_P | PG_RW | PG_US), %eax
    movl $1024, %ecx
1:  movl %eax, (%edi)
    addl $0x1000, %eax
    addl $4, %edi
    loop 1b
    /* PD: clear, then PDE[0] = PT0, PDE[1] = PT1, PDE[2] = 4 MiB page at 0x400000. */
    movl $PD, %edi
    xorl %eax, %eax
    movl $1024, %ecx
    rep stosl
    movl $(PT0 | PG_P | PG_RW | PG_US), PD
    movl $(PT1 | PG_P | PG_RW | PG_US), PD + 4
    movl $(0x400000 | PG_P | PG_RW | PG_PS), PD + 8
    /* PT1: [0] -> 300000 supervisor RW, [1] absent, [2] -> 301000 supervisor read-only,
     * [3] -> 302000 user read-only, [4] -> 303000 user RW, [5] absent. */
    movl $PT1, %edi
    xorl %eax, %eax
    movl $1024, %ecx
    rep stosl
    movl $(0x300000 | PG_P | PG_RW), PT1
    movl $(0x301000 | PG_P), PT1 + 8
    movl $(0x302000 | PG_P | PG_US), PT1 + 12
    movl $(0x303000 | PG_P | PG_RW | PG_US), PT1 + 16

    movl $0xA5A5A5A5, 0x300000
    movl $0x5A5A5A5A, 0x301000
    movl $0x600D600D, 0x401234

    movl $PD, %eax
    movl %eax, %cr3
    movl %cr0, %eax
    orl $0x80000000, %eax
    movl %eax, %cr0

    /* Translation, then A and D. */
    CHECK_EQ LIN, 0xA5A5A5A5, "read through PTE[0]"
    movl PT1, %eax
    andl $(PG_A | PG_D), %eax
    CHECK_EQ %eax, PG_A, "A set and D clear after a read"
    testl $PG_A, PD + 4
    jz bad_pde_a
    movl $1, LIN + 4
    movl PT1, %eax
    andl $(PG_A | PG_D), %eax
    CHECK_EQ %eax, PG_A | PG_D, "D set after a write"

    /* Not present: read err 0, write err 2; CR2 is the address. */
    EXPECT_FAULT 14, 1f
    movl LIN + 0x1010, %eax
    jmp no_fault
1:  CHECK_EQ last_err, 0, "#PF error code for a not-present read"
    CHECK_EQ last_cr2, LIN + 0x1010, "CR2 for a not-present read"
    EXPECT_FAULT 14, 1f
    movl $0, LIN + 0x1020
    jmp no_fault
1:  CHECK_EQ last_err, 2, "#PF error code for a not-present write"

    /* Read-only page: a supervisor write succeeds with WP = 0 and faults with WP = 1. */
    movl $7, LIN + 0x2000
    CHECK_EQ 0x301000, 7, "supervisor write to a read-only page with WP=0"
    movl %cr0, %eax
    orl $0x10000, %eax
    movl %eax, %cr0
    EXPECT_FAULT 14, 1f
    movl $8, LIN + 0x2004
    jmp no_fault
1:  CHECK_EQ last_err, 3, "#PF error code for a write to a read-only page with WP=1"
    movl %cr0, %eax
    andl $~0x10000, %eax
    movl %eax, %cr0

    /* A dword write across into the absent page faults on the second page with CR2 there,
     * and the first page is left untouched. */
    movl $0x22222222, 0x300FFC
    EXPECT_FAULT 14, 1f
    movl $0x33333333, LIN + 0xFFE
    jmp no_fault
1:  CHECK_EQ last_cr2, LIN + 0x1000, "CR2 of a page-crossing write"
    CHECK_EQ 0x300FFC, 0x22222222, "first page unchanged after a crossing fault"

    /* 4 MiB page. Without CR4.PSE, PS is ignored and the PDE is a page-table pointer: the
     * page table at 0x400000 holds zeros, so the access is a not-present fault. */
    EXPECT_FAULT 14, 1f
    movl 0x801234, %eax
    jmp no_fault
1:  movl %cr4, %eax
    orl $0x10, %eax
    movl %eax, %cr4
    CHECK_EQ 0x801234, 0x600D600D, "read through a 4 MiB page"
    testl $PG_A, PD + 8
    jz bad_pde_a
    /* A reserved bit in a 4 MiB PDE (bit 13 without PSE-36): error code P|RSVD. */
    orl $0x2000, PD + 8
    invlpg 0x801234
    EXPECT_FAULT 14, 1f
    movl 0x801234, %eax
    jmp no_fault
1:  CHECK_EQ last_err, 9, "#PF error code for a reserved bit"
    andl $~0x2000, PD + 8
    invlpg 0x801234

    /* INVLPG: after changing PTE[0], the old mapping may stay until INVLPG; after it the new
     * one is used. */
    movl $(0x301000 | PG_P | PG_RW), PT1     /* 0x301000 holds 7 from the WP=0 write */
    invlpg LIN
    CHECK_EQ LIN, 7, "new mapping after INVLPG"

    /* Global pages: with CR4.PGE a G entry survives a CR3 write; clearing PGE flushes it. */
    movl %cr4, %eax
    orl $0x80, %eax
    movl %eax, %cr4
    movl $(0x300000 | PG_P | PG_RW | 0x100), PT1
    invlpg LIN
    CHECK_EQ LIN, 0xA5A5A5A5, "global mapping in use"
    movl $(0x301000 | PG_P | PG_RW | 0x100), PT1
    movl %cr3, %eax
    movl %eax, %cr3
    CHECK_EQ LIN, 0xA5A5A5A5, "global entry kept across a CR3 write"
    movl %cr4, %eax
    andl $~0x80, %eax
    movl %eax, %cr4
    CHECK_EQ LIN, 7, "global entry flushed by clearing CR4.PGE"

    /* User mode: supervisor page read -> err 5, user read-only write -> err 7, user RW ok. */
    movl $user_part, %eax
    call to_ring3
    CHECK_EQ user_ok, 3, "user-mode paging checks"
    PUTS "paging ok"
    ret

user_part:
    EXPECT_FAULT 14, 1f
    movl LIN, %eax
    jmp user_no_fault
1:  cmpl $5, last_err
    jne user_bad
    incl user_ok
    EXPECT_FAULT 14, 1f
    movl $1, LIN + 0x3000
    jmp user_no_fault
1:  cmpl $7, last_err
    jne user_bad
    incl user_ok
    movl LIN + 0x3000, %eax
    movl $1, LIN + 0x4000
    incl user_ok
user_bad:
user_no_fault:
    int $0x7F

no_fault:
    movl last_vector, %eax
    movl $msg_nofault, %esi
    jmp fail
bad_pde_a:
    movl $msg_pde_a, %esi
    jmp fail

    .section .rodata
msg_nofault: .asciz "expected fault did not happen"
msg_pde_a: .asciz "PDE accessed bit not set"
    .data
user_ok: .long 0
