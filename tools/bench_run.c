/* bench_run.c: the real-mode kernel runner shared by anyvm-interp-bench and anyvm-x87-bench. */
#include "tools/bench_run.h"

#include <string.h>
#include <time.h>

double bench_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

double bench_run(CPUState *cpu, uint8_t *ram, const uint8_t *code, size_t len,
                 uint64_t max_insns, uint64_t *insns)
{
    memcpy(ram + 0x1000, code, len);
    ram[0x1000 + len] = 0xF4;
    /* A loader: the JIT drops what it translated from the previous kernel. */
    mem_notify_ram_write(cpu->mem, 0x1000, len + 1);
    for (int s = 0; s < S_NSEG; s++) {
        cpu_set_seg_real(cpu, s, 0);
    }
    cpu->regs[R_ESP] = 0x8000;
    cpu->eip = 0x1000;
    cpu->halted = false;
    uint64_t start = cpu->icount;
    double t0 = bench_now();
    while (!cpu->halted && !cpu->shutdown && cpu->icount - start < max_insns) {
        cpu_exec(cpu, 1 << 20);
    }
    double t = bench_now() - t0;
    *insns = cpu->icount - start;
    return t;
}
