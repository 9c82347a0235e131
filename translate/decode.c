/* decode.c: the table-driven IA-32 instruction decoder (prefixes, opcode maps, ModRM/SIB,
 * displacement, immediates, #UD forms).
 *
 * Overview. The opcode maps live in translate/decode_opcodes.txt; scripts/gen_decode_tables.py
 * turns them at build time into decode_tables.inc: one DecodeEntry per opcode byte of each
 * map, plus group tables (selected by ModRM.reg and by memory/register form), SIMD tables
 * (selected by the mandatory prefix) and x87 register-form bitmaps. Decoding is then a short
 * walk with a handful of table lookups and no allocation:
 *
 *   1. prefixes: bytes whose map entry is DK_PREFIX, in any order and number;
 *   2. opcode: DK_ESCAPE moves to the 0F (then 0F 38 / 0F 3A) map; DK_SIMD picks the entry
 *      for the effective mandatory prefix (last F2/F3, else 66, else none);
 *   3. ModRM if the entry says so; DK_GROUP / DK_X87 re-select the entry by ModRM.reg and
 *      form; form rules (memory-only, register-only, LOCK) give #UD;
 *   4. SIB and displacement for a memory operand, in 16- or 32-bit addressing;
 *   5. immediates of the entry's IMM_* kind.
 * Every byte read checks the 15-byte limit (-DECODE_TOO_LONG, which the CPU reports as
 * #GP(0)) before the caller's buffer (-DECODE_NEED_MORE), and #UD is reported as soon as it is
 * known, before later bytes are needed.
 *
 * Worked example, 32-bit code, bytes 66 F0 83 44 9E 08 FF:
 *   66 -> operand size 2; F0 -> LOCK; 83 -> DK_GROUP, ModRM 44 = mod 1, reg 0, rm 4:
 *   member /0 is ADD Ev,Ibs with LOCK allowed and a memory operand, so DI_LOCK is set;
 *   rm 4 -> SIB 9E = scale 2, index EBX, base ESI; mod 1 -> disp8 08; then Ibs FF -> imm
 *   0xFFFFFFFF. Result: op 0x83, len 7, nprefix 2, seg DS, "lock add word [esi+ebx*4+8], -1".
 */
#include "translate/decode.h"

#include <stddef.h>

/* Entry kinds. */
enum {
    DK_INVALID = 0, /* #UD */
    DK_INSN,        /* a decodable instruction */
    DK_PREFIX,      /* a legacy prefix; sub = PFX_* */
    DK_ESCAPE,      /* opcode map escape; sub = the map index (1..3) */
    DK_GROUP,       /* ModRM.reg selects; sub = index into decode_groups */
    DK_SIMD,        /* mandatory prefix selects; sub = index into decode_simd */
    DK_X87,         /* D8-DF: a group for memory forms plus a register-form bitmap */
};

/* Immediate kinds. */
enum {
    IMM_NONE = 0,
    IMM_IB,    /* 8 bits, zero-extended */
    IMM_IBS,   /* 8 bits, sign-extended (83, 6A, 6B, Jb) */
    IMM_IW,    /* 16 bits, zero-extended */
    IMM_IZ,    /* operand size (16 or 32), zero-extended */
    IMM_JZ,    /* operand size, sign-extended: a relative offset */
    IMM_ENTER, /* Iw size, then Ib nesting level into imm2 */
    IMM_FAR,   /* operand-size offset into imm, then a 16-bit selector into imm2 */
    IMM_MOFFS, /* address-size absolute offset into disp */
};

/* Entry attributes. */
enum {
    A_MODRM = 1u << 0,  /* a ModRM byte follows the opcode */
    A_MEM = 1u << 1,    /* memory form only: mod = 3 is #UD */
    A_REG = 1u << 2,    /* register form only: mod != 3 is #UD */
    A_ANYMOD = 1u << 3, /* mod is ignored, r/m names a register (MOV CRn/DRn) */
    A_LOCK = 1u << 4,   /* LOCK allowed (with a memory operand) */
    A_MMX = 1u << 5,    /* touches MMX state */
    A_SSE = 1u << 6,    /* touches XMM state or MXCSR */
    A_X87 = 1u << 7,    /* x87 escape */
};

/* Prefix kinds (the sub of a DK_PREFIX entry). The segment ones equal SEG_*. */
enum {
    PFX_ES = SEG_ES,
    PFX_CS = SEG_CS,
    PFX_SS = SEG_SS,
    PFX_DS = SEG_DS,
    PFX_FS = SEG_FS,
    PFX_GS = SEG_GS,
    PFX_OPSIZE,
    PFX_ADSIZE,
    PFX_LOCK,
    PFX_REPNE,
    PFX_REP,
};

typedef struct DecodeEntry {
    uint8_t kind;
    uint8_t imm;
    uint8_t attr;
    uint8_t sub;
} DecodeEntry;

#include "translate/decode_tables.inc"

/* Index of the SIMD table column for a mandatory prefix. */
enum { SIMD_NP, SIMD_66, SIMD_F3, SIMD_F2 };

/* 16-bit addressing: r/m -> base and index registers (SDM Vol. 2 Table 2-1). */
static const int8_t decode_base16[8] = {3, 3, 5, 5, 6, 7, 5, 3};      /* BX BX BP BP SI DI BP BX */
static const int8_t decode_index16[8] = {6, 7, 6, 7, -1, -1, -1, -1}; /* SI DI SI DI - - - - */

/* Reader: the position in the instruction and the bytes we may look at. */
typedef struct Reader {
    const uint8_t *bytes;
    unsigned pos;
    unsigned lim;  /* min(avail, 15) */
    int short_err; /* what running into lim means */
} Reader;

/* reader_need: 0 if n more bytes are there, else the negative decode error. */
static inline int reader_need(const Reader *r, unsigned n)
{
    if (r->pos + n <= r->lim) {
        return 0;
    }
    /* Past 15 bytes is #GP even if the buffer is short; a short buffer that ends before
     * byte 15 needs more bytes first. */
    return r->pos + n > X86_MAX_INSN_LEN ? -DECODE_TOO_LONG : r->short_err;
}

static inline uint32_t reader_le(const Reader *r, unsigned n)
{
    const uint8_t *p = r->bytes + r->pos;
    uint32_t v = p[0];
    if (n >= 2) {
        v |= (uint32_t)p[1] << 8;
    }
    if (n == 4) {
        v |= (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
    }
    return v;
}

static inline uint32_t sign_extend(uint32_t v, unsigned bytes)
{
    if (bytes == 1) {
        return (uint32_t)(int32_t)(int8_t)v;
    }
    if (bytes == 2) {
        return (uint32_t)(int32_t)(int16_t)v;
    }
    return v;
}

static int decode_fail(DecodedInsn *out, const Reader *r, int err)
{
    out->len = (uint8_t)r->pos;
    return err;
}

/* decode_modrm_mem: the address of a memory operand (mod != 3): SIB and displacement. */
static int decode_modrm_mem(Reader *r, DecodedInsn *out)
{
    unsigned mod = out->mod;
    unsigned rm = out->rm;
    unsigned dsize;
    int err;

    if (out->addrsize == 2) {
        if (mod == 0 && rm == 6) {
            out->base = -1;
            dsize = 2;
        } else {
            out->base = decode_base16[rm];
            out->index = decode_index16[rm];
            dsize = mod == 1 ? 1 : mod == 2 ? 2 : 0;
        }
    } else {
        out->base = (int8_t)rm;
        if (rm == 4) {
            if ((err = reader_need(r, 1)) != 0) {
                return err;
            }
            uint8_t sib = r->bytes[r->pos++];
            unsigned idx = (sib >> 3) & 7;
            out->base = (int8_t)(sib & 7);
            if (idx != 4) {
                out->index = (int8_t)idx;
                out->scale = sib >> 6;
            }
            if ((sib & 7) == 5 && mod == 0) {
                out->base = -1;
                dsize = 4;
            } else {
                dsize = mod == 1 ? 1 : mod == 2 ? 4 : 0;
            }
        } else if (rm == 5 && mod == 0) {
            out->base = -1;
            dsize = 4;
        } else {
            dsize = mod == 1 ? 1 : mod == 2 ? 4 : 0;
        }
    }
    if (dsize) {
        if ((err = reader_need(r, dsize)) != 0) {
            return err;
        }
        out->disp = sign_extend(reader_le(r, dsize), dsize);
        out->dispsize = (uint8_t)dsize;
        r->pos += dsize;
    }
    /* SDM Vol. 3 3.7.4: a BP/EBP/ESP base addresses the stack segment. */
    if (out->seg_override == SEG_NONE && (out->base == 4 || out->base == 5)) {
        out->seg = SEG_SS;
    }
    return 0;
}

/* decode_imm: the immediates of kind imm. */
static int decode_imm(Reader *r, DecodedInsn *out, unsigned imm)
{
    unsigned n;
    int err;

    switch (imm) {
    case IMM_NONE:
        return 0;
    case IMM_IB:
    case IMM_IBS:
        n = 1;
        break;
    case IMM_IW:
    case IMM_ENTER:
        n = 2;
        break;
    case IMM_MOFFS:
        n = out->addrsize;
        break;
    default: /* IZ, JZ, FAR */
        n = out->opsize;
        break;
    }
    if ((err = reader_need(r, n)) != 0) {
        return err;
    }
    uint32_t v = reader_le(r, n);
    r->pos += n;
    if (imm == IMM_MOFFS) {
        out->disp = v;
        out->dispsize = (uint8_t)n;
        out->flags |= DI_MEM | DI_MOFFS;
        return 0;
    }
    out->imm = (imm == IMM_IBS || imm == IMM_JZ) ? sign_extend(v, n) : v;
    out->immsize = (uint8_t)n;
    if (imm == IMM_ENTER || imm == IMM_FAR) {
        unsigned n2 = imm == IMM_ENTER ? 1 : 2;
        if ((err = reader_need(r, n2)) != 0) {
            return err;
        }
        out->imm2 = reader_le(r, n2);
        r->pos += n2;
    }
    return 0;
}

int x86_decode(const DecodeEnv *env, DecodedInsn *out)
{
    Reader r = {
        .bytes = env->bytes,
        .pos = 0,
        .lim = env->avail < X86_MAX_INSN_LEN ? env->avail : X86_MAX_INSN_LEN,
        .short_err = env->avail < X86_MAX_INSN_LEN ? -DECODE_NEED_MORE : -DECODE_TOO_LONG,
    };
    bool opsize32 = env->code32;
    bool addr32 = env->code32;
    bool lock = false;
    bool has66 = false;
    uint8_t last_rep = 0; /* 0xF2, 0xF3 or 0 */
    int seg_override = SEG_NONE;
    const DecodeEntry *e;
    int err;

    *out = (DecodedInsn){.seg_override = SEG_NONE, .seg = SEG_DS, .base = -1, .index = -1};

    /* 1. Prefixes. Repeats are legal; only the 15-byte limit bounds them. */
    for (;;) {
        if ((err = reader_need(&r, 1)) != 0) {
            return decode_fail(out, &r, err);
        }
        e = &decode_map[0][r.bytes[r.pos]];
        if (e->kind != DK_PREFIX) {
            break;
        }
        switch (e->sub) {
        case PFX_OPSIZE:
            opsize32 = !env->code32;
            has66 = true;
            break;
        case PFX_ADSIZE:
            addr32 = !env->code32;
            break;
        case PFX_LOCK:
            lock = true;
            break;
        case PFX_REPNE:
            last_rep = 0xF2;
            break;
        case PFX_REP:
            last_rep = 0xF3;
            break;
        default:
            seg_override = e->sub;
            break;
        }
        r.pos++;
    }
    out->nprefix = (uint8_t)r.pos;
    out->opsize = opsize32 ? 4 : 2;
    out->addrsize = addr32 ? 4 : 2;
    out->seg_override = (int8_t)seg_override;
    out->seg = (int8_t)(seg_override == SEG_NONE ? SEG_DS : seg_override);
    out->rep = last_rep == 0xF3 ? REP_F3 : last_rep == 0xF2 ? REP_F2 : REP_NONE;

    /* 2. Opcode bytes. */
    unsigned map = 0;
    uint8_t opbyte = r.bytes[r.pos++];
    while (e->kind == DK_ESCAPE) {
        map = e->sub;
        if ((err = reader_need(&r, 1)) != 0) {
            return decode_fail(out, &r, err);
        }
        opbyte = r.bytes[r.pos++];
        e = &decode_map[map][opbyte];
    }
    out->op = (uint16_t)(map << 8 | opbyte);
    if (e->kind == DK_SIMD) {
        unsigned col = last_rep == 0xF3   ? SIMD_F3
                       : last_rep == 0xF2 ? SIMD_F2
                       : has66            ? SIMD_66
                                          : SIMD_NP;
        static const uint8_t simd_prefix_byte[4] = {0, 0x66, 0xF3, 0xF2};
        out->simd_prefix = simd_prefix_byte[col];
        e = &decode_simd[e->sub][col];
    }
    if (e->kind == DK_INVALID) {
        return decode_fail(out, &r, -DECODE_UD);
    }
    unsigned attr = e->attr;

    /* 3. ModRM and the group / form rules. */
    if (attr & A_MODRM) {
        if ((err = reader_need(&r, 1)) != 0) {
            return decode_fail(out, &r, err);
        }
        uint8_t modrm = r.bytes[r.pos++];
        out->modrm = modrm;
        out->mod = modrm >> 6;
        out->reg = (modrm >> 3) & 7;
        out->rm = modrm & 7;
        out->flags |= DI_HAS_MODRM;
        bool regform = out->mod == 3 || (attr & A_ANYMOD);
        if (e->kind == DK_GROUP || e->kind == DK_X87) {
            if (e->kind == DK_X87) {
                out->flags |= DI_X87;
                /* Register forms of D8-DF are valid per whole ModRM byte (SDM Vol. 2
                 * Tables A-7..A-22), not per reg field. */
                unsigned bit = modrm & 63;
                if (regform && !((decode_x87_reg[opbyte & 7][bit >> 5] >> (bit & 31)) & 1)) {
                    return decode_fail(out, &r, -DECODE_UD);
                }
            }
            e = &decode_groups[e->sub][(regform ? 8 : 0) + out->reg];
            if (e->kind == DK_INVALID) {
                return decode_fail(out, &r, -DECODE_UD);
            }
            attr |= e->attr;
        }
        if (regform ? (attr & A_MEM) : (attr & A_REG)) {
            return decode_fail(out, &r, -DECODE_UD);
        }
        if (lock && (regform || !(attr & A_LOCK))) {
            return decode_fail(out, &r, -DECODE_UD);
        }
        if (!regform) {
            out->flags |= DI_MEM;
            if ((err = decode_modrm_mem(&r, out)) != 0) {
                return decode_fail(out, &r, err);
            }
        }
    } else if (lock) {
        return decode_fail(out, &r, -DECODE_UD);
    }
    if (lock) {
        out->flags |= DI_LOCK;
    }
    if (attr & A_MMX) {
        out->flags |= DI_MMX;
    }
    if (attr & A_SSE) {
        out->flags |= DI_SSE;
    }

    /* 5. Immediates. */
    if ((err = decode_imm(&r, out, e->imm)) != 0) {
        return decode_fail(out, &r, err);
    }
    out->len = (uint8_t)r.pos;
    return (int)r.pos;
}

const char *x86_decode_mnemonic(const DecodedInsn *d)
{
    unsigned map = (d->op >> 8) & 3;
    unsigned opbyte = d->op & 0xFF;
    const DecodeEntry *e = &decode_map[map][opbyte];
    const char *name = decode_map_names[map][opbyte];
    if (e->kind == DK_SIMD) {
        unsigned col = d->simd_prefix == 0xF3   ? SIMD_F3
                       : d->simd_prefix == 0xF2 ? SIMD_F2
                       : d->simd_prefix == 0x66 ? SIMD_66
                                                : SIMD_NP;
        name = decode_simd_names[e->sub][col];
        e = &decode_simd[e->sub][col];
    }
    if ((e->kind == DK_GROUP || e->kind == DK_X87) && e->sub < DECODE_NGROUPS) {
        bool regform = d->mod == 3 || (e->attr & A_ANYMOD);
        if (e->kind == DK_X87 && regform) {
            name = decode_x87_reg_names[opbyte & 7][d->modrm & 63];
        } else {
            name = decode_group_names[e->sub][(regform ? 8 : 0) + d->reg];
        }
    }
    return name ? name : "(invalid)";
}
