/* serial.h: NS16550A-compatible UART (COM1..COM4) on the ISA port space. */
#ifndef ANYVM_DEVICES_SERIAL_H
#define ANYVM_DEVICES_SERIAL_H

#include <stdint.h>

#include "core/chardev.h"
#include "core/irq.h"
#include "core/machine.h"

#define SERIAL_COM1_BASE 0x3F8
#define SERIAL_COM1_IRQ 4
#define SERIAL_COM2_BASE 0x2F8
#define SERIAL_COM2_IRQ 3

/* The UART's input clock on PC serial ports: 1.8432 MHz, so divisor 1 is 115200 baud. */
#define SERIAL_XTAL_HZ 1843200

typedef struct SerialState SerialState;

/* serial_new: a 16550A at ports [base, base+8) raising irq (may be NULL), talking to chr (may
 * be NULL: output is dropped, no input). Registers its ports, a reset handler and vmstate
 * "serial@BASE" on m, and becomes chr's frontend. Returns NULL on failure. The UART is owned
 * by the caller: free it with serial_free() after machine_free(). */
SerialState *serial_new(Machine *m, uint16_t base, IRQLine *irq, CharBackend *chr);

/* serial_free: release the UART's memory (NULL is fine). */
void serial_free(SerialState *s);

#endif
