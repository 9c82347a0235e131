/* interp_sys.c: the system instructions of the reference interpreter: far transfers, software
 * interrupts, IRET, flag and interrupt control with IOPL rules, port I/O, descriptor-table and
 * control-register instructions, MSRs, CPUID, SYSENTER/SYSEXIT. The protected-mode machinery
 * (gates, task switches, page tables) lives in core/; these handlers decode operands, apply
 * the privilege rules of each instruction and call it. */
#include "translate/interp.h"

#include <string.h>

/* Feature bits CPUID.1:EDX reports: exactly what anyvm implements (SDM Vol. 2, CPUID). */
enum {
    CPUID_FPU = 1u << 0, CPUID_MMX = 1u << 23, CPUID_FXSR = 1u << 24,
    CPUID_DE = 1u << 2, CPUID_PSE = 1u << 3, CPUID_TSC = 1u << 4, CPUID_MSR = 1u << 5,
    CPUID_CX8 = 1u << 8, CPUID_SEP = 1u << 11, CPUID_PGE = 1u << 13, CPUID_CMOV = 1u << 15,
};
#define CPUID_FEATURES                                                                         \
    (CPUID_FPU | CPUID_MMX | CPUID_FXSR | CPUID_DE | CPUID_PSE | CPUID_TSC | CPUID_MSR |         \
     CPUID_CX8 | CPUID_SEP | CPUID_PGE | CPUID_CMOV)

/* CR4 bits that may be set: those of the advertised features. */
#define CR4_SUPPORTED (CR4_TSD | CR4_DE | CR4_PSE | CR4_PGE | CR4_PCE | CR4_OSFXSR)

static inline int iopl_of(const CPUState *cpu)
{
    return (int)((cpu->eflags & EF_IOPL) >> 12);
}

/* require_cpl0: privileged instructions raise #GP(0) at CPL > 0 and in V86 mode. */
static void require_cpl0(CPUState *cpu)
{
    if (cpu_pe(cpu) && (cpu->cpl != 0 || cpu_v86(cpu))) {
        cpu_raise_gp(cpu, 0);
    }
}

/* require_prot: instructions that exist only in protected mode (#UD in real and V86 mode). */
static void require_prot(CPUState *cpu)
{
    if (!cpu_pe(cpu) || cpu_v86(cpu)) {
        cpu_raise_ud(cpu);
    }
}

/* iopl_check: CLI, STI and friends need CPL <= IOPL in protected mode and IOPL = 3 in V86. */
static void iopl_check(CPUState *cpu)
{
    if (!cpu_pe(cpu)) {
        return;
    }
    if (cpu_v86(cpu) ? iopl_of(cpu) != 3 : cpu->cpl > iopl_of(cpu)) {
        cpu_raise_gp(cpu, 0);
    }
}

static void set_zf(CPUState *cpu, bool zf)
{
    uint32_t f = cpu_get_eflags(cpu);
    f = zf ? (f | EF_ZF) : (f & ~(uint32_t)EF_ZF);
    cpu_set_eflags(cpu, f, EF_ARITH);
}

/* --- far transfers --- */

void interp_far_call(CPUState *cpu, uint16_t sel, uint32_t off, unsigned opsize,
                     uint32_t next_eip)
{
    cpu_far_call(cpu, sel, off, opsize, next_eip);
}

void interp_far_jump(CPUState *cpu, uint16_t sel, uint32_t off, unsigned opsize)
{
    cpu_far_jump(cpu, sel, off, opsize);
}

static void op_call_far(CPUState *cpu, const DecodedInsn *d)
{
    interp_far_call(cpu, (uint16_t)d->imm2, d->imm, d->opsize, cpu->eip);
}

static void op_jmp_far(CPUState *cpu, const DecodedInsn *d)
{
    interp_far_jump(cpu, (uint16_t)d->imm2, d->imm, d->opsize);
}

static void op_retf_imm(CPUState *cpu, const DecodedInsn *d)
{
    cpu_far_ret(cpu, d->opsize, (uint16_t)d->imm);
}

static void op_retf(CPUState *cpu, const DecodedInsn *d)
{
    cpu_far_ret(cpu, d->opsize, 0);
}

static void op_iret(CPUState *cpu, const DecodedInsn *d)
{
    cpu_iret(cpu, d->opsize);
}

/* --- software interrupts --- */

static void op_int3(CPUState *cpu, const DecodedInsn *d)
{
    cpu_do_interrupt(cpu, EXC_BP, true, false, 0, cpu->eip);
}

static void op_int(CPUState *cpu, const DecodedInsn *d)
{
    /* INT n is IOPL-sensitive in V86 mode (without VME): #GP(0) unless IOPL = 3. */
    if (cpu_pe(cpu) && cpu_v86(cpu) && iopl_of(cpu) != 3) {
        cpu_raise_gp(cpu, 0);
    }
    cpu_do_interrupt(cpu, (int)(d->imm & 0xFF), true, false, 0, cpu->eip);
}

/* INT1 (ICEBP, F1): a #DB trap delivered like an external event: no IOPL or gate-DPL check,
 * EIP after the instruction (SDM Vol. 2, INTn/INTO/INT3/INT1). */
static void op_int1(CPUState *cpu, const DecodedInsn *d)
{
    cpu_do_interrupt(cpu, EXC_DB, false, false, 0, cpu->eip);
}

static void op_into(CPUState *cpu, const DecodedInsn *d)
{
    if (cpu_get_eflags(cpu) & EF_OF) {
        cpu_do_interrupt(cpu, EXC_OF, true, false, 0, cpu->eip);
    }
}

/* --- HLT and interrupt flag --- */

static void op_hlt(CPUState *cpu, const DecodedInsn *d)
{
    require_cpl0(cpu);
    cpu->halted = true;
}

static void op_cli(CPUState *cpu, const DecodedInsn *d)
{
    iopl_check(cpu);
    cpu->eflags &= ~(uint32_t)EF_IF;
}

static void op_sti(CPUState *cpu, const DecodedInsn *d)
{
    iopl_check(cpu);
    /* Interrupts stay blocked until after the next instruction (SDM Vol. 2, STI). */
    if (!(cpu->eflags & EF_IF)) {
        cpu->inhibit_irq = true;
    }
    cpu->eflags |= EF_IF;
}

static void op_pushf(CPUState *cpu, const DecodedInsn *d)
{
    if (cpu_pe(cpu) && cpu_v86(cpu) && iopl_of(cpu) != 3) {
        cpu_raise_gp(cpu, 0);
    }
    /* The image has VM and RF clear (SDM Vol. 2, PUSHF). */
    uint32_t f = cpu_get_eflags(cpu) & ~(uint32_t)(EF_VM | EF_RF);
    interp_push(cpu, d->opsize == 4 ? f : (f & 0xFFFF), d->opsize);
}

static void op_popf(CPUState *cpu, const DecodedInsn *d)
{
    uint32_t m;
    if (cpu_pe(cpu) && cpu_v86(cpu)) {
        if (iopl_of(cpu) != 3) {
            cpu_raise_gp(cpu, 0);
        }
        m = EF_ARITH | EF_TF | EF_DF | EF_NT | EF_IF | (d->opsize == 4 ? (EF_AC | EF_ID) : 0);
    } else {
        m = (uint32_t)cpu_flags_write_mask(cpu, d->opsize) & ~(uint32_t)(EF_RF | EF_VIF | EF_VIP);
    }
    uint32_t v = interp_pop(cpu, d->opsize);
    cpu_set_eflags(cpu, v, m);
    cpu->eflags &= ~(uint32_t)EF_RF;
}

/* --- port I/O --- */

static void op_in_al_imm(CPUState *cpu, const DecodedInsn *d)
{
    interp_set_reg(cpu, R_EAX, 1, cpu_in(cpu, (uint16_t)(d->imm & 0xFF), 1));
}

static void op_in_ax_imm(CPUState *cpu, const DecodedInsn *d)
{
    interp_set_reg(cpu, R_EAX, d->opsize, cpu_in(cpu, (uint16_t)(d->imm & 0xFF), d->opsize));
}

static void op_out_imm_al(CPUState *cpu, const DecodedInsn *d)
{
    cpu_out(cpu, (uint16_t)(d->imm & 0xFF), cpu->regs[R_EAX] & 0xFF, 1);
}

static void op_out_imm_ax(CPUState *cpu, const DecodedInsn *d)
{
    cpu_out(cpu, (uint16_t)(d->imm & 0xFF), interp_get_reg(cpu, R_EAX, d->opsize), d->opsize);
}

static void op_in_al_dx(CPUState *cpu, const DecodedInsn *d)
{
    interp_set_reg(cpu, R_EAX, 1, cpu_in(cpu, (uint16_t)cpu->regs[R_EDX], 1));
}

static void op_in_ax_dx(CPUState *cpu, const DecodedInsn *d)
{
    interp_set_reg(cpu, R_EAX, d->opsize, cpu_in(cpu, (uint16_t)cpu->regs[R_EDX], d->opsize));
}

static void op_out_dx_al(CPUState *cpu, const DecodedInsn *d)
{
    cpu_out(cpu, (uint16_t)cpu->regs[R_EDX], cpu->regs[R_EAX] & 0xFF, 1);
}

static void op_out_dx_ax(CPUState *cpu, const DecodedInsn *d)
{
    cpu_out(cpu, (uint16_t)cpu->regs[R_EDX], interp_get_reg(cpu, R_EAX, d->opsize), d->opsize);
}

/* --- ARPL, LAR, LSL, group 6 --- */

static void op_arpl(CPUState *cpu, const DecodedInsn *d)
{
    require_prot(cpu);
    uint32_t dst = interp_get_rm(cpu, d, 2);
    uint32_t src = interp_get_reg(cpu, d->reg, 2);
    if ((dst & 3) < (src & 3)) {
        interp_set_rm(cpu, d, 2, (dst & ~3u) | (src & 3));
        set_zf(cpu, true);
    } else {
        set_zf(cpu, false);
    }
}

/* desc_visible: the descriptor of sel if LAR/LSL/VERR/VERW may see it at the current
 * privilege: inside the table, and for anything but conforming code DPL >= max(CPL, RPL). */
static bool desc_visible(CPUState *cpu, uint16_t sel, uint32_t *lo, uint32_t *hi)
{
    if ((sel & ~3u) == 0 || !cpu_desc_read(cpu, sel, lo, hi)) {
        return false;
    }
    int dpl = (int)((*hi >> 13) & 3);
    bool conforming_code = (*hi & (1u << 12)) && (*hi & (3u << 10)) == (3u << 10);
    if (!conforming_code && (dpl < cpu->cpl || dpl < (int)(sel & 3))) {
        return false;
    }
    return true;
}

static void op_lar(CPUState *cpu, const DecodedInsn *d)
{
    require_prot(cpu);
    uint16_t sel = (uint16_t)interp_get_rm(cpu, d, 2);
    uint32_t lo, hi;
    bool ok = desc_visible(cpu, sel, &lo, &hi);
    if (ok && !(hi & (1u << 12))) {
        /* System descriptors LAR accepts: TSSs, LDT, call and task gates. */
        static const bool valid[16] = {[1] = true, [2] = true, [3] = true, [4] = true,
                                       [5] = true, [9] = true, [11] = true, [12] = true};
        ok = valid[(hi >> 8) & 0xF];
    }
    if (ok) {
        interp_set_reg(cpu, d->reg, d->opsize, hi & (d->opsize == 4 ? 0x00FFFF00u : 0xFF00u));
    }
    set_zf(cpu, ok);
}

static void op_lsl(CPUState *cpu, const DecodedInsn *d)
{
    require_prot(cpu);
    uint16_t sel = (uint16_t)interp_get_rm(cpu, d, 2);
    uint32_t lo, hi;
    bool ok = desc_visible(cpu, sel, &lo, &hi);
    if (ok && !(hi & (1u << 12))) {
        static const bool valid[16] = {[1] = true, [2] = true, [3] = true, [9] = true,
                                       [11] = true};
        ok = valid[(hi >> 8) & 0xF];
    }
    if (ok) {
        uint32_t lim = (lo & 0xFFFF) | (hi & 0x000F0000u);
        if (hi & (1u << 23)) {
            lim = (lim << 12) | 0xFFF;
        }
        interp_set_reg(cpu, d->reg, d->opsize, lim);
    }
    set_zf(cpu, ok);
}

static void op_lldt(CPUState *cpu, uint16_t sel)
{
    require_cpl0(cpu);
    if ((sel & ~3u) == 0) {
        cpu->ldtr.sel = sel;
        cpu->ldtr.base = 0;
        cpu->ldtr.limit = 0;
        cpu->ldtr.flags = 0;
        return;
    }
    uint32_t lo, hi;
    if ((sel & 4) || !cpu_desc_read(cpu, sel, &lo, &hi) || ((hi >> 8) & 0x1F) != 0x02) {
        cpu_raise_gp(cpu, sel & 0xFFFCu);
    }
    if (!(hi & (1u << 15))) {
        cpu_raise_exception(cpu, EXC_NP, true, sel & 0xFFFCu);
    }
    cpu->ldtr.sel = sel;
    cpu->ldtr.base = (lo >> 16) | ((hi & 0xFF) << 16) | (hi & 0xFF000000u);
    cpu->ldtr.limit = (lo & 0xFFFF) | (hi & 0x000F0000u);
    if (hi & (1u << 23)) {
        cpu->ldtr.limit = (cpu->ldtr.limit << 12) | 0xFFF;
    }
    cpu->ldtr.flags = (uint16_t)((hi >> 8) & 0xF0FF);
}

static void op_ltr(CPUState *cpu, uint16_t sel)
{
    require_cpl0(cpu);
    if ((sel & ~3u) == 0) {
        cpu_raise_gp(cpu, 0);
    }
    uint32_t lo, hi;
    unsigned t = 0;
    if (!(sel & 4) && cpu_desc_read(cpu, sel, &lo, &hi)) {
        t = (hi >> 8) & 0x1F;
    }
    if (t != 0x01 && t != 0x09) {
        cpu_raise_gp(cpu, sel & 0xFFFCu);
    }
    if (!(hi & (1u << 15))) {
        cpu_raise_exception(cpu, EXC_NP, true, sel & 0xFFFCu);
    }
    hi |= 1u << 9; /* busy */
    cpu_st_sys(cpu, cpu->gdtr.base + (sel & ~7u) + 4, hi, 4);
    cpu->tr.sel = sel;
    cpu->tr.base = (lo >> 16) | ((hi & 0xFF) << 16) | (hi & 0xFF000000u);
    cpu->tr.limit = (lo & 0xFFFF) | (hi & 0x000F0000u);
    if (hi & (1u << 23)) {
        cpu->tr.limit = (cpu->tr.limit << 12) | 0xFFF;
    }
    cpu->tr.flags = (uint16_t)((hi >> 8) & 0xF0FF);
}

static void op_verrw(CPUState *cpu, uint16_t sel, bool write)
{
    uint32_t lo, hi;
    bool ok = desc_visible(cpu, sel, &lo, &hi) && (hi & (1u << 12));
    if (ok) {
        bool code = (hi & (1u << 11)) != 0;
        bool rw = (hi & (1u << 9)) != 0;
        ok = write ? (!code && rw) : (!code || rw);
    }
    set_zf(cpu, ok);
}

/* store_sel: SLDT/STR/SMSW: a 16-bit store to memory, or the register at operand size. */
static void store_sel(CPUState *cpu, const DecodedInsn *d, uint32_t v)
{
    if (d->flags & DI_MEM) {
        interp_set_rm(cpu, d, 2, v & 0xFFFF);
    } else {
        interp_set_rm(cpu, d, d->opsize, d->opsize == 4 ? v : (v & 0xFFFF));
    }
}

static void op_grp6(CPUState *cpu, const DecodedInsn *d)
{
    require_prot(cpu);
    switch (d->reg) {
    case 0: /* SLDT */
        store_sel(cpu, d, cpu->ldtr.sel);
        break;
    case 1: /* STR */
        store_sel(cpu, d, cpu->tr.sel);
        break;
    case 2: /* LLDT */
        require_cpl0(cpu);
        op_lldt(cpu, (uint16_t)interp_get_rm(cpu, d, 2));
        break;
    case 3: /* LTR */
        require_cpl0(cpu);
        op_ltr(cpu, (uint16_t)interp_get_rm(cpu, d, 2));
        break;
    case 4: /* VERR */
        op_verrw(cpu, (uint16_t)interp_get_rm(cpu, d, 2), false);
        break;
    case 5: /* VERW */
        op_verrw(cpu, (uint16_t)interp_get_rm(cpu, d, 2), true);
        break;
    default:
        cpu_raise_ud(cpu);
    }
}

/* --- group 7: descriptor tables, MSW, INVLPG --- */

/* write_cr0: MOV CR0 / LMSW rules (SDM Vol. 3, 2.5; MOV CR "Protected Mode Exceptions"). */
static void write_cr0(CPUState *cpu, uint32_t v)
{
    if ((v & CR0_PG) && !(v & CR0_PE)) {
        cpu_raise_gp(cpu, 0);
    }
    if ((v & CR0_NW) && !(v & CR0_CD)) {
        cpu_raise_gp(cpu, 0);
    }
    const uint32_t defined = CR0_PE | CR0_MP | CR0_EM | CR0_TS | CR0_NE | CR0_WP | CR0_AM |
                             CR0_NW | CR0_CD | CR0_PG;
    v = (v & defined) | CR0_ET; /* ET is hardwired to 1 on the P6 family */
    uint32_t changed = v ^ cpu->cr0;
    cpu->cr0 = v;
    if (changed & (CR0_PG | CR0_WP | CR0_PE)) {
        tlb_flush(cpu, true);
    }
    if (changed & CR0_PE) {
        if (!(v & CR0_PE)) {
            cpu->cpl = 0;
        }
        cpu_update_mode(cpu);
    }
}

static void op_grp7(CPUState *cpu, const DecodedInsn *d)
{
    bool mem = (d->flags & DI_MEM) != 0;
    switch (d->reg) {
    case 0: /* SGDT */
    case 1: /* SIDT */ {
        if (!mem) {
            cpu_raise_ud(cpu);
        }
        const DescTable *t = d->reg == 0 ? &cpu->gdtr : &cpu->idtr;
        uint32_t ea = interp_ea(cpu, d);
        /* The full 32-bit base is stored at either operand size (SDM Vol. 2, SGDT). */
        cpu_st16(cpu, d->seg, ea, t->limit);
        cpu_st32(cpu, d->seg, (ea + 2) & (d->addrsize == 2 ? 0xFFFFu : 0xFFFFFFFFu), t->base);
        break;
    }
    case 2: /* LGDT */
    case 3: /* LIDT */ {
        if (!mem) {
            cpu_raise_ud(cpu);
        }
        require_cpl0(cpu);
        uint32_t ea = interp_ea(cpu, d);
        uint16_t limit = cpu_ld16(cpu, d->seg, ea);
        uint32_t base =
            cpu_ld32(cpu, d->seg, (ea + 2) & (d->addrsize == 2 ? 0xFFFFu : 0xFFFFFFFFu));
        if (d->opsize == 2) {
            base &= 0x00FFFFFFu;
        }
        DescTable *t = d->reg == 2 ? &cpu->gdtr : &cpu->idtr;
        t->base = base;
        t->limit = limit;
        break;
    }
    case 4: /* SMSW */
        store_sel(cpu, d, cpu->cr0);
        break;
    case 6: { /* LMSW: PE, MP, EM, TS; PE can be set but not cleared */
        require_cpl0(cpu);
        uint32_t v = interp_get_rm(cpu, d, 2) & 0xF;
        write_cr0(cpu, (cpu->cr0 & ~0xEu) | v | (cpu->cr0 & CR0_PE));
        break;
    }
    case 7: /* INVLPG */
        if (!mem) {
            cpu_raise_ud(cpu);
        }
        require_cpl0(cpu);
        tlb_flush_page(cpu, cpu->seg[d->seg].base + interp_ea(cpu, d));
        break;
    default:
        cpu_raise_ud(cpu);
    }
}

/* --- control and debug registers --- */

static void op_clts(CPUState *cpu, const DecodedInsn *d)
{
    require_cpl0(cpu);
    cpu->cr0 &= ~(uint32_t)CR0_TS;
}

static void op_invd(CPUState *cpu, const DecodedInsn *d)
{
    require_cpl0(cpu); /* no caches to invalidate or write back */
}

static void op_mov_r_cr(CPUState *cpu, const DecodedInsn *d)
{
    uint32_t v;
    switch (d->reg) {
    case 0:
        v = cpu->cr0;
        break;
    case 2:
        v = cpu->cr2;
        break;
    case 3:
        v = cpu->cr3;
        break;
    case 4:
        v = cpu->cr4;
        break;
    default:
        cpu_raise_ud(cpu);
    }
    require_cpl0(cpu);
    cpu->regs[d->rm] = v;
}

static void op_mov_cr_r(CPUState *cpu, const DecodedInsn *d)
{
    if (d->reg == 1 || d->reg > 4) {
        cpu_raise_ud(cpu);
    }
    require_cpl0(cpu);
    uint32_t v = cpu->regs[d->rm];
    switch (d->reg) {
    case 0:
        write_cr0(cpu, v);
        break;
    case 2:
        cpu->cr2 = v;
        break;
    case 3:
        cpu->cr3 = v & 0xFFFFF018u;
        tlb_flush(cpu, false);
        break;
    case 4: {
        if (v & ~(uint32_t)CR4_SUPPORTED) {
            LOG_ONCE(cpu->log, LOG_UNIMP, "cpu: CR4 bits %#x are not supported: #GP\n",
                     v & ~(uint32_t)CR4_SUPPORTED);
            cpu_raise_gp(cpu, 0);
        }
        uint32_t changed = v ^ cpu->cr4;
        cpu->cr4 = v;
        if (changed & (CR4_PSE | CR4_PGE)) {
            tlb_flush(cpu, true);
        }
        break;
    }
    }
}

/* dr_index: DR4/DR5 alias DR6/DR7 unless CR4.DE, where they are #UD (SDM Vol. 3, 17.2.2).
 * DR7.GD turns any access into a #DB with DR6.BD (17.2.4). */
static int dr_index(CPUState *cpu, int n)
{
    if (n == 4 || n == 5) {
        if (cpu->cr4 & CR4_DE) {
            cpu_raise_ud(cpu);
        }
        n += 2;
    }
    require_cpl0(cpu);
    if (cpu->dr[7] & (1u << 13)) {
        cpu->dr[7] &= ~(1u << 13);
        cpu->dr[6] |= 1u << 13;
        cpu_raise_exception(cpu, EXC_DB, false, 0);
    }
    return n;
}

static void op_mov_r_dr(CPUState *cpu, const DecodedInsn *d)
{
    int n = dr_index(cpu, d->reg);
    cpu->regs[d->rm] = cpu->dr[n];
}

static void op_mov_dr_r(CPUState *cpu, const DecodedInsn *d)
{
    int n = dr_index(cpu, d->reg);
    uint32_t v = cpu->regs[d->rm];
    switch (n) {
    case 6:
        cpu->dr[6] = (v & 0x0000E00Fu) | 0xFFFF0FF0u;
        break;
    case 7:
        cpu->dr[7] = (v & 0xFFFF23FFu) | 0x400u;
        break;
    default:
        cpu->dr[n] = v;
        break;
    }
    /* Data breakpoints change which pages the TLB may serve directly. */
    tlb_flush(cpu, true);
}

/* --- MSRs, TSC, PMC, CPUID --- */

static bool msr_read(CPUState *cpu, uint32_t idx, uint64_t *v)
{
    switch (idx) {
    case MSR_IA32_TSC:
        *v = cpu_get_tsc(cpu);
        return true;
    case MSR_IA32_APIC_BASE:
        *v = cpu->apic_base;
        return true;
    case MSR_IA32_SYSENTER_CS:
        *v = cpu->sysenter_cs;
        return true;
    case MSR_IA32_SYSENTER_ESP:
        *v = cpu->sysenter_esp;
        return true;
    case MSR_IA32_SYSENTER_EIP:
        *v = cpu->sysenter_eip;
        return true;
    case MSR_IA32_MISC_ENABLE:
        *v = cpu->msr_misc_enable;
        return true;
    case 0x17: /* IA32_PLATFORM_ID */
    case 0x8B: /* IA32_BIOS_SIGN_ID: no microcode loaded */
        *v = 0;
        return true;
    default:
        return false;
    }
}

static bool msr_write(CPUState *cpu, uint32_t idx, uint64_t v)
{
    switch (idx) {
    case MSR_IA32_TSC:
        cpu_set_tsc(cpu, v);
        return true;
    case MSR_IA32_APIC_BASE:
        cpu->apic_base = v & 0xFFFFF900u;
        return true;
    case MSR_IA32_SYSENTER_CS:
        cpu->sysenter_cs = (uint32_t)v & 0xFFFF;
        return true;
    case MSR_IA32_SYSENTER_ESP:
        cpu->sysenter_esp = (uint32_t)v;
        return true;
    case MSR_IA32_SYSENTER_EIP:
        cpu->sysenter_eip = (uint32_t)v;
        return true;
    case MSR_IA32_MISC_ENABLE:
        cpu->msr_misc_enable = v;
        return true;
    case 0x8B:
        return true;
    default:
        return false;
    }
}

static void op_rdmsr(CPUState *cpu, const DecodedInsn *d)
{
    require_cpl0(cpu);
    uint64_t v;
    if (!msr_read(cpu, cpu->regs[R_ECX], &v)) {
        LOG_ONCE(cpu->log, LOG_UNIMP, "cpu: RDMSR of unknown MSR %#x: #GP\n",
                 cpu->regs[R_ECX]);
        cpu_raise_gp(cpu, 0);
    }
    cpu->regs[R_EAX] = (uint32_t)v;
    cpu->regs[R_EDX] = (uint32_t)(v >> 32);
}

static void op_wrmsr(CPUState *cpu, const DecodedInsn *d)
{
    require_cpl0(cpu);
    uint64_t v = ((uint64_t)cpu->regs[R_EDX] << 32) | cpu->regs[R_EAX];
    if (!msr_write(cpu, cpu->regs[R_ECX], v)) {
        LOG_ONCE(cpu->log, LOG_UNIMP, "cpu: WRMSR of unknown MSR %#x: #GP\n",
                 cpu->regs[R_ECX]);
        cpu_raise_gp(cpu, 0);
    }
}

static void op_rdtsc(CPUState *cpu, const DecodedInsn *d)
{
    if ((cpu->cr4 & CR4_TSD) && cpu_pe(cpu) && (cpu->cpl != 0 || cpu_v86(cpu))) {
        cpu_raise_gp(cpu, 0);
    }
    uint64_t t = cpu_get_tsc(cpu);
    cpu->regs[R_EAX] = (uint32_t)t;
    cpu->regs[R_EDX] = (uint32_t)(t >> 32);
}

static void op_rdpmc(CPUState *cpu, const DecodedInsn *d)
{
    /* No performance counters are modelled, so no counter index is valid. */
    cpu_raise_gp(cpu, 0);
}

static void op_cpuid(CPUState *cpu, const DecodedInsn *d)
{
    uint32_t leaf = cpu->regs[R_EAX];
    if (leaf > 2) {
        leaf = 2; /* out-of-range leaves return the highest basic leaf */
    }
    switch (leaf) {
    case 0:
        cpu->regs[R_EAX] = 2;
        cpu->regs[R_EBX] = 0x756E6547u; /* "Genu" */
        cpu->regs[R_EDX] = 0x49656E69u; /* "ineI" */
        cpu->regs[R_ECX] = 0x6C65746Eu; /* "ntel" */
        break;
    case 1:
        cpu->regs[R_EAX] = cpu->cpuid_signature;
        cpu->regs[R_EBX] = 0;
        cpu->regs[R_ECX] = 0;
        cpu->regs[R_EDX] = CPUID_FEATURES;
        break;
    default:
        /* Cache descriptors of a Pentium II: 16K L1 I/D, 512K L2, TLBs (SDM Vol. 2, CPUID
         * table "Encoding of CPUID Leaf 2 Descriptors"). */
        cpu->regs[R_EAX] = 0x03020101u;
        cpu->regs[R_EBX] = 0;
        cpu->regs[R_ECX] = 0;
        cpu->regs[R_EDX] = 0x0C040843u;
        break;
    }
}

/* --- SYSENTER / SYSEXIT (SDM Vol. 2): flat segments derived from IA32_SYSENTER_CS --- */

static void load_flat(SegCache *s, uint16_t sel, bool code, int dpl)
{
    s->sel = sel;
    s->base = 0;
    s->limit = 0xFFFFFFFFu;
    s->flags = (uint16_t)(SEGF_P | SEGF_S | SEGF_G | SEGF_DB | ((unsigned)dpl << 5) |
                          (code ? 0xB : 0x3));
}

static void op_sysenter(CPUState *cpu, const DecodedInsn *d)
{
    if (!cpu_pe(cpu) || (cpu->sysenter_cs & 0xFFFC) == 0) {
        cpu_raise_gp(cpu, 0);
    }
    cpu->eflags &= ~(uint32_t)(EF_VM | EF_IF | EF_RF);
    load_flat(&cpu->seg[S_CS], (uint16_t)(cpu->sysenter_cs & 0xFFFC), true, 0);
    load_flat(&cpu->seg[S_SS], (uint16_t)((cpu->sysenter_cs + 8) & 0xFFFC), false, 0);
    cpu->cpl = 0;
    cpu->regs[R_ESP] = cpu->sysenter_esp;
    cpu->eip = cpu->sysenter_eip;
}

static void op_sysexit(CPUState *cpu, const DecodedInsn *d)
{
    if (!cpu_pe(cpu) || cpu_v86(cpu) || cpu->cpl != 0 || (cpu->sysenter_cs & 0xFFFC) == 0) {
        cpu_raise_gp(cpu, 0);
    }
    load_flat(&cpu->seg[S_CS], (uint16_t)((cpu->sysenter_cs + 16) | 3), true, 3);
    load_flat(&cpu->seg[S_SS], (uint16_t)((cpu->sysenter_cs + 24) | 3), false, 3);
    cpu->cpl = 3;
    cpu->regs[R_ESP] = cpu->regs[R_ECX];
    cpu->eip = cpu->regs[R_EDX];
}

void x86_interp_sys_register(InterpFn table[OP_COUNT])
{
    table[0x9A] = op_call_far;
    table[0xEA] = op_jmp_far;
    table[0xCA] = op_retf_imm;
    table[0xCB] = op_retf;
    table[0xCF] = op_iret;
    table[0xCC] = op_int3;
    table[0xCD] = op_int;
    table[0xCE] = op_into;
    table[0xF1] = op_int1;
    table[0x63] = op_arpl;
    table[0xF4] = op_hlt;
    table[0xFA] = op_cli;
    table[0xFB] = op_sti;
    table[0x9C] = op_pushf;
    table[0x9D] = op_popf;
    table[0xE4] = op_in_al_imm;
    table[0xE5] = op_in_ax_imm;
    table[0xE6] = op_out_imm_al;
    table[0xE7] = op_out_imm_ax;
    table[0xEC] = op_in_al_dx;
    table[0xED] = op_in_ax_dx;
    table[0xEE] = op_out_dx_al;
    table[0xEF] = op_out_dx_ax;
    table[OP_MAP_0F | 0x00] = op_grp6;
    table[OP_MAP_0F | 0x01] = op_grp7;
    table[OP_MAP_0F | 0x02] = op_lar;
    table[OP_MAP_0F | 0x03] = op_lsl;
    table[OP_MAP_0F | 0x06] = op_clts;
    table[OP_MAP_0F | 0x08] = op_invd;
    table[OP_MAP_0F | 0x09] = op_invd;
    table[OP_MAP_0F | 0x20] = op_mov_r_cr;
    table[OP_MAP_0F | 0x21] = op_mov_r_dr;
    table[OP_MAP_0F | 0x22] = op_mov_cr_r;
    table[OP_MAP_0F | 0x23] = op_mov_dr_r;
    table[OP_MAP_0F | 0x30] = op_wrmsr;
    table[OP_MAP_0F | 0x31] = op_rdtsc;
    table[OP_MAP_0F | 0x32] = op_rdmsr;
    table[OP_MAP_0F | 0x33] = op_rdpmc;
    table[OP_MAP_0F | 0x34] = op_sysenter;
    table[OP_MAP_0F | 0x35] = op_sysexit;
    table[OP_MAP_0F | 0xA2] = op_cpuid;
}
