/* jit_ir.c: building the JIT's IR (see jit_internal.h for the op set) and printing it. */
#include <stdio.h>
#include <string.h>

#include "translate/jit_internal.h"

void ir_init(IRBlock *b)
{
    b->n = 0;
    b->ntemps = 0;
    b->next_temp = 0;
    b->kept[0] = b->kept[1] = 0;
    memset(b->setcc_ops, -1, sizeof(b->setcc_ops));
    b->last_setcc = -1;
    b->nlabels = 0;
    b->overflow = false;
    b->ngroups = 0;
}

static IRInsn *ir_emit(IRBlock *b, IROpc opc)
{
    static const IRInsn zero = {.dst = -1, .a = -1, .b = -1, .c = -1};
    if (b->n >= IR_MAX_INSNS) {
        b->overflow = true;
        return NULL;
    }
    IRInsn *i = &b->insn[b->n++];
    *i = zero;
    i->opc = (uint8_t)opc;
    return i;
}

int ir_temp(IRBlock *b)
{
    while (b->next_temp < IR_MAX_TEMPS &&
           ((b->kept[b->next_temp >> 6] >> (b->next_temp & 63)) & 1)) {
        b->next_temp++;
    }
    if (b->next_temp >= IR_MAX_TEMPS) {
        b->overflow = true;
        return 0;
    }
    int t = b->next_temp++;
    if (t >= b->ntemps) {
        b->ntemps = t + 1;
    }
    return t;
}

void ir_temps_recycle(IRBlock *b, const int keep[3])
{
    b->next_temp = 0;
    b->kept[0] = b->kept[1] = 0;
    int8_t all[9];
    for (int k = 0; k < 3; k++) {
        all[k] = (int8_t)keep[k];
        all[3 + k] = b->setcc_ops[0][k];
        all[6 + k] = b->setcc_ops[1][k];
    }
    for (int k = 0; k < 9; k++) {
        if (all[k] >= 0 && all[k] < IR_MAX_TEMPS) {
            b->kept[all[k] >> 6] |= 1ull << (all[k] & 63);
        }
    }
}

int ir_label(IRBlock *b)
{
    if (b->nlabels >= IR_MAX_LABELS) {
        b->overflow = true;
        return 0;
    }
    return b->nlabels++;
}

void ir_insn_start(IRBlock *b, uint32_t eip, uint32_t next)
{
    IRInsn *i = ir_emit(b, IR_INSN_START);
    if (i) {
        i->imm = eip;
        i->imm2 = next;
    }
}

void ir_insn_end(IRBlock *b)
{
    ir_emit(b, IR_INSN_END);
}

void ir_sync(IRBlock *b, uint32_t eip, uint32_t next)
{
    IRInsn *i = ir_emit(b, IR_SYNC);
    if (i) {
        i->imm = eip;
        i->imm2 = next;
    }
}

void ir_call_helper(IRBlock *b, int dst, const void *fn, const void *arg)
{
    IRInsn *i = ir_emit(b, IR_CALL);
    if (i) {
        i->dst = (int8_t)dst;
        i->ptr = fn;
        i->ptr2 = arg;
    }
}

void ir_check(IRBlock *b, uint32_t next)
{
    IRInsn *i = ir_emit(b, IR_CHECK);
    if (i) {
        i->imm = next;
    }
}

void ir_check_events(IRBlock *b)
{
    IRInsn *i = ir_emit(b, IR_CHECK);
    if (i) {
        i->sub = 1;
    }
}

void ir_movi(IRBlock *b, int dst, uint32_t imm)
{
    IRInsn *i = ir_emit(b, IR_MOVI);
    if (i) {
        i->dst = (int8_t)dst;
        i->imm = imm;
        i->size = 4;
    }
}

void ir_ldreg(IRBlock *b, int dst, int reg, unsigned size)
{
    IRInsn *i = ir_emit(b, IR_LDREG);
    if (i) {
        i->dst = (int8_t)dst;
        i->a = (int8_t)reg;
        i->size = (uint8_t)size;
    }
}

void ir_streg(IRBlock *b, int reg, unsigned size, int src)
{
    IRInsn *i = ir_emit(b, IR_STREG);
    if (i) {
        i->a = (int8_t)reg;
        i->b = (int8_t)src;
        i->size = (uint8_t)size;
    }
}

void ir_alu(IRBlock *b, int aop, int dst, int a, int c, unsigned size)
{
    IRInsn *i = ir_emit(b, IR_ALU);
    if (i) {
        i->sub = (uint8_t)aop;
        i->dst = (int8_t)dst;
        i->a = (int8_t)a;
        i->b = (int8_t)c;
        i->size = (uint8_t)size;
    }
}

void ir_szapcc(IRBlock *b, int dst, uint32_t expect, bool with_of)
{
    IRInsn *i = ir_emit(b, IR_SZAPCC);
    if (i) {
        i->sub = with_of ? 1 : 0;
        i->dst = (int8_t)dst;
        i->imm = expect;
        i->size = 4;
    }
}

bool condcc_inline(uint32_t op, int cc)
{
    if ((op >= CC_OP_ADD8 && op <= CC_OP_ADD32) || (op >= CC_OP_SUB8 && op <= CC_OP_SUB32) ||
        (op >= CC_OP_LOGIC8 && op <= CC_OP_LOGIC32) || op == CC_OP_RAW ||
        op == CC_OP_EFLAGS) {
        return cc >= 0 && cc < 16;
    }
    /* INC/DEC keep the CF they were given (cc_src2). */
    return op >= CC_OP_INC8 && op <= CC_OP_DEC32 && (cc == XC_B || cc == XC_AE);
}

void ir_condcc(IRBlock *b, int dst, int cc, uint32_t expect)
{
    IRInsn *i = ir_emit(b, IR_CONDCC);
    if (i) {
        i->sub = (uint8_t)cc;
        i->dst = (int8_t)dst;
        i->imm = expect;
        i->size = 4;
    }
}

void ir_x87(IRBlock *b, int sub, int dst, int ea, int seg, uint32_t eip, const void *fn,
            const void *insn)
{
    IRInsn *i = ir_emit(b, IR_X87);
    if (i) {
        i->sub = (uint8_t)sub;
        i->dst = (int8_t)dst;
        i->a = (int8_t)ea;
        i->imm = (uint32_t)seg;
        i->imm2 = eip;
        i->ptr = fn;
        i->ptr2 = insn;
    }
}

void ir_ea(IRBlock *b, int dst, int base, int index, unsigned scale, uint32_t disp)
{
    IRInsn *i = ir_emit(b, IR_EA);
    if (i) {
        i->sub = (uint8_t)scale;
        i->dst = (int8_t)dst;
        i->a = (int8_t)base;
        i->b = (int8_t)index;
        i->imm = disp;
        i->size = 4;
    }
}

void ir_setcc(IRBlock *b, uint32_t cc_op, int dst, int src, int src2)
{
    IRInsn *i = ir_emit(b, IR_SETCC);
    if (i) {
        i->imm = cc_op;
        i->a = (int8_t)dst;
        i->b = (int8_t)src;
        i->c = (int8_t)src2;
        bool observed = false;
        for (unsigned k = (unsigned)(b->last_setcc + 1); b->last_setcc >= 0 && k + 1 < b->n;
             k++) {
            observed = observed || !ir_op_register_only(b->insn[k].opc);
        }
        if (observed) {
            memcpy(b->setcc_ops[1], b->setcc_ops[0], 3);
        }
        b->last_setcc = (int)b->n - 1;
        b->setcc_ops[0][0] = i->a;
        b->setcc_ops[0][1] = i->b;
        b->setcc_ops[0][2] = i->c;
    }
}

void ir_rotpend(IRBlock *b, int res, int kind)
{
    IRInsn *i = ir_emit(b, IR_ROTPEND);
    if (i) {
        i->a = (int8_t)res;
        i->sub = (uint8_t)kind;
    }
}

void ir_ld(IRBlock *b, int dst, int seg, int off, unsigned size)
{
    IRInsn *i = ir_emit(b, IR_LD);
    if (i) {
        i->dst = (int8_t)dst;
        i->imm = (uint32_t)seg;
        i->a = (int8_t)off;
        i->size = (uint8_t)size;
    }
}

void ir_ld_rmw(IRBlock *b, int dst, int seg, int off, unsigned size)
{
    ir_ld(b, dst, seg, off, size);
    if (!b->overflow) {
        b->insn[b->n - 1].sub = 1;
    }
}

void ir_st(IRBlock *b, int seg, int off, int val, unsigned size)
{
    IRInsn *i = ir_emit(b, IR_ST);
    if (i) {
        i->imm = (uint32_t)seg;
        i->a = (int8_t)off;
        i->b = (int8_t)val;
        i->size = (uint8_t)size;
    }
}

void ir_seteip(IRBlock *b, uint32_t eip)
{
    IRInsn *i = ir_emit(b, IR_SETEIP);
    if (i) {
        i->imm = eip;
    }
}

void ir_brcond(IRBlock *b, int cond, int label)
{
    IRInsn *i = ir_emit(b, IR_BRCOND);
    if (i) {
        i->a = (int8_t)cond;
        i->imm = (uint32_t)label;
    }
}

void ir_brzero(IRBlock *b, int cond, int label)
{
    ir_brcond(b, cond, label);
    if (!b->overflow) {
        b->insn[b->n - 1].sub = 1;
    }
}

void ir_set_label(IRBlock *b, int label)
{
    IRInsn *i = ir_emit(b, IR_LABEL);
    if (i) {
        i->imm = (uint32_t)label;
    }
}

void ir_goto_tb(IRBlock *b, int slot, uint32_t eip)
{
    IRInsn *i = ir_emit(b, IR_GOTO_TB);
    if (i) {
        i->imm = (uint32_t)slot;
        i->imm2 = eip;
    }
}

void ir_exit_tb(IRBlock *b)
{
    ir_emit(b, IR_EXIT);
}

void ir_exit_ret(IRBlock *b)
{
    IRInsn *i = ir_emit(b, IR_EXIT);
    if (i) {
        i->sub = 2;
    }
}

void ir_exit_call(IRBlock *b, uint32_t ret)
{
    IRInsn *i = ir_emit(b, IR_EXIT);
    if (i) {
        i->sub = 3;
        i->imm2 = ret;
    }
}

void ir_call_tb(IRBlock *b, uint32_t target, uint32_t ret)
{
    IRInsn *i = ir_emit(b, IR_CALL_TB);
    if (i) {
        i->imm = target;
        i->imm2 = ret;
    }
}

void ir_exit_tb_mode(IRBlock *b)
{
    IRInsn *i = ir_emit(b, IR_EXIT);
    if (i) {
        i->sub = 1;
    }
}

void ir_goto_tb_if(IRBlock *b, int slot, uint32_t eip)
{
    IRInsn *i = ir_emit(b, IR_GOTO_TB_IF);
    if (i) {
        i->imm = (uint32_t)slot;
        i->imm2 = eip;
    }
}

void ir_brflags(IRBlock *b, int cc, int kind, int a, int c, unsigned size, int label)
{
    IRInsn *i = ir_emit(b, IR_BRFLAGS);
    if (i) {
        i->sub = (uint8_t)cc;
        i->c = (int8_t)kind;
        i->a = (int8_t)a;
        i->b = (int8_t)c;
        i->size = (uint8_t)size;
        i->imm = (uint32_t)label;
    }
}

void ir_setflags(IRBlock *b, int dst, int cc, int kind, int a, int c, unsigned size)
{
    IRInsn *i = ir_emit(b, IR_SETFLAGS);
    if (i) {
        i->dst = (int8_t)dst;
        i->sub = (uint8_t)cc;
        i->c = (int8_t)kind;
        i->a = (int8_t)a;
        i->b = (int8_t)c;
        i->size = (uint8_t)size;
    }
}

void ir_jump_ind(IRBlock *b, int t, unsigned size, uint32_t cs_limit)
{
    IRInsn *i = ir_emit(b, IR_JUMP_IND);
    if (i) {
        i->a = (int8_t)t;
        i->size = (uint8_t)size;
        i->imm = size == 4 && cs_limit == 0xFFFFFFFFu;
    }
}

void ir_check_target(IRBlock *b, int t, unsigned size, uint32_t cs_limit)
{
    if (size == 4 && cs_limit == 0xFFFFFFFFu) {
        return; /* every 32-bit target is within the limit */
    }
    IRInsn *i = ir_emit(b, IR_JUMP_IND);
    if (i) {
        i->a = (int8_t)t;
        i->size = (uint8_t)size;
        i->sub = 1;
    }
}

void ir_ret_inline(IRBlock *b, int t, uint32_t expect)
{
    IRInsn *i = ir_emit(b, IR_JUMP_IND);
    if (i) {
        i->a = (int8_t)t;
        i->size = 4;
        i->sub = 2;
        i->imm = 1;
        i->imm2 = expect;
    }
}

void ir_div(IRBlock *b, int dst, int lo, int divisor, int hi)
{
    IRInsn *i = ir_emit(b, IR_DIV);
    if (i) {
        i->dst = (int8_t)dst;
        i->a = (int8_t)lo;
        i->b = (int8_t)divisor;
        i->c = (int8_t)hi;
        i->size = 4;
    }
}

void ir_string(IRBlock *b, int sub, unsigned size, const void *fn, const void *insn)
{
    IRInsn *i = ir_emit(b, IR_STRING);
    if (i) {
        i->sub = (uint8_t)sub;
        i->size = (uint8_t)size;
        i->ptr = fn;
        i->ptr2 = insn;
    }
}

void ir_eflags(IRBlock *b, uint32_t keep, uint32_t set)
{
    IRInsn *i = ir_emit(b, IR_EFLAGS);
    if (i) {
        i->imm = keep;
        i->imm2 = set;
    }
}

void ir_codechk(IRBlock *b, int dst, uint32_t lin_page, uint32_t phys_page, uintptr_t addend)
{
    IRInsn *i = ir_emit(b, IR_CODECHK);
    if (i) {
        i->dst = (int8_t)dst;
        i->imm = lin_page;
        i->imm2 = phys_page;
        i->ptr = (const void *)addend;
    }
}

void ir_dump(const IRBlock *b, FILE *f)
{
    static const char *const names[] = {
        [IR_INSN_START] = "insn_start", [IR_INSN_END] = "insn_end", [IR_SYNC] = "sync",
        [IR_CALL] = "call", [IR_CHECK] = "check", [IR_MOVI] = "movi", [IR_LDREG] = "ldreg",
        [IR_STREG] = "streg", [IR_ALU] = "alu", [IR_SETCC] = "setcc", [IR_LD] = "ld",
        [IR_ST] = "st", [IR_SETEIP] = "seteip", [IR_BRCOND] = "brcond", [IR_LABEL] = "label",
        [IR_GOTO_TB] = "goto_tb", [IR_EXIT] = "exit_tb", [IR_CALL_TB] = "call_tb",
        [IR_GOTO_TB_IF] = "goto_tb_if", [IR_BRFLAGS] = "brflags", [IR_JUMP_IND] = "jump_ind",
        [IR_SETFLAGS] = "setflags", [IR_NOP] = "nop", [IR_EA] = "ea", [IR_SZAPCC] = "szapcc",
        [IR_CONDCC] = "condcc", [IR_X87] = "x87", [IR_CODECHK] = "codechk",
        [IR_DIV] = "div", [IR_EFLAGS] = "eflags", [IR_STRING] = "string",
        [IR_ROTPEND] = "rotpend",
    };
    for (unsigned k = 0; k < b->n; k++) {
        const IRInsn *i = &b->insn[k];
        fprintf(f, "  %-10s size=%u sub=%u dst=%d a=%d b=%d c=%d imm=%#x imm2=%#x\n",
                names[i->opc], i->size, i->sub, i->dst, i->a, i->b, i->c, i->imm, i->imm2);
    }
}
