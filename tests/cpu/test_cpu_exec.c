/* test_cpu_exec.c: the execution loop's contract: budgets, HLT, exit requests, INTR
 * acknowledge, shutdown on a triple fault, and the debugger stops (CPU_EXIT_DEBUG). */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "core/cpu.h"

#define RAM (1u << 20)

static uint8_t *ram;
static MemMap *mem;
static PortMap *io;
static Logger lg;
static CPUState *cpu;
static int acks;
static int triples;

static int ack(void *opaque)
{
    acks++;
    cpu_set_irq(cpu, 0);
    return 0x40;
}

static void triple(void *opaque)
{
    triples++;
}

static void setup(void)
{
    ram = calloc(1, RAM);
    mem = calloc(1, sizeof(*mem));
    io = calloc(1, sizeof(*io));
    cpu = calloc(1, sizeof(*cpu));
    acks = triples = 0;
    log_init(&lg);
    memmap_init(mem, &lg);
    portmap_init(io, &lg);
    cr_assert_geq(mem_map_ram(mem, "ram", 0, RAM, ram, 0), 0);
    cpu_init(cpu, mem, io, &lg);
    cpu->hooks.intr_ack = ack;
    cpu->hooks.triple_fault = triple;
    for (int s = 0; s < S_NSEG; s++) {
        cpu_set_seg_real(cpu, s, 0);
    }
    cpu->eip = 0x1000;
    cpu->regs[R_ESP] = 0x8000;
    memset(ram + 0x1000, 0x90, 0x100);           /* NOPs */
    /* IVT 40h -> 0000:2000, an IRET there. */
    ram[0x40 * 4] = 0x00;
    ram[0x40 * 4 + 1] = 0x20;
    ram[0x2000] = 0xCF;
}

static void teardown(void)
{
    x86_tcache_free(cpu);
    free(cpu);
    free(io);
    free(mem);
    free(ram);
}

TestSuite(exec, .init = setup, .fini = teardown);

Test(exec, budget_counts_instructions)
{
    cr_assert_eq(cpu_exec(cpu, 10), CPU_EXIT_BUDGET);
    cr_assert_eq(cpu->icount, 10);
    cr_assert_eq(cpu->eip, 0x100A);
}

Test(exec, hlt_returns_halt_and_an_interrupt_wakes_it)
{
    ram[0x1003] = 0xF4;
    cpu->eflags |= EF_IF;
    cr_assert_eq(cpu_exec(cpu, 100), CPU_EXIT_HALT);
    cr_assert_eq(cpu->eip, 0x1004);
    cr_assert_eq(cpu_exec(cpu, 100), CPU_EXIT_HALT, "still halted without an interrupt");
    cpu_set_irq(cpu, 1);
    cr_assert_eq(cpu_exec(cpu, 3), CPU_EXIT_BUDGET);
    cr_assert_eq(acks, 1);
    cr_assert_eq(cpu->eip, 0x1005, "interrupt, IRET, one NOP");
}

Test(exec, interrupts_wait_for_if)
{
    cpu_set_irq(cpu, 1);
    cr_assert_eq(cpu_exec(cpu, 5), CPU_EXIT_BUDGET);
    cr_assert_eq(acks, 0);
    cpu->eflags |= EF_IF;
    cr_assert_eq(cpu_exec(cpu, 1), CPU_EXIT_BUDGET);
    cr_assert_eq(acks, 1);
    cr_assert_eq(cpu->eip, 0x2000);
}

Test(exec, exit_request_stops_at_the_next_boundary)
{
    cpu_exit_request(cpu);
    cr_assert_eq(cpu_exec(cpu, 100), CPU_EXIT_REQUEST);
    cr_assert_eq(cpu->icount, 0);
    cr_assert_eq(cpu_exec(cpu, 2), CPU_EXIT_BUDGET);
}

Test(exec, triple_fault_shuts_down)
{
    cpu->idtr.limit = 0;
    ram[0x1000] = 0xCC;                          /* INT3 with an empty IVT */
    cr_assert_eq(cpu_exec(cpu, 100), CPU_EXIT_SHUTDOWN);
    cr_assert(cpu->shutdown);
    cr_assert_eq(triples, 1);
    cpu_reset(cpu);
    cr_assert_not(cpu->shutdown);
}

Test(exec, debugger_breakpoints_and_single_step)
{
    cpu->dbg_bp[0] = 0x1005;
    cpu->dbg_nbp = 1;
    cr_assert_eq(cpu_exec(cpu, 100), CPU_EXIT_DEBUG);
    cr_assert_eq(cpu->eip, 0x1005);
    cr_assert_eq(cpu->icount, 5);
    /* Resuming executes the instruction at the breakpoint. */
    cr_assert_eq(cpu_exec(cpu, 3), CPU_EXIT_BUDGET);
    cr_assert_eq(cpu->eip, 0x1008);
    cpu->dbg_nbp = 0;
    cpu->dbg_step = true;
    cr_assert_eq(cpu_exec(cpu, 100), CPU_EXIT_DEBUG);
    cr_assert_eq(cpu->eip, 0x1009);
    cr_assert_eq(cpu_exec(cpu, 100), CPU_EXIT_DEBUG);
    cr_assert_eq(cpu->eip, 0x100A);
}
