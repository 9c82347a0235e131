/* test_jit_mode.c: the JIT's mode-specialised blocks (TBF_FLAT, TBF_AC) on a protected-mode
 * CPU with a GDT, an IDT and a TSS: the same code with flat and non-flat data segments (base,
 * limit, read-only, expand-down, a wrap past 4 GiB) and at CPL 3 with and without alignment
 * checking gives the interpreter's results and faults; a segment load or POPF in the middle of
 * a loop of chained blocks takes effect at once; and the jump-cache probe in host code
 * computes the same mode bits as the C lookup. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "core/cpu.h"
#include "translate/jit.h"

#define RAM_SIZE (1u << 20)
#define CODE 0x1000u
#define IDT 0x0800u     /* 32 interrupt gates to the stubs */
#define GDT 0x0A00u
#define TSS 0x0B00u
#define STUBS 0x0C00u   /* vector v: mov dl, v; hlt at STUBS + 4 * v */
#define STACK3 0x8000u  /* ESP at CPL 3 */
#define STACK0 0x9000u  /* ESP0 of the TSS, and ESP at CPL 0 */

/* Selectors of the GDT below. */
enum {
    SEL_CODE0 = 0x08, SEL_DATA0 = 0x10, SEL_CODE3 = 0x1B, SEL_DATA3 = 0x23,
    SEL_BASE2000 = 0x2B,   /* DPL 3 data, base 2000h, 4 GiB */
    SEL_READONLY = 0x33,   /* DPL 3 read-only data, base 0, 4 GiB */
    SEL_LIMIT5005 = 0x3B,  /* DPL 3 data, base 0, byte limit 5005h */
    SEL_EXPDOWN = 0x43,    /* DPL 3 expand-down data, limit 4FFFh, B=1 */
};

static const uint64_t gdt[] = {
    0,
    0x00CF9A000000FFFFull, /* 08 code, DPL 0 */
    0x00CF92000000FFFFull, /* 10 data, DPL 0 */
    0x00CFFA000000FFFFull, /* 18 code, DPL 3 */
    0x00CFF2000000FFFFull, /* 20 data, DPL 3 */
    0x00CFF2002000FFFFull, /* 28 data, base 2000h */
    0x00CFF0000000FFFFull, /* 30 read-only data */
    0x0040F20000005005ull, /* 38 data, limit 5005h */
    0x0040F60000004FFFull, /* 40 expand-down data */
};

typedef struct Rig {
    Logger log;
    MemMap mem;
    PortMap io;
    uint8_t *ram;
    uint8_t *top;       /* RAM at FFFFF000h (two pages allocated, one mapped) */
    CPUState *cpu;
} Rig;

static uint32_t rd32(const Rig *r, uint32_t a)
{
    uint32_t v;
    cr_assert_lt(a, RAM_SIZE - 4);
    memcpy(&v, r->ram + a, 4);
    return v;
}

static void wr32(Rig *r, uint32_t a, uint32_t v)
{
    memcpy(r->ram + a, &v, 4);
}

/* set_seg: load seg's cache from the GDT entry of sel, as a checked load would. */
static void set_seg(CPUState *cpu, int seg, uint16_t sel)
{
    uint64_t d = gdt[sel >> 3];
    uint32_t lo = (uint32_t)d, hi = (uint32_t)(d >> 32);
    SegCache *s = &cpu->seg[seg];
    s->sel = sel;
    s->base = (lo >> 16) | ((hi & 0xFF) << 16) | (hi & 0xFF000000u);
    s->limit = (lo & 0xFFFF) | (hi & 0xF0000);
    if (hi & (1u << 23)) {
        s->limit = (s->limit << 12) | 0xFFF;
    }
    s->flags = (uint16_t)((hi >> 8) & 0xF0FF);
}

/* rig_new: 1 MiB of RAM, 32-bit protected mode at cpl with code at CODE (CS 08h or 1Bh),
 * ES/SS/DS as given, ESP = STACK0 or STACK3, and every exception vector v going to a CPL-0
 * stub that sets DL = v and halts. With the JIT when jit. */
static Rig *rig_new(bool jit, int cpl, const uint8_t *code, size_t len, uint16_t es,
                    uint16_t ss, uint16_t ds)
{
    Rig *r = calloc(1, sizeof(*r));
    cr_assert_not_null(r);
    r->ram = calloc(1, RAM_SIZE);
    r->top = calloc(1, 8192);
    r->cpu = calloc(1, sizeof(CPUState));
    cr_assert(r->ram && r->top && r->cpu);
    log_init(&r->log);
    memmap_init(&r->mem, &r->log);
    portmap_init(&r->io, &r->log);
    cr_assert_geq(mem_map_ram(&r->mem, "ram", 0, RAM_SIZE, r->ram, 0), 0);
    cr_assert_geq(mem_map_ram(&r->mem, "top", 0xFFFFF000u, 4096, r->top, 0), 0);
    for (int k = 0; k < 4096; k++) {
        r->top[k] = (uint8_t)(k * 7 + 1);
    }
    CPUState *cpu = r->cpu;
    cpu_init(cpu, &r->mem, &r->io, &r->log);
    cpu_set_a20(cpu, true);
    memcpy(r->ram + GDT, gdt, sizeof(gdt));
    for (uint32_t v = 0; v < 32; v++) {
        uint32_t stub = STUBS + 4 * v;
        r->ram[stub] = 0xB2; /* mov dl, v */
        r->ram[stub + 1] = (uint8_t)v;
        r->ram[stub + 2] = 0xF4;
        wr32(r, IDT + 8 * v, (stub & 0xFFFF) | (SEL_CODE0 << 16));
        wr32(r, IDT + 8 * v + 4, (stub & 0xFFFF0000u) | 0x8E00); /* 32-bit interrupt gate */
    }
    wr32(r, TSS + 4, STACK0);
    wr32(r, TSS + 8, SEL_DATA0);
    memcpy(r->ram + CODE, code, len);
    cpu->gdtr.base = GDT;
    cpu->gdtr.limit = sizeof(gdt) - 1;
    cpu->idtr.base = IDT;
    cpu->idtr.limit = 32 * 8 - 1;
    cpu->tr.sel = 0x48;
    cpu->tr.base = TSS;
    cpu->tr.limit = 0x67;
    cpu->tr.flags = SEGF_P | 0xB;
    cpu->cr0 |= CR0_PE;
    cpu->cpl = cpl;
    set_seg(cpu, S_CS, cpl == 3 ? SEL_CODE3 : SEL_CODE0);
    set_seg(cpu, S_ES, es);
    set_seg(cpu, S_SS, ss);
    set_seg(cpu, S_DS, ds);
    set_seg(cpu, S_FS, cpl == 3 ? SEL_DATA3 : SEL_DATA0);
    set_seg(cpu, S_GS, cpl == 3 ? SEL_DATA3 : SEL_DATA0);
    cpu->eip = CODE;
    cpu->regs[R_ESP] = cpl == 3 ? STACK3 : STACK0;
    if (jit) {
        JitOptions o;
        jit_options_default(&o);
        o.verify = false;
        cr_assert_eq(x86_jit_enable(cpu, &o), 0);
    }
    return r;
}

static void rig_free(Rig *r)
{
    x86_tcache_free(r->cpu);
    free(r->cpu);
    free(r->ram);
    free(r->top);
    free(r);
}

/* rig_run: until HLT (in a stub, or at the end of CPL-0 code). */
static void rig_run(Rig *r)
{
    uint64_t start = r->cpu->icount;
    while (!r->cpu->halted && !r->cpu->shutdown && r->cpu->icount - start < 1000000) {
        cpu_exec(r->cpu, 1 << 16);
    }
    cr_assert(r->cpu->halted, "the program did not halt");
}

/* assert_same: the JIT rig ended in the interpreter rig's state. */
static void assert_same(Rig *a, Rig *b, const char *what)
{
    for (int i = 0; i < 8; i++) {
        cr_assert_eq(a->cpu->regs[i], b->cpu->regs[i], "%s: reg %d: jit %08x interp %08x",
                     what, i, a->cpu->regs[i], b->cpu->regs[i]);
    }
    cr_assert_eq(a->cpu->eip, b->cpu->eip, "%s: eip jit %08x interp %08x", what, a->cpu->eip,
                 b->cpu->eip);
    cr_assert_eq(cpu_get_eflags(a->cpu), cpu_get_eflags(b->cpu), "%s: eflags", what);
    cr_assert_eq(a->cpu->icount, b->cpu->icount, "%s: icount jit %llu interp %llu", what,
                 (unsigned long long)a->cpu->icount, (unsigned long long)b->cpu->icount);
    for (int s = 0; s < S_NSEG; s++) {
        cr_assert_eq(a->cpu->seg[s].sel, b->cpu->seg[s].sel, "%s: seg %d", what, s);
        cr_assert_eq(a->cpu->seg[s].base, b->cpu->seg[s].base, "%s: seg %d base", what, s);
    }
    cr_assert_eq(a->cpu->cpl, b->cpu->cpl, "%s: cpl", what);
    cr_assert_eq(memcmp(a->ram, b->ram, 0x10000), 0, "%s: low 64 KiB differ", what);
    cr_assert_eq(memcmp(a->top, b->top, 8192), 0, "%s: the top page differs", what);
}

/* Outcome: the vector a stub reported (DL, -1: none: the code's own HLT at CPL 0) and the
 * EIP it was raised at (from the exception frame, with its error code). */
typedef struct Outcome {
    int vector;
    uint32_t eip, err;
} Outcome;

static Outcome outcome(const Rig *r)
{
    Outcome o = {.vector = -1};
    const CPUState *cpu = r->cpu;
    if (cpu->eip >= STUBS && cpu->eip < STUBS + 4 * 32) {
        o.vector = (int)(cpu->regs[R_EDX] & 0xFF);
        uint32_t frame = cpu->seg[S_SS].base + cpu->regs[R_ESP];
        o.err = rd32(r, frame);
        o.eip = rd32(r, frame + 4);
    } else {
        o.eip = cpu->eip;
    }
    return o;
}

/* run_pair: the same program under the JIT and the interpreter; asserts equal end states and
 * returns the JIT rig (the caller frees it) and its code bytes generated in *bytes. */
static Rig *run_pair(const uint8_t *code, size_t len, int cpl, uint16_t es, uint16_t ss,
                     uint16_t ds, uint32_t edi, uint32_t cr0_set, uint32_t eflags_set,
                     const char *what, uint64_t *bytes)
{
    Rig *rig[2];
    for (int k = 0; k < 2; k++) {
        rig[k] = rig_new(k == 0, cpl, code, len, es, ss, ds);
        rig[k]->cpu->regs[R_EDI] = edi;
        rig[k]->cpu->cr0 |= cr0_set;
        rig[k]->cpu->eflags |= eflags_set;
        wr32(rig[k], 0x5000, 0x01020304);
        wr32(rig[k], 0x7000, 0x10203040);
        rig_run(rig[k]);
    }
    assert_same(rig[0], rig[1], what);
    const JitStats *s = x86_jit_stats(rig[0]->cpu);
    cr_assert_gt(s->insns_inline, 0, "%s: nothing ran inline", what);
    if (bytes) {
        *bytes = s->bytes_generated;
    }
    rig_free(rig[1]);
    return rig[0];
}

/*  1000: mov ecx, 40
 *  1005: l: mov eax, [5000h]
 *  100A: add eax, ecx
 *  100C: mov [5004h], eax
 *  1011: add es:[5008h], eax
 *  1018: push eax
 *  1019: pop ebx
 *  101A: add ebx, [edi]
 *  101C: mov [500Ch], ebx
 *  1022: loop l
 *  1024: hlt */
static const uint8_t prog_a[] = {
    0xB9, 0x28, 0x00, 0x00, 0x00, 0xA1, 0x00, 0x50, 0x00, 0x00, 0x01, 0xC8, 0xA3, 0x04, 0x50,
    0x00, 0x00, 0x26, 0x01, 0x05, 0x08, 0x50, 0x00, 0x00, 0x50, 0x5B, 0x03, 0x1F, 0x89, 0x1D,
    0x0C, 0x50, 0x00, 0x00, 0xE2, 0xE1, 0xF4,
};

typedef struct SegCase {
    const char *what;
    uint16_t es, ss, ds;
    uint32_t edi;
    int vector;          /* expected: -1 (the final HLT) or the exception */
    uint32_t eip;        /* where it ended or faulted */
} SegCase;

Test(jit_mode, flat_and_non_flat_data_segments_give_the_interpreters_results_and_faults)
{
    static const SegCase cases[] = {
        {"flat", 0x10, 0x10, 0x10, 0x5100, -1, 0x1025},
        {"DS base 2000h", 0x10, 0x10, SEL_BASE2000, 0x5100, -1, 0x1025},
        {"ES base 2000h", SEL_BASE2000, 0x10, 0x10, 0x5100, -1, 0x1025},
        {"SS base 2000h", 0x10, SEL_BASE2000, 0x10, 0x5100, -1, 0x1025},
        {"DS limit 5005h", 0x10, 0x10, SEL_LIMIT5005, 0x5100, EXC_GP, 0x100C},
        {"DS read-only", 0x10, 0x10, SEL_READONLY, 0x5100, EXC_GP, 0x100C},
        {"ES read-only", SEL_READONLY, 0x10, 0x10, 0x5100, EXC_GP, 0x1011},
        {"DS expand-down, inside", 0x10, 0x10, SEL_EXPDOWN, 0x5100, -1, 0x1025},
        {"DS expand-down, below", 0x10, 0x10, SEL_EXPDOWN, 0x1000, EXC_GP, 0x101A},
        {"flat, wrapping past 4 GiB", 0x10, 0x10, 0x10, 0xFFFFFFFEu, EXC_GP, 0x101A},
        {"flat, crossing a page", 0x10, 0x10, 0x10, 0x5FFE, -1, 0x1025},
    };
    uint64_t flat_bytes = 0;
    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        const SegCase *c = &cases[k];
        uint64_t bytes;
        Rig *j = run_pair(prog_a, sizeof(prog_a), 0, c->es, c->ss, c->ds, c->edi, 0, 0,
                          c->what, &bytes);
        Outcome o = outcome(j);
        cr_assert_eq(o.vector, c->vector, "%s: vector %d", c->what, o.vector);
        cr_assert_eq(o.eip, c->eip, "%s: ended at %08x", c->what, o.eip);
        if (c->vector >= 0) {
            cr_assert_eq(o.err, 0, "%s: error code %x", c->what, o.err);
        }
        if (k == 0) {
            flat_bytes = bytes;
            cr_assert_neq(rd32(j, 0x500C), 0);
        } else if (k == 1) {
            /* The data went through the base, and the flat block was not reused. */
            cr_assert_neq(rd32(j, 0x7004), 0);
            cr_assert_eq(rd32(j, 0x5004), 0);
            /* Eight accesses per iteration, each with the segment checks back. */
            cr_assert_geq(bytes, flat_bytes + 8 * 16, "flat %llu bytes, DS base %llu",
                          (unsigned long long)flat_bytes, (unsigned long long)bytes);
        }
        rig_free(j);
    }
}

Test(jit_mode, a_flat_access_wrapping_past_4_gib_faults_even_when_the_top_page_is_in_the_tlb)
{
    /* The flat fast path has no wrap check: the tag compare of the last byte's page must
     * catch it while the TLB holds page FFFFF000h (filled by the first two accesses).
     *  1000: mov eax, [FFFFFFF0h]; 1005: mov ecx, [FFFFFFFCh];
     *  100B: mov ebx, [FFFFFFFEh] (or mov [FFFFFFFEh], ecx); 1011: hlt */
    uint8_t code[] = {0xA1, 0xF0, 0xFF, 0xFF, 0xFF, 0x8B, 0x0D, 0xFC, 0xFF, 0xFF, 0xFF,
                      0x8B, 0x1D, 0xFE, 0xFF, 0xFF, 0xFF, 0xF4};
    for (int store = 0; store < 2; store++) {
        code[11] = store ? 0x89 : 0x8B;
        code[12] = store ? 0x0D : 0x1D;
        Rig *j = run_pair(code, sizeof(code), 0, 0x10, 0x10, 0x10, 0, 0, 0,
                          store ? "wrapping store" : "wrapping load", NULL);
        Outcome o = outcome(j);
        cr_assert_eq(o.vector, EXC_GP);
        cr_assert_eq(o.eip, 0x100B);
        uint32_t want;
        memcpy(&want, j->top + 0xFFC, 4);
        cr_assert_eq(j->cpu->regs[R_ECX], want);
        cr_assert_eq(j->cpu->regs[R_EBX], 0);
        rig_free(j);
    }
}

Test(jit_mode, alignment_checks_at_cpl3_match_the_interpreter_with_and_without_ac)
{
    typedef struct AcCase {
        const char *what;
        int cpl;
        uint32_t cr0, eflags, edi;
        int vector;
        uint32_t eip;
    } AcCase;
    /* At CPL 3 the final HLT is a #GP. */
    static const AcCase cases[] = {
        {"AC and AM, misaligned", 3, CR0_AM, EF_AC, 0x5101, EXC_AC, 0x101A},
        {"AC and AM, aligned", 3, CR0_AM, EF_AC, 0x5100, EXC_GP, 0x1024},
        {"AC without AM", 3, 0, EF_AC, 0x5101, EXC_GP, 0x1024},
        {"AM without AC", 3, CR0_AM, 0, 0x5101, EXC_GP, 0x1024},
        {"AC and AM at CPL 0", 0, CR0_AM, EF_AC, 0x5101, -1, 0x1025},
    };
    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        const AcCase *c = &cases[k];
        uint16_t data = c->cpl == 3 ? SEL_DATA3 : SEL_DATA0;
        Rig *j = run_pair(prog_a, sizeof(prog_a), c->cpl, data, data, data, c->edi, c->cr0,
                          c->eflags, c->what, NULL);
        Outcome o = outcome(j);
        cr_assert_eq(o.vector, c->vector, "%s: vector %d", c->what, o.vector);
        cr_assert_eq(o.eip, c->eip, "%s: ended at %08x", c->what, o.eip);
        if (c->vector >= 0) {
            cr_assert_eq(o.err, 0, "%s: error code %x", c->what, o.err);
        }
        rig_free(j);
    }
}

/* The change runs in the same block as the accesses after it unless it ends the block:
 *  1000: mov ecx, 40
 *  1005: l: cmp ecx, 20
 *  1008: jne skip
 *  100A: <8 bytes: the change>
 *  1012: skip: mov eax, [5000h]
 *  1017: add eax, ecx
 *  1019: mov [5004h], eax
 *  101E: add ebx, [edi]
 *  1020: loop l
 *  1022: hlt */
static void prog_b(uint8_t *out, const uint8_t change[8])
{
    static const uint8_t head[] = {0xB9, 0x28, 0x00, 0x00, 0x00, 0x83, 0xF9, 0x14, 0x75, 0x08};
    static const uint8_t tail[] = {0xA1, 0x00, 0x50, 0x00, 0x00, 0x01, 0xC8, 0xA3, 0x04,
                                   0x50, 0x00, 0x00, 0x03, 0x1F, 0xE2, 0xE3, 0xF4};
    memcpy(out, head, sizeof(head));
    memcpy(out + sizeof(head), change, 8);
    memcpy(out + sizeof(head) + 8, tail, sizeof(tail));
}

#define PROG_B_LEN 35

Test(jit_mode, a_segment_load_in_a_loop_of_chained_blocks_takes_effect_at_once)
{
    /* mov ax, sel; mov ds, ax; nop; nop */
    uint8_t to_base[8] = {0x66, 0xB8, SEL_BASE2000, 0x00, 0x8E, 0xD8, 0x90, 0x90};
    uint8_t to_flat[8] = {0x66, 0xB8, SEL_DATA0, 0x00, 0x8E, 0xD8, 0x90, 0x90};
    uint8_t to_ro[8] = {0x66, 0xB8, SEL_READONLY, 0x00, 0x8E, 0xD8, 0x90, 0x90};
    uint8_t code[PROG_B_LEN];

    prog_b(code, to_base);
    Rig *j = run_pair(code, sizeof(code), 0, 0x10, 0x10, 0x10, 0x5100, 0, 0, "flat to base",
                      NULL);
    Outcome o = outcome(j);
    cr_assert_eq(o.vector, -1);
    cr_assert_eq(o.eip, 0x1023);
    /* Both halves of the loop stored their EAX: the first through the flat DS (last with
     * ECX = 21), the second through base 2000h (from ECX = 20, which loads DS first, down to
     * ECX = 1). */
    cr_assert_eq(rd32(j, 0x5004), 0x01020304 + 21);
    cr_assert_eq(rd32(j, 0x7004), 0x10203040 + 1);
    cr_assert_gt(x86_jit_stats(j->cpu)->chain_patches, 0);
    rig_free(j);

    prog_b(code, to_flat);
    j = run_pair(code, sizeof(code), 0, 0x10, 0x10, SEL_BASE2000, 0x5100, 0, 0,
                 "base to flat", NULL);
    cr_assert_eq(rd32(j, 0x7004), 0x10203040 + 21);
    cr_assert_eq(rd32(j, 0x5004), 0x01020304 + 1);
    rig_free(j);

    /* From flat to read-only: the next store faults. */
    prog_b(code, to_ro);
    j = run_pair(code, sizeof(code), 0, 0x10, 0x10, 0x10, 0x5100, 0, 0, "flat to read-only",
                 NULL);
    o = outcome(j);
    cr_assert_eq(o.vector, EXC_GP);
    cr_assert_eq(o.eip, 0x1019);
    cr_assert_eq(j->cpu->regs[R_ECX], 20);
    rig_free(j);
}

Test(jit_mode, popf_setting_ac_in_a_loop_of_chained_blocks_raises_ac_next_access)
{
    /* pushfd; bts dword [esp], 18; popfd; nop -- at CPL 3 with CR0.AM, [edi] misaligned. */
    static const uint8_t set_ac[8] = {0x9C, 0x0F, 0xBA, 0x2C, 0x24, 0x12, 0x9D, 0x90};
    uint8_t code[PROG_B_LEN];
    prog_b(code, set_ac);
    Rig *j = run_pair(code, sizeof(code), 3, SEL_DATA3, SEL_DATA3, SEL_DATA3, 0x5101, CR0_AM,
                      0, "POPF sets AC", NULL);
    Outcome o = outcome(j);
    cr_assert_eq(o.vector, EXC_AC);
    cr_assert_eq(o.eip, 0x101E);
    cr_assert_eq(j->cpu->regs[R_ECX], 20);
    cr_assert_gt(x86_jit_stats(j->cpu)->chain_patches, 0);
    rig_free(j);
}

Test(jit_mode, the_host_code_jump_cache_probe_agrees_with_the_c_lookup_on_mode_bits)
{
    /* 1000: inc eax; push 2000h; ret / 2000: inc ebx; push 1000h; ret -- every block exit
     * is an indirect one through the lookup trampoline; once both blocks are in the jump
     * cache the probe in host code must find them, which it does only when it computes the
     * mode bits (TBF_FLAT, TBF_AC) as tb_mode_flags does. */
    uint8_t code[0x1010] = {0};
    static const uint8_t a[] = {0x40, 0x68, 0x00, 0x20, 0x00, 0x00, 0xC3};
    static const uint8_t b[] = {0x43, 0x68, 0x00, 0x10, 0x00, 0x00, 0xC3};
    memcpy(code, a, sizeof(a));
    memcpy(code + 0x1000, b, sizeof(b));
    typedef struct ProbeCase {
        const char *what;
        int cpl;
        uint16_t ds;
        uint32_t cr0, eflags;
    } ProbeCase;
    static const ProbeCase cases[] = {
        {"flat CPL 0", 0, SEL_DATA0, 0, 0},
        {"DS base 2000h", 0, SEL_BASE2000, 0, 0},
        {"DS read-only", 0, SEL_READONLY, 0, 0},
        {"flat CPL 3", 3, SEL_DATA3, 0, 0},
        {"CPL 3, AC and AM", 3, SEL_DATA3, CR0_AM, EF_AC},
        {"CPL 3, AC only", 3, SEL_DATA3, 0, EF_AC},
    };
    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        const ProbeCase *c = &cases[k];
        uint16_t ss = c->cpl == 3 ? SEL_DATA3 : SEL_DATA0;
        Rig *r = rig_new(true, c->cpl, code, sizeof(code), ss, ss, c->ds);
        r->cpu->cr0 |= c->cr0;
        r->cpu->eflags |= c->eflags;
        cr_assert_eq(cpu_exec(r->cpu, 6000), CPU_EXIT_BUDGET, "%s", c->what);
        cr_assert_eq(r->cpu->regs[R_EAX], 1000, "%s", c->what);
        cr_assert_eq(r->cpu->regs[R_EBX], 1000, "%s", c->what);
        const JitStats *s = x86_jit_stats(r->cpu);
        cr_assert_gt(s->lookup_hits, 1900, "%s: %llu lookups", c->what,
                     (unsigned long long)s->lookup_hits);
        cr_assert_lt(s->lookup_c_hits, 10, "%s: %llu lookups answered in C", c->what,
                     (unsigned long long)s->lookup_c_hits);
        rig_free(r);
    }
}

Test(jit_mode, unreal_mode_flat_segments_keep_the_real_mode_limit_rules)
{
    /* Real mode with 4 GiB ES/SS/DS (as after a return from protected mode): flat blocks.
     * 1000: mov eax, [esi] (67h prefix: 32-bit offset); mov [esi+4], eax; hlt */
    static const uint8_t code[] = {0x67, 0x66, 0x8B, 0x06, 0x67, 0x66, 0x89, 0x46, 0x04, 0xF4};
    static const uint32_t esi[] = {0x5000, 0x5FFE, 0x20000, 0xFFFFFFFEu};
    for (size_t k = 0; k < sizeof(esi) / sizeof(esi[0]); k++) {
        Rig *rig[2];
        for (int m = 0; m < 2; m++) {
            rig[m] = rig_new(m == 0, 0, code, sizeof(code), 0x10, 0x10, 0x10);
            CPUState *cpu = rig[m]->cpu;
            cpu->cr0 &= ~CR0_PE;
            for (int s = 0; s < S_NSEG; s++) {
                cpu->seg[s].sel = 0;
                cpu->seg[s].base = 0;
                cpu->seg[s].flags = SEGF_P | SEGF_S | 0x3;
                cpu->seg[s].limit = s == S_CS ? 0xFFFF : 0xFFFFFFFFu;
            }
            cpu->idtr.base = 0;
            cpu->idtr.limit = 0x3FF;
            for (uint32_t v = 0; v < 32; v++) {
                wr32(rig[m], 4 * v, STUBS + 4 * v); /* IVT: 0000:stub */
            }
            cpu->regs[R_ESI] = esi[k];
            wr32(rig[m], 0x5000, 0xCAFEF00D);
            rig_run(rig[m]);
        }
        assert_same(rig[0], rig[1], "unreal");
        Outcome o = {.vector = -1, .eip = rig[0]->cpu->eip};
        if (o.eip >= STUBS && o.eip < STUBS + 4 * 32) {
            o.vector = (int)(rig[0]->cpu->regs[R_EDX] & 0xFF);
        }
        /* Only the access wrapping past 4 GiB faults. */
        cr_assert_eq(o.vector, k == 3 ? EXC_GP : -1, "esi %08x: vector %d", esi[k], o.vector);
        if (k == 0) {
            cr_assert_eq(rd32(rig[0], 0x5004), 0xCAFEF00D);
        }
        rig_free(rig[0]);
        rig_free(rig[1]);
    }
}
