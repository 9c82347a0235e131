/* jit_internal.h: the JIT's internal types: executable code buffer, x86-64 emitter, IR,
 * translation blocks and the per-CPU JIT state. Included by translate/jit*.c and the JIT's
 * unit tests only. */
#ifndef ANYVM_TRANSLATE_JIT_INTERNAL_H
#define ANYVM_TRANSLATE_JIT_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "translate/decode.h"
#include "translate/interp.h"
#include "translate/jit.h"

/* ---- code buffer (jit_codebuf.c) ----
 * W^X: the buffer is one memfd mapped twice, read-write at rw and read-execute at rx, so no
 * page is ever writable and executable through the same mapping. Where memfd is unavailable
 * the buffer is one mapping flipped with mprotect around writes (codebuf_begin_write /
 * codebuf_end_write); then rw == rx. */
typedef struct CodeBuf {
    uint8_t *rw;         /* where the emitter writes */
    uint8_t *rx;         /* where the host executes (same offsets) */
    size_t size;
    size_t used;         /* the hot region [0, cold_start): trampolines, block bodies */
    size_t cold_start;   /* the cold region [cold_start, size): soft-MMU slow paths, */
    size_t cold_used;    /* ... filled up to here (an absolute offset) */
    bool dual;           /* two mappings; false: mprotect flips */
    bool writable;       /* single mapping currently RW */
} CodeBuf;

/* codebuf_init: map size bytes (rounded to pages). Returns 0 or -errno. */
int codebuf_init(CodeBuf *cb, size_t size) __attribute__((warn_unused_result));
void codebuf_destroy(CodeBuf *cb);
/* codebuf_begin_write / codebuf_end_write: bracket every write (emission, patching). */
void codebuf_begin_write(CodeBuf *cb);
void codebuf_end_write(CodeBuf *cb);
/* codebuf_reset: forget everything after offset keep (the fixed trampolines). */
void codebuf_reset(CodeBuf *cb, size_t keep);

/* ---- x86-64 emitter (jit_x64.c) ---- */
enum {
    X_RAX, X_RCX, X_RDX, X_RBX, X_RSP, X_RBP, X_RSI, X_RDI,
    X_R8, X_R9, X_R10, X_R11, X_R12, X_R13, X_R14, X_R15,
};
/* Condition codes of Jcc/SETcc (the low nibble of 0F 8x). */
enum { XC_O, XC_NO, XC_B, XC_AE, XC_E, XC_NE, XC_BE, XC_A, XC_S, XC_NS, XC_P, XC_NP,
       XC_L, XC_GE, XC_LE, XC_G };
/* Two-operand ALU opcodes (the /digit of 81 and the base of 01/03). */
enum { XA_ADD = 0, XA_OR = 1, XA_ADC = 2, XA_SBB = 3, XA_AND = 4, XA_SUB = 5, XA_XOR = 6,
       XA_CMP = 7 };

/* X64Emit: a cursor in a code buffer. Emission past cap sets overflow and writes nothing;
 * the caller checks it once at the end. Offsets are relative to the buffer start, and rx is
 * the address the code will run at (for rel32 and absolute addresses). */
typedef struct X64Emit {
    uint8_t *buf;        /* write view */
    const uint8_t *rx;   /* execute view (same offsets) */
    size_t pos, cap;
    bool overflow;
} X64Emit;

void x64_init(X64Emit *e, uint8_t *buf, const uint8_t *rx, size_t pos, size_t cap);
void x64_byte(X64Emit *e, uint8_t b);
void x64_u32(X64Emit *e, uint32_t v);
void x64_u64(X64Emit *e, uint64_t v);
void x64_push(X64Emit *e, int r);
void x64_pop(X64Emit *e, int r);
void x64_ret(X64Emit *e);
/* mov r64, imm64 (or the shorter mov r32, imm32 when it fits zero-extended). */
void x64_mov_ri64(X64Emit *e, int r, uint64_t imm);
void x64_mov_ri32(X64Emit *e, int r, uint32_t imm);
/* Register-register, width 4 or 8. */
void x64_mov_rr(X64Emit *e, int w, int dst, int src);
void x64_alu_rr(X64Emit *e, int w, int aop, int dst, int src);
void x64_alu_ri(X64Emit *e, int w, int aop, int dst, int32_t imm);
/* Loads and stores at [base + disp]: width 1, 2, 4 or 8; loads of 1 and 2 zero-extend. */
void x64_load(X64Emit *e, int w, int dst, int base, int32_t disp);
void x64_store(X64Emit *e, int w, int base, int32_t disp, int src);
void x64_store_imm(X64Emit *e, int w, int base, int32_t disp, int32_t imm);
/* op [base+disp], imm (width 1, 4 or 8) and op reg, [base+disp] (width 1, 2, 4 or 8). */
void x64_alu_mi(X64Emit *e, int w, int aop, int base, int32_t disp, int32_t imm);
void x64_alu_rm(X64Emit *e, int w, int aop, int dst, int base, int32_t disp);
/* test [base+disp], imm (width 1 or 4); test r, r (width 1, 2, 4 or 8). */
void x64_test_mi(X64Emit *e, int w, int base, int32_t disp, uint32_t imm);
void x64_test_ri(X64Emit *e, int r, uint32_t imm); /* test r32, imm32 */
void x64_test_rr(X64Emit *e, int w, int a, int b);
/* lea dst, [base + index*scale + disp] (64-bit). */
void x64_lea(X64Emit *e, int dst, int base, int32_t disp);
void x64_shift_ri(X64Emit *e, int w, int sub, int r, uint8_t count); /* C1 /sub */
void x64_call_r(X64Emit *e, int r);
void x64_jmp_r(X64Emit *e, int r);
/* Branches with rel32: return the offset of the rel32 field for x64_patch_rel32. */
size_t x64_call_rel32(X64Emit *e);   /* call rel32; returns the field to patch */
size_t x64_jmp_rel32(X64Emit *e);
size_t x64_jcc_rel32(X64Emit *e, int cc);
/* x64_patch_rel32: point the rel32 field at offset field to code offset target. */
void x64_patch_rel32(uint8_t *buf, size_t field, size_t target);
/* x64_patch_u32/u64: overwrite an immediate emitted earlier. */
void x64_patch_u32(uint8_t *buf, size_t field, uint32_t v);
void x64_patch_u64(uint8_t *buf, size_t field, uint64_t v);
void x64_setcc(X64Emit *e, int cc, int r8);
/* movsx dst32, src8/src16 (from_w 1 or 2). */
void x64_movsx_rr(X64Emit *e, int from_w, int dst, int src);
/* shl/shr/sar r, cl (D3 /sub), width 4 or 8. */
void x64_shift_cl(X64Emit *e, int w, int sub, int r);
/* imul dst, src / imul dst, [base+disp] (0F AF), width 4 or 8. */
void x64_imul_rr(X64Emit *e, int w, int dst, int src);
void x64_imul_rm(X64Emit *e, int w, int dst, int base, int32_t disp);
/* movzx dst32, src8/src16 (from_w 1 or 2). */
void x64_movzx_rr(X64Emit *e, int from_w, int dst, int src);
/* mov dst, src at width 1, 2, 4 or 8 (88/89): a byte or word move keeps dst's other bits. */
void x64_mov_rr_w(X64Emit *e, int w, int dst, int src);
/* Loads, stores and op reg, [mem] at [base + index + disp] (width 1, 2 zero-extending, 4, 8;
 * the ALU form 4 or 8). */
void x64_load_idx(X64Emit *e, int w, int dst, int base, int index, int32_t disp);
void x64_store_idx(X64Emit *e, int w, int base, int index, int32_t disp, int src);
void x64_alu_rm_idx(X64Emit *e, int w, int aop, int dst, int base, int index, int32_t disp);
/* lea dst32, [base + disp]. */
void x64_lea32(X64Emit *e, int dst, int base, int32_t disp);
/* lea dst32, [base + index << scale + disp] (base -1: none; index never rsp). */
void x64_lea32_sib(X64Emit *e, int dst, int base, int index, int scale, int32_t disp);
/* movsxd dst64, src32. */
void x64_movsxd_rr(X64Emit *e, int dst, int src);
void x64_bswap(X64Emit *e, int r);
/* op dst, src at width 1, 2, 4 or 8 (00/01 + aop * 8). */
void x64_alu_rr_w(X64Emit *e, int w, int aop, int dst, int src);
/* div r32: edx:eax / r -> eax, remainder edx. */
void x64_div_r(X64Emit *e, int r);
/* bsf (reverse: bsr) dst32, src32. */
void x64_bsf_rr(X64Emit *e, bool reverse, int dst, int src);
/* cmovcc dst32, src32. */
void x64_cmov_rr(X64Emit *e, int cc, int dst, int src);
/* rep stos / rep movs of size-byte elements (1, 2 or 4; rdi, rsi, rcx, al/ax/eax). */
void x64_rep_string(X64Emit *e, bool movs, unsigned size);

/* ---- IR (jit_ir.c) ----
 * A block is a list of IRInsn over temps (numbered 0..IR_MAX_TEMPS-1, 32-bit values whose
 * live bits are given by each op's size: 1, 2 or 4 bytes). Guest registers stay in the
 * CPUState; IR_LDREG/IR_STREG move them to and from temps. Example, ADD EAX, EBX:
 *     insn_start 0x1000 0x1002 ; ldreg t0, eax, 4 ; ldreg t1, ebx, 4 ; add t2, t0, t1, 4
 *     streg eax, 4, t2 ; setcc ADD32, t2, t1 ; insn_end
 */
typedef enum IROpc {
    IR_INSN_START,   /* imm: guest EIP, imm2: next EIP */
    IR_INSN_END,     /* the instruction retired (icount) */
    IR_SYNC,         /* precise state before something that can fault: insn_eip = imm,
                        insn_esp = ESP, eip = imm2, icount flushed */
    IR_CALL,         /* dst (or -1) = fn(cpu, arg): ptr = fn, ptr2 = arg */
    IR_CHECK,        /* after a helper: leave the block unless eip == imm and nothing asks the
                        loop to stop (interrupt, exit request, SMC, map change, TF);
                        sub = 1: without the EIP test */
    IR_MOVI,         /* dst = imm */
    IR_LDREG,        /* dst = guest reg a (size; 1: AL..BH numbering) */
    IR_STREG,        /* guest reg a (size) = temp b */
    IR_ALU,          /* dst = a <sub> b, masked to size; sub = XA_* (ADD OR AND SUB XOR),
                        16 + n: a << n, IR_ALU_SEXT8/16: a sign-extended from 8/16 bits,
                        IR_ALU_SHL/SHR/SAR: a shifted by temp b (0..31, 32-bit shift),
                        IR_ALU_MUL: low 32 bits of a * b, IR_ALU_IMULH: high 32 bits of the
                        signed 64-bit product, IR_ALU_BSWAP: a byte-swapped,
                        IR_ALU_ROL/ROR: a rotated by temp b (32-bit); c = 1: a fused
                        IR_BRFLAGS/IR_SETFLAGS reads the host flags it leaves */
    IR_SETCC,        /* lazy flags: cc_op = imm, cc_dst = a, cc_src = b (-1: 0), cc_src2 = c */
    IR_LD,           /* dst = load size bytes at seg imm : offset a (soft MMU, may fault);
                        sub = 1: the load of a read-modify-write (checked for writing);
                        c >= 0: in page group c at imm2 bytes from its start, a = -1
                        (jit_opt_mem_groups: no check, cannot fault) */
    IR_ST,           /* store size bytes of b at seg imm : offset a (may fault); c as IR_LD */
    IR_SETEIP,       /* eip = imm */
    IR_BRCOND,       /* if temp a != 0 goto label imm; sub = 1: if temp a == 0; imm2 = 1:
                        a side exit (the label only leaves the block, see jit_frontend.c) */
    IR_LABEL,        /* label imm */
    IR_GOTO_TB,      /* eip = imm2; leave through chain slot imm (0 or 1) */
    IR_EXIT,         /* leave the block through the lookup (eip already set); sub = 1: after
                        a helper that may have changed the mode bits (else they are the
                        block's own); sub = 2: a near RET, which returns through the host
                        stack when the call it matches was a host call (IR_CALL_TB);
                        sub = 3: an indirect near CALL's jump, a host call whose return goes
                        on to imm2 through chain slot 1 (as IR_CALL_TB's) */
    IR_CALL_TB,      /* a near CALL's jump (the return address pushed, state synced): to
                        imm through chain slot 0 by a host call, whose return (a matching
                        RET) goes on to imm2 through chain slot 1 */
    IR_GOTO_TB_IF,   /* if eip == imm2: leave through chain slot imm (after a helper that
                        branched: LOOP, JCXZ, CALL rel) */
    IR_BRFLAGS,      /* if guest condition sub holds for the flags of the last inline ALU op
                        (kind c: 0 SUB/CMP of a,b; 1 ADD of a,b; 2 logic result a) at size:
                        goto label imm (imm2 as IR_BRCOND's). Fuses CMP/TEST/ADD... + Jcc
                        without cpu_cond. c = IR_FLAGS_HOST + kind (a = b = -1): the host
                        flags still hold the ALU op's (jit_opt_fuse_flags) */
    IR_JUMP_IND,     /* eip = temp a masked to size bytes, #GP(0) beyond the CS limit
                        (sub 1: only the #GP check, eip unchanged); imm = 1: a 32-bit
                        target under a 4 GiB limit, which cannot fault (no check);
                        sub 2: the RET of an inlined callee, whose target was checked by
                        nothing: eip = temp a (32 bits, 4 GiB limit), and the block leaves to
                        the C loop unless it equals imm2, the return address its call pushed */
    IR_SETFLAGS,     /* dst = guest condition sub (0/1) from the flags of the last inline ALU
                        op, as IR_BRFLAGS (e.g. CF for INC/DEC without cpu_cc_cf);
                        sub = IR_FLAGS_SZAP: dst = its SF|ZF|AF|PF bits (EFLAGS layout),
                        IR_FLAGS_SZAPO: and OF */
    IR_NOP,          /* nothing (an op removed by a pass) */
    IR_EA,           /* dst = a + (b << sub) + imm, 32 bits; a or b may be -1 (absent): an
                        effective address, emitted as one host LEA */
    IR_SZAPCC,       /* dst = SF|ZF|AF|PF of the CPUState's lazy flags, inline when cc_op is
                        imm (the value seen at translation), else through cpu_cc_compute */
    IR_CONDCC,       /* dst = guest condition sub (0/1) of the CPUState's lazy flags, inline
                        when cc_op is imm (see condcc_inline), else through cpu_cond */
    IR_X87,          /* x87 move between memory and the stack (sub: IR_X87_*) at offset temp
                        a of segment imm: inline in the common case (see gen_x87), else the
                        instruction's handler ptr(cpu, ptr2) on a slow path */
    IR_CODECHK,      /* dst = 1 when the TLB entry of linear page imm (the block's privilege)
                        maps it for code to physical page imm2 at host addend ptr, else 0:
                        the condition under which an inlined callee's bytes are the ones
                        translated (see call_inline in jit_frontend.c) */
    IR_DIV,          /* dst = the 64-bit (c:a) divided by b, unsigned (DIV r/m32), raising
                        #DE (the state synced before) when c >= b: a zero divisor or a
                        quotient over 32 bits */
    IR_EFLAGS,       /* eflags = (eflags & imm) | imm2, for its non-arithmetic bits (DF) */
    IR_STRING,       /* REP STOS (sub 0) or REP MOVS (sub 1) of size-byte elements, 32-bit
                        addresses, flat segments: inline (the host's REP STOS/MOVS) when DF is
                        clear and each of the source and destination lies in one RAM page the
                        TLB maps; else the instruction's handler ptr(cpu, ptr2) on a slow path.
                        Reads and writes the guest registers ECX, EDI (ESI) itself. */
    IR_ROTPEND,      /* a ROL (sub 1) or ROR (sub 2) by a constant with result temp a whose
                        flags only a fault can see before the next IR_SETCC (op imm, set by
                        jit_opt_rotpend; it may be a NOP later) replaces them (jit_frontend.c's
                        flags_dead_after): the CPUState's lazy flags stay those before it;
                        cpu->rot_val = a, and the slow paths up to op imm make the lazy flags
                        the rotate's (jit_backend.c's slow_size) before they can fault. Only
                        ops jit_opt_rotpend accepts come between. */
} IROpc;

#define IR_MAX_TEMPS 120 /* temps are int8_t in IRInsn */
#define IR_FLAGS_SZAP 16
#define IR_FLAGS_SZAPO 17 /* ... and OF */
#define IR_FLAGS_HOST 8   /* IR_BRFLAGS/IR_SETFLAGS c: see IR_BRFLAGS */
#define IR_ALU_SEXT8 32
#define IR_ALU_SEXT16 33
#define IR_ALU_SHL 34
#define IR_ALU_SHR 35
#define IR_ALU_SAR 36
#define IR_ALU_MUL 37
#define IR_ALU_IMULH 38
#define IR_ALU_BSWAP 39
#define IR_ALU_ROL 40
#define IR_ALU_ROR 41
#define IR_ALU_MULHU 42 /* high 32 bits of the unsigned 64-bit product a * b */
#define IR_ALU_BSF 43   /* a ? the index of a's lowest set bit : b */
#define IR_ALU_BSR 44   /* a ? the index of a's highest set bit : b */
#define IR_MAX_INSNS 4096
#define IR_MAX_LABELS 32

typedef struct IRInsn {
    uint8_t opc;
    uint8_t size;
    uint8_t sub;
    int8_t dst, a, b, c;
    uint32_t imm, imm2;
    const void *ptr, *ptr2;
} IRInsn;

/* IRGroup: accesses through a flat segment at fixed displacements from the value a guest
 * register has when the block starts (ESP across PUSH/POP/CALL, EBP, ...), all within span
 * bytes from reg + lo. The block checks once on entry that those bytes lie in one page the
 * TLB maps to RAM for the block's privilege (for writing too when write) and keeps the host
 * address of reg + lo; the accesses are then plain host loads and stores. */
typedef struct IRGroup {
    int8_t reg;
    bool write;
    uint16_t count;
    int32_t lo;
    uint32_t span;
} IRGroup;
#define IR_MAX_GROUPS 3
#define IR_GROUP_MAX_SPAN 1024u

typedef struct IRBlock {
    IRInsn insn[IR_MAX_INSNS];
    unsigned n;
    int ntemps;                   /* high-water mark of temps in use */
    int next_temp;                /* ir_temp's next candidate */
    uint64_t kept[2];             /* temps ir_temp skips (bit t): ir_temps_recycle's keep and
                                     setcc_ops */
    int8_t setcc_ops[2][3];       /* the operands (-1: none) of the last IR_SETCC and of the
                                     last one followed by an op that may observe the flags
                                     (not a register op) before the next: a SETCC whose
                                     stores jit_backend.c defers reads them up to the next
                                     SETCC left live, and the ones between may be dead */
    int last_setcc;               /* the last IR_SETCC's index, or -1 */
    int nlabels;
    bool overflow;
    IRGroup group[IR_MAX_GROUPS];
    int ngroups;
} IRBlock;

void ir_init(IRBlock *b);
int ir_temp(IRBlock *b);
/* ir_temps_recycle: at an instruction boundary, every temp is free again except keep[0..2]
 * (-1: none), the operands of the lazy flags a later Jcc, SETcc or CF reader may still read,
 * and those of IRBlock.setcc_ops. Keeps blocks to a few slots (registers or short
 * displacements) instead of running out of temps. */
void ir_temps_recycle(IRBlock *b, const int keep[3]);
int ir_label(IRBlock *b);
void ir_insn_start(IRBlock *b, uint32_t eip, uint32_t next);
void ir_insn_end(IRBlock *b);
void ir_sync(IRBlock *b, uint32_t eip, uint32_t next);
/* ir_call_helper: dst (or -1) = fn(cpu, arg); fn has the InterpFn-like shape
 * uint32_t fn(CPUState *, const void *) or void fn(CPUState *, const DecodedInsn *). */
void ir_call_helper(IRBlock *b, int dst, const void *fn, const void *arg);
void ir_check(IRBlock *b, uint32_t next);
/* ir_check_events: IR_CHECK without the EIP test (sub = 1). */
void ir_check_events(IRBlock *b);
void ir_movi(IRBlock *b, int dst, uint32_t imm);
void ir_ldreg(IRBlock *b, int dst, int reg, unsigned size);
void ir_streg(IRBlock *b, int reg, unsigned size, int src);
void ir_alu(IRBlock *b, int aop, int dst, int a, int c, unsigned size);
/* ir_szapcc: dst = SF|ZF|AF|PF (and OF when with_of) of the CPUState's lazy flags,
 * expecting cc_op expect. */
void ir_szapcc(IRBlock *b, int dst, uint32_t expect, bool with_of);
/* condcc_inline: IR_CONDCC has an inline form for condition cc after cc_op op. */
bool condcc_inline(uint32_t op, int cc);
/* ir_condcc: dst = guest condition cc (0/1) of the CPUState's lazy flags, expecting cc_op
 * expect (condcc_inline). */
void ir_condcc(IRBlock *b, int dst, int cc, uint32_t expect);
enum {
    IR_X87_FLD64, IR_X87_FST64, IR_X87_FSTP64,    /* memory (temp a: the offset) */
    IR_X87_FLDST, IR_X87_FSTST, IR_X87_FSTPST,    /* FLD / FST / FSTP ST(i), i = insn's rm */
    IR_X87_FXCH, IR_X87_FLD1, IR_X87_FLDZ,
    IR_X87_FNSTSW,                                /* dst = the status word (FNSTSW AX) */
};
/* ir_x87: an IR_X87 op for the instruction at eip (ea: its offset temp, -1 for the
 * register forms; dst: FNSTSW's result temp, else -1); fn(cpu, insn) runs it when the inline
 * form cannot. */
void ir_x87(IRBlock *b, int sub, int dst, int ea, int seg, uint32_t eip, const void *fn,
            const void *insn);
/* ir_ea: dst = base + (index << scale) + disp (base, index: temps or -1). */
void ir_ea(IRBlock *b, int dst, int base, int index, unsigned scale, uint32_t disp);
void ir_setcc(IRBlock *b, uint32_t cc_op, int dst, int src, int src2);
void ir_rotpend(IRBlock *b, int res, int kind);
void ir_ld(IRBlock *b, int dst, int seg, int off, unsigned size);
void ir_ld_rmw(IRBlock *b, int dst, int seg, int off, unsigned size);
void ir_st(IRBlock *b, int seg, int off, int val, unsigned size);
void ir_seteip(IRBlock *b, uint32_t eip);
void ir_brcond(IRBlock *b, int cond, int label);
/* ir_brzero: if temp cond == 0 goto label. */
void ir_brzero(IRBlock *b, int cond, int label);
void ir_set_label(IRBlock *b, int label);
void ir_goto_tb(IRBlock *b, int slot, uint32_t eip);
void ir_exit_tb(IRBlock *b);
/* ir_exit_ret: IR_EXIT of a near RET (sub = 2). */
void ir_exit_ret(IRBlock *b);
/* ir_exit_call: IR_EXIT of an indirect near CALL returning to ret (sub = 3). */
void ir_exit_call(IRBlock *b, uint32_t ret);
/* ir_call_tb: IR_CALL_TB to target, returning to ret. */
void ir_call_tb(IRBlock *b, uint32_t target, uint32_t ret);
/* ir_exit_tb_mode: IR_EXIT after something that may have changed the mode bits. */
void ir_exit_tb_mode(IRBlock *b);
void ir_goto_tb_if(IRBlock *b, int slot, uint32_t eip);
void ir_brflags(IRBlock *b, int cc, int kind, int a, int c, unsigned size, int label);
/* ir_jump_ind: IR_JUMP_IND of temp t (size bytes) in a block whose CS limit is cs_limit. */
void ir_jump_ind(IRBlock *b, int t, unsigned size, uint32_t cs_limit);
/* ir_ret_inline: IR_JUMP_IND sub 2 (after the RET's IR_INSN_END). */
void ir_ret_inline(IRBlock *b, int t, uint32_t expect);
/* ir_div: IR_DIV, dst = (hi:lo) / divisor. */
void ir_div(IRBlock *b, int dst, int lo, int divisor, int hi);
/* ir_string: IR_STRING (sub: 0 STOS, 1 MOVS) of size-byte elements; fn(cpu, insn) does the
 * whole instruction when the inline form cannot. */
void ir_string(IRBlock *b, int sub, unsigned size, const void *fn, const void *insn);
/* ir_eflags: IR_EFLAGS, eflags = (eflags & keep) | set. */
void ir_eflags(IRBlock *b, uint32_t keep, uint32_t set);
/* ir_codechk: IR_CODECHK. */
void ir_codechk(IRBlock *b, int dst, uint32_t lin_page, uint32_t phys_page, uintptr_t addend);
/* ir_check_target: IR_JUMP_IND's #GP(0) check of a near target alone (before a push); nothing
 * when no target of that size can exceed cs_limit. */
void ir_check_target(IRBlock *b, int t, unsigned size, uint32_t cs_limit);
void ir_setflags(IRBlock *b, int dst, int cc, int kind, int a, int c, unsigned size);
/* ---- IR passes (jit_opt.c) ---- */
/* ir_temp_uses: pointers to the temp fields op i reads, into u[0..2] (entries may hold -1);
 * returns their count. ir_temp_def: the temp op i writes, or -1. */
int ir_temp_uses(const IRInsn *i, int8_t **u);
int ir_temp_def(const IRInsn *i);
/* ir_op_register_only: op kind opc touches only temps, guest registers, lazy flags and the
 * instruction bookkeeping (no memory, helper, host register outside the register cache, or
 * control flow): IR_INSN_START, IR_INSN_END, IR_SYNC, IR_MOVI, IR_LDREG, IR_STREG, IR_ALU,
 * IR_EA, IR_SETCC, IR_SETFLAGS, IR_SETEIP, IR_NOP, IR_ROTPEND (its store is to a CPUState
 * scratch field). */
bool ir_op_register_only(int opc);
/* jit_opt_dead_flags: dead[k] (for each of the b->n ops) = op k is an IR_SETCC whose lazy
 * flags a later IR_SETCC replaces before anything could read them (a helper, a possible
 * fault, a branch, a label, an exit). */
void jit_opt_dead_flags(const IRBlock *b, bool *dead);
/* jit_opt_forward_regs: drop IR_LDREGs of a 32-bit guest register whose value a temp still
 * holds (from an earlier IR_LDREG or IR_STREG of it with no helper call or label in between),
 * reading that temp instead. Returns the number of loads removed. */
unsigned jit_opt_forward_regs(IRBlock *b);

/* jit_opt_dead_code: turn into IR_NOP every IR_SETCC jit_opt_dead_flags finds dead, then
 * every pure op (IR_MOVI, IR_LDREG, IR_ALU, IR_SETFLAGS) whose result no later op reads, e.g.
 * the high half of an IMUL or the carry-out of a shift computed only for flags nothing reads.
 * Returns the number of ops removed. */
unsigned jit_opt_dead_code(IRBlock *b);
/* jit_opt_rotpend (before jit_opt_dead_code, which may drop the IR_SETCC ending a window):
 * false when an IR_ROTPEND's window (up to the next IR_SETCC) holds an op other than register
 * ops and loads, or no IR_SETCC ends it (the frontend then translates the block again with
 * every rotate's flags inline); else notes each window's end in its imm, and an IR_ROTPEND
 * whose window cannot fault (grouped loads only) becomes a NOP. */
bool jit_opt_rotpend(IRBlock *b);

/* jit_opt_mem_groups: find the loads and stores of a TBF_FLAT block (through ES, SS or DS)
 * whose offset is a guest register's value at block entry plus a constant, up to the first
 * helper call (which may change registers, segments or the TLB), and gather those of one
 * register within IR_GROUP_MAX_SPAN bytes into an IRGroup (at least two accesses; the
 * IR_MAX_GROUPS busiest registers). Each grouped op gets c = its group, imm2 = its offset from
 * the group's start and a = -1, so the address computation becomes dead code. Returns the
 * number of accesses grouped. */
unsigned jit_opt_mem_groups(IRBlock *b, int split_reg, int32_t split);
/* (split_reg >= 0: the accesses through split_reg below displacement split and those at or
 * above it form separate groups, and one crossing it none: a page starts there.) */

/* jit_opt_fuse_flags: an IR_BRFLAGS or IR_SETFLAGS that tests the flags of an IR_ALU (ADD,
 * SUB, AND, OR or XOR at the same size and on the same operands) with only ops between that
 * the backend emits without touching the host flags (moves, lazy-flag stores, lazy syncs,
 * page-group accesses, other fused branches) reads the host flags the ALU op left: it gets
 * c = IR_FLAGS_HOST + kind and no operands, the ALU op c = 1 (emit it as the host op at its
 * size). lazy: jit_opt_lazy_sync's. Returns the number of ops fused. */
unsigned jit_opt_fuse_flags(IRBlock *b, const bool *lazy);

/* jit_opt_forward_stores: a page-group load (not of a read-modify-write) of the bytes a
 * page-group store of a constant wrote before it in the block, with no other store, helper,
 * label or access outside the groups in between (another group's store may alias the
 * bytes), becomes an IR_MOVI of that constant: the group's entry check made them RAM, which
 * nothing else writes while the block runs (the return address of an inlined PIC thunk's
 * MOV reg, [ESP] and RET). Returns the number of loads replaced. */
unsigned jit_opt_forward_stores(IRBlock *b);

/* jit_opt_lazy_sync: lazy[k] = op k is an IR_SYNC whose instruction only does inline loads
 * and stores (and register/ALU ops, ESP written after the last access) before its end: the
 * backend then writes the precise state only on the soft-MMU slow paths, which are the only
 * places that can fault, and EIP at the instruction's IR_CHECK. */
void jit_opt_lazy_sync(const IRBlock *b, bool *lazy);

/* ir_dump: the IR as text, one op per line (for -d jit and tests). */
void ir_dump(const IRBlock *b, FILE *f);

/* ---- translation blocks ---- */
#define TB_MAX_INSNS 64
#define TB_HASH_BITS 16
#define TB_JC_BITS 14         /* the jump cache: blocks by linear PC */
#define TB_PAGE_HASH_BITS 12
#define TB_NO_SLOT 0xFFFFFFFFu
/* Chain slots of a block: 0 and 1 for its final exit (a Jcc's target and fall-through, a
 * CALL's target and return), 2 and 3 for side exits (a Jcc inside the block). Slots are
 * tagged into block pointers (8-byte aligned): the (block | slot) incoming lists, and the
 * value generated code returns to C: (block | slot + 1) asks for slot's link,
 * (block | TB_EXIT_GROUP_MISS) reports a failed page-group check. */
#define TB_SLOTS 4
#define TB_TAG_MASK 7u
#define TB_EXIT_GROUP_MISS 7u

typedef struct TranslationBlock TranslationBlock;
struct TranslationBlock {
    /* Key: where and in which mode the code was translated. */
    uint32_t phys_pc;
    uint32_t eip;
    uint32_t cs_base;
    uint32_t cs_limit;
    uint32_t flags;               /* TBF_* mode bits */
    uint16_t size;                /* guest bytes */
    uint16_t ninsns;
    uint8_t *host_code;           /* rx address */
    uint32_t host_size;
    uint8_t *cold_code;           /* its slow paths in the cold region (rx), cold_size bytes */
    uint32_t cold_size;
    uint32_t body_off;            /* host_code + body_off: the entry after the budget and
                                     event checks, for forward chained jumps (tb_chain) */
    uint32_t phys2;               /* an inlined callee's bytes (jit_frontend.c's
                                     call_inline), or those of the code a backward Jcc was
                                     followed to (follow_eip): [phys2, phys2 + size2),
                                     size2 0: none */
    uint16_t size2;
    bool followed;                /* phys2 holds the code at follow_eip (same page), which
                                     the block went on at after a backward Jcc; its bytes
                                     come after the block's own in guest_copy */
    uint32_t follow_eip;
    uint8_t tail2;                /* the last instruction crosses the page end: its bytes in
                                     the next page (at phys2, size2 = tail2), also kept after
                                     the block's own in guest_copy */
    struct TranslationBlock *page2_next; /* in the list of phys2's page when that is not
                                     phys_pc's (JitPage.first2) */
    const uint8_t *guest_copy;    /* the guest bytes it was translated from (arena) */
    const uint8_t *host_src;      /* where those bytes were in host memory (the RAM or ROM
                                     backing the frame then): a lookup through a TLB entry
                                     with another backing (memory map change) misses */
    const DecodedInsn *insns;     /* copies for helper calls (arena) */
    /* Chaining: slot i's jmp rel32 field offset in the code buffer, the block it is patched
     * to, and the list of (block, slot) pairs jumping into this block. */
    uint32_t jmp_field[TB_SLOTS];
    uint32_t jmp_stub[TB_SLOTS];  /* slot i's call of the known-mode probe */
    uint32_t jmp_xlink[TB_SLOTS]; /* slot i's cross-page link check, or TB_NO_SLOT; its
                                     patch fields are at these offsets: */
#define TB_XLINK_PHYS 22u         /*   imm32: the physical page of the target */
#define TB_XLINK_ADDEND 34u       /*   imm64: the TLB addend of its linear page */
#define TB_XLINK_JMP 56u          /*   rel32: the target block */
    TranslationBlock *jmp_dest[TB_SLOTS];
    uintptr_t jmp_in;             /* first incoming (tb | slot), 0 = none */
    uintptr_t jmp_in_next[TB_SLOTS]; /* next incoming after (this, slot) in dest's list */
    TranslationBlock *hash_next;
    TranslationBlock *page_next;
    uint64_t execs;               /* entries (counted only under -d jit-stats) */
    uint16_t n_inline;            /* of ninsns: translated inline / as helper calls */
    bool valid;
    uint8_t group_misses;         /* entries whose page-group check failed for good (the
                                     bytes straddle two pages, or the page cannot be
                                     accessed inline), see group_miss in jit.c */
    uint8_t tlb_misses;           /* ... failed on a TLB entry not filled (yet) for the page,
                                     each close after the previous one (tlb_miss_icount) */
    uint8_t ngroups;
    IRGroup group[IR_MAX_GROUPS]; /* the page groups its entry checks */
    uint64_t tlb_miss_icount;
    uint8_t verify_kind;          /* lockstep (jit_verify.c): 0 not looked at yet, 1 can be
                                     replayed, 2 has port I/O */
};

_Static_assert(_Alignof(TranslationBlock) >= TB_TAG_MASK + 1,
               "block pointers have room for their tags");

/* Mode bits that change decoding or semantics of translated code. */
enum {
    TBF_CODE32 = 1u << 0,    /* CS.D */
    TBF_STACK32 = 1u << 1,   /* SS.B */
    TBF_CPL_SHIFT = 2,       /* 2 bits */
    TBF_PE = 1u << 4,
    TBF_VM = 1u << 5,
    TBF_PG = 1u << 6,
    /* ES, SS and DS are flat: base 0, limit FFFFFFFFh and (in protected mode outside V86)
     * present, writable, expand-up data. Accesses through them skip the segment checks. */
    TBF_FLAT = 1u << 7,
    /* CPL 3 with CR0.AM and EFLAGS.AC: a misaligned access may raise #AC. Without it the
     * alignment test is not emitted. */
    TBF_AC = 1u << 8,
};
/* What TBF_FLAT asks of each of ES, SS and DS's SegCache.flags in protected mode: these bits
 * (present, S, code, expand-down, writable) equal TBF_FLAT_WANT (a readable and writable
 * expand-up data segment, as gen_mem's read and write checks both pass). */
#define TBF_FLAT_MASK (SEGF_P | SEGF_S | 0x8u | 0x4u | 0x2u)
#define TBF_FLAT_WANT (SEGF_P | SEGF_S | 0x2u)

/* JitJcEntry: a jump-cache slot, holding a copy of its block's key so that a hit reads one
 * slot and no TranslationBlock. flags == JC_EMPTY: unused. */
#define JC_EMPTY 0xFFFFu
typedef struct JitJcEntry {
    uint32_t eip, cs_base, phys, cs_limit;
    uint16_t flags, ninsns;
    const uint8_t *host_src;
    TranslationBlock *tb;
    const uint8_t *code;          /* tb->host_code */
    uint64_t pad[2];              /* 64 bytes: the probe indexes slots with a shift */
} JitJcEntry;

/* JitPage: the blocks translated from one physical frame. */
typedef struct JitPage {
    uint32_t frame;
    TranslationBlock *first;
    TranslationBlock *first2;     /* blocks with an inlined callee in this page, linked by
                                     page2_next */
    struct JitPage *next;
} JitPage;

#define JIT_NOGROUP_SLOTS 1024
/* GroupHint: a block whose page-group check failed for good is translated again with its
 * straddling group split where the page began (split_reg, split), and if that fails for good
 * too, without groups (none). */
typedef struct GroupHint {
    uint32_t phys1;               /* the block's physical PC + 1; 0: empty */
    bool none;
    int8_t split_reg;             /* -1: no split */
    uint8_t splits;               /* how often the split moved (a process with its stack
                                     elsewhere); JIT_GROUP_SPLIT_LIMIT, then none */
    int32_t split;
} GroupHint;
#define JIT_GROUP_SPLIT_LIMIT 16
/* Page-group misses before a block is translated without groups: misses for good (a group
 * straddling two pages, a page the TLB maps with flag bits), and TLB misses each within
 * JIT_GROUP_TLB_WINDOW instructions of the previous one (the entry keeps being evicted; a
 * miss per new process is no reason). */
#define JIT_GROUP_MISS_LIMIT 4
#define JIT_GROUP_TLB_MISS_LIMIT 8
#define JIT_GROUP_TLB_WINDOW 20000u

/* JitState: cpu->jit. The first fields are read by generated code through r12. */
/* JIT_FRAME_BYTES: generated code's scratch frame (JitState.frame): a slot per IR temp, the
 * slow-path flag, the page groups' host addresses. */
#define JIT_FRAME_BYTES (8 * IR_MAX_TEMPS + 8 + 8 * IR_MAX_GROUPS)

typedef struct JitState {
    uint64_t end;                 /* icount bound for blocks in this x86_jit_run (see there) */
    uint64_t frame[JIT_FRAME_BYTES / 8]; /* generated code's scratch, at [r12 + small offsets]
                                     (not on the host stack, which host call/ret pairs move) */
    uint64_t host_sp;             /* rsp in generated code at its bottom level (enter) */
    uint64_t call_floor;          /* below this rsp, guest calls are not host calls */
    uint8_t in_code;              /* generated code is on the stack */
    bool count_execs;             /* -d jit-stats: blocks count their entries */
    bool fwd_unchecked;           /* under a host clock: chained jumps forward skip the
                                     target's entry checks (tb_chain) */
    JitOptions opt;
    CodeBuf cb;
    size_t tramp_size;            /* trampolines at the start of the buffer */
    uintptr_t (*enter)(CPUState *cpu, struct JitState *j, const void *code);
    size_t epilogue_off;
    size_t lookup_off;            /* trampoline: jump-cache probe, else jit_helper_lookup */
    size_t lookup_known_off;      /* the same with the mode bits known (in r8d) */
    InterpFn table[OP_COUNT];
    TranslationBlock *hash[1u << TB_HASH_BITS];
    JitJcEntry jc[1u << TB_JC_BITS]; /* jump cache: last block seen at a linear PC */
    JitPage *pages[1u << TB_PAGE_HASH_BITS];
    TranslationBlock *tbs;        /* pool */
    size_t ntbs, max_tbs;
    JitPage *page_pool;
    size_t npages;
    uint8_t *arena;               /* DecodedInsn copies and guest byte copies */
    size_t arena_used, arena_size;
    uint64_t execs_flushed[3];    /* -d jit-stats: block entries, inline and helper insns
                                     executed by blocks already flushed */
    IRBlock ir;
    JitStats stats;
    bool verify_failed;
    void *backend;                /* the backend's working state, kept between translations */
    struct X86Disasm *dis;
    void *verify_copy;            /* CPUState snapshot for lockstep (verify mode) */
    uintptr_t verify_exit;        /* what the block's JIT run returned (0 after a fault) */
    GroupHint ghint[JIT_NOGROUP_SLOTS]; /* how to translate the page groups of blocks whose
                                     checks failed for good (direct-mapped; a lost entry only
                                     costs misses) */
    uint8_t *verify_frames;       /* verify mode: one bit per frame holding blocks (every
                                     frame is marked in cpu->code_pages then) */
    size_t cs64;                  /* Capstone handle (csh) for -d out_asm */
    bool cs64_open;
} JitState;

/* jit_nogroup_slot: the slot of jit->ghint for a block at physical address phys. */
static inline unsigned jit_nogroup_slot(uint32_t phys)
{
    return (phys ^ (phys >> 10) ^ (phys >> 20)) & (JIT_NOGROUP_SLOTS - 1);
}

/* jit_translate: guest code at the current CS:EIP (already resolved to host bytes at
 * code, avail bytes to the page end / limit) -> IR in j->ir. Returns the instruction count
 * and fills *size; 0 when the first instruction cannot be translated (crosses the page). */
unsigned jit_frontend(JitState *j, CPUState *cpu, TranslationBlock *tb, const uint8_t *code,
                      unsigned avail);

/* jit_backend: IR -> host code at the code buffer's end for tb. Returns false when the
 * buffer is full. */
bool jit_backend(JitState *j, TranslationBlock *tb, IRBlock *ir);

/* jit_backend_free: release the backend's working state. */
void jit_backend_free(JitState *j);

/* jit_gen_trampolines: the enter/exit stubs at the start of the buffer. */
void jit_gen_trampolines(JitState *j);

/* jit_verify_block: run tb in lockstep mode (jit_verify.c). Returns false when a mismatch
 * stopped the machine; a fault raised by the block is re-raised (longjmp) after the check. */
bool jit_verify_block(JitState *j, CPUState *cpu, TranslationBlock *tb);

/* Helpers called by generated code (jit_helpers in jit_backend.c). */
uint32_t jit_helper_ld(CPUState *cpu, uint32_t seg_size, uint32_t off);
uint32_t jit_helper_ld_rmw(CPUState *cpu, uint32_t seg_size, uint32_t off);
void jit_helper_st(CPUState *cpu, uint32_t seg_size, uint32_t off, uint32_t val);
_Noreturn void jit_helper_gp0(CPUState *cpu);
_Noreturn void jit_helper_de(CPUState *cpu);
const void *jit_helper_lookup(CPUState *cpu);

/* tb_disasm: the block's guest instructions as Capstone text, one line() call each, in the
 * order they were translated: its own bytes, then those it followed a Jcc back to. */
typedef void (*TbLineFn)(void *ctx, uint32_t eip, const uint8_t *bytes, int len,
                         const char *text);
void tb_disasm(JitState *j, const TranslationBlock *tb, TbLineFn line, void *ctx);

#endif
