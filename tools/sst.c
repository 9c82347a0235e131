/* sst.c: anyvm-sst, the runner for the SingleStepTests 80286 real-mode conformance data.
 *
 * Usage: anyvm-sst [-v] [--skip FILE] FILE_OR_DIR...
 * Each test gives the registers and the RAM bytes before one instruction (followed by HLT)
 * and what changed after it on a real 80286. The runner loads that state into a bare CPU
 * (16 MiB of RAM, real mode, A20 on), runs until the CPU halts (the HLT after the
 * instruction, or the HLT in an exception handler the test installed), and compares every
 * register and every listed RAM byte. REP string instructions therefore run to completion.
 *
 * Adaptations to the 286 (documented in tests/cpu/sst-skip.txt, the skip list):
 *   - the 286 in real mode keeps FLAGS bits 12-15 at zero, so the initial FLAGS are loaded
 *     with those bits cleared (every test's final state shows them clear);
 *   - per-file flag masks for flags the SDM leaves undefined where the 286 and the P6 differ;
 *   - skipped files and tests (by SHA-1) where the 286 and the P6 really behave differently.
 * Tests named in revocation_list.txt beside the data are skipped.
 * Output: one line per file ("00.MOO.gz: 1000/1000"), then "N passed, N failed, N skipped".
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "core/cpu.h"
#include "translate/jit.h"
#include "translate/decode.h"

#define RAM_SIZE (16u << 20)
#define MAX_SKIPS 1024
#define MAX_REVOKED 4096

enum { SR_AX, SR_BX, SR_CX, SR_DX, SR_CS, SR_SS, SR_DS, SR_ES, SR_SP, SR_BP, SR_SI, SR_DI,
       SR_IP, SR_FLAGS, SR_N };
static const char *const sr_names[SR_N] = {"ax", "bx", "cx", "dx", "cs", "ss", "ds",
                                           "es", "sp", "bp", "si", "di", "ip", "flags"};

/* SkipRule: one line of the skip list: a file stem or a test hash, and what to do. */
typedef struct SkipRule {
    char key[48];       /* "9D" (matches 9D.MOO.gz) or a 40-digit SHA-1 */
    bool skip;
    bool skip_exc;      /* skip the tests where the 286 raised an exception */
    uint16_t flagmask;  /* flags not compared */
} SkipRule;

typedef struct Runner {
    SkipRule rules[MAX_SKIPS];
    int nrules;
    char revoked[MAX_REVOKED][41];
    int nrevoked;
    bool skip_p6_ud;    /* "* skip-p6-ud": skip encodings the P6 rejects but the 286 ran */
    bool alias_ss_gp;   /* "* alias-ss-gp": #SS goes to the 286's INT 13 handler */
    bool skip_286_ud;   /* "* skip-286-ud": the 286 raised #UD for an instruction the P6 has */
    bool skip_286_long; /* "* skip-286-long": over 10 bytes, the 286's INT 13 limit */
    int verbose;
    long passed, failed, skipped;
    uint8_t *ram;
    MemMap mem;
    PortMap io;
    Logger log;
    CPUState *cpu;
} Runner;

/* TestState: the INIT or FINA part of a test. */
typedef struct TestState {
    uint16_t regmask;
    uint16_t regs[SR_N];
    uint32_t nram;
    const uint8_t *ram;  /* nram entries of 5 bytes: uint32 address, uint8 value */
} TestState;

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
           ((uint32_t)p[3] << 24);
}

static uint16_t rd16(const uint8_t *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}

/* gunzip_file: read and inflate path; returns a malloc'd buffer (caller frees) or NULL. */
static uint8_t *gunzip_file(const char *path, size_t *len)
{
    gzFile gz = gzopen(path, "rb");
    if (!gz) {
        return NULL;
    }
    size_t cap = 1 << 20, n = 0;
    uint8_t *buf = malloc(cap);
    for (;;) {
        if (!buf) {
            gzclose(gz);
            return NULL;
        }
        if (n == cap) {
            cap *= 2;
            uint8_t *nb = realloc(buf, cap);
            if (!nb) {
                free(buf);
                gzclose(gz);
                return NULL;
            }
            buf = nb;
        }
        int r = gzread(gz, buf + n, (unsigned)(cap - n));
        if (r < 0) {
            free(buf);
            gzclose(gz);
            return NULL;
        }
        if (r == 0) {
            break;
        }
        n += (size_t)r;
    }
    gzclose(gz);
    *len = n;
    return buf;
}

/* parse_state: the REGS and RAM sub-chunks of INIT/FINA in [p, end). */
static void parse_state(const uint8_t *p, const uint8_t *end, TestState *s)
{
    memset(s, 0, sizeof(*s));
    while (p + 8 <= end) {
        uint32_t len = rd32(p + 4);
        const uint8_t *q = p + 8;
        if (q + len > end) {
            break;
        }
        if (!memcmp(p, "REGS", 4) && len >= 2) {
            s->regmask = rd16(q);
            const uint8_t *v = q + 2;
            for (int i = 0; i < SR_N; i++) {
                if ((s->regmask >> i) & 1) {
                    if (v + 2 > q + len) {
                        s->regmask &= (uint16_t)~(1u << i);
                        continue;
                    }
                    s->regs[i] = rd16(v);
                    v += 2;
                }
            }
        } else if (!memcmp(p, "RAM ", 4) && len >= 4) {
            uint32_t n = rd32(q);
            if (n > (len - 4) / 5) {
                n = (len - 4) / 5;
            }
            s->nram = n;
            s->ram = q + 4;
        }
        p = q + len;
    }
}

static const SkipRule *find_rule(const Runner *r, const char *key)
{
    for (int i = 0; i < r->nrules; i++) {
        if (!strcmp(r->rules[i].key, key)) {
            return &r->rules[i];
        }
    }
    return NULL;
}

static void hash_hex(const uint8_t *h, char out[41])
{
    for (int i = 0; i < 20; i++) {
        snprintf(out + 2 * i, 3, "%02x", h[i]);
    }
}

static bool is_revoked(const Runner *r, const char *hex)
{
    for (int i = 0; i < r->nrevoked; i++) {
        if (!strcmp(r->revoked[i], hex)) {
            return true;
        }
    }
    return false;
}

static void load_state(Runner *r, const TestState *init)
{
    CPUState *cpu = r->cpu;
    cpu_reset(cpu);
    cpu->a20_mask = 0xFFFFFFFFu;
    static const int segmap[4] = {S_CS, S_SS, S_DS, S_ES};
    static const int gpr[SR_N] = {R_EAX, R_EBX, R_ECX, R_EDX, -1, -1, -1, -1,
                                  R_ESP, R_EBP, R_ESI, R_EDI, -1, -1};
    for (int i = 0; i < SR_N; i++) {
        if (gpr[i] >= 0) {
            cpu->regs[gpr[i]] = init->regs[i];
        }
    }
    for (int i = 0; i < 4; i++) {
        cpu_set_seg_real(cpu, segmap[i], init->regs[SR_CS + i]);
    }
    cpu->eip = init->regs[SR_IP];
    /* The 286 holds FLAGS bits 12-15 at zero in real mode (see the file comment). */
    cpu_set_eflags(cpu, init->regs[SR_FLAGS] & 0x0FFF, 0xFFFFFFFFu);
    for (uint32_t i = 0; i < init->nram; i++) {
        uint32_t a = rd32(init->ram + 5 * i);
        if (a < RAM_SIZE) {
            r->ram[a] = init->ram[5 * i + 4];
            mem_notify_ram_write(&r->mem, a, 1); /* a loader: the JIT drops stale code */
        }
    }
}

static uint16_t cpu_reg16(const CPUState *cpu, int i)
{
    static const int gpr[SR_N] = {R_EAX, R_EBX, R_ECX, R_EDX, -1, -1, -1, -1,
                                  R_ESP, R_EBP, R_ESI, R_EDI, -1, -1};
    if (gpr[i] >= 0) {
        return (uint16_t)cpu->regs[gpr[i]];
    }
    switch (i) {
    case SR_CS:
        return cpu->seg[S_CS].sel;
    case SR_SS:
        return cpu->seg[S_SS].sel;
    case SR_DS:
        return cpu->seg[S_DS].sel;
    case SR_ES:
        return cpu->seg[S_ES].sel;
    case SR_IP:
        return (uint16_t)cpu->eip;
    default:
        return (uint16_t)cpu_get_eflags((CPUState *)cpu);
    }
}

/* run_test: returns 1 passed, 0 failed. */
static int run_test(Runner *r, const char *fname, const char *name, const TestState *init,
                    const TestState *fina, uint16_t flagmask, int excp)
{
    CPUState *cpu = r->cpu;
    load_state(r, init);
    if (r->alias_ss_gp && excp == EXC_GP) {
        /* The 286 reports a real-mode stack-segment overrun as INT 13 where the P6 raises
         * #SS (INT 12): send vector 12 to the test's INT 13 handler. */
        memcpy(r->ram + 4 * EXC_SS, r->ram + 4 * EXC_GP, 4);
        mem_notify_ram_write(&r->mem, 4 * EXC_SS, 4);
    }
    /* A REP instruction takes at most 64K iterations, a few steps of the interpreter; a
     * test that has not halted after this many steps ran away. */
    for (int i = 0; i < 16 && !cpu->halted && !cpu->shutdown; i++) {
        CPUExit e = cpu_exec(cpu, 64);
        if (e == CPU_EXIT_HALT || e == CPU_EXIT_SHUTDOWN) {
            break;
        }
    }
    bool ok = true;
    char why[512] = "";
    size_t wl = 0;
    for (int i = 0; i < SR_N; i++) {
        uint16_t want = ((fina->regmask >> i) & 1) ? fina->regs[i] : init->regs[i];
        uint16_t got = cpu_reg16(cpu, i);
        uint16_t m = 0xFFFF;
        if (i == SR_FLAGS) {
            if (!((fina->regmask >> i) & 1)) {
                want &= 0x0FFF;
            }
            m = (uint16_t)~flagmask;
            /* Bits 1 (always 1), 3, 5, 15 are fixed; the 286 keeps 12-14 at 0 in real mode. */
            want |= 2;
        }
        if ((want & m) != (got & m)) {
            ok = false;
            if (wl < sizeof(why) - 40) {
                wl += (size_t)snprintf(why + wl, sizeof(why) - wl, " %s=%04x(want %04x)",
                                       sr_names[i], got, want);
            }
        }
    }
    const TestState *sets[2] = {init, fina};
    for (int s = 1; s >= 0; s--) {
        for (uint32_t i = 0; i < sets[s]->nram; i++) {
            uint32_t a = rd32(sets[s]->ram + 5 * i);
            uint8_t want = sets[s]->ram[5 * i + 4];
            if (s == 0) {
                /* An INIT byte that FINA lists is checked against FINA. */
                bool listed = false;
                for (uint32_t j = 0; j < fina->nram; j++) {
                    if (rd32(fina->ram + 5 * j) == a) {
                        listed = true;
                        break;
                    }
                }
                if (listed) {
                    continue;
                }
            }
            if (a < RAM_SIZE && r->ram[a] != want) {
                ok = false;
                if (wl < sizeof(why) - 40) {
                    wl += (size_t)snprintf(why + wl, sizeof(why) - wl, " [%06x]=%02x(want %02x)",
                                           a, r->ram[a], want);
                }
            }
        }
    }
    if (!ok && r->verbose) {
        fprintf(stderr, "FAIL %s: %s:%s\n", fname, name, why);
    }
    /* Scrub the bytes this test used so the next one starts from zeroed memory. */
    memset(r->ram + 4 * EXC_SS, 0, 4);
    mem_notify_ram_write(&r->mem, 4 * EXC_SS, 4);
    for (int s = 0; s < 2; s++) {
        for (uint32_t i = 0; i < sets[s]->nram; i++) {
            uint32_t a = rd32(sets[s]->ram + 5 * i);
            if (a < RAM_SIZE) {
                r->ram[a] = 0;
                mem_notify_ram_write(&r->mem, a, 1);
            }
        }
    }
    return ok;
}

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

/* p6_decode: x86_decode of the test's bytes as 16-bit code: the length, or -DECODE_*. */
static int p6_decode(const uint8_t *bytes, uint32_t n)
{
    if (!bytes || n == 0) {
        return -DECODE_NEED_MORE;
    }
    DecodedInsn d;
    DecodeEnv env = {.bytes = bytes, .avail = n, .code32 = false};
    return x86_decode(&env, &d);
}

/* p6_differs: is this a test where the two CPUs disagree by design (see the skip list)? */
static bool p6_differs(const Runner *r, const uint8_t *bytes, uint32_t n, int excp)
{
    int len = p6_decode(bytes, n);
    if (r->skip_p6_ud && excp != EXC_UD && len == -DECODE_UD) {
        return true;  /* e.g. LOCK misuse, which the 286 ignores */
    }
    if (r->skip_286_ud && excp == EXC_UD && len > 0) {
        return true;  /* e.g. MOV to/from FS/GS, which the 286 does not have */
    }
    if (r->skip_286_long && excp == EXC_GP && len > 10) {
        return true;  /* the 286 limits instructions to 10 bytes, the P6 to 15 */
    }
    return false;
}

static int run_file(Runner *r, const char *path)
{
    size_t len = 0;
    uint8_t *buf = gunzip_file(path, &len);
    const char *fname = base_name(path);
    if (!buf) {
        fprintf(stderr, "anyvm-sst: cannot read %s\n", path);
        return -1;
    }
    char stem[48];
    snprintf(stem, sizeof(stem), "%s", fname);
    char *dot = strstr(stem, ".MOO");
    if (dot) {
        *dot = 0;
    }
    const SkipRule *frule = find_rule(r, stem);
    uint16_t flagmask = frule ? frule->flagmask : 0;
    long p0 = r->passed, f0 = r->failed, s0 = r->skipped;
    const uint8_t *p = buf, *end = buf + len;
    int maxfail_print = 10;
    while (p + 8 <= end) {
        uint32_t clen = rd32(p + 4);
        const uint8_t *q = p + 8;
        if (q + clen > end) {
            break;
        }
        if (!memcmp(p, "TEST", 4) && clen >= 4) {
            const uint8_t *t = q + 4, *tend = q + clen;
            TestState init = {0}, fina = {0};
            char name[128] = "?";
            char hex[41] = "";
            const uint8_t *bytes = NULL;
            uint32_t nbytes = 0;
            int excp = -1;
            while (t + 8 <= tend) {
                uint32_t l = rd32(t + 4);
                const uint8_t *v = t + 8;
                if (v + l > tend) {
                    break;
                }
                if (!memcmp(t, "NAME", 4) && l >= 4) {
                    uint32_t n = rd32(v);
                    if (n > l - 4) {
                        n = l - 4;
                    }
                    if (n >= sizeof(name)) {
                        n = sizeof(name) - 1;
                    }
                    memcpy(name, v + 4, n);
                    name[n] = 0;
                } else if (!memcmp(t, "INIT", 4)) {
                    parse_state(v, v + l, &init);
                } else if (!memcmp(t, "FINA", 4)) {
                    parse_state(v, v + l, &fina);
                } else if (!memcmp(t, "BYTS", 4) && l >= 4) {
                    nbytes = rd32(v);
                    if (nbytes > l - 4) {
                        nbytes = l - 4;
                    }
                    bytes = v + 4;
                } else if (!memcmp(t, "EXCP", 4) && l >= 1) {
                    excp = v[0];
                } else if (!memcmp(t, "HASH", 4) && l >= 20) {
                    hash_hex(v, hex);
                }
                t = v + l;
            }
            const SkipRule *trule = hex[0] ? find_rule(r, hex) : NULL;
            if ((frule && frule->skip) || (trule && trule->skip) ||
                (hex[0] && is_revoked(r, hex)) || (frule && frule->skip_exc && excp >= 0) ||
                p6_differs(r, bytes, nbytes, excp)) {
                r->skipped++;
            } else {
                int saved = r->verbose;
                if (maxfail_print <= 0) {
                    r->verbose = 0;
                }
                uint16_t fm = flagmask | (trule ? trule->flagmask : 0);
                if (run_test(r, fname, name, &init, &fina, fm, excp)) {
                    r->passed++;
                } else {
                    r->failed++;
                    maxfail_print--;
                }
                r->verbose = saved;
            }
        }
        p = q + clen;
    }
    free(buf);
    long np = r->passed - p0, nf = r->failed - f0, ns = r->skipped - s0;
    if (ns && !np && !nf) {
        printf("%s: skipped (%ld)\n", fname, ns);
    } else {
        printf("%s: %ld/%ld%s\n", fname, np, np + nf, ns ? " (some skipped)" : "");
    }
    fflush(stdout);
    return 0;
}

/* load_skips: the skip list. Each non-comment line: KEY ACTION [ARG] REASON, where KEY is a
 * file stem (9D) or a test's SHA-1, ACTION is "skip" or "flagmask HEX". */
static int load_skips(Runner *r, const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "anyvm-sst: cannot open skip list %s: %s\n", path, strerror(errno));
        return -1;
    }
    char line[512];
    while (fgets(line, sizeof(line), f)) {
        char key[48], act[32], arg[32];
        if (line[0] == '#' || sscanf(line, "%47s %31s", key, act) != 2) {
            continue;
        }
        if (r->nrules >= MAX_SKIPS || strlen(key) >= sizeof(r->rules[0].key)) {
            continue;
        }
        SkipRule *sr = NULL;
        for (int i = 0; i < r->nrules; i++) {
            if (!strcmp(r->rules[i].key, key)) {
                sr = &r->rules[i];
            }
        }
        if (!sr) {
            sr = &r->rules[r->nrules++];
            memset(sr, 0, sizeof(*sr));
            snprintf(sr->key, sizeof(sr->key), "%s", key);
        }
        if (!strcmp(key, "*")) {
            if (!strcmp(act, "skip-p6-ud")) {
                r->skip_p6_ud = true;
            } else if (!strcmp(act, "alias-ss-gp")) {
                r->alias_ss_gp = true;
            } else if (!strcmp(act, "skip-286-ud")) {
                r->skip_286_ud = true;
            } else if (!strcmp(act, "skip-286-long")) {
                r->skip_286_long = true;
            }
            continue;
        }
        if (!strcmp(act, "skip")) {
            sr->skip = true;
        } else if (!strcmp(act, "skip-exc")) {
            sr->skip_exc = true;
        } else if (!strcmp(act, "flagmask") &&
                   sscanf(line, "%47s %31s %31s", key, act, arg) == 3) {
            sr->flagmask |= (uint16_t)strtoul(arg, NULL, 16);
        }
    }
    fclose(f);
    return 0;
}

static void load_revoked(Runner *r, const char *dir)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/revocation_list.txt", dir);
    FILE *f = fopen(path, "r");
    if (!f) {
        return;
    }
    char line[256];
    while (fgets(line, sizeof(line), f) && r->nrevoked < MAX_REVOKED) {
        char h[64];
        if (line[0] == '#' || sscanf(line, "%63s", h) != 1 || strlen(h) != 40) {
            continue;
        }
        for (char *c = h; *c; c++) {
            if (*c >= 'A' && *c <= 'F') {
                *c = (char)(*c - 'A' + 'a');
            }
        }
        memcpy(r->revoked[r->nrevoked++], h, 41);
    }
    fclose(f);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int run_dir(Runner *r, const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) {
        return -1;
    }
    load_revoked(r, dir);
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t l = strlen(e->d_name);
        if (l > 7 && !strcmp(e->d_name + l - 7, ".MOO.gz")) {
            if (n == cap) {
                cap = cap ? 2 * cap : 512;
                char **nn = realloc(names, cap * sizeof(*names));
                if (!nn) {
                    break;
                }
                names = nn;
            }
            names[n++] = strdup(e->d_name);
        }
    }
    closedir(d);
    qsort(names, n, sizeof(*names), cmp_str);
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        if (run_file(r, path) < 0) {
            rc = -1;
        }
        free(names[i]);
    }
    free(names);
    return rc;
}

int main(int argc, char **argv)
{
    Runner *r = calloc(1, sizeof(*r));
    if (!r) {
        return 2;
    }
    const char *skip_path = NULL;
    const char *accel = "interp";
#ifdef ANYVM_SOURCE_DIR
    skip_path = ANYVM_SOURCE_DIR "/tests/cpu/sst-skip.txt";
#endif
    int first = 1;
    for (; first < argc && argv[first][0] == '-'; first++) {
        if (!strcmp(argv[first], "-v")) {
            r->verbose = 1;
        } else if (!strcmp(argv[first], "--skip") && first + 1 < argc) {
            skip_path = argv[++first];
        } else if (!strcmp(argv[first], "--no-skip")) {
            skip_path = NULL;
        } else if (!strcmp(argv[first], "--accel") && first + 1 < argc) {
            accel = argv[++first]; /* interp (default) or jit[,verify=on,...] */
        } else {
            fprintf(stderr, "usage: anyvm-sst [-v] [--skip FILE|--no-skip] [--accel interp|jit] FILE_OR_DIR...\n");
            return 2;
        }
    }
    if (first >= argc) {
        fprintf(stderr, "usage: anyvm-sst [-v] [--skip FILE|--no-skip] [--accel interp|jit] FILE_OR_DIR...\n");
        return 2;
    }
    if (skip_path && load_skips(r, skip_path) < 0) {
        return 2;
    }
    r->ram = calloc(1, RAM_SIZE);
    r->cpu = calloc(1, sizeof(CPUState));
    if (!r->ram || !r->cpu) {
        return 2;
    }
    log_init(&r->log);
    memmap_init(&r->mem, &r->log);
    portmap_init(&r->io, &r->log);
    if (mem_map_ram(&r->mem, "ram", 0, RAM_SIZE, r->ram, 0) < 0) {
        fprintf(stderr, "anyvm-sst: cannot map RAM\n");
        return 2;
    }
    cpu_init(r->cpu, &r->mem, &r->io, &r->log);
    {
        bool use_jit;
        JitOptions jo;
        char err[128];
        if (jit_parse_accel(accel, &use_jit, &jo, err, sizeof(err)) < 0) {
            fprintf(stderr, "anyvm-sst: --accel: %s\n", err);
            return 2;
        }
        if (use_jit && x86_jit_enable(r->cpu, &jo) < 0) {
            fprintf(stderr, "anyvm-sst: cannot enable the JIT\n");
            return 2;
        }
    }
    int rc = 0;
    for (int i = first; i < argc; i++) {
        DIR *d = opendir(argv[i]);
        if (d) {
            closedir(d);
            if (run_dir(r, argv[i]) < 0) {
                rc = 1;
            }
        } else {
            char dir[4096];
            snprintf(dir, sizeof(dir), "%s", argv[i]);
            char *sl = strrchr(dir, '/');
            if (sl) {
                *sl = 0;
                load_revoked(r, dir);
            } else {
                load_revoked(r, ".");
            }
            if (run_file(r, argv[i]) < 0) {
                rc = 1;
            }
        }
    }
    printf("%ld passed, %ld failed, %ld skipped\n", r->passed, r->failed, r->skipped);
    if (r->failed) {
        rc = 1;
    }
    if (r->cpu->jit) {
        x86_jit_print_stats(r->cpu, stderr);
    }
    x86_tcache_free(r->cpu);
    free(r->cpu);
    free(r->ram);
    free(r);
    return rc;
}
