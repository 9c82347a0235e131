/* test_fuzz_gen.c: properties of the fuzz case generator: determinism, instruction boundaries
 * that anyvm's decoder and Capstone agree on, and register/stack windows it promises. */
#include <criterion/criterion.h>
#include <string.h>

#include "fuzz_gen.h"
#include "translate/decode.h"

#define NCASES 3000u
#define SEED 0x1234abcdull

static FuzzCaseIn in_a, in_b;
static FuzzCaseMeta meta_a, meta_b;

Test(fuzz_gen, same_seed_and_index_give_identical_cases)
{
    for (uint64_t i = 0; i < 200; i++) {
        fuzz_gen_case(SEED, i, &in_a, &meta_a);
        fuzz_gen_case(SEED, i, &in_b, &meta_b);
        cr_assert(memcmp(&in_a, &in_b, sizeof(in_a)) == 0, "case %lu differs", (unsigned long)i);
        cr_assert(memcmp(&meta_a, &meta_b, sizeof(meta_a)) == 0);
    }
    fuzz_gen_case(SEED, 1, &in_a, &meta_a);
    fuzz_gen_case(SEED + 1, 1, &in_b, &meta_b);
    cr_assert(memcmp(&in_a, &in_b, sizeof(in_a)) != 0, "different seeds gave the same case");
}

Test(fuzz_gen, initial_stack_pointer_lies_in_the_stack_window)
{
    for (uint64_t i = 0; i < NCASES; i++) {
        fuzz_gen_case(SEED, i, &in_a, &meta_a);
        uint32_t sp = in_a.regs[4];
        cr_assert(sp >= FUZZ_STACK_BASE + 32 && sp <= FUZZ_STACK_BASE + FUZZ_STACK_SIZE - 32,
                  "case %lu: esp %08x", (unsigned long)i, sp);
        cr_assert_eq(in_a.eflags & ~(uint32_t)FZ_COMPARED, 0);
        cr_assert(in_a.code_len > 0 && in_a.code_len <= FUZZ_CODE_MAX - FUZZ_END_STUB_LEN);
    }
}

/* Unconditional transfers are followed by bytes that never execute. */
static bool skips_following_bytes(const DecodedInsn *d)
{
    switch (d->op) {
    case 0xE8: /* CALL rel32 */
    case 0xE9: /* JMP rel32 */
    case 0xEB: /* JMP rel8 */
    case 0xC2: /* RET imm16 */
    case 0xC3: /* RET */
        return true;
    case 0xFF:
        return d->reg == 2 || d->reg == 4; /* CALL/JMP r/m */
    default:
        return false;
    }
}

Test(fuzz_gen, marks_are_instruction_boundaries_for_the_decoder_and_capstone)
{
    unsigned checked = 0, ud = 0, overlong = 0;
    for (uint64_t i = 0; i < NCASES; i++) {
        fuzz_gen_case(SEED, i, &in_a, &meta_a);
        for (unsigned k = 0; k < meta_a.n_marks; k++) {
            uint32_t off = meta_a.marks[k].off;
            uint32_t next = k + 1 < meta_a.n_marks ? meta_a.marks[k + 1].off : in_a.code_len;
            cr_assert(next > off, "case %lu: marks not ascending", (unsigned long)i);
            DecodeEnv env = {.bytes = in_a.code + off, .avail = in_a.code_len - off,
                             .code32 = true};
            DecodedInsn d;
            int len = x86_decode(&env, &d);
            if (len == -DECODE_UD) {
                ud++;
                continue;
            }
            if (len == -DECODE_TOO_LONG) {
                overlong++;
                continue;
            }
            cr_assert(len > 0, "case %lu off %u: decode error %d", (unsigned long)i, off, len);
            if (skips_following_bytes(&d)) {
                cr_assert((uint32_t)len <= next - off);
            } else {
                cr_assert_eq((uint32_t)len, next - off, "case %lu off %u: length %d, gap %u",
                             (unsigned long)i, off, len, next - off);
            }
            char text[128];
            int clen = x86_disasm(in_a.code + off, in_a.code_len - off, FUZZ_CODE_BASE + off,
                                  true, text, sizeof(text));
            /* Capstone rejects a few valid forms (e.g. 0F 1F /0 with a register operand, which
             * runs natively); compare lengths where it decodes. */
            if (clen > 0) {
                cr_assert_eq(clen, len, "case %lu off %u: capstone %d (%s), anyvm %d",
                             (unsigned long)i, off, clen, text, len);
            }
            checked++;
        }
    }
    /* The intentional #UD and over-long forms are a small minority. */
    cr_assert(checked > 20 * NCASES / 10, "only %u instructions checked", checked);
    cr_assert(ud + overlong < checked / 20, "%u #UD and %u over-long of %u", ud, overlong,
              checked);
}

Test(fuzz_gen, final_mark_sits_at_the_end_of_the_code)
{
    for (uint64_t i = 0; i < 500; i++) {
        fuzz_gen_case(SEED, i, &in_a, &meta_a);
        cr_assert_eq(meta_a.final.off, in_a.code_len);
        cr_assert(fuzz_meta_at(&meta_a, in_a.code_len) == &meta_a.final);
        if (meta_a.n_marks) {
            cr_assert(fuzz_meta_at(&meta_a, meta_a.marks[0].off) == &meta_a.marks[0]);
        }
    }
}
