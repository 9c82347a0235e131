/* triple_fault.S: an empty IDT (limit 0): INT3 raises #GP (gate beyond the limit), #GP cannot
 * be delivered either -> #DF, and #DF cannot -> triple fault: the CPU shuts down and the
 * harness observes it (run with --expect-shutdown). */
#include "guest.h"

    .code32
    .text
    .globl test_main
test_main:
    PUTS "triple_fault: loading an empty IDT"
    lidt empty_idt
    int3
    PUTS "FAIL: still running after a triple fault"
    movl $1, %eax
    jmp guest_exit

    .data
    .align 4
    .word 0
empty_idt:
    .word 0
    .long 0
