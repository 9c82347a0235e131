/* cpu.h: the IA-32 CPU state and the interface between core/ and translate/.
 *
 * Ownership: core/ holds the architectural state, memory access through segmentation and
 * paging (cpu_mem.c, mmu.c), exception and interrupt delivery (cpu_excp.c), segment loading and
 * task switches (cpu_seg.c) and the execution loop (cpu_exec.c). translate/ defines what each
 * instruction does (interp*.c) and, later, the JIT. translate/ reaches the machine only
 * through this header.
 *
 * Faults: an instruction that faults calls cpu_raise_exception(), which longjmps back to the
 * execution loop; the loop restores EIP/ESP to the start of the faulting instruction
 * (cpu->insn_eip, cpu->insn_esp) and delivers the exception. Only core/ and translate/ may
 * longjmp.
 */
#ifndef ANYVM_CORE_CPU_H
#define ANYVM_CORE_CPU_H

#include <setjmp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/clock.h"
#include "core/fpu.h"
#include "core/ioport.h"
#include "core/log.h"
#include "core/memmap.h"
#include "core/vmstate.h"

/* General registers in ModRM order. */
enum { R_EAX, R_ECX, R_EDX, R_EBX, R_ESP, R_EBP, R_ESI, R_EDI };

/* Segment registers: the same numbering as translate/decode.h's SEG_*. */
enum { S_ES, S_CS, S_SS, S_DS, S_FS, S_GS, S_NSEG };

/* EFLAGS bits. */
enum {
    EF_CF = 1u << 0, EF_FIXED1 = 1u << 1, EF_PF = 1u << 2, EF_AF = 1u << 4, EF_ZF = 1u << 6,
    EF_SF = 1u << 7, EF_TF = 1u << 8, EF_IF = 1u << 9, EF_DF = 1u << 10, EF_OF = 1u << 11,
    EF_IOPL = 3u << 12, EF_NT = 1u << 14, EF_RF = 1u << 16, EF_VM = 1u << 17,
    EF_AC = 1u << 18, EF_VIF = 1u << 19, EF_VIP = 1u << 20, EF_ID = 1u << 21,
};
#define EF_ARITH (EF_CF | EF_PF | EF_AF | EF_ZF | EF_SF | EF_OF)

/* Control register bits. */
enum {
    CR0_PE = 1u << 0, CR0_MP = 1u << 1, CR0_EM = 1u << 2, CR0_TS = 1u << 3, CR0_ET = 1u << 4,
    CR0_NE = 1u << 5, CR0_WP = 1u << 16, CR0_AM = 1u << 18, CR0_NW = 1u << 29,
    CR0_CD = 1u << 30, CR0_PG = 1u << 31,
};
enum {
    CR4_VME = 1u << 0, CR4_PVI = 1u << 1, CR4_TSD = 1u << 2, CR4_DE = 1u << 3,
    CR4_PSE = 1u << 4, CR4_PAE = 1u << 5, CR4_MCE = 1u << 6, CR4_PGE = 1u << 7,
    CR4_PCE = 1u << 8, CR4_OSFXSR = 1u << 9, CR4_OSXMMEXCPT = 1u << 10,
};

/* Exception vectors. */
enum {
    EXC_DE = 0, EXC_DB = 1, EXC_NMI = 2, EXC_BP = 3, EXC_OF = 4, EXC_BR = 5, EXC_UD = 6,
    EXC_NM = 7, EXC_DF = 8, EXC_TS = 10, EXC_NP = 11, EXC_SS = 12, EXC_GP = 13, EXC_PF = 14,
    EXC_MF = 16, EXC_AC = 17, EXC_MC = 18, EXC_XM = 19,
};

/* Segment descriptor attribute bits as kept in SegCache.flags: bits 8..15 and 20..23 of the
 * descriptor's high dword, shifted down by 8 (so type = flags & 0xF, S = 0x10, DPL = 0x60,
 * P = 0x80, AVL = 0x1000, D/B = 0x4000, G = 0x8000). */
enum {
    SEGF_TYPE = 0x000F, SEGF_ACCESSED = 0x0001, SEGF_S = 0x0010, SEGF_DPL = 0x0060,
    SEGF_P = 0x0080, SEGF_AVL = 0x1000, SEGF_DB = 0x4000, SEGF_G = 0x8000,
};

/* SegCache: a segment register with its hidden descriptor cache. limit is the byte-granular
 * limit after G scaling. */
typedef struct SegCache {
    uint16_t sel;
    uint32_t base;
    uint32_t limit;
    uint16_t flags;
} SegCache;

typedef struct DescTable {
    uint32_t base;
    uint16_t limit;
} DescTable;

/* Lazy arithmetic flags: the last flag-setting operation is recorded as (cc_op, cc_dst,
 * cc_src, cc_src2) and EFLAGS' arithmetic bits are computed only when read. CC_OP_EFLAGS means
 * they are materialised in cpu->eflags. The set of CC_OP values is defined by
 * core/cpu_flags.c and shared with the JIT. */
typedef enum CCOp {
    CC_OP_EFLAGS = 0,
    CC_OP_ADD8, CC_OP_ADD16, CC_OP_ADD32,
    CC_OP_ADC8, CC_OP_ADC16, CC_OP_ADC32,   /* cc_src2 = carry in */
    CC_OP_SUB8, CC_OP_SUB16, CC_OP_SUB32,   /* cc_dst = result, cc_src = subtrahend */
    CC_OP_SBB8, CC_OP_SBB16, CC_OP_SBB32,
    CC_OP_LOGIC8, CC_OP_LOGIC16, CC_OP_LOGIC32,
    CC_OP_INC8, CC_OP_INC16, CC_OP_INC32,   /* cc_src2 = CF before */
    CC_OP_DEC8, CC_OP_DEC16, CC_OP_DEC32,
    CC_OP_SHL8, CC_OP_SHL16, CC_OP_SHL32,   /* cc_src = value shifted by count-1 */
    CC_OP_SAR8, CC_OP_SAR16, CC_OP_SAR32,
    CC_OP_SHR8, CC_OP_SHR16, CC_OP_SHR32,
    CC_OP_MUL8, CC_OP_MUL16, CC_OP_MUL32,   /* cc_src = high part (CF=OF = src != 0) */
    CC_OP_IMUL8, CC_OP_IMUL16, CC_OP_IMUL32,
    CC_OP_RAW,                              /* cc_src = the six arithmetic flags (the JIT's
                                               inline rotates) */
    CC_OP_COUNT
} CCOp;

/* Model-specific registers anyvm implements. */
enum {
    MSR_IA32_TSC = 0x10, MSR_IA32_APIC_BASE = 0x1B, MSR_IA32_SYSENTER_CS = 0x174,
    MSR_IA32_SYSENTER_ESP = 0x175, MSR_IA32_SYSENTER_EIP = 0x176, MSR_IA32_MISC_ENABLE = 0x1A0,
};

/* Software TLB: direct-mapped, 4 KiB granules. A tag is the linear page address or
 * TLB_INVALID; the low bits of the tags carry flags that force the slow path. */
#define TLB_BITS 10
#define TLB_SIZE (1 << TLB_BITS)
#define TLB_INVALID 0xFFFFFFFFu
enum { TLB_FLAG_MMIO = 1u << 0, TLB_FLAG_CODE = 1u << 1, TLB_FLAG_WATCH = 1u << 2 };
/* TLB_FLAG_WATCH: the page holds an enabled data breakpoint (DR0-DR3): accesses take the slow
 * path, which checks them. */

typedef struct TLBEntry {
    uint32_t tag_read;    /* page | flags, for reads at this privilege */
    uint32_t tag_write;
    uint32_t tag_code;
    uint32_t paddr;       /* physical page */
    uintptr_t addend;     /* host = addend + linear, valid when no flag bits are set */
    bool global;
    bool user;            /* filled for a CPL 3 access */
    bool large;           /* part of a 4 MiB page (INVLPG drops the whole page) */
} TLBEntry;

/* Why cpu_exec returned. */
typedef enum CPUExit {
    CPU_EXIT_BUDGET,      /* ran the instructions it was given */
    CPU_EXIT_HALT,        /* HLT with no interrupt pending */
    CPU_EXIT_REQUEST,     /* cpu_exit_request() was called (device, monitor, reset) */
    CPU_EXIT_SHUTDOWN,    /* triple fault or reset: the machine decides */
    CPU_EXIT_DEBUG,       /* a breakpoint for the debugger */
} CPUExit;

/* Callbacks the platform installs (the PIC and the chipset). */
typedef struct CPUHooks {
    /* intr_ack: the CPU accepts a maskable interrupt; returns the vector. */
    int (*intr_ack)(void *opaque);
    /* a20_changed, triple_fault, ferr: the chipset reacts. */
    void (*triple_fault)(void *opaque);
    void (*ferr)(void *opaque, int level);
    void *opaque;
} CPUHooks;

#define CPU_MAX_DEBUG_BP 32

typedef struct CPUState {
    /* Architectural state. */
    uint32_t regs[8];
    uint32_t eip;
    uint32_t eflags;        /* non-arithmetic bits always; arithmetic bits when CC_OP_EFLAGS */
    uint32_t cc_op, cc_dst, cc_src, cc_src2;
    SegCache seg[S_NSEG];
    SegCache ldtr, tr;
    DescTable gdtr, idtr;
    uint32_t cr0, cr2, cr3, cr4;
    uint32_t dr[8];
    uint64_t tsc_offset;    /* TSC = tsc_base + tsc_offset (see cpu_get_tsc) */
    uint32_t sysenter_cs, sysenter_esp, sysenter_eip;
    uint64_t apic_base;
    int cpl;
    FPUState fpu;

    /* Execution state. The flags that can stop execution between blocks share one 8-byte
     * word (exit_word), so the JIT's block prologue tests them all with one compare. */
    union {
        struct {
            bool halted;
            bool intr_pending;      /* INTR pin level (from the PIC; counts only with IF) */
            bool nmi_pending;
            bool inhibit_irq;       /* one-instruction shadow after STI / MOV SS / POP SS */
            bool exit_request;
            bool shutdown;          /* triple fault or INIT-level reset requested */
            uint8_t jit_stop;       /* the JIT dropped blocks while generated code ran */
            uint8_t exit_spare;
        };
        uint64_t exit_word;
    };
    uint32_t a20_mask;      /* 0xFFFFFFFF with A20 on, ~(1 << 20) off */
    uint32_t insn_eip;      /* EIP of the instruction being executed */
    uint32_t insn_esp;      /* ESP at its start (restored on a fault) */
    uint32_t rot_val;       /* the JIT's scratch: the result of a rotate whose flags a slow
                               path may still have to make (IR_ROTPEND) */
    int exc_depth;          /* nesting of exception delivery, for #DF / triple fault */
    int last_exc;           /* vector being delivered, -1 when none */
    uint64_t icount;        /* instructions retired */
    jmp_buf jmp_env;        /* fault escape, set by cpu_exec */

    /* Environment. */
    const struct Clock *clock; /* the machine's virtual clock (TSC), NULL for a bare CPU */
    MemMap *mem;
    PortMap *io;
    Logger *log;
    CPUHooks hooks;
    uint32_t mem_generation; /* MemMap generation the TLB was filled under */
    TLBEntry tlb[TLB_SIZE];

    /* Opaque per-CPU data of translate/ (decoded-instruction cache, JIT). */
    void *tcache;

    /* Exception in flight (core/cpu_excp.c, core/cpu_exec.c). */
    int exc_vector;         /* set by cpu_raise_exception */
    bool exc_has_err;
    uint32_t exc_err;
    int exc_class;          /* EXC_CLASS_* of the event being delivered, -1 when none */
    bool nmi_blocked;       /* an NMI handler runs: further NMIs wait for IRET */
    bool insn_event;        /* the current instruction delivered an interrupt (no TF trap) */
    bool a20_enabled;
    uint32_t cpuid_signature; /* family/model/stepping, also EDX after reset */
    uint64_t msr_misc_enable;
    uint32_t pending_db;    /* DR6 bits of data breakpoints hit by this instruction */
    bool tlb_has_large;     /* some TLB entry maps part of a 4 MiB page */

    /* Debugger (gdbstub) control, see cpu_exec: stop before an instruction whose linear
     * address is one of dbg_bp[0..dbg_nbp), or after each instruction with dbg_step. */
    uint32_t dbg_bp[CPU_MAX_DEBUG_BP];
    int dbg_nbp;
    bool dbg_step;

    /* The TLB for CPL 3 accesses; `tlb` above serves CPL 0-2, so a privilege change needs
     * no flush and a hit is one tag compare in either. */
    TLBEntry tlb_user[TLB_SIZE];
    /* The non-global TLB entries filled since the last flush (index | TLB_LOG_USER for
     * tlb_user), so a flush of the non-global entries (every MOV CR3) clears those instead of
     * scanning both tables. tlb_log_ok false: the log may miss a valid non-global entry (it
     * overflowed; also the zeroed start) and the next flush scans. */
#define TLB_LOG_SIZE 1024
#define TLB_LOG_USER 0x8000u
    uint16_t tlb_log[TLB_LOG_SIZE];
    uint16_t tlb_log_n;
    bool tlb_log_ok;

    /* Physical 4 KiB frames translate/ caches code from (cpu_code_page_mark): writes to them
     * take the slow path and call x86_tcache_invalidate_phys(). One bit per frame. */
    uint8_t code_pages[1u << 17];

    /* The JIT (translate/jit.c) when -accel jit: NULL runs the interpreter alone. */
    void *jit;
    /* store_hook: when set, called by the store slow path before it writes n bytes at phys
     * (host: the host pointer, NULL for MMIO), and with host NULL and n 0 by the load slow
     * path before an MMIO load. The JIT's lockstep mode journals stores with it; it marks
     * every frame as code so that all stores take the slow path. */
    void (*store_hook)(struct CPUState *cpu, void *host, uint32_t phys, unsigned n);
    /* tlb_hook: when set, called by tlb_fill before it overwrites the entry e, and with e NULL
     * before tlb_flush / tlb_flush_page drop entries (lockstep restores the TLBs with it). */
    void (*tlb_hook)(struct CPUState *cpu, TLBEntry *e);
} CPUState;

/* Exception classes for the double-fault rules (SDM Vol. 3, 6.15, table 6-5). */
enum { EXC_CLASS_BENIGN = 0, EXC_CLASS_CONTRIB = 1, EXC_CLASS_PF = 2, EXC_CLASS_DF = 3 };

/* The processor signature reported by CPUID.1:EAX and in EDX after reset: family 6, model 5,
 * stepping 2 (Pentium II, Deschutes). */
#define CPU_SIGNATURE_P2 0x0652u

/* --- life cycle (core/cpu.c) --- */

/* cpu_init: zero the state, connect the buses, then cpu_reset(). */
void cpu_init(CPUState *cpu, MemMap *mem, PortMap *io, Logger *log);

/* cpu_reset: the power-on/RESET state of a Pentium II (CS:EIP = F000:FFF0, base FFFF0000). */
void cpu_reset(CPUState *cpu);

/* cpu_exec: run up to budget instructions. See CPUExit. With debugger breakpoints set
 * (dbg_bp/dbg_nbp) it returns CPU_EXIT_DEBUG with EIP at a breakpoint before executing it;
 * the next call executes that instruction (a debugger resumes from where it stopped). With
 * dbg_step it returns CPU_EXIT_DEBUG after each instruction. */
CPUExit cpu_exec(CPUState *cpu, int64_t budget);

/* cpu_set_irq: the INTR line level (from the PIC). */
void cpu_set_irq(CPUState *cpu, int level);

/* cpu_exit_request: make cpu_exec return at the next instruction boundary. */
void cpu_exit_request(CPUState *cpu);

/* cpu_set_nmi: raise the NMI (edge); delivered at the next instruction boundary. */
void cpu_set_nmi(CPUState *cpu);

/* cpu_set_a20: the A20 gate (port 92h, 8042 output port). Flushes the TLB on a change. */
void cpu_set_a20(CPUState *cpu, bool enabled);

/* The TSC rate when the CPU runs on a machine clock: a 450 MHz Pentium II. */
#define CPU_TSC_KHZ 450000u

/* cpu_get_tsc / cpu_set_tsc: the time-stamp counter: virtual time at CPU_TSC_KHZ when
 * cpu->clock is set, else the instruction count; plus the offset WRMSR and reset set. */
uint64_t cpu_get_tsc(const CPUState *cpu);
void cpu_set_tsc(CPUState *cpu, uint64_t value);

/* cpu_vmstate: the architectural state for snapshots (post_load flushes the TLB). */
extern const VMStateDesc cpu_vmstate;

/* cpu_format_state: the CPU's registers as text (several lines, like a debugger's register
 * dump) into buf (always terminated). Returns the length written. For `info registers` and
 * -d cpu. */
size_t cpu_format_state(CPUState *cpu, char *buf, size_t len);

/* --- flags (core/cpu_flags.c) --- */

/* cpu_get_eflags: the full EFLAGS value with lazy flags folded in. */
uint32_t cpu_get_eflags(CPUState *cpu);

/* cpu_set_eflags: write the bits in mask (privilege rules are the caller's job). */
void cpu_set_eflags(CPUState *cpu, uint32_t val, uint32_t mask);

/* cpu_cc_compute: the six arithmetic flags (EF_ARITH bits) from the lazy state. */
uint32_t cpu_cc_compute(const CPUState *cpu);

/* cpu_cc_cf: just CF (fast path for ADC/SBB/Jcc). */
bool cpu_cc_cf(const CPUState *cpu);

/* cpu_cond: evaluate condition code cc (0..15, the Jcc/SETcc/CMOVcc encoding). */
bool cpu_cond(const CPUState *cpu, int cc);

/* --- exceptions (core/cpu_excp.c) --- */

/* cpu_raise_exception: abort the current instruction and deliver vector (with error code if
 * has_err). Does not return. */
_Noreturn void cpu_raise_exception(CPUState *cpu, int vector, bool has_err, uint32_t err);
#define cpu_raise_gp(cpu, err) cpu_raise_exception((cpu), EXC_GP, true, (err))
#define cpu_raise_ud(cpu) cpu_raise_exception((cpu), EXC_UD, false, 0)

/* cpu_do_interrupt: deliver an interrupt or exception now (real mode IVT, protected mode IDT
 * with gates, V86 rules). is_soft: INT n / INT3 / INTO (privilege-checked, EIP after insn);
 * next_eip: return address pushed for soft ints and traps. May itself raise. */
void cpu_do_interrupt(CPUState *cpu, int vector, bool is_soft, bool has_err, uint32_t err,
                      uint32_t next_eip);

/* --- memory (core/cpu_mem.c, core/mmu.c) --- */

enum { ACC_READ = 0, ACC_WRITE = 1, ACC_EXEC = 2 };

/* cpu_linear: segment:offset -> linear address with the limit and rights checks for an access
 * of size bytes (raises #GP/#SS). */
uint32_t cpu_linear(CPUState *cpu, int seg, uint32_t off, unsigned size, int access);

/* Linear-address accesses (paging, A20, TLB; may raise #PF). */
uint32_t cpu_ld_lin(CPUState *cpu, uint32_t lin, unsigned size);
void cpu_st_lin(CPUState *cpu, uint32_t lin, uint32_t val, unsigned size);

/* Segmented accesses: the common case for instructions. */
uint8_t cpu_ld8(CPUState *cpu, int seg, uint32_t off);
uint16_t cpu_ld16(CPUState *cpu, int seg, uint32_t off);
uint32_t cpu_ld32(CPUState *cpu, int seg, uint32_t off);
void cpu_st8(CPUState *cpu, int seg, uint32_t off, uint8_t val);
void cpu_st16(CPUState *cpu, int seg, uint32_t off, uint16_t val);
void cpu_st32(CPUState *cpu, int seg, uint32_t off, uint32_t val);
/* cpu_ld_bytes / cpu_st_bytes: len bytes (at most 4096) at seg:off as one access, as the
 * byte-by-byte loads or stores would do it but with one segment check and one TLB lookup per
 * page: every page is checked before any byte moves (a fault leaves memory as it was),
 * translated code in the bytes stored is dropped, data breakpoints are noted. For the
 * multi-field images of FXSAVE/FXRSTOR. */
void cpu_ld_bytes(CPUState *cpu, int seg, uint32_t off, void *buf, unsigned len);
void cpu_st_bytes(CPUState *cpu, int seg, uint32_t off, const void *buf, unsigned len);

/* cpu_fetch_code: copy up to len instruction bytes at CS:eip into buf, stopping early (and
 * returning the count) only at a page or limit boundary that would fault; a fault on the very
 * first byte is raised. */
unsigned cpu_fetch_code(CPUState *cpu, uint32_t eip, uint8_t *buf, unsigned len);

/* mmu_translate: linear -> physical for access by a CPL-`user` access; raises #PF when
 * raise_fault, else returns false on a fault. */
bool mmu_translate(CPUState *cpu, uint32_t lin, int access, bool user, uint32_t *phys,
                   bool raise_fault);

/* cpu_debug_rw: read or write len bytes at a linear address for a debugger or the monitor,
 * outside cpu_exec: no faults are raised, no accessed/dirty bits are set, privilege is
 * ignored. Returns 0, or -1 when part of the range is not mapped (bytes before it are done). */
int cpu_debug_rw(CPUState *cpu, uint32_t lin, void *buf, size_t len, bool write);

/* tlb_flush / tlb_flush_page: CR3 writes, INVLPG, mode changes. */
void tlb_flush(CPUState *cpu, bool include_global);
void tlb_flush_page(CPUState *cpu, uint32_t lin);

/* System accesses by linear address (descriptor tables, TSS, IDT): supervisor rights whatever
 * the CPL; may raise #PF. */
uint32_t cpu_ld_sys(CPUState *cpu, uint32_t lin, unsigned size);
void cpu_st_sys(CPUState *cpu, uint32_t lin, uint32_t val, unsigned size);

/* cpu_code_page_mark: translate/ now caches code from the physical frame holding paddr; writes
 * to it then call x86_tcache_invalidate_phys(). cpu_code_page_unmark: it no longer does. */
void cpu_code_page_mark(CPUState *cpu, uint32_t paddr);
void cpu_code_page_unmark(CPUState *cpu, uint32_t paddr);

/* cpu_code_ptr: a host pointer to the instruction bytes at CS:eip for the fast path of
 * translate/'s fetch, with *avail set to the bytes readable up to the page end or the CS limit;
 * NULL when the slow path (cpu_fetch_code) is needed. *phys gets the physical address. */
const uint8_t *cpu_code_ptr(CPUState *cpu, uint32_t eip, unsigned *avail, uint32_t *phys);

/* --- segments and tasks (core/cpu_seg.c) --- */

/* cpu_load_seg: MOV/POP/LDS... to a segment register with every protected-mode check
 * (real and V86 mode: base = sel << 4). Raises #GP/#SS/#NP. */
void cpu_load_seg(CPUState *cpu, int seg, uint16_t sel);

/* cpu_set_seg_real: load the cache the real-mode way without checks (reset, loaders, tests). */
void cpu_set_seg_real(CPUState *cpu, int seg, uint16_t sel);

/* cpu_update_mode: recompute cpl and cached mode bits after CR0/EFLAGS.VM/CS changes. */
void cpu_update_mode(CPUState *cpu);

/* cpu_desc_read: the 8-byte descriptor for sel from the GDT or LDT as two dwords; false when
 * it lies beyond the table limit (or the LDT is null). May raise #PF. */
bool cpu_desc_read(CPUState *cpu, uint16_t sel, uint32_t *lo, uint32_t *hi);

/* cpu_desc_set_accessed: write the accessed bit back into the descriptor (hi = its high
 * dword as read). */
void cpu_desc_set_accessed(CPUState *cpu, uint16_t sel, uint32_t hi);

/* cpu_seg_load_desc / cpu_seg_load_null: fill a segment cache from a descriptor, or mark it
 * null (unusable: P clear), without checks. */
void cpu_seg_load_desc(CPUState *cpu, int seg, uint16_t sel, uint32_t lo, uint32_t hi);
void cpu_seg_load_null(CPUState *cpu, int seg, uint16_t sel);

/* --- far control transfers (core/cpu_xfer.c): every real, V86 and protected-mode rule, with
 * call gates, task gates and TSS task switches. The instruction handlers call these. --- */

/* cpu_far_jump: JMP sel:off (opsize 2 or 4 truncates off). */
void cpu_far_jump(CPUState *cpu, uint16_t sel, uint32_t off, unsigned opsize);

/* cpu_far_call: CALL sel:off; next_eip is the return offset pushed. */
void cpu_far_call(CPUState *cpu, uint16_t sel, uint32_t off, unsigned opsize,
                  uint32_t next_eip);

/* cpu_far_ret: RET far [imm16] (imm = bytes released after CS:EIP). */
void cpu_far_ret(CPUState *cpu, unsigned opsize, uint16_t imm);

/* cpu_flags_write_mask: the EFLAGS bits IRET (and, less RF, POPF) may change at the current
 * privilege outside V86: arithmetic, TF, DF, NT (+RF, AC, ID at 32 bits), IF if CPL <= IOPL,
 * IOPL (+VIF, VIP) at CPL 0. */
uint32_t cpu_flags_write_mask(const CPUState *cpu, unsigned opsize);

/* cpu_iret: IRET/IRETD (nested task return, outer privilege, return to V86). */
void cpu_iret(CPUState *cpu, unsigned opsize);

/* Mode queries. */
static inline bool cpu_pe(const CPUState *cpu) { return (cpu->cr0 & CR0_PE) != 0; }
static inline bool cpu_v86(const CPUState *cpu) { return (cpu->eflags & EF_VM) != 0; }
static inline bool cpu_code32(const CPUState *cpu) { return (cpu->seg[S_CS].flags & SEGF_DB) != 0; }
static inline bool cpu_stack32(const CPUState *cpu) { return (cpu->seg[S_SS].flags & SEGF_DB) != 0; }

/* --- ports (core/cpu_io.c) --- */

/* cpu_in / cpu_out: IN/OUT with the IOPL and TSS I/O-bitmap checks (raise #GP). */
uint32_t cpu_in(CPUState *cpu, uint16_t port, unsigned size);
void cpu_out(CPUState *cpu, uint16_t port, uint32_t val, unsigned size);

/* cpu_io_allowed: the I/O privilege check alone (for INS/OUTS before they touch memory). */
bool cpu_io_allowed(CPUState *cpu, uint16_t port, unsigned size);

/* --- the instruction set (translate/interp.c) --- */

/* x86_interp_step: execute one instruction at CS:EIP. Faults longjmp out. */
void x86_interp_step(CPUState *cpu);

/* x86_jit_run: run translated blocks until icount reaches end or something needs the
 * execution loop's boundary checks (the JIT's counterpart of the interpreter's fast loop;
 * only called with cpu->jit set). Faults longjmp out as usual. */
void x86_jit_run(CPUState *cpu, uint64_t end);

/* x86_jit_flush: drop every translated block (no-op without a JIT); snapshot loads. */
void x86_jit_flush(CPUState *cpu);

/* x86_tcache_free: release translate/'s per-CPU data. */
void x86_tcache_free(CPUState *cpu);

/* x86_tcache_invalidate_phys: code at [paddr, paddr+len) was written. */
void x86_tcache_invalidate_phys(CPUState *cpu, uint32_t paddr, uint32_t len);

#endif
