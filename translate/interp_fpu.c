/* interp_fpu.c: the x87 instruction set (D8-DF escapes, FWAIT, FXSAVE/FXRSTOR) on top of the
 * exact software arithmetic in core/softfloat.c.
 *
 * Register stack: ST(i) is fpu.st[(top + i) & 7] with a two-bit tag per physical register.
 * Exceptions (SDM Vol. 1 8.4-8.7): each instruction computes its result with an SFEnv, then
 * fpu_commit() merges the flags into FSW. Unmasked invalid/denormal/zero-divide exceptions
 * leave the destination and the stack unchanged; unmasked overflow/underflow/precision store
 * the (biased) result. An unmasked exception sets FSW.ES and B; the *next* waiting x87
 * instruction then raises #MF (CR0.NE = 1) or asserts FERR# for IRQ 13 (CR0.NE = 0, the PC/AT
 * convention). #NM comes first: CR0.EM or CR0.TS for x87 instructions, CR0.MP with TS for WAIT.
 *
 * Example: D8 C1 (FADD ST(0), ST(1)) with ST(1) empty: stack underflow sets IE, SF and clears
 * C1; with IM masked ST(0) becomes the real indefinite, with IM unmasked ST(0) is unchanged
 * and ES is set so the next FWAIT raises #MF.
 */
#include <string.h>

#include "core/bytes.h"
#include "core/softfloat.h"
#include "translate/interp.h"

/* --- register stack --- */

static inline unsigned st_phys(const FPUState *f, int i) { return (f->top + i) & 7; }

static inline unsigned tag_get(const FPUState *f, unsigned phys)
{
    return (f->ftw >> (2 * phys)) & 3;
}

static inline void tag_set(FPUState *f, unsigned phys, unsigned tag)
{
    f->ftw = (uint16_t)((f->ftw & ~(3u << (2 * phys))) | (tag << (2 * phys)));
}

static inline bool st_empty(const FPUState *f, int i)
{
    return tag_get(f, st_phys(f, i)) == FPU_TAG_EMPTY;
}

static inline Floatx80 st_get(const FPUState *f, int i) { return f->st[st_phys(f, i)]; }

static inline void st_set(FPUState *f, int i, Floatx80 v)
{
    unsigned p = st_phys(f, i);
    f->st[p] = v;
    tag_set(f, p, fpu_tag_of(v));
}

static inline void fpu_pop(FPUState *f)
{
    tag_set(f, f->top, FPU_TAG_EMPTY);
    f->top = (f->top + 1) & 7;
}

static inline void set_cc(FPUState *f, unsigned c3, unsigned c2, unsigned c1, unsigned c0)
{
    f->fsw = (uint16_t)((f->fsw & ~(FSW_C0 | FSW_C1 | FSW_C2 | FSW_C3)) | (c0 ? FSW_C0 : 0) |
                        (c1 ? FSW_C1 : 0) | (c2 ? FSW_C2 : 0) | (c3 ? FSW_C3 : 0));
}

static inline void set_c1(FPUState *f, bool c1)
{
    f->fsw = (uint16_t)((f->fsw & ~FSW_C1) | (c1 ? FSW_C1 : 0));
}

/* update_es: ES and B follow the unmasked pending exceptions (after FLDCW, FLDENV...). */
static void update_es(FPUState *f)
{
    if (f->fsw & ~f->fcw & 0x3F) {
        f->fsw |= FSW_ES | FSW_B;
    } else {
        f->fsw &= (uint16_t)~(FSW_ES | FSW_B);
    }
}

static inline SFEnv fenv(const FPUState *f) { return sf_env_from_fcw(f->fcw); }

/* commit: merge exception flags; returns true when the result may be written (no unmasked
 * IE/DE/ZE). C1 is the round-up bit for arithmetic results. */
static bool fpu_commit(FPUState *f, const SFEnv *e)
{
    bool stop = (e->flags & ~f->fcw & (SF_IE | SF_DE | SF_ZE)) != 0;
    /* An unmasked pre-computation exception stops the operation before it rounds: the
     * flags of the result (PE/UE/OE, C1) do not appear (host x87). */
    f->fsw |= e->flags & (stop ? (SF_IE | SF_DE | SF_ZE) : 0x3F);
    set_c1(f, (stop || (e->flags & SF_IE)) ? false : e->c1); /* masked IE: C1 = 0 too */
    update_es(f);
    return !stop;
}

/* Stack faults (SDM Vol. 1 8.5.1.1): IE + SF, C1 = 1 for overflow, 0 for underflow. Returns
 * true when masked (the caller then writes the indefinite). */
static bool stack_fault(FPUState *f, bool overflow)
{
    f->fsw |= FSW_IE | FSW_SF;
    set_c1(f, overflow);
    update_es(f);
    return (f->fcw & FSW_IE) != 0;
}

/* fpu_push: push v; on overflow write the indefinite if masked. */
static void fpu_push(FPUState *f, Floatx80 v)
{
    unsigned np = (f->top - 1) & 7;
    if (tag_get(f, np) != FPU_TAG_EMPTY) {
        if (!stack_fault(f, true)) {
            return;
        }
        v = FX_INDEFINITE;
    }
    f->top = np;
    st_set(f, 0, v);
}

/* push_over: push v after a stack underflow was already reported: the underflow wins over a
 * full stack (C1 stays 0) and v goes over whatever ST(7) held (host x87). */
static void push_over(FPUState *f, Floatx80 v)
{
    f->top = (f->top - 1) & 7;
    st_set(f, 0, v);
}

/* --- entry checks --- */

static void fpu_check_nm(CPUState *cpu)
{
    if (cpu->cr0 & (CR0_EM | CR0_TS)) {
        cpu_raise_exception(cpu, EXC_NM, false, 0);
    }
}

/* fpu_check_pending: a waiting instruction with an unmasked exception pending. */
static void fpu_check_pending(CPUState *cpu)
{
    if (!(cpu->fpu.fsw & FSW_ES)) {
        return;
    }
    if (cpu->cr0 & CR0_NE) {
        cpu_raise_exception(cpu, EXC_MF, false, 0);
    }
    /* PC/AT compatible: FERR# drives IRQ 13 through the chipset; execution continues. */
    if (cpu->hooks.ferr) {
        cpu->hooks.ferr(cpu->hooks.opaque, 1);
    }
}

/* record: the last-instruction pointers of a non-control instruction. */
static void fpu_record(CPUState *cpu, const DecodedInsn *d, uint32_t ea)
{
    FPUState *f = &cpu->fpu;
    f->fip = cpu->insn_eip;
    f->fcs = cpu->seg[S_CS].sel;
    f->fop = (uint16_t)(((d->op & 7) << 8) | d->modrm);
    if (d->flags & DI_MEM) {
        f->fdp = ea;
        f->fds = cpu->seg[d->seg].sel;
    }
}

/* probe_write: fault now (before any byte is written) if [off, off+size) is not writable. */
static void probe_write(CPUState *cpu, int seg, uint32_t off, unsigned size)
{
    interp_probe_write(cpu, cpu_linear(cpu, seg, off, size, ACC_WRITE), size);
}

/* --- memory formats --- */

static Floatx80 ld_m80(CPUState *cpu, int seg, uint32_t off)
{
    Floatx80 v;
    uint32_t lo = cpu_ld32(cpu, seg, off), hi = cpu_ld32(cpu, seg, off + 4);
    v.sig = (uint64_t)hi << 32 | lo;
    v.se = cpu_ld16(cpu, seg, off + 8);
    return v;
}

static void st_m80(CPUState *cpu, int seg, uint32_t off, Floatx80 v)
{
    probe_write(cpu, seg, off, 10);
    cpu_st32(cpu, seg, off, (uint32_t)v.sig);
    cpu_st32(cpu, seg, off + 4, (uint32_t)(v.sig >> 32));
    cpu_st16(cpu, seg, off + 8, v.se);
}

static uint64_t ld_m64(CPUState *cpu, int seg, uint32_t off)
{
    uint32_t lo = cpu_ld32(cpu, seg, off), hi = cpu_ld32(cpu, seg, off + 4);
    return (uint64_t)hi << 32 | lo;
}

static void st_m64(CPUState *cpu, int seg, uint32_t off, uint64_t v)
{
    probe_write(cpu, seg, off, 8);
    cpu_st32(cpu, seg, off, (uint32_t)v);
    cpu_st32(cpu, seg, off + 4, (uint32_t)(v >> 32));
}

/* Memory operand of the D8/DA/DC/DE arithmetic group, converted to extended. */
/* keep_snan: an SNaN m32/m64 operand widened as an SNaN (the conversion quiets it), so that
 * the NaN rules of the operation (SDM Vol. 1 table 4-7: a QNaN beats an SNaN) see its class;
 * the operation raises IE for it. */
static Floatx80 keep_snan(SFEnv *e, Floatx80 v, uint8_t flags_before, bool snan)
{
    if (snan) {
        v.sig &= ~(1ull << 62);
        e->flags = flags_before;
    }
    return v;
}

static Floatx80 ld_arith_operand(CPUState *cpu, const DecodedInsn *d, uint32_t ea, SFEnv *e)
{
    uint8_t before = e->flags;
    switch (d->op & 0xFF) {
    case 0xD8: {
        uint32_t v = cpu_ld32(cpu, d->seg, ea);
        bool snan = (v & 0x7F800000u) == 0x7F800000u && (v & 0x7FFFFFu) && !(v & 0x400000u);
        return keep_snan(e, fx_from_f32(e, v), before, snan);
    }
    case 0xDC: {
        uint64_t v = ld_m64(cpu, d->seg, ea);
        bool snan = ((v >> 52) & 0x7FF) == 0x7FF && (v & 0xFFFFFFFFFFFFFull) &&
                    !(v & (1ull << 51));
        return keep_snan(e, fx_from_f64(e, v), before, snan);
    }
    case 0xDA:
        return fx_from_i64((int32_t)cpu_ld32(cpu, d->seg, ea));
    default: /* 0xDE */
        return fx_from_i64((int16_t)cpu_ld16(cpu, d->seg, ea));
    }
}

/* --- arithmetic --- */

/* arith: the eight operations of /0../7 on (a, b); returns the result. For FCOM/FCOMP the
 * comparison sets the condition codes and *is_cmp is true. */
static Floatx80 arith(FPUState *f, SFEnv *e, int op, Floatx80 a, Floatx80 b, bool *is_cmp)
{
    static const uint8_t cc_of[4][3] = {
        /* C3 C2 C0 for LT, EQ, GT, UNORDERED */
        {0, 0, 1}, {1, 0, 0}, {0, 0, 0}, {1, 1, 1},
    };
    *is_cmp = false;
    switch (op) {
    case 0:
        return fx_add(e, a, b);
    case 1:
        return fx_mul(e, a, b);
    case 2:
    case 3: {
        FxCmp c = fx_compare(e, a, b, false);
        set_cc(f, cc_of[c][0], cc_of[c][1], 0, cc_of[c][2]);
        e->c1 = false;
        *is_cmp = true;
        return a;
    }
    case 4:
        return fx_sub(e, a, b);
    case 5:
        return fx_sub(e, b, a);
    case 6:
        return fx_div(e, a, b);
    default:
        return fx_div(e, b, a);
    }
}

/* op_arith_mem: D8/DA/DC/DE with a memory operand: ST(0) = ST(0) op mem. */
static void op_arith_mem(CPUState *cpu, const DecodedInsn *d)
{
    FPUState *f = &cpu->fpu;
    uint32_t ea = interp_ea(cpu, d);
    SFEnv e = fenv(f);
    Floatx80 m = ld_arith_operand(cpu, d, ea, &e);
    fpu_record(cpu, d, ea);
    int op = d->reg;
    /* A denormal m32/m64 operand is normal once widened, so its DE comes from the load. A
     * NaN or unsupported ST(0) takes precedence over it (SDM Vol. 1 8.7), and so does the
     * zero divide of FDIVR by a zero ST(0) (the host x87 agrees). */
    if (e.flags & SF_DE) {
        FxClass c0 = fx_class(st_get(f, 0));
        if (c0 == FX_QNAN || c0 == FX_SNAN || c0 == FX_UNSUPPORTED ||
            (op == 7 && c0 == FX_ZERO)) {
            e.flags &= (uint8_t)~SF_DE;
        }
    }
    if (st_empty(f, 0)) {
        if (stack_fault(f, false) && op != 2 && op != 3) {
            st_set(f, 0, FX_INDEFINITE);
        } else if (op == 2 || op == 3) {
            /* Compares report "unordered" even when IE is unmasked (host x87). */
            set_cc(f, 1, 1, 0, 1);
            if (op == 3 && (f->fcw & FSW_IE)) {
                fpu_pop(f);
            }
        }
        return;
    }
    bool is_cmp;
    Floatx80 r = arith(f, &e, op, st_get(f, 0), m, &is_cmp);
    bool ok = fpu_commit(f, &e);
    if (is_cmp) {
        if (op == 3 && ok) {
            fpu_pop(f);
        }
        return;
    }
    if (ok) {
        st_set(f, 0, r);
    }
}

/* op_arith_reg: D8 (ST(0) = ST(0) op ST(i)), DC (ST(i) = ST(i) op ST(0)) and DE (same, pop).
 * DC/DE swap the meaning of /4../7 (SUBR/SUB, DIVR/DIV) relative to D8. */
static void op_arith_reg(CPUState *cpu, const DecodedInsn *d, int dst_is_sti, bool pop)
{
    FPUState *f = &cpu->fpu;
    int i = d->rm, op = d->reg;
    fpu_record(cpu, d, 0);
    bool cmp = op == 2 || op == 3;
    if (st_empty(f, 0) || st_empty(f, i)) {
        bool masked = stack_fault(f, false);
        if (cmp) {
            set_cc(f, 1, 1, 0, 1); /* also with IE unmasked (host x87) */
            if (masked && (op == 3 || pop)) {
                fpu_pop(f);
            }
            return;
        }
        if (masked) {
            st_set(f, dst_is_sti ? i : 0, FX_INDEFINITE);
            if (pop) {
                fpu_pop(f);
            }
        }
        return;
    }
    Floatx80 a = st_get(f, dst_is_sti ? i : 0), b = st_get(f, dst_is_sti ? 0 : i);
    if (dst_is_sti && op >= 4) {
        op ^= 1; /* DC/DE E0: ST(i) = ST(0) - ST(i) is D8's "reverse" form, and so on */
    }
    SFEnv e = fenv(f);
    bool is_cmp;
    Floatx80 r;
    if (cmp) {
        r = arith(f, &e, op, st_get(f, 0), st_get(f, i), &is_cmp);
    } else {
        r = arith(f, &e, op, a, b, &is_cmp);
    }
    bool ok = fpu_commit(f, &e);
    if (!ok) {
        return;
    }
    if (!cmp) {
        st_set(f, dst_is_sti ? i : 0, r);
    }
    if (pop || (cmp && op == 3)) {
        fpu_pop(f);
    }
}

/* compare for FUCOM/FCOMI family: sets C3/C2/C0 or EFLAGS.ZF/PF/CF. */
static bool do_compare(CPUState *cpu, int i, bool quiet, bool eflags)
{
    FPUState *f = &cpu->fpu;
    FxCmp c;
    SFEnv e = fenv(f);
    bool ok, fault = false, c1 = (f->fsw & FSW_C1) != 0;
    /* The result is reported even when an unmasked exception suppresses the pop (host x87:
     * FCOM* set C3/C2/C0 and FCOMI* set ZF/PF/CF to "unordered"). */
    if (st_empty(f, 0) || st_empty(f, i)) {
        ok = stack_fault(f, false);
        fault = true;
        c = FX_UNORDERED;
    } else {
        c = fx_compare(&e, st_get(f, 0), st_get(f, i), quiet);
        e.c1 = false;
        ok = fpu_commit(f, &e);
    }
    static const uint8_t bits[4] = {1, 4, 0, 7}; /* bit0 = C0/CF, bit1 = C2/PF, bit2 = C3/ZF */
    unsigned b = bits[c];
    if (eflags) {
        uint32_t v = ((b & 1) ? EF_CF : 0) | ((b & 2) ? EF_PF : 0) | ((b & 4) ? EF_ZF : 0);
        cpu_set_eflags(cpu, v, EF_ARITH);
        /* FCOMI*: C1 = 0 after a stack underflow, else kept (host x87). */
        set_c1(f, c1 && !fault);
    } else {
        set_cc(f, b & 4, b & 2, 0, b & 1);
    }
    return ok;
}

/* --- loads and stores --- */

static void fpu_load(CPUState *cpu, Floatx80 v, const SFEnv *e)
{
    FPUState *f = &cpu->fpu;
    if (tag_get(f, (f->top - 1) & 7) != FPU_TAG_EMPTY) {
        fpu_push(f, v); /* stack overflow: the source operand is not examined (no DE/IE) */
        return;
    }
    f->fsw |= e->flags & 0x3F;
    update_es(f);
    if (e->flags & ~f->fcw & SF_IE) {
        set_c1(f, false); /* nothing loaded; an unmasked DE still loads (host x87) */
        return;
    }
    set_c1(f, false);
    fpu_push(f, v);
}

/* store_st0: the common part of FST/FIST/FBSTP: returns false when nothing may be stored. */
static bool store_check(FPUState *f, const SFEnv *e)
{
    bool stop = (e->flags & ~f->fcw & (SF_IE | SF_OE | SF_UE)) != 0;
    /* Stopped by an unmasked IE/OE/UE: nothing is stored, only that flag is raised (no PE)
     * and C1 = 0 (host x87). */
    f->fsw |= e->flags & (stop ? (SF_IE | SF_OE | SF_UE) : 0x3F);
    set_c1(f, (stop || (e->flags & SF_IE)) ? false : e->c1); /* masked IE: C1 = 0 too */
    update_es(f);
    return !stop;
}

static const uint64_t pow10_tab[19] = {
    1ull, 10ull, 100ull, 1000ull, 10000ull, 100000ull, 1000000ull, 10000000ull, 100000000ull,
    1000000000ull, 10000000000ull, 100000000000ull, 1000000000000ull, 10000000000000ull,
    100000000000000ull, 1000000000000000ull, 10000000000000000ull, 100000000000000000ull,
    1000000000000000000ull,
};

static Floatx80 fbld(CPUState *cpu, int seg, uint32_t off)
{
    uint64_t v = 0;
    for (int i = 8; i >= 0; i--) {
        uint8_t b = cpu_ld8(cpu, seg, off + (uint32_t)i);
        /* Invalid digits give an undefined result (SDM FBLD); we take them at face value. */
        v = v * 100 + (uint64_t)((b >> 4) * 10 + (b & 15));
    }
    bool neg = cpu_ld8(cpu, seg, off + 9) & 0x80;
    Floatx80 r = fx_from_i64((int64_t)v);
    if (neg) {
        r.se |= 0x8000;
    }
    return r;
}

static void fbstp(CPUState *cpu, const DecodedInsn *d, uint32_t ea)
{
    FPUState *f = &cpu->fpu;
    SFEnv e = fenv(f);
    uint8_t out[10];
    memset(out, 0, sizeof(out));
    Floatx80 v = st_get(f, 0);
    bool empty = st_empty(f, 0);
    int64_t iv = 0;
    if (!empty) {
        iv = fx_to_int(&e, v, 64);
        uint64_t mag = iv < 0 ? (uint64_t)0 - (uint64_t)iv : (uint64_t)iv;
        if (!(e.flags & SF_IE) && mag >= pow10_tab[18]) {
            e.flags = (uint8_t)((e.flags & ~SF_PE) | SF_IE);
        }
        if (!(e.flags & SF_IE)) {
            for (int i = 0; i < 9; i++) {
                unsigned lo = (unsigned)(mag % 10);
                mag /= 10;
                unsigned hi = (unsigned)(mag % 10);
                mag /= 10;
                out[i] = (uint8_t)(hi << 4 | lo);
            }
            out[9] = (fx_sign(v)) ? 0x80 : 0;
        }
    } else if (!stack_fault(f, false)) {
        return;
    }
    if (empty || (e.flags & SF_IE)) {
        /* The packed BCD indefinite. */
        memset(out, 0, sizeof(out));
        out[7] = 0xC0;
        out[8] = out[9] = 0xFF;
    }
    if (!empty && !store_check(f, &e)) {
        return;
    }
    probe_write(cpu, d->seg, ea, 10);
    for (int i = 0; i < 10; i++) {
        cpu_st8(cpu, d->seg, ea + (uint32_t)i, out[i]);
    }
    fpu_pop(f);
}

/* fist: FIST/FISTP to a 16/32/64-bit integer. */
static void fist(CPUState *cpu, const DecodedInsn *d, uint32_t ea, int bits, bool pop)
{
    FPUState *f = &cpu->fpu;
    SFEnv e = fenv(f);
    int64_t v;
    if (st_empty(f, 0)) {
        if (!stack_fault(f, false)) {
            return;
        }
        v = bits == 64 ? INT64_MIN : -((int64_t)1 << (bits - 1));
    } else {
        v = fx_to_int(&e, st_get(f, 0), bits);
        if (!store_check(f, &e)) {
            return;
        }
    }
    if (bits == 16) {
        cpu_st16(cpu, d->seg, ea, (uint16_t)v);
    } else if (bits == 32) {
        cpu_st32(cpu, d->seg, ea, (uint32_t)v);
    } else {
        st_m64(cpu, d->seg, ea, (uint64_t)v);
    }
    if (pop) {
        fpu_pop(f);
    }
}

/* fst_mem: FST/FSTP m32/m64/m80. */
static void fst_mem(CPUState *cpu, const DecodedInsn *d, uint32_t ea, int size, bool pop)
{
    FPUState *f = &cpu->fpu;
    SFEnv e = fenv(f);
    Floatx80 v = st_get(f, 0);
    if (st_empty(f, 0)) {
        if (!stack_fault(f, false)) {
            return;
        }
        v = FX_INDEFINITE;
    }
    if (size == 4) {
        uint32_t bits = fx_to_f32(&e, v);
        if (!store_check(f, &e)) {
            return;
        }
        cpu_st32(cpu, d->seg, ea, bits);
    } else if (size == 8) {
        uint64_t bits = fx_to_f64(&e, v);
        if (!store_check(f, &e)) {
            return;
        }
        st_m64(cpu, d->seg, ea, bits);
    } else {
        set_c1(f, false);
        st_m80(cpu, d->seg, ea, v);
    }
    if (pop) {
        fpu_pop(f);
    }
}

/* --- environment, save/restore --- */

static uint16_t fsw_full(const FPUState *f)
{
    return (uint16_t)((f->fsw & ~FSW_TOP) | ((f->top & 7) << 11));
}

/* ftw_full: the tag word as FSTENV stores it: each non-empty register's tag recomputed from
 * its contents (the P6 keeps only empty/non-empty). */
static uint16_t ftw_full(const FPUState *f)
{
    uint16_t t = 0;
    for (unsigned p = 0; p < 8; p++) {
        unsigned tag = tag_get(f, p) == FPU_TAG_EMPTY ? FPU_TAG_EMPTY : fpu_tag_of(f->st[p]);
        t = (uint16_t)(t | tag << (2 * p));
    }
    return t;
}

static void ftw_load(FPUState *f, uint16_t t)
{
    for (unsigned p = 0; p < 8; p++) {
        bool empty = ((t >> (2 * p)) & 3) == FPU_TAG_EMPTY;
        tag_set(f, p, empty ? FPU_TAG_EMPTY : fpu_tag_of(f->st[p]));
    }
}

static bool env_pm(const CPUState *cpu) { return cpu_pe(cpu) && !cpu_v86(cpu); }

/* fstenv: store the 14- or 28-byte environment; returns its size. */
static unsigned fstenv(CPUState *cpu, int seg, uint32_t off, unsigned opsize)
{
    FPUState *f = &cpu->fpu;
    uint16_t cw = f->fcw, sw = fsw_full(f), tw = ftw_full(f);
    if (opsize == 4) {
        probe_write(cpu, seg, off, 28);
        uint32_t w[7];
        w[0] = 0xFFFF0000u | cw;
        w[1] = 0xFFFF0000u | sw;
        w[2] = 0xFFFF0000u | tw;
        if (env_pm(cpu)) {
            w[3] = f->fip;
            w[4] = (uint32_t)f->fcs | ((uint32_t)(f->fop & 0x7FF) << 16);
            w[5] = f->fdp;
            w[6] = 0xFFFF0000u | f->fds;
        } else {
            w[3] = 0xFFFF0000u | (f->fip & 0xFFFF);
            w[4] = ((f->fip >> 16) << 12) | (f->fop & 0x7FF);
            w[5] = 0xFFFF0000u | (f->fdp & 0xFFFF);
            w[6] = (f->fdp >> 16) << 12;
        }
        for (int i = 0; i < 7; i++) {
            cpu_st32(cpu, seg, off + 4 * (uint32_t)i, w[i]);
        }
        return 28;
    }
    probe_write(cpu, seg, off, 14);
    uint16_t w[7];
    w[0] = cw;
    w[1] = sw;
    w[2] = tw;
    if (env_pm(cpu)) {
        w[3] = (uint16_t)f->fip;
        w[4] = f->fcs;
        w[5] = (uint16_t)f->fdp;
        w[6] = f->fds;
    } else {
        w[3] = (uint16_t)f->fip;
        w[4] = (uint16_t)((((f->fip >> 16) & 0xF) << 12) | (f->fop & 0x7FF));
        w[5] = (uint16_t)f->fdp;
        w[6] = (uint16_t)(((f->fdp >> 16) & 0xF) << 12);
    }
    for (int i = 0; i < 7; i++) {
        cpu_st16(cpu, seg, off + 2 * (uint32_t)i, w[i]);
    }
    return 14;
}

static unsigned fldenv(CPUState *cpu, int seg, uint32_t off, unsigned opsize)
{
    FPUState *f = &cpu->fpu;
    uint32_t w[7];
    unsigned size = opsize == 4 ? 28 : 14;
    for (int i = 0; i < 7; i++) {
        w[i] = opsize == 4 ? cpu_ld32(cpu, seg, off + 4 * (uint32_t)i)
                           : cpu_ld16(cpu, seg, off + 2 * (uint32_t)i);
    }
    f->fcw = (uint16_t)w[0];
    f->fsw = (uint16_t)(w[1] & ~FSW_TOP);
    f->top = (w[1] >> 11) & 7;
    if (env_pm(cpu)) {
        f->fip = opsize == 4 ? w[3] : (w[3] & 0xFFFF);
        f->fcs = (uint16_t)w[4];
        f->fop = opsize == 4 ? (uint16_t)((w[4] >> 16) & 0x7FF) : 0;
        f->fdp = opsize == 4 ? w[5] : (w[5] & 0xFFFF);
        f->fds = (uint16_t)w[6];
    } else if (opsize == 4) {
        f->fip = (w[3] & 0xFFFF) | ((w[4] >> 12) << 16);
        f->fop = (uint16_t)(w[4] & 0x7FF);
        f->fdp = (w[5] & 0xFFFF) | ((w[6] >> 12) << 16);
    } else {
        f->fip = (w[3] & 0xFFFF) | (((w[4] >> 12) & 0xF) << 16);
        f->fop = (uint16_t)(w[4] & 0x7FF);
        f->fdp = (w[5] & 0xFFFF) | (((w[6] >> 12) & 0xF) << 16);
    }
    ftw_load(f, (uint16_t)w[2]);
    update_es(f);
    return size;
}

/* The x87 part of the FXSAVE image: bytes 0-23 (control, status, abridged tags, last
 * instruction and operand) and 32-159 (the eight registers in 16-byte slots); 24-31 (MXCSR)
 * and 160-511 are not written. */
#define FX_HEAD 24
#define FX_REGS 32
#define FX_END 160

static void fxsave(CPUState *cpu, int seg, uint32_t off)
{
    FPUState *f = &cpu->fpu;
    if (off & 15) {
        cpu_raise_gp(cpu, 0);
    }
    probe_write(cpu, seg, off, 512);
    uint8_t img[FX_END];
    memset(img, 0, sizeof(img));
    uint8_t abridged = 0;
    for (unsigned p = 0; p < 8; p++) {
        if (tag_get(f, p) != FPU_TAG_EMPTY) {
            abridged |= (uint8_t)(1u << p);
        }
    }
    le16_put(img, f->fcw);
    le16_put(img + 2, fsw_full(f));
    img[4] = abridged;
    le16_put(img + 6, f->fop & 0x7FF);
    le32_put(img + 8, f->fip);
    le16_put(img + 12, f->fcs);
    le32_put(img + 16, f->fdp);
    le16_put(img + 20, f->fds);
    for (int i = 0; i < 8; i++) {
        Floatx80 v = st_get(f, i);
        uint8_t *p = img + FX_REGS + 16 * i;
        le32_put(p, (uint32_t)v.sig);
        le32_put(p + 4, (uint32_t)(v.sig >> 32));
        le16_put(p + 8, v.se);
    }
    cpu_st_bytes(cpu, seg, off, img, FX_HEAD);
    cpu_st_bytes(cpu, seg, off + FX_REGS, img + FX_REGS, FX_END - FX_REGS);
}

static void fxrstor(CPUState *cpu, int seg, uint32_t off)
{
    FPUState *f = &cpu->fpu;
    if (off & 15) {
        cpu_raise_gp(cpu, 0);
    }
    /* Read everything before changing state, so a fault leaves the FPU intact. */
    uint8_t img[FX_END];
    cpu_ld_bytes(cpu, seg, off, img, FX_END);
    uint16_t sw = le16_get(img + 2);
    uint8_t abridged = img[4];
    f->fcw = le16_get(img);
    f->fsw = (uint16_t)(sw & ~FSW_TOP);
    f->top = (sw >> 11) & 7;
    f->fop = le16_get(img + 6) & 0x7FF;
    f->fip = le32_get(img + 8);
    f->fcs = le16_get(img + 12);
    f->fdp = le32_get(img + 16);
    f->fds = le16_get(img + 20);
    for (int i = 0; i < 8; i++) {
        const uint8_t *p = img + FX_REGS + 16 * i;
        Floatx80 v = {(uint64_t)le32_get(p + 4) << 32 | le32_get(p), le16_get(p + 8)};
        f->st[st_phys(f, i)] = v;
    }
    for (unsigned p = 0; p < 8; p++) {
        tag_set(f, p, (abridged >> p) & 1 ? fpu_tag_of(f->st[p]) : FPU_TAG_EMPTY);
    }
    update_es(f);
}

/* --- constants (rounded per RC from 66+ bit values, as the P6 does) --- */

typedef struct FpuConst {
    uint16_t se;
    uint64_t sig;      /* truncated 64-bit significand */
    int8_t round_up_rn; /* 1 if round-to-nearest increments the truncated value */
    bool inexact;
} FpuConst;

static const FpuConst fpu_consts[7] = {
    {0x3FFF, 0x8000000000000000ull, 0, false}, /* FLD1 */
    {0x4000, 0xD49A784BCD1B8AFEull, 0, true},  /* FLDL2T: next bits 0100... */
    {0x3FFF, 0xB8AA3B295C17F0BBull, 1, true},  /* FLDL2E: next bits 1011... */
    {0x4000, 0xC90FDAA22168C234ull, 1, true},  /* FLDPI:  next bits 1100... */
    {0x3FFD, 0x9A209A84FBCFF798ull, 1, true},  /* FLDLG2: next bits 1000 1111... */
    {0x3FFE, 0xB17217F7D1CF79ABull, 1, true},  /* FLDLN2: next bits 1100... */
    {0x0000, 0, 0, false},                     /* FLDZ */
};

static Floatx80 fpu_const(const FPUState *f, int k)
{
    const FpuConst *c = &fpu_consts[k];
    Floatx80 v = {c->sig, c->se};
    if (c->inexact) {
        int rc = (f->fcw >> 10) & 3;
        bool up = rc == SF_RN ? c->round_up_rn : rc == SF_RU;
        if (up) {
            v.sig += 1;
        }
    }
    return v;
}

/* --- FXAM and friends --- */

static void fxam(FPUState *f)
{
    Floatx80 v = st_get(f, 0);
    unsigned c3, c2, c0;
    if (st_empty(f, 0)) {
        c3 = 1, c2 = 0, c0 = 1;
    } else {
        switch (fx_class(v)) {
        case FX_UNSUPPORTED: c3 = 0, c2 = 0, c0 = 0; break;
        case FX_QNAN:
        case FX_SNAN: c3 = 0, c2 = 0, c0 = 1; break;
        case FX_NORMAL: c3 = 0, c2 = 1, c0 = 0; break;
        case FX_INF: c3 = 0, c2 = 1, c0 = 1; break;
        case FX_ZERO: c3 = 1, c2 = 0, c0 = 0; break;
        default: c3 = 1, c2 = 1, c0 = 0; break; /* denormal, pseudo-denormal */
        }
    }
    set_cc(f, c3, c2, fx_sign(v), c0);
}

/* unary: FCHS/FABS/FSQRT/FRNDINT/FXTRACT... on ST(0). */
static void unary(CPUState *cpu, int which)
{
    FPUState *f = &cpu->fpu;
    if (st_empty(f, 0)) {
        if (stack_fault(f, false)) {
            st_set(f, 0, FX_INDEFINITE);
        }
        return;
    }
    Floatx80 v = st_get(f, 0);
    SFEnv e = fenv(f);
    Floatx80 r;
    switch (which) {
    case 0: /* FCHS */
        v.se ^= 0x8000;
        set_c1(f, false);
        st_set(f, 0, v);
        return;
    case 1: /* FABS */
        v.se &= 0x7FFF;
        set_c1(f, false);
        st_set(f, 0, v);
        return;
    case 2:
        r = fx_sqrt(&e, v);
        break;
    default:
        r = fx_round_int(&e, v);
        break;
    }
    if (fpu_commit(f, &e)) {
        st_set(f, 0, r);
    }
}

/* binary_st01: FSCALE/FPREM/FPREM1 on ST(0), ST(1). */
static void binary_st01(CPUState *cpu, int which)
{
    FPUState *f = &cpu->fpu;
    if (st_empty(f, 0) || st_empty(f, 1)) {
        if (which != 0) {
            f->fsw &= (uint16_t)~FSW_C2; /* FPREM/FPREM1: C2 cleared, C0/C3 kept (host) */
        }
        if (stack_fault(f, false)) {
            st_set(f, 0, FX_INDEFINITE);
        }
        return;
    }
    SFEnv e = fenv(f);
    Floatx80 a = st_get(f, 0), b = st_get(f, 1), r;
    if (which == 0) {
        r = fx_scale(&e, a, b);
        if (fpu_commit(f, &e)) {
            st_set(f, 0, r);
        }
        return;
    }
    bool done;
    unsigned q;
    r = fx_rem(&e, a, b, which == 2, &done, &q);
    e.c1 = false;
    if (!fpu_commit(f, &e)) {
        /* Unmasked IE/DE: nothing is written; C1 = C2 = 0 and C0/C3 kept (host x87). */
        set_cc(f, (f->fsw & FSW_C3) != 0, 0, 0, (f->fsw & FSW_C0) != 0);
    } else {
        st_set(f, 0, r);
        if (fx_is_nan(r)) {
            /* No quotient (NaN operand, or invalid: inf dividend, zero divisor): C1 and C2
             * are cleared and C0/C3 keep their values, as the host x87 does. */
            set_cc(f, (f->fsw & FSW_C3) != 0, 0, 0, (f->fsw & FSW_C0) != 0);
        } else {
            set_cc(f, (q >> 1) & 1, !done, q & 1, (q >> 2) & 1);
        }
    }
}

static void fxtract(CPUState *cpu)
{
    FPUState *f = &cpu->fpu;
    if (st_empty(f, 0)) {
        if (stack_fault(f, false)) {
            st_set(f, 0, FX_INDEFINITE);
            push_over(f, FX_INDEFINITE);
        }
        return;
    }
    if (!st_empty(f, 7)) {
        if (stack_fault(f, true)) {
            st_set(f, 0, FX_INDEFINITE);
            fpu_push(f, FX_INDEFINITE);
        }
        return;
    }
    SFEnv e = fenv(f);
    Floatx80 sig;
    Floatx80 ex = fx_xtract(&e, st_get(f, 0), &sig);
    if (fpu_commit(f, &e)) {
        st_set(f, 0, ex);
        fpu_push(f, sig);
    }
}

/* --- dispatch per escape byte --- */

/* FCMOVcc condition codes (the Jcc encoding) for B, E, BE, U; +1 gives the negation. */
static const uint8_t fcmov_cc[4] = {2, 4, 6, 10};

static void fcmov(CPUState *cpu, int i, int cc)
{
    FPUState *f = &cpu->fpu;
    if (st_empty(f, 0) || st_empty(f, i)) {
        if (stack_fault(f, false)) {
            st_set(f, 0, FX_INDEFINITE);
        }
        return;
    }
    /* C1 is only written on a stack underflow (SDM FCMOVcc); the host leaves it alone. */
    if (cpu_cond(cpu, cc)) {
        st_set(f, 0, st_get(f, i));
    }
}

static void x87_transcendental(CPUState *cpu, const DecodedInsn *d);

static void x87_d9_reg(CPUState *cpu, const DecodedInsn *d)
{
    FPUState *f = &cpu->fpu;
    int i = d->rm;
    switch (d->reg) {
    case 0: { /* FLD ST(i) */
        if (st_empty(f, i)) {
            /* Underflow wins over a full stack: C1 = 0 and the indefinite is pushed over
             * whatever ST(7) held (host x87). */
            if (stack_fault(f, false)) {
                push_over(f, FX_INDEFINITE);
            }
            return;
        }
        Floatx80 v = st_get(f, i);
        set_c1(f, false);
        fpu_push(f, v);
        return;
    }
    case 1: { /* FXCH */
        if (st_empty(f, 0) || st_empty(f, i)) {
            if (!stack_fault(f, false)) {
                return;
            }
            if (st_empty(f, 0)) {
                st_set(f, 0, FX_INDEFINITE);
            }
            if (st_empty(f, i)) {
                st_set(f, i, FX_INDEFINITE);
            }
        }
        Floatx80 a = st_get(f, 0), b = st_get(f, i);
        st_set(f, 0, b);
        st_set(f, i, a);
        set_c1(f, false);
        return;
    }
    case 2:
        if (i == 0) { /* FNOP */
            return;
        }
        break;
    case 3: /* FSTP1 (undocumented alias of FSTP ST(i)) */
        goto fstp_reg;
    case 4:
        switch (i) {
        case 0: unary(cpu, 0); return;
        case 1: unary(cpu, 1); return;
        case 4: { /* FTST */
            if (st_empty(f, 0)) {
                stack_fault(f, false);
                set_cc(f, 1, 1, 0, 1); /* also with IE unmasked (host x87) */
                return;
            }
            SFEnv e = fenv(f);
            FxCmp c = fx_compare(&e, st_get(f, 0), fx_zero(false), false);
            static const uint8_t cc[4][3] = {{0, 0, 1}, {1, 0, 0}, {0, 0, 0}, {1, 1, 1}};
            e.c1 = false;
            fpu_commit(f, &e);
            set_cc(f, cc[c][0], cc[c][1], 0, cc[c][2]);
            return;
        }
        case 5: fxam(f); return;
        default: break;
        }
        break;
    case 5:
        if (i != 7) {
            set_c1(f, false);
            fpu_push(f, fpu_const(f, i));
            return;
        }
        break;
    case 6:
        switch (i) {
        case 4: fxtract(cpu); return;
        case 5: binary_st01(cpu, 2); return; /* FPREM1 */
        case 6: f->top = (f->top - 1) & 7; set_c1(f, false); return; /* FDECSTP */
        case 7: f->top = (f->top + 1) & 7; set_c1(f, false); return; /* FINCSTP */
        default: break; /* F2XM1, FYL2X, FPTAN, FPATAN: transcendental */
        }
        goto transcendental;
    case 7:
        switch (i) {
        case 0: binary_st01(cpu, 1); return; /* FPREM */
        case 2: unary(cpu, 2); return;       /* FSQRT */
        case 4: unary(cpu, 3); return;       /* FRNDINT */
        case 5: binary_st01(cpu, 0); return; /* FSCALE */
        default: break; /* FYL2XP1, FSINCOS, FSIN, FCOS */
        }
        goto transcendental;
    }
    cpu_raise_ud(cpu);
fstp_reg:
    if (st_empty(f, 0)) {
        if (!stack_fault(f, false)) {
            return;
        }
        st_set(f, i, FX_INDEFINITE); /* only the destination is written (host x87) */
    } else {
        st_set(f, i, st_get(f, 0));
        set_c1(f, false);
    }
    fpu_pop(f);
    return;
transcendental:
    x87_transcendental(cpu, d);
}

static void op_x87(CPUState *cpu, const DecodedInsn *d)
{
    fpu_check_nm(cpu);
    FPUState *f = &cpu->fpu;
    unsigned esc = d->op & 7;
    bool mem = (d->flags & DI_MEM) != 0;
    uint32_t ea = mem ? interp_ea(cpu, d) : 0;
    int reg = d->reg;

    /* Control instructions that do not record the instruction pointer. FLDENV, FLDCW and
     * FRSTOR are waiting instructions: a pending unmasked exception traps first (host x87);
     * FNSTENV, FNSTCW, FNSAVE and FNSTSW are not. */
    if (mem && ((esc == 1 && (reg == 4 || reg == 5)) || (esc == 5 && reg == 4))) {
        fpu_check_pending(cpu);
    }
    if (mem && esc == 1 && reg >= 4) {
        switch (reg) {
        case 4: fldenv(cpu, d->seg, ea, d->opsize); return;
        case 5: f->fcw = (uint16_t)(cpu_ld16(cpu, d->seg, ea) | 0x0040); update_es(f); return;
        case 6: fstenv(cpu, d->seg, ea, d->opsize); f->fcw |= 0x3F; update_es(f); return;
        default: cpu_st16(cpu, d->seg, ea, f->fcw); return;
        }
    }
    if (mem && esc == 5 && reg >= 4) {
        switch (reg) {
        case 4: { /* FRSTOR */
            unsigned envsz = d->opsize == 4 ? 28 : 14;
            Floatx80 regs[8];
            for (int i = 0; i < 8; i++) {
                regs[i] = ld_m80(cpu, d->seg, ea + envsz + 10 * (uint32_t)i);
            }
            fldenv(cpu, d->seg, ea, d->opsize);
            for (int i = 0; i < 8; i++) {
                f->st[st_phys(f, i)] = regs[i];
            }
            uint16_t tw = ftw_full(f); /* re-derive non-empty tags from the new contents */
            ftw_load(f, tw);
            update_es(f);
            return;
        }
        case 6: { /* FNSAVE */
            unsigned envsz = d->opsize == 4 ? 28 : 14;
            probe_write(cpu, d->seg, ea, envsz + 80);
            fstenv(cpu, d->seg, ea, d->opsize);
            for (int i = 0; i < 8; i++) {
                st_m80(cpu, d->seg, ea + envsz + 10 * (uint32_t)i, st_get(f, i));
            }
            fpu_finit(f);
            return;
        }
        case 7: /* FNSTSW m16 */
            cpu_st16(cpu, d->seg, ea, fsw_full(f));
            return;
        default:
            cpu_raise_ud(cpu);
        }
    }
    if (!mem && esc == 3 && reg == 4) {
        switch (d->rm) {
        case 0: case 1: case 4: return;                     /* FENI, FDISI, FSETPM: no-ops */
        case 2: f->fsw &= (uint16_t)~(0x80FF); return;       /* FNCLEX */
        case 3: fpu_finit(f); return;                        /* FNINIT */
        default: cpu_raise_ud(cpu);
        }
    }
    if (!mem && esc == 7 && reg == 4) {
        if (d->rm != 0) {
            cpu_raise_ud(cpu);
        }
        interp_set_reg(cpu, R_EAX, 2, fsw_full(f)); /* FNSTSW AX */
        return;
    }

    fpu_check_pending(cpu);
    fpu_record(cpu, d, ea);

    if (mem) {
        switch (esc) {
        case 0: case 2: case 4: case 6:
            op_arith_mem(cpu, d);
            return;
        case 1:
            if (reg == 0) {
                SFEnv e = fenv(f);
                Floatx80 v = fx_from_f32(&e, cpu_ld32(cpu, d->seg, ea));
                fpu_load(cpu, v, &e);
                return;
            }
            if (reg == 2 || reg == 3) {
                fst_mem(cpu, d, ea, 4, reg == 3);
                return;
            }
            break;
        case 3:
            switch (reg) {
            case 0: {
                SFEnv e = fenv(f);
                fpu_load(cpu, fx_from_i64((int32_t)cpu_ld32(cpu, d->seg, ea)), &e);
                return;
            }
            case 2: case 3: fist(cpu, d, ea, 32, reg == 3); return;
            case 5: {
                SFEnv e = fenv(f);
                fpu_load(cpu, ld_m80(cpu, d->seg, ea), &e);
                return;
            }
            case 7: fst_mem(cpu, d, ea, 10, true); return;
            default: break; /* /1 FISTTP is SSE3: #UD on this CPU */
            }
            break;
        case 5:
            switch (reg) {
            case 0: {
                SFEnv e = fenv(f);
                Floatx80 v = fx_from_f64(&e, ld_m64(cpu, d->seg, ea));
                fpu_load(cpu, v, &e);
                return;
            }
            case 2: case 3: fst_mem(cpu, d, ea, 8, reg == 3); return;
            default: break;
            }
            break;
        case 7:
            switch (reg) {
            case 0: {
                SFEnv e = fenv(f);
                fpu_load(cpu, fx_from_i64((int16_t)cpu_ld16(cpu, d->seg, ea)), &e);
                return;
            }
            case 2: case 3: fist(cpu, d, ea, 16, reg == 3); return;
            case 4: {
                SFEnv e = fenv(f);
                fpu_load(cpu, fbld(cpu, d->seg, ea), &e);
                return;
            }
            case 5: {
                SFEnv e = fenv(f);
                fpu_load(cpu, fx_from_i64((int64_t)ld_m64(cpu, d->seg, ea)), &e);
                return;
            }
            case 6: fbstp(cpu, d, ea); return;
            case 7: fist(cpu, d, ea, 64, true); return;
            default: break;
            }
            break;
        }
        cpu_raise_ud(cpu);
    }

    int i = d->rm;
    switch (esc) {
    case 0:
        op_arith_reg(cpu, d, 0, false);
        return;
    case 1:
        x87_d9_reg(cpu, d);
        return;
    case 2:
        if (reg <= 3) { /* FCMOVB/E/BE/U */
            fcmov(cpu, i, fcmov_cc[reg]);
            return;
        }
        if (reg == 5 && i == 1) { /* FUCOMPP */
            if (do_compare(cpu, 1, true, false)) {
                fpu_pop(f);
                fpu_pop(f);
            }
            return;
        }
        break;
    case 3:
        if (reg <= 3) { /* FCMOVNB/NE/NBE/NU */
            fcmov(cpu, i, fcmov_cc[reg] + 1);
            return;
        }
        if (reg == 5 || reg == 6) { /* FUCOMI / FCOMI */
            do_compare(cpu, i, reg == 5, true);
            return;
        }
        break;
    case 4:
        op_arith_reg(cpu, d, 1, false);
        return;
    case 5:
        switch (reg) {
        case 0: /* FFREE (clears C1 on the host x87) */
            tag_set(f, st_phys(f, i), FPU_TAG_EMPTY);
            set_c1(f, false);
            return;
        case 1: /* FXCH4 alias */
            x87_d9_reg(cpu, &(DecodedInsn){.op = 0xD9, .reg = 1, .rm = (uint8_t)i});
            return;
        case 2:
        case 3: /* FST/FSTP ST(i) */
            if (st_empty(f, 0)) {
                if (!stack_fault(f, false)) {
                    return;
                }
                st_set(f, i, FX_INDEFINITE); /* ST(0) itself is not written (host x87) */
            } else {
                st_set(f, i, st_get(f, 0));
                set_c1(f, false);
            }
            if (reg == 3) {
                fpu_pop(f);
            }
            return;
        case 4:
        case 5: /* FUCOM / FUCOMP */
            if (do_compare(cpu, i, true, false) && reg == 5) {
                fpu_pop(f);
            }
            return;
        default:
            break;
        }
        break;
    case 6:
        if (reg == 3) {
            if (i != 1) {
                break;
            }
            if (do_compare(cpu, 1, false, false)) { /* FCOMPP */
                fpu_pop(f);
                fpu_pop(f);
            }
            return;
        }
        if (reg == 2) { /* FCOMP5 alias */
            if (do_compare(cpu, i, false, false)) {
                fpu_pop(f);
            }
            return;
        }
        op_arith_reg(cpu, d, 1, true);
        return;
    case 7:
        switch (reg) {
        case 0: /* FFREEP */
            tag_set(f, st_phys(f, i), FPU_TAG_EMPTY);
            set_c1(f, false);
            fpu_pop(f);
            return;
        case 1:
            x87_d9_reg(cpu, &(DecodedInsn){.op = 0xD9, .reg = 1, .rm = (uint8_t)i});
            return;
        case 2:
        case 3: /* FSTP8/FSTP9 aliases */
            x87_d9_reg(cpu, &(DecodedInsn){.op = 0xD9, .reg = 3, .rm = (uint8_t)i});
            return;
        case 5:
        case 6: /* FUCOMIP / FCOMIP */
            if (do_compare(cpu, i, reg == 5, true)) {
                fpu_pop(f);
            }
            return;
        default:
            break;
        }
        break;
    }
    cpu_raise_ud(cpu);
}

/* WAIT/FWAIT: #NM when MP and TS, then any pending unmasked exception. */
static void op_fwait(CPUState *cpu, const DecodedInsn *d)
{
    if ((cpu->cr0 & (CR0_MP | CR0_TS)) == (CR0_MP | CR0_TS)) {
        cpu_raise_exception(cpu, EXC_NM, false, 0);
    }
    fpu_check_pending(cpu);
}

/* 0F AE: FXSAVE (/0) and FXRSTOR (/1); the SSE forms are #UD until SSE exists. */
static void op_0fae(CPUState *cpu, const DecodedInsn *d)
{
    if (!(d->flags & DI_MEM) || d->reg > 1) {
        cpu_raise_ud(cpu);
    }
    if (cpu->cr0 & (CR0_EM | CR0_TS)) {
        cpu_raise_exception(cpu, (cpu->cr0 & CR0_EM) ? EXC_UD : EXC_NM, false, 0);
    }
    uint32_t ea = interp_ea(cpu, d);
    if (d->reg == 0) {
        fxsave(cpu, d->seg, ea);
    } else {
        fxrstor(cpu, d->seg, ea);
    }
}

void x86_interp_fpu_register(InterpFn table[OP_COUNT])
{
    for (int op = 0xD8; op <= 0xDF; op++) {
        table[op] = op_x87;
    }
    table[0x9B] = op_fwait;
    table[OP_MAP_0F | 0xAE] = op_0fae;
}

/* x87_transcendental: F2XM1, FYL2X, FPTAN, FPATAN, FYL2XP1, FSINCOS, FSIN, FCOS. */
static void x87_transcendental(CPUState *cpu, const DecodedInsn *d)
{
    FPUState *f = &cpu->fpu;
    unsigned which = (unsigned)(d->reg == 6 ? d->rm : 8 + d->rm);
    bool binary = which == 1 || which == 3 || which == 9;  /* FYL2X, FPATAN, FYL2XP1 */
    bool pushes = which == 2 || which == 11;                /* FPTAN, FSINCOS */
    bool ranged = which == 2 || which >= 11;                /* C2 = operand out of range */
    if (ranged && (st_empty(f, 0) || (pushes && !st_empty(f, 7)))) {
        f->fsw &= (uint16_t)~FSW_C2; /* a stack fault clears it (host x87) */
    }
    if (st_empty(f, 0) || (binary && st_empty(f, 1))) {
        if (stack_fault(f, false)) {
            if (binary) {
                st_set(f, 1, FX_INDEFINITE);
                fpu_pop(f);
            } else {
                st_set(f, 0, FX_INDEFINITE);
                if (pushes) {
                    push_over(f, FX_INDEFINITE);
                }
            }
        }
        return;
    }
    if (pushes && !st_empty(f, 7)) {
        if (stack_fault(f, true)) {
            st_set(f, 0, FX_INDEFINITE);
            fpu_push(f, FX_INDEFINITE);
        }
        return;
    }
    SFEnv e = fenv(f);
    Floatx80 a = st_get(f, 0), r = a, r2 = a;
    bool in_range = true;
    switch (which) {
    case 0: r = fx_2xm1(&e, a); break;
    case 1: r = fx_yl2x(&e, st_get(f, 1), a); break;
    case 2:
        in_range = fx_tan(&e, a, &r);
        /* 1.0 is pushed after a tangent; a NaN result (NaN or invalid operand) twice. */
        r2 = fx_is_nan(r) ? r : fx_make(false, 0x3FFF, 1ull << 63);
        break;
    case 3: r = fx_atan2(&e, st_get(f, 1), a); break;
    case 9: r = fx_yl2xp1(&e, st_get(f, 1), a); break;
    case 11: in_range = fx_sincos(&e, a, &r, &r2); break;
    case 14: in_range = fx_sin(&e, a, &r); break;
    case 15: in_range = fx_cos(&e, a, &r); break;
    default: cpu_raise_ud(cpu);
    }
    if (!in_range) {
        /* Operand out of range: unchanged, C2 = 1 and C1 = 0; software reduces it. */
        f->fsw = (uint16_t)((f->fsw | FSW_C2) & ~FSW_C1);
        return;
    }
    if (ranged) {
        /* In range (also when an unmasked exception stops it); F2XM1, FYL2X, FYL2XP1 and
         * FPATAN leave C2 alone (host x87). */
        f->fsw &= (uint16_t)~FSW_C2;
    }
    if (!fpu_commit(f, &e)) {
        return;
    }
    if (binary) {
        st_set(f, 1, r);
        fpu_pop(f);
    } else if (pushes) {
        st_set(f, 0, r);
        fpu_push(f, r2);
    } else {
        st_set(f, 0, r);
    }
}
