/* softfloat.h: exact IEEE-754 double-extended (x87 80-bit) arithmetic in software, with x87
 * precision control, rounding control, exception flags and the x87's operand classes, so that
 * results are bit-identical to a Pentium II on every host.
 *
 * All operations take an SFEnv that carries the x87 control bits in and accumulates exception
 * flags out (x87 status-word bit positions). Unmasked overflow/underflow on a register
 * destination returns the exponent-biased result the x87 stores (SDM Vol. 1 8.5.4/8.5.5).
 */
#ifndef ANYVM_CORE_SOFTFLOAT_H
#define ANYVM_CORE_SOFTFLOAT_H

#include <stdbool.h>
#include <stdint.h>

#include "core/fpu.h"

/* Exception flags / masks, as in the x87 status and control words. */
enum {
    SF_IE = 0x01, SF_DE = 0x02, SF_ZE = 0x04, SF_OE = 0x08, SF_UE = 0x10, SF_PE = 0x20,
};

/* Rounding control (FCW bits 10-11). */
enum { SF_RN = 0, SF_RD = 1, SF_RU = 2, SF_RZ = 3 };

typedef struct SFEnv {
    uint8_t rc;        /* SF_RN .. SF_RZ */
    uint8_t prec;      /* significand bits for PC-controlled ops: 24, 53 or 64 */
    uint8_t masks;     /* SF_* bits set = masked */
    uint8_t flags;     /* accumulated SF_* exceptions */
    bool c1;           /* last rounding rounded up in magnitude (x87 C1) */
} SFEnv;

/* sf_env_from_fcw: precision, rounding and masks from an x87 control word (PC 01 is
 * reserved and behaves as 64 bits). */
static inline SFEnv sf_env_from_fcw(uint16_t fcw)
{
    SFEnv e = {
        .rc = (uint8_t)((fcw >> 10) & 3),
        .prec = (uint8_t)(((fcw >> 8) & 3) == 0 ? 24 : ((fcw >> 8) & 3) == 2 ? 53 : 64),
        .masks = (uint8_t)(fcw & 0x3F),
        .flags = 0,
        .c1 = false,
    };
    return e;
}

/* Classes of an 80-bit encoding (SDM Vol. 1 8.2.2, table 8-3). */
typedef enum FxClass {
    FX_ZERO, FX_DENORMAL, FX_PSEUDO_DENORMAL, FX_NORMAL, FX_INF, FX_QNAN, FX_SNAN,
    FX_UNSUPPORTED, /* unnormal, pseudo-NaN, pseudo-infinity: invalid as an operand */
} FxClass;

FxClass fx_class(Floatx80 a);

static inline bool fx_sign(Floatx80 a) { return (a.se >> 15) != 0; }
static inline int fx_exp(Floatx80 a) { return a.se & 0x7FFF; }
static inline Floatx80 fx_make(bool sign, int exp, uint64_t sig)
{
    Floatx80 r = {sig, (uint16_t)((sign ? 0x8000 : 0) | (exp & 0x7FFF))};
    return r;
}

/* Special values. */
#define FX_INDEFINITE fx_make(true, 0x7FFF, 0xC000000000000000ull)
Floatx80 fx_zero(bool sign);
Floatx80 fx_inf(bool sign);
bool fx_is_nan(Floatx80 a);

/* Arithmetic, rounded to env->prec bits with env->rc (FADD/FSUB/FMUL/FDIV/FSQRT). */
Floatx80 fx_add(SFEnv *env, Floatx80 a, Floatx80 b);
Floatx80 fx_sub(SFEnv *env, Floatx80 a, Floatx80 b);
Floatx80 fx_mul(SFEnv *env, Floatx80 a, Floatx80 b);
Floatx80 fx_div(SFEnv *env, Floatx80 a, Floatx80 b);
Floatx80 fx_sqrt(SFEnv *env, Floatx80 a);

/* fx_round_int: FRNDINT, to an integral value with env->rc (not affected by precision). */
Floatx80 fx_round_int(SFEnv *env, Floatx80 a);

/* fx_rem: FPREM (ieee = false, truncating quotient) / FPREM1 (ieee = true, nearest). One x87
 * execution: *done is false when the exponent difference exceeded 63 and only a partial
 * reduction happened (C2 = 1); *quot receives the low 3 bits of the quotient otherwise. */
Floatx80 fx_rem(SFEnv *env, Floatx80 a, Floatx80 b, bool ieee, bool *done, unsigned *quot);

/* fx_scale: FSCALE: a * 2^trunc(b). */
Floatx80 fx_scale(SFEnv *env, Floatx80 a, Floatx80 b);

/* fx_xtract: FXTRACT: *sig = significand (exponent 0x3FFF), return value = unbiased exponent. */
Floatx80 fx_xtract(SFEnv *env, Floatx80 a, Floatx80 *sig);

/* Comparison result, in the order FCOM maps to C3/C2/C0. */
typedef enum FxCmp { FX_LT, FX_EQ, FX_GT, FX_UNORDERED } FxCmp;

/* fx_compare: quiet = true raises IE only for SNaN (FUCOM); false for any NaN (FCOM). */
FxCmp fx_compare(SFEnv *env, Floatx80 a, Floatx80 b, bool quiet);

/* Conversions. Integer results use env->rc; out-of-range or NaN gives IE and the integer
 * indefinite (the most negative value) when IE is masked (the caller decides on unmasked). */
Floatx80 fx_from_i64(int64_t v);
int64_t fx_to_int(SFEnv *env, Floatx80 a, int bits);

/* fx_from_f32/f64: exact widening (denormal operand raises DE, SNaN raises IE and quiets). */
Floatx80 fx_from_f32(SFEnv *env, uint32_t f);
Floatx80 fx_from_f64(SFEnv *env, uint64_t f);

/* fx_to_f32/f64: narrowing with the target format's precision and exponent range. On unmasked
 * overflow/underflow the flag is set and the returned bits are meaningless: the x87 stores
 * nothing to memory in that case. */
uint32_t fx_to_f32(SFEnv *env, Floatx80 a);
uint64_t fx_to_f64(SFEnv *env, Floatx80 a);

/* Transcendentals (not affected by precision control). fx_sincos and fx_tan return false when
 * |a| >= 2^63: the x87 then sets C2 and leaves the operand unchanged. */
bool fx_sincos(SFEnv *env, Floatx80 a, Floatx80 *sin_out, Floatx80 *cos_out);
bool fx_tan(SFEnv *env, Floatx80 a, Floatx80 *tan_out);
/* fx_sin/fx_cos: FSIN/FCOS alone (flags and C1 of that result only); false as fx_sincos. */
bool fx_sin(SFEnv *env, Floatx80 a, Floatx80 *sin_out);
bool fx_cos(SFEnv *env, Floatx80 a, Floatx80 *cos_out);
Floatx80 fx_atan2(SFEnv *env, Floatx80 y, Floatx80 x);  /* FPATAN: atan(y / x) by quadrant */
Floatx80 fx_2xm1(SFEnv *env, Floatx80 a);               /* F2XM1 */
Floatx80 fx_yl2x(SFEnv *env, Floatx80 y, Floatx80 x);   /* FYL2X: y * log2(x) */
Floatx80 fx_yl2xp1(SFEnv *env, Floatx80 y, Floatx80 x); /* FYL2XP1: y * log2(x + 1) */

/* fx_round_to_prec: round an arbitrary value to env->prec (used by FLD-free paths and tests). */
Floatx80 fx_round_to_prec(SFEnv *env, Floatx80 a);

#endif
