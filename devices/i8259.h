/* i8259.h: the PC's cascaded Intel 8259A interrupt controller pair with the PIIX ELCR. */
#ifndef ANYVM_DEVICES_I8259_H
#define ANYVM_DEVICES_I8259_H

#include <stdint.h>

#include "core/irq.h"
#include "core/machine.h"

typedef struct I8259 I8259;

/* I8259IntrFn: the master's INT pin changed; level is 0 or 1 (wire it to cpu_set_irq). */
typedef void (*I8259IntrFn)(void *opaque, int level);

/* i8259_new: create the master (0x20/0x21) and slave (0xA0/0xA1) pair plus the ELCR
 * (0x4D0/0x4D1), map them on m's port map and register vmstate "pic" and a reset handler.
 * intr(opaque, level) is called whenever the INT output to the CPU changes. Returns NULL on
 * failure (ports taken, registry full). The caller owns the result (i8259_free) and must free it
 * after the machine. */
I8259 *i8259_new(Machine *m, I8259IntrFn intr, void *opaque);

/* i8259_free: release the controller. NULL is fine. */
void i8259_free(I8259 *pic);

/* i8259_irq: the input line for ISA IRQ n (0..15); NULL for other n. IRQ2 is the cascade input
 * of the master and is normally driven by the slave. */
IRQLine *i8259_irq(I8259 *pic, int n);

/* i8259_intr_ack: the CPU's interrupt acknowledge cycle (CPUHooks.intr_ack; opaque is the
 * I8259). Returns the vector; a request that went away gives the spurious vector base+7. */
int i8259_intr_ack(void *opaque);

/* i8259_intr_level: the current INT output level to the CPU. */
int i8259_intr_level(const I8259 *pic);

#endif
