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

/* Two-bit tags as FSTENV/FSAVE store them. */
enum { FPU_TAG_VALID = 0, FPU_TAG_ZERO = 1, FPU_TAG_SPECIAL = 2, FPU_TAG_EMPTY = 3 };

/* FSW bits. */
enum {
    FSW_IE = 0x0001, FSW_DE = 0x0002, FSW_ZE = 0x0004, FSW_OE = 0x0008, FSW_UE = 0x0010,
    FSW_PE = 0x0020, FSW_SF = 0x0040, FSW_ES = 0x0080, FSW_C0 = 0x0100, FSW_C1 = 0x0200,
    FSW_C2 = 0x0400, FSW_TOP = 0x3800, FSW_C3 = 0x4000, FSW_B = 0x8000,
};

/* fpu_reset: the power-on (RESET) state. */
void fpu_reset(FPUState *f);

/* fpu_finit: FNINIT. */
void fpu_finit(FPUState *f);

/* fpu_tag_of: the tag a value gets when written to a register. */
unsigned fpu_tag_of(Floatx80 v);

#endif
