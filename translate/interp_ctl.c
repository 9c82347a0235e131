/* interp_ctl.c: near control transfers and the stack: Jcc, JMP, CALL, RET, LOOP, JCXZ,
 * PUSH/POP in all their forms, PUSHA/POPA, ENTER/LEAVE and BOUND. Far transfers, interrupts
 * and PUSHF/POPF live in interp_sys.c. */
#include "translate/interp.h"

/* 70-7F Jcc rel8, 0F 80-8F Jcc rel16/32. */
static void op_jcc(CPUState *cpu, const DecodedInsn *d)
{
    if (cpu_cond(cpu, d->op & 0xF)) {
        interp_jump(cpu, cpu->eip + d->imm, d->opsize);
    }
}

/* E9 JMP rel16/32, EB JMP rel8. */
static void op_jmp(CPUState *cpu, const DecodedInsn *d)
{
    interp_jump(cpu, cpu->eip + d->imm, d->opsize);
}

/* E8 CALL rel: the target is checked before the return address is pushed. */
static void op_call(CPUState *cpu, const DecodedInsn *d)
{
    uint32_t next = cpu->eip;
    uint32_t t = next + d->imm;
    if (d->opsize == 2) {
        t &= 0xFFFF;
    }
    if (t > cpu->seg[S_CS].limit) {
        cpu_raise_gp(cpu, 0);
    }
    interp_push(cpu, next, d->opsize);
    cpu->eip = t;
}

/* C3 RET, C2 RET imm16. */
static void op_ret(CPUState *cpu, const DecodedInsn *d)
{
    uint32_t t = interp_pop(cpu, d->opsize);
    if (d->op == 0xC2) {
        uint32_t mask = interp_sp_mask(cpu);
        uint32_t sp = (cpu->regs[R_ESP] + (d->imm & 0xFFFF)) & mask;
        cpu->regs[R_ESP] = (cpu->regs[R_ESP] & ~mask) | sp;
    }
    interp_jump(cpu, t, d->opsize);
}

/* E0 LOOPNE, E1 LOOPE, E2 LOOP, E3 JCXZ: the counter is CX or ECX by address size. */
static void op_loop(CPUState *cpu, const DecodedInsn *d)
{
    uint32_t am = interp_addr_mask(d);
    uint32_t c = cpu->regs[R_ECX] & am;
    bool take;
    if (d->op == 0xE3) {
        take = c == 0;
    } else {
        c = (c - 1) & am;
        cpu->regs[R_ECX] = (cpu->regs[R_ECX] & ~am) | c;
        take = c != 0;
        if (d->op == 0xE1) {
            take = take && cpu_cond(cpu, 4);
        } else if (d->op == 0xE0) {
            take = take && cpu_cond(cpu, 5);
        }
    }
    if (take) {
        interp_jump(cpu, cpu->eip + d->imm, d->opsize);
    }
}

/* 50-57 PUSH reg: PUSH SP pushes the value before the push (286 and later). */
static void op_push_reg(CPUState *cpu, const DecodedInsn *d)
{
    interp_push(cpu, interp_get_reg(cpu, d->op & 7, d->opsize), d->opsize);
}

/* 58-5F POP reg: POP SP loads the popped value (the increment is overwritten). */
static void op_pop_reg(CPUState *cpu, const DecodedInsn *d)
{
    uint32_t v = interp_pop(cpu, d->opsize);
    interp_set_reg(cpu, d->op & 7, d->opsize, v);
}

/* 68 PUSH imm16/32, 6A PUSH imm8. */
static void op_push_imm(CPUState *cpu, const DecodedInsn *d)
{
    interp_push(cpu, d->imm, d->opsize);
}

/* 8F /0 POP r/m: the address is computed with ESP already incremented (SDM POP). */
static void op_pop_rm(CPUState *cpu, const DecodedInsn *d)
{
    if (d->reg != 0) {
        cpu_raise_ud(cpu);
    }
    unsigned size = d->opsize;
    uint32_t mask = interp_sp_mask(cpu);
    uint32_t sp = cpu->regs[R_ESP] & mask;
    uint32_t v = interp_ld(cpu, S_SS, sp, size);
    uint32_t old = cpu->regs[R_ESP];
    cpu->regs[R_ESP] = (old & ~mask) | ((sp + size) & mask);
    if (d->flags & DI_MEM) {
        interp_st(cpu, d->seg, interp_ea(cpu, d), v, size);
    } else {
        interp_set_reg(cpu, d->rm, size, v);
    }
}

/* sreg_of: segment register of PUSH/POP Sreg opcodes. */
static int sreg_of(uint16_t op)
{
    switch (op) {
    case 0x06:
    case 0x07:
        return S_ES;
    case 0x0E:
        return S_CS;
    case 0x16:
    case 0x17:
        return S_SS;
    case 0x1E:
    case 0x1F:
        return S_DS;
    case 0x1A0:
    case 0x1A1:
        return S_FS;
    default:
        return S_GS;
    }
}

/* PUSH Sreg: with a 32-bit operand size the P6 moves 16 bits into the 4-byte slot. */
static void op_push_sreg(CPUState *cpu, const DecodedInsn *d)
{
    uint16_t v = cpu->seg[sreg_of(d->op)].sel;
    if (d->opsize == 2) {
        interp_push(cpu, v, 2);
        return;
    }
    uint32_t mask = interp_sp_mask(cpu);
    uint32_t sp = (cpu->regs[R_ESP] - 4) & mask;
    cpu_st16(cpu, S_SS, sp, v);
    cpu->regs[R_ESP] = (cpu->regs[R_ESP] & ~mask) | sp;
}

/* POP Sreg: POP SS inhibits interrupts for one instruction. */
static void op_pop_sreg(CPUState *cpu, const DecodedInsn *d)
{
    int s = sreg_of(d->op);
    uint32_t mask = interp_sp_mask(cpu);
    uint32_t sp = cpu->regs[R_ESP] & mask;
    uint16_t v = cpu_ld16(cpu, S_SS, sp);
    cpu_load_seg(cpu, s, v);
    cpu->regs[R_ESP] = (cpu->regs[R_ESP] & ~mask) | ((sp + d->opsize) & mask);
    if (s == S_SS) {
        cpu->inhibit_irq = true;
    }
}

/* 60 PUSHA: pushes the ESP value from before the instruction. */
static void op_pusha(CPUState *cpu, const DecodedInsn *d)
{
    unsigned size = d->opsize;
    uint32_t mask = interp_sp_mask(cpu);
    uint32_t sp = cpu->regs[R_ESP] & mask;
    for (int r = R_EAX; r <= R_EDI; r++) {
        sp = (sp - size) & mask;
        interp_st(cpu, S_SS, sp, cpu->regs[r], size);
    }
    cpu->regs[R_ESP] = (cpu->regs[R_ESP] & ~mask) | sp;
}

/* 61 POPA: the stored ESP is skipped. */
static void op_popa(CPUState *cpu, const DecodedInsn *d)
{
    unsigned size = d->opsize;
    uint32_t mask = interp_sp_mask(cpu);
    uint32_t sp = cpu->regs[R_ESP] & mask;
    uint32_t v[8];
    for (int r = R_EDI; r >= R_EAX; r--) {
        v[r] = interp_ld(cpu, S_SS, sp, size);
        sp = (sp + size) & mask;
    }
    for (int r = R_EAX; r <= R_EDI; r++) {
        if (r != R_ESP) {
            interp_set_reg(cpu, r, size, v[r]);
        }
    }
    cpu->regs[R_ESP] = (cpu->regs[R_ESP] & ~mask) | sp;
}

/* C8 ENTER size, level (SDM Vol. 2 ENTER): level is taken modulo 32; the frame pointer
 * copies come from [EBP - i*opsize]. All stack writes happen before ESP/EBP change. */
static void op_enter(CPUState *cpu, const DecodedInsn *d)
{
    unsigned size = d->opsize;
    uint32_t mask = interp_sp_mask(cpu);
    uint32_t alloc = d->imm & 0xFFFF;
    unsigned level = d->imm2 & 0x1F;
    uint32_t sp = (cpu->regs[R_ESP] - size) & mask;
    uint32_t bp = cpu->regs[R_EBP];
    interp_st(cpu, S_SS, sp, bp, size);
    uint32_t frame = sp;
    if (level > 0) {
        for (unsigned i = 1; i < level; i++) {
            uint32_t bpm = cpu_stack32(cpu) ? bp : (bp & 0xFFFF);
            uint32_t src = (bpm - i * size) & mask;
            uint32_t v = interp_ld(cpu, S_SS, src, size);
            sp = (sp - size) & mask;
            interp_st(cpu, S_SS, sp, v, size);
        }
        sp = (sp - size) & mask;
        interp_st(cpu, S_SS, sp, frame, size);
    }
    sp = (sp - alloc) & mask;
    if (level == 0 || alloc != 0) {
        /* The final ESP must be a valid stack address (#SS otherwise); probe it. */
        (void)cpu_linear(cpu, S_SS, sp, 1, ACC_WRITE);
    }
    interp_set_reg(cpu, R_EBP, size, frame);
    cpu->regs[R_ESP] = (cpu->regs[R_ESP] & ~mask) | sp;
}

/* C9 LEAVE. */
static void op_leave(CPUState *cpu, const DecodedInsn *d)
{
    uint32_t mask = interp_sp_mask(cpu);
    uint32_t sp = cpu->regs[R_EBP] & mask;
    uint32_t v = interp_ld(cpu, S_SS, sp, d->opsize);
    cpu->regs[R_ESP] = (cpu->regs[R_ESP] & ~mask) | ((sp + d->opsize) & mask);
    interp_set_reg(cpu, R_EBP, d->opsize, v);
}

/* 62 BOUND: #BR when the signed index lies outside [lower, upper]. */
static void op_bound(CPUState *cpu, const DecodedInsn *d)
{
    if (!(d->flags & DI_MEM)) {
        cpu_raise_ud(cpu);
    }
    unsigned size = d->opsize;
    uint32_t ea = interp_ea(cpu, d);
    int32_t lo, hi, idx;
    if (size == 2) {
        lo = (int16_t)cpu_ld16(cpu, d->seg, ea);
        hi = (int16_t)cpu_ld16(cpu, d->seg, (ea + 2) & interp_addr_mask(d));
        idx = (int16_t)cpu->regs[d->reg];
    } else {
        lo = (int32_t)cpu_ld32(cpu, d->seg, ea);
        hi = (int32_t)cpu_ld32(cpu, d->seg, (ea + 4) & interp_addr_mask(d));
        idx = (int32_t)cpu->regs[d->reg];
    }
    if (idx < lo || idx > hi) {
        cpu_raise_exception(cpu, EXC_BR, false, 0);
    }
}

void interp_ctl_register(InterpFn t[OP_COUNT])
{
    for (int i = 0; i < 16; i++) {
        t[0x70 + i] = op_jcc;
        t[0x180 + i] = op_jcc;
    }
    t[0xE9] = t[0xEB] = op_jmp;
    t[0xE8] = op_call;
    t[0xC2] = t[0xC3] = op_ret;
    t[0xE0] = t[0xE1] = t[0xE2] = t[0xE3] = op_loop;
    for (int i = 0; i < 8; i++) {
        t[0x50 + i] = op_push_reg;
        t[0x58 + i] = op_pop_reg;
    }
    t[0x68] = t[0x6A] = op_push_imm;
    t[0x8F] = op_pop_rm;
    t[0x06] = t[0x0E] = t[0x16] = t[0x1E] = t[0x1A0] = t[0x1A8] = op_push_sreg;
    t[0x07] = t[0x17] = t[0x1F] = t[0x1A1] = t[0x1A9] = op_pop_sreg;
    t[0x60] = op_pusha;
    t[0x61] = op_popa;
    t[0xC8] = op_enter;
    t[0xC9] = op_leave;
    t[0x62] = op_bound;
}
