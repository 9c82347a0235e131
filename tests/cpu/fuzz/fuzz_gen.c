/* fuzz_gen.c: random user-mode IA-32 instruction sequences for the differential fuzzer.
 *
 * Overview. The generator keeps an abstract state while it emits code:
 *   - known/val: registers whose value it knows (all of them at the start; MOV r32,imm32,
 *     PUSH/POP on ESP, string ops with known counts keep them known). Memory operands are
 *     encoded as base + index*scale + disp from known registers so that the effective address
 *     lands in the data or stack window; ESP is never written except by stack instructions,
 *     so it stays known.
 *   - undef_flags / undef_regs: what the SDM leaves undefined so far. An instruction that
 *     reads an undefined flag or register is never emitted (commit() rejects it and the
 *     caller picks another); the comparison masks what is still undefined.
 *   - df: the direction flag, needed for string-op address ranges.
 * Each top-level emitter builds one instruction (sometimes preceded by setup MOVs that put
 * known values into registers, e.g. a divisor and dividend that avoid #DE) and commits it.
 * Forward jumps cover a block of 1-3 instructions; for conditional jumps the state after the
 * block is the merge of both paths (known only if equal, undefined if undefined on either).
 *
 * Determinism: a case depends only on (seed, index), in every build. C leaves the order in
 * which operands of one expression are evaluated unspecified, so no expression here makes
 * more than one call that draws from the generator (rnd*, chance, pick_*, enc_mem).
 *
 * Example: with EBX known = 0x00500123, "ADD dword [ebx+0x40], 7" becomes 83 43 40 07 after
 * the encoder picks base EBX and finds disp 0x40 fits in a disp8.
 *
 * Undefined flags follow the Intel SDM, Vol. 2 (per-instruction "Flags Affected"):
 * logic ops AF; MUL/IMUL SF ZF AF PF; DIV/IDIV all; shifts AF, OF unless count 1, CF for
 * SHL/SHR when count >= width; rotates OF unless count 1; SHLD/SHRD AF, OF unless count 1;
 * BT* OF SF AF PF; BSF/BSR all but ZF (and the destination when the source is 0);
 * DAA/DAS OF; AAA/AAS OF SF ZF PF; AAM/AAD OF AF CF.
 */
#include "fuzz_gen.h"

#include <string.h>

enum { EAX, ECX, EDX, EBX, ESP, EBP, ESI, EDI };
#define RB(r) ((uint8_t)(1u << (r)))

typedef struct Gen {
    uint64_t rng;
    FuzzCaseIn *in;
    FuzzCaseMeta *meta;
    unsigned len;
    uint8_t known;
    uint32_t val[8];
    uint8_t undef_regs;
    uint32_t undef_flags;
    bool df;
    bool in_skip;           /* generating a block a conditional jump may skip */
    bool all_essential;     /* everything committed now is essential (page-fault setups) */
} Gen;

/* Insn: one instruction being built, with its effect on the abstract state. */
typedef struct Insn {
    uint8_t pfx[4];
    unsigned npfx;
    uint8_t b[24];
    unsigned n;
    uint8_t rd;             /* registers read */
    uint8_t wr;             /* registers written (any part) */
    uint8_t full;           /* registers written whole with a defined value */
    uint8_t newundef;       /* registers left undefined */
    uint32_t frd, fdef, fundef;
    uint8_t setk;           /* registers with a known value afterwards (in setv) */
    uint32_t setv[8];
    int newdf;              /* -1: DF unchanged */
    bool stack;             /* moves ESP */
    bool mem;               /* has a memory operand (a segment prefix would matter) */
    bool overlong;          /* over 15 bytes on purpose (#GP) */
    bool essential;         /* see FuzzMark.essential */
} Insn;

/* --- randomness --- */

static uint64_t rnd64(Gen *g)
{
    uint64_t z = (g->rng += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static uint32_t rnd(Gen *g, uint32_t n)
{
    return n ? (uint32_t)(rnd64(g) % n) : 0;
}

static bool chance(Gen *g, unsigned pct)
{
    return rnd(g, 100) < pct;
}

/* A value biased towards the edges where flag logic breaks. */
static uint32_t rnd_val(Gen *g)
{
    static const uint32_t edge[] = {
        0, 1, 2, 0xFFFFFFFFu, 0x80000000u, 0x7FFFFFFFu, 0x80u, 0x7Fu, 0xFFu, 0x100u,
        0x8000u, 0x7FFFu, 0xFFFFu, 0x10000u, 0xFFFFFF80u, 0xFFFF8000u, 0x0Fu, 0x99u, 0x09u,
    };
    uint32_t k = rnd(g, 100);
    if (k < 25) {
        return edge[rnd(g, sizeof(edge) / sizeof(edge[0]))];
    }
    if (k < 40) {
        return rnd(g, 256);
    }
    if (k < 50) {
        return (uint32_t)-(int32_t)rnd(g, 256);
    }
    return (uint32_t)rnd64(g);
}

static unsigned rnd_size(Gen *g)
{
    uint32_t k = rnd(g, 10);
    return k < 3 ? 1 : k < 5 ? 2 : 4;
}

static uint32_t size_mask(unsigned size)
{
    return size == 1 ? 0xFFu : size == 2 ? 0xFFFFu : 0xFFFFFFFFu;
}

/* --- instruction building --- */

static void ins_init(Insn *I)
{
    memset(I, 0, sizeof(*I));
    I->newdf = -1;
}

static void b1(Insn *I, uint8_t v)
{
    if (I->n < sizeof(I->b)) {
        I->b[I->n++] = v;
    }
}

static void bimm(Insn *I, uint32_t v, unsigned size)
{
    for (unsigned i = 0; i < size; i++) {
        b1(I, (uint8_t)(v >> (8 * i)));
    }
}

static void pfx(Insn *I, uint8_t v)
{
    if (I->npfx < sizeof(I->pfx)) {
        I->pfx[I->npfx++] = v;
    }
}

static void opsize(Insn *I, unsigned size)
{
    if (size == 2) {
        pfx(I, 0x66);
    }
}

/* regmask: the 32-bit register behind register operand n of the given size. */
static uint8_t regmask(int n, unsigned size)
{
    return size == 1 ? RB(n & 3) : RB(n);
}

/* Record a known value after the instruction. */
static void setk(Insn *I, int r, uint32_t v)
{
    I->setk |= RB(r);
    I->setv[r] = v;
    I->wr |= RB(r);
}

/* A register written with a known 32-bit value (a full, defined write). */
static void setk_full(Insn *I, int r, uint32_t v)
{
    setk(I, r, v);
    I->full |= RB(r);
}

/* --- register and operand choice --- */

/* pick_reg: a register operand number for size; never ESP for 16/32 bits; only defined
 * registers unless allow_undef (pure destinations). Returns -1 if none qualifies. */
static int pick_reg(Gen *g, unsigned size, bool allow_undef, uint8_t avoid)
{
    int cand[8], nc = 0;
    for (int n = 0; n < 8; n++) {
        uint8_t m = regmask(n, size);
        if (size != 1 && n == ESP) {
            continue;
        }
        if ((m & avoid) || (!allow_undef && (m & g->undef_regs))) {
            continue;
        }
        cand[nc++] = n;
    }
    return nc ? cand[rnd(g, (uint32_t)nc)] : -1;
}

/* pick_src_reg: like pick_reg but a 32-bit source may be ESP now and then. */
static int pick_src_reg(Gen *g, unsigned size)
{
    if (size == 4 && chance(g, 8)) {
        return ESP;
    }
    return pick_reg(g, size, false, 0);
}

typedef struct Rm {
    bool mem;
    int reg;
    uint32_t ea;
} Rm;

/* pick_target: a linear address for an access of size bytes inside a window. */
static uint32_t pick_target(Gen *g, unsigned size)
{
    uint32_t base = FUZZ_DATA_BASE, span = FUZZ_DATA_SIZE;
    if (chance(g, 15)) {
        base = FUZZ_STACK_BASE;
        span = FUZZ_STACK_SIZE;
    }
    uint32_t off = rnd(g, span - size + 1);
    if (chance(g, 70)) {
        off &= ~(size - 1);
    }
    return base + off;
}

static bool in_window(uint32_t lo, uint32_t len)
{
    uint64_t l = lo, h = (uint64_t)lo + len;
    return (l >= FUZZ_DATA_BASE && h <= FUZZ_DATA_BASE + FUZZ_DATA_SIZE) ||
           (l >= FUZZ_STACK_BASE && h <= FUZZ_STACK_BASE + FUZZ_STACK_SIZE);
}

/* enc_mem: append ModRM (+SIB, +disp) addressing linear address ea, using known registers,
 * and maybe a segment override (CS only for reads: a write through CS is #GP). */
static void enc_mem(Gen *g, Insn *I, int regfield, uint32_t ea, bool write)
{
    int kb[8], nk = 0;
    for (int r = 0; r < 8; r++) {
        if (g->known & RB(r)) {
            kb[nk++] = r;
        }
    }
    if (chance(g, 12)) {
        static const uint8_t segs[] = {0x26, 0x36, 0x3E, 0x2E};
        pfx(I, segs[rnd(g, write ? 3 : 4)]);
    }
    I->mem = true;
    int base = -1, index = -1, scale = 0;
    if (nk > 0 && !chance(g, 8)) {
        base = kb[rnd(g, (uint32_t)nk)];
        if (chance(g, 35)) {
            int r = kb[rnd(g, (uint32_t)nk)];
            if (r != ESP) {
                index = r;
                scale = (int)rnd(g, 4);
            }
        }
        if (index >= 0 && chance(g, 15)) {
            base = -1; /* [index*scale + disp32] */
        }
    }
    uint32_t sum = 0;
    if (base >= 0) {
        sum += g->val[base];
        I->rd |= RB(base);
    }
    if (index >= 0) {
        sum += g->val[index] << scale;
        I->rd |= RB(index);
    }
    uint32_t disp = ea - sum;
    int32_t sd = (int32_t)disp;
    if (base < 0 && index < 0) {
        b1(I, (uint8_t)(regfield << 3 | 5));
        bimm(I, disp, 4);
        return;
    }
    int mod;
    if (base >= 0 && disp == 0 && base != EBP && chance(g, 60)) {
        mod = 0;
    } else if (base >= 0 && sd >= -128 && sd <= 127 && chance(g, 85)) {
        mod = 1;
    } else {
        mod = 2;
    }
    bool sib = index >= 0 || base == ESP || base < 0 || chance(g, 5);
    if (!sib) {
        b1(I, (uint8_t)(mod << 6 | regfield << 3 | base));
    } else {
        int sb = base >= 0 ? base : 5;
        if (base < 0) {
            mod = 0; /* base 101 with mod 00: no base, disp32 */
        }
        b1(I, (uint8_t)(mod << 6 | regfield << 3 | 4));
        b1(I, (uint8_t)(scale << 6 | (index >= 0 ? index : 4) << 3 | sb));
    }
    if (mod == 1) {
        b1(I, (uint8_t)disp);
    } else if (mod == 2 || base < 0) {
        bimm(I, disp, 4);
    }
}

/* pick_rm: choose a register or (with probability mem_pct) a memory r/m operand. */
static bool pick_rm(Gen *g, unsigned size, unsigned mem_pct, bool allow_undef, Rm *rm)
{
    rm->mem = chance(g, mem_pct);
    rm->reg = -1;
    if (rm->mem) {
        rm->ea = pick_target(g, size);
        return true;
    }
    rm->reg = pick_reg(g, size, allow_undef, 0);
    return rm->reg >= 0;
}

/* put_rm: encode the ModRM for rm; read/write say how the instruction uses it. */
static void put_rm(Gen *g, Insn *I, int regfield, const Rm *rm, unsigned size, bool read,
                   bool write)
{
    if (rm->mem) {
        enc_mem(g, I, regfield, rm->ea, write);
        return;
    }
    b1(I, (uint8_t)(0xC0 | regfield << 3 | rm->reg));
    if (read) {
        I->rd |= regmask(rm->reg, size);
    }
    if (write) {
        I->wr |= regmask(rm->reg, size);
    }
}

/* --- commit --- */

static void mark_state(const Gen *g, FuzzMark *m, unsigned off)
{
    m->off = (uint16_t)off;
    m->undef_regs = g->undef_regs;
    m->undef_flags = g->undef_flags;
}

#define CODE_LIMIT (FUZZ_CODE_MAX - FUZZ_END_STUB_LEN)
#define X86_MAX_LEN 15

/* commit: append I and apply its effects, or return false if it would read something
 * undefined, break the ESP/DF rules of a skippable block, or not fit. */
static bool commit(Gen *g, const Insn *I)
{
    if ((I->rd & g->undef_regs) || (I->frd & g->undef_flags)) {
        return false;
    }
    if ((I->wr & RB(ESP)) && !(I->setk & RB(ESP))) {
        return false;
    }
    if (g->in_skip && (I->stack || I->newdf >= 0)) {
        return false;
    }
    /* Prefix variety: a redundant segment prefix where no memory operand makes it matter,
     * and legacy prefixes in any order. */
    uint8_t px[8];
    unsigned np = I->npfx;
    memcpy(px, I->pfx, np);
    if (!I->mem && chance(g, 3)) {
        static const uint8_t segs[] = {0x26, 0x2E, 0x36, 0x3E};
        px[np++] = segs[rnd(g, 4)];
    }
    for (unsigned i = np; i > 1 && chance(g, 30); i--) {
        unsigned j = rnd(g, i);
        uint8_t t = px[i - 1];
        px[i - 1] = px[j];
        px[j] = t;
    }
    unsigned total = np + I->n;
    if ((total > X86_MAX_LEN && !I->overlong) || g->len + total > CODE_LIMIT ||
        g->meta->n_marks >= FUZZ_MAX_MARKS) {
        return false;
    }
    g->meta->marks[g->meta->n_marks].essential = I->essential || g->all_essential;
    mark_state(g, &g->meta->marks[g->meta->n_marks++], g->len);
    memcpy(g->in->code + g->len, px, np);
    memcpy(g->in->code + g->len + np, I->b, I->n);
    g->len += total;

    g->known &= (uint8_t)~I->wr;
    for (int r = 0; r < 8; r++) {
        if (I->setk & RB(r)) {
            g->known |= RB(r);
            g->val[r] = I->setv[r];
        }
    }
    g->undef_regs = (uint8_t)((g->undef_regs & ~I->full) | I->newundef);
    g->known &= (uint8_t)~I->newundef;
    g->undef_flags = (g->undef_flags & ~I->fdef) | I->fundef;
    if (I->newdf >= 0) {
        g->df = I->newdf != 0;
    }
    return true;
}

/* set_reg_ex: emit MOV r32, imm32 (a setup instruction that makes r known). */
static bool set_reg_ex(Gen *g, int r, uint32_t v, bool essential)
{
    Insn I;
    ins_init(&I);
    I.essential = essential;
    b1(&I, (uint8_t)(0xB8 + r));
    bimm(&I, v, 4);
    setk_full(&I, r, v);
    return commit(g, &I);
}

static bool set_reg(Gen *g, int r, uint32_t v)
{
    return set_reg_ex(g, r, v, false);
}

/* A pointer anywhere in the data window. */
static uint32_t rnd_ptr(Gen *g)
{
    return FUZZ_DATA_BASE + rnd(g, FUZZ_DATA_SIZE);
}

/* Condition code -> flags it reads. */
static uint32_t cc_flags(int cc)
{
    static const uint32_t t[8] = {
        FZ_OF, FZ_CF, FZ_ZF, FZ_CF | FZ_ZF, FZ_SF, FZ_PF, FZ_SF | FZ_OF,
        FZ_ZF | FZ_SF | FZ_OF,
    };
    return t[(cc >> 1) & 7];
}

/* --- emitters: each returns true if it committed at least one instruction --- */

/* ALU: ADD OR ADC SBB AND SUB XOR CMP in every form. */
static bool e_alu(Gen *g)
{
    Insn I;
    ins_init(&I);
    int op = (int)rnd(g, 8);
    unsigned size = rnd_size(g);
    bool cmp = op == 7, logic = op == 1 || op == 4 || op == 6;
    opsize(&I, size);
    I.frd = (op == 2 || op == 3) ? FZ_CF : 0;
    I.fdef = logic ? FZ_ARITH & ~FZ_AF : FZ_ARITH;
    I.fundef = logic ? FZ_AF : 0;
    int w = size > 1;
    Rm rm;
    int reg;
    switch (rnd(g, 4)) {
    case 0: /* r/m, reg */
        if (!pick_rm(g, size, 50, false, &rm) || (reg = pick_src_reg(g, size)) < 0) {
            return false;
        }
        if (rm.mem && !cmp && chance(g, 10)) {
            pfx(&I, 0xF0);
        }
        b1(&I, (uint8_t)(op * 8 + w));
        put_rm(g, &I, reg, &rm, size, true, !cmp);
        I.rd |= regmask(reg, size);
        break;
    case 1: /* reg, r/m */
        if (!pick_rm(g, size, 50, false, &rm) || (reg = pick_reg(g, size, false, 0)) < 0) {
            return false;
        }
        b1(&I, (uint8_t)(op * 8 + 2 + w));
        put_rm(g, &I, reg, &rm, size, true, false);
        I.rd |= regmask(reg, size);
        if (!cmp) {
            I.wr |= regmask(reg, size);
        }
        break;
    case 2: /* r/m, imm */
        if (!pick_rm(g, size, 50, false, &rm)) {
            return false;
        }
        if (rm.mem && !cmp && chance(g, 10)) {
            pfx(&I, 0xF0);
        }
        if (size == 1) {
            b1(&I, chance(g, 10) ? 0x82 : 0x80);
            put_rm(g, &I, op, &rm, size, true, !cmp);
            bimm(&I, rnd_val(g), 1);
        } else if (chance(g, 50)) {
            b1(&I, 0x83);
            put_rm(g, &I, op, &rm, size, true, !cmp);
            bimm(&I, rnd_val(g), 1);
        } else {
            b1(&I, 0x81);
            put_rm(g, &I, op, &rm, size, true, !cmp);
            bimm(&I, rnd_val(g), size);
        }
        break;
    default: /* AL/eAX, imm */
        b1(&I, (uint8_t)(op * 8 + 4 + w));
        bimm(&I, rnd_val(g), size);
        I.rd |= RB(EAX);
        if (!cmp) {
            I.wr |= RB(EAX);
        }
        break;
    }
    return commit(g, &I);
}

static bool e_incdec(Gen *g)
{
    Insn I;
    ins_init(&I);
    unsigned size = rnd_size(g);
    int dec = (int)rnd(g, 2);
    opsize(&I, size);
    I.fdef = FZ_ARITH & ~FZ_CF;
    if (size > 1 && chance(g, 40)) {
        int r = pick_reg(g, size, false, 0);
        if (r < 0) {
            return false;
        }
        b1(&I, (uint8_t)(0x40 + dec * 8 + r));
        I.rd |= RB(r);
        I.wr |= RB(r);
        return commit(g, &I);
    }
    Rm rm;
    if (!pick_rm(g, size, 50, false, &rm)) {
        return false;
    }
    if (rm.mem && chance(g, 10)) {
        pfx(&I, 0xF0);
    }
    b1(&I, size == 1 ? 0xFE : 0xFF);
    put_rm(g, &I, dec, &rm, size, true, true);
    return commit(g, &I);
}

static bool e_negnot(Gen *g)
{
    Insn I;
    ins_init(&I);
    unsigned size = rnd_size(g);
    int neg = (int)rnd(g, 2);
    Rm rm;
    if (!pick_rm(g, size, 50, false, &rm)) {
        return false;
    }
    opsize(&I, size);
    if (rm.mem && chance(g, 10)) {
        pfx(&I, 0xF0);
    }
    b1(&I, size == 1 ? 0xF6 : 0xF7);
    put_rm(g, &I, neg ? 3 : 2, &rm, size, true, true);
    if (neg) {
        I.fdef = FZ_ARITH;
    }
    return commit(g, &I);
}

static bool e_test(Gen *g)
{
    Insn I;
    ins_init(&I);
    unsigned size = rnd_size(g);
    opsize(&I, size);
    I.fdef = FZ_ARITH & ~FZ_AF;
    I.fundef = FZ_AF;
    Rm rm;
    int reg;
    switch (rnd(g, 3)) {
    case 0:
        if (!pick_rm(g, size, 50, false, &rm) || (reg = pick_src_reg(g, size)) < 0) {
            return false;
        }
        b1(&I, size == 1 ? 0x84 : 0x85);
        put_rm(g, &I, reg, &rm, size, true, false);
        I.rd |= regmask(reg, size);
        break;
    case 1:
        b1(&I, size == 1 ? 0xA8 : 0xA9);
        bimm(&I, rnd_val(g), size);
        I.rd |= RB(EAX);
        break;
    default:
        if (!pick_rm(g, size, 50, false, &rm)) {
            return false;
        }
        b1(&I, size == 1 ? 0xF6 : 0xF7);
        put_rm(g, &I, 0, &rm, size, true, false);
        bimm(&I, rnd_val(g), size);
        break;
    }
    return commit(g, &I);
}

static bool e_mov(Gen *g)
{
    Insn I;
    ins_init(&I);
    unsigned size = rnd_size(g);
    opsize(&I, size);
    Rm rm;
    int reg;
    switch (rnd(g, 6)) {
    case 0: /* r/m <- reg */
        if ((reg = pick_src_reg(g, size)) < 0 || !pick_rm(g, size, 50, true, &rm)) {
            return false;
        }
        b1(&I, size == 1 ? 0x88 : 0x89);
        put_rm(g, &I, reg, &rm, size, false, true);
        I.rd |= regmask(reg, size);
        if (!rm.mem && size == 4) {
            I.full |= RB(rm.reg);
            if (g->known & RB(reg)) {
                setk(&I, rm.reg, g->val[reg]);
            }
        }
        break;
    case 1: /* reg <- r/m */
        if ((reg = pick_reg(g, size, true, 0)) < 0 || !pick_rm(g, size, 50, false, &rm)) {
            return false;
        }
        b1(&I, size == 1 ? 0x8A : 0x8B);
        put_rm(g, &I, reg, &rm, size, true, false);
        I.wr |= regmask(reg, size);
        if (size == 4) {
            I.full |= RB(reg);
            if (!rm.mem && (g->known & RB(rm.reg))) {
                setk(&I, reg, g->val[rm.reg]);
            }
        }
        break;
    case 2: { /* reg <- imm */
        if ((reg = pick_reg(g, size, true, 0)) < 0) {
            return false;
        }
        uint32_t v = (size == 4 && chance(g, 50)) ? rnd_ptr(g) : rnd_val(g);
        b1(&I, (uint8_t)((size == 1 ? 0xB0 : 0xB8) + reg));
        bimm(&I, v, size);
        if (size == 4) {
            setk_full(&I, reg, v);
        } else {
            I.wr |= regmask(reg, size);
        }
        break;
    }
    case 3: /* r/m <- imm */
        if (!pick_rm(g, size, 70, true, &rm)) {
            return false;
        }
        b1(&I, size == 1 ? 0xC6 : 0xC7);
        put_rm(g, &I, 0, &rm, size, false, true);
        if (!rm.mem && size == 4) {
            uint32_t v = rnd_val(g);
            bimm(&I, v, 4);
            setk_full(&I, rm.reg, v);
        } else {
            bimm(&I, rnd_val(g), size);
        }
        break;
    default: { /* A0-A3: accumulator <-> moffs */
        bool store = chance(g, 50);
        uint32_t ea = pick_target(g, size);
        I.mem = true;
        if (chance(g, 12)) {
            static const uint8_t segs[] = {0x26, 0x36, 0x3E, 0x2E};
            pfx(&I, segs[rnd(g, store ? 3 : 4)]);
        }
        b1(&I, (uint8_t)(0xA0 + (store ? 2 : 0) + (size > 1)));
        bimm(&I, ea, 4);
        if (store) {
            I.rd |= RB(EAX);
        } else {
            I.wr |= RB(EAX);
            if (size == 4) {
                I.full |= RB(EAX);
            }
        }
        break;
    }
    }
    return commit(g, &I);
}

static bool e_movx(Gen *g)
{
    Insn I;
    ins_init(&I);
    unsigned dsize = chance(g, 25) ? 2 : 4;
    bool word_src = chance(g, 40);
    bool sx = chance(g, 50);
    unsigned ssize = word_src ? 2 : 1;
    int reg = pick_reg(g, dsize, true, 0);
    Rm rm;
    if (reg < 0 || !pick_rm(g, ssize, 50, false, &rm)) {
        return false;
    }
    opsize(&I, dsize);
    b1(&I, 0x0F);
    b1(&I, (uint8_t)((sx ? 0xBE : 0xB6) + word_src));
    put_rm(g, &I, reg, &rm, ssize, true, false);
    I.wr |= RB(reg);
    if (dsize == 4) {
        I.full |= RB(reg);
    }
    return commit(g, &I);
}

static bool e_lea(Gen *g)
{
    Insn I;
    ins_init(&I);
    unsigned dsize = chance(g, 20) ? 2 : 4;
    int reg = pick_reg(g, dsize, true, 0);
    if (reg < 0) {
        return false;
    }
    opsize(&I, dsize);
    I.wr |= RB(reg);
    if (dsize == 4) {
        I.full |= RB(reg);
    }
    if (chance(g, 20)) {
        /* 16-bit addressing: BX+SI, BX+DI, BP+SI, BP+DI, SI, DI, BP/disp16, BX. */
        static const int8_t b16[8] = {EBX, EBX, EBP, EBP, ESI, EDI, EBP, EBX};
        static const int8_t i16[8] = {ESI, EDI, ESI, EDI, -1, -1, -1, -1};
        int rmf = (int)rnd(g, 8), mod = (int)rnd(g, 3);
        pfx(&I, 0x67);
        b1(&I, 0x8D);
        b1(&I, (uint8_t)(mod << 6 | reg << 3 | rmf));
        if (!(mod == 0 && rmf == 6)) {
            I.rd |= RB(b16[rmf]);
            if (i16[rmf] >= 0) {
                I.rd |= RB(i16[rmf]);
            }
        }
        if (mod == 1) {
            bimm(&I, rnd_val(g), 1);
        } else if (mod == 2 || (mod == 0 && rmf == 6)) {
            bimm(&I, rnd_val(g), 2);
        }
        return commit(g, &I);
    }
    /* 32-bit addressing from any defined registers (LEA reads no memory). */
    int base = chance(g, 90) ? pick_src_reg(g, 4) : -1;
    int index = chance(g, 50) ? pick_reg(g, 4, false, 0) : -1;
    int scale = (int)rnd(g, 4);
    uint32_t disp = chance(g, 30) ? 0 : rnd_val(g);
    int mod;
    if (base < 0) {
        mod = 0;
    } else if (disp == 0 && base != EBP) {
        mod = 0;
    } else if ((int32_t)disp >= -128 && (int32_t)disp <= 127) {
        mod = 1;
    } else {
        mod = 2;
    }
    b1(&I, 0x8D);
    if (index < 0 && base >= 0 && base != ESP) {
        b1(&I, (uint8_t)(mod << 6 | reg << 3 | base));
    } else if (index < 0 && base < 0) {
        b1(&I, (uint8_t)(reg << 3 | 5));
    } else {
        b1(&I, (uint8_t)(mod << 6 | reg << 3 | 4));
        b1(&I, (uint8_t)(scale << 6 | (index >= 0 ? index : 4) << 3 | (base >= 0 ? base : 5)));
    }
    if (mod == 1) {
        bimm(&I, disp, 1);
    } else if (mod == 2 || base < 0) {
        bimm(&I, disp, 4);
    }
    uint32_t sum = disp;
    bool all_known = true;
    if (base >= 0) {
        I.rd |= RB(base);
        sum += g->val[base];
        all_known &= (g->known & RB(base)) != 0;
    }
    if (index >= 0) {
        I.rd |= RB(index);
        sum += g->val[index] << scale;
        all_known &= (g->known & RB(index)) != 0;
    }
    if (dsize == 4 && all_known) {
        setk_full(&I, reg, sum);
    }
    return commit(g, &I);
}

static bool e_xchg(Gen *g)
{
    Insn I;
    ins_init(&I);
    unsigned size = rnd_size(g);
    opsize(&I, size);
    int kind = (int)rnd(g, 4);
    if (size > 1 && kind == 0) {
        int r = pick_reg(g, size, false, 0);
        if (r < 0) {
            return false;
        }
        b1(&I, (uint8_t)(0x90 + r));
        I.rd |= RB(EAX) | RB(r);
        I.wr |= RB(EAX) | RB(r);
        if (size == 4 && (g->known & RB(EAX)) && (g->known & RB(r))) {
            setk(&I, EAX, g->val[r]);
            setk(&I, r, g->val[EAX]);
        }
        return commit(g, &I);
    }
    Rm rm;
    int reg = pick_reg(g, size, false, 0);
    if (reg < 0 || !pick_rm(g, size, 60, false, &rm)) {
        return false;
    }
    if (kind == 1) { /* XADD */
        if (rm.mem && chance(g, 15)) {
            pfx(&I, 0xF0);
        }
        b1(&I, 0x0F);
        b1(&I, size == 1 ? 0xC0 : 0xC1);
        I.fdef = FZ_ARITH;
    } else {
        if (rm.mem && chance(g, 10)) {
            pfx(&I, 0xF0); /* redundant: XCHG with memory locks anyway */
        }
        b1(&I, size == 1 ? 0x86 : 0x87);
    }
    put_rm(g, &I, reg, &rm, size, true, true);
    I.rd |= regmask(reg, size);
    I.wr |= regmask(reg, size);
    return commit(g, &I);
}

static bool e_cmpxchg(Gen *g)
{
    unsigned size = rnd_size(g);
    Rm rm;
    int reg = pick_reg(g, size, false, 0);
    if (reg < 0 || !pick_rm(g, size, 60, false, &rm)) {
        return false;
    }
    if (chance(g, 40)) {
        /* Setup: accumulator = destination, so the exchange happens. */
        Insn S;
        ins_init(&S);
        opsize(&S, size);
        b1(&S, size == 1 ? 0x8A : 0x8B);
        put_rm(g, &S, EAX, &rm, size, true, false);
        S.wr |= RB(EAX);
        if (!commit(g, &S)) {
            return false;
        }
    }
    Insn I;
    ins_init(&I);
    opsize(&I, size);
    if (rm.mem && chance(g, 15)) {
        pfx(&I, 0xF0);
    }
    b1(&I, 0x0F);
    b1(&I, size == 1 ? 0xB0 : 0xB1);
    put_rm(g, &I, reg, &rm, size, true, true);
    I.rd |= regmask(reg, size) | RB(EAX);
    I.wr |= RB(EAX);
    I.fdef = FZ_ARITH;
    return commit(g, &I);
}

static bool e_cmpxchg8b(Gen *g)
{
    uint32_t ea = pick_target(g, 8);
    if (chance(g, 40)) {
        /* Setup: EDX:EAX = the memory operand, so the store happens. */
        for (int half = 0; half < 2; half++) {
            Insn S;
            ins_init(&S);
            int r = half ? EDX : EAX;
            b1(&S, 0x8B);
            enc_mem(g, &S, r, ea + 4 * (uint32_t)half, false);
            S.wr |= RB(r);
            S.full |= RB(r);
            if (!commit(g, &S)) {
                return false;
            }
        }
    }
    Insn I;
    ins_init(&I);
    if (chance(g, 20)) {
        pfx(&I, 0xF0);
    }
    b1(&I, 0x0F);
    b1(&I, 0xC7);
    enc_mem(g, &I, 1, ea, true);
    I.rd |= RB(EAX) | RB(EDX) | RB(EBX) | RB(ECX);
    I.wr |= RB(EAX) | RB(EDX);
    I.fdef = FZ_ZF;
    return commit(g, &I);
}

static bool e_bswap(Gen *g)
{
    Insn I;
    ins_init(&I);
    int r = pick_reg(g, 4, false, 0);
    if (r < 0) {
        return false;
    }
    b1(&I, 0x0F);
    b1(&I, (uint8_t)(0xC8 + r));
    I.rd |= RB(r);
    I.wr |= RB(r);
    if (g->known & RB(r)) {
        setk(&I, r, __builtin_bswap32(g->val[r]));
    }
    return commit(g, &I);
}

/* A count for a shift: random, biased to the interesting small range. */
static uint32_t rnd_count(Gen *g)
{
    uint32_t k = rnd(g, 100);
    if (k < 60) {
        return rnd(g, 34);
    }
    if (k < 75) {
        return 1;
    }
    return rnd(g, 256);
}

/* Flags of a shift/rotate group-2 op (0 ROL, 1 ROR, 2 RCL, 3 RCR, 4 SHL, 5 SHR, 7 SAR) by a
 * count c (already masked to 5 bits), or by an unknown count when c < 0. */
static void shift_flags(Insn *I, int op, unsigned size, int c)
{
    unsigned bits = size * 8;
    bool rot = op < 4;
    if (op == 2 || op == 3) {
        I->frd |= FZ_CF;
    }
    if (c < 0) {
        I->fundef = FZ_OF;
        if (!rot) {
            I->fundef |= FZ_AF;
            if ((op == 4 || op == 5) && bits < 32) {
                I->fundef |= FZ_CF;
            }
        }
        return;
    }
    if (c == 0) {
        return;
    }
    if (rot) {
        I->fdef = FZ_CF;
    } else {
        I->fdef = FZ_SF | FZ_ZF | FZ_PF | FZ_CF;
        I->fundef = FZ_AF;
        if ((op == 4 || op == 5) && (unsigned)c >= bits) {
            I->fdef &= ~FZ_CF;
            I->fundef |= FZ_CF;
        }
    }
    if (c == 1) {
        I->fdef |= FZ_OF;
    } else {
        I->fundef |= FZ_OF;
    }
}

static bool e_shift(Gen *g)
{
    static const int ops[7] = {0, 1, 2, 3, 4, 5, 7};
    int op = ops[rnd(g, 7)];
    unsigned size = rnd_size(g);
    Rm rm;
    if (!pick_rm(g, size, 40, false, &rm)) {
        return false;
    }
    int form = (int)rnd(g, 3); /* 0: by 1, 1: by CL, 2: by imm8 */
    int c = -1;
    uint32_t imm = 0;
    if (form == 1) {
        if (!(g->known & RB(ECX)) && chance(g, 60)) {
            uint32_t hi_bits = rnd_val(g) & ~0xFFu; /* one RNG call per statement: */
            uint32_t v = hi_bits | rnd_count(g);     /* evaluation order is unspecified */
            if (!set_reg(g, ECX, v)) {
                return false;
            }
        }
        if (g->known & RB(ECX)) {
            c = (int)(g->val[ECX] & 31);
        }
    } else if (form == 2) {
        imm = rnd_count(g);
        c = (int)(imm & 31);
    } else {
        c = 1;
    }
    Insn I;
    ins_init(&I);
    opsize(&I, size);
    int w = size > 1;
    b1(&I, (uint8_t)((form == 0 ? 0xD0 : form == 1 ? 0xD2 : 0xC0) + w));
    put_rm(g, &I, op, &rm, size, true, true);
    if (form == 1) {
        I.rd |= RB(ECX);
    }
    if (form == 2) {
        bimm(&I, imm, 1);
    }
    shift_flags(&I, op, size, c);
    return commit(g, &I);
}

static bool e_shxd(Gen *g)
{
    unsigned size = chance(g, 30) ? 2 : 4;
    bool right = chance(g, 50), by_cl = chance(g, 50);
    Rm rm;
    int reg = pick_reg(g, size, false, 0);
    if (reg < 0 || !pick_rm(g, size, 40, false, &rm)) {
        return false;
    }
    int c;
    uint32_t imm = 0;
    if (by_cl) {
        bool ok16 = (g->known & RB(ECX)) && (g->val[ECX] & 31) <= 16;
        if ((size == 2 && !ok16) || (!(g->known & RB(ECX)) && chance(g, 60))) {
            uint32_t cnt = size == 2 ? rnd(g, 17) : rnd_count(g);
            if (!set_reg(g, ECX, (rnd_val(g) & ~0xFFu) | (cnt & 0xE0) | (cnt & 31))) {
                return false;
            }
        }
        c = (g->known & RB(ECX)) ? (int)(g->val[ECX] & 31) : -1;
        if (size == 2 && (c < 0 || c > 16)) {
            return false;
        }
    } else {
        if (size == 2) {
            imm = rnd(g, 8) << 5;
            imm |= rnd(g, 17); /* a 16-bit count above 16 leaves the result undefined */
        } else {
            imm = rnd_count(g);
        }
        c = (int)(imm & 31);
    }
    Insn I;
    ins_init(&I);
    opsize(&I, size);
    b1(&I, 0x0F);
    b1(&I, (uint8_t)((right ? 0xAC : 0xA4) + by_cl));
    put_rm(g, &I, reg, &rm, size, true, true);
    I.rd |= RB(reg);
    if (by_cl) {
        I.rd |= RB(ECX);
    } else {
        bimm(&I, imm, 1);
    }
    if (c < 0) {
        I.fundef = FZ_OF | FZ_AF;
    } else if (c > 0) {
        I.fdef = FZ_CF | FZ_SF | FZ_ZF | FZ_PF | (c == 1 ? FZ_OF : 0);
        I.fundef = FZ_AF | (c == 1 ? 0 : FZ_OF);
    }
    return commit(g, &I);
}

static bool e_mul(Gen *g)
{
    Insn I;
    ins_init(&I);
    unsigned size = rnd_size(g);
    I.fdef = FZ_CF | FZ_OF;
    I.fundef = FZ_SF | FZ_ZF | FZ_AF | FZ_PF;
    Rm rm;
    int kind = size == 1 ? 0 : (int)rnd(g, 4);
    opsize(&I, size);
    if (kind == 0) { /* MUL / IMUL r/m: accumulator forms */
        if (!pick_rm(g, size, 40, false, &rm)) {
            return false;
        }
        b1(&I, size == 1 ? 0xF6 : 0xF7);
        put_rm(g, &I, chance(g, 50) ? 4 : 5, &rm, size, true, false);
        I.rd |= RB(EAX);
        I.wr |= RB(EAX) | (size > 1 ? RB(EDX) : 0);
        return commit(g, &I);
    }
    int reg = pick_reg(g, size, kind != 1, 0);
    if (reg < 0 || !pick_rm(g, size, 40, false, &rm)) {
        return false;
    }
    if (kind == 1) { /* IMUL reg, r/m */
        b1(&I, 0x0F);
        b1(&I, 0xAF);
        put_rm(g, &I, reg, &rm, size, true, false);
        I.rd |= RB(reg);
    } else { /* IMUL reg, r/m, imm8 / imm */
        b1(&I, kind == 2 ? 0x6B : 0x69);
        put_rm(g, &I, reg, &rm, size, true, false);
        bimm(&I, rnd_val(g), kind == 2 ? 1 : size);
        if (size == 4) {
            I.full |= RB(reg);
        }
    }
    I.wr |= RB(reg);
    return commit(g, &I);
}

/* div_faults: whether DIV/IDIV of the (2*size)-byte dividend by divisor raises #DE. */
static bool div_faults(uint64_t dividend, uint32_t divisor, unsigned size, bool sgn)
{
    unsigned bits = size * 8;
    if (divisor == 0) {
        return true;
    }
    if (!sgn) {
        return (dividend / divisor) >> bits != 0;
    }
    __int128 n = (__int128)(int64_t)(dividend << (64 - 2 * bits)) >> (64 - 2 * bits);
    __int128 d = (int64_t)((uint64_t)divisor << (64 - bits)) >> (64 - bits);
    __int128 q = n / d;
    __int128 lim = (__int128)1 << (bits - 1);
    return q >= lim || q < -lim;
}

static bool e_div(Gen *g)
{
    unsigned size = rnd_size(g);
    bool sgn = chance(g, 50), want_fault = chance(g, 3);
    unsigned bits = size * 8;
    uint64_t mask = size_mask(size);
    Rm rm = {0};
    /* The divisor must not overlap the dividend registers. */
    rm.mem = chance(g, 40);
    if (rm.mem) {
        rm.ea = pick_target(g, size);
    } else {
        uint8_t avoid = size == 1 ? RB(EAX) : RB(EAX) | RB(EDX);
        rm.reg = pick_reg(g, size, true, avoid);
        if (rm.reg < 0) {
            return false;
        }
    }
    uint64_t dividend = 0;
    uint32_t divisor = 0;
    for (int tries = 0; tries < 50; tries++) {
        divisor = rnd_val(g) & (uint32_t)mask;
        if (chance(g, 50)) {
            uint32_t lo = rnd_val(g) & (uint32_t)mask;
            uint64_t hi = (sgn && (lo >> (bits - 1))) ? mask : 0;
            if (!sgn) {
                hi = divisor ? rnd(g, divisor) : 0;
            }
            dividend = (hi << bits) | lo;
        } else {
            dividend = rnd64(g) & ((mask << bits) | mask);
        }
        if (div_faults(dividend, divisor, size, sgn) == want_fault) {
            break;
        }
        if (tries == 49 && !want_fault) {
            dividend = 0;
            divisor = 1;
        }
    }
    /* Setup: dividend into AX, DX:AX or EDX:EAX; divisor into its register or memory. */
    uint32_t lo = (uint32_t)(dividend & mask), hi = (uint32_t)((dividend >> bits) & mask);
    if (size == 1) {
        if (!set_reg(g, EAX, (rnd_val(g) & ~0xFFFFu) | (uint32_t)(dividend & 0xFFFF))) {
            return false;
        }
    } else {
        uint32_t keep = size == 2 ? ~0xFFFFu : 0;
        if (!set_reg(g, EAX, (rnd_val(g) & keep) | lo) ||
            !set_reg(g, EDX, (rnd_val(g) & keep) | hi)) {
            return false;
        }
    }
    Insn S;
    ins_init(&S);
    opsize(&S, size);
    if (rm.mem) {
        b1(&S, size == 1 ? 0xC6 : 0xC7);
        enc_mem(g, &S, 0, rm.ea, true);
        bimm(&S, divisor, size);
    } else if (size == 1) {
        b1(&S, (uint8_t)(0xB0 + rm.reg));
        bimm(&S, divisor, 1);
        S.wr |= regmask(rm.reg, 1);
    } else {
        S.npfx = 0;
        b1(&S, (uint8_t)(0xB8 + rm.reg));
        uint32_t v = size == 2 ? ((rnd_val(g) & ~0xFFFFu) | divisor) : divisor;
        bimm(&S, v, 4);
        setk_full(&S, rm.reg, v);
    }
    if (!commit(g, &S)) {
        return false;
    }
    Insn I;
    ins_init(&I);
    opsize(&I, size);
    b1(&I, size == 1 ? 0xF6 : 0xF7);
    put_rm(g, &I, sgn ? 7 : 6, &rm, size, true, false);
    I.rd |= RB(EAX) | (size > 1 ? RB(EDX) : 0);
    I.wr |= RB(EAX) | (size > 1 ? RB(EDX) : 0);
    I.fundef = FZ_ARITH;
    return commit(g, &I);
}

static bool e_bcd(Gen *g)
{
    Insn I;
    ins_init(&I);
    I.rd |= RB(EAX);
    I.wr |= RB(EAX);
    switch (rnd(g, 6)) {
    case 0: /* DAA */
    case 1: /* DAS */
        b1(&I, chance(g, 50) ? 0x27 : 0x2F);
        I.frd = FZ_AF | FZ_CF;
        I.fdef = FZ_SF | FZ_ZF | FZ_PF | FZ_AF | FZ_CF;
        I.fundef = FZ_OF;
        break;
    case 2: /* AAA */
    case 3: /* AAS */
        b1(&I, chance(g, 50) ? 0x37 : 0x3F);
        I.frd = FZ_AF;
        I.fdef = FZ_AF | FZ_CF;
        I.fundef = FZ_OF | FZ_SF | FZ_ZF | FZ_PF;
        break;
    default: { /* AAM / AAD imm8 (AAM 0 is #DE) */
        uint32_t k = rnd(g, 100);
        uint8_t base = k < 60 ? 10 : k < 97 ? (uint8_t)(1 + rnd(g, 255)) : 0;
        bool aad = chance(g, 50);
        if (aad && base == 0) {
            base = 16;
        }
        b1(&I, aad ? 0xD5 : 0xD4);
        b1(&I, base);
        I.fdef = FZ_SF | FZ_ZF | FZ_PF;
        I.fundef = FZ_OF | FZ_AF | FZ_CF;
        break;
    }
    }
    return commit(g, &I);
}

static bool e_conv(Gen *g)
{
    Insn I;
    ins_init(&I);
    bool wide = chance(g, 50), cdq = chance(g, 50);
    opsize(&I, wide ? 4 : 2);
    b1(&I, cdq ? 0x99 : 0x98);
    I.rd |= RB(EAX);
    uint32_t a = g->val[EAX];
    bool k = (g->known & RB(EAX)) != 0;
    if (!cdq) {
        I.wr |= RB(EAX);
        if (wide && k) {
            setk(&I, EAX, (uint32_t)(int32_t)(int16_t)(a & 0xFFFF));
        } else if (k) {
            setk(&I, EAX, (a & ~0xFFFFu) | (uint16_t)(int16_t)(int8_t)(a & 0xFF));
        }
    } else {
        I.wr |= RB(EDX);
        if (wide) {
            I.full |= RB(EDX);
            if (k) {
                setk(&I, EDX, (a >> 31) ? 0xFFFFFFFFu : 0);
            }
        } else if (k && (g->known & RB(EDX))) {
            setk(&I, EDX, (g->val[EDX] & ~0xFFFFu) | ((a & 0x8000) ? 0xFFFF : 0));
        }
    }
    return commit(g, &I);
}

static bool e_bt(Gen *g)
{
    unsigned size = chance(g, 30) ? 2 : 4;
    int op = (int)rnd(g, 4); /* BT BTS BTR BTC */
    bool by_imm = chance(g, 40);
    Rm rm;
    if (!pick_rm(g, size, 55, false, &rm)) {
        return false;
    }
    int reg = -1;
    if (!by_imm) {
        reg = pick_reg(g, size, false, rm.mem ? 0 : regmask(rm.reg, size));
        if (reg < 0) {
            return false;
        }
        if (rm.mem) {
            /* The bit offset is a signed register value that may point outside the operand:
             * the accessed word is ea + size * floor(off / bits). Keep it in the window. */
            int64_t bits = size * 8;
            bool ok = false;
            if (g->known & RB(reg)) {
                int64_t off = size == 2 ? (int16_t)(g->val[reg] & 0xFFFF) : (int32_t)g->val[reg];
                int64_t widx = off >= 0 ? off / bits : -((-off + bits - 1) / bits);
                ok = in_window((uint32_t)(rm.ea + widx * (int64_t)size), size);
            }
            if (!ok) {
                int64_t delta = (int64_t)pick_target(g, size) - (int64_t)rm.ea;
                int64_t widx = delta >= 0 ? delta / size : -((-delta + size - 1) / size);
                int64_t off = widx * bits + rnd(g, (uint32_t)bits);
                uint32_t t = (uint32_t)(rm.ea + widx * (int64_t)size);
                if (!in_window(t, size) || (size == 2 && (off < -32768 || off > 32767))) {
                    return false;
                }
                uint32_t v = size == 2 ? ((rnd_val(g) & ~0xFFFFu) | ((uint32_t)off & 0xFFFF))
                                       : (uint32_t)off;
                if (!set_reg(g, reg, v)) {
                    return false;
                }
            }
        }
    }
    Insn I;
    ins_init(&I);
    opsize(&I, size);
    if (op != 0 && rm.mem && chance(g, 15)) {
        pfx(&I, 0xF0);
    }
    b1(&I, 0x0F);
    if (by_imm) {
        b1(&I, 0xBA);
        put_rm(g, &I, 4 + op, &rm, size, true, op != 0);
        bimm(&I, rnd(g, 256), 1);
    } else {
        b1(&I, (uint8_t)(0xA3 + op * 8));
        put_rm(g, &I, reg, &rm, size, true, op != 0);
        I.rd |= RB(reg);
    }
    I.fdef = FZ_CF;
    I.fundef = FZ_OF | FZ_SF | FZ_AF | FZ_PF;
    return commit(g, &I);
}

static bool e_bsf(Gen *g)
{
    unsigned size = chance(g, 30) ? 2 : 4;
    bool rev = chance(g, 50);
    Rm rm;
    int reg = pick_reg(g, size, true, 0);
    if (reg < 0 || !pick_rm(g, size, 40, false, &rm)) {
        return false;
    }
    if (!rm.mem && rm.reg != reg && chance(g, 40)) {
        uint32_t v = rnd_val(g);
        v |= 1u << rnd(g, size * 8);
        if (!set_reg(g, rm.reg, v)) {
            return false;
        }
    }
    bool nonzero = !rm.mem && (g->known & RB(rm.reg)) &&
                   (g->val[rm.reg] & size_mask(size)) != 0;
    Insn I;
    ins_init(&I);
    opsize(&I, size);
    b1(&I, 0x0F);
    b1(&I, rev ? 0xBD : 0xBC);
    put_rm(g, &I, reg, &rm, size, true, false);
    I.fdef = FZ_ZF;
    I.fundef = FZ_CF | FZ_OF | FZ_SF | FZ_AF | FZ_PF;
    I.wr |= RB(reg);
    if (nonzero) {
        if (size == 4) {
            I.full |= RB(reg);
        }
    } else {
        /* Source may be 0: the destination is undefined (AMD keeps it, Intel says
         * undefined). A 16-bit destination taints the whole register. */
        I.newundef |= RB(reg);
    }
    return commit(g, &I);
}

static bool e_setcc(Gen *g)
{
    Insn I;
    ins_init(&I);
    int cc = (int)rnd(g, 16);
    Rm rm;
    if (!pick_rm(g, 1, 40, true, &rm)) {
        return false;
    }
    b1(&I, 0x0F);
    b1(&I, (uint8_t)(0x90 + cc));
    put_rm(g, &I, (int)rnd(g, 8), &rm, 1, false, true); /* the reg field is ignored */
    I.frd = cc_flags(cc);
    return commit(g, &I);
}

static bool e_cmov(Gen *g)
{
    Insn I;
    ins_init(&I);
    unsigned size = chance(g, 30) ? 2 : 4;
    int cc = (int)rnd(g, 16);
    Rm rm;
    int reg = pick_reg(g, size, false, 0);
    if (reg < 0 || !pick_rm(g, size, 40, false, &rm)) {
        return false;
    }
    opsize(&I, size);
    b1(&I, 0x0F);
    b1(&I, (uint8_t)(0x40 + cc));
    put_rm(g, &I, reg, &rm, size, true, false);
    I.rd |= RB(reg);
    I.wr |= RB(reg);
    I.frd = cc_flags(cc);
    return commit(g, &I);
}

static bool e_flagop(Gen *g)
{
    Insn I;
    ins_init(&I);
    switch (rnd(g, 8)) {
    case 0: /* LAHF */
        b1(&I, 0x9F);
        I.frd = FZ_SF | FZ_ZF | FZ_AF | FZ_PF | FZ_CF;
        I.wr |= RB(EAX);
        break;
    case 1: /* SAHF */
        b1(&I, 0x9E);
        I.rd |= RB(EAX);
        I.fdef = FZ_SF | FZ_ZF | FZ_AF | FZ_PF | FZ_CF;
        break;
    case 2:
        b1(&I, 0xF8); /* CLC */
        I.fdef = FZ_CF;
        break;
    case 3:
        b1(&I, 0xF9); /* STC */
        I.fdef = FZ_CF;
        break;
    case 4:
        b1(&I, 0xF5); /* CMC */
        I.frd = FZ_CF;
        I.fdef = FZ_CF;
        break;
    case 5:
        b1(&I, 0xFC); /* CLD */
        I.newdf = 0;
        break;
    case 6:
        b1(&I, 0xFD); /* STD */
        I.newdf = 1;
        break;
    default:
        b1(&I, 0x90); /* NOP */
        if (chance(g, 50)) {
            I.n = 0;
            b1(&I, 0x0F); /* NOP r/m32 */
            b1(&I, 0x1F);
            Rm rm;
            if (!pick_rm(g, 4, 50, true, &rm)) {
                return false;
            }
            put_rm(g, &I, 0, &rm, 4, false, false);
        }
        break;
    }
    return commit(g, &I);
}

/* str_range_ok: n iterations of size-byte elements from p in direction df stay in a window. */
static bool str_range_ok(uint32_t p, uint32_t n, unsigned size, bool df)
{
    if (n == 0) {
        return true;
    }
    uint32_t lo = df ? p - (n - 1) * size : p;
    return in_window(lo, n * size);
}

/* str_ptr: a start pointer for n elements in direction df inside a window. */
static uint32_t str_ptr(Gen *g, uint32_t n, unsigned size, bool df)
{
    uint32_t span = (n ? n : 1) * size;
    uint32_t lo = pick_target(g, span > 64 ? 64 : span);
    if (!in_window(lo, span)) {
        lo = FUZZ_DATA_BASE + rnd(g, FUZZ_DATA_SIZE - span + 1);
    }
    return df ? lo + span - size : lo;
}

static bool e_string(Gen *g)
{
    enum { MOVS, CMPS, STOS, LODS, SCAS };
    static const uint8_t opc[5] = {0xA4, 0xA6, 0xAA, 0xAC, 0xAE};
    int kind = (int)rnd(g, 5);
    unsigned size = rnd_size(g);
    bool cmp = kind == CMPS || kind == SCAS;
    bool uses_si = kind == MOVS || kind == CMPS || kind == LODS;
    bool uses_di = kind != LODS;
    int rep = chance(g, 55) ? (cmp && chance(g, 50) ? 2 : 1) : 0; /* 1: F3, 2: F2 */
    uint32_t n = 1;
    if (rep) {
        if (!(g->known & RB(ECX)) || g->val[ECX] > 12 || chance(g, 30)) {
            n = rnd(g, 9);
            if (!set_reg(g, ECX, n)) {
                return false;
            }
        }
        n = g->val[ECX];
    }
    bool df = g->df;
    if (uses_si && (!(g->known & RB(ESI)) || !str_range_ok(g->val[ESI], n, size, df))) {
        if (!set_reg(g, ESI, str_ptr(g, n, size, df))) {
            return false;
        }
    }
    if (uses_di && (!(g->known & RB(EDI)) || !str_range_ok(g->val[EDI], n, size, df))) {
        if (!set_reg(g, EDI, str_ptr(g, n, size, df))) {
            return false;
        }
    }
    if (!(g->known & RB(ECX)) && rep) {
        return false;
    }
    Insn I;
    ins_init(&I);
    if (rep) {
        pfx(&I, rep == 1 ? 0xF3 : 0xF2);
    }
    opsize(&I, size);
    if (uses_si && chance(g, 15)) {
        static const uint8_t segs[] = {0x26, 0x2E, 0x36, 0x3E};
        pfx(&I, segs[rnd(g, 4)]);
    }
    b1(&I, (uint8_t)(opc[kind] + (size > 1)));
    I.mem = true;
    int32_t step = (int32_t)size * (df ? -1 : 1);
    if (rep) {
        I.rd |= RB(ECX);
    }
    if (kind == STOS || kind == SCAS) {
        I.rd |= RB(EAX);
    }
    if (kind == LODS) {
        I.wr |= RB(EAX);
        if (size == 4 && n > 0) {
            I.full |= RB(EAX);
        }
    }
    bool deterministic = !(rep && cmp);
    if (uses_si) {
        I.rd |= RB(ESI);
        I.wr |= RB(ESI);
        if (deterministic) {
            setk(&I, ESI, g->val[ESI] + (uint32_t)(step * (int32_t)n));
        }
    }
    if (uses_di) {
        I.rd |= RB(EDI);
        I.wr |= RB(EDI);
        if (deterministic) {
            setk(&I, EDI, g->val[EDI] + (uint32_t)(step * (int32_t)n));
        }
    }
    if (rep) {
        I.wr |= RB(ECX);
        if (deterministic) {
            setk(&I, ECX, 0);
        }
    }
    if (cmp && n > 0) {
        I.fdef = FZ_ARITH;
    }
    return commit(g, &I);
}

static bool e_xlat(Gen *g)
{
    if (!(g->known & RB(EBX)) || !in_window(g->val[EBX], 256)) {
        if (!set_reg(g, EBX, FUZZ_DATA_BASE + rnd(g, FUZZ_DATA_SIZE - 256 + 1))) {
            return false;
        }
    }
    Insn I;
    ins_init(&I);
    if (chance(g, 15)) {
        static const uint8_t segs[] = {0x26, 0x2E, 0x36, 0x3E};
        pfx(&I, segs[rnd(g, 4)]);
    }
    b1(&I, 0xD7);
    I.mem = true;
    I.rd |= RB(EBX) | RB(EAX);
    I.wr |= RB(EAX);
    return commit(g, &I);
}

/* Stack: PUSH/POP in all forms, PUSHA/POPA, PUSHF/POPF, ENTER/LEAVE. */
static bool e_stack(Gen *g)
{
    if (g->in_skip) {
        return false;
    }
    uint32_t sp = g->val[ESP];
    uint32_t lo = FUZZ_STACK_BASE, hi = FUZZ_STACK_BASE + FUZZ_STACK_SIZE;
    Insn I;
    ins_init(&I);
    I.stack = true;
    I.rd |= RB(ESP);
    unsigned size = chance(g, 15) ? 2 : 4;
    int kind = (int)rnd(g, 12);
    bool push = kind < 5 || kind == 8 || kind == 10;
    unsigned bytes = size;
    if (kind == 8 || kind == 9) {
        bytes = size * 8; /* PUSHA/POPA */
    }
    if (push && sp - bytes < lo) {
        kind = 5; /* make room instead */
        push = false;
        bytes = size;
    }
    if (!push && kind != 11 && sp + bytes > hi) {
        return false;
    }
    uint32_t nsp = push ? sp - bytes : sp + bytes;
    switch (kind) {
    case 0:
    case 1: { /* PUSH reg (ESP too) */
        int r = chance(g, 10) ? ESP : pick_reg(g, size, false, 0);
        if (r < 0) {
            return false;
        }
        opsize(&I, size);
        b1(&I, (uint8_t)(0x50 + r));
        I.rd |= RB(r);
        break;
    }
    case 2: { /* PUSH imm */
        opsize(&I, size);
        if (chance(g, 50)) {
            b1(&I, 0x6A);
            bimm(&I, rnd_val(g), 1);
        } else {
            b1(&I, 0x68);
            bimm(&I, rnd_val(g), size);
        }
        break;
    }
    case 3:
    case 4: { /* PUSH r/m */
        Rm rm;
        if (!pick_rm(g, size, 80, false, &rm)) {
            return false;
        }
        opsize(&I, size);
        b1(&I, 0xFF);
        put_rm(g, &I, 6, &rm, size, true, false);
        break;
    }
    case 5:
    case 6: { /* POP reg */
        int r = pick_reg(g, size, true, 0);
        if (r < 0) {
            return false;
        }
        opsize(&I, size);
        b1(&I, (uint8_t)(0x58 + r));
        I.wr |= RB(r);
        if (size == 4) {
            I.full |= RB(r);
        }
        break;
    }
    case 7: { /* POP r/m: a memory address with an ESP base uses the incremented ESP */
        Rm rm;
        if (!pick_rm(g, size, 70, true, &rm)) {
            return false;
        }
        opsize(&I, size);
        b1(&I, 0x8F);
        g->val[ESP] = nsp;
        put_rm(g, &I, 0, &rm, size, false, true);
        g->val[ESP] = sp;
        if (!rm.mem && size == 4) {
            I.full |= RB(rm.reg);
        }
        break;
    }
    case 8: /* PUSHA */
        opsize(&I, size);
        b1(&I, 0x60);
        I.rd |= 0xFF;
        break;
    case 9: /* POPA: every register but ESP */
        opsize(&I, size);
        b1(&I, 0x61);
        I.wr |= (uint8_t)~RB(ESP);
        if (size == 4) {
            I.full |= (uint8_t)~RB(ESP);
        }
        break;
    case 10: /* PUSHF: all flags must be defined */
        opsize(&I, size);
        b1(&I, 0x9C);
        I.frd = FZ_ARITH;
        break;
    default: { /* ENTER n, 0 / LEAVE, or PUSH imm; POPF */
        if (chance(g, 50)) {
            /* PUSH imm32 with only arithmetic bits and DF, then POPFD. */
            if (sp - 4 < lo) {
                return false;
            }
            uint32_t v = (uint32_t)rnd64(g) & FZ_COMPARED;
            b1(&I, 0x68);
            bimm(&I, v, 4);
            setk(&I, ESP, sp - 4);
            if (!commit(g, &I)) {
                return false;
            }
            ins_init(&I);
            I.stack = true;
            I.rd |= RB(ESP);
            b1(&I, 0x9D);
            I.fdef = FZ_ARITH;
            I.newdf = (v & FZ_DF) != 0;
            nsp = sp;
            break;
        }
        if (chance(g, 50) && (g->known & RB(EBP)) && g->val[EBP] >= lo &&
            g->val[EBP] <= hi - 4) {
            b1(&I, 0xC9); /* LEAVE */
            nsp = g->val[EBP] + 4;
            I.rd |= RB(EBP);
            I.wr |= RB(EBP);
            I.full |= RB(EBP);
            break;
        }
        uint32_t frame = rnd(g, 24);
        /* Nesting level L > 0 copies L-1 frame pointers from [EBP-4], [EBP-8], ... and
         * pushes the new frame pointer: only with EBP known and those reads in a window. */
        uint32_t level = 0;
        if (chance(g, 40) && (g->known & RB(EBP))) {
            level = 1 + rnd(g, 8);
            if (level > 1 && !in_window(g->val[EBP] - 4 * (level - 1), 4 * (level - 1))) {
                level = 1;
            }
        }
        uint32_t used = 4 + (level ? 4 * level : 0) + frame;
        if (sp - used < lo || sp < used) {
            return false;
        }
        b1(&I, 0xC8); /* ENTER frame, level */
        bimm(&I, frame, 2);
        b1(&I, (uint8_t)(level | (chance(g, 10) ? 0x20 : 0))); /* the level is taken mod 32 */
        I.rd |= RB(EBP);
        setk_full(&I, EBP, sp - 4);
        nsp = sp - used;
        break;
    }
    }
    setk(&I, ESP, nsp);
    return commit(g, &I);
}


/* commit_junk: append n random bytes that a jump or call skips (never executed). */
static bool commit_junk(Gen *g, unsigned n)
{
    if (g->len + n > CODE_LIMIT) {
        return false;
    }
    for (unsigned i = 0; i < n; i++) {
        g->in->code[g->len++] = (uint8_t)rnd(g, 256);
    }
    return true;
}

/* Near control transfers to a forward target over junk: CALL rel32, CALL/JMP r/m32 through a
 * register or memory, PUSH target + RET [imm16]. The return addresses pushed are the same
 * natively and in anyvm because the code sits at the same address. */
static bool e_xfer(Gen *g)
{
    if (g->in_skip || g->len + 80 > CODE_LIMIT) {
        return false;
    }
    uint32_t sp = g->val[ESP];
    uint32_t lo = FUZZ_STACK_BASE, hi = FUZZ_STACK_BASE + FUZZ_STACK_SIZE;
    unsigned junk = rnd(g, 10);
    int kind = (int)rnd(g, 6);
    bool call = kind <= 2;
    if (call && sp - 4 < lo) {
        return false;
    }
    Insn S, C;
    ins_init(&S);
    ins_init(&C);
    S.essential = C.essential = true;
    bool have_setup = false;
    unsigned patch = 0; /* offset of the target immediate in S.b */
    switch (kind) {
    case 0: /* CALL rel32 */
        b1(&C, 0xE8);
        bimm(&C, junk, 4);
        break;
    case 1:   /* CALL r32 */
    case 3: { /* JMP r32 */
        int r = pick_reg(g, 4, true, 0);
        if (r < 0) {
            return false;
        }
        b1(&S, (uint8_t)(0xB8 + r));
        patch = S.n;
        bimm(&S, 0, 4);
        have_setup = true;
        b1(&C, 0xFF);
        b1(&C, (uint8_t)(0xC0 | (kind == 1 ? 2 : 4) << 3 | r));
        C.rd |= RB(r);
        break;
    }
    case 2:   /* CALL [mem] */
    case 4: { /* JMP [mem] */
        uint32_t ea = pick_target(g, 4);
        b1(&S, 0xC7);
        enc_mem(g, &S, 0, ea, true);
        patch = S.n;
        bimm(&S, 0, 4);
        have_setup = true;
        b1(&C, 0xFF);
        enc_mem(g, &C, kind == 2 ? 2 : 4, ea, false);
        break;
    }
    default: { /* PUSH target; RET or RET imm16 */
        if (sp - 4 < lo) {
            return false;
        }
        uint32_t rel = chance(g, 50) ? 0 : rnd(g, 3) * 4;
        if (sp + rel > hi) {
            rel = 0;
        }
        b1(&S, 0x68);
        patch = S.n;
        bimm(&S, 0, 4);
        S.stack = true;
        S.rd |= RB(ESP);
        setk(&S, ESP, sp - 4);
        have_setup = true;
        if (rel) {
            b1(&C, 0xC2);
            bimm(&C, rel, 2);
        } else {
            b1(&C, 0xC3);
        }
        C.stack = true;
        C.rd |= RB(ESP);
        setk(&C, ESP, sp + rel);
        break;
    }
    }
    if (call) {
        C.stack = true;
        C.rd |= RB(ESP);
        setk(&C, ESP, sp - 4);
    }
    if (have_setup) {
        /* The prefixes commit() may add change lengths, so the target is patched after the
         * call is committed; the setup's immediate is found again by its offset. */
        unsigned s_at = g->len;
        unsigned s_imm = s_at + S.npfx + patch;
        if (kind == 1 || kind == 3) {
            S.setk = 0;
            S.wr |= RB(S.b[0] - 0xB8);
            S.full |= RB(S.b[0] - 0xB8);
        }
        if (!commit(g, &S)) {
            return false;
        }
        /* commit() may have inserted one prefix before the opcode. */
        if (g->len - s_at != S.npfx + S.n) {
            s_imm += g->len - s_at - (S.npfx + S.n);
        }
        if (!commit(g, &C) || !commit_junk(g, junk)) {
            return false; /* cannot happen with the space check above; target stays 0 */
        }
        uint32_t target = FUZZ_CODE_BASE + g->len;
        memcpy(g->in->code + s_imm, &target, 4);
        if (kind == 1 || kind == 3) {
            g->known |= RB(S.b[0] - 0xB8);
            g->val[S.b[0] - 0xB8] = target;
        }
        return true;
    }
    if (!commit(g, &C)) {
        return false;
    }
    return commit_junk(g, junk);
}

/* Self-modifying code: a store into the immediate of the very next instruction
 * (MOV r32, imm32), which must then execute with the new bytes. */
static bool e_smc(Gen *g)
{
    int r = pick_reg(g, 4, true, 0);
    if (r < 0 || g->len + 40 > CODE_LIMIT) {
        return false;
    }
    unsigned size = rnd_size(g);
    uint32_t oldv = rnd_val(g), newv = rnd_val(g);
    Insn S;
    ins_init(&S);
    opsize(&S, size);
    b1(&S, size == 1 ? 0xC6 : 0xC7);
    /* The target address depends on the store's own length: encode with a placeholder
     * address first (the length does not depend on it for disp32 forms). */
    unsigned sub = rnd(g, 5 - size);
    uint32_t ea_guess = FUZZ_CODE_BASE + g->len;
    S.essential = true;
    Insn T = S;
    enc_mem(g, &T, 0, ea_guess, true);
    bimm(&T, newv, size);
    unsigned total = T.npfx + T.n;
    uint32_t ea = FUZZ_CODE_BASE + g->len + total + 1 + sub;
    /* Re-encode with the real address; force the same length by retrying a few times. */
    for (int tries = 0; tries < 8; tries++) {
        Insn U = S;
        enc_mem(g, &U, 0, ea, true);
        bimm(&U, newv, size);
        if (U.npfx + U.n == total) {
            uint32_t v = oldv;
            for (unsigned i = 0; i < size; i++) {
                ((uint8_t *)&v)[sub + i] = (uint8_t)(newv >> (8 * i));
            }
            unsigned at = g->len;
            if (!commit(g, &U)) {
                return false;
            }
            if (g->len - at != total) {
                /* commit() added a prefix: the store now misses; make it harmless by
                 * marking the target register unknown below. */
                v = 0;
            }
            Insn M;
            ins_init(&M);
            M.essential = true;
            b1(&M, (uint8_t)(0xB8 + r));
            bimm(&M, oldv, 4);
            M.mem = true; /* no extra prefix: its address is fixed */
            M.wr |= RB(r);
            M.full |= RB(r);
            if (g->len - at == total) {
                setk(&M, r, v);
            }
            return commit(g, &M);
        }
    }
    return false;
}

/* Segment register reads: MOV r/m, Sreg (ES, CS, SS, DS) and 16-bit PUSH Sreg. */
static bool e_sreg(Gen *g)
{
    Insn I;
    ins_init(&I);
    int sr = (int)rnd(g, 4);
    if (chance(g, 25)) {
        if (g->in_skip || g->val[ESP] - 2 < FUZZ_STACK_BASE) {
            return false;
        }
        static const uint8_t push_op[4] = {0x06, 0x0E, 0x16, 0x1E};
        pfx(&I, 0x66);
        b1(&I, push_op[sr]);
        I.stack = true;
        I.rd |= RB(ESP);
        setk(&I, ESP, g->val[ESP] - 2);
        return commit(g, &I);
    }
    Rm rm;
    /* A register destination takes 32 bits (zero-extended on P6 and AMD) unless 66. */
    unsigned size = chance(g, 30) ? 2 : 4;
    if (!pick_rm(g, 2, 40, true, &rm)) {
        return false;
    }
    if (!rm.mem) {
        opsize(&I, size);
    }
    b1(&I, 0x8C);
    put_rm(g, &I, sr, &rm, 2, false, true);
    if (!rm.mem && size == 4) {
        I.full |= RB(rm.reg);
    }
    return commit(g, &I);
}

/* BOUND r, m: #BR when the signed index is outside [lower, upper]. */
static bool e_bound(Gen *g)
{
    unsigned size = chance(g, 30) ? 2 : 4;
    int r = pick_reg(g, size, false, 0);
    if (r < 0) {
        return false;
    }
    uint32_t ea = pick_target(g, 2 * size);
    if (!(g->known & RB(r)) && !chance(g, 15)) {
        return false; /* random bounds mostly fail: keep #BR the exception, not the rule */
    }
    if (chance(g, 85) && (g->known & RB(r))) {
        /* Setup: bounds around the index so that it passes most of the time. */
        int64_t v = size == 2 ? (int16_t)g->val[r] : (int32_t)g->val[r];
        int64_t l = v - rnd(g, 100), u = v + rnd(g, 100) - 10;
        for (int half = 0; half < 2; half++) {
            Insn S;
            ins_init(&S);
            opsize(&S, size);
            b1(&S, 0xC7);
            enc_mem(g, &S, 0, ea + size * (unsigned)half, true);
            bimm(&S, (uint32_t)(half ? u : l), size);
            if (!commit(g, &S)) {
                return false;
            }
        }
    }
    Insn I;
    ins_init(&I);
    opsize(&I, size);
    b1(&I, 0x62);
    enc_mem(g, &I, r, ea, false);
    I.rd |= RB(r);
    return commit(g, &I);
}


/* Page faults on purpose: an access reaching into the unmapped guard page around the data
 * region (straddling the boundary or not), a REP string op running into one part-way, a push
 * or pop at the edge of the stack region, a jump or call into the guard page after the code.
 * The instruction always faults, so the state after it does not matter. */
static bool e_pf_body(Gen *g);

static bool e_pf(Gen *g)
{
    g->all_essential = true;
    bool ok = e_pf_body(g);
    g->all_essential = false;
    return ok;
}

static bool e_pf_body(Gen *g)
{
    if (g->in_skip || g->len + 60 > CODE_LIMIT) {
        return false;
    }
    const uint32_t dlo = FUZZ_DATA_REGION, dhi = FUZZ_DATA_REGION + FUZZ_REGION_SIZE;
    const uint32_t slo = FUZZ_STACK_REGION, shi = FUZZ_STACK_REGION + FUZZ_REGION_SIZE;
    Insn I;
    ins_init(&I);
    switch (rnd(g, 9)) {
    case 8: { /* 16-bit addressing (67h): the effective address is below 64 KiB, unmapped */
        static const int8_t b16[8] = {EBX, EBX, EBP, EBP, ESI, EDI, EBP, EBX};
        static const int8_t i16[8] = {ESI, EDI, ESI, EDI, -1, -1, -1, -1};
        unsigned size = rnd_size(g);
        int rmf = (int)rnd(g, 8), mod = (int)rnd(g, 3);
        int reg = pick_reg(g, size, false, 0);
        if (reg < 0) {
            return false;
        }
        static const uint8_t ops8[4] = {0x8A, 0x88, 0x00, 0x38};
        int k = (int)rnd(g, 4);
        pfx(&I, 0x67);
        opsize(&I, size);
        b1(&I, (uint8_t)(ops8[k] + (size > 1)));
        b1(&I, (uint8_t)(mod << 6 | reg << 3 | rmf));
        if (!(mod == 0 && rmf == 6)) {
            I.rd |= RB(b16[rmf]);
            if (i16[rmf] >= 0) {
                I.rd |= RB(i16[rmf]);
            }
        }
        if (mod == 1) {
            bimm(&I, rnd_val(g), 1);
        } else if (mod == 2 || (mod == 0 && rmf == 6)) {
            bimm(&I, rnd_val(g), 2);
        }
        I.mem = true;
        I.rd |= regmask(reg, size);
        return commit(g, &I);
    }
    case 0:
    case 1:
    case 2: { /* one access */
        unsigned size = chance(g, 30) ? 2 : 4;
        uint32_t ea;
        switch (rnd(g, 4)) {
        case 0:
            ea = dhi - 1 - rnd(g, size - 1);
            break;
        case 1:
            ea = dlo - 1 - rnd(g, size - 1);
            break;
        case 2:
            ea = dhi + rnd(g, 64);
            break;
        default:
            ea = dlo - size - rnd(g, 64);
            break;
        }
        static const uint8_t ops[7] = {0x8B, 0x89, 0x01, 0xC7, 0x87, 0x39, 0xC1};
        int k = (int)rnd(g, 7);
        bool write = (k >= 1 && k <= 4) || k == 6;
        if (k == 6) {
            /* SHL r/m, imm8 with a masked count of 0 (0 or 32) or 1: still an RMW access. */
            opsize(&I, size);
            b1(&I, 0xC1);
            enc_mem(g, &I, 4, ea, true);
            bimm(&I, chance(g, 50) ? 32u * rnd(g, 2) : 1, 1);
            return commit(g, &I);
        }
        int reg = pick_reg(g, size, k == 0, 0);
        if (reg < 0) {
            return false;
        }
        opsize(&I, size);
        b1(&I, ops[k]);
        enc_mem(g, &I, k == 3 ? 0 : reg, ea, write);
        if (k == 3) {
            bimm(&I, rnd_val(g), size);
        } else if (k != 0) {
            I.rd |= RB(reg);
        }
        return commit(g, &I);
    }
    case 3:
    case 4:
    case 5: { /* REP STOS / MOVS / LODS into a guard page after n_ok elements */
        unsigned size = rnd_size(g);
        int kind = (int)rnd(g, 3); /* 0 STOS, 1 MOVS, 2 LODS */
        uint32_t n_ok = rnd(g, (FUZZ_EDGE_SIZE - size) / size + 1);
        uint32_t j = rnd(g, size); /* j > 0: the faulting element straddles the boundary */
        uint32_t count = n_ok + 1 + rnd(g, 4);
        uint32_t p = g->df ? dlo - size + j + n_ok * size : dhi - n_ok * size - j;
        int preg = kind == 2 ? ESI : EDI;
        if (!set_reg(g, ECX, count) || !set_reg(g, preg, p)) {
            return false;
        }
        if (kind == 1 && !set_reg(g, ESI, str_ptr(g, count, size, g->df))) {
            return false;
        }
        static const uint8_t opc[3] = {0xAA, 0xA4, 0xAC};
        pfx(&I, 0xF3);
        opsize(&I, size);
        b1(&I, (uint8_t)(opc[kind] + (size > 1)));
        I.mem = true;
        I.rd |= RB(ECX) | RB(preg) | (kind == 0 ? RB(EAX) : 0) | (kind == 1 ? RB(ESI) : 0);
        I.wr |= RB(ECX) | RB(preg) | RB(ESI) | (kind == 2 ? RB(EAX) : 0);
        return commit(g, &I);
    }
    case 6: { /* PUSH below the stack region, or POP across its top */
        bool push = chance(g, 50);
        unsigned size = chance(g, 25) ? 2 : 4;
        uint32_t sp = push ? slo + rnd(g, size) : shi - size + 1 + rnd(g, size - 1);
        Insn S;
        ins_init(&S);
        b1(&S, 0xBC); /* MOV ESP, imm32 */
        bimm(&S, sp, 4);
        S.stack = true;
        setk(&S, ESP, sp);
        if (!commit(g, &S)) {
            return false;
        }
        int r = pick_reg(g, size, !push, 0);
        if (r < 0) {
            return false;
        }
        opsize(&I, size);
        b1(&I, (uint8_t)((push ? 0x50 : 0x58) + r));
        I.stack = true;
        I.rd |= RB(ESP) | (push ? RB(r) : 0);
        I.wr |= push ? 0 : RB(r);
        setk(&I, ESP, push ? sp - size : sp + size);
        return commit(g, &I);
    }
    default: { /* JMP / CALL into the guard page after the code region */
        bool call = chance(g, 40) && g->val[ESP] - 4 >= FUZZ_STACK_BASE;
        int r = pick_reg(g, 4, true, 0);
        uint32_t target = FUZZ_CODE_REGION + FUZZ_REGION_SIZE + rnd(g, 64);
        if (r < 0 || !set_reg_ex(g, r, target, true)) {
            return false;
        }
        b1(&I, 0xFF);
        b1(&I, (uint8_t)(0xC0 | (call ? 2 : 4) << 3 | r));
        I.rd |= RB(r);
        if (call) {
            I.stack = true;
            I.rd |= RB(ESP);
            setk(&I, ESP, g->val[ESP] - 4);
        }
        if (!commit(g, &I)) {
            return false;
        }
        /* The fetch at the target faults: EIP = target, with the state after the jump. */
        if (!g->meta->has_outside) {
            g->meta->has_outside = true;
            mark_state(g, &g->meta->outside, target - FUZZ_CODE_BASE);
        }
        return true;
    }
    }
}


/* Segment register loads (MOV Sreg, r/m16; PUSH imm + POP Sreg) into ES, DS or SS with the
 * selectors whose outcome is the same under Linux and in anyvm's GDT: the user data and code
 * selectors with any RPL, null selectors, the kernel-only entries 08h-18h (#GP(sel)) and LDT
 * selectors (no LDT: #GP(sel)). A bad DS/ES is usually put back at once; if not, the next
 * access through it faults on both sides. MOV CS and MOV to Sreg 6/7 are #UD. */
static bool e_segload(Gen *g)
{
    static const uint16_t sels[] = {0x2B, 0x2B, 0x2B, 0x2B, 0x2B, 0x2B, 0x28, 0x29, 0x2A,
                                    0x23, 0x20, 0x21, 0x00, 0x01, 0x03, 0x08, 0x10, 0x18,
                                    0x2C, 0x2F};
    static const int sreg_of[3] = {0, 3, 2}; /* ES, DS, SS */
    int which = chance(g, 15) ? 2 : (int)rnd(g, 2);
    int sr = sreg_of[which];
    uint16_t sel = sels[rnd(g, sizeof(sels) / sizeof(sels[0]))];
    if (chance(g, 3)) {
        sr = chance(g, 50) ? 1 : 6 + (int)rnd(g, 2); /* MOV CS / Sreg 6, 7: #UD */
    }
    bool via_pop = !g->in_skip && chance(g, 25) && sr < 4 && sr != 1 &&
                   g->val[ESP] - 4 >= FUZZ_STACK_BASE;
    Insn I;
    ins_init(&I);
    if (via_pop) {
        Insn S;
        ins_init(&S);
        uint32_t hi_bits = rnd_val(g) & ~0xFFFFu;
        b1(&S, 0x68);
        bimm(&S, hi_bits | sel, 4);
        S.stack = true;
        S.rd |= RB(ESP);
        setk(&S, ESP, g->val[ESP] - 4);
        if (!commit(g, &S)) {
            return false;
        }
        static const uint8_t pop_op[4] = {0x07, 0, 0x17, 0x1F};
        b1(&I, pop_op[sr]);
        I.stack = true;
        I.rd |= RB(ESP);
        setk(&I, ESP, g->val[ESP] + 4);
    } else if (chance(g, 60)) {
        int r = pick_reg(g, 4, true, 0);
        if (r < 0) {
            return false;
        }
        uint32_t hi_bits = rnd_val(g) & ~0xFFFFu;
        if (!set_reg(g, r, hi_bits | sel)) {
            return false;
        }
        b1(&I, 0x8E);
        b1(&I, (uint8_t)(0xC0 | sr << 3 | r));
        I.rd |= RB(r);
    } else {
        uint32_t ea = pick_target(g, 2);
        Insn S;
        ins_init(&S);
        opsize(&S, 2);
        b1(&S, 0xC7);
        enc_mem(g, &S, 0, ea, true);
        bimm(&S, sel, 2);
        if (!commit(g, &S)) {
            return false;
        }
        b1(&I, 0x8E);
        enc_mem(g, &I, sr, ea, false);
    }
    if (!commit(g, &I)) {
        return false;
    }
    if (sel != 0x2B && sr != 2 && chance(g, 75)) {
        /* Put the user data selector back. */
        int r = pick_reg(g, 4, true, 0);
        if (r < 0 || !set_reg(g, r, 0x2B)) {
            return false;
        }
        Insn R;
        ins_init(&R);
        b1(&R, 0x8E);
        b1(&R, (uint8_t)(0xC0 | sr << 3 | r));
        R.rd |= RB(r);
        return commit(g, &R);
    }
    return true;
}

/* Instructions that fault on purpose: the fault must match natively. */
static bool e_fault(Gen *g)
{
    Insn I;
    ins_init(&I);
    switch (rnd(g, 10)) {
    case 9: { /* 15 bytes are fine, 16 are #GP(0) */
        static const uint8_t junk_pfx[8] = {0x26, 0x2E, 0x36, 0x3E, 0x64, 0x65, 0x66, 0x67};
        unsigned k = 13 + rnd(g, 3);
        for (unsigned i = 0; i < k; i++) {
            b1(&I, junk_pfx[rnd(g, 8)]);
        }
        b1(&I, 0x90);
        I.mem = true;
        I.overlong = true;
        break;
    }
    case 0: /* UD2 */
        b1(&I, 0x0F);
        b1(&I, 0x0B);
        break;
    case 1: { /* LOCK on a register destination: #UD */
        int r = pick_reg(g, 4, false, 0);
        if (r < 0) {
            return false;
        }
        pfx(&I, 0xF0);
        b1(&I, 0x01);
        b1(&I, (uint8_t)(0xC0 | r << 3 | r));
        break;
    }
    case 2: /* HLT at CPL 3: #GP(0) */
        b1(&I, 0xF4);
        break;
    case 3: /* CLI with IOPL 0 at CPL 3: #GP(0) */
        b1(&I, chance(g, 50) ? 0xFA : 0xFB);
        break;
    case 4: /* IN/OUT with IOPL 0 and no TSS bitmap: #GP(0) */
        b1(&I, (uint8_t)(0xE4 + rnd(g, 4)));
        b1(&I, (uint8_t)rnd(g, 256));
        break;
    case 5: { /* write through CS: #GP(0) */
        int r = pick_reg(g, 4, false, 0);
        if (r < 0) {
            return false;
        }
        pfx(&I, 0x2E);
        b1(&I, 0x89);
        I.rd |= RB(r);
        Insn T;
        ins_init(&T);
        enc_mem(g, &T, r, pick_target(g, 4), true);
        if (T.npfx) {
            return false;
        }
        memcpy(I.b + I.n, T.b, T.n);
        I.n += T.n;
        I.rd |= T.rd;
        break;
    }
    case 6: /* LEA with a register operand: #UD */
        b1(&I, 0x8D);
        b1(&I, (uint8_t)(0xC0 | rnd(g, 64)));
        break;
    case 7: /* INT3: #BP, a trap (EIP after) */
        b1(&I, 0xCC);
        break;
    default: /* INTO: #OF when OF = 1, else nothing */
        b1(&I, 0xCE);
        I.frd = FZ_OF;
        break;
    }
    return commit(g, &I);
}

typedef bool (*Emitter)(Gen *g);

typedef struct EmitterWeight {
    Emitter fn;
    unsigned weight;
} EmitterWeight;

static const EmitterWeight emitters[] = {
    {e_alu, 22}, {e_incdec, 4}, {e_negnot, 3}, {e_test, 4}, {e_mov, 10}, {e_movx, 3},
    {e_lea, 4}, {e_xchg, 4}, {e_cmpxchg, 3}, {e_cmpxchg8b, 1}, {e_bswap, 1}, {e_shift, 10},
    {e_shxd, 3}, {e_mul, 4}, {e_div, 3}, {e_bcd, 3}, {e_conv, 2}, {e_bt, 4}, {e_bsf, 2},
    {e_setcc, 3}, {e_cmov, 3}, {e_flagop, 4}, {e_string, 5}, {e_xlat, 1}, {e_stack, 6},
    {e_xfer, 3}, {e_smc, 1}, {e_sreg, 1}, {e_bound, 1}, {e_segload, 1},
};

static bool emit_random(Gen *g)
{
    unsigned total = 0;
    for (unsigned i = 0; i < sizeof(emitters) / sizeof(emitters[0]); i++) {
        total += emitters[i].weight;
    }
    for (int tries = 0; tries < 16; tries++) {
        uint32_t k = rnd(g, total);
        for (unsigned i = 0; i < sizeof(emitters) / sizeof(emitters[0]); i++) {
            if (k < emitters[i].weight) {
                if (emitters[i].fn(g)) {
                    return true;
                }
                break;
            }
            k -= emitters[i].weight;
        }
    }
    return false;
}

/* Forward jumps over a block: Jcc short/near, JMP short/near (over junk), LOOPcc, JECXZ. */
static bool e_jump(Gen *g)
{
    if (g->in_skip || g->len + 200 > CODE_LIMIT) {
        return false;
    }
    Insn I;
    ins_init(&I);
    int kind = (int)rnd(g, 10);
    bool uncond = false, near = false;
    if (kind < 4) { /* Jcc short */
        int cc = (int)rnd(g, 16);
        b1(&I, (uint8_t)(0x70 + cc));
        I.frd = cc_flags(cc);
    } else if (kind < 6) { /* Jcc near */
        int cc = (int)rnd(g, 16);
        b1(&I, 0x0F);
        b1(&I, (uint8_t)(0x80 + cc));
        I.frd = cc_flags(cc);
        near = true;
    } else if (kind == 6) { /* JMP */
        near = chance(g, 40);
        b1(&I, near ? 0xE9 : 0xEB);
        I.essential = true;
        uncond = true;
    } else { /* LOOPNE, LOOPE, LOOP, JECXZ; 67: CX */
        int op = (int)rnd(g, 4);
        bool a16 = chance(g, 30);
        if (a16) {
            pfx(&I, 0x67);
        }
        b1(&I, (uint8_t)(0xE0 + op));
        I.rd |= RB(ECX);
        if (op == 0 || op == 1) {
            I.frd = FZ_ZF;
        }
        if (op != 3) {
            I.wr |= RB(ECX);
            if (g->known & RB(ECX)) {
                uint32_t c = g->val[ECX];
                setk(&I, ECX, a16 ? (c & ~0xFFFFu) | ((c - 1) & 0xFFFF) : c - 1);
            }
        }
    }
    unsigned rel_size = near ? 4 : 1;
    bimm(&I, 0, rel_size);
    if (!commit(g, &I)) {
        return false;
    }
    unsigned rel_at = g->len - rel_size; /* commit() may have added a prefix */
    unsigned start = g->len;
    if (uncond) {
        unsigned junk = 1 + rnd(g, 12);
        for (unsigned i = 0; i < junk; i++) {
            g->in->code[g->len++] = (uint8_t)rnd(g, 256);
        }
    } else {
        Gen before = *g;
        g->in_skip = true;
        unsigned k = 1 + rnd(g, 3);
        for (unsigned i = 0; i < k && g->len - start < 60; i++) {
            emit_random(g);
        }
        g->in_skip = false;
        /* Merge the taken path (state `before`) with the fall-through path (state g). */
        uint8_t same = 0;
        for (int r = 0; r < 8; r++) {
            if (before.val[r] == g->val[r]) {
                same |= RB(r);
            }
        }
        g->known &= before.known & same;
        g->undef_regs |= before.undef_regs;
        g->known &= (uint8_t)~g->undef_regs;
        g->undef_flags |= before.undef_flags;
    }
    uint32_t rel = g->len - start;
    for (unsigned i = 0; i < rel_size; i++) {
        g->in->code[rel_at + i] = (uint8_t)(rel >> (8 * i));
    }
    return true;
}

void fuzz_gen_case(uint64_t seed, uint64_t index, FuzzCaseIn *in, FuzzCaseMeta *meta)
{
    Gen gen, *g = &gen;
    memset(g, 0, sizeof(*g));
    memset(in, 0, sizeof(*in));
    memset(meta, 0, sizeof(*meta));
    g->rng = seed ^ (index * 0xD1B54A32D192ED03ull);
    rnd64(g);
    g->in = in;
    g->meta = meta;

    for (int r = 0; r < 8; r++) {
        uint32_t k = rnd(g, 100);
        uint32_t v = k < 40 ? rnd_ptr(g) : k < 55 ? rnd(g, 64) : rnd_val(g);
        if (r == ESP) {
            v = FUZZ_STACK_BASE + 64 + rnd(g, FUZZ_STACK_SIZE - 128);
            if (chance(g, 90)) {
                v &= ~3u;
            }
        }
        in->regs[r] = v;
        g->val[r] = v;
    }
    g->known = 0xFF;
    in->eflags = (uint32_t)rnd64(g) & FZ_ARITH;
    if (chance(g, 25)) {
        in->eflags |= FZ_DF;
    }
    g->df = (in->eflags & FZ_DF) != 0;
    for (unsigned i = 0; i < FUZZ_DATA_SIZE; i += 8) {
        uint64_t v = rnd64(g);
        if (chance(g, 10)) {
            v = 0;
        }
        memcpy(in->data + i, &v, 8);
    }
    for (unsigned i = 0; i < FUZZ_STACK_SIZE; i += 8) {
        uint64_t v = rnd64(g);
        memcpy(in->stack + i, &v, 8);
    }
    for (int e = 0; e < FUZZ_NEDGES; e++) {
        for (unsigned i = 0; i < FUZZ_EDGE_SIZE; i += 8) {
            uint64_t v = rnd64(g);
            memcpy(in->edge[e] + i, &v, 8);
        }
    }

    unsigned n = 1 + rnd(g, 16);
    for (unsigned i = 0; i < n && g->len + 100 < CODE_LIMIT; i++) {
        uint32_t k = rnd(g, 100);
        if (k < 8) {
            e_jump(g);
        } else if (k < 9) {
            e_fault(g);
        } else if (k < 10 && chance(g, 50)) {
            if (e_pf(g)) {
                break; /* it always faults: nothing after it runs */
            }
        } else {
            emit_random(g);
        }
    }
    in->code_len = g->len;
    mark_state(g, &meta->final, g->len);
}

const FuzzMark *fuzz_meta_at(const FuzzCaseMeta *meta, uint32_t off)
{
    if (off == meta->final.off) {
        return &meta->final;
    }
    if (meta->has_outside && off == meta->outside.off) {
        return &meta->outside;
    }
    for (unsigned i = 0; i < meta->n_marks; i++) {
        if (meta->marks[i].off == off) {
            return &meta->marks[i];
        }
    }
    return NULL;
}
