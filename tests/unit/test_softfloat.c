/* test_softfloat.c: the software x87 arithmetic against known values, and bit for bit against
 * the host's x87 on x86 hosts over random and special operands in every precision and rounding
 * mode (exceptions masked). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "core/softfloat.h"

static Floatx80 fx(uint16_t se, uint64_t sig)
{
    Floatx80 r = {sig, se};
    return r;
}

static bool same(Floatx80 a, Floatx80 b) { return a.se == b.se && a.sig == b.sig; }

Test(softfloat, exact_basics)
{
    SFEnv e = sf_env_from_fcw(0x037F);
    Floatx80 one = fx(0x3FFF, 1ull << 63), two = fx(0x4000, 1ull << 63);
    Floatx80 three = fx(0x4000, 3ull << 62);
    cr_assert(same(fx_add(&e, one, two), three));
    cr_assert(same(fx_mul(&e, three, two), fx(0x4001, 3ull << 62)));
    cr_assert(same(fx_sqrt(&e, fx(0x4001, 1ull << 63)), two));
    cr_assert_eq(e.flags, 0);
    /* 1/3 is inexact and rounds down in nearest mode at 64 bits. */
    Floatx80 third = fx_div(&e, one, three);
    cr_assert_eq(third.se, 0x3FFD);
    cr_assert_eq(third.sig, 0xAAAAAAAAAAAAAAABull);
    cr_assert(e.flags & SF_PE);
    /* PC = 24 bits: 1/3 keeps 24 significant bits. */
    SFEnv s = sf_env_from_fcw(0x007F);
    Floatx80 t24 = fx_div(&s, one, three);
    cr_assert_eq(t24.sig, 0xAAAAAB0000000000ull);
    /* x - x is +0 except when rounding down. */
    cr_assert(same(fx_sub(&e, three, three), fx_zero(false)));
    SFEnv d = sf_env_from_fcw(0x077F);
    cr_assert(same(fx_sub(&d, three, three), fx_zero(true)));
    /* Invalid operations give the real indefinite. */
    SFEnv i = sf_env_from_fcw(0x037F);
    cr_assert(same(fx_sub(&i, fx_inf(false), fx_inf(false)), FX_INDEFINITE));
    cr_assert(i.flags & SF_IE);
    cr_assert(same(fx_sqrt(&i, fx(0xBFFF, 1ull << 63)), FX_INDEFINITE));
    /* Division by zero. */
    SFEnv z = sf_env_from_fcw(0x037F);
    cr_assert(same(fx_div(&z, one, fx_zero(true)), fx_inf(true)));
    cr_assert_eq(z.flags, SF_ZE);
}

Test(softfloat, overflow_masked_and_unmasked)
{
    Floatx80 big = fx(0x7FFE, 0xFFFFFFFFFFFFFFFFull);
    SFEnv m = sf_env_from_fcw(0x037F);
    cr_assert(same(fx_mul(&m, big, big), fx_inf(false)));
    cr_assert_eq(m.flags & (SF_OE | SF_PE), SF_OE | SF_PE);
    SFEnv z = sf_env_from_fcw(0x0F7F); /* round toward zero: largest finite */
    cr_assert(same(fx_mul(&z, big, big), big));
    /* Unmasked overflow on a register destination: exponent biased by -24576. */
    SFEnv u = sf_env_from_fcw(0x0377);
    Floatx80 two = fx(0x4000, 1ull << 63);
    Floatx80 r = fx_mul(&u, fx(0x7FFE, 1ull << 63), two);
    cr_assert(u.flags & SF_OE);
    cr_assert_eq(r.se, 0x7FFF - 24576);
    cr_assert_eq(r.sig, 1ull << 63);
}

Test(softfloat, underflow_denormals_and_tininess)
{
    SFEnv e = sf_env_from_fcw(0x037F);
    Floatx80 tiny = fx(0x0001, 1ull << 63);      /* smallest normal */
    Floatx80 half = fx(0x3FFE, 1ull << 63);
    Floatx80 r = fx_mul(&e, tiny, half);         /* exact denormal: no UE when masked */
    cr_assert(same(r, fx(0x0000, 1ull << 62)));
    cr_assert_eq(e.flags & SF_UE, 0);
    Floatx80 third = fx(0x3FFD, 0xAAAAAAAAAAAAAAABull);
    SFEnv e2 = sf_env_from_fcw(0x037F);
    fx_mul(&e2, tiny, third);                    /* inexact denormal: UE and PE */
    cr_assert_eq(e2.flags & (SF_UE | SF_PE), SF_UE | SF_PE);
    /* A denormal operand raises DE. */
    SFEnv e3 = sf_env_from_fcw(0x037F);
    fx_add(&e3, fx(0x0000, 5), fx(0x3FFF, 1ull << 63));
    cr_assert(e3.flags & SF_DE);
}

Test(softfloat, conversions)
{
    SFEnv e = sf_env_from_fcw(0x037F);
    cr_assert_eq(fx_to_int(&e, fx(0x4000, 0xA000000000000000ull), 32), 2); /* 2.5 -> 2 */
    cr_assert_eq(fx_to_int(&e, fx(0x4000, 0xE000000000000000ull), 32), 4); /* 3.5 -> 4 */
    cr_assert_eq(fx_to_int(&e, fx(0x401E, 1ull << 63), 32), INT32_MIN, "2^31 overflows");
    cr_assert(e.flags & SF_IE);
    SFEnv f = sf_env_from_fcw(0x037F);
    cr_assert_eq(fx_to_int(&f, fx(0xC01E, 1ull << 63), 32), INT32_MIN, "-2^31 fits");
    cr_assert_eq(f.flags & SF_IE, 0);
    cr_assert(same(fx_from_i64(INT64_MIN), fx(0xC03E, 1ull << 63)));
    cr_assert_eq(fx_to_f64(&f, fx(0x3FFF, 1ull << 63)), 0x3FF0000000000000ull);
    cr_assert_eq(fx_to_f32(&f, fx(0x3FFF, 1ull << 63)), 0x3F800000u);
    cr_assert(same(fx_from_f32(&f, 0x00000001u), fx(0x3F6A, 1ull << 63)), "smallest denormal");
    cr_assert(same(fx_from_f64(&f, 0x7FF0000000000001ull), fx(0x7FFF, 0xC000000000000800ull)));
}

#if defined(__x86_64__) || defined(__i386__)

/* splitmix64, deterministic per test run. */
typedef struct Rng {
    uint64_t s;
} Rng;

static uint64_t rng_next(Rng *r)
{
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* A random operand biased toward the interesting encodings. */
static Floatx80 rand_fx(Rng *r)
{
    uint64_t k = rng_next(r) % 16;
    uint64_t sig = rng_next(r);
    bool sign = rng_next(r) & 1;
    uint16_t s = sign ? 0x8000 : 0;
    switch (k) {
    case 0:
        return fx(s, 0);
    case 1:
        return fx(s | 0x7FFF, 1ull << 63);
    case 2:
        return fx(s | 0x7FFF, (1ull << 63) | (1ull << 62) | (sig >> 3)); /* QNaN */
    case 3:
        return fx(s | 0x7FFF, (1ull << 63) | ((sig >> 2) | 1));            /* SNaN */
    case 4:
        return fx(s, sig >> 1);                                             /* denormal */
    case 5:
        return fx(s | (uint16_t)(1 + rng_next(r) % 80), sig | (1ull << 63)); /* near tiny */
    case 6:
        return fx(s | (uint16_t)(0x7FFE - rng_next(r) % 80), sig | (1ull << 63)); /* near huge */
    case 7:
        return fx(s | (uint16_t)(0x3FFF + rng_next(r) % 8), (1ull << 63) |
                  (sig & 0xFFFFFF0000000000ull)); /* short significands: exact cases */
    default:
        return fx(s | (uint16_t)(0x3FFF - 200 + rng_next(r) % 400), sig | (1ull << 63));
    }
}

enum { OP_ADD, OP_SUB, OP_MUL, OP_DIV, OP_SQRT, OP_RNDINT, OP_PREM, OP_PREM1, OP_SCALE,
       OP_COUNT_ };

/* host_op: run one x87 instruction on ST0 = a, ST1 = b with control word cw. */
static Floatx80 host_op(int op, Floatx80 a, Floatx80 b, uint16_t cw, uint16_t *sw)
{
    long double la, lb;
    memset(&la, 0, sizeof(la));
    memset(&lb, 0, sizeof(lb));
    memcpy(&la, &a, 10);
    memcpy(&lb, &b, 10);
    long double res;
    uint16_t st;
#define X87_OP(insn)                                                                      \
    __asm__ volatile("fninit\n\tfldcw %[cw]\n\tfldt %[b]\n\tfldt %[a]\n\t" insn            \
                     "\n\tfnstsw %[st]\n\tfstpt %[r]\n\tfninit"                            \
                     : [r] "=m"(res), [st] "=m"(st)                                        \
                     : [a] "m"(la), [b] "m"(lb), [cw] "m"(cw))
    switch (op) {
    case OP_ADD: X87_OP("fadd %%st(1), %%st"); break;
    case OP_SUB: X87_OP("fsub %%st(1), %%st"); break;
    case OP_MUL: X87_OP("fmul %%st(1), %%st"); break;
    case OP_DIV: X87_OP("fdiv %%st(1), %%st"); break;
    case OP_SQRT: X87_OP("fsqrt"); break;
    case OP_RNDINT: X87_OP("frndint"); break;
    case OP_PREM: X87_OP("fprem"); break;
    case OP_PREM1: X87_OP("fprem1"); break;
    default: X87_OP("fscale"); break;
    }
#undef X87_OP
    *sw = st;
    Floatx80 out;
    memcpy(&out, &res, 10);
    out.se = (uint16_t)out.se;
    return out;
}

static Floatx80 soft_op(int op, SFEnv *e, Floatx80 a, Floatx80 b, uint16_t *cc)
{
    bool done;
    unsigned q;
    Floatx80 r;
    *cc = 0;
    switch (op) {
    case OP_ADD: return fx_add(e, a, b);
    case OP_SUB: return fx_sub(e, a, b);
    case OP_MUL: return fx_mul(e, a, b);
    case OP_DIV: return fx_div(e, a, b);
    case OP_SQRT: return fx_sqrt(e, a);
    case OP_RNDINT: return fx_round_int(e, a);
    case OP_PREM:
    case OP_PREM1:
        r = fx_rem(e, a, b, op == OP_PREM1, &done, &q);
        /* C2 = incomplete; C0 = Q2, C3 = Q1, C1 = Q0. */
        *cc = (uint16_t)((done ? 0 : 0x400) | ((q & 4) ? 0x100 : 0) | ((q & 2) ? 0x4000 : 0) |
                         ((q & 1) ? 0x200 : 0));
        e->c1 = false;
        return r;
    default: return fx_scale(e, a, b);
    }
}

static const char *op_names[] = {"fadd", "fsub", "fmul", "fdiv", "fsqrt", "frndint", "fprem",
                                 "fprem1", "fscale"};

Test(softfloat, bit_identical_to_host_x87)
{
    static const uint16_t cws[] = {0x037F, 0x027F, 0x007F, 0x077F, 0x0B7F, 0x0F7F, 0x067F,
                                   0x0A7F, 0x0C7F, 0x047F, 0x087F, 0x0E7F};
    Rng rng = {0x5EEDF00Dull};
    long tested = 0, mismatches = 0;
    for (int iter = 0; iter < 400000; iter++) {
        int op = (int)(rng_next(&rng) % OP_COUNT_);
        uint16_t cw = cws[rng_next(&rng) % (sizeof(cws) / sizeof(cws[0]))];
        Floatx80 a = rand_fx(&rng), b = rand_fx(&rng);
        uint16_t sw;
        Floatx80 h = host_op(op, a, b, cw, &sw);
        if ((op == OP_PREM || op == OP_PREM1) && (sw & 0x400)) {
            /* A partial remainder (C2 = 1): how far one execution reduces is implementation-
             * dependent (SDM: "between 32 and 63" bits); compare only complete ones. */
            continue;
        }
        SFEnv e = sf_env_from_fcw(cw);
        uint16_t cc;
        Floatx80 s = soft_op(op, &e, a, b, &cc);
        uint16_t soft_sw = (uint16_t)(e.flags | (e.c1 ? 0x200 : 0) | cc);
        uint16_t mask = 0x3F | 0x200 | 0x100 | 0x400 | 0x4000;
        tested++;
        if (!same(h, s) || (sw & mask) != (soft_sw & mask)) {
            if (mismatches < 10) {
                fprintf(stderr,
                        "%s cw=%04x a=%04x:%016llx b=%04x:%016llx host=%04x:%016llx sw=%04x "
                        "soft=%04x:%016llx sw=%04x\n",
                        op_names[op], cw, a.se, (unsigned long long)a.sig, b.se,
                        (unsigned long long)b.sig, h.se, (unsigned long long)h.sig,
                        sw & mask, s.se, (unsigned long long)s.sig, soft_sw & mask);
            }
            mismatches++;
        }
    }
    cr_log_info("softfloat: %ld operations compared with the host x87", tested);
    cr_assert_eq(mismatches, 0, "%ld of %ld results differ from the host x87", mismatches,
                 tested);
}

/* Conversions and comparisons against the host: FIST m16/m32/m64, FST m32/m64, FLD m32/m64,
 * FCOM/FUCOM condition codes. */
Test(softfloat, conversions_and_compares_match_host_x87)
{
    static const uint16_t cws[] = {0x037F, 0x077F, 0x0B7F, 0x0F7F, 0x007F, 0x027F};
    Rng rng = {0xC0FFEEull};
    long tested = 0, mismatches = 0;
    for (int iter = 0; iter < 200000; iter++) {
        uint16_t cw = cws[rng_next(&rng) % (sizeof(cws) / sizeof(cws[0]))];
        Floatx80 a = rand_fx(&rng), b = rand_fx(&rng);
        if (rng_next(&rng) % 4 == 0) {
            /* values near integer limits */
            a = fx((uint16_t)((a.se & 0x8000) | (0x3FFF + 14 + rng_next(&rng) % 52)),
                   a.sig | (1ull << 63));
        }
        long double la;
        memset(&la, 0, sizeof(la));
        memcpy(&la, &a, 10);
        long double lb;
        memset(&lb, 0, sizeof(lb));
        memcpy(&lb, &b, 10);
        int kind = (int)(rng_next(&rng) % 7);
        uint16_t sw = 0;
        uint64_t hv = 0, sv = 0;
        SFEnv e = sf_env_from_fcw(cw);
        uint16_t scc = 0;
        switch (kind) {
        case 0: {
            int16_t v;
            __asm__ volatile("fninit\n\tfldcw %[cw]\n\tfldt %[a]\n\tfistps %[v]\n\tfnstsw %[s]"
                             "\n\tfninit" : [v] "=m"(v), [s] "=m"(sw) : [a] "m"(la), [cw] "m"(cw));
            hv = (uint16_t)v;
            sv = (uint16_t)fx_to_int(&e, a, 16);
            break;
        }
        case 1: {
            int32_t v;
            __asm__ volatile("fninit\n\tfldcw %[cw]\n\tfldt %[a]\n\tfistpl %[v]\n\tfnstsw %[s]"
                             "\n\tfninit" : [v] "=m"(v), [s] "=m"(sw) : [a] "m"(la), [cw] "m"(cw));
            hv = (uint32_t)v;
            sv = (uint32_t)fx_to_int(&e, a, 32);
            break;
        }
        case 2: {
            int64_t v;
            __asm__ volatile("fninit\n\tfldcw %[cw]\n\tfldt %[a]\n\tfistpll %[v]\n\tfnstsw %[s]"
                             "\n\tfninit" : [v] "=m"(v), [s] "=m"(sw) : [a] "m"(la), [cw] "m"(cw));
            hv = (uint64_t)v;
            sv = (uint64_t)fx_to_int(&e, a, 64);
            break;
        }
        case 3: {
            uint32_t v;
            __asm__ volatile("fninit\n\tfldcw %[cw]\n\tfldt %[a]\n\tfstps %[v]\n\tfnstsw %[s]"
                             "\n\tfninit" : [v] "=m"(v), [s] "=m"(sw) : [a] "m"(la), [cw] "m"(cw));
            hv = v;
            sv = fx_to_f32(&e, a);
            break;
        }
        case 4: {
            uint64_t v;
            __asm__ volatile("fninit\n\tfldcw %[cw]\n\tfldt %[a]\n\tfstpl %[v]\n\tfnstsw %[s]"
                             "\n\tfninit" : [v] "=m"(v), [s] "=m"(sw) : [a] "m"(la), [cw] "m"(cw));
            hv = v;
            sv = fx_to_f64(&e, a);
            break;
        }
        case 5: {
            uint64_t f = rng_next(&rng);
            if (rng_next(&rng) & 1) {
                f &= 0x800FFFFFFFFFFFFFull; /* denormal or zero */
            }
            long double r;
            __asm__ volatile("fninit\n\tfldcw %[cw]\n\tfldl %[f]\n\tfnstsw %[s]\n\tfstpt %[r]"
                             "\n\tfninit" : [r] "=m"(r), [s] "=m"(sw) : [f] "m"(f), [cw] "m"(cw));
            Floatx80 h;
            memcpy(&h, &r, 10);
            Floatx80 s2 = fx_from_f64(&e, f);
            hv = h.sig ^ ((uint64_t)h.se << 48);
            sv = s2.sig ^ ((uint64_t)s2.se << 48);
            break;
        }
        default: {
            bool quiet = rng_next(&rng) & 1;
            if (quiet) {
                __asm__ volatile("fninit\n\tfldcw %[cw]\n\tfldt %[b]\n\tfldt %[a]\n\tfucompp\n\t"
                                 "fnstsw %[s]\n\tfninit" : [s] "=m"(sw)
                                 : [a] "m"(la), [b] "m"(lb), [cw] "m"(cw));
            } else {
                __asm__ volatile("fninit\n\tfldcw %[cw]\n\tfldt %[b]\n\tfldt %[a]\n\tfcompp\n\t"
                                 "fnstsw %[s]\n\tfninit" : [s] "=m"(sw)
                                 : [a] "m"(la), [b] "m"(lb), [cw] "m"(cw));
            }
            FxCmp c = fx_compare(&e, a, b, quiet);
            static const uint16_t ccs[] = {0x0100, 0x4000, 0x0000, 0x4500};
            scc = ccs[c];
            e.c1 = false;
            break;
        }
        }
        uint16_t mask = 0x3F | 0x4700;
        uint16_t soft_sw = (uint16_t)(e.flags | (e.c1 ? 0x200 : 0) | scc);
        tested++;
        if (hv != sv || (sw & mask) != (soft_sw & mask)) {
            if (mismatches < 10) {
                fprintf(stderr, "kind %d cw=%04x a=%04x:%016llx host=%llx sw=%04x soft=%llx "
                        "sw=%04x\n", kind, cw, a.se, (unsigned long long)a.sig,
                        (unsigned long long)hv, sw & mask, (unsigned long long)sv,
                        soft_sw & mask);
            }
            mismatches++;
        }
    }
    cr_log_info("softfloat: %ld conversions/compares compared with the host x87", tested);
    cr_assert_eq(mismatches, 0, "%ld of %ld differ from the host x87", mismatches, tested);
}

static long double to_ld(Floatx80 a)
{
    long double l;
    memset(&l, 0, sizeof(l));
    memcpy(&l, &a, 10);
    return l;
}

/* ulps: distance between two finite results of like sign in units in the last place. */
static uint64_t ulps(Floatx80 a, Floatx80 b)
{
    if (a.se == b.se) {
        return a.sig > b.sig ? a.sig - b.sig : b.sig - a.sig;
    }
    if ((a.se & 0x8000) == (b.se & 0x8000) && ((a.se & 0x7FFF) == (b.se & 0x7FFF) + 1 ||
                                               (b.se & 0x7FFF) == (a.se & 0x7FFF) + 1)) {
        return 1; /* adjacent binades: only the 1-ulp boundary case can differ like this */
    }
    return UINT64_MAX;
}

/* Transcendentals against the host x87: within 1 ulp (the hardware itself is not always
 * correctly rounded), with arguments where the instructions are defined. */
Test(softfloat, transcendentals_within_one_ulp_of_host_x87)
{
    static const char *names[] = {"fsin", "fcos", "fptan", "fpatan", "f2xm1", "fyl2x",
                                  "fyl2xp1"};
    Rng rng = {0x7A11u};
    const uint16_t cw = 0x037F;
    long total = 0, exact = 0, bad = 0;
    for (int op = 0; op < 7; op++) {
        for (int i = 0; i < 3000; i++) {
            int e;
            switch (op) {
            case 4: e = 0x3FFE - (int)(rng_next(&rng) % 60); break;       /* |x| < 1 */
            case 6: e = 0x3FFD - (int)(rng_next(&rng) % 60); break;       /* |x| < 0.25 */
            case 0: case 1: case 2: e = 0x3FF5 + (int)(rng_next(&rng) % 20); break;
            default: e = 0x3FE1 + (int)(rng_next(&rng) % 60); break;
            }
            bool neg = (rng_next(&rng) & 1) && op != 5;
            Floatx80 a = fx((uint16_t)(e | (neg ? 0x8000 : 0)), rng_next(&rng) | (1ull << 63));
            Floatx80 b = fx((uint16_t)((0x3FFA + rng_next(&rng) % 10) |
                                       ((rng_next(&rng) & 1) ? 0x8000 : 0)),
                            rng_next(&rng) | (1ull << 63));
            long double la = to_ld(a), lb = to_ld(b), r = 0;
            SFEnv env = sf_env_from_fcw(cw);
            Floatx80 s = a, t;
            switch (op) {
            case 0:
                __asm__ volatile("fninit\n\tfldcw %2\n\tfldt %1\n\tfsin\n\tfstpt %0\n\tfninit"
                                 : "=m"(r) : "m"(la), "m"(cw));
                fx_sincos(&env, a, &s, &t);
                break;
            case 1:
                __asm__ volatile("fninit\n\tfldcw %2\n\tfldt %1\n\tfcos\n\tfstpt %0\n\tfninit"
                                 : "=m"(r) : "m"(la), "m"(cw));
                fx_sincos(&env, a, &t, &s);
                break;
            case 2:
                __asm__ volatile("fninit\n\tfldcw %2\n\tfldt %1\n\tfptan\n\tfstp %%st(0)\n\t"
                                 "fstpt %0\n\tfninit" : "=m"(r) : "m"(la), "m"(cw));
                fx_tan(&env, a, &s);
                break;
            case 3:
                __asm__ volatile("fninit\n\tfldcw %3\n\tfldt %1\n\tfldt %2\n\tfpatan\n\t"
                                 "fstpt %0\n\tfninit" : "=m"(r) : "m"(lb), "m"(la), "m"(cw));
                s = fx_atan2(&env, b, a);
                break;
            case 4:
                __asm__ volatile("fninit\n\tfldcw %2\n\tfldt %1\n\tf2xm1\n\tfstpt %0\n\tfninit"
                                 : "=m"(r) : "m"(la), "m"(cw));
                s = fx_2xm1(&env, a);
                break;
            case 5:
                __asm__ volatile("fninit\n\tfldcw %3\n\tfldt %1\n\tfldt %2\n\tfyl2x\n\t"
                                 "fstpt %0\n\tfninit" : "=m"(r) : "m"(lb), "m"(la), "m"(cw));
                s = fx_yl2x(&env, b, a);
                break;
            default:
                __asm__ volatile("fninit\n\tfldcw %3\n\tfldt %1\n\tfldt %2\n\tfyl2xp1\n\t"
                                 "fstpt %0\n\tfninit" : "=m"(r) : "m"(lb), "m"(la), "m"(cw));
                s = fx_yl2xp1(&env, b, a);
                break;
            }
            Floatx80 h;
            memcpy(&h, &r, 10);
            uint64_t d = ulps(h, s);
            total++;
            exact += d == 0;
            if (d > 1) {
                if (bad < 5) {
                    fprintf(stderr, "%s a=%04x:%016llx b=%04x:%016llx host=%04x:%016llx "
                            "soft=%04x:%016llx\n", names[op], a.se, (unsigned long long)a.sig,
                            b.se, (unsigned long long)b.sig, h.se, (unsigned long long)h.sig,
                            s.se, (unsigned long long)s.sig);
                }
                bad++;
            }
        }
    }
    cr_log_info("transcendentals: %ld compared, %ld bit-identical, %ld beyond 1 ulp", total,
                exact, bad);
    cr_assert_eq(bad, 0, "%ld of %ld transcendental results are more than 1 ulp from the host",
                 bad, total);
    cr_assert_gt(exact * 100, total * 95, "fewer than 95%% bit-identical (%ld of %ld)", exact,
                 total);
}

#endif

/* --- pinned by the native differential fuzzer (anyvm-fuzz --x87) on the host x87 --- */

Test(softfloat, nan_tie_gives_the_positive_nan)
{
    SFEnv e = sf_env_from_fcw(0x037F);
    Floatx80 neg = fx(0xFFFF, 0xC000000000000000ull), pos = fx(0x7FFF, 0xC000000000000000ull);
    cr_assert(same(fx_add(&e, neg, pos), pos));
    cr_assert(same(fx_mul(&e, pos, neg), pos));
    cr_assert_eq(e.flags, 0);
}

Test(softfloat, fprem_partial_steps_use_n_32_plus_d_mod_32)
{
    /* Measured on the host: one FPREM step of a (exponent difference D) by b. */
    static const struct { int d; uint16_t se; uint64_t sig; } want[] = {
        {64, 0x401E, 0xE773557788AD3E6Aull}, {100, 0x403E, 0xC81FB909E4B652EAull},
        {128, 0x405E, 0xE773557788AD3E6Aull}, {1000, 0x43BB, 0x8AE233420023CE60ull},
    };
    for (unsigned i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        SFEnv e = sf_env_from_fcw(0x037F);
        bool done;
        unsigned q;
        Floatx80 r = fx_rem(&e, fx((uint16_t)(0x3FFF + want[i].d), 0xD2E4F1A3B5C69788ull),
                            fx(0x3FFF, 0x9F3B2A1C4D5E6F71ull), false, &done, &q);
        cr_assert(!done);
        cr_assert(same(r, fx(want[i].se, want[i].sig)), "D=%d: %04x:%016llx", want[i].d, r.se,
                  (unsigned long long)r.sig);
    }
}

Test(softfloat, fscale_beyond_the_rebiased_range_with_unmasked_oe_ue)
{
    Floatx80 v = fx(0xC006, 0xF880000000000000ull);
    SFEnv o = sf_env_from_fcw(0x0F67); /* round toward zero, OE/UE unmasked */
    cr_assert(same(fx_scale(&o, v, fx(0x7FF4, 0x819EA2C0B82CB40Cull)), fx_inf(true)));
    cr_assert_eq(o.flags, SF_OE | SF_PE);
    cr_assert(o.c1);
    SFEnv u = sf_env_from_fcw(0x0767); /* round down */
    cr_assert(same(fx_scale(&u, v, fx(0xFFF4, 0x819EA2C0B82CB40Cull)), fx_zero(true)));
    cr_assert_eq(u.flags, SF_UE | SF_PE);
    cr_assert(!u.c1);
}

Test(softfloat, fyl2x_invalid_or_zero_divide_hides_denormal)
{
    Floatx80 den = fx(0x0000, 0x7FFFFFFFull), nden = fx(0x8000, 0x7FFFFFFFull);
    SFEnv z = sf_env_from_fcw(0x037F);
    fx_yl2x(&z, den, fx_zero(false));
    cr_assert_eq(z.flags, SF_ZE);
    SFEnv i = sf_env_from_fcw(0x037F);
    cr_assert(same(fx_yl2x(&i, fx_zero(false), nden), FX_INDEFINITE));
    cr_assert_eq(i.flags, SF_IE);
}

Test(softfloat, fcos_of_a_denormal_does_not_underflow)
{
    SFEnv e = sf_env_from_fcw(0x037F);
    Floatx80 c;
    cr_assert(fx_cos(&e, fx(0x0000, 0x7FFFFFFFull), &c));
    cr_assert(same(c, fx(0x3FFF, 1ull << 63)));
    cr_assert_eq(e.flags, SF_DE | SF_PE);
    SFEnv s = sf_env_from_fcw(0x037F);
    Floatx80 sn;
    cr_assert(fx_sin(&s, fx(0x0000, 0x7FFFFFFFull), &sn));
    cr_assert_eq(s.flags, SF_DE | SF_UE | SF_PE);
}

Test(softfloat, fprem_by_infinity_delivers_a_tiny_dividend_like_a_result)
{
    bool done;
    unsigned q;
    SFEnv m = sf_env_from_fcw(0x037F);
    Floatx80 r = fx_rem(&m, fx(0x0000, 0xC8BA22EC64B3D585ull), fx_inf(false), true, &done, &q);
    cr_assert(same(r, fx(0x0001, 0xC8BA22EC64B3D585ull)), "pseudo-denormal normalised");
    SFEnv u = sf_env_from_fcw(0x0842 | 0x0300); /* UE unmasked */
    r = fx_rem(&u, fx(0x8000, 0xFBAull), fx_inf(false), false, &done, &q);
    cr_assert(same(r, fx(0xDFCD, 0xFBA0000000000000ull)), "%04x:%016llx", r.se,
              (unsigned long long)r.sig);
    cr_assert(u.flags & SF_UE);
}
