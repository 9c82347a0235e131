/* softfloat.c: exact x87 extended-precision arithmetic (see softfloat.h).
 *
 * Every operation reduces to one rounding step: an exact (or exactly-stickied) intermediate
 * value  sign * m * 2^e2  with m a 128-bit integer, rounded by round_core() to a given number of
 * significand bits, a minimum normal exponent and a denormal granule. The x87's quirks live in
 * the callers: precision control only narrows `prec` (the exponent range stays extended), and an
 * unmasked overflow/underflow on a register destination re-biases the exponent by 24576
 * (SDM Vol. 1 8.5.4, 8.5.5). Tininess is detected after rounding with an unbounded exponent
 * (SDM Vol. 1 4.9.1.5); masked underflow is signalled only when the result is also inexact.
 *
 * Worked example: 1.0 + 2^-70 with PC = 64, RN. m = 2^62 + 2^(62-70) stickied to 2^62 | 1,
 * e2 = -62; round_core normalises m to bit 127, drops 64 bits: the dropped part is non-zero but
 * below half, so the result is 1.0 with PE set and C1 clear.
 */
#include "core/softfloat.h"

#include <string.h>

typedef unsigned __int128 u128;

enum { EXT_BIAS = 16383, EXT_EMIN = -16382, EXT_EMAX = 16383 };
enum { X87_BIAS_ADJ = 24576 };

Floatx80 fx_zero(bool sign) { return fx_make(sign, 0, 0); }
Floatx80 fx_inf(bool sign) { return fx_make(sign, 0x7FFF, 0x8000000000000000ull); }

FxClass fx_class(Floatx80 a)
{
    int e = fx_exp(a);
    bool j = (a.sig >> 63) != 0;
    if (e == 0) {
        if (a.sig == 0) {
            return FX_ZERO;
        }
        return j ? FX_PSEUDO_DENORMAL : FX_DENORMAL;
    }
    if (!j) {
        return FX_UNSUPPORTED; /* unnormal, pseudo-infinity, pseudo-NaN */
    }
    if (e == 0x7FFF) {
        uint64_t frac = a.sig << 1;
        if (frac == 0) {
            return FX_INF;
        }
        return (a.sig >> 62) & 1 ? FX_QNAN : FX_SNAN;
    }
    return FX_NORMAL;
}

bool fx_is_nan(Floatx80 a)
{
    FxClass c = fx_class(a);
    return c == FX_QNAN || c == FX_SNAN;
}

static int clz128(u128 m)
{
    uint64_t hi = (uint64_t)(m >> 64);
    if (hi) {
        return __builtin_clzll(hi);
    }
    return 64 + __builtin_clzll((uint64_t)m);
}

/* shr_sticky: m >> n with every shifted-out bit ORed into bit 0. */
static u128 shr_sticky(u128 m, int n)
{
    if (n <= 0) {
        return m;
    }
    if (n >= 128) {
        return m != 0;
    }
    u128 out = m >> n;
    if (m & (((u128)1 << n) - 1)) {
        out |= 1;
    }
    return out;
}

/* Result of the rounding core. */
typedef enum RKind { RK_ZERO, RK_FINITE, RK_OVERFLOW } RKind;

typedef struct Rounded {
    RKind kind;
    bool sign;
    int32_t exp;      /* unbiased exponent of bit 63 of sig (RK_FINITE) */
    uint64_t sig;     /* bit 63 = leading one for normal results; denormals have exp == emin
                         and bit 63 clear */
    bool inexact, up, tiny;
} Rounded;

/* round_at: k = m / 2^d rounded per rc; d may exceed 127. */
static u128 round_at(u128 m, int d, int rc, bool sign, bool *inexact, bool *up)
{
    u128 k, rem, half;
    if (d <= 0) {
        *inexact = false;
        *up = false;
        return m << -d;
    }
    if (d < 128) {
        k = m >> d;
        rem = m & (((u128)1 << d) - 1);
        half = (u128)1 << (d - 1);
    } else {
        k = 0;
        rem = m;
        half = d == 128 ? (u128)1 << 127 : ~(u128)0; /* d > 128: rem is below half */
    }
    *inexact = rem != 0;
    bool inc = false;
    switch (rc) {
    case SF_RN:
        /* Beyond 128 dropped bits the value is below half a unit: never rounds up. */
        inc = d <= 128 && (rem > half || (rem == half && (k & 1)));
        break;
    case SF_RD:
        inc = sign && rem != 0;
        break;
    case SF_RU:
        inc = !sign && rem != 0;
        break;
    default:
        break;
    }
    *up = inc;
    return k + inc;
}

/* round_core: round sign * m * 2^e2 to prec bits; normal results have an exponent >= emin,
 * smaller ones are denormalised in granules of 2^den_lsb; exponents above emax overflow.
 * unbounded skips the range (for the x87's biased unmasked results). */
static Rounded round_core(int rc, bool sign, int32_t e2, u128 m, int prec, int32_t emin,
                          int32_t emax, int32_t den_lsb, bool unbounded)
{
    Rounded r;
    memset(&r, 0, sizeof(r));
    r.sign = sign;
    if (m == 0) {
        r.kind = RK_ZERO;
        return r;
    }
    int lz = clz128(m);
    m <<= lz;
    e2 -= lz;
    int32_t lead = e2 + 127; /* exponent of the leading bit */
    int d_norm = 128 - prec;

    /* Tininess after rounding with an unbounded exponent. */
    bool in1, up1;
    u128 k1 = round_at(m, d_norm, rc, sign, &in1, &up1);
    int32_t lead1 = lead + (k1 >> prec ? 1 : 0);
    r.tiny = lead1 < emin;

    int d = d_norm;
    if (!unbounded && lead < emin) {
        int d_den = den_lsb - e2;
        if (d_den > d) {
            d = d_den;
        }
    }
    bool inexact, up;
    u128 k = round_at(m, d, rc, sign, &inexact, &up);
    r.inexact = inexact;
    r.up = up;
    if (k == 0) {
        r.kind = RK_ZERO;
        return r;
    }
    /* k * 2^(d + e2): renormalise into a left-justified 64-bit significand. */
    int klen = 128 - clz128(k);
    int32_t kexp = d + e2 + klen - 1;
    if (!unbounded && kexp < emin) {
        /* Denormal: express relative to emin (bit 63 = 2^emin). */
        int sh = 63 - (emin - (d + e2));
        r.sig = (uint64_t)(sh >= 0 ? k << sh : k >> -sh);
        r.exp = emin;
    } else {
        r.sig = (uint64_t)(klen <= 64 ? k << (64 - klen) : k >> (klen - 64));
        r.exp = kexp;
    }
    r.kind = (!unbounded && r.exp > emax) ? RK_OVERFLOW : RK_FINITE;
    return r;
}

/* pack_ext: round to env->prec (or prec) and encode as extended, with x87 flag semantics. */
static Floatx80 pack_ext_prec(SFEnv *env, bool sign, int32_t e2, u128 m, int prec)
{
    /* With precision control below 64 bits the x87 rounds denormal results at the same bit of
     * the significand field as normal ones (measured: PC=24 keeps bits 63..40 of a denormal). */
    int32_t den_lsb = EXT_EMIN - prec + 1;
    Rounded r = round_core(env->rc, sign, e2, m, prec, EXT_EMIN, EXT_EMAX, den_lsb, false);
    env->c1 = false;
    if (r.kind == RK_OVERFLOW) {
        if (!(env->masks & SF_OE)) {
            Rounded b = round_core(env->rc, sign, e2 - X87_BIAS_ADJ, m, prec, EXT_EMIN, EXT_EMAX,
                                   den_lsb, true);
            int32_t be = b.exp + EXT_BIAS;
            if (be <= 0x7FFE) {
                env->flags |= SF_OE | (b.inexact ? SF_PE : 0);
                env->c1 = b.up;
                return fx_make(sign, be, b.sig);
            }
            /* Still too large after the bias (only FSCALE gets here): infinity whatever the
             * rounding control, OE, PE and C1 = 1 (host x87). */
            env->flags |= SF_OE | SF_PE;
            env->c1 = true;
            return fx_inf(sign);
        }
        env->flags |= SF_OE | SF_PE;
        bool to_inf = env->rc == SF_RN || (env->rc == SF_RU && !sign) ||
                      (env->rc == SF_RD && sign);
        if (to_inf) {
            env->c1 = true;
            return fx_inf(sign);
        }
        uint64_t maxsig = ~0ull << (64 - prec);
        return fx_make(sign, 0x7FFE, maxsig);
    }
    if (r.tiny && !(env->masks & SF_UE)) {
        Rounded b = round_core(env->rc, sign, e2 + X87_BIAS_ADJ, m, prec, EXT_EMIN, EXT_EMAX,
                               den_lsb, true);
        int32_t be = b.exp + EXT_BIAS;
        if (be >= 1) {
            env->flags |= SF_UE | (b.inexact ? SF_PE : 0);
            env->c1 = b.up;
            return fx_make(sign, be, b.sig);
        }
        /* Still too small after the bias (FSCALE): a signed zero whatever the rounding
         * control, UE and PE (host x87). */
        env->flags |= SF_UE | SF_PE;
        env->c1 = false;
        return fx_zero(sign);
    }
    if (r.inexact) {
        env->flags |= SF_PE;
        if (r.tiny) {
            env->flags |= SF_UE;
        }
    }
    env->c1 = r.up;
    if (r.kind == RK_ZERO) {
        return fx_zero(sign);
    }
    if (!(r.sig >> 63)) {
        return fx_make(sign, 0, r.sig); /* denormal */
    }
    return fx_make(sign, r.exp + EXT_BIAS, r.sig);
}

static Floatx80 pack_ext(SFEnv *env, bool sign, int32_t e2, u128 m)
{
    return pack_ext_prec(env, sign, e2, m, env->prec);
}

/* Unpacked finite operand: value = sig * 2^(exp - 63), exp unbiased; sig may be unnormalised
 * (denormals keep their raw significand with exp = EXT_EMIN). */
typedef struct Unp {
    bool sign;
    int32_t exp;
    uint64_t sig;
} Unp;

static Unp unpack(Floatx80 a)
{
    Unp u;
    u.sign = fx_sign(a);
    int e = fx_exp(a);
    u.exp = (e == 0 ? 1 : e) - EXT_BIAS;
    u.sig = a.sig;
    return u;
}

/* normalize: shift sig so bit 63 is set (sig != 0). */
static Unp normalize(Unp u)
{
    int lz = __builtin_clzll(u.sig);
    u.sig <<= lz;
    u.exp -= lz;
    return u;
}

static Floatx80 quiet(Floatx80 a)
{
    a.sig |= 1ull << 62;
    return a;
}

static bool is_nan_or_unsupported(FxClass c)
{
    return c == FX_QNAN || c == FX_SNAN || c == FX_UNSUPPORTED;
}

/* nan_result2: SDM Vol. 1 table 4-7 for the x87. Called when either operand is a NaN or an
 * unsupported encoding. */
static Floatx80 nan_result2(SFEnv *env, Floatx80 a, FxClass ca, Floatx80 b, FxClass cb)
{
    if (ca == FX_UNSUPPORTED || cb == FX_UNSUPPORTED) {
        env->flags |= SF_IE;
        return FX_INDEFINITE;
    }
    if (ca == FX_SNAN || cb == FX_SNAN) {
        env->flags |= SF_IE;
    }
    bool an = ca == FX_QNAN || ca == FX_SNAN;
    bool bn = cb == FX_QNAN || cb == FX_SNAN;
    if (an && bn) {
        if (ca == FX_QNAN && cb == FX_SNAN) {
            return a;
        }
        if (ca == FX_SNAN && cb == FX_QNAN) {
            return b;
        }
        /* Both of one kind: the larger significand; on a tie the positive one, else the
         * first operand (the host x87). */
        uint64_t sa = a.sig << 1, sb = b.sig << 1;
        if (sa == sb && fx_sign(a) != fx_sign(b)) {
            return quiet(fx_sign(a) ? b : a);
        }
        return quiet(sb > sa ? b : a);
    }
    return quiet(an ? a : b);
}

static bool is_denormal_class(FxClass c)
{
    return c == FX_DENORMAL || c == FX_PSEUDO_DENORMAL;
}

static Floatx80 addsub(SFEnv *env, Floatx80 a, Floatx80 b, bool negb)
{
    FxClass ca = fx_class(a), cb = fx_class(b);
    if (is_nan_or_unsupported(ca) || is_nan_or_unsupported(cb)) {
        return nan_result2(env, a, ca, b, cb);
    }
    bool sa = fx_sign(a), sb = fx_sign(b) ^ negb;
    if (is_denormal_class(ca) || is_denormal_class(cb)) {
        env->flags |= SF_DE;
    }
    if (ca == FX_INF || cb == FX_INF) {
        if (ca == FX_INF && cb == FX_INF && sa != sb) {
            env->flags |= SF_IE;
            return FX_INDEFINITE;
        }
        return fx_inf(ca == FX_INF ? sa : sb);
    }
    if (ca == FX_ZERO && cb == FX_ZERO) {
        env->c1 = false;
        if (sa == sb) {
            return fx_zero(sa);
        }
        return fx_zero(env->rc == SF_RD);
    }
    Unp ua = unpack(a), ub = unpack(b);
    if (ca == FX_ZERO) {
        ua.exp = ub.exp;
    }
    if (cb == FX_ZERO) {
        ub.exp = ua.exp;
    }
    /* Align with 62 bits of headroom below the significands and a sticky bit. */
    u128 ma = (u128)ua.sig << 62, mb = (u128)ub.sig << 62;
    int32_t e2;
    if (ua.exp >= ub.exp) {
        mb = shr_sticky(mb, ua.exp - ub.exp);
        e2 = ua.exp - 63 - 62;
    } else {
        ma = shr_sticky(ma, ub.exp - ua.exp);
        e2 = ub.exp - 63 - 62;
    }
    u128 m;
    bool sign;
    if (sa == sb) {
        m = ma + mb;
        sign = sa;
    } else if (ma >= mb) {
        m = ma - mb;
        sign = sa;
    } else {
        m = mb - ma;
        sign = sb;
    }
    if (m == 0) {
        env->c1 = false;
        return fx_zero(env->rc == SF_RD);
    }
    return pack_ext(env, sign, e2, m);
}

Floatx80 fx_add(SFEnv *env, Floatx80 a, Floatx80 b) { return addsub(env, a, b, false); }
Floatx80 fx_sub(SFEnv *env, Floatx80 a, Floatx80 b) { return addsub(env, a, b, true); }

Floatx80 fx_mul(SFEnv *env, Floatx80 a, Floatx80 b)
{
    FxClass ca = fx_class(a), cb = fx_class(b);
    if (is_nan_or_unsupported(ca) || is_nan_or_unsupported(cb)) {
        return nan_result2(env, a, ca, b, cb);
    }
    bool sign = fx_sign(a) ^ fx_sign(b);
    if (ca == FX_INF || cb == FX_INF) {
        if (ca == FX_ZERO || cb == FX_ZERO) {
            env->flags |= SF_IE;
            return FX_INDEFINITE;
        }
        if (is_denormal_class(ca) || is_denormal_class(cb)) {
            env->flags |= SF_DE;
        }
        return fx_inf(sign);
    }
    if (is_denormal_class(ca) || is_denormal_class(cb)) {
        env->flags |= SF_DE;
    }
    if (ca == FX_ZERO || cb == FX_ZERO) {
        env->c1 = false;
        return fx_zero(sign);
    }
    Unp ua = unpack(a), ub = unpack(b);
    u128 m = (u128)ua.sig * ub.sig;
    return pack_ext(env, sign, ua.exp - 63 + ub.exp - 63, m);
}

Floatx80 fx_div(SFEnv *env, Floatx80 a, Floatx80 b)
{
    FxClass ca = fx_class(a), cb = fx_class(b);
    if (is_nan_or_unsupported(ca) || is_nan_or_unsupported(cb)) {
        return nan_result2(env, a, ca, b, cb);
    }
    bool sign = fx_sign(a) ^ fx_sign(b);
    if (ca == FX_INF) {
        if (cb == FX_INF) {
            env->flags |= SF_IE;
            return FX_INDEFINITE;
        }
        if (is_denormal_class(cb)) {
            env->flags |= SF_DE;
        }
        return fx_inf(sign);
    }
    if (cb == FX_INF) {
        if (is_denormal_class(ca)) {
            env->flags |= SF_DE;
        }
        return fx_zero(sign);
    }
    if (ca == FX_ZERO && cb == FX_ZERO) {
        env->flags |= SF_IE;
        return FX_INDEFINITE;
    }
    if (cb == FX_ZERO) {
        env->flags |= SF_ZE; /* a denormal dividend does not add DE (measured) */
        return fx_inf(sign);
    }
    if (is_denormal_class(ca) || is_denormal_class(cb)) {
        env->flags |= SF_DE;
    }
    if (ca == FX_ZERO) {
        env->c1 = false;
        return fx_zero(sign);
    }
    Unp ua = normalize(unpack(a)), ub = normalize(unpack(b));
    /* 64-bit / 64-bit with 2^64 scaling gives a quotient of 64-65 bits; extend by 3 bits and
     * keep the remainder as a sticky bit. */
    u128 num = (u128)ua.sig << 64;
    u128 q = num / ub.sig;
    u128 r = num % ub.sig;
    for (int i = 0; i < 3; i++) {
        r <<= 1;
        q <<= 1;
        if (r >= ub.sig) {
            r -= ub.sig;
            q |= 1;
        }
    }
    q = (q << 1) | (r != 0);
    return pack_ext(env, sign, ua.exp - ub.exp - 64 - 4, q);
}

Floatx80 fx_sqrt(SFEnv *env, Floatx80 a)
{
    FxClass ca = fx_class(a);
    if (ca == FX_UNSUPPORTED) {
        env->flags |= SF_IE;
        return FX_INDEFINITE;
    }
    if (ca == FX_SNAN) {
        env->flags |= SF_IE;
        return quiet(a);
    }
    if (ca == FX_QNAN || ca == FX_ZERO) {
        return a;
    }
    if (fx_sign(a)) {
        env->flags |= SF_IE; /* no DE for a negative denormal: invalid takes precedence */
        return FX_INDEFINITE;
    }
    if (ca == FX_INF) {
        return a;
    }
    if (is_denormal_class(ca)) {
        env->flags |= SF_DE;
    }
    Unp u = normalize(unpack(a));
    /* value = sig * 2^(exp - 63); make the power of two even. */
    int32_t ex = u.exp - 63;
    u128 s = u.sig;
    if (ex & 1) {
        s <<= 1;
        ex -= 1;
    }
    /* Digit-by-digit square root of s * 2^80: 33 radicand pairs from s, then 40 zero pairs,
     * giving floor(sqrt(s) * 2^40) (72-73 bits) and an exact remainder. */
    u128 rem = 0, root = 0;
    for (int i = 32; i >= -40; i--) {
        unsigned pair = i >= 0 ? (unsigned)((s >> (2 * i)) & 3) : 0;
        rem = (rem << 2) | pair;
        u128 trial = (root << 2) | 1;
        if (rem >= trial) {
            rem -= trial;
            root = (root << 1) | 1;
        } else {
            root <<= 1;
        }
    }
    u128 m = (root << 1) | (rem != 0);
    return pack_ext(env, false, ex / 2 - 41, m);
}

Floatx80 fx_round_int(SFEnv *env, Floatx80 a)
{
    FxClass ca = fx_class(a);
    if (ca == FX_UNSUPPORTED) {
        env->flags |= SF_IE;
        return FX_INDEFINITE;
    }
    if (ca == FX_SNAN) {
        env->flags |= SF_IE;
        return quiet(a);
    }
    if (ca == FX_QNAN || ca == FX_ZERO || ca == FX_INF) {
        return a;
    }
    if (is_denormal_class(ca)) {
        env->flags |= SF_DE;
    }
    Unp u = unpack(a);
    if (u.exp >= 63) {
        return a;
    }
    bool inexact, up;
    u128 k = round_at((u128)u.sig, 63 - u.exp, env->rc, u.sign, &inexact, &up);
    env->c1 = up;
    if (inexact) {
        env->flags |= SF_PE;
    }
    if (k == 0) {
        return fx_zero(u.sign);
    }
    int klen = 128 - clz128(k);
    return fx_make(u.sign, klen - 1 + EXT_BIAS, (uint64_t)(k << (64 - klen)));
}

Floatx80 fx_rem(SFEnv *env, Floatx80 a, Floatx80 b, bool ieee, bool *done, unsigned *quot)
{
    FxClass ca = fx_class(a), cb = fx_class(b);
    *done = true;
    *quot = 0;
    if (is_nan_or_unsupported(ca) || is_nan_or_unsupported(cb)) {
        return nan_result2(env, a, ca, b, cb);
    }
    if (ca == FX_INF || cb == FX_ZERO) {
        env->flags |= SF_IE;
        return FX_INDEFINITE;
    }
    if (is_denormal_class(ca) || is_denormal_class(cb)) {
        env->flags |= SF_DE;
    }
    if (cb == FX_INF && is_denormal_class(ca)) {
        /* The remainder is the dividend, delivered like any tiny result: normalised from a
         * pseudo-denormal, re-biased with UE unmasked (host x87). */
        Unp u = unpack(a);
        return pack_ext_prec(env, u.sign, u.exp - 63, u.sig, 64);
    }
    if (ca == FX_ZERO || cb == FX_INF) {
        return a;
    }
    Unp ua = normalize(unpack(a)), ub = normalize(unpack(b));
    int32_t d = ua.exp - ub.exp;
    bool sign = ua.sign;
    if (d < 0) {
        if (!ieee || d < -1 || ua.sig <= ub.sig) {
            return pack_ext_prec(env, sign, ua.exp - 63, ua.sig, 64);
        }
        /* FPREM1 with |a| in (|b|/2, |b|): quotient 1, remainder a - b. */
        u128 m = ((u128)ub.sig << 1) - ua.sig;
        *quot = 1;
        return pack_ext_prec(env, !sign, ua.exp - 63, m, 64);
    }
    int shift = d;
    if (d >= 64) {
        /* Partial remainder (SDM FPREM): reduce by a quotient scaled to 2^(d - N). N is
         * implementation-dependent (32..63); the host x87 uses N = 32 + (d mod 32), and so do
         * we, so that the quotient bits after a chain of partial steps agree too. */
        *done = false;
        shift = 32 + (d & 31);
    }
    u128 num = (u128)ua.sig << shift;
    u128 q = num / ub.sig;
    u128 r = num % ub.sig;
    if (*done && ieee) {
        u128 twice = r << 1;
        if (twice > ub.sig || (twice == ub.sig && (q & 1))) {
            q += 1;
            r = ub.sig - r;
            sign = !sign;
        }
    }
    if (*done) {
        *quot = (unsigned)(q & 7);
    }
    if (r == 0) {
        return fx_zero(ua.sign);
    }
    /* Remainder r * 2^(exp_b - 63) (scaled by 2^(d - shift) when partial). */
    return pack_ext_prec(env, sign, ub.exp - 63 + (d - shift), r, 64);
}

Floatx80 fx_scale(SFEnv *env, Floatx80 a, Floatx80 b)
{
    FxClass ca = fx_class(a), cb = fx_class(b);
    if (is_nan_or_unsupported(ca) || is_nan_or_unsupported(cb)) {
        return nan_result2(env, a, ca, b, cb);
    }
    if (cb == FX_INF) {
        bool neg = fx_sign(b);
        if ((ca == FX_ZERO && !neg) || (ca == FX_INF && neg)) {
            env->flags |= SF_IE;
            return FX_INDEFINITE;
        }
        if (is_denormal_class(ca)) {
            env->flags |= SF_DE;
        }
        if (ca == FX_ZERO || ca == FX_INF) {
            return a;
        }
        return neg ? fx_zero(fx_sign(a)) : fx_inf(fx_sign(a));
    }
    if (is_denormal_class(ca) || is_denormal_class(cb)) {
        env->flags |= SF_DE;
    }
    if (ca == FX_ZERO || ca == FX_INF) {
        return a;
    }
    /* n = trunc(b), clamped: anything beyond +-2^17 over- or underflows regardless. */
    int32_t n = 0;
    if (cb != FX_ZERO) {
        Unp ub = unpack(b);
        if (ub.exp >= 17) {
            n = 1 << 17;
        } else if (ub.exp >= 0) {
            n = (int32_t)(ub.sig >> (63 - ub.exp));
        }
        if (ub.sign) {
            n = -n;
        }
    }
    Unp ua = unpack(a);
    return pack_ext_prec(env, ua.sign, ua.exp - 63 + n, ua.sig, 64);
}

Floatx80 fx_xtract(SFEnv *env, Floatx80 a, Floatx80 *sig)
{
    FxClass ca = fx_class(a);
    if (ca == FX_UNSUPPORTED || ca == FX_SNAN) {
        env->flags |= SF_IE;
        *sig = ca == FX_SNAN ? quiet(a) : FX_INDEFINITE;
        return *sig;
    }
    if (ca == FX_QNAN) {
        *sig = a;
        return a;
    }
    if (ca == FX_ZERO) {
        env->flags |= SF_ZE;
        *sig = a;
        return fx_inf(true);
    }
    if (ca == FX_INF) {
        *sig = a;
        return fx_inf(false);
    }
    if (is_denormal_class(ca)) {
        env->flags |= SF_DE;
    }
    Unp u = normalize(unpack(a));
    *sig = fx_make(u.sign, EXT_BIAS, u.sig);
    return fx_from_i64(u.exp);
}

FxCmp fx_compare(SFEnv *env, Floatx80 a, Floatx80 b, bool quiet_cmp)
{
    FxClass ca = fx_class(a), cb = fx_class(b);
    if (is_nan_or_unsupported(ca) || is_nan_or_unsupported(cb)) {
        if (!quiet_cmp || ca == FX_SNAN || cb == FX_SNAN || ca == FX_UNSUPPORTED ||
            cb == FX_UNSUPPORTED) {
            env->flags |= SF_IE;
        }
        return FX_UNORDERED;
    }
    if (is_denormal_class(ca) || is_denormal_class(cb)) {
        env->flags |= SF_DE;
    }
    bool za = ca == FX_ZERO, zb = cb == FX_ZERO;
    if (za && zb) {
        return FX_EQ;
    }
    bool sa = fx_sign(a), sb = fx_sign(b);
    if (za) {
        return sb ? FX_GT : FX_LT;
    }
    if (zb) {
        return sa ? FX_LT : FX_GT;
    }
    if (sa != sb) {
        return sa ? FX_LT : FX_GT;
    }
    /* Same sign: compare magnitudes (pseudo-denormals equal their normal twins). */
    int32_t ea, eb;
    uint64_t ma, mb;
    if (ca == FX_INF) {
        ea = 1 << 20;
        ma = 0;
    } else {
        Unp u = normalize(unpack(a));
        ea = u.exp;
        ma = u.sig;
    }
    if (cb == FX_INF) {
        eb = 1 << 20;
        mb = 0;
    } else {
        Unp u = normalize(unpack(b));
        eb = u.exp;
        mb = u.sig;
    }
    int mag = ea != eb ? (ea < eb ? -1 : 1) : (ma != mb ? (ma < mb ? -1 : 1) : 0);
    if (mag == 0) {
        return FX_EQ;
    }
    if (sa) {
        mag = -mag;
    }
    return mag < 0 ? FX_LT : FX_GT;
}

Floatx80 fx_from_i64(int64_t v)
{
    if (v == 0) {
        return fx_zero(false);
    }
    bool sign = v < 0;
    uint64_t mag = sign ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    int lz = __builtin_clzll(mag);
    return fx_make(sign, 63 - lz + EXT_BIAS, mag << lz);
}

int64_t fx_to_int(SFEnv *env, Floatx80 a, int bits)
{
    int64_t indefinite = bits == 64 ? INT64_MIN : -((int64_t)1 << (bits - 1));
    FxClass ca = fx_class(a);
    if (is_nan_or_unsupported(ca) || ca == FX_INF) {
        env->flags |= SF_IE;
        return indefinite;
    }
    if (ca == FX_ZERO) {
        return 0;
    }
    /* FIST/FST take denormal sources without #D (SDM: their exception lists have none). */
    Unp u = unpack(a);
    bool inexact = false, up = false;
    u128 k;
    if (u.exp >= 63) {
        if (u.exp > 63) {
            env->flags |= SF_IE;
            return indefinite;
        }
        k = u.sig;
    } else {
        k = round_at((u128)u.sig, 63 - u.exp, env->rc, u.sign, &inexact, &up);
    }
    u128 limit = (u128)1 << (bits - 1); /* magnitude allowed: < limit, or == limit if negative */
    if (k > limit || (k == limit && !u.sign)) {
        env->flags |= SF_IE;
        return indefinite;
    }
    if (inexact) {
        env->flags |= SF_PE;
    }
    env->c1 = up;
    uint64_t mag = (uint64_t)k;
    return u.sign ? (int64_t)(0 - mag) : (int64_t)mag;
}

/* Widen an IEEE binary32/binary64 encoding. */
static Floatx80 from_ieee(SFEnv *env, uint64_t bits, int fracbits, int expbits)
{
    bool sign = (bits >> (fracbits + expbits)) & 1;
    int32_t emax_field = (1 << expbits) - 1;
    int32_t bias = emax_field >> 1;
    int32_t e = (int32_t)((bits >> fracbits) & (uint64_t)emax_field);
    uint64_t frac = bits & ((1ull << fracbits) - 1);
    if (e == emax_field) {
        if (frac == 0) {
            return fx_inf(sign);
        }
        bool snan = !((frac >> (fracbits - 1)) & 1);
        if (snan) {
            env->flags |= SF_IE;
        }
        return fx_make(sign, 0x7FFF, (1ull << 63) | (1ull << 62) | (frac << (63 - fracbits)));
    }
    if (e == 0) {
        if (frac == 0) {
            return fx_zero(sign);
        }
        env->flags |= SF_DE;
        int lz = __builtin_clzll(frac);
        /* value = frac * 2^(1 - bias - fracbits) */
        int32_t lead = (63 - lz) + 1 - bias - fracbits;
        return fx_make(sign, lead + EXT_BIAS, frac << lz);
    }
    return fx_make(sign, e - bias + EXT_BIAS, (1ull << 63) | (frac << (63 - fracbits)));
}

Floatx80 fx_from_f32(SFEnv *env, uint32_t f) { return from_ieee(env, f, 23, 8); }
Floatx80 fx_from_f64(SFEnv *env, uint64_t f) { return from_ieee(env, f, 52, 11); }

/* Narrow to an IEEE format (FST m32/m64). */
static uint64_t to_ieee(SFEnv *env, Floatx80 a, int fracbits, int expbits)
{
    int32_t emax_field = (1 << expbits) - 1;
    int32_t bias = emax_field >> 1;
    uint64_t signbit = (uint64_t)fx_sign(a) << (fracbits + expbits);
    uint64_t inf = signbit | ((uint64_t)emax_field << fracbits);
    FxClass ca = fx_class(a);
    env->c1 = false;
    switch (ca) {
    case FX_UNSUPPORTED:
        env->flags |= SF_IE;
        return ((uint64_t)1 << (fracbits + expbits)) | ((uint64_t)emax_field << fracbits) |
               (1ull << (fracbits - 1));
    case FX_SNAN:
        env->flags |= SF_IE;
        /* fall through */
    case FX_QNAN:
        return inf | (1ull << (fracbits - 1)) | ((a.sig << 1) >> (64 - fracbits));
    case FX_INF:
        return inf;
    case FX_ZERO:
        return signbit;
    default:
        break;
    }
    Unp u = unpack(a);
    int32_t emin = 1 - bias;
    Rounded r = round_core(env->rc, u.sign, u.exp - 63, u.sig, fracbits + 1, emin, bias,
                           emin - fracbits, false);
    if (r.kind == RK_OVERFLOW) {
        env->flags |= SF_OE;
        if (!(env->masks & SF_OE)) {
            return 0;
        }
        env->flags |= SF_PE;
        bool to_inf = env->rc == SF_RN || (env->rc == SF_RU && !u.sign) ||
                      (env->rc == SF_RD && u.sign);
        env->c1 = to_inf;
        if (to_inf) {
            return inf;
        }
        return signbit | ((uint64_t)(emax_field - 1) << fracbits) | ((1ull << fracbits) - 1);
    }
    if (r.tiny && !(env->masks & SF_UE)) {
        env->flags |= SF_UE;
        return 0;
    }
    if (r.inexact) {
        env->flags |= SF_PE | (r.tiny ? SF_UE : 0);
    }
    env->c1 = r.up;
    if (r.kind == RK_ZERO) {
        return signbit;
    }
    uint64_t frac = r.sig >> (63 - fracbits);
    if (!(r.sig >> 63)) {
        return signbit | frac; /* denormal: exponent field 0 */
    }
    return signbit | ((uint64_t)(r.exp + bias) << fracbits) | (frac & ((1ull << fracbits) - 1));
}

uint32_t fx_to_f32(SFEnv *env, Floatx80 a) { return (uint32_t)to_ieee(env, a, 23, 8); }
uint64_t fx_to_f64(SFEnv *env, Floatx80 a) { return to_ieee(env, a, 52, 11); }

Floatx80 fx_round_to_prec(SFEnv *env, Floatx80 a)
{
    FxClass ca = fx_class(a);
    if (ca != FX_NORMAL && ca != FX_DENORMAL && ca != FX_PSEUDO_DENORMAL) {
        return a;
    }
    Unp u = unpack(a);
    return pack_ext(env, u.sign, u.exp - 63, u.sig);
}

/* ------------------------------------------------------------------------------------------
 * Transcendental functions. Each is evaluated in a 128-bit-significand format (BF, about 120
 * correct bits) and rounded once to 64 bits with the current rounding mode, so results are
 * correctly rounded except in astronomically rare cases (within 1 ulp always). FSIN, FCOS,
 * FSINCOS and FPTAN reduce their argument with the x87's 66-bit approximation of pi (SDM
 * Vol. 1 8.3.10), exactly, so large arguments agree with the hardware's reduction. These
 * instructions ignore precision control.
 * ------------------------------------------------------------------------------------------ */

/* BF: value = m * 2^(exp - 127), m normalised (bit 127 set) or 0. */
typedef struct BF {
    bool sign;
    int32_t exp;
    u128 m;
} BF;

static BF bf_make(bool sign, int32_t exp, u128 m)
{
    BF r = {sign, exp, m};
    if (m) {
        int lz = clz128(m);
        r.m = m << lz;
        r.exp = exp - lz;
    }
    return r;
}

static BF bf_from_u64(uint64_t v) { return bf_make(false, 127, v); }

static BF bf_from_fx(Floatx80 a)
{
    Unp u = unpack(a);
    return bf_make(u.sign, u.exp, (u128)u.sig << 64);
}

static BF bf_neg(BF a)
{
    a.sign = !a.sign;
    return a;
}

static BF bf_mul(BF a, BF b)
{
    if (!a.m || !b.m) {
        return bf_make(a.sign ^ b.sign, 0, 0);
    }
    uint64_t ah = (uint64_t)(a.m >> 64), al = (uint64_t)a.m;
    uint64_t bh = (uint64_t)(b.m >> 64), bl = (uint64_t)b.m;
    u128 hh = (u128)ah * bh, hl = (u128)ah * bl, lh = (u128)al * bh, ll = (u128)al * bl;
    u128 mid = (hl & ~0ull) + (lh & ~0ull) + (ll >> 64);
    u128 hi = hh + (hl >> 64) + (lh >> 64) + (mid >> 64);
    u128 lo64 = mid & ~0ull; /* bits 64..127 of the product */
    BF r;
    r.sign = a.sign ^ b.sign;
    if (hi >> 127) {
        r.m = hi;
        r.exp = a.exp + b.exp + 1;
    } else {
        r.m = (hi << 1) | (lo64 >> 63);
        r.exp = a.exp + b.exp;
    }
    return r;
}

static BF bf_add(BF a, BF b)
{
    if (!a.m) {
        return b;
    }
    if (!b.m) {
        return a;
    }
    if (a.exp < b.exp || (a.exp == b.exp && a.m < b.m)) {
        BF t = a;
        a = b;
        b = t;
    }
    int d = a.exp - b.exp;
    u128 ma = a.m >> 1, mb = d >= 127 ? 0 : (b.m >> 1) >> d;
    u128 m = a.sign == b.sign ? ma + mb : ma - mb;
    return bf_make(a.sign, a.exp + 1, m);
}

static BF bf_sub(BF a, BF b) { return bf_add(a, bf_neg(b)); }

static BF bf_div(BF a, BF b)
{
    if (!a.m) {
        return a;
    }
    u128 r = a.m, q;
    int iters;
    int32_t exp;
    if (a.m >= b.m) {
        q = 1;
        r -= b.m;
        iters = 127;
        exp = a.exp - b.exp;
    } else {
        q = 0;
        iters = 128;
        exp = a.exp - b.exp - 1;
    }
    for (int i = 0; i < iters; i++) {
        bool carry = (r >> 127) != 0;
        r <<= 1;
        q <<= 1;
        if (carry || r >= b.m) {
            r -= b.m;
            q |= 1;
        }
    }
    return bf_make(a.sign ^ b.sign, exp, q);
}

static BF bf_div_u64(BF a, uint64_t n) { return bf_div(a, bf_from_u64(n)); }

/* bf_sqrt: Newton's iteration from a 32-bit integer square root of the top bits. */
static BF bf_sqrt(BF a)
{
    if (!a.m) {
        return a;
    }
    /* a ~ top * 2^E with top the leading 64 bits; make E even. */
    int32_t E = a.exp - 63;
    u128 t = (uint64_t)(a.m >> 64);
    if (E & 1) {
        t <<= 1;
        E -= 1;
    }
    uint64_t s = 0;
    for (int bit = 40; bit >= 0; bit--) {
        uint64_t c = s | (1ull << bit);
        if ((u128)c * c <= t) {
            s = c;
        }
    }
    BF x = bf_make(false, 127 + E / 2, s);
    BF half = bf_make(false, -1, (u128)1 << 127);
    for (int i = 0; i < 4; i++) {
        x = bf_mul(bf_add(x, bf_div(a, x)), half);
    }
    return x;
}

/* 128-bit constants: pi, ln 2, log2(e). */
static BF bf_pi(void)
{
    return bf_make(false, 1, ((u128)0xC90FDAA22168C234ull << 64) | 0xC4C6628B80DC1CD1ull);
}
static BF bf_ln2(void)
{
    return bf_make(false, -1, ((u128)0xB17217F7D1CF79ABull << 64) | 0xC9E3B39803F2F6AFull);
}
static BF bf_log2e(void)
{
    return bf_make(false, 0, ((u128)0xB8AA3B295C17F0BBull << 64) | 0xBE87FED0691D3E89ull);
}

static bool bf_below(BF a, int32_t exp) { return !a.m || a.exp < exp; }

/* sin and cos of |r| <= ~0.8 by their Taylor series. */
static BF bf_sin_small(BF r)
{
    BF r2 = bf_mul(r, r), term = r, sum = r;
    for (uint64_t n = 2; n < 60; n += 2) {
        term = bf_neg(bf_div_u64(bf_mul(term, r2), n * (n + 1)));
        sum = bf_add(sum, term);
        if (bf_below(term, sum.exp - 130)) {
            break;
        }
    }
    return sum;
}

static BF bf_cos_small(BF r)
{
    BF r2 = bf_mul(r, r), one = bf_from_u64(1), term = one, sum = one;
    for (uint64_t n = 1; n < 60; n += 2) {
        term = bf_neg(bf_div_u64(bf_mul(term, r2), n * (n + 1)));
        sum = bf_add(sum, term);
        if (bf_below(term, sum.exp - 130)) {
            break;
        }
    }
    return sum;
}

/* atan(z) for 0 <= z <= 1: two angle halvings z / (1 + sqrt(1 + z^2)), then the series. */
static BF bf_atan_unit(BF z)
{
    BF one = bf_from_u64(1);
    for (int i = 0; i < 2; i++) {
        z = bf_div(z, bf_add(one, bf_sqrt(bf_add(one, bf_mul(z, z)))));
    }
    BF z2 = bf_mul(z, z), pw = z, sum = z;
    for (uint64_t n = 3; n < 200; n += 2) {
        pw = bf_neg(bf_mul(pw, z2));
        BF term = bf_div_u64(pw, n);
        sum = bf_add(sum, term);
        if (bf_below(term, sum.exp - 130)) {
            break;
        }
    }
    return bf_mul(sum, bf_from_u64(4));
}

/* atanh(z) series, |z| <= ~0.2. */
static BF bf_atanh_small(BF z)
{
    BF z2 = bf_mul(z, z), pw = z, sum = z;
    for (uint64_t n = 3; n < 400; n += 2) {
        pw = bf_mul(pw, z2);
        BF term = bf_div_u64(pw, n);
        sum = bf_add(sum, term);
        if (bf_below(term, sum.exp - 130)) {
            break;
        }
    }
    return sum;
}

/* ln(m) for m in [1/sqrt2, sqrt2]. */
static BF bf_ln_near1(BF m)
{
    BF one = bf_from_u64(1);
    BF z = bf_div(bf_sub(m, one), bf_add(m, one));
    return bf_mul(bf_atanh_small(z), bf_from_u64(2));
}

/* round_bf: the final rounding of a transcendental result to 64 bits. The low bit is forced on
 * so the result counts as inexact (it is: these functions are irrational at these points). */
static Floatx80 round_bf(SFEnv *env, BF r)
{
    if (!r.m) {
        return fx_zero(r.sign);
    }
    return pack_ext_prec(env, r.sign, r.exp - 127, r.m | 1, 64);
}

/* reduce_pi66: x = k * (pi66 / 2) + r exactly, |r| <= pi66 / 4; returns false if |x| >= 2^63
 * (out of range: the x87 sets C2 and leaves the operand). */
static bool reduce_pi66(Floatx80 x, BF *r, unsigned *quadrant)
{
    Unp u = normalize(unpack(x));
    if (u.exp >= 63) {
        return false;
    }
    /* pi66 / 2 = P * 2^-65 with P the 66 leading bits of pi (C90FDAA22168C234, then 11). */
    const u128 P = ((u128)0xC90FDAA22168C234ull << 2) | 3;
    const int32_t ep = -65;
    int32_t ex = u.exp - 63; /* x = sig * 2^ex */
    if (u.exp < -1) {        /* |x| < 0.5 < pi/4: no reduction */
        *r = bf_from_fx(x);
        *quadrant = 0;
        return true;
    }
    u128 X = (u128)u.sig << (ex - ep); /* ex - ep <= 64 */
    u128 k = X / P, rem = X % P;
    bool neg = false;
    if (2 * rem > P) { /* P is odd: no ties */
        k += 1;
        rem = P - rem;
        neg = true;
    }
    *r = bf_make(u.sign ^ neg, ep + 127, rem);
    unsigned q = (unsigned)(k & 3);
    *quadrant = u.sign ? (4 - q) & 3 : q;
    return true;
}

/* One NaN/unsupported operand: the x87 result and flags. */
static bool special_nan1(SFEnv *env, Floatx80 a, Floatx80 *out)
{
    FxClass c = fx_class(a);
    if (c == FX_UNSUPPORTED) {
        env->flags |= SF_IE;
        *out = FX_INDEFINITE;
        return true;
    }
    if (c == FX_SNAN || c == FX_QNAN) {
        if (c == FX_SNAN) {
            env->flags |= SF_IE;
        }
        *out = quiet(a);
        return true;
    }
    return false;
}

/* fx_sincos_sel: FSIN (want 1), FCOS (want 2) or FSINCOS (want 3); the flags and C1 come only from
 * the results the instruction delivers (FCOS of a tiny operand must not underflow). */
static bool fx_sincos_sel(SFEnv *env, Floatx80 a, Floatx80 *s, Floatx80 *c, unsigned want)
{
    FxClass ca = fx_class(a);
    Floatx80 n;
    if (special_nan1(env, a, &n)) {
        *s = *c = n;
        return true;
    }
    if (ca == FX_INF) {
        env->flags |= SF_IE;
        *s = *c = FX_INDEFINITE;
        return true;
    }
    if (ca == FX_ZERO) {
        *s = a;
        *c = fx_make(false, EXT_BIAS, 1ull << 63);
        return true;
    }
    if (is_denormal_class(ca)) {
        env->flags |= SF_DE;
    }
    BF r;
    unsigned q;
    if (!reduce_pi66(a, &r, &q)) {
        return false;
    }
    /* Only the series the delivered results need (FSIN and FCOS take one of the two). */
    bool odd = q & 1;
    bool need_s = ((want & 1) && !odd) || ((want & 2) && odd);
    bool need_c = ((want & 1) && odd) || ((want & 2) && !odd);
    BF zero = {0};
    BF sr = need_s ? bf_sin_small(r) : zero, cr = need_c ? bf_cos_small(r) : zero;
    BF sv, cv;
    switch (q) {
    case 0: sv = sr; cv = cr; break;
    case 1: sv = cr; cv = bf_neg(sr); break;
    case 2: sv = bf_neg(sr); cv = bf_neg(cr); break;
    default: sv = bf_neg(cr); cv = sr; break;
    }
    SFEnv e1 = *env, e2 = *env;
    *s = (want & 1) ? round_bf(&e1, sv) : fx_zero(false);
    *c = (want & 2) ? round_bf(&e2, cv) : fx_zero(false);
    env->flags |= ((want & 1) ? e1.flags : 0) | ((want & 2) ? e2.flags : 0);
    env->c1 = (want & 1) ? e1.c1 : e2.c1;
    return true;
}

bool fx_sincos(SFEnv *env, Floatx80 a, Floatx80 *s, Floatx80 *c)
{
    return fx_sincos_sel(env, a, s, c, 3);
}

bool fx_sin(SFEnv *env, Floatx80 a, Floatx80 *s)
{
    Floatx80 c;
    return fx_sincos_sel(env, a, s, &c, 1);
}

bool fx_cos(SFEnv *env, Floatx80 a, Floatx80 *c)
{
    Floatx80 s;
    return fx_sincos_sel(env, a, &s, c, 2);
}

bool fx_tan(SFEnv *env, Floatx80 a, Floatx80 *t)
{
    FxClass ca = fx_class(a);
    if (special_nan1(env, a, t)) {
        return true;
    }
    if (ca == FX_INF) {
        env->flags |= SF_IE;
        *t = FX_INDEFINITE;
        return true;
    }
    if (ca == FX_ZERO) {
        *t = a;
        return true;
    }
    if (is_denormal_class(ca)) {
        env->flags |= SF_DE;
    }
    BF r;
    unsigned q;
    if (!reduce_pi66(a, &r, &q)) {
        return false;
    }
    BF sr = bf_sin_small(r), cr = bf_cos_small(r);
    BF v = (q & 1) ? bf_neg(bf_div(cr, sr)) : bf_div(sr, cr);
    *t = round_bf(env, v);
    return true;
}

Floatx80 fx_atan2(SFEnv *env, Floatx80 y, Floatx80 x)
{
    FxClass cy = fx_class(y), cx = fx_class(x);
    if (is_nan_or_unsupported(cy) || is_nan_or_unsupported(cx)) {
        return nan_result2(env, y, cy, x, cx);
    }
    if (is_denormal_class(cy) || is_denormal_class(cx)) {
        env->flags |= SF_DE;
    }
    bool sy = fx_sign(y), sx = fx_sign(x);
    BF pi = bf_pi();
    BF half_pi = bf_make(false, pi.exp - 1, pi.m);
    BF res;
    /* Zeros and infinities (SDM FPATAN table 3-30). */
    if (cy == FX_ZERO || cx == FX_INF) {
        if (cy == FX_INF) { /* both infinite */
            BF quarter = bf_make(false, pi.exp - 2, pi.m);
            res = sx ? bf_sub(pi, quarter) : quarter;
        } else if (sx) {
            res = pi;
        } else {
            return fx_zero(sy);
        }
    } else if (cx == FX_ZERO || cy == FX_INF) {
        res = half_pi;
    } else {
        BF by = bf_from_fx(y), bx = bf_from_fx(x);
        by.sign = bx.sign = false;
        bool swap = by.exp > bx.exp || (by.exp == bx.exp && by.m > bx.m);
        BF t = swap ? bf_atan_unit(bf_div(bx, by)) : bf_atan_unit(bf_div(by, bx));
        if (swap) {
            t = bf_sub(half_pi, t);
        }
        res = sx ? bf_sub(pi, t) : t;
    }
    res.sign = sy;
    return round_bf(env, res);
}

Floatx80 fx_2xm1(SFEnv *env, Floatx80 a)
{
    FxClass ca = fx_class(a);
    Floatx80 n;
    if (special_nan1(env, a, &n)) {
        return n;
    }
    if (ca == FX_ZERO) {
        return a;
    }
    if (ca == FX_INF) {
        return fx_sign(a) ? fx_make(true, EXT_BIAS, 1ull << 63) : a;
    }
    if (is_denormal_class(ca)) {
        env->flags |= SF_DE;
    }
    /* expm1(y), y = a ln 2: the series on y / 2^8, then expm1(2t) = expm1(t) (expm1(t) + 2). */
    BF y = bf_mul(bf_from_fx(a), bf_ln2());
    int32_t k = 8;
    BF t = y;
    t.exp -= k;
    BF term = t, sum = t;
    for (uint64_t n2 = 2; n2 < 60; n2++) {
        term = bf_div_u64(bf_mul(term, t), n2);
        sum = bf_add(sum, term);
        if (bf_below(term, sum.exp - 130)) {
            break;
        }
    }
    BF two = bf_from_u64(2);
    for (int i = 0; i < k; i++) {
        sum = bf_mul(sum, bf_add(sum, two));
    }
    return round_bf(env, sum);
}

/* log2 of a positive finite x as BF. */
static BF bf_log2(Floatx80 x)
{
    Unp u = normalize(unpack(x));
    int32_t e = u.exp;
    /* m = sig * 2^-63 in [1, 2); use [1/sqrt2, sqrt2] for a fast series. */
    BF m = bf_make(false, 0, (u128)u.sig << 64);
    const uint64_t sqrt2_sig = 0xB504F333F9DE6484ull;
    if (u.sig > sqrt2_sig) {
        m.exp -= 1;
        e += 1;
    }
    BF lnm = bf_ln_near1(m);
    BF l = bf_mul(lnm, bf_log2e());
    BF be = e < 0 ? bf_neg(bf_from_u64((uint64_t)-(int64_t)e)) : bf_from_u64((uint64_t)e);
    return bf_add(be, l);
}

Floatx80 fx_yl2x(SFEnv *env, Floatx80 y, Floatx80 x)
{
    FxClass cy = fx_class(y), cx = fx_class(x);
    if (is_nan_or_unsupported(cy) || is_nan_or_unsupported(cx)) {
        return nan_result2(env, x, cx, y, cy);
    }
    uint8_t before = env->flags;
    if (is_denormal_class(cy) || is_denormal_class(cx)) {
        env->flags |= SF_DE;
    }
    bool sx = fx_sign(x), sy = fx_sign(y);
    if (sx && cx != FX_ZERO) {
        env->flags = before | SF_IE; /* the invalid operand hides DE (host x87) */
        return FX_INDEFINITE;
    }
    if (cx == FX_ZERO) {
        if (cy == FX_ZERO) {
            env->flags |= SF_IE;
            return FX_INDEFINITE;
        }
        if (cy != FX_INF) {
            env->flags = before | SF_ZE; /* the zero divide hides a denormal y (host) */
        }
        return fx_inf(!sy);
    }
    if (cx == FX_INF) {
        if (cy == FX_ZERO) {
            env->flags |= SF_IE;
            return FX_INDEFINITE;
        }
        return fx_inf(sy);
    }
    bool x_is_one = fx_exp(x) == EXT_BIAS && x.sig == (1ull << 63);
    if (cy == FX_INF) {
        if (x_is_one) {
            env->flags |= SF_IE;
            return FX_INDEFINITE;
        }
        bool x_lt_one = fx_exp(x) < EXT_BIAS;
        return fx_inf(sy ^ x_lt_one);
    }
    if (x_is_one) {
        return fx_zero(sy); /* log2(1) = +0 */
    }
    if (cy == FX_ZERO) {
        bool x_lt_one = fx_exp(x) < EXT_BIAS;
        return fx_zero(sy ^ x_lt_one);
    }
    return round_bf(env, bf_mul(bf_from_fx(y), bf_log2(x)));
}

Floatx80 fx_yl2xp1(SFEnv *env, Floatx80 y, Floatx80 x)
{
    FxClass cy = fx_class(y), cx = fx_class(x);
    if (is_nan_or_unsupported(cy) || is_nan_or_unsupported(cx)) {
        return nan_result2(env, x, cx, y, cy);
    }
    if (is_denormal_class(cy) || is_denormal_class(cx)) {
        env->flags |= SF_DE;
    }
    if (cx == FX_INF || (cy == FX_INF && cx == FX_ZERO)) {
        env->flags |= SF_IE;
        return FX_INDEFINITE;
    }
    if (cx == FX_ZERO || cy == FX_ZERO) {
        return fx_zero(fx_sign(x) ^ fx_sign(y));
    }
    if (cy == FX_INF) {
        return fx_inf(fx_sign(x) ^ fx_sign(y));
    }
    /* ln(1 + x) = 2 atanh(x / (2 + x)); the x87 defines the operation for
     * |x| < 1 - sqrt(2)/2 and we evaluate the same formula beyond it (x > -1). */
    BF bx = bf_from_fx(x);
    BF xp1 = bf_add(bx, bf_from_u64(1));
    if (!xp1.m || xp1.sign) { /* x <= -1: the logarithm is undefined */
        env->flags |= SF_IE;
        return FX_INDEFINITE;
    }
    BF z = bf_div(bx, bf_add(bf_from_u64(2), bx));
    BF ln = bf_mul(bf_atanh_small(z), bf_from_u64(2));
    return round_bf(env, bf_mul(bf_from_fx(y), bf_mul(ln, bf_log2e())));
}
