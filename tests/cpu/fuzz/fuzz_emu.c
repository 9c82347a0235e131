/* fuzz_emu.c: the emulated side of the differential fuzzer.
 *
 * The guest is set up the way Linux runs a 32-bit process: flat 4 GiB segments, user code
 * selector 23h and data selector 2Bh at CPL 3, paging off (the windows are identity-mapped
 * RAM at the same addresses as in the native runner). A system page at 0x00800000 holds a GDT,
 * a 32-bit TSS whose ESP0 points at a ring-0 stack, and an IDT whose 32 interrupt gates lead to
 * one-byte HLT handlers at HANDLER_BASE + vector. Vectors 3 and 4 have DPL 3 gates like
 * Linux's, so INT3 and INTO reach them from CPL 3.
 *
 * Paging is on, as under Linux: page tables at PT_BASE map the code, data and stack regions
 * for user access and the system page for the supervisor only; the guard pages around the
 * regions are not present, so the page faults the generator provokes arrive as #PF with CR2 and
 * the same error code a Linux signal context reports.
 *
 * A case runs instruction by instruction (cpu_exec with a budget of 1) while the CPU stays at
 * CPL 3, or in block mode with one large budget. The end stub is HLT, which at CPL 3 raises #GP(0) exactly at the end address; any
 * other exception shows up as a delivery to ring 0. The handler halts, and the fault frame on
 * the ring-0 stack gives the user EIP, ESP and EFLAGS and the error code - the same values a
 * Linux signal handler sees in its ucontext.
 */
#include "fuzz_emu.h"

#include <stdlib.h>
#include <string.h>

#include "core/cpu.h"
#include "translate/jit.h"
#include "core/log.h"
#include "core/memmap.h"

#define SYS_BASE 0x00800000u
#define GDT_OFF 0x000u
#define IDT_OFF 0x100u
#define HANDLER_OFF 0x300u
#define TSS_OFF 0x400u
#define RING0_STACK_TOP 0x1000u     /* the ring-0 stack grows down from the page end */
#define HANDLER_BASE (SYS_BASE + HANDLER_OFF)
#define PT_BASE 0x00900000u         /* page directory, then the tables for PDE 1 and 2 */
#define PT_SIZE (3 * FUZZ_PAGE)

#define SEL_KCODE 0x08
#define SEL_KDATA 0x10
#define SEL_TSS 0x18
#define SEL_UCODE 0x23
#define SEL_UDATA 0x2B

#define STEP_LIMIT 20000

/* Descriptor attribute words in SegCache.flags form (see core/cpu.h). */
#define ATTR_CODE (SEGF_P | SEGF_S | SEGF_DB | SEGF_G | 0xB)
#define ATTR_DATA (SEGF_P | SEGF_S | SEGF_DB | SEGF_G | 0x3)
#define ATTR_TSS (SEGF_P | 0x9)

struct FuzzEmu {
    Logger log;
    MemMap mem;
    PortMap io;
    uint8_t *code, *data, *stack, *sys, *pt;
    bool block;
    CPUState cpu;
};

static void put32(uint8_t *p, uint32_t v)
{
    memcpy(p, &v, 4);
}

static uint32_t get32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

/* put_desc: a segment descriptor for base/limit (byte-granular limit when !G) with attr. */
static void put_desc(uint8_t *p, uint32_t base, uint32_t limit, uint16_t attr)
{
    uint32_t raw = (attr & SEGF_G) ? limit >> 12 : limit;
    uint32_t lo = (raw & 0xFFFF) | (base & 0xFFFF) << 16;
    uint32_t hi = ((base >> 16) & 0xFF) | (uint32_t)(attr & 0xF0FF) << 8 | (raw & 0xF0000) |
                  (base & 0xFF000000u);
    put32(p, lo);
    put32(p + 4, hi);
}

static void set_seg(SegCache *s, uint16_t sel, uint16_t attr)
{
    s->sel = sel;
    s->base = 0;
    s->limit = 0xFFFFFFFFu;
    s->flags = attr | SEGF_ACCESSED;
}

static void build_sys_page(uint8_t *sys)
{
    memset(sys, 0, FUZZ_PAGE);
    uint8_t *gdt = sys + GDT_OFF;
    put_desc(gdt + SEL_KCODE, 0, 0xFFFFFFFFu, ATTR_CODE);
    put_desc(gdt + SEL_KDATA, 0, 0xFFFFFFFFu, ATTR_DATA);
    put_desc(gdt + SEL_TSS, SYS_BASE + TSS_OFF, 0x67, ATTR_TSS | 0x2); /* busy */
    put_desc(gdt + (SEL_UCODE & ~3), 0, 0xFFFFFFFFu, ATTR_CODE | 0x60);
    put_desc(gdt + (SEL_UDATA & ~3), 0, 0xFFFFFFFFu, ATTR_DATA | 0x60);
    for (uint32_t v = 0; v < 32; v++) {
        uint32_t off = HANDLER_BASE + v;
        uint32_t dpl = (v == 3 || v == 4) ? 3 : 0;
        put32(sys + IDT_OFF + 8 * v, (off & 0xFFFF) | (uint32_t)SEL_KCODE << 16);
        put32(sys + IDT_OFF + 8 * v + 4, (off & 0xFFFF0000u) | 0x8000u | dpl << 13 | 0xE00u);
        sys[HANDLER_OFF + v] = 0xF4; /* HLT */
    }
    uint8_t *tss = sys + TSS_OFF;
    put32(tss + 4, SYS_BASE + RING0_STACK_TOP); /* ESP0 */
    put32(tss + 8, SEL_KDATA);                   /* SS0 */
    put32(tss + 0x64, 0x0068u << 16);            /* I/O map base beyond the limit: no bitmap */
}

/* build_page_tables: identity maps for the three regions (user, writable) and the system page
 * (supervisor); everything else, the guard pages included, is not present. */
static void build_page_tables(uint8_t *pt)
{
    enum { P = 1, RW = 2, US = 4 };
    memset(pt, 0, PT_SIZE);
    put32(pt + 4 * 1, (PT_BASE + FUZZ_PAGE) | P | RW | US);
    put32(pt + 4 * 2, (PT_BASE + 2 * FUZZ_PAGE) | P | RW | US);
    static const uint32_t regions[3] = {FUZZ_CODE_REGION, FUZZ_DATA_REGION, FUZZ_STACK_REGION};
    for (int r = 0; r < 3; r++) {
        for (uint32_t a = regions[r]; a < regions[r] + FUZZ_REGION_SIZE; a += FUZZ_PAGE) {
            put32(pt + FUZZ_PAGE + 4 * ((a >> 12) & 0x3FF), a | P | RW | US);
        }
    }
    put32(pt + 2 * FUZZ_PAGE + 4 * ((SYS_BASE >> 12) & 0x3FF), SYS_BASE | P | RW);
}

FuzzEmu *fuzz_emu_new(bool block)
{
    FuzzEmu *e = calloc(1, sizeof(*e));
    if (!e) {
        return NULL;
    }
    e->block = block;
    e->code = calloc(1, FUZZ_REGION_SIZE);
    e->data = calloc(1, FUZZ_REGION_SIZE);
    e->stack = calloc(1, FUZZ_REGION_SIZE);
    e->sys = calloc(1, FUZZ_PAGE);
    e->pt = calloc(1, PT_SIZE);
    log_init(&e->log);
    memmap_init(&e->mem, &e->log);
    portmap_init(&e->io, &e->log);
    if (!e->code || !e->data || !e->stack || !e->sys || !e->pt ||
        mem_map_ram(&e->mem, "fuzz-code", FUZZ_CODE_REGION, FUZZ_REGION_SIZE, e->code, 0) < 0 ||
        mem_map_ram(&e->mem, "fuzz-data", FUZZ_DATA_REGION, FUZZ_REGION_SIZE, e->data, 0) < 0 ||
        mem_map_ram(&e->mem, "fuzz-stack", FUZZ_STACK_REGION, FUZZ_REGION_SIZE, e->stack,
                    0) < 0 ||
        mem_map_ram(&e->mem, "fuzz-sys", SYS_BASE, FUZZ_PAGE, e->sys, 0) < 0 ||
        mem_map_ram(&e->mem, "fuzz-pt", PT_BASE, PT_SIZE, e->pt, 0) < 0) {
        fuzz_emu_free(e);
        return NULL;
    }
    build_sys_page(e->sys);
    build_page_tables(e->pt);
    cpu_init(&e->cpu, &e->mem, &e->io, &e->log);
    return e;
}

int fuzz_emu_set_accel(FuzzEmu *e, const char *accel)
{
    bool use_jit;
    JitOptions jo;
    char err[128];
    if (jit_parse_accel(accel, &use_jit, &jo, err, sizeof(err)) < 0) {
        fprintf(stderr, "anyvm-fuzz: --accel: %s\n", err);
        return -1;
    }
    if (use_jit && x86_jit_enable(&e->cpu, &jo) < 0) {
        fprintf(stderr, "anyvm-fuzz: cannot enable the JIT\n");
        return -1;
    }
    return 0;
}

void fuzz_emu_free(FuzzEmu *e)
{
    if (!e) {
        return;
    }
    x86_tcache_free(&e->cpu);
    free(e->code);
    free(e->data);
    free(e->stack);
    free(e->sys);
    free(e->pt);
    log_close(&e->log);
    free(e);
}

/* load_state: flat protected mode at CPL 3 with the case's registers. */
static void load_state(FuzzEmu *e, const FuzzCaseIn *in)
{
    CPUState *cpu = &e->cpu;
    memcpy(cpu->regs, in->regs, sizeof(cpu->regs));
    cpu->eip = FUZZ_CODE_BASE;
    cpu->eflags = 0x2u | EF_IF | (in->eflags & FZ_COMPARED);
    cpu->cc_op = CC_OP_EFLAGS;
    cpu->cr0 = CR0_PE | CR0_ET | CR0_NE | CR0_PG;
    cpu->cr3 = PT_BASE;
    cpu->cr2 = 0;
    cpu->gdtr.base = SYS_BASE + GDT_OFF;
    cpu->gdtr.limit = 0x2F;
    cpu->idtr.base = SYS_BASE + IDT_OFF;
    cpu->idtr.limit = 32 * 8 - 1;
    cpu->tr.sel = SEL_TSS;
    cpu->tr.base = SYS_BASE + TSS_OFF;
    cpu->tr.limit = 0x67;
    cpu->tr.flags = ATTR_TSS | 0x2;
    cpu->ldtr.sel = 0;
    cpu->ldtr.base = 0;
    cpu->ldtr.limit = 0;
    cpu->ldtr.flags = 0;
    set_seg(&cpu->seg[S_CS], SEL_UCODE, ATTR_CODE | 0x60);
    set_seg(&cpu->seg[S_SS], SEL_UDATA, ATTR_DATA | 0x60);
    set_seg(&cpu->seg[S_DS], SEL_UDATA, ATTR_DATA | 0x60);
    set_seg(&cpu->seg[S_ES], SEL_UDATA, ATTR_DATA | 0x60);
    set_seg(&cpu->seg[S_FS], SEL_UDATA, ATTR_DATA | 0x60);
    set_seg(&cpu->seg[S_GS], SEL_UDATA, ATTR_DATA | 0x60);
    cpu->cpl = 3;
    cpu->halted = false;
    cpu->shutdown = false;
    cpu->inhibit_irq = false;
    cpu->exc_depth = 0;
    cpu->last_exc = -1;
    cpu->a20_mask = 0xFFFFFFFFu;
    cpu_update_mode(cpu);
}

/* has_error_code: the exceptions that push one (SDM Vol. 3, 6.13). */
static bool has_error_code(int v)
{
    return v == EXC_DF || (v >= EXC_TS && v <= EXC_PF) || v == EXC_AC;
}

/* edge_ptr: host address of edge i (fuzz_case.h) inside the data or stack region buffer. */
static uint8_t *edge_ptr(FuzzEmu *e, int i)
{
    uint32_t a = fuzz_edge_base[i];
    if (a >= FUZZ_STACK_REGION) {
        return e->stack + (a - FUZZ_STACK_REGION);
    }
    return e->data + (a - FUZZ_DATA_REGION);
}

unsigned fuzz_emu_run(FuzzEmu *e, const FuzzCaseIn *in, FuzzCaseOut *out)
{
    CPUState *cpu = &e->cpu;
    uint32_t len = in->code_len;
    if (len > FUZZ_CODE_MAX - FUZZ_END_STUB_LEN) {
        len = FUZZ_CODE_MAX - FUZZ_END_STUB_LEN;
    }
    uint8_t *code = e->code + (FUZZ_CODE_BASE - FUZZ_CODE_REGION);
    uint8_t *data = e->data + (FUZZ_DATA_BASE - FUZZ_DATA_REGION);
    uint8_t *stack = e->stack + (FUZZ_STACK_BASE - FUZZ_STACK_REGION);
    memcpy(code, in->code, len);
    code[len] = 0xF4; /* HLT: #GP(0) at CPL 3 marks the end */
    memcpy(data, in->data, FUZZ_DATA_SIZE);
    memcpy(stack, in->stack, FUZZ_STACK_SIZE);
    for (int i = 0; i < FUZZ_NEDGES; i++) {
        memcpy(edge_ptr(e, i), in->edge[i], FUZZ_EDGE_SIZE);
    }
    x86_tcache_invalidate_phys(cpu, FUZZ_CODE_REGION, FUZZ_REGION_SIZE);
    load_state(e, in);

    unsigned steps = 0;
    if (e->block) {
        /* One budget for the whole case: it ends halted in an exception handler. The fault
         * that ends it and the handler's HLT are counted by icount too. */
        uint64_t start = cpu->icount;
        cpu_exec(cpu, STEP_LIMIT);
        uint64_t n = cpu->icount - start;
        steps = n >= 2 ? (unsigned)(n - 2) : 0;
    } else {
        while (cpu->cpl == 3 && steps < STEP_LIMIT && !cpu->shutdown) {
            cpu_exec(cpu, 1);
            if (cpu->cpl == 3 && !cpu->shutdown) {
                steps++;
            }
        }
    }
    memset(out, 0, sizeof(*out));
    memcpy(out->regs, cpu->regs, sizeof(out->regs));
    memcpy(out->data, data, FUZZ_DATA_SIZE);
    memcpy(out->stack, stack, FUZZ_STACK_SIZE);
    for (int i = 0; i < FUZZ_NEDGES; i++) {
        memcpy(out->edge[i], edge_ptr(e, i), FUZZ_EDGE_SIZE);
    }
    out->eip = cpu->eip;
    out->eflags = cpu_get_eflags(cpu);
    if (cpu->shutdown) {
        out->vector = FUZZ_EMU_SHUTDOWN;
        return steps;
    }
    if (cpu->cpl == 3) {
        out->vector = FUZZ_EMU_RUNAWAY;
        return steps;
    }
    for (int i = 0; i < 8 && !cpu->halted && !cpu->shutdown; i++) {
        cpu_exec(cpu, 1);
    }
    uint32_t h = cpu->eip - 1 - HANDLER_BASE;
    if (!cpu->halted || h >= 32) {
        out->vector = cpu->shutdown ? FUZZ_EMU_SHUTDOWN : FUZZ_EMU_STUCK;
        return steps;
    }
    int vec = (int)h;
    uint32_t sp = cpu->regs[R_ESP];
    if (sp < SYS_BASE + 0x800 || sp > SYS_BASE + RING0_STACK_TOP - 20) {
        out->vector = FUZZ_EMU_STUCK;
        return steps;
    }
    const uint8_t *frame = e->sys + (sp - SYS_BASE);
    if (has_error_code(vec)) {
        out->err = get32(frame);
        frame += 4;
    }
    out->eip = get32(frame);
    out->eflags = get32(frame + 8);
    out->regs[R_ESP] = get32(frame + 12);
    out->vector = vec;
    if (vec == EXC_PF) {
        out->cr2 = cpu->cr2;
    }
    if (vec == EXC_GP && out->eip == FUZZ_CODE_BASE + len && out->err == 0) {
        /* The end stub: report the state as the native PUSHFD sees it (no fault RF). */
        out->vector = FUZZ_NO_EXC;
        out->eflags &= ~(uint32_t)EF_RF;
    }
    return steps;
}
