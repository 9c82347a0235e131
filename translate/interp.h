/* interp.h: shared machinery of the reference interpreter: handler type, operand access,
 * stack helpers. Included by translate/interp*.c only. */
#ifndef ANYVM_TRANSLATE_INTERP_H
#define ANYVM_TRANSLATE_INTERP_H

#include "core/cpu.h"
#include "translate/decode.h"

/* InterpFn: executes one decoded instruction. On entry cpu->eip already points past the
 * instruction (next_eip); a handler that branches writes cpu->eip. Faults longjmp out and the
 * loop restores cpu->eip = cpu->insn_eip. */
typedef void (*InterpFn)(CPUState *cpu, const DecodedInsn *d);

/* interp_ea: the offset part of the memory operand (without segment base), wrapped to the
 * address size. */
static inline uint32_t interp_ea(const CPUState *cpu, const DecodedInsn *d)
{
    uint32_t ea = d->disp;
    if (d->base >= 0) {
        ea += cpu->regs[d->base];
    }
    if (d->index >= 0) {
        ea += cpu->regs[d->index] << d->scale;
    }
    return d->addrsize == 2 ? (ea & 0xFFFF) : ea;
}

/* Register access by size: r8 uses the AL,CL,DL,BL,AH,CH,DH,BH numbering. */
static inline uint32_t interp_get_reg(const CPUState *cpu, int r, unsigned size)
{
    switch (size) {
    case 1:
        return r < 4 ? (cpu->regs[r] & 0xFF) : ((cpu->regs[r - 4] >> 8) & 0xFF);
    case 2:
        return cpu->regs[r] & 0xFFFF;
    default:
        return cpu->regs[r];
    }
}

static inline void interp_set_reg(CPUState *cpu, int r, unsigned size, uint32_t v)
{
    switch (size) {
    case 1:
        if (r < 4) {
            cpu->regs[r] = (cpu->regs[r] & ~0xFFu) | (v & 0xFF);
        } else {
            cpu->regs[r - 4] = (cpu->regs[r - 4] & ~0xFF00u) | ((v & 0xFF) << 8);
        }
        break;
    case 2:
        cpu->regs[r] = (cpu->regs[r] & ~0xFFFFu) | (v & 0xFFFF);
        break;
    default:
        cpu->regs[r] = v;
        break;
    }
}

/* Memory by size through a segment. */
static inline uint32_t interp_ld(CPUState *cpu, int seg, uint32_t off, unsigned size)
{
    return size == 1 ? cpu_ld8(cpu, seg, off)
                     : size == 2 ? cpu_ld16(cpu, seg, off) : cpu_ld32(cpu, seg, off);
}

static inline void interp_st(CPUState *cpu, int seg, uint32_t off, uint32_t v, unsigned size)
{
    if (size == 1) {
        cpu_st8(cpu, seg, off, (uint8_t)v);
    } else if (size == 2) {
        cpu_st16(cpu, seg, off, (uint16_t)v);
    } else {
        cpu_st32(cpu, seg, off, v);
    }
}

/* The r/m operand of a ModRM instruction. */
static inline uint32_t interp_get_rm(CPUState *cpu, const DecodedInsn *d, unsigned size)
{
    if (d->flags & DI_MEM) {
        return interp_ld(cpu, d->seg, interp_ea(cpu, d), size);
    }
    return interp_get_reg(cpu, d->rm, size);
}

static inline void interp_set_rm(CPUState *cpu, const DecodedInsn *d, unsigned size, uint32_t v)
{
    if (d->flags & DI_MEM) {
        interp_st(cpu, d->seg, interp_ea(cpu, d), v, size);
    } else {
        interp_set_reg(cpu, d->rm, size, v);
    }
}

/* Stack: SS.B selects ESP or SP. interp_push writes below the stack pointer first and only
 * then updates it, so a faulting push leaves ESP unchanged. */
/* interp_rot_cf_of: EF_CF | EF_OF after ROL (rol) or ROR of any non-zero count with result r
 * whose sign bit is sb: ROL CF = bit 0, OF = MSB ^ CF; ROR CF = MSB, OF = MSB ^ the bit below
 * (the formula for every count; the SDM defines OF for a count of 1 only). The JIT's slow
 * paths use it too (jit_backend.c's slow_size). */
static inline uint32_t interp_rot_cf_of(uint32_t r, uint32_t sb, bool rol)
{
    bool cf = rol ? (r & 1) != 0 : (r & sb) != 0;
    bool of = rol ? ((r & sb) != 0) != cf : ((r ^ (r << 1)) & sb) != 0;
    return (cf ? EF_CF : 0) | (of ? EF_OF : 0);
}

static inline uint32_t interp_sp_mask(const CPUState *cpu)
{
    return cpu_stack32(cpu) ? 0xFFFFFFFFu : 0xFFFFu;
}

static inline void interp_push(CPUState *cpu, uint32_t v, unsigned size)
{
    uint32_t mask = interp_sp_mask(cpu);
    uint32_t sp = (cpu->regs[R_ESP] - size) & mask;
    interp_st(cpu, S_SS, sp, v, size);
    cpu->regs[R_ESP] = (cpu->regs[R_ESP] & ~mask) | sp;
}

/* interp_pop: read the top of the stack and release it. */
static inline uint32_t interp_pop(CPUState *cpu, unsigned size)
{
    uint32_t mask = interp_sp_mask(cpu);
    uint32_t sp = cpu->regs[R_ESP] & mask;
    uint32_t v = interp_ld(cpu, S_SS, sp, size);
    cpu->regs[R_ESP] = (cpu->regs[R_ESP] & ~mask) | ((sp + size) & mask);
    return v;
}

/* interp_jump: set EIP to a near target, wrapped to the operand size, with the CS limit
 * check (#GP(0) beyond the limit). */
void interp_jump(CPUState *cpu, uint32_t target, unsigned opsize);

/* System instructions, implemented in translate/interp_sys.c (protected-mode rules, gates,
 * tasks, control registers, I/O privilege). Registered into the dispatch table by
 * x86_interp_sys_register(). */
void x86_interp_sys_register(InterpFn table[OP_COUNT]);

/* interp_far_call / interp_far_jump: CALL/JMP to sel:off with every real, V86 and
 * protected-mode rule (call gates, task gates, TSS). next_eip is the return offset. Used by
 * 9A/EA here and by FF /3, FF /5 in interp.c. Implemented in translate/interp_sys.c. */
void interp_far_call(CPUState *cpu, uint16_t sel, uint32_t off, unsigned opsize,
                     uint32_t next_eip);
void interp_far_jump(CPUState *cpu, uint16_t sel, uint32_t off, unsigned opsize);

/* x87 (translate/interp_fpu.c) and MMX (translate/interp_mmx.c): their opcodes override the
 * table entries set before them. */
void x86_interp_fpu_register(InterpFn table[OP_COUNT]);
void x86_interp_mmx_register(InterpFn table[OP_COUNT]);

/* The instruction handler table: filled once per CPU by the interpreter (interp.c). */
void x86_interp_table_init(InterpFn table[OP_COUNT]);

/* --- additions by the integer interpreter (int) --- */

/* interp_set_cc: record a lazy flag operation (see core/cpu_flags.c for the encoding). */
static inline void interp_set_cc(CPUState *cpu, uint32_t op, uint32_t dst, uint32_t src,
                                 uint32_t src2)
{
    cpu->cc_op = op;
    cpu->cc_dst = dst;
    cpu->cc_src = src;
    cpu->cc_src2 = src2;
}

/* interp_size_index: 0, 1, 2 for 1-, 2-, 4-byte operands (the CC_OP_*8/16/32 offset). */
static inline uint32_t interp_size_index(unsigned size)
{
    return size == 1 ? 0 : size == 2 ? 1 : 2;
}

static inline uint32_t interp_size_mask(unsigned size)
{
    return size == 1 ? 0xFFu : size == 2 ? 0xFFFFu : 0xFFFFFFFFu;
}

/* interp_set_arith: replace the six arithmetic flags with f (eager materialisation for the
 * rare instructions that leave some flags unchanged, e.g. BT, BSF, rotates). */
static inline void interp_set_arith(CPUState *cpu, uint32_t f)
{
    cpu->eflags = (cpu_get_eflags(cpu) & ~(uint32_t)EF_ARITH) | (f & EF_ARITH);
    cpu->cc_op = CC_OP_EFLAGS;
}

/* interp_addr_mask: 0xFFFF or 0xFFFFFFFF for the instruction's address size. */
static inline uint32_t interp_addr_mask(const DecodedInsn *d)
{
    return d->addrsize == 2 ? 0xFFFFu : 0xFFFFFFFFu;
}

/* interp_probe_write: make sure [lin, lin+size) may be written at the current privilege
 * (raises #PF with a write error code otherwise; a no-op without paging). */
void interp_probe_write(CPUState *cpu, uint32_t lin, unsigned size);

/* interp_ld_rmw: the load of a read-modify-write destination: checked for writing first
 * (segment rights and paging), as the hardware does, even if nothing ends up written. */
static inline uint32_t interp_ld_rmw(CPUState *cpu, int seg, uint32_t off, unsigned size)
{
    interp_probe_write(cpu, cpu_linear(cpu, seg, off, size, ACC_WRITE), size);
    return interp_ld(cpu, seg, off, size);
}

/* Far transfers implemented by interp_sys.c (protected-mode gates and privilege changes):
 * interp_far_jump / interp_far_call transfer to sel:off with operand size opsize; next_eip
 * is the return address CALL pushes. */
void interp_far_jump(CPUState *cpu, uint16_t sel, uint32_t off, unsigned opsize);
void interp_far_call(CPUState *cpu, uint16_t sel, uint32_t off, unsigned opsize,
                     uint32_t next_eip);

/* Registration of the integer handler groups (translate/interp_*.c). */
void interp_alu_register(InterpFn table[OP_COUNT]);
void interp_ctl_register(InterpFn table[OP_COUNT]);
void interp_str_register(InterpFn table[OP_COUNT]);

/* interp_unimpl: log once and raise #UD (the default table entry). */
void interp_unimpl(CPUState *cpu, const DecodedInsn *d);

#endif
