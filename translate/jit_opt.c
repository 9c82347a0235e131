/* jit_opt.c: IR passes run between the frontend and the backend: dead lazy-flag updates and
 * redundant guest-register loads.
 *
 * Both passes keep the guest state exact wherever it can be observed: a helper call, a
 * possible fault (IR_SYNC, IR_LD, IR_ST), a branch or label, and every block exit see the
 * same CPUState as the unoptimised IR would have written.
 */
#include <stdlib.h>
#include <string.h>

#include "translate/jit_internal.h"

void jit_opt_dead_flags(const IRBlock *b, bool *dead)
{
    bool killed = false;
    for (unsigned k = b->n; k-- > 0;) {
        dead[k] = false;
        switch ((IROpc)b->insn[k].opc) {
        case IR_SETCC:
            dead[k] = killed;
            killed = true;
            break;
        case IR_INSN_START:
        case IR_INSN_END:
        case IR_MOVI:
        case IR_LDREG:
        case IR_STREG:
        case IR_ALU:
        case IR_EA:
        case IR_SETEIP:
        case IR_SETFLAGS:
        case IR_NOP:
            /* Pure: they neither read the lazy flags nor can fault. */
            break;
        default:
            killed = false;
            break;
        }
    }
}

int ir_temp_uses(const IRInsn *i, int8_t **u)
{
    IRInsn *m = (IRInsn *)i;
    int n = 0;
    switch ((IROpc)i->opc) {
    case IR_ALU:
    case IR_EA:
    case IR_SETFLAGS:
    case IR_BRFLAGS:
    case IR_ST:
        u[n++] = &m->a;
        u[n++] = &m->b;
        break;
    case IR_SETCC:
        u[n++] = &m->a;
        u[n++] = &m->b;
        u[n++] = &m->c;
        break;
    case IR_STREG:
        u[n++] = &m->b;
        break;
    case IR_LD:
    case IR_BRCOND:
    case IR_JUMP_IND:
    case IR_X87:
        u[n++] = &m->a;
        break;
    default:
        break;
    }
    return n;
}

int ir_temp_def(const IRInsn *i)
{
    switch ((IROpc)i->opc) {
    case IR_SZAPCC:
    case IR_CONDCC:
    case IR_X87:
    case IR_CALL:
    case IR_MOVI:
    case IR_LDREG:
    case IR_ALU:
    case IR_EA:
    case IR_LD:
    case IR_SETFLAGS:
        return i->dst;
    default:
        return -1;
    }
}

static bool uses_temp(const IRInsn *i, int t)
{
    int8_t *u[3];
    int n = ir_temp_uses(i, u);
    for (int k = 0; k < n; k++) {
        if (*u[k] == t) {
            return true;
        }
    }
    return false;
}

/* try_forward: op k (LDREG dst = guest reg, 32 bits) is redundant when temp src holds that
 * register's value: every later read of dst up to dst's next definition reads src instead,
 * provided src is not redefined before the last such read. Returns true when rewritten. */
static bool try_forward(IRBlock *b, unsigned k, int src)
{
    int dst = b->insn[k].dst;
    unsigned end = b->n, last = k;
    for (unsigned p = k + 1; p < b->n; p++) {
        if (uses_temp(&b->insn[p], dst)) {
            last = p;
        }
        if (ir_temp_def(&b->insn[p]) == dst) {
            end = p;
            break;
        }
    }
    for (unsigned p = k + 1; p <= last && p < end; p++) {
        if (ir_temp_def(&b->insn[p]) == src) {
            return false;
        }
    }
    for (unsigned p = k + 1; p <= last; p++) {
        int8_t *u[3];
        int n = ir_temp_uses(&b->insn[p], u);
        for (int q = 0; q < n; q++) {
            if (*u[q] == dst) {
                *u[q] = (int8_t)src;
            }
        }
    }
    b->insn[k].opc = IR_NOP;
    return true;
}

unsigned jit_opt_forward_regs(IRBlock *b)
{
    int holder[8]; /* the temp holding guest register r's 32-bit value, or -1 */
    unsigned removed = 0;
    for (int r = 0; r < 8; r++) {
        holder[r] = -1;
    }
    for (unsigned k = 0; k < b->n; k++) {
        IRInsn *i = &b->insn[k];
        switch ((IROpc)i->opc) {
        case IR_LDREG:
            if (i->size == 4 && i->a >= 0 && i->a < 8 && holder[i->a] >= 0 &&
                holder[i->a] != i->dst && try_forward(b, k, holder[i->a])) {
                removed++;
                continue;
            }
            break;
        case IR_STREG:
            if (i->a < 0 || i->a >= 8) {
                break;
            }
            if (i->size == 4) {
                holder[i->a] = i->b;
            } else if (i->size == 1 && i->a >= 4) {
                holder[i->a - 4] = -1; /* AH..BH */
            } else {
                holder[i->a] = -1;
            }
            continue; /* STREG defines no temp */
        case IR_CALL:
        case IR_LABEL:
            /* A helper may read or write any register; at a label paths join. */
            for (int r = 0; r < 8; r++) {
                holder[r] = -1;
            }
            break;
        default:
            break;
        }
        int d = ir_temp_def(i);
        if (d >= 0) {
            for (int r = 0; r < 8; r++) {
                if (holder[r] == d) {
                    holder[r] = -1;
                }
            }
        }
        if (i->opc == IR_LDREG && i->size == 4 && i->a >= 0 && i->a < 8) {
            holder[i->a] = i->dst;
        }
    }
    return removed;
}

void jit_opt_lazy_sync(const IRBlock *b, bool *lazy)
{
    for (unsigned k = 0; k < b->n; k++) {
        lazy[k] = false;
        if (b->insn[k].opc != IR_SYNC) {
            continue;
        }
        bool ok = true, esp_written = false;
        for (unsigned p = k + 1; p < b->n && ok; p++) {
            const IRInsn *i = &b->insn[p];
            if (i->opc == IR_INSN_END) {
                break;
            }
            switch ((IROpc)i->opc) {
            case IR_LD:
            case IR_ST:
            case IR_X87:
                ok = !esp_written; /* the slow path records ESP for a fault */
                break;
            case IR_STREG:
                if (i->a == R_ESP && i->size >= 2) {
                    esp_written = true;
                }
                break;
            case IR_MOVI:
            case IR_LDREG:
            case IR_ALU:
            case IR_EA:
            case IR_SETCC:
            case IR_SETFLAGS:
            case IR_NOP:
                break;
            default:
                ok = false; /* helpers, #GP checks, control flow: the state must be exact */
                break;
            }
        }
        lazy[k] = ok;
    }
}

/* Temp sets for jit_opt_dead_code (IR_MAX_TEMPS <= 128). */
typedef struct TempSet {
    uint64_t w[2];
} TempSet;
_Static_assert(IR_MAX_TEMPS <= 128, "a TempSet holds every temp");

static void tset_add(TempSet *s, int t)
{
    if (t >= 0 && t < IR_MAX_TEMPS) {
        s->w[t >> 6] |= 1ull << (t & 63);
    }
}

static void tset_del(TempSet *s, int t)
{
    if (t >= 0 && t < IR_MAX_TEMPS) {
        s->w[t >> 6] &= ~(1ull << (t & 63));
    }
}

static bool tset_has(const TempSet *s, int t)
{
    return t >= 0 && t < IR_MAX_TEMPS && (s->w[t >> 6] >> (t & 63)) & 1;
}

/* pure_def: op i only computes its dst temp (no guest state, no fault, no helper). */
static bool pure_def(const IRInsn *i)
{
    switch ((IROpc)i->opc) {
    case IR_MOVI:
    case IR_LDREG:
    case IR_ALU:
    case IR_EA:
    case IR_SETFLAGS:
        return true;
    default:
        return false;
    }
}

unsigned jit_opt_dead_code(IRBlock *b)
{
    unsigned removed = 0;
    bool *dead = calloc(b->n ? b->n : 1, sizeof(bool));
    if (!dead) {
        return 0;
    }
    jit_opt_dead_flags(b, dead);
    for (unsigned k = 0; k < b->n; k++) {
        if (dead[k]) {
            b->insn[k].opc = IR_NOP;
            removed++;
        }
    }
    free(dead);
    /* Backward liveness. Branches go to labels later in the block, whose live sets are known
     * by then; a label not seen yet (a backward branch) counts as needing every temp. */
    TempSet live = {{0, 0}};
    TempSet at_label[IR_MAX_LABELS];
    for (int l = 0; l < IR_MAX_LABELS; l++) {
        at_label[l].w[0] = at_label[l].w[1] = ~0ull;
    }
    for (unsigned k = b->n; k-- > 0;) {
        IRInsn *i = &b->insn[k];
        switch ((IROpc)i->opc) {
        case IR_LABEL:
            if (i->imm < IR_MAX_LABELS) {
                at_label[i->imm] = live;
            }
            continue;
        case IR_BRCOND:
        case IR_BRFLAGS:
            if (i->imm < IR_MAX_LABELS) {
                live.w[0] |= at_label[i->imm].w[0];
                live.w[1] |= at_label[i->imm].w[1];
            } else {
                live.w[0] = live.w[1] = ~0ull;
            }
            break;
        case IR_GOTO_TB:
        case IR_EXIT:
            live.w[0] = live.w[1] = 0; /* what follows is reached through a label only */
            continue;
        default:
            break;
        }
        int d = ir_temp_def(i);
        if (pure_def(i) && !tset_has(&live, d)) {
            i->opc = IR_NOP;
            removed++;
            continue;
        }
        tset_del(&live, d);
        int8_t *u[3];
        int n = ir_temp_uses(i, u);
        for (int q = 0; q < n; q++) {
            tset_add(&live, *u[q]);
        }
    }
    return removed;
}
