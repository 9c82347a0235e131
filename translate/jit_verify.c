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
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "translate/jit_internal.h"

#define JOURNAL_MAX 4096
#define TLBJ_MAX 256

typedef struct JEntry {
    uint8_t *host;
    uint32_t phys;
    uint32_t old;       /* the n bytes before the store, little-endian */
    uint32_t val;       /* after the run being journalled */
    uint8_t n;          /* 1..4 */
} JEntry;

/* load_n / store_n: n (1..4) bytes at a host pointer, without a library call. */
static inline uint32_t load_n(const uint8_t *p, unsigned n)
{
    uint32_t v = 0;
    switch (n) {
    case 1: v = p[0]; break;
    case 2: { uint16_t h; memcpy(&h, p, 2); v = h; break; }
    case 3: { uint16_t h; memcpy(&h, p, 2); v = h | (uint32_t)p[2] << 16; break; }
    default: memcpy(&v, p, 4); break;
    }
    return v;
}

static inline void store_n(uint8_t *p, uint32_t v, unsigned n)
{
    switch (n) {
    case 1: p[0] = (uint8_t)v; break;
    case 2: { uint16_t h = (uint16_t)v; memcpy(p, &h, 2); break; }
    case 3: { uint16_t h = (uint16_t)v; memcpy(p, &h, 2); p[2] = (uint8_t)(v >> 16); break; }
    default: memcpy(p, &v, 4); break;
    }
}

/* The parts of the CPUState a block can change (see cpu.h): the architectural and execution
 * state up to jmp_env, and the exception-in-flight fields from exc_vector up to the debugger
 * fields. The environment pointers, the TLBs, the code-page bitmap and the JIT's own fields
 * are not copied: that is what made a snapshot cost more than the block (160 KiB twice). */
#define ARCH_END offsetof(CPUState, jmp_env)
#define EXC_BEGIN offsetof(CPUState, exc_vector)
#define EXC_END offsetof(CPUState, dbg_bp)
/* Within the first part, the "cold" fields (segments, descriptor tables, control and debug
 * registers, MSRs, the FPU: about 400 bytes) change in few blocks: after the JIT run one
 * compare tells whether they did, and only then are they copied and compared by field. The
 * hot fields (general registers, EIP, flags, the exit word, icount...) always are. */
#define COLD_BEGIN offsetof(CPUState, seg)
#define COLD_END offsetof(CPUState, exit_word)
#define COLD(cpu) ((uint8_t *)(cpu) + COLD_BEGIN)
#define CCOLD(cpu) ((const uint8_t *)(cpu) + COLD_BEGIN)
#define COLD_SIZE (COLD_END - COLD_BEGIN)

/* Verify: the lockstep scratch state (allocated once, on the first verified block). snap and
 * after are whole CPUStates for field access, but only their saved parts are ever written or
 * read. */
typedef struct Verify {
    CPUState snap;      /* before the block */
    CPUState after;     /* after the JIT run */
    JEntry j1[JOURNAL_MAX], j2[JOURNAL_MAX];
    unsigned n1, n2;
    JEntry *cur;
    unsigned *ncur;
    bool mmio;
    bool overflow;
    /* TLB fills of the JIT run (entry, what it held), and both TLBs as they were at its first
     * flush, if it flushed. */
    struct {
        TLBEntry *e;
        TLBEntry old;
    } tj[TLBJ_MAX];
    unsigned ntj;
    bool tlb_saved;
    TLBEntry tlb_copy[TLB_SIZE];
    TLBEntry tlb_user_copy[TLB_SIZE];
} Verify;

/* copy_words: a small fixed-size copy as 16-byte vector moves (n a multiple of 8). memcpy
 * becomes `rep movsq` here, which is slow to start, and slower still when source and
 * destination sit at the same offset in their 4 KiB pages (as page-aligned allocations do). */
typedef uint64_t V2 __attribute__((vector_size(16), aligned(8), may_alias));
typedef uint64_t W64 __attribute__((aligned(8), may_alias));

static inline void copy_words(void *dst, const void *src, size_t n)
{
    V2 *d = dst;
    const V2 *s = src;
#pragma GCC unroll 8
    for (size_t k = 0; k < n / 16; k++) {
        d[k] = s[k];
        __asm__("" : : "r"(k)); /* keeps the compiler from turning the loop into memcpy */
    }
    if (n & 8) {
        *(W64 *)((uint8_t *)dst + n - 8) = *(const W64 *)((const uint8_t *)src + n - 8);
    }
}

_Static_assert(ARCH_END % 8 == 0 && EXC_BEGIN % 8 == 0 && EXC_END % 8 == 0 &&
               COLD_BEGIN % 8 == 0 && COLD_END % 8 == 0 && sizeof(jmp_buf) % 8 == 0,
               "the snapshot regions are copied in 8-byte words");

/* snap_copy: copy the parts of the CPUState a block can change from src to dst. */
static inline void snap_copy(CPUState *dst, const CPUState *src)
{
    copy_words(dst, src, ARCH_END);
    copy_words((uint8_t *)dst + EXC_BEGIN, (const uint8_t *)src + EXC_BEGIN,
               EXC_END - EXC_BEGIN);
}

/* hot_copy / cold_copy: the two parts of snap_copy's state. */
static inline void hot_copy(CPUState *dst, const CPUState *src)
{
    copy_words(dst, src, COLD_BEGIN);
    copy_words((uint8_t *)dst + COLD_END, (const uint8_t *)src + COLD_END,
               ARCH_END - COLD_END);
    copy_words((uint8_t *)dst + EXC_BEGIN, (const uint8_t *)src + EXC_BEGIN,
               EXC_END - EXC_BEGIN);
}

static inline void cold_copy(CPUState *dst, const CPUState *src)
{
    copy_words(COLD(dst), CCOLD(src), COLD_SIZE);
}

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
    e->old = load_n(host, e->n);
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

static void report_line(void *ctx, uint32_t eip, const uint8_t *bytes, int n, const char *text)
{
    (void)bytes;
    (void)n;
    fprintf(ctx, "  %08x: %s\n", eip, text);
}

static void report(JitState *j, CPUState *cpu, const TranslationBlock *tb, const char *what)
{
    FILE *f = cpu->log && cpu->log->out ? cpu->log->out : stderr;
    j->verify_failed = true;
    fprintf(f, "jit verify: MISMATCH in block at %04x:%08x (phys %08x, %u insns): %s\n",
            ((Verify *)j->verify_copy)->snap.seg[S_CS].sel, tb->eip, tb->phys_pc, tb->ninsns,
            what);
    tb_disasm(j, tb, report_line, f);
    (void)cpu;
}

/* run_jit_side / run_interp_side: one side under a local fault catcher. Return the vector
 * raised, or -1. */
static int run_jit_side(JitState *j, CPUState *cpu, TranslationBlock *tb)
{
    j->verify_exit = 0;
    /* A block that loops inside itself goes round at most three times per comparison, so
     * the comparisons stay as fine as between chained blocks while the back edges and the
     * rounds after them still run. */
    const uint64_t end = j->end;
    if (cpu->icount + 3u * tb->ninsns < end) {
        j->end = cpu->icount + 3u * tb->ninsns;
    }
    if (setjmp(cpu->jmp_env)) {
        j->end = end;
        return cpu->exc_vector;
    }
    cpu->jit_stop = 0;
    j->verify_exit = j->enter(cpu, j, tb->host_code);
    j->end = end;
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

/* journal_tlb: CPUState.tlb_hook during the JIT run: remember what a fill overwrites; at the
 * first flush (or when the journal is full) take a copy of both TLBs instead, from which on
 * nothing more needs recording. The replay then starts from the TLBs the JIT run started
 * from (a TLB hit or miss decides whether a page walk sets accessed/dirty bits, and entries
 * filled after the block switched CR3 must not serve the replay's accesses before it). */
static void journal_tlb(CPUState *cpu, TLBEntry *e)
{
    Verify *v = ((JitState *)cpu->jit)->verify_copy;
    if (v->tlb_saved) {
        return;
    }
    if (!e || v->ntj >= TLBJ_MAX) {
        /* The TLBs are still the initial ones plus the journalled fills. */
        memcpy(v->tlb_copy, cpu->tlb, sizeof(cpu->tlb));
        memcpy(v->tlb_user_copy, cpu->tlb_user, sizeof(cpu->tlb_user));
        v->tlb_saved = true;
        ((JitState *)cpu->jit)->stats.verify_tlb_copies++;
        return;
    }
    v->tj[v->ntj].e = e;
    v->tj[v->ntj].old = *e;
    v->ntj++;
}

/* tlb_rewind: put the TLBs back as they were before the JIT run. */
static void tlb_rewind(Verify *v, CPUState *cpu)
{
    if (v->tlb_saved) {
        memcpy(cpu->tlb, v->tlb_copy, sizeof(cpu->tlb));
        memcpy(cpu->tlb_user, v->tlb_user_copy, sizeof(cpu->tlb_user));
        cpu->tlb_log_ok = false; /* the copy may hold entries the log has dropped */
    }
    for (unsigned k = v->ntj; k-- > 0;) {
        *v->tj[k].e = v->tj[k].old;
    }
}

/* The comparison: every field a block can change, by name. DIFF appends to the report. */
typedef struct Diff {
    char text[640];
    int len;
} Diff;

static void diff_add(Diff *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void diff_add(Diff *d, const char *fmt, ...)
{
    if (d->len >= (int)sizeof(d->text) - 1) {
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(d->text + d->len, sizeof(d->text) - (size_t)d->len, fmt, ap);
    va_end(ap);
    if (n > 0) {
        d->len += n;
        if (d->len > (int)sizeof(d->text) - 1) {
            d->len = (int)sizeof(d->text) - 1;
        }
    }
}

#define CMP_U(d, a, b, field, name)                                                       \
    do {                                                                                  \
        if ((a)->field != (b)->field) {                                                   \
            diff_add((d), "%s jit=%llx interp=%llx; ", (name),                            \
                     (unsigned long long)(a)->field, (unsigned long long)(b)->field);     \
        }                                                                                 \
    } while (0)

static void cmp_seg(Diff *d, const SegCache *a, const SegCache *b, const char *name)
{
    if (a->sel != b->sel || a->base != b->base || a->limit != b->limit ||
        a->flags != b->flags) {
        diff_add(d, "%s jit=%04x/%08x/%08x/%04x interp=%04x/%08x/%08x/%04x; ", name, a->sel,
                 a->base, a->limit, a->flags, b->sel, b->base, b->limit, b->flags);
    }
}

/* compare_hot: the hot fields; a is the state after the JIT run, b after the interpreter's;
 * faulted: both raised the same exception (EIP/ESP then come from insn_eip/insn_esp). */
static void compare_hot(Diff *d, CPUState *a, CPUState *b, bool faulted)
{
    static const char *const rn[8] = {"eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi"};
    for (int r = 0; r < 8; r++) {
        CMP_U(d, a, b, regs[r], rn[r]);
    }
    CMP_U(d, a, b, eip, "eip");
    if (a->eflags != b->eflags || a->cc_op != b->cc_op || a->cc_dst != b->cc_dst ||
        a->cc_src != b->cc_src || a->cc_src2 != b->cc_src2) {
        /* Different lazy states can still mean the same flags. */
        uint32_t fa = cpu_get_eflags(a), fb = cpu_get_eflags(b);
        if (fa != fb) {
            diff_add(d, "eflags jit=%08x interp=%08x; ", fa, fb);
        }
    }
    CMP_U(d, a, b, halted, "halted");
    CMP_U(d, a, b, inhibit_irq, "inhibit_irq");
    CMP_U(d, a, b, shutdown, "shutdown");
    CMP_U(d, a, b, a20_mask, "a20_mask");
    CMP_U(d, a, b, nmi_blocked, "nmi_blocked");
    CMP_U(d, a, b, exc_depth, "exc_depth");
    CMP_U(d, a, b, last_exc, "last_exc");
    CMP_U(d, a, b, pending_db, "pending_db");
    CMP_U(d, a, b, msr_misc_enable, "msr_misc_enable");
    if (faulted) {
        CMP_U(d, a, b, exc_has_err, "exc_has_err");
        CMP_U(d, a, b, exc_err, "exc_err");
        CMP_U(d, a, b, insn_eip, "insn_eip");
        CMP_U(d, a, b, insn_esp, "insn_esp");
    } else {
        CMP_U(d, a, b, icount, "icount");
    }
}

/* compare_cold: the cold fields (COLD_BEGIN..COLD_END). */
static void compare_cold(Diff *d, const CPUState *a, const CPUState *b)
{
    static const char *const sn[S_NSEG] = {"es", "cs", "ss", "ds", "fs", "gs"};
    for (int s = 0; s < S_NSEG; s++) {
        cmp_seg(d, &a->seg[s], &b->seg[s], sn[s]);
    }
    cmp_seg(d, &a->ldtr, &b->ldtr, "ldtr");
    cmp_seg(d, &a->tr, &b->tr, "tr");
    CMP_U(d, a, b, gdtr.base, "gdtr.base");
    CMP_U(d, a, b, gdtr.limit, "gdtr.limit");
    CMP_U(d, a, b, idtr.base, "idtr.base");
    CMP_U(d, a, b, idtr.limit, "idtr.limit");
    CMP_U(d, a, b, cr0, "cr0");
    CMP_U(d, a, b, cr2, "cr2");
    CMP_U(d, a, b, cr3, "cr3");
    CMP_U(d, a, b, cr4, "cr4");
    for (int r = 0; r < 8; r++) {
        if (a->dr[r] != b->dr[r]) {
            diff_add(d, "dr%d jit=%08x interp=%08x; ", r, a->dr[r], b->dr[r]);
        }
    }
    CMP_U(d, a, b, tsc_offset, "tsc_offset");
    CMP_U(d, a, b, sysenter_cs, "sysenter_cs");
    CMP_U(d, a, b, sysenter_esp, "sysenter_esp");
    CMP_U(d, a, b, sysenter_eip, "sysenter_eip");
    CMP_U(d, a, b, apic_base, "apic_base");
    CMP_U(d, a, b, cpl, "cpl");
    for (int r = 0; r < 8; r++) {
        if (a->fpu.st[r].sig != b->fpu.st[r].sig || a->fpu.st[r].se != b->fpu.st[r].se) {
            diff_add(d, "fpu.st%d(phys) jit=%04x:%016llx interp=%04x:%016llx; ", r,
                     a->fpu.st[r].se, (unsigned long long)a->fpu.st[r].sig, b->fpu.st[r].se,
                     (unsigned long long)b->fpu.st[r].sig);
        }
    }
    CMP_U(d, a, b, fpu.fcw, "fcw");
    CMP_U(d, a, b, fpu.fsw, "fsw");
    CMP_U(d, a, b, fpu.top, "ftop");
    CMP_U(d, a, b, fpu.ftw, "ftw");
    CMP_U(d, a, b, fpu.fop, "fop");
    CMP_U(d, a, b, fpu.fip, "fip");
    CMP_U(d, a, b, fpu.fdp, "fdp");
    CMP_U(d, a, b, fpu.fcs, "fcs");
    CMP_U(d, a, b, fpu.fds, "fds");
}

/* compare_memory: the bytes each side wrote. j1 holds the JIT run's stores with their values
 * after it; memory now holds what the interpreter left. */
static void compare_memory(Diff *d, Verify *v)
{
    for (unsigned k = 0; k < v->n1; k++) {
        JEntry *e = &v->j1[k];
        uint32_t now = load_n(e->host, e->n);
        if (e->val != now) {
            diff_add(d, "mem[%08x] jit=%x interp=%x; ", e->phys, e->val, now);
        }
    }
    /* The usual case: both sides stored to the same places in the same order. */
    bool same = v->n1 == v->n2;
    for (unsigned k = 0; same && k < v->n1; k++) {
        same = v->j1[k].host == v->j2[k].host && v->j1[k].n == v->j2[k].n;
    }
    if (same) {
        return;
    }
    for (unsigned k = 0; k < v->n2; k++) {
        const JEntry *e = &v->j2[k];
        bool covered = false;
        for (unsigned m = 0; m < v->n1 && !covered; m++) {
            const JEntry *f = &v->j1[m];
            covered = e->host >= f->host && e->host + e->n <= f->host + f->n;
        }
        if (!covered && e->old != e->val) {
            diff_add(d, "mem[%08x] written by the interpreter only; ", e->phys);
        }
    }
}

/* finish_unreplayed: the block cannot be replayed (port I/O, MMIO, journal overflow): keep the
 * JIT run's result. */
static void finish_unreplayed(CPUState *cpu, const jmp_buf outer, int fault)
{
    cpu->store_hook = NULL;
    cpu->tlb_hook = NULL;
    copy_words(cpu->jmp_env, outer, sizeof(jmp_buf));
    if (fault >= 0) {
        longjmp(cpu->jmp_env, 1);
    }
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
    copy_words(outer, cpu->jmp_env, sizeof(jmp_buf));
    if (!tb->verify_kind) {
        tb->verify_kind = has_port_io(tb) ? 2 : 1;
    }
    if (tb->verify_kind == 2) {
        /* Devices would see the accesses twice: the JIT alone runs the block. */
        j->stats.verify_skipped_io++;
        finish_unreplayed(cpu, outer, run_jit_side(j, cpu, tb));
        return true;
    }
    snap_copy(&v->snap, cpu);
    const uint32_t gen = cpu->mem_generation;
    v->n1 = v->n2 = 0;
    v->ntj = 0;
    v->mmio = v->overflow = v->tlb_saved = false;
    v->cur = v->j1;
    v->ncur = &v->n1;
    cpu->store_hook = journal_store;
    cpu->tlb_hook = journal_tlb;

    /* The JIT run. */
    int f1 = run_jit_side(j, cpu, tb);
    if (v->mmio || v->overflow) {
        if (v->mmio) {
            j->stats.verify_skipped_mmio++;
        } else {
            j->stats.verify_skipped_overflow++;
        }
        finish_unreplayed(cpu, outer, f1);
        return true;
    }
    cpu->tlb_hook = NULL;
    for (unsigned k = 0; k < v->n1; k++) {
        v->j1[k].val = load_n(v->j1[k].host, v->j1[k].n);
    }
    bool cold_changed = memcmp(CCOLD(cpu), CCOLD(&v->snap), COLD_SIZE) != 0;
    hot_copy(&v->after, cpu);
    if (cold_changed) {
        cold_copy(&v->after, cpu);
    }

    /* Back to the state before the block: memory newest first, the CPU state, the TLBs. The
     * device-driven exit bits keep their current values. */
    for (unsigned k = v->n1; k-- > 0;) {
        store_n(v->j1[k].host, v->j1[k].old, v->j1[k].n);
    }
    bool intr = cpu->intr_pending, nmi = cpu->nmi_pending, exit_req = cpu->exit_request;
    hot_copy(cpu, &v->snap);
    if (cold_changed) {
        cold_copy(cpu, &v->snap);
    }
    cpu->intr_pending = intr;
    cpu->nmi_pending = nmi;
    cpu->exit_request = exit_req;
    tlb_rewind(v, cpu);
    cpu->mem_generation = gen;

    /* The interpreter run, up to the same instruction count (one more if the JIT faulted:
     * the interpreter must fault on that instruction too). */
    v->cur = v->j2;
    v->ncur = &v->n2;
    uint64_t until = v->after.icount;
    int f2 = run_interp_side(cpu, f1 >= 0 ? until + 1 : until);
    for (unsigned k = 0; k < v->n2; k++) {
        v->j2[k].val = load_n(v->j2[k].host, v->j2[k].n);
    }
    cpu->store_hook = NULL;
    copy_words(cpu->jmp_env, outer, sizeof(jmp_buf));
    j->stats.verified_blocks++;
    j->stats.verified_insns += until - v->snap.icount + (f1 >= 0 ? 1 : 0);

    Diff d;
    d.len = 0;
    d.text[0] = '\0';
    if (f1 != f2) {
        diff_add(&d, "exception jit=%d interp=%d; ", f1, f2);
    }
    compare_hot(&d, &v->after, cpu, f1 >= 0 && f1 == f2);
    /* The JIT run's cold fields: in after if it changed them, else as in snap. */
    const CPUState *cold_jit = cold_changed ? &v->after : &v->snap;
    if (memcmp(CCOLD(cpu), CCOLD(cold_jit), COLD_SIZE) != 0) {
        compare_cold(&d, cold_jit, cpu);
    }
    compare_memory(&d, v);
    if (d.len) {
        report(j, cpu, tb, d.text);
        cpu->shutdown = true;
        return false;
    }
    if (f2 >= 0) {
        longjmp(cpu->jmp_env, 1);
    }
    return true;
}
