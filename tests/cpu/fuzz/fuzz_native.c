/* fuzz_native.c: the native side of the differential fuzzer, a 32-bit Linux program (gcc -m32)
 * that runs batches of test cases on the host CPU and records the final state of each.
 *
 * Usage: anyvm-fuzz-native SHM_FD IN_FD OUT_FD (started by anyvm-fuzz, never by hand).
 * The driver writes FuzzCaseIn records into the shared memory file SHM_FD and a uint32_t case
 * count into IN_FD; this program runs them and answers with the same count on OUT_FD after
 * filling the FuzzCaseOut records. A count of 0 or EOF ends the program.
 *
 * Running a case: the code, data and stack windows (fuzz_case.h) are mapped at fixed
 * addresses. fuzz_enter() saves the host registers, loads
 * EFLAGS and all eight guest registers from the context page (0x00700000) and jumps to the
 * code. The code ends with `jmp [capture_ptr]` into fuzz_capture, which stores the guest
 * registers with absolute moves (no register or guest stack is touched before they are
 * saved), switches to a scratch stack for PUSHFD and returns to C. A fault instead raises a
 * signal, delivered on an alternate stack; the handler copies the registers, trap number and
 * error code out of the signal context and redirects the return to fuzz_resume.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/ucontext.h>
#include <unistd.h>

#include "fuzz_case.h"

#if !defined(__i386__)
#error "fuzz_native.c must be built for i386 (gcc -m32)"
#endif

/* The context page: fixed offsets, used by the assembly below as absolute addresses. */
#define CTX_IN_REGS (FUZZ_CTX_BASE + 0x00)    /* popad order: edi esi ebp esp ebx edx ecx eax */
#define CTX_IN_EFLAGS (FUZZ_CTX_BASE + 0x20)
#define CTX_IN_ESP (FUZZ_CTX_BASE + 0x24)
#define CTX_HOST_ESP (FUZZ_CTX_BASE + 0x28)
#define CTX_ENTRY (FUZZ_CTX_BASE + 0x2C)      /* = FUZZ_CODE_BASE, for the indirect jump */
#define CTX_CAPTURE (FUZZ_CTX_BASE + 0x30)    /* = fuzz_capture, target of the end stub */
#define CTX_USER_DS (FUZZ_CTX_BASE + 0x34)    /* the process's data selector (DS = ES = SS) */
#define CTX_OUT_REGS (FUZZ_CTX_BASE + 0x40)   /* eax ecx edx ebx esp ebp esi edi */
#define CTX_OUT_EFLAGS (FUZZ_CTX_BASE + 0x60)
#define CTX_SCRATCH_TOP (FUZZ_CTX_BASE + 0x100)

#define XSTR2(x) #x
#define XSTR(x) XSTR2(x)

/* The register file shuttle. Constants are plain numbers, so this needs no relocation and
 * works in a position-independent executable. */
__asm__(".text\n"
        ".globl fuzz_enter\n"
        ".hidden fuzz_enter\n"
        ".type fuzz_enter, @function\n"
        "fuzz_enter:\n"
        "    push %ebp\n"
        "    push %ebx\n"
        "    push %esi\n"
        "    push %edi\n"
        "    mov %esp, " XSTR(CTX_HOST_ESP) "\n"
        "    mov $" XSTR(CTX_IN_EFLAGS) ", %esp\n"
        "    popfl\n"
        "    mov $" XSTR(CTX_IN_REGS) ", %esp\n"
        "    popal\n"
        "    mov " XSTR(CTX_IN_ESP) ", %esp\n"
        "    jmp *" XSTR(CTX_ENTRY) "\n"
        ".size fuzz_enter, .-fuzz_enter\n"
        ".globl fuzz_capture\n"
        ".hidden fuzz_capture\n"
        ".type fuzz_capture, @function\n"
        "fuzz_capture:\n"
        /* The guest may have loaded DS or ES (even with a null selector): only SS, which it
         * can load with the user data selector alone, is trusted until DS/ES are restored. */
        "    mov %eax, %ss:" XSTR(CTX_OUT_REGS) "+0\n"
        "    mov %ecx, %ss:" XSTR(CTX_OUT_REGS) "+4\n"
        "    mov %edx, %ss:" XSTR(CTX_OUT_REGS) "+8\n"
        "    mov %ebx, %ss:" XSTR(CTX_OUT_REGS) "+12\n"
        "    mov %esp, %ss:" XSTR(CTX_OUT_REGS) "+16\n"
        "    mov %ebp, %ss:" XSTR(CTX_OUT_REGS) "+20\n"
        "    mov %esi, %ss:" XSTR(CTX_OUT_REGS) "+24\n"
        "    mov %edi, %ss:" XSTR(CTX_OUT_REGS) "+28\n"
        "    mov $" XSTR(CTX_SCRATCH_TOP) ", %esp\n"
        "    pushfl\n"
        "    popl %ss:" XSTR(CTX_OUT_EFLAGS) "\n"
        "    mov %ss:" XSTR(CTX_USER_DS) ", %eax\n"
        "    mov %eax, %ds\n"
        "    mov %eax, %es\n"
        "    mov " XSTR(CTX_HOST_ESP) ", %esp\n"
        "    cld\n"
        "    xor %eax, %eax\n"
        "    pop %edi\n"
        "    pop %esi\n"
        "    pop %ebx\n"
        "    pop %ebp\n"
        "    ret\n"
        ".size fuzz_capture, .-fuzz_capture\n"
        ".globl fuzz_resume\n"
        ".hidden fuzz_resume\n"
        ".type fuzz_resume, @function\n"
        "fuzz_resume:\n"
        "    mov " XSTR(CTX_HOST_ESP) ", %esp\n"
        "    cld\n"
        "    mov $1, %eax\n"
        "    pop %edi\n"
        "    pop %esi\n"
        "    pop %ebx\n"
        "    pop %ebp\n"
        "    ret\n"
        ".size fuzz_resume, .-fuzz_resume\n");

/* fuzz_enter: run the loaded case; returns 0 at the end stub, 1 after a caught fault. */
int fuzz_enter(void);
void fuzz_capture(void);
void fuzz_resume(void);

/* Fault information written by the signal handler (the handler may only touch memory, so it
 * goes into the context page rather than into program state). */
typedef struct FaultInfo {
    uint32_t regs[8];
    uint32_t eip, eflags, trapno, err, cr2;
} FaultInfo;
#define CTX_FAULT ((volatile FaultInfo *)(uintptr_t)(FUZZ_CTX_BASE + 0x200))

static void on_fault(int sig, siginfo_t *si, void *uc_void)
{
    ucontext_t *uc = uc_void;
    greg_t *gr = uc->uc_mcontext.gregs;
    uint32_t eip = (uint32_t)gr[REG_EIP];
    (void)si;
    /* Guest code runs in the code region or faults fetching from its guard pages. A fault
     * anywhere else is a bug in this program: say so and die (the sandbox kills the process
     * on the next system call). */
    if (eip < FUZZ_CODE_REGION - FUZZ_PAGE || eip >= FUZZ_CODE_REGION + FUZZ_REGION_SIZE + FUZZ_PAGE) {
        static const char msg[] = "anyvm-fuzz-native: fault outside the guest code\n";
        (void)!write(2, msg, sizeof(msg) - 1);
        signal(sig, SIG_DFL);
        return;
    }
    volatile FaultInfo *fi = CTX_FAULT;
    fi->regs[0] = (uint32_t)gr[REG_EAX];
    fi->regs[1] = (uint32_t)gr[REG_ECX];
    fi->regs[2] = (uint32_t)gr[REG_EDX];
    fi->regs[3] = (uint32_t)gr[REG_EBX];
    fi->regs[4] = (uint32_t)gr[REG_ESP];
    fi->regs[5] = (uint32_t)gr[REG_EBP];
    fi->regs[6] = (uint32_t)gr[REG_ESI];
    fi->regs[7] = (uint32_t)gr[REG_EDI];
    fi->eip = eip;
    fi->eflags = (uint32_t)gr[REG_EFL];
    fi->trapno = (uint32_t)gr[REG_TRAPNO];
    fi->err = (uint32_t)gr[REG_ERR];
    fi->cr2 = (uint32_t)uc->uc_mcontext.cr2;
    gr[REG_EIP] = (greg_t)(uintptr_t)fuzz_resume;
    /* The guest may have left DS/ES null or pointing at the code segment. */
    gr[REG_DS] = gr[REG_ES] = (greg_t)*(volatile uint32_t *)(uintptr_t)CTX_USER_DS;
    gr[REG_EFL] &= ~(greg_t)(FZ_DF | 0x100u); /* DF and TF clear for the C code */
}

static void *map_fixed(uint32_t addr, uint32_t size, int prot)
{
    void *p = mmap((void *)(uintptr_t)addr, size, prot,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    if (p == MAP_FAILED || p != (void *)(uintptr_t)addr) {
        fprintf(stderr, "anyvm-fuzz-native: cannot map 0x%08x: %s\n", addr,
                p == MAP_FAILED ? strerror(errno) : "placed elsewhere");
        exit(2);
    }
    return p;
}

/* sandbox: from here on the process may only read its command pipe, write its answer pipe
 * and stderr, return from signal handlers and exit. Generated code runs natively, and a
 * generator bug must never turn into a random system call (INT 80h, SYSENTER, SYSCALL). */
static int sandbox(int in_fd, int out_fd)
{
#define ARG0 (offsetof(struct seccomp_data, args[0]))
#define ALLOW BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)
    struct sock_filter f[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_I386, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_rt_sigreturn, 0, 1),
        ALLOW,
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_sigreturn, 0, 1),
        ALLOW,
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_exit_group, 0, 1),
        ALLOW,
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_exit, 0, 1),
        ALLOW,
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_read, 0, 2),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)in_fd, 4, 5),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_write, 0, 4),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)out_fd, 1, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 2, 0, 1),
        ALLOW,
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
    };
#undef ALLOW
#undef ARG0
    struct sock_fprog prog = {.len = sizeof(f) / sizeof(f[0]), .filter = f};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
        prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) != 0) {
        fprintf(stderr, "anyvm-fuzz-native: seccomp: %s\n", strerror(errno));
        return -1;
    }
    return 0;
}

static int read_full(int fd, void *buf, size_t len)
{
    uint8_t *p = buf;
    while (len > 0) {
        ssize_t n = read(fd, p, len);
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

static int write_full(int fd, const void *buf, size_t len)
{
    const uint8_t *p = buf;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
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

static void run_case(const FuzzCaseIn *in, FuzzCaseOut *out, uint8_t *code, uint8_t *data,
                     uint8_t *stack, uint32_t capture_ptr_addr)
{
    volatile uint32_t *ctx = (volatile uint32_t *)(uintptr_t)FUZZ_CTX_BASE;
    uint32_t len = in->code_len;
    if (len > FUZZ_CODE_MAX - FUZZ_END_STUB_LEN) {
        len = FUZZ_CODE_MAX - FUZZ_END_STUB_LEN;
    }
    memcpy(code, in->code, len);
    code[len] = 0x36;           /* jmp dword ss:[capture_ptr_addr] (DS may be unusable) */
    code[len + 1] = 0xFF;
    code[len + 2] = 0x25;
    memcpy(code + len + 3, &capture_ptr_addr, 4);
    memcpy(data, in->data, FUZZ_DATA_SIZE);
    memcpy(stack, in->stack, FUZZ_STACK_SIZE);
    for (int i = 0; i < FUZZ_NEDGES; i++) {
        memcpy((void *)(uintptr_t)fuzz_edge_base[i], in->edge[i], FUZZ_EDGE_SIZE);
    }

    /* popad order: EDI, ESI, EBP, (ESP), EBX, EDX, ECX, EAX. */
    static const int popad_slot[8] = {7, 6, 5, 4, 3, 2, 1, 0};
    for (int i = 0; i < 8; i++) {
        ctx[i] = in->regs[popad_slot[i]];
    }
    /* IF stays 1 in user mode whatever POPFD is given; keep AC/TF/ID clear. */
    ctx[(CTX_IN_EFLAGS - FUZZ_CTX_BASE) / 4] = (in->eflags & FZ_COMPARED) | 0x2u;
    ctx[(CTX_IN_ESP - FUZZ_CTX_BASE) / 4] = in->regs[4];

    if (fuzz_enter() == 0) {
        for (int i = 0; i < 8; i++) {
            out->regs[i] = ctx[(CTX_OUT_REGS - FUZZ_CTX_BASE) / 4 + i];
        }
        out->eflags = ctx[(CTX_OUT_EFLAGS - FUZZ_CTX_BASE) / 4];
        out->eip = FUZZ_CODE_BASE + len;
        out->vector = FUZZ_NO_EXC;
        out->err = 0;
        out->cr2 = 0;
    } else {
        volatile FaultInfo *fi = CTX_FAULT;
        for (int i = 0; i < 8; i++) {
            out->regs[i] = fi->regs[i];
        }
        out->eflags = fi->eflags;
        out->eip = fi->eip;
        out->vector = (int32_t)fi->trapno;
        out->err = fi->err;
        out->cr2 = fi->trapno == 14 ? fi->cr2 : 0;
    }
    for (int i = 0; i < FUZZ_NEDGES; i++) {
        memcpy(out->edge[i], (void *)(uintptr_t)fuzz_edge_base[i], FUZZ_EDGE_SIZE);
    }
    memcpy(out->data, data, FUZZ_DATA_SIZE);
    memcpy(out->stack, stack, FUZZ_STACK_SIZE);
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: %s SHM_FD IN_FD OUT_FD (started by anyvm-fuzz)\n", argv[0]);
        return 2;
    }
    int shm_fd = atoi(argv[1]), in_fd = atoi(argv[2]), out_fd = atoi(argv[3]);
    uint8_t *shm = mmap(NULL, FUZZ_SHM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, shm_fd, 0);
    if (shm == MAP_FAILED) {
        fprintf(stderr, "anyvm-fuzz-native: cannot map shared memory: %s\n", strerror(errno));
        return 2;
    }
    FuzzCaseIn *ins = (FuzzCaseIn *)shm;
    FuzzCaseOut *outs = (FuzzCaseOut *)(shm + FUZZ_BATCH * sizeof(FuzzCaseIn));

    map_fixed(FUZZ_CODE_REGION, FUZZ_REGION_SIZE, PROT_READ | PROT_WRITE | PROT_EXEC);
    map_fixed(FUZZ_DATA_REGION, FUZZ_REGION_SIZE, PROT_READ | PROT_WRITE);
    map_fixed(FUZZ_STACK_REGION, FUZZ_REGION_SIZE, PROT_READ | PROT_WRITE);
    volatile uint32_t *ctx = map_fixed(FUZZ_CTX_BASE, FUZZ_PAGE, PROT_READ | PROT_WRITE);
    /* Guard pages: inaccessible, so that accesses just outside a region fault (#PF). */
    static const uint32_t guards[] = {
        FUZZ_CODE_REGION - FUZZ_PAGE, FUZZ_CODE_REGION + FUZZ_REGION_SIZE,
        FUZZ_DATA_REGION - FUZZ_PAGE, FUZZ_DATA_REGION + FUZZ_REGION_SIZE,
        FUZZ_STACK_REGION - FUZZ_PAGE, FUZZ_STACK_REGION + FUZZ_REGION_SIZE,
    };
    for (unsigned i = 0; i < sizeof(guards) / sizeof(guards[0]); i++) {
        map_fixed(guards[i], FUZZ_PAGE, PROT_NONE);
    }
    uint8_t *code = (uint8_t *)(uintptr_t)FUZZ_CODE_BASE;
    uint8_t *data = (uint8_t *)(uintptr_t)FUZZ_DATA_BASE;
    uint8_t *stack = (uint8_t *)(uintptr_t)FUZZ_STACK_BASE;
    ctx[(CTX_ENTRY - FUZZ_CTX_BASE) / 4] = FUZZ_CODE_BASE;
    ctx[(CTX_CAPTURE - FUZZ_CTX_BASE) / 4] = (uint32_t)(uintptr_t)fuzz_capture;
    uint32_t user_ds = 0;
    __asm__("mov %%ds, %0" : "=r"(user_ds));
    ctx[(CTX_USER_DS - FUZZ_CTX_BASE) / 4] = user_ds & 0xFFFF;

    size_t alt_size = 65536;
    void *altstack = malloc(alt_size);
    stack_t ss = {.ss_sp = altstack, .ss_size = alt_size, .ss_flags = 0};
    if (altstack == NULL || sigaltstack(&ss, NULL) != 0) {
        perror("anyvm-fuzz-native: sigaltstack");
        return 2;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = on_fault;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    static const int sigs[] = {SIGSEGV, SIGFPE, SIGILL, SIGTRAP, SIGBUS};
    for (unsigned i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
        if (sigaction(sigs[i], &sa, NULL) != 0) {
            perror("anyvm-fuzz-native: sigaction");
            return 2;
        }
    }

    if (sandbox(in_fd, out_fd) != 0) {
        /* Defence in depth only (the generator never emits system calls): go on without. */
        fprintf(stderr, "anyvm-fuzz-native: running without the seccomp sandbox\n");
    }
    for (;;) {
        uint32_t n;
        if (read_full(in_fd, &n, sizeof(n)) != 0 || n == 0) {
            return 0;
        }
        if (n > FUZZ_BATCH) {
            fprintf(stderr, "anyvm-fuzz-native: batch of %u is too large\n", n);
            return 2;
        }
        for (uint32_t i = 0; i < n; i++) {
            run_case(&ins[i], &outs[i], code, data, stack, CTX_CAPTURE);
        }
        if (write_full(out_fd, &n, sizeof(n)) != 0) {
            return 2;
        }
    }
}
