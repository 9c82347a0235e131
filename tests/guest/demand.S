/* demand.S: demand paging from ring 3: a REP STOSD over 16 unmapped pages faults once per
 * page; the ring 0 #PF handler maps the page named by CR2 and returns, and the string
 * instruction resumes where it stopped (ECX/EDI keep their progress). Then a user-mode
 * checksum loop over the same pages, and a write to a page mapped read-only on demand that
 * the handler upgrades (the copy-on-write pattern). */
#include "guest.h"

#define PD 0x100000
#define PT0 0x101000
#define PT1 0x102000
#define USERBUF 0x400000
#define FRAMES 0x300000

    .code32
    .text
    .globl test_main
test_main:
    movl $PT0, %edi
    movl $(PG_P | PG_RW | PG_US), %eax
    movl $1024, %ecx
1:  movl %eax, (%edi)
    addl $0x1000, %eax
    addl $4, %edi
    loop 1b
    movl $PD, %edi
    xorl %eax, %eax
    movl $1024, %ecx
    rep stosl
    movl $PT1, %edi
    movl $1024, %ecx
    rep stosl
    movl $(PT0 | PG_P | PG_RW | PG_US), PD
    movl $(PT1 | PG_P | PG_RW | PG_US), PD + 4
    movl $PD, %eax
    movl %eax, %cr3
    movl %cr0, %eax
    orl $0x80010000, %eax      /* PG, WP */
    movl %eax, %cr0

    movl $14, %eax
    movl $pf_handler, %ebx
    movl $ATTR_INTGATE0, %ecx
    call set_gate
    movl $0x85, %eax
    movl $map_ro, %ebx
    movl $ATTR_INTGATE3, %ecx
    call set_gate

    movl $user, %eax
    call to_ring3
    CHECK_EQ pf_count, 17, "page faults: 16 not-present, 1 write-protect"
    CHECK_EQ user_sum, (16*1024*0x01010101), "checksum over the demand-paged buffer"
    CHECK_EQ user_ecx, 0, "REP STOSD completed"
    CHECK_EQ user_edi, (USERBUF+0x10000), "EDI after REP STOSD"
    CHECK_EQ cow_value, 0x5A5A, "write after the write-protect fault"
    PUTS "demand ok"
    ret

/* #PF: map CR2's page to the next free frame (user, read-write), or make a present
 * read-only page writable. */
pf_handler:
    pushal
    movl $SEL_DATA0, %eax
    movw %ax, %ds
    movw %ax, %es
    incl pf_count
    movl %cr2, %eax
    movl %eax, %ebx
    subl $USERBUF, %ebx
    cmpl $0x400000, %ebx
    jae pf_bad
    shrl $12, %ebx
    testl $1, 32(%esp)              /* error code: P = 1 is a protection fault */
    jnz 1f
    movl next_frame, %ecx
    addl $0x1000, next_frame
    orl $(PG_P | PG_RW | PG_US), %ecx
    movl %ecx, PT1(,%ebx,4)
    jmp 2f
1:  orl $PG_RW, PT1(,%ebx,4)
    invlpg (%eax)
2:  movl $SEL_DATA3, %eax
    movw %ax, %ds
    movw %ax, %es
    popal
    addl $4, %esp
    iret
pf_bad:
    movl %cr2, %eax
    movl $msg_bad, %esi
    jmp fail

user:
    movl $USERBUF, %edi
    movl $(16 * 1024), %ecx
    movl $0x01010101, %eax
    cld
    rep stosl
    movl %ecx, user_ecx
    movl %edi, user_edi
    xorl %edx, %edx
    movl $USERBUF, %esi
    movl $(16 * 1024), %ecx
1:  addl (%esi), %edx
    addl $4, %esi
    loop 1b
    movl %edx, user_sum
    /* A user page mapped read-only by the "kernel": the first write faults with P|W|U. */
    int $0x85
    movl $0x5A5A, USERBUF + 0x20000
    movl USERBUF + 0x20000, %eax
    movl %eax, cow_value
    int $0x7F

/* int 85h: map USERBUF + 0x20000 read-only for the user. */
map_ro:
    movl $(FRAMES + 0x40000 | PG_P | PG_US), PT1 + 0x20 * 4
    iret

    .section .rodata
msg_bad: .asciz "page fault outside the demand area"
    .data
next_frame: .long FRAMES
pf_count: .long 0
user_sum: .long 0
user_ecx: .long -1
user_edi: .long 0
cow_value: .long 0
