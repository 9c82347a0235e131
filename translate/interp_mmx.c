/* interp_mmx.c: the MMX instruction set (Pentium II), on the x87 register file.
 *
 * MMX register i is the significand of physical x87 register i. Every MMX instruction except
 * EMMS sets TOP to 0 and tags all registers valid; a write also sets that register's exponent
 * and sign to all ones (SDM Vol. 1 9.5). EMMS empties the tag word and also sets TOP to 0
 * (table 9-2; the host's EMMS does the same). CR0.EM gives #UD, CR0.TS
 * #NM, and a pending unmasked x87 exception #MF (SDM Vol. 3 table 12-1). Forms with a 66, F2
 * or F3 prefix are SSE2 and not implemented here (#UD: SSE is not advertised).
 */
#include "translate/interp.h"

typedef uint64_t (*MmxOp)(uint64_t a, uint64_t b);

static void mmx_enter(CPUState *cpu, const DecodedInsn *d)
{
    if (d->simd_prefix) {
        cpu_raise_ud(cpu);
    }
    if (cpu->cr0 & CR0_EM) {
        cpu_raise_ud(cpu);
    }
    if (cpu->cr0 & CR0_TS) {
        cpu_raise_exception(cpu, EXC_NM, false, 0);
    }
    if (cpu->fpu.fsw & 0x80) { /* ES: an unmasked x87 exception is pending */
        if (cpu->cr0 & CR0_NE) {
            cpu_raise_exception(cpu, EXC_MF, false, 0);
        }
        if (cpu->hooks.ferr) {
            cpu->hooks.ferr(cpu->hooks.opaque, 1);
        }
    }
}

/* After the operands are read (a fault leaves the FPU state untouched): TOP = 0, all valid. */
static void mmx_touch(CPUState *cpu)
{
    cpu->fpu.top = 0;
    cpu->fpu.ftw = 0;
}

static uint64_t mmx_get(const CPUState *cpu, int r) { return cpu->fpu.st[r & 7].sig; }

static void mmx_set(CPUState *cpu, int r, uint64_t v)
{
    cpu->fpu.st[r & 7].sig = v;
    cpu->fpu.st[r & 7].se = 0xFFFF;
}

/* The mm/m64 source operand. */
static uint64_t mmx_src(CPUState *cpu, const DecodedInsn *d)
{
    if (d->flags & DI_MEM) {
        uint32_t ea = interp_ea(cpu, d);
        uint32_t lo = cpu_ld32(cpu, d->seg, ea), hi = cpu_ld32(cpu, d->seg, ea + 4);
        return (uint64_t)hi << 32 | lo;
    }
    return mmx_get(cpu, d->rm);
}

/* --- lane helpers --- */

#define LANES(bits) (64 / (bits))

static uint64_t lane(uint64_t v, int bits, int i)
{
    return (v >> (i * bits)) & (bits == 64 ? ~0ull : ((1ull << bits) - 1));
}

static int64_t slane(uint64_t v, int bits, int i)
{
    uint64_t x = lane(v, bits, i);
    uint64_t sign = 1ull << (bits - 1);
    return (int64_t)((x ^ sign) - sign);
}

static uint64_t put(uint64_t acc, int bits, int i, uint64_t x)
{
    uint64_t m = bits == 64 ? ~0ull : ((1ull << bits) - 1);
    return acc | ((x & m) << (i * bits));
}

static int64_t sat_s(int64_t v, int bits)
{
    int64_t hi = (1ll << (bits - 1)) - 1, lo = -(1ll << (bits - 1));
    return v > hi ? hi : v < lo ? lo : v;
}

static int64_t sat_u(int64_t v, int bits)
{
    int64_t hi = (1ll << bits) - 1;
    return v > hi ? hi : v < 0 ? 0 : v;
}

/* Element-wise arithmetic, parameterised by width and kind. */
enum { K_ADD, K_ADDS, K_ADDUS, K_SUB, K_SUBS, K_SUBUS, K_CMPEQ, K_CMPGT, K_MULL, K_MULH };

static uint64_t elementwise(uint64_t a, uint64_t b, int bits, int kind)
{
    uint64_t r = 0;
    for (int i = 0; i < LANES(bits); i++) {
        int64_t x = slane(a, bits, i), y = slane(b, bits, i);
        int64_t ux = (int64_t)lane(a, bits, i), uy = (int64_t)lane(b, bits, i);
        int64_t v;
        switch (kind) {
        case K_ADD: v = ux + uy; break;
        case K_ADDS: v = sat_s(x + y, bits); break;
        case K_ADDUS: v = sat_u(ux + uy, bits); break;
        case K_SUB: v = ux - uy; break;
        case K_SUBS: v = sat_s(x - y, bits); break;
        case K_SUBUS: v = sat_u(ux - uy, bits); break;
        case K_CMPEQ: v = ux == uy ? -1 : 0; break;
        case K_CMPGT: v = x > y ? -1 : 0; break;
        case K_MULL: v = x * y; break;
        default: v = (x * y) >> 16; break;
        }
        r = put(r, bits, i, (uint64_t)v);
    }
    return r;
}

/* Shifts by a 64-bit count: logical counts >= width give 0, arithmetic ones the sign. */
enum { SH_RL, SH_RA, SH_LL };

static uint64_t shift(uint64_t a, uint64_t count, int bits, int kind)
{
    uint64_t r = 0;
    for (int i = 0; i < LANES(bits); i++) {
        uint64_t v;
        if (kind == SH_RA) {
            int64_t x = slane(a, bits, i);
            v = (uint64_t)(x >> (count >= (uint64_t)bits ? bits - 1 : (int)count));
        } else if (count >= (uint64_t)bits) {
            v = 0;
        } else if (kind == SH_RL) {
            v = lane(a, bits, i) >> count;
        } else {
            v = lane(a, bits, i) << count;
        }
        r = put(r, bits, i, v);
    }
    return r;
}

static uint64_t unpack_lo_hi(uint64_t a, uint64_t b, int bits, bool high)
{
    uint64_t r = 0;
    int half = LANES(bits) / 2;
    for (int i = 0; i < half; i++) {
        int src = high ? half + i : i;
        r = put(r, bits, 2 * i, lane(a, bits, src));
        r = put(r, bits, 2 * i + 1, lane(b, bits, src));
    }
    return r;
}

/* pack: narrow the lanes of a (low half) and b (high half) with saturation. */
static uint64_t pack(uint64_t a, uint64_t b, int from_bits, bool unsigned_sat)
{
    int to = from_bits / 2, n = LANES(from_bits);
    uint64_t r = 0;
    for (int i = 0; i < 2 * n; i++) {
        int64_t x = slane(i < n ? a : b, from_bits, i % n);
        int64_t v = unsigned_sat ? sat_u(x, to) : sat_s(x, to);
        r = put(r, to, i, (uint64_t)v);
    }
    return r;
}

static uint64_t pmaddwd(uint64_t a, uint64_t b)
{
    uint64_t r = 0;
    for (int i = 0; i < 2; i++) {
        int64_t s = slane(a, 16, 2 * i) * slane(b, 16, 2 * i) +
                    slane(a, 16, 2 * i + 1) * slane(b, 16, 2 * i + 1);
        r = put(r, 32, i, (uint64_t)s);
    }
    return r;
}

/* --- handlers --- */

/* op_mmx_binary: mm = mm OP mm/m64 for the table-driven opcodes. */
static void op_mmx_binary(CPUState *cpu, const DecodedInsn *d)
{
    mmx_enter(cpu, d);
    uint64_t b = mmx_src(cpu, d), a = mmx_get(cpu, d->reg), r;
    unsigned op = d->op & 0xFF;
    switch (op) {
    case 0x60: r = unpack_lo_hi(a, b, 8, false); break;
    case 0x61: r = unpack_lo_hi(a, b, 16, false); break;
    case 0x62: r = unpack_lo_hi(a, b, 32, false); break;
    case 0x63: r = pack(a, b, 16, false); break;
    case 0x64: r = elementwise(a, b, 8, K_CMPGT); break;
    case 0x65: r = elementwise(a, b, 16, K_CMPGT); break;
    case 0x66: r = elementwise(a, b, 32, K_CMPGT); break;
    case 0x67: r = pack(a, b, 16, true); break;
    case 0x68: r = unpack_lo_hi(a, b, 8, true); break;
    case 0x69: r = unpack_lo_hi(a, b, 16, true); break;
    case 0x6A: r = unpack_lo_hi(a, b, 32, true); break;
    case 0x6B: r = pack(a, b, 32, false); break;
    case 0x74: r = elementwise(a, b, 8, K_CMPEQ); break;
    case 0x75: r = elementwise(a, b, 16, K_CMPEQ); break;
    case 0x76: r = elementwise(a, b, 32, K_CMPEQ); break;
    case 0xD1: r = shift(a, b, 16, SH_RL); break;
    case 0xD2: r = shift(a, b, 32, SH_RL); break;
    case 0xD3: r = shift(a, b, 64, SH_RL); break;
    case 0xD5: r = elementwise(a, b, 16, K_MULL); break;
    case 0xD8: r = elementwise(a, b, 8, K_SUBUS); break;
    case 0xD9: r = elementwise(a, b, 16, K_SUBUS); break;
    case 0xDB: r = a & b; break;
    case 0xDC: r = elementwise(a, b, 8, K_ADDUS); break;
    case 0xDD: r = elementwise(a, b, 16, K_ADDUS); break;
    case 0xDF: r = ~a & b; break;
    case 0xE1: r = shift(a, b, 16, SH_RA); break;
    case 0xE2: r = shift(a, b, 32, SH_RA); break;
    case 0xE5: r = elementwise(a, b, 16, K_MULH); break;
    case 0xE8: r = elementwise(a, b, 8, K_SUBS); break;
    case 0xE9: r = elementwise(a, b, 16, K_SUBS); break;
    case 0xEB: r = a | b; break;
    case 0xEC: r = elementwise(a, b, 8, K_ADDS); break;
    case 0xED: r = elementwise(a, b, 16, K_ADDS); break;
    case 0xEF: r = a ^ b; break;
    case 0xF1: r = shift(a, b, 16, SH_LL); break;
    case 0xF2: r = shift(a, b, 32, SH_LL); break;
    case 0xF3: r = shift(a, b, 64, SH_LL); break;
    case 0xF5: r = pmaddwd(a, b); break;
    case 0xF8: r = elementwise(a, b, 8, K_SUB); break;
    case 0xF9: r = elementwise(a, b, 16, K_SUB); break;
    case 0xFA: r = elementwise(a, b, 32, K_SUB); break;
    case 0xFC: r = elementwise(a, b, 8, K_ADD); break;
    case 0xFD: r = elementwise(a, b, 16, K_ADD); break;
    default: r = elementwise(a, b, 32, K_ADD); break; /* 0xFE */
    }
    mmx_touch(cpu);
    mmx_set(cpu, d->reg, r);
}

/* 0F 71/72/73: shift mm by imm8 (/2 PSRL, /4 PSRA, /6 PSLL; 73 has only /2 and /6). */
static void op_mmx_shift_imm(CPUState *cpu, const DecodedInsn *d)
{
    if (d->flags & DI_MEM) {
        cpu_raise_ud(cpu);
    }
    unsigned op = d->op & 0xFF;
    int bits = op == 0x71 ? 16 : op == 0x72 ? 32 : 64;
    int kind;
    switch (d->reg) {
    case 2: kind = SH_RL; break;
    case 4: kind = SH_RA; break;
    case 6: kind = SH_LL; break;
    default: kind = -1; break;
    }
    if (kind < 0 || (bits == 64 && kind == SH_RA)) {
        cpu_raise_ud(cpu);
    }
    mmx_enter(cpu, d);
    uint64_t r = shift(mmx_get(cpu, d->rm), d->imm & 0xFF, bits, kind);
    mmx_touch(cpu);
    mmx_set(cpu, d->rm, r);
}

/* 0F 6E MOVD mm, r/m32; 0F 7E MOVD r/m32, mm; 0F 6F / 7F MOVQ. */
static void op_mmx_mov(CPUState *cpu, const DecodedInsn *d)
{
    mmx_enter(cpu, d);
    unsigned op = d->op & 0xFF;
    switch (op) {
    case 0x6E: {
        uint32_t v = interp_get_rm(cpu, d, 4);
        mmx_touch(cpu);
        mmx_set(cpu, d->reg, v);
        return;
    }
    case 0x7E:
        interp_set_rm(cpu, d, 4, (uint32_t)mmx_get(cpu, d->reg));
        mmx_touch(cpu);
        return;
    case 0x6F: {
        uint64_t v = mmx_src(cpu, d);
        mmx_touch(cpu);
        mmx_set(cpu, d->reg, v);
        return;
    }
    default: { /* 0x7F */
        uint64_t v = mmx_get(cpu, d->reg);
        if (d->flags & DI_MEM) {
            uint32_t ea = interp_ea(cpu, d);
            /* Both dwords are checked by the first store's probe of the whole quadword. */
            uint32_t lin = cpu_linear(cpu, d->seg, ea, 8, ACC_WRITE);
            uint32_t phys;
            mmu_translate(cpu, lin + 7, ACC_WRITE, cpu->cpl == 3, &phys, true);
            cpu_st32(cpu, d->seg, ea, (uint32_t)v);
            cpu_st32(cpu, d->seg, ea + 4, (uint32_t)(v >> 32));
        } else {
            mmx_set(cpu, d->rm, v);
        }
        mmx_touch(cpu);
        return;
    }
    }
}

/* 0F 77 EMMS: every tag empty and TOP = 0 (SDM Vol. 1 table 9-2). */
static void op_emms(CPUState *cpu, const DecodedInsn *d)
{
    mmx_enter(cpu, d);
    cpu->fpu.ftw = 0xFFFF;
    cpu->fpu.top = 0;
}

void x86_interp_mmx_register(InterpFn table[OP_COUNT])
{
    static const uint8_t binary_ops[] = {
        0x60, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6A, 0x6B, 0x74, 0x75,
        0x76, 0xD1, 0xD2, 0xD3, 0xD5, 0xD8, 0xD9, 0xDB, 0xDC, 0xDD, 0xDF, 0xE1, 0xE2, 0xE5,
        0xE8, 0xE9, 0xEB, 0xEC, 0xED, 0xEF, 0xF1, 0xF2, 0xF3, 0xF5, 0xF8, 0xF9, 0xFA, 0xFC,
        0xFD, 0xFE,
    };
    for (size_t i = 0; i < sizeof(binary_ops); i++) {
        table[OP_MAP_0F | binary_ops[i]] = op_mmx_binary;
    }
    table[OP_MAP_0F | 0x71] = op_mmx_shift_imm;
    table[OP_MAP_0F | 0x72] = op_mmx_shift_imm;
    table[OP_MAP_0F | 0x73] = op_mmx_shift_imm;
    table[OP_MAP_0F | 0x6E] = op_mmx_mov;
    table[OP_MAP_0F | 0x6F] = op_mmx_mov;
    table[OP_MAP_0F | 0x7E] = op_mmx_mov;
    table[OP_MAP_0F | 0x7F] = op_mmx_mov;
    table[OP_MAP_0F | 0x77] = op_emms;
}
