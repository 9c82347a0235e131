/* fuzz_gen.h: the random IA-32 test-case generator of the differential fuzzer.
 *
 * A case is a pure function of (seed, index): the same pair always gives the same registers,
 * windows and code, so one failing case reproduces on its own. The generator tracks, per
 * emitted instruction, which arithmetic flags and which registers hold architecturally
 * undefined values at that point (FuzzMark); the comparison masks exactly those.
 */
#ifndef ANYVM_TESTS_FUZZ_GEN_H
#define ANYVM_TESTS_FUZZ_GEN_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "fuzz_case.h"

#define FUZZ_MAX_MARKS 256

/* FuzzMark: the state before the instruction at code offset `off`. */
typedef struct FuzzMark {
    uint16_t off;
    uint8_t undef_regs;      /* bit r: register r (ModRM numbering) is undefined */
    uint8_t essential;       /* a control transfer or its setup, or self-modifying code:
                                replacing it by NOPs could run junk bytes */
    uint32_t undef_flags;    /* FZ_* bits that are undefined */
} FuzzMark;

/* FuzzDataRule: a part of the data or stack window that is not compared bit for bit. */
typedef struct FuzzDataRule {
    uint32_t addr;           /* guest address inside the data or stack window */
    uint16_t len;            /* bytes (FUZZ_RULE_IGNORE) */
    uint8_t kind;            /* FUZZ_RULE_* */
    uint8_t mask;            /* FUZZ_RULE_BITS: the bits of the byte at addr not compared */
} FuzzDataRule;
enum {
    FUZZ_RULE_IGNORE,        /* len bytes are not compared (written only by the host) */
    FUZZ_RULE_BITS,          /* some bits of one byte are not compared */
    FUZZ_RULE_ULP80,         /* an 80-bit value compared within 1 ulp (transcendentals) */
    FUZZ_RULE_FXPTRS,        /* FXSAVE image at addr: FOP/FIP/FDP only when FSW.ES = 1 */
    FUZZ_RULE_ENVPTRS,       /* FNSTENV/FNSAVE image (len 28 or 14): pointers the host
                                zeroed (context switch with ES = 0) are not compared */
};
#define FUZZ_MAX_RULES 80

/* FuzzCaseMeta: what the generator knows about a case beyond its bytes. */
typedef struct FuzzCaseMeta {
    unsigned n_marks;        /* instructions emitted (marks[i].off ascending) */
    FuzzMark marks[FUZZ_MAX_MARKS];
    FuzzMark final;          /* the state at the end stub (off = code_len) */
    bool has_outside;        /* a jump leaves the code on purpose (a fetch #PF) ... */
    FuzzMark outside;        /* ... arriving at this offset with this state */
    /* x87 mode only (zero for integer cases): how parts of the windows are compared. */
    unsigned n_rules;
    FuzzDataRule rules[FUZZ_MAX_RULES];
    unsigned fp_ops;         /* x87/MMX instructions emitted */
} FuzzCaseMeta;

/* fuzz_gen_case: build case `index` of the run with `seed` into *in and *meta. */
void fuzz_gen_case(uint64_t seed, uint64_t index, FuzzCaseIn *in, FuzzCaseMeta *meta);

/* fuzz_gen_x87_case: build case `index` of an x87/MMX run (anyvm-fuzz --x87) with `seed`:
 * random x87 and MMX sequences over special operands, framed by FXRSTOR of a random initial
 * FPU state and FXSAVE/FNSTENV of the final one into the windows (fuzz_gen_x87.c). */
void fuzz_gen_x87_case(uint64_t seed, uint64_t index, FuzzCaseIn *in, FuzzCaseMeta *meta);

/* fuzz_apply_rules: make the parts of emu that meta's rules allow to differ equal to nat
 * (bits and bytes not compared; 80-bit values within 1 ulp). Returns how many ULP80 values
 * differed within the bound. */
unsigned fuzz_apply_rules(const FuzzCaseMeta *meta, const FuzzCaseOut *nat, FuzzCaseOut *emu);

/* fuzz_print_fpu: the x87 state in the FXSAVE image of an x87 case's data window. */
void fuzz_print_fpu(FILE *f, const char *who, const uint8_t *data);

/* fuzz_print_x87_inputs: an x87 case's initial FPU state and operand pool. */
void fuzz_print_x87_inputs(FILE *f, const FuzzCaseIn *in);

/* fuzz_x87_epilogue: the bytes of FXSAVE [fx]; FNSTENV [env] (13) into buf; returns the
 * length. Used to cut an x87 case after any instruction and look at the state there. */
unsigned fuzz_x87_epilogue(uint8_t *buf);

/* fuzz_meta_at: the undefined-state mark for the instruction starting at code offset off (or
 * the final mark at the end of the code). Returns NULL if no instruction starts there. */
const FuzzMark *fuzz_meta_at(const FuzzCaseMeta *meta, uint32_t off);

#endif
