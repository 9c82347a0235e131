/* interp_str.c: string instructions MOVS, CMPS, STOS, LODS, SCAS, INS, OUTS with REP,
 * REPE and REPNE.
 *
 * Registers are updated after every iteration, so a fault in the middle leaves (E)CX and the
 * pointers describing exactly the iterations done; the loop restores EIP to the instruction
 * and it resumes where it stopped. One step runs at most STR_CHUNK iterations; if the count
 * is not exhausted by then, EIP is rewound to the instruction so the execution loop can take
 * an interrupt in between (as the hardware does between iterations).
 * The address size selects SI/DI/CX or ESI/EDI/ECX; a segment override applies to the source
 * (DS:SI) only, the destination is always ES:DI.
 */
#include "translate/interp.h"

#define STR_CHUNK 4096

typedef struct StrCtx {
    unsigned size;
    uint32_t am;      /* address mask */
    uint32_t delta;   /* +size or -size */
    int sseg;         /* source segment */
} StrCtx;

static inline StrCtx str_ctx(const CPUState *cpu, const DecodedInsn *d)
{
    StrCtx c;
    c.size = (d->op & 1) ? d->opsize : 1;
    c.am = interp_addr_mask(d);
    c.delta = (cpu->eflags & EF_DF) ? (uint32_t)-(int32_t)c.size : c.size;
    c.sseg = d->seg_override >= 0 ? d->seg_override : S_DS;
    return c;
}

static inline void str_adv(CPUState *cpu, int r, const StrCtx *c)
{
    cpu->regs[r] = (cpu->regs[r] & ~c->am) | ((cpu->regs[r] + c->delta) & c->am);
}

static inline uint32_t str_count(const CPUState *cpu, const StrCtx *c)
{
    return cpu->regs[R_ECX] & c->am;
}

static inline void str_set_count(CPUState *cpu, const StrCtx *c, uint32_t n)
{
    cpu->regs[R_ECX] = (cpu->regs[R_ECX] & ~c->am) | (n & c->am);
}

/* One iteration of each instruction. Returns nothing; CMPS/SCAS set the lazy flags. */
static inline void it_movs(CPUState *cpu, const StrCtx *c)
{
    uint32_t v = interp_ld(cpu, c->sseg, cpu->regs[R_ESI] & c->am, c->size);
    interp_st(cpu, S_ES, cpu->regs[R_EDI] & c->am, v, c->size);
    str_adv(cpu, R_ESI, c);
    str_adv(cpu, R_EDI, c);
}

static inline void it_stos(CPUState *cpu, const StrCtx *c)
{
    interp_st(cpu, S_ES, cpu->regs[R_EDI] & c->am, cpu->regs[R_EAX], c->size);
    str_adv(cpu, R_EDI, c);
}

static inline void it_lods(CPUState *cpu, const StrCtx *c)
{
    uint32_t v = interp_ld(cpu, c->sseg, cpu->regs[R_ESI] & c->am, c->size);
    interp_set_reg(cpu, R_EAX, c->size, v);
    str_adv(cpu, R_ESI, c);
}

static inline void it_cmps(CPUState *cpu, const StrCtx *c)
{
    uint32_t a = interp_ld(cpu, c->sseg, cpu->regs[R_ESI] & c->am, c->size);
    uint32_t b = interp_ld(cpu, S_ES, cpu->regs[R_EDI] & c->am, c->size);
    str_adv(cpu, R_ESI, c);
    str_adv(cpu, R_EDI, c);
    interp_set_cc(cpu, CC_OP_SUB8 + interp_size_index(c->size),
                  (a - b) & interp_size_mask(c->size), b, 0);
}

static inline void it_scas(CPUState *cpu, const StrCtx *c)
{
    uint32_t a = interp_get_reg(cpu, R_EAX, c->size);
    uint32_t b = interp_ld(cpu, S_ES, cpu->regs[R_EDI] & c->am, c->size);
    str_adv(cpu, R_EDI, c);
    interp_set_cc(cpu, CC_OP_SUB8 + interp_size_index(c->size),
                  (a - b) & interp_size_mask(c->size), b, 0);
}

static inline void it_ins(CPUState *cpu, const StrCtx *c)
{
    /* The port is read first (its I/O permission check may fault), then memory written;
     * the destination is checked for writability before the port read has side effects. */
    uint32_t off = cpu->regs[R_EDI] & c->am;
    (void)cpu_linear(cpu, S_ES, off, c->size, ACC_WRITE);
    uint32_t v = cpu_in(cpu, (uint16_t)cpu->regs[R_EDX], c->size);
    interp_st(cpu, S_ES, off, v, c->size);
    str_adv(cpu, R_EDI, c);
}

static inline void it_outs(CPUState *cpu, const StrCtx *c)
{
    uint32_t v = interp_ld(cpu, c->sseg, cpu->regs[R_ESI] & c->am, c->size);
    cpu_out(cpu, (uint16_t)cpu->regs[R_EDX], v, c->size);
    str_adv(cpu, R_ESI, c);
}

/* STR_REP: the plain-REP driver shared by MOVS/STOS/LODS/INS/OUTS. */
#define STR_REP(name, iter)                                                                     \
    static void name(CPUState *cpu, const DecodedInsn *d)                                      \
    {                                                                                           \
        StrCtx c = str_ctx(cpu, d);                                                             \
        if (d->rep == REP_NONE) {                                                               \
            iter(cpu, &c);                                                                      \
            return;                                                                             \
        }                                                                                       \
        uint32_t n = str_count(cpu, &c);                                                        \
        for (unsigned budget = STR_CHUNK; n != 0; budget--) {                                   \
            if (budget == 0) {                                                                  \
                cpu->eip = cpu->insn_eip;                                                       \
                return;                                                                         \
            }                                                                                   \
            iter(cpu, &c);                                                                      \
            n = (n - 1) & c.am;                                                                 \
            str_set_count(cpu, &c, n);                                                          \
        }                                                                                       \
    }

/* STR_REPCC: REPE/REPNE driver for CMPS/SCAS (F3 = while equal, F2 = while not equal). */
#define STR_REPCC(name, iter)                                                                   \
    static void name(CPUState *cpu, const DecodedInsn *d)                                      \
    {                                                                                           \
        StrCtx c = str_ctx(cpu, d);                                                             \
        if (d->rep == REP_NONE) {                                                               \
            iter(cpu, &c);                                                                      \
            return;                                                                             \
        }                                                                                       \
        bool want_eq = d->rep == REP_F3;                                                        \
        uint32_t n = str_count(cpu, &c);                                                        \
        for (unsigned budget = STR_CHUNK; n != 0; budget--) {                                   \
            if (budget == 0) {                                                                  \
                cpu->eip = cpu->insn_eip;                                                       \
                return;                                                                         \
            }                                                                                   \
            iter(cpu, &c);                                                                      \
            n = (n - 1) & c.am;                                                                 \
            str_set_count(cpu, &c, n);                                                          \
            if ((cpu->cc_dst == 0) != want_eq) {                                                \
                return;                                                                         \
            }                                                                                   \
        }                                                                                       \
    }

STR_REP(op_movs, it_movs)
STR_REP(op_stos, it_stos)
STR_REP(op_lods, it_lods)
STR_REP(op_ins, it_ins)
STR_REP(op_outs, it_outs)
STR_REPCC(op_cmps, it_cmps)
STR_REPCC(op_scas, it_scas)

void interp_str_register(InterpFn t[OP_COUNT])
{
    t[0xA4] = t[0xA5] = op_movs;
    t[0xA6] = t[0xA7] = op_cmps;
    t[0xAA] = t[0xAB] = op_stos;
    t[0xAC] = t[0xAD] = op_lods;
    t[0xAE] = t[0xAF] = op_scas;
    t[0x6C] = t[0x6D] = op_ins;
    t[0x6E] = t[0x6F] = op_outs;
}
