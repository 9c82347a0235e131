/* test_decode_oracle.c: differential test of the decoder against Capstone on random,
 * mostly-valid instruction streams in 16- and 32-bit code.
 *
 * For every sample both decoders accept, the lengths must agree, and so must the operand
 * shape: ModRM memory vs register, the memory operand's base/index/scale/displacement, the
 * displacement size, and the size and value of the immediate. Capstone 4's known defects are
 * listed in oracle_exceptions[] below (each with the bytes and why) and in
 * docs/capstone-notes.md.
 *
 * The seed is fixed so CI is deterministic; ANYVM_DECODE_SEED=<n> reproduces or varies a run,
 * ANYVM_DECODE_SAMPLES=<n> changes the per-mode sample count (default 250000 per mode).
 */
#include "translate/decode.h"

#include <capstone/capstone.h>
#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DEFAULT_SEED 0x414E5956u /* "ANYV" */
#define DEFAULT_SAMPLES 250000u
#define MAX_REPORTED 20

/* ---- deterministic generator --------------------------------------------------------- */

typedef struct Rng {
    uint64_t s;
} Rng;

static uint64_t rng_next(Rng *r)
{
    /* splitmix64 */
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static unsigned rng_below(Rng *r, unsigned n)
{
    return (unsigned)(rng_next(r) % n);
}

static const uint8_t prefix_bytes[] = {0x26, 0x2E, 0x36, 0x3E, 0x64, 0x65,
                                       0x66, 0x67, 0xF0, 0xF2, 0xF3};

/* gen_sample: prefixes, then an opcode (one-byte map, 0F map or x87 escape), then random
 * ModRM/SIB/displacement/immediate bytes. Returns the buffer length (always 16). */
static unsigned gen_sample(Rng *r, uint8_t buf[16])
{
    for (unsigned i = 0; i < 16; i += 8) {
        uint64_t v = rng_next(r);
        memcpy(buf + i, &v, 8);
    }
    unsigned kind = rng_below(r, 100);
    if (kind < 5) {
        return 16; /* pure noise */
    }
    unsigned pos = 0;
    unsigned npfx = rng_below(r, 100);
    npfx = npfx < 45 ? 0 : npfx < 80 ? 1 : npfx < 95 ? 2 : 3 + rng_below(r, 3);
    for (unsigned i = 0; i < npfx; i++) {
        unsigned p = rng_below(r, 100);
        /* 66 and F2/F3 matter most (operand size, SIMD forms); LOCK mostly makes #UD. */
        uint8_t b = p < 30   ? 0x66
                    : p < 42 ? 0xF3
                    : p < 54 ? 0xF2
                    : p < 66 ? 0x67
                    : p < 70 ? 0xF0
                             : prefix_bytes[rng_below(r, 6)];
        buf[pos++] = b;
    }
    if (kind < 50) {
        /* one-byte map: anything that is not itself a prefix */
        uint8_t op;
        do {
            op = (uint8_t)rng_next(r);
        } while (memchr(prefix_bytes, op, sizeof(prefix_bytes)) || op == 0x64 || op == 0x65);
        buf[pos++] = op;
    } else if (kind < 90) {
        buf[pos++] = 0x0F;
        buf[pos++] = (uint8_t)rng_next(r);
    } else {
        buf[pos++] = (uint8_t)(0xD8 + rng_below(r, 8));
    }
    /* A quarter of the samples get r/m = 4: a SIB byte in 32-bit addressing (and [SI] forms
     * in 16-bit addressing), which uniform ModRM bytes would cover only one time in eight. */
    if (rng_below(r, 4) == 0) {
        buf[pos] = (uint8_t)((buf[pos] & 0xF8) | 4);
    }
    return 16;
}

/* ---- Capstone side ------------------------------------------------------------------- */

static x86_reg cs_sreg(int seg)
{
    static const x86_reg sr[6] = {X86_REG_ES, X86_REG_CS, X86_REG_SS,
                                  X86_REG_DS, X86_REG_FS, X86_REG_GS};
    return seg >= 0 && seg < 6 ? sr[seg] : X86_REG_INVALID;
}

static x86_reg cs_gpr(int r, unsigned size)
{
    static const x86_reg r32[8] = {X86_REG_EAX, X86_REG_ECX, X86_REG_EDX, X86_REG_EBX,
                                   X86_REG_ESP, X86_REG_EBP, X86_REG_ESI, X86_REG_EDI};
    static const x86_reg r16[8] = {X86_REG_AX, X86_REG_CX, X86_REG_DX, X86_REG_BX,
                                   X86_REG_SP, X86_REG_BP, X86_REG_SI, X86_REG_DI};
    if (r < 0) {
        return X86_REG_INVALID;
    }
    return size == 2 ? r16[r & 7] : r32[r & 7];
}

/* ---- known Capstone defects -------------------------------------------------------------- */

enum {
    X_LEN = 1u << 0,     /* instruction length */
    X_MEM = 1u << 1,     /* memory vs register, or the address */
    X_DISP = 1u << 2,    /* displacement size */
    X_IMMSIZE = 1u << 3, /* immediate size */
    X_IMMVAL = 1u << 4,  /* immediate value or branch target */
};

typedef struct Sample {
    bool code32;
    const uint8_t *bytes;
    const DecodedInsn *d;
    const cs_insn *ci;
} Sample;

static bool has_prefix(const Sample *s, uint8_t p)
{
    return memchr(s->bytes, p, s->d->nprefix) != NULL;
}

static bool is_rel_branch(const DecodedInsn *d)
{
    return (d->op >= 0x70 && d->op <= 0x7F) || (d->op >= 0xE0 && d->op <= 0xE3) || d->op == 0xE8 ||
           d->op == 0xE9 || d->op == 0xEB || (d->op >= 0x180 && d->op <= 0x18F);
}

static bool is_far(const DecodedInsn *d)
{
    return d->op == 0x9A || d->op == 0xEA;
}

#define ORACLE_ADDR 0x1000u

/* Branch target as the CPU computes it: next EIP + offset, wrapped to the operand size. */
static uint32_t branch_target(const DecodedInsn *d)
{
    uint32_t t = ORACLE_ADDR + d->len + d->imm;
    return d->opsize == 4 ? t : (t & 0xFFFF);
}

static bool x_rel_target_width(const Sample *s)
{
    /* Only the upper bits differ, and a 66/67 prefix or 16-bit code is involved. */
    const cs_x86 *x = &s->ci->detail->x86;
    if (!is_rel_branch(s->d) || (s->code32 && !has_prefix(s, 0x66) && !has_prefix(s, 0x67))) {
        return false;
    }
    for (unsigned i = 0; i < x->op_count; i++) {
        if (x->operands[i].type == X86_OP_IMM) {
            return ((uint32_t)x->operands[i].imm & 0xFFFF) == (branch_target(s->d) & 0xFFFF);
        }
    }
    return false;
}

static bool x_enter_imm_size(const Sample *s)
{
    return s->d->op == 0xC8 && s->ci->detail->x86.encoding.imm_size == 1;
}

static bool x_in_out_imm_size(const Sample *s)
{
    unsigned cs_size = s->ci->detail->x86.encoding.imm_size;
    return (s->d->op == 0xE5 || s->d->op == 0xE7) && (cs_size == 2 || cs_size == 4);
}

static bool x_rep_opsize_imm_size(const Sample *s)
{
    /* The immediate still starts where ours does; only the reported size is wrong. */
    const cs_x86_encoding *e = &s->ci->detail->x86.encoding;
    return has_prefix(s, 0x66) && (has_prefix(s, 0xF2) || has_prefix(s, 0xF3)) &&
           e->imm_size == 4 && s->d->immsize == 2 && e->imm_offset + 2u == s->ci->size;
}

static bool x_aam_aad_default_base(const Sample *s)
{
    return (s->d->op == 0xD4 || s->d->op == 0xD5) && s->d->imm == 10 &&
           s->ci->detail->x86.op_count == 0;
}

static bool x_rep_opsize_branch(const Sample *s)
{
    return s->code32 && is_rel_branch(s->d) && s->d->opsize == 2 && has_prefix(s, 0x66) &&
           (has_prefix(s, 0xF2) || has_prefix(s, 0xF3)) && s->ci->size == s->d->len + 2u;
}

/* One documented Capstone 4 defect: an example (mode and bytes), the comparisons it may
 * excuse, a predicate that recognises it, and why. docs/capstone-notes.md has the details. */
typedef struct OracleException {
    const char *example;
    unsigned what;
    bool (*match)(const Sample *s);
    const char *why;
} OracleException;

static const OracleException oracle_exceptions[] = {
    {"16-bit 66 0F 87 F8 24 F3 EF; 32-bit 67 E9 80 E2 3B 78", X_IMMVAL, x_rel_target_width,
     "Capstone wraps near branch targets with the mode or address size instead of the "
     "operand size (rel32 under 66 in 16-bit code, any branch under 67)"},
    {"32-bit C8 DF 96 85", X_IMMSIZE, x_enter_imm_size,
     "ENTER: Capstone reports imm_size 1 (the level byte) for the 16-bit size immediate"},
    {"32-bit E5 D4", X_IMMSIZE, x_in_out_imm_size,
     "IN/OUT eAX, imm8: Capstone reports the operand size as the immediate size"},
    {"32-bit 66 F3 BC E9 2E", X_IMMSIZE, x_rep_opsize_imm_size,
     "66 together with F2/F3: Capstone reports imm_size 4 for a 16-bit immediate"},
    {"32-bit D5 0A", X_IMMVAL, x_aam_aad_default_base,
     "AAM/AAD with the default base 10: Capstone drops the immediate operand"},
    {"32-bit 66 F3 E8 2A F1", X_LEN | X_IMMSIZE | X_IMMVAL, x_rep_opsize_branch,
     "66 with F2/F3 (MPX BND) on a near branch: Capstone ignores 66 and reads a rel32"},
};

/* ---- the comparison ----------------------------------------------------------------- */

#define NEXCEPTIONS (sizeof(oracle_exceptions) / sizeof(oracle_exceptions[0]))

typedef struct Stats {
    unsigned long samples, both, anyvm_only, cs_only, neither, agree, excepted, mismatches;
    unsigned long per_exception[NEXCEPTIONS];
    /* Acceptance differences by opcode (ANYVM_DECODE_VERBOSE), with one example each. */
    unsigned long only_count[2][OP_COUNT];
    uint8_t only_example[2][OP_COUNT][16];
} Stats;

static void hexdump(char *out, size_t n, const uint8_t *b, unsigned len)
{
    out[0] = 0;
    for (unsigned i = 0; i < len && (i + 1) * 3 < n; i++) {
        snprintf(out + i * 3, n - i * 3, "%02X ", b[i]);
    }
}

/* excused: true if every difference in diff is explained by one documented defect. */
static const OracleException *excused(const Sample *s, unsigned diff)
{
    for (unsigned i = 0; i < NEXCEPTIONS; i++) {
        const OracleException *x = &oracle_exceptions[i];
        if ((diff & ~x->what) == 0 && x->match(s)) {
            return x;
        }
    }
    return NULL;
}

/* compare: 0 if the two decodes agree, else a mask of X_* saying what differs (why gets a
 * description of the last difference). */
static unsigned compare(const Sample *s, char *why, size_t whylen)
{
    const DecodedInsn *d = s->d;
    const cs_x86 *x = &s->ci->detail->x86;
    unsigned diff = 0;
    why[0] = 0;
    if (s->ci->size != d->len) {
        snprintf(why, whylen, "length %u vs capstone %u", d->len, s->ci->size);
        return X_LEN;
    }
    const cs_x86_op *mem = NULL;
    for (unsigned i = 0; i < x->op_count; i++) {
        if (x->operands[i].type == X86_OP_MEM) {
            mem = &x->operands[i];
        }
    }
    if (d->flags & (DI_HAS_MODRM | DI_MOFFS)) {
        bool ours = (d->flags & DI_MEM) != 0;
        if (ours != (mem != NULL)) {
            snprintf(why, whylen, "memory operand %d vs capstone %d", ours, mem != NULL);
            diff |= X_MEM;
        } else if (mem && (mem->mem.base != cs_gpr(d->base, d->addrsize) ||
                           mem->mem.index != cs_gpr(d->index, d->addrsize) ||
                           (d->index >= 0 && mem->mem.scale != (1 << d->scale)) ||
                           (uint32_t)mem->mem.disp != d->disp ||
                           (d->seg_override != SEG_NONE &&
                            mem->mem.segment != cs_sreg(d->seg_override)))) {
            snprintf(why, whylen,
                     "address base %d index %d scale %u disp %x vs capstone "
                     "base %d index %d scale %d disp %" PRIx64 " seg %d/%d",
                     d->base, d->index, d->scale, d->disp, mem->mem.base, mem->mem.index,
                     mem->mem.scale, (uint64_t)mem->mem.disp, d->seg_override, mem->mem.segment);
            diff |= X_MEM;
        }
    }
    if (x->encoding.disp_size != d->dispsize) {
        snprintf(why, whylen, "displacement size %u vs capstone %u", d->dispsize,
                 x->encoding.disp_size);
        diff |= X_DISP;
    }
    /* Immediates: the first immediate operand's value (for a relative branch Capstone shows
     * the target, so targets are compared); ENTER and far pointers have two. */
    const cs_x86_op *imm[2] = {NULL, NULL};
    unsigned nimm = 0;
    for (unsigned i = 0; i < x->op_count && nimm < 2; i++) {
        if (x->operands[i].type == X86_OP_IMM) {
            imm[nimm++] = &x->operands[i];
        }
    }
    if (is_far(d)) {
        /* Capstone lists ptr16:16/32 as selector, then offset; its imm_size is not set. */
        if (nimm != 2 || (uint32_t)imm[0]->imm != d->imm2 || (uint32_t)imm[1]->imm != d->imm) {
            snprintf(why, whylen, "far pointer %x:%x differs", d->imm2, d->imm);
            diff |= X_IMMVAL;
        }
        return diff;
    }
    if (x->encoding.imm_size != d->immsize) {
        snprintf(why, whylen, "immediate size %u vs capstone %u", d->immsize,
                 x->encoding.imm_size);
        diff |= X_IMMSIZE;
    }
    if (d->immsize) {
        uint32_t mask = d->immsize == 4 ? 0xFFFFFFFFu : (1u << (8 * d->immsize)) - 1;
        uint32_t ours = d->imm;
        if (is_rel_branch(d)) {
            mask = 0xFFFFFFFFu;
            ours = branch_target(d);
        }
        if (d->op == 0x1C2 && nimm == 0 && d->imm < 8) {
            /* CMPccPS/SS/PD/SD: Capstone folds predicates 0-7 into the mnemonic and
             * reports them as sse_cc (1-based) instead of an operand. */
            if (x->sse_cc != (x86_sse_cc)(d->imm + 1)) {
                snprintf(why, whylen, "compare predicate %u vs capstone sse_cc %d", d->imm,
                         x->sse_cc);
                diff |= X_IMMVAL;
            }
        } else if (nimm == 0 || ((uint32_t)imm[0]->imm & mask) != (ours & mask)) {
            snprintf(why, whylen, "immediate %x vs capstone %" PRIx64, ours & mask,
                     nimm ? (uint64_t)imm[0]->imm : 0);
            diff |= X_IMMVAL;
        }
        if (d->op == 0xC8 && (nimm != 2 || ((uint32_t)imm[1]->imm & 0xFF) != d->imm2)) {
            snprintf(why, whylen, "ENTER level %x differs", d->imm2);
            diff |= X_IMMVAL;
        }
    } else if (x->encoding.imm_size == 0 && nimm && !(d->op >= 0xD0 && d->op <= 0xD1)) {
        /* Capstone shows implicit immediates (the 1 of D0/D1 shifts) but nothing else. */
        snprintf(why, whylen, "capstone has an immediate %" PRIx64 " we lack",
                 (uint64_t)imm[0]->imm);
        diff |= X_IMMVAL;
    }
    return diff;
}

static double now_sec(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* decode_rate: nanoseconds per x86_decode call over n pre-generated samples (informational:
 * the build type and the machine's load dominate). */
static double decode_rate(bool code32, uint64_t seed, unsigned long n)
{
    Rng rng = {seed};
    uint8_t(*bufs)[16] = malloc(n * 16);
    cr_assert_not_null(bufs);
    for (unsigned long i = 0; i < n; i++) {
        gen_sample(&rng, bufs[i]);
    }
    unsigned long sum = 0;
    double t0 = now_sec();
    for (unsigned long i = 0; i < n; i++) {
        DecodeEnv env = {.bytes = bufs[i], .avail = 16, .code32 = code32};
        DecodedInsn d;
        sum += (unsigned)x86_decode(&env, &d);
    }
    double dt = now_sec() - t0;
    free(bufs);
    cr_assert_neq(sum, 0);
    return dt * 1e9 / (double)n;
}

static void run_mode(bool code32, uint64_t seed, unsigned long nsamples, Stats *st, FILE *log)
{
    csh h;
    cr_assert_eq(cs_open(CS_ARCH_X86, code32 ? CS_MODE_32 : CS_MODE_16, &h), CS_ERR_OK);
    cs_option(h, CS_OPT_DETAIL, CS_OPT_ON);
    cs_insn *ci = cs_malloc(h);
    Rng rng = {seed ^ (code32 ? 0x32 : 0x16)};
    unsigned reported = 0;
    memset(st, 0, sizeof(*st));

    for (unsigned long s = 0; s < nsamples; s++) {
        uint8_t buf[16];
        unsigned n = gen_sample(&rng, buf);
        DecodeEnv env = {.bytes = buf, .avail = n, .code32 = code32};
        DecodedInsn d;
        int len = x86_decode(&env, &d);
        const uint8_t *code = buf;
        size_t size = n;
        uint64_t addr = ORACLE_ADDR;
        bool cs_ok = cs_disasm_iter(h, &code, &size, &addr, ci);
        st->samples++;
        if (len > 0 && cs_ok) {
            st->both++;
        } else if (len > 0 || cs_ok) {
            /* Accepted by one side only: count per opcode; d.op is set once the opcode
             * has been read, which covers every #UD except a bad escape byte. */
            int side = len > 0 ? 0 : 1;
            unsigned op = d.op % OP_COUNT;
            if (st->only_count[side][op]++ == 0) {
                memcpy(st->only_example[side][op], buf, 16);
            }
            if (side == 0) {
                st->anyvm_only++;
            } else {
                st->cs_only++;
            }
            continue;
        } else {
            st->neither++;
            continue;
        }
        char why[160];
        Sample smp = {.code32 = code32, .bytes = buf, .d = &d, .ci = ci};
        unsigned diff = compare(&smp, why, sizeof(why));
        if (!diff) {
            st->agree++;
            continue;
        }
        const OracleException *x = excused(&smp, diff);
        if (x) {
            st->per_exception[x - oracle_exceptions]++;
            st->excepted++;
            continue;
        }
        st->mismatches++;
        if (reported++ < MAX_REPORTED) {
            char hex[64];
            hexdump(hex, sizeof(hex), buf, d.len);
            fprintf(log, "  %s-bit [%s] %s: %s | capstone: %s %s\n", code32 ? "32" : "16", hex,
                    x86_decode_mnemonic(&d), why, ci->mnemonic, ci->op_str);
        }
    }
    cs_free(ci, 1);
    cs_close(&h);
}

/* print_acceptance: the opcodes only one side accepts, with counts and an example. */
static void print_acceptance(const Stats *st, bool code32)
{
    for (int side = 0; side < 2; side++) {
        fprintf(stderr, "  accepted only by %s (%s-bit):\n", side ? "capstone" : "anyvm",
                code32 ? "32" : "16");
        for (unsigned op = 0; op < OP_COUNT; op++) {
            if (st->only_count[side][op]) {
                char hex[64];
                hexdump(hex, sizeof(hex), st->only_example[side][op], 8);
                fprintf(stderr, "    op %03X: %6lu  e.g. %s\n", op, st->only_count[side][op], hex);
            }
        }
    }
}

Test(decode_oracle, lengths_and_operand_shapes_agree_with_capstone, .timeout = 120)
{
    uint64_t seed = DEFAULT_SEED;
    unsigned long nsamples = DEFAULT_SAMPLES;
    const char *env = getenv("ANYVM_DECODE_SEED");
    if (env && *env) {
        seed = strtoull(env, NULL, 0);
    }
    env = getenv("ANYVM_DECODE_SAMPLES");
    if (env && *env) {
        nsamples = strtoul(env, NULL, 0);
    }
    fprintf(stderr, "decode oracle: seed 0x%" PRIx64 " (ANYVM_DECODE_SEED), %lu samples/mode\n",
            seed, nsamples);
    unsigned long total_both = 0, total_bad = 0;
    for (int m = 0; m < 2; m++) {
        bool code32 = m == 1;
        Stats *stp = calloc(1, sizeof(*stp));
        cr_assert_not_null(stp);
        run_mode(code32, seed, nsamples, stp, stderr);
        fprintf(stderr,
                "decode oracle %s-bit: %lu samples; both accept %lu (agree %lu, documented "
                "capstone defects %lu, mismatches %lu); anyvm only %lu; capstone only %lu; "
                "both reject %lu\n",
                code32 ? "32" : "16", stp->samples, stp->both, stp->agree, stp->excepted,
                stp->mismatches, stp->anyvm_only, stp->cs_only, stp->neither);
        for (unsigned i = 0; i < NEXCEPTIONS; i++) {
            fprintf(stderr, "  %8lu x %s\n", stp->per_exception[i], oracle_exceptions[i].why);
        }
        if (getenv("ANYVM_DECODE_VERBOSE")) {
            print_acceptance(stp, code32);
        }
        total_both += stp->both;
        total_bad += stp->mismatches;
        free(stp);
    }
    fprintf(stderr, "decode oracle: x86_decode %.1f ns/instruction (32-bit random stream)\n",
            decode_rate(true, seed, nsamples));
    cr_expect_eq(total_bad, 0, "%lu decodes disagree with Capstone (seed 0x%" PRIx64 ")",
                 total_bad, seed);
    cr_expect_geq(total_both, 200000, "too few comparable samples: %lu", total_both);
}
