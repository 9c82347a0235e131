/* cpu_excp.c: raising exceptions and delivering interrupts and exceptions (real mode IVT;
 * protected mode IDT gates, privilege changes and V86 exits), with the double-fault rules. */
#include "core/cpu_internal.h"

#include <string.h>

_Noreturn void cpu_raise_exception(CPUState *cpu, int vector, bool has_err, uint32_t err)
{
    cpu->exc_vector = vector;
    cpu->exc_has_err = has_err;
    cpu->exc_err = err;
    longjmp(cpu->jmp_env, 1);
}

/* exc_class: contributory, page fault or benign (SDM Vol. 3, 6.15, table 6-4). */
static int exc_class(int vector)
{
    switch (vector) {
    case EXC_DE:
    case EXC_TS:
    case EXC_NP:
    case EXC_SS:
    case EXC_GP:
        return EXC_CLASS_CONTRIB;
    case EXC_PF:
        return EXC_CLASS_PF;
    case EXC_DF:
        return EXC_CLASS_DF;
    default:
        return EXC_CLASS_BENIGN;
    }
}

/* Faults push the address of the faulting instruction; #DB for data breakpoints and
 * single-step are traps handled by the execution loop, which passes next_eip itself. */
void cpu_deliver_exception(CPUState *cpu)
{
    int vec = cpu->exc_vector;
    bool has_err = cpu->exc_has_err;
    uint32_t err = cpu->exc_err;
    int cls = exc_class(vec);
    int prev = cpu->exc_class;

    /* A second exception while delivering the first (table 6-5). */
    if (prev >= 0) {
        if (prev == EXC_CLASS_DF && (cls == EXC_CLASS_CONTRIB || cls == EXC_CLASS_PF)) {
            log_msg(cpu->log, LOG_INT, "cpu: triple fault (vector %d during #DF) at %04x:%08x\n",
                    vec, cpu->seg[S_CS].sel, cpu->insn_eip);
            cpu->shutdown = true;
            cpu->exc_class = -1;
            if (cpu->hooks.triple_fault) {
                cpu->hooks.triple_fault(cpu->hooks.opaque);
            }
            return;
        }
        if ((prev == EXC_CLASS_CONTRIB && cls == EXC_CLASS_CONTRIB) ||
            (prev == EXC_CLASS_PF && (cls == EXC_CLASS_CONTRIB || cls == EXC_CLASS_PF))) {
            vec = EXC_DF;
            has_err = true;
            err = 0;
            cls = EXC_CLASS_DF;
        }
    }
    if (log_enabled(cpu->log, LOG_INT)) {
        log_msg(cpu->log, LOG_INT, "cpu: exception %d err=%x at %04x:%08x cr2=%08x\n", vec,
                has_err ? err : 0, cpu->seg[S_CS].sel, cpu->insn_eip, cpu->cr2);
    }
    cpu->last_exc = vec;
    cpu->exc_class = cls;
    cpu->eip = cpu->insn_eip;
    cpu->regs[R_ESP] = cpu->insn_esp;
    /* Faults set RF in the pushed EFLAGS so the restarted instruction does not re-trigger an
     * instruction breakpoint (SDM Vol. 3, 17.3.1.1). */
    if (vec != EXC_DB && vec != EXC_BP && vec != EXC_OF) {
        cpu->eflags |= EF_RF;
    }
    cpu_do_interrupt(cpu, vec, false, has_err, err, cpu->insn_eip);
    cpu->exc_class = -1;
}

/* --- real mode --- */

static void do_interrupt_real(CPUState *cpu, int vector, uint32_t next_eip)
{
    uint32_t ent = (uint32_t)vector * 4;
    if (ent + 3 > cpu->idtr.limit) {
        /* Beyond the IVT limit: #GP (SDM Vol. 3, 20.1.4). */
        cpu_raise_exception(cpu, EXC_GP, true, (uint32_t)vector * 8 + 2);
    }
    uint32_t vecent = cpu_ld_sys(cpu, cpu->idtr.base + ent, 4);
    uint32_t flags = cpu_get_eflags(cpu);
    uint32_t sp = cpu->regs[R_ESP];
    uint32_t mask = cpu_stack32(cpu) ? 0xFFFFFFFFu : 0xFFFFu;
    cpu_st16(cpu, S_SS, (sp - 2) & mask, (uint16_t)flags);
    cpu_st16(cpu, S_SS, (sp - 4) & mask, cpu->seg[S_CS].sel);
    cpu_st16(cpu, S_SS, (sp - 6) & mask, (uint16_t)next_eip);
    cpu->regs[R_ESP] = (sp & ~mask) | ((sp - 6) & mask);
    cpu_set_eflags(cpu, 0, EF_IF | EF_TF | EF_AC | EF_RF);
    cpu_load_seg_cs_real(cpu, (uint16_t)(vecent >> 16));
    cpu->eip = vecent & 0xFFFF;
}

void cpu_do_interrupt(CPUState *cpu, int vector, bool is_soft, bool has_err, uint32_t err,
                      uint32_t next_eip)
{
    cpu->halted = false;
    cpu->insn_event = true;
    if (!cpu_pe(cpu)) {
        do_interrupt_real(cpu, vector, next_eip);
        return;
    }
    cpu_do_interrupt_prot(cpu, vector, is_soft, has_err, err, next_eip);
}
