/* i8042.h: the Intel 8042 keyboard controller (ports 0x60/0x64) with a PS/2 keyboard and a
 * PS/2 mouse attached, the A20 gate and the reset line of its output port. */
#ifndef ANYVM_DEVICES_I8042_H
#define ANYVM_DEVICES_I8042_H

#include <stdint.h>

#include "core/irq.h"
#include "core/machine.h"
#include "devices/ps2.h"

typedef struct I8042 I8042;

/* I8042Hooks: what the output port drives on the board. Any member may be NULL: a NULL reset
 * asks the machine for a guest reset (machine_request_reset); a NULL set_a20 ignores A20. */
typedef struct I8042Hooks {
    void (*reset)(void *opaque);           /* output port bit 0 pulsed or written low */
    void (*set_a20)(void *opaque, int on); /* output port bit 1 changed */
    void *opaque;
} I8042Hooks;

/* i8042_new: create the controller with its keyboard and mouse, IRQ1 on irq1 and IRQ12 on irq12
 * (either may be NULL), map ports 0x60 and 0x64, register vmstate "i8042" and a reset handler.
 * hooks is copied; NULL means no hooks. Returns NULL on failure; the caller owns the result
 * (i8042_free, after the machine). */
I8042 *i8042_new(Machine *m, IRQLine *irq1, IRQLine *irq12, const I8042Hooks *hooks);

/* i8042_free: release the controller and its devices. NULL is fine. */
void i8042_free(I8042 *kbc);

/* i8042_kbd / i8042_mouse: the attached devices, for host input (ps2_kbd_key, ps2_mouse_move). */
PS2Kbd *i8042_kbd(I8042 *kbc);
PS2Mouse *i8042_mouse(I8042 *kbc);

/* i8042_a20: output port bit 1 (the A20 gate as this controller drives it). */
int i8042_a20(const I8042 *kbc);

#endif
