/* jit_frontend.c: guest instructions -> IR for one translation block.
 *
 * A block runs from CS:EIP to the first instruction that ends it: a control transfer, an
 * instruction that can change the mode or needs the loop's boundary checks (anything not in
 * the straight-line set below), the end of the guest page, or TB_MAX_INSNS. An instruction is
 * translated inline when the frontend knows it (register MOV/ALU/INC/DEC/LEA, MOV to and from
 * memory through the soft MMU, Jcc/JMP rel); everything else becomes a call of the
 * interpreter's handler with a copy of its DecodedInsn, after making EIP, ESP and icount
 * exact, and a check that it fell through (a REP string instruction that stops early, or a
 * fault-free branch, leaves the block). So every instruction runs under the JIT, and inline
 * coverage grows one instruction at a time.
 */
#include <string.h>

#include "core/cpu_internal.h"
#include "translate/jit_internal.h"

/* straight_line: opcodes whose handlers never change CS, the mode or TF, never enable
 * interrupts, do no port I/O, and normally continue at the next instruction: a block may go
 * on after them. CLI only disables interrupts (nothing becomes deliverable); RDTSC reads the
 * clock (or raises #GP under CR4.TSD). */
static bool straight_line(const DecodedInsn *d)
{
    unsigned op = d->op;
    if (op < 0x100) {
        if (op < 0x40) {
            /* ALU block and BCD adjusts; 0F is never here, 06/07/0E/16/17/1E/1F are segment
             * pushes and pops (POP SS inhibits interrupts, POP seg loads descriptors). */
            unsigned lo = op & 7;
            return lo < 6 || op == 0x27 || op == 0x2F || op == 0x37 || op == 0x3F;
        }
        if (op <= 0x61) {
            return true; /* INC/DEC, PUSH/POP reg, PUSHA/POPA */
        }
        if (op >= 0x68 && op <= 0x6B) {
            return true;
        }
        if (op >= 0x80 && op <= 0x8D) {
            return true;
        }
        if (op >= 0x90 && op <= 0x99) {
            return true;
        }
        if (op == 0x9E || op == 0x9F || (op >= 0xA0 && op <= 0xBF)) {
            return true;
        }
        if (op == 0xC0 || op == 0xC1 || op == 0xC6 || op == 0xC7 ||
            (op >= 0xD0 && op <= 0xDF)) {
            return true; /* shifts, MOV r/m imm, AAM/AAD/SALC/XLAT, x87 */
        }
        if (op == 0xF5 || op == 0xF6 || op == 0xF7 || op == 0xF8 || op == 0xF9 ||
            op == 0xFA || op == 0xFC || op == 0xFD || op == 0xFE) {
            return true;
        }
        if (op == 0xFF) {
            return d->reg == 0 || d->reg == 1 || d->reg == 6;
        }
        return false;
    }
    unsigned x = op & 0xFF;
    if ((op & 0xF00) != OP_MAP_0F) {
        return false;
    }
    return x == 0x31 || (x >= 0x40 && x <= 0x4F) || (x >= 0x90 && x <= 0x9F) || x == 0xA3 ||
           x == 0xA4 ||
           x == 0xA5 || x == 0xAB || x == 0xAC || x == 0xAD || x == 0xAF || x == 0xB0 ||
           x == 0xB1 || x == 0xB3 || (x >= 0xB6 && x <= 0xBF) || x == 0xC0 || x == 0xC1 ||
           (x >= 0xC8 && x <= 0xCF);
}

typedef struct Fe {
    JitState *j;
    CPUState *cpu;
    IRBlock *ir;
    const DecodedInsn *d;
    uint32_t eip, next;
    bool code32;
    bool stack32;
    uint32_t cs_limit;
    const uint8_t *code;   /* the block's guest bytes, for looking ahead */
    unsigned off, avail;   /* offset of the next instruction, bytes available */
    unsigned n;            /* this instruction's number in the block (1-based) */
    bool last;             /* the block ends after this instruction */
    uint32_t tbflags;      /* the block's TBF_* mode bits */
    uint32_t cc_guess;     /* while fl is not valid: the cc_op the CPUState probably has
                              (the one at translation before any helper, CC_OP_EFLAGS after
                              one: interp_set_arith), for IR_CONDCC / IR_SZAPCC */
    /* The flags as left by the last inline ALU op of this block, for Jcc fusion. */
    struct {
        bool valid;
        int kind;          /* 0 SUB/CMP a,b; 1 ADD a,b; 2 logic result in a; 3 result in a,
                              only ZF/SF/PF known (shifts, INC/DEC, ADC/SBB, NEG...); 4 the
                              six flags in a (EFLAGS layout, after an inline rotate) */
        int a, b;
        unsigned size;
        int cf;            /* kind 3: a temp holding CF (after INC/DEC), or -1 */
        int of;            /* kind 3: a temp holding OF (after ADC/SBB), or -1 */
        int af;            /* kind 3: AF is 0 unknown, 1 set (SHR/SAR, MUL), 2 bit 4 of a
                              (SHL), as core/cpu_flags.c defines them */
    } fl;
    /* Side exits: a Jcc inside the block branches to side_label[k], emitted after the
     * block's final exit as a jump to side_target[k] through chain slot 2 + k. */
    int nside;
    int side_label[TB_SLOTS - 2];
    uint32_t side_target[TB_SLOTS - 2];
    /* Callee inlining (see call_inline): inline_call asks the CALL rel32 being translated to
     * go on into its callee, whose page needs the check described by chk_* when chk;
     * in_callee while the callee's instructions are translated, ret_expect its return
     * address. */
    bool inline_call, chk, in_callee;
    uint32_t chk_lin, chk_phys;
    uintptr_t chk_addend;
    uint32_t ret_expect;
    /* Following (see the Jcc case of try_inline): a Jcc back to code before the block's
     * start on the same page makes the block go on at its target, the fall-through becoming
     * the side exit (loops are taken far more often than left). may_follow while that is
     * still possible (once per block, in the block's own bytes, nothing else in phys2);
     * follow_to set by the Jcc that does it, followed from then on. */
    uint32_t start, cs_base;
    bool may_follow, followed, follow_now;
    /* Rotates whose flags only a load's fault could see before they are replaced get no
     * inline flags (IR_ROTPEND), unless this translation is the retry jit_opt_rotpend asked
     * for. */
    bool no_rotpend;
} Fe;

/* helper_szap: the arithmetic flags in mask (SF, ZF, AF, PF, maybe OF) of the current lazy
 * flags (for an inline rotate or BT). */
static uint32_t helper_szap(CPUState *cpu, const void *mask)
{
    return cpu_cc_compute(cpu) & (uint32_t)(uintptr_t)mask;
}

static uint32_t helper_cf(CPUState *cpu, const void *unused)
{
    (void)unused;
    return cpu_cc_cf(cpu) ? 1 : 0;
}

static uint32_t helper_cond(CPUState *cpu, const void *cc)
{
    return cpu_cond(cpu, (int)(uintptr_t)cc) ? 1 : 0;
}

static unsigned op_size(const DecodedInsn *d)
{
    return (d->op & 1) ? d->opsize : 1;
}

/* branch_target: the EIP a relative branch goes to (interp_jump's wrap). */
static uint32_t branch_target(const Fe *f)
{
    uint32_t t = f->next + f->d->imm;
    return f->d->opsize == 2 ? (t & 0xFFFF) : t;
}

/* gen_ea: temp = the memory operand's offset (without segment base). */
static int gen_ea(Fe *f)
{
    const DecodedInsn *d = f->d;
    IRBlock *ir = f->ir;
    int t = ir_temp(ir);
    if (d->base >= 0 && d->index < 0 && d->disp == 0) {
        ir_ldreg(ir, t, d->base, 4);
    } else if (d->base < 0 && d->index < 0) {
        ir_movi(ir, t, d->disp);
    } else {
        /* base + index << scale + disp: one host LEA. */
        int bt = -1, xt = -1;
        if (d->base >= 0) {
            bt = ir_temp(ir);
            ir_ldreg(ir, bt, d->base, 4);
        }
        if (d->index >= 0) {
            xt = ir_temp(ir);
            ir_ldreg(ir, xt, d->index, 4);
        }
        ir_ea(ir, t, bt, xt, (unsigned)d->scale, d->disp);
    }
    if (d->addrsize == 2) {
        int m = ir_temp(ir);
        ir_movi(ir, m, 0xFFFF);
        ir_alu(ir, XA_AND, t, t, m, 4);
    }
    return t;
}

/* fl_ok: the fusion state can evaluate guest condition cc inline. */
static bool fl_ok(const Fe *f, int cc)
{
    if (!f->fl.valid || f->fl.kind == 4) {
        return false;
    }
    return f->fl.kind != 3 || (cc >= XC_E && cc <= XC_NE) || (cc >= XC_S && cc <= XC_NP);
}

/* fl_cf_known: condition cc is B or AE and a temp holds the CF of the last flags op. */
static bool fl_cf_known(const Fe *f, int cc)
{
    return f->fl.valid && f->fl.kind == 3 && f->fl.cf >= 0 && (cc == XC_B || cc == XC_AE);
}

/* top_bit: t = bit (size * 8 - 1) of temp v (0/1), through temp k. */
static void top_bit(IRBlock *ir, int t, int v, int k, unsigned size)
{
    ir_movi(ir, k, size * 8 - 1);
    ir_alu(ir, IR_ALU_SHR, t, v, k, 4);
    ir_movi(ir, k, 1);
    ir_alu(ir, XA_AND, t, t, k, 4);
}

/* fl_of_known: cc is O, L, LE or their negation and temps hold OF (after ADC/SBB) and the
 * result. */
static bool fl_of_known(const Fe *f, int cc)
{
    return f->fl.valid && f->fl.kind == 3 && f->fl.of >= 0 &&
           (cc == XC_O || cc == XC_NO || cc >= XC_L);
}

/* fl_of_cond: temp c = condition cc (see fl_of_known): OF, SF ^ OF, or (SF ^ OF) | ZF. */
static void fl_of_cond(Fe *f, int c, int cc)
{
    IRBlock *ir = f->ir;
    int k = ir_temp(ir);
    if ((cc >> 1) == (XC_O >> 1)) {
        ir_movi(ir, k, 0);
        ir_alu(ir, XA_OR, c, f->fl.of, k, 4);
    } else {
        int sf = ir_temp(ir);
        top_bit(ir, sf, f->fl.a, k, f->fl.size);
        ir_alu(ir, XA_XOR, c, sf, f->fl.of, 4);
        if ((cc >> 1) == (XC_LE >> 1)) {
            int zf = ir_temp(ir);
            ir_setflags(ir, zf, XC_E, 2, f->fl.a, -1, f->fl.size);
            ir_alu(ir, XA_OR, c, c, zf, 4);
        }
    }
    if (cc & 1) {
        ir_movi(ir, k, 1);
        ir_alu(ir, XA_XOR, c, c, k, 4);
    }
}

/* raw_cond: temp c = guest condition cc (0/1) of the EFLAGS bits in temp raw (after a rotate
 * or BT: fl.kind 4). */
static void raw_cond(Fe *f, int c, int cc, int raw)
{
    IRBlock *ir = f->ir;
    int k = ir_temp(ir), x = ir_temp(ir);
    int bit;
    switch (cc >> 1) {
    case XC_O >> 1: bit = 11; break;
    case XC_B >> 1: bit = 0; break;
    case XC_E >> 1: bit = 6; break;
    case XC_S >> 1: bit = 7; break;
    case XC_P >> 1: bit = 2; break;
    default: bit = -1; break;
    }
    if (bit >= 0) {
        ir_movi(ir, k, (uint32_t)bit);
        ir_alu(ir, IR_ALU_SHR, x, raw, k, 4);
    } else if ((cc >> 1) == (XC_BE >> 1)) {
        ir_movi(ir, k, EF_CF | EF_ZF);
        ir_alu(ir, XA_AND, c, raw, k, 4);
        ir_setflags(ir, c, XC_NE, 2, c, -1, 4); /* CF or ZF set */
        ir_movi(ir, k, 0);
        ir_alu(ir, XA_OR, x, c, k, 4);
    } else {
        /* L/GE: SF != OF; LE/G: ZF or SF != OF. Bit 7 of raw ^ (raw >> 4) is SF ^ OF. */
        ir_movi(ir, k, 4);
        ir_alu(ir, IR_ALU_SHR, x, raw, k, 4);
        ir_alu(ir, XA_XOR, x, x, raw, 4);
        ir_movi(ir, k, 7);
        ir_alu(ir, IR_ALU_SHR, x, x, k, 4);
        if ((cc >> 1) == (XC_LE >> 1)) {
            int z = ir_temp(ir);
            ir_movi(ir, k, 6);
            ir_alu(ir, IR_ALU_SHR, z, raw, k, 4);
            ir_alu(ir, XA_OR, x, x, z, 4);
        }
    }
    /* c = (x & 1) ^ (cc odd: the negated condition) */
    ir_movi(ir, k, 1);
    ir_alu(ir, XA_AND, c, x, k, 4);
    if (cc & 1) {
        ir_alu(ir, XA_XOR, c, c, k, 4);
    }
}

/* gen_cond: temp = guest condition cc (0/1), inline when the flags' producer is known. */
static int gen_cond(Fe *f, int cc)
{
    IRBlock *ir = f->ir;
    int c = ir_temp(ir);
    if (f->fl.valid && f->fl.kind == 4) {
        raw_cond(f, c, cc, f->fl.a);
    } else if (fl_ok(f, cc)) {
        ir_setflags(ir, c, cc, f->fl.kind == 3 ? 2 : f->fl.kind, f->fl.a, f->fl.b, f->fl.size);
    } else if (fl_of_known(f, cc)) {
        fl_of_cond(f, c, cc);
    } else if (fl_cf_known(f, cc)) {
        /* B / AE from a temp holding CF (after a shift, INC/DEC). */
        int one = ir_temp(ir);
        ir_movi(ir, one, cc == XC_B ? 0 : 1);
        ir_alu(ir, XA_XOR, c, f->fl.cf, one, 4);
    } else if (!f->fl.valid && condcc_inline(f->cc_guess, cc)) {
        ir_condcc(ir, c, cc, f->cc_guess); /* flags from before the block or a helper */
    } else {
        ir_call_helper(ir, c, (const void *)helper_cond, (const void *)(uintptr_t)cc);
        f->j->stats.cond_helpers++;
    }
    return c;
}

/* gen_cf: temp = the current CF (0/1). */
static int gen_cf(Fe *f)
{
    IRBlock *ir = f->ir;
    int cf = ir_temp(ir);
    if (f->fl.valid && f->fl.kind == 2) {
        ir_movi(ir, cf, 0); /* after a logic op CF is clear */
    } else if (f->fl.valid && f->fl.kind == 4) {
        int one = ir_temp(ir);
        ir_movi(ir, one, EF_CF);
        ir_alu(ir, XA_AND, cf, f->fl.a, one, 4);
    } else if (f->fl.valid && f->fl.kind != 3) {
        ir_setflags(ir, cf, XC_B, f->fl.kind, f->fl.a, f->fl.b, f->fl.size);
    } else if (f->fl.valid && f->fl.cf >= 0) {
        return f->fl.cf; /* INC/DEC kept the CF they were given */
    } else if (!f->fl.valid && condcc_inline(f->cc_guess, XC_B)) {
        ir_condcc(ir, cf, XC_B, f->cc_guess); /* flags from before the block or a helper */
    } else {
        ir_call_helper(ir, cf, (const void *)helper_cf, NULL);
    }
    return cf;
}

/* fl_sub: after this op the flags are those of SUB/CMP a, b at size. */
static void fl_sub(Fe *f, int a, int b, unsigned size)
{
    f->fl.valid = true;
    f->fl.kind = 0;
    f->fl.a = a;
    f->fl.b = b;
    f->fl.size = size;
    f->fl.cf = -1;
}

/* fl_result: after this op only ZF/SF/PF of result r are known inline. */
static void fl_result(Fe *f, int r, unsigned size)
{
    f->fl.valid = true;
    f->fl.kind = 3;
    f->fl.a = r;
    f->fl.b = -1;
    f->fl.size = size;
    f->fl.cf = -1;
    f->fl.of = -1;
    f->fl.af = 0;
}

/* gen_alu: dst_reg op= src temp for ADD/OR/AND/SUB/XOR/CMP with lazy flags. */
static void gen_alu(Fe *f, int aop, int dst_reg, int src, unsigned size)
{
    IRBlock *ir = f->ir;
    uint32_t si = size == 1 ? 0 : size == 2 ? 1 : 2;
    int a = ir_temp(ir), r = ir_temp(ir);
    ir_ldreg(ir, a, dst_reg, size);
    ir_alu(ir, aop == XA_CMP ? XA_SUB : aop, r, a, src, size);
    if (aop != XA_CMP) {
        ir_streg(ir, dst_reg, size, r);
    }
    f->fl.valid = true;
    f->fl.cf = -1;
    f->fl.size = size;
    f->fl.b = src;
    switch (aop) {
    case XA_ADD:
        ir_setcc(ir, CC_OP_ADD8 + si, r, src, -1);
        f->fl.kind = 1;
        f->fl.a = a;
        break;
    case XA_SUB:
    case XA_CMP:
        ir_setcc(ir, CC_OP_SUB8 + si, r, src, -1);
        f->fl.kind = 0;
        f->fl.a = a;
        break;
    default:
        ir_setcc(ir, CC_OP_LOGIC8 + si, r, -1, -1);
        f->fl.kind = 2;
        f->fl.a = r;
        break;
    }
}

static bool alu_inline_op(int aop)
{
    return aop == XA_ADD || aop == XA_OR || aop == XA_AND || aop == XA_SUB || aop == XA_XOR ||
           aop == XA_CMP;
}

static uint32_t size_mask(unsigned size)
{
    return size == 1 ? 0xFFu : size == 2 ? 0xFFFFu : 0xFFFFFFFFu;
}

/* gen_alu_vals: r = a op b with the lazy flags (and fusion state); returns r (TEST of a temp
 * with itself: a, no op). */
static int gen_alu_vals(Fe *f, int aop, int a, int src, unsigned size)
{
    IRBlock *ir = f->ir;
    uint32_t si = size == 1 ? 0 : size == 2 ? 1 : 2;
    if (aop == 8 && a == src) {
        /* TEST r, r: the flags of the value itself, nothing to compute (a Jcc after it
         * tests the register where it is). */
        ir_setcc(ir, CC_OP_LOGIC8 + si, a, -1, -1);
        f->fl.valid = true;
        f->fl.cf = -1;
        f->fl.size = size;
        f->fl.b = src;
        f->fl.kind = 2;
        f->fl.a = a;
        return a;
    }
    int r = ir_temp(ir);
    if (aop == XA_ADC || aop == XA_SBB) {
        int cf = gen_cf(f), t = ir_temp(ir);
        int op = aop == XA_ADC ? XA_ADD : XA_SUB;
        ir_alu(ir, op, t, a, src, 4);
        ir_alu(ir, op, r, t, cf, size);
        ir_setcc(ir, (aop == XA_ADC ? CC_OP_ADC8 : CC_OP_SBB8) + si, r, src, cf);
        fl_result(f, r, size);
        /* CF out, for a later ADC/SBB or Jcc (dropped unless read): the carry out of the top
         * bit, (a & b | (a | b) & ~r), or the borrow, (~a & b | (~a | b) & r). */
        int x = ir_temp(ir), y = ir_temp(ir), k = ir_temp(ir), na = a;
        ir_movi(ir, k, 0xFFFFFFFFu);
        if (aop == XA_ADC) {
            ir_alu(ir, XA_XOR, t, r, k, 4);
        } else {
            na = ir_temp(ir);
            ir_alu(ir, XA_XOR, na, a, k, 4);
            ir_alu(ir, XA_OR, t, r, r, 4);
        }
        ir_alu(ir, XA_AND, x, na, src, 4);
        ir_alu(ir, XA_OR, y, na, src, 4);
        ir_alu(ir, XA_AND, y, y, t, 4);
        ir_alu(ir, XA_OR, x, x, y, 4);
        top_bit(ir, x, x, k, size);
        f->fl.cf = x;
        /* OF, for a signed Jcc/SETcc (a 64-bit compare: CMP lo; SBB hi; JL): the top bit of
         * ~(a ^ b) & (a ^ r) (ADC: same-signed operands, another sign out) or (a ^ b) & (a ^ r)
         * (SBB: operands of different signs, the result's not the minuend's). */
        int o = ir_temp(ir), q = ir_temp(ir);
        ir_alu(ir, XA_XOR, o, a, src, 4);
        if (aop == XA_ADC) {
            ir_movi(ir, k, 0xFFFFFFFFu);
            ir_alu(ir, XA_XOR, o, o, k, 4);
        }
        ir_alu(ir, XA_XOR, q, a, r, 4);
        ir_alu(ir, XA_AND, o, o, q, 4);
        top_bit(ir, o, o, k, size);
        f->fl.of = o;
        return r;
    }
    int op = aop == XA_CMP ? XA_SUB : aop == 8 ? XA_AND : aop; /* 8: TEST */
    ir_alu(ir, op, r, a, src, size);
    f->fl.valid = true;
    f->fl.cf = -1;
    f->fl.size = size;
    f->fl.b = src;
    if (op == XA_ADD) {
        ir_setcc(ir, CC_OP_ADD8 + si, r, src, -1);
        f->fl.kind = 1;
        f->fl.a = a;
    } else if (op == XA_SUB) {
        ir_setcc(ir, CC_OP_SUB8 + si, r, src, -1);
        f->fl.kind = 0;
        f->fl.a = a;
    } else {
        ir_setcc(ir, CC_OP_LOGIC8 + si, r, -1, -1);
        f->fl.kind = 2;
        f->fl.a = r;
    }
    return r;
}

/* try_inline_mem: ALU with a memory operand, TEST, MOV r/m imm, MOV moffs, MOVZX/MOVSX.
 * Returns as try_inline. */
static int try_inline_more(Fe *f)
{
    const DecodedInsn *d = f->d;
    IRBlock *ir = f->ir;
    unsigned op = d->op;
    bool mem = (d->flags & DI_MEM) != 0;
    int aop = -1;
    unsigned size = op_size(d);
    bool imm_src = false, to_reg = false;
    int rm = d->rm;
    /* Register forms of ADD/OR/AND/SUB/XOR/CMP were handled by try_inline: what reaches
     * here is a memory form or ADC/SBB. */
    if (op < 0x40 && (op & 7) < 4) {
        aop = (int)(op >> 3) & 7;
        to_reg = (op & 2) != 0;
    } else if (op < 0x40 && (op & 7) < 6 && (((op >> 3) & 7) == XA_ADC ||
                                             ((op >> 3) & 7) == XA_SBB)) {
        aop = (int)(op >> 3) & 7; /* ADC/SBB AL/eAX, imm */
        imm_src = true;
        rm = R_EAX;
        mem = false;
    } else if (op >= 0x80 && op <= 0x83 && op != 0x82) {
        aop = d->reg;
        imm_src = true;
    } else if (op == 0x84 || op == 0x85) {
        aop = 8;
    } else if ((op == 0xF6 || op == 0xF7) && d->reg <= 1) {
        aop = 8;
        imm_src = true;
    } else if (op == 0xA8 || op == 0xA9) {
        int a = ir_temp(ir), c = ir_temp(ir);
        ir_insn_start(ir, f->eip, f->next);
        ir_ldreg(ir, a, R_EAX, size);
        ir_movi(ir, c, d->imm & size_mask(size));
        gen_alu_vals(f, 8, a, c, size);
        ir_insn_end(ir);
        return 1;
    }
    if (aop >= 0) {
        int src = ir_temp(ir), a = ir_temp(ir), ea = -1;
        ir_insn_start(ir, f->eip, f->next);
        if (mem) {
            ir_sync(ir, f->eip, f->next);
            ea = gen_ea(f);
        }
        bool writes = aop != XA_CMP && aop != 8;
        /* The memory operand is loaded right after its address (which the load then takes
         * from rax), a register source after it. */
        bool src_after = mem && !to_reg && !imm_src;
        if (imm_src) {
            ir_movi(ir, src, d->imm & size_mask(size));
        } else if (to_reg && mem) {
            ir_ld(ir, src, d->seg, ea, size);
        } else if (to_reg) {
            ir_ldreg(ir, src, d->rm, size);
        } else if (!src_after) {
            ir_ldreg(ir, src, d->reg, size);
        }
        if (to_reg) {
            ir_ldreg(ir, a, d->reg, size);
        } else if (mem) {
            if (writes) {
                ir_ld_rmw(ir, a, d->seg, ea, size);
            } else {
                ir_ld(ir, a, d->seg, ea, size);
            }
        } else {
            ir_ldreg(ir, a, rm, size);
        }
        if (src_after) {
            ir_ldreg(ir, src, d->reg, size);
        }
        /* TEST of a register with itself: one operand (src is then dead code). */
        bool same = aop == 8 && !mem && !imm_src && d->rm == d->reg;
        int r = gen_alu_vals(f, aop, a, same ? a : src, size);
        if (writes) {
            if (to_reg) {
                ir_streg(ir, d->reg, size, r);
            } else if (mem) {
                ir_st(ir, d->seg, ea, r, size);
            } else {
                ir_streg(ir, rm, size, r);
            }
        }
        ir_insn_end(ir);
        if (writes && mem && !to_reg) {
            ir_check(ir, f->next); /* the store may have hit translated code */
        }
        return 1;
    }
    if (op == 0xC6 || op == 0xC7) {
        if (d->reg != 0) {
            return 0;
        }
        int v = ir_temp(ir);
        ir_insn_start(ir, f->eip, f->next);
        if (!mem) {
            ir_movi(ir, v, d->imm & size_mask(size));
            ir_streg(ir, d->rm, size, v);
            ir_insn_end(ir);
            return 1;
        }
        ir_sync(ir, f->eip, f->next);
        int ea = gen_ea(f);
        ir_movi(ir, v, d->imm & size_mask(size));
        ir_st(ir, d->seg, ea, v, size);
        ir_insn_end(ir);
        ir_check(ir, f->next);
        return 1;
    }
    if (op >= 0xA0 && op <= 0xA3) {
        int v = ir_temp(ir);
        ir_insn_start(ir, f->eip, f->next);
        ir_sync(ir, f->eip, f->next);
        int ea = gen_ea(f);
        if (op < 0xA2) {
            ir_ld(ir, v, d->seg, ea, size);
            ir_streg(ir, R_EAX, size, v);
            ir_insn_end(ir);
            return 1;
        }
        ir_ldreg(ir, v, R_EAX, size);
        ir_st(ir, d->seg, ea, v, size);
        ir_insn_end(ir);
        ir_check(ir, f->next);
        return 1;
    }
    if (op == 0x1B6 || op == 0x1B7 || op == 0x1BE || op == 0x1BF) {
        unsigned ssize = (op & 1) ? 2 : 1;
        int v = ir_temp(ir);
        ir_insn_start(ir, f->eip, f->next);
        if (mem) {
            ir_sync(ir, f->eip, f->next);
            ir_ld(ir, v, d->seg, gen_ea(f), ssize);
        } else {
            ir_ldreg(ir, v, d->rm, ssize);
        }
        if (op >= 0x1BE) {
            ir_alu(ir, ssize == 1 ? IR_ALU_SEXT8 : IR_ALU_SEXT16, v, v, -1, 4);
        }
        ir_streg(ir, d->reg, d->opsize, v);
        ir_insn_end(ir);
        return 1;
    }
    return 0;
}

/* gen_rm_load: the r/m operand's value; for memory also its offset in *ea (the state is
 * synced first: the load may fault). rmw: the load of a read-modify-write. */
static int gen_rm_load(Fe *f, unsigned size, bool rmw, int *ea)
{
    const DecodedInsn *d = f->d;
    IRBlock *ir = f->ir;
    int v = ir_temp(ir);
    *ea = -1;
    if (d->flags & DI_MEM) {
        ir_sync(ir, f->eip, f->next);
        *ea = gen_ea(f);
        if (rmw) {
            ir_ld_rmw(ir, v, d->seg, *ea, size);
        } else {
            ir_ld(ir, v, d->seg, *ea, size);
        }
    } else {
        ir_ldreg(ir, v, d->rm, size);
    }
    return v;
}

/* gen_rm_store: write r back to the r/m operand loaded by gen_rm_load. */
static void gen_rm_store(Fe *f, int ea, int r, unsigned size)
{
    if (ea >= 0) {
        ir_st(f->ir, f->d->seg, ea, r, size);
    } else {
        ir_streg(f->ir, f->d->rm, size, r);
    }
}

/* gen_rm_end: the instruction's end; after a store to memory, the check that it did not hit
 * translated code. */
static void gen_rm_end(Fe *f, int ea, bool stored)
{
    ir_insn_end(f->ir);
    if (ea >= 0 && stored) {
        ir_check(f->ir, f->next);
    }
}

/* gen_incdec: INC/DEC of register reg (>= 0) or of the r/m operand (reg < 0). */
static int gen_incdec(Fe *f, int reg, unsigned size, bool dec)
{
    IRBlock *ir = f->ir;
    uint32_t si = size == 1 ? 0 : size == 2 ? 1 : 2;
    int one = ir_temp(ir), r = ir_temp(ir), ea = -1, v;
    ir_insn_start(ir, f->eip, f->next);
    int cf = gen_cf(f);
    if (reg >= 0) {
        v = ir_temp(ir);
        ir_ldreg(ir, v, reg, size);
    } else {
        v = gen_rm_load(f, size, true, &ea);
    }
    ir_movi(ir, one, 1);
    ir_alu(ir, dec ? XA_SUB : XA_ADD, r, v, one, size);
    if (reg >= 0) {
        ir_streg(ir, reg, size, r);
    } else {
        gen_rm_store(f, ea, r, size);
    }
    ir_setcc(ir, (dec ? CC_OP_DEC8 : CC_OP_INC8) + si, r, -1, cf);
    gen_rm_end(f, ea, true);
    fl_result(f, r, size);
    f->fl.cf = cf;
    return 1;
}

/* flags_dead_after: the arithmetic flags this instruction leaves are all overwritten later in
 * this block before anything can read them or leave: the next instructions (at most eight)
 * neither read the flags nor leave (register MOVs, MOV reg, imm, LEA, XCHG, NOT, MOVZX/MOVSX,
 * BSWAP on registers, and ROL/ROR of a register by a constant, which write only CF/OF and
 * whose own flags are then dead too), then one writes all six flags without reading them (a
 * register or immediate ADD/OR/AND/SUB/XOR/CMP/TEST). With loads (non-NULL), loads may come
 * between too (MOV, MOVZX, MOVSX of a register from memory) and the last instruction may
 * read memory (ADD reg, mem, CMP mem, reg or imm, TEST mem, reg...); *loads tells
 * whether one did: a fault there sees the flags (see IR_ROTPEND). */
static bool flags_dead_after(const Fe *f, bool *loads)
{
    bool any = false;
    unsigned off = f->off;
    uint32_t eip = f->next;
    if (f->last) {
        return false;
    }
    for (unsigned k = 0; k < 8; k++) {
        if (f->n + k + 1 > TB_MAX_INSNS || off >= f->avail ||
            f->ir->n + 64 * (k + 2) > IR_MAX_INSNS - 64) {
            return false;
        }
        DecodedInsn d;
        DecodeEnv env = {.bytes = f->code + off, .avail = f->avail - off, .code32 = f->code32};
        int len = x86_decode(&env, &d);
        if (len <= 0 || (d.flags & DI_LOCK)) {
            return false;
        }
        unsigned op = d.op;
        bool mem = (d.flags & DI_MEM) != 0;
        /* A memory source read before the flags are written (not a read-modify-write). */
        bool src = mem && loads;
        bool replaces =
            (op < 0x40 && (op & 7) < 6 && alu_inline_op((int)(op >> 3) & 7) &&
             (!mem || (op & 7) >= 4 || (src && ((op & 7) >= 2 || (op >> 3) == 7)))) ||
            (op >= 0x80 && op <= 0x83 && op != 0x82 && alu_inline_op(d.reg) &&
             (!mem || (src && d.reg == 7))) ||
            ((!mem || src) && (op == 0x84 || op == 0x85)) || op == 0xA8 || op == 0xA9;
        if (replaces) {
            if (loads) {
                *loads = any || mem;
            }
            return true;
        }
        bool load = src && (op == 0x8A || op == 0x8B || op == (OP_MAP_0F | 0xB6) ||
                            op == (OP_MAP_0F | 0xB7) || op == (OP_MAP_0F | 0xBE) ||
                            op == (OP_MAP_0F | 0xBF));
        any = any || load;
        bool pure = load || (!mem && op >= 0x88 && op <= 0x8B) || (op >= 0xB0 && op <= 0xBF) ||
                    (op == 0x8D && mem) || (op >= 0x90 && op <= 0x97) ||
                    (!mem && op == 0x87) || (!mem && op == 0xF7 && d.reg == 2) ||
                    (!mem && (op == 0xC1 || op == 0xD1) && d.reg <= 1) ||
                    (op >= (OP_MAP_0F | 0xC8) && op <= (OP_MAP_0F | 0xCF)) ||
                    (!mem && (op == (OP_MAP_0F | 0xB6) || op == (OP_MAP_0F | 0xB7) ||
                              op == (OP_MAP_0F | 0xBE) || op == (OP_MAP_0F | 0xBF)));
        off += (unsigned)len;
        uint32_t nx = eip + (uint32_t)len;
        if (!f->code32) {
            nx &= 0xFFFF;
        }
        if (!pure || off >= f->avail || (!f->code32 && nx < eip)) {
            return false; /* the block would end before the overwriting instruction */
        }
        eip = nx;
    }
    return false;
}

/* gen_rotate_noflags: ROL/ROR r32 by an immediate whose flags nothing reads (see
 * flags_dead_after): a host rotate and no lazy-flag update; pend: a load's fault could see
 * them before they are replaced (IR_ROTPEND). */
static int gen_rotate_noflags(Fe *f, unsigned cnt, bool pend)
{
    const DecodedInsn *d = f->d;
    IRBlock *ir = f->ir;
    int v = ir_temp(ir), k = ir_temp(ir), r = ir_temp(ir);
    ir_insn_start(ir, f->eip, f->next);
    ir_ldreg(ir, v, d->rm, 4);
    ir_movi(ir, k, cnt);
    ir_alu(ir, d->reg == 0 ? IR_ALU_ROL : IR_ALU_ROR, r, v, k, 4);
    ir_streg(ir, d->rm, 4, r);
    if (pend) {
        ir_rotpend(ir, r, d->reg == 0 ? 1 : 2);
    }
    ir_insn_end(ir);
    f->fl.valid = false;
    return 1;
}

/* fl_raw: after this op the six flags are in temp flags (EFLAGS layout, CC_OP_RAW). */
static void fl_raw(Fe *f, int flags)
{
    f->fl.valid = true;
    f->fl.kind = 4;
    f->fl.a = flags;
    f->fl.b = -1;
    f->fl.size = 4;
    f->fl.cf = -1;
}

/* raw_done: the end of an instruction whose six flags are in temp flags (EFLAGS layout):
 * the lazy flags become CC_OP_RAW (cc_dst = dst). Returns 1 (try_inline's "done"). */
static int raw_done(Fe *f, int dst, int flags)
{
    ir_setcc(f->ir, CC_OP_RAW, dst, flags, -1);
    ir_insn_end(f->ir);
    fl_raw(f, flags);
    return 1;
}

/* old_flags_ok: gen_old_flags can produce the flags before this instruction (with OF too
 * when with_of). */
static bool old_flags_ok(const Fe *f, bool with_of)
{
    if (!f->fl.valid || f->fl.kind <= 2 || f->fl.kind == 4) {
        return true;
    }
    return !with_of && f->fl.kind == 3 && f->fl.af != 0;
}

/* gen_old_flags: temp old = SF|ZF|AF|PF (and OF when with_of) of the flags before this
 * instruction, from the last inline op of the block (recomputed by the host), a rotate's or
 * BT's raw flags, a shift's result, or the CPUState's lazy flags (inline for the cc_op seen at
 * translation, else a pure helper). k and t are scratch temps. See old_flags_ok. */
static void gen_old_flags(Fe *f, int old, int k, int t, bool with_of)
{
    IRBlock *ir = f->ir;
    uint32_t mask = EF_SF | EF_ZF | EF_AF | EF_PF | (with_of ? EF_OF : 0);
    if (!f->fl.valid) {
        /* The flags come from before the block (or a helper): the CPUState's lazy flags are
         * current. Inline for the kind of op they came from when this block was translated
         * (a loop's back edge is usually the same CMP), else a pure helper computes them. */
        uint32_t op = f->cpu->cc_op;
        if ((op >= CC_OP_ADD8 && op <= CC_OP_ADD32) || (op >= CC_OP_SUB8 && op <= CC_OP_SUB32) ||
            (op >= CC_OP_LOGIC8 && op <= CC_OP_LOGIC32) || op == CC_OP_RAW) {
            ir_szapcc(ir, old, op, with_of);
        } else {
            ir_call_helper(ir, old, (const void *)helper_szap, (const void *)(uintptr_t)mask);
        }
    } else if (f->fl.kind == 4) {
        ir_movi(ir, k, mask); /* after a rotate or BT */
        ir_alu(ir, XA_AND, old, f->fl.a, k, 4);
    } else if (f->fl.kind == 3) {
        /* A result whose AF follows from the op (shifts, MUL): SF/ZF/PF as after TEST. */
        ir_setflags(ir, old, IR_FLAGS_SZAP, 2, f->fl.a, -1, f->fl.size);
        ir_movi(ir, k, EF_AF);
        if (f->fl.af == 2) {
            ir_alu(ir, XA_AND, t, f->fl.a, k, 4);
            ir_alu(ir, XA_OR, old, old, t, 4);
        } else {
            ir_alu(ir, XA_OR, old, old, k, 4);
        }
    } else {
        ir_setflags(ir, old, with_of ? IR_FLAGS_SZAPO : IR_FLAGS_SZAP, f->fl.kind, f->fl.a,
                    f->fl.b, f->fl.size);
    }
}

/* gen_bt: BT/BTS/BTR/BTC on a register or memory (bit offset from an immediate or a
 * register, masked to the operand size; a register offset on memory also moves the address
 * by its signed quotient, in operand-size units): CF = the bit, every other flag kept (as the
 * interpreter's bt_common), the lazy flags as CC_OP_RAW. */
static int gen_bt(Fe *f)
{
    const DecodedInsn *d = f->d;
    IRBlock *ir = f->ir;
    unsigned op = d->op, size = d->opsize;
    bool mem = (d->flags & DI_MEM) != 0;
    if ((size != 2 && size != 4) || !old_flags_ok(f, true)) {
        return 0;
    }
    int kind = op == 0x1BA ? d->reg - 4 : (int)((op & 0xFF) >> 3) & 3;
    int old = ir_temp(ir), k = ir_temp(ir), t = ir_temp(ir), v = ir_temp(ir);
    int off = ir_temp(ir), cf = ir_temp(ir), ea = -1;
    ir_insn_start(ir, f->eip, f->next);
    gen_old_flags(f, old, k, t, true);
    if (op != 0x1BA) {
        ir_ldreg(ir, off, d->reg, size);
    }
    if (mem) {
        ir_sync(ir, f->eip, f->next);
        ea = gen_ea(f);
        if (op != 0x1BA) {
            /* ea += (signed offset >> log2(bits)) * size */
            int q = ir_temp(ir);
            if (size == 2) {
                ir_alu(ir, IR_ALU_SEXT16, q, off, -1, 4);
                ir_movi(ir, k, 4);
            } else {
                ir_alu(ir, XA_OR, q, off, off, 4);
                ir_movi(ir, k, 5);
            }
            ir_alu(ir, IR_ALU_SAR, q, q, k, 4);
            ir_alu(ir, 16 + (size == 2 ? 1 : 2), q, q, -1, 4);
            ir_alu(ir, XA_ADD, ea, ea, q, 4);
            if (d->addrsize == 2) {
                ir_movi(ir, k, 0xFFFF);
                ir_alu(ir, XA_AND, ea, ea, k, 4);
            }
        }
        if (kind) {
            ir_ld_rmw(ir, v, d->seg, ea, size);
        } else {
            ir_ld(ir, v, d->seg, ea, size);
        }
    } else {
        ir_ldreg(ir, v, d->rm, size);
    }
    if (op == 0x1BA) {
        ir_movi(ir, off, d->imm & (size * 8 - 1));
    } else {
        ir_movi(ir, k, size * 8 - 1);
        ir_alu(ir, XA_AND, off, off, k, 4);
    }
    ir_alu(ir, IR_ALU_SHR, cf, v, off, 4);
    ir_movi(ir, k, 1);
    ir_alu(ir, XA_AND, cf, cf, k, 4);
    if (kind) {
        int bit = ir_temp(ir), r = ir_temp(ir);
        ir_alu(ir, IR_ALU_SHL, bit, k, off, 4);
        if (kind == 2) {
            ir_movi(ir, t, 0xFFFFFFFFu);
            ir_alu(ir, XA_XOR, bit, bit, t, 4);
        }
        ir_alu(ir, kind == 1 ? XA_OR : kind == 2 ? XA_AND : XA_XOR, r, v, bit, size);
        gen_rm_store(f, ea, r, size);
    }
    ir_alu(ir, XA_OR, old, old, cf, 4);
    return raw_done(f, v, old);
}

/* gen_rotate_flags: ROL/ROR r32 by an immediate with its flags, when the flags before it
 * come from an inline op of this block whose SF/ZF/AF/PF the host can recompute: those four
 * are kept, CF and OF come from the result (OF with the interpreter's formula for every
 * count: ROL MSB ^ CF, ROR the two top bits), and the lazy flags become CC_OP_RAW. */
static int gen_rotate_flags(Fe *f, unsigned cnt)
{
    const DecodedInsn *d = f->d;
    IRBlock *ir = f->ir;
    bool rol = d->reg == 0;
    int old = ir_temp(ir), v = ir_temp(ir), k = ir_temp(ir), r = ir_temp(ir);
    int cf = ir_temp(ir), of = ir_temp(ir), t = ir_temp(ir);
    ir_insn_start(ir, f->eip, f->next);
    gen_old_flags(f, old, k, t, false);
    ir_ldreg(ir, v, d->rm, 4);
    ir_movi(ir, k, cnt);
    ir_alu(ir, rol ? IR_ALU_ROL : IR_ALU_ROR, r, v, k, 4);
    ir_movi(ir, k, 31);
    ir_alu(ir, IR_ALU_SHR, of, r, k, 4);          /* MSB */
    if (rol) {
        ir_movi(ir, k, 1);
        ir_alu(ir, XA_AND, cf, r, k, 4);          /* CF = bit 0 */
        ir_alu(ir, XA_XOR, of, of, cf, 4);        /* OF = MSB ^ CF */
    } else {
        ir_alu(ir, XA_OR, cf, of, of, 4);         /* CF = MSB */
        ir_movi(ir, k, 30);
        ir_alu(ir, IR_ALU_SHR, t, r, k, 4);
        ir_alu(ir, XA_XOR, of, of, t, 4);
        ir_movi(ir, k, 1);
        ir_alu(ir, XA_AND, of, of, k, 4);         /* OF = bit 31 ^ bit 30 */
    }
    ir_alu(ir, 16 + 11, of, of, -1, 4);           /* to EF_OF */
    ir_alu(ir, XA_OR, old, old, cf, 4);
    ir_alu(ir, XA_OR, old, old, of, 4);
    ir_streg(ir, d->rm, 4, r);
    return raw_done(f, r, old);
}

/* gen_shift: SHL/SAL/SHR/SAR by an immediate, 1 or CL (the count masked to 5 bits; a zero
 * count changes nothing, not even the flags, but still checks a memory operand). */
static int gen_shift(Fe *f)
{
    const DecodedInsn *d = f->d;
    IRBlock *ir = f->ir;
    unsigned op = d->op;
    int sop = d->reg;
    if (sop < 4) {
        /* Rotates: inline only as ROL/ROR r32, imm whose flags are dead; else the helper. */
        unsigned c = op <= 0xC1 ? (d->imm & 0x1F) : 1;
        if (sop <= 1 && op_size(d) == 4 && op <= 0xD1 && !(d->flags & DI_MEM) && c) {
            bool loads = false;
            if (flags_dead_after(f, f->no_rotpend ? NULL : &loads)) {
                return gen_rotate_noflags(f, c, loads);
            }
            if (old_flags_ok(f, false)) {
                return gen_rotate_flags(f, c);
            }
        }
        return 0;
    }
    unsigned size = op_size(d);
    uint32_t si = size == 1 ? 0 : size == 2 ? 1 : 2;
    bool var = op >= 0xD2;
    unsigned cnt = op <= 0xC1 ? (d->imm & 0x1F) : 1;
    if (!var && cnt == 0) {
        return 0;
    }
    int cn = ir_temp(ir), c1 = ir_temp(ir), src = ir_temp(ir), r = ir_temp(ir);
    int skip = -1, ea;
    ir_insn_start(ir, f->eip, f->next);
    int v = gen_rm_load(f, size, true, &ea);
    if (var) {
        int m = ir_temp(ir), one = ir_temp(ir);
        skip = ir_label(ir);
        ir_ldreg(ir, cn, R_ECX, 4);
        ir_movi(ir, m, 0x1F);
        ir_alu(ir, XA_AND, cn, cn, m, 4);
        ir_brzero(ir, cn, skip);
        ir_movi(ir, one, 1);
        ir_alu(ir, XA_SUB, c1, cn, one, 4);
    } else {
        ir_movi(ir, cn, cnt);
        ir_movi(ir, c1, cnt - 1);
    }
    int x = v, kind = sop == 5 ? IR_ALU_SHR : sop == 7 ? IR_ALU_SAR : IR_ALU_SHL;
    uint32_t cc = sop == 5 ? CC_OP_SHR8 : sop == 7 ? CC_OP_SAR8 : CC_OP_SHL8;
    if (sop == 7 && size < 4) {
        x = ir_temp(ir);
        ir_alu(ir, size == 1 ? IR_ALU_SEXT8 : IR_ALU_SEXT16, x, v, -1, 4);
    }
    ir_alu(ir, kind, src, x, c1, size); /* the value shifted by count - 1 (for CF/OF) */
    ir_alu(ir, kind, r, x, cn, size);
    gen_rm_store(f, ea, r, size);
    ir_setcc(ir, cc + si, r, src, -1);
    if (var) {
        ir_set_label(ir, skip);
        f->fl.valid = false; /* the flags depend on the count */
    } else {
        fl_result(f, r, size);
        f->fl.af = sop == 5 || sop == 7 ? 1 : 2; /* SHR/SAR: set; SHL: bit 4 */
        /* CF: the last bit out, from the value shifted by count - 1 (dropped unless read). */
        int cft = ir_temp(ir), kk = ir_temp(ir);
        if (sop == 5 || sop == 7) {
            ir_movi(ir, kk, 1);
            ir_alu(ir, XA_AND, cft, src, kk, 4);
        } else {
            ir_movi(ir, kk, size * 8 - 1);
            ir_alu(ir, IR_ALU_SHR, cft, src, kk, 4);
            ir_movi(ir, kk, 1);
            ir_alu(ir, XA_AND, cft, cft, kk, 4);
        }
        f->fl.cf = cft;
    }
    gen_rm_end(f, ea, true);
    return 1;
}

/* gen_push_val: push temp v (size bytes) on the stack. */
static void gen_push_val(Fe *f, int v, unsigned size)
{
    IRBlock *ir = f->ir;
    int sp = ir_temp(ir), k = ir_temp(ir);
    ir_ldreg(ir, sp, R_ESP, 4);
    ir_movi(ir, k, size);
    ir_alu(ir, XA_SUB, sp, sp, k, f->stack32 ? 4 : 2);
    ir_st(ir, S_SS, sp, v, size);
    ir_streg(ir, R_ESP, f->stack32 ? 4 : 2, sp);
}

/* gen_all_flags: temp = the arithmetic flags before this instruction (EFLAGS layout): CF,
 * PF, AF, ZF, SF, and OF when with_of (else 0 there). old_flags_ok(f, with_of) must hold. */
static int gen_all_flags(Fe *f, bool with_of)
{
    IRBlock *ir = f->ir;
    int old = ir_temp(ir), k = ir_temp(ir), t = ir_temp(ir);
    gen_old_flags(f, old, k, t, with_of);
    int cf = gen_cf(f);
    ir_alu(ir, XA_OR, old, old, cf, 4);
    return old;
}

/* cf_of_inline: CF and OF before this instruction come from inline code (no helper). */
static bool cf_of_inline(const Fe *f)
{
    if (f->fl.valid) {
        return f->fl.kind != 3;
    }
    return condcc_inline(f->cc_guess, XC_B) && condcc_inline(f->cc_guess, XC_O);
}

/* gen_mul1: MUL/IMUL r/m (F6/F7 /4 /5): EDX:EAX = EAX * r/m (AX = AL * r/m8; DX:AX = AX *
 * r/m16), lazy flags MUL/IMUL of the low and high halves as the interpreter's op_grp3. */
static int gen_mul1(Fe *f)
{
    const DecodedInsn *d = f->d;
    IRBlock *ir = f->ir;
    unsigned size = op_size(d);
    bool sgn = d->reg == 5;
    uint32_t si = size == 1 ? 0 : size == 2 ? 1 : 2;
    int a = ir_temp(ir), lo = ir_temp(ir), hi = ir_temp(ir), ea;
    ir_insn_start(ir, f->eip, f->next);
    int s = gen_rm_load(f, size, false, &ea);
    ir_ldreg(ir, a, R_EAX, size);
    if (size == 4) {
        ir_alu(ir, IR_ALU_MUL, lo, a, s, 4);
        ir_alu(ir, sgn ? IR_ALU_IMULH : IR_ALU_MULHU, hi, a, s, 4);
        ir_streg(ir, R_EAX, 4, lo);
        ir_streg(ir, R_EDX, 4, hi);
    } else {
        /* The whole product fits in 32 bits (signed: of the sign-extended operands). */
        int p = ir_temp(ir), k = ir_temp(ir), x = a, y = s;
        if (sgn) {
            x = ir_temp(ir);
            y = ir_temp(ir);
            ir_alu(ir, size == 1 ? IR_ALU_SEXT8 : IR_ALU_SEXT16, x, a, -1, 4);
            ir_alu(ir, size == 1 ? IR_ALU_SEXT8 : IR_ALU_SEXT16, y, s, -1, 4);
        }
        ir_alu(ir, IR_ALU_MUL, p, x, y, 4);
        ir_movi(ir, k, size * 8);
        ir_alu(ir, IR_ALU_SHR, hi, p, k, size);
        ir_movi(ir, k, size_mask(size));
        ir_alu(ir, XA_AND, lo, p, k, 4);
        if (size == 1) {
            ir_streg(ir, R_EAX, 2, p);
        } else {
            ir_streg(ir, R_EAX, 2, lo);
            ir_streg(ir, R_EDX, 2, hi);
        }
    }
    ir_setcc(ir, (sgn ? CC_OP_IMUL8 : CC_OP_MUL8) + si, lo, hi, -1);
    /* CF (= OF): the high half is significant, nonzero (MUL) or not the low half's sign
     * (IMUL); dropped unless read. */
    int cf = ir_temp(ir), x = ir_temp(ir), k = ir_temp(ir);
    if (sgn) {
        int l = lo;
        if (size < 4) {
            l = ir_temp(ir);
            ir_alu(ir, size == 1 ? IR_ALU_SEXT8 : IR_ALU_SEXT16, l, lo, -1, 4);
        }
        ir_movi(ir, k, 31);
        ir_alu(ir, IR_ALU_SAR, x, l, k, 4);
        ir_setflags(ir, cf, XC_NE, 0, hi, x, size);
    } else {
        ir_setflags(ir, cf, XC_NE, 2, hi, -1, size);
    }
    ir_insn_end(ir);
    fl_result(f, hi, size); /* SF/ZF/PF of the high half, AF set */
    f->fl.af = 1;
    f->fl.cf = cf;
    return 1;
}

/* gen_div32: DIV r/m32: EAX = EDX:EAX / r/m, EDX = the remainder, #DE (IR_DIV) on a zero
 * divisor or a quotient over 32 bits. The flags as the interpreter's div_flags: SF/ZF/PF of
 * the remainder, AF set, CF and OF kept (CC_OP_RAW). */
static int gen_div32(Fe *f)
{
    IRBlock *ir = f->ir;
    if (!cf_of_inline(f)) {
        return 0;
    }
    int lo = ir_temp(ir), hi = ir_temp(ir), q = ir_temp(ir), r = ir_temp(ir);
    int fl = ir_temp(ir), k = ir_temp(ir), ea;
    ir_insn_start(ir, f->eip, f->next);
    if (!(f->d->flags & DI_MEM)) {
        ir_sync(ir, f->eip, f->next); /* for the #DE (gen_rm_load syncs a memory operand) */
    }
    int cf = gen_cond(f, XC_B), of = gen_cond(f, XC_O);
    int s = gen_rm_load(f, 4, false, &ea);
    ir_ldreg(ir, lo, R_EAX, 4);
    ir_ldreg(ir, hi, R_EDX, 4);
    ir_div(ir, q, lo, s, hi);
    ir_alu(ir, IR_ALU_MUL, r, q, s, 4);
    ir_alu(ir, XA_SUB, r, lo, r, 4);      /* the remainder: lo - q * s (mod 2^32) */
    ir_streg(ir, R_EAX, 4, q);
    ir_streg(ir, R_EDX, 4, r);
    ir_setflags(ir, fl, IR_FLAGS_SZAP, 2, r, -1, 4); /* SF/ZF/PF of r (AF 0) */
    ir_alu(ir, 16 + 11, of, of, -1, 4);
    ir_alu(ir, XA_OR, fl, fl, of, 4);
    ir_alu(ir, XA_OR, fl, fl, cf, 4);
    ir_movi(ir, k, EF_AF);
    ir_alu(ir, XA_OR, fl, fl, k, 4);
    return raw_done(f, r, fl);
}

/* gen_shld32: SHLD/SHRD r/m32, r32, imm8/CL (0F A4/A5/AC/AD) as the interpreter's op_shld:
 * a zero count changes nothing (the memory operand is still checked for writing); else CF =
 * the last bit out and the lazy flags SHL/SHR of the result with a synthetic cc_src. */
static int gen_shld32(Fe *f)
{
    const DecodedInsn *d = f->d;
    IRBlock *ir = f->ir;
    bool right = d->op >= 0x1AC, var = (d->op & 1) != 0;
    unsigned cnt = d->imm & 0x1F;
    if (!var && cnt == 0) {
        return 0;
    }
    int cn = ir_temp(ir), c1 = ir_temp(ir), inv = ir_temp(ir), src = ir_temp(ir);
    int t1 = ir_temp(ir), t2 = ir_temp(ir), r = ir_temp(ir), cf = ir_temp(ir);
    int k = ir_temp(ir), skip = -1, ea;
    ir_insn_start(ir, f->eip, f->next);
    int v = gen_rm_load(f, 4, true, &ea);
    if (var) {
        skip = ir_label(ir);
        ir_ldreg(ir, cn, R_ECX, 4);
        ir_movi(ir, k, 0x1F);
        ir_alu(ir, XA_AND, cn, cn, k, 4);
        ir_brzero(ir, cn, skip);
    } else {
        ir_movi(ir, cn, cnt);
    }
    ir_ldreg(ir, src, d->reg, 4);
    ir_movi(ir, k, 32);
    ir_alu(ir, XA_SUB, inv, k, cn, 4);    /* 1..31 */
    ir_alu(ir, right ? IR_ALU_SHR : IR_ALU_SHL, t1, v, cn, 4);
    ir_alu(ir, right ? IR_ALU_SHL : IR_ALU_SHR, t2, src, inv, 4);
    ir_alu(ir, XA_OR, r, t1, t2, 4);
    /* CF: bit cnt - 1 of v (right), bit 32 - cnt of v (left) */
    if (right) {
        ir_movi(ir, k, 1);
        ir_alu(ir, XA_SUB, c1, cn, k, 4);
        ir_alu(ir, IR_ALU_SHR, cf, v, c1, 4);
    } else {
        ir_alu(ir, IR_ALU_SHR, cf, v, inv, 4);
    }
    ir_movi(ir, k, 1);
    ir_alu(ir, XA_AND, cf, cf, k, 4);
    gen_rm_store(f, ea, r, 4);
    if (right) {
        ir_setcc(ir, CC_OP_SHR32, r, cf, -1);
    } else {
        ir_movi(ir, k, 31);
        ir_alu(ir, IR_ALU_SHL, cf, cf, k, 4); /* the synthetic source's sign */
        ir_setcc(ir, CC_OP_SHL32, r, cf, -1);
    }
    if (var) {
        ir_set_label(ir, skip);
        f->fl.valid = false; /* the flags depend on the count */
    } else {
        fl_result(f, r, 4);
        f->fl.af = right ? 1 : 2;
    }
    gen_rm_end(f, ea, true);
    return 1;
}

/* gen_bsf: BSF/BSR r32, r/m32: a zero source sets ZF and leaves the destination; else the
 * destination is the bit's index and ZF is clear; the other flags are kept (CC_OP_RAW), as
 * the interpreter's op_bsf_bsr. */
static int gen_bsf(Fe *f)
{
    const DecodedInsn *d = f->d;
    IRBlock *ir = f->ir;
    if (!old_flags_ok(f, true)) {
        return 0;
    }
    int old = ir_temp(ir), r = ir_temp(ir), z = ir_temp(ir), k = ir_temp(ir), ea;
    ir_insn_start(ir, f->eip, f->next);
    int fl = gen_all_flags(f, true);
    int v = gen_rm_load(f, 4, false, &ea);
    ir_ldreg(ir, old, d->reg, 4);
    ir_alu(ir, d->op == 0x1BC ? IR_ALU_BSF : IR_ALU_BSR, r, v, old, 4);
    ir_streg(ir, d->reg, 4, r);
    ir_setflags(ir, z, XC_E, 2, v, -1, 4);
    ir_alu(ir, 16 + 6, z, z, -1, 4);     /* to EF_ZF */
    ir_movi(ir, k, ~(uint32_t)EF_ZF);
    ir_alu(ir, XA_AND, fl, fl, k, 4);
    ir_alu(ir, XA_OR, fl, fl, z, 4);
    return raw_done(f, r, fl);
}

/* gen_flagop: CLC, STC, CMC, CLD, STD (F8, F9, F5, FC, FD), SAHF, LAHF (9E, 9F). */
static int gen_flagop(Fe *f)
{
    const DecodedInsn *d = f->d;
    IRBlock *ir = f->ir;
    unsigned op = d->op;
    if (op == 0xFC || op == 0xFD) {
        ir_insn_start(ir, f->eip, f->next);
        ir_eflags(ir, ~(uint32_t)EF_DF, op == 0xFD ? EF_DF : 0);
        ir_insn_end(ir);
        return 1;
    }
    if (!old_flags_ok(f, op != 0x9F)) {
        return 0; /* all but LAHF keep OF */
    }
    int k = ir_temp(ir), ah = ir_temp(ir);
    ir_insn_start(ir, f->eip, f->next);
    int fl = gen_all_flags(f, op != 0x9F);
    switch (op) {
    case 0xF5:
        ir_movi(ir, k, EF_CF);
        ir_alu(ir, XA_XOR, fl, fl, k, 4);
        break;
    case 0xF8:
        ir_movi(ir, k, ~(uint32_t)EF_CF);
        ir_alu(ir, XA_AND, fl, fl, k, 4);
        break;
    case 0xF9:
        ir_movi(ir, k, EF_CF);
        ir_alu(ir, XA_OR, fl, fl, k, 4);
        break;
    case 0x9E: /* SAHF: SF ZF AF PF CF from AH, OF kept */
        ir_ldreg(ir, ah, 4, 1);
        ir_movi(ir, k, EF_SF | EF_ZF | EF_AF | EF_PF | EF_CF);
        ir_alu(ir, XA_AND, ah, ah, k, 4);
        ir_movi(ir, k, EF_OF);
        ir_alu(ir, XA_AND, fl, fl, k, 4);
        ir_alu(ir, XA_OR, fl, fl, ah, 4);
        break;
    default: /* LAHF: AH = SF ZF AF PF CF and bit 1; the flags unchanged */
        ir_movi(ir, k, 0xD5);
        ir_alu(ir, XA_AND, ah, fl, k, 4);
        ir_movi(ir, k, EF_FIXED1);
        ir_alu(ir, XA_OR, ah, ah, k, 4);
        ir_streg(ir, 4, 1, ah);
        break;
    }
    if (op != 0x9F) {
        ir_setcc(ir, CC_OP_RAW, fl, fl, -1);
        fl_raw(f, fl);
    }
    ir_insn_end(ir);
    return 1;
}

/* gen_rep_string: REP STOS / REP MOVS with 32-bit addresses through flat segments as
 * IR_STRING (inline for a run within one page each, else the handler). */
static int gen_rep_string(Fe *f)
{
    const DecodedInsn *d = f->d;
    IRBlock *ir = f->ir;
    bool movs = d->op == 0xA4 || d->op == 0xA5;
    int src = d->seg_override >= 0 ? d->seg_override : S_DS;
    if (d->rep == REP_NONE || d->addrsize != 4 || !(f->tbflags & TBF_FLAT) ||
        (f->tbflags & TBF_AC) ||
        (movs && src != S_DS && src != S_ES && src != S_SS)) {
        return 0;
    }
    ir_insn_start(ir, f->eip, f->next);
    ir_sync(ir, f->eip, f->next);
    ir_string(ir, movs ? 1 : 0, op_size(d), (const void *)f->j->table[d->op & (OP_COUNT - 1)],
              d);
    ir_insn_end(ir);
    ir_check(ir, f->next); /* the handler may stop early (a long run) or hit translated code */
    return 1;
}

/* gen_cmpxchg: CMPXCHG r/m, r (0F B0/B1) as the interpreter's op_cmpxchg: the flags of
 * CMP accumulator, operand; the operand becomes the source when they are equal, else the
 * accumulator becomes the operand (so it is the operand's value either way); a memory
 * operand is written back in both cases (LOCK needs nothing more with one CPU). */
static int gen_cmpxchg(Fe *f)
{
    const DecodedInsn *d = f->d;
    IRBlock *ir = f->ir;
    unsigned size = op_size(d);
    uint32_t si = size == 1 ? 0 : size == 2 ? 1 : 2;
    int acc = ir_temp(ir), src = ir_temp(ir), r = ir_temp(ir), eq = ir_temp(ir);
    int k = ir_temp(ir), x = ir_temp(ir), w = ir_temp(ir), ea;
    ir_insn_start(ir, f->eip, f->next);
    int v = gen_rm_load(f, size, true, &ea);
    ir_ldreg(ir, acc, R_EAX, size);
    ir_ldreg(ir, src, d->reg, size);
    ir_alu(ir, XA_SUB, r, acc, v, size);
    ir_setflags(ir, eq, XC_E, 0, acc, v, size);
    /* w = eq ? src : v, without a branch */
    ir_movi(ir, k, 0);
    ir_alu(ir, XA_SUB, k, k, eq, 4);
    ir_alu(ir, XA_XOR, x, src, v, 4);
    ir_alu(ir, XA_AND, x, x, k, 4);
    ir_alu(ir, XA_XOR, w, v, x, size);
    ir_streg(ir, R_EAX, size, v); /* first: a register operand may be the accumulator */
    gen_rm_store(f, ea, w, size);
    ir_setcc(ir, CC_OP_SUB8 + si, r, v, -1);
    gen_rm_end(f, ea, true);
    fl_sub(f, acc, v, size);
    return 1;
}

/* try_inline_arith: one-operand MUL/IMUL, DIV r/m32, SHLD/SHRD r/m32, BSF/BSR r32, the flag
 * instructions, REP STOS/MOVS, CMPXCHG. Returns as try_inline. */
static int try_inline_arith(Fe *f)
{
    const DecodedInsn *d = f->d;
    unsigned op = d->op;
    if ((op == 0xF6 || op == 0xF7) && (d->reg == 4 || d->reg == 5)) {
        return gen_mul1(f);
    }
    if (op == 0xF7 && d->reg == 6 && d->opsize == 4) {
        return gen_div32(f);
    }
    if (op == 0x1A4 || op == 0x1A5 || op == 0x1AC || op == 0x1AD) {
        return d->opsize == 4 ? gen_shld32(f) : 0;
    }
    if (op == 0x1BC || op == 0x1BD) {
        return d->opsize == 4 ? gen_bsf(f) : 0;
    }
    if (op == 0xF5 || op == 0xF8 || op == 0xF9 || op == 0xFC || op == 0xFD || op == 0x9E ||
        op == 0x9F) {
        return gen_flagop(f);
    }
    if (op == 0xAA || op == 0xAB || op == 0xA4 || op == 0xA5) {
        return gen_rep_string(f);
    }
    if (op == 0x1B0 || op == 0x1B1) {
        return gen_cmpxchg(f);
    }
    return 0;
}

/* try_inline_ext: shifts, IMUL r,r/m(,imm), SETcc, CMOVcc, INC/DEC/NOT/NEG r/m, XCHG,
 * PUSH imm / PUSH r/m, LEAVE, CBW/CWDE/CWD/CDQ, BSWAP. Returns as try_inline. */
static int try_inline_ext(Fe *f)
{
    const DecodedInsn *d = f->d;
    IRBlock *ir = f->ir;
    unsigned op = d->op;
    bool mem = (d->flags & DI_MEM) != 0;
    int ea;
    if (op == 0xC0 || op == 0xC1 || (op >= 0xD0 && op <= 0xD3)) {
        return gen_shift(f);
    }
    if (op == 0x1A3 || op == 0x1AB || op == 0x1B3 || op == 0x1BB ||
        (op == 0x1BA && d->reg >= 4)) {
        return gen_bt(f);
    }
    if (op == 0x69 || op == 0x6B || op == 0x1AF) {
        unsigned size = d->opsize;
        int b = ir_temp(ir), lo = ir_temp(ir), hi = ir_temp(ir);
        ir_insn_start(ir, f->eip, f->next);
        int a = gen_rm_load(f, size, false, &ea);
        if (op == 0x1AF) {
            ir_ldreg(ir, b, d->reg, size);
        } else {
            ir_movi(ir, b, size == 2 ? (uint32_t)(int32_t)(int16_t)d->imm : d->imm);
        }
        if (size == 4) {
            ir_alu(ir, IR_ALU_MUL, lo, a, b, 4);
            ir_alu(ir, IR_ALU_IMULH, hi, a, b, 4);
        } else {
            int sa = ir_temp(ir), sb = ir_temp(ir), p = ir_temp(ir), k = ir_temp(ir);
            ir_alu(ir, IR_ALU_SEXT16, sa, a, -1, 4);
            ir_alu(ir, IR_ALU_SEXT16, sb, b, -1, 4);
            ir_alu(ir, IR_ALU_MUL, p, sa, sb, 4);
            ir_movi(ir, k, 16);
            ir_alu(ir, IR_ALU_SHR, hi, p, k, 2);
            ir_movi(ir, k, 0xFFFF);
            ir_alu(ir, XA_AND, lo, p, k, 2);
        }
        ir_streg(ir, d->reg, size, lo);
        ir_setcc(ir, size == 2 ? CC_OP_IMUL16 : CC_OP_IMUL32, lo, hi, -1);
        ir_insn_end(ir);
        fl_result(f, hi, size); /* MUL/IMUL: SF/ZF/PF of the high half */
        f->fl.af = 1;
        return 1;
    }
    if (op >= 0x190 && op <= 0x19F) {
        ir_insn_start(ir, f->eip, f->next);
        int c = gen_cond(f, (int)(op & 0xF));
        if (mem) {
            ir_sync(ir, f->eip, f->next);
            ea = gen_ea(f);
            ir_st(ir, d->seg, ea, c, 1);
        } else {
            ea = -1;
            ir_streg(ir, d->rm, 1, c);
        }
        gen_rm_end(f, ea, true);
        return 1;
    }
    if (op >= 0x140 && op <= 0x14F) {
        unsigned size = d->opsize;
        int skip = ir_label(ir);
        ir_insn_start(ir, f->eip, f->next);
        int v = gen_rm_load(f, size, false, &ea); /* read (and may fault) either way */
        int c = gen_cond(f, (int)(op & 0xF));
        ir_brzero(ir, c, skip);
        ir_streg(ir, d->reg, size, v);
        ir_set_label(ir, skip);
        ir_insn_end(ir);
        return 1;
    }
    if ((op == 0xFE || op == 0xFF) && d->reg <= 1) {
        return gen_incdec(f, -1, op_size(d), d->reg == 1);
    }
    if ((op == 0xF6 || op == 0xF7) && (d->reg == 2 || d->reg == 3)) {
        unsigned size = op_size(d);
        uint32_t si = size == 1 ? 0 : size == 2 ? 1 : 2;
        int k = ir_temp(ir), r = ir_temp(ir);
        ir_insn_start(ir, f->eip, f->next);
        int v = gen_rm_load(f, size, true, &ea);
        if (d->reg == 2) { /* NOT: no flags */
            ir_movi(ir, k, size_mask(size));
            ir_alu(ir, XA_XOR, r, v, k, size);
            gen_rm_store(f, ea, r, size);
        } else { /* NEG: flags of 0 - v */
            ir_movi(ir, k, 0);
            ir_alu(ir, XA_SUB, r, k, v, size);
            gen_rm_store(f, ea, r, size);
            ir_setcc(ir, CC_OP_SUB8 + si, r, v, -1);
            fl_sub(f, k, v, size);
        }
        gen_rm_end(f, ea, true);
        return 1;
    }
    if (op == 0x86 || op == 0x87 || (op >= 0x91 && op <= 0x97)) {
        unsigned size = op >= 0x91 ? d->opsize : op_size(d);
        int reg = op >= 0x91 ? R_EAX : d->reg;
        int rv = ir_temp(ir);
        ir_insn_start(ir, f->eip, f->next);
        int v;
        if (op >= 0x91) {
            v = ir_temp(ir);
            ea = -1;
            ir_ldreg(ir, v, (int)(op & 7), size);
        } else {
            v = gen_rm_load(f, size, true, &ea);
        }
        ir_ldreg(ir, rv, reg, size);
        if (op >= 0x91) {
            ir_streg(ir, (int)(op & 7), size, rv);
        } else {
            gen_rm_store(f, ea, rv, size);
        }
        ir_streg(ir, reg, size, v);
        gen_rm_end(f, ea, true);
        return 1;
    }
    if (op == 0x68 || op == 0x6A || (op == 0xFF && d->reg == 6)) {
        unsigned size = d->opsize;
        ir_insn_start(ir, f->eip, f->next);
        int v;
        if (op == 0xFF) {
            v = gen_rm_load(f, size, false, &ea);
            if (ea < 0) {
                ir_sync(ir, f->eip, f->next);
            }
        } else {
            v = ir_temp(ir);
            ir_sync(ir, f->eip, f->next);
            ir_movi(ir, v, d->imm);
        }
        gen_push_val(f, v, size);
        ir_insn_end(ir);
        ir_check(ir, f->next);
        return 1;
    }
    if (op == 0xC9) {
        unsigned size = d->opsize, ss = f->stack32 ? 4 : 2;
        int sp = ir_temp(ir), v = ir_temp(ir), k = ir_temp(ir);
        ir_insn_start(ir, f->eip, f->next);
        ir_sync(ir, f->eip, f->next);
        ir_ldreg(ir, sp, R_EBP, ss);
        ir_ld(ir, v, S_SS, sp, size);
        ir_movi(ir, k, size);
        ir_alu(ir, XA_ADD, sp, sp, k, ss);
        ir_streg(ir, R_ESP, ss, sp);
        ir_streg(ir, R_EBP, size, v);
        ir_insn_end(ir);
        return 1;
    }
    if (op == 0x98 || op == 0x99) {
        unsigned size = d->opsize;
        int v = ir_temp(ir), r = ir_temp(ir);
        ir_insn_start(ir, f->eip, f->next);
        if (op == 0x98) {
            ir_ldreg(ir, v, R_EAX, size / 2);
            ir_alu(ir, size == 2 ? IR_ALU_SEXT8 : IR_ALU_SEXT16, r, v, -1, size);
            ir_streg(ir, R_EAX, size, r);
        } else {
            int k = ir_temp(ir), x = v;
            ir_ldreg(ir, v, R_EAX, size);
            if (size == 2) {
                x = ir_temp(ir);
                ir_alu(ir, IR_ALU_SEXT16, x, v, -1, 4);
            }
            ir_movi(ir, k, 31);
            ir_alu(ir, IR_ALU_SAR, r, x, k, size);
            ir_streg(ir, R_EDX, size, r);
        }
        ir_insn_end(ir);
        return 1;
    }
    int ar = try_inline_arith(f);
    if (ar) {
        return ar;
    }
    if (op >= 0x1C8 && op <= 0x1CF) {
        int v = ir_temp(ir);
        ir_insn_start(ir, f->eip, f->next);
        if (d->opsize == 2) {
            ir_movi(ir, v, 0);
            ir_streg(ir, (int)(op & 7), 2, v);
        } else {
            ir_ldreg(ir, v, (int)(op & 7), 4);
            ir_alu(ir, IR_ALU_BSWAP, v, v, -1, 4);
            ir_streg(ir, (int)(op & 7), 4, v);
        }
        ir_insn_end(ir);
        return 1;
    }
    return 0;
}

/* try_inline: translate f->d inline. Returns 1 (done, block continues), 2 (done, block
 * ended), 0 (not handled: use the helper). */
/* gen_x87_move: FLD m64, FST m64 and FSTP m64 through a flat data segment as IR_X87 (its
 * inline form covers the usual case; the handler does the rest). */
static int gen_x87_move(Fe *f)
{
    const DecodedInsn *d = f->d;
    IRBlock *ir = f->ir;
    int seg = d->seg;
    if (!(f->tbflags & TBF_FLAT) || (f->tbflags & TBF_AC) ||
        (seg != S_DS && seg != S_ES && seg != S_SS)) {
        return 0;
    }
    int sub = d->reg == 0 ? IR_X87_FLD64 : d->reg == 2 ? IR_X87_FST64 : IR_X87_FSTP64;
    ir_insn_start(ir, f->eip, f->next);
    ir_sync(ir, f->eip, f->next);
    int ea = gen_ea(f);
    ir_x87(ir, sub, -1, ea, seg, f->eip, (const void *)f->j->table[d->op & (OP_COUNT - 1)],
           d);
    ir_insn_end(ir);
    ir_check(ir, f->next); /* after the slow path: a store into translated code... */
    return 1;
}

/* gen_x87_reg: FLD/FST/FSTP ST(i), FXCH, FLD1, FLDZ and FNSTSW AX as IR_X87 (inline unless
 * the FPU is unusable or the stack would fault; then the handler). */
static int gen_x87_reg(Fe *f, int sub)
{
    const DecodedInsn *d = f->d;
    IRBlock *ir = f->ir;
    ir_insn_start(ir, f->eip, f->next);
    ir_sync(ir, f->eip, f->next);
    int t = sub == IR_X87_FNSTSW ? ir_temp(ir) : -1;
    ir_x87(ir, sub, t, -1, 0, f->eip, (const void *)f->j->table[d->op & (OP_COUNT - 1)], d);
    if (t >= 0) {
        ir_streg(ir, R_EAX, 2, t);
    }
    ir_insn_end(ir);
    return 1;
}

static int try_inline(Fe *f)
{
    const DecodedInsn *d = f->d;
    IRBlock *ir = f->ir;
    unsigned op = d->op;
    bool mem = (d->flags & DI_MEM) != 0;
    if (op == 0xDD && mem && (d->reg == 0 || d->reg == 2 || d->reg == 3)) {
        return gen_x87_move(f);
    }
    if (!mem && op >= 0xD9 && op <= 0xDF) {
        int sub = -1;
        if (op == 0xD9) {
            sub = d->reg == 0 ? IR_X87_FLDST : d->reg == 1 ? IR_X87_FXCH
                : d->modrm == 0xE8 ? IR_X87_FLD1 : d->modrm == 0xEE ? IR_X87_FLDZ : -1;
        } else if (op == 0xDD && (d->reg == 2 || d->reg == 3)) {
            sub = d->reg == 2 ? IR_X87_FSTST : IR_X87_FSTPST;
        } else if (op == 0xDF && d->modrm == 0xE0) {
            sub = IR_X87_FNSTSW;
        }
        if (sub >= 0) {
            return gen_x87_reg(f, sub);
        }
    }
    if (op == 0x90 || (op >= (OP_MAP_0F | 0x18) && op <= (OP_MAP_0F | 0x1F))) {
        /* NOP, PAUSE and the P6 hint NOPs (0F 18-1F, PREFETCHh included), which do not
         * access their memory operand (op_nop): only the count. */
        ir_insn_start(ir, f->eip, f->next);
        ir_insn_end(ir);
        return 1;
    }
    /* LOCK: the decoder accepts it only on read-modify-write memory forms, and with one
     * CPU and no other bus master running during an instruction a locked RMW is a plain
     * one, so the inline forms below serve both. */
    if (op < 0x40 && (op & 7) < 6 && alu_inline_op((int)(op >> 3) & 7) &&
        !(mem && (op & 7) < 4)) {
        int aop = (int)(op >> 3) & 7;
        unsigned size = op_size(d);
        unsigned form = op & 7;
        int src = ir_temp(ir);
        if (form >= 4) {
            ir_insn_start(ir, f->eip, f->next);
            ir_movi(ir, src, d->imm & (size == 1 ? 0xFF : size == 2 ? 0xFFFF : 0xFFFFFFFF));
            gen_alu(f, aop, R_EAX, src, size);
            ir_insn_end(ir);
            return 1;
        }
        ir_insn_start(ir, f->eip, f->next);
        int dst = (form & 2) ? d->reg : d->rm;
        ir_ldreg(ir, src, (form & 2) ? d->rm : d->reg, size);
        gen_alu(f, aop, dst, src, size);
        ir_insn_end(ir);
        return 1;
    }
    if (op >= 0x80 && op <= 0x83 && op != 0x82 && !mem && alu_inline_op(d->reg)) {
        unsigned size = op_size(d);
        int src = ir_temp(ir);
        ir_insn_start(ir, f->eip, f->next);
        ir_movi(ir, src, d->imm & (size == 1 ? 0xFF : size == 2 ? 0xFFFF : 0xFFFFFFFF));
        gen_alu(f, d->reg, d->rm, src, size);
        ir_insn_end(ir);
        return 1;
    }
    if (op >= 0x40 && op <= 0x4F) {
        return gen_incdec(f, (int)(op & 7), d->opsize, (op & 8) != 0);
    }
    int ext = try_inline_ext(f);
    if (ext) {
        return ext;
    }
    if (op >= 0x88 && op <= 0x8B) {
        unsigned size = op_size(d);
        int t = ir_temp(ir);
        ir_insn_start(ir, f->eip, f->next);
        if (!mem) {
            ir_ldreg(ir, t, (op & 2) ? d->rm : d->reg, size);
            ir_streg(ir, (op & 2) ? d->reg : d->rm, size, t);
            ir_insn_end(ir);
            return 1;
        }
        ir_sync(ir, f->eip, f->next);
        int ea = gen_ea(f);
        if (op & 2) {
            ir_ld(ir, t, d->seg, ea, size);
            ir_streg(ir, d->reg, size, t);
            ir_insn_end(ir);
            return 1;
        }
        ir_ldreg(ir, t, d->reg, size);
        ir_st(ir, d->seg, ea, t, size);
        ir_insn_end(ir);
        ir_check(ir, f->next); /* the store may have hit translated code */
        return 1;
    }
    if (op >= 0xB0 && op <= 0xBF) {
        unsigned size = op < 0xB8 ? 1 : d->opsize;
        int t = ir_temp(ir);
        ir_insn_start(ir, f->eip, f->next);
        ir_movi(ir, t, d->imm);
        ir_streg(ir, (int)(op & 7), size, t);
        ir_insn_end(ir);
        return 1;
    }
    if (op == 0x8D && mem) {
        ir_insn_start(ir, f->eip, f->next);
        int ea = gen_ea(f);
        ir_streg(ir, d->reg, d->opsize, ea);
        ir_insn_end(ir);
        return 1;
    }
    if ((op >= 0x70 && op <= 0x7F) || (op >= 0x180 && op <= 0x18F)) {
        uint32_t target = branch_target(f);
        if (target > f->cs_limit) {
            return 0;
        }
        int l = ir_label(ir);
        /* Not at the block's end: the block goes on at the fall-through, the taken branch
         * is a side exit; or, following a jump back on the block's page, the other way
         * round (the branch tests the opposite condition). */
        bool side = !f->last && f->nside < TB_SLOTS - 2;
        bool follow = side && f->may_follow && target < f->start &&
                      ((f->cs_base + target) >> 12) == ((f->cs_base + f->start) >> 12);
        int cc = (int)(op & 0xF) ^ (follow ? 1 : 0);
        ir_insn_start(ir, f->eip, f->next);
        ir_insn_end(ir);
        if (fl_ok(f, cc)) {
            ir_brflags(ir, cc, f->fl.kind == 3 ? 2 : f->fl.kind, f->fl.a, f->fl.b, f->fl.size,
                       l);
        } else if (f->fl.valid && f->fl.kind == 4) {
            int c = ir_temp(ir);
            raw_cond(f, c, cc, f->fl.a);
            ir_brcond(ir, c, l);
        } else if (fl_of_known(f, cc)) {
            int c = ir_temp(ir);
            fl_of_cond(f, c, cc);
            ir_brcond(ir, c, l);
        } else if (fl_cf_known(f, cc)) {
            if (cc == XC_B) {
                ir_brcond(ir, f->fl.cf, l);
            } else {
                ir_brzero(ir, f->fl.cf, l);
            }
        } else {
            int c = ir_temp(ir);
            if (!f->fl.valid && condcc_inline(f->cc_guess, cc)) {
                ir_condcc(ir, c, cc, f->cc_guess);
            } else {
                ir_call_helper(ir, c, (const void *)helper_cond, (const void *)(uintptr_t)cc);
                f->j->stats.cond_helpers++;
            }
            ir_brcond(ir, c, l);
        }
        if (!ir->overflow) {
            /* The branch goes straight to an exit (jit_backend.c): a side exit's, or the
             * taken one after the fall-through's when the block ends here. */
            ir->insn[ir->n - 1].imm2 = 1;
        }
        if (side) {
            f->side_label[f->nside] = l;
            f->side_target[f->nside] = follow ? f->next : target;
            f->nside++;
            if (follow) {
                f->follow_now = true;
                f->next = target;
            }
            return 1;
        }
        ir_goto_tb(ir, 1, f->next);
        ir_set_label(ir, l);
        ir_goto_tb(ir, 0, target);
        return 2;
    }
    if ((op >= 0x50 && op <= 0x57) || op == 0xE8) {
        /* PUSH reg; CALL rel pushes the return address then jumps. */
        unsigned size = d->opsize;
        uint32_t target = 0;
        if (op == 0xE8) {
            target = branch_target(f);
            if (target > f->cs_limit) {
                return 0;
            }
        }
        int v = ir_temp(ir), sp = ir_temp(ir), k = ir_temp(ir);
        ir_insn_start(ir, f->eip, f->next);
        ir_sync(ir, f->eip, f->next);
        if (op == 0xE8) {
            ir_movi(ir, v, f->next);
        } else {
            ir_ldreg(ir, v, (int)(op & 7), size);
        }
        ir_ldreg(ir, sp, R_ESP, 4);
        ir_movi(ir, k, size);
        ir_alu(ir, XA_SUB, sp, sp, k, f->stack32 ? 4 : 2);
        ir_st(ir, S_SS, sp, v, size);
        ir_streg(ir, R_ESP, f->stack32 ? 4 : 2, sp);
        ir_insn_end(ir);
        if (op == 0xE8 && f->inline_call) {
            /* Into the callee (call_inline), behind the check that its page is mapped as
             * when it was read, else a side exit to it. */
            ir_check_events(ir);
            if (f->chk) {
                int ok = ir_temp(ir), l = ir_label(ir);
                ir_codechk(ir, ok, f->chk_lin, f->chk_phys, f->chk_addend);
                ir_brzero(ir, ok, l);
                if (!ir->overflow) {
                    ir->insn[ir->n - 1].imm2 = 1; /* a side exit */
                }
                f->side_label[f->nside] = l;
                f->side_target[f->nside] = target;
                f->nside++;
            }
            f->in_callee = true;
            f->ret_expect = f->next;
            f->next = target;
            return 1;
        }
        if (op == 0xE8) {
            ir_seteip(ir, target);
            ir_check_events(ir); /* the push may have hit translated code */
            if (size == 4) {
                ir_call_tb(ir, target, f->next);
            } else {
                ir_goto_tb(ir, 0, target);
            }
            return 2;
        }
        ir_check(ir, f->next);
        return 1;
    }
    if ((op >= 0x58 && op <= 0x5F) || op == 0xC3) {
        /* POP reg; RET near pops the target, checked against the CS limit. */
        unsigned size = d->opsize;
        int v = ir_temp(ir), sp = ir_temp(ir), k = ir_temp(ir);
        ir_insn_start(ir, f->eip, f->next);
        ir_sync(ir, f->eip, f->next);
        ir_ldreg(ir, sp, R_ESP, f->stack32 ? 4 : 2);
        ir_ld(ir, v, S_SS, sp, size);
        ir_movi(ir, k, size);
        ir_alu(ir, XA_ADD, sp, sp, k, f->stack32 ? 4 : 2);
        ir_streg(ir, R_ESP, f->stack32 ? 4 : 2, sp);
        if (op == 0xC3 && f->in_callee) {
            /* The inlined callee's return: on at the caller unless the popped address is
             * another (then the C loop goes there). */
            ir_insn_end(ir);
            ir_ret_inline(ir, v, f->ret_expect);
            f->in_callee = false;
            f->next = f->ret_expect;
            return 1;
        }
        if (op == 0xC3) {
            ir_jump_ind(ir, v, size, f->cs_limit);
            ir_insn_end(ir);
            if (size == 4) {
                ir_exit_ret(ir);
            } else {
                ir_exit_tb(ir);
            }
            return 2;
        }
        ir_streg(ir, (int)(op & 7), size, v);
        ir_insn_end(ir);
        return 1;
    }
    if (op == 0xFF && (d->reg == 2 || d->reg == 4)) {
        /* CALL / JMP near r/m: the target (masked to 16 bits with a 16-bit operand) is
         * checked against the CS limit before CALL pushes the return address. */
        unsigned size = d->opsize;
        int ea;
        ir_insn_start(ir, f->eip, f->next);
        ir_sync(ir, f->eip, f->next);
        int v = gen_rm_load(f, size, false, &ea);
        if (d->reg == 2) {
            /* EIP is set after the push: a slow-path store resets it to this instruction
             * for its fault report. A push into translated code is seen by the next
             * block's entry check (jit_stop). */
            int r = ir_temp(ir), sp = ir_temp(ir), k = ir_temp(ir);
            ir_check_target(ir, v, size, f->cs_limit);
            ir_movi(ir, r, f->next);
            ir_ldreg(ir, sp, R_ESP, 4);
            ir_movi(ir, k, size);
            ir_alu(ir, XA_SUB, sp, sp, k, f->stack32 ? 4 : 2);
            ir_st(ir, S_SS, sp, r, size);
            ir_streg(ir, R_ESP, f->stack32 ? 4 : 2, sp);
        }
        ir_jump_ind(ir, v, size, f->cs_limit);
        ir_insn_end(ir);
        if (d->reg == 2 && size == 4) {
            ir_exit_call(ir, f->next);
        } else {
            ir_exit_tb(ir);
        }
        return 2;
    }
    if (op == 0xE2) {
        /* LOOP: (E)CX by address size, no flags. */
        uint32_t target = branch_target(f);
        if (target > f->cs_limit) {
            return 0;
        }
        int c = ir_temp(ir), one = ir_temp(ir);
        int l = ir_label(ir);
        ir_insn_start(ir, f->eip, f->next);
        ir_ldreg(ir, c, R_ECX, d->addrsize);
        ir_movi(ir, one, 1);
        ir_alu(ir, XA_SUB, c, c, one, d->addrsize);
        ir_streg(ir, R_ECX, d->addrsize, c);
        ir_insn_end(ir);
        ir_brcond(ir, c, l);
        if (!ir->overflow) {
            ir->insn[ir->n - 1].imm2 = 1; /* straight to the exit after the label */
        }
        ir_goto_tb(ir, 1, f->next);
        ir_set_label(ir, l);
        ir_goto_tb(ir, 0, target);
        return 2;
    }
    int more = try_inline_more(f);
    if (more) {
        return more;
    }
    if (op == 0xE9 || op == 0xEB) {
        uint32_t target = branch_target(f);
        if (target > f->cs_limit) {
            return 0;
        }
        ir_insn_start(ir, f->eip, f->next);
        ir_insn_end(ir);
        ir_goto_tb(ir, 0, target);
        return 2;
    }
    return 0;
}

/* gen_helper: the instruction as a call of the interpreter's handler. Returns true when the
 * block may continue after it. */
static bool gen_helper(Fe *f, const DecodedInsn *copy, bool last)
{
    IRBlock *ir = f->ir;
    const DecodedInsn *d = f->d;
    f->fl.valid = false;
    f->cc_guess = CC_OP_EFLAGS;
    ir_insn_start(ir, f->eip, f->next);
    ir_sync(ir, f->eip, f->next);
    ir_call_helper(ir, -1, (const void *)f->j->table[d->op & (OP_COUNT - 1)], copy);
    ir_insn_end(ir);
    if (d->op == 0xE8 || (d->op >= 0xE0 && d->op <= 0xE3)) {
        /* CALL rel, LOOPcc, JCXZ: chain to wherever the handler went, if it is one of the
         * two direct targets and nothing needs the C loop. */
        ir_check_events(ir);
        ir_goto_tb_if(ir, 0, branch_target(f));
        ir_goto_tb_if(ir, 1, f->next);
        ir_exit_tb(ir);
        return false;
    }
    if (!straight_line(d)) {
        /* HLT, STI, IRET...: what the handler asked of the C loop (exit_word) is seen here;
         * block entries do not test it. */
        ir_check_events(ir);
        ir_exit_tb_mode(ir);
        return false;
    }
    ir_check(ir, f->next);
    if (last) {
        ir_goto_tb(ir, 0, f->next);
    }
    return true;
}

/* jit_helper_step: the interpreter's step, fetching and decoding at CS:EIP on every run. */
static void jit_helper_step(CPUState *cpu, const void *unused)
{
    (void)unused;
    x86_interp_step(cpu);
}

/* gen_step: a block of one instruction the frontend cannot decode from the bytes it has (it
 * crosses into the next page or the CS limit, or is undefined): the interpreter fetches,
 * decodes and runs it each time, so the block depends neither on the bytes nor on the mapping
 * of the next page; then the next block is looked up in generated code. Without it every
 * execution would leave to the C loop. */
static void gen_step(Fe *f, uint32_t eip)
{
    IRBlock *ir = f->ir;
    ir_insn_start(ir, eip, eip);
    ir_sync(ir, eip, eip);
    ir_call_helper(ir, -1, (const void *)jit_helper_step, NULL);
    ir_insn_end(ir);
    ir_check_events(ir);
    ir_exit_tb_mode(ir);
}

/* Callee inlining: a CALL rel32 to a function that is only "MOV r32, [ESP]; RET" (the
 * position-independent code's get_pc_thunk, called at the start of nearly every function of
 * a PIC binary) goes on into it and back in the same block: three block transitions (the
 * call, the thunk, the return) become none. The RET still pops what is on the stack; the
 * block leaves to the C loop in the unlikely case that is not the return address. The
 * callee's bytes are read through the block's own page when it lies in it, else through the
 * code TLB entry the last run left, without filling anything; then the block checks on
 * every run that the entry still maps that page the same way (IR_CODECHK, a side exit to the
 * callee when not) and the block also belongs to the callee's page, whose writes drop it
 * (TranslationBlock.phys2). Flat 32-bit code only, as host calls. */
typedef struct Callee {
    const uint8_t *code;
    unsigned avail;
    uint32_t phys;
} Callee;

static bool call_inline(Fe *f, const TranslationBlock *tb, const uint8_t *code, unsigned off,
                        unsigned avail, Callee *out)
{
    const DecodedInsn *d = f->d;
    if (d->op != 0xE8 || d->opsize != 4 || !f->code32 || !f->stack32 || tb->cs_base != 0 ||
        tb->cs_limit != 0xFFFFFFFFu || f->in_callee || f->followed || f->last || off >= avail ||
        f->n + 2 >= TB_MAX_INSNS || f->ir->n > IR_MAX_INSNS - 4 * 64 ||
        f->ir->nlabels > IR_MAX_LABELS - 8 || (tb->flags & TBF_AC)) {
        return false;
    }
    uint32_t target = branch_target(f);
    uint32_t page = target & ~0xFFFu;
    f->chk = page != (tb->eip & ~0xFFFu);
    if (f->chk) {
        if (f->nside >= TB_SLOTS - 2) {
            return false;
        }
        bool user = ((tb->flags >> TBF_CPL_SHIFT) & 3) == 3;
        const TLBEntry *e = &(user ? f->cpu->tlb_user : f->cpu->tlb)[(target >> 12) &
                                                                      (TLB_SIZE - 1)];
        if (e->tag_code != page) {
            return false; /* not mapped for code (yet), or MMIO */
        }
        f->chk_lin = page;
        f->chk_phys = e->paddr;
        f->chk_addend = e->addend;
        out->code = (const uint8_t *)(e->addend + target);
        out->phys = e->paddr | (target & 0xFFFu);
    } else {
        out->code = code + ((int32_t)target - (int32_t)tb->eip);
        out->phys = (tb->phys_pc & ~0xFFFu) | (target & 0xFFFu);
    }
    out->avail = 0x1000u - (target & 0xFFFu);
    const uint8_t *c = out->code;
    return out->avail >= 4 && c[0] == 0x8B && (c[1] & 0xC7) == 0x04 &&
           ((c[1] >> 3) & 7) != R_ESP && c[2] == 0x24 && c[3] == 0xC3;
}

/* Cross: an instruction that crosses the end of the block's page (cross_decode). */
typedef struct Cross {
    int label;                    /* the side exit taken when the next page is not mapped as
                                     at translation: the interpreter runs the instruction */
    uint32_t eip, lin2, phys2;
    uintptr_t addend;
    unsigned head, len;           /* its bytes in the block's page, in all */
    uint8_t bytes[16];
} Cross;

/* cross_decode: decode the instruction at eip (head bytes left in the page at code) with the
 * next page's first bytes, read through the code TLB entry of that page (as call_inline
 * reads a thunk). In a flat 32-bit block without an inlined callee only. For the block's
 * first instruction the entry is filled when missing (the instruction runs next and fetches
 * there anyway; a page that would fault is left to the interpreter); later in a block only an
 * entry already there is used, else the block ends before the instruction, which then starts
 * one. Returns the length (the instruction really crosses) or 0. */
static int cross_decode(Fe *f, const TranslationBlock *tb, const uint8_t *code, unsigned head,
                        uint32_t eip, unsigned n, DecodedInsn *d, Cross *x)
{
    if (f->j->opt.no_inline || f->in_callee || !f->code32 || tb->cs_base != 0 ||
        tb->cs_limit != 0xFFFFFFFFu || tb->size2 != 0 || head == 0 ||
        head >= X86_MAX_INSN_LEN || ((eip + head) & 0xFFFu) != 0 || eip + head == 0) {
        return 0;
    }
    uint32_t page = eip + head;
    bool user = ((tb->flags >> TBF_CPL_SHIFT) & 3) == 3;
    const TLBEntry *e = &(user ? f->cpu->tlb_user : f->cpu->tlb)[(page >> 12) & (TLB_SIZE - 1)];
    if (e->tag_code != page && n == 0) {
        e = tlb_fill(f->cpu, page, ACC_EXEC, user, false);
    }
    if (!e || e->tag_code != page) {
        return 0;
    }
    memcpy(x->bytes, code, head);
    memcpy(x->bytes + head, (const uint8_t *)(e->addend + page), X86_MAX_INSN_LEN - head);
    DecodeEnv env = {.bytes = x->bytes, .avail = X86_MAX_INSN_LEN, .code32 = true};
    int len = x86_decode(&env, d);
    if (len <= (int)head) {
        return 0; /* undefined or too long: the interpreter's */
    }
    x->eip = eip;
    x->lin2 = page;
    x->phys2 = e->paddr;
    x->addend = e->addend;
    x->head = head;
    x->len = (unsigned)len;
    return len;
}

/* frontend_run: one translation of the block into j->ir (see jit_frontend). */
static unsigned frontend_run(JitState *j, CPUState *cpu, TranslationBlock *tb,
                             const uint8_t *code, unsigned avail, bool no_rotpend)
{
    IRBlock *ir = &j->ir;
    Fe f = {.j = j, .cpu = cpu, .ir = ir, .code32 = (tb->flags & TBF_CODE32) != 0,
            .stack32 = (tb->flags & TBF_STACK32) != 0, .cs_limit = tb->cs_limit,
            .tbflags = tb->flags, .cc_guess = cpu->cc_op, .start = tb->eip,
            .cs_base = tb->cs_base, .no_rotpend = no_rotpend};
    DecodedInsn *copies = (DecodedInsn *)(j->arena + j->arena_used);
    unsigned n = 0, off = 0;
    uint32_t eip = tb->eip;
    ir_init(ir);
    tb->insns = copies;
    tb->phys2 = 0;
    tb->size2 = 0;
    /* Where instructions come from: the block's bytes, or the second range's (an inlined
     * callee's while in_callee, the code a backward Jcc was followed to once followed). */
    Callee callee = {0};
    unsigned coff = 0;
    Cross cross = {.label = -1};
    tb->tail2 = 0;
    tb->followed = false;
    for (;;) {
        DecodedInsn *d = &copies[n];
        bool second = f.in_callee || f.followed;
        const uint8_t *base = second ? callee.code : code;
        unsigned boff = second ? coff : off, bavail = second ? callee.avail : avail;
        DecodeEnv env = {.bytes = base + boff, .avail = bavail - boff, .code32 = f.code32};
        int len = x86_decode(&env, d);
        bool crossing = false;
        if (len <= 0 && !second) {
            len = cross_decode(&f, tb, base + boff, bavail - boff, eip, n, d, &cross);
            crossing = len > 0;
            if (crossing) {
                base = cross.bytes; /* the instruction's bytes, from both pages */
                boff = 0;
                bavail = (unsigned)len;
            }
        }
        if (len <= 0) {
            /* Undefined, too long, or crossing the page/limit: the interpreter's job, in the
             * next block. */
            if (n) {
                ir_goto_tb(ir, 0, eip);
            } else {
                memset(d, 0, sizeof(*d));
                gen_step(&f, eip);
                j->stats.insns_helper++;
                n = 1;
                off = avail < 1 ? avail : 1; /* a byte: the block belongs to this page */
            }
            break;
        }
        f.d = d;
        f.eip = eip;
        f.code = base;
        f.avail = bavail;
        int keep[3] = {-1, -1, -1};
        if (f.fl.valid) {
            keep[0] = f.fl.a;
            keep[1] = f.fl.kind == 3 ? f.fl.of : f.fl.b; /* (kind 3 has no b) */
            keep[2] = f.fl.cf;
        }
        ir_temps_recycle(ir, keep);
        f.next = f.code32 ? eip + (uint32_t)len : ((eip + (uint32_t)len) & 0xFFFF);
        boff += (unsigned)len;
        if (second) {
            coff = boff;
        } else {
            off = crossing ? avail : boff;
        }
        n++;
        /* An instruction needs at most 64 IR ops and 4 labels: stop while they fit (temps are
         * recycled at every instruction). */
        bool last = n >= TB_MAX_INSNS || boff >= bavail || ir->n > IR_MAX_INSNS - 64 ||
                    ir->nlabels > IR_MAX_LABELS - 4 ||
                    (!f.code32 && f.next < eip);
        f.off = boff;
        f.n = n;
        f.last = last;
        if (crossing) {
            /* On only while the next page is mapped as when its bytes were read. */
            int ok = ir_temp(ir);
            cross.label = ir_label(ir);
            ir_codechk(ir, ok, cross.lin2, cross.phys2, cross.addend);
            ir_brzero(ir, ok, cross.label);
            if (!ir->overflow) {
                ir->insn[ir->n - 1].imm2 = 1; /* a side exit */
            }
            tb->phys2 = cross.phys2;
            tb->size2 = (uint16_t)(cross.len - cross.head);
            tb->tail2 = (uint8_t)(cross.len - cross.head);
            j->stats.insns_cross++;
        }
        f.inline_call = !j->opt.no_inline &&
                        call_inline(&f, tb, code, off, avail, &callee);
        f.may_follow = !j->opt.no_follow && !j->opt.no_inline && f.code32 && !second &&
                       !crossing && tb->size2 == 0;
        f.follow_now = false;
        int r = j->opt.no_inline ? 0 : try_inline(&f);
        if (f.follow_now && r == 1) {
            /* Go on at the Jcc's target (f.next), on the block's page before its start. */
            uint32_t back = tb->eip - f.next;
            f.followed = true;
            callee.code = code - back;
            callee.avail = avail + back;
            coff = 0;
            tb->followed = true;
            tb->follow_eip = f.next;
            tb->phys2 = tb->phys_pc - back;
            j->stats.jcc_followed++;
        }
        if (f.inline_call && r == 1 && f.in_callee) {
            coff = 0;
            tb->phys2 = callee.phys;
            tb->size2 = 4; /* MOV r32, [ESP]; RET */
            j->stats.calls_inlined++;
        }
        f.inline_call = false;
        bool cont;
        if (r == 1) {
            j->stats.insns_inline++;
            cont = true;
            if (last) {
                ir_goto_tb(ir, 0, f.next);
            }
        } else if (r == 2) {
            j->stats.insns_inline++;
            cont = false;
        } else {
            j->stats.insns_helper++;
            cont = gen_helper(&f, d, last);
        }
        eip = f.next;
        if (!cont || last) {
            break;
        }
    }
    for (int k = 0; k < f.nside; k++) {
        ir_set_label(ir, f.side_label[k]);
        ir_goto_tb(ir, 2 + k, f.side_target[k]);
    }
    if (cross.label >= 0) {
        ir_set_label(ir, cross.label);
        gen_step(&f, cross.eip);
    }
    if (n && !ir->overflow && !j->opt.no_inline) {
        jit_opt_forward_regs(ir);
        const GroupHint *h = &j->ghint[jit_nogroup_slot(tb->phys_pc)];
        bool hinted = h->phys1 == tb->phys_pc + 1;
        if ((tb->flags & TBF_FLAT) && !(tb->flags & TBF_AC) && !j->opt.no_groups &&
            !(hinted && h->none)) {
            unsigned g = jit_opt_mem_groups(ir, hinted ? h->split_reg : -1,
                                            hinted ? h->split : 0);
            tb->ngroups = (uint8_t)ir->ngroups;
            memcpy(tb->group, ir->group, sizeof(tb->group));
            if (g) {
                j->stats.group_blocks++;
                j->stats.group_accesses += g;
                j->stats.stores_forwarded += jit_opt_forward_stores(ir);
            }
        }
        if (!jit_opt_rotpend(ir)) {
            return ~0u; /* again, with the rotates' flags inline (jit_frontend) */
        }
        jit_opt_dead_code(ir);
    }
    tb->ninsns = (uint16_t)n;
    tb->size = (uint16_t)off;
    if (tb->followed) {
        tb->size2 = (uint16_t)coff;
    }
    if (n) {
        j->arena_used += n * sizeof(DecodedInsn);
        memcpy(j->arena + j->arena_used, code, off);
        memcpy(j->arena + j->arena_used + off, cross.bytes + cross.head, tb->tail2);
        if (tb->followed) {
            memcpy(j->arena + j->arena_used + off, callee.code, coff);
        }
        tb->guest_copy = j->arena + j->arena_used;
        j->arena_used += (off + tb->tail2 + (tb->followed ? coff : 0) + 15) & ~15u;
    }
    return n;
}

unsigned jit_frontend(JitState *j, CPUState *cpu, TranslationBlock *tb, const uint8_t *code,
                      unsigned avail)
{
    JitStats stats = j->stats;
    unsigned n = frontend_run(j, cpu, tb, code, avail, false);
    if (n == ~0u) {
        /* An IR_ROTPEND's window held something other than register ops and loads (an
         * instruction flags_dead_after took for a load went another way): nothing of the
         * first attempt stays but the count of such retries. */
        j->stats = stats;
        j->stats.rotpend_retries++;
        n = frontend_run(j, cpu, tb, code, avail, true);
    }
    return n;
}
