/* cpu_flags.c: lazy arithmetic flags: folding (cc_op, cc_dst, cc_src, cc_src2) into EFLAGS.
 *
 * Every flag-setting instruction records its operation class and operands instead of
 * computing EFLAGS. The flags are computed when something reads them (Jcc, PUSHF, ADC...).
 * Encoding per class (w = operand width in bits, M = sign bit, all values masked to w):
 *   ADD/ADC: dst = result, src = second operand, src2 = carry in (ADC only)
 *   SUB/SBB: dst = result, src = subtrahend, src2 = borrow in (SBB only); NEG = SUB 0 - x
 *   LOGIC:   dst = result (CF = OF = AF = 0)
 *   INC/DEC: dst = result, src2 = CF before the instruction (INC/DEC keep CF)
 *   SHL:     dst = result, src = value shifted by count-1 (CF = its sign bit)
 *   SHR/SAR: dst = result, src = value shifted by count-1 (CF = its bit 0)
 *   MUL/IMUL: dst = low half of the product, src = high half (CF = OF = the high half is
 *            significant: nonzero for MUL, not the sign extension of dst for IMUL)
 * Example: CMP AL, 1 with AL = 0 records SUB8, dst = 0xFF, src = 0x01; JB then computes
 * CF = (dst + src) & 0xFF < src = 0 < 1 = true.
 *
 * Undefined flags follow what the SingleStepTests show an Intel CPU leaving, where that is
 * consistent: AF = 0 after logic operations; AF = bit 4 of the result after SHL and AF = 1
 * after SHR/SAR; SF/ZF/PF from the high half and AF = 1 after MUL/IMUL; OF for shifts by
 * more than one with the count-1 formula.
 */
#include "core/cpu.h"

static const uint32_t cc_sign[3] = {0x80u, 0x8000u, 0x80000000u};
static const uint32_t cc_mask[3] = {0xFFu, 0xFFFFu, 0xFFFFFFFFu};

/* cc_szp: SF, ZF and PF of a result of width index si. */
static inline uint32_t cc_szp(uint32_t dst, int si)
{
    uint32_t f = 0;
    dst &= cc_mask[si];
    if (dst == 0) {
        f |= EF_ZF;
    }
    if (dst & cc_sign[si]) {
        f |= EF_SF;
    }
    if (!__builtin_parity(dst & 0xFF)) {
        f |= EF_PF;
    }
    return f;
}

uint32_t cpu_cc_compute(const CPUState *cpu)
{
    uint32_t op = cpu->cc_op;
    uint32_t dst = cpu->cc_dst, src = cpu->cc_src, cin = cpu->cc_src2 & 1;
    if (op == CC_OP_EFLAGS || op >= CC_OP_COUNT) {
        return cpu->eflags & EF_ARITH;
    }
    if (op == CC_OP_RAW) {
        return cpu->cc_src & EF_ARITH;
    }
    int si = (int)((op - 1) % 3);
    uint32_t m = cc_mask[si], sb = cc_sign[si];
    uint32_t f, s1;
    if (op >= CC_OP_MUL8) {
        /* MUL/IMUL: SF, ZF, PF of the high half, AF set. */
        uint32_t hi = src & cc_mask[si];
        bool ovf = op >= CC_OP_IMUL8 ? hi != ((dst & cc_sign[si]) ? cc_mask[si] : 0) : hi != 0;
        return cc_szp(hi, si) | EF_AF | (ovf ? (EF_CF | EF_OF) : 0);
    }
    f = cc_szp(dst, si);
    dst &= m;
    src &= m;
    switch ((op - 1) / 3 * 3 + 1) {
    case CC_OP_ADD8:
        s1 = (dst - src) & m;
        f |= dst < s1 ? EF_CF : 0;
        f |= (s1 ^ src ^ dst) & EF_AF;
        f |= ((s1 ^ dst) & (src ^ dst) & sb) ? EF_OF : 0;
        break;
    case CC_OP_ADC8:
        s1 = (dst - src - cin) & m;
        f |= (cin ? dst <= s1 : dst < s1) ? EF_CF : 0;
        f |= (s1 ^ src ^ dst) & EF_AF;
        f |= ((s1 ^ dst) & (src ^ dst) & sb) ? EF_OF : 0;
        break;
    case CC_OP_SUB8:
        s1 = (dst + src) & m;
        f |= s1 < src ? EF_CF : 0;
        f |= (s1 ^ src ^ dst) & EF_AF;
        f |= ((s1 ^ src) & (s1 ^ dst) & sb) ? EF_OF : 0;
        break;
    case CC_OP_SBB8:
        s1 = (dst + src + cin) & m;
        f |= (cin ? s1 <= src : s1 < src) ? EF_CF : 0;
        f |= (s1 ^ src ^ dst) & EF_AF;
        f |= ((s1 ^ src) & (s1 ^ dst) & sb) ? EF_OF : 0;
        break;
    case CC_OP_LOGIC8:
        break;
    case CC_OP_INC8:
        f |= cin ? EF_CF : 0;
        f |= (dst & 0xF) == 0 ? EF_AF : 0;
        f |= dst == sb ? EF_OF : 0;
        break;
    case CC_OP_DEC8:
        f |= cin ? EF_CF : 0;
        f |= (dst & 0xF) == 0xF ? EF_AF : 0;
        f |= dst == sb - 1 ? EF_OF : 0;
        break;
    case CC_OP_SHL8:
        f |= dst & EF_AF;
        f |= (src & sb) ? EF_CF : 0;
        f |= (((dst ^ src) & sb) != 0) ? EF_OF : 0;
        break;
    case CC_OP_SAR8:
        f |= EF_AF;
        f |= (src & 1) ? EF_CF : 0;
        break;
    case CC_OP_SHR8:
        f |= EF_AF;
        f |= (src & 1) ? EF_CF : 0;
        /* OF = MSB(original) for a count of 1, which equals bit w-2 of the result. */
        f |= ((dst ^ (dst << 1)) & sb) ? EF_OF : 0;
        break;
    default:
        break;
    }
    return f;
}

bool cpu_cc_cf(const CPUState *cpu)
{
    uint32_t op = cpu->cc_op;
    if (op == CC_OP_EFLAGS || op >= CC_OP_COUNT) {
        return (cpu->eflags & EF_CF) != 0;
    }
    if (op == CC_OP_RAW) {
        return (cpu->cc_src & EF_CF) != 0;
    }
    int si = (int)((op - 1) % 3);
    uint32_t m = cc_mask[si];
    uint32_t dst = cpu->cc_dst & m, src = cpu->cc_src & m, cin = cpu->cc_src2 & 1;
    switch ((op - 1) / 3 * 3 + 1) {
    case CC_OP_ADD8:
        return dst < src;  /* dst = s1 + src overflowed iff dst < src */
    case CC_OP_SUB8:
        return ((dst + src) & m) < src;
    case CC_OP_LOGIC8:
        return false;
    case CC_OP_INC8:
    case CC_OP_DEC8:
        return cin != 0;
    case CC_OP_SAR8:
    case CC_OP_SHR8:
        return (src & 1) != 0;
    case CC_OP_SHL8:
        return (src & cc_sign[si]) != 0;
    case CC_OP_MUL8:
        return src != 0;
    default:
        return (cpu_cc_compute(cpu) & EF_CF) != 0;
    }
}

uint32_t cpu_get_eflags(CPUState *cpu)
{
    if (cpu->cc_op == CC_OP_EFLAGS) {
        return cpu->eflags;
    }
    return (cpu->eflags & ~(uint32_t)EF_ARITH) | cpu_cc_compute(cpu);
}

/* EFLAGS bits that exist on a P6; bit 1 always reads as 1, bits 3, 5, 15 and 22-31 as 0. */
#define EF_IMPLEMENTED 0x003F7FD5u

void cpu_set_eflags(CPUState *cpu, uint32_t val, uint32_t mask)
{
    uint32_t f = cpu_get_eflags(cpu);
    f = (f & ~mask) | (val & mask);
    cpu->eflags = (f & EF_IMPLEMENTED) | EF_FIXED1;
    cpu->cc_op = CC_OP_EFLAGS;
}

/* cond_sign_lt: SF != OF for a SUB: the signed comparison s1 < src. */
static inline bool cc_sub_lt(uint32_t dst, uint32_t src, int si)
{
    int sh = 32 - 8 * (1 << si);
    if (si == 2) {
        sh = 0;
    }
    int32_t a = (int32_t)((dst + src) << sh) >> sh;
    int32_t b = (int32_t)(src << sh) >> sh;
    return a < b;
}

bool cpu_cond(const CPUState *cpu, int cc)
{
    uint32_t op = cpu->cc_op;
    bool r;
    int c = cc >> 1;
    if (op != CC_OP_EFLAGS && op < CC_OP_MUL8) {
        int si = (int)((op - 1) % 3);
        uint32_t m = cc_mask[si];
        uint32_t dst = cpu->cc_dst & m;
        uint32_t cls = (op - 1) / 3 * 3 + 1;
        switch (c) {
        case 1: /* B */
            r = cpu_cc_cf(cpu);
            return r ^ (cc & 1);
        case 2: /* Z */
            return (dst == 0) ^ (cc & 1);
        case 4: /* S */
            return ((dst & cc_sign[si]) != 0) ^ (cc & 1);
        default:
            break;
        }
        if (cls == CC_OP_LOGIC8) {
            bool s = (dst & cc_sign[si]) != 0;
            switch (c) {
            case 0: /* O */
                return cc & 1;
            case 3: /* BE = CF | ZF */
                return (dst == 0) ^ (cc & 1);
            case 6: /* L = SF ^ OF */
                return s ^ (cc & 1);
            case 7: /* LE */
                return (s || dst == 0) ^ (cc & 1);
            default:
                break;
            }
        } else if (cls == CC_OP_SUB8) {
            uint32_t src = cpu->cc_src & m;
            switch (c) {
            case 3: /* BE: s1 <= src */
                return (((dst + src) & m) <= src) ^ (cc & 1);
            case 6:
                return cc_sub_lt(dst, src, si) ^ (cc & 1);
            case 7:
                return (cc_sub_lt(dst, src, si) || dst == 0) ^ (cc & 1);
            default:
                break;
            }
        }
    }
    uint32_t f = cpu_cc_compute(cpu);
    switch (c) {
    case 0:
        r = (f & EF_OF) != 0;
        break;
    case 1:
        r = (f & EF_CF) != 0;
        break;
    case 2:
        r = (f & EF_ZF) != 0;
        break;
    case 3:
        r = (f & (EF_CF | EF_ZF)) != 0;
        break;
    case 4:
        r = (f & EF_SF) != 0;
        break;
    case 5:
        r = (f & EF_PF) != 0;
        break;
    case 6:
        r = ((f & EF_SF) != 0) != ((f & EF_OF) != 0);
        break;
    default:
        r = (((f & EF_SF) != 0) != ((f & EF_OF) != 0)) || (f & EF_ZF) != 0;
        break;
    }
    return r ^ (cc & 1);
}
