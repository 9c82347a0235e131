/* decode.h: the pure IA-32 instruction decoder: bytes + mode -> DecodedInsn, no side effects. */
#ifndef ANYVM_TRANSLATE_DECODE_H
#define ANYVM_TRANSLATE_DECODE_H

#include <stdbool.h>
#include <stdint.h>

#define X86_MAX_INSN_LEN 15

/* Opcode map index in DecodedInsn.op: which table the final opcode byte came from. */
enum {
    OP_MAP_1 = 0x000,      /* one-byte opcodes: op = byte */
    OP_MAP_0F = 0x100,     /* 0F xx: op = 0x100 | xx */
    OP_MAP_0F38 = 0x200,   /* 0F 38 xx */
    OP_MAP_0F3A = 0x300,   /* 0F 3A xx */
    OP_COUNT = 0x400,
};

/* Segment register numbers (also the order of CPUState.seg). */
enum { SEG_ES, SEG_CS, SEG_SS, SEG_DS, SEG_FS, SEG_GS, SEG_NONE = -1 };

/* Repeat prefixes as they appear last on the instruction. */
enum { REP_NONE = 0, REP_F3 = 1, REP_F2 = 2 };

/* Decoder results (negative returns of x86_decode). */
enum {
    DECODE_UD = 1,      /* invalid opcode or invalid form (e.g. LEA reg, LOCK on non-RMW): #UD */
    DECODE_TOO_LONG,    /* over 15 bytes: #GP(0) */
    DECODE_NEED_MORE,   /* ran out of env->avail bytes: the caller fetches more (maybe #PF) */
};

/* DecodedInsn flags. */
enum {
    DI_HAS_MODRM = 1u << 0,
    DI_MEM = 1u << 1,          /* ModRM (or moffs) addresses memory */
    DI_LOCK = 1u << 2,         /* LOCK prefix present (and valid for this form) */
    DI_X87 = 1u << 3,          /* D8-DF escape */
    DI_MMX = 1u << 4,          /* MMX form (0F xx without 66/F2/F3 in the SIMD space) */
    DI_SSE = 1u << 5,          /* SSE/SSE2 form */
    DI_MOFFS = 1u << 6,        /* A0-A3: disp is an absolute offset */
};
/* Precisely: DI_MMX is set when the instruction touches MMX registers (an MMX operand, or
 * EMMS), DI_SSE when it touches XMM registers or MXCSR. CVTPI2PS and friends have both;
 * PSHUFW/PMINUB... (SSE's additions to MMX) have DI_MMX only, as they do not need CR4.OSFXSR.
 * Which CPU features exist (CPUID) is the interpreter's decision: the decoder accepts i686 +
 * MMX + SSE + SSE2 and reports #UD for SSE3 and later (see translate/decode_opcodes.txt). */

/* DecodedInsn: everything the interpreter and the JIT frontend need, computed once.
 * Effective address = seg_base(seg) + (base >= 0 ? reg[base] : 0)
 *                   + (index >= 0 ? reg[index] << scale : 0) + disp, truncated to addrsize. */
typedef struct DecodedInsn {
    uint16_t op;           /* OP_MAP_* | final opcode byte */
    uint8_t len;           /* total bytes including prefixes */
    uint8_t nprefix;       /* number of prefix bytes */
    uint8_t opsize;        /* operand size in bytes: 2 or 4 (1 for byte forms is implied by op) */
    uint8_t addrsize;      /* 2 or 4 */
    int8_t seg_override;   /* SEG_* from a prefix, or SEG_NONE */
    int8_t seg;            /* segment for the memory operand: override, else SS for a
                              BP/EBP/ESP base, else DS */
    uint8_t rep;           /* REP_* */
    uint8_t simd_prefix;   /* 0, 0x66, 0xF2 or 0xF3: the mandatory prefix for SSE forms */
    uint8_t modrm;         /* raw ModRM byte (valid with DI_HAS_MODRM) */
    uint8_t mod, reg, rm;  /* its fields */
    int8_t base, index;    /* GPR numbers for the address, or -1 */
    uint8_t scale;         /* shift count 0..3 */
    uint16_t flags;        /* DI_* */
    uint32_t disp;         /* displacement or moffs, sign-extended to 32 bits */
    uint32_t imm;          /* first immediate, sign- or zero-extended as the opcode defines */
    uint32_t imm2;         /* second immediate: ENTER level, far pointer selector */
    uint8_t immsize;       /* bytes of the first immediate in the encoding (0 if none) */
    uint8_t dispsize;      /* bytes of displacement or moffs in the encoding (0 if none) */
} DecodedInsn;
/* Field conventions (details in translate/decode.c):
 * - imm: relative branch offsets (Jb, Jz) and the 8-bit immediates of 83, 6A and 6B are
 *   sign-extended to 32 bits; every other immediate is zero-extended.
 * - opsize reflects a 66 prefix even where 66 is the mandatory prefix of an SSE2 form.
 * - simd_prefix is set only for opcodes in the SIMD space (0 for everything else).
 * - Without a ModRM byte: modrm/mod/reg/rm are 0, base = index = -1; seg is still the
 *   override or DS (the source segment of string instructions and XLAT).
 * - ModRM register forms (mod = 3, or MOV CRn/DRn): base = index = -1, disp = 0. */

/* DecodeEnv: the bytes at the instruction pointer and the mode. avail may be less than 15 at
 * the end of a page; the decoder then returns -DECODE_NEED_MORE if it needs more. */
typedef struct DecodeEnv {
    const uint8_t *bytes;
    unsigned avail;
    bool code32;           /* CS.D: default operand and address size 32 */
} DecodeEnv;

/* x86_decode: decode one instruction. Returns its length (1..15) or -DECODE_*. On -DECODE_UD
 * out->len still holds the bytes consumed so far (for diagnostics only). */
int x86_decode(const DecodeEnv *env, DecodedInsn *out);

/* x86_disasm: one line of Capstone disassembly of the bytes at addr (for -d in_asm, the
 * monitor and traces). Writes at most buflen bytes; returns the instruction length, or 0 if
 * Capstone cannot decode it (buf then says "(bad)"). */
int x86_disasm(const uint8_t *bytes, unsigned avail, uint32_t addr, bool code32, char *buf,
               unsigned buflen);

/* x86_decode_mnemonic: the upper-case mnemonic of a successfully decoded instruction, from
 * the opcode map ("ADD", "MOVUPS", "FSTP1"...), for diagnostics and logs; never NULL. Slow
 * path: not for use per executed instruction. */
const char *x86_decode_mnemonic(const DecodedInsn *d);

/* X86Disasm: a reusable Capstone context (one handle per code size), for callers that
 * disassemble often (traces, -d in_asm). Opening Capstone per call costs far more than the
 * disassembly itself. Not thread-safe: one per thread/machine. */
typedef struct X86Disasm X86Disasm;

/* x86_disasm_new: open Capstone for 16- and 32-bit code. Returns NULL if Capstone fails;
 * the caller owns the result and frees it with x86_disasm_free(). */
X86Disasm *x86_disasm_new(void);
void x86_disasm_free(X86Disasm *dis);

/* x86_disasm_with: like x86_disasm() but reuses dis. */
int x86_disasm_with(X86Disasm *dis, const uint8_t *bytes, unsigned avail, uint32_t addr,
                    bool code32, char *buf, unsigned buflen);

#endif
