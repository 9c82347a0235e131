/* interp_harness.h: a bare real-mode CPU with 1 MiB of RAM for the interpreter unit tests.
 *
 * th_run() places code (followed by HLT) at 0000:1000, points every interrupt vector n at
 * its own HLT at F000:(0x100 + n), runs until the CPU halts, and returns the vector that was
 * taken, or -1 when the code reached its final HLT normally. */
#ifndef ANYVM_TESTS_CPU_INTERP_HARNESS_H
#define ANYVM_TESTS_CPU_INTERP_HARNESS_H

#include <stdlib.h>
#include <string.h>

#include "core/cpu.h"

#define TH_RAM (1u << 20)
#define TH_CODE 0x1000u
#define TH_VEC_BASE 0x100u

typedef struct Harness {
    uint8_t *ram;
    MemMap mem;
    PortMap io;
    Logger log;
    CPUState *cpu;
} Harness;

static inline Harness *th_new(void)
{
    Harness *h = calloc(1, sizeof(*h));
    h->ram = calloc(1, TH_RAM);
    h->cpu = calloc(1, sizeof(CPUState));
    log_init(&h->log);
    memmap_init(&h->mem, &h->log);
    portmap_init(&h->io, &h->log);
    if (mem_map_ram(&h->mem, "ram", 0, TH_RAM, h->ram, 0) < 0) {
        abort();
    }
    cpu_init(h->cpu, &h->mem, &h->io, &h->log);
    CPUState *cpu = h->cpu;
    cpu->a20_mask = 0xFFFFFFFFu;
    for (int s = 0; s < S_NSEG; s++) {
        cpu_set_seg_real(cpu, s, 0);
    }
    cpu->regs[R_ESP] = 0x8000;
    cpu->eip = TH_CODE;
    cpu_set_eflags(cpu, 0, 0xFFFFFFFFu);
    for (int v = 0; v < 256; v++) {
        h->ram[4 * v] = (uint8_t)(TH_VEC_BASE + v);
        h->ram[4 * v + 1] = (uint8_t)((TH_VEC_BASE + v) >> 8);
        h->ram[4 * v + 2] = 0x00;
        h->ram[4 * v + 3] = 0xF0;
        h->ram[0xF0000 + TH_VEC_BASE + v] = 0xF4;
    }
    return h;
}

static inline void th_free(Harness *h)
{
    x86_tcache_free(h->cpu);
    free(h->cpu);
    free(h->ram);
    free(h);
}

/* th_run: run code (len bytes) to its trailing HLT; returns the vector taken or -1. */
static inline int th_run(Harness *h, const void *code, size_t len)
{
    CPUState *cpu = h->cpu;
    memcpy(h->ram + TH_CODE, code, len);
    h->ram[TH_CODE + len] = 0xF4;
    cpu->eip = TH_CODE;
    cpu->halted = false;
    for (int i = 0; i < 1000 && !cpu->halted; i++) {
        CPUExit e = cpu_exec(cpu, 100000);
        if (e == CPU_EXIT_HALT || e == CPU_EXIT_SHUTDOWN) {
            break;
        }
    }
    if (cpu->seg[S_CS].sel == 0xF000) {
        return (int)(cpu->eip - 1 - TH_VEC_BASE);
    }
    return -1;
}

static inline uint32_t th_flags(Harness *h)
{
    return cpu_get_eflags(h->cpu);
}

#endif
