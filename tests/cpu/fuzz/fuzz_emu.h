/* fuzz_emu.h: the emulated side of the differential fuzzer: one anyvm CPU in flat 32-bit
 * protected mode at CPL 3 that runs FuzzCaseIn records like the native runner does. */
#ifndef ANYVM_TESTS_FUZZ_EMU_H
#define ANYVM_TESTS_FUZZ_EMU_H

#include <stdbool.h>

#include "fuzz_case.h"

/* FUZZ_EMU_* vectors beyond the architectural ones: the emulator did not finish. */
enum {
    FUZZ_EMU_RUNAWAY = -2,   /* still at CPL 3 after the step limit */
    FUZZ_EMU_STUCK = -3,     /* an exception was delivered but its handler never halted */
    FUZZ_EMU_SHUTDOWN = -4,  /* triple fault */
};

typedef struct FuzzEmu FuzzEmu;

/* fuzz_emu_new: a CPU, a memory map with the windows and a system page (GDT, IDT, TSS,
 * exception handlers). block: run each case with one large cpu_exec budget (as the machine
 * loop does, so a JIT executes whole blocks) instead of one instruction per call; the
 * instruction count is then taken from icount. Returns NULL on allocation failure. Free with
 * fuzz_emu_free. */
FuzzEmu *fuzz_emu_new(bool block);

/* fuzz_emu_set_accel: run the cases under "interp" (default) or "jit[,options]" (see
 * translate/jit.h). Returns 0, or -1 after printing why to stderr. */
int fuzz_emu_set_accel(FuzzEmu *e, const char *accel);
void fuzz_emu_free(FuzzEmu *e);

/* fuzz_emu_run: run one case to its end stub or first exception; fills *out the way the
 * native runner does. Returns the number of guest instructions that completed. */
unsigned fuzz_emu_run(FuzzEmu *e, const FuzzCaseIn *in, FuzzCaseOut *out);

#endif
