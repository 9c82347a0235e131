/* chipset_harness.h: a CPU-less deterministic Machine for chipset device tests (port I/O,
 * virtual time stepping, IRQ line recorders). Included by tests/devices/test_*.c. */
#ifndef ANYVM_TESTS_CHIPSET_HARNESS_H
#define ANYVM_TESTS_CHIPSET_HARNESS_H

#include <criterion/criterion.h>
#include <string.h>

#include "core/clock.h"
#include "core/ioport.h"
#include "core/irq.h"
#include "core/machine.h"

/* A machine in icount mode with shift 0: one "instruction" is one virtual ns, so the tests set
 * virtual time exactly by advancing the instruction count. */
static inline Machine *th_machine(void)
{
    MachineConfig cfg;
    machine_config_defaults(&cfg);
    cfg.ram_size = 1 << 20;
    cfg.icount_shift = 0;
    strcpy(cfg.display, "none");
    char err[256] = "";
    Machine *m = machine_new(&cfg, err, sizeof(err));
    cr_assert_not_null(m, "machine_new: %s", err);
    clock_start(&m->clock);
    return m;
}

static inline uint8_t th_inb(Machine *m, uint16_t port)
{
    return (uint8_t)port_read(&m->io, port, 1);
}

static inline void th_outb(Machine *m, uint16_t port, uint8_t val)
{
    port_write(&m->io, port, val, 1);
}

/* Advance virtual time to target_ns, firing every timer at its own deadline on the way.
 * Returns how many timer callbacks ran. */
static inline int th_run_until(Machine *m, int64_t target_ns)
{
    int fired = 0;
    for (int guard = 0; guard < 10000000; guard++) {
        fired += clock_run_timers(&m->clock);
        int64_t next = clock_next_deadline(&m->clock);
        int64_t now = clock_now(&m->clock);
        if (next > target_ns) {
            if (now < target_ns) {
                clock_advance_icount(&m->clock, (uint64_t)(target_ns - now));
            }
            fired += clock_run_timers(&m->clock);
            if (clock_next_deadline(&m->clock) > target_ns) {
                return fired;
            }
            continue;
        }
        if (next > now) {
            clock_advance_icount(&m->clock, (uint64_t)(next - now));
        }
    }
    cr_assert_fail("th_run_until: timers never settle");
    return fired;
}

static inline int th_advance(Machine *m, int64_t ns)
{
    return th_run_until(m, clock_now(&m->clock) + ns);
}

/* IRQRecorder: the receiving end of an IRQLine that keeps the level and counts rising edges. */
typedef struct IRQRecorder {
    IRQLine line;
    int level;
    int rises;
    int64_t last_rise_ns;
    Clock *clock;
} IRQRecorder;

static inline void th_irq_handler(void *opaque, int n, int level)
{
    IRQRecorder *r = opaque;
    if (level && !r->level) {
        r->rises++;
        r->last_rise_ns = r->clock ? clock_now(r->clock) : 0;
    }
    r->level = level;
}

static inline void th_irq_init(IRQRecorder *r, Machine *m)
{
    memset(r, 0, sizeof(*r));
    r->clock = &m->clock;
    irq_init(&r->line, th_irq_handler, r, 0);
}

#endif
