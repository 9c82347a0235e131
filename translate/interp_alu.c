/* interp_alu.c: data instructions: ALU, shifts and rotates, multiply/divide, BCD, bit tests,
 * moves, exchanges and flag manipulation.
 *
 * Read-modify-write instructions compute the result and the new lazy-flag state first, store
 * the result, and only then commit the flags, so an instruction that faults on its store
 * leaves EFLAGS untouched (the execution loop restores only EIP and ESP).
 */
#include "translate/interp.h"

/* CCSet: a pending lazy-flag update, committed after the result is stored. */
typedef struct CCSet {
    uint32_t op, dst, src, src2;
} CCSet;

static inline void cc_commit(CPUState *cpu, const CCSet *cc)
{
    if (cc->op == CC_OP_EFLAGS) {
        interp_set_arith(cpu, cc->dst);
    } else {
        interp_set_cc(cpu, cc->op, cc->dst, cc->src, cc->src2);
    }
}

static inline unsigned op_size(const DecodedInsn *d)
{
    return (d->op & 1) ? d->opsize : 1;
}

static inline int32_t sext(uint32_t v, unsigned size)
{
    return size == 1 ? (int32_t)(int8_t)v : size == 2 ? (int32_t)(int16_t)v : (int32_t)v;
}

/* ---- ADD OR ADC SBB AND SUB XOR CMP ---- */

static inline uint32_t alu_calc(CPUState *cpu, int aop, uint32_t a, uint32_t b, unsigned size,
                                CCSet *cc)
{
    uint32_t m = interp_size_mask(size), si = interp_size_index(size), r, c;
    b &= m;
    switch (aop) {
    case 0:
        r = (a + b) & m;
        *cc = (CCSet){CC_OP_ADD8 + si, r, b, 0};
        break;
    case 1:
        r = (a | b) & m;
        *cc = (CCSet){CC_OP_LOGIC8 + si, r, 0, 0};
        break;
    case 2:
        c = cpu_cc_cf(cpu);
        r = (a + b + c) & m;
        *cc = (CCSet){CC_OP_ADC8 + si, r, b, c};
        break;
    case 3:
        c = cpu_cc_cf(cpu);
        r = (a - b - c) & m;
        *cc = (CCSet){CC_OP_SBB8 + si, r, b, c};
        break;
    case 4:
        r = (a & b) & m;
        *cc = (CCSet){CC_OP_LOGIC8 + si, r, 0, 0};
        break;
    case 6:
        r = (a ^ b) & m;
        *cc = (CCSet){CC_OP_LOGIC8 + si, r, 0, 0};
        break;
    default: /* 5 SUB, 7 CMP */
        r = (a - b) & m;
        *cc = (CCSet){CC_OP_SUB8 + si, r, b, 0};
        break;
    }
    return r;
}

/* alu_rm: r/m op= src (CMP = 7 does not write). */
static inline void alu_rm(CPUState *cpu, const DecodedInsn *d, int aop, uint32_t b,
                          unsigned size)
{
    CCSet cc;
    if (d->flags & DI_MEM) {
        uint32_t ea = interp_ea(cpu, d);
        uint32_t a = aop == 7 ? interp_ld(cpu, d->seg, ea, size)
                              : interp_ld_rmw(cpu, d->seg, ea, size);
        uint32_t r = alu_calc(cpu, aop, a, b, size, &cc);
        if (aop != 7) {
            interp_st(cpu, d->seg, ea, r, size);
        }
    } else {
        uint32_t a = interp_get_reg(cpu, d->rm, size);
        uint32_t r = alu_calc(cpu, aop, a, b, size, &cc);
        if (aop != 7) {
            interp_set_reg(cpu, d->rm, size, r);
        }
    }
    cc_commit(cpu, &cc);
}

/* alu_mem: the ALU block's memory forms (00-03 and friends), out of line. */
static __attribute__((noinline)) void alu_mem(CPUState *cpu, const DecodedInsn *d, int aop,
                                              unsigned size)
{
    CCSet cc;
    if (!(d->op & 2)) {
        alu_rm(cpu, d, aop, interp_get_reg(cpu, d->reg, size), size);
        return;
    }
    uint32_t b = interp_ld(cpu, d->seg, interp_ea(cpu, d), size);
    uint32_t r = alu_calc(cpu, aop, interp_get_reg(cpu, d->reg, size), b, size, &cc);
    if (aop != 7) {
        interp_set_reg(cpu, d->reg, size, r);
    }
    cc_commit(cpu, &cc);
}

/* alu_body: 00-3D, the classic ALU block, with the operation aop a compile-time constant in
 * each of the eight handlers below so the register forms compile to straight-line code. */
static inline __attribute__((always_inline)) void alu_body(CPUState *cpu,
                                                           const DecodedInsn *d, int aop)
{
    unsigned size = op_size(d);
    unsigned form = d->op & 7;
    CCSet cc;
    int dst;
    uint32_t a, b;
    if (form >= 4) {
        dst = R_EAX;
        a = interp_get_reg(cpu, R_EAX, size);
        b = d->imm;
    } else if (d->flags & DI_MEM) {
        alu_mem(cpu, d, aop, size);
        return;
    } else if (form & 2) {
        dst = d->reg;
        a = interp_get_reg(cpu, d->reg, size);
        b = interp_get_reg(cpu, d->rm, size);
    } else {
        dst = d->rm;
        a = interp_get_reg(cpu, d->rm, size);
        b = interp_get_reg(cpu, d->reg, size);
    }
    uint32_t r = alu_calc(cpu, aop, a, b, size, &cc);
    if (aop != 7) {
        interp_set_reg(cpu, dst, size, r);
    }
    interp_set_cc(cpu, cc.op, cc.dst, cc.src, cc.src2);
}

#define ALU_HANDLER(n)                                                                          \
    static void op_alu_##n(CPUState *cpu, const DecodedInsn *d)                                \
    {                                                                                           \
        alu_body(cpu, d, n);                                                                    \
    }
ALU_HANDLER(0)
ALU_HANDLER(1)
ALU_HANDLER(2)
ALU_HANDLER(3)
ALU_HANDLER(4)
ALU_HANDLER(5)
ALU_HANDLER(6)
ALU_HANDLER(7)

static const InterpFn alu_handlers[8] = {op_alu_0, op_alu_1, op_alu_2, op_alu_3,
                                         op_alu_4, op_alu_5, op_alu_6, op_alu_7};

/* 80-83: group 1, r/m op imm (82 is the 80 alias). */
static void op_grp1(CPUState *cpu, const DecodedInsn *d)
{
    unsigned size = (d->op == 0x81 || d->op == 0x83) ? d->opsize : 1;
    if (!(d->flags & DI_MEM)) {
        CCSet cc;
        uint32_t r = alu_calc(cpu, d->reg, interp_get_reg(cpu, d->rm, size), d->imm, size, &cc);
        if (d->reg != 7) {
            interp_set_reg(cpu, d->rm, size, r);
        }
        interp_set_cc(cpu, cc.op, cc.dst, cc.src, cc.src2);
        return;
    }
    alu_rm(cpu, d, d->reg, d->imm, size);
}

/* 84/85 TEST r/m, reg; A8/A9 TEST acc, imm. */
static void op_test(CPUState *cpu, const DecodedInsn *d)
{
    unsigned size = op_size(d);
    uint32_t a, b;
    if (d->op >= 0xA8) {
        a = interp_get_reg(cpu, R_EAX, size);
        b = d->imm;
    } else {
        a = interp_get_rm(cpu, d, size);
        b = interp_get_reg(cpu, d->reg, size);
    }
    interp_set_cc(cpu, CC_OP_LOGIC8 + interp_size_index(size), a & b & interp_size_mask(size),
                  0, 0);
}

/* 40-4F INC/DEC reg16/32. */
static void op_incdec_reg(CPUState *cpu, const DecodedInsn *d)
{
    unsigned size = d->opsize;
    int r = d->op & 7;
    bool dec = d->op & 8;
    uint32_t cf = cpu_cc_cf(cpu);
    uint32_t v = (interp_get_reg(cpu, r, size) + (dec ? -1u : 1u)) & interp_size_mask(size);
    interp_set_reg(cpu, r, size, v);
    interp_set_cc(cpu, (dec ? CC_OP_DEC8 : CC_OP_INC8) + interp_size_index(size), v, 0, cf);
}

static inline void incdec_rm(CPUState *cpu, const DecodedInsn *d, unsigned size, bool dec)
{
    uint32_t cf = cpu_cc_cf(cpu);
    uint32_t m = interp_size_mask(size);
    if (d->flags & DI_MEM) {
        uint32_t ea = interp_ea(cpu, d);
        uint32_t v = (interp_ld_rmw(cpu, d->seg, ea, size) + (dec ? -1u : 1u)) & m;
        interp_st(cpu, d->seg, ea, v, size);
        interp_set_cc(cpu, (dec ? CC_OP_DEC8 : CC_OP_INC8) + interp_size_index(size), v, 0, cf);
    } else {
        uint32_t v = (interp_get_reg(cpu, d->rm, size) + (dec ? -1u : 1u)) & m;
        interp_set_reg(cpu, d->rm, size, v);
        interp_set_cc(cpu, (dec ? CC_OP_DEC8 : CC_OP_INC8) + interp_size_index(size), v, 0, cf);
    }
}

/* FE: INC/DEC r/m8. */
static void op_grp4(CPUState *cpu, const DecodedInsn *d)
{
    if (d->reg > 1) {
        cpu_raise_ud(cpu);
    }
    incdec_rm(cpu, d, 1, d->reg == 1);
}

/* FF: INC, DEC, CALL, CALL far, JMP, JMP far, PUSH. */
static void op_grp5(CPUState *cpu, const DecodedInsn *d)
{
    unsigned size = d->opsize;
    switch (d->reg) {
    case 0:
    case 1:
        incdec_rm(cpu, d, size, d->reg == 1);
        return;
    case 2: {
        uint32_t t = interp_get_rm(cpu, d, size);
        uint32_t next = cpu->eip;
        if (size == 2) {
            t &= 0xFFFF;
        }
        if (t > cpu->seg[S_CS].limit) {
            cpu_raise_gp(cpu, 0);
        }
        interp_push(cpu, next, size);
        cpu->eip = t;
        return;
    }
    case 4:
        interp_jump(cpu, interp_get_rm(cpu, d, size), size);
        return;
    case 3:
    case 5: {
        if (!(d->flags & DI_MEM)) {
            cpu_raise_ud(cpu);
        }
        uint32_t ea = interp_ea(cpu, d);
        uint32_t off = interp_ld(cpu, d->seg, ea, size);
        uint16_t sel = cpu_ld16(cpu, d->seg, (ea + size) & interp_addr_mask(d));
        if (d->reg == 3) {
            interp_far_call(cpu, sel, off, size, cpu->eip);
        } else {
            interp_far_jump(cpu, sel, off, size);
        }
        return;
    }
    case 6:
        interp_push(cpu, interp_get_rm(cpu, d, size), size);
        return;
    default:
        cpu_raise_ud(cpu);
    }
}

/* ---- F6/F7: TEST NOT NEG MUL IMUL DIV IDIV ---- */

/* szp: SF, ZF and PF of v as a size-byte value. */
static inline uint32_t szp(uint32_t v, unsigned size)
{
    uint32_t m = interp_size_mask(size);
    v &= m;
    return (v == 0 ? EF_ZF : 0) | ((v & ~(m >> 1)) ? EF_SF : 0) |
           (__builtin_parity(v & 0xFF) ? 0 : EF_PF);
}

/* div_flags: the flags DIV/IDIV leave (all undefined in the SDM): SF/ZF/PF of the remainder
 * and AF set, as the SingleStepTests record; CF and OF are left alone. */
static inline void div_flags(CPUState *cpu, uint32_t rem, unsigned size)
{
    uint32_t f = cpu_get_eflags(cpu) & (EF_CF | EF_OF);
    interp_set_arith(cpu, f | szp(rem, size) | EF_AF);
}

static _Noreturn void raise_de(CPUState *cpu)
{
    cpu_raise_exception(cpu, EXC_DE, false, 0);
}

static void op_grp3(CPUState *cpu, const DecodedInsn *d)
{
    unsigned size = op_size(d);
    uint32_t m = interp_size_mask(size), si = interp_size_index(size);
    switch (d->reg) {
    case 0:
    case 1:
        interp_set_cc(cpu, CC_OP_LOGIC8 + si, interp_get_rm(cpu, d, size) & d->imm & m, 0, 0);
        return;
    case 2:
        if (d->flags & DI_MEM) {
            uint32_t ea = interp_ea(cpu, d);
            interp_st(cpu, d->seg, ea, ~interp_ld_rmw(cpu, d->seg, ea, size), size);
        } else {
            interp_set_reg(cpu, d->rm, size, ~interp_get_reg(cpu, d->rm, size));
        }
        return;
    case 3: {
        uint32_t v, r;
        if (d->flags & DI_MEM) {
            uint32_t ea = interp_ea(cpu, d);
            v = interp_ld_rmw(cpu, d->seg, ea, size);
            r = (0 - v) & m;
            interp_st(cpu, d->seg, ea, r, size);
        } else {
            v = interp_get_reg(cpu, d->rm, size);
            r = (0 - v) & m;
            interp_set_reg(cpu, d->rm, size, r);
        }
        interp_set_cc(cpu, CC_OP_SUB8 + si, r, v, 0);
        return;
    }
    case 4: { /* MUL */
        uint32_t s = interp_get_rm(cpu, d, size);
        if (size == 1) {
            uint32_t p = (cpu->regs[R_EAX] & 0xFF) * s;
            interp_set_reg(cpu, R_EAX, 2, p);
            interp_set_cc(cpu, CC_OP_MUL8, p & 0xFF, p >> 8, 0);
        } else if (size == 2) {
            uint32_t p = (cpu->regs[R_EAX] & 0xFFFF) * s;
            interp_set_reg(cpu, R_EAX, 2, p);
            interp_set_reg(cpu, R_EDX, 2, p >> 16);
            interp_set_cc(cpu, CC_OP_MUL16, p & 0xFFFF, p >> 16, 0);
        } else {
            uint64_t p = (uint64_t)cpu->regs[R_EAX] * s;
            cpu->regs[R_EAX] = (uint32_t)p;
            cpu->regs[R_EDX] = (uint32_t)(p >> 32);
            interp_set_cc(cpu, CC_OP_MUL32, (uint32_t)p, (uint32_t)(p >> 32), 0);
        }
        return;
    }
    case 5: { /* IMUL */
        int32_t s = sext(interp_get_rm(cpu, d, size), size);
        if (size == 1) {
            int32_t p = (int8_t)cpu->regs[R_EAX] * s;
            interp_set_reg(cpu, R_EAX, 2, (uint32_t)p);
            interp_set_cc(cpu, CC_OP_IMUL8, (uint32_t)p & 0xFF, ((uint32_t)p >> 8) & 0xFF, 0);
        } else if (size == 2) {
            int32_t p = (int16_t)cpu->regs[R_EAX] * s;
            interp_set_reg(cpu, R_EAX, 2, (uint32_t)p);
            interp_set_reg(cpu, R_EDX, 2, (uint32_t)p >> 16);
            interp_set_cc(cpu, CC_OP_IMUL16, (uint32_t)p & 0xFFFF, ((uint32_t)p >> 16) & 0xFFFF,
                          0);
        } else {
            int64_t p = (int64_t)(int32_t)cpu->regs[R_EAX] * s;
            cpu->regs[R_EAX] = (uint32_t)p;
            cpu->regs[R_EDX] = (uint32_t)((uint64_t)p >> 32);
            interp_set_cc(cpu, CC_OP_IMUL32, (uint32_t)p, (uint32_t)((uint64_t)p >> 32), 0);
        }
        return;
    }
    case 6: { /* DIV: #DE on a zero divisor or a quotient that does not fit */
        uint32_t s = interp_get_rm(cpu, d, size);
        if (s == 0) {
            raise_de(cpu);
        }
        if (size == 1) {
            uint32_t n = cpu->regs[R_EAX] & 0xFFFF;
            uint32_t q = n / s;
            if (q > 0xFF) {
                raise_de(cpu);
            }
            interp_set_reg(cpu, R_EAX, 2, ((n % s) << 8) | q);
            div_flags(cpu, n % s, 1);
        } else if (size == 2) {
            uint32_t n = ((cpu->regs[R_EDX] & 0xFFFF) << 16) | (cpu->regs[R_EAX] & 0xFFFF);
            uint32_t q = n / s;
            if (q > 0xFFFF) {
                raise_de(cpu);
            }
            interp_set_reg(cpu, R_EAX, 2, q);
            interp_set_reg(cpu, R_EDX, 2, n % s);
            div_flags(cpu, n % s, 2);
        } else {
            uint64_t n = ((uint64_t)cpu->regs[R_EDX] << 32) | cpu->regs[R_EAX];
            uint64_t q = n / s;
            if (q > 0xFFFFFFFFull) {
                raise_de(cpu);
            }
            cpu->regs[R_EAX] = (uint32_t)q;
            cpu->regs[R_EDX] = (uint32_t)(n % s);
            div_flags(cpu, (uint32_t)(n % s), 4);
        }
        return;
    }
    default: { /* IDIV */
        int32_t s = sext(interp_get_rm(cpu, d, size), size);
        if (s == 0) {
            raise_de(cpu);
        }
        if (size == 1) {
            int32_t n = (int16_t)cpu->regs[R_EAX];
            int32_t q = n / s, r = n % s;
            if (q > 127 || q < -128) {
                raise_de(cpu);
            }
            interp_set_reg(cpu, R_EAX, 2, (((uint32_t)r & 0xFF) << 8) | ((uint32_t)q & 0xFF));
            div_flags(cpu, (uint32_t)r, 1);
        } else if (size == 2) {
            int32_t n = (int32_t)(((cpu->regs[R_EDX] & 0xFFFF) << 16) |
                                  (cpu->regs[R_EAX] & 0xFFFF));
            int64_t q = (int64_t)n / s;
            int32_t r = (int32_t)((int64_t)n % s);
            if (q > 32767 || q < -32768) {
                raise_de(cpu);
            }
            interp_set_reg(cpu, R_EAX, 2, (uint32_t)q);
            interp_set_reg(cpu, R_EDX, 2, (uint32_t)r);
            div_flags(cpu, (uint32_t)r, 2);
        } else {
            int64_t n = (int64_t)(((uint64_t)cpu->regs[R_EDX] << 32) | cpu->regs[R_EAX]);
            if (n == INT64_MIN && s == -1) {
                raise_de(cpu);
            }
            int64_t q = n / s, r = n % s;
            if (q > INT32_MAX || q < INT32_MIN) {
                raise_de(cpu);
            }
            cpu->regs[R_EAX] = (uint32_t)q;
            cpu->regs[R_EDX] = (uint32_t)r;
            div_flags(cpu, (uint32_t)r, 4);
        }
        return;
    }
    }
}

/* 0F AF IMUL r, r/m; 69 IMUL r, r/m, imm; 6B IMUL r, r/m, imm8. */
static void op_imul2(CPUState *cpu, const DecodedInsn *d)
{
    unsigned size = d->opsize;
    int32_t a = sext(interp_get_rm(cpu, d, size), size);
    int32_t b = d->op == 0x1AF ? sext(interp_get_reg(cpu, d->reg, size), size)
                               : sext(d->imm, size);
    int64_t p = (int64_t)a * b;
    uint32_t hi = size == 2 ? ((uint32_t)p >> 16) & 0xFFFF : (uint32_t)((uint64_t)p >> 32);
    interp_set_reg(cpu, d->reg, size, (uint32_t)p);
    interp_set_cc(cpu, size == 2 ? CC_OP_IMUL16 : CC_OP_IMUL32,
                  (uint32_t)p & interp_size_mask(size), hi, 0);
}

/* ---- shifts and rotates ---- */

/* shift_calc: v (masked to size) shifted per sop by cnt (already masked to 5 bits, nonzero).
 * Returns the result and the pending flags. */
static inline uint32_t shift_calc(CPUState *cpu, int sop, uint32_t v, unsigned cnt,
                                  unsigned size, CCSet *cc)
{
    uint32_t m = interp_size_mask(size), si = interp_size_index(size);
    unsigned w = size * 8;
    uint32_t sb = 1u << (w - 1);
    uint32_t r, f, cf;
    switch (sop) {
    case 0: { /* ROL */
        unsigned c = cnt & (w - 1);
        r = c ? ((v << c) | (v >> (w - c))) & m : v;
        f = cpu_get_eflags(cpu) & ~(uint32_t)(EF_CF | EF_OF);
        f |= interp_rot_cf_of(r, sb, true);
        *cc = (CCSet){CC_OP_EFLAGS, f, 0, 0};
        return r;
    }
    case 1: { /* ROR */
        unsigned c = cnt & (w - 1);
        r = c ? ((v >> c) | (v << (w - c))) & m : v;
        f = cpu_get_eflags(cpu) & ~(uint32_t)(EF_CF | EF_OF);
        f |= interp_rot_cf_of(r, sb, false);
        *cc = (CCSet){CC_OP_EFLAGS, f, 0, 0};
        return r;
    }
    case 2: { /* RCL: rotate through CF, a w+1-bit rotation */
        unsigned c = cnt % (w + 1);
        uint64_t x = ((uint64_t)(cpu_cc_cf(cpu) ? 1 : 0) << w) | v;
        if (c) {
            x = ((x << c) | (x >> (w + 1 - c))) & ((2ull << w) - 1);
        }
        r = (uint32_t)x & m;
        cf = (uint32_t)(x >> w) & 1;
        f = cpu_get_eflags(cpu) & ~(uint32_t)(EF_CF | EF_OF);
        f |= cf ? EF_CF : 0;
        f |= (((r & sb) != 0) ^ cf) ? EF_OF : 0;
        *cc = (CCSet){CC_OP_EFLAGS, f, 0, 0};
        return r;
    }
    case 3: { /* RCR */
        unsigned c = cnt % (w + 1);
        uint64_t x = ((uint64_t)(cpu_cc_cf(cpu) ? 1 : 0) << w) | v;
        if (c) {
            x = ((x >> c) | (x << (w + 1 - c))) & ((2ull << w) - 1);
        }
        r = (uint32_t)x & m;
        cf = (uint32_t)(x >> w) & 1;
        f = cpu_get_eflags(cpu) & ~(uint32_t)(EF_CF | EF_OF);
        f |= cf ? EF_CF : 0;
        f |= ((r ^ (r << 1)) & sb) ? EF_OF : 0;
        *cc = (CCSet){CC_OP_EFLAGS, f, 0, 0};
        return r;
    }
    case 4:
    case 6: { /* SHL/SAL */
        uint64_t x = (uint64_t)v << (cnt - 1);
        uint32_t src = (uint32_t)x & m;
        r = (uint32_t)(x << 1) & m;
        *cc = (CCSet){CC_OP_SHL8 + si, r, src, 0};
        return r;
    }
    case 5: { /* SHR */
        uint32_t src = v >> (cnt - 1);
        r = src >> 1;
        *cc = (CCSet){CC_OP_SHR8 + si, r, src, 0};
        return r;
    }
    default: { /* SAR */
        int32_t sv = sext(v, size);
        uint32_t src = (uint32_t)(sv >> (cnt - 1));
        r = (uint32_t)(sv >> cnt) & m;
        *cc = (CCSet){CC_OP_SAR8 + si, r, src & m, 0};
        return r;
    }
    }
}

/* C0/C1 (imm8), D0/D1 (1), D2/D3 (CL): group 2. */
static void op_grp2(CPUState *cpu, const DecodedInsn *d)
{
    unsigned size = op_size(d);
    unsigned cnt;
    if (d->op <= 0xC1) {
        cnt = d->imm & 0x1F;
    } else if (d->op <= 0xD1) {
        cnt = 1;
    } else {
        cnt = cpu->regs[R_ECX] & 0x1F;
    }
    CCSet cc;
    if (d->flags & DI_MEM) {
        uint32_t ea = interp_ea(cpu, d);
        uint32_t v = interp_ld_rmw(cpu, d->seg, ea, size); /* checked even for a 0 count */
        if (cnt == 0) {
            return;
        }
        uint32_t r = shift_calc(cpu, d->reg, v, cnt, size, &cc);
        interp_st(cpu, d->seg, ea, r, size);
    } else {
        if (cnt == 0) {
            return;
        }
        uint32_t v = interp_get_reg(cpu, d->rm, size);
        interp_set_reg(cpu, d->rm, size, shift_calc(cpu, d->reg, v, cnt, size, &cc));
    }
    cc_commit(cpu, &cc);
}

/* 0F A4/A5 SHLD, 0F AC/AD SHRD. A count above the operand width (16-bit forms) leaves an
 * undefined result; the P6 shifts the 32-bit concatenation, which is what this does. */
static void op_shld(CPUState *cpu, const DecodedInsn *d)
{
    unsigned size = d->opsize;
    unsigned cnt = ((d->op & 1) ? cpu->regs[R_ECX] : d->imm) & 0x1F;
    bool right = d->op >= 0x1AC;
    uint32_t ea = 0;
    uint32_t v;
    if (d->flags & DI_MEM) {
        ea = interp_ea(cpu, d);
        v = interp_ld_rmw(cpu, d->seg, ea, size); /* checked even for a 0 count */
    } else {
        v = interp_get_reg(cpu, d->rm, size);
    }
    if (cnt == 0) {
        return;
    }
    uint32_t s = interp_get_reg(cpu, d->reg, size);
    uint32_t m = interp_size_mask(size), si = interp_size_index(size);
    uint32_t r, cf;
    if (size == 2) {
        /* 16-bit: shift the pattern dst:src:dst so counts 17..31 act like the P6. */
        uint64_t x = ((uint64_t)v << 32) | ((uint64_t)s << 16) | v;
        if (right) {
            r = (uint32_t)(x >> cnt) & m;
            cf = (uint32_t)(x >> (cnt - 1)) & 1;
        } else {
            r = (uint32_t)(x >> (32 - cnt)) & m;
            cf = (uint32_t)(x >> (48 - cnt)) & 1;
        }
    } else if (right) {
        uint64_t x = ((uint64_t)s << 32) | v;
        r = (uint32_t)(x >> cnt);
        cf = (uint32_t)(x >> (cnt - 1)) & 1;
    } else {
        uint64_t x = ((uint64_t)v << 32) | s;
        r = (uint32_t)(x >> (32 - cnt));
        cf = (uint32_t)(x >> (64 - cnt)) & 1;
    }
    if (d->flags & DI_MEM) {
        interp_st(cpu, d->seg, ea, r, size);
    } else {
        interp_set_reg(cpu, d->rm, size, r);
    }
    /* Flags: CF = last bit out; OF = sign change (as for a count of 1). Encoded as SHL/SHR
     * with a synthetic cc_src whose CF bit is cf and whose sign is the original sign. */
    if (right) {
        interp_set_cc(cpu, CC_OP_SHR8 + si, r, cf, 0);
    } else {
        interp_set_cc(cpu, CC_OP_SHL8 + si, r, cf ? (1u << (size * 8 - 1)) : 0, 0);
    }
}

/* ---- BCD ---- */

static void op_daa_das(CPUState *cpu, const DecodedInsn *d)
{
    uint32_t f = cpu_get_eflags(cpu);
    uint32_t al = cpu->regs[R_EAX] & 0xFF, old = al;
    bool cf = f & EF_CF, af = f & EF_AF, sub = d->op == 0x2F;
    uint32_t nf = 0;
    if ((al & 0xF) > 9 || af) {
        /* DAS keeps the borrow of AL - 6 in CF (SDM DAS pseudo-code). */
        if (sub && al < 6) {
            nf |= EF_CF;
        }
        al = sub ? al - 6 : al + 6;
        nf |= EF_AF;
    }
    if (old > 0x99 || cf) {
        al = sub ? al - 0x60 : al + 0x60;
        nf |= EF_CF;
    }
    al &= 0xFF;
    interp_set_reg(cpu, R_EAX, 1, al);
    nf |= al == 0 ? EF_ZF : 0;
    nf |= (al & 0x80) ? EF_SF : 0;
    nf |= __builtin_parity(al) ? 0 : EF_PF;
    /* OF is undefined; the P6 sets it as for the underlying add/sub of the correction. */
    if (sub) {
        nf |= ((old ^ al) & (old ^ (old - al)) & 0x80) ? EF_OF : 0;
    } else {
        nf |= ((old ^ al) & ~(old ^ (al - old)) & 0x80) ? EF_OF : 0;
    }
    interp_set_arith(cpu, nf);
}

/* AAA/AAS (SDM: AX = AX + 106H / AX = AX - 6, AH = AH - 1). AF = CF = adjust. The undefined
 * SF/ZF/PF/OF are those of the 8-bit AL +/- 6 (of AL itself, OF = 0, without adjustment),
 * as the SingleStepTests show. */
static void op_aaa_aas(CPUState *cpu, const DecodedInsn *d)
{
    uint32_t f = cpu_get_eflags(cpu);
    uint32_t ax = cpu->regs[R_EAX] & 0xFFFF;
    bool sub = d->op == 0x3F;
    uint32_t al = ax & 0xFF, t = al, nf = 0;
    if ((ax & 0xF) > 9 || (f & EF_AF)) {
        if (sub) {
            t = (al - 6) & 0xFF;
            ax = (ax - 6 - 0x100) & 0xFFFF;
            nf |= ((al ^ 6) & (al ^ t) & 0x80) ? EF_OF : 0;
        } else {
            t = (al + 6) & 0xFF;
            ax = (ax + 0x106) & 0xFFFF;
            nf |= (~(al ^ 6) & (al ^ t) & 0x80) ? EF_OF : 0;
        }
        nf |= EF_AF | EF_CF;
    }
    interp_set_reg(cpu, R_EAX, 2, ax & 0xFF0F);
    interp_set_arith(cpu, nf | szp(t, 1));
}

static void op_aam(CPUState *cpu, const DecodedInsn *d)
{
    uint32_t base = d->imm & 0xFF;
    if (base == 0) {
        raise_de(cpu);
    }
    uint32_t al = cpu->regs[R_EAX] & 0xFF;
    uint32_t r = ((al / base) << 8) | (al % base);
    interp_set_reg(cpu, R_EAX, 2, r);
    interp_set_cc(cpu, CC_OP_LOGIC8, r & 0xFF, 0, 0);
}

static void op_aad(CPUState *cpu, const DecodedInsn *d)
{
    uint32_t base = d->imm & 0xFF;
    uint32_t ax = cpu->regs[R_EAX];
    uint32_t al = ax & 0xFF, t = ((ax >> 8) & 0xFF) * base;
    uint32_t r = (al + t) & 0xFF;
    interp_set_reg(cpu, R_EAX, 2, r);
    /* SF/ZF/PF are defined; AF and CF are those of the 8-bit add AL + AH*imm, and OF equals
     * CF, as the SingleStepTests record. */
    uint32_t f = szp(r, 1) | ((al ^ t ^ r) & EF_AF);
    f |= (al + (t & 0xFF)) > 0xFF ? (EF_CF | EF_OF) : 0;
    interp_set_arith(cpu, f);
}

/* ---- bit instructions ---- */

static inline uint32_t bt_apply(int kind, uint32_t v, uint32_t bit)
{
    switch (kind) {
    case 1:
        return v | bit;
    case 2:
        return v & ~bit;
    case 3:
        return v ^ bit;
    default:
        return v;
    }
}

/* bt_common: kind 0 BT, 1 BTS, 2 BTR, 3 BTC; off = bit offset, from_reg = register source
 * (whose offset may address beyond the operand in memory). */
static void bt_common(CPUState *cpu, const DecodedInsn *d, int kind, uint32_t off, bool from_reg)
{
    unsigned size = d->opsize, w = size * 8;
    uint32_t f = cpu_get_eflags(cpu) & ~(uint32_t)EF_CF;
    if (d->flags & DI_MEM) {
        uint32_t ea = interp_ea(cpu, d);
        if (from_reg) {
            int32_t so = sext(off, size);
            int32_t units = so >> (size == 2 ? 4 : 5);
            ea = (ea + (uint32_t)units * size) & interp_addr_mask(d);
        }
        uint32_t bit = 1u << (off & (w - 1));
        uint32_t v = kind ? interp_ld_rmw(cpu, d->seg, ea, size)
                          : interp_ld(cpu, d->seg, ea, size);
        if (kind) {
            interp_st(cpu, d->seg, ea, bt_apply(kind, v, bit), size);
        }
        interp_set_arith(cpu, f | ((v & bit) ? EF_CF : 0));
    } else {
        uint32_t bit = 1u << (off & (w - 1));
        uint32_t v = interp_get_reg(cpu, d->rm, size);
        if (kind) {
            interp_set_reg(cpu, d->rm, size, bt_apply(kind, v, bit));
        }
        interp_set_arith(cpu, f | ((v & bit) ? EF_CF : 0));
    }
}

/* 0F A3 BT, 0F AB BTS, 0F B3 BTR, 0F BB BTC with a register bit offset. */
static void op_bt_reg(CPUState *cpu, const DecodedInsn *d)
{
    int kind = ((d->op & 0xFF) >> 3) & 3;
    bt_common(cpu, d, kind, interp_get_reg(cpu, d->reg, d->opsize), true);
}

/* 0F BA /4../7: BT/BTS/BTR/BTC r/m, imm8. */
static void op_bt_imm(CPUState *cpu, const DecodedInsn *d)
{
    if (d->reg < 4) {
        cpu_raise_ud(cpu);
    }
    bt_common(cpu, d, d->reg - 4, d->imm & 0xFF, false);
}

/* 0F BC BSF, 0F BD BSR: a zero source sets ZF and leaves the destination unchanged. */
static void op_bsf_bsr(CPUState *cpu, const DecodedInsn *d)
{
    unsigned size = d->opsize;
    uint32_t v = interp_get_rm(cpu, d, size);
    uint32_t f = cpu_get_eflags(cpu) & ~(uint32_t)EF_ZF;
    if (v == 0) {
        interp_set_arith(cpu, f | EF_ZF);
        return;
    }
    uint32_t r = d->op == 0x1BC ? (uint32_t)__builtin_ctz(v) : 31u - (uint32_t)__builtin_clz(v);
    interp_set_reg(cpu, d->reg, size, r);
    interp_set_arith(cpu, f);
}

/* ---- moves ---- */

/* 88-8B MOV. */
static void op_mov(CPUState *cpu, const DecodedInsn *d)
{
    unsigned size = op_size(d);
    if (d->op & 2) {
        interp_set_reg(cpu, d->reg, size, interp_get_rm(cpu, d, size));
    } else {
        interp_set_rm(cpu, d, size, interp_get_reg(cpu, d->reg, size));
    }
}

/* C6/C7 MOV r/m, imm. */
static void op_mov_rm_imm(CPUState *cpu, const DecodedInsn *d)
{
    if (d->reg != 0) {
        cpu_raise_ud(cpu);
    }
    interp_set_rm(cpu, d, op_size(d), d->imm);
}

/* B0-BF MOV reg, imm. */
static void op_mov_reg_imm(CPUState *cpu, const DecodedInsn *d)
{
    interp_set_reg(cpu, d->op & 7, d->op < 0xB8 ? 1 : d->opsize, d->imm);
}

/* A0-A3 MOV acc <-> moffs. */
static void op_mov_moffs(CPUState *cpu, const DecodedInsn *d)
{
    unsigned size = op_size(d);
    uint32_t off = d->disp & interp_addr_mask(d);
    if (d->op & 2) {
        interp_st(cpu, d->seg, off, interp_get_reg(cpu, R_EAX, size), size);
    } else {
        interp_set_reg(cpu, R_EAX, size, interp_ld(cpu, d->seg, off, size));
    }
}

/* 8C MOV r/m, Sreg: a register destination with 32-bit operand size gets the zero-extended
 * selector (P6); memory always takes 16 bits. */
static void op_mov_from_sreg(CPUState *cpu, const DecodedInsn *d)
{
    if (d->reg >= S_NSEG) {
        cpu_raise_ud(cpu);
    }
    uint32_t v = cpu->seg[d->reg].sel;
    if (d->flags & DI_MEM) {
        cpu_st16(cpu, d->seg, interp_ea(cpu, d), (uint16_t)v);
    } else {
        interp_set_reg(cpu, d->rm, d->opsize, v);
    }
}

/* 8E MOV Sreg, r/m: CS is not a valid destination; SS inhibits interrupts for one insn. */
static void op_mov_to_sreg(CPUState *cpu, const DecodedInsn *d)
{
    if (d->reg >= S_NSEG || d->reg == S_CS) {
        cpu_raise_ud(cpu);
    }
    uint16_t v = (uint16_t)interp_get_rm(cpu, d, 2);
    cpu_load_seg(cpu, d->reg, v);
    if (d->reg == S_SS) {
        cpu->inhibit_irq = true;
    }
}

/* 8D LEA. */
static void op_lea(CPUState *cpu, const DecodedInsn *d)
{
    if (!(d->flags & DI_MEM)) {
        cpu_raise_ud(cpu);
    }
    interp_set_reg(cpu, d->reg, d->opsize, interp_ea(cpu, d));
}

/* 0F B6/B7 MOVZX, 0F BE/BF MOVSX. */
static void op_movx(CPUState *cpu, const DecodedInsn *d)
{
    unsigned ssize = (d->op & 1) ? 2 : 1;
    uint32_t v = interp_get_rm(cpu, d, ssize);
    if (d->op >= 0x1BE) {
        v = (uint32_t)sext(v, ssize);
    }
    interp_set_reg(cpu, d->reg, d->opsize, v);
}

/* C4 LES, C5 LDS, 0F B2 LSS, 0F B4 LFS, 0F B5 LGS. */
static void op_lseg(CPUState *cpu, const DecodedInsn *d)
{
    if (!(d->flags & DI_MEM)) {
        cpu_raise_ud(cpu);
    }
    int seg = d->op == 0xC4 ? S_ES : d->op == 0xC5 ? S_DS : d->op == 0x1B2 ? S_SS
            : d->op == 0x1B4 ? S_FS : S_GS;
    uint32_t ea = interp_ea(cpu, d);
    uint32_t off = interp_ld(cpu, d->seg, ea, d->opsize);
    uint16_t sel = cpu_ld16(cpu, d->seg, (ea + d->opsize) & interp_addr_mask(d));
    cpu_load_seg(cpu, seg, sel);
    interp_set_reg(cpu, d->reg, d->opsize, off);
}

/* 86/87 XCHG r/m, reg; 91-97 XCHG eAX, reg. */
static void op_xchg(CPUState *cpu, const DecodedInsn *d)
{
    if (d->op >= 0x90) {
        unsigned size = d->opsize;
        int r = d->op & 7;
        uint32_t a = interp_get_reg(cpu, R_EAX, size);
        interp_set_reg(cpu, R_EAX, size, interp_get_reg(cpu, r, size));
        interp_set_reg(cpu, r, size, a);
        return;
    }
    unsigned size = op_size(d);
    uint32_t rv = interp_get_reg(cpu, d->reg, size);
    if (d->flags & DI_MEM) {
        uint32_t ea = interp_ea(cpu, d);
        uint32_t mv = interp_ld_rmw(cpu, d->seg, ea, size);
        interp_st(cpu, d->seg, ea, rv, size);
        interp_set_reg(cpu, d->reg, size, mv);
    } else {
        uint32_t mv = interp_get_reg(cpu, d->rm, size);
        interp_set_reg(cpu, d->rm, size, rv);
        interp_set_reg(cpu, d->reg, size, mv);
    }
}

/* 0F C0/C1 XADD. */
static void op_xadd(CPUState *cpu, const DecodedInsn *d)
{
    unsigned size = op_size(d);
    uint32_t m = interp_size_mask(size);
    uint32_t s = interp_get_reg(cpu, d->reg, size);
    uint32_t v, r;
    if (d->flags & DI_MEM) {
        uint32_t ea = interp_ea(cpu, d);
        v = interp_ld_rmw(cpu, d->seg, ea, size);
        r = (v + s) & m;
        interp_st(cpu, d->seg, ea, r, size);
        interp_set_reg(cpu, d->reg, size, v);
    } else {
        v = interp_get_reg(cpu, d->rm, size);
        r = (v + s) & m;
        interp_set_reg(cpu, d->reg, size, v);
        interp_set_reg(cpu, d->rm, size, r);
    }
    interp_set_cc(cpu, CC_OP_ADD8 + interp_size_index(size), r, s, 0);
}

/* 0F B0/B1 CMPXCHG: the destination is always written (with its own value on a mismatch),
 * as the locked bus cycle of the P6 does. */
static void op_cmpxchg(CPUState *cpu, const DecodedInsn *d)
{
    unsigned size = op_size(d);
    uint32_t m = interp_size_mask(size);
    uint32_t acc = interp_get_reg(cpu, R_EAX, size);
    uint32_t s = interp_get_reg(cpu, d->reg, size);
    uint32_t v;
    uint32_t ea = 0;
    if (d->flags & DI_MEM) {
        ea = interp_ea(cpu, d);
        v = interp_ld_rmw(cpu, d->seg, ea, size);
    } else {
        v = interp_get_reg(cpu, d->rm, size);
    }
    bool eq = acc == v;
    if (d->flags & DI_MEM) {
        interp_st(cpu, d->seg, ea, eq ? s : v, size);
    } else if (eq) {
        interp_set_reg(cpu, d->rm, size, s);
    }
    if (!eq) {
        interp_set_reg(cpu, R_EAX, size, v);
    }
    interp_set_cc(cpu, CC_OP_SUB8 + interp_size_index(size), (acc - v) & m, v, 0);
}

/* 0F C7 /1 CMPXCHG8B m64. */
static void op_cmpxchg8b(CPUState *cpu, const DecodedInsn *d)
{
    if (d->reg != 1 || !(d->flags & DI_MEM)) {
        cpu_raise_ud(cpu);
    }
    uint32_t ea = interp_ea(cpu, d);
    uint32_t ea2 = (ea + 4) & interp_addr_mask(d);
    if (ea2 == ea + 4) {
        interp_probe_write(cpu, cpu_linear(cpu, d->seg, ea, 8, ACC_WRITE), 8);
    }
    uint32_t lo = interp_ld_rmw(cpu, d->seg, ea, 4), hi = interp_ld_rmw(cpu, d->seg, ea2, 4);
    bool eq = lo == cpu->regs[R_EAX] && hi == cpu->regs[R_EDX];
    uint32_t f = cpu_get_eflags(cpu) & ~(uint32_t)EF_ZF;
    if (eq) {
        cpu_st32(cpu, d->seg, ea, cpu->regs[R_EBX]);
        cpu_st32(cpu, d->seg, ea2, cpu->regs[R_ECX]);
        f |= EF_ZF;
    } else {
        cpu_st32(cpu, d->seg, ea, lo);
        cpu_st32(cpu, d->seg, ea2, hi);
        cpu->regs[R_EAX] = lo;
        cpu->regs[R_EDX] = hi;
    }
    interp_set_arith(cpu, f);
}

/* 0F C8-CF BSWAP; with a 16-bit operand size the result is undefined: the P6 writes 0. */
static void op_bswap(CPUState *cpu, const DecodedInsn *d)
{
    int r = d->op & 7;
    if (d->opsize == 2) {
        interp_set_reg(cpu, r, 2, 0);
    } else {
        cpu->regs[r] = __builtin_bswap32(cpu->regs[r]);
    }
}

/* 98 CBW/CWDE, 99 CWD/CDQ. */
static void op_cbw(CPUState *cpu, const DecodedInsn *d)
{
    if (d->opsize == 2) {
        interp_set_reg(cpu, R_EAX, 2, (uint32_t)(int8_t)cpu->regs[R_EAX]);
    } else {
        cpu->regs[R_EAX] = (uint32_t)(int16_t)cpu->regs[R_EAX];
    }
}

static void op_cwd(CPUState *cpu, const DecodedInsn *d)
{
    if (d->opsize == 2) {
        interp_set_reg(cpu, R_EDX, 2, (cpu->regs[R_EAX] & 0x8000) ? 0xFFFF : 0);
    } else {
        cpu->regs[R_EDX] = (cpu->regs[R_EAX] & 0x80000000u) ? 0xFFFFFFFFu : 0;
    }
}

/* 9E SAHF, 9F LAHF. */
static void op_sahf(CPUState *cpu, const DecodedInsn *d)
{
    uint32_t ah = (cpu->regs[R_EAX] >> 8) & 0xFF;
    uint32_t f = cpu_get_eflags(cpu) & ~(uint32_t)(EF_SF | EF_ZF | EF_AF | EF_PF | EF_CF);
    interp_set_arith(cpu, f | (ah & (EF_SF | EF_ZF | EF_AF | EF_PF | EF_CF)));
}

static void op_lahf(CPUState *cpu, const DecodedInsn *d)
{
    interp_set_reg(cpu, 4, 1, (cpu_get_eflags(cpu) & 0xD5) | EF_FIXED1);
}

/* F5 CMC, F8 CLC, F9 STC, FC CLD, FD STD. */
static void op_flagop(CPUState *cpu, const DecodedInsn *d)
{
    uint32_t f = cpu_get_eflags(cpu);
    switch (d->op) {
    case 0xF5:
        interp_set_arith(cpu, f ^ EF_CF);
        break;
    case 0xF8:
        interp_set_arith(cpu, f & ~(uint32_t)EF_CF);
        break;
    case 0xF9:
        interp_set_arith(cpu, f | EF_CF);
        break;
    case 0xFC:
        cpu->eflags &= ~(uint32_t)EF_DF;
        break;
    default:
        cpu->eflags |= EF_DF;
        break;
    }
}

/* D6 SALC: AL = CF ? FF : 00 (undocumented, present on every Intel CPU of this era). */
static void op_salc(CPUState *cpu, const DecodedInsn *d)
{
    interp_set_reg(cpu, R_EAX, 1, cpu_cc_cf(cpu) ? 0xFF : 0);
}

/* 0F 90-9F SETcc. */
static void op_setcc(CPUState *cpu, const DecodedInsn *d)
{
    interp_set_rm(cpu, d, 1, cpu_cond(cpu, d->op & 0xF) ? 1 : 0);
}

/* 0F 40-4F CMOVcc: the source is read (and may fault) whatever the condition. */
static void op_cmov(CPUState *cpu, const DecodedInsn *d)
{
    uint32_t v = interp_get_rm(cpu, d, d->opsize);
    if (cpu_cond(cpu, d->op & 0xF)) {
        interp_set_reg(cpu, d->reg, d->opsize, v);
    }
}

/* 90 NOP (also PAUSE), 0F 18-1F hint NOPs. */
static void op_nop(CPUState *cpu, const DecodedInsn *d)
{
}

/* 0F 0B UD2, 0F B9 UD1. */
static void op_ud(CPUState *cpu, const DecodedInsn *d)
{
    cpu_raise_ud(cpu);
}

/* D7 XLAT. */
static void op_xlat(CPUState *cpu, const DecodedInsn *d)
{
    int seg = d->seg_override >= 0 ? d->seg_override : S_DS;
    uint32_t off = (cpu->regs[R_EBX] + (cpu->regs[R_EAX] & 0xFF)) & interp_addr_mask(d);
    interp_set_reg(cpu, R_EAX, 1, cpu_ld8(cpu, seg, off));
}

void interp_alu_register(InterpFn t[OP_COUNT])
{
    for (int i = 0; i < 0x40; i++) {
        if ((i & 7) < 6) {
            t[i] = alu_handlers[i >> 3];
        }
    }
    for (int i = 0x40; i < 0x50; i++) {
        t[i] = op_incdec_reg;
    }
    for (int i = 0x80; i <= 0x83; i++) {
        t[i] = op_grp1;
    }
    t[0x84] = t[0x85] = t[0xA8] = t[0xA9] = op_test;
    t[0x86] = t[0x87] = op_xchg;
    for (int i = 0x91; i <= 0x97; i++) {
        t[i] = op_xchg;
    }
    t[0x90] = op_nop;
    for (int i = 0x118; i <= 0x11F; i++) {
        t[i] = op_nop; /* the P6 hint-NOP space, PREFETCHh included: no memory access */
    }
    for (int i = 0x88; i <= 0x8B; i++) {
        t[i] = op_mov;
    }
    t[0x8C] = op_mov_from_sreg;
    t[0x8D] = op_lea;
    t[0x8E] = op_mov_to_sreg;
    for (int i = 0xA0; i <= 0xA3; i++) {
        t[i] = op_mov_moffs;
    }
    for (int i = 0xB0; i <= 0xBF; i++) {
        t[i] = op_mov_reg_imm;
    }
    t[0xC6] = t[0xC7] = op_mov_rm_imm;
    t[0xC4] = t[0xC5] = t[0x1B2] = t[0x1B4] = t[0x1B5] = op_lseg;
    t[0x98] = op_cbw;
    t[0x99] = op_cwd;
    t[0x9E] = op_sahf;
    t[0x9F] = op_lahf;
    t[0xF5] = t[0xF8] = t[0xF9] = t[0xFC] = t[0xFD] = op_flagop;
    t[0x27] = t[0x2F] = op_daa_das;
    t[0x37] = t[0x3F] = op_aaa_aas;
    t[0xD4] = op_aam;
    t[0xD5] = op_aad;
    t[0xD6] = op_salc;
    t[0xD7] = op_xlat;
    t[0xC0] = t[0xC1] = t[0xD0] = t[0xD1] = t[0xD2] = t[0xD3] = op_grp2;
    t[0xF6] = t[0xF7] = op_grp3;
    t[0xFE] = op_grp4;
    t[0xFF] = op_grp5;
    t[0x69] = t[0x6B] = t[0x1AF] = op_imul2;
    t[0x1A4] = t[0x1A5] = t[0x1AC] = t[0x1AD] = op_shld;
    t[0x1A3] = t[0x1AB] = t[0x1B3] = t[0x1BB] = op_bt_reg;
    t[0x1BA] = op_bt_imm;
    t[0x1BC] = t[0x1BD] = op_bsf_bsr;
    t[0x1B6] = t[0x1B7] = t[0x1BE] = t[0x1BF] = op_movx;
    t[0x1C0] = t[0x1C1] = op_xadd;
    t[0x1B0] = t[0x1B1] = op_cmpxchg;
    t[0x1C7] = op_cmpxchg8b;
    for (int i = 0; i < 8; i++) {
        t[0x1C8 + i] = op_bswap;
    }
    for (int i = 0; i < 16; i++) {
        t[0x190 + i] = op_setcc;
        t[0x140 + i] = op_cmov;
    }
    t[0x10B] = t[0x1B9] = op_ud;
}
