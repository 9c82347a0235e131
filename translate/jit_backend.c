/* jit_backend.c: IR -> x86-64 machine code, plus the enter/exit trampolines.
 *
 * Host register use inside generated code: rbx = CPUState *, r12 = JitState *, rax/rcx/rdx/
 * rsi/rdi scratch; IR temps live in an 8-byte stack slot each ([rsp + 8 * t]) of the frame the
 * enter trampoline sets up, so a helper call never has to save anything. Guest registers stay
 * in the CPUState, which keeps the state exact at every helper call and fault.
 *
 * Every block starts with the instruction budget check (one compare), because chained jumps
 * enter it without going through C. The other causes to stop, in CPUState.exit_word (halt,
 * NMI, interrupt shadow, exit request, shutdown, blocks dropped while code ran, INTR), change
 * only in C: the C loop tests them before entering generated code, and the helpers and slow
 * paths that can set them are followed by stop_checks.
 * icount is kept in a compile-time counter of retired instructions and added to
 * cpu->icount before anything that can fault and on every exit, so a fault in the middle of a
 * block counts exactly the instructions before it (cpu_exec adds the faulting one).
 *
 * Example: the block "40 EB FD" (INC AX; JMP -3) in real mode becomes
 *     <entry checks>  ; call jit_helper_cf ; ldreg/add/streg AX ; setcc INC16
 *     mov dword [rbx+eip], 0x1000 ; add qword [rbx+icount], 2 ; jmp <slot 0> ; exit stub
 * and after the first run the C loop patches slot 0's jmp to the block's own entry.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "translate/jit_internal.h"

#define OFF(f) ((int32_t)offsetof(CPUState, f))
#define JOFF(f) ((int32_t)offsetof(JitState, f))
/* The scratch frame: JitState.frame, through r12 (the host stack moves with host calls). */
#define X_FRAME X_R12
#define TEMP(t) (JOFF(frame) + (int32_t)(8 * (t)))
/* A byte of the frame after the temps: set by the slow path of a memory access whose
 * instruction deferred its sync, tested by that instruction's IR_CHECK, which runs the stop
 * checks only when the slow path ran. */
#define SLOW_FLAG TEMP(IR_MAX_TEMPS)
/* Page group g's host address (that of its register's entry value + lo). */
#define GROUP_SLOT(g) TEMP(IR_MAX_TEMPS + 1 + (g))
_Static_assert(GROUP_SLOT(IR_MAX_GROUPS) <= JOFF(frame) + JIT_FRAME_BYTES,
               "the group slots live in the frame");
/* Host stack below the saved registers at enter: alignment padding, then the sentinel marker
 * and return-address slot that no guest RET matches (see gen_call_tb). rsp stays 16-byte
 * aligned in generated code: 6 pushes + the return address + these 3 words. */
#define ENTER_STACK_WORDS 3
_Static_assert((7 + ENTER_STACK_WORDS) % 2 == 0, "generated code runs with rsp 16-aligned");
/* How deep host calls may nest (bytes of host stack, 16 per level). */
#define HOST_CALL_DEPTH_BYTES (32u << 10)

_Static_assert(sizeof(JitJcEntry) == 64, "the jump-cache probe scales the slot index by 64");
_Static_assert(sizeof(TLBEntry) == 32, "the inline TLB lookup scales the index by 32");
_Static_assert(offsetof(CPUState, intr_pending) == offsetof(CPUState, exit_word) + 1,
               "EXIT_NO_INTR: intr_pending is byte 1 of exit_word");
_Static_assert(offsetof(CPUState, jit_stop) < offsetof(CPUState, exit_word) + 8,
               "jit_stop lies in exit_word");
/* exit_word without intr_pending, as a sign-extended imm32 for and r64, imm32. */
#define EXIT_NO_INTR ((int32_t)0xFFFF00FF)

/* slow_size: the access size in a slow path's seg_size argument (segment | size << 8 |
 * IR_ROTPEND kind << 16). With a kind (the access lies between an IR_ROTPEND and the flag
 * update replacing its flags) the lazy flags become the rotate's first, before the access can
 * fault: SF, ZF, AF, PF of the flags before it, CF and OF of its result cpu->rot_val, as the
 * interpreter's ROL (kind 1) or ROR (kind 2) leaves them. */
static unsigned slow_size(CPUState *cpu, uint32_t seg_size)
{
    uint32_t kind = seg_size >> 16;
    if (kind) {
        uint32_t f = cpu_cc_compute(cpu) & (EF_SF | EF_ZF | EF_AF | EF_PF);
        cpu->cc_src = f | interp_rot_cf_of(cpu->rot_val, 0x80000000u, kind == 1);
        cpu->cc_dst = cpu->rot_val;
        cpu->cc_op = CC_OP_RAW;
    }
    return (seg_size >> 8) & 0xFF;
}

uint32_t jit_helper_ld(CPUState *cpu, uint32_t seg_size, uint32_t off)
{
    return interp_ld(cpu, (int)(seg_size & 0xFF), off, slow_size(cpu, seg_size));
}

uint32_t jit_helper_ld_rmw(CPUState *cpu, uint32_t seg_size, uint32_t off)
{
    return interp_ld_rmw(cpu, (int)(seg_size & 0xFF), off, slow_size(cpu, seg_size));
}

void jit_helper_st(CPUState *cpu, uint32_t seg_size, uint32_t off, uint32_t val)
{
    interp_st(cpu, (int)(seg_size & 0xFF), off, val, slow_size(cpu, seg_size));
}

void jit_helper_gp0(CPUState *cpu)
{
    cpu_raise_gp(cpu, 0);
}

void jit_helper_de(CPUState *cpu)
{
    cpu_raise_exception(cpu, EXC_DE, false, 0);
}

/* Fast-path misses of gen_lookup_fast: jumps to the C lookup, patched once it is emitted. */
typedef struct MissList {
    size_t field[24];
    unsigned n;
} MissList;

static void miss_on(X64Emit *e, MissList *m, int cc)
{
    size_t f = x64_jcc_rel32(e, cc);
    if (m->n < sizeof(m->field) / sizeof(m->field[0])) {
        m->field[m->n++] = f;
    } else {
        e->overflow = true;
    }
}

/* or eax, bit when the dword at [rbx + disp] has one of mask's bits set. */
static void flag_bit(X64Emit *e, int32_t disp, uint32_t mask, int32_t bit)
{
    x64_test_mi(e, 4, X_RBX, disp, mask);
    size_t skip = x64_jcc_rel32(e, XC_E);
    x64_alu_ri(e, 4, XA_OR, X_RAX, bit);
    x64_patch_rel32(e->buf, skip, e->pos);
}

/* flat_bit: or eax, TBF_FLAT when ES, SS and DS are flat (tb_flat_segs in jit.c); eax holds
 * the mode bits computed so far (TBF_PE and TBF_VM among them). Clobbers ecx. */
static void flat_bit(X64Emit *e)
{
    size_t miss[4];
    /* base: all three zero. */
    x64_load(e, 4, X_RCX, X_RBX, OFF(seg[S_ES].base));
    x64_alu_rm(e, 4, XA_OR, X_RCX, X_RBX, OFF(seg[S_SS].base));
    x64_alu_rm(e, 4, XA_OR, X_RCX, X_RBX, OFF(seg[S_DS].base));
    miss[0] = x64_jcc_rel32(e, XC_NE);
    /* limit: all three FFFFFFFFh. */
    x64_load(e, 4, X_RCX, X_RBX, OFF(seg[S_ES].limit));
    x64_alu_rm(e, 4, XA_AND, X_RCX, X_RBX, OFF(seg[S_SS].limit));
    x64_alu_rm(e, 4, XA_AND, X_RCX, X_RBX, OFF(seg[S_DS].limit));
    x64_alu_ri(e, 4, XA_CMP, X_RCX, -1);
    miss[1] = x64_jcc_rel32(e, XC_NE);
    /* In protected mode outside V86 the types: P, S and W set in all three (their and), code
     * and expand-down clear in all three (their or). */
    x64_mov_rr(e, 4, X_RCX, X_RAX);
    x64_alu_ri(e, 4, XA_AND, X_RCX, TBF_PE | TBF_VM);
    x64_alu_ri(e, 4, XA_CMP, X_RCX, TBF_PE);
    size_t real = x64_jcc_rel32(e, XC_NE);
    x64_load(e, 2, X_RCX, X_RBX, OFF(seg[S_ES].flags));
    x64_alu_rm(e, 2, XA_AND, X_RCX, X_RBX, OFF(seg[S_SS].flags));
    x64_alu_rm(e, 2, XA_AND, X_RCX, X_RBX, OFF(seg[S_DS].flags));
    x64_alu_ri(e, 4, XA_AND, X_RCX, (int32_t)TBF_FLAT_WANT);
    x64_alu_ri(e, 4, XA_CMP, X_RCX, (int32_t)TBF_FLAT_WANT);
    miss[2] = x64_jcc_rel32(e, XC_NE);
    x64_load(e, 2, X_RCX, X_RBX, OFF(seg[S_ES].flags));
    x64_alu_rm(e, 2, XA_OR, X_RCX, X_RBX, OFF(seg[S_SS].flags));
    x64_alu_rm(e, 2, XA_OR, X_RCX, X_RBX, OFF(seg[S_DS].flags));
    x64_alu_ri(e, 4, XA_AND, X_RCX, (int32_t)(TBF_FLAT_MASK & ~TBF_FLAT_WANT));
    miss[3] = x64_jcc_rel32(e, XC_NE);
    if (!e->overflow) {
        x64_patch_rel32(e->buf, real, e->pos);
    }
    x64_alu_ri(e, 4, XA_OR, X_RAX, TBF_FLAT);
    for (unsigned k = 0; k < 4 && !e->overflow; k++) {
        x64_patch_rel32(e->buf, miss[k], e->pos);
    }
}

#define TLBOFF(f) ((int32_t)(offsetof(CPUState, tlb) + offsetof(TLBEntry, f)))
#define JCOFF(f) ((int32_t)offsetof(JitJcEntry, f))
_Static_assert(offsetof(CPUState, tlb_user) - offsetof(CPUState, tlb) < 0x7FFFFFFF,
               "tlb_user is reached from tlb with an imm32");

/* gen_lookup_fast: the jump-cache hit path of jit_helper_lookup / tb_lookup in host code,
 * making every check they make (falls through to the C call when any fails):
 *   no pending_db, no TF/RF, DR7 & 0xFF == 0, mem->generation == mem_generation (in the
 *   unknown-mode entry only, see below); the code TLB entry of CS.base + EIP (tlb_user at
 *   CPL 3) tags the page, EIP <= CS.limit; the jc slot jc_hash(lin) holds the same EIP,
 *   CS base and limit, host source (addend + lin), physical PC (paddr | offset) and mode
 *   bits (tb_mode_flags). exit_word and the instruction budget are left to the target
 *   block's entry checks, which leave to the C loop as jit_helper_lookup would. It counts the hit
 *   (jc_hits, lookup_hits) and jumps to the block. Not used in lockstep mode. */
static void gen_lookup_fast(X64Emit *e, bool known_mode)
{
    MissList m = { .n = 0 };
    /* exit_word and the instruction budget are the target block's entry checks, as after a
     * chained jump: they need no test here. Nor, with the mode known (straight-line code
     * since the block was entered), do TF/RF, DR7, a pending #DB and the memory map
     * generation: generated code runs only while they are clear / current, and whatever
     * changes them is a helper or a slow path followed by stop_checks, which leave the block
     * (a pending #DB needs DR7). */
    if (!known_mode) {
        x64_alu_mi(e, 4, XA_CMP, X_RBX, OFF(pending_db), 0);
        miss_on(e, &m, XC_NE);
        x64_test_mi(e, 4, X_RBX, OFF(eflags), EF_TF | EF_RF);
        miss_on(e, &m, XC_NE);
        x64_test_mi(e, 4, X_RBX, OFF(dr[7]), 0xFF);
        miss_on(e, &m, XC_NE);
        x64_load(e, 8, X_RAX, X_RBX, OFF(mem));
        x64_load(e, 4, X_RAX, X_RAX, (int32_t)offsetof(MemMap, generation));
        x64_alu_rm(e, 4, XA_CMP, X_RAX, X_RBX, OFF(mem_generation));
        miss_on(e, &m, XC_NE);
    }
    /* ecx = EIP, edx = linear PC; EIP within the CS limit. */
    x64_load(e, 4, X_RCX, X_RBX, OFF(eip));
    x64_alu_rm(e, 4, XA_CMP, X_RCX, X_RBX, OFF(seg[S_CS].limit));
    miss_on(e, &m, XC_A);
    x64_load(e, 4, X_RDX, X_RBX, OFF(seg[S_CS].base));
    x64_alu_rr(e, 4, XA_ADD, X_RDX, X_RCX);
    /* rdi = cpu + 32 * TLB index (+ the tlb_user offset at CPL 3); the tag must match. */
    x64_mov_rr(e, 4, X_RDI, X_RDX);
    x64_shift_ri(e, 4, 5, X_RDI, 12); /* shr */
    x64_alu_ri(e, 4, XA_AND, X_RDI, TLB_SIZE - 1);
    x64_shift_ri(e, 8, 4, X_RDI, 5);  /* shl: 32-byte entries */
    x64_alu_rr(e, 8, XA_ADD, X_RDI, X_RBX);
    x64_alu_mi(e, 4, XA_CMP, X_RBX, OFF(cpl), 3);
    size_t sup = x64_jcc_rel32(e, XC_NE);
    x64_alu_ri(e, 8, XA_ADD, X_RDI, (int32_t)(offsetof(CPUState, tlb_user) -
                                               offsetof(CPUState, tlb)));
    x64_patch_rel32(e->buf, sup, e->pos);
    x64_mov_rr(e, 4, X_RAX, X_RDX);
    x64_alu_ri(e, 4, XA_AND, X_RAX, (int32_t)~0xFFFu);
    x64_alu_rm(e, 4, XA_CMP, X_RAX, X_RDI, TLBOFF(tag_code));
    miss_on(e, &m, XC_NE);
    /* rsi = the jump-cache slot jc_hash(lin). */
    x64_mov_rr(e, 4, X_RSI, X_RDX);
    x64_shift_ri(e, 4, 5, X_RSI, TB_JC_BITS);
    x64_alu_rr(e, 4, XA_XOR, X_RSI, X_RDX);
    x64_alu_ri(e, 4, XA_AND, X_RSI, (1 << TB_JC_BITS) - 1);
    x64_shift_ri(e, 8, 4, X_RSI, 6); /* shl: 64-byte slots */
    x64_alu_rr(e, 8, XA_ADD, X_RSI, X_R12);
    x64_alu_ri(e, 8, XA_ADD, X_RSI, JOFF(jc));
    x64_alu_rm(e, 4, XA_CMP, X_RCX, X_RSI, JCOFF(eip));
    miss_on(e, &m, XC_NE);
    x64_load(e, 4, X_RAX, X_RBX, OFF(seg[S_CS].base));
    x64_alu_rm(e, 4, XA_CMP, X_RAX, X_RSI, JCOFF(cs_base));
    miss_on(e, &m, XC_NE);
    x64_load(e, 4, X_RAX, X_RBX, OFF(seg[S_CS].limit));
    x64_alu_rm(e, 4, XA_CMP, X_RAX, X_RSI, JCOFF(cs_limit));
    miss_on(e, &m, XC_NE);
    /* host source: addend + lin (edx is zero-extended). */
    x64_load(e, 8, X_RAX, X_RDI, TLBOFF(addend));
    x64_alu_rr(e, 8, XA_ADD, X_RAX, X_RDX);
    x64_alu_rm(e, 8, XA_CMP, X_RAX, X_RSI, JCOFF(host_src));
    miss_on(e, &m, XC_NE);
    /* physical PC: paddr | page offset. */
    x64_mov_rr(e, 4, X_RAX, X_RDX);
    x64_alu_ri(e, 4, XA_AND, X_RAX, 0xFFF);
    x64_alu_rm(e, 4, XA_OR, X_RAX, X_RDI, TLBOFF(paddr));
    x64_alu_rm(e, 4, XA_CMP, X_RAX, X_RSI, JCOFF(phys));
    miss_on(e, &m, XC_NE);
    if (known_mode) {
        /* The exiting block's own mode bits (r8d): straight-line code cannot change them. */
        x64_load(e, 2, X_RCX, X_RSI, JCOFF(flags));
        x64_alu_rr(e, 4, XA_CMP, X_RCX, X_R8);
        miss_on(e, &m, XC_NE);
        goto hit;
    }
    /* mode bits, as tb_mode_flags. */
    x64_load(e, 4, X_RAX, X_RBX, OFF(cpl));
    x64_alu_ri(e, 4, XA_AND, X_RAX, 3);
    x64_shift_ri(e, 4, 4, X_RAX, TBF_CPL_SHIFT);
    flag_bit(e, OFF(seg[S_CS].flags), SEGF_DB, TBF_CODE32);
    flag_bit(e, OFF(seg[S_SS].flags), SEGF_DB, TBF_STACK32);
    flag_bit(e, OFF(cr0), CR0_PE, TBF_PE);
    flag_bit(e, OFF(eflags), EF_VM, TBF_VM);
    flag_bit(e, OFF(cr0), CR0_PG, TBF_PG);
    flat_bit(e);
    /* TBF_AC: EFLAGS.AC, CR0.AM and CPL 3 (eax holds CPL << TBF_CPL_SHIFT by now). */
    x64_test_mi(e, 4, X_RBX, OFF(eflags), EF_AC);
    size_t no_ac = x64_jcc_rel32(e, XC_E);
    x64_test_mi(e, 4, X_RBX, OFF(cr0), CR0_AM);
    size_t no_am = x64_jcc_rel32(e, XC_E);
    x64_mov_rr(e, 4, X_RCX, X_RAX);
    x64_alu_ri(e, 4, XA_AND, X_RCX, 3 << TBF_CPL_SHIFT);
    x64_alu_ri(e, 4, XA_CMP, X_RCX, 3 << TBF_CPL_SHIFT);
    size_t not_user = x64_jcc_rel32(e, XC_NE);
    x64_alu_ri(e, 4, XA_OR, X_RAX, TBF_AC);
    if (!e->overflow) {
        x64_patch_rel32(e->buf, no_ac, e->pos);
        x64_patch_rel32(e->buf, no_am, e->pos);
        x64_patch_rel32(e->buf, not_user, e->pos);
    }
    x64_load(e, 2, X_RCX, X_RSI, JCOFF(flags));
    x64_alu_rr(e, 4, XA_CMP, X_RAX, X_RCX);
    miss_on(e, &m, XC_NE);
hit:
    x64_alu_mi(e, 8, XA_ADD, X_R12, JOFF(stats.jc_hits), 1);
    x64_alu_mi(e, 8, XA_ADD, X_R12, JOFF(stats.lookup_hits), 1);
    x64_load(e, 8, X_RAX, X_RSI, JCOFF(code));
    if (known_mode) {
        x64_ret(e); /* to the exit site's own jmp *rax */
    } else {
        x64_jmp_r(e, X_RAX);
    }
    for (unsigned k = 0; k < m.n && !e->overflow; k++) {
        x64_patch_rel32(e->buf, m.field[k], e->pos);
    }
    if (known_mode) {
        x64_alu_ri(e, 8, XA_ADD, X_RSP, 8); /* a miss goes on without returning */
    }
}

void jit_gen_trampolines(JitState *j)
{
    CodeBuf *cb = &j->cb;
    X64Emit e;
    codebuf_begin_write(cb);
    x64_init(&e, cb->rw, cb->rx, 0, cb->cold_start);
    /* enter(cpu, j, code): save the callee-saved registers; below them the sentinel marker
     * (0, which no guest RET matches) over a return-address slot; note rsp, the bottom of
     * the host calls that guest calls become (gen_call_tb) and the floor they may reach. */
    x64_push(&e, X_RBP);
    x64_push(&e, X_RBX);
    x64_push(&e, X_R12);
    x64_push(&e, X_R13);
    x64_push(&e, X_R14);
    x64_push(&e, X_R15);
    x64_alu_ri(&e, 8, XA_SUB, X_RSP, 8 * ENTER_STACK_WORDS);
    x64_store_imm(&e, 8, X_RSP, 8, 0);
    x64_mov_rr(&e, 8, X_RBX, X_RDI);
    x64_mov_rr(&e, 8, X_R12, X_RSI);
    x64_store(&e, 8, X_R12, JOFF(host_sp), X_RSP);
    x64_lea(&e, X_RAX, X_RSP, -(int32_t)HOST_CALL_DEPTH_BYTES);
    x64_store(&e, 8, X_R12, JOFF(call_floor), X_RAX);
    x64_jmp_r(&e, X_RDX);
    /* lookup: the next block through the jump-cache probe, else jit_helper_lookup (eip and
     * icount are up to date); jump to it, or leave to the C loop with rax = 0. */
    while (e.pos & 15) {
        x64_byte(&e, 0xCC);
    }
    /* lookup_known is called (see call_lookup_known): a hit returns the block in rax, a miss
     * drops the return address and goes on to the C lookup. */
    j->lookup_known_off = e.pos;
    if (!j->opt.verify) {
        gen_lookup_fast(&e, true);
    } else {
        x64_alu_ri(&e, 8, XA_ADD, X_RSP, 8); /* lockstep: every lookup goes to C */
    }
    size_t to_c = x64_jmp_rel32(&e);
    while (e.pos & 15) {
        x64_byte(&e, 0xCC);
    }
    j->lookup_off = e.pos;
    if (!j->opt.verify) {
        gen_lookup_fast(&e, false);
    }
    x64_patch_rel32(e.buf, to_c, e.pos);
    x64_mov_rr(&e, 8, X_RDI, X_RBX);
    x64_mov_ri64(&e, X_RAX, (uint64_t)(uintptr_t)jit_helper_lookup);
    x64_call_r(&e, X_RAX);
    x64_test_rr(&e, 8, X_RAX, X_RAX);
    size_t none = x64_jcc_rel32(&e, XC_E);
    x64_jmp_r(&e, X_RAX);
    x64_patch_rel32(e.buf, none, e.pos);
    x64_alu_rr(&e, 4, XA_XOR, X_RAX, X_RAX);
    /* epilogue (right after the lookup's miss path): rax holds the exit value. */
    j->epilogue_off = e.pos;
    x64_load(&e, 8, X_RSP, X_R12, JOFF(host_sp)); /* drops any host calls' frames */
    x64_alu_ri(&e, 8, XA_ADD, X_RSP, 8 * ENTER_STACK_WORDS);
    x64_pop(&e, X_R15);
    x64_pop(&e, X_R14);
    x64_pop(&e, X_R13);
    x64_pop(&e, X_R12);
    x64_pop(&e, X_RBX);
    x64_pop(&e, X_RBP);
    x64_ret(&e);
    while (e.pos & 63) {
        x64_byte(&e, 0xCC);
    }
    codebuf_end_write(cb);
    j->tramp_size = e.pos;
    cb->used = e.pos;
    j->enter = (uintptr_t(*)(CPUState *, JitState *, const void *))(uintptr_t)cb->rx;
}

/* Exit stubs are emitted after the block body: each writes back the guest registers dirty
 * in host registers at its exit (wb_r[k] from wb_h[k]) and adds its retired-instruction
 * count. */
typedef struct ExitStub {
    size_t field;
    unsigned pending;
    bool entry;                   /* an entry check's: EIP = the block's (a chained jump into
                                     the block does not set it) */
    bool eip_rax;                 /* EIP = eax (an inlined callee's RET that popped another
                                     address than its call pushed) */
    uint8_t nwb;
    int8_t wb_r[8], wb_h[8];
} ExitStub;

/* The guest-register cache: host registers that hold guest registers inside a block (seven
 * since session 6: r15 and rbp were temp homes). A helper call is where the cache is written
 * back and forgotten anyway (a helper may change any guest register), so that five of them
 * are caller-saved costs nothing; the soft-MMU slow paths write the dirty ones back before
 * their call and load every cached one again after it. rdi doubles as the first argument of
 * those calls. */
static const int8_t gc_pool[] = {X_R8, X_R9, X_R10, X_R11, X_RDI, X_R15, X_RBP};
#define GC_N ((int)sizeof(gc_pool))
#define GC_FAR (1 << 20)

/* FlagLocs: where the operands of a deferred IR_SETCC (jit_opt_defer_flags) are at a point
 * that may need the lazy flags in the CPUState (a slow path, a side exit): each a constant,
 * a host register or the temp's frame slot. */
typedef struct FlagSrc {
    bool known;
    uint32_t k;
    int8_t reg;                   /* host register, or -1: frame slot of temp */
    int8_t temp;
} FlagSrc;
typedef struct FlagLocs {
    bool on;
    uint32_t op;                  /* cc_op */
    FlagSrc v[3];                 /* cc_dst, cc_src, cc_src2 */
} FlagLocs;

/* ColdPath: a soft-MMU slow path, emitted after the block body so that the fast paths stay
 * dense and fall through; it holds what the backend knew at the access. */
typedef struct ColdPath {
    size_t jumps[8];              /* fast-path jcc fields that lead here */
    uint8_t nj;
    size_t done;                  /* where the fast path goes on */
    bool store, rmw;
    uint8_t size, seg;
    int8_t dst, val;              /* the load's temp; the store's value temp */
    int8_t val_reg;               /* the host register holding the value then, or -1 */
    bool val_known;
    uint32_t val_k;
    bool sync_lazy;
    uint32_t sync_eip, sync_next;
    unsigned pending;
    int8_t gc_host[8];            /* the guest-register cache at the access */
    uint8_t gc_dirty;             /* bit r: guest register r dirty */
    int8_t rsi_group;             /* the page group whose host address rsi held, or -1: it
                                     holds it again when the slow path returns */
    const void *helper;           /* not NULL: the slow path is helper(cpu, helper_arg), the
                                     whole instruction (IR_X87) */
    const void *helper_arg;
    bool x87_dst;                 /* then dst = AX as the helper left it (FNSTSW AX) */
    FlagLocs dfl;                 /* the deferred lazy flags to store first */
    uint8_t rot_kind;             /* an IR_ROTPEND's flags to make then (its sub), or 0 */
} ColdPath;
#define MAX_COLD 1024

typedef struct Backend {
    X64Emit e;
    unsigned ncold;
    JitState *j;
    TranslationBlock *tb;         /* the block being emitted */
    unsigned pending;
    unsigned nstubs;
    int rax_temp;                 /* the temp whose value rax holds, or -1 */
    bool *dead;                   /* per IR op: a SETCC whose flags nothing can observe */
    bool *lazy;                   /* per IR op: an IR_SYNC done in the slow paths only */
    bool sync_lazy;               /* the current instruction's sync is deferred: */
    uint32_t sync_eip, sync_next; /* what it would write */
    bool eip_stale;               /* cpu->eip not yet set to sync_next */
    int64_t cc_op_known;          /* the value cpu->cc_op holds, or -1 */
    bool known[IR_MAX_TEMPS];     /* the temp holds a constant from IR_MOVI (kval) */
    bool unmat[IR_MAX_TEMPS];     /* ... not written to its home yet (IR_MOVI emits nothing:
                                     most constants end up as immediates) */
    uint32_t kval[IR_MAX_TEMPS];
    size_t label_pos[IR_MAX_LABELS];
    size_t label_fix[IR_MAX_LABELS][4];
    unsigned nfix[IR_MAX_LABELS];
    bool overflow;
    /* Guest-register cache (see gc_pool): the host register of guest register r or -1,
     * whether it differs from CPUState.regs[r], and the guest register of each pool slot. */
    int8_t gc_host[8];
    bool gc_dirty[8];
    int8_t gc_owner[GC_N];
    uint8_t gc_pin;               /* guest registers (bit r) gc_get must not evict */
    /* alias[t]: temp t holds guest register alias[t]'s current value, which lives in that
     * register's host register (an IR_LDREG copies nothing), or -1. */
    int8_t alias[IR_MAX_TEMPS];
    int8_t treg[IR_MAX_TEMPS];    /* temp t's home register, or -1: its frame slot */
    const IRBlock *ir;
    unsigned k;                   /* the IR op being translated */
    unsigned skip_k;              /* an op gen_alu_inplace did already (its STREG), or ~0 */
    unsigned skip_load_k;         /* the STREG gen_group_load_reg did already, or ~0 */
    bool in_entry;                /* emitting the block's entry checks (see ExitStub.entry) */
    int inplace_alias;            /* the guest register the in-place op's result is in, or -1 */
    bool *rax_only;               /* per op: its result is read only by the next op, from rax */
    uint64_t *live;               /* live_compute's sets */
    bool unreachable;             /* after an unconditional exit, until the next label */
    int8_t label_map[IR_MAX_LABELS][8]; /* the cache (all clean) every branch to a label has */
    bool label_seen[IR_MAX_LABELS];
    int rsi_group;                /* the page group whose host address rsi holds, or -1 */
    uint8_t label_dirty[IR_MAX_LABELS]; /* a side exit's label: the registers (bit r) dirty at
                                     its branch, written back by its exit */
    int8_t label_rsi[IR_MAX_LABELS]; /* a side exit's label: rsi_group at its branch */
    unsigned label_pending[IR_MAX_LABELS]; /* retired instructions not yet counted where the
                                     branches to a label are (a side exit's, reached only
                                     from its Jcc further up) */
    unsigned ncold_at_sync;       /* slow paths emitted before the current deferred sync */
    /* A block whose exits back to its own start loop inside it (loop_plan): the guest
     * registers the loop head keeps cached (hdr_host: the host register, or -1; hdr_dirty
     * bit r: counted dirty there, as the block writes r) and where the head is. */
    /* Deferred lazy flags: the IR_SETCC whose stores wait (its index, or -1), per op
     * whether its SETCC is deferred, and per side-exit label the flags its exit stores. */
    int dfl_k;
    bool *defer;
    uint8_t rot_kind;             /* the IR_ROTPEND whose flags the slow paths make (its sub,
                                     up to op rot_end), or 0 */
    unsigned rot_end;
    FlagLocs label_dfl[IR_MAX_LABELS];
    bool loop;
    int8_t hdr_host[8];
    uint8_t hdr_dirty;
    size_t loop_top;
    /* The big arrays last: a translation clears only what comes before them. */
    ExitStub stubs[IR_MAX_INSNS / 2];
    ColdPath cold[MAX_COLD];
} Backend;

static void exit_on(Backend *b, int cc)
{
    if (b->nstubs >= sizeof(b->stubs) / sizeof(b->stubs[0])) {
        b->overflow = true;
        return;
    }
    ExitStub *st = &b->stubs[b->nstubs];
    st->field = x64_jcc_rel32(&b->e, cc);
    st->pending = b->pending;
    st->entry = b->in_entry;
    st->eip_rax = false;
    st->nwb = 0;
    for (int r = 0; r < 8; r++) {
        if (b->gc_host[r] >= 0 && b->gc_dirty[r]) {
            st->wb_r[st->nwb] = (int8_t)r;
            st->wb_h[st->nwb] = b->gc_host[r];
            st->nwb++;
        }
    }
    b->nstubs++;
}

static bool stub_same(const ExitStub *a, const ExitStub *c)
{
    if (a->pending != c->pending || a->nwb != c->nwb || a->entry != c->entry ||
        a->eip_rax != c->eip_rax) {
        return false;
    }
    for (unsigned k = 0; k < a->nwb; k++) {
        if (a->wb_r[k] != c->wb_r[k] || a->wb_h[k] != c->wb_h[k]) {
            return false;
        }
    }
    return true;
}

/* ---- guest-register cache ---- */

static void dfl_capture(const Backend *b, FlagLocs *out);
static void dfl_emit(X64Emit *e, const FlagLocs *fl);
static void gen_back_edge(Backend *b);
static void alias_break(Backend *b, int g);

static void gc_store(Backend *b, int r)
{
    x64_store(&b->e, 4, X_RBX, OFF(regs) + 4 * r, b->gc_host[r]);
}

/* gc_writeback: store every dirty cached register; they stay cached, now clean. */
static void gc_writeback(Backend *b)
{
    for (int r = 0; r < 8; r++) {
        if (b->gc_host[r] >= 0 && b->gc_dirty[r]) {
            gc_store(b, r);
            b->gc_dirty[r] = false;
        }
    }
}

/* gc_spill: store every dirty cached register on a path that leaves the others' state as it
 * is (a slow path or a fault: the fast path still counts them dirty). */
static void gc_spill(Backend *b)
{
    for (int r = 0; r < 8; r++) {
        if (b->gc_host[r] >= 0 && b->gc_dirty[r]) {
            gc_store(b, r);
        }
    }
}

static void gc_forget(Backend *b)
{
    memset(b->alias, -1, sizeof(b->alias));
    for (int r = 0; r < 8; r++) {
        b->gc_host[r] = -1;
        b->gc_dirty[r] = false;
    }
    for (int s = 0; s < GC_N; s++) {
        b->gc_owner[s] = -1;
    }
}

/* guest_reg_of: the 32-bit guest register an IR_LDREG/IR_STREG touches. */
static int guest_reg_of(const IRInsn *i)
{
    return i->size == 1 && i->a >= 4 ? i->a - 4 : i->a;
}

/* gc_next_use: how far after the current op guest register r is next read or written
 * (GC_FAR: not before a helper call or a label, where the cache is written back anyway). */
static int gc_next_use(const Backend *b, int r)
{
    for (unsigned p = b->k + 1; p < b->ir->n; p++) {
        const IRInsn *i = &b->ir->insn[p];
        if ((i->opc == IR_LDREG || i->opc == IR_STREG) && guest_reg_of(i) == r) {
            return (int)(p - b->k);
        }
        if (i->opc == IR_CALL || i->opc == IR_LABEL) {
            break;
        }
    }
    return GC_FAR;
}

/* gc_get: the host register holding guest register r (0..7), allocated if needed (evicting
 * the cached register used furthest ahead, a clean one on a tie) and loaded from the
 * CPUState when load. */
static int gc_get(Backend *b, int r, bool load)
{
    if (b->gc_host[r] >= 0) {
        return b->gc_host[r];
    }
    int slot = -1;
    for (int s = 0; s < GC_N && slot < 0; s++) {
        if (b->gc_owner[s] < 0) {
            slot = s;
        }
    }
    if (slot < 0) {
        int best = -1;
        for (int s = 0; s < GC_N; s++) {
            int o = b->gc_owner[s];
            if ((b->gc_pin >> o) & 1) {
                continue;
            }
            int score = gc_next_use(b, o) * 2 + (b->gc_dirty[o] ? 0 : 1);
            if (score > best) {
                best = score;
                slot = s;
            }
        }
        int o = b->gc_owner[slot];
        alias_break(b, o);
        if (b->gc_dirty[o]) {
            gc_store(b, o);
        }
        b->gc_host[o] = -1;
        b->gc_dirty[o] = false;
    }
    int h = gc_pool[slot];
    b->gc_owner[slot] = (int8_t)r;
    b->gc_host[r] = (int8_t)h;
    b->gc_dirty[r] = false;
    if (load) {
        x64_load(&b->e, 4, h, X_RBX, OFF(regs) + 4 * r);
    }
    return h;
}

/* gc_branch: a branch to label l: the cache is written back, and the label's incoming state
 * keeps only what every branch to it has in the same host register. */
static void gc_branch(Backend *b, unsigned l, bool side)
{
    if (side && l < IR_MAX_LABELS && !b->label_seen[l]) {
        /* A side exit's label, reached from this branch only and going straight to a chain
         * slot: the dirty registers are written back there, not on the fall-through. */
        memcpy(b->label_map[l], b->gc_host, sizeof(b->gc_host));
        b->label_dirty[l] = 0;
        for (int r = 0; r < 8; r++) {
            if (b->gc_host[r] >= 0 && b->gc_dirty[r]) {
                b->label_dirty[l] |= (uint8_t)(1u << r);
            }
        }
        b->label_seen[l] = true;
        b->label_pending[l] = b->pending;
        b->label_rsi[l] = (int8_t)b->rsi_group;
        dfl_capture(b, &b->label_dfl[l]);
        return;
    }
    gc_writeback(b);
    if (l >= IR_MAX_LABELS) {
        return;
    }
    b->label_pending[l] = b->pending;
    if (!b->label_seen[l]) {
        memcpy(b->label_map[l], b->gc_host, sizeof(b->gc_host));
        b->label_seen[l] = true;
        return;
    }
    for (int r = 0; r < 8; r++) {
        if (b->label_map[l][r] != b->gc_host[r]) {
            b->label_map[l][r] = -1;
        }
    }
}

/* gc_label: the cache where paths join at label l: what the branches and the fall-through
 * (if it reaches the label) hold alike; the fall-through writes back what it drops. */
static void gc_label(Backend *b, unsigned l)
{
    bool seen = l < IR_MAX_LABELS && b->label_seen[l];
    if (b->unreachable) {
        if (seen) {
            b->pending = b->label_pending[l];
        }
        gc_forget(b);
        if (seen) {
            for (int r = 0; r < 8; r++) {
                int h = b->label_map[l][r];
                if (h >= 0) {
                    b->gc_host[r] = (int8_t)h;
                    b->gc_dirty[r] = (b->label_dirty[l] >> r) & 1;
                    for (int s = 0; s < GC_N; s++) {
                        if (gc_pool[s] == h) {
                            b->gc_owner[s] = (int8_t)r;
                        }
                    }
                }
            }
        }
        b->unreachable = false;
        return;
    }
    if (!seen) {
        return;
    }
    for (int r = 0; r < 8; r++) {
        int h = b->gc_host[r];
        if (h < 0 || b->label_map[l][r] == h) {
            continue;
        }
        alias_break(b, r);
        if (b->gc_dirty[r]) {
            gc_store(b, r);
        }
        for (int s = 0; s < GC_N; s++) {
            if (gc_pool[s] == h) {
                b->gc_owner[s] = -1;
            }
        }
        b->gc_host[r] = -1;
        b->gc_dirty[r] = false;
    }
}

static void flush_icount(Backend *b, unsigned n)
{
    if (n) {
        x64_alu_mi(&b->e, 8, XA_ADD, X_RBX, OFF(icount), (int32_t)n);
    }
}

static void jmp_epilogue(Backend *b)
{
    size_t f = x64_jmp_rel32(&b->e);
    if (!b->e.overflow) {
        x64_patch_rel32(b->e.buf, f, b->j->epilogue_off);
    }
}

/* stop_checks: after a helper inside a block, jump to an exit stub if the C loop has work to
 * do before the next instruction (the same conditions as run_fast in core/cpu_exec.c: INTR
 * only with IF set). */
static void stop_checks(Backend *b)
{
    X64Emit *e = &b->e;
    x64_load(e, 8, X_RAX, X_RBX, OFF(exit_word));
    x64_alu_ri(e, 8, XA_AND, X_RAX, EXIT_NO_INTR);
    exit_on(b, XC_NE);
    x64_test_mi(e, 1, X_RBX, OFF(intr_pending), 0xFF);
    size_t no_intr = x64_jcc_rel32(e, XC_E);
    x64_test_mi(e, 4, X_RBX, OFF(eflags), EF_IF);
    exit_on(b, XC_NE);
    if (!e->overflow) {
        x64_patch_rel32(e->buf, no_intr, e->pos);
    }
    x64_load(e, 8, X_RAX, X_RBX, OFF(mem));
    x64_load(e, 4, X_RAX, X_RAX, (int32_t)offsetof(MemMap, generation));
    x64_alu_rm(e, 4, XA_CMP, X_RAX, X_RBX, OFF(mem_generation));
    exit_on(b, XC_NE);
    x64_test_mi(e, 4, X_RBX, OFF(eflags), EF_TF | EF_RF);
    exit_on(b, XC_NE);
    x64_test_mi(e, 1, X_RBX, OFF(dr[7]), 0xFF);
    exit_on(b, XC_NE);
}

/* call_lookup_known: the known-mode probe (mode bits in r8d) as a call returning the target
 * block in rax, then this site's own indirect jump: each exit's jump is predicted on its own
 * targets instead of all exits sharing one. A miss does not return (the probe drops the
 * return address and goes on to the C lookup). */
static void call_lookup_known(Backend *b)
{
    size_t f = x64_call_rel32(&b->e);
    if (!b->e.overflow) {
        x64_patch_rel32(b->e.buf, f, b->j->lookup_known_off);
    }
    x64_jmp_r(&b->e, X_RAX);
}

/* code_tlb_check: the compares of a cross-page link's check (gen_slot_stubs, IR_CODECHK):
 * the code TLB entry of linear page `page` (the block's CPL array) tags that page and holds
 * physical page phys and host addend `addend`; each mismatch is a jne whose rel32 field goes
 * to miss[0..2]; fields[0..1] get where the two immediates are (for patching). Clobbers rax. */
static void code_tlb_check(Backend *b, uint32_t page, uint32_t phys, uint64_t addend,
                           size_t miss[3], size_t fields[2])
{
    X64Emit *e = &b->e;
    int32_t ent = (int32_t)(offsetof(CPUState, tlb) +
                            sizeof(TLBEntry) * ((page >> 12) & (TLB_SIZE - 1)));
    if (((b->tb->flags >> TBF_CPL_SHIFT) & 3) == 3) {
        ent += (int32_t)(offsetof(CPUState, tlb_user) - offsetof(CPUState, tlb));
    }
    x64_alu_mi(e, 4, XA_CMP, X_RBX, ent + (int32_t)offsetof(TLBEntry, tag_code),
               (int32_t)page);
    miss[0] = x64_jcc_rel32(e, XC_NE);
    x64_alu_mi(e, 4, XA_CMP, X_RBX, ent + (int32_t)offsetof(TLBEntry, paddr), (int32_t)phys);
    fields[0] = e->pos - 4;
    miss[1] = x64_jcc_rel32(e, XC_NE);
    x64_mov_ri64(e, X_RAX, addend);
    fields[1] = e->pos - 8;
    x64_alu_rm(e, 8, XA_CMP, X_RAX, X_RBX, ent + (int32_t)offsetof(TLBEntry, addend));
    miss[2] = x64_jcc_rel32(e, XC_NE);
}

/* gen_slot_stubs: what a chain slot of the current block can be patched to besides a block
 * of the same page (see tb_chain in jit.c).
 *   jmp_xlink (only when the target eip lies on another linear page than the block's start):
 *     a cross-page link. The target's linear page and its TLB entry (the CPL's array) are
 *     known here; tb_chain patches in the physical page, the host addend and the block the
 *     link was made for. While that TLB entry still maps the page the same way, the jump goes
 *     straight to the block: the same conditions as a chained jump within a page (everything
 *     else is the target block's entry checks), without the jump-cache probe.
 *     force_xlink: on the same page too (a host call's return, see gen_call_tb).
 *   jmp_stub: the known-mode probe (call_lookup_known), where a failed check lands too. */
static void gen_slot_stubs(Backend *b, int slot, uint32_t target_eip, bool force_xlink)
{
    X64Emit *e = &b->e;
    TranslationBlock *tb = b->tb;
    uint32_t lin = tb->cs_base + target_eip;
    uint32_t page = lin & ~0xFFFu;
    tb->jmp_xlink[slot] = TB_NO_SLOT;
    size_t misses[3];
    unsigned nmiss = 0;
    size_t xs = e->pos;
    if ((force_xlink || page != ((tb->cs_base + tb->eip) & ~0xFFFu)) && page != 0) {
        /* Placeholders of the widest encodings: tb_chain patches the physical page (an
         * imm32) and the host addend (an imm64). */
        size_t f[2];
        code_tlb_check(b, page, 0x7FFFF000u, 0x8000000000000000ull, misses, f);
        nmiss = 3;
        size_t f_jmp = x64_jmp_rel32(e); /* patched: the block */
        if (f[0] - xs == TB_XLINK_PHYS && f[1] - xs == TB_XLINK_ADDEND &&
            f_jmp - xs == TB_XLINK_JMP) {
            tb->jmp_xlink[slot] = (uint32_t)xs;
        }
    }
    tb->jmp_stub[slot] = (uint32_t)e->pos;
    for (unsigned k = 0; k < nmiss && !e->overflow; k++) {
        x64_patch_rel32(e->buf, misses[k], e->pos);
    }
    x64_store_imm(e, 4, X_RBX, OFF(eip), (int32_t)target_eip);
    x64_mov_ri32(e, X_R8, tb->flags); /* the known-mode probe's mode bits */
    call_lookup_known(b);
}

/* gen_goto_slot: a direct jump through chain slot `slot` to target (icount flushed, the
 * guest-register cache written back): a jmp rel32 that tb_chain patches; unchained it falls
 * through to the exit to C, which asks for the link. A chained jump leaves EIP stale: the
 * target block's entry checks set it when they leave; the exit to C and the probe stubs set
 * it here. */
static void gen_goto_slot(Backend *b, int slot, uint32_t target, bool force_xlink)
{
    X64Emit *e = &b->e;
    TranslationBlock *tb = b->tb;
    size_t f = x64_jmp_rel32(e);
    if (!e->overflow) {
        x64_patch_rel32(e->buf, f, e->pos); /* unchained: fall through to the exit */
    }
    tb->jmp_field[slot] = (uint32_t)f;
    x64_store_imm(e, 4, X_RBX, OFF(eip), (int32_t)target);
    x64_mov_ri64(e, X_RAX, (uint64_t)(uintptr_t)tb | (uint64_t)(slot + 1));
    jmp_epilogue(b);
    gen_slot_stubs(b, slot, target, force_xlink);
}

/* Host calls for guest calls: a near CALL in a block with a flat 4 GiB CS jumps to its
 * target with a host CALL after pushing a marker (the block's mode bits with bit 15 set, and
 * the guest return address); a near RET whose target and mode equal the marker on top of the
 * host stack returns with a host RET, which the host's return-address predictor gets right
 * where the indirect jump of a lookup is mispredicted whenever a function returns to
 * another caller than last time. The return lands after the call: it drops the marker and
 * goes to the return address's block through chain slot 1, always behind the cross-page
 * link's check (the TLB entry still maps the page the same way), since a stale frame may be
 * matched in another address space. Frames that are never returned through (longjmp, a
 * task switch, an exception) stay until generated code next leaves to C, whose epilogue
 * resets rsp; below call_floor a CALL makes a plain jump. Code is only freed by a flush in
 * C, so no frame outlives the code it returns to. */
static bool host_calls(const TranslationBlock *tb)
{
    return tb->cs_base == 0 && tb->cs_limit == 0xFFFFFFFFu && (tb->flags & TBF_CODE32);
}

static uint64_t call_marker(const TranslationBlock *tb, uint32_t ret)
{
    return ((uint64_t)(tb->flags | 0x8000u) << 32) | ret;
}

/* gen_call_tb: IR_CALL_TB (see host_calls). */
static void gen_call_tb(Backend *b, uint32_t target, uint32_t ret)
{
    X64Emit *e = &b->e;
    TranslationBlock *tb = b->tb;
    size_t to_goto[2];
    unsigned n = 0;
    if (host_calls(tb)) {
        x64_alu_rm(e, 8, XA_CMP, X_RSP, X_R12, JOFF(call_floor));
        to_goto[n++] = x64_jcc_rel32(e, XC_BE);
        x64_mov_ri64(e, X_RAX, call_marker(tb, ret));
        x64_push(e, X_RAX);
        to_goto[n++] = x64_call_rel32(e);
        /* The return: rsp points at the marker. */
        x64_alu_ri(e, 8, XA_ADD, X_RSP, 8);
        gen_goto_slot(b, 1, ret, true);
    }
    for (unsigned k = 0; k < n && !e->overflow; k++) {
        x64_patch_rel32(e->buf, to_goto[k], e->pos);
    }
    gen_goto_slot(b, 0, target, false);
}

/* gen_ret_host: a near RET's host return when the marker on top of the host stack is its
 * own (EIP holds the target); else it goes on to the lookup. */
static void gen_ret_host(Backend *b)
{
    X64Emit *e = &b->e;
    x64_load(e, 4, X_RAX, X_RBX, OFF(eip));
    x64_mov_ri64(e, X_RCX, call_marker(b->tb, 0));
    x64_alu_rr(e, 8, XA_OR, X_RAX, X_RCX);
    x64_alu_rm(e, 8, XA_CMP, X_RAX, X_RSP, 8);
    size_t miss = x64_jcc_rel32(e, XC_NE);
    x64_ret(e);
    if (!e->overflow) {
        x64_patch_rel32(e->buf, miss, e->pos);
    }
}

/* jmp_lookup: leave through the lookup trampoline (eip and icount are up to date). */
static void jmp_lookup(Backend *b)
{
    size_t f = x64_jmp_rel32(&b->e);
    if (!b->e.overflow) {
        x64_patch_rel32(b->e.buf, f, b->j->lookup_off);
    }
}

static void reg_ref(int reg, unsigned size, int32_t *disp)
{
    if (size == 1 && reg >= 4) {
        *disp = OFF(regs) + 4 * (reg - 4) + 1;
    } else {
        *disp = OFF(regs) + 4 * reg;
    }
}

/* temp_reg: the host register temp t lives in, or -1 for its stack slot (assign_temp_regs). */
static int temp_reg(const Backend *b, int t)
{
    return t >= 0 && t < IR_MAX_TEMPS ? b->treg[t] : -1;
}

/* hold_use: op i reads temp t where an op takes it from rax when rax holds it (the first
 * operand of IR_ALU and IR_BRCOND, the value of IR_STREG, the address of IR_LD/IR_ST, the
 * result IR_SETCC stores in cc_dst). */
static bool hold_use(const IRInsn *i, int t)
{
    switch ((IROpc)i->opc) {
    case IR_SETCC:
        return i->a == t && i->b != t && i->c != t;
    case IR_ALU:
        return i->a == t && i->b != t;
    case IR_BRCOND:
        return i->a == t;
    case IR_STREG:
        return i->b == t;
    case IR_LD:
    case IR_ST:
        if (i->c >= 0) {
            return i->opc == IR_ST && i->b == t; /* a page group's store value */
        }
        return i->a == t && i->b != t; /* the address (gen_mem takes it from eax) */
    default:
        return false;
    }
}

/* defer_window_op: ops that may come between a deferred IR_SETCC and the one replacing it:
 * register ops, syncs, loads and stores (a slow path stores the flags before its call) and
 * side-exit branches (the exit stores them); nothing that reads the CPUState's lazy flags,
 * calls a helper or leaves otherwise. */
static bool defer_window_op(const IRInsn *i)
{
    if (i->opc == IR_BRCOND || i->opc == IR_BRFLAGS) {
        return i->imm2 == 1;
    }
    return i->opc == IR_LD || i->opc == IR_ST || ir_op_register_only(i->opc);
}

/* jit_opt_defer_flags: defer[k] = the live IR_SETCC k is replaced by a later one with only
 * defer_window_op ops between: its stores move to the slow paths and side exits in
 * between (on the fast path nothing looks at the CPUState's lazy flags before the next
 * SETCC). */
static void jit_opt_defer_flags(const IRBlock *ir, const bool *dead, bool *defer)
{
    for (unsigned k = 0; k < ir->n; k++) {
        defer[k] = false;
        if (ir->insn[k].opc != IR_SETCC || dead[k]) {
            continue;
        }
        for (unsigned p = k + 1; p < ir->n && defer_window_op(&ir->insn[p]); p++) {
            if (ir->insn[p].opc == IR_SETCC) {
                defer[k] = true;
                break;
            }
        }
    }
}

/* rename_def: op p's result goes to temp f instead of t, and so do the reads of it up to
 * t's next definition (a read there too), unless a label comes first (paths join: leave it).
 * Returns whether it renamed. */
static bool rename_def(IRBlock *ir, unsigned p, int t, int f)
{
    unsigned end = p + 1;
    for (; end < ir->n; end++) {
        if (ir->insn[end].opc == IR_LABEL) {
            return false;
        }
        if (ir_temp_def(&ir->insn[end]) == t) {
            break;
        }
    }
    ir->insn[p].dst = (int8_t)f;
    for (unsigned q = p + 1; q < ir->n && q <= end; q++) {
        int8_t *u[3];
        int n = ir_temp_uses(&ir->insn[q], u);
        for (int k = 0; k < n; k++) {
            if (*u[k] == t) {
                *u[k] = (int8_t)f;
            }
        }
    }
    return true;
}

/* defer_rename: an op inside a deferred IR_SETCC's window that redefines one of its operand
 * temps (the frontend recycles temps at every instruction) would make the backend store the
 * flags there after all (dfl_flush): that op writes a fresh temp instead, while there are
 * temps left. Returns how many it renamed. */
static unsigned defer_rename(IRBlock *ir, const bool *defer)
{
    unsigned renamed = 0;
    for (unsigned k = 0; k < ir->n; k++) {
        if (!defer[k]) {
            continue;
        }
        const IRInsn *s = &ir->insn[k];
        for (unsigned p = k + 1; p < ir->n && ir->insn[p].opc != IR_SETCC; p++) {
            int t = ir_temp_def(&ir->insn[p]);
            if (t < 0 || (t != s->a && t != s->b && t != s->c)) {
                continue;
            }
            if (ir->ntemps >= IR_MAX_TEMPS) {
                return renamed;
            }
            if (rename_def(ir, p, t, ir->ntemps)) {
                ir->ntemps++;
                renamed++;
            }
        }
    }
    return renamed;
}

/* live_compute: for every op p (and p = n), the temps read at or after p before they are
 * written, in the IR's order (as the backend reads it: a branch's target is further down or,
 * a loop's start, entered with everything in the CPUState): bit t of live[2p + t / 64].
 * One backward pass instead of a scan ahead at every question (temp_live_from,
 * compute_rax_only). NULL when out of memory. */
static uint64_t *live_compute(const IRBlock *ir)
{
    uint64_t *live = calloc(2 * ((size_t)ir->n + 1), sizeof(uint64_t));
    if (!live) {
        return NULL;
    }
    for (unsigned p = ir->n; p-- > 0;) {
        uint64_t w[2] = {live[2 * (p + 1)], live[2 * (p + 1) + 1]};
        const IRInsn *i = &ir->insn[p];
        int d = ir_temp_def(i);
        if (d >= 0 && d < IR_MAX_TEMPS) {
            w[d >> 6] &= ~(1ull << (d & 63));
        }
        int8_t *u[3];
        int n = ir_temp_uses(i, u);
        for (int q = 0; q < n; q++) {
            if (*u[q] >= 0 && *u[q] < IR_MAX_TEMPS) {
                w[*u[q] >> 6] |= 1ull << (*u[q] & 63);
            }
        }
        live[2 * p] = w[0];
        live[2 * p + 1] = w[1];
    }
    return live;
}

/* live_has: temp t is in live_compute's set of op p. */
static bool live_has(const uint64_t *live, unsigned p, int t)
{
    return (live[2 * p + (unsigned)(t >> 6)] >> (t & 63)) & 1;
}

/* compute_rax_only: out[k] = op k's result (left in rax) is read by the next op that is not a
 * NOP or an IR_MOVI of another temp (which emit nothing), from rax, and by no other op, or the
 * next op is a 32-bit IR_STREG of it (whose guest register then holds it for the later
 * readers): then its home is never written. */
static void compute_rax_only(const IRBlock *ir, const bool *defer, const uint64_t *live,
                             bool *out)
{
    for (unsigned k = 0; k < ir->n; k++) {
        out[k] = false;
        int d = ir_temp_def(&ir->insn[k]);
        if (d < 0) {
            continue;
        }
        /* Skipped: ops that emit nothing or leave rax alone (a 32-bit guest register read:
         * an alias, or a load into its cache register). */
        unsigned nx = k + 1;
        while (nx < ir->n &&
               (ir->insn[nx].opc == IR_NOP ||
                ((ir->insn[nx].opc == IR_MOVI ||
                  (ir->insn[nx].opc == IR_LDREG && ir->insn[nx].size == 4 &&
                   ir->insn[nx].a >= 0 && ir->insn[nx].a < 8)) &&
                 ir->insn[nx].dst != d))) {
            nx++;
        }
        if (nx >= ir->n || !hold_use(&ir->insn[nx], d) || (defer && defer[nx])) {
            continue; /* (a deferred SETCC reads its operands later, from their homes) */
        }
        const IRInsn *st = &ir->insn[nx];
        if (st->opc == IR_STREG && st->size == 4 && st->a >= 0 && st->a < 8) {
            out[k] = true; /* the STREG's register holds it after (an alias, see IR_STREG) */
            continue;
        }
        if (ir_temp_def(st) == d) {
            out[k] = true; /* that op replaces it: later reads are of the new value */
            continue;
        }
        out[k] = d >= IR_MAX_TEMPS || !live_has(live, nx + 1, d);
    }
}

/* assign_temp_regs: r13 and r14 (callee-saved: the enter trampoline saves them, helper calls
 * preserve them) become the homes of the two temps whose homes the block would read and
 * write most; the others live in frame slots. A home is not touched by a value that only the
 * next op reads from rax (rax_only), by a constant (IR_MOVI: immediates) or by a 32-bit guest
 * register load (an alias of the register's cache register). Temps are recycled at every
 * instruction, so a temp number's count sums all its short lives. */
static void assign_temp_regs(Backend *b, const IRBlock *ir)
{
    static const int8_t regs[] = {X_R13, X_R14};
    unsigned w[IR_MAX_TEMPS];
    bool home[IR_MAX_TEMPS]; /* the current value is in the home */
    memset(w, 0, sizeof(w));
    memset(home, 0, sizeof(home));
    for (unsigned k = 0; k < ir->n; k++) {
        const IRInsn *i = &ir->insn[k];
        int8_t *u[3];
        int n = ir_temp_uses(i, u);
        for (int q = 0; q < n; q++) {
            int t = *u[q];
            if (t >= 0 && t < IR_MAX_TEMPS && home[t]) {
                w[t]++;
            }
        }
        int d = ir_temp_def(i);
        if (d >= 0 && d < IR_MAX_TEMPS) {
            home[d] = i->opc != IR_MOVI && !(b->rax_only && b->rax_only[k]) &&
                      !(i->opc == IR_LDREG && i->size == 4 && i->a >= 0 && i->a < 8);
            w[d] += home[d];
        }
    }
    memset(b->treg, -1, sizeof(b->treg));
    for (unsigned r = 0; r < sizeof(regs); r++) {
        int best = -1;
        for (int t = 0; t < ir->ntemps && t < IR_MAX_TEMPS; t++) {
            if (b->treg[t] < 0 && w[t] && (best < 0 || w[t] > w[best])) {
                best = t;
            }
        }
        if (best >= 0) {
            b->treg[best] = regs[r];
        }
    }
}

/* temp_live_from: whether temp t may be read at or after op `from` before it is written
 * again (a write by op `from` itself does not count: that op may read t first). */
static bool temp_live_from(const Backend *b, int t, unsigned from)
{
    if (b->dfl_k >= 0 && t >= 0) {
        const IRInsn *f = &b->ir->insn[b->dfl_k];
        if (f->a == t || f->b == t || f->c == t) {
            return true; /* the deferred flag stores read it */
        }
    }
    if (t < 0 || t >= IR_MAX_TEMPS || from >= b->ir->n) {
        return false;
    }
    int8_t *u[3];
    int n = ir_temp_uses(&b->ir->insn[from], u);
    for (int q = 0; q < n; q++) {
        if (*u[q] == t) {
            return true;
        }
    }
    return live_has(b->live, from + 1, t);
}

/* temp_live: whether temp t may be read at or after the current op before it is written. */
static bool temp_live(const Backend *b, int t)
{
    return temp_live_from(b, t, b->k);
}

/* alias_break: guest register g's host register is about to change or go: the temps that
 * alias it and are still needed get their value in their own homes. */
static void alias_break(Backend *b, int g)
{
    for (int t = 0; t < b->ir->ntemps; t++) {
        if (b->alias[t] != g) {
            continue;
        }
        b->alias[t] = -1;
        if (!temp_live(b, t)) {
            continue;
        }
        int h = b->gc_host[g];
        if (temp_reg(b, t) >= 0) {
            x64_mov_rr(&b->e, 4, temp_reg(b, t), h);
        } else {
            x64_store(&b->e, 4, X_FRAME, TEMP(t), h);
        }
    }
}

static void alias_break_all(Backend *b)
{
    for (int g = 0; g < 8; g++) {
        if (b->gc_host[g] >= 0) {
            alias_break(b, g);
        }
    }
}

/* temp_src: the host register that holds temp t's value now, or -1 (its stack slot). Not for
 * a constant temp that is not materialized. */
static int temp_src(const Backend *b, int t)
{
    if (t >= 0 && t < IR_MAX_TEMPS && b->alias[t] >= 0) {
        return b->gc_host[b->alias[t]];
    }
    return temp_reg(b, t);
}

/* materialize: write a constant temp's value to its home (before a use of the home itself). */
static void materialize(Backend *b, int t)
{
    if (t < 0 || t >= IR_MAX_TEMPS || !b->unmat[t]) {
        return;
    }
    b->unmat[t] = false;
    if (temp_reg(b, t) >= 0) {
        x64_mov_ri32(&b->e, temp_reg(b, t), b->kval[t]);
    } else {
        x64_store_imm(&b->e, 4, X_FRAME, TEMP(t), (int32_t)b->kval[t]);
    }
}

/* materialize_all: every pending constant, where paths join (their homes are read after). */
static void materialize_all(Backend *b)
{
    for (int t = 0; t < b->ir->ntemps; t++) {
        materialize(b, t);
    }
}

static void load_temp(Backend *b, int r, int t)
{
    if (t >= 0 && t < IR_MAX_TEMPS && b->known[t]) {
        x64_mov_ri32(&b->e, r, b->kval[t]);
        return;
    }
    int h = temp_src(b, t);
    if (h < 0) {
        x64_load(&b->e, 4, r, X_FRAME, TEMP(t));
    } else if (h != r) {
        x64_mov_rr(&b->e, 4, r, h);
    }
}

static void store_temp(Backend *b, int t, int r)
{
    if (t >= 0 && t < IR_MAX_TEMPS) {
        b->alias[t] = -1;
    }
    if (r == X_RAX && b->rax_only && b->rax_only[b->k]) {
        return; /* the next op takes it from rax */
    }
    int h = temp_reg(b, t);
    if (h < 0) {
        x64_store(&b->e, 4, X_FRAME, TEMP(t), r);
    } else if (h != r) {
        x64_mov_rr(&b->e, 4, h, r);
    }
}

static void call_abs(Backend *b, const void *fn)
{
    x64_mov_ri64(&b->e, X_RAX, (uint64_t)(uintptr_t)fn);
    x64_call_r(&b->e, X_RAX);
}

/* raise_unless: unless host condition cc holds, fn(cpu) raises a fault and does not return;
 * the fault sees the guest registers as they are (the dirty cached ones written back). */
static void raise_unless(Backend *b, int cc, const void *fn)
{
    X64Emit *e = &b->e;
    size_t ok = x64_jcc_rel32(e, cc);
    gc_spill(b);
    x64_mov_rr(e, 8, X_RDI, X_RBX);
    call_abs(b, fn);
    if (!e->overflow) {
        x64_patch_rel32(e->buf, ok, e->pos);
    }
}

/* emit_sync: the precise state before something that can fault: insn_eip, insn_esp, eip
 * and the retired-instruction count. */
static void emit_sync(Backend *b, uint32_t eip, uint32_t next, unsigned pending, int esp_host)
{
    X64Emit *e = &b->e;
    x64_store_imm(e, 4, X_RBX, OFF(insn_eip), (int32_t)eip);
    if (esp_host >= 0) {
        x64_store(e, 4, X_RBX, OFF(insn_esp), esp_host);
    } else {
        x64_load(e, 4, X_RAX, X_RBX, OFF(regs[R_ESP]));
        x64_store(e, 4, X_RBX, OFF(insn_esp), X_RAX);
    }
    x64_store_imm(e, 4, X_RBX, OFF(eip), (int32_t)next);
    flush_icount(b, pending);
}

/* gen_mem: a load or store through the soft MMU with the fast path inline: the segment
 * limit (and, in protected mode, a present, non-expand-down data segment writable for a
 * store), no possible #AC (only in a TBF_AC block: a misaligned access at CPL 3 with CR0.AM
 * and EFLAGS.AC), the access within one page (checked by the tag compare of its last byte's
 * page), and a TLB hit for the block's privilege with no flag bits (MMIO, code, watchpoint)
 * in the tag; then the host access at addend + linear.
 * In a TBF_FLAT block an access through ES, SS or DS skips the segment part: the linear
 * address is the offset, no limit or type check can fail, and an access wrapping past 4 GiB
 * (which the interpreter faults as beyond the limit) fails the tag compare (see below).
 * Anything else calls jit_helper_ld/st, which does the full checks and may fault. */
/* setcc_fields: how many of cc_dst, cc_src, cc_src2 an IR_SETCC of cc_op op stores: cc_src is
 * unused after a logic op and cc_src2 (carry in) is read only for ADC, SBB, INC and DEC
 * (core/cpu_flags.c). */
static int setcc_fields(uint32_t op)
{
    if (op >= CC_OP_LOGIC8 && op <= CC_OP_LOGIC32) {
        return 1;
    }
    if ((op >= CC_OP_ADC8 && op <= CC_OP_ADC32) || (op >= CC_OP_SBB8 && op <= CC_OP_SBB32) ||
        (op >= CC_OP_INC8 && op <= CC_OP_DEC32)) {
        return 3;
    }
    return 2;
}

/* dfl_capture: where the deferred IR_SETCC's operands are now (off when none waits). */
static void dfl_capture(const Backend *b, FlagLocs *out)
{
    out->on = b->dfl_k >= 0;
    if (!out->on) {
        return;
    }
    const IRInsn *f = &b->ir->insn[b->dfl_k];
    const int t3[3] = {f->a, f->b, f->c};
    out->op = f->imm;
    for (int q = 0; q < 3; q++) {
        int t = t3[q];
        FlagSrc *v = &out->v[q];
        v->known = t < 0 || b->known[t];
        v->k = t < 0 ? 0 : b->kval[t];
        v->reg = (int8_t)(v->known ? -1 : temp_src(b, t));
        v->temp = (int8_t)t;
    }
}

/* dfl_emit: the lazy-flag stores of captured operands (rcx as scratch). */
static void dfl_emit(X64Emit *e, const FlagLocs *fl)
{
    static const int32_t field[3] = {OFF(cc_dst), OFF(cc_src), OFF(cc_src2)};
    if (!fl->on) {
        return;
    }
    x64_store_imm(e, 4, X_RBX, OFF(cc_op), (int32_t)fl->op);
    for (int q = 0; q < setcc_fields(fl->op); q++) {
        const FlagSrc *v = &fl->v[q];
        if (v->known) {
            x64_store_imm(e, 4, X_RBX, field[q], (int32_t)v->k);
        } else if (v->reg >= 0) {
            x64_store(e, 4, X_RBX, field[q], v->reg);
        } else {
            x64_load(e, 4, X_RCX, X_FRAME, TEMP(v->temp));
            x64_store(e, 4, X_RBX, field[q], X_RCX);
        }
    }
}

/* dfl_flush: the deferred flags stored here after all (an operand is about to be
 * overwritten, or an op the deferral did not plan for comes). */
static void dfl_flush(Backend *b)
{
    FlagLocs fl;
    dfl_capture(b, &fl);
    dfl_emit(&b->e, &fl);
    if (fl.on) {
        b->cc_op_known = fl.op;
    }
    b->dfl_k = -1;
}

/* cold_capture: what a slow path needs of the state at its access: the deferred sync, the
 * deferred lazy flags and the guest-register cache. */
static void cold_capture(Backend *b, ColdPath *cp)
{
    cp->rsi_group = -1;
    cp->helper = NULL;
    cp->x87_dst = false;
    cp->sync_lazy = b->sync_lazy;
    cp->sync_eip = b->sync_eip;
    cp->sync_next = b->sync_next;
    cp->pending = b->pending;
    dfl_capture(b, &cp->dfl);
    cp->rot_kind = b->rot_kind;
    cp->gc_dirty = 0;
    for (int r = 0; r < 8; r++) {
        cp->gc_host[r] = b->gc_host[r];
        if (b->gc_host[r] >= 0 && b->gc_dirty[r]) {
            cp->gc_dirty |= (uint8_t)(1u << r);
        }
    }
}

/* cold_capture_helper: cold_capture for a slow path that is the whole instruction: the
 * handler i->ptr(cpu, i->ptr2) (IR_X87, IR_STRING). */
static void cold_capture_helper(Backend *b, ColdPath *cp, const IRInsn *i)
{
    cold_capture(b, cp);
    cp->helper = i->ptr;
    cp->helper_arg = i->ptr2;
    cp->store = false;
    cp->rmw = false;
    cp->dst = -1;
}

/* cold_alloc: a new slow path of the block, or NULL (the block is too big: overflow). */
static ColdPath *cold_alloc(Backend *b)
{
    if (b->ncold >= MAX_COLD) {
        b->overflow = true;
        return NULL;
    }
    return &b->cold[b->ncold++];
}

/* tlb_tag_compare: the page in register page (of an access's last byte) against the read or
 * write (wr) tag of the TLB entry at [rbx + rax + tlb], a jump to a slow path when they
 * differ, then host = the entry's addend. */
static void tlb_tag_compare(X64Emit *e, int32_t tlb, bool wr, int page, int host,
                            size_t *slow, unsigned *ns)
{
    x64_alu_ri(e, 4, XA_AND, page, (int32_t)0xFFFFF000u);
    x64_alu_rm_idx(e, 4, XA_CMP, page, X_RBX, X_RAX,
                   tlb + (int32_t)(wr ? offsetof(TLBEntry, tag_write)
                                      : offsetof(TLBEntry, tag_read)));
    slow[(*ns)++] = x64_jcc_rel32(e, XC_NE);
    x64_load_idx(e, 8, host, X_RBX, X_RAX, tlb + (int32_t)offsetof(TLBEntry, addend));
}

/* tlb_fast: the inline TLB check of a size-byte access at the linear address in register lin
 * (tlb: the CPL's table; wr: checked for writing; eax_lin: eax holds it already), jumping to
 * a slow path (slow[(*ns)++]) on a miss; then register reg (rsi, or rcx where a page group's
 * host address stays in rsi) = the entry's addend (host = reg + lin).
 * The tag is compared with the page of the access's LAST byte, but read at the index of its
 * FIRST byte's page: an access crossing into the next page cannot match (tags are
 * page-aligned and stored at their own page's index; invalid ones have low bits set), so it
 * takes the slow path without a separate page-offset test. The same holds for an access
 * wrapping past 4 GiB, which a flat segment's fast path relies on instead of a limit check:
 * its first byte lies in page FFFFFh (index TLB_SIZE - 1), its last byte's page is 0 (the
 * 32-bit lea drops the carry), and no tag for page 0 is ever stored at index TLB_SIZE - 1,
 * so the interpreter's helper raises the #GP/#SS of the limit. Clobbers rax. */
static void tlb_fast(X64Emit *e, int32_t tlb, int lin, unsigned size, bool wr, bool eax_lin,
                     int reg, size_t *slow, unsigned *ns)
{
    if (!eax_lin) {
        x64_mov_rr(e, 4, X_RAX, lin);
    }
    x64_shift_ri(e, 4, 5, X_RAX, 12 - 5);            /* shr: index * 32 */
    x64_alu_ri(e, 4, XA_AND, X_RAX, (TLB_SIZE - 1) << 5); /* the entry: [rbx + rax] */
    if (size > 1) {
        x64_lea32(e, reg, lin, (int32_t)size - 1);
    } else {
        x64_mov_rr(e, 4, reg, lin);
    }
    tlb_tag_compare(e, tlb, wr, reg, reg, slow, ns);
}

/* gen_mem_group: a load or store in page group i->c (jit_opt_mem_groups): the block's entry
 * checked its page, so it is a host access at the group's host address + imm2. */
static void gen_mem_group(Backend *b, const IRInsn *i, int hold)
{
    X64Emit *e = &b->e;
    if (b->rsi_group != i->c) {
        x64_load(e, 8, X_RSI, X_FRAME, GROUP_SLOT(i->c));
        b->rsi_group = i->c;
    }
    int32_t off = (int32_t)i->imm2;
    if (i->opc == IR_LD) {
        x64_load(e, i->size, X_RAX, X_RSI, off);
        store_temp(b, i->dst, X_RAX);
    } else if (i->b >= 0 && i->b < IR_MAX_TEMPS && b->known[i->b]) {
        x64_store_imm(e, i->size, X_RSI, off, (int32_t)b->kval[i->b]);
    } else {
        int r = hold == i->b ? X_RAX : temp_src(b, i->b);
        if (r < 0) {
            load_temp(b, X_RAX, i->b);
            r = X_RAX;
        }
        x64_store(e, i->size, X_RSI, off, r);
    }
}

/* gen_group_load_reg: "LD t (in a page group); ...; STREG g, 4, t" with t read by nothing
 * in between, and in between only ops that can neither fault nor leave and leave g alone (a
 * POP's ESP update), is one host load into g's host register (no slow path can need t in
 * rax); later readers of t read that register (an alias, as after the STREG). Returns
 * whether it did both (the STREG is skipped). */
static bool gen_group_load_reg(Backend *b, const IRInsn *i)
{
    if (i->opc != IR_LD || i->c < 0 || i->dst < 0 || b->skip_load_k != ~0u) {
        return false;
    }
    /* The STREG further on, past ops that cannot fault or leave and neither read nor write
     * the register (a POP's ESP update). */
    unsigned k2 = b->k + 1;
    const IRInsn *st = NULL;
    for (; k2 < b->ir->n && k2 < b->k + 12; k2++) {
        const IRInsn *o = &b->ir->insn[k2];
        if (o->opc == IR_STREG && o->b == i->dst) {
            st = o;
            break;
        }
        int8_t *u[3];
        int n = ir_temp_uses(o, u);
        for (int q = 0; q < n; q++) {
            if (*u[q] == i->dst) {
                return false;
            }
        }
        bool ok = o->opc == IR_NOP || o->opc == IR_MOVI || o->opc == IR_ALU ||
                  o->opc == IR_EA || o->opc == IR_SETCC || o->opc == IR_LDREG ||
                  o->opc == IR_STREG || ((o->opc == IR_LD || o->opc == IR_ST) && o->c >= 0);
        if (!ok || ir_temp_def(o) == i->dst) {
            return false;
        }
    }
    if (!st || st->size != 4 || st->a < 0 || st->a >= 8) {
        return false;
    }
    int g = st->a;
    for (unsigned p = b->k + 1; p < k2; p++) {
        const IRInsn *o = &b->ir->insn[p];
        int r = o->opc == IR_LDREG || o->opc == IR_STREG
                    ? (o->size == 1 && o->a >= 4 ? o->a - 4 : o->a) : -1;
        if (r == g) {
            return false; /* reads or writes the register in between */
        }
    }
    if (b->gc_host[g] >= 0) {
        alias_break(b, g); /* temps copied from the old value keep it */
    }
    int h = gc_get(b, g, false);
    if (b->rsi_group != i->c) {
        x64_load(&b->e, 8, X_RSI, X_FRAME, GROUP_SLOT(i->c));
        b->rsi_group = i->c;
    }
    x64_load(&b->e, i->size, h, X_RSI, (int32_t)i->imm2);
    b->gc_dirty[g] = true;
    if (temp_live_from(b, i->dst, k2 + 1)) {
        b->inplace_alias = g; /* read later: from g's host register, as after a STREG */
    }
    b->skip_load_k = k2;
    return true;
}

/* gen_group_checks: on block entry, each page group's bytes must lie in one page that the
 * TLB of the block's privilege maps to RAM for reading (and writing, for a group with
 * stores: the write tag alone), with no flag bit (MMIO, code, watchpoint) in the tags: the page test is
 * tlb_fast's (the tag of the span's last byte's page at its first byte's index). Then the
 * group's host address goes to its frame slot. A miss jumps to miss[*nmiss++]. */
static void gen_group_checks(Backend *b, const IRBlock *ir, size_t *miss, unsigned *nmiss)
{
    X64Emit *e = &b->e;
    bool user = ((b->tb->flags >> TBF_CPL_SHIFT) & 3) == 3;
    int32_t tlb = user ? OFF(tlb_user) : OFF(tlb);
    for (int g = 0; g < ir->ngroups; g++) {
        const IRGroup *grp = &ir->group[g];
        x64_load(e, 4, X_RDX, X_RBX, OFF(regs) + 4 * grp->reg);
        if (grp->lo) {
            x64_alu_ri(e, 4, XA_ADD, X_RDX, grp->lo);
        }
        x64_mov_rr(e, 4, X_RAX, X_RDX);
        x64_shift_ri(e, 4, 5, X_RAX, 12 - 5);
        x64_alu_ri(e, 4, XA_AND, X_RAX, (TLB_SIZE - 1) << 5);
        x64_lea32(e, X_RSI, X_RDX, (int32_t)grp->span - 1);
        x64_alu_ri(e, 4, XA_AND, X_RSI, (int32_t)0xFFFFF000u);
        /* A write tag equal to the page implies the read tag is too (tlb_fill sets both
         * from one walk, a read watchpoint is also a write one, a code page flags only the
         * write tag): one compare either way. */
        x64_alu_rm_idx(e, 4, XA_CMP, X_RSI, X_RBX, X_RAX,
                       tlb + (int32_t)(grp->write ? offsetof(TLBEntry, tag_write)
                                                  : offsetof(TLBEntry, tag_read)));
        miss[(*nmiss)++] = x64_jcc_rel32(e, XC_NE);
        x64_load_idx(e, 8, X_RSI, X_RBX, X_RAX, tlb + (int32_t)offsetof(TLBEntry, addend));
        x64_alu_rr(e, 8, XA_ADD, X_RSI, X_RDX);
        x64_store(e, 8, X_FRAME, GROUP_SLOT(g), X_RSI);
    }
    b->rsi_group = ir->ngroups - 1;
}

/* flat_seg: segment seg has base 0 and a 4 GiB limit in block tb (TBF_FLAT covers ES, SS
 * and DS): its linear address is the offset, with no limit check. */
static bool flat_seg(const TranslationBlock *tb, int seg)
{
    return (tb->flags & TBF_FLAT) && (seg == S_ES || seg == S_SS || seg == S_DS);
}

static void gen_mem(Backend *b, const TranslationBlock *tb, const IRInsn *i, int hold)
{
    X64Emit *e = &b->e;
    if (i->c >= 0) {
        gen_mem_group(b, i, hold);
        return;
    }
    bool store = i->opc == IR_ST;
    bool rmw = i->opc == IR_LD && i->sub == 1; /* the load of a read-modify-write */
    bool wr = store || rmw;                    /* checked for writing */
    int seg = (int)i->imm;
    unsigned size = i->size;
    ColdPath *cp = cold_alloc(b);
    if (!cp) {
        return;
    }
    size_t *slow = cp->jumps;
    unsigned ns = 0;
    bool pm = (tb->flags & TBF_PE) && !(tb->flags & TBF_VM);
    bool user = ((tb->flags >> TBF_CPL_SHIFT) & 3) == 3;
    int32_t tlb = user ? OFF(tlb_user) : OFF(tlb);
    bool flat = flat_seg(tb, seg);
    int lin = flat ? X_RDX : X_RCX;                  /* holds the linear address */

    bool eax_lin = false;                            /* eax already holds the linear address */
    if (hold == i->a) {
        x64_mov_rr(e, 4, X_RDX, X_RAX);              /* edx = offset, computed into eax */
        eax_lin = flat;
    } else {
        load_temp(b, X_RDX, i->a);                   /* edx = offset */
    }
    if (!flat) {
        x64_mov_rr(e, 4, X_RCX, X_RDX);
        x64_alu_ri(e, 4, XA_ADD, X_RCX, (int32_t)size - 1);
        slow[ns++] = x64_jcc_rel32(e, XC_B);         /* offset wrapped */
        x64_alu_rm(e, 4, XA_CMP, X_RCX, X_RBX,
                   OFF(seg[0].limit) + seg * (int32_t)sizeof(SegCache));
        slow[ns++] = x64_jcc_rel32(e, XC_A);
        if (pm) {
            uint32_t mask = SEGF_P | SEGF_S | 0x8 | 0x4 | (wr ? 0x2 : 0);
            uint32_t want = SEGF_P | SEGF_S | (wr ? 0x2 : 0);
            x64_load(e, 2, X_RAX, X_RBX, OFF(seg[0].flags) + seg * (int32_t)sizeof(SegCache));
            x64_alu_ri(e, 4, XA_AND, X_RAX, (int32_t)mask);
            x64_alu_ri(e, 4, XA_CMP, X_RAX, (int32_t)want);
            slow[ns++] = x64_jcc_rel32(e, XC_NE);
        }
        x64_load(e, 4, X_RCX, X_RBX, OFF(seg[0].base) + seg * (int32_t)sizeof(SegCache));
        x64_alu_rr(e, 4, XA_ADD, X_RCX, X_RDX);      /* ecx = linear */
    }
    if (user && size > 1 && (tb->flags & TBF_AC)) {
        /* CR0.AM and EFLAGS.AC were set when the block was looked up, and nothing inside a
         * block changes them: a misaligned access may be an #AC, the slow path knows. */
        x64_mov_rr(e, 4, X_RAX, lin);
        x64_alu_ri(e, 4, XA_AND, X_RAX, (int32_t)size - 1);
        slow[ns++] = x64_jcc_rel32(e, XC_NE);
        eax_lin = false;
    }
    /* Flat: the linear address is in rdx and rcx is free for the addend, so rsi keeps a page
     * group's host address across the access (see mem_keeps_rsi). */
    int host = flat ? X_RCX : X_RSI;
    tlb_fast(e, tlb, lin, size, wr, eax_lin, host, slow, &ns);
    /* the host address: host + lin (addend + linear) */
    if (store) {
        load_temp(b, X_RAX, i->b);
        x64_store_idx(e, (int)size, host, lin, 0, X_RAX);
    } else {
        x64_load_idx(e, (int)size, X_RAX, host, lin, 0);
        store_temp(b, i->dst, X_RAX);
    }
    cp->nj = (uint8_t)ns;
    cp->done = e->pos;
    cp->store = store;
    cp->rmw = rmw;
    cp->size = (uint8_t)size;
    cp->seg = (uint8_t)seg;
    cp->dst = i->dst;
    cp->val = store ? i->b : -1;
    cp->val_known = store && i->b >= 0 && b->known[i->b];
    cp->val_k = cp->val_known ? b->kval[i->b] : 0;
    cp->val_reg = (int8_t)(store && !cp->val_known ? temp_src(b, i->b) : -1);
    cold_capture(b, cp);
    cp->rsi_group = (int8_t)(flat ? b->rsi_group : -1);
}

/* gen_cold: a slow path recorded by gen_mem: the full access through jit_helper_ld/st, then
 * back to the fast path's continuation (rax = the loaded value on both). */
static void gen_cold(Backend *b, const ColdPath *cp)
{
    X64Emit *e = &b->e;
    for (unsigned k = 0; k < cp->nj && !e->overflow; k++) {
        x64_patch_rel32(e->buf, cp->jumps[k], e->pos);
    }
    /* A fault pushes EFLAGS: the lazy flags of the last flag-setting op first. */
    dfl_emit(e, &cp->dfl);
    /* The helper may fault or read the guest registers: the dirty cached ones go to the
     * CPUState first (and every cached one comes back after the call, which clobbered it). */
    for (int r = 0; r < 8; r++) {
        if (cp->gc_dirty & (1u << r)) {
            x64_store(e, 4, X_RBX, OFF(regs) + 4 * r, cp->gc_host[r]);
        }
    }
    if (cp->sync_lazy) {
        /* The deferred IR_SYNC: only the helper can fault or look at EIP. */
        emit_sync(b, cp->sync_eip, cp->sync_next, cp->pending, cp->gc_host[R_ESP]);
        x64_store_imm(e, 1, X_FRAME, SLOW_FLAG, 1);
    }
    if (cp->store) {
        /* The value first: it may live in rdi, the first argument. */
        if (cp->val_known) {
            x64_mov_ri32(e, X_RCX, cp->val_k);
        } else if (cp->val_reg >= 0) {
            x64_mov_rr(e, 4, X_RCX, cp->val_reg);
        } else {
            x64_load(e, 4, X_RCX, X_FRAME, TEMP(cp->val));
        }
    }
    x64_mov_rr(e, 8, X_RDI, X_RBX);
    if (cp->helper) {
        /* the whole instruction */
        x64_mov_ri64(e, X_RSI, (uint64_t)(uintptr_t)cp->helper_arg);
        call_abs(b, cp->helper);
        if (cp->x87_dst) {
            x64_load(e, 2, X_RAX, X_RBX, OFF(regs[R_EAX]));
            store_temp(b, cp->dst, X_RAX);
        }
    } else {
        x64_mov_ri32(e, X_RSI, (uint32_t)cp->seg | ((uint32_t)cp->size << 8) |
                                   ((uint32_t)cp->rot_kind << 16));
        if (cp->store) {
            call_abs(b, (const void *)jit_helper_st);
        } else {
            call_abs(b, cp->rmw ? (const void *)jit_helper_ld_rmw
                                : (const void *)jit_helper_ld);
            store_temp(b, cp->dst, X_RAX);
        }
    }
    for (int r = 0; r < 8; r++) {
        if (cp->gc_host[r] >= 0) {
            x64_load(e, 4, cp->gc_host[r], X_RBX, OFF(regs) + 4 * r);
        }
    }
    if (cp->sync_lazy && cp->pending) {
        /* The fast path has not counted them: the compile-time count still holds them. */
        x64_alu_mi(e, 8, XA_SUB, X_RBX, OFF(icount), (int32_t)cp->pending);
    }
    if (cp->rsi_group >= 0) {
        x64_load(e, 8, X_RSI, X_FRAME, GROUP_SLOT(cp->rsi_group));
    }
    size_t back = x64_jmp_rel32(e);
    if (!e->overflow) {
        x64_patch_rel32(e->buf, back, cp->done);
    }
}

#define FPOFF(f) OFF(fpu.f)
_Static_assert(sizeof(Floatx80) == 16, "gen_x87 addresses st[i] as 16 * i");
/* gen_x87's spills, at X87_SCRATCH and X87_SCRATCH - 8: below rsp, in the red zone (nothing
 * is called on the inline path). */
#define X87_SCRATCH (-8)

/* gen_x87: IR_X87, FLD m64 / FST m64 / FSTP m64 through a flat segment. Inline when CR0.EM
 * and TS are clear (no #NM), no unmasked exception is pending (FSW.ES: no #MF), the 8 bytes
 * lie in one page whose TLB entry allows the access, the stack has room (FLD: the register
 * below TOP empty; FST: ST0 not empty) and the value converts exactly without raising
 * anything: a normal or zero double for FLD; for FST an extended zero, or a normal one inside
 * the double's exponent range whose low 11 significand bits are zero (values loaded from
 * doubles and moved about, as compiled code does with every double it copies). Then no
 * exception flag changes and C1 = 0, as the handler would leave them, and the instruction
 * and operand pointers are recorded as fpu_record does. Anything else (denormals, NaNs,
 * infinities, rounding, stack faults, TLB misses, MMIO, code pages) runs the handler on the
 * slow path. Scratch: rax, rcx, rdx, rsi. */
/* x87_tag: eax = the tag of the register whose 2 * index is in cl, from ftw. */
static void x87_tag(X64Emit *e)
{
    x64_load(e, 2, X_RAX, X_RBX, FPOFF(ftw));
    x64_shift_cl(e, 4, 5, X_RAX);
    x64_alu_ri(e, 4, XA_AND, X_RAX, 3);
}

/* x87_copy: the register at byte offset to16 (16 * its index) = the one at from16, both
 * halves. Clobbers rax. */
static void x87_copy(X64Emit *e, int from16, int to16)
{
    x64_load_idx(e, 8, X_RAX, X_RBX, from16, FPOFF(st));
    x64_store_idx(e, 8, X_RBX, to16, FPOFF(st), X_RAX);
    x64_load_idx(e, 2, X_RAX, X_RBX, from16, FPOFF(st) + 8);
    x64_store_idx(e, 2, X_RBX, to16, FPOFF(st) + 8, X_RAX);
}

/* x87_set_tag: ftw's field at 2 * index (in cl) = the tag in esi. Clobbers rax, rdx. */
static void x87_set_tag(X64Emit *e)
{
    x64_load(e, 2, X_RAX, X_RBX, FPOFF(ftw));
    x64_mov_ri32(e, X_RDX, 3);
    x64_shift_cl(e, 4, 4, X_RDX);
    x64_alu_ri(e, 4, XA_XOR, X_RDX, -1);
    x64_alu_rr(e, 4, XA_AND, X_RAX, X_RDX);
    x64_shift_cl(e, 4, 4, X_RSI);
    x64_alu_rr(e, 4, XA_OR, X_RAX, X_RSI);
    x64_store(e, 2, X_RBX, FPOFF(ftw), X_RAX);
}

/* gen_x87_reg_ops: the register forms of IR_X87 after gen_x87's #NM/#MF checks and pointer
 * record: the stack checks (a fault goes to the slow path in slow[]), then the move. Values
 * move with their tags (a tag is a function of the value for a non-empty register). */
static void gen_x87_reg_ops(Backend *b, const IRInsn *i, size_t *slow, unsigned *ns)
{
    X64Emit *e = &b->e;
    const DecodedInsn *d = i->ptr2;
    int k = d->rm & 7;
    x64_load(e, 1, X_RCX, X_RBX, FPOFF(top));
    x64_alu_rr(e, 4, XA_ADD, X_RCX, X_RCX);          /* ecx = 2 * TOP */
    switch (i->sub) {
    case IR_X87_FLDST:
    case IR_X87_FLD1:
    case IR_X87_FLDZ: {
        /* the register below TOP (2 * index in [rsp-8]) must be empty */
        x64_alu_ri(e, 4, XA_ADD, X_RCX, 14);
        x64_alu_ri(e, 4, XA_AND, X_RCX, 14);
        x87_tag(e);
        x64_alu_ri(e, 4, XA_CMP, X_RAX, FPU_TAG_EMPTY);
        slow[(*ns)++] = x64_jcc_rel32(e, XC_NE);
        x64_store(e, 4, X_RSP, X87_SCRATCH, X_RCX);
        if (i->sub == IR_X87_FLDST) {
            /* ST(i) (before the push) must not be empty: its value and tag are copied */
            x64_alu_ri(e, 4, XA_ADD, X_RCX, 2 * (k + 1));
            x64_alu_ri(e, 4, XA_AND, X_RCX, 14);
            x87_tag(e);
            x64_alu_ri(e, 4, XA_CMP, X_RAX, FPU_TAG_EMPTY);
            slow[(*ns)++] = x64_jcc_rel32(e, XC_E);
            x64_mov_rr(e, 4, X_RSI, X_RAX);          /* the tag */
            x64_mov_rr(e, 4, X_RAX, X_RCX);
            x64_shift_ri(e, 4, 4, X_RAX, 3);
            x64_load(e, 4, X_RCX, X_RSP, X87_SCRATCH);
            x64_mov_rr(e, 4, X_RDX, X_RCX);
            x64_shift_ri(e, 4, 4, X_RDX, 3);
            x64_store(e, 8, X_RSP, X87_SCRATCH - 8, X_RSI);
            x64_mov_rr(e, 8, X_RSI, X_RAX);
            x87_copy(e, X_RSI, X_RDX);
            x64_load(e, 8, X_RSI, X_RSP, X87_SCRATCH - 8);
        } else {
            bool one = i->sub == IR_X87_FLD1;
            x64_mov_rr(e, 4, X_RDX, X_RCX);
            x64_shift_ri(e, 4, 4, X_RDX, 3);
            x64_mov_ri64(e, X_RAX, one ? 0x8000000000000000ull : 0);
            x64_store_idx(e, 8, X_RBX, X_RDX, FPOFF(st), X_RAX);
            x64_mov_ri32(e, X_RAX, one ? 0x3FFF : 0);
            x64_store_idx(e, 2, X_RBX, X_RDX, FPOFF(st) + 8, X_RAX);
            x64_mov_ri32(e, X_RSI, one ? FPU_TAG_VALID : FPU_TAG_ZERO);
        }
        x87_set_tag(e);
        x64_shift_ri(e, 4, 5, X_RCX, 1);
        x64_store(e, 1, X_RBX, FPOFF(top), X_RCX);
        break;
    }
    case IR_X87_FSTST:
    case IR_X87_FSTPST: {
        /* ST0 must not be empty; ST(i) = ST0 with its tag; FSTP then pops */
        x87_tag(e);
        x64_alu_ri(e, 4, XA_CMP, X_RAX, FPU_TAG_EMPTY);
        slow[(*ns)++] = x64_jcc_rel32(e, XC_E);
        x64_store(e, 4, X_RSP, X87_SCRATCH, X_RCX);   /* 2 * TOP */
        x64_mov_rr(e, 4, X_RSI, X_RCX);
        x64_shift_ri(e, 4, 4, X_RSI, 3);
        x64_alu_ri(e, 4, XA_ADD, X_RCX, 2 * k);
        x64_alu_ri(e, 4, XA_AND, X_RCX, 14);
        x64_mov_rr(e, 4, X_RDX, X_RCX);
        x64_shift_ri(e, 4, 4, X_RDX, 3);
        x64_store(e, 8, X_RSP, X87_SCRATCH - 8, X_RAX); /* ST0's tag */
        x87_copy(e, X_RSI, X_RDX);
        x64_load(e, 8, X_RSI, X_RSP, X87_SCRATCH - 8);
        x87_set_tag(e);                               /* ST(i)'s tag = ST0's */
        if (i->sub == IR_X87_FSTPST) {
            x64_load(e, 4, X_RCX, X_RSP, X87_SCRATCH);
            x64_mov_ri32(e, X_RSI, FPU_TAG_EMPTY);
            x87_set_tag(e);
            x64_shift_ri(e, 4, 5, X_RCX, 1);
            x64_alu_ri(e, 4, XA_ADD, X_RCX, 1);
            x64_alu_ri(e, 4, XA_AND, X_RCX, 7);
            x64_store(e, 1, X_RBX, FPOFF(top), X_RCX);
        }
        break;
    }
    default: { /* IR_X87_FXCH: both non-empty; values and tags swap */
        x87_tag(e);
        x64_alu_ri(e, 4, XA_CMP, X_RAX, FPU_TAG_EMPTY);
        slow[(*ns)++] = x64_jcc_rel32(e, XC_E);
        x64_mov_rr(e, 4, X_RSI, X_RAX);               /* t0 */
        x64_store(e, 4, X_RSP, X87_SCRATCH, X_RCX);   /* 2 * TOP */
        x64_alu_ri(e, 4, XA_ADD, X_RCX, 2 * k);
        x64_alu_ri(e, 4, XA_AND, X_RCX, 14);
        x87_tag(e);
        x64_alu_ri(e, 4, XA_CMP, X_RAX, FPU_TAG_EMPTY);
        slow[(*ns)++] = x64_jcc_rel32(e, XC_E);
        /* x = t0 ^ ti; ftw ^= x << 2i ^ x << 2top */
        x64_alu_rr(e, 4, XA_XOR, X_RSI, X_RAX);
        x64_load(e, 2, X_RAX, X_RBX, FPOFF(ftw));
        x64_mov_rr(e, 4, X_RDX, X_RSI);
        x64_shift_cl(e, 4, 4, X_RDX);
        x64_alu_rr(e, 4, XA_XOR, X_RAX, X_RDX);
        x64_mov_rr(e, 4, X_RDX, X_RCX);               /* 2 * i-th register */
        x64_load(e, 4, X_RCX, X_RSP, X87_SCRATCH);
        x64_shift_cl(e, 4, 4, X_RSI);
        x64_alu_rr(e, 4, XA_XOR, X_RAX, X_RSI);
        x64_store(e, 2, X_RBX, FPOFF(ftw), X_RAX);
        /* swap the values: rsi = 16 * TOP, rdx = 16 * the other */
        x64_mov_rr(e, 4, X_RSI, X_RCX);
        x64_shift_ri(e, 4, 4, X_RSI, 3);
        x64_shift_ri(e, 4, 4, X_RDX, 3);
        x64_load_idx(e, 8, X_RAX, X_RBX, X_RSI, FPOFF(st));
        x64_load_idx(e, 8, X_RCX, X_RBX, X_RDX, FPOFF(st));
        x64_store_idx(e, 8, X_RBX, X_RSI, FPOFF(st), X_RCX);
        x64_store_idx(e, 8, X_RBX, X_RDX, FPOFF(st), X_RAX);
        x64_load_idx(e, 2, X_RAX, X_RBX, X_RSI, FPOFF(st) + 8);
        x64_load_idx(e, 2, X_RCX, X_RBX, X_RDX, FPOFF(st) + 8);
        x64_store_idx(e, 2, X_RBX, X_RSI, FPOFF(st) + 8, X_RCX);
        x64_store_idx(e, 2, X_RBX, X_RDX, FPOFF(st) + 8, X_RAX);
        break;
    }
    }
}

static void gen_x87(Backend *b, const TranslationBlock *tb, const IRInsn *i, int hold)
{
    X64Emit *e = &b->e;
    ColdPath *cp = cold_alloc(b);
    if (!cp) {
        return;
    }
    size_t *slow = cp->jumps;
    unsigned ns = 0;
    bool store = i->sub != IR_X87_FLD64;
    bool pop = i->sub == IR_X87_FSTP64;
    const DecodedInsn *d = i->ptr2;
    bool user = ((tb->flags >> TBF_CPL_SHIFT) & 3) == 3;
    int32_t tlb = user ? OFF(tlb_user) : OFF(tlb);
    cold_capture_helper(b, cp, i);

    bool regform = i->sub >= IR_X87_FLDST;
    if (regform) {
        /* nothing to load */
    } else if (hold == i->a) {
        x64_mov_rr(e, 4, X_RDX, X_RAX);
    } else {
        load_temp(b, X_RDX, i->a);                   /* edx = offset = linear (flat) */
    }
    /* #NM and #MF first, then the pointers (fpu_check_nm, fpu_check_pending, fpu_record;
     * FNSTSW, a control instruction, checks #NM only). */
    x64_test_mi(e, 4, X_RBX, OFF(cr0), CR0_EM | CR0_TS);
    slow[ns++] = x64_jcc_rel32(e, XC_NE);
    if (i->sub == IR_X87_FNSTSW) {
        /* dst = FSW with TOP in bits 11-13 */
        x64_load(e, 1, X_RCX, X_RBX, FPOFF(top));
        x64_shift_ri(e, 4, 4, X_RCX, 11);
        x64_load(e, 2, X_RAX, X_RBX, FPOFF(fsw));
        x64_alu_ri(e, 4, XA_AND, X_RAX, ~(int32_t)FSW_TOP);
        x64_alu_rr(e, 4, XA_OR, X_RAX, X_RCX);
        cp->nj = (uint8_t)ns;
        cp->done = e->pos;
        cp->x87_dst = true;
        cp->dst = i->dst;
        store_temp(b, i->dst, X_RAX);
        return;
    }
    x64_test_mi(e, 1, X_RBX, FPOFF(fsw), FSW_ES);
    slow[ns++] = x64_jcc_rel32(e, XC_NE);
    x64_store_imm(e, 4, X_RBX, FPOFF(fip), (int32_t)i->imm2);
    x64_load(e, 2, X_RAX, X_RBX, OFF(seg[S_CS].sel));
    x64_store(e, 2, X_RBX, FPOFF(fcs), X_RAX);
    x64_store_imm(e, 2, X_RBX, FPOFF(fop), (int32_t)(((d->op & 7) << 8) | d->modrm));
    if (regform) {
        gen_x87_reg_ops(b, i, slow, &ns);
        goto c1;
    }
    x64_store(e, 4, X_RBX, FPOFF(fdp), X_RDX);
    x64_load(e, 2, X_RAX, X_RBX, OFF(seg[0].sel) + (int32_t)i->imm * (int32_t)sizeof(SegCache));
    x64_store(e, 2, X_RBX, FPOFF(fds), X_RAX);
    /* The TLB entry of the 8 bytes (crossing a page misses); rsi = the host address. */
    tlb_fast(e, tlb, X_RDX, 8, store, false, X_RSI, slow, &ns);
    x64_alu_rr(e, 8, XA_ADD, X_RSI, X_RDX);
    /* ecx = 2 * the register (FLD: the new TOP, FST: ST0), its tag's shift. */
    x64_load(e, 1, X_RCX, X_RBX, FPOFF(top));
    if (!store) {
        x64_alu_ri(e, 4, XA_ADD, X_RCX, 7);
        x64_alu_ri(e, 4, XA_AND, X_RCX, 7);
    }
    x64_alu_rr(e, 4, XA_ADD, X_RCX, X_RCX);
    x64_load(e, 2, X_RAX, X_RBX, FPOFF(ftw));
    x64_shift_cl(e, 4, 5, X_RAX);                    /* shr eax, cl */
    x64_alu_ri(e, 4, XA_AND, X_RAX, 3);
    x64_alu_ri(e, 4, XA_CMP, X_RAX, FPU_TAG_EMPTY);
    slow[ns++] = x64_jcc_rel32(e, store ? XC_E : XC_NE);
    if (!store) {
        /* rax = the double, edx = its exponent field */
        x64_load(e, 8, X_RAX, X_RSI, 0);
        x64_mov_rr(e, 8, X_RDX, X_RAX);
        x64_shift_ri(e, 8, 5, X_RDX, 52);
        x64_alu_ri(e, 4, XA_AND, X_RDX, 0x7FF);
        x64_lea32(e, X_RSI, X_RDX, -1);
        x64_alu_ri(e, 4, XA_CMP, X_RSI, 0x7FD);
        size_t special = x64_jcc_rel32(e, XC_A);     /* exponent 0 or 7FFh */
        /* normal: se = sign | exponent + (16383 - 1023), sig = 1 << 63 | fraction << 11 */
        x64_alu_ri(e, 4, XA_ADD, X_RDX, 16383 - 1023);
        x64_mov_rr(e, 8, X_RSI, X_RAX);
        x64_shift_ri(e, 8, 5, X_RSI, 63);
        x64_shift_ri(e, 4, 4, X_RSI, 15);
        x64_alu_rr(e, 4, XA_OR, X_RDX, X_RSI);
        x64_shift_ri(e, 8, 4, X_RAX, 11);
        x64_mov_ri64(e, X_RSI, 0x8000000000000000ull);
        x64_alu_rr(e, 8, XA_OR, X_RAX, X_RSI);
        x64_mov_ri32(e, X_RSI, FPU_TAG_VALID);
        size_t write = x64_jmp_rel32(e);
        if (!e->overflow) {
            x64_patch_rel32(e->buf, special, e->pos);
        }
        /* exponent 0 with nothing but the sign: a zero, tag ZERO (else a denormal, or
         * exponent 7FFh: the handler) */
        x64_test_rr(e, 4, X_RDX, X_RDX);
        slow[ns++] = x64_jcc_rel32(e, XC_NE);
        x64_mov_rr(e, 8, X_RDX, X_RAX);
        x64_shift_ri(e, 8, 4, X_RDX, 1);
        slow[ns++] = x64_jcc_rel32(e, XC_NE);
        x64_shift_ri(e, 8, 5, X_RAX, 63);
        x64_shift_ri(e, 4, 4, X_RAX, 15);
        x64_mov_rr(e, 4, X_RDX, X_RAX);
        x64_alu_rr(e, 4, XA_XOR, X_RAX, X_RAX);
        x64_mov_ri32(e, X_RSI, FPU_TAG_ZERO);
        if (!e->overflow) {
            x64_patch_rel32(e->buf, write, e->pos);
        }
        /* the push: st[new TOP] = (rax, dx), its tag esi, TOP = ecx / 2 */
        x64_shift_cl(e, 4, 4, X_RSI);                /* shl esi, cl */
        x64_store(e, 4, X_RSP, X87_SCRATCH, X_RSI);
        x64_mov_rr(e, 4, X_RSI, X_RCX);
        x64_shift_ri(e, 4, 4, X_RSI, 3);             /* 16 * register */
        x64_store_idx(e, 8, X_RBX, X_RSI, FPOFF(st), X_RAX);
        x64_store_idx(e, 2, X_RBX, X_RSI, FPOFF(st) + 8, X_RDX);
        x64_load(e, 2, X_RAX, X_RBX, FPOFF(ftw));
        x64_mov_ri32(e, X_RDX, 3);
        x64_shift_cl(e, 4, 4, X_RDX);
        x64_alu_ri(e, 4, XA_XOR, X_RDX, -1);
        x64_alu_rr(e, 4, XA_AND, X_RAX, X_RDX);
        x64_alu_rm(e, 4, XA_OR, X_RAX, X_RSP, X87_SCRATCH);
        x64_store(e, 2, X_RBX, FPOFF(ftw), X_RAX);
        x64_shift_ri(e, 4, 5, X_RCX, 1);
        x64_store(e, 1, X_RBX, FPOFF(top), X_RCX);
    } else {
        /* rax = ST0's significand, edx = its sign and exponent */
        x64_store(e, 8, X_RSP, X87_SCRATCH, X_RSI);  /* the host address */
        x64_mov_rr(e, 4, X_RDX, X_RCX);
        x64_shift_ri(e, 4, 4, X_RDX, 3);             /* 16 * register */
        x64_load_idx(e, 8, X_RAX, X_RBX, X_RDX, FPOFF(st));
        x64_load_idx(e, 2, X_RDX, X_RBX, X_RDX, FPOFF(st) + 8);
        x64_mov_rr(e, 4, X_RSI, X_RDX);
        x64_alu_ri(e, 4, XA_AND, X_RSI, 0x7FFF);
        x64_alu_ri(e, 4, XA_SUB, X_RSI, 16383 - 1022);
        x64_alu_ri(e, 4, XA_CMP, X_RSI, 2045);
        size_t other = x64_jcc_rel32(e, XC_A);       /* a zero, or outside the range */
        x64_test_rr(e, 8, X_RAX, X_RAX);
        slow[ns++] = x64_jcc_rel32(e, XC_NS);        /* integer bit clear: unnormal */
        x64_test_ri(e, X_RAX, 0x7FF);
        slow[ns++] = x64_jcc_rel32(e, XC_NE);        /* would round */
        /* double = sign | (E - 15360) << 52 | fraction bits 62..11 */
        x64_alu_ri(e, 4, XA_ADD, X_RSI, 1);
        x64_shift_ri(e, 8, 4, X_RSI, 52);
        x64_shift_ri(e, 8, 4, X_RAX, 1);
        x64_shift_ri(e, 8, 5, X_RAX, 12);
        x64_alu_rr(e, 8, XA_OR, X_RAX, X_RSI);
        size_t sign = x64_jmp_rel32(e);
        if (!e->overflow) {
            x64_patch_rel32(e->buf, other, e->pos);
        }
        x64_test_ri(e, X_RDX, 0x7FFF);
        slow[ns++] = x64_jcc_rel32(e, XC_NE);        /* outside the double's range */
        x64_test_rr(e, 8, X_RAX, X_RAX);
        slow[ns++] = x64_jcc_rel32(e, XC_NE);        /* a denormal or pseudo-denormal */
        if (!e->overflow) {
            x64_patch_rel32(e->buf, sign, e->pos);
        }
        x64_alu_ri(e, 4, XA_AND, X_RDX, 0x8000);
        x64_shift_ri(e, 8, 4, X_RDX, 48);
        x64_alu_rr(e, 8, XA_OR, X_RAX, X_RDX);
        x64_load(e, 8, X_RSI, X_RSP, X87_SCRATCH);
        x64_store(e, 8, X_RSI, 0, X_RAX);
        if (pop) {
            x64_load(e, 2, X_RAX, X_RBX, FPOFF(ftw));
            x64_mov_ri32(e, X_RDX, FPU_TAG_EMPTY);
            x64_shift_cl(e, 4, 4, X_RDX);
            x64_alu_rr(e, 4, XA_OR, X_RAX, X_RDX);
            x64_store(e, 2, X_RBX, FPOFF(ftw), X_RAX);
            x64_shift_ri(e, 4, 5, X_RCX, 1);
            x64_alu_ri(e, 4, XA_ADD, X_RCX, 1);
            x64_alu_ri(e, 4, XA_AND, X_RCX, 7);
            x64_store(e, 1, X_RBX, FPOFF(top), X_RCX);
        }
    }
c1:
    /* C1 = 0 */
    x64_load(e, 2, X_RAX, X_RBX, FPOFF(fsw));
    x64_alu_ri(e, 4, XA_AND, X_RAX, ~(int32_t)FSW_C1);
    x64_store(e, 2, X_RBX, FPOFF(fsw), X_RAX);
    cp->nj = (uint8_t)ns;
    cp->done = e->pos;
}

/* string_run_check: the ECX elements of size 1 << shift from the address in register lin lie
 * in one page whose TLB entry (at tlb) maps RAM for writing (wr) or reading; host = their
 * host address, else a jump to a slow path. Clobbers rax and rsi. */
static void string_run_check(X64Emit *e, int32_t tlb, int lin, unsigned shift, bool wr,
                             int host, size_t *slow, unsigned *ns)
{
    x64_mov_rr(e, 4, X_RAX, lin);
    x64_lea32_sib(e, X_RSI, X_RAX, X_RCX, (int)shift, -1);
    x64_shift_ri(e, 4, 5, X_RAX, 12 - 5);
    x64_alu_ri(e, 4, XA_AND, X_RAX, (TLB_SIZE - 1) << 5);
    tlb_tag_compare(e, tlb, wr, X_RSI, host, slow, ns);
    x64_mov_rr(e, 4, X_RAX, lin);
    x64_alu_rr(e, 8, XA_ADD, host, X_RAX);
}

/* gen_string: IR_STRING. ECX, EDI (ESI, EAX) come into their cache registers first, so that
 * the slow path (the handler, with the registers as they were) reloads the same mapping.
 * The fast path: DF clear, at most a page of elements, the destination's bytes (and the
 * source's) in one page each that the TLB maps to RAM for writing (reading), then the host's
 * REP STOS/MOVS (the same element-by-element result for overlapping MOVS) with rdi saved;
 * EDI (ESI) advance by the bytes done and ECX becomes 0. */
static void gen_string(Backend *b, const TranslationBlock *tb, const IRInsn *i)
{
    X64Emit *e = &b->e;
    bool movs = i->sub == 1;
    unsigned size = i->size, shift = size == 4 ? 2 : size == 2 ? 1 : 0;
    static const int8_t used_movs[] = {R_ECX, R_EDI, R_ESI}, used_stos[] = {R_ECX, R_EDI, R_EAX};
    const int8_t *used = movs ? used_movs : used_stos;
    b->gc_pin = (uint8_t)((1u << used[0]) | (1u << used[1]) | (1u << used[2]));
    for (int k = 0; k < 3; k++) {
        if (b->gc_host[used[k]] >= 0) {
            alias_break(b, used[k]); /* temps copied from them keep the old values */
        }
        gc_get(b, used[k], true);
    }
    b->gc_pin = 0;
    int hc = b->gc_host[R_ECX], hd = b->gc_host[R_EDI], h3 = b->gc_host[used[2]];
    ColdPath *cp = cold_alloc(b);
    if (!cp || hc < 0 || hd < 0 || h3 < 0) {
        b->overflow = true;
        return;
    }
    size_t *slow = cp->jumps;
    unsigned ns = 0;
    bool user = ((tb->flags >> TBF_CPL_SHIFT) & 3) == 3;
    int32_t tlb = user ? OFF(tlb_user) : OFF(tlb);
    cold_capture_helper(b, cp, i);

    x64_test_mi(e, 4, X_RBX, OFF(eflags), EF_DF);
    slow[ns++] = x64_jcc_rel32(e, XC_NE);
    x64_mov_rr(e, 4, X_RCX, hc);
    x64_alu_ri(e, 4, XA_CMP, X_RCX, (int32_t)(4096u >> shift));
    slow[ns++] = x64_jcc_rel32(e, XC_A);
    x64_test_rr(e, 4, X_RCX, X_RCX);
    size_t none = x64_jcc_rel32(e, XC_E);
    /* The source (MOVS): its run in one page mapped for reading; rdx = its host address.
     * The destination, mapped for writing (code pages and MMIO have flags in the tag). */
    if (movs) {
        string_run_check(e, tlb, h3, shift, false, X_RDX, slow, &ns);
    }
    string_run_check(e, tlb, hd, shift, true, X_RSI, slow, &ns);
    if (!movs) {
        x64_mov_rr(e, 4, X_RAX, h3); /* the value (h3 may be rdi: read before it changes) */
    }
    x64_push(e, X_RDI);
    x64_mov_rr(e, 8, X_RDI, X_RSI);
    if (movs) {
        x64_mov_rr(e, 8, X_RSI, X_RDX);
    }
    x64_rep_string(e, movs, size);
    x64_pop(e, X_RDI);
    if (!e->overflow) {
        x64_patch_rel32(e->buf, none, e->pos);
    }
    /* EDI (and ESI) += ECX * size; ECX = 0 (its value is still in its register) */
    x64_lea32_sib(e, hd, hd, hc, (int)shift, 0);
    if (movs) {
        x64_lea32_sib(e, h3, h3, hc, (int)shift, 0);
    }
    x64_alu_rr(e, 4, XA_XOR, hc, hc);
    cp->nj = (uint8_t)ns;
    cp->done = e->pos;
    b->gc_dirty[R_ECX] = b->gc_dirty[R_EDI] = true;
    if (movs) {
        b->gc_dirty[R_ESI] = true;
    }
}

/* host_flags: recompute the host flags of the guest operation of IR_BRFLAGS/IR_SETFLAGS at
 * its width: the condition codes of x86 are the same on both sides. Clobbers rax. */
static void host_flags(Backend *b, const IRInsn *i)
{
    X64Emit *e = &b->e;
    int w = i->size;
    /* A 32-bit CMP or TEST reads the first operand where it is (an ADD would change it). */
    int ra = w == 4 && i->c != 1 && i->a >= 0 && i->a < IR_MAX_TEMPS && !b->known[i->a]
                 ? temp_src(b, i->a) : -1;
    if (ra < 0) {
        load_temp(b, X_RAX, i->a);
        ra = X_RAX;
    }
    if (i->c == 2) {
        x64_test_rr(e, w, ra, ra);
    } else {
        int aop = i->c == 1 ? XA_ADD : XA_CMP;
        if (b->known[i->b] && w != 2 && w != 1) {
            x64_alu_ri(e, w, aop, ra, (int32_t)b->kval[i->b]);
        } else {
            materialize(b, i->b);
            if (temp_src(b, i->b) >= 0) {
                x64_alu_rr_w(e, w, aop, ra, temp_src(b, i->b));
            } else {
                x64_alu_rm(e, w, aop, ra, X_FRAME, TEMP(i->b));
            }
        }
    }
}

/* gen_alu_inplace: "t = g OP x; [SETCC ...;] STREG g, t" (a 32-bit op on a temp aliasing
 * cached guest register g, written back to g with nothing that can fault or leave the block
 * in between) as one
 * host op on g's host register instead of a copy through rax and back. Temps still holding
 * g's old value get it in their homes first; t aliases g afterwards. Returns false (nothing
 * emitted) when the pattern or the op does not fit. */
static bool gen_alu_inplace(Backend *b, const IRInsn *i, int hold)
{
    X64Emit *e = &b->e;
    if (i->size != 4 || i->a < 0 || i->a >= IR_MAX_TEMPS || b->alias[i->a] < 0 ||
        i->dst < 0 || i->dst >= IR_MAX_TEMPS) {
        return false;
    }
    int g = b->alias[i->a];
    int h = b->gc_host[g];
    /* Between the op and its STREG only what cannot fault or leave (so nothing sees g's new
     * value early): lazy-flag updates, constants, page-group accesses (a PUSH's store). */
    unsigned nx = b->k + 1;
    while (nx < b->ir->n &&
           (b->ir->insn[nx].opc == IR_NOP || b->ir->insn[nx].opc == IR_SETCC ||
            b->ir->insn[nx].opc == IR_MOVI ||
            ((b->ir->insn[nx].opc == IR_ST || b->ir->insn[nx].opc == IR_LD) &&
             b->ir->insn[nx].c >= 0))) {
        nx++;
    }
    if (h < 0 || nx >= b->ir->n) {
        return false;
    }
    const IRInsn *st = &b->ir->insn[nx];
    if (st->opc != IR_STREG || st->size != 4 || st->a != g || st->b != i->dst) {
        return false;
    }
    int sub = i->sub;
    bool simple = sub == XA_ADD || sub == XA_OR || sub == XA_AND || sub == XA_SUB ||
                  sub == XA_XOR;
    bool shift = sub >= IR_ALU_SHL && sub <= IR_ALU_ROR && sub != IR_ALU_MUL &&
                 sub != IR_ALU_IMULH && sub != IR_ALU_BSWAP;
    bool binary = simple || shift || sub == IR_ALU_MUL;   /* reads temp b */
    if (!binary && !(sub >= 16 && sub < 32) && sub != IR_ALU_BSWAP) {
        return false;
    }
    if (binary && (i->b < 0 || i->b >= IR_MAX_TEMPS)) {
        return false;
    }
    /* The second operand: a constant, a host register (g's own, read before the write, or
     * rax when it still holds it: a load just before), or a stack slot. */
    int src = -1;
    bool imm = false;
    if (binary) {
        if (b->known[i->b] && sub != IR_ALU_MUL) {
            imm = true;
        } else if (shift) {
            load_temp(b, X_RCX, i->b); /* the count, before g's aliases go */
        } else {
            materialize(b, i->b);
            src = b->alias[i->b] == g ? h : hold == i->b ? X_RAX : temp_src(b, i->b);
        }
    }
    /* Temps aliasing g that are read later keep the old value in their homes. */
    for (int t = 0; t < b->ir->ntemps; t++) {
        if (b->alias[t] != g) {
            continue;
        }
        b->alias[t] = -1;
        if (t == i->dst || !temp_live_from(b, t, b->k + 1)) {
            continue;
        }
        if (temp_reg(b, t) >= 0) {
            x64_mov_rr(e, 4, temp_reg(b, t), h);
        } else {
            x64_store(e, 4, X_FRAME, TEMP(t), h);
        }
    }
    static const int8_t subs[] = {4, 5, 7, -1, -1, -1, 0, 1}; /* SHL..ROR */
    if (shift) {
        if (imm) {
            if (b->kval[i->b] & 31) {
                x64_shift_ri(e, 4, subs[sub - IR_ALU_SHL], h, (uint8_t)(b->kval[i->b] & 31));
            }
        } else {
            x64_shift_cl(e, 4, subs[sub - IR_ALU_SHL], h);
        }
    } else if (sub >= 16 && sub < 32) {
        x64_shift_ri(e, 4, 4, h, (uint8_t)(sub - 16));
    } else if (sub == IR_ALU_BSWAP) {
        x64_bswap(e, h);
    } else if (sub == IR_ALU_MUL) {
        if (src >= 0) {
            x64_imul_rr(e, 4, h, src);
        } else {
            x64_imul_rm(e, 4, h, X_FRAME, TEMP(i->b));
        }
    } else if (imm) {
        x64_alu_ri(e, 4, sub, h, (int32_t)b->kval[i->b]);
    } else if (src >= 0) {
        x64_alu_rr(e, 4, sub, h, src);
    } else {
        x64_alu_rm(e, 4, sub, h, X_FRAME, TEMP(i->b));
    }
    b->gc_dirty[g] = true;
    b->skip_k = nx;
    b->inplace_alias = g; /* the SETCCs before the STREG, and maybe later ops, read it */
    return true;
}

/* gen_alu_direct: a 32-bit ADD, SUB, AND, OR or XOR computed straight into the host register
 * that keeps its result (the temp's home, or rax when only the next op reads it, from rax):
 * LEA for a constant added or subtracted, else a copy of the first operand and the op,
 * instead of a copy to rax, the op and a copy back. hold: the temp rax holds. Returns false
 * (nothing emitted) when the op or its operands' places do not fit. */
static bool gen_alu_direct(Backend *b, const IRInsn *i, int hold)
{
    X64Emit *e = &b->e;
    if (i->size != 4 || (i->sub != XA_ADD && i->sub != XA_SUB && i->sub != XA_AND &&
                         i->sub != XA_OR && i->sub != XA_XOR) ||
        i->a < 0 || i->a >= IR_MAX_TEMPS || i->b < 0 || i->b >= IR_MAX_TEMPS ||
        b->known[i->a] || i->dst < 0) {
        return false;
    }
    bool in_rax = b->rax_only && b->rax_only[b->k];
    int dreg = in_rax ? X_RAX : temp_reg(b, i->dst);
    int ra = hold == i->a ? X_RAX : temp_src(b, i->a);
    if (dreg < 0 || ra < 0) {
        return false;
    }
    if (b->known[i->b]) {
        int32_t k = (int32_t)b->kval[i->b];
        if ((i->sub == XA_ADD || i->sub == XA_SUB) && i->c != 1) {
            /* (a fused IR_BRFLAGS reads the host flags: then the op itself) */
            x64_lea32(e, dreg, ra, i->sub == XA_SUB ? (int32_t)(0u - (uint32_t)k) : k);
        } else {
            if (ra != dreg) {
                x64_mov_rr(e, 4, dreg, ra);
            }
            x64_alu_ri(e, 4, i->sub, dreg, k);
        }
    } else {
        int rb = hold == i->b ? X_RAX : temp_src(b, i->b);
        if (rb == dreg && ra != dreg) {
            return false; /* the copy would clobber the second operand */
        }
        if (ra != dreg) {
            x64_mov_rr(e, 4, dreg, ra);
        }
        if (rb >= 0) {
            x64_alu_rr(e, 4, i->sub, dreg, rb);
        } else {
            x64_alu_rm(e, 4, i->sub, dreg, X_FRAME, TEMP(i->b));
        }
    }
    b->alias[i->dst] = -1;
    b->rax_temp = in_rax ? i->dst : (hold == i->dst ? -1 : hold);
    return true;
}

/* redo_lazy_op: the host flags of the lazy-flag op `op` (ADD, SUB or logic, any width) from
 * cc_dst/cc_src: the same operation on the operands at that width. Clobbers rax and rcx.
 * Returns false for a logic op (its AF is not the host's). */
static bool redo_lazy_op(X64Emit *e, uint32_t op)
{
    int w = 1 << ((op - 1) % 3);
    int cls = (int)((op - 1) / 3 * 3 + 1);
    x64_load(e, 4, X_RAX, X_RBX, OFF(cc_dst));
    x64_load(e, 4, X_RCX, X_RBX, OFF(cc_src));
    if (cls == CC_OP_SUB8) {
        x64_alu_rr(e, 4, XA_ADD, X_RAX, X_RCX);          /* the minuend */
        x64_alu_rr_w(e, w, XA_CMP, X_RAX, X_RCX);
    } else if (cls == CC_OP_ADD8) {
        x64_alu_rr(e, 4, XA_SUB, X_RAX, X_RCX);          /* the first addend */
        x64_alu_rr_w(e, w, XA_ADD, X_RAX, X_RCX);
    } else {
        x64_test_rr(e, w, X_RAX, X_RAX);
        return false;
    }
    return true;
}

/* call_flags_fn: fn(cpu) or fn(cpu, cc) (cc >= 0) from inside the block, with the dirty
 * cached registers written back first and every cached one loaded again after (the call
 * clobbers their host registers). The result is in rax. */
static void call_flags_fn(Backend *b, const void *fn, int cc)
{
    X64Emit *e = &b->e;
    gc_spill(b);
    x64_mov_rr(e, 8, X_RDI, X_RBX);
    if (cc >= 0) {
        x64_mov_ri32(e, X_RSI, (uint32_t)cc);
    }
    call_abs(b, fn);
    for (int r = 0; r < 8; r++) {
        if (b->gc_host[r] >= 0) {
            x64_load(e, 4, b->gc_host[r], X_RBX, OFF(regs) + 4 * r);
        }
    }
}

/* store_temp_field: the CPUState field at disp = temp t (0 for -1): as an immediate, from
 * rax when it holds t (b->rax_temp), from the host register t lives in, else through rax. */
static void store_temp_field(Backend *b, int t, int32_t disp)
{
    X64Emit *e = &b->e;
    if (t < 0 || b->known[t]) {
        x64_store_imm(e, 4, X_RBX, disp, t < 0 ? 0 : (int32_t)b->kval[t]);
    } else if (b->rax_temp == t) {
        x64_store(e, 4, X_RBX, disp, X_RAX);
    } else if (temp_src(b, t) >= 0) {
        x64_store(e, 4, X_RBX, disp, temp_src(b, t));
    } else {
        load_temp(b, X_RAX, t);
        x64_store(e, 4, X_RBX, disp, X_RAX);
        b->rax_temp = t;
    }
}

/* mem_keeps_rsi: IR_LD/IR_ST i leaves rsi alone (on its fast path; its slow path loads it
 * again): a page group's access, or a flat segment's (gen_mem). */
static bool mem_keeps_rsi(const TranslationBlock *tb, const IRInsn *i)
{
    return i->c >= 0 || flat_seg(tb, (int)i->imm);
}

static void gen_op(Backend *b, TranslationBlock *tb, const IRInsn *i, bool dead, bool lazy)
{
    X64Emit *e = &b->e;
    int32_t d;
    if (b->rot_kind && b->k >= b->rot_end) {
        b->rot_kind = 0; /* the op replacing the rotate's flags (perhaps a NOP now) */
    }
    if (b->dfl_k >= 0) {
        const IRInsn *f = &b->ir->insn[b->dfl_k];
        int def = ir_temp_def(i);
        if (!defer_window_op(i) ||
            (def >= 0 && (def == f->a || def == f->b || def == f->c))) {
            dfl_flush(b);
        }
    }
    /* rax caching: an op that starts by loading a temp rax already holds skips the load. */
    int hold = b->rax_temp;
    b->rax_temp = -1;
    /* Constant tracking: a temp written by anything but IR_MOVI is no longer known; a label
     * joins paths, so nothing is known after it. */
    if (i->opc == IR_LABEL || i->opc == IR_CALL) {
        b->cc_op_known = -1; /* a helper may set it; at a label paths join */
    }
    bool side_exit = (i->opc == IR_BRCOND || i->opc == IR_BRFLAGS) && i->imm2 == 1;
    if ((i->opc == IR_LABEL || i->opc == IR_BRCOND || i->opc == IR_BRFLAGS) && !side_exit) {
        /* The code after the label reads homes, not constants or other registers (a side
         * exit's reads nothing: it only leaves). */
        materialize_all(b);
        if (!b->unreachable) {
            alias_break_all(b);
        }
    }
    if (i->opc == IR_LABEL) {
        memset(b->known, 0, sizeof(b->known));
    }
    /* rsi keeps a page group's host address across the ops that leave it alone. */
    if (!ir_op_register_only(i->opc) && i->opc != IR_INSN_START && i->opc != IR_CHECK &&
        !side_exit && !((i->opc == IR_LD || i->opc == IR_ST) && mem_keeps_rsi(tb, i))) {
        b->rsi_group = -1;
    }
    /* The temp this op defines stops being a constant after the op (which may read it). */
    int def = i->dst >= 0 && i->dst < IR_MAX_TEMPS && i->opc != IR_MOVI && i->opc != IR_NOP
                  ? i->dst : -1;
    switch ((IROpc)i->opc) {
    case IR_NOP:
        b->rax_temp = hold;
        break;
    case IR_INSN_START:
    case IR_SETEIP:
        b->rax_temp = hold;
        b->sync_lazy = false;
        if (i->opc == IR_SETEIP) {
            b->eip_stale = false;
            x64_store_imm(e, 4, X_RBX, OFF(eip), (int32_t)i->imm);
        }
        break;
    case IR_INSN_END:
        b->rax_temp = hold;
        b->pending++;
        break;
    case IR_SYNC:
        if (lazy) {
            b->rax_temp = hold;
            b->ncold_at_sync = b->ncold;
            b->sync_lazy = true;
            b->sync_eip = i->imm;
            b->sync_next = i->imm2;
            b->eip_stale = true;
            break;
        }
        emit_sync(b, i->imm, i->imm2, b->pending, b->gc_host[R_ESP]);
        b->pending = 0;
        b->eip_stale = false;
        break;
    case IR_CALL:
        /* A helper reads and writes guest registers in the CPUState. */
        alias_break_all(b);
        gc_writeback(b);
        gc_forget(b);
        x64_mov_rr(e, 8, X_RDI, X_RBX);
        x64_mov_ri64(e, X_RSI, (uint64_t)(uintptr_t)i->ptr2);
        call_abs(b, i->ptr);
        if (i->dst >= 0) {
            store_temp(b, i->dst, X_RAX);
            b->rax_temp = i->dst;
        }
        break;
    case IR_CHECK:
        if (b->eip_stale && b->ncold == b->ncold_at_sync) {
            /* Nothing since the deferred sync had a slow path (page-group accesses only):
             * the instruction went on at its successor, and nothing can have changed. */
            break;
        }
        if (b->eip_stale) {
            /* After a deferred sync only a slow path (a helper) can have changed anything
             * the checks look at; EIP is set here, before any exit. An inline instruction
             * goes on at its successor, so there is nothing to compare. EIP stays stale on
             * the fast path: every later exit sets it. */
            x64_alu_mi(e, 1, XA_CMP, X_FRAME, SLOW_FLAG, 0);
            size_t skip = x64_jcc_rel32(e, XC_E);
            x64_store_imm(e, 1, X_FRAME, SLOW_FLAG, 0);
            x64_store_imm(e, 4, X_RBX, OFF(eip), (int32_t)b->sync_next);
            if (!i->sub && i->imm != b->sync_next) {
                x64_alu_mi(e, 4, XA_CMP, X_RBX, OFF(eip), (int32_t)i->imm);
                exit_on(b, XC_NE);
            }
            stop_checks(b);
            if (!e->overflow) {
                x64_patch_rel32(e->buf, skip, e->pos);
            }
            break;
        } else if (!i->sub) {
            x64_alu_mi(e, 4, XA_CMP, X_RBX, OFF(eip), (int32_t)i->imm);
            exit_on(b, XC_NE);
        }
        stop_checks(b);
        break;
    case IR_MOVI:
        b->alias[i->dst] = -1;
        b->known[i->dst] = true;
        b->unmat[i->dst] = true;
        b->kval[i->dst] = i->imm;
        b->rax_temp = hold == i->dst ? -1 : hold;
        break;
    case IR_LDREG: {
        if (i->a < 0 || i->a >= 8) {
            reg_ref(i->a, i->size, &d);
            x64_load(e, i->size, X_RAX, X_RBX, d);
        } else {
            int h = gc_get(b, guest_reg_of(i), true);
            if (i->size == 4) {
                /* The temp is the register's host register until either changes. */
                b->alias[i->dst] = (int8_t)i->a;
                b->rax_temp = hold == i->dst ? -1 : hold;
                break;
            } else if ((i->size == 2 || i->a < 4) && temp_reg(b, i->dst) >= 0 &&
                       !(b->rax_only && b->rax_only[b->k])) {
                /* Straight into the temp's home register; rax keeps what it held. */
                x64_movzx_rr(e, i->size, temp_reg(b, i->dst), h);
                b->alias[i->dst] = -1;
                b->rax_temp = hold == i->dst ? -1 : hold;
                break;
            } else if (i->size == 2 || i->a < 4) {
                x64_movzx_rr(e, i->size, X_RAX, h);
            } else {
                x64_mov_rr(e, 4, X_RAX, h); /* AH..BH */
                x64_shift_ri(e, 4, 5, X_RAX, 8);
                x64_movzx_rr(e, 1, X_RAX, X_RAX);
            }
        }
        store_temp(b, i->dst, X_RAX);
        b->rax_temp = i->dst;
        break;
    }
    case IR_STREG: {
        if (i->a < 0 || i->a >= 8) {
            reg_ref(i->a, i->size, &d);
            if (hold != i->b) {
                load_temp(b, X_RAX, i->b);
            }
            x64_store(e, i->size, X_RBX, d, X_RAX);
            b->rax_temp = i->b;
            break;
        }
        int g = guest_reg_of(i);
        if (b->gc_host[g] >= 0) {
            alias_break(b, g); /* temps copied from the old value keep it */
        }
        if (i->size == 4) {
            int h = gc_get(b, g, false);
            if (hold == i->b) {
                x64_mov_rr(e, 4, h, X_RAX);
            } else {
                load_temp(b, h, i->b);
            }
            b->rax_temp = hold;
            if (i->b >= 0 && i->b < IR_MAX_TEMPS && !b->known[i->b]) {
                /* Later readers take it from g's register (its home may not be written:
                 * compute_rax_only). */
                b->alias[i->b] = (int8_t)g;
            }
        } else {
            int h = gc_get(b, g, true);
            if (hold != i->b) {
                load_temp(b, X_RAX, i->b);
            }
            b->rax_temp = i->b;
            if (i->size == 2 || i->a < 4) {
                x64_mov_rr_w(e, i->size, h, X_RAX);
            } else {
                /* AH..BH: bits 8-15 of the register. */
                x64_movzx_rr(e, 1, X_RAX, X_RAX);
                x64_shift_ri(e, 4, 4, X_RAX, 8);
                x64_alu_ri(e, 4, XA_AND, h, (int32_t)0xFFFF00FF);
                x64_alu_rr(e, 4, XA_OR, h, X_RAX);
                b->rax_temp = -1;
            }
        }
        b->gc_dirty[g] = true;
        break;
    }
    case IR_ALU:
        if (gen_alu_inplace(b, i, hold)) {
            b->rax_temp = hold == i->dst ? -1 : hold; /* rax untouched */
            break;
        }
        if (gen_alu_direct(b, i, hold)) {
            break;
        }
        if (hold != i->a) {
            load_temp(b, X_RAX, i->a);
        }
        switch (i->sub) {
        case IR_ALU_SEXT8:
        case IR_ALU_SEXT16:
            x64_movsx_rr(e, i->sub == IR_ALU_SEXT8 ? 1 : 2, X_RAX, X_RAX);
            break;
        case IR_ALU_SHL:
        case IR_ALU_SHR:
        case IR_ALU_SAR:
        case IR_ALU_ROL:
        case IR_ALU_ROR: {
            static const int8_t subs[] = {4, 5, 7, -1, -1, -1, 0, 1}; /* SHL..ROR */
            int sub = subs[i->sub - IR_ALU_SHL];
            if (b->known[i->b]) {
                if (b->kval[i->b] & 31) {
                    x64_shift_ri(e, 4, sub, X_RAX, (uint8_t)(b->kval[i->b] & 31));
                }
            } else {
                load_temp(b, X_RCX, i->b);
                x64_shift_cl(e, 4, sub, X_RAX);
            }
            break;
        }
        case IR_ALU_MUL:
            materialize(b, i->b);
            if (temp_src(b, i->b) >= 0) {
                x64_imul_rr(e, 4, X_RAX, temp_src(b, i->b));
            } else {
                x64_imul_rm(e, 4, X_RAX, X_FRAME, TEMP(i->b));
            }
            break;
        case IR_ALU_IMULH:
            x64_movsxd_rr(e, X_RAX, X_RAX);
            load_temp(b, X_RCX, i->b);
            x64_movsxd_rr(e, X_RCX, X_RCX);
            x64_imul_rr(e, 8, X_RAX, X_RCX);
            x64_shift_ri(e, 8, 5, X_RAX, 32);
            break;
        case IR_ALU_MULHU:
            x64_mov_rr(e, 4, X_RAX, X_RAX); /* zero-extended: the 64-bit product is exact */
            load_temp(b, X_RCX, i->b);
            x64_imul_rr(e, 8, X_RAX, X_RCX);
            x64_shift_ri(e, 8, 5, X_RAX, 32);
            break;
        case IR_ALU_BSF:
        case IR_ALU_BSR:
            /* a zero source sets ZF and leaves the result b */
            load_temp(b, X_RCX, i->b);
            x64_bsf_rr(e, i->sub == IR_ALU_BSR, X_RAX, X_RAX);
            x64_cmov_rr(e, XC_E, X_RAX, X_RCX);
            break;
        case IR_ALU_BSWAP:
            x64_bswap(e, X_RAX);
            break;
        default:
            if (i->sub >= 16) {
                x64_shift_ri(e, 4, 4, X_RAX, (uint8_t)(i->sub - 16)); /* shl */
            } else if (i->c == 1 && i->size < 4) {
                /* A fused IR_BRFLAGS/IR_SETFLAGS reads the flags: the op at its width (the
                 * zero extension below leaves them). */
                int rb = temp_src(b, i->b);
                if (b->known[i->b] || rb < 0) {
                    load_temp(b, X_RCX, i->b);
                    rb = X_RCX;
                }
                x64_alu_rr_w(e, i->size, i->sub, X_RAX, rb);
            } else if (b->known[i->b]) {
                x64_alu_ri(e, 4, i->sub, X_RAX, (int32_t)b->kval[i->b]);
            } else {
                if (temp_src(b, i->b) >= 0) {
                    x64_alu_rr(e, 4, i->sub, X_RAX, temp_src(b, i->b));
                } else {
                    x64_alu_rm(e, 4, i->sub, X_RAX, X_FRAME, TEMP(i->b));
                }
            }
            break;
        }
        if (i->size < 4 && i->c == 1) {
            x64_movzx_rr(e, i->size, X_RAX, X_RAX);
        } else if (i->size == 1) {
            x64_alu_ri(e, 4, XA_AND, X_RAX, 0xFF);
        } else if (i->size == 2) {
            x64_alu_ri(e, 4, XA_AND, X_RAX, 0xFFFF);
        }
        store_temp(b, i->dst, X_RAX);
        b->rax_temp = i->dst;
        break;
    case IR_EA: {
        uint32_t disp = i->imm; /* wraps modulo 2^32 like the guest's address */
        int ra = -1, rx = -1;
        if (i->a >= 0 && b->known[i->a]) {
            disp += b->kval[i->a];
        } else if (i->a >= 0) {
            ra = hold == i->a ? X_RAX : temp_src(b, i->a);
            if (ra < 0) {
                load_temp(b, X_RCX, i->a);
                ra = X_RCX;
            }
        }
        if (i->b >= 0 && b->known[i->b]) {
            disp += b->kval[i->b] << (i->sub & 3);
        } else if (i->b >= 0) {
            rx = hold == i->b ? X_RAX : temp_src(b, i->b);
            if (rx < 0) {
                load_temp(b, X_RDX, i->b);
                rx = X_RDX;
            }
        }
        /* LEA r32: straight into the register's host register when the next op stores the
         * result there and no operand is that register (the STREG is skipped; later readers
         * of the temp read the register, as after the STREG). */
        unsigned nx = b->k + 1;
        while (nx < b->ir->n && b->ir->insn[nx].opc == IR_NOP) {
            nx++;
        }
        const IRInsn *st = nx < b->ir->n ? &b->ir->insn[nx] : NULL;
        int dreg = X_RAX;
        if (st && st->opc == IR_STREG && st->size == 4 && st->a >= 0 && st->a < 8 &&
            st->b == i->dst && b->skip_k == ~0u &&
            (i->a < 0 || b->alias[i->a] != st->a) && (i->b < 0 || b->alias[i->b] != st->a)) {
            int g = st->a;
            if (b->gc_host[g] >= 0) {
                alias_break(b, g); /* temps copied from the old value keep it */
            }
            dreg = gc_get(b, g, false);
            b->gc_dirty[g] = true;
            b->skip_k = nx;
            b->inplace_alias = g;
        }
        if (rx >= 0) {
            x64_lea32_sib(e, dreg, ra, rx, i->sub & 3, (int32_t)disp);
        } else if (ra >= 0) {
            x64_lea32(e, dreg, ra, (int32_t)disp);
        } else {
            x64_mov_ri32(e, dreg, disp);
        }
        if (dreg != X_RAX) {
            b->rax_temp = hold == i->dst || hold == i->a || hold == i->b ? -1 : hold;
            break;
        }
        store_temp(b, i->dst, X_RAX);
        b->rax_temp = i->dst;
        break;
    }
    case IR_X87:
        gen_x87(b, tb, i, hold);
        if (i->dst >= 0) {
            b->rax_temp = i->dst; /* FNSTSW: both paths leave it in eax */
        }
        break;
    case IR_SZAPCC: {
        /* Expected cc_op: recompute SF/ZF/AF/PF as gen_rotate_flags' host recompute does,
         * from cc_dst/cc_src; else cpu_cc_compute (registers spilled and reloaded around). */
        uint32_t op = i->imm;
        uint32_t mask = EF_SF | EF_ZF | EF_PF | EF_AF | (i->sub ? EF_OF : 0);
        x64_alu_mi(e, 4, XA_CMP, X_RBX, OFF(cc_op), (int32_t)op);
        size_t slow = x64_jcc_rel32(e, XC_NE);
        if (op == CC_OP_RAW) {
            x64_load(e, 4, X_RCX, X_RBX, OFF(cc_src));
        } else {
            if (!redo_lazy_op(e, op)) {
                mask &= ~(uint32_t)EF_AF;                         /* logic: AF clear */
            }
            x64_byte(e, 0x9C); /* pushfq */
            x64_pop(e, X_RCX);
        }
        x64_alu_ri(e, 4, XA_AND, X_RCX, (int32_t)mask);
        size_t done = x64_jmp_rel32(e);
        if (!e->overflow) {
            x64_patch_rel32(e->buf, slow, e->pos);
        }
        call_flags_fn(b, (const void *)cpu_cc_compute, -1);
        x64_mov_rr(e, 4, X_RCX, X_RAX);
        x64_alu_ri(e, 4, XA_AND, X_RCX,
                   (int32_t)(EF_SF | EF_ZF | EF_PF | EF_AF | (i->sub ? EF_OF : 0)));
        if (!e->overflow) {
            x64_patch_rel32(e->buf, done, e->pos);
        }
        store_temp(b, i->dst, X_RCX);
        break;
    }
    case IR_CONDCC: {
        /* Expected cc_op: the host flags of the same operation on cc_dst/cc_src (or the raw
         * flags of CC_OP_RAW / CC_OP_EFLAGS through popfq) and a setcc; INC/DEC's CF is
         * cc_src2. Else cpu_cond. */
        uint32_t op = i->imm;
        int cc = i->sub;
        x64_alu_mi(e, 4, XA_CMP, X_RBX, OFF(cc_op), (int32_t)op);
        size_t slow = x64_jcc_rel32(e, XC_NE);
        if (op >= CC_OP_INC8 && op <= CC_OP_DEC32) {
            x64_load(e, 4, X_RCX, X_RBX, OFF(cc_src2));
            x64_alu_ri(e, 4, XA_AND, X_RCX, 1);
            if (cc == XC_AE) {
                x64_alu_ri(e, 4, XA_XOR, X_RCX, 1);
            }
        } else {
            if (op == CC_OP_RAW || op == CC_OP_EFLAGS) {
                x64_load(e, 4, X_RCX, X_RBX, op == CC_OP_RAW ? OFF(cc_src) : OFF(eflags));
                x64_alu_ri(e, 4, XA_AND, X_RCX,
                           EF_CF | EF_PF | EF_AF | EF_ZF | EF_SF | EF_OF);
                x64_push(e, X_RCX);
                x64_byte(e, 0x9D); /* popfq: only the six arithmetic flags */
            } else {
                redo_lazy_op(e, op);
            }
            x64_setcc(e, cc, X_RCX);
            x64_movzx_rr(e, 1, X_RCX, X_RCX);
        }
        size_t done = x64_jmp_rel32(e);
        if (!e->overflow) {
            x64_patch_rel32(e->buf, slow, e->pos);
        }
        call_flags_fn(b, (const void *)cpu_cond, cc);
        x64_movzx_rr(e, 1, X_RCX, X_RAX);
        if (!e->overflow) {
            x64_patch_rel32(e->buf, done, e->pos);
        }
        store_temp(b, i->dst, X_RCX);
        break;
    }
    case IR_ROTPEND:
        /* The rotate's result for the slow paths up to the next SETCC (jit_helper_ld), which
         * may leave the lazy flags as CC_OP_RAW. */
        b->rax_temp = hold;
        store_temp_field(b, i->a, OFF(rot_val));
        b->rot_kind = i->sub;
        b->rot_end = i->imm;
        b->cc_op_known = -1;
        b->j->stats.rot_flags_cold++;
        break;
    case IR_SETCC:
        b->dfl_k = -1; /* replaced: a deferred SETCC before this one is no longer needed */
        if (dead) {
            /* A later op of the block replaces the lazy flags before anything (a helper, a
             * possible fault, an exit) can look at them. */
            b->rax_temp = hold;
            break;
        }
        if (b->defer && b->defer[b->k]) {
            /* Stored only where something may look at them before the next SETCC replaces
             * them: the slow paths and side exits in between (jit_opt_defer_flags). */
            b->dfl_k = (int)b->k;
            b->j->stats.flags_deferred++;
            if (b->cc_op_known != (int64_t)i->imm) {
                b->cc_op_known = -1; /* a slow path may store it, or not */
            }
            b->rax_temp = hold;
            break;
        }
        if (b->cc_op_known != (int64_t)i->imm) {
            x64_store_imm(e, 4, X_RBX, OFF(cc_op), (int32_t)i->imm);
            b->cc_op_known = i->imm;
        }
        b->rax_temp = hold;
        store_temp_field(b, i->a, OFF(cc_dst));
        if (setcc_fields(i->imm) >= 2) {
            store_temp_field(b, i->b, OFF(cc_src));
        }
        if (setcc_fields(i->imm) >= 3) {
            store_temp_field(b, i->c, OFF(cc_src2));
        }
        break;
    case IR_LD:
    case IR_ST:
        if (gen_group_load_reg(b, i)) {
            break;
        }
        gen_mem(b, tb, i, hold);
        if (i->opc == IR_LD) {
            b->rax_temp = i->dst; /* both paths leave the value in eax */
        }
        break;
    case IR_BRCOND: {
        gc_branch(b, i->imm, side_exit);
        if (hold != i->a) {
            load_temp(b, X_RAX, i->a);
        }
        x64_test_rr(e, 4, X_RAX, X_RAX);
        size_t f = x64_jcc_rel32(e, i->sub ? XC_E : XC_NE);
        unsigned l = i->imm;
        if (l < IR_MAX_LABELS && b->nfix[l] < 4) {
            b->label_fix[l][b->nfix[l]++] = f;
        } else {
            b->overflow = true;
        }
        break;
    }
    case IR_LABEL: {
        bool exit_code = b->unreachable && i->imm < IR_MAX_LABELS && b->label_seen[i->imm];
        gc_label(b, i->imm);
        if (i->imm < IR_MAX_LABELS) {
            b->label_pos[i->imm] = e->pos;
        }
        if (exit_code) {
            /* A side exit: reached from its branch only, with rsi as there; the flags it
             * leaves with. */
            b->rsi_group = b->label_rsi[i->imm];
            dfl_emit(e, &b->label_dfl[i->imm]);
        }
        break;
    }
    case IR_SETFLAGS:
        if (i->sub == IR_FLAGS_SZAP || i->sub == IR_FLAGS_SZAPO) {
            /* SF, ZF, AF and PF (and OF) of the op, as the host computes them for the same op
             * (AF after a logic op is 0 for the guest, undefined for the host's TEST; OF
             * after TEST is 0 on both). */
            int kind = i->c >= IR_FLAGS_HOST ? i->c - IR_FLAGS_HOST : i->c;
            if (i->c < IR_FLAGS_HOST) {
                host_flags(b, i);
            }
            x64_byte(e, 0x9C); /* pushfq */
            x64_pop(e, X_RCX);
            x64_alu_ri(e, 4, XA_AND, X_RCX,
                       (int32_t)(EF_SF | EF_ZF | EF_PF | (kind == 2 ? 0 : EF_AF) |
                                 (i->sub == IR_FLAGS_SZAPO ? EF_OF : 0)));
            store_temp(b, i->dst, X_RCX);
            break;
        }
        if (i->c >= IR_FLAGS_HOST) {
            /* the host flags are the ALU op's (jit_opt_fuse_flags) */
            x64_setcc(e, i->sub & 0xF, X_RCX);
            x64_movzx_rr(e, 1, X_RCX, X_RCX);
            b->rax_temp = hold == i->dst ? -1 : hold;
        } else {
            x64_alu_rr(e, 4, XA_XOR, X_RCX, X_RCX);
            host_flags(b, i);
            x64_setcc(e, i->sub & 0xF, X_RCX);
        }
        store_temp(b, i->dst, X_RCX);
        break;
    case IR_BRFLAGS: {
        gc_branch(b, i->imm, side_exit);
        if (i->c < IR_FLAGS_HOST) {
            host_flags(b, i);
        } else {
            b->rax_temp = hold;
        }
        size_t f = x64_jcc_rel32(e, i->sub & 0xF);
        unsigned l = i->imm;
        if (l < IR_MAX_LABELS && b->nfix[l] < 4) {
            b->label_fix[l][b->nfix[l]++] = f;
        } else {
            b->overflow = true;
        }
        break;
    }
    case IR_JUMP_IND: {
        if (i->sub == 2 && i->a >= 0 && i->a < IR_MAX_TEMPS && b->known[i->a] &&
            b->kval[i->a] == i->imm2) {
            break; /* the return address its call stored (jit_opt_forward_stores) */
        }
        load_temp(b, X_RAX, i->a);
        if (i->sub == 2) {
            /* An inlined callee's RET: anything but the return address it popped leaves to
             * the C loop, with EIP set to it (pending counts the RET). */
            x64_alu_ri(e, 4, XA_CMP, X_RAX, (int32_t)i->imm2);
            exit_on(b, XC_NE);
            if (!b->overflow) {
                b->stubs[b->nstubs - 1].eip_rax = true;
            }
            break;
        }
        if (i->size == 2) {
            x64_alu_ri(e, 4, XA_AND, X_RAX, 0xFFFF);
        }
        if (i->imm != 1) {
            x64_alu_rm(e, 4, XA_CMP, X_RAX, X_RBX, OFF(seg[S_CS].limit));
            raise_unless(b, XC_BE, (const void *)jit_helper_gp0);
        }
        if (!i->sub) {
            x64_store(e, 4, X_RBX, OFF(eip), X_RAX);
        }
        break;
    }
    case IR_DIV: {
        /* The host's DIV faults where the guest's does: #DE is raised before it. */
        load_temp(b, X_RCX, i->b);
        load_temp(b, X_RDX, i->c);
        if (hold != i->a) {
            load_temp(b, X_RAX, i->a);
        }
        x64_alu_rr(e, 4, XA_CMP, X_RDX, X_RCX);
        raise_unless(b, XC_B, (const void *)jit_helper_de);
        x64_div_r(e, X_RCX);
        store_temp(b, i->dst, X_RAX);
        b->rax_temp = i->dst;
        break;
    }
    case IR_STRING:
        gen_string(b, tb, i);
        break;
    case IR_EFLAGS:
        x64_alu_mi(e, 4, XA_AND, X_RBX, OFF(eflags), (int32_t)i->imm);
        if (i->imm2) {
            x64_alu_mi(e, 4, XA_OR, X_RBX, OFF(eflags), (int32_t)i->imm2);
        }
        b->rax_temp = hold;
        break;
    case IR_CODECHK: {
        /* As a cross-page link's check (gen_slot_stubs), with the values known now. Fused with the side exit that tests the result (the frontend's pattern): each
         * compare branches to its label. */
        unsigned nx = b->k + 1;
        while (nx < b->ir->n && b->ir->insn[nx].opc == IR_NOP) {
            nx++;
        }
        const IRInsn *br = nx < b->ir->n ? &b->ir->insn[nx] : NULL;
        bool fused = br && br->opc == IR_BRCOND && br->a == i->dst && br->sub == 1 &&
                     br->imm2 == 1 && br->imm < IR_MAX_LABELS &&
                     b->nfix[br->imm] + 3 <= 4 && !temp_live_from(b, i->dst, nx + 1);
        size_t miss[3];
        if (fused) {
            gc_branch(b, br->imm, true);
        } else {
            x64_mov_ri32(e, X_RCX, 0);
        }
        size_t f[2];
        code_tlb_check(b, i->imm, i->imm2, (uint64_t)(uintptr_t)i->ptr, miss, f);
        if (fused) {
            for (int k = 0; k < 3; k++) {
                b->label_fix[br->imm][b->nfix[br->imm]++] = miss[k];
            }
            b->skip_k = nx;
            break;
        }
        x64_mov_ri32(e, X_RCX, 1);
        for (int k = 0; k < 3 && !e->overflow; k++) {
            x64_patch_rel32(e->buf, miss[k], e->pos);
        }
        store_temp(b, i->dst, X_RCX);
        break;
    }
    case IR_GOTO_TB_IF: {
        gc_writeback(b);
        x64_alu_mi(e, 4, XA_CMP, X_RBX, OFF(eip), (int32_t)i->imm2);
        size_t skip = x64_jcc_rel32(e, XC_NE);
        flush_icount(b, b->pending);
        size_t f = x64_jmp_rel32(e);
        if (!e->overflow) {
            x64_patch_rel32(e->buf, f, e->pos);
        }
        tb->jmp_field[i->imm & 1] = (uint32_t)f;
        x64_mov_ri64(e, X_RAX, (uint64_t)(uintptr_t)tb | ((i->imm & 1) + 1));
        jmp_epilogue(b);
        gen_slot_stubs(b, (int)(i->imm & 1), (uint32_t)i->imm2, false);
        if (!e->overflow) {
            x64_patch_rel32(e->buf, skip, e->pos);
        }
        break;
    }
    case IR_GOTO_TB:
        if (b->loop && i->imm2 == tb->eip) {
            gen_back_edge(b);
            break;
        }
        gc_writeback(b);
        b->unreachable = true;
        flush_icount(b, b->pending);
        gen_goto_slot(b, (int)(i->imm % TB_SLOTS), i->imm2, false);
        break;
    case IR_CALL_TB:
        gc_writeback(b);
        b->unreachable = true;
        flush_icount(b, b->pending);
        gen_call_tb(b, i->imm, i->imm2);
        break;
    case IR_EXIT: {
        /* Indirect exit: look the next block up without going back to C; with the block's
         * own mode bits unless a helper may have changed them. */
        gc_writeback(b);
        b->unreachable = true;
        flush_icount(b, b->pending);
        if (i->sub == 2 && host_calls(tb)) {
            gen_ret_host(b);
        }
        size_t to_probe[2];
        unsigned np = 0;
        if (i->sub == 3 && host_calls(tb)) {
            /* As gen_call_tb, the callee found by the known-mode probe below. */
            x64_alu_rm(e, 8, XA_CMP, X_RSP, X_R12, JOFF(call_floor));
            to_probe[np++] = x64_jcc_rel32(e, XC_BE);
            x64_mov_ri64(e, X_RAX, call_marker(tb, i->imm2));
            x64_push(e, X_RAX);
            to_probe[np++] = x64_call_rel32(e);
            x64_alu_ri(e, 8, XA_ADD, X_RSP, 8);
            gen_goto_slot(b, 1, i->imm2, true);
            for (unsigned k = 0; k < np && !e->overflow; k++) {
                x64_patch_rel32(e->buf, to_probe[k], e->pos);
            }
        }
        if (i->sub != 1) {
            x64_mov_ri32(e, X_R8, tb->flags);
            call_lookup_known(b);
        } else {
            jmp_lookup(b);
        }
        break;
    }
    }
    if (def >= 0) {
        b->known[def] = false;
        b->unmat[def] = false;
        if (i->opc != IR_LDREG || i->size != 4 || i->a < 0 || i->a >= 8) {
            b->alias[def] = -1;
        }
        if (b->inplace_alias >= 0) {
            b->alias[def] = (int8_t)b->inplace_alias; /* its value is in g's host register */
            b->inplace_alias = -1;
        }
    }
}

/* loop_reach: the last IR op from which a back edge (an IR_GOTO_TB to the block's own start)
 * can be reached, or -1 without back edges. A back edge right after a label (a side exit's)
 * is reached from the branches to that label and, unless the op before the label leaves
 * the block, from the label itself. */
static int loop_reach(const IRBlock *ir, uint32_t start)
{
    static const uint8_t leaves[] = {IR_GOTO_TB, IR_EXIT, IR_CALL_TB, IR_JUMP_IND};
    int reach = -1;
    for (unsigned k = 0; k < ir->n; k++) {
        const IRInsn *i = &ir->insn[k];
        if (i->opc != IR_GOTO_TB || i->imm2 != start) {
            continue;
        }
        int p = (int)k - 1;
        while (p >= 0 && ir->insn[p].opc == IR_NOP) {
            p--;
        }
        if (p < 0 || ir->insn[p].opc != IR_LABEL) {
            reach = reach > (int)k ? reach : (int)k;
            continue;
        }
        unsigned l = ir->insn[p].imm;
        int q = p - 1;
        while (q >= 0 && ir->insn[q].opc == IR_NOP) {
            q--;
        }
        bool falls = q >= 0 && !memchr(leaves, ir->insn[q].opc, sizeof(leaves));
        if (falls && p > reach) {
            reach = p;
        }
        for (int m = 0; m < p; m++) {
            const IRInsn *br = &ir->insn[m];
            if ((br->opc == IR_BRCOND || br->opc == IR_BRFLAGS) && br->imm == l && m > reach) {
                reach = m;
            }
        }
    }
    return reach;
}

/* loop_plan: whether the block's exits to its own start (IR_GOTO_TB to tb->eip) can jump
 * back inside it instead of leaving. Up to the last op a back edge is reached from, only
 * plain integer code (no helper, host call, indirect exit, x87, string or division op, whose
 * helpers or slow paths could change what the loop head assumes), and no page group based
 * on a register written there (the groups' host addresses, checked once on entry, stay
 * right). Chooses the registers the head keeps cached: those used most there, up to the
 * size of the cache. */
static bool loop_plan(Backend *b, const IRBlock *ir)
{
    int reach = b->j->opt.no_loops ? -1 : loop_reach(ir, b->tb->eip);
    if (reach < 0) {
        return false;
    }
    unsigned uses[8] = {0};
    uint8_t written = 0;
    for (int k = 0; k <= reach; k++) {
        const IRInsn *i = &ir->insn[k];
        switch ((IROpc)i->opc) {
        case IR_LDREG:
        case IR_STREG: {
            int r = guest_reg_of(i);
            uses[r]++;
            if (i->opc == IR_STREG) {
                written |= (uint8_t)(1u << r);
            }
            break;
        }
        case IR_INSN_START:
        case IR_INSN_END:
        case IR_SYNC:
        case IR_MOVI:
        case IR_ALU:
        case IR_SETCC:
        case IR_LD:
        case IR_ST:
        case IR_SETEIP:
        case IR_BRCOND:
        case IR_LABEL:
        case IR_GOTO_TB:
        case IR_BRFLAGS:
        case IR_SETFLAGS:
        case IR_NOP:
        case IR_EA:
        case IR_SZAPCC:
        case IR_CONDCC:
        case IR_ROTPEND:
            break;
        default:
            return false;
        }
    }
    for (int g = 0; g < ir->ngroups; g++) {
        if ((written >> ir->group[g].reg) & 1) {
            return false;
        }
    }
    memset(b->hdr_host, -1, sizeof(b->hdr_host));
    b->hdr_dirty = 0;
    for (int s = 0; s < GC_N; s++) {
        int best = -1;
        for (int r = 0; r < 8; r++) {
            if (uses[r] && b->hdr_host[r] < 0 && (best < 0 || uses[r] > uses[best])) {
                best = r;
            }
        }
        if (best < 0) {
            break;
        }
        b->hdr_host[best] = gc_pool[s];
        b->hdr_dirty |= (uint8_t)(written & (1u << best));
    }
    return true;
}

/* gc_take: guest register r is in host register h (free in the cache). */
static void gc_take(Backend *b, int r, int h, bool dirty)
{
    for (int s = 0; s < GC_N; s++) {
        if (gc_pool[s] == h) {
            b->gc_owner[s] = (int8_t)r;
        }
    }
    b->gc_host[r] = (int8_t)h;
    b->gc_dirty[r] = dirty;
}

/* gen_loop_head: load the registers the head keeps cached and mark the head (after the
 * entry and page-group checks, which a back edge does not repeat). */
static void gen_loop_head(Backend *b)
{
    for (int r = 0; r < 8; r++) {
        if (b->hdr_host[r] >= 0) {
            x64_load(&b->e, 4, b->hdr_host[r], X_RBX, OFF(regs) + 4 * r);
            gc_take(b, r, b->hdr_host[r], (b->hdr_dirty >> r) & 1);
        }
    }
    b->loop_top = b->e.pos;
}

/* gen_budget_check: leave (EIP at the block's start, nothing run) unless the block's
 * instructions fit in the budget: icount + ninsns <= JitState.end. */
static void gen_budget_check(Backend *b)
{
    X64Emit *e = &b->e;
    x64_load(e, 8, X_RAX, X_RBX, OFF(icount));
    x64_alu_ri(e, 8, XA_ADD, X_RAX, b->tb->ninsns);
    x64_alu_rm(e, 8, XA_CMP, X_RAX, X_R12, JOFF(end));
    b->in_entry = true;
    exit_on(b, XC_A);
    b->in_entry = false;
}

/* gen_count_exec: under -d jit-stats, one more execution of the block. */
static void gen_count_exec(Backend *b)
{
    if (b->j->count_execs) {
        x64_mov_ri64(&b->e, X_RAX, (uint64_t)(uintptr_t)&b->tb->execs);
        x64_alu_mi(&b->e, 8, XA_ADD, X_RAX, 0, 1);
    }
}

/* gen_back_edge: an exit to the block's own start as a jump back to the loop head: the cache
 * made what the head assumes (registers elsewhere written back and dropped, missing ones
 * loaded), rsi given the last group's address again, the retired instructions counted and
 * the budget checked as a block entry does (over it: leave with EIP at the start). */
static void gen_back_edge(Backend *b)
{
    X64Emit *e = &b->e;
    for (int r = 0; r < 8; r++) {
        int h = b->gc_host[r];
        if (h >= 0 && h != b->hdr_host[r]) {
            alias_break(b, r);
            if (b->gc_dirty[r]) {
                gc_store(b, r);
            }
            for (int s = 0; s < GC_N; s++) {
                if (b->gc_owner[s] == r) {
                    b->gc_owner[s] = -1;
                }
            }
            b->gc_host[r] = -1;
            b->gc_dirty[r] = false;
        }
    }
    for (int r = 0; r < 8; r++) {
        if (b->hdr_host[r] >= 0 && b->gc_host[r] < 0) {
            x64_load(e, 4, b->hdr_host[r], X_RBX, OFF(regs) + 4 * r);
            gc_take(b, r, b->hdr_host[r], false);
        }
    }
    if (b->ir->ngroups && b->rsi_group != b->ir->ngroups - 1) {
        x64_load(e, 8, X_RSI, X_FRAME, GROUP_SLOT(b->ir->ngroups - 1));
    }
    flush_icount(b, b->pending);
    b->pending = 0;
    gen_budget_check(b);
    gen_count_exec(b);
    size_t f = x64_jmp_rel32(e);
    if (!e->overflow) {
        x64_patch_rel32(e->buf, f, b->loop_top);
    }
    b->j->stats.loop_edges++;
    b->unreachable = true;
}

bool jit_backend(JitState *j, TranslationBlock *tb, IRBlock *ir)
{
    CodeBuf *cb = &j->cb;
    if (!j->backend) {
        j->backend = malloc(sizeof(Backend));
    }
    Backend *b = j->backend;
    if (!b) {
        return false;
    }
    memset(b, 0, offsetof(Backend, stubs));
    memset(b->label_rsi, -1, sizeof(b->label_rsi)); /* no side exit's: rsi unknown there */
    b->j = j;
    b->tb = tb;
    size_t start = (cb->used + 15) & ~(size_t)15;
    if (start >= cb->cold_start || cb->cold_used >= cb->size) {
        return false;
    }
    x64_init(&b->e, cb->rw, cb->rx, start, cb->cold_start);
    X64Emit cold;
    x64_init(&cold, cb->rw, cb->rx, cb->cold_used, cb->size);
    X64Emit *e = &b->e;
    for (int slot = 0; slot < TB_SLOTS; slot++) {
        tb->jmp_field[slot] = TB_NO_SLOT;
        tb->jmp_xlink[slot] = TB_NO_SLOT;
    }

    /* Entry: the instruction budget. The other boundary events (CPUState.exit_word) need no
     * test here: nothing runs concurrently with generated code, and whatever can set them
     * while it runs (a helper, a store's slow path, the handler of a string instruction) is
     * followed by stop_checks or an IR_CHECK, which leave the block; the C loop tests them
     * before it enters generated code again. An interrupt raised by a device during an MMIO
     * load is taken when the budget runs out at the latest. */
    gen_budget_check(b);
    size_t body = e->pos;
    gen_count_exec(b);
    size_t group_miss[IR_MAX_GROUPS];
    unsigned ngroup_miss = 0;
    b->rsi_group = -1;
    gen_group_checks(b, ir, group_miss, &ngroup_miss);

    bool *dead = calloc(ir->n ? ir->n : 1, sizeof(bool));
    if (!dead) {
        return false;
    }
    jit_opt_dead_flags(ir, dead);
    bool *lazy = calloc(ir->n ? ir->n : 1, sizeof(bool));
    if (!lazy) {
        free(dead);
        return false;
    }
    jit_opt_lazy_sync(ir, lazy);
    j->stats.flags_fused += jit_opt_fuse_flags(ir, lazy);
    b->rax_temp = -1;
    b->cc_op_known = -1;
    b->ir = ir;
    b->dfl_k = -1;
    b->defer = j->opt.no_defer ? NULL : calloc(ir->n ? ir->n : 1, sizeof(bool));
    if (b->defer) {
        jit_opt_defer_flags(ir, dead, b->defer);
        j->stats.defer_renames += defer_rename(ir, b->defer);
    }
    b->live = live_compute(ir);
    if (!b->live) {
        free(dead);
        free(lazy);
        free(b->defer);
        b->defer = NULL;
        return false;
    }
    b->rax_only = calloc(ir->n ? ir->n : 1, sizeof(bool));
    if (b->rax_only) {
        compute_rax_only(ir, b->defer, b->live, b->rax_only);
    }
    assign_temp_regs(b, ir);
    gc_forget(b);
    b->inplace_alias = -1;
    b->skip_k = ~0u;
    b->skip_load_k = ~0u;
    b->loop = loop_plan(b, ir);
    if (b->loop) {
        gen_loop_head(b);
    }
    for (unsigned k = 0; k < ir->n; k++) {
        if (k == b->skip_load_k) {
            b->skip_load_k = ~0u; /* the STREG gen_group_load_reg did */
            continue;
        }
        if (k == b->skip_k) {
            b->skip_k = ~0u; /* the STREG gen_alu_inplace did */
            continue;
        }
        b->k = k;
        gen_op(b, tb, &ir->insn[k], dead[k], lazy[k]);
    }
    free(b->rax_only);
    b->rax_only = NULL; /* the cold paths below store their results to the homes */
    free(b->defer);
    b->defer = NULL;
    b->dfl_k = -1;
    /* The slow paths go to the cold region (positions are offsets in the one buffer, so
     * jumps between the regions patch as any other). */
    X64Emit hot = b->e;
    b->e = cold;
    for (unsigned c = 0; c < b->ncold; c++) {
        gen_cold(b, &b->cold[c]);
    }
    cold = b->e;
    b->e = hot;
    /* The entry's out-of-line checks below run before the body: nothing cached, nothing
     * retired yet. */
    gc_forget(b);
    b->pending = 0;
    free(dead);
    free(lazy);
    /* One exit stub per distinct retired-instruction count. */
    for (unsigned s = 0; s < b->nstubs; s++) {
        bool seen = false;
        for (unsigned t = 0; t < s && !seen; t++) {
            seen = stub_same(&b->stubs[t], &b->stubs[s]);
        }
        if (seen) {
            continue;
        }
        for (unsigned t = s; t < b->nstubs && !e->overflow; t++) {
            if (stub_same(&b->stubs[t], &b->stubs[s])) {
                x64_patch_rel32(e->buf, b->stubs[t].field, e->pos);
            }
        }
        for (unsigned k = 0; k < b->stubs[s].nwb; k++) {
            x64_store(e, 4, X_RBX, OFF(regs) + 4 * b->stubs[s].wb_r[k], b->stubs[s].wb_h[k]);
        }
        if (b->stubs[s].entry) {
            x64_store_imm(e, 4, X_RBX, OFF(eip), (int32_t)tb->eip);
        }
        if (b->stubs[s].eip_rax) {
            x64_store(e, 4, X_RBX, OFF(eip), X_RAX);
        }
        flush_icount(b, b->stubs[s].pending);
        x64_alu_rr(e, 4, XA_XOR, X_RAX, X_RAX);
        jmp_epilogue(b);
    }
    if (ngroup_miss) {
        /* A page group's check failed: nothing ran yet; the C loop runs the block under the
         * interpreter (see group_miss in jit.c), told by (block | TB_EXIT_GROUP_MISS). */
        for (unsigned k = 0; k < ngroup_miss && !e->overflow; k++) {
            x64_patch_rel32(e->buf, group_miss[k], e->pos);
        }
        x64_store_imm(e, 4, X_RBX, OFF(eip), (int32_t)tb->eip);
        x64_mov_ri64(e, X_RAX, (uint64_t)(uintptr_t)tb | TB_EXIT_GROUP_MISS);
        jmp_epilogue(b);
    }
    for (int l = 0; l < IR_MAX_LABELS && !e->overflow; l++) {
        for (unsigned f = 0; f < b->nfix[l]; f++) {
            x64_patch_rel32(e->buf, b->label_fix[l][f], b->label_pos[l]);
        }
    }
    bool ok = !e->overflow && !b->overflow && !cold.overflow;
    if (ok) {
        tb->host_code = cb->rx + start;
        tb->host_size = (uint32_t)(e->pos - start);
        tb->body_off = (uint32_t)(body - start);
        tb->cold_code = cb->rx + cb->cold_used;
        tb->cold_size = (uint32_t)(cold.pos - cb->cold_used);
        cb->used = e->pos;
        cb->cold_used = cold.pos;
        j->stats.bytes_generated += tb->host_size + tb->cold_size;
        j->stats.bytes_cold += tb->cold_size;
    }
    free(b->live);
    b->live = NULL;
    return ok;
}

void jit_backend_free(JitState *j)
{
    free(j->backend);
    j->backend = NULL;
}
