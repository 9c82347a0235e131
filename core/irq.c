/* irq.c: IRQLine plumbing. */
#include "core/irq.h"

#include <stddef.h>

void irq_init(IRQLine *line, IRQHandler handler, void *opaque, int n)
{
    line->handler = handler;
    line->opaque = opaque;
    line->n = n;
    line->level = 0;
}

void irq_set(IRQLine *line, int level)
{
    if (!line) {
        return;
    }
    line->level = level ? 1 : 0;
    if (line->handler) {
        line->handler(line->opaque, line->n, line->level);
    }
}

void irq_pulse(IRQLine *line)
{
    irq_set(line, 1);
    irq_set(line, 0);
}
