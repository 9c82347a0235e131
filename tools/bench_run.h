/* bench_run.h: the real-mode kernel runner shared by anyvm-interp-bench and anyvm-x87-bench. */
#ifndef ANYVM_TOOLS_BENCH_RUN_H
#define ANYVM_TOOLS_BENCH_RUN_H

#include <stddef.h>
#include <stdint.h>

#include "core/cpu.h"

/* bench_now: monotonic seconds. */
double bench_now(void);

/* bench_run: load code at 0000:1000 in ram (followed by HLT), run it to the HLT but no more
 * than max_insns instructions; *insns gets the count. Returns the seconds it took. */
double bench_run(CPUState *cpu, uint8_t *ram, const uint8_t *code, size_t len,
                 uint64_t max_insns, uint64_t *insns);

#endif
