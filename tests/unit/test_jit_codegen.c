/* test_jit_codegen.c: the JIT's code quality work: the emitter forms of the inline shifts,
 * IMUL and BSWAP, the IR passes of jit_opt.c (dead lazy-flag updates, redundant guest
 * register loads), and the inline forms (shifts, IMUL, SETcc, CMOVcc, XCHG, ADC/SBB,
 * INC/DEC/NOT/NEG r/m, PUSH imm, CBW/CWD, BSWAP, LEAVE) giving the interpreter's results on a
 * real-mode CPU without falling back to helper calls. */
#include <capstone/capstone.h>
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cpu.h"
#include "translate/jit_internal.h"

/* ---- emitter ---- */

static uint8_t buf[256];

static void disasm_one(size_t n, char *out, size_t outlen)
{
    csh h;
    cr_assert_eq(cs_open(CS_ARCH_X86, CS_MODE_64, &h), CS_ERR_OK);
    cs_insn *insn;
    size_t count = cs_disasm(h, buf, n, 0x1000, 0, &insn);
    cr_assert_eq(count, 1, "expected one instruction in %zu bytes, got %zu", n, count);
    cr_assert_eq(insn[0].size, n);
    snprintf(out, outlen, "%.31s%s%.90s", insn[0].mnemonic, insn[0].op_str[0] ? " " : "",
             insn[0].op_str);
    cs_free(insn, count);
    cs_close(&h);
}

#define CHECK_EMIT(expect, ...)                                                              \
    do {                                                                                     \
        X64Emit e;                                                                           \
        memset(buf, 0, sizeof(buf));                                                         \
        x64_init(&e, buf, buf, 0, sizeof(buf));                                              \
        __VA_ARGS__;                                                                         \
        cr_assert(!e.overflow);                                                              \
        char got[128];                                                                       \
        disasm_one(e.pos, got, sizeof(got));                                                 \
        cr_assert_str_eq(got, expect);                                                       \
    } while (0)

Test(jit_codegen, the_new_emitter_forms_decode_to_the_intended_instruction)
{
    CHECK_EMIT("shl eax, cl", x64_shift_cl(&e, 4, 4, X_RAX));
    CHECK_EMIT("sar r9d, cl", x64_shift_cl(&e, 4, 7, X_R9));
    CHECK_EMIT("shr rdx, cl", x64_shift_cl(&e, 8, 5, X_RDX));
    CHECK_EMIT("imul eax, ecx", x64_imul_rr(&e, 4, X_RAX, X_RCX));
    CHECK_EMIT("imul rax, r8", x64_imul_rr(&e, 8, X_RAX, X_R8));
    CHECK_EMIT("imul eax, dword ptr [rsp + 0x10]", x64_imul_rm(&e, 4, X_RAX, X_RSP, 0x10));
    CHECK_EMIT("movsxd rcx, ecx", x64_movsxd_rr(&e, X_RCX, X_RCX));
    CHECK_EMIT("movsxd r10, eax", x64_movsxd_rr(&e, X_R10, X_RAX));
    CHECK_EMIT("bswap eax", x64_bswap(&e, X_RAX));
    CHECK_EMIT("bswap r11d", x64_bswap(&e, X_R11));
    CHECK_EMIT("cmp al, r13b", x64_alu_rr_w(&e, 1, XA_CMP, X_RAX, X_R13));
    CHECK_EMIT("cmp al, bpl", x64_alu_rr_w(&e, 1, XA_CMP, X_RAX, X_RBP));
    CHECK_EMIT("add ax, r14w", x64_alu_rr_w(&e, 2, XA_ADD, X_RAX, X_R14));
    CHECK_EMIT("cmp eax, r15d", x64_alu_rr_w(&e, 4, XA_CMP, X_RAX, X_R15));
    CHECK_EMIT("movzx eax, r9b", x64_movzx_rr(&e, 1, X_RAX, X_R9));
    CHECK_EMIT("movzx eax, dil", x64_movzx_rr(&e, 1, X_RAX, X_RDI));
    CHECK_EMIT("movzx ecx, r11w", x64_movzx_rr(&e, 2, X_RCX, X_R11));
    CHECK_EMIT("mov r10b, al", x64_mov_rr_w(&e, 1, X_R10, X_RAX));
    CHECK_EMIT("mov dil, al", x64_mov_rr_w(&e, 1, X_RDI, X_RAX));
    CHECK_EMIT("mov r8w, ax", x64_mov_rr_w(&e, 2, X_R8, X_RAX));
    CHECK_EMIT("mov edi, eax", x64_mov_rr_w(&e, 4, X_RDI, X_RAX));
    CHECK_EMIT("mov eax, dword ptr [rsi + rcx]", x64_load_idx(&e, 4, X_RAX, X_RSI, X_RCX, 0));
    CHECK_EMIT("movzx eax, byte ptr [rsi + rcx]", x64_load_idx(&e, 1, X_RAX, X_RSI, X_RCX, 0));
    CHECK_EMIT("mov rsi, qword ptr [rbx + rax + 0x300]",
               x64_load_idx(&e, 8, X_RSI, X_RBX, X_RAX, 0x300));
    CHECK_EMIT("mov r9d, dword ptr [r13 + r10]", x64_load_idx(&e, 4, X_R9, X_R13, X_R10, 0));
    CHECK_EMIT("mov word ptr [rsi + rcx], ax", x64_store_idx(&e, 2, X_RSI, X_RCX, 0, X_RAX));
    CHECK_EMIT("mov byte ptr [rsi + rcx], dil", x64_store_idx(&e, 1, X_RSI, X_RCX, 0, X_RDI));
    CHECK_EMIT("cmp esi, dword ptr [rbx + rax + 0x2f0]",
               x64_alu_rm_idx(&e, 4, XA_CMP, X_RSI, X_RBX, X_RAX, 0x2f0));
    CHECK_EMIT("lea esi, [rcx + 3]", x64_lea32(&e, X_RSI, X_RCX, 3));
    CHECK_EMIT("lea eax, [r8 + r9*4 - 0x28]", x64_lea32_sib(&e, X_RAX, X_R8, X_R9, 2, -0x28));
    CHECK_EMIT("lea eax, [r13 + rdi]", x64_lea32_sib(&e, X_RAX, X_R13, X_RDI, 0, 0));
    CHECK_EMIT("lea eax, [rbp + rax*8 + 0x12345678]",
               x64_lea32_sib(&e, X_RAX, X_RBP, X_RAX, 3, 0x12345678));
    CHECK_EMIT("lea eax, [r10*2 + 0x10]", x64_lea32_sib(&e, X_RAX, -1, X_R10, 1, 0x10));
}

/* ---- IR passes ---- */

static IRBlock *new_ir(void)
{
    IRBlock *b = malloc(sizeof(*b));
    cr_assert_not_null(b);
    ir_init(b);
    return b;
}

Test(jit_codegen, dead_flags_drop_only_flags_nothing_can_read)
{
    IRBlock *b = new_ir();
    bool dead[64];
    /* add; sub; cmp with only register ops in between: the first two are dead. */
    ir_ldreg(b, 0, R_EAX, 4);
    ir_ldreg(b, 1, R_EBX, 4);
    ir_alu(b, XA_ADD, 2, 0, 1, 4);
    ir_setcc(b, CC_OP_ADD32, 2, 1, -1);          /* 3: dead */
    ir_alu(b, XA_SUB, 3, 2, 1, 4);
    ir_setcc(b, CC_OP_SUB32, 3, 1, -1);          /* 5: read by the Jcc below */
    ir_brflags(b, XC_E, 0, 2, 1, 4, 0);          /* a branch: flags live across it */
    ir_setcc(b, CC_OP_LOGIC32, 3, -1, -1);       /* 7: live (a load may fault) */
    ir_ld(b, 4, S_DS, 3, 4);
    ir_setcc(b, CC_OP_LOGIC32, 4, -1, -1);       /* 9: live (a helper reads the flags) */
    ir_call_helper(b, 5, NULL, NULL);
    ir_setcc(b, CC_OP_ADD32, 5, 1, -1);          /* 11: live (the block exit) */
    ir_exit_tb(b);
    jit_opt_dead_flags(b, dead);
    cr_assert(dead[3]);
    cr_assert_not(dead[5]);
    cr_assert_not(dead[7]);
    cr_assert_not(dead[9]);
    cr_assert_not(dead[11]);
    for (unsigned k = 0; k < b->n; k++) {
        if (b->insn[k].opc != IR_SETCC) {
            cr_assert_not(dead[k], "op %u is no SETCC", k);
        }
    }
    free(b);
}

Test(jit_codegen, flag_tests_fuse_only_with_the_alu_op_whose_host_flags_are_still_there)
{
    IRBlock *b = new_ir();
    bool lazy[64] = {false};
    ir_ldreg(b, 0, R_EAX, 4);
    ir_ldreg(b, 1, R_EBX, 4);
    ir_alu(b, XA_SUB, 2, 0, 1, 1);               /* 2: CMP al, bl */
    ir_setcc(b, CC_OP_SUB8, 2, 1, -1);
    ir_insn_end(b);
    ir_brflags(b, XC_L, 0, 0, 1, 1, 0);          /* 5: fused (moves in between) */
    ir_setflags(b, 3, XC_B, 0, 0, 1, 1);         /* 6: fused (after a fused Jcc) */
    ir_alu(b, XA_ADD, 4, 0, 1, 4);               /* 7 */
    ir_brflags(b, XC_E, 2, 4, -1, 4, 0);         /* 8: ZF of the sum: fused */
    ir_brflags(b, XC_B, 1, 0, 1, 2, 0);          /* 9: another size: not */
    ir_alu(b, XA_ADD, 5, 0, 1, 4);               /* 10 */
    ir_brflags(b, XC_L, 2, 5, -1, 4, 0);         /* 11: SF != OF of a TEST, not of an ADD */
    ir_alu(b, XA_SUB, 6, 0, 1, 4);               /* 12 */
    ir_movi(b, 1, 7);                            /* 13: redefines an operand */
    ir_brflags(b, XC_E, 0, 0, 1, 4, 0);          /* 14: not */
    ir_alu(b, XA_SUB, 0, 0, 1, 4);               /* 15: a = a - b */
    ir_brflags(b, XC_E, 0, 0, 1, 4, 0);          /* 16: reads the new a: not */
    ir_alu(b, XA_AND, 7, 0, 1, 4);               /* 17 */
    ir_ld(b, 8, S_DS, 7, 4);                     /* 18: a load may fault: a slow path */
    ir_brflags(b, XC_E, 2, 7, -1, 4, 0);         /* 19: not */
    ir_alu(b, XA_XOR, 9, 0, 1, 4);               /* 20 */
    ir_sync(b, 0x100, 0x102);                    /* 21: lazy below */
    ir_setflags(b, 10, XC_S, 2, 9, -1, 4);       /* 22: fused */
    ir_alu(b, XA_OR, 11, 0, 1, 4);               /* 23 */
    ir_sync(b, 0x102, 0x104);                    /* 24: not lazy: it adds to icount */
    ir_setflags(b, 12, XC_S, 2, 11, -1, 4);      /* 25: not */
    ir_alu(b, XA_AND, 13, 0, 1, 4);              /* 26: TEST eax, ebx */
    ir_brflags(b, XC_E, 2, 13, 1, 4, 0);         /* 27: with its source, as the frontend
                                                    leaves a logic op's test: fused */
    ir_exit_tb(b);
    lazy[21] = true;
    cr_assert_eq(jit_opt_fuse_flags(b, lazy), 5);
    static const unsigned fused[] = {5, 6, 8, 22, 27};
    for (unsigned k = 0; k < sizeof(fused) / sizeof(fused[0]); k++) {
        const IRInsn *i = &b->insn[fused[k]];
        cr_assert_geq(i->c, IR_FLAGS_HOST, "op %u", fused[k]);
        cr_assert(i->a == -1 && i->b == -1, "op %u reads no temps", fused[k]);
    }
    static const unsigned kept[] = {9, 11, 14, 16, 19, 25};
    for (unsigned k = 0; k < sizeof(kept) / sizeof(kept[0]); k++) {
        cr_assert_lt(b->insn[kept[k]].c, IR_FLAGS_HOST, "op %u", kept[k]);
    }
    cr_assert_eq(b->insn[8].c, IR_FLAGS_HOST + 2, "the kind stays known");
    static const unsigned alus[] = {2, 7, 20, 26};
    for (unsigned k = 0; k < sizeof(alus) / sizeof(alus[0]); k++) {
        cr_assert_eq(b->insn[alus[k]].c, 1, "op %u leaves its flags", alus[k]);
    }
    cr_assert_eq(b->insn[10].c, -1);
    cr_assert_eq(b->insn[15].c, -1);
    free(b);
}

/* ir_gst / ir_gld: a store / load in page group g at offset off (as jit_opt_mem_groups
 * leaves them). */
static void ir_gst(IRBlock *b, int g, uint32_t off, int v, unsigned size)
{
    ir_st(b, S_SS, -1, v, size);
    b->insn[b->n - 1].c = (int8_t)g;
    b->insn[b->n - 1].imm2 = off;
}

static void ir_gld(IRBlock *b, int g, uint32_t off, int dst, unsigned size)
{
    ir_ld(b, dst, S_SS, -1, size);
    b->insn[b->n - 1].c = (int8_t)g;
    b->insn[b->n - 1].imm2 = off;
}

Test(jit_codegen, group_loads_of_constants_stored_before_become_constants_until_anything_may_write)
{
    IRBlock *b = new_ir();
    ir_movi(b, 0, 0x12345678);
    ir_gst(b, 0, 8, 0, 4);
    ir_gld(b, 0, 8, 1, 4);                       /* 2: forwarded */
    ir_gld(b, 0, 8, 2, 2);                       /* 3: another size: not */
    ir_gst(b, 0, 12, 0, 2);                      /* 4: 5678h at 12 */
    ir_gld(b, 0, 12, 3, 2);                      /* 5: forwarded, 16 bits */
    ir_gst(b, 0, 4, 1, 4);                       /* 6: below 8: 8 stays known */
    ir_gld(b, 0, 8, 4, 4);                       /* 7: forwarded */
    ir_gst(b, 1, 100, 1, 4);                     /* 8: another group may alias */
    ir_gld(b, 0, 8, 5, 4);                       /* 9: not */
    ir_gst(b, 0, 8, 0, 4);
    ir_gst(b, 0, 10, 1, 2);                      /* 11: overlaps bytes 10-11 of it */
    ir_gld(b, 0, 8, 6, 4);                       /* 12: not */
    ir_gst(b, 0, 8, 0, 4);
    ir_ld(b, 7, S_DS, 0, 4);                     /* 14: outside the groups */
    ir_gld(b, 0, 8, 8, 4);                       /* 15: not */
    ir_gst(b, 0, 8, 0, 4);
    ir_ld_rmw(b, 9, S_SS, -1, 4);                /* 17: a read-modify-write's load: not */
    b->insn[b->n - 1].c = 0;
    b->insn[b->n - 1].imm2 = 8;
    ir_alu(b, XA_ADD, 0, 0, 0, 4);               /* 18: the stored temp changes after */
    ir_gld(b, 0, 8, 10, 4);                      /* 19: still the stored constant */
    ir_gst(b, 0, 8, 0, 4);                       /* 20: a value not known */
    ir_gld(b, 0, 8, 11, 4);                      /* 21: not */
    ir_movi(b, 1, 7);
    ir_gst(b, 0, 8, 1, 4);
    ir_call_helper(b, 12, NULL, NULL);           /* 24: may write anything */
    ir_gld(b, 0, 8, 13, 4);                      /* 25: not */
    ir_exit_tb(b);
    cr_assert_eq(jit_opt_forward_stores(b), 4);
    static const unsigned fwd[] = {2, 5, 7, 19};
    static const uint32_t val[] = {0x12345678, 0x5678, 0x12345678, 0x12345678};
    for (unsigned k = 0; k < sizeof(fwd) / sizeof(fwd[0]); k++) {
        cr_assert_eq(b->insn[fwd[k]].opc, IR_MOVI, "op %u", fwd[k]);
        cr_assert_eq(b->insn[fwd[k]].imm, val[k], "op %u", fwd[k]);
    }
    cr_assert_eq(b->insn[2].dst, 1);
    static const unsigned kept[] = {3, 9, 12, 15, 17, 21, 25};
    for (unsigned k = 0; k < sizeof(kept) / sizeof(kept[0]); k++) {
        cr_assert_eq(b->insn[kept[k]].opc, IR_LD, "op %u", kept[k]);
    }
    free(b);
}

/* ir_push: the frontend's PUSH of temp v (32-bit stack): ESP - 4, store, ESP. */
static void ir_push(IRBlock *b, int sp, int k, int v)
{
    ir_ldreg(b, sp, R_ESP, 4);
    ir_movi(b, k, 4);
    ir_alu(b, XA_SUB, sp, sp, k, 4);
    ir_st(b, S_SS, sp, v, 4);
    ir_streg(b, R_ESP, 4, sp);
}

/* ir_load_at: dst = [reg + disp] through seg (one LEA). */
static void ir_load_at(IRBlock *b, int dst, int base_t, int reg, uint32_t disp, int seg)
{
    ir_ldreg(b, base_t, reg, 4);
    ir_ea(b, dst, base_t, -1, 0, disp);
    ir_ld(b, dst, seg, dst, 4);
}

Test(jit_codegen, page_groups_follow_esp_through_pushes_and_ebp_set_from_esp)
{
    IRBlock *b = new_ir();
    ir_ldreg(b, 0, R_EAX, 4);
    ir_push(b, 1, 2, 0);                          /* 4: [esp0 - 4] */
    ir_push(b, 1, 2, 0);                          /* 9: [esp0 - 8] */
    ir_ldreg(b, 3, R_ESP, 4);
    ir_streg(b, R_EBP, 4, 3);                     /* mov ebp, esp: ebp = esp0 - 8 */
    ir_load_at(b, 4, 5, R_EBP, 0x10, S_SS);       /* 15: [esp0 + 8] */
    ir_load_at(b, 6, 7, R_EBX, 0x20, S_DS);       /* 18: [ebx0 + 0x20], alone */
    ir_ld(b, 8, S_FS, 3, 4);                      /* 19: FS is not flat */
    ir_movi(b, 9, 0x20);
    ir_alu(b, XA_ADD, 10, 9, 3, 4);               /* 0x20 + esp */
    ir_st(b, S_DS, 10, 4, 2);                     /* 22: [esp0 + 0x18], 2 bytes */
    ir_exit_tb(b);
    cr_assert_eq(jit_opt_mem_groups(b, -1, 0), 4);
    cr_assert_eq(b->ngroups, 1, "EBX has one access only: no group");
    cr_assert_eq(b->group[0].reg, R_ESP);
    cr_assert_eq(b->group[0].lo, -8);
    cr_assert_eq(b->group[0].span, 0x1A + 8);
    cr_assert(b->group[0].write);
    cr_assert_eq(b->group[0].count, 4);
    static const unsigned at[] = {4, 9, 15, 22};
    static const uint32_t off[] = {4, 0, 16, 0x20};
    for (int q = 0; q < 4; q++) {
        const IRInsn *i = &b->insn[at[q]];
        cr_assert_eq(i->c, 0, "op %u in group 0", at[q]);
        cr_assert_eq(i->imm2, off[q], "op %u at %u from the group start", at[q], i->imm2);
        cr_assert_eq(i->a, -1, "op %u needs no address temp", at[q]);
    }
    cr_assert_eq(b->insn[18].c, -1);
    cr_assert_eq(b->insn[19].c, -1);
    free(b);
}

Test(jit_codegen, page_groups_stop_at_helpers_loops_unequal_joins_and_wide_spans)
{
    IRBlock *b = new_ir();
    /* A join where one path moved ESP: unknown after it; EBP stays known. */
    ir_load_at(b, 0, 1, R_EBP, 8, S_SS);          /* 2 */
    ir_load_at(b, 0, 1, R_EBP, 12, S_SS);         /* 5 */
    int l = ir_label(b);
    ir_ldreg(b, 2, R_EAX, 4);
    ir_brcond(b, 2, l);
    ir_ldreg(b, 3, R_ESP, 4);
    ir_movi(b, 4, 8);
    ir_alu(b, XA_ADD, 3, 3, 4, 4);
    ir_streg(b, R_ESP, 4, 3);                     /* only on the fall-through path */
    ir_set_label(b, l);
    ir_load_at(b, 0, 1, R_ESP, 0, S_SS);          /* 15: unknown ESP */
    ir_load_at(b, 0, 1, R_ESP, 4, S_SS);          /* 18 */
    ir_load_at(b, 0, 1, R_EBP, 0x2000, S_SS);     /* 21: EBP, too far from the others */
    ir_load_at(b, 0, 1, R_EBP, 16, S_SS);         /* 24: EBP, joins 2 and 5 */
    /* A loop: ESI moves inside it, so nothing about ESI holds at its label. */
    int top = ir_label(b);
    ir_set_label(b, top);
    ir_load_at(b, 0, 1, R_ESI, 0, S_DS);          /* 28 */
    ir_load_at(b, 0, 1, R_ESI, 4, S_DS);          /* 31 */
    ir_ldreg(b, 2, R_ESI, 4);
    ir_movi(b, 4, 4);
    ir_alu(b, XA_ADD, 2, 2, 4, 4);
    ir_streg(b, R_ESI, 4, 2);
    ir_brcond(b, 2, top);
    ir_call_helper(b, -1, NULL, NULL);
    ir_load_at(b, 0, 1, R_EBP, 20, S_SS);         /* 40: after a helper */
    ir_exit_tb(b);
    cr_assert_eq(jit_opt_mem_groups(b, -1, 0), 3);
    cr_assert_eq(b->ngroups, 1);
    cr_assert_eq(b->group[0].reg, R_EBP);
    cr_assert_eq(b->group[0].lo, 8);
    cr_assert_eq(b->group[0].span, 12);
    cr_assert_not(b->group[0].write);
    static const unsigned in[] = {2, 5, 24}, out[] = {15, 18, 21, 28, 31, 40};
    for (int q = 0; q < 3; q++) {
        cr_assert_eq(b->insn[in[q]].c, 0, "op %u grouped", in[q]);
    }
    for (int q = 0; q < 6; q++) {
        cr_assert_eq(b->insn[out[q]].c, -1, "op %u not grouped", out[q]);
        cr_assert_geq(b->insn[out[q]].a, 0, "op %u keeps its address", out[q]);
    }
    free(b);
}

Test(jit_codegen, a_split_makes_two_groups_of_one_register_and_drops_the_access_across_it)
{
    IRBlock *b = new_ir();
    ir_load_at(b, 0, 1, R_ESP, 0, S_SS);          /* 2: below the split */
    ir_load_at(b, 0, 1, R_ESP, 4, S_SS);          /* 5 */
    ir_load_at(b, 0, 1, R_ESP, 6, S_SS);          /* 8: bytes 6..9 cross 8 */
    ir_load_at(b, 0, 1, R_ESP, 8, S_SS);          /* 11: at and above it */
    ir_load_at(b, 0, 1, R_ESP, 12, S_SS);         /* 14 */
    ir_exit_tb(b);
    cr_assert_eq(jit_opt_mem_groups(b, R_ESP, 8), 4);
    cr_assert_eq(b->ngroups, 2);
    for (int g = 0; g < 2; g++) {
        cr_assert_eq(b->group[g].reg, R_ESP);
        cr_assert_eq(b->group[g].span, 8);
        cr_assert(b->group[g].lo == 0 || b->group[g].lo == 8);
    }
    cr_assert_eq(b->insn[8].c, -1, "the access across the split stays out");
    cr_assert_neq(b->insn[2].c, b->insn[11].c);
    cr_assert_eq(b->insn[2].c, b->insn[5].c);
    cr_assert_eq(b->insn[11].c, b->insn[14].c);
    free(b);
}

Test(jit_codegen, grouped_accesses_do_not_keep_flags_or_syncs_alive)
{
    IRBlock *b = new_ir();
    bool dead[64], lazy[64];
    ir_ldreg(b, 0, R_EAX, 4);
    ir_ldreg(b, 1, R_EBX, 4);
    ir_alu(b, XA_ADD, 2, 0, 1, 4);
    ir_setcc(b, CC_OP_ADD32, 2, 1, -1);           /* 3: dead (the loads cannot fault) */
    ir_insn_start(b, 0x1000, 0x1001);
    ir_sync(b, 0x1000, 0x1001);                   /* 5: lazy although ESP moves first */
    ir_push(b, 3, 4, 2);
    ir_push(b, 3, 4, 2);
    ir_insn_end(b);
    ir_alu(b, XA_SUB, 5, 0, 1, 4);
    ir_setcc(b, CC_OP_SUB32, 5, 1, -1);           /* 18: live (the exit) */
    ir_exit_tb(b);
    cr_assert_eq(jit_opt_mem_groups(b, -1, 0), 2);
    jit_opt_dead_flags(b, dead);
    jit_opt_lazy_sync(b, lazy);
    cr_assert(dead[3]);
    cr_assert_not(dead[18]);
    cr_assert(lazy[5]);
    free(b);
}

Test(jit_codegen, forwarding_reuses_a_registers_temp_and_rewrites_its_readers)
{
    IRBlock *b = new_ir();
    ir_ldreg(b, 0, R_EAX, 4);
    ir_movi(b, 1, 5);
    ir_alu(b, XA_ADD, 2, 0, 1, 4);
    ir_streg(b, R_ECX, 4, 2);
    ir_ldreg(b, 3, R_EAX, 4);                     /* 4: = t0 */
    ir_ldreg(b, 4, R_ECX, 4);                     /* 5: = t2 (stored above) */
    ir_alu(b, XA_XOR, 5, 3, 4, 4);
    ir_streg(b, R_EDX, 4, 5);
    cr_assert_eq(jit_opt_forward_regs(b), 2);
    cr_assert_eq(b->insn[4].opc, IR_NOP);
    cr_assert_eq(b->insn[5].opc, IR_NOP);
    cr_assert_eq(b->insn[6].a, 0);
    cr_assert_eq(b->insn[6].b, 2);
    free(b);
}

Test(jit_codegen, forwarding_stops_at_helpers_partial_writes_and_redefinitions)
{
    IRBlock *b = new_ir();
    ir_ldreg(b, 0, R_EAX, 4);
    ir_call_helper(b, -1, NULL, NULL);            /* may write EAX */
    ir_ldreg(b, 1, R_EAX, 4);                     /* 2: kept */
    ir_streg(b, R_EAX, 1, 1);                     /* AL only */
    ir_ldreg(b, 2, R_EAX, 4);                     /* 4: kept */
    ir_ldreg(b, 3, R_EBX, 4);
    ir_movi(b, 3, 7);                             /* the holder of EBX is overwritten */
    ir_ldreg(b, 4, R_EBX, 4);                     /* 7: kept */
    ir_ldreg(b, 5, R_ESI, 4);
    ir_ldreg(b, 6, R_ESI, 4);                     /* 9: t5 is redefined before t6's last use */
    ir_movi(b, 5, 1);
    ir_streg(b, R_EDI, 4, 6);
    cr_assert_eq(jit_opt_forward_regs(b), 0);
    cr_assert_eq(b->insn[2].opc, IR_LDREG);
    cr_assert_eq(b->insn[4].opc, IR_LDREG);
    cr_assert_eq(b->insn[7].opc, IR_LDREG);
    cr_assert_eq(b->insn[9].opc, IR_LDREG);
    free(b);
}

Test(jit_codegen, dead_code_drops_results_only_dead_flags_read_and_keeps_the_rest)
{
    IRBlock *b = new_ir();
    /* imul eax, ebx; imul ecx, eax; store: the first IMUL's high half feeds only its flags,
     * which the second replaces; the second's flags are live (the store may fault). */
    ir_ldreg(b, 0, R_EAX, 4);
    ir_ldreg(b, 1, R_EBX, 4);
    ir_alu(b, IR_ALU_MUL, 2, 0, 1, 4);
    ir_alu(b, IR_ALU_IMULH, 3, 0, 1, 4);           /* 3: dead with its SETCC */
    ir_streg(b, R_EAX, 4, 2);
    ir_setcc(b, CC_OP_IMUL32, 2, 3, -1);           /* 5: dead */
    ir_ldreg(b, 4, R_ECX, 4);
    ir_alu(b, IR_ALU_MUL, 5, 4, 2, 4);
    ir_alu(b, IR_ALU_IMULH, 6, 4, 2, 4);           /* 8: kept, read by the SETCC */
    ir_streg(b, R_ECX, 4, 5);
    ir_setcc(b, CC_OP_IMUL32, 5, 6, -1);           /* 10: live */
    ir_movi(b, 7, 0x1000);                         /* 11: dead (never read) */
    ir_movi(b, 8, 0x2000);
    ir_brflags(b, XC_E, 0, 5, 6, 4, 0);            /* 13: reads t5, t6; target reads t8 */
    ir_movi(b, 9, 3);                              /* 14: dead (the fall-through exits) */
    ir_goto_tb(b, 0, 0x10);
    ir_set_label(b, 0);
    ir_st(b, S_DS, 8, 5, 4);
    ir_exit_tb(b);
    cr_assert_eq(jit_opt_dead_code(b), 4);
    static const unsigned nop[] = {3, 5, 11, 14};
    for (unsigned k = 0; k < sizeof(nop) / sizeof(nop[0]); k++) {
        cr_assert_eq(b->insn[nop[k]].opc, IR_NOP, "op %u", nop[k]);
    }
    cr_assert_eq(b->insn[8].opc, IR_ALU);
    cr_assert_eq(b->insn[10].opc, IR_SETCC);
    cr_assert_eq(b->insn[12].opc, IR_MOVI, "read after the label");
    cr_assert_eq(b->insn[2].opc, IR_ALU);
    free(b);
}

/* ---- inline forms against the interpreter ---- */

#define RAM_SIZE (1u << 20)
#define CODE 0x1000u

typedef struct Rig {
    Logger log;
    MemMap mem;
    PortMap io;
    uint8_t *ram;
    CPUState *cpu;
} Rig;

static Rig *rig_new(bool jit, const uint8_t *code, size_t len)
{
    Rig *r = calloc(1, sizeof(*r));
    cr_assert_not_null(r);
    r->ram = calloc(1, RAM_SIZE);
    r->cpu = calloc(1, sizeof(CPUState));
    cr_assert(r->ram && r->cpu);
    log_init(&r->log);
    memmap_init(&r->mem, &r->log);
    portmap_init(&r->io, &r->log);
    cr_assert_geq(mem_map_ram(&r->mem, "ram", 0, RAM_SIZE, r->ram, 0), 0);
    cpu_init(r->cpu, &r->mem, &r->io, &r->log);
    cpu_set_a20(r->cpu, true);
    memcpy(r->ram + CODE, code, len);
    for (int s = 0; s < S_NSEG; s++) {
        cpu_set_seg_real(r->cpu, s, 0);
    }
    r->cpu->eip = CODE;
    r->cpu->regs[R_ESP] = 0x8000;
    if (jit) {
        JitOptions o;
        jit_options_default(&o);
        o.verify = false;
        cr_assert_eq(x86_jit_enable(r->cpu, &o), 0);
    }
    return r;
}

static void rig_free(Rig *r)
{
    x86_tcache_free(r->cpu);
    free(r->cpu);
    free(r->ram);
    free(r);
}

static void rig_run(Rig *r)
{
    while (!r->cpu->halted && !r->cpu->shutdown && r->cpu->icount < 1000000) {
        cpu_exec(r->cpu, 1 << 16);
    }
}

/* run_and_compare: the code under the JIT and the interpreter ends in the same state;
 * returns the JIT's stats. */
static JitStats run_and_compare(const uint8_t *code, size_t len)
{
    Rig *j = rig_new(true, code, len);
    Rig *i = rig_new(false, code, len);
    rig_run(j);
    rig_run(i);
    cr_assert(j->cpu->halted && i->cpu->halted);
    for (int r = 0; r < 8; r++) {
        cr_assert_eq(j->cpu->regs[r], i->cpu->regs[r], "reg %d: jit %08x interp %08x", r,
                     j->cpu->regs[r], i->cpu->regs[r]);
    }
    cr_assert_eq(cpu_get_eflags(j->cpu), cpu_get_eflags(i->cpu), "eflags: jit %08x interp %08x",
                 cpu_get_eflags(j->cpu), cpu_get_eflags(i->cpu));
    cr_assert_eq(j->cpu->icount, i->cpu->icount);
    cr_assert_eq(memcmp(j->ram, i->ram, 0x10000), 0, "low 64 KiB differ");
    JitStats s = *x86_jit_stats(j->cpu);
    rig_free(j);
    rig_free(i);
    return s;
}

Test(jit_codegen, inline_forms_match_the_interpreter_without_helpers)
{
    /* 40 rounds of a loop body using the new inline forms on changing values; every
     * result is folded into [0x2000..0x2007] and the registers. */
    static const uint8_t code[] = {
        0xBD, 0x28, 0x00,                   /* mov bp, 40 */
        0xB8, 0x34, 0x12,                   /* mov ax, 0x1234 */
        0xBB, 0x0F, 0x00,                   /* mov bx, 15 */
        /* top: */
        0x89, 0xE9,                         /* mov cx, bp */
        0xD3, 0xE0,                         /* shl ax, cl */
        0xD1, 0xF8,                         /* sar ax, 1 */
        0xC1, 0xE8, 0x02,                   /* shr ax, 2 */
        0x6B, 0xD8, 0x07,                   /* imul bx, ax, 7 */
        0x0F, 0xAF, 0xD8,                   /* imul bx, ax */
        0x0F, 0x92, 0xC2,                   /* setc dl */
        0x0F, 0x44, 0xF3,                   /* cmovz si, bx */
        0x0F, 0x4C, 0xF8,                   /* cmovl di, ax */
        0x93,                               /* xchg ax, bx */
        0xF7, 0xDA,                         /* neg dx */
        0xF7, 0xD1,                         /* not cx */
        0x11, 0xD8,                         /* adc ax, bx */
        0x83, 0xD9, 0x05,                   /* sbb cx, 5 */
        0x6A, 0x55,                         /* push 0x55 */
        0x5F,                               /* pop di */
        0x99,                               /* cwd */
        0x98,                               /* cbw */
        0xFF, 0x06, 0x00, 0x20,             /* inc word [0x2000] */
        0xFE, 0x0E, 0x02, 0x20,             /* dec byte [0x2002] */
        0xD3, 0x26, 0x04, 0x20,             /* shl word [0x2004], cl */
        0x01, 0x06, 0x04, 0x20,             /* add [0x2004], ax */
        0x31, 0x16, 0x06, 0x20,             /* xor [0x2006], dx */
        0x87, 0x1E, 0x06, 0x20,             /* xchg [0x2006], bx */
        0x66, 0xC1, 0xE0, 0x05,             /* shl eax, 5 */
        0x66, 0x0F, 0xAF, 0xC3,             /* imul eax, ebx */
        0x66, 0x0F, 0xC8,                   /* bswap eax */
        0x66, 0x99,                         /* cdq */
        0x66, 0xD3, 0xFA,                   /* sar edx, cl */
        0xB1, 0x00,                         /* mov cl, 0 */
        0xD3, 0xE0,                         /* shl ax, cl (count 0: flags unchanged) */
        0x0F, 0x95, 0x06, 0x08, 0x20,       /* setnz [0x2008] */
        0x4D,                               /* dec bp */
        0x75, 0x100 - 0x5B,                 /* jnz top */
        0xEB, 0x00,                         /* jmp $+2: the HLT is a block of its own, */
        0xF4,                               /* hlt      translated once */
    };
    cr_assert_eq(code[sizeof(code) - 4], (uint8_t)(0x100 - 0x5B));
    JitStats s = run_and_compare(code, sizeof(code));
    /* Every instruction but the final HLT translated inline. */
    cr_assert_gt(s.insns_inline, 40);
    cr_assert_leq(s.insns_helper, 1, "helper-translated instructions: %llu",
                  (unsigned long long)s.insns_helper);
}

Test(jit_codegen, leave_push_rm_and_a_variable_shift_count_of_zero_match_the_interpreter)
{
    static const uint8_t code[] = {
        0xBD, 0x00, 0x70,                   /* mov bp, 0x7000 */
        0xC7, 0x46, 0x00, 0x44, 0x33,       /* mov word [bp], 0x3344 */
        0xFF, 0x36, 0x00, 0x70,             /* push word [0x7000] */
        0x5A,                               /* pop dx */
        0x31, 0xC9,                         /* xor cx, cx */
        0x83, 0xC0, 0xFF,                   /* add ax, -1 (CF set) */
        0xD3, 0xE2,                         /* shl dx, cl: count 0 keeps CF */
        0x0F, 0x92, 0xC3,                   /* setc bl */
        0xC9,                               /* leave */
        0xF4,                               /* hlt */
    };
    JitStats s = run_and_compare(code, sizeof(code));
    cr_assert_leq(s.insns_helper, 1);
}

Test(jit_codegen, a_sync_is_deferred_only_for_inline_memory_accesses)
{
    IRBlock *b = new_ir();
    bool lazy[64];
    /* mov eax, [ebx]: deferred. */
    ir_insn_start(b, 0x100, 0x102);
    ir_sync(b, 0x100, 0x102);                     /* 1 */
    ir_ldreg(b, 0, R_EBX, 4);
    ir_ld(b, 1, S_DS, 0, 4);
    ir_streg(b, R_EAX, 4, 1);
    ir_insn_end(b);
    /* push eax: the store comes before ESP is written: deferred. */
    ir_insn_start(b, 0x102, 0x103);
    ir_sync(b, 0x102, 0x103);                     /* 7 */
    ir_ldreg(b, 2, R_ESP, 4);
    ir_st(b, S_SS, 2, 1, 4);
    ir_streg(b, R_ESP, 4, 2);
    ir_insn_end(b);
    /* ESP written before a load (as a RET that then jumps): exact state needed. */
    ir_insn_start(b, 0x103, 0x104);
    ir_sync(b, 0x103, 0x104);                     /* 13 */
    ir_streg(b, R_ESP, 4, 2);
    ir_ld(b, 3, S_SS, 2, 4);
    ir_insn_end(b);
    /* A helper call: exact state needed. */
    ir_insn_start(b, 0x104, 0x105);
    ir_sync(b, 0x104, 0x105);                     /* 18 */
    ir_call_helper(b, -1, NULL, NULL);
    ir_insn_end(b);
    jit_opt_lazy_sync(b, lazy);
    cr_assert_eq(b->insn[1].opc, IR_SYNC);
    cr_assert_eq(b->insn[7].opc, IR_SYNC);
    cr_assert_eq(b->insn[13].opc, IR_SYNC);
    cr_assert_eq(b->insn[18].opc, IR_SYNC);
    cr_assert(lazy[1]);
    cr_assert(lazy[7]);
    cr_assert_not(lazy[13]);
    cr_assert_not(lazy[18]);
    free(b);
}

Test(jit_codegen, a_fault_on_a_deferred_sync_path_is_precise)
{
    /* inc ax; inc ax; add [0xFFFF], ax (a word past the DS limit: #GP from the slow path);
     * hlt. IVT vector 13 -> 0000:0F00 (HLT). */
    static const uint8_t code[] = {0x40, 0x40, 0x01, 0x06, 0xFF, 0xFF, 0xF4};
    Rig *j = rig_new(true, code, sizeof(code));
    j->ram[4 * 13] = 0x00;
    j->ram[4 * 13 + 1] = 0x0F;
    j->ram[0x0F00] = 0xF4;
    rig_run(j);
    cr_assert(j->cpu->halted);
    cr_assert_eq(j->cpu->regs[R_EAX] & 0xFFFF, 2);
    uint16_t sp = (uint16_t)j->cpu->regs[R_ESP];
    cr_assert_eq(sp, 0x8000 - 6);
    cr_assert_eq(j->ram[sp] | (j->ram[sp + 1] << 8), 0x1002, "the #GP frame's IP");
    cr_assert_eq(j->cpu->icount, 4); /* inc, inc, the faulting add, the handler's HLT */
    rig_free(j);
}

Test(jit_codegen, rotates_whose_flags_are_overwritten_run_inline_and_others_keep_their_flags)
{
    static const uint8_t code[] = {
        0x66, 0xB8, 0x78, 0x56, 0x34, 0x92, /* mov eax, 0x92345678 */
        0x66, 0xBB, 0x01, 0x00, 0x00, 0x80, /* mov ebx, 0x80000001 */
        0xB9, 0x10, 0x00,                   /* mov cx, 16 */
        /* top: */
        0x66, 0xC1, 0xC0, 0x07,             /* rol eax, 7 (flags dead: the add) */
        0x66, 0x01, 0xD8,                   /* add eax, ebx */
        0x66, 0xD1, 0xCB,                   /* ror ebx, 1 (dead: mov, lea, then xor) */
        0x66, 0x89, 0xC2,                   /* mov edx, eax */
        0x8D, 0x77, 0x03,                   /* lea si, [bx+3] */
        0x66, 0x31, 0xDA,                   /* xor edx, ebx */
        0x66, 0xC1, 0xCA, 0x0B,             /* ror edx, 11 (flags read by setc/seto) */
        0x0F, 0x92, 0xC7,                   /* setc bh */
        0x0F, 0x90, 0x06, 0x00, 0x20,       /* seto [0x2000] */
        0x66, 0xC1, 0xC2, 0x03,             /* rol edx, 3 (flags live at the loop branch) */
        0xE2, 0x100 - 0x25,                 /* loop top */
        0xF4,                               /* hlt */
    };
    cr_assert_eq(sizeof(code) - 1 - 15, 0x25);
    JitStats s = run_and_compare(code, sizeof(code));
    /* Three blocks (the first run through, the loop body, the HLT): rol eax,7 and ror ebx,1
     * are inline without flags, ror edx,11 inline with them (it follows an inline XOR), and
     * rol edx,3 too (it keeps ror edx,11's SF/ZF/AF/PF; SETC/SETO read CF/OF of CC_OP_RAW
     * through cpu_cond): only the HLT is a helper (with all rotates as helpers this would be
     * 8 + 1). */
    cr_assert_gt(s.insns_inline, 0);
    cr_assert_eq(s.insns_helper, 1, "helper-translated: %llu",
                 (unsigned long long)s.insns_helper);
}

Test(jit_codegen, rotates_before_other_rotates_and_register_moves_leave_the_right_flags)
{
    /* SHA-256's sigma: rotates whose flags the XOR after them overwrites, with NOT, BSWAP,
     * XCHG and MOVZX between; the loop's flags come from the last XOR (JNZ reads them). */
    static const uint8_t code[] = {
        0x66, 0xB8, 0x78, 0x56, 0x34, 0x92, /* mov eax, 0x92345678 */
        0x66, 0xBA, 0x01, 0x00, 0x00, 0x80, /* mov edx, 0x80000001 */
        0xB9, 0x40, 0x00,                   /* mov cx, 64 */
        /* top: */
        0x66, 0x83, 0xC0, 0x11,             /* add eax, 0x11 */
        0x66, 0xC1, 0xC8, 0x06,             /* ror eax, 6 */
        0x66, 0xC1, 0xCA, 0x0B,             /* ror edx, 11 */
        0x66, 0xF7, 0xD6,                   /* not esi */
        0x66, 0x0F, 0xCF,                   /* bswap edi */
        0x66, 0x87, 0xF7,                   /* xchg edi, esi */
        0x66, 0x0F, 0xB6, 0xDA,             /* movzx ebx, dl */
        0x66, 0xD1, 0xC3,                   /* rol ebx, 1 */
        0x66, 0x31, 0xD0,                   /* xor eax, edx */
        0x66, 0x9C,                         /* pushfd */
        0x66, 0x5B,                         /* pop ebx */
        0x49,                               /* dec cx */
        0x75, 0x100 - 0x26,                 /* jnz top */
        0xF4,                               /* hlt */
    };
    cr_assert_eq(sizeof(code) - 1 - 15, 0x26);
    JitStats s = run_and_compare(code, sizeof(code));
    /* Translated as helpers: PUSHFD in the first block and in the loop's, and the HLT. */
    cr_assert_eq(s.insns_helper, 3, "helper-translated: %llu",
                 (unsigned long long)s.insns_helper);
}

Test(jit_codegen, the_carry_of_a_shift_feeds_setc_jc_and_adc_without_helpers)
{
    static const uint8_t code[] = {
        0x66, 0xB8, 0x01, 0x00, 0x00, 0x80, /* mov eax, 0x80000001 */
        0x66, 0xD1, 0xE0,                   /* shl eax, 1: CF = 1 */
        0x0F, 0x92, 0xC3,                   /* setc bl */
        0x66, 0xD1, 0xE8,                   /* shr eax, 1: CF = 0 */
        0x0F, 0x93, 0xC7,                   /* setnc bh */
        0xBA, 0x03, 0x80,                   /* mov dx, 0x8003 */
        0xC1, 0xFA, 0x02,                   /* sar dx, 2: CF = 1 */
        0x83, 0xD1, 0x00,                   /* adc cx, 0 */
        0xB0, 0x03,                         /* mov al, 3 */
        0xC0, 0xE0, 0x07,                   /* shl al, 7: CF = 1 */
        0x72, 0x01, 0x46,                   /* jc +1; inc si (skipped) */
        0xC0, 0xE8, 0x02,                   /* shr al, 2: CF = 0 */
        0x73, 0x01, 0x47,                   /* jnc +1; inc di (skipped) */
        0x41,                               /* inc cx */
        0xEB, 0x00, 0xF4,                   /* jmp $+2; hlt (a block of its own: the side
                                               exits' blocks do not translate it again) */
    };
    JitStats s = run_and_compare(code, sizeof(code));
    cr_assert_eq(s.insns_helper, 1, "only the HLT: %llu", (unsigned long long)s.insns_helper);
}

Test(jit_codegen, a_rotate_at_a_block_start_reads_the_flags_left_by_the_previous_block)
{
    /* top: ror eax,3; pushfd; pop edx; xor ebx,edx; dec cx; ... The block at top is
     * translated after CMP (SUB16, the inline recompute it expects; the loop compares CX with
     * -1, so the minuend differs from the result); later entries come after
     * ADD and TEST (the cpu_cc_compute path). Every PUSHFD result is folded into EBX. */
    static const uint8_t code[] = {
        0x66, 0xB8, 0x78, 0x56, 0x34, 0x12, 0x66, 0x31, 0xDB, 0xB9, 0x04, 0x00, 0xBE, 0x00,
        0x00, 0x83, 0xF9, 0x07, 0x66, 0xC1, 0xC8, 0x03, 0x66, 0x9C, 0x66, 0x5A, 0x66, 0x31,
        0xD3, 0x49, 0x83, 0xFE, 0x00, 0x75, 0x10, 0x83, 0xF9, 0xFF, 0x75, 0xEA, 0xBE, 0x01,
        0x00, 0xB9, 0x04, 0x00, 0x83, 0xC1, 0x00, 0x75, 0xDF, 0x85, 0xC9, 0x75, 0xDB, 0xF4,
    };
    JitStats s = run_and_compare(code, sizeof(code));
    cr_assert_gt(s.insns_inline, 0);
}

Test(jit_codegen, bt_bts_btr_btc_on_registers_keep_the_other_flags)
{
    static const uint8_t code[] = {
        0x66, 0xB8, 0x0F, 0x00, 0xF0, 0x80,       /* mov eax, 0x80F0000F */
        0x66, 0xB9, 0x23, 0x00, 0x00, 0x00,       /* mov ecx, 35 (masked to 3) */
        0x66, 0x83, 0xF8, 0x01,                   /* cmp eax, 1: SF, OF... */
        0x66, 0x0F, 0xA3, 0xC8, 0x66, 0x9C,       /* bt eax, ecx; pushfd */
        0x66, 0x01, 0xC0,                         /* add eax, eax: OF, CF */
        0x66, 0x0F, 0xBA, 0xE8, 0x05, 0x66, 0x9C, /* bts eax, 5; pushfd */
        0x66, 0x85, 0xC0,                         /* test eax, eax */
        0x66, 0x0F, 0xBA, 0xF0, 0x3F, 0x66, 0x9C, /* btr eax, 63 (bit 31); pushfd */
        0x0F, 0xBB, 0xC8, 0x66, 0x9C,             /* btc ax, cx (16-bit, bit 3); pushfd */
        0x66, 0x0F, 0xBA, 0xE0, 0x00,             /* bt eax, 0 (after btc: raw flags) */
        0x66, 0x0F, 0xAB, 0xC8, 0x66, 0x9C,       /* bts eax, ecx; pushfd */
        0xF4,
    };
    JitStats s = run_and_compare(code, sizeof(code));
    cr_assert_eq(s.insns_helper, 6, "the five PUSHFDs and the HLT only: %llu",
                 (unsigned long long)s.insns_helper);
}

Test(jit_codegen, bt_bts_btr_btc_on_memory_address_by_the_signed_bit_offset)
{
    static const uint8_t code[] = {
        0xBB, 0x00, 0x30,                               /* mov bx, 0x3000 */
        0x66, 0xC7, 0x07, 0x0F, 0x00, 0xF0, 0x80,       /* mov dword [bx], 0x80F0000F */
        0x66, 0xC7, 0x06, 0xF8, 0x2F, 0x01, 0x00, 0x00, 0x80, /* mov dword [0x2FF8], .. */
        0x66, 0xB9, 0xDF, 0xFF, 0xFF, 0xFF,             /* mov ecx, -33 */
        0x83, 0xF8, 0x01,                               /* cmp ax, 1 */
        0x66, 0x0F, 0xA3, 0x0F, 0x66, 0x9C,             /* bt [bx], ecx: 0x2FF8 bit 31 */
        0x66, 0x0F, 0xAB, 0x4F, 0x04, 0x66, 0x9C,       /* bts [bx+4], ecx: 0x2FFC bit 31 */
        0xB9, 0xF1, 0xFF,                               /* mov cx, -15 */
        0x0F, 0xB3, 0x0F, 0x66, 0x9C,                   /* btr word [bx], cx: 0x2FFE bit 1 */
        0xB9, 0x25, 0x00,                               /* mov cx, 37 */
        0x0F, 0xBB, 0x0F, 0x66, 0x9C,                   /* btc word [bx], cx: 0x3004 bit 5 */
        0x66, 0x0F, 0xBA, 0x27, 0x23, 0x66, 0x9C,       /* bt dword [bx], 35: bit 3 */
        0x66, 0x0F, 0xBA, 0x3F, 0x1F, 0x66, 0x9C,       /* btc dword [bx], 31 */
        0x66, 0x0F, 0xBA, 0x37, 0x00, 0x66, 0x9C,       /* btr dword [bx], 0 */
        0xF4,
    };
    JitStats s = run_and_compare(code, sizeof(code));
    cr_assert_eq(s.insns_helper, 8, "the seven PUSHFDs and the HLT only: %llu",
                 (unsigned long long)s.insns_helper);
}

Test(jit_codegen, indirect_near_call_and_jmp_through_registers_and_memory_run_inline)
{
    uint8_t code[0x420] = {0};
    static const uint8_t main_[] = {
        0xBB, 0x00, 0x30,                               /* 1000: mov bx, 0x3000 */
        0xC7, 0x07, 0x00, 0x11,                         /* 1003: mov word [bx], 0x1100 */
        0xFF, 0x17,                                     /* 1007: call [bx] */
        0xB8, 0x00, 0x12,                               /* 1009: mov ax, 0x1200 */
        0xFF, 0xD0,                                     /* 100C: call ax */
        0x66, 0xC7, 0x47, 0x02, 0x00, 0x13, 0x00, 0x00, /* 100E: mov dword [bx+2], 0x1300 */
        0x66, 0xFF, 0x67, 0x02,                         /* 1016: jmp dword [bx+2] */
    };
    static const uint8_t f1100[] = {0x41, 0xC3};       /* inc cx; ret */
    static const uint8_t f1200[] = {0x42, 0xC3};       /* inc dx; ret */
    static const uint8_t f1300[] = {
        0xC7, 0x07, 0x10, 0x13,                         /* mov word [bx], 0x1310 */
        0xFF, 0x27,                                     /* jmp [bx] */
    };
    static const uint8_t f1310[] = {
        0x66, 0xB8, 0x00, 0x14, 0x00, 0x00,             /* mov eax, 0x1400 */
        0x66, 0xFF, 0xD0,                               /* call eax (pushes 4 bytes) */
        0xF4,
    };
    static const uint8_t f1400[] = {0x46, 0x66, 0xC3}; /* inc si; ret (32-bit) */
    memcpy(code, main_, sizeof(main_));
    memcpy(code + 0x100, f1100, sizeof(f1100));
    memcpy(code + 0x200, f1200, sizeof(f1200));
    memcpy(code + 0x300, f1300, sizeof(f1300));
    memcpy(code + 0x310, f1310, sizeof(f1310));
    memcpy(code + 0x400, f1400, sizeof(f1400));
    JitStats s = run_and_compare(code, sizeof(code));
    cr_assert_eq(s.insns_helper, 1, "the HLT only: %llu", (unsigned long long)s.insns_helper);
}

Test(jit_codegen, conditions_on_flags_from_before_the_block_match_the_interpreter)
{
    /* 16 rounds of nine flag producers (add r8, sub r16, and r32, inc r16, add r32,
     * cmp r8 imm, rol r32 imm, sahf, cmc), each followed by a call of its own routine
     * (translated for its cc_op: the inline form), once more by a call of a shared one
     * (translated for the first: the other producers take the cpu_cond path), and once more
     * by a routine starting with DAA (a helper: the flags in EFLAGS). A routine stores all
     * sixteen SETcc at [si..si+15], branches with JC, adds with carry into [si+16],
     * si += 20. */
    static const uint8_t code[] = {
        0xBE, 0x00, 0x30, 0xBD, 0x10, 0x00, 0x89, 0xE8, 0x69, 0xC0, 0xF1, 0x03, 0x89, 0xC3,
        0xC1, 0xE3, 0x03, 0x00, 0xF8, 0xE8, 0x94, 0x00, 0x00, 0xF8, 0xE8, 0x3B, 0x03, 0x00,
        0xF8, 0xE8, 0x82, 0x03, 0x29, 0xD8, 0xE8, 0xD1, 0x00, 0x29, 0xD8, 0xE8, 0x2C, 0x03,
        0x29, 0xD8, 0xE8, 0x73, 0x03, 0x66, 0x21, 0xD8, 0xE8, 0x0D, 0x01, 0x66, 0x21, 0xD8,
        0xE8, 0x1B, 0x03, 0x66, 0x21, 0xD8, 0xE8, 0x61, 0x03, 0x41, 0xE8, 0x49, 0x01, 0x41,
        0xE8, 0x0D, 0x03, 0x41, 0xE8, 0x55, 0x03, 0x66, 0x01, 0xD8, 0xE8, 0x87, 0x01, 0x66,
        0x01, 0xD8, 0xE8, 0xFD, 0x02, 0x66, 0x01, 0xD8, 0xE8, 0x43, 0x03, 0x80, 0xFB, 0x80,
        0xE8, 0xC1, 0x01, 0x80, 0xFB, 0x80, 0xE8, 0xEB, 0x02, 0x80, 0xFB, 0x80, 0xE8, 0x31,
        0x03, 0x66, 0xC1, 0xC0, 0x05, 0xE8, 0xFA, 0x01, 0x66, 0xC1, 0xC0, 0x05, 0xE8, 0xD7,
        0x02, 0x66, 0xC1, 0xC0, 0x05, 0xE8, 0x1C, 0x03, 0x88, 0xDC, 0x9E, 0xE8, 0x32, 0x02,
        0x88, 0xDC, 0x9E, 0xE8, 0xC4, 0x02, 0x88, 0xDC, 0x9E, 0xE8, 0x0A, 0x03, 0xF5, 0xE8,
        0x6E, 0x02, 0xF5, 0xE8, 0xB6, 0x02, 0xF5, 0xE8, 0xFE, 0x02, 0x4D, 0x0F, 0x85, 0x5D,
        0xFF, 0xF4, 0x0F, 0x90, 0x44, 0x00, 0x0F, 0x91, 0x44, 0x01, 0x0F, 0x92, 0x44, 0x02,
        0x0F, 0x93, 0x44, 0x03, 0x0F, 0x94, 0x44, 0x04, 0x0F, 0x95, 0x44, 0x05, 0x0F, 0x96,
        0x44, 0x06, 0x0F, 0x97, 0x44, 0x07, 0x0F, 0x98, 0x44, 0x08, 0x0F, 0x99, 0x44, 0x09,
        0x0F, 0x9A, 0x44, 0x0A, 0x0F, 0x9B, 0x44, 0x0B, 0x0F, 0x9C, 0x44, 0x0C, 0x0F, 0x9D,
        0x44, 0x0D, 0x0F, 0x9E, 0x44, 0x0E, 0x0F, 0x9F, 0x44, 0x0F, 0x72, 0x03, 0xFF, 0x44,
        0x12, 0x11, 0x44, 0x10, 0x83, 0xC6, 0x14, 0xC3, 0x0F, 0x90, 0x44, 0x00, 0x0F, 0x91,
        0x44, 0x01, 0x0F, 0x92, 0x44, 0x02, 0x0F, 0x93, 0x44, 0x03, 0x0F, 0x94, 0x44, 0x04,
        0x0F, 0x95, 0x44, 0x05, 0x0F, 0x96, 0x44, 0x06, 0x0F, 0x97, 0x44, 0x07, 0x0F, 0x98,
        0x44, 0x08, 0x0F, 0x99, 0x44, 0x09, 0x0F, 0x9A, 0x44, 0x0A, 0x0F, 0x9B, 0x44, 0x0B,
        0x0F, 0x9C, 0x44, 0x0C, 0x0F, 0x9D, 0x44, 0x0D, 0x0F, 0x9E, 0x44, 0x0E, 0x0F, 0x9F,
        0x44, 0x0F, 0x72, 0x03, 0xFF, 0x44, 0x12, 0x11, 0x44, 0x10, 0x83, 0xC6, 0x14, 0xC3,
        0x0F, 0x90, 0x44, 0x00, 0x0F, 0x91, 0x44, 0x01, 0x0F, 0x92, 0x44, 0x02, 0x0F, 0x93,
        0x44, 0x03, 0x0F, 0x94, 0x44, 0x04, 0x0F, 0x95, 0x44, 0x05, 0x0F, 0x96, 0x44, 0x06,
        0x0F, 0x97, 0x44, 0x07, 0x0F, 0x98, 0x44, 0x08, 0x0F, 0x99, 0x44, 0x09, 0x0F, 0x9A,
        0x44, 0x0A, 0x0F, 0x9B, 0x44, 0x0B, 0x0F, 0x9C, 0x44, 0x0C, 0x0F, 0x9D, 0x44, 0x0D,
        0x0F, 0x9E, 0x44, 0x0E, 0x0F, 0x9F, 0x44, 0x0F, 0x72, 0x03, 0xFF, 0x44, 0x12, 0x11,
        0x44, 0x10, 0x83, 0xC6, 0x14, 0xC3, 0x0F, 0x90, 0x44, 0x00, 0x0F, 0x91, 0x44, 0x01,
        0x0F, 0x92, 0x44, 0x02, 0x0F, 0x93, 0x44, 0x03, 0x0F, 0x94, 0x44, 0x04, 0x0F, 0x95,
        0x44, 0x05, 0x0F, 0x96, 0x44, 0x06, 0x0F, 0x97, 0x44, 0x07, 0x0F, 0x98, 0x44, 0x08,
        0x0F, 0x99, 0x44, 0x09, 0x0F, 0x9A, 0x44, 0x0A, 0x0F, 0x9B, 0x44, 0x0B, 0x0F, 0x9C,
        0x44, 0x0C, 0x0F, 0x9D, 0x44, 0x0D, 0x0F, 0x9E, 0x44, 0x0E, 0x0F, 0x9F, 0x44, 0x0F,
        0x72, 0x03, 0xFF, 0x44, 0x12, 0x11, 0x44, 0x10, 0x83, 0xC6, 0x14, 0xC3, 0x0F, 0x90,
        0x44, 0x00, 0x0F, 0x91, 0x44, 0x01, 0x0F, 0x92, 0x44, 0x02, 0x0F, 0x93, 0x44, 0x03,
        0x0F, 0x94, 0x44, 0x04, 0x0F, 0x95, 0x44, 0x05, 0x0F, 0x96, 0x44, 0x06, 0x0F, 0x97,
        0x44, 0x07, 0x0F, 0x98, 0x44, 0x08, 0x0F, 0x99, 0x44, 0x09, 0x0F, 0x9A, 0x44, 0x0A,
        0x0F, 0x9B, 0x44, 0x0B, 0x0F, 0x9C, 0x44, 0x0C, 0x0F, 0x9D, 0x44, 0x0D, 0x0F, 0x9E,
        0x44, 0x0E, 0x0F, 0x9F, 0x44, 0x0F, 0x72, 0x03, 0xFF, 0x44, 0x12, 0x11, 0x44, 0x10,
        0x83, 0xC6, 0x14, 0xC3, 0x0F, 0x90, 0x44, 0x00, 0x0F, 0x91, 0x44, 0x01, 0x0F, 0x92,
        0x44, 0x02, 0x0F, 0x93, 0x44, 0x03, 0x0F, 0x94, 0x44, 0x04, 0x0F, 0x95, 0x44, 0x05,
        0x0F, 0x96, 0x44, 0x06, 0x0F, 0x97, 0x44, 0x07, 0x0F, 0x98, 0x44, 0x08, 0x0F, 0x99,
        0x44, 0x09, 0x0F, 0x9A, 0x44, 0x0A, 0x0F, 0x9B, 0x44, 0x0B, 0x0F, 0x9C, 0x44, 0x0C,
        0x0F, 0x9D, 0x44, 0x0D, 0x0F, 0x9E, 0x44, 0x0E, 0x0F, 0x9F, 0x44, 0x0F, 0x72, 0x03,
        0xFF, 0x44, 0x12, 0x11, 0x44, 0x10, 0x83, 0xC6, 0x14, 0xC3, 0x0F, 0x90, 0x44, 0x00,
        0x0F, 0x91, 0x44, 0x01, 0x0F, 0x92, 0x44, 0x02, 0x0F, 0x93, 0x44, 0x03, 0x0F, 0x94,
        0x44, 0x04, 0x0F, 0x95, 0x44, 0x05, 0x0F, 0x96, 0x44, 0x06, 0x0F, 0x97, 0x44, 0x07,
        0x0F, 0x98, 0x44, 0x08, 0x0F, 0x99, 0x44, 0x09, 0x0F, 0x9A, 0x44, 0x0A, 0x0F, 0x9B,
        0x44, 0x0B, 0x0F, 0x9C, 0x44, 0x0C, 0x0F, 0x9D, 0x44, 0x0D, 0x0F, 0x9E, 0x44, 0x0E,
        0x0F, 0x9F, 0x44, 0x0F, 0x72, 0x03, 0xFF, 0x44, 0x12, 0x11, 0x44, 0x10, 0x83, 0xC6,
        0x14, 0xC3, 0x0F, 0x90, 0x44, 0x00, 0x0F, 0x91, 0x44, 0x01, 0x0F, 0x92, 0x44, 0x02,
        0x0F, 0x93, 0x44, 0x03, 0x0F, 0x94, 0x44, 0x04, 0x0F, 0x95, 0x44, 0x05, 0x0F, 0x96,
        0x44, 0x06, 0x0F, 0x97, 0x44, 0x07, 0x0F, 0x98, 0x44, 0x08, 0x0F, 0x99, 0x44, 0x09,
        0x0F, 0x9A, 0x44, 0x0A, 0x0F, 0x9B, 0x44, 0x0B, 0x0F, 0x9C, 0x44, 0x0C, 0x0F, 0x9D,
        0x44, 0x0D, 0x0F, 0x9E, 0x44, 0x0E, 0x0F, 0x9F, 0x44, 0x0F, 0x72, 0x03, 0xFF, 0x44,
        0x12, 0x11, 0x44, 0x10, 0x83, 0xC6, 0x14, 0xC3, 0x0F, 0x90, 0x44, 0x00, 0x0F, 0x91,
        0x44, 0x01, 0x0F, 0x92, 0x44, 0x02, 0x0F, 0x93, 0x44, 0x03, 0x0F, 0x94, 0x44, 0x04,
        0x0F, 0x95, 0x44, 0x05, 0x0F, 0x96, 0x44, 0x06, 0x0F, 0x97, 0x44, 0x07, 0x0F, 0x98,
        0x44, 0x08, 0x0F, 0x99, 0x44, 0x09, 0x0F, 0x9A, 0x44, 0x0A, 0x0F, 0x9B, 0x44, 0x0B,
        0x0F, 0x9C, 0x44, 0x0C, 0x0F, 0x9D, 0x44, 0x0D, 0x0F, 0x9E, 0x44, 0x0E, 0x0F, 0x9F,
        0x44, 0x0F, 0x72, 0x03, 0xFF, 0x44, 0x12, 0x11, 0x44, 0x10, 0x83, 0xC6, 0x14, 0xC3,
        0x0F, 0x90, 0x44, 0x00, 0x0F, 0x91, 0x44, 0x01, 0x0F, 0x92, 0x44, 0x02, 0x0F, 0x93,
        0x44, 0x03, 0x0F, 0x94, 0x44, 0x04, 0x0F, 0x95, 0x44, 0x05, 0x0F, 0x96, 0x44, 0x06,
        0x0F, 0x97, 0x44, 0x07, 0x0F, 0x98, 0x44, 0x08, 0x0F, 0x99, 0x44, 0x09, 0x0F, 0x9A,
        0x44, 0x0A, 0x0F, 0x9B, 0x44, 0x0B, 0x0F, 0x9C, 0x44, 0x0C, 0x0F, 0x9D, 0x44, 0x0D,
        0x0F, 0x9E, 0x44, 0x0E, 0x0F, 0x9F, 0x44, 0x0F, 0x72, 0x03, 0xFF, 0x44, 0x12, 0x11,
        0x44, 0x10, 0x83, 0xC6, 0x14, 0xC3, 0x27, 0x0F, 0x90, 0x44, 0x00, 0x0F, 0x91, 0x44,
        0x01, 0x0F, 0x92, 0x44, 0x02, 0x0F, 0x93, 0x44, 0x03, 0x0F, 0x94, 0x44, 0x04, 0x0F,
        0x95, 0x44, 0x05, 0x0F, 0x96, 0x44, 0x06, 0x0F, 0x97, 0x44, 0x07, 0x0F, 0x98, 0x44,
        0x08, 0x0F, 0x99, 0x44, 0x09, 0x0F, 0x9A, 0x44, 0x0A, 0x0F, 0x9B, 0x44, 0x0B, 0x0F,
        0x9C, 0x44, 0x0C, 0x0F, 0x9D, 0x44, 0x0D, 0x0F, 0x9E, 0x44, 0x0E, 0x0F, 0x9F, 0x44,
        0x0F, 0x72, 0x03, 0xFF, 0x44, 0x12, 0x11, 0x44, 0x10, 0x83, 0xC6, 0x14, 0xC3
    };
    JitStats s = run_and_compare(code, sizeof(code));
    /* Helpers: the routine's DAA, HLT (SAHF and CMC are inline). */
    cr_assert_eq(s.insns_helper, 2, "helper-translated: %llu",
                 (unsigned long long)s.insns_helper);
}

Test(jit_codegen, mul_div_shld_bsf_and_flag_ops_run_inline_and_match_the_interpreter)
{
    /* tests/unit/asm/jit_arith.s, 24 rounds on changing values of: MUL/IMUL r/m of 8, 16
     * and 32 bits; DIV r/m32 after an inline CMP and after a helper (PUSHFD), and one that
     * raises #DE (a zero divisor or a quotient over 32 bits: the handler folds the saved IP
     * and FLAGS into memory, fixes the divisor and returns to the DIV); SHLD/SHRD by
     * immediates and by CL (0, 4, ... 28) on registers and memory; BSF/BSR with zero and
     * nonzero sources; CMC, STC, CLC, SAHF, LAHF, STD, CLD after inline ops and after
     * helpers; CF after MUL/IMUL and along ADC/SBB chains, read by ADC, SBB, SETC and JC;
     * CMPXCHG on memory (equal every other round) and on registers.
     * Every result and the flags after it (PUSHFD or LAHF + SETO) go to memory. */
    static const uint8_t code[] = {
        0xC7, 0x06, 0x00, 0x00, 0xE6, 0x12, 0xC7, 0x06, 0x02, 0x00, 0x00, 0x00, 0xBF, 0x00,
        0x20, 0xBD, 0x18, 0x00, 0x66, 0xBE, 0x78, 0x56, 0x34, 0x12, 0x66, 0xBB, 0xF1, 0xDE,
        0xBC, 0x9A, 0x66, 0x69, 0xF6, 0x6D, 0x4E, 0xC6, 0x41, 0x66, 0x81, 0xC6, 0x39, 0x30,
        0x00, 0x00, 0x66, 0xC1, 0xC3, 0x07, 0x66, 0x31, 0xF3, 0x66, 0x89, 0xF0, 0x66, 0xF7,
        0xE3, 0x66, 0x89, 0x05, 0x66, 0x89, 0x55, 0x04, 0x66, 0x9C, 0x66, 0x8F, 0x45, 0x08,
        0x66, 0x89, 0xF0, 0x66, 0xF7, 0xEB, 0x66, 0x89, 0x45, 0x0C, 0x66, 0x89, 0x55, 0x10,
        0x9F, 0x0F, 0x90, 0xC0, 0x89, 0x45, 0x14, 0x66, 0x89, 0xF0, 0xF7, 0xE3, 0x66, 0x89,
        0x45, 0x18, 0x66, 0x89, 0x55, 0x1C, 0x66, 0x9C, 0x66, 0x8F, 0x45, 0x20, 0x66, 0x89,
        0xF0, 0xF6, 0xEB, 0x66, 0x89, 0x45, 0x24, 0x66, 0x9C, 0x66, 0x8F, 0x45, 0x28, 0x66,
        0x89, 0xD8, 0xF7, 0xEE, 0xF6, 0xE4, 0x66, 0x89, 0x45, 0x2C, 0x66, 0x89, 0x55, 0x30,
        0x66, 0x89, 0x5D, 0x34, 0x66, 0x89, 0xF0, 0x66, 0xF7, 0x65, 0x34, 0x66, 0x89, 0x45,
        0x38, 0x66, 0x89, 0x55, 0x3C, 0x66, 0x9C, 0x66, 0x8F, 0x45, 0x40, 0x66, 0x89, 0xD9,
        0x66, 0x81, 0xC9, 0x00, 0x00, 0x00, 0x80, 0x66, 0x89, 0xDA, 0x66, 0xD1, 0xEA, 0x66,
        0x89, 0xF0, 0x66, 0x39, 0xDE, 0x66, 0xF7, 0xF1, 0x66, 0x89, 0x45, 0x44, 0x66, 0x89,
        0x55, 0x48, 0x66, 0x9C, 0x66, 0x8F, 0x45, 0x4C, 0x66, 0x89, 0xF0, 0x66, 0x31, 0xD2,
        0x66, 0x89, 0x5D, 0x50, 0x66, 0x83, 0x4D, 0x50, 0x01, 0x66, 0x9C, 0x66, 0xF7, 0x75,
        0x50, 0x66, 0x89, 0x45, 0x54, 0x66, 0x89, 0x55, 0x58, 0x66, 0x9C, 0x66, 0x8F, 0x45,
        0x5C, 0x66, 0x8F, 0x45, 0x60, 0x66, 0x89, 0xF0, 0x66, 0x89, 0xDA, 0x66, 0x83, 0xCA,
        0x01, 0x66, 0x89, 0xE9, 0x66, 0x83, 0xE1, 0x01, 0x66, 0x01, 0xF3, 0x66, 0xF7, 0xF1,
        0xEB, 0x00, 0x66, 0x89, 0x45, 0x64, 0x66, 0x89, 0x55, 0x68, 0x66, 0x9C, 0x66, 0x8F,
        0x45, 0x6C, 0x66, 0x89, 0xF0, 0x66, 0x0F, 0xA4, 0xD8, 0x05, 0x66, 0x89, 0x45, 0x70,
        0x66, 0x9C, 0x66, 0x8F, 0x45, 0x74, 0x66, 0x0F, 0xAC, 0xD8, 0x1B, 0x66, 0x89, 0x45,
        0x78, 0x9F, 0x0F, 0x90, 0xC0, 0x89, 0x45, 0x7C, 0x66, 0x89, 0xE9, 0x66, 0x83, 0xE1,
        0x07, 0x66, 0xC1, 0xE1, 0x02, 0x66, 0x0F, 0xA5, 0xF0, 0x66, 0x89, 0x85, 0x80, 0x00,
        0x66, 0x9C, 0x66, 0x8F, 0x85, 0x84, 0x00, 0x66, 0x0F, 0xAD, 0xF0, 0x66, 0x89, 0x85,
        0x88, 0x00, 0x66, 0x9C, 0x66, 0x8F, 0x85, 0x8C, 0x00, 0x66, 0x89, 0x9D, 0x90, 0x00,
        0x66, 0x0F, 0xAD, 0xB5, 0x90, 0x00, 0x66, 0x9C, 0x66, 0x8F, 0x85, 0x94, 0x00, 0x66,
        0x0F, 0xA4, 0x9D, 0x90, 0x00, 0x01, 0x9F, 0x0F, 0x90, 0xC0, 0x89, 0x85, 0x98, 0x00,
        0x66, 0x89, 0xF2, 0xF7, 0xC5, 0x03, 0x00, 0x75, 0x06, 0x66, 0x31, 0xD2, 0x66, 0x39,
        0xDE, 0x66, 0xB8, 0x55, 0x00, 0x00, 0x00, 0x66, 0x0F, 0xBC, 0xC2, 0x66, 0x89, 0x85,
        0x9C, 0x00, 0x66, 0x9C, 0x66, 0x8F, 0x85, 0xA0, 0x00, 0x66, 0xB9, 0x66, 0x00, 0x00,
        0x00, 0x66, 0x0F, 0xBD, 0xCA, 0x66, 0x89, 0x8D, 0xA4, 0x00, 0x9F, 0x0F, 0x90, 0xC0,
        0x89, 0x85, 0xA8, 0x00, 0x66, 0x89, 0x95, 0xAC, 0x00, 0x66, 0x01, 0xF3, 0x66, 0x0F,
        0xBD, 0x85, 0xAC, 0x00, 0x66, 0x89, 0x85, 0xB0, 0x00, 0x66, 0x9C, 0x66, 0x8F, 0x85,
        0xB4, 0x00, 0x66, 0x89, 0xF0, 0x66, 0x29, 0xD8, 0xF5, 0x9F, 0x0F, 0x90, 0xC0, 0x89,
        0x85, 0xB8, 0x00, 0x66, 0x01, 0xD8, 0xF9, 0x66, 0x9C, 0x66, 0x8F, 0x85, 0xBC, 0x00,
        0x66, 0x21, 0xD8, 0xF8, 0x66, 0x11, 0xF0, 0x66, 0x9C, 0x66, 0x8F, 0x85, 0xC0, 0x00,
        0x88, 0xDC, 0x9E, 0x66, 0x9C, 0x66, 0x8F, 0x85, 0xC4, 0x00, 0x88, 0xFC, 0x9E, 0xF5,
        0x9F, 0x89, 0x85, 0xC8, 0x00, 0xFD, 0x66, 0x9C, 0x66, 0x8F, 0x85, 0xCC, 0x00, 0xFC,
        0xF5, 0x66, 0x9C, 0x66, 0x8F, 0x85, 0xD0, 0x00, 0x66, 0x89, 0xF0, 0x66, 0xF7, 0xE3,
        0x66, 0x83, 0xD2, 0x00, 0x66, 0x89, 0x95, 0xD4, 0x00, 0x66, 0x89, 0xD8, 0xF6, 0xEF,
        0x0F, 0x92, 0xC1, 0x88, 0x8D, 0xD8, 0x00, 0x66, 0x89, 0xF0, 0x66, 0xC1, 0xF8, 0x14,
        0x66, 0xF7, 0xE8, 0x66, 0x19, 0xC9, 0x66, 0x89, 0x8D, 0xDC, 0x00, 0x66, 0x89, 0xF0,
        0x66, 0xC1, 0xF8, 0x08, 0xF7, 0xEB, 0x0F, 0x92, 0xC1, 0x88, 0x8D, 0xD9, 0x00, 0x66,
        0x89, 0xF0, 0x66, 0x89, 0xDA, 0x66, 0x01, 0xD8, 0x66, 0x11, 0xF2, 0x66, 0x11, 0xC2,
        0x66, 0x19, 0xD8, 0x66, 0x19, 0xD0, 0x10, 0xD8, 0x19, 0xD8, 0x66, 0x11, 0xD8, 0x72,
        0x02, 0x66, 0x42, 0x66, 0x89, 0x85, 0xE0, 0x00, 0x66, 0x89, 0x95, 0xE4, 0x00, 0x66,
        0x9C, 0x66, 0x8F, 0x85, 0xE8, 0x00, 0x66, 0x89, 0xF0, 0x66, 0x89, 0x9D, 0xEC, 0x00,
        0xF7, 0xC5, 0x01, 0x00, 0x74, 0x03, 0x66, 0x89, 0xD8, 0x66, 0x89, 0xF1, 0x66, 0xF0,
        0x0F, 0xB1, 0x8D, 0xEC, 0x00, 0x9F, 0x0F, 0x90, 0xC2, 0x89, 0x85, 0xF0, 0x00, 0x88,
        0x95, 0xF2, 0x00, 0x88, 0xFA, 0x0F, 0xB0, 0xD0, 0x88, 0x85, 0xF3, 0x00, 0x0F, 0xB1,
        0xD9, 0x66, 0x89, 0x85, 0xF4, 0x00, 0x66, 0x89, 0x8D, 0xF8, 0x00, 0x66, 0x9C, 0x66,
        0x8F, 0x85, 0xFC, 0x00, 0x81, 0xC7, 0x00, 0x01, 0x4D, 0x0F, 0x85, 0x39, 0xFD, 0xF4,
        0x55, 0x89, 0xE5, 0x50, 0x8B, 0x46, 0x02, 0x01, 0x06, 0xF2, 0x1F, 0x8B, 0x46, 0x06,
        0x31, 0x06, 0xF4, 0x1F, 0x58, 0x5D, 0xFF, 0x06, 0xF0, 0x1F, 0x66, 0xB9, 0xFF, 0xFF,
        0xFF, 0xFF, 0x66, 0x31, 0xD2, 0xCF
    };
    JitStats s = run_and_compare(code, sizeof(code));
    /* Helpers: the 21 PUSHFD and 21 POP m32 (four PUSHFD translated twice: blocks start at
     * both loop heads and at the JC's and a JZ's targets too), the handler's IRET, HLT; the
     * rest is inline. */
    cr_assert_eq(s.insns_helper, 48, "helper-translated: %llu",
                 (unsigned long long)s.insns_helper);
    Rig *j = rig_new(true, code, sizeof(code));
    rig_run(j);
    cr_assert_eq(j->ram[0x1FF0], 24, "#DE raised %u times", j->ram[0x1FF0]);
    rig_free(j);
}

Test(jit_codegen, inline_rotates_keep_the_other_flags_of_add_sub_logic_and_byte_ops)
{
    /* Each rotate follows an inline ALU op (kind ADD, SUB, logic, CMP, byte ADD); PUSHFD
     * stores the full EFLAGS after it, compared with the interpreter's stack. */
    static const uint8_t code[] = {
        0x66, 0xB8, 0x01, 0x00, 0x00, 0x80, /* mov eax, 0x80000001 */
        0x66, 0xBB, 0xFF, 0xFF, 0xFF, 0x7F, /* mov ebx, 0x7fffffff */
        0x66, 0x01, 0xD8, 0x66, 0xD1, 0xC0, 0x66, 0x9C,       /* add; rol eax,1; pushfd */
        0x66, 0x29, 0xD8, 0x66, 0xC1, 0xC8, 0x1F, 0x66, 0x9C, /* sub; ror eax,31; pushfd */
        0x66, 0x21, 0xD8, 0x66, 0xC1, 0xC0, 0x04, 0x66, 0x9C, /* and; rol eax,4; pushfd */
        0x66, 0x39, 0xD8, 0x66, 0xD1, 0xC8, 0x66, 0x9C,       /* cmp; ror eax,1; pushfd */
        0x00, 0xD8, 0x66, 0xC1, 0xC0, 0x08, 0x66, 0x9C,       /* add al,bl; rol 8; pushfd */
        0x66, 0x31, 0xC0, 0x66, 0xC1, 0xC8, 0x03, 0x66, 0x9C, /* xor (ZF, PF); ror 3 */
        0x66, 0xB8, 0x00, 0x00, 0x00, 0xC0,                   /* mov eax, 0xC0000000 */
        0x66, 0x83, 0xC0, 0x00, 0x66, 0xD1, 0xC0, 0x66, 0x9C, /* add 0; rol 1: CF=1, OF=0 */
        0x66, 0x83, 0xC0, 0x00, 0x66, 0xD1, 0xC8, 0x66, 0x9C, /* add 0; ror 1: OF=1 */
        0x66, 0xC1, 0xE0, 0x03, 0x66, 0xC1, 0xC8, 0x05, 0x66, 0x9C, /* shl 3 (AF bit 4); ror */
        0x66, 0xC1, 0xE8, 0x02, 0x66, 0xC1, 0xC0, 0x09,       /* shr 2 (AF set); rol 9 */
        0x66, 0xC1, 0xC8, 0x0D, 0x66, 0x9C,                   /* ror 13 after a rotate */
        0xF4,
    };
    JitStats s = run_and_compare(code, sizeof(code));
    cr_assert_eq(s.insns_helper, 11, "the ten PUSHFDs and the HLT only: %llu",
                 (unsigned long long)s.insns_helper);
}

Test(jit_codegen, accesses_crossing_a_page_take_the_slow_path_and_give_the_same_bytes)
{
    /* Warm the TLB for both pages, then word/dword accesses straddling 0x3000. */
    static const uint8_t code[] = {
        0xC6, 0x06, 0xFF, 0x2F, 0x11,       /* mov byte [0x2FFF], 0x11 */
        0xC6, 0x06, 0x00, 0x30, 0x22,       /* mov byte [0x3000], 0x22 */
        0xA1, 0xFF, 0x2F,                   /* mov ax, [0x2FFF] */
        0x66, 0x8B, 0x1E, 0xFE, 0x2F,       /* mov ebx, [0x2FFE] */
        0x66, 0xC7, 0x06, 0xFD, 0x2F, 0x44, 0x33, 0x22, 0x11, /* mov dword [0x2FFD], .. */
        0x81, 0x06, 0xFF, 0x2F, 0x01, 0x01, /* add word [0x2FFF], 0x0101 */
        0x8B, 0x0E, 0xFF, 0x2F,             /* mov cx, [0x2FFF] */
        0xF4,                               /* hlt */
    };
    run_and_compare(code, sizeof(code));
}

Test(jit_codegen, inc_and_dec_pass_the_carry_on_without_helper_calls)
{
    /* push 1; popf; inc si; inc di; dec cx; adc ax, 0; hlt. POPF (a helper) ends its block;
     * in the next, only the first INC reads CF (set by POPF in EFLAGS: inline, IR_CONDCC);
     * the others reuse it. */
    static const uint8_t code[] = {0x6A, 0x01, 0x9D, 0x46, 0x47, 0x49, 0x83, 0xD0, 0x00, 0xF4};
    Rig *j = rig_new(true, code, sizeof(code));
    rig_run(j);
    cr_assert(j->cpu->halted);
    cr_assert_eq(j->cpu->regs[R_EAX] & 0xFFFF, 1);
    cr_assert_eq(j->cpu->regs[R_ECX] & 0xFFFF, 0xFFFF);
    cr_assert_not(cpu_get_eflags(j->cpu) & EF_CF); /* adc ax,0: 0 + 0 + 1 */
    const IRBlock *ir = &((JitState *)j->cpu->jit)->ir;
    unsigned calls = 0, condcc = 0;
    for (unsigned k = 0; k < ir->n; k++) {
        calls += ir->insn[k].opc == IR_CALL;
        condcc += ir->insn[k].opc == IR_CONDCC;
    }
    /* HLT; the first INC's CF. */
    cr_assert_eq(calls, 1, "helper calls in the block: %u", calls);
    cr_assert_eq(condcc, 1);
    rig_free(j);
    JitStats s = run_and_compare(code, sizeof(code));
    cr_assert_eq(s.insns_helper, 2); /* POPF, HLT */
}

Test(jit_codegen, every_condition_after_bt_and_rol_runs_inline_and_matches_the_interpreter)
{
    /* For start values, compares, bit numbers / counts and all sixteen conditions:
     * mov eax, x; cmp eax, y; bt eax, n (or rol eax, n); setcc [bx + i];
     * jcc +4; inc byte [bx + 0x800 + i] (skipped when taken). */
    static const uint32_t xy[][2] = {{5, 5}, {1, 2}, {0x80000000u, 1}, {7, 3}, {0x40000000u,
                                                                              0xC0000000u}};
    static const uint8_t bits[] = {0, 1, 31, 6};
    static uint8_t code[0x8000];
    size_t n = 0;
    code[n++] = 0xBB; /* mov bx, 0x9000 */
    code[n++] = 0x00;
    code[n++] = 0x90;
    unsigned idx = 0;
    for (int op = 0; op < 2; op++) {
        for (size_t v = 0; v < sizeof(xy) / sizeof(xy[0]); v++) {
            for (size_t b = 0; b < sizeof(bits); b++) {
                for (int cc = 0; cc < 16; cc++, idx++) {
                    code[n++] = 0x66;
                    code[n++] = 0xB8;
                    memcpy(code + n, &xy[v][0], 4);
                    n += 4;
                    code[n++] = 0x66;
                    code[n++] = 0x3D;
                    memcpy(code + n, &xy[v][1], 4);
                    n += 4;
                    if (op == 0) {
                        code[n++] = 0x66; /* bt eax, imm8 */
                        code[n++] = 0x0F;
                        code[n++] = 0xBA;
                        code[n++] = 0xE0;
                    } else {
                        code[n++] = 0x66; /* rol eax, imm8 */
                        code[n++] = 0xC1;
                        code[n++] = 0xC0;
                    }
                    code[n++] = bits[b];
                    code[n++] = 0x0F; /* setcc [bx + idx] */
                    code[n++] = (uint8_t)(0x90 + cc);
                    code[n++] = 0x87;
                    code[n++] = (uint8_t)idx;
                    code[n++] = (uint8_t)(idx >> 8);
                    code[n++] = (uint8_t)(0x70 + cc); /* jcc +4 */
                    code[n++] = 4;
                    code[n++] = 0xFE; /* inc byte [bx + 0x800 + idx] */
                    code[n++] = 0x87;
                    code[n++] = (uint8_t)(idx + 0x800);
                    code[n++] = (uint8_t)((idx + 0x800) >> 8);
                }
            }
        }
    }
    code[n++] = 0xF4;
    cr_assert_lt(n, sizeof(code));
    JitStats s = run_and_compare(code, n);
    cr_assert_eq(s.cond_helpers, 0, "%llu conditions through cpu_cond",
                 (unsigned long long)s.cond_helpers);
}

Test(jit_codegen, jcc_and_setcc_read_the_host_flags_their_alu_op_left)
{
    /* tests/unit/asm/jit_fuse.s, 300 rounds on changing values of CMP, SUB, ADD, AND, TEST
     * and OR of 8, 16 and 32 bits (registers, an immediate, memory, an operand compared with
     * itself) followed by JB, JL, JO, JC, JS, JP, JZ, JA, JNE, JLE, SETG and the CF an SBB
     * and an INC read: each outcome is added into BX, and FLAGS are folded into memory. */
    static const uint8_t code[] = {
        0xBD, 0x2C, 0x01, 0xBE, 0x34, 0x12, 0xBF, 0x65, 0x87, 0x31, 0xDB, 0x31, 0xC9, 0x6B,
        0xF6, 0x0D, 0x81, 0xC6, 0xB1, 0x03, 0xC1, 0xC7, 0x03, 0x31, 0xF7, 0x89, 0xF0, 0x89,
        0xFA, 0x39, 0xD0, 0x72, 0x01, 0x43, 0x38, 0xD0, 0x7C, 0x03, 0x83, 0xC3, 0x03, 0x39,
        0xD0, 0x0F, 0x9F, 0xC1, 0x00, 0xCB, 0x29, 0xD0, 0x70, 0x03, 0x83, 0xC3, 0x05, 0x00,
        0xD0, 0x72, 0x03, 0x83, 0xC3, 0x07, 0x21, 0xD0, 0x78, 0x03, 0x83, 0xC3, 0x0B, 0xA8,
        0x81, 0x7A, 0x03, 0x83, 0xC3, 0x0D, 0x09, 0xF2, 0x74, 0x03, 0x83, 0xC3, 0x11, 0x39,
        0xF2, 0x19, 0xC0, 0x01, 0xC3, 0x39, 0xFE, 0x41, 0x76, 0x03, 0x83, 0xC3, 0x13, 0x66,
        0x89, 0xF0, 0x66, 0xC1, 0xE0, 0x07, 0x66, 0x39, 0xD0, 0x77, 0x03, 0x83, 0xC3, 0x17,
        0x66, 0x01, 0xC0, 0x72, 0x03, 0x83, 0xC3, 0x1D, 0x38, 0x06, 0x02, 0x20, 0x75, 0x03,
        0x83, 0xC3, 0x1F, 0xA2, 0x02, 0x20, 0x2C, 0x40, 0x7E, 0x03, 0x83, 0xC3, 0x25, 0x39,
        0xC0, 0x75, 0x03, 0x83, 0xC3, 0x29, 0x9C, 0x58, 0x31, 0x06, 0x08, 0x20, 0x4D, 0x0F,
        0x85, 0x70, 0xFF, 0x89, 0x1E, 0x00, 0x20, 0x89, 0x0E, 0x04, 0x20, 0xEB, 0x00, 0xF4
    };
    JitStats s = run_and_compare(code, sizeof(code));
    cr_assert_geq(s.flags_fused, 20, "fused: %llu", (unsigned long long)s.flags_fused);
}

Test(jit_codegen, signed_conditions_after_adc_and_sbb_run_inline_and_match_the_interpreter)
{
    /* tests/unit/asm/jit_adc_sbb_of.s, 250 rounds on changing values of the two halves of a
     * wide compare (CMP lo; SBB hi) and of ADC chains at 8, 16 and 32 bits, with and without
     * a carry in, followed by JL, JGE, JLE, JG, JO, JNO, SETL, SETG and CMOVGE: each outcome
     * goes into BX. Their OF comes from temps (it went through cpu_cond). */
    static const uint8_t code[] = {
        0xBD, 0xFA, 0x00, 0xBE, 0x34, 0x12, 0xBF, 0x76, 0x98, 0x31, 0xDB, 0x6B, 0xF6, 0x3B,
        0x81, 0xC6, 0x21, 0x43, 0xC1, 0xC7, 0x05, 0x31, 0xF7, 0x89, 0xF0, 0x89, 0xFA, 0x39,
        0xC2, 0x89, 0xF1, 0x19, 0xF9, 0x7C, 0x01, 0x43, 0x39, 0xD0, 0x89, 0xF9, 0x19, 0xF1,
        0x7D, 0x03, 0x83, 0xC3, 0x03, 0x39, 0xC2, 0x89, 0xF1, 0x19, 0xF9, 0x7E, 0x03, 0x83,
        0xC3, 0x05, 0xF9, 0x89, 0xF9, 0x19, 0xF1, 0x7F, 0x03, 0x83, 0xC3, 0x07, 0x39, 0xD0,
        0x89, 0xF1, 0x19, 0xF9, 0x70, 0x03, 0x83, 0xC3, 0x0B, 0x39, 0xC2, 0x89, 0xF9, 0x19,
        0xF1, 0x71, 0x03, 0x83, 0xC3, 0x0D, 0x01, 0xC2, 0x89, 0xF1, 0x11, 0xF9, 0x70, 0x03,
        0x83, 0xC3, 0x11, 0x01, 0xD0, 0x89, 0xF9, 0x11, 0xF1, 0x0F, 0x9C, 0xC1, 0x00, 0xCB,
        0x01, 0xD0, 0x89, 0xF1, 0x11, 0xF9, 0x0F, 0x9F, 0xC1, 0x00, 0xCF, 0x38, 0xD0, 0x88,
        0xE1, 0x18, 0xF1, 0x7C, 0x03, 0x83, 0xC3, 0x13, 0x38, 0xD0, 0x88, 0xF1, 0x10, 0xE1,
        0x7E, 0x03, 0x83, 0xC3, 0x17, 0x66, 0x89, 0xF0, 0x66, 0xC1, 0xE0, 0x0D, 0x66, 0x31,
        0xF8, 0x66, 0x89, 0xFA, 0x66, 0xC1, 0xCA, 0x07, 0x66, 0x39, 0xC2, 0x66, 0x89, 0xF1,
        0x66, 0x19, 0xD1, 0x66, 0x0F, 0x4D, 0xD9, 0x66, 0x39, 0xD0, 0x66, 0x11, 0xC1, 0x7F,
        0x03, 0x83, 0xC3, 0x1D, 0x39, 0xC0, 0x89, 0xF1, 0x19, 0xF1, 0x7F, 0x03, 0x83, 0xC3,
        0x1F, 0x4D, 0x0F, 0x85, 0x41, 0xFF, 0x89, 0x1E, 0x00, 0x20, 0xEB, 0x00, 0xF4
    };
    JitStats s = run_and_compare(code, sizeof(code));
    cr_assert_eq(s.cond_helpers, 0, "conditions through cpu_cond: %llu",
                 (unsigned long long)s.cond_helpers);
}

/* rotpend_block: ldreg; add; setcc; rol (IR_ROTPEND); then `mid` (0: a load, 1: a grouped
 * load, 2: a store, 3: a helper call); ld; add; setcc. Returns the IR_ROTPEND's index. */
static unsigned rotpend_block(IRBlock *b, int mid)
{
    ir_ldreg(b, 0, R_EAX, 4);
    ir_ldreg(b, 1, R_EBX, 4);
    ir_alu(b, XA_ADD, 2, 0, 1, 4);
    ir_setcc(b, CC_OP_ADD32, 2, 1, -1);
    ir_movi(b, 3, 5);
    ir_alu(b, IR_ALU_ROL, 4, 2, 3, 4);
    ir_streg(b, R_EAX, 4, 4);
    unsigned k = b->n;
    ir_rotpend(b, 4, 1);
    if (mid == 0) {
        ir_ld(b, 5, S_DS, 1, 4);
    } else if (mid == 1) {
        ir_gld(b, 0, 8, 5, 4);
    } else if (mid == 2) {
        ir_st(b, S_DS, 1, 4, 4);
    } else {
        ir_call_helper(b, 5, NULL, NULL);
    }
    ir_alu(b, XA_ADD, 6, 5, 4, 4);
    ir_setcc(b, CC_OP_ADD32, 6, 4, -1);
    ir_exit_tb(b);
    return k;
}

Test(jit_codegen, a_rotates_pending_flags_allow_only_loads_before_the_next_flag_update)
{
    for (int mid = 0; mid < 4; mid++) {
        IRBlock *b = new_ir();
        unsigned k = rotpend_block(b, mid);
        bool ok = jit_opt_rotpend(b);
        cr_assert_eq(ok, mid <= 1, "mid %d", mid);
        if (mid == 0) {
            /* a load that may fault: kept, its window ending at the ADD's SETCC */
            cr_assert_eq(b->insn[k].opc, IR_ROTPEND);
            cr_assert_eq(b->insn[k].imm, k + 3);
            cr_assert_eq(b->insn[b->insn[k].imm].opc, IR_SETCC);
        } else if (mid == 1) {
            cr_assert_eq(b->insn[k].opc, IR_NOP, "a grouped load cannot fault");
        }
        free(b);
    }
    /* no flag update after it: refused too */
    IRBlock *b = new_ir();
    ir_ldreg(b, 0, R_EAX, 4);
    ir_movi(b, 1, 3);
    ir_alu(b, IR_ALU_ROR, 2, 0, 1, 4);
    ir_streg(b, R_EAX, 4, 2);
    ir_rotpend(b, 2, 2);
    ir_ld(b, 3, S_DS, 0, 4);
    ir_exit_tb(b);
    cr_assert_not(jit_opt_rotpend(b));
    free(b);
}

Test(jit_codegen, temps_of_the_last_flag_updates_are_not_recycled)
{
    /* add (then a load: the flags may be seen), xor, and: at the next instruction the
     * operands of the AND (the last update) and of the ADD (the last one an observer
     * followed) stay reserved; the XOR's are free again. */
    IRBlock *b = new_ir();
    const int none[3] = {-1, -1, -1};
    ir_temps_recycle(b, none);
    int a0 = ir_temp(b), a1 = ir_temp(b), a2 = ir_temp(b);
    ir_ldreg(b, a0, R_EAX, 4);
    ir_ldreg(b, a1, R_EBX, 4);
    ir_alu(b, XA_ADD, a2, a0, a1, 4);
    ir_setcc(b, CC_OP_ADD32, a2, a1, -1);
    ir_ld(b, a0, S_DS, a2, 4);
    ir_temps_recycle(b, none);
    int x0 = ir_temp(b);
    cr_assert(x0 != a2 && x0 != a1);
    int x1 = ir_temp(b);
    ir_alu(b, XA_XOR, x1, x0, x0, 4);
    ir_setcc(b, CC_OP_LOGIC32, x1, -1, -1);
    ir_temps_recycle(b, none);
    int n0 = ir_temp(b);
    ir_alu(b, XA_AND, n0, n0, n0, 4);
    ir_setcc(b, CC_OP_LOGIC32, n0, -1, -1);
    ir_temps_recycle(b, none);
    bool seen[IR_MAX_TEMPS] = {false};
    for (int k = 0; k < 6; k++) {
        seen[ir_temp(b)] = true;
    }
    cr_assert_not(seen[a1], "the ADD's source is kept");
    cr_assert_not(seen[a2], "the ADD's result is kept");
    cr_assert_not(seen[n0], "the AND's result is kept");
    cr_assert(seen[x1], "the XOR's result is free again");
    free(b);
}
