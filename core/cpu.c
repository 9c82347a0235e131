/* cpu.c: CPU life cycle: initialisation, the Pentium II RESET state, pins and snapshots. */
#include "core/cpu.h"

#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void cpu_init(CPUState *cpu, MemMap *mem, PortMap *io, Logger *log)
{
    memset(cpu, 0, sizeof(*cpu));
    cpu->mem = mem;
    cpu->io = io;
    cpu->log = log;
    cpu->cpuid_signature = CPU_SIGNATURE_P2;
    cpu->exc_class = -1;
    cpu->last_exc = -1;
    cpu_reset(cpu);
}

/* The hidden part of a segment register after RESET (SDM Vol. 3, 9.1.1, table 9-1): present,
 * read/write (CS: execute/read), accessed, limit FFFFh. */
static void reset_seg(SegCache *s, uint16_t sel, uint32_t base, uint16_t flags)
{
    s->sel = sel;
    s->base = base;
    s->limit = 0xFFFF;
    s->flags = flags;
}

void cpu_reset(CPUState *cpu)
{
    memset(cpu->regs, 0, sizeof(cpu->regs));
    cpu->regs[R_EDX] = cpu->cpuid_signature;
    cpu->eip = 0xFFF0;
    cpu->eflags = EF_FIXED1;
    cpu->cc_op = CC_OP_EFLAGS;
    cpu->cc_dst = cpu->cc_src = cpu->cc_src2 = 0;
    for (int i = 0; i < S_NSEG; i++) {
        reset_seg(&cpu->seg[i], 0, 0, SEGF_P | SEGF_S | 0x3);
    }
    reset_seg(&cpu->seg[S_CS], 0xF000, 0xFFFF0000u, SEGF_P | SEGF_S | 0xB);
    reset_seg(&cpu->ldtr, 0, 0, SEGF_P | 0x2);
    reset_seg(&cpu->tr, 0, 0, SEGF_P | 0xB);
    cpu->gdtr.base = 0;
    cpu->gdtr.limit = 0xFFFF;
    cpu->idtr.base = 0;
    cpu->idtr.limit = 0xFFFF;
    cpu->cr0 = CR0_CD | CR0_NW | CR0_ET;
    cpu->cr2 = cpu->cr3 = cpu->cr4 = 0;
    memset(cpu->dr, 0, sizeof(cpu->dr));
    cpu->dr[6] = 0xFFFF0FF0u;
    cpu->dr[7] = 0x00000400u;
    cpu_set_tsc(cpu, 0);
    cpu->sysenter_cs = cpu->sysenter_esp = cpu->sysenter_eip = 0;
    cpu->apic_base = 0xFEE00900u; /* BSP, globally enabled (SDM Vol. 3, 10.4.4) */
    cpu->msr_misc_enable = 0;
    cpu->cpl = 0;

    /* x87 after RESET on the P6 family (table 9-1): FCW 0040h, FSW 0, FTW 5555h. */
    fpu_reset(&cpu->fpu);

    cpu->halted = false;
    cpu->intr_pending = false;
    cpu->nmi_pending = false;
    cpu->nmi_blocked = false;
    cpu->inhibit_irq = false;
    cpu->exit_request = false;
    cpu->shutdown = false;
    cpu->a20_enabled = true;
    cpu->a20_mask = 0xFFFFFFFFu;
    cpu->insn_eip = cpu->eip;
    cpu->insn_esp = 0;
    cpu->exc_depth = 0;
    cpu->last_exc = -1;
    cpu->exc_class = -1;
    cpu->exc_vector = -1;
    cpu->pending_db = 0;
    tlb_flush(cpu, true);
}

void cpu_set_irq(CPUState *cpu, int level)
{
    cpu->intr_pending = level != 0;
}

void cpu_set_nmi(CPUState *cpu)
{
    cpu->nmi_pending = true;
}

void cpu_exit_request(CPUState *cpu)
{
    cpu->exit_request = true;
}

void cpu_set_a20(CPUState *cpu, bool enabled)
{
    if (cpu->a20_enabled == enabled) {
        return;
    }
    cpu->a20_enabled = enabled;
    cpu->a20_mask = enabled ? 0xFFFFFFFFu : ~(1u << 20);
    tlb_flush(cpu, true);
}

/* tsc_base: the free-running count behind the TSC. With a machine clock it follows virtual time
 * at CPU_TSC_KHZ, so TSC, PIT, RTC and the ACPI PM timer agree (Linux's clocksource watchdog
 * compares them); inside an icount slice the instructions retired so far count too. A bare CPU
 * (unit tests, the fuzzer) counts instructions. */
static uint64_t tsc_base(const CPUState *cpu)
{
    if (!cpu->clock) {
        return cpu->icount;
    }
    int64_t ns = clock_now(cpu->clock);
    if (cpu->clock->mode == CLOCK_ICOUNT && cpu->icount > cpu->clock->icount) {
        ns += (int64_t)((cpu->icount - cpu->clock->icount) << cpu->clock->icount_shift);
    }
    if (ns < 0) {
        ns = 0;
    }
    uint64_t u = (uint64_t)ns;
    return (u / 1000000u) * CPU_TSC_KHZ + (u % 1000000u) * CPU_TSC_KHZ / 1000000u;
}

uint64_t cpu_get_tsc(const CPUState *cpu)
{
    return tsc_base(cpu) + cpu->tsc_offset;
}

void cpu_set_tsc(CPUState *cpu, uint64_t value)
{
    cpu->tsc_offset = value - tsc_base(cpu);
}

/* --- snapshots --- */

static const VMStateField seg_fields[] = {
    VMSTATE_U16(SegCache, sel),
    VMSTATE_U32(SegCache, base),
    VMSTATE_U32(SegCache, limit),
    VMSTATE_U16(SegCache, flags),
    VMSTATE_END,
};
static const VMStateDesc seg_vmstate = {"segcache", 1, seg_fields, NULL};

static const VMStateField dt_fields[] = {
    VMSTATE_U32(DescTable, base),
    VMSTATE_U16(DescTable, limit),
    VMSTATE_END,
};
static const VMStateDesc dt_vmstate = {"desctable", 1, dt_fields, NULL};

static const VMStateField fx_fields[] = {
    VMSTATE_U64(Floatx80, sig),
    VMSTATE_U16(Floatx80, se),
    VMSTATE_END,
};
static const VMStateDesc fx_vmstate = {"floatx80", 1, fx_fields, NULL};

static const VMStateField fpu_fields[] = {
    VMSTATE_STRUCT_ARRAY(FPUState, st, 8, fx_vmstate, Floatx80),
    VMSTATE_U16(FPUState, fcw),
    VMSTATE_U16(FPUState, fsw),
    VMSTATE_U8(FPUState, top),
    VMSTATE_U16(FPUState, ftw),
    VMSTATE_U16(FPUState, fop),
    VMSTATE_U32(FPUState, fip),
    VMSTATE_U32(FPUState, fdp),
    VMSTATE_U16(FPUState, fcs),
    VMSTATE_U16(FPUState, fds),
    VMSTATE_END,
};
static const VMStateDesc fpu_vmstate = {"fpu", 1, fpu_fields, NULL};

static const VMStateField cpu_fields[] = {
    VMSTATE_U32_ARRAY(CPUState, regs, 8),
    VMSTATE_U32(CPUState, eip),
    VMSTATE_U32(CPUState, eflags),
    VMSTATE_U32(CPUState, cc_op),
    VMSTATE_U32(CPUState, cc_dst),
    VMSTATE_U32(CPUState, cc_src),
    VMSTATE_U32(CPUState, cc_src2),
    VMSTATE_STRUCT_ARRAY(CPUState, seg, S_NSEG, seg_vmstate, SegCache),
    VMSTATE_STRUCT(CPUState, ldtr, seg_vmstate, SegCache),
    VMSTATE_STRUCT(CPUState, tr, seg_vmstate, SegCache),
    VMSTATE_STRUCT(CPUState, gdtr, dt_vmstate, DescTable),
    VMSTATE_STRUCT(CPUState, idtr, dt_vmstate, DescTable),
    VMSTATE_U32(CPUState, cr0),
    VMSTATE_U32(CPUState, cr2),
    VMSTATE_U32(CPUState, cr3),
    VMSTATE_U32(CPUState, cr4),
    VMSTATE_U32_ARRAY(CPUState, dr, 8),
    VMSTATE_U64(CPUState, tsc_offset),
    VMSTATE_U32(CPUState, sysenter_cs),
    VMSTATE_U32(CPUState, sysenter_esp),
    VMSTATE_U32(CPUState, sysenter_eip),
    VMSTATE_U64(CPUState, apic_base),
    VMSTATE_U64(CPUState, msr_misc_enable),
    VMSTATE_I32(CPUState, cpl),
    VMSTATE_STRUCT(CPUState, fpu, fpu_vmstate, FPUState),
    VMSTATE_BOOL(CPUState, halted),
    VMSTATE_BOOL(CPUState, intr_pending),
    VMSTATE_BOOL(CPUState, nmi_pending),
    VMSTATE_BOOL(CPUState, nmi_blocked),
    VMSTATE_BOOL(CPUState, inhibit_irq),
    VMSTATE_BOOL(CPUState, shutdown),
    VMSTATE_BOOL(CPUState, a20_enabled),
    VMSTATE_U32(CPUState, a20_mask),
    VMSTATE_U64(CPUState, icount),
    VMSTATE_END,
};

static int cpu_post_load(void *opaque)
{
    CPUState *cpu = opaque;
    cpu->exc_class = -1;
    cpu->last_exc = -1;
    cpu->a20_mask = cpu->a20_enabled ? 0xFFFFFFFFu : ~(1u << 20);
    tlb_flush(cpu, true);
    /* Guest memory was replaced: translated blocks (and their chains) may be stale. */
    x86_jit_flush(cpu);
    return 0;
}

const VMStateDesc cpu_vmstate = {"cpu", 1, cpu_fields, cpu_post_load};

/* append: printf at buf + *pos, never past len (keeps *pos <= len - 1). */
static void append(char *buf, size_t len, size_t *pos, const char *fmt, ...)
{
    if (*pos + 1 >= len) {
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf + *pos, len - *pos, fmt, ap);
    va_end(ap);
    if (n > 0) {
        *pos += (size_t)n < len - *pos ? (size_t)n : len - *pos - 1;
    }
}

size_t cpu_format_state(CPUState *cpu, char *buf, size_t len)
{
    static const char *const seg_names[S_NSEG] = {"ES", "CS", "SS", "DS", "FS", "GS"};
    size_t pos = 0;
    if (len == 0) {
        return 0;
    }
    buf[0] = 0;
    uint32_t fl = cpu_get_eflags(cpu);
    append(buf, len, &pos, "EAX=%08x EBX=%08x ECX=%08x EDX=%08x\n", cpu->regs[R_EAX],
           cpu->regs[R_EBX], cpu->regs[R_ECX], cpu->regs[R_EDX]);
    append(buf, len, &pos, "ESI=%08x EDI=%08x EBP=%08x ESP=%08x\n", cpu->regs[R_ESI],
           cpu->regs[R_EDI], cpu->regs[R_EBP], cpu->regs[R_ESP]);
    append(buf, len, &pos, "EIP=%08x EFL=%08x [%c%c%c%c%c%c%c%c] CPL=%d HLT=%d ICOUNT=%llu\n",
           cpu->eip, fl, fl & EF_DF ? 'D' : '-', fl & EF_IF ? 'I' : '-', fl & EF_OF ? 'O' : '-',
           fl & EF_SF ? 'S' : '-', fl & EF_ZF ? 'Z' : '-', fl & EF_AF ? 'A' : '-',
           fl & EF_PF ? 'P' : '-', fl & EF_CF ? 'C' : '-', cpu->cpl, cpu->halted ? 1 : 0,
           (unsigned long long)cpu->icount);
    for (int s = 0; s < S_NSEG; s++) {
        const SegCache *sc = &cpu->seg[s];
        append(buf, len, &pos, "%s =%04x %08x %08x %04x\n", seg_names[s], sc->sel, sc->base,
               sc->limit, sc->flags);
    }
    append(buf, len, &pos, "LDT=%04x %08x %08x %04x\n", cpu->ldtr.sel, cpu->ldtr.base,
           cpu->ldtr.limit, cpu->ldtr.flags);
    append(buf, len, &pos, "TR =%04x %08x %08x %04x\n", cpu->tr.sel, cpu->tr.base,
           cpu->tr.limit, cpu->tr.flags);
    append(buf, len, &pos, "GDT=     %08x %08x\nIDT=     %08x %08x\n", cpu->gdtr.base,
           cpu->gdtr.limit, cpu->idtr.base, cpu->idtr.limit);
    append(buf, len, &pos, "CR0=%08x CR2=%08x CR3=%08x CR4=%08x\n", cpu->cr0, cpu->cr2,
           cpu->cr3, cpu->cr4);
    append(buf, len, &pos, "DR0=%08x DR1=%08x DR2=%08x DR3=%08x DR6=%08x DR7=%08x\n",
           cpu->dr[0], cpu->dr[1], cpu->dr[2], cpu->dr[3], cpu->dr[6], cpu->dr[7]);
    return pos;
}
