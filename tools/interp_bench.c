/* interp_bench.c: anyvm-interp-bench, guest MIPS of the reference interpreter on loop-heavy
 * real-mode code (an ALU/compare/branch inner loop, then REP MOVSB/STOSB over 64 KiB).
 *
 * Usage: anyvm-interp-bench [--accel interp|jit[,OPTIONS]] [OUTER_ITERATIONS]
 *        (default 16384 iterations: about 82M instructions; --accel jit measures the JIT)
 * Prints the instructions executed, the time and the rate for each kernel. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cpu.h"
#include "tools/bench_run.h"
#include "translate/jit.h"

#define RAM_SIZE (1u << 20)

int main(int argc, char **argv)
{
    const char *accel = "interp";
    if (argc > 2 && strcmp(argv[1], "--accel") == 0) {
        accel = argv[2];
        argc -= 2;
        argv += 2;
    }
    unsigned outer = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 0) : 0x4000;
    if (outer == 0 || outer > 0xFFFF) {
        fprintf(stderr, "usage: anyvm-interp-bench [--accel interp|jit] [OUTER_ITERATIONS "
                        "1..65535]\n");
        return 2;
    }
    uint8_t *ram = calloc(1, RAM_SIZE);
    CPUState *cpu = calloc(1, sizeof(*cpu));
    static Logger log;
    static MemMap mem;
    static PortMap io;
    if (!ram || !cpu) {
        return 2;
    }
    log_init(&log);
    memmap_init(&mem, &log);
    portmap_init(&io, &log);
    if (mem_map_ram(&mem, "ram", 0, RAM_SIZE, ram, 0) < 0) {
        return 2;
    }
    cpu_init(cpu, &mem, &io, &log);
    cpu_set_a20(cpu, true);
    bool use_jit;
    JitOptions jo;
    char err[128];
    if (jit_parse_accel(accel, &use_jit, &jo, err, sizeof(err)) < 0) {
        fprintf(stderr, "anyvm-interp-bench: --accel: %s\n", err);
        return 2;
    }
    if (use_jit && x86_jit_enable(cpu, &jo) < 0) {
        fprintf(stderr, "anyvm-interp-bench: cannot enable the JIT\n");
        return 2;
    }
    printf("accel: %s\n", accel);

    /* mov cx,OUTER; l1: mov si,0; l2: add ax,si; xor dx,ax; inc si; cmp si,1000; jne l2;
     * loop l1 */
    uint8_t alu[] = {0xB9, (uint8_t)outer, (uint8_t)(outer >> 8), 0xBE, 0x00, 0x00, 0x01, 0xF0,
                     0x31, 0xC2, 0x46, 0x81, 0xFE, 0xE8, 0x03, 0x75, 0xF5, 0xE2, 0xF0};
    /* mov ax,0x2000; mov es,ax; mov bx,64; l: xor si,si; xor di,di; mov cx,0xFFFF;
     * rep movsb; mov cx,0xFFFF; rep stosb; dec bx; jnz l */
    static const uint8_t str[] = {0xB8, 0x00, 0x20, 0x8E, 0xC0, 0xBB, 0x40, 0x00, 0x31, 0xF6,
                                  0x31, 0xFF, 0xB9, 0xFF, 0xFF, 0xF3, 0xA4, 0xB9, 0xFF, 0xFF,
                                  0xF3, 0xAA, 0x4B, 0x75, 0xEF};
    uint64_t n;
    double t = bench_run(cpu, ram, alu, sizeof(alu), 1ull << 32, &n);
    printf("alu loop:   %llu instructions in %.3f s = %.1f MIPS\n", (unsigned long long)n, t,
           (double)n / t / 1e6);
    t = bench_run(cpu, ram, str, sizeof(str), 1ull << 32, &n);
    printf("rep movs/stos: 64 x 2 x 64 KiB in %.3f s = %.0f MB/s\n", t,
           64.0 * 2 * 65535 / t / 1e6);
    if (use_jit) {
        x86_jit_print_stats(cpu, stdout);
    }
    x86_tcache_free(cpu);
    free(cpu);
    free(ram);
    return 0;
}
