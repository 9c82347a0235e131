/* cpu_xfer.c: far control transfers with the protected-mode rules: far JMP/CALL (code
 * segments, call gates, task gates, TSS), far RET and IRET (same and outer privilege, return
 * to V86, nested-task return), interrupt and exception delivery through the IDT, and task
 * switches (SDM Vol. 3, chapters 5.8, 6.12 and 7.3).
 *
 * Every transfer reads and checks everything it needs before it changes architectural state,
 * so a fault in the middle leaves the CPU as it was at the start of the instruction (the
 * execution loop restores EIP and ESP). The exception is a task switch, which commits once
 * the old task's state is saved; later faults belong to the new task (SDM Vol. 3, 7.3 step 12).
 */
#include "core/cpu_internal.h"

#include <string.h>

enum { TS_JMP, TS_CALL, TS_IRET, TS_INT };

/* Descriptor type values (SegCache.flags & 0x1F, i.e. with the S bit). */
enum {
    DT_TSS16_AVAIL = 0x01, DT_LDT = 0x02, DT_TSS16_BUSY = 0x03, DT_CALLGATE16 = 0x04,
    DT_TASKGATE = 0x05, DT_INTGATE16 = 0x06, DT_TRAPGATE16 = 0x07, DT_TSS32_AVAIL = 0x09,
    DT_TSS32_BUSY = 0x0B, DT_CALLGATE32 = 0x0C, DT_INTGATE32 = 0x0E, DT_TRAPGATE32 = 0x0F,
};

static inline int d_dpl(uint32_t hi)
{
    return (hi >> 13) & 3;
}

static inline bool d_present(uint32_t hi)
{
    return (hi & (1u << 15)) != 0;
}

static inline unsigned d_systype(uint32_t hi)
{
    return (hi >> 8) & 0x1F; /* S bit included: 0x00-0x0F are system descriptors */
}

static inline bool d_is_code(uint32_t hi)
{
    return (hi & (3u << 11)) == (3u << 11); /* S = 1 and type bit 3 */
}

static inline bool d_conforming(uint32_t hi)
{
    return (hi & (1u << 10)) != 0;
}

static inline bool d_is_writable_data(uint32_t hi)
{
    return (hi & (1u << 12)) && !(hi & (1u << 11)) && (hi & (1u << 9));
}

static _Noreturn void raise_err(CPUState *cpu, int vec, uint32_t err)
{
    cpu_raise_exception(cpu, vec, true, err);
}

/* --- stacks outside SS --- */

/* XStack: a stack described by a segment cache that need not be in SS yet (the inner stack
 * of a privilege change), with the fault to raise on a limit violation. */
typedef struct XStack {
    SegCache ss;
    uint32_t sp;
    bool user;
    bool prot;       /* protected-mode limit rules (expand-down) */
    uint32_t err;
} XStack;

static void xs_init_current(CPUState *cpu, XStack *x)
{
    x->ss = cpu->seg[S_SS];
    x->sp = cpu->regs[R_ESP];
    x->user = cpu->cpl == 3;
    x->prot = cpu_pe(cpu) && !cpu_v86(cpu);
    x->err = 0;
}

static inline uint32_t xs_mask(const XStack *x)
{
    return (x->ss.flags & SEGF_DB) ? 0xFFFFFFFFu : 0xFFFFu;
}

static uint32_t xs_lin(CPUState *cpu, const XStack *x, uint32_t off, unsigned size)
{
    if (!seg_limit_ok(&x->ss, off, size, x->prot)) {
        raise_err(cpu, EXC_SS, x->err);
    }
    return x->ss.base + off;
}

static void xs_push(CPUState *cpu, XStack *x, uint32_t v, unsigned size)
{
    uint32_t mask = xs_mask(x);
    uint32_t sp = (x->sp - size) & mask;
    cpu_st_lin_priv(cpu, xs_lin(cpu, x, sp, size), v, size, x->user);
    x->sp = (x->sp & ~mask) | sp;
}

static uint32_t xs_pop(CPUState *cpu, XStack *x, unsigned size)
{
    uint32_t mask = xs_mask(x);
    uint32_t sp = x->sp & mask;
    uint32_t v = cpu_ld_lin_priv(cpu, xs_lin(cpu, x, sp, size), size, x->user);
    x->sp = (x->sp & ~mask) | ((sp + size) & mask);
    return v;
}

/* xs_commit: make x the current stack (same SS). */
static void xs_commit_sp(CPUState *cpu, const XStack *x)
{
    cpu->regs[R_ESP] = x->sp;
}

static void cache_from_desc(SegCache *s, uint16_t sel, uint32_t lo, uint32_t hi)
{
    s->sel = sel;
    s->base = desc_base(lo, hi);
    s->limit = desc_limit(lo, hi);
    s->flags = desc_flags(hi) | SEGF_ACCESSED;
}

/* --- shared checks --- */

/* load_cs: commit CS from a checked descriptor, with RPL = the new CPL. */
static void load_cs(CPUState *cpu, uint16_t sel, uint32_t lo, uint32_t hi, int cpl)
{
    cpu_desc_set_accessed(cpu, sel, hi);
    cache_from_desc(&cpu->seg[S_CS], (uint16_t)((sel & ~3u) | (unsigned)cpl), lo, hi);
    cpu->cpl = cpl;
}

/* read_desc_or: the descriptor of sel, or raise vec(sel & ~3 | ext). */
static void read_desc_or(CPUState *cpu, uint16_t sel, uint32_t *lo, uint32_t *hi, int vec,
                         uint32_t ext)
{
    if (!cpu_desc_read(cpu, sel, lo, hi)) {
        raise_err(cpu, vec, (sel & 0xFFFCu) | ext);
    }
}

/* check_ss_for: the SS checks of a privilege change to `cpl` (INT, CALL through a gate, RET,
 * IRET): RPL = DPL = cpl, writable data, present. vec is #TS for the inward direction and
 * #GP for returns. */
static void check_ss_for(CPUState *cpu, uint16_t sel, int cpl, uint32_t *lo, uint32_t *hi,
                         int vec, uint32_t ext)
{
    if ((sel & ~3u) == 0) {
        raise_err(cpu, vec, ext);
    }
    read_desc_or(cpu, sel, lo, hi, vec, ext);
    if ((int)(sel & 3) != cpl || d_dpl(*hi) != cpl || !d_is_writable_data(*hi)) {
        raise_err(cpu, vec, (sel & 0xFFFCu) | ext);
    }
    if (!d_present(*hi)) {
        raise_err(cpu, EXC_SS, (sel & 0xFFFCu) | ext);
    }
}

/* inner_stack: SS:ESP for privilege level dpl from the current TSS (SDM Vol. 3, 7.2.1). */
static void inner_stack(CPUState *cpu, int dpl, uint16_t *ss, uint32_t *esp, uint32_t ext)
{
    unsigned type = cpu->tr.flags & 0xF;
    if (type == DT_TSS32_BUSY || type == DT_TSS32_AVAIL) {
        uint32_t off = 4 + 8 * (uint32_t)dpl;
        if (off + 7 > cpu->tr.limit) {
            raise_err(cpu, EXC_TS, (cpu->tr.sel & 0xFFFCu) | ext);
        }
        *esp = cpu_ld_sys(cpu, cpu->tr.base + off, 4);
        *ss = (uint16_t)cpu_ld_sys(cpu, cpu->tr.base + off + 4, 2);
    } else {
        uint32_t off = 2 + 4 * (uint32_t)dpl;
        if (off + 3 > cpu->tr.limit) {
            raise_err(cpu, EXC_TS, (cpu->tr.sel & 0xFFFCu) | ext);
        }
        *esp = cpu_ld_sys(cpu, cpu->tr.base + off, 2);
        *ss = (uint16_t)cpu_ld_sys(cpu, cpu->tr.base + off + 2, 2);
    }
}

/* null_outer_segments: after a return to an outer level, data segment registers the new CPL
 * may not use become null (SDM Vol. 3, RET/IRET pseudocode). */
static void null_outer_segments(CPUState *cpu)
{
    static const int segs[] = {S_ES, S_DS, S_FS, S_GS};
    for (unsigned i = 0; i < 4; i++) {
        SegCache *s = &cpu->seg[segs[i]];
        int dpl = (s->flags & SEGF_DPL) >> 5;
        bool data_or_nc = !(s->flags & 0x8) || !(s->flags & 0x4);
        if ((s->flags & SEGF_S) && data_or_nc && dpl < cpu->cpl) {
            cpu_seg_load_null(cpu, segs[i], 0);
        }
    }
}

/* set_eip_checked: EIP = off within the (new) CS limit, else #GP(0). */
static void set_eip_checked(CPUState *cpu, uint32_t off)
{
    if (off > cpu->seg[S_CS].limit) {
        raise_err(cpu, EXC_GP, 0);
    }
    cpu->eip = off;
}

/* check_code_target: a code segment a JMP/CALL may reach directly: conforming with DPL <=
 * CPL, or non-conforming with RPL <= CPL and DPL = CPL; present. */
static void check_code_target(CPUState *cpu, uint16_t sel, uint32_t hi)
{
    int dpl = d_dpl(hi);
    if (d_conforming(hi)) {
        if (dpl > cpu->cpl) {
            raise_err(cpu, EXC_GP, sel & 0xFFFCu);
        }
    } else if ((int)(sel & 3) > cpu->cpl || dpl != cpu->cpl) {
        raise_err(cpu, EXC_GP, sel & 0xFFFCu);
    }
    if (!d_present(hi)) {
        raise_err(cpu, EXC_NP, sel & 0xFFFCu);
    }
}

/* --- task switch --- */

/* task_switch: switch to the task whose TSS descriptor (lo, hi) sel names. reason is TS_*.
 * next_eip is the EIP saved in the old task. Returns with the new task's state loaded. */
static void task_switch(CPUState *cpu, uint16_t sel, uint32_t lo, uint32_t hi, int reason,
                        uint32_t next_eip, uint32_t ext)
{
    unsigned type = d_systype(hi);
    bool new32 = type == DT_TSS32_AVAIL || type == DT_TSS32_BUSY;
    uint32_t nbase = desc_base(lo, hi);
    uint32_t nlimit = desc_limit(lo, hi);
    uint32_t ec = (sel & 0xFFFCu) | ext;

    if (!d_present(hi)) {
        raise_err(cpu, EXC_NP, ec);
    }
    if (nlimit < (new32 ? 0x67u : 0x2Bu)) {
        raise_err(cpu, EXC_TS, ec);
    }

    /* Read the new task's state before changing anything. */
    uint32_t n_cr3 = 0, n_eip, n_eflags, n_regs[8];
    uint16_t n_seg[S_NSEG], n_ldt;
    bool n_trap = false;
    if (new32) {
        n_trap = (cpu_ld_sys(cpu, nbase + 0x64, 2) & 1) != 0;
        n_cr3 = cpu_ld_sys(cpu, nbase + 0x1C, 4);
        n_eip = cpu_ld_sys(cpu, nbase + 0x20, 4);
        n_eflags = cpu_ld_sys(cpu, nbase + 0x24, 4);
        for (int i = 0; i < 8; i++) {
            n_regs[i] = cpu_ld_sys(cpu, nbase + 0x28 + 4 * (uint32_t)i, 4);
        }
        for (int i = 0; i < S_NSEG; i++) {
            n_seg[i] = (uint16_t)cpu_ld_sys(cpu, nbase + 0x48 + 4 * (uint32_t)i, 2);
        }
        n_ldt = (uint16_t)cpu_ld_sys(cpu, nbase + 0x60, 2);
    } else {
        n_eip = cpu_ld_sys(cpu, nbase + 0x0E, 2);
        n_eflags = cpu_ld_sys(cpu, nbase + 0x10, 2);
        /* A 16-bit TSS holds the low halves; the upper halves keep their values. */
        for (int i = 0; i < 8; i++) {
            n_regs[i] = (cpu->regs[i] & 0xFFFF0000u) |
                        cpu_ld_sys(cpu, nbase + 0x12 + 2 * (uint32_t)i, 2);
        }
        for (int i = 0; i < 4; i++) {
            n_seg[i] = (uint16_t)cpu_ld_sys(cpu, nbase + 0x22 + 2 * (uint32_t)i, 2);
        }
        n_seg[S_FS] = n_seg[S_GS] = 0;
        n_ldt = (uint16_t)cpu_ld_sys(cpu, nbase + 0x2A, 2);
    }

    /* Save the old task. */
    uint32_t obase = cpu->tr.base;
    unsigned otype = cpu->tr.flags & 0xF;
    bool old32 = otype == DT_TSS32_AVAIL || otype == DT_TSS32_BUSY;
    uint32_t oflags = cpu_get_eflags(cpu);
    if (reason == TS_JMP || reason == TS_IRET) {
        uint32_t ohi_addr = cpu->gdtr.base + (cpu->tr.sel & ~7u) + 4;
        uint32_t ohi = cpu_ld_sys(cpu, ohi_addr, 4);
        cpu_st_sys(cpu, ohi_addr, ohi & ~(1u << 9), 4);
    }
    if (reason == TS_IRET) {
        oflags &= ~EF_NT;
    }
    if (old32) {
        cpu_st_sys(cpu, obase + 0x20, next_eip, 4);
        cpu_st_sys(cpu, obase + 0x24, oflags, 4);
        for (int i = 0; i < 8; i++) {
            cpu_st_sys(cpu, obase + 0x28 + 4 * (uint32_t)i, cpu->regs[i], 4);
        }
        for (int i = 0; i < S_NSEG; i++) {
            cpu_st_sys(cpu, obase + 0x48 + 4 * (uint32_t)i, cpu->seg[i].sel, 2);
        }
    } else {
        cpu_st_sys(cpu, obase + 0x0E, next_eip, 2);
        cpu_st_sys(cpu, obase + 0x10, oflags, 2);
        for (int i = 0; i < 8; i++) {
            cpu_st_sys(cpu, obase + 0x12 + 2 * (uint32_t)i, cpu->regs[i], 2);
        }
        for (int i = 0; i < 4; i++) {
            cpu_st_sys(cpu, obase + 0x22 + 2 * (uint32_t)i, cpu->seg[i].sel, 2);
        }
    }
    if (reason == TS_CALL || reason == TS_INT) {
        cpu_st_sys(cpu, nbase, cpu->tr.sel, 2);
        n_eflags |= EF_NT;
    }
    if (reason != TS_IRET) {
        uint32_t nhi_addr = cpu->gdtr.base + (sel & ~7u) + 4;
        hi |= 1u << 9;
        cpu_st_sys(cpu, nhi_addr, hi, 4);
    }

    /* Commit: from here on faults belong to the new task. */
    cpu->tr.sel = sel;
    cpu->tr.base = nbase;
    cpu->tr.limit = nlimit;
    cpu->tr.flags = desc_flags(hi) | (1u << 1);
    cpu->cr0 |= CR0_TS;
    if (new32 && (cpu->cr0 & CR0_PG)) {
        cpu->cr3 = n_cr3;
        tlb_flush(cpu, false);
    } else if (new32) {
        cpu->cr3 = n_cr3;
    }
    memcpy(cpu->regs, n_regs, sizeof(n_regs));
    cpu_set_eflags(cpu, n_eflags | EF_FIXED1, EF_ALL_DEFINED);
    cpu->eip = n_eip;
    /* Selectors are loaded first, descriptors after (a fault then names the bad selector). */
    for (int i = 0; i < S_NSEG; i++) {
        cpu->seg[i].sel = n_seg[i];
    }
    cpu->ldtr.sel = n_ldt;
    cpu->insn_eip = cpu->eip;
    cpu->insn_esp = cpu->regs[R_ESP];
    if (n_trap) {
        /* The T bit: a #DB trap with DR6.BT once the switch completes (SDM Vol. 3, 7.2.1). */
        cpu->pending_db |= 1u << 15;
    }

    /* LDT. */
    if ((n_ldt & ~3u) == 0) {
        cpu->ldtr.base = 0;
        cpu->ldtr.limit = 0;
        cpu->ldtr.flags = 0;
    } else {
        uint32_t llo, lhi;
        if ((n_ldt & 4) || !cpu_desc_read(cpu, n_ldt, &llo, &lhi) ||
            d_systype(lhi) != DT_LDT) {
            raise_err(cpu, EXC_TS, n_ldt & 0xFFFCu);
        }
        if (!d_present(lhi)) {
            raise_err(cpu, EXC_TS, n_ldt & 0xFFFCu);
        }
        cache_from_desc(&cpu->ldtr, n_ldt, llo, lhi);
    }

    if (n_eflags & EF_VM) {
        for (int i = 0; i < S_NSEG; i++) {
            SegCache *s = &cpu->seg[i];
            s->base = (uint32_t)n_seg[i] << 4;
            s->limit = 0xFFFF;
            s->flags = SEGF_P | SEGF_S | SEGF_DPL | (i == S_CS ? 0xB : 0x3);
        }
        cpu->cpl = 3;
        set_eip_checked(cpu, cpu->eip);
        return;
    }

    /* CS: code, privilege from its RPL (SDM Vol. 3, 7.3 step 12, table 7-1 / 7-2). */
    uint16_t cs = n_seg[S_CS];
    uint32_t clo, chi;
    if ((cs & ~3u) == 0) {
        raise_err(cpu, EXC_TS, 0);
    }
    read_desc_or(cpu, cs, &clo, &chi, EXC_TS, 0);
    int ncpl = cs & 3;
    if (!d_is_code(chi) || (d_conforming(chi) ? d_dpl(chi) > ncpl : d_dpl(chi) != ncpl)) {
        raise_err(cpu, EXC_TS, cs & 0xFFFCu);
    }
    if (!d_present(chi)) {
        raise_err(cpu, EXC_NP, cs & 0xFFFCu);
    }
    uint32_t slo, shi;
    uint16_t ss = n_seg[S_SS];
    if ((ss & ~3u) == 0) {
        raise_err(cpu, EXC_TS, 0);
    }
    read_desc_or(cpu, ss, &slo, &shi, EXC_TS, 0);
    if ((int)(ss & 3) != ncpl || d_dpl(shi) != ncpl || !d_is_writable_data(shi)) {
        raise_err(cpu, EXC_TS, ss & 0xFFFCu);
    }
    if (!d_present(shi)) {
        raise_err(cpu, EXC_SS, ss & 0xFFFCu);
    }
    load_cs(cpu, cs, clo, chi, ncpl);
    cpu_desc_set_accessed(cpu, ss, shi);
    cache_from_desc(&cpu->seg[S_SS], ss, slo, shi);

    static const int dsegs[] = {S_ES, S_DS, S_FS, S_GS};
    for (unsigned i = 0; i < 4; i++) {
        int sr = dsegs[i];
        uint16_t s = n_seg[sr];
        if ((s & ~3u) == 0) {
            cpu_seg_load_null(cpu, sr, s);
            continue;
        }
        uint32_t dlo, dhi;
        read_desc_or(cpu, s, &dlo, &dhi, EXC_TS, 0);
        bool ok = (dhi & (1u << 12)) && (!d_is_code(dhi) || (dhi & (1u << 9)));
        if (ok && !(d_is_code(dhi) && d_conforming(dhi))) {
            int dpl = d_dpl(dhi);
            ok = dpl >= ncpl && dpl >= (int)(s & 3);
        }
        if (!ok) {
            raise_err(cpu, EXC_TS, s & 0xFFFCu);
        }
        if (!d_present(dhi)) {
            raise_err(cpu, EXC_NP, s & 0xFFFCu);
        }
        cpu_desc_set_accessed(cpu, s, dhi);
        cache_from_desc(&cpu->seg[sr], s, dlo, dhi);
    }
    set_eip_checked(cpu, cpu->eip);
}

/* task_gate_target: the TSS a task gate or a JMP/CALL to a TSS names, checked. */
static void switch_via_tss_sel(CPUState *cpu, uint16_t tss_sel, int reason, uint32_t next_eip,
                               uint32_t ext)
{
    uint32_t lo, hi;
    if ((tss_sel & 4) || (tss_sel & ~3u) == 0) {
        raise_err(cpu, EXC_GP, (tss_sel & 0xFFFCu) | ext);
    }
    read_desc_or(cpu, tss_sel, &lo, &hi, EXC_GP, ext);
    unsigned t = d_systype(hi);
    if (t != DT_TSS16_AVAIL && t != DT_TSS32_AVAIL) {
        raise_err(cpu, EXC_GP, (tss_sel & 0xFFFCu) | ext);
    }
    if (!d_present(hi)) {
        raise_err(cpu, EXC_NP, (tss_sel & 0xFFFCu) | ext);
    }
    task_switch(cpu, tss_sel, lo, hi, reason, next_eip, ext);
}

/* --- far JMP and CALL --- */

void cpu_far_jump(CPUState *cpu, uint16_t sel, uint32_t off, unsigned opsize)
{
    if (opsize == 2) {
        off &= 0xFFFF;
    }
    if (!cpu_pe(cpu) || cpu_v86(cpu)) {
        if (off > cpu->seg[S_CS].limit) {
            raise_err(cpu, EXC_GP, 0);
        }
        cpu_load_seg_cs_real(cpu, sel);
        cpu->eip = off;
        return;
    }
    if ((sel & ~3u) == 0) {
        raise_err(cpu, EXC_GP, 0);
    }
    uint32_t lo, hi;
    read_desc_or(cpu, sel, &lo, &hi, EXC_GP, 0);
    if (hi & (1u << 12)) {
        if (!d_is_code(hi)) {
            raise_err(cpu, EXC_GP, sel & 0xFFFCu);
        }
        check_code_target(cpu, sel, hi);
        if (off > desc_limit(lo, hi)) {
            raise_err(cpu, EXC_GP, 0);
        }
        load_cs(cpu, sel, lo, hi, cpu->cpl);
        cpu->eip = off;
        return;
    }
    unsigned t = d_systype(hi);
    int dpl = d_dpl(hi);
    if (t == DT_CALLGATE16 || t == DT_CALLGATE32 || t == DT_TASKGATE || t == DT_TSS16_AVAIL ||
        t == DT_TSS32_AVAIL) {
        if (dpl < cpu->cpl || dpl < (int)(sel & 3)) {
            raise_err(cpu, EXC_GP, sel & 0xFFFCu);
        }
        if (!d_present(hi)) {
            raise_err(cpu, EXC_NP, sel & 0xFFFCu);
        }
    }
    switch (t) {
    case DT_CALLGATE16:
    case DT_CALLGATE32: {
        uint16_t tsel = (uint16_t)(lo >> 16);
        uint32_t toff = (lo & 0xFFFF) | (t == DT_CALLGATE32 ? (hi & 0xFFFF0000u) : 0);
        uint32_t tlo, thi;
        if ((tsel & ~3u) == 0) {
            raise_err(cpu, EXC_GP, 0);
        }
        read_desc_or(cpu, tsel, &tlo, &thi, EXC_GP, 0);
        if (!d_is_code(thi)) {
            raise_err(cpu, EXC_GP, tsel & 0xFFFCu);
        }
        int tdpl = d_dpl(thi);
        if (d_conforming(thi) ? tdpl > cpu->cpl : tdpl != cpu->cpl) {
            raise_err(cpu, EXC_GP, tsel & 0xFFFCu);
        }
        if (!d_present(thi)) {
            raise_err(cpu, EXC_NP, tsel & 0xFFFCu);
        }
        if (toff > desc_limit(tlo, thi)) {
            raise_err(cpu, EXC_GP, 0);
        }
        load_cs(cpu, tsel, tlo, thi, cpu->cpl);
        cpu->eip = toff;
        return;
    }
    case DT_TASKGATE:
        switch_via_tss_sel(cpu, (uint16_t)(lo >> 16), TS_JMP, cpu->eip, 0);
        return;
    case DT_TSS16_AVAIL:
    case DT_TSS32_AVAIL:
        task_switch(cpu, sel, lo, hi, TS_JMP, cpu->eip, 0);
        return;
    default:
        raise_err(cpu, EXC_GP, sel & 0xFFFCu);
    }
}

void cpu_far_call(CPUState *cpu, uint16_t sel, uint32_t off, unsigned opsize,
                  uint32_t next_eip)
{
    if (opsize == 2) {
        off &= 0xFFFF;
    }
    XStack x;
    xs_init_current(cpu, &x);
    if (!cpu_pe(cpu) || cpu_v86(cpu)) {
        xs_push(cpu, &x, cpu->seg[S_CS].sel, opsize);
        xs_push(cpu, &x, next_eip, opsize);
        if (off > cpu->seg[S_CS].limit) {
            raise_err(cpu, EXC_GP, 0);
        }
        xs_commit_sp(cpu, &x);
        cpu_load_seg_cs_real(cpu, sel);
        cpu->eip = off;
        return;
    }
    if ((sel & ~3u) == 0) {
        raise_err(cpu, EXC_GP, 0);
    }
    uint32_t lo, hi;
    read_desc_or(cpu, sel, &lo, &hi, EXC_GP, 0);
    if (hi & (1u << 12)) {
        if (!d_is_code(hi)) {
            raise_err(cpu, EXC_GP, sel & 0xFFFCu);
        }
        check_code_target(cpu, sel, hi);
        xs_push(cpu, &x, cpu->seg[S_CS].sel, opsize);
        xs_push(cpu, &x, next_eip, opsize);
        if (off > desc_limit(lo, hi)) {
            raise_err(cpu, EXC_GP, 0);
        }
        xs_commit_sp(cpu, &x);
        load_cs(cpu, sel, lo, hi, cpu->cpl);
        cpu->eip = off;
        return;
    }
    unsigned t = d_systype(hi);
    int dpl = d_dpl(hi);
    if (t != DT_CALLGATE16 && t != DT_CALLGATE32 && t != DT_TASKGATE && t != DT_TSS16_AVAIL &&
        t != DT_TSS32_AVAIL) {
        raise_err(cpu, EXC_GP, sel & 0xFFFCu);
    }
    if (dpl < cpu->cpl || dpl < (int)(sel & 3)) {
        raise_err(cpu, EXC_GP, sel & 0xFFFCu);
    }
    if (!d_present(hi)) {
        raise_err(cpu, EXC_NP, sel & 0xFFFCu);
    }
    if (t == DT_TASKGATE) {
        switch_via_tss_sel(cpu, (uint16_t)(lo >> 16), TS_CALL, next_eip, 0);
        return;
    }
    if (t == DT_TSS16_AVAIL || t == DT_TSS32_AVAIL) {
        task_switch(cpu, sel, lo, hi, TS_CALL, next_eip, 0);
        return;
    }

    /* Call gate (SDM Vol. 3, 5.8.5). */
    unsigned gsize = t == DT_CALLGATE32 ? 4 : 2;
    uint16_t tsel = (uint16_t)(lo >> 16);
    uint32_t toff = (lo & 0xFFFF) | (gsize == 4 ? (hi & 0xFFFF0000u) : 0);
    unsigned nparams = hi & 0x1F;
    uint32_t tlo, thi;
    if ((tsel & ~3u) == 0) {
        raise_err(cpu, EXC_GP, 0);
    }
    read_desc_or(cpu, tsel, &tlo, &thi, EXC_GP, 0);
    int tdpl = d_dpl(thi);
    if (!d_is_code(thi) || tdpl > cpu->cpl) {
        raise_err(cpu, EXC_GP, tsel & 0xFFFCu);
    }
    if (!d_present(thi)) {
        raise_err(cpu, EXC_NP, tsel & 0xFFFCu);
    }
    if (!d_conforming(thi) && tdpl < cpu->cpl) {
        /* More privilege: switch to the inner stack from the TSS and copy the parameters. */
        uint16_t nss;
        uint32_t nesp, slo, shi;
        inner_stack(cpu, tdpl, &nss, &nesp, 0);
        if ((nss & ~3u) == 0) {
            raise_err(cpu, EXC_TS, 0);
        }
        read_desc_or(cpu, nss, &slo, &shi, EXC_TS, 0);
        if ((int)(nss & 3) != tdpl || d_dpl(shi) != tdpl || !d_is_writable_data(shi)) {
            raise_err(cpu, EXC_TS, nss & 0xFFFCu);
        }
        if (!d_present(shi)) {
            raise_err(cpu, EXC_SS, nss & 0xFFFCu);
        }
        XStack n;
        cache_from_desc(&n.ss, nss, slo, shi);
        n.sp = nesp;
        n.user = tdpl == 3;
        n.prot = true;
        n.err = nss & 0xFFFCu;
        xs_push(cpu, &n, cpu->seg[S_SS].sel, gsize);
        xs_push(cpu, &n, cpu->regs[R_ESP], gsize);
        uint32_t omask = xs_mask(&x);
        for (unsigned i = nparams; i-- > 0;) {
            uint32_t po = (x.sp + i * gsize) & omask;
            uint32_t v = cpu_ld_lin_priv(cpu, xs_lin(cpu, &x, po, gsize), gsize, x.user);
            xs_push(cpu, &n, v, gsize);
        }
        xs_push(cpu, &n, cpu->seg[S_CS].sel, gsize);
        xs_push(cpu, &n, next_eip, gsize);
        if (toff > desc_limit(tlo, thi)) {
            raise_err(cpu, EXC_GP, 0);
        }
        cpu_desc_set_accessed(cpu, nss, shi);
        cpu->seg[S_SS] = n.ss;
        cpu->regs[R_ESP] = n.sp;
        load_cs(cpu, tsel, tlo, thi, tdpl);
        cpu->eip = toff;
        return;
    }
    xs_push(cpu, &x, cpu->seg[S_CS].sel, gsize);
    xs_push(cpu, &x, next_eip, gsize);
    if (toff > desc_limit(tlo, thi)) {
        raise_err(cpu, EXC_GP, 0);
    }
    xs_commit_sp(cpu, &x);
    load_cs(cpu, tsel, tlo, thi, cpu->cpl);
    cpu->eip = toff;
}

/* --- far RET and IRET --- */

/* check_return_cs: the CS a RET/IRET returns to: RPL >= CPL, code, privilege by
 * conformity, present. */
static void check_return_cs(CPUState *cpu, uint16_t sel, uint32_t *lo, uint32_t *hi)
{
    if ((sel & ~3u) == 0) {
        raise_err(cpu, EXC_GP, 0);
    }
    read_desc_or(cpu, sel, lo, hi, EXC_GP, 0);
    int rpl = sel & 3;
    if (rpl < cpu->cpl || !d_is_code(*hi)) {
        raise_err(cpu, EXC_GP, sel & 0xFFFCu);
    }
    if (d_conforming(*hi) ? d_dpl(*hi) > rpl : d_dpl(*hi) != rpl) {
        raise_err(cpu, EXC_GP, sel & 0xFFFCu);
    }
    if (!d_present(*hi)) {
        raise_err(cpu, EXC_NP, sel & 0xFFFCu);
    }
}

/* return_outer: finish a RET/IRET to an outer level: x points past CS:EIP (and EFLAGS). */
static void return_outer(CPUState *cpu, XStack *x, uint16_t cs, uint32_t clo, uint32_t chi,
                         uint32_t eip, unsigned opsize, uint16_t imm)
{
    int rpl = cs & 3;
    uint32_t mask = xs_mask(x);
    x->sp = (x->sp & ~mask) | ((x->sp + imm) & mask);
    uint32_t nesp = xs_pop(cpu, x, opsize);
    uint16_t nss = (uint16_t)xs_pop(cpu, x, opsize);
    uint32_t slo, shi;
    check_ss_for(cpu, nss, rpl, &slo, &shi, EXC_GP, 0);
    if (eip > desc_limit(clo, chi)) {
        raise_err(cpu, EXC_GP, 0);
    }
    load_cs(cpu, cs, clo, chi, rpl);
    cpu->eip = eip;
    cpu_desc_set_accessed(cpu, nss, shi);
    cache_from_desc(&cpu->seg[S_SS], nss, slo, shi);
    if (shi & (1u << 22)) {
        cpu->regs[R_ESP] = nesp + imm;
    } else {
        cpu->regs[R_ESP] = (cpu->regs[R_ESP] & 0xFFFF0000u) | ((nesp + imm) & 0xFFFF);
    }
    null_outer_segments(cpu);
}

void cpu_far_ret(CPUState *cpu, unsigned opsize, uint16_t imm)
{
    XStack x;
    xs_init_current(cpu, &x);
    uint32_t eip = xs_pop(cpu, &x, opsize);
    uint16_t cs = (uint16_t)xs_pop(cpu, &x, opsize);
    if (opsize == 2) {
        eip &= 0xFFFF;
    }
    if (!cpu_pe(cpu) || cpu_v86(cpu)) {
        if (eip > cpu->seg[S_CS].limit) {
            raise_err(cpu, EXC_GP, 0);
        }
        uint32_t mask = xs_mask(&x);
        x.sp = (x.sp & ~mask) | ((x.sp + imm) & mask);
        xs_commit_sp(cpu, &x);
        cpu_load_seg_cs_real(cpu, cs);
        cpu->eip = eip;
        return;
    }
    uint32_t clo, chi;
    check_return_cs(cpu, cs, &clo, &chi);
    if ((cs & 3) == cpu->cpl) {
        if (eip > desc_limit(clo, chi)) {
            raise_err(cpu, EXC_GP, 0);
        }
        uint32_t mask = xs_mask(&x);
        x.sp = (x.sp & ~mask) | ((x.sp + imm) & mask);
        xs_commit_sp(cpu, &x);
        load_cs(cpu, cs, clo, chi, cpu->cpl);
        cpu->eip = eip;
        return;
    }
    return_outer(cpu, &x, cs, clo, chi, eip, opsize, imm);
}

/* iret_flags_mask: which EFLAGS bits an IRET/POPF may write at this privilege (SDM Vol. 2,
 * IRET and POPF operation). */
uint32_t cpu_flags_write_mask(const CPUState *cpu, unsigned opsize)
{
    uint32_t m = EF_ARITH | EF_TF | EF_DF | EF_NT;
    if (opsize == 4) {
        m |= EF_RF | EF_AC | EF_ID;
    }
    int iopl = (cpu->eflags & EF_IOPL) >> 12;
    if (!cpu_pe(cpu) || cpu->cpl <= iopl) {
        m |= EF_IF;
    }
    if (!cpu_pe(cpu) || cpu->cpl == 0) {
        m |= EF_IOPL;
        if (opsize == 4 && cpu_pe(cpu)) {
            m |= EF_VIF | EF_VIP;
        }
    }
    return m;
}

static void iret_to_v86(CPUState *cpu, XStack *x, uint32_t eip, uint16_t cs, uint32_t fl)
{
    uint32_t nesp = xs_pop(cpu, x, 4);
    uint16_t nss = (uint16_t)xs_pop(cpu, x, 4);
    uint16_t es = (uint16_t)xs_pop(cpu, x, 4);
    uint16_t ds = (uint16_t)xs_pop(cpu, x, 4);
    uint16_t fs = (uint16_t)xs_pop(cpu, x, 4);
    uint16_t gs = (uint16_t)xs_pop(cpu, x, 4);
    cpu_set_eflags(cpu, fl | EF_FIXED1 | EF_VM, EF_ALL_DEFINED);
    uint16_t sels[S_NSEG];
    sels[S_ES] = es;
    sels[S_CS] = cs;
    sels[S_SS] = nss;
    sels[S_DS] = ds;
    sels[S_FS] = fs;
    sels[S_GS] = gs;
    for (int i = 0; i < S_NSEG; i++) {
        SegCache *s = &cpu->seg[i];
        s->sel = sels[i];
        s->base = (uint32_t)sels[i] << 4;
        s->limit = 0xFFFF;
        s->flags = SEGF_P | SEGF_S | SEGF_DPL | (i == S_CS ? 0xB : 0x3);
    }
    cpu->cpl = 3;
    cpu->regs[R_ESP] = nesp;
    cpu->eip = eip & 0xFFFF;
}

void cpu_iret(CPUState *cpu, unsigned opsize)
{
    cpu->nmi_blocked = false;
    XStack x;
    xs_init_current(cpu, &x);

    if (!cpu_pe(cpu) || cpu_v86(cpu)) {
        if (cpu_v86(cpu) && (cpu->eflags & EF_IOPL) != EF_IOPL) {
            raise_err(cpu, EXC_GP, 0);
        }
        uint32_t eip = xs_pop(cpu, &x, opsize);
        uint16_t cs = (uint16_t)xs_pop(cpu, &x, opsize);
        uint32_t fl = xs_pop(cpu, &x, opsize);
        if (opsize == 2) {
            eip &= 0xFFFF;
        }
        if (eip > cpu->seg[S_CS].limit) {
            raise_err(cpu, EXC_GP, 0);
        }
        uint32_t m;
        if (cpu_v86(cpu)) {
            /* V86 with IOPL 3: IOPL, VM, VIF, VIP stay. */
            m = EF_ARITH | EF_TF | EF_DF | EF_NT | EF_IF;
            if (opsize == 4) {
                m |= EF_RF | EF_AC | EF_ID;
            }
        } else {
            m = cpu_flags_write_mask(cpu, opsize);
        }
        xs_commit_sp(cpu, &x);
        cpu_load_seg_cs_real(cpu, cs);
        cpu->eip = eip;
        cpu_set_eflags(cpu, fl, m);
        return;
    }

    if (cpu->eflags & EF_NT) {
        /* Nested-task return through the back link (SDM Vol. 3, 7.3). */
        uint16_t link = (uint16_t)cpu_ld_sys(cpu, cpu->tr.base, 2);
        uint32_t lo, hi;
        if ((link & 4) || (link & ~3u) == 0) {
            raise_err(cpu, EXC_TS, link & 0xFFFCu);
        }
        read_desc_or(cpu, link, &lo, &hi, EXC_TS, 0);
        unsigned t = d_systype(hi);
        if (t != DT_TSS16_BUSY && t != DT_TSS32_BUSY) {
            raise_err(cpu, EXC_TS, link & 0xFFFCu);
        }
        task_switch(cpu, link, lo, hi, TS_IRET, cpu->eip, 0);
        return;
    }

    uint32_t eip = xs_pop(cpu, &x, opsize);
    uint16_t cs = (uint16_t)xs_pop(cpu, &x, opsize);
    uint32_t fl = xs_pop(cpu, &x, opsize);
    if (opsize == 4 && (fl & EF_VM) && cpu->cpl == 0) {
        iret_to_v86(cpu, &x, eip, cs, fl);
        return;
    }
    if (opsize == 2) {
        eip &= 0xFFFF;
    }
    uint32_t clo, chi;
    check_return_cs(cpu, cs, &clo, &chi);
    uint32_t m = cpu_flags_write_mask(cpu, opsize);
    if ((cs & 3) == cpu->cpl) {
        if (eip > desc_limit(clo, chi)) {
            raise_err(cpu, EXC_GP, 0);
        }
        xs_commit_sp(cpu, &x);
        load_cs(cpu, cs, clo, chi, cpu->cpl);
        cpu->eip = eip;
        cpu_set_eflags(cpu, fl, m);
        return;
    }
    return_outer(cpu, &x, cs, clo, chi, eip, opsize, 0);
    cpu_set_eflags(cpu, fl, m);
}

/* --- interrupts and exceptions in protected mode --- */

void cpu_do_interrupt_prot(CPUState *cpu, int vector, bool is_soft, bool has_err, uint32_t err,
                           uint32_t next_eip)
{
    uint32_t ext = is_soft ? 0 : 1;
    uint32_t gate_ec = (uint32_t)vector * 8 + 2 + ext;
    if ((uint32_t)vector * 8 + 7 > cpu->idtr.limit) {
        raise_err(cpu, EXC_GP, gate_ec);
    }
    uint32_t lo = cpu_ld_sys(cpu, cpu->idtr.base + (uint32_t)vector * 8, 4);
    uint32_t hi = cpu_ld_sys(cpu, cpu->idtr.base + (uint32_t)vector * 8 + 4, 4);
    unsigned t = d_systype(hi);
    if (t != DT_TASKGATE && t != DT_INTGATE16 && t != DT_TRAPGATE16 && t != DT_INTGATE32 &&
        t != DT_TRAPGATE32) {
        raise_err(cpu, EXC_GP, gate_ec);
    }
    /* Software interrupts may not reach a gate more privileged than CPL; in V86 with IOPL < 3
     * INT n is stopped earlier by the instruction (#GP(0)). */
    if (is_soft && d_dpl(hi) < cpu->cpl) {
        raise_err(cpu, EXC_GP, gate_ec);
    }
    if (!d_present(hi)) {
        raise_err(cpu, EXC_NP, gate_ec);
    }
    if (t == DT_TASKGATE) {
        switch_via_tss_sel(cpu, (uint16_t)(lo >> 16), TS_INT, next_eip, ext);
        if (has_err) {
            unsigned sz = (cpu->tr.flags & 0x8) ? 4 : 2;
            XStack x;
            xs_init_current(cpu, &x);
            xs_push(cpu, &x, err, sz);
            xs_commit_sp(cpu, &x);
        }
        return;
    }

    unsigned gsize = (t & 0x8) ? 4 : 2;
    uint16_t tsel = (uint16_t)(lo >> 16);
    uint32_t toff = (lo & 0xFFFF) | (gsize == 4 ? (hi & 0xFFFF0000u) : 0);
    uint32_t tlo, thi;
    if ((tsel & ~3u) == 0) {
        raise_err(cpu, EXC_GP, ext);
    }
    read_desc_or(cpu, tsel, &tlo, &thi, EXC_GP, ext);
    int tdpl = d_dpl(thi);
    if (!d_is_code(thi) || tdpl > cpu->cpl) {
        raise_err(cpu, EXC_GP, (tsel & 0xFFFCu) | ext);
    }
    if (!d_present(thi)) {
        raise_err(cpu, EXC_NP, (tsel & 0xFFFCu) | ext);
    }
    uint32_t fl = cpu_get_eflags(cpu);
    bool from_v86 = (fl & EF_VM) != 0;
    int ncpl;
    XStack n;
    bool switched = false;
    if (!d_conforming(thi) && tdpl < cpu->cpl) {
        if (from_v86 && tdpl != 0) {
            raise_err(cpu, EXC_GP, (tsel & 0xFFFCu) | ext);
        }
        uint16_t nss;
        uint32_t nesp, slo, shi;
        inner_stack(cpu, tdpl, &nss, &nesp, ext);
        if ((nss & ~3u) == 0) {
            raise_err(cpu, EXC_TS, ext);
        }
        read_desc_or(cpu, nss, &slo, &shi, EXC_TS, ext);
        if ((int)(nss & 3) != tdpl || d_dpl(shi) != tdpl || !d_is_writable_data(shi)) {
            raise_err(cpu, EXC_TS, (nss & 0xFFFCu) | ext);
        }
        if (!d_present(shi)) {
            raise_err(cpu, EXC_SS, (nss & 0xFFFCu) | ext);
        }
        cache_from_desc(&n.ss, nss, slo, shi);
        n.sp = nesp;
        n.user = tdpl == 3;
        n.prot = true;
        n.err = (nss & 0xFFFCu) | ext;
        if (from_v86) {
            xs_push(cpu, &n, cpu->seg[S_GS].sel, gsize);
            xs_push(cpu, &n, cpu->seg[S_FS].sel, gsize);
            xs_push(cpu, &n, cpu->seg[S_DS].sel, gsize);
            xs_push(cpu, &n, cpu->seg[S_ES].sel, gsize);
        }
        xs_push(cpu, &n, cpu->seg[S_SS].sel, gsize);
        xs_push(cpu, &n, cpu->regs[R_ESP], gsize);
        ncpl = tdpl;
        switched = true;
        cpu_desc_set_accessed(cpu, nss, shi);
    } else {
        if (from_v86) {
            raise_err(cpu, EXC_GP, (tsel & 0xFFFCu) | ext);
        }
        xs_init_current(cpu, &n);
        ncpl = cpu->cpl;
    }
    xs_push(cpu, &n, fl, gsize);
    xs_push(cpu, &n, cpu->seg[S_CS].sel, gsize);
    xs_push(cpu, &n, next_eip, gsize);
    if (has_err) {
        xs_push(cpu, &n, err, gsize);
    }
    if (toff > desc_limit(tlo, thi)) {
        raise_err(cpu, EXC_GP, ext);
    }

    /* Commit. */
    if (switched) {
        cpu->seg[S_SS] = n.ss;
        if (from_v86) {
            static const int vsegs[] = {S_ES, S_DS, S_FS, S_GS};
            for (unsigned i = 0; i < 4; i++) {
                cpu_seg_load_null(cpu, vsegs[i], 0);
            }
        }
    }
    cpu->regs[R_ESP] = n.sp;
    load_cs(cpu, tsel, tlo, thi, ncpl);
    cpu->eip = toff;
    uint32_t clear = EF_TF | EF_NT | EF_RF | EF_VM;
    if (t == DT_INTGATE16 || t == DT_INTGATE32) {
        clear |= EF_IF;
    }
    cpu_set_eflags(cpu, 0, clear);
}
