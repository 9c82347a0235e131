/* x87_bench.c: anyvm-x87-bench, x87 and MMX throughput of the reference interpreter: guest
 * x87/MMX operations per second in real-mode loops (the approach of interp_bench.c).
 *
 * Usage: anyvm-x87-bench [OUTER]   (default 2000: 1000 inner iterations each; FSIN OUTER/50)
 * Kernels (GNU as, .code16, bytes below), each an inner LOOP of 1000 inside an outer DEC/JNZ:
 *   arith  fadd st,st1; fmul st,st1; fdiv st,st1; fsqrt        (register forms)
 *   mem    fld m64; fadd m64; fmul m32; fstp m64               (memory forms)
 *   fsin   fld st0; fsin; fstp st0                             (one FSIN per iteration)
 *   mmx    paddw; pmullw; pxor; psrlq imm                      (MMX)
 * Prints, per kernel, the guest instructions, the time, MIPS and x87/MMX operations per
 * second (the LOOP/DEC/JNZ overhead is counted in MIPS, not in the operation rate). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cpu.h"
#include "tools/bench_run.h"

#define RAM_SIZE (1u << 20)

typedef struct Kernel {
    const char *name;
    const uint8_t *code;
    size_t len;
    unsigned outer_off;   /* offset of the imm16 of "mov dx, OUTER" */
    unsigned ops;         /* x87/MMX operations per inner iteration */
    unsigned div;         /* OUTER is divided by this (FSIN is ~100x slower) */
    const char *unit;
} Kernel;

static const uint8_t k_arith[] = {
    0xDB, 0xE3, 0xDD, 0x06, 0x00, 0x20, 0xD9, 0xE8, 0xBA, 0x34, 0x12, 0xB9, 0xE8, 0x03,
    0xD8, 0xC1, 0xD8, 0xC9, 0xD8, 0xF1, 0xD9, 0xFA, 0xE2, 0xF6, 0x4A, 0x75, 0xF0,
};
static const uint8_t k_mem[] = {
    0xDB, 0xE3, 0xBA, 0x34, 0x12, 0xB9, 0xE8, 0x03, 0xDD, 0x06, 0x00, 0x20, 0xDC, 0x06,
    0x08, 0x20, 0xD8, 0x0E, 0x10, 0x20, 0xDD, 0x1E, 0x18, 0x20, 0xE2, 0xEE, 0x4A, 0x75, 0xE8,
};
static const uint8_t k_fsin[] = {
    0xDB, 0xE3, 0xDD, 0x06, 0x00, 0x20, 0xBA, 0x34, 0x12, 0xB9, 0xE8, 0x03, 0xD9, 0xC0,
    0xD9, 0xFE, 0xDD, 0xD8, 0xE2, 0xF8, 0x4A, 0x75, 0xF2,
};
static const uint8_t k_mmx[] = {
    0xDB, 0xE3, 0xBA, 0x34, 0x12, 0xB9, 0xE8, 0x03, 0x0F, 0xFD, 0xC1, 0x0F, 0xD5, 0xC2,
    0x0F, 0xEF, 0xD8, 0x0F, 0x73, 0xD3, 0x03, 0xE2, 0xF1, 0x4A, 0x75, 0xEB, 0x0F, 0x77,
};

static const Kernel kernels[] = {
    {"arith", k_arith, sizeof(k_arith), 9, 4, 1, "FADD/FMUL/FDIV/FSQRT"},
    {"mem", k_mem, sizeof(k_mem), 3, 4, 1, "FLD/FADD/FMUL/FSTP m"},
    {"fsin", k_fsin, sizeof(k_fsin), 7, 3, 50, "FLD/FSIN/FSTP"},
    {"mmx", k_mmx, sizeof(k_mmx), 3, 4, 1, "PADDW/PMULLW/PXOR/PSRLQ"},
};

int main(int argc, char **argv)
{
    unsigned outer = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 0) : 2000;
    if (outer == 0 || outer > 0xFFFF) {
        fprintf(stderr, "usage: anyvm-x87-bench [OUTER 1..65535]\n");
        return 2;
    }
    uint8_t *ram = calloc(1, RAM_SIZE);
    CPUState *cpu = calloc(1, sizeof(*cpu));
    Logger *log = calloc(1, sizeof(*log));
    MemMap *mem = calloc(1, sizeof(*mem));
    PortMap *io = calloc(1, sizeof(*io));
    if (!ram || !cpu || !log || !mem || !io) {
        return 2;
    }
    log_init(log);
    memmap_init(mem, log);
    portmap_init(io, log);
    if (mem_map_ram(mem, "ram", 0, RAM_SIZE, ram, 0) < 0) {
        return 2;
    }
    cpu_init(cpu, mem, io, log);
    cpu_set_a20(cpu, true);
    /* Operands: 1.0000001 (m64), 2.5 (m64), 0.75 (m32). */
    double x = 1.0000001, y = 2.5;
    float z = 0.75f;
    for (size_t k = 0; k < sizeof(kernels) / sizeof(kernels[0]); k++) {
        const Kernel *kn = &kernels[k];
        uint8_t code[64];
        unsigned o = outer / kn->div ? outer / kn->div : 1;
        memcpy(code, kn->code, kn->len);
        code[kn->outer_off] = (uint8_t)o;
        code[kn->outer_off + 1] = (uint8_t)(o >> 8);
        memcpy(ram + 0x2000, &x, 8);
        memcpy(ram + 0x2008, &y, 8);
        memcpy(ram + 0x2010, &z, 4);
        uint64_t n;
        double t = bench_run(cpu, ram, code, kn->len, 1ull << 34, &n);
        double ops = (double)kn->ops * 1000.0 * o;
        printf("%-6s %-24s %llu instructions in %.3f s = %.1f MIPS, %.2f M x87/MMX ops/s\n",
               kn->name, kn->unit, (unsigned long long)n, t, (double)n / t / 1e6,
               ops / t / 1e6);
    }
    x86_tcache_free(cpu);
    log_close(log);
    free(io);
    free(mem);
    free(log);
    free(cpu);
    free(ram);
    return 0;
}
