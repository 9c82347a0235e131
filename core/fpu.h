/* fpu.h: the x87 register file and control state (semantics in core/fpu*.c, issue: x87). */
#ifndef ANYVM_CORE_FPU_H
#define ANYVM_CORE_FPU_H

#include <stdint.h>

/* Floatx80: an 80-bit extended-precision value as stored in memory: 64-bit significand with
 * explicit integer bit, 15-bit biased exponent and sign in se (bit 15). */
typedef struct Floatx80 {
    uint64_t sig;
    uint16_t se;
} Floatx80;

/* FPUState: the x87/MMX register file. st[i] is physical register i (not ST(i)); ST(i) is
 * st[(top + i) & 7]. MMX aliases the low 64 bits of each physical register. */
typedef struct FPUState {
    Floatx80 st[8];
    uint16_t fcw;       /* control word */
    uint16_t fsw;       /* status word without TOP */
    uint8_t top;
    uint16_t ftw;       /* full tag word: 2 bits per physical register (11 = empty) */
    uint16_t fop;       /* last non-control opcode (11 bits) */
    uint32_t fip, fdp;  /* last instruction and operand pointers */
    uint16_t fcs, fds;
} FPUState;

#endif
