/* jit_x64.c: a small x86-64 machine-code emitter for the JIT backend (the handful of forms
 * it needs, encoded by hand from the SDM Vol. 2 opcode tables: REX, ModRM, SIB, rel32).
 *
 * Addressing: every memory operand is [base + disp] with a 64-bit base register; rsp/r12 as
 * base need a SIB byte (0x24) and rbp/r13 with no displacement need an explicit disp8.
 * Example: x64_load(e, 4, X_RAX, X_RBX, 0x40) emits 8B 43 40 (mov eax, [rbx+0x40]).
 */
#include <string.h>

#include "translate/jit_internal.h"

void x64_init(X64Emit *e, uint8_t *buf, const uint8_t *rx, size_t pos, size_t cap)
{
    e->buf = buf;
    e->rx = rx;
    e->pos = pos;
    e->cap = cap;
    e->overflow = false;
}

void x64_byte(X64Emit *e, uint8_t b)
{
    if (e->pos >= e->cap) {
        e->overflow = true;
        return;
    }
    e->buf[e->pos++] = b;
}

void x64_u32(X64Emit *e, uint32_t v)
{
    for (int i = 0; i < 4; i++) {
        x64_byte(e, (uint8_t)(v >> (8 * i)));
    }
}

void x64_u64(X64Emit *e, uint64_t v)
{
    x64_u32(e, (uint32_t)v);
    x64_u32(e, (uint32_t)(v >> 32));
}

/* rex: emit a REX prefix when needed. w: 64-bit operand; r: ModRM.reg; b: ModRM.rm/base.
 * force: byte registers SPL..DIL need REX to be addressed. */
static void rex(X64Emit *e, bool w, int r, int b, bool force)
{
    uint8_t v = 0x40 | (w ? 8 : 0) | ((r & 8) ? 4 : 0) | ((b & 8) ? 1 : 0);
    if (v != 0x40 || force) {
        x64_byte(e, v);
    }
}

/* modrm_mem: ModRM (+SIB, +disp) for reg field r and [base + disp]. */
static void modrm_mem(X64Emit *e, int r, int base, int32_t disp)
{
    int mod;
    if (disp == 0 && (base & 7) != X_RBP) {
        mod = 0;
    } else if (disp >= -128 && disp <= 127) {
        mod = 1;
    } else {
        mod = 2;
    }
    x64_byte(e, (uint8_t)((mod << 6) | ((r & 7) << 3) | (base & 7)));
    if ((base & 7) == X_RSP) {
        x64_byte(e, 0x24);
    }
    if (mod == 1) {
        x64_byte(e, (uint8_t)disp);
    } else if (mod == 2) {
        x64_u32(e, (uint32_t)disp);
    }
}

static void modrm_rr(X64Emit *e, int r, int rm)
{
    x64_byte(e, (uint8_t)(0xC0 | ((r & 7) << 3) | (rm & 7)));
}

void x64_push(X64Emit *e, int r)
{
    rex(e, false, 0, r, false);
    x64_byte(e, (uint8_t)(0x50 + (r & 7)));
}

void x64_pop(X64Emit *e, int r)
{
    rex(e, false, 0, r, false);
    x64_byte(e, (uint8_t)(0x58 + (r & 7)));
}

void x64_ret(X64Emit *e)
{
    x64_byte(e, 0xC3);
}

void x64_mov_ri32(X64Emit *e, int r, uint32_t imm)
{
    rex(e, false, 0, r, false);
    x64_byte(e, (uint8_t)(0xB8 + (r & 7)));
    x64_u32(e, imm);
}

void x64_mov_ri64(X64Emit *e, int r, uint64_t imm)
{
    if (imm <= 0xFFFFFFFFu) {
        x64_mov_ri32(e, r, (uint32_t)imm);
        return;
    }
    rex(e, true, 0, r, false);
    x64_byte(e, (uint8_t)(0xB8 + (r & 7)));
    x64_u64(e, imm);
}

void x64_mov_rr(X64Emit *e, int w, int dst, int src)
{
    rex(e, w == 8, src, dst, false);
    x64_byte(e, 0x89);
    modrm_rr(e, src, dst);
}

void x64_alu_rr(X64Emit *e, int w, int aop, int dst, int src)
{
    rex(e, w == 8, src, dst, false);
    x64_byte(e, (uint8_t)(aop * 8 + 1));
    modrm_rr(e, src, dst);
}

void x64_alu_ri(X64Emit *e, int w, int aop, int dst, int32_t imm)
{
    rex(e, w == 8, 0, dst, false);
    if (imm >= -128 && imm <= 127) {
        x64_byte(e, 0x83);
        modrm_rr(e, aop, dst);
        x64_byte(e, (uint8_t)imm);
    } else {
        x64_byte(e, 0x81);
        modrm_rr(e, aop, dst);
        x64_u32(e, (uint32_t)imm);
    }
}

void x64_load(X64Emit *e, int w, int dst, int base, int32_t disp)
{
    switch (w) {
    case 1: /* movzx r32, byte */
        rex(e, false, dst, base, false);
        x64_byte(e, 0x0F);
        x64_byte(e, 0xB6);
        break;
    case 2: /* movzx r32, word */
        rex(e, false, dst, base, false);
        x64_byte(e, 0x0F);
        x64_byte(e, 0xB7);
        break;
    default:
        rex(e, w == 8, dst, base, false);
        x64_byte(e, 0x8B);
        break;
    }
    modrm_mem(e, dst, base, disp);
}

void x64_store(X64Emit *e, int w, int base, int32_t disp, int src)
{
    if (w == 2) {
        x64_byte(e, 0x66);
    }
    rex(e, w == 8, src, base, w == 1 && src >= X_RSP && src <= X_RDI);
    x64_byte(e, w == 1 ? 0x88 : 0x89);
    modrm_mem(e, src, base, disp);
}

void x64_store_imm(X64Emit *e, int w, int base, int32_t disp, int32_t imm)
{
    if (w == 2) {
        x64_byte(e, 0x66);
    }
    rex(e, w == 8, 0, base, false);
    x64_byte(e, w == 1 ? 0xC6 : 0xC7);
    modrm_mem(e, 0, base, disp);
    if (w == 1) {
        x64_byte(e, (uint8_t)imm);
    } else if (w == 2) {
        x64_byte(e, (uint8_t)imm);
        x64_byte(e, (uint8_t)(imm >> 8));
    } else {
        x64_u32(e, (uint32_t)imm);
    }
}

void x64_alu_mi(X64Emit *e, int w, int aop, int base, int32_t disp, int32_t imm)
{
    rex(e, w == 8, 0, base, false);
    if (w == 1) {
        x64_byte(e, 0x80);
        modrm_mem(e, aop, base, disp);
        x64_byte(e, (uint8_t)imm);
    } else if (imm >= -128 && imm <= 127) {
        x64_byte(e, 0x83);
        modrm_mem(e, aop, base, disp);
        x64_byte(e, (uint8_t)imm);
    } else {
        x64_byte(e, 0x81);
        modrm_mem(e, aop, base, disp);
        x64_u32(e, (uint32_t)imm);
    }
}

void x64_alu_rm(X64Emit *e, int w, int aop, int dst, int base, int32_t disp)
{
    if (w == 2) {
        x64_byte(e, 0x66);
    }
    rex(e, w == 8, dst, base, w == 1 && dst >= X_RSP && dst <= X_RDI);
    x64_byte(e, (uint8_t)(aop * 8 + (w == 1 ? 2 : 3)));
    modrm_mem(e, dst, base, disp);
}

void x64_test_mi(X64Emit *e, int w, int base, int32_t disp, uint32_t imm)
{
    rex(e, false, 0, base, false);
    x64_byte(e, w == 1 ? 0xF6 : 0xF7);
    modrm_mem(e, 0, base, disp);
    if (w == 1) {
        x64_byte(e, (uint8_t)imm);
    } else {
        x64_u32(e, imm);
    }
}

void x64_test_ri(X64Emit *e, int r, uint32_t imm)
{
    rex(e, false, 0, r, false);
    x64_byte(e, 0xF7);
    modrm_rr(e, 0, r);
    x64_u32(e, imm);
}

void x64_test_rr(X64Emit *e, int w, int a, int b)
{
    if (w == 2) {
        x64_byte(e, 0x66);
    }
    rex(e, w == 8, b, a, w == 1 && (a >= X_RSP || b >= X_RSP) && a <= X_RDI && b <= X_RDI);
    x64_byte(e, w == 1 ? 0x84 : 0x85);
    modrm_rr(e, b, a);
}

void x64_lea(X64Emit *e, int dst, int base, int32_t disp)
{
    rex(e, true, dst, base, false);
    x64_byte(e, 0x8D);
    modrm_mem(e, dst, base, disp);
}

void x64_shift_ri(X64Emit *e, int w, int sub, int r, uint8_t count)
{
    rex(e, w == 8, 0, r, false);
    x64_byte(e, 0xC1);
    modrm_rr(e, sub, r);
    x64_byte(e, count);
}

void x64_call_r(X64Emit *e, int r)
{
    rex(e, false, 0, r, false);
    x64_byte(e, 0xFF);
    modrm_rr(e, 2, r);
}

void x64_jmp_r(X64Emit *e, int r)
{
    rex(e, false, 0, r, false);
    x64_byte(e, 0xFF);
    modrm_rr(e, 4, r);
}

size_t x64_jmp_rel32(X64Emit *e)
{
    x64_byte(e, 0xE9);
    size_t f = e->pos;
    x64_u32(e, 0);
    return f;
}

size_t x64_call_rel32(X64Emit *e)
{
    x64_byte(e, 0xE8);
    size_t f = e->pos;
    x64_u32(e, 0);
    return f;
}

size_t x64_jcc_rel32(X64Emit *e, int cc)
{
    x64_byte(e, 0x0F);
    x64_byte(e, (uint8_t)(0x80 | cc));
    size_t f = e->pos;
    x64_u32(e, 0);
    return f;
}

void x64_patch_rel32(uint8_t *buf, size_t field, size_t target)
{
    int32_t rel = (int32_t)((int64_t)target - (int64_t)(field + 4));
    memcpy(buf + field, &rel, 4);
}

void x64_patch_u32(uint8_t *buf, size_t field, uint32_t v)
{
    memcpy(buf + field, &v, 4);
}

void x64_patch_u64(uint8_t *buf, size_t field, uint64_t v)
{
    memcpy(buf + field, &v, 8);
}

void x64_setcc(X64Emit *e, int cc, int r8)
{
    rex(e, false, 0, r8, r8 >= X_RSP && r8 <= X_RDI);
    x64_byte(e, 0x0F);
    x64_byte(e, (uint8_t)(0x90 | cc));
    modrm_rr(e, 0, r8);
}

/* movx_rr: 0F op8 / 0F op8+1 (MOVZX B6/B7, MOVSX BE/BF) dst32, src8/src16. */
static void movx_rr(X64Emit *e, uint8_t op8, int from_w, int dst, int src)
{
    rex(e, false, dst, src, from_w == 1 && src >= X_RSP && src <= X_RDI);
    x64_byte(e, 0x0F);
    x64_byte(e, from_w == 1 ? op8 : (uint8_t)(op8 + 1));
    modrm_rr(e, dst, src);
}

void x64_movsx_rr(X64Emit *e, int from_w, int dst, int src)
{
    movx_rr(e, 0xBE, from_w, dst, src);
}

void x64_shift_cl(X64Emit *e, int w, int sub, int r)
{
    rex(e, w == 8, 0, r, false);
    x64_byte(e, 0xD3);
    modrm_rr(e, sub, r);
}

void x64_imul_rr(X64Emit *e, int w, int dst, int src)
{
    rex(e, w == 8, dst, src, false);
    x64_byte(e, 0x0F);
    x64_byte(e, 0xAF);
    modrm_rr(e, dst, src);
}

void x64_imul_rm(X64Emit *e, int w, int dst, int base, int32_t disp)
{
    rex(e, w == 8, dst, base, false);
    x64_byte(e, 0x0F);
    x64_byte(e, 0xAF);
    modrm_mem(e, dst, base, disp);
}

void x64_movsxd_rr(X64Emit *e, int dst, int src)
{
    rex(e, true, dst, src, false);
    x64_byte(e, 0x63);
    modrm_rr(e, dst, src);
}

void x64_bswap(X64Emit *e, int r)
{
    rex(e, false, 0, r, false);
    x64_byte(e, 0x0F);
    x64_byte(e, (uint8_t)(0xC8 | (r & 7)));
}

void x64_alu_rr_w(X64Emit *e, int w, int aop, int dst, int src)
{
    if (w == 2) {
        x64_byte(e, 0x66);
    }
    rex(e, w == 8, src, dst,
        w == 1 && ((src >= X_RSP && src <= X_RDI) || (dst >= X_RSP && dst <= X_RDI)));
    x64_byte(e, (uint8_t)(aop * 8 + (w == 1 ? 0 : 1)));
    modrm_rr(e, src, dst);
}

void x64_movzx_rr(X64Emit *e, int from_w, int dst, int src)
{
    movx_rr(e, 0xB6, from_w, dst, src);
}

void x64_mov_rr_w(X64Emit *e, int w, int dst, int src)
{
    if (w == 2) {
        x64_byte(e, 0x66);
    }
    rex(e, w == 8, src, dst,
        w == 1 && ((src >= X_RSP && src <= X_RDI) || (dst >= X_RSP && dst <= X_RDI)));
    x64_byte(e, w == 1 ? 0x88 : 0x89);
    modrm_rr(e, src, dst);
}

/* ---- [base + index + disp] forms (SIB, scale 1; index is never rsp) ---- */

static void rex_idx(X64Emit *e, bool w, int r, int index, int base, bool force)
{
    uint8_t v = 0x40 | (w ? 8 : 0) | ((r & 8) ? 4 : 0) | ((index & 8) ? 2 : 0) |
                ((base & 8) ? 1 : 0);
    if (v != 0x40 || force) {
        x64_byte(e, v);
    }
}

static void modrm_idx(X64Emit *e, int r, int base, int index, int32_t disp)
{
    int mod;
    if (disp == 0 && (base & 7) != X_RBP) {
        mod = 0;
    } else if (disp >= -128 && disp <= 127) {
        mod = 1;
    } else {
        mod = 2;
    }
    x64_byte(e, (uint8_t)((mod << 6) | ((r & 7) << 3) | 4));
    x64_byte(e, (uint8_t)(((index & 7) << 3) | (base & 7)));
    if (mod == 1) {
        x64_byte(e, (uint8_t)disp);
    } else if (mod == 2) {
        x64_u32(e, (uint32_t)disp);
    }
}

void x64_load_idx(X64Emit *e, int w, int dst, int base, int index, int32_t disp)
{
    rex_idx(e, w == 8, dst, index, base, false);
    if (w == 1 || w == 2) {
        x64_byte(e, 0x0F);
        x64_byte(e, w == 1 ? 0xB6 : 0xB7);
    } else {
        x64_byte(e, 0x8B);
    }
    modrm_idx(e, dst, base, index, disp);
}

void x64_store_idx(X64Emit *e, int w, int base, int index, int32_t disp, int src)
{
    if (w == 2) {
        x64_byte(e, 0x66);
    }
    rex_idx(e, w == 8, src, index, base, w == 1 && src >= X_RSP && src <= X_RDI);
    x64_byte(e, w == 1 ? 0x88 : 0x89);
    modrm_idx(e, src, base, index, disp);
}

void x64_alu_rm_idx(X64Emit *e, int w, int aop, int dst, int base, int index, int32_t disp)
{
    rex_idx(e, w == 8, dst, index, base, false);
    x64_byte(e, (uint8_t)(aop * 8 + 3));
    modrm_idx(e, dst, base, index, disp);
}

void x64_lea32(X64Emit *e, int dst, int base, int32_t disp)
{
    rex(e, false, dst, base, false);
    x64_byte(e, 0x8D);
    modrm_mem(e, dst, base, disp);
}

void x64_lea32_sib(X64Emit *e, int dst, int base, int index, int scale, int32_t disp)
{
    rex_idx(e, false, dst, index, base < 0 ? 0 : base, false);
    x64_byte(e, 0x8D);
    int mod;
    if (base < 0) {
        mod = 0; /* SIB base 101 with mod 00: [index * scale + disp32] */
    } else if (disp == 0 && (base & 7) != X_RBP) {
        mod = 0;
    } else if (disp >= -128 && disp <= 127) {
        mod = 1;
    } else {
        mod = 2;
    }
    x64_byte(e, (uint8_t)((mod << 6) | ((dst & 7) << 3) | 4));
    x64_byte(e, (uint8_t)((scale << 6) | ((index & 7) << 3) | (base < 0 ? 5 : (base & 7))));
    if (base < 0 || mod == 2) {
        x64_u32(e, (uint32_t)disp);
    } else if (mod == 1) {
        x64_byte(e, (uint8_t)disp);
    }
}

void x64_div_r(X64Emit *e, int r)
{
    rex(e, false, 0, r, false);
    x64_byte(e, 0xF7);
    modrm_rr(e, 6, r);
}

void x64_bsf_rr(X64Emit *e, bool reverse, int dst, int src)
{
    rex(e, false, dst, src, false);
    x64_byte(e, 0x0F);
    x64_byte(e, reverse ? 0xBD : 0xBC);
    modrm_rr(e, dst, src);
}

void x64_cmov_rr(X64Emit *e, int cc, int dst, int src)
{
    rex(e, false, dst, src, false);
    x64_byte(e, 0x0F);
    x64_byte(e, (uint8_t)(0x40 | cc));
    modrm_rr(e, dst, src);
}

void x64_rep_string(X64Emit *e, bool movs, unsigned size)
{
    if (size == 2) {
        x64_byte(e, 0x66);
    }
    x64_byte(e, 0xF3);
    x64_byte(e, (uint8_t)((movs ? 0xA4 : 0xAA) | (size > 1 ? 1 : 0)));
}
