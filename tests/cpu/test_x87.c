/* test_x87.c: x87 and MMX instructions through the interpreter in real mode: results in memory,
 * status word, #MF/FERR# delivery, #NM, FCOMI flags, BCD, FXSAVE/FNSAVE layouts, MMX tags. */
#include <criterion/criterion.h>
#include <math.h>

#include "core/softfloat.h"
#include "interp_harness.h"

/* Instruction bytes assembled with GNU as (.code16) from the sequences named in each test. */

/* fninit; fld1; fldpi; faddp; fstpt [0x2000]; fnstsw [0x2010] */
static const uint8_t code_arith[] = {0xdb, 0xe3, 0xd9, 0xe8, 0xd9, 0xeb, 0xde, 0xc1, 0xdb, 0x3e,
                                     0x00, 0x20, 0xdd, 0x3e, 0x10, 0x20};
/* mov eax,cr0; or eax,0x20; mov cr0,eax; fninit; fldcw [0x2020]; fld1; fldz; fdivp; fwait; nop */
static const uint8_t code_mf[] = {0x0f, 0x20, 0xc0, 0x66, 0x83, 0xc8, 0x20, 0x0f, 0x22, 0xc0,
                                  0xdb, 0xe3, 0xd9, 0x2e, 0x20, 0x20, 0xd9, 0xe8, 0xd9, 0xee,
                                  0xde, 0xf9, 0x9b, 0x90};
/* fninit; fld1; fldz; fcomi st, st(1) */
static const uint8_t code_fcomi[] = {0xdb, 0xe3, 0xd9, 0xe8, 0xd9, 0xee, 0xdb, 0xf1};
/* fninit; fld tbyte [0x2000]; fistp dword [0x2010]; fnstsw ax */
static const uint8_t code_fist[] = {0xdb, 0xe3, 0xdb, 0x2e, 0x00, 0x20, 0xdb, 0x1e, 0x10, 0x20,
                                    0xdf, 0xe0};
/* fninit; fild qword [0x2000]; fbstp [0x2010]; fbld [0x2010]; fistp qword [0x2020] */
static const uint8_t code_bcd[] = {0xdb, 0xe3, 0xdf, 0x2e, 0x00, 0x20, 0xdf, 0x36, 0x10, 0x20,
                                   0xdf, 0x26, 0x10, 0x20, 0xdf, 0x3e, 0x20, 0x20};
/* fninit; fld1; fldpi; fxsave [0x2100]; fninit; fxrstor [0x2100]; fstp tbyte [0x2000] */
static const uint8_t code_fxs[] = {0xdb, 0xe3, 0xd9, 0xe8, 0xd9, 0xeb, 0x0f, 0xae, 0x06, 0x00,
                                   0x21, 0xdb, 0xe3, 0x0f, 0xae, 0x0e, 0x00, 0x21, 0xdb, 0x3e,
                                   0x00, 0x20};
/* fninit; fld1; fnsave [0x2200]; fld1; frstor [0x2200]; fnstsw ax */
static const uint8_t code_fsave[] = {0xdb, 0xe3, 0xd9, 0xe8, 0xdd, 0x36, 0x00, 0x22, 0xd9, 0xe8,
                                     0xdd, 0x26, 0x00, 0x22, 0xdf, 0xe0};
/* fninit; movq mm0,[0x2300]; paddb mm0,[0x2308]; movq [0x2310],mm0; fnstenv [0x2320]; emms;
 * fnstenv [0x2340] */
static const uint8_t code_mmx[] = {0xdb, 0xe3, 0x0f, 0x6f, 0x06, 0x00, 0x23, 0x0f, 0xfc, 0x06,
                                   0x08, 0x23, 0x0f, 0x7f, 0x06, 0x10, 0x23, 0xd9, 0x36, 0x20,
                                   0x23, 0x0f, 0x77, 0xd9, 0x36, 0x40, 0x23};
/* fninit; fld qword [0x2000]; fsin; fstp qword [0x2010]; fld qword [0x2000]; fcos;
 * fstp qword [0x2018]; fld qword [0x2000]; fptan; fstp qword [0x2020]; fstp qword [0x2028];
 * fnstsw ax */
static const uint8_t code_trans[] = {0xdb, 0xe3, 0xdd, 0x06, 0x00, 0x20, 0xd9, 0xfe, 0xdd, 0x1e,
                                     0x10, 0x20, 0xdd, 0x06, 0x00, 0x20, 0xd9, 0xff, 0xdd, 0x1e,
                                     0x18, 0x20, 0xdd, 0x06, 0x00, 0x20, 0xd9, 0xf2, 0xdd, 0x1e,
                                     0x20, 0x20, 0xdd, 0x1e, 0x28, 0x20, 0xdf, 0xe0};

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint64_t rd64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) {
        v = v << 8 | p[i];
    }
    return v;
}
static void wr64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++) {
        p[i] = (uint8_t)(v >> (8 * i));
    }
}

Test(x87, fld_constants_add_and_store_extended)
{
    Harness *h = th_new();
    cr_assert_eq(th_run(h, code_arith, sizeof(code_arith)), -1);
    SFEnv e = sf_env_from_fcw(0x037F);
    Floatx80 one = {1ull << 63, 0x3FFF}, pi = {0xC90FDAA22168C235ull, 0x4000};
    Floatx80 want = fx_add(&e, pi, one);
    cr_assert_eq(rd64(h->ram + 0x2000), want.sig);
    cr_assert_eq(rd16(h->ram + 0x2008), want.se);
    uint16_t sw = rd16(h->ram + 0x2010);
    cr_assert_eq(sw & 0x3800, 0, "TOP back to 0 after FADDP and FSTP (FSW %04x)", sw);
    cr_assert(sw & 0x20, "PE set: pi + 1 is inexact");
    cr_assert_eq(h->cpu->fpu.ftw, 0xFFFF, "everything popped");
    th_free(h);
}

Test(x87, unmasked_zero_divide_raises_mf_at_next_waiting_instruction)
{
    Harness *h = th_new();
    h->ram[0x2020] = 0x7B; /* FCW 037B: ZE unmasked */
    h->ram[0x2021] = 0x03;
    int v = th_run(h, code_mf, sizeof(code_mf));
    cr_assert_eq(v, EXC_MF, "vector %d", v);
    cr_assert(h->cpu->fpu.fsw & FSW_ZE);
    cr_assert(h->cpu->fpu.fsw & FSW_ES);
    /* The destination stayed 1.0: an unmasked #Z stores nothing. */
    Floatx80 st1 = h->cpu->fpu.st[(h->cpu->fpu.top + 1) & 7];
    cr_assert_eq(st1.se, 0x3FFF);
    cr_assert_eq(st1.sig, 1ull << 63);
    th_free(h);
}

static int ferr_level = -1;

static void record_ferr(void *opaque, int level)
{
    *(int *)opaque = level;
}

Test(x87, without_cr0_ne_the_error_goes_to_ferr_and_execution_continues)
{
    Harness *h = th_new();
    h->ram[0x2020] = 0x7B;
    h->ram[0x2021] = 0x03;
    /* Same program, but with the "or eax, 0x20" replaced by NOPs: CR0.NE stays 0. */
    uint8_t code[sizeof(code_mf)];
    memcpy(code, code_mf, sizeof(code));
    memset(code + 3, 0x90, 4);
    ferr_level = -1;
    h->cpu->hooks.ferr = record_ferr;
    h->cpu->hooks.opaque = &ferr_level;
    cr_assert_eq(th_run(h, code, sizeof(code)), -1, "no exception without CR0.NE");
    cr_assert_eq(ferr_level, 1, "FERR# asserted for IRQ 13");
    th_free(h);
}

Test(x87, cr0_ts_and_em_give_nm_and_mmx_with_em_is_ud)
{
    Harness *h = th_new();
    h->cpu->cr0 |= CR0_TS;
    cr_assert_eq(th_run(h, code_fcomi, sizeof(code_fcomi)), EXC_NM);
    th_free(h);
    h = th_new();
    h->cpu->cr0 |= CR0_EM;
    cr_assert_eq(th_run(h, code_fcomi, sizeof(code_fcomi)), EXC_NM);
    th_free(h);
    h = th_new();
    h->cpu->cr0 |= CR0_EM;
    cr_assert_eq(th_run(h, code_mmx + 2, sizeof(code_mmx) - 2), EXC_UD, "MMX with EM");
    th_free(h);
}

Test(x87, fcomi_sets_eflags)
{
    Harness *h = th_new();
    cr_assert_eq(th_run(h, code_fcomi, sizeof(code_fcomi)), -1);
    uint32_t f = th_flags(h);
    cr_assert(f & EF_CF, "0 < 1");
    cr_assert_eq(f & (EF_ZF | EF_PF), 0u);
    th_free(h);
}

Test(x87, fist_overflow_stores_integer_indefinite)
{
    Harness *h = th_new();
    wr64(h->ram + 0x2000, 0xAD78EBC5AC620000ull); /* 1e20 */
    h->ram[0x2008] = 0x41;
    h->ram[0x2009] = 0x40;
    cr_assert_eq(th_run(h, code_fist, sizeof(code_fist)), -1);
    cr_assert_eq(rd64(h->ram + 0x2010) & 0xFFFFFFFFu, 0x80000000u);
    cr_assert(h->cpu->regs[R_EAX] & FSW_IE, "IE in FSW %04x", h->cpu->regs[R_EAX] & 0xFFFF);
    th_free(h);
}

Test(x87, fbstp_and_fbld_round_trip)
{
    Harness *h = th_new();
    wr64(h->ram + 0x2000, (uint64_t)-123456789012345678ll);
    cr_assert_eq(th_run(h, code_bcd, sizeof(code_bcd)), -1);
    static const uint8_t bcd[10] = {0x78, 0x56, 0x34, 0x12, 0x90, 0x78, 0x56, 0x34, 0x12, 0x80};
    cr_assert_eq(memcmp(h->ram + 0x2010, bcd, 10), 0);
    cr_assert_eq(rd64(h->ram + 0x2020), (uint64_t)-123456789012345678ll);
    th_free(h);
}

Test(x87, fxsave_layout_and_fxrstor_round_trip)
{
    Harness *h = th_new();
    cr_assert_eq(th_run(h, code_fxs, sizeof(code_fxs)), -1);
    const uint8_t *fx = h->ram + 0x2100;
    cr_assert_eq(rd16(fx), 0x037F, "FCW");
    cr_assert_eq(rd16(fx + 2) & 0x3800, 6u << 11, "TOP = 6");
    cr_assert_eq(fx[4], 0xC0, "abridged tags: physical 6 and 7 valid");
    cr_assert_eq(rd64(fx + 32), 0xC90FDAA22168C235ull, "ST0 = pi");
    cr_assert_eq(rd64(fx + 48), 1ull << 63, "ST1 = 1");
    cr_assert_eq(rd64(h->ram + 0x2000), 0xC90FDAA22168C235ull, "pi back after FXRSTOR");
    th_free(h);
}

Test(x87, fnsave_16bit_real_mode_layout_and_frstor)
{
    Harness *h = th_new();
    cr_assert_eq(th_run(h, code_fsave, sizeof(code_fsave)), -1);
    const uint8_t *s = h->ram + 0x2200;
    cr_assert_eq(rd16(s), 0x037F, "FCW");
    cr_assert_eq(rd16(s + 2) & 0x3800, 7u << 11, "TOP = 7");
    cr_assert_eq(rd16(s + 4), 0x3FFF, "tags: ST0 (physical 7) valid, the rest empty");
    cr_assert_eq(rd64(s + 14), 1ull << 63, "ST0 = 1.0 after the 14-byte environment");
    /* FRSTOR brought back TOP = 7 with one register: the second FLD1 did not survive. */
    cr_assert_eq(h->cpu->regs[R_EAX] & 0x3800, 7u << 11);
    th_free(h);
}

Test(mmx, paddb_wraps_and_tags_follow_the_mmx_rules)
{
    Harness *h = th_new();
    wr64(h->ram + 0x2300, 0x0102030405060708ull);
    wr64(h->ram + 0x2308, 0xFF01FF01FF01FF01ull);
    cr_assert_eq(th_run(h, code_mmx, sizeof(code_mmx)), -1);
    cr_assert_eq(rd64(h->ram + 0x2310), 0x0003020504070609ull);
    /* After an MMX instruction every register is non-empty; FNSTENV derives each tag from the
     * contents (measured on hardware: MM0 written -> special, zeroed registers -> zero). */
    cr_assert_eq(rd16(h->ram + 0x2320 + 4), 0x5556, "tags after MMX");
    cr_assert_eq(rd16(h->ram + 0x2320 + 2) & 0x3800, 0u, "TOP = 0");
    cr_assert_eq(rd16(h->ram + 0x2340 + 4), 0xFFFF, "after EMMS: all empty");
    th_free(h);
}

Test(x87, transcendentals_of_a_double)
{
    Harness *h = th_new();
    double x = 0.75;
    memcpy(h->ram + 0x2000, &x, 8);
    cr_assert_eq(th_run(h, code_trans, sizeof(code_trans)), -1);
    double s, c, t, one;
    memcpy(&s, h->ram + 0x2010, 8);
    memcpy(&c, h->ram + 0x2018, 8);
    memcpy(&one, h->ram + 0x2020, 8);
    memcpy(&t, h->ram + 0x2028, 8);
    cr_assert_eq(s, sin(0.75));
    cr_assert_eq(c, cos(0.75));
    cr_assert_eq(one, 1.0, "FPTAN pushes 1.0");
    cr_assert_eq(t, tan(0.75));
    cr_assert_eq(h->cpu->regs[R_EAX] & FSW_C2, 0u, "in range");
    th_free(h);
}

/* --- behaviour pinned by the native differential fuzzer (anyvm-fuzz --x87) on the host x87:
 * each test is one mismatch that was found and fixed (tests/cpu/fuzz/FINDINGS.md). --- */

static uint16_t fsw_of(Harness *h) { return (uint16_t)h->cpu->regs[R_EAX]; }

Test(mmx, emms_also_sets_top_to_zero)
{
    /* fninit; fld1; fld1; emms; fnstsw ax */
    static const uint8_t code[] = {0xDB, 0xE3, 0xD9, 0xE8, 0xD9, 0xE8, 0x0F, 0x77, 0xDF, 0xE0};
    Harness *h = th_new();
    cr_assert_eq(th_run(h, code, sizeof(code)), -1);
    cr_assert_eq(fsw_of(h) & FSW_TOP, 0u, "TOP = 0 after EMMS (FSW %04x)", fsw_of(h));
    cr_assert_eq(h->cpu->fpu.ftw, 0xFFFF);
    th_free(h);
}

/* nine pushes: the last overflows and sets C1 */
#define PUSH9 0xD9, 0xE8, 0xD9, 0xE8, 0xD9, 0xE8, 0xD9, 0xE8, 0xD9, 0xE8, 0xD9, 0xE8, 0xD9, 0xE8, \
              0xD9, 0xE8, 0xD9, 0xE8

Test(x87, fcmov_and_fcomi_leave_c1_alone_ffree_clears_it)
{
    /* fninit; 9 x fld1; fcmovb st0, st1; fcomi st0, st1; fnstsw ax */
    static const uint8_t code[] = {0xDB, 0xE3, PUSH9, 0xDA, 0xC1, 0xDB, 0xF1, 0xDF, 0xE0};
    Harness *h = th_new();
    cr_assert_eq(th_run(h, code, sizeof(code)), -1);
    cr_assert(fsw_of(h) & FSW_C1, "C1 from the overflow kept (FSW %04x)", fsw_of(h));
    th_free(h);
    /* fninit; 9 x fld1; ffree st(3); fnstsw ax */
    static const uint8_t code2[] = {0xDB, 0xE3, PUSH9, 0xDD, 0xC3, 0xDF, 0xE0};
    h = th_new();
    cr_assert_eq(th_run(h, code2, sizeof(code2)), -1);
    cr_assert_eq(fsw_of(h) & FSW_C1, 0u, "FFREE clears C1");
    th_free(h);
}

Test(x87, fld_of_an_empty_register_with_a_full_stack_reports_underflow)
{
    /* fninit; 8 x fld1; ffree st(3); fld st(3); fnstsw ax */
    static const uint8_t code[] = {0xDB, 0xE3, PUSH9, 0xD9, 0xF7, 0xDD, 0xC3, 0xD9, 0xC3,
                                   0xDF, 0xE0};
    Harness *h = th_new();
    cr_assert_eq(th_run(h, code, sizeof(code)), -1);
    uint16_t sw = fsw_of(h);
    cr_assert(sw & FSW_SF);
    cr_assert_eq(sw & FSW_C1, 0u, "underflow (C1 = 0) wins over the full stack (FSW %04x)", sw);
    th_free(h);
}

Test(x87, fst_sti_from_an_empty_st0_writes_only_the_destination)
{
    /* fninit; fld1; fincstp; fst st(7); -- ST(0) (physical 0) is empty, ST(7) is 1.0 */
    static const uint8_t code[] = {0xDB, 0xE3, 0xD9, 0xE8, 0xD9, 0xF7, 0xDD, 0xD7};
    Harness *h = th_new();
    cr_assert_eq(th_run(h, code, sizeof(code)), -1);
    FPUState *f = &h->cpu->fpu;
    cr_assert_eq((f->ftw >> 0) & 3, (unsigned)FPU_TAG_EMPTY, "ST(0) stays empty");
    cr_assert_eq(f->st[7].se, 0xFFFF, "ST(7) = indefinite");
    cr_assert_eq(f->st[7].sig, 0xC000000000000000ull);
    th_free(h);
}

Test(x87, fldcw_is_a_waiting_instruction)
{
    /* mov eax,cr0; or eax,0x20; mov cr0,eax; fninit; fldcw [0x2020]; fld1; fldz; fdivp;
     * fldcw [0x2020]: #MF at the second FLDCW */
    static const uint8_t code[] = {0x0F, 0x20, 0xC0, 0x66, 0x83, 0xC8, 0x20, 0x0F, 0x22, 0xC0,
                                   0xDB, 0xE3, 0xD9, 0x2E, 0x20, 0x20, 0xD9, 0xE8, 0xD9, 0xEE,
                                   0xDE, 0xF9, 0xD9, 0x2E, 0x20, 0x20};
    Harness *h = th_new();
    h->ram[0x2020] = 0x7B; /* FCW 037B: ZE unmasked */
    h->ram[0x2021] = 0x03;
    cr_assert_eq(th_run(h, code, sizeof(code)), EXC_MF);
    cr_assert_eq(rd16(h->ram + 0x7FFA), TH_CODE + 22, "#MF points at the FLDCW");
    th_free(h);
}

Test(x87, compares_report_unordered_without_popping_when_ie_is_unmasked)
{
    /* fninit; fldcw [0x2020]; fld qword [0x2000] (QNaN); fld1; fcomp st(1); fnstsw ax */
    static const uint8_t code[] = {0xDB, 0xE3, 0xD9, 0x2E, 0x20, 0x20, 0xDD, 0x06, 0x00, 0x20,
                                   0xD9, 0xE8, 0xD8, 0xD9, 0xDF, 0xE0};
    Harness *h = th_new();
    h->ram[0x2020] = 0x7E; /* FCW 037E: IE unmasked */
    h->ram[0x2021] = 0x03;
    wr64(h->ram + 0x2000, 0x7FF8000000000000ull);
    cr_assert_eq(th_run(h, code, sizeof(code)), -1);
    uint16_t sw = fsw_of(h);
    cr_assert_eq(sw & (FSW_C3 | FSW_C2 | FSW_C0), FSW_C3 | FSW_C2 | FSW_C0, "FSW %04x", sw);
    cr_assert_eq(sw & FSW_TOP, 6u << 11, "no pop");
    cr_assert(sw & FSW_ES);
    th_free(h);
}

Test(x87, fptan_of_infinity_pushes_the_indefinite_twice)
{
    /* fninit; fld qword [0x2000] (+inf); fptan */
    static const uint8_t code[] = {0xDB, 0xE3, 0xDD, 0x06, 0x00, 0x20, 0xD9, 0xF2};
    Harness *h = th_new();
    wr64(h->ram + 0x2000, 0x7FF0000000000000ull);
    cr_assert_eq(th_run(h, code, sizeof(code)), -1);
    FPUState *f = &h->cpu->fpu;
    for (int i = 0; i < 2; i++) {
        Floatx80 v = f->st[(f->top + i) & 7];
        cr_assert_eq(v.se, 0xFFFF, "ST(%d)", i);
        cr_assert_eq(v.sig, 0xC000000000000000ull, "ST(%d)", i);
    }
    th_free(h);
}

Test(x87, fsin_out_of_range_sets_c2_and_clears_c1)
{
    /* fninit; 9 x fld1 (C1 = 1); fstp st(0) x2; fld tbyte [0x2000] (2^64); fsin; fnstsw ax */
    static const uint8_t code[] = {0xDB, 0xE3, PUSH9, 0xDD, 0xD8, 0xDD, 0xD8, 0xDB, 0x2E, 0x00,
                                   0x20, 0xD9, 0xFE, 0xDF, 0xE0};
    Harness *h = th_new();
    wr64(h->ram + 0x2000, 1ull << 63);
    h->ram[0x2008] = 0x3F; /* 0x403F: 2^64 */
    h->ram[0x2009] = 0x40;
    cr_assert_eq(th_run(h, code, sizeof(code)), -1);
    uint16_t sw = fsw_of(h);
    cr_assert(sw & FSW_C2, "FSW %04x", sw);
    cr_assert_eq(sw & FSW_C1, 0u, "FSW %04x", sw);
    th_free(h);
}

Test(x87, fld_of_a_denormal_with_de_unmasked_still_loads)
{
    /* fninit; fldcw [0x2020]; fld qword [0x2000] (denormal) */
    static const uint8_t code[] = {0xDB, 0xE3, 0xD9, 0x2E, 0x20, 0x20, 0xDD, 0x06, 0x00, 0x20};
    Harness *h = th_new();
    h->ram[0x2020] = 0x7D; /* FCW 037D: DE unmasked */
    h->ram[0x2021] = 0x03;
    wr64(h->ram + 0x2000, 0x000000007FFFFFFFull);
    cr_assert_eq(th_run(h, code, sizeof(code)), -1);
    FPUState *f = &h->cpu->fpu;
    cr_assert_eq(f->top, 7u, "pushed");
    cr_assert(f->fsw & FSW_DE);
    cr_assert(f->fsw & FSW_ES);
    th_free(h);
}

Test(x87, unmasked_denormal_operand_stops_fadd_before_rounding)
{
    /* fninit; fldcw [0x2020]; fld tbyte [0x2010] (107); fadd dword [0x2000] (denormal) */
    static const uint8_t code[] = {0xDB, 0xE3, 0xD9, 0x2E, 0x20, 0x20, 0xDB, 0x2E, 0x10, 0x20,
                                   0xD8, 0x06, 0x00, 0x20};
    Harness *h = th_new();
    h->ram[0x2020] = 0x7D; /* DE unmasked */
    h->ram[0x2021] = 0x03;
    wr64(h->ram + 0x2000, 0x800000DDull);
    wr64(h->ram + 0x2010, 0xD600000000000000ull);
    h->ram[0x2018] = 0x05;
    h->ram[0x2019] = 0x40;
    cr_assert_eq(th_run(h, code, sizeof(code)), -1);
    FPUState *f = &h->cpu->fpu;
    cr_assert_eq(f->fsw & 0x3F, (unsigned)FSW_DE, "only DE, no PE (FSW %04x)", f->fsw);
    cr_assert_eq(f->st[7].sig, 0xD600000000000000ull, "ST(0) unchanged");
    th_free(h);
}
