/* fuzz_main.c: anyvm-fuzz, the native differential fuzzer (CPU conformance tier 2).
 *
 * Random user-mode IA-32 instruction sequences run natively as a 32-bit process on the host
 * (anyvm-fuzz-native) and in anyvm's interpreter; registers, the defined arithmetic flags,
 * DF, the data and stack windows, the final EIP and any exception must match.
 *
 *   anyvm-fuzz [--seed S] [--insns N | --cases N] [--first I] [--case I] [--native PATH]
 *              [--max-report K] [--block] [--verbose]
 *
 * The seed defaults to FUZZ_DEFAULT_SEED, or ANYVM_FUZZ_SEED from the environment ("random"
 * picks one from the clock); it is printed first. Case i of a seed is generated from (seed, i)
 * alone, so `anyvm-fuzz --seed S --case I` reproduces one failing case and prints it in full.
 * Exit status: 0 no mismatch, 1 mismatches, 2 setup error.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fuzz_case.h"
#include "fuzz_emu.h"
#include "fuzz_gen.h"
#include "translate/decode.h"

#ifndef FUZZ_NATIVE_PATH
#define FUZZ_NATIVE_PATH "anyvm-fuzz-native"
#endif

#define FUZZ_DEFAULT_SEED 0x616E766D66757A7Aull /* "anvmfuzz" */
#define FUZZ_DEFAULT_INSNS 1000000ull
#define FUZZ_X87_DEFAULT_INSNS 1000000ull

static const char *const reg_names[8] = {"eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi"};

typedef struct Options {
    uint64_t seed;
    uint64_t insns;        /* stop after this many emulated instructions (0: use cases) */
    uint64_t cases;        /* stop after this many cases (0: use insns) */
    uint64_t first;        /* first case index */
    bool single;           /* --case: one case, printed in full */
    bool verbose;
    bool block;            /* --block: one cpu_exec budget per case */
    const char *accel;     /* --accel interp|jit[,verify=on] */
    bool minimize;         /* shrink each printed mismatch (default on) */
    bool x87;              /* --x87: x87/MMX sequences (fuzz_gen_x87.c) */
    unsigned max_report;
    const char *native;
    const char *argv0;
} Options;

typedef struct Native {
    pid_t pid;
    int to_fd, from_fd;
    FuzzCaseIn *ins;
    FuzzCaseOut *outs;
} Native;

typedef struct Stats {
    uint64_t cases, insns, mismatches;
    uint64_t fp_ops, ulp_tolerated;
    uint64_t vectors[33];  /* native exceptions by vector (32: other) */
    double t_gen, t_emu, t_wait;
} Stats;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int native_start(Native *nv, const char *path)
{
    int shm = memfd_create("anyvm-fuzz", 0);
    if (shm < 0 || ftruncate(shm, (off_t)FUZZ_SHM_SIZE) != 0) {
        fprintf(stderr, "anyvm-fuzz: shared memory: %s\n", strerror(errno));
        return -1;
    }
    uint8_t *p = mmap(NULL, FUZZ_SHM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, shm, 0);
    if (p == MAP_FAILED) {
        fprintf(stderr, "anyvm-fuzz: mmap: %s\n", strerror(errno));
        return -1;
    }
    if (nv->ins) {
        munmap(nv->ins, FUZZ_SHM_SIZE);
    }
    nv->ins = (FuzzCaseIn *)p;
    nv->outs = (FuzzCaseOut *)(p + FUZZ_BATCH * sizeof(FuzzCaseIn));
    int to[2], from[2];
    if (pipe(to) != 0 || pipe(from) != 0) {
        fprintf(stderr, "anyvm-fuzz: pipe: %s\n", strerror(errno));
        return -1;
    }
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "anyvm-fuzz: fork: %s\n", strerror(errno));
        return -1;
    }
    if (pid == 0) {
        char a[16], b[16], c[16];
        close(to[1]);
        close(from[0]);
        snprintf(a, sizeof(a), "%d", shm);
        snprintf(b, sizeof(b), "%d", to[0]);
        snprintf(c, sizeof(c), "%d", from[1]);
        execl(path, path, a, b, c, (char *)NULL);
        fprintf(stderr, "anyvm-fuzz: cannot run %s: %s\n", path, strerror(errno));
        _exit(127);
    }
    close(to[0]);
    close(from[1]);
    close(shm);
    nv->pid = pid;
    nv->to_fd = to[1];
    nv->from_fd = from[0];
    return 0;
}

static int io_full(int fd, void *buf, size_t len, bool wr)
{
    uint8_t *p = buf;
    while (len > 0) {
        ssize_t n = wr ? write(fd, p, len) : read(fd, p, len);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static void native_stop(Native *nv)
{
    uint32_t zero = 0;
    if (nv->pid <= 0) {
        return;
    }
    (void)io_full(nv->to_fd, &zero, sizeof(zero), true);
    close(nv->to_fd);
    close(nv->from_fd);
    int st;
    waitpid(nv->pid, &st, 0);
    nv->pid = 0;
}

/* native_wait: wait up to timeout_ms for the runner's answer. A generated sequence always
 * ends, so a silent runner is a generator or runner bug: kill it rather than hang. */
static int native_wait(Native *nv, int timeout_ms)
{
    struct pollfd p = {.fd = nv->from_fd, .events = POLLIN};
    int r;
    do {
        r = poll(&p, 1, timeout_ms);
    } while (r < 0 && errno == EINTR);
    if (r == 0) {
        fprintf(stderr, "anyvm-fuzz: the native runner did not answer within %d s; killed\n",
                timeout_ms / 1000);
        kill(nv->pid, SIGKILL);
        return -1;
    }
    return 0;
}

static void native_died(Native *nv, bool quiet)
{
    int st = 0;
    close(nv->to_fd);
    close(nv->from_fd);
    waitpid(nv->pid, &st, 0);
    if (quiet) {
        /* expected: the minimizer made a variant that the sandbox stopped */
    } else if (WIFSIGNALED(st)) {
        fprintf(stderr, "anyvm-fuzz: the native runner died with signal %d\n", WTERMSIG(st));
    } else {
        fprintf(stderr, "anyvm-fuzz: the native runner exited with status %d\n",
                WEXITSTATUS(st));
    }
    nv->pid = 0;
}

static const char *vector_name(int v)
{
    static const char *const names[32] = {
        "#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "?9", "#TS", "#NP",
        "#SS", "#GP", "#PF", "?15", "#MF", "#AC", "#MC", "#XM",
    };
    if (v == FUZZ_NO_EXC) {
        return "none";
    }
    if (v == FUZZ_EMU_RUNAWAY) {
        return "runaway(step limit)";
    }
    if (v == FUZZ_EMU_STUCK) {
        return "stuck(no halt after delivery)";
    }
    if (v == FUZZ_EMU_SHUTDOWN) {
        return "shutdown(triple fault)";
    }
    if (v >= 0 && v < 32 && names[v]) {
        return names[v];
    }
    return "?";
}

/* vector_has_err: exceptions that push an error code (#DF, #TS, #NP, #SS, #GP, #PF, #AC). */
static bool vector_has_err(int v)
{
    return v == 8 || (v >= 10 && v <= 14) || v == 17;
}

/* print_code: the sequence disassembled instruction by instruction (bytes a JMP skips over are
 * shown as data). */
static void print_code(FILE *f, const FuzzCaseIn *in, const FuzzCaseMeta *meta)
{
    for (unsigned i = 0; i < meta->n_marks; i++) {
        uint32_t off = meta->marks[i].off;
        uint32_t next = i + 1 < meta->n_marks ? meta->marks[i + 1].off : in->code_len;
        char text[160];
        int n = x86_disasm(in->code + off, in->code_len - off, FUZZ_CODE_BASE + off, true, text,
                           sizeof(text));
        if (n <= 0) {
            n = (int)(next - off);
        }
        char hex[64] = "";
        size_t hl = 0;
        for (int k = 0; k < n && hl + 4 < sizeof(hex); k++) {
            hl += (size_t)snprintf(hex + hl, sizeof(hex) - hl, "%02x ", in->code[off + k]);
        }
        uint32_t undef = meta->marks[i].undef_flags;
        fprintf(f, "    %08x  %-33s %-40s", FUZZ_CODE_BASE + off, hex, text);
        if (undef || meta->marks[i].undef_regs) {
            fprintf(f, " ; undef before: flags %03x regs %02x", undef, meta->marks[i].undef_regs);
        }
        fputc('\n', f);
        if (off + (uint32_t)n < next) {
            fprintf(f, "    %08x  (%u bytes jumped over)\n", FUZZ_CODE_BASE + off + n,
                    next - off - (uint32_t)n);
        }
    }
    fprintf(f, "    %08x  <end>\n", FUZZ_CODE_BASE + in->code_len);
}

static void print_regs(FILE *f, const char *who, const uint32_t *regs, uint32_t eflags,
                       uint32_t eip)
{
    fprintf(f, "  %-7s", who);
    for (int r = 0; r < 8; r++) {
        fprintf(f, " %s=%08x", reg_names[r], regs[r]);
    }
    fprintf(f, " eflags=%08x eip=%08x\n", eflags, eip);
}

static void print_out(FILE *f, const char *who, const FuzzCaseOut *o)
{
    print_regs(f, who, o->regs, o->eflags, o->eip);
    if (o->vector != FUZZ_NO_EXC) {
        fprintf(f, "          exception %d %s err=%x", o->vector, vector_name(o->vector), o->err);
        if (o->vector == 14) {
            fprintf(f, " cr2=%08x", o->cr2);
        }
        fputc('\n', f);
    }
}

/* DiffSig: what differs, without the values: the minimizer keeps a change only if the
 * mismatch it leaves is the same kind as the original one. */
typedef struct DiffSig {
    uint32_t kinds;        /* DIFF_* */
    uint32_t flags;        /* differing EFLAGS bits */
    int nat_vec, emu_vec;
    uint32_t nat_eip;      /* where the host stopped */
} DiffSig;
enum {
    DIFF_EXC = 1u << 0, DIFF_EIP = 1u << 1, DIFF_BOUNDARY = 1u << 2, DIFF_FLAGS = 1u << 3,
    DIFF_ERR = 1u << 4, DIFF_CR2 = 1u << 5, DIFF_MEM = 1u << 6, DIFF_REG0 = 1u << 8,
};

static bool sig_equal(const DiffSig *a, const DiffSig *b)
{
    return a->kinds == b->kinds && a->flags == b->flags && a->nat_vec == b->nat_vec &&
           a->emu_vec == b->emu_vec && a->nat_eip == b->nat_eip;
}

/* compare: append the differences between the native and emulated results to why (and their
 * kinds to *sig); returns the number of differences. */
static int compare(const FuzzCaseMeta *meta, const FuzzCaseOut *nat, const FuzzCaseOut *emu,
                   char *why, size_t cap, DiffSig *sig, unsigned *tolerated)
{
    size_t wl = 0;
    int nd = 0;
    FuzzCaseOut *ruled = NULL;
    if (meta->n_rules) {
        /* x87 cases: fields that may legitimately differ are taken from the native side. */
        ruled = malloc(sizeof(*ruled));
        if (ruled) {
            *ruled = *emu;
            unsigned t = fuzz_apply_rules(meta, nat, ruled);
            if (tolerated) {
                *tolerated = t;
            }
            emu = ruled;
        }
    }
    memset(sig, 0, sizeof(*sig));
    sig->nat_vec = nat->vector;
    sig->emu_vec = emu->vector;
    sig->nat_eip = nat->eip;
#define WHY(...)                                                                               \
    do {                                                                                       \
        nd++;                                                                                  \
        if (wl < cap) {                                                                        \
            int k_ = snprintf(why + wl, cap - wl, __VA_ARGS__);                                \
            wl += k_ > 0 ? (size_t)k_ : 0;                                                     \
        }                                                                                      \
    } while (0)
    why[0] = 0;
    if (nat->vector != emu->vector) {
        sig->kinds |= DIFF_EXC;
        WHY("    exception: native %s, anyvm %s\n", vector_name(nat->vector),
            vector_name(emu->vector));
    }
    if (nat->eip != emu->eip) {
        sig->kinds |= DIFF_EIP;
        WHY("    eip: native %08x, anyvm %08x\n", nat->eip, emu->eip);
    }
    if (nd) {
        free(ruled);
        return nd; /* different places: the rest of the state is not comparable */
    }
    const FuzzMark *m = fuzz_meta_at(meta, nat->eip - FUZZ_CODE_BASE);
    if (!m) {
        sig->kinds |= DIFF_BOUNDARY;
        WHY("    eip %08x is not an instruction boundary of the sequence\n", nat->eip);
        free(ruled);
        return nd;
    }
    for (int r = 0; r < 8; r++) {
        if (!(m->undef_regs & (1u << r)) && nat->regs[r] != emu->regs[r]) {
            sig->kinds |= DIFF_REG0 << r;
            WHY("    %s: native %08x, anyvm %08x\n", reg_names[r], nat->regs[r], emu->regs[r]);
        }
    }
    uint32_t fm = FZ_COMPARED & ~m->undef_flags;
    if ((nat->eflags ^ emu->eflags) & fm) {
        static const struct { uint32_t bit; const char *name; } fl[] = {
            {FZ_CF, "CF"}, {FZ_PF, "PF"}, {FZ_AF, "AF"}, {FZ_ZF, "ZF"},
            {FZ_SF, "SF"}, {FZ_DF, "DF"}, {FZ_OF, "OF"},
        };
        char list[64] = "";
        size_t ll = 0;
        for (unsigned i = 0; i < sizeof(fl) / sizeof(fl[0]); i++) {
            if ((nat->eflags ^ emu->eflags) & fm & fl[i].bit) {
                ll += (size_t)snprintf(list + ll, sizeof(list) - ll, " %s", fl[i].name);
            }
        }
        sig->kinds |= DIFF_FLAGS;
        sig->flags = (nat->eflags ^ emu->eflags) & fm;
        WHY("    eflags: native %08x, anyvm %08x (compared %03x; differ:%s)\n", nat->eflags,
            emu->eflags, fm, list);
    }
    /* Error codes: for #PF only P, W/R and U/S (the host has NX, so it adds I/D on fetches;
     * a Pentium II without NX never does). */
    uint32_t err_mask = nat->vector == 14 ? 0x7u : 0xFFFFu;
    if (vector_has_err(nat->vector) && ((nat->err ^ emu->err) & err_mask)) {
        sig->kinds |= DIFF_ERR;
        WHY("    error code: native %x, anyvm %x\n", nat->err, emu->err);
    }
    if (nat->vector == 14 && nat->cr2 != emu->cr2) {
        sig->kinds |= DIFF_CR2;
        WHY("    cr2: native %08x, anyvm %08x\n", nat->cr2, emu->cr2);
    }
    const struct { const uint8_t *a, *b; uint32_t base, size; const char *name; }
    win[2 + FUZZ_NEDGES] = {
        {nat->data, emu->data, FUZZ_DATA_BASE, FUZZ_DATA_SIZE, "data"},
        {nat->stack, emu->stack, FUZZ_STACK_BASE, FUZZ_STACK_SIZE, "stack"},
        {nat->edge[0], emu->edge[0], fuzz_edge_base[0], FUZZ_EDGE_SIZE, "edge"},
        {nat->edge[1], emu->edge[1], fuzz_edge_base[1], FUZZ_EDGE_SIZE, "edge"},
        {nat->edge[2], emu->edge[2], fuzz_edge_base[2], FUZZ_EDGE_SIZE, "edge"},
        {nat->edge[3], emu->edge[3], fuzz_edge_base[3], FUZZ_EDGE_SIZE, "edge"},
    };
    for (int w = 0; w < 2 + FUZZ_NEDGES; w++) {
        if (memcmp(win[w].a, win[w].b, win[w].size) == 0) {
            continue;
        }
        sig->kinds |= DIFF_MEM;
        int shown = 0;
        for (uint32_t i = 0; i < win[w].size; i++) {
            if (win[w].a[i] != win[w].b[i]) {
                if (shown++ < 8) {
                    WHY("    %s [%08x]: native %02x, anyvm %02x\n", win[w].name,
                        win[w].base + i, win[w].a[i], win[w].b[i]);
                } else {
                    nd++;
                }
            }
        }
    }
#undef WHY
    free(ruled);
    return nd;
}

static void print_case(FILE *f, const Options *o, uint64_t index, const FuzzCaseIn *in,
                       const FuzzCaseMeta *meta, const FuzzCaseOut *nat, const FuzzCaseOut *emu,
                       const char *why)
{
    fprintf(f, "%s seed=0x%016" PRIx64 " case=%" PRIu64 "\n", why ? "MISMATCH" : "CASE", o->seed,
            index);
    fprintf(f, "  reproduce: %s%s --seed 0x%016" PRIx64 " --case %" PRIu64 "\n", o->argv0,
            o->x87 ? " --x87" : "", o->seed, index);
    print_regs(f, "initial", in->regs, in->eflags | 0x202u, FUZZ_CODE_BASE);
    if (o->x87) {
        fuzz_print_x87_inputs(f, in);
    }
    fprintf(f, "  code (%u bytes):\n", in->code_len);
    print_code(f, in, meta);
    print_out(f, "native", nat);
    print_out(f, "anyvm", emu);
    if (o->x87) {
        fuzz_print_fpu(f, "native", nat->data);
        fuzz_print_fpu(f, "anyvm", emu->data);
    }
    const FuzzMark *m = fuzz_meta_at(meta, nat->eip - FUZZ_CODE_BASE);
    if (m) {
        fprintf(f, "  undefined at that point: flags %03x regs %02x\n", m->undef_flags,
                m->undef_regs);
    }
    if (why && why[0]) {
        fprintf(f, "  differences:\n%s", why);
    }
    fflush(f);
}

/* run_one: one case through both sides, using slot 0 of the shared batch (only after the
 * batch's own results have been consumed up to the current case). Returns 0 or -1 if the
 * native runner failed. */
static int run_one(Native *nv, FuzzEmu *emu, const FuzzCaseIn *in, FuzzCaseOut *nat,
                   FuzzCaseOut *emu_out)
{
    uint32_t n = 1, got = 0;
    nv->ins[0] = *in;
    if (io_full(nv->to_fd, &n, sizeof(n), true) != 0) {
        return -1;
    }
    fuzz_emu_run(emu, in, emu_out);
    if (native_wait(nv, 60000) != 0 || io_full(nv->from_fd, &got, sizeof(got), false) != 0 ||
        got != 1) {
        return -1;
    }
    *nat = nv->outs[0];
    return 0;
}

/* minimize: replace instructions by NOPs of the same length while the mismatch keeps its
 * kind; print the instructions that remain. The undefined-flag marks of the original case are
 * reused, which is why only same-kind mismatches count. */
static void minimize(FILE *f, Native *nv, const char *native_path, FuzzEmu *emu,
                     const FuzzCaseIn *orig, const FuzzCaseMeta *meta, const DiffSig *want,
                     char *why, size_t cap)
{
    FuzzCaseIn *cur = malloc(sizeof(*cur));
    FuzzCaseIn *cand = malloc(sizeof(*cand));
    FuzzCaseOut *nat = malloc(sizeof(*nat)), *eo = malloc(sizeof(*eo));
    if (!cur || !cand || !nat || !eo) {
        goto out;
    }
    *cur = *orig;
    for (int pass = 0; pass < 2; pass++) {
        for (unsigned k = meta->n_marks; k-- > 0;) {
            uint32_t off = meta->marks[k].off;
            uint32_t next = k + 1 < meta->n_marks ? meta->marks[k + 1].off : orig->code_len;
            int len = x86_disasm(cur->code + off, orig->code_len - off, FUZZ_CODE_BASE + off,
                                 true, why, (unsigned)cap);
            if (len <= 0 || (uint32_t)len > next - off) {
                len = (int)(next - off);
            }
            bool all_nop = true;
            for (int b = 0; b < len; b++) {
                all_nop &= cur->code[off + b] == 0x90;
            }
            /* Unconditional transfers keep junk bytes from running: they stay. */
            DecodeEnv env = {.bytes = cur->code + off, .avail = (unsigned)len, .code32 = true};
            DecodedInsn d;
            if (all_nop || meta->marks[k].essential || (x86_decode(&env, &d) > 0 &&
                            (d.op == 0xE8 || d.op == 0xE9 || d.op == 0xEB || d.op == 0xC2 ||
                             d.op == 0xC3 || (d.op == 0xFF && (d.reg == 2 || d.reg == 4))))) {
                continue;
            }
            *cand = *cur;
            memset(cand->code + off, 0x90, (size_t)len);
            DiffSig sig;
            if (run_one(nv, emu, cand, nat, eo) != 0) {
                /* The variant went wild (e.g. a self-modifying store now lands in the NOPs)
                 * and the sandbox killed the runner: start a new one and reject it. */
                native_died(nv, true);
                if (native_start(nv, native_path) != 0) {
                    goto out;
                }
                continue;
            }
            if (compare(meta, nat, eo, why, cap, &sig, NULL) && sig_equal(&sig, want)) {
                *cur = *cand;
            }
        }
    }
    unsigned kept = 0;
    fprintf(f, "  minimized (NOPs in place of the rest; same kind of mismatch):\n");
    for (unsigned k = 0; k < meta->n_marks; k++) {
        uint32_t off = meta->marks[k].off;
        char text[160];
        int len = x86_disasm(orig->code + off, orig->code_len - off, FUZZ_CODE_BASE + off, true,
                             text, sizeof(text));
        if (len > 0 && memcmp(cur->code + off, orig->code + off, (size_t)len) == 0) {
            fprintf(f, "    %08x  %s\n", FUZZ_CODE_BASE + off, text);
            kept++;
        }
    }
    if (run_one(nv, emu, cur, nat, eo) == 0) {
        DiffSig sig;
        compare(meta, nat, eo, why, cap, &sig, NULL);
        print_out(f, "native", nat);
        print_out(f, "anyvm", eo);
        if (meta->n_rules) {
            fuzz_print_fpu(f, "native", nat->data);
            fuzz_print_fpu(f, "anyvm", eo->data);
        }
        fprintf(f, "  differences:\n%s", why);
    }
    fprintf(f, "  (%u of %u instructions kept)\n", kept, meta->n_marks);
out:
    free(cur);
    free(cand);
    free(nat);
    free(eo);
}

/* x87_bisect: an x87 case is a chain of state changes, so instead of NOPs it is cut after
 * each instruction in turn (plus the FXSAVE/FNSTENV epilogue) to find the first instruction
 * after which the two states differ. */
static void x87_bisect(FILE *f, Native *nv, const char *native_path, FuzzEmu *emu,
                       const FuzzCaseIn *orig, const FuzzCaseMeta *meta, char *why, size_t cap)
{
    FuzzCaseIn *cand = malloc(sizeof(*cand));
    FuzzCaseMeta *m = malloc(sizeof(*m));
    FuzzCaseOut *nat = malloc(sizeof(*nat)), *eo = malloc(sizeof(*eo));
    uint8_t *before = malloc(FUZZ_DATA_SIZE);
    if (!cand || !m || !nat || !eo || !before) {
        goto out;
    }
    memcpy(before, orig->data, FUZZ_DATA_SIZE);
    for (unsigned k = 1; k <= meta->n_marks; k++) {
        if (k < meta->n_marks && meta->marks[k - 1].essential && meta->marks[k].essential) {
            continue; /* inside a setup or an FPREM loop: partial states are not compared */
        }
        uint32_t end = k < meta->n_marks ? meta->marks[k].off : orig->code_len;
        *cand = *orig;
        *m = *meta;
        cand->code_len = end + fuzz_x87_epilogue(cand->code + end);
        m->n_marks = k;
        m->final = k < meta->n_marks ? meta->marks[k] : meta->final;
        m->final.off = (uint16_t)cand->code_len;
        if (run_one(nv, emu, cand, nat, eo) != 0) {
            native_died(nv, true);
            if (native_start(nv, native_path) != 0) {
                goto out;
            }
            continue;
        }
        DiffSig sig;
        if (compare(m, nat, eo, why, cap, &sig, NULL)) {
            char text[160];
            uint32_t off = meta->marks[k - 1].off;
            x86_disasm(orig->code + off, orig->code_len - off, FUZZ_CODE_BASE + off, true, text,
                       sizeof(text));
            fprintf(f, "  first difference after instruction %u: %08x  %s\n", k,
                    FUZZ_CODE_BASE + off, text);
            print_out(f, "native", nat);
            print_out(f, "anyvm", eo);
            fuzz_print_fpu(f, "before", before);
            fuzz_print_fpu(f, "native", nat->data);
            fuzz_print_fpu(f, "anyvm", eo->data);
            fprintf(f, "  differences:\n%s", why);
            goto out;
        }
        memcpy(before, nat->data, FUZZ_DATA_SIZE);
    }
    fprintf(f, "  (no prefix of the case differs)\n");
out:
    free(before);
    free(cand);
    free(m);
    free(nat);
    free(eo);
}

static void usage(FILE *f, const char *argv0)
{
    fprintf(f,
            "usage: %s [--seed S] [--insns N | --cases N] [--first I] [--case I]\n"
            "          [--native PATH] [--max-report K] [--block] [--no-minimize] [--verbose]\n"
            "          [--accel interp|jit[,verify=on]]\n"
            "          [--x87]\n"
            "  --seed S      run seed (default 0x%016llx, or $ANYVM_FUZZ_SEED; 'random')\n"
            "  --insns N     stop after N emulated instructions (default %llu)\n"
            "  --cases N     stop after N cases instead\n"
            "  --first I     start at case index I\n"
            "  --case I      run only case I and print it in full\n"
            "  --native PATH the 32-bit runner (default %s, or $ANYVM_FUZZ_NATIVE)\n"
            "  --max-report K print at most K mismatching cases (default 5)\n"
            "  --block       run each case with one cpu_exec budget, not one per insn\n"
            "  --accel A     execution engine: interp (default) or jit (best with --block)\n"
            "  --no-minimize do not shrink the printed mismatching cases\n"
            "  --x87         x87/MMX sequences (default %llu instructions)\n",
            argv0, (unsigned long long)FUZZ_DEFAULT_SEED,
            (unsigned long long)FUZZ_DEFAULT_INSNS, FUZZ_NATIVE_PATH,
            (unsigned long long)FUZZ_X87_DEFAULT_INSNS);
}

static uint64_t parse_seed(const char *s)
{
    if (!strcmp(s, "random")) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        uint64_t v = (uint64_t)ts.tv_sec * 1000000007ull ^ (uint64_t)ts.tv_nsec ^
                     ((uint64_t)getpid() << 32);
        return v;
    }
    return strtoull(s, NULL, 0);
}

static int parse_args(int argc, char **argv, Options *o)
{
    memset(o, 0, sizeof(*o));
    o->argv0 = argv[0];
    o->seed = FUZZ_DEFAULT_SEED;
    o->max_report = 5;
    o->minimize = true;
    o->native = getenv("ANYVM_FUZZ_NATIVE") ? getenv("ANYVM_FUZZ_NATIVE") : FUZZ_NATIVE_PATH;
    const char *env_seed = getenv("ANYVM_FUZZ_SEED");
    if (env_seed && env_seed[0]) {
        o->seed = parse_seed(env_seed);
    }
    const char *env_insns = getenv("ANYVM_FUZZ_INSNS");
    o->insns = env_insns && env_insns[0] ? strtoull(env_insns, NULL, 0) : 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--verbose")) {
            o->verbose = true;
            continue;
        }
        if (!strcmp(a, "--block")) {
            o->block = true;
            continue;
        }
        if (!strcmp(a, "--x87")) {
            o->x87 = true;
            continue;
        }
        if (!strcmp(a, "--no-minimize")) {
            o->minimize = false;
            continue;
        }
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout, argv[0]);
            exit(0);
        }
        if (!v) {
            usage(stderr, argv[0]);
            return -1;
        }
        i++;
        if (!strcmp(a, "--seed")) {
            o->seed = parse_seed(v);
        } else if (!strcmp(a, "--insns")) {
            o->insns = strtoull(v, NULL, 0);
            o->cases = 0;
        } else if (!strcmp(a, "--cases")) {
            o->cases = strtoull(v, NULL, 0);
            o->insns = 0;
        } else if (!strcmp(a, "--accel")) {
            o->accel = v;
        } else if (!strcmp(a, "--first")) {
            o->first = strtoull(v, NULL, 0);
        } else if (!strcmp(a, "--case")) {
            o->first = strtoull(v, NULL, 0);
            o->cases = 1;
            o->insns = 0;
            o->single = true;
        } else if (!strcmp(a, "--native")) {
            o->native = v;
        } else if (!strcmp(a, "--max-report")) {
            o->max_report = (unsigned)strtoul(v, NULL, 0);
        } else {
            usage(stderr, argv[0]);
            return -1;
        }
    }
    if (o->insns == 0 && o->cases == 0) {
        o->insns = o->x87 ? FUZZ_X87_DEFAULT_INSNS : FUZZ_DEFAULT_INSNS;
    }
    return 0;
}

int main(int argc, char **argv)
{
    Options o;
    if (parse_args(argc, argv, &o) != 0) {
        return 2;
    }
    const char *mode = o.x87 ? " --x87" : "";
    printf("anyvm-fuzz:%s seed 0x%016" PRIx64 ", %s %" PRIu64 ", first case %" PRIu64 "\n", mode,
           o.seed, o.insns ? "instructions" : "cases", o.insns ? o.insns : o.cases, o.first);
    if (!o.single) {
        printf("anyvm-fuzz: rerun with: %s%s --seed 0x%016" PRIx64 " --%s %" PRIu64 "\n",
               argv[0], mode, o.seed, o.insns ? "insns" : "cases",
               o.insns ? o.insns : o.cases);
    }
    fflush(stdout);
    signal(SIGPIPE, SIG_IGN);

    Native nv = {0};
    if (native_start(&nv, o.native) != 0) {
        return 2;
    }
    FuzzEmu *emu = fuzz_emu_new(o.block);
    if (emu && o.accel && fuzz_emu_set_accel(emu, o.accel) < 0) {
        return 2;
    }
    FuzzCaseMeta *metas = calloc(FUZZ_BATCH, sizeof(*metas));
    FuzzCaseOut *emu_outs = calloc(FUZZ_BATCH, sizeof(*emu_outs));
    FuzzCaseOut *nat_outs = calloc(FUZZ_BATCH, sizeof(*nat_outs));
    FuzzCaseIn *ins = calloc(FUZZ_BATCH, sizeof(*ins));
    unsigned *steps = calloc(FUZZ_BATCH, sizeof(*steps));
    if (!emu || !metas || !emu_outs || !nat_outs || !ins || !steps) {
        fprintf(stderr, "anyvm-fuzz: out of memory\n");
        native_stop(&nv);
        return 2;
    }
    char *why = malloc(8192);
    Stats st = {0};
    double t0 = now_s();
    uint64_t next = o.first;
    bool done = false;
    int rc = 0;
    while (!done) {
        uint32_t n = FUZZ_BATCH;
        if (o.cases && o.first + o.cases - next < n) {
            n = (uint32_t)(o.first + o.cases - next);
        }
        double t = now_s();
        for (uint32_t i = 0; i < n; i++) {
            if (o.x87) {
                fuzz_gen_x87_case(o.seed, next + i, &ins[i], &metas[i]);
            } else {
                fuzz_gen_case(o.seed, next + i, &ins[i], &metas[i]);
            }
        }
        /* The batch lives in the driver's arrays; the shared memory is only the transport,
         * since the minimizer may have to replace the runner (and its mapping). */
        memcpy(nv.ins, ins, n * sizeof(*ins));
        st.t_gen += now_s() - t;
        if (io_full(nv.to_fd, &n, sizeof(n), true) != 0) {
            native_died(&nv, false);
            rc = 2;
            break;
        }
        t = now_s();
        for (uint32_t i = 0; i < n; i++) {
            steps[i] = fuzz_emu_run(emu, &ins[i], &emu_outs[i]);
        }
        st.t_emu += now_s() - t;
        t = now_s();
        uint32_t got;
        if (native_wait(&nv, 60000) != 0 ||
            io_full(nv.from_fd, &got, sizeof(got), false) != 0 || got != n) {
            fprintf(stderr, "anyvm-fuzz: batch of cases %" PRIu64 "..%" PRIu64
                    " (bisect with --first/--cases)\n", next, next + n - 1);
            native_died(&nv, false);
            rc = 2;
            break;
        }
        st.t_wait += now_s() - t;
        memcpy(nat_outs, nv.outs, n * sizeof(*nat_outs));
        for (uint32_t i = 0; i < n; i++) {
            uint64_t index = next + i;
            const FuzzCaseOut *nat = &nat_outs[i];
            int v = nat->vector;
            st.vectors[v >= 0 && v < 32 ? v : 32] += v != FUZZ_NO_EXC;
            st.cases++;
            st.insns += steps[i];
            st.fp_ops += metas[i].fp_ops;
            DiffSig sig;
            unsigned tol = 0;
            int nd = compare(&metas[i], nat, &emu_outs[i], why, 8192, &sig, &tol);
            st.ulp_tolerated += tol;
            if (nd) {
                st.mismatches++;
                if (st.mismatches <= o.max_report) {
                    print_case(stdout, &o, index, &ins[i], &metas[i], nat, &emu_outs[i], why);
                    if (o.minimize) {
                        FuzzCaseIn *copy = malloc(sizeof(*copy));
                        if (copy) {
                            *copy = ins[i];
                            if (o.x87) {
                                x87_bisect(stdout, &nv, o.native, emu, copy, &metas[i], why,
                                           8192);
                            } else {
                                minimize(stdout, &nv, o.native, emu, copy, &metas[i], &sig, why,
                                         8192);
                            }
                            if (nv.pid <= 0) {
                                rc = 2;
                                done = true;
                                free(copy);
                                break;
                            }
                            free(copy);
                        }
                    }
                }
            } else if (o.single || o.verbose) {
                print_case(stdout, &o, index, &ins[i], &metas[i], nat, &emu_outs[i], NULL);
            }
            if (o.insns && st.insns >= o.insns) {
                done = true;
                break;
            }
        }
        next += n;
        if (o.cases && next >= o.first + o.cases) {
            done = true;
        }
    }
    double el = now_s() - t0;
    if (nv.pid > 0) {
        native_stop(&nv);
    }
    printf("anyvm-fuzz: seed 0x%016" PRIx64 ": %" PRIu64 " cases, %" PRIu64
           " instructions, %" PRIu64 " mismatches, %.2f s (%.0f instructions/s;"
           " generate %.2f s, anyvm %.2f s, native wait %.2f s)\n",
           o.seed, st.cases, st.insns, st.mismatches, el, el > 0 ? (double)st.insns / el : 0.0,
           st.t_gen, st.t_emu, st.t_wait);
    if (o.x87) {
        printf("anyvm-fuzz: %" PRIu64 " x87/MMX instructions generated; %" PRIu64
               " transcendental results 1 ulp apart (allowed)\n", st.fp_ops, st.ulp_tolerated);
    }
    printf("anyvm-fuzz: native exceptions:");
    for (int v = 0; v < 33; v++) {
        if (st.vectors[v]) {
            printf(" %s=%" PRIu64, v < 32 ? vector_name(v) : "other", st.vectors[v]);
        }
    }
    printf("\n");
    if (st.mismatches) {
        printf("anyvm-fuzz: FAILED: %" PRIu64 " mismatching cases (first %u printed above)\n",
               st.mismatches, o.max_report);
        rc = rc ? rc : 1;
    }
    free(why);
    free(steps);
    free(emu_outs);
    free(nat_outs);
    free(ins);
    free(metas);
    fuzz_emu_free(emu);
    return rc;
}
