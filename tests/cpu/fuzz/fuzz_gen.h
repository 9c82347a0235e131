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

/* FuzzCaseMeta: what the generator knows about a case beyond its bytes. */
typedef struct FuzzCaseMeta {
    unsigned n_marks;        /* instructions emitted (marks[i].off ascending) */
    FuzzMark marks[FUZZ_MAX_MARKS];
    FuzzMark final;          /* the state at the end stub (off = code_len) */
    bool has_outside;        /* a jump leaves the code on purpose (a fetch #PF) ... */
    FuzzMark outside;        /* ... arriving at this offset with this state */
} FuzzCaseMeta;

/* fuzz_gen_case: build case `index` of the run with `seed` into *in and *meta. */
void fuzz_gen_case(uint64_t seed, uint64_t index, FuzzCaseIn *in, FuzzCaseMeta *meta);

/* fuzz_meta_at: the undefined-state mark for the instruction starting at code offset off (or
 * the final mark at the end of the code). Returns NULL if no instruction starts there. */
const FuzzMark *fuzz_meta_at(const FuzzCaseMeta *meta, uint32_t off);

#endif
