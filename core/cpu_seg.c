/* cpu_seg.c: segment register loads (real, V86 and protected mode with every check),
 * descriptor-table access and mode bookkeeping. */
#include "core/cpu_internal.h"

void cpu_set_seg_real(CPUState *cpu, int seg, uint16_t sel)
{
    SegCache *s = &cpu->seg[seg];
    s->sel = sel;
    s->base = (uint32_t)sel << 4;
    s->limit = 0xFFFF;
    s->flags = SEGF_P | SEGF_S | (seg == S_CS ? 0xB : 0x3);
}

void cpu_load_seg_cs_real(CPUState *cpu, uint16_t sel)
{
    SegCache *s = &cpu->seg[S_CS];
    s->sel = sel;
    s->base = (uint32_t)sel << 4;
    if (cpu_pe(cpu) && cpu_v86(cpu)) {
        s->limit = 0xFFFF;
        s->flags = SEGF_P | SEGF_S | SEGF_DPL | 0xB;
    }
}

void cpu_update_mode(CPUState *cpu)
{
    if (!cpu_pe(cpu)) {
        cpu->cpl = 0;
    } else if (cpu_v86(cpu)) {
        cpu->cpl = 3;
    } else {
        /* SS.DPL always equals CPL in protected mode (it also stays right across the PE switch,
         * where CS still holds a real-mode selector). */
        cpu->cpl = (cpu->seg[S_SS].flags & SEGF_DPL) >> 5;
    }
}

bool cpu_desc_read(CPUState *cpu, uint16_t sel, uint32_t *lo, uint32_t *hi)
{
    uint32_t base, limit;
    if (sel & 4) {
        if (!(cpu->ldtr.flags & SEGF_P) || (cpu->ldtr.sel & ~3u) == 0) {
            return false;
        }
        base = cpu->ldtr.base;
        limit = cpu->ldtr.limit;
    } else {
        base = cpu->gdtr.base;
        limit = cpu->gdtr.limit;
    }
    uint32_t idx = sel & ~7u;
    if (idx + 7 > limit) {
        return false;
    }
    *lo = cpu_ld_sys(cpu, base + idx, 4);
    *hi = cpu_ld_sys(cpu, base + idx + 4, 4);
    return true;
}

void cpu_desc_set_accessed(CPUState *cpu, uint16_t sel, uint32_t hi)
{
    if (hi & (1u << 8)) {
        return;
    }
    uint32_t base = (sel & 4) ? cpu->ldtr.base : cpu->gdtr.base;
    cpu_st_sys(cpu, base + (sel & ~7u) + 4, hi | (1u << 8), 4);
}

void cpu_seg_load_desc(CPUState *cpu, int seg, uint16_t sel, uint32_t lo, uint32_t hi)
{
    SegCache *s = &cpu->seg[seg];
    s->sel = sel;
    s->base = desc_base(lo, hi);
    s->limit = desc_limit(lo, hi);
    s->flags = desc_flags(hi) | SEGF_ACCESSED;
}

void cpu_seg_load_null(CPUState *cpu, int seg, uint16_t sel)
{
    SegCache *s = &cpu->seg[seg];
    s->sel = sel;
    s->base = 0;
    s->limit = 0;
    s->flags = 0;
}

void cpu_load_seg(CPUState *cpu, int seg, uint16_t sel)
{
    SegCache *s = &cpu->seg[seg];
    if (!cpu_pe(cpu)) {
        /* Real mode: only the selector and base change (SDM Vol. 3, 20.1.1). */
        s->sel = sel;
        s->base = (uint32_t)sel << 4;
        return;
    }
    if (cpu_v86(cpu)) {
        s->sel = sel;
        s->base = (uint32_t)sel << 4;
        s->limit = 0xFFFF;
        s->flags = SEGF_P | SEGF_S | SEGF_DPL | 0x3;
        return;
    }

    uint32_t ec = sel & 0xFFFCu;
    int rpl = sel & 3;
    int cpl = cpu->cpl;
    if ((sel & ~3u) == 0) {
        if (seg == S_SS) {
            cpu_raise_gp(cpu, 0);
        }
        cpu_seg_load_null(cpu, seg, sel);
        return;
    }
    uint32_t lo, hi;
    if (!cpu_desc_read(cpu, sel, &lo, &hi)) {
        cpu_raise_gp(cpu, ec);
    }
    uint16_t f = desc_flags(hi);
    int dpl = (f & SEGF_DPL) >> 5;
    if (!(f & SEGF_S)) {
        cpu_raise_gp(cpu, ec);
    }
    if (seg == S_SS) {
        /* SS: a writable data segment with RPL = DPL = CPL (MOV, "Protected Mode
         * Exceptions"); not present is #SS. */
        if ((f & 0x8) || !(f & 0x2) || rpl != cpl || dpl != cpl) {
            cpu_raise_gp(cpu, ec);
        }
        if (!(f & SEGF_P)) {
            cpu_raise_exception(cpu, EXC_SS, true, ec);
        }
    } else {
        /* Data or readable code; privilege checked unless conforming code. */
        if ((f & 0xA) == 0x8) {
            cpu_raise_gp(cpu, ec);
        }
        bool conforming = (f & 0xC) == 0xC;
        if (!conforming && (rpl > dpl || cpl > dpl)) {
            cpu_raise_gp(cpu, ec);
        }
        if (!(f & SEGF_P)) {
            cpu_raise_exception(cpu, EXC_NP, true, ec);
        }
    }
    cpu_desc_set_accessed(cpu, sel, hi);
    cpu_seg_load_desc(cpu, seg, sel, lo, hi);
}
