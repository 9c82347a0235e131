/* test_jit_verify.c: the JIT's lockstep mode (jit_verify.c) on a bare real-mode CPU: a block
 * that stores and then faults is rolled back, replayed and agrees; a block reading MMIO runs
 * once (the device sees each load once) and is counted as unverified; a block whose two runs
 * really differ (RDTSC on the host clock) is reported and stops the CPU. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/cpu.h"
#include "translate/jit.h"

#define RAM_SIZE (1u << 20)
#define CODE 0x1000u
#define HANDLER 0x0F00u
#define MMIO_BASE 0xA0000u

typedef struct Rig {
    Logger log;
    MemMap mem;
    PortMap io;
    Clock clock;
    uint8_t *ram;
    CPUState *cpu;
    unsigned mmio_reads;
} Rig;

static uint64_t mmio_read(void *opaque, uint64_t addr, unsigned size)
{
    Rig *r = opaque;
    (void)addr;
    (void)size;
    return ++r->mmio_reads;
}

static void mmio_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    (void)opaque;
    (void)addr;
    (void)val;
    (void)size;
}

static const IOOps mmio_ops = {.read = mmio_read, .write = mmio_write};

/* rig_new: 640 KiB of RAM, a counting MMIO page at A0000, real mode, every IVT vector at
 * 0000:0F00 (HLT), code at 0000:1000, stack at 0000:8000, the JIT in lockstep mode. */
static Rig *rig_new(const uint8_t *code, size_t len)
{
    Rig *r = calloc(1, sizeof(*r));
    cr_assert_not_null(r);
    r->ram = calloc(1, RAM_SIZE);
    r->cpu = calloc(1, sizeof(CPUState));
    cr_assert(r->ram && r->cpu);
    log_init(&r->log);
    memmap_init(&r->mem, &r->log);
    portmap_init(&r->io, &r->log);
    cr_assert_geq(mem_map_ram(&r->mem, "ram", 0, MMIO_BASE, r->ram, 0), 0);
    cr_assert_geq(mem_map_mmio(&r->mem, "counter", MMIO_BASE, 0x1000, &mmio_ops, r, 0), 0);
    cpu_init(r->cpu, &r->mem, &r->io, &r->log);
    cpu_set_a20(r->cpu, true);
    for (int v = 0; v < 256; v++) {
        r->ram[4 * v] = HANDLER & 0xFF;
        r->ram[4 * v + 1] = HANDLER >> 8;
    }
    r->ram[HANDLER] = 0xF4;
    memcpy(r->ram + CODE, code, len);
    for (int s = 0; s < S_NSEG; s++) {
        cpu_set_seg_real(r->cpu, s, 0);
    }
    r->cpu->eip = CODE;
    r->cpu->regs[R_ESP] = 0x8000;
    JitOptions o;
    jit_options_default(&o);
    o.verify = true;
    cr_assert_eq(x86_jit_enable(r->cpu, &o), 0);
    return r;
}

static void rig_free(Rig *r)
{
    x86_tcache_free(r->cpu);
    free(r->cpu);
    free(r->ram);
    free(r);
}

/* rig_run: execute until HLT (or budget). */
static void rig_run(Rig *r, int64_t budget)
{
    while (budget > 0 && !r->cpu->halted && !r->cpu->shutdown) {
        uint64_t before = r->cpu->icount;
        cpu_exec(r->cpu, budget);
        budget -= (int64_t)(r->cpu->icount - before);
        if (r->cpu->icount == before) {
            break;
        }
    }
}

Test(jit_verify, a_block_that_stores_then_faults_is_rolled_back_replayed_and_agrees)
{
    static const uint8_t code[] = {
        0xC7, 0x06, 0x00, 0x20, 0x34, 0x12, /* mov word [0x2000], 0x1234 */
        0x31, 0xDB,                         /* xor bx, bx */
        0xB8, 0x05, 0x00,                   /* mov ax, 5 */
        0xF7, 0xF3,                         /* div bx: #DE */
        0xF4,
    };
    Rig *r = rig_new(code, sizeof(code));
    rig_run(r, 1000);
    cr_assert(!x86_jit_verify_failed(r->cpu));
    cr_assert(r->cpu->halted);
    cr_assert_eq(r->cpu->eip, HANDLER + 1u, "eip %x", r->cpu->eip);
    cr_assert_eq(r->ram[0x2000] | r->ram[0x2001] << 8, 0x1234);
    /* #DE is a fault: the IP pushed is the DIV's. */
    cr_assert_eq(r->ram[0x8000 - 6] | r->ram[0x8000 - 5] << 8, CODE + 11u);
    cr_assert_eq(r->cpu->regs[R_EAX] & 0xFFFF, 5);
    cr_assert_geq(x86_jit_stats(r->cpu)->verified_blocks, 1);
    rig_free(r);
}

Test(jit_verify, a_block_reading_mmio_runs_once_and_is_not_replayed)
{
    static const uint8_t code[] = {
        0xB8, 0x00, 0xA0,       /* mov ax, 0xA000 */
        0x8E, 0xD8,             /* mov ds, ax */
        0xA0, 0x10, 0x00,       /* mov al, [0x10] */
        0x88, 0xC3,             /* mov bl, al */
        0xA0, 0x10, 0x00,       /* mov al, [0x10] */
        0xF4,
    };
    Rig *r = rig_new(code, sizeof(code));
    rig_run(r, 1000);
    cr_assert(!x86_jit_verify_failed(r->cpu));
    cr_assert(r->cpu->halted);
    /* Each load reached the device exactly once: a replay would have read it again. */
    cr_assert_eq(r->mmio_reads, 2);
    cr_assert_eq(r->cpu->regs[R_EBX] & 0xFF, 1);
    cr_assert_eq(r->cpu->regs[R_EAX] & 0xFF, 2);
    const JitStats *s = x86_jit_stats(r->cpu);
    cr_assert_geq(s->verify_skipped_mmio, 1);
    rig_free(r);
}

Test(jit_verify, rdtsc_on_the_host_clock_is_reported_as_a_mismatch)
{
    static const uint8_t code[] = {
        0x0F, 0x31, /* rdtsc */
        0xEB, 0x00, /* jmp to the next instruction: the block ends before the HLT */
        0xF4,
    };
    Rig *r = rig_new(code, sizeof(code));
    clock_init(&r->clock, CLOCK_HOST, 0);
    clock_start(&r->clock);
    r->cpu->clock = &r->clock;
    FILE *sink = tmpfile();
    cr_assert_not_null(sink);
    r->log.out = sink;
    rig_run(r, 1000);
    cr_assert(x86_jit_verify_failed(r->cpu));
    cr_assert(r->cpu->shutdown);
    cr_assert(!r->cpu->halted, "the machine stops at the mismatch, before the HLT");
    rewind(sink);
    char text[4096];
    size_t n = fread(text, 1, sizeof(text) - 1, sink);
    text[n] = '\0';
    cr_assert(strstr(text, "jit verify: MISMATCH") != NULL, "%s", text);
    cr_assert(strstr(text, "eax jit=") != NULL, "%s", text);
    fclose(sink);
    rig_free(r);
}
