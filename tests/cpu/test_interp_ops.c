/* test_interp_ops.c: tricky integer-instruction semantics of the reference interpreter, run
 * as real-mode code snippets on a bare CPU (tests/cpu/interp_harness.h). */
#include <criterion/criterion.h>

#include "interp_harness.h"

static Harness *h;

static void setup(void)
{
    h = th_new();
}

static void teardown(void)
{
    th_free(h);
}

TestSuite(interp, .init = setup, .fini = teardown);

#define RUN(...)                                                                                \
    ({                                                                                          \
        static const uint8_t code_[] = {__VA_ARGS__};                                          \
        th_run(h, code_, sizeof(code_));                                                        \
    })

#define R(r) (h->cpu->regs[(r)])
#define ARITH(f) ((f) & (EF_CF | EF_PF | EF_AF | EF_ZF | EF_SF | EF_OF))

Test(interp, shift_by_zero_leaves_flags_and_value)
{
    R(R_EAX) = 0x80;
    R(R_ECX) = 0x20; /* masked to 0 */
    /* stc; shl al, cl */
    cr_assert_eq(RUN(0xF9, 0xD2, 0xE0), -1);
    cr_assert_eq(R(R_EAX), 0x80);
    cr_assert(th_flags(h) & EF_CF);
}

Test(interp, shift_by_one_sets_cf_and_of)
{
    R(R_EAX) = 0x40;
    /* shl al, 1: 0x40 -> 0x80, CF=0, OF=1 (sign changed) */
    cr_assert_eq(RUN(0xD0, 0xE0), -1);
    cr_assert_eq(R(R_EAX) & 0xFF, 0x80);
    uint32_t f = th_flags(h);
    cr_assert_not(f & EF_CF);
    cr_assert(f & EF_OF);
    cr_assert(f & EF_SF);
}

Test(interp, shift_count_masked_to_five_bits_and_wide_counts_clear)
{
    R(R_EAX) = 0x0001;
    R(R_ECX) = 33; /* & 31 = 1 */
    cr_assert_eq(RUN(0xD3, 0xE0), -1); /* shl ax, cl */
    cr_assert_eq(R(R_EAX) & 0xFFFF, 2);
    /* shr al, 9 (count 9 > 8): result 0, CF = bit 8 of the value = 0 */
    R(R_EAX) = 0xFF;
    cr_assert_eq(RUN(0xC0, 0xE8, 0x09), -1);
    cr_assert_eq(R(R_EAX) & 0xFF, 0);
    cr_assert_not(th_flags(h) & EF_CF);
    cr_assert(th_flags(h) & EF_ZF);
    /* shl al, 8: CF = bit 0 of the original */
    R(R_EAX) = 0x01;
    cr_assert_eq(RUN(0xC0, 0xE0, 0x08), -1);
    cr_assert_eq(R(R_EAX) & 0xFF, 0);
    cr_assert(th_flags(h) & EF_CF);
}

Test(interp, sar_fills_with_sign)
{
    R(R_EAX) = 0x8000;
    cr_assert_eq(RUN(0xC1, 0xF8, 0x04), -1); /* sar ax, 4 */
    cr_assert_eq(R(R_EAX) & 0xFFFF, 0xF800);
    cr_assert_not(th_flags(h) & EF_OF);
}

Test(interp, rotates_set_cf_and_keep_other_flags)
{
    /* xor ax,ax (ZF=1); mov al,0x81; rol al,1 -> 0x03, CF=1, OF = MSB^CF = 1; ZF still 1 */
    cr_assert_eq(RUN(0x31, 0xC0, 0xB0, 0x81, 0xD0, 0xC0), -1);
    cr_assert_eq(R(R_EAX) & 0xFF, 0x03);
    uint32_t f = th_flags(h);
    cr_assert(f & EF_CF);
    cr_assert(f & EF_OF);
    cr_assert(f & EF_ZF);
    /* ror al, 8: value unchanged, CF = MSB of the result */
    R(R_EAX) = 0x80;
    cr_assert_eq(RUN(0xC0, 0xC8, 0x08), -1);
    cr_assert_eq(R(R_EAX) & 0xFF, 0x80);
    cr_assert(th_flags(h) & EF_CF);
}

Test(interp, rcl_rcr_rotate_through_carry_modulo_width_plus_one)
{
    /* stc; mov al, 0; rcl al, 1 -> 1, CF=0 */
    cr_assert_eq(RUN(0xF9, 0xB0, 0x00, 0xD0, 0xD0), -1);
    cr_assert_eq(R(R_EAX) & 0xFF, 1);
    cr_assert_not(th_flags(h) & EF_CF);
    /* stc; mov al, 0x55; rcl al, 9 (9 mod 9 = 0): unchanged, CF unchanged */
    cr_assert_eq(RUN(0xF9, 0xB0, 0x55, 0xC0, 0xD0, 0x09), -1);
    cr_assert_eq(R(R_EAX) & 0xFF, 0x55);
    cr_assert(th_flags(h) & EF_CF);
    /* clc; mov al, 1; rcr al, 1 -> 0, CF=1 */
    cr_assert_eq(RUN(0xF8, 0xB0, 0x01, 0xD0, 0xD8), -1);
    cr_assert_eq(R(R_EAX) & 0xFF, 0);
    cr_assert(th_flags(h) & EF_CF);
}

Test(interp, adc_sbb_carry_chain_over_64_bits)
{
    /* EDX:EAX = 0x00000001_FFFFFFFF + 0x00000000_00000001 via add/adc (66-prefixed) */
    R(R_EAX) = 0xFFFFFFFFu;
    R(R_EDX) = 1;
    R(R_EBX) = 1;
    R(R_ECX) = 0;
    cr_assert_eq(RUN(0x66, 0x01, 0xD8, 0x66, 0x11, 0xCA), -1);
    cr_assert_eq(R(R_EAX), 0);
    cr_assert_eq(R(R_EDX), 2);
    cr_assert_not(th_flags(h) & EF_CF);
    /* and back: sub/sbb */
    cr_assert_eq(RUN(0x66, 0x29, 0xD8, 0x66, 0x19, 0xCA), -1);
    cr_assert_eq(R(R_EAX), 0xFFFFFFFFu);
    cr_assert_eq(R(R_EDX), 1);
    cr_assert_not(th_flags(h) & EF_CF);
    /* sbb with borrow in and equal operands borrows: stc; mov al,5; sbb al,5 -> 0xFF CF */
    cr_assert_eq(RUN(0xF9, 0xB0, 0x05, 0x1C, 0x05), -1);
    cr_assert_eq(R(R_EAX) & 0xFF, 0xFF);
    cr_assert(th_flags(h) & EF_CF);
}

Test(interp, div_by_zero_raises_de_with_ip_at_instruction)
{
    R(R_EAX) = 100;
    R(R_EBX) = 0;
    cr_assert_eq(RUN(0xF6, 0xF3), EXC_DE); /* div bl */
    /* The pushed IP is the faulting instruction's, AX unchanged. */
    uint32_t sp = R(R_ESP) & 0xFFFF;
    cr_assert_eq(h->ram[sp] | (h->ram[sp + 1] << 8), TH_CODE);
    cr_assert_eq(R(R_EAX) & 0xFFFF, 100);
}

Test(interp, div_quotient_overflow_raises_de)
{
    R(R_EAX) = 0x1000;
    R(R_EBX) = 2;
    cr_assert_eq(RUN(0xF6, 0xF3), EXC_DE); /* 0x1000 / 2 = 0x800 > 0xFF */
    R(R_EDX) = 1;
    R(R_EAX) = 0;
    R(R_EBX) = 1;
    cr_assert_eq(RUN(0xF7, 0xF3), EXC_DE); /* div bx: 0x10000 / 1 */
}

Test(interp, idiv_limits)
{
    /* -256 / 2 = -128 fits in AL on the P6 */
    R(R_EAX) = 0xFF00;
    R(R_EBX) = 2;
    cr_assert_eq(RUN(0xF6, 0xFB), -1);
    cr_assert_eq(R(R_EAX) & 0xFF, 0x80);
    cr_assert_eq((R(R_EAX) >> 8) & 0xFF, 0);
    /* 256 / 2 = 128 does not */
    R(R_EAX) = 0x0100;
    cr_assert_eq(RUN(0xF6, 0xFB), EXC_DE);
    /* -7 / 2 = -3 rem -1 (truncation toward zero) */
    R(R_EAX) = (uint16_t)-7;
    cr_assert_eq(RUN(0xF6, 0xFB), -1);
    cr_assert_eq(R(R_EAX) & 0xFF, 0xFD);
    cr_assert_eq((R(R_EAX) >> 8) & 0xFF, 0xFF);
    /* 32-bit: INT_MIN / -1 */
    R(R_EDX) = 0xFFFFFFFFu;
    R(R_EAX) = 0x80000000u;
    R(R_EBX) = 0xFFFFFFFFu;
    cr_assert_eq(RUN(0x66, 0xF7, 0xFB), EXC_DE);
}

Test(interp, mul_imul_flags_and_results)
{
    R(R_EAX) = 0x80;
    R(R_EBX) = 2;
    cr_assert_eq(RUN(0xF6, 0xE3), -1); /* mul bl: 0x100 */
    cr_assert_eq(R(R_EAX) & 0xFFFF, 0x100);
    cr_assert(th_flags(h) & EF_CF);
    cr_assert(th_flags(h) & EF_OF);
    R(R_EAX) = 0xFF; /* -1 */
    cr_assert_eq(RUN(0xF6, 0xEB), -1); /* imul bl: -2 fits in AL */
    cr_assert_eq(R(R_EAX) & 0xFFFF, 0xFFFE);
    cr_assert_not(th_flags(h) & EF_CF);
    /* imul cx, bx, 0x4000: 2 * 0x4000 = 0x8000 overflows 16-bit signed */
    cr_assert_eq(RUN(0x69, 0xCB, 0x00, 0x40), -1);
    cr_assert_eq(R(R_ECX) & 0xFFFF, 0x8000);
    cr_assert(th_flags(h) & EF_OF);
}

Test(interp, bcd_daa_das_aaa_aam_aad)
{
    /* mov al,0x19; add al,0x28; daa -> 0x47 */
    cr_assert_eq(RUN(0xB0, 0x19, 0x04, 0x28, 0x27), -1);
    cr_assert_eq(R(R_EAX) & 0xFF, 0x47);
    cr_assert_not(th_flags(h) & EF_CF);
    /* mov al,0x99; add al,1; daa -> 0x00, CF */
    cr_assert_eq(RUN(0xB0, 0x99, 0x04, 0x01, 0x27), -1);
    cr_assert_eq(R(R_EAX) & 0xFF, 0x00);
    cr_assert(th_flags(h) & EF_CF);
    /* mov al,0x10; sub al,1; das -> 0x09 */
    cr_assert_eq(RUN(0xB0, 0x10, 0x2C, 0x01, 0x2F), -1);
    cr_assert_eq(R(R_EAX) & 0xFF, 0x09);
    /* mov ax,0x0009; add al,3; aaa -> AX = 0x0102 */
    cr_assert_eq(RUN(0xB8, 0x09, 0x00, 0x04, 0x03, 0x37), -1);
    cr_assert_eq(R(R_EAX) & 0xFFFF, 0x0102);
    cr_assert(th_flags(h) & EF_CF);
    /* mov al,47; aam -> AH=4 AL=7; aad -> AL=47 */
    cr_assert_eq(RUN(0xB0, 47, 0xD4, 0x0A), -1);
    cr_assert_eq(R(R_EAX) & 0xFFFF, 0x0407);
    cr_assert_eq(RUN(0xD5, 0x0A), -1);
    cr_assert_eq(R(R_EAX) & 0xFFFF, 47);
    /* aam 0 -> #DE */
    cr_assert_eq(RUN(0xD4, 0x00), EXC_DE);
}

Test(interp, rep_movsw_fault_midway_leaves_restartable_state)
{
    /* addr32 rep movsw with EDI running past the 64 KiB real-mode limit: the 5th word
     * faults (#GP); 4 words are copied, ECX/ESI/EDI describe exactly those. */
    R(R_ECX) = 10;
    R(R_ESI) = 0x2000;
    R(R_EDI) = 0xFFF8;
    for (int i = 0; i < 20; i++) {
        h->ram[0x2000 + i] = (uint8_t)(0xA0 + i);
    }
    cr_assert_eq(RUN(0x67, 0xF3, 0xA5), EXC_GP);
    cr_assert_eq(R(R_ECX), 6);
    cr_assert_eq(R(R_ESI), 0x2008);
    cr_assert_eq(R(R_EDI), 0x10000);
    cr_assert_eq(h->ram[0xFFF8], 0xA0);
    cr_assert_eq(h->ram[0xFFFF], 0xA7);
    uint32_t sp = R(R_ESP) & 0xFFFF;
    cr_assert_eq(h->ram[sp] | (h->ram[sp + 1] << 8), TH_CODE, "IP points at the prefix");
}

Test(interp, rep_stos_large_count_completes_and_wraps_16bit_di)
{
    R(R_ECX) = 0x10000 + 5; /* 16-bit address size: CX = 5 only */
    R(R_EDI) = 0xFFFE;
    R(R_EAX) = 0x5A;
    cr_assert_eq(RUN(0xF3, 0xAA), -1);
    cr_assert_eq(R(R_ECX), 0x10000);
    cr_assert_eq(R(R_EDI), 0x0003);
    cr_assert_eq(h->ram[0xFFFE], 0x5A);
    cr_assert_eq(h->ram[0xFFFF], 0x5A);
    cr_assert_eq(h->ram[0x0002], 0x5A);
}

Test(interp, rep_stos_count_beyond_one_step_chunk)
{
    R(R_ECX) = 20000;
    R(R_EDI) = 0x3000;
    R(R_EAX) = 0x11;
    h->cpu->seg[S_ES].base = 0x20000;
    h->cpu->seg[S_ES].sel = 0x2000;
    cr_assert_eq(RUN(0xF3, 0xAA), -1);
    cr_assert_eq(R(R_ECX) & 0xFFFF, 0);
    cr_assert_eq(R(R_EDI) & 0xFFFF, (0x3000 + 20000) & 0xFFFF);
    cr_assert_eq(h->ram[0x23000 + 19999], 0x11);
    cr_assert_eq(h->ram[0x23000 + 20000], 0);
}

Test(interp, repe_cmpsb_stops_at_first_difference)
{
    memcpy(h->ram + 0x2000, "abcdef", 6);
    memcpy(h->ram + 0x3000, "abcXef", 6);
    R(R_ESI) = 0x2000;
    R(R_EDI) = 0x3000;
    R(R_ECX) = 6;
    cr_assert_eq(RUN(0xF3, 0xA6), -1);
    cr_assert_eq(R(R_ECX) & 0xFFFF, 2);
    cr_assert_eq(R(R_ESI) & 0xFFFF, 0x2004);
    cr_assert_not(th_flags(h) & EF_ZF);
    /* repne scasb finds the byte */
    R(R_EDI) = 0x3000;
    R(R_ECX) = 6;
    R(R_EAX) = 'X';
    cr_assert_eq(RUN(0xF2, 0xAE), -1);
    cr_assert_eq(R(R_EDI) & 0xFFFF, 0x3004);
    cr_assert(th_flags(h) & EF_ZF);
}

Test(interp, std_string_moves_backwards)
{
    memcpy(h->ram + 0x2000, "1234", 4);
    R(R_ESI) = 0x2003;
    R(R_EDI) = 0x3003;
    R(R_ECX) = 4;
    cr_assert_eq(RUN(0xFD, 0xF3, 0xA4, 0xFC), -1);
    cr_assert_eq(memcmp(h->ram + 0x3000, "1234", 4), 0);
    cr_assert_eq(R(R_EDI) & 0xFFFF, 0x2FFF);
}

Test(interp, bt_memory_register_offset_addresses_beyond_operand)
{
    /* bts word [0x2000], ax with ax = 35: word at 0x2004, bit 3 */
    R(R_EAX) = 35;
    cr_assert_eq(RUN(0x0F, 0xAB, 0x06, 0x00, 0x20), -1);
    cr_assert_eq(h->ram[0x2004], 0x08);
    cr_assert_not(th_flags(h) & EF_CF);
    /* bt again: CF = 1 */
    cr_assert_eq(RUN(0x0F, 0xA3, 0x06, 0x00, 0x20), -1);
    cr_assert(th_flags(h) & EF_CF);
    /* negative offset: ax = -1 -> word at 0x1FFE, bit 15 */
    R(R_EAX) = 0xFFFF;
    cr_assert_eq(RUN(0x0F, 0xAB, 0x06, 0x00, 0x20), -1);
    cr_assert_eq(h->ram[0x1FFF], 0x80);
    /* the immediate form does not: bt word [0x2000], 35 -> bit 3 of the word at 0x2000 */
    h->ram[0x2000] = 0x08;
    cr_assert_eq(RUN(0x0F, 0xBA, 0x26, 0x00, 0x20, 35), -1);
    cr_assert(th_flags(h) & EF_CF);
}

Test(interp, bsf_bsr_zero_source_sets_zf_and_keeps_destination)
{
    R(R_EBX) = 0;
    R(R_EAX) = 0x1234;
    cr_assert_eq(RUN(0x0F, 0xBC, 0xC3), -1);
    cr_assert(th_flags(h) & EF_ZF);
    cr_assert_eq(R(R_EAX) & 0xFFFF, 0x1234);
    R(R_EBX) = 0x0110;
    cr_assert_eq(RUN(0x0F, 0xBD, 0xC3), -1);
    cr_assert_eq(R(R_EAX) & 0xFFFF, 8);
    cr_assert_eq(RUN(0x0F, 0xBC, 0xC3), -1);
    cr_assert_eq(R(R_EAX) & 0xFFFF, 4);
    cr_assert_not(th_flags(h) & EF_ZF);
}

Test(interp, enter_with_nesting_copies_frame_pointers)
{
    R(R_ESP) = 0x8000;
    R(R_EBP) = 0x7000;
    h->ram[0x6FFE] = 0x11; /* [bp-2] */
    h->ram[0x6FFF] = 0x22;
    h->ram[0x6FFC] = 0x33; /* [bp-4] */
    h->ram[0x6FFD] = 0x44;
    cr_assert_eq(RUN(0xC8, 0x10, 0x00, 0x03), -1); /* enter 16, 3 */
    /* pushed: old BP at 7FFE, [bp-2] at 7FFC, [bp-4] at 7FFA, frame 7FFE at 7FF8 */
    cr_assert_eq(h->ram[0x7FFE] | (h->ram[0x7FFF] << 8), 0x7000);
    cr_assert_eq(h->ram[0x7FFC] | (h->ram[0x7FFD] << 8), 0x2211);
    cr_assert_eq(h->ram[0x7FFA] | (h->ram[0x7FFB] << 8), 0x4433);
    cr_assert_eq(h->ram[0x7FF8] | (h->ram[0x7FF9] << 8), 0x7FFE);
    cr_assert_eq(R(R_EBP) & 0xFFFF, 0x7FFE);
    cr_assert_eq(R(R_ESP) & 0xFFFF, 0x7FF8 - 16);
    /* leave restores */
    cr_assert_eq(RUN(0xC9), -1);
    cr_assert_eq(R(R_EBP) & 0xFFFF, 0x7000);
    cr_assert_eq(R(R_ESP) & 0xFFFF, 0x8000);
}

Test(interp, push_sp_pushes_old_value_pop_sp_loads)
{
    R(R_ESP) = 0x8000;
    cr_assert_eq(RUN(0x54), -1);
    cr_assert_eq(h->ram[0x7FFE] | (h->ram[0x7FFF] << 8), 0x8000);
    cr_assert_eq(R(R_ESP) & 0xFFFF, 0x7FFE);
    cr_assert_eq(RUN(0x5C), -1);
    cr_assert_eq(R(R_ESP) & 0xFFFF, 0x8000);
}

Test(interp, pusha_popa_round_trip_skips_sp)
{
    R(R_EAX) = 1;
    R(R_ECX) = 2;
    R(R_EDX) = 3;
    R(R_EBX) = 4;
    R(R_EBP) = 6;
    R(R_ESI) = 7;
    R(R_EDI) = 8;
    cr_assert_eq(RUN(0x60, 0x31, 0xC0, 0x89, 0xC1, 0x89, 0xC2, 0x89, 0xC3, 0x61), -1);
    cr_assert_eq(R(R_EAX), 1);
    cr_assert_eq(R(R_ECX), 2);
    cr_assert_eq(R(R_EBX), 4);
    cr_assert_eq(R(R_EDI), 8);
    cr_assert_eq(R(R_ESP) & 0xFFFF, 0x8000);
    cr_assert_eq(h->ram[0x8000 - 10] | (h->ram[0x8000 - 9] << 8), 0x8000, "pushed SP");
}

Test(interp, loop_uses_address_size_counter_and_jcxz)
{
    /* mov cx,3; xor ax,ax; l: inc ax; loop l */
    cr_assert_eq(RUN(0xB9, 0x03, 0x00, 0x31, 0xC0, 0x40, 0xE2, 0xFD), -1);
    cr_assert_eq(R(R_EAX) & 0xFFFF, 3);
    cr_assert_eq(R(R_ECX) & 0xFFFF, 0);
    /* ECX = 0x10000: CX = 0 so jcxz jumps over the inc */
    R(R_ECX) = 0x10000;
    cr_assert_eq(RUN(0xE3, 0x01, 0x40), -1);
    cr_assert_eq(R(R_EAX) & 0xFFFF, 3);
}

Test(interp, cmpxchg_xadd_and_cmpxchg8b)
{
    R(R_EAX) = 5;
    R(R_EBX) = 5;
    R(R_ECX) = 9;
    cr_assert_eq(RUN(0x0F, 0xB1, 0xCB), -1); /* cmpxchg bx, cx: equal -> bx = 9 */
    cr_assert_eq(R(R_EBX) & 0xFFFF, 9);
    cr_assert(th_flags(h) & EF_ZF);
    cr_assert_eq(RUN(0x0F, 0xB1, 0xCB), -1); /* not equal -> ax = 9 */
    cr_assert_eq(R(R_EAX) & 0xFFFF, 9);
    cr_assert_eq(RUN(0x0F, 0xC1, 0xCB), -1); /* xadd bx, cx: bx = 18, cx = 9 */
    cr_assert_eq(R(R_EBX) & 0xFFFF, 18);
    cr_assert_eq(R(R_ECX) & 0xFFFF, 9);
    memset(h->ram + 0x2000, 0, 8);
    R(R_EAX) = 0;
    R(R_EDX) = 0;
    R(R_EBX) = 0x11223344;
    R(R_ECX) = 0x55667788;
    cr_assert_eq(RUN(0x0F, 0xC7, 0x0E, 0x00, 0x20), -1);
    cr_assert(th_flags(h) & EF_ZF);
    cr_assert_eq(h->ram[0x2000], 0x44);
    cr_assert_eq(h->ram[0x2007], 0x55);
}

Test(interp, x87_raises_nm_with_em_and_ud_without)
{
    h->cpu->cr0 |= CR0_EM;
    cr_assert_eq(RUN(0xD9, 0xE8), EXC_NM); /* fld1 */
    h->cpu->cr0 &= ~(uint32_t)CR0_EM;
    cr_assert_eq(RUN(0x0F, 0x0B), EXC_UD); /* ud2 */
}

Test(interp, salc_and_lahf_sahf)
{
    cr_assert_eq(RUN(0xF9, 0xD6), -1);
    cr_assert_eq(R(R_EAX) & 0xFF, 0xFF);
    cr_assert_eq(RUN(0xF8, 0xD6), -1);
    cr_assert_eq(R(R_EAX) & 0xFF, 0x00);
    R(R_EAX) = 0xD500; /* SF ZF AF PF CF */
    cr_assert_eq(RUN(0x9E, 0xB4, 0x00, 0x9F), -1);
    cr_assert_eq((R(R_EAX) >> 8) & 0xFF, 0xD7);
}

Test(interp, self_modifying_code_is_seen)
{
    /* Run nops at 0x1000-0x1006 so they are decoded and cached, then overwrite the one at
     * 0x1006 with INC AX from the instruction before it. */
    R(R_EAX) = 0;
    cr_assert_eq(RUN(0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90), -1);
    cr_assert_eq(RUN(0xC6, 0x06, 0x06, 0x10, 0x40, 0x90, 0x90), -1);
    cr_assert_eq(R(R_EAX) & 0xFFFF, 1);
    /* New code loaded over cached code runs as written. */
    cr_assert_eq(RUN(0x48), -1);
    cr_assert_eq(R(R_EAX) & 0xFFFF, 0);
}
