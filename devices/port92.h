/* port92.h: system control port A (0x92): fast A20 gate (bit 1) and fast reset (bit 0). */
#ifndef ANYVM_DEVICES_PORT92_H
#define ANYVM_DEVICES_PORT92_H

#include "core/machine.h"

typedef struct Port92 Port92;

/* Port92Hooks: what the port drives. A NULL reset asks the machine for a guest reset
 * (machine_request_reset); a NULL set_a20 ignores A20. */
typedef struct Port92Hooks {
    void (*reset)(void *opaque);           /* bit 0 written from 0 to 1 */
    void (*set_a20)(void *opaque, int on); /* bit 1 changed */
    void *opaque;
} Port92Hooks;

/* port92_new: map port 0x92, register vmstate "port92" and a reset handler. hooks is copied
 * (NULL = none). Returns NULL on failure; the caller owns the result (port92_free, after the
 * machine). */
Port92 *port92_new(Machine *m, const Port92Hooks *hooks);

/* port92_free: release the port. NULL is fine. */
void port92_free(Port92 *p);

/* port92_a20: bit 1, the A20 gate as this port drives it. */
int port92_a20(const Port92 *p);

#endif
