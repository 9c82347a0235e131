/* triple_fault_real.S: the classic real-mode reset trick: IDTR limit 0, then INT 3: #GP,
 * #DF and the triple fault that shuts the CPU down (run with --expect-shutdown). */
#include "guest.h"

    .section .text.entry, "ax"
    .code16
    .globl _start
_start:
    xorw %ax, %ax
    movw %ax, %ds
    PUTS16 "triple_fault_real: loading an empty IVT"
    lidt empty_ivt
    int3
    PUTS16 "FAIL: still running after a triple fault"
    EXIT16 1

    .data
    .align 4
    .word 0
empty_ivt:
    .word 0
    .long 0
