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
        case IR_SYNC:
        case IR_EFLAGS:
        case IR_ROTPEND:
            /* Pure: they neither read the lazy flags nor can fault (a sync only records
             * where the instruction is; what may fault after it counts for itself). */
            break;
        case IR_LD:
        case IR_ST:
            if (b->insn[k].c >= 0) {
                break; /* in a page group: cannot fault */
            }
            killed = false;
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
    case IR_DIV:
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
    case IR_ROTPEND:
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
    case IR_CODECHK:
    case IR_DIV:
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
        case IR_STRING:
        case IR_LABEL:
            /* A helper (or a string instruction) may read or write any register; at a label
             * paths join. */
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
                /* the slow path records ESP for a fault; a grouped access has none */
                ok = !esp_written || (i->opc != IR_X87 && i->c >= 0);
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
            case IR_ROTPEND:
                break;
            case IR_JUMP_IND:
                ok = i->imm == 1 && i->sub == 0; /* sets EIP, cannot fault */
                break;
            default:
                ok = false; /* helpers, #GP checks, control flow: the state must be exact */
                break;
            }
        }
        lazy[k] = ok;
    }
}

/* flags_neutral: op i (index k) is emitted without touching the host flags (see
 * jit_opt_fuse_flags). */
static bool flags_neutral(const IRInsn *i, bool lazy)
{
    switch ((IROpc)i->opc) {
    case IR_NOP:
    case IR_INSN_START:
    case IR_INSN_END:
    case IR_MOVI:
    case IR_SETEIP:
    case IR_SETCC:
    case IR_ROTPEND:
        return true;
    case IR_SYNC:
        return lazy;
    case IR_LDREG:
    case IR_STREG:
        /* AH..BH go through a shift */
        return !(i->size == 1 && i->a >= 4 && i->a < 8);
    case IR_LD:
    case IR_ST:
        return i->c >= 0; /* a page group's: moves only */
    case IR_BRFLAGS:
        return i->c >= IR_FLAGS_HOST; /* a jcc on the flags already there */
    case IR_SETFLAGS:
        return i->c >= IR_FLAGS_HOST && i->sub < 16; /* a setcc (SZAP masks them) */
    default:
        return false;
    }
}

/* fuse_cond_ok: the host flags of ALU op `sub` stand for guest condition cc (or the
 * IR_FLAGS_SZAP* bits) of flags kind `kind` on its result: the same op (kind 0 SUB, 1 ADD), or
 * the result's ZF/SF/PF (kind 2, a TEST of the result), where CF and OF count only after a
 * logic op (both clear on either side). */
static bool fuse_cond_ok(int sub, int kind, int cc)
{
    if (kind == 0 || kind == 1) {
        return sub == (kind == 0 ? XA_SUB : XA_ADD);
    }
    if (sub == XA_AND || sub == XA_OR || sub == XA_XOR) {
        return true;
    }
    return cc == IR_FLAGS_SZAP || (cc >= XC_E && cc <= XC_NE) || (cc >= XC_S && cc <= XC_NP);
}

unsigned jit_opt_fuse_flags(IRBlock *b, const bool *lazy)
{
    unsigned fused = 0;
    for (unsigned k = 0; k < b->n; k++) {
        IRInsn *f = &b->insn[k];
        if ((f->opc != IR_BRFLAGS && f->opc != IR_SETFLAGS) || f->c < 0 || f->c > 2) {
            continue;
        }
        /* Back over what leaves the host flags alone and does not redefine the operands. */
        unsigned p = k;
        while (p-- > 0) {
            const IRInsn *o = &b->insn[p];
            int d = ir_temp_def(o);
            if (o->opc == IR_ALU || !flags_neutral(o, lazy[p]) ||
                (d >= 0 && (d == f->a || d == f->b))) {
                break;
            }
        }
        if (p >= k) {
            continue; /* wrapped: nothing before */
        }
        IRInsn *alu = &b->insn[p];
        if (alu->opc != IR_ALU || alu->size != f->size || alu->dst < 0 ||
            (alu->sub != XA_ADD && alu->sub != XA_SUB && alu->sub != XA_AND &&
             alu->sub != XA_OR && alu->sub != XA_XOR) ||
            !fuse_cond_ok(alu->sub, f->c, f->sub)) {
            continue;
        }
        /* (a logic op's test reads only its result: b, its source, does not matter) */
        bool same = f->c == 2 ? f->a == alu->dst : f->a == alu->a && f->b == alu->b;
        /* the ALU op must not overwrite an operand the test reads (a = a - b) */
        if (!same || (f->c != 2 && (alu->dst == alu->a || alu->dst == alu->b))) {
            continue;
        }
        alu->c = 1;
        f->c = (int8_t)(IR_FLAGS_HOST + f->c);
        f->a = -1;
        f->b = -1;
        fused++;
    }
    return fused;
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
        case IR_CALL_TB:
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

/* ---- page groups (jit_opt_mem_groups) ---- */

/* RegOff: a value known to be guest register base's value at block entry plus off, or
 * unknown (base -1). */
typedef struct RegOff {
    int8_t base;
    uint32_t off;
} RegOff;

static const RegOff UNKNOWN_OFF = {-1, 0};

static bool regoff_same(RegOff x, RegOff y)
{
    return x.base == y.base && (x.base < 0 || x.off == y.off);
}

/* GroupCand: a load or store that could join the group of its base register. */
typedef struct GroupCand {
    unsigned k;
    int8_t base;
    uint8_t part;                 /* 0, or 1 at/after the split; 2: crossing it (none) */
    bool write;
    uint8_t size;
    int32_t off;
} GroupCand;

static int cand_cmp(const void *x, const void *y)
{
    const GroupCand *a = x, *c = y;
    if (a->base != c->base) {
        return a->base - c->base;
    }
    if (a->part != c->part) {
        return a->part - c->part;
    }
    return a->off < c->off ? -1 : a->off > c->off;
}

/* group_window: among cands[0..n) (one base, sorted by offset), the first index of the
 * longest run that fits in IR_GROUP_MAX_SPAN bytes; its length in *len. */
static unsigned group_window(const GroupCand *c, unsigned n, unsigned *len)
{
    unsigned best = 0, best_len = 0, lo = 0;
    for (unsigned hi = 0; hi < n; hi++) {
        while ((int64_t)c[hi].off + c[hi].size - c[lo].off > IR_GROUP_MAX_SPAN) {
            lo++;
        }
        if (hi - lo + 1 > best_len) {
            best_len = hi - lo + 1;
            best = lo;
        }
    }
    *len = best_len;
    return best;
}

/* drop_group_checks: an IR_CHECK after an instruction whose only memory accesses are in page
 * groups has nothing to look at (no slow path ran: no store into translated code, no device
 * access), so it goes; the lazy flags before it need no longer be stored for it. */
bool ir_op_register_only(int opc)
{
    switch ((IROpc)opc) {
    case IR_INSN_START:
    case IR_INSN_END:
    case IR_SYNC:
    case IR_MOVI:
    case IR_LDREG:
    case IR_STREG:
    case IR_ALU:
    case IR_EA:
    case IR_SETCC:
    case IR_SETFLAGS:
    case IR_SETEIP:
    case IR_NOP:
    case IR_ROTPEND:
        return true;
    default:
        return false;
    }
}

static void drop_group_checks(IRBlock *b)
{
    bool clean = false;
    for (unsigned k = 0; k < b->n; k++) {
        IRInsn *i = &b->insn[k];
        if (i->opc == IR_INSN_START) {
            clean = true;
        } else if (i->opc == IR_CHECK) {
            if (clean) {
                i->opc = IR_NOP;
            }
        } else if (i->opc == IR_LD || i->opc == IR_ST) {
            clean = clean && i->c >= 0;
        } else if (!ir_op_register_only(i->opc)) {
            clean = false;
        }
    }
}

unsigned jit_opt_mem_groups(IRBlock *b, int split_reg, int32_t split)
{
    b->ngroups = 0;
    RegOff reg[8], tv[IR_MAX_TEMPS];
    bool kn[IR_MAX_TEMPS];
    uint32_t kv[IR_MAX_TEMPS];
    RegOff at_label[IR_MAX_LABELS][8];
    bool label_seen[IR_MAX_LABELS] = {false};
    for (int r = 0; r < 8; r++) {
        reg[r].base = (int8_t)r;
        reg[r].off = 0;
    }
    for (int t = 0; t < b->ntemps; t++) {
        tv[t] = UNKNOWN_OFF;
        kn[t] = false;
    }
    /* A label some branch reaches from further down (a loop) starts with nothing known. */
    bool backward[IR_MAX_LABELS] = {false}, placed[IR_MAX_LABELS] = {false};
    for (unsigned k = 0; k < b->n; k++) {
        const IRInsn *i = &b->insn[k];
        if (i->imm >= IR_MAX_LABELS) {
            continue;
        }
        if (i->opc == IR_LABEL) {
            placed[i->imm] = true;
        } else if ((i->opc == IR_BRCOND || i->opc == IR_BRFLAGS) && placed[i->imm]) {
            backward[i->imm] = true;
        }
    }
    GroupCand *cand = malloc(b->n * sizeof(*cand) + 1);
    if (!cand) {
        return 0;
    }
    unsigned nc = 0;
    bool reachable = true;
    for (unsigned k = 0; k < b->n; k++) {
        IRInsn *i = &b->insn[k];
        if (i->opc == IR_CALL || i->opc == IR_STRING) {
            break; /* a helper may change registers, segments, the TLB */
        }
        int d = ir_temp_def(i);
        RegOff dv = UNKNOWN_OFF;
        bool dk = false;
        uint32_t dkv = 0;
        switch ((IROpc)i->opc) {
        case IR_LABEL:
            if (i->imm >= IR_MAX_LABELS || backward[i->imm]) {
                for (int r = 0; r < 8; r++) {
                    reg[r] = UNKNOWN_OFF;
                }
            } else if (label_seen[i->imm]) {
                for (int r = 0; r < 8; r++) {
                    if (!reachable) {
                        reg[r] = at_label[i->imm][r];
                    } else if (!regoff_same(reg[r], at_label[i->imm][r])) {
                        reg[r] = UNKNOWN_OFF;
                    }
                }
            } else if (!reachable) {
                for (int r = 0; r < 8; r++) {
                    reg[r] = UNKNOWN_OFF; /* reached by nothing seen: anything */
                }
            }
            reachable = true;
            for (int t = 0; t < b->ntemps; t++) {
                tv[t] = UNKNOWN_OFF;
                kn[t] = false;
            }
            continue;
        case IR_BRCOND:
        case IR_BRFLAGS:
            if (i->imm < IR_MAX_LABELS && reachable) {
                for (int r = 0; r < 8; r++) {
                    if (!label_seen[i->imm]) {
                        at_label[i->imm][r] = reg[r];
                    } else if (!regoff_same(reg[r], at_label[i->imm][r])) {
                        at_label[i->imm][r] = UNKNOWN_OFF;
                    }
                }
                label_seen[i->imm] = true;
            }
            continue;
        case IR_GOTO_TB:
        case IR_CALL_TB:
        case IR_EXIT:
            reachable = false;
            continue;
        case IR_MOVI:
            dk = true;
            dkv = i->imm;
            break;
        case IR_LDREG:
            if (i->size == 4 && i->a >= 0 && i->a < 8) {
                dv = reg[i->a];
            }
            break;
        case IR_STREG:
            if (i->a >= 0 && i->a < 8 && i->size == 4) {
                reg[i->a] = i->b >= 0 ? tv[i->b] : UNKNOWN_OFF;
            } else if (i->a >= 0 && i->a < 8) {
                reg[i->size == 1 && i->a >= 4 ? i->a - 4 : i->a] = UNKNOWN_OFF;
            }
            continue;
        case IR_ALU:
            if (i->size == 4 && (i->sub == XA_ADD || i->sub == XA_SUB) && i->a >= 0 &&
                i->b >= 0) {
                if (tv[i->a].base >= 0 && kn[i->b]) {
                    dv.base = tv[i->a].base;
                    dv.off = i->sub == XA_ADD ? tv[i->a].off + kv[i->b]
                                              : tv[i->a].off - kv[i->b];
                } else if (i->sub == XA_ADD && kn[i->a] && tv[i->b].base >= 0) {
                    dv.base = tv[i->b].base;
                    dv.off = tv[i->b].off + kv[i->a];
                }
            }
            break;
        case IR_EA:
            if (i->a >= 0 && i->b < 0 && tv[i->a].base >= 0) {
                dv.base = tv[i->a].base;
                dv.off = tv[i->a].off + i->imm;
            }
            break;
        case IR_LD:
        case IR_ST:
            if (reachable && i->a >= 0 && tv[i->a].base >= 0 &&
                (i->imm == S_ES || i->imm == S_SS || i->imm == S_DS) &&
                (i->size == 1 || i->size == 2 || i->size == 4)) {
                GroupCand *c = &cand[nc++];
                c->k = k;
                c->base = tv[i->a].base;
                c->write = i->opc == IR_ST || i->sub == 1;
                c->size = i->size;
                c->off = (int32_t)tv[i->a].off;
                c->part = 0;
                if (c->base == split_reg) {
                    c->part = c->off >= split                    ? 1
                              : (int64_t)c->off + c->size > split ? 2
                                                                  : 0;
                }
            }
            break;
        default:
            break;
        }
        if (d >= 0 && d < IR_MAX_TEMPS) {
            tv[d] = dv;
            kn[d] = dk;
            kv[d] = dkv;
        }
    }
    qsort(cand, nc, sizeof(*cand), cand_cmp);
    /* Per base register and part of a split: its best window; keep the IR_MAX_GROUPS
     * largest. */
    unsigned win_start[16] = {0}, win_len[16] = {0};
    for (unsigned s = 0; s < nc;) {
        unsigned e = s;
        while (e < nc && cand[e].base == cand[s].base && cand[e].part == cand[s].part) {
            e++;
        }
        if (cand[s].part < 2) {
            unsigned key = (unsigned)cand[s].base * 2 + cand[s].part;
            unsigned len;
            unsigned w = group_window(cand + s, e - s, &len);
            win_start[key] = s + w;
            win_len[key] = len;
        }
        s = e;
    }
    unsigned grouped = 0;
    for (int g = 0; g < IR_MAX_GROUPS; g++) {
        int best = -1;
        for (int r = 0; r < 16; r++) {
            if (win_len[r] >= 2 && (best < 0 || win_len[r] > win_len[best])) {
                best = r;
            }
        }
        if (best < 0) {
            break;
        }
        const GroupCand *c = cand + win_start[best];
        unsigned n = win_len[best];
        win_len[best] = 0;
        IRGroup *grp = &b->group[b->ngroups];
        grp->reg = (int8_t)(best / 2);
        grp->lo = c[0].off;
        grp->write = false;
        grp->count = (uint16_t)n;
        int64_t end = 0;
        for (unsigned q = 0; q < n; q++) {
            if ((int64_t)c[q].off + c[q].size > end || q == 0) {
                end = (int64_t)c[q].off + c[q].size;
            }
            grp->write = grp->write || c[q].write;
            IRInsn *i = &b->insn[c[q].k];
            i->c = (int8_t)b->ngroups;
            i->imm2 = (uint32_t)(c[q].off - grp->lo);
            i->a = -1;
        }
        grp->span = (uint32_t)(end - grp->lo);
        b->ngroups++;
        grouped += n;
    }
    free(cand);
    if (grouped) {
        drop_group_checks(b);
    }
    return grouped;
}

/* A constant a page-group store left in memory (jit_opt_forward_stores). */
typedef struct KnownStore {
    int8_t group;
    uint8_t size;
    uint32_t off;
    uint32_t val;
} KnownStore;
#define MAX_KNOWN_STORES 16

unsigned jit_opt_forward_stores(IRBlock *b)
{
    KnownStore ks[MAX_KNOWN_STORES];
    unsigned nks = 0, forwarded = 0;
    bool kset[IR_MAX_TEMPS] = {false};
    uint32_t kval[IR_MAX_TEMPS];
    for (unsigned k = 0; k < b->n; k++) {
        IRInsn *i = &b->insn[k];
        switch (ir_op_register_only(i->opc) ? IR_NOP : (IROpc)i->opc) {
        case IR_NOP:
        case IR_INSN_START:
        case IR_EFLAGS:
        case IR_CHECK:
        case IR_BRCOND:
        case IR_BRFLAGS:
        case IR_SZAPCC:
        case IR_CONDCC:
        case IR_CODECHK:
        case IR_DIV:
            /* No guest memory written (a branch's target is a label, where all is
             * forgotten; its fall-through saw the same stores). */
            break;
        case IR_LD:
            if (i->c < 0) {
                nks = 0; /* a device read could write RAM */
                break;
            }
            for (unsigned q = 0; q < nks; q++) {
                if (ks[q].group == i->c && ks[q].off == i->imm2 && ks[q].size == i->size &&
                    i->sub == 0 && i->dst >= 0) {
                    /* RAM (the group's entry check) holding what the store put there. */
                    uint32_t v = ks[q].val;
                    int dst = i->dst;
                    IRInsn m = {.opc = IR_MOVI, .dst = (int8_t)dst, .a = -1, .b = -1, .c = -1};
                    m.imm = i->size == 1 ? (v & 0xFFu) : i->size == 2 ? (v & 0xFFFFu) : v;
                    *i = m;
                    forwarded++;
                    break;
                }
            }
            break;
        case IR_ST: {
            if (i->c < 0) {
                nks = 0;
                break;
            }
            /* Other groups may reach the same bytes through another register; this one
             * only where the ranges overlap. */
            unsigned w = 0;
            for (unsigned q = 0; q < nks; q++) {
                bool overlap = ks[q].group != i->c ||
                               (ks[q].off < i->imm2 + i->size && i->imm2 < ks[q].off + ks[q].size);
                if (!overlap) {
                    ks[w++] = ks[q];
                }
            }
            nks = w;
            if (i->b >= 0 && i->b < IR_MAX_TEMPS && kset[i->b] && nks < MAX_KNOWN_STORES) {
                ks[nks++] = (KnownStore){.group = i->c, .size = i->size, .off = i->imm2,
                                         .val = kval[i->b]};
            }
            break;
        }
        default:
            nks = 0; /* helpers, x87 and string stores, labels, exits */
            break;
        }
        int d = ir_temp_def(i);
        if (d >= 0 && d < IR_MAX_TEMPS) {
            kset[d] = i->opc == IR_MOVI;
            kval[d] = i->imm;
        }
    }
    return forwarded;
}


/* ---- rotates whose flags only a fault sees (IR_ROTPEND) ---- */

/* rotpend_window_op: what may come between an IR_ROTPEND and the IR_SETCC replacing its
 * flags: register ops and loads, whose slow paths make its flags (the backend's ColdPath
 * rot_kind); nothing that reads the lazy flags, leaves, calls a helper or stores (a store's
 * IR_CHECK may leave the block after its slow path). */
static bool rotpend_window_op(const IRInsn *i)
{
    return i->opc == IR_LD || (i->opc != IR_SETCC && ir_op_register_only(i->opc));
}

bool jit_opt_rotpend(IRBlock *b)
{
    for (unsigned k = 0; k < b->n; k++) {
        if (b->insn[k].opc != IR_ROTPEND) {
            continue;
        }
        bool may_fault = false;
        unsigned p = k + 1;
        for (; p < b->n && b->insn[p].opc != IR_SETCC; p++) {
            const IRInsn *i = &b->insn[p];
            if (!rotpend_window_op(i)) {
return false;
            }
            may_fault = may_fault || (i->opc == IR_LD && i->c < 0);
        }
        if (p >= b->n) {
            return false;
        }
        b->insn[k].imm = p; /* where the window ends, however jit_opt_dead_code leaves it */
        if (!may_fault) {
            b->insn[k].opc = IR_NOP; /* nothing can see the flags: a plain rotate */
        }
    }
    return true;
}
