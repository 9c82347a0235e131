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

/* check_code_breakpoint: DR0-DR3 enabled as instruction breakpoints (R/W = 00) at the linear
 * address of the next instruction raise #DB as a fault, unless RF is set (SDM Vol. 3, 17.3.1.1). */
static void check_code_breakpoint(CPUState *cpu)
{
    uint32_t dr7 = cpu->dr[7];
    uint32_t lin = cpu->seg[S_CS].base + cpu->eip;
    uint32_t hit = 0;
    for (int i = 0; i < 4; i++) {
        if (!((dr7 >> (2 * i)) & 3)) {
            continue;
        }
        if (((dr7 >> (16 + 4 * i)) & 3) == 0 && cpu->dr[i] == lin) {
            hit |= 1u << i;
        }
    }
    if (hit) {
        cpu->dr[6] = (cpu->dr[6] & ~0xFu) | hit;
        cpu_raise_exception(cpu, EXC_DB, false, 0);
    }
}

CPUExit cpu_exec(CPUState *cpu, int64_t budget)
{
    const uint64_t start = cpu->icount;
    cpu->exc_class = -1;

    if (setjmp(cpu->jmp_env)) {
        /* A fault (or a fault while delivering one). Count it so that a guest stuck in a
         * fault loop still returns within its budget. */
        cpu->icount++;
        cpu_deliver_exception(cpu);
        if (cpu->shutdown) {
            return CPU_EXIT_SHUTDOWN;
        }
    }

    for (;;) {
        if (cpu->shutdown) {
            return CPU_EXIT_SHUTDOWN;
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
                cpu->halted = false;
                if (vec >= 0) {
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
            cpu->dr[6] = (cpu->dr[6] & ~0xFu) | db;
            deliver_event(cpu, EXC_DB, EXC_CLASS_BENIGN);
        }
    }
}
