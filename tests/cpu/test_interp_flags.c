/* test_interp_flags.c: the lazy-flag evaluator (core/cpu_flags.c) against hand-computed
 * EFLAGS for each operation class. */
#include <criterion/criterion.h>

#include "core/cpu.h"

static CPUState cpu;

static uint32_t flags_of(uint32_t op, uint32_t dst, uint32_t src, uint32_t src2)
{
    cpu.eflags = EF_FIXED1;
    cpu.cc_op = op;
    cpu.cc_dst = dst;
    cpu.cc_src = src;
    cpu.cc_src2 = src2;
    return cpu_cc_compute(&cpu);
}

Test(flags, add8_carry_overflow_aux_parity)
{
    /* 0x7F + 0x01 = 0x80: OF (signed overflow), AF, SF; no CF; PF (0x80 has one bit: odd). */
    uint32_t f = flags_of(CC_OP_ADD8, 0x80, 0x01, 0);
    cr_assert_eq(f, EF_OF | EF_AF | EF_SF);
    /* 0xFF + 0x01 = 0x00: CF, ZF, AF, PF. */
    f = flags_of(CC_OP_ADD8, 0x00, 0x01, 0);
    cr_assert_eq(f, EF_CF | EF_ZF | EF_AF | EF_PF);
}

Test(flags, adc16_carry_in_makes_full_wrap_carry)
{
    /* 0xFFFF + 0xFFFF + 1 = 0x1FFFF: result 0xFFFF with CF set (the dst <= s1 case). */
    uint32_t f = flags_of(CC_OP_ADC16, 0xFFFF, 0xFFFF, 1);
    cr_assert(f & EF_CF);
    cr_assert(f & EF_SF);
    cr_assert_not(f & EF_OF);
    /* 0 + 0 + 1 = 1: no carry. */
    f = flags_of(CC_OP_ADC16, 1, 0, 1);
    cr_assert_not(f & EF_CF);
}

Test(flags, sub32_borrow_and_signed_overflow)
{
    /* 0 - 1 = 0xFFFFFFFF: CF, SF, AF, PF. */
    uint32_t f = flags_of(CC_OP_SUB32, 0xFFFFFFFFu, 1, 0);
    cr_assert_eq(f, EF_CF | EF_SF | EF_AF | EF_PF);
    /* 0x80000000 - 1 = 0x7FFFFFFF: OF. */
    f = flags_of(CC_OP_SUB32, 0x7FFFFFFFu, 1, 0);
    cr_assert(f & EF_OF);
    cr_assert_not(f & EF_CF);
}

Test(flags, sbb8_borrow_in_with_equal_operands_borrows)
{
    /* 5 - 5 - 1 = 0xFF: CF set although s1 == src. */
    uint32_t f = flags_of(CC_OP_SBB8, 0xFF, 5, 1);
    cr_assert(f & EF_CF);
    f = flags_of(CC_OP_SBB8, 0x00, 5, 0);
    cr_assert_not(f & EF_CF);
    cr_assert(f & EF_ZF);
}

Test(flags, inc_dec_keep_cf_and_set_of_at_sign_boundary)
{
    uint32_t f = flags_of(CC_OP_INC16, 0x8000, 0, 1);
    cr_assert_eq(f, EF_CF | EF_OF | EF_SF | EF_AF | EF_PF);
    f = flags_of(CC_OP_DEC8, 0x7F, 0, 0);
    cr_assert_eq(f, EF_OF | EF_AF);
}

Test(flags, shifts_cf_from_last_bit_out)
{
    /* SHL8 0xC0 by 1: src = 0xC0 (value shifted by count-1), result 0x80: CF=1, OF=0. */
    uint32_t f = flags_of(CC_OP_SHL8, 0x80, 0xC0, 0);
    cr_assert(f & EF_CF);
    cr_assert_not(f & EF_OF);
    /* SHL8 0x40 by 1: result 0x80, CF=0, OF=1. */
    f = flags_of(CC_OP_SHL8, 0x80, 0x40, 0);
    cr_assert_not(f & EF_CF);
    cr_assert(f & EF_OF);
    /* SHR16 0x8001 by 1: CF=1, OF = old MSB = 1. */
    f = flags_of(CC_OP_SHR16, 0x4000, 0x8001, 0);
    cr_assert(f & EF_CF);
    cr_assert(f & EF_OF);
    /* SAR never sets OF. */
    f = flags_of(CC_OP_SAR32, 0xC0000000u, 0x80000001u, 0);
    cr_assert(f & EF_CF);
    cr_assert_not(f & EF_OF);
}

Test(flags, logic_clears_cf_of_af)
{
    uint32_t f = flags_of(CC_OP_LOGIC32, 0, 0, 0);
    cr_assert_eq(f, EF_ZF | EF_PF);
}

Test(flags, cond_after_cmp_matches_full_evaluation)
{
    static const uint32_t vals[] = {0, 1, 0x7F, 0x80, 0xFF, 0x7FFF, 0x8000, 0xFFFF,
                                    0x7FFFFFFF, 0x80000000u, 0xFFFFFFFFu, 0x1234};
    for (int sz = 0; sz < 3; sz++) {
        uint32_t m = sz == 0 ? 0xFF : sz == 1 ? 0xFFFF : 0xFFFFFFFFu;
        for (unsigned i = 0; i < sizeof(vals) / 4; i++) {
            for (unsigned j = 0; j < sizeof(vals) / 4; j++) {
                uint32_t a = vals[i] & m, b = vals[j] & m;
                for (int op = 0; op < 2; op++) {
                    uint32_t base = op ? CC_OP_SUB8 : CC_OP_LOGIC8;
                    uint32_t r = op ? (a - b) & m : (a & b);
                    flags_of(base + (uint32_t)sz, r, b, 0);
                    uint32_t f = cpu_cc_compute(&cpu);
                    bool cf = f & EF_CF, zf = f & EF_ZF, sf = f & EF_SF, of = f & EF_OF;
                    bool pf = f & EF_PF;
                    bool expect[8] = {of, cf, zf, cf || zf, sf, pf, sf != of,
                                      (sf != of) || zf};
                    for (int cc = 0; cc < 16; cc++) {
                        cr_assert_eq(cpu_cond(&cpu, cc), expect[cc >> 1] ^ (cc & 1),
                                     "op %u size %d a=%x b=%x cc=%d", base, sz, a, b, cc);
                    }
                }
                /* Unsigned and signed compare semantics of CMP. */
                flags_of(CC_OP_SUB8 + (uint32_t)sz, (a - b) & m, b, 0);
                cr_assert_eq(cpu_cond(&cpu, 2), a < b);
            }
        }
    }
}

Test(flags, set_eflags_materialises_and_keeps_fixed_bits)
{
    flags_of(CC_OP_ADD8, 0, 1, 0);  /* CF ZF AF PF */
    cpu_set_eflags(&cpu, EF_DF, EF_DF);
    uint32_t f = cpu_get_eflags(&cpu);
    cr_assert_eq(f, EF_FIXED1 | EF_CF | EF_ZF | EF_AF | EF_PF | EF_DF);
    cr_assert_eq(cpu.cc_op, CC_OP_EFLAGS);
    cpu_set_eflags(&cpu, 0xFFFFFFFFu, 0xFFFFFFFFu);
    cr_assert_eq(cpu_get_eflags(&cpu) & 0xFFC08028u, 0);
    cr_assert(cpu_get_eflags(&cpu) & EF_FIXED1);
}

Test(flags, cc_cf_fast_path_agrees_with_compute)
{
    for (uint32_t op = 1; op < CC_OP_COUNT; op++) {
        for (uint32_t k = 0; k < 64; k++) {
            uint32_t dst = k * 0x9E3779B9u, src = k * 0x85EBCA6Bu ^ 0x8000, c = k & 1;
            flags_of(op, dst, src, c);
            cr_assert_eq(cpu_cc_cf(&cpu), (cpu_cc_compute(&cpu) & EF_CF) != 0, "op %u k %u",
                         op, k);
        }
    }
}
