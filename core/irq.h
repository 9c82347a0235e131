/* irq.h: IRQLine, a wire from a device to an interrupt controller (or anything else). */
#ifndef ANYVM_CORE_IRQ_H
#define ANYVM_CORE_IRQ_H

#include <stdbool.h>

typedef void (*IRQHandler)(void *opaque, int n, int level);

/* IRQLine: the receiver's handler and its input number n. The last level is kept so a
 * device can re-assert idempotently and so snapshots can carry it. */
typedef struct IRQLine {
    IRQHandler handler;
    void *opaque;
    int n;
    int level;
} IRQLine;

/* irq_init: connect a line to handler(opaque, n, level). handler may be NULL (unconnected). */
void irq_init(IRQLine *line, IRQHandler handler, void *opaque, int n);

/* irq_set: drive the line to level (0 or 1); the handler is called on every call (receivers
 * decide edge/level semantics). */
void irq_set(IRQLine *line, int level);

static inline void irq_raise(IRQLine *line) { irq_set(line, 1); }
static inline void irq_lower(IRQLine *line) { irq_set(line, 0); }

/* irq_pulse: raise then lower (edge-triggered sources). */
void irq_pulse(IRQLine *line);

#endif
