/* jit_verify.c: lockstep verification (-accel jit,verify=on or ANYVM_JIT_VERIFY=1): every
 * block runs under the JIT, its stores journalled; memory is rolled back, the state restored,
 * the same instructions run under the interpreter, and the two results are compared: general
 * registers, EIP, EFLAGS (lazy flags folded in), segment registers, icount, the exception
 * raised (if any) and every byte either side wrote. The first difference stops the machine
 * with a report (guest PC, the block's disassembly, what differs).
 *
 * Every frame is marked as code in this mode, so every store takes the slow path and passes
 * through CPUState.store_hook. Blocks with port I/O or an MMIO store cannot be replayed and
 * run under the JIT alone.
 */
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#include "translate/jit_internal.h"

#define JOURNAL_MAX 4096

typedef struct JEntry {
    uint8_t *host;
    uint32_t phys;
    uint8_t n;
    uint8_t old[4];
    uint8_t val[4];     /* after the run being journalled */
} JEntry;

typedef struct Verify {
    CPUState snap;
    JEntry j1[JOURNAL_MAX], j2[JOURNAL_MAX];
    unsigned n1, n2;
    JEntry *cur;
    unsigned *ncur;
    bool mmio;
    bool overflow;
} Verify;

static void journal_store(CPUState *cpu, void *host, uint32_t phys, unsigned n)
{
    Verify *v = ((JitState *)cpu->jit)->verify_copy;
    if (!host) {
        v->mmio = true;
        return;
    }
    if (*v->ncur >= JOURNAL_MAX) {
        v->overflow = true;
        return;
    }
    JEntry *e = &v->cur[(*v->ncur)++];
    e->host = host;
    e->phys = phys;
    e->n = (uint8_t)(n > 4 ? 4 : n);
    memcpy(e->old, host, e->n);
}

static bool has_port_io(const TranslationBlock *tb)
{
    for (unsigned k = 0; k < tb->ninsns; k++) {
        unsigned op = tb->insns[k].op;
        if ((op >= 0xE4 && op <= 0xE7) || (op >= 0xEC && op <= 0xEF) ||
            (op >= 0x6C && op <= 0x6F)) {
            return true;
        }
    }
    return false;
}

static void report(JitState *j, CPUState *cpu, const TranslationBlock *tb, const char *what)
{
    FILE *f = cpu->log && cpu->log->out ? cpu->log->out : stderr;
    j->verify_failed = true;
    fprintf(f, "jit verify: MISMATCH in block at %04x:%08x (phys %08x, %u insns): %s\n",
            ((Verify *)j->verify_copy)->snap.seg[S_CS].sel, tb->eip, tb->phys_pc, tb->ninsns,
            what);
    if (!j->dis) {
        j->dis = x86_disasm_new();
    }
    unsigned off = 0;
    uint32_t eip = tb->eip;
    char line[160];
    while (j->dis && off < tb->size) {
        int n = x86_disasm_with(j->dis, tb->guest_copy + off, tb->size - off, eip,
                                (tb->flags & TBF_CODE32) != 0, line, sizeof(line));
        if (n <= 0) {
            break;
        }
        fprintf(f, "  %08x: %s\n", eip, line);
        off += (unsigned)n;
        eip += (uint32_t)n;
    }
    (void)cpu;
}

/* run_jit_side / run_interp_side: one side under a local fault catcher. Return the vector
 * raised, or -1. */
static int run_jit_side(JitState *j, CPUState *cpu, TranslationBlock *tb)
{
    if (setjmp(cpu->jmp_env)) {
        return cpu->exc_vector;
    }
    cpu->jit_stop = 0;
    (void)j->enter(cpu, j, tb->host_code);
    return -1;
}

static int run_interp_side(CPUState *cpu, uint64_t until)
{
    if (setjmp(cpu->jmp_env)) {
        return cpu->exc_vector;
    }
    while (cpu->icount < until) {
        cpu->insn_eip = cpu->eip;
        cpu->insn_esp = cpu->regs[R_ESP];
        x86_interp_step(cpu);
        cpu->icount++;
    }
    return -1;
}

bool jit_verify_block(JitState *j, CPUState *cpu, TranslationBlock *tb)
{
    if (!j->verify_copy) {
        j->verify_copy = calloc(1, sizeof(Verify));
        if (!j->verify_copy) {
            j->opt.verify = false;
            return true;
        }
    }
    Verify *v = j->verify_copy;
    jmp_buf outer;
    memcpy(outer, cpu->jmp_env, sizeof(jmp_buf));
    v->snap = *cpu;
    v->n1 = v->n2 = 0;
    v->mmio = v->overflow = false;
    v->cur = v->j1;
    v->ncur = &v->n1;
    cpu->store_hook = journal_store;
    bool replay = !has_port_io(tb);
    int f1 = run_jit_side(j, cpu, tb);
    for (unsigned k = 0; k < v->n1; k++) {
        memcpy(v->j1[k].val, v->j1[k].host, v->j1[k].n);
    }
    if (!replay || v->mmio || v->overflow) {
        cpu->store_hook = NULL;
        memcpy(cpu->jmp_env, outer, sizeof(jmp_buf));
        if (f1 >= 0) {
            longjmp(cpu->jmp_env, 1);
        }
        return true;
    }
    static const size_t keep = offsetof(CPUState, jmp_env);
    CPUState *after = malloc(sizeof(CPUState));
    if (!after) {
        cpu->store_hook = NULL;
        memcpy(cpu->jmp_env, outer, sizeof(jmp_buf));
        return true;
    }
    *after = *cpu;
    /* Roll memory back, newest first, and restore the architectural state. */
    for (unsigned k = v->n1; k-- > 0;) {
        memcpy(v->j1[k].host, v->j1[k].old, v->j1[k].n);
    }
    memcpy(cpu, &v->snap, keep);
    cpu->exc_vector = v->snap.exc_vector;
    v->cur = v->j2;
    v->ncur = &v->n2;
    uint64_t until = after->icount;
    int f2 = run_interp_side(cpu, f1 >= 0 ? until + 1 : until);
    for (unsigned k = 0; k < v->n2; k++) {
        memcpy(v->j2[k].val, v->j2[k].host, v->j2[k].n);
    }
    cpu->store_hook = NULL;
    memcpy(cpu->jmp_env, outer, sizeof(jmp_buf));
    j->stats.verified_blocks++;

    char what[512];
    int w = 0;
    what[0] = '\0';
#define DIFF(...) (w += snprintf(what + w, sizeof(what) - (size_t)(w < (int)sizeof(what) ? w : 0), __VA_ARGS__))
    if (f1 != f2) {
        DIFF("exception jit=%d interp=%d; ", f1, f2);
    }
    static const char *const rn[8] = {"eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi"};
    for (int r = 0; r < 8; r++) {
        if (after->regs[r] != cpu->regs[r]) {
            DIFF("%s jit=%08x interp=%08x; ", rn[r], after->regs[r], cpu->regs[r]);
        }
    }
    if (after->eip != cpu->eip) {
        DIFF("eip jit=%08x interp=%08x; ", after->eip, cpu->eip);
    }
    uint32_t fj = cpu_get_eflags(after), fi = cpu_get_eflags(cpu);
    if (fj != fi) {
        DIFF("eflags jit=%08x interp=%08x; ", fj, fi);
    }
    if (f1 < 0 && after->icount != cpu->icount) {
        DIFF("icount jit=%llu interp=%llu; ", (unsigned long long)after->icount,
             (unsigned long long)cpu->icount);
    }
    for (int s = 0; s < S_NSEG; s++) {
        if (after->seg[s].sel != cpu->seg[s].sel || after->seg[s].base != cpu->seg[s].base) {
            DIFF("seg%d differs; ", s);
        }
    }
    for (unsigned k = 0; k < v->n1 && w < 400; k++) {
        if (memcmp(v->j1[k].val, v->j1[k].host, v->j1[k].n) != 0) {
            uint32_t a = 0, b = 0;
            memcpy(&a, v->j1[k].val, v->j1[k].n);
            memcpy(&b, v->j1[k].host, v->j1[k].n);
            DIFF("mem[%08x] jit=%x interp=%x; ", v->j1[k].phys, a, b);
        }
    }
    for (unsigned k = 0; k < v->n2 && w < 400; k++) {
        bool covered = false;
        for (unsigned m = 0; m < v->n1 && !covered; m++) {
            covered = v->j1[m].host == v->j2[k].host;
        }
        if (!covered && memcmp(v->j2[k].old, v->j2[k].val, v->j2[k].n) != 0) {
            DIFF("mem[%08x] written by the interpreter only; ", v->j2[k].phys);
        }
    }
#undef DIFF
    free(after);
    if (w) {
        report(j, cpu, tb, what);
        cpu->shutdown = true;
        return false;
    }
    if (f2 >= 0) {
        longjmp(cpu->jmp_env, 1);
    }
    return true;
}
