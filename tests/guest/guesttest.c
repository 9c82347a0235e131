/* guesttest.c: anyvm-guesttest, a bare machine for the guest test programs in tests/guest/.
 *
 * Usage: anyvm-guesttest [--reset] [--expect-shutdown] [--max-insns N] [-d LOGITEMS] IMAGE
 *                        [LOADADDR]
 * Without --reset the flat binary IMAGE is copied to RAM at LOADADDR (default 0x8000) and the
 * CPU starts in real mode at 0000:LOADADDR. With --reset IMAGE (at most 64 KiB) is mapped as
 * ROM at the top of the 4 GiB space and at 0xF0000 below 1 MiB, and the CPU starts from its
 * RESET state at F000:FFF0.
 *
 * The machine: 32 MiB of RAM at 0, and four ports:
 *   0xE9   debug console: bytes written go to stdout;
 *   0x501  debug exit: writing V ends the run; V = 0 means the test passed (exit status 0),
 *          anything else is a failure code (exit status 1, V printed);
 *   0x510  interrupt injector: writing V (16 bits) raises INTR with vector V & 0xFF, or NMI
 *          when V = 0x100; INTR stays asserted until the CPU acknowledges it;
 *   0x92   bit 1 is the A20 gate (on after reset).
 * A triple fault ends the run: a pass with --expect-shutdown, a failure otherwise. So do HLT
 * with interrupts disabled and running out of the instruction budget (default 50 million).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cpu.h"
#include "translate/jit.h"

#define RAM_SIZE (32u << 20)

typedef struct Guest {
    uint8_t *ram;
    uint8_t *rom;
    MemMap mem;
    PortMap io;
    Logger log;
    CPUState *cpu;
    bool exited;
    uint32_t exit_value;
    bool triple;
    int pending_vector;   /* -1 when INTR is not asserted */
} Guest;

static uint64_t con_read(void *opaque, uint64_t addr, unsigned size)
{
    return 0xE9; /* Bochs' port E9 hack reads back E9 */
}

static void con_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    putchar((int)(val & 0xFF));
    fflush(stdout);
}

static const IOOps con_ops = {.read = con_read, .write = con_write, .max_access = 1};

static void exit_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    Guest *g = opaque;
    g->exited = true;
    g->exit_value = (uint32_t)val;
    cpu_exit_request(g->cpu);
}

static const IOOps exit_ops = {.write = exit_write, .max_access = 4};

static void inj_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    Guest *g = opaque;
    if (val == 0x100) {
        cpu_set_nmi(g->cpu);
        return;
    }
    g->pending_vector = (int)(val & 0xFF);
    cpu_set_irq(g->cpu, 1);
}

static const IOOps inj_ops = {.write = inj_write, .min_access = 2, .max_access = 2};

/* Port 92h, bit 1: the A20 gate, as on the PS/2 "fast A20" port. */
static uint64_t a20_read(void *opaque, uint64_t addr, unsigned size)
{
    Guest *g = opaque;
    return g->cpu->a20_enabled ? 2 : 0;
}

static void a20_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    Guest *g = opaque;
    cpu_set_a20(g->cpu, (val & 2) != 0);
}

static const IOOps a20_ops = {.read = a20_read, .write = a20_write, .max_access = 1};

static int guest_intr_ack(void *opaque)
{
    Guest *g = opaque;
    int v = g->pending_vector;
    g->pending_vector = -1;
    cpu_set_irq(g->cpu, 0);
    return v;
}

static void guest_triple(void *opaque)
{
    Guest *g = opaque;
    g->triple = true;
}

static uint8_t *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        return NULL;
    }
    size_t cap = 1 << 16, n = 0;
    uint8_t *buf = malloc(cap);
    while (buf) {
        if (n == cap) {
            uint8_t *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
        size_t r = fread(buf + n, 1, cap - n, f);
        if (r == 0) {
            break;
        }
        n += r;
    }
    fclose(f);
    *len = n;
    return buf;
}

static int usage(void)
{
    fprintf(stderr, "usage: anyvm-guesttest [--reset] [--expect-shutdown] [--max-insns N] [--accel interp|jit[,verify=on]] "
                    "[-d ITEMS] IMAGE [LOADADDR]\n");
    return 2;
}

int main(int argc, char **argv)
{
    bool reset = false, expect_shutdown = false;
    long long max_insns = 50000000;
    const char *image = NULL, *items = NULL, *accel = "interp";
    uint32_t load = 0x8000;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--reset")) {
            reset = true;
        } else if (!strcmp(argv[i], "--expect-shutdown")) {
            expect_shutdown = true;
        } else if (!strcmp(argv[i], "--max-insns") && i + 1 < argc) {
            max_insns = strtoll(argv[++i], NULL, 0);
        } else if (!strcmp(argv[i], "-d") && i + 1 < argc) {
            items = argv[++i];
        } else if (!strcmp(argv[i], "--accel") && i + 1 < argc) {
            accel = argv[++i];
        } else if (argv[i][0] == '-') {
            return usage();
        } else if (!image) {
            image = argv[i];
        } else {
            load = (uint32_t)strtoul(argv[i], NULL, 0);
        }
    }
    if (!image) {
        return usage();
    }

    Guest *g = calloc(1, sizeof(*g));
    g->cpu = calloc(1, sizeof(CPUState));
    g->ram = calloc(1, RAM_SIZE);
    g->rom = calloc(1, 0x10000);
    if (!g->cpu || !g->ram || !g->rom) {
        fprintf(stderr, "guesttest: out of memory\n");
        return 1;
    }
    g->pending_vector = -1;
    log_init(&g->log);
    if (items) {
        char err[128];
        if (log_parse_mask(&g->log, items, err, sizeof(err)) < 0) {
            fprintf(stderr, "guesttest: %s\n", err);
            return 2;
        }
    }
    memmap_init(&g->mem, &g->log);
    portmap_init(&g->io, &g->log);

    size_t len;
    uint8_t *img = read_file(image, &len);
    if (!img) {
        fprintf(stderr, "guesttest: cannot read %s\n", image);
        return 1;
    }
    int rc = mem_map_ram(&g->mem, "ram", 0, RAM_SIZE, g->ram, 0);
    if (rc >= 0 && reset) {
        if (len > 0x10000) {
            fprintf(stderr, "guesttest: a --reset image must be at most 64 KiB\n");
            return 1;
        }
        memcpy(g->rom + 0x10000 - len, img, len);
        rc = mem_map_rom(&g->mem, "rom-high", 0xFFFF0000u, 0x10000, g->rom, 0);
        if (rc >= 0) {
            rc = mem_map_rom(&g->mem, "rom-low", 0xF0000, 0x10000, g->rom, 1);
        }
    } else if (rc >= 0) {
        if (load >= RAM_SIZE || len > RAM_SIZE - load || (load & 0xF)) {
            fprintf(stderr, "guesttest: image does not fit at %#x\n", load);
            return 1;
        }
        memcpy(g->ram + load, img, len);
    }
    free(img);
    if (rc >= 0) {
        rc = port_map(&g->io, "console", 0xE9, 1, &con_ops, g);
    }
    if (rc >= 0) {
        rc = port_map(&g->io, "debug-exit", 0x501, 2, &exit_ops, g);
    }
    if (rc >= 0) {
        rc = port_map(&g->io, "irq-inject", 0x510, 2, &inj_ops, g);
    }
    if (rc >= 0) {
        rc = port_map(&g->io, "a20", 0x92, 1, &a20_ops, g);
    }
    if (rc < 0) {
        fprintf(stderr, "guesttest: machine setup failed (%d)\n", rc);
        return 1;
    }

    CPUState *cpu = g->cpu;
    cpu_init(cpu, &g->mem, &g->io, &g->log);
    cpu->hooks.intr_ack = guest_intr_ack;
    cpu->hooks.triple_fault = guest_triple;
    cpu->hooks.opaque = g;
    {
        /* --accel jit[,verify=on]: run under the JIT (translate/jit.c). */
        bool use_jit;
        JitOptions jo;
        char err[128];
        if (jit_parse_accel(accel, &use_jit, &jo, err, sizeof(err)) < 0) {
            fprintf(stderr, "guesttest: --accel: %s\n", err);
            return 2;
        }
        if (use_jit && x86_jit_enable(cpu, &jo) < 0) {
            fprintf(stderr, "guesttest: cannot enable the JIT\n");
            return 1;
        }
    }
    if (!reset) {
        for (int s = 0; s < S_NSEG; s++) {
            cpu_set_seg_real(cpu, s, 0);
        }
        cpu->eip = load;
        cpu->regs[R_ESP] = 0x7000;
    }

    const char *why = NULL;
    while (!g->exited) {
        if ((long long)cpu->icount >= max_insns) {
            why = "instruction budget exhausted";
            break;
        }
        CPUExit e = cpu_exec(cpu, 1000000);
        if (e == CPU_EXIT_SHUTDOWN) {
            break;
        }
        if (e == CPU_EXIT_HALT && !g->exited) {
            if (g->pending_vector >= 0 || cpu->nmi_pending) {
                continue; /* cannot happen with IF=0, but the CPU decides */
            }
            why = "HLT with nothing to wake it";
            break;
        }
    }
    fflush(stdout);
    int status;
    if (cpu->shutdown) {
        bool ok = expect_shutdown && g->triple;
        fprintf(stderr, "guesttest: shutdown (triple fault: %s) after %llu instructions: %s\n",
                g->triple ? "yes" : "no", (unsigned long long)cpu->icount,
                ok ? "PASS" : "FAIL");
        status = ok ? 0 : 1;
    } else if (g->exited) {
        bool ok = g->exit_value == 0 && !expect_shutdown;
        fprintf(stderr, "guesttest: exit %#x after %llu instructions: %s\n", g->exit_value,
                (unsigned long long)cpu->icount, ok ? "PASS" : "FAIL");
        status = ok ? 0 : 1;
    } else {
        fprintf(stderr, "guesttest: %s at %04x:%08x after %llu instructions: FAIL\n", why,
                cpu->seg[S_CS].sel, cpu->eip, (unsigned long long)cpu->icount);
        status = 1;
    }
    x86_tcache_free(cpu);
    free(cpu);
    free(g->ram);
    free(g->rom);
    free(g);
    return status;
}
