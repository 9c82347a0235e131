/* fpu.c: x87 state life cycle (power-on reset and FNINIT) and tag computation. */
#include "core/fpu.h"

#include <string.h>

void fpu_reset(FPUState *f)
{
    /* SDM Vol. 3 table 9-1: after RESET the control word is 0040H, the tags 5555H (zeros). */
    memset(f, 0, sizeof(*f));
    f->fcw = 0x0040;
    f->ftw = 0x5555;
}

void fpu_finit(FPUState *f)
{
    f->fcw = 0x037F;
    f->fsw = 0;
    f->top = 0;
    f->ftw = 0xFFFF;
    f->fop = 0;
    f->fip = f->fdp = 0;
    f->fcs = f->fds = 0;
}

unsigned fpu_tag_of(Floatx80 v)
{
    unsigned e = v.se & 0x7FFF;
    if (e == 0x7FFF) {
        return FPU_TAG_SPECIAL;
    }
    if (e == 0) {
        return v.sig == 0 ? FPU_TAG_ZERO : FPU_TAG_SPECIAL;
    }
    return (v.sig >> 63) ? FPU_TAG_VALID : FPU_TAG_SPECIAL;
}
