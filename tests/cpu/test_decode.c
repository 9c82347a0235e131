/* test_decode.c: focused tests of the IA-32 decoder: prefixes, addressing forms, immediates,
 * #UD rules, the 15-byte limit and truncated buffers. */
#include "translate/decode.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

/* BYTES(...): a byte array literal and its length, for dec(). */
#define BYTES(...) (const uint8_t[]){__VA_ARGS__}, (unsigned)sizeof((const uint8_t[]){__VA_ARGS__})

static int dec(bool code32, const uint8_t *b, unsigned n, DecodedInsn *d)
{
    DecodeEnv env = {.bytes = b, .avail = n, .code32 = code32};
    return x86_decode(&env, d);
}

/* ---- prefixes ---------------------------------------------------------------------------- */

Test(decode, prefixes_in_any_order_give_the_same_instruction)
{
    /* lock add word cs:[eax], ax in all six orders of 66, F0, 2E. */
    static const uint8_t orders[6][3] = {
        {0x66, 0xF0, 0x2E}, {0x66, 0x2E, 0xF0}, {0xF0, 0x66, 0x2E},
        {0xF0, 0x2E, 0x66}, {0x2E, 0x66, 0xF0}, {0x2E, 0xF0, 0x66},
    };
    for (int i = 0; i < 6; i++) {
        uint8_t b[5] = {orders[i][0], orders[i][1], orders[i][2], 0x01, 0x00};
        DecodedInsn d;
        cr_assert_eq(dec(true, b, 5, &d), 5, "order %d", i);
        cr_assert_eq(d.op, 0x01);
        cr_assert_eq(d.nprefix, 3);
        cr_assert_eq(d.opsize, 2);
        cr_assert_eq(d.addrsize, 4);
        cr_assert_eq(d.seg_override, SEG_CS);
        cr_assert_eq(d.seg, SEG_CS);
        cr_assert(d.flags & DI_LOCK);
        cr_assert(d.flags & DI_MEM);
        cr_assert_eq(d.base, 0);
    }
}

Test(decode, worked_example_from_the_decoder_overview)
{
    DecodedInsn d;
    cr_assert_eq(dec(true, BYTES(0x66, 0xF0, 0x83, 0x44, 0x9E, 0x08, 0xFF), &d), 7);
    cr_assert_eq(d.op, 0x83);
    cr_assert_eq(d.nprefix, 2);
    cr_assert_eq(d.opsize, 2);
    cr_assert_eq(d.reg, 0);
    cr_assert(d.flags & DI_LOCK);
    cr_assert_eq(d.base, 6);
    cr_assert_eq(d.index, 3);
    cr_assert_eq(d.scale, 2);
    cr_assert_eq(d.disp, 8);
    cr_assert_eq(d.imm, 0xFFFFFFFF);
    cr_assert_eq(d.seg, SEG_DS);
    cr_assert_str_eq(x86_decode_mnemonic(&d), "ADD");
}

Test(decode, last_segment_and_last_repeat_prefix_win)
{
    DecodedInsn d;
    cr_assert_eq(dec(true, BYTES(0x26, 0x64, 0x8B, 0x03), &d), 4);
    cr_assert_eq(d.seg_override, SEG_FS);
    cr_assert_eq(d.seg, SEG_FS);
    cr_assert_eq(dec(true, BYTES(0xF3, 0xF2, 0xA6), &d), 3);
    cr_assert_eq(d.rep, REP_F2);
    cr_assert_eq(dec(true, BYTES(0xF2, 0xF3, 0xA6), &d), 3);
    cr_assert_eq(d.rep, REP_F3);
    cr_assert_eq(d.seg, SEG_DS, "string source defaults to DS");
    cr_assert_eq(dec(true, BYTES(0x90), &d), 1);
    cr_assert_eq(d.rep, REP_NONE);
    cr_assert_eq(d.seg_override, SEG_NONE);
}

Test(decode, repeated_prefixes_count_and_toggle_once)
{
    DecodedInsn d;
    /* 66 66 in 32-bit code still means 16-bit operands, 67 67 16-bit addresses. */
    cr_assert_eq(dec(true, BYTES(0x66, 0x66, 0x67, 0x67, 0xB8, 0x34, 0x12), &d), 7);
    cr_assert_eq(d.nprefix, 4);
    cr_assert_eq(d.opsize, 2);
    cr_assert_eq(d.addrsize, 2);
    cr_assert_eq(d.imm, 0x1234);
    /* In 16-bit code the same prefixes select 32 bits. */
    cr_assert_eq(dec(false, BYTES(0x66, 0xB8, 0x78, 0x56, 0x34, 0x12), &d), 6);
    cr_assert_eq(d.opsize, 4);
    cr_assert_eq(d.imm, 0x12345678);
}

/* ---- 16-bit addressing --------------------------------------------------------------------- */

Test(decode, sixteen_bit_addressing_modes)
{
    static const int8_t base[8] = {3, 3, 5, 5, 6, 7, 5, 3};
    static const int8_t index[8] = {6, 7, 6, 7, -1, -1, -1, -1};
    for (unsigned mod = 0; mod < 3; mod++) {
        for (unsigned rm = 0; rm < 8; rm++) {
            /* mov ax, [modrm] with a disp16 of 0x8001 available. */
            uint8_t b[4] = {0x8B, (uint8_t)(mod << 6 | rm), 0x01, 0x80};
            DecodedInsn d;
            int len = dec(false, b, 4, &d);
            bool disp16_only = mod == 0 && rm == 6;
            int want_len = 2 + (disp16_only ? 2 : mod == 1 ? 1 : mod == 2 ? 2 : 0);
            cr_assert_eq(len, want_len, "mod %u rm %u", mod, rm);
            cr_assert_eq(d.addrsize, 2);
            cr_assert(d.flags & DI_MEM);
            cr_assert_eq(d.base, disp16_only ? -1 : base[rm], "mod %u rm %u", mod, rm);
            cr_assert_eq(d.index, disp16_only ? -1 : index[rm]);
            cr_assert_eq(d.scale, 0);
            uint32_t want_disp = (disp16_only || mod == 2) ? 0xFFFF8001u : mod == 1 ? 1 : 0;
            cr_assert_eq(d.disp, want_disp, "mod %u rm %u disp %x", mod, rm, d.disp);
            cr_assert_eq(d.dispsize, disp16_only ? 2 : mod == 1 ? 1 : mod == 2 ? 2 : 0);
            /* BP-based forms use SS; [disp16] does not. */
            int want_seg = (!disp16_only && base[rm] == 5) ? SEG_SS : SEG_DS;
            cr_assert_eq(d.seg, want_seg, "mod %u rm %u", mod, rm);
        }
    }
}

Test(decode, segment_override_beats_bp_default)
{
    DecodedInsn d;
    cr_assert_eq(dec(false, BYTES(0x3E, 0x8B, 0x46, 0x04), &d), 4); /* mov ax, ds:[bp+4] */
    cr_assert_eq(d.seg, SEG_DS);
    cr_assert_eq(d.seg_override, SEG_DS);
    cr_assert_eq(d.base, 5);
    cr_assert_eq(d.disp, 4);
}

Test(decode, address_size_prefix_switches_addressing_form)
{
    DecodedInsn d;
    /* 16-bit code, 67: mov eax-less 32-bit form [eax+ecx*2+0x10] via SIB. */
    cr_assert_eq(dec(false, BYTES(0x67, 0x8B, 0x44, 0x48, 0x10), &d), 5);
    cr_assert_eq(d.addrsize, 4);
    cr_assert_eq(d.base, 0);
    cr_assert_eq(d.index, 1);
    cr_assert_eq(d.scale, 1);
    cr_assert_eq(d.disp, 0x10);
    /* 32-bit code, 67: [bx+si]. */
    cr_assert_eq(dec(true, BYTES(0x67, 0x8B, 0x00), &d), 3);
    cr_assert_eq(d.addrsize, 2);
    cr_assert_eq(d.base, 3);
    cr_assert_eq(d.index, 6);
}

/* ---- 32-bit addressing ---------------------------------------------------------------------- */

Test(decode, sib_without_base_takes_disp32)
{
    DecodedInsn d;
    /* mov eax, [ecx*4+0x12345678] */
    cr_assert_eq(dec(true, BYTES(0x8B, 0x04, 0x8D, 0x78, 0x56, 0x34, 0x12), &d), 7);
    cr_assert_eq(d.base, -1);
    cr_assert_eq(d.index, 1);
    cr_assert_eq(d.scale, 2);
    cr_assert_eq(d.disp, 0x12345678);
    cr_assert_eq(d.dispsize, 4);
    cr_assert_eq(d.seg, SEG_DS, "no base: DS even with EBP as index");
    /* mov eax, [ebp*1+disp32]: index EBP, still DS. */
    cr_assert_eq(dec(true, BYTES(0x8B, 0x04, 0x2D, 0, 0, 0, 0), &d), 7);
    cr_assert_eq(d.index, 5);
    cr_assert_eq(d.seg, SEG_DS);
}

Test(decode, sib_forms_and_stack_segment)
{
    DecodedInsn d;
    /* mov eax, [esp] : SIB 24, no index, SS. */
    cr_assert_eq(dec(true, BYTES(0x8B, 0x04, 0x24), &d), 3);
    cr_assert_eq(d.base, 4);
    cr_assert_eq(d.index, -1);
    cr_assert_eq(d.seg, SEG_SS);
    /* mov eax, [ebp+esi*8-4] : mod 1, SIB F5, SS. */
    cr_assert_eq(dec(true, BYTES(0x8B, 0x44, 0xF5, 0xFC), &d), 4);
    cr_assert_eq(d.base, 5);
    cr_assert_eq(d.index, 6);
    cr_assert_eq(d.scale, 3);
    cr_assert_eq(d.disp, 0xFFFFFFFC);
    cr_assert_eq(d.seg, SEG_SS);
    /* mov eax, [disp32] : mod 0 rm 5. */
    cr_assert_eq(dec(true, BYTES(0x8B, 0x05, 0x00, 0x10, 0x00, 0x00), &d), 6);
    cr_assert_eq(d.base, -1);
    cr_assert_eq(d.index, -1);
    cr_assert_eq(d.disp, 0x1000);
    /* mov eax, ecx : register form, no address. */
    cr_assert_eq(dec(true, BYTES(0x8B, 0xC1), &d), 2);
    cr_assert_eq(d.flags & DI_MEM, 0);
    cr_assert_eq(d.mod, 3);
    cr_assert_eq(d.reg, 0);
    cr_assert_eq(d.rm, 1);
    cr_assert_eq(d.base, -1);
}

/* ---- moffs, far pointers, ENTER ------------------------------------------------------------ */

Test(decode, moffs_width_follows_address_size)
{
    DecodedInsn d;
    cr_assert_eq(dec(true, BYTES(0xA1, 0x78, 0x56, 0x34, 0x12), &d), 5);
    cr_assert_eq(d.disp, 0x12345678);
    cr_assert_eq(d.dispsize, 4);
    cr_assert_eq(d.flags & (DI_MEM | DI_MOFFS), DI_MEM | DI_MOFFS);
    cr_assert_eq(d.base, -1);
    cr_assert_eq(d.index, -1);
    /* 67 in 32-bit code: 16-bit offset, operand size unchanged. */
    cr_assert_eq(dec(true, BYTES(0x67, 0xA1, 0x34, 0x12), &d), 4);
    cr_assert_eq(d.disp, 0x1234);
    cr_assert_eq(d.opsize, 4);
    /* 16-bit code, and 66 does not change the offset width. */
    cr_assert_eq(dec(false, BYTES(0x66, 0xA3, 0x34, 0x12), &d), 4);
    cr_assert_eq(d.disp, 0x1234);
    cr_assert_eq(d.opsize, 4);
    cr_assert_eq(dec(false, BYTES(0x67, 0x2E, 0xA0, 0x78, 0x56, 0x34, 0x12), &d), 7);
    cr_assert_eq(d.disp, 0x12345678);
    cr_assert_eq(d.seg, SEG_CS);
    /* A high 16-bit offset is not sign-extended (it is an address, not a displacement). */
    cr_assert_eq(dec(false, BYTES(0xA0, 0x00, 0x80), &d), 3);
    cr_assert_eq(d.disp, 0x8000);
}

Test(decode, far_pointer_offset_then_selector)
{
    DecodedInsn d;
    cr_assert_eq(dec(true, BYTES(0x9A, 0x78, 0x56, 0x34, 0x12, 0x08, 0x00), &d), 7);
    cr_assert_eq(d.op, 0x9A);
    cr_assert_eq(d.imm, 0x12345678);
    cr_assert_eq(d.imm2, 0x0008);
    cr_assert_eq(dec(false, BYTES(0xEA, 0x34, 0x12, 0x00, 0xF0), &d), 5);
    cr_assert_eq(d.imm, 0x1234);
    cr_assert_eq(d.imm2, 0xF000);
    cr_assert_eq(dec(false, BYTES(0x66, 0xEA, 0x78, 0x56, 0x34, 0x12, 0x10, 0x00), &d), 8);
    cr_assert_eq(d.imm, 0x12345678);
    cr_assert_eq(d.imm2, 0x10);
    /* 67 does not change a far pointer. */
    cr_assert_eq(dec(true, BYTES(0x67, 0xEA, 0x78, 0x56, 0x34, 0x12, 0x10, 0x00), &d), 8);
}

Test(decode, enter_size_and_level)
{
    DecodedInsn d;
    cr_assert_eq(dec(true, BYTES(0xC8, 0x34, 0x82, 0x05), &d), 4);
    cr_assert_eq(d.imm, 0x8234, "16-bit size is zero-extended");
    cr_assert_eq(d.imm2, 5);
    cr_assert_eq(d.immsize, 2);
    cr_assert_eq(dec(false, BYTES(0x66, 0xC8, 0x10, 0x00, 0x01), &d), 5, "66 changes nothing");
}

/* ---- immediates and groups ------------------------------------------------------------------ */

Test(decode, test_group_f6_f7_reg0_and_reg1_take_an_immediate)
{
    DecodedInsn d;
    for (uint8_t reg = 0; reg < 8; reg++) {
        uint8_t b[6] = {0xF6, (uint8_t)(0xC0 | reg << 3), 0xAA, 0xBB, 0xCC, 0xDD};
        cr_assert_eq(dec(true, b, 6, &d), reg < 2 ? 3 : 2, "F6 /%u", reg);
        b[0] = 0xF7;
        cr_assert_eq(dec(true, b, 6, &d), reg < 2 ? 6 : 2, "F7 /%u", reg);
        cr_assert_eq(dec(false, b, 6, &d), reg < 2 ? 4 : 2, "F7 /%u 16-bit", reg);
    }
    cr_assert_eq(dec(true, BYTES(0xF7, 0xC1, 0x78, 0x56, 0x34, 0x12), &d), 6);
    cr_assert_eq(d.imm, 0x12345678);
}

Test(decode, alu_group_immediates_and_sign_extension)
{
    DecodedInsn d;
    cr_assert_eq(dec(true, BYTES(0x80, 0xC1, 0xFF), &d), 3);
    cr_assert_eq(d.imm, 0xFF, "Ib is zero-extended");
    cr_assert_eq(dec(true, BYTES(0x81, 0xC1, 0xFF, 0xFF, 0xFF, 0x7F), &d), 6);
    cr_assert_eq(d.imm, 0x7FFFFFFF);
    cr_assert_eq(dec(false, BYTES(0x81, 0xC1, 0xFF, 0x80), &d), 4);
    cr_assert_eq(d.imm, 0x80FF, "Iw is zero-extended");
    cr_assert_eq(dec(true, BYTES(0x83, 0xC1, 0xFF), &d), 3);
    cr_assert_eq(d.imm, 0xFFFFFFFF, "83 Ib is sign-extended");
    cr_assert_eq(d.immsize, 1);
    cr_assert_eq(dec(true, BYTES(0x82, 0x38, 0x01), &d), 3);
    cr_assert_eq(d.reg, 7);
    cr_assert_eq(dec(true, BYTES(0x6A, 0x80), &d), 2);
    cr_assert_eq(d.imm, 0xFFFFFF80);
    cr_assert_eq(dec(true, BYTES(0x6B, 0xC0, 0x80), &d), 3);
    cr_assert_eq(d.imm, 0xFFFFFF80);
    cr_assert_eq(dec(true, BYTES(0x69, 0xC0, 0x00, 0x00, 0x00, 0x80), &d), 6);
    cr_assert_eq(d.imm, 0x80000000);
    cr_assert_eq(dec(true, BYTES(0xC1, 0xE0, 0x1F), &d), 3);
    cr_assert_eq(d.imm, 0x1F);
    cr_assert_eq(dec(true, BYTES(0xD1, 0xE0), &d), 2);
    cr_assert_eq(d.immsize, 0);
    cr_assert_eq(dec(true, BYTES(0xC6, 0x00, 0x80), &d), 3);
    cr_assert_eq(d.imm, 0x80);
    cr_assert_eq(dec(false, BYTES(0xC7, 0x06, 0x00, 0x10, 0x34, 0x12), &d), 6);
    cr_assert_eq(d.disp, 0x1000);
    cr_assert_eq(d.imm, 0x1234);
    cr_assert_eq(dec(true, BYTES(0x0F, 0xBA, 0xE0, 0x05), &d), 4);
    cr_assert_eq(d.op, 0x1BA);
    cr_assert_eq(d.imm, 5);
}

Test(decode, relative_branches_are_sign_extended)
{
    DecodedInsn d;
    cr_assert_eq(dec(true, BYTES(0xEB, 0xFE), &d), 2);
    cr_assert_eq(d.imm, 0xFFFFFFFE);
    cr_assert_eq(dec(true, BYTES(0xE8, 0xFB, 0xFF, 0xFF, 0xFF), &d), 5);
    cr_assert_eq(d.imm, 0xFFFFFFFB);
    cr_assert_eq(dec(false, BYTES(0xE9, 0x00, 0x80), &d), 3);
    cr_assert_eq(d.imm, 0xFFFF8000);
    cr_assert_eq(dec(true, BYTES(0x0F, 0x84, 0x10, 0x00, 0x00, 0x00), &d), 6);
    cr_assert_eq(d.op, 0x184);
    cr_assert_eq(d.imm, 0x10);
    cr_assert_eq(dec(true, BYTES(0x66, 0x0F, 0x85, 0xF0, 0xFF), &d), 5);
    cr_assert_eq(d.imm, 0xFFFFFFF0);
    cr_assert_eq(dec(true, BYTES(0xE3, 0x05), &d), 2);
    cr_assert_eq(dec(true, BYTES(0xC2, 0x08, 0x80), &d), 3);
    cr_assert_eq(d.imm, 0x8008, "RET Iw is zero-extended");
}

Test(decode, register_in_opcode_and_no_modrm_fields)
{
    DecodedInsn d;
    cr_assert_eq(dec(true, BYTES(0x57), &d), 1);
    cr_assert_eq(d.op, 0x57);
    cr_assert_eq(d.flags, 0);
    cr_assert_eq(d.base, -1);
    cr_assert_eq(d.index, -1);
    cr_assert_eq(dec(true, BYTES(0x0F, 0xC9), &d), 2);
    cr_assert_eq(d.op, 0x1C9);
    cr_assert_eq(dec(true, BYTES(0xB3, 0x7F), &d), 2);
    cr_assert_eq(d.imm, 0x7F);
}

/* ---- SIMD, x87, system forms ------------------------------------------------------------- */

Test(decode, mandatory_prefix_selects_simd_form)
{
    DecodedInsn d;
    cr_assert_eq(dec(true, BYTES(0x0F, 0x10, 0xC1), &d), 3);
    cr_assert_eq(d.simd_prefix, 0);
    cr_assert_str_eq(x86_decode_mnemonic(&d), "MOVUPS");
    cr_assert(d.flags & DI_SSE);
    cr_assert_eq(dec(true, BYTES(0x66, 0x0F, 0x10, 0xC1), &d), 4);
    cr_assert_eq(d.simd_prefix, 0x66);
    cr_assert_str_eq(x86_decode_mnemonic(&d), "MOVUPD");
    cr_assert_eq(dec(true, BYTES(0xF3, 0x66, 0x0F, 0x10, 0xC1), &d), 5);
    cr_assert_eq(d.simd_prefix, 0xF3, "F3 beats 66");
    cr_assert_str_eq(x86_decode_mnemonic(&d), "MOVSS");
    cr_assert_eq(dec(true, BYTES(0xF3, 0xF2, 0x0F, 0x10, 0xC1), &d), 5);
    cr_assert_eq(d.simd_prefix, 0xF2, "the last of F2/F3 wins");
    cr_assert_str_eq(x86_decode_mnemonic(&d), "MOVSD");
    /* Non-SIMD opcodes leave simd_prefix at 0. */
    cr_assert_eq(dec(true, BYTES(0x66, 0x01, 0xC0), &d), 3);
    cr_assert_eq(d.simd_prefix, 0);
}

Test(decode, mmx_and_sse_flags)
{
    DecodedInsn d;
    cr_assert_eq(dec(true, BYTES(0x0F, 0xFE, 0xC1), &d), 3); /* paddd mm0, mm1 */
    cr_assert_eq(d.flags & (DI_MMX | DI_SSE), DI_MMX);
    cr_assert_eq(dec(true, BYTES(0x66, 0x0F, 0xFE, 0xC1), &d), 4); /* paddd xmm0, xmm1 */
    cr_assert_eq(d.flags & (DI_MMX | DI_SSE), DI_SSE);
    cr_assert_eq(dec(true, BYTES(0x0F, 0x2A, 0xC1), &d), 3); /* cvtpi2ps xmm0, mm1 */
    cr_assert_eq(d.flags & (DI_MMX | DI_SSE), DI_MMX | DI_SSE);
    cr_assert_eq(dec(true, BYTES(0x0F, 0x70, 0xC1, 0x1B), &d), 4); /* pshufw mm0, mm1, 1B */
    cr_assert_eq(d.flags & (DI_MMX | DI_SSE), DI_MMX);
    cr_assert_eq(d.imm, 0x1B);
    cr_assert_eq(dec(true, BYTES(0x0F, 0xAE, 0x10), &d), 3); /* ldmxcsr [eax] */
    cr_assert(d.flags & DI_SSE);
    cr_assert_eq(dec(true, BYTES(0x0F, 0x77), &d), 2); /* emms */
    cr_assert(d.flags & DI_MMX);
    cr_assert_eq(dec(true, BYTES(0x66, 0x0F, 0x73, 0xD8, 0x04), &d), 5); /* psrldq xmm0, 4 */
    cr_assert_str_eq(x86_decode_mnemonic(&d), "PSRLDQ");
}

Test(decode, x87_forms)
{
    DecodedInsn d;
    cr_assert_eq(dec(true, BYTES(0xD9, 0xD0), &d), 2); /* fnop */
    cr_assert(d.flags & DI_X87);
    cr_assert_str_eq(x86_decode_mnemonic(&d), "FNOP");
    cr_assert_eq(dec(true, BYTES(0xDD, 0x05, 0, 0, 0, 0), &d), 6); /* fld qword [disp32] */
    cr_assert(d.flags & DI_MEM);
    cr_assert_str_eq(x86_decode_mnemonic(&d), "FLD");
    cr_assert_eq(dec(true, BYTES(0xDF, 0xE0), &d), 2); /* fnstsw ax */
    cr_assert_eq(dec(true, BYTES(0xDA, 0xE9), &d), 2); /* fucompp */
    cr_assert_eq(dec(true, BYTES(0xDB, 0xF1), &d), 2); /* fcomi st, st(1) */
    cr_assert_eq(dec(true, BYTES(0xDE, 0xD9), &d), 2); /* fcompp */
    cr_assert_eq(dec(true, BYTES(0xD9, 0xD1), &d), -DECODE_UD);
    cr_assert_eq(dec(true, BYTES(0xD9, 0xE2), &d), -DECODE_UD);
    cr_assert_eq(dec(true, BYTES(0xDA, 0xE8), &d), -DECODE_UD);
    cr_assert_eq(dec(true, BYTES(0xDE, 0xD8), &d), -DECODE_UD);
    cr_assert_eq(dec(true, BYTES(0xDF, 0xE1), &d), -DECODE_UD);
    cr_assert_eq(dec(true, BYTES(0xD9, 0x08), &d), -DECODE_UD, "D9 /1 memory is reserved");
    cr_assert_eq(dec(true, BYTES(0xDB, 0x08), &d), -DECODE_UD, "FISTTP is SSE3");
    cr_assert_eq(dec(true, BYTES(0xDD, 0x08), &d), -DECODE_UD, "FISTTP is SSE3");
    cr_assert_eq(dec(true, BYTES(0xDF, 0x08), &d), -DECODE_UD, "FISTTP is SSE3");
}

Test(decode, mov_cr_ignores_mod_and_rejects_missing_registers)
{
    DecodedInsn d;
    cr_assert_eq(dec(true, BYTES(0x0F, 0x20, 0x00), &d), 3, "mod 0 still names EAX");
    cr_assert_eq(d.flags & DI_MEM, 0);
    cr_assert_eq(d.base, -1);
    cr_assert_eq(d.reg, 0);
    cr_assert_eq(d.rm, 0);
    cr_assert_eq(dec(true, BYTES(0x0F, 0x22, 0x5D), &d), 3, "no displacement either");
    cr_assert_eq(d.reg, 3);
    cr_assert_eq(dec(true, BYTES(0x0F, 0x20, 0xC8), &d), -DECODE_UD, "CR1");
    cr_assert_eq(dec(true, BYTES(0x0F, 0x22, 0xE8), &d), -DECODE_UD, "CR5");
    cr_assert_eq(dec(true, BYTES(0x0F, 0x21, 0xF8), &d), 3, "DR7");
}

Test(decode, ud2_decodes_as_an_instruction)
{
    DecodedInsn d;
    cr_assert_eq(dec(true, BYTES(0x0F, 0x0B), &d), 2);
    cr_assert_eq(d.op, 0x10B);
}

/* ---- #UD rules ------------------------------------------------------------------------------ */

Test(decode, undefined_opcodes_are_ud)
{
    static const uint8_t undefined_0f[] = {0x04, 0x05, 0x07, 0x0A, 0x0C, 0x0D, 0x0E, 0x0F,
                                           0x24, 0x25, 0x26, 0x27, 0x36, 0x37, 0x39, 0x3B,
                                           0x78, 0x79, 0xA6, 0xA7, 0xB8, 0xB9, 0xFF};
    DecodedInsn d;
    for (unsigned i = 0; i < sizeof(undefined_0f); i++) {
        uint8_t b[8] = {0x0F, undefined_0f[i], 0xC0, 0, 0, 0, 0, 0};
        cr_assert_eq(dec(true, b, 8, &d), -DECODE_UD, "0F %02X", undefined_0f[i]);
    }
    /* SSSE3+ three-byte maps and SSE3 forms are #UD for this CPU class. */
    cr_assert_eq(dec(true, BYTES(0x0F, 0x38, 0x00, 0xC0), &d), -DECODE_UD);
    cr_assert_eq(dec(true, BYTES(0x66, 0x0F, 0x3A, 0x0F, 0xC0, 0x01), &d), -DECODE_UD);
    cr_assert_eq(dec(true, BYTES(0xF2, 0x0F, 0x7C, 0xC0), &d), -DECODE_UD); /* haddps */
    cr_assert_eq(dec(true, BYTES(0xF2, 0x0F, 0xF0, 0x00), &d), -DECODE_UD); /* lddqu */
    /* SIMD opcodes without a form for the given prefix. */
    cr_assert_eq(dec(true, BYTES(0x0F, 0xD6, 0xC0), &d), -DECODE_UD);
    cr_assert_eq(dec(true, BYTES(0xF2, 0x0F, 0x28, 0xC0), &d), -DECODE_UD);
    cr_assert_eq(dec(true, BYTES(0x66, 0x0F, 0x77), &d), -DECODE_UD);
    /* Undefined group members. */
    cr_assert_eq(dec(true, BYTES(0x8F, 0xC8), &d), -DECODE_UD);
    cr_assert_eq(dec(true, BYTES(0xFE, 0xD0), &d), -DECODE_UD);
    cr_assert_eq(dec(true, BYTES(0xFF, 0xF8), &d), -DECODE_UD);
    cr_assert_eq(dec(true, BYTES(0xC6, 0xF8, 0x00), &d), -DECODE_UD);
    cr_assert_eq(dec(true, BYTES(0x0F, 0x00, 0xF0), &d), -DECODE_UD);
    cr_assert_eq(dec(true, BYTES(0x0F, 0x01, 0xE8), &d), -DECODE_UD);
    cr_assert_eq(dec(true, BYTES(0x0F, 0xBA, 0xE0 - 0x20, 0x01), &d), -DECODE_UD); /* /0 */
    cr_assert_eq(dec(true, BYTES(0x0F, 0xC7, 0x00), &d), -DECODE_UD);
    cr_assert_eq(dec(true, BYTES(0x0F, 0x71, 0xC8, 0x01), &d), -DECODE_UD); /* /1 */
    cr_assert_eq(dec(true, BYTES(0x0F, 0x73, 0xD8, 0x01), &d), -DECODE_UD, "PSRLDQ needs 66");
}

Test(decode, memory_only_forms_with_a_register_are_ud)
{
    DecodedInsn d;
    cr_assert_eq(dec(true, BYTES(0x8D, 0xC0), &d), -DECODE_UD, "LEA reg");
    cr_assert_eq(dec(true, BYTES(0xC4, 0xC0), &d), -DECODE_UD, "LES reg");
    cr_assert_eq(dec(true, BYTES(0xC5, 0xC0), &d), -DECODE_UD, "LDS reg");
    cr_assert_eq(dec(true, BYTES(0x0F, 0xB2, 0xC0), &d), -DECODE_UD, "LSS reg");
    cr_assert_eq(dec(true, BYTES(0x0F, 0xB4, 0xC0), &d), -DECODE_UD, "LFS reg");
    cr_assert_eq(dec(true, BYTES(0x0F, 0xB5, 0xC0), &d), -DECODE_UD, "LGS reg");
    cr_assert_eq(dec(true, BYTES(0x62, 0xC0), &d), -DECODE_UD, "BOUND reg");
    cr_assert_eq(dec(true, BYTES(0x0F, 0xC7, 0xC8), &d), -DECODE_UD, "CMPXCHG8B reg");
    for (uint8_t reg = 0; reg < 4; reg++) {
        uint8_t b[3] = {0x0F, 0x01, (uint8_t)(0xC0 | reg << 3)};
        cr_assert_eq(dec(true, b, 3, &d), -DECODE_UD, "0F 01 /%u reg", reg);
    }
    cr_assert_eq(dec(true, BYTES(0x0F, 0x01, 0xF8), &d), -DECODE_UD, "INVLPG reg");
    cr_assert_eq(dec(true, BYTES(0xFF, 0xD8), &d), -DECODE_UD, "CALLF reg");
    cr_assert_eq(dec(true, BYTES(0xFF, 0xE8), &d), -DECODE_UD, "JMPF reg");
    cr_assert_eq(dec(true, BYTES(0x0F, 0x2B, 0xC0), &d), -DECODE_UD, "MOVNTPS reg");
    /* ...and the memory forms decode. */
    cr_assert_eq(dec(true, BYTES(0x8D, 0x40, 0x01), &d), 3);
    cr_assert_eq(dec(true, BYTES(0x0F, 0x01, 0x10), &d), 3, "LGDT [eax]");
    cr_assert_eq(dec(true, BYTES(0x0F, 0x01, 0xE0), &d), 3, "SMSW eax");
    cr_assert_eq(dec(true, BYTES(0x0F, 0xC7, 0x08), &d), 3, "CMPXCHG8B [eax]");
    /* Register-only forms with memory are #UD too. */
    cr_assert_eq(dec(true, BYTES(0x0F, 0x50, 0x00), &d), -DECODE_UD, "MOVMSKPS mem");
    cr_assert_eq(dec(true, BYTES(0x0F, 0xF7, 0x00), &d), -DECODE_UD, "MASKMOVQ mem");
    cr_assert_eq(dec(true, BYTES(0x0F, 0x71, 0x10, 0x01), &d), -DECODE_UD, "PSRLW mem, imm");
}

Test(decode, lock_rules)
{
    DecodedInsn d;
    cr_assert_eq(dec(true, BYTES(0xF0, 0x01, 0x00), &d), 3, "lock add [eax], eax");
    cr_assert(d.flags & DI_LOCK);
    cr_assert_eq(dec(true, BYTES(0xF0, 0x01, 0xC0), &d), -DECODE_UD, "register destination");
    cr_assert_eq(dec(true, BYTES(0xF0, 0x39, 0x00), &d), -DECODE_UD, "CMP");
    cr_assert_eq(dec(true, BYTES(0xF0, 0x80, 0x38, 0x01), &d), -DECODE_UD, "80 /7 CMP");
    cr_assert_eq(dec(true, BYTES(0xF0, 0x80, 0x30, 0x01), &d), 4, "80 /6 XOR");
    cr_assert_eq(dec(true, BYTES(0xF0, 0x8B, 0x00), &d), -DECODE_UD, "MOV");
    cr_assert_eq(dec(true, BYTES(0xF0, 0x90), &d), -DECODE_UD, "NOP");
    cr_assert_eq(dec(true, BYTES(0xF0, 0xA4), &d), -DECODE_UD, "MOVSB");
    cr_assert_eq(dec(true, BYTES(0xF0, 0xF6, 0x10), &d), 3, "NOT");
    cr_assert_eq(dec(true, BYTES(0xF0, 0xF6, 0x00, 0x01), &d), -DECODE_UD, "TEST");
    cr_assert_eq(dec(true, BYTES(0xF0, 0x86, 0x00), &d), 3, "XCHG");
    cr_assert_eq(dec(true, BYTES(0xF0, 0x0F, 0xB1, 0x0B), &d), 4, "CMPXCHG");
    cr_assert_eq(dec(true, BYTES(0xF0, 0x0F, 0xC7, 0x0B), &d), 4, "CMPXCHG8B");
    cr_assert_eq(dec(true, BYTES(0xF0, 0x0F, 0xC1, 0x0B), &d), 4, "XADD");
    cr_assert_eq(dec(true, BYTES(0xF0, 0x0F, 0xBA, 0x28, 0x01), &d), 5, "BTS imm");
    cr_assert_eq(dec(true, BYTES(0xF0, 0x0F, 0xBA, 0x20, 0x01), &d), -DECODE_UD, "BT imm");
    cr_assert_eq(dec(true, BYTES(0xF0, 0x0F, 0xA3, 0x00), &d), -DECODE_UD, "BT");
    cr_assert_eq(dec(true, BYTES(0xF0, 0xFE, 0x00), &d), 3, "INC byte");
    cr_assert_eq(dec(true, BYTES(0xF0, 0xFF, 0x10), &d), -DECODE_UD, "CALL");
    cr_assert_eq(dec(true, BYTES(0xF0, 0x0F, 0x22, 0xC0), &d), -DECODE_UD, "MOV CR0");
    cr_assert_eq(dec(false, BYTES(0x66, 0xF0, 0x67, 0x11, 0x00), &d), 5, "ADC in 16-bit");
}

Test(decode, segment_register_rules)
{
    DecodedInsn d;
    cr_assert_eq(dec(true, BYTES(0x8E, 0xC8), &d), -DECODE_UD, "MOV CS, ax");
    cr_assert_eq(dec(true, BYTES(0x8E, 0x08), &d), -DECODE_UD, "MOV CS, [eax]");
    cr_assert_eq(dec(true, BYTES(0x8E, 0xF0), &d), -DECODE_UD, "segment 6");
    cr_assert_eq(dec(true, BYTES(0x8E, 0xF8), &d), -DECODE_UD, "segment 7");
    cr_assert_eq(dec(true, BYTES(0x8C, 0xF0), &d), -DECODE_UD, "segment 6");
    cr_assert_eq(dec(true, BYTES(0x8C, 0x38), &d), -DECODE_UD, "segment 7");
    cr_assert_eq(dec(true, BYTES(0x8C, 0xC8), &d), 2, "MOV ax, CS is fine");
    cr_assert_eq(d.reg, SEG_CS);
    cr_assert_eq(dec(true, BYTES(0x8E, 0xD0), &d), 2, "MOV SS, ax");
    cr_assert_eq(dec(true, BYTES(0x8E, 0xE8), &d), 2, "MOV GS, ax");
}

Test(decode, ud_is_reported_before_missing_bytes)
{
    DecodedInsn d;
    /* LEA with a register needs no more bytes to be #UD. */
    cr_assert_eq(dec(true, BYTES(0x8D, 0xC0), &d), -DECODE_UD);
    /* An undefined 0F opcode at the end of the buffer. */
    cr_assert_eq(dec(true, BYTES(0x0F, 0x04), &d), -DECODE_UD);
    cr_assert_eq(d.len, 2);
}

/* ---- length limits and truncated buffers --------------------------------------------------- */

Test(decode, fifteen_byte_limit)
{
    uint8_t b[32];
    DecodedInsn d;
    memset(b, 0x3E, sizeof(b));
    /* 14 prefixes + NOP = 15 bytes: fine. */
    b[14] = 0x90;
    cr_assert_eq(dec(true, b, sizeof(b), &d), 15);
    cr_assert_eq(d.nprefix, 14);
    /* 15 prefixes + NOP = 16: too long, even though the opcode is never reached. */
    b[14] = 0x3E;
    b[15] = 0x90;
    cr_assert_eq(dec(true, b, sizeof(b), &d), -DECODE_TOO_LONG);
    /* All prefixes. */
    cr_assert_eq(dec(true, b, 15, &d), -DECODE_TOO_LONG, "15 prefix bytes available");
    cr_assert_eq(dec(true, b, 14, &d), -DECODE_NEED_MORE, "only 14 bytes available");
    /* 5 prefixes + an 11-byte instruction: add dword cs:[eax+eax+disp32], imm32 = 16. */
    static const uint8_t longi[] = {0x2E, 0x3E, 0x26, 0x64, 0x65, 0x81, 0x84, 0x00,
                                    0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08};
    cr_assert_eq(dec(true, longi, sizeof(longi), &d), -DECODE_TOO_LONG);
    cr_assert_eq(dec(true, longi + 1, sizeof(longi) - 1, &d), 15, "one prefix less fits");
    /* Over 15 bytes is reported even when the buffer also runs short of the full length. */
    cr_assert_eq(dec(true, longi, 15, &d), -DECODE_TOO_LONG);
}

Test(decode, truncated_buffer_needs_more)
{
    static const struct {
        bool code32;
        uint8_t len;
        uint8_t b[15];
    } cases[] = {
        {true, 7, {0x8B, 0x84, 0x24, 0x78, 0x56, 0x34, 0x12}},
        {true, 11, {0x81, 0x84, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08}},
        {true, 7, {0x9A, 0x78, 0x56, 0x34, 0x12, 0x08, 0x00}},
        {true, 4, {0xC8, 0x10, 0x00, 0x01}},
        {true, 5, {0xA1, 0x78, 0x56, 0x34, 0x12}},
        {false, 8, {0x66, 0x67, 0x0F, 0x84, 0x00, 0x01, 0x00, 0x00}},
        {false, 4, {0x0F, 0x84, 0x00, 0x01}},
        {true, 6, {0x66, 0x0F, 0x70, 0x04, 0x24, 0x1B}},
        {false, 4, {0xDD, 0x86, 0x00, 0x10}},
        {true, 5, {0xF0, 0x0F, 0xBA, 0x28, 0x01}},
    };
    for (unsigned c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        DecodedInsn d;
        cr_assert_eq(dec(cases[c].code32, cases[c].b, cases[c].len, &d), cases[c].len,
                     "case %u full", c);
        for (unsigned n = 0; n < cases[c].len; n++) {
            cr_assert_eq(dec(cases[c].code32, cases[c].b, n, &d), -DECODE_NEED_MORE,
                         "case %u truncated to %u", c, n);
        }
    }
}

Test(decode, decode_is_deterministic_over_stale_output)
{
    /* Every field is written on each call: decoding into a dirty struct gives the same. */
    DecodedInsn a, b;
    memset(&b, 0xA5, sizeof(b));
    memset(&a, 0, sizeof(a));
    static const uint8_t bytes[] = {0x66, 0x8B, 0x44, 0x24, 0x08};
    cr_assert_eq(dec(true, bytes, sizeof(bytes), &a), 5);
    cr_assert_eq(dec(true, bytes, sizeof(bytes), &b), 5);
#define SAME(f) cr_assert_eq(a.f, b.f, #f)
    SAME(op);
    SAME(len);
    SAME(nprefix);
    SAME(opsize);
    SAME(addrsize);
    SAME(seg_override);
    SAME(seg);
    SAME(rep);
    SAME(simd_prefix);
    SAME(modrm);
    SAME(mod);
    SAME(reg);
    SAME(rm);
    SAME(base);
    SAME(index);
    SAME(scale);
    SAME(flags);
    SAME(disp);
    SAME(imm);
    SAME(imm2);
    SAME(immsize);
    SAME(dispsize);
#undef SAME
}

Test(decode, disasm_handle_reuse_matches_one_shot)
{
    X86Disasm *dis = x86_disasm_new();
    cr_assert_not_null(dis);
    char a[96], b[96];
    static const uint8_t code[] = {0x8B, 0x44, 0x24, 0x08};
    cr_assert_eq(x86_disasm_with(dis, code, 4, 0x1000, true, a, sizeof(a)), 4);
    cr_assert_eq(x86_disasm(code, 4, 0x1000, true, b, sizeof(b)), 4);
    cr_assert_str_eq(a, b);
    cr_assert_str_eq(a, "mov eax, dword ptr [esp + 8]");
    cr_assert_eq(
        x86_disasm_with(dis, (const uint8_t[]){0x8B, 0x46, 0x04}, 3, 0, false, a, sizeof(a)), 3);
    cr_assert_str_eq(a, "mov ax, word ptr [bp + 4]");
    x86_disasm_free(dis);
}

/* ---- properties over many encodings ------------------------------------------------------ */

Test(decode, every_truncation_of_a_valid_instruction_needs_more)
{
    /* A fixed pseudo-random walk over encodings; each prefix of a decodable instruction is
     * decoded from an exactly sized heap copy, so an over-read shows up under ASan. */
    uint64_t s = 0x5EEDull;
    unsigned checked = 0;
    for (unsigned iter = 0; iter < 20000; iter++) {
        uint8_t b[16];
        for (unsigned i = 0; i < 16; i++) {
            s = s * 6364136223846793005ull + 1442695040888963407ull;
            b[i] = (uint8_t)(s >> 56);
        }
        if (iter & 1) {
            b[0] = 0x0F; /* half in the 0F map */
        }
        bool code32 = (iter & 2) != 0;
        DecodedInsn full;
        int len = dec(code32, b, 16, &full);
        if (len <= 0) {
            continue;
        }
        checked++;
        for (int n = 0; n <= len; n++) {
            uint8_t *copy = malloc(n ? (size_t)n : 1);
            memcpy(copy, b, (size_t)n);
            DecodedInsn d;
            int r = dec(code32, copy, (unsigned)n, &d);
            if (n == len) {
                cr_assert_eq(r, len);
                cr_assert_eq(d.op, full.op);
                cr_assert_eq(d.imm, full.imm);
                cr_assert_eq(d.disp, full.disp);
            } else {
                cr_assert_eq(r, -DECODE_NEED_MORE, "iter %u: %d of %d bytes gave %d", iter, n, len,
                             r);
            }
            free(copy);
        }
    }
    cr_assert_gt(checked, 10000, "only %u valid encodings", checked);
}

Test(decode, length_is_prefixes_plus_opcode_modrm_sib_disp_imm)
{
    /* Cross-check len against the fields it is made of, over many encodings. */
    uint64_t s = 0xC0FFEEull;
    for (unsigned iter = 0; iter < 50000; iter++) {
        uint8_t b[16];
        for (unsigned i = 0; i < 16; i++) {
            s = s * 6364136223846793005ull + 1442695040888963407ull;
            b[i] = (uint8_t)(s >> 56);
        }
        DecodedInsn d;
        int len = dec((iter & 1) != 0, b, 16, &d);
        if (len <= 0) {
            continue;
        }
        unsigned oplen = d.op >= OP_MAP_0F38 ? 3 : d.op >= OP_MAP_0F ? 2 : 1;
        bool sib = (d.flags & DI_MEM) && !(d.flags & DI_MOFFS) && d.addrsize == 4 && d.rm == 4;
        unsigned imm2 = (d.op == 0xC8) ? 1 : (d.op == 0x9A || d.op == 0xEA) ? 2 : 0;
        unsigned want = d.nprefix + oplen + ((d.flags & DI_HAS_MODRM) ? 1 : 0) + (sib ? 1 : 0) +
                        d.dispsize + d.immsize + imm2;
        cr_assert_eq((unsigned)len, want, "iter %u op %03X", iter, d.op);
        cr_assert_eq(d.len, len);
        cr_assert(d.opsize == 2 || d.opsize == 4);
        cr_assert(d.addrsize == 2 || d.addrsize == 4);
        cr_assert(d.seg >= SEG_ES && d.seg <= SEG_GS);
        if (!(d.flags & DI_MEM)) {
            cr_assert_eq(d.base, -1);
            cr_assert_eq(d.index, -1);
        }
    }
}

Test(decode, one_byte_map_sweep)
{
    /* Every non-prefix one-byte opcode decodes with a memory ModRM; with a register ModRM
     * only the memory-only ones (BOUND, LEA, LES, LDS) are #UD. */
    static const uint8_t prefixes[] = {0x26, 0x2E, 0x36, 0x3E, 0x64, 0x65,
                                       0x66, 0x67, 0xF0, 0xF2, 0xF3};
    for (unsigned op = 0; op < 256; op++) {
        if (memchr(prefixes, (int)op, sizeof(prefixes))) {
            continue;
        }
        uint8_t b[12] = {(uint8_t)op, 0x00};
        DecodedInsn d;
        int len = dec(true, b, sizeof(b), &d);
        if (op == 0x0F) {
            cr_assert_eq(len, 3, "0F 00 00 is SLDT [eax]");
            continue;
        }
        cr_assert_gt(len, 0, "op %02X with ModRM 00", op);
        cr_assert_str_neq(x86_decode_mnemonic(&d), "(invalid)");
        b[1] = 0xC0;
        len = dec(true, b, sizeof(b), &d);
        bool mem_only = op == 0x62 || op == 0x8D || op == 0xC4 || op == 0xC5;
        cr_assert_eq(len > 0, !mem_only, "op %02X with ModRM C0: %d", op, len);
    }
}

Test(decode, zero_f_map_sweep_without_prefix)
{
    /* The 0F map with no prefix and a memory ModRM (00): the opcodes that must be #UD on a
     * P6/SSE2-class CPU (SDM Vol. 2 Table A-3), everything else decodes. */
    static const uint8_t ud[] = {
        0x04, 0x05, 0x07, 0x0A, 0x0C, 0x0D, 0x0E, 0x0F, 0x24, 0x25, 0x26, 0x27,
        0x36, 0x37, 0x38, 0x39, 0x3A, 0x3B, 0x3C, 0x3D, 0x3E, 0x3F, 0x50, /* MOVMSKPS: register
                                                                             only */
        0x6C, 0x6D,                                                       /* PUNPCKxQDQ: 66 only */
        0x71, 0x72, 0x73, /* shift by immediate: register only */
        0x78, 0x79, 0x7A, 0x7B, 0x7C, 0x7D, 0xA6, 0xA7, 0xB8, 0xB9, 0xBA, /* /0 undefined */
        0xC5, /* PEXTRW: register only */
        0xC7, /* /0 undefined */
        0xD0, 0xD6, 0xD7, 0xE6, 0xF0, 0xF7, 0xFF,
    };
    unsigned valid = 0;
    for (unsigned op = 0; op < 256; op++) {
        uint8_t b[12] = {0x0F, (uint8_t)op, 0x00};
        DecodedInsn d;
        int len = dec(true, b, sizeof(b), &d);
        bool want_ud = memchr(ud, (int)op, sizeof(ud)) != NULL;
        cr_assert_eq(len == -DECODE_UD, want_ud, "0F %02X 00: %d", op, len);
        if (len > 0) {
            valid++;
            cr_assert_eq(d.op, 0x100 | op);
            cr_assert_str_neq(x86_decode_mnemonic(&d), "(invalid)");
        }
    }
    cr_assert_eq(valid, 256 - sizeof(ud));
}

Test(decode, mnemonics_resolve_through_groups_and_prefixes)
{
    DecodedInsn d;
    static const struct {
        bool code32;
        uint8_t n;
        uint8_t b[6];
        const char *name;
    } cases[] = {
        {true, 3, {0x83, 0xC0, 0x01}, "ADD"},
        {true, 3, {0x83, 0xF8, 0x01}, "CMP"},
        {true, 2, {0xFF, 0x20}, "JMP"},
        {true, 3, {0x0F, 0x01, 0x18}, "LIDT"},
        {true, 3, {0x0F, 0xAE, 0xF8}, "SFENCE"},
        {true, 3, {0x0F, 0xAE, 0x38}, "CLFLUSH"},
        {true, 2, {0xDE, 0xD9}, "FCOMPP"},
        {true, 2, {0xDF, 0x28}, "FILD"},
        {true, 4, {0xF2, 0x0F, 0x5A, 0xC1}, "CVTSD2SS"},
        {true, 5, {0x66, 0x0F, 0x73, 0xF8, 0x01}, "PSLLDQ"},
        {true, 3, {0xF3, 0x0F, 0xBC, 0xC0}, "BSF"},
        {false, 2, {0xD6}, "SALC"},
        {true, 3, {0x0F, 0x12, 0xC1}, "MOVHLPS"},
        {true, 3, {0x0F, 0x12, 0x01}, "MOVLPS"},
        {true, 3, {0x0F, 0x16, 0xC1}, "MOVLHPS"},
        {true, 3, {0x0F, 0x18, 0x00}, "PREFETCHNTA"},
        {true, 3, {0x0F, 0x18, 0xC0}, "NOP"},
        {true, 3, {0x0F, 0x1F, 0x00}, "NOP"},
    };
    for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int len = dec(cases[i].code32, cases[i].b, sizeof(cases[i].b), &d);
        cr_assert_gt(len, 0, "case %u", i);
        cr_assert_str_eq(x86_decode_mnemonic(&d), cases[i].name, "case %u", i);
    }
}
