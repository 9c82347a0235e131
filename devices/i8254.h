/* i8254.h: the Intel 8254 programmable interval timer (ports 0x40-0x43) and the PC's system
 * control port B (0x61: speaker gate/data, refresh toggle, OUT2). */
#ifndef ANYVM_DEVICES_I8254_H
#define ANYVM_DEVICES_I8254_H

#include <stdint.h>

#include "core/irq.h"
#include "core/machine.h"

#define I8254_HZ 1193182 /* input clock of all three counters */

typedef struct I8254 I8254;

/* i8254_new: create the PIT with counter 0's OUT wired to irq0 (may be NULL), map ports
 * 0x40-0x43 and 0x61, register vmstate "pit" and a reset handler. Counters 0 and 1 have their
 * gates tied high; counter 2's gate is port 0x61 bit 0. Returns NULL on failure; the caller
 * owns the result (i8254_free, after the machine). */
I8254 *i8254_new(Machine *m, IRQLine *irq0);

/* i8254_free: release the PIT. NULL is fine. */
void i8254_free(I8254 *pit);

/* i8254_set_gate: drive counter ch's GATE input (0 or 1). */
void i8254_set_gate(I8254 *pit, int ch, int level);

/* i8254_get_out: counter ch's OUT pin now (0 or 1). */
int i8254_get_out(I8254 *pit, int ch);

/* i8254_speaker: whether the speaker is driven: port 0x61 bits 0 and 1 both set (the sound is
 * then OUT2's square wave; frequency = I8254_HZ / *divisor). divisor may be NULL. */
int i8254_speaker(I8254 *pit, uint32_t *divisor);

#endif
