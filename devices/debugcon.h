/* debugcon.h: the Bochs/QEMU debug console port (0xE9 by default): bytes written go to a
 * character backend. */
#ifndef ANYVM_DEVICES_DEBUGCON_H
#define ANYVM_DEVICES_DEBUGCON_H

#include <stdint.h>

#include "core/chardev.h"
#include "core/machine.h"

typedef struct DebugCon DebugCon;

/* debugcon_new: map the console at port (usually 0xE9). Output goes to cb, or to stderr when cb
 * is NULL. Reads return 0xE9, the value guests probe for. Returns NULL on failure; the caller
 * owns the result (debugcon_free, after the machine) but not cb. */
DebugCon *debugcon_new(Machine *m, uint16_t port, CharBackend *cb);

/* debugcon_free: release the console. NULL is fine. */
void debugcon_free(DebugCon *d);

#endif
