/* cpu_exec.c: the execution loop: interrupts at instruction boundaries, HLT, single-step and
 * debug-register traps, and the landing site for faults (cpu_raise_exception longjmps here). */
#include "core/cpu_internal.h"

/* deliver_event: an interrupt or trap between instructions: the "faulting instruction" for
 * the purposes of a nested fault is the next one, so EIP/ESP are committed first. */
static void deliver_event(CPUState *cpu, int vector, uint32_t vec_class)
{
    cpu->insn_eip = cpu->eip;
    cpu->insn_esp = cpu->regs[R_ESP];
    cpu->exc_class = (int)vec_class;
    cpu->last_exc = vector;
    cpu_do_interrupt(cpu, vector, false, false, 0, cpu->eip);
    cpu->exc_class = -1;
}

/* Breakpoint i of DR7: enabled (L or G), its R/W type (0 exec, 1 write, 3 read/write) and
 * length in bytes (SDM Vol. 3, 17.2.4-17.2.5). */
static inline bool bp_enabled(uint32_t dr7, int i)
{
    return ((dr7 >> (2 * i)) & 3) != 0;
}

static inline unsigned bp_type(uint32_t dr7, int i)
{
    return (dr7 >> (16 + 4 * i)) & 3;
}

static inline uint32_t bp_len(uint32_t dr7, int i)
{
    static const uint32_t len[4] = {1, 2, 8, 4};
    return len[(dr7 >> (18 + 4 * i)) & 3];
}

/* check_code_breakpoint: DR0-DR3 enabled as instruction breakpoints (R/W = 00) at the linear
 * address of the next instruction raise #DB as a fault, unless RF is set
 * (SDM Vol. 3, 17.3.1.1). */
static void check_code_breakpoint(CPUState *cpu)
{
    uint32_t dr7 = cpu->dr[7];
    uint32_t lin = cpu->seg[S_CS].base + cpu->eip;
    uint32_t hit = 0;
    for (int i = 0; i < 4; i++) {
        if (bp_enabled(dr7, i) && bp_type(dr7, i) == 0 && cpu->dr[i] == lin) {
            hit |= 1u << i;
        }
    }
    if (hit) {
        cpu->dr[6] = (cpu->dr[6] & ~0xFu) | hit;
        cpu_raise_exception(cpu, EXC_DB, false, 0);
    }
}

void dbg_watch_flags(const CPUState *cpu, uint32_t page, uint32_t *rd, uint32_t *wr)
{
    uint32_t dr7 = cpu->dr[7];
    *rd = *wr = 0;
    for (int i = 0; i < 4; i++) {
        unsigned t = bp_type(dr7, i);
        if (!bp_enabled(dr7, i) || (t != 1 && t != 3)) {
            continue;
        }
        uint32_t len = bp_len(dr7, i);
        uint32_t start = cpu->dr[i] & ~(len - 1);
        if ((start & PAGE_MASK_4K) != page && ((start + len - 1) & PAGE_MASK_4K) != page) {
            continue;
        }
        *wr = TLB_FLAG_WATCH;
        if (t == 3) {
            *rd = TLB_FLAG_WATCH;
        }
    }
}

void dbg_check_data(CPUState *cpu, uint32_t lin, unsigned size, bool write)
{
    uint32_t dr7 = cpu->dr[7];
    for (int i = 0; i < 4; i++) {
        unsigned t = bp_type(dr7, i);
        if (!bp_enabled(dr7, i) || (t != 1 && t != 3) || (!write && t != 3)) {
            continue;
        }
        uint32_t len = bp_len(dr7, i);
        uint32_t start = cpu->dr[i] & ~(len - 1);
        if (lin <= start + (len - 1) && start <= lin + (size - 1)) {
            cpu->pending_db |= 1u << i;
        }
    }
}

/* run_fast: execute instructions back to back while nothing needs the boundary checks of
 * the main loop: no pending event, exit request or halt, no TF/RF, no debug registers armed,
 * no memory-map change, no per-instruction logging. Faults longjmp out as usual. */
static void run_fast(CPUState *cpu, uint64_t end)
{
    const MemMap *mem = cpu->mem;
    const unsigned gen = cpu->mem_generation;
    do {
        cpu->insn_eip = cpu->eip;
        cpu->insn_esp = cpu->regs[R_ESP];
        x86_interp_step(cpu);
        cpu->icount++;
    } while (cpu->icount < end &&
             !(cpu->exit_request | cpu->shutdown | cpu->halted | cpu->nmi_pending |
               cpu->inhibit_irq | (cpu->intr_pending && (cpu->eflags & EF_IF))) &&
             !cpu->pending_db &&
             !(cpu->eflags & (EF_TF | EF_RF)) && !(cpu->dr[7] & 0xFF) &&
             mem->generation == gen);
}

/* at_debug_breakpoint: the next instruction is on a debugger breakpoint. */
static bool at_debug_breakpoint(const CPUState *cpu)
{
    uint32_t lin = cpu->seg[S_CS].base + cpu->eip;
    int n = cpu->dbg_nbp < CPU_MAX_DEBUG_BP ? cpu->dbg_nbp : CPU_MAX_DEBUG_BP;
    for (int i = 0; i < n; i++) {
        if (cpu->dbg_bp[i] == lin) {
            return true;
        }
    }
    return false;
}

CPUExit cpu_exec(CPUState *cpu, int64_t budget)
{
    const uint64_t start = cpu->icount;
    cpu->exc_class = -1;
    /* A debugger resuming at a breakpoint executes that instruction first. */
    const uint32_t entry_lin = cpu->seg[S_CS].base + cpu->eip;

    if (setjmp(cpu->jmp_env)) {
        /* A fault (or a fault while delivering one). Count it so that a guest stuck in a
         * fault loop still returns within its budget. */
        cpu->icount++;
        cpu->pending_db = 0;     /* a faulting instruction completes no data access */
        cpu_deliver_exception(cpu);
        if (cpu->shutdown) {
            return CPU_EXIT_SHUTDOWN;
        }
    }

    for (;;) {
        if (cpu->shutdown) {
            return CPU_EXIT_SHUTDOWN;
        }
        if (cpu->pending_db) {
            /* A trap left by the last instruction or event (the TSS T bit of a task switch). */
            uint32_t db = cpu->pending_db;
            cpu->pending_db = 0;
            cpu->dr[6] = (cpu->dr[6] & ~0xFu) | db;
            deliver_event(cpu, EXC_DB, EXC_CLASS_BENIGN);
            continue;
        }
        if (cpu->exit_request) {
            cpu->exit_request = false;
            return CPU_EXIT_REQUEST;
        }
        if ((int64_t)(cpu->icount - start) >= budget) {
            return CPU_EXIT_BUDGET;
        }
        if (cpu->mem_generation != cpu->mem->generation) {
            tlb_flush(cpu, true);
            cpu->mem_generation = cpu->mem->generation;
        }

        /* Interrupts are taken between instructions, except right after STI, MOV SS or
         * POP SS (SDM Vol. 3, 6.8.3). */
        bool shadow = cpu->inhibit_irq;
        cpu->inhibit_irq = false;
        if (!shadow) {
            if (cpu->nmi_pending && !cpu->nmi_blocked) {
                cpu->nmi_pending = false;
                cpu->nmi_blocked = true;
                cpu->halted = false;
                deliver_event(cpu, EXC_NMI, EXC_CLASS_BENIGN);
                cpu->icount++;
                continue;
            }
            if (cpu->intr_pending && (cpu->eflags & EF_IF) && cpu->hooks.intr_ack) {
                int vec = cpu->hooks.intr_ack(cpu->hooks.opaque);
                if (vec >= 0) {
                    cpu->halted = false;
                    if (log_enabled(cpu->log, LOG_INT)) {
                        log_msg(cpu->log, LOG_INT, "cpu: INTR vector %#x at %04x:%08x\n", vec,
                                cpu->seg[S_CS].sel, cpu->eip);
                    }
                    deliver_event(cpu, vec & 0xFF, EXC_CLASS_BENIGN);
                    cpu->icount++;
                    continue;
                }
            }
        }
        if (cpu->halted) {
            return CPU_EXIT_HALT;
        }

        if (cpu->dbg_nbp > 0 || cpu->dbg_step) {
            if (cpu->icount != start && cpu->dbg_step) {
                return CPU_EXIT_DEBUG;
            }
            bool resuming = cpu->icount == start && cpu->seg[S_CS].base + cpu->eip == entry_lin;
            if (!resuming && cpu->dbg_nbp > 0 && at_debug_breakpoint(cpu)) {
                return CPU_EXIT_DEBUG;
            }
        } else if (!(cpu->eflags & (EF_TF | EF_RF)) && !(cpu->dr[7] & 0xFF) &&
                   !log_enabled(cpu->log, LOG_EXEC | LOG_CPU)) {
            if (cpu->jit) {
                /* -accel jit: translated blocks instead of the interpreter's fast loop. */
                x86_jit_run(cpu, start + (uint64_t)budget);
            } else {
                run_fast(cpu, start + (uint64_t)budget);
            }
            continue;
        }

        uint32_t eflags_before = cpu->eflags;
        if ((cpu->dr[7] & 0xFF) && !(eflags_before & EF_RF)) {
            cpu->insn_eip = cpu->eip;
            cpu->insn_esp = cpu->regs[R_ESP];
            check_code_breakpoint(cpu);
        }
        cpu->insn_eip = cpu->eip;
        cpu->insn_esp = cpu->regs[R_ESP];
        cpu->insn_event = false;
        cpu->pending_db = 0;
        if (log_enabled(cpu->log, LOG_EXEC)) {
            log_msg(cpu->log, LOG_EXEC, "exec: %04x:%08x\n", cpu->seg[S_CS].sel, cpu->eip);
        }
        if (log_enabled(cpu->log, LOG_CPU)) {
            char state[1024];
            cpu_format_state(cpu, state, sizeof(state));
            log_msg(cpu->log, LOG_CPU, "%s", state);
        }
        x86_interp_step(cpu);
        cpu->icount++;

        /* RF covers one instruction; an IRET that loads it keeps it for the next. */
        if ((eflags_before & EF_RF) && (cpu->eflags & EF_RF)) {
            cpu->eflags &= ~EF_RF;
        }

        /* Traps after the instruction: data breakpoints and single-step (#DB with DR6.BS).
         * An instruction that delivered an interrupt (INT n, INTO, INT3) clears TF on entry
         * to the handler and takes no single-step trap. */
        uint32_t db = cpu->pending_db;
        if ((eflags_before & EF_TF) && !cpu->insn_event) {
            db |= 1u << 14;
        }
        if (db) {
            cpu->pending_db = 0;
            cpu->dr[6] = (cpu->dr[6] & ~0xFu) | db;
            deliver_event(cpu, EXC_DB, EXC_CLASS_BENIGN);
        }
    }
}
